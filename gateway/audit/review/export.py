"""The review as CSV rows: one line per finding, with its entries and its marks, for the data-protection officer."""

from __future__ import annotations

from gateway.audit.events import format_time
from gateway.audit.review.collect import Review
from gateway.audit.review.words import sentence, title
from gateway.audit.search import defuse_cell

HEADER = [
    "week",
    "commune",
    "kind",
    "finding",
    "title",
    "description",
    "actor",
    "subject",
    "count",
    "first",
    "last",
    "entries",
    "reviewed",
    "notes",
]


def csv_rows(review: Review, locale: str) -> list[list[str]]:
    rows = [HEADER]
    for finding in review.findings:
        marks = review.marks_of(finding)
        notes = " | ".join(f"{format_time(mark.reviewed_at)} {mark.reviewed_by}: {mark.note}" for mark in marks)
        values = [
            review.week.label,
            finding.commune or "",
            finding.kind,
            finding.key,
            title(finding, locale),
            sentence(finding, locale),
            finding.actor or "",
            finding.subject or "",
            str(finding.count),
            format_time(finding.first),
            format_time(finding.last),
            " ".join(str(seq) for seq in finding.seqs),
            "yes" if marks else "no",
            notes,
        ]
        rows.append([defuse_cell(value) for value in values])
    return rows
