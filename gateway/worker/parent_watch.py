"""A worker started by ``guichet serve`` stops when that server is gone, however it ended.

The server asks its worker to stop on a clean exit, but a server killed outright
(SIGKILL, the machine's out-of-memory killer, a crashed supervisor) can ask
nothing: its worker, in a session of its own so Ctrl-C reaches the server only,
would go on running jobs for a deployment nobody serves. The server passes its
process id; once the worker's parent is another process (it was re-parented,
so the server died), the worker stops after the job in progress, as on SIGTERM.
"""

from __future__ import annotations

import logging
import os
import threading

#: how often the parent is looked at; the cost is one system call
CHECK_SECONDS = 1.0

logger = logging.getLogger("gateway.worker")


def parent_gone(parent_pid: int) -> bool:
    """Whether the process that started us is no longer our parent (it ended; we were re-parented)."""
    return os.getppid() != parent_pid


def stop_when_parent_ends(parent_pid: int, stop: threading.Event) -> threading.Thread:
    """Set ``stop`` once ``parent_pid`` is no longer our parent; the watching thread ends with ``stop``."""

    def watch() -> None:
        while not stop.wait(CHECK_SECONDS):
            if parent_gone(parent_pid):
                logger.warning("worker: the server that started it (pid %d) is gone; stopping", parent_pid)
                stop.set()

    thread = threading.Thread(target=watch, name="parent-watch", daemon=True)
    thread.start()
    return thread
