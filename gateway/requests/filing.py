"""Filing a request: form checks, then one transaction (row + plugin reaction).

Pages and API both call :func:`file_request`, so a request is validated and
stored the same way whichever door it came through.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from gateway.audit.events import ANONYMOUS, Actor, AuditEvent, pseudonym
from gateway.audit.log import record
from gateway.communes import Commune
from gateway.db import Database
from gateway.models import Attachment, RequestEvent, ServiceRequest
from gateway.plugins import HookFailed
from gateway.registry import ProvidedService, Registry
from gateway.request_handle import RequestHandle
from gateway.requests.forms import check_form
from gateway.requests.store import RequestStore
from gateway.services import CitizenIdentity, FieldError, FormField, Localized, ServiceDefinition, ServiceSettings

SUBMISSION_KEY_MAX = 64


class SubmissionKeyReused(Exception):
    """The submission key already filed a request for another service of this commune."""

    def __init__(self, key: str, service: str) -> None:
        self.service = service
        super().__init__(f"submission key already used for service {service!r}")


class ServiceUnavailable(Exception):
    """The service's plugin failed to load or raised; nothing was stored."""

    def __init__(self, service: str, plugin: str | None) -> None:
        self.service = service
        self.plugin = plugin
        super().__init__(f"service {service!r} is temporarily unavailable")


@dataclass(frozen=True)
class Filed:
    """The outcome of a filing: the stored request, or the errors that stopped it."""

    request: ServiceRequest | None = None
    errors: Sequence[FieldError] = field(default_factory=tuple)
    replayed: bool = False


def new_submission_key() -> str:
    return secrets.token_urlsafe(24)


def service_form(
    registry: Registry, commune: Commune, key: str
) -> tuple[ProvidedService, ServiceSettings, Sequence[FormField]]:
    """The service, its settings in this commune and its form; raises ServiceUnavailable."""
    provided = registry.services.get(key)
    settings = commune.services.get(key)
    if provided is None or settings is None or not registry.is_available(key):
        raise ServiceUnavailable(key, provided.plugin if provided else None)
    with _unavailable_on_failure(key):
        form = registry.hooks.first(
            "guichet_service_form",
            only=provided.plugin,
            service=provided.definition,
            commune=commune,
            settings=settings,
        )
    return provided, settings, tuple(form or ())


@contextmanager
def _unavailable_on_failure(key: str) -> Iterator[None]:
    try:
        yield
    except HookFailed as failure:
        raise ServiceUnavailable(key, failure.plugin) from failure


def file_request(
    db: Database,
    registry: Registry,
    commune: Commune,
    key: str,
    raw: Mapping[str, object],
    *,
    submission_key: str,
    locale: str,
    origin: str,
    actor: Actor = ANONYMOUS,
    subject: str | None = None,
    citizen_id: int | None = None,
    identity: CitizenIdentity | None = None,
    notify_email: str | None = None,
    filed_by_staff_id: int | None = None,
    files: Sequence[StoredFile] | None = None,
) -> Filed:
    """Validate and store one request in one go (no draft); idempotent on ``submission_key``.

    The request, the plugin's reaction, the receipt message and their audit
    entries are written in one transaction. ``origin`` says where the request
    came from (for the audit log); ``actor`` who filed it; ``subject`` the
    pseudonym of the person it is about when known (a signed-in citizen),
    else taken from the service's ``subject_field``. ``filed_by_staff_id``
    marks a request an agent filed at the counter for the citizen; ``files``
    are its documents, already checked and written to the attachment store
    (the caller deletes them when no request is stored); ``None`` when this
    door takes no documents, so a service needing some says to use a draft.

    Blocking: call it through :meth:`Database.run` from async code.
    """
    provided, settings, form = service_form(registry, commune, key)
    data, errors = check_form(form, raw)
    hook_args = {"service": provided.definition, "commune": commune, "settings": settings}
    errors.extend(plugin_errors(registry, provided, hook_args, data, identity))
    missing = missing_documents(provided.definition, data, {stored.document for stored in files or ()})
    if not errors and missing:
        errors.extend(missing if files is not None else [FieldError("", DOCUMENTS_NEED_A_DRAFT)])
    if errors:
        return Filed(errors=tuple(errors))
    definition = provided.definition
    subject_field = definition.subject_field
    subject_value = data.get(subject_field) if subject_field else None
    if notify_email is None and subject_field and _is_email_field(form, subject_field):
        notify_email = subject_value or None
    if subject is None and subject_field and subject_value:
        subject = pseudonym(registry.settings.secret_key, subject_field, subject_value)
    row = ServiceRequest(
        commune=commune.slug,
        service=definition.key,
        data=data,
        locale=locale,
        form_version=definition.form_version,
        submission_key=submission_key,
        citizen_id=citizen_id,
        notify_email=notify_email,
        filed_by_staff_id=filed_by_staff_id,
        subject=subject,
    )
    try:
        with _unavailable_on_failure(key):
            return _store(db, registry, provided, commune, hook_args, row, actor, origin, files or ())
    except IntegrityError:
        # Two copies of one submission raced: the other one won, answer with its result.
        with db.session(commune=commune.slug) as session:
            existing = RequestStore(session).by_submission_key(submission_key)
        if existing is None:
            raise
        return _replay(existing, key, submission_key)


MISSING_DOCUMENT = Localized(
    "Joignez ce document avant de déposer votre demande.", "Attach this document before submitting your request."
)


@dataclass(frozen=True)
class StoredFile:
    """A document already checked, scanned and written to the attachment store, to record with its request."""

    document: str
    filename: str
    content_type: str
    size: int
    sha256: str
    storage_name: str
    uploaded_by: str


def missing_documents(definition: ServiceDefinition, data: Mapping[str, str], have: set[str]) -> list[FieldError]:
    """The required documents (for these answers) that are not among ``have``."""
    return [
        FieldError(f"document:{spec.name}", MISSING_DOCUMENT)
        for spec in definition.documents
        if spec.required and spec.applies(data) and spec.name not in have
    ]


DOCUMENTS_NEED_A_DRAFT = Localized(
    "Cette démarche demande des pièces jointes : commencez-la comme brouillon, joignez les documents, puis déposez-la.",
    "This service needs attached documents: start it as a draft, attach the documents, then submit it.",
)


def _is_email_field(form: Sequence[FormField], name: str) -> bool:
    return any(field.name == name and field.kind == "email" for field in form)


def plugin_errors(
    registry: Registry,
    provided: ProvidedService,
    hook_args: Mapping[str, object],
    data: Mapping[str, str],
    identity: CitizenIdentity | None,
) -> list[FieldError]:
    """The service's own checks (eligibility rules) on a filled form."""
    errors: list[FieldError] = []
    with _unavailable_on_failure(provided.definition.key):
        for _plugin, extra in registry.hooks.all(
            "guichet_validate_request", only=provided.plugin, data=data, citizen=identity, **hook_args
        ):
            errors.extend(extra)
    return errors


def _replay(existing: ServiceRequest, key: str, submission_key: str) -> Filed:
    if existing.service != key:
        raise SubmissionKeyReused(submission_key, existing.service)
    return Filed(request=existing, replayed=True)


def _store(
    db: Database,
    registry: Registry,
    provided: ProvidedService,
    commune: Commune,
    hook_args: Mapping[str, object],
    row: ServiceRequest,
    actor: Actor,
    origin: str,
    files: Sequence[StoredFile],
) -> Filed:
    with db.session(commune=commune.slug) as session:
        store = RequestStore(session)
        existing = store.by_submission_key(row.submission_key)
        if existing is not None:
            return _replay(existing, provided.definition.key, row.submission_key)
        if row.subject is None:
            row.subject = pseudonym(registry.settings.secret_key, "request", row.public_id)
        row.status = "draft"
        store.add(row)
        assert row.id is not None
        for stored in files:
            session.add(Attachment(commune=row.commune, request_id=row.id, created_at=row.created_at,
                                   **dataclasses.asdict(stored)))  # fmt: skip
        finalise(session, registry, provided, commune, hook_args, row, actor, origin, created=True)
        return Filed(request=row)


def finalise(
    session: Session,
    registry: Registry,
    provided: ProvidedService,
    commune: Commune,
    hook_args: Mapping[str, object],
    row: ServiceRequest,
    actor: Actor,
    origin: str,
    *,
    created: bool,
) -> None:
    """Turn a stored draft into a submitted request: number, first state, plugin reaction, history, receipt.

    Runs inside the caller's transaction; if the plugin raises, nothing of it is kept.
    """
    from gateway.requests.notices import RECEIPT, RECEIPT_ASSISTED, notify_citizen

    definition = provided.definition
    store = RequestStore(session)
    now = datetime.now(UTC)
    sequence = store.next_sequence(prefix=definition.reference_prefix, year=now.year)
    row.reference = registry.hooks.first(
        "guichet_reference_number", commune=commune, service=definition, year=now.year, sequence=sequence
    )
    row.status = definition.workflow.initial
    row.submitted_at = now
    row.updated_at = now
    row.purge_after = None
    session.flush()
    assert row.id is not None

    def emit(action: str, outcome: str = "success") -> None:
        record(
            session,
            AuditEvent(
                action=action,
                actor_id=actor.id,
                actor_role=actor.role,
                commune=commune.slug,
                service=definition.key,
                resource=f"request/{row.reference}",
                subject=row.subject,
                purpose=definition.purpose.fr,
                origin=origin,
                outcome=outcome,  # type: ignore[arg-type]
            ),
        )

    emit("request.create" if created else "request.submit")
    staff_id = row.filed_by_staff_id if actor.role != "citizen" else None
    session.add(
        RequestEvent(
            commune=commune.slug,
            request_id=row.id,
            at=now,
            kind="filed-for" if row.filed_by_staff_id else "submitted",
            actor_role="agent" if staff_id else "citizen",
            staff_id=staff_id,
            to_status=row.status,
        )
    )
    handle = RequestHandle(row, emit=lambda verb, outcome: emit(f"{definition.key}.{verb}", outcome))
    registry.hooks.all("guichet_request_submitted", only=provided.plugin, request=handle, **hook_args)
    receipt = RECEIPT_ASSISTED if row.filed_by_staff_id else RECEIPT
    notify_citizen(session, registry.settings, commune, definition, row, cause="receipt", message=receipt)
    session.flush()
