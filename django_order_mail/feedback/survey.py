"""The survey's configuration: scales, low scores, questions, channel modes,
review links. Everything reads ``ORDER_MAIL`` through ``app_settings``."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from ..events import DEFAULT_CHANNELS
from .app_settings import app_settings
from .models import SCALE_RANGE, Scale

DEFAULT_LOW_SCORE: dict[str, int] = {Scale.CSAT: 2, Scale.NPS: 6}

#: Feedback modes of a channel: a rating survey on the shop's own pages, or
#: a review request that links only to review pages.
SURVEY, REVIEW = "survey", "review"
FEEDBACK_MODES = (SURVEY, REVIEW)

#: Question types the survey form knows.
QUESTION_TYPES = ("yes_no", "choice", "text")

#: The packaged optional questions (``FEEDBACK_QUESTIONS = None``).
DEFAULT_QUESTIONS = [
    {"id": "arrived_on_time", "label": _("Did your order arrive on time?"), "type": "yes_no"},
    {"id": "as_described", "label": _("Was everything as described?"), "type": "yes_no"},
]


def configured_scale() -> str:
    scale = app_settings.FEEDBACK_SCALE
    return scale if scale in SCALE_RANGE else Scale.CSAT


def score_range(scale: str) -> range:
    low, high = SCALE_RANGE.get(scale, SCALE_RANGE[Scale.CSAT])
    return range(low, high + 1)


def parse_score(value, scale: str) -> int | None:
    """``value`` as a score of ``scale``, or None if it is not one.

    Only ASCII digits count: ``int("²")`` would raise, ``int("٣")`` would not.
    """
    text = str(value or "").strip()
    if not text or not text.isascii() or not text.isdigit() or len(text) > 2:
        return None
    score = int(text)
    return score if score in score_range(scale) else None


def low_score_threshold(scale: str) -> int:
    merged = {**DEFAULT_LOW_SCORE, **(app_settings.FEEDBACK_LOW_SCORE or {})}
    return int(merged.get(scale, DEFAULT_LOW_SCORE.get(scale, 2)))


def is_low(score: int, scale: str) -> bool:
    return score <= low_score_threshold(scale)


def questions() -> list[dict]:
    """The optional questions, normalised: id, label, type, choices."""
    raw = app_settings.FEEDBACK_QUESTIONS
    found = []
    for question in DEFAULT_QUESTIONS if raw is None else raw:
        qtype = question.get("type", "text")
        if qtype not in QUESTION_TYPES or not question.get("id"):
            continue  # reported by the system check E104
        choices = [(str(v), label) for v, label in question.get("choices", [])]
        if qtype == "yes_no":
            choices = [("yes", _("Yes")), ("no", _("No"))]
        found.append(
            {
                "id": str(question["id"]),
                "label": question.get("label") or question["id"],
                "type": qtype,
                "choices": choices,
            }
        )
    return found


def question_labels() -> dict[str, tuple[str, dict]]:
    """id -> (label, {choice value: choice label}), for showing answers."""
    return {q["id"]: (q["label"], dict(q["choices"])) for q in questions()}


# -- channels ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelFeedback:
    """What the feedback request is on one sales channel."""

    name: str
    marketplace: bool
    mode: str
    marketplace_name: str
    review_url: str
    window_days: tuple[int, int] | None


def channel_names() -> list[str]:
    return sorted({*DEFAULT_CHANNELS, *(app_settings.CHANNELS or {})})


def channel_feedback(channel: str | None) -> ChannelFeedback:
    """The feedback options of ``channel``, merged like ``events.channel_rules``
    (the project's ``CHANNELS`` entry key by key over the packaged one)."""
    name = channel or app_settings.DEFAULT_CHANNEL
    raw = {**DEFAULT_CHANNELS.get(name, {}), **((app_settings.CHANNELS or {}).get(name) or {})}
    marketplace = bool(raw.get("marketplace", False))
    mode = raw.get("feedback") or SURVEY
    try:
        low, high = raw.get("feedback_window_days") or (None, None)
        window = (int(low), int(high)) if low is not None and high is not None else None
    except (TypeError, ValueError):
        window = None  # malformed: the channel simply has no window
    return ChannelFeedback(
        name=name,
        marketplace=marketplace,
        mode=mode if mode in FEEDBACK_MODES else SURVEY,
        marketplace_name=str(raw.get("marketplace_name") or _marketplace_name(name)),
        review_url=str(raw.get("review_url") or ""),
        window_days=window,
    )


def _marketplace_name(channel: str) -> str:
    """``amazon_fba`` -> ``Amazon``: the part a customer recognises."""
    return channel.split("_")[0].replace("-", " ").title() if channel else ""


def is_marketplace(channel: str | None) -> bool:
    return channel_feedback(channel).marketplace


def marketplace_channels() -> list[str]:
    return [name for name in channel_names() if is_marketplace(name)]


# -- review links -----------------------------------------------------------------------------------------


class _Missing(dict):
    def __missing__(self, key):
        raise KeyError(key)


def _fill(template: str, item: dict, order_number: str) -> str:
    """``template`` with ``{placeholders}`` from the item; "" if one is missing."""
    try:
        return template.format_map(_Missing({"order_number": order_number, **item}))
    except (KeyError, IndexError, ValueError, AttributeError):
        return ""


def review_url_for(order, item: dict, channel: ChannelFeedback, order_number: str = "") -> str:
    """Where the customer reviews ``item``: the order's ``get_mail_review_url(item)``
    hook, else the channel's ``review_url``, else (own shop only)
    ``FEEDBACK_REVIEW_URL``; "" when there is none."""
    hook = getattr(order, "get_mail_review_url", None)
    if hook is not None:
        url = hook(item)
        if url:
            return str(url)
    if channel.review_url:
        return _fill(channel.review_url, item, order_number)
    template = app_settings.FEEDBACK_REVIEW_URL
    if template and not channel.marketplace:
        # A shop's own review page must never appear in a marketplace's mail.
        return _fill(template, item, order_number)
    return ""


def review_links(order, items: list[dict], channel: ChannelFeedback, order_number: str = "") -> list[dict]:
    """One link per item that has a review page; identical URLs (an order-wide
    marketplace page) collapse into one link."""
    links, seen = [], set()
    for item in items:
        url = review_url_for(order, item, channel, order_number)
        if not url or not url.startswith(("https://", "http://")) or url in seen:
            continue
        seen.add(url)
        links.append({"name": str(item.get("name", "")), "url": url, "image_url": item.get("image_url", "")})
    if len(links) == 1 and len(items) > 1:
        links[0]["name"] = ""  # one page for the whole order: no product name
    return links
