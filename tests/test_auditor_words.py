"""The audit log's codes in the auditor's words (gateway/audit/auditor_words.py): none is left without them."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from gateway.audit.auditor_words import ACTIONS, OUTCOMES, ROLES, action_words, refusal_purpose
from gateway.audit.builders import LISTING_ACTIONS, access_denied
from gateway.audit.events import ANONYMOUS
from gateway.audit.events import OUTCOMES as OUTCOME_CODES
from gateway.audit.events import ROLES as ROLE_CODES

GATEWAY = Path(__file__).resolve().parent.parent / "gateway"
#: a text shaped like an action: ``domain.verb`` (what AuditEvent accepts, one dot)
ACTION_SHAPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*$")
#: texts of that shape in the gateway's code that are not actions
NOT_ACTIONS = {
    # outbox message kinds (the action recorded is outbox.sent / outbox.failed)
    "account.already-exists", "account.password-changed", "account.verify-email",
    # logger, module and host names, ASGI message types
    "gateway.plugin", "gateway.scaffold", "gateway.testing", "gateway.worker", "guichet.access", "guichet.batch",
    "guichet.commune", "guichet.connection", "guichet.db", "guichet.invalid", "guichet.routed", "uvicorn.access",
    "uvicorn.error", "http.request", "example.org", "citizen.id", "database.url", "plugins.blocked",
}  # fmt: skip
FILE_SUFFIXES = {"html", "json", "toml", "py", "po", "ico", "zip", "sqlite", "jinja", "pdf", "csv", "txt", "svg"}


def actions_in_the_code() -> set[str]:
    """Every string constant in gateway/ shaped like an action, files and names aside."""
    found = set()
    for path in GATEWAY.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and ACTION_SHAPE.match(node.value):
                found.add(node.value)
    return {text for text in found if text.rpartition(".")[2] not in FILE_SUFFIXES and text not in NOT_ACTIONS}
    return found


def test_the_scan_finds_the_actions_it_must() -> None:
    # guards the test below against a scan that silently finds nothing
    expected = {"request.read", "auth.mfa", "staff.disable", "access.csrf-refused", *LISTING_ACTIONS}
    assert expected <= actions_in_the_code()


def test_every_action_the_gateway_records_has_words() -> None:
    missing = sorted(actions_in_the_code() - set(ACTIONS))
    assert not missing, f"actions without words in gateway/audit/auditor_words.py: {missing}"


@pytest.mark.parametrize("table,codes", [(ROLES, ROLE_CODES), (OUTCOMES, OUTCOME_CODES)], ids=["roles", "outcomes"])
def test_every_role_and_outcome_has_words(table: dict[str, object], codes: tuple[str, ...]) -> None:
    assert set(table) == set(codes)


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_words_are_never_the_code_itself(locale: str) -> None:
    for table in (ACTIONS, ROLES, OUTCOMES):
        for code, words in table.items():
            assert words.en and words(locale) != code and code not in words(locale), code


def test_french_and_english_words_differ_for_every_action() -> None:
    assert [code for code, words in ACTIONS.items() if words.fr == words.en] == []


def test_a_plugins_action_is_told_as_a_step_of_its_service() -> None:
    assert action_words("contact.address-uncovered", "fr", "Écrire à la mairie") == (
        "Démarche « Écrire à la mairie » : address uncovered"
    )
    assert action_words("contact.address-uncovered", "en", "Write to the town hall") == (
        "Service “Write to the town hall”: address uncovered"
    )


def test_a_refusal_names_the_action_tried_and_the_role_in_words() -> None:
    event = access_denied(ANONYMOUS, role="agent", resource="x", origin="test", attempted="queue.read")
    assert refusal_purpose(event.purpose, "fr") == (
        "contrôle d'accès : « Consultation de la file d'attente » refusé ; rôle « Agent » requis"
    )
    assert refusal_purpose(event.purpose, "en") == "access control: “Queue looked at” refused; role “Agent” required"


def test_other_purposes_are_not_refusals() -> None:
    assert refusal_purpose("instruction de la demande", "en") is None
