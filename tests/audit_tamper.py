"""Tampering with the audit tables as their owner would: the append-only guards lifted for one transaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, text

from gateway.audit.checkpoint import Signer
from gateway.audit.events import AuditEvent, decode, parse_time
from gateway.audit.guard import GUARDED
from gateway.audit.log import record
from gateway.audit.merkle import CompactRange, leaf_hash
from gateway.audit.sealing import seal
from gateway.audit.verify import SEARCHABLE
from gateway.db import Database
from gateway.models import AuditCheckpoint, AuditEntry, AuditHead

ENTRY = AuditEntry.__table__  # type: ignore[attr-defined]


@contextmanager
def unguarded(db: Database) -> Iterator[Connection]:
    """A connection on which the guards are off (PostgreSQL: disabled; SQLite: dropped, then put back)."""
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            for table in GUARDED:
                connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            yield connection
            for table in GUARDED:
                connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
            return
        triggers = connection.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name LIKE 'audit_%'")
        ).all()  # fmt: skip
        for name, _ in triggers:
            connection.execute(text(f"DROP TRIGGER {name}"))
        yield connection
        for _, sql in triggers:
            connection.execute(text(sql))


def tamper(db: Database, *statements: str, **parameters: Any) -> None:
    """Run SQL statements with the guards off, as someone with the database owner's rights could."""
    with unguarded(db) as connection:
        for statement in statements:
            connection.execute(text(statement), parameters)


def read_log(db: Database) -> list[dict[str, Any]]:
    """The sealed fields of every entry, in order."""
    with db.engine.connect() as connection:
        texts = connection.execute(text("SELECT encoded FROM audit_entry ORDER BY seq")).scalars().all()
    return [decode(encoded) for encoded in texts]


def forge_log(db: Database, entries: list[dict[str, Any]]) -> None:
    """Replace the whole log by ``entries``, renumbered, re-hashed and re-chained, ``audit_head`` and tiles rewritten:
    the best a database owner without the signing key can do."""
    frontier = CompactRange()
    rows = []
    for seq, fields in enumerate(entries):
        sealed = {**fields, "seq": seq}
        encoded = json.dumps(sealed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        leaf = leaf_hash(encoded.encode())
        frontier.append(leaf)
        columns = {name: sealed.get(name) for name in SEARCHABLE}
        rows.append({**columns, "seq": seq, "time": parse_time(sealed["time"]), "encoded": encoded,
                     "leaf_hash": leaf, "root_after": frontier.root()})  # fmt: skip
    head = AuditHead.__table__  # type: ignore[attr-defined]
    with unguarded(db) as connection:
        connection.execute(text("DELETE FROM audit_entry"))
        connection.execute(text("DELETE FROM audit_tile"))
        if rows:
            connection.execute(ENTRY.insert(), rows)
        connection.execute(head.update().values(size=frontier.size, frontier=frontier.to_dict()))


def grow_and_seal(db: Database, signer: Signer, origin: str, sealed: Callable[[AuditCheckpoint], object]) -> None:
    """12 entries, checkpoints at 8 and 12 (each handed to ``sealed``); then 12 deleted from the database."""
    for number in range(12):
        with db.session() as session:
            event = AuditEvent(action="request.read", actor_id=f"agent:{number}", actor_role="agent",
                               resource=f"request/{number}", purpose="instruction", origin="cli test")  # fmt: skip
            record(session, event)
        if number in (7, 11):
            sealed(seal(db, signer, origin))
    tamper(db, "DELETE FROM audit_checkpoint WHERE size = 12")
