"""The audit log's tables, kept apart from the data they describe.

``audit_entry``, ``audit_checkpoint``, ``audit_prune``, ``audit_tile`` and ``audit_cosignature`` are
append-only for the application (guarded in the database, see migration 0006):
rows are inserted and never updated; only retention deletes a sealed prefix,
through one privileged path. ``audit_head`` is updated by every append and
checked by ``guichet audit verify``. ``encoded`` holds the exact bytes that
are hashed into the Merkle tree; the other columns repeat its fields so
auditors can search them, and verification checks that they still agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Integer, LargeBinary, String, Text
from sqlmodel import Field, SQLModel


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"

    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    time: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    commune: str | None = Field(default=None, max_length=60, index=True)
    service: str | None = Field(default=None, max_length=60)
    actor_id: str = Field(max_length=120, index=True)
    actor_role: str = Field(max_length=30)
    action: str = Field(max_length=60, index=True)
    resource: str = Field(max_length=200)
    subject: str | None = Field(default=None, max_length=64, index=True)
    purpose: str = Field(max_length=200)
    origin: str = Field(max_length=200)
    outcome: str = Field(max_length=10)
    encoded: str = Field(sa_column=Column(Text, nullable=False))
    leaf_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    root_after: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class AuditHead(SQLModel, table=True):
    """The log's current size and Merkle frontier (one row, id 1): appends extend it in O(log n)."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    size: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    frontier: dict[str, Any] = Field(
        default_factory=lambda: {"size": 0, "hashes": []}, sa_column=Column(JSON, nullable=False)
    )


class AuditCheckpoint(SQLModel, table=True):
    """A signed tree head in the transparency-log note format."""

    __tablename__ = "audit_checkpoint"

    size: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    root_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class AuditPrune(SQLModel, table=True):
    """Where retention cut the log: entries below ``size`` are gone, ``frontier`` stands for them.

    ``note`` is the gateway's signed statement of the cut (origin, size, the
    frontier's root, the archive's SHA-256): without it a prune row is only a
    claim of whoever could write the database.
    """

    __tablename__ = "audit_prune"

    size: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    frontier: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    archive: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    archive_sha256: str | None = Field(default=None, max_length=64)


class AuditTile(SQLModel, table=True):
    """A full tile of the Merkle tree (C2SP tlog-tiles layout): 256 hashes of one tree level.

    Tile (level L, index N) holds the hashes at tree height 8·L of the nodes
    256·N to 256·N+255 (level 0: the leaf hashes); ``root`` is the hash of the
    subtree those 256 nodes make, which is one hash of the tile above. Written
    in the append's transaction as each tile fills, so a proof reads a handful
    of rows instead of every leaf.
    """

    __tablename__ = "audit_tile"

    level: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    idx: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hashes: bytes = Field(sa_column=Column(LargeBinary(8192), nullable=False))
    root: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class AuditRetentionWindow(SQLModel, table=True):
    """On SQLite, which has no roles, a row here lets retention's own transaction delete a pruned prefix.

    Retention inserts it and removes it in the same transaction (see
    :mod:`gateway.audit.guard`); it is never committed. PostgreSQL prunes
    through a SECURITY DEFINER function instead and leaves this table empty.
    """

    __tablename__ = "audit_retention_window"

    opened_by: str = Field(primary_key=True, max_length=40)


class AuditCosignature(SQLModel, table=True):
    """A witness's cosignature of one of our checkpoints (C2SP tlog-cosignature), checked before it is stored.

    ``line`` is the note signature line the witness answered with; appended to
    the checkpoint's note it makes the witnessed checkpoint anyone can check
    with the witness's key. ``cosigned_at`` is the time inside the cosignature.
    Append-only like the other audit tables (migration 0009).
    """

    __tablename__ = "audit_cosignature"

    size: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    witness: str = Field(sa_column=Column(String(200), primary_key=True))
    line: str = Field(sa_column=Column(Text, nullable=False))
    cosigned_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
