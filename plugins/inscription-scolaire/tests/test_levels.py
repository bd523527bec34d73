"""Levels from the calendar year of birth, at the year boundaries, and the school years offered."""

from __future__ import annotations

from datetime import date

import pytest
from guichet_inscription_scolaire.levels import level_for, open_school_years, parse_school_year, school_year_label


@pytest.mark.parametrize(
    ("birth", "level"),
    [
        (date(2023, 1, 1), "ps"),
        (date(2023, 12, 31), "ps"),  # turns 3 in December: petite section all the same
        (date(2024, 1, 1), "tps"),
        (date(2022, 12, 31), "ms"),
        (date(2021, 6, 1), "gs"),
        (date(2020, 1, 1), "cp"),
        (date(2019, 1, 1), "ce1"),
        (date(2018, 1, 1), "ce2"),
        (date(2017, 1, 1), "cm1"),
        (date(2016, 12, 31), "cm2"),
    ],
)
def test_the_level_follows_the_calendar_year_of_birth(birth: date, level: str) -> None:
    assert level_for(birth, 2026) == level


@pytest.mark.parametrize("birth", [date(2025, 1, 1), date(2015, 12, 31), date(2026, 3, 1)])
def test_outside_two_to_ten_there_is_no_level(birth: date) -> None:
    assert level_for(birth, 2026) is None


@pytest.mark.parametrize(
    ("today", "years"),
    [(date(2026, 8, 31), (2025, 2026)), (date(2026, 9, 1), (2026, 2027)), (date(2027, 1, 15), (2026, 2027))],
)
def test_the_current_and_the_coming_school_years_are_offered(today: date, years: tuple[int, int]) -> None:
    assert open_school_years(today) == years


def test_a_school_year_reads_back_from_its_label() -> None:
    assert parse_school_year(school_year_label(2026)) == 2026 == parse_school_year("2026-2027")
    for wrong in ("2026", "2026-2028", "26-27", "abcd-efgh", ""):
        assert parse_school_year(wrong) is None
