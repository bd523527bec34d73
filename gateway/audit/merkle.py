"""The Merkle tree of the audit log, as defined by RFC 9162 §2.1 (identical to RFC 6962).

Leaves and interior nodes are hashed with SHA-256 and domain-separated by a
one-byte prefix (0x00 for a leaf, 0x01 for a node), so an auditor holding any
RFC 6962 implementation can check our roots and proofs.

Everything here is pure and works on leaf *hashes* (32 bytes each). The tree
hash of a list D[0:n] is written MTH(D[0:n]); for n > 1 it splits D at the
largest power of two k < n: MTH(D) = node(MTH(D[0:k]), MTH(D[k:n])).

A :class:`CompactRange` holds the roots of the perfect subtrees that cover the
leaves [0, size): enough to append a leaf or compute the root in O(log n)
without reading old leaves. Retention relies on it: once the entries [0, k)
are deleted, the compact range at k stands in for them, and
:class:`PrunedLeaves` still answers every inclusion proof for a kept entry and
every consistency proof from a tree size >= k.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, Sequence
from hashlib import sha256
from typing import Protocol, runtime_checkable

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "LeafList",
    "LeafSource",
    "PrunedLeaves",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

# Leaves are hashed up in aligned blocks of this many, level by level (one list
# comprehension per level keeps the per-node cost close to one hashlib call);
# the block roots then go into a compact range. Extra memory stays bounded by
# the block size plus one hash per level of the tree.
_BLOCK = 1 << 14


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf: SHA-256(0x00 || data)."""
    return sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 || left || right)."""
    return sha256(_NODE_PREFIX + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2): RFC 9162's split point k."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes")


def _perfect_root(hashes: list[bytes]) -> bytes:
    """MTH of a list whose length is a power of two, hashed level by level."""
    level = hashes
    node = _NODE_PREFIX
    while len(level) > 1:
        pairs = iter(level)
        level = [sha256(node + left + right).digest() for left, right in zip(pairs, pairs, strict=False)]
    return level[0]


class CompactRange:
    """The perfect subtrees covering leaves [0, size) — the tree's "frontier".

    ``hashes`` holds one subtree root per set bit of ``size``, the largest
    (leftmost) subtree first: for size 6 = 0b110, the roots of [0, 4) and [4, 6).
    """

    __slots__ = ("hashes", "size")

    def __init__(self) -> None:
        self.size: int = 0
        self.hashes: list[bytes] = []

    @classmethod
    def from_hashes(cls, size: int, hashes: Iterable[bytes]) -> CompactRange:
        """A compact range from stored subtree roots, checked for shape (one 32-byte hash per set bit of size)."""
        hashes = list(hashes)
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError(f"compact range size must be a non-negative integer, not {size!r}")
        if len(hashes) != size.bit_count():
            raise ValueError(
                f"a compact range of size {size} holds {size.bit_count()} subtree hashes, not {len(hashes)}"
            )
        for position, value in enumerate(hashes):
            _check_hash(value, f"compact range hash #{position}")
        compact = cls()
        compact.size = size
        compact.hashes = hashes
        return compact

    @classmethod
    def from_leaves(cls, leaf_hashes: Sequence[bytes]) -> CompactRange:
        """The compact range covering all the given leaves."""
        compact = cls()
        compact.extend(leaf_hashes)
        return compact

    def copy(self) -> CompactRange:
        clone = CompactRange()
        clone.size = self.size
        clone.hashes = list(self.hashes)
        return clone

    def subtree_ranges(self) -> list[tuple[int, int]]:
        """The leaf range [start, end) covered by each hash in ``hashes``, in the same order."""
        ranges = []
        start = 0
        for bit in reversed(range(self.size.bit_length())):
            if self.size >> bit & 1:
                ranges.append((start, start + (1 << bit)))
                start += 1 << bit
        return ranges

    def _push(self, height: int, subtree: bytes) -> None:
        """Add the root of a perfect subtree of 2**height leaves starting at ``size`` (which it must be aligned to)."""
        added = 1 << height
        bit = added
        # Every bit of size below `height` is clear; each set bit from `height` up is a
        # subtree of the same height as the one being carried, so the two merge.
        while self.size & bit:
            subtree = node_hash(self.hashes.pop(), subtree)
            bit <<= 1
        self.hashes.append(subtree)
        self.size += added

    def append(self, leaf_hash: bytes) -> None:
        """Add one leaf hash (amortised O(1) node hashes)."""
        _check_hash(leaf_hash, "leaf hash")
        self._push(0, leaf_hash)

    def extend(self, leaf_hashes: Sequence[bytes]) -> None:
        """Add many leaf hashes; hashes aligned blocks level by level, much faster than repeated ``append``."""
        count = len(leaf_hashes)
        if count and set(map(len, leaf_hashes)) != {HASH_SIZE}:  # checked before anything changes
            raise ValueError(f"leaf hashes must be {HASH_SIZE} bytes each")
        done = 0
        while done < count:
            alignment = self.size & -self.size if self.size else _BLOCK
            block = min(alignment, _BLOCK, 1 << ((count - done).bit_length() - 1))
            self._push(block.bit_length() - 1, _perfect_root(list(leaf_hashes[done : done + block])))
            done += block

    def root(self) -> bytes:
        """MTH of the covered leaves: the right fold node(h1, node(h2, ... node(h_{m-1}, h_m)))."""
        if not self.hashes:
            return EMPTY_ROOT
        result = self.hashes[-1]
        for subtree in reversed(self.hashes[:-1]):
            result = node_hash(subtree, result)
        return result

    def running_roots(self, leaf_hashes: Sequence[bytes]) -> list[bytes]:
        """Append the leaves one by one and return the root after each: what ``append`` then ``root`` give, faster.

        Verification checks every entry's running root; this is its inner loop,
        kept to one ``sha256`` call per node hash (each root still costs one
        hash per set bit of the size: roots of consecutive sizes share nothing).
        """
        if leaf_hashes and set(map(len, leaf_hashes)) != {HASH_SIZE}:  # checked before anything changes
            raise ValueError(f"leaf hashes must be {HASH_SIZE} bytes each")
        node, hashes, size = _NODE_PREFIX, self.hashes, self.size
        lefts = [node + subtree for subtree in hashes]  # each subtree root as the left half of a node, prefixed
        roots = []
        for leaf in leaf_hashes:
            bit = 1
            while size & bit:
                hashes.pop()
                leaf = sha256(lefts.pop() + leaf).digest()
                bit <<= 1
            result = leaf
            for left in lefts[::-1]:
                result = sha256(left + result).digest()
            roots.append(result)
            hashes.append(leaf)
            lefts.append(node + leaf)
            size += 1
        self.size = size
        return roots

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form: ``{"size": n, "hashes": [base64, ...]}``."""
        return {"size": self.size, "hashes": [base64.b64encode(value).decode("ascii") for value in self.hashes]}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> CompactRange:
        """Read the form written by :meth:`to_dict`, refusing anything malformed with ``ValueError``."""
        if set(data) != {"size", "hashes"}:
            raise ValueError(f"a compact range has exactly the keys 'size' and 'hashes', not {sorted(data)}")
        size, encoded = data["size"], data["hashes"]
        if isinstance(size, bool) or not isinstance(size, int):
            raise ValueError("compact range 'size' must be an integer")
        if not isinstance(encoded, list):
            raise ValueError("compact range 'hashes' must be a list")
        hashes = []
        for position, text in enumerate(encoded):
            if not isinstance(text, str):
                raise ValueError(f"compact range hash #{position} must be a base64 string")
            try:
                value = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError) as error:
                raise ValueError(f"compact range hash #{position} is not valid base64") from error
            hashes.append(value)
        return cls.from_hashes(size, hashes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompactRange):
            return NotImplemented
        return self.size == other.size and self.hashes == other.hashes

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"CompactRange(size={self.size}, hashes=[{len(self.hashes)} hashes])"


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of the given leaf hashes (RFC 9162 §2.1.1); ``EMPTY_ROOT`` for no leaves."""
    return CompactRange.from_leaves(leaf_hashes).root()


@runtime_checkable
class LeafSource(Protocol):
    """Whatever can answer for the leaves of a tree: its size and MTH(D[start:end]).

    Proofs only ask for the ranges that appear in the RFC 9162 decomposition: a
    ``start`` that is a multiple of a power of two 2**h with ``end - start <= 2**h``.
    A source that cannot answer a range raises ``ValueError``.
    """

    @property
    def size(self) -> int: ...

    def subtree_hash(self, start: int, end: int) -> bytes: ...


def _check_range(start: int, end: int, size: int) -> None:
    if not 0 <= start < end <= size:
        raise ValueError(f"leaf range [{start}, {end}) is not a non-empty range inside a tree of {size} leaves")


# Why a pruned log can still prove what it keeps.
#
# Let k be the pruning point and [p_i, p_i + 2**b_i) the frontier subtrees of [0, k),
# one per set bit b_i of k, from the highest bit down: p_i is k with its bits <= b_i
# cleared. Two facts about the RFC 9162 decomposition of a tree of n leaves:
#   (1) a node [lo, hi) whose split point is s (largest power of two < hi - lo) starts
#       at a multiple of 2s (true for the root; a left child [lo, lo + s) starts at a
#       multiple of 2s; a right child [lo + s, hi) has split s' < s, and lo + s is a
#       multiple of s >= 2s');
#   (2) so a left child [a, a + 2**h) starts at a multiple of 2**(h+1), and its parent
#       ends at most at a + 2**(h+1).
# A proof about a leaf m >= k (inclusion), or from an old size M >= k (consistency),
# needs right-hand siblings, which start after m (or at/after M) hence after k, and
# left-hand siblings [a, a + 2**h) whose parent also covers m (or reaches M), so
# k < a + 2**(h+1) (for consistency, equality would make the parent the old tree
# itself, where the recursion stops). For such a left sibling with a < k:
#   * if a + 2**h <= k, then a <= k - 2**h < a + 2**h with a a multiple of 2**(h+1):
#     bit h of k is set and a is k with bits <= h cleared. The sibling is exactly
#     the frontier subtree of bit h;
#   * if a + 2**h > k, it straddles k: a is k with bits < h cleared, i.e. a frontier
#     boundary, and [a, k) is tiled by the frontier subtrees of the bits of k below h.
#     Splitting the sibling in halves again and again, each half lies after k, or is
#     one of those frontier subtrees, or straddles k the same way (one per level).
# The last hash of a consistency proof, MTH(D[a:M]), is a left child ending at M (a
# right child ending at M would mean its parent ends at M too and the recursion would
# have stopped there), so the same two cases apply with h such that M = a + 2**h.
# PrunedLeaves therefore answers any range that starts at or after k, or starts at a
# frontier boundary and ends at a later boundary or after k; anything else — the
# inside of a frontier subtree — is gone, and asking for it raises ValueError.


def _aligned_pieces(start: int, end: int) -> list[tuple[int, int]] | None:
    """The perfect subtrees (start, height) whose right fold is MTH(D[start:end]), or None if one is not aligned.

    MTH of any list is the right fold of its compact range: one perfect subtree per
    set bit of its length, largest first. Ranges that are nodes of an RFC 9162 tree
    always decompose into subtrees aligned on their own size.
    """
    pieces = []
    position, length = start, end - start
    for height in reversed(range(length.bit_length())):
        if length >> height & 1:
            if position & ((1 << height) - 1):
                return None
            pieces.append((position, height))
            position += 1 << height
    return pieces


class PrunedLeaves:
    """A :class:`LeafSource` for a log whose leaves [0, k) were deleted.

    ``prefix`` is the compact range of [0, k) kept at pruning time and
    ``leaf_hashes_after`` the leaf hashes [k, n) still stored. The first request
    hashes every aligned subtree of [k, n) once (O(n) hashes, about n extra
    hashes of memory); each proof after that costs O(log n) look-ups, so one
    source can answer proofs for every kept entry.
    """

    __slots__ = ("_after", "_boundaries", "_frontier", "_levels", "_offsets", "prefix")

    def __init__(self, prefix: CompactRange, leaf_hashes_after: Sequence[bytes]) -> None:
        self.prefix = prefix.copy()
        self._after = list(leaf_hashes_after)
        if self._after and set(map(len, self._after)) != {HASH_SIZE}:
            raise ValueError(f"leaf hashes must be {HASH_SIZE} bytes each")
        ranges = prefix.subtree_ranges()
        self._frontier = dict(zip(ranges, prefix.hashes, strict=True))
        self._boundaries = [start for start, _ in ranges] + [prefix.size]
        # _levels[h][j] is the root of the aligned subtree [(o + j) * 2**h, (o + j + 1) * 2**h),
        # o = _offsets[h], for every such subtree inside [k, n).
        self._levels: list[list[bytes]] = []
        self._offsets: list[int] = []

    @property
    def size(self) -> int:
        return self.prefix.size + len(self._after)

    def subtree_hash(self, start: int, end: int) -> bytes:
        _check_range(start, end, self.size)
        pieces = _aligned_pieces(start, end)
        if pieces is None:
            return self._unaligned_hash(start, end)
        result = self._perfect_hash(*pieces[-1])
        for piece in reversed(pieces[:-1]):
            result = node_hash(self._perfect_hash(*piece), result)
        return result

    def _perfect_hash(self, start: int, height: int) -> bytes:
        """The root of the aligned perfect subtree [start, start + 2**height)."""
        pruned = self.prefix.size
        end = start + (1 << height)
        if start >= pruned:
            if not self._levels:
                self._build_levels()
            return self._levels[height][(start >> height) - self._offsets[height]]
        if end <= pruned:
            subtree = self._frontier.get((start, end))
            if subtree is None:
                raise self._unavailable(start, end)
            return subtree
        half = 1 << (height - 1)
        return node_hash(self._perfect_hash(start, height - 1), self._perfect_hash(start + half, height - 1))

    def _build_levels(self) -> None:
        node = _NODE_PREFIX
        level, offset = self._after, self.prefix.size
        while level:
            self._levels.append(level)
            self._offsets.append(offset)
            skip = offset & 1  # an odd first node pairs with a pruned one: not a subtree of [k, n)
            pairs = iter(level[skip:])
            level = [sha256(node + left + right).digest() for left, right in zip(pairs, pairs, strict=False)]
            offset = (offset + skip) >> 1

    def _unaligned_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range that is not a node of any tree: no proof asks for one."""
        pruned = self.prefix.size
        if start >= pruned:
            return root(self._after[start - pruned : end - pruned])
        if start not in self._boundaries or (end < pruned and end not in self._boundaries):
            raise self._unavailable(start, end)
        first = self._boundaries.index(start)
        last = self._boundaries.index(min(end, pruned))
        covering = CompactRange.from_hashes(min(end, pruned) - start, self.prefix.hashes[first:last])
        covering.extend(self._after[: max(end - pruned, 0)])
        return covering.root()

    def _unavailable(self, start: int, end: int) -> ValueError:
        return ValueError(
            f"the hash of leaves [{start}, {end}) is not available: the leaves before {self.prefix.size} were "
            f"pruned and the range is not made of whole pruned subtrees"
        )


class LeafList(PrunedLeaves):
    """A :class:`LeafSource` over all the leaf hashes of the tree, held in memory (nothing pruned)."""

    __slots__ = ()

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        super().__init__(CompactRange(), leaf_hashes)


def _source(leaves: Sequence[bytes] | LeafSource) -> LeafSource:
    if isinstance(leaves, LeafSource):
        return leaves
    return LeafList(leaves)


def _tree_size(source: LeafSource, size: int | None) -> int:
    if size is None:
        return source.size
    if not 0 <= size <= source.size:
        raise ValueError(f"tree size {size} is outside the {source.size} known leaves")
    return size


def inclusion_proof(index: int, leaves: Sequence[bytes] | LeafSource, *, size: int | None = None) -> list[bytes]:
    """The audit path of leaf ``index`` (RFC 9162 §2.1.3.1 PATH), deepest sibling first.

    ``leaves`` is every leaf hash of the tree, or a :class:`LeafSource` such as
    :class:`PrunedLeaves`; ``size`` proves against an earlier tree of that many
    leaves instead of the whole source.
    """
    source = _source(leaves)
    tree_size = _tree_size(source, size)
    if not 0 <= index < tree_size:
        raise ValueError(f"leaf index {index} is outside a tree of {tree_size} leaves")
    siblings = []
    low, high = 0, tree_size
    while high - low > 1:
        split = low + _largest_power_of_two_below(high - low)
        if index < split:
            siblings.append(source.subtree_hash(split, high))
            high = split
        else:
            siblings.append(source.subtree_hash(low, split))
            low = split
    siblings.reverse()
    return siblings


def consistency_proof(old_size: int, leaves: Sequence[bytes] | LeafSource, *, size: int | None = None) -> list[bytes]:
    """The proof that the tree of ``old_size`` leaves is a prefix of the tree (RFC 9162 §2.1.4.1 PROOF).

    Empty when ``old_size`` is 0 or the tree size. With :class:`PrunedLeaves`,
    any ``old_size`` at or after the pruning point works; an earlier one raises
    ``ValueError`` when the proof needs a pruned hash.
    """
    source = _source(leaves)
    tree_size = _tree_size(source, size)
    if not 0 <= old_size <= tree_size:
        raise ValueError(f"old size {old_size} is outside a tree of {tree_size} leaves")
    if old_size in (0, tree_size):
        return []
    proof = []
    low, high, remaining = 0, tree_size, old_size
    # `whole` is SUBPROOF's b flag: the current subtree's old part is the whole old tree,
    # whose root the verifier already holds.
    whole = True
    while remaining != high - low:
        split = _largest_power_of_two_below(high - low)
        if remaining <= split:
            proof.append(source.subtree_hash(low + split, high))
            high = low + split
        else:
            proof.append(source.subtree_hash(low, low + split))
            low += split
            remaining -= split
            whole = False
    if not whole:
        proof.append(source.subtree_hash(low, high))
    proof.reverse()
    return proof


def _all_hashes(values: Iterable[object]) -> bool:
    return all(isinstance(value, bytes) and len(value) == HASH_SIZE for value in values)


def verify_inclusion(index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """Whether ``proof`` shows leaf ``index`` with ``leaf_hash`` in the tree of ``size`` leaves with ``root``.

    The algorithm of RFC 9162 §2.1.3.2.
    """
    if not 0 <= index < size or not _all_hashes([leaf_hash, root, *proof]):
        return False
    first, last = index, size - 1
    result = leaf_hash
    for sibling in proof:
        if last == 0:
            return False
        if first & 1 or first == last:
            result = node_hash(sibling, result)
            while first and not first & 1:
                first >>= 1
                last >>= 1
        else:
            result = node_hash(result, sibling)
        first >>= 1
        last >>= 1
    return last == 0 and result == root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """Whether ``proof`` shows the tree (``old_size``, ``old_root``) is a prefix of (``new_size``, ``new_root``).

    The algorithm of RFC 9162 §2.1.4.2, plus the trivial cases: equal sizes need
    an empty proof and equal roots; an empty old tree needs an empty proof and
    the empty root.
    """
    if not 0 <= old_size <= new_size or not _all_hashes([old_root, new_root, *proof]):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    first, last = old_size - 1, new_size - 1
    while first & 1:
        first >>= 1
        last >>= 1
    old_result = new_result = path[0]
    for sibling in path[1:]:
        if last == 0:
            return False
        if first & 1 or first == last:
            old_result = node_hash(sibling, old_result)
            new_result = node_hash(sibling, new_result)
            while first and not first & 1:
                first >>= 1
                last >>= 1
        else:
            new_result = node_hash(new_result, sibling)
        first >>= 1
        last >>= 1
    return last == 0 and old_result == old_root and new_result == new_root
