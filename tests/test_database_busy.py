"""A database locked past the wait answers 503 with Retry-After, says nothing was saved, and loses nothing.

Another connection holds SQLite's write lock (as a long transaction of
another process would); the gateway waits ``[database] lock_wait_seconds``,
then refuses the filing plainly instead of a server error. Once the lock is
released the same form goes through.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import func
from sqlmodel import select
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.models import ServiceRequest
from gateway.testing import ConfigFolder, GuichetClient, migrate

FORM = "/corbas/contact"
API = "/api/v1/communes/corbas/services/contact/requests"
MESSAGE = {"name": "Camille Exemple", "email": "camille@example.org", "topic": "autre",
           "message": "Le lampadaire de la rue est éteint depuis une semaine."}  # fmt: skip


@pytest.fixture
def database_file(tmp_path: Path) -> Path:
    path = tmp_path / "guichet.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest_asyncio.fixture
async def app(guichet_config: ConfigFolder, database_file: Path) -> AsyncIterator[Starlette]:
    guichet_config.set_gateway(database={"url": f"sqlite:///{database_file}", "lock_wait_seconds": 0.2})
    application = create_app(guichet_config.path)
    yield application
    application.state.db.dispose()


@pytest.fixture
def locked(database_file: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holding the write lock until the test releases it."""
    holder = sqlite3.connect(database_file, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    yield holder
    if holder.in_transaction:
        holder.execute("ROLLBACK")
    holder.close()


def stored(app: Starlette) -> int:
    with app.state.db.read_session(all_communes=True) as session:
        return int(session.exec(select(func.count()).select_from(ServiceRequest)).one())


async def test_a_filing_page_waits_then_answers_503_and_stores_nothing(
    app: Starlette, locked: sqlite3.Connection
) -> None:
    async with GuichetClient(app) as client:
        answer = await client.submit(FORM, MESSAGE)
        assert answer.status_code == 503
        assert answer.headers["retry-after"] == "5"
        assert "très demandé" in answer.text
        locked.execute("ROLLBACK")
        assert stored(app) == 0
        assert (await client.submit(FORM, MESSAGE)).status_code == 303
    assert stored(app) == 1


async def test_an_api_filing_gets_a_503_problem(app: Starlette, locked: sqlite3.Connection) -> None:
    async with GuichetClient(app) as client:
        answer = await client.post(API, json={"data": MESSAGE})
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["status"] == 503 and answer.headers["retry-after"] == "5"


def test_the_lock_wait_is_checked_at_start(guichet_config: ConfigFolder) -> None:
    from gateway.settings import ConfigError, load_settings

    guichet_config.set_gateway(database={"lock_wait_seconds": 0})
    with pytest.raises(ConfigError, match="lock_wait_seconds"):
        load_settings(guichet_config.path)
