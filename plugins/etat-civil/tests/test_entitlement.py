"""Who may obtain which document: the whole matrix, then the archive periods, against tables written here."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from guichet_etat_civil.entitlement import LAWFUL, Rules, add_years, decide

TODAY = date(2026, 6, 15)
RECENT = date(2000, 3, 10)  # a 26-year-old record: no archive rule applies, and its person is an adult

KINDS = ("birth", "marriage", "death")
FORMS = ("full-copy", "extract-with-filiation", "extract-without-filiation", "multilingual-extract")
QUALITIES = (
    "self", "spouse", "pacs-partner", "ascendant", "descendant", "legal-representative", "professional", "other"
)  # fmt: skip

# The law as the design notes state it, written out independently of the plugin.
OPEN_TO_ANYONE = {
    ("birth", "extract-without-filiation"),
    ("marriage", "extract-without-filiation"),
    ("death", "full-copy"),
}
NOT_ISSUED = {("death", "extract-with-filiation"), ("death", "extract-without-filiation"),
              ("death", "multilingual-extract")}  # fmt: skip
ENTITLED_TO_RESTRICTED = {"self", "spouse", "ascendant", "descendant", "legal-representative", "professional"}


def expected(kind: str, form: str, quality: str) -> bool:
    if (kind, form) in NOT_ISSUED:
        return False
    if (kind, form) in OPEN_TO_ANYONE:
        return True
    return quality in ENTITLED_TO_RESTRICTED


@pytest.mark.parametrize(("kind", "form", "quality"), list(itertools.product(KINDS, FORMS, QUALITIES)))
def test_lawful_matrix_decides_every_kind_form_and_quality(kind: str, form: str, quality: str) -> None:
    decision = decide(kind, form, quality, RECENT, today=TODAY)  # type: ignore[arg-type]
    assert decision.allowed is expected(kind, form, quality)


def test_refusal_names_who_is_entitled_and_when_the_record_opens() -> None:
    decision = decide("birth", "full-copy", "other", RECENT, today=TODAY)
    assert "conjoint" in decision.reason.fr and "10/03/2075" in decision.reason.fr
    assert "spouse" in (decision.reason.en or "") and "2075-03-10" in (decision.reason.en or "")


def test_refusal_suggests_the_extract_without_filiation() -> None:
    decision = decide("marriage", "extract-with-filiation", "other", RECENT, today=TODAY)
    assert "extrait sans filiation" in decision.reason.fr


def test_death_record_extract_is_refused_as_full_copy_only() -> None:
    decision = decide("death", "extract-without-filiation", "self", RECENT, today=TODAY)
    assert "copie intégrale uniquement" in decision.reason.fr


def test_record_one_day_short_of_75_years_is_closed_to_others() -> None:
    record = date(1951, 6, 16)
    assert decide("birth", "full-copy", "other", record, today=TODAY).allowed is False


def test_record_of_exactly_75_years_is_open_to_anyone() -> None:
    record = date(1951, 6, 15)
    assert decide("birth", "full-copy", "other", record, today=TODAY).allowed is True


def test_record_of_75_years_concerning_a_minor_stays_closed() -> None:
    record = date(1951, 6, 15)
    assert decide("marriage", "full-copy", "other", record, today=TODAY, concerns_minor=True).allowed is False


def test_record_concerning_a_minor_one_day_short_of_100_years_is_closed() -> None:
    record = date(1926, 6, 16)
    assert decide("marriage", "full-copy", "other", record, today=TODAY, concerns_minor=True).allowed is False


def test_record_concerning_a_minor_opens_at_exactly_100_years() -> None:
    record = date(1926, 6, 15)
    assert decide("marriage", "full-copy", "other", record, today=TODAY, concerns_minor=True).allowed is True


def test_record_opens_exactly_25_years_after_the_death() -> None:
    decision = decide("birth", "full-copy", "other", date(1960, 1, 1), today=TODAY, death_date=date(2001, 6, 15))
    assert decision.allowed is True and "25 ans" in decision.reason.fr


def test_record_stays_closed_one_day_short_of_25_years_after_the_death() -> None:
    decision = decide("birth", "full-copy", "other", date(1960, 1, 1), today=TODAY, death_date=date(2001, 6, 16))
    assert decision.allowed is False


def test_pacs_partner_counts_as_someone_else_by_default() -> None:
    assert decide("birth", "full-copy", "pacs-partner", RECENT, today=TODAY).allowed is False


def test_pacs_partner_counts_as_a_spouse_when_the_commune_says_so() -> None:
    rules = Rules(matrix=LAWFUL.matrix, pacs_partner_entitled=True)
    assert decide("birth", "full-copy", "pacs-partner", RECENT, today=TODAY, rules=rules).allowed is True


def test_minor_cannot_ask_for_the_full_copy_of_their_own_birth_record() -> None:
    decision = decide("birth", "full-copy", "self", date(2010, 1, 1), today=TODAY)
    assert decision.allowed is False and "représentant légal" in decision.reason.fr


def test_person_turning_18_today_may_ask_for_their_own_full_copy() -> None:
    assert decide("birth", "full-copy", "self", date(2008, 6, 15), today=TODAY).allowed is True


def test_a_communes_periods_replace_the_lawful_ones() -> None:
    rules = Rules(matrix=LAWFUL.matrix, archive_years=50)
    assert decide("birth", "full-copy", "other", date(1976, 6, 15), today=TODAY, rules=rules).allowed is True


def test_a_communes_matrix_replaces_the_lawful_one() -> None:
    matrix = {**LAWFUL.matrix, "birth": {**LAWFUL.matrix["birth"], "multilingual-extract": ("self",)}}
    rules = Rules(matrix=matrix)  # type: ignore[arg-type]
    assert decide("birth", "multilingual-extract", "spouse", RECENT, today=TODAY, rules=rules).allowed is False


def test_29_february_plus_a_common_year_is_1_march() -> None:
    assert add_years(date(1952, 2, 29), 75) == date(2027, 3, 1)
