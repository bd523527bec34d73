"""The test kit's own behaviour: the deployment folder a test writes, and assertions that say what was recorded.

The kit as a plugin author uses it, from a wheel, is tested by tests/test_kit_from_wheel.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette

from gateway.testing import (
    ConfigError,
    ConfigFolder,
    GuichetClient,
    assert_audited,
    assert_mailed,
    assert_nothing_mailed,
    build_app,
    file_request,
    migrate,
    sign_in_agent,
    sign_in_citizen,
    verified_citizen,
)

MESSAGE = {"name": "Camille Exemple", "email": "camille@example.org", "topic": "autre",
           "message": "Le trottoir est abîmé devant l'école."}  # fmt: skip


def blank_app(config: ConfigFolder, tmp_path: Path) -> Starlette:
    url = f"sqlite:///{tmp_path / 'guichet.db'}"
    migrate(url)
    config.set_gateway(database={"url": url})
    return build_app(config)


def test_a_blank_deployment_has_no_commune_and_refuses_to_start_until_one_is_added(tmp_path: Path) -> None:
    config = ConfigFolder(tmp_path)
    assert config.communes() == []
    with pytest.raises(ConfigError, match="no commune"):
        blank_app(config, tmp_path)


def test_enabling_a_service_adds_a_valid_commune_offering_it(tmp_path: Path) -> None:
    config = ConfigFolder(tmp_path)
    config.enable_service("ville-a", "contact", topics=["voirie"], reply_within_days=3)
    app = blank_app(config, tmp_path)
    try:
        assert app.state.registry.commune("ville-a").name == "Ville-A"
        assert app.state.registry.enabled_by("contact") == ["ville-a"]
    finally:
        app.state.db.dispose()


def test_enabling_a_second_service_keeps_the_first(tmp_path: Path) -> None:
    config = ConfigFolder(tmp_path)
    config.enable_service("ville-a", "contact")
    config.enable_service("ville-a", "etat-civil")
    assert set(config.read("communes/ville-a.toml")["services"]) == {"contact", "etat-civil"}


def test_disabling_a_service_removes_only_it(tmp_path: Path) -> None:
    config = ConfigFolder(tmp_path)
    config.enable_service("ville-a", "contact")
    config.enable_service("ville-a", "etat-civil")
    config.disable_service("ville-a", "contact")
    assert set(config.read("communes/ville-a.toml")["services"]) == {"etat-civil"}


def test_merge_commune_changes_one_setting_and_keeps_the_rest(tmp_path: Path) -> None:
    config = ConfigFolder.demo(tmp_path)
    config.merge_commune("venissieux", services={"contact": {"reply_within_days": 3}})
    services = config.read("communes/venissieux.toml")["services"]
    assert services["contact"]["reply_within_days"] == 3
    assert services["contact"]["ask_phone"] is True
    assert "etat-civil" in services


def test_set_commune_replaces_the_table_it_names_whole(tmp_path: Path) -> None:
    config = ConfigFolder.demo(tmp_path)
    config.set_commune("venissieux", services={"contact": {"topics": ["autre"]}})
    assert config.read("communes/venissieux.toml")["services"] == {"contact": {"topics": ["autre"]}}


def test_a_local_plugin_deployed_by_the_kit_is_offered_by_its_commune(tmp_path: Path) -> None:
    package = tmp_path / "source" / "essai"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        "from gateway import Localized, ServiceDefinition, hookimpl\n\nGUICHET_PLUGIN_API = '1.0'\n\n"
        "@hookimpl\ndef guichet_services():\n"
        "    return [ServiceDefinition(key='essai', title=Localized('Essai'), description=Localized('Essai'),\n"
        "                              reference_prefix='ESS', purpose=Localized('Tester.'))]\n",
        encoding="utf-8",
    )
    config = ConfigFolder(tmp_path / "deployment")
    config.add_local_plugin("ville-a", "essai", package)
    config.enable_service("ville-a", "essai")
    app = blank_app(config, tmp_path)
    try:
        assert app.state.registry.enabled_by("essai") == ["ville-a"]
    finally:
        app.state.db.dispose()


def test_adding_a_commune_twice_is_refused(tmp_path: Path) -> None:
    config = ConfigFolder(tmp_path)
    config.add_commune("ville-a")
    with pytest.raises(FileExistsError, match="ville-a"):
        config.add_commune("ville-a")


def test_assert_audited_returns_the_matching_entries(guichet_app: Starlette) -> None:
    citizen = verified_citizen(guichet_app, email="camille@example.org")
    filed = file_request(guichet_app, citizen, "venissieux", "contact", MESSAGE)
    entries = assert_audited(guichet_app, "request.submit", commune="venissieux", resource=f"request/{filed.reference}")
    assert len(entries) == 1


def test_assert_audited_fails_listing_what_was_recorded(guichet_app: Starlette) -> None:
    file_request(guichet_app, verified_citizen(guichet_app), "venissieux", "contact", MESSAGE)
    with pytest.raises(AssertionError, match=r"(?s)no audit entry 'request.submit'.*commune='venissieux'"):
        assert_audited(guichet_app, "request.submit", commune="givors")


def test_assert_audited_refuses_a_field_the_entries_do_not_have(guichet_app: Starlette) -> None:
    with pytest.raises(TypeError, match="no field colour"):
        assert_audited(guichet_app, "request.submit", colour="blue")


def test_assert_mailed_finds_the_receipt_and_fails_naming_the_mails_queued(guichet_app: Starlette) -> None:
    file_request(guichet_app, verified_citizen(guichet_app, email="camille@example.org"), "venissieux", "contact",
                 MESSAGE)  # fmt: skip
    assert assert_mailed(guichet_app, to="camille@example.org")
    with pytest.raises(AssertionError, match=r"(?s)no mail queued.*to camille@example.org"):
        assert_mailed(guichet_app, to="someone.else@example.org")
    with pytest.raises(AssertionError, match=r"camille@example\.org"):
        assert_nothing_mailed(guichet_app)


def test_file_request_fails_naming_the_fields_the_form_refused(guichet_app: Starlette) -> None:
    with pytest.raises(AssertionError, match="message"):
        file_request(guichet_app, verified_citizen(guichet_app), "venissieux", "contact", {**MESSAGE, "message": ""})


async def test_a_citizen_files_through_the_pages_and_gets_the_receipt(guichet_client: GuichetClient) -> None:
    sign_in_citizen(guichet_client, email="camille@example.org")
    filed = await guichet_client.file_request("venissieux", "contact", MESSAGE)
    assert filed.status_code == 303 and filed.headers["location"].endswith("/recu")
    assert_mailed(guichet_client.app, to="camille@example.org")


async def test_filing_through_the_pages_shows_the_forms_errors(guichet_client: GuichetClient) -> None:
    sign_in_citizen(guichet_client)
    refused = await guichet_client.file_request("venissieux", "contact", {**MESSAGE, "message": ""})
    assert refused.status_code == 422


async def test_an_agent_signed_in_with_both_factors_reaches_their_communes_queue(guichet_client: GuichetClient) -> None:
    await sign_in_agent(guichet_client, "givors", "contact")
    assert (await guichet_client.get("/agents/givors/demandes")).status_code == 200
    assert (await guichet_client.get("/agents/venissieux/demandes")).status_code in {403, 404}
