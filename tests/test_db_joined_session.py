"""A session joined to another commune's transaction (gateway.db.joined_session): the one way a write crosses communes.

Each side keeps its own commune filter; both commit together or neither does.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from gateway.db import Database, ReadOnlySession, TenancyError, joined_session
from gateway.models import ServiceRequest


@pytest.fixture
def db(guichet_database_url: str) -> Iterator[Database]:
    database = Database(guichet_database_url)
    yield database
    database.dispose()


def request_of(commune: str, reference: str) -> ServiceRequest:
    return ServiceRequest(
        reference=reference,
        commune=commune,
        service="contact",
        data={},
        submission_key=f"key-{commune}-{reference}",
        created_at=datetime.now(UTC),
    )


def references(db: Database, commune: str) -> list[str | None]:
    with db.session(commune=commune) as session:
        return [row.reference for row in session.exec(select(ServiceRequest)).all()]


def test_both_communes_rows_commit_together(db: Database) -> None:
    with db.session(commune="corbas") as session:
        session.add(request_of("corbas", "A-1"))
        with joined_session(session, commune="givors") as other:
            other.add(request_of("givors", "B-1"))
    assert references(db, "corbas") == ["A-1"] and references(db, "givors") == ["B-1"]


def test_a_failure_after_the_joined_block_keeps_neither_side(db: Database) -> None:
    with pytest.raises(RuntimeError), db.session(commune="corbas") as session:
        session.add(request_of("corbas", "A-1"))
        with joined_session(session, commune="givors") as other:
            other.add(request_of("givors", "B-1"))
        raise RuntimeError("the outer action fails")
    assert references(db, "corbas") == [] and references(db, "givors") == []


def test_the_joined_session_sees_only_its_own_communes_rows(db: Database) -> None:
    with db.session(commune="corbas") as session:
        session.add(request_of("corbas", "A-1"))
        session.flush()
        with joined_session(session, commune="givors") as other:
            assert other.exec(select(ServiceRequest)).all() == []


def test_the_joined_session_refuses_a_third_communes_row(db: Database) -> None:
    with (
        pytest.raises(TenancyError),
        db.session(commune="corbas") as session,
        joined_session(session, commune="givors") as other,
    ):
        other.add(request_of("grigny", "C-1"))
        other.flush()
    assert references(db, "grigny") == []


def test_a_read_session_cannot_be_joined(db: Database) -> None:
    with (
        db.read_session(commune="corbas") as session,
        pytest.raises(ReadOnlySession),
        joined_session(session, commune="givors"),
    ):
        pass
