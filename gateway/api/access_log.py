"""The signed-in citizen's access log as JSON (``/api/v1/me/access-log``).

Registered by the default plugin :mod:`gateway.builtin.access_log`, beside the
pages; the reading itself is in :mod:`gateway.web.access_log_reading`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.web.access_log_reading import load_access_log
from gateway.web.openapi import json_response, operation, problem_response


@operation(
    summary="The signed-in citizen's access log",
    operationId="getMyAccessLog",
    responses={
        "200": json_response("Every recorded access to the citizen's data, newest first.", "AccessLog"),
        "401": problem_response("Not signed in as a citizen."),
    },
)
async def api_access_log(request: Request) -> Response:
    _principal, found, _locale = await load_access_log(request)
    return JSONResponse({"accesses": [access.as_dict() for access in found]})


def routes() -> list[BaseRoute]:
    return [
        Route("/api/v1/me/access-log", api_access_log, name="api_access_log"),
    ]
