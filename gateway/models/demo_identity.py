"""Authorisation codes of the demo identity provider (demo deployments only).

Codes live in the database, not in process memory, so any gateway process can
redeem a code another issued, and a code redeemed once is refused after.

The table stays here with the core's, not in :mod:`gateway.demo`: migration
0003 creates it in every deployment's schema, demo or not, and the migrations
and the schema check (``SQLModel.metadata`` against the migrations) see the
tables that :mod:`gateway.models` registers; models, on floor 1, cannot import
the demo on floor 8.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel


class DemoAuthorizationCode(SQLModel, table=True):
    __tablename__ = "demo_authorization_code"

    #: SHA-256 of the code, hex: the code itself is never stored
    code_hash: str = Field(primary_key=True, max_length=64)
    client_id: str = Field(max_length=120)
    redirect_uri: str = Field(max_length=500)
    scope: str = Field(max_length=500)
    nonce: str | None = Field(default=None, max_length=200)
    acr: str | None = Field(default=None, max_length=40)
    code_challenge: str | None = Field(default=None, max_length=128)
    code_challenge_method: str | None = Field(default=None, max_length=10)
    person: str = Field(max_length=60)
    auth_time: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
