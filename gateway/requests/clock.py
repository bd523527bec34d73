"""Time as the service layer reads and writes it: now in UTC, stored times made aware, deadlines in days.

``now`` is the core's clock (:mod:`gateway.clock`), which the demo sets back to play past activity.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway import clock


def now() -> datetime:
    return clock.now()


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes for stored UTC times."""
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def days_from(moment: datetime, days: int) -> datetime:
    return moment + timedelta(days=days)
