"""The auditor finds a request by its reference and reads its story, with its linked request where they may.

References restart in each commune, so a request is named by commune and
reference; a request shared with another commune (docs/shared_requests.md)
brings its linked request's entries when the auditor may read that commune.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest_asyncio
from sqlalchemy import select
from starlette.applications import Starlette

from gateway.audit.events import AuditEvent, pseudonym
from gateway.audit.log import record
from gateway.models import AuditEntry, ServiceRequest
from gateway.testing import ConfigFolder, GuichetClient, sign_in_staff

HOME, LINKED = "ECO-2026-000010", "ECO-2026-000001"


def _entry(session: object, commune: str, resource: str, subject: str | None, *, action: str = "request.read",
           actor: str = "staff:7", outcome: str = "success") -> None:  # fmt: skip
    record(session, AuditEvent(action=action, actor_id=actor, actor_role="agent", commune=commune,  # type: ignore[arg-type]
                               service="contact", resource=resource, subject=subject, purpose="instruction",
                               origin="web 192.0.2.1", outcome=outcome))  # type: ignore[arg-type]  # fmt: skip


def _request(app: Starlette, commune: str, reference: str, **link: str) -> None:
    with app.state.db.session(commune=commune) as session:
        session.add(ServiceRequest(reference=reference, commune=commune, service="contact", submission_key=reference,
                                   subject=pseudonym(app.state.registry.settings.secret_key, "request", reference),
                                   created_at=datetime.now(UTC), **link))  # fmt: skip


@pytest_asyncio.fixture
async def app(guichet_config: ConfigFolder, guichet_database_url: str) -> AsyncIterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    application = __import__("gateway.app", fromlist=["create_app"]).create_app(guichet_config.path)
    _request(application, "corbas", HOME, link_role="home", linked_commune="givors", linked_reference=LINKED)
    _request(application, "givors", LINKED, link_role="receiving", linked_commune="corbas", linked_reference=HOME)
    secret = application.state.registry.settings.secret_key
    family = pseudonym(secret, "request", HOME)
    with application.state.db.session() as session:
        _entry(session, "corbas", f"request/{HOME}", family, action="request.create", actor="citizen:x")
        _entry(session, "corbas", f"request/{HOME}/linked", family, action="request.share")
        _entry(session, "givors", f"request/{LINKED}", None, actor="staff:8")
        _entry(session, "givors", f"request/{HOME}", None, actor="staff:8")  # the same number, another request
        _entry(session, "corbas", f"request/{HOME}0", None)  # another request whose reference starts alike
        _entry(session, "corbas", f"request/{HOME}/document/DOC-1", family, action="document.issue")
        _entry(session, "corbas", f"request/{HOME}", family, outcome="denied", actor="staff:9")
    yield application
    application.state.db.dispose()


@pytest_asyncio.fixture
async def syndicate(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as http:
        await sign_in_staff(http, "alex.auditor", "auditor")
        yield http


@pytest_asyncio.fixture
async def corbas(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as http:
        await sign_in_staff(http, "claude.auditor", "auditor:corbas")
        yield http


def resources(body: dict[str, list[dict[str, str]]]) -> list[tuple[str, str]]:
    return [(entry["commune"], entry["resource"]) for entry in body["entries"]]


def last_entry(app: Starlette) -> AuditEntry:
    with app.state.db.session() as session:
        return session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()  # type: ignore[attr-defined]


async def test_a_reference_finds_the_requests_entries_and_what_hangs_under_it(syndicate: GuichetClient) -> None:
    answer = await syndicate.get("/api/v1/audit/entries", params={"reference": HOME, "commune": "corbas"})
    assert answer.status_code == 200
    assert sorted(resources(answer.json())) == sorted([
        ("corbas", f"request/{HOME}"), ("corbas", f"request/{HOME}/linked"),
        ("corbas", f"request/{HOME}/document/DOC-1"), ("corbas", f"request/{HOME}"),
    ])  # fmt: skip


async def test_a_reference_combines_with_the_outcome(syndicate: GuichetClient) -> None:
    answer = await syndicate.get("/api/v1/audit/entries", params={"reference": HOME, "outcome": "denied"})
    assert resources(answer.json()) == [("corbas", f"request/{HOME}")]


async def test_an_agent_combines_with_the_service_and_the_period(syndicate: GuichetClient) -> None:
    params = {"agent": "staff:8", "service": "contact", "since": "2000-01-01", "until": "2100-01-01"}
    answer = await syndicate.get("/api/v1/audit/entries", params=params)
    assert sorted(resources(answer.json())) == [("givors", f"request/{LINKED}"), ("givors", f"request/{HOME}")]


async def test_a_malformed_reference_is_a_clear_400(syndicate: GuichetClient) -> None:
    answer = await syndicate.get("/audit", params={"reference": "ECO/../%"})
    assert answer.status_code == 400 and "reference" in answer.text


async def test_the_timeline_holds_the_request_and_its_linked_request_oldest_first(syndicate: GuichetClient) -> None:
    answer = await syndicate.get(f"/api/v1/audit/requests/corbas/{HOME}")
    assert answer.status_code == 200
    body = answer.json()
    assert body["requests"] == [{"commune": "corbas", "reference": HOME, "linked": False},
                                {"commune": "givors", "reference": LINKED, "linked": True}]  # fmt: skip
    assert resources(body) == [
        ("corbas", f"request/{HOME}"), ("corbas", f"request/{HOME}/linked"), ("givors", f"request/{LINKED}"),
        ("corbas", f"request/{HOME}/document/DOC-1"), ("corbas", f"request/{HOME}"),
    ]  # fmt: skip


async def test_a_commune_auditor_does_not_get_the_linked_request_of_another_commune(corbas: GuichetClient) -> None:
    body = (await corbas.get(f"/api/v1/audit/requests/corbas/{HOME}")).json()
    assert [side["commune"] for side in body["requests"]] == ["corbas"]
    assert {commune for commune, _ in resources(body)} == {"corbas"}


async def test_a_commune_auditor_asking_for_another_communes_request_is_refused_and_recorded(
    corbas: GuichetClient, app: Starlette
) -> None:
    answer = await corbas.get(f"/audit/demandes/givors/{LINKED}")
    assert answer.status_code == 403
    assert (last_entry(app).action, last_entry(app).outcome) == ("access.denied", "denied")


async def test_the_timeline_page_lists_the_entries_and_links_the_linked_request(syndicate: GuichetClient) -> None:
    page = await syndicate.get(f"/audit/demandes/corbas/{HOME}")
    assert page.status_code == 200
    assert "5 entrées" in page.text and f'href="/audit/demandes/givors/{LINKED}"' in page.text


async def test_the_timeline_page_speaks_english(syndicate: GuichetClient) -> None:
    page = await syndicate.get(f"/audit/demandes/corbas/{HOME}", headers={"Accept-Language": "en"})
    assert f"History of request {HOME}" in page.text and 'lang="en"' in page.text


async def test_reading_a_timeline_is_recorded_with_the_requests_person_and_purpose(
    syndicate: GuichetClient, app: Starlette
) -> None:
    await syndicate.get(f"/audit/demandes/corbas/{HOME}", params={"purpose": "incident"})
    entry = last_entry(app)
    assert (entry.action, entry.resource) == ("audit.search", f"audit-request/corbas/{HOME}")
    assert entry.subject == pseudonym(app.state.registry.settings.secret_key, "request", HOME)
    assert entry.purpose.startswith("enquête sur un incident")


async def test_an_unknown_request_is_a_404(syndicate: GuichetClient) -> None:
    answer = await syndicate.get("/api/v1/audit/requests/corbas/ECO-1999-000001")
    assert answer.status_code == 404 and answer.headers["content-type"].startswith("application/problem+json")


async def test_an_unknown_commune_is_a_404(syndicate: GuichetClient) -> None:
    answer = await syndicate.get(f"/audit/demandes/atlantis/{HOME}")
    assert answer.status_code == 404


async def test_an_unknown_purpose_on_a_timeline_is_a_clear_400(syndicate: GuichetClient) -> None:
    answer = await syndicate.get(f"/api/v1/audit/requests/corbas/{HOME}", params={"purpose": "curiosite"})
    assert answer.status_code == 400 and "purpose" in answer.json()["detail"]


async def test_an_unknown_parameter_on_a_timeline_is_a_clear_400(syndicate: GuichetClient) -> None:
    answer = await syndicate.get(f"/audit/demandes/corbas/{HOME}", params={"colour": "red"})
    assert answer.status_code == 400 and "colour" in answer.text


async def test_the_person_timeline_links_each_request_to_its_timeline(syndicate: GuichetClient) -> None:
    page = await syndicate.get("/audit/personne", params={"citizen": pseudonym_of_home(syndicate), "purpose": "droits"})
    assert f'href="/audit/demandes/corbas/{HOME}"' in page.text


def pseudonym_of_home(client: GuichetClient) -> str:
    return pseudonym(client.app.state.registry.settings.secret_key, "request", HOME)


async def test_the_consoles_results_link_each_request_to_its_timeline(syndicate: GuichetClient) -> None:
    page = await syndicate.get("/audit", params={"reference": LINKED})
    assert f'href="/audit/demandes/givors/{LINKED}"' in page.text
