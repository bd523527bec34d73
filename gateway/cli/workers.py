"""The worker processes of ``guichet serve``: an app factory that says why a worker could not start.

uvicorn calls :func:`worker_app` in each worker. A fault there used to leave a
traceback on the standard error of a process nobody watched, or nothing at all
in the log; here it is logged — one line for a known setting or start-up fault,
the traceback for anything else — and the worker exits with code 1, so the
supervisor (:mod:`gateway.cli.supervisor`) says so and starts another. A short
pause first keeps a fault that persists from restarting workers in a tight loop.
"""

from __future__ import annotations

import logging
import os
import sys
import time

from starlette.applications import Starlette

from gateway.app import create_app_from_env
from gateway.cli.failures import setting_fault

logger = logging.getLogger(__name__)

#: seconds a worker that could not start waits before exiting (and being replaced)
FAILED_START_PAUSE = 1.0


def worker_app() -> Starlette:
    """The gateway's app for one worker (``uvicorn --factory``); a fault is logged, then the worker exits 1."""
    try:
        return create_app_from_env()
    except Exception as error:
        known = setting_fault(error)
        if known is not None:
            logger.error("worker process %d could not start: %s", os.getpid(), known.message)
        else:
            logger.exception("worker process %d could not start", os.getpid())
        time.sleep(FAILED_START_PAUSE)
        sys.exit(1)
