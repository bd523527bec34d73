"""The pytest fixtures: a deployment folder, a migrated database, the app built from both, a client on it."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import pytest
import pytest_asyncio
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.testing.client import GuichetClient
from gateway.testing.databases import (
    TEST_DATABASE_ENV,
    fresh_postgres_schema,
    migrate,
    postgres_server_url,
    skip_or_fail,
)
from gateway.testing.deployment import ConfigFolder


def build_app(config: ConfigFolder, *, extra_plugins: Sequence[tuple[str, object]] = ()) -> Starlette:
    """Build the gateway from ``config`` as ``guichet serve`` would; raises ``ConfigError`` when it is wrong.

    ``extra_plugins`` are (name, plugin) pairs registered as if installed: a plugin a test defines
    itself. The caller disposes of the app's database (``app.state.db.dispose()``) when done.
    """
    return create_app(config.path, extra_plugins=extra_plugins)


@pytest.fixture
def guichet_config(tmp_path: Path) -> ConfigFolder:
    """A blank deployment folder: override this fixture to add the communes and services a test needs."""
    return ConfigFolder(tmp_path)


@pytest.fixture(scope="session")
def guichet_migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated for real, once a session (once an xdist worker): each test gets a copy."""
    path = tmp_path_factory.mktemp("migrated") / "guichet.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def guichet_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database: SQLite in a temporary file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        migrated: Path = request.getfixturevalue("guichet_migrated_sqlite")
        for suffix in ("", "-wal"):
            if Path(f"{migrated}{suffix}").exists():
                shutil.copyfile(f"{migrated}{suffix}", tmp_path / f"guichet.db{suffix}")
        yield f"sqlite:///{tmp_path / 'guichet.db'}"
        return
    server = postgres_server_url()
    if server is None:
        skip_or_fail(f"PostgreSQL tests skipped: {TEST_DATABASE_ENV} is not set (CI sets it; see README)")
    with fresh_postgres_schema(server) as url:
        migrate(url)
        yield url


@pytest.fixture
def guichet_app(guichet_config: ConfigFolder, guichet_database_url: str) -> Iterator[Starlette]:
    """The gateway built from ``guichet_config`` on ``guichet_database_url``, as ``guichet serve`` builds it."""
    guichet_config.set_gateway(database={"url": guichet_database_url})
    app = build_app(guichet_config)
    yield app
    app.state.db.dispose()


@pytest_asyncio.fixture
async def guichet_client(guichet_app: Starlette) -> AsyncIterator[GuichetClient]:
    """An HTTP client on ``guichet_app`` that keeps cookies and fills forms as a browser does."""
    async with GuichetClient(guichet_app) as client:
        yield client
