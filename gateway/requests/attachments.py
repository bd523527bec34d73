"""Documents citizens attach: checking, scanning, storing in the database and handing them back.

A file is judged by its content, never by its name or the type the browser
declares: a renamed HTML page is not a PDF. The name the citizen gave is only
ever shown (cleaned); a file is stored under a random token, so nothing a
citizen sends can choose where bytes land. The bytes live in the database
(:mod:`gateway.stored_files`), written in the transaction of the row that
records the attachment, and are read back only through :func:`read`, which
checks them against the digest taken at upload.
"""

from __future__ import annotations

import io
import logging
import math
import re
import unicodedata
import zipfile
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

from sqlmodel import Session

from gateway import stored_files
from gateway.models import Attachment
from gateway.plugins import HookFailed
from gateway.requests.errors import DocumentUnreadable
from gateway.services import MEGABYTE, DocumentSpec, Localized, ScanVerdict

if TYPE_CHECKING:
    from gateway.communes import Commune
    from gateway.plugins import HookRunner

logger = logging.getLogger(__name__)

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"

_TYPE_WORDS = {PDF: "PDF", JPEG: "JPEG", PNG: "PNG"}
#: the extensions a file of each type may keep; the first is the one it gets otherwise
_EXTENSIONS = {PDF: (".pdf",), JPEG: (".jpg", ".jpeg"), PNG: (".png",)}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: a PDF reader looks for the end marker near the end only; we do the same
_PDF_TAIL = 1024
FILENAME_MAX = 200
FALLBACK_FILENAME = "document"


class UploadRefused(Exception):
    """An uploaded file we do not keep, with the HTTP status and a reason the citizen understands."""

    def __init__(self, status: int, reason: Localized, *, finding: str | None = None) -> None:
        self.status = status
        self.reason = reason
        #: what an antivirus found, for the log and the agents (never shown as the reason)
        self.finding = finding
        super().__init__(reason.fr)


def sniff(data: bytes) -> str | None:
    """The content type read from the bytes themselves, or None for anything we do not accept.

    Besides the magic number, the file must look whole (an end marker, a first
    chunk), which turns away most files that merely borrow a header.
    """
    if data.startswith(b"%PDF-"):
        return PDF if b"%%EOF" in data[-_PDF_TAIL:] else None
    if data.startswith(_PNG_SIGNATURE):
        # the first chunk must be IHDR, 13 bytes long: length (4 bytes), then type
        return PNG if data[8:16] == b"\x00\x00\x00\x0dIHDR" else None
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG if data.rstrip(b"\x00").endswith(b"\xff\xd9") else None
    return None


def _keep(char: str) -> bool:
    # apostrophes are kept too: French names are full of them ("Attestation d'hébergement")
    return char in " .-_()'’" or unicodedata.category(char)[0] == "L" or unicodedata.category(char) == "Nd"


def _is_space(char: str) -> bool:
    """Tabs, line breaks and Unicode spaces separate words; other control characters are simply dropped."""
    return char in "\t\n\r" or unicodedata.category(char) in ("Zs", "Zl", "Zp")


def _split_extension(name: str) -> tuple[str, str]:
    """("scan", ".pdf") for "scan.pdf"; only a short alphanumeric suffix counts as an extension."""
    stem, dot, extension = name.rpartition(".")
    if dot and stem and 1 <= len(extension) <= 10 and extension.isalnum():
        return stem, "." + extension
    return name, ""


def clean_filename(name: str) -> str:
    """The citizen's file name made safe to show and to offer for download; never a path.

    Keeps the last path component (browsers on Windows send ``C:\\...``), drops
    control and formatting characters (a right-to-left override shows
    ``fdp.exe`` as ``exe.pdf``) and anything outside letters, digits and
    a few signs. The result is idempotent and at most 200 characters.
    """
    name = unicodedata.normalize("NFC", re.split(r"[/\\]", name)[-1])
    kept = "".join(" " if _is_space(char) else char for char in name if _is_space(char) or _keep(char))
    cleaned = unicodedata.normalize("NFC", " ".join(kept.split())).strip(". ")
    stem, extension = _split_extension(cleaned)
    cleaned = stem[: FILENAME_MAX - len(extension)].rstrip(". ") + extension  # "devis .pdf" -> "devis.pdf"
    return cleaned or FALLBACK_FILENAME


def shown_filename(name: str, content_type: str) -> str:
    """The cleaned name, with the extension of the type read from the content.

    A PNG sent as ``x.html`` is kept as ``x.png``: a name never claims a type
    the bytes are not, whoever later opens or forwards the file.
    """
    cleaned = clean_filename(name)
    stem, extension = _split_extension(cleaned)
    allowed = _EXTENSIONS[content_type]
    if extension.lower() in allowed:
        return cleaned
    return stem[: FILENAME_MAX - len(allowed[0])].rstrip(". ") + allowed[0]


def types_text(accept: Iterable[str]) -> Localized:
    """The accepted types in words: « PDF, JPEG ou PNG »."""
    words = [_TYPE_WORDS[content_type] for content_type in accept]
    if len(words) == 1:
        return Localized(words[0], words[0])
    head = ", ".join(words[:-1])
    return Localized(f"{head} ou {words[-1]}", f"{head} or {words[-1]}")


def size_text(size: int) -> Localized:
    """A limit in the unit a person reads, rounded down so a file under the shown limit always fits."""
    if size >= MEGABYTE:
        value = math.floor(size / MEGABYTE * 10) / 10
        number = f"{value:g}"
        return Localized(f"{number.replace('.', ',')} Mo", f"{number} MB")
    if size >= 1024:
        return Localized(f"{size // 1024} Ko", f"{size // 1024} KB")
    return Localized(f"{size} octets", f"{size} bytes")


def check_upload(spec: DocumentSpec, filename: str, data: bytes) -> str:
    """The content type of an upload for ``spec``, or :class:`UploadRefused` (422 empty, 413 too large, 415 type)."""
    types = types_text(spec.accept)
    types_fr, types_en = types.fr, types("en")
    if not data:
        if not filename.strip():
            raise UploadRefused(
                422,
                Localized(
                    f"Aucun fichier n'a été choisi : choisissez un document {types_fr}.",
                    f"No file was chosen: choose a {types_en} document.",
                ),
            )
        raise UploadRefused(
            422,
            Localized(
                f"Ce fichier est vide : choisissez à nouveau le document ({types_fr}).",
                f"This file is empty: choose the document again ({types_en}).",
            ),
        )
    if len(data) > spec.max_bytes:
        size = size_text(spec.max_bytes)
        size_fr, size_en = size.fr, size("en")
        raise UploadRefused(
            413,
            Localized(
                f"Ce fichier dépasse {size_fr} : envoyez un fichier plus petit ({types_fr}).",
                f"This file is larger than {size_en}: send a smaller file ({types_en}).",
            ),
        )
    content_type = sniff(data)
    if content_type is None or content_type not in spec.accept:
        raise UploadRefused(
            415,
            Localized(
                f"Ce type de fichier n'est pas accepté : envoyez un fichier {types_fr}.",
                f"This type of file is not accepted: send a {types_en} file.",
            ),
        )
    return content_type


SCANNER_UNAVAILABLE = Localized(
    "L'antivirus de la commune est momentanément indisponible : votre fichier n'a pas été enregistré, "
    "réessayez dans quelques minutes.",
    "The commune's antivirus is temporarily unavailable: your file was not saved, please try again in a few minutes.",
)
INFECTED = Localized(
    "Ce fichier a été refusé par l'antivirus de la commune : vérifiez-le ou envoyez un autre fichier.",
    "This file was refused by the commune's antivirus: check it or send another file.",
)


def scan(hooks: HookRunner, commune: Commune, filename: str, content_type: str, data: bytes) -> None:
    """Ask every antivirus plugin about a file; refuse it if one objects, or if one cannot answer (fail closed)."""
    try:
        results = hooks.all(
            "guichet_scan_attachment", commune=commune, filename=filename, content_type=content_type, data=data
        )
    except HookFailed as error:
        raise UploadRefused(503, SCANNER_UNAVAILABLE) from error
    for plugin, verdict in results:
        if not isinstance(verdict, ScanVerdict):
            logger.error("plugin %r answered guichet_scan_attachment with %r, not a ScanVerdict", plugin, verdict)
            raise UploadRefused(503, SCANNER_UNAVAILABLE)
        if not verdict.clean:
            logger.warning("plugin %r refused an upload for %s: %s", plugin, commune.slug, verdict.finding)
            raise UploadRefused(422, INFECTED, finding=verdict.finding)


#: the kind of stored file an attachment is (:mod:`gateway.stored_files`)
KIND = "attachment"
#: the bytes are gone or changed since the upload: never serve them
AttachmentCorrupted = stored_files.FileCorrupted


def save(session: Session, data: bytes) -> tuple[str, str]:
    """Store an attachment's bytes in ``session``'s transaction, under a new random name: (name, SHA-256).

    Written with the row that records the attachment, so a filing that fails
    keeps neither; call it only once the file was checked and scanned.
    """
    return stored_files.save(session, data, kind=KIND)


def read(session: Session, storage_name: str, *, sha256: str) -> bytes:
    """An attachment's bytes; :class:`DocumentUnreadable` (logged for the operators) if they are gone or changed
    since the upload, so a page or the API answers 503 with words rather than a server error."""
    try:
        return stored_files.read(session, storage_name, sha256=sha256)
    except AttachmentCorrupted as error:
        logger.error("attachment unreadable: %s", error)
        raise DocumentUnreadable from error


def copy_for(
    source: Session,
    target: Session,
    attachment: Attachment,
    *,
    commune: str,
    request_id: int,
    uploaded_by: str,
    created_at: datetime,
) -> Attachment:
    """A copy of ``attachment`` for another request, added to ``target``: its bytes read (checked against their
    digest) and stored again, so each request owns its files and each is deleted on its own schedule."""
    name, digest = save(target, read(source, attachment.storage_name, sha256=attachment.sha256))
    copy = Attachment(
        commune=commune,
        request_id=request_id,
        document=attachment.document,
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=attachment.size,
        sha256=digest,
        storage_name=name,
        uploaded_by=uploaded_by,
        created_at=created_at,
    )
    target.add(copy)
    return copy


def delete(session: Session, storage_names: Collection[str]) -> int:
    """Delete attachments' bytes with the rows that pointed to them (already gone is fine)."""
    return stored_files.delete(session, storage_names)


def stored_names(session: Session) -> list[str]:
    """The names of every attachment's stored bytes, for the sweep that finds those no row points to."""
    return stored_files.names(session, KIND)


def zip_archive(entries: Iterable[tuple[str, bytes]]) -> bytes:
    """One ZIP of (display name, bytes) pairs; repeated names become "x (2).pdf" (case-insensitively)."""
    buffer = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for filename, data in entries:
            name = clean_filename(filename)  # never a path inside the archive either
            stem, extension = _split_extension(name)
            candidate, number = name, 2
            while candidate.casefold() in used:
                candidate = f"{stem} ({number}){extension}"
                number += 1
            used.add(candidate.casefold())
            archive.writestr(candidate, data)
    return buffer.getvalue()


def _ascii(text: str) -> str:
    """The ASCII letters left once accents are taken off, minus what a quoted header value cannot hold."""
    decomposed = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(re.sub(r'["\\\x00-\x1f\x7f]', "", decomposed).split())


def content_disposition(filename: str) -> str:
    """A ``Content-Disposition`` download header: an ASCII name for old clients, the UTF-8 one (RFC 6266/5987)."""
    name = clean_filename(filename)
    stem, extension = _split_extension(name)
    ascii_stem, ascii_extension = _ascii(stem).strip(". "), _ascii(extension)
    if ascii_extension != extension:
        ascii_extension = ""
    fallback = (ascii_stem or FALLBACK_FILENAME) + ascii_extension
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
