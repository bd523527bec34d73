"""Requests citizens file, their history, their attachments, and the counters behind reference numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from gateway import clock
from gateway.models.tenancy import CommuneScoped
from gateway.random_ids import random_urlsafe


def utcnow() -> datetime:
    """The default of stored times: the core's clock (:mod:`gateway.clock`)."""
    return clock.now()


def new_public_id() -> str:
    """A random, unguessable name for URLs (22 characters): ids in URLs are never counters."""
    return random_urlsafe(16)


def _when(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index))


class ServiceRequest(CommuneScoped, SQLModel, table=True):
    """One request filed with one commune for one service.

    ``data`` holds the form as the citizen filled it; only the core reads or
    writes it, plugins go through :class:`gateway.request_handle.RequestHandle`.
    ``submission_key`` is the form's one-time key (or the API's
    ``Idempotency-Key``), unique within a commune, so a double click or a
    retried POST files one request, not two. ``public_id`` names the request
    in the citizen's URLs (drafts have no reference yet); ``version`` grows at
    every change, so two agents acting on one request at once cannot both win.
    """

    __tablename__ = "service_request"
    __table_args__ = (
        UniqueConstraint("commune", "reference", name="uq_service_request_commune_reference"),
        UniqueConstraint("commune", "submission_key", name="uq_service_request_commune_submission_key"),
        Index("ix_service_request_queue", "commune", "service", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(default_factory=new_public_id, max_length=32, unique=True)
    #: None while a draft: the number is given at submission
    reference: str | None = Field(default=None, max_length=40)
    commune: str = Field(max_length=60, index=True)
    service: str = Field(max_length=60, index=True)
    status: str = Field(default="submitted", max_length=30)
    summary: str | None = Field(default=None, max_length=200)
    locale: str = Field(default="fr", max_length=5)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    form_version: int = Field(default=1)
    submission_key: str = Field(max_length=64)
    #: SHA-256 of the answers first sent with that key: the same key with other answers is refused, not replayed
    submission_fingerprint: str | None = Field(default=None, max_length=64)
    #: the citizen who owns it (None for a service open without an account)
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    #: the audit log's pseudonym of the person the request is about (never their name)
    subject: str | None = Field(default=None, max_length=32)
    #: where decisions and receipts are mailed (the citizen's address, or the one typed in the form)
    notify_email: str | None = Field(default=None, max_length=254)
    #: the agent who filed it at the counter for the citizen (assisted filing)
    filed_by_staff_id: int | None = Field(default=None, foreign_key="staff_user.id")
    assigned_to: int | None = Field(default=None, foreign_key="staff_user.id", index=True)
    #: the agents asked the citizen for a correction or a document and wait for the answer
    awaiting_citizen: bool = Field(default=False)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime | None = _when()
    submitted_at: datetime | None = _when()
    decided_at: datetime | None = _when()
    #: drafts: when an untouched draft is deleted; decided requests: when they are purged
    purge_after: datetime | None = _when(index=True)
    #: a request shared with another member commune (docs/shared_requests.md): "home" on the request the family
    #: filed, "receiving" on the linked request the other commune holds; None for every other request
    link_role: str | None = Field(default=None, max_length=10)
    #: the other side of the link: its commune and reference, never its row id (each commune keeps its own rows)
    linked_commune: str | None = Field(default=None, max_length=60)
    linked_reference: str | None = Field(default=None, max_length=40)
    #: the other side's decision as it was forwarded: its state, and the reason it chose (a value, never free text)
    linked_status: str | None = Field(default=None, max_length=30)
    linked_reason: str | None = Field(default=None, max_length=60)
    #: the family it was filed with (API 1.2, a :class:`~gateway.services.MemberBlock`): every request of one family
    #: filing holds the same id, each with its own workflow; None for a request filed alone
    family_id: str | None = Field(default=None, max_length=32, index=True)

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"

    @property
    def is_linked_copy(self) -> bool:
        """A receiving commune's linked request: it follows its service's linked workflow."""
        return self.link_role == "receiving"


class RequestEvent(CommuneScoped, SQLModel, table=True):
    """One line of a request's history: a status change, a message, an internal note, an assignment.

    ``internal`` lines (agents' notes, assignments) are never shown to the citizen.
    """

    __tablename__ = "request_event"

    id: int | None = Field(default=None, primary_key=True)
    commune: str = Field(max_length=60)
    request_id: int = Field(foreign_key="service_request.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    #: created, submitted, transition, message, note, assignment, correction, document, withdrawn, filed-for
    kind: str = Field(max_length=20)
    #: citizen, agent or system
    actor_role: str = Field(max_length=20)
    #: staff account id for agents (their name is looked up when shown), else None
    staff_id: int | None = Field(default=None, foreign_key="staff_user.id")
    from_status: str | None = Field(default=None, max_length=30)
    to_status: str | None = Field(default=None, max_length=30)
    transition: str | None = Field(default=None, max_length=40)
    reason: str | None = Field(default=None, max_length=60)
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    internal: bool = Field(default=False)


class Attachment(CommuneScoped, SQLModel, table=True):
    """A document attached to a request; its bytes are the stored file ``storage_name`` (``gateway.stored_files``)."""

    __tablename__ = "request_attachment"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(default_factory=new_public_id, max_length=32, unique=True)
    commune: str = Field(max_length=60)
    request_id: int = Field(foreign_key="service_request.id", index=True)
    #: the DocumentSpec it answers, or "extra" for a document an agent asked for
    document: str = Field(max_length=60)
    #: the name the citizen's file had, cleaned: shown, never used as a path
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=60)
    size: int
    sha256: str = Field(max_length=64)
    storage_name: str = Field(max_length=80, unique=True)
    uploaded_by: str = Field(max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class ReferenceCounter(CommuneScoped, SQLModel, table=True):
    """The last sequence number issued per commune, prefix and year."""

    __tablename__ = "reference_counter"

    commune: str = Field(max_length=60, primary_key=True)
    prefix: str = Field(max_length=5, primary_key=True)
    year: int = Field(primary_key=True)
    last: int = Field(default=0)
