"""Field kinds beyond text: each answer stored in its type, shown to agents, and every wrong shape a clear 4xx.

Through real HTTP on the ASGI app: the public form (a page's posted texts)
and the API (typed JSON) file the same service (tests/plugins/field_kinds.py).
"""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from openapi_spec_validator import validate
from sqlmodel import select
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.models import ServiceRequest
from gateway.requests.errors import ServiceUnavailable
from gateway.requests.field_kinds import address_lines
from gateway.requests.forms import check_form, read_answer
from gateway.requests.rules import _with_field_documents
from gateway.services import Choice, FormField, Localized, PostalAddress
from gateway.testing import ConfigFolder, GuichetClient, sign_in_citizen, sign_in_staff
from gateway.web.form_values import answer_text
from tests.plugins import field_kinds
from tests.test_api_requests import staff_token

KEY = field_kinds.KEY
PAGE = f"/corbas/{KEY}"
API = f"/api/v1/communes/corbas/services/{KEY}/requests"
HOME: PostalAddress = {
    "number": 12,
    "suffix": "bis",
    "street": "rue des Lilas",
    "complement": "",
    "postcode": "69200",
    "town": "Vénissieux",
}
GOOD_JSON: dict[str, Any] = {
    "name": "Camille Exemple",
    "days": ["jeudi", "lundi"],
    "meal": "veg",
    "children": 2,
    "allergy": True,
    "allergy_detail": "arachide",
    "home": HOME,
}
GOOD_FORM: dict[str, str | list[str]] = {
    "name": "Camille Exemple",
    "days": ["lundi", "jeudi"],
    "meal": "veg",
    "children": " 2 ",
    "allergy": "yes",
    "allergy_detail": "arachide",
    "home.number": "12 BIS",
    "home.street": "rue des Lilas",
    "home.postcode": "69200",
    "home.town": "Vénissieux",
}


@pytest.fixture
def app(guichet_config: ConfigFolder, guichet_database_url: str) -> Iterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    contact = guichet_config.read("communes/corbas.toml")["services"]["contact"]
    guichet_config.set_commune("corbas", services={"contact": contact, KEY: {}, field_kinds.WITH_DOCUMENT.key: {}})
    application = create_app(guichet_config.path, extra_plugins=[("field_kinds", field_kinds)])
    yield application
    application.state.db.dispose()


@pytest_asyncio.fixture
async def client(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as guichet_client:
        yield guichet_client


def stored(app: Starlette) -> list[dict[str, Any]]:
    with app.state.db.read_session(commune="corbas") as session:
        return [dict(row.data) for row in session.exec(select(ServiceRequest)).all()]


def errors_of(answer: Any) -> dict[str, str]:
    assert answer.status_code == 422, answer.text
    return {error["field"]: error["detail"] for error in answer.json()["errors"]}


def summary_of(page: str) -> dict[str, str]:
    return {href: html.unescape(text) for href, text in re.findall(r'<li><a href="#champ-([^"]+)">([^<]+)</a>', page)}


# --- stored in their types ------------------------------------------------------------------------------------------


async def test_api_answers_are_stored_in_their_types(app: Starlette, client: GuichetClient) -> None:
    answer = await client.post(API, json={"data": GOOD_JSON})
    assert answer.status_code == 201, answer.text
    [data] = stored(app)
    assert data["days"] == ["lundi", "jeudi"]  # in the choices' order
    assert data["children"] == 2 and data["allergy"] is True and data["home"] == HOME
    assert data["second_home"] is None


async def test_page_answers_are_stored_in_the_same_types(app: Starlette, client: GuichetClient) -> None:
    answer = await client.submit(PAGE, GOOD_FORM)
    assert answer.status_code == 303, answer.text
    [data] = stored(app)
    assert data == {**GOOD_JSON, "days": ["lundi", "jeudi"], "second_home": None}


async def test_a_house_number_typed_in_the_street_box_is_still_a_number(app: Starlette, client: GuichetClient) -> None:
    form = {**GOOD_FORM, "home.number": "", "home.street": "7 ter, avenue Jean Jaurès"}
    assert (await client.submit(PAGE, form)).status_code == 303
    [data] = stored(app)
    assert (data["home"]["number"], data["home"]["suffix"], data["home"]["street"]) == (7, "ter", "avenue Jean Jaurès")


async def test_a_conditional_answer_is_emptied_when_its_condition_is_not_met(
    app: Starlette, client: GuichetClient
) -> None:
    answer = await client.post(API, json={"data": {**GOOD_JSON, "allergy": False}})
    assert answer.status_code == 201
    assert stored(app)[0]["allergy_detail"] == ""


# --- shown -----------------------------------------------------------------------------------------------------------


async def test_the_form_groups_choices_and_address_parts_in_fieldsets(client: GuichetClient) -> None:
    page = (await client.get(PAGE)).text
    assert page.count('<fieldset class="field-group"') == 5
    assert "<legend>Jours de cantine</legend>" in page
    assert 'type="checkbox" id="champ-days" name="days" value="lundi"' in page
    assert 'name="home.street"' in page and 'autocomplete="postal-code"' in page
    assert 'inputmode="numeric"' in page and "Un nombre entier de 1 à 9." in page
    assert "Seulement si « Une allergie ? » est « Oui »" in html.unescape(page)


async def test_a_refused_page_shows_what_was_typed_with_each_error(client: GuichetClient) -> None:
    form = {**GOOD_FORM, "children": "12", "home.postcode": "692"}
    page = await client.submit(PAGE, form)
    assert page.status_code == 422
    assert summary_of(page.text) == {
        "children": "Nombre d'enfants : Saisissez un nombre entier de 1 à 9.",
        "home": "Adresse du domicile : Code postal : Saisissez un code postal de 5 chiffres, par exemple 69200.",
    }
    assert 'value="12"' in page.text and 'value="692"' in page.text and 'value="12 BIS"' in page.text
    assert 'value="lundi" checked' in page.text and 'value="mardi">' in page.text
    assert 'aria-describedby="champ-home-erreur"' in page.text


async def test_the_form_speaks_english(client: GuichetClient) -> None:
    page = (await client.get(PAGE, headers={"accept-language": "en"})).text
    assert "Street (type and name, for example rue des Lilas)" in page and ">Yes</label>" in page
    assert "A whole number from 1 to 9." in page


def test_an_answer_reads_in_words() -> None:
    assert address_lines({**HOME, "complement": "Bâtiment B"}) == [
        "Bâtiment B",
        "12 bis rue des Lilas",
        "69200 VÉNISSIEUX",
    ]


# --- hostile input ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ["Camille", "Dominique"]}, "name", "Une seule valeur est attendue pour ce champ."),
        ({"meal": ["veg"]}, "meal", "Une seule valeur est attendue pour ce champ."),
        ({"days": "lundi"}, "days", "Cette réponse doit être une liste des options cochées."),
        ({"days": ["lundi", "dimanche"]}, "days", "Cochez seulement des options proposées."),
        ({"days": []}, "days", "Ce champ est obligatoire."),
        ({"children": 10**400}, "children", "Saisissez un nombre entier de 1 à 9."),
        ({"children": 2.5}, "children", "Saisissez un nombre entier de 1 à 9."),
        ({"children": True}, "children", "Saisissez un nombre entier de 1 à 9."),
        ({"children": "1" * 5000}, "children", "Saisissez un nombre entier de 1 à 9."),
        ({"children": "٣"}, "children", "Saisissez un nombre entier de 1 à 9."),
        ({"children": [2]}, "children", "Une seule valeur est attendue pour ce champ."),
        ({"allergy": "yes"}, "allergy", "Répondez par oui ou par non."),
        ({"allergy": [True]}, "allergy", "Une seule valeur est attendue pour ce champ."),
        ({"home": "12 rue des Lilas"}, "home", "Cette adresse doit être un objet"),
        ({"home": {**HOME, "country": "FR"}}, "home", "Cette adresse doit être un objet"),
        ({"home": {**HOME, "town": ""}}, "home", "Commune : Ce champ est obligatoire."),
        ({"home": {**HOME, "street": ["a", "b"]}}, "home", "Voie : Une seule valeur est attendue"),
        ({"home": {**HOME, "postcode": "6920O"}}, "home", "Code postal : Saisissez un code postal de 5 chiffres"),
        ({"home": {**HOME, "number": 10**30}}, "home", "Numéro : Saisissez un numéro de 1 à 9999"),
        ({"home": {**HOME, "number": "12 bis"}}, "home", "Numéro : Saisissez un numéro de 1 à 9999"),
        ({"home": {**HOME, "suffix": "bisbis"}}, "home", "Indice (bis, ter…) : Saisissez un numéro"),
        ({"home": {**HOME, "number": None}}, "home", "Numéro : Saisissez un numéro de 1 à 9999"),
    ],
    ids=[
        "text as a list", "radio as a list", "checkboxes as text", "unknown choice", "no box ticked",
        "huge number", "fraction", "boolean as number", "5000 digits", "arabic-indic digit", "number as a list",
        "yes as text in JSON", "yes/no as a list", "address as text", "unknown address part", "town missing",
        "street as a list", "postcode with a letter", "huge house number", "suffix twice", "unknown suffix",
        "suffix without number",
    ],
)  # fmt: skip
async def test_a_wrong_shape_in_json_is_a_422_naming_the_field(
    app: Starlette, client: GuichetClient, changes: dict[str, Any], field: str, message: str
) -> None:
    answer = await client.post(API, json={"data": {**GOOD_JSON, **changes}})
    assert errors_of(answer)[field].startswith(message)
    assert stored(app) == []


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"children": ["2", "3"]}, "children", "Nombre d'enfants : Une seule valeur est attendue pour ce champ."),
        ({"allergy": ["yes", "no"]}, "allergy", "Une allergie ? : Une seule valeur est attendue pour ce champ."),
        ({"allergy": "peut-être"}, "allergy", "Une allergie ? : Répondez par oui ou par non."),
        ({"home.town": ["Corbas", "Givors"]}, "home", "Adresse du domicile : Commune : Une seule valeur est attendue"),
        ({"home.number": "douze"}, "home", "Adresse du domicile : Numéro : Saisissez un numéro de 1 à 9999"),
        ({"children": "deux"}, "children", "Nombre d'enfants : Saisissez un nombre entier de 1 à 9."),
    ],
    ids=["number repeated", "yes and no", "neither yes nor no", "town repeated", "house number in words", "words"],
)
async def test_a_wrong_shape_in_a_page_is_a_422_naming_the_field(
    app: Starlette, client: GuichetClient, changes: dict[str, str | list[str]], field: str, message: str
) -> None:
    page = await client.submit(PAGE, {**GOOD_FORM, **changes})
    assert page.status_code == 422
    assert summary_of(page.text)[field].startswith(message)
    assert stored(app) == []


async def test_an_optional_address_left_empty_is_none_and_a_partial_one_is_refused(
    app: Starlette, client: GuichetClient
) -> None:
    partial = {**GOOD_JSON, "second_home": {"street": "", "town": "Corbas"}}
    assert errors_of(await client.post(API, json={"data": partial})) == {
        "second_home": "Voie : Ce champ est obligatoire."
    }
    empty = {**GOOD_JSON, "second_home": {"street": "", "town": ""}}
    assert (await client.post(API, json={"data": empty})).status_code == 201
    assert stored(app)[0]["second_home"] is None


# --- the field declaration ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "declaration",
    [
        {"kind": "number"},
        {"kind": "number", "min_value": 5, "max_value": 1},
        {"kind": "number", "min_value": 0, "max_value": 2**60},
        {"kind": "text", "max_value": 3},
        {"kind": "checkboxes"},
        {"kind": "radio", "choices": (Choice("a", Localized("A")), Choice("a", Localized("A bis")))},
    ],
    ids=["number without bounds", "bounds reversed", "bound past 2**53", "bounds on text", "no choices", "twice"],
)
def test_a_field_declared_wrongly_is_refused_at_start(declaration: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        FormField("field", Localized("Champ"), **declaration)


def test_an_answer_is_read_in_its_type_whatever_the_other_answers() -> None:
    count = FormField("count", Localized("Nombre"), kind="number", min_value=0, max_value=3, show_if=("x", ("y",)))
    assert read_answer(count, 2) == (2, None)
    assert check_form([count], {"count": 2}) == ({"count": None}, [])  # the whole form empties it: "x" is not "y"


# --- described in the API ------------------------------------------------------------------------------------------


async def test_the_openapi_document_gives_each_services_answers_schema(client: GuichetClient) -> None:
    document = (await client.get("/openapi.json")).json()
    validate(document)
    answers = document["components"]["schemas"][f"Answers.corbas.{KEY}"]
    fields = answers["properties"]
    assert answers["required"] == ["name", "days", "meal", "children", "allergy", "home"]
    assert fields["days"]["items"]["enum"] == ["lundi", "mardi", "jeudi"] and fields["days"]["minItems"] == 1
    assert (fields["children"]["type"], fields["children"]["minimum"], fields["children"]["maximum"]) == (
        "integer",
        1,
        9,
    )
    assert fields["allergy"]["type"] == "boolean"
    assert fields["home"]["$ref"] == "#/components/schemas/AddressInput"
    assert fields["second_home"]["oneOf"][1] == {"type": "null"}
    assert "Answers.corbas.contact" in document["components"]["schemas"]


async def test_the_service_description_gives_a_numbers_bounds_and_a_fields_condition(client: GuichetClient) -> None:
    form = (await client.get(f"/api/v1/communes/corbas/services/{KEY}")).json()["form"]
    by_name = {field["name"]: field for field in form}
    assert (by_name["children"]["min_value"], by_name["children"]["max_value"]) == (1, 9)
    assert by_name["allergy_detail"]["show_if"] == ["allergy", ["yes"]]
    assert by_name["home"]["kind"] == "address"


async def test_an_agent_reads_typed_answers_in_words(app: Starlette, client: GuichetClient) -> None:
    assert (await client.post(API, json={"data": GOOD_JSON})).status_code == 201
    form = {field.name: field for field in field_kinds.FORM}
    [data] = stored(app)
    assert answer_text(form["days"], data["days"])("en") == "Monday, Thursday"
    assert answer_text(form["allergy"], data["allergy"])("fr") == "Oui"
    assert answer_text(form["home"], data["home"])("fr") == "12 bis rue des Lilas, 69200 VÉNISSIEUX"
    assert answer_text(form["children"], data["children"])("fr") == "2"


# --- a document declared as a field ----------------------------------------------------------------------------------

PDF = b"%PDF-1.4\n%\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
ME = "/api/v1/me/requests"


@pytest_asyncio.fixture
async def citizen(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as signed_in:
        sign_in_citizen(signed_in, email="camille@example.org")
        signed_in.headers["x-csrftoken"] = await signed_in.csrf_token("/corbas/contact")
        yield signed_in


async def document_draft(citizen: GuichetClient, owner: bool) -> str:
    created = await citizen.post(ME, json={"commune": "corbas", "service": field_kinds.WITH_DOCUMENT.key})
    assert created.status_code == 201, created.text
    public_id: str = created.json()["public_id"]
    saved = await citizen.patch(f"{ME}/{public_id}", json={"data": {"owner": owner}})
    assert saved.status_code == 200 and saved.json()["errors"] == []
    return public_id


async def test_a_document_field_is_asked_for_with_the_services_documents(citizen: GuichetClient) -> None:
    public_id = await document_draft(citizen, owner=True)
    detail = (await citizen.get(f"{ME}/{public_id}")).json()
    assert [(doc["name"], doc["accept"], doc["max_bytes"]) for doc in detail["documents"]] == [
        ("deed", ["application/pdf"], 64 * 1024)
    ]
    assert "deed" not in detail["data"]  # the file is an attachment, not an answer
    refused = await citizen.post(f"{ME}/{public_id}/submit")
    assert errors_of(refused) == {"document:deed": "Joignez ce document avant de déposer votre demande."}


async def test_a_document_field_is_attached_then_the_request_submitted(citizen: GuichetClient) -> None:
    public_id = await document_draft(citizen, owner=True)
    attached = await citizen.post(
        f"{ME}/{public_id}/attachments",
        data={"document": "deed"},
        files={"file": ("titre.pdf", PDF, "application/pdf")},
    )
    assert attached.status_code == 201, attached.text
    assert (await citizen.post(f"{ME}/{public_id}/submit")).status_code == 200


async def test_a_document_field_whose_condition_is_not_met_is_not_asked_for(citizen: GuichetClient) -> None:
    public_id = await document_draft(citizen, owner=False)
    assert (await citizen.get(f"{ME}/{public_id}")).json()["documents"] == []
    assert (await citizen.post(f"{ME}/{public_id}/submit")).status_code == 200


async def test_the_draft_page_lists_a_document_field_with_its_upload(citizen: GuichetClient) -> None:
    public_id = await document_draft(citizen, owner=True)
    page = (await citizen.get(f"/mes-demandes/{public_id}")).text
    assert 'id="fichier-deed"' in page and 'accept="application/pdf"' in page
    assert 'name="deed"' not in page  # no text box for it among the answers


def test_a_document_field_in_a_form_filed_without_an_account_makes_the_service_unavailable(app: Starlette) -> None:
    registry = app.state.registry
    provided = registry.services[KEY]
    broken = [FormField("proof", Localized("Justificatif"), kind="document")]
    with pytest.raises(ServiceUnavailable):
        _with_field_documents(provided, broken)


async def test_the_agents_case_page_reads_typed_answers_in_words(app: Starlette, client: GuichetClient) -> None:
    filed = await client.post(API, json={"data": GOOD_JSON})
    reference = filed.json()["reference"]
    async with GuichetClient(app) as agent:
        await sign_in_staff(agent, "alix.agent", f"agent:corbas:{KEY}")
        page = html.unescape((await agent.get(f"/agents/corbas/demandes/{reference}")).text)
    assert '<dt>Jours de cantine</dt><dd class="user-text">Lundi, Jeudi</dd>' in page
    assert '<dt>Une allergie ?</dt><dd class="user-text">Oui</dd>' in page
    assert "12 bis rue des Lilas, 69200 VÉNISSIEUX" in page


async def test_the_agents_api_keeps_the_types(app: Starlette, client: GuichetClient) -> None:
    reference = (await client.post(API, json={"data": GOOD_JSON})).json()["reference"]
    _id, token = staff_token(app, "alix.agent", f"agent:corbas:{KEY}:reader")
    async with GuichetClient(app) as agent:
        agent.headers["Authorization"] = f"Bearer {token}"
        case = (await agent.get(f"/api/v1/communes/corbas/requests/{reference}")).json()
    assert case["data"]["home"] == HOME and case["data"]["children"] == 2 and case["data"]["days"] == ["lundi", "jeudi"]


async def test_the_citizens_data_export_keeps_the_types(citizen: GuichetClient) -> None:
    public_id = await document_draft(citizen, owner=False)
    assert (await citizen.post(f"{ME}/{public_id}/submit")).status_code == 200
    answer = await citizen.submit("/mon-compte/donnees/archive", {}, page="/mon-compte/donnees")
    data = json.loads(zipfile.ZipFile(io.BytesIO(answer.content)).read("data.json"))
    assert data["requests"][0]["form"] == {"owner": False}


async def test_a_draft_saved_from_its_page_keeps_a_yes_no_answer_as_a_boolean(citizen: GuichetClient) -> None:
    public_id = await document_draft(citizen, owner=False)
    page = f"/mes-demandes/{public_id}"
    saved = await citizen.submit(page, {"owner": "yes", "action": "enregistrer"})
    assert saved.status_code == 200
    assert 'name="owner" value="yes" checked' in saved.text
    assert (await citizen.get(f"{ME}/{public_id}")).json()["data"] == {"owner": True}


async def test_an_agent_at_the_counter_files_typed_answers(app: Starlette) -> None:
    async with GuichetClient(app) as agent:
        await sign_in_staff(agent, "alix.agent", f"agent:corbas:{KEY}:instructor")
        page = await agent.get(f"/agents/corbas/guichet/{KEY}")
        assert 'name="home.street"' in page.text and 'autocomplete="off"' in page.text
        filed = await agent.submit(f"/agents/corbas/guichet/{KEY}", GOOD_FORM)
    assert filed.status_code == 303, filed.text
    [data] = stored(app)
    assert data["days"] == ["lundi", "jeudi"] and data["allergy"] is True and data["home"] == HOME


async def test_agents_find_a_document_fields_file_with_the_attachments_not_among_the_answers(
    app: Starlette, citizen: GuichetClient
) -> None:
    public_id = await document_draft(citizen, owner=True)
    upload = {"file": ("titre.pdf", PDF, "application/pdf")}
    assert (await citizen.post(f"{ME}/{public_id}/attachments", data={"document": "deed"}, files=upload)).is_success
    reference = (await citizen.post(f"{ME}/{public_id}/submit")).json()["reference"]
    async with GuichetClient(app) as agent:
        await sign_in_staff(agent, "alix.agent", f"agent:corbas:{field_kinds.WITH_DOCUMENT.key}")
        page = html.unescape((await agent.get(f"/agents/corbas/demandes/{reference}")).text)
    answers = page[page.index('<dl class="case-data">') :]
    answers = answers[: answers.index("</dl>")]
    assert "<dt>Propriétaire ?</dt>" in answers and "Titre de propriété" not in answers
    assert "Titre de propriété" in page and "titre.pdf" in page


async def test_errors_speak_english_naming_the_address_part(client: GuichetClient) -> None:
    data = {**GOOD_JSON, "children": 0, "home": {**HOME, "postcode": "1234"}}
    answer = await client.post(API, json={"data": data}, headers={"accept-language": "en"})
    assert errors_of(answer) == {
        "children": "Enter a whole number from 1 to 9.",
        "home": "Postcode: Enter a 5-digit postcode, for example 69200.",
    }
