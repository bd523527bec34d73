"""The auditor console and the audit log's API, registered as a default plugin."""

from __future__ import annotations

from starlette.routing import BaseRoute

from gateway import hookimpl
from gateway.api import audit_log
from gateway.pages import audit_log_pages


@hookimpl
def guichet_routes() -> list[BaseRoute]:
    return [*audit_log_pages.routes(), *audit_log.routes()]
