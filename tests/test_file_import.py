"""`guichet db upgrade` moves the attachment files an earlier release kept on disk into the database, once.

The database is made at migration 0011 (the last one before the files moved)
and the files are laid out as that release's AttachmentStore wrote them:
``<data_dir>/attachments/<first two characters>/<40 hex characters>``.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import MetaData, Table, insert

from gateway import stored_files
from gateway.cli import main
from gateway.db import Database
from gateway.models.files import CHUNK_BYTES
from gateway.testing import ConfigFolder
from gateway.testing.databases import (
    TEST_DATABASE_ENV,
    fresh_postgres_schema,
    postgres_server_url,
    skip_or_fail,
)

BEFORE_FILES_MOVED = "0011"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
#: larger than one chunk, so the move cuts it
LARGE = b"%PDF-1.4\n%" + b"x" * (CHUNK_BYTES + 100) + b"\ntrailer << >>\n%%EOF\n"


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database at the migration before the files moved (SQLite, or a fresh PostgreSQL schema)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'guichet.db'}"
        _migrate(url, BEFORE_FILES_MOVED)
        yield url
        return
    server = postgres_server_url()
    if server is None:
        skip_or_fail(f"PostgreSQL tests skipped: {TEST_DATABASE_ENV} is not set (CI sets it; see README)")
    with fresh_postgres_schema(server) as url:
        _migrate(url, BEFORE_FILES_MOVED)
        yield url


def _migrate(url: str, revision: str) -> None:
    database = Database(url)
    try:
        database.upgrade(revision)
    finally:
        database.dispose()


def _old_store_save(folder: Path, data: bytes) -> tuple[str, str]:
    """As the earlier release's AttachmentStore.save laid a file out: a random name in a two-character shard."""
    name = secrets.token_hex(20)
    (folder / name[:2]).mkdir(mode=0o700, parents=True, exist_ok=True)
    (folder / name[:2] / name).write_bytes(data)
    return name, hashlib.sha256(data).hexdigest()


def _file_request_with(url: str, attachments: list[tuple[str, str]]) -> None:
    """One request with these (storage name, sha256) attachments, written to the tables as they are at 0011."""
    database = Database(url)
    moment = datetime.now(UTC)
    try:
        with database.engine.begin() as connection:
            tables = MetaData()
            requests = Table("service_request", tables, autoload_with=connection)
            attached = Table("request_attachment", tables, autoload_with=connection)
            row = {"public_id": secrets.token_hex(8), "reference": "VIG-2026-1", "commune": "venissieux",
                   "service": "vignette", "status": "submitted", "locale": "fr", "data": {}, "form_version": 1,
                   "submission_key": "old", "awaiting_citizen": False, "version": 1, "created_at": moment}  # fmt: skip
            request_id = connection.execute(insert(requests).values(**row)).inserted_primary_key[0]
            for number, (name, digest) in enumerate(attachments):
                connection.execute(insert(attached).values(
                    public_id=secrets.token_hex(8), commune="venissieux", request_id=request_id, document="lease",
                    filename=f"bail-{number}.pdf", content_type="application/pdf", size=1, sha256=digest,
                    storage_name=name, uploaded_by="citizen", created_at=moment,
                ))  # fmt: skip
    finally:
        database.dispose()


def _upgrade(config: ConfigFolder) -> str:
    result = CliRunner().invoke(main, ["--config", str(config.path), "db", "upgrade"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _read(url: str, name: str, digest: str) -> bytes:
    database = Database(url)
    try:
        with database.read_session() as session:
            return stored_files.read(session, name, sha256=digest)
    finally:
        database.dispose()


def test_db_upgrade_moves_the_files_on_disk_into_the_database_and_says_how_many(
    old_database: str, guichet_config: ConfigFolder
) -> None:
    config = guichet_config
    config.set_gateway(database={"url": old_database})
    folder = config.data_dir / "attachments"
    small, large = _old_store_save(folder, PDF), _old_store_save(folder, LARGE)
    gone = (secrets.token_hex(20), hashlib.sha256(b"never written").hexdigest())
    stray, _ = _old_store_save(folder, b"no row points to me")
    _file_request_with(old_database, [small, large, gone])

    output = _upgrade(config)

    assert len(output.splitlines()) == 1 and output.startswith("database at migration ")
    assert "2 attachment file(s) moved into the database (0 of them not matching their upload digest)" in output
    assert "0 already there, 1 not found on this machine, 1 file(s) on disk no request points to" in output
    assert _read(old_database, *small) == PDF and _read(old_database, *large) == LARGE
    left = sorted(path.relative_to(folder) for path in folder.rglob("*") if path.is_file())
    assert left == [Path(stray[:2]) / stray]

    # a run interrupted after its commit, before the disk copy went, is finished by the next one
    interrupted = folder / small[0][:2] / small[0]
    interrupted.parent.mkdir(exist_ok=True)
    interrupted.write_bytes(PDF)
    again = _upgrade(config)
    assert "0 attachment file(s) moved into the database" in again and "2 already there" in again
    assert not interrupted.exists() and _read(old_database, *small) == PDF


def test_a_file_changed_on_disk_is_moved_as_it_is_and_never_served(
    old_database: str, guichet_config: ConfigFolder
) -> None:
    config = guichet_config
    config.set_gateway(database={"url": old_database})
    name, digest = _old_store_save(config.data_dir / "attachments", PDF)
    (config.data_dir / "attachments" / name[:2] / name).write_bytes(b"<html>swapped</html>")
    _file_request_with(old_database, [(name, digest)])
    assert "1 attachment file(s) moved into the database (1 of them not matching" in _upgrade(config)
    with pytest.raises(stored_files.FileCorrupted):
        _read(old_database, name, digest)


def test_files_import_on_a_fresh_deployment_moves_nothing(guichet_config: ConfigFolder, tmp_path: Path) -> None:
    guichet_config.set_gateway(database={"url": f"sqlite:///{tmp_path / 'fresh.db'}"})
    assert _upgrade(guichet_config).strip().startswith("database at migration ")
    assert "files import" not in _upgrade(guichet_config)
    result = CliRunner().invoke(main, ["--config", str(guichet_config.path), "files", "import"])
    assert result.exit_code == 0
    assert result.output == "files import: no attachments folder here, nothing to move\n"
    assert not (guichet_config.data_dir / "attachments").exists()


def test_files_export_writes_a_stored_file_out_and_refuses_a_bad_name(
    guichet_config: ConfigFolder, guichet_database_url: str, tmp_path: Path
) -> None:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    database = Database(guichet_database_url)
    try:
        with database.session() as session:
            name, _digest = stored_files.save(session, LARGE, kind="audit-archive")
    finally:
        database.dispose()
    out = tmp_path / "archive.json"
    command = ["--config", str(guichet_config.path), "files", "export"]
    result = CliRunner().invoke(main, [*command, f"stored-file:{name}", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == LARGE and f"{len(LARGE)} bytes written" in result.output
    for wrong, said in (("../etc/passwd", "is not the name of a stored file"), ("0" * 40, "is missing")):
        refused = CliRunner().invoke(main, [*command, wrong, str(tmp_path / "other")])
        assert refused.exit_code == 1 and said in refused.output and "Traceback" not in refused.output
        assert not (tmp_path / "other").exists()
