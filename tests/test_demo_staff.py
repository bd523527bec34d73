"""Demo staff: a newcomer signs in as a fictitious agent, supervisor or auditor, without an authenticator app.

The demo deployment is served by uvicorn on a free loopback port, seeded with
``guichet demo seed``; a synchronous ``httpx.Client`` plays the browser and
follows every redirect by hand: the staff sign-in page, the commune's demo
staff directory (the demo provider), the gateway's callback, then the pages.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from click.testing import CliRunner
from sqlmodel import select
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.cli import main as cli
from gateway.demo.identity_provider import ISSUER_PATH
from gateway.demo.identity_provider.clients import staff_client_credentials
from gateway.demo.identity_provider.tokens import pairwise_subject
from gateway.demo.staff import demo_staff
from gateway.identity import staff as staff_accounts
from gateway.models import AuditEntry, StaffRole, StaffUser, UserSession
from gateway.settings import Settings
from gateway.testing import ConfigFolder, GuichetClient, free_socket, serve

CSRF = re.compile(r'name="csrftoken" value="([^"]+)"')
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
sqlite_only = pytest.mark.parametrize("guichet_database_url", ["sqlite"], indirect=True)


@dataclass
class Demo:
    url: str
    app: Starlette
    config: ConfigFolder

    @property
    def settings(self) -> Settings:
        settings: Settings = self.app.state.registry.settings
        return settings

    def seed(self) -> None:
        result = CliRunner().invoke(cli, ["--config", str(self.config.path), "demo", "seed"])
        assert result.exit_code == 0, result.output

    def staff(self, username: str) -> StaffUser:
        with self.app.state.db.session() as session:
            found = staff_accounts.find(session, username)
            assert found is not None
            return found

    def live_sessions(self) -> list[UserSession]:
        with self.app.state.db.session() as session:
            return [row for row in session.exec(select(UserSession)) if row.revoked_at is None]

    def logins(self) -> list[tuple[str, str]]:
        with self.app.state.db.session() as session:
            entries = session.exec(select(AuditEntry).where(AuditEntry.action == "auth.login"))
            return [(entry.outcome, entry.resource) for entry in entries]


@pytest.fixture
def demo(guichet_config: ConfigFolder, guichet_database_url: str) -> Iterator[Demo]:
    """The demo syndicate as ``make run`` serves it: demo provider on, served on loopback, seeded."""
    sock = free_socket()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    (guichet_config.path.parent / "secret").write_text(secrets.token_urlsafe(48), encoding="utf-8")
    guichet_config.set_gateway(gateway={"public_base_url": base_url}, database={"url": guichet_database_url})
    app = create_app(guichet_config.path)
    try:
        with serve(app, sock) as url:
            yield Demo(url, app, guichet_config)
    finally:
        app.state.db.dispose()


class Browser:
    """A browser that follows nothing by itself: every redirect is a step the test takes."""

    def __init__(self, demo: Demo) -> None:
        self.demo = demo
        self.http = httpx.Client(timeout=20, headers={"Accept-Language": "fr"})

    def get(self, target: str) -> httpx.Response:
        return self.http.get(urljoin(self.demo.url + "/", target))

    def post(self, target: str, data: dict[str, str]) -> httpx.Response:
        return self.http.post(urljoin(self.demo.url + "/", target), data=data)

    def follow(self, response: httpx.Response) -> httpx.Response:
        assert response.status_code in (302, 303), (response.status_code, response.text[:2000])
        return self.http.get(urljoin(str(response.url), response.headers["location"]))

    def directory(self, commune: str | None) -> httpx.Response:
        """On the staff sign-in page, press the commune's demo button (None: the syndicate's): the directory's page."""
        page = self.get("/agents/connexion")
        path = f"/agents/connexion/commune/{commune}" if commune else "/agents/connexion/syndicat"
        assert f'action="{path}"' in page.text, page.text
        token = CSRF.search(page.text)
        assert token
        started = self.post(path, {"csrftoken": token.group(1)})
        assert started.status_code == 303, started.text
        assert started.headers["location"].startswith(self.demo.url + ISSUER_PATH + "/authorize?")
        chooser = self.follow(started)
        assert chooser.status_code == 200, chooser.text
        return chooser

    def choose(self, chooser: httpx.Response, person: str) -> httpx.Response:
        fields = {name: html.unescape(value) for name, value in HIDDEN.findall(chooser.text)}
        return self.post(ISSUER_PATH + "/authorize", {**fields, "person": person})

    def sign_in(self, commune: str | None, person: str) -> httpx.Response:
        """The whole flow; the gateway's answer to the provider's redirect."""
        chosen = self.choose(self.directory(commune), person)
        assert chosen.status_code == 303, chosen.text
        assert chosen.headers["location"].startswith(self.demo.url + "/connexion/retour?")
        return self.follow(chosen)


@pytest.fixture
def browser(demo: Demo) -> Iterator[Browser]:
    client = Browser(demo)
    yield client
    client.http.close()


# The newcomer's way in ------------------------------------------------------------------------


def test_staff_sign_in_page_offers_each_communes_demo_directory(demo: Demo, browser: Browser) -> None:
    page = browser.get("/agents/connexion")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert 'href="#agents-fictifs"' in page.text and 'id="agents-fictifs"' in page.text
    for commune in demo.settings.communes:
        assert f'action="/agents/connexion/commune/{commune.slug}"' in page.text
        assert f"Agents fictifs de {commune.name}" in text


def test_staff_sign_in_page_offers_the_syndicates_demo_directory(demo: Demo, browser: Browser) -> None:
    page = browser.get("/agents/connexion")
    assert 'action="/agents/connexion/syndicat"' in page.text
    assert "Agents fictifs du syndicat (auditrice, administrateur)" in html.unescape(page.text)


def test_the_syndicates_demo_directory_lists_its_auditor_and_administrator_only(browser: Browser) -> None:
    chooser = browser.directory(None)
    text = html.unescape(chooser.text)
    assert "Choisissez un agent fictif du syndicat" in text
    people = re.findall(r'name="person" value="([^"]+)"', chooser.text)
    assert people == ["auditor@_syndicat", "administrator@_syndicat"]
    assert "Auditrice du syndicat : consulte le journal d'audit de toutes les communes" in text
    assert "Agathe" not in text and "Camille" not in text


def test_the_syndicates_auditor_signs_in_and_opens_the_audit_console(demo: Demo, browser: Browser) -> None:
    demo.seed()
    answer = browser.sign_in(None, "auditor@_syndicat")
    assert answer.status_code == 303 and answer.headers["location"] == "/agents"
    assert browser.get("/audit").status_code == 200
    (live,) = demo.live_sessions()
    assert (live.staff_id, live.provider) == (demo.staff("demo.auditrice.syndicat").id, "demo.syndicat")


def test_the_syndicates_administrator_signs_in_and_reaches_every_commune(demo: Demo, browser: Browser) -> None:
    demo.seed()
    browser.sign_in(None, "administrator@_syndicat")
    assert browser.get("/agents/corbas/demandes").status_code == 200
    assert browser.get("/agents/venissieux/demandes").status_code == 200
    (live,) = demo.live_sessions()
    assert live.staff_id == demo.staff("demo.administrateur.syndicat").id


def test_the_syndicates_directory_refuses_a_communes_staff(browser: Browser) -> None:
    chooser = browser.directory(None)
    for person in ("auditor@venissieux", "camille-exemple", "agent@_syndicat"):
        assert browser.choose(chooser, person).status_code == 400, person


def test_a_communes_demo_directory_lists_only_its_fictitious_staff(demo: Demo, browser: Browser) -> None:
    chooser = browser.directory("venissieux")
    text = html.unescape(chooser.text)
    assert "Choisissez un agent fictif de Vénissieux" in text
    values = re.findall(r'name="person" value="([^"]+)"', chooser.text)
    assert values == ["agent@venissieux", "supervisor@venissieux", "auditor@venissieux"]
    assert "Agathe EXEMPLE-AGENTE" in text and "Camille" not in text
    assert parse_qs(urlsplit(str(chooser.url)).query)["client_id"] == ["guichet-demo-agents-venissieux"]


def test_newcomer_signs_in_as_a_demo_agent_and_opens_the_communes_requests(demo: Demo, browser: Browser) -> None:
    demo.seed()
    answer = browser.sign_in("venissieux", "agent@venissieux")
    assert answer.status_code == 303 and answer.headers["location"] == "/agents"
    home = browser.get("/agents")
    assert home.status_code == 200 and "Agathe EXEMPLE-AGENTE (Vénissieux)" in home.text
    queue = browser.get("/agents/venissieux/demandes")
    assert queue.status_code == 200
    staff = demo.staff("demo.instructeur.venissieux")
    (live,) = demo.live_sessions()
    assert (live.kind, live.staff_id, live.mfa_pending, live.provider) == ("staff", staff.id, False, "demo.venissieux")
    assert staff.password_hash is None and staff.totp_secret is None
    assert ("success", "staff-oidc-login/venissieux") in demo.logins()


def test_the_demo_agent_does_not_reach_another_communes_requests(demo: Demo, browser: Browser) -> None:
    demo.seed()
    browser.sign_in("venissieux", "agent@venissieux")
    assert browser.get("/agents/corbas/demandes").status_code in (403, 404)


def test_demo_auditor_opens_the_audit_console(demo: Demo, browser: Browser) -> None:
    demo.seed()
    answer = browser.sign_in("venissieux", "auditor@venissieux")
    assert answer.status_code == 303
    console = browser.get("/audit")
    assert console.status_code == 200
    assert browser.get("/agents/venissieux/demandes").status_code == 403  # an auditor files nothing


def test_demo_supervisor_sees_the_communes_requests(demo: Demo, browser: Browser) -> None:
    demo.seed()
    browser.sign_in("venissieux", "supervisor@venissieux")
    assert browser.get("/agents/venissieux/demandes").status_code == 200
    (live,) = demo.live_sessions()
    assert live.staff_id == demo.staff("demo.responsable.venissieux").id


def test_signing_out_goes_through_the_demo_directory_and_back(demo: Demo, browser: Browser) -> None:
    demo.seed()
    browser.sign_in("corbas", "agent@corbas")
    home = browser.get("/agents")
    token = CSRF.search(home.text)
    assert token
    leaving = browser.post("/deconnexion", {"csrftoken": token.group(1)})
    assert leaving.headers["location"].startswith(demo.url + ISSUER_PATH + "/session/end?")
    done = browser.follow(browser.follow(leaving))
    assert done.status_code == 200 and "Annuaire de démonstration de Corbas" in html.unescape(done.text)
    assert browser.get("/agents").status_code == 303


# What the demo directory cannot do -------------------------------------------------------------


def test_before_the_seed_a_demo_person_signs_no_one_in(demo: Demo, browser: Browser) -> None:
    answer = browser.sign_in("venissieux", "agent@venissieux")
    assert answer.status_code == 403
    assert ("denied", "staff-oidc-login/venissieux/staff-unknown") in demo.logins()
    assert browser.get("/agents").status_code == 303


def test_a_directory_refuses_another_communes_agent_and_residents(demo: Demo, browser: Browser) -> None:
    chooser = browser.directory("corbas")
    for person in ("agent@venissieux", "camille-exemple", "agent@corbas-extra", "administrator@corbas",
                   "auditor@_syndicat"):  # fmt: skip
        refused = browser.choose(chooser, person)
        assert refused.status_code == 400, person
        assert "Choisissez l'une des personnes fictives proposées" in html.unescape(refused.text)


def test_a_real_account_of_the_same_name_is_never_linked_to_the_demo_directory(demo: Demo, browser: Browser) -> None:
    with demo.app.state.db.session() as session:
        staff_accounts.create(session, username="demo.instructeur.venissieux", display_name="Vraie Personne",
                              email="vraie@venissieux.example", password="a long enough real password",
                              grants=[staff_accounts.parse_grant("agent:venissieux")])  # fmt: skip
    demo.seed()
    real = demo.staff("demo.instructeur.venissieux")
    assert (real.oidc_issuer, real.oidc_sub, real.display_name) == (None, None, "Vraie Personne")
    answer = browser.sign_in("venissieux", "agent@venissieux")
    assert answer.status_code == 403
    assert ("denied", "staff-oidc-login/venissieux/staff-unknown") in demo.logins()


def test_no_account_is_linked_by_hand_to_a_demo_directory(demo: Demo) -> None:
    with demo.app.state.db.session() as session:
        staff_accounts.create(session, username="alice.corbas", display_name="Alice", email="alice@corbas.example",
                              password="a long enough real password",
                              grants=[staff_accounts.parse_grant("agent:corbas")])  # fmt: skip
    client_id, _secret = staff_client_credentials(demo.settings, "corbas")
    sub = pairwise_subject(demo.settings.secret_key, client_id, "agent@corbas")
    result = CliRunner().invoke(
        cli,
        ["--config", str(demo.config.path), "users", "link-oidc", "alice.corbas", "--commune", "corbas", "--sub", sub],
    )
    assert result.exit_code == 1 and "has no [identity.staff_provider]" in result.output
    assert demo.staff("alice.corbas").oidc_sub is None


# The seed -------------------------------------------------------------------------------------


@dataclass
class Deployment:
    config: ConfigFolder
    app: Starlette

    def accounts(self) -> dict[str, Any]:
        with self.app.state.db.session() as session:
            return {row.username: (row.oidc_issuer, row.oidc_sub) for row in session.exec(select(StaffUser))}


@pytest.fixture
def deployment(guichet_config: ConfigFolder, guichet_database_url: str) -> Iterator[Deployment]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    app = create_app(guichet_config.path)
    yield Deployment(guichet_config, app)
    app.state.db.dispose()


def test_seed_creates_an_agent_a_supervisor_and_an_auditor_per_commune_and_the_syndicates_two_once(
    deployment: Deployment,
) -> None:
    db, registry = deployment.app.state.db, deployment.app.state.registry
    assert demo_staff(db, registry) == 3 * len(registry.communes) + 2
    assert demo_staff(db, registry) == 0
    accounts = deployment.accounts()
    assert len(accounts) == 3 * len(registry.communes) + 2
    assert all(issuer == registry.settings.gateway.public_base_url + ISSUER_PATH for issuer, _sub in accounts.values())
    with db.session() as session:
        grants = {(role.role, role.commune, role.service, role.level) for role in session.exec(select(StaffRole))}
    assert ("agent", "venissieux", None, "instructor") in grants
    assert ("supervisor", "venissieux", None, None) in grants and ("auditor", "venissieux", None, None) in grants
    syndicate_wide = {grant for grant in grants if grant[1] is None}
    assert syndicate_wide == {("auditor", None, None, None), ("administrator", None, None, None)}


def test_seed_links_again_when_the_demo_is_served_at_another_address(deployment: Deployment) -> None:
    db, registry = deployment.app.state.db, deployment.app.state.registry
    demo_staff(db, registry)
    deployment.config.set_gateway(gateway={"public_base_url": "http://127.0.0.1:8765"})
    moved = create_app(deployment.config.path)
    try:
        assert demo_staff(moved.state.db, moved.state.registry) == 3 * len(registry.communes) + 2
    finally:
        moved.state.db.dispose()
    assert {issuer for issuer, _sub in deployment.accounts().values()} == {"http://127.0.0.1:8765" + ISSUER_PATH}


def test_seed_creates_no_staff_when_the_demo_provider_is_off(deployment: Deployment) -> None:
    deployment.config.set_gateway(demo_identity={"enabled": False})
    app = create_app(deployment.config.path)
    try:
        assert demo_staff(app.state.db, app.state.registry) == 0
    finally:
        app.state.db.dispose()
    assert deployment.accounts() == {}


def test_a_commune_with_its_own_staff_provider_gets_no_demo_directory(
    guichet_config: ConfigFolder, guichet_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUICHET_TEST_CORBAS_IDP_SECRET", "a secret of the tests")
    guichet_config.set_gateway(database={"url": guichet_database_url})
    guichet_config.set_commune("corbas", identity={"staff_provider": {
        "key": "corbas-agents", "display_name": "Annuaire de Corbas", "issuer": "https://idp.corbas.example",
        "client_id": "guichet", "client_secret_env": "GUICHET_TEST_CORBAS_IDP_SECRET"}})  # fmt: skip
    app = create_app(guichet_config.path)
    try:
        demo_staff(app.state.db, app.state.registry)
        with app.state.db.session() as session:
            names = set(session.exec(select(StaffUser.username)))
    finally:
        app.state.db.dispose()
    assert "demo.instructeur.venissieux" in names
    assert not any(name.endswith(".corbas") for name in names)


@sqlite_only
async def test_without_the_demo_provider_the_page_offers_no_demo_directory(
    guichet_config: ConfigFolder, guichet_database_url: str
) -> None:
    guichet_config.set_gateway(demo_identity={"enabled": False}, database={"url": guichet_database_url})
    app = create_app(guichet_config.path)
    try:
        async with GuichetClient(app) as client:
            page = await client.get("/agents/connexion")
            assert page.status_code == 200 and "agents-fictifs" not in page.text
            assert "/agents/connexion/commune/" not in page.text
            token = CSRF.search(page.text)
            assert token
            answer = await client.post("/agents/connexion/commune/venissieux", data={"csrftoken": token.group(1)})
            assert answer.status_code == 404
    finally:
        app.state.db.dispose()
