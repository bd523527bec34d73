"""The only view of a request a plugin ever gets.

The core builds a :class:`RequestHandle` around the stored row and hands it to
the service's plugin; the plugin reads the filled form and sets what it may
set, and never holds a database session.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import MappingProxyType

from gateway.models import ServiceRequest
from gateway.services import FormValues

SUMMARY_MAX = 200


#: records an audit event for this request: (verb, outcome) -> None
EventSink = Callable[[str, str], None]


class RequestHandle:
    """A submitted request as its service's hooks see it: read the form, set the queue summary, record an event.

    Built by the core around the stored row (a plugin never constructs one; a test does with
    :func:`gateway.testing.request_handle`).
    """

    def __init__(self, row: ServiceRequest, emit: EventSink | None = None) -> None:
        self._row = row
        self._emit = emit

    def record_event(self, verb: str, *, outcome: str = "success") -> None:
        """Add an entry to the audit log, in the request's own transaction.

        The action is ``<service>.<verb>``; who, for which commune, about whom,
        why and from where are filled in by the core. A plugin cannot write
        the log any other way.
        """
        if self._emit is None:
            raise RuntimeError("this request handle cannot record audit events")
        self._emit(verb, outcome)

    @property
    def reference(self) -> str:
        """The public reference number (given at submission; hooks only see submitted requests)."""
        return self._row.reference or ""

    @property
    def service(self) -> str:
        """The service's key."""
        return self._row.service

    @property
    def commune(self) -> str:
        """The slug of the commune the request was filed with."""
        return self._row.commune

    @property
    def status(self) -> str:
        """The workflow state the request is in (before the transition, in ``guichet_request_transition``)."""
        return self._row.status

    @property
    def created_at(self) -> datetime:
        """When the draft was started."""
        return self._row.created_at

    @property
    def data(self) -> FormValues:
        """The form as filed, read-only: each answer in its field's type (see :data:`gateway.plugin.FieldValue`)."""
        return MappingProxyType(dict(self._row.data))

    @property
    def summary(self) -> str | None:
        """The line agents see in their queue (see the setter)."""
        return self._row.summary

    @summary.setter
    def summary(self, value: str | None) -> None:
        """A short line agents see in their queue (no personal data, at most 200 characters)."""
        if value is not None and (not isinstance(value, str) or len(value) > SUMMARY_MAX):
            raise ValueError(f"summary must be text of at most {SUMMARY_MAX} characters")
        self._row.summary = value
