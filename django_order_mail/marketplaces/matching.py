"""The order resolver without code: match a marketplace's order id to a field.

Most shops store the marketplace's order number on their own order (an
``external_id`` or ``marketplace_order_number`` field) when the order is
imported. For them the resolver is one lookup, which staff set up in the
admin per marketplace (:class:`~.models.OrderMatchRule`): the order type and
the field. A shop that needs more - creating orders it has not seen, several
fields, normalising numbers - keeps writing a Python resolver
(``ORDER_MAIL["MARKETPLACE_ORDER_RESOLVER"]``), which wins when set
(``docs/marketplaces.rst``).
"""

from __future__ import annotations

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models

from ..exceptions import OrderMailError
from .applier import UpdateConflictError
from .models import OrderMatchRule

#: Field types an order number can be kept in.
MATCHABLE_FIELDS = (models.CharField, models.IntegerField, models.UUIDField)


class AmbiguousOrderError(UpdateConflictError):
    """More than one order has the marketplace's order number (recorded as a
    failed update, for staff to look at)."""


def order_models() -> list[type[models.Model]]:
    """The installed models that are orders of this app (``mail_transitions``)."""
    return [
        model
        for model in apps.get_models()
        if isinstance(getattr(model, "mail_transitions", None), dict) and not model._meta.abstract
    ]


def matchable_fields(model: type[models.Model]) -> list[models.Field]:
    """Fields of ``model`` that can hold an order number: text, whole
    numbers and UUIDs, its primary key included; no relations, not the
    order's state."""
    state = getattr(model, "mail_state_field", "state")
    return [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, MATCHABLE_FIELDS) and not field.is_relation and field.name != state
    ]


def field_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Grouped choices ``"<content type id>:<field>"`` for the admin's form,
    one group per order model."""
    groups = []
    for model in order_models():
        ct = ContentType.objects.get_for_model(model)
        options = [
            (f"{ct.pk}:{field.name}", f"{field.verbose_name} ({field.name})")
            for field in matchable_fields(model)
        ]
        if options:
            groups.append((f"{model._meta.app_label}.{model._meta.object_name}", options))
    return groups


def rule_for(marketplace: str) -> OrderMatchRule | None:
    """The enabled rule of ``marketplace``, if staff set one up."""
    return (
        OrderMatchRule.objects.select_related("content_type")
        .filter(marketplace=marketplace, enabled=True)
        .first()
    )


def find_order(rule: OrderMatchRule, external_id: str):
    """The order whose rule field equals ``external_id``, or None.

    A number the field cannot hold (letters for a number field) matches no
    order; two orders with the same number raise :class:`AmbiguousOrderError`
    rather than moving either.
    """
    model = rule.content_type.model_class()
    if model is None:
        raise OrderMailError(f"the order type of the matching rule ({rule.content_type}) is not installed")
    try:
        field = model._meta.get_field(rule.field_name)
        if not isinstance(field, models.Field):  # a reverse relation
            raise FieldDoesNotExist(rule.field_name)
    except FieldDoesNotExist as exc:
        raise OrderMailError(
            f"the matching rule names {rule.field_name!r}, not a field of {model.__name__}"
        ) from exc
    try:
        value = field.to_python(external_id)
    except ValidationError:
        return None
    found = list(model._default_manager.filter(**{field.name: value})[:2])
    if len(found) > 1:
        raise AmbiguousOrderError(
            f"more than one {model._meta.verbose_name} has {field.name} {external_id!r}; "
            "make the field unique or use a Python resolver"
        )
    return found[0] if found else None
