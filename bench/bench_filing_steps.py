"""Where a filing's time goes, in-process: per step and per SQL statement, one transaction per filing vs batched.

Run with ``python -m bench.bench_filing_steps [--filings N] [--batch B]`` (SQLite in a temporary
folder; ``--postgres SERVER_URL`` for a fresh schema on that server). It files « Écrire à la mairie »
anonymously with a 300-byte message, as the HTTP benchmark does, from one thread:

- *one transaction per filing*: :func:`gateway.requests.filing.file_request`, as the counter files;
- *batched*: the filings prepared first (outside any transaction), then stored ``B`` at a time by
  :class:`gateway.group_commit.GroupCommit`, as the pages and API file.

Each step is timed by wrapping the function that does it (the figures of docs/performance.md);
each statement by SQLAlchemy's cursor events, grouped by verb and table. Not part of ``make bench``:
it explains the HTTP figures, it does not judge them.
"""

from __future__ import annotations

import argparse
import collections
import functools
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlmodel import Session

import gateway.audit.log
import gateway.db
import gateway.requests.filing as filing
import gateway.requests.notices
from gateway.app import load_registry
from gateway.audit.events import ANONYMOUS
from gateway.db import Database
from gateway.group_commit import GroupCommit
from gateway.requests.caller import Caller
from gateway.requests.rules import rules_for
from gateway.settings import load_settings
from gateway.testing import ConfigFolder, fresh_postgres_schema, migrate

MESSAGE = {
    "name": "Camille Exemple",
    "email": "camille@example.org",
    "topic": "voirie",
    "message": ("Bonjour, un nid-de-poule s'est formé devant le 12 rue de la République. " * 5)[:300],
}
_TABLE = re.compile(r"^\s*(INSERT INTO|UPDATE|DELETE FROM|SELECT .*? FROM)\s+\"?(\w+)", re.IGNORECASE | re.DOTALL)


class Clock:
    """Seconds spent per named step, and per statement kind, since the last :meth:`reset`."""

    def __init__(self) -> None:
        self.steps: dict[str, float] = collections.defaultdict(float)
        self.statements: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0])
        self._started = threading.local()

    def reset(self) -> None:
        self.steps.clear()
        self.statements.clear()

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.steps[name] += time.perf_counter() - start

        return timed

    def watch(self, db: Database) -> None:
        @event.listens_for(db.engine, "before_cursor_execute")
        def before(_conn: Any, _cursor: Any, _statement: str, _params: Any, _context: Any, _many: bool) -> None:
            self._started.at = time.perf_counter()

        @event.listens_for(db.engine, "after_cursor_execute")
        def after(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
            found = _TABLE.match(statement)
            kind = f"{found.group(1).split()[0].upper()} {found.group(2)}" if found else statement.split()[0].upper()
            counted = self.statements[kind]
            counted[0] += 1
            counted[1] += time.perf_counter() - self._started.at


@contextmanager
def instrumented(clock: Clock) -> Iterator[None]:
    """Wrap the filing's steps with ``clock`` for the block."""
    patches = [
        (filing, "check_anonymous_filing", "throttle: filings per origin"),
        (filing, "may_mail_receipt", "throttle: receipts per address and origin"),
        (filing, "finalise", "finalise (number, state, history, hook, receipt)"),
        (filing, "store", "the filing's database work (store)"),
        (filing, "_replay", "idempotency lookup (read session)"),
        (gateway.requests.notices, "notify_citizen", "receipt message (render, outbox insert)"),
    ]
    saved = [(module, name, getattr(module, name)) for module, name, _ in patches]
    hooks = gateway.db._commit_hooks
    saved_hooks = list(hooks)
    for module, name, label in patches:
        setattr(module, name, clock.wrap(label, getattr(module, name)))
    hooks[:] = [
        clock.wrap("audit append (commit hook)", hook) if hook is gateway.audit.log.append_pending else hook
        for hook in hooks
    ]
    try:
        yield
    finally:
        for module, name, original in saved:
            setattr(module, name, original)
        hooks[:] = saved_hooks


def run(url: str, config: ConfigFolder, filings: int, batch: int) -> None:
    registry = load_registry(load_settings(config.path))
    commune = registry.commune("venissieux")
    assert commune is not None
    rules = rules_for(registry, commune, "contact")
    db = Database(url)
    clock = Clock()
    clock.watch(db)
    caller = Caller(actor=ANONYMOUS, origin="api 127.0.0.1")

    def sent() -> filing.Submission:
        return filing.Submission(MESSAGE, secrets.token_urlsafe(16))

    for _ in range(20):  # warm-up: caches, compiled statements
        filing.file_request(db, registry, rules, caller, sent())
    results = {}
    with instrumented(clock):
        clock.reset()
        start = time.perf_counter()
        for _ in range(filings):
            filing.file_request(db, registry, rules, caller, sent())
        results["one transaction per filing"] = (time.perf_counter() - start, dict(clock.steps), _copy(clock))

        writer = GroupCommit(db, max_batch=batch)
        clock.reset()
        start = time.perf_counter()
        prepared = [filing.prepare(registry, rules, caller, sent()) for _ in range(filings)]
        clock.steps["prepare (checks, row: outside the lock)"] = time.perf_counter() - start
        in_batches = 0.0
        for first in range(0, filings, batch):
            held, release = _hold(writer)
            futures = [
                writer.submit("venissieux", functools.partial(filing.store, registry=registry, prepared=member))
                for member in prepared[first : first + batch]
                if isinstance(member, filing.Prepared)
            ]
            begun = time.perf_counter()
            release.set()
            for future in futures:
                future.result()
            in_batches += time.perf_counter() - begun
            held.result()
        clock.steps[f"the batches (BEGIN to COMMIT, {batch} a batch)"] = in_batches
        results[f"batched by {batch}"] = (time.perf_counter() - start, dict(clock.steps), _copy(clock))
        writer.close()
    db.dispose()
    for name, (total, steps, statements) in results.items():
        print(f"\n{name}: {total / filings * 1000:.2f} ms per filing ({filings} filings)")
        for step, seconds in sorted(steps.items(), key=lambda item: -item[1]):
            print(f"  {step:<58} {seconds / filings * 1000:7.2f} ms")
        print("  statements (per filing: how many, µs)")
        for kind, (count, seconds) in sorted(statements.items(), key=lambda item: -item[1][1]):
            print(f"    {kind:<40} {count / filings:5.2f}  {seconds / filings * 1e6:7.0f} µs")


def _copy(clock: Clock) -> dict[str, tuple[int, float]]:
    return {kind: (int(count), seconds) for kind, (count, seconds) in clock.statements.items()}


def _hold(writer: GroupCommit) -> tuple[Any, threading.Event]:
    """Keep the writer busy until the event is set, so the members submitted meanwhile form one batch."""
    started, release = threading.Event(), threading.Event()

    def wait(_session: Session) -> None:
        started.set()
        release.wait()

    held = writer.submit(None, wait)
    started.wait()
    return held, release


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filings", type=int, default=320)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--postgres", metavar="SERVER_URL", help="run on a fresh schema of this PostgreSQL server")
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        config = ConfigFolder.demo(Path(folder))
        config.set_gateway(filing_limits={"anonymous_per_origin": 100_000, "receipts_per_address": 10_000,
                                          "receipts_per_origin": 10_000})  # fmt: skip
        if arguments.postgres:
            with fresh_postgres_schema(arguments.postgres) as url:
                migrate(url)
                run(url, config, arguments.filings, arguments.batch)
            return
        url = f"sqlite:///{Path(folder) / 'guichet.db'}"
        migrate(url)
        run(url, config, arguments.filings, arguments.batch)


if __name__ == "__main__":
    main()
