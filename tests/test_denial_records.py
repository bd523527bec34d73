"""Every denial attributed: the real role, the resource down to the reference, the action tried, each commune told.

Through the service layer (the back office and the citizen's own requests),
and through HTTP for the commune a URL names, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import col, select
from starlette.applications import Starlette

from gateway.models import AuditEntry, ServiceRequest
from gateway.requests.caller import Caller
from gateway.requests.errors import ActionForbidden, RequestNotFound
from gateway.testing import ConfigFolder, GuichetClient, sign_in_citizen, sign_in_staff
from tests.lifecycle_desk import Desk, enable


@pytest.fixture
def desk(guichet_config: ConfigFolder, guichet_database_url: str) -> Iterator[Desk]:
    enable(guichet_config)
    opened = Desk(guichet_config, guichet_database_url)
    yield opened
    opened.close()


def ref(row: ServiceRequest) -> str:
    assert row.reference is not None
    return row.reference


def denials(desk: Desk) -> list[AuditEntry]:
    return desk.audit("access.denied")


def test_an_auditors_refusal_is_recorded_as_an_auditors(desk: Desk) -> None:
    row = desk.submitted(desk.citizen())
    auditor = desk.staff("auditrice", "auditor")
    with pytest.raises(ActionForbidden):
        desk.queries.case(auditor, "venissieux", ref(row))
    [entry] = denials(desk)
    assert (entry.actor_role, entry.commune, entry.resource) == ("auditor", "venissieux", f"request/{ref(row)}")


def test_a_supervisors_refusal_names_the_role_the_reference_and_the_action(desk: Desk) -> None:
    row = desk.submitted(desk.citizen())
    supervisor = desk.staff("responsable", "supervisor:corbas")
    with pytest.raises(RequestNotFound):
        desk.commands.note(supervisor, "venissieux", ref(row), "Une note.")
    entries = denials(desk)
    assert {entry.actor_role for entry in entries} == {"supervisor"}
    assert {entry.resource for entry in entries} == {f"request/{ref(row)}"}
    assert all("request.update" in entry.purpose for entry in entries)


def test_a_read_only_refusal_names_the_transition_tried(desk: Desk) -> None:
    row = desk.submitted(desk.citizen())
    reader = desk.staff("lecteur", "agent:venissieux:vignette:reader")
    with pytest.raises(ActionForbidden):
        desk.commands.note(reader, "venissieux", ref(row), "Une note.")
    [entry] = denials(desk)
    assert (entry.actor_role, entry.resource) == ("agent", f"request/{ref(row)}")
    assert "request.update" in entry.purpose


def test_a_cross_commune_refusal_is_filed_under_both_communes(desk: Desk) -> None:
    row = desk.submitted(desk.citizen())
    corbas = desk.staff("corbas", "agent:corbas")
    with pytest.raises(RequestNotFound):
        desk.queries.case(corbas, "venissieux", ref(row))
    entries = denials(desk)
    assert sorted(entry.commune or "" for entry in entries) == ["corbas", "venissieux"]
    assert {(entry.actor_id, entry.actor_role, entry.outcome) for entry in entries} == {
        (corbas.actor.id, "agent", "denied")
    }
    # the targeted citizen hears of it once, through the target commune's entry
    assert [entry.commune for entry in entries if entry.subject == row.subject] == ["venissieux"]


def test_another_communes_reference_answers_like_an_unknown_one(desk: Desk) -> None:
    row = desk.submitted(desk.citizen())
    corbas = desk.staff("corbas", "agent:corbas")
    with pytest.raises(RequestNotFound):
        desk.queries.case(corbas, "venissieux", ref(row))
    with pytest.raises(RequestNotFound):
        desk.queries.case(corbas, "venissieux", "VIG-2099-999999")
    with pytest.raises(RequestNotFound):
        desk.commands.transition(corbas, "venissieux", ref(row), "triage", expected_version=None)
    with pytest.raises(RequestNotFound):
        desk.queries.archive(corbas, "venissieux", ref(row))


def test_a_queue_refusal_across_communes_is_filed_under_both(desk: Desk) -> None:
    from gateway.requests.backoffice.queries import QueueFilter

    corbas = desk.staff("corbas", "agent:corbas")
    with pytest.raises(ActionForbidden):
        desk.queries.queue(corbas, "venissieux", QueueFilter())
    assert sorted(entry.commune or "" for entry in denials(desk)) == ["corbas", "venissieux"]
    assert {entry.resource for entry in denials(desk)} == {"queue/venissieux"}


def _other_citizens_try(desk: Desk) -> tuple[ServiceRequest, Caller]:
    owner, stranger = desk.citizen(), desk.citizen(given_name="Dominique")
    row = desk.submitted(owner)
    with pytest.raises(RequestNotFound):
        desk.citizens.case(stranger, row.public_id)
    return row, stranger


def test_a_citizen_opening_another_citizens_request_is_recorded(desk: Desk) -> None:
    row, stranger = _other_citizens_try(desk)
    [entry] = denials(desk)
    assert (entry.actor_id, entry.actor_role, entry.outcome) == (stranger.actor.id, "citizen", "denied")
    assert (entry.commune, entry.resource, entry.subject) == ("venissieux", f"request/{ref(row)}", row.subject)
    assert "request.read" in entry.purpose


def test_a_citizen_changing_another_citizens_request_is_recorded_with_the_change(desk: Desk) -> None:
    owner, stranger = desk.citizen(), desk.citizen(given_name="Dominique")
    row = desk.submitted(owner)
    with pytest.raises(RequestNotFound):
        desk.citizens.withdraw(stranger, row.public_id)
    [entry] = denials(desk)
    assert "request.withdraw" in entry.purpose


def test_an_unknown_id_records_nothing(desk: Desk) -> None:
    with pytest.raises(RequestNotFound):
        desk.citizens.case(desk.citizen(), "no-such-request")
    assert denials(desk) == []


# --- through HTTP: the commune a URL names is only recorded when it exists ------------------------------------


def _http_denials(app: Starlette) -> list[AuditEntry]:
    with app.state.db.session(all_communes=True) as session:
        query = select(AuditEntry).where(AuditEntry.action == "access.denied").order_by(col(AuditEntry.seq))
        return list(session.exec(query).all())


async def test_a_citizen_on_an_unknown_long_commune_slug_is_refused_and_recorded_without_it(
    guichet_app: Starlette, guichet_client: GuichetClient
) -> None:
    slug = "x" * 61 + "-" + "y" * 300
    sign_in_citizen(guichet_client)
    answer = await guichet_client.get(f"/agents/{slug}/demandes")
    assert answer.status_code == 403
    [entry] = _http_denials(guichet_app)
    assert (entry.actor_role, entry.commune, entry.service) == ("citizen", None, None)
    assert entry.resource.startswith("GET /agents/xxx") and len(entry.resource) <= 200


async def test_a_citizen_on_an_existing_communes_agent_page_is_recorded_under_that_commune(
    guichet_app: Starlette, guichet_client: GuichetClient
) -> None:
    sign_in_citizen(guichet_client)
    answer = await guichet_client.get("/agents/corbas/demandes")
    assert answer.status_code == 403
    [entry] = _http_denials(guichet_app)
    assert (entry.actor_role, entry.commune) == ("citizen", "corbas")


async def test_an_auditor_asking_for_an_unknown_commune_is_recorded_under_their_own_only(
    guichet_app: Starlette, guichet_client: GuichetClient
) -> None:
    await sign_in_staff(guichet_client, "claude.auditor", "auditor:corbas")
    answer = await guichet_client.get("/audit", params={"commune": "nulle-part"})
    assert answer.status_code == 403
    assert [(entry.actor_role, entry.commune) for entry in _http_denials(guichet_app)] == [("auditor", "corbas")]
