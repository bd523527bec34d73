"""Filing under concurrency: retries file one request, parallel filings get distinct numbers."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from gateway.app import load_registry
from gateway.audit.events import ANONYMOUS
from gateway.db import Database
from gateway.registry import Registry
from gateway.requests.caller import Caller
from gateway.requests.filing import Submission, file_request
from gateway.requests.rules import rules_for
from gateway.settings import load_settings
from gateway.testing import ConfigFolder

MESSAGE = {
    "name": "Camille Exemple",
    "email": "camille@example.org",
    "topic": "voirie",
    "message": "Un trou dans la rue.",
}


@pytest.fixture
def setup(config: ConfigFolder, guichet_database_url: str) -> Iterator[tuple[Database, Registry]]:
    db = Database(guichet_database_url)
    yield db, load_registry(load_settings(config.path))
    db.dispose()


def file(db: Database, registry: Registry, key: str) -> str:
    rules = rules_for(registry, registry.communes["venissieux"], "contact")
    filed = file_request(db, registry, rules, Caller(ANONYMOUS, "test"), Submission(MESSAGE, key))
    assert filed.request is not None
    return filed.request.reference


def test_same_submission_sent_in_parallel_files_one_request(setup: tuple[Database, Registry]) -> None:
    db, registry = setup
    with ThreadPoolExecutor(max_workers=4) as pool:
        references = list(pool.map(lambda _: file(db, registry, "one-click"), range(8)))
    assert len(set(references)) == 1


def test_parallel_filings_get_distinct_consecutive_numbers(setup: tuple[Database, Registry]) -> None:
    db, registry = setup
    with ThreadPoolExecutor(max_workers=4) as pool:
        references = list(pool.map(lambda n: file(db, registry, f"key-{n}"), range(12)))
    assert sorted(int(reference.rsplit("-", 1)[1]) for reference in references) == list(range(1, 13))
