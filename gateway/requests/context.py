"""What every request operation needs: who acts, the service's rules in this commune, the audit entry.

Shared by the citizen side (:mod:`gateway.requests.lifecycle`) and the
agents' side (:mod:`gateway.requests.backoffice`), so both record the same
audit entries and take the same care over concurrent changes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlmodel import Session, col, select, update

from gateway.audit.events import Actor, AuditEvent, pseudonym
from gateway.audit.log import record
from gateway.communes import Commune
from gateway.identity.principal import Principal
from gateway.models import Attachment, RequestEvent, ServiceRequest, StaffUser
from gateway.plugins import HookFailed
from gateway.registry import ProvidedService, Registry
from gateway.requests.errors import ActionNotAllowed, InvalidInput, RequestNotFound, StaleRequest
from gateway.requests.filing import ServiceUnavailable, service_form
from gateway.requests.forms import CONTROL_CHARS
from gateway.services import (
    CitizenIdentity,
    FormField,
    Localized,
    ServiceDefinition,
    ServiceSettings,
    TransitionRefused,
)


@dataclass(frozen=True)
class Caller:
    """Who acts, as the service layer needs it: the audit actor, and the account behind it.

    ``citizen_id`` for a signed-in citizen (their requests are those they
    own), ``principal`` for a staff member (their grants say which communes
    and services they reach). ``origin`` is recorded in the audit log.
    """

    actor: Actor
    origin: str
    locale: str = "fr"
    citizen_id: int | None = None
    citizen_public_id: str | None = None
    identity: CitizenIdentity | None = None
    principal: Principal | None = None

    @property
    def staff_id(self) -> int | None:
        return self.principal.user_id if self.principal is not None and self.principal.is_staff else None


@dataclass(frozen=True)
class ServiceRules:
    """A service as one commune offers it: the plugin's definition, the commune's settings, the form."""

    commune: Commune
    provided: ProvidedService
    settings: ServiceSettings
    form: Sequence[FormField]

    @property
    def definition(self) -> ServiceDefinition:
        return self.provided.definition

    @property
    def hook_args(self) -> dict[str, Any]:
        return {"service": self.definition, "commune": self.commune, "settings": self.settings}


def rules_for(registry: Registry, commune: Commune, key: str) -> ServiceRules:
    """Raises :class:`ServiceUnavailable` when the service is not enabled here or its plugin failed."""
    provided, settings, form = service_form(registry, commune, key)
    return ServiceRules(commune, provided, settings, form)


@contextmanager
def plugin_call(key: str) -> Iterator[None]:
    """A plugin's failure makes the service unavailable; its explicit refusal becomes a 409 with its reason."""
    try:
        yield
    except HookFailed as failure:
        if isinstance(failure.__cause__, TransitionRefused):
            raise ActionNotAllowed(failure.__cause__.reason) from None
        raise ServiceUnavailable(key, failure.plugin) from failure


def now() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes for stored UTC times."""
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def days_from(moment: datetime, days: int) -> datetime:
    return moment + timedelta(days=days)


def subject_of(secret: bytes, caller: Caller, *, email: str | None = None, fallback: str) -> str:
    """The audit pseudonym of the person a request is about: the citizen, else the e-mail typed, else the request."""
    if caller.citizen_public_id:
        return pseudonym(secret, "citizen", caller.citizen_public_id)
    if email:
        return pseudonym(secret, "email", email)
    return pseudonym(secret, "request", fallback)


def resource(row: ServiceRequest) -> str:
    return f"request/{row.reference}" if row.reference else f"draft/{row.public_id}"


def audit(
    session: Session,
    caller: Caller,
    row: ServiceRequest,
    definition: ServiceDefinition,
    action: str,
    *,
    outcome: Literal["success", "denied", "failure"] = "success",
    target: str | None = None,
) -> None:
    """Record one action on ``row``, citing the service's purpose, in the action's transaction."""
    record(
        session,
        AuditEvent(
            action=action,
            actor_id=caller.actor.id,
            actor_role=caller.actor.role,
            commune=row.commune,
            service=row.service,
            resource=target or resource(row),
            subject=row.subject,
            purpose=definition.purpose.fr,
            origin=caller.origin,
            outcome=outcome,
        ),
    )


def history(
    session: Session,
    row: ServiceRequest,
    kind: str,
    caller: Caller,
    *,
    body: str | None = None,
    internal: bool = False,
    from_status: str | None = None,
    to_status: str | None = None,
    transition: str | None = None,
    reason: str | None = None,
) -> RequestEvent:
    assert row.id is not None
    role = "citizen" if caller.actor.role in ("citizen", "anonymous") else caller.actor.role
    event = RequestEvent(
        commune=row.commune,
        request_id=row.id,
        at=now(),
        kind=kind,
        actor_role="agent" if role in ("supervisor", "administrator") else role,
        staff_id=caller.staff_id,
        from_status=from_status,
        to_status=to_status,
        transition=transition,
        reason=reason,
        body=body,
        internal=internal,
    )
    session.add(event)
    return event


def bump(session: Session, row: ServiceRequest, expected_version: int | None = None) -> None:
    """Claim the row for this change: its version must still be the one the caller saw.

    One conditional UPDATE: of two agents acting at once, the second finds the
    version already moved on and gets :class:`StaleRequest` with nothing written.
    """
    expected = row.version if expected_version is None else expected_version
    result = session.execute(
        update(ServiceRequest)
        .where(ServiceRequest.id == row.id, ServiceRequest.version == expected)  # type: ignore[arg-type]
        .values(version=expected + 1, updated_at=now())
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleRequest
    session.refresh(row)


TEXT_MAX = 5000


def checked_text(text: object, *, required: bool, label: Localized) -> str:
    """A comment or message as typed: trimmed, at most 5000 characters, no control characters."""
    value = text.strip().replace("\r\n", "\n") if isinstance(text, str) else ""
    if required and not value:
        raise InvalidInput(
            Localized(f"{label.fr} : ce champ est obligatoire.", f"{label('en')}: this field is required.")
        )
    if len(value) > TEXT_MAX:
        raise InvalidInput(
            Localized(
                f"{label.fr} : {TEXT_MAX} caractères au maximum.", f"{label('en')}: at most {TEXT_MAX} characters."
            )
        )
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in value) or "\x7f" in value:
        raise InvalidInput(CONTROL_CHARS)
    return value


def text_values(values: Mapping[str, Any]) -> dict[str, str]:
    """A stored form's answers as text, the shape conditions (``show_if``, ``only_if``) are checked against."""
    return {key: value for key, value in values.items() if isinstance(value, str)}


def staff_names(session: Session, ids: set[int]) -> dict[int, str]:
    """Display names of staff accounts, for history lines and assignments."""
    if not ids:
        return {}
    rows = session.exec(select(StaffUser).where(col(StaffUser.id).in_(ids))).all()
    return {staff.id: staff.display_name for staff in rows if staff.id is not None}


def find_attachment(session: Session, row: ServiceRequest, attachment_id: str) -> Attachment:
    """One of ``row``'s attachments by its public id (404 for any other, even of another request)."""
    attachment = session.exec(
        select(Attachment).where(Attachment.public_id == attachment_id, Attachment.request_id == row.id)
    ).first()
    if attachment is None:
        raise RequestNotFound
    return attachment
