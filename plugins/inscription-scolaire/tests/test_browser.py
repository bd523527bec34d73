"""A school registration filed in a real Chromium by a family and accepted by an agent, against a real server.

The demo deployment (Vénissieux) served by uvicorn on a free local port; the
family and the agent are signed in through the test kit and their session
cookies handed to the browser. The family fills the form (the page shows a
question only when its condition holds), saves the draft, attaches the three
documents, files it; axe-core finds no accessibility violation on the draft
page nor on the agent's file; the agent accepts the
registration from its file and the family's page offers the certificate.
Needs Chromium at /usr/bin/chromium; skipped with the reason when missing.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from guichet_inscription_scolaire.levels import open_school_years, school_year_label
from playwright.sync_api import Browser, Page, expect, sync_playwright
from starlette.applications import Starlette

from gateway.testing import (
    ConfigFolder,
    GuichetClient,
    build_app,
    migrate,
    served,
    sign_in_agent,
    sign_in_citizen,
    skip_or_fail,
)

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip
TIMEOUT_MS = 15_000
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
YEAR = open_school_years(date.today())[1]
REFERENCE = re.compile(r"INS-\d{4}-\d{6}")


@dataclass
class Server:
    base_url: str
    app: Starlette


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("browser-school")
    config = ConfigFolder.demo(root)
    url = f"sqlite:///{root / 'guichet.db'}"
    config.set_gateway(database={"url": url})
    migrate(url)
    app = build_app(config)
    try:
        with served(app) as base_url:
            yield Server(base_url, app)
    finally:
        app.state.db.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        skip_or_fail(f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def new_page(browser: Browser, server: Server, cookies: dict[str, str]) -> Page:
    context = browser.new_context(base_url=server.base_url, locale="fr-FR", java_script_enabled=True)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_cookies([{"name": name, "value": value, "url": server.base_url} for name, value in cookies.items()])
    return context.new_page()


def citizen_cookies(app: Starlette) -> dict[str, str]:
    client = GuichetClient(app)
    sign_in_citizen(client, given_name="Camille", family_name="Exemple-Démo", email="camille@example.org")
    return dict(client.cookies.items())


def agent_cookies(app: Starlette) -> dict[str, str]:
    async def signed_in() -> dict[str, str]:
        async with GuichetClient(app) as client:
            await sign_in_agent(client, "venissieux", "inscription-scolaire", username="navigateur.venissieux")
            return dict(client.cookies.items())

    # the browser's driver runs an event loop in this thread: the sign-in gets a thread of its own
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, signed_in()).result()


def accessibility_violations(page: Page) -> list[str]:
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa"]}})
    return [f"{v['id']}: {node['target']}" for v in results.response["violations"] for node in v["nodes"]]


def file_registration(page: Page) -> str:
    page.goto("/venissieux/inscription-scolaire")
    page.get_by_role("button", name="Commencer").click()
    expect(page).to_have_url(re.compile(r"/mes-demandes/[\w-]+$"))
    page.get_by_label("Prénoms de l'enfant", exact=True).fill("Léa Marie")
    page.get_by_label("Nom de l'enfant", exact=True).fill("Exemple-Démo")
    page.get_by_label("Date de naissance de l'enfant", exact=True).fill(f"{YEAR - 6}-05-17")
    page.get_by_role("group", name="Année scolaire").get_by_label(school_year_label(YEAR), exact=True).check()
    page.get_by_role("group", name=re.compile("^Vous êtes")).get_by_label(re.compile("^Parent de l'enfant")).check()
    place = page.get_by_role("group", name=re.compile("^Adresse de la famille"))
    place.get_by_label("Numéro (et bis, ter…)").fill("12")
    place.get_by_label("Voie (type et nom, par exemple rue des Lilas)").fill("rue des Tilleuls-Imaginaires")
    place.get_by_label("Code postal").fill("69200")
    place.get_by_label("Ville ou commune").fill("Vénissieux")
    page.get_by_role("group", name=re.compile("^L'enfant quitte-t-il")).get_by_label("Non", exact=True).check()
    page.get_by_role("group", name=re.compile("^Demandez-vous une dérogation")).get_by_label(
        re.compile("^Non, l'école de secteur")
    ).check()
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    assert accessibility_violations(page) == []
    for document in ("identity_filiation", "proof_of_address", "vaccinations"):
        section = page.locator(f"#document-{document}")
        section.locator("input[type=file]").set_input_files(
            files=[{"name": f"{document}.pdf", "mimeType": "application/pdf", "buffer": PDF}]
        )
        section.get_by_role("button", name="Ajouter ce document").click()
        expect(page.locator(f"#document-{document}")).to_contain_text(f"{document}.pdf")
    page.locator("#depot + p + form").get_by_role("button", name="Déposer ma demande").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre demande a bien été déposée")
    reference = page.locator(".reference")
    expect(reference).to_have_text(REFERENCE)
    return reference.inner_text()


def test_a_family_files_a_registration_and_an_agent_accepts_it(browser: Browser, server: Server) -> None:
    family = new_page(browser, server, citizen_cookies(server.app))
    reference = file_registration(family)

    agent = new_page(browser, server, agent_cookies(server.app))
    agent.goto(f"/agents/venissieux/demandes/{reference}")
    facts = agent.locator("dl.case-facts")
    expect(facts).to_contain_text("Déposée")
    expect(agent.locator("main")).to_contain_text("elementaire-des-tilleuls")
    agent.get_by_role("group", name="Accepter l'inscription").get_by_role(
        "button", name="Accepter l'inscription"
    ).click()
    expect(facts).to_contain_text("Inscription acceptée")
    assert accessibility_violations(agent) == []

    family.goto("/mes-demandes")
    family.get_by_role("row").filter(has_text=reference).get_by_role("link").first.click()
    expect(family.locator("main")).to_contain_text("Inscription acceptée")
    expect(family.locator("main")).to_contain_text("Certificat d'inscription scolaire")
