"""The worker's claims: a held job waits for its worker, a dead worker's hold expires, a locked row is skipped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from gateway.db import Database
from gateway.models import WorkerRun
from gateway.testing import TEST_DATABASE_ENV, fresh_postgres_schema, migrate, postgres_server_url, skip_or_fail
from gateway.worker.slots import ABANDONED, Claim, claim, finish, register_jobs, slot_of

T0 = datetime(2026, 12, 4, 10, 0, 3, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def db(guichet_database_url: str) -> Iterator[Database]:
    database = Database(guichet_database_url)
    register_jobs(database, ["expiry"])
    yield database
    database.dispose()


def take(db: Database, worker: str, now: datetime) -> Claim | str:
    return claim(db, "expiry", interval_seconds=60, worker=worker, hold_seconds=300, now=now)


def test_slots_are_multiples_of_the_interval_since_the_epoch() -> None:
    assert slot_of(T0, 60) == datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    assert slot_of(T0, 3600) == datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    assert slot_of(T0, 86_400) == datetime(2026, 12, 4, tzinfo=UTC)


def test_a_job_in_progress_is_not_started_again_until_its_run_is_recorded(db: Database) -> None:
    first = take(db, "a", T0)
    assert isinstance(first, Claim)
    assert take(db, "b", T0) == "done"  # the same slot
    assert take(db, "b", T0 + MINUTE) == "held"  # the next slot, while a still runs
    finish(db, first, outcome="ok", counts={}, error=None, now=T0 + MINUTE)
    second = take(db, "b", T0 + MINUTE + timedelta(seconds=1))
    assert isinstance(second, Claim) and second.after_slot == first.slot


def test_a_dead_workers_hold_expires_and_its_run_is_marked_abandoned(db: Database) -> None:
    assert isinstance(take(db, "dead", T0), Claim)
    assert take(db, "alive", T0 + 4 * MINUTE) == "held"
    late = take(db, "alive", T0 + 6 * MINUTE)  # past hold_seconds
    assert isinstance(late, Claim)
    with db.session() as session:
        runs = {run.worker: run for run in session.scalars(select(WorkerRun))}
    assert (runs["dead"].outcome, runs["dead"].error) == ("abandoned", ABANDONED)
    assert runs["alive"].outcome == "running"


def test_a_claim_skips_a_row_another_worker_is_claiming_instead_of_waiting() -> None:
    """PostgreSQL's SKIP LOCKED (on SQLite, BEGIN IMMEDIATE makes claims take turns instead)."""
    server = postgres_server_url()
    if server is None:
        skip_or_fail(f"PostgreSQL test skipped: {TEST_DATABASE_ENV} is not set")
    with fresh_postgres_schema(server) as url:
        migrate(url)
        db, other = Database(url), Database(url)
        try:
            register_jobs(db, ["expiry"])
            with other.engine.connect() as connection, connection.begin():
                connection.execute(text("SELECT name FROM worker_job WHERE name = 'expiry' FOR UPDATE"))
                assert take(db, "b", T0) == "busy"
            assert isinstance(take(db, "b", T0), Claim)
        finally:
            db.dispose()
            other.dispose()
