"""Retention per service: the service's default stands unless the commune's file says otherwise, never below the law.

The register (``guichet communes register``) says which value applies and where it comes from.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from gateway.app import load_registry
from gateway.cli import main
from gateway.plugin import Localized, ServiceDefinition
from gateway.registry import Registry
from gateway.settings import ConfigError, load_settings
from gateway.testing import ConfigFolder
from tests.plugins import registry_office

KEY = registry_office.SERVICE.key


def registry_with_office(config: ConfigFolder, **retention: object) -> Registry:
    """Corbas enables the contact service and the register, with ``retention`` as its ``[retention]`` table."""
    config.set_commune("corbas", services={"contact": {}, KEY: {}}, retention=retention)
    return load_registry(load_settings(config.path), extra_plugins=[("registry_office", registry_office)])


def retention(registry: Registry, service: str) -> tuple[int, str, str]:
    choice = registry.communes["corbas"].retention_of(registry.services[service].definition)
    return choice.days, choice.source, choice.key


def test_without_a_commune_choice_the_service_default_stands(config: ConfigFolder) -> None:
    registry = registry_with_office(config)
    assert retention(registry, KEY) == (3650, "service default", "retention_days")


def test_a_communes_value_for_one_service_applies_to_that_service_only(config: ConfigFolder) -> None:
    registry = registry_with_office(config, services={KEY: {"decided_requests_days": 2000}})
    assert retention(registry, KEY) == (2000, "commune file", f"retention.services.{KEY}.decided_requests_days")
    assert retention(registry, "contact")[:2] == (registry.services["contact"].definition.retention_days,
                                                  "service default")  # fmt: skip


def test_the_communes_value_for_all_services_applies_where_it_names_no_service(config: ConfigFolder) -> None:
    registry = registry_with_office(config, decided_requests_days=90, services={KEY: {"decided_requests_days": 1825}})
    assert retention(registry, "contact") == (90, "commune file", "retention.decided_requests_days")
    assert retention(registry, KEY)[0] == 1825


def test_a_value_below_the_services_minimum_is_refused_naming_file_and_key(config: ConfigFolder) -> None:
    with pytest.raises(ConfigError) as raised:
        registry_with_office(config, services={KEY: {"decided_requests_days": 1000}})
    assert raised.value.file.endswith("corbas.toml")
    assert raised.value.key == f"retention.services.{KEY}.decided_requests_days"
    assert "1000 days is below the 1825 days the service 'registre' must keep" in raised.value.fault


def test_a_value_for_all_services_below_one_services_minimum_is_refused(config: ConfigFolder) -> None:
    with pytest.raises(ConfigError) as raised:
        registry_with_office(config, decided_requests_days=365)
    assert raised.value.key == "retention.decided_requests_days"
    assert "service 'registre'" in raised.value.fault


def test_a_value_for_a_service_the_commune_does_not_enable_is_refused(config: ConfigFolder) -> None:
    with pytest.raises(ConfigError) as raised:
        registry_with_office(config, services={"etat-civil": {"decided_requests_days": 400}})
    assert raised.value.key == "retention.services.etat-civil"


def test_a_per_service_value_out_of_bounds_is_refused_by_the_file_check(config: ConfigFolder) -> None:
    config.set_commune("corbas", retention={"services": {"contact": {"decided_requests_days": 7}}})
    with pytest.raises(ConfigError) as raised:
        load_settings(config.path)
    assert raised.value.key == "retention.services.contact.decided_requests_days"


def test_a_service_minimum_above_its_own_default_is_refused() -> None:
    with pytest.raises(ValueError, match="retention_min_days"):
        ServiceDefinition(key="x", title=Localized("X"), description=Localized("X"), reference_prefix="XX",
                          purpose=Localized("X"), retention_days=30, retention_min_days=60)  # fmt: skip


def test_the_register_shows_each_value_and_where_it_comes_from(config: ConfigFolder) -> None:
    config.set_commune("corbas", retention={"services": {"contact": {"decided_requests_days": 400}}})
    config.set_commune("givors", retention={})
    run = CliRunner().invoke
    entries = json.loads(run(main, ["--config", str(config.path), "communes", "register", "--json"]).output)
    by_commune = {entry["commune"]: entry for entry in entries if entry["service"] == "contact"}
    assert (by_commune["corbas"]["retention_days"], by_commune["corbas"]["retention_source"]) == (400, "commune file")
    assert by_commune["corbas"]["retention_key"] == "retention.services.contact.decided_requests_days"
    assert by_commune["givors"]["retention_source"] == "service default"
    text = run(main, ["--config", str(config.path), "communes", "register", "--commune", "corbas"]).output
    assert (
        "400 jours après la décision (fichier de la commune, retention.services.contact.decided_requests_days)" in text
    )
    text = run(main, ["--config", str(config.path), "communes", "register", "--commune", "givors"]).output
    assert "jours après la décision (défaut du service)" in text
