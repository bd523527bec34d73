"""HTTP benchmarks: Guichet served by uvicorn against a bare Starlette app, loaded by wrk, alternately.

Run with ``make bench`` (last) or ``python -m bench.bench_http [--quick] [--seconds S]``.
It needs wrk (Debian: ``apt-get install wrk``) and starts everything else itself:

- a throw-away Guichet deployment (the demo configuration copied to a temporary
  folder, migrated), served by ``uvicorn gateway.app:create_app_from_env``;
- the bare baseline (:mod:`bench.baseline_app`), served the same way, on a
  database of its own;

on SQLite, and on PostgreSQL when ``GUICHET_TEST_DATABASE_URL`` names a server
(a database of the benchmark's own is created there and dropped afterwards), each
with 1 and 2 worker processes. Two paths are measured at 8 and 32 clients,
baseline and Guichet in turn, a few rounds each:

- *filing*: « Écrire à la mairie » filed anonymously through ``POST /api/v1/…/requests``
  with a 300-byte message and a new ``Idempotency-Key`` each time, against one
  SQLModel insert of the same body;
- *agent read*: an agent's API token opening that request (``GET`` its case: the
  read and its audit entry), against a bare read of one row by primary key.

Throughput is the median of the rounds; p50 and p99 are the median of the rounds'
percentiles. Every answer outside 2xx and every socket error is counted and
printed: a throughput never hides failures. The last line printed is the SQLite
filing throughput ratio at 32 clients.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import gateway.audit.log  # noqa: F401  (registers the audit append on commit: staff accounts are audited)
from bench.baseline_app import DATABASE_ENV, BareRequest, bare_engine, create_tables
from gateway.db import Database
from gateway.identity import staff as staff_accounts
from gateway.identity.tokens import create_token
from gateway.settings import CONFIG_ENV
from gateway.testing import TEST_DATABASE_ENV, ConfigFolder, fresh_postgres_schema, migrate

HERE = Path(__file__).resolve().parent
LUA = HERE / "wrk_requests.lua"
ROOT = HERE.parent
COMMUNE, SERVICE = "venissieux", "contact"
INSTALL_WRK = "the HTTP benchmarks need wrk: install it with `apt-get install wrk` (Debian/Ubuntu)"
#: a 300-byte message, as in the issue's figures
MESSAGE = {
    "name": "Camille Exemple",
    "email": "camille@example.org",
    "topic": "voirie",
    "message": ("Bonjour, un nid-de-poule s'est formé devant le 12 rue de la République. " * 5)[:300],
}
FILING, READ = "filing", "agent read"
#: the labels of the auditing comparison: the same gateway with its audit log off (bench/unaudited_app.py), and on
AUDITING = ("auditing off", "auditing on")


@dataclass(frozen=True)
class Run:
    """What one wrk run measured."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    socket_errors: int
    example: str

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds


@dataclass
class Pair:
    """Baseline and Guichet runs of one path, database, worker count and client count."""

    database: str
    workers: int
    path: str
    clients: int
    baseline: list[Run] = field(default_factory=list)
    guichet: list[Run] = field(default_factory=list)
    #: what the baseline and the measured side are (the bare app, or Guichet with auditing off)
    labels: tuple[str, str] = ("bare", "Guichet")

    @property
    def ratio(self) -> float:
        return _median(self.guichet, "throughput") / _median(self.baseline, "throughput")

    @property
    def failures(self) -> int:
        return sum(run.non2xx + run.socket_errors for run in (*self.baseline, *self.guichet))

    def report(self) -> str:
        def side(runs: list[Run]) -> str:
            return (
                f"{_median(runs, 'throughput'):7.0f} req/s  p50 {_median(runs, 'p50_ms'):6.1f} ms"
                f"  p99 {_median(runs, 'p99_ms'):7.1f} ms"
            )

        errors = [run.example for run in (*self.baseline, *self.guichet) if run.example]
        failed = (
            f"  FAILURES {self.failures} (e.g. {errors[0] if errors else 'socket errors'})" if self.failures else ""
        )
        spread = "–".join(f"{run.throughput:.0f}" for run in self.guichet)
        baseline, measured = self.labels
        return (
            f"{self.database:10} {self.workers} worker{'s' if self.workers > 1 else ' '} {self.path:10}"
            f" {self.clients:2} clients  {baseline} {side(self.baseline)} | {measured} {side(self.guichet)}"
            f" ({spread})  ratio ×{self.ratio:.2f}{failed}"
        )


def _median(runs: Sequence[Run], attribute: str) -> float:
    return float(statistics.median(float(getattr(run, attribute)) for run in runs))


def wrk_path() -> str | None:
    return shutil.which("wrk")


# Servers -----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def served(app: str, env: dict[str, str], workers: int, ready_path: str) -> Iterator[str]:
    """``uvicorn app --factory`` on a free loopback port until the block ends; yields its base URL."""
    port = free_port()
    child_env = {key: value for key, value in os.environ.items() if not key.startswith("GUICHET_")} | env
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(  # noqa: S603  (our own interpreter and arguments)
            [sys.executable, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers), "--no-access-log", "--log-level", "warning"],
            cwd=ROOT, env=child_env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            _wait_ready(process, base + ready_path, log)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: IO[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"server exited: {log.read().decode(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310  (a loopback http:// URL we built)
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"server not ready at {url} after 60 s")


def _post_json(url: str, body: dict[str, object], headers: dict[str, str] | None = None) -> dict[str, object]:
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST",  # noqa: S310  (loopback http://)
                                     headers={"Content-Type": "application/json", **(headers or {})})  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310  (loopback http://)
        answer: dict[str, object] = json.load(response)
        return answer


# Databases ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def bench_database(server_url: str) -> Iterator[str]:
    """A PostgreSQL database of the benchmark's own on ``server_url`` (never the shared one), dropped afterwards."""
    name = f"guichet_bench_{secrets.token_hex(4)}"
    admin_url = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False).replace("+psycopg", "", 1)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def fresh_urls(kind: str, folder: Path, postgres: str | None) -> Iterator[tuple[str, str]]:
    """Empty databases for Guichet and for the baseline: two SQLite files, or two fresh PostgreSQL schemas."""
    if kind == "SQLite":
        yield f"sqlite:///{folder / 'guichet.db'}", f"sqlite:///{folder / 'bare.db'}"
        return
    assert postgres is not None
    with fresh_postgres_schema(postgres) as guichet_url, fresh_postgres_schema(postgres) as bare_url:
        yield guichet_url, bare_url


def agent_token(url: str) -> str:
    """An agent of the commune's contact service and a personal API token limited to the agent role."""
    db = Database(url)
    try:
        with db.session() as session:
            staff = staff_accounts.create(
                session, username="bench.agent", display_name="Bench Agent", email="bench.agent@guichet.example",
                password=secrets.token_urlsafe(16), grants=[staff_accounts.parse_grant(f"agent:{COMMUNE}:{SERVICE}")],
            )  # fmt: skip
            _row, token = create_token(session, staff, name="bench", scopes=["agent"], lifetime=timedelta(days=1))
        return token
    finally:
        db.dispose()


def seed_bare_row(url: str) -> int:
    engine = bare_engine(url)
    try:
        from sqlmodel import Session

        with Session(engine) as session:
            row = BareRequest(commune=COMMUNE, service=SERVICE, data=MESSAGE, submission_key="seed")
            session.add(row)
            session.commit()
            assert row.id is not None
            return row.id
    finally:
        engine.dispose()


# Load --------------------------------------------------------------------------------------------------


def load(url: str, *, clients: int, seconds: float, method: str = "GET", body: Path | None = None,
         keyed: bool = False, authorization: str | None = None) -> Run:  # fmt: skip
    """One wrk run of ``clients`` connections for ``seconds`` against ``url``."""
    wrk = wrk_path()
    if wrk is None:
        raise RuntimeError(INSTALL_WRK)
    parts = urlsplit(url)
    command = [wrk, "-t", str(min(2, clients)), "-c", str(clients), "-d", f"{max(1, round(seconds))}s",
               "--timeout", "10s", "-s", str(LUA), f"{parts.scheme}://{parts.netloc}", "--", method, parts.path,
               str(body) if body else "-", secrets.token_hex(6) if keyed else "-", authorization or "-"]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True)  # noqa: S603
    line = next(line for line in finished.stdout.splitlines() if line.startswith("WRK-JSON "))
    figures = json.loads(line.removeprefix("WRK-JSON "))
    return Run(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        non2xx=figures["non2xx"],
        socket_errors=figures["connect"] + figures["read"] + figures["write"] + figures["timeout"],
        example=figures["example"],
    )


@dataclass(frozen=True)
class Side:
    """One side of a comparison: what wrk sends, and where."""

    url: str
    method: str = "GET"
    body: Path | None = None
    keyed: bool = False
    authorization: str | None = None

    def load(self, clients: int, seconds: float) -> Run:
        return load(self.url, clients=clients, seconds=seconds, method=self.method, body=self.body, keyed=self.keyed,
                    authorization=self.authorization)  # fmt: skip


@dataclass(frozen=True)
class Settings:
    seconds: float
    rounds: int
    clients: tuple[int, ...]
    workers: tuple[int, ...]
    databases: tuple[str, ...]
    warm_up: bool = True
    #: also measure Guichet against itself with auditing off (SQLite, one worker)
    auditing: bool = True


def measure_database(kind: str, settings: Settings, postgres: str | None) -> list[Pair]:
    """Every pair for one database: for each worker count, fresh databases and fresh servers."""
    pairs: list[Pair] = []
    for workers in settings.workers:
        with tempfile.TemporaryDirectory() as temporary:
            folder = Path(temporary)
            with fresh_urls(kind, folder, postgres) as (guichet_url, bare_url):
                pairs.extend(_measure_deployment(kind, workers, settings, folder, guichet_url, bare_url))
    return pairs


def _measure_deployment(kind: str, workers: int, settings: Settings, folder: Path, guichet_url: str,
                        bare_url: str) -> list[Pair]:  # fmt: skip
    body = folder / "body.json"
    body.write_text(json.dumps({"data": MESSAGE}), encoding="utf-8")
    create_tables(bare_url)
    bare_row = seed_bare_row(bare_url)
    with (
        deployed(folder / "guichet", guichet_url, workers) as (guichet, token),
        served("bench.baseline_app:create_app", {DATABASE_ENV: bare_url}, workers, f"/read/{bare_row}") as bare,
    ):
        sides = {
            FILING: (Side(f"{bare}/file", method="POST", body=body, keyed=True), _filing(guichet, body)),
            READ: (Side(f"{bare}/read/{bare_row}"), _case(guichet, token)),
        }
        pairs = _measure_sides(kind, workers, settings, sides, ("bare", "Guichet"))
        if settings.auditing and kind == "SQLite" and workers == 1:
            with deployed(folder / "unaudited", f"sqlite:///{folder / 'unaudited.db'}", workers,
                          app=UNAUDITED_APP) as (unaudited, unaudited_token):  # fmt: skip
                sides = {
                    FILING: (_filing(unaudited, body), _filing(guichet, body)),
                    READ: (_case(unaudited, unaudited_token), _case(guichet, token)),
                }
                pairs += _measure_sides(kind, workers, settings, sides, AUDITING)
    return pairs


GUICHET_APP, UNAUDITED_APP = "gateway.app:create_app_from_env", "bench.unaudited_app:create_app"


@contextlib.contextmanager
def deployed(folder: Path, url: str, workers: int, *, app: str = GUICHET_APP) -> Iterator[tuple[str, tuple[str, str]]]:
    """A Guichet deployment on ``url`` served by ``app``; yields its base URL and (agent token, a filed reference)."""
    folder.mkdir()
    config = ConfigFolder.demo(folder)
    config.set_gateway(database={"url": url})
    migrate(url)
    token = agent_token(url)
    with served(app, {CONFIG_ENV: str(config.path)}, workers, "/healthz") as base:
        reference = str(_post_json(_filing_url(base), {"data": MESSAGE})["reference"])
        yield base, (token, reference)


def _filing_url(base: str) -> str:
    return f"{base}/api/v1/communes/{COMMUNE}/services/{SERVICE}/requests"


def _filing(base: str, body: Path) -> Side:
    return Side(_filing_url(base), method="POST", body=body, keyed=True)


def _case(base: str, agent: tuple[str, str]) -> Side:
    token, reference = agent
    return Side(f"{base}/api/v1/communes/{COMMUNE}/requests/{reference}", authorization=f"Bearer {token}")


def _measure_sides(kind: str, workers: int, settings: Settings, sides: dict[str, tuple[Side, Side]],
                   labels: tuple[str, str]) -> list[Pair]:  # fmt: skip
    pairs = []
    for path, (baseline, case) in sides.items():
        if settings.warm_up:  # imports, caches, connection pools
            baseline.load(settings.clients[0], 1)
            case.load(settings.clients[0], 1)
        for clients in settings.clients:
            pair = Pair(kind, workers, path, clients, labels=labels)
            for _ in range(settings.rounds):  # alternately, so a busy moment of the machine hits both sides
                pair.baseline.append(baseline.load(clients, settings.seconds))
                pair.guichet.append(case.load(clients, settings.seconds))
            print(pair.report(), flush=True)
            pairs.append(pair)
    return pairs


def run(settings: Settings) -> list[Pair]:
    pairs = []
    postgres = os.environ.get(TEST_DATABASE_ENV) or None
    for kind in settings.databases:
        if kind == "SQLite":
            pairs.extend(measure_database(kind, settings, None))
        elif postgres is None:
            print(f"PostgreSQL: not measured ({TEST_DATABASE_ENV} is not set)", flush=True)
        else:
            with bench_database(postgres) as server:
                pairs.extend(measure_database(kind, settings, server))
    return pairs


def headline(pairs: Sequence[Pair]) -> str:
    """The line ``make bench`` ends on: SQLite filing throughput ratio at 32 clients (the most clients measured)."""
    sqlite = [pair for pair in pairs if pair.database == "SQLite" and pair.path == FILING and pair.labels != AUDITING]
    if not sqlite:
        return "SQLite filing throughput ratio (Guichet / bare insert): not measured in this run"
    most = max(pair.clients for pair in sqlite)
    shown = ", ".join(
        f"×{pair.ratio:.2f} with {pair.workers} worker{'s' if pair.workers > 1 else ''}"
        for pair in sqlite
        if pair.clients == most
    )
    return f"SQLite filing throughput ratio (Guichet / bare insert) at {most} clients: {shown}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: SQLite, 1 worker, 1 s runs, no warm-up")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one wrk run (default 3)")
    parser.add_argument("--rounds", type=int, default=2, help="alternated runs of each side (default 2)")
    parser.add_argument("--sqlite-only", action="store_true", help="leave PostgreSQL out")
    parser.add_argument(
        "--postgresql-only", action="store_true", help="leave SQLite out (needs GUICHET_TEST_DATABASE_URL)"
    )
    args = parser.parse_args(argv)
    if wrk_path() is None:
        print(INSTALL_WRK, file=sys.stderr)
        return 2
    if args.quick:
        settings = Settings(seconds=1, rounds=1, clients=(8, 32), workers=(1,), databases=("SQLite",), warm_up=False)
    else:
        databases: tuple[str, ...] = ("SQLite", "PostgreSQL")
        if args.sqlite_only or args.postgresql_only:
            databases = ("SQLite",) if args.sqlite_only else ("PostgreSQL",)
        settings = Settings(args.seconds, args.rounds, (8, 32), (1, 2), databases)
    pairs = run(settings)
    failures = sum(pair.failures for pair in pairs)
    print(f"requests answered outside 2xx or lost to socket errors: {failures}", flush=True)
    print(headline(pairs), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
