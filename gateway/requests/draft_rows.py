"""A new draft's row, and the draft a one-time key already started: shared by a first draft and a family's next.

A double click sends one key twice; the draft it started answers both times
(:func:`same_draft`), so one click makes one draft.
"""

from __future__ import annotations

from sqlmodel import Session

from gateway.models import ServiceRequest
from gateway.models.requests import new_public_id
from gateway.requests.caller import Caller
from gateway.requests.clock import days_from, now
from gateway.requests.rules import ServiceRules
from gateway.requests.store import RequestStore
from gateway.requests.subject import audit_subject
from gateway.requests.submission_keys import same_submission
from gateway.services import DRAFT, FieldValue


def draft_row(
    secret_key: bytes,
    caller: Caller,
    rules: ServiceRules,
    values: dict[str, FieldValue],
    citizen_id: int,
    submission_key: str,
) -> ServiceRequest:
    """A new draft's row (not yet added): prefilled ``values``, kept for the commune's draft days."""
    commune, definition = rules.commune, rules.definition
    moment, public_id = now(), new_public_id()
    return ServiceRequest(
        public_id=public_id,
        commune=commune.slug,
        service=definition.key,
        status=DRAFT,
        data=values,
        locale=caller.locale,
        form_version=definition.form_version,
        submission_key=submission_key,
        citizen_id=citizen_id,
        subject=audit_subject(secret_key, caller, definition, values, request_id=public_id),
        notify_email=caller.identity.email if caller.identity else None,
        created_at=moment,
        updated_at=moment,
        purge_after=days_from(moment, commune.draft_days_for(definition)),
    )


def same_draft(session: Session, citizen_id: int, key: str, submission_key: str) -> ServiceRequest | None:
    """The request this submission key already started, if it is this citizen's for this service."""
    existing = RequestStore(session).by_submission_key(submission_key)
    return same_submission(existing, key, citizen_id=citizen_id) if existing is not None else None
