"""The ``[worker]`` section: which background jobs ``guichet worker`` runs, and how often.

Each job has a sub-section (``[worker.outbox]``, ``[worker.checkpoint]``...)
with ``interval_seconds`` and ``enabled``; a key left out keeps the job's
default (:data:`DEFAULT_INTERVALS`). Slots are multiples of the interval since
the epoch (UTC), so every worker process, on every machine, agrees on them.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from gateway.settings.base import Strict

#: the longest interval accepted: a week
MAX_INTERVAL = 7 * 24 * 3600

#: each job's interval when the configuration names none, in the order a worker runs them
DEFAULT_INTERVALS = {
    "outbox": 10,
    "checkpoint": 60,
    "retention": 3600,
    "audit_prune": 86_400,
    "expiry": 600,
}


class JobSection(Strict):
    """One job's schedule; ``interval_seconds`` unset: the job's default."""

    enabled: bool = True
    interval_seconds: int | None = Field(default=None, ge=1, le=MAX_INTERVAL)


@dataclass(frozen=True)
class Schedule:
    """A job's schedule with its default filled in."""

    job: str
    enabled: bool
    interval_seconds: int


class WorkerSection(Strict):
    """The background jobs' schedule (docs/operations.md, « Background work »)."""

    #: deliver the outbox over SMTP (`guichet outbox deliver`)
    outbox: JobSection = JobSection()
    #: seal an audit checkpoint when [audit] says one is due, and send it to the witnesses (`guichet audit checkpoint`)
    checkpoint: JobSection = JobSection()
    #: delete what is kept no longer (`guichet retention run`)
    retention: JobSection = JobSection()
    #: remove audit entries past audit.retention_months, archived first (`guichet audit prune`)
    audit_prune: JobSection = JobSection()
    #: forget expired sessions, spent sign-in states, throttle and refusal counters
    expiry: JobSection = JobSection()
    #: a run keeps other workers off its job this long at most: a worker that died mid-run delays the job no longer
    hold_seconds: int = Field(default=600, ge=10, le=MAX_INTERVAL)

    def schedules(self) -> list[Schedule]:
        """Every job's schedule, in the order a worker runs them."""
        sections: dict[str, JobSection] = {
            "outbox": self.outbox,
            "checkpoint": self.checkpoint,
            "retention": self.retention,
            "audit_prune": self.audit_prune,
            "expiry": self.expiry,
        }
        return [
            Schedule(job, sections[job].enabled, sections[job].interval_seconds or default)
            for job, default in DEFAULT_INTERVALS.items()
        ]

    def schedule(self, job: str) -> Schedule:
        return next(schedule for schedule in self.schedules() if schedule.job == job)
