"""Guichet with its audit log switched off: the "auditing off" side of the HTTP benchmark, and nothing else.

Guichet has no setting that turns auditing off, and must not have one: every
access to personal data is recorded or refused. To measure what auditing
costs, the benchmark serves this variant next to the real gateway: the same
app, in a process of its own, where

- the audit append (``gateway.audit.log.append``, run when a transaction
  commits) drops the queued events instead of writing them, so a filing's
  transaction holds no audit head read, Merkle update or entry insert;
- an agent's audited read (``record_read``) opens no write transaction at all.

Everything else (validation, tenancy, reference numbers, history, outbox,
the read sessions) is the gateway's own code. Serve with
``uvicorn bench.unaudited_app:create_app --factory``; never in a deployment.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

import gateway.audit.log
import gateway.requests.backoffice.queries
from gateway.app import create_app_from_env


def _drop_events(_session: Any, _events: Any, **_: Any) -> int:
    return 0  # the commit hook has taken the events off the session: they are dropped here


def _no_read_record(*_: Any, **__: Any) -> None:
    return None


def create_app() -> Starlette:
    """The gateway built from ``GUICHET_CONFIG``, with auditing off in this process."""
    gateway.audit.log.append = _drop_events  # type: ignore[assignment]
    gateway.requests.backoffice.queries.record_read = _no_read_record  # type: ignore[attr-defined]
    return create_app_from_env()
