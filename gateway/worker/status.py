"""What ``guichet worker status`` prints: each job's schedule, last run and next due time, then the last runs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from gateway.db import Database
from gateway.settings.worker import Schedule
from gateway.worker.slots import JOB, RUN, aware

TIME = "%Y-%m-%d %H:%M:%S"


def _when(moment: datetime | None) -> str:
    return aware(moment).strftime(TIME) if moment is not None else "-"


def _took(started: datetime, finished: datetime | None) -> str:
    return f"{(aware(finished) - aware(started)).total_seconds():.2f} s" if finished is not None else "-"


def _what(counts: str | None, error: str | None) -> str:
    if error:
        return error
    values = json.loads(counts) if counts else {}
    return ", ".join(f"{name} {value}" for name, value in values.items())


def status_lines(db: Database, schedules: Sequence[Schedule], *, now: datetime, last: int = 10) -> list[str]:
    """The table of jobs (times in UTC), then the ``last`` most recent runs, newest first."""
    with db.read_session() as session:
        jobs = {row.name: row for row in session.execute(select(JOB))}
        runs = session.execute(select(RUN).order_by(RUN.c.started_at.desc(), RUN.c.id.desc()).limit(last)).all()
        latest = {
            schedule.job: session.execute(
                select(RUN).where(RUN.c.job == schedule.job).order_by(RUN.c.slot.desc()).limit(1)
            ).first()
            for schedule in schedules
        }
    lines = [f"{'job':<12} {'every':>8}  {'last run (UTC)':<19}  {'outcome':<9} {'took':>8}  next due (UTC)"]
    for schedule in schedules:
        run, job = latest[schedule.job], jobs.get(schedule.job)
        if not schedule.enabled:
            next_due = "disabled"
        elif job is None or job.last_slot is None:
            next_due = "now (never run)"
        else:
            due = aware(job.last_slot) + timedelta(seconds=schedule.interval_seconds)
            next_due = "now" if due <= now else due.strftime(TIME)
        started, outcome = (_when(run.started_at), run.outcome) if run else ("never", "-")
        took = _took(run.started_at, run.finished_at) if run else "-"
        lines.append(
            f"{schedule.job:<12} {schedule.interval_seconds:>6} s  {started:<19}  {outcome:<9} {took:>8}  {next_due}"
        )
    lines.append("")
    lines.append(f"last {len(runs)} run(s):" if runs else "no run recorded yet")
    for run in runs:
        lines.append(
            f"  {_when(run.started_at)}  {run.job:<12} {run.outcome:<9} {_took(run.started_at, run.finished_at):>8}"
            f"  {_what(run.counts, run.error)}  [{run.worker}]"
        )
    return lines
