"""Joining communes and plugins: which services exist, and whether their settings are valid."""

from __future__ import annotations

import pytest

from gateway.app import load_registry
from gateway.settings import ConfigError, load_settings
from gateway.testing import ConfigFolder
from tests.plugins import duplicate_contact, fragile


def test_service_no_plugin_provides_is_refused(config: ConfigFolder) -> None:
    config.set_commune("corbas", services={"piscine": {}})
    with pytest.raises(ConfigError) as raised:
        load_registry(load_settings(config.path))
    assert raised.value.file.endswith("corbas.toml")
    assert raised.value.key == "services.piscine"
    assert raised.value.fault == "no installed plugin provides this service"


def test_service_setting_out_of_range_is_named(config: ConfigFolder) -> None:
    config.set_commune("corbas", services={"contact": {"reply_within_days": 400}})
    with pytest.raises(ConfigError) as raised:
        load_registry(load_settings(config.path))
    assert raised.value.key == "services.contact.reply_within_days"


def test_unknown_service_setting_is_named(config: ConfigFolder) -> None:
    config.set_commune("corbas", services={"contact": {"colour": "red"}})
    with pytest.raises(ConfigError) as raised:
        load_registry(load_settings(config.path))
    assert (raised.value.key, raised.value.fault) == ("services.contact.colour", "unknown key")


def test_service_declared_by_two_plugins_is_refused(config: ConfigFolder) -> None:
    with pytest.raises(ConfigError, match="declared by both"):
        load_registry(load_settings(config.path), extra_plugins=[("duplicate", duplicate_contact)])


def test_blocking_a_plugin_whose_service_is_enabled_is_refused(config: ConfigFolder) -> None:
    config.set_gateway(plugins={"blocked": ["contact"]})
    with pytest.raises(ConfigError) as raised:
        load_registry(load_settings(config.path))
    assert raised.value.key == "services.contact"


def test_communes_offer_only_what_their_file_enables(config: ConfigFolder) -> None:
    config.set_commune("grigny", services={"fragile": {}})
    registry = load_registry(load_settings(config.path), extra_plugins=[("fragile", fragile)])
    assert [offer.key for offer in registry.offers(registry.communes["grigny"])] == ["fragile"]
    assert [offer.key for offer in registry.offers(registry.communes["corbas"])] == ["contact", "inscription-scolaire"]
    assert registry.enabled_by("fragile") == ["grigny"]


def test_enabled_settings_are_the_plugins_model(config: ConfigFolder) -> None:
    registry = load_registry(load_settings(config.path))
    settings = registry.communes["venissieux"].services["contact"]
    assert type(settings).__name__ == "ContactSettings"
    assert settings.reply_within_days == 10  # type: ignore[union-attr]
