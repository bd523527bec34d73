"""Family drafts (plugin API 1.2): siblings prepared one draft each, with documents, and submitted together.

The test plugin (:mod:`tests.plugins.family_documents_service`) asks the
parent's e-mail address once and each child's given name per child; the proof
of address is shared, the birth certificate is each child's own. Everything
goes through real HTTP: the JSON API (``/api/v1/me/requests``) and the pages.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
import pytest_asyncio
from sqlmodel import select
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.models import Attachment, ServiceRequest
from gateway.testing import ConfigFolder, GuichetClient, sign_in_citizen
from gateway.web.i18n import COOKIE as LANGUAGE_COOKIE
from tests.plugins import family_documents_service, family_service

KEY = family_documents_service.KEY
PAGE = f"/corbas/{KEY}"
ME = "/api/v1/me/requests"
PDF = b"%PDF-1.4\n%\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
SHARED = {"parent_email": "parent@example.org"}


@pytest.fixture
def app(guichet_config: ConfigFolder, guichet_database_url: str) -> Iterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    services = guichet_config.read("communes/corbas.toml").get("services", {})
    guichet_config.set_commune("corbas", services={**services, KEY: {}, family_service.KEY: {}})
    application = create_app(
        guichet_config.path,
        extra_plugins=[("family_documents_service", family_documents_service), ("family_service", family_service)],
    )
    yield application
    application.state.db.dispose()


@asynccontextmanager
async def citizen_client(app: Starlette, email: str = "parent@example.org") -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as client:
        sign_in_citizen(client, email=email)
        client.headers["x-csrftoken"] = await client.csrf_token(PAGE)
        yield client


@pytest_asyncio.fixture
async def citizen(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with citizen_client(app) as client:
        yield client


def rows(app: Starlette) -> list[ServiceRequest]:
    with app.state.db.session(commune="corbas") as session:
        found = session.exec(select(ServiceRequest).where(ServiceRequest.service == KEY)).all()
        for row in found:
            session.expunge(row)
        return sorted(found, key=lambda row: row.id or 0)


def documents_of(app: Starlette, public_id: str) -> list[str]:
    with app.state.db.session(commune="corbas") as session:
        row = session.exec(select(ServiceRequest).where(ServiceRequest.public_id == public_id)).one()
        return sorted(a.document for a in session.exec(select(Attachment).where(Attachment.request_id == row.id)))


async def attach(client: GuichetClient, public_id: str, document: str) -> None:
    answer = await client.post(
        f"{ME}/{public_id}/attachments", data={"document": document}, files={"file": (f"{document}.pdf", PDF)}
    )
    assert answer.status_code == 201, answer.text


async def first_child(client: GuichetClient, name: str = "Alice") -> str:
    """A draft for the first child, filled, with the shared proof of address and the child's birth certificate."""
    created = await client.post(ME, json={"commune": "corbas", "service": KEY})
    assert created.status_code == 201, created.text
    public_id: str = created.json()["public_id"]
    saved = await client.patch(f"{ME}/{public_id}", json={"data": {**SHARED, "child_given_name": name}})
    assert saved.status_code == 200 and saved.json()["errors"] == []
    await attach(client, public_id, "proof_of_address")
    await attach(client, public_id, "birth_certificate")
    return public_id


async def add_member(client: GuichetClient, public_id: str, **headers: str) -> httpx.Response:
    return await client.post(f"{ME}/{public_id}/members", headers=headers)


async def sibling(client: GuichetClient, public_id: str, name: str = "Basile", *, certificate: bool = True) -> str:
    """Another child's draft in the family, filled, with their own birth certificate unless told otherwise."""
    added = await add_member(client, public_id)
    assert added.status_code == 201, added.text
    other: str = added.json()["public_id"]
    saved = await client.patch(f"{ME}/{other}", json={"data": {"child_given_name": name}})
    assert saved.status_code == 200, saved.text
    if certificate:
        await attach(client, other, "birth_certificate")
    return other


# Adding a member -----------------------------------------------------------------------------------------------


async def test_another_member_gets_the_shared_answers_and_not_the_members_own(citizen: GuichetClient) -> None:
    alice = await first_child(citizen)
    added = await add_member(citizen, alice)
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["status"] == "draft" and body["data"] == SHARED
    assert added.headers["location"] == f"{ME}/{body['public_id']}"
    assert [member["public_id"] for member in body["family"]] == [alice]


async def test_another_member_gets_a_copy_of_the_shared_documents(citizen: GuichetClient) -> None:
    alice = await first_child(citizen)
    added = (await add_member(citizen, alice)).json()
    assert "proof_of_address" in documents_of(citizen.app, added["public_id"])
    assert documents_of(citizen.app, alice) == ["birth_certificate", "proof_of_address"]


async def test_another_member_gets_no_copy_of_the_first_members_own_documents(citizen: GuichetClient) -> None:
    alice = await first_child(citizen)
    added = (await add_member(citizen, alice)).json()
    assert documents_of(citizen.app, added["public_id"]) == ["proof_of_address"]


async def test_adding_a_member_twice_with_one_key_adds_one(citizen: GuichetClient) -> None:
    alice = await first_child(citizen)
    first = await add_member(citizen, alice, **{"Idempotency-Key": "one-click-0123456789"})
    again = await add_member(citizen, alice, **{"Idempotency-Key": "one-click-0123456789"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["public_id"] == again.json()["public_id"]
    assert len(rows(citizen.app)) == 2


async def test_no_member_is_added_beyond_the_limit(citizen: GuichetClient) -> None:
    alice = await first_child(citizen)
    for _ in range(family_documents_service.MAX_CHILDREN - 1):
        assert (await add_member(citizen, alice)).status_code == 201
    refused = await add_member(citizen, alice)
    assert refused.status_code == 409 and refused.headers["content-type"] == "application/problem+json"
    assert "3" in refused.json()["detail"]
    assert len(rows(citizen.app)) == family_documents_service.MAX_CHILDREN


async def test_a_service_for_one_person_takes_no_other_member(citizen: GuichetClient) -> None:
    created = await citizen.post(ME, json={"commune": "corbas", "service": "contact"})
    refused = await add_member(citizen, created.json()["public_id"])
    assert refused.status_code == 409 and refused.headers["content-type"] == "application/problem+json"


async def test_a_submitted_request_takes_no_other_member(citizen: GuichetClient) -> None:
    alice = await first_child(citizen)
    assert (await citizen.post(f"{ME}/{alice}/submit")).status_code == 200
    refused = await add_member(citizen, alice)
    assert refused.status_code == 409 and refused.headers["content-type"] == "application/problem+json"


async def test_a_too_long_idempotency_key_adds_nothing(citizen: GuichetClient) -> None:
    alice = await first_child(citizen)
    refused = await add_member(citizen, alice, **{"Idempotency-Key": "k" * 65})
    assert refused.status_code == 400 and len(rows(citizen.app)) == 1


async def test_saving_a_members_shared_answers_saves_them_on_every_member(citizen: GuichetClient) -> None:
    alice = await first_child(citizen)
    basile = await sibling(citizen, alice)
    saved = await citizen.patch(f"{ME}/{basile}", json={"data": {"parent_email": "autre@example.org"}})
    assert saved.status_code == 200
    first = (await citizen.get(f"{ME}/{alice}")).json()
    assert first["data"] == {"parent_email": "autre@example.org", "child_given_name": "Alice"}


# Submitting the family ---------------------------------------------------------------------------------------------


async def test_submitting_one_member_submits_the_whole_family_with_one_family_id(citizen: GuichetClient) -> None:
    alice = await first_child(citizen)
    await sibling(citizen, alice)
    answer = await citizen.post(f"{ME}/{alice}/submit")
    assert answer.status_code == 200, answer.text
    stored = rows(citizen.app)
    assert len(stored) == 2 and not any(row.is_draft for row in stored)
    assert all(row.reference for row in stored) and stored[0].reference != stored[1].reference
    assert stored[0].family_id is not None and stored[0].family_id == stored[1].family_id
    assert [member["reference"] for member in answer.json()["family"]] == [stored[1].reference]


async def test_one_members_missing_document_submits_none_and_names_that_member(citizen: GuichetClient) -> None:
    alice = await first_child(citizen)
    basile = await sibling(citizen, alice, certificate=False)
    refused = await citizen.post(f"{ME}/{alice}/submit")
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    missing = [error for error in errors if error.get("request") == basile]
    assert [(error["field"], error["member"]) for error in missing] == [("document:birth_certificate", 2)]
    assert all(row.is_draft for row in rows(citizen.app))


async def test_submitting_twice_answers_with_the_same_requests(citizen: GuichetClient) -> None:
    alice = await first_child(citizen)
    await sibling(citizen, alice)
    first = await citizen.post(f"{ME}/{alice}/submit")
    again = await citizen.post(f"{ME}/{alice}/submit")
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["reference"] == again.json()["reference"]
    assert len(rows(citizen.app)) == 2


async def test_a_removed_members_draft_leaves_the_other_filed_alone(citizen: GuichetClient) -> None:
    alice = await first_child(citizen)
    basile = await sibling(citizen, alice, certificate=False)
    assert (await citizen.delete(f"{ME}/{basile}")).status_code == 204
    answer = await citizen.post(f"{ME}/{alice}/submit")
    assert answer.status_code == 200, answer.text
    (only,) = rows(citizen.app)
    assert only.reference and only.family_id is None


async def test_each_member_keeps_its_own_documents_once_submitted(citizen: GuichetClient) -> None:
    alice = await first_child(citizen)
    basile = await sibling(citizen, alice)
    assert (await citizen.post(f"{ME}/{basile}/submit")).status_code == 200
    assert documents_of(citizen.app, alice) == ["birth_certificate", "proof_of_address"]
    assert documents_of(citizen.app, basile) == ["birth_certificate", "proof_of_address"]


# Someone else --------------------------------------------------------------------------------------------------


async def test_another_citizen_cannot_add_a_member_to_my_draft(citizen: GuichetClient, app: Starlette) -> None:
    alice = await first_child(citizen)
    async with citizen_client(app, email="stranger@example.org") as stranger:
        refused = await add_member(stranger, alice)
    assert refused.status_code == 404 and len(rows(app)) == 1


async def test_another_citizen_cannot_submit_my_family(citizen: GuichetClient, app: Starlette) -> None:
    alice = await first_child(citizen)
    await sibling(citizen, alice)
    async with citizen_client(app, email="stranger@example.org") as stranger:
        refused = await stranger.post(f"{ME}/{alice}/submit")
    assert refused.status_code == 404 and all(row.is_draft for row in rows(app))


# The pages ---------------------------------------------------------------------------------------------------------


async def page_draft(client: GuichetClient) -> str:
    """A draft started from the service's page, as a browser does: its public id."""
    started = await client.submit(PAGE, {})
    assert started.status_code == 303, started.text
    match = re.fullmatch(r"/mes-demandes/([A-Za-z0-9_-]+)", started.headers["location"])
    assert match, started.headers["location"]
    return match.group(1)


async def deposit(client: GuichetClient, public_id: str) -> httpx.Response:
    """The draft page's « Déposer ma demande » button, alone in its form (no fields sent)."""
    token = await client.csrf_token(f"/mes-demandes/{public_id}")
    return await client.post(f"/mes-demandes/{public_id}", data={"csrftoken": token, "action": "deposer"})


async def test_a_signed_in_resident_starts_a_family_service_with_documents_as_a_draft(citizen: GuichetClient) -> None:
    page = await citizen.get(PAGE)
    assert page.status_code == 200 and "<legend>Enfant 1</legend>" not in page.text
    public_id = await page_draft(citizen)
    assert [row.public_id for row in rows(citizen.app)] == [public_id]


async def test_the_draft_page_offers_another_member_and_lists_the_family(citizen: GuichetClient) -> None:
    alice = await first_child(citizen)
    await sibling(citizen, alice)
    page = await citizen.get(f"/mes-demandes/{alice}")
    assert page.status_code == 200
    assert "Inscrire aussi un frère ou une sœur" in page.text and 'action="/mes-demandes/' in page.text
    assert "Enfant 1 : Alice" in page.text and "Enfant 2 : Basile" in page.text
    assert 'aria-current="page"' in page.text


async def test_the_draft_page_in_english_names_each_member(citizen: GuichetClient) -> None:
    alice = await first_child(citizen)
    await sibling(citizen, alice)
    citizen.cookies.set(LANGUAGE_COOKIE, "en")
    page = await citizen.get(f"/mes-demandes/{alice}")
    assert "Also register a brother or sister" in page.text and "Child 2: Basile" in page.text


async def test_the_pages_button_adds_a_member_and_opens_their_draft(citizen: GuichetClient) -> None:
    alice = await page_draft(citizen)
    added = await citizen.submit(f"/mes-demandes/{alice}/membres", {}, page=f"/mes-demandes/{alice}")
    assert added.status_code == 303
    location = added.headers["location"]
    assert location.endswith("?fait=membre") and alice not in location
    opened = await citizen.get(location)
    assert "Un brouillon a été ajouté pour un autre membre de la famille" in opened.text
    assert len(rows(citizen.app)) == 2


async def test_the_draft_page_says_which_member_misses_a_document(citizen: GuichetClient) -> None:
    alice = await first_child(citizen)
    basile = await sibling(citizen, alice, certificate=False)
    refused = await deposit(citizen, alice)
    assert refused.status_code == 422
    assert "Enfant 2 : Basile – Acte de naissance" in refused.text and "1 point à corriger" not in refused.text
    assert f'href="/mes-demandes/{basile}#document-birth_certificate"' in refused.text
    assert all(row.is_draft for row in rows(citizen.app))


async def test_the_receipt_lists_the_requests_filed_together(citizen: GuichetClient) -> None:
    alice = await first_child(citizen)
    await sibling(citizen, alice)
    filed = await deposit(citizen, alice)
    assert filed.status_code == 303
    receipt = await citizen.get(filed.headers["location"])
    other = rows(citizen.app)[1]
    assert other.reference and other.reference in receipt.text and "Demandes déposées ensemble" in receipt.text


async def test_adding_a_member_without_the_form_token_is_refused(citizen: GuichetClient) -> None:
    alice = await page_draft(citizen)
    del citizen.headers["x-csrftoken"]
    refused = await citizen.post(f"/mes-demandes/{alice}/membres", data={})
    assert refused.status_code == 403 and len(rows(citizen.app)) == 1
