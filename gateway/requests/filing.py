"""The filing pipeline: the service's rules, the caller and the input in; the outcome out.

Every door files through here — the service page and the API
(:func:`gateway.web.callers.file_from`), the counter
(:meth:`~gateway.requests.backoffice.commands.BackOfficeCommands.file_for_citizen`),
the demo — and a draft's submission (:meth:`~gateway.requests.lifecycle.CitizenRequests.submit`)
ends in the same :func:`finalise`. The rules are resolved once by the caller
(:func:`~gateway.requests.rules.rules_for`): the plugin's form hook is not run again here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from gateway.batch_rows import add_at_commit
from gateway.db import Database
from gateway.group_commit import GroupCommit
from gateway.models import Attachment, RequestEvent, ServiceRequest
from gateway.models.new_rows import copy_row, new_row
from gateway.registry import Registry
from gateway.requests import attachments as files
from gateway.requests.abuse import check_anonymous_filing, may_mail_receipt
from gateway.requests.caller import Caller
from gateway.requests.clock import now
from gateway.requests.forms import check_form
from gateway.requests.linked import create_linked, share_errors
from gateway.requests.notices import Envelope, envelope_for
from gateway.requests.rules import ServiceRules, unavailable_on_failure
from gateway.requests.store import RequestStore
from gateway.requests.subject import audit_subject
from gateway.requests.submission_keys import SubmissionKeyConflict, fingerprint, same_submission
from gateway.requests.trail import audit, plugin_handle
from gateway.services import CitizenIdentity, FieldError, FieldValue, FormValues, Localized, ServiceDefinition

MISSING_DOCUMENT = Localized(
    "Joignez ce document avant de déposer votre demande.", "Attach this document before submitting your request."
)
DOCUMENTS_NEED_A_DRAFT = Localized(
    "Cette démarche demande des pièces jointes : commencez-la comme brouillon, joignez les documents, puis déposez-la.",
    "This service needs attached documents: start it as a draft, attach the documents, then submit it.",
)


@dataclass(frozen=True)
class CheckedFile:
    """A document already checked and scanned, stored with its request in the filing's transaction."""

    document: str
    filename: str
    content_type: str
    data: bytes
    uploaded_by: str


@dataclass(frozen=True)
class Submission:
    """What is filed: the answers as sent, the one-time key, and the documents.

    ``files`` are already checked and scanned; their bytes are stored in the
    filing's transaction, so no request means no bytes; ``None`` when this door
    takes no documents, so a service needing some says to use a draft.
    """

    raw: Mapping[str, object]
    key: str
    files: Sequence[CheckedFile] | None = None


@dataclass(frozen=True)
class Filed:
    """The outcome of a filing: the stored request, or the errors that stopped it.

    ``receipt_mailed``: True when a receipt was queued, False when the limits on
    unverified addresses withheld it (:mod:`gateway.requests.abuse`), None when
    there was no address to mail (or the filing is a replay).
    """

    request: ServiceRequest | None = None
    errors: Sequence[FieldError] = field(default_factory=tuple)
    replayed: bool = False
    receipt_mailed: bool | None = None


@dataclass(frozen=True)
class Prepared:
    """A filing checked and built outside any transaction, ready for :func:`store`: no lock is needed to make it."""

    rules: ServiceRules
    caller: Caller
    row: ServiceRequest
    files: Sequence[CheckedFile] = ()
    #: the receipt's checked address and Message-ID (None: no address, or one the transaction will refuse)
    envelope: Envelope | None = None


def file_request(db: Database, registry: Registry, rules: ServiceRules, caller: Caller, sent: Submission) -> Filed:
    """Validate and store one request in one go (no draft); idempotent on the submission key.

    The request, its documents, the plugin's reaction, the receipt message and
    their audit entries are written in one transaction of their own (the HTTP
    doors share one with the filings arriving with theirs: :func:`file_together`).

    Blocking: call it through :meth:`Database.run` from async code.
    """
    prepared = prepare(registry, rules, caller, sent)
    if isinstance(prepared, Filed):
        return prepared
    try:
        with db.session(commune=rules.commune.slug) as session:
            return store(session, registry, prepared)
    except IntegrityError:
        # A retry, or two copies of one submission racing: the first one stored is the answer.
        replayed = _replay(db, rules, prepared.row)
        if replayed is None:
            raise
        return replayed


async def file_together(
    db: Database, writer: GroupCommit, registry: Registry, rules: ServiceRules, caller: Caller, sent: Submission
) -> Filed:
    """As :func:`file_request`, stored in the process's next batch (:mod:`gateway.group_commit`).

    Checked and built on the event loop, outside any transaction (a few
    hundred microseconds of CPU, no database: handing it to a worker thread
    cost about as much again, in wake-ups and waits for the interpreter
    lock), as the form hook already is; answered once the batch holding it
    has committed. A failure of this filing (a limit, a plugin's) rolls back
    this filing only.
    """
    prepared = prepare(registry, rules, caller, sent)
    if isinstance(prepared, Filed):
        return prepared
    try:
        return await writer.write(rules.commune.slug, functools.partial(store, registry=registry, prepared=prepared))
    except IntegrityError:
        replayed = await db.run(_replay, db, rules, prepared.row)
        if replayed is None:
            raise
        return replayed


def prepare(registry: Registry, rules: ServiceRules, caller: Caller, sent: Submission) -> Prepared | Filed:
    """Everything a filing does before it writes: the checks, the row, its audit subject; no database needed.

    Returns what to store, or the errors that stopped it. A retry is not
    looked up here: :func:`store` inserting its row meets the unique key
    (commune, submission key) at once, and the caller answers with the stored request.
    """
    data, errors = check_answers(registry, rules, sent.raw, caller.identity)
    missing = missing_documents(rules.definition, data, {stored.document for stored in sent.files or ()})
    if not errors and missing:
        errors.extend(missing if sent.files is not None else [FieldError("", DOCUMENTS_NEED_A_DRAFT)])
    if errors:
        return Filed(errors=tuple(errors))
    definition = rules.definition
    row = new_row(
        ServiceRequest,
        commune=rules.commune.slug,
        service=definition.key,
        data=data,
        locale=caller.locale,
        form_version=definition.form_version,
        submission_key=sent.key,
        submission_fingerprint=fingerprint(data),
        citizen_id=caller.citizen_id,
        notify_email=_receipt_address(rules, data, caller),
        filed_by_staff_id=caller.staff_id if caller.on_behalf_of is not None else None,
    )
    row.subject = audit_subject(registry.settings.secret_key, caller, definition, data, request_id=row.public_id)
    envelope = envelope_for(registry.settings, row.notify_email)
    return Prepared(rules, caller, row, tuple(sent.files or ()), envelope)


def _replay(db: Database, rules: ServiceRules, row: ServiceRequest) -> Filed | None:
    """The request this submission key already filed, answered again (None: the key is new)."""
    with db.read_session(commune=rules.commune.slug) as session:
        existing = RequestStore(session).by_submission_key(row.submission_key)
    if existing is None:
        return None
    if existing.family_id is not None:  # the key filed a family: one request alone is another filing
        raise SubmissionKeyConflict
    return Filed(request=same_submission(existing, rules.key, answers=row.submission_fingerprint), replayed=True)


def check_answers(
    registry: Registry, rules: ServiceRules, raw: Mapping[str, object], identity: CitizenIdentity | None
) -> tuple[dict[str, FieldValue], list[FieldError]]:
    """The form's checks, then the service's own (eligibility rules) on the cleaned answers."""
    data, errors = check_form(rules.form, raw)
    with unavailable_on_failure(rules.key):
        for _plugin, extra in registry.hooks.all(
            "guichet_validate_request", only=rules.provided.plugin, data=data, citizen=identity, **rules.hook_args
        ):
            errors.extend(extra)
    if not errors:
        errors.extend(share_errors(registry, rules, data))
    return data, errors


def missing_documents(definition: ServiceDefinition, data: FormValues, have: set[str]) -> list[FieldError]:
    """The required documents (for these answers) that are not among ``have``."""
    return [
        FieldError(f"document:{spec.name}", MISSING_DOCUMENT)
        for spec in definition.documents
        if spec.required and spec.applies(data) and spec.name not in have
    ]


def _receipt_address(rules: ServiceRules, data: FormValues, caller: Caller) -> str | None:
    """Where the receipt goes: the address an agent gave at the counter, else the form's e-mail subject field."""
    if caller.on_behalf_of is not None and caller.on_behalf_of.email:
        return caller.on_behalf_of.email
    name = rules.definition.subject_field
    if name and any(form_field.name == name and form_field.kind == "email" for form_field in rules.form):
        address = data.get(name)
        return address if isinstance(address, str) and address else None
    return None


def store(session: Session, registry: Registry, prepared: Prepared) -> Filed:
    """Write a prepared filing in ``session``'s transaction (for its commune), or raise with nothing of it kept.

    The row is numbered, the plugin reacts (:func:`react`: its summary and
    derived values set on the row), and the row is inserted whole, in one
    statement: a submission key already used fails there (``IntegrityError``:
    the caller answers with the stored request); then the filing limit. A
    failure anywhere rolls back what the plugin did with the rest.
    """
    rules, caller = prepared.rules, prepared.caller
    row = copy_row(prepared.row)  # each run starts from what was prepared (a batch may run its work twice)

    def stored() -> None:  # once: after the plugin's reaction, or before a document of its refers to the row
        if row.id is None:
            RequestStore(session).insert_new(row)

    with unavailable_on_failure(rules.definition.key):
        number(session, registry, rules, row)
        try:
            if prepared.files:
                stored()  # the attachments refer to it
            react(session, registry, rules, row, caller, created=True, stored=stored)
            stored()
            assert row.id is not None
            check_anonymous_filing(session, registry.settings, caller, now())
            for checked in prepared.files:
                storage_name, digest = files.save(session, checked.data)
                session.add(Attachment(commune=row.commune, request_id=row.id, document=checked.document,
                                       filename=checked.filename, content_type=checked.content_type,
                                       size=len(checked.data), sha256=digest, storage_name=storage_name,
                                       uploaded_by=checked.uploaded_by, created_at=row.created_at))  # fmt: skip
            mailed = conclude(session, registry, rules, row, caller, created=True, envelope=prepared.envelope)
        except BaseException:
            if row in session:
                session.expunge(row)  # its INSERT is rolled back with the filing: the session holds no such row
            raise
        return Filed(request=row, receipt_mailed=mailed)


def number(session: Session, registry: Registry, rules: ServiceRules, row: ServiceRequest) -> None:
    """Give ``row`` its reference and the workflow's first state, as of now."""
    definition = rules.definition
    moment = now()
    sequence = RequestStore(session).next_sequence(prefix=definition.reference_prefix, year=moment.year)
    row.reference = registry.hooks.first(
        "guichet_reference_number", commune=rules.commune, service=definition, year=moment.year, sequence=sequence
    )
    row.status = definition.workflow.initial
    row.submitted_at = moment
    row.updated_at = moment
    row.purge_after = None


def finalise(
    session: Session,
    registry: Registry,
    rules: ServiceRules,
    row: ServiceRequest,
    caller: Caller,
    *,
    created: bool,
    envelope: Envelope | None = None,
) -> bool | None:
    """Turn a stored draft into a submitted request: number, first state, plugin reaction, history, receipt.

    Runs inside the caller's transaction; if the plugin raises, nothing of it is kept. Returns whether a
    receipt was queued (None: no address to send it to). A row already numbered keeps its number.
    ``envelope``: the receipt's address and Message-ID, made outside the transaction (:func:`prepare`).
    A new filing (:func:`store`) goes through :func:`react` and :func:`conclude` itself, its row inserted between.
    """
    if row.reference is None:
        number(session, registry, rules, row)
    session.flush()
    react(session, registry, rules, row, caller, created=created)
    return conclude(session, registry, rules, row, caller, created=created, envelope=envelope)


def react(
    session: Session,
    registry: Registry,
    rules: ServiceRules,
    row: ServiceRequest,
    caller: Caller,
    *,
    created: bool,
    stored: Callable[[], None] | None = None,
) -> None:
    """The submission recorded in the audit log and the plugin's reaction (``guichet_request_submitted``).

    A new filing's row is not inserted yet (its id is None): what the plugin
    sets is inserted with it, not updated after; ``stored`` inserts it first
    if the plugin issues or revokes a document.
    """
    definition = rules.definition
    audit(session, caller, row, definition, "request.create" if created else "request.submit")
    handle = plugin_handle(session, caller, row, definition, settings=registry.settings, commune=rules.commune,
                           stored=stored)  # fmt: skip
    registry.hooks.all("guichet_request_submitted", only=rules.provided.plugin, request=handle, **rules.hook_args)


def conclude(
    session: Session,
    registry: Registry,
    rules: ServiceRules,
    row: ServiceRequest,
    caller: Caller,
    *,
    created: bool,
    envelope: Envelope | None = None,
) -> bool | None:
    """After the plugin's reaction, the row stored: history line, linked request, receipt; whether it was mailed."""
    from gateway.requests.notices import RECEIPT, RECEIPT_ASSISTED, notify_citizen

    definition = rules.definition
    assert row.id is not None
    moment = row.submitted_at or now()
    staff_id = row.filed_by_staff_id if caller.actor.role != "citizen" else None
    add_at_commit(
        session,
        new_row(
            RequestEvent,
            commune=row.commune,
            request_id=row.id,
            at=moment,
            kind="filed-for" if row.filed_by_staff_id else "submitted",
            actor_role="agent" if staff_id else "citizen",
            staff_id=staff_id,
            to_status=row.status,
        ),
    )  # in a batch, inserted at its commit with the other members' history lines
    create_linked(session, registry, rules, row, caller)
    receipt = RECEIPT_ASSISTED if row.filed_by_staff_id else RECEIPT
    mailed = None
    if row.notify_email:
        mailed = may_mail_receipt(session, registry.settings, caller, row.notify_email, moment)
    if mailed:
        notify_citizen(session, registry.settings, rules.commune, definition, row, cause="receipt", message=receipt,
                       new_request=created, envelope=envelope)  # fmt: skip
    session.flush()
    return mailed
