"""Files kept in the database, read and written in the caller's transaction.

Every machine of a deployment reaches the same files because they live where
the requests do: a file written with the row that points to it commits with
it or not at all (a failed filing leaves no orphan), is deleted with it, and
is in the database's backups. A name is a random token, never anything a
sender chose; a read checks the bytes against the size and SHA-256 recorded
when they were written. The bytes are cut into chunks of at most
:data:`~gateway.models.files.CHUNK_BYTES`, so no single value a driver moves
is larger than that. There is nothing to configure and no object to build:
the session is the handle.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
from collections.abc import Collection, Iterator
from datetime import datetime

from sqlalchemy import delete as delete_rows
from sqlalchemy import insert
from sqlmodel import Session, col, select

from gateway.models.files import CHUNK_BYTES, StoredFile, StoredFileChunk
from gateway.models.requests import utcnow

_NAME = re.compile(r"[0-9a-f]{40}")


class FileCorrupted(Exception):
    """The stored bytes are gone or no longer match what was recorded when they were written: never serve them."""

    def __init__(self, storage_name: str, fault: str = "changed since it was stored") -> None:
        self.storage_name = storage_name
        super().__init__(f"stored file {storage_name} {fault}")


def check_name(storage_name: object) -> str:
    """A storage name, or ValueError: only 40 lowercase hex characters are ever names."""
    if not isinstance(storage_name, str) or not _NAME.fullmatch(storage_name):
        raise ValueError(f"not a storage name: {storage_name!r}")
    return storage_name


def pieces(data: bytes, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """``data`` cut in order into pieces of at most ``size`` bytes (one empty piece for empty data)."""
    view = memoryview(data)
    for start in range(0, max(len(data), 1), size):
        yield bytes(view[start : start + size])


def save(session: Session, data: bytes, *, kind: str, created_at: datetime | None = None) -> tuple[str, str]:
    """Write ``data`` under a new random name in ``session``'s transaction; returns (name, SHA-256 hex digest)."""
    name = secrets.token_hex(20)
    return name, put(session, name, data, kind=kind, created_at=created_at)


def put(session: Session, storage_name: str, data: bytes, *, kind: str, created_at: datetime | None = None) -> str:
    """Write ``data`` under a name already given (files moved in from a disk); returns the SHA-256 hex digest."""
    name, digest = check_name(storage_name), hashlib.sha256(data).hexdigest()
    file_row = {"name": name, "kind": kind, "size": len(data), "sha256": digest, "created_at": created_at or utcnow()}
    session.execute(insert(StoredFile.__table__).values(**file_row))  # type: ignore[attr-defined]
    for number, piece in enumerate(pieces(data)):
        # one statement per piece: a driver's executemany would hold every piece's parameters at once
        chunk = {"name": name, "number": number, "data": piece}
        session.execute(insert(StoredFileChunk.__table__).values(**chunk))  # type: ignore[attr-defined]
    return digest


def chunks(session: Session, storage_name: str) -> Iterator[bytes]:
    """The stored bytes piece by piece, in order (unchecked: :func:`read` checks them)."""
    check_name(storage_name)
    query = (
        select(StoredFileChunk.data)
        .where(StoredFileChunk.name == storage_name)
        .order_by(col(StoredFileChunk.number))
        .execution_options(yield_per=1)
    )
    yield from session.exec(query)


def read(session: Session, storage_name: str, *, sha256: str | None = None) -> bytes:
    """The stored bytes, checked against the recorded size and digest (and ``sha256``, the referring row's)."""
    stored = session.get(StoredFile, check_name(storage_name))
    if stored is None:
        raise FileCorrupted(storage_name, "is missing")
    # piece by piece into one buffer (its value is handed over, not copied): about one file's size in memory
    buffer, digest_of = io.BytesIO(), hashlib.sha256()
    for piece in chunks(session, storage_name):
        buffer.write(piece)
        digest_of.update(piece)
    data, digest = buffer.getvalue(), digest_of.hexdigest()
    if len(data) != stored.size or digest != stored.sha256 or (sha256 is not None and digest != sha256.lower()):
        raise FileCorrupted(storage_name)
    return data


def exists(session: Session, storage_name: str) -> bool:
    return session.get(StoredFile, check_name(storage_name)) is not None


def delete(session: Session, storage_names: Collection[str]) -> int:
    """Delete these files in ``session``'s transaction; returns how many there were (already gone is fine)."""
    names = [check_name(name) for name in storage_names]
    if not names:
        return 0
    session.execute(delete_rows(StoredFileChunk).where(col(StoredFileChunk.name).in_(names)))
    result = session.execute(delete_rows(StoredFile).where(col(StoredFile.name).in_(names)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def names(session: Session, kind: str, *, written_before: datetime | None = None) -> list[str]:
    """The names of every stored file of ``kind`` (written before a moment, when given), in name order."""
    query = select(StoredFile.name).where(StoredFile.kind == kind)
    if written_before is not None:
        query = query.where(col(StoredFile.created_at) < written_before)
    return list(session.exec(query.order_by(col(StoredFile.name))))
