"""Reading and writing requests, always within one commune's session.

The session handed in is bound to a commune (:meth:`gateway.db.Database.session`),
so every query here is filtered on that commune by the database layer too.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from sqlalchemy import Insert, bindparam, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col, select

from gateway.db import SCOPE_KEY, connection_of, count_in_batch, on_commit, refuse_foreign_row, uses_to_add
from gateway.models import ReferenceCounter, ServiceRequest

_TABLE = ServiceRequest.__table__  # type: ignore[attr-defined]
#: every column but the id the database gives
_INSERTED = tuple(column.key for column in _TABLE.columns if column.key != "id")
_INSERT_REQUEST = insert(_TABLE)


class RequestStore:
    def __init__(self, session: Session) -> None:
        commune = session.info.get(SCOPE_KEY)
        if commune is None:
            raise ValueError("a RequestStore needs a session opened for one commune")
        self.session = session
        self.commune: str = commune

    def get(self, reference: str) -> ServiceRequest | None:
        return self.session.exec(select(ServiceRequest).where(ServiceRequest.reference == reference)).first()

    def by_submission_key(self, key: str) -> ServiceRequest | None:
        return self.session.exec(select(ServiceRequest).where(ServiceRequest.submission_key == key)).first()

    def list(self, *, service: str | None = None, limit: int = 100) -> Sequence[ServiceRequest]:
        query = select(ServiceRequest).order_by(col(ServiceRequest.created_at).desc(), col(ServiceRequest.id).desc())
        if service is not None:
            query = query.where(ServiceRequest.service == service)
        return self.session.exec(query.limit(limit)).all()

    def next_sequence(self, *, prefix: str, year: int) -> int:
        """Take the next number for (commune, prefix, year) in one atomic statement."""
        return next_number(self.session, self.commune, prefix=prefix, year=year)

    def insert_new(self, row: ServiceRequest) -> None:
        """Insert a new request with one Core statement; ``row`` stays in the session as the stored row.

        The ORM's unit of work for one new object was a tenth of a batched
        filing's time; the statement, built once, is a fraction of it. What
        the flush checks is checked here: the row's commune (the session's),
        and the database refuses a used submission key (``IntegrityError``) as
        it would at the flush. Later changes to ``row`` are flushed as updates.
        """
        refuse_foreign_row(self.session, row, row.commune)
        values = {key: getattr(row, key) for key in _INSERTED}
        result = connection_of(self.session).execute(_INSERT_REQUEST, values)
        key = result.inserted_primary_key
        assert key is not None
        row.id = int(key[0])
        make_transient_to_detached(row)  # as if loaded: no history, the identity of its new id
        self.session.add(row)

    def add(self, row: ServiceRequest) -> ServiceRequest:
        self.session.add(row)
        self.session.flush()
        return row


def next_number(session: Session, commune: str, *, prefix: str, year: int) -> int:
    """Take the next number of ``commune``'s (prefix, year) counter, counted with the batch ``session`` is in.

    Another commune than the session's is numbered only for a linked request
    (:mod:`gateway.requests.linked`): its number must be counted in the same
    batch as that commune's own filings, or two members would get one number.
    """
    statement = _next_number(session.get_bind().dialect.name)
    params = {"counter_commune": commune, "counter_prefix": prefix, "counter_year": year}

    def counted() -> tuple[int, None]:
        return int(connection_of(session).execute(statement, params).scalar_one()), None

    number, _ = count_in_batch(session, NUMBERS_KIND, (commune, prefix, year), counted)
    return number


#: the kind of pending work (:func:`gateway.db.pending_work`) holding a batch's reference numbers
NUMBERS_KIND = "reference numbers"


@on_commit
def add_batched_numbers(session: Session) -> None:
    """Move each counter past the numbers a batch gave without writing (:func:`gateway.db.count_in_batch`)."""
    rows = [
        {"counter_commune": commune, "counter_prefix": prefix, "counter_year": year, "added": added}
        for (commune, prefix, year), added in sorted(uses_to_add(session, NUMBERS_KIND).items())
    ]
    if rows:
        connection_of(session).execute(_ADD_NUMBERS, rows)


_COUNTERS = ReferenceCounter.__table__  # type: ignore[attr-defined]
#: built once: a statement built per commit cost more than running it
_ADD_NUMBERS = (
    update(_COUNTERS)
    .where(
        _COUNTERS.c.commune == bindparam("counter_commune"),
        _COUNTERS.c.prefix == bindparam("counter_prefix"),
        _COUNTERS.c.year == bindparam("counter_year"),
    )
    .values(last=_COUNTERS.c.last + bindparam("added"))
)


@functools.cache
def _next_number(dialect: str) -> Insert:
    """The reference counter's upsert, built once per dialect (building it cost more than running it)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = ReferenceCounter.__table__  # type: ignore[attr-defined]
    statement: Insert = (
        insert(table)
        .values(
            commune=bindparam("counter_commune"),
            prefix=bindparam("counter_prefix"),
            year=bindparam("counter_year"),
            last=1,
        )
        .on_conflict_do_update(index_elements=["commune", "prefix", "year"], set_={"last": table.c.last + 1})
        .returning(table.c.last)
    )
    return statement
