"""Files kept in the database: attachments and audit archives, so every machine of a deployment reaches them.

A stored file is one :class:`StoredFile` row (its random name, size and
SHA-256) and its bytes cut into :class:`StoredFileChunk` rows of at most
:data:`CHUNK_BYTES`: no single value the driver moves is large, and a file is
written and deleted in the transaction of the row that points to it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, LargeBinary, String
from sqlmodel import Field, SQLModel

from gateway.models.requests import utcnow

#: the largest piece of a file one row holds (1 MiB)
CHUNK_BYTES = 1024 * 1024


class StoredFile(SQLModel, table=True):
    """A file's identity: a random name (never chosen by a sender), its size and checksum, when it was written."""

    __tablename__ = "stored_file"

    name: str = Field(primary_key=True, max_length=40)
    #: what the file is for ("attachment", "audit-archive"), so a sweep only ever looks at its own kind
    kind: str = Field(max_length=20, index=True)
    size: int
    sha256: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class StoredFileChunk(SQLModel, table=True):
    """One piece of a stored file's bytes, in order of ``number`` from 0."""

    __tablename__ = "stored_file_chunk"

    name: str = Field(sa_column=Column(String(40), ForeignKey("stored_file.name"), primary_key=True))
    number: int = Field(primary_key=True)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
