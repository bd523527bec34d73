"""``new_row`` makes the row the model's constructor makes, without its per-attribute cost."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, SQLModel, create_engine, select

from gateway.db import ALL_KEY
from gateway.models import OutboxMessage, RequestEvent, ServiceRequest
from gateway.models.new_rows import new_row

AT = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
ROWS: list[tuple[type[SQLModel], dict[str, object]]] = [
    (
        ServiceRequest,
        {"public_id": "p1", "commune": "venissieux", "service": "contact", "data": {"topic": "voirie"},
         "submission_key": "k1", "created_at": AT, "notify_email": "a@example.org"},
    ),
    (RequestEvent, {"commune": "venissieux", "request_id": 1, "at": AT, "kind": "submitted", "actor_role": "citizen"}),
    (
        OutboxMessage,
        {"kind": "receipt", "dedupe_key": "d1", "commune": "venissieux", "recipient": "a@example.org", "locale": "fr",
         "subject": "Accusé", "body": "Bonjour", "message_id": "<m@example.org>", "created_at": AT,
         "next_attempt_at": AT},
    ),
]  # fmt: skip


@pytest.mark.parametrize(("model", "values"), ROWS, ids=[model.__name__ for model, _ in ROWS])
def test_a_new_row_holds_what_the_constructor_gives(model: type[SQLModel], values: dict[str, object]) -> None:
    made, built = new_row(model, **dict(values)), model(**dict(values))
    assert made.model_dump() == built.model_dump()
    assert made.model_fields_set == built.model_fields_set


@pytest.mark.parametrize(("model", "values"), ROWS, ids=[model.__name__ for model, _ in ROWS])
def test_a_new_row_is_stored_as_the_constructors_row(model: type[SQLModel], values: dict[str, object]) -> None:
    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine, tables=[model.__table__])  # type: ignore[attr-defined]
    with Session(engine, info={ALL_KEY: True}) as session:  # the tables alone, no commune scope
        session.add(new_row(model, **dict(values)))
        session.commit()
        stored = session.exec(select(model)).one()
        expected = model(**dict(values))
        expected.id = stored.id  # type: ignore[attr-defined]
        assert stored.model_dump(exclude={"created_at", "at", "next_attempt_at"}) == expected.model_dump(
            exclude={"created_at", "at", "next_attempt_at"}
        )
    engine.dispose()


def test_each_row_gets_its_own_mutable_default() -> None:
    first = new_row(ServiceRequest, commune="a", service="s", submission_key="1")
    second = new_row(ServiceRequest, commune="a", service="s", submission_key="2")
    first.data["x"] = 1
    assert second.data == {}
    assert first.public_id != second.public_id


def test_a_change_after_creation_is_tracked_as_any_attribute_change() -> None:
    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine, tables=[ServiceRequest.__table__])  # type: ignore[attr-defined]
    with Session(engine, info={ALL_KEY: True}) as session:  # the tables alone, no commune scope
        row = new_row(ServiceRequest, commune="a", service="s", submission_key="1")
        session.add(row)
        session.flush()
        row.summary = "Voirie"
        session.commit()
        assert session.exec(select(ServiceRequest.summary)).one() == "Voirie"
    engine.dispose()


def test_a_misspelt_field_is_refused() -> None:
    with pytest.raises(TypeError, match="no field comune"):
        new_row(ServiceRequest, comune="a", service="s", submission_key="1")


def test_a_missing_required_field_is_refused() -> None:
    with pytest.raises(TypeError, match="needs commune"):
        new_row(ServiceRequest, service="s", submission_key="1")
