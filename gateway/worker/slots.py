"""The schedule's slots, each claimed by exactly one worker process, and the record of every run.

A job run every ``I`` seconds has a slot every ``I`` seconds since the epoch
(UTC), so every process on every machine agrees on them (keep the clocks in
sync with NTP). A worker claims the newest slot that has begun, in one short
transaction on the job's ``worker_job`` row:

- the row is read ``FOR UPDATE SKIP LOCKED`` on PostgreSQL: a second worker
  claiming at the same moment skips it instead of waiting, and finds the slot
  taken when it looks again; on SQLite the transaction starts with
  ``BEGIN IMMEDIATE`` (:mod:`gateway.db`), so claims are taken in turn;
- the slot is taken only if it is newer than ``last_slot`` and no live
  worker holds the job (a run in progress); ``last_slot`` moves to it, the
  job is held for ``hold_seconds`` and a ``worker_run`` row says ``running``.
  That row is unique per (job, slot): a slot cannot be run twice.

A run covers every slot after the previous claim up to its own
(``after_slot``, ``slot``]: when every worker was stopped, or a run outlasted
the interval, the slots that passed meanwhile are covered once by the next
run rather than run one after another. No slot is left uncovered, none is
covered twice. The hold ends when the run is recorded; a worker that died
mid-run holds its job until ``hold_seconds`` have passed, and its run is then
marked ``abandoned`` by the next claim.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from gateway.db import Database
from gateway.models import WorkerJob, WorkerRun

JOB = WorkerJob.__table__  # type: ignore[attr-defined]
RUN = WorkerRun.__table__  # type: ignore[attr-defined]
ABANDONED = "its worker stopped before recording an outcome"
ERROR_MAX = 500
#: runs are recorded this long (``guichet worker status`` shows the latest), then forgotten by the expiry job
RUNS_KEPT = timedelta(days=30)

#: why no slot was claimed: the newest was already claimed; a live worker runs the job; another worker is claiming
Refusal = Literal["done", "held", "busy"]


@dataclass(frozen=True)
class Claim:
    """A slot this worker took: the ``worker_run`` row to finish, and the slots the run covers."""

    run_id: int
    job: str
    slot: datetime
    after_slot: datetime | None
    worker: str


def aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes: they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def slot_of(moment: datetime, interval_seconds: int) -> datetime:
    """The start of the slot ``moment`` falls in."""
    seconds = int(moment.timestamp()) // interval_seconds * interval_seconds
    return datetime.fromtimestamp(seconds, UTC)


def next_slot(moment: datetime, interval_seconds: int) -> datetime:
    """The start of the slot after the one ``moment`` falls in."""
    return slot_of(moment, interval_seconds) + timedelta(seconds=interval_seconds)


def register_jobs(db: Database, names: list[str]) -> None:
    """Make sure each job has its ``worker_job`` row (two workers starting at once both may try)."""
    if not names:
        return
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(JOB).values([{"name": name} for name in names]).on_conflict_do_nothing()
    with db.session() as session:
        session.execute(statement)


def claim(
    db: Database, job: str, *, interval_seconds: int, worker: str, hold_seconds: int, now: datetime
) -> Claim | Refusal:
    """Take the newest begun slot of ``job`` for ``worker``, or say why not (see the module's docstring)."""
    slot = slot_of(now, interval_seconds)
    with db.session() as session:
        row = session.execute(
            select(JOB.c.last_slot, JOB.c.held_by, JOB.c.held_until)
            .where(JOB.c.name == job)
            .with_for_update(skip_locked=True)
        ).first()
        if row is None:
            return "busy"
        last_slot = aware(row.last_slot) if row.last_slot is not None else None
        if last_slot is not None and last_slot >= slot:
            return "done"
        if row.held_by is not None and row.held_until is not None and aware(row.held_until) > now:
            return "held"
        session.execute(
            update(RUN)
            .where(RUN.c.job == job, RUN.c.outcome == "running")
            .values(outcome="abandoned", finished_at=now, error=ABANDONED)
        )
        session.execute(
            update(JOB)
            .where(JOB.c.name == job)
            .values(last_slot=slot, held_by=worker, held_until=now + timedelta(seconds=hold_seconds))
        )
        values = {"job": job, "slot": slot, "after_slot": last_slot, "worker": worker, "started_at": now}
        run_id = session.execute(insert(RUN).values(outcome="running", **values).returning(RUN.c.id)).scalar_one()
    return Claim(int(run_id), job, slot, last_slot, worker)


def finish(
    db: Database, claim: Claim, *, outcome: str, counts: dict[str, int], error: str | None, now: datetime
) -> None:
    """Record how the run ended and release the job for the next slot."""
    with db.session() as session:
        session.execute(
            update(RUN)
            .where(RUN.c.id == claim.run_id)
            .values(outcome=outcome, finished_at=now, counts=json.dumps(counts), error=error and error[:ERROR_MAX])
        )
        session.execute(
            update(JOB)
            .where(JOB.c.name == claim.job, JOB.c.held_by == claim.worker)
            .values(held_by=None, held_until=None)
        )


def forget_old_runs(db: Database, *, now: datetime) -> int:
    """Delete the finished runs older than :data:`RUNS_KEPT`; how many went."""
    old = (RUN.c.started_at < now - RUNS_KEPT) & (RUN.c.outcome != "running")
    with db.session() as session:
        found = int(session.execute(select(func.count()).select_from(RUN).where(old)).scalar_one())
        if found:
            session.execute(delete(RUN).where(old))
    return found
