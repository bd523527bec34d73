"""Counters of anonymous refusals: how many, from where, in which minute — kept outside the audit log.

Anyone can send a refused request; recording each in the audit log would let
anyone grow it at will. Each (kind, origin, minute) gets one row here, its
count raised on every refusal, and one audit entry when its first refusal
happens (:mod:`gateway.audit.refusals`). Rows can be pruned without touching
the log.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel


class RefusalCount(SQLModel, table=True):
    __tablename__ = "refusal_count"

    #: the audit action of the refusals counted, e.g. ``access.csrf-refused``
    kind: str = Field(primary_key=True, max_length=60)
    #: the audit origin, e.g. ``web 192.0.2.7`` (``web 2001:db8::/64`` for an IPv6 network)
    origin: str = Field(primary_key=True, max_length=200)
    #: the UTC minute the refusals fell in (seconds and below cut off)
    minute: datetime = Field(sa_column=Column(DateTime(timezone=True), primary_key=True))
    count: int = 0
