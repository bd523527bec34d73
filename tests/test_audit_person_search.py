"""The auditor finds a person from any of their identifiers, within the communes they may read, and says why.

An e-mail address, an identity provider's subject or an account's
``citizen:<id>`` resolves to every pseudonym the person's records are under
(gateway/identity/person_lookup.py); the resolution is recorded with the
auditor's purpose; a commune auditor never sees another commune's entries
nor learns of pseudonyms only other communes hold.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest_asyncio
from sqlalchemy import select
from starlette.applications import Starlette

from gateway.audit.events import AuditEvent, pseudonym
from gateway.audit.log import record
from gateway.audit.purposes import purpose_text
from gateway.audit.search_purposes import AUDIT_PURPOSES
from gateway.identity.local_accounts import ISSUER as LOCAL_ISSUER
from gateway.models import AuditEntry, Citizen, LocalAccount
from gateway.testing import ConfigFolder, GuichetClient, sign_in_citizen, sign_in_staff, staff_member

LEA = "lea@example.org"  # a local account, address confirmed
NOE = "noe@example.org"  # a local account, address never confirmed
LEA_ID, NOE_ID, SAM_ID = "a" * 32, "b" * 32, "c" * 32
SAM_SUBJECT = "fc-sub-123"  # a person signed in through an identity provider


def _entry(session: object, commune: str, reference: str, subject: str, *, action: str = "request.read",
           actor: str = "staff:7", outcome: str = "success") -> None:  # fmt: skip
    record(session, AuditEvent(action=action, actor_id=actor, actor_role="agent", commune=commune,  # type: ignore[arg-type]
                               service="contact", resource=f"request/{reference}", subject=subject,
                               purpose="instruction", origin="web 192.0.2.1", outcome=outcome))  # type: ignore[arg-type]  # fmt: skip


@pytest_asyncio.fixture
async def app(guichet_config: ConfigFolder, guichet_database_url: str) -> AsyncIterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    application = __import__("gateway.app", fromlist=["create_app"]).create_app(guichet_config.path)
    secret = application.state.registry.settings.secret_key
    now = datetime.now(UTC)
    with application.state.db.session() as session:
        for public_id, email, verified in ((LEA_ID, LEA, now), (NOE_ID, NOE, None)):
            citizen = Citizen(public_id=public_id, issuer=LOCAL_ISSUER, sub=public_id[:8], created_at=now)
            session.add(citizen)
            session.flush()
            assert citizen.id is not None
            session.add(
                LocalAccount(
                    citizen_id=citizen.id, email=email, password_hash="-", email_verified_at=verified, created_at=now
                )
            )
        session.add(Citizen(public_id=SAM_ID, issuer="https://fc.test", sub=SAM_SUBJECT, created_at=now))
        _entry(session, "corbas", "MSG-2026-000001", pseudonym(secret, "citizen", LEA_ID))
        _entry(session, "givors", "MSG-2026-000001", pseudonym(secret, "citizen", LEA_ID))
        _entry(session, "corbas", "MSG-2026-000002", pseudonym(secret, "email", LEA), action="request.create")
        _entry(session, "corbas", "MSG-2026-000003", pseudonym(secret, "email", "other@example.org"))
        _entry(session, "corbas", "MSG-2026-000004", pseudonym(secret, "citizen", NOE_ID))
        _entry(session, "corbas", "MSG-2026-000005", pseudonym(secret, "email", NOE))
        _entry(session, "givors", "MSG-2026-000006", pseudonym(secret, "citizen", SAM_ID))
    yield application
    application.state.db.dispose()


@pytest_asyncio.fixture
async def syndicate(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as http:
        await sign_in_staff(http, "alex.auditor", "auditor")
        yield http


@pytest_asyncio.fixture
async def corbas(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as http:
        await sign_in_staff(http, "claude.auditor", "auditor:corbas")
        yield http


async def people(client: GuichetClient, identifier: str, **params: str) -> dict[str, list[dict[str, str]]]:
    answer = await client.get("/api/v1/audit/people", params={"citizen": identifier, "purpose": "droits", **params})
    assert answer.status_code == 200, answer.text
    body: dict[str, list[dict[str, str]]] = answer.json()
    return body


def references(body: dict[str, list[dict[str, str]]]) -> list[tuple[str, str]]:
    return [(entry["commune"], entry["resource"].removeprefix("request/")) for entry in body["entries"]]


def last_entries(app: Starlette, count: int) -> list[AuditEntry]:
    with app.state.db.session() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(count))  # type: ignore[attr-defined]
        return list(reversed(list(rows)))


async def test_an_account_address_finds_the_signed_in_requests_and_those_filed_without_an_account(
    syndicate: GuichetClient,
) -> None:
    body = await people(syndicate, LEA)
    assert references(body) == [("corbas", "MSG-2026-000001"), ("givors", "MSG-2026-000001"),
                                ("corbas", "MSG-2026-000002")]  # fmt: skip


async def test_the_address_is_matched_whatever_its_case(syndicate: GuichetClient) -> None:
    assert len((await people(syndicate, "  Lea@Example.ORG "))["entries"]) == 3


async def test_an_unconfirmed_address_does_not_join_what_was_filed_without_an_account(
    syndicate: GuichetClient,
) -> None:
    assert references(await people(syndicate, NOE)) == [("corbas", "MSG-2026-000004")]


async def test_the_page_offers_the_unconfirmed_address_filings_as_a_search_of_their_own(
    syndicate: GuichetClient, app: Starlette
) -> None:
    page = await syndicate.get("/audit/personne", params={"citizen": NOE, "purpose": "droits"})
    address = pseudonym(app.state.registry.settings.secret_key, "email", NOE)
    assert page.status_code == 200
    assert f"/audit/personne?citizen={address}&amp;purpose=droits" in page.text


async def test_an_address_without_an_account_finds_what_was_filed_with_it(syndicate: GuichetClient) -> None:
    assert references(await people(syndicate, "other@example.org")) == [("corbas", "MSG-2026-000003")]


async def test_an_identity_providers_subject_finds_the_persons_requests(syndicate: GuichetClient) -> None:
    assert references(await people(syndicate, SAM_SUBJECT)) == [("givors", "MSG-2026-000006")]


async def test_an_account_id_finds_the_persons_requests(syndicate: GuichetClient) -> None:
    assert len((await people(syndicate, f"citizen:{LEA_ID}"))["entries"]) == 3


async def test_the_syndicate_auditor_is_told_what_each_pseudonym_stands_for(
    syndicate: GuichetClient, app: Starlette
) -> None:
    secret = app.state.registry.settings.secret_key
    kinds = {item["pseudonym"]: item["kind"] for item in (await people(syndicate, LEA))["pseudonyms"]}
    assert kinds[pseudonym(secret, "citizen", LEA_ID)] == "account"
    assert kinds[pseudonym(secret, "email", LEA)] == "confirmed-address"


async def test_a_commune_auditor_sees_none_of_the_persons_entries_in_another_commune(corbas: GuichetClient) -> None:
    assert {commune for commune, _ in references(await people(corbas, LEA))} == {"corbas"}


async def test_a_commune_auditor_resolves_nothing_a_person_did_only_in_another_commune(corbas: GuichetClient) -> None:
    body = await people(corbas, SAM_SUBJECT)
    assert body == {"pseudonyms": [], "entries": []}


async def test_a_commune_auditor_is_not_told_of_an_unconfirmed_account(corbas: GuichetClient) -> None:
    page = await corbas.get("/audit/personne", params={"citizen": NOE, "purpose": "droits"})
    assert page.status_code == 200 and "sans l'avoir confirmée" not in page.text


async def test_the_person_page_shows_the_entries_oldest_first(syndicate: GuichetClient) -> None:
    page = await syndicate.get("/audit/personne", params={"citizen": LEA, "purpose": "droits"})
    assert page.status_code == 200
    assert page.text.index("MSG-2026-000001") < page.text.index("MSG-2026-000002")


async def test_the_resolution_is_recorded_once_per_pseudonym_with_the_stated_purpose(
    syndicate: GuichetClient, app: Starlette
) -> None:
    await syndicate.get("/audit/personne", params={"citizen": LEA, "purpose": "reclamation"})
    secret = app.state.registry.settings.secret_key
    resolved = [entry for entry in last_entries(app, 3) if entry.action == "audit.resolve"]
    assert {entry.subject for entry in resolved} == {pseudonym(secret, "citizen", LEA_ID),
                                                      pseudonym(secret, "email", LEA)}  # fmt: skip
    assert {(entry.actor_role, entry.purpose) for entry in resolved} == {("auditor", AUDIT_PURPOSES["reclamation"].fr)}


async def test_the_identifier_the_auditor_typed_never_enters_the_log(syndicate: GuichetClient, app: Starlette) -> None:
    await syndicate.get("/audit/personne", params={"citizen": LEA, "purpose": "droits"})
    assert not [entry for entry in last_entries(app, 3) if LEA in entry.encoded]


async def test_a_commune_auditors_resolution_is_recorded_under_their_commune(
    corbas: GuichetClient, app: Starlette
) -> None:
    await corbas.get("/audit/personne", params={"citizen": LEA, "purpose": "droits"})
    assert {entry.commune for entry in last_entries(app, 3)} == {"corbas"}


async def test_searching_for_a_person_without_a_purpose_is_a_clear_400(syndicate: GuichetClient) -> None:
    answer = await syndicate.get("/audit", params={"citizen": LEA})
    assert answer.status_code == 400 and "purpose" in answer.text


async def test_an_unknown_purpose_is_a_clear_400(syndicate: GuichetClient) -> None:
    answer = await syndicate.get("/api/v1/audit/people", params={"citizen": LEA, "purpose": "curiosite"})
    assert answer.status_code == 400 and "purpose" in answer.json()["detail"]


async def test_the_people_api_without_an_identifier_is_a_clear_400(syndicate: GuichetClient) -> None:
    answer = await syndicate.get("/api/v1/audit/people", params={"purpose": "droits"})
    assert answer.status_code == 400 and "citizen" in answer.json()["detail"]


async def test_the_people_api_refuses_another_order(syndicate: GuichetClient) -> None:
    answer = await syndicate.get("/api/v1/audit/people", params={"citizen": LEA, "purpose": "droits",
                                                                  "order": "newest"})  # fmt: skip
    assert answer.status_code == 400 and "order" in answer.json()["detail"]


async def test_the_person_page_without_an_identifier_only_asks(syndicate: GuichetClient, app: Starlette) -> None:
    before = last_entries(app, 1)[0].seq
    page = await syndicate.get("/audit/personne")
    assert page.status_code == 200 and 'name="purpose"' in page.text
    assert last_entries(app, 1)[0].seq == before


async def test_a_person_search_combines_with_the_other_filters(syndicate: GuichetClient) -> None:
    body = await people(syndicate, LEA, commune="corbas", action="request.create")
    assert references(body) == [("corbas", "MSG-2026-000002")]


async def test_a_control_character_in_an_identifier_is_a_clear_400(syndicate: GuichetClient) -> None:
    answer = await syndicate.get("/api/v1/audit/people", params={"citizen": "lea\x00@example.org", "purpose": "droits"})
    assert answer.status_code == 400 and "citizen" in answer.json()["detail"]


async def test_an_agent_is_found_by_their_username(syndicate: GuichetClient, app: Starlette) -> None:
    agent = staff_member(app, "dom.agent", "agent:corbas:contact")
    with app.state.db.session() as session:
        _entry(session, "corbas", "MSG-2026-000007", pseudonym(b"x", "email", "x"), actor=agent.actor_id)
    answer = await syndicate.get("/api/v1/audit/entries", params={"agent": "Dom.Agent"})
    assert [entry["resource"] for entry in answer.json()["entries"]] == ["request/MSG-2026-000007"]


async def test_the_person_sees_in_their_access_log_that_an_auditor_looked_them_up(
    syndicate: GuichetClient, app: Starlette
) -> None:
    async with GuichetClient(app) as person:
        sign_in_citizen(person, email="sam@example.org")
        await syndicate.get("/audit/personne", params={"citizen": "sam@example.org", "purpose": "droits"})
        page = await person.get("/mon-compte/acces")
    assert "Recherche de vos identifiants par un auditeur" in page.text


async def test_the_person_page_speaks_english_purposes_included(syndicate: GuichetClient) -> None:
    page = await syndicate.get("/audit/personne", params={"citizen": LEA, "purpose": "droits"},
                               headers={"Accept-Language": "en"})  # fmt: skip
    text = html.unescape(page.text)
    assert "A person's history" in text and "answering a data subject's request" in text
    assert "adresse confirmée" not in text


def test_every_purpose_an_auditor_states_has_its_english_words() -> None:
    for text in AUDIT_PURPOSES.values():
        assert purpose_text(text.fr, None, "en") == text.en
