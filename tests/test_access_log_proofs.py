"""A citizen downloads their own access-log entries with proofs, and checks them offline with `verify-bundle`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from click.testing import CliRunner, Result
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.audit.builders import access_denied
from gateway.audit.bundle import BundleError, verify_bundle
from gateway.audit.checkpoint import Verifier, split_note
from gateway.audit.cosignature import CosignatureSigner, generate_cosigner
from gateway.audit.events import ANONYMOUS, Actor, AuditEvent, decode, pseudonym
from gateway.audit.keys import signer_for
from gateway.audit.log import record
from gateway.audit.personal_bundle import personal_bundle
from gateway.audit.publication import latest_checkpoint
from gateway.audit.sealing import seal
from gateway.cli import main
from gateway.models import AuditCosignature
from gateway.requests.caller import Caller
from gateway.requests.filing import Submission, file_request
from gateway.requests.rules import rules_for
from gateway.requests.submission_keys import new_submission_key
from gateway.testing import ConfigFolder, GuichetClient, sign_in_citizen, sign_in_staff

DOCS = Path(__file__).resolve().parent.parent / "docs" / "audit_format.md"
EMAIL = "camille@example.org"
OTHER = "dominique@example.org"
PROOFS = "/mon-compte/acces-preuves.json"
API_PROOFS = "/api/v1/me/access-log/proofs"


@pytest_asyncio.fixture
async def app(guichet_config: ConfigFolder, guichet_database_url: str) -> AsyncIterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    application = create_app(guichet_config.path)
    yield application
    application.state.db.dispose()


@pytest_asyncio.fixture
async def citizen(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as http:
        sign_in_citizen(http, email=EMAIL)
        yield http


def file(app: Starlette, email: str) -> None:
    registry = app.state.registry
    values = {"name": "Dominique Fictif", "email": email, "topic": "voirie", "message": "Un trou dans la rue."}
    rules = rules_for(registry, registry.commune("corbas"), "contact")
    filed = file_request(
        app.state.db, registry, rules, Caller(ANONYMOUS, "test"), Submission(values, new_submission_key())
    )
    assert filed.request is not None, filed.errors


def subject(app: Starlette, email: str) -> str:
    return pseudonym(app.state.registry.settings.secret_key, "email", email)


def sealed(app: Starlette) -> Verifier:
    """Seal a checkpoint now; the gateway's verifier key."""
    settings = app.state.registry.settings
    signer = signer_for(settings)
    seal(app.state.db, signer, settings.audit_origin)
    return signer.verifier()


async def both_filed_and_listed(app: Starlette) -> None:
    """The citizen's request and another person's, both shown on a queue page (two listing entries)."""
    file(app, EMAIL)
    file(app, OTHER)
    async with GuichetClient(app) as agent:
        await sign_in_staff(agent, "ana.agent", "agent:corbas:contact")
        assert (await agent.get("/agents/corbas/demandes")).status_code == 200


def verify_file(bundle: str, key: Verifier, tmp_path: Path) -> Result:
    path = tmp_path / "mes-acces-preuves.json"
    path.write_text(bundle, encoding="utf-8")
    return CliRunner().invoke(main, ["audit", "verify-bundle", str(path), "--key", key.to_text()])


async def test_the_download_verifies_offline_with_the_gateways_key(
    app: Starlette, citizen: GuichetClient, tmp_path: Path
) -> None:
    await both_filed_and_listed(app)
    key = sealed(app)
    answer = await citizen.get(PROOFS)
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].startswith("attachment")
    result = verify_file(answer.text, key, tmp_path)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("bundle verified: 2 entries included")
    assert "every entry is about the bundle's 2 pseudonym(s)" in result.output


async def test_a_modified_entry_in_the_download_fails(app: Starlette, citizen: GuichetClient, tmp_path: Path) -> None:
    await both_filed_and_listed(app)
    key = sealed(app)
    bundle = (await citizen.get(PROOFS)).json()
    bundle["entries"][-1]["entry"] = bundle["entries"][-1]["entry"].replace('"agent"', '"auditor"')
    result = verify_file(json.dumps(bundle), key, tmp_path)
    assert result.exit_code == 1 and "bundle NOT verified: entry" in result.output


async def test_the_download_holds_no_other_persons_entries(app: Starlette, citizen: GuichetClient) -> None:
    await both_filed_and_listed(app)
    sealed(app)
    text = (await citizen.get(PROOFS)).text
    bundle = json.loads(text)
    assert {decode(item["entry"])["subject"] for item in bundle["entries"]} == {subject(app, EMAIL)}
    assert subject(app, OTHER) not in text


async def test_an_entry_naming_another_citizen_is_withheld_and_counted(app: Starlette, citizen: GuichetClient) -> None:
    file(app, EMAIL)
    with app.state.db.session() as session:
        record(session, access_denied(Actor("citizen:0123456789abcdef", "citizen"), role="agent",
                                      resource="request/MSG-2026-000001", origin="web 192.0.2.9", commune="corbas",
                                      subject=subject(app, EMAIL)))  # fmt: skip
    sealed(app)
    text = (await citizen.get(PROOFS)).text
    assert "0123456789abcdef" not in text and "192.0.2.9" not in text
    assert json.loads(text)["selection"]["withheld"] == 1


async def test_a_visitor_cannot_download_proofs(app: Starlette) -> None:
    sealed(app)
    async with GuichetClient(app) as visitor:
        page = await visitor.get(PROOFS)
        api = await visitor.get(API_PROOFS)
    assert page.status_code == 303 and page.headers["location"].startswith("/connexion")
    assert api.status_code == 401 and api.headers["content-type"] == "application/problem+json"


async def test_another_citizen_downloads_only_their_own_entries(app: Starlette) -> None:
    await both_filed_and_listed(app)
    sealed(app)
    async with GuichetClient(app) as someone_else:
        sign_in_citizen(someone_else, email="claude@example.org")
        text = (await someone_else.get(PROOFS)).text
    assert json.loads(text)["entries"] == []
    assert subject(app, EMAIL) not in text and subject(app, OTHER) not in text


async def test_entries_newer_than_the_checkpoint_are_left_out_and_the_page_says_so(
    app: Starlette, citizen: GuichetClient
) -> None:
    file(app, EMAIL)
    sealed(app)
    file(app, EMAIL)
    bundle = (await citizen.get(API_PROOFS)).json()
    assert [decode(item["entry"])["action"] for item in bundle["entries"]] == ["request.create"]
    assert all(item["seq"] < bundle["tree_size"] for item in bundle["entries"])
    assert bundle["selection"]["not_yet_covered"] == 1
    page = (await citizen.get("/mon-compte/acces")).text
    assert "accès récents ne sont pas encore scellés" in page  # the request filed after the seal, and the API read


async def test_before_any_checkpoint_the_download_is_409_and_the_page_says_why(
    app: Starlette, citizen: GuichetClient
) -> None:
    file(app, EMAIL)
    answer = await citizen.get(API_PROOFS)
    assert answer.status_code == 409 and "pas encore été scellé" in answer.json()["detail"]
    page = (await citizen.get("/mon-compte/acces", headers={"Accept-Language": "en"})).text
    assert "The log has not been sealed by a signed checkpoint yet" in page and PROOFS not in page


async def test_the_api_twin_gives_the_same_verifiable_bundle(app: Starlette, citizen: GuichetClient) -> None:
    await both_filed_and_listed(app)
    key = sealed(app)
    bundle: dict[str, Any] = (await citizen.get(API_PROOFS)).json()
    summary = verify_bundle(bundle, [key])
    assert (summary.entries, summary.subjects) == (2, 2)


async def test_the_checkpoint_note_is_copied_with_every_signature_line(app: Starlette, citizen: GuichetClient) -> None:
    file(app, EMAIL)
    sealed(app)
    with app.state.db.session() as session:
        checkpoint = latest_checkpoint(session)
        assert checkpoint is not None
        stored_note = checkpoint.note
    assert (await citizen.get(API_PROOFS)).json()["checkpoint"] == stored_note


async def test_proofs_of_a_log_past_one_tile_verify(app: Starlette, citizen: GuichetClient) -> None:
    """More than 256 entries: the proofs are read from the stored tiles, not rebuilt."""
    filler = AuditEvent(action="request.read", actor_id="staff:1", actor_role="agent", resource="request/x",
                        purpose="instruction", origin="web 192.0.2.1", commune="givors")  # fmt: skip
    with app.state.db.session() as session:
        for _ in range(300):
            record(session, filler)
    file(app, EMAIL)
    key = sealed(app)
    bundle = (await citizen.get(API_PROOFS)).json()
    assert bundle["entries"][0]["seq"] >= 300
    assert verify_bundle(bundle, [key]).entries == 1


def test_an_entry_about_someone_outside_the_selection_fails(app: Starlette) -> None:
    file(app, EMAIL)
    file(app, OTHER)
    key = sealed(app)
    with app.state.db.session() as session:
        bundle = personal_bundle(session, [subject(app, EMAIL), subject(app, OTHER)], reader="citizen:x")
    assert bundle is not None
    bundle["selection"]["subjects"] = [subject(app, EMAIL)]
    with pytest.raises(BundleError, match="about another person than the bundle's selection"):
        verify_bundle(bundle, [key])


def standalone_check(bundle: str, key: Verifier, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run the Python procedure of docs/audit_format.md §6 ("Checking a bundle without Guichet") on ``bundle``."""
    section = DOCS.read_text(encoding="utf-8").split("### Checking a bundle without Guichet", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, "no Python procedure in docs/audit_format.md §6"
    script, path = tmp_path / "check.py", tmp_path / "bundle.json"
    script.write_text(found.group(1), encoding="utf-8")
    path.write_text(bundle, encoding="utf-8")
    return subprocess.run([sys.executable, str(script), str(path), key.to_text()], capture_output=True, text=True,
                          check=False, timeout=60)  # fmt: skip


async def test_the_documented_standalone_procedure_checks_the_download(
    app: Starlette, citizen: GuichetClient, tmp_path: Path
) -> None:
    await both_filed_and_listed(app)
    key = sealed(app)
    text = (await citizen.get(PROOFS)).text
    good = standalone_check(text, key, tmp_path)
    assert good.returncode == 0 and good.stdout.startswith("2 entries verified"), good.stderr
    bundle = json.loads(text)
    bundle["entries"][0]["entry"] = bundle["entries"][0]["entry"].replace("corbas", "givors")
    bad = standalone_check(json.dumps(bundle), key, tmp_path)
    assert bad.returncode != 0 and "is not in the signed log" in bad.stderr


def cosign_latest(app: Starlette, witness: CosignatureSigner) -> None:
    """What the gateway keeps once a witness has answered: the cosignature line of the latest checkpoint."""
    with app.state.db.session(all_communes=True) as session:
        checkpoint = latest_checkpoint(session)
        assert checkpoint is not None
        body, _ = split_note(checkpoint.note)
        cosigned = witness.cosign(body, 1_780_000_000)
        moment = datetime.now(UTC)
        session.add(AuditCosignature(size=checkpoint.size, witness=witness.name, line=cosigned.line(),
                                     cosigned_at=moment, created_at=moment))  # fmt: skip


async def test_the_download_carries_the_witnesses_cosignatures_and_verifies_with_their_keys(
    app: Starlette, citizen: GuichetClient, tmp_path: Path
) -> None:
    file(app, EMAIL)
    key = sealed(app)
    witness, stranger = generate_cosigner("temoin.example"), generate_cosigner("autre.example")
    cosign_latest(app, witness)
    path = tmp_path / "mes-acces-preuves.json"
    path.write_text((await citizen.get(PROOFS)).text, encoding="utf-8")
    command = ["audit", "verify-bundle", str(path), "--key", key.to_text()]
    cosigned = CliRunner().invoke(main, [*command, "--witness-key", witness.verifier().to_text()])
    assert cosigned.exit_code == 0 and "cosigned by the witness(es): temoin.example" in cosigned.output
    uncosigned = CliRunner().invoke(main, [*command, "--witness-key", stranger.verifier().to_text()])
    assert uncosigned.exit_code == 1 and "no valid cosignature by the witness autre.example" in uncosigned.output
