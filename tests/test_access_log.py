"""A signed-in citizen's access log: every access to their data, by role and commune, downloadable."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from html import unescape

import pytest_asyncio
from sqlalchemy import select
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.audit.events import AuditEvent, pseudonym
from gateway.audit.log import record
from gateway.identity import staff as staff_accounts
from gateway.models import AuditEntry, Citizen
from gateway.testing import ConfigFolder, GuichetClient, sign_in_citizen, sign_in_staff

EMAIL = "camille.exemple@example.org"
CONTACT = {"name": "Camille Exemple", "email": EMAIL, "topic": "autre", "message": "Une question sur la fête."}


@pytest_asyncio.fixture
async def app(guichet_config: ConfigFolder, guichet_database_url: str) -> AsyncIterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    application = create_app(guichet_config.path)
    yield application
    application.state.db.dispose()


@pytest_asyncio.fixture
async def client(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as http:
        yield http


def agent_read(app: Starlette, commune: str, subject: str) -> None:
    """An agent of ``commune`` reads the citizen's request (the back office will do this for real)."""
    with app.state.db.session() as session:
        staff = staff_accounts.create(session, username=f"agent.{commune}", display_name=f"Dominique Agent {commune}",
                                      email=f"agent@{commune}.example", password="a long enough password",
                                      grants=[staff_accounts.parse_grant(f"agent:{commune}")])  # fmt: skip
        event = AuditEvent(action="request.read", actor_id=f"staff:{staff.id}", actor_role="agent", commune=commune,
                           service="contact", resource="request/MSG-2026-000001", subject=subject,
                           purpose="Répondre à votre message", origin="web 192.0.2.9")  # fmt: skip
        record(session, event)


def citizen_subject(app: Starlette, citizen_id: int) -> str:
    with app.state.db.session() as session:
        citizen = session.get(Citizen, citizen_id)
        assert citizen is not None
        return pseudonym(app.state.registry.settings.secret_key, "citizen", citizen.public_id)


async def test_request_filed_while_signed_in_appears_in_the_log(client: GuichetClient) -> None:
    sign_in_citizen(client)
    await client.submit("/corbas/contact", CONTACT)
    page = await client.get("/mon-compte/acces")
    assert page.status_code == 200
    assert "Dépôt de votre demande" in page.text and "Écrire à la mairie" in page.text and "Corbas" in page.text


async def test_agents_are_shown_by_role_and_commune_only(client: GuichetClient, app: Starlette) -> None:
    citizen_id = sign_in_citizen(client)
    agent_read(app, "corbas", citizen_subject(app, citizen_id))
    page = await client.get("/mon-compte/acces")
    assert "un agent de Corbas" in page.text
    assert "Dominique Agent" not in page.text


async def test_commune_may_choose_to_show_agents_names(client: GuichetClient, app: Starlette) -> None:
    citizen_id = sign_in_citizen(client)
    agent_read(app, "givors", citizen_subject(app, citizen_id))
    page = await client.get("/mon-compte/acces")
    assert "un agent de Givors : Dominique Agent givors" in page.text


async def test_accesses_recorded_under_the_verified_address_are_included(client: GuichetClient, app: Starlette) -> None:
    async with GuichetClient(app) as anonymous:
        await anonymous.submit("/givors/contact", CONTACT)  # before signing in, same address
    sign_in_citizen(client, email=EMAIL)
    page = await client.get("/mon-compte/acces")
    assert "Givors" in page.text and "vous-même (sans connexion)" in page.text


async def test_an_address_the_identity_provider_did_not_check_finds_nothing_filed_under_it(
    client: GuichetClient, app: Starlette
) -> None:
    async with GuichetClient(app) as anonymous:
        await anonymous.submit("/givors/contact", CONTACT)  # someone files with this address, without an account
    sign_in_citizen(client, email=EMAIL, email_verified=False)  # a provider that let its user type any address
    page = await client.get("/mon-compte/acces")
    assert "Aucun accès à vos données" in page.text and "Givors" not in page.text


async def test_the_purposes_are_shown_in_the_readers_language(client: GuichetClient, app: Starlette) -> None:
    async with GuichetClient(app) as anonymous:
        await anonymous.submit("/givors/contact", CONTACT)
    sign_in_citizen(client, email=EMAIL)
    page = unescape((await client.get("/mon-compte/acces", headers={"Accept-Language": "en"})).text)
    assert "To answer your message (the commune's public-service mission)" in page
    assert "Répondre à votre message" not in page


async def test_other_citizens_accesses_are_not_shown(client: GuichetClient, app: Starlette) -> None:
    async with GuichetClient(app) as someone_else:
        await someone_else.submit("/givors/contact", {**CONTACT, "email": "dominique@example.org"})
    sign_in_citizen(client, email=EMAIL)
    page = await client.get("/mon-compte/acces")
    assert "Aucun accès à vos données" in page.text


async def test_log_can_be_downloaded_as_csv_and_json(client: GuichetClient) -> None:
    sign_in_citizen(client)
    await client.submit("/corbas/contact", CONTACT)
    as_csv = await client.get("/mon-compte/acces.csv")
    rows = list(csv.reader(io.StringIO(as_csv.text)))
    assert rows[0] == ["time", "commune", "service", "who", "what", "purpose", "outcome", "act"]
    assert as_csv.headers["content-disposition"].startswith("attachment")
    as_json = await client.get("/mon-compte/acces.json")
    assert as_json.json()["accesses"][-1]["what"] == "Dépôt de votre demande"


async def test_looking_at_the_log_is_recorded(client: GuichetClient, app: Starlette) -> None:
    sign_in_citizen(client)
    await client.get("/mon-compte/acces")
    with app.state.db.session() as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()  # type: ignore[attr-defined]
    assert (last.action, last.actor_role) == ("account.read", "citizen")


async def test_visitor_is_sent_to_sign_in(client: GuichetClient) -> None:
    answer = await client.get("/mon-compte/acces")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/connexion")


async def test_api_gives_the_log_to_the_signed_in_citizen(client: GuichetClient) -> None:
    assert (await client.get("/api/v1/me/access-log")).status_code == 401
    sign_in_citizen(client)
    await client.submit("/corbas/contact", CONTACT)
    body = (await client.get("/api/v1/me/access-log", headers={"Accept-Language": "en"})).json()
    assert body["accesses"][0]["what"] == "Your request was filed"


def refused_attempt(app: Starlette, subject: str, actor_id: str, actor_role: str, commune: str = "corbas") -> None:
    """Someone tried to reach the citizen's request and was refused (as the back office or the lifecycle record it)."""
    from gateway.audit.builders import access_denied
    from gateway.audit.events import Actor

    with app.state.db.session() as session:
        record(session, access_denied(Actor(actor_id, actor_role), role="agent", resource="request/MSG-2026-000001",
                                      origin="web 192.0.2.9", commune=commune, service="contact",
                                      attempted="request.read", subject=subject))  # fmt: skip


async def test_another_citizens_refused_attempt_is_shown_in_words(client: GuichetClient, app: Starlette) -> None:
    citizen_id = sign_in_citizen(client)
    refused_attempt(app, citizen_subject(app, citizen_id), "citizen:0123456789abcdef", "citizen")
    page = await client.get("/mon-compte/acces")
    assert "Tentative d'accès à votre demande, refusée" in unescape(page.text)
    assert "une autre personne (connectée)" in page.text
    assert "vous-même" not in page.text
    english = await client.get("/mon-compte/acces", headers={"Accept-Language": "en"})
    assert "A refused attempt to reach your request" in english.text and "someone else (signed in)" in english.text


async def test_an_agents_refused_attempt_names_no_commune(client: GuichetClient, app: Starlette) -> None:
    citizen_id = sign_in_citizen(client)
    refused_attempt(app, citizen_subject(app, citizen_id), "staff:7", "agent")
    page = await client.get("/mon-compte/acces")
    assert "Tentative d'accès à votre demande, refusée" in unescape(page.text)
    assert "un agent de Corbas" not in page.text  # the entry's commune is the target's, not the agent's


FILED_MESSAGE = {**CONTACT, "message": "Une question sur la fête du quartier, samedi."}


def rows_of(page: str) -> list[str]:
    """The access log's table rows (one per act), as text."""
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    return [unescape(row) for row in body.split("<tr>")[1:]]


async def agent_opens_the_request(agent: GuichetClient) -> None:
    """An agent opens the queue, then the request from it, as one visit."""
    queue = await agent.get("/agents/corbas/demandes")
    assert queue.status_code == 200
    assert (await agent.get("/agents/corbas/demandes/MSG-2026-000001")).status_code == 200


async def test_a_submission_through_a_draft_is_one_line_of_your_own(client: GuichetClient) -> None:
    sign_in_citizen(client)
    assert (await client.file_request("corbas", "contact", FILED_MESSAGE)).status_code == 303
    rows = rows_of((await client.get("/mon-compte/acces")).text)
    assert len(rows) == 1 and "vous-même" in rows[0] and "Dépôt de votre demande" in rows[0]
    assert "3 entrées du journal" in rows[0] and "Traitement de votre demande" in rows[0]  # the detail keeps all


async def test_an_agent_opening_a_request_once_is_one_line(client: GuichetClient, app: Starlette) -> None:
    sign_in_citizen(client)
    await client.file_request("corbas", "contact", FILED_MESSAGE)
    async with GuichetClient(app) as agent:
        await sign_in_staff(agent, "ana.agent", "agent:corbas:contact")
        await agent_opens_the_request(agent)
    rows = rows_of((await client.get("/mon-compte/acces")).text)
    assert len(rows) == 2 and "un agent de Corbas" in rows[0] and "Consultation de votre demande" in rows[0]
    assert "Listée dans la file d'attente" in rows[0]  # in the line's detail


async def test_two_visits_of_an_agent_are_two_lines(client: GuichetClient, app: Starlette) -> None:
    sign_in_citizen(client)
    await client.file_request("corbas", "contact", FILED_MESSAGE)
    async with GuichetClient(app) as agent:
        await sign_in_staff(agent, "ana.agent", "agent:corbas:contact")
        await agent_opens_the_request(agent)
        await agent_opens_the_request(agent)
    rows = rows_of((await client.get("/mon-compte/acces")).text)
    assert [("Consultation de votre demande" in row) for row in rows] == [True, True, False]


async def test_the_downloads_keep_every_entry_numbered_with_its_act(client: GuichetClient) -> None:
    sign_in_citizen(client)
    await client.file_request("corbas", "contact", FILED_MESSAGE)
    accesses = (await client.get("/mon-compte/acces.json")).json()["accesses"]
    assert [access["act"] for access in accesses] == [1, 1, 1]
    api = (await client.get("/api/v1/me/access-log")).json()["accesses"]
    assert [access["act"] for access in api] == [2, 1, 1, 1]  # 2: looking at the log in JSON, just before


async def test_an_agent_answering_from_the_request_page_is_one_line_named_by_the_step(
    client: GuichetClient, app: Starlette
) -> None:
    sign_in_citizen(client)
    await client.file_request("corbas", "contact", FILED_MESSAGE)
    case = "/agents/corbas/demandes/MSG-2026-000001"
    async with GuichetClient(app) as agent:
        await sign_in_staff(agent, "ana.agent", "agent:corbas:contact:instructor")
        assert (await agent.get("/agents/corbas/demandes")).status_code == 200
        page = (await agent.get(case)).text
        token = re.search(r'name="csrftoken" value="([^"]+)"', page)
        version = re.search(r'name="version" value="([^"]+)"', page)
        assert token and version
        answered = await agent.post(f"{case}/transition", data={"csrftoken": token.group(1), "transition": "answer",
                                    "version": version.group(1), "comment": "Voici la réponse."})  # fmt: skip
        assert answered.status_code == 303
        assert (await agent.get(answered.headers["location"])).status_code == 200  # the page shown again
    rows = rows_of((await client.get("/mon-compte/acces")).text)
    assert len(rows) == 2 and "Changement d'étape de votre demande" in rows[0] and "un agent de Corbas" in rows[0]
