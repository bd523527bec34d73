"""The auditor's marks on the periodic review's findings: who looked at which finding, when, and what they noted.

A finding is named by its commune, its week and a key the review derives
from what it found (:mod:`gateway.audit.review.findings`), so a mark still
sits on its finding when the review is drawn again. Marks are only added,
never changed: a second look is a second mark. The act of marking is also
an entry of the audit log (``audit.review-mark``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Text
from sqlmodel import Field, SQLModel


class AuditReviewMark(SQLModel, table=True):
    __tablename__ = "audit_review_mark"

    id: int | None = Field(default=None, primary_key=True)
    #: the finding's commune; None for a finding about entries of no commune (syndicate-wide)
    commune: str | None = Field(default=None, max_length=60, index=True)
    #: the ISO week reviewed, e.g. 2026-W48
    week: str = Field(max_length=8, index=True)
    finding: str = Field(max_length=200)
    note: str = Field(sa_column=Column(Text, nullable=False))
    #: the auditor's actor id in the audit log (staff:<id>)
    reviewed_by: str = Field(max_length=120)
    reviewed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
