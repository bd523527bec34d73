"""The auditor's weekly review over HTTP, for its pages (and any twin): parameters, scope, and the record of each look.

Auditors only, through :func:`gateway.web.audit_log_reading.auditor`. The
review covers the communes the auditor's grant covers, or the one commune
asked for if the grant covers it (else a 403, recorded like any denial).
Drawing it, exporting it and marking a finding are each an entry of the
audit log (``audit.review``, ``audit.review-export``, ``audit.review-mark``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.datastructures import FormData
from starlette.requests import Request

from gateway.audit.builders import auditor_event
from gateway.audit.log import record
from gateway.audit.review.collect import NOTE_MAX, NoSuchFinding, Review, add_mark, draw
from gateway.audit.review.findings import Finding
from gateway.audit.review.periods import BadWeek, Week
from gateway.audit.search import Scope
from gateway.identity.access import AccessDenied
from gateway.identity.principal import Principal
from gateway.services import Localized
from gateway.settings.audit_review import AuditReviewSettings
from gateway.web.access import record_denial
from gateway.web.audit_log_reading import PURPOSE
from gateway.web.errors import PageError
from gateway.web.lookups import registry_of, request_origin

PARAMETERS = ("week", "commune")
#: a form's ``commune`` for a finding about entries of no commune
NO_COMMUNE = "-"


def _bad(fr: str, en: str) -> PageError:
    return PageError(400, Localized(f"Revue impossible : {fr}", f"Cannot review: {en}"))


@dataclass(frozen=True)
class ReviewAsk:
    week: Week
    #: the one commune asked for (None: every commune the auditor may see)
    commune: str | None
    #: the communes the review reads (None: the whole syndicate)
    communes: frozenset[str] | None


async def review_ask(request: Request, principal: Principal, scope: Scope, params: dict[str, str]) -> ReviewAsk:
    """The week and communes asked for, checked: unknown parameters and bad values a 400, another commune a 403."""
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise _bad(f"paramètre inconnu « {unknown[0]} »", f"unknown parameter '{unknown[0]}'")
    week = parse_week(params.get("week", "").strip())
    commune = params.get("commune", "").strip() or None
    if commune is not None:
        if commune not in registry_of(request).communes:
            raise _bad(f"aucune commune « {commune[:60]} »", f"no commune '{commune[:60]}'")
        if not scope.allows(commune):
            await record_denial(request, principal, role="auditor", commune=commune)
            raise AccessDenied
        return ReviewAsk(week, commune, frozenset({commune}))
    return ReviewAsk(week, None, scope.communes)


def parse_week(text: str) -> Week:
    if not text:
        return Week.containing(datetime.now(UTC))
    try:
        return Week.parse(text[:20])
    except BadWeek as error:
        raise _bad(
            f"semaine « {text[:20]} » : attendu une semaine ISO comme 2026-W48", f"week '{text[:20]}': {error}"
        ) from None


def settings_for(request: Request) -> dict[str, AuditReviewSettings]:
    return {commune.slug: commune.audit_review for commune in registry_of(request).settings.communes}


def _resource(ask: ReviewAsk, suffix: str = "") -> str:
    return f"audit-review/{ask.week.label}/{ask.commune or '*'}{suffix}"[:200]


async def load_review(request: Request, principal: Principal, ask: ReviewAsk, action: str) -> Review:
    """The review asked for, the look recorded as ``action`` (``audit.review`` or ``audit.review-export``)."""
    db, settings = request.app.state.db, settings_for(request)

    def run() -> Review:
        with db.session(all_communes=True) as session:
            review = draw(session, ask.week, ask.communes, lambda slug: settings.get(slug or "", AuditReviewSettings()))
            record(
                session,
                auditor_event(
                    action,
                    principal.actor("auditor"),
                    commune=ask.commune,
                    resource=_resource(ask),
                    subject=None,
                    purpose=PURPOSE,
                    origin=request_origin(request),
                ),
            )
            return review

    review: Review = await db.run(run)
    return review


@dataclass(frozen=True)
class MarkAsk:
    ask: ReviewAsk
    finding_commune: str | None
    key: str
    note: str


async def mark_ask(request: Request, principal: Principal, scope: Scope, form: FormData) -> MarkAsk:
    """The posted mark, checked: a week, a finding, a note of 1 to 2000 characters; another commune is a 403."""
    fields = {name: str(form.get(name, "")) for name in ("week", "commune", "finding", "note")}
    raw_commune = fields["commune"].strip()
    finding_commune = None if raw_commune in ("", NO_COMMUNE) else raw_commune
    if finding_commune is None and scope.communes is not None:
        await record_denial(request, principal, role="auditor")
        raise AccessDenied
    ask = await review_ask(request, principal, scope, {"week": fields["week"], "commune": finding_commune or ""})
    key, note = fields["finding"].strip(), fields["note"].strip()
    if not key or len(key) > 200:
        raise _bad("le constat à marquer manque", "the finding to mark is missing")
    if not note:
        raise _bad(
            "écrivez une note : ce que vous avez vérifié et conclu", "write a note: what you checked and concluded"
        )
    if len(note) > NOTE_MAX:
        raise _bad(f"la note dépasse {NOTE_MAX} caractères", f"the note is longer than {NOTE_MAX} characters")
    if finding_commune is None:
        ask = ReviewAsk(ask.week, None, None)
    return MarkAsk(ask, finding_commune, key, note)


async def mark_finding(request: Request, principal: Principal, mark: MarkAsk) -> Finding:
    """Store the mark on the finding and record the act; a 404 when the week's review has no such finding."""
    db, settings = request.app.state.db, settings_for(request)
    actor = principal.actor("auditor")

    def run() -> Finding | None:
        with db.session(all_communes=True) as session:
            review = draw(
                session, mark.ask.week, mark.ask.communes, lambda slug: settings.get(slug or "", AuditReviewSettings())
            )
            try:
                finding = add_mark(
                    session,
                    review,
                    commune=mark.finding_commune,
                    key=mark.key,
                    note=mark.note,
                    reviewed_by=actor.id,
                    now=datetime.now(UTC),
                )
            except NoSuchFinding:
                return None
            record(
                session,
                auditor_event(
                    "audit.review-mark",
                    actor,
                    commune=mark.finding_commune,
                    resource=_resource(mark.ask, f"/{mark.key}"),
                    subject=finding.subject,
                    purpose=PURPOSE,
                    origin=request_origin(request),
                ),
            )
            return finding

    finding: Finding | None = await db.run(run)
    if finding is None:
        raise PageError(
            404,
            Localized(
                "Ce constat ne figure pas dans la revue de cette semaine, dans votre périmètre.",
                "This finding is not in this week's review within your scope.",
            ),
        )
    return finding
