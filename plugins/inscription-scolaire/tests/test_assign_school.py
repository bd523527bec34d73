"""An address off the catchment map: an instructor assigns the school by hand, and the request goes on from there.

The step is ``assign_school``, a transition asking a choice (plugin API 1.2,
``Transition.choice``): the commune's schools teaching the child's level,
offered by this plugin for the very request. Taken through the agent's page
and the API, as an agent does, on the demo configuration of Vénissieux.
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

import pytest
from guichet_inscription_scolaire.levels import open_school_years, school_year_label
from starlette.applications import Starlette

from gateway.testing import (
    ActionNotAllowed,
    FiledRequest,
    GuichetClient,
    InvalidInput,
    agent_of,
    assert_audited,
    attach_document,
    issued_documents,
    save_draft,
    sign_in_agent,
    sign_in_staff,
    start_draft,
    stored_request,
    submit_request,
    take_transition,
    verified_citizen,
)

KEY = "inscription-scolaire"
HOME = "venissieux"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
YEAR = open_school_years(date.today())[1]
#: a child entering CP in the coming school year, at an address Vénissieux's catchment map does not cover
ANSWERS: dict[str, Any] = {
    "child_first_names": "Léa Marie",
    "child_last_name": "Exemple-Démo",
    "child_birth_date": f"{YEAR - 6}-05-17",
    "school_year": school_year_label(YEAR),
    "applicant_authority": "parent",
    "other_parent": "",
    "other_parent_phone": "",
    "address": {"number": 7, "suffix": "", "street": "impasse des Essais", "complement": "",
                "postcode": "69200", "town": "Vénissieux"},
    "leaving_school": False,
    "derogation": "no",
}  # fmt: skip
DOCUMENTS = ("identity_filiation", "proof_of_address", "vaccinations")
TILLEULS = "elementaire-des-tilleuls"
GINKGOS = "maternelle-des-ginkgos"
BOARD_SCHOOL = "École élémentaire des Tilleuls-Imaginaires"


def filed(app: Starlette, **changes: Any) -> FiledRequest:
    caller = verified_citizen(app, given_name="Camille", family_name="Exemple-Démo", email="camille@example.org")
    draft = start_draft(app, caller, HOME, KEY)
    save_draft(app, caller, draft.public_id, {**ANSWERS, **changes})
    for document in DOCUMENTS:
        attach_document(app, caller, draft.public_id, document, f"{document}.pdf", PDF)
    outcome = submit_request(app, caller, draft.public_id, {**ANSWERS, **changes})
    assert not outcome.errors, [(e.field, e.message.fr) for e in outcome.errors]
    return outcome.request


def off_the_map(app: Starlette) -> FiledRequest:
    row = filed(app)
    assert row.data["catchment"] == "uncovered"
    return row


def step(app: Starlette, row: FiledRequest, name: str, **kw: str) -> FiledRequest:
    agent = agent_of(app, HOME, KEY, username=f"instructeur.{secrets.token_hex(3)}")
    return take_transition(app, agent, HOME, row.reference or "", name, **kw)


async def signed_in(agent: GuichetClient) -> None:
    await sign_in_agent(agent, HOME, KEY, username=f"agent.{HOME}.{secrets.token_hex(3)}")


async def posted_assignment(app: Starlette, row: FiledRequest, school: str) -> Any:
    page = f"/agents/{HOME}/demandes/{row.reference}"
    async with GuichetClient(app) as agent:
        await signed_in(agent)
        return await agent.submit(
            f"{page}/transition",
            {"transition": "assign_school", "version": str(row.version), "choice": school, "comment": ""},
            page=page,
        )


async def accepted_cp_places(app: Starlette) -> int:
    async with GuichetClient(app) as http:
        await sign_in_staff(http, f"lecteur.{secrets.token_hex(3)}", f"agent:{HOME}:{KEY}:reader")
        found = (await http.get(f"/api/v1/communes/{HOME}/services/{KEY}/places")).json()
    label = f"{BOARD_SCHOOL} — {school_year_label(YEAR)}"
    (group,) = [g for g in found["groups"] if g["label"] and g["label"]["fr"] == label]
    (row,) = [place for place in group["places"] if place["match"].get("level") == "cp"]
    return int(row["accepted"])


# The service layer ------------------------------------------------------------------------------------------


def test_assigning_a_school_records_it_and_clears_the_flag(guichet_app: Starlette) -> None:
    row = step(guichet_app, off_the_map(guichet_app), "assign_school", choice=TILLEULS)
    assert row.status == "submitted"
    assert (row.data["school"], row.data["catchment"]) == (TILLEULS, "assigned")
    assert row.data["school_name"] == "École élémentaire des Tilleuls-Imaginaires"
    assert "HORS CARTE SCOLAIRE" not in (row.summary or "") and "Tilleuls" in (row.summary or "")


def test_an_assigned_registration_is_accepted_with_its_certificate_naming_the_school(guichet_app: Starlette) -> None:
    row = step(guichet_app, off_the_map(guichet_app), "assign_school", choice=TILLEULS)
    accepted = step(guichet_app, row, "accept")
    assert accepted.status == "accepted" and accepted.data["school"] == TILLEULS
    (issued,) = issued_documents(guichet_app, accepted.public_id)
    assert not issued.revoked and accepted.data["school_name"] == BOARD_SCHOOL


def test_a_school_not_teaching_the_childs_level_is_refused_and_nothing_is_written(guichet_app: Starlette) -> None:
    row = off_the_map(guichet_app)
    with pytest.raises(InvalidInput) as refused:
        step(guichet_app, row, "assign_school", choice=GINKGOS)  # a nursery school, for CP
    assert "liste" in refused.value.reason.fr
    after = stored_request(guichet_app, row.public_id)
    assert (after.version, after.data["catchment"], after.data["school"]) == (row.version, "uncovered", "")


def test_no_school_at_all_is_refused(guichet_app: Starlette) -> None:
    row = off_the_map(guichet_app)
    with pytest.raises(InvalidInput):
        step(guichet_app, row, "assign_school")
    assert stored_request(guichet_app, row.public_id).version == row.version


def test_a_covered_address_has_no_school_to_assign(guichet_app: Starlette) -> None:
    covered = filed(guichet_app, address={**ANSWERS["address"], "number": 12, "street": "rue des Tilleuls-Imaginaires"})
    with pytest.raises(ActionNotAllowed):
        step(guichet_app, covered, "assign_school", choice=TILLEULS)


def test_a_school_is_assigned_once(guichet_app: Starlette) -> None:
    row = step(guichet_app, off_the_map(guichet_app), "assign_school", choice=TILLEULS)
    with pytest.raises(ActionNotAllowed):
        step(guichet_app, row, "assign_school", choice=TILLEULS)


def test_the_assignment_is_audited_under_the_services_purpose(guichet_app: Starlette) -> None:
    step(guichet_app, off_the_map(guichet_app), "assign_school", choice=TILLEULS)
    assert_audited(guichet_app, "request.transition", commune=HOME, outcome="success")
    assert_audited(guichet_app, f"{KEY}.school-assigned", commune=HOME, outcome="success")


async def test_an_assigned_and_accepted_registration_holds_a_place_on_the_board(guichet_app: Starlette) -> None:
    before = await accepted_cp_places(guichet_app)
    step(guichet_app, step(guichet_app, off_the_map(guichet_app), "assign_school", choice=TILLEULS), "accept")
    assert await accepted_cp_places(guichet_app) == before + 1


# The agent's page ---------------------------------------------------------------------------------------------


async def test_the_page_offers_only_the_communes_schools_teaching_the_level(guichet_app: Starlette) -> None:
    row = off_the_map(guichet_app)
    async with GuichetClient(guichet_app) as agent:
        await signed_in(agent)
        page = (await agent.get(f"/agents/{HOME}/demandes/{row.reference}")).text
    assert '<label for="choix-assign_school">École attribuée</label>' in page
    assert f'<option value="{TILLEULS}">' in page and f'<option value="{GINKGOS}">' not in page


async def test_the_page_assigns_the_school_chosen(guichet_app: Starlette) -> None:
    row = off_the_map(guichet_app)
    answer = await posted_assignment(guichet_app, row, TILLEULS)
    assert answer.status_code == 303, answer.text
    assert stored_request(guichet_app, row.public_id).data["school"] == TILLEULS


async def test_the_page_refuses_a_school_not_offered_with_the_reason(guichet_app: Starlette) -> None:
    row = off_the_map(guichet_app)
    answer = await posted_assignment(guichet_app, row, GINKGOS)
    assert answer.status_code == 422
    assert "Rien n'a été enregistré" in answer.text and "Choisissez une option dans la liste." in answer.text
    assert stored_request(guichet_app, row.public_id).data["catchment"] == "uncovered"


async def test_the_page_sends_an_agent_who_chose_nothing_to_the_list(guichet_app: Starlette) -> None:
    answer = await posted_assignment(guichet_app, off_the_map(guichet_app), "")
    assert answer.status_code == 422 and '<a href="#choix-assign_school">' in answer.text


async def test_the_history_names_the_choice(guichet_app: Starlette) -> None:
    row = step(guichet_app, off_the_map(guichet_app), "assign_school", choice=TILLEULS)
    async with GuichetClient(guichet_app) as agent:
        await signed_in(agent)
        page = (await agent.get(f"/agents/{HOME}/demandes/{row.reference}")).text
    assert f"École attribuée : {TILLEULS}" in page


# The API ------------------------------------------------------------------------------------------------------


async def test_the_api_lists_the_choices_and_takes_one(guichet_app: Starlette) -> None:
    row = off_the_map(guichet_app)
    path = f"/api/v1/communes/{HOME}/requests/{row.reference}"
    async with GuichetClient(guichet_app) as agent:
        await signed_in(agent)
        agent.headers["x-csrftoken"] = await agent.csrf_token(f"/agents/{HOME}/demandes/{row.reference}")
        case = (await agent.get(path)).json()
        (offered,) = [t for t in case["transitions"] if t["name"] == "assign_school"]
        assert offered["choice"]["fr"] == "École attribuée"
        assert [option["value"] for option in offered["choices"]] == [TILLEULS]
        refused = await agent.post(f"{path}/transitions", json={"transition": "assign_school", "choice": GINKGOS,
                                                                 "version": case["version"]})  # fmt: skip
        assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
        taken = await agent.post(f"{path}/transitions", json={"transition": "assign_school", "choice": TILLEULS,
                                                               "version": case["version"]})  # fmt: skip
        assert taken.status_code == 200, taken.text
        history = (await agent.get(path)).json()["history"]
    assert any(event.get("transition") == "assign_school" and event["reason"] == TILLEULS for event in history)


async def test_the_queue_never_offers_the_assignment_in_bulk(guichet_app: Starlette) -> None:
    off_the_map(guichet_app)
    async with GuichetClient(guichet_app) as agent:
        await signed_in(agent)
        queue = await agent.get(f"/agents/{HOME}/demandes")
    assert queue.status_code == 200 and 'value="accept"' in queue.text
    assert 'value="assign_school"' not in queue.text  # each request's options are its own
