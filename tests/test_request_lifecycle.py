"""The citizen's side of a request through the service layer: drafts, submission, withdrawal, answers, documents."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gateway.requests.attachments import UploadRefused
from gateway.requests.caller import Caller
from gateway.requests.clock import aware
from gateway.requests.errors import ActionNotAllowed, RequestNotFound
from gateway.requests.forms import check_form
from gateway.requests.lifecycle import CitizenRequests
from gateway.requests.submission_keys import SubmissionKeyReused
from gateway.testing import ConfigFolder
from tests.lifecycle_desk import GOOD_ANSWERS, PDF, Desk, days_after, enable
from tests.plugins import antivirus
from tests.plugins.lifecycle_service import VIGNETTE_FORM


@pytest.fixture
def desk(guichet_config: ConfigFolder, guichet_database_url: str) -> Iterator[Desk]:
    enable(guichet_config, decided_requests_days=90, draft_days=7)
    opened = Desk(guichet_config, guichet_database_url)
    yield opened
    opened.close()


@pytest.fixture
def plain_desk(guichet_config: ConfigFolder, guichet_database_url: str) -> Iterator[Desk]:
    """Vénissieux without retention overrides: the service's own periods apply."""
    enable(guichet_config)
    opened = Desk(guichet_config, guichet_database_url)
    yield opened
    opened.close()


def awaiting(desk: Desk, owner: Caller, **values: str) -> tuple[str, str]:
    """A submitted request the town hall asked a complement for: (public id, reference)."""
    row = desk.submitted(owner, **values)
    assert row.reference is not None
    agent = desk.staff("instructeur", "agent:venissieux:vignette")
    desk.commands.ask_citizen(agent, "venissieux", row.reference, "Précisez l'immatriculation.", expected_version=None)
    return row.public_id, row.reference


# The generic form check ---------------------------------------------------------------


def test_conditional_field_is_emptied_and_not_checked_when_its_condition_is_unmet() -> None:
    raw = {**GOOD_ANSWERS, "delivery": "counter", "address": "x" * 5000}
    cleaned, errors = check_form(VIGNETTE_FORM, raw)
    assert cleaned["address"] == ""
    assert errors == []


def test_conditional_field_is_checked_when_its_condition_is_met() -> None:
    _cleaned, errors = check_form(VIGNETTE_FORM, {**GOOD_ANSWERS, "delivery": "post", "address": ""})
    assert [error.field for error in errors] == ["address"]


# Drafts ---------------------------------------------------------------------------------


def test_new_draft_is_prefilled_with_declared_fields_only(desk: Desk) -> None:
    owner = desk.citizen(given_name="Camille", family_name="Exemple", email="camille@example.org")
    row = desk.citizens.start_draft(owner, "venissieux", "vignette", submission_key="k1")
    assert row.data == {"name": "Camille Exemple", "email": "camille@example.org"}


def test_same_submission_key_gives_the_same_draft(desk: Desk) -> None:
    owner = desk.citizen()
    first = desk.citizens.start_draft(owner, "venissieux", "vignette", submission_key="k1")
    again = desk.citizens.start_draft(owner, "venissieux", "vignette", submission_key="k1")
    assert again.public_id == first.public_id


def test_another_citizens_submission_key_is_refused(desk: Desk) -> None:
    desk.citizens.start_draft(desk.citizen(), "venissieux", "vignette", submission_key="k1")
    with pytest.raises(SubmissionKeyReused):
        desk.citizens.start_draft(desk.citizen(), "venissieux", "vignette", submission_key="k1")


def test_saving_a_draft_keeps_invalid_values_and_returns_the_errors(desk: Desk) -> None:
    owner = desk.citizen()
    row = desk.draft(owner)
    saved, errors = desk.citizens.save_draft(owner, row.public_id, {**GOOD_ANSWERS, "email": "pas-une-adresse"})
    assert [error.field for error in errors] == ["email"]
    assert desk.reload(saved).data["email"] == "pas-une-adresse"


def test_draft_is_purged_after_the_communes_draft_days(desk: Desk) -> None:
    row = desk.draft(desk.citizen())
    assert aware(row.purge_after) == days_after(row.created_at, 7)


def test_draft_is_purged_after_the_services_draft_days_without_a_commune_choice(plain_desk: Desk) -> None:
    row = plain_desk.draft(plain_desk.citizen())
    assert aware(row.purge_after) == days_after(row.created_at, 20)


def test_submit_with_errors_keeps_the_draft(desk: Desk) -> None:
    owner = desk.citizen()
    row = desk.draft(owner)
    outcome = desk.citizens.submit(owner, row.public_id, {**GOOD_ANSWERS, "plate": ""})
    stored = desk.reload(row)
    assert [error.field for error in outcome.errors] == ["plate"]
    assert (stored.status, stored.reference, stored.data["plate"]) == ("draft", None, "")


def test_submit_asks_for_a_required_document_when_it_applies(desk: Desk) -> None:
    owner = desk.citizen()
    row = desk.draft(owner, ownership="leased")
    outcome = desk.citizens.submit(owner, row.public_id)
    assert [error.field for error in outcome.errors] == ["document:lease"]
    assert desk.reload(row).reference is None


def test_submit_does_not_ask_for_a_document_that_does_not_apply(desk: Desk) -> None:
    owner = desk.citizen()
    row = desk.draft(owner, ownership="owned")
    assert desk.citizens.submit(owner, row.public_id).errors == ()


def test_submit_numbers_the_request_and_starts_its_workflow(desk: Desk) -> None:
    owner = desk.citizen()
    row = desk.submitted(owner)
    assert row.reference == f"VIG-{days_after(row.submitted_at, 0).year}-000001"
    assert (row.status, row.purge_after) == ("submitted", None)


def test_submit_queues_a_receipt_to_the_citizen_in_their_language(desk: Desk) -> None:
    owner = desk.citizen(email="kim@example.org", locale="en")
    row = desk.submitted(owner)
    [receipt] = desk.outbox()
    assert (receipt.recipient, receipt.locale, receipt.kind) == ("kim@example.org", "en", "request-receipt")
    assert str(row.reference) in receipt.body and "Keep its reference number" in receipt.body


def test_submit_records_the_draft_and_the_submission_in_the_audit_log(desk: Desk) -> None:
    row = desk.submitted(desk.citizen())
    created = desk.audit("request.create")
    submitted = desk.audit("request.submit")
    assert [entry.resource for entry in created] == [f"draft/{row.public_id}"]
    assert [entry.resource for entry in submitted] == [f"request/{row.reference}"]
    assert submitted[0].subject == row.subject is not None


def test_submit_runs_the_services_reaction(desk: Desk) -> None:
    row = desk.submitted(desk.citizen(), plate="GH-456-IJ")
    assert desk.reload(row).summary == "Vignette GH-456-IJ"


def test_services_check_uses_the_citizens_identity(desk: Desk) -> None:
    owner = desk.citizen(family_name="Martin", verified=True)
    row = desk.draft(owner, name="Quelqu'un d'autre")
    outcome = desk.citizens.submit(owner, row.public_id)
    assert [error.field for error in outcome.errors] == ["name"]


def test_submitting_twice_answers_with_the_same_request(desk: Desk) -> None:
    owner = desk.citizen()
    row = desk.submitted(owner)
    again = desk.citizens.submit(owner, row.public_id, GOOD_ANSWERS)
    assert (again.request.reference, again.errors) == (row.reference, ())
    assert len(desk.audit("request.submit")) == 1 and len(desk.outbox()) == 1


def test_discarding_a_draft_deletes_its_rows_and_files(desk: Desk) -> None:
    owner = desk.citizen()
    row = desk.draft(owner, ownership="leased")
    desk.citizens.attach(owner, row.public_id, "lease", "bail.pdf", PDF)
    desk.citizens.discard_draft(owner, row.public_id)
    assert desk.citizens.mine(owner) == []
    assert (desk.attachment_rows(), desk.stored_files(), desk.events(row)) == ([], [], [])


ACTIONS: dict[str, Callable[[CitizenRequests, Caller, str], Any]] = {
    "case": lambda s, c, p: s.case(c, p),
    "save_draft": lambda s, c, p: s.save_draft(c, p, GOOD_ANSWERS),
    "submit": lambda s, c, p: s.submit(c, p),
    "discard_draft": lambda s, c, p: s.discard_draft(c, p),
    "withdraw": lambda s, c, p: s.withdraw(c, p),
    "message": lambda s, c, p: s.message(c, p, "Bonjour"),
    "correct": lambda s, c, p: s.correct(c, p, GOOD_ANSWERS),
    "attach": lambda s, c, p: s.attach(c, p, "lease", "bail.pdf", PDF),
    "detach": lambda s, c, p: s.detach(c, p, "nothing"),
    "download": lambda s, c, p: s.download(c, p, "nothing"),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_another_citizens_request_is_not_found(desk: Desk, action: str) -> None:
    row = desk.draft(desk.citizen(), ownership="leased")
    with pytest.raises(RequestNotFound):
        ACTIONS[action](desk.citizens, desk.citizen(), row.public_id)


def test_another_citizens_request_is_not_listed(desk: Desk) -> None:
    desk.submitted(desk.citizen())
    assert desk.citizens.mine(desk.citizen()) == []


# Withdrawal ---------------------------------------------------------------------------------


def test_withdrawing_decides_the_request_and_keeps_it_for_the_communes_period(desk: Desk) -> None:
    owner = desk.citizen()
    row = desk.citizens.withdraw(owner, desk.submitted(owner).public_id)
    stored = desk.reload(row)
    assert stored.status == "withdrawn" and stored.decided_at is not None
    assert aware(stored.purge_after) == days_after(stored.decided_at, 90)


def test_withdrawing_keeps_the_request_for_the_services_period_without_a_commune_choice(plain_desk: Desk) -> None:
    owner = plain_desk.citizen()
    stored = plain_desk.reload(plain_desk.citizens.withdraw(owner, plain_desk.submitted(owner).public_id))
    assert aware(stored.purge_after) == days_after(stored.decided_at, 400)


def test_withdrawing_a_decided_request_is_refused(desk: Desk) -> None:
    owner = desk.citizen()
    row = desk.submitted(owner)
    desk.citizens.withdraw(owner, row.public_id)
    with pytest.raises(ActionNotAllowed):
        desk.citizens.withdraw(owner, row.public_id)


def test_withdrawing_a_draft_is_refused_with_the_way_to_delete_it(desk: Desk) -> None:
    owner = desk.citizen()
    row = desk.draft(owner)
    with pytest.raises(ActionNotAllowed) as refused:
        desk.citizens.withdraw(owner, row.public_id)
    assert "supprimez le brouillon" in refused.value.reason.fr


# Messages and corrections ---------------------------------------------------------------


def test_message_answers_a_pending_question(desk: Desk) -> None:
    owner = desk.citizen()
    public_id, _reference = awaiting(desk, owner)
    row = desk.citizens.message(owner, public_id, "C'est AB-123-CD.")
    assert desk.reload(row).awaiting_citizen is False
    assert desk.events(row)[-1].kind == "answer"


def test_correction_is_refused_when_nothing_is_awaited(desk: Desk) -> None:
    owner = desk.citizen()
    row = desk.submitted(owner)
    with pytest.raises(ActionNotAllowed):
        desk.citizens.correct(owner, row.public_id, {**GOOD_ANSWERS, "plate": "EF-789-GH"})


def test_correction_with_errors_changes_nothing(desk: Desk) -> None:
    owner = desk.citizen()
    public_id, _reference = awaiting(desk, owner)
    _row, errors = desk.citizens.correct(owner, public_id, {**GOOD_ANSWERS, "plate": ""})
    stored = desk.citizens.case(owner, public_id).request
    assert [error.field for error in errors] == ["plate"]
    assert (stored.data["plate"], stored.awaiting_citizen) == ("AB-123-CD", True)


def test_correction_records_the_labels_of_the_changed_fields(desk: Desk) -> None:
    owner = desk.citizen()
    public_id, _reference = awaiting(desk, owner)
    row, errors = desk.citizens.correct(owner, public_id, {**GOOD_ANSWERS, "plate": "EF-789-GH"})
    assert errors == [] and row.awaiting_citizen is False
    assert desk.events(row)[-1].body == "Champs corrigés : Immatriculation"


def test_documents_can_be_attached_to_a_draft(desk: Desk) -> None:
    owner = desk.citizen()
    row = desk.draft(owner, ownership="leased")
    attachment = desk.citizens.attach(owner, row.public_id, "lease", "C:\\Mes documents\\bail.pdf", PDF)
    assert (attachment.filename, attachment.content_type) == ("bail.pdf", "application/pdf")
    assert desk.stored_files() == [attachment.storage_name]


def test_documents_cannot_be_attached_when_nothing_is_awaited(desk: Desk) -> None:
    owner = desk.citizen()
    row = desk.submitted(owner)
    with pytest.raises(ActionNotAllowed):
        desk.citizens.attach(owner, row.public_id, "extra", "piece.pdf", PDF)
    assert desk.stored_files() == []


def test_an_awaited_document_can_be_attached(desk: Desk) -> None:
    owner = desk.citizen()
    public_id, _reference = awaiting(desk, owner)
    attachment = desk.citizens.attach(owner, public_id, "extra", "piece.pdf", PDF)
    assert [a.public_id for a in desk.citizens.case(owner, public_id).attachments] == [attachment.public_id]


def test_a_refused_upload_leaves_no_file_and_no_row(desk: Desk) -> None:
    owner = desk.citizen()
    row = desk.draft(owner, ownership="leased")
    with pytest.raises(UploadRefused) as refused:
        desk.citizens.attach(owner, row.public_id, "lease", "bail.pdf", b"<html>not a pdf</html>")
    assert refused.value.status == 415
    assert (desk.stored_files(), desk.attachment_rows()) == ([], [])


def test_a_file_the_antivirus_refuses_leaves_nothing(desk: Desk) -> None:
    owner = desk.citizen()
    row = desk.draft(owner, ownership="leased")
    infected = PDF.replace(b"<< >> endobj", b"<< " + antivirus.EICAR + b" >> endobj")
    with pytest.raises(UploadRefused) as refused:
        desk.citizens.attach(owner, row.public_id, "lease", "bail.pdf", infected)
    assert refused.value.finding == "Eicar-Test-Signature"
    assert (desk.stored_files(), desk.attachment_rows()) == ([], [])
