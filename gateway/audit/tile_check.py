"""``guichet audit verify`` checks the stored Merkle tiles against the entries they summarise.

Proofs are read from the tiles, so a tile altered in the database would hand
out wrong proofs (they would fail to verify, but the fault would be found
late and far from its cause). Once the entries have been checked, every full
tile must exist and hold the leaf hashes, or the roots of the tiles below it,
that it stands for; tiles that reach below a prune point are checked for the
part that remains, and no tile may claim entries the log does not hold.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from gateway.audit.tiles import WIDTH, perfect_root, split
from gateway.audit.verify_records import Finding, Report
from gateway.db import Database
from gateway.models import AuditEntry, AuditTile

_ENTRY = AuditEntry.__table__  # type: ignore[attr-defined]
_TILE = AuditTile.__table__  # type: ignore[attr-defined]
CHUNK = 64  # tiles read at a time


def check_tiles(db: Database, first: int, size: int, report: Report) -> None:
    """Add a finding for the first tile that is missing, extra or does not fit the entries [first, size)."""
    with db.engine.connect() as connection:
        fault = _level_zero(connection, first, size)
        level = 1
        while fault is None and WIDTH ** (level + 1) <= size:
            fault = _upper_level(connection, level, first, size)
            level += 1
        if fault is None:
            fault = _extra(connection, size)
    if fault is not None:
        report.findings.append(fault)


def _tile_fault(level: int, index: int, message: str) -> Finding:
    return Finding("tile", f"Merkle tile {level}/{index}: {message}", index * WIDTH ** (level + 1))


def _level_zero(connection: Connection, first: int, size: int) -> Finding | None:
    for start in range(first // WIDTH, size // WIDTH, CHUNK):
        stop = min(start + CHUNK, size // WIDTH)
        tiles: dict[int, bytes] = dict(connection.execute(
            select(_TILE.c.idx, _TILE.c.hashes).where(_TILE.c.level == 0, _TILE.c.idx >= start, _TILE.c.idx < stop)
        ).all())  # fmt: skip
        leaves = connection.execute(
            select(_ENTRY.c.leaf_hash).where(_ENTRY.c.seq >= max(first, start * WIDTH), _ENTRY.c.seq < stop * WIDTH)
            .order_by(_ENTRY.c.seq)
        ).scalars().all()  # fmt: skip
        offset = max(first, start * WIDTH)
        for index in range(start, stop):
            blob = tiles.get(index)
            low = max(first, index * WIDTH)
            expected = b"".join(leaves[low - offset : (index + 1) * WIDTH - offset])
            if blob is None:
                if low == index * WIDTH:  # a tile reaching below the prune point may be gone
                    return _tile_fault(0, index, "missing")
            elif blob[(low - index * WIDTH) * 32 :] != expected:
                return _tile_fault(0, index, "its hashes differ from the entries' leaf hashes")
    return _roots(connection, 0)


def _upper_level(connection: Connection, level: int, first: int, size: int) -> Finding | None:
    below: dict[int, bytes] = dict(
        connection.execute(select(_TILE.c.idx, _TILE.c.root).where(_TILE.c.level == level - 1)).all()
    )
    tiles: dict[int, bytes] = dict(
        connection.execute(select(_TILE.c.idx, _TILE.c.hashes).where(_TILE.c.level == level)).all()
    )
    for index in range(first // WIDTH ** (level + 1), size // WIDTH ** (level + 1)):
        children = [below.get(index * WIDTH + position) for position in range(WIDTH)]
        blob = tiles.get(index)
        if blob is None:
            if all(children):
                return _tile_fault(level, index, "missing")
            continue
        for position, (stored, child) in enumerate(zip(split(blob), children, strict=True)):
            if child is not None and stored != child:
                return _tile_fault(level, index, f"hash {position} is not the root of tile {level - 1}/"
                                   f"{index * WIDTH + position}")  # fmt: skip
    return _roots(connection, level)


def _roots(connection: Connection, level: int) -> Finding | None:
    rows = connection.execute(select(_TILE.c.idx, _TILE.c.hashes, _TILE.c.root).where(_TILE.c.level == level))
    for index, blob, root in rows:
        if len(blob) != WIDTH * 32 or perfect_root(split(blob)) != root:
            return _tile_fault(level, index, "its root is not the hash of its contents")
    return None


def _extra(connection: Connection, size: int) -> Finding | None:
    for level, index in connection.execute(select(_TILE.c.level, _TILE.c.idx)):
        if (index + 1) * WIDTH ** (level + 1) > size:
            return _tile_fault(level, index, f"it claims entries beyond the log's {size}: the log was truncated")
    return None
