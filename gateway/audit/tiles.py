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

from sqlalchemy import select, text
from sqlmodel import Session

from gateway.audit.merkle import CompactRange, PrunedLeaves
from gateway.models import AuditEntry, AuditTile

WIDTH = 256
HEIGHT = 8  # tree levels per tile level: 2**8 == WIDTH
HASH = 32

MAX_LEVELS = 8  # 256**8 leaves: more than a 64-bit tree size holds
_ENTRY = AuditEntry.__table__  # type: ignore[attr-defined]
_TILE = AuditTile.__table__  # type: ignore[attr-defined]
# Plain SQL: a proof runs a few of these, and building statements would cost more than running them.
_ONE_TILE = text("SELECT hashes FROM audit_tile WHERE level = :level AND idx = :idx")
_LEAVES = text("SELECT seq, leaf_hash FROM audit_entry WHERE seq >= :start AND seq < :end")
_EDGE_CLAUSES = " OR ".join(f"(level = {n} AND idx BETWEEN :a{n} AND :b{n})" for n in range(MAX_LEVELS))
_EDGE_TILES = text("SELECT level, idx, hashes, root FROM audit_tile WHERE " + _EDGE_CLAUSES)  # noqa: S608 (constants)


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
    pruned); hashes above it come from the database. The right edge of the
    tree (every level's nodes past its last full tile) is read once, in two
    queries; then each proof reads one tile per level it crosses.
    """

    __slots__ = ("_cache", "_connection", "_edge_leaves", "_roots", "_tiles", "_tree_size")

    def __init__(self, session: Session, prefix: CompactRange, size: int) -> None:
        super().__init__(prefix, [])
        self._connection = session.connection()
        self._tree_size = size
        self._tiles: dict[tuple[int, int], bytes | None] = {}
        self._roots: dict[tuple[int, int], bytes] = {}
        self._edge_leaves: dict[int, bytes] | None = None
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

    def _complete(self, level: int) -> int:
        """How many nodes at tree height 8·level lie wholly inside the tree."""
        return self._tree_size >> (level * HEIGHT)

    def _load_edge(self) -> None:
        """Every level's last (partial) tile, and what stands for its nodes: the roots below, or leaf hashes.

        At level L these are the tiles from 256·⌊c/256⌋ to c, c the number of
        complete nodes one tile level up (their roots) or at L (the edge tile).
        """
        bounds = {}
        for level in range(MAX_LEVELS):
            bounds[f"a{level}"] = self._complete(level + 2) << HEIGHT
            bounds[f"b{level}"] = self._complete(level + 1)
        for row_level, index, blob, root in self._connection.execute(_EDGE_TILES, bounds):
            self._tiles[(row_level, index)] = blob
            self._roots[(row_level, index)] = root
        start = self._complete(1) << HEIGHT
        start = max(start, self.prefix.size)  # entries below a prune point are gone
        rows = self._connection.execute(_LEAVES, {"start": start, "end": self._tree_size})
        self._edge_leaves = {seq: leaf for seq, leaf in rows}

    def _read_nodes(self, level: int, first: int, count: int) -> list[bytes]:
        if self._edge_leaves is None:
            self._load_edge()
        tile, offset = divmod(first, WIDTH)
        if (level, tile) not in self._tiles:
            self._tiles[(level, tile)] = self._connection.execute(_ONE_TILE, {"level": level, "idx": tile}).scalar()
        blob = self._tiles[(level, tile)]
        if blob is not None:
            return split(blob[offset * HASH : (offset + count) * HASH])
        if tile == self._complete(level) // WIDTH:  # the right edge, read by _load_edge
            if level == 0:
                assert self._edge_leaves is not None
                leaves = self._edge_leaves
                rows = [leaves[seq] for seq in range(first, first + count) if seq in leaves]
            else:
                rows = [self._roots[(level - 1, index)] for index in range(first, first + count)
                        if (level - 1, index) in self._roots]  # fmt: skip
        else:  # a tile that reaches below a prune point was never stored: read what stands for its nodes
            rows = self._fallback(level, first, count)
        if len(rows) != count:
            raise ValueError(f"the log lacks hashes of level {level} from node {first}: run `guichet audit verify`")
        return rows

    def _fallback(self, level: int, first: int, count: int) -> list[bytes]:
        if level == 0:
            query = select(_ENTRY.c.leaf_hash).where(_ENTRY.c.seq >= first, _ENTRY.c.seq < first + count)
            return list(self._connection.execute(query.order_by(_ENTRY.c.seq)).scalars())
        query = select(_TILE.c.root).where(_TILE.c.level == level - 1, _TILE.c.idx >= first,
                                           _TILE.c.idx < first + count)  # fmt: skip
        return list(self._connection.execute(query.order_by(_TILE.c.idx)).scalars())

    def _unaligned_hash(self, start: int, end: int) -> bytes:
        """Proofs only ask for aligned ranges (see merkle.py); a direct call gets the leaves' fold."""
        if start < self.prefix.size:
            raise self._unavailable(start, end)
        pieces = CompactRange()
        for position in range(start, end):
            pieces.append(self._perfect_hash(position, 0))
        return pieces.root()
