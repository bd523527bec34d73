"""The citizen pages driven by a real Chromium against a real server.

The HTTP tests (test_pages.py) check what the gateway sends; these check what
a person gets: links that lead somewhere, a form that files a request, error
links that point at fields, a language switch that keeps you where you are,
pages that work without JavaScript, nothing fetched from another site, and a
skip link reached first with the keyboard; and, signed in, a citizen's draft
filed and an agent's decision recorded; axe-core (shipped inside the
axe-playwright-python package) finds no accessibility violation on the forms
with their grouped fields, before and after an error. They need Chromium at
/usr/bin/chromium (Debian's ``chromium`` package) and skip when it is missing.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.audit.events import ANONYMOUS
from gateway.identity import staff as staff_accounts
from gateway.identity import totp
from gateway.identity.sessions import COOKIE as SESSION_COOKIE
from gateway.identity.sessions import cookie_value, open_session
from gateway.models import Citizen, ServiceRequest
from gateway.requests.caller import Caller
from gateway.requests.filing import Submission, file_request
from gateway.requests.rules import rules_for
from gateway.requests.store import RequestStore
from gateway.requests.submission_keys import new_submission_key
from gateway.testing import STAFF_PASSWORD, ConfigFolder, migrate, served, skip_or_fail

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

    def stored(self, reference: str, commune: str = "venissieux") -> ServiceRequest:
        with self.app.state.db.session(commune=commune) as session:
            row = RequestStore(session).get(reference)
            assert row is not None
            return row


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The demo deployment on a temporary SQLite file, served by uvicorn on a free local port."""
    root = tmp_path_factory.mktemp("browser")
    config = ConfigFolder.demo(root)
    url = f"sqlite:///{root / 'guichet.db'}"
    config.set_gateway(database={"url": url})
    migrate(url)
    app = create_app(config.path)
    try:
        with served(app) as base_url:
            yield Gateway(base_url, app)
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


def fill_contact_form(page: Page, *, name: str, email: str, message: str, postcode: str = "69200") -> None:
    page.get_by_label("Vos prénom et nom", exact=True).fill(name)
    page.get_by_label("Votre adresse électronique", exact=True).fill(email)
    page.get_by_role("group", name="Sujet").get_by_label("Voirie, éclairage, stationnement").check()
    place = page.get_by_role("group", name=re.compile("^Adresse concernée"))
    place.get_by_label("Numéro (et bis, ter…)").fill("12 bis")
    place.get_by_label("Voie (type et nom, par exemple rue des Lilas)").fill("rue des Lilas")
    place.get_by_label("Code postal").fill(postcode)
    place.get_by_label("Ville ou commune").fill("Vénissieux")
    page.get_by_label("Votre message", exact=True).fill(message)
    page.get_by_role("button", name="Envoyer ma demande").click()


def accessibility_violations(page: Page, *, best_practice: bool = False) -> list[str]:
    """What axe-core finds wrong on the page (WCAG 2.x A and AA rules), one line per rule and element.

    ``best_practice`` adds axe's best-practice rules: headings in order, one main landmark, all content in
    landmarks, a level-one heading, and the like.
    """
    tags = ["wcag2a", "wcag2aa", "wcag21aa", *(["best-practice"] if best_practice else [])]
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": tags}})
    return [
        f"{violation['id']}: {node['target']}"
        for violation in results.response["violations"]
        for node in violation["nodes"]
    ]


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


def test_an_address_typed_in_its_parts_is_stored_as_an_object(page: Page, gateway: Gateway) -> None:
    row = gateway.stored(file_a_message(page))
    assert row.data["topic"] == "voirie"
    assert row.data["place"] == {"number": 12, "suffix": "bis", "street": "rue des Lilas", "complement": "",
                                 "postcode": "69200", "town": "Vénissieux"}  # fmt: skip


def test_axe_finds_nothing_on_the_form_with_radio_buttons_and_an_address(page: Page) -> None:
    open_contact_form(page)
    assert accessibility_violations(page) == []


def test_axe_finds_nothing_on_the_form_showing_an_error_in_an_address(page: Page) -> None:
    open_contact_form(page)
    fill_contact_form(page, name="Camille Exemple", email="camille@example.org", message=MESSAGE, postcode="692")
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("link")).to_have_text(
        ["Adresse concernée : Code postal : Saisissez un code postal de 5 chiffres, par exemple 69200."]
    )
    summary.get_by_role("link").click()
    expect(page.get_by_label("Numéro (et bis, ter…)")).to_be_focused()
    expect(page.get_by_role("group", name=re.compile("^Adresse concernée"))).to_have_accessible_description(
        re.compile("Code postal : Saisissez un code postal de 5 chiffres")
    )
    assert accessibility_violations(page) == []


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


# Signed-in flows: a citizen's draft filed, then an agent's decision on a request ------------------------------

CIVIL_REFERENCE = re.compile(r"EC-\d{4}-\d{6}")
CIVIL_STATUS = {
    "kind": "birth",
    "place": "here",
    "form": "extract-without-filiation",
    "person_surname": "Exemple",
    "person_given_names": "Camille",
    "event_date": "1990-05-17",
    "quality": "self",
    "requester_family_name": "Exemple",
    "requester_given_names": "Camille",
    "copies": "1",
    "delivery": "counter",
}


def sign_citizen_in(page: Page, gateway: Gateway) -> None:
    """A federated citizen with a live session, its cookie handed to the browser (like testing.sign_in_citizen)."""
    app = gateway.app
    with app.state.db.session() as session:
        citizen = Citizen(public_id=secrets.token_hex(16), issuer="https://idp.test", sub=secrets.token_hex(8),
                          given_name="Camille", family_name="Exemple", created_at=datetime.now(UTC))  # fmt: skip
        session.add(citizen)
        session.flush()
        assert citizen.id is not None
        session_id = open_session(session, "citizen", citizen.id)
    value = cookie_value(app.state.registry.settings.secret_key, session_id)
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": value, "url": gateway.base_url}])


def record_requests(page: Page) -> list[str]:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    return requested


def assert_same_origin(requested: list[str], gateway: Gateway) -> None:
    assert any(url.endswith("/static/guichet.css") for url in requested), requested
    foreign = [url for url in requested if not url.startswith(gateway.base_url + "/")]
    assert foreign == []


def expect_landmarks(page: Page, heading: str | re.Pattern[str]) -> None:
    expect(page.get_by_role("banner")).to_have_count(1)
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("contentinfo")).to_have_count(1)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)


def test_signed_in_citizen_fills_saves_and_files_a_civil_status_draft_then_finds_it_in_their_list(
    page_without_javascript: Page, gateway: Gateway
) -> None:
    page = page_without_javascript
    requested = record_requests(page)
    sign_citizen_in(page, gateway)

    page.goto("/venissieux/etat-civil")
    expect_landmarks(page, "Demande d'acte d'état civil")
    page.get_by_role("button", name="Commencer").click()
    expect(page).to_have_url(re.compile(r"/mes-demandes/[\w-]+$"))
    expect_landmarks(page, "Demande d'acte d'état civil")
    expect(page.get_by_role("heading", level=2, name="Votre demande")).to_be_visible()

    page.get_by_label("Lieu de l'événement", exact=True).select_option(label="À Vénissieux")
    page.get_by_label("Document demandé", exact=True).select_option(label="Extrait sans filiation")
    # The date picker's segment order follows the browser's own locale: fill takes the ISO date whatever it is.
    page.get_by_label("Date de l'événement (naissance, mariage ou décès)", exact=True).fill("1990-05-17")
    page.get_by_label("Adresse électronique du demandeur (facultatif)", exact=True).click()
    page.keyboard.type("camille@example.org")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.get_by_label("Lieu de l'événement", exact=True)).to_have_value("here")
    expect(page.get_by_label("Date de l'événement (naissance, mariage ou décès)", exact=True)).to_have_value(
        "1990-05-17"
    )
    expect(page.get_by_label("Adresse électronique du demandeur (facultatif)", exact=True)).to_have_value(
        "camille@example.org"
    )

    page.get_by_label("Nombre d'exemplaires", exact=True).select_option(label="1")
    page.get_by_label("Mode de remise", exact=True).focus()
    page.get_by_label("Mode de remise", exact=True).select_option(label="À retirer à l'accueil de la mairie")
    page.get_by_role("button", name="Déposer ma demande").click()

    expect_landmarks(page, "Votre demande a bien été déposée")
    reference = page.locator(".reference")
    expect(reference).to_have_text(CIVIL_REFERENCE)
    number = reference.inner_text()

    page.goto("/mes-demandes")
    expect_landmarks(page, "Mes demandes")
    row = page.get_by_role("row").filter(has_text=number)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Demande d'acte d'état civil")
    assert_same_origin(requested, gateway)


def file_civil_status_request(gateway: Gateway) -> str:
    """A civil-status request filed through the service layer, as a signed-in resident would; its reference."""
    registry = gateway.app.state.registry
    rules = rules_for(registry, registry.commune("venissieux"), "etat-civil")
    caller = Caller(ANONYMOUS, "browser test")
    filed = file_request(gateway.app.state.db, registry, rules, caller, Submission(CIVIL_STATUS, new_submission_key()))
    assert filed.request is not None and filed.request.reference is not None, filed.errors
    return filed.request.reference


def sign_agent_in(page: Page, gateway: Gateway, *grants: str) -> None:
    """Password, then the enrolment seed shown on the page turned into a TOTP code (like testing.sign_in_staff)."""
    username = f"agent.{secrets.token_hex(4)}"
    with gateway.app.state.db.session() as session:
        staff_accounts.create(session, username=username, display_name="Dominique Agent",
                              email=f"{username}@guichet.example", password=STAFF_PASSWORD,
                              grants=[staff_accounts.parse_grant(grant) for grant in grants])  # fmt: skip
    page.goto("/agents/connexion")
    expect_landmarks(page, "Connexion des agents")
    page.get_by_label("Identifiant", exact=True).fill(username)
    page.get_by_label("Mot de passe", exact=True).fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Continuer").click()
    expect_landmarks(page, "Code de vérification")
    seed = page.locator("code.secret").filter(has_text=re.compile(r"^[A-Z2-7]+$")).inner_text()
    page.get_by_label("Code à 6 chiffres", exact=True).fill(totp.code_at(seed, time.time()))
    page.get_by_role("button", name="Valider").click()
    expect(page).not_to_have_url(re.compile(r"/agents/connexion"))


def test_agent_signed_in_with_both_factors_takes_a_request_in_hand_and_sees_its_new_status_and_history(
    page_without_javascript: Page, gateway: Gateway
) -> None:
    page = page_without_javascript
    reference = file_civil_status_request(gateway)
    requested = record_requests(page)
    sign_agent_in(page, gateway, "agent:venissieux:etat-civil:instructor")

    page.goto("/agents/venissieux/demandes")
    expect_landmarks(page, "Demandes de Vénissieux")
    page.get_by_role("link", name=reference, exact=True).click()
    expect_landmarks(page, f"Demande {reference}")
    facts = page.locator("dl.case-facts")
    expect(facts).to_contain_text("Déposée")

    action = page.get_by_role("group", name="Prendre en charge")
    action.get_by_label("Commentaire, lu par l'usager (facultatif)", exact=True).click()
    page.keyboard.type("Recherche de l'acte dans les registres de 1990.")
    action.get_by_role("button", name="Prendre en charge").click()

    expect_landmarks(page, f"Demande {reference}")
    expect(facts).to_contain_text("En cours de traitement")
    # taking it in hand assigned it to the agent: that line comes last, after the change of state
    expect(page.locator("ol.history > li").last).to_contain_text("Attribuée à")
    change = page.locator("ol.history > li", has_text="Changement d'état").last
    expect(change).to_contain_text("Déposée → En cours de traitement")
    expect(change).to_contain_text("Recherche de l'acte dans les registres de 1990.")
    assert_same_origin(requested, gateway)
