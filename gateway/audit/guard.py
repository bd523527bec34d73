"""The one way rows leave the audit tables: retention's deletion of a sealed prefix.

Migration 0006 makes ``audit_entry``, ``audit_checkpoint``, ``audit_prune`` and
``audit_tile`` refuse UPDATE and DELETE. On PostgreSQL retention calls the
SECURITY DEFINER function ``audit_prune_prefix``, which runs as the tables'
owner and only removes a prefix below a checkpoint while recording a signed
prune row; the gateway's role, owning none of the tables, can neither delete
nor drop the guards. SQLite has no roles: the deletion opens a window (a row
in ``audit_retention_window``) inside its own transaction, which keeps
mistakes out but not a person holding the file — witnesses answer that.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlmodel import Session

from gateway.models import AuditPrune

_PREPARER = postgresql.dialect().identifier_preparer  # type: ignore[no-untyped-call]

GUARDED = ("audit_entry", "audit_checkpoint", "audit_prune", "audit_tile", "audit_cosignature")


def delete_prefix(session: Session, record: AuditPrune) -> None:
    """Record ``record`` and delete the entries (and full tiles) below ``record.size``, in ``session``'s transaction."""
    values = {
        "size": record.size,
        "frontier": json.dumps(record.frontier),
        "note": record.note,
        "archive": record.archive,
        "sha": record.archive_sha256,
        "created": record.created_at,
    }
    if session.get_bind().dialect.name == "postgresql":
        query = "SELECT audit_prune_prefix(:size, CAST(:frontier AS json), :note, :archive, :sha, :created)"
        session.execute(text(query), values)
        return
    session.execute(text("INSERT INTO audit_retention_window (opened_by) VALUES ('retention')"))
    session.add(record)
    session.flush()
    session.execute(text("DELETE FROM audit_entry WHERE seq < :size"), {"size": record.size})
    session.execute(
        text("DELETE FROM audit_tile WHERE (idx + 1) * (1 << (8 * (level + 1))) <= :size"), {"size": record.size}
    )
    session.execute(text("DELETE FROM audit_retention_window"))


def _quoted(identifier: str) -> str:
    """A role or schema name as a PostgreSQL identifier, quoted by SQLAlchemy's own preparer."""
    return _PREPARER.quote_identifier(identifier)


def grant_statements(role: str, *, retention: bool = True) -> list[str]:
    """What the owner grants the gateway's role on the audit tables (PostgreSQL): read, append, move the head, prune.

    The role gets no UPDATE or DELETE on the guarded tables and owns none of
    them, so it cannot drop or disable their triggers. Without ``retention``
    only a separate role (given EXECUTE) can prune.
    """
    quoted = _quoted(role)
    statements = [f"GRANT SELECT, INSERT ON {table} TO {quoted}" for table in GUARDED]
    statements.append(f"GRANT SELECT, UPDATE ON audit_head TO {quoted}")
    if retention:
        statements.append(
            "GRANT EXECUTE ON FUNCTION audit_prune_prefix(bigint, json, text, text, text, timestamptz) TO " + quoted
        )
    return statements


def gateway_role_statements(role: str, schema: str, tables: Iterable[str], *, retention: bool = True) -> list[str]:
    """Everything a gateway role that owns nothing needs, run by the owner after each migration (PostgreSQL).

    The schema's use, reading and writing every table of ``tables`` but the
    audit log's, its sequences, reading the migration mark, and
    :func:`grant_statements` on the audit tables.
    """
    quoted = _quoted(role)
    audit = {*GUARDED, "audit_head"}
    plain = sorted(table for table in tables if table not in audit)
    return [
        f"GRANT USAGE ON SCHEMA {_quoted(schema)} TO {quoted}",
        *(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {quoted}" for table in plain),
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {_quoted(schema)} TO {quoted}",
        f"GRANT SELECT ON alembic_version TO {quoted}",
        *grant_statements(role, retention=retention),
    ]
