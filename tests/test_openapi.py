"""The OpenAPI document is valid OpenAPI 3 and describes every API route."""

from __future__ import annotations

from openapi_spec_validator import validate
from starlette.routing import Route

from gateway.testing import GuichetClient


async def test_document_is_valid_openapi(guichet_client: GuichetClient) -> None:
    response = await guichet_client.get("/openapi.json")
    assert response.status_code == 200
    validate(response.json())


async def test_every_api_route_and_method_is_described(guichet_client: GuichetClient) -> None:
    document = (await guichet_client.get("/openapi.json")).json()
    served = {
        (route.path, method.lower())
        for route in guichet_client.app.routes
        if isinstance(route, Route) and route.path.startswith("/api/")
        for method in (route.methods or set()) - {"HEAD"}
    }
    described = {(path, method) for path, item in document["paths"].items() for method in item}
    assert served and served <= described


async def test_every_operation_documents_its_success_and_has_an_id(guichet_client: GuichetClient) -> None:
    document = (await guichet_client.get("/openapi.json")).json()
    operations = [operation for item in document["paths"].values() for operation in item.values()]
    assert all(operation.get("operationId") for operation in operations)
    assert all(any(code.startswith("2") for code in operation["responses"]) for operation in operations)


async def test_a_405_names_every_method_the_path_answers(guichet_client: GuichetClient) -> None:
    """GET and POST of /api/v1/me/requests are two routes; Allow names both, not only the first route's."""
    answer = await guichet_client.put("/api/v1/me/requests")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, HEAD, POST"


async def test_a_concrete_api_path_answers_only_its_own_methods(guichet_client: GuichetClient) -> None:
    """GET .../requests/bulk-transitions is not a request named "bulk-transitions": the path takes POST only."""
    answer = await guichet_client.get("/api/v1/communes/corbas/requests/bulk-transitions")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"


async def test_path_parameters_name_the_communes_and_services_there_are(guichet_client: GuichetClient) -> None:
    document = (await guichet_client.get("/openapi.json")).json()
    parameters = {
        parameter["name"]: parameter["schema"]
        for parameter in document["paths"]["/api/v1/communes/{commune}/services/{service}"]["get"]["parameters"]
    }
    assert "corbas" in parameters["commune"]["enum"] and "contact" in parameters["service"]["enum"]
