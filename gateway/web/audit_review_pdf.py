"""The weekly review as a PDF report for a commune's data-protection officer.

Written with ReportLab, as issued documents are (:mod:`gateway.requests.document_pdf`):
real text in reading order, the fonts embedded (DejaVu Sans, or ReportLab's
Vera), the title in the metadata and the language in the catalogue. One
section per finding: what was found, its entries' positions (each opens at
``/audit/entrees/<seq>`` in the console), and the auditor's notes.
ReportLab is imported when a report is drawn, not at a worker's start.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from babel.dates import format_datetime

from gateway.audit.review.collect import Review
from gateway.audit.review.periods import PARIS
from gateway.audit.review.words import sentence, title
from gateway.services import Localized

REGULAR, BOLD = "GuichetReview", "GuichetReview-Bold"
MARGIN = 20 * (72.0 / 2.54 * 0.1)  # 20 mm in points, as reportlab.lib.units.mm computes it
#: entries listed per finding; the rest are counted (the CSV lists them all)
LISTED = 60

TITLE = Localized("Revue du journal d'audit — semaine {week}", "Audit log review — week {week}")
SCOPE = Localized("Périmètre : {scope}", "Scope: {scope}")
DRAWN = Localized("Établie le {date} par {who}, depuis {base}.", "Drawn on {date} by {who}, from {base}.")
NOTHING = Localized("Rien à signaler cette semaine.", "Nothing to report this week.")
COUNT = Localized("{count} constat(s), dont {reviewed} revu(s).", "{count} finding(s), {reviewed} reviewed.")
ENTRIES = Localized("Entrées du journal (/audit/entrees/<n>) : {seqs}", "Log entries (/audit/entrees/<n>): {seqs}")
MORE = Localized(" et {more} autres", " and {more} more")
REVIEWED = Localized("Revu le {date} par {who} : {note}", "Reviewed on {date} by {who}: {note}")
NOT_REVIEWED = Localized("Pas encore revu.", "Not reviewed yet.")


def _register_fonts(regular: Path, bold: Path) -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if REGULAR in pdfmetrics.getRegisteredFontNames():
        return
    for name, path in ((REGULAR, regular), (BOLD, bold)):
        pdfmetrics.registerFont(TTFont(name, str(path)))


def render_review_pdf(
    review: Review, *, locale: str, scope: str, who: str, base_url: str, fonts: tuple[Path, Path]
) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfgen.canvas import Canvas

    _register_fonts(*fonts)
    heading = TITLE(locale).format(week=review.week.label)
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=A4,
        lang="fr-FR" if locale == "fr" else "en",
        invariant=True,
        initialFontName=REGULAR,
        initialFontSize=10,
    )
    canvas.setTitle(heading)
    canvas.setCreator("Guichet")
    canvas.setViewerPreference("DisplayDocTitle", "true")
    width, height = A4
    y = height - MARGIN

    def write(text: str, *, font: str = REGULAR, size: float = 10, gap: float = 3) -> None:
        nonlocal y
        for piece in simpleSplit(text, font, size, width - 2 * MARGIN):
            if y - size * 1.3 < MARGIN:
                canvas.showPage()
                y = height - MARGIN
            y -= size * 1.3
            canvas.setFont(font, size)
            canvas.drawString(MARGIN, y, piece)
        y -= gap

    def when(moment: datetime) -> str:
        return format_datetime(moment.astimezone(PARIS), format="medium", locale=locale)

    write(heading, font=BOLD, size=16, gap=6)
    write(SCOPE(locale).format(scope=scope))
    write(DRAWN(locale).format(date=when(datetime.now(UTC)), who=who, base=base_url), size=9, gap=8)
    reviewed = sum(1 for finding in review.findings if review.marks_of(finding))
    write(COUNT(locale).format(count=len(review.findings), reviewed=reviewed), gap=8)
    if not review.findings:
        write(NOTHING(locale))
    for number, finding in enumerate(review.findings, start=1):
        commune = finding.commune or "—"
        write(f"{number}. {title(finding, locale)} ({commune})", font=BOLD, size=11, gap=2)
        write(sentence(finding, locale))
        seqs = ", ".join(str(seq) for seq in finding.seqs[:LISTED])
        more = MORE(locale).format(more=finding.count - LISTED) if finding.count > LISTED else ""
        write(ENTRIES(locale).format(seqs=seqs) + more, size=9)
        marks = review.marks_of(finding)
        for mark in marks:
            write(REVIEWED(locale).format(date=when(mark.reviewed_at), who=mark.reviewed_by, note=mark.note), size=9)
        if not marks:
            write(NOT_REVIEWED(locale), size=9)
        y -= 4
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
