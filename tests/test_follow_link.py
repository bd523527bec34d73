"""A request filed without an account is followed through the signed link its receipt carries, and only that way."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import unescape

import pytest_asyncio
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.demo.staff import staff_caller
from gateway.identity import staff as staff_accounts
from gateway.identity.throttle import LIMITS
from gateway.requests.backoffice.commands import BackOfficeCommands
from gateway.requests.follow import follow_path
from gateway.testing import ConfigFolder, GuichetClient, audit_records, queued_messages, sign_in_citizen

EMAIL = "camille.exemple@example.org"
CONTACT = {"name": "Zéphyrine Quelconque", "email": EMAIL, "topic": "autre",
           "message": "Le lampadaire de la rue des Tilleuls est éteint."}  # fmt: skip
LINK = re.compile(r'href="(/suivi/[^"]+)"')


@pytest_asyncio.fixture
async def app(guichet_config: ConfigFolder, guichet_database_url: str) -> AsyncIterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    application = create_app(guichet_config.path)
    yield application
    application.state.db.dispose()


@pytest_asyncio.fixture
async def visitor(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as http:
        yield http


async def file_without_account(visitor: GuichetClient, headers: dict[str, str] | None = None) -> str:
    """File the contact form without an account; returns the receipt page's text."""
    answer = await visitor.submit("/corbas/contact", CONTACT)
    assert answer.status_code == 303, answer.text
    return unescape((await visitor.get(answer.headers["location"], headers=headers)).text)


async def test_the_receipt_says_where_the_confirmation_went_and_offers_the_follow_link(visitor: GuichetClient) -> None:
    page = await file_without_account(visitor)
    assert "Un accusé de réception va vous être envoyé par courriel à c…@example.org" in page
    assert EMAIL not in page
    assert LINK.search(page) and "Suivre la demande MSG-2026-000001" in page


async def test_the_receipt_in_english_says_it_too(visitor: GuichetClient) -> None:
    page = await file_without_account(visitor, headers={"Accept-Language": "en"})
    assert "A receipt will be e-mailed to you at c…@example.org" in page and "Follow request MSG-2026-000001" in page


async def test_the_receipt_mail_carries_the_follow_link(visitor: GuichetClient, app: Starlette) -> None:
    page = await file_without_account(visitor)
    link = LINK.search(page)
    assert link is not None
    [receipt] = queued_messages(app, kind="request-receipt")
    assert link.group(1) in receipt.body and "/mes-demandes/" not in receipt.body


async def test_the_follow_page_shows_status_and_steps_but_not_the_content(
    visitor: GuichetClient, app: Starlette
) -> None:
    link = LINK.search(await file_without_account(visitor))
    assert link is not None
    with app.state.db.session() as session:
        grant = staff_accounts.parse_grant("agent:corbas")
        staff = staff_accounts.create(session, username="agent.c", display_name="Agent C", email="c@guichet.example",
                                      password="a long enough test password", grants=[grant])  # fmt: skip
    BackOfficeCommands(app.state.db, app.state.registry).message(
        staff_caller(staff, [grant]), "corbas", "MSG-2026-000001", "Le texte que seul le courriel ne dit pas."
    )
    async with GuichetClient(app) as someone:  # another browser: the link alone opens it
        page = await someone.get(link.group(1))
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = unescape(page.text)
    assert "MSG-2026-000001" in text and "Écrire à la mairie" in text and "Demande déposée" in text
    assert "Message de la mairie" in text
    for private in ("Le texte que seul", "lampadaire", "Zéphyrine", EMAIL):
        assert private not in text


async def test_each_view_is_recorded_as_an_anonymous_reading(visitor: GuichetClient, app: Starlette) -> None:
    link = LINK.search(await file_without_account(visitor))
    assert link is not None
    await visitor.get(link.group(1))
    [read] = audit_records(app, "request.read")
    assert (read.actor_id, read.resource, read.commune) == ("anonymous", "request/MSG-2026-000001/follow", "corbas")
    [filed] = audit_records(app, "request.create")
    assert read.subject is not None and read.subject == filed.subject


async def test_the_view_joins_the_persons_access_log_once_their_address_is_confirmed(
    visitor: GuichetClient, app: Starlette
) -> None:
    link = LINK.search(await file_without_account(visitor))
    assert link is not None
    await visitor.get(link.group(1))
    async with GuichetClient(app) as citizen:
        sign_in_citizen(citizen, email=EMAIL)
        page = unescape((await citizen.get("/mon-compte/acces")).text)
    assert "Consultation de votre demande" in page and "vous-même (sans connexion)" in page


async def test_a_forged_link_is_not_found(visitor: GuichetClient) -> None:
    answer = await visitor.get("/suivi/InNvbWV0aGluZyI.forged")
    assert answer.status_code == 404 and "lien de suivi n'est pas valide" in unescape(answer.text)


async def test_links_that_lead_nowhere_are_throttled_per_origin(visitor: GuichetClient) -> None:
    answers = [await visitor.get(f"/suivi/nothing-{n}") for n in range(LIMITS["follow-link"])]
    assert [answer.status_code for answer in answers][-2:] == [404, 429]
    assert "Retry-After" in answers[-1].headers


async def test_an_accounts_request_is_not_followed_by_link(app: Starlette) -> None:
    async with GuichetClient(app) as citizen:
        sign_in_citizen(citizen)
        filed = await citizen.file_request("corbas", "contact", CONTACT)
        assert filed.status_code == 303
        public_id = filed.headers["location"].split("/")[2]
        answer = await citizen.get(follow_path(app.state.registry.settings.secret_key, public_id))
    assert answer.status_code == 404


async def test_a_withheld_receipt_is_not_said_sent_but_the_follow_link_is_still_offered(
    guichet_config: ConfigFolder, guichet_database_url: str
) -> None:
    limits = {"anonymous_per_origin": 100, "receipts_per_address": 1, "receipts_per_origin": 100}
    guichet_config.set_gateway(database={"url": guichet_database_url}, filing_limits=limits)
    application = create_app(guichet_config.path)
    try:
        async with GuichetClient(application) as visitor:
            await file_without_account(visitor)
            page = await file_without_account(visitor)  # past the receipts to this address
    finally:
        application.state.db.dispose()
    assert "Aucun accusé de réception ne vous sera envoyé" in page and "c…@example.org" not in page
    assert LINK.search(page) and "Suivre la demande MSG-2026-000002" in page
