"""The access log and the request metrics: one line and one count per request, under its request id.

:class:`RequestLogMiddleware` wraps the whole application, error page included,
so it sees the status the client got; :class:`RouteRecorder`, the innermost
middleware, notes which route answered (the router writes it into a scope that
the middlewares between them may have copied). A line names the route's
template (``/{commune}/{service}``), never the path typed: a path carries
references and ids, a query string one-time codes and tokens, and neither
belongs in a log. The commune is named only when it is one of the deployment's.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.observability import metrics, request_id
from gateway.observability.logs import ACCESS_LOGGER

logger = logging.getLogger(ACCESS_LOGGER)
#: where the innermost middleware leaves the matched route for the outermost one
ROUTED_KEY = "guichet.routed"
#: the route label of a request no route answered (a 404, or refused before routing)
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _incoming_id(scope: Scope) -> bytes | None:
    for name, value in scope.get("headers") or ():
        if name == b"x-request-id":
            return bytes(value)
    return None


class RequestLogMiddleware:
    """Request id in, request id out, one access line and the request metrics once the answer is sent."""

    def __init__(self, app: ASGIApp, *, communes: Iterable[str]) -> None:
        self.app = app
        self.communes = frozenset(communes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id.accepted(_incoming_id(scope))
        token = request_id.current.set(rid)
        routed: dict[str, Any] = {}
        scope[ROUTED_KEY] = routed
        answer = {"status": 500, "bytes": 0}
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                MutableHeaders(scope=message)["X-Request-Id"] = rid
            elif message["type"] == "http.response.body":
                answer["bytes"] += len(message.get("body", b""))
            await send(message)

        metrics.IN_PROGRESS.inc()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            metrics.IN_PROGRESS.dec()
            self._record(scope, routed, answer, time.perf_counter() - started)
            request_id.current.reset(token)

    def _record(self, scope: Scope, routed: dict[str, Any], answer: dict[str, int], seconds: float) -> None:
        method = scope["method"] if scope["method"] in METHODS else "other"
        route = routed.get("route") or UNMATCHED
        status = str(answer["status"])
        metrics.REQUESTS.labels(method=method, route=route, status=status).inc()
        metrics.LATENCY.labels(method=method, route=route, status=status).observe(seconds)
        commune = routed.get("commune")
        logger.info(
            "%s %s %s",
            method,
            route,
            status,
            extra={
                "fields": {
                    "method": method,
                    "route": route,
                    "status": answer["status"],
                    "duration_ms": round(seconds * 1000, 1),
                    "bytes": answer["bytes"],
                    "commune": commune if commune in self.communes else None,
                    "worker_pid": os.getpid(),
                }
            },
        )


class RouteRecorder:
    """Innermost: after the router ran, note the matched route's template and commune for the access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            routed = scope.get(ROUTED_KEY)
            route = scope.get("route")
            if isinstance(routed, dict) and route is not None:
                routed["route"] = getattr(route, "path", None) or UNMATCHED
                commune = (scope.get("path_params") or {}).get("commune")
                routed["commune"] = commune if isinstance(commune, str) else None
