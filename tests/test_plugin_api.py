"""The public plugin API: hooks speak only its types, plugins see no secret, and versions are checked at start.

Installed plugins are written as real distributions (a ``.dist-info`` folder
with an entry point, on ``sys.path``), so the checks run on the path an
installed plugin takes.
"""

from __future__ import annotations

import collections.abc
import inspect
import re
import sys
import typing
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.routing import BaseRoute

import gateway.plugin
from gateway import hookspecs
from gateway.app import create_app
from gateway.cli import main
from gateway.deployment import DeploymentSettings
from gateway.plugin_version import API_VERSION, incompatibility
from gateway.plugins import get_plugin_manager
from gateway.services import ServiceDefinition
from gateway.testing import ConfigFolder, GuichetClient

#: names a hook's annotations may use besides the public API: builtins, abstract collections, a route
ALLOWED_OUTSIDE_THE_API = {
    **{name: getattr(collections.abc, name) for name in collections.abc.__all__},
    "BaseRoute": BaseRoute,
}

Install = Callable[[str, str], str]

DOC = Path(__file__).resolve().parent.parent / "docs" / "plugin_api.md"


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Install:
    """Install a one-module plugin distribution with an entry point; returns the plugin's name."""
    site = tmp_path / "site"
    monkeypatch.syspath_prepend(str(site))

    def installer(name: str, source: str) -> str:
        module = f"guichet_test_{name.replace('-', '_')}"
        info = site / f"{module}-1.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n", encoding="utf-8")
        (info / "entry_points.txt").write_text(f"[guichet]\n{name} = {module}\n", encoding="utf-8")
        (site / f"{module}.py").write_text(source, encoding="utf-8")
        monkeypatch.delitem(sys.modules, module, raising=False)  # a module of the same name installed before
        return name

    return installer


def hook_specs() -> dict[str, Callable[..., object]]:
    return {name: f for name, f in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("guichet_")}


@pytest.mark.parametrize("name", sorted(hook_specs()))
def test_every_hook_signature_uses_only_types_of_the_public_api(name: str) -> None:
    public = {symbol: getattr(gateway.plugin, symbol) for symbol in gateway.plugin.__all__}
    # evaluated in a namespace holding only the public API: a name from elsewhere raises NameError
    hints = typing.get_type_hints(hook_specs()[name], globalns={**ALLOWED_OUTSIDE_THE_API, **public}, localns={})
    assert set(hints) == {*inspect.signature(hook_specs()[name]).parameters, "return"}


def test_the_deployment_view_holds_no_secret() -> None:
    names = {field.name for field in fields(DeploymentSettings)}
    assert names == {"name", "public_base_url", "default_locale", "locales", "demo"}


async def test_a_plugins_routes_receive_the_deployment_view_not_the_settings(
    guichet_config: ConfigFolder, guichet_database_url: str
) -> None:
    seen: list[object] = []

    class Watcher:
        GUICHET_PLUGIN_API = API_VERSION

        @gateway.plugin.hookimpl
        def guichet_routes(self, settings: DeploymentSettings) -> list[BaseRoute]:
            seen.append(settings)
            return []

    guichet_config.set_gateway(database={"url": guichet_database_url})
    app = create_app(guichet_config.path, extra_plugins=[("watcher", Watcher())])
    try:
        async with GuichetClient(app) as client:
            assert (await client.get("/healthz")).status_code == 200
    finally:
        app.state.db.dispose()
    [view] = seen
    assert isinstance(view, DeploymentSettings)
    assert view.public_base_url == app.state.registry.settings.gateway.public_base_url.rstrip("/")
    assert view.url("/corbas/contact") == view.public_base_url + "/corbas/contact"


def test_an_installed_plugin_may_not_implement_a_core_hook(install: Install) -> None:
    name = install(
        "greedy",
        "from gateway import hookimpl\nGUICHET_PLUGIN_API = '1.0'\n\n"
        "@hookimpl\ndef guichet_core_routes(settings):\n    return []\n",
    )
    plugins = get_plugin_manager()
    assert name not in plugins.names()
    assert "guichet_core_routes, which is reserved to the core" in plugins.failures[name].error


@pytest.mark.parametrize("declared", ["1.0", API_VERSION])
def test_a_plugin_for_this_major_and_an_older_or_equal_minor_loads(install: Install, declared: str) -> None:
    # one module per version: Python keeps an imported module, so a shared name would answer the first version
    name = install(f"current-{declared.replace('.', '-')}", f"GUICHET_PLUGIN_API = {declared!r}\n")
    plugins = get_plugin_manager()
    assert name in plugins.names()
    assert plugins.api_version_of(name) == declared


@pytest.mark.parametrize(
    ("declared", "offered", "fault"),
    [
        ("2.0", "1.0", "plugin 'p' wants plugin API 2.0, this gateway offers 1.0"),
        ("1.3", "1.2", "plugin 'p' wants plugin API 1.3, this gateway offers 1.2"),
        ("0.9", "1.2", "plugin 'p' wants plugin API 0.9, this gateway offers 1.2"),
        (None, "1.0", "plugin 'p' declares no plugin API version"),
        ("1", "1.0", "plugin 'p' declares GUICHET_PLUGIN_API = '1', not a MAJOR.MINOR version"),
        (1.0, "1.0", "plugin 'p' declares GUICHET_PLUGIN_API = 1.0, not a MAJOR.MINOR version"),
    ],
)
def test_an_incompatible_version_is_refused_with_the_wanted_and_offered_versions(
    declared: object, offered: str, fault: str
) -> None:
    reason = incompatibility("p", declared, offered)
    assert reason is not None and reason.startswith(fault)
    assert "\n" not in reason


@pytest.mark.parametrize(("declared", "offered"), [("1.0", "1.0"), ("1.1", "1.2"), ("2.3", "2.3")])
def test_a_compatible_version_is_accepted(declared: str, offered: str) -> None:
    assert incompatibility("p", declared, offered) is None


def test_a_plugin_for_another_major_version_is_refused_at_start_in_one_line(
    install: Install, config: ConfigFolder, caplog: pytest.LogCaptureFixture
) -> None:
    name = install("future", "GUICHET_PLUGIN_API = '99.0'\n")
    plugins = get_plugin_manager()
    assert name not in plugins.names()
    [record] = [r for r in caplog.records if name in r.getMessage()]
    assert record.getMessage() == f"plugin 'future' wants plugin API 99.0, this gateway offers {API_VERSION}"
    assert record.exc_info is None
    result = CliRunner().invoke(main, ["--config", str(config.path), "check"])
    assert result.exit_code == 1
    assert f"plugin 'future' wants plugin API 99.0, this gateway offers {API_VERSION}" in result.output


def test_plugins_list_shows_the_offered_and_each_targeted_version(install: Install, config: ConfigFolder) -> None:
    install("listed", f"GUICHET_PLUGIN_API = {API_VERSION!r}\n")
    output = CliRunner().invoke(main, ["--config", str(config.path), "plugins", "list"]).output
    assert f"plugin API offered: {API_VERSION}" in output.splitlines()[0]
    assert f"listed  (guichet_test_listed 1.0, plugin API {API_VERSION}, active)" in output


def test_the_example_plugins_target_this_api_version() -> None:
    plugins = get_plugin_manager()
    for name in ("contact", "etat-civil", "inscription-scolaire"):
        assert incompatibility(name, plugins.api_version_of(name)) is None


def documented_names() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    names_part = text[text.index("\n## Names\n") :]
    names_part = names_part[: names_part.find("\n## ", 1)]
    return re.findall(r"^### (\w+)\s*$", names_part, re.MULTILINE)


def test_the_api_page_has_one_section_per_public_name_and_no_other() -> None:
    assert sorted(documented_names()) == sorted(gateway.plugin.__all__)


def test_the_api_page_lists_every_field_of_a_service_definition() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [field.name for field in fields(ServiceDefinition) if f"`{field.name}`" not in text]
    assert not missing, f"docs/plugin_api.md does not describe ServiceDefinition fields {missing}"
