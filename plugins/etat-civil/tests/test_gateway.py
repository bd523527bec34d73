"""The installed plugin inside a real gateway: found through its entry point, offered where enabled."""

from __future__ import annotations

from pathlib import Path

import pytest
from guichet_etat_civil.settings import EtatCivilSettings
from starlette.applications import Starlette

from gateway.testing import ConfigError, ConfigFolder, GuichetClient, build_app, commune_of


def test_plugin_is_loaded_through_its_entry_point(guichet_app: Starlette) -> None:
    registry = guichet_app.state.registry
    assert registry.services["etat-civil"].plugin == "etat-civil"
    assert registry.is_available("etat-civil")


def test_demo_communes_have_their_own_settings(guichet_app: Starlette) -> None:
    venissieux = commune_of(guichet_app, "venissieux").services["etat-civil"]
    givors = commune_of(guichet_app, "givors").services["etat-civil"]
    assert isinstance(venissieux, EtatCivilSettings) and isinstance(givors, EtatCivilSettings)
    assert (venissieux.registers_from_year, venissieux.counter_pickup, venissieux.processing_days) == (1960, True, 5)
    assert "multilingual-extract" not in givors.forms


async def test_an_enabling_commune_offers_the_form(guichet_client: GuichetClient) -> None:
    response = await guichet_client.get("/venissieux/etat-civil")
    assert response.status_code == 200 or (
        response.status_code in (302, 303) and "connexion" in response.headers["location"]
    )


async def test_a_commune_that_does_not_enable_it_answers_404(guichet_client: GuichetClient) -> None:
    assert (await guichet_client.get("/rive-de-gier/etat-civil")).status_code == 404


@pytest.mark.parametrize("settings", [{"max_copies": 99}, {"colour": "red"}], ids=["bad range", "unknown key"])
def test_a_communes_bad_settings_stop_the_start(
    guichet_config: ConfigFolder, tmp_path: Path, settings: dict[str, object]
) -> None:
    guichet_config.set_gateway(database={"url": f"sqlite:///{tmp_path / 'unused.db'}"})
    guichet_config.set_commune("rive-de-gier", services={"etat-civil": settings})
    with pytest.raises(ConfigError) as raised:
        build_app(guichet_config)
    assert raised.value.key.startswith("services.etat-civil")
