"""The form each commune offers: the dérogation's choices follow its settings, and every demo commune's form builds."""

from __future__ import annotations

from datetime import date

import pytest
from guichet_inscription_scolaire.form import service_form
from guichet_inscription_scolaire.settings import InscriptionSettings
from starlette.applications import Starlette

from gateway.testing import GuichetClient, commune_of

SCHOOL = {"key": "ecole-a", "name": "École A", "address": "1 rue A", "capacity": {"cp": 1}}


def names_and_where(app: Starlette, slug: str, settings: InscriptionSettings) -> tuple[list[str], list[str]]:
    form = service_form(commune_of(app, slug), settings, today=date(2026, 3, 1))
    [where] = [field for field in form if field.name == "derogation"]
    return [field.name for field in form], [choice.value for choice in where.choices]


def test_without_schools_or_partners_only_the_catchment_school_is_offered(guichet_app: Starlette) -> None:
    names, where = names_and_where(guichet_app, "venissieux", InscriptionSettings())
    assert where == ["no"]
    assert "derogation_school" not in names and "derogation_commune" not in names


def test_schools_and_partners_offer_both_kinds_of_derogation(guichet_app: Starlette) -> None:
    settings = InscriptionSettings.model_validate({"schools": [SCHOOL], "partner_communes": {"corbas": "Corbas"}})
    names, where = names_and_where(guichet_app, "venissieux", settings)
    assert where == ["no", "here", "elsewhere"]
    assert names.index("derogation") + 1 == names.index("derogation_school") == names.index("derogation_commune") - 1


def test_the_school_years_offered_are_the_current_and_the_coming_one(guichet_app: Starlette) -> None:
    form = service_form(commune_of(guichet_app, "venissieux"), InscriptionSettings(), today=date(2026, 3, 1))
    [year] = [field for field in form if field.name == "school_year"]
    assert [choice.value for choice in year.choices] == ["2025-2026", "2026-2027"]


@pytest.mark.parametrize("slug", ["venissieux", "corbas", "givors", "saint-fons"])
async def test_each_demo_commune_offering_the_service_shows_its_page(guichet_client: GuichetClient, slug: str) -> None:
    answer = await guichet_client.get(f"/{slug}/inscription-scolaire")
    assert answer.status_code == 200 and "Inscription scolaire" in answer.text


async def test_a_commune_leaving_it_to_its_own_tools_does_not_offer_it(guichet_client: GuichetClient) -> None:
    assert (await guichet_client.get("/grigny/inscription-scolaire")).status_code == 404
