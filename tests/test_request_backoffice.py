"""The agents' side of requests through the service layer: queue, case, transitions, assignment, export, counter."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import update

import gateway.audit.log
from gateway.audit.events import pseudonym
from gateway.audit.log import AuditUnavailable
from gateway.models import ServiceRequest
from gateway.requests.attachments import UploadRefused
from gateway.requests.backoffice.queries import QueueFilter
from gateway.requests.caller import Caller
from gateway.requests.clock import aware, now
from gateway.requests.errors import (
    ActionForbidden,
    ActionNotAllowed,
    InvalidInput,
    RequestNotFound,
    ServiceUnavailable,
    StaleRequest,
)
from gateway.testing import ConfigFolder
from tests.lifecycle_desk import PDF, Desk, days_after, enable
from tests.plugins.lifecycle_service import CRASHING_PLATE, NO_STOCK, REFUSED_PLATE


@pytest.fixture
def desk(guichet_config: ConfigFolder, guichet_database_url: str) -> Iterator[Desk]:
    enable(guichet_config, decided_requests_days=90)
    opened = Desk(guichet_config, guichet_database_url)
    yield opened
    opened.close()


@pytest.fixture
def agent(desk: Desk) -> Caller:
    return desk.staff("instructeur", "agent:venissieux:vignette")


def filed(desk: Desk, commune: str = "venissieux", **values: str) -> ServiceRequest:
    """A submitted sticker request by a new citizen."""
    return desk.submitted(desk.citizen(), commune, **values)


def ref(row: ServiceRequest) -> str:
    assert row.reference is not None
    return row.reference


def snapshot(desk: Desk, row: ServiceRequest) -> tuple[object, ...]:
    """Everything a refused action must leave as it was."""
    stored = desk.reload(row)
    return (
        stored.status,
        stored.version,
        stored.decided_at,
        stored.awaiting_citizen,
        len(desk.events(row)),
        len(desk.audit()),
        len(desk.outbox()),
    )


def queue(desk: Desk, caller: Caller, **wanted: object) -> list[str]:
    page = desk.queries.queue(caller, "venissieux", QueueFilter(**wanted))  # type: ignore[arg-type]
    return [ref(row) for row in page.rows]


def submitted_days_ago(desk: Desk, row: ServiceRequest, days: int) -> None:
    with desk.db.session(commune=row.commune) as session:
        session.execute(
            update(ServiceRequest)
            .where(ServiceRequest.id == row.id)  # type: ignore[arg-type]
            .values(submitted_at=now() - timedelta(days=days))
        )


# The queue ---------------------------------------------------------------------------------


def test_queue_holds_only_the_granted_services(desk: Desk) -> None:
    filed(desk)
    other = desk.staff("permanencier", "agent:venissieux:permanence")
    assert queue(desk, other) == []


def test_queue_holds_only_the_communes_requests(desk: Desk) -> None:
    filed(desk, "venissieux")
    theirs = filed(desk, "corbas")
    corbas = desk.staff("corbas", "agent:corbas")
    page = desk.queries.queue(corbas, "corbas", QueueFilter())
    assert [ref(row) for row in page.rows] == [ref(theirs)]


def test_queue_of_an_ungranted_service_is_forbidden_and_audited(desk: Desk, agent: Caller) -> None:
    with pytest.raises(ActionForbidden):
        queue(desk, agent, service="permanence")
    assert [entry.service for entry in desk.audit("access.denied")] == ["permanence"]


def test_queue_of_another_commune_is_forbidden(desk: Desk, agent: Caller) -> None:
    with pytest.raises(ActionForbidden):
        desk.queries.queue(agent, "corbas", QueueFilter())


def test_queue_hides_drafts(desk: Desk, agent: Caller) -> None:
    desk.draft(desk.citizen())
    assert queue(desk, agent) == []


def test_queue_filters_open_and_decided_requests(desk: Desk, agent: Caller) -> None:
    still_open, decided = filed(desk), filed(desk)
    desk.commands.transition(agent, "venissieux", ref(decided), "refuse", expected_version=None,
                           reason="incomplete", comment="Il manque le bail.")  # fmt: skip
    assert queue(desk, agent, status="open") == [ref(still_open)]
    assert queue(desk, agent, status="decided") == [ref(decided)]


def test_queue_filters_one_state(desk: Desk, agent: Caller) -> None:
    filed(desk)
    triaged = filed(desk)
    desk.commands.transition(agent, "venissieux", ref(triaged), "triage", expected_version=None)
    assert queue(desk, agent, status="review") == [ref(triaged)]


def test_queue_filters_assignment(desk: Desk, agent: Caller) -> None:
    mine, nobodys = filed(desk), filed(desk)
    desk.commands.assign(agent, "venissieux", ref(mine), agent.staff_id, expected_version=None)
    assert queue(desk, agent, assigned="me") == [ref(mine)]
    assert queue(desk, agent, assigned="none") == [ref(nobodys)]


def test_queue_filters_requests_awaiting_the_citizen(desk: Desk, agent: Caller) -> None:
    asked, _other = filed(desk), filed(desk)
    desk.commands.ask_citizen(agent, "venissieux", ref(asked), "Votre bail ?", expected_version=None)
    assert queue(desk, agent, awaiting=True) == [ref(asked)]


def test_queue_searches_references_and_summaries(desk: Desk, agent: Caller) -> None:
    wanted, _other = filed(desk, plate="QQ-111-QQ"), filed(desk)
    assert queue(desk, agent, q="qq-111") == [ref(wanted)]
    assert queue(desk, agent, q=ref(wanted)) == [ref(wanted)]


def test_queue_search_takes_percent_and_underscore_literally(desk: Desk, agent: Caller) -> None:
    filed(desk), filed(desk)
    assert queue(desk, agent, q="%") == []
    assert queue(desk, agent, q="_") == []


def test_queue_filters_old_requests(desk: Desk, agent: Caller) -> None:
    old, _recent = filed(desk), filed(desk)
    submitted_days_ago(desk, old, 20)
    assert queue(desk, agent, older_than_days=10) == [ref(old)]


def test_queue_pages_count_every_match(desk: Desk, agent: Caller) -> None:
    rows = [filed(desk) for _ in range(5)]
    page = desk.queries.queue(agent, "venissieux", QueueFilter(page=2, per_page=2))
    assert (page.total, [ref(row) for row in page.rows]) == (5, [ref(rows[2]), ref(rows[3])])


# A request's file ---------------------------------------------------------------------------


def test_opening_a_case_records_a_read_with_the_purpose_and_the_subject(desk: Desk, agent: Caller) -> None:
    row = filed(desk)
    desk.queries.case(agent, "venissieux", ref(row))
    [read] = desk.audit("request.read")
    assert (read.actor_id, read.resource, read.subject) == (agent.actor.id, f"request/{ref(row)}", row.subject)
    assert read.purpose == "Délivrer la vignette de stationnement résident."


def test_a_case_whose_read_cannot_be_recorded_is_not_shown(
    desk: Desk, agent: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = filed(desk)

    def broken(*_: object, **__: object) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(gateway.audit.log, "append", broken)
    with pytest.raises(AuditUnavailable):
        desk.queries.case(agent, "venissieux", ref(row))
    monkeypatch.undo()
    assert desk.audit("request.read") == []


def test_case_of_another_commune_is_not_found(desk: Desk) -> None:
    row = filed(desk, "venissieux")
    corbas = desk.staff("corbas", "agent:corbas")
    with pytest.raises(RequestNotFound):
        desk.queries.case(corbas, "corbas", ref(row))


def test_case_of_an_ungranted_service_is_forbidden_and_audited(desk: Desk) -> None:
    row = filed(desk)
    other = desk.staff("permanencier", "agent:venissieux:permanence")
    with pytest.raises(ActionForbidden):
        desk.queries.case(other, "venissieux", ref(row))
    assert [entry.actor_id for entry in desk.audit("access.denied")] == [other.actor.id]


def test_case_offers_only_the_transitions_that_apply(desk: Desk, agent: Caller) -> None:
    row = filed(desk, delivery="counter")
    desk.commands.transition(agent, "venissieux", ref(row), "triage", expected_version=None)
    case = desk.queries.case(agent, "venissieux", ref(row))
    assert [transition.name for transition in case.transitions] == ["hand-over", "refuse"]


# Transitions --------------------------------------------------------------------------------


def test_transition_from_the_wrong_state_is_refused(desk: Desk, agent: Caller) -> None:
    row = filed(desk, delivery="counter")
    with pytest.raises(ActionNotAllowed):
        desk.commands.transition(agent, "venissieux", ref(row), "hand-over", expected_version=None)


def test_transition_whose_condition_is_unmet_is_refused(desk: Desk, agent: Caller) -> None:
    row = filed(desk, delivery="counter")
    desk.commands.transition(agent, "venissieux", ref(row), "triage", expected_version=None)
    with pytest.raises(ActionNotAllowed):
        desk.commands.transition(agent, "venissieux", ref(row), "mail", expected_version=None)


def test_unknown_transition_is_refused(desk: Desk, agent: Caller) -> None:
    with pytest.raises(ActionNotAllowed):
        desk.commands.transition(agent, "venissieux", ref(filed(desk)), "teleport", expected_version=None)


def test_reader_cannot_take_an_instructors_transition_and_the_refusal_is_audited(desk: Desk) -> None:
    row = filed(desk)
    reader = desk.staff("lecteur", "agent:venissieux:vignette:reader")
    before = snapshot(desk, row)
    with pytest.raises(ActionForbidden):
        desk.commands.transition(reader, "venissieux", ref(row), "refuse", expected_version=None,
                               reason="incomplete", comment="Non.")  # fmt: skip
    [denied] = desk.audit("access.denied")
    assert (denied.actor_id, denied.outcome, denied.service) == (reader.actor.id, "denied", "vignette")
    assert snapshot(desk, row)[:5] == before[:5]


def test_reader_can_take_a_readers_transition(desk: Desk) -> None:
    row = filed(desk)
    reader = desk.staff("lecteur", "agent:venissieux:vignette:reader")
    moved = desk.commands.transition(reader, "venissieux", ref(row), "triage", expected_version=None)
    assert moved.status == "review"


def test_transition_without_its_reason_is_refused(desk: Desk, agent: Caller) -> None:
    row = filed(desk)
    with pytest.raises(InvalidInput):
        desk.commands.transition(agent, "venissieux", ref(row), "refuse", expected_version=None, comment="Non.")


def test_transition_with_a_reason_not_offered_is_refused(desk: Desk, agent: Caller) -> None:
    row = filed(desk)
    with pytest.raises(InvalidInput):
        desk.commands.transition(agent, "venissieux", ref(row), "refuse", expected_version=None,
                               reason="whim", comment="Non.")  # fmt: skip


def test_transition_without_its_required_comment_is_refused(desk: Desk, agent: Caller) -> None:
    row = filed(desk)
    with pytest.raises(InvalidInput):
        desk.commands.transition(agent, "venissieux", ref(row), "refuse", expected_version=None,
                               reason="incomplete", comment="   ")  # fmt: skip


def test_decision_sets_the_retention_and_stops_waiting_for_the_citizen(desk: Desk, agent: Caller) -> None:
    row = filed(desk)
    desk.commands.ask_citizen(agent, "venissieux", ref(row), "Votre bail ?", expected_version=None)
    desk.commands.transition(agent, "venissieux", ref(row), "refuse", expected_version=None,
                           reason="incomplete", comment="Pas de bail.")  # fmt: skip
    stored = desk.reload(row)
    assert stored.decided_at is not None and stored.awaiting_citizen is False
    assert aware(stored.purge_after) == days_after(stored.decided_at, 90)


def test_transition_records_history_and_audit(desk: Desk, agent: Caller) -> None:
    row = filed(desk)
    desk.commands.transition(agent, "venissieux", ref(row), "refuse", expected_version=None,
                           reason="not-resident", comment="Adresse hors commune.")  # fmt: skip
    line = desk.events(row)[-1]
    assert (line.kind, line.from_status, line.to_status, line.reason, line.staff_id) == (
        "transition", "submitted", "refused", "not-resident", agent.staff_id)  # fmt: skip
    assert [entry.resource for entry in desk.audit("request.transition")] == [f"request/{ref(row)}"]
    assert len(desk.audit("vignette.stock-refuse")) == 1


def test_transition_tells_the_citizen_in_their_language_with_the_comment(desk: Desk, agent: Caller) -> None:
    row = desk.submitted(desk.citizen(email="kim@example.org", locale="en"))
    desk.commands.transition(agent, "venissieux", ref(row), "refuse", expected_version=None,
                           reason="incomplete", comment="The lease is missing.")  # fmt: skip
    message = desk.outbox()[-1]
    assert (message.recipient, message.locale, message.kind) == ("kim@example.org", "en", "request-transition")
    assert "Your sticker request is refused." in message.body and "The lease is missing." in message.body


def test_transition_without_a_message_tells_nobody(desk: Desk, agent: Caller) -> None:
    row = filed(desk)
    sent = len(desk.outbox())
    desk.commands.transition(agent, "venissieux", ref(row), "triage", expected_version=None)
    assert len(desk.outbox()) == sent


def test_plugin_refusal_stops_the_transition_and_writes_nothing(desk: Desk, agent: Caller) -> None:
    row = filed(desk, plate=f"{REFUSED_PLATE}-000-AA", delivery="counter")
    desk.commands.transition(agent, "venissieux", ref(row), "triage", expected_version=None)
    before = snapshot(desk, row)
    with pytest.raises(ActionNotAllowed) as refused:
        desk.commands.transition(agent, "venissieux", ref(row), "hand-over", expected_version=None)
    assert refused.value.reason == NO_STOCK
    assert snapshot(desk, row) == before


def test_plugin_failure_makes_the_service_unavailable_and_writes_nothing(desk: Desk, agent: Caller) -> None:
    row = filed(desk, plate=f"{CRASHING_PLATE}-000-AA")
    before = snapshot(desk, row)
    with pytest.raises(ServiceUnavailable):
        desk.commands.transition(agent, "venissieux", ref(row), "triage", expected_version=None)
    assert snapshot(desk, row) == before


def test_transition_on_a_stale_version_writes_nothing(desk: Desk, agent: Caller) -> None:
    row = filed(desk)
    seen = desk.queries.case(agent, "venissieux", ref(row)).request.version
    desk.commands.note(agent, "venissieux", ref(row), "Vu au téléphone.")
    before = snapshot(desk, row)
    with pytest.raises(StaleRequest):
        desk.commands.transition(agent, "venissieux", ref(row), "triage", expected_version=seen)
    assert snapshot(desk, row) == before


def test_bulk_transition_reports_each_request(desk: Desk, agent: Caller) -> None:
    movable, moved = filed(desk), filed(desk)
    desk.commands.transition(agent, "venissieux", ref(moved), "triage", expected_version=None)
    references = [ref(movable), ref(moved), "VIG-1999-999999"]
    outcomes = desk.commands.bulk_transition(agent, "venissieux", references, "triage")
    assert [(outcome.reference, outcome.done) for outcome in outcomes] == [
        (ref(movable), True), (ref(moved), False), ("VIG-1999-999999", False)]  # fmt: skip
    assert desk.reload(movable).status == "review"


# Assignment, notes, questions ---------------------------------------------------------------


def test_assigning_to_someone_who_does_not_process_the_service_is_refused(desk: Desk, agent: Caller) -> None:
    row = filed(desk)
    outsider = desk.staff("permanencier", "agent:venissieux:permanence")
    with pytest.raises(InvalidInput):
        desk.commands.assign(agent, "venissieux", ref(row), outsider.staff_id, expected_version=None)


def test_assigning_to_a_reader_is_refused(desk: Desk, agent: Caller) -> None:
    row = filed(desk)
    reader = desk.staff("lecteur", "agent:venissieux:vignette:reader")
    with pytest.raises(InvalidInput):
        desk.commands.assign(agent, "venissieux", ref(row), reader.staff_id, expected_version=None)


def test_assigning_to_a_colleague_is_recorded(desk: Desk, agent: Caller) -> None:
    row = filed(desk)
    colleague = desk.staff("collegue", "agent:venissieux:vignette")
    desk.commands.assign(agent, "venissieux", ref(row), colleague.staff_id, expected_version=None)
    assert desk.reload(row).assigned_to == colleague.staff_id


def test_notes_stay_internal(desk: Desk, agent: Caller) -> None:
    owner = desk.citizen()
    row = desk.submitted(owner)
    desk.commands.note(agent, "venissieux", ref(row), "Voisin bruyant.")
    assert "Voisin bruyant." in [event.body for event in desk.queries.case(agent, "venissieux", ref(row)).events]
    assert "Voisin bruyant." not in [event.body for event in desk.citizens.case(owner, row.public_id).events]


def test_asking_the_citizen_about_a_decided_request_is_refused(desk: Desk, agent: Caller) -> None:
    row = filed(desk)
    desk.commands.transition(agent, "venissieux", ref(row), "refuse", expected_version=None,
                           reason="incomplete", comment="Non.")  # fmt: skip
    with pytest.raises(ActionNotAllowed):
        desk.commands.ask_citizen(agent, "venissieux", ref(row), "Et votre bail ?", expected_version=None)


def test_message_to_the_citizen_is_shown_to_them_and_announced(desk: Desk, agent: Caller) -> None:
    owner = desk.citizen()
    row = desk.submitted(owner)
    desk.commands.message(agent, "venissieux", ref(row), "Passez en mairie.")
    assert "Passez en mairie." in [event.body for event in desk.citizens.case(owner, row.public_id).events]
    assert desk.outbox()[-1].kind == "request-message"
    assert "Passez en mairie." not in desk.outbox()[-1].body


# Export -------------------------------------------------------------------------------------


def test_export_defuses_formulas(desk: Desk, agent: Caller) -> None:
    row = filed(desk)
    with desk.db.session(commune="venissieux") as session:
        session.execute(
            update(ServiceRequest).where(ServiceRequest.id == row.id).values(summary="=HYPERLINK(1)")  # type: ignore[arg-type]
        )
    exported = list(csv.reader(io.StringIO(desk.queries.export_csv(agent, "venissieux", QueueFilter()))))
    assert exported[1][0] == ref(row) and exported[1][-1] == "'=HYPERLINK(1)"


def test_export_is_audited(desk: Desk, agent: Caller) -> None:
    filed(desk)
    desk.queries.export_csv(agent, "venissieux", QueueFilter())
    [export] = desk.audit("request.export")
    assert (export.actor_id, export.commune, export.resource) == (agent.actor.id, "venissieux", "queue/venissieux")


def test_export_of_an_ungranted_commune_is_forbidden(desk: Desk, agent: Caller) -> None:
    with pytest.raises(ActionForbidden):
        desk.queries.export_csv(agent, "corbas", QueueFilter())
    assert desk.audit("request.export") == []


# Filing at the counter ----------------------------------------------------------------------


def file_at_counter(desk: Desk, agent: Caller, email: str | None = "dominique@example.org") -> ServiceRequest:
    outcome = desk.commands.file_for_citizen(agent, desk.rules("permanence"),
                                           {"email": "autre@example.org", "topic": "Dossier retraite"},
                                           submission_key="counter-1", citizen_email=email)  # fmt: skip
    assert outcome.request is not None, outcome.errors
    return outcome.request


@pytest.fixture
def counter_agent(desk: Desk) -> Caller:
    return desk.staff("accueil", "agent:venissieux:permanence")


def test_counter_filing_names_the_agent(desk: Desk, counter_agent: Caller) -> None:
    row = file_at_counter(desk, counter_agent)
    assert desk.reload(row).filed_by_staff_id == counter_agent.staff_id
    assert desk.events(row)[-1].kind == "filed-for"


def test_counter_filing_is_audited_as_the_agent_about_the_citizen(desk: Desk, counter_agent: Caller) -> None:
    row = file_at_counter(desk, counter_agent)
    [created] = desk.audit("request.create")
    expected = pseudonym(desk.registry.settings.secret_key, "email", "dominique@example.org")
    assert (created.actor_id, created.actor_role, created.subject) == (counter_agent.actor.id, "agent", expected)
    assert row.subject == expected


def test_counter_filing_sends_the_receipt_to_the_address_given(desk: Desk, counter_agent: Caller) -> None:
    file_at_counter(desk, counter_agent)
    [receipt] = desk.outbox()
    assert receipt.recipient == "dominique@example.org"
    assert "déposée pour vous au guichet" in receipt.body


def test_counter_filing_needs_an_instructor_grant(desk: Desk, agent: Caller) -> None:
    with pytest.raises(ActionForbidden):
        file_at_counter(desk, agent)
    assert len(desk.audit("access.denied")) == 1


def test_counter_filing_without_an_address_takes_the_person_from_the_form(desk: Desk, counter_agent: Caller) -> None:
    row = file_at_counter(desk, counter_agent, email=None)
    assert row.subject == pseudonym(desk.registry.settings.secret_key, "email", "autre@example.org")
    assert [message.recipient for message in desk.outbox()] == ["autre@example.org"]


# Filing at the counter with the documents the citizen brought --------------------------------------

LEASED = {"name": "Dominique Exemple", "plate": "AB-123-CD", "ownership": "leased", "delivery": "counter"}


def test_counter_filing_keeps_the_documents_scanned_at_the_counter(desk: Desk, agent: Caller) -> None:
    outcome = desk.commands.file_for_citizen(agent, desk.rules("vignette"), LEASED, submission_key="counter-doc",
                                           citizen_email=None, documents={"lease": ("bail.pdf", PDF)})  # fmt: skip
    assert outcome.request is not None, outcome.errors
    [attachment] = desk.attachment_rows()
    assert (attachment.document, attachment.filename, attachment.uploaded_by) == ("lease", "bail.pdf", "agent")
    assert desk.stored_files() == [attachment.storage_name]


def test_counter_filing_without_a_required_document_names_it_and_keeps_no_file(desk: Desk, agent: Caller) -> None:
    outcome = desk.commands.file_for_citizen(agent, desk.rules("vignette"), {**LEASED, "plate": ""},
                                           submission_key="counter-doc", citizen_email=None,
                                           documents={"lease": ("bail.pdf", PDF)})  # fmt: skip
    assert outcome.request is None and [error.field for error in outcome.errors] == ["plate"]
    assert desk.attachment_rows() == [] and desk.stored_files() == []
    missing = desk.commands.file_for_citizen(agent, desk.rules("vignette"), LEASED, submission_key="counter-doc",
                                           citizen_email=None)  # fmt: skip
    assert [error.field for error in missing.errors] == ["document:lease"]


def test_counter_filing_refuses_a_document_of_the_wrong_type_before_storing_anything(desk: Desk, agent: Caller) -> None:
    page = b"<html>bail</html>"
    with pytest.raises(UploadRefused) as refused:
        desk.commands.file_for_citizen(agent, desk.rules("vignette"), LEASED, submission_key="counter-doc",
                                     citizen_email=None, documents={"lease": ("bail.pdf", page)})  # fmt: skip
    assert refused.value.status == 415
    assert desk.attachment_rows() == [] and desk.stored_files() == [] and desk.audit("request.create") == []
