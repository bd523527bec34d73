"""The school an address belongs to: street spelling, ranges, parity, unknown streets, addresses without a number."""

from __future__ import annotations

from typing import Any

import pytest
from guichet_inscription_scolaire.catchment import assigned_school
from guichet_inscription_scolaire.settings import InscriptionSettings
from guichet_inscription_scolaire.streets import normalise_street

SETTINGS = InscriptionSettings.model_validate(
    {
        "schools": [
            {"key": "mat-a", "name": "A", "address": "x", "capacity": {"ps": 1, "ms": 1, "gs": 1}},
            {"key": "mat-b", "name": "B", "address": "x", "capacity": {"tps": 1, "ps": 1, "ms": 1, "gs": 1}},
            {"key": "elem", "name": "E", "address": "x", "capacity": {"cp": 1, "ce1": 1, "ce2": 1, "cm1": 1, "cm2": 1}},
        ],
        "catchment": [
            {"street": "avenue Jean-Moulin", "to": 30, "maternelle": "mat-a", "elementaire": "elem"},
            {"street": "avenue Jean-Moulin", "from": 31, "parity": "odd", "maternelle": "mat-b", "elementaire": "elem"},
            {
                "street": "avenue Jean-Moulin",
                "from": 32,
                "parity": "even",
                "maternelle": "mat-a",
                "elementaire": "elem",
            },
            {"street": "rue de l'Église", "maternelle": "mat-b"},
        ],
    }
)


def address(street: str, number: int | None = 1) -> dict[str, Any]:
    return {"number": number, "suffix": "", "street": street, "complement": "", "postcode": "69200", "town": "X"}


@pytest.mark.parametrize(
    "spelt", ["Av. Jean Moulin", "AVENUE JEAN-MOULIN", "ave jean moulin", "avenue  jean–moulin", "Avenue Jéan Moulin"]
)
def test_street_names_compare_whatever_the_spelling(spelt: str) -> None:
    assert normalise_street(spelt) == normalise_street("avenue Jean-Moulin")


def test_a_street_type_is_not_ignored() -> None:
    assert normalise_street("rue Jean-Moulin") != normalise_street("avenue Jean-Moulin")


@pytest.mark.parametrize(
    ("number", "level", "school"),
    [
        (1, "ps", "mat-a"),
        (30, "gs", "mat-a"),
        (31, "ps", "mat-b"),
        (33, "ms", "mat-b"),
        (32, "ps", "mat-a"),
        (120, "gs", "mat-a"),
        (57, "cm2", "elem"),
        (2, "cp", "elem"),
    ],
)
def test_ranges_and_parity_give_the_school(number: int, level: str, school: str) -> None:
    assert assigned_school(SETTINGS, address("av Jean Moulin", number), level) == school


def test_an_unknown_street_has_no_school() -> None:
    assert assigned_school(SETTINGS, address("rue Imaginaire"), "ps") is None


def test_a_group_the_street_does_not_map_has_no_school() -> None:
    assert assigned_school(SETTINGS, address("rue de l'eglise"), "ps") == "mat-b"
    assert assigned_school(SETTINGS, address("rue de l'eglise"), "cp") is None


def test_without_a_number_only_a_street_wholly_in_one_catchment_has_a_school() -> None:
    assert assigned_school(SETTINGS, address("rue de l'Église", None), "ms") == "mat-b"
    assert assigned_school(SETTINGS, address("avenue Jean-Moulin", None), "ms") is None
    assert assigned_school(SETTINGS, address("avenue Jean-Moulin", None), "cp") == "elem"


def test_no_address_has_no_school() -> None:
    assert assigned_school(SETTINGS, None, "ps") is None
