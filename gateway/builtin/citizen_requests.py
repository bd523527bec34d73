"""The citizen's request pages (``/mes-demandes``), and the follow page of a request filed without an account
(``/suivi/<token>``), registered as a default plugin."""

from __future__ import annotations

from starlette.routing import BaseRoute

from gateway import hookimpl
from gateway.pages import citizen_request_pages, follow_pages


@hookimpl
def guichet_routes() -> list[BaseRoute]:
    return [*citizen_request_pages.routes(), *follow_pages.routes()]
