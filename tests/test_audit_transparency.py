"""The log's public endpoints: latest checkpoint with cosignatures, verifier key, consistency proofs (no sign-in)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from starlette.applications import Starlette

from gateway.audit.checkpoint import Verifier, verify_note
from gateway.audit.cosignature import generate_cosigner
from gateway.audit.events import AuditEvent
from gateway.audit.keys import signer_for
from gateway.audit.log import record
from gateway.audit.merkle import verify_consistency
from gateway.audit.sealing import seal
from gateway.models import AuditCheckpoint, AuditCosignature
from gateway.testing import ConfigFolder, GuichetClient


def add_entries(app: Starlette, count: int) -> None:
    for number in range(count):
        with app.state.db.session() as session:
            event = AuditEvent(action="request.read", actor_id="staff:1", actor_role="agent",
                               resource=f"request/{number}", purpose="instruction", origin="cli test")  # fmt: skip
            record(session, event)


def sealed(app: Starlette) -> AuditCheckpoint:
    settings = app.state.registry.settings
    return seal(app.state.db, signer_for(settings), settings.audit_origin)


@pytest_asyncio.fixture
async def app(guichet_config: ConfigFolder, guichet_database_url: str) -> AsyncIterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    application = __import__("gateway.app", fromlist=["create_app"]).create_app(guichet_config.path)
    yield application
    application.state.db.dispose()


@pytest_asyncio.fixture
async def client(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as http:
        yield http


async def test_no_checkpoint_yet_is_a_404_problem(client: GuichetClient) -> None:
    answer = await client.get("/api/v1/audit/checkpoint")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


async def test_latest_checkpoint_verifies_with_the_published_key(app: Starlette, client: GuichetClient) -> None:
    add_entries(app, 5)
    sealed(app)
    key = (await client.get("/api/v1/audit/key")).text.strip()
    answer = await client.get("/api/v1/audit/checkpoint")
    assert answer.status_code == 200
    assert verify_note(answer.text, Verifier.from_text(key)).size == 5


async def test_latest_checkpoint_carries_the_stored_cosignatures(app: Starlette, client: GuichetClient) -> None:
    add_entries(app, 3)
    checkpoint = sealed(app)
    witness = generate_cosigner("witness.test/w1")
    line = witness.cosign(checkpoint.note.split("\n\n")[0] + "\n", 1_700_000_000).line()
    with app.state.db.session() as session:
        session.add(AuditCosignature(size=3, witness="w1", line=line, cosigned_at=datetime.now(UTC),
                                     created_at=datetime.now(UTC)))  # fmt: skip
    answer = await client.get("/api/v1/audit/checkpoint")
    assert witness.verifier().find(answer.text) is not None


async def test_consistency_proof_links_two_checkpoints(app: Starlette, client: GuichetClient) -> None:
    add_entries(app, 7)
    first = sealed(app)
    add_entries(app, 6)
    second = sealed(app)
    answer = await client.get("/api/v1/audit/consistency", params={"old": 7, "new": 13})
    assert answer.status_code == 200
    proof = [base64.b64decode(node) for node in answer.json()["proof"]]
    assert verify_consistency(7, 13, first.root_hash, second.root_hash, proof)


async def test_consistency_proof_defaults_to_the_latest_checkpoint(app: Starlette, client: GuichetClient) -> None:
    add_entries(app, 4)
    sealed(app)
    answer = await client.get("/api/v1/audit/consistency", params={"old": 2})
    assert answer.json()["new_size"] == 4


@pytest.mark.parametrize(
    ("params", "status"),
    [({"old": "5", "new": "3"}, 400), ({"old": "x"}, 400), ({"old": "-1"}, 400), ({}, 400),
     ({"old": "1", "evil": "1"}, 400), ({"old": "1", "new": "99"}, 404), ({"old": "9" * 30}, 400)],
    ids=["old-above-new", "not-a-number", "negative", "missing", "unknown-parameter", "beyond-the-log", "huge"],
)  # fmt: skip
async def test_bad_sizes_are_problems(
    app: Starlette, client: GuichetClient, params: dict[str, str], status: int
) -> None:
    add_entries(app, 4)
    sealed(app)
    answer = await client.get("/api/v1/audit/consistency", params=params)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"


async def test_public_page_shows_the_checkpoint_and_its_witnesses_to_anyone(
    app: Starlette, client: GuichetClient
) -> None:
    add_entries(app, 3)
    checkpoint = sealed(app)
    line = generate_cosigner("witness.test/w1").cosign(checkpoint.note.split("\n\n")[0] + "\n", 1).line()
    with app.state.db.session() as session:
        session.add(AuditCosignature(size=3, witness="temoin-corbas", line=line,
                                     cosigned_at=datetime(2026, 12, 3, 12, 0, tzinfo=UTC),
                                     created_at=datetime.now(UTC)))  # fmt: skip
    page = await client.get("/audit/transparence")
    assert page.status_code == 200
    assert "Le journal comptait 3 entrées" in page.text
    assert "Contresigné par temoin-corbas le 3 déc. 2026 à 12:00:00" in page.text


async def test_public_page_before_any_checkpoint_says_so_in_english(client: GuichetClient) -> None:
    page = await client.get("/audit/transparence", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "No checkpoint sealed yet." in page.text
