"""Email texts in a real browser at 1366 px: staff open the German shipping
confirmation from the translation overview, write its headline with a
variable chip, watch the preview, are refused a broken variable with the
reason, save, and the German customer's email has the new headline; the
overview shows what is still missing. A feature app's email (the
abandoned-cart reminder) is reworded the same way, and the next German
reminder carries it. The variable names of both editors never wrap in the
middle of a word."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.models import LogEntry
from playwright.sync_api import expect

from django_order_mail.events import MailEvent
from django_order_mail.rendering.db_loader import default_fields
from django_order_mail.rendering.models import EmailContent, EmailTemplate
from django_order_mail.rendering.render import render_outbox_email
from tests.rendering.test_content import headline, shipped_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHIPPING = MailEvent.SHIPPING_CONFIRMATION
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français")]

#: Every text node of the matched elements on one line: a name may wrap only
#: between its parts (the editor puts <wbr> after each dot), never inside one.
ONE_LINE_PER_PART = """elements => elements.flatMap(element => {
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  const broken = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(node);
    const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
    if (lines.size > 1) broken.push(node.textContent);
  }
  if (element.scrollWidth > element.clientWidth + 1) broken.push(element.textContent + " (cut off)");
  return broken;
})"""


@pytest.fixture
def languages(settings):
    settings.LANGUAGES = LANGUAGES


def test_staff_edit_the_german_headline_and_the_customer_gets_it(staff_page, site, languages, no_broker):
    # The shop already reworded the English subject: German still lacks it.
    EmailContent.objects.create(
        event=SHIPPING, language="en", slot="subject", text="On its way: {{ order_number }}"
    )
    page = staff_page
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{site}/admin/django_order_mail/emailcontent/")
    german = page.locator(f'tr[data-event="{SHIPPING}"] td[data-language="de"]')
    expect(german).to_contain_text("1 missing")
    expect(german).to_contain_text("Subject: uses the packaged text in Deutsch")
    german.locator("a").click()
    expect(page).to_have_url(re.compile(rf"/emailcontent/edit/{SHIPPING}/de/$"))

    # Side by side: the default language's text left of the German field.
    reference = page.locator(".field-subject .order-mail-content-reference").bounding_box()
    field = page.locator("#id_subject").bounding_box()
    assert reference["x"] + reference["width"] <= field["x"] and abs(reference["y"] - field["y"]) < 40
    expect(page.locator(".field-subject .order-mail-content-reference")).to_contain_text(
        "On its way: {{ order_number }}"
    )
    expect(page.locator(".field-subject")).to_contain_text("Missing translation:")

    # The headline with a variable chip; the preview follows.
    page.fill("#id_headline", "Ihr Paket ist unterwegs, ")
    page.click('[data-chip="{{ customer_name }}"]')
    page.keyboard.type("!")
    expect(page.locator("#id_headline")).to_have_value("Ihr Paket ist unterwegs, {{ customer_name }}!")
    frame = page.frame_locator("#order-mail-preview-desktop")
    expect(frame.locator("h1")).to_have_text("Ihr Paket ist unterwegs, Tina Hansen!")
    expect(page.locator("#order-mail-subject-desktop")).to_have_text("Ihre Bestellung 1001 ist unterwegs")

    # A broken variable is refused with the field and the reason.
    page.fill("#id_intro", "Danke, {{ order.customer.password }}")
    expect(page.locator("[data-preview-problems]")).to_contain_text("is not a variable of this email")
    page.click("input[name=_save]")
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator(".field-intro .errorlist")).to_contain_text(
        "“{{ order.customer.password }}” is not a variable of this email"
    )
    assert not EmailContent.objects.filter(language="de").exists()

    page.fill("#id_intro", "")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("Saved: Headline.")
    row = EmailContent.objects.get(language="de")
    assert (row.slot, row.text, row.updated_by) == (
        "headline",
        "Ihr Paket ist unterwegs, {{ customer_name }}!",
        "anna",
    )
    assert LogEntry.objects.get().object_repr == f"{SHIPPING} · de · headline"

    # The email a German customer receives, through the worker's render.
    order, outbox_row = shipped_order("de", "Erika Muster")
    email = render_outbox_email(outbox_row, order)
    assert headline(email.html) == "Ihr Paket ist unterwegs, Erika Muster!"
    assert email.subject == f"Ihre Bestellung {order.number} ist unterwegs"  # German, not the English edit

    # The overview: German has its headline and still misses the subject.
    page.goto(f"{site}/admin/django_order_mail/emailcontent/")
    german = page.locator(f'tr[data-event="{SHIPPING}"] td[data-language="de"]')
    expect(german).to_contain_text("1 edited")
    expect(german).to_contain_text("1 missing")
    expect(page.locator(f'tr[data-event="{SHIPPING}"] td[data-language="fr"]')).to_contain_text(
        "Subject: uses the packaged text in Français"
    )


def test_start_from_the_packaged_text_and_a_code_template_is_named(staff_page, site, languages):
    template = EmailTemplate(event=SHIPPING, language="de", **default_fields(SHIPPING))
    template.save_with_version(by="dev")
    page = staff_page
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{site}/admin/django_order_mail/emailcontent/edit/{SHIPPING}/de/")
    expect(page.locator("#order-mail-precedence")).to_contain_text("A template edited as code is in use")
    page.locator(".field-button [data-fill]").click()
    expect(page.locator("#id_button")).to_have_value("Paket verfolgen")
    page.fill("#id_button", "Sendung verfolgen")
    expect(page.frame_locator("#order-mail-preview-desktop").locator("a.button")).to_have_text(
        "Sendung verfolgen"
    )


def test_variable_names_never_wrap_mid_word_at_1366_pixels(staff_page, site, languages):
    page = staff_page
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{site}/admin/django_order_mail/emailcontent/edit/{SHIPPING}/de/")
    chips = page.locator(".order-mail-chip code")
    assert chips.count() > 20
    assert chips.evaluate_all(ONE_LINE_PER_PART) == []
    assert "estimated_delivery_from" in chips.all_text_contents()

    page.goto(f"{site}/admin/django_order_mail/emailtemplate/add/?event={SHIPPING}")
    names = page.locator(".order-mail-var code")
    assert names.count() > 20
    assert names.evaluate_all(ONE_LINE_PER_PART) == []
    assert "shipment.estimated_delivery_from" in names.all_text_contents()


def test_staff_reword_the_german_abandoned_cart_reminder_and_the_next_reminder_has_it(
    staff_page, site, languages, broker, esp
):
    """A feature app's email in the same editor: its note, its own variable
    (``first_item``), its headline in German; the reminder a German cart
    gets next carries it, an English cart's keeps the packaged headline."""
    from django.utils import timezone

    from django_order_mail.delivery.sender import deliver
    from tests.cart_helpers import hours, make_cart, reminders, scan_at

    page = staff_page
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{site}/admin/django_order_mail/emailcontent/")
    cell = page.locator('tr[data-event="abandoned_cart"] td[data-language="de"]')
    expect(cell).to_contain_text("packaged text")
    cell.locator("a").click()
    expect(page).to_have_url(re.compile(r"/emailcontent/edit/abandoned_cart/de/$"))
    expect(page.locator("#order-mail-event-note")).to_contain_text("reminder sequence wins")
    expect(page.locator(".field-headline")).to_contain_text("Sie haben etwas in Ihrem Warenkorb vergessen")
    expect(page.locator(".field-headline")).to_contain_text("The packaged text has variants")

    page.click("#id_headline")
    page.click('[data-chip="{{ customer_name }}"]')
    page.keyboard.type(", Ihr Warenkorb wartet noch: ")
    page.click('[data-chip="{{ first_item }}"]')
    expect(page.locator("#id_headline")).to_have_value(
        "{{ customer_name }}, Ihr Warenkorb wartet noch: {{ first_item }}"
    )
    preview = page.frame_locator("#order-mail-preview-desktop")
    expect(preview.locator("h1")).to_contain_text("Tina Hansen, Ihr Warenkorb wartet noch: ")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("Saved: Headline.")
    row = EmailContent.objects.get()
    assert (row.event, row.language, row.slot) == ("abandoned_cart", "de", "headline")

    now = timezone.now()
    german = make_cart(idle_since=now - hours(13), language="de", customer_name="Erika")
    english = make_cart(idle_since=now - hours(13), language="en", customer_name="Jane")
    scan_at(now)
    for cart in (german, english):
        deliver(reminders(cart)[0].pk)
    [sent] = reminders(german)
    assert headline(sent.body_html) == "Erika, Ihr Warenkorb wartet noch: Fjord knit sweater"
    assert "Diese 3 Artikel liegen noch in Ihrem Warenkorb" in sent.body_text  # the rest stays packaged
    assert headline(reminders(english)[0].body_html) == "You left something in your cart"

    page.goto(f"{site}/admin/django_order_mail/emailcontent/")
    expect(page.locator('tr[data-event="abandoned_cart"] td[data-language="de"]')).to_contain_text("1 edited")
