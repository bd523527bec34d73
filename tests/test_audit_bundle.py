"""Exported bundles verify offline, and any change to them is caught."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway.audit.bundle import BundleError, build_bundle, verify_bundle
from gateway.audit.checkpoint import Signer, generate_signer
from gateway.audit.events import AuditEvent
from gateway.audit.log import append
from gateway.audit.sealing import seal
from gateway.db import Database

ORIGIN = "guichet.test/audit"
START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def signer() -> Signer:
    return generate_signer(ORIGIN)


@pytest.fixture
def db(guichet_database_url: str, signer: Signer) -> Iterator[Database]:
    """Twenty entries, one a day from 1 January 2026, sealed."""
    database = Database(guichet_database_url)
    for day in range(20):
        with database.session() as session:
            event = AuditEvent(action="request.read", actor_id="agent:1", actor_role="agent", resource=f"request/{day}",
                               purpose="instruction", origin="cli test", commune="givors")  # fmt: skip
            append(session, [event], now=START + timedelta(days=day))
    seal(database, signer, ORIGIN)
    yield database
    database.dispose()


def bundle(db: Database, **period: datetime) -> dict[str, Any]:
    return build_bundle(db, **period)


def test_bundle_of_a_period_holds_its_entries(db: Database) -> None:
    exported = bundle(db, since=START + timedelta(days=5), until=START + timedelta(days=8))
    assert [entry["seq"] for entry in exported["entries"]] == [5, 6, 7]
    assert exported["tree_size"] == 20


def test_bundle_verifies_with_the_gateways_key(db: Database, signer: Signer) -> None:
    summary = verify_bundle(bundle(db), [signer.verifier()])
    assert (summary.entries, summary.tree_size, summary.origin) == (20, 20, ORIGIN)


def test_changed_entry_in_a_bundle_is_caught(db: Database, signer: Signer) -> None:
    exported = bundle(db)
    exported["entries"][3]["entry"] = exported["entries"][3]["entry"].replace("agent:1", "agent:2")
    with pytest.raises(BundleError, match="entry 3: not included"):
        verify_bundle(exported, [signer.verifier()])


def test_entry_moved_to_another_position_is_caught(db: Database, signer: Signer) -> None:
    exported = bundle(db)
    exported["entries"][4]["seq"] = 5
    with pytest.raises(BundleError, match="entry 5: its text was sealed as entry 4"):
        verify_bundle(exported, [signer.verifier()])


def test_bundle_checked_against_another_key_is_refused(db: Database) -> None:
    with pytest.raises(BundleError, match="checkpoint"):
        verify_bundle(bundle(db), [generate_signer(ORIGIN).verifier()])


def test_tampered_proof_is_caught(db: Database, signer: Signer) -> None:
    exported = copy.deepcopy(bundle(db))
    proof = exported["entries"][0]["inclusion_proof"]
    proof[0] = ("B" if proof[0][0] == "A" else "A") + proof[0][1:]
    with pytest.raises(BundleError):
        verify_bundle(exported, [signer.verifier()])


def test_document_that_is_not_a_bundle_is_refused(signer: Signer) -> None:
    with pytest.raises(BundleError, match="not a guichet-audit-bundle/1 document"):
        verify_bundle({"entries": []}, [signer.verifier()])


def test_export_needs_a_checkpoint(guichet_database_url: str) -> None:
    database = Database(guichet_database_url)
    try:
        with pytest.raises(BundleError, match="no checkpoint yet"):
            build_bundle(database)
    finally:
        database.dispose()
