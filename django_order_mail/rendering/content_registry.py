"""What an app tells *Email texts* about its own email's text fields.

The fields of an email are the ``{% content %}`` tags of its template
(:mod:`.content_slots`), and the variables a field may use are those of the
event's sample context (:mod:`.content_validation`). The core knows its own
ten order emails: their sample ``extra`` (:func:`.sample.sample_extra`)
and the context keys that are codes, not text. An email a feature app or a
shop registers (:func:`~django_order_mail.events.register_event`) says the
same about itself here, from its app config's ``ready()``, so the core
never imports it (``docs/templates.rst``, "Text fields of your own email"):

.. code-block:: python

   from django_order_mail.rendering.content_registry import register_text_fields

   register_text_fields(
       "ready_for_pickup",
       sample_extra=lambda: {"pickup_point": "Storgata 15, Oslo"},
   )

``sample_extra``
   What the event stores in ``extra`` when it is written (a callable, read
   when needed), so previews and the variable chips have it
   (``{{ extra.pickup_point }}``).
``hidden``
   Context keys or dotted paths that are codes or internals, not text for
   customers (``feedback_scale``, ``delivery_exception.kind``): not offered
   and refused in a field.
``check``
   ``check(slot, text, language) -> [reasons]``: rules of the app's own a
   text must pass to be saved, on top of the core's (the feedback app's
   honest-review wording). A reason is a translated sentence.
``note``
   A sentence the editor shows above the fields: what they change (e.g.
   which variant of the email), when that is not obvious.

Registering an event again replaces its entry (the app's ``ready()`` may
run twice in tests). Nothing needs registering for a template's fields to
be offered: an email without an entry simply has no extras, hides
nothing more than the core does, and has no checks of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

#: ``check(slot, text, language) -> reasons``.
TextCheck = Callable[[str, str, str], Iterable[str]]


@dataclass(frozen=True)
class TextFields:
    """One email's entry (see the module doc)."""

    event: str
    hidden: frozenset[str] = frozenset()
    sample_extra: Callable[[], dict] | None = None
    check: TextCheck | None = None
    note: Any = None


_registry: dict[str, TextFields] = {}


def register_text_fields(
    event: str,
    *,
    sample_extra: Callable[[], dict] | None = None,
    hidden: Iterable[str] = (),
    check: TextCheck | None = None,
    note: Any = None,
) -> TextFields:
    """Register what *Email texts* needs to know about ``event``'s text
    fields (see the module doc). Call it from your app config's ``ready()``."""
    if sample_extra is not None and not callable(sample_extra):
        raise TypeError(f"{event}: sample_extra must be a callable returning a dict")
    if check is not None and not callable(check):
        raise TypeError(f"{event}: check must be a callable")
    entry = TextFields(str(event), frozenset(str(h) for h in hidden), sample_extra, check, note)
    _registry[entry.event] = entry
    return entry


def text_fields(event: str) -> TextFields:
    """``event``'s entry, or an empty one."""
    return _registry.get(str(event)) or TextFields(str(event))


def unregister_text_fields(event: str) -> None:
    """Forget ``event``'s entry (tests; an app that is switched off)."""
    _registry.pop(str(event), None)
