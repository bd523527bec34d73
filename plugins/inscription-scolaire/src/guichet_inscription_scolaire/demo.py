"""Answers a demonstration files (``guichet demo seed``, hook ``guichet_demo_answers``): registrations the rules accept.

The demo's generic answers know nothing of a catchment map or of school ages;
these do. Each set is a child of a compulsory level in the coming school year
living on a street of the commune's map (most), off the map (the flag agents
resolve by assigning a school), or asking for a dérogation in the commune or
in a partner commune. The rest of the form (names, phone) is the demo's.
Fictitious people and streets only; never used outside a demonstration.
"""

from __future__ import annotations

from datetime import date

from gateway import Commune, FieldValue, FormValues, PostalAddress
from guichet_inscription_scolaire.catchment import assigned_school
from guichet_inscription_scolaire.levels import AGES, open_school_years, school_year_label
from guichet_inscription_scolaire.settings import CatchmentRange, InscriptionSettings

#: a street no demo commune's map holds: its registrations are flagged for agents
OFF_THE_MAP = "impasse des Essais-Hors-Carte"
#: two levels of each group per street, so every school of the map gets registrations
SAMPLED = {"maternelle": ("ps", "gs"), "elementaire": ("cp", "cm1")}


def _number(entry: CatchmentRange) -> int:
    """A house number the range covers, of its parity."""
    first = max(entry.first, 1)
    if entry.parity != "all" and (first % 2 == 1) != (entry.parity == "odd"):
        first += 1
    return first


def _address(commune: Commune, street: str, number: int) -> PostalAddress:
    return {"number": number, "suffix": "", "street": street, "complement": "", "postcode": commune.postcode,
            "town": commune.name}  # fmt: skip


def _child(level: str, year: int, address: PostalAddress) -> dict[str, FieldValue]:
    born = year - AGES[level]
    return {
        "child_birth_date": date(born, 1 + AGES[level], 10 + AGES[level]).isoformat(),
        "school_year": school_year_label(year),
        "applicant_authority": "parent",
        "address": address,
        "leaving_school": False,
        "derogation": "no",
    }


def demo_answers(commune: Commune, settings: InscriptionSettings, today: date) -> list[FormValues]:
    """Registrations the plugin's rules accept in ``commune``; empty when it has no schools."""
    if not settings.schools:
        return []
    year = open_school_years(today)[1]
    covered: list[tuple[str, dict[str, FieldValue]]] = []
    for entry in settings.catchment:
        for group, levels in SAMPLED.items():
            if getattr(entry, group):
                address = _address(commune, entry.street, _number(entry))
                covered += [(level, _child(level, year, address)) for level in levels]
    answers: list[FormValues] = [found for _level, found in covered]
    for level, found in covered[:2]:  # a dérogation within the commune: another school teaching the level
        home = assigned_school(settings, found["address"], level)
        other = next((s.key for s in settings.schools if level in s.levels and s.key != home), None)
        if other is not None:
            answers.append({**found, "derogation": "here", "derogation_school": other, "derogation_reason": "sibling"})
    for slug in list(settings.partner_communes)[:1] if covered else ():  # a school in another member commune
        answers.append({
            **covered[-1][1], "derogation": "elsewhere", "derogation_commune": slug,
            "derogation_school_elsewhere": "École de démonstration", "derogation_reason": "working-hours",
            "derogation_share_proof": "no",
        })  # fmt: skip
    off = _address(commune, OFF_THE_MAP, 7)
    answers += [_child("ms", year, off), _child("ce1", year, off)]  # flagged: an agent assigns the school
    return answers
