"""What ``guichet serve`` waits for before it starts: a database it can reach, for as long as configured.

``[database] start_retry_seconds`` says how long a gateway keeps trying a
database it cannot reach (0, the default: it stops at once, with one line, and
the service manager restarts it). Each failed try is said on one line; a
database that is reachable but not migrated stops the start at once: waiting
would not migrate it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError

from gateway.cli.failures import one_line
from gateway.db import Database

#: seconds between two tries
RETRY_PAUSE = 2.0


def wait_for_database(database: Database, retry_seconds: float, say: Callable[[str], None]) -> None:
    """Return once ``database`` answers and is migrated; raise the last fault once ``retry_seconds`` are spent."""
    deadline = time.monotonic() + retry_seconds
    while True:
        try:
            database.require_migrated()
            return
        except DBAPIError as error:
            left = deadline - time.monotonic()
            if left <= 0:
                raise
            say(f"database unreachable: {one_line(str(error.orig))}; trying again for {left:.0f} s more")
            database.engine.dispose()  # no half-opened connection kept for the next try
        time.sleep(min(RETRY_PAUSE, max(left, 0)))
