"""The carrier-tracking providers: the packaged ones and the shop's own.

``CARRIER_TRACKING_PROVIDERS`` enables a provider by giving it an entry
(``{"aftership": {"secret": "..."}}``); an entry with ``"class"`` (a dotted
path to a :class:`~.base.BaseProvider` subclass) replaces the packaged
class or adds a provider of the shop's own under that name.
"""

from __future__ import annotations

from django.utils.module_loading import import_string

from ..app_settings import app_settings
from .aftership import AfterShipProvider
from .base import BaseProvider, CarrierUpdate, CarrierWebhookError, PayloadError, SignatureError
from .easypost import EasyPostProvider

__all__ = [
    "PACKAGED",
    "BaseProvider",
    "CarrierUpdate",
    "CarrierWebhookError",
    "PayloadError",
    "SignatureError",
    "get_provider",
    "provider_class",
]

#: The providers the app ships, by the name in their webhook URL.
PACKAGED: dict[str, type[BaseProvider]] = {
    AfterShipProvider.name: AfterShipProvider,
    EasyPostProvider.name: EasyPostProvider,
}


def provider_class(name: str, config: dict | None = None) -> type[BaseProvider] | None:
    """The class for ``name``: the entry's ``class`` or the packaged one.
    Raises ``ImportError`` for a ``class`` that cannot be imported."""
    path = (config or {}).get("class")
    if path:
        cls = import_string(path)
        if not (isinstance(cls, type) and issubclass(cls, BaseProvider)):
            raise ImportError(f"{path} is not a BaseProvider subclass")
        return cls
    return PACKAGED.get(name)


def get_provider(name: str) -> BaseProvider | None:
    """The provider behind the webhook URL ``name``, or None for a name that
    is neither packaged nor configured. A packaged provider without an entry
    is returned too, without a secret: it refuses every request (403)."""
    configured = app_settings.CARRIER_TRACKING_PROVIDERS or {}
    config = configured.get(name) if isinstance(configured, dict) else None
    config = config if isinstance(config, dict) else {}
    cls = provider_class(name, config)
    if cls is None:
        return None
    provider = cls(config)
    provider.name = name
    return provider
