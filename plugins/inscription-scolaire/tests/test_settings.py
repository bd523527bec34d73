"""What a commune may write under [services.inscription-scolaire]: schools, the catchment map, what is refused."""

from __future__ import annotations

from typing import Any

import pytest
from guichet_inscription_scolaire.settings import InscriptionSettings
from pydantic import ValidationError

from gateway.testing import ConfigError, ConfigFolder, build_app

NURSERY = {"key": "maternelle-a", "name": "Maternelle A", "address": "1 rue A", "capacity": {"ps": 2, "ms": 2, "gs": 2}}
PRIMARY = {"key": "elementaire-b", "name": "Élémentaire B", "address": "2 rue B",
           "capacity": {"cp": 2, "ce1": 2, "ce2": 2, "cm1": 2, "cm2": 2}}  # fmt: skip


def settings(*catchment: dict[str, Any], schools: tuple[dict[str, Any], ...] = (NURSERY, PRIMARY)) -> dict[str, Any]:
    return {"schools": list(schools), "catchment": list(catchment)}


def entry(street: str = "rue des Lilas", **values: Any) -> dict[str, Any]:
    return {"street": street, "maternelle": "maternelle-a", "elementaire": "elementaire-b", **values}


def refusal(values: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as raised:
        InscriptionSettings.model_validate(values)
    return str(raised.value)


def test_a_street_split_by_parity_and_ranges_is_accepted() -> None:
    parsed = InscriptionSettings.model_validate(
        settings(entry(to=9), entry(**{"from": 11}, parity="odd"), entry(**{"from": 10}, parity="even"))
    )
    assert [(e.first, e.last, e.parity) for e in parsed.catchment] == [
        (1, 9, "all"),
        (11, None, "odd"),
        (10, None, "even"),
    ]


def test_overlapping_ranges_are_named_with_the_street_and_numbers() -> None:
    message = refusal(settings(entry(to=20), entry("Rue des lilas", **{"from": 15}, parity="odd")))
    assert "rue des Lilas (maternelle): odd numbers 1-19 and 15-the end overlap" in message


def test_a_gap_in_a_streets_ranges_is_named() -> None:
    message = refusal(settings(entry(to=9), entry(**{"from": 15})))
    assert "odd numbers 11-13 are in no range (gap)" in message
    assert "even numbers 10-14 are in no range (gap)" in message


def test_a_single_missing_number_is_named() -> None:
    assert "even number 12 is in no range (gap)" in refusal(
        settings(entry(to=10, parity="even"), entry(**{"from": 14}, parity="even"), entry(parity="odd"))
    )


def test_an_unknown_school_is_refused() -> None:
    assert "rue des Lilas: unknown school 'nowhere'" in refusal(settings(entry(maternelle="nowhere")))


def test_a_school_that_lacks_the_groups_levels_is_refused() -> None:
    message = refusal(settings(entry(maternelle="elementaire-b")))
    assert "school 'elementaire-b' has no ps, ms, gs (needed for maternelle)" in message


@pytest.mark.parametrize(
    "values",
    [
        {"colour": "red"},
        settings(schools=({**NURSERY, "capacity": {"sixieme": 3}},)),
        settings(schools=({**NURSERY, "capacity": {"ps": 0}},)),
        settings(schools=(NURSERY, NURSERY)),
        settings(schools=({**NURSERY, "key": "Avec Espaces"},)),
        settings(entry(**{"from": 10, "to": 2})),
        settings({"street": "rue des Lilas"}),
        settings(entry(parity="both")),
    ],
)
def test_bad_settings_are_refused(values: dict[str, Any]) -> None:
    refusal(values)


def test_the_gateway_refuses_to_start_on_a_bad_map(guichet_config: ConfigFolder) -> None:
    guichet_config.enable_service("ville-a", "inscription-scolaire", **settings(entry(to=9), entry(**{"from": 15})))
    with pytest.raises(ConfigError) as raised:
        build_app(guichet_config)
    assert "gap" in str(raised.value) and "inscription-scolaire" in str(raised.value)
