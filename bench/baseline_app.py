"""The bare baseline the HTTP benchmark measures Guichet against: the simplest thing that could store a request.

A Starlette app, served by uvicorn like the gateway, with two endpoints:

- ``POST /file``: one SQLModel insert of the JSON body's ``data`` into a table
  shaped like ``service_request`` (the same columns a filing fills), in its own
  transaction, answering 201 with the new row's reference;
- ``GET /read/{id}``: one row read by primary key, answered as JSON.

No validation, tenancy, reference counter, history, outbox or audit: what
Guichet adds on top of this is exactly what the ratio measures. The table
lives in its own SQLModel registry so it never joins Guichet's metadata (and
its migrations). The database comes from ``BENCH_BASELINE_DATABASE_URL``; on
SQLite the engine uses the same pragmas as Guichet's (WAL, synchronous=NORMAL,
a busy timeout) but the driver's ordinary deferred transactions.

Serve with ``uvicorn bench.baseline_app:create_app --factory``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import registry
from sqlmodel import Field, Session, SQLModel, create_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DATABASE_ENV = "BENCH_BASELINE_DATABASE_URL"


class BareBase(SQLModel, registry=registry()):
    """Tables of the baseline only (a metadata of their own)."""


class BareRequest(BareBase, table=True):
    """The columns a filing fills in ``service_request``, with the same types and lengths."""

    __tablename__ = "bare_request"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(default_factory=lambda: secrets.token_urlsafe(16), max_length=32, unique=True)
    reference: str | None = Field(default=None, max_length=40)
    commune: str = Field(max_length=60, index=True)
    service: str = Field(max_length=60, index=True)
    status: str = Field(default="submitted", max_length=30)
    locale: str = Field(default="fr", max_length=5)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    submission_key: str = Field(max_length=64)
    created_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC), sa_column=Column(DateTime(timezone=True), nullable=False)
    )


def bare_engine(url: str) -> Engine:
    """An engine with the driver's defaults; on SQLite, Guichet's pragmas (so storage settings are not compared)."""
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def create_tables(url: str) -> None:
    engine = bare_engine(url)
    try:
        BareBase.metadata.create_all(engine)
    finally:
        engine.dispose()


def create_app() -> Starlette:
    engine = bare_engine(os.environ[DATABASE_ENV])

    def file(request: Request, data: dict[str, Any]) -> Response:
        row = BareRequest(
            commune="venissieux",
            service="contact",
            data=data,
            submission_key=request.headers.get("idempotency-key") or secrets.token_urlsafe(24),
        )
        with Session(engine, expire_on_commit=False) as session:
            session.add(row)
            session.commit()
        return JSONResponse({"id": row.id, "public_id": row.public_id}, status_code=201)

    async def file_endpoint(request: Request) -> Response:
        body = await request.json()
        return await _in_thread(file, request, body["data"])

    def read(row_id: int) -> Response:
        with Session(engine) as session:
            row = session.get(BareRequest, row_id)
            if row is None:
                return JSONResponse({"detail": "no such row"}, status_code=404)
            return JSONResponse(row.model_dump(mode="json"))

    async def read_endpoint(request: Request) -> Response:
        return await _in_thread(read, int(request.path_params["row_id"]))

    return Starlette(
        routes=[
            Route("/file", file_endpoint, methods=["POST"]),
            Route("/read/{row_id:int}", read_endpoint, methods=["GET"]),
        ],
        lifespan=lambda _app: _disposing(engine),
    )


@contextlib.asynccontextmanager
async def _disposing(engine: Engine) -> AsyncIterator[None]:
    yield
    engine.dispose()


async def _in_thread(function: Any, *args: Any) -> Response:
    """Blocking database work off the event loop, as the gateway does (``Database.run``)."""
    import anyio.to_thread

    response: Response = await anyio.to_thread.run_sync(function, *args)
    return response
