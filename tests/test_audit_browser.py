"""The auditor's and the administrator's pages in a real Chromium: walked as they would, checked by axe-core.

The demo deployment seeded as ``make run`` seeds it (past weeks of activity
with planted anomalies), served by uvicorn on a free local port. The syndicate's
auditor and administrator sign in as a visitor of the demo does: « Agents fictifs
du syndicat » on the agents' sign-in page, then a person on the demo identity
provider's page. Every page is checked by axe-core in French and in English;
marking a finding reviewed and creating an agent are done with JavaScript off;
nothing is fetched from another host. Borrows the browser and helpers of
:mod:`tests.test_browser` (Chromium at /usr/bin/chromium, skipped when missing).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from playwright.sync_api import Browser, Page, expect

from gateway.app import create_app
from gateway.audit.events import ANONYMOUS
from gateway.cli import main
from gateway.requests.caller import Caller
from gateway.requests.filing import Submission, file_request
from gateway.requests.rules import rules_for
from gateway.requests.submission_keys import new_submission_key
from gateway.testing import ConfigFolder, free_socket, migrate, serve
from tests.test_browser import (  # noqa: F401 (browser is a fixture this module uses)
    TIMEOUT_MS,
    Gateway,
    accessibility_violations,
    assert_same_origin,
    browser,
    expect_landmarks,
    record_requests,
)

pytestmark = pytest.mark.browser

LANGUAGES = ["fr-FR", "en-GB"]
EMAIL = "dominique.audit@example.org"
AUDITOR = "Ysé"
ADMINISTRATOR = "Adam"
NOTE = "Vu avec la responsable du service : remplacement d'un collègue."


class Demo(Gateway):
    #: the reference of a message to Corbas filed without an account with :data:`EMAIL`
    reference: str = ""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The seeded demo, one request filed with :data:`EMAIL`, served on a free port."""
    root: Path = tmp_path_factory.mktemp("audit-browser")
    config = ConfigFolder.demo(root)
    url = f"sqlite:///{root / 'guichet.db'}"
    # the demo identity provider is the gateway itself, found at its public address
    sock = free_socket()
    config.set_gateway(gateway={"public_base_url": f"http://127.0.0.1:{sock.getsockname()[1]}"}, database={"url": url})
    migrate(url)
    for args in (["demo", "seed"], ["demo", "seed", "--requests", "30", "--seed", "1"]):
        result = CliRunner().invoke(main, ["--config", str(config.path), *args])
        assert result.exit_code == 0, result.output
    app = create_app(config.path)
    registry = app.state.registry
    rules = rules_for(registry, registry.commune("corbas"), "contact")
    answers = {"name": "Dominique Audit", "email": EMAIL, "topic": "autre", "message": "Le banc du parc est cassé."}
    filed = file_request(app.state.db, registry, rules, Caller(ANONYMOUS, "browser test"),
                         Submission(answers, new_submission_key()))  # fmt: skip
    assert filed.request is not None and filed.request.reference is not None, filed.errors
    try:
        with serve(app, sock) as base_url:
            demo = Demo(base_url, app)
            demo.reference = filed.request.reference
            yield demo
    finally:
        app.state.db.dispose()


def _page(browser: Browser, gateway: Gateway, locale: str, *, javascript: bool = True) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(base_url=gateway.base_url, locale=locale, java_script_enabled=javascript)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(params=LANGUAGES)
def page(request: pytest.FixtureRequest, browser: Browser, gateway: Demo) -> Iterator[Page]:  # noqa: F811
    """A visitor in French, then in English (axe-core runs as a script in the page: JavaScript on)."""
    yield from _page(browser, gateway, request.param)


@pytest.fixture
def page_without_javascript(browser: Browser, gateway: Demo) -> Iterator[Page]:  # noqa: F811
    yield from _page(browser, gateway, "fr-FR", javascript=False)


def sign_in_for_the_syndicate(page: Page, first_name: str) -> None:
    """The agents' sign-in page, « Agents fictifs du syndicat », then the fictitious person of that name."""
    page.goto("/agents/connexion")
    page.locator("form[action^='/agents/connexion/syndicat'] button").click()
    expect(page).to_have_url(re.compile(r"/demo-idp/"))
    page.locator("button[name=person]", has_text=first_name).click()
    expect(page).not_to_have_url(re.compile(r"/demo-idp/|/connexion"))


def search_person(page: Page) -> None:
    page.goto("/audit")
    page.locator("#citizen").fill(EMAIL)
    page.locator("#purpose").select_option(index=1)
    page.locator("form.search button[type=submit]").click()
    expect(page.locator("table")).to_have_count(1)


def review_with_findings(page: Page) -> None:
    """The weekly review, going back week by week until one shows a finding (the demo plants them in past weeks)."""
    page.goto("/audit/revue")
    for _week in range(8):
        if page.locator("article.finding").count():
            return
        page.locator("a[rel=prev]").click()
    raise AssertionError("no week with a finding in the demo")


# The syndicate's sign-in page ----------------------------------------------------------------------------------


def test_axe_finds_nothing_on_the_syndicates_staff_sign_in_page(page: Page) -> None:
    page.goto("/agents/connexion")
    page.locator("form[action^='/agents/connexion/syndicat'] button").click()
    expect(page.locator("button[name=person]")).to_have_count(2)
    assert accessibility_violations(page, best_practice=True) == []


# The auditor ---------------------------------------------------------------------------------------------------


def test_axe_finds_nothing_on_the_search_by_person(page: Page) -> None:
    sign_in_for_the_syndicate(page, AUDITOR)
    search_person(page)
    assert accessibility_violations(page, best_practice=True) == []


def test_axe_finds_nothing_on_a_persons_timeline(page: Page) -> None:
    sign_in_for_the_syndicate(page, AUDITOR)
    page.goto("/audit/personne")
    page.locator("#citizen").fill(EMAIL)
    page.locator("#purpose").select_option(index=1)
    page.locator("form.search button[type=submit]").click()
    expect(page.locator("table")).to_have_count(1)
    assert accessibility_violations(page, best_practice=True) == []


def test_axe_finds_nothing_on_a_requests_timeline(page: Page, gateway: Demo) -> None:
    sign_in_for_the_syndicate(page, AUDITOR)
    page.goto(f"/audit/demandes/corbas/{gateway.reference}")
    expect(page.locator("table")).to_have_count(1)
    assert accessibility_violations(page, best_practice=True) == []


def test_axe_finds_nothing_on_an_entry_with_its_proof_explained(page: Page, gateway: Demo) -> None:
    sign_in_for_the_syndicate(page, AUDITOR)
    page.goto(f"/audit/demandes/corbas/{gateway.reference}")
    page.locator("a[href^='/audit/entrees/']").first.click()
    expect(page).to_have_url(re.compile(r"/audit/entrees/\d+$"))
    assert accessibility_violations(page, best_practice=True) == []


def test_axe_finds_nothing_on_the_weekly_review(page: Page) -> None:
    sign_in_for_the_syndicate(page, AUDITOR)
    review_with_findings(page)
    assert accessibility_violations(page, best_practice=True) == []


def test_an_auditor_finds_a_request_by_reference_and_its_timeline_without_javascript(
    page_without_javascript: Page, gateway: Demo
) -> None:
    page = page_without_javascript
    sign_in_for_the_syndicate(page, AUDITOR)
    page.goto("/audit")
    expect_landmarks(page, "Journal d'audit")
    page.get_by_label("Référence de la demande", exact=True).fill(gateway.reference)
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("link", name=gateway.reference).first).to_be_visible()
    page.get_by_role("link", name=gateway.reference).first.click()
    expect(page).to_have_url(re.compile(rf"/audit/demandes/corbas/{gateway.reference}$"))


def test_an_auditor_marks_a_finding_reviewed_with_a_note_without_javascript(
    page_without_javascript: Page, gateway: Demo
) -> None:
    page = page_without_javascript
    requested = record_requests(page)
    sign_in_for_the_syndicate(page, AUDITOR)
    review_with_findings(page)
    finding = page.locator("article.finding").first
    anchor = finding.get_attribute("id")
    finding.get_by_role("textbox").fill(NOTE)
    finding.get_by_role("button").click()

    expect(page).to_have_url(re.compile(f"#{anchor}$"))
    marked = page.locator(f"article#{anchor}")
    expect(marked.locator("ul.marks")).to_contain_text(NOTE)
    assert_same_origin(requested, gateway)


# The administrator ---------------------------------------------------------------------------------------------


def test_axe_finds_nothing_on_the_staff_list(page: Page) -> None:
    sign_in_for_the_syndicate(page, ADMINISTRATOR)
    page.goto("/agents/personnel")
    expect(page.locator("table").first).to_be_visible()
    assert accessibility_violations(page, best_practice=True) == []


def test_axe_finds_nothing_on_an_account_page(page: Page) -> None:
    sign_in_for_the_syndicate(page, ADMINISTRATOR)
    page.goto("/agents/personnel")
    page.locator("a[href^='/agents/personnel/']:not([href$='/nouveau'])").first.click()
    expect(page).to_have_url(re.compile(r"/agents/personnel/\d+$"))
    assert accessibility_violations(page, best_practice=True) == []


def test_axe_finds_nothing_on_the_create_form(page: Page) -> None:
    sign_in_for_the_syndicate(page, ADMINISTRATOR)
    page.goto("/agents/personnel/nouveau")
    assert accessibility_violations(page, best_practice=True) == []


def test_axe_finds_nothing_on_the_create_form_showing_its_errors(page: Page) -> None:
    sign_in_for_the_syndicate(page, ADMINISTRATOR)
    page.goto("/agents/personnel/nouveau")
    page.locator("#username").fill("Pas Un Identifiant")
    page.locator("#display_name").fill("Lou Nouvelle")
    page.locator("#email").fill("lou@guichet.example")
    page.locator("#role").select_option(index=1)
    page.locator("main form[method=post] button[type=submit]").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert accessibility_violations(page, best_practice=True) == []


def create_an_account(page: Page) -> None:
    """The create form filled with a fresh username and the first role offered, sent: the « Compte créé » page."""
    page.goto("/agents/personnel/nouveau")
    page.locator("#username").fill(f"camille.{secrets.token_hex(3)}")
    page.locator("#display_name").fill("Camille Créée")
    page.locator("#email").fill("camille.creee@guichet.example")
    page.locator("#role").select_option(index=1)
    page.locator("main form[method=post] button[type=submit]").click()
    expect(page.locator("code.secret")).to_be_visible()


def test_axe_finds_nothing_on_the_account_created_page(page: Page) -> None:
    sign_in_for_the_syndicate(page, ADMINISTRATOR)
    create_an_account(page)
    assert accessibility_violations(page, best_practice=True) == []


def test_axe_finds_nothing_on_an_account_page_refusing_to_withdraw_its_last_role(page: Page) -> None:
    sign_in_for_the_syndicate(page, ADMINISTRATOR)
    create_an_account(page)
    page.locator("main a[href^='/agents/personnel/']").last.click()
    page.locator("form[action$='/roles/retrait'] button").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert accessibility_violations(page, best_practice=True) == []


def test_an_administrator_creates_an_agent_without_javascript(page_without_javascript: Page, gateway: Demo) -> None:
    page = page_without_javascript
    requested = record_requests(page)
    sign_in_for_the_syndicate(page, ADMINISTRATOR)
    page.goto("/agents/personnel")
    page.get_by_role("link", name=re.compile("Créer un compte")).click()
    page.get_by_label("Identifiant", exact=True).fill("lou.nouvelle")
    page.get_by_label("Nom et prénom", exact=True).fill("Lou Nouvelle")
    page.get_by_label("Adresse électronique professionnelle", exact=True).fill("lou.nouvelle@guichet.example")
    page.get_by_label("Rôle", exact=True).select_option(index=1)
    page.get_by_role("button", name="Créer le compte").click()

    expect_landmarks(page, "Compte créé")
    expect(page.get_by_role("status")).to_contain_text("lou.nouvelle")
    page.get_by_role("link", name="Voir le compte").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lou Nouvelle")
    assert_same_origin(requested, gateway)
