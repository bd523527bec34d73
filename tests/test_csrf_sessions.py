"""CSRF tokens bound to the session, case by case after OWASP's CSRF cheat sheet.

A visitor with a session gets a token derived from it; one without keeps the
random token of its ``guichet_csrf`` cookie. ``POST /langue`` (any visitor may
send it, it sets a cookie) and ``POST /deconnexion`` are the changes tried.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette

from gateway.testing import GuichetClient, sign_in_citizen
from gateway.web.csrf import COOKIE

LANGUAGE = {"lang": "en", "next": "/"}


async def change_language(client: GuichetClient, token: str | None) -> int:
    data = {**LANGUAGE, **({"csrftoken": token} if token is not None else {})}
    return (await client.post("/langue", data=data)).status_code


@pytest.fixture
async def visitor(guichet_app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(guichet_app) as client:
        yield client


@pytest.fixture
async def other(guichet_app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(guichet_app) as client:
        yield client


async def test_anonymous_visitor_token_works_bound_to_its_cookie(visitor: GuichetClient, other: GuichetClient) -> None:
    token = await visitor.csrf_token("/")
    assert visitor.cookies.get(COOKIE)
    assert await change_language(visitor, token) == 303
    await other.get("/")  # another anonymous visitor, another cookie: the first one's token is not theirs
    assert await change_language(other, token) == 403


async def test_another_visitors_cookie_and_token_pair_is_refused_in_a_session(
    visitor: GuichetClient, other: GuichetClient
) -> None:
    token = await visitor.csrf_token("/")  # a pair the attacker holds: their own cookie and token
    pair_cookie = visitor.cookies.get(COOKIE)
    assert pair_cookie
    sign_in_citizen(other)
    other.cookies.set(COOKIE, pair_cookie)  # planted in the victim's browser (a sibling subdomain, say)
    assert await change_language(other, token) == 403
    assert await change_language(other, await other.csrf_token("/")) == 303


async def test_token_of_another_session_is_refused(visitor: GuichetClient, other: GuichetClient) -> None:
    sign_in_citizen(visitor)
    sign_in_citizen(other, given_name="Dominique")
    theirs = await visitor.csrf_token("/")
    mine = await other.csrf_token("/")
    assert theirs != mine
    assert await change_language(other, theirs) == 403
    assert await change_language(other, mine) == 303


async def test_signing_in_makes_earlier_tokens_stale(visitor: GuichetClient) -> None:
    anonymous = await visitor.csrf_token("/")
    sign_in_citizen(visitor)
    first_session = await visitor.csrf_token("/")
    assert first_session != anonymous
    assert await change_language(visitor, anonymous) == 403
    assert await change_language(visitor, first_session) == 303
    sign_in_citizen(visitor)  # signed in again: a new session id
    assert await change_language(visitor, first_session) == 403
    assert await change_language(visitor, await visitor.csrf_token("/")) == 303


async def test_missing_or_altered_token_is_refused(visitor: GuichetClient) -> None:
    sign_in_citizen(visitor)
    token = await visitor.csrf_token("/")
    altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert await change_language(visitor, None) == 403
    assert await change_language(visitor, altered) == 403
    assert await change_language(visitor, "") == 403
    assert await change_language(visitor, token) == 303


async def test_the_session_token_is_the_same_on_every_page_of_the_session(visitor: GuichetClient) -> None:
    sign_in_citizen(visitor)
    assert await visitor.csrf_token("/") == await visitor.csrf_token("/corbas/contact")


async def test_get_never_changes_state(visitor: GuichetClient) -> None:
    sign_in_citizen(visitor)
    assert (await visitor.get("/deconnexion")).status_code in (404, 405)
    assert (await visitor.get("/mon-compte/acces")).status_code == 200  # still signed in
    answer = await visitor.get("/langue", params=LANGUAGE)
    assert answer.status_code in (404, 405) and "set-cookie" not in answer.headers


async def test_back_channel_route_takes_no_csrf_token(visitor: GuichetClient) -> None:
    # the demo provider's token endpoint is called server to server, with a client secret and no cookie
    answer = await visitor.post("/demo-idp/api/v2/token", data={"grant_type": "authorization_code", "code": "x"})
    assert answer.status_code in (400, 401) and "error" in answer.json()


async def test_a_method_no_route_serves_is_a_405_not_a_csrf_refusal(visitor: GuichetClient) -> None:
    answer = await visitor.request("QUERY", "/healthz")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, HEAD"


async def test_a_change_no_route_takes_is_a_405_not_a_csrf_refusal(visitor: GuichetClient) -> None:
    answer = await visitor.put("/healthz")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, HEAD"
