"""A commune's local plugin: loaded from a folder its file names, offered there only, checked before it runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.app import load_registry
from gateway.cli import main
from gateway.settings import load_settings
from gateway.testing import ConfigError, ConfigFolder, GuichetClient, build_app

SERVICE = """
from gateway import Localized, ServiceDefinition, hookimpl

GUICHET_PLUGIN_API = "1.0"

@hookimpl
def guichet_services():
    return [ServiceDefinition(key="{key}", title=Localized("Essai"), description=Localized("Essai"),
                              reference_prefix="ESS", purpose=Localized("Tester un plugin local."))]
"""


def deploy(config: ConfigFolder, commune: str, source: str, *, name: str = "essai", enable: str | None = None) -> Path:
    """Write a local plugin's package under the configuration and name it in ``commune``'s file."""
    folder = config.path / "local-plugins" / name
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(source, encoding="utf-8")
    config.merge_commune(commune, local_plugins=[{"name": name, "path": f"local-plugins/{name}"}])
    if enable:
        config.merge_commune(commune, services={enable: {}})
    return folder


def start(config: ConfigFolder, tmp_path: Path) -> None:
    config.set_gateway(database={"url": f"sqlite:///{tmp_path / 'unused.db'}"})
    build_app(config).state.db.dispose()


async def test_the_demo_commune_offers_its_local_service(guichet_client: GuichetClient) -> None:
    assert (await guichet_client.get("/rive-de-gier/encombrants")).status_code in {200, 303}
    assert "/rive-de-gier/encombrants" in (await guichet_client.get("/rive-de-gier")).text


async def test_another_commune_does_not_offer_it(guichet_client: GuichetClient) -> None:
    assert (await guichet_client.get("/venissieux/encombrants")).status_code == 404


def test_another_commune_enabling_a_local_service_is_refused_at_start(
    guichet_config: ConfigFolder, tmp_path: Path
) -> None:
    guichet_config.merge_commune("givors", services={"encombrants": {}})
    with pytest.raises(ConfigError, match=r"givors\.toml: services\.encombrants: .*local plugin of rive-de-gier"):
        start(guichet_config, tmp_path)


def test_a_local_plugin_importing_an_internal_module_is_refused_before_it_runs(
    guichet_config: ConfigFolder, tmp_path: Path
) -> None:
    deploy(guichet_config, "corbas", "import gateway.models\nraise RuntimeError('it ran')\n")
    with pytest.raises(ConfigError, match=r"corbas\.toml: local_plugins\.0: .*__init__\.py:1: imports gateway\.models"):
        start(guichet_config, tmp_path)


def test_a_local_plugin_that_fails_to_import_stops_the_start_with_its_error(
    guichet_config: ConfigFolder, tmp_path: Path
) -> None:
    deploy(guichet_config, "corbas", "raise RuntimeError('missing dependency')\n")
    with pytest.raises(ConfigError, match="failed to import: RuntimeError: missing dependency"):
        start(guichet_config, tmp_path)


def test_a_local_plugin_written_for_another_api_version_is_refused_naming_its_file(
    guichet_config: ConfigFolder, tmp_path: Path
) -> None:
    deploy(guichet_config, "corbas", SERVICE.format(key="essai").replace('"1.0"', '"2.0"'))
    refusal = r"corbas\.toml: local_plugins\.0: plugin 'local:corbas:essai' wants .*API 2\.0"
    with pytest.raises(ConfigError, match=refusal):
        start(guichet_config, tmp_path)


def test_a_missing_folder_is_refused_naming_the_path_key(guichet_config: ConfigFolder, tmp_path: Path) -> None:
    guichet_config.merge_commune("corbas", local_plugins=[{"name": "absent", "path": "local-plugins/absent"}])
    with pytest.raises(ConfigError, match=r"corbas\.toml: local_plugins\.0\.path: no Python package"):
        start(guichet_config, tmp_path)


def test_a_service_key_another_plugin_declares_is_refused_at_start(
    guichet_config: ConfigFolder, tmp_path: Path
) -> None:
    deploy(guichet_config, "corbas", SERVICE.format(key="contact"))
    with pytest.raises(ConfigError, match="service declared by both"):
        start(guichet_config, tmp_path)


def test_a_route_another_plugin_serves_is_refused_at_start(guichet_config: ConfigFolder, tmp_path: Path) -> None:
    source = (
        "from gateway import hookimpl\nfrom starlette.responses import PlainTextResponse\n"
        "from starlette.routing import Route\n\nGUICHET_PLUGIN_API = '1.0'\n\n"
        "@hookimpl\ndef guichet_routes(settings):\n"
        "    return [Route('/healthz', lambda request: PlainTextResponse('mine'))]\n"
    )
    deploy(guichet_config, "corbas", source)
    with pytest.raises(ConfigError, match=r"local_plugins\.0: route /healthz is already served by plugin"):
        start(guichet_config, tmp_path)


def test_a_local_plugin_of_its_own_is_offered_by_its_commune(
    guichet_config: ConfigFolder, guichet_database_url: str
) -> None:
    deploy(guichet_config, "corbas", SERVICE.format(key="essai"), enable="essai")
    guichet_config.set_gateway(database={"url": guichet_database_url})
    app = build_app(guichet_config)
    try:
        assert app.state.registry.enabled_by("essai") == ["corbas"]
        assert app.state.registry.services["essai"].plugin == "local:corbas:essai"
    finally:
        app.state.db.dispose()


def test_plugins_list_shows_a_local_plugin_as_such(guichet_config: ConfigFolder) -> None:
    result = CliRunner().invoke(main, ["--config", str(guichet_config.path), "plugins", "list"], catch_exceptions=False)
    assert "local:rive-de-gier:encombrants  (a commune's local plugin, plugin API 1.0, active)" in result.output
    assert "service encombrants: enabled by rive-de-gier" in result.output


def test_the_blocklist_leaves_a_local_plugin_out_by_its_name(guichet_config: ConfigFolder, tmp_path: Path) -> None:
    deploy(guichet_config, "corbas", SERVICE.format(key="essai"))
    guichet_config.set_gateway(plugins={"blocked": ["local:corbas:essai"]})
    registry = load_registry(load_settings(guichet_config.path))
    assert "essai" not in registry.services
    assert "local:corbas:essai" in registry.plugins.blocked
