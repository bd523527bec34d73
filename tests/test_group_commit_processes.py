"""Group commit across processes: batches of several processes against one database, and processes killed.

Each process (:mod:`tests.batch_filer`) prints what it acknowledged; the test
then reads the database: every acknowledged filing is there once, nothing
else is, every stored request is whole (its history line and its audit
entry), and the audit log verifies.

The last test does the same to a real ``guichet serve``: many clients file
through the JSON API, the server is killed with SIGKILL while filings are in
flight, restarted, and every client then retries what it sent (the
``Idempotency-Key`` makes that safe) — as clients of a crashed server do.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from gateway.audit.checkpoint import generate_signer
from gateway.audit.sealing import seal
from gateway.audit.verify import verify_log
from gateway.db import Database
from gateway.models import RequestEvent, ServiceRequest
from gateway.models.audit import AuditEntry
from gateway.models.outbox import OutboxMessage
from gateway.testing import ConfigFolder
from tests.guichet_commands import assert_verified, guichet
from tests.lifecycle_desk import enable

ROOT = Path(__file__).resolve().parent.parent
EACH, SHARED = 12, 4
WAIT = 120  # seconds: a bound on a hang, never a measure


def spawn(config: ConfigFolder, url: str, name: str, mode: str, *counts: int) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tests.batch_filer", str(config.path), url, name, mode, *map(str, counts)]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)


def acknowledged(lines: list[str]) -> dict[str, str]:
    """Submission key -> reference, for every filing a process answered."""
    return {key: reference for word, key, reference in (line.split() for line in lines if line.startswith("filed "))}


def stored(url: str) -> dict[str, str | None]:
    """Submission key -> reference of every stored request, after checking each is whole."""
    db = Database(url)
    try:
        with db.read_session(all_communes=True) as session:
            rows = session.exec(select(ServiceRequest)).all()
            history = session.exec(select(func.count()).select_from(RequestEvent)).one()
            created = session.exec(select(AuditEntry.resource).where(AuditEntry.action == "request.create")).all()
        assert history == len(rows)
        assert sorted(created) == sorted(f"request/{row.reference}" for row in rows)
        return {row.submission_key: row.reference for row in rows if row.submission_key}
    finally:
        db.dispose()


def verified_size(url: str) -> int:
    """The size of the audit log, once sealed and verified from its first entry."""
    db = Database(url)
    try:
        signer = generate_signer("guichet.test/audit")
        seal(db, signer, "guichet.test/audit")
        report = verify_log(db, [signer.verifier()])
        assert report.ok, report.findings
        return report.size
    finally:
        db.dispose()


@pytest.fixture
def config(guichet_config: ConfigFolder) -> ConfigFolder:
    enable(guichet_config)
    return guichet_config


def test_two_processes_batching_at_once_store_each_filing_once(config: ConfigFolder, guichet_database_url: str) -> None:
    filers = [spawn(config, guichet_database_url, f"p{number}", "file", EACH, SHARED) for number in range(2)]
    outputs = [filer.communicate(timeout=WAIT)[0].splitlines() for filer in filers]
    assert [filer.returncode for filer in filers] == [0, 0]
    answered = [acknowledged(lines) for lines in outputs]
    found = stored(guichet_database_url)
    assert len(found) == 2 * EACH + SHARED and len(set(found.values())) == len(found)
    assert {**answered[0], **answered[1]} == found
    assert all(answered[0][key] == answered[1][key] for key in (f"shared-{n}" for n in range(SHARED)))
    assert verified_size(guichet_database_url) == len(found)


@pytest.mark.crash
@pytest.mark.parametrize(("moment", "ready"), [("between", "idle"), ("during", "in-batch")])
def test_a_process_killed_between_or_during_batches_keeps_what_it_acknowledged_and_nothing_half(
    config: ConfigFolder, guichet_database_url: str, moment: str, ready: str
) -> None:
    filer = spawn(config, guichet_database_url, "k", f"stop-{moment}", EACH)
    assert filer.stdout is not None
    lines = []
    for line in filer.stdout:  # the process waits to be killed once it says it is ready
        lines.append(line.strip())
        if line.strip() == ready:
            break
    filer.kill()
    lines.extend(filer.communicate(timeout=WAIT)[0].splitlines())
    assert ready in lines
    answered = acknowledged(lines)
    assert len(answered) == EACH
    assert stored(guichet_database_url) == answered  # in the killed batch: nothing stored, nothing acknowledged
    survivor = spawn(config, guichet_database_url, "after", "file", 1)  # the lock the killed process held is free
    survivor.communicate(timeout=WAIT)
    assert survivor.returncode == 0
    assert len(stored(guichet_database_url)) == EACH + 1 == verified_size(guichet_database_url)


# A served gateway killed with SIGKILL under a load of API filings ----------------------------------------------

CLIENTS, KILL_AFTER = 24, 60  # concurrent API clients; answered filings before the kill (a couple of seconds' load)
FILE = "/api/v1/communes/corbas/services/contact/requests"
CONTACT = {"name": "Dominique Fictif", "email": "dominique@example.org", "topic": "autre", "message": "Trois mots ici."}


@pytest.fixture
def served(guichet_config: ConfigFolder, guichet_database_url: str) -> ConfigFolder:
    """Corbas offering the contact service (an installed plugin, so ``guichet serve`` loads it too)."""
    guichet_config.enable_service("corbas", "contact", topics=["voirie", "proprete", "autre"], reply_within_days=15)
    guichet_config.set_gateway(database={"url": guichet_database_url})
    return guichet_config


def start_server(config: ConfigFolder) -> tuple[subprocess.Popen[bytes], str]:
    """``guichet serve`` on a free port (one process, its group commit on), once it answers ``/readyz``."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = subprocess.Popen(guichet(config, "serve", "--port", str(port)), cwd=ROOT, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        assert server.poll() is None, "guichet serve exited at start"
        try:
            if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.kill()
    raise AssertionError("guichet serve did not become ready")


async def load_until_killed(base: str, server: subprocess.Popen[bytes]) -> tuple[dict[str, str], list[str]]:
    """CLIENTS clients file one request after another; the server is killed once KILL_AFTER were answered.

    Returns the answered filings (Idempotency-Key -> reference) and every key sent.
    """
    answered: dict[str, str] = {}
    sent: list[str] = []
    killed = False

    async def client_loop(client: httpx.AsyncClient, number: int) -> None:
        nonlocal killed
        for n in itertools.count():
            key = f"c{number}-{n}"
            sent.append(key)
            try:
                answer = await client.post(FILE, json={"data": CONTACT}, headers={"Idempotency-Key": key})
            except httpx.TransportError:
                assert killed, "the server dropped a connection before it was killed"
                return
            assert answer.status_code in (201, 503), answer.text  # 503: busy, nothing stored
            if answer.status_code == 201:
                answered[key] = answer.json()["reference"]
            if len(answered) >= KILL_AFTER and not killed:
                killed = True
                server.send_signal(signal.SIGKILL)  # the others' filings are in flight, some mid-batch

    limits = httpx.Limits(max_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base, timeout=WAIT, limits=limits) as client:
        await asyncio.gather(*(client_loop(client, number) for number in range(CLIENTS)))
    return answered, sent


async def retry_all(base: str, keys: list[str]) -> dict[str, tuple[int, str]]:
    """Every key sent again after the restart: 200 with the stored request's reference, or 201 when filed now."""
    gate = asyncio.Semaphore(8)

    async def again(client: httpx.AsyncClient, key: str) -> tuple[str, tuple[int, str]]:
        async with gate:
            answer = await client.post(FILE, json={"data": CONTACT}, headers={"Idempotency-Key": key})
        assert answer.status_code in (200, 201), answer.text
        return key, (answer.status_code, answer.json()["reference"])

    async with httpx.AsyncClient(base_url=base, timeout=WAIT) as client:
        return dict(await asyncio.gather(*(again(client, key) for key in keys)))


def receipts(url: str) -> int:
    """How many messages the outbox holds (here: the filings' receipts, none withheld)."""
    db = Database(url)
    try:
        with db.read_session(all_communes=True) as session:
            return session.exec(select(func.count()).select_from(OutboxMessage)).one()
    finally:
        db.dispose()


@pytest.mark.crash
def test_a_served_gateway_killed_under_load_keeps_every_answered_filing_whole_and_verifies(
    served: ConfigFolder, guichet_database_url: str
) -> None:
    server, base = start_server(served)
    try:
        answered, sent = asyncio.run(load_until_killed(base, server))
    finally:
        server.kill()
        server.wait(timeout=WAIT)
    assert server.returncode == -signal.SIGKILL
    before_restart = stored(guichet_database_url)  # whole: each request with its history line and audit entry
    assert answered.items() <= before_restart.items()  # every filing answered with success is there
    in_flight = set(sent) - set(answered)
    assert in_flight  # the kill did land with filings in flight

    server, base = start_server(served)
    try:
        retried = asyncio.run(retry_all(base, sent))
    finally:
        server.terminate()
        server.wait(timeout=WAIT)
    # answered before the crash: the retry is told it was filed, with the same reference
    assert {key: retried[key] for key in answered} == {key: (200, reference) for key, reference in answered.items()}
    # in flight at the crash: stored whole (200, same reference) or not at all (201 now), never half
    assert all(retried[key] == (200, before_restart[key]) for key in in_flight if key in before_restart)
    assert all(retried[key][0] == 201 for key in in_flight if key not in before_restart)
    after = stored(guichet_database_url)
    assert after == {key: reference for key, (_status, reference) in retried.items()}
    assert len(set(after.values())) == len(after) == len(set(sent))
    assert receipts(guichet_database_url) == len(after)  # each filing's receipt was queued in its transaction

    assert_verified(served)
