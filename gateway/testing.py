"""Fixtures for testing Guichet and its plugins (loaded as a pytest plugin).

A plugin's tests get a real gateway: a temporary deployment folder, a real
database (SQLite, and PostgreSQL when ``GUICHET_TEST_DATABASE_URL`` is set),
migrated with the real migrations, and an HTTP client talking to the ASGI app.

    async def test_my_service(guichet_client):
        response = await guichet_client.get("/venissieux/my-service")

Fixtures:
    guichet_config       a ConfigFolder: a copy of the demo configuration to edit
    guichet_database_url a migrated, empty database, once per backend
    guichet_app          the app built from both
    guichet_client       an httpx.AsyncClient on it, with a working CSRF token
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tomllib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.db import Database
from gateway.settings import DEFAULT_CONFIG_DIR

TEST_DATABASE_ENV = "GUICHET_TEST_DATABASE_URL"
REQUIRE_ALL_ENV = "GUICHET_TEST_REQUIRE_ALL"
BASE_URL = "http://testserver"
_CSRF_INPUT = re.compile(r'name="csrftoken" value="([^"]+)"')


class ConfigFolder:
    """A deployment folder in a temporary directory, seeded from ``config/``.

    Edit it with :meth:`set_gateway`, :meth:`set_commune` and :meth:`remove_commune`;
    values are written back as TOML so what is tested is what an operator writes.
    """

    def __init__(self, root: Path, source: Path = DEFAULT_CONFIG_DIR) -> None:
        self.path = root / "config"
        shutil.copytree(source, self.path)
        self.data_dir = root / "var"
        self.set_gateway(
            storage={"data_dir": str(self.data_dir)},
            secret_key={"env": "GUICHET_TEST_UNSET_SECRET", "file": str(root / "secret"), "generate_if_missing": True},
            # no demo witnesses: they listen on fixed ports; a test that wants witnesses names its own
            audit={
                "signing_key_env": "GUICHET_TEST_UNSET_AUDIT_KEY",
                "signing_key_file": str(root / "audit-key"),
                "witnesses": [],
            },
            # every test client files from one address, many times over: the limits are out of the way unless a
            # test sets them (tests/test_filing_limits.py)
            filing_limits={
                "anonymous_per_origin": 100_000,
                "receipts_per_address": 10_000,
                "receipts_per_origin": 100_000,
            },
        )

    def read(self, relative: str) -> dict[str, Any]:
        with (self.path / relative).open("rb") as handle:
            return tomllib.load(handle)

    def write(self, relative: str, data: dict[str, Any]) -> None:
        (self.path / relative).write_text(dumps_toml(data), encoding="utf-8")

    def set_gateway(self, **sections: dict[str, Any]) -> None:
        data = self.read("gateway.toml")
        for name, values in sections.items():
            data.setdefault(name, {}).update(values)
        self.write("gateway.toml", data)

    def set_commune(self, slug: str, /, **values: Any) -> None:
        relative = f"communes/{slug}.toml"
        data = self.read(relative) if (self.path / relative).exists() else {}
        data.update(values)
        self.write(relative, data)

    def remove_commune(self, slug: str) -> None:
        (self.path / "communes" / f"{slug}.toml").unlink()


def dumps_toml(data: dict[str, Any]) -> str:
    """A small TOML writer for the value kinds configuration files use."""
    lines: list[str] = []
    tables: list[tuple[str, dict[str, Any]]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append((key, value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for name, table in tables:
        _write_table(lines, name, table)
    return "\n".join(lines) + "\n"


def _write_table(lines: list[str], name: str, table: dict[str, Any]) -> None:
    lines.append(f"\n[{name}]")
    nested = []
    for key, value in table.items():
        if isinstance(value, dict):
            nested.append((f"{name}.{_toml_key(key)}", value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for sub_name, sub_table in nested:
        _write_table(lines, sub_name, sub_table)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):  # an inline table, e.g. in an array of tables
        return "{" + ", ".join(f"{_toml_key(key)} = {_toml_value(item)}" for key, item in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} as TOML")


@pytest.fixture
def guichet_config(tmp_path: Path) -> ConfigFolder:
    return ConfigFolder(tmp_path)


def skip_or_fail(reason: str) -> NoReturn:
    """Skip with ``reason`` on a laptop; fail in CI, where every test must run."""
    if os.environ.get(REQUIRE_ALL_ENV):
        pytest.fail(f"{reason} — and {REQUIRE_ALL_ENV} is set, so nothing may be skipped")
    pytest.skip(reason)


def postgres_server_url() -> str | None:
    return os.environ.get(TEST_DATABASE_ENV) or None


@pytest.fixture(params=["sqlite", "postgresql"])
def guichet_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database: SQLite in a temporary file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'guichet.db'}"
        migrate(url)
        yield url
        return
    server = postgres_server_url()
    if server is None:
        skip_or_fail(f"PostgreSQL tests skipped: {TEST_DATABASE_ENV} is not set (CI sets it; see README)")
    with fresh_postgres_schema(server) as url:
        migrate(url)
        yield url


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


@pytest.fixture
def guichet_app(guichet_config: ConfigFolder, guichet_database_url: str) -> Iterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    app = create_app(guichet_config.path)
    yield app
    app.state.db.dispose()


@pytest_asyncio.fixture
async def guichet_client(guichet_app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(guichet_app) as client:
        yield client


class GuichetClient(httpx.AsyncClient):
    """An HTTP client on the ASGI app that can fill forms like a browser."""

    def __init__(self, app: Starlette, *, raise_app_exceptions: bool = True) -> None:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
        super().__init__(transport=transport, base_url=BASE_URL)
        self.app = app

    async def csrf_token(self, path: str = "/") -> str:
        """Load a page as a browser would, keeping its CSRF cookie; return the form token."""
        page = await self.get(path)
        match = _CSRF_INPUT.search(page.text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    async def submit(self, path: str, data: dict[str, str], *, page: str | None = None) -> httpx.Response:
        """Fill the form at ``path`` (loaded first, as a person would) and send it."""
        loaded = await self.get(page or path)
        return await self.post(path, data={**_hidden_inputs(loaded.text), **data})


def _hidden_inputs(html: str) -> dict[str, str]:
    found = {}
    for tag in re.findall(r"<input[^>]*>", html):
        if 'type="hidden"' in tag:
            name = re.search(r'name="([^"]+)"', tag)
            value = re.search(r'value="([^"]*)"', tag)
            if name and value and name.group(1) != "next":
                found[name.group(1)] = value.group(1)
    return found


STAFF_PASSWORD = "a long enough test password"  # noqa: S105  (test accounts only)


async def sign_in_staff(client: GuichetClient, username: str, *roles: str) -> None:
    """Create a staff account with ``roles`` (e.g. ``auditor:corbas``) and sign ``client`` in, both factors."""
    import time

    from gateway.identity import staff as staff_accounts
    from gateway.identity import totp

    db = client.app.state.db
    with db.session() as session:
        staff_accounts.create(
            session,
            username=username,
            display_name=username.replace(".", " ").title(),
            email=f"{username}@guichet.example",
            password=STAFF_PASSWORD,
            grants=[staff_accounts.parse_grant(role) for role in roles],
        )
    await client.submit("/agents/connexion", {"username": username, "password": STAFF_PASSWORD})
    page = await client.get("/agents/connexion/code")
    seed = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page.text)
    assert seed, "no second-factor enrolment page"
    answer = await client.submit("/agents/connexion/code", {"code": totp.code_at(seed.group(1), time.time())})
    assert answer.status_code == 303, answer.text


def sign_in_citizen(
    client: GuichetClient, *, given_name: str = "Camille", family_name: str = "Exemple", email: str | None = None
) -> int:
    """Create a federated citizen and give ``client`` a live session for them; return the citizen's id.

    For tests of what signed-in citizens see; the sign-in flows themselves are
    tested against the demo identity provider.
    """
    import secrets
    from datetime import UTC, datetime

    from gateway.identity.sessions import COOKIE, cookie_value, open_session
    from gateway.models import Citizen

    db = client.app.state.db
    with db.session() as session:
        citizen = Citizen(public_id=secrets.token_hex(16), issuer="https://idp.test", sub=secrets.token_hex(8),
                          given_name=given_name, family_name=family_name, email=email,
                          created_at=datetime.now(UTC))  # fmt: skip
        session.add(citizen)
        session.flush()
        assert citizen.id is not None
        session_id = open_session(session, "citizen", citizen.id)
        citizen_id = citizen.id
    client.cookies.set(COOKIE, cookie_value(client.app.state.registry.settings.secret_key, session_id))
    return citizen_id
