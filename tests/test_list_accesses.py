"""Lists are accesses: a queue page, the API queue, a CSV export and a search record whom they showed, and only them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio
from sqlmodel import col, select
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.audit.builders import listing
from gateway.audit.events import ANONYMOUS, Actor, InvalidEvent, pseudonym
from gateway.identity import staff as staff_accounts
from gateway.identity.tokens import create_token
from gateway.models import AuditEntry
from gateway.requests.caller import Caller
from gateway.requests.filing import Submission, file_request
from gateway.requests.rules import rules_for
from gateway.requests.submission_keys import new_submission_key
from gateway.testing import STAFF_PASSWORD, ConfigFolder, GuichetClient, sign_in_citizen, sign_in_staff

LISTINGS = ("request.list", "request.search", "request.export")


@pytest_asyncio.fixture
async def app(guichet_config: ConfigFolder, guichet_database_url: str) -> AsyncIterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    application = create_app(guichet_config.path)
    yield application
    application.state.db.dispose()


@pytest_asyncio.fixture
async def agent(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as http:
        await sign_in_staff(http, "ana.agent", "agent:corbas:contact")
        yield http


def file(app: Starlette, commune: str, email: str, topic: str = "voirie") -> str:
    """A contact request filed anonymously: its subject is the pseudonym of ``email``."""
    registry = app.state.registry
    values = {"name": "Dominique Fictif", "email": email, "topic": topic, "message": "Un trou dans la rue."}
    rules, caller = rules_for(registry, registry.commune(commune), "contact"), Caller(ANONYMOUS, "test")
    filed = file_request(app.state.db, registry, rules, caller, Submission(values, new_submission_key()))
    assert filed.request is not None and filed.request.reference is not None, filed.errors
    return filed.request.reference


def subject(app: Starlette, email: str) -> str:
    return pseudonym(app.state.registry.settings.secret_key, "email", email)


def listed(app: Starlette, action: str | None = None) -> list[AuditEntry]:
    with app.state.db.session(all_communes=True) as session:
        query = select(AuditEntry).where(col(AuditEntry.action).in_([action] if action else LISTINGS))
        rows = list(session.exec(query.order_by(col(AuditEntry.seq))).all())
        for row in rows:
            session.expunge(row)
        return rows


def api_token(app: Starlette) -> str:
    with app.state.db.session() as session:
        staff = staff_accounts.create(session, username="alix.agent", display_name="Alix Agent",
                                      email="alix@guichet.example", password=STAFF_PASSWORD,
                                      grants=[staff_accounts.parse_grant("agent:corbas:contact")])  # fmt: skip
        _row, token = create_token(session, staff, name="tests", scopes=["agent"], lifetime=timedelta(days=1))
        return token


async def test_a_queue_page_records_each_person_it_shows(app: Starlette, agent: GuichetClient) -> None:
    file(app, "corbas", "one@example.org")
    file(app, "corbas", "two@example.org")
    assert (await agent.get("/agents/corbas/demandes")).status_code == 200
    entries = listed(app)
    assert [(entry.action, entry.subject) for entry in entries] == [
        ("request.list", subject(app, "one@example.org")),
        ("request.list", subject(app, "two@example.org")),
    ]
    assert {(entry.commune, entry.service, entry.resource, entry.actor_role) for entry in entries} == {
        ("corbas", "contact", "queue/corbas", "agent")
    }


async def test_a_person_with_several_requests_on_the_page_is_recorded_once(
    app: Starlette, agent: GuichetClient
) -> None:
    file(app, "corbas", "one@example.org")
    file(app, "corbas", "one@example.org")
    await agent.get("/agents/corbas/demandes")
    assert [entry.subject for entry in listed(app)] == [subject(app, "one@example.org")]


async def test_a_queue_page_records_neither_other_pages_nor_other_communes(
    app: Starlette, agent: GuichetClient
) -> None:
    for number in range(51):
        file(app, "corbas", f"person{number}@example.org")
    file(app, "givors", "elsewhere@example.org")
    await agent.get("/agents/corbas/demandes?page=2")
    [entry] = listed(app)
    assert entry.subject == subject(app, "person50@example.org")


async def test_the_api_queue_records_each_person_it_returns(app: Starlette) -> None:
    file(app, "corbas", "one@example.org")
    file(app, "givors", "elsewhere@example.org")
    async with GuichetClient(app) as client:
        client.headers["Authorization"] = f"Bearer {api_token(app)}"
        answer = await client.get("/api/v1/communes/corbas/requests")
    assert answer.status_code == 200 and len(answer.json()["items"]) == 1
    [entry] = listed(app)
    assert (entry.action, entry.subject, entry.origin.startswith("api ")) == (
        "request.list", subject(app, "one@example.org"), True,
    )  # fmt: skip


async def test_a_csv_export_records_each_person_exported(app: Starlette, agent: GuichetClient) -> None:
    file(app, "corbas", "one@example.org")
    file(app, "corbas", "two@example.org")
    file(app, "givors", "elsewhere@example.org")
    answer = await agent.get("/agents/corbas/demandes.csv")
    assert answer.status_code == 200
    assert [(entry.action, entry.subject) for entry in listed(app)] == [
        ("request.export", subject(app, "one@example.org")),
        ("request.export", subject(app, "two@example.org")),
    ]


async def test_a_search_records_only_the_people_it_found(app: Starlette, agent: GuichetClient) -> None:
    file(app, "corbas", "roads@example.org")
    file(app, "corbas", "streets@example.org", topic="proprete")
    await agent.get("/agents/corbas/demandes", params={"q": "propreté"})
    [entry] = listed(app)
    assert (entry.action, entry.subject) == ("request.search", subject(app, "streets@example.org"))


async def test_an_empty_list_records_nothing(app: Starlette, agent: GuichetClient) -> None:
    file(app, "givors", "elsewhere@example.org")
    assert (await agent.get("/agents/corbas/demandes")).status_code == 200
    assert (await agent.get("/agents/corbas/demandes.csv")).status_code == 200
    assert listed(app) == []


async def test_a_refused_queue_records_no_listing(app: Starlette, agent: GuichetClient) -> None:
    file(app, "givors", "elsewhere@example.org")
    assert (await agent.get("/agents/givors/demandes")).status_code == 403
    assert listed(app) == []


async def test_the_citizen_reads_the_listing_in_plain_words(app: Starlette, agent: GuichetClient) -> None:
    file(app, "corbas", "camille@example.org")
    await agent.get("/agents/corbas/demandes")
    async with GuichetClient(app) as citizen:
        sign_in_citizen(citizen, email="camille@example.org")
        french = (await citizen.get("/mon-compte/acces")).text
        english = (await citizen.get("/mon-compte/acces", headers={"Accept-Language": "en"})).text
    assert "Listée dans la file d&#39;attente de Corbas par un agent" in french
    assert "Listed in the Corbas queue by an agent" in english


async def test_the_citizen_reads_a_search_and_an_export_in_plain_words(app: Starlette, agent: GuichetClient) -> None:
    file(app, "corbas", "camille@example.org")
    await agent.get("/agents/corbas/demandes", params={"q": "MSG"})
    await agent.get("/agents/corbas/demandes.csv")
    async with GuichetClient(app) as citizen:
        sign_in_citizen(citizen, email="camille@example.org")
        accesses = (await citizen.get("/api/v1/me/access-log", headers={"Accept-Language": "en"})).json()["accesses"]
    said = {access["what"] for access in accesses}
    assert {"Found by a search in the Corbas queue by an agent", "Exported from the Corbas queue by an agent"} <= said


async def test_an_auditor_finds_listings_by_the_persons_address(app: Starlette, agent: GuichetClient) -> None:
    file(app, "corbas", "one@example.org")
    file(app, "corbas", "two@example.org")
    await agent.get("/agents/corbas/demandes")
    async with GuichetClient(app) as auditor:
        await sign_in_staff(auditor, "alex.auditor", "auditor")
        found = await auditor.get("/api/v1/audit/entries", params={"citizen": "one@example.org", "purpose": "controle",
                                                                   "action": "request.list"})  # fmt: skip
    assert found.status_code == 200, found.text
    entries = found.json()["entries"]
    assert len(entries) == 1 and entries[0]["subject"] == subject(app, "one@example.org")


def test_a_listing_entry_is_only_a_list_a_search_or_an_export() -> None:
    with pytest.raises(InvalidEvent, match="is not a listing"):
        listing("request.read", Actor("staff:1", "agent"), commune="corbas", service="contact", subject="0" * 32,
                purpose="instruction", origin="web 192.0.2.1")  # fmt: skip
