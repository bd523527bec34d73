"""Files kept in the database (gateway.stored_files), on SQLite and PostgreSQL: random names, chunks, checks."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select, update

from gateway import stored_files
from gateway.db import Database
from gateway.models import StoredFile, StoredFileChunk
from gateway.models.files import CHUNK_BYTES
from gateway.stored_files import FileCorrupted

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture
def db(guichet_database_url: str) -> Iterator[Database]:
    database = Database(guichet_database_url)
    yield database
    database.dispose()


def save(db: Database, data: bytes, kind: str = "attachment") -> tuple[str, str]:
    with db.session() as session:
        return stored_files.save(session, data, kind=kind)


def read(db: Database, name: str, sha256: str | None = None) -> bytes:
    with db.read_session() as session:
        return stored_files.read(session, name, sha256=sha256)


def chunk_sizes(db: Database, name: str) -> list[int]:
    with db.read_session() as session:
        chunks = session.exec(
            select(StoredFileChunk).where(StoredFileChunk.name == name).order_by(col(StoredFileChunk.number))
        ).all()
        return [len(chunk.data) for chunk in chunks]


def test_save_names_each_file_with_a_new_random_token_and_returns_its_digest(db: Database) -> None:
    first, digest = save(db, PDF)
    second, _ = save(db, PDF)
    assert re.fullmatch(r"[0-9a-f]{40}", first) and first != second
    assert digest == hashlib.sha256(PDF).hexdigest()
    assert read(db, first, digest) == read(db, second) == PDF


def test_a_large_file_is_cut_into_chunks_and_read_back_whole(db: Database) -> None:
    data = bytes(range(256)) * (5 * CHUNK_BYTES // 256) + b"tail"
    name, digest = save(db, data)
    assert chunk_sizes(db, name) == [CHUNK_BYTES] * 5 + [4]
    assert read(db, name, digest) == data
    with db.read_session() as session:
        assert b"".join(stored_files.chunks(session, name)) == data


def test_a_file_of_exactly_one_chunk_is_one_row(db: Database) -> None:
    name, _ = save(db, b"x" * CHUNK_BYTES)
    assert chunk_sizes(db, name) == [CHUNK_BYTES]


def test_pieces_cut_data_in_order_and_keep_one_piece_for_nothing() -> None:
    assert list(stored_files.pieces(b"abcdefg", 3)) == [b"abc", b"def", b"g"]
    assert list(stored_files.pieces(b"", 3)) == [b""]


def test_a_rolled_back_transaction_keeps_no_bytes(db: Database) -> None:
    with pytest.raises(RuntimeError, match="after the save"), db.session() as session:
        stored_files.save(session, PDF, kind="attachment")
        raise RuntimeError("something failed after the save")
    with db.read_session() as session:
        assert stored_files.names(session, "attachment") == []
        assert session.exec(select(StoredFileChunk)).all() == []


def test_read_refuses_bytes_changed_since_they_were_stored(db: Database) -> None:
    name, digest = save(db, PDF)
    with db.session() as session:
        session.execute(update(StoredFileChunk).where(col(StoredFileChunk.name) == name).values(data=b"<html>"))
    with pytest.raises(FileCorrupted) as corrupted:
        read(db, name, digest)
    assert corrupted.value.storage_name == name


def test_read_refuses_bytes_that_differ_from_the_referring_rows_digest(db: Database) -> None:
    name, _ = save(db, PDF)
    with pytest.raises(FileCorrupted):
        read(db, name, hashlib.sha256(b"other").hexdigest())


def test_read_of_a_missing_chunk_or_file_says_so(db: Database) -> None:
    name, digest = save(db, b"y" * (CHUNK_BYTES + 1))
    with db.session() as session:
        session.execute(delete(StoredFileChunk).where(col(StoredFileChunk.number) == 1))
    with pytest.raises(FileCorrupted):
        read(db, name, digest)
    with pytest.raises(FileCorrupted, match="missing"):
        read(db, "0" * 40)


@pytest.mark.parametrize(
    "name",
    ["../x", "../" + "a" * 40, "/etc/passwd", "", "A" * 40, "g" * 40, "a" * 39, "a" * 41, "a" * 39 + "\x00"],
)
def test_anything_but_a_storage_name_is_refused(db: Database, name: str) -> None:
    with db.session() as session:
        for attempt in (
            lambda: stored_files.read(session, name),
            lambda: stored_files.exists(session, name),
            lambda: stored_files.delete(session, [name]),
            lambda: stored_files.put(session, name, PDF, kind="attachment"),
        ):
            with pytest.raises(ValueError, match="not a storage name"):
                attempt()


def test_delete_removes_the_file_and_its_chunks_and_may_be_repeated(db: Database) -> None:
    name, _ = save(db, b"z" * (2 * CHUNK_BYTES))
    kept, _ = save(db, PDF)
    with db.session() as session:
        assert stored_files.delete(session, [name]) == 1
    with db.session() as session:
        assert stored_files.delete(session, [name]) == 0
        assert stored_files.delete(session, []) == 0
    with db.read_session() as session:
        assert not stored_files.exists(session, name) and stored_files.exists(session, kept)
        assert {chunk.name for chunk in session.exec(select(StoredFileChunk)).all()} == {kept}


def test_names_lists_the_files_of_one_kind(db: Database) -> None:
    attachments = sorted(save(db, data)[0] for data in (PDF, b"other"))
    save(db, b"{}", kind="audit-archive")
    with db.read_session() as session:
        assert stored_files.names(session, "attachment") == attachments
        assert len(stored_files.names(session, "audit-archive")) == 1


def test_put_keeps_the_given_name_and_refuses_it_twice(db: Database) -> None:
    name = "ab" * 20
    with db.session() as session:
        assert stored_files.put(session, name, PDF, kind="attachment") == hashlib.sha256(PDF).hexdigest()
    assert read(db, name) == PDF
    with pytest.raises(IntegrityError), db.session() as session:
        stored_files.put(session, name, PDF, kind="attachment")
    with db.read_session() as session:
        assert session.exec(select(StoredFile)).one().size == len(PDF)
