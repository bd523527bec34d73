"""The pseudonyms a citizen's data is recorded under: their account's, and their e-mail address's once it is theirs.

A message filed without an account is recorded under its address's
pseudonym. Whoever signs in with that address sees those records in their
access log and data export — so the address must be known to be theirs: a
local account's once its owner followed the confirmation link, an identity
provider's when the provider said it checked it (``email_verified``). An
address an identity provider merely states (FranceConnect releases none as
checked) finds nothing filed under it: otherwise anyone whose provider let
them type an address would read who consulted another person's messages.
"""

from __future__ import annotations

from sqlmodel import Session, select

from gateway.audit.events import pseudonym
from gateway.identity.claims import EMAIL_VERIFIED
from gateway.identity.local_accounts import ISSUER as LOCAL_ISSUER
from gateway.models import Citizen, LocalAccount


def confirmed_email(session: Session, citizen: Citizen) -> str | None:
    """The citizen's e-mail address if it is known to be theirs, else None."""
    if citizen.issuer == LOCAL_ISSUER:
        account = session.exec(select(LocalAccount).where(LocalAccount.citizen_id == citizen.id)).first()
        return account.email if account is not None and account.email_verified_at is not None else None
    return citizen.email if citizen.email and (citizen.claims or {}).get(EMAIL_VERIFIED) == "true" else None


def citizen_subjects(session: Session, citizen: Citizen, secret_key: bytes) -> list[str]:
    """Every pseudonym the citizen's data is recorded under."""
    subjects = [pseudonym(secret_key, "citizen", citizen.public_id)]
    email = confirmed_email(session, citizen)
    if email:
        subjects.append(pseudonym(secret_key, "email", email))
    return subjects
