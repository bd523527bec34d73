"""Dates and times as people in the communes read them: Paris time, in the page's language, one style per language.

« 3 décembre 2026 » and « 3 December 2026 » (never "December 3, 2026" on one
page and "3 December 2026" on the next), « 3 décembre 2026 à 14:05 » and
"3 December 2026, 14:05"; a short form for tables. The audit console keeps
UTC to the second, as its entries are sealed, in the same words (:func:`utc_exact`).
Every page formats dates here, and templates through the filters :func:`install` adds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

PARIS = ZoneInfo("Europe/Paris")

_DAY = "d MMMM y"
_SHORT_DAY = "d MMM y"
_WHEN = {"fr": "d MMMM y 'à' HH:mm", "en": "d MMMM y, HH:mm"}
_EXACT = {"fr": "d MMM y 'à' HH:mm:ss", "en": "d MMM y, HH:mm:ss"}


def _paris(moment: datetime) -> datetime:
    """A stored time (naive ones are UTC) in Paris time."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(PARIS)


def day(moment: datetime | date | None, locale: str) -> str:
    """« 3 décembre 2026 »: a stored time's day in Paris, or a calendar date as it is; "" for none."""
    if moment is None:
        return ""
    shown = _paris(moment).date() if isinstance(moment, datetime) else moment
    return format_date(shown, _DAY, locale=locale)


def short_day(moment: datetime | date | None, locale: str) -> str:
    """« 3 déc. 2026 », for tables."""
    if moment is None:
        return ""
    shown = _paris(moment).date() if isinstance(moment, datetime) else moment
    return format_date(shown, _SHORT_DAY, locale=locale)


def when(moment: datetime | None, locale: str) -> str:
    """« 3 décembre 2026 à 14:05 », Paris time."""
    if moment is None:
        return ""
    return format_datetime(_paris(moment), _WHEN.get(locale, _WHEN["en"]), locale=locale)


def utc_exact(moment: datetime | None, locale: str) -> str:
    """« 3 déc. 2026 à 14:05:07 », UTC to the second: an audit entry's time as sealed (pages say "(UTC)")."""
    if moment is None:
        return ""
    utc = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    return format_datetime(utc, _EXACT.get(locale, _EXACT["en"]), tzinfo=UTC, locale=locale)


def calendar_day(text: str, locale: str) -> str:
    """A date a form holds (``1985-03-14``) in words; the text itself when it is not a date."""
    try:
        return day(date.fromisoformat(text), locale)
    except ValueError:
        return text


def install(env: Environment) -> None:
    """The filters ``day``, ``short_day``, ``when`` and ``utc_exact``, in the rendering page's language."""

    def filtered(format_one: object) -> object:
        @pass_context
        def apply(context: Context, moment: datetime | None) -> str:
            return format_one(moment, context.get("locale", "fr"))  # type: ignore[operator,no-any-return]

        return apply

    env.filters["day"] = filtered(day)
    env.filters["short_day"] = filtered(short_day)
    env.filters["when"] = filtered(when)
    env.filters["utc_exact"] = filtered(utc_exact)
