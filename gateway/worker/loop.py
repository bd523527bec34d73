"""The worker's loop: claim each due slot, run its job, record and log the run; until asked to stop.

A job that raises is recorded ``failed`` with its error and logged; the loop
goes on with the next job, and the failed one runs again at its next slot. A
fault of the database itself (unreachable, locked too long) is logged and the
claim tried again shortly. Asked to stop (:class:`threading.Event`), the loop
finishes the job in progress, records it, and returns.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gateway.db import Database
from gateway.settings.worker import Schedule
from gateway.worker.jobs import Counts, JobFunction
from gateway.worker.slots import Claim, claim, finish, next_slot, register_jobs

logger = logging.getLogger(__name__)

#: how soon to look again at a job that is due but held by another worker, or whose claim failed
RETRY_SECONDS = 1.0
#: looked at just after a slot begins, not just before
AFTER_BOUNDARY_SECONDS = 0.01


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RunResult:
    """One run as it was recorded."""

    claim: Claim
    outcome: str
    counts: Counts
    error: str | None
    seconds: float


def one_line(error: BaseException) -> str:
    """An error on one line: its type and message."""
    text = " ".join(str(error).split()) or "(no message)"
    return f"{type(error).__name__}: {text}"


def describe(result: RunResult) -> str:
    """The log line of a run."""
    slot = result.claim.slot.strftime("%Y-%m-%dT%H:%M:%SZ")
    head = f"worker: {result.claim.job} slot {slot} {result.outcome} in {result.seconds:.2f} s"
    if result.error:
        return f"{head}: {result.error}"
    return head + (" (" + ", ".join(f"{name} {value}" for name, value in result.counts.items()) + ")")


@dataclass
class Worker:
    """The jobs this process runs, on their schedules, against one database."""

    db: Database
    schedules: Sequence[Schedule]
    jobs: dict[str, JobFunction]
    worker_id: str
    hold_seconds: int
    clock: Callable[[], datetime] = utc_now
    #: called with each run once it is recorded (the CLI's --once prints them)
    on_run: Callable[[RunResult], None] | None = None
    _registered: bool = field(default=False, init=False)

    def run_due(self, stop: threading.Event | None = None) -> bool:
        """Run every job whose newest slot nobody claimed yet; True if one is due but could not be taken now."""
        if not self._registered:
            register_jobs(self.db, [schedule.job for schedule in self.schedules])
            self._registered = True
        retry_soon = False
        for schedule in self.schedules:
            if stop is not None and stop.is_set():
                break
            try:
                claimed = claim(
                    self.db,
                    schedule.job,
                    interval_seconds=schedule.interval_seconds,
                    worker=self.worker_id,
                    hold_seconds=self.hold_seconds,
                    now=self.clock(),
                )
            except Exception as error:  # the database unreachable or locked too long: try again shortly
                logger.error("worker: cannot claim %s: %s", schedule.job, one_line(error))
                retry_soon = True
                continue
            if isinstance(claimed, Claim):
                self._run(claimed)
            elif claimed in ("held", "busy"):
                retry_soon = True
        return retry_soon

    def _run(self, claimed: Claim) -> None:
        started = time.monotonic()
        try:
            counts, outcome, error = self.jobs[claimed.job](), "ok", None
        except Exception as failure:  # a failing job is recorded and tried again at its next slot
            counts, outcome, error = {}, "failed", one_line(failure)
        result = RunResult(claimed, outcome, counts, error, time.monotonic() - started)
        try:
            finish(self.db, claimed, outcome=outcome, counts=counts, error=error, now=self.clock())
        except Exception as failure:  # its hold expires by itself; the next claim marks it abandoned
            logger.error("worker: %s slot run but not recorded: %s", claimed.job, one_line(failure))
        (logger.info if outcome == "ok" else logger.error)(describe(result))
        if self.on_run is not None:
            self.on_run(result)

    def seconds_to_next_slot(self) -> float:
        """How long until the next slot of any job begins."""
        now = self.clock()
        return (
            min((next_slot(now, schedule.interval_seconds) - now).total_seconds() for schedule in self.schedules)
            + AFTER_BOUNDARY_SECONDS
        )

    def run_until(self, stop: threading.Event) -> None:
        """Run due slots as they come until ``stop`` is set; the job in progress is finished first."""
        names = ", ".join(f"{schedule.job} every {schedule.interval_seconds} s" for schedule in self.schedules)
        logger.info("worker %s started: %s", self.worker_id, names)
        while not stop.is_set():
            try:
                retry_soon = self.run_due(stop)
            except Exception as error:  # registering the jobs failed: the database is not there yet
                logger.error("worker: %s", one_line(error))
                retry_soon = True
            wait = self.seconds_to_next_slot()
            stop.wait(min(wait, RETRY_SECONDS) if retry_soon else wait)
        logger.info("worker %s stopped", self.worker_id)
