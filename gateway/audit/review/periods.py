"""The week a review covers: an ISO week (``2026-W48``), Monday 00:00 to Monday 00:00 in Europe/Paris.

A review is weekly so a finding keeps its name (its week and its key) and the
auditor's mark stays on it whenever the review is drawn again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from gateway.settings.audit_review import TIMEZONE

PARIS = ZoneInfo(TIMEZONE)
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class BadWeek(ValueError):
    """Not a week the review can cover; the message says the expected form."""


@dataclass(frozen=True, order=True)
class Week:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Week:
        found = _WEEK.match(text.strip())
        if not found:
            raise BadWeek("expected an ISO week such as 2026-W48")
        year, number = int(found.group(1)), int(found.group(2))
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError:
            raise BadWeek(f"{year} has no week {number}") from None
        if not 2000 <= year <= 2999:
            raise BadWeek("expected a week of the years 2000 to 2999")
        return cls(year, number)

    @classmethod
    def containing(cls, moment: datetime) -> Week:
        year, number, _ = moment.astimezone(PARIS).isocalendar()
        return cls(year, number)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def start(self) -> datetime:
        """The week's first instant, in UTC."""
        return _paris_midnight(self.monday)

    @property
    def end(self) -> datetime:
        """The next week's first instant, in UTC (excluded)."""
        return _paris_midnight(self.monday + timedelta(days=7))

    def shifted(self, weeks: int) -> Week:
        year, number, _ = (self.monday + timedelta(weeks=weeks)).isocalendar()
        return Week(year, number)


def _paris_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=PARIS).astimezone(UTC)


def paris(moment: datetime) -> datetime:
    """``moment`` (UTC, or naive UTC as SQLite returns it) in Europe/Paris."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PARIS)
