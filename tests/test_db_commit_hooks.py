"""The store's commit hooks: the audit log's append rides on them, and queued work is never lost silently."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

import gateway.db
from gateway.audit.events import AuditEvent
from gateway.audit.log import append_pending, pending, record
from gateway.db import Database, UnfinishedWork, on_commit, pending_work
from gateway.models import AuditEntry, ServiceRequest

EVENT = AuditEvent(
    action="request.read",
    actor_id="agent:7",
    actor_role="agent",
    resource="request/1",
    purpose="instruction",
    origin="test",
    commune="corbas",
)


@pytest.fixture
def db(guichet_database_url: str) -> Iterator[Database]:
    database = Database(guichet_database_url)
    yield database
    database.dispose()


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> list[gateway.db.CommitHook]:
    """The registered hooks, restored after the test (which may add or take some away)."""
    registered = list(gateway.db._commit_hooks)
    monkeypatch.setattr(gateway.db, "_commit_hooks", registered)
    return registered


def a_request(commune: str = "corbas") -> ServiceRequest:
    return ServiceRequest(
        reference="MSG-2026-000001",
        commune=commune,
        service="contact",
        data={"name": "Camille Exemple"},
        submission_key="key-1",
        created_at=datetime.now(UTC),
    )


def counts(db: Database) -> tuple[int, int]:
    """How many requests and audit entries are stored."""
    with db.session(all_communes=True) as session:
        requests = session.exec(select(func.count()).select_from(ServiceRequest)).one()
        entries = session.exec(select(func.count()).select_from(AuditEntry)).one()
    return requests, entries


def test_importing_the_audit_log_registers_its_append(hooks: list[gateway.db.CommitHook]) -> None:
    assert append_pending in hooks


def test_events_recorded_in_a_plain_session_block_are_appended_when_it_commits(db: Database) -> None:
    with db.session(commune="corbas") as session:
        session.add(a_request())
        record(session, EVENT)
    assert pending(session) == []
    with db.session(all_communes=True) as session:
        [entry] = session.exec(select(AuditEntry)).all()
    assert (entry.action, entry.actor_id, entry.resource) == ("request.read", "agent:7", "request/1")
    assert counts(db) == (1, 1)


def test_an_explicit_commit_inside_the_block_appends_too(db: Database) -> None:
    with db.session(commune="corbas") as session:
        record(session, EVENT)
        session.commit()
    assert counts(db) == (0, 1)


def test_a_session_left_with_unappended_events_is_an_error_and_writes_nothing(
    db: Database, hooks: list[gateway.db.CommitHook]
) -> None:
    hooks.remove(append_pending)  # as if the audit log's hook were missing
    with pytest.raises(UnfinishedWork, match="1 audit events"), db.session(commune="corbas") as session:
        session.add(a_request())
        record(session, EVENT)
    assert counts(db) == (0, 0)


def test_queued_work_of_a_kind_no_hook_takes_is_an_error(db: Database) -> None:
    with pytest.raises(UnfinishedWork, match="2 notices"), db.session(commune="corbas") as session:
        session.add(a_request())
        pending_work(session, "notices").extend(["one", "two"])
    assert counts(db) == (0, 0)


def test_hooks_run_in_the_order_they_were_registered_once_each(
    db: Database, hooks: list[gateway.db.CommitHook]
) -> None:
    calls: list[str] = []

    def first(session: Session) -> None:
        calls.append(f"first saw {len(pending(session))} unappended events")

    def second(session: Session) -> None:
        calls.append("second")

    assert on_commit(first) is first
    on_commit(second)
    on_commit(first)  # registered again: keeps its first place, runs once
    with db.session(commune="corbas") as session:
        record(session, EVENT)
    assert calls == ["first saw 0 unappended events", "second"]  # the audit append, registered on import, ran first
    assert counts(db) == (0, 1)


def test_a_hook_that_raises_rolls_the_whole_transaction_back(db: Database, hooks: list[gateway.db.CommitHook]) -> None:
    def refuse(session: Session) -> None:
        raise RuntimeError("outbox unavailable")

    on_commit(refuse)
    with pytest.raises(RuntimeError, match="outbox unavailable"), db.session(commune="corbas") as session:
        session.add(a_request())
        record(session, EVENT)
    hooks.remove(refuse)  # it refuses every commit, the counting one's too
    assert counts(db) == (0, 0)
