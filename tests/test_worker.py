"""``guichet worker``: each job runs through it, a failing job is recorded and retried, the schedule is checked.

The processes test (two workers on one database) is in tests/test_worker_processes.py.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select, text
from sqlmodel import SQLModel

from gateway import stored_files
from gateway.app import load_registry
from gateway.audit.events import AuditEvent
from gateway.audit.log import append
from gateway.cli import main
from gateway.db import Database
from gateway.identity.sessions import expire_sessions
from gateway.identity.spent_states import forget_expired
from gateway.models import (
    AuditCheckpoint,
    AuditEntry,
    LoginThrottle,
    OutboxMessage,
    RefusalCount,
    SpentOidcState,
    UserSession,
    WorkerRun,
)
from gateway.notify.outbox import enqueue
from gateway.requests import attachments
from gateway.settings import load_settings
from gateway.testing import ConfigFolder
from gateway.worker.jobs import build_jobs
from gateway.worker.loop import Worker
from gateway.worker.slots import aware
from tests.test_outbox_delivery import SmtpServer

NOW = datetime.now(UTC)
LONG_AGO = NOW - timedelta(days=800)
ORPHAN = "ab" + "0" * 38
ALL_JOBS = ["outbox", "checkpoint", "retention", "audit_prune", "expiry"]


def run(config: ConfigFolder, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config.path), *args], catch_exceptions=False)


@pytest.fixture
def deployment(guichet_config: ConfigFolder, guichet_database_url: str) -> ConfigFolder:
    guichet_config.set_gateway(
        database={"url": guichet_database_url},
        audit={"checkpoint_every_entries": 1},
        worker={"outbox": {"enabled": True}},
    )
    return guichet_config


@pytest.fixture
def db(deployment: ConfigFolder, guichet_database_url: str) -> Iterator[Database]:
    database = Database(guichet_database_url)
    yield database
    database.dispose()


def runs(db: Database, job: str | None = None) -> list[WorkerRun]:
    with db.session() as session:
        query = select(WorkerRun).order_by(WorkerRun.slot)  # type: ignore[arg-type]
        if job is not None:
            query = query.where(WorkerRun.job == job)  # type: ignore[arg-type]
        return list(session.scalars(query))


def audit_event(resource: str) -> AuditEvent:
    return AuditEvent(action="request.read", actor_id="agent:1", actor_role="agent", resource=resource,
                      purpose="instruction", origin="cli test", commune="givors")  # fmt: skip


def seed_work(db: Database) -> None:
    """Something for every job: a message to send, old and new audit entries, an orphan file, dead rows."""
    with db.session() as session:
        session.add(WorkerRun(job="expiry", slot=LONG_AGO, worker="gone", started_at=LONG_AGO, outcome="ok"))
        enqueue(session, kind="test", dedupe_key="worker-1", recipient="camille@example.org", subject="Bonjour",
                body="Votre demande est reçue.", domain="guichet.example", now=NOW - timedelta(minutes=1))  # fmt: skip
    for day, moment in enumerate((LONG_AGO, LONG_AGO + timedelta(days=1), NOW)):
        with db.session() as session:
            append(session, [audit_event(f"request/{day}")], now=moment)
    with db.session() as session:
        stored_files.put(session, ORPHAN, b"left behind", kind=attachments.KIND)
    seen = datetime.now(UTC)  # not the module's NOW: a long run would leave the "live" session idle too long
    with db.session() as session:
        for name, expires in (("dead", seen - timedelta(hours=1)), ("live", seen + timedelta(hours=1))):
            session.add(UserSession(id_hash=name.ljust(64, "0"), kind="citizen", created_at=seen, last_seen_at=seen,
                                    expires_at=expires, authenticated_at=seen))  # fmt: skip
            session.add(SpentOidcState(state_hash=name.ljust(64, "0"), expires_at=expires))
        session.add(LoginThrottle(key="address:192.0.2.7", failures=3, window_started_at=NOW - timedelta(days=3)))
        session.add(RefusalCount(kind="access.csrf-refused", origin="web 192.0.2.7", minute=LONG_AGO, count=2))


def count(db: Database, model: type[SQLModel]) -> int:
    with db.session(all_communes=True) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_every_job_runs_through_the_worker(deployment: ConfigFolder, db: Database) -> None:
    with SmtpServer() as smtp:
        deployment.set_gateway(smtp={"host": "127.0.0.1", "port": smtp.port})
        seed_work(db)
        result = run(deployment, "worker", "--once")
        assert result.exit_code == 0, result.output
        assert len(smtp.handler.received) == 1
    recorded = {run.job: run for run in runs(db)}
    assert sorted(recorded) == sorted(ALL_JOBS)
    assert {run.outcome for run in recorded.values()} == {"ok"}
    counts = {job: json.loads(run.counts or "{}") for job, run in recorded.items()}
    assert counts["outbox"] == {"sent": 1, "retried": 0, "failed": 0, "deferred": 0}
    assert counts["checkpoint"]["sealed"] == 1
    assert counts["retention"]["orphans_deleted"] == 1
    assert counts["audit_prune"] == {"removed": 2}
    assert (counts["expiry"]["sessions"], counts["expiry"]["spent_states"], counts["expiry"]["worker_runs"]) == (
        1,
        1,
        1,
    )
    # retention prunes the counters too (for those who run it alone, from cron): here it came first
    assert counts["expiry"]["throttles"] + counts["retention"]["throttles_deleted"] == 1
    assert counts["expiry"]["refusal_counts"] + counts["retention"]["refusal_counts_deleted"] == 1
    with db.session() as session:
        assert session.get(OutboxMessage, 1).sent_at is not None  # type: ignore[union-attr]
        assert [row.id_hash[:4] for row in session.scalars(select(UserSession))] == ["live"]
        assert [row.state_hash[:4] for row in session.scalars(select(SpentOidcState))] == ["live"]
    assert (count(db, LoginThrottle), count(db, RefusalCount)) == (0, 0)
    with db.session(all_communes=True) as session:
        table = AuditEntry.__table__  # type: ignore[attr-defined]
        assert session.execute(select(func.count()).where(table.c.time < NOW - timedelta(days=1))).scalar_one() == 0
    assert count(db, AuditCheckpoint) >= 1
    with db.read_session() as session:
        assert attachments.stored_names(session) == []
    assert len(result.output.splitlines()) == 5  # one line per run
    assert "worker: outbox slot " in result.output and " ok in " in result.output


def test_a_slot_is_run_once_and_a_late_run_covers_the_slots_missed(deployment: ConfigFolder, db: Database) -> None:
    settings = load_settings(deployment.path)
    jobs = build_jobs(db, load_registry(settings), ["expiry"], worker="test-worker")
    now = [datetime(2026, 12, 4, 10, 0, 5, tzinfo=UTC)]
    worker = Worker(db, [settings.worker.schedule("expiry")], jobs, "test-worker", 30, clock=lambda: now[0])
    for moment in ((10, 0, 5), (10, 9, 59), (10, 40, 1)):
        now[0] = datetime(2026, 12, 4, *moment, tzinfo=UTC)
        worker.run_due()
    covered = [(run.after_slot and aware(run.after_slot), aware(run.slot)) for run in runs(db, "expiry")]
    assert covered == [  # 10:09:59 is still in the 10:00 slot; 10:40 covers 10:10, 10:20, 10:30 and 10:40 at once
        (None, datetime(2026, 12, 4, 10, 0, tzinfo=UTC)),
        (datetime(2026, 12, 4, 10, 0, tzinfo=UTC), datetime(2026, 12, 4, 10, 40, tzinfo=UTC)),
    ]


def test_a_failing_job_is_recorded_the_worker_goes_on_and_runs_it_again(deployment: ConfigFolder, db: Database) -> None:
    deployment.set_gateway(worker={job: {"interval_seconds": 1} for job in ALL_JOBS})
    settings = load_settings(deployment.path)
    jobs = build_jobs(db, load_registry(settings), ALL_JOBS, worker="test-worker")
    worker = Worker(db, settings.worker.schedules(), jobs, "test-worker", hold_seconds=30)
    with db.session() as session:
        session.execute(text("DROP TABLE spent_oidc_state"))
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_until, args=(stop,))
    thread.start()
    try:
        wait_until(lambda: len([run for run in runs(db, "expiry") if run.outcome == "failed"]) >= 2)
        SpentOidcState.__table__.create(db.engine)  # type: ignore[attr-defined]
        wait_until(lambda: runs(db, "expiry")[-1].outcome == "ok")
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    failed = [run for run in runs(db, "expiry") if run.outcome == "failed"]
    assert failed[0].error is not None and "spent_oidc_state" in failed[0].error
    assert "\n" not in failed[0].error
    assert all(run.outcome == "ok" for job in ALL_JOBS if job != "expiry" for run in runs(db, job))
    assert len(runs(db, "checkpoint")) >= 2  # the other jobs went on meanwhile


def wait_until(condition: Any, seconds: float = 60) -> None:
    """Poll ``condition`` until it holds; fail (not flake) only when it never does."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the worker did not get there"
        time.sleep(0.1)


def test_status_prints_each_jobs_last_run_and_next_due_time(deployment: ConfigFolder, db: Database) -> None:
    deployment.set_gateway(worker={"audit_prune": {"enabled": False}})
    before = run(deployment, "worker", "status").output.splitlines()
    assert before[1].split()[:4] == ["outbox", "10", "s", "never"] and before[1].endswith("now (never run)")
    assert before[-1] == "no run recorded yet"
    run(deployment, "worker", "--once")
    lines = run(deployment, "worker", "status").output.splitlines()
    assert lines[0].split()[:2] == ["job", "every"]
    rows = {line.split()[0]: line for line in lines[1:6]}
    assert rows["audit_prune"].endswith("disabled")
    assert " ok " in rows["expiry"] and rows["expiry"].split()[-1] != "disabled"
    assert lines[7] == "last 4 run(s):"
    assert len(lines) == 12


@pytest.mark.parametrize(
    ("worker", "expected"),
    [
        ({"outbox": {"interval_seconds": 0}}, "worker.outbox.interval_seconds: Input should be greater than"),
        ({"mail": {"interval_seconds": 60}}, "worker.mail: unknown key"),
        ({"expiry": {"enabled": "sometimes"}}, "worker.expiry.enabled: Input should be a valid boolean"),
        ({"hold_seconds": 1}, "worker.hold_seconds: Input should be greater than or equal to 10"),
        ({"checkpoint": {"interval_seconds": 90_000}}, "worker.checkpoint.interval_seconds: 90000 s exceeds"),
        ({job: {"enabled": False} for job in ALL_JOBS}, "worker: every job is disabled, nothing to run"),
    ],
)
def test_a_wrong_schedule_stops_the_start_with_one_line(
    guichet_config: ConfigFolder, worker: dict[str, Any], expected: str
) -> None:
    guichet_config.set_gateway(worker=worker)
    result = run(guichet_config, "worker")
    assert result.exit_code == 2  # a setting: the command could not run
    assert expected in result.output
    assert result.output.startswith("Error: ") and len(result.output.strip().splitlines()) == 1


def test_a_missing_signing_key_stops_the_start_with_one_line(
    guichet_config: ConfigFolder, guichet_database_url: str, tmp_path: Path
) -> None:
    guichet_config.set_gateway(
        database={"url": guichet_database_url},
        audit={"signing_key_file": str(tmp_path / "nowhere.key"), "generate_if_missing": False},
    )
    result = run(guichet_config, "worker")
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_expire_sessions_drops_expired_revoked_and_idle_sessions_only(db: Database) -> None:
    rows = {
        "expired": {"expires_at": NOW - timedelta(seconds=1)},
        "revoked": {"revoked_at": NOW - timedelta(minutes=5)},
        "idle": {"last_seen_at": NOW - timedelta(minutes=31), "idle_seconds": 1800},
        "patient": {"last_seen_at": NOW - timedelta(minutes=50), "idle_seconds": 3600},
        "live": {},
    }
    with db.session() as session:
        for name, values in rows.items():
            defaults = {"last_seen_at": NOW, "expires_at": NOW + timedelta(hours=1), "idle_seconds": 1800}
            session.add(UserSession(id_hash=name.ljust(64, "0"), kind="staff", created_at=NOW,
                                    authenticated_at=NOW, **{**defaults, **values}))  # fmt: skip
    with db.session() as session:
        assert expire_sessions(session, now=NOW) == 3
    with db.session() as session:
        kept = sorted(row.id_hash.rstrip("0") for row in session.scalars(select(UserSession)))
        assert forget_expired(session, now=NOW) == 0
    assert kept == ["live", "patient"]


def test_an_unreachable_database_stops_the_start_with_one_line(guichet_config: ConfigFolder) -> None:
    guichet_config.set_gateway(database={"url": "postgresql://nobody@127.0.0.1:1/nothing"})
    result = run(guichet_config, "worker")
    assert result.exit_code == 2
    assert result.output.startswith("Error: database unreachable: OperationalError: ")
    assert len(result.output.strip().splitlines()) == 1
