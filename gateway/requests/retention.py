"""Retention: delete what the gateway no longer has a reason to keep.

Three sweeps, run by ``guichet retention run`` (from cron, on any number of
machines at once):

- drafts never submitted, once their ``purge_after`` has passed;
- decided (final or withdrawn) requests, once the commune's retention period
  has run out: the request, its history, its attachments and their bytes go,
  with one ``request.purge`` audit entry each, written in the deletion's
  transaction;
- stored attachment files no row points to (none should exist, as a file is
  written and deleted in its row's transaction; the sweep keeps it true);
- counters that hold client addresses: the anonymous refusal counts
  (:mod:`gateway.audit.refusals`) once older than the audit log's retention
  (``audit.retention_months``), and the throttle counters
  (:mod:`gateway.identity.throttle`: sign-in failures, anonymous filings,
  receipts) once their window and lock are :data:`THROTTLE_KEPT` in the past.

Each request is deleted in its own short transaction that first re-reads it
under a row lock (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; on SQLite the
transaction starts with ``BEGIN IMMEDIATE``, so writers take turns) and
checks again that it is due: two runners never delete, nor audit, the same
request twice. A file's bytes are deleted in the same transaction as its row,
so a rolled-back deletion never loses a document, and a committed one leaves none behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from gateway.audit.builders import request_event
from gateway.audit.events import SYSTEM
from gateway.audit.log import record
from gateway.audit.refusals import prune_refusal_counts
from gateway.audit.retention import cutoff_for
from gateway.db import Database
from gateway.identity import throttle
from gateway.models import Attachment, ServiceRequest
from gateway.registry import Registry
from gateway.requests import attachments as files
from gateway.requests.clock import now as utc_now
from gateway.requests.lifecycle import delete_request
from gateway.services import DRAFT, WITHDRAWN

ORIGIN = "cli retention run"
#: the purpose recorded when the request's service is no longer installed
EXPIRED = "durée de conservation échue"
DRAFT_PURPOSE = "brouillon non déposé : durée de conservation échue"
#: a throttle counter is dropped once its window started this long ago (windows and locks last a day at most)
THROTTLE_KEPT = timedelta(days=2)


@dataclass
class RetentionReport:
    drafts_deleted: int = 0
    requests_purged: int = 0
    files_deleted: int = 0
    orphans_deleted: int = 0
    refusal_counts_deleted: int = 0
    throttles_deleted: int = 0
    dry_run: bool = False

    def __str__(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        return (
            f"retention ({verb}): {self.drafts_deleted} expired draft(s), {self.requests_purged} decided request(s), "
            f"{self.files_deleted} attachment file(s), {self.orphans_deleted} orphan file(s), "
            f"{self.refusal_counts_deleted} refusal counter(s), {self.throttles_deleted} throttle counter(s)"
        )


@dataclass(frozen=True)
class _Due:
    id: int
    commune: str


def run_retention(
    db: Database,
    registry: Registry,
    *,
    now: datetime | None = None,
    batch: int = 500,
    dry_run: bool = False,
) -> RetentionReport:
    """Apply every retention rule due at ``now`` (default: the current time); safe to run concurrently."""
    moment = now or utc_now()
    report = RetentionReport(dry_run=dry_run)
    for due in _due(db, moment, max(1, batch)):
        if dry_run:
            _count(db, due, report)
            continue
        report.files_deleted += len(_purge_one(db, registry, due, moment, report))
    _sweep_files(db, report, dry_run=dry_run)
    _prune_counters(db, registry, moment, report, dry_run=dry_run)
    return report


def _prune_counters(
    db: Database, registry: Registry, moment: datetime, report: RetentionReport, *, dry_run: bool
) -> None:
    """Drop the refusal counts past the audit log's retention, and the throttle counters long over."""
    refusals_before = cutoff_for(registry.settings.audit.retention_months, moment)
    with db.session() as session:
        report.refusal_counts_deleted += prune_refusal_counts(session, before=refusals_before, dry_run=dry_run)
        report.throttles_deleted += throttle.prune(session, before=moment - THROTTLE_KEPT, dry_run=dry_run)


def _due(db: Database, moment: datetime, batch: int) -> Iterator[_Due]:
    """The requests whose ``purge_after`` has passed, page by page in id order (keyset, so each is seen once)."""
    last = 0
    while True:
        with db.session(all_communes=True) as session:
            page = session.exec(
                select(ServiceRequest.id, ServiceRequest.commune)
                .where(col(ServiceRequest.purge_after) <= moment, col(ServiceRequest.id) > last)
                .order_by(col(ServiceRequest.id))
                .limit(batch)
            ).all()
        if not page:
            return
        for request_id, commune in page:
            assert request_id is not None
            yield _Due(request_id, commune)
        last = page[-1][0] or last


def _is_decided(row: ServiceRequest) -> bool:
    # purge_after is set on a submitted request only when it is decided; decided_at says so even when
    # the service's plugin (and so its workflow) is no longer installed
    return row.status == WITHDRAWN or (row.status != DRAFT and row.decided_at is not None)


def _locked(session: Session, due: _Due, moment: datetime) -> ServiceRequest | None:
    """Re-read the request under a row lock, if it is still there, still due and not held by another runner."""
    row = session.exec(
        select(ServiceRequest)
        .where(ServiceRequest.id == due.id, col(ServiceRequest.purge_after) <= moment)
        .with_for_update(skip_locked=True)
    ).first()
    if row is None or not (row.is_draft or _is_decided(row)):
        return None
    return row


def _count(db: Database, due: _Due, report: RetentionReport) -> None:
    with db.session(commune=due.commune) as session:
        row = session.get(ServiceRequest, due.id)
        if row is None or not (row.is_draft or _is_decided(row)):
            return
        files = session.exec(select(Attachment.id).where(Attachment.request_id == due.id)).all()
    report.files_deleted += len(files)
    if row.is_draft:
        report.drafts_deleted += 1
    else:
        report.requests_purged += 1


def _purge_one(db: Database, registry: Registry, due: _Due, moment: datetime, report: RetentionReport) -> list[str]:
    """Delete one due request in its own transaction; returns the files to delete once it has committed."""
    with db.session(commune=due.commune) as session:
        row = _locked(session, due, moment)
        if row is None:
            return []
        provided = registry.services.get(row.service)
        draft = row.is_draft
        if draft:
            action, resource = "request.delete", f"draft/{row.public_id}"
            purpose = DRAFT_PURPOSE
        else:
            action, resource = "request.purge", f"request/{row.reference}"
            purpose = provided.definition.purpose.fr if provided is not None else EXPIRED
        names = delete_request(session, row)
        event = request_event(action, SYSTEM, commune=row.commune, service=row.service, resource=resource,
                              subject=row.subject, purpose=purpose, origin=ORIGIN)  # fmt: skip
        record(session, event)
    if draft:
        report.drafts_deleted += 1
    else:
        report.requests_purged += 1
    return names


def _sweep_files(db: Database, report: RetentionReport, *, dry_run: bool) -> None:
    """Delete stored attachment files no attachment row points to.

    The files are listed *before* the rows: a file and its row commit together,
    so a file listed has its row visible to the next statement, even where each
    statement sees the latest commits (PostgreSQL's read committed).
    """
    with db.session(all_communes=True) as session:
        stored = files.stored_names(session)
        referenced = set(session.exec(select(Attachment.storage_name)).all())
        orphans = [name for name in stored if name not in referenced]
        if orphans and not dry_run:
            files.delete(session, orphans)
        report.orphans_deleted += len(orphans)
