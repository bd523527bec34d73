"""Requests citizens file, and the counters behind their reference numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from gateway.models.tenancy import CommuneScoped


def utcnow() -> datetime:
    return datetime.now(UTC)


class ServiceRequest(CommuneScoped, SQLModel, table=True):
    """One request filed with one commune for one service.

    ``data`` holds the form as the citizen filled it; only the core reads or
    writes it, plugins go through :class:`gateway.requests.handle.RequestHandle`.
    ``submission_key`` is the form's one-time key (or the API's
    ``Idempotency-Key``), unique within a commune, so a double click or a
    retried POST files one request, not two.
    """

    __tablename__ = "service_request"
    __table_args__ = (
        UniqueConstraint("commune", "reference", name="uq_service_request_commune_reference"),
        UniqueConstraint("commune", "submission_key", name="uq_service_request_commune_submission_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=40)
    commune: str = Field(max_length=60, index=True)
    service: str = Field(max_length=60, index=True)
    status: str = Field(default="submitted", max_length=30)
    summary: str | None = Field(default=None, max_length=200)
    locale: str = Field(default="fr", max_length=5)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    submission_key: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class ReferenceCounter(CommuneScoped, SQLModel, table=True):
    """The last sequence number issued per commune, prefix and year."""

    __tablename__ = "reference_counter"

    commune: str = Field(max_length=60, primary_key=True)
    prefix: str = Field(max_length=5, primary_key=True)
    year: int = Field(primary_key=True)
    last: int = Field(default=0)
