"""The public plugin API: everything a plugin imports from the core.

A plugin imports from here (or from :mod:`gateway`, which re-exports this
module) and from :mod:`gateway.testing` in its tests, nothing else. What is
listed here sits on the bottom floors (plain data and the types a hook
receives) or is the hook marker itself, so a plugin never pulls in the
store, the web layer or the service layer.
"""

from __future__ import annotations

import pluggy

from gateway.communes import Commune, RetentionChoice
from gateway.deployment import DeploymentSettings
from gateway.hookspecs import PROJECT
from gateway.plugin_version import API_VERSION, VERSION_ATTRIBUTE
from gateway.request_handle import DocumentContent, DocumentLine, IssuedDocumentInfo, LinkedSide, RequestHandle
from gateway.services import (
    DEFAULT_WORKFLOW,
    Choice,
    CitizenIdentity,
    DerivedValue,
    DocumentSpec,
    FieldError,
    FieldValue,
    FormField,
    FormValues,
    Localized,
    MemberBlock,
    Places,
    PostalAddress,
    ScanVerdict,
    ServiceDefinition,
    ServiceSettings,
    SharedRequest,
    State,
    Transition,
    TransitionRefused,
    Workflow,
)

#: marks a plugin's hook implementations (``@hookimpl``); defined here only
hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = [
    "API_VERSION",
    "DEFAULT_WORKFLOW",
    "VERSION_ATTRIBUTE",
    "Choice",
    "CitizenIdentity",
    "Commune",
    "DeploymentSettings",
    "DerivedValue",
    "DocumentContent",
    "DocumentLine",
    "DocumentSpec",
    "FieldError",
    "FieldValue",
    "FormField",
    "FormValues",
    "IssuedDocumentInfo",
    "LinkedSide",
    "Localized",
    "MemberBlock",
    "Places",
    "PostalAddress",
    "RequestHandle",
    "RetentionChoice",
    "ScanVerdict",
    "ServiceDefinition",
    "ServiceSettings",
    "SharedRequest",
    "State",
    "Transition",
    "TransitionRefused",
    "Workflow",
    "hookimpl",
]
