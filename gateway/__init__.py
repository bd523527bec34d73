"""Guichet: an e-services gateway for the communes of an inter-municipal syndicate.

Plugin authors import everything they need from here.
"""

from __future__ import annotations

import pluggy

from gateway.services import (
    DEFAULT_WORKFLOW,
    Choice,
    CitizenIdentity,
    DocumentSpec,
    FieldError,
    FormField,
    Localized,
    ScanVerdict,
    ServiceDefinition,
    ServiceSettings,
    State,
    Transition,
    TransitionRefused,
    Workflow,
)

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("guichet")

__all__ = [
    "DEFAULT_WORKFLOW",
    "Choice",
    "CitizenIdentity",
    "DocumentSpec",
    "FieldError",
    "FormField",
    "Localized",
    "ScanVerdict",
    "ServiceDefinition",
    "ServiceSettings",
    "State",
    "Transition",
    "TransitionRefused",
    "Workflow",
    "__version__",
    "hookimpl",
]
