/* django-order-mail admin: live preview of email templates and branding.
 *
 * A panel marked data-order-mail-preview posts its form (without files) to
 * data-preview-url whenever the form changes, and shows the answer: the
 * subject, the HTML in sandboxed iframes (srcdoc: the email cannot run
 * scripts or reach the admin), the plain text and any problems.
 */
(function () {
  "use strict";

  function init(panel) {
    var form = panel.closest("form");
    if (!form) { return; }
    var url = panel.dataset.previewUrl;
    var timer = null;
    var sequence = 0;
    var status = panel.querySelector("[data-preview-status]");
    var lastField = null;

    function formData() {
      var data = new FormData(form);
      var files = [];
      data.forEach(function (value, key) { if (value instanceof File) { files.push(key); } });
      files.forEach(function (key) { data.delete(key); });
      return data;
    }

    function setText(selector, text) {
      panel.querySelectorAll(selector).forEach(function (el) { el.textContent = text || ""; });
    }

    function showProblems(problems) {
      var list = panel.querySelector("[data-preview-problems]");
      list.textContent = "";
      (problems || []).forEach(function (problem) {
        var item = document.createElement("li");
        item.className = "order-mail-" + problem.level;
        item.textContent = problem.text;
        list.appendChild(item);
      });
    }

    function show(answer) {
      // Above PROMOTIONAL_SHARE_MAX the answer carries a warning (rendering/promotional.py).
      var warning = answer.promotional_warning ? [{level: "warning", text: answer.promotional_warning}] : [];
      showProblems((answer.problems || []).concat(warning));
      panel.dataset.state = answer.ok ? "ok" : "error";
      if (!answer.ok) { return; }
      setText("[data-preview-subject]", answer.subject);
      setText("[data-preview-from]", answer.from);
      setText("[data-preview-to]", answer.to);
      setText("[data-preview-label]", answer.label);
      setText("[data-preview-size]", String(answer.size_kb));
      setText("[data-preview-promotional]", answer.promotional_share);
      setText("[data-preview-text]", answer.text);
      panel.querySelectorAll("iframe[data-preview-frame]").forEach(function (frame) {
        frame.srcdoc = answer.html || "";
      });
    }

    function post(target) {
      return fetch(target, {
        method: "POST",
        body: formData(),
        credentials: "same-origin",
        headers: {"X-Requested-With": "XMLHttpRequest"}
      }).then(function (response) {
        if (!response.ok) { throw new Error(response.status + " " + response.statusText); }
        return response.json();
      });
    }

    function refresh() {
      var mine = ++sequence;
      panel.dataset.loading = "1";
      post(url).then(function (answer) {
        if (mine === sequence) { show(answer); }
      }).catch(function (error) {
        if (mine === sequence) { showProblems([{level: "error", text: String(error)}]); }
      }).finally(function () {
        if (mine === sequence) { delete panel.dataset.loading; }
      });
    }

    function later() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 350);
    }

    form.addEventListener("input", later);
    form.addEventListener("change", later);
    form.addEventListener("focusin", function (event) {
      if (event.target.tagName === "TEXTAREA") { lastField = event.target; }
    });

    var refreshButton = panel.querySelector("[data-preview-refresh]");
    if (refreshButton) { refreshButton.addEventListener("click", refresh); }

    var testButton = panel.querySelector("[data-send-test]");
    if (testButton) {
      testButton.addEventListener("click", function () {
        testButton.disabled = true;
        post(panel.dataset.sendTestUrl).then(function (answer) {
          status.textContent = answer.message || "";
          if (answer.url) {
            var link = document.createElement("a");
            link.href = answer.url;
            link.textContent = " #" + answer.id;
            status.appendChild(link);
          }
        }).catch(function (error) {
          status.textContent = String(error);
        }).finally(function () { testButton.disabled = false; });
      });
    }

    document.querySelectorAll("[data-variable]").forEach(function (button) {
      button.addEventListener("click", function () {
        var field = lastField || form.querySelector("textarea[name=html_body]");
        if (!field) { return; }
        var text = "{{ " + button.dataset.variable + " }}";
        var start = field.selectionStart, end = field.selectionEnd;
        field.setRangeText(text, start, end, "end");
        field.focus();
        later();
      });
    });

    /* New template: the fields hold the chosen email's default text. Choosing
     * another email or channel loads its default text, as long as nobody has
     * typed into the fields yet; the button does it on demand. */
    var defaults = document.querySelector("[data-load-defaults]");
    if (defaults) {
      var typed = false;
      form.querySelectorAll("textarea").forEach(function (field) {
        field.addEventListener("input", function () { typed = true; });
      });
      var loadDefaults = function () {
        var params = new URLSearchParams({
          event: form.elements.event.value,
          channel: form.elements.channel ? form.elements.channel.value : ""
        });
        fetch(defaults.dataset.defaultsUrl + "?" + params, {credentials: "same-origin"})
          .then(function (response) { return response.json(); })
          .then(function (fields) {
            Object.keys(fields).forEach(function (name) {
              if (form.elements[name]) { form.elements[name].value = fields[name]; }
            });
            typed = false;
            refresh();
          });
      };
      defaults.addEventListener("click", loadDefaults);
      ["event", "channel"].forEach(function (name) {
        var select = form.elements[name];
        if (select) {
          select.addEventListener("change", function () { if (!typed) { loadDefaults(); } });
        }
      });
    }
  }

  /* Order page buttons live inside the order's change form but must not be
   * its default button (Enter in a field would run a transition), so they
   * are plain buttons that post a small form of their own. */
  function postButton(button) {
    var page = button.closest("form");
    var form = document.createElement("form");
    form.method = "post";
    form.action = button.dataset.orderMailPost;
    form.hidden = true;
    function add(name, value) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.appendChild(input);
    }
    add("csrfmiddlewaretoken", page.elements.csrfmiddlewaretoken.value);
    if (button.name) { add(button.name, button.value); }
    var notify = button.dataset.notify && document.getElementById(button.dataset.notify);
    if (notify && notify.checked) { add(notify.name, notify.value); }
    /* The reason fields under the button (a preset and a free-text note). */
    (button.dataset.fields || "").split(" ").forEach(function (id) {
      var field = id && document.getElementById(id);
      if (field) { add(field.name, field.value); }
    });
    document.body.appendChild(form);
    form.submit();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-order-mail-preview]").forEach(init);
    document.querySelectorAll("[data-order-mail-post]").forEach(function (button) {
      button.addEventListener("click", function () {
        button.disabled = true;
        postButton(button);
      });
    });
  });
})();
