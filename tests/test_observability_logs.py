"""The access and application logs: JSON lines under a request id, and no personal data or secret in them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlmodel import select
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.identity import staff as staff_accounts
from gateway.identity.tokens import create_token
from gateway.models import OutboxMessage
from gateway.observability.logs import ACCESS_LOGGER, JsonFormatter, TextFormatter, logging_config
from gateway.testing import ConfigFolder, GuichetClient, sign_in_citizen
from gateway.testing.client import STAFF_PASSWORD, sign_in_staff
from tests.plugins import fragile

#: what the load below files: every one must stay out of the logs
NAME, OTHER_NAME = "Philomène Tartempion", "Anatole Bidochon"
STREET = "17 impasse des Glycines"
EMAIL, OTHER_EMAIL = "philomene.tartempion@example.org", "anatole.bidochon@example.net"
MESSAGE = f"Je déménage au {STREET}, 69200 Vénissieux, merci."
PASSWORD, WRONG_PASSWORD = "un mot de passe tres secret", "une erreur de frappe tres longue"


@pytest.fixture
def app(guichet_config: ConfigFolder, guichet_database_url: str) -> Iterator[Starlette]:
    services = guichet_config.read("communes/venissieux.toml")["services"]
    guichet_config.set_commune("venissieux", services={**services, "fragile": {}})
    guichet_config.set_gateway(database={"url": guichet_database_url})
    application = create_app(guichet_config.path, extra_plugins=[("fragile", fragile)])
    yield application
    application.state.db.dispose()


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Everything logged, as ``guichet serve`` writes it (JSON lines), while the test runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(lambda record: not record.name.startswith(("httpx", "httpcore")))  # the test's client, not us
    root, access = logging.getLogger(), logging.getLogger(ACCESS_LOGGER)
    levels = root.level, access.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    access.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(levels[0])
    access.setLevel(levels[1])


@pytest_asyncio.fixture
async def client(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as http:
        yield http


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def access_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [line for line in lines(stream) if line["logger"] == ACCESS_LOGGER]


async def test_one_access_line_per_request_with_route_template_status_and_request_id(
    client: GuichetClient, log_output: io.StringIO
) -> None:
    answer = await client.get(
        "/venissieux/contact?email=someone%40example.org", headers={"X-Request-Id": "abc-12345678"}
    )
    assert answer.status_code == 200
    assert answer.headers["x-request-id"] == "abc-12345678"
    [line] = access_lines(log_output)
    assert line["route"] == "/{commune}/{service}" and line["method"] == "GET" and line["status"] == 200
    assert line["request_id"] == "abc-12345678" and line["commune"] == "venissieux"
    assert line["bytes"] == len(answer.content) and line["duration_ms"] >= 0
    assert line["pid"] == line["worker_pid"] and line["level"] == "INFO" and line["time"].endswith("Z")
    assert line["message"] == "GET /{commune}/{service} 200"


@pytest.mark.parametrize(
    "incoming",
    ["short", "x" * 129, "has space 12345", "new\nline-12345", 'quote"12345678', "é-accentué-12345"],
)
async def test_an_odd_request_id_is_replaced_by_a_new_one(
    client: GuichetClient, log_output: io.StringIO, incoming: str
) -> None:
    answer = await client.get("/healthz", headers={"X-Request-Id": incoming.encode()})
    given = answer.headers["x-request-id"]
    assert given != incoming and len(given) == 32 and int(given, 16) >= 0
    assert access_lines(log_output)[-1]["request_id"] == given


async def test_each_request_without_an_id_gets_a_new_one(client: GuichetClient, log_output: io.StringIO) -> None:
    first, second = await client.get("/healthz"), await client.get("/healthz")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert [line["request_id"] for line in access_lines(log_output)] == [
        first.headers["x-request-id"],
        second.headers["x-request-id"],
    ]


async def test_an_unknown_path_is_logged_without_its_path(client: GuichetClient, log_output: io.StringIO) -> None:
    answer = await client.get("/nulle-part/philomene.tartempion@example.org/x/y")
    assert answer.status_code == 404
    [line] = access_lines(log_output)
    assert line["route"] == "unmatched" and line["status"] == 404 and line["commune"] is None
    assert "philomene" not in log_output.getvalue()


async def test_application_records_carry_the_request_id_of_the_request_they_were_written_for(
    client: GuichetClient, log_output: io.StringIO
) -> None:
    answer = await client.submit("/venissieux/fragile", {"text": "fail-validation"})
    assert answer.status_code == 503
    rid = answer.headers["x-request-id"]
    failure = [line for line in lines(log_output) if "failed in guichet_validate_request" in line["message"]]
    assert failure and failure[0]["request_id"] == rid and failure[0]["level"] == "ERROR"
    assert failure[0]["error"] == "RuntimeError" and "Traceback" in failure[0]["traceback"]
    assert access_lines(log_output)[-1]["status"] == 503


async def test_a_load_of_filings_and_sign_ins_leaves_no_name_address_email_or_secret_in_the_logs(
    app: Starlette, client: GuichetClient, log_output: io.StringIO
) -> None:
    contact = {"name": NAME, "email": EMAIL, "topic": "autre", "message": MESSAGE}
    secrets_used: list[str] = []
    # a citizen's local account: created, confirmed through its link, signed in wrongly then rightly
    created = await client.submit("/compte/creer", {"email": EMAIL, "password": PASSWORD,
                                                    "password_confirmation": PASSWORD})  # fmt: skip
    assert created.status_code in (200, 303), created.text
    with app.state.db.session() as session:
        body = session.exec(select(OutboxMessage.body).where(OutboxMessage.recipient == EMAIL)).first()
    assert body is not None
    link = body[body.index("/compte/verification?jeton=") :].split()[0]
    secrets_used.append(link.split("=", 1)[1])
    assert (await client.submit("/compte/verification", {}, page=link)).status_code == 200
    await client.submit("/compte/connexion", {"email": EMAIL, "password": WRONG_PASSWORD})
    await client.submit("/compte/connexion", {"email": OTHER_EMAIL, "password": WRONG_PASSWORD})
    signed_in = await client.submit("/compte/connexion", {"email": EMAIL, "password": PASSWORD})
    assert signed_in.status_code == 303, signed_in.text
    # ... files through the pages, with names and an address in the message
    filed = await client.file_request("venissieux", "contact", contact)
    assert filed.status_code == 303, filed.text
    # an anonymous filing, and a query string carrying an address
    await client.submit("/venissieux/fragile", {"text": f"{OTHER_NAME}, {STREET}"})
    await client.get(f"/venissieux/contact?email={OTHER_EMAIL}&nom={OTHER_NAME}")
    # a federated citizen files through the JSON API
    async with GuichetClient(app) as api:
        sign_in_citizen(api, given_name="Anatole", family_name="Bidochon", email=OTHER_EMAIL)
        api.headers["x-csrftoken"] = await api.csrf_token("/venissieux/contact")
        secrets_used += [api.headers["x-csrftoken"], *api.cookies.values()]
        draft = await api.post("/api/v1/me/requests", json={"commune": "venissieux", "service": "contact"})
        assert draft.status_code == 201, draft.text
        public_id = draft.json()["public_id"]
        saved = await api.patch(f"/api/v1/me/requests/{public_id}", json={"data": {**contact, "name": OTHER_NAME}})
        assert saved.status_code == 200, saved.text
        assert (await api.post(f"/api/v1/me/requests/{public_id}/submit")).status_code == 200
    # staff: a sign-in through the pages, a wrong password, and an API token
    async with GuichetClient(app) as staff:
        await sign_in_staff(staff, "agent.tartempion", "agent:venissieux:contact:instructor")
        secrets_used += list(staff.cookies.values())
        await staff.get("/agents/venissieux/demandes")
    async with GuichetClient(app) as wrong:
        await wrong.submit("/agents/connexion", {"username": "agent.tartempion", "password": WRONG_PASSWORD})
    with app.state.db.session() as session:
        agent = staff_accounts.find(session, "agent.tartempion")
        assert agent is not None
        _row, token = create_token(session, agent, name="essai", scopes=["agent"], lifetime=timedelta(days=1))
    queue = await client.get("/api/v1/communes/venissieux/requests", headers={"Authorization": f"Bearer {token}"})
    assert queue.status_code == 200, queue.text
    secrets_used += [token, *client.cookies.values(), app.state.registry.settings.secret_key.decode()]

    written = log_output.getvalue()
    assert len(access_lines(log_output)) > 20
    assert all(line.get("request_id") for line in access_lines(log_output))
    personal = [NAME, OTHER_NAME, "Philomène", "Tartempion", "Bidochon", STREET, "Glycines", EMAIL, OTHER_EMAIL,
                "philomene", "anatole", PASSWORD, WRONG_PASSWORD, STAFF_PASSWORD]  # fmt: skip
    for value in [*personal, *secrets_used]:
        assert value and value not in written, f"{value!r} is in the logs"
        assert json.dumps(value)[1:-1] not in written, f"{value!r} is in the logs (escaped)"


def test_text_format_reads_as_one_line_with_fields() -> None:
    record = logging.LogRecord(ACCESS_LOGGER, logging.INFO, __file__, 1, "GET %s 200", ("/healthz",), None)
    record.fields = {"status": 200, "route": "/healthz"}
    text = TextFormatter().format(record)
    assert text.endswith("INFO guichet.access GET /healthz 200 status=200 route=/healthz")


def test_the_configuration_turns_uvicorns_access_log_off_and_sends_its_errors_through_ours() -> None:
    config = logging_config("json", "WARNING", access_log=False)
    assert config["loggers"]["uvicorn.access"]["propagate"] is False
    assert config["loggers"]["uvicorn.error"]["propagate"] is True and config["root"]["level"] == "WARNING"
    assert config["loggers"][ACCESS_LOGGER]["level"] == "CRITICAL"
    assert config["formatters"]["guichet"] == {"()": "gateway.observability.logs.formatter", "format_name": "json"}
