"""Requests acted on by several people (or clicks) at once: one change wins, the others learn it, nothing doubles."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest

from gateway.requests.errors import StaleRequest
from gateway.testing import ConfigFolder
from tests.lifecycle_desk import GOOD_ANSWERS, Desk, enable

T = TypeVar("T")
ATTEMPTS = 10


@pytest.fixture
def desk(guichet_config: ConfigFolder, guichet_database_url: str) -> Iterator[Desk]:
    enable(guichet_config)
    opened = Desk(guichet_config, guichet_database_url)
    yield opened
    opened.close()


def all_at_once(count: int, action: Callable[[], T]) -> list[T | Exception]:
    """Run ``action`` in ``count`` threads released together; each result or the exception it raised."""
    barrier = threading.Barrier(count)

    def run(_: int) -> T | Exception:
        barrier.wait()
        try:
            return action()
        except Exception as error:  # the test looks at which ones failed, and how
            return error

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_two_agents_taking_a_transition_at_once_one_wins_the_other_is_told(desk: Desk) -> None:
    row = desk.submitted(desk.citizen())
    assert row.reference is not None
    agent = desk.staff("instructeur", "agent:venissieux:vignette")
    seen = desk.reload(row).version
    outcomes = all_at_once(
        2, lambda: desk.commands.transition(agent, "venissieux", row.reference or "", "triage", expected_version=seen)
    )
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["ServiceRequest", "StaleRequest"]
    assert [event.transition for event in desk.events(row) if event.kind == "transition"] == ["triage"]


def test_a_stale_agent_learns_it_even_when_the_step_is_gone(desk: Desk) -> None:
    row = desk.submitted(desk.citizen())
    agent = desk.staff("instructeur", "agent:venissieux:vignette")
    seen = desk.reload(row).version
    desk.commands.transition(agent, "venissieux", row.reference or "", "triage", expected_version=seen)
    with pytest.raises(StaleRequest):
        desk.commands.transition(agent, "venissieux", row.reference or "", "triage", expected_version=seen)


def test_one_draft_submitted_many_times_at_once_gets_one_reference(desk: Desk) -> None:
    owner = desk.citizen()
    row = desk.draft(owner, **GOOD_ANSWERS)
    outcomes = all_at_once(ATTEMPTS, lambda: desk.citizens.submit(owner, row.public_id))
    references = {outcome.request.reference for outcome in outcomes if not isinstance(outcome, Exception)}
    assert [outcome for outcome in outcomes if isinstance(outcome, Exception)] == []
    assert len(references) == 1 and None not in references
    assert len(desk.audit("request.submit")) == 1 and len(desk.outbox()) == 1


def test_one_form_sent_many_times_at_once_gets_one_reference(desk: Desk) -> None:
    owner = desk.citizen()
    row = desk.draft(owner)
    outcomes = all_at_once(ATTEMPTS, lambda: desk.citizens.submit(owner, row.public_id, GOOD_ANSWERS))
    assert [outcome for outcome in outcomes if isinstance(outcome, Exception)] == []
    assert len({outcome.request.reference for outcome in outcomes}) == 1  # type: ignore[union-attr]
    assert len(desk.audit("request.submit")) == 1


def test_one_draft_started_many_times_at_once_is_one_draft(desk: Desk) -> None:
    owner = desk.citizen()
    outcomes = all_at_once(
        ATTEMPTS, lambda: desk.citizens.start_draft(owner, "venissieux", "vignette", submission_key="same-click")
    )
    assert [outcome for outcome in outcomes if isinstance(outcome, Exception)] == []
    assert len({outcome.public_id for outcome in outcomes}) == 1  # type: ignore[union-attr]
    assert len(desk.citizens.mine(owner)) == 1
