"""Finding a request's route among ~150 without asking each of them.

Starlette's router asks every route in turn whether it matches (a regular
expression each); the gateway's routes are ordered fixed paths first, so a
filing through the API was answered by about the 105th route asked, which
cost a quarter of the event loop's time per request. Most routes start with
fixed segments (``/api/v1/communes/…``, ``/agents/…``): a route whose fixed
first segments differ from the path's cannot match it, whatever the method.
:class:`IndexedRouter` asks only the routes that could, in the same order, and
takes the first full match, as Starlette would. Anything else — no full match
among them (a 405, a trailing-slash redirect, a 404), a WebSocket, the
lifespan, an app served under a root path — goes through Starlette's own loop over every route, unchanged.

``tests/test_route_index.py`` holds it to Starlette's answer for every route
of the demo deployment and for paths near them.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import Receive, Scope, Send

from gateway.web.routing import ConcreteFirstRoute

#: how many leading fixed segments index a route (``api``, ``v1``, ``communes``)
DEPTH = 3
#: distinct leading segments remembered (a path's segments may hold a reference or a slug)
CACHE_LIMIT = 4096


def fixed_segments(route: BaseRoute) -> tuple[str, ...] | None:
    """The route's leading fixed path segments (up to :data:`DEPTH`); None: ask it for every path."""
    if type(route) not in (Route, ConcreteFirstRoute) or not isinstance(route, Route):  # another kind may match
        return None  # paths its pattern does not describe
    segments = route.path.split("/")[1:]
    fixed: list[str] = []
    for segment in segments[:DEPTH]:
        if "{" in segment:
            break
        fixed.append(segment)
    return tuple(fixed)


def leading_segments(path: str) -> tuple[str, ...]:
    """A request path's first :data:`DEPTH` segments."""
    return tuple(path.split("/", DEPTH + 1)[1 : DEPTH + 1])


def may_match(fixed: tuple[str, ...] | None, leading: tuple[str, ...]) -> bool:
    """Whether a route with these fixed segments can match a path starting with ``leading``.

    A route's last fixed segment is compared whole, since the route's pattern
    ends each segment at a ``/`` or at the end of the path.
    """
    if fixed is None:
        return True
    if len(fixed) > len(leading):
        return False
    return fixed == leading[: len(fixed)]


class IndexedRouter(Router):
    """Starlette's router, asking only the routes a path's leading segments allow."""

    def __init__(self, routes: Sequence[BaseRoute] | None = None, **options: object) -> None:
        super().__init__(routes, **options)  # type: ignore[arg-type]
        self._indexed: tuple[int, int] = (0, -1)  # the routes list indexed: its identity and length
        self._fixed: list[tuple[str, ...] | None] = []
        self._candidates: dict[tuple[str, ...], list[BaseRoute]] = {}

    def candidates(self, path: str) -> list[BaseRoute]:
        """The routes that may match ``path``, in the router's order."""
        if self._indexed != (id(self.routes), len(self.routes)):  # routes added since: index again
            self._indexed = (id(self.routes), len(self.routes))
            self._fixed = [fixed_segments(route) for route in self.routes]
            self._candidates = {}
        leading = leading_segments(path)
        found = self._candidates.get(leading)
        if found is None:
            found = [route for route, fixed in zip(self.routes, self._fixed, strict=True) if may_match(fixed, leading)]
            if len(self._candidates) >= CACHE_LIMIT:
                self._candidates.clear()
            self._candidates[leading] = found
        return found

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):  # mounted elsewhere: Starlette's loop
            for route in self.candidates(scope["path"]):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.setdefault("router", self)
                    scope["route"] = route
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await super().app(scope, receive, send)
