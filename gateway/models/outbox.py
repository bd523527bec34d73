"""The transactional outbox: messages written with the action that causes them, delivered later.

A message row is inserted in the same transaction as the action (an account
created, a request decided); a worker delivers committed rows over SMTP.
``claimed_until`` lets several workers share the queue without sending a
message twice; ``message_id`` is fixed at insertion so that, should a worker
die between the SMTP answer and the update, the receiving server sees the
same Message-ID again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Text
from sqlmodel import Field, SQLModel


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    #: what the message is for, e.g. "account.verify-email"; with dedupe_key, one message per cause
    kind: str = Field(max_length=60)
    dedupe_key: str = Field(max_length=120, unique=True)
    commune: str | None = Field(default=None, max_length=60, index=True)
    recipient: str = Field(max_length=254)
    locale: str = Field(default="fr", max_length=5)
    subject: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    message_id: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    claimed_until: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    claimed_by: str | None = Field(default=None, max_length=120)
    sent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True, index=True))
    failed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    last_error: str | None = Field(default=None, max_length=500)
