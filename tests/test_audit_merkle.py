"""The audit log's Merkle tree: RFC 9162 roots and proofs, the compact range, and proofs from a pruned log."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable

import pytest

from gateway.audit import merkle
from gateway.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    LeafList,
    PrunedLeaves,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# --- An independent, literal reading of RFC 9162 §2.1, recursive and slow on purpose. -------------


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(hashes: list[bytes]) -> bytes:
    if not hashes:
        return _sha(b"")
    if len(hashes) == 1:
        return hashes[0]
    k = _split(len(hashes))
    return _sha(b"\x01" + ref_mth(hashes[:k]) + ref_mth(hashes[k:]))


def ref_path(m: int, hashes: list[bytes]) -> list[bytes]:
    if len(hashes) == 1:
        return []
    k = _split(len(hashes))
    if m < k:
        return [*ref_path(m, hashes[:k]), ref_mth(hashes[k:])]
    return [*ref_path(m - k, hashes[k:]), ref_mth(hashes[:k])]


def ref_subproof(m: int, hashes: list[bytes], whole: bool) -> list[bytes]:
    if m == len(hashes):
        return [] if whole else [ref_mth(hashes)]
    k = _split(len(hashes))
    if m <= k:
        return [*ref_subproof(m, hashes[:k], whole), ref_mth(hashes[k:])]
    return [*ref_subproof(m - k, hashes[k:], False), ref_mth(hashes[:k])]


def ref_proof(m: int, hashes: list[bytes]) -> list[bytes]:
    return ref_subproof(m, hashes, True)


# --- The Certificate Transparency reference data (RFC 6962 test vectors). -----------------------

CT_LEAVES = [
    bytes.fromhex(text)
    for text in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
]
CT_HASHES = [leaf_hash(data) for data in CT_LEAVES]
CT_ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
# (leaf index, tree size) -> audit path; the CT sources number leaves from 1, these from 0.
CT_INCLUSION = {
    (0, 1): [],
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 3): ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    (1, 5): [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}
# (old size, new size) -> consistency proof.
CT_CONSISTENCY = {
    (1, 1): [],
    (1, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
    (3, 7): [
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e",
    ],
}

MAX_SIZE = 70
LEAVES = [leaf_hash(f"audit entry {i}".encode()) for i in range(MAX_SIZE + 1)]
ROOTS = [root(LEAVES[:n]) for n in range(MAX_SIZE + 1)]


def _hexes(values: list[bytes]) -> list[str]:
    return [value.hex() for value in values]


def _flip(value: bytes, bit: int) -> bytes:
    changed = bytearray(value)
    changed[bit // 8 % len(changed)] ^= 1 << (bit % 8)
    return bytes(changed)


@functools.cache
def _full_inclusion_proof(index: int, n: int) -> list[bytes]:
    return inclusion_proof(index, LEAVES[:n])


@functools.cache
def _full_consistency_proof(m: int, n: int) -> list[bytes]:
    return consistency_proof(m, LEAVES[:n])


def _all_inclusion_cases() -> list[tuple[int, int, list[bytes]]]:
    return [(index, n, _full_inclusion_proof(index, n)) for n in range(1, MAX_SIZE + 1) for index in range(n)]


def _all_consistency_cases() -> list[tuple[int, int, list[bytes]]]:
    return [(m, n, _full_consistency_proof(m, n)) for n in range(2, MAX_SIZE + 1) for m in range(1, n)]


# --- Hashes and roots. ---------------------------------------------------------------------------


def test_leaf_hash_prefixes_a_zero_byte() -> None:
    assert leaf_hash(b"abc") == _sha(b"\x00abc")


def test_node_hash_prefixes_a_one_byte() -> None:
    left, right = _sha(b"l"), _sha(b"r")
    assert node_hash(left, right) == _sha(b"\x01" + left + right)


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root([]) == EMPTY_ROOT


def test_roots_of_ct_reference_leaves_match_published_values() -> None:
    assert {n: root(CT_HASHES[:n]).hex() for n in range(1, 9)} == CT_ROOTS


def test_published_roots_agree_with_the_recursive_reference() -> None:
    assert {n: ref_mth(CT_HASHES[:n]).hex() for n in range(1, 9)} == CT_ROOTS


def test_root_matches_the_recursive_reference_for_every_size_up_to_70() -> None:
    for n in range(MAX_SIZE + 1):
        assert root(LEAVES[:n]) == ref_mth(LEAVES[:n]), n


def test_root_across_many_hashing_blocks_matches_leaf_by_leaf_appends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(merkle, "_BLOCK", 4)
    for n in range(MAX_SIZE + 1):
        assert root(LEAVES[:n]) == ref_mth(LEAVES[:n]), n


def test_root_of_a_hundred_thousand_leaves_matches_appending_them_one_by_one() -> None:
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(100_003)]
    compact = CompactRange()
    for value in hashes:
        compact.append(value)
    assert root(hashes) == compact.root()


def test_root_refuses_hashes_that_are_not_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        root([LEAVES[0], b"short"])


# --- Proofs against the published vectors. -------------------------------------------------------


def test_inclusion_proofs_match_published_ct_vectors() -> None:
    for (index, n), expected in CT_INCLUSION.items():
        assert _hexes(inclusion_proof(index, CT_HASHES[:n])) == expected, (index, n)


def test_consistency_proofs_match_published_ct_vectors() -> None:
    for (m, n), expected in CT_CONSISTENCY.items():
        assert _hexes(consistency_proof(m, CT_HASHES[:n])) == expected, (m, n)


def test_published_proofs_agree_with_the_recursive_reference() -> None:
    for (index, n), expected in CT_INCLUSION.items():
        assert _hexes(ref_path(index, CT_HASHES[:n])) == expected
    for (m, n), expected in CT_CONSISTENCY.items():
        assert _hexes(ref_proof(m, CT_HASHES[:n])) == expected


def test_published_inclusion_proofs_verify() -> None:
    for (index, n), expected in CT_INCLUSION.items():
        proof = [bytes.fromhex(value) for value in expected]
        assert verify_inclusion(index, n, CT_HASHES[index], proof, bytes.fromhex(CT_ROOTS[n]))


def test_published_consistency_proofs_verify() -> None:
    for (m, n), expected in CT_CONSISTENCY.items():
        proof = [bytes.fromhex(value) for value in expected]
        assert verify_consistency(m, n, bytes.fromhex(CT_ROOTS[m]), bytes.fromhex(CT_ROOTS[n]), proof)


# --- Inclusion proofs for every index of every tree up to 70 leaves. ----------------------------


def test_inclusion_proofs_match_the_recursive_reference() -> None:
    for index, n, proof in _all_inclusion_cases():
        assert proof == ref_path(index, LEAVES[:n]), (index, n)


def test_every_inclusion_proof_verifies() -> None:
    for index, n, proof in _all_inclusion_cases():
        assert verify_inclusion(index, n, LEAVES[index], proof, ROOTS[n]), (index, n)


def test_inclusion_proof_with_a_flipped_bit_fails() -> None:
    for index, n, proof in _all_inclusion_cases():
        for position in range(len(proof)):
            for bit in (0, 131, 255):
                tampered = [*proof[:position], _flip(proof[position], bit), *proof[position + 1 :]]
                assert not verify_inclusion(index, n, LEAVES[index], tampered, ROOTS[n]), (index, n, position)


def test_inclusion_proof_for_another_index_fails() -> None:
    for index, n, proof in _all_inclusion_cases():
        for other in range(-1, n + 1):
            if other != index:
                assert not verify_inclusion(other, n, LEAVES[index], proof, ROOTS[n]), (index, other, n)


def test_inclusion_proof_against_another_tree_size_fails() -> None:
    for index, n, proof in _all_inclusion_cases():
        for other in range(1, MAX_SIZE + 1):
            if other != n:
                assert not verify_inclusion(index, other, LEAVES[index], proof, ROOTS[other]), (index, n, other)


def test_truncated_inclusion_proof_fails() -> None:
    for index, n, proof in _all_inclusion_cases():
        for cut in range(len(proof)):
            assert not verify_inclusion(index, n, LEAVES[index], proof[:cut], ROOTS[n]), (index, n, cut)


def test_extended_inclusion_proof_fails() -> None:
    for index, n, proof in _all_inclusion_cases():
        for extra in (LEAVES[0], ROOTS[n]):
            assert not verify_inclusion(index, n, LEAVES[index], [*proof, extra], ROOTS[n]), (index, n)
            assert not verify_inclusion(index, n, LEAVES[index], [extra, *proof], ROOTS[n]), (index, n)


def test_inclusion_proof_for_another_leaf_fails() -> None:
    for index, n, proof in _all_inclusion_cases():
        assert not verify_inclusion(index, n, _flip(LEAVES[index], 7), proof, ROOTS[n]), (index, n)


def test_inclusion_proof_of_an_index_outside_the_tree_is_refused() -> None:
    with pytest.raises(ValueError, match="outside a tree of 5 leaves"):
        inclusion_proof(5, LEAVES[:5])


def test_inclusion_proof_can_target_an_earlier_tree_size() -> None:
    assert inclusion_proof(3, LEAVES, size=9) == inclusion_proof(3, LEAVES[:9])


# --- Consistency proofs between every pair of sizes up to 70. -----------------------------------


def test_consistency_proofs_match_the_recursive_reference() -> None:
    for m, n, proof in _all_consistency_cases():
        assert proof == ref_proof(m, LEAVES[:n]), (m, n)


def test_every_consistency_proof_verifies() -> None:
    for m, n, proof in _all_consistency_cases():
        assert verify_consistency(m, n, ROOTS[m], ROOTS[n], proof), (m, n)


def test_consistency_proof_with_a_flipped_bit_fails() -> None:
    for m, n, proof in _all_consistency_cases():
        for position in range(len(proof)):
            for bit in (0, 131, 255):
                tampered = [*proof[:position], _flip(proof[position], bit), *proof[position + 1 :]]
                assert not verify_consistency(m, n, ROOTS[m], ROOTS[n], tampered), (m, n, position)


def test_consistency_proof_for_another_old_size_fails() -> None:
    for m, n, proof in _all_consistency_cases():
        for other in range(0, n + 1):
            if other != m:
                assert not verify_consistency(other, n, ROOTS[other], ROOTS[n], proof), (m, other, n)


def test_consistency_proof_for_another_new_size_fails() -> None:
    for m, n, proof in _all_consistency_cases():
        for other in range(m, MAX_SIZE + 1):
            if other != n:
                assert not verify_consistency(m, other, ROOTS[m], ROOTS[other], proof), (m, n, other)


def test_truncated_consistency_proof_fails() -> None:
    for m, n, proof in _all_consistency_cases():
        for cut in range(len(proof)):
            assert not verify_consistency(m, n, ROOTS[m], ROOTS[n], proof[:cut]), (m, n, cut)


def test_extended_consistency_proof_fails() -> None:
    for m, n, proof in _all_consistency_cases():
        for extra in (LEAVES[0], ROOTS[m]):
            assert not verify_consistency(m, n, ROOTS[m], ROOTS[n], [*proof, extra]), (m, n)
            assert not verify_consistency(m, n, ROOTS[m], ROOTS[n], [extra, *proof]), (m, n)


def test_consistency_proof_against_a_different_old_root_fails() -> None:
    for m, n, proof in _all_consistency_cases():
        assert not verify_consistency(m, n, _flip(ROOTS[m], 0), ROOTS[n], proof), (m, n)
        assert not verify_consistency(m, n, ROOTS[m], _flip(ROOTS[n], 0), proof), (m, n)


def test_consistency_between_equal_sizes_needs_an_empty_proof_and_equal_roots() -> None:
    assert consistency_proof(5, LEAVES[:5]) == []
    assert verify_consistency(5, 5, ROOTS[5], ROOTS[5], [])
    assert not verify_consistency(5, 5, ROOTS[5], ROOTS[6], [])
    assert not verify_consistency(5, 5, ROOTS[5], ROOTS[5], [ROOTS[5]])


def test_consistency_from_the_empty_tree_needs_an_empty_proof_and_the_empty_root() -> None:
    assert consistency_proof(0, LEAVES[:5]) == []
    assert verify_consistency(0, 5, EMPTY_ROOT, ROOTS[5], [])
    assert not verify_consistency(0, 5, ROOTS[1], ROOTS[5], [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, ROOTS[5], [ROOTS[5]])


def test_consistency_from_a_larger_tree_fails() -> None:
    assert not verify_consistency(6, 5, ROOTS[6], ROOTS[5], consistency_proof(5, LEAVES[:6]))
    with pytest.raises(ValueError, match="outside a tree of 5 leaves"):
        consistency_proof(6, LEAVES[:5])


# --- The compact range. --------------------------------------------------------------------------


def test_compact_range_root_equals_root_for_every_size() -> None:
    compact = CompactRange()
    assert compact.root() == EMPTY_ROOT
    for n in range(1, MAX_SIZE + 1):
        compact.append(LEAVES[n - 1])
        assert (compact.size, compact.root()) == (n, ROOTS[n])


def test_compact_range_holds_one_perfect_subtree_root_per_set_bit_largest_first() -> None:
    for n in range(MAX_SIZE + 1):
        compact = CompactRange.from_leaves(LEAVES[:n])
        ranges = compact.subtree_ranges()
        assert [end - start for start, end in ranges] == sorted((1 << b for b in range(7) if n >> b & 1), reverse=True)
        assert compact.hashes == [ref_mth(LEAVES[start:end]) for start, end in ranges], n


def test_compact_range_extend_from_any_size_matches_appends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(merkle, "_BLOCK", 8)
    for start in range(0, 40, 3):
        for n in range(start, MAX_SIZE + 1, 5):
            compact = CompactRange.from_leaves(LEAVES[:start])
            compact.extend(LEAVES[start:n])
            assert compact == CompactRange.from_leaves(LEAVES[:n]), (start, n)
            assert compact.root() == ref_mth(LEAVES[:n])


def test_compact_range_round_trips_through_json() -> None:
    compact = CompactRange.from_leaves(LEAVES[:45])
    restored = CompactRange.from_dict(json.loads(json.dumps(compact.to_dict())))
    assert restored == compact
    assert restored.root() == ROOTS[45]


def test_compact_range_copy_is_independent() -> None:
    compact = CompactRange.from_leaves(LEAVES[:5])
    clone = compact.copy()
    clone.append(LEAVES[5])
    assert (compact.size, compact.root()) == (5, ROOTS[5])
    assert (clone.size, clone.root()) == (6, ROOTS[6])


def test_compact_range_from_hashes_refuses_a_hash_count_not_matching_the_size() -> None:
    hashes = CompactRange.from_leaves(LEAVES[:6]).hashes
    with pytest.raises(ValueError, match="size 7 holds 3 subtree hashes, not 2"):
        CompactRange.from_hashes(7, hashes)


def test_compact_range_from_hashes_refuses_hashes_that_are_not_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        CompactRange.from_hashes(1, [b"\x00" * 31])


@pytest.mark.parametrize(
    ("data", "fault"),
    [
        ({"size": 1}, "exactly the keys"),
        ({"size": "1", "hashes": ["AA=="]}, "must be an integer"),
        ({"size": 1, "hashes": "AA=="}, "must be a list"),
        ({"size": 1, "hashes": ["not base64!"]}, "not valid base64"),
        ({"size": 1, "hashes": ["AAAA"]}, "32 bytes"),
        ({"size": -1, "hashes": []}, "non-negative"),
    ],
    ids=["missing-key", "size-not-int", "hashes-not-list", "bad-base64", "short-hash", "negative-size"],
)
def test_compact_range_from_dict_refuses_malformed_data(data: dict[str, object], fault: str) -> None:
    with pytest.raises(ValueError, match=fault):
        CompactRange.from_dict(data)


def test_compact_range_append_refuses_a_hash_that_is_not_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        CompactRange().append(b"\x00" * 33)


# --- Proofs from a pruned log. -------------------------------------------------------------------

PRUNING_POINTS = [1, 2, 3, 4, 5, 6, 7, 8, 11, 16, 21, 32, 37, 45, 63, 64]


def _pruned(k: int, n: int) -> PrunedLeaves:
    return PrunedLeaves(CompactRange.from_leaves(LEAVES[:k]), LEAVES[k:n])


def test_pruned_leaves_give_the_same_inclusion_proofs_as_the_full_log() -> None:
    for k in PRUNING_POINTS:
        for n in range(k + 1, MAX_SIZE + 1):
            source = _pruned(k, n)
            for index in range(k, n):
                assert inclusion_proof(index, source) == _full_inclusion_proof(index, n), (k, n, index)


def test_pruned_leaves_give_the_same_consistency_proofs_from_the_pruning_point_on() -> None:
    for k in PRUNING_POINTS:
        for n in range(k + 1, MAX_SIZE + 1):
            source = _pruned(k, n)
            for m in range(k, n + 1):
                assert consistency_proof(m, source) == _full_consistency_proof(m, n), (k, n, m)


def test_pruned_leaves_answer_proofs_for_earlier_tree_sizes() -> None:
    source = _pruned(21, MAX_SIZE)
    assert inclusion_proof(30, source, size=40) == inclusion_proof(30, LEAVES[:40])
    assert consistency_proof(25, source, size=40) == consistency_proof(25, LEAVES[:40])


def test_pruned_consistency_from_before_the_pruning_point_is_exact_or_refused() -> None:
    refused = 0
    for k in PRUNING_POINTS:
        for n in range(k + 1, MAX_SIZE + 1, 3):
            for m in range(1, k):
                try:
                    proof = consistency_proof(m, _pruned(k, n))
                except ValueError as error:
                    assert "pruned" in str(error)
                    refused += 1
                else:
                    assert proof == _full_consistency_proof(m, n), (k, n, m)
    assert refused > 0


def test_pruned_consistency_needing_a_hash_inside_a_pruned_subtree_is_refused() -> None:
    # From size 3 to 8 the proof needs MTH(D[0:2]), leaf 2 and leaf 3, all inside the pruned subtree [0, 4) of k = 5.
    with pytest.raises(ValueError, match=r"hash of leaves \[0, 2\) is not available"):
        consistency_proof(3, _pruned(5, 8))


def test_pruned_inclusion_of_a_pruned_leaf_is_refused() -> None:
    with pytest.raises(ValueError, match="pruned"):
        inclusion_proof(2, _pruned(5, 8))


def test_plain_sequences_and_leaf_lists_give_the_same_proofs() -> None:
    assert inclusion_proof(17, LeafList(LEAVES[:50])) == inclusion_proof(17, LEAVES[:50])
    assert consistency_proof(17, LeafList(LEAVES[:50])) == consistency_proof(17, LEAVES[:50])


class _RecordingLeaves:
    """A leaf source that only records which ranges the proof algorithms ask for."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.asked: list[tuple[int, int]] = []

    def subtree_hash(self, start: int, end: int) -> bytes:
        assert 0 <= start < end <= self.size
        self.asked.append((start, end))
        return bytes(32)


@functools.cache
def _frontier_ranges(k: int) -> list[tuple[int, int]]:
    return CompactRange.from_leaves(LEAVES[:k]).subtree_ranges()


def _frontier_claim_holds(k: int, asked: list[tuple[int, int]]) -> bool:
    """Every range asked that touches [0, k) is a frontier subtree, or starts at a frontier boundary and passes k."""
    frontier = _frontier_ranges(k)
    boundaries = {start for start, _ in frontier}
    return all(start >= k or (start, end) in frontier or (start in boundaries and end > k) for start, end in asked)


@pytest.mark.parametrize("proof", ["inclusion", "consistency"])
def test_ranges_a_proof_needs_below_the_pruning_point_are_frontier_subtrees_or_straddle_from_a_boundary(
    proof: str,
) -> None:
    prove: Callable[[int, _RecordingLeaves], list[bytes]] = (
        inclusion_proof if proof == "inclusion" else consistency_proof
    )
    for k in range(1, MAX_SIZE):
        for n in range(k + 1, MAX_SIZE + 1):
            for point in range(k, n):
                source = _RecordingLeaves(n)
                prove(point, source)
                assert _frontier_claim_holds(k, source.asked), (proof, k, n, point, source.asked)


def test_pruned_leaves_hash_a_range_straddling_the_pruning_point() -> None:
    # k = 5: frontier [0, 4) and [4, 5); the subtree [4, 8) is leaf 4 from the frontier plus leaves 5..7.
    assert _pruned(5, 8).subtree_hash(4, 8) == ref_mth(LEAVES[4:8])
    assert _pruned(5, 8).subtree_hash(0, 8) == ref_mth(LEAVES[:8])


def test_pruned_leaves_hash_whole_frontier_subtrees() -> None:
    source = _pruned(7, 9)
    assert [source.subtree_hash(0, 4), source.subtree_hash(4, 6), source.subtree_hash(6, 7)] == [
        ref_mth(LEAVES[0:4]),
        ref_mth(LEAVES[4:6]),
        ref_mth(LEAVES[6:7]),
    ]
    assert source.subtree_hash(4, 7) == ref_mth(LEAVES[4:7])


def test_leaf_list_hashes_any_range_like_the_reference() -> None:
    source = LeafList(LEAVES[:23])
    for start in range(23):
        for end in range(start + 1, 24):
            assert source.subtree_hash(start, end) == ref_mth(LEAVES[start:end]), (start, end)


def test_pruned_leaves_hash_any_range_they_still_cover_like_the_reference() -> None:
    for k in (5, 6, 11, 16):
        source = _pruned(k, 23)
        boundaries = {start for start, _ in _frontier_ranges(k)} | {k}
        for start in range(23):
            for end in range(start + 1, 24):
                if start >= k or (start in boundaries and (end >= k or end in boundaries)):
                    assert source.subtree_hash(start, end) == ref_mth(LEAVES[start:end]), (k, start, end)
                else:
                    with pytest.raises(ValueError, match="not available"):
                        source.subtree_hash(start, end)


def test_one_pruned_source_answers_every_inclusion_proof_of_a_large_log() -> None:
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(20_000)]
    source = _pruned_of(hashes, 7_777)
    tree_root = root(hashes)
    for index in range(7_777, 20_000):
        assert verify_inclusion(index, 20_000, hashes[index], inclusion_proof(index, source), tree_root)


def _pruned_of(hashes: list[bytes], k: int) -> PrunedLeaves:
    return PrunedLeaves(CompactRange.from_leaves(hashes[:k]), hashes[k:])
