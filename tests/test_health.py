"""Liveness and readiness probes."""

from __future__ import annotations

from pathlib import Path

from gateway.app import create_app
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
