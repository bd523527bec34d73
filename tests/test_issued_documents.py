"""Documents a service issues for a request: the PDF, its signed payload, the public check, downloads, revocation.

The ``attestation`` test plugin issues a certificate when an agent accepts a
registration, through real HTTP, and revokes it when the registration is
cancelled; the citizen withdrawing revokes it too.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pypdf
import pytest
import pytest_asyncio
from click.testing import CliRunner, Result
from sqlmodel import col, select
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.audit.events import Actor
from gateway.cli import main
from gateway.models import AuditEntry, Citizen, IssuedDocument, ServiceRequest
from gateway.plugin import DocumentContent, DocumentLine, Localized
from gateway.requests import issuing
from gateway.requests.caller import Caller
from gateway.requests.document_proof import PayloadError, normalize_code, verify_payload
from gateway.requests.filing import Submission, file_together
from gateway.requests.lifecycle import CitizenRequests
from gateway.requests.rules import rules_for
from gateway.requests.signing_keys import CommuneKeys, PublicKey, public_key_from_text
from gateway.requests.submission_keys import new_submission_key
from gateway.testing import ConfigFolder, GuichetClient, sign_in_citizen, sign_in_staff
from tests.plugins import certificates, certificates_at_filing
from tests.test_back_office import case_path, citizen_caller, post, version_on

CHECK = "/documents/verifier"
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


def register(
    app: Starlette, commune: str = "corbas", caller: Caller | None = None, answers: dict[str, str] | None = None
) -> tuple[str, str, Caller]:
    """A registration filed by a signed-in citizen; (reference, public id, caller)."""
    caller = caller or citizen_caller(app)
    requests = CitizenRequests(app.state.db, app.state.registry)
    draft = requests.start_draft(caller, commune, "attestation", submission_key=new_submission_key())
    requests.save_draft(caller, draft.public_id, answers or CHILD)
    submitted = requests.submit(caller, draft.public_id)
    assert not submitted.errors and submitted.request.reference is not None, submitted.errors
    return submitted.request.reference, draft.public_id, caller


async def take(agent: GuichetClient, reference: str, transition: str, commune: str = "corbas") -> None:
    page = await agent.get(case_path(reference, commune))
    answer = await post(agent, f"{case_path(reference, commune)}/transition",
                        {"transition": transition, "version": version_on(page.text)})  # fmt: skip
    assert answer.status_code in (200, 303), answer.text


def signed_in_family(app: Starlette, family: GuichetClient) -> Caller:
    """Sign ``family`` in as a new citizen; the caller that files for them (so their pages show the request)."""
    citizen_id = sign_in_citizen(family)
    with app.state.db.session() as session:
        citizen = session.get(Citizen, citizen_id)
        assert citizen is not None
        return Caller(actor=Actor(f"citizen:{citizen.public_id}", "citizen"), origin="web test",
                      citizen_id=citizen_id, citizen_public_id=citizen.public_id)  # fmt: skip


def issued(app: Starlette, reference: str) -> IssuedDocument:
    with app.state.db.session(all_communes=True) as session:
        row = session.exec(select(IssuedDocument).where(col(IssuedDocument.number).startswith(reference))).one()
        session.expunge(row)
        return row


@pytest_asyncio.fixture
async def client(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as http:
        yield http


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


async def test_a_document_issued_as_the_request_is_filed_refers_to_the_stored_request(
    guichet_config: ConfigFolder, guichet_database_url: str
) -> None:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    services = guichet_config.read("communes/corbas.toml").get("services", {})
    guichet_config.set_commune("corbas", services={**services, "attestation": {}})
    application = create_app(guichet_config.path, extra_plugins=[("certificates", certificates_at_filing)])
    state = application.state
    try:
        rules = rules_for(state.registry, state.registry.commune("corbas"), "attestation")
        sent = Submission(CHILD, new_submission_key())
        filed = await file_together(state.db, state.writer, state.registry, rules, citizen_caller(application), sent)
        assert filed.request is not None and filed.request.reference is not None
        document = issued(application, filed.request.reference)
        assert document.request_id == filed.request.id
        with state.db.session(commune="corbas") as session:
            stored = session.get(ServiceRequest, filed.request.id)
            assert stored is not None and stored.summary == f"Certificat {document.number}"
    finally:
        state.writer.close()
        state.db.dispose()


async def test_a_hook_failing_after_issuing_leaves_no_document(app: Starlette, agent: GuichetClient) -> None:
    reference, _, _ = register(app, answers={**CHILD, "level": certificates.CRASHING_LEVEL})
    page = await agent.get(case_path(reference))
    answer = await post(
        agent, f"{case_path(reference)}/transition", {"transition": "accept", "version": version_on(page.text)}
    )
    assert answer.status_code == 503
    with app.state.db.session(all_communes=True) as session:
        assert session.exec(select(IssuedDocument)).first() is None
    assert audit_for(app, f"request/{reference}/document/{reference}-1") == []


async def test_without_a_signing_key_outside_a_demo_nothing_is_issued(
    guichet_config: ConfigFolder, guichet_database_url: str
) -> None:
    guichet_config.set_gateway(database={"url": guichet_database_url}, documents={"generate_if_missing": False})
    services = guichet_config.read("communes/corbas.toml").get("services", {})
    guichet_config.set_commune("corbas", services={**services, "attestation": {}})
    application = create_app(guichet_config.path, extra_plugins=[("certificates", certificates)])
    try:
        reference, _, _ = register(application)
        async with GuichetClient(application) as http:
            await sign_in_staff(http, "agent.corbas", "agent:corbas:attestation")
            page = await http.get(case_path(reference))
            answer = await post(http, f"{case_path(reference)}/transition",
                                {"transition": "accept", "version": version_on(page.text)})  # fmt: skip
        assert answer.status_code == 503
        with application.state.db.session(all_communes=True) as session:
            assert session.exec(select(IssuedDocument)).first() is None
    finally:
        application.state.db.dispose()


@pytest.mark.parametrize(
    ("change", "fault"),
    [
        ({"kind": "Certificat"}, "document kind"),
        ({"lines": ()}, "1 to 30 lines"),
        ({"lines": (DocumentLine("a", Localized("A"), "x"),)}, "1 to 6 confirmable lines"),
        (
            {"lines": (DocumentLine("a", Localized("A"), "x", True), DocumentLine("a", Localized("B"), "y"))},
            "share a name",
        ),
        ({"locale": "de"}, "'fr' or 'en'"),
    ],
)
def test_a_malformed_document_content_is_refused_when_built(change: dict[str, object], fault: str) -> None:
    valid: dict[str, object] = {"kind": "certificate", "title": Localized("Titre"),
                                "lines": (DocumentLine("a", Localized("A"), "x", True),)}  # fmt: skip
    with pytest.raises(ValueError, match=re.escape(fault)):
        DocumentContent(**{**valid, **change})  # type: ignore[arg-type]


def test_a_line_value_must_be_short_text() -> None:
    with pytest.raises(ValueError, match="1 to 200 characters"):
        DocumentLine("school", Localized("École"), "x" * 201)


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


# The public check page ---------------------------------------------------------------------------------------


async def check(client: GuichetClient, code: str) -> httpx.Response:
    return await client.submit(CHECK, {"code": code})


async def test_the_check_confirms_only_the_declared_fields_and_the_issuing_commune(
    app: Starlette, agent: GuichetClient, client: GuichetClient
) -> None:
    _, _, _, document = await accepted(app, agent)
    answer = await check(client, code_in(document))
    assert answer.status_code == 200
    text = answer.text
    for shown in ("Ce document a bien été délivré", "Corbas", document.number, "Léa E.", "École Jean Jaurès",
                  "2026-2027", "Certificat d&#39;inscription scolaire"):  # fmt: skip
        assert shown in text, shown
    assert "Exemple" not in text and "RÉVOQUÉ" not in text


async def test_a_code_typed_loosely_is_still_found(app: Starlette, agent: GuichetClient, client: GuichetClient) -> None:
    _, _, _, document = await accepted(app, agent)
    loose = code_in(document).lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert (await check(client, loose)).status_code == 200


async def test_a_wrong_code_is_refused_with_a_clear_message(client: GuichetClient) -> None:
    from gateway.requests.document_proof import new_code

    answer = await check(client, new_code())
    assert answer.status_code == 404
    assert "Aucun document ne correspond à ce code" in answer.text and 'aria-invalid="true"' in answer.text


async def test_a_malformed_code_says_what_a_code_looks_like(client: GuichetClient) -> None:
    answer = await check(client, "1234")
    assert answer.status_code == 400 and "il compte 11 caractères" in answer.text


async def test_guessing_codes_is_throttled_with_a_wait(client: GuichetClient) -> None:
    from gateway.identity.throttle import LIMITS
    from gateway.requests.document_proof import new_code

    for _ in range(LIMITS["document-check"] - 1):
        assert (await check(client, new_code())).status_code == 404
    locked = await check(client, new_code())
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "Trop d&#39;essais infructueux" in locked.text


async def test_a_cancelled_registrations_certificate_shows_as_revoked(
    app: Starlette, agent: GuichetClient, client: GuichetClient
) -> None:
    reference, _, _, document = await accepted(app, agent)
    await take(agent, reference, "cancel")
    assert issued(app, reference).revoked_reason == "inscription annulée"
    answer = await check(client, code_in(document))
    assert answer.status_code == 200 and "RÉVOQUÉ" in answer.text and "bien été délivré" not in answer.text


async def test_withdrawing_the_request_revokes_its_certificate(
    app: Starlette, agent: GuichetClient, client: GuichetClient
) -> None:
    reference, public_id, caller, document = await accepted(app, agent)
    CitizenRequests(app.state.db, app.state.registry).withdraw(caller, public_id)
    assert issued(app, reference).revoked_at is not None
    assert "RÉVOQUÉ" in (await check(client, code_in(document))).text


async def test_a_check_appears_in_the_familys_access_log(
    app: Starlette, agent: GuichetClient, client: GuichetClient
) -> None:
    async with GuichetClient(app) as family:
        caller = signed_in_family(app, family)
        reference, _, _ = register(app, caller=caller)
        await take(agent, reference, "accept")
        await check(client, code_in(issued(app, reference)))
        log = await family.get("/mon-compte/acces")
    assert "certificat vérifié" in log.text


# Keys and downloads -----------------------------------------------------------------------------------------


async def test_each_communes_keys_are_published_as_a_page_and_as_json(
    app: Starlette, agent: GuichetClient, client: GuichetClient
) -> None:
    _, _, _, document = await accepted(app, agent)
    page = await client.get("/documents/cles")
    assert page.status_code == 200 and document.key_id in page.text and "Corbas" in page.text
    listed = (await client.get("/documents/cles.json")).json()
    [corbas] = [commune for commune in listed["communes"] if commune["slug"] == "corbas"]
    [key] = corbas["keys"]
    assert key["key_id"] == document.key_id and key["algorithm"] == "Ed25519" and key["current"] is True
    published = [public_key_from_text(key["public_key"])]
    assert verify_payload(document.payload, [PublicKey("corbas", key["key_id"], published[0])])


async def test_the_family_downloads_the_pdf_from_their_request_and_it_is_recorded(
    app: Starlette, agent: GuichetClient
) -> None:
    async with GuichetClient(app) as family:
        caller = signed_in_family(app, family)
        reference, public_id, _ = register(app, caller=caller)
        await take(agent, reference, "accept")
        number = issued(app, reference).number
        page = await family.get(f"/mes-demandes/{public_id}")
        assert f"/mes-demandes/{public_id}/documents-delivres/{number}" in page.text
        download = await family.get(f"/mes-demandes/{public_id}/documents-delivres/{number}")
    assert download.status_code == 200 and download.headers["content-type"] == "application/pdf"
    assert download.content.startswith(b"%PDF") and download.headers["cache-control"] == "no-store"
    assert [e.actor_role for e in audit_for(app, f"request/{reference}/document/{number}")][-1] == "citizen"


async def test_another_citizen_cannot_download_the_document(
    app: Starlette, agent: GuichetClient, client: GuichetClient
) -> None:
    _, public_id, _, document = await accepted(app, agent)
    sign_in_citizen(client)
    answer = await client.get(f"/mes-demandes/{public_id}/documents-delivres/{document.number}")
    assert answer.status_code == 404


async def test_an_agent_with_rights_downloads_it_and_the_read_is_audited(app: Starlette, agent: GuichetClient) -> None:
    reference, _, _, document = await accepted(app, agent)
    page = await agent.get(case_path(reference))
    assert f"documents-delivres/{document.number}" in page.text
    download = await agent.get(f"{case_path(reference)}/documents-delivres/{document.number}")
    assert download.status_code == 200 and download.content == document.pdf
    actions = [e.action for e in audit_for(app, f"request/{reference}/document/{document.number}")]
    assert actions == ["document.issue", "document.download"]


async def test_another_communes_agent_cannot_download_it(app: Starlette, agent: GuichetClient) -> None:
    reference, _, _, document = await accepted(app, agent)
    async with GuichetClient(app) as other:
        await sign_in_staff(other, "agent.givors", "agent:givors:attestation")
        own_commune = await other.get(f"{case_path(reference, 'givors')}/documents-delivres/{document.number}")
        theirs = await other.get(f"{case_path(reference)}/documents-delivres/{document.number}")
    # a commune its grants do not reach is answered as not found (as for the request's file), and recorded
    assert own_commune.status_code == 404 and theirs.status_code == 404
    assert b"%PDF" not in theirs.content
    assert [entry.action for entry in audit_for(app, f"request/{reference}")][-1] == "access.denied"


async def test_an_unknown_document_number_is_404(app: Starlette, agent: GuichetClient) -> None:
    reference, _, _, _ = await accepted(app, agent)
    assert (await agent.get(f"{case_path(reference)}/documents-delivres/{reference}-9")).status_code == 404


# The offline verifier (guichet documents verify) and key rotation (guichet documents keygen) ------------------


def verify_cli(payload: str, key_source: str) -> Result:
    return CliRunner().invoke(main, ["documents", "verify", payload, "--key", key_source])


async def test_the_offline_verifier_accepts_a_payload_with_the_saved_published_keys(
    app: Starlette, agent: GuichetClient, client: GuichetClient, tmp_path: Path
) -> None:
    _, _, _, document = await accepted(app, agent)
    saved = tmp_path / "cles.json"
    saved.write_text((await client.get("/documents/cles.json")).text, encoding="utf-8")
    result = verify_cli(document.payload, str(saved))
    assert result.exit_code == 0, result.output
    assert f"valid: document {document.number} (certificate) issued by corbas" in result.output
    assert "  school: École Jean Jaurès" in result.output and "family_name" not in result.output


async def test_the_offline_verifier_refuses_a_tampered_payload(
    app: Starlette, agent: GuichetClient, client: GuichetClient, tmp_path: Path
) -> None:
    _, _, _, document = await accepted(app, agent)
    saved = tmp_path / "cles.json"
    saved.write_text((await client.get("/documents/cles.json")).text, encoding="utf-8")
    prefix, body, signature = document.payload.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    result = verify_cli(f"{prefix}.{body}.{flipped}", str(saved))
    assert result.exit_code == 1 and "NOT VALID" in result.output


async def test_the_offline_verifier_refuses_another_communes_key(
    app: Starlette, agent: GuichetClient, tmp_path: Path
) -> None:
    _, _, _, document = await accepted(app, agent)
    givors = CommuneKeys(app.state.registry.settings)
    givors.signing_key("givors")
    bare = tmp_path / "givors.key"
    bare.write_text(givors.published("givors")[0].text, encoding="ascii")
    result = verify_cli(document.payload, str(bare))
    assert result.exit_code == 1 and "signature does not match" in result.output


def test_the_offline_verifier_refuses_what_is_not_a_payload(tmp_path: Path) -> None:
    result = verify_cli("https://example.org/not-a-payload", str(tmp_path / "unused"))
    assert result.exit_code == 1 and "not a Guichet document payload" in result.output


async def test_keygen_rotates_a_communes_key_and_keeps_the_old_one_published(
    app: Starlette, agent: GuichetClient, guichet_config: ConfigFolder
) -> None:
    _, _, _, old = await accepted(app, agent)
    result = CliRunner().invoke(
        main, ["--config", str(guichet_config.path), "documents", "keygen", "--commune", "corbas"]
    )
    assert result.exit_code == 0, result.output
    published = CommuneKeys(app.state.registry.settings).published("corbas")
    assert len(published) == 2 and published[1].key_id == old.key_id and not published[1].current
    assert published[0].key_id in result.output


def test_keygen_refuses_an_unknown_commune(guichet_config: ConfigFolder) -> None:
    arguments = ["--config", str(guichet_config.path), "documents", "keygen", "--commune", "atlantis"]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 1 and "no commune 'atlantis'" in result.output


def test_a_hook_that_issues_can_be_unit_tested_with_the_test_kit() -> None:
    from gateway.testing import DocumentsIssued, request_handle

    documents = DocumentsIssued("ATT-1")
    handle = request_handle("attestation", "corbas", CHILD, reference="ATT-1", documents=documents)
    certificates.guichet_request_transition(handle, certificates.WORKFLOW.transitions[0])
    [content] = documents.issued
    assert [line.value for line in content.lines if line.confirmable] == ["Léa E.", "École Jean Jaurès", "CP",
                                                                          "2026-2027"]  # fmt: skip
    assert handle.summary == "Certificat ATT-1-1"


async def test_the_familys_personal_data_archive_holds_the_issued_pdf(app: Starlette, agent: GuichetClient) -> None:
    import json
    import zipfile

    async with GuichetClient(app) as family:
        caller = signed_in_family(app, family)
        reference, _, _ = register(app, caller=caller)
        await take(agent, reference, "accept")
        answer = await family.submit("/mon-compte/donnees/archive", {}, page="/mon-compte/donnees")
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    [entry] = json.loads(archive.read("data.json"))["issued_documents"]
    assert entry["number"] == f"{reference}-1" and entry["revoked_at"] is None
    assert archive.read(entry["file"]) == issued(app, reference).pdf


# The API twin --------------------------------------------------------------------------------------------------


async def test_the_api_checks_a_code_and_confirms_only_the_declared_fields(
    app: Starlette, agent: GuichetClient, client: GuichetClient
) -> None:
    _, _, _, document = await accepted(app, agent)
    answer = await client.post("/api/v1/documents/check", json={"code": code_in(document)})
    assert answer.status_code == 200
    body = answer.json()
    assert body["commune"] == "Corbas" and body["number"] == document.number and body["revoked"] is False
    assert [field["value"] for field in body["fields"]] == ["Léa E.", "École Jean Jaurès", "CP", "2026-2027"]
    assert "Exemple" not in answer.text


async def test_the_api_answers_a_wrong_code_with_a_problem(client: GuichetClient) -> None:
    from gateway.requests.document_proof import new_code

    answer = await client.post("/api/v1/documents/check", json={"code": new_code()})
    assert answer.status_code == 404 and answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == "urn:guichet:problem:document-check"


async def test_the_api_refuses_a_body_without_a_code(client: GuichetClient) -> None:
    answer = await client.post("/api/v1/documents/check", json={"kode": "x"})
    assert answer.status_code == 422 and {e["field"] for e in answer.json()["errors"]} == {"kode", "code"}


async def test_the_api_lists_the_same_keys_as_the_page(
    app: Starlette, agent: GuichetClient, client: GuichetClient
) -> None:
    await accepted(app, agent)
    api = (await client.get("/api/v1/documents/keys")).json()
    assert api == (await client.get("/documents/cles.json")).json()
    assert any(commune["keys"] for commune in api["communes"])


def test_without_the_systems_dejavu_the_pdf_embeds_the_vera_reportlab_ships(
    app: Starlette, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(issuing, "SYSTEM_FONTS", (tmp_path / "absent.ttf", tmp_path / "absent-bold.ttf"))
    regular, bold = issuing.fonts_of(app.state.registry.settings)
    assert (regular.name, bold.name) == ("Vera.ttf", "VeraBd.ttf")
    assert regular.is_file() and bold.is_file()
