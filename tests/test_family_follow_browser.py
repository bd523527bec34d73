# ruff: noqa: F811  (the fixtures borrowed from tests.test_browser are arguments of the tests below)
"""A family's school registration drafts and a follow link, in a real Chromium: walked as a family would, axe-core.

The demo deployment (Vénissieux offers ``inscription-scolaire``), served by uvicorn
on a free local port. A signed-in parent starts a registration and adds a
brother or sister with « Inscrire aussi un frère ou une sœur » (JavaScript off);
the receipt of two children filed together; a message filed without an account
and followed from its receipt by the signed link. axe-core finds nothing on
each page, in French and in English, and nothing is fetched from another host.
Borrows the browser and helpers of :mod:`tests.test_browser` (Chromium at
/usr/bin/chromium, skipped when missing).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from guichet_inscription_scolaire.levels import open_school_years
from playwright.sync_api import Browser, Page, expect

from gateway.identity.sessions import COOKIE as SESSION_COOKIE
from gateway.identity.sessions import cookie_value, open_session
from gateway.testing import (
    TestCitizen,
    add_family_member,
    attach_document,
    save_draft,
    start_draft,
    stored_request,
    submit_request,
    verified_citizen,
)
from tests.test_browser import (  # noqa: F401 (browser and gateway: fixtures this module uses, a demo of its own)
    TIMEOUT_MS,
    Gateway,
    accessibility_violations,
    assert_same_origin,
    browser,
    expect_landmarks,
    file_a_message,
    gateway,
    record_requests,
)

pytestmark = pytest.mark.browser

KEY = "inscription-scolaire"
ADD_SIBLING = "Inscrire aussi un frère ou une sœur"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
LANGUAGES = ["fr", "en"]


def _shared(year: int) -> dict[str, Any]:
    """The answers both children's drafts share: the year, the applicant, the address."""
    address = {"number": 12, "suffix": "", "street": "Rue des Tilleuls Imaginaires", "complement": "",
               "postcode": "69200", "town": "Vénissieux"}  # fmt: skip
    return {"school_year": f"{year}-{year + 1}", "applicant_authority": "parent", "other_parent": "",
            "other_parent_phone": "", "address": address}  # fmt: skip


def _child(first_names: str, born: str) -> dict[str, Any]:
    return {"child_first_names": first_names, "child_last_name": "Exemple-Démo", "child_birth_date": born,
            "leaving_school": False, "derogation": "no"}  # fmt: skip


def _page(browser: Browser, gateway: Gateway, *, javascript: bool = True) -> Iterator[Page]:
    context = browser.new_context(base_url=gateway.base_url, locale="fr-FR", java_script_enabled=javascript)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser, gateway: Gateway) -> Iterator[Page]:
    yield from _page(browser, gateway)  # axe-core runs as a script in the page


@pytest.fixture
def page_without_javascript(browser: Browser, gateway: Gateway) -> Iterator[Page]:
    yield from _page(browser, gateway, javascript=False)


def signed_in_parent(page: Page, gateway: Gateway) -> TestCitizen:
    """A parent signed in through a federated provider, their session's cookie handed to the browser."""
    app = gateway.app
    parent = verified_citizen(app, given_name="Camille", family_name="Exemple-Démo", email="camille@example.org")
    assert parent.caller.citizen_id is not None
    with app.state.db.session() as session:
        session_id = open_session(session, "citizen", parent.caller.citizen_id)
    value = cookie_value(app.state.registry.settings.secret_key, session_id)
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": value, "url": gateway.base_url}])
    return parent


def in_language(page: Page, language: str) -> None:
    """The language switch of the page shown (the visitor stays on it); nothing to do for French."""
    if language == "en":
        page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", language)


def start_a_registration(page: Page) -> None:
    page.goto(f"/venissieux/{KEY}")
    page.get_by_role("button", name="Commencer").click()
    expect(page).to_have_url(re.compile(r"/mes-demandes/[\w-]+$"))


def test_a_parent_adds_a_brother_or_sister_without_javascript(page_without_javascript: Page, gateway: Gateway) -> None:
    page = page_without_javascript
    requested = record_requests(page)
    signed_in_parent(page, gateway)
    start_a_registration(page)
    first = page.url
    page.get_by_role("button", name=ADD_SIBLING).click()

    expect(page).to_have_url(re.compile(r"/mes-demandes/[\w-]+"))
    assert page.url.split("#")[0] != first
    members = page.get_by_role("region", name="Les demandes de la famille").get_by_role("listitem")
    expect(members).to_have_count(2)
    expect(members.last.get_by_role("link")).to_have_attribute("aria-current", "page")
    assert_same_origin(requested, gateway)


@pytest.mark.parametrize("language", LANGUAGES)
def test_axe_finds_nothing_on_a_family_draft(page: Page, gateway: Gateway, language: str) -> None:
    signed_in_parent(page, gateway)
    start_a_registration(page)
    page.get_by_role("button", name=ADD_SIBLING).click()
    expect(page.locator("ul.family-links > li")).to_have_count(2)
    in_language(page, language)
    assert accessibility_violations(page, best_practice=True) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_axe_finds_nothing_on_the_receipt_of_a_family(page: Page, gateway: Gateway, language: str) -> None:
    app = gateway.app
    parent = signed_in_parent(page, gateway)
    year = open_school_years(date.today())[1]
    shared = _shared(year)
    lea = start_draft(app, parent, "venissieux", KEY).public_id
    save_draft(app, parent, lea, {**shared, **_child("Léa", f"{year - 6}-05-17")})
    for document in ("proof_of_address", "identity_filiation", "vaccinations"):
        attach_document(app, parent, lea, document, f"{document}.pdf", PDF)
    noe = add_family_member(app, parent, lea).public_id
    save_draft(app, parent, noe, {**stored_request(app, noe).data, **_child("Noé", f"{year - 3}-02-11")})
    for document in ("identity_filiation", "vaccinations"):
        attach_document(app, parent, noe, document, f"{document}.pdf", PDF)
    outcome = submit_request(app, parent, lea, {**shared, **_child("Léa", f"{year - 6}-05-17")})
    assert not outcome.errors, [(error.field, error.message.fr) for error in outcome.errors]

    page.goto(f"/mes-demandes/{lea}/recu")
    expect_landmarks(page, re.compile("."))
    expect(page.locator("ul.family-links > li")).to_have_count(1)  # the brother, filed with her
    in_language(page, language)
    assert accessibility_violations(page, best_practice=True) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_axe_finds_nothing_on_the_receipt_and_the_follow_page_of_a_filing_without_an_account(
    page: Page, gateway: Gateway, language: str
) -> None:
    reference = file_a_message(page)
    in_language(page, language)
    assert accessibility_violations(page, best_practice=True) == []
    page.locator("a[href^='/suivi/']", has_text=reference).click()
    expect(page).to_have_url(re.compile(r"/suivi/"))
    expect(page.locator("main")).to_contain_text(reference)
    assert accessibility_violations(page, best_practice=True) == []


def test_a_filing_without_an_account_is_followed_from_its_receipt_without_javascript(
    page_without_javascript: Page, gateway: Gateway
) -> None:
    page = page_without_javascript
    requested = record_requests(page)
    reference = file_a_message(page)
    page.get_by_role("link", name=f"Suivre la demande {reference}").click()
    expect_landmarks(page, re.compile("."))
    expect(page.locator("main")).to_contain_text(reference)
    assert_same_origin(requested, gateway)
