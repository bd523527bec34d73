"""The background worker's schedule and its record of runs, shared by every worker process.

``worker_job`` holds one row per job: the last slot claimed and who holds the job
while it runs. A worker claims a slot by locking that row (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL; SQLite's write lock, taken at ``BEGIN IMMEDIATE``,
serialises the claim) and moving ``last_slot`` forward, so two workers never
claim the same slot. ``worker_run`` keeps one row per run, unique per
(job, slot): what operators read with ``guichet worker status``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def _when(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable))


class WorkerJob(SQLModel, table=True):
    """A scheduled job: the last slot some worker claimed, and the hold of the worker running it."""

    __tablename__ = "worker_job"

    name: str = Field(primary_key=True, max_length=40)
    #: the start of the newest slot claimed (slots are multiples of the interval since the epoch, UTC)
    last_slot: datetime | None = _when(nullable=True)
    #: the worker running the job now, and until when its hold keeps others away (a dead worker's expires)
    held_by: str | None = Field(default=None, max_length=200)
    held_until: datetime | None = _when(nullable=True)


class WorkerRun(SQLModel, table=True):
    """One run of a job: the slots it covers, who ran it, how it ended and what it did."""

    __tablename__ = "worker_run"
    __table_args__ = (UniqueConstraint("job", "slot", name="uq_worker_run_job_slot"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=40, index=True)
    #: the slot run; the run covers every slot after ``after_slot`` up to this one (None: the job's first run)
    slot: datetime = _when()
    after_slot: datetime | None = _when(nullable=True)
    worker: str = Field(max_length=200)
    started_at: datetime = _when()
    finished_at: datetime | None = _when(nullable=True)
    #: running, ok, failed, or abandoned (its worker stopped before recording an outcome)
    outcome: str = Field(max_length=10)
    #: what the job did, as JSON: {"sent": 2, "retried": 0, ...}
    counts: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
