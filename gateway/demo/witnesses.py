"""The demo's witnesses and sealing, run inside ``guichet serve`` so that ``make run`` shows witnessed checkpoints.

For each ``[[audit.witnesses]]`` marked ``demo = true`` (allowed only in a demo,
on a loopback address), a witness is served on its url's port from a thread,
its key made under ``<data_dir>/demo-witnesses/``. A sealing thread then does
what ``guichet audit checkpoint --every 30`` would: seal when a checkpoint is
due and send it to the witnesses. In production both run apart: witnesses on
other machines (``guichet audit witness``), sealing from cron or a service.
"""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import urlsplit

import uvicorn

from gateway.audit.cosignature import load_witness_key
from gateway.audit.keys import signer_for
from gateway.audit.sealing import SealingPolicy
from gateway.audit.witnessing import demo_witness_key_path, sealing_round, witness_key_name, witnesses_of
from gateway.db import Database
from gateway.settings import Settings
from gateway.witness.app import create_witness_app
from gateway.witness.config import WitnessConfig, follow

logger = logging.getLogger(__name__)

SEALING_SECONDS = 30


def start_demo_witnesses(settings: Settings) -> list[str]:
    """Serve each demo witness from a daemon thread; the names of those started."""
    log = f"{settings.audit_origin} {signer_for(settings).verifier().to_text()}"
    started = []
    for section in settings.audit.witnesses:
        if not section.demo:
            continue
        folder = settings.data_dir / "demo-witnesses" / section.name
        signer = load_witness_key(
            demo_witness_key_path(settings, section.name), witness_key_name(section.name), create=True
        )
        config = WitnessConfig(signer, follow([log]), folder / "witness.sqlite", folder / "reports")
        address = urlsplit(section.url)
        server = uvicorn.Server(
            uvicorn.Config(
                create_witness_app(config),
                host=address.hostname or "127.0.0.1",
                port=address.port or 80,
                log_level="warning",
                access_log=False,
            )
        )
        threading.Thread(target=server.run, name=f"witness-{section.name}", daemon=True).start()
        started.append(section.name)
    return started


def start_demo_sealing(settings: Settings) -> None:
    """Seal when due and send to the witnesses, every half minute, from a daemon thread."""
    signer = signer_for(settings)
    policy = SealingPolicy.from_settings(settings.audit)
    witnesses = witnesses_of(settings)

    def loop() -> None:
        db = Database(settings.database_url)
        while True:
            time.sleep(SEALING_SECONDS)
            try:
                sealing_round(db, signer, settings.audit_origin, policy, witnesses)
            except Exception:  # a demo convenience: log and try again, never take the server down
                logger.exception("demo sealing failed; trying again in %s seconds", SEALING_SECONDS)

    threading.Thread(target=loop, name="demo-sealing", daemon=True).start()
