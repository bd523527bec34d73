"""A minimal agent page, as a commune's back-office plugin would write one, to test access control end to end.

It lists a commune's requests for one service: the route checks the agent's
grant, and the store is opened for that commune only.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway import hookimpl
from gateway.requests.store import RequestStore
from gateway.web.access import require_staff

#: the plugin API version this plugin is written for (docs/plugin_api.md)
GUICHET_PLUGIN_API = "1.0"


async def list_requests(request: Request) -> Response:
    commune, service = request.path_params["commune"], request.path_params["service"]
    await require_staff(request, "agent", commune=commune, service=service, level="reader")
    db = request.app.state.db

    def load() -> list[str]:
        with db.session(commune=commune) as session:
            return [row.reference for row in RequestStore(session).list(service=service)]

    return JSONResponse({"references": await db.run(load)})


@hookimpl
def guichet_routes() -> list[BaseRoute]:
    return [Route("/essai-agents/{commune}/{service}", list_requests)]
