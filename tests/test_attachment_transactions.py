"""An attachment's bytes commit with its row or not at all, and go with it: nothing orphaned, nothing lost.

The bytes live in the database (gateway.stored_files), written in the very
transaction that records the attachment; these tests make that transaction
fail *after* the bytes were written and check that none are left, on SQLite
and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import gateway.audit.log
from gateway.audit.log import AuditUnavailable
from gateway.requests.caller import Caller
from gateway.requests.errors import ServiceUnavailable
from gateway.testing import ConfigFolder
from tests.lifecycle_desk import PDF, Desk, enable
from tests.plugins.lifecycle_service import UNFILEABLE_PLATE

LEASED = {"name": "Dominique Exemple", "plate": "AB-123-CD", "ownership": "leased", "delivery": "counter"}


@pytest.fixture
def desk(guichet_config: ConfigFolder, guichet_database_url: str) -> Iterator[Desk]:
    enable(guichet_config)
    opened = Desk(guichet_config, guichet_database_url)
    yield opened
    opened.close()


@pytest.fixture
def agent(desk: Desk) -> Caller:
    return desk.staff("instructeur", "agent:venissieux:vignette")


def _audit_log_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """The audit log's append, run at commit after everything else was written, fails (a full disk, say)."""

    def broken(*_: object, **__: object) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(gateway.audit.log, "append", broken)


def test_an_upload_whose_transaction_fails_at_commit_keeps_no_bytes(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = desk.citizen()
    row = desk.draft(owner, ownership="leased")
    _audit_log_fails(monkeypatch)
    with pytest.raises(AuditUnavailable):
        desk.citizens.attach(owner, row.public_id, "lease", "bail.pdf", PDF)
    monkeypatch.undo()
    assert (desk.stored_files(), desk.attachment_rows()) == ([], [])


def test_a_counter_filing_the_service_fails_keeps_no_bytes(desk: Desk, agent: Caller) -> None:
    """The plugin's reaction runs after the documents were written in the filing's transaction, then raises."""
    values = {**LEASED, "plate": UNFILEABLE_PLATE + "-123-CD"}
    with pytest.raises(ServiceUnavailable):
        desk.commands.file_for_citizen(agent, desk.rules("vignette"), values, submission_key="counter-fails",
                                       citizen_email=None, documents={"lease": ("bail.pdf", PDF)})  # fmt: skip
    assert (desk.stored_files(), desk.attachment_rows()) == ([], [])


def test_a_replayed_counter_filing_stores_its_documents_once(desk: Desk, agent: Caller) -> None:
    for _ in range(2):
        outcome = desk.commands.file_for_citizen(agent, desk.rules("vignette"), LEASED, submission_key="counter-once",
                                               citizen_email=None, documents={"lease": ("bail.pdf", PDF)})  # fmt: skip
    assert outcome.replayed
    [attachment] = desk.attachment_rows()
    assert desk.stored_files() == [attachment.storage_name]


def test_detaching_a_document_deletes_its_bytes_and_a_failed_detach_keeps_them(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = desk.citizen()
    row = desk.draft(owner, ownership="leased")
    attachment = desk.citizens.attach(owner, row.public_id, "lease", "bail.pdf", PDF)
    _audit_log_fails(monkeypatch)
    with pytest.raises(AuditUnavailable):
        desk.citizens.detach(owner, row.public_id, attachment.public_id)
    monkeypatch.undo()
    assert desk.stored_files() == [attachment.storage_name]
    assert desk.citizens.download(owner, row.public_id, attachment.public_id)[1] == PDF
    desk.citizens.detach(owner, row.public_id, attachment.public_id)
    assert (desk.stored_files(), desk.attachment_rows()) == ([], [])


def test_discarding_a_draft_deletes_its_documents_bytes(desk: Desk) -> None:
    owner = desk.citizen()
    row = desk.draft(owner, ownership="leased")
    desk.citizens.attach(owner, row.public_id, "lease", "bail.pdf", PDF)
    desk.citizens.discard_draft(owner, row.public_id)
    assert (desk.stored_files(), desk.attachment_rows()) == ([], [])


def test_a_second_database_handle_reads_the_bytes_another_one_wrote(desk: Desk, guichet_database_url: str) -> None:
    """What another process or machine does: nothing but the database is shared."""
    from gateway.db import Database
    from gateway.requests.lifecycle import CitizenRequests

    owner = desk.citizen()
    row = desk.draft(owner, ownership="leased")
    attachment = desk.citizens.attach(owner, row.public_id, "lease", "bail.pdf", PDF)
    elsewhere = Database(guichet_database_url)
    try:
        assert CitizenRequests(elsewhere, desk.registry).download(owner, row.public_id, attachment.public_id)[1] == PDF
    finally:
        elsewhere.dispose()
