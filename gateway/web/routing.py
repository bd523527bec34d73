"""Concrete paths before templated ones, as OpenAPI matches them.

``POST /api/v1/communes/{commune}/requests/bulk-transitions`` and
``GET /api/v1/communes/{commune}/requests/{reference}`` overlap: Starlette
lets the second answer ``GET .../bulk-transitions`` (a reference named
``bulk-transitions``) while the document says that path takes ``POST`` only.
OpenAPI matches a concrete path before a templated one; here a route with
more path parameters steps aside on a path that a route with fewer claims,
so that path answers only its own methods (405 with their ``Allow`` for the others).
Only the API's routes (``/api/``), whose contract is the document, are treated so.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute, Match, Route
from starlette.types import Scope

API = "/api/"


class ConcreteFirstRoute(Route):
    """A templated route that matches nothing a more concrete route's path matches."""

    def __init__(self, route: Route, concrete: Sequence[Route]) -> None:
        super().__init__(route.path, route.endpoint, methods=list(route.methods or ()), name=route.name,
                         include_in_schema=route.include_in_schema)  # fmt: skip
        self.concrete = list(concrete)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match != Match.NONE and any(route.matches(scope)[0] != Match.NONE for route in self.concrete):
            return Match.NONE, {}
        return match, child_scope


def concrete_first(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """``routes`` with each plain templated route that another route's path overlaps made to step aside."""
    plain = [route for route in routes if type(route) is Route and route.path.startswith(API)]
    result: list[BaseRoute] = []
    for route in routes:
        if type(route) is Route and route.param_convertors and route.path.startswith(API):
            depth = route.path.count("/")
            concrete = [other for other in plain
                        if len(other.param_convertors) < len(route.param_convertors)
                        and other.path.count("/") == depth]  # fmt: skip
            if concrete:
                route = ConcreteFirstRoute(route, concrete)
        result.append(route)
    return result
