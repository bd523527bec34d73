"""No input makes the gateway answer 500: hostile values against every route, as anonymous, citizen and agent.

Each answer is a 4xx with a page or a problem document saying what is wrong
(or a normal answer where the input is odd but valid), nothing is stored,
no exception escapes the app (which is what dropped the connection), and the
next request works. The routes come from the app's own router.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select
from starlette.applications import Starlette
from starlette.routing import Mount, Route

from gateway.app import create_app
from gateway.models import Attachment, ServiceRequest
from gateway.testing import ConfigFolder, GuichetClient, migrate, sign_in_citizen, sign_in_staff
from tests import hostile_corpus as corpus

REAL_VALUES = {"commune": "corbas", "service": "contact", "provider": "inconnu", "seq": "1", "id": "1"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Starlette]:
    root = tmp_path_factory.mktemp("hostile")
    config = ConfigFolder.demo(root)
    url = f"sqlite:///{root / 'guichet.db'}"
    migrate(url)
    config.set_gateway(database={"url": url})
    application = create_app(config.path)
    yield application
    application.state.db.dispose()


@pytest.fixture(scope="module")
def identities(app: Starlette) -> dict[str, httpx.Cookies]:
    """The cookies of an anonymous visitor, a signed-in citizen and a signed-in agent (and auditor)."""

    async def sign_in() -> dict[str, httpx.Cookies]:
        async with GuichetClient(app) as citizen, GuichetClient(app) as agent:
            sign_in_citizen(citizen, email="camille@example.org")
            await sign_in_staff(agent, "ana.agent", "agent:corbas:contact", "auditor:corbas")
            return {"anonymous": httpx.Cookies(), "citizen": citizen.cookies, "agent": agent.cookies}

    return asyncio.run(sign_in())


def _routes() -> list[tuple[str, str]]:
    """(method, path template) of every route the default app serves."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        config = ConfigFolder.demo(Path(folder))
        url = f"sqlite:///{Path(folder) / 'routes.db'}"
        config.set_gateway(database={"url": url})
        application = create_app(config.path, check_migrations=False)
        found = []
        for route in application.routes:
            if isinstance(route, Route):
                for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
                    found.append((method, route.path))
            elif isinstance(route, Mount):
                found.append(("GET", route.path + "/{path}"))
        application.state.db.dispose()
    return found


ROUTES = _routes()
GET_ROUTES = [route for route in ROUTES if route[0] == "GET"]
WRITE_ROUTES = [route for route in ROUTES if route[0] != "GET"]
_PARAMETER = re.compile(r"{([a-z_]+)(?::[a-z]+)?}")


def fill(template: str, value: str | None = None) -> str:
    """The path with every parameter set to ``value`` (URL-escaped), or to a real value when None."""
    return _PARAMETER.sub(
        lambda m: quote(value if value is not None else REAL_VALUES.get(m[1], "x"), safe=""), template
    )


def route_id(route: tuple[str, str]) -> str:
    return f"{route[0]} {route[1]}"


def stored_rows(app: Starlette) -> tuple[int, int]:
    with app.state.db.session(all_communes=True) as session:
        requests = session.exec(select(func.count()).select_from(ServiceRequest)).one()
        attachments = session.exec(select(func.count()).select_from(Attachment)).one()
        return int(requests), int(attachments)


#: routes that call an identity provider: with none reachable from the tests they answer 502, as they should
UPSTREAM_PATHS = (
    "/connexion/",
    "/agents/connexion/commune/",
    "/agents/connexion/syndicat",
)


def assert_answered(response: httpx.Response, what: str) -> None:
    """Never a server error; an error says what is wrong, as a page or a problem document."""
    upstream = response.status_code == 502 and response.request.url.path.startswith(UPSTREAM_PATHS)
    assert response.status_code < 500 or upstream, f"{what}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400 and response.request.method != "HEAD":
        media = response.headers.get("content-type", "")
        if response.request.url.path.startswith("/api/"):
            assert media.startswith("application/problem+json"), f"{what}: {media}"
            assert response.json().get("title"), what
        elif media.startswith("text/html"):
            assert "<title>" in response.text, what
    if response.headers.get("content-type", "").startswith("text/html"):
        assert corpus.SCRIPT not in response.text, f"{what}: script reflected unescaped"


async def still_serving(client: GuichetClient) -> None:
    assert (await client.get("/healthz")).status_code == 200


async def _client(app: Starlette, cookies: httpx.Cookies) -> GuichetClient:
    client = GuichetClient(app)
    client.cookies = httpx.Cookies(cookies)
    return client


# --- path and query parameters ---------------------------------------------------------------------------------


def _path_routes() -> list[tuple[str, str]]:
    return [route for route in ROUTES if "{" in route[1]]


@pytest.mark.parametrize("route", _path_routes(), ids=route_id)
async def test_hostile_path_parameters(
    app: Starlette, identities: dict[str, httpx.Cookies], route: tuple[str, str]
) -> None:
    method, template = route
    for who, cookies in identities.items():
        async with await _client(app, cookies) as client:
            token = await client.csrf_token("/corbas/contact")
            real = await client.request(method, fill(template), headers={"x-csrftoken": token})
            assert_answered(real, f"{who} {method} {fill(template)}")  # may store a draft: it is a valid request
            before = stored_rows(app)
            for value in PATH_SAMPLE:
                path = fill(template, value)
                response = await client.request(method, path, headers={"x-csrftoken": token})
                assert_answered(response, f"{who} {method} {path[:80]}")
            await still_serving(client)
            assert stored_rows(app) == before


#: one of each kind of hostile parameter, so every route sees every kind in bounded time
PATH_SAMPLE = ["¹", "٣", "１２", "99999999999", "9223372036854775808", "9" * 5000, "-1", "1.5", *corpus.TEXTS[:12]]
QUERY_NAMES = ["page", "older", "older_than_days", "per_page", "days", "before", "seq", "q", "status", "suite", "t"]


@pytest.mark.parametrize("route", GET_ROUTES, ids=route_id)
async def test_hostile_query_strings(
    app: Starlette, identities: dict[str, httpx.Cookies], route: tuple[str, str]
) -> None:
    path = fill(route[1])
    for who in ("anonymous", "agent"):
        async with await _client(app, identities[who]) as client:
            for value in PATH_SAMPLE:
                for name in QUERY_NAMES:
                    response = await client.get(path + "?" + urlencode({name: value}))
                    assert_answered(response, f"{who} GET {path}?{name}={value[:20]!r}")
            response = await client.get(path + "?" + urlencode({name: "1" for name in QUERY_NAMES}) + "&format=csv")
            assert_answered(response, f"{who} GET {path} with every parameter")
            await still_serving(client)


# --- headers ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
async def test_hostile_headers(app: Starlette, route: tuple[str, str]) -> None:
    method, template = route
    path = fill(template)
    before = stored_rows(app)
    async with GuichetClient(app) as client:
        for name, headers in corpus.HEADER_SETS.items():
            request = client.build_request(method, path)
            request.headers = httpx.Headers([*request.headers.raw, *headers])
            response = await client.send(request)
            assert_answered(response, f"{name} on {method} {path}")
        await still_serving(client)
    assert stored_rows(app) == before


# --- bodies ----------------------------------------------------------------------------------------------------


def _form_bodies() -> dict[str, tuple[bytes, bytes]]:
    """Well-formed forms whose every field the handlers read holds one hostile value."""
    bodies = {}
    for number, value in enumerate(corpus.PARAMETER_VALUES + corpus.TEXTS):
        pairs = {name: value for name in corpus.FORM_FIELD_NAMES}
        bodies[f"form-{number}"] = (corpus.URLENCODED_TYPE, urlencode(pairs).encode())
    lying = corpus.multipart(
        *(corpus.field(name.encode(), corpus.SCRIPT.encode()) for name in corpus.FORM_FIELD_NAMES),
        corpus.file_part(b"document", b"x.html", corpus.png(), b"text/html"),
        corpus.file_part(b"justificatif", b"<script>.pdf", b"<html><script>alert(1)</script>", b"application/pdf"),
    )
    bodies["multipart-lying-files"] = (corpus.MULTIPART_TYPE, lying)
    return bodies


BODIES = {
    **corpus.BROKEN_BODIES,
    **{name: (corpus.JSON_TYPE, body) for name, body in corpus.JSON_BODIES.items()},
    **_form_bodies(),
}

#: signed in, the bodies that reach the handlers' own parsing (the broken ones stop at the guard, as for anyone)
SIGNED_IN_BODIES = {name: BODIES[name] for name in list(corpus.JSON_BODIES)[::2] + list(_form_bodies())[::4]}


@pytest.mark.parametrize("route", WRITE_ROUTES, ids=route_id)
async def test_hostile_bodies(app: Starlette, identities: dict[str, httpx.Cookies], route: tuple[str, str]) -> None:
    method, template = route
    path = fill(template)
    before = stored_rows(app)
    for who, cookies in identities.items():
        async with await _client(app, cookies) as client:
            token = await client.csrf_token("/corbas/contact")
            for name, (content_type, body) in (BODIES if who == "anonymous" else SIGNED_IN_BODIES).items():
                headers = [(b"content-type", content_type), (b"x-csrftoken", token.encode())]
                response = await client.request(method, path, headers=headers, content=body)
                assert_answered(response, f"{who} {name} on {method} {path}")
            await still_serving(client)
    if not template.startswith("/{commune}/{service}") and "guichet" not in template:
        assert stored_rows(app) == before


async def test_the_corpus_is_large_enough() -> None:
    inputs = len(corpus.PARAMETER_VALUES) + len(corpus.HEADER_SETS) + len(BODIES)
    assert inputs >= 200, inputs


# --- what the guard says ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "body", "words"),
    [
        ({"cookie": "a=1; $x=1"}, b"", "cookie"),
        ({"content-type": "multipart/form-data"}, b"x", "boundary"),
        ({"content-type": "application/x-www-form-urlencoded"}, b"langue=%ff", "UTF-8"),
        (
            {"content-type": corpus.MULTIPART_TYPE.decode()},
            corpus.multipart(corpus.file_part(b"document", b"a" * 5000 + b".pdf", b"x")),
            "5004 characters, at most 255",
        ),
    ],
    ids=["cookie", "boundary", "utf-8", "long-file-name"],
)
async def test_malformed_input_gets_a_400_saying_what_is_wrong(
    app: Starlette, headers: dict[str, str], body: bytes, words: str
) -> None:
    async with GuichetClient(app) as client:
        for path in ("/langue", "/api/v1/me/requests"):
            response = await client.post(path, headers={**headers, "accept-language": "en"}, content=body)
            assert response.status_code == 400, (path, response.text[:300])
            assert words in response.text, (path, response.text[:300])
        await still_serving(client)


async def test_a_valid_form_still_passes_the_guard(app: Starlette) -> None:
    async with GuichetClient(app) as client:
        token = await client.csrf_token("/")
        response = await client.post("/langue", data={"csrftoken": token, "lang": "en", "next": "/"})
        assert response.status_code == 303
        files = {"document": ("scan.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")}
        response = await client.post("/langue", data={"csrftoken": token, "lang": "fr"}, files=files)
        assert response.status_code == 303
