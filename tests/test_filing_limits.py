"""A service open without an account is no mail relay: filings per origin, receipts per address and per origin.

Through the page and the API, on SQLite and PostgreSQL. The limits are set
low here (the test configuration otherwise keeps them out of the way); the
windows are long, so no test depends on how fast it runs, and the window's
end is checked with an injected clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func
from sqlmodel import col, select
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.audit.events import ANONYMOUS, Actor
from gateway.identity import throttle
from gateway.models import OutboxMessage, ServiceRequest
from gateway.requests.abuse import may_mail_receipt
from gateway.requests.caller import Caller, OnBehalf
from gateway.services import CitizenIdentity
from gateway.settings import ConfigError, load_settings
from gateway.testing import ConfigFolder, GuichetClient

FORM = "/corbas/contact"
API = "/api/v1/communes/corbas/services/contact/requests"
NAME_MARK = "Zéphyrine Quelconque"
MESSAGE_MARK = "Achetez nos montres sur http://spam.example maintenant"


def contact(email: str = "camille@example.org") -> dict[str, str]:
    return {"name": NAME_MARK, "email": email, "topic": "autre", "message": MESSAGE_MARK}


def limited(config: ConfigFolder, **limits: int) -> Starlette:
    values = {"anonymous_per_origin": 100, "receipts_per_address": 100, "receipts_per_origin": 100, **limits}
    config.set_gateway(filing_limits=values)
    return create_app(config.path)


@pytest_asyncio.fixture
async def make_app(guichet_config: ConfigFolder, guichet_database_url: str) -> AsyncIterator[Any]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    made: list[Starlette] = []

    def make(**limits: int) -> Starlette:
        made.append(limited(guichet_config, **limits))
        return made[-1]

    yield make
    for application in made:
        application.state.db.dispose()


def stored(app: Starlette) -> int:
    with app.state.db.session(all_communes=True) as session:
        return int(session.exec(select(func.count()).select_from(ServiceRequest)).one())


def receipts(app: Starlette) -> list[OutboxMessage]:
    with app.state.db.session(all_communes=True) as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == "request-receipt").order_by(col(OutboxMessage.id))
        return list(session.exec(query))


def retry_after(answer: Any, window_minutes: int) -> int:
    seconds = int(answer.headers["retry-after"])
    assert 1 <= seconds <= window_minutes * 60
    return seconds


# filings per origin ----------------------------------------------------------------------------


async def test_a_burst_of_page_filings_from_one_origin_gets_a_429_and_nothing_is_stored(make_app: Any) -> None:
    app = make_app(anonymous_per_origin=2)
    async with GuichetClient(app) as client:
        for _ in range(2):
            assert (await client.submit(FORM, contact())).status_code == 303
        refused = await client.submit(FORM, contact())
    assert refused.status_code == 429
    retry_after(refused, 10)
    assert "Trop de demandes" in refused.text and "pas été enregistrée" in refused.text
    assert stored(app) == 2


async def test_a_page_filing_refused_for_the_burst_keeps_what_was_typed(make_app: Any) -> None:
    app = make_app(anonymous_per_origin=1)
    async with GuichetClient(app) as client:
        assert (await client.submit(FORM, contact())).status_code == 303
        refused = await client.submit(FORM, contact())
    assert refused.status_code == 429
    assert MESSAGE_MARK in refused.text and 'name="submission_key"' in refused.text


async def test_a_burst_of_api_filings_from_one_origin_gets_a_429_problem_and_nothing_is_stored(make_app: Any) -> None:
    app = make_app(anonymous_per_origin=2)
    async with GuichetClient(app) as client:
        for _ in range(2):
            assert (await client.post(API, json={"data": contact()})).status_code == 201
        refused = await client.post(API, json={"data": contact()}, headers={"accept-language": "en"})
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert (problem["type"], problem["status"]) == ("urn:guichet:problem:too-many-filings", 429)
    assert "not recorded" in problem["detail"]
    retry_after(refused, 10)
    assert stored(app) == 2


async def test_the_page_and_the_api_count_against_the_same_origin(make_app: Any) -> None:
    app = make_app(anonymous_per_origin=1)
    async with GuichetClient(app) as client:
        assert (await client.post(API, json={"data": contact()})).status_code == 201
        assert (await client.submit(FORM, contact())).status_code == 429


async def test_an_invalid_filing_is_not_counted(make_app: Any) -> None:
    app = make_app(anonymous_per_origin=1)
    async with GuichetClient(app) as client:
        assert (await client.post(API, json={"data": {**contact(), "email": "pas une adresse"}})).status_code == 422
        assert (await client.post(API, json={"data": contact()})).status_code == 201


def test_the_window_opens_again_once_it_has_run_out(make_app: Any) -> None:
    app = make_app()
    window, start = timedelta(minutes=10), datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with app.state.db.session() as session:
        assert throttle.take(session, "filing-origin:192.0.2.7", limit=1, window=window, now=start) is None
        late = throttle.take(
            session, "filing-origin:192.0.2.7", limit=1, window=window, now=start + timedelta(minutes=5)
        )
        assert late is not None and late.until == start + window
        assert throttle.take(session, "filing-origin:192.0.2.7", limit=1, window=window, now=start + window) is None


def test_the_openapi_document_declares_the_429_with_retry_after(make_app: Any) -> None:
    from gateway.api.openapi_document import build_document

    app = make_app()
    document = build_document(app.routes, title="Guichet", server="http://testserver")
    answer = document["paths"]["/api/v1/communes/{commune}/services/{service}/requests"]["post"]["responses"]["429"]
    assert "application/problem+json" in answer["content"] and "Retry-After" in answer["headers"]


# receipts to unverified addresses --------------------------------------------------------------


async def test_receipts_to_one_address_past_its_limit_are_withheld_but_the_request_is_filed(make_app: Any) -> None:
    app = make_app(receipts_per_address=1)
    async with GuichetClient(app) as client:
        first = await client.submit(FORM, contact())
        second = await client.submit(FORM, contact())
        first_page = await client.get(first.headers["location"])
        second_page = await client.get(second.headers["location"])
    assert (first.status_code, second.status_code, stored(app)) == (303, 303, 2)
    assert [message.recipient for message in receipts(app)] == ["camille@example.org"]
    assert "Un accusé de réception va vous être envoyé" in first_page.text
    assert "Aucun accusé de réception ne vous sera envoyé" in second_page.text


async def test_receipts_from_one_origin_past_its_limit_are_withheld(make_app: Any) -> None:
    app = make_app(receipts_per_origin=2)
    async with GuichetClient(app) as client:
        answers = [await client.post(API, json={"data": contact(f"personne{n}@example.org")}) for n in range(3)]
    assert [answer.status_code for answer in answers] == [201, 201, 201]
    assert [answer.json()["receipt_email"] for answer in answers] == ["queued", "queued", "withheld"]
    assert len(receipts(app)) == 2


async def test_the_receipt_holds_only_the_gateways_text_and_the_reference(make_app: Any) -> None:
    app = make_app()
    async with GuichetClient(app) as client:
        answer = await client.post(API, json={"data": contact()})
    [message] = receipts(app)
    assert answer.json()["reference"] in message.body and answer.json()["reference"] in message.subject
    for typed in (NAME_MARK, MESSAGE_MARK, "spam.example", "camille@example.org"):
        assert typed not in message.body and typed not in message.subject


def _counter(email: str) -> Caller:
    return Caller(actor=Actor("staff:1", "agent"), origin="web 192.0.2.7", on_behalf_of=OnBehalf(email))


def _counter(email: str) -> Caller:
    return Caller(actor=Actor("staff:1", "agent"), origin="web 192.0.2.7", on_behalf_of=OnBehalf(email))


def _citizen(email: str | None) -> Caller:
    identity = CitizenIdentity(given_name="Camille", family_name="Martin", email=email, verified=True)
    return Caller(actor=Actor("citizen:abc", "citizen"), origin="web 192.0.2.7", citizen_id=1, identity=identity)


@pytest.mark.parametrize(
    ("caller", "mailed"),
    [
        (_citizen("Camille@Example.org"), True),  # the citizen's own (verified) address
        (_counter("camille@example.org"), True),  # given by an agent at the counter
        (_citizen("autre@example.org"), False),  # typed by a signed-in citizen, but not theirs
        (Caller(actor=ANONYMOUS, origin="web 192.0.2.7"), False),
    ],
    ids=["own-address", "counter", "other-address", "anonymous"],
)
def test_only_an_unverified_address_is_limited(make_app: Any, caller: Caller, mailed: bool) -> None:
    app = make_app(receipts_per_address=0)
    settings, now = app.state.registry.settings, datetime.now(UTC)
    with app.state.db.session() as session:
        assert may_mail_receipt(session, settings, caller, "camille@example.org", now) is mailed


# settings ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"), [("anonymous_per_origin", 0), ("receipts_per_address", -1), ("receipt_window_minutes", 2000)]
)
def test_out_of_range_limits_are_refused_with_their_key(guichet_config: ConfigFolder, key: str, value: int) -> None:
    guichet_config.set_gateway(filing_limits={key: value})
    with pytest.raises(ConfigError) as raised:
        load_settings(guichet_config.path)
    assert raised.value.key == f"filing_limits.{key}"


def test_the_limits_have_defaults(guichet_config: ConfigFolder) -> None:
    data = guichet_config.read("gateway.toml")
    data.pop("filing_limits")
    guichet_config.write("gateway.toml", data)
    limits = load_settings(guichet_config.path).filing_limits
    assert (limits.anonymous_per_origin, limits.receipts_per_address, limits.receipts_per_origin) == (20, 3, 10)
