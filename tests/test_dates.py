"""Dates on pages: Paris time, in the page's language, one style per language (gateway/web/dates.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from gateway.services import FormField, Localized
from gateway.web.dates import calendar_day, day, short_day, utc_exact, when
from gateway.web.form_values import answer_text

LATE_EVENING_UTC = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)


def test_a_day_reads_the_same_way_in_both_languages_day_first() -> None:
    assert (day(date(2026, 12, 3), "fr"), day(date(2026, 12, 3), "en")) == ("3 décembre 2026", "3 December 2026")


def test_a_stored_time_is_shown_on_its_day_in_paris() -> None:
    assert day(LATE_EVENING_UTC, "fr") == "4 décembre 2026"


def test_a_naive_stored_time_is_taken_as_utc() -> None:
    assert when(datetime(2026, 7, 1, 12, 0), "fr") == "1 juillet 2026 à 14:00"


def test_a_time_has_its_words_in_each_language() -> None:
    assert when(LATE_EVENING_UTC, "en") == "4 December 2026, 00:30"


def test_a_short_day_abbreviates_the_month() -> None:
    assert short_day(date(2026, 12, 3), "fr") == "3 déc. 2026"


def test_no_date_is_shown_as_nothing() -> None:
    assert (day(None, "fr"), short_day(None, "en"), when(None, "fr")) == ("", "", "")


def test_a_date_answer_is_shown_in_words_in_each_language() -> None:
    field = FormField("event_date", Localized("Date de l'événement", "Date of the event"), kind="date")
    assert answer_text(field, "1985-03-14") == Localized("14 mars 1985", "14 March 1985")


def test_a_text_that_is_not_a_date_is_shown_as_it_is() -> None:
    assert calendar_day("vers 1985", "fr") == "vers 1985"


def test_an_audit_time_stays_utc_to_the_second_in_the_pages_words() -> None:
    moment = datetime(2026, 12, 3, 23, 5, 7, tzinfo=UTC)  # already the 4th in Paris: the sealed UTC time is kept
    assert utc_exact(moment, "fr") == "3 déc. 2026 à 23:05:07"
    assert utc_exact(moment, "en") == "3 Dec 2026, 23:05:07"
