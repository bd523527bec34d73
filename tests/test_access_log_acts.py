"""The rule that gathers the entries one act wrote into one line of a person's access log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gateway.web.access_log_acts import GAP, group, representative

START = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Entry:
    action: str
    resource: str = "request/MSG-2026-000001"
    actor_id: str = "staff:1"
    minutes: float = 0
    commune: str | None = "corbas"
    service: str | None = "contact"
    outcome: str = "success"

    @property
    def time(self) -> datetime:
        return START + timedelta(minutes=self.minutes)


def actions(acts: list[list[Entry]]) -> list[list[str]]:
    return [[entry.action for entry in act] for act in acts]


def test_a_draft_created_saved_and_submitted_is_one_act_named_by_the_submission() -> None:
    mine = "citizen:abc"
    entries = [Entry("request.create", "draft/p1", mine), Entry("request.update", "draft/p1", mine, 3),
               Entry("request.submit", "request/MSG-2026-000001", mine, 3)]  # fmt: skip
    acts = group(entries, {"p1": "MSG-2026-000001"})
    assert actions(acts) == [["request.create", "request.update", "request.submit"]]
    assert representative(acts[0]).action == "request.submit"


def test_a_listing_then_the_reading_of_the_request_is_one_visit() -> None:
    acts = group([Entry("request.list", "queue/corbas"), Entry("request.read", minutes=1)])
    assert actions(acts) == [["request.list", "request.read"]]
    assert representative(acts[0]).action == "request.read"


def test_a_step_taken_and_the_page_shown_again_belong_to_the_visit() -> None:
    entries = [Entry("request.read"), Entry("request.transition", minutes=2), Entry("request.read", minutes=2)]
    acts = group(entries)
    assert len(acts) == 1 and representative(acts[0]).action == "request.transition"


def test_a_second_reading_of_the_page_is_another_visit() -> None:
    entries = [Entry("request.list", "queue/corbas"), Entry("request.read"), Entry("request.read", minutes=5)]
    assert actions(group(entries)) == [["request.list", "request.read"], ["request.read"]]


def test_going_back_to_the_queue_starts_another_visit() -> None:
    entries = [Entry("request.list", "queue/corbas"), Entry("request.read"), Entry("request.list", "queue/corbas")]
    assert actions(group(entries)) == [["request.list", "request.read"], ["request.list"]]


def test_a_file_of_the_request_downloaded_belongs_to_the_visit() -> None:
    entries = [Entry("request.read"), Entry("request.read", "request/MSG-2026-000001/attachment/x1", minutes=1)]
    assert len(group(entries)) == 1


def test_entries_further_apart_than_the_gap_are_two_acts() -> None:
    later = GAP.total_seconds() / 60 + 1
    archive = "request/MSG-2026-000001/attachments.zip"
    assert len(group([Entry("request.read", archive), Entry("request.read", archive, minutes=later)])) == 2


def test_other_actors_requests_or_outcomes_are_other_acts() -> None:
    entries = [Entry("request.read"), Entry("request.read", actor_id="staff:2"),
               Entry("request.read", "request/MSG-2026-000002", actor_id="staff:2"),
               Entry("access.denied", actor_id="staff:2", outcome="denied")]  # fmt: skip
    assert len(group(entries)) == 4
