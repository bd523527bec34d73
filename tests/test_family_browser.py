"""The family form (plugin API 1.2) in a real Chromium: blocks added and removed (JavaScript off), errors, axe-core.

Uses the browser fixtures of :mod:`tests.test_browser` (a real server, Chromium at /usr/bin/chromium,
skipped when it is missing) on a deployment of its own offering :mod:`tests.plugins.family_service`.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from gateway.app import create_app
from gateway.identity.sessions import COOKIE as SESSION_COOKIE
from gateway.identity.sessions import cookie_value, open_session
from gateway.models import Citizen, ServiceRequest
from gateway.testing import ConfigFolder, migrate, served
from tests.plugins import family_service
from tests.test_browser import (
    Gateway,
    _new_page,
    accessibility_violations,
    browser,  # noqa: F401  (the module's Chromium, a fixture)
)

pytestmark = pytest.mark.browser

KEY = family_service.KEY


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The demo deployment with the family service in Corbas, on SQLite, served by uvicorn on a free port."""
    root = tmp_path_factory.mktemp("family-browser")
    config = ConfigFolder.demo(root)
    url = f"sqlite:///{root / 'guichet.db'}"
    config.set_gateway(database={"url": url})
    services = config.read("communes/corbas.toml").get("services", {})
    config.set_commune("corbas", services={**services, KEY: {}})
    migrate(url)
    app = create_app(config.path, extra_plugins=[("family_service", family_service)])
    try:
        with served(app) as base_url:
            yield Gateway(base_url, app)
    finally:
        app.state.db.dispose()


@pytest.fixture
def page(browser: Browser, gateway: Gateway) -> Iterator[Page]:  # noqa: F811
    yield from _signed_in(browser, gateway, javascript=True)  # axe-core runs as a script in the page


@pytest.fixture
def page_without_javascript(browser: Browser, gateway: Gateway) -> Iterator[Page]:  # noqa: F811
    yield from _signed_in(browser, gateway, javascript=False)


def _signed_in(browser: Browser, gateway: Gateway, *, javascript: bool) -> Iterator[Page]:  # noqa: F811
    """A page of a signed-in resident (a live session's cookie handed to the browser)."""
    for opened in _new_page(browser, gateway, javascript=javascript):
        app = gateway.app
        with app.state.db.session() as session:
            citizen = Citizen(public_id=secrets.token_hex(16), issuer="https://idp.test", sub=secrets.token_hex(8),
                              given_name="Camille", created_at=datetime.now(UTC))  # fmt: skip
            session.add(citizen)
            session.flush()
            assert citizen.id is not None
            session_id = open_session(session, "citizen", citizen.id)
        value = cookie_value(app.state.registry.settings.secret_key, session_id)
        opened.context.add_cookies([{"name": SESSION_COOKIE, "value": value, "url": gateway.base_url}])
        yield opened


def family_rows(gateway: Gateway) -> list[ServiceRequest]:
    with gateway.app.state.db.session(commune="corbas") as session:
        return list(session.exec(select(ServiceRequest).where(ServiceRequest.service == KEY)).all())


def test_two_children_are_added_filled_and_filed_and_axe_finds_nothing(page: Page, gateway: Gateway) -> None:
    page.goto(f"/corbas/{KEY}")
    assert accessibility_violations(page) == []
    page.get_by_label("Votre adresse électronique").fill("parent@example.org")
    first = page.get_by_role("group", name="Enfant 1")
    first.get_by_label("Prénom de l'enfant").fill("Alice")
    first.get_by_label("Date de naissance").fill("2021-03-04")
    page.get_by_role("button", name="Ajouter un enfant").click()

    second = page.get_by_role("group", name="Enfant 2")
    expect(second).to_be_visible()
    expect(first.get_by_label("Prénom de l'enfant")).to_have_value("Alice")
    second.get_by_label("Prénom de l'enfant").fill("Basile")
    page.get_by_label("Année scolaire").select_option("2027")
    page.get_by_role("button", name="Envoyer ma demande").click()  # Basile's birth date is missing

    summary = page.get_by_role("alert")
    expect(summary.get_by_role("link")).to_have_text(["Enfant 2 – Date de naissance : Ce champ est obligatoire."])
    summary.get_by_role("link").click()
    expect(page.get_by_role("group", name="Enfant 2").get_by_label("Date de naissance")).to_be_focused()
    assert accessibility_violations(page) == []
    assert family_rows(gateway) == []

    page.get_by_role("group", name="Enfant 2").get_by_label("Date de naissance").fill("2023-11-30")
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre demande a bien été envoyée")
    expect(page.locator(".reference")).to_have_count(2)
    assert len(family_rows(gateway)) == 2


def test_blocks_are_added_and_removed_without_javascript(page_without_javascript: Page) -> None:
    page = page_without_javascript
    page.goto(f"/corbas/{KEY}")
    page.get_by_role("group", name="Enfant 1").get_by_label("Prénom de l'enfant").fill("Alice")
    page.get_by_role("button", name="Ajouter un enfant").click()
    page.get_by_role("group", name="Enfant 2").get_by_label("Prénom de l'enfant").fill("Basile")
    page.get_by_role("button", name="Retirer : Enfant 1").click()
    expect(page.get_by_role("group", name="Enfant 2")).to_have_count(0)
    expect(page.get_by_role("group", name="Enfant 1").get_by_label("Prénom de l'enfant")).to_have_value("Basile")
    assert re.search(r"/corbas/famille-essai$", page.url)
