"""A personal API token's last use: written on first use, then at most once a minute (checking it only reads)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.applications import Starlette

from gateway.identity import staff as staff_accounts
from gateway.identity.tokens import LAST_USE_PRECISION, create_token
from gateway.models import ApiToken
from gateway.testing import STAFF_PASSWORD, GuichetClient

QUEUE = "/api/v1/communes/corbas/requests"


def _token(app: Starlette) -> tuple[int, str]:
    with app.state.db.session() as session:
        staff = staff_accounts.create(session, username="alix.agent", display_name="Alix Agent",
                                      email="alix.agent@guichet.example", password=STAFF_PASSWORD,
                                      grants=[staff_accounts.parse_grant("agent:corbas:contact")])  # fmt: skip
        row, secret = create_token(session, staff, name="tests", scopes=["agent"], lifetime=timedelta(days=1))
        assert row.id is not None
        return row.id, secret


def _last_used(app: Starlette, token_id: int) -> datetime | None:
    with app.state.db.read_session() as session:
        row = session.get(ApiToken, token_id)
        assert row is not None
        last = row.last_used_at
    return None if last is None else last.replace(tzinfo=UTC) if last.tzinfo is None else last.astimezone(UTC)


def _set_last_used(app: Starlette, token_id: int, moment: datetime) -> None:
    with app.state.db.session() as session:
        row = session.get(ApiToken, token_id)
        assert row is not None
        row.last_used_at = moment


async def _call(app: Starlette, secret: str) -> None:
    async with GuichetClient(app) as client:
        response = await client.get(QUEUE, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200, response.text


async def test_a_tokens_first_use_is_written(guichet_app: Starlette) -> None:
    token_id, secret = _token(guichet_app)
    await _call(guichet_app, secret)
    assert _last_used(guichet_app, token_id) is not None


async def test_a_use_within_the_minute_is_not_written_again(guichet_app: Starlette) -> None:
    token_id, secret = _token(guichet_app)
    recent = datetime.now(UTC) - LAST_USE_PRECISION / 2
    _set_last_used(guichet_app, token_id, recent)
    await _call(guichet_app, secret)
    last = _last_used(guichet_app, token_id)
    assert last is not None and last == recent


async def test_a_use_after_the_minute_is_written(guichet_app: Starlette) -> None:
    token_id, secret = _token(guichet_app)
    old = datetime.now(UTC) - 2 * LAST_USE_PRECISION
    _set_last_used(guichet_app, token_id, old)
    await _call(guichet_app, secret)
    last = _last_used(guichet_app, token_id)
    assert last is not None and last > old
