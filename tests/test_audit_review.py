"""The auditor's weekly review: each kind of finding surfaces from planted entries and not from a normal week,
within the auditor's communes; marking a finding is recorded; the review exports as CSV and PDF."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pypdf
import pytest
import pytest_asyncio
from sqlalchemy import select
from starlette.applications import Starlette

from gateway.audit.events import AuditEvent, pseudonym
from gateway.audit.log import append
from gateway.identity import staff as staff_accounts
from gateway.models import AuditEntry, RequestEvent, ServiceRequest
from gateway.settings import ConfigError, load_settings
from gateway.testing import STAFF_PASSWORD, ConfigFolder, GuichetClient, sign_in_staff

PARIS = ZoneInfo("Europe/Paris")
WEEK = "2026-W45"  # Monday 2 November 2026 to Sunday 8 November, Paris
SECRET_FREE = b"x"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of November 2026, Paris time, as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=PARIS).astimezone(UTC)


def person(number: int) -> str:
    return pseudonym(SECRET_FREE, "email", f"person{number}@example.org")


class Planter:
    """Writes audit entries at chosen moments, and the staff and requests they are about."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.staff: dict[str, int] = {}

    def agent(self, username: str, *grants: str) -> str:
        with self.app.state.db.session(all_communes=True) as session:
            user = staff_accounts.create(
                session,
                username=username,
                display_name=username,
                password=STAFF_PASSWORD,
                email=f"{username}@guichet.example",
                grants=[staff_accounts.parse_grant(grant) for grant in grants],
            )
            session.flush()
            assert user.id is not None
            self.staff[username] = user.id
        return f"staff:{self.staff[username]}"

    def request(self, commune: str, reference: str, assigned_to: str | None) -> None:
        with self.app.state.db.session(all_communes=True) as session:
            session.add(
                ServiceRequest(
                    commune=commune,
                    service="contact",
                    reference=reference,
                    submission_key=reference,
                    status="submitted",
                    assigned_to=self.staff[assigned_to] if assigned_to else None,
                )
            )

    def reassign(self, commune: str, reference: str, to: str, when: datetime) -> None:
        """The request goes to ``to`` at ``when``, with its history line, as taking it in hand does."""
        with self.app.state.db.session(all_communes=True) as session:
            row = session.scalars(select(ServiceRequest).where(ServiceRequest.reference == reference)).one()
            row.assigned_to = self.staff[to]
            session.add(
                RequestEvent(
                    commune=commune,
                    request_id=row.id,
                    at=when,
                    kind="assignment",
                    actor_role="agent",
                    staff_id=self.staff[to],
                    internal=True,
                )
            )

    def entry(
        self,
        when: datetime,
        actor: str,
        *,
        commune: str = "corbas",
        service: str = "contact",
        action: str = "request.read",
        resource: str = "request/COR-2026-000001",
        subject: str | None = None,
        outcome: str = "success",
        role: str = "agent",
    ) -> None:
        event = AuditEvent(
            action=action,
            actor_id=actor,
            actor_role=role,
            commune=commune,
            service=service,
            resource=resource,
            subject=subject if subject is not None else person(1),
            purpose="instruction",
            origin="web 192.0.2.1",
            outcome=outcome,
        )  # type: ignore[arg-type]
        with self.app.state.db.session(all_communes=True) as session:
            append(session, [event], now=when)


@pytest_asyncio.fixture
async def app(guichet_config: ConfigFolder, guichet_database_url: str) -> AsyncIterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    application = __import__("gateway.app", fromlist=["create_app"]).create_app(guichet_config.path)
    yield application
    application.state.db.dispose()


@pytest_asyncio.fixture
async def client(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as http:
        yield http


@pytest.fixture
def plant(app: Starlette) -> Iterator[Planter]:
    yield Planter(app)


def normal_week(plant: Planter) -> dict[str, str]:
    """Three agents of Corbas's contact service, each opening their own requests in office hours, a near miss
    of each rule: three agents on one person, four refusals in a row, no export."""
    agents = {name: plant.agent(name, "agent:corbas:contact:instructor") for name in ("ana", "ben", "cyd")}
    for index, name in enumerate(agents):
        for number in range(8):
            reference = f"COR-2026-{index}{number:05d}"
            plant.request("corbas", reference, name)
            plant.entry(
                at(3 + number % 4, 9 + number),
                agents[name],
                resource=f"request/{reference}",
                subject=person(10 * index + number),
            )
    for name in ("ana", "ben", "cyd"):  # three agents on one person: below the four the rule asks
        plant.request("corbas", f"COR-2026-9{name}", None)
        plant.entry(at(4, 11), agents[name], resource=f"request/COR-2026-9{name}", subject=person(99))
    for minute in range(4):  # four refusals: below the five of a burst
        plant.entry(at(5, 10, minute), agents["ana"], action="access.denied", outcome="denied", resource="GET /x")
    return agents


def findings(rows: list[list[str]]) -> list[dict[str, str]]:
    header, *lines = rows
    return [dict(zip(header, line, strict=True)) for line in lines]


async def review(client: GuichetClient, **params: str) -> list[dict[str, str]]:
    answer = await client.get("/audit/revue.csv", params={"week": WEEK, **params})
    assert answer.status_code == 200, answer.text
    return findings(list(csv.reader(io.StringIO(answer.text))))


async def kinds(client: GuichetClient, **params: str) -> set[str]:
    return {finding["kind"] for finding in await review(client, **params)}


@pytest.mark.parametrize(
    "kind", ["outside-service", "outside-assignment", "volume", "off-hours", "denials", "many-agents", "export"]
)
async def test_a_normal_week_raises_no_finding_of_this_kind(client: GuichetClient, plant: Planter, kind: str) -> None:
    normal_week(plant)
    await sign_in_staff(client, "alex.auditor", "auditor")
    assert kind not in await kinds(client)


async def test_a_request_outside_the_agents_service_is_a_finding(client: GuichetClient, plant: Planter) -> None:
    agents = normal_week(plant)
    plant.entry(at(4, 10), agents["ben"], service="etat-civil", resource="request/NAI-2026-000001")
    await sign_in_staff(client, "alex.auditor", "auditor")
    found = [finding for finding in await review(client) if finding["kind"] == "outside-service"]
    assert [finding["actor"] for finding in found] == [agents["ben"]]


async def test_refused_attempts_at_another_services_requests_are_a_finding(
    client: GuichetClient, plant: Planter
) -> None:
    agents = normal_week(plant)
    for minute in range(3):
        plant.entry(
            at(4, 10) + timedelta(minutes=minute),
            agents["ben"],
            service="etat-civil",
            resource=f"request/NAI-2026-00000{minute + 1}",
            outcome="denied",
        )
    await sign_in_staff(client, "alex.auditor", "auditor")
    found = [finding for finding in await review(client) if finding["kind"] == "outside-service"]
    assert [(finding["actor"], finding["count"]) for finding in found] == [(agents["ben"], "3")]


async def test_a_request_assigned_to_a_colleague_is_a_finding(client: GuichetClient, plant: Planter) -> None:
    agents = normal_week(plant)
    plant.entry(at(4, 10), agents["cyd"], resource="request/COR-2026-000003")  # ana's request
    await sign_in_staff(client, "alex.auditor", "auditor")
    found = [finding for finding in await review(client) if finding["kind"] == "outside-assignment"]
    assert [finding["actor"] for finding in found] == [agents["cyd"]]


async def test_an_agents_unusual_volume_is_a_finding(client: GuichetClient, plant: Planter) -> None:
    agents = normal_week(plant)
    for week in range(1, 5):  # ana's usual: 8 requests a week
        for number in range(8):
            plant.entry(at(3 + number % 4, 10) - timedelta(weeks=week), agents["ana"], subject=person(number))
    for number in range(60):
        plant.entry(
            at(6, 9) + timedelta(minutes=number),
            agents["ana"],
            resource="request/COR-2026-000001",
            subject=person(number),
        )
    await sign_in_staff(client, "alex.auditor", "auditor")
    found = [finding for finding in await review(client) if finding["kind"] == "volume"]
    assert [finding["actor"] for finding in found] == [agents["ana"]]


async def test_access_outside_working_hours_is_a_finding(client: GuichetClient, plant: Planter) -> None:
    agents = normal_week(plant)
    plant.entry(at(4, 23, 30), agents["ben"], resource="request/COR-2026-100001")
    await sign_in_staff(client, "alex.auditor", "auditor")
    found = [finding for finding in await review(client) if finding["kind"] == "off-hours"]
    assert [(finding["actor"], finding["count"]) for finding in found] == [(agents["ben"], "1")]


async def test_the_communes_own_working_hours_decide(
    guichet_config: ConfigFolder, guichet_database_url: str, plant: Planter, client: GuichetClient
) -> None:
    agents = normal_week(plant)
    plant.entry(at(8, 10), agents["ben"], resource="request/COR-2026-100001")  # a Sunday morning
    guichet_config.merge_commune(
        "corbas",
        audit_review={
            "working_hours": [
                {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "08:00", "end": "20:00"}
            ]
        },
    )
    application = __import__("gateway.app", fromlist=["create_app"]).create_app(guichet_config.path)
    try:
        async with GuichetClient(application) as other:
            await sign_in_staff(other, "alex.auditor", "auditor")
            assert "off-hours" not in await kinds(other)
    finally:
        application.state.db.dispose()


async def test_a_burst_of_denials_is_a_finding(client: GuichetClient, plant: Planter) -> None:
    agents = normal_week(plant)
    for second in range(0, 300, 50):
        plant.entry(
            at(6, 14) + timedelta(seconds=second),
            agents["cyd"],
            action="access.denied",
            outcome="denied",
            resource="GET /agents/x",
        )
    await sign_in_staff(client, "alex.auditor", "auditor")
    found = [finding for finding in await review(client) if finding["kind"] == "denials"]
    assert [(finding["actor"], finding["count"]) for finding in found] == [(agents["cyd"], "6")]


async def test_one_person_opened_by_many_agents_is_a_finding(client: GuichetClient, plant: Planter) -> None:
    agents = normal_week(plant)
    agents["dee"] = plant.agent("dee", "agent:corbas:contact:instructor")
    plant.entry(at(4, 15), agents["dee"], resource="request/COR-2026-9ana", subject=person(99))
    await sign_in_staff(client, "alex.auditor", "auditor")
    found = [finding for finding in await review(client) if finding["kind"] == "many-agents"]
    assert [finding["subject"] for finding in found] == [person(99)]


async def test_an_export_is_a_finding(client: GuichetClient, plant: Planter) -> None:
    agents = normal_week(plant)
    for number in range(3):
        plant.entry(at(5, 16), agents["ana"], action="request.export", resource="queue/corbas", subject=person(number))
    await sign_in_staff(client, "alex.auditor", "auditor")
    found = [finding for finding in await review(client) if finding["kind"] == "export"]
    assert [(finding["actor"], finding["count"]) for finding in found] == [(agents["ana"], "3")]


async def test_each_finding_links_to_its_entries(client: GuichetClient, plant: Planter, app: Starlette) -> None:
    agents = normal_week(plant)
    plant.entry(at(4, 23, 30), agents["ben"], resource="request/COR-2026-100001")
    with app.state.db.session(all_communes=True) as session:
        last = max(session.scalars(select(AuditEntry.seq)))
    await sign_in_staff(client, "alex.auditor", "auditor")
    page = await client.get("/audit/revue", params={"week": WEEK})
    assert page.status_code == 200
    assert f'<a href="/audit/entrees/{last}">{last}</a>' in page.text


async def test_a_commune_auditor_never_sees_another_communes_findings(client: GuichetClient, plant: Planter) -> None:
    givors = plant.agent("gil", "agent:givors:contact:instructor")
    plant.entry(at(4, 23, 30), givors, commune="givors", resource="request/GIV-2026-000001")
    await sign_in_staff(client, "claude.auditor", "auditor:corbas")
    assert await review(client) == []
    assert (await client.get("/audit/revue", params={"week": WEEK, "commune": "givors"})).status_code == 403


async def test_the_syndicate_auditor_sees_every_commune(client: GuichetClient, plant: Planter) -> None:
    givors = plant.agent("gil", "agent:givors:contact:instructor")
    plant.entry(at(4, 23, 30), givors, commune="givors", resource="request/GIV-2026-000001")
    await sign_in_staff(client, "alex.auditor", "auditor")
    assert [finding["commune"] for finding in await review(client)] == ["givors"]


async def test_marking_a_finding_reviewed_keeps_the_note_and_is_recorded(
    client: GuichetClient, plant: Planter, app: Starlette
) -> None:
    agents = normal_week(plant)
    plant.entry(at(4, 23, 30), agents["ben"], resource="request/COR-2026-100001")
    await sign_in_staff(client, "claude.auditor", "auditor:corbas")
    (finding,) = await review(client)
    answer = await client.submit(
        "/audit/revue/marquer",
        {"week": WEEK, "commune": "corbas", "finding": finding["finding"], "note": "Astreinte du soir, vérifiée"},
        page=f"/audit/revue?week={WEEK}",
    )
    assert answer.status_code == 303
    (marked,) = await review(client)
    assert marked["reviewed"] == "yes" and "Astreinte du soir, vérifiée" in marked["notes"]
    with app.state.db.session(all_communes=True) as session:
        actions = [entry.action for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    assert "audit.review-mark" in actions


async def test_the_review_page_shows_a_marked_findings_note_and_when(client: GuichetClient, plant: Planter) -> None:
    agents = normal_week(plant)
    plant.entry(at(4, 23, 30), agents["ben"], resource="request/COR-2026-100001")
    await sign_in_staff(client, "claude.auditor", "auditor:corbas")
    (finding,) = await review(client)
    await client.submit(
        "/audit/revue/marquer",
        {"week": WEEK, "commune": "corbas", "finding": finding["finding"], "note": "Astreinte du soir, vérifiée"},
        page=f"/audit/revue?week={WEEK}",
    )
    page = await client.get("/audit/revue", params={"week": WEEK})
    assert page.status_code == 200
    assert "Astreinte du soir, vérifiée" in page.text and "Pas encore revu" not in page.text


async def test_marking_an_unknown_finding_is_a_404(client: GuichetClient, plant: Planter) -> None:
    normal_week(plant)
    await sign_in_staff(client, "alex.auditor", "auditor")
    answer = await client.submit(
        "/audit/revue/marquer",
        {"week": WEEK, "commune": "corbas", "finding": "volume:x", "note": "vu"},
        page=f"/audit/revue?week={WEEK}",
    )
    assert answer.status_code == 404


async def test_marking_without_a_note_is_a_clear_400(client: GuichetClient, plant: Planter) -> None:
    agents = normal_week(plant)
    plant.entry(at(4, 23, 30), agents["ben"], resource="request/COR-2026-100001")
    await sign_in_staff(client, "alex.auditor", "auditor")
    (finding,) = await review(client)
    answer = await client.submit(
        "/audit/revue/marquer",
        {"week": WEEK, "commune": "corbas", "finding": finding["finding"], "note": "  "},
        page=f"/audit/revue?week={WEEK}",
    )
    assert answer.status_code == 400 and "note" in answer.text


async def test_a_commune_auditor_cannot_mark_another_communes_finding(client: GuichetClient, plant: Planter) -> None:
    await sign_in_staff(client, "claude.auditor", "auditor:corbas")
    answer = await client.submit(
        "/audit/revue/marquer",
        {"week": WEEK, "commune": "givors", "finding": "export:x", "note": "vu"},
        page=f"/audit/revue?week={WEEK}",
    )
    assert answer.status_code == 403


@pytest.mark.parametrize(
    ("params", "fault"),
    [
        ({"week": "2026-48"}, "2026-W48"),
        ({"week": "2026-W60"}, "2026-W60"),
        ({"week": "9999-W52"}, "9999-W52"),
        ({"colour": "red"}, "colour"),
        ({"commune": "atlantis"}, "atlantis"),
    ],
)
async def test_bad_review_parameters_are_a_clear_400(client: GuichetClient, params: dict[str, str], fault: str) -> None:
    await sign_in_staff(client, "alex.auditor", "auditor")
    answer = await client.get("/audit/revue", params=params)
    assert answer.status_code == 400 and fault in answer.text


async def test_an_agent_is_refused_the_review(client: GuichetClient) -> None:
    await sign_in_staff(client, "dom.agent", "agent:corbas:contact")
    assert (await client.get("/audit/revue")).status_code == 403


async def test_the_review_is_recorded_when_read(client: GuichetClient, app: Starlette) -> None:
    await sign_in_staff(client, "alex.auditor", "auditor")
    assert (await client.get("/audit/revue", params={"week": WEEK})).status_code == 200
    with app.state.db.session(all_communes=True) as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()  # type: ignore[attr-defined]
    assert (last.action, last.resource) == ("audit.review", f"audit-review/{WEEK}/*")


async def test_the_pdf_report_lists_the_findings(client: GuichetClient, plant: Planter) -> None:
    agents = normal_week(plant)
    plant.entry(at(4, 23, 30), agents["ben"], resource="request/COR-2026-100001")
    await sign_in_staff(client, "claude.auditor", "auditor:corbas")
    answer = await client.get("/audit/revue.pdf", params={"week": WEEK})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(answer.content)).pages)
    assert "Accès en dehors des heures de travail" in text and WEEK in text


def test_working_hours_that_end_before_they_start_stop_the_start(guichet_config: ConfigFolder) -> None:
    guichet_config.merge_commune(
        "corbas", audit_review={"working_hours": [{"days": ["mon"], "start": "18:00", "end": "08:00"}]}
    )
    with pytest.raises(ConfigError, match=r"audit_review\.working_hours"):
        load_settings(guichet_config.path, load_secret=False)


def test_an_unknown_weekday_stops_the_start(guichet_config: ConfigFolder) -> None:
    guichet_config.merge_commune(
        "corbas", audit_review={"working_hours": [{"days": ["lundi"], "start": "08:00", "end": "18:00"}]}
    )
    with pytest.raises(ConfigError, match="days"):
        load_settings(guichet_config.path, load_secret=False)


async def test_the_api_gives_the_review_as_json(client: GuichetClient, plant: Planter) -> None:
    agents = normal_week(plant)
    plant.entry(at(4, 23, 30), agents["ben"], resource="request/COR-2026-100001")
    await sign_in_staff(client, "alex.auditor", "auditor")
    answer = await client.get("/api/v1/audit/review", params={"week": WEEK})
    assert answer.status_code == 200
    assert [(finding["kind"], finding["actor"]) for finding in answer.json()["findings"]] == [
        ("off-hours", agents["ben"])
    ]


async def test_the_api_answers_a_bad_week_with_a_problem(client: GuichetClient) -> None:
    await sign_in_staff(client, "alex.auditor", "auditor")
    answer = await client.get("/api/v1/audit/review", params={"week": "soon"})
    assert answer.status_code == 400 and answer.headers["content-type"] == "application/problem+json"


async def test_the_review_reads_in_english(client: GuichetClient, plant: Planter) -> None:
    agents = normal_week(plant)
    plant.entry(at(4, 23, 30), agents["ben"], resource="request/COR-2026-100001")
    await sign_in_staff(client, "alex.auditor", "auditor")
    page = await client.get("/audit/revue", params={"week": WEEK}, headers={"accept-language": "en"})
    assert "Access outside working hours" in page.text and "on November 4, 2026" in page.text
    assert "heures de travail" not in page.text


async def test_an_auditors_home_links_to_the_review(client: GuichetClient) -> None:
    await sign_in_staff(client, "claude.auditor", "auditor:corbas")
    assert 'href="/audit/revue"' in (await client.get("/agents")).text


async def test_an_access_before_the_request_went_to_a_colleague_is_not_a_finding(
    client: GuichetClient, plant: Planter
) -> None:
    agents = normal_week(plant)
    plant.entry(at(4, 10), agents["cyd"], resource="request/COR-2026-000003")  # ana's request...
    plant.reassign("corbas", "COR-2026-000003", "ana", at(4, 11))  # ... only since later that morning
    await sign_in_staff(client, "alex.auditor", "auditor")
    assert "outside-assignment" not in await kinds(client)
