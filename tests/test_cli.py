"""The ``guichet`` command: every subcommand has help, prints the truth, and fails with one clear line."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time

import httpx
import pytest
from click.testing import CliRunner, Result

from gateway.app import load_registry
from gateway.cli import main
from gateway.db import Database
from gateway.requests.signing_keys import CommuneKeys
from gateway.settings import load_settings
from gateway.testing import ConfigFolder, migrate

COMMANDS = [[], ["serve"], ["check"], ["db"], ["db", "upgrade"], ["db", "status"], ["db", "grant"], ["plugins"],
            ["plugins", "list"], ["new-plugin"], ["communes"], ["communes", "list"], ["demo"],
            ["demo", "seed"], ["worker"], ["worker", "status"]]  # fmt: skip


def run(config: ConfigFolder, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config.path), *args], catch_exceptions=False)


@pytest.fixture
def migrated(config: ConfigFolder) -> ConfigFolder:
    migrate(f"sqlite:///{config.data_dir / 'guichet.db'}")
    return config


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: " ".join(command) or "guichet")
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage: guichet" in result.output


def test_communes_list_prints_every_commune_and_its_services(config: ConfigFolder) -> None:
    result = run(config, "communes", "list")
    lines = result.output.splitlines()
    assert len(lines) == 8
    assert any(
        line.startswith("venissieux") and "69259" in line and "[seat]" in line and "contact" in line for line in lines
    )
    assert any(line.startswith("grigny") and line.endswith("services: -") for line in lines)


def test_plugins_list_shows_distribution_hooks_and_communes(config: ConfigFolder) -> None:
    output = run(config, "plugins", "list").output
    assert "contact  (guichet-contact 0.1.0, plugin API 1.0, active)" in output
    assert (
        "hooks: guichet_request_submitted, guichet_service_form, guichet_services, guichet_validate_request" in output
    )
    assert "service contact: enabled by corbas, givors, saint-chamond, saint-fons, venissieux" in output
    assert "gateway.builtin.pages  (guichet" in output


def test_plugins_list_follows_the_configuration(config: ConfigFolder) -> None:
    config.set_commune("grigny", services={"contact": {}})
    assert "enabled by corbas, givors, grigny," in run(config, "plugins", "list").output


def test_check_accepts_the_demo_configuration(config: ConfigFolder) -> None:
    # every installed plugin's services count, not only this repository's: the suite runs beside other plugins
    installed = len(load_registry(load_settings(config.path)).services)
    result = run(config, "check")
    assert installed >= 2
    assert (result.exit_code, result.output.strip()) == (0, f"configuration OK: 8 communes, {installed} services")


def test_check_warns_of_each_commune_without_a_document_signing_key(config: ConfigFolder) -> None:
    config.set_gateway(documents={"generate_if_missing": False})
    run(config, "documents", "keygen", "--commune", "corbas")
    result = run(config, "check")
    warned = [line for line in result.output.splitlines() if line.startswith("warning: commune")]
    assert result.exit_code == 0 and len(warned) == 7
    assert not any("'corbas'" in line for line in warned)
    assert any("'givors' has no document signing key" in line and "guichet documents keygen" in line for line in warned)


def test_check_names_a_document_key_it_cannot_read(config: ConfigFolder) -> None:
    config.set_gateway(documents={"generate_if_missing": False})
    settings = load_settings(config.path)
    for commune in settings.communes:
        run(config, "documents", "keygen", "--commune", commune.slug)
    newest = max((CommuneKeys(settings).folder / "corbas").glob("*.pem"))
    newest.write_text("not a key\n", encoding="ascii")
    result = run(config, "check")
    assert result.exit_code == 0
    warned = [line for line in result.output.splitlines() if line.startswith("warning: commune")]
    assert len(warned) == 1 and "'corbas': its newest document signing key cannot be read" in warned[0]


def test_bad_configuration_fails_with_file_key_and_fault(config: ConfigFolder) -> None:
    config.set_commune("corbas", services={"piscine": {}})
    result = run(config, "check")
    assert result.exit_code == 2  # a setting: the command could not run
    assert result.output.startswith("Error: ")
    assert "corbas.toml: services.piscine: no installed plugin provides this service" in result.output
    assert "Traceback" not in result.output


def test_db_upgrade_then_status(config: ConfigFolder) -> None:
    head = Database(f"sqlite:///{config.data_dir / 'scratch.db'}").migration_state()[1]
    assert run(config, "db", "status").exit_code == 1
    assert run(config, "db", "upgrade").output.strip() == f"database at migration {head}"
    status = run(config, "db", "status")
    assert (status.exit_code, status.output) == (0, f"current: {head}\nexpected: {head}\n")


def test_serve_refuses_an_unmigrated_database(config: ConfigFolder) -> None:
    result = run(config, "serve")
    assert result.exit_code == 2
    assert "run `guichet db upgrade` first" in result.output


def test_demo_seed_is_idempotent(migrated: ConfigFolder) -> None:
    first = run(migrated, "demo", "seed").output.strip()
    found = re.fullmatch(r"demo data: 10 new request\(s\); audit log sealed at (\d+) entries", first)
    assert found, first
    again = run(migrated, "demo", "seed").output.strip()
    assert again == f"demo data: 0 new request(s); audit log sealed at {found.group(1)} entries"


def test_demo_seed_refuses_a_production_configuration(migrated: ConfigFolder, monkeypatch: pytest.MonkeyPatch) -> None:
    migrated.set_gateway(
        gateway={"demo": False},
        demo_identity={"enabled": False},
        secret_key={"env": "GUICHET_TEST_SECRET", "generate_if_missing": False},
    )
    monkeypatch.setenv("GUICHET_TEST_SECRET", "x" * 40)
    result = run(migrated, "demo", "seed")
    assert result.exit_code == 2 and "gateway.demo = true" in result.output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_over_real_http_with_several_workers(migrated: ConfigFolder) -> None:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gateway",
        "--config",
        str(migrated.path),
        "serve",
        "--port",
        str(port),
        "--workers",
        "2",
    ]
    server = subprocess.Popen(command, env={**os.environ}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        body = wait_for(f"http://127.0.0.1:{port}/api/v1/communes", server)
        assert len(body["communes"]) == 8
    finally:
        server.terminate()
        server.communicate(timeout=20)


def wait_for(url: str, server: subprocess.Popen[bytes]) -> dict[str, list[object]]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited early"
        try:
            response = httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
            continue
        body: dict[str, list[object]] = response.json()
        return body
    raise AssertionError(f"{url} did not answer within 30 s")


def test_python_m_gateway_is_the_guichet_command() -> None:
    result = subprocess.run([sys.executable, "-m", "gateway", "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "guichet, version 0.1.0"


def test_check_fails_when_a_plugin_is_out_of_service(config: ConfigFolder, broken_distribution: str) -> None:
    result = run(config, "check")
    assert result.exit_code == 1
    assert "plugin broken is out of service (failed in load: ImportError: missing dependency)" in result.output


def test_processing_register_cites_each_services_purpose_basis_and_retention(config: ConfigFolder) -> None:
    config.set_commune("corbas", retention={"decided_requests_days": 90})
    entries = json.loads(run(config, "communes", "register", "--commune", "corbas", "--json").output)
    assert [(entry["service"], entry["retention_days"]) for entry in entries] == [
        ("contact", 90),
        ("inscription-scolaire", 90),
    ]
    assert entries[0]["legal_basis"].startswith("Mission d'intérêt public")
    assert "Votre adresse électronique" in entries[0]["data_collected"]


def test_processing_register_refuses_an_unknown_commune(config: ConfigFolder) -> None:
    result = CliRunner().invoke(main, ["--config", str(config.path), "communes", "register", "--commune", "nowhere"])
    assert result.exit_code == 1 and "no commune 'nowhere'" in result.output
