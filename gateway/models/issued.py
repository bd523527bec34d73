"""Documents a service issued for a request (a certificate, an attestation), kept with their proof."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from gateway.models.requests import new_public_id, utcnow
from gateway.models.tenancy import CommuneScoped


class IssuedDocument(CommuneScoped, SQLModel, table=True):
    """One document issued for one request: its PDF, its signed payload and what the public check may confirm.

    ``code_digest`` is the SHA-256 of the verification code printed on it: the
    code itself is not kept, so a copy of the database does not let anyone
    check (or enumerate) documents. ``confirmable`` holds the few fields the
    service declared the public check may show, as ``[{"label": {"fr", "en"},
    "value"}]``; ``revoked_at`` is set when the service revokes it or the
    request is withdrawn.
    """

    __tablename__ = "issued_document"
    __table_args__ = (UniqueConstraint("commune", "number", name="uq_issued_document_commune_number"),)

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(default_factory=new_public_id, max_length=32, unique=True)
    commune: str = Field(max_length=60)
    request_id: int = Field(foreign_key="service_request.id", index=True)
    #: the request's reference and a sequence: VEN-EC-2026-000012-1
    number: str = Field(max_length=60)
    #: the service's name for this kind of document ("certificate")
    kind: str = Field(max_length=40)
    title: str = Field(max_length=200)
    title_en: str = Field(max_length=200)
    locale: str = Field(default="fr", max_length=5)
    issued_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    key_id: str = Field(max_length=40)
    code_digest: str = Field(max_length=64, unique=True)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    confirmable: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    pdf: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    revoked_reason: str | None = Field(default=None, max_length=200)
