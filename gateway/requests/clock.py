"""Time as the service layer reads and writes it: now in UTC, stored times made aware, deadlines in days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def now() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes for stored UTC times."""
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def days_from(moment: datetime, days: int) -> datetime:
    return moment + timedelta(days=days)
