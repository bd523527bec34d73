"""The places board driven by a real Chromium, without JavaScript: reached from the queue, read, checked by axe-core.

A deployment of its own (a blank one with :mod:`tests.plugins.school_places`),
served by uvicorn as the browser tests' demo is (:mod:`tests.test_browser`,
whose browser and helpers this module borrows). Needs Chromium at
/usr/bin/chromium, like them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from gateway.app import create_app
from gateway.testing import (
    ConfigFolder,
    agent_of,
    file_request,
    migrate,
    served,
    take_transition,
    verified_citizen,
)
from tests.plugins import school_places
from tests.test_browser import (  # noqa: F401 (browser is a fixture this module uses)
    Gateway,
    _new_page,
    accessibility_violations,
    browser,
    expect_landmarks,
    sign_agent_in,
)

pytestmark = pytest.mark.browser
KEY = school_places.KEY


@pytest.fixture(scope="module")
def places_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """Ville-A offering school registration with capacities, a few requests filed and decided, served on a free port."""
    root: Path = tmp_path_factory.mktemp("places")
    config = ConfigFolder(root)
    url = f"sqlite:///{root / 'guichet.db'}"
    config.set_gateway(database={"url": url})
    config.enable_service("ville-a", KEY, capacities={"jules-ferry": {"cp": 1, "ce1": 2}})
    migrate(url)
    app = create_app(config.path, extra_plugins=[("school_places", school_places)])
    citizen, agent = verified_citizen(app), agent_of(app, "ville-a", KEY, username="agent.fill")
    for level, decision in (("cp", "accept"), ("cp", "accept"), ("ce1", "")):
        answers = {"child_name": "Lou", "school": "jules-ferry", "level": level}
        filed = file_request(app, citizen, "ville-a", KEY, answers)
        if decision and filed.reference:
            take_transition(app, agent, "ville-a", filed.reference, decision)

    try:
        with served(app) as base_url:
            yield Gateway(base_url, app)
    finally:
        app.state.db.dispose()


@pytest.fixture
def page(browser: Browser, places_gateway: Gateway) -> Iterator[Page]:  # noqa: F811 (the borrowed fixture)
    yield from _new_page(browser, places_gateway)


@pytest.fixture
def page_without_javascript(browser: Browser, places_gateway: Gateway) -> Iterator[Page]:  # noqa: F811
    yield from _new_page(browser, places_gateway, javascript=False)


def read_the_board_from_the_queue(page: Page, gateway: Gateway) -> None:
    sign_agent_in(page, gateway, f"agent:ville-a:{KEY}:reader")
    page.goto("/agents/ville-a/demandes")
    page.get_by_role("link", name="Inscription scolaire", exact=True).click()
    expect_landmarks(page, "Places : Inscription scolaire")
    table = page.get_by_role("table", name="Places de École Jules-Ferry")

    def row(level: str) -> Locator:
        return table.locator("tr", has=page.get_by_role("rowheader", name=level, exact=True))

    expect(row("CP")).to_contain_text("Capacité dépassée de 1 place")
    expect(row("CE1")).to_contain_text("Places disponibles")


def test_an_agent_reaches_the_board_from_the_queue_without_javascript(
    page_without_javascript: Page, places_gateway: Gateway
) -> None:
    read_the_board_from_the_queue(page_without_javascript, places_gateway)


def test_axe_finds_nothing_on_the_board(page: Page, places_gateway: Gateway) -> None:
    # axe-core runs as a script in the page, so this page has JavaScript (the board itself has none)
    read_the_board_from_the_queue(page, places_gateway)
    assert accessibility_violations(page, best_practice=True) == []


def test_axe_finds_nothing_on_the_board_in_english(page: Page, places_gateway: Gateway) -> None:
    read_the_board_from_the_queue(page, places_gateway)
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("School registration"))
    assert accessibility_violations(page, best_practice=True) == []
