"""What a commune may write under [services.etat-civil]: lawful defaults, overrides, and what is refused."""

from __future__ import annotations

from datetime import date

import pytest
from guichet_etat_civil.settings import EtatCivilSettings
from pydantic import ValidationError


def test_defaults_are_the_lawful_rules() -> None:
    settings = EtatCivilSettings()
    assert (settings.archive_years, settings.archive_years_minor, settings.years_after_death) == (75, 100, 25)
    assert settings.pacs_partner_entitled is False
    assert "other" not in settings.entitled["birth"]["full-copy"]
    assert "other" in settings.entitled["birth"]["extract-without-filiation"]
    assert "other" in settings.entitled["death"]["full-copy"]


def test_defaults_deliver_all_four_forms_by_post_only() -> None:
    settings = EtatCivilSettings()
    assert len(settings.forms) == 4 and settings.counter_pickup is False
    assert (settings.max_copies, settings.processing_days) == (3, 10)


def test_a_partial_matrix_keeps_the_lawful_entries_it_does_not_name() -> None:
    settings = EtatCivilSettings.model_validate({"entitled": {"birth": {"multilingual-extract": ["self"]}}})
    assert settings.entitled["birth"]["multilingual-extract"] == ("self",)
    assert "spouse" in settings.entitled["birth"]["full-copy"]
    assert "other" in settings.entitled["death"]["full-copy"]


@pytest.mark.parametrize(
    "values",
    [
        {"colour": "red"},
        {"registers_from_year": 1700},
        {"registers_from_year": date.today().year + 1},
        {"processing_days": 0},
        {"processing_days": 31},
        {"max_copies": 0},
        {"max_copies": 11},
        {"forms": []},
        {"forms": ["full-copy", "full-copy"]},
        {"forms": ["photocopy"]},
        {"archive_years": 0},
        {"archive_years": 80, "archive_years_minor": 79},
        {"years_after_death": 200},
        {"entitled": {"death": {"extract-without-filiation": ["other"]}}},
        {"entitled": {"birth": {"full-copy": []}}},
        {"entitled": {"birth": {"full-copy": ["self", "self"]}}},
        {"entitled": {"birth": {"full-copy": ["neighbour"]}}},
        {"entitled": {"adoption": {"full-copy": ["self"]}}},
    ],
    ids=[
        "unknown key",
        "registers before 1792",
        "registers in the future",
        "no processing day",
        "more than a month",
        "no copy",
        "too many copies",
        "no form",
        "form twice",
        "unknown form",
        "no archive period",
        "minor period shorter",
        "death period too long",
        "death record extract",
        "nobody entitled",
        "quality twice",
        "unknown quality",
        "unknown kind",
    ],
)
def test_settings_outside_what_the_plugin_allows_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        EtatCivilSettings.model_validate(values)


def test_death_records_are_not_offered_without_full_copies() -> None:
    settings = EtatCivilSettings(forms=("extract-without-filiation",))
    assert settings.kinds == ("birth", "marriage")
