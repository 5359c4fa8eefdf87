"""What happened to an email after the ESP accepted it: which app reports it.

The send log's row has the fields (``delivery_status``, ``delivered_at``,
``opened_at``, ``open_count``, ``clicked_at``, ``click_count``), but the core
receives no ESP webhook and so never fills them: a feature app does (the
tracking app from Anymail's tracking signal), or a shop's own webhook code.
Such an app says so here, from its app config's ``ready()``::

    from django_order_mail.outbox.engagement import register_engagement_source

    register_engagement_source("order_mail_tracking", delivery=True, opens=True, clicks=True)

and the core admin shows the matching columns of the send log (delivery,
opens, clicks). Without any source the columns stay hidden: a project with
the core alone is not shown columns that can never fill.
"""

from __future__ import annotations

#: The column kinds a source can report.
KINDS = ("delivery", "opens", "clicks")

_sources: dict[str, frozenset[str]] = {}


def register_engagement_source(
    name: str, *, delivery: bool = False, opens: bool = False, clicks: bool = False
):
    """Record that the app ``name`` fills the send log's delivery status,
    open and/or click fields. Registering the same name again replaces it."""
    reported = {"delivery": delivery, "opens": opens, "clicks": clicks}
    _sources[name] = frozenset(kind for kind, on in reported.items() if on)


def unregister_engagement_source(name: str) -> None:
    """Forget a source (tests, or a shop that replaces the tracking app's)."""
    _sources.pop(name, None)


def reported_kinds() -> list[str]:
    """The kinds some registered source reports, in :data:`KINDS` order."""
    found = set().union(*_sources.values()) if _sources else set()
    return [kind for kind in KINDS if kind in found]


def engagement_sources() -> dict[str, frozenset[str]]:
    """Each registered source and what it reports."""
    return dict(_sources)
