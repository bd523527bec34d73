"""The back office's changes: workflow transitions (one or in bulk), assignment, notes, messages,
asking the citizen for a complement, and filing at the counter for a citizen.

Each change is one transaction: the request's new state, its history line,
its audit entry, the plugin's reaction and the citizen's message — or nothing.

Blocking: pages and the API call these through :meth:`Database.run`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from sqlmodel import Session

from gateway.models import ServiceRequest
from gateway.requests import attachments as files
from gateway.requests.backoffice.access import READ_ONLY, SUPERVISOR_ONLY, Desk, OpenCase, recording_denials, staff_of
from gateway.requests.backoffice.choices import CHOICE_REQUIRED, transition_choices
from gateway.requests.caller import Caller, OnBehalf
from gateway.requests.clock import days_from, now
from gateway.requests.errors import ActionNotAllowed, InvalidInput, RequestError
from gateway.requests.filing import CheckedFile, Filed, Submission, file_request
from gateway.requests.linked import forward_decision
from gateway.requests.notices import CORRECTION_ASKED, NEW_MESSAGE, notify_citizen
from gateway.requests.rules import ServiceRules, plugin_call
from gateway.requests.text import answers_of, checked_text
from gateway.requests.trail import audit, bump, check_version, history, plugin_handle
from gateway.services import Localized, Transition

COMMENT = Localized("Commentaire", "Comment")
NOTE = Localized("Note interne", "Internal note")
REASON_REQUIRED = Localized("Choisissez un motif dans la liste.", "Choose a reason from the list.")
NOT_AN_ASSIGNEE = Localized(
    "Cette personne ne traite pas les demandes de ce service dans cette commune.",
    "This person does not process this service's requests in this commune.",
)
UNKNOWN_DOCUMENT = Localized(
    "Ce document n'est pas demandé par cette démarche.", "This document is not asked for by this service."
)
DECIDED = Localized(
    "Cette demande a déjà reçu une réponse : elle ne peut plus changer.",
    "This request has already been decided: it can no longer change.",
)


def unknown_transition(name: str) -> Localized:
    return Localized(f"L'action « {name} » n'existe pas pour ce service.", f"This service has no action '{name}'.")


def wrong_state(transition: Transition, state_label: Localized) -> Localized:
    return Localized(
        f"L'action « {transition.label.fr} » n'est pas possible : la demande est « {state_label.fr} ».",
        f"The action '{transition.label('en')}' is not possible: the request is '{state_label('en')}'.",
    )


@dataclass(frozen=True)
class BulkOutcome:
    reference: str
    done: bool
    reason: Localized | None = None


class BackOfficeCommands(Desk):
    """What an agent changes; each change checks the grant at the level it needs."""

    @recording_denials("request.transition")
    def transition(
        self,
        caller: Caller,
        commune_slug: str,
        reference: str,
        name: str,
        *,
        expected_version: int | None,
        comment: object = "",
        reason: object = "",
        choice: object = "",
    ) -> ServiceRequest:
        """Take one workflow transition: state, history, plugin reaction, message, audit — or nothing.

        ``choice`` is the option the agent chose on a transition asking one
        (``Transition.choice``): it must be one the plugin offers for this request.
        """
        commune = self._commune(commune_slug)
        with self.db.session(commune=commune.slug) as session:
            # reader level here: the transition says which level it needs (a reader may take a reader's step)
            row, rules, acting = self._load(session, caller, commune, reference, level="reader")
            workflow = rules.definition.workflow
            transition = workflow.transition(name)
            if transition is None:
                raise ActionNotAllowed(unknown_transition(name))
            if not staff_of(caller).can("agent", commune=commune.slug, service=row.service, level=transition.level):
                denial = SUPERVISOR_ONLY if transition.level == "supervisor" else READ_ONLY
                self._deny(caller, commune.slug, row.service, reason=denial, row=row)
            check_version(row, expected_version)
            if row.status not in transition.source or not transition.applies(answers_of(row.data)):
                raise ActionNotAllowed(wrong_state(transition, workflow.state(row.status).label))
            text = checked_text(comment, required=transition.comment_required, label=COMMENT)
            chosen = reason if isinstance(reason, str) else ""
            if transition.reasons and chosen not in {choice.value for choice in transition.reasons}:
                raise InvalidInput(REASON_REQUIRED)
            picked = choice if isinstance(choice, str) else ""
            if transition.choice is not None:
                offered = transition_choices(self.registry, rules, answers_of(row.data), transition)
                if picked not in {option.value for option in offered}:
                    raise InvalidInput(CHOICE_REQUIRED)
            else:
                picked = ""
            bump(session, row, expected_version)
            previous = row.status
            row.status = transition.target
            if workflow.state(transition.target).final:
                moment = now()
                row.decided_at, row.awaiting_citizen = moment, False
                row.purge_after = days_from(moment, commune.retention_days(rules.definition))
            history(session, row, "transition", acting, body=text or None, from_status=previous,
                    to_status=row.status, transition=transition.name, reason=chosen or picked or None)  # fmt: skip
            audit(session, acting, row, rules.definition, "request.transition")
            if transition.assigns:
                self._take_in_hand(session, caller, acting, row)
            handle = plugin_handle(session, acting, row, rules.definition, settings=self.registry.settings,
                                   commune=commune)  # fmt: skip
            with plugin_call(row.service):
                self.registry.hooks.all("guichet_request_transition", only=rules.provided.plugin, request=handle,
                                        transition=transition, choice=picked or None, **rules.hook_args)  # fmt: skip
            if workflow.state(transition.target).final or transition.shares_decision:
                forward_decision(session, self.registry, row, rules, chosen or None)
            if transition.notify is not None:
                notify_citizen(session, self.registry.settings, commune, rules.definition, row,
                               cause=f"transition:{transition.name}:{row.version}", message=transition.notify,
                               comment=text or None)  # fmt: skip
        return row

    def _take_in_hand(self, session: Session, caller: Caller, acting: Caller, row: ServiceRequest) -> None:
        """Assign the request to the agent taking it in hand, if they are one it may be assigned to (not an auditor)."""
        staff_id = staff_of(caller).user_id
        name = dict(self._assignees(session, row.commune, row.service)).get(staff_id)
        if name is None or row.assigned_to == staff_id:
            return
        row.assigned_to = staff_id
        history(session, row, "assignment", acting, body=f"Attribuée à {name}", internal=True)

    def bulk_transition(
        self,
        caller: Caller,
        commune_slug: str,
        references: Sequence[str],
        name: str,
        *,
        comment: object = "",
        reason: object = "",
    ) -> list[BulkOutcome]:
        """The same transition on several requests, each in its own transaction: one refusal stops only itself."""
        outcomes = []
        for reference in dict.fromkeys(references):
            try:
                self.transition(
                    caller, commune_slug, reference, name, expected_version=None, comment=comment, reason=reason
                )
            except RequestError as error:
                outcomes.append(BulkOutcome(reference, False, error.reason))
            else:
                outcomes.append(BulkOutcome(reference, True))
        return outcomes

    @recording_denials("request.update")
    def assign(
        self, caller: Caller, commune_slug: str, reference: str, staff_id: int | None, *, expected_version: int | None
    ) -> ServiceRequest:
        with self._open(caller, commune_slug, reference, level="instructor") as file:
            check_version(file.row, expected_version)
            assignees = dict(self._assignees(file.session, file.commune.slug, file.row.service))
            if staff_id is not None and staff_id not in assignees:
                raise InvalidInput(NOT_AN_ASSIGNEE)
            bump(file.session, file.row, expected_version)
            file.row.assigned_to = staff_id
            body = f"Attribuée à {assignees[staff_id]}" if staff_id is not None else "Attribution retirée"
            file.record("assignment", body=body, internal=True)
        return file.row

    @recording_denials("request.update")
    def note(self, caller: Caller, commune_slug: str, reference: str, body: object) -> ServiceRequest:
        """An internal note: agents only, never shown to the citizen."""
        text = checked_text(body, required=True, label=NOTE)
        with self._open(caller, commune_slug, reference, level="instructor") as file:
            bump(file.session, file.row)
            file.record("note", body=text, internal=True)
        return file.row

    @recording_denials("request.update")
    def message(self, caller: Caller, commune_slug: str, reference: str, body: object) -> ServiceRequest:
        """A message the citizen reads on their request's page; they are told by mail there is one."""
        text = checked_text(body, required=True, label=COMMENT)
        with self._open(caller, commune_slug, reference, level="instructor") as file:
            bump(file.session, file.row)
            file.record("message", body=text)
            self._notify(file, "message", NEW_MESSAGE)
        return file.row

    @recording_denials("request.update")
    def ask_citizen(
        self, caller: Caller, commune_slug: str, reference: str, body: object, *, expected_version: int | None
    ) -> ServiceRequest:
        """Ask for a correction or a document: the request waits for the citizen's answer."""
        text = checked_text(body, required=True, label=COMMENT)
        with self._open(caller, commune_slug, reference, level="instructor") as file:
            check_version(file.row, expected_version)
            if file.rules.definition.workflow.is_decided(file.row.status):
                raise ActionNotAllowed(DECIDED)
            bump(file.session, file.row, expected_version)
            file.row.awaiting_citizen = True
            file.record("correction-asked", body=text)
            self._notify(file, "correction", CORRECTION_ASKED, text)
        return file.row

    @recording_denials("request.create")
    def file_for_citizen(
        self,
        caller: Caller,
        rules: ServiceRules,
        raw: Mapping[str, object],
        *,
        submission_key: str,
        citizen_email: str | None,
        documents: Mapping[str, tuple[str, bytes]] | None = None,
    ) -> Filed:
        """File at the counter for a citizen who cannot do it alone: recorded as such, receipt to the citizen.

        The filing pipeline's, with the agent as actor on the citizen's behalf.
        ``documents`` maps a document's name to the (file name, bytes) the agent
        scanned at the counter; each is checked like a citizen's upload before
        anything is written, and stored in the filing's transaction (no request, no bytes).
        """
        commune, key = rules.commune, rules.key
        principal = staff_of(caller)
        if not principal.can("agent", commune=commune.slug, service=key, level="instructor"):
            self._deny(caller, commune.slug, key, resource=f"counter/{commune.slug}/{key}")
        email = (citizen_email or "").strip() or None
        acting = replace(caller, actor=principal.actor("agent"), on_behalf_of=OnBehalf(email))
        checked = self._check_counter_documents(rules, documents or {})
        return file_request(self.db, self.registry, rules, acting, Submission(raw, submission_key, checked))

    def _check_counter_documents(
        self, rules: ServiceRules, documents: Mapping[str, tuple[str, bytes]]
    ) -> list[CheckedFile]:
        """Check every document (size, type from content, antivirus); the filing stores them."""
        specs = {spec.name: spec for spec in rules.definition.documents}
        checked = []
        for name, (filename, data) in documents.items():
            if name not in specs:
                raise ActionNotAllowed(UNKNOWN_DOCUMENT)
            content_type = files.check_upload(specs[name], filename, data)
            shown = files.shown_filename(filename, content_type)
            files.scan(self.registry.hooks, rules.commune, shown, content_type, data)
            checked.append(CheckedFile(name, shown, content_type, data, "agent"))
        return checked

    def _notify(self, file: OpenCase, cause: str, message: Localized, comment: str | None = None) -> None:
        notify_citizen(file.session, self.registry.settings, file.commune, file.rules.definition, file.row,
                       cause=f"{cause}:{file.row.version}", message=message, comment=comment)  # fmt: skip
