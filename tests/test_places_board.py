"""A service's places board (``guichet_service_places``, API 1.2), through real HTTP on SQLite and PostgreSQL.

Ville-A offers school registration (:mod:`tests.plugins.school_places`) with
capacities per school and level; Ville-B offers it too, with requests of the
same school and level that Ville-A's board must never count. Ville-C offers it
without capacities (no board), Ville-D to Ville-F with a plugin that fails;
Ville-G counts a request taken in hand as holding its place.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from starlette.applications import Starlette

from gateway import Places
from gateway.app import create_app
from gateway.testing import (
    ConfigFolder,
    GuichetClient,
    agent_of,
    audit_records,
    file_request,
    sign_in_citizen,
    sign_in_staff,
    start_draft,
    take_transition,
    verified_citizen,
    withdraw_request,
)
from tests.plugins import school_places

KEY = school_places.KEY
PAGE = f"/agents/ville-a/places/{KEY}"
API = f"/api/v1/communes/ville-a/services/{KEY}/places"


@pytest_asyncio.fixture
async def app(guichet_config: ConfigFolder, guichet_database_url: str) -> AsyncIterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    guichet_config.enable_service("ville-a", KEY, capacities={"jules-ferry": {"cp": 2, "ce1": 1}, "moulin": {"cp": 3}})
    guichet_config.enable_service("ville-b", KEY, capacities={"jules-ferry": {"cp": 5}})
    guichet_config.enable_service("ville-c", KEY)
    guichet_config.enable_service("ville-d", KEY, capacities={"moulin": {"cp": 1}}, fault="raise")
    guichet_config.enable_service("ville-e", KEY, capacities={"moulin": {"cp": 1}}, fault="state")
    guichet_config.enable_service("ville-g", KEY, capacities={"moulin": {"cp": 1}}, holding=["in_progress", "accepted"])
    guichet_config.enable_service("ville-f", KEY, capacities={"moulin": {"cp": 1}}, fault="shape")
    application = create_app(guichet_config.path, extra_plugins=[("school_places", school_places)])
    yield application
    application.state.db.dispose()


def fill(app: Starlette, commune: str, decisions: list[tuple[str, str, str]]) -> None:
    """File one request per (school, level, what happens to it): accept, refuse, start, withdraw or nothing."""
    citizen = verified_citizen(app)
    agent = agent_of(app, commune, KEY, username=f"agent.fill.{commune}")
    for school, level, decision in decisions:
        filed = file_request(app, citizen, commune, KEY, {"child_name": "Lou", "school": school, "level": level})
        assert filed.reference is not None
        if decision == "withdraw":
            withdraw_request(app, citizen, filed.public_id)
        elif decision == "refuse":
            take_transition(app, agent, commune, filed.reference, "refuse", comment="Hors secteur.")
        elif decision:
            take_transition(app, agent, commune, filed.reference, decision)


def populate(app: Starlette) -> None:
    fill(
        app,
        "ville-a",
        [
            ("jules-ferry", "cp", "accept"),
            ("jules-ferry", "cp", "accept"),
            ("jules-ferry", "cp", "accept"),
            ("jules-ferry", "cp", ""),
            ("jules-ferry", "cp", "refuse"),
            ("jules-ferry", "ce1", ""),
            ("moulin", "cp", "withdraw"),
            ("moulin", "cp", "start"),
        ],
    )
    # a draft is no request yet: not counted
    draft = start_draft(app, verified_citizen(app, given_name="Noé"), "ville-a", KEY)
    assert draft.reference is None
    # another commune's requests for the same school and level: never on Ville-A's board
    fill(app, "ville-b", [("jules-ferry", "cp", "accept"), ("jules-ferry", "cp", "accept"), ("jules-ferry", "cp", "")])


def row(label: str, capacity: int | None, counts: tuple[int, int, int], left: int | None, over: int) -> dict[str, Any]:
    in_progress, accepted, closed = counts
    return {
        "label": label,
        "capacity": capacity,
        "in_progress": in_progress,
        "accepted": accepted,
        "closed": closed,
        "left": left,
        "over": over,
        "oversubscribed": left is not None and in_progress > left,
    }


def summary(board: dict[str, Any]) -> list[tuple[str | None, list[dict[str, Any]]]]:
    return [
        (
            group["label"]["fr"] if group["label"] else None,
            [
                {**{key: value for key, value in place.items() if key != "match"}, "label": place["label"]["fr"]}
                for place in group["places"]
            ],
        )
        for group in board["groups"]
    ]


async def test_the_board_counts_the_communes_requests_by_state_against_capacity(app: Starlette) -> None:
    populate(app)
    async with GuichetClient(app) as http:
        await sign_in_staff(http, "lea.reader", f"agent:ville-a:{KEY}:reader")
        answer = await http.get(API)
    assert answer.status_code == 200
    board = answer.json()
    assert board["service"] == KEY and board["title"]["en"] == "School registration"
    assert summary(board) == [
        (
            "École Jules-Ferry",
            [
                row("CP", 2, (1, 3, 1), 0, 1),
                row("CE1", 1, (1, 0, 0), 1, 0),
                row("Toute l'école", None, (2, 3, 1), None, 0),
            ],
        ),
        ("École du Moulin", [row("CP", 3, (1, 0, 1), 3, 0), row("Toute l'école", None, (1, 0, 1), None, 0)]),
    ]
    assert board["groups"][0]["places"][0]["match"] == {"school": "jules-ferry", "level": "cp"}


async def test_the_other_commune_counts_only_its_own(app: Starlette) -> None:
    populate(app)
    async with GuichetClient(app) as http:
        await sign_in_staff(http, "max.b", f"agent:ville-b:{KEY}")
        board = (await http.get(f"/api/v1/communes/ville-b/services/{KEY}/places")).json()
    assert summary(board) == [
        ("École Jules-Ferry", [row("CP", 5, (1, 2, 0), 3, 0), row("Toute l'école", None, (1, 2, 0), None, 0)])
    ]


async def test_the_page_says_each_row_in_words_in_french_and_english(app: Starlette) -> None:
    populate(app)
    async with GuichetClient(app) as http:
        await sign_in_staff(http, "lea.instructor", f"agent:ville-a:{KEY}:instructor")
        french = await http.get(PAGE)
        english = await http.get(PAGE, headers={"Accept-Language": "en"})
        queue = await http.get("/agents/ville-a/demandes")
    assert french.status_code == 200
    for text in (
        '<h2 id="groupe-1">École Jules-Ferry</h2>',
        "Capacité dépassée de 1 place",
        "1 catégorie dépasse sa capacité.",
        "Places disponibles",
        "Pas de capacité fixée",
        '<th scope="col">Places restantes</th>',
    ):
        assert text in french.text, text
    assert english.status_code == 200
    for text in ("Over capacity by 1 place", "1 category is over its capacity.", "Places left", "Year 1"):
        assert text in english.text, text
    assert "Capacité dépassée" not in english.text
    # the queue links the board of each service whose plugin has one
    assert f'<a href="{PAGE}">Inscription scolaire</a>' in queue.text


@pytest.mark.parametrize(("commune", "linked"), [("ville-a", True), ("ville-c", False), ("ville-d", False)])
async def test_the_queue_links_the_board_only_where_the_plugin_names_counters(
    app: Starlette, commune: str, linked: bool
) -> None:
    async with GuichetClient(app) as http:
        await sign_in_staff(http, "lea.instructor", f"agent:{commune}:{KEY}:instructor")
        queue = await http.get(f"/agents/{commune}/demandes")
    assert queue.status_code == 200
    assert (f'href="/agents/{commune}/places/{KEY}"' in queue.text) is linked


async def test_a_state_that_is_not_final_may_hold_a_place(app: Starlette) -> None:
    # a registration taken in hand already holds its place here (as an accepted one the school must still confirm)
    fill(app, "ville-g", [("moulin", "cp", "start"), ("moulin", "cp", "")])
    async with GuichetClient(app) as http:
        await sign_in_staff(http, "gil.agent", f"agent:ville-g:{KEY}:reader")
        board = (await http.get(f"/api/v1/communes/ville-g/services/{KEY}/places")).json()
    assert summary(board) == [
        ("École du Moulin", [row("CP", 1, (1, 1, 0), 0, 0), row("Toute l'école", None, (1, 1, 0), None, 0)])
    ]


async def test_a_full_level_with_requests_waiting_says_so(app: Starlette) -> None:
    fill(app, "ville-a", [("jules-ferry", "ce1", "accept"), ("jules-ferry", "ce1", "")])
    async with GuichetClient(app) as http:
        await sign_in_staff(http, "lea.instructor", f"agent:ville-a:{KEY}:instructor")
        page = (await http.get(PAGE)).text
    assert "<strong>Complet</strong>" in page and "Capacité dépassée" not in page


#: role -> (the page's status, the API's status); a supervisor of the commune reads every service's board
ROLES: dict[str, tuple[tuple[str, ...], int, int]] = {
    "instructor": ((f"agent:ville-a:{KEY}:instructor",), 200, 200),
    "reader": ((f"agent:ville-a:{KEY}:reader",), 200, 200),
    "supervisor": (("supervisor:ville-a",), 200, 200),
    "other commune": ((f"agent:ville-b:{KEY}",), 403, 403),
    "other commune's supervisor": (("supervisor:ville-b",), 403, 403),
    "auditor": (("auditor:ville-a",), 403, 403),
    "citizen": ((), 403, 403),
    "anonymous": ((), 303, 401),
}


@pytest.mark.parametrize("role", list(ROLES))
async def test_only_the_communes_agents_of_the_service_read_its_board(app: Starlette, role: str) -> None:
    populate(app)
    grants, page_status, api_status = ROLES[role]
    async with GuichetClient(app) as http:
        if role == "citizen":
            sign_in_citizen(http)
        elif grants:
            await sign_in_staff(http, "sam.staff", *grants)
        page, api = await http.get(PAGE), await http.get(API)
    assert (page.status_code, api.status_code) == (page_status, api_status)
    if page_status == 303:
        assert page.headers["location"].startswith("/agents/connexion")
    if page_status != 200:
        # nothing of Ville-A's counts is shown to anyone else
        assert "Jules-Ferry" not in page.text and "Jules-Ferry" not in api.text
    if role.startswith("other commune"):
        assert api.headers["content-type"].startswith("application/problem+json")
        refused = [r for r in audit_records(app) if r.resource == f"places/ville-a/{KEY}" and r.commune == "ville-a"]
        assert len(refused) == 2 and all(r.outcome != "success" for r in refused)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/agents/nulle-part/places/inscription", 404),
        ("/agents/ville-a/places/nulle-part", 404),
        ("/agents/ville-c/places/inscription", 404),
        ("/agents/ville-d/places/inscription", 503),
        ("/agents/ville-e/places/inscription", 503),
        ("/agents/ville-f/places/inscription", 503),
        ("/api/v1/communes/nulle-part/services/inscription/places", 404),
        ("/api/v1/communes/ville-a/services/nulle-part/places", 404),
        ("/api/v1/communes/ville-c/services/inscription/places", 404),
        ("/api/v1/communes/ville-d/services/inscription/places", 503),
        ("/api/v1/communes/ville-e/services/inscription/places", 503),
        ("/api/v1/communes/ville-f/services/inscription/places", 503),
        (f"{API}?school=jules-ferry", 400),
    ],
)
async def test_what_cannot_be_shown_is_a_clear_answer(app: Starlette, path: str, status: int) -> None:
    async with GuichetClient(app, raise_app_exceptions=False) as http:
        grants = [f"agent:{commune}:{KEY}" for commune in ("ville-a", "ville-c", "ville-d", "ville-e", "ville-f")]
        await sign_in_staff(http, "sam.staff", *grants)
        answer = await http.get(path)
    assert answer.status_code == status
    if path.startswith("/api/"):
        problem = answer.json()
        assert problem["status"] == status and problem["detail"]
    else:
        assert "text/html" in answer.headers["content-type"]


@pytest.mark.parametrize(
    ("arguments", "fault"),
    [
        ({"label": "", "match": {"level": "cp"}}, "needs a label"),
        ({"label": "CP", "match": {}}, "matches 1 to 4"),
        ({"label": "CP", "match": {"a": "1", "b": "2", "c": "3", "d": "4", "e": "5"}}, "matches 1 to 4"),
        ({"label": "CP", "match": {"Level": "cp"}}, "not a form field name"),
        ({"label": "CP", "match": {"level": ""}}, "a text of 1 to 200"),
        ({"label": "CP", "match": {"level": 3}}, "a text of 1 to 200"),
        ({"label": "CP", "match": {"level": "cp"}, "capacity": -1}, "whole number"),
        ({"label": "CP", "match": {"level": "cp"}, "capacity": True}, "whole number"),
        ({"label": "CP", "match": {"level": "cp"}, "accepted_states": ()}, "at least one state"),
    ],
)
def test_a_counter_the_core_cannot_count_is_refused_when_made(arguments: dict[str, Any], fault: str) -> None:
    with pytest.raises(ValueError, match=fault):
        Places(**arguments)
