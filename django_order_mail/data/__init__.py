"""Data lifecycle: the personal-data registry, retention, export and erasure
(``docs/data-protection.rst``).

Import the functions from their modules (``.registry``, ``.retention``,
``.requests``); this package module imports no model, so a feature app may
import :func:`register_personal_data` from its ``ready()``.
"""

from .registry import (
    ERASED,
    ERASED_ADDRESS,
    erased_address_for,
    keyed_hash,
    register_personal_data,
    register_retention_need,
)

__all__ = [
    "ERASED",
    "ERASED_ADDRESS",
    "erased_address_for",
    "keyed_hash",
    "register_personal_data",
    "register_retention_need",
]
