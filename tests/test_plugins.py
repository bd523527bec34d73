"""The plugin manager: default plugins, entry points, blocklist, failures kept to their plugin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway import hookimpl
from gateway.app import load_registry
from gateway.plugins import DEFAULT_PLUGINS, HookFailed, HookRunner, PluginFailure, get_plugin_manager
from gateway.settings import ConfigError, load_settings
from gateway.testing import ConfigFolder
from tests.plugins import broken_services, custom_reference, fragile


def test_default_plugins_are_registered_first() -> None:
    plugins = get_plugin_manager()
    assert plugins.names()[: len(DEFAULT_PLUGINS)] == list(DEFAULT_PLUGINS)


def test_entry_point_plugin_is_loaded_with_its_distribution() -> None:
    plugins = get_plugin_manager()
    assert "contact" in plugins.names()
    assert plugins.distributions["contact"][0] == "guichet-contact"
    assert "guichet_services" in plugins.hooks_of("contact")


def test_blocked_plugin_is_not_loaded() -> None:
    plugins = get_plugin_manager(["contact"])
    assert "contact" not in plugins.names()
    assert plugins.blocked == ("contact",)


def test_blocking_an_unknown_plugin_is_a_configuration_error(config: ConfigFolder) -> None:
    config.set_gateway(plugins={"blocked": ["no-such-plugin"]})
    with pytest.raises(ConfigError) as raised:
        load_registry(load_settings(config.path))
    assert raised.value.key == "plugins.blocked"
    assert "no plugin named 'no-such-plugin'" in raised.value.fault


def test_plugin_implementing_an_unknown_hook_is_taken_out_of_service() -> None:
    class Stray:
        GUICHET_PLUGIN_API = "1.0"

        @hookimpl
        def guichet_no_such_hook(self) -> None:
            """Not a hook of Guichet: a misspelling, say."""

    plugins = get_plugin_manager(extra_plugins=[("stray", Stray())])
    assert "stray" not in plugins.names()
    assert "guichet_no_such_hook, which is not a Guichet hook" in plugins.failures["stray"].error


def test_plugin_with_a_hook_wrapper_is_taken_out_of_service() -> None:
    class Wrapping:
        GUICHET_PLUGIN_API = "1.0"

        @hookimpl(wrapper=True)
        def guichet_services(self) -> Iterator[None]:
            return (yield)

    plugins = get_plugin_manager(extra_plugins=[("wrapping", Wrapping())])
    assert "wrapping" not in plugins.names()
    assert "as a wrapper" in plugins.failures["wrapping"].error


def test_plugin_out_of_service_is_no_longer_called() -> None:
    plugins = get_plugin_manager(extra_plugins=[("custom", custom_reference)])
    plugins.failures["custom"] = PluginFailure("custom", "guichet_services", "broken")
    result = HookRunner(plugins).first(
        "guichet_reference_number", commune=None, service=fragile.SERVICE, year=2026, sequence=1
    )
    assert result == "FRG-2026-000001"


def test_plugin_failing_to_load_is_recorded_and_skipped(broken_distribution: str) -> None:
    plugins = get_plugin_manager()
    assert plugins.failures[broken_distribution].hook == "load"
    assert "missing dependency" in plugins.failures[broken_distribution].error
    assert "contact" in plugins.names()


def test_plugin_failing_to_load_is_logged_with_its_name(
    broken_distribution: str, caplog: pytest.LogCaptureFixture
) -> None:
    get_plugin_manager()
    assert "plugin 'broken' failed in load" in caplog.text


def test_service_of_a_plugin_that_failed_to_load_is_unavailable(broken_distribution: str, config: ConfigFolder) -> None:
    config.set_commune("grigny", services={"its-service": {"anything": 1}})
    registry = load_registry(load_settings(config.path))
    [offer] = registry.offers(registry.communes["grigny"])
    assert (offer.key, offer.available) == ("its-service", False)


def test_plugin_failing_to_declare_services_is_taken_out_of_service(config: ConfigFolder) -> None:
    registry = load_registry(load_settings(config.path), extra_plugins=[("broken_services", broken_services)])
    assert registry.plugins.failures["broken_services"].hook == "guichet_services"
    assert registry.is_available("contact")


def test_first_result_hook_lets_a_tryfirst_plugin_override_the_core() -> None:
    runner = HookRunner(get_plugin_manager(extra_plugins=[("custom", custom_reference)]))
    commune = type("C", (), {"insee": "69259"})()
    result = runner.first("guichet_reference_number", commune=commune, service=fragile.SERVICE, year=2026, sequence=7)
    assert result == "69259/FRG/7"


def test_core_reference_format_is_prefix_year_sequence() -> None:
    runner = HookRunner(get_plugin_manager())
    result = runner.first("guichet_reference_number", commune=None, service=fragile.SERVICE, year=2026, sequence=42)
    assert result == "FRG-2026-000042"


def test_owner_only_call_reaches_only_that_plugin() -> None:
    runner = HookRunner(get_plugin_manager(extra_plugins=[("fragile", fragile)]))
    results = runner.all("guichet_services", only="fragile")
    assert [plugin for plugin, _ in results] == ["fragile"]


def test_hook_failure_names_the_plugin_and_the_hook(caplog: pytest.LogCaptureFixture) -> None:
    runner = HookRunner(get_plugin_manager(extra_plugins=[("fragile", fragile)]))
    with pytest.raises(HookFailed) as raised:
        runner.all("guichet_validate_request", only="fragile", service=None, commune=None, settings=None,
                   data={"text": "fail-validation"})  # fmt: skip
    assert (raised.value.plugin, raised.value.hook) == ("fragile", "guichet_validate_request")
    assert "plugin 'fragile' failed in guichet_validate_request" in caplog.text
