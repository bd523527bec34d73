"""uvicorn's supervisor of ``--workers N``, saying why a worker ended before it starts another.

uvicorn's own supervisor restarts a worker that died with one line at INFO,
"Child process [pid] died", which says neither that it matters nor why. This
one logs, at ERROR, how each worker ended (its exit code, or the signal that
killed it) before uvicorn replaces it. A worker that keeps failing soon after
it started (a database down, a broken plugin) is not replaced in a tight loop:
each failure within :data:`QUICK_SECONDS` of its start makes the next
replacement wait longer (1, 2, 4 … seconds, at most :data:`MAX_WAIT_SECONDS`),
while the other workers go on serving. A single worker runs as ``uvicorn.run``
runs it: there is no supervisor to restart it, the service manager does. Either
way SIGTERM lets the requests in flight finish, then the command exits 0.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import time
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess

logger = logging.getLogger(__name__)

#: a worker ending sooner than this after it started counts as failing to start
QUICK_SECONDS = 10.0
#: the longest a failing worker's replacement waits
MAX_WAIT_SECONDS = 60.0


def replacement_wait(quick_failures: int) -> float:
    """Seconds before replacing a worker after ``quick_failures`` quick failures in a row: 0, 0, 1, 2, 4 … 60."""
    if quick_failures <= 1:
        return 0.0
    return min(2.0 ** (quick_failures - 2), MAX_WAIT_SECONDS)


def how_it_ended(exitcode: int) -> str:
    """``exit code 1``, ``killed by SIGKILL``."""
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


class Supervisor(Multiprocess):
    """uvicorn's multiprocess supervisor, which logs why a worker ended and spaces the replacements of failing ones."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._born: dict[int, float] = {}
        self._quick_failures = 0
        self._not_before = 0.0

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        now = time.monotonic()
        for process in self.processes:
            self._born.setdefault(id(process), now)
        if now < self._not_before:
            self._check_while_waiting()
            return
        self._check_and_replace(now)

    def _check_while_waiting(self) -> None:
        """uvicorn's checks on the workers still running; those that ended wait for their turn."""
        everyone = self.processes
        running = [index for index, process in enumerate(everyone) if process.exitcode is None]
        self.processes = [everyone[index] for index in running]
        try:
            self._check_and_replace(time.monotonic())
        finally:
            for position, index in enumerate(running):
                everyone[index] = self.processes[position]
            self.processes = everyone

    def _check_and_replace(self, now: float) -> None:
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
            self._count(now - self._born.pop(id(process), now))

    def _count(self, lived: float) -> None:
        """A worker that failed soon after it started makes the next replacement wait; one that served resets."""
        self._quick_failures = self._quick_failures + 1 if lived < QUICK_SECONDS else 0
        wait = replacement_wait(self._quick_failures)
        if wait:
            self._not_before = time.monotonic() + wait
            logger.error(
                "%d workers in a row ended within %d s of starting; the next one is replaced after %g s",
                self._quick_failures,
                QUICK_SECONDS,
                wait,
            )


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
