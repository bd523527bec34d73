"""Attachments: judged by content, names cleaned for display only (storage: tests/test_stored_files.py)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from urllib.parse import unquote

import pytest

from gateway.communes import Commune
from gateway.plugins import HookRunner, get_plugin_manager
from gateway.requests.attachments import (
    UploadRefused,
    check_upload,
    clean_filename,
    content_disposition,
    scan,
    sniff,
    zip_archive,
)
from gateway.services import MEGABYTE, DocumentSpec, Localized
from tests.plugins import antivirus

# --- real, small files -------------------------------------------------------------------------------------------


def pdf(padding: int = 0) -> bytes:
    """A minimal PDF; ``padding`` bytes of comment make it as large as a test needs."""
    return b"%PDF-1.4\n%" + b"x" * padding + b"\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def pdf_of_size(size: int) -> bytes:
    data = pdf(size - len(pdf()))
    assert len(data) == size
    return data


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png() -> bytes:
    """A 1x1 grey PNG."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + _chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    """Start of image, a JFIF APP0 segment, end of image."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xd9"


HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SPEC = DocumentSpec("justificatif", Localized("Justificatif", "Proof"))


# --- sniffing ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [(pdf(), "application/pdf"), (png(), "image/png"), (jpeg(), "image/jpeg")],
    ids=["pdf", "png", "jpeg"],
)
def test_sniff_recognises_real_files(data: bytes, expected: str) -> None:
    assert sniff(data) == expected


def test_sniff_accepts_jpeg_padded_with_zeros_after_its_end() -> None:
    assert sniff(jpeg() + b"\x00" * 16) == "image/jpeg"


@pytest.mark.parametrize(
    "data",
    [
        HTML,
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 56,
        b"PK\x03\x04" + b"\x00" * 26,
        b"GIF89a\x01\x00\x01\x00",
        b"",
    ],
    ids=["html", "svg", "exe", "zip", "gif", "empty"],
)
def test_sniff_refuses_other_formats(data: bytes) -> None:
    assert sniff(data) is None


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n" + HTML,
        pdf() + b"PK\x03\x04" + b"\x00" * 2000,
        b"\x89PNG\r\n\x1a\n" + HTML,
        b"\xff\xd8\xff\xe0" + HTML,
        jpeg() + HTML,
    ],
    ids=[
        "pdf-header-on-html",
        "pdf-with-archive-appended",
        "png-signature-on-html",
        "jpeg-start-on-html",
        "jpeg-then-html",
    ],
)
def test_sniff_refuses_files_that_only_borrow_a_header(data: bytes) -> None:
    assert sniff(data) is None


# --- checking an upload ------------------------------------------------------------------------------------------


def test_check_upload_returns_the_type_from_the_content_not_the_name() -> None:
    assert check_upload(SPEC, "photo.png", pdf()) == "application/pdf"


def test_html_renamed_as_pdf_is_refused_as_unsupported_type() -> None:
    with pytest.raises(UploadRefused) as refused:
        check_upload(SPEC, "attestation.pdf", HTML)
    assert refused.value.status == 415
    assert refused.value.reason("fr") == "Ce type de fichier n'est pas accepté : envoyez un fichier PDF, JPEG ou PNG."
    assert refused.value.reason("en") == "This type of file is not accepted: send a PDF, JPEG or PNG file."


def test_type_outside_the_document_spec_is_refused_and_the_message_names_only_accepted_types() -> None:
    photos = DocumentSpec("photo", Localized("Photo"), accept=("image/jpeg", "image/png"))
    with pytest.raises(UploadRefused) as refused:
        check_upload(photos, "photo.pdf", pdf())
    assert refused.value.status == 415
    assert "JPEG ou PNG" in refused.value.reason("fr")
    assert "PDF" not in refused.value.reason("fr")


def test_file_of_exactly_the_limit_is_accepted() -> None:
    spec = DocumentSpec("small", Localized("Petit"), max_bytes=2048)
    assert check_upload(spec, "x.pdf", pdf_of_size(2048)) == "application/pdf"


def test_file_one_byte_over_the_limit_is_refused_as_too_large() -> None:
    spec = DocumentSpec("small", Localized("Petit"), max_bytes=2048)
    with pytest.raises(UploadRefused) as refused:
        check_upload(spec, "x.pdf", pdf_of_size(2049))
    assert refused.value.status == 413


def test_too_large_message_names_the_limit_in_megabytes_and_the_accepted_types() -> None:
    with pytest.raises(UploadRefused) as refused:
        check_upload(SPEC, "scan.pdf", pdf_of_size(5 * MEGABYTE + 1))
    assert refused.value.reason("fr") == "Ce fichier dépasse 5 Mo : envoyez un fichier plus petit (PDF, JPEG ou PNG)."
    assert refused.value.reason("en") == "This file is larger than 5 MB: send a smaller file (PDF, JPEG or PNG)."


def test_too_large_message_rounds_the_limit_down_with_a_french_decimal_comma() -> None:
    spec = DocumentSpec("scan", Localized("Scan"), max_bytes=2 * MEGABYTE + MEGABYTE // 2 + 1000)
    with pytest.raises(UploadRefused) as refused:
        check_upload(spec, "scan.pdf", pdf_of_size(spec.max_bytes + 1))
    assert "2,5 Mo" in refused.value.reason("fr")
    assert "2.5 MB" in refused.value.reason("en")


def test_empty_file_is_refused_as_unprocessable() -> None:
    with pytest.raises(UploadRefused) as refused:
        check_upload(SPEC, "scan.pdf", b"")
    assert refused.value.status == 422
    assert "vide" in refused.value.reason("fr")


def test_no_file_chosen_is_refused_with_its_own_message() -> None:
    with pytest.raises(UploadRefused) as refused:
        check_upload(SPEC, "", b"")
    assert refused.value.status == 422
    assert refused.value.reason("fr").startswith("Aucun fichier n'a été choisi")


# --- file names --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\x\\y.pdf", "y.pdf"),
        ("/var/www/../index.pdf", "index.pdf"),
        ("a\x00b\x1fc\x7f\x85\x0b.pdf", "abc.pdf"),
        ("facture\u202efdp.exe", "facturefdp.exe"),
        ("mon \t\n  fichier.pdf", "mon fichier.pdf"),
        (".htaccess", "htaccess"),
        ("<script>alert(1)</script>.pdf", "script.pdf"),
        ('le "devis" ; 50% * ?.pdf', "le devis 50.pdf"),
        ("Pièce d'identité (recto) - 2_3.pdf", "Pièce d'identité (recto) - 2_3.pdf"),
    ],
    ids=[
        "traversal",
        "windows-path",
        "absolute-path",
        "control-characters",
        "right-to-left-override",
        "whitespace",
        "leading-dot",
        "markup",
        "punctuation",
        "accents-kept",
    ],
)
def test_clean_filename(given: str, expected: str) -> None:
    assert clean_filename(given) == expected


def test_clean_filename_composes_decomposed_accents() -> None:
    assert clean_filename("re\u0301sume\u0301.pdf") == "résumé.pdf"


@pytest.mark.parametrize("given", ["", "...", "dossier/", "<>:*?|", "\u202e\u200b"])
def test_clean_filename_falls_back_to_document_when_nothing_is_left(given: str) -> None:
    assert clean_filename(given) == "document"


def test_clean_filename_cuts_long_names_to_200_characters_keeping_the_extension() -> None:
    cleaned = clean_filename("é" * 500 + ".pdf")
    assert len(cleaned) == 200
    assert cleaned == "é" * 196 + ".pdf"


@pytest.mark.parametrize(
    "given", ["a" * 300 + ".pdf", "x" * 250, "C:\\x\\ .. y.pdf", "\u1100\u200b\u1161.png", "le  (devis) .pdf."]
)
def test_clean_filename_is_idempotent(given: str) -> None:
    once = clean_filename(given)
    assert clean_filename(once) == once


# --- scanning ----------------------------------------------------------------------------------------------------


def commune(slug: str = "venissieux") -> Commune:
    return Commune(
        slug=slug,
        name=slug.capitalize(),
        insee="69259",
        department="69",
        seat=False,
        street="Place Léon Sublet",
        postcode="69200",
        city=slug.capitalize(),
        email="mairie@example.org",
        phone="04 00 00 00 00",
        opening_hours=None,
    )


def hooks(*plugins: tuple[str, object]) -> HookRunner:
    return HookRunner(get_plugin_manager(extra_plugins=plugins))


ANTIVIRUS = ("antivirus", antivirus)


def test_clean_file_passes_the_scan() -> None:
    scan(hooks(ANTIVIRUS), commune(), "scan.pdf", "application/pdf", pdf())


def test_eicar_test_file_is_refused_by_the_antivirus() -> None:
    with pytest.raises(UploadRefused) as refused:
        scan(hooks(ANTIVIRUS), commune(), "scan.pdf", "application/pdf", pdf() + antivirus.EICAR)
    assert refused.value.status == 422
    assert refused.value.reason("fr").startswith("Ce fichier a été refusé par l'antivirus de la commune")
    assert refused.value.finding == "Eicar-Test-Signature"


def test_a_scanner_that_does_not_scan_this_commune_is_ignored() -> None:
    scan(hooks(ANTIVIRUS), commune("grigny"), "scan.pdf", "application/pdf", pdf() + antivirus.EICAR)


def test_a_failing_scanner_refuses_the_upload_as_temporarily_unavailable(caplog: pytest.LogCaptureFixture) -> None:
    runner = hooks(ANTIVIRUS, ("unreachable", antivirus.UnreachableScanner()))
    with pytest.raises(UploadRefused) as refused:
        scan(runner, commune(), "scan.pdf", "application/pdf", pdf())
    assert refused.value.status == 503
    assert "réessayez" in refused.value.reason("fr")
    assert "try again" in refused.value.reason("en")
    assert "plugin 'unreachable' failed in guichet_scan_attachment" in caplog.text


def test_a_scanner_answering_something_else_than_a_verdict_refuses_the_upload() -> None:
    with pytest.raises(UploadRefused) as refused:
        scan(hooks(("confused", antivirus.ConfusedScanner())), commune(), "scan.pdf", "application/pdf", pdf())
    assert refused.value.status == 503


# --- downloads ---------------------------------------------------------------------------------------------------


def unzip(archive: bytes) -> Iterator[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        assert opened.testzip() is None
        for info in opened.infolist():
            assert info.compress_type == zipfile.ZIP_DEFLATED
            yield info.filename, opened.read(info)


def test_zip_archive_round_trips_names_and_bytes() -> None:
    entries = [("Pièce d'identité.pdf", pdf()), ("photo.png", png())]
    assert list(unzip(zip_archive(entries))) == entries


def test_zip_archive_numbers_repeated_names_ignoring_case() -> None:
    archive = zip_archive([("x.pdf", pdf()), ("x.pdf", png()), ("X.PDF", jpeg()), ("x", b"1"), ("x", b"2")])
    assert [name for name, _ in unzip(archive)] == ["x.pdf", "x (2).pdf", "X (3).PDF", "x", "x (2)"]


def test_zip_archive_never_holds_a_path() -> None:
    archive = zip_archive([("../../evil.pdf", pdf()), ("C:\\Windows\\evil.png", png())])
    assert [name for name, _ in unzip(archive)] == ["evil.pdf", "evil.png"]


def header_parts(header: str) -> dict[str, str]:
    kind, *parameters = header.split("; ")
    assert kind == "attachment"
    return dict(parameter.split("=", 1) for parameter in parameters)


def test_content_disposition_gives_an_ascii_fallback_and_the_utf8_name() -> None:
    header = content_disposition("Pièce d'identité.pdf")
    assert header == (
        "attachment; filename=\"Piece d'identite.pdf\"; filename*=UTF-8''Pi%C3%A8ce%20d%27identit%C3%A9.pdf"
    )
    assert unquote(header_parts(header)["filename*"].removeprefix("UTF-8''")) == "Pièce d'identité.pdf"


def test_content_disposition_fallback_holds_no_quote_backslash_or_line_break() -> None:
    header = content_disposition('le "devis"\r\nSet-Cookie: a=b.pdf')
    assert header_parts(header)["filename"] == '"le devis Set-Cookie ab.pdf"'
    assert "\r" not in header and "\n" not in header
    assert header.count('"') == 2


def test_content_disposition_fallback_for_a_name_without_latin_letters() -> None:
    header = content_disposition("Заявление.pdf")
    assert header_parts(header)["filename"] == '"document.pdf"'
    assert unquote(header_parts(header)["filename*"].removeprefix("UTF-8''")) == "Заявление.pdf"
