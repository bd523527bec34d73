"""Which school a family's address belongs to, for a level: the catchment map read as the council wrote it.

An address the map does not cover (unknown street, number outside the
ranges, no house number on a street split between schools) has no school:
agents decide, the family is not refused.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway import FieldValue
from guichet_inscription_scolaire.levels import group_of
from guichet_inscription_scolaire.settings import CatchmentRange, InscriptionSettings
from guichet_inscription_scolaire.streets import normalise_street


def _covers(entry: CatchmentRange, number: int) -> bool:
    if number < entry.first or (entry.last is not None and number > entry.last):
        return False
    return entry.parity == "all" or (number % 2 == 1) == (entry.parity == "odd")


def assigned_school(settings: InscriptionSettings, address: FieldValue, level: str) -> str | None:
    """The key of the school the address belongs to for ``level``, or None when the map does not cover it."""
    if not isinstance(address, Mapping):
        return None
    street = normalise_street(str(address.get("street") or ""))
    group = group_of(level)
    entries = [e for e in settings.catchment if normalise_street(e.street) == street and getattr(e, group)]
    number = address.get("number")
    if isinstance(number, int):
        found = next((entry for entry in entries if _covers(entry, number)), None)
        return getattr(found, group) if found is not None else None
    schools = {getattr(entry, group) for entry in entries}
    # no house number: only a street wholly in one school's catchment has an answer
    return schools.pop() if len(schools) == 1 else None
