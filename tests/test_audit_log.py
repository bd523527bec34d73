"""The audit interface: what an entry holds, that it commits with its action, and order under concurrency."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import pytest_asyncio
from sqlalchemy import delete, select, text
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.audit.events import ANONYMOUS, AuditEvent, InvalidEvent, decode, encode, pseudonym
from gateway.audit.log import record
from gateway.db import Database
from gateway.models import AuditEntry, AuditHead, ServiceRequest
from gateway.testing import ConfigFolder, GuichetClient
from tests.plugins import auditing, fragile

CONTACT = {
    "name": "Camille Exemple",
    "email": "Camille@Example.org",
    "topic": "voirie",
    "message": "Le lampadaire est éteint.",
}


def entries(db: Database) -> list[AuditEntry]:
    with db.session(all_communes=True) as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))  # type: ignore[arg-type]


def requests(db: Database) -> list[ServiceRequest]:
    with db.session(all_communes=True) as session:
        return list(session.scalars(select(ServiceRequest)))


def event(number: int = 0, **changes: object) -> AuditEvent:
    fields: dict[str, object] = {
        "action": "request.read",
        "actor_id": f"agent:{number}",
        "actor_role": "agent",
        "resource": f"request/MSG-2026-{number:06d}",
        "purpose": "instruction de la demande",
        "origin": "web 192.0.2.1",
        "commune": "corbas",
    }
    fields.update(changes)
    return AuditEvent(**fields)  # type: ignore[arg-type]


@pytest_asyncio.fixture
async def app(guichet_config: ConfigFolder, guichet_database_url: str) -> AsyncIterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    services = guichet_config.read("communes/corbas.toml")["services"]
    guichet_config.set_commune("corbas", services={**services, "signalement": {}, "fragile": {}})
    application = create_app(guichet_config.path, extra_plugins=[("auditing", auditing), ("fragile", fragile)])
    yield application
    application.state.db.dispose()


@pytest.fixture
def db(guichet_database_url: str) -> Iterator[Database]:
    database = Database(guichet_database_url)
    yield database
    database.dispose()


async def test_filing_a_request_records_who_what_for_whom_and_why(app: Starlette) -> None:
    async with GuichetClient(app) as client:
        await client.submit("/corbas/contact", {**CONTACT, "topic": "autre"})
    [request] = requests(app.state.db)
    [entry] = entries(app.state.db)
    assert (entry.action, entry.outcome, entry.commune, entry.service) == (
        "request.create",
        "success",
        "corbas",
        "contact",
    )
    assert (entry.actor_id, entry.actor_role) == ("anonymous", "anonymous")
    assert entry.resource == f"request/{request.reference}"
    assert entry.subject == pseudonym(app.state.registry.settings.secret_key, "email", "camille@example.org")
    assert entry.purpose.startswith("Répondre à votre message")
    assert entry.origin.startswith("web ")


async def test_entry_holds_no_form_content(app: Starlette) -> None:
    async with GuichetClient(app) as client:
        await client.submit("/corbas/contact", {**CONTACT, "topic": "autre"})
    [entry] = entries(app.state.db)
    for value in CONTACT.values():
        assert value.casefold() not in entry.encoded.casefold()


async def test_plugin_event_is_recorded_in_the_same_transaction(app: Starlette) -> None:
    async with GuichetClient(app) as client:
        await client.submit("/corbas/signalement", {"email": "a@example.org", "what": "Un nid-de-poule"})
    actions = [entry.action for entry in entries(app.state.db)]
    assert actions == ["request.create", "signalement.triaged"]


async def test_rolled_back_filing_leaves_no_audit_entry(app: Starlette) -> None:
    async with GuichetClient(app) as client:
        answer = await client.submit("/corbas/fragile", {"text": "fail-submitted"})
    assert answer.status_code == 503
    assert entries(app.state.db) == [] and requests(app.state.db) == []


async def test_action_is_refused_when_the_audit_log_cannot_be_written(app: Starlette) -> None:
    with app.state.db.session(all_communes=True) as session:
        session.execute(delete(AuditHead))
    async with GuichetClient(app) as client:
        answer = await client.submit("/corbas/contact", {**CONTACT, "topic": "autre"})
    assert answer.status_code == 503
    assert "journal de traçabilité est indisponible" in answer.text
    assert requests(app.state.db) == []


async def test_csrf_denial_is_recorded(app: Starlette) -> None:
    async with GuichetClient(app) as client:
        await client.get("/corbas/contact")
        await client.post("/corbas/contact", data=CONTACT)
    [entry] = entries(app.state.db)
    assert (entry.action, entry.outcome, entry.resource) == ("access.csrf-refused", "denied", "POST /corbas/contact")


def test_entries_are_numbered_without_gaps_under_concurrent_writers(db: Database) -> None:
    def write(number: int) -> None:
        for step in range(10):
            with db.session() as session:
                record(session, event(number * 100 + step))

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(write, range(6)))
    seqs = [entry.seq for entry in entries(db)]
    assert seqs == list(range(60))
    with db.session() as session:
        head = session.get(AuditHead, 1)
        assert head is not None and head.size == 60


def test_audit_entries_cannot_be_updated(db: Database) -> None:
    with db.session() as session:
        record(session, event())
    with pytest.raises(Exception, match="append-only"), db.engine.begin() as connection:
        connection.execute(text("UPDATE audit_entry SET outcome = 'denied'"))


def test_encoding_is_canonical_single_line_json() -> None:
    from datetime import UTC, datetime

    hostile = event(resource='request/1"}\n{"action":"forged', purpose="a\nb\u2028c")
    encoded = encode(hostile, seq=3, time=datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    assert "\n" not in encoded
    fields = decode(encoded)
    assert fields["resource"] == 'request/1"}\n{"action":"forged' and fields["seq"] == 3
    assert list(fields) == sorted(fields)
    assert encoded == json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize(
    "change",
    [
        {"action": "Request Read"},
        {"actor_role": "mayor"},
        {"outcome": "maybe"},
        {"subject": "camille@example.org"},
        {"purpose": "x" * 201},
    ],
    ids=["action", "role", "outcome", "subject not a pseudonym", "purpose too long"],
)
def test_invalid_event_is_refused(change: dict[str, object]) -> None:
    with pytest.raises(InvalidEvent):
        event(**change)


def test_pseudonym_is_stable_and_ignores_case_and_spaces() -> None:
    secret = b"s" * 32
    assert pseudonym(secret, "email", " Camille@Example.org ") == pseudonym(secret, "email", "camille@example.org")
    assert pseudonym(secret, "email", "a@example.org") != pseudonym(b"t" * 32, "email", "a@example.org")


def test_anonymous_actor_is_the_default_for_filing() -> None:
    assert (ANONYMOUS.id, ANONYMOUS.role) == ("anonymous", "anonymous")
