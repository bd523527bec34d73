"""A plugin's service definition is checked when it is built: a mistake stops it, with a message naming it."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.services import (
    DEFAULT_WORKFLOW,
    MEGABYTE,
    Choice,
    DocumentSpec,
    Localized,
    ServiceDefinition,
    State,
    Transition,
    Workflow,
)
from tests.plugins.lifecycle_service import WORKFLOW

LABEL = Localized("Libellé", "Label")
OPEN = State("submitted", LABEL)
DONE = State("done", LABEL, final=True)


def transition(name: str, source: tuple[str, ...], target: str, **options: Any) -> Transition:
    return Transition(name, LABEL, source, target, **options)


def service(**options: Any) -> ServiceDefinition:
    values: dict[str, Any] = {
        "key": "essai",
        "title": LABEL,
        "description": LABEL,
        "reference_prefix": "ESS",
        "purpose": LABEL,
    }
    return ServiceDefinition(**{**values, **options})


def test_a_state_declared_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        Workflow(states=(OPEN, OPEN, DONE), transitions=())


def test_a_transition_declared_twice_is_refused() -> None:
    close = transition("close", ("submitted",), "done")
    with pytest.raises(ValueError, match="declared twice"):
        Workflow(states=(OPEN, DONE), transitions=(close, close))


def test_a_transition_to_an_unknown_state_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown state 'archived'"):
        Workflow(states=(OPEN, DONE), transitions=(transition("archive", ("submitted",), "archived"),))


def test_a_transition_from_an_unknown_state_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown state 'pending'"):
        Workflow(states=(OPEN, DONE), transitions=(transition("close", ("pending",), "done"),))


def test_a_transition_out_of_a_final_state_is_refused() -> None:
    with pytest.raises(ValueError, match="leaves a final state"):
        Workflow(states=(OPEN, DONE), transitions=(transition("reopen", ("done",), "submitted"),))


@pytest.mark.parametrize("name", ["draft", "withdrawn"])
def test_the_cores_state_names_are_reserved(name: str) -> None:
    with pytest.raises(ValueError, match="belong to the core"):
        Workflow(states=(OPEN, State(name, LABEL), DONE), transitions=())


def test_an_undeclared_initial_state_is_refused() -> None:
    with pytest.raises(ValueError, match="initial state"):
        Workflow(states=(State("new", LABEL), DONE), transitions=())


def test_a_document_of_an_unknown_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown types"):
        DocumentSpec("scan", LABEL, accept=("application/pdf", "text/html"))


def test_a_document_accepting_no_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown types"):
        DocumentSpec("scan", LABEL, accept=())


@pytest.mark.parametrize("size", [0, -1, 20 * MEGABYTE + 1])
def test_a_document_size_limit_out_of_bounds_is_refused(size: int) -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        DocumentSpec("scan", LABEL, max_bytes=size)


def test_a_service_taking_documents_must_require_signing_in() -> None:
    with pytest.raises(ValueError, match="must require signing in"):
        service(requires_sign_in=False, documents=(DocumentSpec("scan", LABEL),))


def test_a_service_declaring_a_document_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="document twice"):
        service(documents=(DocumentSpec("scan", LABEL), DocumentSpec("scan", LABEL)))


@pytest.mark.parametrize("options", [{"retention_days": 0}, {"draft_days": 0}])
def test_retention_periods_must_last_a_day(options: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="at least one day"):
        service(**options)


def test_transitions_offered_depend_on_the_state_and_the_answers() -> None:
    names = [t.name for t in WORKFLOW.available("review", {"delivery": "post"})]
    assert names == ["mail", "refuse"]


def test_withdrawn_is_a_decision_and_draft_is_not() -> None:
    assert (DEFAULT_WORKFLOW.is_decided("withdrawn"), DEFAULT_WORKFLOW.is_decided("draft")) == (True, False)


def test_a_final_state_is_a_decision() -> None:
    assert (DEFAULT_WORKFLOW.is_decided("refused"), DEFAULT_WORKFLOW.is_decided("in_progress")) == (True, False)


def test_a_workflow_without_a_final_state_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one final state"):
        Workflow(
            states=(State("submitted", Localized("Déposée")), State("open", Localized("Ouverte"))),
            transitions=(Transition("open", Localized("Ouvrir"), ("submitted",), "open"),),
        )


def test_a_transition_from_nowhere_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one source state"):
        Workflow(
            states=(State("submitted", Localized("Déposée")), State("done", Localized("Faite"), final=True)),
            transitions=(Transition("close", Localized("Clore"), (), "done"),),
        )


def test_a_service_may_not_name_a_document_like_the_cores_extra_documents() -> None:
    with pytest.raises(ValueError, match="belongs to the core"):
        ServiceDefinition(
            key="essai",
            title=Localized("Essai"),
            description=Localized("Essai"),
            reference_prefix="ESS",
            purpose=Localized("Tester."),
            documents=(DocumentSpec("extra", Localized("Autre")),),
        )


def test_a_transition_asking_a_choice_asks_no_reason() -> None:
    with pytest.raises(ValueError, match="cannot also ask a reason"):
        Transition("assign", Localized("Attribuer"), ("submitted",), "submitted", choice=Localized("École"),
                   reasons=(Choice("a", Localized("A")),))  # fmt: skip
