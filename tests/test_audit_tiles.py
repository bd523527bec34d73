"""Proofs read from the stored Merkle tiles are the proofs computed from every leaf; verify checks the tiles."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, text
from sqlmodel import Session, SQLModel

from gateway.audit.checkpoint import generate_signer
from gateway.audit.events import AuditEvent
from gateway.audit.log import append
from gateway.audit.merkle import CompactRange, LeafList, PrunedLeaves, consistency_proof, inclusion_proof
from gateway.audit.tiles import TiledLeaves, extend_tiles
from gateway.audit.verify import verify_log
from gateway.db import Database, make_engine
from gateway.models import AuditEntry
from tests.audit_tamper import tamper

SIZE = 2 * 65536 + 777  # two full tiles of level 1, and ragged edges on every level
LEAVES = [hashlib.sha256(number.to_bytes(8, "big")).digest() for number in range(SIZE)]
ENTRY = AuditEntry.__table__  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    """An unguarded in-memory store of SIZE leaves and their tiles, built as appends would build them."""
    engine = make_engine("sqlite://")
    SQLModel.metadata.create_all(engine, tables=[ENTRY, SQLModel.metadata.tables["audit_tile"]])
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    row = {"time": moment, "actor_id": "a", "actor_role": "agent", "action": "x.y", "resource": "r", "purpose": "p",
           "origin": "o", "outcome": "success", "encoded": "{}", "root_after": bytes(32)}  # fmt: skip
    with Session(engine) as store:
        store.execute(ENTRY.insert(), [{**row, "seq": seq, "leaf_hash": leaf} for seq, leaf in enumerate(LEAVES)])
        extend_tiles(store, 0, SIZE)
        store.commit()
        yield store
    engine.dispose()


@pytest.mark.parametrize("size", [1, 255, 256, 257, 65536, 65537, SIZE])
def test_inclusion_proofs_from_tiles_match_proofs_from_every_leaf(session: Session, size: int) -> None:
    tiled, full = TiledLeaves(session, CompactRange(), size), LeafList(LEAVES[:size])
    for index in sorted({0, size // 3, size // 2, max(size - 257, 0), size - 1}):
        assert inclusion_proof(index, tiled) == inclusion_proof(index, full), index


@pytest.mark.parametrize(("old", "new"), [(1, 256), (256, 65537), (300, 65536), (65536, SIZE), (70001, SIZE)])
def test_consistency_proofs_from_tiles_match_proofs_from_every_leaf(session: Session, old: int, new: int) -> None:
    tiled, full = TiledLeaves(session, CompactRange(), new), LeafList(LEAVES[:new])
    assert consistency_proof(old, tiled) == consistency_proof(old, full)


def test_proofs_after_a_prune_point_still_match(session: Session) -> None:
    """Below the cut only the frontier is used, as with PrunedLeaves (the tiles below it are not even read)."""
    cut = 70001
    prefix = CompactRange.from_leaves(LEAVES[:cut])
    tiled, reference = TiledLeaves(session, prefix, SIZE), PrunedLeaves(prefix, LEAVES[cut:])
    for index in (cut, cut + 1, 100000, SIZE - 1):
        assert inclusion_proof(index, tiled) == inclusion_proof(index, reference)
    assert consistency_proof(cut + 5, tiled) == consistency_proof(cut + 5, reference)


def test_a_proof_reads_a_handful_of_rows(session: Session) -> None:
    statements: list[str] = []

    def count(*_: object) -> None:
        statements.append("query")

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        inclusion_proof(SIZE // 2, TiledLeaves(session, CompactRange(), SIZE))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) <= 12


@pytest.fixture
def db(guichet_database_url: str) -> Iterator[Database]:
    database = Database(guichet_database_url)
    with database.session() as store:
        entry = AuditEvent(action="request.read", actor_id="agent:1", actor_role="agent", resource="request/1",
                           purpose="instruction", origin="cli test")  # fmt: skip
        append(store, [entry] * 600)
    yield database
    database.dispose()


def test_tiles_are_stored_as_entries_fill_them(db: Database) -> None:
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT level, idx FROM audit_tile ORDER BY idx")).all() == [(0, 0), (0, 1)]


def test_altered_tile_is_located(db: Database) -> None:
    tamper(db, "UPDATE audit_tile SET hashes = :blob WHERE idx = 1", blob=bytes(8192))
    [finding] = verify_log(db, [generate_signer("o").verifier()]).findings
    assert (finding.kind, finding.seq) == ("tile", 256)


def test_missing_tile_is_located(db: Database) -> None:
    tamper(db, "DELETE FROM audit_tile WHERE idx = 0")
    [finding] = verify_log(db, [generate_signer("o").verifier()]).findings
    assert (finding.kind, finding.seq) == ("tile", 0)
    assert "missing" in finding.message


def test_tile_left_behind_by_a_truncation_is_located(db: Database) -> None:
    with db.engine.connect() as connection:
        frontier = CompactRange.from_leaves(
            list(connection.execute(text("SELECT leaf_hash FROM audit_entry WHERE seq < 300 ORDER BY seq")).scalars())
        )
    tamper(db, "DELETE FROM audit_entry WHERE seq >= 300", "UPDATE audit_head SET size = :size, frontier = :frontier",
           size=300, frontier=json.dumps(frontier.to_dict()))  # fmt: skip
    [finding] = verify_log(db, [generate_signer("o").verifier()]).findings
    assert (finding.kind, finding.seq) == ("tile", 256)
    assert "beyond" in finding.message
