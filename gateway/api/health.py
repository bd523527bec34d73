"""Probes for the process supervisor: ``/healthz`` (alive) and ``/readyz`` (database ready, audit log writable)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.audit.probe import audit_write_fault
from gateway.db import Database, NotMigrated
from gateway.web.openapi import json_response, operation

logger = logging.getLogger(__name__)

#: seconds an audit write probe's answer is kept: a load balancer asking every second costs one probe per period
AUDIT_PROBE_SECONDS = 5.0


@dataclass
class AuditProbe:
    """The last answer of :func:`audit_write_fault` for one app, and when it was asked."""

    asked_at: float = float("-inf")
    fault: str | None = None

    async def fault_now(self, db: Database) -> str | None:
        if time.monotonic() - self.asked_at >= AUDIT_PROBE_SECONDS:
            self.fault = await db.run(audit_write_fault, db)
            self.asked_at = time.monotonic()
            if self.fault:
                logger.warning("readiness check failed: the audit log cannot be written: %s", self.fault)
        return self.fault


@operation(summary="The process is alive", operationId="healthz", responses={"200": json_response("Alive.", "Health")})
async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


@operation(
    summary="The database is reachable and migrated, and the audit log can be written",
    operationId="readyz",
    responses={"200": json_response("Ready to serve.", "Health"), "503": json_response("Not ready.", "Health")},
)
async def readyz(request: Request) -> Response:
    db = request.app.state.db
    try:
        await db.run(db.require_migrated)
    except NotMigrated:
        return JSONResponse({"status": "unavailable", "detail": "database not migrated"}, status_code=503)
    except (SQLAlchemyError, OSError) as error:
        logger.warning("readiness check failed: %s", error)
        return JSONResponse({"status": "unavailable", "detail": "database unreachable"}, status_code=503)
    probe: AuditProbe = getattr(request.app.state, "audit_probe", None) or AuditProbe()
    request.app.state.audit_probe = probe
    if await probe.fault_now(db):
        return JSONResponse({"status": "unavailable", "detail": "audit log cannot be written"}, status_code=503)
    return JSONResponse({"status": "ok"})


def routes() -> list[BaseRoute]:
    return [Route("/healthz", healthz, name="healthz"), Route("/readyz", readyz, name="readyz")]
