"""The demo identity provider, driven over HTTP the way a FranceConnect v2 relying party drives it.

The browser side (authorisation page, logout) goes through ``guichet_client``;
the back channel (token, userinfo) through a second client with no cookies, as
a server calling the provider would.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import update
from starlette.applications import Starlette

from gateway import hookimpl
from gateway.app import create_app
from gateway.demo.identity_provider import (
    DEMO_CLIENT_ID,
    ISSUER_PATH,
    LOGIN_CALLBACK_PATH,
    LOGOUT_CALLBACK_PATH,
    DemoClient,
    demo_client_credentials,
    demo_provider_routes,
    gateway_client,
    issuer_url,
)
from gateway.demo.identity_provider.clients import staff_client_credentials, staff_clients
from gateway.demo.identity_provider.keys import KEY_FILE, SigningKeyError
from gateway.demo.identity_provider.people import SYNDICATE
from gateway.demo.identity_provider.tokens import pairwise_subject
from gateway.identity.providers import provider_registry, staff_sign_in_choices
from gateway.models import DemoAuthorizationCode
from gateway.settings import ConfigError, Settings, load_settings
from gateway.testing import ConfigFolder, GuichetClient

ALL_CLAIMS = "given_name family_name birthdate gender birthplace birthcountry email preferred_username"
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
sqlite_only = pytest.mark.parametrize("guichet_database_url", ["sqlite"], indirect=True)


def settings_of(client: GuichetClient) -> Settings:
    settings: Settings = client.app.state.registry.settings
    return settings


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def hidden_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in HIDDEN.findall(page) if name != "next"}


def query_of(response: httpx.Response) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(response.headers["location"]).query).items()}


class RelyingParty:
    """What the gateway's login code will do, step by step, with the values it must check afterwards."""

    def __init__(self, browser: GuichetClient, backchannel: GuichetClient, client: DemoClient | None = None) -> None:
        self.browser = browser
        self.backchannel = backchannel
        settings = settings_of(browser)
        self.client = client or gateway_client(settings)
        self.issuer = issuer_url(settings)
        self.verifier = secrets.token_urlsafe(48)
        self.state = secrets.token_urlsafe(32)
        self.nonce = secrets.token_urlsafe(32)

    def params(self, **overrides: str | None) -> dict[str, str]:
        values: dict[str, str | None] = {
            "response_type": "code",
            "client_id": self.client.client_id,
            "redirect_uri": self.client.redirect_uris[0],
            "scope": "openid " + ALL_CLAIMS,
            "state": self.state,
            "nonce": self.nonce,
            "acr_values": "eidas1",
            "code_challenge": s256(self.verifier),
            "code_challenge_method": "S256",
            **overrides,
        }
        return {name: value for name, value in values.items() if value is not None}

    async def authorize(self, **overrides: str | None) -> httpx.Response:
        return await self.browser.get(ISSUER_PATH + "/authorize", params=self.params(**overrides))

    async def choose(self, person: str = "camille-exemple", **overrides: str | None) -> httpx.Response:
        page = await self.authorize(**overrides)
        assert page.status_code == 200, page.text
        return await self.browser.post(ISSUER_PATH + "/authorize", data={**hidden_fields(page.text), "person": person})

    async def code(self, person: str = "camille-exemple", **overrides: str | None) -> str:
        answer = await self.choose(person, **overrides)
        assert answer.status_code == 303, answer.text
        return query_of(answer)["code"]

    async def exchange(self, code: str, **overrides: str | None) -> httpx.Response:
        form: dict[str, str | None] = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.client.redirect_uris[0],
            "client_id": self.client.client_id,
            "client_secret": self.client.client_secret,
            "code_verifier": self.verifier,
            **overrides,
        }
        data = {name: value for name, value in form.items() if value is not None}
        return await self.backchannel.post(ISSUER_PATH + "/token", data=data)

    async def tokens(self, person: str = "camille-exemple", **overrides: str | None) -> dict[str, Any]:
        answer = await self.exchange(await self.code(person, **overrides))
        assert answer.status_code == 200, answer.text
        tokens: dict[str, Any] = answer.json()
        return tokens

    async def keys(self) -> KeySet:
        return KeySet.import_key_set((await self.backchannel.get(ISSUER_PATH + "/jwks")).json())

    async def id_token(self, tokens: dict[str, Any]) -> jwt.Token:
        return jwt.decode(tokens["id_token"], await self.keys(), algorithms=["ES256"])

    async def userinfo(self, access_token: str) -> httpx.Response:
        return await self.backchannel.get(
            ISSUER_PATH + "/userinfo", headers={"Authorization": f"Bearer {access_token}"}
        )

    async def claims(self, tokens: dict[str, Any]) -> dict[str, Any]:
        answer = await self.userinfo(tokens["access_token"])
        assert answer.status_code == 200, answer.text
        return dict(jwt.decode(answer.text, await self.keys(), algorithms=["ES256"]).claims)


@pytest_asyncio.fixture
async def backchannel(guichet_app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(guichet_app) as client:
        yield client


@pytest.fixture
def rp(guichet_client: GuichetClient, backchannel: GuichetClient) -> RelyingParty:
    return RelyingParty(guichet_client, backchannel)


# Discovery and keys ---------------------------------------------------------------


@sqlite_only
async def test_discovery_document_describes_a_france_connect_like_provider(rp: RelyingParty) -> None:
    answer = await rp.backchannel.get(ISSUER_PATH + "/.well-known/openid-configuration")
    assert answer.status_code == 200
    document = answer.json()
    AuthorizationServerMetadata(document).validate()  # (OpenID discovery would also demand RS256)
    issuer = "http://127.0.0.1:8000/demo-idp/api/v2"
    assert document["issuer"] == issuer == rp.issuer
    for key, path in {
        "authorization_endpoint": "/authorize",
        "token_endpoint": "/token",
        "userinfo_endpoint": "/userinfo",
        "jwks_uri": "/jwks",
        "end_session_endpoint": "/session/end",
    }.items():
        assert document[key] == issuer + path
    assert document["id_token_signing_alg_values_supported"] == ["ES256"]
    assert document["userinfo_signing_alg_values_supported"] == ["ES256"]
    assert document["token_endpoint_auth_methods_supported"] == ["client_secret_post"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["acr_values_supported"] == ["eidas1"]
    assert {"openid", *ALL_CLAIMS.split()} <= set(document["scopes_supported"])
    assert {"sub", *ALL_CLAIMS.split()} <= set(document["claims_supported"])


@sqlite_only
async def test_jwks_publishes_only_the_public_es256_key(rp: RelyingParty) -> None:
    (key,) = (await rp.backchannel.get(ISSUER_PATH + "/jwks")).json()["keys"]
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig")
    assert key["kid"]
    assert "d" not in key


@sqlite_only
async def test_signing_key_is_created_private_once_and_reused(
    guichet_config: ConfigFolder, guichet_app: Starlette
) -> None:
    path = guichet_config.data_dir / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_bytes()
    again = create_app(guichet_config.path)
    try:
        assert path.read_bytes() == first
        async with GuichetClient(guichet_app) as one, GuichetClient(again) as other:
            kids = [(await client.get(ISSUER_PATH + "/jwks")).json()["keys"][0]["kid"] for client in (one, other)]
        assert kids[0] == kids[1]
    finally:
        again.state.db.dispose()


@sqlite_only
async def test_a_damaged_key_file_takes_only_the_provider_out_of_service(
    guichet_config: ConfigFolder, guichet_database_url: str
) -> None:
    guichet_config.data_dir.mkdir(parents=True, exist_ok=True)
    (guichet_config.data_dir / KEY_FILE).write_text('{"kty": "EC"}', encoding="utf-8")
    guichet_config.set_gateway(database={"url": guichet_database_url})
    app = create_app(guichet_config.path)
    try:
        failure = app.state.registry.plugins.failures["gateway.demo.identity_plugin"]
        assert SigningKeyError.__name__ in failure.error and KEY_FILE in failure.error
        async with GuichetClient(app) as client:
            assert (await client.get(ISSUER_PATH + "/jwks")).status_code == 404
            assert (await client.get("/")).status_code == 200
    finally:
        app.state.db.dispose()


@sqlite_only
async def test_routes_do_not_exist_when_the_provider_is_disabled(
    guichet_config: ConfigFolder, guichet_database_url: str
) -> None:
    guichet_config.set_gateway(demo_identity={"enabled": False}, database={"url": guichet_database_url})
    app = create_app(guichet_config.path)
    try:
        async with GuichetClient(app) as client:
            for path in ("/.well-known/openid-configuration", "/authorize", "/jwks", "/userinfo", "/session/end"):
                assert (await client.get(ISSUER_PATH + path)).status_code == 404, path
            assert (
                await client.post(ISSUER_PATH + "/token", data={"grant_type": "authorization_code"})
            ).status_code in (
                403,  # a page POST without a CSRF token never reaches routing
                404,
            )
        assert not (guichet_config.data_dir / KEY_FILE).exists()
    finally:
        app.state.db.dispose()


# The whole flow ------------------------------------------------------------------------


async def test_authorize_page_lists_the_fictitious_people_in_a_form(rp: RelyingParty) -> None:
    page = await rp.authorize()
    assert page.status_code == 200
    assert 'method="post"' in page.text
    assert 'name="csrftoken"' in page.text
    for name in (
        "Camille Anne EXEMPLE",
        "Mathis Jean Paul FICTIF",
        "Inès DÉMO",
        "Lucie Hélène MAQUETTE",
        "Noé PROTOTYPE",
    ):
        assert f"Se connecter en tant que {name}" in page.text
    assert "Nom de naissance : ESSAI" in page.text
    assert "Née le 14 mars 1985" in page.text and "Né le 2 novembre 1972" in page.text
    assert "Pays de naissance : Espagne (code INSEE 99134)" in page.text
    assert "<script" not in page.text and "style=" not in page.text


async def test_code_flow_with_pkce_gives_signed_tokens_and_signed_userinfo(rp: RelyingParty) -> None:
    answer = await rp.choose("camille-exemple")
    assert answer.status_code == 303
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == rp.client.redirect_uris[0]
    returned = query_of(answer)
    assert returned["state"] == rp.state

    exchanged = await rp.exchange(returned["code"])
    assert exchanged.status_code == 200, exchanged.text
    assert exchanged.headers["cache-control"] == "no-store"
    tokens = exchanged.json()
    assert tokens["token_type"] == "Bearer"
    assert 0 < tokens["expires_in"] <= 300

    id_token = await rp.id_token(tokens)
    keys = (await rp.backchannel.get(ISSUER_PATH + "/jwks")).json()["keys"]
    assert id_token.header["alg"] == "ES256"
    assert id_token.header["kid"] == keys[0]["kid"]
    claims = id_token.claims
    assert claims["iss"] == rp.issuer
    assert claims["aud"] == DEMO_CLIENT_ID
    assert claims["nonce"] == rp.nonce
    assert claims["acr"] == "eidas1"
    assert claims["amr"] == ["pwd"]
    assert claims["iat"] <= claims["auth_time"] + 5 and claims["exp"] > claims["iat"]
    assert len(claims["sub"]) == 66 and claims["sub"].endswith("v1")
    assert "given_name" not in claims  # identity claims come from /userinfo, as with FranceConnect

    info = await rp.userinfo(tokens["access_token"])
    assert info.status_code == 200
    assert info.headers["content-type"].startswith("application/jwt")
    person = jwt.decode(info.text, await rp.keys(), algorithms=["ES256"]).claims
    assert (person["iss"], person["aud"], person["sub"]) == (rp.issuer, DEMO_CLIENT_ID, claims["sub"])
    assert person["given_name"] == "Camille Anne"
    assert person["family_name"] == "EXEMPLE"
    assert person["birthdate"] == "1985-03-14"
    assert person["gender"] == "female"
    assert person["birthplace"] == "69259"
    assert person["birthcountry"] == "99100"
    assert person["email"] == "camille.exemple@demo.guichet.example"
    assert person["preferred_username"] == ""

    logout = await rp.browser.get(
        ISSUER_PATH + "/session/end",
        params={
            "id_token_hint": tokens["id_token"],
            "state": "logout-" + rp.state,
            "post_logout_redirect_uri": rp.client.post_logout_redirect_uris[0],
        },
    )
    assert logout.status_code == 302
    assert logout.headers["location"].startswith(settings_of(rp.browser).gateway.public_base_url + LOGOUT_CALLBACK_PATH)
    assert query_of(logout) == {"state": "logout-" + rp.state}


async def test_flow_without_pkce_works_for_this_confidential_client(rp: RelyingParty) -> None:
    code = await rp.code(code_challenge=None, code_challenge_method=None)
    answer = await rp.exchange(code, code_verifier=None)
    assert answer.status_code == 200, answer.text


async def test_scopes_release_only_their_claims(rp: RelyingParty) -> None:
    claims = await rp.claims(await rp.tokens(scope="openid given_name birthcountry given_name"))
    assert set(claims) == {"iss", "aud", "sub", "iat", "exp", "given_name", "birthcountry"}
    bundled = await rp.claims(await rp.tokens(scope="openid identite_pivot"))
    assert set(bundled) - {"iss", "aud", "sub", "iat", "exp"} == set(ALL_CLAIMS.split()) - {
        "email",
        "preferred_username",
    }


@sqlite_only
async def test_people_born_abroad_or_with_a_usage_name(rp: RelyingParty) -> None:
    abroad = await rp.claims(await rp.tokens("ines-demo"))
    assert (abroad["birthplace"], abroad["birthcountry"]) == ("", "99134")
    married = await rp.claims(await rp.tokens("lucie-essai"))
    assert (married["family_name"], married["preferred_username"]) == ("ESSAI", "MAQUETTE")
    unknown_day = await rp.claims(await rp.tokens("noe-prototype"))
    assert unknown_day["birthdate"] == "1951-01-01"


async def test_sub_is_stable_per_person_and_differs_between_people(rp: RelyingParty) -> None:
    first = (await rp.id_token(await rp.tokens("mathis-fictif"))).claims["sub"]
    again = (await rp.id_token(await rp.tokens("mathis-fictif"))).claims["sub"]
    other = (await rp.id_token(await rp.tokens("noe-prototype"))).claims["sub"]
    assert first == again != other


@sqlite_only
async def test_cancelling_sends_access_denied_back_to_the_client(rp: RelyingParty) -> None:
    page = await rp.authorize()
    answer = await rp.browser.post(ISSUER_PATH + "/authorize", data={**hidden_fields(page.text), "cancel": "1"})
    assert answer.status_code == 303
    assert query_of(answer)["error"] == "access_denied"
    assert query_of(answer)["state"] == rp.state


@sqlite_only
async def test_choosing_without_the_csrf_token_is_refused(rp: RelyingParty) -> None:
    page = await rp.authorize()
    fields = {name: value for name, value in hidden_fields(page.text).items() if name != "csrftoken"}
    answer = await rp.browser.post(ISSUER_PATH + "/authorize", data={**fields, "person": "camille-exemple"})
    assert answer.status_code == 403


@sqlite_only
async def test_switching_language_keeps_the_authorization_request(rp: RelyingParty) -> None:
    page = await rp.authorize()
    fields = hidden_fields(page.text)
    back = re.search(r'name="next" value="([^"]+)"', page.text)
    assert back is not None
    answer = await rp.browser.post(
        "/langue", data={"csrftoken": fields["csrftoken"], "lang": "en", "next": html.unescape(back.group(1))}
    )
    assert answer.status_code == 303
    again = await rp.browser.get(answer.headers["location"])
    assert again.status_code == 200
    assert "Sign in as Noé PROTOTYPE" in again.text


@sqlite_only
async def test_authorize_page_in_english(rp: RelyingParty) -> None:
    page = await rp.browser.get(ISSUER_PATH + "/authorize", params=rp.params(), headers={"Accept-Language": "en"})
    assert '<html lang="en">' in page.text
    assert "Sign in as Camille Anne EXEMPLE" in page.text
    assert "Born on 14 March 1985" in page.text
    assert "Country of birth: Espagne (INSEE code 99134)" in page.text
    assert "Choisissez" not in page.text and "Se connecter" not in page.text


# Refused authorisation requests -----------------------------------------------------


async def test_unknown_client_gets_an_error_page_not_a_redirect(rp: RelyingParty) -> None:
    page = await rp.authorize(client_id="nobody")
    assert page.status_code == 400
    assert "location" not in page.headers
    assert "Demande de connexion refusée" in page.text
    assert "invalid_client" in page.text


async def test_unregistered_redirect_uri_gets_an_error_page_not_a_redirect(rp: RelyingParty) -> None:
    page = await rp.authorize(redirect_uri="http://127.0.0.1:8000/connexion/retour/../ailleurs")
    assert page.status_code == 400
    assert "location" not in page.headers
    assert "invalid_request" in page.text


@sqlite_only
async def test_missing_redirect_uri_gets_an_error_page(rp: RelyingParty) -> None:
    page = await rp.authorize(redirect_uri=None)
    assert page.status_code == 400
    assert "location" not in page.headers


@pytest.mark.parametrize("parameter", ["state", "nonce"])
async def test_short_state_or_nonce_is_sent_back_as_invalid_request(rp: RelyingParty, parameter: str) -> None:
    answer = await rp.authorize(**{parameter: "x" * 31})
    assert answer.status_code == 303
    returned = query_of(answer)
    assert returned["error"] == "invalid_request"
    assert parameter in returned["error_description"]
    assert returned["state"] == (rp.state if parameter == "nonce" else "x" * 31)


@sqlite_only
@pytest.mark.parametrize("parameter", ["state", "nonce"])
async def test_missing_state_or_nonce_is_refused(rp: RelyingParty, parameter: str) -> None:
    answer = await rp.authorize(**{parameter: None})
    assert answer.status_code == 303
    assert query_of(answer)["error"] == "invalid_request"


async def test_scope_without_openid_is_refused(rp: RelyingParty) -> None:
    answer = await rp.authorize(scope="given_name family_name")
    assert answer.status_code == 303
    assert query_of(answer)["error"] == "invalid_scope"
    assert query_of(answer)["state"] == rp.state


@sqlite_only
@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"scope": "openid address"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"acr_values": "eidas3"}, "invalid_request"),
        ({"nonce": "n" * 201}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"prompt": "none"}, "login_required"),
    ],
)
async def test_other_bad_requests_are_sent_back_to_the_client(
    rp: RelyingParty, overrides: dict[str, str | None], error: str
) -> None:
    answer = await rp.authorize(**overrides)
    assert answer.status_code == 303, answer.text
    assert query_of(answer)["error"] == error


@sqlite_only
async def test_parameters_authlib_cannot_quote_get_an_error_page_not_a_crash(rp: RelyingParty) -> None:
    for overrides in ({"redirect_uri": 'http://127.0.0.1:8000/"é'}, {"response_type": 'cod"é'}):
        page = await rp.authorize(**overrides)
        assert page.status_code == 400, overrides
        assert "location" not in page.headers


@sqlite_only
async def test_choosing_no_known_person_is_refused(rp: RelyingParty) -> None:
    answer = await rp.choose("someone-else")
    assert answer.status_code == 400
    assert "location" not in answer.headers


# Refused token requests ------------------------------------------------------------------


async def test_wrong_client_secret_is_refused_and_does_not_spend_the_code(rp: RelyingParty) -> None:
    code = await rp.code()
    refused = await rp.exchange(code, client_secret="not-the-secret")
    assert refused.status_code in (400, 401)
    assert refused.json()["error"] == "invalid_client"
    assert (await rp.exchange(code)).status_code == 200


@sqlite_only
async def test_client_secret_basic_is_not_accepted(rp: RelyingParty) -> None:
    code = await rp.code()
    client_id, secret = demo_client_credentials(settings_of(rp.browser))
    answer = await rp.backchannel.post(
        ISSUER_PATH + "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": rp.client.redirect_uris[0],
            "code_verifier": rp.verifier,
        },
        auth=(client_id, secret),
    )
    assert answer.json()["error"] == "invalid_client"


async def test_replayed_code_is_refused_and_revokes_the_first_token(rp: RelyingParty) -> None:
    code = await rp.code()
    first = await rp.exchange(code)
    assert first.status_code == 200
    replay = await rp.exchange(code)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert (await rp.userinfo(first.json()["access_token"])).status_code == 401
    assert (await rp.exchange(code)).json()["error"] == "invalid_grant"


async def test_expired_code_is_refused(rp: RelyingParty) -> None:
    code = await rp.code()
    with rp.browser.app.state.db.session() as session:
        session.exec(update(DemoAuthorizationCode).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    answer = await rp.exchange(code)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


async def test_wrong_redirect_uri_at_token_is_refused(rp: RelyingParty) -> None:
    code = await rp.code()
    answer = await rp.exchange(code, redirect_uri="http://127.0.0.1:8000/ailleurs")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


async def test_bad_pkce_verifier_is_refused(rp: RelyingParty) -> None:
    code = await rp.code()
    answer = await rp.exchange(code, code_verifier=secrets.token_urlsafe(48))
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


@sqlite_only
async def test_missing_pkce_verifier_is_refused_when_a_challenge_was_sent(rp: RelyingParty) -> None:
    code = await rp.code()
    answer = await rp.exchange(code, code_verifier=None)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


@sqlite_only
async def test_unknown_code_and_grant_type_are_refused(rp: RelyingParty) -> None:
    assert (await rp.exchange("made-up")).json()["error"] == "invalid_grant"
    answer = await rp.exchange(await rp.code(), grant_type="client_credentials")
    assert answer.json()["error"] == "unsupported_grant_type"


# Userinfo ------------------------------------------------------------------------------------


async def test_userinfo_without_bearer_token_is_refused(rp: RelyingParty) -> None:
    answer = await rp.backchannel.get(ISSUER_PATH + "/userinfo")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].lower().startswith("bearer")


async def test_userinfo_with_an_invalid_bearer_token_is_refused(rp: RelyingParty) -> None:
    tokens = await rp.tokens()
    tampered = tokens["access_token"][:-4] + ("AAAA" if not tokens["access_token"].endswith("AAAA") else "BBBB")
    for token in ("not-a-token", tampered, tokens["id_token"]):  # an ID token is no access token
        answer = await rp.userinfo(token)
        assert answer.status_code == 401, token
        assert 'error="invalid_token"' in answer.headers["www-authenticate"]


# End session ------------------------------------------------------------------------------------


async def test_unregistered_post_logout_redirect_uri_gets_an_error_page(rp: RelyingParty) -> None:
    tokens = await rp.tokens()
    page = await rp.browser.get(
        ISSUER_PATH + "/session/end",
        params={
            "id_token_hint": tokens["id_token"],
            "state": rp.state,
            "post_logout_redirect_uri": "http://evil.example/",
        },
    )
    assert page.status_code == 400
    assert "location" not in page.headers
    assert "Déconnexion impossible" in page.text


@sqlite_only
async def test_end_session_without_a_valid_id_token_hint_gets_an_error_page(rp: RelyingParty) -> None:
    logout_uri = rp.client.post_logout_redirect_uris[0]
    for params in (
        {"state": rp.state, "post_logout_redirect_uri": logout_uri},
        {"id_token_hint": "forged", "state": rp.state, "post_logout_redirect_uri": logout_uri},
    ):
        page = await rp.browser.get(ISSUER_PATH + "/session/end", params=params)
        assert page.status_code == 400
        assert "location" not in page.headers


# Clients of the tests' own ------------------------------------------------------------------------


class ExtraClients:
    """A stand-in for the default plugin, registering the gateway plus a relying party of the test's own."""

    GUICHET_PLUGIN_API = "1.0"

    def __init__(self, client: DemoClient) -> None:
        self.client = client

    @hookimpl
    def guichet_core_routes(self, settings: Settings) -> list[Any]:
        return demo_provider_routes(settings, clients=[gateway_client(settings), self.client])


async def test_a_test_can_register_its_own_client(guichet_config: ConfigFolder, guichet_database_url: str) -> None:
    guichet_config.set_gateway(
        database={"url": guichet_database_url}, plugins={"blocked": ["gateway.demo.identity_plugin"]}
    )
    own = DemoClient(
        client_id="test-rp",
        client_secret=secrets.token_urlsafe(32),
        redirect_uris=("http://127.0.0.1:9999/callback",),
        post_logout_redirect_uris=("http://127.0.0.1:9999/bye",),
        name="Test RP",
    )
    app = create_app(guichet_config.path, extra_plugins=[("test-clients", ExtraClients(own))])
    try:
        async with GuichetClient(app) as browser, GuichetClient(app) as backchannel:
            theirs = RelyingParty(browser, backchannel, own)
            page = await theirs.authorize()
            assert "« Test RP » recevra" in page.text
            tokens = await theirs.tokens("mathis-fictif")
            claims = (await theirs.id_token(tokens)).claims
            assert claims["aud"] == "test-rp"
            ours = RelyingParty(browser, backchannel)
            gateway_sub = (await ours.id_token(await ours.tokens("mathis-fictif"))).claims["sub"]
            assert claims["sub"] != gateway_sub  # pairwise: each client sees its own sub
            # a code issued to one client is worth nothing to another
            stolen = await theirs.code()
            assert (await ours.exchange(stolen)).json()["error"] == "invalid_grant"
    finally:
        app.state.db.dispose()


@sqlite_only
async def test_gateway_client_credentials_and_callbacks(rp: RelyingParty) -> None:
    settings = settings_of(rp.browser)
    client_id, secret = demo_client_credentials(settings)
    assert client_id == DEMO_CLIENT_ID
    assert len(secret) == 64 and secret == demo_client_credentials(settings)[1]
    assert rp.client.redirect_uris == (settings.gateway.public_base_url + LOGIN_CALLBACK_PATH,)
    assert rp.client.post_logout_redirect_uris == (settings.gateway.public_base_url + LOGOUT_CALLBACK_PATH,)


# Communes' demo staff directories ----------------------------------------------------------


def staff_rp(rp: RelyingParty, commune: str = "venissieux") -> RelyingParty:
    (client,) = [client for client in staff_clients(settings_of(rp.browser)) if client.commune == commune]
    return RelyingParty(rp.browser, rp.backchannel, client)


async def test_a_staff_directory_signs_in_its_communes_fictitious_staff(rp: RelyingParty) -> None:
    staff = staff_rp(rp)
    page = await staff.authorize(scope="openid given_name family_name email")
    assert page.status_code == 200
    assert "Se connecter en tant que Sacha EXEMPLE-RESPONSABLE" in page.text
    assert "camille-exemple" not in page.text and "Né le" not in page.text
    tokens = await staff.tokens("auditor@venissieux", scope="openid given_name family_name email")
    claims = (await staff.id_token(tokens)).claims
    assert claims["aud"] == "guichet-demo-agents-venissieux" and claims["acr"] == "eidas1"
    assert claims["sub"] == pairwise_subject(settings_of(rp.browser).secret_key, claims["aud"], "auditor@venissieux")
    person = await staff.claims(tokens)
    assert (person["given_name"], person["family_name"]) == ("Aurèle", "EXEMPLE-AUDITEUR")
    assert person["email"] == "aurele.exemple-auditeur@venissieux.demo.guichet.example"


@pytest.mark.parametrize("person", ["agent@corbas", "camille-exemple", "administrator@venissieux"])
async def test_a_staff_directory_refuses_anyone_outside_it(rp: RelyingParty, person: str) -> None:
    answer = await staff_rp(rp).choose(person)
    assert answer.status_code == 400 and "location" not in answer.headers


async def test_the_residents_client_never_gets_a_staff_member(rp: RelyingParty) -> None:
    answer = await rp.choose("agent@venissieux")
    assert answer.status_code == 400 and "location" not in answer.headers


async def test_staff_directory_clients_have_their_own_secrets(rp: RelyingParty) -> None:
    settings = settings_of(rp.browser)
    clients = staff_clients(settings)
    assert {client.commune for client in clients} == {commune.slug for commune in settings.communes} | {SYNDICATE}
    secrets_seen = {client.client_secret for client in clients} | {demo_client_credentials(settings)[1]}
    assert len(secrets_seen) == len(clients) + 1
    assert staff_client_credentials(settings, "corbas") == (
        "guichet-demo-agents-corbas",
        staff_rp(rp, "corbas").client.client_secret,
    )


@pytest.mark.parametrize(
    "gateway_section",
    [
        {"demo": False},  # production
        {"public_base_url": "https://demo.guichet.example"},  # a demo published beyond loopback
    ],
)
def test_no_staff_directory_without_the_demo_provider(
    guichet_config: ConfigFolder, gateway_section: dict[str, Any]
) -> None:
    guichet_config.set_gateway(gateway=gateway_section)
    with pytest.raises(ConfigError, match=r"demo_identity\.enabled"):  # the demo provider itself is refused there
        load_settings(guichet_config.path, load_secret=False)
    guichet_config.set_gateway(demo_identity={"enabled": False})
    settings = load_settings(guichet_config.path, load_secret=False)
    assert staff_clients(settings) == []
    assert all(provider.purpose != "staff" for provider in provider_registry(settings).providers.values())
    assert provider_registry(settings).staff_of("venissieux", with_demo=True) is None
    assert staff_sign_in_choices(settings) == []
