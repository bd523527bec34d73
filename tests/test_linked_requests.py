"""A request shared with another member commune (docs/shared_requests.md), through real HTTP.

Corbas is the home commune (the family files there), Givors the receiving one;
Grigny is a member that does not offer the service. The test plugin
(:mod:`tests.plugins.shared_service`) discloses the level and the reason's
category, and the proof document when the family chooses to share it.
"""

from __future__ import annotations

import functools
import io
import logging
import secrets
import threading
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from sqlmodel import col, select
from starlette.applications import Starlette

from gateway import DEFAULT_WORKFLOW as HOME_WORKFLOW
from gateway import LinkedSide, TransitionRefused
from gateway.app import create_app
from gateway.audit.events import ANONYMOUS, Actor
from gateway.group_commit import GroupCommit
from gateway.identity import staff as staff_accounts
from gateway.identity.sessions import COOKIE, cookie_value, open_session
from gateway.identity.tokens import create_token
from gateway.models import Attachment, AuditEntry, Citizen, OutboxMessage, RequestEvent, ServiceRequest
from gateway.requests.caller import Caller
from gateway.requests.filing import Filed, Prepared, Submission, prepare, store
from gateway.requests.lifecycle import CitizenRequests
from gateway.requests.rules import rules_for
from gateway.requests.submission_keys import new_submission_key
from gateway.services import CitizenIdentity
from gateway.testing import STAFF_PASSWORD, ConfigFolder, GuichetClient, request_handle, sign_in_citizen, sign_in_staff
from tests.plugins import shared_service

KEY = shared_service.KEY
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
#: a marker in every field and document the receiving commune must never see
HIDDEN = {
    "child_name": "MARQUE-ENFANT-7f3a",
    "address": "MARQUE-ADRESSE-91c2",
    "details": "MARQUE-PRECISIONS-c0d4",
}
IDENTITY_FILE = "MARQUE-IDENTITE-55e1.pdf"
IDENTITY_BYTES = PDF + b"% MARQUE-CONTENU-IDENTITE-a8b9\n"
PROOF_FILE = "MARQUE-JUSTIFICATIF-0b7e.pdf"
PROOF_BYTES = PDF + b"% MARQUE-CONTENU-JUSTIFICATIF-d2f6\n"
MARKERS = (
    *HIDDEN.values(),
    "MARQUE-IDENTITE-55e1",
    "MARQUE-CONTENU-IDENTITE-a8b9",
    "MARQUE-JUSTIFICATIF-0b7e",
    "MARQUE-CONTENU-JUSTIFICATIF-d2f6",
    "camille.famille@example.org",
)


@pytest_asyncio.fixture
async def app(guichet_config: ConfigFolder, guichet_database_url: str) -> AsyncIterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    for slug in ("corbas", "givors"):
        services = guichet_config.read(f"communes/{slug}.toml").get("services", {})
        guichet_config.set_commune(slug, services={**services, KEY: {}})
    application = create_app(guichet_config.path, extra_plugins=[("shared_service", shared_service)])
    yield application
    application.state.db.dispose()


def family(app: Starlette) -> tuple[Caller, str]:
    """A signed-in citizen (as the service layer names them) and their public id."""
    public_id = secrets.token_hex(16)
    with app.state.db.session() as session:
        citizen = Citizen(
            public_id=public_id,
            issuer="https://idp.test",
            sub=secrets.token_hex(8),
            email="camille.famille@example.org",
            created_at=datetime.now(UTC),
        )
        session.add(citizen)
        session.flush()
        citizen_id = citizen.id
    caller = Caller(
        actor=Actor(f"citizen:{public_id}", "citizen"),
        origin="web test",
        citizen_id=citizen_id,
        citizen_public_id=public_id,
        identity=CitizenIdentity(email="camille.famille@example.org"),
    )
    return caller, public_id


def file_shared(app: Starlette, caller: Caller, *, other: str = "givors", share_proof: str = "no") -> tuple[str, str]:
    """File a request shared with ``other``, both documents attached; returns (home reference, public id)."""
    requests = CitizenRequests(app.state.db, app.state.registry)
    draft = requests.start_draft(caller, "corbas", KEY, submission_key=new_submission_key())
    answers = {**HIDDEN, "level": "cp", "reason": "sibling", "other_commune": other, "share_proof": share_proof}
    requests.save_draft(caller, draft.public_id, answers)
    requests.attach(caller, draft.public_id, "identity", IDENTITY_FILE, IDENTITY_BYTES)
    requests.attach(caller, draft.public_id, "proof", PROOF_FILE, PROOF_BYTES)
    submitted = requests.submit(caller, draft.public_id)
    assert not submitted.errors and submitted.request.reference is not None, submitted.errors
    return submitted.request.reference, draft.public_id


def rows(app: Starlette, commune: str) -> list[ServiceRequest]:
    with app.state.db.session(commune=commune) as session:
        found = session.exec(select(ServiceRequest).where(ServiceRequest.service == KEY)).all()
        for row in found:
            session.expunge(row)
        return list(found)


def linked_row(app: Starlette) -> ServiceRequest:
    (row,) = rows(app, "givors")
    return row


def home_row(app: Starlette) -> ServiceRequest:
    (row,) = rows(app, "corbas")
    return row


def agent_token(app: Starlette, username: str, commune: str) -> str:
    with app.state.db.session() as session:
        staff = staff_accounts.create(
            session,
            username=username,
            display_name=username.title(),
            email=f"{username}@guichet.example",
            password=STAFF_PASSWORD,
            grants=[staff_accounts.parse_grant(f"agent:{commune}:{KEY}:instructor")],
        )
        _row, token = create_token(session, staff, name="tests", scopes=["agent"], lifetime=timedelta(days=1))
    return token


async def api_agent(app: Starlette, commune: str) -> GuichetClient:
    client = GuichetClient(app)
    client.headers["Authorization"] = f"Bearer {agent_token(app, f'api.{commune}.{secrets.token_hex(3)}', commune)}"
    return client


async def decide(app: Starlette, commune: str, reference: str, transition: str, **body: str) -> int:
    """An agent of ``commune`` takes ``transition`` through the API, on the version they just saw."""
    (version,) = [row.version for row in rows(app, commune) if row.reference == reference]
    async with await api_agent(app, commune) as client:
        answer = await client.post(
            f"/api/v1/communes/{commune}/requests/{reference}/transitions",
            json={"transition": transition, "version": version, **body},
        )
    return answer.status_code


def audit(app: Starlette, **where: str) -> list[AuditEntry]:
    with app.state.db.session() as session:
        query = select(AuditEntry).order_by(col(AuditEntry.seq))
        for name, value in where.items():
            query = query.where(getattr(AuditEntry, name) == value)
        found = session.exec(query).all()
        for entry in found:
            session.expunge(entry)
        return list(found)


def history(app: Starlette, row: ServiceRequest) -> list[RequestEvent]:
    with app.state.db.session(commune=row.commune) as session:
        found = session.exec(select(RequestEvent).where(RequestEvent.request_id == row.id)).all()
        for event in found:
            session.expunge(event)
        return list(found)


# Creation --------------------------------------------------------------------------------------------------


async def test_a_shared_request_creates_a_linked_request_holding_only_the_disclosed_fields(app: Starlette) -> None:
    caller, _public_id = family(app)
    reference, _ = file_shared(app, caller)
    linked, home = linked_row(app), home_row(app)
    assert linked.data == {"level": "cp", "reason": "sibling"}
    assert (
        linked.link_role == "receiving" and linked.linked_commune == "corbas" and linked.linked_reference == reference
    )
    assert home.link_role == "home" and home.linked_commune == "givors" and home.linked_reference == linked.reference
    assert linked.status == "received" and linked.citizen_id is None and linked.notify_email is None
    assert linked.subject == home.subject


async def test_only_the_documents_the_family_chose_are_shared(app: Starlette) -> None:
    caller, _ = family(app)
    file_shared(app, caller, share_proof="yes")
    with app.state.db.session(commune="givors") as session:
        shared = session.exec(select(Attachment)).all()
    assert [(a.document, a.filename) for a in shared] == [("proof", PROOF_FILE)]


async def test_no_document_is_shared_unless_the_family_chose_it(app: Starlette) -> None:
    caller, _ = family(app)
    file_shared(app, caller, share_proof="no")
    with app.state.db.session(commune="givors") as session:
        assert session.exec(select(Attachment)).all() == []


async def test_a_commune_that_does_not_offer_the_service_is_refused_before_anything_is_stored(app: Starlette) -> None:
    async with GuichetClient(app) as citizen:
        sign_in_citizen(citizen, email="camille.famille@example.org")
        answer = await citizen.file_request(
            "corbas", KEY, {**HIDDEN, "level": "cp", "reason": "sibling", "other_commune": "grigny"}
        )
    assert answer.status_code == 422
    assert "ne propose pas cette démarche" in answer.text
    assert [row.status for row in rows(app, "corbas")] == ["draft"]  # the draft stays a draft, nothing submitted
    assert rows(app, "grigny") == [] and audit(app, action="request.share") == []


async def test_a_commune_outside_the_syndicate_is_refused_with_nothing_stored(app: Starlette) -> None:
    async with GuichetClient(app) as citizen:
        sign_in_citizen(citizen, email="camille.famille@example.org")
        answer = await citizen.file_request(
            "corbas", KEY, {**HIDDEN, "level": "cp", "reason": "sibling", "other_commune": "lyon"}
        )
    assert answer.status_code == 422
    assert "membre du syndicat" in answer.text
    assert [row.status for row in rows(app, "corbas")] == ["draft"]
    assert audit(app, action="request.share") == [] and audit(app, action="request.submit") == []


# Disclosure ------------------------------------------------------------------------------------------------


async def test_nothing_but_the_disclosed_fields_reaches_the_receiving_commune(app: Starlette) -> None:
    """Every answer the receiving agent can get — pages, API, exports, search, downloads — holds no marker."""
    caller, _ = family(app)
    file_shared(app, caller, share_proof="no")
    linked = linked_row(app)
    seen: list[str] = []
    async with GuichetClient(app) as agent:
        await sign_in_staff(agent, "agent.givors", f"agent:givors:{KEY}:instructor")
        for path in (
            "/agents/givors/demandes",
            f"/agents/givors/demandes?q={linked.reference}",
            "/agents/givors/demandes?status=",
            "/agents/givors/demandes.csv",
            f"/agents/givors/demandes/{linked.reference}",
            f"/agents/givors/demandes/{linked.reference}/documents.zip",
        ):
            answer = await agent.get(path)
            assert answer.status_code == 200, (path, answer.status_code)
            seen.append(_readable(answer.content))
        assert "CP" in seen[4] and linked.reference in seen[0]  # the disclosed part is there
    async with await api_agent(app, "givors") as api:
        for path in (
            "/api/v1/communes/givors/requests",
            "/api/v1/communes/givors/requests.csv",
            f"/api/v1/communes/givors/requests/{linked.reference}",
            f"/api/v1/communes/givors/requests/{linked.reference}/attachments.zip",
        ):
            answer = await api.get(path)
            assert answer.status_code == 200, (path, answer.status_code)
            seen.append(_readable(answer.content))
        assert '"level": "cp"' in seen[-2].replace('":"', '": "') or "cp" in seen[-2]
        searched = await api.get(f"/api/v1/communes/givors/requests?q={HIDDEN['address']}")
        assert searched.json()["items"] == []  # a hidden field is not searchable either
    async with GuichetClient(app) as agent:
        await sign_in_staff(agent, "agent2.givors", f"agent:givors:{KEY}:instructor")
        page = await agent.get(f"/agents/givors/demandes?q={HIDDEN['child_name']}")
        assert linked.reference not in page.text  # found by nothing but what the commune holds
        seen.append(page.text.replace(HIDDEN["child_name"], ""))  # the search box shows what was typed
    for text in seen:
        for marker in MARKERS:
            assert marker not in text


async def test_the_receiving_agent_cannot_open_the_home_request(app: Starlette) -> None:
    caller, _ = family(app)
    reference, _ = file_shared(app, caller)
    async with await api_agent(app, "givors") as api:
        assert (await api.get(f"/api/v1/communes/corbas/requests/{reference}")).status_code in (403, 404)


def _readable(content: bytes) -> str:
    """A response as text, with the files of a ZIP answer read too."""
    if content.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return " ".join(name + archive.read(name).decode("latin-1") for name in archive.namelist())
    return content.decode("utf-8", "replace")


# Decisions -------------------------------------------------------------------------------------------------


async def test_the_home_agent_sees_the_receiving_decision_and_the_family_is_told(app: Starlette) -> None:
    caller, _ = family(app)
    reference, _ = file_shared(app, caller)
    linked = linked_row(app)
    assert await decide(app, "givors", linked.reference or "", "decline", reason="full") == 200
    home = home_row(app)
    assert (home.linked_status, home.linked_reason) == ("no-place", "full")
    async with await api_agent(app, "corbas") as api:
        case = (await api.get(f"/api/v1/communes/corbas/requests/{reference}")).text
    assert "Pas de place (Niveau complet)" in case
    with app.state.db.session() as session:
        mail = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "request-linked-decision")).all()
    assert [m.recipient for m in mail] == ["camille.famille@example.org"] and "Givors" in mail[0].body


async def test_the_plugin_reads_the_receiving_decision_before_the_home_one(app: Starlette) -> None:
    caller, _ = family(app)
    reference, _ = file_shared(app, caller)
    assert await decide(app, "corbas", reference, "accept") == 409  # no place offered yet: the plugin refuses
    assert await decide(app, "givors", linked_row(app).reference or "", "offer") == 200
    assert await decide(app, "corbas", reference, "accept") == 200
    assert home_row(app).status == "accepted"


async def test_a_plugins_refusal_of_a_step_is_not_logged_as_a_plugin_failure(
    app: Starlette, caplog: pytest.LogCaptureFixture
) -> None:
    caller, _ = family(app)
    reference, _ = file_shared(app, caller)
    with caplog.at_level(logging.ERROR, logger="gateway.plugins"):
        assert await decide(app, "corbas", reference, "accept") == 409
    assert [record.getMessage() for record in caplog.records if record.name == "gateway.plugins"] == []


async def test_the_receiving_side_sees_only_the_home_decision(app: Starlette) -> None:
    caller, _ = family(app)
    reference, _ = file_shared(app, caller)
    assert await decide(app, "givors", linked_row(app).reference or "", "offer") == 200
    assert await decide(app, "corbas", reference, "refuse", comment="MARQUE-COMMENTAIRE-e4e4") == 200
    linked = linked_row(app)
    assert (linked.linked_status, linked.linked_reason) == ("refused", None)
    async with await api_agent(app, "givors") as api:
        case = (await api.get(f"/api/v1/communes/givors/requests/{linked.reference}")).text
    assert "Refusée" in case and "MARQUE-COMMENTAIRE-e4e4" not in case


async def test_withdrawing_the_home_request_closes_the_linked_one(app: Starlette) -> None:
    caller, _ = family(app)
    _, public_id = file_shared(app, caller)
    CitizenRequests(app.state.db, app.state.registry).withdraw(caller, public_id)
    linked = linked_row(app)
    assert linked.status == "withdrawn" and linked.linked_status == "withdrawn" and linked.decided_at is not None
    assert [e.kind for e in history(app, linked)][-2:] == ["linked-decision", "withdrawn"]


# Audit and access log --------------------------------------------------------------------------------------


async def test_each_side_records_its_accesses_under_its_own_commune(app: Starlette) -> None:
    caller, _ = family(app)
    reference, _ = file_shared(app, caller)
    linked = linked_row(app)
    async with await api_agent(app, "givors") as api:
        await api.get(f"/api/v1/communes/givors/requests/{linked.reference}")
    assert [e.commune for e in audit(app, action="request.share")] == ["corbas"]
    created = audit(app, action="request.create", commune="givors")
    assert [(e.resource, e.actor_role) for e in created] == [(f"request/{linked.reference}", "system")]
    reads = audit(app, action="request.read", commune="givors")
    assert [e.resource for e in reads] == [f"request/{linked.reference}"]
    assert audit(app, action="request.read", commune="corbas") == []
    assert {e.resource for e in audit(app, commune="givors")} == {f"request/{linked.reference}"}
    assert {e.resource for e in audit(app, commune="corbas") if e.resource.startswith("request/")} == {
        f"request/{reference}",
        f"request/{reference}/linked",
    }


async def test_the_citizens_access_log_shows_the_receiving_communes_consultations(app: Starlette) -> None:
    caller, _ = family(app)
    file_shared(app, caller)
    async with await api_agent(app, "givors") as api:
        await api.get(f"/api/v1/communes/givors/requests/{linked_row(app).reference}")
    async with GuichetClient(app) as citizen:
        with app.state.db.session() as session:
            session_id = open_session(session, "citizen", caller.citizen_id or 0)
        citizen.cookies.set(COOKIE, cookie_value(app.state.registry.settings.secret_key, session_id))
        accesses = (await citizen.get("/mon-compte/acces.json")).json()["accesses"]
    givors = [(a["commune"], a["what"]) for a in accesses if a["commune"] in ("givors", "Givors")]
    assert ("Givors", "Consultation de votre demande") in givors or (
        "givors",
        "Consultation de votre demande",
    ) in givors


async def test_the_family_reads_the_receiving_decision_on_its_request_page(app: Starlette) -> None:
    caller, _ = family(app)
    _, public_id = file_shared(app, caller)
    assert await decide(app, "givors", linked_row(app).reference or "", "decline", reason="full") == 200
    async with GuichetClient(app) as citizen:
        with app.state.db.session() as session:
            session_id = open_session(session, "citizen", caller.citizen_id or 0)
        citizen.cookies.set(COOKIE, cookie_value(app.state.registry.settings.secret_key, session_id))
        page = await citizen.get(f"/mes-demandes/{public_id}")
    assert page.status_code == 200
    assert "Décision de la commune de Givors : Pas de place (Niveau complet)" in page.text
    assert "Décision de l'autre commune" in page.text and "Demande transmise à une autre commune" in page.text


async def test_the_receiving_queue_names_the_linked_states_and_a_decided_one_leaves_it(app: Starlette) -> None:
    caller, _ = family(app)
    file_shared(app, caller)
    reference = linked_row(app).reference or ""
    async with await api_agent(app, "givors") as api:
        (item,) = (await api.get("/api/v1/communes/givors/requests")).json()["items"]
        assert item["status_label"]["fr"] == "Reçue"
        assert await decide(app, "givors", reference, "offer") == 200
        assert (await api.get("/api/v1/communes/givors/requests")).json()["items"] == []
        decided = (await api.get("/api/v1/communes/givors/requests?status=place-available")).json()["items"]
    assert [found["reference"] for found in decided] == [reference]


async def test_sharing_with_the_home_commune_itself_is_refused(app: Starlette) -> None:
    async with GuichetClient(app) as citizen:
        sign_in_citizen(citizen, email="camille.famille@example.org")
        answer = await citizen.file_request(
            "corbas", KEY, {**HIDDEN, "level": "cp", "reason": "sibling", "other_commune": "corbas"}
        )
    assert answer.status_code == 422 and "une autre commune" in answer.text
    assert [row.status for row in rows(app, "corbas")] == ["draft"]


def test_a_hook_reads_the_other_side_through_the_handle_the_kit_builds() -> None:
    waiting = LinkedSide("home", "givors", "ACC-2026-000001")
    handle = request_handle(KEY, "corbas", {"level": "cp"}, linked=waiting)
    assert handle.linked == waiting and not waiting.decided
    accept = HOME_WORKFLOW.transition("accept")
    assert accept is not None
    with pytest.raises(TransitionRefused):
        shared_service.guichet_request_transition(handle, accept)


def test_a_request_that_is_not_shared_has_no_other_side() -> None:
    assert request_handle(KEY, "corbas", {"level": "cp"}).linked is None


async def test_a_plugin_naming_a_field_its_form_lacks_makes_the_service_unavailable(app: Starlette) -> None:
    async with GuichetClient(app, raise_app_exceptions=False) as citizen:
        sign_in_citizen(citizen, email="camille.famille@example.org")
        answer = await citizen.file_request(
            "corbas", KEY, {**HIDDEN, "level": "cp", "reason": "sibling", "other_commune": shared_service.MISUSED}
        )
    assert answer.status_code == 503
    assert [row.status for row in rows(app, "corbas")] == ["draft"] and rows(app, "givors") == []


async def test_filing_at_the_counter_shares_the_request_too(app: Starlette) -> None:
    async with GuichetClient(app) as agent:
        await sign_in_staff(agent, "ana.corbas", f"agent:corbas:{KEY}")
        refused = await agent.submit(
            f"/agents/corbas/guichet/{KEY}", {**HIDDEN, "level": "ce1", "reason": "medical", "other_commune": "grigny"}
        )
        assert refused.status_code == 422 and "ne propose pas cette démarche" in refused.text
        assert rows(app, "corbas") == [] and rows(app, "givors") == []
        filed = await agent.submit(
            f"/agents/corbas/guichet/{KEY}", {**HIDDEN, "level": "ce1", "reason": "medical", "other_commune": "givors"}
        )
    assert filed.status_code == 303
    assert linked_row(app).data == {"level": "ce1", "reason": "medical"}
    assert [e.actor_role for e in audit(app, action="request.create", commune="givors")] == ["system"]


# Group commit -------------------------------------------------------------------------------------------------


def test_a_linked_request_numbered_in_a_batch_that_numbers_its_commune_too_takes_the_next_number(
    app: Starlette,
) -> None:
    """The linked row's number is counted with the batch's own uses of the receiving commune's counter."""
    registry, writer = app.state.registry, GroupCommit(app.state.db)
    caller = Caller(actor=ANONYMOUS, origin="api 192.0.2.9")
    answers = {**HIDDEN, "level": "cp", "reason": "sibling"}
    filings = [("givors", answers), ("givors", answers), ("corbas", {**answers, "other_commune": "givors"})]
    started, release = threading.Event(), threading.Event()
    writer.submit(None, lambda _session: (started.set(), release.wait(30)))
    assert started.wait(30)
    futures = []
    for commune, raw in filings:
        made = prepare(registry, rules_for(registry, registry.commune(commune), KEY), caller,
                       Submission(raw, new_submission_key()))  # fmt: skip
        assert isinstance(made, Prepared), made
        futures.append(writer.submit(commune, functools.partial(store, registry=registry, prepared=made)))
    release.set()
    outcomes = [future.result(30) for future in futures]
    writer.close()
    assert all(isinstance(outcome, Filed) and outcome.request is not None for outcome in outcomes)
    references = sorted(row.reference for row in rows(app, "givors"))
    assert len(references) == 3 and len(set(references)) == 3, references
