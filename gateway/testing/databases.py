"""The test databases: SQLite in a temporary file, PostgreSQL in a schema of its own, both migrated for real."""

from __future__ import annotations

import os
import secrets
from typing import NoReturn

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gateway.db import Database

TEST_DATABASE_ENV = "GUICHET_TEST_DATABASE_URL"
REQUIRE_ALL_ENV = "GUICHET_TEST_REQUIRE_ALL"


def skip_or_fail(reason: str) -> NoReturn:
    """Skip with ``reason`` on a laptop; fail in CI, where every test must run."""
    if os.environ.get(REQUIRE_ALL_ENV):
        pytest.fail(f"{reason} — and {REQUIRE_ALL_ENV} is set, so nothing may be skipped")
    pytest.skip(reason)


def postgres_server_url() -> str | None:
    return os.environ.get(TEST_DATABASE_ENV) or None


def migrate(url: str) -> None:
    database = Database(url)
    try:
        database.upgrade()
    finally:
        database.dispose()


class fresh_postgres_schema:
    """A schema of its own on the test server, dropped afterwards; its URL sets search_path."""

    def __init__(self, server_url: str) -> None:
        base = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
        self.admin = create_engine(base, isolation_level="AUTOCOMMIT")
        self.schema = f"guichet_test_{secrets.token_hex(6)}"
        self.url = base.update_query_dict({"options": f"-csearch_path={self.schema}"}).render_as_string(
            hide_password=False
        )

    def __enter__(self) -> str:
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        return self.url

    def __exit__(self, *_exc: object) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
        self.admin.dispose()
