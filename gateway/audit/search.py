"""Searching the audit log for auditors, within the communes their grant covers.

The query is validated strictly (unknown parameters, bad dates or values are
refused with a message) and the commune scope is applied here, in the query,
whatever the caller asked for: a commune auditor never gets another
commune's entries, nor syndicate-wide ones.

A person is searched by the pseudonyms their identifiers resolve to
(:mod:`gateway.identity.person_lookup`, resolved and recorded by the caller);
a request by its reference, which names it in every entry's resource
(``request/<reference>`` and what hangs under it: documents, attachments).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import Select, or_, select
from sqlmodel import Session

from gateway.audit.events import OUTCOMES, ROLES, decode, format_time
from gateway.audit.merkle import CompactRange, inclusion_proof
from gateway.audit.search_purposes import AUDIT_PURPOSES, ROUTINE
from gateway.audit.tiles import TiledLeaves
from gateway.models import AuditCheckpoint, AuditEntry, AuditPrune

MAX_RESULTS = 500
#: what ``since`` and ``until`` start with: a date, as the console's date fields send it
DATE_FIRST = re.compile(r"\d{4}-\d{2}-\d{2}(?:$|T)")
#: a request's reference as the core issues them (``MSG-2026-000001``)
REFERENCE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"


class QueryError(ValueError):
    """A search the gateway cannot run; the message says which parameter and why."""


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    citizen: str | None = Field(
        default=None,
        max_length=254,
        description="a person: an e-mail address, an identity provider's subject, an account's citizen:<id>, "
        "or a pseudonym; needs a purpose",
    )
    reference: str | None = Field(default=None, pattern=REFERENCE, description="a request's reference")
    purpose: str | None = Field(default=None, description="why the auditor searches (a key of AUDIT_PURPOSES)")
    order: Literal["newest", "oldest"] = "newest"
    agent: str | None = Field(
        default=None, max_length=120, description="actor id (staff:12), or a staff account's username or e-mail address"
    )
    role: str | None = None
    commune: str | None = Field(default=None, max_length=60)
    service: str | None = Field(default=None, max_length=60)
    action: str | None = Field(default=None, max_length=60)
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before: int | None = Field(
        default=None, ge=0, le=2**63 - 1, description="only entries before this position (next page, newest first)"
    )
    after: int | None = Field(
        default=None, ge=0, le=2**63 - 1, description="only entries after this position (next page, oldest first)"
    )
    limit: int = Field(default=100, ge=1, le=MAX_RESULTS)

    @field_validator("outcome")
    @classmethod
    def _known_outcome(cls, value: str | None) -> str | None:
        if value is not None and value not in OUTCOMES:
            raise ValueError(f"must be one of {', '.join(OUTCOMES)}")
        return value

    @field_validator("citizen", "agent", "commune", "service", "action")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        """Text that reaches the database: no control character (PostgreSQL refuses a NUL in a string)."""
        if value is not None and any(ord(char) < 32 or ord(char) == 127 for char in value):
            raise ValueError("must not contain control characters")
        return value

    @field_validator("purpose")
    @classmethod
    def _known_purpose(cls, value: str | None) -> str | None:
        if value is not None and value not in AUDIT_PURPOSES:
            raise ValueError(f"must be one of {', '.join(AUDIT_PURPOSES)}")
        return value

    @field_validator("role")
    @classmethod
    def _known_role(cls, value: str | None) -> str | None:
        if value is not None and value not in ROLES:
            raise ValueError(f"must be one of {', '.join(ROLES)}")
        return value

    @field_validator("since", "until", mode="before")
    @classmethod
    def _a_date_first(cls, value: object) -> object:
        """A date or a date and time as text, never a number (pydantic would read ``0.5`` as a Unix time)."""
        if isinstance(value, str) and not DATE_FIRST.match(value):
            raise ValueError("expected a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM...)")
        return value

    @field_validator("since", "until")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

    @model_validator(mode="after")
    def _period(self) -> AuditQuery:
        if self.since and self.until and self.since >= self.until:
            raise ValueError("the period must end after it starts (since < until)")
        if self.citizen and self.purpose is None:
            raise ValueError("searching for a person needs a purpose (purpose)")
        return self

    @property
    def recorded_purpose(self) -> str:
        """The purpose the search is recorded with: the one stated, else the routine control's."""
        return AUDIT_PURPOSES[self.purpose or ROUTINE].fr


def parse_query(params: dict[str, str]) -> AuditQuery:
    cleaned = {key: value for key, value in params.items() if value != ""}
    try:
        return AuditQuery.model_validate(cleaned)
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(part) for part in first["loc"]) or "query"
        fault = "unknown parameter" if first["type"] == "extra_forbidden" else first["msg"]
        raise QueryError(f"{name}: {fault}") from None


@dataclass(frozen=True)
class Scope:
    """The communes an auditor may see: None means the whole syndicate."""

    communes: frozenset[str] | None

    def allows(self, commune: str | None) -> bool:
        return self.communes is None or (commune is not None and commune in self.communes)


def _statement(query: AuditQuery, scope: Scope, subjects: Sequence[str] | None) -> Select[Any]:
    table = AuditEntry.__table__  # type: ignore[attr-defined]
    statement = select(AuditEntry)
    if scope.communes is not None:
        statement = statement.where(table.c.commune.in_(sorted(scope.communes)))
    if subjects is not None:
        statement = statement.where(table.c.subject.in_(list(subjects)))
    if query.reference:
        named = f"request/{query.reference}"
        statement = statement.where(
            or_(table.c.resource == named, table.c.resource.startswith(named + "/", autoescape=True))
        )
    for name in ("commune", "service", "action", "outcome"):
        value = getattr(query, name)
        if value is not None:
            statement = statement.where(table.c[name] == value)
    if query.agent:
        statement = statement.where(table.c.actor_id == query.agent)
    if query.role:
        statement = statement.where(table.c.actor_role == query.role)
    if query.since:
        statement = statement.where(table.c.time >= query.since)
    if query.until:
        statement = statement.where(table.c.time < query.until)
    if query.before is not None:
        statement = statement.where(table.c.seq < query.before)
    if query.after is not None:
        statement = statement.where(table.c.seq > query.after)
    order = table.c.seq.asc() if query.order == "oldest" else table.c.seq.desc()
    return statement.order_by(order).limit(query.limit)


def search(
    session: Session, query: AuditQuery, scope: Scope, subjects: Sequence[str] | None = None
) -> list[AuditEntry]:
    """The entries matching ``query`` within ``scope``; ``subjects`` are the searched person's pseudonyms, if any."""
    if query.commune is not None and not scope.allows(query.commune):
        raise PermissionError(query.commune)
    return list(session.scalars(_statement(query, scope, subjects)))


def as_dict(entry: AuditEntry) -> dict[str, Any]:
    fields = decode(entry.encoded)
    return {"seq": entry.seq, **{key: value for key, value in fields.items() if key not in ("seq", "v")}}


@dataclass(frozen=True)
class Proof:
    checkpoint: str
    tree_size: int
    path: Sequence[str]


def proof_for(session: Session, entry: AuditEntry) -> Proof | None:
    """The entry's inclusion proof against the latest checkpoint covering it, if one does."""
    checkpoint = session.scalars(
        select(AuditCheckpoint).where(AuditCheckpoint.size > entry.seq).order_by(AuditCheckpoint.size.desc()).limit(1)  # type: ignore[arg-type,attr-defined]
    ).first()
    if checkpoint is None:
        return None
    prune = session.scalars(select(AuditPrune).order_by(AuditPrune.size.desc()).limit(1)).first()  # type: ignore[attr-defined]
    prefix = CompactRange.from_dict(prune.frontier) if prune else CompactRange()
    path = inclusion_proof(entry.seq, TiledLeaves(session, prefix, checkpoint.size))
    return Proof(checkpoint.note, checkpoint.size, [base64.b64encode(node).decode() for node in path])


def csv_rows(entries: list[AuditEntry]) -> list[list[str]]:
    header = ["seq", "time", "commune", "service", "actor_id", "actor_role", "action", "resource", "subject",
              "purpose", "origin", "outcome"]  # fmt: skip
    rows = [header]
    for entry in entries:
        values = [str(entry.seq), format_time(entry.time), *(str(getattr(entry, name) or "") for name in header[2:])]
        rows.append([defuse_cell(value) for value in values])
    return rows


def defuse_cell(value: str) -> str:
    """Keep spreadsheets from running a cell as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
