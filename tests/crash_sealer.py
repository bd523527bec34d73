"""A process sealing a checkpoint, killed mid-seal (spawned by tests/test_audit_processes.py).

    python -m tests.crash_sealer CONFIG

It seals as ``guichet audit checkpoint`` does — the deployment's key and
origin, through :func:`gateway.audit.sealing.seal` — with a heartbeat due, so
the seal's transaction first appends an ``audit.seal`` entry and moves the
log's head. Its key then stops at the signature: it prints ``signing`` and
waits to be killed, inside that transaction, holding the log's lock.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path

from gateway.audit.checkpoint import Signer
from gateway.audit.keys import signer_for
from gateway.audit.sealing import seal
from gateway.db import Database
from gateway.settings import load_settings

WAIT = 60  # seconds: how long the process waits to be killed, a bound on a hang


class HeldSigner(Signer):
    """The deployment's key, which says when it is about to sign and then waits."""

    def sign(self, message: bytes) -> bytes:
        print("signing", flush=True)
        time.sleep(WAIT)
        return super().sign(message)


def main(config: Path) -> None:
    settings = load_settings(config)
    signer = HeldSigner.from_text(signer_for(settings).to_text())
    db = Database(settings.database_url)
    seal(db, signer, settings.audit_origin, heartbeat_after=timedelta(0))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
