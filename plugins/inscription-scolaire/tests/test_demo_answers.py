"""The answers the plugin offers a demonstration (``guichet_demo_answers``): every one passes the plugin's rules."""

from __future__ import annotations

from datetime import date

import pytest
from guichet_inscription_scolaire.catchment import assigned_school
from guichet_inscription_scolaire.demo import demo_answers
from guichet_inscription_scolaire.settings import InscriptionSettings
from guichet_inscription_scolaire.validation import level_of, validation_errors
from starlette.applications import Starlette

from gateway.testing import commune_of

KEY = "inscription-scolaire"
OFFERING = ("venissieux", "corbas", "givors", "saint-fons")


def settings_of(app: Starlette, slug: str) -> InscriptionSettings:
    settings = commune_of(app, slug).services[KEY]
    assert isinstance(settings, InscriptionSettings)
    return settings


@pytest.mark.parametrize("slug", OFFERING)
def test_every_demo_answer_gives_a_level_and_passes_the_rules(guichet_app: Starlette, slug: str) -> None:
    commune, settings = commune_of(guichet_app, slug), settings_of(guichet_app, slug)
    answers = demo_answers(commune, settings, date.today())
    assert answers
    for answer in answers:
        assert level_of(answer) is not None, answer
        assert validation_errors(commune, settings, answer) == [], answer


def test_the_demo_files_addresses_on_the_map_off_it_and_derogations(guichet_app: Starlette) -> None:
    commune, settings = commune_of(guichet_app, "venissieux"), settings_of(guichet_app, "venissieux")
    answers = demo_answers(commune, settings, date.today())
    schools = {assigned_school(settings, answer["address"], level_of(answer) or "") for answer in answers}
    assert None in schools and len(schools - {None}) > 1  # flagged ones, and several catchment schools
    assert {answer["derogation"] for answer in answers} == {"no", "here", "elsewhere"}


def test_a_commune_without_schools_offers_no_demo_answers(guichet_app: Starlette) -> None:
    assert demo_answers(commune_of(guichet_app, "venissieux"), InscriptionSettings(), date.today()) == []
