"""Two ``guichet worker`` processes on one database, PostgreSQL or one SQLite file: every slot once, none twice.

Both run with every job every second until each job has covered several slots;
then both are asked to stop (SIGTERM) and must stop cleanly after their job.
Each job's runs must tile the time they covered: a run covers the slots after
the previous run's up to its own, so no slot is run twice and none is skipped.
``guichet serve`` in a demo starts a worker beside itself and stops it on exit.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import select

from gateway.db import Database
from gateway.models import WorkerRun
from gateway.testing import ConfigFolder, migrate
from gateway.worker.slots import aware
from tests.test_cli import free_port

JOBS = ["outbox", "checkpoint", "retention", "audit_prune", "expiry"]
RUNS_EACH = 3


def every_second(config: ConfigFolder, url: str) -> None:
    config.set_gateway(
        database={"url": url},
        smtp={"host": "127.0.0.1", "port": free_port()},  # nothing to send, nobody listening
        worker={"hold_seconds": 30, **{job: {"enabled": True, "interval_seconds": 1} for job in JOBS}},
    )


def start_worker(config: ConfigFolder, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "gateway", "--config", str(config.path), "worker"], stdout=handle, stderr=handle
        )


def finished_runs(db: Database) -> list[WorkerRun]:
    with db.session() as session:
        return list(session.scalars(select(WorkerRun).where(WorkerRun.outcome != "running")))  # type: ignore[arg-type]


def wait_until(condition: Callable[[], bool], processes: list[subprocess.Popen[bytes]], seconds: float = 90) -> None:
    """Poll until ``condition`` holds; fail only when it never does or a process died."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert all(process.poll() is None for process in processes), "a worker exited early"
        assert time.monotonic() < deadline, "the workers did not get there"
        time.sleep(0.2)


def test_two_workers_run_every_slot_once(guichet_config: ConfigFolder, guichet_database_url: str) -> None:
    every_second(guichet_config, guichet_database_url)
    db = Database(guichet_database_url)
    logs = [guichet_config.data_dir / f"worker-{number}.log" for number in (1, 2)]
    guichet_config.data_dir.mkdir(parents=True, exist_ok=True)
    workers = [start_worker(guichet_config, log) for log in logs]
    try:

        def each_job_ran_enough() -> bool:
            done = [run.job for run in finished_runs(db)]
            return all(done.count(job) >= RUNS_EACH for job in JOBS)

        wait_until(each_job_ran_enough, workers)
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
        codes = [process.wait(timeout=60) for process in workers]
    with db.session() as session:
        every_run = list(session.scalars(select(WorkerRun).order_by(WorkerRun.job, WorkerRun.slot)))  # type: ignore[arg-type]
    db.dispose()
    outputs = [log.read_text(encoding="utf-8") for log in logs]
    assert codes == [0, 0], outputs
    assert all(" started: outbox every 1 s" in output and " stopped" in output for output in outputs)
    assert {run.outcome for run in every_run} == {"ok"}, [run.error for run in every_run]
    for job in JOBS:
        slots = [(run.after_slot, run.slot) for run in every_run if run.job == job]
        assert len({slot for _after, slot in slots}) == len(slots), f"{job}: a slot run twice"
        assert slots[0][0] is None, f"{job}: its first run should cover from the start"
        for (_after, previous), (after, slot) in itertools.pairwise(slots):
            assert after is not None and aware(after) == aware(previous), f"{job}: slots between runs left out"
            assert aware(slot) > aware(previous)
    # one line per run in the logs, from whichever worker ran it
    logged = sum(output.count(" ok in ") for output in outputs)
    assert logged == len(every_run)


def test_serve_in_a_demo_runs_the_worker_and_stops_it(guichet_config: ConfigFolder) -> None:
    url = f"sqlite:///{guichet_config.data_dir / 'guichet.db'}"
    migrate(url)
    guichet_config.set_gateway(worker={"checkpoint": {"interval_seconds": 1}, "expiry": {"interval_seconds": 1}})
    port = free_port()
    command = [sys.executable, "-m", "gateway", "--config", str(guichet_config.path), "serve", "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    db = Database(url)
    try:
        wait_until(lambda: len({run.job for run in finished_runs(db)}) >= 2, [server])
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
    finally:
        server.send_signal(signal.SIGINT)
        _out, errors = server.communicate(timeout=60)
    worker_pids = {int(run.worker.split(":")[1]) for run in finished_runs(db)}
    db.dispose()
    assert server.returncode == 0, errors
    assert b"background jobs: `guichet worker` started" in errors
    for pid in worker_pids:  # the worker is gone with the server
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        raise AssertionError(f"worker {pid} still runs after the server stopped")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_worker_of_a_killed_server_stops_by_itself(guichet_config: ConfigFolder) -> None:
    url = f"sqlite:///{guichet_config.data_dir / 'guichet.db'}"
    migrate(url)
    guichet_config.set_gateway(worker={"expiry": {"interval_seconds": 1}})
    port = free_port()
    command = [sys.executable, "-m", "gateway", "--config", str(guichet_config.path), "serve", "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = Database(url)
    try:
        wait_until(lambda: bool(finished_runs(db)), [server])
        worker_pids = {int(run.worker.split(":")[1]) for run in finished_runs(db)}
    finally:
        server.kill()  # SIGKILL: the server can ask its worker nothing
        server.wait(timeout=60)
        db.dispose()
    deadline = time.monotonic() + 60
    while any(_running(pid) for pid in worker_pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    still = [pid for pid in worker_pids if _running(pid)]
    for pid in still:
        os.kill(pid, signal.SIGKILL)
    assert not still, f"worker {still} outlived the server that started it"
