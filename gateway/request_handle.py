"""The only view of a request a plugin ever gets.

The core builds a :class:`RequestHandle` around the stored row and hands it to
the service's plugin; the plugin reads the filled form and sets what it may
set, and never holds a database session.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Protocol

from gateway.models import ServiceRequest
from gateway.services import FormValues, Localized

SUMMARY_MAX = 200
LINE_VALUE_MAX = 200
LINES_MAX = 30
CONFIRMABLE_MAX = 6
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


#: records an audit event for this request: (verb, outcome) -> None
EventSink = Callable[[str, str], None]


@dataclass(frozen=True)
class DocumentLine:
    """One line of an issued document: ``label : value``, confirmable on the public check page or not."""

    #: a short key naming the line in the signed payload (``school``)
    name: str
    label: Localized
    value: str
    #: shown by the public check and carried, signed, in the QR code: the few facts a third party needs
    confirmable: bool = False

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"document line name {self.name!r}: lower-case letters, digits and _ (at most 40)")
        if not isinstance(self.value, str) or not self.value.strip() or len(self.value) > LINE_VALUE_MAX:
            raise ValueError(f"document line {self.name!r}: its value must be text of 1 to {LINE_VALUE_MAX} characters")


@dataclass(frozen=True)
class DocumentContent:
    """What a service asks the core to issue: a titled list of lines; the core numbers, signs, renders and keeps it."""

    #: the service's name for this kind of document (``certificate``), shown in the payload
    kind: str
    title: Localized
    lines: tuple[DocumentLine, ...]
    #: a sentence before the lines ("The mayor certifies that ...")
    intro: Localized | None = None
    #: the language the PDF is written in
    locale: str = "fr"

    def __post_init__(self) -> None:
        if not _NAME.match(self.kind):
            raise ValueError(f"document kind {self.kind!r}: lower-case letters, digits and _ (at most 40)")
        if not self.title.fr.strip() or len(self.title.fr) > 200 or len(self.title.en or "") > 200:
            raise ValueError("a document's title is 1 to 200 characters")
        if not 1 <= len(self.lines) <= LINES_MAX:
            raise ValueError(f"a document has 1 to {LINES_MAX} lines")
        if len({line.name for line in self.lines}) != len(self.lines):
            raise ValueError("two lines of the document share a name")
        if not 1 <= sum(line.confirmable for line in self.lines) <= CONFIRMABLE_MAX:
            raise ValueError(f"a document declares 1 to {CONFIRMABLE_MAX} confirmable lines")
        if self.locale not in ("fr", "en"):
            raise ValueError("a document is written in 'fr' or 'en'")


@dataclass(frozen=True)
class IssuedDocumentInfo:
    """A document just issued: its number and the verification code printed on it."""

    number: str
    code: str
    issued_at: datetime


class DocumentIssuer(Protocol):
    """What the core lends a request handle to issue and revoke documents (built by the core, never by a plugin)."""

    def issue(self, content: DocumentContent) -> IssuedDocumentInfo: ...

    def revoke(self, reason: str) -> int: ...


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

    def __init__(
        self,
        row: ServiceRequest,
        emit: EventSink | None = None,
        documents: DocumentIssuer | None = None,
        derived: tuple[str, ...] = (),
    ) -> None:
        self._row = row
        self._emit = emit
        self._documents = documents
        self._derived = derived

    def record_value(self, name: str, value: str | int | bool | None) -> None:
        """Record on the request's data a value the plugin derives from the answers (API 1.2).

        ``name`` must be one the service declares in ``ServiceDefinition.derived``
        (so it can never overwrite an answer); the value is kept with the form's
        answers, in the request's transaction, read back from :attr:`data` by the
        plugin and by whoever reads the request's data (agents, the API, exports),
        and may be disclosed to a receiving commune by a ``SharedRequest``.
        """
        if name not in self._derived:
            raise ValueError(f"{name!r} is not a derived value the service declares")
        if isinstance(value, str) and len(value) > LINE_VALUE_MAX:
            raise ValueError(f"a derived value is text of at most {LINE_VALUE_MAX} characters")
        if value is not None and not isinstance(value, str | int | bool):
            raise ValueError("a derived value is text, a whole number, true/false or None")
        self._row.data = {**self._row.data, name: value}

    def issue_document(self, content: DocumentContent) -> IssuedDocumentInfo:
        """Issue a document for this request, in its transaction: numbered, signed with the commune's key, kept.

        The citizen downloads it from their request's page, agents from the
        request's file; the public check page confirms its confirmable lines
        from the code printed on it. If the transaction fails, nothing is issued.
        """
        if self._documents is None:
            raise RuntimeError("this request handle cannot issue documents")
        return self._documents.issue(content)

    def revoke_documents(self, reason: str) -> int:
        """Revoke every document issued for this request (the public check shows them revoked); how many were."""
        if self._documents is None:
            raise RuntimeError("this request handle cannot revoke documents")
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 200:
            raise ValueError("a revocation reason is 1 to 200 characters")
        return self._documents.revoke(reason)

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
    def family_id(self) -> str | None:
        """The family filing it belongs to (API 1.2; the same id on each member's request), None when filed alone."""
        return self._row.family_id

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
