"""Liveness and readiness probes."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.audit.probe import audit_write_fault
from gateway.db import Database
from gateway.testing import ConfigFolder, GuichetClient


async def test_healthz_answers_while_the_process_runs(guichet_client: GuichetClient) -> None:
    response = await guichet_client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_is_ok_on_a_migrated_database(guichet_client: GuichetClient) -> None:
    response = await guichet_client.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_says_when_the_database_is_not_migrated(config: ConfigFolder, tmp_path: Path) -> None:
    config.set_gateway(database={"url": f"sqlite:///{tmp_path / 'empty.db'}"})
    app = create_app(config.path, check_migrations=False)
    async with GuichetClient(app) as client:
        response = await client.get("/readyz")
    app.state.db.dispose()
    assert (response.status_code, response.json()["detail"]) == (503, "database not migrated")


async def test_readyz_says_when_the_database_is_unreachable(config: ConfigFolder) -> None:
    config.set_gateway(database={"url": "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"})
    app = create_app(config.path, check_migrations=False)
    async with GuichetClient(app) as client:
        response = await client.get("/readyz")
    app.state.db.dispose()
    assert (response.status_code, response.json()["detail"]) == (503, "database unreachable")


def refuse_audit_writes(db: Database) -> None:
    """What a lost right or a broken disk looks like to the gateway: the database refuses new audit entries."""
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS "
                                    "$$ BEGIN RAISE EXCEPTION 'audit refused'; END $$"))  # fmt: skip
            connection.execute(text("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_entry "
                                    "FOR EACH ROW EXECUTE FUNCTION refuse_audit()"))  # fmt: skip
        else:
            connection.execute(text("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_entry "
                                    "BEGIN SELECT RAISE(ABORT, 'audit refused'); END"))  # fmt: skip


def audit_state(db: Database) -> tuple[int, int]:
    with db.engine.connect() as connection:
        entries = connection.execute(text("SELECT count(*) FROM audit_entry")).scalar_one()
        size = connection.execute(text("SELECT size FROM audit_head")).scalar_one()
    return int(entries), int(size)


async def test_readyz_fails_when_the_audit_log_cannot_be_written(guichet_app: Starlette) -> None:
    refuse_audit_writes(guichet_app.state.db)
    async with GuichetClient(guichet_app) as client:
        response = await client.get("/readyz")
    assert (response.status_code, response.json()) == (
        503,
        {"status": "unavailable", "detail": "audit log cannot be written"},
    )


async def test_the_audit_write_probe_writes_nothing(guichet_app: Starlette) -> None:
    before = audit_state(guichet_app.state.db)
    async with GuichetClient(guichet_app) as client:
        assert (await client.get("/readyz")).status_code == 200
    assert audit_state(guichet_app.state.db) == before
    assert audit_write_fault(guichet_app.state.db) is None
    assert audit_state(guichet_app.state.db) == before
