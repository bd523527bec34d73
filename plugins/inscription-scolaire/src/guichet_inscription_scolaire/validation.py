"""The registration's own checks: a level for the child, residence in the commune, a dérogation that makes sense.

An address the catchment map does not cover is not an error: agents assign
the school (the request is flagged at submission).
"""

from __future__ import annotations

import unicodedata
from datetime import date

from gateway import Commune, FieldError, FormValues, Localized
from guichet_inscription_scolaire.catchment import assigned_school
from guichet_inscription_scolaire.levels import LEVEL_LABELS, level_for, parse_school_year
from guichet_inscription_scolaire.settings import InscriptionSettings
from guichet_inscription_scolaire.streets import normalise_street


def birth_date(data: FormValues) -> date | None:
    value = data.get("child_birth_date")
    try:
        return date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def level_of(data: FormValues) -> str | None:
    """The child's level for the chosen school year, or None when the answers give none."""
    born, year = birth_date(data), parse_school_year(str(data.get("school_year") or ""))
    return level_for(born, year) if born is not None and year is not None else None


def _plain(text: str) -> str:
    return normalise_street(unicodedata.normalize("NFC", text))


def _level_errors(settings: InscriptionSettings, data: FormValues, today: date) -> list[FieldError]:
    born, year = birth_date(data), parse_school_year(str(data.get("school_year") or ""))
    if born is None or year is None:
        return []  # the core reports a missing or malformed answer
    if born > today:
        return [
            FieldError("child_birth_date", Localized("Cette date est dans le futur.", "This date is in the future."))
        ]
    level = level_for(born, year)
    if level is None:
        age = year - born.year
        return [
            FieldError(
                "child_birth_date",
                Localized(
                    f"Un enfant né en {born.year} a {age} ans dans l'année de la rentrée {year} : l'école maternelle "
                    "et élémentaire accueille les enfants de 3 à 10 ans dans l'année civile de la rentrée (2 ans en "
                    "toute petite section, là où une école l'accueille). Pour le collège, adressez-vous au collège "
                    "de secteur.",
                    f"A child born in {born.year} is {age} in the calendar year the {year} school year starts: nursery "
                    "and primary schools take children aged 3 to 10 that year (2 in pre-nursery, where a school "
                    "offers it). For secondary school, apply to the catchment collège.",
                ),
            )
        ]
    if level == "tps":
        school = assigned_school(settings, data.get("address"), level)
        offering = [s for s in settings.schools if "tps" in s.levels]
        known = settings.school(school) if school else None
        if not offering or (known is not None and "tps" not in known.levels):
            return [
                FieldError(
                    "child_birth_date",
                    Localized(
                        "Votre enfant aura 2 ans à la rentrée : la toute petite section n'est pas proposée "
                        + ("à l'école de votre secteur." if offering else "dans les écoles de la commune.")
                        + " Vous pourrez l'inscrire l'an prochain en petite section.",
                        "Your child will be 2 at the start of the school year: pre-nursery is not offered "
                        + ("at your catchment school." if offering else "in the commune's schools.")
                        + " You may register them next year for the first nursery year.",
                    ),
                )
            ]
    return []


def _residence_errors(commune: Commune, data: FormValues) -> list[FieldError]:
    address = data.get("address")
    if not isinstance(address, dict) or not address.get("town"):
        return []
    if _plain(str(address["town"])) == _plain(commune.name):
        return []
    return [
        FieldError(
            "address",
            Localized(
                f"L'inscription se fait à la mairie de la commune où vit l'enfant : cette adresse n'est pas à "
                f"{commune.name}. Pour une école d'une autre commune, inscrivez l'enfant dans votre commune en "
                "demandant une dérogation.",
                f"Registration is made at the town hall of the commune where the child lives: this address is not in "
                f"{commune.name}. For a school in another commune, register in your commune and ask for a dérogation.",
            ),
        )
    ]


def _derogation_errors(settings: InscriptionSettings, data: FormValues) -> list[FieldError]:
    if data.get("derogation") != "here":
        return []
    level, wanted = level_of(data), str(data.get("derogation_school") or "")
    school = settings.school(wanted)
    if level is None or school is None:
        return []
    if level not in school.levels:
        label = LEVEL_LABELS[level]
        return [
            FieldError(
                "derogation_school",
                Localized(
                    f"{school.name} n'accueille pas le niveau {label.fr}.",
                    f"{school.name} does not teach {label('en')}.",
                ),
            )
        ]
    if assigned_school(settings, data.get("address"), level) == wanted:
        return [
            FieldError(
                "derogation",
                Localized(
                    f"{school.name} est déjà l'école de votre secteur : aucune dérogation n'est nécessaire.",
                    f"{school.name} is already your catchment school: no dérogation is needed.",
                ),
            )
        ]
    return []


def validation_errors(
    commune: Commune, settings: InscriptionSettings, data: FormValues, today: date | None = None
) -> list[FieldError]:
    """The level rule, residence in the commune, and an in-commune dérogation that asks for a real change."""
    today = today or date.today()
    return _level_errors(settings, data, today) + _residence_errors(commune, data) + _derogation_errors(settings, data)
