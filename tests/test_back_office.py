"""The agents' back-office pages, through real HTTP: queue, file, actions, downloads, export, counter filing."""

from __future__ import annotations

import csv
import io
import re
import secrets
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio
from sqlmodel import col, select
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.audit.events import ANONYMOUS, Actor
from gateway.identity import staff as staff_accounts
from gateway.models import Attachment, AuditEntry, Citizen, OutboxMessage, ServiceRequest, StaffUser
from gateway.requests.caller import Caller
from gateway.requests.filing import Submission, file_request
from gateway.requests.lifecycle import CitizenRequests
from gateway.requests.rules import rules_for
from gateway.requests.submission_keys import new_submission_key
from gateway.services import CitizenIdentity
from gateway.testing import STAFF_PASSWORD, ConfigFolder, GuichetClient, sign_in_citizen, sign_in_staff
from tests.plugins import backoffice_service

CONTACT = {
    "name": "Camille Exemple",
    "email": "camille@example.org",
    "topic": "voirie",
    "message": "Un trou dans la rue.",
}
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + b"\x00" * 17


@pytest_asyncio.fixture
async def app(guichet_config: ConfigFolder, guichet_database_url: str) -> AsyncIterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    for slug in ("corbas", "givors"):
        services = guichet_config.read(f"communes/{slug}.toml").get("services", {})
        guichet_config.set_commune(slug, services={**services, "badge": {}, "rappel": {}})
    application = create_app(guichet_config.path, extra_plugins=[("backoffice_service", backoffice_service)])
    yield application
    application.state.db.dispose()


@pytest_asyncio.fixture
async def client(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as http:
        yield http


# Making requests through the service layer -----------------------------------------------------------


def file(app: Starlette, commune: str, key: str = "contact", **data: str) -> str:
    registry = app.state.registry
    values = data or (CONTACT if key == "contact" else {"name": "Dominique Essai", "phone": "04 00 00 00 00"})
    rules, caller = rules_for(registry, registry.commune(commune), key), Caller(ANONYMOUS, "test")
    filed = file_request(app.state.db, registry, rules, caller, Submission(values, new_submission_key()))
    assert filed.request is not None and filed.request.reference is not None, filed.errors
    return filed.request.reference


def citizen_caller(app: Starlette, email: str = "dominique@example.org") -> Caller:
    public_id = secrets.token_hex(16)
    with app.state.db.session() as session:
        citizen = Citizen(public_id=public_id, issuer="https://idp.test", sub=secrets.token_hex(8), email=email,
                          created_at=datetime.now(UTC))  # fmt: skip
        session.add(citizen)
        session.flush()
        citizen_id = citizen.id
    return Caller(actor=Actor(f"citizen:{public_id}", "citizen"), origin="web test", citizen_id=citizen_id,
                  citizen_public_id=public_id, identity=CitizenIdentity(email=email))  # fmt: skip


def file_badge(app: Starlette, commune: str = "corbas", caller: Caller | None = None) -> tuple[str, str, Caller]:
    """A badge request with two documents, filed by a signed-in citizen; returns (reference, public id, caller)."""
    caller = caller or citizen_caller(app)
    requests = CitizenRequests(app.state.db, app.state.registry)
    draft = requests.start_draft(caller, commune, "badge", submission_key=new_submission_key())
    requests.save_draft(caller, draft.public_id, {"name": "Dominique Essai", "vehicle": "car"})
    requests.attach(caller, draft.public_id, "proof", "facture-électricité.pdf", PDF)
    requests.attach(caller, draft.public_id, "proof", "quittance.png", PNG)
    submitted = requests.submit(caller, draft.public_id)
    assert not submitted.errors and submitted.request.reference is not None, submitted.errors
    return submitted.request.reference, draft.public_id, caller


def stored(app: Starlette, reference: str) -> ServiceRequest:
    with app.state.db.session(all_communes=True) as session:
        row = session.exec(select(ServiceRequest).where(ServiceRequest.reference == reference)).one()
        session.expunge(row)
        return row


def audit_entries(app: Starlette, action: str) -> list[AuditEntry]:
    with app.state.db.session() as session:
        rows = session.exec(select(AuditEntry).where(AuditEntry.action == action).order_by(col(AuditEntry.seq))).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def outbox(app: Starlette) -> list[OutboxMessage]:
    with app.state.db.session() as session:
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def staff_id(app: Starlette, username: str) -> int:
    with app.state.db.session() as session:
        found = staff_accounts.find(session, username)
        assert found is not None and found.id is not None
        return found.id


@asynccontextmanager
async def agent(app: Starlette, username: str, *roles: str) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as http:
        await sign_in_staff(http, username, *roles)
        yield http


def make_staff(app: Starlette, username: str, *roles: str) -> int:
    """A staff account that does not sign in (a colleague to assign to)."""
    with app.state.db.session() as session:
        staff = staff_accounts.create(session, username=username, display_name=username.replace(".", " ").title(),
                                      email=f"{username}@guichet.example", password=STAFF_PASSWORD,
                                      grants=[staff_accounts.parse_grant(role) for role in roles])  # fmt: skip
        session.flush()
        assert staff.id is not None
        return staff.id


async def post(http: GuichetClient, path: str, data: dict[str, str]) -> httpx.Response:
    """Send a form with a valid CSRF token (as the page would), without loading the target first."""
    return await http.post(path, data={"csrftoken": await http.csrf_token("/"), **data})


def version_on(page: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', page)
    assert found, "no version input on the page"
    return found.group(1)


def case_path(reference: str, commune: str = "corbas") -> str:
    return f"/agents/{commune}/demandes/{reference}"


# The queue ---------------------------------------------------------------------------------------------


async def test_queue_lists_only_the_agents_commune_and_granted_services(app: Starlette, client: GuichetClient) -> None:
    other_commune = [file(app, "givors"), file(app, "givors")][-1]  # references count per commune: outnumber corbas
    mine, other_service = file(app, "corbas"), file(app, "corbas", "rappel")
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact:instructor")
    page = await client.get("/agents/corbas/demandes")
    assert page.status_code == 200
    assert mine in page.text and other_commune not in page.text and other_service not in page.text
    assert "1 demande correspond à ces filtres." in page.text


async def test_queue_shows_service_status_summary_and_age(app: Starlette, client: GuichetClient) -> None:
    file(app, "corbas")
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact")
    page = await client.get("/agents/corbas/demandes")
    assert "Écrire à la mairie" in page.text and "Reçu" in page.text and "Voirie, éclairage" in page.text
    assert re.search(r"<td>0</td>", page.text) and "<caption>" in page.text


async def test_queue_filters_by_status(app: Starlette, client: GuichetClient) -> None:
    open_one, closed_one = file(app, "corbas"), file(app, "corbas")
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact")
    page = await client.get(case_path(closed_one))
    await post(client, f"{case_path(closed_one)}/transition",
               {"transition": "close", "reason": "spam", "version": version_on(page.text)})  # fmt: skip
    default = (await client.get("/agents/corbas/demandes")).text
    decided = (await client.get("/agents/corbas/demandes?status=decided")).text
    closed = (await client.get("/agents/corbas/demandes?status=closed")).text
    every = (await client.get("/agents/corbas/demandes?status=all")).text
    assert open_one in default and closed_one not in default
    assert closed_one in decided and open_one not in decided
    assert closed_one in closed and open_one not in closed
    assert open_one in every and closed_one in every


async def test_queue_filters_by_assignment(app: Starlette, client: GuichetClient) -> None:
    assigned, unassigned = file(app, "corbas"), file(app, "corbas")
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact")
    page = await client.get(case_path(assigned))
    answer = await post(
        client, f"{case_path(assigned)}/attribution", {"assignee": "me", "version": version_on(page.text)}
    )
    assert answer.status_code == 303
    to_me = (await client.get("/agents/corbas/demandes?assigned=me")).text
    to_nobody = (await client.get("/agents/corbas/demandes?assigned=none")).text
    assert assigned in to_me and unassigned not in to_me and "Ana Agent" in to_me
    assert unassigned in to_nobody and assigned not in to_nobody


async def test_queue_searches_reference_and_summary(app: Starlette, client: GuichetClient) -> None:
    roads = file(app, "corbas")
    schools = file(app, "corbas", **{**CONTACT, "topic": "proprete"})
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact")
    by_summary = (await client.get("/agents/corbas/demandes", params={"q": "propreté"})).text
    by_reference = (await client.get("/agents/corbas/demandes", params={"q": roads[-6:]})).text
    assert schools in by_summary and roads not in by_summary
    assert roads in by_reference and schools not in by_reference


async def test_queue_filters_requests_awaiting_the_citizen(app: Starlette, client: GuichetClient) -> None:
    waiting, other = file(app, "corbas"), file(app, "corbas")
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact")
    page = await client.get(case_path(waiting))
    await post(
        client, f"{case_path(waiting)}/complement", {"body": "Précisez l'adresse.", "version": version_on(page.text)}
    )
    listed = (await client.get("/agents/corbas/demandes?awaiting=yes")).text
    assert waiting in listed and other not in listed and '<strong class="badge">En attente de l\'usager' in listed


async def test_queue_pages_through_many_requests(app: Starlette, client: GuichetClient) -> None:
    references = [file(app, "corbas") for _ in range(52)]
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact")
    first = (await client.get("/agents/corbas/demandes?q=MSG")).text
    second = (await client.get("/agents/corbas/demandes?q=MSG&page=2")).text
    assert references[0] in first and references[-1] not in first and "page=2" in first
    assert references[-1] in second and references[0] not in second


async def test_queue_filters_by_age(app: Starlette, client: GuichetClient) -> None:
    reference = file(app, "corbas")
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact")
    assert reference not in (await client.get("/agents/corbas/demandes?older=1")).text
    with app.state.db.session(commune="corbas") as session:
        row = session.exec(select(ServiceRequest).where(ServiceRequest.reference == reference)).one()
        row.submitted_at = datetime.now(UTC) - timedelta(days=3)
    listed = (await client.get("/agents/corbas/demandes?older=2")).text
    assert reference in listed and "<td>3</td>" in listed


@pytest.mark.parametrize("query", ["status=nonsense", "assigned=someone", "older=abc", "page=0", "awaiting=maybe"])
async def test_an_invalid_queue_filter_is_a_400_page(client: GuichetClient, query: str) -> None:
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact")
    answer = await client.get(f"/agents/corbas/demandes?{query}")
    assert answer.status_code == 400 and "filtres" in answer.text


async def test_an_unknown_commune_is_404(client: GuichetClient) -> None:
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact")
    assert (await client.get("/agents/nulle-part/demandes")).status_code == 404


async def test_another_communes_reference_is_404(app: Starlette, client: GuichetClient) -> None:
    elsewhere = [file(app, "givors"), file(app, "givors")][-1]
    file(app, "corbas")
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact")
    assert (await client.get(case_path(elsewhere))).status_code == 404


async def test_staff_home_links_to_the_queues_the_person_can_read(client: GuichetClient) -> None:
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact:reader")
    home = (await client.get("/agents")).text
    assert 'href="/agents/corbas/demandes"' in home and 'href="/agents/givors/demandes"' not in home


async def test_staff_home_names_the_role_in_words_in_the_pages_language(client: GuichetClient) -> None:
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact:reader")
    french = (await client.get("/agents")).text
    english = (await client.get("/agents", headers={"Accept-Language": "en"})).text
    assert "Agent en consultation — Corbas, Écrire à la mairie" in french and "agent:corbas" not in french
    assert "Agent, read only — Corbas, Write to the town hall" in english


async def test_staff_home_counts_the_open_requests_and_whose_hands_they_are_in(
    app: Starlette, client: GuichetClient
) -> None:
    first, _second, _third = file(app, "corbas"), file(app, "corbas"), file(app, "corbas")
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact")
    page = await client.get(case_path(first))
    await post(client, f"{case_path(first)}/attribution", {"assignee": "me", "version": version_on(page.text)})
    home = " ".join((await client.get("/agents")).text.split())
    assert "3 demandes en cours, dont 2 sans agent, 1 attribuée à vous" in home


# Export -----------------------------------------------------------------------------------------------


async def test_csv_export_lists_the_filtered_queue_with_download_headers(app: Starlette, client: GuichetClient) -> None:
    listed, closed = file(app, "corbas"), file(app, "corbas")
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact")
    page = await client.get(case_path(closed))
    await post(client, f"{case_path(closed)}/transition",
               {"transition": "close", "reason": "spam", "version": version_on(page.text)})  # fmt: skip
    answer = await client.get("/agents/corbas/demandes.csv?status=open")
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert answer.headers["cache-control"] == "no-store"
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0][0] == "reference" and [row[0] for row in rows[1:]] == [listed]
    assert rows[1][7] == "Voirie, éclairage, stationnement"


async def test_csv_export_is_audited(app: Starlette, client: GuichetClient) -> None:
    file(app, "corbas")
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact")
    await client.get("/agents/corbas/demandes.csv")
    [entry] = audit_entries(app, "request.export")
    assert (entry.commune, entry.actor_id) == ("corbas", f"staff:{staff_id(app, 'ana.agent')}")


async def test_queue_page_links_to_the_csv_with_the_same_filters(client: GuichetClient) -> None:
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact")
    page = (await client.get("/agents/corbas/demandes?status=decided&q=abc")).text
    assert "/agents/corbas/demandes.csv?status=decided&amp;q=abc" in page


# A request's file -------------------------------------------------------------------------------------


async def test_viewing_a_request_is_audited_with_the_services_purpose(app: Starlette, client: GuichetClient) -> None:
    reference = file(app, "corbas")
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact")
    page = await client.get(case_path(reference))
    assert page.status_code == 200
    assert (
        "Cette consultation est enregistrée dans le journal d'audit (finalité : Répondre à votre message" in page.text
    )
    entry = audit_entries(app, "request.read")[-1]
    assert entry.purpose.startswith("Répondre à votre message")
    assert entry.subject == stored(app, reference).subject and entry.resource == f"request/{reference}"


async def test_the_file_shows_the_form_with_field_labels_and_history(app: Starlette, client: GuichetClient) -> None:
    reference = file(app, "corbas")
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact")
    page = (await client.get(case_path(reference))).text
    assert "Vos prénom et nom" in page and "Camille Exemple" in page and "Un trou dans la rue." in page
    assert "Voirie, éclairage, stationnement" in page and "Demande déposée" in page


async def test_a_transition_with_a_message_moves_the_status_and_tells_the_citizen(
    app: Starlette, client: GuichetClient
) -> None:
    reference = file(app, "corbas")
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact")
    page = await client.get(case_path(reference))
    typed = {"transition": "answer", "comment": "C'est réparé.", "version": version_on(page.text)}
    answer = await post(client, f"{case_path(reference)}/transition", typed)
    assert answer.status_code == 303 and answer.headers["location"].startswith(case_path(reference))
    assert stored(app, reference).status == "answered"
    message = outbox(app)[-1]
    assert message.kind == "request-transition" and message.recipient == CONTACT["email"]
    assert "C'est réparé." in message.body


async def test_a_transition_without_a_message_tells_the_citizen_nothing(app: Starlette, client: GuichetClient) -> None:
    reference, _public_id, _caller = file_badge(app)
    before = len(outbox(app))
    await sign_in_staff(client, "ana.agent", "agent:corbas:badge")
    page = await client.get(case_path(reference))
    await post(
        client, f"{case_path(reference)}/transition", {"transition": "examine", "version": version_on(page.text)}
    )
    assert stored(app, reference).status == "review" and len(outbox(app)) == before


def staff_id_of(app: Starlette, username: str) -> int:
    with app.state.db.session() as session:
        staff = session.exec(select(StaffUser).where(StaffUser.username == username)).one()
        assert staff.id is not None
        return staff.id


async def test_taking_a_request_in_hand_assigns_it_to_the_agent_who_took_it(
    app: Starlette, client: GuichetClient
) -> None:
    reference, _public_id, _caller = file_badge(app)
    await sign_in_staff(client, "ana.agent", "agent:corbas:badge")
    page = await client.get(case_path(reference))
    await post(
        client, f"{case_path(reference)}/transition", {"transition": "examine", "version": version_on(page.text)}
    )
    assert stored(app, reference).assigned_to == staff_id_of(app, "ana.agent")
    assert "Attribuée à Ana Agent" in (await client.get(case_path(reference))).text


async def test_a_transition_that_does_not_take_the_request_in_hand_leaves_its_assignment(
    app: Starlette, client: GuichetClient
) -> None:
    reference, _public_id, _caller = file_badge(app)
    await sign_in_staff(client, "ana.agent", "agent:corbas:badge")
    page = await client.get(case_path(reference))
    typed = {
        "transition": "refuse",
        "reason": "incomplete",
        "comment": "Pièce illisible.",
        "version": version_on(page.text),
    }
    await post(client, f"{case_path(reference)}/transition", typed)
    assert stored(app, reference).assigned_to is None


async def test_the_assignment_list_names_each_agent_once_and_marks_the_reader(
    app: Starlette, client: GuichetClient
) -> None:
    reference = file(app, "corbas")
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact")
    page = (await client.get(case_path(reference))).text
    options = re.findall(
        r"<option value=\"([^\"]+)\"[^>]*>([^<]+)</option>", page.split('name="assignee"')[1].split("</select>")[0]
    )
    assert options == [("nobody", "Personne"), (str(staff_id_of(app, "ana.agent")), "Ana Agent (vous)")]


async def test_a_transition_not_allowed_from_the_current_state_is_409_with_the_reason(
    app: Starlette, client: GuichetClient
) -> None:
    reference, _public_id, _caller = file_badge(app)
    await sign_in_staff(client, "ana.agent", "agent:corbas:badge")
    page = await client.get(case_path(reference))
    answer = await post(
        client, f"{case_path(reference)}/transition", {"transition": "grant", "version": version_on(page.text)}
    )
    assert answer.status_code == 409
    assert "n&#39;est pas possible : la demande est « Déposée »" in answer.text
    assert stored(app, reference).status == "submitted"


async def test_a_missing_required_comment_is_422_and_keeps_the_chosen_reason(
    app: Starlette, client: GuichetClient
) -> None:
    reference, _public_id, _caller = file_badge(app)
    await sign_in_staff(client, "ana.agent", "agent:corbas:badge")
    page = await client.get(case_path(reference))
    answer = await post(client, f"{case_path(reference)}/transition",
                        {"transition": "refuse", "reason": "incomplete", "version": version_on(page.text)})  # fmt: skip
    assert answer.status_code == 422 and "Commentaire : ce champ est obligatoire." in answer.text
    assert '<option value="incomplete" selected>' in answer.text
    assert 'aria-describedby="erreur-transition-refuse"' in answer.text
    assert stored(app, reference).status == "submitted"


async def test_a_reader_trying_a_transition_is_refused_and_recorded(app: Starlette, client: GuichetClient) -> None:
    reference = file(app, "corbas")
    await sign_in_staff(client, "rita.reader", "agent:corbas:contact:reader")
    page = await client.get(case_path(reference))
    assert page.status_code == 200 and "lecture seule" in page.text and "/transition" not in page.text
    answer = await post(client, f"{case_path(reference)}/transition",
                        {"transition": "close", "reason": "spam", "version": "1"})  # fmt: skip
    assert answer.status_code == 403
    denial = audit_entries(app, "access.denied")[-1]
    assert (denial.actor_id, denial.outcome) == (f"staff:{staff_id(app, 'rita.reader')}", "denied")
    assert stored(app, reference).status == "submitted"


async def test_a_stale_version_is_409_keeps_the_typed_comment_and_changes_nothing(app: Starlette) -> None:
    reference, _public_id, _caller = file_badge(app)
    async with (
        agent(app, "ana.agent", "agent:corbas:badge") as first,
        agent(app, "bob.agent", "agent:corbas:badge") as second,
    ):
        seen_by_second = version_on((await second.get(case_path(reference))).text)
        seen_by_first = version_on((await first.get(case_path(reference))).text)
        await post(first, f"{case_path(reference)}/transition", {"transition": "examine", "version": seen_by_first})
        answer = await post(second, f"{case_path(reference)}/transition",
                            {"transition": "refuse", "reason": "incomplete", "comment": "Il manque la facture.",
                             "version": seen_by_second})  # fmt: skip
    assert answer.status_code == 409
    assert "Quelqu&#39;un d&#39;autre vient de modifier cette demande" in answer.text
    assert "Il manque la facture.</textarea>" in answer.text
    assert stored(app, reference).status == "review"


async def test_a_transition_no_longer_offered_keeps_the_typed_comment_in_the_error(app: Starlette) -> None:
    reference, _public_id, _caller = file_badge(app)
    async with (
        agent(app, "ana.agent", "agent:corbas:badge") as first,
        agent(app, "bob.agent", "agent:corbas:badge") as second,
    ):
        version = version_on((await second.get(case_path(reference))).text)
        await post(first, f"{case_path(reference)}/transition", {"transition": "examine", "version": version})
        answer = await post(
            second, f"{case_path(reference)}/transition",
            {"transition": "examine", "comment": "Je m'en occupe.", "version": version},
        )  # fmt: skip
    assert answer.status_code == 409
    assert '<blockquote class="kept-text">Je m&#39;en occupe.</blockquote>' in answer.text


async def test_bulk_transition_reports_each_request(app: Starlette, client: GuichetClient) -> None:
    first, second, already = file(app, "corbas"), file(app, "corbas"), file(app, "corbas")
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact")
    page = await client.get(case_path(already))
    await post(client, f"{case_path(already)}/transition",
               {"transition": "answer", "comment": "Fait.", "version": version_on(page.text)})  # fmt: skip
    token = await client.csrf_token("/agents/corbas/demandes")
    answer = await client.post(
        "/agents/corbas/demandes/lot",
        data={"csrftoken": token, "references": [first, second, already], "transition": "close", "reason": "spam"},
    )
    assert answer.status_code == 200
    assert "2 demandes traitées," in answer.text and "1 refusée." in answer.text
    refused_row = answer.text[answer.text.index(already) :]
    assert "n&#39;est pas possible" in refused_row[:600]
    assert [stored(app, ref).status for ref in (first, second, already)] == ["closed", "closed", "answered"]


async def test_bulk_transition_without_a_selection_is_422(client: GuichetClient) -> None:
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact")
    answer = await post(client, "/agents/corbas/demandes/lot", {"transition": "close"})
    assert answer.status_code == 422 and "Cochez au moins une demande" in answer.text


async def test_an_internal_note_is_not_shown_to_the_citizen(app: Starlette, client: GuichetClient) -> None:
    reference, public_id, owner = file_badge(app)
    await sign_in_staff(client, "ana.agent", "agent:corbas:badge")
    answer = await post(client, f"{case_path(reference)}/note", {"body": "Voisin du maire, vérifier."})
    assert answer.status_code == 303
    page = (await client.get(case_path(reference))).text
    assert "Voisin du maire, vérifier." in page and ">interne<" in page
    seen_by_citizen = CitizenRequests(app.state.db, app.state.registry).case(owner, public_id)
    assert all(event.body != "Voisin du maire, vérifier." for event in seen_by_citizen.events)


async def test_an_empty_note_is_422_and_writes_nothing(app: Starlette, client: GuichetClient) -> None:
    reference = file(app, "corbas")
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact")
    version = stored(app, reference).version
    answer = await post(client, f"{case_path(reference)}/note", {"body": "   "})
    assert answer.status_code == 422 and "Note interne : ce champ est obligatoire." in answer.text
    assert stored(app, reference).version == version


async def test_a_message_to_the_citizen_is_in_their_history(app: Starlette, client: GuichetClient) -> None:
    reference, public_id, owner = file_badge(app)
    await sign_in_staff(client, "ana.agent", "agent:corbas:badge")
    answer = await post(client, f"{case_path(reference)}/message", {"body": "Passez en mairie mardi."})
    assert answer.status_code == 303
    seen_by_citizen = CitizenRequests(app.state.db, app.state.registry).case(owner, public_id)
    assert any(event.body == "Passez en mairie mardi." for event in seen_by_citizen.events)


async def test_asking_the_citizen_sets_the_request_awaiting(app: Starlette, client: GuichetClient) -> None:
    reference, _public_id, _caller = file_badge(app)
    await sign_in_staff(client, "ana.agent", "agent:corbas:badge")
    page = await client.get(case_path(reference))
    answer = await post(client, f"{case_path(reference)}/complement",
                        {"body": "Joignez une facture récente.", "version": version_on(page.text)})  # fmt: skip
    assert answer.status_code == 303
    assert stored(app, reference).awaiting_citizen is True
    assert outbox(app)[-1].kind == "request-correction"


async def test_assigning_to_someone_who_does_not_process_the_service_is_422(
    app: Starlette, client: GuichetClient
) -> None:
    reference = file(app, "corbas")
    reader = make_staff(app, "rita.reader", "agent:corbas:contact:reader")
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact")
    page = await client.get(case_path(reference))
    answer = await post(client, f"{case_path(reference)}/attribution",
                        {"assignee": str(reader), "version": version_on(page.text)})  # fmt: skip
    assert answer.status_code == 422
    assert "Cette personne ne traite pas les demandes de ce service" in answer.text
    assert stored(app, reference).assigned_to is None


async def test_assigning_to_a_colleague_shows_their_name(app: Starlette, client: GuichetClient) -> None:
    reference = file(app, "corbas")
    colleague = make_staff(app, "bob.agent", "agent:corbas:contact")
    await sign_in_staff(client, "ana.agent", "agent:corbas:contact")
    page = await client.get(case_path(reference))
    assert f'<option value="{colleague}">Bob Agent</option>' in page.text
    answer = await post(client, f"{case_path(reference)}/attribution",
                        {"assignee": str(colleague), "version": version_on(page.text)})  # fmt: skip
    assert answer.status_code == 303 and stored(app, reference).assigned_to == colleague
    assert "Bob Agent" in (await client.get(case_path(reference))).text


# Documents --------------------------------------------------------------------------------------------


async def test_a_document_downloads_as_an_attachment_that_is_never_sniffed(
    app: Starlette, client: GuichetClient
) -> None:
    reference, _public_id, _caller = file_badge(app)
    await sign_in_staff(client, "ana.agent", "agent:corbas:badge")
    page = (await client.get(case_path(reference))).text
    link = re.search(rf'href="({case_path(reference)}/documents/[^"]+)">Télécharger facture-électricité.pdf', page)
    assert link, "no download link for the document"
    answer = await client.get(link.group(1))
    assert answer.status_code == 200 and answer.content == PDF
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["content-disposition"].startswith('attachment; filename="facture-electricite.pdf"')


async def test_all_documents_download_as_one_zip(app: Starlette, client: GuichetClient) -> None:
    reference, _public_id, _caller = file_badge(app)
    await sign_in_staff(client, "ana.agent", "agent:corbas:badge")
    answer = await client.get(f"{case_path(reference)}/documents.zip")
    assert answer.headers["content-type"] == "application/zip"
    assert answer.headers["content-disposition"].startswith(f'attachment; filename="{reference}.zip"')
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        assert sorted(archive.namelist()) == ["facture-électricité.pdf", "quittance.png"]
        assert archive.read("facture-électricité.pdf") == PDF


async def test_an_unknown_document_is_404(app: Starlette, client: GuichetClient) -> None:
    reference, _public_id, _caller = file_badge(app)
    await sign_in_staff(client, "ana.agent", "agent:corbas:badge")
    assert (await client.get(f"{case_path(reference)}/documents/nothing-here")).status_code == 404


# Filing at the counter --------------------------------------------------------------------------------


async def test_counter_filing_records_the_agent_and_sends_the_receipt(app: Starlette, client: GuichetClient) -> None:
    await sign_in_staff(client, "ana.agent", "agent:corbas:rappel")
    answer = await client.submit("/agents/corbas/guichet/rappel",
                                 {"name": "Léa Guichet", "phone": "04 11 22 33 44",
                                  "counter_receipt_email": "lea@example.org"})  # fmt: skip
    assert answer.status_code == 303
    reference = answer.headers["location"].rsplit("/", 1)[1]
    assert answer.headers["location"] == f"/agents/corbas/guichet/rappel/recu/{reference}"
    row = stored(app, reference)
    assert row.filed_by_staff_id == staff_id(app, "ana.agent") and row.data["name"] == "Léa Guichet"
    created = [entry for entry in audit_entries(app, "request.create") if entry.resource == f"request/{reference}"]
    assert [entry.actor_role for entry in created] == ["agent"]
    [receipt] = [message for message in outbox(app) if message.recipient == "lea@example.org"]
    assert "déposée pour vous au guichet" in receipt.body
    printed = (await client.get(answer.headers["location"])).text
    assert reference in printed and "déposée au guichet par Ana Agent" in printed


async def test_counter_filing_without_an_email_sends_nothing(app: Starlette, client: GuichetClient) -> None:
    await sign_in_staff(client, "ana.agent", "agent:corbas:rappel")
    answer = await client.submit("/agents/corbas/guichet/rappel", {"name": "Léa Guichet", "phone": "04 11 22 33 44"})
    assert answer.status_code == 303 and outbox(app) == []


async def test_counter_filing_twice_with_one_form_files_one_request(app: Starlette, client: GuichetClient) -> None:
    await sign_in_staff(client, "ana.agent", "agent:corbas:rappel")
    form = await client.get("/agents/corbas/guichet/rappel")
    key = re.search(r'name="submission_key" value="([^"]+)"', form.text)
    assert key
    data = {"csrftoken": await client.csrf_token("/"), "submission_key": key.group(1),
            "name": "Léa Guichet", "phone": "04 11 22 33 44"}  # fmt: skip
    first = await client.post("/agents/corbas/guichet/rappel", data=data)
    second = await client.post("/agents/corbas/guichet/rappel", data=data)
    assert first.headers["location"] == second.headers["location"]
    with app.state.db.session(all_communes=True) as session:
        assert len(session.exec(select(ServiceRequest).where(ServiceRequest.service == "rappel")).all()) == 1


async def test_counter_filing_with_mistakes_is_422_and_keeps_the_values(app: Starlette, client: GuichetClient) -> None:
    await sign_in_staff(client, "ana.agent", "agent:corbas:rappel")
    answer = await client.submit("/agents/corbas/guichet/rappel",
                                 {"name": "Léa Guichet", "phone": "pas un numéro",
                                  "counter_receipt_email": "pas-une-adresse"})  # fmt: skip
    assert answer.status_code == 422
    assert 'value="Léa Guichet"' in answer.text and 'value="pas-une-adresse"' in answer.text
    assert 'href="#champ-phone"' in answer.text and 'href="#champ-counter_receipt_email"' in answer.text
    with app.state.db.session(all_communes=True) as session:
        assert session.exec(select(ServiceRequest)).all() == []


async def test_counter_filing_without_a_required_document_names_it_and_stores_nothing(
    app: Starlette, client: GuichetClient
) -> None:
    await sign_in_staff(client, "ana.agent", "agent:corbas:badge")
    answer = await client.submit("/agents/corbas/guichet/badge", {"name": "Léa Guichet", "vehicle": "car"})
    assert answer.status_code == 422 and 'href="#fichier-proof"' in answer.text
    assert "Joignez ce document avant de déposer votre demande." in answer.text
    with app.state.db.session(commune="corbas") as session:
        assert session.exec(select(ServiceRequest)).all() == []


async def test_counter_filing_keeps_the_document_the_agent_scanned(app: Starlette, client: GuichetClient) -> None:
    await sign_in_staff(client, "ana.agent", "agent:corbas:badge")
    page = await client.get("/agents/corbas/guichet/badge")
    assert 'enctype="multipart/form-data"' in page.text and 'type="file"' in page.text
    token = await client.csrf_token("/agents/corbas/guichet/badge")
    answer = await client.post(
        "/agents/corbas/guichet/badge",
        data={"csrftoken": token, "submission_key": "guichet-badge-1", "name": "Léa Guichet", "vehicle": "car"},
        files={"document:proof": ("carte-grise.pdf", PDF, "application/pdf")},
    )
    assert answer.status_code == 303, answer.text
    with app.state.db.session(commune="corbas") as session:
        [attachment] = session.exec(select(Attachment)).all()
    assert (attachment.filename, attachment.uploaded_by) == ("carte-grise.pdf", "agent")


async def test_counter_receipt_of_another_services_reference_is_404(app: Starlette, client: GuichetClient) -> None:
    reference = file(app, "corbas", "rappel")
    await sign_in_staff(client, "ana.agent", "agent:corbas")
    assert (await client.get(f"/agents/corbas/guichet/contact/recu/{reference}")).status_code == 404


# Who may come in --------------------------------------------------------------------------------------


async def test_a_citizen_on_an_agents_page_is_refused_and_recorded(app: Starlette, client: GuichetClient) -> None:
    sign_in_citizen(client)
    answer = await client.get("/agents/corbas/demandes")
    assert answer.status_code == 403
    denial = audit_entries(app, "access.denied")[-1]
    assert (denial.actor_role, denial.commune) == ("citizen", "corbas")


async def test_a_visitor_is_sent_to_the_staff_sign_in(client: GuichetClient) -> None:
    answer = await client.get("/agents/corbas/demandes")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/agents/connexion")


ROLES: dict[str, tuple[str, ...]] = {
    "instructor": ("agent:corbas:badge:instructor", "agent:corbas:rappel:instructor"),
    "other service": ("agent:corbas:contact",),
    "other commune": ("agent:givors:badge", "agent:givors:rappel"),
    "reader": ("agent:corbas:badge:reader", "agent:corbas:rappel:reader"),
    "supervisor": ("supervisor:corbas",),
    "auditor": ("auditor",),
    "citizen": (),
    "anonymous": (),
}
#: route -> expected status per role, in the order of ROLES
MATRIX: dict[str, tuple[int, ...]] = {
    "queue": (200, 200, 403, 200, 200, 403, 403, 303),
    # another commune's reference answers as an unknown one would (404); the refusal is still recorded
    "file": (200, 403, 404, 200, 200, 403, 403, 303),
    "download": (200, 403, 404, 200, 200, 403, 403, 303),
    "csv": (200, 200, 403, 200, 200, 403, 403, 303),
    "counter": (200, 403, 403, 403, 200, 403, 403, 303),
    "note": (303, 403, 404, 403, 303, 403, 403, 303),
    "transition": (303, 403, 404, 403, 303, 403, 403, 303),
}


@pytest.mark.parametrize("role", list(ROLES))
async def test_role_and_route_matrix(app: Starlette, role: str) -> None:
    reference, _public_id, _caller = file_badge(app)
    with app.state.db.session(commune="corbas") as session:
        document_id = session.exec(select(Attachment.public_id)).first()
    async with GuichetClient(app) as http:
        if role == "citizen":
            sign_in_citizen(http)
        elif role != "anonymous":
            await sign_in_staff(http, "sam.staff", *ROLES[role])
        token = await http.csrf_token("/")
        base = case_path(reference)
        seen = {
            "queue": (await http.get("/agents/corbas/demandes")).status_code,
            "file": (await http.get(base)).status_code,
            "download": (await http.get(f"{base}/documents/{document_id}")).status_code,
            "csv": (await http.get("/agents/corbas/demandes.csv")).status_code,
            "counter": (await http.get("/agents/corbas/guichet/rappel")).status_code,
            "note": (await http.post(f"{base}/note", data={"csrftoken": token, "body": "Vu."})).status_code,
        }
        version = str(stored(app, reference).version)
        seen["transition"] = (
            await http.post(
                f"{base}/transition", data={"csrftoken": token, "transition": "examine", "version": version}
            )
        ).status_code
    position = list(ROLES).index(role)
    assert seen == {route: statuses[position] for route, statuses in MATRIX.items()}
