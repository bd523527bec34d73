"""The catchment map's coherence: each entry names known schools teaching the group's levels, no overlap, no gap.

Pure: takes the schools' levels and the map's entries, returns one sentence per
problem, naming the street and the numbers, so an operator can fix the file.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import TYPE_CHECKING

from guichet_inscription_scolaire.levels import GROUPS
from guichet_inscription_scolaire.streets import normalise_street

if TYPE_CHECKING:
    from guichet_inscription_scolaire.settings import CatchmentRange

#: a street's end as a number, for open ranges
END = 10**9


def _required(group: str) -> tuple[str, ...]:
    """The levels a school of that group must teach: the compulsory ones (TPS is optional)."""
    return tuple(level for level in GROUPS[group] if level != "tps") if group == "maternelle" else GROUPS[group]


def _school_problems(schools: Mapping[str, tuple[str, ...]], entry: CatchmentRange) -> list[str]:
    problems = []
    for group in GROUPS:
        key = getattr(entry, group)
        if key is None:
            continue
        if key not in schools:
            problems.append(f"{entry.street}: unknown school {key!r}")
            continue
        lacking = [level for level in _required(group) if level not in schools[key]]
        if lacking:
            problems.append(f"{entry.street}: school {key!r} has no {', '.join(lacking)} (needed for {group})")
    return problems


def _bounds(entry: CatchmentRange, parity: str) -> tuple[int, int] | None:
    """The first and last number of ``parity`` (odd/even) the entry covers, or None."""
    if entry.parity not in ("all", parity):
        return None
    remainder = 1 if parity == "odd" else 0
    first = entry.first if entry.first % 2 == remainder else entry.first + 1
    last = END + remainder if entry.last is None else entry.last
    if last % 2 != remainder:
        last -= 1
    return (first, last) if first <= last else None


def _show(last: int) -> str:
    return "the end" if last >= END else str(last)


def _range_problems(street: str, group: str, entries: Sequence[CatchmentRange]) -> list[str]:
    problems: list[str] = []
    for parity in ("odd", "even"):
        spans = sorted(b for b in (_bounds(entry, parity) for entry in entries) if b is not None)
        for (first_a, last_a), (first_b, last_b) in pairwise(spans):
            if first_b <= last_a:
                problem = (
                    f"{street} ({group}): {parity} numbers {first_a}-{_show(last_a)} and "
                    f"{first_b}-{_show(last_b)} overlap"
                )
            elif first_b > last_a + 2:
                missing = (
                    f"number {first_b - 2} is"
                    if first_b - 2 == last_a + 2
                    else (f"numbers {last_a + 2}-{first_b - 2} are")
                )
                problem = f"{street} ({group}): {parity} {missing} in no range (gap)"
            else:
                continue
            if problem not in problems:
                problems.append(problem)
    return problems


def map_problems(schools: Mapping[str, tuple[str, ...]], entries: Sequence[CatchmentRange]) -> list[str]:
    """Every problem of the map, in the file's order: unknown schools, missing levels, overlaps, gaps."""
    problems: list[str] = []
    by_street: dict[tuple[str, str], list[CatchmentRange]] = defaultdict(list)
    names: dict[str, str] = {}
    for entry in entries:
        problems += _school_problems(schools, entry)
        key = normalise_street(entry.street)
        names.setdefault(key, entry.street)
        for group in GROUPS:
            if getattr(entry, group) is not None:
                by_street[(key, group)].append(entry)
    for (key, group), street_entries in by_street.items():
        problems += _range_problems(names[key], group, street_entries)
    return problems
