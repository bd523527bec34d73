"""Retention: expired drafts and decided requests past their period are deleted, once, audited; orphan files go."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlmodel import func, select
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.audit.builders import csrf_refused
from gateway.audit.events import ANONYMOUS, pseudonym
from gateway.audit.refusals import count_refusal
from gateway.db import Database
from gateway.demo.staff import staff_caller
from gateway.identity import staff as staff_accounts
from gateway.identity import throttle
from gateway.models import Attachment, AuditEntry, Citizen, LoginThrottle, RefusalCount, RequestEvent, ServiceRequest
from gateway.requests import attachments
from gateway.requests.backoffice.commands import BackOfficeCommands
from gateway.requests.caller import Caller
from gateway.requests.clock import aware
from gateway.requests.lifecycle import CitizenRequests
from gateway.requests.retention import EXPIRED, run_retention
from gateway.requests.submission_keys import new_submission_key
from gateway.stored_files import names as stored_names_of
from gateway.stored_files import save as save_file
from gateway.testing import ConfigFolder
from tests.plugins import papers

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
LATER = timedelta(days=400)  # past Vénissieux's 365 days for decided requests


@pytest.fixture
def app(guichet_config: ConfigFolder, guichet_database_url: str) -> Iterator[Starlette]:
    services = guichet_config.read("communes/venissieux.toml")["services"]
    guichet_config.set_commune("venissieux", services={**services, "papers": {}})
    guichet_config.set_gateway(database={"url": guichet_database_url})
    application = create_app(guichet_config.path, extra_plugins=[("papers", papers)])
    yield application
    application.state.db.dispose()


def citizen_caller(app: Starlette, name: str = "Camille") -> Caller:
    from gateway.demo.form_filling import citizen_caller as caller_for

    with app.state.db.session() as session:
        citizen = Citizen(public_id=os.urandom(16).hex(), issuer="https://idp.test", sub=os.urandom(8).hex(),
                          given_name=name, family_name="Exemple", created_at=datetime.now(UTC))  # fmt: skip
        session.add(citizen)
        session.flush()
    return caller_for(citizen)


def agent_caller(app: Starlette, username: str = "agent.venissieux") -> Caller:
    grant = staff_accounts.parse_grant("agent:venissieux")
    with app.state.db.session() as session:
        staff = staff_accounts.create(session, username=username, display_name="Agent", email="a@guichet.example",
                                      password="a long enough test password", grants=[grant])  # fmt: skip
    return staff_caller(staff, [grant], origin="test")


def draft_with_file(app: Starlette, caller: Caller) -> ServiceRequest:
    people = CitizenRequests(app.state.db, app.state.registry)
    draft = people.start_draft(caller, "venissieux", "papers", submission_key=new_submission_key())
    people.attach(caller, draft.public_id, "proof", "preuve.pdf", PDF)
    return draft


def decided_request(app: Starlette, caller: Caller, agent: Caller) -> ServiceRequest:
    people = CitizenRequests(app.state.db, app.state.registry)
    draft = draft_with_file(app, caller)
    submitted = people.submit(caller, draft.public_id, {"topic": "Mon justificatif"})
    assert not submitted.errors
    reference = submitted.request.reference
    assert reference is not None
    BackOfficeCommands(app.state.db, app.state.registry).transition(
        agent, "venissieux", reference, "accept", expected_version=None
    )
    return people.case(caller, draft.public_id).request


def count(db: Database, model: type, *where: object) -> int:
    with db.session(all_communes=True) as session:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


def purge_entries(db: Database) -> list[AuditEntry]:
    with db.session() as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == "request.purge")).all())


def stored_files(app: Starlette) -> list[str]:
    """The attachments' bytes kept in the database, pointed to or not."""
    with app.state.db.read_session() as session:
        return attachments.stored_names(session)


def test_a_decided_request_past_its_retention_is_deleted_with_its_history_and_files(app: Starlette) -> None:
    citizen, agent = citizen_caller(app), agent_caller(app)
    row = decided_request(app, citizen, agent)
    assert stored_files(app)
    report = run_retention(app.state.db, app.state.registry, now=datetime.now(UTC) + LATER)
    assert (report.requests_purged, report.files_deleted) == (1, 1)
    db = app.state.db
    assert count(db, ServiceRequest) == 0
    assert count(db, RequestEvent) == 0 and count(db, Attachment) == 0
    assert stored_files(app) == []
    assert row.reference is not None


def test_the_purge_is_audited_once_as_the_system_citing_the_service_purpose(app: Starlette) -> None:
    citizen = citizen_caller(app)
    row = decided_request(app, citizen, agent_caller(app))
    run_retention(app.state.db, app.state.registry, now=datetime.now(UTC) + LATER)
    [entry] = purge_entries(app.state.db)
    secret = app.state.registry.settings.secret_key
    assert (entry.actor_id, entry.actor_role, entry.commune, entry.service) == (
        "system",
        "system",
        "venissieux",
        "papers",
    )
    assert entry.resource == f"request/{row.reference}"
    assert entry.subject == row.subject == pseudonym(secret, "citizen", citizen.citizen_public_id or "")
    assert entry.purpose == papers.SERVICE.purpose.fr


def test_a_decided_request_still_within_its_retention_is_kept(app: Starlette) -> None:
    decided_request(app, citizen_caller(app), agent_caller(app))
    report = run_retention(app.state.db, app.state.registry, now=datetime.now(UTC) + timedelta(days=360))
    assert report.requests_purged == 0
    assert count(app.state.db, ServiceRequest) == 1 and len(stored_files(app)) == 1


def test_a_request_still_being_processed_is_never_deleted(app: Starlette) -> None:
    people = CitizenRequests(app.state.db, app.state.registry)
    citizen = citizen_caller(app)
    draft = draft_with_file(app, citizen)
    assert not people.submit(citizen, draft.public_id, {"topic": "En cours"}).errors
    report = run_retention(app.state.db, app.state.registry, now=datetime.now(UTC) + timedelta(days=5000))
    assert (report.requests_purged, report.drafts_deleted) == (0, 0)
    assert count(app.state.db, ServiceRequest) == 1


def test_an_expired_draft_is_deleted_with_its_files(app: Starlette) -> None:
    draft_with_file(app, citizen_caller(app))
    report = run_retention(app.state.db, app.state.registry, now=datetime.now(UTC) + timedelta(days=31))
    assert (report.drafts_deleted, report.files_deleted) == (1, 1)
    assert count(app.state.db, ServiceRequest) == 0 and stored_files(app) == []
    assert purge_entries(app.state.db) == []


def test_a_draft_saved_recently_is_kept(app: Starlette) -> None:
    draft_with_file(app, citizen_caller(app))
    report = run_retention(app.state.db, app.state.registry, now=datetime.now(UTC) + timedelta(days=29))
    assert report.drafts_deleted == 0 and count(app.state.db, ServiceRequest) == 1


def test_a_request_of_a_service_no_longer_installed_is_purged_citing_expiry(app: Starlette) -> None:
    moment = datetime.now(UTC) - timedelta(days=1)
    with app.state.db.session(commune="venissieux") as session:
        session.add(ServiceRequest(commune="venissieux", service="retired", status="done", reference="OLD-1",
                                   submission_key="old-1", decided_at=moment, purge_after=moment))  # fmt: skip
    run_retention(app.state.db, app.state.registry)
    [entry] = purge_entries(app.state.db)
    assert (entry.purpose, entry.service, entry.resource) == (EXPIRED, "retired", "request/OLD-1")


def test_a_dry_run_counts_and_deletes_nothing(app: Starlette) -> None:
    decided_request(app, citizen_caller(app), agent_caller(app))
    report = run_retention(app.state.db, app.state.registry, now=datetime.now(UTC) + LATER, dry_run=True)
    assert (report.requests_purged, report.files_deleted, report.dry_run) == (1, 1, True)
    assert count(app.state.db, ServiceRequest) == 1 and len(stored_files(app)) == 1
    assert purge_entries(app.state.db) == []


def test_orphan_attachment_files_are_removed_but_referenced_ones_and_other_kinds_kept(app: Starlette) -> None:
    draft_with_file(app, citizen_caller(app))
    [referenced] = stored_files(app)
    with app.state.db.session() as session:
        orphan, _ = attachments.save(session, b"no row points to me")
        save_file(session, b"an audit archive", kind="audit-archive")
    assert sorted(stored_files(app)) == sorted([referenced, orphan])
    report = run_retention(app.state.db, app.state.registry)
    assert report.orphans_deleted == 1
    assert stored_files(app) == [referenced]
    with app.state.db.read_session() as session:
        assert len(stored_names_of(session, "audit-archive")) == 1


def _insert_due(db: Database, number: int) -> None:
    """``number`` decided requests past retention, each with a history line and a stored file."""
    moment = datetime.now(UTC) - timedelta(days=2)
    with db.session(commune="venissieux") as session:
        for n in range(number):
            row = ServiceRequest(commune="venissieux", service="papers", status="accepted", reference=f"PAP-{n}",
                                 submission_key=f"due-{n}", submitted_at=moment, decided_at=moment,
                                 purge_after=moment)  # fmt: skip
            session.add(row)
            session.flush()
            assert row.id is not None
            name, digest = attachments.save(session, PDF)
            session.add(RequestEvent(commune="venissieux", request_id=row.id, kind="transition", actor_role="agent"))
            session.add(Attachment(commune="venissieux", request_id=row.id, document="proof", filename="p.pdf",
                                   content_type="application/pdf", size=len(PDF), sha256=digest, storage_name=name,
                                   uploaded_by="citizen"))  # fmt: skip


def test_two_runners_at_once_purge_and_audit_each_request_exactly_once(app: Starlette) -> None:
    due = 40
    registry = app.state.registry
    _insert_due(app.state.db, due)
    runners = [Database(app.state.db.url) for _ in range(2)]
    start = threading.Barrier(len(runners))
    reports = []
    failures: list[BaseException] = []

    def run(db: Database) -> None:
        try:
            start.wait()
            reports.append(run_retention(db, registry, batch=7))
        except BaseException as error:  # reported below: a thread's exception would be lost
            failures.append(error)

    threads = [threading.Thread(target=run, args=(db,)) for db in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for db in runners:
        db.dispose()
    assert failures == []
    assert sum(report.requests_purged for report in reports) == due
    entries = purge_entries(app.state.db)
    assert sorted(entry.resource for entry in entries) == sorted(f"request/PAP-{n}" for n in range(due))
    assert count(app.state.db, ServiceRequest) == 0 and count(app.state.db, Attachment) == 0
    assert stored_files(app) == []


def _cli(config: ConfigFolder, *args: str) -> str:
    from gateway.cli import main

    result = CliRunner().invoke(main, ["--config", str(config.path), "retention", "run", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_command_purges_what_is_due_and_prints_the_counts(
    guichet_config: ConfigFolder, guichet_database_url: str
) -> None:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    db = Database(guichet_database_url)
    decided = datetime.now(UTC) - timedelta(days=10)
    with db.session(commune="corbas") as session:
        session.add(ServiceRequest(commune="corbas", service="contact", status="answered", reference="MSG-1",
                                   submission_key="k-1", decided_at=decided,
                                   purge_after=decided + timedelta(days=5)))  # fmt: skip
    output = _cli(guichet_config, "--now", (datetime.now(UTC) - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%S"))
    assert "0 decided request(s)" in output and count(db, ServiceRequest) == 1
    output = _cli(guichet_config, "--batch", "10")
    assert "1 decided request(s)" in output and count(db, ServiceRequest) == 0
    db.dispose()


def test_the_command_dry_run_says_what_it_would_delete(guichet_config: ConfigFolder, guichet_database_url: str) -> None:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    output = _cli(guichet_config, "--dry-run")
    assert output.startswith("retention (would delete): 0 expired draft(s), 0 decided request(s)")


# counters holding client addresses -------------------------------------------------------------------


def _counters(app: Starlette, start: datetime) -> None:
    """Refusals counted a year and a day apart, throttle counters three days and a minute old."""
    with app.state.db.session() as session:
        for when in (start - timedelta(days=400), start - timedelta(minutes=1)):
            count_refusal(session, csrf_refused(ANONYMOUS, resource="POST /", origin="web 192.0.2.7"), now=when)
        for key, when in (("filing-origin:192.0.2.7", start - timedelta(days=3)), ("address:192.0.2.8", start)):
            throttle.take(session, key, limit=5, window=timedelta(minutes=10), now=when)


def test_refusal_counts_past_the_audit_retention_are_pruned(app: Starlette) -> None:
    start = datetime.now(UTC)
    _counters(app, start)
    report = run_retention(app.state.db, app.state.registry, now=start)
    assert report.refusal_counts_deleted == 1
    with app.state.db.session() as session:
        [kept] = session.exec(select(RefusalCount)).all()
    assert aware(kept.minute) == (start - timedelta(minutes=1)).replace(second=0, microsecond=0)


def test_throttle_counters_long_over_are_pruned(app: Starlette) -> None:
    start = datetime.now(UTC)
    _counters(app, start)
    report = run_retention(app.state.db, app.state.registry, now=start)
    assert report.throttles_deleted == 1
    with app.state.db.session() as session:
        assert session.exec(select(LoginThrottle.key)).all() == ["address:192.0.2.8"]


def test_a_dry_run_counts_the_counters_and_keeps_them(app: Starlette) -> None:
    start = datetime.now(UTC)
    _counters(app, start)
    report = run_retention(app.state.db, app.state.registry, now=start, dry_run=True)
    assert (report.refusal_counts_deleted, report.throttles_deleted) == (1, 1)
    with app.state.db.session() as session:
        assert len(session.exec(select(RefusalCount)).all()) == 2
        assert len(session.exec(select(LoginThrottle)).all()) == 2
