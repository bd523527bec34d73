"""Guichet: an e-services gateway for the communes of an inter-municipal syndicate.

Plugin authors import everything they need from here.
"""

from __future__ import annotations

import pluggy

from gateway.services import (
    Choice,
    FieldError,
    FormField,
    Localized,
    ServiceDefinition,
    ServiceSettings,
)

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("guichet")

__all__ = [
    "Choice",
    "FieldError",
    "FormField",
    "Localized",
    "ServiceDefinition",
    "ServiceSettings",
    "__version__",
    "hookimpl",
]
