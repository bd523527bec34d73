"""One builder per kind of audit event, so each kind says the same things the same way wherever it is recorded.

The builders take typed arguments (an :class:`Actor`, an :data:`Outcome`) and
fill in what a kind always says (its action, its purpose wording), clipping
free values that come from outside (an origin, a URL path) to what the log
accepts. They know nothing above the audit floor: a request is described by
its commune, service, resource and subject, not by a row of the service layer.
"""

from __future__ import annotations

from gateway.audit.events import OUTCOMES, SYSTEM, Actor, AuditEvent, InvalidEvent, Outcome

_MAX = 200
SESSION_END = "fin de session"


def _clip(text: str) -> str:
    return text[:_MAX]


def outcome_of(text: str) -> Outcome:
    """A plugin's outcome word (``RequestHandle.record_event``) as an :data:`Outcome`; an unknown one is refused."""
    for outcome in OUTCOMES:
        if outcome == text:
            return outcome
    raise InvalidEvent(f"unknown outcome {text!r}")


def request_event(
    action: str,
    actor: Actor,
    *,
    commune: str,
    service: str,
    resource: str,
    subject: str | None,
    purpose: str,
    origin: str,
    outcome: Outcome = "success",
) -> AuditEvent:
    """Something done to one request (``request/<reference>`` or ``draft/<id>``), citing its service's purpose."""
    return AuditEvent(
        action=action,
        actor_id=actor.id,
        actor_role=actor.role,
        commune=commune,
        service=service,
        resource=_clip(resource),
        subject=subject,
        purpose=_clip(purpose),
        origin=_clip(origin),
        outcome=outcome,
    )


#: how a list showed a person's requests: a queue page, a search in the queue, a CSV export of it
LISTING_ACTIONS = ("request.list", "request.search", "request.export")


def listing(
    action: str, actor: Actor, *, commune: str, service: str, subject: str, purpose: str, origin: str
) -> AuditEvent:
    """A list an agent was shown held requests of ``subject`` in ``service``: one entry per subject and service.

    A list is an access to each person it shows (their name is in the
    summaries), recorded like opening a request, but with the queue as the
    resource: one entry names one subject, so a person's access log, the
    auditors' search by subject and a person's proof bundle find it without
    revealing who else was on the page.
    """
    if action not in LISTING_ACTIONS:
        raise InvalidEvent(f"{action!r} is not a listing ({', '.join(LISTING_ACTIONS)})")
    return AuditEvent(
        action=action,
        actor_id=actor.id,
        actor_role=actor.role,
        commune=commune,
        service=service,
        resource=f"queue/{commune}",
        subject=subject,
        purpose=_clip(purpose),
        origin=_clip(origin),
    )


def access_denied(
    actor: Actor,
    *,
    role: str,
    resource: str,
    origin: str,
    commune: str | None = None,
    service: str | None = None,
    attempted: str | None = None,
    subject: str | None = None,
) -> AuditEvent:
    """An access-control refusal: ``role`` is the role the caller lacked, ``attempted`` the action they tried."""
    tried = f"{attempted} refusé ; " if attempted else ""
    return AuditEvent(
        action="access.denied",
        actor_id=actor.id,
        actor_role=actor.role,
        commune=commune,
        service=service,
        resource=_clip(resource),
        subject=subject,
        purpose=_clip(f"contrôle d'accès : {tried}rôle {role} requis"),
        origin=_clip(origin),
        outcome="denied",
    )


def csrf_refused(actor: Actor, *, resource: str, origin: str) -> AuditEvent:
    """A change sent without a valid form token: only the door knocked on is recorded."""
    return AuditEvent(
        action="access.csrf-refused",
        actor_id=actor.id,
        actor_role=actor.role,
        resource=_clip(resource),
        purpose="protection contre la falsification de requête intersite (CSRF)",
        origin=_clip(origin),
        outcome="denied",
    )


def sign_in(
    actor: Actor,
    *,
    resource: str,
    purpose: str,
    origin: str,
    outcome: Outcome = "success",
    commune: str | None = None,
    subject: str | None = None,
) -> AuditEvent:
    """A sign-in, succeeded or refused (``resource`` names the provider and, when refused, the reason code)."""
    return AuditEvent(
        action="auth.login",
        actor_id=actor.id,
        actor_role=actor.role,
        commune=commune,
        resource=_clip(resource),
        purpose=purpose,
        origin=_clip(origin),
        outcome=outcome,
        subject=subject,
    )


def sign_out(actor: Actor, *, resource: str, origin: str, outcome: Outcome = "success") -> AuditEvent:
    """A session ended (or a provider's logout answer that could not be matched)."""
    return AuditEvent(
        action="auth.logout",
        actor_id=actor.id,
        actor_role=actor.role,
        resource=_clip(resource),
        purpose=SESSION_END,
        origin=_clip(origin),
        outcome=outcome,
    )


def account_event(
    action: str,
    actor: Actor,
    *,
    resource: str,
    purpose: str,
    origin: str,
    outcome: Outcome = "success",
    commune: str | None = None,
    subject: str | None = None,
) -> AuditEvent:
    """Something done to or with an account: created, linked, its password or token, its data read or exported."""
    return AuditEvent(
        action=action,
        actor_id=actor.id,
        actor_role=actor.role,
        commune=commune,
        resource=_clip(resource),
        purpose=purpose,
        origin=_clip(origin),
        outcome=outcome,
        subject=subject,
    )


def auditor_event(
    action: str, actor: Actor, *, commune: str | None, resource: str, subject: str | None, purpose: str, origin: str
) -> AuditEvent:
    """An auditor searched the log or read one of its entries: the audit log audits its readers too."""
    return AuditEvent(
        action=action,
        actor_id=actor.id,
        actor_role="auditor",
        commune=commune,
        resource=_clip(resource),
        subject=subject,
        purpose=purpose,
        origin=_clip(origin),
    )


def mail_event(
    action: str, *, commune: str | None, resource: str, subject: str, purpose: str, origin: str, outcome: Outcome
) -> AuditEvent:
    """The outbox delivered a message, or gave up on it (the system acts, the recipient is the subject)."""
    return AuditEvent(
        action=action,
        actor_id=SYSTEM.id,
        actor_role=SYSTEM.role,
        commune=commune,
        resource=_clip(resource),
        subject=subject,
        purpose=purpose,
        origin=_clip(origin),
        outcome=outcome,
    )
