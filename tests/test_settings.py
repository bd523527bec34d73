"""Configuration files: the demo loads, and every kind of bad file stops the start with file, key and fault."""

from __future__ import annotations

from pathlib import Path

import pytest

import gateway.settings as settings_module
from gateway.settings import CONFIG_ENV, ConfigError, load_settings
from gateway.testing import ConfigFolder


def test_demo_configuration_has_the_eight_communes(config: ConfigFolder) -> None:
    settings = load_settings(config.path)
    assert {commune.slug for commune in settings.communes} == {
        "venissieux", "corbas", "givors", "grigny", "saint-fons", "pierre-benite", "saint-chamond", "rive-de-gier",
    }  # fmt: skip
    assert [commune.slug for commune in settings.communes if commune.seat] == ["venissieux"]


def test_malformed_toml_names_the_file(config: ConfigFolder) -> None:
    (config.path / "communes" / "corbas.toml").write_text('slug = "corbas\n', encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings(config.path)
    assert raised.value.file.endswith("corbas.toml")
    assert "malformed TOML" in raised.value.fault


def test_unknown_key_in_gateway_file_is_named(config: ConfigFolder) -> None:
    config.set_gateway(gateway={"colour": "blue"})
    with pytest.raises(ConfigError) as raised:
        load_settings(config.path)
    assert raised.value.file.endswith("gateway.toml")
    assert (raised.value.key, raised.value.fault) == ("gateway.colour", "unknown key")


def test_unknown_key_in_commune_file_is_named(config: ConfigFolder) -> None:
    config.set_commune("givors", mayor="Personne")
    with pytest.raises(ConfigError) as raised:
        load_settings(config.path)
    assert raised.value.file.endswith("givors.toml")
    assert (raised.value.key, raised.value.fault) == ("mayor", "unknown key")


def test_wrong_value_names_the_nested_key(config: ConfigFolder) -> None:
    config.set_commune("givors", address={"street": "1 rue X", "postcode": "6970", "city": "Givors"})
    with pytest.raises(ConfigError) as raised:
        load_settings(config.path)
    assert raised.value.key == "address.postcode"


def test_duplicate_slug_is_refused(config: ConfigFolder) -> None:
    data = config.read("communes/corbas.toml")
    config.write("communes/corbas-bis.toml", data)
    with pytest.raises(ConfigError) as raised:
        load_settings(config.path)
    assert raised.value.key == "slug"
    assert "duplicate slug 'corbas'" in raised.value.fault


def test_slug_must_match_the_file_name(config: ConfigFolder) -> None:
    config.set_commune("corbas", slug="korbas")
    with pytest.raises(ConfigError) as raised:
        load_settings(config.path)
    assert "must match the file name" in raised.value.fault


def test_reserved_slug_is_refused(config: ConfigFolder) -> None:
    data = config.read("communes/corbas.toml")
    data["slug"] = "api"
    config.write("communes/api.toml", data)
    with pytest.raises(ConfigError) as raised:
        load_settings(config.path)
    assert "reserved" in raised.value.fault


def test_folder_without_communes_is_refused(config: ConfigFolder) -> None:
    for path in (config.path / "communes").glob("*.toml"):
        path.unlink()
    with pytest.raises(ConfigError, match="no commune file"):
        load_settings(config.path)


def test_secret_key_comes_from_the_environment_first(config: ConfigFolder, monkeypatch: pytest.MonkeyPatch) -> None:
    config.set_gateway(secret_key={"env": "GUICHET_TEST_SECRET"})
    monkeypatch.setenv("GUICHET_TEST_SECRET", "s" * 40)
    assert load_settings(config.path).secret_key == b"s" * 40


def test_demo_secret_is_generated_once_and_private(config: ConfigFolder) -> None:
    first = load_settings(config.path).secret_key
    second = load_settings(config.path).secret_key
    secret_file = config.path.parent / "secret"
    assert first == second and len(first) >= 32
    assert secret_file.stat().st_mode & 0o077 == 0


def test_generated_secret_is_refused_outside_demo_mode(config: ConfigFolder) -> None:
    config.set_gateway(gateway={"demo": False}, demo_identity={"enabled": False})
    with pytest.raises(ConfigError) as raised:
        load_settings(config.path)
    assert raised.value.key == "secret_key.generate_if_missing"


def test_missing_secret_says_where_to_put_it(config: ConfigFolder) -> None:
    config.set_gateway(
        gateway={"demo": False},
        demo_identity={"enabled": False},
        secret_key={"generate_if_missing": False},
        audit={"generate_if_missing": False},
    )
    with pytest.raises(ConfigError) as raised:
        load_settings(config.path)
    assert raised.value.key == "secret_key.file"
    assert "does not exist" in raised.value.fault


def test_generated_audit_key_is_refused_outside_demo_mode(
    config: ConfigFolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    config.set_gateway(
        gateway={"demo": False},
        demo_identity={"enabled": False},
        secret_key={"env": "GUICHET_TEST_SECRET", "generate_if_missing": False},
    )
    monkeypatch.setenv("GUICHET_TEST_SECRET", "s" * 40)
    with pytest.raises(ConfigError) as raised:
        load_settings(config.path)
    assert raised.value.key == "audit.generate_if_missing"


def test_short_secret_is_refused(config: ConfigFolder, monkeypatch: pytest.MonkeyPatch) -> None:
    config.set_gateway(secret_key={"env": "GUICHET_TEST_SECRET"})
    monkeypatch.setenv("GUICHET_TEST_SECRET", "too-short")
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        load_settings(config.path)


def test_guichet_config_selects_another_folder(config: ConfigFolder, monkeypatch: pytest.MonkeyPatch) -> None:
    config.set_gateway(gateway={"name": "Autre syndicat"})
    monkeypatch.setenv("GUICHET_CONFIG", str(config.path))
    assert load_settings().gateway.name == "Autre syndicat"


def test_database_url_defaults_to_sqlite_in_the_data_folder(config: ConfigFolder) -> None:
    settings = load_settings(config.path)
    assert settings.database_url == f"sqlite:///{config.data_dir / 'guichet.db'}"


def test_database_url_from_environment_uses_psycopg(config: ConfigFolder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUICHET_DATABASE_URL", "postgresql://guichet@db.internal/guichet")
    assert load_settings(config.path).database_url == "postgresql+psycopg://guichet@db.internal/guichet"


def test_public_base_url_must_be_absolute(config: ConfigFolder) -> None:
    config.set_gateway(gateway={"public_base_url": "guichet.example"})
    with pytest.raises(ConfigError) as raised:
        load_settings(config.path)
    assert raised.value.key == "gateway.public_base_url"


def test_demo_identity_provider_is_refused_outside_demo_mode(config: ConfigFolder) -> None:
    config.set_gateway(gateway={"demo": False})
    with pytest.raises(ConfigError) as raised:
        load_settings(config.path)
    assert raised.value.key == "demo_identity.enabled"


@pytest.mark.parametrize("url", ["https://guichet.example", "http://192.168.1.10:8000", "http://10.0.0.1"])
def test_demo_identity_provider_is_refused_off_loopback(config: ConfigFolder, url: str) -> None:
    config.set_gateway(gateway={"public_base_url": url})
    with pytest.raises(ConfigError) as raised:
        load_settings(config.path)
    assert raised.value.key == "demo_identity.enabled"
    assert "loopback" in raised.value.fault


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"])
def test_demo_identity_provider_runs_on_loopback(config: ConfigFolder, url: str) -> None:
    config.set_gateway(gateway={"public_base_url": url})
    assert load_settings(config.path).demo_identity.enabled


def test_public_base_url_may_come_from_the_environment(config: ConfigFolder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUICHET_PUBLIC_BASE_URL", "http://127.0.0.1:8080")
    assert load_settings(config.path).gateway.public_base_url == "http://127.0.0.1:8080"


@pytest.mark.parametrize("slug", ["agents", "audit", "mon-compte", "demo", "connexion"])
def test_gateway_paths_are_reserved_slugs(config: ConfigFolder, slug: str) -> None:
    data = config.read("communes/corbas.toml")
    data["slug"] = slug
    config.write(f"communes/{slug}.toml", data)
    with pytest.raises(ConfigError, match="reserved"):
        load_settings(config.path)


def test_negative_checkpoint_age_is_refused_by_name(config: ConfigFolder) -> None:
    config.set_gateway(audit={"max_checkpoint_age_minutes": -5})
    with pytest.raises(ConfigError) as raised:
        load_settings(config.path)
    assert raised.value.key == "audit.max_checkpoint_age_minutes"


def test_without_a_deployment_folder_the_error_says_how_to_name_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    monkeypatch.setattr(settings_module, "DEFAULT_CONFIG_DIR", tmp_path / "site-packages" / "config")
    with pytest.raises(ConfigError, match=r"gateway\.toml: file not found: name the deployment's folder with --config"):
        load_settings()


def test_a_worker_that_loses_the_race_to_make_the_secret_file_reads_the_winners_key(
    config: ConfigFolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = config.path / "raced-secret"
    secret.write_text("w" * 48, encoding="utf-8")  # written by another worker after this one looked
    looked = Path.exists
    monkeypatch.setattr(Path, "exists", lambda path: False if path == secret else looked(path))
    assert settings_module._secret_from_file(secret, True, config.path / "gateway.toml") == b"w" * 48
    assert [entry.name for entry in config.path.iterdir() if "raced-secret" in entry.name] == ["raced-secret"]
