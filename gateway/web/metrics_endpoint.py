"""``GET /metrics``: the Prometheus exposition, for a scraper holding the bearer token, never cached.

No token configured (``[metrics]`` of gateway.toml names an environment
variable or a file): the path answers 404 as if it did not exist. A token
configured: a request without it, or with another one, gets 401 (compared in
constant time). The figures that need the database — the outbox's depth and
its oldest pending message, the audit log's size and its last checkpoint — are
read at scrape time, at most once per ``database_cache_seconds`` per process,
so a scraper polling several workers costs the database one short query each.
"""

from __future__ import annotations

import hmac
import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from gateway.db import Database
from gateway.models import AuditCheckpoint, AuditHead, OutboxMessage
from gateway.observability import metrics

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatabaseFigures:
    outbox_pending: int
    outbox_oldest_pending: datetime | None
    outbox_failed: int
    audit_entries: int
    checkpoint_size: int | None
    checkpoint_at: datetime | None


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def read_figures(session: Session) -> DatabaseFigures:
    """Four short queries on indexed or one-row tables."""
    pending = (col(OutboxMessage.sent_at).is_(None)) & (col(OutboxMessage.failed_at).is_(None))
    count, oldest = session.exec(select(func.count(), func.min(OutboxMessage.created_at)).where(pending)).one()
    failed = session.exec(select(func.count()).where(col(OutboxMessage.failed_at).is_not(None))).one()
    head = session.get(AuditHead, 1)
    checkpoint = session.exec(select(AuditCheckpoint).order_by(col(AuditCheckpoint.size).desc()).limit(1)).first()
    return DatabaseFigures(
        outbox_pending=int(count),
        outbox_oldest_pending=_aware(oldest),
        outbox_failed=int(failed),
        audit_entries=head.size if head is not None else 0,
        checkpoint_size=checkpoint.size if checkpoint is not None else None,
        checkpoint_at=_aware(checkpoint.created_at) if checkpoint is not None else None,
    )


class FiguresCollector(Collector):
    """The database figures as gauges (None: the database did not answer, ``guichet_database_up`` says 0)."""

    def __init__(self, figures: DatabaseFigures | None) -> None:
        self.figures = figures

    def collect(self) -> Iterator[GaugeMetricFamily]:
        figures = self.figures
        yield GaugeMetricFamily("guichet_database_up", "1 when the scrape's database query answered.",
                                value=0 if figures is None else 1)  # fmt: skip
        if figures is None:
            return
        now = datetime.now(UTC)

        def age(moment: datetime | None) -> float:
            return max(0.0, (now - moment).total_seconds()) if moment is not None else math.nan

        gauges = [
            ("guichet_outbox_pending_messages", "Messages waiting to be sent (not sent, not given up).",
             figures.outbox_pending),
            ("guichet_outbox_oldest_pending_age_seconds", "Age of the oldest message waiting (NaN: none waits).",
             age(figures.outbox_oldest_pending)),
            ("guichet_outbox_failed_messages", "Messages given up after their last attempt.", figures.outbox_failed),
            ("guichet_audit_entries", "Entries in the audit log (its tree size).", figures.audit_entries),
            ("guichet_audit_unsealed_entries", "Entries no checkpoint seals yet.",
             figures.audit_entries - (figures.checkpoint_size or 0)),
            ("guichet_audit_last_checkpoint_age_seconds", "Age of the newest checkpoint (NaN: none yet).",
             age(figures.checkpoint_at)),
        ]  # fmt: skip
        for name, documentation, value in gauges:
            yield GaugeMetricFamily(name, documentation, value=value)


class CachedFigures:
    """The database figures, read again once they are older than ``seconds``."""

    def __init__(self, db: Database, seconds: float) -> None:
        self.db = db
        self.seconds = seconds
        self._read_at = -math.inf
        self._figures: DatabaseFigures | None = None

    def _read(self) -> DatabaseFigures:
        with self.db.read_session(all_communes=True) as session:
            return read_figures(session)

    async def current(self) -> DatabaseFigures | None:
        if time.monotonic() - self._read_at >= self.seconds:
            try:
                self._figures = await self.db.run(self._read)
            except Exception as error:  # an unreachable or locked database: say so in the scrape, not with a 500
                logger.warning("metrics: the database figures could not be read: %s", type(error).__name__)
                self._figures = None
            self._read_at = time.monotonic()
        return self._figures


def _authorised(request: Request, token: bytes) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token)


async def metrics_endpoint(request: Request) -> Response:
    token: bytes | None = request.app.state.registry.settings.metrics_token
    if token is None:
        raise HTTPException(404)
    if not _authorised(request, token):
        return PlainTextResponse(
            "A bearer token is needed.\n",
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"', "Cache-Control": "no-store"},
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FiguresCollector(await request.app.state.metrics_figures.current()))
    body = await anyio.to_thread.run_sync(metrics.exposition, registry)  # a multiprocess scrape reads files
    return Response(body, media_type=metrics.CONTENT_TYPE, headers={"Cache-Control": "no-store"})


def route() -> Route:
    return Route("/metrics", metrics_endpoint, methods=["GET"], name="metrics", include_in_schema=False)
