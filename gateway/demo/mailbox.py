"""The demo's letterbox: the outbox's messages shown as pages, so a demo needs no mail server.

A demo plugin: registered only when ``gateway.demo`` is true (and its
``guichet_routes`` still checks that, and that the gateway is on loopback), so
in any other deployment these addresses do not exist (404). The messages are shown as plain text: a link in a body is
text to copy, never a clickable link, and everything is escaped.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlmodel import col, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway import hookimpl
from gateway.db import Database
from gateway.deployment import DeploymentSettings
from gateway.models import OutboxMessage
from gateway.notify.delivery import as_utc
from gateway.notify.outbox import state_of
from gateway.services import Localized
from gateway.settings import is_loopback
from gateway.web.errors import PageError
from gateway.web.i18n import choose_locale
from gateway.web.numbers import INTEGER_MAX, integer_in
from gateway.web.templating import render

LISTED = 50
PARIS = ZoneInfo("Europe/Paris")
NO_SUCH_MESSAGE = Localized("Aucun message ne porte ce numéro.", "No message has this number.")


def _when(moment: datetime | None, locale: str) -> str:
    if moment is None:
        return ""
    pattern = "d MMMM y 'à' HH:mm" if locale == "fr" else "d MMMM y, HH:mm"
    return format_datetime(as_utc(moment), pattern, tzinfo=PARIS, locale=locale)


def _recent(db: Database) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(col(OutboxMessage.created_at).desc(), col(OutboxMessage.id).desc())
    with db.session() as session:
        return list(session.exec(query.limit(LISTED)))


def _one(db: Database, message_id: int) -> OutboxMessage | None:
    with db.session() as session:
        return session.get(OutboxMessage, message_id)


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


async def outbox_page(request: Request) -> Response:
    db: Database = request.app.state.db
    locale = choose_locale(request)
    messages = await db.run(_recent, db)
    rows = [
        {"message": message, "state": state_of(message), "date": _when(message.created_at, locale)}
        for message in messages
    ]
    return _private(render(request, "demo_outbox.html", {"rows": rows, "limit": LISTED}))


async def message_page(request: Request) -> Response:
    db: Database = request.app.state.db
    # a plain {id}: Starlette's int convertor takes any length of digits and int() fails past 4,300 of them
    number = integer_in(request.path_params["id"], 1, INTEGER_MAX)
    message = await db.run(_one, db, number) if number is not None else None
    if message is None:
        raise PageError(404, NO_SUCH_MESSAGE)
    locale = choose_locale(request)
    context = {
        "message": message,
        "state": state_of(message),
        "date": _when(message.created_at, locale),
        "sent": _when(message.sent_at, locale),
        "sender": request.app.state.registry.settings.smtp.sender,
    }
    return _private(render(request, "demo_outbox_message.html", context))


@hookimpl
def guichet_routes(settings: DeploymentSettings) -> list[BaseRoute]:
    # Every message is readable here, reset links included: a demo on loopback only, never a public one.
    if not (settings.demo and is_loopback(settings.public_base_url)):
        return []
    return [
        Route("/demo/courriels", outbox_page, name="demo_outbox"),
        Route("/demo/courriels/{id}", message_page, name="demo_outbox_message"),
    ]
