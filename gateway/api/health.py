"""Probes for the process supervisor: ``/healthz`` (alive) and ``/readyz`` (database ready)."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.db import NotMigrated
from gateway.web.openapi import json_response, operation

logger = logging.getLogger(__name__)


@operation(summary="The process is alive", operationId="healthz", responses={"200": json_response("Alive.", "Health")})
async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


@operation(
    summary="The database is reachable and migrated",
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
    return JSONResponse({"status": "ok"})


def routes() -> list[BaseRoute]:
    return [Route("/healthz", healthz, name="healthz"), Route("/readyz", readyz, name="readyz")]
