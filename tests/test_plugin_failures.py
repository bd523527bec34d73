"""A plugin that fails answers 'temporarily unavailable' for its own services only; nothing is half-stored."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlmodel import select

from gateway.app import create_app
from gateway.models import ServiceRequest
from gateway.testing import ConfigFolder, GuichetClient
from tests.plugins import broken_services, fragile

CONTACT = {
    "name": "Camille Exemple",
    "email": "camille@example.org",
    "topic": "voirie",
    "message": "Trois mots au moins.",
}


@pytest_asyncio.fixture
async def client(guichet_config: ConfigFolder, guichet_database_url: str) -> AsyncIterator[GuichetClient]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    services = guichet_config.read("communes/venissieux.toml")["services"]
    guichet_config.set_commune("venissieux", services={**services, "fragile": {}})
    app = create_app(guichet_config.path, extra_plugins=[("fragile", fragile)])
    async with GuichetClient(app) as http:
        yield http
    app.state.db.dispose()


def stored(client: GuichetClient) -> list[ServiceRequest]:
    with client.app.state.db.session(all_communes=True) as session:
        return list(session.exec(select(ServiceRequest)).all())


async def test_failing_validation_hook_answers_unavailable_and_stores_nothing(
    client: GuichetClient, caplog: pytest.LogCaptureFixture
) -> None:
    answer = await client.submit("/venissieux/fragile", {"text": "fail-validation"})
    assert answer.status_code == 503
    assert "temporairement indisponible" in answer.text
    assert answer.headers["retry-after"] == "300"
    assert "plugin 'fragile' failed in guichet_validate_request" in caplog.text
    assert stored(client) == []


async def test_failing_reaction_rolls_the_whole_filing_back(client: GuichetClient) -> None:
    answer = await client.submit("/venissieux/fragile", {"text": "fail-submitted"})
    assert answer.status_code == 503
    assert stored(client) == []
    again = await client.submit("/venissieux/fragile", {"text": "fine now"})
    assert again.status_code == 303
    [row] = stored(client)
    assert row.reference.endswith("-000001")  # the failed attempt's number was not consumed


async def test_failing_hook_is_a_problem_document_on_the_api(client: GuichetClient) -> None:
    answer = await client.post(
        "/api/v1/communes/venissieux/services/fragile/requests", json={"data": {"text": "fail-validation"}}
    )
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"


async def test_other_services_keep_serving_after_a_failure(client: GuichetClient) -> None:
    await client.submit("/venissieux/fragile", {"text": "fail-submitted"})
    answer = await client.submit("/venissieux/contact", CONTACT)
    assert answer.status_code == 303
    assert [row.service for row in stored(client)] == ["contact"]


async def test_plugin_broken_at_start_leaves_its_services_unavailable(
    guichet_config: ConfigFolder, guichet_database_url: str
) -> None:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    guichet_config.set_commune("grigny", services={"piscine": {}})
    app = create_app(guichet_config.path, extra_plugins=[("broken_services", broken_services)])
    async with GuichetClient(app) as http:
        page = await http.get("/grigny")
        form = await http.get("/grigny/piscine")
        api = await http.get("/api/v1/communes/grigny/services")
        contact = await http.get("/venissieux/contact")
    app.state.db.dispose()
    assert "Ce service est temporairement indisponible." in page.text
    assert form.status_code == 503
    assert api.json()["services"] == [{"key": "piscine", "available": False}]
    assert contact.status_code == 200


async def test_idempotency_key_reused_for_another_service_is_a_409(client: GuichetClient) -> None:
    headers = {"Idempotency-Key": "used-once"}
    await client.post(
        "/api/v1/communes/venissieux/services/fragile/requests", json={"data": {"text": "a"}}, headers=headers
    )
    answer = await client.post(
        "/api/v1/communes/venissieux/services/contact/requests", json={"data": CONTACT}, headers=headers
    )
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    assert [row.service for row in stored(client)] == ["fragile"]
