"""A gateway process filing through its group commit (spawned by tests/test_group_commit_processes.py).

    python -m tests.batch_filer CONFIG URL NAME file COUNT SHARED
        COUNT filings of its own and SHARED that every process sends too (same keys), all at once; then exits
    python -m tests.batch_filer CONFIG URL NAME stop-between COUNT
        COUNT filings at once, then prints ``idle`` and waits to be killed
    python -m tests.batch_filer CONFIG URL NAME stop-during COUNT
        COUNT filings at once, then COUNT more in a batch that never ends: prints ``in-batch`` and waits to be killed

Prints ``filed <key> <reference>`` for each filing once it is answered: what was acknowledged.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path

from sqlmodel import Session

from gateway.app import load_registry
from gateway.audit.events import Actor
from gateway.db import Database
from gateway.group_commit import GroupCommit
from gateway.requests.caller import Caller
from gateway.requests.filing import Submission, file_together
from gateway.requests.rules import rules_for
from gateway.settings import load_settings
from tests.lifecycle_desk import GOOD_ANSWERS
from tests.plugins import lifecycle_service

WAIT = 60  # seconds: how long the process waits to be killed, a bound on a hang


async def main(config: Path, url: str, name: str, mode: str, count: int, shared: int) -> None:
    registry = load_registry(load_settings(config), extra_plugins=[("lifecycle_service", lifecycle_service)])
    commune = registry.commune("venissieux")
    assert commune is not None
    rules = rules_for(registry, commune, "vignette")
    db = Database(url)
    writer = GroupCommit(db)
    caller = Caller(actor=Actor(f"citizen:{name}", "citizen"), origin=f"test {name}")

    async def file(key: str) -> None:
        filed = await file_together(db, writer, registry, rules, caller, Submission(GOOD_ANSWERS, key))
        assert filed.request is not None, filed.errors
        print(f"filed {key} {filed.request.reference}", flush=True)

    await asyncio.gather(*(file(f"{name}-{n}") for n in range(count)), *(file(f"shared-{n}") for n in range(shared)))
    if mode == "file":
        writer.close()
        db.dispose()
        return
    if mode == "stop-between":
        print("idle", flush=True)
        time.sleep(WAIT)
        return
    await stop_during(writer, [asyncio.ensure_future(file(f"{name}-late-{n}")) for n in range(count)])


async def stop_during(writer: GroupCommit, late: list[asyncio.Future[None]]) -> None:
    """Queue ``late`` behind a held batch, then a member that never ends after them: one batch, never committed."""
    held, release = threading.Event(), threading.Event()

    def hold(_session: Session) -> None:
        held.set()
        release.wait(WAIT)

    def never_ends(_session: Session) -> None:
        print("in-batch", flush=True)
        time.sleep(WAIT)

    writer.submit(None, hold)
    held.wait(WAIT)
    while writer.waiting() < len(late):
        await asyncio.sleep(0.01)
    writer.submit("venissieux", never_ends)
    release.set()
    await asyncio.sleep(WAIT)


if __name__ == "__main__":
    config, url, name, mode, *counts = sys.argv[1:]
    numbers = [int(number) for number in counts] + [0]
    asyncio.run(main(Path(config), url, name, mode, numbers[0], numbers[1]))
