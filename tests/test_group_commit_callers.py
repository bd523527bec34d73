"""Group commit's callers: each answered with its own outcome, an event loop's together, a caller gone ignored."""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import event, text
from sqlmodel import Session

from gateway.db import Database
from gateway.group_commit import GroupCommit
from tests.test_group_commit import WAIT, hold


@pytest.fixture
def writer(tmp_path: object) -> Iterator[GroupCommit]:
    db = Database(f"sqlite:///{tmp_path}/callers.db")
    with db.session() as session:
        session.execute(text("CREATE TABLE note (body TEXT NOT NULL)"))
    made = GroupCommit(db)
    yield made
    made.close()
    db.dispose()


def note(body: str) -> Callable[[Session], str]:
    def work(session: Session) -> str:
        session.execute(text("INSERT INTO note (body) VALUES (:body)"), {"body": body})
        return body

    return work


def refuse(session: Session) -> None:
    session.execute(text("INSERT INTO note (body) VALUES ('refused')"))
    raise LookupError("refused")


def notes(writer: GroupCommit) -> list[str]:
    with writer.db.read_session() as session:
        return [row[0] for row in session.execute(text("SELECT body FROM note ORDER BY rowid"))]


async def _queued(writer: GroupCommit, count: int) -> None:
    for _ in range(WAIT * 100):
        if writer.waiting() == count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{count} writes never queued")


async def test_writes_of_one_event_loop_in_one_batch_each_get_their_own_outcome(writer: GroupCommit) -> None:
    release = hold(writer)
    first = asyncio.ensure_future(writer.write(None, note("first")))
    failing = asyncio.ensure_future(writer.write(None, refuse))
    second = asyncio.ensure_future(writer.write(None, note("second")))
    await _queued(writer, 3)
    release.set()
    assert await asyncio.wait_for(first, WAIT) == "first"
    with pytest.raises(LookupError, match="refused"):
        await asyncio.wait_for(failing, WAIT)
    assert await asyncio.wait_for(second, WAIT) == "second"
    assert notes(writer) == ["first", "second"]
    assert writer.stats.largest == 3 and writer.stats.failed_members == 1


async def test_a_write_whose_caller_went_away_is_stored_and_the_writer_goes_on(writer: GroupCommit) -> None:
    release = hold(writer)
    gone = asyncio.ensure_future(writer.write(None, note("caller gone")))
    await _queued(writer, 1)
    gone.cancel()
    release.set()
    assert await asyncio.wait_for(writer.write(None, note("next")), WAIT) == "next"
    assert notes(writer) == ["caller gone", "next"]


def test_a_thread_whose_future_was_cancelled_does_not_stop_the_writer(writer: GroupCommit) -> None:
    release = hold(writer)
    cancelled = writer.submit(None, note("cancelled"))
    assert cancelled.cancel()
    release.set()
    assert writer.submit(None, note("next")).result(WAIT) == "next"
    assert notes(writer) == ["cancelled", "next"]


def _statements(writer: GroupCommit) -> list[str]:
    """Every statement the writer's engine runs from now on."""
    seen: list[str] = []

    def before(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(writer.db.engine, "before_cursor_execute", before)
    return seen


def test_a_batch_whose_members_all_succeed_runs_without_savepoints(writer: GroupCommit) -> None:
    release = hold(writer)
    futures = [writer.submit(None, note(f"n{index}")) for index in range(3)]
    seen = _statements(writer)
    release.set()
    assert [future.result(WAIT) for future in futures] == ["n0", "n1", "n2"]
    assert not any("SAVEPOINT" in statement for statement in seen)
    assert writer.stats.retried == 0


def test_a_member_failing_makes_the_batch_run_again_each_member_in_a_savepoint(writer: GroupCommit) -> None:
    release = hold(writer)
    first, failing, last = (writer.submit(None, work) for work in (note("first"), refuse, note("last")))
    seen = _statements(writer)
    release.set()
    assert first.result(WAIT) == "first" and last.result(WAIT) == "last"
    assert isinstance(failing.exception(WAIT), LookupError)
    assert notes(writer) == ["first", "last"]  # each stored once, the failing member's row in neither run
    assert writer.stats.retried == 1 and writer.stats.failed_members == 1
    assert sum(statement.startswith("SAVEPOINT") for statement in seen) == 3


def test_a_batch_of_one_failing_member_is_rolled_back_without_a_second_run(writer: GroupCommit) -> None:
    assert isinstance(writer.submit(None, refuse).exception(WAIT), LookupError)
    assert notes(writer) == [] and writer.stats.retried == 0 and writer.stats.failed_members == 1


def test_the_writers_of_processes_on_one_sqlite_file_take_turns_through_a_lock_file(writer: GroupCommit) -> None:
    assert writer.turns.path is not None and writer.turns.path.endswith("callers.db-writer.lock")
    release = hold(writer)  # a batch in progress holds the turn
    other = os.open(writer.turns.path, os.O_RDWR)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        release.set()
        assert writer.submit(None, note("after")).result(WAIT) == "after"
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # between batches, nobody holds it
    finally:
        os.close(other)


def test_an_in_memory_database_has_no_turns_to_take() -> None:
    db = Database("sqlite://")
    try:
        assert GroupCommit(db).turns.path is None
    finally:
        db.dispose()
