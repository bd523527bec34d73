"""Identity claims per service: a sign-in asks the provider for the base scopes plus those its service needs.

Through real HTTP: the demo deployment is served on loopback and signs people
in with its own demo identity provider, as a browser would (every redirect a step).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from click.testing import CliRunner
from sqlmodel import select
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.cli import main
from gateway.demo.identity_provider import ISSUER_PATH
from gateway.identity.oidc_flows import FLOW_COOKIE, open_flow
from gateway.identity.providers import Provider
from gateway.models import Citizen
from gateway.plugin import Localized, ServiceDefinition
from gateway.testing import ConfigFolder, free_socket, serve

CSRF = re.compile(r'name="csrftoken" value="([^"]+)"')
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
BASE_SCOPES = ["openid", "given_name", "family_name", "email"]


class Browser:
    """Follows nothing by itself: the sign-in hub, the provider's page, the way back."""

    def __init__(self, url: str) -> None:
        self.base = url
        self.http = httpx.Client(timeout=20, headers={"Accept-Language": "fr"})

    def start(self, suite: str) -> httpx.Response:
        hub = self.http.get(f"{self.base}/connexion?suite={suite}")
        match = CSRF.search(hub.text)
        assert hub.status_code == 200 and match
        return self.http.post(f"{self.base}/connexion/demo?suite={suite}", data={"csrftoken": match.group(1)})

    def sign_in(self, started: httpx.Response, person: str = "camille-exemple") -> httpx.Response:
        page = self.http.get(started.headers["location"])
        fields = {name: html.unescape(value) for name, value in HIDDEN.findall(page.text)}
        chosen = self.http.post(f"{self.base}{ISSUER_PATH}/authorize", data={**fields, "person": person})
        assert chosen.status_code == 303, chosen.text
        return self.http.get(urljoin(self.base, chosen.headers["location"]))


@pytest.fixture
def served(guichet_config: ConfigFolder, guichet_database_url: str) -> Iterator[tuple[Starlette, Browser]]:
    sock = free_socket()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    guichet_config.set_gateway(gateway={"public_base_url": base_url}, database={"url": guichet_database_url})
    app = create_app(guichet_config.path)
    browser = Browser(base_url)
    try:
        with serve(app, sock):
            yield app, browser
    finally:
        browser.http.close()
        app.state.db.dispose()


def asked_scopes(started: httpx.Response) -> list[str]:
    assert started.status_code == 303, started.text
    return parse_qs(urlsplit(started.headers["location"]).query)["scope"][0].split()


def citizen_claims(app: Starlette) -> dict[str, str]:
    with app.state.db.session() as session:
        (citizen,) = session.exec(select(Citizen)).all()
        return dict(citizen.claims)


def test_a_sign_in_from_the_civil_status_service_asks_for_and_keeps_the_birth_claims(
    served: tuple[Starlette, Browser],
) -> None:
    app, browser = served
    started = browser.start("/venissieux/etat-civil")
    assert asked_scopes(started) == [*BASE_SCOPES, "birthdate", "birthplace"]
    back = browser.sign_in(started)
    assert (back.status_code, back.headers["location"]) == (303, "/venissieux/etat-civil")
    assert citizen_claims(app) == {"birthdate": "1985-03-14", "birthplace": "69259"}  # no birth country, no gender


def test_a_sign_in_from_the_contact_service_asks_only_for_the_base_scopes(served: tuple[Starlette, Browser]) -> None:
    app, browser = served
    started = browser.start("/venissieux/contact")
    assert asked_scopes(started) == BASE_SCOPES
    assert browser.sign_in(started).status_code == 303
    assert citizen_claims(app) == {}


@pytest.mark.parametrize("suite", ["/grigny/etat-civil", "/nowhere/etat-civil", "/mes-demandes", "/"])
def test_a_sign_in_from_anywhere_but_an_offered_service_asks_only_for_the_base_scopes(
    served: tuple[Starlette, Browser], suite: str
) -> None:
    _app, browser = served
    assert asked_scopes(browser.start(suite)) == BASE_SCOPES


def test_the_scopes_asked_travel_in_the_signed_flow_cookie(served: tuple[Starlette, Browser]) -> None:
    app, browser = served
    browser.start("/venissieux/etat-civil")
    flow = open_flow(app.state.registry.settings.secret_key, browser.http.cookies.get(FLOW_COOKIE))
    assert flow is not None and flow.scopes == (*BASE_SCOPES, "birthdate", "birthplace")


def provider(*, scopes: tuple[str, ...] = tuple(BASE_SCOPES), offered: tuple[str, ...] = ()) -> Provider:
    return Provider(key="p", display_name="P", purpose="citizen", issuer="https://idp.test",
                    discovery_url="https://idp.test/.well-known/openid-configuration", client_id="c",
                    client_secret="s", scopes=scopes, acr_values=None, pkce=True, post_logout_redirect="/",
                    offered_scopes=offered)  # fmt: skip


def test_a_claim_is_asked_through_the_narrowest_offered_scope_releasing_it() -> None:
    offering = provider(offered=("identite_pivot", "birth", "birthplace"))
    assert offering.scopes_for(["birthplace"]) == (*BASE_SCOPES, "birthplace")
    assert offering.scopes_for(["birthcountry"]) == (*BASE_SCOPES, "birth")


def test_a_claim_the_base_scopes_release_adds_no_scope_and_one_nobody_offers_is_not_asked() -> None:
    assert provider(scopes=("openid", "profile")).scopes_for(["birthdate"]) == ("openid", "profile")
    assert provider().scopes_for(["birthdate"]) == tuple(BASE_SCOPES)


def test_a_service_claim_name_must_be_a_claim_name() -> None:
    with pytest.raises(ValueError, match="identity claims"):
        ServiceDefinition(key="x", title=Localized("X"), description=Localized("X"), reference_prefix="XX",
                          purpose=Localized("X"), identity_claims=("Birth Date",))  # fmt: skip


FRANCECONNECT = """
[[identity.providers]]
key = "franceconnect"
display_name = "FranceConnect"
discovery_url = "https://fcp-low.integ01.dev-franceconnect.fr/api/v2/.well-known/openid-configuration"
client_id = "0123456789abcdef"
client_secret_env = "GUICHET_TEST_FC_SECRET"
"""


def check(config: ConfigFolder, provider_toml: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setenv("GUICHET_TEST_FC_SECRET", "s3cret")
    with (config.path / "gateway.toml").open("a", encoding="utf-8") as handle:
        handle.write(provider_toml)
    result = CliRunner().invoke(main, ["--config", str(config.path), "check"])
    return result.exit_code, result.output


def test_check_warns_when_a_service_needs_a_claim_a_provider_cannot_give(
    guichet_config: ConfigFolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = check(guichet_config, FRANCECONNECT, monkeypatch)
    assert code == 0 and "configuration OK" in output
    for claim in ("birthdate", "birthplace"):
        assert (f"warning: service 'etat-civil' needs the identity claim '{claim}', which provider 'franceconnect' "
                "cannot give") in output  # fmt: skip
    assert "provider 'demo'" not in output  # the demo provider offers every claim
    assert "service 'contact'" not in output


def test_check_is_quiet_once_the_provider_offers_the_claims(
    guichet_config: ConfigFolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = check(guichet_config, FRANCECONNECT + 'offered_scopes = ["birthdate", "birthplace"]\n', monkeypatch)
    assert code == 0 and "warning" not in output
