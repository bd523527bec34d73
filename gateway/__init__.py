"""Guichet: an e-services gateway for the communes of an inter-municipal syndicate.

Plugin authors import everything they need from here: the names are those of
the public plugin API, :mod:`gateway.plugin`.
"""

from __future__ import annotations

from gateway.plugin import (
    DEFAULT_WORKFLOW,
    Choice,
    CitizenIdentity,
    Commune,
    DocumentSpec,
    FieldError,
    FormField,
    Localized,
    RequestHandle,
    ScanVerdict,
    ServiceDefinition,
    ServiceSettings,
    State,
    Transition,
    TransitionRefused,
    Workflow,
    hookimpl,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_WORKFLOW",
    "Choice",
    "CitizenIdentity",
    "Commune",
    "DocumentSpec",
    "FieldError",
    "FormField",
    "Localized",
    "RequestHandle",
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
