"""Values a plugin derives and records on a request (API 1.2): declared names only, plain values only."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from starlette.applications import Starlette

from gateway import DerivedValue, Localized, ServiceDefinition
from gateway.requests.backoffice.commands import BackOfficeCommands
from gateway.requests.lifecycle import CitizenRequests
from gateway.testing import (
    GuichetClient,
    agent_of,
    attach_document,
    request_handle,
    save_draft,
    sign_in_agent,
    start_draft,
    stored_request,
    submit_request,
    verified_citizen,
)

SCHOOL = "inscription-scolaire"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def school_answers() -> dict[str, Any]:
    """A registration for next school year, as of the day the test runs (not the day the module was imported)."""
    year = date.today().year if date.today().month >= 9 else date.today().year - 1
    return {
        "child_first_names": "Léa",
        "child_last_name": "Exemple",
        "child_birth_date": f"{year + 1 - 6}-05-17",
        "school_year": f"{year + 1}-{year + 2}",
        "applicant_authority": "parent",
        "address": {"number": 12, "suffix": "", "street": "rue des Tilleuls-Imaginaires", "complement": "",
                    "postcode": "69200", "town": "Vénissieux"},
        "leaving_school": False,
        "derogation": "no",
    }  # fmt: skip


def test_a_declared_value_is_kept_with_the_answers() -> None:
    handle = request_handle("ecole", "corbas", {"street": "rue A"}, derived=("school", "level"))
    handle.record_value("school", "ecole-a")
    handle.record_value("level", "cp")
    assert dict(handle.data) == {"street": "rue A", "school": "ecole-a", "level": "cp"}


@pytest.mark.parametrize("name", ["street", "other", ""])
def test_a_name_the_service_does_not_declare_is_refused(name: str) -> None:
    handle = request_handle("ecole", "corbas", {"street": "rue A"}, derived=("school",))
    with pytest.raises(ValueError, match="not a derived value"):
        handle.record_value(name, "x")
    assert dict(handle.data) == {"street": "rue A"}


@pytest.mark.parametrize("value", ["x" * 201, ["a"], {"a": 1}, 1.5])
def test_only_short_text_numbers_booleans_or_none_are_kept(value: object) -> None:
    handle = request_handle("ecole", "corbas", {}, derived=("school",))
    with pytest.raises(ValueError):
        handle.record_value("school", value)  # type: ignore[arg-type]


@pytest.mark.parametrize("derived", [("School",), ("school", "school"), ("a b",)])
def test_a_service_declares_distinct_lower_case_names(derived: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="derived values"):
        ServiceDefinition(key="ecole", title=Localized("École"), description=Localized("d"), reference_prefix="EC",
                          purpose=Localized("p"), derived=derived)  # fmt: skip


def test_a_correction_keeps_the_values_derived_at_submission(guichet_app: Starlette) -> None:
    """The school plugin records level and school at submission; a correction the town hall asks for keeps them."""
    family = verified_citizen(guichet_app, email="camille@example.org")
    draft = start_draft(guichet_app, family, "venissieux", SCHOOL)
    answers = school_answers()
    save_draft(guichet_app, family, draft.public_id, answers)
    for document in ("identity_filiation", "proof_of_address", "vaccinations"):
        attach_document(guichet_app, family, draft.public_id, document, f"{document}.pdf", PDF)
    filed = submit_request(guichet_app, family, draft.public_id, answers).request
    assert filed.data["school"] == "elementaire-des-tilleuls"
    agent = agent_of(guichet_app, "venissieux", SCHOOL)
    BackOfficeCommands(guichet_app.state.db, guichet_app.state.registry).ask_citizen(
        agent.caller, "venissieux", filed.reference or "", "Merci de préciser le second parent.", expected_version=None
    )
    corrected = {**answers, "other_parent": "Dominique Exemple"}
    _row, errors = CitizenRequests(guichet_app.state.db, guichet_app.state.registry).correct(
        family.caller, filed.public_id, corrected
    )
    assert errors == []
    stored = stored_request(guichet_app, filed.public_id)
    assert stored.data["other_parent"] == "Dominique Exemple"
    assert (stored.data["level"], stored.data["school"]) == ("cp", "elementaire-des-tilleuls")


# In words (API 1.2, DerivedValue) ---------------------------------------------------------------------------

WORDED = DerivedValue("level", Localized("Niveau", "Level"), {"cp": Localized("CP", "Year 1")})


def test_a_worded_value_is_its_name_so_plain_names_and_worded_ones_mix() -> None:
    service = ServiceDefinition(key="ecole", title=Localized("École"), description=Localized("d"),
                                reference_prefix="EC", purpose=Localized("p"), derived=(WORDED, "school"))  # fmt: skip
    assert service.derived == ("level", "school") and service.derived_value("level") is WORDED
    assert service.derived_value("school") is None  # a plain name: shown as stored
    assert WORDED.wording("cp") == Localized("CP", "Year 1") and WORDED.wording("ce1") is None


def test_a_worded_value_is_recorded_like_a_plain_one() -> None:
    handle = request_handle("ecole", "corbas", {}, derived=(WORDED,))
    handle.record_value("level", "cp")
    assert dict(handle.data) == {"level": "cp"}


def filed_school_request(app: Starlette) -> str:
    family = verified_citizen(app, email="camille@example.org")
    draft = start_draft(app, family, "venissieux", SCHOOL)
    answers = school_answers()
    save_draft(app, family, draft.public_id, answers)
    for document in ("identity_filiation", "proof_of_address", "vaccinations"):
        attach_document(app, family, draft.public_id, document, f"{document}.pdf", PDF)
    return submit_request(app, family, draft.public_id, answers).request.reference or ""


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("fr", ("<dt>Niveau (calculé)</dt>", '<dd class="user-text">CP</dd>', "Adresse couverte : école de secteur")),
        ("en", ("<dt>Level (computed)</dt>", "<dt>Assigned school</dt>", "Address covered: catchment school")),
    ],
)
async def test_the_agent_page_shows_derived_values_in_words_in_its_language(
    guichet_app: Starlette, language: str, words: tuple[str, ...]
) -> None:
    reference = filed_school_request(guichet_app)
    async with GuichetClient(guichet_app) as agent:
        await sign_in_agent(agent, "venissieux", SCHOOL)
        page = await agent.get(f"/agents/venissieux/demandes/{reference}", headers={"accept-language": language})
    assert page.status_code == 200
    assert all(word in page.text for word in words), page.text
    assert "<dt>catchment</dt>" not in page.text and ">covered<" not in page.text


async def test_the_agent_api_gives_derived_values_with_their_words(guichet_app: Starlette) -> None:
    reference = filed_school_request(guichet_app)
    async with GuichetClient(guichet_app) as agent:
        await sign_in_agent(agent, "venissieux", SCHOOL)
        case = (await agent.get(f"/api/v1/communes/venissieux/requests/{reference}")).json()
    assert case["data"]["level"] == "cp"  # the stored value is unchanged
    derived = {item["name"]: item for item in case["derived"]}
    assert derived["level"]["label"] == {"fr": "Niveau (calculé)", "en": "Level (computed)"}
    assert derived["level"]["value"] == "cp" and derived["level"]["value_label"]["fr"] == "CP"
    assert derived["school_name"]["value_label"] is None  # a value the plugin does not word: as stored
