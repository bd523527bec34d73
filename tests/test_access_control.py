"""Deny by default: an agent reaches their own commune's and service's data only, and every refusal is recorded."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import select
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.models import AuditEntry
from gateway.testing import ConfigFolder, GuichetClient, sign_in_citizen, sign_in_staff
from tests.plugins import agent_probe

CONTACT = {
    "name": "Camille Exemple",
    "email": "camille@example.org",
    "topic": "autre",
    "message": "Une question simple.",
}


@pytest_asyncio.fixture
async def app(guichet_config: ConfigFolder, guichet_database_url: str) -> AsyncIterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    application = create_app(guichet_config.path, extra_plugins=[("agent_probe", agent_probe)])
    async with GuichetClient(application) as citizen:
        await citizen.submit("/corbas/contact", CONTACT)
        await citizen.submit("/givors/contact", CONTACT)
    yield application
    application.state.db.dispose()


def last_entry(app: Starlette) -> AuditEntry:
    with app.state.db.session() as session:
        return session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        ("agent:corbas:contact:reader", "/essai-agents/corbas/contact", 200),
        ("agent:corbas", "/essai-agents/corbas/contact", 200),
        ("supervisor:corbas", "/essai-agents/corbas/contact", 200),
        ("administrator", "/essai-agents/givors/contact", 200),
        ("administrator:corbas", "/essai-agents/corbas/contact", 200),
        ("administrator:corbas", "/essai-agents/givors/contact", 403),
        ("agent:corbas:contact", "/essai-agents/givors/contact", 403),
        ("agent:corbas:etat-civil", "/essai-agents/corbas/contact", 403),
        ("supervisor:corbas", "/essai-agents/givors/contact", 403),
        ("auditor", "/essai-agents/corbas/contact", 403),
    ],
)
async def test_agent_access_matrix(app: Starlette, role: str, path: str, status: int) -> None:
    async with GuichetClient(app) as client:
        await sign_in_staff(client, "sam.staff", role)
        answer = await client.get(path)
    assert answer.status_code == status
    if status == 200:
        assert len(answer.json()["references"]) == 1
    else:
        entry = last_entry(app)
        assert (entry.action, entry.outcome, entry.actor_id.startswith("staff:")) == ("access.denied", "denied", True)


async def test_citizen_on_a_staff_page_is_refused_and_recorded(app: Starlette) -> None:
    async with GuichetClient(app) as client:
        sign_in_citizen(client)
        answer = await client.get("/essai-agents/corbas/contact")
    assert answer.status_code == 403
    entry = last_entry(app)
    assert (entry.action, entry.outcome, entry.actor_role) == ("access.denied", "denied", "citizen")


async def test_visitor_on_a_staff_page_is_sent_to_sign_in(app: Starlette) -> None:
    async with GuichetClient(app) as client:
        answer = await client.get("/essai-agents/corbas/contact")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/agents/connexion")


async def test_staff_halfway_through_sign_in_has_no_access(app: Starlette) -> None:
    from gateway.identity import staff as staff_accounts
    from gateway.testing import STAFF_PASSWORD

    with app.state.db.session() as session:
        staff_accounts.create(session, username="half.way", display_name="Half Way", email="h@guichet.example",
                              password=STAFF_PASSWORD, grants=[staff_accounts.parse_grant("agent:corbas")])  # fmt: skip
    async with GuichetClient(app) as client:
        await client.submit("/agents/connexion", {"username": "half.way", "password": STAFF_PASSWORD})
        answer = await client.get("/essai-agents/corbas/contact")
    assert answer.status_code == 303
