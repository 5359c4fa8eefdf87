"""Staff may edit the emails the product stars appear in: the packaged text,
saved unchanged as an edited template, renders exactly like the file, the
stars included (the partial is one of the email partials staff text may
include), and passes the editor's checks."""

from __future__ import annotations

import pytest

from django_order_mail.rendering.db_loader import default_fields
from django_order_mail.rendering.render import render_event, render_fields
from django_order_mail.rendering.sample import sample_context
from django_order_mail.rendering.validation import validate_fields

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("event", ["feedback_request", "review_reminder"])
def test_the_default_text_as_an_edited_template_renders_like_the_file(event):
    context = sample_context(event)
    from_file = render_event(event, context, language="en", use_db=False)
    from_db = render_fields(default_fields(event), context, event=event, language="en")
    assert from_db == from_file
    assert from_file.html.count('class="review-star"') == 2 * 5
    assert validate_fields(default_fields(event), event, language="en") == []


LANGUAGES = ["en", "de", "es", "fr", "nb", "ru", "zh-hans", "zh-hant"]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("event", ["feedback_request", "review_reminder"])
def test_the_star_wording_is_honest_in_every_language(event, language):
    """The feedback app's wording check (tests may use both apps; the apps
    do not import each other): no request for a good review, no gating, no
    incentive, in the stars' block or the reminder."""
    from django_order_mail.feedback.compliance import check_text

    rendered = render_event(event, sample_context(event), language=language, use_db=False)
    assert "review-star" in rendered.html
    assert check_text(rendered.subject + rendered.text + rendered.html, [language]) == []
