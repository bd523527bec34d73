"""Audit benchmarks: what the audit log costs, each against its baseline in the same run.

- *filing with auditing* vs *filing with auditing off*: the price of writing
  the audit entry (running root, frontier update, the append lock) in the
  request's transaction, on SQLite.
- *appending an entry* vs *the same, Merkle tiles off*: what storing the
  tiles as they fill adds to an append.
- *verifying N entries* vs *plain SHA-256 over the same bytes*: full
  verification (hash, sealed position, columns, running root) against the
  floor of hashing the entries once; and the part of it spent recomputing
  every entry's running root.
- *an inclusion proof at N entries, from the stored tiles* vs *one indexed
  row read*, and vs *recomputing it from every leaf hash* (what proofs cost
  before the tiles).

``python -m bench.bench_audit`` verifies and proves at one million entries
(a couple of minutes of set-up on this kind of machine); ``--entries``
changes that.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

import gateway.audit.log
import gateway.db
from bench.harness import Comparison, compare
from gateway.app import create_app
from gateway.audit.events import ANONYMOUS, AuditEvent, encode
from gateway.audit.log import append
from gateway.audit.merkle import CompactRange, PrunedLeaves, inclusion_proof, leaf_hash
from gateway.audit.tiles import TiledLeaves, extend_tiles
from gateway.audit.verify import BATCH, SEARCHABLE, BatchChecker, Report
from gateway.models import AuditEntry
from gateway.requests.caller import Caller
from gateway.requests.filing import Submission, file_request
from gateway.requests.rules import rules_for
from gateway.testing import ConfigFolder, migrate

MESSAGE = {
    "name": "Camille Exemple",
    "email": "camille@example.org",
    "topic": "voirie",
    "message": "Un trou dans la rue.",
}


@contextmanager
def auditing_off() -> Iterator[None]:
    """Drop queued audit events instead of appending them (benchmark baseline only)."""
    real = gateway.audit.log.append

    def drop(session: Any, events: Any, **_: Any) -> list[Any]:
        return []  # the commit hook has taken the events off the session: they are dropped here

    gateway.audit.log.append = drop  # type: ignore[assignment]
    try:
        yield
    finally:
        gateway.audit.log.append = real


def filing(operations: int, rounds: int) -> Comparison:
    with tempfile.TemporaryDirectory() as folder:
        config = ConfigFolder.demo(Path(folder))
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        config.set_gateway(database={"url": url})
        migrate(url)
        app = create_app(config.path)
        db, registry = app.state.db, app.state.registry
        commune = registry.communes["venissieux"]
        keys = itertools.count()

        def file(n: int) -> None:
            for _ in range(n):
                key = f"bench-{next(keys)}"
                rules = rules_for(registry, commune, "contact")  # as each HTTP request resolves them
                file_request(db, registry, rules, Caller(ANONYMOUS, "bench"), Submission(MESSAGE, key))

        def file_unaudited(n: int) -> None:
            with auditing_off():
                file(n)

        result = compare("filing a request, audited", file, "the same, auditing off", file_unaudited,
                         operations=operations, rounds=rounds)  # fmt: skip
        app.state.db.dispose()
    return result


def synthetic_log(size: int) -> list[tuple[Any, ...]]:
    """``size`` valid entry rows, as verification reads them from the (SQLite) database."""
    frontier = CompactRange()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for seq in range(size):
        event = AuditEvent(
            action="request.read",
            actor_id=f"agent:{seq % 97}",
            actor_role="agent",
            resource=f"request/MSG-2026-{seq:06d}",
            purpose="instruction de la demande",
            origin="web 192.0.2.1",
            commune="venissieux",
            service="contact",
            subject=f"{seq:032x}",
        )
        time = start + timedelta(microseconds=seq)
        encoded = encode(event, seq=seq, time=time)
        leaf = leaf_hash(encoded.encode())
        frontier.append(leaf)
        stored_time = time.replace(tzinfo=None)  # SQLite gives back stored UTC times without their zone
        rows.append((seq, stored_time, encoded, leaf, frontier.root(), *(getattr(event, name) for name in SEARCHABLE)))
    return rows


def verification(entries: int) -> list[Comparison]:
    rows = synthetic_log(entries)
    texts = [row[2].encode() for row in rows]

    def verify(_: int) -> None:  # batch by batch, as `guichet audit verify` walks the database
        checker = BatchChecker(CompactRange(), Report())
        assert all(checker.check_batch(rows[start : start + BATCH]) for start in range(0, len(rows), BATCH))
        assert checker.report.size == len(rows)

    def running_roots(_: int) -> None:
        CompactRange().running_roots([row[3] for row in rows])

    def plain_sha256(_: int) -> None:
        for text in texts:
            hashlib.sha256(text).digest()

    return [
        compare(f"verifying {entries:,} entries", verify, "plain SHA-256 over the same bytes", plain_sha256,
                operations=entries, rounds=3, warm_up=False, memory=False),
        compare("of which checking every running root (one hash per set bit of the size)", running_roots,
                "plain SHA-256 over the same bytes", plain_sha256, operations=entries, rounds=3, warm_up=False,
                memory=False),
    ]  # fmt: skip


@contextmanager
def tiles_off() -> Iterator[None]:
    """Skip storing Merkle tiles on append (benchmark baseline only)."""
    real = gateway.audit.log.extend_tiles
    gateway.audit.log.extend_tiles = lambda *_: None  # type: ignore[assignment]
    try:
        yield
    finally:
        gateway.audit.log.extend_tiles = real


def appending(operations: int, rounds: int) -> Comparison:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        migrate(url)
        db = gateway.db.Database(url)
        event = AuditEvent(action="request.read", actor_id="agent:1", actor_role="agent", resource="request/1",
                           purpose="instruction", origin="bench")  # fmt: skip

        def add(n: int) -> None:
            for _ in range(n):
                with db.session() as session:
                    append(session, [event])

        def add_without_tiles(n: int) -> None:
            with tiles_off():
                add(n)

        result = compare("appending an audit entry (with Merkle tiles)", add, "the same, tiles off",
                         add_without_tiles, operations=operations, rounds=rounds)  # fmt: skip
        db.dispose()
    return result


def stored_log(url: str, size: int) -> None:
    """A log of ``size`` leaves (texts left out: proofs only read hashes) and its tiles, written in bulk."""
    migrate(url)
    db = gateway.db.Database(url)
    table = AuditEntry.__table__  # type: ignore[attr-defined]
    row = {"time": datetime(2026, 1, 1, tzinfo=UTC), "actor_id": "a", "actor_role": "agent", "action": "x.y",
           "resource": "r", "purpose": "p", "origin": "o", "outcome": "success", "encoded": "{}",
           "root_after": bytes(32)}  # fmt: skip
    with db.session(all_communes=True) as session:
        for start in range(0, size, 50_000):
            rows = [{**row, "seq": seq, "leaf_hash": hashlib.sha256(seq.to_bytes(8, "big")).digest()}
                    for seq in range(start, min(size, start + 50_000))]  # fmt: skip
            session.execute(table.insert(), rows)
        extend_tiles(session, 0, size)
    db.dispose()


def proofs(entries: int, operations: int) -> list[Comparison]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        stored_log(url, entries)
        db = gateway.db.Database(url)
        table = AuditEntry.__table__  # type: ignore[attr-defined]
        indices = itertools.cycle([(number * 7_919) % entries for number in range(1000)])  # spread, repeatable

        def from_tiles(n: int) -> None:
            with db.session(all_communes=True) as session:
                for _ in range(n):
                    inclusion_proof(next(indices), TiledLeaves(session, CompactRange(), entries))

        def one_row(n: int) -> None:
            with db.session(all_communes=True) as session:
                for _ in range(n):
                    session.execute(select(table.c.leaf_hash).where(table.c.seq == next(indices))).scalar_one()

        def from_leaves(n: int) -> None:
            with db.session(all_communes=True) as session:
                for _ in range(n):
                    leaves = session.execute(select(table.c.leaf_hash).order_by(table.c.seq)).scalars().all()
                    inclusion_proof(next(indices), PrunedLeaves(CompactRange(), leaves))

        with db.session(all_communes=True) as session:
            longest = max(len(inclusion_proof(index, TiledLeaves(session, CompactRange(), entries)))
                          for index in (0, entries // 3, entries - 1))  # fmt: skip
        named = f"an inclusion proof at {entries:,} entries, from the stored tiles ({longest} hashes at most)"
        results = [
            compare(named, from_tiles,
                    "one indexed row read", one_row, operations=operations, rounds=5, memory=False),
            compare(named, from_tiles,
                    "recomputed from every leaf hash", from_leaves, operations=2, rounds=1, warm_up=False,
                    memory=False),
        ]  # fmt: skip
        db.dispose()
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="log size for the verification benchmark")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args(argv)
    runs: list[Callable[[], list[Comparison]]] = [
        lambda: [filing(20 if args.quick else 300, 2 if args.quick else 5)],
        lambda: [appending(20 if args.quick else 500, 2 if args.quick else 5)],
        lambda: verification(2_000 if args.quick else args.entries),
        lambda: proofs(2_000 if args.quick else args.entries, 20 if args.quick else 1000),
    ]
    for run in runs:
        for comparison in run():
            print(comparison.report(), flush=True)


if __name__ == "__main__":
    main()
