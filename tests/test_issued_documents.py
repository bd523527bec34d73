"""Documents a service issues for a request: the PDF, its signed payload, the public check, downloads, revocation.

The ``attestation`` test plugin issues a certificate when an agent accepts a
registration, through real HTTP, and revokes it when the registration is
cancelled; the citizen withdrawing revokes it too.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator

import pypdf
import pytest
import pytest_asyncio
from sqlmodel import col, select
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.models import AuditEntry, IssuedDocument
from gateway.requests.caller import Caller
from gateway.requests.document_proof import PayloadError, normalize_code, verify_payload
from gateway.requests.lifecycle import CitizenRequests
from gateway.requests.signing_keys import CommuneKeys
from gateway.requests.submission_keys import new_submission_key
from gateway.testing import ConfigFolder, GuichetClient, sign_in_staff
from tests.plugins import certificates
from tests.test_back_office import case_path, citizen_caller, post, version_on

CHILD = {"first_name": "Léa", "last_name": "Exemple", "school": "École Jean Jaurès", "level": "CP"}


@pytest_asyncio.fixture
async def app(guichet_config: ConfigFolder, guichet_database_url: str) -> AsyncIterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    for slug in ("corbas", "givors"):
        services = guichet_config.read(f"communes/{slug}.toml").get("services", {})
        guichet_config.set_commune(slug, services={**services, "attestation": {}})
    application = create_app(guichet_config.path, extra_plugins=[("certificates", certificates)])
    yield application
    application.state.db.dispose()


def register(app: Starlette, commune: str = "corbas") -> tuple[str, str, Caller]:
    """A registration filed by a signed-in citizen; (reference, public id, caller)."""
    caller = citizen_caller(app)
    requests = CitizenRequests(app.state.db, app.state.registry)
    draft = requests.start_draft(caller, commune, "attestation", submission_key=new_submission_key())
    requests.save_draft(caller, draft.public_id, CHILD)
    submitted = requests.submit(caller, draft.public_id)
    assert not submitted.errors and submitted.request.reference is not None, submitted.errors
    return submitted.request.reference, draft.public_id, caller


async def take(agent: GuichetClient, reference: str, transition: str, commune: str = "corbas") -> None:
    page = await agent.get(case_path(reference, commune))
    answer = await post(agent, f"{case_path(reference, commune)}/transition",
                        {"transition": transition, "version": version_on(page.text)})  # fmt: skip
    assert answer.status_code in (200, 303), answer.text


def issued(app: Starlette, reference: str) -> IssuedDocument:
    with app.state.db.session(all_communes=True) as session:
        row = session.exec(select(IssuedDocument).where(col(IssuedDocument.number).startswith(reference))).one()
        session.expunge(row)
        return row


@pytest_asyncio.fixture
async def agent(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as http:
        await sign_in_staff(http, "agent.corbas", "agent:corbas:attestation")
        yield http


async def accepted(app: Starlette, agent: GuichetClient) -> tuple[str, str, Caller, IssuedDocument]:
    reference, public_id, caller = register(app)
    await take(agent, reference, "accept")
    return reference, public_id, caller, issued(app, reference)


def pdf_text(data: bytes) -> str:
    return pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text()


def code_in(document: IssuedDocument) -> str:
    found = re.search(r"([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{3})", pdf_text(document.pdf))
    assert found, "no verification code in the PDF"
    return found.group(1)


# Issuing -------------------------------------------------------------------------------------------------


async def test_accepting_issues_one_numbered_document_after_the_reference(app: Starlette, agent: GuichetClient) -> None:
    reference, _, _, document = await accepted(app, agent)
    assert document.number == f"{reference}-1" and document.commune == "corbas" and document.revoked_at is None
    assert [entry.action for entry in audit_for(app, f"request/{reference}/document/{reference}-1")] == [
        "document.issue"
    ]


async def test_the_pdf_holds_title_and_lines_in_reading_order(app: Starlette, agent: GuichetClient) -> None:
    _, _, _, document = await accepted(app, agent)
    text = pdf_text(document.pdf)
    order = [
        "Corbas", "Certificat d'inscription scolaire", "Enfant : Léa E.", "Nom de famille : Exemple",
        "École : École Jean Jaurès", "Niveau : CP", "Année scolaire : 2026-2027", "Code de vérification",
    ]  # fmt: skip
    positions = [text.find(piece) for piece in order]
    assert -1 not in positions and positions == sorted(positions), text


async def test_the_pdf_embeds_its_fonts_and_declares_title_and_language(app: Starlette, agent: GuichetClient) -> None:
    _, _, _, document = await accepted(app, agent)
    reader = pypdf.PdfReader(io.BytesIO(document.pdf))
    assert reader.metadata is not None and reader.metadata.title == "Certificat d'inscription scolaire"
    assert reader.trailer["/Root"]["/Lang"] == "fr-FR"
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert fonts
    for font in (reference.get_object() for reference in fonts.values()):
        descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        assert "/FontFile2" in descendant["/FontDescriptor"], f"{font['/BaseFont']} is not embedded"


async def test_the_code_on_the_pdf_is_eleven_symbols_with_a_valid_check(app: Starlette, agent: GuichetClient) -> None:
    _, _, _, document = await accepted(app, agent)
    code = code_in(document)
    assert normalize_code(code) is not None
    assert normalize_code(code.lower().replace("-", " ")) == normalize_code(code)


def test_a_mistyped_symbol_fails_the_check() -> None:
    from gateway.requests.document_proof import ALPHABET, new_code

    code = new_code().replace("-", "")
    changed = ALPHABET[(ALPHABET.index(code[3]) + 1) % 32]
    assert normalize_code(code[:3] + changed + code[4:]) is None


# Offline verification -------------------------------------------------------------------------------------


async def test_the_payload_verifies_with_the_communes_published_key(app: Starlette, agent: GuichetClient) -> None:
    _, _, _, document = await accepted(app, agent)
    claims = verify_payload(document.payload, CommuneKeys(app.state.registry.settings).published("corbas"))
    assert claims.commune == "corbas" and claims.number == document.number
    assert claims.fields == {"child": "Léa E.", "school": "École Jean Jaurès", "level": "CP", "year": "2026-2027"}


async def test_a_tampered_payload_fails_verification(app: Starlette, agent: GuichetClient) -> None:
    import base64
    import json

    _, _, _, document = await accepted(app, agent)
    prefix, body, signature = document.payload.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["f"]["level"] = "CM2"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(PayloadError, match="signature does not match"):
        verify_payload(f"{prefix}.{forged}.{signature}", CommuneKeys(app.state.registry.settings).published("corbas"))


async def test_another_communes_key_does_not_verify_the_payload(app: Starlette, agent: GuichetClient) -> None:
    from dataclasses import replace

    _, _, _, document = await accepted(app, agent)
    keys = CommuneKeys(app.state.registry.settings)
    keys.signing_key("givors")
    impostor = [replace(key, commune="corbas") for key in keys.published("givors")]
    with pytest.raises(PayloadError):
        verify_payload(document.payload, impostor)


async def test_after_a_rotation_old_documents_still_verify_and_new_ones_use_the_new_key(
    app: Starlette, agent: GuichetClient
) -> None:
    _, _, _, old = await accepted(app, agent)
    keys = CommuneKeys(app.state.registry.settings)
    keys.generate_key("corbas")
    _, _, _, new = await accepted(app, agent)
    assert new.key_id != old.key_id
    published = keys.published("corbas")
    assert [key.current for key in published] == [True, False]
    for document in (old, new):
        assert verify_payload(document.payload, published).number == document.number


def audit_for(app: Starlette, resource: str) -> list[AuditEntry]:
    with app.state.db.session() as session:
        rows = session.exec(
            select(AuditEntry).where(AuditEntry.resource == resource).order_by(col(AuditEntry.seq))
        ).all()
        for row in rows:
            session.expunge(row)
        return list(rows)
