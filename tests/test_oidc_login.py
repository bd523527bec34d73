"""Sign-in with OpenID Connect over real HTTP: the gateway served by uvicorn, providers on loopback.

The gateway runs on a free loopback port; its back-channel calls (discovery,
token, userinfo, keys) go over real HTTP, to its own demo provider or to a
tiny provider of the tests' own (:class:`FakeProvider`, a Starlette app on
another port signing with keys the tests control). A synchronous
``httpx.Client`` plays the browser and follows every redirect by hand, so
each step is seen. Each refusal is checked three ways: the answer (status and
words), the audit log (``auth.login`` with a reason code) and nobody signed in.
"""

from __future__ import annotations

import html
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import pytest
from click.testing import CliRunner
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey
from playwright.sync_api import expect, sync_playwright
from sqlmodel import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from gateway.app import create_app
from gateway.cli import main as cli
from gateway.demo.identity_provider import ISSUER_PATH, demo_client_credentials
from gateway.demo.identity_provider.tokens import pairwise_subject
from gateway.identity import staff as staff_accounts
from gateway.identity.oidc import acr_satisfies
from gateway.identity.oidc_flows import FLOW_COOKIE, Flow, open_flow, seal_flow
from gateway.identity.sessions import COOKIE, cookie_value, open_session
from gateway.models import AuditEntry, Citizen, StaffUser, UserSession
from gateway.settings import ConfigError, Settings, load_settings
from gateway.testing import ConfigFolder, GuichetClient, free_socket, serve, skip_or_fail

CSRF = re.compile(r'name="csrftoken" value="([^"]+)"')
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
FAKE_CLIENT_ID = "guichet-test"
FAKE_SECRET = "fake-provider-client-secret-0123456789"
FAKE_SECRET_ENV = "GUICHET_TEST_FAKE_IDP_SECRET"
STAFF_SECRET_ENV = "GUICHET_TEST_VENISSIEUX_IDP_SECRET"
FAKE_SUB = "fake-subject-0001"
#: a service of the tests needs the birth date: it is kept, in Citizen.claims (gender, sent too, is not)
FAKE_SCOPES = ["openid", "given_name", "family_name", "email", "birthdate"]

sqlite_only = pytest.mark.parametrize("guichet_database_url", ["sqlite"], indirect=True)


# A provider of the tests' own ---------------------------------------------------------------------


def es256_key(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid, "alg": "ES256", "use": "sig"}, private=True)


class FakeProvider:
    """A tiny OpenID provider, FranceConnect-shaped, whose every answer the tests can bend.

    The authorisation endpoint answers at once (no person to choose); codes
    are single use and PKCE is checked, so the gateway is driven exactly as
    by a real provider, except where a test asks for a fault.
    """

    def __init__(self) -> None:
        self.issuer = ""
        self.reset()

    def reset(self) -> None:
        self.published = [es256_key("key-a")]
        self.id_token_key: ECKey | None = None  # None: the first published key
        self.userinfo_key: ECKey | None = None
        self.id_token_issuer: str | None = None  # None: self.issuer
        self.id_token_lifetime = 300
        self.acr = "eidas1"
        self.userinfo_json = False
        #: RFC 9207: whether discovery says the callback carries ``iss``, and the ``iss`` put on it (None: none)
        self.advertise_iss = False
        self.callback_iss: str | None = None
        self.advertise_pkce = True
        #: "HS256": the ID token is signed with the client secret instead of the provider's key
        self.id_token_alg = "ES256"
        self.token_requests = 0
        self.jwks_requests = 0
        self.codes: dict[str, dict[str, str | None]] = {}
        self.tokens: dict[str, str] = {}
        self.last_authorize: dict[str, str] = {}

    def rotate(self, kid: str) -> None:
        """Publish a new key instead of the old one, and sign with it from now on."""
        self.published = [es256_key(kid)]

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/v2/.well-known/openid-configuration", self.discovery),
                Route("/api/v2/authorize", self.authorize),
                Route("/api/v2/token", self.token, methods=["POST"]),
                Route("/api/v2/userinfo", self.userinfo),
                Route("/api/v2/jwks", self.jwks),
                Route("/api/v2/session/end", self.end_session),
            ]
        )

    async def discovery(self, request: Request) -> Response:
        base = self.issuer
        optional: dict[str, Any] = {}
        if self.advertise_pkce:
            optional["code_challenge_methods_supported"] = ["S256"]
        if self.advertise_iss:
            optional["authorization_response_iss_parameter_supported"] = True
        return JSONResponse(
            {
                **optional,
                "issuer": base,
                "authorization_endpoint": base + "/authorize",
                "token_endpoint": base + "/token",
                "userinfo_endpoint": base + "/userinfo",
                "jwks_uri": base + "/jwks",
                "end_session_endpoint": base + "/session/end",
                "id_token_signing_alg_values_supported": ["ES256"],
                "userinfo_signing_alg_values_supported": ["ES256"],
                "acr_values_supported": ["eidas1", "eidas2"],
            }
        )

    async def authorize(self, request: Request) -> Response:
        params = dict(request.query_params)
        self.last_authorize = params
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"nonce": params.get("nonce"), "redirect_uri": params.get("redirect_uri"),
                            "challenge": params.get("code_challenge")}  # fmt: skip
        answer = {"code": code, "state": params.get("state", "")}
        if self.callback_iss is not None:
            answer["iss"] = self.callback_iss
        query = urlencode(answer)
        return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=302)

    async def token(self, request: Request) -> Response:
        self.token_requests += 1
        async with request.form() as form:
            data = {name: str(value) for name, value in form.items()}
        issued = self.codes.pop(data.get("code", ""), None)
        if data.get("client_id") != FAKE_CLIENT_ID or data.get("client_secret") != FAKE_SECRET:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if issued is None or issued["redirect_uri"] != data.get("redirect_uri"):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if issued["challenge"] is not None:
            import base64
            import hashlib

            digest = hashlib.sha256(data.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != issued["challenge"]:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
        now = int(time.time())
        claims = {
            "iss": self.id_token_issuer or self.issuer,
            "aud": FAKE_CLIENT_ID,
            "sub": FAKE_SUB,
            "iat": now if self.id_token_lifetime > 0 else now - 3600,
            "exp": now + self.id_token_lifetime,
            "auth_time": now,
            "nonce": issued["nonce"],
            "acr": self.acr,
            "amr": ["pwd"],
        }
        access_token = secrets.token_urlsafe(24)
        self.tokens[access_token] = FAKE_SUB
        if self.id_token_alg == "HS256":
            secret = OctKey.import_key(FAKE_SECRET.encode())
            id_token = jwt.encode({"alg": "HS256", "kid": "key-a", "typ": "JWT"}, claims, secret, algorithms=["HS256"])
        else:
            id_token = self.sign(claims, self.id_token_key)
        return JSONResponse({"access_token": access_token, "token_type": "Bearer", "expires_in": 60,
                             "id_token": id_token}, headers={"Cache-Control": "no-store"})  # fmt: skip

    async def userinfo(self, request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        sub = self.tokens.get(token)
        if sub is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        claims = {
            "iss": self.issuer,
            "aud": FAKE_CLIENT_ID,
            "sub": sub,
            "given_name": "Alex",
            "family_name": "TESTEUR",
            "email": "alex.testeur@demo.guichet.example",
            "gender": "male",  # not asked for: must not be kept
            "birthdate": "1980-01-01",
        }
        if self.userinfo_json:
            return JSONResponse(claims)
        return Response(self.sign(claims, self.userinfo_key), media_type="application/jwt")

    async def jwks(self, request: Request) -> Response:
        self.jwks_requests += 1
        return JSONResponse({"keys": [key.as_dict(private=False) for key in self.published]})

    async def end_session(self, request: Request) -> Response:
        params = request.query_params
        query = urlencode({"state": params.get("state", "")})
        return RedirectResponse(f"{params['post_logout_redirect_uri']}?{query}", status_code=302)

    def sign(self, claims: dict[str, Any], key: ECKey | None) -> str:
        key = key or self.published[0]
        return jwt.encode({"alg": "ES256", "kid": str(key.kid), "typ": "JWT"}, claims, key, algorithms=["ES256"])


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeProvider]:
    provider = FakeProvider()
    sock = free_socket()
    provider.issuer = f"http://127.0.0.1:{sock.getsockname()[1]}/api/v2"
    with serve(provider.app(), sock):
        yield provider


@pytest.fixture
def fake(fake_server: FakeProvider) -> FakeProvider:
    fake_server.reset()
    return fake_server


# The gateway ----------------------------------------------------------------------------------------


@dataclass
class Gateway:
    url: str
    app: Starlette
    config: ConfigFolder

    @property
    def settings(self) -> Settings:
        settings: Settings = self.app.state.registry.settings
        return settings

    def audit(self) -> list[AuditEntry]:
        with self.app.state.db.session() as session:
            return list(session.exec(select(AuditEntry).order_by(AuditEntry.seq)))  # type: ignore[arg-type]

    def logins(self) -> list[tuple[str, str]]:
        """(outcome, resource) of every auth.login event."""
        return [(entry.outcome, entry.resource) for entry in self.audit() if entry.action == "auth.login"]

    def citizens(self) -> list[Citizen]:
        with self.app.state.db.session() as session:
            return list(session.exec(select(Citizen)))

    def sessions(self) -> list[UserSession]:
        with self.app.state.db.session() as session:
            return list(session.exec(select(UserSession)))


def provider_toml(key: str, name: str, issuer: str, **extra: str | list[str] | bool) -> str:
    lines = ["[[identity.providers]]", f'key = "{key}"', f'display_name = "{name}"', f'issuer = "{issuer}"',
             f'client_id = "{FAKE_CLIENT_ID}"', f'client_secret_env = "{FAKE_SECRET_ENV}"']  # fmt: skip
    lines += [f"{name} = {str(value).lower() if isinstance(value, bool) else repr(value)}".replace("'", '"')
              for name, value in extra.items()]  # fmt: skip
    return "\n".join(lines) + "\n"


@pytest.fixture
def gateway(
    guichet_config: ConfigFolder, guichet_database_url: str, fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Gateway]:
    """The demo deployment served on loopback, with three test providers and Vénissieux's staff provider.

    - ``fake``: the tests' provider, asking for eidas1;
    - ``fake-strict``: the same provider, asking for eidas2;
    - ``elsewhere``: the same provider's metadata, but configured with another issuer;
    - ``fake-signed``: the same provider, its userinfo required signed;
    - ``fake-no-pkce``: the same provider, PKCE turned off in its settings;
    - Vénissieux's staff provider: the gateway's own demo provider.
    """
    sock = free_socket()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    (guichet_config.path.parent / "secret").write_text(secrets.token_urlsafe(48), encoding="utf-8")
    guichet_config.set_gateway(gateway={"public_base_url": base_url}, database={"url": guichet_database_url})
    guichet_config.set_commune(
        "venissieux",
        identity={
            "staff_provider": {
                "key": "venissieux-agents",
                "display_name": "Annuaire de Vénissieux",
                "discovery_url": base_url + ISSUER_PATH + "/.well-known/openid-configuration",
                "client_id": "guichet-demo",
                "client_secret_env": STAFF_SECRET_ENV,
                "scopes": ["openid"],
            }
        },
    )
    with (guichet_config.path / "gateway.toml").open("a", encoding="utf-8") as handle:
        handle.write(
            "\n" + provider_toml("fake", "Fournisseur de test", fake.issuer, acr_values="eidas1", scopes=FAKE_SCOPES)
        )
        handle.write("\n" + provider_toml("fake-strict", "Fournisseur exigeant", fake.issuer, acr_values="eidas2"))
        handle.write("\n" + provider_toml("fake-signed", "Fournisseur à userinfo signé", fake.issuer,
                                          signed_userinfo=True))  # fmt: skip
        handle.write("\n" + provider_toml("fake-no-pkce", "Fournisseur sans PKCE", fake.issuer, pkce=False))
        handle.write("\n" + provider_toml("elsewhere", "Fournisseur mal configuré", fake.issuer + "/autre",
                                          discovery_url=fake.issuer + "/.well-known/openid-configuration"))  # fmt: skip
    monkeypatch.setenv(FAKE_SECRET_ENV, FAKE_SECRET)
    monkeypatch.setenv(STAFF_SECRET_ENV, "set below, once the secret key is known")
    monkeypatch.setenv(STAFF_SECRET_ENV, demo_client_credentials(load_settings(guichet_config.path))[1])
    app = create_app(guichet_config.path)
    try:
        with serve(app, sock) as url:
            yield Gateway(url, app, guichet_config)
    finally:
        app.state.db.dispose()


# The browser ----------------------------------------------------------------------------------------


class Browser:
    """A browser that follows nothing by itself: every redirect is a step the test takes."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.http = httpx.Client(timeout=20, headers={"Accept-Language": "fr"})
        self.last: httpx.Response | None = None

    def url(self, target: str) -> str:
        return urljoin(self.gateway.url + "/", target)

    def get(self, target: str, **kwargs: Any) -> httpx.Response:
        self.last = self.http.get(self.url(target), **kwargs)
        return self.last

    def post(self, target: str, data: dict[str, str]) -> httpx.Response:
        self.last = self.http.post(self.url(target), data=data)
        return self.last

    def follow(self, response: httpx.Response) -> httpx.Response:
        assert response.status_code in (302, 303), (response.status_code, response.text[:2000])
        self.last = self.http.get(urljoin(str(response.url), response.headers["location"]))
        return self.last

    def token(self, page: str = "/connexion") -> str:
        match = CSRF.search(self.get(page).text)
        assert match
        return match.group(1)

    def choose(self, provider: str, *, suite: str | None = None) -> httpx.Response:
        """On the sign-in hub, press the provider's button."""
        hub = self.get("/connexion" + (f"?suite={suite}" if suite else ""))
        action = f"/connexion/{provider}" + (f"?suite={suite}" if suite else "")
        assert f'action="{html.escape(action)}"' in hub.text, hub.text
        match = CSRF.search(hub.text)
        assert match
        return self.post(action, {"csrftoken": match.group(1)})

    def pick_person(self, authorize: httpx.Response, person: str = "camille-exemple") -> httpx.Response:
        """At the demo provider: the page listing the fictitious people, then the chosen one."""
        page = self.follow(authorize)
        assert page.status_code == 200, page.text
        fields = {name: html.unescape(value) for name, value in HIDDEN.findall(page.text)}
        return self.post(ISSUER_PATH + "/authorize", {**fields, "person": person})

    def signed_in(self) -> bool:
        answer = self.get("/mon-compte/acces")
        assert answer.status_code in (200, 303)
        return answer.status_code == 200

    def flow_cookie(self) -> str:
        value = self.http.cookies.get(FLOW_COOKIE)
        assert value
        return value

    def set_flow_cookie(self, value: str) -> None:
        self.http.cookies.set(FLOW_COOKIE, value, domain="127.0.0.1", path="/connexion")


@pytest.fixture
def browser(gateway: Gateway) -> Iterator[Browser]:
    client = Browser(gateway)
    yield client
    client.http.close()


def query(response: httpx.Response) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(response.headers["location"]).query).items()}


def demo_callback(browser: Browser, person: str = "camille-exemple", *, suite: str | None = None) -> httpx.Response:
    """Hub, demo provider's button, its page, a person: the provider's redirect back to the gateway."""
    chosen = browser.pick_person(browser.choose("demo", suite=suite), person)
    assert chosen.status_code == 303, chosen.text
    assert chosen.headers["location"].startswith(browser.gateway.url + "/connexion/retour?")
    return chosen


def fake_callback(browser: Browser, provider: str = "fake") -> httpx.Response:
    started = browser.choose(provider)
    assert started.status_code == 303, started.text
    back = browser.follow(started)  # the fake provider answers at once
    assert back.status_code == 302
    return back


def assert_refused(gateway: Gateway, browser: Browser, answer: httpx.Response, reason: str, words: str,
                   *, provider: str = "demo", status: int = 400) -> None:  # fmt: skip
    """A clear page, the reason in the audit log, the flow cookie gone, nobody signed in."""
    assert answer.status_code == status, answer.text
    assert words in html.unescape(answer.text)
    assert reason in answer.text  # the reference a person can quote
    assert ("failure", f"oidc-login/{provider}/{reason}") in gateway.logins()
    assert FLOW_COOKIE not in browser.http.cookies
    assert not browser.signed_in()


# The whole flow -----------------------------------------------------------------------------------


def test_demo_sign_in_and_sign_out_through_the_provider(gateway: Gateway, browser: Browser) -> None:
    base = gateway.url
    hub = browser.get("/connexion?suite=/mon-compte/acces")
    assert hub.status_code == 200
    assert "Se connecter avec le fournisseur d'identité de démonstration" in html.unescape(hub.text)
    assert "personne fictive" in hub.text
    assert 'href="/compte/connexion?suite=/mon-compte/acces"' in hub.text and 'href="/compte/creer"' in hub.text

    started = browser.choose("demo", suite="/mon-compte/acces")
    assert started.status_code == 303
    authorize = urlsplit(started.headers["location"])
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == base + ISSUER_PATH + "/authorize"
    params = query(started)
    assert params["response_type"] == "code"
    assert params["client_id"] == "guichet-demo"
    assert params["redirect_uri"] == base + "/connexion/retour"
    # started from no service: the base scopes only (a service's claims are asked from its pages)
    assert params["scope"].split() == ["openid", "given_name", "family_name", "email"]
    assert len(params["state"]) >= 32 and len(params["nonce"]) >= 32 and params["state"] != params["nonce"]
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert params["acr_values"] == "eidas1"
    flow_cookie = started.headers["set-cookie"].lower()
    assert FLOW_COOKIE in flow_cookie
    for attribute in ("httponly", "samesite=lax", "path=/connexion", "max-age=600"):
        assert attribute in flow_cookie
    flow = open_flow(gateway.settings.secret_key, browser.flow_cookie())
    assert flow is not None and (flow.state, flow.nonce, flow.next) == (
        params["state"],
        params["nonce"],
        "/mon-compte/acces",
    )
    assert open_flow(secrets.token_bytes(32), browser.flow_cookie()) is None  # signed with the gateway's key

    chosen = browser.pick_person(started, "camille-exemple")
    assert chosen.status_code == 303
    signed_in = browser.follow(chosen)
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/mon-compte/acces"
    assert COOKIE in signed_in.headers.get("set-cookie", "")
    assert FLOW_COOKIE not in browser.http.cookies  # used once

    mine = browser.follow(signed_in)
    assert mine.status_code == 200
    assert "Connecté : Camille Anne EXEMPLE" in mine.text
    assert "Connexion à votre compte" in mine.text  # the sign-in is in the citizen's own access log

    (citizen,) = gateway.citizens()
    assert citizen.issuer == base + ISSUER_PATH
    assert citizen.sub == pairwise_subject(gateway.settings.secret_key, "guichet-demo", "camille-exemple")
    assert (citizen.given_name, citizen.family_name) == ("Camille Anne", "EXEMPLE")
    assert citizen.email == "camille.exemple@demo.guichet.example"
    # only what was asked for: no birth claim, no gender
    assert citizen.claims == {}
    (row,) = [row for row in gateway.sessions() if row.revoked_at is None]
    assert row.provider == "demo" and row.id_token and row.citizen_id == citizen.id
    assert ("success", "oidc-login/demo/first-sign-in") in gateway.logins()

    token = CSRF.search(mine.text)
    assert token
    leaving = browser.post("/deconnexion", {"csrftoken": token.group(1)})
    assert leaving.status_code == 303
    end_session = urlsplit(leaving.headers["location"])
    assert f"{end_session.scheme}://{end_session.netloc}{end_session.path}" == base + ISSUER_PATH + "/session/end"
    logout = query(leaving)
    assert logout["id_token_hint"] == row.id_token
    assert logout["post_logout_redirect_uri"] == base + "/deconnexion/retour"
    assert len(logout["state"]) >= 32
    assert not browser.signed_in()  # signed out of the gateway before the provider is even asked

    back = browser.follow(leaving)
    assert back.status_code == 302
    assert back.headers["location"] == f"{base}/deconnexion/retour?state={logout['state']}"
    done = browser.follow(back)
    assert done.status_code == 200
    assert "Vous êtes déconnecté du guichet et du fournisseur d'identité « Démonstration »" in html.unescape(done.text)
    assert "guichet_oidc_logout" not in browser.http.cookies

    assert all(session.revoked_at is not None and session.id_token is None for session in gateway.sessions())
    entries = gateway.audit()
    assert ("auth.logout", "success") in [(entry.action, entry.outcome) for entry in entries]
    for entry in entries:  # nothing secret ever reaches the log
        for secret in (row.id_token, params["state"], params["nonce"], query(chosen)["code"], logout["state"]):
            assert secret not in entry.encoded


def test_second_sign_in_finds_the_same_citizen_and_refreshes_the_claims(gateway: Gateway, browser: Browser) -> None:
    for _ in range(2):
        assert browser.follow(demo_callback(browser, "mathis-fictif")).status_code == 303
    (citizen,) = gateway.citizens()
    assert citizen.given_name == "Mathis Jean Paul"
    assert [resource for outcome, resource in gateway.logins()] == ["oidc-login/demo/first-sign-in", "oidc-login/demo"]


@sqlite_only
def test_fake_provider_with_json_userinfo_and_an_unsafe_next(
    gateway: Gateway, browser: Browser, fake: FakeProvider
) -> None:
    fake.userinfo_json = True
    started = browser.post("/connexion/fake?suite=https://evil.example/", {"csrftoken": browser.token()})
    assert fake.issuer in started.headers["location"]
    signed_in = browser.follow(browser.follow(started))
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
    (citizen,) = gateway.citizens()
    assert (citizen.issuer, citizen.sub, citizen.given_name) == (fake.issuer, FAKE_SUB, "Alex")
    assert citizen.claims == {"birthdate": "1980-01-01"}  # gender was sent too, but not asked for
    assert browser.signed_in()


# Refused sign-ins ---------------------------------------------------------------------------------


def test_forged_state_is_refused(gateway: Gateway, browser: Browser) -> None:
    callback = demo_callback(browser)
    params = query(callback)
    answer = browser.get("/connexion/retour", params={"code": params["code"], "state": secrets.token_urlsafe(32)})
    assert_refused(gateway, browser, answer, "state-mismatch", "ne correspond à aucune connexion commencée")


def test_missing_state_is_refused(gateway: Gateway, browser: Browser) -> None:
    callback = demo_callback(browser)
    answer = browser.get("/connexion/retour", params={"code": query(callback)["code"]})
    assert_refused(gateway, browser, answer, "state-missing", "ne correspond à aucune connexion commencée")


def test_code_from_another_browser_is_refused(gateway: Gateway, browser: Browser) -> None:
    callback = demo_callback(browser)
    other = Browser(gateway)
    try:
        answer = other.follow(callback)
        assert_refused(gateway, other, answer, "flow-missing", "ne correspond à aucune connexion commencée",
                       provider="-")  # fmt: skip
    finally:
        other.http.close()


def test_replayed_code_is_refused(gateway: Gateway, browser: Browser) -> None:
    callback = demo_callback(browser)
    flow = browser.flow_cookie()
    assert browser.follow(callback).status_code == 303
    # the same browser again: its flow was used up
    again = browser.follow(callback)
    assert again.status_code == 400 and ("failure", "oidc-login/-/flow-missing") in gateway.logins()
    # even with the flow restored, its state was spent: refused here, the provider is not asked again
    browser.set_flow_cookie(flow)
    replay = browser.follow(callback)
    assert replay.status_code == 400
    assert "ne correspond à aucune connexion commencée" in html.unescape(replay.text)
    assert ("failure", "oidc-login/demo/state-replayed") in gateway.logins()
    assert ("failure", "oidc-login/demo/token-refused-invalid_grant") not in gateway.logins()
    assert len([row for row in gateway.sessions() if row.revoked_at is None]) == 1  # the first sign-in only


def test_wrong_nonce_is_refused(gateway: Gateway, browser: Browser) -> None:
    started = browser.choose("demo")
    secret_key = gateway.settings.secret_key
    flow = open_flow(secret_key, browser.flow_cookie())
    assert flow is not None
    tampered = Flow(flow.provider, flow.state, secrets.token_urlsafe(32), flow.verifier, flow.next)
    browser.set_flow_cookie(seal_flow(secret_key, tampered))
    answer = browser.follow(browser.pick_person(started))
    assert_refused(gateway, browser, answer, "nonce-mismatch", "n'a pas pu être vérifiée")


def test_id_token_from_another_issuer_is_refused(gateway: Gateway, browser: Browser, fake: FakeProvider) -> None:
    fake.id_token_issuer = fake.issuer + "/autre"
    answer = browser.follow(fake_callback(browser))
    assert_refused(gateway, browser, answer, "id-token-issuer", "n'a pas pu être vérifiée", provider="fake")


def test_callback_iss_of_another_issuer_is_refused_even_when_not_advertised(
    gateway: Gateway, browser: Browser, fake: FakeProvider
) -> None:
    fake.callback_iss = "https://evil.example"  # RFC 9207: a response from (or for) another issuer
    answer = browser.follow(fake_callback(browser))
    assert_refused(gateway, browser, answer, "iss-mismatch", "n'a pas pu être vérifiée", provider="fake")
    assert fake.token_requests == 0  # the code is not even redeemed


def test_callback_without_iss_is_refused_when_the_provider_advertises_it(
    gateway: Gateway, browser: Browser, fake: FakeProvider
) -> None:
    fake.advertise_iss = True
    answer = browser.follow(fake_callback(browser))
    assert_refused(gateway, browser, answer, "iss-missing", "n'a pas pu être vérifiée", provider="fake")
    assert fake.token_requests == 0


@sqlite_only
def test_callback_with_the_right_iss_signs_in(gateway: Gateway, browser: Browser, fake: FakeProvider) -> None:
    fake.advertise_iss, fake.callback_iss = True, fake.issuer
    assert browser.follow(fake_callback(browser)).status_code == 303
    assert browser.signed_in()


def test_replayed_callback_is_refused_without_asking_the_provider(
    gateway: Gateway, browser: Browser, fake: FakeProvider
) -> None:
    callback = fake_callback(browser)
    flow = browser.flow_cookie()
    assert browser.follow(callback).status_code == 303
    assert fake.token_requests == 1
    browser.set_flow_cookie(flow)  # a copy of the flow cookie, and the callback's address, presented again
    replay = browser.follow(callback)
    assert replay.status_code == 400
    assert "ne correspond à aucune connexion commencée" in html.unescape(replay.text)
    assert ("failure", "oidc-login/fake/state-replayed") in gateway.logins()
    assert fake.token_requests == 1  # refused here: the provider was not asked to redeem the code again


def test_spent_states_are_kept_hashed_and_forgotten_once_expired(gateway: Gateway) -> None:
    from datetime import timedelta

    from gateway.identity.spent_states import spend
    from gateway.models import SpentOidcState

    db = gateway.app.state.db
    then = datetime(2026, 1, 1, tzinfo=UTC)
    with db.session() as session:
        assert spend(session, "state-one", keep_for=timedelta(minutes=10), now=then)
    with db.session() as session:
        assert not spend(session, "state-one", keep_for=timedelta(minutes=10), now=then + timedelta(minutes=5))
        (row,) = session.exec(select(SpentOidcState)).all()
        assert "state-one" not in row.state_hash
    with db.session() as session:  # expired: forgotten (the flow cookie it matched has expired too)
        assert spend(session, "state-two", keep_for=timedelta(minutes=10), now=then + timedelta(minutes=11))
        assert len(session.exec(select(SpentOidcState)).all()) == 1


def test_id_token_in_a_forbidden_algorithm_is_refused_as_such(
    gateway: Gateway, browser: Browser, fake: FakeProvider
) -> None:
    fake.id_token_alg = "HS256"  # signed with the client secret: anyone holding it could mint tokens
    answer = browser.follow(fake_callback(browser))
    assert_refused(gateway, browser, answer, "id-token-algorithm", "n'a pas pu être vérifiée", provider="fake")


def test_plain_json_userinfo_is_refused_where_signed_userinfo_is_required(
    gateway: Gateway, browser: Browser, fake: FakeProvider
) -> None:
    fake.userinfo_json = True
    answer = browser.follow(fake_callback(browser, "fake-signed"))
    assert_refused(gateway, browser, answer, "userinfo-unsigned", "n'a pas pu être vérifiée", provider="fake-signed")


@sqlite_only
def test_signed_userinfo_is_accepted_where_it_is_required(gateway: Gateway, browser: Browser) -> None:
    assert browser.follow(fake_callback(browser, "fake-signed")).status_code == 303
    assert browser.signed_in()


@sqlite_only
def test_pkce_is_sent_even_when_discovery_does_not_advertise_it(
    gateway: Gateway, browser: Browser, fake: FakeProvider
) -> None:
    fake.advertise_pkce = False
    started = browser.choose("fake")
    assert query(started)["code_challenge_method"] == "S256" and len(query(started)["code_challenge"]) == 43
    assert browser.follow(browser.follow(started)).status_code == 303  # the provider checked the verifier
    assert browser.signed_in()


@sqlite_only
def test_pkce_is_left_out_only_when_the_settings_turn_it_off(gateway: Gateway, browser: Browser) -> None:
    started = browser.choose("fake-no-pkce")
    assert "code_challenge" not in query(started) and "code_challenge_method" not in query(started)
    assert browser.follow(browser.follow(started)).status_code == 303
    assert browser.signed_in()


def test_provider_configured_with_another_issuer_is_refused(gateway: Gateway, browser: Browser) -> None:
    answer = browser.choose("elsewhere")
    assert answer.status_code == 502
    assert "Le fournisseur d'identité ne répond pas" in html.unescape(answer.text)
    assert ("failure", "oidc-login/elsewhere/discovery-issuer") in gateway.logins()
    assert FLOW_COOKIE not in browser.http.cookies


def test_bad_id_token_signature_is_refused(gateway: Gateway, browser: Browser, fake: FakeProvider) -> None:
    fake.id_token_key = es256_key("key-a")  # the published key's id, another key's signature
    answer = browser.follow(fake_callback(browser))
    assert_refused(gateway, browser, answer, "id-token-signature", "n'a pas pu être vérifiée", provider="fake")


def test_bad_userinfo_signature_is_refused(gateway: Gateway, browser: Browser, fake: FakeProvider) -> None:
    fake.userinfo_key = es256_key("key-a")
    answer = browser.follow(fake_callback(browser))
    assert_refused(gateway, browser, answer, "userinfo-signature", "n'a pas pu être vérifiée", provider="fake")
    assert gateway.citizens() == []


def test_unknown_key_id_after_rotation_fetches_the_keys_once_more(
    gateway: Gateway, browser: Browser, fake: FakeProvider
) -> None:
    assert browser.follow(fake_callback(browser)).status_code == 303
    assert fake.jwks_requests == 1  # then cached
    fake.rotate("key-b")
    signed_in = browser.follow(fake_callback(browser))
    assert signed_in.status_code == 303, signed_in.text
    assert fake.jwks_requests == 2  # "key-b" was unknown: fetched once more, found
    assert browser.follow(fake_callback(browser)).status_code == 303
    assert fake.jwks_requests == 2


def test_key_id_still_unknown_after_one_refetch_is_refused(
    gateway: Gateway, browser: Browser, fake: FakeProvider
) -> None:
    fake.id_token_key = es256_key("never-published")
    answer = browser.follow(fake_callback(browser))
    assert fake.jwks_requests == 2  # the cached set, then one more try, then no more
    assert_refused(gateway, browser, answer, "id-token-key-unknown", "n'a pas pu être vérifiée", provider="fake")


def test_acr_lower_than_asked_is_refused(gateway: Gateway, browser: Browser, fake: FakeProvider) -> None:
    fake.acr = "eidas1"
    started = browser.choose("fake-strict")
    assert query(started)["acr_values"] == "eidas2"
    answer = browser.follow(browser.follow(started))
    assert_refused(gateway, browser, answer, "acr-too-low", "n'a pas pu être vérifiée", provider="fake-strict")


def test_acr_levels() -> None:
    assert acr_satisfies("eidas2", "eidas1") and acr_satisfies("eidas1", "eidas1")
    assert not acr_satisfies("eidas1", "eidas2") and not acr_satisfies(None, "eidas1")
    assert not acr_satisfies("something-else", "eidas1") and acr_satisfies("loa-x", "loa-x")


def test_expired_id_token_is_refused(gateway: Gateway, browser: Browser, fake: FakeProvider) -> None:
    fake.id_token_lifetime = -600
    answer = browser.follow(fake_callback(browser))
    assert_refused(gateway, browser, answer, "id-token-expired", "n'a pas pu être vérifiée", provider="fake")


def test_provider_error_on_the_callback_is_shown_and_recorded(gateway: Gateway, browser: Browser) -> None:
    started = browser.choose("demo")
    page = browser.follow(started)
    fields = {name: html.unescape(value) for name, value in HIDDEN.findall(page.text)}
    cancelled = browser.post(ISSUER_PATH + "/authorize", {**fields, "cancel": "1"})
    assert query(cancelled)["error"] == "access_denied"
    answer = browser.follow(cancelled)
    assert_refused(gateway, browser, answer, "provider-error-access_denied", "La connexion a été annulée")


def test_session_cookie_from_before_sign_in_is_not_the_one_after(gateway: Gateway, browser: Browser) -> None:
    with gateway.app.state.db.session() as session:
        earlier = Citizen(public_id=secrets.token_hex(16), issuer="local", sub="someone-else",
                          given_name="Quelqu'un", family_name="AVANT", created_at=datetime.now(UTC))  # fmt: skip
        session.add(earlier)
        session.flush()
        assert earlier.id is not None
        planted = open_session(session, "citizen", earlier.id)
    planted_cookie = cookie_value(gateway.settings.secret_key, planted)
    browser.http.cookies.set(COOKIE, planted_cookie, domain="127.0.0.1", path="/")
    assert browser.signed_in()

    assert browser.follow(demo_callback(browser)).status_code == 303
    after = browser.http.cookies.get(COOKIE)
    assert after and after != planted_cookie
    assert "Connecté : Camille Anne EXEMPLE" in browser.get("/mon-compte/acces").text
    # the session from before is over, on the server
    browser.http.cookies.set(COOKIE, planted_cookie, domain="127.0.0.1", path="/")
    assert not browser.signed_in()


def test_provider_choice_without_csrf_token_is_refused(gateway: Gateway, browser: Browser) -> None:
    browser.get("/connexion")  # the CSRF cookie, as a browser would have it
    answer = browser.post("/connexion/demo", {})
    assert answer.status_code == 403
    assert "Le formulaire a expiré" in html.unescape(answer.text)
    assert "location" not in answer.headers and FLOW_COOKIE not in browser.http.cookies
    assert ("access.csrf-refused", "denied", "POST /connexion/demo") in [
        (entry.action, entry.outcome, entry.resource) for entry in gateway.audit()
    ]


def test_logout_return_with_a_forged_state_is_refused(gateway: Gateway, browser: Browser) -> None:
    signed_in = browser.follow(demo_callback(browser))
    token = CSRF.search(browser.follow(signed_in).text)
    assert token
    leaving = browser.post("/deconnexion", {"csrftoken": token.group(1)})
    answer = browser.get("/deconnexion/retour", params={"state": secrets.token_urlsafe(32)})
    assert answer.status_code == 400
    assert "Déconnexion non confirmée" in answer.text
    assert ("auth.logout", "failure", "oidc-logout/demo/state-mismatch") in [
        (entry.action, entry.outcome, entry.resource) for entry in gateway.audit()
    ]
    assert leaving.status_code == 303 and not browser.signed_in()


# Staff through their commune's own provider ---------------------------------------------------------


def create_agent(gateway: Gateway, username: str, *roles: str) -> None:
    with gateway.app.state.db.session() as session:
        staff_accounts.create(session, username=username, display_name=username.title(),
                              email=f"{username}@venissieux.example", password="a long enough test password",
                              grants=[staff_accounts.parse_grant(role) for role in roles])  # fmt: skip


def link(gateway: Gateway, username: str, person: str, commune: str = "venissieux") -> Any:
    sub = pairwise_subject(gateway.settings.secret_key, "guichet-demo", person)
    return CliRunner().invoke(
        cli, ["--config", str(gateway.config.path), "users", "link-oidc", username, "--commune", commune, "--sub", sub]
    )


def staff_callback(browser: Browser, person: str) -> httpx.Response:
    page = browser.get("/agents/connexion?suite=/agents/jetons")
    assert "Se connecter avec le compte de Vénissieux" in page.text
    match = CSRF.search(page.text)
    assert match
    started = browser.post("/agents/connexion/commune/venissieux?suite=/agents/jetons", {"csrftoken": match.group(1)})
    assert started.status_code == 303, started.text
    assert query(started)["scope"] == "openid"
    chosen = browser.pick_person(started, person)
    assert chosen.status_code == 303
    return browser.follow(chosen)


def test_staff_sign_in_through_the_commune_provider_needs_no_code(gateway: Gateway, browser: Browser) -> None:
    create_agent(gateway, "mathis.agent", "agent:venissieux:contact:instructor")
    linked = link(gateway, "mathis.agent", "mathis-fictif")
    assert linked.exit_code == 0, linked.output
    assert "mathis.agent signs in through Annuaire de Vénissieux" in linked.output

    answer = staff_callback(browser, "mathis-fictif")
    assert answer.status_code == 303 and answer.headers["location"] == "/agents/jetons"
    home = browser.get("/agents")
    assert home.status_code == 200 and "Mathis.Agent" in home.text
    with gateway.app.state.db.session() as session:
        staff = session.exec(select(StaffUser).where(StaffUser.username == "mathis.agent")).one()
        assert staff.totp_enrolled_at is None  # no TOTP was asked for
    (live,) = [row for row in gateway.sessions() if row.revoked_at is None]
    assert (live.kind, live.staff_id, live.mfa_pending, live.provider) == (
        "staff",
        staff.id,
        False,
        "venissieux-agents",
    )
    # signing out goes through the commune's provider too
    token = CSRF.search(home.text)
    assert token
    leaving = browser.post("/deconnexion", {"csrftoken": token.group(1)})
    assert leaving.headers["location"].startswith(gateway.url + ISSUER_PATH + "/session/end?")
    done = browser.follow(browser.follow(leaving))
    assert "Annuaire de Vénissieux" in done.text and browser.get("/agents").status_code == 303
    staff_events = [entry for entry in gateway.audit() if entry.action in ("auth.login", "staff.link-oidc")]
    assert [(entry.action, entry.outcome, entry.resource, entry.actor_id, entry.commune) for entry in staff_events] == [
        ("staff.link-oidc", "success", f"staff/{staff.id}", "system", "venissieux"),
        ("auth.login", "success", "staff-oidc-login/venissieux", f"staff:{staff.id}", "venissieux"),
    ]


def test_unknown_staff_is_refused(gateway: Gateway, browser: Browser) -> None:
    answer = staff_callback(browser, "noe-prototype")
    assert answer.status_code == 403
    assert "Aucun compte d'agent du guichet n'est relié à votre compte" in html.unescape(answer.text)
    assert ("denied", "staff-oidc-login/venissieux/staff-unknown") in gateway.logins()
    assert browser.get("/agents").status_code == 303


def test_disabled_staff_is_refused(gateway: Gateway, browser: Browser) -> None:
    create_agent(gateway, "lucie.agent", "agent:venissieux")
    assert link(gateway, "lucie.agent", "lucie-essai").exit_code == 0
    with gateway.app.state.db.session() as session:
        staff = staff_accounts.find(session, "lucie.agent")
        assert staff is not None
        staff_accounts.set_disabled(session, staff, True)
    answer = staff_callback(browser, "lucie-essai")
    assert answer.status_code == 403
    assert "Votre compte d'agent est désactivé" in html.unescape(answer.text)
    assert ("denied", "staff-oidc-login/venissieux/staff-disabled") in gateway.logins()
    assert browser.get("/agents").status_code == 303


@sqlite_only
def test_link_refuses_accounts_with_roles_beyond_the_commune(gateway: Gateway) -> None:
    create_agent(gateway, "ines.auditrice", "auditor")
    create_agent(gateway, "camille.corbas", "agent:venissieux", "agent:corbas")
    for username in ("ines.auditrice", "camille.corbas"):
        refused = link(gateway, username, "ines-demo")
        assert refused.exit_code == 1 and "grants outside venissieux" in refused.output
    assert "has no [identity.staff_provider]" in link(gateway, "ines.auditrice", "ines-demo", commune="corbas").output


# Configuration --------------------------------------------------------------------------------------


FRANCECONNECT = {
    "key": "franceconnect",
    "display_name": "FranceConnect",
    "discovery_url": "https://fcp-low.integ01.dev-franceconnect.fr/api/v2/.well-known/openid-configuration",
    "client_id": "0123456789abcdef",
    "client_secret_env": "GUICHET_TEST_FC_SECRET",
    "acr_values": "eidas1",
}


def write_providers(config: ConfigFolder, *providers: dict[str, Any]) -> None:
    blocks = []
    for provider in providers:
        lines = ["[[identity.providers]]"]
        for name, value in provider.items():
            rendered = "[" + ", ".join(f'"{item}"' for item in value) + "]" if isinstance(value, list) else (
                str(value).lower() if isinstance(value, bool) else f'"{value}"')  # fmt: skip
            lines.append(f"{name} = {rendered}")
        blocks.append("\n".join(lines))
    with (config.path / "gateway.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n" + "\n\n".join(blocks) + "\n")


def test_franceconnect_is_configured_by_discovery_url(config: ConfigFolder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUICHET_TEST_FC_SECRET", "s3cret")
    write_providers(config, FRANCECONNECT)
    (provider,) = load_settings(config.path).identity.providers
    assert provider.expected_issuer == "https://fcp-low.integ01.dev-franceconnect.fr/api/v2"
    assert provider.scopes == ("openid", "given_name", "family_name", "email")
    assert provider.pkce is True and provider.post_logout_redirect == "/"


def test_franceconnect_requires_signed_userinfo_unless_its_settings_say_otherwise(
    config: ConfigFolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.identity.providers import provider_registry

    monkeypatch.setenv("GUICHET_TEST_FC_SECRET", "s3cret")
    other = {**FRANCECONNECT, "key": "ma-commune", "display_name": "Ma commune"}
    plus = {**FRANCECONNECT, "key": "franceconnect-plus", "display_name": "FranceConnect+", "signed_userinfo": False}
    write_providers(config, FRANCECONNECT, other, plus)
    providers = provider_registry(load_settings(config.path))
    assert providers.get("franceconnect").signed_userinfo is True  # type: ignore[union-attr]
    assert providers.get("ma-commune").signed_userinfo is False  # type: ignore[union-attr]
    assert providers.get("franceconnect-plus").signed_userinfo is False  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "key", "fault"),
    [
        ({"client_secret_env": "GUICHET_TEST_UNSET_VARIABLE"}, "identity.providers.0.client_secret_env",
         "GUICHET_TEST_UNSET_VARIABLE (the client secret) is not set"),
        ({"discovery_url": "http://idp.example/.well-known/openid-configuration"}, "identity.providers.0.discovery_url",
         "must use https://"),
        ({"scopes": ["given_name"]}, "identity.providers.0.scopes", "must contain 'openid'"),
        ({"key": "demo"}, "identity.providers.0.key", "reserved"),
        ({"post_logout_redirect": "https://evil.example/"}, "identity.providers.0.post_logout_redirect",
         "must be a path of this site"),
        ({"discovery_url": "https://idp.example/metadata"}, "identity.providers.0", "give the issuer too"),
        ({"client_secret": "s3cret"}, "identity.providers.0.client_secret", "unknown key"),
    ],
)  # fmt: skip
def test_bad_provider_configuration_names_file_and_key(
    config: ConfigFolder, monkeypatch: pytest.MonkeyPatch, change: dict[str, Any], key: str, fault: str
) -> None:
    monkeypatch.setenv("GUICHET_TEST_FC_SECRET", "s3cret")
    write_providers(config, {**FRANCECONNECT, **change})
    with pytest.raises(ConfigError) as raised:
        load_settings(config.path)
    assert raised.value.file.endswith("gateway.toml")
    assert (raised.value.key, fault in raised.value.fault) == (key, True), raised.value


def test_provider_key_is_unique_across_files(config: ConfigFolder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUICHET_TEST_FC_SECRET", "s3cret")
    write_providers(config, FRANCECONNECT)
    config.set_commune("corbas", identity={"citizen_provider": FRANCECONNECT})
    with pytest.raises(ConfigError) as raised:
        load_settings(config.path)
    assert raised.value.file.endswith("corbas.toml") and raised.value.key == "identity.citizen_provider.key"
    assert "duplicate provider key 'franceconnect'" in raised.value.fault


@sqlite_only
async def test_franceconnect_button_and_the_pages_csp(
    guichet_config: ConfigFolder, guichet_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUICHET_TEST_FC_SECRET", "s3cret")
    guichet_config.set_gateway(database={"url": guichet_database_url})
    write_providers(guichet_config, FRANCECONNECT)
    app = create_app(guichet_config.path)
    try:
        async with GuichetClient(app) as client:
            hub = await client.get("/connexion", headers={"Accept-Language": "en"})
            assert "Sign in with" in hub.text and "FranceConnect</span>" in hub.text
            assert 'href="https://franceconnect.gouv.fr/"' in hub.text and "What is FranceConnect?" in hub.text
            assert hub.text.index('action="/connexion/franceconnect"') < hub.text.index('action="/connexion/demo"')
            # the sign-in and sign-out forms redirect to FranceConnect: every page's CSP must let them
            for path in ("/connexion", "/"):
                policy = (await client.get(path)).headers["content-security-policy"]
                assert "form-action 'self' https://fcp-low.integ01.dev-franceconnect.fr;" in policy
    finally:
        app.state.db.dispose()


# In a real browser --------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.mark.browser
@sqlite_only
def test_a_real_browser_follows_the_redirects_to_a_provider_of_another_origin(gateway: Gateway) -> None:
    """Browsers apply the page's CSP ``form-action`` to the redirects after a form: the provider must be listed."""
    if not CHROMIUM.exists():
        skip_or_fail(f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = chromium.new_context(base_url=gateway.url, locale="fr-FR")
            context.set_default_timeout(10_000)
            page = context.new_page()
            page.goto("/connexion?suite=/mon-compte/acces")
            page.get_by_role("button", name="Se connecter avec Fournisseur de test").click()
            expect(page).to_have_url(gateway.url + "/mon-compte/acces")
            expect(page.get_by_text("Connecté : Alex TESTEUR")).to_be_visible()
            page.get_by_role("button", name="Se déconnecter").click()
            expect(page).to_have_url(re.compile(re.escape(gateway.url) + r"/deconnexion/retour\?state="))
            expect(page.get_by_role("heading", level=1)).to_have_text("Vous êtes déconnecté")
        finally:
            chromium.close()
