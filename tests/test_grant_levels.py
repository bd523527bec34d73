"""Agent grant levels (API 1.2): reader < instructor < supervisor, each covering the ones before it."""

from __future__ import annotations

import pytest

from gateway.identity.principal import Grant
from gateway.identity.staff import StaffError, parse_grant
from gateway.services import Localized, Transition


@pytest.mark.parametrize(
    ("held", "wanted", "allowed"),
    [
        ("reader", "reader", True),
        ("reader", "instructor", False),
        ("reader", "supervisor", False),
        ("instructor", "reader", True),
        ("instructor", "instructor", True),
        ("instructor", "supervisor", False),
        ("supervisor", "reader", True),
        ("supervisor", "instructor", True),
        ("supervisor", "supervisor", True),
        (None, "instructor", True),  # a grant stored without a level acts as an instructor…
        (None, "supervisor", False),  # …never as a supervisor
    ],
)
def test_each_level_covers_the_ones_before_it(held: str | None, wanted: str, allowed: bool) -> None:
    grant = Grant("agent", "corbas", "inscription-scolaire", held)
    assert grant.covers("agent", "corbas", "inscription-scolaire", wanted) is allowed


def test_a_supervisor_level_stays_within_its_commune_and_service() -> None:
    grant = parse_grant("agent:corbas:inscription-scolaire:supervisor")
    assert grant == Grant("agent", "corbas", "inscription-scolaire", "supervisor")
    assert not grant.covers("agent", "givors", "inscription-scolaire", "reader")
    assert not grant.covers("agent", "corbas", "etat-civil", "reader")


def test_a_communes_supervisor_role_covers_the_supervisor_level() -> None:
    assert parse_grant("supervisor:corbas").covers("agent", "corbas", "inscription-scolaire", "supervisor")


def test_an_unknown_level_is_refused_naming_the_levels() -> None:
    with pytest.raises(StaffError) as raised:
        parse_grant("agent:corbas:inscription-scolaire:mayor")
    assert "reader, instructor, supervisor" in str(raised.value)


def test_a_transition_may_ask_for_the_supervisor_level() -> None:
    step = Transition("grant", Localized("Accorder", "Grant"), ("submitted",), "accepted", level="supervisor")
    assert step.level == "supervisor" and step.shares_decision is False
