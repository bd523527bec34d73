"""The store: commune isolation enforced in the session layer, counters, migrations."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import SQLModel, select

from gateway.app import create_app
from gateway.db import Database, NotMigrated, TenancyError
from gateway.models import ServiceRequest
from gateway.requests.store import RequestStore
from gateway.testing import ConfigFolder


@pytest.fixture
def db(guichet_database_url: str) -> Iterator[Database]:
    database = Database(guichet_database_url)
    yield database
    database.dispose()


def add_request(db: Database, commune: str, reference: str) -> None:
    with db.session(commune=commune) as session:
        RequestStore(session).add(
            ServiceRequest(
                reference=reference,
                commune=commune,
                service="contact",
                data={"name": "Camille Exemple"},
                submission_key=f"key-{commune}-{reference}",
                created_at=datetime.now(UTC),
            )
        )


def test_a_commune_session_never_sees_another_communes_rows(db: Database) -> None:
    add_request(db, "corbas", "MSG-2026-000001")
    add_request(db, "givors", "MSG-2026-000001")
    with db.session(commune="corbas") as session:
        rows = session.exec(select(ServiceRequest)).all()
    assert [row.commune for row in rows] == ["corbas"]


def test_lookup_by_reference_stays_within_the_commune(db: Database) -> None:
    add_request(db, "givors", "MSG-2026-000009")
    with db.session(commune="corbas") as session:
        assert RequestStore(session).get("MSG-2026-000009") is None


def test_a_count_over_a_subquery_sees_only_the_communes_rows(db: Database) -> None:
    add_request(db, "corbas", "MSG-2026-000001")
    add_request(db, "givors", "MSG-2026-000001")
    add_request(db, "givors", "MSG-2026-000002")
    with db.session(commune="corbas") as session:
        counted = session.exec(select(func.count()).select_from(select(ServiceRequest).subquery())).one()
    assert counted == 1


def test_an_aliased_request_sees_only_the_communes_rows(db: Database) -> None:
    add_request(db, "corbas", "MSG-2026-000001")
    add_request(db, "givors", "MSG-2026-000002")
    other = aliased(ServiceRequest)
    with db.session(commune="corbas") as session:
        rows = session.exec(select(other)).all()
    assert [row.reference for row in rows] == ["MSG-2026-000001"]


def test_a_joined_table_is_kept_to_the_commune_too(db: Database) -> None:
    add_request(db, "corbas", "MSG-2026-000001")
    add_request(db, "givors", "MSG-2026-000001")
    other = aliased(ServiceRequest)
    with db.session(commune="corbas") as session:
        pairs = session.exec(
            select(ServiceRequest.commune, other.commune).join(other, other.reference == ServiceRequest.reference)
        ).all()
    assert [tuple(pair) for pair in pairs] == [("corbas", "corbas")]


def test_sessions_of_two_communes_taking_turns_each_see_their_own_rows(db: Database) -> None:
    """The statement compiled for one commune is reused for the next: the commune must be a value, not SQL text."""
    add_request(db, "corbas", "MSG-2026-000001")
    add_request(db, "givors", "MSG-2026-000002")
    seen = []
    for commune in ("corbas", "givors", "corbas", "givors"):
        with db.session(commune=commune) as session:
            seen.append([row.reference for row in session.exec(select(ServiceRequest)).all()])
    assert seen == [["MSG-2026-000001"], ["MSG-2026-000002"]] * 2


def test_a_subquery_from_a_session_for_no_commune_is_refused(db: Database) -> None:
    with pytest.raises(TenancyError, match="service_request"), db.session() as session:
        session.exec(select(func.count()).select_from(select(ServiceRequest).subquery())).one()


def test_query_from_a_session_for_no_commune_is_refused(db: Database) -> None:
    with pytest.raises(TenancyError), db.session() as session:
        session.exec(select(ServiceRequest)).all()


def test_writing_another_communes_row_is_refused_and_nothing_is_stored(db: Database) -> None:
    with pytest.raises(TenancyError), db.session(commune="corbas") as session:
        session.add(ServiceRequest(reference="X", commune="givors", service="contact", submission_key="k"))
    with db.session(all_communes=True) as session:
        assert session.exec(select(ServiceRequest)).all() == []


def test_inserting_another_communes_request_around_the_flush_is_refused_and_nothing_is_stored(db: Database) -> None:
    with pytest.raises(TenancyError), db.session(commune="corbas") as session:
        RequestStore(session).insert_new(
            ServiceRequest(reference="X", commune="givors", service="contact", submission_key="k")
        )
    with db.session(all_communes=True) as session:
        assert session.exec(select(ServiceRequest)).all() == []


def test_a_request_inserted_around_the_flush_is_the_stored_row_and_its_changes_are_flushed(db: Database) -> None:
    with db.session(commune="corbas") as session:
        row = ServiceRequest(reference="MSG-1", commune="corbas", service="contact", submission_key="k", data={"a": 1})
        RequestStore(session).insert_new(row)
        assert row.id is not None and session.get(ServiceRequest, row.id) is row
        row.summary = "Voirie"
    with db.session(commune="corbas") as session:
        stored = RequestStore(session).get("MSG-1")
        assert stored is not None and (stored.id, stored.summary, stored.data) == (row.id, "Voirie", {"a": 1})


def test_syndicate_wide_session_must_say_so(db: Database) -> None:
    add_request(db, "corbas", "MSG-2026-000001")
    add_request(db, "givors", "MSG-2026-000002")
    with db.session(all_communes=True) as session:
        assert len(session.exec(select(ServiceRequest)).all()) == 2


def test_sequence_counts_per_commune_prefix_and_year(db: Database) -> None:
    with db.session(commune="corbas") as session:
        store = RequestStore(session)
        taken = [store.next_sequence(prefix="MSG", year=2026) for _ in range(3)]
        other_prefix = store.next_sequence(prefix="ETC", year=2026)
        next_year = store.next_sequence(prefix="MSG", year=2027)
    with db.session(commune="givors") as session:
        other_commune = RequestStore(session).next_sequence(prefix="MSG", year=2026)
    assert (taken, other_prefix, next_year, other_commune) == ([1, 2, 3], 1, 1, 1)


def test_sequence_taken_in_a_rolled_back_transaction_is_given_again(db: Database) -> None:
    with pytest.raises(RuntimeError), db.session(commune="corbas") as session:
        RequestStore(session).next_sequence(prefix="MSG", year=2026)
        raise RuntimeError("the filing failed")
    with db.session(commune="corbas") as session:
        assert RequestStore(session).next_sequence(prefix="MSG", year=2026) == 1


def test_migrations_create_exactly_the_models_tables(db: Database) -> None:
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def test_migration_state_is_at_head_after_upgrade(db: Database) -> None:
    current, head = db.migration_state()
    assert current == head is not None


def test_gateway_refuses_to_start_on_an_unmigrated_database(config: ConfigFolder, tmp_path: Path) -> None:
    config.set_gateway(database={"url": f"sqlite:///{tmp_path / 'empty.db'}"})
    with pytest.raises(NotMigrated, match="run `guichet db upgrade`"):
        create_app(config.path)


def test_sqlite_database_runs_in_wal_mode(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'wal.db'}")
    with database.engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    database.dispose()
    assert mode == "wal"
