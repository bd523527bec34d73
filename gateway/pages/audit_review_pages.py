"""The auditor console's weekly review: what deserves a look, each finding's entries, marks with a note, CSV and PDF.

Registered by the default plugin :mod:`gateway.builtin.audit_console`. Who
may read, the scope and the record of each look are in
:mod:`gateway.web.audit_review_reading`; what is found, in
:mod:`gateway.audit.review`. The page's texts are here, French and English.
"""

from __future__ import annotations

import csv
import hashlib
import io
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.audit.review.collect import NOTE_MAX, Review
from gateway.audit.review.export import csv_rows
from gateway.audit.review.findings import Finding
from gateway.audit.review.words import SYNDICATE, sentence, title
from gateway.requests.issuing import fonts_of
from gateway.services import Localized
from gateway.web.audit_log_reading import auditor
from gateway.web.audit_review_pdf import render_review_pdf
from gateway.web.audit_review_reading import NO_COMMUNE, ReviewAsk, load_review, mark_ask, mark_finding, review_ask
from gateway.web.dates import when
from gateway.web.form_bodies import text_form
from gateway.web.i18n import choose_locale
from gateway.web.lookups import registry_of
from gateway.web.templating import render

#: entries linked one by one under a finding; the rest through a search of the console
LINKED = 20

WORDS = {
    "heading": Localized("Revue hebdomadaire du journal d'audit", "Weekly review of the audit log"),
    "intro": Localized(
        "Ce que le journal de la semaine montre d'inhabituel, à examiner : accès hors du service ou de l'attribution "
        "d'un agent, volumes inhabituels, accès en dehors des heures de travail, séries de refus, personnes consultées "
        "par de nombreux agents, exports. Les personnes n'y figurent que par leur pseudonyme. Consulter cette revue "
        "est enregistré dans le journal.",
        "What the week's log shows that is unusual and worth a look: access outside an agent's service or "
        "assignment, unusual volumes, access outside working hours, bursts of refusals, people looked at by many "
        "agents, exports. People appear by their pseudonym only. Reading this review is recorded in the log.",
    ),
    "choose": Localized("Choisir la revue", "Choose the review"),
    "week": Localized("Semaine (ISO, par exemple 2026-W48)", "Week (ISO, e.g. 2026-W48)"),
    "commune": Localized("Commune", "Commune"),
    "all": Localized("Toutes celles de votre périmètre", "All those in your scope"),
    "show": Localized("Afficher", "Show"),
    "previous": Localized("Semaine précédente", "Previous week"),
    "next": Localized("Semaine suivante", "Next week"),
    "downloads": Localized("Télécharger :", "Download:"),
    "csv": Localized("la revue en CSV", "the review as CSV"),
    "pdf": Localized(
        "le rapport PDF pour le délégué à la protection des données", "the PDF report for the data-protection officer"
    ),
    "nothing": Localized("Rien à signaler cette semaine.", "Nothing to report this week."),
    "findings": Localized("Constats", "Findings"),
    "entries": Localized("Entrées du journal :", "Log entries:"),
    "all_entries": Localized("Toutes les entrées de cet acteur pour la semaine", "All this actor's entries that week"),
    "more": Localized("et {more} autres dans le fichier CSV", "and {more} more in the CSV file"),
    "reviewed": Localized("Revu", "Reviewed"),
    "not_reviewed": Localized("Pas encore revu", "Not reviewed yet"),
    "by": Localized("le {date} par {who} :", "on {date} by {who}:"),
    "note": Localized(
        "Note (ce que vous avez vérifié et conclu, {max} caractères au plus)",
        "Note (what you checked and concluded, at most {max} characters)",
    ),
    "mark": Localized("Marquer comme revu", "Mark as reviewed"),
    "back": Localized("Retour à la recherche", "Back to the search"),
    "summary": Localized("{count} constat(s), dont {reviewed} revu(s)", "{count} finding(s), {reviewed} reviewed"),
    "where": Localized("Commune : {commune}", "Commune: {commune}"),
}


def _scope_words(request: Request, ask: ReviewAsk, locale: str) -> str:
    registry = registry_of(request)
    if ask.communes is None:
        return Localized("tout le syndicat", "the whole syndicate")(locale)
    return ", ".join(registry.communes[slug].name for slug in sorted(ask.communes) if slug in registry.communes)


def _view(request: Request, review: Review, finding: Finding, locale: str) -> dict[str, Any]:
    registry = registry_of(request)
    commune = registry.communes.get(finding.commune or "")
    search = {
        "since": review.week.start.strftime("%Y-%m-%dT%H:%M:%S"),
        "until": review.week.end.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    if finding.actor:
        search["agent"] = finding.actor
    elif finding.subject:
        search["citizen"] = finding.subject
    if finding.commune:
        search["commune"] = finding.commune
    return {
        "finding": finding,
        "title": title(finding, locale),
        "sentence": sentence(finding, locale),
        "commune_name": commune.name if commune else SYNDICATE(locale),
        "form_commune": finding.commune or NO_COMMUNE,
        "marks": [(mark, when(mark.reviewed_at, locale)) for mark in review.marks_of(finding)],
        "linked": finding.seqs[:LINKED],
        "more": max(0, finding.count - LINKED),
        "search": urlencode(search),
        "anchor": _anchor(finding.key),
    }


def _anchor(key: str) -> str:
    """A fragment naming a finding on the page, the same in every process."""
    return "constat-" + hashlib.sha256(key.encode()).hexdigest()[:12]


async def review_page(request: Request) -> Response:
    principal, scope = await auditor(request)
    ask = await review_ask(request, principal, scope, dict(request.query_params))
    review = await load_review(request, principal, ask, "audit.review")
    locale = choose_locale(request)
    registry = registry_of(request)
    slugs = sorted(registry.communes) if scope.communes is None else sorted(scope.communes)
    query = urlencode({"week": ask.week.label, **({"commune": ask.commune} if ask.commune else {})})
    context = {
        "w": WORDS,
        "note_max": NOTE_MAX,
        "ask": ask,
        "review": review,
        "query": query,
        "views": [_view(request, review, finding, locale) for finding in review.findings],
        "reviewed": sum(1 for finding in review.findings if review.marks_of(finding)),
        "communes": [(slug, registry.communes[slug].name) for slug in slugs if slug in registry.communes],
        "scope_words": _scope_words(request, ask, locale),
        "previous": urlencode(
            {"week": ask.week.shifted(-1).label, **({"commune": ask.commune} if ask.commune else {})}
        ),
        "next": urlencode({"week": ask.week.shifted(1).label, **({"commune": ask.commune} if ask.commune else {})}),
    }
    return render(request, "audit_review.html", context)


async def mark(request: Request) -> Response:
    principal, scope = await auditor(request)
    form = await text_form(request)
    asked = await mark_ask(request, principal, scope, form)
    finding = await mark_finding(request, principal, asked)
    back = {
        "week": asked.ask.week.label,
        **({"commune": str(form.get("back_commune"))} if form.get("back_commune") else {}),
    }
    return RedirectResponse(f"/audit/revue?{urlencode(back)}#{_anchor(finding.key)}", status_code=303)


async def export_csv(request: Request) -> Response:
    principal, scope = await auditor(request)
    ask = await review_ask(request, principal, scope, dict(request.query_params))
    review = await load_review(request, principal, ask, "audit.review-export")
    buffer = io.StringIO()
    csv.writer(buffer).writerows(csv_rows(review, choose_locale(request)))
    name = f"revue-{ask.week.label}{'-' + ask.commune if ask.commune else ''}.csv"
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def export_pdf(request: Request) -> Response:
    principal, scope = await auditor(request)
    ask = await review_ask(request, principal, scope, dict(request.query_params))
    review = await load_review(request, principal, ask, "audit.review-export")
    locale, settings = choose_locale(request), registry_of(request).settings
    body = await run_in_threadpool(
        lambda: render_review_pdf(
            review,
            locale=locale,
            scope=_scope_words(request, ask, locale),
            who=principal.actor("auditor").id,
            base_url=settings.gateway.public_base_url,
            fonts=fonts_of(settings),
        )
    )
    name = f"revue-{ask.week.label}{'-' + ask.commune if ask.commune else ''}.pdf"
    return Response(
        body, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/audit/revue", review_page, name="audit_review"),
        Route("/audit/revue/marquer", mark, methods=["POST"], name="audit_review_mark"),
        Route("/audit/revue.csv", export_csv, name="audit_review_csv"),
        Route("/audit/revue.pdf", export_pdf, name="audit_review_pdf"),
    ]
