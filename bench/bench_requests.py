"""Request benchmarks: the agents' queue, a citizen's submission, the retention purge, each against a floor.

Run with ``python -m bench.bench_requests [--quick]``. It builds a throw-away
deployment on SQLite under a temporary folder.

- *an agent's queue page* over 1,000 requests vs */healthz*: what the
  queue query, the count, the grant checks, the recording of the 50 people
  shown and the template cost on top of the bare framework, session and
  middleware for one request.
- *a 50-row queue page, each row another person, recorded* vs *the same
  page, auditing off*: what recording a list as 50 accesses (one audit entry
  per person shown, ``docs/audit_format.md`` §2) adds to showing it.
- *a citizen's draft, started and submitted* vs *one raw INSERT*: what the
  draft, the form and plugin checks, the reference number, the history, the
  audit entries and the receipt in the outbox cost on top of storing a row.
- *purging 1,000 decided requests* (``run_retention``: a locked re-read, the
  history and attachment rows, one audit entry each, one transaction each)
  vs *one raw DELETE per request in its own transaction*; also printed as
  requests purged per second.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select
from starlette.applications import Starlette

from bench.bench_audit import auditing_off
from bench.harness import Comparison, compare
from gateway.app import create_app
from gateway.db import Database
from gateway.demo.form_filling import citizen_caller
from gateway.identity import staff as staff_accounts
from gateway.identity.sessions import COOKIE, cookie_value, open_session
from gateway.models import Citizen, RequestEvent, ServiceRequest
from gateway.requests.lifecycle import CitizenRequests
from gateway.requests.retention import run_retention
from gateway.testing import ConfigFolder, GuichetClient, migrate

MESSAGE = {
    "name": "Camille Exemple",
    "email": "camille@example.org",
    "topic": "voirie",
    "message": "Un trou dans la rue.",
}
QUEUE = "/agents/venissieux/demandes"
LISTED = "/agents/corbas/demandes"


def run(operations: int, rounds: int, *, queue_size: int = 1000, purge_size: int = 1000) -> list[Comparison]:
    with tempfile.TemporaryDirectory() as folder:
        config = ConfigFolder.demo(Path(folder))
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        config.set_gateway(database={"url": url})
        migrate(url)
        app = create_app(config.path)
        try:
            return [
                _queue(app, queue_size, operations, rounds),
                _listing(app, operations, rounds),
                _submission(app, operations, rounds),
                _purge(app, purge_size, rounds),
            ]
        finally:
            app.state.db.dispose()


def _rows(commune: str, count: int, **values: Any) -> list[dict[str, Any]]:
    moment = datetime.now(UTC) - timedelta(days=3)
    return [
        {
            "public_id": secrets.token_urlsafe(16),
            "reference": f"B{secrets.token_hex(6)}",
            "commune": commune,
            "service": "contact",
            "status": "submitted",
            "locale": "fr",
            "data": MESSAGE,
            "form_version": 1,
            "submission_key": secrets.token_hex(16),
            "awaiting_citizen": False,
            "version": 1,
            "created_at": moment,
            "submitted_at": moment,
            "subject": secrets.token_hex(16),  # each request another person, as the list records them
            **values,
        }
        for _ in range(count)
    ]


def _insert(db: Database, rows: list[dict[str, Any]]) -> list[int]:
    with db.engine.begin() as connection:
        connection.execute(insert(ServiceRequest), rows)
        keys = [row["public_id"] for row in rows]
        found = connection.execute(select(ServiceRequest.id).where(ServiceRequest.public_id.in_(keys)))  # type: ignore[attr-defined]
        return [row[0] for row in found]


def _staff_cookie(app: Starlette, username: str, grant: str) -> str:
    with app.state.db.session() as session:
        staff = staff_accounts.create(session, username=username, display_name="Agent",
                                      email=f"{username}@example.org", password=secrets.token_urlsafe(24),
                                      grants=[staff_accounts.parse_grant(grant)])  # fmt: skip
        assert staff.id is not None
        session_id = open_session(session, "staff", staff.id)
    return cookie_value(app.state.registry.settings.secret_key, session_id)


def _requests_to(app: Starlette, cookie: str, path: str) -> Callable[[int], None]:
    async def many(n: int) -> None:
        async with GuichetClient(app) as client:
            client.cookies.set(COOKIE, cookie)
            for _ in range(n):
                assert (await client.get(path)).status_code == 200

    return lambda n: asyncio.run(many(n))


def _queue(app: Starlette, size: int, operations: int, rounds: int) -> Comparison:
    _insert(app.state.db, _rows("venissieux", size))
    cookie = _staff_cookie(app, "bench.agent", "agent:venissieux:contact")
    return compare(
        f"an agent's queue page over {size:,} requests (GET {QUEUE})",
        _requests_to(app, cookie, QUEUE),
        "GET /healthz, signed in",
        _requests_to(app, cookie, "/healthz"),
        operations=operations,
        rounds=rounds,
    )


def _listing(app: Starlette, operations: int, rounds: int) -> Comparison:
    """The same 50-row page (50 people) with its 50 audit entries, and with auditing off."""
    _insert(app.state.db, _rows("corbas", 50))
    listing = _requests_to(app, _staff_cookie(app, "bench.lister", "agent:corbas:contact"), LISTED)

    def unrecorded(n: int) -> None:
        with auditing_off():
            listing(n)

    return compare(f"a 50-row queue page, 50 people, recorded (GET {LISTED})", listing,
                   "the same page, auditing off", unrecorded, operations=operations, rounds=rounds)  # fmt: skip


def _submission(app: Starlette, operations: int, rounds: int) -> Comparison:
    db, registry = app.state.db, app.state.registry
    with db.session() as session:
        citizen = Citizen(public_id=secrets.token_hex(16), issuer="bench", sub="bench", given_name="Camille",
                          family_name="Exemple", email="camille@example.org", created_at=datetime.now(UTC))  # fmt: skip
        session.add(citizen)
        session.flush()
    caller = citizen_caller(citizen)
    people = CitizenRequests(db, registry)
    keys = itertools.count()

    def submitting(n: int) -> None:
        for _ in range(n):
            draft = people.start_draft(caller, "venissieux", "contact", submission_key=f"bench-{next(keys)}")
            assert not people.submit(caller, draft.public_id, MESSAGE).errors

    def raw_insert(n: int) -> None:
        for _ in range(n):
            with db.engine.begin() as connection:
                connection.execute(insert(ServiceRequest), _rows("venissieux", 1))

    return compare("a citizen's draft, started and submitted", submitting, "one INSERT in its own transaction",
                   raw_insert, operations=operations, rounds=rounds)  # fmt: skip


def _purge(app: Starlette, size: int, rounds: int) -> Comparison:
    """Times each side on freshly inserted due requests (the inserting is not timed)."""
    db, registry = app.state.db, app.state.registry
    moment = datetime.now(UTC) - timedelta(days=1)

    def due() -> list[int]:
        ids = _insert(db, _rows("corbas", size, status="answered", decided_at=moment, purge_after=moment))
        with db.engine.begin() as connection:
            connection.execute(
                insert(RequestEvent),
                [{"commune": "corbas", "request_id": i, "at": moment, "kind": "transition", "actor_role": "agent",
                  "internal": False} for i in ids],
            )  # fmt: skip
        return ids

    def purge(ids: list[int]) -> None:
        report = run_retention(db, registry)
        assert report.requests_purged == len(ids)

    def raw_delete(ids: list[int]) -> None:
        for request_id in ids:
            with db.engine.begin() as connection:
                connection.execute(delete(RequestEvent).where(RequestEvent.request_id == request_id))  # type: ignore[arg-type]
                connection.execute(delete(ServiceRequest).where(ServiceRequest.id == request_id))  # type: ignore[arg-type]

    def timed(work: Callable[[list[int]], None]) -> float:
        ids = due()
        start = time.perf_counter()
        work(ids)
        return time.perf_counter() - start

    timed(purge)  # warm up
    case_times, base_times = [], []
    for _ in range(rounds):
        case_times.append(timed(purge))
        base_times.append(timed(raw_delete))
    return Comparison(
        name=f"purging {size:,} decided requests (run_retention)",
        baseline="one raw DELETE of the request and its history per transaction",
        case_seconds=statistics.median(case_times),
        baseline_seconds=statistics.median(base_times),
        operations=size,
        case_peak_bytes=0,
        baseline_peak_bytes=0,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args(argv)
    comparisons = run(5, 1, queue_size=100, purge_size=50) if args.quick else run(100, 5)
    for comparison in comparisons:
        print(comparison.report())
        if comparison.name.startswith("purging"):
            print(f"  rate     {comparison.operations / comparison.case_seconds:,.0f} requests purged per second")


if __name__ == "__main__":
    main()
