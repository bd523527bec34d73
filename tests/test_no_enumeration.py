"""Nothing tells who has an account: sign-in does the same work for unknown names, answers do not differ."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.identity import passwords
from gateway.identity import staff as staff_accounts
from gateway.testing import STAFF_PASSWORD, ConfigFolder, GuichetClient

ADDRESS = "camille@example.org"
PASSWORD = "a long enough password"


@pytest_asyncio.fixture
async def app(guichet_config: ConfigFolder, guichet_database_url: str) -> AsyncIterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    application = create_app(guichet_config.path)
    with application.state.db.session() as session:
        staff_accounts.create(session, username="ana.agent", display_name="Ana Agent", email="ana@guichet.example",
                              password=STAFF_PASSWORD, grants=[staff_accounts.parse_grant("agent:corbas")])  # fmt: skip
    yield application
    application.state.db.dispose()


@pytest_asyncio.fixture
async def client(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as http:
        yield http


class CountingHasher:
    """The argon2 hasher, counting its verifications (the costly work a sign-in does)."""

    def __init__(self, real: object) -> None:
        self.real = real
        self.verified = 0

    def verify(self, stored: str, password: str) -> bool:
        self.verified += 1
        return self.real.verify(stored, password)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingHasher]:
    counting = CountingHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", counting)
    yield counting


async def test_staff_sign_in_of_an_unknown_user_verifies_the_dummy_hash(
    client: GuichetClient, hasher: CountingHasher
) -> None:
    await client.submit("/agents/connexion", {"username": "nobody", "password": "a wrong password"})
    unknown = hasher.verified
    await client.submit("/agents/connexion", {"username": "ana.agent", "password": "a wrong password"})
    assert unknown == hasher.verified - unknown == 1


async def test_staff_sign_in_of_a_disabled_user_verifies_a_hash(
    app: Starlette, client: GuichetClient, hasher: CountingHasher
) -> None:
    with app.state.db.session() as session:
        found = staff_accounts.find(session, "ana.agent")
        assert found is not None
        staff_accounts.set_disabled(session, found, True)
    answer = await client.submit("/agents/connexion", {"username": "ana.agent", "password": STAFF_PASSWORD})
    assert answer.status_code == 401 and hasher.verified == 1


async def test_local_sign_in_of_an_unknown_address_verifies_the_dummy_hash(
    client: GuichetClient, hasher: CountingHasher
) -> None:
    answer = await client.submit("/compte/connexion", {"email": "nobody@example.org", "password": PASSWORD})
    assert answer.status_code == 401 and hasher.verified == 1


def main_text(html: str, address: str) -> str:
    """The page's main content, with the address typed and the form tokens taken out."""
    found = re.search(r"<main.*?</main>", html, re.S)
    text = found.group(0) if found else html
    text = re.sub(r'name="csrftoken" value="[^"]*"', "", text)
    return text.replace(address, "ADDRESS")


async def _three_states(client: GuichetClient) -> dict[str, str]:
    """A confirmed address, one never confirmed, one unknown."""
    from tests.test_local_accounts import verified_account

    await verified_account(client, ADDRESS, PASSWORD)
    await client.submit("/compte/creer", {"email": "claude@example.org", "password": PASSWORD,
                                             "password_confirmation": PASSWORD})  # fmt: skip
    return {"confirmed": ADDRESS, "unconfirmed": "claude@example.org", "unknown": "dominique@example.org"}


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/compte/creer", {"password": "another long password", "password_confirmation": "another long password"}),
        ("/compte/creer", {"password": PASSWORD, "password_confirmation": PASSWORD}),
        ("/compte/verification/renvoyer", {}),
        ("/compte/mot-de-passe-oublie", {}),
    ],
)
async def test_account_forms_answer_alike_whatever_the_address(
    client: GuichetClient, path: str, fields: dict[str, str]
) -> None:
    addresses = await _three_states(client)
    answers = {state: await client.submit(path, {"email": address, **fields}) for state, address in addresses.items()}
    assert {answer.status_code for answer in answers.values()} == {200}
    texts = {main_text(answers[state].text, address) for state, address in addresses.items()}
    assert len(texts) == 1
