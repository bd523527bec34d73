"""The fictitious people a visitor can sign in as, with the claims FranceConnect gives.

Every name is obviously invented (no real FranceConnect test identity is
reused) and every birthplace is a commune of the demo syndicate. Between them
they cover what a relying party must handle: several given names, a birth
abroad (empty ``birthplace``, a foreign ``birthcountry``), a usage name
(``preferred_username``) and a birth date whose unknown day and month are
given as 01, the way the civil registry records them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from gateway.identity.claims import SCOPE_CLAIMS

#: INSEE code of France as a birth country
FRANCE = "99100"


CLAIMS = (
    "given_name",
    "family_name",
    "birthdate",
    "gender",
    "birthplace",
    "birthcountry",
    "email",
    "preferred_username",
)


@dataclass(frozen=True)
class Person:
    """One fictitious citizen; ``id`` is internal and never leaves the provider (``sub`` does)."""

    id: str
    given_name: str
    family_name: str
    birthdate: str
    gender: Literal["female", "male"]
    birthplace: str
    birthcountry: str
    email: str
    #: usage name (e.g. a spouse's name), empty when the person has none
    preferred_username: str = ""
    #: for the chooser page only: where the person was born, in words
    born_in: str = ""

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.preferred_username or self.family_name}"

    @property
    def born_on(self) -> date:
        return date.fromisoformat(self.birthdate)

    def claims(self, scopes: Iterable[str]) -> dict[str, str]:
        """The identity claims the granted scopes release (``sub`` is added by the caller)."""
        wanted = {claim for scope in scopes for claim in SCOPE_CLAIMS.get(scope, ())}
        return {claim: getattr(self, claim) for claim in CLAIMS if claim in wanted}


PEOPLE: tuple[Person, ...] = (
    Person(
        id="camille-exemple",
        given_name="Camille Anne",
        family_name="EXEMPLE",
        birthdate="1985-03-14",
        gender="female",
        birthplace="69259",
        birthcountry=FRANCE,
        email="camille.exemple@demo.guichet.example",
        born_in="Vénissieux",
    ),
    Person(
        id="mathis-fictif",
        given_name="Mathis Jean Paul",
        family_name="FICTIF",
        birthdate="1972-11-02",
        gender="male",
        birthplace="69273",
        birthcountry=FRANCE,
        email="mathis.fictif@demo.guichet.example",
        born_in="Corbas",
    ),
    Person(
        id="ines-demo",
        given_name="Inès",
        family_name="DÉMO",
        birthdate="1990-07-21",
        gender="female",
        birthplace="",
        birthcountry="99134",
        email="ines.demo@demo.guichet.example",
        born_in="Espagne",
    ),
    Person(
        id="lucie-essai",
        given_name="Lucie Hélène",
        family_name="ESSAI",
        birthdate="1968-01-30",
        gender="female",
        birthplace="42207",
        birthcountry=FRANCE,
        email="lucie.maquette@demo.guichet.example",
        preferred_username="MAQUETTE",
        born_in="Saint-Chamond",
    ),
    Person(
        id="noe-prototype",
        given_name="Noé",
        family_name="PROTOTYPE",
        birthdate="1951-01-01",
        gender="male",
        birthplace="69091",
        birthcountry=FRANCE,
        email="noe.prototype@demo.guichet.example",
        born_in="Givors",
    ),
)

_BY_ID = {person.id: person for person in PEOPLE}


def person_by_id(person_id: str | None) -> Person | None:
    return _BY_ID.get(person_id or "")
