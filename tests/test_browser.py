"""The citizen pages driven by a real Chromium against a real server.

The HTTP tests (test_pages.py) check what the gateway sends; these check what
a person gets: links that lead somewhere, a form that files a request, error
links that point at fields, a language switch that keeps you where you are,
pages that work without JavaScript, nothing fetched from another site, and a
skip link reached first with the keyboard. They need Chromium at
/usr/bin/chromium (Debian's ``chromium`` package) and skip when it is missing.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.requests.store import RequestStore
from gateway.testing import ConfigFolder, migrate, skip_or_fail

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000
REFERENCE = re.compile(r"MSG-\d{4}-\d{6}")
MESSAGE = "Le lampadaire devant le 12 rue Gambetta est éteint depuis lundi."


@dataclass
class Gateway:
    base_url: str
    app: Starlette

    def stored_count(self, commune: str = "venissieux") -> int:
        with self.app.state.db.session(commune=commune) as session:
            return len(RequestStore(session).list())


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The demo deployment on a temporary SQLite file, served by uvicorn on a free local port."""
    root = tmp_path_factory.mktemp("browser")
    config = ConfigFolder(root)
    url = f"sqlite:///{root / 'guichet.db'}"
    config.set_gateway(database={"url": url})
    migrate(url)
    app = create_app(config.path)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(base_url, thread)
        yield Gateway(base_url, app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        app.state.db.dispose()


def _wait_until_answering(base_url: str, thread: threading.Thread, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("the test server stopped while starting")
        try:
            if httpx.get(base_url + "/", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the test server did not answer on {base_url} within {timeout} s")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        skip_or_fail(f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def _new_page(browser: Browser, gateway: Gateway, *, javascript: bool = True) -> Iterator[Page]:
    # A French visitor: Chromium would otherwise announce the machine's locale.
    context = browser.new_context(base_url=gateway.base_url, locale="fr-FR", java_script_enabled=javascript)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser, gateway: Gateway) -> Iterator[Page]:
    yield from _new_page(browser, gateway)


@pytest.fixture
def page_without_javascript(browser: Browser, gateway: Gateway) -> Iterator[Page]:
    yield from _new_page(browser, gateway, javascript=False)


def open_contact_form(page: Page) -> None:
    """From the home page to « Écrire à la mairie » of Vénissieux, by the links."""
    page.goto("/")
    page.get_by_role("link", name="Vénissieux", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mairie de Vénissieux")
    page.get_by_role("link", name="Écrire à la mairie").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Écrire à la mairie")


def fill_contact_form(page: Page, *, name: str, email: str, message: str) -> None:
    page.get_by_label("Vos prénom et nom", exact=True).fill(name)
    page.get_by_label("Votre adresse électronique", exact=True).fill(email)
    page.get_by_label("Sujet", exact=True).select_option(label="Voirie, éclairage, stationnement")
    page.get_by_label("Votre message", exact=True).fill(message)
    page.get_by_role("button", name="Envoyer ma demande").click()


def file_a_message(page: Page) -> str:
    """The whole citizen flow; returns the reference number the receipt shows."""
    open_contact_form(page)
    fill_contact_form(page, name="Camille Exemple", email="camille@example.org", message=MESSAGE)
    expect(page).to_have_url(re.compile(r"/venissieux/contact/recu\?t="))
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre demande a bien été envoyée")
    reference = page.locator(".reference")
    expect(reference).to_have_text(REFERENCE)
    return reference.inner_text()


def test_citizen_files_a_message_from_the_home_page_and_gets_a_reference(page: Page) -> None:
    assert REFERENCE.fullmatch(file_a_message(page))


def test_form_errors_are_listed_with_links_to_the_fields_and_nothing_is_stored(page: Page, gateway: Gateway) -> None:
    before = gateway.stored_count()
    open_contact_form(page)
    fill_contact_form(page, name="", email="pas-une-adresse", message=MESSAGE)

    summary = page.get_by_role("alert")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading")).to_have_text("Le formulaire contient 2 erreurs")
    links = summary.get_by_role("link")
    expect(links).to_have_count(2)
    targets = [links.nth(index).get_attribute("href") for index in range(2)]
    assert targets == ["#champ-name", "#champ-email"]
    expect(page.get_by_label("Vos prénom et nom", exact=True)).to_have_attribute("id", "champ-name")
    expect(page.get_by_label("Votre adresse électronique", exact=True)).to_have_attribute("id", "champ-email")
    expect(page.get_by_label("Votre message", exact=True)).to_have_value(MESSAGE)
    assert gateway.stored_count() == before


def test_language_switch_translates_the_page_and_keeps_the_visitor_on_it(page: Page) -> None:
    page.goto("/venissieux")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "fr")

    page.get_by_role("button", name="English").click()
    expect(html).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vénissieux town hall")
    expect(page).to_have_url(re.compile(r"/venissieux$"))

    page.get_by_role("button", name="Français").click()
    expect(html).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mairie de Vénissieux")
    expect(page).to_have_url(re.compile(r"/venissieux$"))


def test_filing_works_with_javascript_disabled(page_without_javascript: Page) -> None:
    assert REFERENCE.fullmatch(file_a_message(page_without_javascript))


def test_no_request_leaves_the_gateways_origin(page: Page, gateway: Gateway) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    file_a_message(page)
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    assert any(url.endswith("/static/guichet.css") for url in requested), requested
    foreign = [url for url in requested if not url.startswith(gateway.base_url + "/")]
    assert foreign == []


def test_first_tab_focuses_the_skip_link(page: Page) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Aller au contenu")).to_be_focused()
