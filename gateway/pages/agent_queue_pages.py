"""The agents' queue: filters, paging, the CSV export and one transition applied to several requests.

Registered, with the other agents' pages, by the default plugin
:mod:`gateway.builtin.back_office`. An unknown filter value is a 400 page,
never a silently wider list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.communes import Commune
from gateway.pages.agent_pages import _age_days, _agent, _commands, _day, _definition, _queries, _status_label
from gateway.pages.agent_places_pages import places_queries
from gateway.requests.backoffice.commands import BulkOutcome
from gateway.requests.backoffice.queries import QueueFilter
from gateway.requests.caller import Caller
from gateway.services import Localized
from gateway.web.dates import PARIS
from gateway.web.downloads import download_response
from gateway.web.errors import PageError
from gateway.web.i18n import choose_locale
from gateway.web.lookups import database_of
from gateway.web.numbers import bounds, integer_in
from gateway.web.templating import render

PER_PAGE = 50
SEARCH_MAX = 60
OLDER_MAX = 3650
PAGE_MAX = 99999

BAD_FILTER = Localized(
    "Un des filtres de la file n'est pas valable : corrigez-le ou réinitialisez les filtres.",
    "One of the queue's filters is not valid: correct it or reset the filters.",
)
NO_SELECTION = Localized("Cochez au moins une demande dans la liste.", "Tick at least one request in the list.")
NO_ACTION = Localized("Choisissez l'action à appliquer.", "Choose the action to apply.")


@dataclass(frozen=True)
class QueueChoices:
    """What the filter and bulk forms offer: the agent's services, their states, their transitions."""

    services: list[tuple[str, Localized]]
    states: list[tuple[str, Localized]]
    transitions: list[tuple[str, Localized]]
    reasons: list[tuple[Localized, list[tuple[str, Localized]]]]
    counter: list[tuple[str, Localized]]


def _choices(request: Request, caller: Caller, commune: Commune) -> QueueChoices:
    office = _queries(request)
    principal = caller.principal
    readable = office.services_for(principal, commune) if principal is not None else []
    acting = office.services_for(principal, commune, level="instructor") if principal is not None else []
    services: list[tuple[str, Localized]] = []
    counter: list[tuple[str, Localized]] = []
    states: dict[str, Localized] = {}
    transitions: dict[str, Localized] = {}
    reasons: dict[str, tuple[Localized, dict[str, Localized]]] = {}
    for key in readable:
        definition = _definition(request, key)
        if definition is None:
            continue
        services.append((key, definition.title))
        linked = definition.linked_workflow.states if definition.linked_workflow else ()
        for state in (*definition.workflow.states, *linked):
            states.setdefault(state.name, state.label)
        if key not in acting:
            continue
        counter.append((key, definition.title))
        for transition in definition.workflow.transitions:
            if transition.choice is not None:
                continue  # its options are each request's own: taken on the request's file, never in bulk
            transitions.setdefault(transition.name, transition.label)
            if transition.reasons:
                group = reasons.setdefault(transition.name, (transition.label, {}))[1]
                for choice in transition.reasons:
                    group.setdefault(choice.value, choice.label)
    states.setdefault("withdrawn", Localized("Retirée", "Withdrawn"))
    return QueueChoices(
        services,
        list(states.items()),
        list(transitions.items()),
        [(label, list(group.items())) for label, group in reasons.values()],
        counter,
    )


def _queue_filter(request: Request, choices: QueueChoices) -> QueueFilter:
    """The GET form's filters, checked: an unknown value is a 400 page, not a silently wider list."""
    query = request.query_params
    service = query.get("service", "") or None
    status: str | None = query.get("status", "open")
    if status in ("", "all"):
        status = None
    known = {"open", "decided"} | {name for name, _label in choices.states}
    assigned = query.get("assigned", "") or None
    awaiting = {"": None, "yes": True, "no": False}.get(query.get("awaiting", ""), "bad")
    text = query.get("q", "").strip()
    older_text, page_text = query.get("older", "").strip(), query.get("page", "1").strip()
    older = integer_in(older_text, 1, OLDER_MAX) if older_text else None
    page = integer_in(page_text, 1, PAGE_MAX)
    if older_text and older is None:
        raise PageError(400, _bad_filter(bounds("older", 1, OLDER_MAX)))
    if page is None:
        raise PageError(400, _bad_filter(bounds("page", 1, PAGE_MAX)))
    if (
        (status is not None and status not in known)
        or assigned not in (None, "me", "none")
        or awaiting == "bad"
        or len(text) > SEARCH_MAX
    ):
        raise PageError(400, BAD_FILTER)
    return QueueFilter(
        service=service,
        status=status,
        assigned=assigned,
        awaiting=awaiting if isinstance(awaiting, bool) else None,
        q=text or None,
        older_than_days=older,
        page=page,
        per_page=PER_PAGE,
    )


def _bad_filter(reason: Localized) -> Localized:
    return Localized(f"{BAD_FILTER.fr} {reason.fr}", f"{BAD_FILTER('en')} {reason('en')}")


def _filter_query(request: Request, **changes: str) -> str:
    """The current filters as a query string (page left out unless given)."""
    names = ("service", "status", "assigned", "awaiting", "q", "older")
    values = {name: request.query_params[name] for name in names if request.query_params.get(name)}
    if "status" in request.query_params and not request.query_params["status"]:
        values["status"] = "all"
    values.update(changes)
    return urlencode(values)


async def queue_page(request: Request) -> Response:
    caller, commune = await _agent(request)
    choices = _choices(request, caller, commune)
    wanted = _queue_filter(request, choices)
    office = _queries(request)
    page = await database_of(request).run(lambda: office.queue(caller, commune.slug, wanted))
    locale = choose_locale(request)
    today = datetime.now(UTC).astimezone(PARIS).date()
    titles = dict(choices.services)
    rows = [
        {
            "reference": row.reference,
            "service": titles.get(row.service, Localized(row.service)),
            "status": _status_label(request, row),
            "submitted": _day(row.submitted_at, locale),
            "age": _age_days(row.submitted_at, today),
            "assignee": page.staff_names.get(row.assigned_to or 0, ""),
            "awaiting": row.awaiting_citizen,
            "summary": row.summary or "",
        }
        for row in page.rows
    ]
    pages = max(1, -(-page.total // page.per_page))
    context = {
        "commune": commune,
        "rows": rows,
        "total": page.total,
        "page": page.page,
        "pages": pages,
        "choices": choices,
        "wanted": wanted,
        "status_value": "all" if wanted.status is None else wanted.status,
        "awaiting_value": {True: "yes", False: "no", None: ""}[wanted.awaiting],
        "older_value": wanted.older_than_days or "",
        "previous_link": f"?{_filter_query(request, page=str(page.page - 1))}" if page.page > 1 else None,
        "next_link": f"?{_filter_query(request, page=str(page.page + 1))}" if page.page < pages else None,
        "csv_link": f"/agents/{commune.slug}/demandes.csv?{_filter_query(request)}",
        "places": [(key, title) for key, title in choices.services if places_queries(request).has_board(commune, key)],
    }
    return render(request, "agents/queue.html", context)


async def export_csv(request: Request) -> Response:
    caller, commune = await _agent(request)
    wanted = _queue_filter(request, _choices(request, caller, commune))
    office = _queries(request)
    text = await database_of(request).run(lambda: office.export_csv(caller, commune.slug, wanted))
    filename = f"demandes-{commune.slug}-{datetime.now(UTC).astimezone(PARIS):%Y-%m-%d}.csv"
    return download_response(text, "text/csv; charset=utf-8", filename)


async def bulk_transition(request: Request) -> Response:
    caller, commune = await _agent(request)
    async with request.form() as form:
        references = [str(value) for value in form.getlist("references") if isinstance(value, str) and value]
        name, comment, reason = (str(form.get(key, "")) for key in ("transition", "comment", "reason"))
    error = NO_SELECTION if not references else NO_ACTION if not name else None
    outcomes: list[BulkOutcome] = []
    if error is None:
        office = _commands(request)
        outcomes = await database_of(request).run(
            lambda: office.bulk_transition(caller, commune.slug, references, name, comment=comment, reason=reason),
        )
    label = dict(_choices(request, caller, commune).transitions).get(name, Localized(name))
    context = {"commune": commune, "outcomes": outcomes, "error": error, "action": label}
    return render(request, "agents/bulk_result.html", context, status_code=422 if error else 200)


def routes() -> list[BaseRoute]:
    return [
        Route("/agents/{commune}/demandes", queue_page, name="agents_queue"),
        Route("/agents/{commune}/demandes.csv", export_csv, name="agents_queue_csv"),
        Route("/agents/{commune}/demandes/lot", bulk_transition, methods=["POST"], name="agents_bulk"),
    ]
