"""The core's clock: now in UTC, which the demo can set back to play past weeks' activity through the real code.

Everything that stamps a time the service layer, the audit log and the outbox
store (a request's dates, its history, an audit entry, a mail) asks
:func:`now`. In normal use it is the system clock. :func:`set_back` moves it,
for the current thread only and while its block runs, to a moment in the past
from which it goes on ticking: ``guichet demo seed --requests`` files requests
weeks ago and lets agents work on them days later, so the demo's dates, ages
and audit log look like real use (:mod:`gateway.demo.activity`). The server's
threads never enter such a block, and a moment in the future is refused: no
entry may be stamped later than it was written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

#: how far behind the system clock the current thread's clock runs (none: the system clock)
_behind: ContextVar[timedelta | None] = ContextVar("guichet_clock_behind", default=None)


def now() -> datetime:
    """The current moment in UTC (set back inside :func:`set_back`)."""
    behind = _behind.get()
    moment = datetime.now(UTC)
    return moment if behind is None else moment - behind


@contextmanager
def set_back(moment: datetime) -> Iterator[datetime]:
    """Run the block with the clock at ``moment`` (aware, not in the future), ticking on from there."""
    if moment.tzinfo is None:
        raise ValueError("set_back needs an aware datetime")
    behind = datetime.now(UTC) - moment
    if behind < timedelta(0):
        raise ValueError(f"the clock cannot be set forward ({moment.isoformat()} is in the future)")
    token = _behind.set(behind)
    try:
        yield moment
    finally:
        _behind.reset(token)


def advance(delta: timedelta) -> None:
    """Inside :func:`set_back`, move the clock on by ``delta`` (never past the system clock); elsewhere, refused."""
    behind = _behind.get()
    if behind is None:
        raise RuntimeError("only a clock set back can be moved on")
    _behind.set(max(behind - delta, timedelta(0)))
