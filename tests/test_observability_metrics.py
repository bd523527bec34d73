"""Prometheus metrics at /metrics: protected by a bearer token, never cached, and moving with what happens."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import col, select
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.cli import main
from gateway.db import Database
from gateway.models import AuditCheckpoint, AuditHead, OutboxMessage
from gateway.settings import ConfigError
from gateway.testing import ConfigFolder, GuichetClient
from gateway.testing.client import STAFF_PASSWORD, sign_in_staff
from gateway.web.metrics_endpoint import CachedFigures
from tests.plugins import fragile

TOKEN = "scrape-token-for-the-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def deploy(config: ConfigFolder, database_url: str, **metrics: object) -> Starlette:
    services = config.read("communes/venissieux.toml")["services"]
    config.set_commune("venissieux", services={**services, "fragile": {}})
    config.set_gateway(database={"url": database_url}, metrics=metrics)
    return create_app(config.path, extra_plugins=[("fragile", fragile)])


@pytest.fixture
def app(guichet_config: ConfigFolder, guichet_database_url: str, tmp_path: Path) -> Iterator[Starlette]:
    (tmp_path / "metrics-token").write_text(TOKEN + "\n")
    application = deploy(
        guichet_config, guichet_database_url, token_file=str(tmp_path / "metrics-token"), database_cache_seconds=0
    )
    yield application
    application.state.db.dispose()


@pytest_asyncio.fixture
async def client(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as http:
        yield http


async def scrape(client: GuichetClient) -> Samples:
    answer = await client.get("/metrics", headers=AUTH)
    assert answer.status_code == 200, answer.text
    return parse(answer.text)


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_without_a_token_configured_the_path_does_not_exist(
    guichet_config: ConfigFolder, guichet_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GUICHET_METRICS_TOKEN", raising=False)
    app = deploy(guichet_config, guichet_database_url)
    try:
        async with GuichetClient(app) as client:
            assert (await client.get("/metrics", headers=AUTH)).status_code == 404
    finally:
        app.state.db.dispose()


async def test_the_token_may_come_from_the_environment(
    guichet_config: ConfigFolder, guichet_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUICHET_METRICS_OTHER", TOKEN)
    app = deploy(guichet_config, guichet_database_url, token_env="GUICHET_METRICS_OTHER")
    try:
        async with GuichetClient(app) as client:
            assert (await client.get("/metrics", headers=AUTH)).status_code == 200
            assert (await client.get("/metrics")).status_code == 401
    finally:
        app.state.db.dispose()


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Bearer wrong-token-of-the-same-kind-0123456",
        f"Basic {TOKEN}",
        f"Bearer {TOKEN}x",
        "Bearer é".encode("latin-1"),
    ],
)
async def test_a_scrape_without_the_right_token_is_refused(
    client: GuichetClient, authorization: str | bytes | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    answer = await client.get("/metrics", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Bearer realm="metrics"'
    assert answer.headers["cache-control"] == "no-store"
    assert "guichet_" not in answer.text


async def test_a_scrape_is_never_cached_and_reads_as_prometheus_text(client: GuichetClient) -> None:
    answer = await client.get("/metrics", headers=AUTH)
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert (await client.post("/metrics", headers=AUTH)).status_code in (403, 405)


async def test_requests_are_counted_by_route_template_and_status(client: GuichetClient) -> None:
    before = await scrape(client)
    await client.get("/healthz")
    await client.get("/healthz")
    await client.get("/venissieux/contact")
    await client.get("/ailleurs/rien/du/tout")
    after = await scrape(client)
    for route, status, added in (("/healthz", "200", 2), ("/{commune}/{service}", "200", 1), ("unmatched", "404", 1)):
        labels = {"method": "GET", "route": route, "status": status}
        assert (
            value(after, "guichet_http_requests_total", **labels)
            - value(before, "guichet_http_requests_total", **labels)
            == added
        ), route
        count = "guichet_http_request_duration_seconds_count"
        assert value(after, count, **labels) - value(before, count, **labels) == added
    assert not any("ailleurs" in str(labels) for _name, labels in after)
    assert value(after, "guichet_http_requests_in_progress") == 1  # the scrape itself


async def test_a_database_that_does_not_answer_is_said_in_the_scrape_not_with_an_error(
    app: Starlette, client: GuichetClient, tmp_path: Path
) -> None:
    app.state.metrics_figures = CachedFigures(Database(f"sqlite:///{tmp_path}/no/such/folder/guichet.db"), 0)
    samples = await scrape(client)
    assert value(samples, "guichet_database_up") == 0
    assert not any(name.startswith(("guichet_outbox", "guichet_audit")) for name, _labels in samples)
    assert value(samples, "guichet_http_requests_in_progress") == 1


async def test_write_batches_and_plugin_failures_are_counted(client: GuichetClient) -> None:
    before = await scrape(client)
    filed = await client.submit("/venissieux/fragile", {"text": "un texte"})
    assert filed.status_code == 303, filed.text
    failed = await client.submit("/venissieux/fragile", {"text": "fail-validation"})
    assert failed.status_code == 503
    after = await scrape(client)
    assert value(after, "guichet_write_batch_size_count") > value(before, "guichet_write_batch_size_count")
    labels = {"plugin": "fragile", "hook": "guichet_validate_request"}
    assert (
        value(after, "guichet_plugin_failures_total", **labels)
        == value(before, "guichet_plugin_failures_total", **labels) + 1
    )


async def test_sign_in_failures_and_lock_outs_are_counted_without_naming_anyone(
    app: Starlette, client: GuichetClient
) -> None:
    async with GuichetClient(app) as agent:
        await sign_in_staff(agent, "agent.compteur", "agent:venissieux")
    before = await scrape(client)
    for _ in range(5):  # the account's limit
        await client.submit("/agents/connexion", {"username": "agent.compteur", "password": "pas le bon mot de passe"})
    await client.submit("/agents/connexion", {"username": "personne.inconnue", "password": STAFF_PASSWORD})
    after = await scrape(client)
    failures = "guichet_sign_in_failures_total"
    assert value(after, failures, kind="staff") - value(before, failures, kind="staff") == 5
    assert value(after, failures, kind="unknown-account") - value(before, failures, kind="unknown-account") == 1
    assert (
        value(after, "guichet_lockouts_total", scope="account")
        - value(before, "guichet_lockouts_total", scope="account")
        == 1
    )
    assert not any("compteur" in str(labels) or "inconnue" in str(labels) for _name, labels in after)


async def test_outbox_and_audit_figures_are_read_from_the_database_at_scrape_time(
    app: Starlette, client: GuichetClient
) -> None:
    answer = await client.submit("/compte/creer", {"email": "jeanne@example.org", "password": "un mot de passe long",
                                                   "password_confirmation": "un mot de passe long"})  # fmt: skip
    assert answer.status_code in (200, 303)
    samples = await scrape(client)
    with app.state.db.session(all_communes=True) as session:
        pending = session.exec(select(OutboxMessage).where(col(OutboxMessage.sent_at).is_(None))).all()
        head = session.get(AuditHead, 1)
        checkpoints = session.exec(select(AuditCheckpoint)).all()
    assert pending and value(samples, "guichet_outbox_pending_messages") == len(pending)
    assert value(samples, "guichet_outbox_oldest_pending_age_seconds") >= 0
    assert value(samples, "guichet_outbox_failed_messages") == 0
    assert head is not None and head.size > 0
    assert value(samples, "guichet_audit_entries") == head.size
    sealed = max((checkpoint.size for checkpoint in checkpoints), default=0)
    assert value(samples, "guichet_audit_unsealed_entries") == head.size - sealed
    age = value(samples, "guichet_audit_last_checkpoint_age_seconds")
    assert math.isnan(age) if not checkpoints else age >= 0
    assert value(samples, "guichet_database_up") == 1


async def test_database_figures_are_reused_within_the_cache_time(
    guichet_config: ConfigFolder, guichet_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUICHET_METRICS_TOKEN", TOKEN)
    app = deploy(guichet_config, guichet_database_url, database_cache_seconds=600)
    try:
        async with GuichetClient(app) as client:
            first = await scrape(client)
            await client.submit("/compte/creer", {"email": "jeanne@example.org", "password": "un mot de passe long",
                                                  "password_confirmation": "un mot de passe long"})  # fmt: skip
            second = await scrape(client)
            assert value(second, "guichet_audit_entries") == value(first, "guichet_audit_entries")
            assert value(second, "guichet_outbox_pending_messages") == value(first, "guichet_outbox_pending_messages")
    finally:
        app.state.db.dispose()


@pytest.mark.parametrize(
    ("metrics", "fault"),
    [
        ({"token_file": "nowhere/token"}, "metrics.token_file"),
        ({"token_file": "short-token"}, "at least 24 characters"),
        ({"token": "inline"}, "unknown key"),
        ({"database_cache_seconds": -1}, "metrics.database_cache_seconds"),
    ],
)
def test_a_wrong_metrics_setting_stops_the_start_with_its_key(
    guichet_config: ConfigFolder, guichet_database_url: str, metrics: dict[str, object], fault: str
) -> None:
    (guichet_config.path / "short-token").write_text("too-short")
    with pytest.raises(ConfigError) as raised:
        deploy(guichet_config, guichet_database_url, **metrics)
    assert fault in str(raised.value)


def test_guichet_check_and_serve_say_a_wrong_token_in_one_line(guichet_config: ConfigFolder) -> None:
    guichet_config.set_gateway(metrics={"token_file": "missing-token"})
    for command in (["check"], ["serve", "--port", "1"]):
        result = CliRunner().invoke(main, ["--config", str(guichet_config.path), *command])
        assert result.exit_code == 2, result.output  # a setting fault (gateway/cli/failures.py)
        assert "metrics.token_file" in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1
