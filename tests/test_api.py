"""JSON API v1: reading communes and services, filing a request, and RFC 9457 problems for bad input."""

from __future__ import annotations

import httpx
from sqlmodel import select

from gateway.models import ServiceRequest
from gateway.testing import GuichetClient

VALID = {
    "name": "Dominique Fictif",
    "email": "dominique@example.org",
    "topic": "autre",
    "message": "Quand ouvre la fête ?",
}
REQUESTS = "/api/v1/communes/corbas/services/contact/requests"


def stored(client: GuichetClient) -> list[ServiceRequest]:
    with client.app.state.db.session(all_communes=True) as session:
        return list(session.exec(select(ServiceRequest)).all())


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["status"] == status and body["title"] and body["type"]
    return body


async def test_communes_are_listed_with_their_services(guichet_client: GuichetClient) -> None:
    body = (await guichet_client.get("/api/v1/communes")).json()
    by_slug = {commune["slug"]: commune for commune in body["communes"]}
    assert len(by_slug) == 8
    assert by_slug["venissieux"]["insee"] == "69259" and by_slug["venissieux"]["services"] == [
        "contact",
        "etat-civil",
        "inscription-scolaire",
    ]
    assert by_slug["grigny"]["services"] == []


async def test_one_commune_is_described(guichet_client: GuichetClient) -> None:
    body = (await guichet_client.get("/api/v1/communes/saint-chamond")).json()
    assert (body["insee"], body["department"], body["address"]["postcode"]) == ("42207", "42", "42400")


async def test_services_of_a_commune_have_titles_in_both_languages(guichet_client: GuichetClient) -> None:
    body = (await guichet_client.get("/api/v1/communes/givors/services")).json()
    contact = next(service for service in body["services"] if service["key"] == "contact")
    assert contact == {
        "key": "contact",
        "available": True,
        "title": {"fr": "Écrire à la mairie", "en": "Write to the town hall"},
        "description": contact["description"],
    }


async def test_service_detail_has_the_communes_form(guichet_client: GuichetClient) -> None:
    body = (await guichet_client.get("/api/v1/communes/corbas/services/contact")).json()
    topic = next(field for field in body["form"] if field["name"] == "topic")
    assert [choice["value"] for choice in topic["choices"]] == ["voirie", "proprete", "autre"]


async def test_unknown_commune_is_a_problem_document(guichet_client: GuichetClient) -> None:
    body = assert_problem(await guichet_client.get("/api/v1/communes/atlantis/services"), 404)
    assert "atlantis" in str(body["detail"])


async def test_unknown_api_path_is_a_problem_document(guichet_client: GuichetClient) -> None:
    assert_problem(await guichet_client.get("/api/v1/nothing-here"), 404)


async def test_problem_is_in_english_when_asked(guichet_client: GuichetClient) -> None:
    response = await guichet_client.get("/api/v1/communes/atlantis", headers={"Accept-Language": "en"})
    assert assert_problem(response, 404)["title"] == "Page not found"


async def test_filing_a_valid_request_answers_201_with_its_reference(guichet_client: GuichetClient) -> None:
    response = await guichet_client.post(REQUESTS, json={"data": VALID})
    assert response.status_code == 201
    body = response.json()
    assert body["reference"].startswith("MSG-") and body["commune"] == "corbas" and body["status"] == "submitted"
    assert [row.reference for row in stored(guichet_client)] == [body["reference"]]


async def test_same_idempotency_key_files_one_request(guichet_client: GuichetClient) -> None:
    headers = {"Idempotency-Key": "retry-me-0001"}
    first = await guichet_client.post(REQUESTS, json={"data": VALID}, headers=headers)
    again = await guichet_client.post(REQUESTS, json={"data": VALID}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["reference"] == again.json()["reference"]
    assert len(stored(guichet_client)) == 1


async def test_form_errors_are_listed_field_by_field(guichet_client: GuichetClient) -> None:
    response = await guichet_client.post(REQUESTS, json={"data": {**VALID, "email": "nope", "topic": "piscine"}})
    body = assert_problem(response, 422)
    assert {error["field"] for error in body["errors"]} == {"email", "topic"}  # type: ignore[attr-defined]
    assert stored(guichet_client) == []


async def test_non_text_values_are_refused(guichet_client: GuichetClient) -> None:
    response = await guichet_client.post(REQUESTS, json={"data": {**VALID, "name": ["a", "list"]}})
    body = assert_problem(response, 422)
    assert body["errors"] == [{"field": "name", "detail": "Une seule valeur est attendue pour ce champ."}]


async def test_body_that_is_not_json_is_a_415(guichet_client: GuichetClient) -> None:
    response = await guichet_client.post(REQUESTS, content=b"name=x", headers={"Content-Type": "text/plain"})
    assert_problem(response, 415)
    assert stored(guichet_client) == []


async def test_malformed_json_is_a_400(guichet_client: GuichetClient) -> None:
    response = await guichet_client.post(REQUESTS, content=b'{"data": ', headers={"Content-Type": "application/json"})
    assert "JSON" in str(assert_problem(response, 400)["detail"])


async def test_json_without_a_data_object_is_a_400(guichet_client: GuichetClient) -> None:
    assert_problem(await guichet_client.post(REQUESTS, json=["not", "an", "object"]), 400)


async def test_overlong_idempotency_key_is_a_400(guichet_client: GuichetClient) -> None:
    response = await guichet_client.post(REQUESTS, json={"data": VALID}, headers={"Idempotency-Key": "k" * 65})
    assert_problem(response, 400)
    assert stored(guichet_client) == []


async def test_body_over_the_limit_is_a_413_problem(guichet_client: GuichetClient) -> None:
    response = await guichet_client.post(REQUESTS, json={"data": {**VALID, "message": "x" * 11_000_000}})
    assert_problem(response, 413)
    assert stored(guichet_client) == []


async def test_filing_a_service_the_commune_does_not_offer_is_a_404(guichet_client: GuichetClient) -> None:
    response = await guichet_client.post("/api/v1/communes/grigny/services/contact/requests", json={"data": VALID})
    assert_problem(response, 404)


async def test_wrong_method_is_a_405_problem(guichet_client: GuichetClient) -> None:
    assert_problem(await guichet_client.get(REQUESTS), 405)


async def test_cross_site_form_post_with_a_cookie_is_refused(guichet_client: GuichetClient) -> None:
    await guichet_client.get("/")  # the browser now holds the gateway's cookie
    response = await guichet_client.post(REQUESTS, data=VALID)
    assert response.status_code == 403
    assert stored(guichet_client) == []


async def test_idempotency_key_reused_in_another_commune_files_a_second_request(guichet_client: GuichetClient) -> None:
    headers = {"Idempotency-Key": "shared-client-key"}
    first = await guichet_client.post(REQUESTS, json={"data": VALID}, headers=headers)
    other = await guichet_client.post(
        "/api/v1/communes/givors/services/contact/requests", json={"data": VALID}, headers=headers
    )
    assert (first.status_code, other.status_code) == (201, 201)
    assert len(stored(guichet_client)) == 2
