"""A citizen downloads everything the gateway holds about them, and nothing about anyone else."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from sqlmodel import select
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.audit.events import pseudonym
from gateway.demo.form_filling import citizen_caller
from gateway.demo.staff import staff_caller
from gateway.identity import staff as staff_accounts
from gateway.models import AuditEntry, Citizen, LocalAccount
from gateway.requests.backoffice.commands import BackOfficeCommands
from gateway.requests.caller import Caller
from gateway.requests.lifecycle import CitizenRequests
from gateway.requests.submission_keys import new_submission_key
from gateway.testing import ConfigFolder, GuichetClient, sign_in_citizen
from tests.plugins import papers

PDF = b"%PDF-1.4\n% preuve de Camille\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
OTHER_PDF = b"%PDF-1.4\n% preuve de Dominique\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PAGE, ARCHIVE = "/mon-compte/donnees", "/mon-compte/donnees/archive"


@pytest.fixture
def app(guichet_config: ConfigFolder, guichet_database_url: str) -> Iterator[Starlette]:
    services = guichet_config.read("communes/venissieux.toml")["services"]
    guichet_config.set_commune("venissieux", services={**services, "papers": {}})
    guichet_config.set_gateway(database={"url": guichet_database_url})
    application = create_app(guichet_config.path, extra_plugins=[("papers", papers)])
    yield application
    application.state.db.dispose()


@pytest_asyncio.fixture
async def client(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as http:
        yield http


def caller_for(app: Starlette, citizen_id: int) -> Caller:
    with app.state.db.session() as session:
        citizen = session.get(Citizen, citizen_id)
    assert citizen is not None
    return citizen_caller(citizen)


def filed_with_proof(app: Starlette, caller: Caller, topic: str, data: bytes) -> str:
    people = CitizenRequests(app.state.db, app.state.registry)
    draft = people.start_draft(caller, "venissieux", "papers", submission_key=new_submission_key())
    people.attach(caller, draft.public_id, "proof", "preuve.pdf", data)
    submitted = people.submit(caller, draft.public_id, {"topic": topic})
    assert not submitted.errors and submitted.request.reference is not None
    return submitted.request.reference


def agent(app: Starlette) -> Caller:
    grant = staff_accounts.parse_grant("agent:venissieux")
    with app.state.db.session() as session:
        staff = staff_accounts.create(session, username="agent.v", display_name="Agent V", email="v@guichet.example",
                                      password="a long enough test password", grants=[grant])  # fmt: skip
    return staff_caller(staff, [grant], origin="test")


async def download(client: GuichetClient) -> tuple[dict[str, Any], zipfile.ZipFile]:
    answer = await client.submit(ARCHIVE, {}, page=PAGE)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    return json.loads(archive.read("data.json").decode("utf-8")), archive


@pytest.fixture
def two_citizens(app: Starlette, client: GuichetClient) -> tuple[str, str]:
    """The signed-in citizen and another one, each with a request and a proof; returns their references."""
    mine = sign_in_citizen(client, given_name="Camille", family_name="Exemple", email="camille@example.org")
    with app.state.db.session() as session:
        other = Citizen(public_id="f" * 32, issuer="https://idp.test", sub="other", given_name="Dominique",
                        family_name="Autre", email="dominique@example.org", created_at=datetime.now(UTC))  # fmt: skip
        session.add(other)
        session.flush()
        assert other.id is not None
        other_id = other.id
    return (
        filed_with_proof(app, caller_for(app, mine), "Mon justificatif", PDF),
        filed_with_proof(app, caller_for(app, other_id), "Celui de Dominique", OTHER_PDF),
    )


async def test_the_page_says_what_the_archive_holds_including_internal_notes(
    client: GuichetClient, app: Starlette
) -> None:
    sign_in_citizen(client)
    page = await client.get(PAGE)
    assert page.status_code == 200
    assert "notes internes" in page.text
    assert 'action="/mon-compte/donnees/archive"' in page.text and 'name="csrftoken"' in page.text


async def test_the_archive_holds_the_citizens_account_and_requests_and_not_another_citizens(
    client: GuichetClient, two_citizens: tuple[str, str]
) -> None:
    mine, theirs = two_citizens
    data, archive = await download(client)
    assert data["account"]["given_name"] == "Camille" and data["account"]["email"] == "camille@example.org"
    assert [request["reference"] for request in data["requests"]] == [mine]
    assert data["requests"][0]["form"] == {"topic": "Mon justificatif"}
    text = json.dumps(data, ensure_ascii=False)
    assert theirs not in text and "Dominique" not in text
    assert not any(theirs in name for name in archive.namelist())


async def test_the_archive_holds_the_messages_written_to_the_citizen_and_not_to_another(
    client: GuichetClient, two_citizens: tuple[str, str]
) -> None:
    mine, theirs = two_citizens
    data, _archive = await download(client)
    assert [message["to"] for message in data["messages"]] == ["camille@example.org"]
    receipt = data["messages"][0]
    assert mine in receipt["subject"] and receipt["state"] == "pending" and receipt["sent_at"] is None
    assert theirs not in json.dumps(data["messages"], ensure_ascii=False)


async def test_the_archive_leaves_out_mail_to_an_address_the_provider_did_not_check(
    client: GuichetClient, app: Starlette
) -> None:
    async with GuichetClient(app) as anonymous:
        await anonymous.submit("/venissieux/contact", {"name": "Quelqu'un", "email": "camille@example.org",
                                                       "topic": "autre", "message": "Un message."})  # fmt: skip
    sign_in_citizen(client, email="camille@example.org", email_verified=False)
    data, _archive = await download(client)
    assert data["messages"] == [] and data["access_log"] == []


async def test_the_archive_holds_the_attached_files_under_the_request_reference(
    client: GuichetClient, two_citizens: tuple[str, str]
) -> None:
    mine, _theirs = two_citizens
    data, archive = await download(client)
    path = f"attachments/{mine}/preuve.pdf"
    assert sorted(archive.namelist()) == sorted(["data.json", path])
    assert archive.read(path) == PDF
    assert data["requests"][0]["attachments"][0]["file"] == path


async def test_the_archive_includes_agents_internal_notes_marked_as_internal(
    client: GuichetClient, app: Starlette, two_citizens: tuple[str, str]
) -> None:
    mine, _theirs = two_citizens
    commands = BackOfficeCommands(app.state.db, app.state.registry)
    commands.note(agent(app), "venissieux", mine, "Pièce lisible, à valider.")
    data, _archive = await download(client)
    notes = [line for line in data["requests"][0]["history"] if line["kind"] == "note"]
    assert notes == [notes[0]] and notes[0]["text"] == "Pièce lisible, à valider." and notes[0]["internal"] is True


async def test_the_archive_holds_the_access_log(client: GuichetClient, two_citizens: tuple[str, str]) -> None:
    data, _archive = await download(client)
    assert "Dépôt de votre demande" in {access["what"] for access in data["access_log"]}


async def test_the_archive_holds_no_password_hash(client: GuichetClient, app: Starlette) -> None:
    citizen_id = sign_in_citizen(client)
    with app.state.db.session() as session:
        session.add(LocalAccount(citizen_id=citizen_id, email="camille@example.org", password_hash="$argon2id$secret",
                                 created_at=datetime.now(UTC)))  # fmt: skip
    data, archive = await download(client)
    assert data["account"]["local_account"]["email"] == "camille@example.org"
    assert b"argon2id" not in archive.read("data.json") and "password" not in json.dumps(data)


async def test_downloading_is_recorded_in_the_audit_log_with_the_citizen_as_actor_and_subject(
    client: GuichetClient, app: Starlette
) -> None:
    citizen_id = sign_in_citizen(client)
    await download(client)
    caller = caller_for(app, citizen_id)
    with app.state.db.session() as session:
        [entry] = session.exec(select(AuditEntry).where(AuditEntry.action == "account.export")).all()
    secret = app.state.registry.settings.secret_key
    assert (entry.actor_id, entry.actor_role) == (caller.actor.id, "citizen")
    assert entry.subject == pseudonym(secret, "citizen", caller.citizen_public_id or "")
    assert entry.resource == "personal-data.zip"


async def test_an_anonymous_visitor_is_sent_to_sign_in(client: GuichetClient) -> None:
    answer = await client.get(PAGE)
    assert answer.status_code == 303 and answer.headers["location"] == "/connexion?suite=/mon-compte/donnees"


async def test_an_anonymous_post_is_sent_to_sign_in_and_exports_nothing(client: GuichetClient, app: Starlette) -> None:
    token = await client.csrf_token("/")
    answer = await client.post(ARCHIVE, data={"csrftoken": token})
    assert answer.status_code == 303 and answer.headers["location"].startswith("/connexion")
    with app.state.db.session() as session:
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "account.export")).all() == []


async def test_the_archive_is_refused_without_the_csrf_token(client: GuichetClient, app: Starlette) -> None:
    sign_in_citizen(client)
    await client.get(PAGE)
    answer = await client.post(ARCHIVE, data={"csrftoken": "forged"})
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/html")
    with app.state.db.session() as session:
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "account.export")).all() == []


async def test_the_access_log_names_the_download_in_plain_words(client: GuichetClient) -> None:
    sign_in_citizen(client)
    await download(client)
    page = await client.get("/mon-compte/acces")
    assert "Téléchargement de toutes vos données (RGPD)" in page.text


async def test_the_archive_shows_the_citizens_own_created_line_as_theirs_not_internal(
    client: GuichetClient, two_citizens: tuple[str, str]
) -> None:
    data, _archive = await download(client)
    created = [line for line in data["requests"][0]["history"] if line["kind"] == "created"]
    assert created == [created[0]] and created[0]["by"] == "citizen" and created[0]["internal"] is False
