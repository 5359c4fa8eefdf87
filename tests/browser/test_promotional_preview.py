"""In a real browser: the template editor's live preview shows the email's
promotional share with the shop's recommendations switched on, and warns as
soon as staff's own promotional markup takes the email above 20 %."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from django_order_mail.events import MailEvent
from django_order_mail.rendering.db_loader import default_fields

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def share(page) -> float:
    return float(page.locator("[data-preview-promotional]").inner_text().split()[0])


def test_the_preview_shows_the_share_and_warns_above_the_limit(staff_page, site, mail_settings):
    mail_settings(RECOMMENDATIONS_PROVIDER="tests.recommendations.test_hook.provider")
    page = staff_page
    page.goto(f"{site}/admin/django_order_mail/emailtemplate/add/?event=order_confirmation")
    frame = page.frame_locator("#order-mail-preview-desktop")
    expect(frame.locator('[data-promotional="recommendations"]')).to_contain_text("Sample product 1")
    expect(page.locator("[data-preview-promotional]")).to_have_text(re.compile(r"^\d+\.\d %$"))
    assert 0 < share(page) <= 20
    expect(page.locator("[data-preview-problems] .order-mail-warning")).to_have_count(0)

    body = default_fields(MailEvent.ORDER_CONFIRMATION)["html_body"]
    sale = "<p>SPRING SALE: 30 % off everything in the shop, only this week, while stocks last!</p>"
    page.fill("#id_html_body", body + f'<div data-promotional="sale">{sale * 10}</div>')
    warning = page.locator("[data-preview-problems] .order-mail-warning", has_text="Promotional content")
    expect(warning).to_be_visible()
    assert share(page) > 20
    assert f"{share(page):.1f} %" in warning.inner_text()
