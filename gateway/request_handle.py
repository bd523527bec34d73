"""The only view of a request a plugin ever gets.

The core builds a :class:`RequestHandle` around the stored row and hands it to
the service's plugin; the plugin reads the filled form and sets what it may
set, and never holds a database session.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from gateway.models import ServiceRequest

SUMMARY_MAX = 200


#: records an audit event for this request: (verb, outcome) -> None
EventSink = Callable[[str, str], None]


@dataclass(frozen=True)
class LinkedSide:
    """The other side of a request shared with another member commune (API 1.1, docs/shared_requests.md).

    ``role`` is this request's own side: ``"home"`` (the family filed it) or
    ``"receiving"`` (the linked request another commune's filing created).
    ``status`` and ``reason`` are the other side's decision once it took one
    (its final state and the reason value it chose), else ``None``.
    """

    role: str
    commune: str
    reference: str
    status: str | None = None
    reason: str | None = None

    @property
    def decided(self) -> bool:
        return self.status is not None


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
    def data(self) -> Mapping[str, str]:
        """The form as filed, read-only."""
        return MappingProxyType(dict(self._row.data))

    @property
    def linked(self) -> LinkedSide | None:
        """The other side when this request is shared with another commune, else ``None`` (API 1.1)."""
        row = self._row
        if row.link_role is None or row.linked_commune is None:
            return None
        return LinkedSide(row.link_role, row.linked_commune, row.linked_reference or "", row.linked_status,
                          row.linked_reason)  # fmt: skip

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
