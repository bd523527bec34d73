"""The agents' side: the workflow, the queue summary, and the delivery lock on transitions."""

from __future__ import annotations

import pytest
from guichet_etat_civil import plugin

from gateway import RequestHandle, TransitionRefused
from gateway.testing import request_handle

PERSONAL = {
    "kind": "birth",
    "place": "here",
    "form": "extract-with-filiation",
    "person_surname": "Exemple-Démo",
    "person_given_names": "Camille",
    "event_date": "1990-04-02",
    "father_name": "Dominique Exemple-Démo",
    "mother_name": "Claude Fictif",
    "quality": "self",
    "requester_family_name": "Exemple-Démo",
    "requester_given_names": "Camille",
    "requester_email": "camille@example.org",
    "copies": "2",
    "delivery": "post",
    "address_street": "1 rue de l'Exemple",
    "address_postcode": "69700",
    "address_city": "Givors",
}
WORKFLOW = plugin.WORKFLOW


def handle(data: dict[str, str], status: str = "in_progress") -> RequestHandle:
    return request_handle("etat-civil", "givors", data, status=status, reference="EC-2026-000001")


def summary(data: dict[str, str]) -> str | None:
    request = handle(data, "submitted")
    plugin.guichet_request_submitted(request=request)
    return request.summary


def test_summary_names_kind_document_copies_and_delivery() -> None:
    assert summary(PERSONAL) == "Naissance · extrait avec filiation · 2 ex. · courrier"


def test_summary_of_a_death_record_is_a_full_copy() -> None:
    assert summary({**PERSONAL, "kind": "death", "form": "", "delivery": "counter"}) == (
        "Décès · copie intégrale · 2 ex. · retrait en mairie"
    )


def test_summary_holds_no_personal_data() -> None:
    line = summary(PERSONAL) or ""
    for field in ("person_surname", "person_given_names", "event_date", "father_name", "mother_name",
                  "requester_email", "address_street", "address_postcode", "address_city"):  # fmt: skip
        for word in PERSONAL[field].replace("-", " ").split():
            assert word not in line, field


def test_final_states_are_sent_collected_and_refused() -> None:
    assert [state.name for state in WORKFLOW.states if state.final] == ["sent", "collected", "refused"]


def test_a_request_by_post_can_only_be_sent() -> None:
    available = WORKFLOW.available("in_progress", {"delivery": "post"})
    assert [t.name for t in available] == ["send", "refuse"]


def test_a_counter_request_can_only_be_made_ready_then_collected() -> None:
    assert [t.name for t in WORKFLOW.available("in_progress", {"delivery": "counter"})] == ["ready", "refuse"]
    assert [t.name for t in WORKFLOW.available("ready", {"delivery": "counter"})] == ["collect"]


def test_refusal_needs_a_listed_reason_and_a_comment() -> None:
    refuse = WORKFLOW.transition("refuse")
    assert refuse is not None and refuse.comment_required
    assert [reason.value for reason in refuse.reasons] == [
        "not-found",
        "not-entitled",
        "incomplete",
        "outside",
        "other",
    ]
    assert refuse.source == ("submitted", "in_progress")


def test_every_decision_tells_the_citizen_in_both_languages() -> None:
    for transition in WORKFLOW.transitions:
        assert transition.notify is not None and transition.notify.en, transition.name


def test_ready_message_asks_for_an_identity_document() -> None:
    ready = WORKFLOW.transition("ready")
    assert ready is not None and ready.notify is not None
    assert "pièce d'identité" in ready.notify.fr and "horaires" in ready.notify.fr


def test_sending_by_post_a_counter_request_is_refused() -> None:
    send = WORKFLOW.transition("send")
    assert send is not None
    with pytest.raises(TransitionRefused):
        plugin.guichet_request_transition(request=handle({**PERSONAL, "delivery": "counter"}), transition=send)


def test_sending_by_post_a_post_request_goes_through() -> None:
    send = WORKFLOW.transition("send")
    assert send is not None
    assert plugin.guichet_request_transition(request=handle(PERSONAL), transition=send) is None
