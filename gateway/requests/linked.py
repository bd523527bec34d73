"""A request shared with another member commune: the one place a request crosses communes.

The home commune's request (the one the family filed) creates, in the same
transaction, a *linked request* in the receiving commune: a row of that
commune holding only the fields and documents the plugin discloses
(:class:`gateway.services.SharedRequest`), following the service's
``linked_workflow``. Each side is written through a session bound to its own
commune (:func:`gateway.db.joined_session`), so the commune filter holds on
both. When either side decides, only that decision (its state and the reason
value) is forwarded to the other; the home request's withdrawal closes the
linked one. The access rules are in docs/shared_requests.md.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, select

from gateway.audit.events import SYSTEM
from gateway.communes import Commune
from gateway.db import joined_session
from gateway.models import Attachment, RequestEvent, ServiceRequest
from gateway.registry import Registry
from gateway.requests import attachments as files
from gateway.requests.caller import Caller
from gateway.requests.clock import days_from, now
from gateway.requests.errors import ActionNotAllowed, ServiceUnavailable
from gateway.requests.notices import notify_citizen
from gateway.requests.rules import ServiceRules, rules_for, unavailable_on_failure
from gateway.requests.store import RequestStore, next_number
from gateway.requests.trail import audit, audit_as, bump, history
from gateway.services import WITHDRAWN, FieldError, FormValues, Localized, ServiceDefinition, SharedRequest, Workflow

log = logging.getLogger(__name__)

HOME = "home"
RECEIVING = "receiving"
#: what the origin of a forwarded decision is recorded as (no HTTP request of the other commune caused it)
FORWARDED = "linked-request"


def not_a_member(slug: str) -> Localized:
    return Localized(
        f"La commune « {slug} » n'est pas membre du syndicat : la demande ne peut pas lui être transmise.",
        f"The commune '{slug}' is not a member of the syndicate: the request cannot be shared with it.",
    )


def not_offered(name: str) -> Localized:
    return Localized(
        f"La commune de {name} ne propose pas cette démarche : la demande ne peut pas lui être transmise.",
        f"{name} does not offer this service: the request cannot be shared with it.",
    )


SAME_COMMUNE = Localized(
    "Choisissez une autre commune que celle où vous déposez la demande.",
    "Choose a commune other than the one you are filing with.",
)
ONE_SHARE = Localized(
    "Une demande ne peut être transmise qu'à une seule autre commune.",
    "A request can be shared with one other commune only.",
)
LINKED_DECISION = Localized(
    "La commune de {commune} a pris sa décision sur votre demande : {decision}.",
    "{commune} has decided on your request: {decision}.",
)


def linked_rules(rules: ServiceRules, row: ServiceRequest) -> ServiceRules:
    """The rules a request follows: a receiving commune's linked request follows the service's linked workflow."""
    workflow = rules.definition.linked_workflow
    if not row.is_linked_copy or workflow is None:
        return rules
    return dataclasses.replace(rules, definition=dataclasses.replace(rules.definition, workflow=workflow))


def workflows_of(definition: ServiceDefinition) -> tuple[Workflow, ...]:
    """Every workflow a service's requests may follow (its own, and its linked requests')."""
    linked = definition.linked_workflow
    return (definition.workflow,) if linked is None else (definition.workflow, linked)


def shares_of(registry: Registry, rules: ServiceRules, data: FormValues) -> tuple[SharedRequest, ...]:
    """The shares the service's plugin names for these answers; a share it cannot make is a plugin failure."""
    with unavailable_on_failure(rules.key):
        found = registry.hooks.first("guichet_request_shares", only=rules.provided.plugin, data=data, **rules.hook_args)
    shares = tuple(found or ())
    definition = rules.definition
    names = {form_field.name for form_field in rules.form} | set(definition.derived)
    documents = {spec.name for spec in definition.documents}
    for share in shares:
        if (
            not isinstance(share, SharedRequest)
            or definition.linked_workflow is None
            or not set(share.fields) <= names
            or not set(share.documents) <= documents
        ):
            # the plugin's mistake, not the family's: its service is unavailable, as for any plugin failure
            log.error("service %r names a share it cannot make: %r", definition.key, share)
            raise ServiceUnavailable(definition.key, rules.provided.plugin)
    return shares


def share_errors(registry: Registry, rules: ServiceRules, data: FormValues) -> list[FieldError]:
    """Why these answers' shares cannot be made, on each share's field (checked before anything is stored)."""
    shares = shares_of(registry, rules, data)
    if len(shares) > 1:
        return [FieldError(shares[1].field, ONE_SHARE)]
    errors = []
    for share in shares:
        reason = _refusal(registry, rules, share)
        if reason is not None:
            errors.append(FieldError(share.field, reason))
    return errors


def _refusal(registry: Registry, rules: ServiceRules, share: SharedRequest) -> Localized | None:
    if share.commune == rules.commune.slug:
        return SAME_COMMUNE
    receiving = registry.commune(share.commune)
    if receiving is None:
        return not_a_member(share.commune)
    if not receiving.enables(rules.key) or not registry.is_available(rules.key):
        return not_offered(receiving.name)
    return None


def create_linked(
    session: Session, registry: Registry, rules: ServiceRules, row: ServiceRequest, caller: Caller
) -> None:
    """Create the linked request of each share of a request being submitted, in its transaction."""
    shares = shares_of(registry, rules, row.data)
    if not shares:
        return
    if len(shares) > 1:
        raise ActionNotAllowed(ONE_SHARE)
    share = shares[0]
    refusal = _refusal(registry, rules, share)
    receiving = registry.commune(share.commune)
    if refusal is not None or receiving is None:
        raise ActionNotAllowed(refusal or not_a_member(share.commune))
    documents = [
        a
        for a in session.exec(select(Attachment).where(Attachment.request_id == row.id)).all()
        if a.document in share.documents
    ]
    linked = _linked_row(session, registry, rules, row, share, receiving, documents)
    row.link_role, row.linked_commune, row.linked_reference = HOME, receiving.slug, linked.reference
    history(session, row, "linked", caller, body=f"Transmise à la commune de {receiving.name} : {linked.reference}")
    audit(session, caller, row, rules.definition, "request.share", target=f"request/{row.reference}/linked")


def _linked_row(
    session: Session,
    registry: Registry,
    rules: ServiceRules,
    row: ServiceRequest,
    share: SharedRequest,
    receiving: Commune,
    documents: Sequence[Attachment],
) -> ServiceRequest:
    definition = rules.definition
    workflow = definition.linked_workflow
    assert workflow is not None and row.id is not None
    moment = now()
    # numbered through the filing's own session: a batch numbering the receiving commune's filings counts it too
    sequence = next_number(session, receiving.slug, prefix=definition.reference_prefix, year=moment.year)
    with joined_session(session, commune=receiving.slug) as other:
        receiving_store = RequestStore(other)
        linked = ServiceRequest(
            commune=receiving.slug,
            service=definition.key,
            data={name: row.data[name] for name in share.fields if name in row.data},
            locale=row.locale,
            form_version=row.form_version,
            submission_key=f"linked:{row.public_id}",
            subject=row.subject,
            summary=share.summary,
            status=workflow.initial,
            reference=registry.hooks.first(
                "guichet_reference_number", commune=receiving, service=definition, year=moment.year, sequence=sequence
            ),
            submitted_at=moment,
            updated_at=moment,
            link_role=RECEIVING,
            linked_commune=row.commune,
            linked_reference=row.reference,
        )
        receiving_store.add(linked)
        assert linked.id is not None
        for attachment in documents:
            # a copy of its own, in this transaction: each commune deletes its request's files on its own schedule
            files.copy_for(
                session,
                other,
                attachment,
                commune=receiving.slug,
                request_id=linked.id,
                uploaded_by="citizen",
                created_at=moment,
            )
        _system_event(other, linked, "linked", moment, to_status=linked.status,
                      body=f"Demande transmise par la commune de {rules.commune.name} ({row.reference})")  # fmt: skip
        # the receiving commune records its new row as made by the system: no person of that commune acted
        audit_as(other, SYSTEM, FORWARDED, linked, definition, "request.create")
    return linked


def forward_decision(
    session: Session, registry: Registry, row: ServiceRequest, rules: ServiceRules, reason: str | None
) -> None:
    """Tell the other side of a shared request that this side decided (only the decision), in this transaction.

    A decided receiving request: the home request records it and the family is
    told. A decided home request: the linked request records it; withdrawn,
    it closes the linked request too.
    """
    if row.link_role not in (HOME, RECEIVING) or not row.linked_commune or not row.linked_reference:
        return
    other_commune = registry.commune(row.linked_commune)
    if other_commune is None:
        return  # the other commune left the syndicate: there is nobody to tell
    decision = _decision_text(rules.definition.workflow, row.status, reason)
    with joined_session(session, commune=other_commune.slug) as other:
        peer = other.exec(select(ServiceRequest).where(ServiceRequest.reference == row.linked_reference)).first()
        if peer is None:
            return  # purged at the end of its retention
        peer_rules = linked_rules(rules_for(registry, other_commune, peer.service), peer)
        bump(other, peer)
        peer.linked_status, peer.linked_reason = row.status, reason
        assert peer.id is not None
        moment = now()
        _system_event(other, peer, "linked-decision", moment, reason=reason,
                      body=f"Décision de la commune de {rules.commune.name} : {decision.fr}")  # fmt: skip
        audit_as(other, SYSTEM, FORWARDED, peer, peer_rules.definition, "request.linked-decision")
        closes = row.status == WITHDRAWN and not peer_rules.definition.workflow.is_decided(peer.status)
        if row.link_role == HOME and closes:
            previous = peer.status
            peer.status, peer.decided_at = WITHDRAWN, moment
            peer.purge_after = days_from(moment, other_commune.retention_days(peer_rules.definition))
            _system_event(other, peer, "withdrawn", moment, from_status=previous, to_status=WITHDRAWN)
        if row.link_role == RECEIVING:
            message = Localized(
                LINKED_DECISION.fr.format(commune=rules.commune.name, decision=decision.fr),
                LINKED_DECISION("en").format(commune=rules.commune.name, decision=decision("en")),
            )
            notify_citizen(
                other,
                registry.settings,
                other_commune,
                peer_rules.definition,
                peer,
                cause=f"linked-decision:{peer.version}",
                message=message,
            )


def _system_event(
    session: Session,
    row: ServiceRequest,
    kind: str,
    at: datetime,
    *,
    body: str | None = None,
    reason: str | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
) -> None:
    """A history line the system writes on one side of a shared request (no person of that commune acted)."""
    assert row.id is not None
    session.add(RequestEvent(commune=row.commune, request_id=row.id, at=at, kind=kind, actor_role="system", body=body,
                             reason=reason, from_status=from_status, to_status=to_status))  # fmt: skip


def _decision_text(workflow: Workflow, status: str, reason: str | None) -> Localized:
    label = workflow.state(status).label
    if reason is None:
        return label
    for transition in workflow.transitions:
        for choice in transition.reasons:
            if choice.value == reason and transition.target == status:
                return Localized(f"{label.fr} ({choice.label.fr})", f"{label('en')} ({choice.label('en')})")
    return label
