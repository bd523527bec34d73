"""The core's clock (gateway.clock): the system clock, unless the demo sets it back for a block of its thread."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from gateway import clock

WEEKS_AGO = datetime.now(UTC) - timedelta(weeks=3)


def test_outside_a_block_the_clock_is_the_system_clock() -> None:
    before = datetime.now(UTC)
    assert before <= clock.now() <= datetime.now(UTC)


def test_a_clock_set_back_starts_at_the_moment_and_ticks_on() -> None:
    with clock.set_back(WEEKS_AGO):
        first, second = clock.now(), clock.now()
    assert WEEKS_AGO <= first <= second < WEEKS_AGO + timedelta(minutes=1)


def test_the_clock_is_back_to_the_system_clock_after_the_block() -> None:
    with clock.set_back(WEEKS_AGO):
        pass
    assert clock.now() > datetime.now(UTC) - timedelta(minutes=1)


def test_other_threads_keep_the_system_clock() -> None:
    seen: list[datetime] = []
    with clock.set_back(WEEKS_AGO):
        thread = threading.Thread(target=lambda: seen.append(clock.now()))
        thread.start()
        thread.join()
    assert seen[0] > datetime.now(UTC) - timedelta(minutes=1)


def test_the_clock_cannot_be_set_forward() -> None:
    with pytest.raises(ValueError, match="forward"), clock.set_back(datetime.now(UTC) + timedelta(days=1)):
        pass


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"), clock.set_back(datetime(2026, 1, 1)):
        pass


def test_advancing_moves_a_set_back_clock_on_but_never_past_now() -> None:
    with clock.set_back(WEEKS_AGO):
        clock.advance(timedelta(hours=2))
        moved = clock.now()
        clock.advance(timedelta(weeks=10))
        capped = clock.now()
    assert WEEKS_AGO + timedelta(hours=2) <= moved < WEEKS_AGO + timedelta(hours=2, minutes=1)
    assert capped > datetime.now(UTC) - timedelta(minutes=1)


def test_advancing_the_system_clock_is_refused() -> None:
    with pytest.raises(RuntimeError, match="set back"):
        clock.advance(timedelta(hours=1))
