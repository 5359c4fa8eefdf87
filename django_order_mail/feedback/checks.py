"""System checks of the survey settings and of review-request templates.

Ids ``E101``-``E106``, ``W101``-``W104`` and ``I101`` (the feedback feature's range);
docs/feedback.rst lists them.
"""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Info, Tags, Warning, register
from django.template.loader import select_template
from django.utils import translation
from django.utils.translation import to_language

from ..conf import user_settings
from ..events import channel_rules
from ..rendering.branding import BRANDING_DEFAULTS
from ..rendering.render import TEMPLATE_DIR, template_names
from .app_settings import app_settings
from .compliance import check_text
from .context import DEFAULT_BASE, MARKETPLACE_BASE
from .events import FEEDBACK_REQUEST, LOW_SCORE_ALERT, feedback_delay_days
from .models import SCALE_RANGE
from .survey import FEEDBACK_MODES, QUESTION_TYPES, REVIEW, channel_feedback, channel_names

_ID = "django_order_mail.{}"


def _error(msg, n, hint=None):
    return Error(msg, hint=hint, id=_ID.format(f"E{n}"))


def _warning(msg, n, hint=None):
    return Warning(msg, hint=hint, id=_ID.format(f"W{n}"))


@register(Tags.compatibility)
def check_feedback_settings(app_configs=None, **kwargs):
    raw = user_settings()
    if not isinstance(raw, dict):
        return []  # E001 already
    errors = []
    if raw.get("FEEDBACK_SCALE", "csat") not in SCALE_RANGE:
        errors.append(_error("ORDER_MAIL['FEEDBACK_SCALE'] must be 'csat' or 'nps'.", 103))
    errors += _check_questions(raw.get("FEEDBACK_QUESTIONS"))
    errors += _check_numbers(raw)
    if _channels_well_formed():
        errors += _check_channels()
    if (
        LOW_SCORE_ALERT not in (raw.get("DISABLED_EVENTS") or [])
        and not app_settings.FEEDBACK_ALERT_EMAIL
        and not (app_settings.BRANDING or {}).get("support_email")
    ):
        errors.append(
            _warning(
                "Neither ORDER_MAIL['FEEDBACK_ALERT_EMAIL'] nor BRANDING['support_email'] is set: "
                "low-score alerts are skipped unless recipients are set in the admin (Staff notifications) "
                "or the admin's Branding record has a support address.",
                102,
                "Set one of them or the recipients in the admin, "
                "or add 'low_score_alert' to DISABLED_EVENTS.",
            )
        )
    return errors


def _check_questions(questions) -> list:
    if questions is None:
        return []
    bad = _error(
        "ORDER_MAIL['FEEDBACK_QUESTIONS'] must be a list of "
        "{'id', 'label', 'type': 'yes_no'|'choice'|'text', 'choices'} dicts with unique ids.",
        104,
    )
    if not isinstance(questions, (list, tuple)):
        return [bad]
    ids = []
    for q in questions:
        if not isinstance(q, dict) or not q.get("id") or q.get("type", "text") not in QUESTION_TYPES:
            return [bad]
        if q.get("type") == "choice" and not q.get("choices"):
            return [bad]
        ids.append(q["id"])
    return [bad] if len(ids) != len(set(ids)) else []


def _non_negative_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_numbers(raw) -> list:
    errors = []
    low = raw.get("FEEDBACK_LOW_SCORE", {})
    if not isinstance(low, dict) or any(
        k not in SCALE_RANGE or not _non_negative_int(v) for k, v in low.items()
    ):
        errors.append(_error("ORDER_MAIL['FEEDBACK_LOW_SCORE'] must map 'csat'/'nps' to an integer.", 105))
    limit = raw.get("FEEDBACK_RATE_LIMIT", {})
    if not isinstance(limit, dict) or any(
        k not in ("token", "ip", "window") or not (v is None or _non_negative_int(v))
        for k, v in limit.items()
    ):
        errors.append(
            _error("ORDER_MAIL['FEEDBACK_RATE_LIMIT'] takes 'token', 'ip' and 'window' integers.", 105)
        )
    if not _non_negative_int(raw.get("FEEDBACK_DELAY_DAYS", 0)):
        errors.append(_error("ORDER_MAIL['FEEDBACK_DELAY_DAYS'] must be a non-negative integer.", 105))
    if not _non_negative_int(raw.get("FEEDBACK_ALERT_DELAY", 0)):
        errors.append(_error("ORDER_MAIL['FEEDBACK_ALERT_DELAY'] must be a non-negative integer.", 105))
    return errors


def _project_channels() -> set[str]:
    """Channels the project names itself (the packaged Amazon entries of a shop
    that does not sell on Amazon should not nag)."""
    return {*(app_settings.CHANNELS or {}), app_settings.DEFAULT_CHANNEL}


def _channels_well_formed() -> bool:
    """Malformed CHANNELS are E005's business; the feedback checks skip them."""
    channels = app_settings.CHANNELS
    return isinstance(channels, dict) and all(v is None or isinstance(v, dict) for v in channels.values())


def _check_channels() -> list:
    errors = []
    mine = _project_channels()
    for name in channel_names():
        raw = (app_settings.CHANNELS or {}).get(name) or {}
        if isinstance(raw, dict) and raw.get("feedback") not in (None, *FEEDBACK_MODES):
            errors.append(_error(f"CHANNELS[{name!r}]['feedback'] must be 'survey' or 'review'.", 106))
        options = channel_feedback(name)
        if not channel_rules(name).allows(FEEDBACK_REQUEST):
            continue
        days = feedback_delay_days(name, default=app_settings.FEEDBACK_DELAY_DAYS)
        if (
            options.window_days
            and isinstance(days, int)
            and not (options.window_days[0] <= days <= options.window_days[1])
        ):
            low, high = options.window_days
            msg = (
                f"Channel {name!r} sends the review request {days} days after delivery; "
                f"the marketplace allows {low}-{high}."
            )
            hint = "Set CHANNELS[...]['feedback_delay_days'] or FEEDBACK_DELAY_DAYS within the window."
            if name in mine:
                errors.append(_error(msg, 102, hint))
            else:
                errors.append(_warning(msg, 104, hint + " Ignore this if you do not sell there."))
        if (
            name in mine
            and options.mode == REVIEW
            and not options.review_url
            and not _order_models_have_review_hook()
        ):
            errors.append(
                Info(
                    f"Channel {name!r} sends review requests without review links "
                    "(the email names the marketplace instead).",
                    id=_ID.format("I101"),
                    hint="Set CHANNELS[...]['review_url'] (e.g. the marketplace's review page with {sku}) "
                    "or define get_mail_review_url(item) on your order model.",
                )
            )
    return errors


def _order_models_have_review_hook() -> bool:
    from ..lifecycle.mixins import OrderMailContextMixin

    models = [m for m in apps.get_models() if issubclass(m, OrderMailContextMixin)]
    return any(hasattr(m, "get_mail_review_url") for m in models)


# -- review-request templates -----------------------------------------------------------------------------


def _languages() -> list[str]:
    """Languages to render in: ORDER_MAIL LANGUAGES if set, else LANGUAGE_CODE
    plus every language the app ships a catalog for."""
    configured = app_settings.LANGUAGES
    if configured:
        return list(configured)
    locale = Path(__file__).resolve().parent.parent / "locale"
    shipped = [to_language(p.parent.parent.name) for p in locale.glob("*/LC_MESSAGES/django.mo")]
    return list(dict.fromkeys([settings.LANGUAGE_CODE, *shipped]))


def _sample_context(channel: str) -> dict:
    options = channel_feedback(channel)
    review = options.mode == REVIEW
    link = {"name": "Sample product", "url": "https://review.example/sample"}
    return {
        "event": FEEDBACK_REQUEST,
        "order_number": "100001",
        "customer_name": "Alex",
        "channel": channel,
        "items": [{"name": "Sample product", "quantity": 1}],
        "shop": {**BRANDING_DEFAULTS, "name": "Shop", **(app_settings.BRANDING or {})},
        "extra": {},
        "feedback_scale": app_settings.FEEDBACK_SCALE,
        "feedback_url": "" if review else "https://shop.example/feedback/",
        "feedback_ratings": [] if review else [{"score": 3, "url": "https://shop.example/feedback/?score=3"}],
        "review_request": review,
        "marketplace": options.marketplace,
        "marketplace_name": options.marketplace_name,
        "review_links": [link],
        "feedback_base": MARKETPLACE_BASE if options.marketplace else DEFAULT_BASE,
    }


def _findings(template, channel) -> dict:
    found = {(f.kind, f.phrase): f for f in check_text(getattr(template.template, "source", ""))}
    for language in _languages():
        try:
            with translation.override(language):
                text = template.render(_sample_context(channel))
        except Exception:  # noqa: BLE001 - broken templates are E008's business
            continue
        found.update({(f.kind, f.phrase): f for f in check_text(text, [language])})
    return found


@register(Tags.templates)
def check_review_request_templates(app_configs=None, **kwargs):
    """E101/W101: review-request wording of every channel's feedback template."""
    if FEEDBACK_REQUEST in (app_settings.DISABLED_EVENTS or []) or not _channels_well_formed():
        return []
    messages = []
    for channel in channel_names():
        if not channel_rules(channel).allows(FEEDBACK_REQUEST):
            continue
        names = [f"{TEMPLATE_DIR}{n}.email" for n in template_names(FEEDBACK_REQUEST, channel)]
        try:
            template = select_template(names)
        except Exception:  # noqa: BLE001 - missing templates are E008's business
            continue
        marketplace = channel_feedback(channel).marketplace
        for finding in _findings(template, channel).values():
            msg = f"Review request for channel {channel!r} ({template.origin.name}) {finding.message}."
            if marketplace:
                messages.append(_error(msg, 101, "Marketplaces suspend sellers for this wording."))
            else:
                messages.append(_warning(msg, 101, "Honest-review wording is good practice everywhere."))
    return messages
