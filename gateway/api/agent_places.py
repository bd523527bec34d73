"""A service's places board as JSON (``/api/v1/communes/{commune}/services/{service}/places``).

The twin of :mod:`gateway.pages.agent_places_pages`: the same counts, from
:mod:`gateway.requests.backoffice.places`, which checks the caller's grant
(any level on the service in the commune) and records a refusal. The
endpoint takes no query parameter; one sent is a 400 problem naming it.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.api.agent_queue import BAD_QUERY, QUERY_ERRORS, UNKNOWN_PARAMETER
from gateway.api.agents import AGENT, GRANTED, _signed_in_staff
from gateway.api.request_input import ShapeError, answers_shape_errors
from gateway.api.request_json import PREFIX, both
from gateway.requests.backoffice.places import PlacesBoard, PlacesCount, PlacesQueries
from gateway.web.lookups import database_of, registry_of
from gateway.web.openapi import json_response, operation, problem_response


def _count(count: PlacesCount) -> dict[str, Any]:
    return {
        "label": both(count.label),
        "match": dict(count.match),
        "capacity": count.capacity,
        "in_progress": count.in_progress,
        "accepted": count.accepted,
        "closed": count.closed,
        "left": count.left,
        "over": count.over,
        "oversubscribed": count.oversubscribed,
    }


def board_json(board: PlacesBoard) -> dict[str, Any]:
    return {
        "service": board.service.key,
        "title": both(board.service.title),
        "groups": [
            {"label": both(group.label), "places": [_count(count) for count in group.counts]} for group in board.groups
        ],
    }


@operation(
    summary="A service's places board",
    operationId="getPlaces",
    description=(
        "The commune's requests of the service counted against the capacities its plugin names, by workflow "
        "state: undecided, accepted (holding a place) and closed. Counts only, no request. Any grant on the "
        "service in the commune reads it."
    ),
    **AGENT,
    responses={
        "200": json_response("The board: a group per table, a counter per row.", "PlacesBoard"),
        "400": BAD_QUERY,
        **GRANTED,
        "404": problem_response("No such commune, the commune does not offer the service, or it has no board."),
        "503": problem_response("The service's plugin is temporarily unavailable."),
    },
)
@answers_shape_errors
async def get_places(request: Request) -> Response:
    caller, commune = await _signed_in_staff(request)
    if request.query_params:
        errors = [(name, UNKNOWN_PARAMETER) for name in dict.fromkeys(request.query_params)]
        raise ShapeError(400, QUERY_ERRORS, errors, "urn:guichet:problem:bad-query-parameter")
    key = request.path_params["service"]
    office = PlacesQueries(request.app.state.db, registry_of(request))
    board = await database_of(request).run(lambda: office.board(caller, commune.slug, key))
    return JSONResponse(board_json(board))


def routes() -> list[BaseRoute]:
    return [Route(f"{PREFIX}/communes/{{commune}}/services/{{service}}/places", get_places, name="api_places")]
