"""uvicorn's supervisor of ``--workers N``, saying why a worker ended before it starts another.

uvicorn's own supervisor restarts a worker that died with one line at INFO,
"Child process [pid] died", which says neither that it matters nor why. This
one logs, at ERROR, how each worker ended (its exit code, or the signal that
killed it) before uvicorn replaces it. A single worker runs as ``uvicorn.run``
runs it: there is no supervisor to restart it, the service manager does. Either
way SIGTERM lets the requests in flight finish, then the command exits 0.
"""

from __future__ import annotations

import contextlib
import logging
import signal
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess

logger = logging.getLogger(__name__)


def how_it_ended(exitcode: int) -> str:
    """``exit code 1``, ``killed by SIGKILL``."""
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


class Supervisor(Multiprocess):
    """uvicorn's multiprocess supervisor, which logs why a worker ended before replacing it."""

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        ended = {id(process): process.exitcode for process in self.processes}  # None: running, as far as we know
        for process in self.processes:
            if process.exitcode == STARTUP_FAILURE:  # uvicorn stops then: the app, TLS or socket would fail each time
                logger.error("worker process %s failed to start (exit code 3): the gateway stops", process.pid)
        before = list(self.processes)
        super().keep_subprocess_alive()
        for process in before:
            if process in self.processes or process.exitcode is None:
                continue  # still serving
            how = how_it_ended(process.exitcode)
            if ended[id(process)] is None:  # it ended, or stopped answering, while uvicorn checked on it
                how = f"stopped answering the supervisor's health check and was stopped ({how})"
            else:
                how = f"ended ({how})"
            logger.error("worker process %s %s; starting another", process.pid, how)


def _stop_asked(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


def run_uvicorn(app: str, **options: Any) -> None:
    """``uvicorn.run(app, **options)``, with :class:`Supervisor` for several workers."""
    if options.get("workers", 1) <= 1:
        # uvicorn finishes the requests in flight, then raises SIGTERM again: a stop asked for ends with exit code 0
        previous = signal.signal(signal.SIGTERM, _stop_asked)
        try:
            uvicorn.run(app, **options)
        finally:
            signal.signal(signal.SIGTERM, previous)
        return
    config = uvicorn.Config(app, **options)
    socket = config.bind_socket()
    with contextlib.suppress(KeyboardInterrupt):
        Supervisor(config, sockets=[socket]).run()
