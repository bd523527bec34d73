"""The requests API over real HTTP: citizens' own requests, agents' casework, and a problem for every refusal."""

from __future__ import annotations

import hashlib
import html
import io
import re
import zipfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from openapi_spec_validator import validate
from sqlmodel import col, select
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.identity import staff as staff_accounts
from gateway.identity.tokens import create_token
from gateway.models import Attachment, AuditEntry, ServiceRequest, StoredFile, StoredFileChunk
from gateway.testing import STAFF_PASSWORD, ConfigFolder, GuichetClient, sign_in_citizen
from tests.plugins import api_service

KEY = api_service.KEY
ME = "/api/v1/me/requests"
QUEUE = "/api/v1/communes/corbas/requests"
GOOD = {"nom": "Camille Exemple", "email": "camille@example.org", "motif": "Pour l'essai."}
CONTACT = {"name": "Dominique Fictif", "email": "dominique@example.org", "topic": "autre", "message": "Trois mots ici."}


def pdf(size: int = 0) -> bytes:
    """A minimal real PDF, padded with a comment to ``size`` bytes when asked."""
    body = b"%PDF-1.4\n%\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    return body if size <= len(body) else body[:10] + b"x" * (size - len(body)) + body[10:]


# --- fixtures ------------------------------------------------------------------------------------------------------


@pytest.fixture
def app(guichet_config: ConfigFolder, guichet_database_url: str) -> Iterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    for slug in ("corbas", "givors"):
        contact = guichet_config.read(f"communes/{slug}.toml")["services"]["contact"]
        guichet_config.set_commune(slug, services={"contact": contact, KEY: {}})
    application = create_app(guichet_config.path, extra_plugins=[("api_service", api_service)])
    yield application
    application.state.db.dispose()


@asynccontextmanager
async def citizen_client(app: Starlette, **names: Any) -> AsyncIterator[GuichetClient]:
    """A signed-in citizen's client sending the CSRF header, as a same-origin script would."""
    async with GuichetClient(app) as client:
        sign_in_citizen(client, email="camille@example.org", **names)
        client.headers["x-csrftoken"] = await client.csrf_token("/corbas/contact")
        yield client


@pytest_asyncio.fixture
async def citizen(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with citizen_client(app) as client:
        yield client


def staff_token(app: Starlette, username: str, *grants: str) -> tuple[int, str]:
    """A staff account with ``grants`` and a personal API token limited to the agent role."""
    with app.state.db.session() as session:
        staff = staff_accounts.create(
            session,
            username=username,
            display_name=username.replace(".", " ").title(),
            email=f"{username}@guichet.example",
            password=STAFF_PASSWORD,
            grants=[staff_accounts.parse_grant(grant) for grant in grants],
        )
        _row, token = create_token(session, staff, name="tests", scopes=["agent"], lifetime=timedelta(days=1))
        assert staff.id is not None
        return staff.id, token


@pytest_asyncio.fixture
async def agent(app: Starlette) -> AsyncIterator[GuichetClient]:
    _id, token = staff_token(app, "alix.agent", f"agent:corbas:{KEY}:instructor", "agent:corbas:contact:instructor")
    async with GuichetClient(app) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def assert_problem(response: httpx.Response, status: int, type_: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["type"] and body["detail"]
    if type_ is not None:
        assert body["type"] == type_
    return body


def stored(app: Starlette, model: type[Any] = ServiceRequest) -> list[Any]:
    with app.state.db.session(all_communes=True) as session:
        return list(session.exec(select(model)).all())


def last_audit_entry(app: Starlette) -> tuple[str, str, str | None]:
    with app.state.db.session() as session:
        entry = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq).desc()).limit(1)).one()
        return entry.action, entry.outcome, entry.commune


async def draft(citizen: GuichetClient, data: dict[str, str] | None = None) -> dict[str, Any]:
    created = await citizen.post(ME, json={"commune": "corbas", "service": KEY})
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    if data is not None:
        saved = await citizen.patch(f"{ME}/{body['public_id']}", json={"data": data})
        assert saved.status_code == 200 and saved.json()["errors"] == []
        body = saved.json()
    return body


async def attach(citizen: GuichetClient, public_id: str, data: bytes, name: str = "justificatif.pdf") -> httpx.Response:
    return await citizen.post(
        f"{ME}/{public_id}/attachments",
        data={"document": "justificatif"},
        files={"file": (name, data, "application/pdf")},
    )


async def submitted(citizen: GuichetClient) -> dict[str, Any]:
    """A request filled, with its document, and submitted: its detail."""
    body = await draft(citizen, GOOD)
    assert (await attach(citizen, body["public_id"], pdf())).status_code == 201
    answer = await citizen.post(f"{ME}/{body['public_id']}/submit")
    assert answer.status_code == 200, answer.text
    detail: dict[str, Any] = answer.json()
    return detail


async def case(agent: GuichetClient, reference: str) -> dict[str, Any]:
    answer = await agent.get(f"{QUEUE}/{reference}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


# --- citizens: drafts ----------------------------------------------------------------------------------------------


async def test_new_draft_is_prefilled_from_the_citizens_identity(citizen: GuichetClient) -> None:
    body = await draft(citizen)
    assert body["status"] == "draft" and body["reference"] is None
    assert body["data"]["nom"] == "Camille Exemple" and body["data"]["email"] == "camille@example.org"
    assert [document["name"] for document in body["documents"]] == ["justificatif"]


async def test_same_idempotency_key_answers_the_same_draft_with_200(citizen: GuichetClient, app: Starlette) -> None:
    headers = {"Idempotency-Key": "essai-cle-1"}
    first = await citizen.post(ME, json={"commune": "corbas", "service": KEY}, headers=headers)
    again = await citizen.post(ME, json={"commune": "corbas", "service": KEY}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["public_id"] == again.json()["public_id"] and len(stored(app)) == 1
    assert first.headers["location"] == f"{ME}/{first.json()['public_id']}"


async def test_draft_for_a_service_the_commune_does_not_offer_is_a_422(citizen: GuichetClient) -> None:
    answer = await citizen.post(ME, json={"commune": "saint-fons", "service": KEY})
    assert assert_problem(answer, 422)["errors"][0]["field"] == "service"


async def test_saving_a_draft_with_mistakes_keeps_what_was_typed_and_lists_the_errors(citizen: GuichetClient) -> None:
    body = await draft(citizen)
    answer = await citizen.patch(f"{ME}/{body['public_id']}", json={"data": {"email": "pas-une-adresse"}})
    assert answer.status_code == 200
    saved = answer.json()
    assert [error["field"] for error in saved["errors"]] == ["email", "motif"]
    assert saved["data"]["email"] == "pas-une-adresse" and saved["data"]["nom"] == "Camille Exemple"
    again = (await citizen.get(f"{ME}/{body['public_id']}")).json()
    assert again["data"]["email"] == "pas-une-adresse" and again["status"] == "draft"


async def test_submitting_with_errors_is_a_422_and_the_draft_stays(citizen: GuichetClient) -> None:
    body = await draft(citizen)
    await citizen.patch(f"{ME}/{body['public_id']}", json={"data": {**GOOD, "motif": ""}})
    answer = await citizen.post(f"{ME}/{body['public_id']}/submit")
    problem = assert_problem(answer, 422, "urn:guichet:problem:validation-error")
    assert {error["field"] for error in problem["errors"]} == {"motif", "document:justificatif"}
    assert (await citizen.get(f"{ME}/{body['public_id']}")).json()["status"] == "draft"


async def test_submitting_gives_a_reference_and_a_second_submit_the_same_request(citizen: GuichetClient) -> None:
    detail = await submitted(citizen)
    assert detail["status"] == "submitted" and detail["reference"].startswith("ESS-")
    again = await citizen.post(f"{ME}/{detail['public_id']}/submit")
    assert again.status_code == 200 and again.json()["reference"] == detail["reference"]


async def test_my_requests_are_listed_with_their_status_label(citizen: GuichetClient) -> None:
    detail = await submitted(citizen)
    await draft(citizen)
    listed = (await citizen.get(ME)).json()["requests"]
    assert len(listed) == 2
    mine = next(item for item in listed if item["public_id"] == detail["public_id"])
    assert mine["status_label"] == {"fr": "Déposée", "en": "Submitted"} and "data" not in mine


async def test_deleting_a_draft_answers_204_and_it_is_gone(citizen: GuichetClient) -> None:
    body = await draft(citizen)
    assert (await citizen.delete(f"{ME}/{body['public_id']}")).status_code == 204
    assert_problem(await citizen.get(f"{ME}/{body['public_id']}"), 404)


async def test_a_submitted_request_cannot_be_deleted(citizen: GuichetClient) -> None:
    detail = await submitted(citizen)
    assert_problem(await citizen.delete(f"{ME}/{detail['public_id']}"), 409, "urn:guichet:problem:action-not-allowed")


# --- citizens: attachments -----------------------------------------------------------------------------------------


async def test_attaching_a_pdf_answers_201_with_its_digest(citizen: GuichetClient) -> None:
    body = await draft(citizen)
    data = pdf()
    answer = await attach(citizen, body["public_id"], data, "Pièce d'identité.pdf")
    assert answer.status_code == 201
    attachment = answer.json()
    assert attachment["sha256"] == hashlib.sha256(data).hexdigest() and attachment["size"] == len(data)
    assert attachment["content_type"] == "application/pdf" and attachment["filename"] == "Pièce d'identité.pdf"
    detail = (await citizen.get(f"{ME}/{body['public_id']}")).json()
    assert [item["id"] for item in detail["attachments"]] == [attachment["id"]]


async def test_my_attachment_downloads_as_a_file_never_sniffed_nor_cached(citizen: GuichetClient) -> None:
    body = await draft(citizen)
    attachment = (await attach(citizen, body["public_id"], pdf())).json()
    answer = await citizen.get(f"{ME}/{body['public_id']}/attachments/{attachment['id']}")
    assert answer.status_code == 200 and answer.content == pdf()
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert answer.headers["x-content-type-options"] == "nosniff" and answer.headers["cache-control"] == "no-store"


async def test_upload_too_large_is_a_413_and_nothing_is_stored(citizen: GuichetClient, app: Starlette) -> None:
    body = await draft(citizen)
    answer = await attach(citizen, body["public_id"], pdf(api_service.MAX_BYTES + 1))
    assert_problem(answer, 413, "urn:guichet:problem:upload-refused")
    assert stored(app, Attachment) == [] and stored(app, StoredFile) == []


async def test_upload_of_another_type_is_a_415(citizen: GuichetClient, app: Starlette) -> None:
    body = await draft(citizen)
    answer = await attach(citizen, body["public_id"], b"<!DOCTYPE html><script>alert(1)</script>", "a.pdf")
    assert_problem(answer, 415)
    assert stored(app, Attachment) == []


async def test_upload_that_is_not_multipart_is_a_415(citizen: GuichetClient) -> None:
    body = await draft(citizen)
    assert_problem(await citizen.post(f"{ME}/{body['public_id']}/attachments", json={"file": "x"}), 415)


async def test_upload_without_a_file_is_a_422_naming_the_field(citizen: GuichetClient) -> None:
    body = await draft(citizen)
    answer = await citizen.post(f"{ME}/{body['public_id']}/attachments", files={"document": (None, "justificatif")})
    assert assert_problem(answer, 422)["errors"] == [
        {"field": "file", "detail": "Joignez un fichier dans le champ « file »."}
    ]


async def test_removing_an_attachment_from_a_draft_answers_204(citizen: GuichetClient, app: Starlette) -> None:
    body = await draft(citizen)
    attachment = (await attach(citizen, body["public_id"], pdf())).json()
    answer = await citizen.delete(f"{ME}/{body['public_id']}/attachments/{attachment['id']}")
    assert answer.status_code == 204 and stored(app, Attachment) == []


# --- citizens: after submission ------------------------------------------------------------------------------------


async def test_message_to_the_town_hall_is_201_and_in_my_history(citizen: GuichetClient) -> None:
    detail = await submitted(citizen)
    answer = await citizen.post(f"{ME}/{detail['public_id']}/messages", json={"body": "Une précision."})
    assert answer.status_code == 201
    last = answer.json()["history"][-1]
    assert (last["kind"], last["actor"], last["body"]) == ("message", "you", "Une précision.")


async def test_empty_message_is_a_422(citizen: GuichetClient) -> None:
    detail = await submitted(citizen)
    answer = await citizen.post(f"{ME}/{detail['public_id']}/messages", json={"body": "  "})
    assert assert_problem(answer, 422)["errors"][0]["field"] == "body"


async def test_withdrawing_answers_200_then_a_decided_request_is_a_409(citizen: GuichetClient) -> None:
    detail = await submitted(citizen)
    answer = await citizen.post(f"{ME}/{detail['public_id']}/withdraw")
    assert answer.status_code == 200 and answer.json()["status"] == "withdrawn"
    again = await citizen.post(f"{ME}/{detail['public_id']}/withdraw")
    assert_problem(again, 409, "urn:guichet:problem:action-not-allowed")


async def test_correction_asked_by_the_town_hall_is_checked_then_kept(
    citizen: GuichetClient, agent: GuichetClient
) -> None:
    detail = await submitted(citizen)
    version = (await case(agent, detail["reference"]))["version"]
    asked = await agent.post(
        f"{QUEUE}/{detail['reference']}/complement", json={"body": "Corrigez le motif.", "version": version}
    )
    assert asked.status_code == 200 and asked.json()["awaiting_citizen"] is True
    url = f"{ME}/{detail['public_id']}/correction"
    refused = await citizen.post(url, json={"data": {"email": "faux"}})
    assert assert_problem(refused, 422)["errors"][0]["field"] == "email"
    answer = await citizen.post(url, json={"data": {"motif": "Le bon motif."}})
    assert answer.status_code == 200
    assert answer.json()["data"]["motif"] == "Le bon motif." and answer.json()["awaiting_citizen"] is False


async def test_correction_when_nothing_is_awaited_is_a_409(citizen: GuichetClient) -> None:
    detail = await submitted(citizen)
    answer = await citizen.post(f"{ME}/{detail['public_id']}/correction", json={"data": {"motif": "Autre."}})
    assert_problem(answer, 409)


# --- citizens: who may call, and what is refused -----------------------------------------------------------------


async def test_another_citizens_request_is_not_found(citizen: GuichetClient, app: Starlette) -> None:
    detail = await submitted(citizen)
    async with citizen_client(app, given_name="Dominique") as other:
        for answer in (
            await other.get(f"{ME}/{detail['public_id']}"),
            await other.post(f"{ME}/{detail['public_id']}/withdraw"),
            await other.get(f"{ME}/{detail['public_id']}/attachments/{detail['attachments'][0]['id']}"),
        ):
            assert_problem(answer, 404, "urn:guichet:problem:request-not-found")
        assert (await other.get(ME)).json()["requests"] == []


async def test_without_a_session_the_api_answers_401(app: Starlette) -> None:
    async with GuichetClient(app) as anonymous:
        answer = await anonymous.get(ME)
    assert_problem(answer, 401)
    assert answer.headers["www-authenticate"].startswith("Bearer")


async def test_cookie_authenticated_change_without_the_csrf_header_is_refused(
    citizen: GuichetClient, app: Starlette
) -> None:
    del citizen.headers["x-csrftoken"]
    answer = await citizen.post(ME, json={"commune": "corbas", "service": KEY})
    assert_problem(answer, 403)
    assert stored(app) == []


async def test_cookie_authenticated_upload_without_the_csrf_header_is_refused(
    citizen: GuichetClient, app: Starlette
) -> None:
    body = await draft(citizen)
    del citizen.headers["x-csrftoken"]
    assert_problem(await attach(citizen, body["public_id"], pdf()), 403)
    assert stored(app, Attachment) == []


async def test_staff_token_on_the_citizens_endpoints_is_a_403(agent: GuichetClient) -> None:
    assert_problem(await agent.get(ME), 403)


async def test_malformed_json_is_a_400(citizen: GuichetClient) -> None:
    answer = await citizen.post(ME, content=b'{"commune": ', headers={"content-type": "application/json"})
    assert "JSON" in assert_problem(answer, 400)["detail"]


async def test_json_that_is_not_an_object_is_a_400(citizen: GuichetClient) -> None:
    assert_problem(await citizen.post(ME, json=["corbas", KEY]), 400)


async def test_body_that_is_not_json_is_a_415(citizen: GuichetClient) -> None:
    assert_problem(await citizen.post(ME, data={"commune": "corbas", "service": KEY}), 415)


async def test_fields_of_the_wrong_type_or_unknown_are_a_422_naming_each(citizen: GuichetClient) -> None:
    answer = await citizen.post(ME, json={"commune": 7, "servce": KEY})
    problem = assert_problem(answer, 422, "urn:guichet:problem:invalid-body")
    assert {error["field"] for error in problem["errors"]} == {"commune", "service", "servce"}


# --- agents: queue and file ----------------------------------------------------------------------------------------


async def test_queue_lists_requests_without_their_form(citizen: GuichetClient, agent: GuichetClient) -> None:
    detail = await submitted(citizen)
    answer = await agent.get(QUEUE, params={"service": KEY})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["total"], body["page"], body["per_page"]) == (1, 1, 50)
    item = body["items"][0]
    assert item["reference"] == detail["reference"] and item["assigned_to"] is None and "data" not in item


async def test_bad_queue_parameters_are_a_400_naming_each(agent: GuichetClient) -> None:
    answer = await agent.get(QUEUE, params={"per_page": "0", "status": "perdu", "awaiting": "oui", "tri": "x"})
    problem = assert_problem(answer, 400, "urn:guichet:problem:bad-query-parameter")
    assert {error["field"] for error in problem["errors"]} == {"per_page", "status", "awaiting", "tri"}


async def test_queue_filters_by_state(citizen: GuichetClient, agent: GuichetClient) -> None:
    await submitted(citizen)
    assert (await agent.get(QUEUE, params={"status": "in_review"})).json()["total"] == 0
    assert (await agent.get(QUEUE, params={"status": "submitted"})).json()["total"] == 1


async def test_queue_exports_as_csv_without_form_content(citizen: GuichetClient, agent: GuichetClient) -> None:
    detail = await submitted(citizen)
    answer = await agent.get(f"{QUEUE}.csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert detail["reference"] in answer.text and GOOD["email"] not in answer.text


async def test_file_shows_data_transitions_and_version(citizen: GuichetClient, agent: GuichetClient) -> None:
    detail = await submitted(citizen)
    body = await case(agent, detail["reference"])
    assert body["data"]["motif"] == GOOD["motif"] and body["can_act"] is True and body["version"] >= 1
    refuse = next(transition for transition in body["transitions"] if transition["name"] == "refuse")
    assert refuse["comment_required"] is True
    assert [reason["value"] for reason in refuse["reasons"]] == ["incomplete", "out-of-scope"]
    assert [transition["name"] for transition in body["transitions"]] == ["start", "refuse"]


async def test_internal_note_is_in_the_file_and_not_in_the_citizens_history(
    citizen: GuichetClient, agent: GuichetClient
) -> None:
    detail = await submitted(citizen)
    answer = await agent.post(f"{QUEUE}/{detail['reference']}/notes", json={"body": "Appeler le service."})
    assert answer.status_code == 201
    notes = [event for event in (await case(agent, detail["reference"]))["history"] if event["kind"] == "note"]
    assert notes[0]["internal"] is True and notes[0]["agent"]["name"] == "Alix Agent"
    mine = (await citizen.get(f"{ME}/{detail['public_id']}")).json()["history"]
    assert "Appeler le service." not in str(mine)


async def test_agent_message_reaches_the_citizens_history(citizen: GuichetClient, agent: GuichetClient) -> None:
    detail = await submitted(citizen)
    answer = await agent.post(f"{QUEUE}/{detail['reference']}/messages", json={"body": "Bien reçu."})
    assert answer.status_code == 201
    last = (await citizen.get(f"{ME}/{detail['public_id']}")).json()["history"][-1]
    assert (last["actor"], last["body"]) == ("town_hall", "Bien reçu.")


async def test_agent_downloads_an_attachment_and_the_zip(citizen: GuichetClient, agent: GuichetClient) -> None:
    detail = await submitted(citizen)
    one = await agent.get(f"{QUEUE}/{detail['reference']}/attachments/{detail['attachments'][0]['id']}")
    assert one.status_code == 200 and one.content == pdf()
    archive = await agent.get(f"{QUEUE}/{detail['reference']}/attachments.zip")
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(archive.content)).read("justificatif.pdf") == pdf()


def spoil_stored_bytes(app: Starlette) -> None:
    """Change every stored attachment's bytes behind the gateway's back (a disk fault, a hand edit)."""
    with app.state.db.session(all_communes=True) as session:
        for chunk in session.exec(select(StoredFileChunk)).all():
            chunk.data = b"changed" + chunk.data[7:]
            session.add(chunk)


async def test_changed_bytes_are_a_503_problem_for_the_agent_never_served(
    citizen: GuichetClient, agent: GuichetClient, app: Starlette
) -> None:
    detail = await submitted(citizen)
    spoil_stored_bytes(app)
    one = await agent.get(f"{QUEUE}/{detail['reference']}/attachments/{detail['attachments'][0]['id']}")
    assert_problem(one, 503, "urn:guichet:problem:document-unreadable")
    assert b"changed" not in one.content


async def test_changed_bytes_are_a_503_problem_for_the_agents_zip(
    citizen: GuichetClient, agent: GuichetClient, app: Starlette
) -> None:
    detail = await submitted(citizen)
    spoil_stored_bytes(app)
    assert_problem(await agent.get(f"{QUEUE}/{detail['reference']}/attachments.zip"), 503)


async def test_missing_bytes_are_a_503_problem_for_the_citizen(citizen: GuichetClient, app: Starlette) -> None:
    body = await draft(citizen)
    attachment = (await attach(citizen, body["public_id"], pdf())).json()
    with app.state.db.session(all_communes=True) as session:
        for chunk in session.exec(select(StoredFileChunk)).all():
            session.delete(chunk)
    answer = await citizen.get(f"{ME}/{body['public_id']}/attachments/{attachment['id']}")
    problem = assert_problem(answer, 503, "urn:guichet:problem:document-unreadable")
    assert "Nothing else was changed" in problem["detail"] or "Rien d'autre" in problem["detail"]


# --- agents: acting -------------------------------------------------------------------------------------------------


async def test_transition_answers_the_new_state(citizen: GuichetClient, agent: GuichetClient) -> None:
    detail = await submitted(citizen)
    version = (await case(agent, detail["reference"]))["version"]
    answer = await agent.post(
        f"{QUEUE}/{detail['reference']}/transitions", json={"transition": "start", "version": version}
    )
    assert answer.status_code == 200
    assert answer.json()["status"] == "in_review" and answer.json()["version"] == version + 1
    mine = (await citizen.get(f"{ME}/{detail['public_id']}")).json()
    assert mine["status_label"] == {"fr": "En cours d'examen", "en": "In review"}


async def test_transition_on_a_stale_version_is_a_409_and_changes_nothing(
    citizen: GuichetClient, agent: GuichetClient
) -> None:
    detail = await submitted(citizen)
    version = (await case(agent, detail["reference"]))["version"]
    url = f"{QUEUE}/{detail['reference']}/transitions"
    assert (await agent.post(url, json={"transition": "start", "version": version})).status_code == 200
    answer = await agent.post(
        url, json={"transition": "refuse", "version": version, "comment": "Non.", "reason": "incomplete"}
    )
    assert_problem(answer, 409, "urn:guichet:problem:stale-request")
    assert (await case(agent, detail["reference"]))["status"] == "in_review"


async def test_transition_from_the_wrong_state_is_a_409(citizen: GuichetClient, agent: GuichetClient) -> None:
    detail = await submitted(citizen)
    version = (await case(agent, detail["reference"]))["version"]
    answer = await agent.post(
        f"{QUEUE}/{detail['reference']}/transitions", json={"transition": "accept", "version": version}
    )
    assert_problem(answer, 409, "urn:guichet:problem:action-not-allowed")


async def test_refusal_without_its_reason_is_a_422(citizen: GuichetClient, agent: GuichetClient) -> None:
    detail = await submitted(citizen)
    version = (await case(agent, detail["reference"]))["version"]
    answer = await agent.post(
        f"{QUEUE}/{detail['reference']}/transitions",
        json={"transition": "refuse", "version": version, "comment": "Il manque une pièce."},
    )
    assert_problem(answer, 422, "urn:guichet:problem:invalid-input")


async def test_refusal_without_its_comment_is_a_422(citizen: GuichetClient, agent: GuichetClient) -> None:
    detail = await submitted(citizen)
    version = (await case(agent, detail["reference"]))["version"]
    answer = await agent.post(
        f"{QUEUE}/{detail['reference']}/transitions",
        json={"transition": "refuse", "version": version, "reason": "incomplete"},
    )
    assert_problem(answer, 422, "urn:guichet:problem:invalid-input")


async def test_transition_without_a_version_is_a_422_naming_it(citizen: GuichetClient, agent: GuichetClient) -> None:
    detail = await submitted(citizen)
    answer = await agent.post(f"{QUEUE}/{detail['reference']}/transitions", json={"transition": "start"})
    assert [error["field"] for error in assert_problem(answer, 422)["errors"]] == ["version"]


async def test_read_only_grant_sees_the_file_but_may_not_act(citizen: GuichetClient, app: Starlette) -> None:
    detail = await submitted(citizen)
    _id, token = staff_token(app, "lou.lecteur", f"agent:corbas:{KEY}:reader")
    async with GuichetClient(app) as reader:
        reader.headers["Authorization"] = f"Bearer {token}"
        body = await case(reader, detail["reference"])
        assert body["can_act"] is False and body["transitions"] == []
        answer = await reader.post(
            f"{QUEUE}/{detail['reference']}/transitions", json={"transition": "start", "version": body["version"]}
        )
    assert_problem(answer, 403, "urn:guichet:problem:action-forbidden")
    assert last_audit_entry(app) == ("access.denied", "denied", "corbas")


async def test_agent_of_another_commune_is_refused(citizen: GuichetClient, app: Starlette) -> None:
    detail = await submitted(citizen)
    _id, token = staff_token(app, "gael.givors", f"agent:givors:{KEY}:instructor")
    async with GuichetClient(app) as other:
        other.headers["Authorization"] = f"Bearer {token}"
        assert_problem(await other.get(QUEUE), 403)
        # another commune's reference answers as an unknown one would: nothing tells it exists
        assert_problem(await other.get(f"{QUEUE}/{detail['reference']}"), 404)
        assert_problem(await other.get(f"/api/v1/communes/givors/requests/{detail['reference']}"), 404)
    with app.state.db.session() as session:
        refused = session.exec(select(AuditEntry).where(AuditEntry.resource == f"request/{detail['reference']}",
                                                        AuditEntry.action == "access.denied")).all()  # fmt: skip
    assert sorted(entry.commune or "" for entry in refused) == ["corbas", "givors"]


async def test_citizen_session_on_the_agents_endpoints_is_a_403(citizen: GuichetClient) -> None:
    assert_problem(await citizen.get(QUEUE), 403)


async def test_agents_endpoints_without_credentials_answer_401(app: Starlette) -> None:
    async with GuichetClient(app) as anonymous:
        assert_problem(await anonymous.get(QUEUE), 401)


async def test_assignment_names_the_agent_in_the_queue(citizen: GuichetClient, app: Starlette) -> None:
    detail = await submitted(citizen)
    staff_id, token = staff_token(app, "sam.agent", f"agent:corbas:{KEY}:instructor")
    async with GuichetClient(app) as agent:
        agent.headers["Authorization"] = f"Bearer {token}"
        version = (await case(agent, detail["reference"]))["version"]
        answer = await agent.post(
            f"{QUEUE}/{detail['reference']}/assignment", json={"staff_id": staff_id, "version": version}
        )
        assert answer.status_code == 200 and answer.json()["assigned_to"] == staff_id
        item = (await agent.get(QUEUE, params={"assigned": "me"})).json()["items"][0]
    assert item["assigned_to"] == {"id": staff_id, "name": "Sam Agent"}


async def test_bulk_transition_reports_each_reference(citizen: GuichetClient, agent: GuichetClient) -> None:
    detail = await submitted(citizen)
    answer = await agent.post(
        f"{QUEUE}/bulk-transitions", json={"references": [detail["reference"], "ESS-0000-00000"], "transition": "start"}
    )
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [(result["reference"], result["done"]) for result in results] == [
        (detail["reference"], True),
        ("ESS-0000-00000", False),
    ]
    assert results[0]["detail"] is None and results[1]["detail"]


async def test_bulk_transition_comment_over_the_limit_is_a_422_before_any_request(agent: GuichetClient) -> None:
    answer = await agent.post(
        f"{QUEUE}/bulk-transitions",
        json={"references": ["ESS-0000-00000"], "transition": "start", "comment": "x" * 5001},
    )
    assert_problem(answer, 422)
    assert [error["field"] for error in answer.json()["errors"]] == ["comment"]


async def test_assisted_filing_answers_201_then_200_for_the_same_key(agent: GuichetClient, app: Starlette) -> None:
    url = "/api/v1/communes/corbas/services/contact/assisted-requests"
    body = {"data": CONTACT, "citizen_email": "dominique@example.org"}
    first = await agent.post(url, json=body, headers={"Idempotency-Key": "guichet-1"})
    again = await agent.post(url, json=body, headers={"Idempotency-Key": "guichet-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["reference"] == again.json()["reference"]
    rows = stored(app)
    assert len(rows) == 1 and rows[0].filed_by_staff_id is not None


async def test_assisted_filing_with_form_errors_is_a_422(agent: GuichetClient, app: Starlette) -> None:
    url = "/api/v1/communes/corbas/services/contact/assisted-requests"
    answer = await agent.post(url, json={"data": {**CONTACT, "email": "faux"}})
    assert assert_problem(answer, 422)["errors"][0]["field"] == "email"
    assert stored(app) == []


# --- the OpenAPI document ----------------------------------------------------------------------------------------


async def test_openapi_document_describes_every_requests_endpoint_and_validates(agent: GuichetClient) -> None:
    document = (await agent.get("/openapi.json")).json()
    validate(document)
    paths = document["paths"]
    expected = {
        "/api/v1/me/requests": {"get", "post"},
        "/api/v1/me/requests/{public_id}": {"get", "patch", "delete"},
        "/api/v1/me/requests/{public_id}/submit": {"post"},
        "/api/v1/me/requests/{public_id}/withdraw": {"post"},
        "/api/v1/me/requests/{public_id}/messages": {"post"},
        "/api/v1/me/requests/{public_id}/correction": {"post"},
        "/api/v1/me/requests/{public_id}/attachments": {"post"},
        "/api/v1/me/requests/{public_id}/attachments/{attachment_id}": {"get", "delete"},
        "/api/v1/communes/{commune}/requests": {"get"},
        "/api/v1/communes/{commune}/requests.csv": {"get"},
        "/api/v1/communes/{commune}/requests/bulk-transitions": {"post"},
        "/api/v1/communes/{commune}/requests/{reference}": {"get"},
        "/api/v1/communes/{commune}/requests/{reference}/transitions": {"post"},
        "/api/v1/communes/{commune}/requests/{reference}/assignment": {"post"},
        "/api/v1/communes/{commune}/requests/{reference}/notes": {"post"},
        "/api/v1/communes/{commune}/requests/{reference}/messages": {"post"},
        "/api/v1/communes/{commune}/requests/{reference}/complement": {"post"},
        "/api/v1/communes/{commune}/requests/{reference}/attachments/{attachment_id}": {"get"},
        "/api/v1/communes/{commune}/requests/{reference}/attachments.zip": {"get"},
        "/api/v1/communes/{commune}/services/{service}/assisted-requests": {"post"},
    }
    assert {path: set(paths.get(path, {})) for path in expected} == expected
    transition = paths["/api/v1/communes/{commune}/requests/{reference}/transitions"]["post"]
    assert {"200", "403", "409", "422"} <= set(transition["responses"])


async def test_same_idempotency_key_with_another_body_is_a_422_and_keeps_the_first(
    agent: GuichetClient, app: Starlette
) -> None:
    url = "/api/v1/communes/corbas/services/contact/assisted-requests"
    body = {"data": CONTACT, "citizen_email": "dominique@example.org"}
    first = await agent.post(url, json=body, headers={"Idempotency-Key": "guichet-2"})
    assert first.status_code == 201
    changed = {**body, "data": {**CONTACT, "message": "Un tout autre message"}}
    conflict = await agent.post(url, json=changed, headers={"Idempotency-Key": "guichet-2"})
    problem = assert_problem(conflict, 422)
    assert "Idempotency-Key" in problem["detail"] and "contenu différent" in problem["detail"]
    (row,) = stored(app)
    assert row.data["message"] == CONTACT["message"]  # the first request, untouched; nothing new filed
    again = await agent.post(url, json=body, headers={"Idempotency-Key": "guichet-2"})
    assert again.status_code == 200 and again.json()["reference"] == first.json()["reference"]


async def test_same_submission_key_with_other_answers_on_the_page_is_a_422(app: Starlette) -> None:
    async with GuichetClient(app) as visitor:
        page = await visitor.get("/corbas/contact")
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
        assert fields.get("submission_key")
        first = await visitor.post("/corbas/contact", data={**fields, **CONTACT})
        assert first.status_code in (200, 303), first.text
        changed = {**fields, **CONTACT, "message": "Une tout autre question ici."}
        other = await visitor.post("/corbas/contact", data=changed)
        assert other.status_code == 422
        assert "contenu différent" in html.unescape(other.text)
        again = await visitor.post("/corbas/contact", data={**fields, **CONTACT})
        assert again.status_code == first.status_code
    assert len(stored(app)) == 1


async def test_receipt_to_an_unverified_address_says_nothing_the_author_wrote(app: Starlette) -> None:
    """A service open without an account mails its receipt to any address typed: it must not relay the text."""
    from gateway.models import OutboxMessage

    payload = {**CONTACT, "name": "Spam Relais", "message": "Achetez http://spam.example maintenant !"}
    async with GuichetClient(app) as visitor:
        page = await visitor.get("/corbas/contact")
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
        assert (await visitor.post("/corbas/contact", data={**fields, **payload})).status_code in (200, 303)
    with app.state.db.session() as session:
        (message,) = session.exec(select(OutboxMessage)).all()
    assert message.recipient == CONTACT["email"]
    for written in ("Spam Relais", "spam.example", "Achetez"):
        assert written not in message.body and written not in message.subject
