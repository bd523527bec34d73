"""The fictitious people a visitor can sign in as, with the claims FranceConnect gives.

Every name is obviously invented (no real FranceConnect test identity is
reused) and every birthplace is a commune of the demo syndicate. Between them
they cover what a relying party must handle: several given names, a birth
abroad (empty ``birthplace``, a foreign ``birthcountry``), a usage name
(``preferred_username``) and a birth date whose unknown day and month are
given as 01, the way the civil registry records them.

Each commune without a staff provider of its own also gets a demo staff
directory (:class:`StaffPerson`): an agent, a supervisor and an auditor,
with names no real person bears. Their ids carry the commune's slug, so the
provider needs no list of communes to find one again from a code. The
syndicate has a directory of its own (:data:`SYNDICATE`): an auditor and an
administrator who act for every commune.
"""

from __future__ import annotations

import re
import unicodedata
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

#: the fictitious staff of every commune's demo directory: role, given name, family name
STAFF_ROLES: tuple[tuple[str, str, str], ...] = (
    ("agent", "Agathe", "EXEMPLE-AGENTE"),
    ("supervisor", "Sacha", "EXEMPLE-RESPONSABLE"),
    ("auditor", "Aurèle", "EXEMPLE-AUDITEUR"),
)
#: the directory of the syndicate's own staff: not a commune slug (those never start with "_")
SYNDICATE = "_syndicat"
#: the fictitious staff of the syndicate's demo directory, acting for every commune
SYNDICATE_ROLES: tuple[tuple[str, str, str], ...] = (
    ("auditor", "Ysé", "EXEMPLE-AUDITRICE-SYNDICALE"),
    ("administrator", "Adam", "EXEMPLE-ADMINISTRATEUR"),
)
_STAFF_NAMES = {role: (given, family) for role, given, family in STAFF_ROLES}
_SYNDICATE_NAMES = {role: (given, family) for role, given, family in SYNDICATE_ROLES}
_STAFF_ID = re.compile(r"^(?P<role>[a-z]+)@(?P<commune>_syndicat|[a-z0-9]+(-[a-z0-9]+)*)$")
STAFF_CLAIMS = ("given_name", "family_name", "email")


@dataclass(frozen=True)
class StaffPerson:
    """One fictitious member of a commune's staff, as the commune's directory would describe them."""

    role: str
    commune: str

    @property
    def id(self) -> str:
        return f"{self.role}@{self.commune}"

    @property
    def of_syndicate(self) -> bool:
        return self.commune == SYNDICATE

    @property
    def given_name(self) -> str:
        return _names_of(self.commune)[self.role][0]

    @property
    def family_name(self) -> str:
        return _names_of(self.commune)[self.role][1]

    @property
    def email(self) -> str:
        local = unicodedata.normalize("NFKD", f"{self.given_name}.{self.family_name}").encode("ascii", "ignore")
        return f"{local.decode().lower()}@{self.commune.lstrip('_')}.demo.guichet.example"

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def claims(self, scopes: Iterable[str]) -> dict[str, str]:
        wanted = {claim for scope in scopes for claim in SCOPE_CLAIMS.get(scope, ())}
        return {claim: getattr(self, claim) for claim in STAFF_CLAIMS if claim in wanted}


def _names_of(commune: str) -> dict[str, tuple[str, str]]:
    return _SYNDICATE_NAMES if commune == SYNDICATE else _STAFF_NAMES


def staff_people(commune: str) -> tuple[StaffPerson, ...]:
    """The demo directory of one commune, or of the syndicate (:data:`SYNDICATE`)."""
    roles = SYNDICATE_ROLES if commune == SYNDICATE else STAFF_ROLES
    return tuple(StaffPerson(role, commune) for role, _given, _family in roles)


_BY_ID = {person.id: person for person in PEOPLE}


def person_by_id(person_id: str | None) -> Person | StaffPerson | None:
    """A fictitious citizen or staff member by id (which directory a client may use is checked at authorisation)."""
    if person_id in _BY_ID:
        return _BY_ID[person_id]
    match = _STAFF_ID.match(person_id or "")
    if match is None or match["role"] not in _names_of(match["commune"]):
        return None
    return StaffPerson(match["role"], match["commune"])


def directory(commune: str | None) -> tuple[Person, ...] | tuple[StaffPerson, ...]:
    """Whom a client may sign in: residents (``None``), one commune's staff, or the syndicate's (:data:`SYNDICATE`)."""
    return PEOPLE if commune is None else staff_people(commune)


def person_in(commune: str | None, person_id: str | None) -> Person | StaffPerson | None:
    """The person, if they are in that directory: a residents' client never gets an agent, nor one commune another's."""
    person = person_by_id(person_id)
    return person if person is not None and person in directory(commune) else None
