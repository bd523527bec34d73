"""Filing a request: form checks, then one transaction (row + plugin reaction).

Pages and API both call :func:`file_request`, so a request is validated and
stored the same way whichever door it came through.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError

from gateway.audit.events import ANONYMOUS, Actor, AuditEvent, pseudonym
from gateway.audit.log import record
from gateway.communes import Commune
from gateway.db import Database
from gateway.models import ServiceRequest
from gateway.plugins import HookFailed
from gateway.registry import ProvidedService, Registry
from gateway.requests.forms import check_form
from gateway.requests.handle import RequestHandle
from gateway.requests.store import RequestStore
from gateway.services import FieldError, FormField, ServiceSettings

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
) -> Filed:
    """Validate and store one request; idempotent on ``submission_key``.

    The request, the plugin's reaction and their audit entries are written in
    one transaction. ``origin`` says where the request came from (for the
    audit log); ``actor`` who filed it; ``subject`` the pseudonym of the person
    it is about when known (a signed-in citizen), else taken from the
    service's ``subject_field``.

    Blocking: call it through :meth:`Database.run` from async code.
    """
    provided, settings, form = service_form(registry, commune, key)
    data, errors = check_form(form, raw)
    hook_args = {"service": provided.definition, "commune": commune, "settings": settings}
    with _unavailable_on_failure(key):
        for _plugin, extra in registry.hooks.all(
            "guichet_validate_request", only=provided.plugin, data=data, **hook_args
        ):
            errors.extend(extra)
    if errors:
        return Filed(errors=tuple(errors))
    try:
        with _unavailable_on_failure(key):
            context = _Context(provided, commune, data, hook_args, submission_key, locale, origin, actor, subject)
            return _store(db, registry, context)
    except IntegrityError:
        # Two copies of one submission raced: the other one won, answer with its result.
        with db.session(commune=commune.slug) as session:
            existing = RequestStore(session).by_submission_key(submission_key)
        if existing is None:
            raise
        return _replay(existing, key, submission_key)


def _replay(existing: ServiceRequest, key: str, submission_key: str) -> Filed:
    if existing.service != key:
        raise SubmissionKeyReused(submission_key, existing.service)
    return Filed(request=existing, replayed=True)


@dataclass(frozen=True)
class _Context:
    provided: ProvidedService
    commune: Commune
    data: dict[str, str]
    hook_args: dict[str, object]
    submission_key: str
    locale: str
    origin: str
    actor: Actor
    subject: str | None


def _store(db: Database, registry: Registry, context: _Context) -> Filed:
    commune, definition = context.commune, context.provided.definition
    with db.session(commune=commune.slug) as session:
        store = RequestStore(session)
        existing = store.by_submission_key(context.submission_key)
        if existing is not None:
            return _replay(existing, definition.key, context.submission_key)
        now = datetime.now(UTC)
        sequence = store.next_sequence(prefix=definition.reference_prefix, year=now.year)
        reference = registry.hooks.first(
            "guichet_reference_number", commune=commune, service=definition, year=now.year, sequence=sequence
        )
        row = ServiceRequest(
            reference=reference,
            commune=commune.slug,
            service=definition.key,
            data=context.data,
            locale=context.locale,
            submission_key=context.submission_key,
            created_at=now,
        )
        store.add(row)
        subject_field = definition.subject_field
        subject_value = context.data.get(subject_field) if subject_field else None
        subject = context.subject or (
            pseudonym(registry.settings.secret_key, subject_field, subject_value)
            if subject_field and subject_value
            else None
        )

        def emit(action: str, outcome: str = "success") -> None:
            record(
                session,
                AuditEvent(
                    action=action,
                    actor_id=context.actor.id,
                    actor_role=context.actor.role,
                    commune=commune.slug,
                    service=definition.key,
                    resource=f"request/{reference}",
                    subject=subject,
                    purpose=definition.purpose.fr,
                    origin=context.origin,
                    outcome=outcome,  # type: ignore[arg-type]
                ),
            )

        emit("request.create")
        handle = RequestHandle(row, emit=lambda verb, outcome: emit(f"{definition.key}.{verb}", outcome))
        registry.hooks.all(
            "guichet_request_submitted", only=context.provided.plugin, request=handle, **context.hook_args
        )
        session.flush()
        return Filed(request=row)
