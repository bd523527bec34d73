"""The auditor console in words: names and plain words in French and English, the sealed entry one click away,
and an entry's proof explained, downloaded, and checked offline with `guichet audit verify-bundle`."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from click.testing import CliRunner, Result
from sqlalchemy import select
from starlette.applications import Starlette

from gateway.audit.auditor_words import ACTIONS
from gateway.audit.builders import access_denied
from gateway.audit.checkpoint import Verifier
from gateway.audit.cosignature import CosignatureVerifier, generate_cosigner
from gateway.audit.events import OUTCOMES, ROLES, Actor, AuditEvent, pseudonym
from gateway.audit.keys import signer_for
from gateway.audit.log import record
from gateway.audit.publication import latest_checkpoint
from gateway.audit.sealing import seal
from gateway.cli import main
from gateway.models import AuditCosignature, AuditEntry
from gateway.testing import ConfigFolder, GuichetClient, sign_in_staff
from tests.test_access_log_proofs import standalone_check

EMAIL = "camille@example.org"
SLUGS = ("corbas", "givors")
#: (language, words the search results and entry 0 must show: commune, service, role, action, outcome, purpose)
WORDS = {
    "fr": ["Corbas", "Écrire à la mairie", "Agent", "Consultation d'une demande", "Réussi", "Demande MSG-2026-000001"],
    "en": ["Corbas", "Write to the town hall", "Agent", "Request looked at", "Succeeded", "Request MSG-2026-000001"],
}
REFUSAL_WORDS = {
    "fr": [
        "Givors",
        "Usager",
        "Accès refusé",
        "Refusé",
        "« Consultation d'une demande » refusé ; rôle « Agent » requis",
    ],
    "en": ["Givors", "Citizen", "Access refused", "Refused", "“Request looked at” refused; role “Agent” required"],
}


@pytest_asyncio.fixture
async def app(guichet_config: ConfigFolder, guichet_database_url: str) -> AsyncIterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    application = __import__("gateway.app", fromlist=["create_app"]).create_app(guichet_config.path)
    subject = pseudonym(application.state.registry.settings.secret_key, "email", EMAIL)
    with application.state.db.session() as session:
        record(session, AuditEvent(action="request.read", actor_id="staff:99", actor_role="agent", commune="corbas",
                                   service="contact", resource="request/MSG-2026-000001", subject=subject,
                                   purpose="instruction", origin="web 192.0.2.1"))  # fmt: skip
        record(session, access_denied(Actor("citizen:abc", "citizen"), role="agent", resource="request/MSG-2026-000001",
                                      origin="web 192.0.2.9", commune="givors", service="contact",
                                      attempted="request.read", subject=subject))  # fmt: skip
    yield application
    application.state.db.dispose()


@pytest_asyncio.fixture
async def client(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as http:
        await sign_in_staff(http, "alex.auditor", "auditor")
        yield http


def sealed(app: Starlette) -> Verifier:
    settings = app.state.registry.settings
    signer = signer_for(settings)
    seal(app.state.db, signer, settings.audit_origin)
    return signer.verifier()


def size_sealed(app: Starlette) -> int:
    with app.state.db.session() as session:
        checkpoint = latest_checkpoint(session)
        assert checkpoint is not None
        return checkpoint.size


def results(page: str) -> str:
    """The search results' rows as they read, unescaped (tags dropped: a link's address is not read)."""
    rows = page.split("<tbody>")[1].split("</tbody>")[0]
    return re.sub(r"<[^>]*>", " ", rows).replace("&#39;", "'")


def entry_words(page: str) -> str:
    """The entry page's table in words: what comes before the sealed entry's <details>."""
    return page.split("<h1>")[1].split("<details>")[0].replace("&#39;", "'")


def codes_in(text: str) -> list[str]:
    """Codes found as whole words: actions, outcomes, roles, commune slugs (case-sensitive: « Agent » is a word).

    An actor id (``citizen:abc``, ``staff:99``) is an identifier, not a code: it is shown as recorded.
    """
    codes = [*ACTIONS, *OUTCOMES, *ROLES, *SLUGS]
    return [code for code in codes if re.search(rf"(?<![\w.]){re.escape(code)}(?![\w.:-])", text)]


@pytest.mark.parametrize("locale", ["fr", "en"])
async def test_search_results_name_communes_and_say_actions_roles_and_outcomes_in_words(
    client: GuichetClient, locale: str
) -> None:
    page = await client.get(
        "/audit", params={"citizen": EMAIL, "purpose": "controle"}, headers={"Accept-Language": locale}
    )
    rows = results(page.text)
    assert [word for word in WORDS[locale] + REFUSAL_WORDS[locale][:4] if word not in rows] == []


@pytest.mark.parametrize("locale", ["fr", "en"])
async def test_search_results_show_no_raw_code(client: GuichetClient, locale: str) -> None:
    page = await client.get(
        "/audit", params={"citizen": EMAIL, "purpose": "controle"}, headers={"Accept-Language": locale}
    )
    assert codes_in(results(page.text)) == []


@pytest.mark.parametrize("locale", ["fr", "en"])
async def test_entry_page_says_the_entry_in_words_with_no_raw_code(client: GuichetClient, locale: str) -> None:
    for seq, expected in ((0, WORDS[locale]), (1, REFUSAL_WORDS[locale])):
        page = await client.get(f"/audit/entrees/{seq}", headers={"Accept-Language": locale})
        words = entry_words(page.text)
        assert [word for word in expected if word not in words] == []
        assert codes_in(words) == []


async def test_search_form_offers_commune_names_actions_and_outcomes_in_words(client: GuichetClient) -> None:
    page = (await client.get("/audit", headers={"Accept-Language": "en"})).text
    assert '<option value="corbas">Corbas</option>' in page
    assert '<option value="request.read">Request looked at</option>' in page
    assert '<option value="denied">Refused</option>' in page


async def test_search_by_an_action_keeps_it_selected(client: GuichetClient) -> None:
    page = (await client.get("/audit", params={"action": "access.denied"})).text
    assert '<option value="access.denied" selected>Accès refusé</option>' in page


async def test_the_sealed_entry_is_one_click_away(client: GuichetClient) -> None:
    page = (await client.get("/audit/entrees/0", headers={"Accept-Language": "en"})).text
    sealed_part = page.split("<details>")[1]
    assert "<summary>The sealed entry, as recorded</summary>" in sealed_part
    assert "<td>request.read</td>" in sealed_part and "<td>corbas</td>" in sealed_part
    assert '<a href="/api/v1/audit/entries/0">' in sealed_part


async def test_csv_export_adds_the_entry_in_the_auditors_words(client: GuichetClient) -> None:
    answer = await client.get("/audit/export.csv", params={"commune": "corbas"}, headers={"Accept-Language": "en"})
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    read = next(row for row in rows if row["action"] == "request.read")
    assert (read["commune"], read["Commune (name)"]) == ("corbas", "Corbas")
    assert (read["Action (in words)"], read["Outcome (in words)"], read["Actor (role)"]) == (
        "Request looked at", "Succeeded", "Agent"
    )  # fmt: skip


@pytest.mark.parametrize(
    "locale,sentence,link",
    [
        ("fr", "figure, à la position 1, dans le journal de {size} entrées que le guichet a scellé et signé le",
         "Transparence du journal d'audit"),
        ("en", "is in the log, at position 1 of the {size} entries the gateway sealed and signed on",
         "Audit log transparency"),
    ],
)  # fmt: skip
async def test_entry_page_explains_what_the_proof_proves_and_links_its_checkpoint(
    app: Starlette, client: GuichetClient, locale: str, sentence: str, link: str
) -> None:
    key = sealed(app)
    page = (await client.get("/audit/entrees/1", headers={"Accept-Language": locale})).text.replace("&#39;", "'")
    assert sentence.format(size=size_sealed(app)) in page
    assert f'<a href="/audit/transparence">{link}</a>' in page
    assert '<a href="/audit/entrees/1/preuve.json" download>' in page
    assert f"guichet audit verify-bundle preuve-entree-1.json --key {key.to_text()}" in page


async def test_entry_page_names_the_witnesses_who_cosigned_the_checkpoint(
    app: Starlette, client: GuichetClient
) -> None:
    sealed(app)
    cosign(app, "temoin-corbas")
    page = (await client.get("/audit/entrees/1", headers={"Accept-Language": "en"})).text
    assert "who keep a record of it outside the database: temoin-corbas." in page


def cosign(app: Starlette, name: str) -> CosignatureVerifier:
    """A witness cosigns the latest checkpoint; its verifier key."""
    witness = generate_cosigner(f"{name}.example")
    with app.state.db.session() as session:
        checkpoint = latest_checkpoint(session)
        assert checkpoint is not None
        line = witness.cosign(checkpoint.note.split("\n\n")[0] + "\n", 1_764_763_200).line()
        moment = datetime.now(UTC)
        session.add(AuditCosignature(size=checkpoint.size, witness=name, line=line, cosigned_at=moment,
                                     created_at=moment))  # fmt: skip
    return witness.verifier()


def verify(text: str, key: Verifier, tmp_path: Path, *more: str) -> Result:
    path = tmp_path / "preuve-entree-1.json"
    path.write_text(text, encoding="utf-8")
    return CliRunner().invoke(main, ["audit", "verify-bundle", str(path), "--key", key.to_text(), *more])


async def test_downloaded_proof_verifies_offline_with_the_logs_key(
    app: Starlette, client: GuichetClient, tmp_path: Path
) -> None:
    key = sealed(app)
    answer = await client.get("/audit/entrees/1/preuve.json")
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == 'attachment; filename="preuve-entree-1.json"'
    assert [item["seq"] for item in answer.json()["entries"]] == [1]
    result = verify(answer.text, key, tmp_path)
    assert result.exit_code == 0, result.output
    size = size_sealed(app)
    assert result.output == f"bundle verified: 1 entries included in the signed log of {size} (127.0.0.1:8000/audit)\n"


async def test_downloaded_proof_carries_the_witnesses_cosignature(
    app: Starlette, client: GuichetClient, tmp_path: Path
) -> None:
    key = sealed(app)
    witness = cosign(app, "temoin-corbas")
    text = (await client.get("/audit/entrees/1/preuve.json")).text
    result = verify(text, key, tmp_path, "--witness-key", witness.to_text())
    assert result.exit_code == 0 and "cosigned by the witness(es): temoin-corbas.example" in result.output


@pytest.mark.parametrize(
    "tamper,fault",
    [
        (lambda bundle: bundle["entries"][0].update(entry=bundle["entries"][0]["entry"].replace("denied", "success")),
         "entry 1: not included in the signed tree of size"),
        (lambda bundle: bundle.update(tree_size=bundle["tree_size"] + 1), "tree_size differs from the signed"),
        (lambda bundle: bundle.update(checkpoint=bundle["checkpoint"].replace(f"\n{bundle['tree_size']}\n", "\n99\n")),
         "checkpoint:"),
    ],
    ids=["entry", "size", "checkpoint"],
)  # fmt: skip
async def test_a_tampered_proof_fails_in_one_line(
    app: Starlette, client: GuichetClient, tmp_path: Path, tamper: object, fault: str
) -> None:
    key = sealed(app)
    bundle = (await client.get("/audit/entrees/1/preuve.json")).json()
    tamper(bundle)  # type: ignore[operator]
    result = verify(json.dumps(bundle), key, tmp_path)
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert result.output.startswith("Error: bundle NOT verified: ") and fault in result.output


async def test_downloading_a_proof_is_recorded_as_reading_the_entry(app: Starlette, client: GuichetClient) -> None:
    sealed(app)
    await client.get("/audit/entrees/1/preuve.json")
    with app.state.db.session() as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()  # type: ignore[attr-defined]
    assert (last.action, last.resource, last.actor_role) == ("audit.view", "audit-entry/1/proof", "auditor")
    assert last.subject == pseudonym(app.state.registry.settings.secret_key, "email", EMAIL)


async def test_a_proof_before_any_checkpoint_is_a_clear_409(client: GuichetClient) -> None:
    answer = await client.get("/audit/entrees/1/preuve.json", headers={"Accept-Language": "en"})
    assert answer.status_code == 409
    assert "No checkpoint covers this entry yet" in answer.text


@pytest.mark.parametrize("seq", ["abc", "-1", "99999999999999999999", "7"])
async def test_a_proof_of_no_entry_is_a_clear_404(app: Starlette, client: GuichetClient, seq: str) -> None:
    sealed(app)
    answer = await client.get(f"/audit/entrees/{seq}/preuve.json")
    assert answer.status_code == 404


async def test_a_proof_outside_the_auditors_communes_is_not_found(app: Starlette) -> None:
    sealed(app)
    async with GuichetClient(app) as http:
        await sign_in_staff(http, "claude.auditor", "auditor:corbas")
        assert (await http.get("/audit/entrees/1/preuve.json")).status_code == 404  # entry 1 is Givors'
        assert (await http.get("/audit/entrees/0/preuve.json")).status_code == 200


async def test_an_agent_cannot_download_a_proof(app: Starlette) -> None:
    sealed(app)
    async with GuichetClient(app) as http:
        await sign_in_staff(http, "dom.agent", "agent:corbas:contact")
        assert (await http.get("/audit/entrees/0/preuve.json")).status_code == 403


async def test_the_documented_procedure_by_hand_checks_the_download(
    app: Starlette, client: GuichetClient, tmp_path: Path
) -> None:
    key = sealed(app)
    text = (await client.get("/audit/entrees/1/preuve.json")).text
    good = standalone_check(text, key, tmp_path)
    assert good.returncode == 0 and good.stdout.startswith("1 entries verified"), good.stderr
    bundle = json.loads(text)
    bundle["entries"][0]["entry"] = bundle["entries"][0]["entry"].replace("givors", "corbas")
    bad = standalone_check(json.dumps(bundle), key, tmp_path)
    assert bad.returncode != 0 and "is not in the signed log" in bad.stderr


async def test_a_plugins_own_action_reads_as_a_step_of_its_service(app: Starlette, client: GuichetClient) -> None:
    with app.state.db.session() as session:
        record(session, AuditEvent(action="contact.address-uncovered", actor_id="system", actor_role="system",
                                   commune="corbas", service="contact", resource="request/MSG-2026-000002",
                                   purpose="instruction", origin="worker", outcome="failure"))  # fmt: skip
    page = await client.get("/audit", params={"action": "contact.address-uncovered"}, headers={"Accept-Language": "en"})
    assert '<option value="contact.address-uncovered" selected>contact.address-uncovered</option>' in page.text
    rows = results(page.text)
    assert "Service “Write to the town hall”: address uncovered" in rows and "System (automatic)" in rows
    assert "Failed" in rows


async def test_results_name_the_staff_member_who_acted_beside_their_role(client: GuichetClient) -> None:
    await client.get("/audit", params={"citizen": EMAIL, "purpose": "controle"})  # audited: audit.search by Alex
    page = await client.get("/audit", params={"action": "audit.search"})
    assert "Alex Auditor (staff:" in results(page.text)


async def test_an_actor_with_no_account_is_shown_by_role_and_id_only(client: GuichetClient) -> None:
    page = await client.get("/audit/entrees/1")
    assert "(citizen:abc)" in entry_words(page.text)
