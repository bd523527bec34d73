"""Who a person is in the audit log: every pseudonym one of their identifiers resolves to, for the auditors.

The log names people only by pseudonyms (:func:`gateway.audit.events.pseudonym`),
one per way they came: ``citizen:<public id>`` for an account (local or an
identity provider's), ``email:<address>`` for what was filed without an
account or at the counter with that address, ``<field>:<value>`` for a
service that identifies people by a form field (``subject_field``). An
auditor types one identifier they know — an e-mail address, an identity
provider's subject, an account's ``citizen:<id>``, or a pseudonym — and gets
them all.

An address joins an account only when it is known to be the account
holder's (:func:`gateway.identity.subjects.confirmed_email`), the rule the
person's own access log follows: an account that registered an address
without confirming it is not the same person as whoever filed with that
address, so their records are not merged; :attr:`Resolution.unjoined` keeps
the address's pseudonyms apart for the auditor to search on their own.

Resolving is an act on personal data: the caller records it, with the
auditor's purpose (:mod:`gateway.web.audit_log_reading`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func
from sqlmodel import Session, select

from gateway.audit.events import pseudonym
from gateway.identity.local_accounts import ISSUER as LOCAL_ISSUER
from gateway.identity.subjects import confirmed_email
from gateway.models import Citizen, LocalAccount, StaffUser

#: how the auditor's identifier was read
IdentifierKind = Literal["email", "account", "provider-subject", "pseudonym"]
#: what a pseudonym stands for
PseudonymKind = Literal["account", "confirmed-address", "address", "pseudonym"]
_PSEUDONYM = re.compile(r"[0-9a-f]{32}")
ACCOUNT_PREFIX = "citizen:"
#: an actor as the log names them: ``staff:12``, ``citizen:<public id>``, ``anonymous``, ``system``
_ACTOR_ID = re.compile(r"(?:staff|citizen):\S+|anonymous|system")


@dataclass(frozen=True)
class Pseudonym:
    value: str
    kind: PseudonymKind


@dataclass(frozen=True)
class Resolution:
    """The pseudonyms one identifier stands for; ``unjoined``: an address an account holds unconfirmed."""

    identifier_kind: IdentifierKind
    pseudonyms: tuple[Pseudonym, ...]
    unjoined: tuple[Pseudonym, ...] = ()

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(found.value for found in self.pseudonyms)


def identifier_kind(identifier: str) -> IdentifierKind:
    """How an identifier is read: an address has an @, a pseudonym is 32 hex digits, an account starts citizen:."""
    text = identifier.strip()
    if "@" in text:
        return "email"
    if _PSEUDONYM.fullmatch(text):
        return "pseudonym"
    if text.startswith(ACCOUNT_PREFIX):
        return "account"
    return "provider-subject"


def resolve_person(
    session: Session, identifier: str, secret: bytes, *, address_fields: Iterable[str] = ()
) -> Resolution:
    """Every pseudonym ``identifier`` stands for; ``address_fields``: the services' subject fields holding an address.

    Reads the citizen and local account tables of every commune (people are
    the syndicate's, not a commune's): the caller keeps what it shows within
    the auditor's scope.
    """
    text = identifier.strip()
    kind = identifier_kind(text)
    if kind == "pseudonym":
        return Resolution(kind, (Pseudonym(text, "pseudonym"),))
    if kind == "account":
        citizens = list(session.exec(select(Citizen).where(Citizen.public_id == text[len(ACCOUNT_PREFIX) :])))
        return Resolution(kind, _of_citizens(session, citizens, secret, address_fields))
    if kind == "provider-subject":
        found = select(Citizen).where(Citizen.sub == text, Citizen.issuer != LOCAL_ISSUER)
        return Resolution(kind, _of_citizens(session, list(session.exec(found)), secret, address_fields))
    return _by_address(session, text, secret, address_fields)


def _by_address(session: Session, address: str, secret: bytes, fields: Iterable[str]) -> Resolution:
    folded = address.casefold()
    accounts = session.exec(
        select(Citizen, LocalAccount)
        .join(LocalAccount, LocalAccount.citizen_id == Citizen.id)  # type: ignore[arg-type]
        .where(func.lower(LocalAccount.email) == folded)
    ).all()
    federated = session.exec(
        select(Citizen).where(func.lower(Citizen.email) == folded, Citizen.issuer != LOCAL_ISSUER)
    ).all()
    # a provider's account joins the address only when the provider checked it; a local one is the address's account
    citizens = [citizen for citizen, _ in accounts] + [
        citizen for citizen in federated if (confirmed_email(session, citizen) or "").casefold() == folded
    ]
    held_unconfirmed = any(account.email_verified_at is None for _, account in accounts)
    fields = _unique(["email", *fields])
    given = tuple(Pseudonym(pseudonym(secret, field, address), "address") for field in fields)
    found = _of_citizens(session, citizens, secret, fields)
    if held_unconfirmed:
        return Resolution("email", found, unjoined=given)
    merged = {item.value for item in found}
    return Resolution("email", found + tuple(item for item in given if item.value not in merged))


def _of_citizens(
    session: Session, citizens: list[Citizen], secret: bytes, fields: Iterable[str]
) -> tuple[Pseudonym, ...]:
    """Each citizen's account pseudonym and, once their address is confirmed, the address's (as :mod:`subjects`)."""
    found: dict[str, Pseudonym] = {}
    for citizen in citizens:
        value = pseudonym(secret, "citizen", citizen.public_id)
        found.setdefault(value, Pseudonym(value, "account"))
        email = confirmed_email(session, citizen)
        for field in _unique(["email", *fields]) if email else ():
            value = pseudonym(secret, field, email or "")
            found.setdefault(value, Pseudonym(value, "confirmed-address"))
    return tuple(found.values())


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def actor_id_of(session: Session, agent: str) -> str:
    """The log's actor id for ``agent``: as given when it is one, else the staff account with that username or
    e-mail address (``staff:<id>``); an unknown name stays as typed and finds nothing."""
    text = agent.strip()
    if _ACTOR_ID.fullmatch(text):
        return text
    folded = text.casefold()
    staff = session.exec(
        select(StaffUser).where((func.lower(StaffUser.username) == folded) | (func.lower(StaffUser.email) == folded))
    ).first()
    return f"staff:{staff.id}" if staff is not None else text
