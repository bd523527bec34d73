"""The demo's past weeks and planted anomalies: `guichet demo seed --requests` leaves them as real, sealed entries.

One demo seed (the one ``make run`` does) is shared by the module: each test reads
the decoded audit entries it left, as a review of the log would.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlmodel import col, select

from gateway.app import create_app
from gateway.audit.events import decode
from gateway.audit.review.findings import KINDS
from gateway.cli import main
from gateway.db import Database
from gateway.demo.anomalies import ANOMALIES, BURST_DENIALS, COMMUNE, EXTRA_AGENTS, VOLUME_READS, kinds
from gateway.demo.timeline import PARIS, in_working_hours
from gateway.models import AuditEntry, ServiceRequest, StaffUser
from gateway.testing import ConfigFolder, GuichetClient, sign_in_auditor
from gateway.testing.databases import migrate

REQUESTS = 60


@dataclass(frozen=True)
class Seeded:
    config: ConfigFolder
    db: Database
    output: str
    #: when the seed ran
    ran_at: datetime
    #: every entry, decoded, in sequence order (time made a datetime)
    entries: list[dict[str, Any]]
    staff: dict[str, str]  # username -> actor id

    def by(self, username: str, **fields: str) -> list[dict[str, Any]]:
        actor = self.staff[username.format(commune=COMMUNE)]
        return [e for e in self.entries if e["actor_id"] == actor and all(e[k] == v for k, v in fields.items())]


def run(config: ConfigFolder, *args: str) -> Result:
    result = CliRunner().invoke(main, ["--config", str(config.path), *args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    root: Path = tmp_path_factory.mktemp("demo-anomalies")
    url = f"sqlite:///{root / 'guichet.db'}"
    migrate(url)
    config = ConfigFolder.demo(root)
    config.set_gateway(database={"url": url})
    ran_at = datetime.now(UTC)
    run(config, "demo", "seed")
    output = run(config, "demo", "seed", "--requests", str(REQUESTS), "--seed", "1").output
    db = Database(url)
    with db.session(all_communes=True) as session:
        rows = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))).all()
        entries = [{**decode(row.encoded), "at": _aware(row.time)} for row in rows]
        staff = {user.username: f"staff:{user.id}" for user in session.exec(select(StaffUser)).all()}
    yield Seeded(config, db, output, ran_at, entries, staff)
    db.dispose()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _reads(entries: list[dict[str, Any]], outcome: str = "success") -> list[dict[str, Any]]:
    return [entry for entry in entries if entry["action"] == "request.read" and entry["outcome"] == outcome]


def test_the_seeded_log_still_verifies(seeded: Seeded) -> None:
    result = run(seeded.config, "audit", "verify")
    assert "audit log verified" in result.output


def test_every_kind_of_anomaly_is_planted_and_said_so(seeded: Seeded) -> None:
    assert f"planted anomalies in {COMMUNE}:" in seeded.output
    assert set(kinds()) <= {kind.strip() for kind in seeded.output.split(f"planted anomalies in {COMMUNE}:")[1]
                            .splitlines()[0].split(",")}  # fmt: skip


def test_requests_are_filed_over_the_past_six_weeks_not_all_today(seeded: Seeded) -> None:
    with seeded.db.session(all_communes=True) as session:
        filed = [_aware(at) for at in session.exec(select(ServiceRequest.submitted_at)) if at is not None]
    days = {(seeded.ran_at - at).days for at in filed}
    assert max(days) >= 35 and len(days) > 15
    assert all(at <= seeded.ran_at + timedelta(minutes=5) for at in filed)


def test_the_activity_is_logged_in_time_order(seeded: Seeded) -> None:
    first_backdated = next(i for i, entry in enumerate(seeded.entries) if entry["at"] < seeded.ran_at)
    times = [entry["at"] for entry in seeded.entries[first_backdated:]]
    assert times == sorted(times)


def test_agents_work_in_office_hours_except_the_planted_sunday_night(seeded: Seeded) -> None:
    agents = [e for e in _reads(seeded.entries) if e["actor_role"] == "agent" and e["at"] < seeded.ran_at]
    late = [e for e in agents if not in_working_hours(e["at"])]
    assert {e["actor_id"] for e in late} == {seeded.staff[f"demo.instructrice.{COMMUNE}"]}
    assert sorted(e["at"].astimezone(PARIS).strftime("%a %H:%M") for e in late) == ["Sun 23:40", "Sun 23:44"]


def test_an_agent_reads_requests_another_took_in_hand_the_day_before(seeded: Seeded) -> None:
    taken = {e["resource"]: e["at"] for e in seeded.by("demo.instructeur.{commune}", action="request.update")}
    read = [
        e
        for e in seeded.by("demo.instructrice.{commune}", action="request.read")
        if e["resource"] in taken and timedelta(hours=12) < e["at"] - taken[e["resource"]] < timedelta(days=4)
    ]
    assert len({e["resource"] for e in read}) >= 3


def test_an_agent_of_one_service_is_refused_the_others(seeded: Seeded) -> None:
    refused = seeded.by("demo.un-service.{commune}", outcome="denied")
    assert len(refused) == 3
    assert all(entry["commune"] == COMMUNE for entry in refused)


def test_one_agent_reads_an_unusual_number_of_requests_in_a_day(seeded: Seeded) -> None:
    per_day = Counter(
        (e["actor_id"], e["at"].astimezone(PARIS).date()) for e in _reads(seeded.entries) if e["actor_role"] == "agent"
    )
    (actor, _day), most = per_day.most_common(1)[0]
    assert actor == seeded.staff[f"demo.instructeur.{COMMUNE}"] and most >= VOLUME_READS
    ordinary = sorted(per_day.values())[len(per_day) // 2]
    assert most >= 5 * ordinary


def test_an_agent_of_another_commune_is_refused_many_times_within_minutes(seeded: Seeded) -> None:
    denied = [e for e in seeded.entries if e["outcome"] == "denied" and e["commune"] == COMMUNE]
    by_actor = Counter(e["actor_id"] for e in denied)
    stranger, count = by_actor.most_common(1)[0]
    assert count >= BURST_DENIALS and stranger not in {seeded.staff[f"demo.un-service.{COMMUNE}"]}
    times = sorted(e["at"] for e in denied if e["actor_id"] == stranger)
    assert times[-1] - times[0] <= timedelta(minutes=5)


def test_one_persons_request_is_read_by_many_agents_in_a_day(seeded: Seeded) -> None:
    readers: dict[tuple[str, object], set[str]] = {}
    for entry in _reads(seeded.entries):
        if entry["commune"] == COMMUNE and entry["subject"]:
            key = (entry["subject"], entry["at"].astimezone(PARIS).date())
            readers.setdefault(key, set()).add(entry["actor_id"])
    extra = {seeded.staff[f"demo.{suffix}.{COMMUNE}"] for suffix, _name in EXTRA_AGENTS}
    assert any(len(actors) >= 7 and extra <= actors for actors in readers.values())


def test_an_agent_exports_the_queue(seeded: Seeded) -> None:
    exported = seeded.by("demo.instructeur.{commune}", action="request.export")
    assert exported and all(entry["outcome"] == "success" for entry in exported)
    local = exported[0]["at"].astimezone(PARIS)
    assert local.weekday() < 5 and local.time() >= time(16, 50)


def test_every_planted_anomaly_is_within_the_week_before_the_seed(seeded: Seeded) -> None:
    planted = {seeded.staff[f"demo.{suffix}.{COMMUNE}"] for suffix, _name in EXTRA_AGENTS}
    planted |= {seeded.staff[f"demo.un-service.{COMMUNE}"]}
    times = [e["at"] for e in seeded.entries if e["actor_id"] in planted and e["action"] != "staff.create"]
    assert times and all(seeded.ran_at - timedelta(days=8) < at < seeded.ran_at for at in times)


def test_the_anomalies_are_listed_with_their_kind_and_who(seeded: Seeded) -> None:
    assert len(set(kinds())) == len(ANOMALIES) == 7
    assert all(anomaly.username.startswith("demo.") and anomaly.what and anomaly.when for anomaly in ANOMALIES)


async def test_the_weekly_review_surfaces_every_planted_anomaly(seeded: Seeded) -> None:
    weeks = sorted(
        {moment.astimezone(PARIS).isocalendar()[:2] for moment in (seeded.ran_at - timedelta(days=7), seeded.ran_at)}
    )
    app = create_app(seeded.config.path)
    found: set[str] = set()
    try:
        async with GuichetClient(app) as client:
            await sign_in_auditor(client)
            for year, week in weeks:
                answer = await client.get(
                    "/api/v1/audit/review", params={"week": f"{year}-W{week:02d}", "commune": COMMUNE}
                )
                assert answer.status_code == 200, answer.text
                found |= {finding["kind"] for finding in answer.json()["findings"]}
    finally:
        app.state.db.dispose()
    assert set(kinds()) <= set(KINDS)  # the demo plants the review's own kinds
    assert set(kinds()) <= found, f"not surfaced: {sorted(set(kinds()) - found)}"


def test_seeding_again_plants_nothing_more(seeded: Seeded) -> None:
    result = run(seeded.config, "demo", "seed", "--requests", "1", "--seed", "2")
    assert "planted anomalies: none" in result.output
