"""The demo's plugins are registered for demo deployments only, and `guichet plugins list` says so."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from gateway.app import load_registry
from gateway.cli import main
from gateway.plugins import DEFAULT_PLUGINS, DEMO_PLUGINS, get_plugin_manager
from gateway.settings import load_settings
from gateway.testing import ConfigFolder


def test_demo_plugins_come_after_the_defaults_only_when_asked() -> None:
    assert set(DEMO_PLUGINS).isdisjoint(get_plugin_manager().names())
    names = get_plugin_manager(demo=True).names()
    assert names[: len(DEFAULT_PLUGINS) + len(DEMO_PLUGINS)] == [*DEFAULT_PLUGINS, *DEMO_PLUGINS]


def test_a_demo_plugin_may_be_blocked_outside_a_demo() -> None:
    plugins = get_plugin_manager(["gateway.demo.mailbox"])
    assert plugins.blocked == ("gateway.demo.mailbox",)


def test_a_deployment_that_is_no_demo_loads_no_demo_plugin(
    config: ConfigFolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    config.set_gateway(
        gateway={"demo": False},
        demo_identity={"enabled": False},
        secret_key={"env": "GUICHET_TEST_SECRET", "generate_if_missing": False},
        audit={"generate_if_missing": False},
    )
    monkeypatch.setenv("GUICHET_TEST_SECRET", "s" * 40)
    assert set(DEMO_PLUGINS).isdisjoint(load_registry(load_settings(config.path)).plugins.names())
    listed = CliRunner().invoke(main, ["--config", str(config.path), "plugins", "list"])
    assert listed.exit_code == 0, listed.output
    assert "gateway.demo." not in listed.output


def test_the_demo_lists_its_plugins(config: ConfigFolder) -> None:
    listed = CliRunner().invoke(main, ["--config", str(config.path), "plugins", "list"])
    assert listed.exit_code == 0, listed.output
    for name in DEMO_PLUGINS:
        assert f"{name}  (guichet " in listed.output
