"""When a checkpoint is due: after N entries, after T minutes with new entries, or to keep a quiet log fresh."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from gateway.audit.checkpoint import generate_signer
from gateway.audit.events import AuditEvent
from gateway.audit.log import append
from gateway.audit.sealing import LogState, SealingPolicy, checkpoint_due, seal, seal_if_due
from gateway.db import Database
from gateway.settings import AuditSection, ConfigError, load_settings
from gateway.testing import ConfigFolder

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
POLICY = SealingPolicy(every_entries=100, every=timedelta(minutes=60), heartbeat_after=timedelta(hours=12))
ORIGIN = "guichet.test/audit"


def state(size: int, sealed: int, sealed_minutes_ago: float | None = 1, newest_minutes_ago: float = 1) -> LogState:
    sealed_at = NOW - timedelta(minutes=sealed_minutes_ago) if sealed_minutes_ago is not None else None
    return LogState(size, sealed, sealed_at, NOW - timedelta(minutes=newest_minutes_ago) if size else None)


def test_due_after_enough_entries() -> None:
    assert checkpoint_due(POLICY, state(150, 50), NOW) == "entries"


def test_not_due_with_fewer_entries_and_a_recent_seal() -> None:
    assert checkpoint_due(POLICY, state(149, 50), NOW) is None


def test_due_when_the_last_seal_is_old_and_entries_came_since() -> None:
    assert checkpoint_due(POLICY, state(51, 50, sealed_minutes_ago=60), NOW) == "age"


def test_not_due_when_old_but_nothing_new() -> None:
    assert checkpoint_due(POLICY, state(50, 50, sealed_minutes_ago=600, newest_minutes_ago=600), NOW) is None


def test_due_for_a_first_checkpoint_once_there_are_entries() -> None:
    assert checkpoint_due(POLICY, state(3, 0, sealed_minutes_ago=None), NOW) == "age"


def test_heartbeat_due_when_the_log_has_been_quiet_for_half_the_allowed_age() -> None:
    assert checkpoint_due(POLICY, state(50, 50, sealed_minutes_ago=720, newest_minutes_ago=720), NOW) == "heartbeat"


def test_rules_set_to_zero_are_off() -> None:
    policy = SealingPolicy(every_entries=0, every=None, heartbeat_after=None)
    assert checkpoint_due(policy, state(10_000, 0, sealed_minutes_ago=None, newest_minutes_ago=10_000), NOW) is None


def test_policy_reads_the_settings() -> None:
    policy = SealingPolicy.from_settings(
        AuditSection(checkpoint_every_entries=7, checkpoint_every_minutes=5, max_checkpoint_age_minutes=60)
    )
    assert policy == SealingPolicy(7, timedelta(minutes=5), timedelta(minutes=30))


def test_sealing_less_often_than_verify_tolerates_is_refused(guichet_config: ConfigFolder) -> None:
    guichet_config.set_gateway(audit={"checkpoint_every_minutes": 120, "max_checkpoint_age_minutes": 60})
    with pytest.raises(ConfigError, match="checkpoint_every_minutes"):
        load_settings(guichet_config.path)


@pytest.fixture
def db(guichet_database_url: str) -> Iterator[Database]:
    database = Database(guichet_database_url)
    yield database
    database.dispose()


def add(db: Database, count: int, when: datetime) -> None:
    event = AuditEvent(action="request.read", actor_id="agent:1", actor_role="agent", resource="request/1",
                       purpose="instruction", origin="cli test")  # fmt: skip
    with db.session() as session:
        append(session, [event] * count, now=when)


def test_seal_if_due_seals_after_the_count_and_not_before(db: Database) -> None:
    signer = generate_signer(ORIGIN)
    policy = SealingPolicy(every_entries=10, every=None, heartbeat_after=None)
    add(db, 10, NOW)
    seal(db, signer, ORIGIN)
    add(db, 9, NOW)
    assert seal_if_due(db, signer, ORIGIN, policy, now=NOW) is None
    add(db, 1, NOW)
    checkpoint = seal_if_due(db, signer, ORIGIN, policy, now=NOW)
    assert checkpoint is not None and checkpoint.size == 20
