"""An inter-commune dérogation: what crosses to the receiving commune, and that nothing else does.

Vénissieux is the family's commune, Corbas the receiving one. A unique marker
is planted in every field and document Corbas must never see (the child's
names, the address, the other parent, the free text, the identity documents,
the family's e-mail); every answer a Corbas agent can get — the queue, its
search and CSV export, the file, its documents' ZIP, the JSON API — is read
and must hold none of them, while the level, the reason's category and the
requested school are there.
"""

from __future__ import annotations

import io
import secrets
import zipfile
from datetime import date
from typing import Any

import pytest
from guichet_inscription_scolaire.levels import open_school_years, school_year_label
from starlette.applications import Starlette

from gateway.testing import (
    FiledRequest,
    GuichetClient,
    TestCitizen,
    agent_of,
    attach_document,
    audit_records,
    commune_requests,
    save_draft,
    sign_in_agent,
    start_draft,
    submit_request,
    take_transition,
    verified_citizen,
)

KEY = "inscription-scolaire"
YEAR = open_school_years(date.today())[1]
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
EMAIL = "marque-courriel-3e1d@example.org"
ANSWERS: dict[str, Any] = {
    "child_first_names": "Marqueprenom Secondprenom",
    "child_last_name": "Marquenom-4b2c",
    "child_birth_date": f"{YEAR - 7}-04-04",
    "school_year": school_year_label(YEAR),
    "applicant_authority": "parent",
    "other_parent": "MARQUE-AUTREPARENT-77aa",
    "other_parent_phone": "0600000042",
    "address": {"number": 12, "suffix": "", "street": "rue des Tilleuls-Imaginaires",
                "complement": "MARQUE-COMPLEMENT-5d5d", "postcode": "69200", "town": "Vénissieux"},
    "leaving_school": False,
    "derogation": "elsewhere",
    "derogation_commune": "corbas",
    "derogation_school_elsewhere": "Groupe scolaire des Alouettes-Fictives",
    "derogation_reason": "medical",
    "derogation_details": "MARQUE-PRECISIONS-c0d4",
}  # fmt: skip
#: every document, each file named and filled with its own marker
FILES = {
    "identity_filiation": "MARQUE-IDENTITE-55e1",
    "proof_of_address": "MARQUE-DOMICILE-19f0",
    "vaccinations": "MARQUE-VACCINS-2a2a",
    "derogation_proof": "MARQUE-JUSTIFICATIF-0b7e",
}
MARKERS = (
    "Marqueprenom", "Secondprenom", "Marquenom-4b2c", "MARQUE-AUTREPARENT-77aa", "0600000042",
    "MARQUE-COMPLEMENT-5d5d", "Tilleuls-Imaginaires", "MARQUE-PRECISIONS-c0d4", EMAIL, f"{YEAR - 7}-04-04",
    *(f"{marker}.pdf" for marker in FILES.values()), *(f"CONTENU-{marker}" for marker in FILES.values()),
)  # fmt: skip


def file_elsewhere(app: Starlette, share_proof: str) -> tuple[TestCitizen, FiledRequest]:
    caller = verified_citizen(app, given_name="Marqueprenom", family_name="Marquenom-4b2c", email=EMAIL)
    draft = start_draft(app, caller, "venissieux", KEY)
    answers = {**ANSWERS, "derogation_share_proof": share_proof}
    save_draft(app, caller, draft.public_id, answers)
    for document, marker in FILES.items():
        attach_document(app, caller, draft.public_id, document, f"{marker}.pdf", PDF + f"% CONTENU-{marker}\n".encode())
    outcome = submit_request(app, caller, draft.public_id, answers)
    assert not outcome.errors, outcome.errors
    return caller, outcome.request


def linked(app: Starlette) -> FiledRequest:
    [row] = [row for row in commune_requests(app, "corbas") if row.service == KEY]
    return row


def readable(content: bytes) -> str:
    """A response as text, with the files of a ZIP answer read too."""
    if content.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return " ".join(name + archive.read(name).decode("latin-1") for name in archive.namelist())
    return content.decode("utf-8", "replace")


async def everything_corbas_sees(app: Starlette, reference: str) -> list[str]:
    seen = []
    async with GuichetClient(app) as agent:
        await sign_in_agent(agent, "corbas", KEY, level="supervisor", username=f"corbas.{secrets.token_hex(3)}")
        for path in (
            "/agents/corbas/demandes",
            f"/agents/corbas/demandes?q={reference}",
            "/agents/corbas/demandes.csv",
            f"/agents/corbas/demandes/{reference}",
            f"/agents/corbas/demandes/{reference}/documents.zip",
            "/api/v1/communes/corbas/requests",
            f"/api/v1/communes/corbas/requests/{reference}",
        ):
            answer = await agent.get(path)
            assert answer.status_code == 200, (path, answer.status_code)
            seen.append(readable(answer.content))
        for marker in ("Marquenom-4b2c", "Tilleuls", "MARQUE-PRECISIONS-c0d4"):
            page = await agent.get(f"/agents/corbas/demandes?q={marker}")
            assert reference not in page.text  # the search finds nothing by what Corbas does not hold
            seen.append(page.text.replace(marker, ""))  # the search box shows what was typed
    return seen


@pytest.mark.parametrize("share_proof", ["no", "yes"])
async def test_nothing_but_level_reason_school_and_the_chosen_proof_crosses(
    guichet_app: Starlette, share_proof: str
) -> None:
    file_elsewhere(guichet_app, share_proof)
    row = linked(guichet_app)
    assert dict(row.data) == {"level": "ce1", "derogation": "elsewhere", "derogation_reason": "medical",
                              "derogation_school_elsewhere": "Groupe scolaire des Alouettes-Fictives"}  # fmt: skip
    seen = await everything_corbas_sees(guichet_app, row.reference or "")
    assert "CE1" in seen[3] and "Alouettes-Fictives" in seen[3]  # the disclosed part is there (the level in words)
    proof_seen = any("MARQUE-JUSTIFICATIF-0b7e" in text for text in seen)
    assert proof_seen == (share_proof == "yes")
    hidden = MARKERS if share_proof == "no" else tuple(m for m in MARKERS if "JUSTIFICATIF" not in m)
    for text in seen:
        for marker in hidden:
            assert marker not in text, marker


async def test_corbas_cannot_open_the_home_request(guichet_app: Starlette) -> None:
    _, home = file_elsewhere(guichet_app, "no")
    async with GuichetClient(guichet_app) as agent:
        await sign_in_agent(agent, "corbas", KEY, level="supervisor")
        for path in (
            f"/agents/venissieux/demandes/{home.reference}",
            f"/api/v1/communes/venissieux/requests/{home.reference}",
        ):
            assert (await agent.get(path)).status_code in (403, 404)


async def test_corbas_reads_are_audited_under_corbas_with_the_familys_pseudonym(guichet_app: Starlette) -> None:
    caller, _ = file_elsewhere(guichet_app, "no")
    reference = linked(guichet_app).reference or ""
    await everything_corbas_sees(guichet_app, reference)
    reads = [r for r in audit_records(guichet_app, "request.read") if r.resource == f"request/{reference}"]
    assert reads and {(r.commune, r.subject) for r in reads} == {("corbas", caller.pseudonym)}


async def test_corbas_reads_the_home_agreement_with_its_cost_part_but_not_its_comment(guichet_app: Starlette) -> None:
    _, home = file_elsewhere(guichet_app, "no")
    supervisor = agent_of(guichet_app, "venissieux", KEY, level="supervisor")
    take_transition(guichet_app, supervisor, "venissieux", home.reference or "", "agree_derogation",
                    reason="costs-not-shared", comment="MARQUE-COMMENTAIRE-e9e9")  # fmt: skip
    reference = linked(guichet_app).reference or ""
    async with GuichetClient(guichet_app) as agent:
        await sign_in_agent(agent, "corbas", KEY, level="supervisor")
        page = (await agent.get(f"/agents/corbas/demandes/{reference}")).text
    assert "Accord, sans participation aux frais de scolarité" in page
    assert "MARQUE-COMMENTAIRE-e9e9" not in page
