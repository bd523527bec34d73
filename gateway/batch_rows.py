"""Rows a batch inserts at its commit, one multi-row statement per table, instead of one flush per member.

In a batch (:mod:`gateway.group_commit`) each member's rows used to be
flushed by the ORM inside its savepoint, one statement each (on PostgreSQL a
round trip each). The rows nothing reads before the commit and nothing can
refuse for one member alone — a filing's history line and its receipt — are
queued here instead, as pending work of the member (:func:`gateway.db.savepoint`
drops them with a member rolled back), and a commit hook inserts every
surviving member's rows with one executemany per table (SQLAlchemy's
"insertmanyvalues": a few multi-row INSERTs on PostgreSQL).

What the flush would have refused is refused when the row is queued, in the
member's savepoint: a row of another commune than the member's scope (the
same check as :func:`gateway.db._refuse_foreign_rows`), a missing required
value, a string longer than its column. Outside a batch the row is simply
added to the session.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Table, insert
from sqlmodel import Session, SQLModel

from gateway.db import BATCH_KEY, connection_of, on_commit, pending_work, refuse_foreign_row, take_pending_work

#: the kind of pending work (:func:`gateway.db.pending_work`) holding the rows to insert at commit
ROWS_KIND = "rows at commit"


def add_at_commit(session: Session, row: SQLModel) -> bool:
    """Add ``row`` (nothing needs its id before the commit); True: queued for the batch's insert, False: added now.

    A queued row stays a plain object: it is not in the session, and gets no id.
    """
    if not session.info.get(BATCH_KEY):
        session.add(row)
        return False
    table: Table = row.__table__  # type: ignore[attr-defined]
    rules = _rules(table)
    values = {key: getattr(row, key) for key, _nullable, _length in rules}
    _check(session, row, table, rules, values)
    pending_work(session, ROWS_KIND).append((table, values))
    return True


@functools.cache
def _rules(table: Table) -> tuple[tuple[str, bool, int | None], ...]:
    """What an insert into ``table`` sets and what the flush would check of it, per column, worked out once.

    Every column but an autoincremented primary key: its key, whether it may
    be empty, and the longest string it takes (None: no limit).
    """
    return tuple(
        (column.key, bool(column.nullable), getattr(column.type, "length", None))
        for column in table.columns
        if not (column.primary_key and column.autoincrement)
    )


def _check(
    session: Session,
    row: SQLModel,
    table: Table,
    rules: tuple[tuple[str, bool, int | None], ...],
    values: dict[str, Any],
) -> None:
    refuse_foreign_row(session, row, values.get("commune"))
    for key, nullable, length in rules:
        value = values[key]
        if value is None and not nullable:
            raise ValueError(f"{table.name}.{key} may not be empty")
        if length is not None and isinstance(value, str) and len(value) > length:
            raise ValueError(f"{table.name}.{key} must be at most {length} characters long")


@on_commit
def insert_rows_at_commit(session: Session) -> None:
    """Insert the batch's queued rows: one executemany per table, in the order the tables were first used."""
    by_table: dict[Table, list[dict[str, Any]]] = {}
    for table, values in take_pending_work(session, ROWS_KIND):
        by_table.setdefault(table, []).append(values)
    for table, rows in by_table.items():
        connection_of(session).execute(insert(table), rows)
