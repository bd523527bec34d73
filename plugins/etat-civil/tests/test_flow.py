"""A civil-status request from filing to decision, through the real service layer on a real database.

The citizen signs in through a verified identity, files with the prefilled
form; an agent of the commune opens the file and decides. Every step is the
core's (:class:`CitizenRequests`, the back office) with this plugin's
form, checks and workflow, in the demo configuration.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from guichet_etat_civil.plugin import SERVICE, WORKFLOW
from sqlmodel import col, select
from starlette.applications import Starlette

from gateway.audit.events import pseudonym
from gateway.identity import staff as accounts
from gateway.identity.principal import Principal
from gateway.models import AuditEntry, Citizen, OutboxMessage, ServiceRequest
from gateway.requests.backoffice.commands import BackOfficeCommands
from gateway.requests.backoffice.queries import BackOfficeQueries
from gateway.requests.caller import Caller
from gateway.requests.clock import aware
from gateway.requests.errors import ActionNotAllowed, InvalidInput, ServiceNotOffered
from gateway.requests.lifecycle import CitizenRequests
from gateway.requests.submission_keys import new_submission_key
from gateway.web.callers import identity_of

COMMUNE = "venissieux"  # demo: counter pickup offered, registers online since 1960
VENISSIEUX_INSEE = "69259"
INSTRUCTOR = f"agent:{COMMUNE}:etat-civil:instructor"
PASSWORD = "a long enough test password"  # test accounts only
BIRTHDATE = "1990-04-02"
EMAIL = "camille@example.org"

#: what the citizen types on top of the prefill: their own birth record, a full copy, by post
COMPLETION = {
    "form": "full-copy",
    "father_name": "Dominique Exemple-Démo",
    "mother_name": "Claude Fictif",
    "copies": "1",
    "delivery": "post",
    "address_street": "1 rue de l'Exemple",
    "address_postcode": "69200",
    "address_city": "Vénissieux",
}
#: what a verified identity born in Vénissieux puts in the form
PREFILLED = {
    "requester_family_name": "Exemple-Démo",
    "requester_given_names": "Camille Hélène",
    "requester_email": EMAIL,
    "person_surname": "Exemple-Démo",
    "person_given_names": "Camille Hélène",
    "event_date": BIRTHDATE,
    "quality": "self",
    "kind": "birth",
    "place": "here",
}
COUNTER = {"delivery": "counter", "address_street": "", "address_postcode": "", "address_city": ""}


# Who acts ------------------------------------------------------------------------------------------


def citizen(app: Starlette, *, locale: str = "fr", email: str = EMAIL) -> Caller:
    """A citizen signed in through a federated provider (a verified identity), born in Vénissieux."""
    with app.state.db.session() as session:
        row = Citizen(public_id=secrets.token_hex(16), issuer="https://franceconnect.test", sub=secrets.token_hex(8),
                      given_name="Camille Hélène", family_name="Exemple-Démo", email=email,
                      claims={"birthdate": BIRTHDATE, "birthplace": VENISSIEUX_INSEE, "birthcountry": "99100"},
                      created_at=datetime.now(UTC))  # fmt: skip
        session.add(row)
        session.flush()
        assert row.id is not None
        identity, citizen_id, public_id = identity_of(row), row.id, row.public_id
    assert identity.verified
    principal = Principal("citizen", secrets.token_hex(8), citizen_id, public_id, "Camille", datetime.now(UTC))
    return Caller(actor=principal.actor(), origin="test", locale=locale, citizen_id=citizen_id,
                  citizen_public_id=public_id, identity=identity)  # fmt: skip


def agent(app: Starlette, username: str = "alex.agent", grant: str = INSTRUCTOR) -> Caller:
    """A staff member of the commune with one grant, as the back office sees them once signed in."""
    grants = [accounts.parse_grant(grant)]
    with app.state.db.session() as session:
        row = accounts.create(session, username=username, display_name=username.title(),
                              email=f"{username}@guichet.example", password=PASSWORD, grants=grants)  # fmt: skip
        assert row.id is not None
        staff_id = row.id
    principal = Principal("staff", secrets.token_hex(8), staff_id, username, username.title(), datetime.now(UTC),
                          grants=tuple(grants))  # fmt: skip
    return Caller(actor=principal.actor("agent"), origin="test", principal=principal)


# Steps ---------------------------------------------------------------------------------------------


def citizens(app: Starlette) -> CitizenRequests:
    return CitizenRequests(app.state.db, app.state.registry)


def back_office(app: Starlette) -> BackOfficeCommands:
    return BackOfficeCommands(app.state.db, app.state.registry)


def back_office_reads(app: Starlette) -> BackOfficeQueries:
    return BackOfficeQueries(app.state.db, app.state.registry)


def draft(app: Starlette, caller: Caller, commune: str = COMMUNE) -> ServiceRequest:
    return citizens(app).start_draft(caller, commune, "etat-civil", submission_key=new_submission_key())


def submitted(app: Starlette, caller: Caller, **changes: str) -> ServiceRequest:
    """A request for the citizen's own birth record, the prefill completed with ``changes`` on top."""
    row = draft(app, caller)
    outcome = citizens(app).submit(caller, row.public_id, {**row.data, **COMPLETION, **changes})
    assert not outcome.errors, outcome.errors
    return outcome.request


def reference_of(row: ServiceRequest) -> str:
    assert row.reference is not None
    return row.reference


def decide(app: Starlette, staff: Caller, row: ServiceRequest, *names: str) -> ServiceRequest:
    for name in names:
        row = back_office(app).transition(staff, COMMUNE, reference_of(row), name, expected_version=None)
    return row


def reload(app: Starlette, row: ServiceRequest) -> ServiceRequest:
    with app.state.db.session(all_communes=True) as session:
        found: ServiceRequest = session.exec(
            select(ServiceRequest).where(ServiceRequest.public_id == row.public_id)
        ).one()
        session.expunge(found)
        return found


def messages(app: Starlette, row: ServiceRequest) -> list[OutboxMessage]:
    """The messages queued about ``row``, oldest first."""
    with app.state.db.session() as session:
        rows = session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.dedupe_key).startswith(f"request:{row.public_id}:"))
            .order_by(col(OutboxMessage.id))
        ).all()
        for found in rows:
            session.expunge(found)
        return list(rows)


def audit_entries(app: Starlette, action: str) -> list[AuditEntry]:
    with app.state.db.session() as session:
        rows = session.exec(select(AuditEntry).where(AuditEntry.action == action).order_by(col(AuditEntry.seq))).all()
        for found in rows:
            session.expunge(found)
        return list(rows)


def notice(transition: str, locale: str = "fr") -> str:
    found = WORKFLOW.transition(transition)
    assert found is not None and found.notify is not None
    return str(found.notify(locale))


# Filing --------------------------------------------------------------------------------------------


def test_a_verified_identity_prefills_a_request_for_ones_own_birth_record(guichet_app: Starlette) -> None:
    row = draft(guichet_app, citizen(guichet_app))
    assert row.status == "draft" and row.reference is None
    assert {key: row.data.get(key) for key in PREFILLED} == PREFILLED


def test_submitting_gives_the_first_reference_of_the_year(guichet_app: Starlette) -> None:
    row = submitted(guichet_app, citizen(guichet_app))
    assert row.reference == f"EC-{datetime.now(UTC).year}-000001"
    assert row.status == "submitted" and row.submitted_at is not None


def test_the_queue_summary_says_what_is_asked_without_personal_data(guichet_app: Starlette) -> None:
    row = submitted(guichet_app, citizen(guichet_app))
    assert row.summary == "Naissance · copie intégrale · 1 ex. · courrier"
    for word in ("Exemple", "Camille", "Hélène", "Dominique", "Claude", "1990", "69200", "Vénissieux"):
        assert word not in row.summary


def test_the_receipt_goes_to_the_citizens_email_with_the_reference(guichet_app: Starlette) -> None:
    row = submitted(guichet_app, citizen(guichet_app))
    [receipt] = messages(guichet_app, row)
    assert (receipt.kind, receipt.recipient, receipt.locale) == ("request-receipt", EMAIL, "fr")
    assert reference_of(row) in receipt.subject and reference_of(row) in receipt.body
    assert "Demande d'acte d'état civil" in receipt.body
    assert "Fictif" not in receipt.body and BIRTHDATE not in receipt.body


# Deciding a request by post ------------------------------------------------------------------------


def test_opening_the_file_is_audited_with_the_purpose_and_the_citizens_pseudonym(guichet_app: Starlette) -> None:
    owner = citizen(guichet_app)
    row = submitted(guichet_app, owner)
    staff = agent(guichet_app)
    case = back_office_reads(guichet_app).case(staff, COMMUNE, reference_of(row))
    assert case.can_act and [t.name for t in case.transitions] == ["start", "refuse"]
    [entry] = audit_entries(guichet_app, "request.read")
    assert owner.citizen_public_id is not None and staff.staff_id is not None
    assert entry.subject == pseudonym(guichet_app.state.registry.settings.secret_key, "citizen",
                                      owner.citizen_public_id)  # fmt: skip
    assert (entry.purpose, entry.actor_id, entry.commune, entry.service, entry.resource) == (
        SERVICE.purpose.fr,
        f"staff:{staff.staff_id}",
        COMMUNE,
        "etat-civil",
        f"request/{row.reference}",
    )


def test_taking_the_request_puts_it_in_progress_undecided(guichet_app: Starlette) -> None:
    row = decide(guichet_app, agent(guichet_app), submitted(guichet_app, citizen(guichet_app)), "start")
    assert row.status == "in_progress" and row.decided_at is None and row.purge_after is None


def test_sending_by_post_decides_the_request_and_starts_its_retention(guichet_app: Starlette) -> None:
    row = decide(guichet_app, agent(guichet_app), submitted(guichet_app, citizen(guichet_app)), "start", "send")
    stored = reload(guichet_app, row)
    decided_at = aware(stored.decided_at)
    assert stored.status == "sent" and decided_at is not None
    retention = guichet_app.state.registry.commune(COMMUNE).retention_days(SERVICE)
    assert retention == 365
    assert aware(stored.purge_after) == decided_at + timedelta(days=retention)


def test_the_citizen_is_told_of_each_step_in_french(guichet_app: Starlette) -> None:
    row = decide(guichet_app, agent(guichet_app), submitted(guichet_app, citizen(guichet_app)), "start", "send")
    receipt, started, sent = messages(guichet_app, row)
    assert receipt.kind == "request-receipt"
    for message, transition in ((started, "start"), (sent, "send")):
        assert (message.kind, message.recipient, message.locale) == ("request-transition", EMAIL, "fr")
        assert notice(transition) in message.body and reference_of(row) in message.subject


def test_a_citizen_who_filed_in_english_is_told_in_english(guichet_app: Starlette) -> None:
    owner = citizen(guichet_app, locale="en")
    row = decide(guichet_app, agent(guichet_app), submitted(guichet_app, owner), "start", "send")
    receipt, started, sent = messages(guichet_app, row)
    assert {message.locale for message in (receipt, started, sent)} == {"en"}
    assert "Your request has been recorded" in receipt.body
    assert notice("start", "en") in started.body and notice("send", "en") in sent.body
    assert "your request" in sent.subject and "Civil-status record request" in sent.body


# Collecting at the counter -------------------------------------------------------------------------


def test_a_counter_request_is_made_ready_then_collected(guichet_app: Starlette) -> None:
    row = submitted(guichet_app, citizen(guichet_app), **COUNTER)
    assert row.summary == "Naissance · copie intégrale · 1 ex. · retrait en mairie"
    staff = agent(guichet_app)
    ready = decide(guichet_app, staff, row, "start", "ready")
    assert ready.status == "ready" and ready.decided_at is None
    collected = decide(guichet_app, staff, ready, "collect")
    assert collected.status == "collected" and collected.decided_at is not None
    *_, made_ready, done = messages(guichet_app, row)
    assert notice("ready") in made_ready.body and notice("collect") in done.body


def test_a_counter_request_cannot_be_sent_by_post(guichet_app: Starlette) -> None:
    staff = agent(guichet_app)
    row = decide(guichet_app, staff, submitted(guichet_app, citizen(guichet_app), **COUNTER), "start")
    with pytest.raises(ActionNotAllowed):
        decide(guichet_app, staff, row, "send")
    assert reload(guichet_app, row).status == "in_progress"


def test_a_request_by_post_cannot_be_made_ready_at_the_counter(guichet_app: Starlette) -> None:
    staff = agent(guichet_app)
    row = decide(guichet_app, staff, submitted(guichet_app, citizen(guichet_app)), "start")
    with pytest.raises(ActionNotAllowed):
        decide(guichet_app, staff, row, "ready")
    assert reload(guichet_app, row).status == "in_progress"


# Refusing ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "comment"),
    [("", "L'acte n'existe pas."), ("made-up", "L'acte n'existe pas."), ("not-found", ""), ("not-found", "  ")],
    ids=["no reason", "reason not listed", "no comment", "blank comment"],
)
def test_a_refusal_needs_a_listed_reason_and_a_comment(guichet_app: Starlette, reason: str, comment: str) -> None:
    row = submitted(guichet_app, citizen(guichet_app))
    with pytest.raises(InvalidInput):
        back_office(guichet_app).transition(agent(guichet_app), COMMUNE, reference_of(row), "refuse",
                                            expected_version=row.version, reason=reason, comment=comment)  # fmt: skip
    stored = reload(guichet_app, row)
    assert (stored.status, stored.version, stored.decided_at) == ("submitted", row.version, None)
    assert len(messages(guichet_app, row)) == 1  # the receipt only


def test_a_refusal_with_reason_and_comment_tells_the_citizen_why(guichet_app: Starlette) -> None:
    row = submitted(guichet_app, citizen(guichet_app))
    comment = "Aucun acte à ce nom à cette date dans nos registres : vérifiez la date de naissance."
    refused = back_office(guichet_app).transition(agent(guichet_app), COMMUNE, reference_of(row), "refuse",
                                                  expected_version=row.version, reason="not-found",
                                                  comment=comment)  # fmt: skip
    assert refused.status == "refused" and refused.decided_at is not None
    *_, message = messages(guichet_app, row)
    assert notice("refuse") in message.body and comment in message.body


# Refused before submission -------------------------------------------------------------------------


def test_a_full_copy_the_requester_may_not_obtain_is_refused_with_the_reason(guichet_app: Starlette) -> None:
    owner = citizen(guichet_app)
    row = draft(guichet_app, owner)
    answers = {**row.data, **COMPLETION, "quality": "other", "person_surname": "Voisin",
               "person_given_names": "Alix", "event_date": "2001-06-15"}  # fmt: skip
    outcome = citizens(guichet_app).submit(owner, row.public_id, answers)
    assert [error.field for error in outcome.errors] == ["form"]
    reason = outcome.errors[0].message.fr
    assert reason.startswith("Copie intégrale d'acte de naissance : ce document n'est délivré qu'à"), reason
    assert "extrait sans filiation" in reason
    kept = reload(guichet_app, row)
    assert (kept.status, kept.reference) == ("draft", None)
    assert (kept.data["quality"], kept.data["person_surname"]) == ("other", "Voisin")
    assert messages(guichet_app, row) == []


def test_an_event_abroad_is_refused_with_a_pointer_to_the_service_central(guichet_app: Starlette) -> None:
    owner = citizen(guichet_app)
    row = draft(guichet_app, owner)
    outcome = citizens(guichet_app).submit(owner, row.public_id, {**row.data, **COMPLETION, "place": "abroad"})
    [error] = outcome.errors
    assert error.field == "place"
    assert "Service central d'état civil" in error.message.fr and "service-public.fr" in error.message.fr
    kept = reload(guichet_app, row)
    assert (kept.status, kept.reference, kept.data["place"]) == ("draft", None, "abroad")


# Withdrawal ----------------------------------------------------------------------------------------


def test_the_citizen_withdraws_an_undecided_request(guichet_app: Starlette) -> None:
    owner = citizen(guichet_app)
    row = decide(guichet_app, agent(guichet_app), submitted(guichet_app, owner), "start")
    withdrawn = citizens(guichet_app).withdraw(owner, row.public_id)
    assert withdrawn.status == "withdrawn" and withdrawn.decided_at is not None


def test_a_withdrawn_request_cannot_be_decided_by_an_agent(guichet_app: Starlette) -> None:
    owner = citizen(guichet_app)
    staff = agent(guichet_app)
    row = decide(guichet_app, staff, submitted(guichet_app, owner), "start")
    citizens(guichet_app).withdraw(owner, row.public_id)
    with pytest.raises(ActionNotAllowed):
        decide(guichet_app, staff, row, "send")
    assert reload(guichet_app, row).status == "withdrawn"


def test_a_decided_request_cannot_be_withdrawn(guichet_app: Starlette) -> None:
    owner = citizen(guichet_app)
    row = decide(guichet_app, agent(guichet_app), submitted(guichet_app, owner), "start", "send")
    with pytest.raises(ActionNotAllowed):
        citizens(guichet_app).withdraw(owner, row.public_id)
    assert reload(guichet_app, row).status == "sent"


# Where the service is offered ----------------------------------------------------------------------


def test_a_commune_that_does_not_offer_the_service_starts_no_draft(guichet_app: Starlette) -> None:
    owner = citizen(guichet_app)
    assert "etat-civil" not in guichet_app.state.registry.commune("rive-de-gier").services
    with pytest.raises(ServiceNotOffered) as refused:
        draft(guichet_app, owner, commune="rive-de-gier")
    assert refused.value.status == 404
    assert citizens(guichet_app).mine(owner) == []


def test_each_request_takes_the_next_number(guichet_app: Starlette) -> None:
    first = submitted(guichet_app, citizen(guichet_app))
    second = submitted(guichet_app, citizen(guichet_app, email="dominique@example.org"))
    assert re.fullmatch(r"EC-\d{4}-000001", reference_of(first))
    assert reference_of(second) == reference_of(first)[:-1] + "2"
