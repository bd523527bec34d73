"""On PostgreSQL the gateway runs as a role that owns no table: `guichet db grant` gives it what it needs, no more.

The owner migrates and grants; the gateway, as the granted role, serves a
filing (request, history, outbox message, audit entry) and seals a
checkpoint, but cannot delete or rewrite the audit log, nor drop its guards.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DatabaseError

from gateway.app import create_app
from gateway.audit.checkpoint import generate_signer
from gateway.audit.sealing import seal
from gateway.cli import main
from gateway.testing import (
    ConfigFolder,
    GuichetClient,
    fresh_postgres_schema,
    migrate,
    postgres_server_url,
    skip_or_fail,
)

MESSAGE = {
    "name": "Camille Exemple",
    "email": "camille@example.org",
    "topic": "autre",
    "message": "Le lampadaire de la rue est éteint depuis une semaine.",
}


@pytest.fixture
def owner_url() -> Iterator[str]:
    server = postgres_server_url()
    if server is None:
        skip_or_fail("PostgreSQL tests skipped: GUICHET_TEST_DATABASE_URL is not set (CI sets it; see README)")
    with fresh_postgres_schema(server) as url:
        migrate(url)
        yield url


@pytest.fixture
def role(owner_url: str) -> Iterator[str]:
    name = f"guichet_gw_{secrets.token_hex(4)}"
    admin = create_engine(make_url(owner_url).set(query={}), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE ROLE "{name}" LOGIN'))
    yield name
    owner = create_engine(owner_url, isolation_level="AUTOCOMMIT")
    with owner.connect() as connection:
        connection.execute(text(f'DROP OWNED BY "{name}"'))
    owner.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP ROLE "{name}"'))
    admin.dispose()


def grant(config: ConfigFolder, owner_url: str, *args: str) -> str:
    config.set_gateway(database={"url": owner_url})
    result = CliRunner().invoke(main, ["--config", str(config.path), "db", "grant", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def as_role(url: str, role: str) -> str:
    return make_url(url).set(username=role).render_as_string(hide_password=False)


def test_grant_prints_the_statements_for_review_without_running_them(
    guichet_config: ConfigFolder, owner_url: str, role: str
) -> None:
    printed = grant(guichet_config, owner_url, role)
    assert f'GRANT SELECT, INSERT ON audit_entry TO "{role}";' in printed
    assert f'GRANT SELECT, INSERT, UPDATE, DELETE ON service_request TO "{role}";' in printed
    assert "audit_entry TO" in printed and "UPDATE, DELETE ON audit_entry" not in printed
    gateway = create_engine(as_role(owner_url, role))
    with pytest.raises(DatabaseError), gateway.connect() as connection:
        connection.execute(text("SELECT count(*) FROM service_request"))  # printed, not granted
    gateway.dispose()


async def test_the_gateway_serves_filings_as_a_granted_role_owning_nothing(
    guichet_config: ConfigFolder, owner_url: str, role: str
) -> None:
    grant(guichet_config, owner_url, role, "--apply")
    guichet_config.set_gateway(database={"url": as_role(owner_url, role)})
    app = create_app(guichet_config.path)
    try:
        async with GuichetClient(app) as client:
            answer = await client.submit("/corbas/contact", MESSAGE)
        assert answer.status_code == 303
        with app.state.db.session(all_communes=True) as session:
            assert session.execute(text("SELECT count(*) FROM audit_entry")).scalar_one() >= 1
        checkpoint = seal(app.state.db, generate_signer("guichet.test/audit"), "guichet.test/audit")
        assert checkpoint.size >= 1
        for statement in ("DELETE FROM audit_entry", "UPDATE audit_entry SET actor_id = 'x'",
                          "DROP TRIGGER audit_entry_append_only ON audit_entry"):  # fmt: skip
            with pytest.raises(DatabaseError), app.state.db.engine.begin() as connection:
                connection.execute(text(statement))
    finally:
        app.state.db.dispose()


def test_grant_refuses_sqlite_with_one_clear_line(guichet_config: ConfigFolder, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'g.db'}"
    migrate(url)
    guichet_config.set_gateway(database={"url": url})
    result = CliRunner().invoke(main, ["--config", str(guichet_config.path), "db", "grant", "gateway"])
    assert result.exit_code == 1 and "PostgreSQL only" in result.output
