"""The route index finds the route Starlette's own loop finds, for every route of the demo and paths near them."""

from __future__ import annotations

import pytest
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import Scope

from gateway.app import create_app
from gateway.testing import ConfigFolder
from gateway.web.route_index import IndexedRouter, fixed_segments, leading_segments, may_match

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
SAMPLES = {"int": "123", "path": "a/b", "str": "venissieux"}


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory) -> Router:
    config = ConfigFolder.demo(tmp_path_factory.mktemp("demo"))
    app = create_app(config.path, check_migrations=False)
    assert isinstance(app.router, IndexedRouter)
    return app.router


def _scope(method: str, path: str) -> Scope:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": [], "query_string": b""}


def _starlette_choice(routes: list[BaseRoute], method: str, path: str) -> BaseRoute | None:
    """What Starlette's loop answers with a full match: the first route matching fully."""
    for route in routes:
        if route.matches(_scope(method, path))[0] is Match.FULL:
            return route
    return None


def _indexed_choice(router: IndexedRouter, method: str, path: str) -> BaseRoute | None:
    for route in router.candidates(path):
        if route.matches(_scope(method, path))[0] is Match.FULL:
            return route
    return None


def _paths(routes: list[BaseRoute]) -> set[str]:
    """Each route's path with sample values, and the same with a slash more or less, a segment more, another start."""
    paths = {"/", "/nowhere", "/api", "/api/v1", "/api/v2/communes"}
    for route in routes:
        if not isinstance(route, Route):
            continue
        path = route.path_format
        for name, convertor in route.param_convertors.items():
            kind = type(convertor).__name__.removesuffix("Convertor").lower()
            path = path.replace("{" + name + "}", SAMPLES.get(kind, "x"))
        paths |= {path, path.rstrip("/") or "/", path + "/", path + "/extra", "/other" + path}
    return paths


def test_every_route_and_nearby_path_finds_the_route_starlette_finds(router: IndexedRouter) -> None:
    paths = _paths(router.routes)
    assert len(paths) > 300
    for path in sorted(paths):
        for method in METHODS:
            assert _indexed_choice(router, method, path) is _starlette_choice(router.routes, method, path), (
                method,
                path,
            )


def test_a_route_added_after_the_first_request_is_found(router: IndexedRouter) -> None:
    router.candidates("/api/v1/communes")

    async def endpoint(_request: object) -> None:
        raise AssertionError

    added = Route("/api/v1/communes/zz-added", endpoint)
    router.routes.append(added)
    try:
        assert added in router.candidates("/api/v1/communes")
    finally:
        router.routes.remove(added)


@pytest.mark.parametrize(
    ("path", "leading"),
    [("/", ("",)), ("/api", ("api",)), ("/api/v1/communes/x/requests", ("api", "v1", "communes"))],
)
def test_a_path_is_indexed_by_its_first_three_segments(path: str, leading: tuple[str, ...]) -> None:
    assert leading_segments(path) == leading


def test_a_route_with_a_parameter_first_is_asked_for_every_path() -> None:
    async def endpoint(_request: object) -> None:
        raise AssertionError

    route = Route("/{commune}/contact", endpoint)
    assert fixed_segments(route) == ()
    assert may_match(fixed_segments(route), ("agents",))


def test_a_route_is_not_asked_for_a_path_with_other_fixed_segments() -> None:
    async def endpoint(_request: object) -> None:
        raise AssertionError

    route = Route("/agents/demandes/{reference}", endpoint)
    assert fixed_segments(route) == ("agents", "demandes")
    assert not may_match(fixed_segments(route), ("agents", "demandesx", "1"))
    assert not may_match(fixed_segments(route), ("agents",))
    assert may_match(fixed_segments(route), ("agents", "demandes", "1"))
