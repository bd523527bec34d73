"""Verification's batch path checks exactly what the entry-by-entry walk checks, and hands faults to it.

The walk in ``gateway.audit.verify`` checks a batch of entries at once (the
texts rebuilt from the columns, hashes and running roots recomputed) and
falls back to the entry-by-entry checks only to name a fault; these tests
hold the fast path to the same answers as the slow one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway.audit.events import AuditEvent, encode
from gateway.audit.merkle import CompactRange, leaf_hash
from gateway.audit.verify import SEARCHABLE, BatchChecker, LogChecker, Report, _canonical_texts

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
AWKWARD = ['quote " and \\ backslash', "line\nbreak\ttab\x01", "Écrire à la mairie — «»", "emoji 🏛", ""]


def event(number: int, text: str = "instruction") -> AuditEvent:
    return AuditEvent(
        action="request.read",
        actor_id=f"agent:{number % 3}",
        actor_role="agent",
        resource=f"request/{number}",
        purpose=text,
        origin=text,
        commune="corbas" if number % 2 else None,
        service=None if number % 3 else "contact",
        subject=None if number % 4 else f"{number:032x}",
    )


def rows(events: list[AuditEvent], *, zoned: bool = True) -> list[tuple[Any, ...]]:
    """Entry rows as the walk reads them: SQLite gives naive UTC times, PostgreSQL zoned ones."""
    frontier, result = CompactRange(), []
    for seq, item in enumerate(events):
        time = START + timedelta(seconds=seq, microseconds=seq)
        encoded = encode(item, seq=seq, time=time)
        leaf = leaf_hash(encoded.encode())
        frontier.append(leaf)
        stored_time = time if zoned else time.replace(tzinfo=None)
        result.append((seq, stored_time, encoded, leaf, frontier.root(), *(getattr(item, n) for n in SEARCHABLE)))
    return result


@pytest.mark.parametrize("zoned", [True, False])
def test_rebuilt_texts_are_the_sealed_texts_for_awkward_values(zoned: bool) -> None:
    log = rows([event(number, AWKWARD[number % len(AWKWARD)]) for number in range(20)], zoned=zoned)
    assert _canonical_texts(list(zip(*log, strict=True))) == [row[2] for row in log]


def test_running_roots_are_the_roots_after_each_append() -> None:
    leaves = [leaf_hash(bytes([number])) for number in range(70)]
    one_by_one, batched = CompactRange(), CompactRange()
    expected = []
    for leaf in leaves:
        one_by_one.append(leaf)
        expected.append(one_by_one.root())
    assert batched.running_roots(leaves[:33]) + batched.running_roots(leaves[33:]) == expected
    assert batched == one_by_one


def test_a_sound_batch_passes_and_extends_the_frontier() -> None:
    log = rows([event(number) for number in range(40)])
    checker = BatchChecker(CompactRange(), Report())
    assert checker.check_batch(log[:17]) and checker.check_batch(log[17:])
    assert (checker.report.size, checker.report.findings) == (40, [])
    assert checker.frontier.root() == log[-1][4]


def changed(row: tuple[Any, ...], position: int, value: object) -> tuple[Any, ...]:
    return (*row[:position], value, *row[position + 1 :])


TAMPERED = {
    "a search column": lambda row: changed(row, 5 + SEARCHABLE.index("actor_id"), "agent:9"),
    "the text": lambda row: changed(row, 2, row[2].replace("agent:", "agent:1")),
    "the time": lambda row: changed(row, 1, row[1] + timedelta(days=1)),
    "the leaf hash": lambda row: changed(row, 3, leaf_hash(b"other")),
    "the running root only": lambda row: changed(row, 4, leaf_hash(b"other")),
    "a column of another type": lambda row: changed(row, 5 + SEARCHABLE.index("purpose"), 7),
}


@pytest.mark.parametrize("name", sorted(TAMPERED))
def test_a_tampered_entry_in_a_batch_gets_the_same_finding_as_the_entry_by_entry_walk(name: str) -> None:
    log = rows([event(number) for number in range(30)])
    log[21] = TAMPERED[name](log[21])
    slow = LogChecker(CompactRange(), Report())
    assert not all(slow.check(row) for row in log)
    fast = BatchChecker(CompactRange(), Report())
    assert not (fast.check_batch(log[:10]) and fast.check_batch(log[10:]))
    assert fast.report.findings == slow.report.findings
    assert fast.report.findings[0].seq == 21 and fast.report.size == 21


def test_a_gap_in_a_batch_is_named_as_a_deletion() -> None:
    log = rows([event(number) for number in range(12)])
    checker = BatchChecker(CompactRange(), Report())
    assert not checker.check_batch(log[:5] + log[6:])
    [finding] = checker.report.findings
    assert (finding.kind, finding.seq) == ("deleted", 5)
