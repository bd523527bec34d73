"""Every ``guichet`` command ends with one clear line on a wrong or missing setting, never a traceback.

The walk introspects the root group, so a command added later is walked too.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from gateway.audit.checkpoint import generate_signer
from gateway.cli import main
from gateway.testing import ConfigFolder, migrate

#: commands that read no deployment: a broken one does not stop them
CONFIG_FREE = {"audit keygen", "audit verify-bundle", "audit witness", "audit witness-keygen", "documents verify",
               "new-plugin"}  # fmt: skip


def leaf_commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from leaf_commands(command, (*path, name))
        else:
            yield (*path, name), command


COMMANDS = list(leaf_commands(main))


def required_arguments(command: click.Command, garbage: Path) -> list[str]:
    """A value for each required parameter: the file ``garbage`` for a path, ``x`` or ``1`` otherwise."""
    words: list[str] = []
    for param in command.params:
        if not param.required:
            continue
        if isinstance(param.type, click.Path):
            value = str(garbage)
        elif isinstance(param.type, click.types.IntParamType):
            value = "1"
        else:
            value = "x"
        words += [value] if isinstance(param, click.Argument) else [param.opts[0], value]
    return words


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens there once the socket is closed


def assert_one_line_ending(result: Result) -> str:
    """The command ended by itself (no exception escaped), and a failure ends with exactly one ``Error:`` line."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == 0:
        return ""
    lines = result.output.rstrip().splitlines()
    errors = [line for line in lines if line.startswith("Error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], result.output
    return errors[0]


BROKEN = {
    "missing config folder": "file not found",
    "unparsable gateway.toml": "malformed TOML",
    "unknown database URL scheme": "unknown database URL scheme 'mysql'",
    "unreachable database": "",
}


def break_config(config: ConfigFolder, how: str) -> Path:
    if how == "missing config folder":
        return config.path.parent / "nowhere"
    if how == "unparsable gateway.toml":
        (config.path / "gateway.toml").write_text("[gateway\nname = ", encoding="utf-8")
    elif how == "unknown database URL scheme":
        config.set_gateway(database={"url": "mysql://guichet:secret@127.0.0.1/guichet"})
    else:
        config.set_gateway(database={"url": f"postgresql://nobody@127.0.0.1:{closed_port()}/none?connect_timeout=2"})
    return config.path


@pytest.mark.parametrize("how", BROKEN)
def test_every_command_ends_with_one_line_on_a_broken_configuration(
    config: ConfigFolder, how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = break_config(config, how)
    garbage = tmp_path / "garbage"
    garbage.write_text("garbage\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # new-plugin writes its folder here
    monkeypatch.delenv("GUICHET_DEBUG", raising=False)
    assert len(COMMANDS) >= 25
    for path, command in COMMANDS:
        name = " ".join(path)
        args = ["--config", str(folder), *path, *required_arguments(command, garbage)]
        result = CliRunner().invoke(main, args, input="")
        error = assert_one_line_ending(result)
        if name not in CONFIG_FREE and how != "unreachable database":
            assert result.exit_code == 2, f"{name}: {result.output}"
            assert BROKEN[how] in error, f"{name}: {error}"
        if how == "unreachable database" and result.exit_code == 2 and "database" in error:
            assert "the database cannot be used" in error and "Connection refused" in error, f"{name}: {error}"
        assert "secret" not in result.output  # the URL's password is never shown


def test_an_unreachable_database_names_itself_in_one_line(config: ConfigFolder) -> None:
    break_config(config, "unreachable database")
    result = CliRunner().invoke(main, ["--config", str(config.path), "db", "status"])
    error = assert_one_line_ending(result)
    assert result.exit_code == 2
    assert error.startswith("Error: the database cannot be used: connection failed:")


def test_the_database_url_from_the_environment_is_named_when_wrong(
    config: ConfigFolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUICHET_DATABASE_URL", "oracle://scott:tiger@db/orcl")
    result = CliRunner().invoke(main, ["--config", str(config.path), "db", "upgrade"])
    error = assert_one_line_ending(result)
    assert (result.exit_code, error) == (
        2,
        "Error: GUICHET_DATABASE_URL: unknown database URL scheme 'oracle': "
        "use sqlite:///PATH or postgresql://USER@HOST/DATABASE",
    )
    assert "tiger" not in result.output


def test_an_unusable_document_key_folder_ends_in_one_line(config: ConfigFolder, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    config.set_gateway(documents={"signing_keys_dir": str(tmp_path / "a-file" / "keys")})
    result = CliRunner().invoke(main, ["--config", str(config.path), "documents", "keygen", "--commune", "corbas"])
    error = assert_one_line_ending(result)
    assert result.exit_code == 2 and error.startswith("Error: a file or folder cannot be used: ")


@pytest.fixture
def migrated(config: ConfigFolder) -> ConfigFolder:
    migrate(f"sqlite:///{config.data_dir / 'guichet.db'}")
    return config


def test_an_unexpected_fault_is_named_with_the_way_to_its_traceback(migrated: ConfigFolder, tmp_path: Path) -> None:
    not_text = tmp_path / "checkpoints.bin"
    not_text.write_bytes(b"\xff\xfe\x00binary")
    args = ["--config", str(migrated.path), "audit", "verify", "--checkpoints", str(not_text)]
    result = CliRunner().invoke(main, args)
    error = assert_one_line_ending(result)
    assert result.exit_code == 1
    assert error.startswith("Error: unexpected UnicodeDecodeError: ")
    assert error.endswith("(run again with --debug (or GUICHET_DEBUG=1) to see the traceback)")
    # with --debug, or GUICHET_DEBUG=1, the exception goes through as Python raises it
    debug = CliRunner().invoke(main, ["--debug", *args])
    assert isinstance(debug.exception, UnicodeDecodeError)
    from_env = CliRunner().invoke(main, args, env={"GUICHET_DEBUG": "1"})
    assert isinstance(from_env.exception, UnicodeDecodeError)


def production(config: ConfigFolder, key_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config.set_gateway(
        gateway={"demo": False},
        demo_identity={"enabled": False},
        secret_key={"env": "GUICHET_TEST_SECRET", "generate_if_missing": False},
        documents={"generate_if_missing": False},
        audit={"generate_if_missing": False, "signing_key_file": str(key_file)},
    )
    monkeypatch.setenv("GUICHET_TEST_SECRET", "x" * 40)


def test_a_production_key_for_another_log_says_what_to_set(
    migrated: ConfigFolder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "audit-signing-key"
    key_file.write_text(generate_signer("ancienne.example/audit").to_text() + "\n", encoding="utf-8")
    production(migrated, key_file, monkeypatch)
    for command in (["audit", "key"], ["audit", "verify"], ["audit", "checkpoint"]):
        result = CliRunner().invoke(main, ["--config", str(migrated.path), *command])
        error = assert_one_line_ending(result)
        assert result.exit_code == 2
        assert f"audit signing key {key_file} is for 'ancienne.example/audit', not '127.0.0.1:8000/audit'" in error
        assert 'set origin = "ancienne.example/audit" under [audit] in gateway.toml' in error
        assert "PRIVATE" not in result.output
    migrated.set_gateway(audit={"origin": "ancienne.example/audit"})  # what the line said to set
    result = CliRunner().invoke(main, ["--config", str(migrated.path), "audit", "key"])
    assert (result.exit_code, result.output.split("+")[0]) == (0, "ancienne.example/audit")


def test_a_malformed_key_says_so_without_showing_it(
    migrated: ConfigFolder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "audit-signing-key"
    key_file.write_text("PRIVATE+KEY+x.example/audit+00000000+c2VjcmV0\n", encoding="utf-8")
    production(migrated, key_file, monkeypatch)
    result = CliRunner().invoke(main, ["--config", str(migrated.path), "audit", "key"])
    error = assert_one_line_ending(result)
    assert result.exit_code == 2 and error.startswith(f"Error: audit signing key {key_file} is malformed")
    assert "c2VjcmV0" not in result.output


def guichet(config: ConfigFolder, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "gateway", "--config", str(config.path), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_a_demo_served_on_another_port_works_with_the_cli_without_exporting_anything(config: ConfigFolder) -> None:
    """What ``make run PORT=18801`` runs, then the audit commands in a shell where nothing is exported."""
    plain = {name: value for name, value in os.environ.items() if name != "GUICHET_PUBLIC_BASE_URL"}
    as_make_run = {**plain, "GUICHET_PUBLIC_BASE_URL": "http://127.0.0.1:18801"}
    assert guichet(config, "db", "upgrade", env=as_make_run).returncode == 0
    seeded = guichet(config, "demo", "seed", env=as_make_run)
    assert seeded.returncode == 0, seeded.stderr
    key = guichet(config, "audit", "key", env=plain)
    assert (key.returncode, key.stdout.split("+")[0]) == (0, "127.0.0.1:18801/audit"), key.stderr
    verified = guichet(config, "audit", "verify", env=plain)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("audit log verified: entries 0 to ")
    # the log keeps its name when the demo moves to yet another port
    elsewhere = guichet(config, "audit", "checkpoint", env={**plain, "GUICHET_PUBLIC_BASE_URL": "http://127.0.0.1:9"})
    assert (elsewhere.returncode, elsewhere.stdout.split("\n")[0]) == (0, "127.0.0.1:18801/audit")
    assert guichet(config, "audit", "verify", env=plain).returncode == 0
