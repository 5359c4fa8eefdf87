/* django-order-mail admin: Email texts.
 *
 * Variable chips insert their {{ placeholder }} where the cursor was in the
 * last text field used; "Start from the packaged text" fills a field with
 * the packaged text. Both fire an input event, so the live preview of
 * editor.js follows. The preview is drawn once when the page opens.
 */
(function () {
  "use strict";

  function changed(field) {
    field.dispatchEvent(new Event("input", {bubbles: true}));
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("order-mail-content-form");
    if (form) {
      var fields = form.querySelectorAll("[data-content-field]");
      var last = fields.length ? fields[0] : null;
      fields.forEach(function (field) {
        field.addEventListener("focus", function () { last = field; });
      });
      document.querySelectorAll("[data-chip]").forEach(function (chip) {
        chip.addEventListener("click", function () {
          if (!last || last.disabled) { return; }
          var start = last.selectionStart, end = last.selectionEnd;
          last.setRangeText(chip.dataset.chip, start, end, "end");
          last.focus();
          changed(last);
        });
      });
      document.querySelectorAll("[data-fill]").forEach(function (button) {
        button.addEventListener("click", function () {
          var field = document.getElementById(button.dataset.fill);
          if (!field) { return; }
          field.value = button.dataset.text;
          field.focus();
          last = field;
          changed(field);
        });
      });
      var refresh = document.querySelector("[data-preview-refresh]");
      if (refresh) { refresh.click(); }
    }

    var other = document.querySelector("[data-open-language]");
    if (other) {
      other.addEventListener("submit", function (event) {
        event.preventDefault();
        window.location = other.dataset.openLanguage
          .replace("__event__", encodeURIComponent(other.elements.event.value))
          .replace("__language__", encodeURIComponent(other.elements.language.value));
      });
    }
  });
})();
