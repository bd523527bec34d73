"""A commune's settings for the periodic review of its audit log (``[audit_review]`` in ``communes/<slug>.toml``).

The review (:mod:`gateway.audit.review`) points the auditor at what deserves
a look; what counts as unusual is the commune's to say: its working hours,
as days and times (Europe/Paris), not the free-text ``contact.opening_hours``
citizens read, and the thresholds of each kind of finding. Every value has
a default, so a commune file without the section gets a sensible review.
"""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import Field, field_validator, model_validator

from gateway.settings.base import Strict

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: the working hours' time zone: every commune of the syndicate is in metropolitan France
TIMEZONE = "Europe/Paris"


class WorkingSpan(Strict):
    """Days, and the hours of those days when staff work: ``{ days = ["mon"], start = "08:00", end = "18:00" }``."""

    days: tuple[Weekday, ...] = Field(min_length=1)
    start: time
    end: time

    @field_validator("start", "end", mode="before")
    @classmethod
    def _hours_and_minutes(cls, value: object) -> object:
        if isinstance(value, str) and not (len(value) == 5 and value[2] == ":"):
            raise ValueError("expected a time as HH:MM, e.g. 08:30")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> WorkingSpan:
        if self.start >= self.end:
            raise ValueError("a working span must end after it starts (start < end, the same day)")
        return self

    def covers(self, weekday: int, moment: time) -> bool:
        """Whether ``moment`` on ``weekday`` (0: Monday) falls in this span (start included, end excluded)."""
        return WEEKDAYS[weekday] in self.days and self.start <= moment < self.end


DEFAULT_HOURS = (
    WorkingSpan(days=("mon", "tue", "wed", "thu", "fri"), start=time(7, 30), end=time(19, 30)),
    WorkingSpan(days=("sat",), start=time(8, 0), end=time(13, 0)),
)


class AuditReviewSettings(Strict):
    """What the weekly review of the audit log counts as worth a look in this commune."""

    #: when staff work (Europe/Paris); an access to personal data outside these spans is a finding
    working_hours: tuple[WorkingSpan, ...] = Field(default=DEFAULT_HOURS, min_length=1)
    #: an agent's week is unusual when it holds this many times their usual (or their peers') accesses...
    volume_factor: float = Field(default=3.0, ge=1.5, le=100)
    #: ... and at least this many accesses (a quiet agent's ten accesses are not a finding)
    volume_min_accesses: int = Field(default=40, ge=1, le=1_000_000)
    #: an agent's usual: their weekly average over this many weeks before the one reviewed
    baseline_weeks: int = Field(default=4, ge=1, le=26)
    #: a burst of denials: this many refusals to one caller...
    denial_burst_count: int = Field(default=5, ge=2, le=10_000)
    #: ... within this many minutes
    denial_burst_minutes: int = Field(default=10, ge=1, le=1440)
    #: one person's data opened by at least this many different agents in the week
    agents_per_person: int = Field(default=4, ge=2, le=1000)
