"""Family drafts (API 1.2): siblings' requests prepared one draft each, with their documents, and submitted together.

A family filed in one go (:mod:`gateway.requests.family`) takes no documents.
A service that needs them is prepared as drafts: a signed-in resident's draft
of a family service gets « another member », a new draft of the same service
holding the same ``family_id``, the shared answers (the form's fields without
``per_member``) and the shared documents (``DocumentSpec.per_member`` False)
copied into it; each member's own answers and documents are typed and
attached on their own draft. Saving a member's shared answers saves them on
every draft of the family, so the members keep one address, one applicant.

Submitting any draft of a family submits them all in one transaction (all or
nothing): every draft is checked first, each error said with its member, and
one error anywhere submits none. Each request then keeps its own decision.

These functions run inside the caller's transaction (:class:`~gateway.requests.lifecycle.CitizenRequests`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session

from gateway.models import ServiceRequest
from gateway.requests import attachments as files
from gateway.requests.errors import ActionNotAllowed
from gateway.requests.family import is_family_service, member_fields, too_many
from gateway.requests.finders import attachments_of, family_of
from gateway.requests.rules import ServiceRules
from gateway.services import FieldError, FieldValue, FormValues, Localized

NOT_A_FAMILY = Localized(
    "Cette démarche se dépose pour une seule personne : elle ne peut pas recevoir d'autre membre.",
    "This service is filed for one person only: it cannot take another member.",
)
ANOTHER_MEMBER_INCOMPLETE = Localized(
    "Une autre demande de la famille doit être complétée : aucune n'a été déposée.",
    "Another request of the family needs completing: none was submitted.",
)


@dataclass(frozen=True)
class MemberErrors:
    """The errors of one member's draft that stopped the family's submission (``index`` counts from 1)."""

    request: ServiceRequest
    index: int
    errors: Sequence[FieldError]


def takes_family_drafts(rules: ServiceRules) -> bool:
    """Whether a signed-in resident prepares this family service as drafts: it asks for documents."""
    documents = rules.definition.documents or any(form_field.kind == "document" for form_field in rules.form)
    return is_family_service(rules) and bool(documents)


def family_drafts(session: Session, row: ServiceRequest) -> list[ServiceRequest]:
    """Every draft of ``row``'s family (``row`` included), the owner's only, in the order they were started."""
    others = [
        other
        for other in family_of(session, row)
        if other.is_draft and other.citizen_id == row.citizen_id and other.service == row.service
    ]
    return sorted([row, *others], key=lambda draft: draft.id or 0)


def check_room(rules: ServiceRules, members: int) -> None:
    """Refuse another member on a service without a member block, or beyond its ``max_count``."""
    block = rules.definition.members
    if block is None or not is_family_service(rules):
        raise ActionNotAllowed(NOT_A_FAMILY)
    if members >= block.max_count:
        raise ActionNotAllowed(too_many(block.max_count))


def shared_answers(rules: ServiceRules, data: FormValues) -> dict[str, FieldValue]:
    """The answers every member holds alike: the form's fields without ``per_member`` (derived values left out)."""
    own = {form_field.name for form_field in member_fields(rules.form)}
    asked = {form_field.name for form_field in rules.form}
    return {name: value for name, value in data.items() if name in asked and name not in own}


def copy_shared_documents(session: Session, rules: ServiceRules, source: ServiceRequest, target: ServiceRequest) -> int:
    """Copy ``source``'s shared documents onto ``target`` (bytes stored again: each request owns its files)."""
    per_member = {spec.name for spec in rules.definition.documents if spec.per_member}
    copied = 0
    assert target.id is not None
    for attachment in attachments_of(session, source):
        if attachment.document in per_member:
            continue
        files.copy_for(
            session,
            session,
            attachment,
            commune=target.commune,
            request_id=target.id,
            uploaded_by=attachment.uploaded_by,
            created_at=attachment.created_at,
        )
        copied += 1
    return copied


def member_name(rules: ServiceRules, row: ServiceRequest, index: int, locale: str) -> str:
    """How a page names a member: « Enfant 2 », with the member's first own answer typed (« Enfant 2 : Basile »)."""
    block = rules.definition.members
    label = f"{block.label(locale)} {index}" if block is not None else str(index)
    for form_field in member_fields(rules.form):
        value = row.data.get(form_field.name)
        if form_field.kind in ("text", "textarea") and isinstance(value, str) and value.strip():
            return f"{label} : {value.strip()}" if locale == "fr" else f"{label}: {value.strip()}"
    return label
