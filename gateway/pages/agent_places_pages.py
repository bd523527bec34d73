"""The places board of a service (``/agents/{commune}/places/{service}``): requests against capacity, per group.

Registered, with the other agents' pages, by :mod:`gateway.builtin.back_office`.
The plugin providing the service names what is counted
(``guichet_service_places``); the back office counts and checks the grant
(:mod:`gateway.requests.backoffice.places`). The page only lays the counts
out: one table per group, each state of a counter said in words.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.pages.agent_pages import _agent
from gateway.requests.backoffice.places import PlacesQueries
from gateway.web.lookups import database_of, registry_of
from gateway.web.templating import render


def places_queries(request: Request) -> PlacesQueries:
    """The app's :class:`PlacesQueries`, made once (its attachment store is not used, only its grant checks)."""
    queries: PlacesQueries | None = getattr(request.app.state, "places_queries", None)
    if queries is None:
        queries = PlacesQueries(request.app.state.db, registry_of(request))
        request.app.state.places_queries = queries
    return queries


async def places_page(request: Request) -> Response:
    caller, commune = await _agent(request)
    key = request.path_params["service"]
    office = places_queries(request)
    board = await database_of(request).run(lambda: office.board(caller, commune.slug, key))
    over = sum(1 for group in board.groups for count in group.counts if count.over)
    return render(request, "agents/places.html", {"commune": commune, "board": board, "over": over})


def routes() -> list[BaseRoute]:
    return [Route("/agents/{commune}/places/{service}", places_page, name="agents_places")]
