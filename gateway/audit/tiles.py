"""Stored tiles of the Merkle tree, so that proofs read a handful of rows (C2SP tlog-tiles layout).

Tile (L, N) holds the 256 hashes at tree height 8·L of the nodes 256·N to
256·N+255: level 0 holds leaf hashes, level 1 the roots of 256-leaf subtrees,
and so on. Only full tiles are stored, each with its own root (which is one
hash of the tile above), appended in the same transaction as the entries that
fill them. The right edge of a tree — the nodes a full tile does not cover yet
— is read from the roots of the full tiles below it, or from the entries'
leaf hashes at level 0: never more than 128 short rows.

:class:`TiledLeaves` answers the proofs of :mod:`gateway.audit.merkle` from
them; :func:`extend_tiles` is what an append calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import sha256

from sqlalchemy import select
from sqlmodel import Session

from gateway.audit.merkle import CompactRange, PrunedLeaves
from gateway.models import AuditEntry, AuditTile

WIDTH = 256
HEIGHT = 8  # tree levels per tile level: 2**8 == WIDTH
HASH = 32

_ENTRY = AuditEntry.__table__  # type: ignore[attr-defined]
_TILE = AuditTile.__table__  # type: ignore[attr-defined]


def perfect_root(hashes: Sequence[bytes]) -> bytes:
    """The root of a perfect subtree given its bottom row (a power of two hashes)."""
    level = list(hashes)
    while len(level) > 1:
        pairs = iter(level)
        level = [sha256(b"\x01" + left + right).digest() for left, right in zip(pairs, pairs, strict=False)]
    return level[0]


def split(blob: bytes) -> list[bytes]:
    return [blob[offset : offset + HASH] for offset in range(0, len(blob), HASH)]


def extend_tiles(session: Session, old_size: int, new_size: int) -> None:
    """Store every tile the entries [old_size, new_size) just filled (called in the append's transaction)."""
    for tile in range(old_size // WIDTH, new_size // WIDTH):
        leaves = session.execute(
            select(_ENTRY.c.leaf_hash).where(_ENTRY.c.seq >= tile * WIDTH, _ENTRY.c.seq < (tile + 1) * WIDTH)
            .order_by(_ENTRY.c.seq)
        ).scalars().all()  # fmt: skip
        if len(leaves) == WIDTH:  # a tile reaching below a pruned prefix is never stored
            _store(session, 0, tile, list(leaves))


def _store(session: Session, level: int, index: int, hashes: list[bytes]) -> None:
    session.execute(_TILE.insert().values(level=level, idx=index, hashes=b"".join(hashes), root=perfect_root(hashes)))
    if index % WIDTH == WIDTH - 1:
        first = index - (WIDTH - 1)
        roots = session.execute(
            select(_TILE.c.root).where(_TILE.c.level == level, _TILE.c.idx >= first, _TILE.c.idx <= index)
            .order_by(_TILE.c.idx)
        ).scalars().all()  # fmt: skip
        if len(roots) == WIDTH:
            _store(session, level + 1, index // WIDTH, list(roots))


class TiledLeaves(PrunedLeaves):
    """A :class:`~gateway.audit.merkle.LeafSource` of ``size`` leaves read from the stored tiles.

    ``prefix`` is the compact range kept by retention (empty if nothing was
    pruned); hashes above it come from the database, a few rows per proof.
    """

    __slots__ = ("_cache", "_session", "_tiles", "_tree_size")

    def __init__(self, session: Session, prefix: CompactRange, size: int) -> None:
        super().__init__(prefix, [])
        self._session = session
        self._tree_size = size
        self._tiles: dict[tuple[int, int], bytes | None] = {}
        self._cache: dict[tuple[int, int, int], list[bytes]] = {}

    @property
    def size(self) -> int:
        return self._tree_size

    def _perfect_hash(self, start: int, height: int) -> bytes:
        if start < self.prefix.size:
            return super()._perfect_hash(start, height)
        level, rest = divmod(height, HEIGHT)
        first = start >> (level * HEIGHT)  # index of the first node at tree height 8·level
        return perfect_root(self._nodes(level, first, 1 << rest))

    def _nodes(self, level: int, first: int, count: int) -> list[bytes]:
        """The ``count`` hashes at tree height 8·level from node ``first`` on (inside one tile); cached,
        since the proofs of a bundle's many entries share most of them."""
        key = (level, first, count)
        if key not in self._cache:
            self._cache[key] = self._read_nodes(level, first, count)
        return self._cache[key]

    def _read_nodes(self, level: int, first: int, count: int) -> list[bytes]:
        tile, offset = divmod(first, WIDTH)
        if (level, tile) not in self._tiles:
            self._tiles[(level, tile)] = self._session.execute(
                select(_TILE.c.hashes).where(_TILE.c.level == level, _TILE.c.idx == tile)
            ).scalar()  # fmt: skip
        blob = self._tiles[(level, tile)]
        if blob is not None:
            return split(blob[offset * HASH : (offset + count) * HASH])
        if level == 0:
            query = select(_ENTRY.c.leaf_hash).where(_ENTRY.c.seq >= first, _ENTRY.c.seq < first + count)
            rows = self._session.execute(query.order_by(_ENTRY.c.seq)).scalars().all()
        else:  # the right edge: the roots of the full tiles one level down
            query = select(_TILE.c.root).where(
                _TILE.c.level == level - 1, _TILE.c.idx >= first, _TILE.c.idx < first + count
            )
            rows = self._session.execute(query.order_by(_TILE.c.idx)).scalars().all()
        if len(rows) != count:
            raise ValueError(f"the log lacks hashes of level {level} from node {first}: run `guichet audit verify`")
        return list(rows)

    def _unaligned_hash(self, start: int, end: int) -> bytes:
        """Proofs only ask for aligned ranges (see merkle.py); a direct call gets the leaves' fold."""
        if start < self.prefix.size:
            raise self._unavailable(start, end)
        pieces = CompactRange()
        for position in range(start, end):
            pieces.append(self._perfect_hash(position, 0))
        return pieces.root()
