"""The demo's witnesses, run inside ``guichet serve`` so that ``make run`` shows witnessed checkpoints.

For each ``[[audit.witnesses]]`` marked ``demo = true`` (allowed only in a demo,
on a loopback address), a witness is served on its url's port from a thread,
its key made under ``<data_dir>/demo-witnesses/``. The worker ``guichet serve``
starts beside the server in a demo (``guichet worker``, its checkpoint job)
seals when a checkpoint is due and sends it to them. In production witnesses
run on other machines (``guichet audit witness``), the worker as a service.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import uvicorn

from gateway.audit.cosignature import load_witness_key
from gateway.audit.keys import signer_for
from gateway.audit.witnessing import demo_witness_key_path, witness_key_name
from gateway.settings import Settings
from gateway.witness.app import create_witness_app
from gateway.witness.config import WitnessConfig, follow


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
