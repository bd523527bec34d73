"""Demo activity: requests from demo citizens and agents' work on them, through the real service layer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlmodel import col, func, select

from gateway.app import create_app
from gateway.db import Database
from gateway.demo.activity import ActivitySummary, seed_activity
from gateway.models import AuditEntry, OutboxMessage, ServiceRequest, StaffUser
from gateway.registry import Registry
from gateway.requests.linked import RECEIVING
from gateway.testing import ConfigFolder

COUNT = 30


@pytest.fixture
def deployment(guichet_config: ConfigFolder, guichet_database_url: str) -> Iterator[tuple[Database, Registry]]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    app = create_app(guichet_config.path)
    yield app.state.db, app.state.registry
    app.state.db.dispose()


@pytest.fixture
def seeded(deployment: tuple[Database, Registry]) -> tuple[Database, ActivitySummary]:
    db, registry = deployment
    return db, seed_activity(db, registry, COUNT, seed=7)


def submitted(db: Database) -> list[ServiceRequest]:
    """The requests citizens filed (not the linked requests a dérogation elsewhere opens in another commune)."""
    with db.session(all_communes=True) as session:
        rows = session.exec(select(ServiceRequest).where(ServiceRequest.status != "draft")).all()
        return [row for row in rows if row.link_role != RECEIVING]


def all_requests(db: Database) -> list[ServiceRequest]:
    with db.session(all_communes=True) as session:
        return list(session.exec(select(ServiceRequest)).all())


def actions(db: Database, *names: str) -> list[AuditEntry]:
    with db.session() as session:
        return list(session.exec(select(AuditEntry).where(col(AuditEntry.action).in_(names))).all())


def test_seeding_files_the_requests_asked_for_across_several_communes(
    seeded: tuple[Database, ActivitySummary],
) -> None:
    db, summary = seeded
    rows = submitted(db)
    assert len(rows) == summary.filed == COUNT
    assert all(row.reference and row.citizen_id for row in rows)
    assert len({row.commune for row in rows}) > 1
    assert sum(summary.by_commune.values()) == COUNT


def test_seeded_requests_leave_the_traces_of_real_use_audit_entries_and_outbox_messages(
    seeded: tuple[Database, ActivitySummary],
) -> None:
    db, _summary = seeded
    filed = [entry for entry in actions(db, "request.submit", "request.create") if entry.actor_role != "system"]
    assert filed and {entry.actor_role for entry in filed} == {"citizen"}
    opened_elsewhere = [entry for entry in actions(db, "request.create") if entry.actor_role == "system"]
    assert len(opened_elsewhere) == sum(1 for row in all_requests(db) if row.link_role == RECEIVING)
    views = actions(db, "request.read")
    transitions = actions(db, "request.transition")
    assert views and {entry.actor_role for entry in views} == {"agent"}
    assert transitions and all(entry.actor_id.startswith("staff:") for entry in transitions)
    with db.session() as session:
        recipients = session.exec(select(OutboxMessage.recipient)).all()
    assert recipients and all(recipient.endswith("@example.org") for recipient in recipients)


def test_some_seeded_requests_are_decided_and_some_await_the_citizen(seeded: tuple[Database, ActivitySummary]) -> None:
    db, summary = seeded
    rows = submitted(db)
    assert summary.decided > 0 and summary.awaiting > 0
    assert sum(1 for row in rows if row.decided_at is not None) == summary.decided + summary.withdrawn
    assert sum(1 for row in rows if row.awaiting_citizen) == summary.awaiting


def test_demo_agents_are_created_once_per_commune(deployment: tuple[Database, Registry]) -> None:
    db, registry = deployment
    seed_activity(db, registry, 5, seed=1)
    seed_activity(db, registry, 5, seed=2)
    with db.session() as session:
        names = session.exec(select(StaffUser.username)).all()
    assert len(names) == len(set(names)) > 0
    assert all(name.startswith("demo.") for name in names)


def test_seeding_again_adds_as_many_more_and_the_same_seed_draws_the_same_activity(
    deployment: tuple[Database, Registry],
) -> None:
    db, registry = deployment
    first = seed_activity(db, registry, 8, seed=11)
    second = seed_activity(db, registry, 8, seed=11)
    assert len(submitted(db)) == 16
    assert str(second) == str(first)


def test_seeding_nothing_adds_nothing(deployment: tuple[Database, Registry]) -> None:
    db, registry = deployment
    assert seed_activity(db, registry, 0).filed == 0
    with db.session(all_communes=True) as session:
        assert session.exec(select(func.count()).select_from(ServiceRequest)).one() == 0


def test_the_demo_seed_command_files_the_requests_asked_for(
    guichet_config: ConfigFolder, guichet_database_url: str
) -> None:
    from gateway.cli import main

    guichet_config.set_gateway(database={"url": guichet_database_url})
    result = CliRunner().invoke(
        main, ["--config", str(guichet_config.path), "demo", "seed", "--requests", "4", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "demo activity: 4 request(s) filed" in result.output


def test_school_registrations_are_filed_from_the_plugins_example_answers(
    seeded: tuple[Database, ActivitySummary],
) -> None:
    db, summary = seeded
    schools = [row for row in submitted(db) if row.service == "inscription-scolaire"]
    assert schools and summary.skipped_by_service["inscription-scolaire"] == 0
    assert {row.data["catchment"] for row in schools} & {"covered", "assigned"}  # addresses on the map


def test_the_summary_names_the_services_whose_requests_were_given_up() -> None:
    summary = ActivitySummary(filed=3, skipped=2, skipped_by_service=Counter({"etat-civil": 2}))
    assert str(summary).endswith("2 given up (etat-civil 2)")
