"""`guichet audit ...`: verify, checkpoint, key, export, verify-bundle, prune."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlmodel import select

from gateway.cli import main
from gateway.db import Database
from gateway.models import AuditEntry
from gateway.testing import ConfigFolder, migrate
from tests.audit_tamper import tamper


@pytest.fixture
def seeded(config: ConfigFolder) -> ConfigFolder:
    """The demo configuration with its demo data filed (its staff, their accounts and links, audited)."""
    migrate(f"sqlite:///{config.data_dir / 'guichet.db'}")
    assert run(config, "demo", "seed").exit_code == 0
    return config


def entries(config: ConfigFolder) -> int:
    """How many entries the demo seed wrote (it grows with the demo; the tests say what follows from it)."""
    db = Database(f"sqlite:///{config.data_dir / 'guichet.db'}")
    try:
        with db.session(all_communes=True) as session:
            return len(session.exec(select(AuditEntry)).all())
    finally:
        db.dispose()


def run(config: ConfigFolder, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config.path), *args], catch_exceptions=False)


def test_verify_accepts_an_untouched_log(seeded: ConfigFolder) -> None:
    run(seeded, "audit", "checkpoint")
    result = run(seeded, "audit", "verify")
    assert result.exit_code == 0
    size = entries(seeded)
    assert f"audit log verified: entries 0 to {size - 1}, 1 checkpoint(s) match their signature" in result.output


def test_verify_names_the_tampered_entry_and_exits_1(seeded: ConfigFolder) -> None:
    database = Database(f"sqlite:///{seeded.data_dir / 'guichet.db'}")
    tamper(database, "DELETE FROM audit_entry WHERE seq = 3")
    database.dispose()
    result = run(seeded, "audit", "verify")
    assert result.exit_code == 1
    assert "audit log NOT verified: entry 3 is missing" in result.output


def test_checkpoint_prints_a_signed_note(seeded: ConfigFolder) -> None:
    note = run(seeded, "audit", "checkpoint").output
    lines = note.split("\n")
    assert lines[0].endswith("/audit") and lines[1] == str(entries(seeded)) and lines[3] == ""
    assert lines[4].startswith("\u2014 ")


def test_key_prints_the_verifier_key(seeded: ConfigFolder) -> None:
    key = run(seeded, "audit", "key").output.strip()
    name, hint, blob = key.split("+", 2)
    assert name.endswith("/audit") and len(hint) == 8 and blob


def test_keygen_prints_a_signing_key(config: ConfigFolder) -> None:
    result = CliRunner().invoke(main, ["audit", "keygen", "syndicat.example/audit"])
    assert result.output.startswith("PRIVATE+KEY+syndicat.example/audit+")


def test_export_then_verify_bundle_with_the_gateways_key(seeded: ConfigFolder, tmp_path: Path) -> None:
    bundle = tmp_path / "export.json"
    exported = run(seeded, "audit", "export", "--since", "2000-01-01", "-o", str(bundle))
    size = entries(seeded)
    assert f"{size} entries written" in exported.output
    key = run(seeded, "audit", "key").output.strip()
    checked = run(seeded, "audit", "verify-bundle", str(bundle), "--key", key)
    assert checked.exit_code == 0
    assert checked.output.startswith(f"bundle verified: {size} entries included in the signed log of {size}")


def test_verify_bundle_refuses_a_modified_bundle(seeded: ConfigFolder, tmp_path: Path) -> None:
    bundle = tmp_path / "export.json"
    run(seeded, "audit", "export", "-o", str(bundle))
    document = json.loads(bundle.read_text())
    document["entries"][0]["entry"] = document["entries"][0]["entry"].replace("system", "agent")
    bundle.write_text(json.dumps(document))
    result = run(seeded, "audit", "verify-bundle", str(bundle))
    assert result.exit_code == 1
    assert "bundle NOT verified: entry 0" in result.output


def test_verify_bundle_warns_when_trusting_the_bundles_own_key(seeded: ConfigFolder, tmp_path: Path) -> None:
    bundle = tmp_path / "export.json"
    run(seeded, "audit", "export", "-o", str(bundle))
    result = CliRunner().invoke(main, ["audit", "verify-bundle", str(bundle)])
    assert "warning: trusting the verifier key inside the bundle" in result.output


def test_prune_with_nothing_expired_says_so(seeded: ConfigFolder) -> None:
    assert run(seeded, "audit", "prune").output.strip() == "nothing to remove"


def test_audit_commands_need_a_signing_key_outside_demo_mode(
    seeded: ConfigFolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded.set_gateway(
        gateway={"demo": False},
        demo_identity={"enabled": False},
        secret_key={"env": "GUICHET_TEST_SECRET", "generate_if_missing": False},
        audit={"generate_if_missing": False, "signing_key_file": str(seeded.path.parent / "no-such-key")},
    )
    monkeypatch.setenv("GUICHET_TEST_SECRET", "x" * 40)
    result = run(seeded, "audit", "checkpoint")
    assert result.exit_code == 2
    assert "no audit signing key" in result.output


def test_verify_checks_the_checkpoints_held_outside(seeded: ConfigFolder, tmp_path: Path) -> None:
    held = tmp_path / "checkpoints.txt"
    held.write_text(run(seeded, "audit", "checkpoint").output, encoding="utf-8")
    result = run(seeded, "audit", "verify", "--checkpoints", str(held))
    assert result.exit_code == 0
    assert "1 checkpoint(s) match their signature, 1 held outside" in result.output


def test_verify_fails_when_the_database_lost_a_held_checkpoint(seeded: ConfigFolder, tmp_path: Path) -> None:
    held = tmp_path / "checkpoints.txt"
    held.write_text(run(seeded, "audit", "checkpoint").output, encoding="utf-8")
    database = Database(f"sqlite:///{seeded.data_dir / 'guichet.db'}")
    tamper(database, "DELETE FROM audit_checkpoint")
    database.dispose()
    result = run(seeded, "audit", "verify", "--checkpoints", str(held))
    assert result.exit_code == 1
    assert f"the database lacks checkpoint {entries(seeded)}, held outside" in result.output


def test_verify_fails_a_log_whose_checkpoints_were_deleted(seeded: ConfigFolder) -> None:
    database = Database(f"sqlite:///{seeded.data_dir / 'guichet.db'}")
    tamper(database, "DELETE FROM audit_checkpoint")
    database.dispose()
    result = run(seeded, "audit", "verify")
    assert result.exit_code == 1
    assert f"no checkpoint seals the log's {entries(seeded)} entries" in result.output
