"""A civil-status request from filing to decision, through the real service layer on a real database.

The citizen signs in through a verified identity, files with the prefilled
form; an agent of the commune opens the file and decides. Every step is the
core's, taken through the test kit (:mod:`gateway.testing`) as a page or the API
takes it, with this plugin's form, checks and workflow, in the demo configuration.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from guichet_etat_civil.plugin import SERVICE, WORKFLOW
from starlette.applications import Starlette

from gateway.testing import (
    ActionNotAllowed,
    FiledRequest,
    InvalidInput,
    QueuedMessage,
    ServiceNotOffered,
    TestAgent,
    TestCitizen,
    audit_records,
    citizens_requests,
    commune_of,
    open_file,
    queued_messages,
    staff_member,
    start_draft,
    stored_request,
    submit_request,
    take_transition,
    verified_citizen,
    withdraw_request,
)

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


def citizen(app: Starlette, *, locale: str = "fr", email: str = EMAIL) -> TestCitizen:
    """A citizen signed in through a federated provider (a verified identity), born in Vénissieux."""
    claims = {"birthdate": BIRTHDATE, "birthplace": VENISSIEUX_INSEE, "birthcountry": "99100"}
    return verified_citizen(app, given_name="Camille Hélène", family_name="Exemple-Démo", email=email, claims=claims,
                            locale=locale)  # fmt: skip


def agent(app: Starlette, username: str = "alex.agent", grant: str = INSTRUCTOR) -> TestAgent:
    """A staff member of the commune with one grant, as the back office sees them once signed in."""
    return staff_member(app, username, grant)


# Steps ---------------------------------------------------------------------------------------------


def draft(app: Starlette, caller: TestCitizen, commune: str = COMMUNE) -> FiledRequest:
    return start_draft(app, caller, commune, "etat-civil")


def submitted(app: Starlette, caller: TestCitizen, **changes: str) -> FiledRequest:
    """A request for the citizen's own birth record, the prefill completed with ``changes`` on top."""
    row = draft(app, caller)
    outcome = submit_request(app, caller, row.public_id, {**row.data, **COMPLETION, **changes})
    assert not outcome.errors, outcome.errors
    return outcome.request


def reference_of(row: FiledRequest) -> str:
    assert row.reference is not None
    return row.reference


def decide(app: Starlette, staff: TestAgent, row: FiledRequest, *names: str) -> FiledRequest:
    for name in names:
        row = take_transition(app, staff, COMMUNE, reference_of(row), name)
    return row


def reload(app: Starlette, row: FiledRequest) -> FiledRequest:
    return stored_request(app, row.public_id)


def messages(app: Starlette, row: FiledRequest) -> list[QueuedMessage]:
    """The messages queued about ``row``, oldest first."""
    return queued_messages(app, public_id=row.public_id)


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
    case = open_file(guichet_app, staff, COMMUNE, reference_of(row))
    assert case.can_act and list(case.transitions) == ["start", "refuse"]
    [entry] = audit_records(guichet_app, "request.read")
    assert entry.subject == owner.pseudonym
    assert (entry.purpose, entry.actor_id, entry.commune, entry.service, entry.resource) == (
        SERVICE.purpose.fr,
        staff.actor_id,
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
    decided_at = stored.decided_at
    assert stored.status == "sent" and decided_at is not None
    retention = commune_of(guichet_app, COMMUNE).retention_days(SERVICE)
    assert retention == 730  # Vénissieux's own [retention.services.etat-civil], not its 365 for all services
    assert stored.purge_after == decided_at + timedelta(days=retention)


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
        take_transition(guichet_app, agent(guichet_app), COMMUNE, reference_of(row), "refuse",
                        expected_version=row.version, reason=reason, comment=comment)  # fmt: skip
    stored = reload(guichet_app, row)
    assert (stored.status, stored.version, stored.decided_at) == ("submitted", row.version, None)
    assert len(messages(guichet_app, row)) == 1  # the receipt only


def test_a_refusal_with_reason_and_comment_tells_the_citizen_why(guichet_app: Starlette) -> None:
    row = submitted(guichet_app, citizen(guichet_app))
    comment = "Aucun acte à ce nom à cette date dans nos registres : vérifiez la date de naissance."
    refused = take_transition(guichet_app, agent(guichet_app), COMMUNE, reference_of(row), "refuse",
                              expected_version=row.version, reason="not-found", comment=comment)  # fmt: skip
    assert refused.status == "refused" and refused.decided_at is not None
    *_, message = messages(guichet_app, row)
    assert notice("refuse") in message.body and comment in message.body


# Refused before submission -------------------------------------------------------------------------


def test_a_full_copy_the_requester_may_not_obtain_is_refused_with_the_reason(guichet_app: Starlette) -> None:
    owner = citizen(guichet_app)
    row = draft(guichet_app, owner)
    answers = {**row.data, **COMPLETION, "quality": "other", "person_surname": "Voisin",
               "person_given_names": "Alix", "event_date": "2001-06-15"}  # fmt: skip
    outcome = submit_request(guichet_app, owner, row.public_id, answers)
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
    outcome = submit_request(guichet_app, owner, row.public_id, {**row.data, **COMPLETION, "place": "abroad"})
    [error] = outcome.errors
    assert error.field == "place"
    assert "Service central d'état civil" in error.message.fr and "service-public.fr" in error.message.fr
    kept = reload(guichet_app, row)
    assert (kept.status, kept.reference, kept.data["place"]) == ("draft", None, "abroad")


# Withdrawal ----------------------------------------------------------------------------------------


def test_the_citizen_withdraws_an_undecided_request(guichet_app: Starlette) -> None:
    owner = citizen(guichet_app)
    row = decide(guichet_app, agent(guichet_app), submitted(guichet_app, owner), "start")
    withdrawn = withdraw_request(guichet_app, owner, row.public_id)
    assert withdrawn.status == "withdrawn" and withdrawn.decided_at is not None


def test_a_withdrawn_request_cannot_be_decided_by_an_agent(guichet_app: Starlette) -> None:
    owner = citizen(guichet_app)
    staff = agent(guichet_app)
    row = decide(guichet_app, staff, submitted(guichet_app, owner), "start")
    withdraw_request(guichet_app, owner, row.public_id)
    with pytest.raises(ActionNotAllowed):
        decide(guichet_app, staff, row, "send")
    assert reload(guichet_app, row).status == "withdrawn"


def test_a_decided_request_cannot_be_withdrawn(guichet_app: Starlette) -> None:
    owner = citizen(guichet_app)
    row = decide(guichet_app, agent(guichet_app), submitted(guichet_app, owner), "start", "send")
    with pytest.raises(ActionNotAllowed):
        withdraw_request(guichet_app, owner, row.public_id)
    assert reload(guichet_app, row).status == "sent"


# Where the service is offered ----------------------------------------------------------------------


def test_a_commune_that_does_not_offer_the_service_starts_no_draft(guichet_app: Starlette) -> None:
    owner = citizen(guichet_app)
    assert "etat-civil" not in commune_of(guichet_app, "rive-de-gier").services
    with pytest.raises(ServiceNotOffered) as refused:
        draft(guichet_app, owner, commune="rive-de-gier")
    assert refused.value.status == 404
    assert citizens_requests(guichet_app, owner) == []


def test_each_request_takes_the_next_number(guichet_app: Starlette) -> None:
    first = submitted(guichet_app, citizen(guichet_app))
    second = submitted(guichet_app, citizen(guichet_app, email="dominique@example.org"))
    assert re.fullmatch(r"EC-\d{4}-000001", reference_of(first))
    assert reference_of(second) == reference_of(first)[:-1] + "2"
