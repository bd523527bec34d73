"""The audit tables are append-only for the gateway: guards in the database, one privileged path for retention."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DatabaseError

from gateway.audit.checkpoint import generate_signer
from gateway.audit.events import AuditEvent
from gateway.audit.guard import GUARDED, grant_statements
from gateway.audit.log import append
from gateway.audit.retention import prune
from gateway.audit.sealing import seal
from gateway.audit.verify import verify_log
from gateway.db import Database
from gateway.testing import fresh_postgres_schema, migrate, postgres_server_url, skip_or_fail

ORIGIN = "guichet.test/audit"
START = datetime(2025, 1, 1, tzinfo=UTC)
SIGNER = generate_signer(ORIGIN)


def fill(db: Database) -> None:
    """Twenty days of 15 entries (300: one full Merkle tile), sealed."""
    for day in range(20):
        with db.session() as session:
            event = AuditEvent(action="request.read", actor_id="agent:1", actor_role="agent", resource=f"request/{day}",
                               purpose="instruction", origin="cli test")  # fmt: skip
            append(session, [event] * 15, now=START + timedelta(days=day))
    seal(db, SIGNER, ORIGIN)


@pytest.fixture
def owner_db(guichet_database_url: str, tmp_path: Path) -> Iterator[Database]:
    database = Database(guichet_database_url)
    fill(database)
    prune(database, SIGNER, ORIGIN, months=12, now=START + timedelta(days=375))
    yield database
    database.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entry SET actor_id = 'x'",
        "DELETE FROM audit_entry WHERE seq = 200",
        "UPDATE audit_tile SET root = root",
        "DELETE FROM audit_tile",
        "DELETE FROM audit_checkpoint",
        "DELETE FROM audit_prune",
    ],
)
def test_even_the_owner_cannot_update_or_delete_audit_rows_by_accident(owner_db: Database, statement: str) -> None:
    with pytest.raises(DatabaseError, match="append-only"), owner_db.engine.begin() as connection:
        connection.execute(text(statement))


@pytest.fixture
def gateway_role() -> Iterator[tuple[Database, Database]]:
    """(the owner's database, the same schema seen by a gateway role that owns nothing), on PostgreSQL."""
    server = postgres_server_url()
    if server is None:
        skip_or_fail("PostgreSQL tests skipped: GUICHET_TEST_DATABASE_URL is not set")
    role = f"guichet_gw_{secrets.token_hex(4)}"
    with fresh_postgres_schema(server) as url:
        migrate(url)
        owner = Database(url)
        fill(owner)
        schema = make_url(url).query["options"].removeprefix("-csearch_path=")  # type: ignore[union-attr]
        with owner.engine.begin() as connection:
            connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
            connection.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"'))
            for statement in grant_statements(role):
                connection.execute(text(statement))
            # where a prune keeps its archive, as `guichet db grant` allows every table but the audit log's
            connection.execute(text(f'GRANT SELECT, INSERT, DELETE ON stored_file, stored_file_chunk TO "{role}"'))
        gateway = Database(make_url(url).set(username=role).render_as_string(hide_password=False))
        try:
            yield owner, gateway
        finally:
            gateway.dispose()
            with owner.engine.begin() as connection:
                connection.execute(text(f'DROP OWNED BY "{role}"'))
            owner.dispose()
            admin = create_engine(make_url(url).set(query={}), isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'DROP ROLE "{role}"'))
            admin.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        *(f"UPDATE {table} SET {column} = {column}" for table, column in
          [("audit_entry", "seq"), ("audit_checkpoint", "size"), ("audit_prune", "size"), ("audit_tile", "idx")]),
        *(f"DELETE FROM {table}" for table in GUARDED),
        *(f"TRUNCATE {table}" for table in GUARDED),
        "DROP TRIGGER audit_entry_append_only ON audit_entry",
        "ALTER TABLE audit_entry DISABLE TRIGGER USER",
        "DROP TABLE audit_entry",
    ],
)  # fmt: skip
def test_gateway_role_cannot_change_or_unguard_the_log(gateway_role: tuple[Database, Database], statement: str) -> None:
    _, gateway = gateway_role
    with pytest.raises(DatabaseError), gateway.engine.begin() as connection:
        connection.execute(text(statement))


def test_gateway_role_still_appends(gateway_role: tuple[Database, Database]) -> None:
    _, gateway = gateway_role
    with gateway.session() as session:
        append(session, [AuditEvent(action="request.read", actor_id="agent:1", actor_role="agent",
                                    resource="request/x", purpose="instruction", origin="cli test")])  # fmt: skip


def test_retention_prunes_through_the_privileged_path(gateway_role: tuple[Database, Database], tmp_path: Path) -> None:
    _, gateway = gateway_role
    result = prune(gateway, SIGNER, ORIGIN, months=12, now=START + timedelta(days=375))
    assert result.removed == 150
    assert verify_log(gateway, [SIGNER.verifier()], archive_dir=tmp_path).ok


def test_the_gateway_role_cannot_open_the_retention_path_itself(gateway_role: tuple[Database, Database]) -> None:
    _, gateway = gateway_role
    with pytest.raises(DatabaseError), gateway.engine.begin() as connection:
        connection.execute(text("SELECT set_config('guichet.audit_retention', 'on', true)"))
        connection.execute(text("DELETE FROM audit_entry WHERE seq = 200"))


def test_migration_0006_downgrades_and_upgrades_again(owner_db: Database) -> None:
    from alembic import command

    command.downgrade(owner_db.alembic_config(), "0005")
    with owner_db.engine.begin() as connection:  # the guard of 0002 is back: updates refused, deletes let through
        connection.execute(text("DELETE FROM audit_entry WHERE seq = 200"))
    owner_db.upgrade("0006")
    assert owner_db.migration_state()[0] == "0006"
