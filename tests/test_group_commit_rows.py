"""A batch's history lines and receipts, inserted at its commit: what a member queued lives and dies with it.

The writer is held by a waiting batch (:func:`tests.test_group_commit.hold`),
so the filings submitted meanwhile share the next transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, col, select

from gateway.batch_rows import add_at_commit
from gateway.db import TenancyError
from gateway.group_commit import GroupCommit
from gateway.models import OutboxMessage, RequestEvent
from gateway.requests.errors import ServiceUnavailable
from gateway.requests.filing import Filed, Prepared, store
from gateway.testing import ConfigFolder
from tests.lifecycle_desk import Desk, enable
from tests.plugins.lifecycle_service import UNFILEABLE_PLATE
from tests.test_group_commit import WAIT, anonymous, appointment, filing, hold, outcome_of, prepared

MOMENT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def desk(guichet_config: ConfigFolder, guichet_database_url: str) -> Iterator[Desk]:
    enable(guichet_config)
    opened = Desk(guichet_config, guichet_database_url)
    yield opened
    opened.close()


@pytest.fixture
def writer(desk: Desk) -> Iterator[GroupCommit]:
    made = GroupCommit(desk.db)
    yield made
    made.close()


def history(desk: Desk) -> list[RequestEvent]:
    with desk.db.read_session(all_communes=True) as session:
        return list(session.exec(select(RequestEvent).order_by(col(RequestEvent.id))).all())


def outbox(desk: Desk) -> list[OutboxMessage]:
    with desk.db.read_session(all_communes=True) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all())


def submit(writer: GroupCommit, desk: Desk, made: Prepared) -> Filed:
    return writer.submit("venissieux", functools.partial(store, registry=desk.registry, prepared=made)).result(WAIT)


def line(commune: str, request_id: int, **values: object) -> RequestEvent:
    return RequestEvent(commune=commune, request_id=request_id, at=MOMENT, kind="note", actor_role="agent", **values)


def test_a_rolled_back_member_leaves_no_history_line_the_kept_ones_leave_theirs(
    desk: Desk, writer: GroupCommit
) -> None:
    owner = desk.citizen()
    release = hold(writer)
    futures = [filing(desk, writer, owner, plate=plate) for plate in ("AB-1", f"{UNFILEABLE_PLATE}-2", "AB-3")]
    release.set()
    outcomes = [outcome_of(future) for future in futures]
    assert isinstance(outcomes[1], ServiceUnavailable)
    kept = [outcome.request.id for outcome in outcomes if isinstance(outcome, Filed) and outcome.request]
    assert [(event.request_id, event.kind, event.to_status) for event in history(desk)] == [
        (request_id, "submitted", "submitted") for request_id in kept
    ]


def test_the_receipts_of_one_batch_are_all_stored_each_with_its_request(desk: Desk, writer: GroupCommit) -> None:
    release = hold(writer)
    made = [appointment(desk, f"personne{index}@example.org") for index in range(3)]
    futures = [writer.submit("venissieux", functools.partial(store, registry=desk.registry, prepared=one))
               for one in made]  # fmt: skip
    release.set()
    filed = [future.result(WAIT) for future in futures]
    assert [(message.recipient, message.dedupe_key) for message in outbox(desk)] == [
        (one.row.notify_email, f"request:{outcome.request.public_id}:receipt")
        for one, outcome in zip(made, filed, strict=True)
        if outcome.request is not None
    ]


def test_a_row_of_another_commune_is_refused_when_queued_and_only_its_member_rolls_back(
    desk: Desk, writer: GroupCommit
) -> None:
    kept = submit(writer, desk, prepared(desk, anonymous())).request
    assert kept is not None and kept.id is not None
    request_id = kept.id

    def foreign(session: Session) -> None:
        add_at_commit(session, line("autreville", request_id))

    release = hold(writer)
    refused = writer.submit("venissieux", foreign)
    fine = writer.submit("venissieux", lambda session: add_at_commit(session, line("venissieux", request_id)))
    release.set()
    assert isinstance(refused.exception(WAIT), TenancyError)
    assert fine.result(WAIT) is True
    assert [(event.commune, event.kind) for event in history(desk)] == [
        ("venissieux", "submitted"),
        ("venissieux", "note"),
    ]


def test_a_value_longer_than_its_column_is_refused_when_queued(desk: Desk, writer: GroupCommit) -> None:
    kept = submit(writer, desk, prepared(desk, anonymous())).request
    assert kept is not None and kept.id is not None
    too_long = line("venissieux", kept.id, reason="x" * 61)
    refused = writer.submit("venissieux", lambda session: add_at_commit(session, too_long))
    assert isinstance(refused.exception(WAIT), ValueError)
    assert [event.kind for event in history(desk)] == ["submitted"]


def test_outside_a_batch_the_row_is_added_to_the_session(desk: Desk, writer: GroupCommit) -> None:
    kept = submit(writer, desk, prepared(desk, anonymous())).request
    assert kept is not None and kept.id is not None
    note = line("venissieux", kept.id)
    with desk.db.session(commune="venissieux") as session:
        assert add_at_commit(session, note) is False
        session.flush()
        assert note.id is not None
    assert [event.kind for event in history(desk)] == ["submitted", "note"]
