"""Running the ``guichet`` command as an operator does, in a process of its own (the crash tests' restarts)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gateway.audit.keys import signer_for
from gateway.audit.sealing import seal
from gateway.db import Database
from gateway.settings import load_settings
from gateway.testing import ConfigFolder

ROOT = Path(__file__).resolve().parent.parent
WAIT = 120  # seconds: a bound on a hang, never a measure


def guichet(config: ConfigFolder, *args: str) -> list[str]:
    """The ``guichet`` command line on ``config``."""
    return [sys.executable, "-m", "gateway", "--config", str(config.path), *args]


def run_guichet(config: ConfigFolder, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(guichet(config, *args), cwd=ROOT, capture_output=True, text=True, timeout=WAIT, check=False)


def assert_sealed_and_verified(config: ConfigFolder) -> str:
    """``guichet audit checkpoint`` then ``guichet audit verify``, both succeeding; returns verify's line."""
    sealed = run_guichet(config, "audit", "checkpoint")
    assert sealed.returncode == 0, sealed.stderr
    verified = run_guichet(config, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("audit log verified: entries 0 to "), verified.stdout
    return verified.stdout.strip()


def assert_verified(config: ConfigFolder) -> str:
    """Seal with the deployment's own key in this process (one command start fewer), then ``guichet audit verify``."""
    settings = load_settings(config.path)
    database = Database(settings.database_url)
    try:
        seal(database, signer_for(settings), settings.audit_origin)
    finally:
        database.dispose()
    verified = run_guichet(config, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("audit log verified: entries 0 to "), verified.stdout
    return verified.stdout.strip()
