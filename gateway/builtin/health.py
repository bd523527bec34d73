"""The probes ``/healthz`` and ``/readyz``, registered as a default plugin."""

from __future__ import annotations

from starlette.routing import BaseRoute

from gateway import hookimpl
from gateway.api import health


@hookimpl
def guichet_routes() -> list[BaseRoute]:
    return health.routes()
