"""The auditor console: who may search, what they see, and that searching is itself recorded."""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest_asyncio
from sqlalchemy import select
from starlette.applications import Starlette

from gateway.audit.checkpoint import verify_note
from gateway.audit.cosignature import generate_cosigner
from gateway.audit.events import AuditEvent, pseudonym
from gateway.audit.keys import signer_for
from gateway.audit.log import record
from gateway.audit.merkle import leaf_hash, verify_inclusion
from gateway.audit.sealing import seal
from gateway.models import AuditCosignature, AuditEntry
from gateway.testing import ConfigFolder, GuichetClient, sign_in_citizen, sign_in_staff

EMAIL = "camille@example.org"


@pytest_asyncio.fixture
async def app(guichet_config: ConfigFolder, guichet_database_url: str) -> AsyncIterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    application = __import__("gateway.app", fromlist=["create_app"]).create_app(guichet_config.path)
    secret = application.state.registry.settings.secret_key
    subject = pseudonym(secret, "email", EMAIL)
    with application.state.db.session() as session:
        for commune, service in (("corbas", "contact"), ("givors", "contact"), ("corbas", "contact")):
            record(session, AuditEvent(action="request.read", actor_id="staff:99", actor_role="agent", commune=commune,
                                       service=service, resource="request/MSG-2026-000001", subject=subject,
                                       purpose="instruction", origin="web 192.0.2.1"))  # fmt: skip
    yield application
    application.state.db.dispose()


@pytest_asyncio.fixture
async def client(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as http:
        yield http


def actions(app: Starlette) -> list[tuple[str, str]]:
    with app.state.db.session() as session:
        return [(row.action, row.outcome) for row in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]


async def test_syndicate_auditor_finds_a_citizens_entries_by_address(client: GuichetClient) -> None:
    await sign_in_staff(client, "alex.auditor", "auditor")
    page = await client.get("/audit", params={"citizen": EMAIL, "purpose": "controle"})
    assert page.status_code == 200
    assert "3 entrées" in page.text


async def test_commune_auditor_sees_only_their_commune(client: GuichetClient) -> None:
    await sign_in_staff(client, "claude.auditor", "auditor:corbas")
    page = await client.get("/audit", params={"action": "request.read"})
    assert "2 entrées" in page.text and "givors" not in page.text.split("<tbody>")[1]


async def test_commune_auditor_asking_for_another_commune_is_refused_and_recorded(
    client: GuichetClient, app: Starlette
) -> None:
    await sign_in_staff(client, "claude.auditor", "auditor:corbas")
    answer = await client.get("/audit", params={"commune": "givors"})
    assert answer.status_code == 403
    assert actions(app)[-1] == ("access.denied", "denied")


async def test_agent_is_refused_and_the_denial_recorded(client: GuichetClient, app: Starlette) -> None:
    await sign_in_staff(client, "dom.agent", "agent:corbas:contact")
    answer = await client.get("/audit")
    assert answer.status_code == 403
    assert actions(app)[-1] == ("access.denied", "denied")


async def test_citizen_is_refused_and_the_denial_recorded(client: GuichetClient, app: Starlette) -> None:
    sign_in_citizen(client)
    for path in ("/audit", "/api/v1/audit/entries"):
        answer = await client.get(path)
        assert answer.status_code == 403
        assert actions(app)[-1] == ("access.denied", "denied")


async def test_visitor_is_sent_to_sign_in(client: GuichetClient) -> None:
    answer = await client.get("/audit")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/agents/connexion")


async def test_api_without_credentials_is_401(client: GuichetClient) -> None:
    answer = await client.get("/api/v1/audit/entries")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")


async def test_nonsense_parameters_are_a_clear_400(client: GuichetClient) -> None:
    await sign_in_staff(client, "alex.auditor", "auditor")
    for params, fault in (
        ({"since": "yesterday"}, "since"),
        ({"outcome": "maybe"}, "outcome"),
        ({"limit": "100000"}, "limit"),
        ({"colour": "red"}, "unknown parameter"),
        ({"since": "2026-02-01", "until": "2026-01-01"}, "period"),
    ):
        answer = await client.get("/audit", params=params)
        assert answer.status_code == 400, params
        assert fault in answer.text


async def test_a_number_is_not_a_date_for_the_period(client: GuichetClient) -> None:
    """pydantic reads 0.5 as a Unix time; the API documents a date, and says so when it gets something else."""
    await sign_in_staff(client, "alex.auditor", "auditor")
    answer = await client.get("/api/v1/audit/entries", params={"until": "0.5"})
    assert answer.status_code == 400
    assert "until" in answer.json()["detail"]


async def test_csv_search_answers_the_documented_media_type(client: GuichetClient) -> None:
    await sign_in_staff(client, "alex.auditor", "auditor")
    answer = await client.get("/api/v1/audit/entries", params={"format": "csv"})
    document = (await client.get("/openapi.json")).json()
    documented = document["paths"]["/api/v1/audit/entries"]["get"]["responses"]["200"]["content"]
    assert answer.status_code == 200
    assert answer.headers["content-type"].split(";")[0] in documented


async def test_searches_are_recorded_with_the_searched_person_as_subject(client: GuichetClient, app: Starlette) -> None:
    await sign_in_staff(client, "alex.auditor", "auditor")
    await client.get("/audit", params={"citizen": EMAIL, "purpose": "controle"})
    with app.state.db.session() as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()  # type: ignore[attr-defined]
    assert (last.action, last.actor_role) == ("audit.search", "auditor")
    assert last.subject == pseudonym(app.state.registry.settings.secret_key, "email", EMAIL)
    assert EMAIL not in last.encoded


async def test_csv_export_is_recorded_and_defuses_formulas(client: GuichetClient, app: Starlette) -> None:
    await sign_in_staff(client, "alex.auditor", "auditor")
    answer = await client.get("/audit/export.csv", params={"citizen": EMAIL, "purpose": "controle"})
    assert answer.headers["content-disposition"] == 'attachment; filename="audit.csv"'
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0][0] == "seq" and len(rows) == 4
    assert actions(app)[-1] == ("audit.export", "success")


async def test_json_export_lists_the_entries(client: GuichetClient) -> None:
    await sign_in_staff(client, "alex.auditor", "auditor")
    answer = await client.get("/audit/export.json", params={"commune": "givors"})
    assert [entry["commune"] for entry in answer.json()["entries"]] == ["givors"]


async def test_entry_page_shows_a_proof_that_verifies(client: GuichetClient, app: Starlette) -> None:
    settings = app.state.registry.settings
    signer = signer_for(settings)
    seal(app.state.db, signer, settings.audit_origin)
    await sign_in_staff(client, "alex.auditor", "auditor")
    answer = await client.get("/api/v1/audit/entries/1", headers={"Accept": "application/json"})
    assert answer.status_code == 200
    body = answer.json()
    checkpoint = verify_note(body["proof"]["checkpoint"], [signer.verifier()])
    path = [base64.b64decode(node) for node in body["proof"]["inclusion_proof"]]
    assert verify_inclusion(1, checkpoint.size, leaf_hash(body["text"].encode()), path, checkpoint.root_hash)
    page = await client.get("/audit/entrees/1")
    assert "Preuve d'inclusion" in page.text and body["proof"]["inclusion_proof"][0] in page.text


async def test_entry_outside_the_scope_is_not_found(client: GuichetClient) -> None:
    await sign_in_staff(client, "claude.auditor", "auditor:corbas")
    assert (await client.get("/audit/entrees/1")).status_code == 404  # entry 1 is Givors'


async def test_api_token_with_the_auditor_scope_can_search(client: GuichetClient, app: Starlette) -> None:
    from datetime import timedelta

    from gateway.identity import staff as staff_accounts
    from gateway.identity.tokens import create_token

    await sign_in_staff(client, "alex.auditor", "auditor")
    with app.state.db.session() as session:
        staff = staff_accounts.find(session, "alex.auditor")
        assert staff is not None
        _row, token = create_token(session, staff, name="siem", scopes=["auditor"], lifetime=timedelta(days=1))
    async with GuichetClient(app) as machine:
        answer = await machine.get("/api/v1/audit/entries", params={"commune": "corbas"},
                                   headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert answer.status_code == 200 and len(answer.json()["entries"]) == 2


async def test_console_shows_which_witnesses_cosigned_which_checkpoint(app: Starlette, client: GuichetClient) -> None:
    settings = app.state.registry.settings
    checkpoint = seal(app.state.db, signer_for(settings), settings.audit_origin)
    witness = generate_cosigner("witness.test/w1")
    line = witness.cosign(checkpoint.note.split("\n\n")[0] + "\n", 1_764_763_200).line()
    with app.state.db.session() as session:
        session.add(AuditCosignature(size=checkpoint.size, witness="temoin-corbas", line=line,
                                     cosigned_at=datetime(2025, 12, 3, 12, 0, tzinfo=UTC),
                                     created_at=datetime.now(UTC)))  # fmt: skip
    await sign_in_staff(client, "alex.auditor", "auditor")
    page = await client.get("/audit")
    assert "Points de contrôle et témoins" in page.text
    assert "temoin-corbas, le 3 déc. 2025 à 12:00:00" in page.text
