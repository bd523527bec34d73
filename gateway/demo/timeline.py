"""When the demo's activity happens: requests filed over the past weeks, agents at work days later, in office hours.

``guichet demo seed --requests N`` plays its activity through the real service
layer with the core's clock set back (:func:`gateway.clock.set_back`), one
moment after the other in time order, so that the audit log's times follow
its sequence and the agents' queue shows real ages (« Âge (jours) »).
Citizens file at any time of the day between 7:00 and 22:00, on any day;
agents work on weekdays between 8:30 and 17:30, Paris time, which leaves the
demo's planted out-of-hours access (:mod:`gateway.demo.anomalies`) alone
outside them.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
#: how far back the first demo requests are filed
WEEKS = 6
#: the agents' working hours in Paris, on weekdays (Monday 0 to Friday 4)
WORK_START, WORK_END = time(8, 30), time(17, 30)
#: after filing, the first look of an agent comes this many working days later (drawn)
FIRST_LOOK_DAYS = (1, 6)


def filing_times(rng: random.Random, count: int, until: datetime, *, weeks: int = WEEKS) -> list[datetime]:
    """``count`` moments spread over the ``weeks`` before ``until``, between 7:00 and 22:00 in Paris, in order."""
    first_day = (until.astimezone(PARIS) - timedelta(weeks=weeks)).date()
    days = (until.astimezone(PARIS).date() - first_day).days + 1
    moments = []
    for _ in range(count):
        day = first_day + timedelta(days=rng.randrange(days))
        minute = rng.randrange(7 * 60, 22 * 60)
        local = datetime.combine(day, time(minute // 60, minute % 60, rng.randrange(60)), PARIS)
        moments.append(min(local.astimezone(UTC), until))
    return sorted(moments)


def in_working_hours(moment: datetime) -> bool:
    """Whether an agent at work in Paris could act at ``moment`` (a weekday, 8:30 to 17:30)."""
    local = moment.astimezone(PARIS)
    return local.weekday() < 5 and WORK_START <= local.time() < WORK_END


def working_moment(rng: random.Random, after: datetime, working_days: int) -> datetime:
    """A moment in working hours, ``working_days`` weekdays after the day of ``after``."""
    day = after.astimezone(PARIS).date()
    left = working_days
    while left > 0:
        day += timedelta(days=1)
        left -= day.weekday() < 5
    start = WORK_START.hour * 60 + WORK_START.minute
    minute = rng.randrange(start, WORK_END.hour * 60 + WORK_END.minute)
    return datetime.combine(day, time(minute // 60, minute % 60, rng.randrange(60)), PARIS).astimezone(UTC)


def first_look(rng: random.Random, filed_at: datetime) -> datetime:
    """When an agent first opens a request filed at ``filed_at``: a few working days later."""
    return working_moment(rng, filed_at, rng.randint(*FIRST_LOOK_DAYS))
