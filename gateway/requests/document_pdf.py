"""An issued document as a PDF: real text in reading order, fonts embedded, title and language set, a QR code.

ReportLab writes it. Its standard fonts are not embedded, so the text is set
in DejaVu Sans (a free licence; Debian's ``fonts-dejavu-core``), which it
embeds as a subset. The document's title is in its metadata and shown as the
window title; its language is the catalogue's ``/Lang``. ReportLab does not
write a structure tree (tagged PDF): the text is drawn top to bottom, in the
order it is read, one line at a time. The QR code (segno) is drawn as
vector squares, and holds the signed payload only.

ReportLab and segno are imported when a document is drawn, not with this
module: most workers' requests never draw one, and the two take a noticeable
part of a worker's start (see ``docs/performance.md``, cold start).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from gateway.request_handle import DocumentContent
from gateway.services import Localized

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

PARIS = ZoneInfo("Europe/Paris")
REGULAR, BOLD = "GuichetSans", "GuichetSans-Bold"
mm = 72.0 / 2.54 * 0.1  # points in a millimetre, computed as reportlab.lib.units.mm is
MARGIN = 20 * mm
QR_SIZE = 45 * mm

ISSUED = Localized("Délivré le {date} sous le numéro {number}.", "Issued on {date} under number {number}.")
CODE = Localized("Code de vérification : {code}", "Verification code: {code}")
CHECK_AT = Localized(
    "Vérifiez ce document sur {url} avec ce code, ou hors ligne en lisant le code QR avec la clé publique de la "
    "commune publiée sur {keys}.",
    "Check this document at {url} with this code, or offline by reading the QR code with the commune's public key "
    "published at {keys}.",
)


class FontMissing(RuntimeError):
    """The TrueType font to embed is not where ``[documents]`` says (install fonts-dejavu-core, or set the path)."""


@dataclass(frozen=True)
class Letterhead:
    """Who issues and where it can be checked: the commune's name and address, the public pages' addresses."""

    commune_name: str
    address_lines: tuple[str, ...]
    check_url: str
    keys_url: str


def _register_fonts(regular: Path, bold: Path) -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if REGULAR in pdfmetrics.getRegisteredFontNames():
        return
    for name, path in ((REGULAR, regular), (BOLD, bold)):
        if not path.is_file():
            raise FontMissing(f"the font {path} is missing: install fonts-dejavu-core or set [documents] font files")
        pdfmetrics.registerFont(TTFont(name, str(path)))


def render_pdf(
    content: DocumentContent,
    head: Letterhead,
    *,
    number: str,
    code: str,
    payload: str,
    issued_at: datetime,
    fonts: tuple[Path, Path],
) -> bytes:
    """The PDF bytes of one issued document (A4, one page)."""
    from babel.dates import format_date
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfgen.canvas import Canvas

    _register_fonts(*fonts)
    locale = content.locale
    title = content.title(locale)
    buffer = io.BytesIO()
    # the initial font is ours: ReportLab's default (Helvetica, a standard font) would be named and not embedded
    canvas = Canvas(buffer, pagesize=A4, lang=f"{locale}-FR" if locale == "fr" else "en", invariant=True,
                    initialFontName=REGULAR, initialFontSize=11)  # fmt: skip
    canvas.setTitle(title)
    canvas.setAuthor(head.commune_name)
    canvas.setSubject(number)
    canvas.setCreator("Guichet")
    canvas.setViewerPreference("DisplayDocTitle", "true")
    width, height = A4
    text_width = width - 2 * MARGIN
    y = height - MARGIN

    def write(text: str, *, font: str = REGULAR, size: float = 11, gap: float = 4) -> None:
        nonlocal y
        for piece in simpleSplit(text, font, size, text_width):
            y -= size * 1.3
            canvas.setFont(font, size)
            canvas.drawString(MARGIN, y, piece)
        y -= gap

    write(head.commune_name, font=BOLD, size=13, gap=0)
    for address_line in head.address_lines:
        write(address_line, size=10, gap=0)
    y -= 14 * mm
    write(title, font=BOLD, size=18, gap=10)
    if content.intro is not None:
        write(content.intro(locale), gap=8)
    for line in content.lines:
        write(f"{line.label(locale)} : {line.value}" if locale == "fr" else f"{line.label(locale)}: {line.value}")
    y -= 8 * mm
    day = format_date(issued_at.astimezone(PARIS).date(), format="long", locale=locale)
    write(ISSUED(locale).format(date=day, number=number))
    write(CODE(locale).format(code=code), font=BOLD, size=12)
    write(CHECK_AT(locale).format(url=head.check_url, keys=head.keys_url), size=9)
    _draw_qr(canvas, payload, width - MARGIN - QR_SIZE, MARGIN)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_qr(canvas: Canvas, payload: str, x: float, y: float) -> None:
    """The payload as a QR code (error correction M), in black squares on the page's white."""
    import segno

    code = segno.make_qr(payload, error="m")
    rows = list(code.matrix_iter(scale=1, border=4))
    cell = QR_SIZE / len(rows)
    canvas.setFillColorRGB(0, 0, 0)
    for index, row in enumerate(rows):
        for column, dark in enumerate(row):
            if dark:
                canvas.rect(x + column * cell, y + (len(rows) - 1 - index) * cell, cell, cell, stroke=0, fill=1)
