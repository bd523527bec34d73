"""Siblings registered together: one draft per child with its own documents, filed in one go, decided one by one.

Through the core's family drafts (plugin API 1.2): the applicant, the address
and the school year are shared, each child's names, birth date, previous
school and dérogation are their own; the proof of address is copied into the
younger child's draft, the filiation and the vaccinations are not.
"""

from __future__ import annotations

from datetime import date

from guichet_inscription_scolaire.levels import open_school_years
from starlette.applications import Starlette

from gateway.testing import (
    TestCitizen,
    add_family_member,
    agent_of,
    attach_document,
    issued_documents,
    save_draft,
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
SHARED = {
    "school_year": f"{YEAR}-{YEAR + 1}",
    "applicant_authority": "parent",
    "other_parent": "",
    "other_parent_phone": "",
    "address": {"number": 12, "suffix": "", "street": "Rue des Tilleuls Imaginaires", "complement": "",
                "postcode": "69200", "town": "Vénissieux"},
}  # fmt: skip
LEA = {"child_first_names": "Léa", "child_last_name": "Exemple-Démo", "child_birth_date": f"{YEAR - 6}-05-17",
       "leaving_school": False, "derogation": "no"}  # fmt: skip
NOE = {"child_first_names": "Noé", "child_last_name": "Exemple-Démo", "child_birth_date": f"{YEAR - 3}-02-11",
       "leaving_school": False, "derogation": "no"}  # fmt: skip
CHILDS_OWN = ("identity_filiation", "vaccinations")


def parent(app: Starlette) -> TestCitizen:
    return verified_citizen(app, given_name="Camille", family_name="Exemple-Démo", email="camille@example.org")


def siblings(app: Starlette, caller: TestCitizen, *, noe_documents: tuple[str, ...] = CHILDS_OWN) -> tuple[str, str]:
    """Léa's draft with every document, then Noé's added to her family with his own documents: their public ids."""
    lea = start_draft(app, caller, HOME, KEY).public_id
    save_draft(app, caller, lea, {**SHARED, **LEA})
    for document in ("proof_of_address", *CHILDS_OWN):
        attach_document(app, caller, lea, document, f"{document}.pdf", PDF)
    noe = add_family_member(app, caller, lea).public_id
    save_draft(app, caller, noe, {**stored_request(app, noe).data, **NOE})
    for document in noe_documents:
        attach_document(app, caller, noe, document, f"{document}.pdf", PDF)
    return lea, noe


def test_the_younger_childs_draft_holds_the_shared_answers_and_not_leas(guichet_app: Starlette) -> None:
    caller = parent(guichet_app)
    lea = start_draft(guichet_app, caller, HOME, KEY).public_id
    save_draft(guichet_app, caller, lea, {**SHARED, **LEA})
    noe = add_family_member(guichet_app, caller, lea)
    assert noe.data["address"] == SHARED["address"] and noe.data["school_year"] == SHARED["school_year"]
    assert "child_first_names" not in noe.data and "child_birth_date" not in noe.data


def test_siblings_are_filed_together_each_assigned_the_school_for_their_level(guichet_app: Starlette) -> None:
    caller = parent(guichet_app)
    lea, noe = siblings(guichet_app, caller)
    outcome = submit_request(guichet_app, caller, lea, {**SHARED, **LEA})
    assert not outcome.errors, [(error.field, error.message.fr) for error in outcome.errors]
    first, second = stored_request(guichet_app, lea), stored_request(guichet_app, noe)
    assert first.family_id is not None and first.family_id == second.family_id
    assert first.reference and second.reference and first.reference != second.reference
    assert (first.data["level"], first.data["school"]) == ("cp", "elementaire-des-tilleuls")
    assert second.data["level"] == "ps" and second.data["school"] and second.data["school"] != first.data["school"]


def test_a_siblings_missing_vaccination_record_files_neither_and_names_him(guichet_app: Starlette) -> None:
    caller = parent(guichet_app)
    lea, noe = siblings(guichet_app, caller, noe_documents=("identity_filiation",))
    outcome = submit_request(guichet_app, caller, lea, {**SHARED, **LEA})
    assert [error.field for error in outcome.member_errors[noe]] == ["document:vaccinations"]
    assert stored_request(guichet_app, lea).status == "draft" and stored_request(guichet_app, noe).status == "draft"


def test_each_sibling_is_decided_on_their_own(guichet_app: Starlette) -> None:
    caller = parent(guichet_app)
    lea, noe = siblings(guichet_app, caller)
    submit_request(guichet_app, caller, lea, {**SHARED, **LEA})
    agent = agent_of(guichet_app, HOME, KEY, username="instructeur.fratrie")
    reference = stored_request(guichet_app, noe).reference
    assert reference is not None
    accepted = take_transition(guichet_app, agent, HOME, reference, "accept")
    assert accepted.status == "accepted" and len(issued_documents(guichet_app, noe)) == 1
    assert stored_request(guichet_app, lea).status == "submitted" and issued_documents(guichet_app, lea) == []
