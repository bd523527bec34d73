"""Group commit: the writes that arrive together, applied in one transaction by one writer per process.

Every write transaction takes one lock (SQLite's write lock at ``BEGIN
IMMEDIATE``; the audit log's advisory lock on PostgreSQL), so concurrent
filings used to queue for it one by one, each paying its own BEGIN, commit
and audit append. Here a filing hands its database work to the process's
:class:`GroupCommit`; one thread takes whatever work has arrived, runs it in
one transaction and commits
once, with one audit append for every surviving member (the commit hooks of
:mod:`gateway.db` run once, at that commit). Members run without savepoints
first (a savepoint is two statements, on PostgreSQL two round trips, per
member); when one fails, that run is rolled back and the batch runs again,
each member in a savepoint (so a member's work may run twice: see :meth:`GroupCommit.submit`).

Each member keeps its own outcome:

- a member that raises (a validation the store makes, a duplicate submission
  key, a plugin's failure, a filing limit) is rolled back to its savepoint,
  with the audit events it queued (:func:`gateway.db.savepoint`), in the
  batch's second run; its caller gets its exception, the other members go on;
- no member is answered before the batch's COMMIT returned: a failed BEGIN or
  COMMIT fails every member with that error (the pages and API answer 503),
  and nothing of the batch is stored;
- each member runs in its own commune's scope (the session's tenancy filter is
  switched between members, after the previous one was flushed).

Batches of several processes against one database follow each other. On
SQLite the writers take turns through a lock file beside the database
(``<file>-writer.lock``, :class:`WriterTurns`): a writer waiting for its turn
is woken by the kernel when the other's batch ends, where SQLite's busy
handler would poll with sleeps of up to 100 ms, in no order; ``BEGIN
IMMEDIATE`` still serialises them with every other writer. On PostgreSQL each
batch first takes an advisory lock of its own, so two batches never wait on
each other's rows in opposite orders (a deadlock). Observable through
:attr:`GroupCommit.stats`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, InvalidStateError
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from gateway.db import BATCH_KEY, CONNECTION_KEY, SCOPE_KEY, Database, savepoint
from gateway.observability import metrics

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover  (Windows: SQLite's own lock alone)
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")
#: the most members one transaction takes (more wait for the next batch)
MAX_BATCH = 64
#: seconds the writer thread waits for work before it stops (it starts again with the next write)
IDLE_SECONDS = 5.0
#: pg_advisory_xact_lock key: "guichet batch" as a 64-bit integer, distinct from the audit log's
BATCH_LOCK_KEY = 0x6775696368626174

logger = logging.getLogger(__name__)
#: a member's database work: runs in the batch's session, in its commune's scope, inside a savepoint
Work = Callable[[Session], T]


@dataclass
class Stats:
    """What the writer did since it was made: batches committed or failed, members kept or rolled back."""

    batches: int = 0
    failed_batches: int = 0
    members: int = 0
    failed_members: int = 0
    largest: int = 0
    #: batches run again with a savepoint per member, after a member failed in the first run
    retried: int = 0


class _Abandoned(Exception):
    """A member failed in a batch run without savepoints: raised through the transaction, which is rolled back."""


@dataclass
class _Member:
    commune: str | None
    work: Work[Any]
    #: a thread's caller waits on ``future``; an event loop's on ``waiter``, settled in that loop
    future: Future[Any] | None = None
    waiter: asyncio.Future[Any] | None = None
    loop: asyncio.AbstractEventLoop | None = None

    def settle(self, kept: bool, value: Any) -> None:
        """Answer a thread's caller (an event loop's callers are answered by :func:`_settle_in_loop`)."""
        assert self.future is not None
        with suppress(InvalidStateError):  # its caller cancelled it: the batch still stored what it stored
            _resolve(self.future, kept, value)


def _settle_in_loop(settled: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    """Answer, in their event loop, the callers waiting there on members of one batch (one wake-up for them all)."""
    for waiter, kept, value in settled:
        if not waiter.cancelled():  # else its caller went away: the batch still stored what it stored
            _resolve(waiter, kept, value)


def _resolve(future: Future[Any] | asyncio.Future[Any], kept: bool, value: Any) -> None:
    """A member's outcome on the future its caller waits on: what its work returned, or what it raised."""
    if kept:
        future.set_result(value)
    else:
        future.set_exception(value)


class WriterTurns:
    """The turns the writers of several processes take on one SQLite file: an exclusive ``flock`` on a lock file.

    Nothing where there is no file (an in-memory database), no ``flock``
    (Windows) or another database: there SQLite's own lock, or PostgreSQL's
    advisory lock, is all there is.
    """

    def __init__(self, db: Database) -> None:
        url = make_url(db.url)
        on_file = url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:"
        #: the lock file, or None: no turns to take
        self.path = f"{url.database}-writer.lock" if on_file and fcntl is not None else None

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this process's turn, hold it for the block (the file is opened for the turn: nothing stays open)."""
        if self.path is None or fcntl is None:
            yield
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # lets the lock go


class GroupCommit:
    """One process's writer: a queue of work, applied a batch per transaction by one thread."""

    def __init__(self, db: Database, *, max_batch: int = MAX_BATCH, idle_seconds: float = IDLE_SECONDS) -> None:
        self.db = db
        self.max_batch = max_batch
        self.idle_seconds = idle_seconds
        self.stats = Stats()
        self._queue: queue.SimpleQueue[_Member | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.turns = WriterTurns(db)

    def submit(self, commune: str | None, work: Work[T]) -> Future[T]:
        """Queue ``work`` for the next batch; its future settles once that batch committed (or failed).

        ``work`` may run twice: when another member of its batch fails, the
        batch is rolled back and run again, each member in a savepoint. It
        must start from its inputs each time, never from what a first run
        left in them (its first run's database work is rolled back).
        """
        future: Future[T] = Future()
        self._put(_Member(commune, work, future=future))
        return future

    async def write(self, commune: str | None, work: Work[T]) -> T:
        """Run ``work`` in the next batch, for ``commune``; returns what it returned, or raises what it raised.

        The callers of one event loop whose work shared a batch are answered
        together, with one wake-up of the loop rather than one each.
        """
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[T] = loop.create_future()
        self._put(_Member(commune, work, waiter=waiter, loop=loop))
        return await waiter

    def _put(self, member: _Member) -> None:
        with self._lock:  # the thread checks for an empty queue under the same lock before it stops
            self._queue.put(member)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="guichet-group-commit", daemon=True)
                self._thread.start()

    def waiting(self) -> int:
        """How many writes wait for the next batch (approximately: others may be arriving)."""
        return self._queue.qsize()

    def close(self) -> None:
        """Apply what was queued, then stop the thread (a later write starts it again)."""
        with self._lock:
            thread = self._thread
            if thread is not None:
                self._queue.put(None)
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self.idle_seconds)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            batch, stop = self._gather(first)
            if batch:
                self._apply(batch)
            if stop:
                with self._lock:
                    self._thread = None
                return

    def _gather(self, first: _Member | None) -> tuple[list[_Member], bool]:
        """The members that have arrived (up to ``max_batch``), and whether a stop was asked among them."""
        if first is None:
            return [], True
        batch = [first]
        while len(batch) < self.max_batch:
            try:
                member = self._queue.get_nowait()
            except queue.Empty:
                break
            if member is None:
                return batch, True
            batch.append(member)
        return batch, False

    def _apply(self, batch: list[_Member]) -> None:
        """One transaction for the batch; the futures settle only after it committed or failed.

        The members run one after the other without savepoints (two statements
        each, and on PostgreSQL two round trips); when one fails, that
        transaction is rolled back and the batch runs again with each member
        in a savepoint of its own, so the failure is that member's alone.
        """
        try:
            outcomes = self._attempt(batch, savepoints=False)
            if outcomes is None:
                self.stats.retried += 1
                outcomes = self._attempt(batch, savepoints=True)
                assert outcomes is not None  # with savepoints, every member has its outcome
        except Exception as error:  # BEGIN or COMMIT (audit append included) failed: nothing of the batch stored
            self.stats.failed_batches += 1
            metrics.FAILED_BATCHES.inc()
            logger.warning("a batch of %d writes failed: %s", len(batch), error.__class__.__name__)
            self._answer(batch, [(False, error)] * len(batch))
            return
        failed = sum(1 for kept, _ in outcomes if not kept)
        self.stats.batches += 1
        self.stats.members += len(batch) - failed
        self.stats.failed_members += failed
        self.stats.largest = max(self.stats.largest, len(batch))
        metrics.WRITE_BATCH.observe(len(batch))
        self._answer(batch, outcomes)

    def _attempt(self, batch: list[_Member], *, savepoints: bool) -> list[tuple[bool, Any]] | None:
        """Run the batch in one transaction: each member's outcome, or None when a member failed without savepoints.

        A batch of one needs no savepoint: its failure rolls back its own
        transaction, which is the outcome it would have had in a savepoint.
        """
        outcomes: list[tuple[bool, Any]] = []
        try:
            with self.turns.turn(), self.db.session() as session:
                session.info[BATCH_KEY] = True
                session.info[CONNECTION_KEY] = session.connection()  # BEGIN: the lock is taken here
                if session.get_bind().dialect.name == "postgresql":
                    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": BATCH_LOCK_KEY})
                for member in batch:
                    session.info[SCOPE_KEY] = member.commune  # the previous member's rows were flushed in its scope
                    if savepoints:
                        try:
                            with savepoint(session):
                                outcomes.append((True, member.work(session)))
                        except Exception as error:  # this member's outcome; the others go on
                            outcomes.append((False, error))
                        continue
                    try:
                        value = member.work(session)
                        session.flush()
                    except Exception as error:
                        outcomes.append((False, error))
                        raise _Abandoned from error
                    outcomes.append((True, value))
                session.info[SCOPE_KEY] = None
        except _Abandoned:  # rolled back
            return outcomes if len(batch) == 1 else None
        return outcomes

    @staticmethod
    def _answer(batch: list[_Member], outcomes: list[tuple[bool, Any]]) -> None:
        """Each member's outcome to its caller: threads directly, each event loop once for all of its callers."""
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
        for member, (kept, value) in zip(batch, outcomes, strict=True):
            if member.loop is None:
                member.settle(kept, value)
            else:
                assert member.waiter is not None
                by_loop.setdefault(member.loop, []).append((member.waiter, kept, value))
        for loop, settled in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle_in_loop, settled)
            except RuntimeError:  # the loop closed meanwhile: nobody is waiting there any more
                logger.warning("%d writes were stored for an event loop that has closed", len(settled))
