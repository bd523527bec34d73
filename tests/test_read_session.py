"""Read sessions: they never wait for a writer, and they never write."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import func, select

from gateway.audit.builders import request_event
from gateway.audit.events import ANONYMOUS
from gateway.audit.log import record
from gateway.db import DATABASE_THREADS, Database, ReadOnlySession
from gateway.models import ReferenceCounter
from gateway.testing import migrate

COMMUNE = "venissieux"


@pytest.fixture
def db(guichet_database_url: str) -> Iterator[Database]:
    database = Database(guichet_database_url)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'guichet.db'}"
    migrate(url)
    database = Database(url)
    yield database
    database.dispose()


def _counters(db: Database) -> int:
    with db.read_session(commune=COMMUNE) as session:
        return int(session.exec(select(func.count()).select_from(ReferenceCounter)).one())


def test_a_sqlite_database_is_in_wal_mode(sqlite_db: Database) -> None:
    with sqlite_db.read_session() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"


def test_a_read_session_reads_while_another_thread_holds_the_write_lock(sqlite_db: Database) -> None:
    with sqlite_db.session(commune=COMMUNE) as session:
        session.add(ReferenceCounter(commune=COMMUNE, prefix="A", year=2026, last=1))
    writing, read_done = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            with sqlite_db.session(commune=COMMUNE) as session:  # BEGIN IMMEDIATE: holds the write lock
                session.add(ReferenceCounter(commune=COMMUNE, prefix="B", year=2026, last=1))
                session.flush()
                writing.set()
                read_done.wait(timeout=30)
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)
            writing.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert writing.wait(timeout=30)
        # were the read to ask for the write lock, it would wait out the busy timeout and fail "database is locked"
        seen = _counters(sqlite_db)
    finally:
        read_done.set()
        thread.join()
    assert not failures
    assert seen == 1  # the committed row, not the writer's uncommitted one
    assert _counters(sqlite_db) == 2


def test_a_read_session_refuses_to_flush_a_write(db: Database) -> None:
    with pytest.raises(ReadOnlySession), db.read_session(commune=COMMUNE) as session:
        session.add(ReferenceCounter(commune=COMMUNE, prefix="A", year=2026, last=1))
        session.flush()
    assert _counters(db) == 0


def test_the_database_refuses_a_write_sent_around_the_orm_in_a_read_session(db: Database) -> None:
    table = ReferenceCounter.__table__  # type: ignore[attr-defined]
    with pytest.raises(DBAPIError), db.read_session(commune=COMMUNE) as session:
        session.execute(insert(table).values(commune=COMMUNE, prefix="A", year=2026, last=1))
    assert _counters(db) == 0


def test_an_audit_entry_queued_on_a_read_session_fails_the_session_instead_of_being_dropped(db: Database) -> None:
    event = request_event("request.read", ANONYMOUS, commune=COMMUNE, service="contact", resource="request/X",
                          subject=None, purpose="tests", origin="tests", outcome="success")  # fmt: skip
    with pytest.raises(ReadOnlySession, match="queued on a read session"), db.read_session(commune=COMMUNE) as session:
        record(session, event)


def test_every_database_thread_has_a_connection_in_each_pool(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'pool.db'}")
    try:
        for engine in (db.engine, db.read_engine):
            assert engine.pool.size() == DATABASE_THREADS  # type: ignore[attr-defined]
            assert engine.pool._max_overflow == DATABASE_THREADS  # type: ignore[attr-defined]
    finally:
        db.dispose()
