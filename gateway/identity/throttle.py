"""Throttles with their counters in the database, so they hold across every gateway process.

Sign-in and second-factor attempts: counters are kept per account and per
client address. After ``LIMIT`` failures within ``WINDOW`` the key is locked
for a delay that doubles with each further lock-out (capped), and the person
is told how long to wait. Keys look like ``account:staff:12`` or
``address:192.0.2.7``; wrong codes typed on the public document check count under
``document-check:<origin>``, follow links that lead nowhere under ``follow-link:<origin>``.

Rates (:func:`take`): a fixed window per key, counted with one upsert, so two
processes counting the same key at once never both start it — anonymous
filings per origin and receipts to unverified addresses use it
(:mod:`gateway.requests.abuse`), with keys of their own prefixes in the same
table. :func:`prune` drops the rows whose window and lock are long over.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Insert, bindparam, case, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, delete, or_, select

from gateway.db import connection_of, count_in_batch, on_commit, uses_to_add
from gateway.models import LoginThrottle
from gateway.observability import metrics
from gateway.services import Localized

#: failures allowed per window: few per account, more per address (a town hall's counter shares one)
LIMITS = {"account": 5, "address": 30, "document-check": 20, "follow-link": 20}
WINDOW = timedelta(minutes=15)
#: the kind of pending work (:func:`gateway.db.pending_work`) holding a batch's uses of rate keys
USES_KIND = "throttle uses"
FIRST_LOCK = timedelta(minutes=1)
MAX_LOCK = timedelta(hours=1)


@dataclass(frozen=True)
class Locked:
    key: str
    until: datetime

    def wait_seconds(self, now: datetime) -> int:
        return max(1, int((self.until - now).total_seconds() + 0.999))

    def message(self, now: datetime | None = None) -> Localized:
        """What the person is told: how long to wait, in minutes."""
        minutes = max(1, round(self.wait_seconds(now or datetime.now(UTC)) / 60))
        plural = "s" if minutes > 1 else ""
        return Localized(
            f"Trop d'essais infructueux. Réessayez dans {minutes} minute{plural}.",
            f"Too many failed attempts. Try again in {minutes} minute{plural}.",
        )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check(session: Session, keys: list[str], *, now: datetime | None = None) -> Locked | None:
    """The lock that applies to any of ``keys``, if one does."""
    now = now or datetime.now(UTC)
    for key in keys:
        row = session.get(LoginThrottle, key, with_for_update=True)
        if row is not None and row.locked_until is not None and _aware(row.locked_until) > now:
            return Locked(key, _aware(row.locked_until))
    return None


def fail(session: Session, keys: list[str], *, now: datetime | None = None) -> Locked | None:
    """Count a failure on every key; return the lock it caused, if any."""
    now = now or datetime.now(UTC)
    metrics.sign_in_failed(keys)
    caused = None
    for key in keys:
        row = session.get(LoginThrottle, key, with_for_update=True)
        if row is None:
            row = LoginThrottle(key=key, failures=0, window_started_at=now)
        if now - _aware(row.window_started_at) > WINDOW and not _locked(row, now):
            row.failures, row.window_started_at = 0, now
        row.failures += 1
        limit = LIMITS.get(key.split(":", 1)[0], LIMITS["account"])
        if row.failures >= limit:
            lock = min(FIRST_LOCK * 2 ** (row.failures - limit), MAX_LOCK)
            row.locked_until = now + lock
            caused = Locked(key, row.locked_until)
            metrics.locked_out(key)
        session.add(row)
    session.flush()
    return caused


def succeed(session: Session, keys: list[str]) -> None:
    """A successful sign-in clears the account's counter (not the address's: others may share it)."""
    for key in keys:
        if key.startswith("account:"):
            row = session.get(LoginThrottle, key)
            if row is not None:
                session.delete(row)


def _locked(row: LoginThrottle, now: datetime) -> bool:
    return row.locked_until is not None and _aware(row.locked_until) > now


def take(session: Session, key: str, *, limit: int, window: timedelta, now: datetime | None = None) -> Locked | None:
    """Count one use of ``key`` in its current window; past ``limit`` uses, the lock lasting to the window's end.

    The window opens at the key's first use and lasts ``window``; the next use
    after it opens a new one. Counted in the caller's transaction: rolled back
    with it (a refused filing is not counted).
    """
    now = now or datetime.now(UTC)
    upsert = _counting(session.get_bind().dialect.name)
    params = {"throttle_key": key, "at": now, "opened_before": now - window}

    def counted() -> tuple[int, datetime]:
        found, started = connection_of(session).execute(upsert, params).one()
        return int(found), started

    count, opened = count_in_batch(session, USES_KIND, key, counted)
    if count <= limit:
        return None
    return Locked(key, _aware(opened) + window)


@on_commit
def add_batched_uses(session: Session) -> None:
    """Write the uses a batch counted without writing (:func:`gateway.db.count_in_batch`): one UPDATE per key."""
    rows = [{"throttle_key": key, "added": added} for key, added in sorted(uses_to_add(session, USES_KIND).items())]
    if rows:
        connection_of(session).execute(_ADD_USES, rows)


_THROTTLES = LoginThrottle.__table__  # type: ignore[attr-defined]
#: built once: a statement built per commit cost more than running it
_ADD_USES = (
    update(_THROTTLES)
    .where(_THROTTLES.c.key == bindparam("throttle_key"))
    .values(failures=_THROTTLES.c.failures + bindparam("added"))
)


@functools.cache
def _counting(dialect: str) -> Insert:
    """The upsert :func:`take` runs, built once per dialect: its construction cost more than running it.

    A Core statement on the table (not the ORM entity), so the ORM's bulk-insert machinery is skipped too.
    """
    table = LoginThrottle.__table__  # type: ignore[attr-defined]
    started, used = table.c.window_started_at, table.c.failures
    at = bindparam("at", type_=started.type)
    expired = started <= bindparam("opened_before", type_=started.type)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement: Insert = (
        insert(table)
        .values(key=bindparam("throttle_key"), failures=1, window_started_at=at, locked_until=None)
        .on_conflict_do_update(
            index_elements=["key"],
            set_={
                "failures": case((expired, 1), else_=used + 1),
                "window_started_at": case((expired, at), else_=started),
            },
        )
        .returning(used, started)
    )
    return statement


def prune(session: Session, *, before: datetime, dry_run: bool = False) -> int:
    """Delete the counters whose window started before ``before`` and that hold no lock past it; how many (would) go.

    They count nothing any more, and a key may name a client address: kept no longer than it serves.
    """
    stale = (col(LoginThrottle.window_started_at) < before) & or_(
        col(LoginThrottle.locked_until).is_(None), col(LoginThrottle.locked_until) < before
    )
    found = len(session.exec(select(LoginThrottle.key).where(stale)).all())
    if found and not dry_run:
        session.exec(delete(LoginThrottle).where(stale))
    return found
