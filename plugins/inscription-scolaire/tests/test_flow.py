"""A school registration from filing to certificate, through the real service layer on a real database.

Vénissieux (demo configuration) is the home commune; Corbas receives an
inter-commune dérogation; Saint-Fons offers the service without partners.
Every step is the core's, taken through the test kit as a page or the API
takes it, with this plugin's form, checks and workflow.
"""

from __future__ import annotations

import io
import secrets
from datetime import date
from typing import Any

import pypdf
import pytest
from guichet_inscription_scolaire.levels import open_school_years, school_year_label
from starlette.applications import Starlette

from gateway.testing import (
    ActionForbidden,
    ActionNotAllowed,
    FiledRequest,
    GuichetClient,
    TestAgent,
    TestCitizen,
    agent_of,
    assert_audited,
    attach_document,
    commune_requests,
    issued_documents,
    open_file,
    queued_messages,
    save_draft,
    sign_in_staff,
    start_draft,
    stored_request,
    submit_request,
    take_transition,
    verified_citizen,
    withdraw_request,
)

KEY = "inscription-scolaire"
HOME = "venissieux"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
YEAR = open_school_years(date.today())[1]
#: a child entering CP in the coming school year, living in the Tilleuls' catchment
ANSWERS: dict[str, Any] = {
    "child_first_names": "Léa Marie",
    "child_last_name": "Exemple-Démo",
    "child_birth_date": f"{YEAR - 6}-05-17",
    "school_year": school_year_label(YEAR),
    "applicant_authority": "parent",
    "other_parent": "",
    "other_parent_phone": "",
    "address": {"number": 12, "suffix": "", "street": "Rue des Tilleuls Imaginaires", "complement": "",
                "postcode": "69200", "town": "Vénissieux"},
    "leaving_school": False,
    "derogation": "no",
}  # fmt: skip
DOCUMENTS = ("identity_filiation", "proof_of_address", "vaccinations")


def family(app: Starlette) -> TestCitizen:
    return verified_citizen(app, given_name="Camille", family_name="Exemple-Démo", email="camille@example.org")


def draft_with_documents(app: Starlette, caller: TestCitizen, commune: str, *extra: str, **answers: Any) -> str:
    draft = start_draft(app, caller, commune, KEY)
    save_draft(app, caller, draft.public_id, {**ANSWERS, **answers})
    for document in (*DOCUMENTS, *extra):
        attach_document(app, caller, draft.public_id, document, f"{document}.pdf", PDF)
    return draft.public_id


def filed(app: Starlette, caller: TestCitizen | None = None, commune: str = HOME, extra: tuple[str, ...] = (),
          **changes: Any) -> FiledRequest:  # fmt: skip
    caller = caller or family(app)
    public_id = draft_with_documents(app, caller, commune, *extra, **changes)
    outcome = submit_request(app, caller, public_id, {**ANSWERS, **changes})
    assert not outcome.errors, [(e.field, e.message.fr) for e in outcome.errors]
    return outcome.request


def errors_of(app: Starlette, **changes: Any) -> dict[str, str]:
    caller = family(app)
    outcome = submit_request(app, caller, draft_with_documents(app, caller, HOME), {**ANSWERS, **changes})
    assert outcome.request.status == "draft"
    return {error.field: error.message.fr for error in outcome.errors}


def instructor(app: Starlette, commune: str = HOME) -> TestAgent:
    return agent_of(app, commune, KEY, username=f"instructeur.{commune}.{secrets.token_hex(3)}")


def supervisor(app: Starlette, commune: str = HOME) -> TestAgent:
    return agent_of(app, commune, KEY, level="supervisor", username=f"superviseur.{commune}.{secrets.token_hex(3)}")


def step(
    app: Starlette, agent: TestAgent, row: FiledRequest, name: str, commune: str = HOME, **kw: str
) -> FiledRequest:
    assert row.reference is not None
    return take_transition(app, agent, commune, row.reference, name, **kw)


def pdf_text(data: bytes) -> str:
    return pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text()


# Filing ------------------------------------------------------------------------------------------------------


def test_the_level_and_the_catchment_school_are_recorded_at_submission(guichet_app: Starlette) -> None:
    row = filed(guichet_app)
    assert {key: row.data[key] for key in ("level", "school", "school_name", "catchment")} == {
        "level": "cp",
        "school": "elementaire-des-tilleuls",
        "school_name": "École élémentaire des Tilleuls-Imaginaires",
        "catchment": "covered",
    }
    assert row.summary == "CP · École élémentaire des Tilleuls-Imaginaires"
    assert "Léa" not in (row.summary or "") and "Exemple" not in (row.summary or "")


def test_parity_picks_the_nursery_school_on_a_split_avenue(guichet_app: Starlette) -> None:
    nursery = {"child_birth_date": f"{YEAR - 3}-01-01"}
    odd = filed(guichet_app, address={**ANSWERS["address"], "number": 61, "street": "av. du Belvedere Fictif"},
                **nursery)  # fmt: skip
    low = filed(guichet_app, address={**ANSWERS["address"], "number": 59, "street": "Avenue du Belvédère-Fictif"},
                **nursery)  # fmt: skip
    assert (odd.data["level"], odd.data["school"]) == ("ps", "maternelle-du-belvedere")
    assert low.data["school"] == "maternelle-des-ginkgos"


def test_an_address_off_the_map_is_flagged_for_agents_not_refused(guichet_app: Starlette) -> None:
    row = filed(guichet_app, address={**ANSWERS["address"], "street": "impasse des Essais"})
    assert row.status == "submitted" and (row.data["school"], row.data["catchment"]) == ("", "uncovered")
    assert "HORS CARTE SCOLAIRE" in (row.summary or "")
    assert_audited(guichet_app, f"{KEY}.address-uncovered", outcome="failure", commune=HOME)
    with pytest.raises(ActionNotAllowed) as refused:
        step(guichet_app, instructor(guichet_app), row, "accept")
    assert "hors carte scolaire" in refused.value.reason.fr


@pytest.mark.parametrize("born", [YEAR - 11, YEAR - 1, YEAR + 1])
def test_a_child_outside_the_school_ages_is_refused_with_the_reason(guichet_app: Starlette, born: int) -> None:
    errors = errors_of(guichet_app, child_birth_date=f"{born}-03-03")
    assert "child_birth_date" in errors


def test_toute_petite_section_only_where_the_catchment_school_offers_it(guichet_app: Starlette) -> None:
    two = {"child_birth_date": f"{YEAR - 2}-02-02"}
    assert "toute petite section" in errors_of(guichet_app, **two)["child_birth_date"]  # Tilleuls → Belvédère
    ginkgos = {**ANSWERS["address"], "street": "rue des Ginkgos de Démonstration"}
    assert filed(guichet_app, address=ginkgos, **two).data["level"] == "tps"


def test_an_address_in_another_commune_is_refused(guichet_app: Starlette) -> None:
    errors = errors_of(guichet_app, address={**ANSWERS["address"], "town": "Corbas", "postcode": "69960"})
    assert "n'est pas à Vénissieux" in errors["address"]


def test_a_guardian_must_attach_the_court_decision(guichet_app: Starlette) -> None:
    assert "document:court_decision" in errors_of(guichet_app, applicant_authority="guardian")
    assert filed(guichet_app, extra=("court_decision",), applicant_authority="guardian").status == "submitted"


def test_leaving_another_school_needs_the_certificat_de_radiation(guichet_app: Starlette) -> None:
    assert "document:radiation" in errors_of(guichet_app, leaving_school=True)


# Acceptance and the certificate ------------------------------------------------------------------------------


def test_accepting_issues_the_certificate_with_first_name_initial_school_level_year(guichet_app: Starlette) -> None:
    row = step(guichet_app, instructor(guichet_app), filed(guichet_app), "accept")
    assert row.status == "accepted"
    [document] = issued_documents(guichet_app, row.public_id)
    text = pdf_text(document.pdf)
    order = ["Certificat d'inscription scolaire", "Enfant : Léa E.",
             "École : École élémentaire des Tilleuls-Imaginaires",
             "Niveau : CP", f"Année scolaire : {school_year_label(YEAR)}", "Code de vérification"]  # fmt: skip
    positions = [text.find(piece) for piece in order]
    assert -1 not in positions and positions == sorted(positions), text
    assert "Exemple-Démo" not in text and "Marie" not in text and str(YEAR - 6) not in text
    assert not document.revoked


def test_cancelling_an_accepted_registration_revokes_its_certificate(guichet_app: Starlette) -> None:
    agent = instructor(guichet_app)
    row = step(guichet_app, agent, filed(guichet_app), "accept")
    step(guichet_app, agent, row, "cancel", comment="Déménagement")
    [document] = issued_documents(guichet_app, row.public_id)
    assert document.revoked


def test_withdrawing_an_accepted_registration_revokes_its_certificate(guichet_app: Starlette) -> None:
    caller = family(guichet_app)
    row = step(guichet_app, instructor(guichet_app), filed(guichet_app, caller), "accept")
    withdraw_request(guichet_app, caller, row.public_id)
    [document] = issued_documents(guichet_app, row.public_id)
    assert document.revoked


def test_the_family_is_told_of_the_acceptance(guichet_app: Starlette) -> None:
    row = step(guichet_app, instructor(guichet_app), filed(guichet_app), "accept")
    kinds = [message.kind for message in queued_messages(guichet_app, public_id=row.public_id)]
    assert kinds == ["request-receipt", "request-transition"]


# In-commune dérogation ---------------------------------------------------------------------------------------

HERE = {"derogation": "here", "derogation_school": "elementaire-des-tilleuls", "derogation_reason": "sibling",
        "derogation_details": "Sa sœur est en CM1."}  # fmt: skip
GINKGOS = {**ANSWERS["address"], "street": "rue des Ginkgos-de-Démonstration"}


def test_asking_for_the_catchment_school_itself_is_no_derogation(guichet_app: Starlette) -> None:
    assert "derogation" in errors_of(guichet_app, **HERE)


def test_asking_a_school_without_the_level_is_refused(guichet_app: Starlette) -> None:
    errors = errors_of(guichet_app, **{**HERE, "derogation_school": "maternelle-du-belvedere"})
    assert "n'accueille pas le niveau CP" in errors["derogation_school"]


def test_an_instructor_prepares_but_only_a_supervisor_grants_a_derogation(guichet_app: Starlette) -> None:
    nursery = {**HERE, "derogation_school": "maternelle-du-belvedere", "child_birth_date": f"{YEAR - 4}-07-07"}
    row = filed(guichet_app, address=GINKGOS, **nursery)
    assert row.data["school"] == "maternelle-des-ginkgos"
    assert (
        "grant_derogation" not in open_file(guichet_app, instructor(guichet_app), HOME, row.reference or "").transitions
    )
    with pytest.raises(ActionForbidden) as refused:
        step(guichet_app, instructor(guichet_app), row, "grant_derogation", comment="Fratrie")
    assert "revient à un superviseur" in refused.value.reason.fr
    granted = step(guichet_app, supervisor(guichet_app), row, "grant_derogation", comment="Fratrie vérifiée")
    assert (granted.status, granted.data["school"]) == ("accepted", "maternelle-du-belvedere")
    assert "Belvédère" in pdf_text(issued_documents(guichet_app, row.public_id)[0].pdf)


def test_a_refused_derogation_registers_at_the_catchment_school(guichet_app: Starlette) -> None:
    nursery = {**HERE, "derogation_school": "maternelle-du-belvedere", "child_birth_date": f"{YEAR - 4}-07-07"}
    row = filed(guichet_app, address=GINKGOS, **nursery)
    done = step(guichet_app, supervisor(guichet_app), row, "refuse_derogation", reason="no-grounds", comment="Non.")
    assert (done.status, done.data["school"]) == ("accepted", "maternelle-des-ginkgos")


# Inter-commune dérogation ------------------------------------------------------------------------------------

ELSEWHERE = {"derogation": "elsewhere", "derogation_commune": "corbas",
             "derogation_school_elsewhere": "Groupe scolaire des Alouettes-Fictives",
             "derogation_reason": "working-hours",
             "derogation_details": "MARQUE-PRECISIONS-91c2", "derogation_share_proof": "no"}  # fmt: skip


def linked_in(app: Starlette, commune: str = "corbas") -> FiledRequest:
    [row] = [row for row in commune_requests(app, commune) if row.service == KEY]
    return row


def test_the_receiving_commune_gets_only_the_level_reason_and_school(guichet_app: Starlette) -> None:
    filed(guichet_app, **ELSEWHERE)
    linked = linked_in(guichet_app)
    assert dict(linked.data) == {"level": "cp", "derogation": "elsewhere", "derogation_reason": "working-hours",
                                 "derogation_school_elsewhere": "Groupe scolaire des Alouettes-Fictives"}  # fmt: skip
    assert linked.status == "received" and linked.summary == "Dérogation entrante · CP"


def test_a_commune_without_the_service_is_refused_before_anything_is_stored(guichet_app: Starlette) -> None:
    errors = errors_of(guichet_app, **{**ELSEWHERE, "derogation_commune": "grigny"})
    assert "derogation_commune" in errors
    assert [row for row in commune_requests(guichet_app, "grigny") if row.service == KEY] == []


def test_both_communes_decide_and_the_family_hears_each_outcome(guichet_app: Starlette) -> None:
    row = filed(guichet_app, **ELSEWHERE)
    agreed = step(guichet_app, supervisor(guichet_app), row, "agree_derogation", reason="costs-shared",
                  comment="Horaires vérifiés")  # fmt: skip
    assert agreed.status == "derogation_agreed"
    with pytest.raises(ActionNotAllowed):  # no place offered yet
        step(guichet_app, instructor(guichet_app), agreed, "register_elsewhere")
    linked = linked_in(guichet_app)
    with pytest.raises(ActionForbidden):  # the receiving commune's supervisor decides, not an instructor
        step(guichet_app, instructor(guichet_app, "corbas"), linked, "offer_place", "corbas", comment="ok")
    step(guichet_app, supervisor(guichet_app, "corbas"), linked, "offer_place", "corbas", comment="Place en CP")
    done = step(guichet_app, instructor(guichet_app), stored_request(guichet_app, row.public_id), "register_elsewhere")
    assert done.status == "accepted" and done.data["school"] == ""
    assert linked_in(guichet_app).status == "place_available"  # the receiving side's decision stays its own
    assert done.data["school_name"] == "Groupe scolaire des Alouettes-Fictives (Corbas)"
    assert "Alouettes-Fictives (Corbas)" in pdf_text(issued_documents(guichet_app, row.public_id)[0].pdf)
    kinds = [m.kind for m in queued_messages(guichet_app, public_id=row.public_id)]
    assert kinds.count("request-transition") == 2 and len(kinds) == 4, kinds  # receipt, agreed, place, accepted


def test_no_place_sends_the_child_to_the_catchment_school(guichet_app: Starlette) -> None:
    row = filed(guichet_app, **ELSEWHERE)
    step(guichet_app, supervisor(guichet_app), row, "agree_derogation", reason="costs-not-shared", comment="Accord")
    step(guichet_app, supervisor(guichet_app, "corbas"), linked_in(guichet_app), "no_place", "corbas",
         reason="level-full", comment="CP complet")  # fmt: skip
    done = step(guichet_app, supervisor(guichet_app), stored_request(guichet_app, row.public_id), "refuse_derogation",
                reason="no-place-elsewhere", comment="Pas de place à Corbas")  # fmt: skip
    assert (done.status, done.data["school"]) == ("accepted", "elementaire-des-tilleuls")


# The places board --------------------------------------------------------------------------------------------

BOARD_SCHOOL = "École élémentaire des Tilleuls-Imaginaires"


async def board(app: Starlette) -> dict[str, Any]:
    async with GuichetClient(app) as http:
        await sign_in_staff(http, "lecteur.places", f"agent:{HOME}:{KEY}:reader")
        answer = await http.get(f"/api/v1/communes/{HOME}/services/{KEY}/places")
    assert answer.status_code == 200, answer.text
    return answer.json()


def cp_row(found: dict[str, Any], year: int) -> dict[str, Any]:
    (group,) = [
        g for g in found["groups"] if g["label"] and g["label"]["fr"] == f"{BOARD_SCHOOL} — {school_year_label(year)}"
    ]
    (row,) = [place for place in group["places"] if place["match"].get("level") == "cp"]
    return row


async def test_an_accepted_registration_holds_a_place_and_a_filed_one_waits(guichet_app: Starlette) -> None:
    step(guichet_app, instructor(guichet_app), filed(guichet_app), "accept")
    filed(guichet_app)
    row = cp_row(await board(guichet_app), YEAR)
    assert (row["in_progress"], row["accepted"]) == (1, 1)
    assert row["left"] == row["capacity"] - 1


async def test_a_registration_counts_only_in_its_school_year(guichet_app: Starlette) -> None:
    filed(guichet_app)
    found = await board(guichet_app)
    assert cp_row(found, YEAR)["in_progress"] == 1 and cp_row(found, YEAR - 1)["in_progress"] == 0
