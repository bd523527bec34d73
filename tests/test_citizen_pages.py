"""The citizen's request pages: start a draft, fill it, attach, submit, follow, answer, withdraw — over real HTTP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from sqlmodel import select
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.audit.events import Actor
from gateway.identity import staff as staff_accounts
from gateway.identity.principal import Principal
from gateway.models import Attachment, OutboxMessage, ServiceRequest, StoredFileChunk
from gateway.requests.attachments import stored_names
from gateway.requests.backoffice.commands import BackOfficeCommands
from gateway.requests.caller import Caller
from gateway.testing import STAFF_PASSWORD, ConfigFolder, GuichetClient, sign_in_citizen
from tests.plugins import citizen_docs

SERVICE = "/venissieux/attestation"
EMAIL = "camille@example.org"
VALID = {"champs": "1", "full_name": "Camille Exemple", "delivery": "counter", "address": ""}


def pdf(size: int = 300) -> bytes:
    """A small, whole PDF (header and end marker) of about ``size`` bytes."""
    head, tail = b"%PDF-1.4\n1 0 obj << >> endobj\n", b"\n%%EOF\n"
    return head + b"%" + b"x" * max(0, size - len(head) - len(tail) - 1) + tail


@pytest.fixture
def app(guichet_config: ConfigFolder, guichet_database_url: str) -> Iterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    for slug in ("venissieux", "corbas"):
        services = guichet_config.read(f"communes/{slug}.toml").get("services", {})
        guichet_config.set_commune(slug, services={**services, "attestation": {}})
    application = create_app(guichet_config.path, extra_plugins=[("citizen_docs", citizen_docs)])
    yield application
    application.state.db.dispose()


@pytest_asyncio.fixture
async def client(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as http:
        yield http


@pytest_asyncio.fixture
async def citizen(client: GuichetClient) -> GuichetClient:
    sign_in_citizen(client, email=EMAIL)
    return client


# Helpers ----------------------------------------------------------------------------------


async def start(client: GuichetClient, path: str = SERVICE) -> str:
    answer = await client.submit(path, {})
    assert answer.status_code == 303, answer.text
    match = re.fullmatch(r"/mes-demandes/([A-Za-z0-9_-]+)", answer.headers["location"])
    assert match, answer.headers["location"]
    return match.group(1)


async def attach(
    client: GuichetClient, public_id: str, data: bytes, *, document: str = "identity", filename: str = "piece.pdf"
) -> int:
    token = await client.csrf_token(f"/mes-demandes/{public_id}")
    answer = await client.post(
        f"/mes-demandes/{public_id}/documents",
        data={"csrftoken": token, "document": document},
        files={"fichier": (filename, data, "application/pdf")},
    )
    return answer.status_code


async def submitted(client: GuichetClient, path: str = SERVICE) -> str:
    """A request filled, with its document, and submitted; returns its public id."""
    public_id = await start(client, path)
    assert await attach(client, public_id, pdf()) == 303
    answer = await client.submit(f"/mes-demandes/{public_id}", {**VALID, "action": "deposer"})
    assert answer.status_code == 303, answer.text
    return public_id


def rows(app: Starlette) -> list[ServiceRequest]:
    with app.state.db.session(all_communes=True) as session:
        return list(session.exec(select(ServiceRequest).order_by(ServiceRequest.id)).all())  # type: ignore[arg-type]


def row(app: Starlette, public_id: str) -> ServiceRequest:
    return next(found for found in rows(app) if found.public_id == public_id)


def attachments(app: Starlette) -> list[Attachment]:
    with app.state.db.session(all_communes=True) as session:
        return list(session.exec(select(Attachment)).all())


def stored_files(app: Starlette) -> list[str]:
    """The attachments' bytes kept in the database, pointed to or not."""
    with app.state.db.read_session() as session:
        return stored_names(session)


def staff_caller(app: Starlette, grant: str = "agent:venissieux:attestation") -> Caller:
    with app.state.db.session() as session:
        staff = staff_accounts.create(session, username="alex.agent", display_name="Alex Agent",
                                      email="alex@guichet.example", password=STAFF_PASSWORD,
                                      grants=[staff_accounts.parse_grant(grant)])  # fmt: skip
        staff_id = staff.id
    assert staff_id is not None
    principal = Principal("staff", "test", staff_id, "alex.agent", "Alex Agent", datetime.now(UTC),
                          grants=(staff_accounts.parse_grant(grant),))  # fmt: skip
    return Caller(actor=Actor(f"staff:{staff_id}", "agent"), origin="web test", principal=principal)


def ask_citizen(app: Starlette, public_id: str, body: str) -> None:
    found = row(app, public_id)
    assert found.reference is not None
    office = BackOfficeCommands(app.state.db, app.state.registry)
    office.ask_citizen(staff_caller(app), "venissieux", found.reference, body, expected_version=None)


# Starting ----------------------------------------------------------------------------------


async def test_signed_in_citizen_sees_what_the_service_needs_and_a_start_button(citizen: GuichetClient) -> None:
    page = await citizen.get(SERVICE)
    assert page.status_code == 200
    for text in ("Réservé aux habitants de la commune.", "Code de l&#39;essai, article 1.", "Pièce d&#39;identité",
                 "Justificatif de domicile", "Formats acceptés : PDF.", ">Commencer</button>"):  # fmt: skip
        assert text in page.text


async def test_start_creates_a_prefilled_draft_and_opens_it(citizen: GuichetClient, app: Starlette) -> None:
    public_id = await start(citizen)
    draft = row(app, public_id)
    assert (draft.status, draft.reference, draft.data["full_name"]) == ("draft", None, "Camille Exemple")
    page = await citizen.get(f"/mes-demandes/{public_id}")
    assert page.status_code == 200 and "Enregistrer le brouillon" in page.text


async def test_start_twice_with_the_same_key_gives_one_draft(citizen: GuichetClient, app: Starlette) -> None:
    page = await citizen.get(SERVICE)
    key = re.search(r'name="submission_key" value="([^"]+)"', page.text)
    token = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
    assert key and token
    form = {"csrftoken": token.group(1), "submission_key": key.group(1), "commencer": "1"}
    first = await citizen.post(SERVICE, data=form)
    second = await citizen.post(SERVICE, data=form)
    assert first.headers["location"] == second.headers["location"]
    assert len(rows(app)) == 1


async def test_service_needing_sign_in_shows_the_sign_in_link_and_no_form(client: GuichetClient) -> None:
    page = await client.get(SERVICE)
    assert page.status_code == 200
    assert 'href="/connexion?suite=/venissieux/attestation"' in page.text
    assert 'action="/venissieux/attestation"' not in page.text


async def test_visitor_posting_to_a_service_needing_sign_in_is_sent_to_sign_in(
    client: GuichetClient, app: Starlette
) -> None:
    token = await client.csrf_token("/")
    answer = await client.post(SERVICE, data={"csrftoken": token, "full_name": "X", "delivery": "counter"})
    assert answer.status_code == 303 and answer.headers["location"] == "/connexion?suite=/venissieux/attestation"
    assert rows(app) == []


@pytest.mark.parametrize("path", ["/mes-demandes", "/mes-demandes/abc", "/mes-demandes/abc/recu"])
async def test_visitor_on_my_requests_is_sent_to_sign_in(client: GuichetClient, path: str) -> None:
    answer = await client.get(path)
    assert answer.status_code == 303 and answer.headers["location"] == f"/connexion?suite={path}"


# Filling and submitting -----------------------------------------------------------------------------


async def test_saving_with_mistakes_keeps_what_was_typed(citizen: GuichetClient, app: Starlette) -> None:
    public_id = await start(citizen)
    answer = await citizen.submit(
        f"/mes-demandes/{public_id}",
        {"champs": "1", "full_name": "Dominique Essai", "delivery": "", "action": "enregistrer"},
    )
    assert answer.status_code == 200
    assert 'value="Dominique Essai"' in answer.text
    assert "Votre brouillon a été enregistré tel que vous l&#39;avez saisi" in answer.text
    assert 'href="#champ-delivery"' in answer.text and 'aria-invalid="true"' in answer.text
    assert row(app, public_id).data["full_name"] == "Dominique Essai"


async def test_a_conditional_field_is_emptied_when_its_condition_is_not_met(
    citizen: GuichetClient, app: Starlette
) -> None:
    public_id = await start(citizen)
    page = await citizen.get(f"/mes-demandes/{public_id}")
    assert "Seulement si « Retrait » est « Par courrier »" in page.text
    await citizen.submit(
        f"/mes-demandes/{public_id}", {**VALID, "address": "1 rue de l'Essai", "action": "enregistrer"}
    )
    assert row(app, public_id).data["address"] == ""


async def test_submitting_without_a_required_document_is_422_and_keeps_the_draft(
    citizen: GuichetClient, app: Starlette
) -> None:
    public_id = await start(citizen)
    answer = await citizen.submit(f"/mes-demandes/{public_id}", {**VALID, "action": "deposer"})
    assert answer.status_code == 422
    assert 'href="#document-identity"' in answer.text
    assert "Joignez ce document avant de déposer votre demande." in answer.text
    draft = row(app, public_id)
    assert (draft.status, draft.data["delivery"]) == ("draft", "counter")


async def test_attaching_a_pdf_then_submitting_shows_the_receipt(citizen: GuichetClient, app: Starlette) -> None:
    public_id = await start(citizen)
    assert await attach(citizen, public_id, pdf(), filename="carte d'identité.pdf") == 303
    page = await citizen.get(f"/mes-demandes/{public_id}")
    assert "carte d&#39;identité.pdf" in page.text
    answer = await citizen.submit(f"/mes-demandes/{public_id}", {**VALID, "action": "deposer"})
    assert answer.status_code == 303 and answer.headers["location"] == f"/mes-demandes/{public_id}/recu"
    receipt = await citizen.get(answer.headers["location"])
    reference = row(app, public_id).reference
    assert reference is not None and re.fullmatch(r"ATT-\d{4}-000001", reference)
    assert receipt.status_code == 200
    for text in (
        reference,
        "Mairie de Vénissieux",
        "Attestation (essai)",
        f"a été envoyé à {EMAIL}",
        "(heure de Paris)",
    ):
        assert text in receipt.text


async def test_the_receipt_message_is_queued_in_the_citizens_language(citizen: GuichetClient, app: Starlette) -> None:
    citizen.cookies.set("guichet_lang", "en")
    public_id = await submitted(citizen)
    with app.state.db.session() as session:
        messages = list(session.exec(select(OutboxMessage)).all())
    assert [(m.recipient, m.locale) for m in messages] == [(EMAIL, "en")]
    assert "your request" in messages[0].subject and row(app, public_id).reference in messages[0].body


async def test_a_draft_can_be_deleted(citizen: GuichetClient, app: Starlette) -> None:
    public_id = await start(citizen)
    assert await attach(citizen, public_id, pdf()) == 303
    answer = await citizen.submit(f"/mes-demandes/{public_id}/supprimer", {}, page=f"/mes-demandes/{public_id}")
    assert answer.status_code == 303 and answer.headers["location"] == "/mes-demandes?fait=supprime"
    assert rows(app) == [] and attachments(app) == [] and stored_files(app) == []


async def test_a_document_can_be_removed_from_a_draft(citizen: GuichetClient, app: Starlette) -> None:
    public_id = await start(citizen)
    assert await attach(citizen, public_id, pdf()) == 303
    (attachment,) = attachments(app)
    path = f"/mes-demandes/{public_id}/documents/{attachment.public_id}/supprimer"
    answer = await citizen.submit(path, {}, page=f"/mes-demandes/{public_id}")
    assert answer.status_code == 303
    assert attachments(app) == [] and stored_files(app) == []


# Refused uploads ------------------------------------------------------------------------------------


async def test_a_file_too_large_is_413_and_nothing_is_stored(citizen: GuichetClient, app: Starlette) -> None:
    public_id = await start(citizen)
    token = await citizen.csrf_token(f"/mes-demandes/{public_id}")
    answer = await citizen.post(
        f"/mes-demandes/{public_id}/documents",
        data={"csrftoken": token, "document": "identity"},
        files={"fichier": ("gros.pdf", pdf(citizen_docs.IDENTITY_MAX_BYTES + 1000), "application/pdf")},
    )
    assert answer.status_code == 413
    assert "Ce fichier dépasse 4 Ko" in answer.text and 'href="#fichier-identity"' in answer.text
    assert attachments(app) == [] and stored_files(app) == []


async def test_an_html_page_named_pdf_is_415_and_nothing_is_stored(citizen: GuichetClient, app: Starlette) -> None:
    public_id = await start(citizen)
    token = await citizen.csrf_token(f"/mes-demandes/{public_id}")
    answer = await citizen.post(
        f"/mes-demandes/{public_id}/documents",
        data={"csrftoken": token, "document": "identity"},
        files={"fichier": ("piece.pdf", b"<html><script>alert(1)</script></html>", "application/pdf")},
    )
    assert answer.status_code == 415
    assert "Ce type de fichier n&#39;est pas accepté" in answer.text
    assert attachments(app) == [] and stored_files(app) == []


async def test_the_download_is_an_attachment_never_sniffed(citizen: GuichetClient, app: Starlette) -> None:
    public_id = await start(citizen)
    assert await attach(citizen, public_id, pdf(), filename="pièce.pdf") == 303
    (attachment,) = attachments(app)
    answer = await citizen.get(f"/mes-demandes/{public_id}/documents/{attachment.public_id}")
    assert answer.status_code == 200 and answer.content == pdf()
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["content-disposition"].startswith('attachment; filename="piece.pdf"')
    assert "no-store" in answer.headers["cache-control"]


async def test_a_document_whose_stored_bytes_changed_is_a_503_page_in_words(
    citizen: GuichetClient, app: Starlette
) -> None:
    public_id = await start(citizen)
    assert await attach(citizen, public_id, pdf(), filename="pièce.pdf") == 303
    (attachment,) = attachments(app)
    with app.state.db.session(all_communes=True) as session:
        for chunk in session.exec(select(StoredFileChunk)).all():
            chunk.data = b"x" + chunk.data[1:]
            session.add(chunk)
    answer = await citizen.get(f"/mes-demandes/{public_id}/documents/{attachment.public_id}")
    assert answer.status_code == 503 and answer.headers["content-type"].startswith("text/html")
    assert "Ce document ne peut pas être lu" in answer.text and "Traceback" not in answer.text


# Following a request -------------------------------------------------------------------------------


async def test_my_requests_lists_requests_of_every_commune_drafts_first(citizen: GuichetClient) -> None:
    done = await submitted(citizen)
    draft = await start(citizen, "/corbas/attestation")
    page = await citizen.get("/mes-demandes")
    assert page.status_code == 200
    assert "Vénissieux" in page.text and "Corbas" in page.text
    assert page.text.index(f"/mes-demandes/{draft}") < page.text.index(f"/mes-demandes/{done}")
    assert "brouillon" in page.text and "ATT-" in page.text and "Déposée" in page.text


async def test_a_submitted_request_shows_its_status_history_and_form(citizen: GuichetClient) -> None:
    public_id = await submitted(citizen)
    page = await citizen.get(f"/mes-demandes/{public_id}")
    assert page.status_code == 200
    for text in ("Déposée", "Demande déposée", "Au guichet de la mairie", "piece.pdf", "Retirer ma demande"):
        assert text in page.text
    assert "Enregistrer le brouillon" not in page.text


async def test_a_message_appears_in_the_history(citizen: GuichetClient, app: Starlette) -> None:
    public_id = await submitted(citizen)
    answer = await citizen.submit(f"/mes-demandes/{public_id}/message", {"message": "Quand puis-je passer ?"},
                                  page=f"/mes-demandes/{public_id}")  # fmt: skip
    assert answer.status_code == 303
    page = await citizen.get(answer.headers["location"])
    assert "Quand puis-je passer ?" in page.text and "Votre message à la mairie" in page.text


async def test_a_message_too_long_is_422_and_keeps_the_text(citizen: GuichetClient) -> None:
    public_id = await submitted(citizen)
    text = "Bonjour " * 700
    answer = await citizen.submit(f"/mes-demandes/{public_id}/message", {"message": text},
                                  page=f"/mes-demandes/{public_id}")  # fmt: skip
    assert answer.status_code == 422
    assert text.strip() in answer.text and 'href="#nouveau-message"' in answer.text


async def test_the_town_halls_question_is_answered_by_a_correction(citizen: GuichetClient, app: Starlette) -> None:
    public_id = await submitted(citizen)
    ask_citizen(app, public_id, "Précisez votre nom complet, s'il vous plaît.")
    page = await citizen.get(f"/mes-demandes/{public_id}")
    assert "La mairie attend un complément de votre part" in page.text
    assert "Précisez votre nom complet, s&#39;il vous plaît." in page.text
    path = f"/mes-demandes/{public_id}/correction"
    refused = await citizen.submit(path, {**VALID, "full_name": ""}, page=f"/mes-demandes/{public_id}")
    assert refused.status_code == 422 and 'href="#champ-full_name"' in refused.text
    assert row(app, public_id).awaiting_citizen
    answer = await citizen.submit(
        path, {**VALID, "full_name": "Camille Marie Exemple"}, page=f"/mes-demandes/{public_id}"
    )
    assert answer.status_code == 303
    corrected = row(app, public_id)
    assert (corrected.awaiting_citizen, corrected.data["full_name"]) == (False, "Camille Marie Exemple")
    page = await citizen.get(f"/mes-demandes/{public_id}")
    assert "Formulaire corrigé" in page.text and "Mairie de Vénissieux" in page.text


async def test_a_document_can_be_added_when_the_town_hall_asks(citizen: GuichetClient, app: Starlette) -> None:
    public_id = await submitted(citizen)
    assert await attach(citizen, public_id, pdf(), document="extra") == 409
    ask_citizen(app, public_id, "Joignez un justificatif.")
    assert await attach(citizen, public_id, pdf(), document="extra", filename="justificatif.pdf") == 303
    assert sorted(a.document for a in attachments(app)) == ["extra", "identity"]
    assert row(app, public_id).awaiting_citizen  # a document alone does not answer: a message or correction does
    page = await citizen.get(f"/mes-demandes/{public_id}")
    assert "justificatif.pdf" in page.text and "Document complémentaire" in page.text


async def test_withdrawing_asks_for_confirmation_then_works_once(citizen: GuichetClient, app: Starlette) -> None:
    public_id = await submitted(citizen)
    confirm = await citizen.get(f"/mes-demandes/{public_id}/retrait")
    assert confirm.status_code == 200 and "Oui, retirer ma demande" in confirm.text
    assert row(app, public_id).status == "submitted"
    path = f"/mes-demandes/{public_id}/retrait"
    answer = await citizen.submit(path, {})
    assert answer.status_code == 303
    assert row(app, public_id).status == "withdrawn"
    again = await citizen.post(path, data={"csrftoken": await citizen.csrf_token(f"/mes-demandes/{public_id}")})
    assert again.status_code == 409
    page = await citizen.get(f"/mes-demandes/{public_id}")
    assert "Retirée" in page.text and "Retirer ma demande" not in page.text


# Another citizen's request ---------------------------------------------------------------------------

ROUTES = [
    ("GET", ""),
    ("POST", ""),
    ("GET", "/recu"),
    ("POST", "/supprimer"),
    ("POST", "/documents"),
    ("GET", "/documents/{attachment}"),
    ("POST", "/documents/{attachment}/supprimer"),
    ("POST", "/message"),
    ("POST", "/correction"),
    ("GET", "/retrait"),
    ("POST", "/retrait"),
]


@pytest.mark.parametrize(("method", "suffix"), ROUTES, ids=[f"{m} {s or '/'}" for m, s in ROUTES])
async def test_another_citizen_gets_404_on_every_page_of_a_request(
    app: Starlette, citizen: GuichetClient, method: str, suffix: str
) -> None:
    public_id = await start(citizen)
    assert await attach(citizen, public_id, pdf()) == 303
    (attachment,) = attachments(app)
    path = f"/mes-demandes/{public_id}" + suffix.format(attachment=attachment.public_id)
    async with GuichetClient(app) as other:
        sign_in_citizen(other, given_name="Dominique")
        token = await other.csrf_token("/mes-demandes")
        data = {"csrftoken": token, "message": "Bonjour la mairie", "action": "deposer", "document": "identity"}
        answer = await other.get(path) if method == "GET" else await other.post(path, data=data)
    assert answer.status_code == 404
    assert row(app, public_id).status == "draft" and len(attachments(app)) == 1


async def test_the_anonymous_form_still_files_directly_where_no_sign_in_is_needed(
    client: GuichetClient, app: Starlette
) -> None:
    contact = {"name": "Camille Exemple", "email": EMAIL, "topic": "voirie", "message": "Le lampadaire est éteint."}
    answer = await client.submit("/venissieux/contact", contact)
    assert answer.status_code == 303 and "/venissieux/contact/recu" in answer.headers["location"]
    assert [found.status for found in rows(app)] == ["submitted"]


async def test_an_upload_without_the_form_token_is_refused_and_nothing_stored(
    citizen: GuichetClient, app: Starlette
) -> None:
    public_id = await start(citizen)
    answer = await citizen.post(
        f"/mes-demandes/{public_id}/documents",
        data={"document": "identity"},
        files={"fichier": ("piece.pdf", pdf(), "application/pdf")},
    )
    assert answer.status_code == 403
    assert attachments(app) == [] and stored_files(app) == []
