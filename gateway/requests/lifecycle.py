"""The citizen's side of a request: draft, fill, attach, submit, follow, answer, withdraw.

Every method takes the :class:`~gateway.requests.caller.Caller` and reaches
only the caller's own requests: a request is looked up by its public id *and*
its owner, so another citizen's request is simply not found (404, nothing
said about whether it exists). Each action is one transaction holding the
change, its history line, its audit entry and its outbox message.

Blocking: pages and the API call these through :meth:`Database.run`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from gateway.communes import Commune
from gateway.db import Database
from gateway.models import Attachment, IssuedDocument, RequestEvent, ServiceRequest
from gateway.models.requests import new_public_id
from gateway.registry import Registry
from gateway.requests import attachments as files
from gateway.requests.caller import Caller
from gateway.requests.clock import days_from, now
from gateway.requests.draft_rows import draft_row, same_draft
from gateway.requests.errors import ActionForbidden, ActionNotAllowed, RequestNotFound, ServiceNotOffered, StaleRequest
from gateway.requests.family_drafts import (
    ANOTHER_MEMBER_INCOMPLETE,
    MemberErrors,
    check_room,
    copy_shared_documents,
    family_drafts,
    shared_answers,
)
from gateway.requests.filing import check_answers, finalise, missing_documents
from gateway.requests.finders import attachments_of, family_of, find_attachment, staff_names
from gateway.requests.forms import check_form, read_answer
from gateway.requests.issuing import WITHDRAWN_REASON, IssuedSummary, issued_of, revoke_all
from gateway.requests.linked import forward_decision
from gateway.requests.notices import WITHDRAWN, notify_citizen
from gateway.requests.rules import ServiceRules, plugin_call, rules_for
from gateway.requests.strangers import record_strangers_attempt
from gateway.requests.submission_keys import SubmissionKeyConflict
from gateway.requests.text import TEXT_MAX, checked_text
from gateway.requests.trail import audit, bump, history
from gateway.services import DRAFT, EXTRA_DOCUMENT_NAME, DocumentSpec, FieldError, FieldValue, FormValues, Localized
from gateway.services import WITHDRAWN as WITHDRAWN_STATE

MESSAGE = Localized("Message", "Message")
#: tries of one submission racing with copies of itself (a double click): each lost try means another one advanced
SUBMIT_ATTEMPTS = 5

#: a document an agent asked for that the service does not list
EXTRA_DOCUMENT = DocumentSpec(
    EXTRA_DOCUMENT_NAME, Localized("Document complémentaire", "Additional document"), required=False
)
NOT_A_DRAFT = Localized(
    "Cette demande a déjà été déposée : elle ne peut plus être modifiée comme un brouillon.",
    "This request has already been submitted: it can no longer be edited as a draft.",
)
ALREADY_DECIDED = Localized(
    "Cette demande a déjà reçu une réponse ou a été retirée : elle ne peut plus être retirée.",
    "This request has already been decided or withdrawn: it can no longer be withdrawn.",
)
DRAFT_NOT_WITHDRAWN = Localized(
    "Cette demande n'a pas encore été déposée : supprimez le brouillon si vous n'en voulez plus.",
    "This request has not been submitted yet: delete the draft if you no longer want it.",
)
NOT_AWAITED = Localized(
    "La mairie n'attend pas de complément pour cette demande.",
    "The town hall is not waiting for anything more on this request.",
)
UNKNOWN_DOCUMENT = Localized(
    "Ce type de document n'est pas demandé pour cette démarche.", "This document is not asked for by this service."
)
SIGN_IN_FIRST = Localized("Connectez-vous pour commencer cette démarche.", "Sign in to start this service.")


@dataclass(frozen=True)
class CitizenCase:
    """A request as its owner sees it: no internal notes, agents by role unless the commune shows names."""

    request: ServiceRequest
    rules: ServiceRules
    events: Sequence[RequestEvent]
    attachments: Sequence[Attachment]
    staff_names: Mapping[int, str] = field(default_factory=dict)
    issued: Sequence[IssuedSummary] = ()
    #: the other requests filed with it as one family (API 1.2), the owner's own only
    family: Sequence[ServiceRequest] = ()

    @property
    def decided(self) -> bool:
        return self.rules.definition.workflow.is_decided(self.request.status)


@dataclass(frozen=True)
class Submitted:
    """A submission's outcome; ``rules`` as resolved for it, so the page showing its errors resolves them once."""

    request: ServiceRequest
    errors: Sequence[FieldError] = ()
    rules: ServiceRules | None = None
    #: a family's drafts submitted together (API 1.2): the other members' errors, each with its member
    #: (``errors`` then says, if this draft has none of its own, that another member stopped them all)
    family_errors: Sequence[MemberErrors] = ()
    #: the requests submitted with this one, as one family, in the members' order (this one included)
    family: Sequence[ServiceRequest] = ()


class CitizenRequests:
    def __init__(self, db: Database, registry: Registry) -> None:
        self.db = db
        self.registry = registry

    # Finding one's own requests ---------------------------------------------

    def mine(self, caller: Caller) -> list[ServiceRequest]:
        """All the caller's requests, in every commune, newest first."""
        citizen_id = _citizen(caller)
        with self.db.read_session(all_communes=True) as session:
            rows = session.exec(
                select(ServiceRequest)
                .where(ServiceRequest.citizen_id == citizen_id)
                .order_by(col(ServiceRequest.created_at).desc(), col(ServiceRequest.id).desc())
            ).all()
        return list(rows)

    def case(self, caller: Caller, public_id: str, *, rules: ServiceRules | None = None) -> CitizenCase:
        """One of the caller's requests with its history; ``rules`` when this HTTP request resolved them already."""
        with self._mine(caller, public_id, "request.read", rules, read_only=True) as (session, row, rules):
            events = session.exec(
                select(RequestEvent)
                .where(RequestEvent.request_id == row.id, col(RequestEvent.internal).is_(False))
                .order_by(col(RequestEvent.at), col(RequestEvent.id))
            ).all()
            attached = attachments_of(session, row)
            names: dict[int, str] = {}
            if rules.commune.shows_agent_names:
                names = staff_names(session, {event.staff_id for event in events if event.staff_id})
            issued = issued_of(session, row)
            family = [other for other in family_of(session, row) if other.citizen_id == row.citizen_id]
        return CitizenCase(row, rules, events, attached, names, issued, family)

    # Drafts ---------------------------------------------------------------------

    def start_draft(
        self, caller: Caller, commune_slug: str, key: str, *, submission_key: str, rules: ServiceRules | None = None
    ) -> ServiceRequest:
        """A new draft, prefilled from the citizen's identity; the same ``submission_key`` gives the same draft.

        ``rules`` when the HTTP request resolved them already (the service page), so the plugin is asked once.
        """
        citizen_id = _citizen(caller)
        commune = self.registry.commune(commune_slug)
        if commune is None or not commune.enables(key):
            raise ServiceNotOffered(commune.name if commune else commune_slug, key)
        if rules is None or rules.commune.slug != commune.slug or rules.key != key:
            rules = rules_for(self.registry, commune, key)
        values: dict[str, FieldValue] = {}
        if caller.identity is not None:
            with plugin_call(key):
                prefill = self.registry.hooks.first(
                    "guichet_prefill_form", only=rules.provided.plugin, citizen=caller.identity, **rules.hook_args
                )
            fields = {form_field.name: form_field for form_field in rules.form if form_field.kind != "document"}
            # each prefilled answer read in its field's type (a wrong one left empty), whatever the other answers
            values = {
                name: read_answer(fields[name], value)[0] for name, value in (prefill or {}).items() if name in fields
            }
        try:
            return self._new_draft(caller, commune, rules, values, citizen_id, submission_key)
        except IntegrityError:
            # the same click raced with itself: the other copy created the draft, answer with it
            with self.db.session(commune=commune.slug) as session:
                existing = same_draft(session, citizen_id, key, submission_key)
            if existing is None:
                raise
            return existing

    def _new_draft(
        self,
        caller: Caller,
        commune: Commune,
        rules: ServiceRules,
        values: dict[str, FieldValue],
        citizen_id: int,
        submission_key: str,
    ) -> ServiceRequest:
        key = rules.definition.key
        with self.db.session(commune=commune.slug) as session:
            existing = same_draft(session, citizen_id, key, submission_key)
            if existing is not None:
                return existing
            row = draft_row(self.registry.settings.secret_key, caller, rules, values, citizen_id, submission_key)
            session.add(row)
            session.flush()
            history(session, row, "created", caller, to_status=DRAFT, internal=True)
            audit(session, caller, row, rules.definition, "request.create")
        return row

    def add_member(self, caller: Caller, public_id: str, *, submission_key: str) -> ServiceRequest:
        """Another member's draft in this draft's family (API 1.2): shared answers and shared documents copied.

        The same ``submission_key`` gives the same draft (a double click adds one member).
        """
        try:
            return self._add_member(caller, public_id, submission_key)
        except (StaleRequest, IntegrityError):
            # the same click raced with itself: the other copy added the member, answer with it
            commune = self._locate(caller, public_id, "request.create")
            with self.db.session(commune=commune) as session:
                existing = same_draft(session, _citizen(caller), self._own(session, caller, public_id).service,
                                       submission_key)  # fmt: skip
            if existing is None:
                raise
            return existing

    def _add_member(self, caller: Caller, public_id: str, submission_key: str) -> ServiceRequest:
        citizen_id = _citizen(caller)
        with self._mine(caller, public_id, "request.create") as (session, row, rules):
            if not row.is_draft:
                raise ActionNotAllowed(NOT_A_DRAFT)
            existing = same_draft(session, citizen_id, row.service, submission_key)
            if existing is not None:
                if existing.family_id is None or existing.family_id != row.family_id:
                    raise SubmissionKeyConflict  # the key started another draft: not this family's member
                return existing
            check_room(rules, len(family_drafts(session, row)))
            bump(session, row)  # two members added at once: the second waits, then counts the first
            if row.family_id is None:
                row.family_id = new_public_id()
                audit(session, caller, row, rules.definition, "request.update")  # now a family's first member
            shared, secret = shared_answers(rules, row.data), self.registry.settings.secret_key
            added = draft_row(secret, caller, rules, shared, citizen_id, submission_key)
            added.family_id = row.family_id
            session.add(added)
            session.flush()
            history(session, added, "created", caller, to_status=DRAFT, internal=True)
            audit(session, caller, added, rules.definition, "request.create")
            copy_shared_documents(session, rules, row, added)
        return added

    def save_draft(
        self, caller: Caller, public_id: str, raw: Mapping[str, object]
    ) -> tuple[ServiceRequest, list[FieldError]]:
        """Keep what the citizen typed, even with mistakes; the errors are returned to show them.

        A family's shared answers are saved on every draft of the family (API 1.2).
        """
        with self._mine(caller, public_id, "request.update") as (session, row, rules):
            if not row.is_draft:
                raise ActionNotAllowed(NOT_A_DRAFT)
            data, errors = check_form(rules.form, raw)
            self._keep(session, caller, row, rules, data)
            self._share(session, caller, row, rules)
        return row, errors

    def _share(self, session: Session, caller: Caller, row: ServiceRequest, rules: ServiceRules) -> None:
        """Copy ``row``'s shared answers onto the other drafts of its family, where they differ."""
        if row.family_id is None:
            return
        shared = shared_answers(rules, row.data)
        for other in family_drafts(session, row):
            if other.id != row.id and any(other.data.get(name) != value for name, value in shared.items()):
                self._keep(session, caller, other, rules, {**other.data, **shared})

    def submit(self, caller: Caller, public_id: str, raw: Mapping[str, object] | None = None) -> Submitted:
        """Check everything (form, eligibility, documents) and submit; on errors the draft is kept as typed.

        Submitting twice (double click, retried call) answers with the same request.
        """
        commune = self._locate(caller, public_id, "request.submit")
        for _attempt in range(SUBMIT_ATTEMPTS - 1):
            try:
                return self._submit_once(caller, public_id, commune, raw)
            except StaleRequest:
                continue  # another copy of this submission changed the draft meanwhile: read it again
        return self._submit_once(caller, public_id, commune, raw)

    def _submit_once(self, caller: Caller, public_id: str, commune: str, raw: Mapping[str, object] | None) -> Submitted:
        """The checks and the submission in one transaction: nothing changes between what was checked and filed."""
        with self.db.session(commune=commune) as session:
            row = self._own(session, caller, public_id)
            if not row.is_draft:
                return Submitted(row)
            rules = self._rules(row)
            errors = self._checked(session, caller, row, rules, raw)
            members = family_drafts(session, row) if row.family_id is not None else [row]
            if len(members) > 1:
                return self._submit_family(session, caller, row, rules, members, errors)
            if errors:
                return Submitted(row, tuple(errors), rules)
            self._finalise(session, caller, row, rules, alone=True)
        return Submitted(row, rules=rules)

    def _checked(
        self,
        session: Session,
        caller: Caller,
        row: ServiceRequest,
        rules: ServiceRules,
        raw: Mapping[str, object] | None,
    ) -> list[FieldError]:
        """A draft's form, the service's rules and its documents checked; answers sent with it are kept."""
        data, errors = check_answers(self.registry, rules, raw if raw is not None else row.data, caller.identity)
        if raw is not None and data != row.data:
            self._keep(session, caller, row, rules, data)
            self._share(session, caller, row, rules)
        have = {attachment.document for attachment in attachments_of(session, row)}
        errors.extend(missing_documents(rules.definition, data, have))
        return errors

    def _submit_family(
        self,
        session: Session,
        caller: Caller,
        row: ServiceRequest,
        rules: ServiceRules,
        members: Sequence[ServiceRequest],
        errors: list[FieldError],
    ) -> Submitted:
        """Every draft of the family checked, then all submitted in this transaction, or none (API 1.2)."""
        stopped = [
            MemberErrors(member, index, tuple(found))
            for index, member in enumerate(members, 1)
            if member.id != row.id and (found := self._checked(session, caller, member, rules, None))
        ]
        if errors or stopped:
            own = tuple(errors) or (FieldError("", ANOTHER_MEMBER_INCOMPLETE),)
            return Submitted(row, own, rules, family_errors=tuple(stopped))
        for member in members:
            self._finalise(session, caller, member, rules)
        return Submitted(row, rules=rules, family=tuple(members))

    def _finalise(
        self, session: Session, caller: Caller, row: ServiceRequest, rules: ServiceRules, *, alone: bool = False
    ) -> None:
        bump(session, row)
        if alone:
            row.family_id = None  # the family's other drafts were removed: one member alone is an ordinary request
        if caller.identity is not None and caller.identity.email:
            row.notify_email = caller.identity.email
        with plugin_call(row.service):
            finalise(session, self.registry, rules, row, caller, created=False)

    def discard_draft(self, caller: Caller, public_id: str) -> None:
        with self._mine(caller, public_id, "request.delete") as (session, row, rules):
            if not row.is_draft:
                raise ActionNotAllowed(NOT_A_DRAFT)
            delete_request(session, row)
            audit(session, caller, row, rules.definition, "request.delete")

    # After submission -------------------------------------------------------------

    def withdraw(self, caller: Caller, public_id: str) -> ServiceRequest:
        with self._mine(caller, public_id, "request.withdraw") as (session, row, rules):
            workflow = rules.definition.workflow
            if row.is_draft or workflow.is_decided(row.status):
                raise ActionNotAllowed(ALREADY_DECIDED if not row.is_draft else DRAFT_NOT_WITHDRAWN)
            bump(session, row)
            previous, moment = row.status, now()
            row.status, row.decided_at, row.awaiting_citizen = WITHDRAWN_STATE, moment, False
            row.purge_after = days_from(moment, rules.commune.retention_days(rules.definition))
            history(session, row, "withdrawn", caller, from_status=previous, to_status=WITHDRAWN_STATE)
            audit(session, caller, row, rules.definition, "request.withdraw")
            definition = rules.definition
            revoke_all(
                session, row, WITHDRAWN_REASON,
                lambda action, target: audit(session, caller, row, definition, action, target=target),
            )  # fmt: skip
            forward_decision(session, self.registry, row, rules, None)
            notify_citizen(
                session,
                self.registry.settings,
                rules.commune,
                rules.definition,
                row,
                cause="withdrawn",
                message=WITHDRAWN,
            )
        return row

    def message(self, caller: Caller, public_id: str, body: object) -> ServiceRequest:
        """A message to the town hall; it answers a request for a complement when one is awaited."""
        text = checked_text(body, required=True, label=MESSAGE)
        with self._mine(caller, public_id, "request.update") as (session, row, rules):
            if row.is_draft or row.status == WITHDRAWN_STATE:
                raise ActionNotAllowed(NOT_AWAITED)
            bump(session, row)
            kind = "answer" if row.awaiting_citizen else "message"
            row.awaiting_citizen = False
            history(session, row, kind, caller, body=text)
            audit(session, caller, row, rules.definition, "request.update")
        return row

    def correct(
        self, caller: Caller, public_id: str, raw: Mapping[str, object]
    ) -> tuple[ServiceRequest, list[FieldError]]:
        """Change the form while the town hall waits for a correction; checked as at submission."""
        with self._mine(caller, public_id, "request.update") as (session, row, rules):
            if not row.awaiting_citizen:
                raise ActionNotAllowed(NOT_AWAITED)
            data, errors = check_answers(self.registry, rules, raw, caller.identity)
            if errors:
                return row, errors
            changed = [f.label.fr for f in rules.form if data.get(f.name, "") != row.data.get(f.name, "")]
            bump(session, row)
            # the values the plugin derived at submission stay (API 1.2): a correction changes only the answers
            derived = {name: row.data[name] for name in rules.definition.derived if name in row.data}
            row.data, row.awaiting_citizen = {**data, **derived}, False
            body = "Champs corrigés : " + ", ".join(changed) if changed else "Aucun champ modifié."
            history(session, row, "correction", caller, body=body[:TEXT_MAX])
            audit(session, caller, row, rules.definition, "request.update")
        return row, []

    # Attachments ------------------------------------------------------------------

    def attach(self, caller: Caller, public_id: str, document: str, filename: str, data: bytes) -> Attachment:
        """Check (size, type from content, antivirus), store under a generated name, then record it.

        Allowed on a draft, and on a submitted request while the town hall
        waits for a complement. A refused file leaves nothing behind.
        """
        commune_slug = self._locate(caller, public_id, "request.update")
        with self.db.session(commune=commune_slug) as session:
            row = self._own(session, caller, public_id)
            rules = self._rules(row)
            if not (row.is_draft or row.awaiting_citizen):
                raise ActionNotAllowed(NOT_AWAITED)
        spec = _document_spec(rules, document, row.data, allow_extra=not row.is_draft)
        content_type = files.check_upload(spec, filename, data)
        shown = files.shown_filename(filename, content_type)
        files.scan(self.registry.hooks, rules.commune, shown, content_type, data)
        with self.db.session(commune=commune_slug) as session:
            row = self._own(session, caller, public_id)
            if not (row.is_draft or row.awaiting_citizen):
                raise ActionNotAllowed(NOT_AWAITED)
            bump(session, row)
            storage_name, digest = files.save(session, data)  # in this transaction: a failure keeps no bytes
            attachment = Attachment(
                commune=row.commune,
                request_id=_id(row),
                document=spec.name,
                filename=shown,
                content_type=content_type,
                size=len(data),
                sha256=digest,
                storage_name=storage_name,
                uploaded_by="citizen",
                created_at=now(),
            )
            session.add(attachment)
            if not row.is_draft:
                history(session, row, "document", caller, body=shown)
            audit(session, caller, row, rules.definition, "request.update")
        return attachment

    def detach(self, caller: Caller, public_id: str, attachment_id: str) -> None:
        """Remove a document from a draft (a submitted request keeps what was sent)."""
        with self._mine(caller, public_id, "request.update") as (session, row, rules):
            if not row.is_draft:
                raise ActionNotAllowed(NOT_A_DRAFT)
            attachment = find_attachment(session, row, attachment_id)
            session.delete(attachment)
            bump(session, row)
            files.delete(session, [attachment.storage_name])
            audit(session, caller, row, rules.definition, "request.update")

    def download(self, caller: Caller, public_id: str, attachment_id: str) -> tuple[Attachment, bytes]:
        with self._mine(caller, public_id, "request.read", read_only=True) as (session, row, _rules):
            attachment = find_attachment(session, row, attachment_id)
            return attachment, files.read(session, attachment.storage_name, sha256=attachment.sha256)

    # Internals --------------------------------------------------------------------

    @contextmanager
    def _mine(
        self,
        caller: Caller,
        public_id: str,
        attempted: str,
        rules: ServiceRules | None = None,
        *,
        read_only: bool = False,
    ) -> Iterator[tuple[Session, ServiceRequest, ServiceRules]]:
        """One transaction on one of the caller's requests, in its commune's session (``attempted``: the action).

        ``read_only``: a read session (:meth:`Database.read_session`), which does not wait for writers.
        """
        commune = self._locate(caller, public_id, attempted)
        opened = self.db.read_session(commune=commune) if read_only else self.db.session(commune=commune)
        with opened as session:
            row = self._own(session, caller, public_id)
            same = rules is not None and rules.commune.slug == row.commune and rules.key == row.service
            yield session, row, rules if rules is not None and same else self._rules(row)

    def _locate(self, caller: Caller, public_id: str, attempted: str) -> str:
        """The commune of one of the caller's requests (404 for anyone else's, the attempt recorded)."""
        citizen_id = _citizen(caller)
        with self.db.read_session(all_communes=True) as session:
            commune = session.exec(
                select(ServiceRequest.commune).where(
                    ServiceRequest.public_id == public_id, ServiceRequest.citizen_id == citizen_id
                )
            ).first()
        if commune is None:
            record_strangers_attempt(self.db, caller, public_id, attempted)
            raise RequestNotFound
        if self.registry.commune(commune) is None:
            raise RequestNotFound
        return commune

    def _own(self, session: Session, caller: Caller, public_id: str) -> ServiceRequest:
        row = session.exec(
            select(ServiceRequest).where(
                ServiceRequest.public_id == public_id, ServiceRequest.citizen_id == caller.citizen_id
            )
        ).first()
        if row is None:
            raise RequestNotFound
        return row

    def _rules(self, row: ServiceRequest) -> ServiceRules:
        commune = self.registry.commune(row.commune)
        if commune is None:
            raise RequestNotFound
        return rules_for(self.registry, commune, row.service)

    def _keep(
        self, session: Session, caller: Caller, row: ServiceRequest, rules: ServiceRules, data: FormValues
    ) -> None:
        bump(session, row)
        row.data = dict(data)
        row.purge_after = days_from(now(), rules.commune.draft_days_for(rules.definition))
        audit(session, caller, row, rules.definition, "request.update")


def _id(row: ServiceRequest) -> int:
    assert row.id is not None
    return row.id


def _citizen(caller: Caller) -> int:
    if caller.citizen_id is None:
        raise ActionForbidden(SIGN_IN_FIRST)
    return caller.citizen_id


def _document_spec(rules: ServiceRules, name: str, values: FormValues, *, allow_extra: bool) -> DocumentSpec:
    for spec in rules.definition.documents:
        if spec.name == name and spec.applies(values):
            return spec
    if allow_extra and name == EXTRA_DOCUMENT.name:
        return EXTRA_DOCUMENT
    raise ActionNotAllowed(UNKNOWN_DOCUMENT)


def delete_request(session: Session, row: ServiceRequest) -> list[str]:
    """Delete a request with its history, attachments and their bytes, in ``session``'s transaction.

    Returns the storage names of the attachments deleted (for a count).
    """
    names = list(session.exec(select(Attachment.storage_name).where(Attachment.request_id == row.id)).all())
    session.execute(delete(IssuedDocument).where(col(IssuedDocument.request_id) == row.id))
    # two set-based DELETEs (the session's commune filter applies to them too), not one per row
    session.execute(delete(Attachment).where(col(Attachment.request_id) == row.id))
    session.execute(delete(RequestEvent).where(col(RequestEvent.request_id) == row.id))
    files.delete(session, names)
    session.delete(row)
    session.flush()
    return names
