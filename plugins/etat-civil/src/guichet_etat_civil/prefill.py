"""What the form is prefilled with from the citizen's identity (FranceConnect's claims)."""

from __future__ import annotations

from gateway import CitizenIdentity, Commune
from guichet_etat_civil.validation import parse_date

#: FranceConnect's code for France as a birth country
FRANCE = "99100"


def prefilled(commune: Commune, citizen: CitizenIdentity) -> dict[str, str] | None:
    """From a verified identity: the requester, and a request for one's own birth record.

    Prefilled: ``requester_family_name``, ``requester_given_names``,
    ``requester_email`` and, assuming the citizen asks for their own birth
    record (all editable), ``quality`` = self, ``kind`` = birth,
    ``person_surname``, ``person_given_names``, ``event_date`` (the birth date)
    and ``place`` = here when FranceConnect says they were born in this commune.
    Only ``requester_email`` is prefilled from an unverified identity.
    """
    values: dict[str, str] = {}
    if citizen.email:
        values["requester_email"] = citizen.email
    if citizen.verified:
        if citizen.family_name:
            values["requester_family_name"] = values["person_surname"] = citizen.family_name
        if citizen.given_name:
            values["requester_given_names"] = values["person_given_names"] = citizen.given_name
        if citizen.birthdate and parse_date(citizen.birthdate):
            values["event_date"] = citizen.birthdate
        values["quality"], values["kind"] = "self", "birth"
        if citizen.birthplace and citizen.birthplace == commune.insee:
            values["place"] = "here"
    return values or None
