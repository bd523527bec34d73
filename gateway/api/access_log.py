"""The signed-in citizen's access log as JSON (``/api/v1/me/access-log``), and its proofs (``…/proofs``).

Registered by the default plugin :mod:`gateway.builtin.access_log`, beside the
pages; the reading itself is in :mod:`gateway.web.access_log_reading`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.web.access_log_proofs import access_log_bundle
from gateway.web.access_log_reading import entries_of, load_access_log
from gateway.web.openapi import json_response, operation, problem_response


@operation(
    summary="The signed-in citizen's access log",
    operationId="getMyAccessLog",
    responses={
        "200": json_response(
            "Every recorded access to the citizen's data, newest first; `act` numbers the entries one act wrote "
            "(a filing's steps, an agent's visit), as the page shows them on one line.",
            "AccessLog",
        ),
        "401": problem_response("Not signed in as a citizen."),
    },
)
async def api_access_log(request: Request) -> Response:
    _principal, found, _locale = await load_access_log(request)
    return JSONResponse({"accesses": [access.as_dict() for access in entries_of(found)]})


BUNDLE = {
    "type": "object",
    "required": ["format", "checkpoint", "tree_size", "entries", "selection"],
    "description": "A guichet-audit-bundle/1 document (docs/audit_format.md §6) with its `selection`.",
    "properties": {
        "format": {"const": "guichet-audit-bundle/1"},
        "checkpoint": {"type": "string", "description": "the signed checkpoint note, every signature line included"},
        "tree_size": {"type": "integer"},
        "verifier_keys": {"type": "array", "items": {"type": "string"}},
        "entries": {"type": "array", "items": {"type": "object"}},
        "selection": {"type": "object", "description": "subjects, not_yet_covered, withheld"},
    },
}


@operation(
    summary="The signed-in citizen's access-log entries with their proofs",
    operationId="getMyAccessLogProofs",
    description="Every entry about the citizen that the latest checkpoint covers, each with its inclusion proof, "
    "verifiable offline with `guichet audit verify-bundle` and the gateway's verifier key. Recorded.",
    responses={
        "200": {"description": "The citizen's bundle.", "content": {"application/json": {"schema": BUNDLE}}},
        "401": problem_response("Not signed in as a citizen."),
        "409": problem_response("No checkpoint has sealed the log yet: try again after the next one."),
    },
)
async def api_access_log_proofs(request: Request) -> Response:
    return JSONResponse(await access_log_bundle(request), headers={"Cache-Control": "no-store"})


def routes() -> list[BaseRoute]:
    return [
        Route("/api/v1/me/access-log", api_access_log, name="api_access_log"),
        Route("/api/v1/me/access-log/proofs", api_access_log_proofs, name="api_access_log_proofs"),
    ]
