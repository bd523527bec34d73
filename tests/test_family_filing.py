"""Family filings (plugin API 1.2): one request per child, filed in one go and linked, through real HTTP.

The test plugin (:mod:`tests.plugins.family_service`) asks the parent's e-mail
address and the school year once, each child's given name and birth date per
child; it refuses a child named « Refus » and fails while storing « Panne ».
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlmodel import select
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.models import ServiceRequest
from gateway.testing import ConfigFolder, GuichetClient, audit_records, request_handle, sign_in_agent, sign_in_citizen
from gateway.web.i18n import COOKIE as LANGUAGE_COOKIE
from tests.plugins import family_service

KEY = family_service.KEY
PAGE = f"/corbas/{KEY}"
API = f"/api/v1/communes/corbas/services/{KEY}/requests"
SHARED = {"parent_email": "parent@example.org", "school_year": "2027"}
ALICE = {"child_given_name": "Alice", "child_birthdate": "2021-03-04"}
BASILE = {"child_given_name": "Basile", "child_birthdate": "2023-11-30"}


@pytest.fixture
def app(guichet_config: ConfigFolder, guichet_database_url: str) -> Iterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    for slug in ("corbas", "givors"):
        services = guichet_config.read(f"communes/{slug}.toml").get("services", {})
        guichet_config.set_commune(slug, services={**services, KEY: {}})
    application = create_app(guichet_config.path, extra_plugins=[("family_service", family_service)])
    yield application
    application.state.db.dispose()


@pytest_asyncio.fixture
async def citizen(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as client:
        sign_in_citizen(client, email="parent@example.org")
        client.headers["x-csrftoken"] = await client.csrf_token(PAGE)
        yield client


def stored(app: Starlette, commune: str = "corbas") -> list[ServiceRequest]:
    with app.state.db.session(commune=commune) as session:
        rows = session.exec(select(ServiceRequest).where(ServiceRequest.service == KEY)).all()
        for row in rows:
            session.expunge(row)
        return sorted(rows, key=lambda row: row.id or 0)


def posted(*children: dict[str, str], shared: dict[str, str] = SHARED, action: str = "file") -> dict[str, str]:
    """The family form as a browser posts it: shared answers, each child's under ``m<n>.``, the count, the button."""
    body = {**shared, "members": str(len(children)), "action": action}
    for index, child in enumerate(children, 1):
        body |= {f"m{index}.{name}": value for name, value in child.items()}
    return body


def typed(page: str, name: str) -> str | None:
    """The value of the page's input named ``name`` (None: no such input)."""
    for tag in re.findall(r"<input[^>]*>", page):
        if f'name="{name}"' in tag:
            value = re.search(r'value="([^"]*)"', tag)
            return html.unescape(value.group(1)) if value else ""
    return None


def hidden(page: str, name: str) -> str:
    value = typed(page, name)
    assert value is not None, name
    return value


# The page -----------------------------------------------------------------------------------------------------------


async def test_the_form_shows_one_block_and_adds_and_removes_blocks_keeping_every_value(citizen: GuichetClient) -> None:
    page = await citizen.get(PAGE)
    assert page.status_code == 200
    assert "<legend>Enfant 1</legend>" in page.text and "Enfant 2" not in page.text
    assert 'name="action" value="add"' in page.text and "Ajouter un enfant" in page.text
    assert 'for="champ-m1.child_given_name"' in page.text and 'id="champ-m1.child_given_name"' in page.text
    assert typed(page.text, "parent_email") == "parent@example.org"  # prefilled from the identity: shared only
    assert typed(page.text, "m1.child_given_name") == ""
    first_button = re.search(r"<button[^>]*>", page.text.split('action="/corbas/famille-essai"')[1])
    assert first_button and 'value="file"' in first_button.group(0)  # Enter in a box files, never removes a child

    added = await citizen.submit(PAGE, posted(ALICE, action="add"))
    assert added.status_code == 200
    assert "<legend>Enfant 2</legend>" in added.text
    assert typed(added.text, "m1.child_given_name") == "Alice"
    assert typed(added.text, "m2.child_given_name") == ""
    assert typed(added.text, "parent_email") == "parent@example.org"
    assert hidden(added.text, "members") == "2"
    assert "Retirer : Enfant 1" in added.text and "Retirer : Enfant 2" in added.text

    removed = await citizen.post(PAGE, data={**_form_tokens(added.text), **posted(ALICE, BASILE, action="remove-1")})
    assert removed.status_code == 200
    assert typed(removed.text, "m1.child_given_name") == "Basile"
    assert typed(removed.text, "m2.child_given_name") is None
    assert stored(citizen.app) == []


async def test_the_form_in_english_names_each_child(citizen: GuichetClient) -> None:
    citizen.cookies.set(LANGUAGE_COOKIE, "en")
    page = await citizen.submit(PAGE, posted(ALICE, {"child_given_name": "", "child_birthdate": ""}))
    assert page.status_code == 422
    assert "<legend>Child 2</legend>" in page.text and "Remove: Child 2" in page.text
    assert "Add another child" in page.text and "Child 2 – Child&#39;s given name" in page.text


async def test_no_block_is_added_beyond_the_limit(citizen: GuichetClient) -> None:
    three = [ALICE, BASILE, {"child_given_name": "Chloé", "child_birthdate": "2022-01-01"}]
    refused = await citizen.submit(PAGE, posted(*three, action="add"))
    assert refused.status_code == 422
    assert "au plus 3 membres" in refused.text
    assert "<legend>Enfant 4</legend>" not in refused.text and 'value="add"' not in refused.text
    assert typed(refused.text, "m3.child_given_name") == "Chloé"


async def test_a_family_is_filed_as_one_request_per_child_linked_together(citizen: GuichetClient) -> None:
    app = citizen.app
    answer = await citizen.submit(PAGE, posted(ALICE, BASILE))
    assert answer.status_code == 303, answer.text
    rows = stored(app)
    assert len(rows) == 2
    alice, basile = rows
    assert alice.family_id is not None and alice.family_id == basile.family_id
    assert alice.data == {**SHARED, **ALICE} and basile.data == {**SHARED, **BASILE}
    assert alice.reference != basile.reference and alice.status == basile.status == "submitted"
    created = [record for record in audit_records(app, "request.create") if record.service == KEY]
    assert len(created) == 2
    receipt = await citizen.get(answer.headers["location"])
    assert alice.reference in receipt.text and basile.reference in receipt.text

    page = await citizen.get(f"/mes-demandes/{alice.public_id}")
    assert "Demandes déposées ensemble" in page.text
    assert f'href="/mes-demandes/{basile.public_id}">{basile.reference}</a>' in page.text


async def test_one_child_is_filed_alone_without_a_family(citizen: GuichetClient) -> None:
    answer = await citizen.submit(PAGE, posted(ALICE))
    assert answer.status_code == 303
    (row,) = stored(citizen.app)
    assert row.family_id is None and row.data == {**SHARED, **ALICE}
    page = await citizen.get(f"/mes-demandes/{row.public_id}")
    assert "Demandes déposées ensemble" not in page.text


async def test_a_failing_member_files_nothing_and_every_error_is_shown_in_its_block(citizen: GuichetClient) -> None:
    wrong = {"child_given_name": "Refus", "child_birthdate": "2021-02-31"}
    answer = await citizen.submit(PAGE, posted(ALICE, wrong, shared={**SHARED, "parent_email": "pas une adresse"}))
    assert answer.status_code == 422
    assert stored(citizen.app) == []
    text = answer.text
    assert 'href="#champ-m2.child_given_name"' in text and 'href="#champ-m2.child_birthdate"' in text
    assert 'href="#champ-parent_email"' in text
    assert 'href="#champ-m1.' not in text  # Alice's answers were right
    assert "Enfant 2 – Prénom de l&#39;enfant" in text
    assert 'id="champ-m2.child_given_name-erreur"' in text
    assert 'aria-describedby="champ-m2.child_given_name-erreur"' in text
    assert typed(text, "m1.child_given_name") == "Alice" and typed(text, "m2.child_birthdate") == "2021-02-31"


async def test_a_plugin_failure_while_storing_one_child_keeps_none(citizen: GuichetClient) -> None:
    answer = await citizen.submit(PAGE, posted(ALICE, {"child_given_name": "Panne", "child_birthdate": "2022-05-05"}))
    assert answer.status_code == 503
    assert stored(citizen.app) == []
    assert [record for record in audit_records(citizen.app, "request.create") if record.service == KEY] == []


async def test_a_failing_family_leaves_filings_sent_with_it_alone(citizen: GuichetClient) -> None:
    """Sent at once, they may share a write batch: the family's savepoint is rolled back, the others kept."""
    panne = {"child_given_name": "Panne", "child_birthdate": "2022-05-05"}
    failing, alone, family = await asyncio.gather(
        file(citizen, {"data": SHARED, "members": [ALICE, panne]}),
        file(citizen, {"data": {**SHARED, **BASILE}}),
        file(citizen, {"data": SHARED, "members": [ALICE, BASILE]}),
    )
    assert failing.status_code == 503
    assert alone.status_code == family.status_code == 201
    rows = stored(citizen.app)
    assert sorted(row.data["child_given_name"] for row in rows) == ["Alice", "Basile", "Basile"]
    assert [row.data["child_given_name"] for row in rows if row.family_id is None] == ["Basile"]


async def test_the_same_form_posted_twice_files_the_family_once(citizen: GuichetClient) -> None:
    loaded = await citizen.get(PAGE)
    body = {**_form_tokens(loaded.text), **posted(ALICE, BASILE)}
    first = await citizen.post(PAGE, data=body)
    again = await citizen.post(PAGE, data=body)
    assert first.status_code == again.status_code == 303
    assert len(stored(citizen.app)) == 2


async def test_the_family_links_are_shown_to_agents_of_the_service_only(app: Starlette, citizen: GuichetClient) -> None:
    await citizen.submit(PAGE, posted(ALICE, BASILE))
    alice, basile = stored(app)
    async with GuichetClient(app) as agent:
        await sign_in_agent(agent, "corbas", KEY, level="reader")
        case = await agent.get(f"/agents/corbas/demandes/{alice.reference}")
        assert case.status_code == 200
        assert f'href="/agents/corbas/demandes/{basile.reference}">{basile.reference}</a>' in case.text
    async with GuichetClient(app) as other:
        await sign_in_agent(other, "corbas", "contact", username="agent.contact")
        refused = await other.get(f"/agents/corbas/demandes/{alice.reference}")
        assert refused.status_code in (403, 404)
        assert basile.reference not in refused.text
    async with GuichetClient(app) as elsewhere:
        await sign_in_agent(elsewhere, "givors", KEY, username="agent.givors")
        refused = await elsewhere.get(f"/agents/corbas/demandes/{alice.reference}")
        assert refused.status_code in (403, 404)
        assert basile.reference not in refused.text


async def test_another_citizen_sees_nothing_of_the_family(app: Starlette, citizen: GuichetClient) -> None:
    await citizen.submit(PAGE, posted(ALICE, BASILE))
    alice, basile = stored(app)
    async with GuichetClient(app) as stranger:
        sign_in_citizen(stranger, given_name="Bruno", email="bruno@example.org")
        page = await stranger.get(f"/mes-demandes/{alice.public_id}")
        assert page.status_code == 404
        assert basile.reference not in page.text and alice.reference not in page.text
        mine = await stranger.get("/mes-demandes")
        assert alice.reference not in mine.text and basile.reference not in mine.text


def _form_tokens(page: str) -> dict[str, str]:
    return {"csrftoken": hidden(page, "csrftoken"), "submission_key": hidden(page, "submission_key")}


# The API ------------------------------------------------------------------------------------------------------------


async def file(client: GuichetClient, body: dict[str, Any], key: str | None = None) -> httpx.Response:
    headers = {"idempotency-key": key} if key else {}
    return await client.post(API, json=body, headers=headers)


async def test_the_api_files_a_family_and_a_retry_answers_with_the_same_requests(citizen: GuichetClient) -> None:
    body = {"data": SHARED, "members": [ALICE, BASILE]}
    first = await file(citizen, body, key="famille-1")
    assert first.status_code == 201, first.text
    filed = first.json()
    assert filed["family_id"] and len(filed["requests"]) == 2
    assert filed["receipt_email"] == "queued"
    again = await file(citizen, body, key="famille-1")
    assert again.status_code == 200
    assert [one["reference"] for one in again.json()["requests"]] == [one["reference"] for one in filed["requests"]]
    assert again.json()["family_id"] == filed["family_id"]
    rows = stored(citizen.app)
    assert len(rows) == 2 and {row.family_id for row in rows} == {filed["family_id"]}


@pytest.mark.parametrize(
    "retry",
    [
        {"data": SHARED, "members": [ALICE, {**BASILE, "child_given_name": "Bastien"}]},
        {"data": SHARED, "members": [ALICE, BASILE, {"child_given_name": "Chloé", "child_birthdate": "2022-01-01"}]},
        {"data": SHARED, "members": [ALICE]},
        {"data": {**SHARED, **ALICE}},
    ],
    ids=["other-answers", "more-members", "fewer-members", "single-filing"],
)
async def test_the_same_key_with_another_filing_is_refused(citizen: GuichetClient, retry: dict[str, Any]) -> None:
    assert (await file(citizen, {"data": SHARED, "members": [ALICE, BASILE]}, key="famille-2")).status_code == 201
    refused = await file(citizen, retry, key="famille-2")
    assert refused.status_code == 422, refused.text
    assert len(stored(citizen.app)) == 2


async def test_the_api_lists_every_members_error_with_its_pointer_and_files_nothing(citizen: GuichetClient) -> None:
    body = {"data": {**SHARED, "school_year": "1999"}, "members": [ALICE, {"child_given_name": "Refus"}]}
    answer = await file(citizen, body)
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["type"] == "urn:guichet:problem:validation-error"
    pointers = {error["pointer"] for error in problem["errors"]}
    assert pointers == {"/data/school_year", "/members/1/child_birthdate", "/members/1/child_given_name"}
    assert stored(citizen.app) == []


@pytest.mark.parametrize(
    ("members", "pointer"),
    [
        ("Alice", "/members"),
        ([], "/members"),
        ([ALICE, BASILE, ALICE, BASILE], "/members"),
        ([ALICE, "Basile"], "/members/1"),
        ([ALICE, {**BASILE, "school_year": "2027"}], "/members/1/school_year"),
    ],
    ids=["not-a-list", "empty", "too-many", "not-an-object", "shared-field-in-a-member"],
)
async def test_a_badly_shaped_family_is_a_422_with_pointers(
    citizen: GuichetClient, members: object, pointer: str
) -> None:
    answer = await file(citizen, {"data": SHARED, "members": members})
    assert answer.status_code == 422
    assert pointer in {error["pointer"] for error in answer.json()["errors"]}
    assert stored(citizen.app) == []


async def test_a_per_member_field_in_data_is_refused_with_members(citizen: GuichetClient) -> None:
    answer = await file(citizen, {"data": {**SHARED, **ALICE}, "members": [BASILE]})
    assert answer.status_code == 422
    assert {error["pointer"] for error in answer.json()["errors"]} == {
        "/data/child_given_name",
        "/data/child_birthdate",
    }


async def test_a_single_filing_stays_as_it_was(citizen: GuichetClient) -> None:
    answer = await file(citizen, {"data": {**SHARED, **ALICE}})
    assert answer.status_code == 201
    assert set(answer.json()) >= {"reference", "commune", "service", "status", "created_at"}
    assert "family_id" not in answer.json()
    (row,) = stored(citizen.app)
    assert row.family_id is None


async def test_members_for_a_service_filed_alone_is_refused(citizen: GuichetClient) -> None:
    answer = await citizen.post("/api/v1/communes/corbas/services/contact/requests", json={"data": {}, "members": [{}]})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["pointer"] == "/members"


async def test_the_service_and_openapi_describe_the_member_block(citizen: GuichetClient) -> None:
    service = (await citizen.get(f"/api/v1/communes/corbas/services/{KEY}")).json()
    assert service["members"]["max_count"] == family_service.MAX_CHILDREN
    assert service["members"]["label"]["fr"] == "Enfant"
    per_member = {field["name"] for field in service["form"] if field["per_member"]}
    assert per_member == {"child_given_name", "child_birthdate"}
    document = (await citizen.get("/openapi.json")).json()
    assert "members" in document["components"]["schemas"]["NewRequest"]["properties"]
    assert "FamilyReceipt" in document["components"]["schemas"]


async def test_each_requests_json_lists_its_family_to_its_owner_and_to_agents(
    app: Starlette, citizen: GuichetClient
) -> None:
    filed = (await file(citizen, {"data": SHARED, "members": [ALICE, BASILE]})).json()
    alice, basile = stored(app)
    mine = (await citizen.get(f"/api/v1/me/requests/{alice.public_id}")).json()
    assert mine["family"] == [{"reference": basile.reference, "public_id": basile.public_id, "status": "submitted"}]
    async with GuichetClient(app) as agent:
        await sign_in_agent(agent, "corbas", KEY, level="reader")
        case = (await agent.get(f"/api/v1/communes/corbas/requests/{basile.reference}")).json()
        assert case["family"] == [{"reference": alice.reference, "status": "submitted"}]
    assert [one["reference"] for one in filed["requests"]] == [alice.reference, basile.reference]


def test_the_test_kits_handle_answers_the_family_id() -> None:
    assert request_handle(KEY, "corbas", ALICE, family_id="f-1").family_id == "f-1"
    assert request_handle(KEY, "corbas", ALICE).family_id is None
