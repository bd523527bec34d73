"""The service's own checks on an answered form: the place, the registers held online, the quality, entitlement.

Who may obtain which document is decided by
:func:`guichet_etat_civil.entitlement.decide`; this module reads the answers,
refuses what the commune cannot deliver, and turns a refusal into a field error.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import cast

from gateway import CitizenIdentity, Commune, FieldError, Localized
from guichet_etat_civil.entitlement import FORM_LABELS, KIND_LABELS, QUALITY_LABELS, Form, Kind, Requester, decide
from guichet_etat_civil.settings import EtatCivilSettings

_POSTCODE = re.compile(r"^[0-9]{5}$")


def _normalised(name: str) -> str:
    """Case-, accent-, hyphen- and apostrophe-insensitive form of a name."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[-'’‐]", " ", plain).casefold().split())


def _same_given_names(typed: str, known: str) -> bool:
    """Typed given names match the identity's when one list starts with the other (first name at least)."""
    a, b = _normalised(typed).split(), _normalised(known).split()
    shorter = min(len(a), len(b))
    return shorter > 0 and a[:shorter] == b[:shorter]


def parse_date(value: str | None) -> date | None:
    """An ISO date typed or claimed; None when empty or not a date."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _error(field: str, fr: str, en: str) -> list[FieldError]:
    return [FieldError(field, Localized(fr, en))]


def _place_errors(commune: Commune, place: str) -> list[FieldError]:
    if place == "abroad":
        return _error(
            "place",
            "Les actes des événements survenus à l'étranger (naissance, mariage ou décès d'un Français) sont tenus "
            "par le Service central d'état civil du ministère de l'Europe et des Affaires étrangères, à Nantes, "
            "et non par la mairie. Faites votre demande en ligne sur service-public.fr.",
            "Records of events abroad (the birth, marriage or death of a French national) are kept by the Service "
            "central d'état civil of the Ministry for Europe and Foreign Affairs in Nantes, not by the town hall. "
            "Apply online on service-public.fr.",
        )
    if place == "elsewhere":
        return _error(
            "place",
            f"La mairie de {commune.name} ne détient pas cet acte : adressez votre demande à la mairie de la commune "
            "où l'événement a eu lieu (beaucoup la proposent en ligne sur service-public.fr).",
            f"{commune.name} town hall does not hold this record: apply to the town hall of the commune where the "
            "event happened (many offer it online on service-public.fr).",
        )
    return []


def _self_errors(kind: str, data: Mapping[str, str], citizen: CitizenIdentity | None) -> list[FieldError]:
    if kind == "death":
        return _error(
            "quality",
            "Vous ne pouvez pas être la personne concernée par un acte de décès : choisissez votre lien avec elle.",
            "You cannot be the person a death record concerns: choose how you are related to them.",
        )
    if citizen is None or not citizen.verified:
        return []
    surname_ok = bool(citizen.family_name) and _normalised(data.get("person_surname", "")) == _normalised(
        citizen.family_name or ""
    )
    given_ok = bool(citizen.given_name) and _same_given_names(
        data.get("person_given_names", ""), citizen.given_name or ""
    )
    if surname_ok and given_ok:
        return []
    return _error(
        "quality",
        "Le nom ou les prénoms de la personne inscrite sur l'acte ne sont pas les vôtres (selon FranceConnect) : "
        "si l'acte concerne quelqu'un d'autre, choisissez votre lien avec cette personne.",
        "The name or given names of the person on the record are not yours (according to FranceConnect): "
        "if the record concerns someone else, choose how you are related to them.",
    )


def _postcode_errors(data: Mapping[str, str]) -> list[FieldError]:
    postcode, country = data.get("address_postcode", ""), _normalised(data.get("address_country", ""))
    if data.get("delivery") == "post" and postcode and country in ("", "france") and not _POSTCODE.match(postcode):
        return _error(
            "address_postcode",
            "Un code postal français compte cinq chiffres, par exemple 69200.",
            "A French postcode has five digits, for example 69200.",
        )
    return []


def validation_errors(
    commune: Commune, settings: EtatCivilSettings, data: Mapping[str, str], citizen: CitizenIdentity | None
) -> list[FieldError]:
    """The place rule, the registers held online, the quality and who may obtain what."""
    place_errors = _place_errors(commune, data.get("place", ""))
    if place_errors:
        return place_errors
    kind, quality = data.get("kind", ""), data.get("quality", "")
    form = "full-copy" if kind == "death" and not data.get("form") else data.get("form", "")
    record_date = parse_date(data.get("event_date"))
    today = date.today()
    errors: list[FieldError] = []
    if kind == "death" and form != "full-copy":
        errors += _error(
            "form",
            "Un acte de décès n'est délivré qu'en copie intégrale.",
            "A death record is issued as a full copy only.",
        )
    if record_date is not None and record_date > today:
        errors += _error("event_date", "Cette date est dans le futur.", "This date is in the future.")
    elif record_date is not None and record_date.year < settings.registers_from_year:
        errors += _error(
            "event_date",
            f"La mairie de {commune.name} ne délivre en ligne que les actes établis depuis "
            f"{settings.registers_from_year}. Pour un acte plus ancien, adressez-vous au service des archives de la "
            f"mairie ou aux Archives départementales ({commune.department}).",
            f"{commune.name} town hall issues online only records drawn up since {settings.registers_from_year}. "
            f"For an older record, apply to the town hall's archives or the departmental archives "
            f"({commune.department}).",
        )
    death_date = parse_date(data.get("death_date"))
    if death_date is not None and (death_date > today or (record_date is not None and death_date < record_date)):
        errors += _error(
            "death_date",
            "La date de décès doit être passée et postérieure à la date de l'acte.",
            "The date of death must be in the past and after the record's date.",
        )
    if quality == "self":
        errors += _self_errors(kind, data, citizen)
    errors += _postcode_errors(data)
    if (
        errors
        or record_date is None
        or kind not in KIND_LABELS
        or form not in FORM_LABELS
        or quality not in QUALITY_LABELS
    ):
        return errors  # the core already reports a missing or unknown answer
    decision = decide(
        cast(Kind, kind),
        cast(Form, form),
        cast(Requester, quality),
        record_date,
        today=today,
        concerns_minor=kind == "marriage" and data.get("record_minor") != "no",
        death_date=death_date,
        rules=settings.rules(),
    )
    if decision.allowed:
        return []
    return [FieldError("quality" if kind == "death" else "form", decision.reason)]
