"""The page a request filed without an account is followed on, reached by the signed link of its receipt e-mail.

No sign-in: the link is the key (:mod:`gateway.requests.follow`, which also
throttles links that lead nowhere and records each view). The page shows
the status and the steps, never the form's content nor any message's text.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.pages.citizen_request_pages import state_label
from gateway.requests.follow import PREFIX, FollowLinks
from gateway.web.dates import when
from gateway.web.i18n import choose_locale
from gateway.web.lookups import database_of, registry_of, request_origin
from gateway.web.templating import render


async def follow_page(request: Request) -> Response:
    token = request.path_params["token"]
    links = FollowLinks(database_of(request), registry_of(request))
    origin = request_origin(request)
    found = await database_of(request).run(lambda: links.follow(token[:200], origin))
    registry, locale = registry_of(request), choose_locale(request)
    commune = registry.commune(found.commune)
    provided = registry.services.get(found.service)
    workflow = provided.definition.workflow if provided is not None else None

    def label(status: str | None) -> str:
        return state_label(workflow, status, locale) if workflow is not None else (status or "")

    history = [
        {"event": event, "when": when(event.at, locale), "by_citizen": event.actor_role == "citizen",
         "to_label": label(event.to_status)}
        for event in found.history
    ]  # fmt: skip
    context = {
        "commune": commune,
        "service": provided.definition.title(locale) if provided is not None else found.service,
        "reference": found.reference,
        "status": label(found.status),
        "submitted": when(found.submitted_at, locale),
        "history": history,
    }
    response = render(request, "follow.html", context)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the link is the key: never passed on to another page
    return response


def routes() -> list[BaseRoute]:
    return [Route(PREFIX + "{token}", follow_page, name="follow_request")]
