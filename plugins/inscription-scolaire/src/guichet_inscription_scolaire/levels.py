"""School levels from the calendar year of birth, and the school years a family may register for.

Pure functions: school is compulsory from the September of the calendar year
the child turns 3 (petite section), then one level a year up to CM2 at 10;
toute petite section (turning 2) exists only in some nursery schools.
"""

from __future__ import annotations

from datetime import date

from gateway import Localized

#: level code -> the child's age in the calendar year the school year starts
AGES: dict[str, int] = {"tps": 2, "ps": 3, "ms": 4, "gs": 5, "cp": 6, "ce1": 7, "ce2": 8, "cm1": 9, "cm2": 10}
LEVELS: tuple[str, ...] = tuple(AGES)
NURSERY: tuple[str, ...] = ("tps", "ps", "ms", "gs")
ELEMENTARY: tuple[str, ...] = ("cp", "ce1", "ce2", "cm1", "cm2")
#: the level groups a catchment map assigns a school for
GROUPS: dict[str, tuple[str, ...]] = {"maternelle": NURSERY, "elementaire": ELEMENTARY}

LEVEL_LABELS: dict[str, Localized] = {
    "tps": Localized("Toute petite section", "Pre-nursery (TPS)"),
    "ps": Localized("Petite section", "Nursery, first year (PS)"),
    "ms": Localized("Moyenne section", "Nursery, second year (MS)"),
    "gs": Localized("Grande section", "Nursery, third year (GS)"),
    "cp": Localized("CP"),
    "ce1": Localized("CE1"),
    "ce2": Localized("CE2"),
    "cm1": Localized("CM1"),
    "cm2": Localized("CM2"),
}


def group_of(level: str) -> str:
    """``maternelle`` or ``elementaire``."""
    return "maternelle" if level in NURSERY else "elementaire"


def level_for(birth: date, school_year: int) -> str | None:
    """The level of a child born on ``birth`` in the school year starting in September ``school_year``; None: no level.

    Only the calendar year of birth counts: a child born on 31 December turns 3
    in the same calendar year as one born on 1 January.
    """
    age = school_year - birth.year
    return next((level for level, wanted in AGES.items() if wanted == age), None)


def current_school_year(today: date) -> int:
    """The year the current school year started in: September onwards is the new one."""
    return today.year if today.month >= 9 else today.year - 1


def open_school_years(today: date) -> tuple[int, int]:
    """The school years a family may register for: the current one and the coming one."""
    current = current_school_year(today)
    return current, current + 1


def school_year_label(start: int) -> str:
    return f"{start}-{start + 1}"


def parse_school_year(text: str) -> int | None:
    """``"2026-2027"`` -> 2026; None when it is not that shape."""
    parts = text.split("-")
    if len(parts) != 2 or not all(part.isdigit() and len(part) == 4 for part in parts):
        return None
    start, end = int(parts[0]), int(parts[1])
    return start if end == start + 1 else None
