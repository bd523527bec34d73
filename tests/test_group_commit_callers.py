"""Group commit's callers: each answered with its own outcome, an event loop's together, a caller gone ignored."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import text
from sqlmodel import Session

from gateway.db import Database
from gateway.group_commit import GroupCommit

WAIT = 30  # seconds: a bound on a hang, never a measure


@pytest.fixture
def writer(tmp_path: object) -> Iterator[GroupCommit]:
    db = Database(f"sqlite:///{tmp_path}/callers.db")
    with db.session() as session:
        session.execute(text("CREATE TABLE note (body TEXT NOT NULL)"))
    made = GroupCommit(db)
    yield made
    made.close()
    db.dispose()


def hold(writer: GroupCommit) -> threading.Event:
    """Occupy the writer with a batch that waits until the returned event is set."""
    started, release = threading.Event(), threading.Event()

    def wait(_session: Session) -> None:
        started.set()
        release.wait(WAIT)

    writer.submit(None, wait)
    assert started.wait(WAIT)
    return release


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
