"""Moving attachments an earlier release wrote to the data folder into the database.

Earlier releases kept each attachment's bytes in ``<data_dir>/attachments/<ab>/<name>``,
reachable from one machine only. ``guichet files import`` (run by ``guichet db
upgrade``) moves every file a row points to into :mod:`gateway.stored_files`
under the same name, one transaction per file, and removes the disk copy once
that transaction committed. It is idempotent: a file already in the database
is not written again (its disk copy, left by an interrupted run, is removed),
so running it twice, or on two machines at once, is safe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from gateway import stored_files
from gateway.db import Database
from gateway.models import Attachment
from gateway.requests.attachments import KIND

#: where earlier releases kept the files, under the data folder
LEGACY_FOLDER = "attachments"
_NAME = re.compile(r"[0-9a-f]{40}")


@dataclass
class ImportReport:
    imported: int = 0
    already_stored: int = 0
    #: imported, but the bytes differ from the digest taken at upload: they are kept, and never served
    changed: int = 0
    #: rows whose bytes are neither in the database nor on this machine's disk
    missing: int = 0
    #: files on disk no row points to: left where they are, for a person to look at
    unreferenced: int = 0

    def __str__(self) -> str:
        return (
            f"files import: {self.imported} attachment file(s) moved into the database "
            f"({self.changed} of them not matching their upload digest), {self.already_stored} already there, "
            f"{self.missing} not found on this machine, {self.unreferenced} file(s) on disk no request points to"
        )


def legacy_folder(data_dir: Path) -> Path:
    return data_dir / LEGACY_FOLDER


def _on_disk(folder: Path) -> set[str]:
    """The storage names of the files under ``folder`` (an earlier release's interrupted saves left out)."""
    if not folder.is_dir():
        return set()
    return {
        entry.name
        for shard in folder.iterdir()
        if shard.is_dir()
        for entry in shard.iterdir()
        if _NAME.fullmatch(entry.name) and entry.name[:2] == shard.name and entry.is_file()
    }


def import_attachments(db: Database, folder: Path) -> ImportReport:
    """Move every attachment file under ``folder`` that a row points to into the database; see the module."""
    report = ImportReport()
    with db.read_session(all_communes=True) as session:
        rows = session.exec(
            select(Attachment.storage_name, Attachment.sha256, Attachment.created_at).order_by(col(Attachment.id))
        ).all()
    on_disk = _on_disk(folder)
    for name, sha256, created_at in rows:
        path = folder / name[:2] / name
        try:
            with db.session() as session:
                if stored_files.exists(session, name):
                    report.already_stored += 1
                elif name in on_disk:
                    digest = stored_files.put(session, name, path.read_bytes(), kind=KIND, created_at=created_at)
                    report.imported += 1
                    report.changed += digest != sha256.lower()
                else:
                    report.missing += 1
        except IntegrityError:  # another machine moved it meanwhile
            report.already_stored += 1
        path.unlink(missing_ok=True)
    report.unreferenced = len(on_disk - {name for name, _sha256, _created_at in rows})
    _remove_empty(folder)
    return report


def _remove_empty(folder: Path) -> None:
    """Take away the shard folders, and the folder itself, once nothing is left in them."""
    if not folder.is_dir():
        return
    for shard in folder.iterdir():
        if shard.is_dir() and not any(shard.iterdir()):
            shard.rmdir()
    if not any(folder.iterdir()):
        folder.rmdir()
