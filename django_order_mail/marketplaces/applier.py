"""The generic feed applier: move an order to where the marketplace says it is.

Marketplaces report where an order *is*, not which step it took, and a feed
may skip steps (an order first seen as ``WAIT_BUYER_ACCEPT_GOODS`` was paid
and shipped in between). So the applier looks for the shortest path of
transitions from the order's current state to the target state through the
order model's own django-fsm graph, restricted to the adapter's
``sync_transitions``, and runs each transition followed by ``save()``. Every
transition therefore fires its usual emails, and the sales channel's rules
(``events.DEFAULT_CHANNELS``) decide which of them are sent: an AliExpress
order gets no order confirmation from the shop, an Amazon FBA order only the
review request.

Ordering: an update never moves an order backwards. It is ignored when it is
older than the last applied update of that order, or when its target lies
*behind* the current state (the target can reach the current state but not
the other way round). A target that is neither ahead nor behind - AliExpress
says "shipped" about an order the shop cancelled - is a conflict and is
reported as failed, for staff to look at.

The caller (:func:`.sync.apply_item`) runs this inside one transaction per
item, so an item either reaches its target with all its emails or changes
nothing.
"""

from __future__ import annotations

import inspect
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.db.models import Max

from ..exceptions import OrderMailError
from ..lifecycle.reasons import presets
from ..lifecycle.states import order_state
from .base import BaseAdapter, MarketplaceUpdate
from .models import MarketplaceOrderUpdate, Outcome, Problem


class UpdateConflictError(OrderMailError):
    """The update contradicts the order's state in a way no transition fixes."""


@dataclass
class Result:
    outcome: str
    reason: str
    transitions: list[str] = field(default_factory=list)
    order: Any = None
    target: str = ""
    #: ``Problem.STALE`` for an update older than what the order reflects.
    problem: str = ""


@lru_cache(maxsize=64)
def transition_graph(model, allowed: tuple[str, ...]) -> dict[str, list[tuple[int, str, str]]]:
    """``{source: [(preference, transition name, target), ...]}`` of ``model``'s
    FSM, limited to ``allowed`` and without self-loops."""
    fsm_field = model._meta.get_field(getattr(model, "mail_state_field", "state"))
    states = [value for value, _label in (fsm_field.choices or [])]
    preference = {name: i for i, name in enumerate(allowed)}
    graph: dict[str, list[tuple[int, str, str]]] = {}
    for transition in fsm_field.get_all_transitions(model):
        if transition.name not in preference or not isinstance(transition.target, str):
            continue
        sources = states if transition.source in ("*", "+") else [transition.source]
        for source in sources:
            if source != transition.target:
                graph.setdefault(source, []).append(
                    (preference[transition.name], transition.name, transition.target)
                )
    for edges in graph.values():
        edges.sort()
    return graph


def find_path(graph, start: str, goal: str) -> list[str] | None:
    """Names of the shortest transition path ``start`` -> ``goal`` (breadth
    first, ties broken by the adapter's preference), or None."""
    if start == goal:
        return []
    previous: dict[str, tuple[str, str]] = {}
    queue = deque([start])
    seen = {start}
    while queue:
        state = queue.popleft()
        for _pref, name, target in graph.get(state, ()):
            if target in seen:
                continue
            previous[target] = (state, name)
            if target == goal:
                path = []
                while target != start:
                    target, step = previous[target]
                    path.append(step)
                return path[::-1]
            seen.add(target)
            queue.append(target)
    return None


def last_applied_sequence(marketplace: str, external_id: str):
    return MarketplaceOrderUpdate.objects.filter(
        marketplace=marketplace,
        external_order_id=external_id,
        outcome=Outcome.APPLIED,
        sequence__isnull=False,
    ).aggregate(last=Max("sequence"))["last"]


def lock(order):
    """The order re-read under a row lock (PostgreSQL), so two syncs moving the
    same order run one after the other and the second sees the first's state."""
    model = type(order)
    return model._default_manager.select_for_update().get(pk=order.pk)


def transition_kwargs(method, update: MarketplaceUpdate, shipment, notify: bool) -> dict:
    """Only the arguments the transition accepts (shop FSMs differ)."""
    params = inspect.signature(method).parameters
    kwargs: dict[str, Any] = {}
    if "notify" in params:
        kwargs["notify"] = notify
    if "shipment" in params:
        kwargs["shipment"] = shipment
    # The customer's email shows a preset reason in its own language; the
    # marketplace's free text (any language) stays in the sync log for staff.
    if "reason_code" in params and update.reason_code in _presets_of(method):
        kwargs["reason_code"] = update.reason_code
    if "amount" in params and update.refund_amount is not None:
        kwargs["amount"] = update.refund_amount
    return kwargs


def _presets_of(method) -> set[str]:
    """The preset reason codes of the email(s) the bound transition sends."""
    order = getattr(method, "__self__", None)
    mapping = getattr(order, "mail_transitions", None) or {}
    codes: set[str] = set()
    for event in mapping.get(method.__name__, ()):
        codes.update(presets(event))
    return codes


def shipping_steps(adapter: BaseAdapter, path: list[str], fresh: list) -> list[tuple[str, Any]]:
    """Pair each transition with the parcel it sends.

    Several new parcels before a ``ship`` become one ``ship_partially`` each
    and the last goes with ``ship``, so every parcel gets its own shipping
    confirmation. Without tracking data the transition runs with no shipment
    and the lifecycle records the shipping email as skipped, with the reason.
    """
    steps: list[tuple[str, Any]] = []
    for name in path:
        if name not in adapter.shipping_transitions:
            steps.append((name, None))
            continue
        for extra in fresh[:-1]:
            steps.append((adapter.partial_shipping_transition, extra))
        steps.append((name, fresh[-1] if fresh else None))
        fresh = []
    return steps


def apply_update(adapter: BaseAdapter, update: MarketplaceUpdate, *, notify: bool = True) -> Result:
    """Bring the order of ``update`` to its target state; see the module doc.

    Call inside ``transaction.atomic()``. Raises :class:`UpdateConflictError` or the
    transition's own error when the update cannot be applied.
    """
    order = adapter.resolve_order(update)
    label = adapter.label or adapter.name
    if order is None:
        return Result(Outcome.IGNORED, f"no shop order for {label} order {update.external_id}")
    if order.pk is None:
        raise ValueError("the order resolver returned an unsaved order; save it first")
    order = lock(order)

    channel = update.channel or adapter.channel
    order_channel = order.get_mail_channel() if hasattr(order, "get_mail_channel") else ""
    if channel and order_channel != channel:
        update.warnings.append(
            f"the order's sales channel is {order_channel!r}, not {channel!r}: "
            f"the {channel} channel rules do not apply to its emails"
        )

    last = last_applied_sequence(adapter.name, update.external_id)
    if update.sequence is not None and last is not None and update.sequence < last:
        return Result(
            Outcome.IGNORED,
            f"stale: modified {update.sequence.isoformat()}, before the last applied update "
            f"({last.isoformat()})",
            order=order,
            problem=Problem.STALE,
        )

    current = order_state(order)
    target = adapter.target_state(update, current)
    if target is None:
        return Result(Outcome.IGNORED, f"status {update.status} changes nothing", order=order)
    # Annotated as type: mypy finds type[Any] not Hashable (lru_cache's arguments).
    model: type = type(order)
    graph = transition_graph(model, tuple(adapter.sync_transitions))
    known_states = set(graph) | {t for edges in graph.values() for _p, _n, t in edges}
    if target not in known_states:
        raise ValueError(f"{label} status {update.status} maps to {target!r}, not a state of the order")

    fresh = adapter.new_shipments(order, update)
    if target == current:
        # Same state: nothing to do, unless a partially shipped order reports
        # a parcel it has not sent before (one more shipping confirmation).
        partial = adapter.partial_shipping_transition
        if not (fresh and partial and _has_loop(type(order), partial, current)):
            return Result(Outcome.IGNORED, f"order is already {current}", order=order, target=target)
        steps = [(partial, parcel) for parcel in fresh]
    else:
        # An order without a state has no path either way (conflict below).
        path = find_path(graph, current, target) if current is not None else None
        if path is None:
            if current is not None and find_path(graph, target, current) is not None:
                return Result(
                    Outcome.IGNORED,
                    f"order is {current}, past {target}: an update never moves an order backwards",
                    order=order,
                    target=target,
                    problem=Problem.STALE,
                )
            raise UpdateConflictError(
                f"{label} says {update.status} ({target}) but the order is {current} "
                "and no transition leads there; check the order"
            )
        steps = shipping_steps(adapter, path, fresh)

    names = []
    for name, parcel in steps:
        shipment = adapter.build_shipment(order, parcel) if parcel is not None else None
        method = getattr(order, name)
        method(**transition_kwargs(method, update, shipment, notify))
        order.save()
        names.append(name)
    reached = order_state(order)
    return Result(
        Outcome.APPLIED, f"{current} → {reached} ({', '.join(names)})", names, order=order, target=target
    )


def _has_loop(model, name: str, state: str) -> bool:
    """Whether transition ``name`` may run from ``state`` back to ``state``
    (``ship_partially`` on a partially shipped order: one more parcel)."""
    fsm_field = model._meta.get_field(getattr(model, "mail_state_field", "state"))
    return any(
        t.name == name and t.source in (state, "*") and t.target == state
        for t in fsm_field.get_all_transitions(model)
    )
