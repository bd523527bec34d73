"""Anonymous refusals are all counted, but fill the audit log with at most one entry per origin and minute."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest_asyncio
from click.testing import CliRunner
from sqlalchemy import select
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.audit.builders import csrf_refused
from gateway.audit.events import ANONYMOUS
from gateway.audit.refusals import count_refusal, origin_key, refusal_totals
from gateway.cli import main
from gateway.models import AuditEntry
from gateway.testing import ConfigFolder, GuichetClient

CONTACT = {"name": "Camille Exemple", "email": "camille@example.org", "topic": "autre", "message": "Bonjour."}


@pytest_asyncio.fixture
async def app(guichet_config: ConfigFolder, guichet_database_url: str) -> AsyncIterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    application = create_app(guichet_config.path)
    yield application
    application.state.db.dispose()


def refused_entries(app: Starlette) -> list[AuditEntry]:
    with app.state.db.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == "access.csrf-refused")))


async def test_a_flood_of_forged_forms_writes_one_entry_and_counts_them_all(app: Starlette) -> None:
    async with GuichetClient(app) as client:
        for _ in range(25):
            answer = await client.post("/corbas/contact", data=CONTACT)
            assert answer.status_code == 403
    [entry] = refused_entries(app)
    assert (entry.outcome, entry.resource, entry.actor_role) == ("denied", "POST /corbas/contact", "anonymous")
    with app.state.db.session() as session:
        assert refusal_totals(session) == {"access.csrf-refused": 25}


async def test_each_minute_and_each_origin_gets_its_entry(app: Starlette) -> None:
    start = datetime(2026, 11, 27, 10, 0, 30, tzinfo=UTC)
    moments = [start, start + timedelta(seconds=20), start + timedelta(minutes=1)]
    with app.state.db.session() as session:
        counts = [count_refusal(session, csrf_refused(ANONYMOUS, resource="POST /", origin="web 192.0.2.7"), now=when)
                  for when in moments]  # fmt: skip
        counts.append(count_refusal(session, csrf_refused(ANONYMOUS, resource="POST /", origin="web 192.0.2.8"),
                                    now=start))  # fmt: skip
    assert counts == [1, 2, 1, 1]
    assert sorted(entry.origin for entry in refused_entries(app)) == ["web 192.0.2.7", "web 192.0.2.7", "web 192.0.2.8"]


def test_an_ipv6_client_is_counted_by_its_network() -> None:
    assert origin_key("web 2001:db8:1:2:aaaa::1") == origin_key("web 2001:db8:1:2:bbbb::9") == "web 2001:db8:1:2::/64"
    assert origin_key("web 192.0.2.7") == "web 192.0.2.7"
    assert origin_key("cli users") == "cli users"


async def test_the_counts_are_read_from_the_command_line(app: Starlette, guichet_config: ConfigFolder) -> None:
    async with GuichetClient(app) as client:
        for _ in range(3):
            await client.post("/corbas/contact", data=CONTACT)
    result = CliRunner().invoke(main, ["--config", str(guichet_config.path), "audit", "refusals", "--json"],
                                catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"access.csrf-refused": 3}
