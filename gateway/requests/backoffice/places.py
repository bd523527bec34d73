"""A service's places board: the commune's requests counted against the capacities its plugin names (API 1.2).

The plugin says what to count (``guichet_service_places``: a counter per
school and level, say, with its capacity); the core counts, in one grouped
SQL query on the commune's own rows (the tenancy filter of every agent
read), so the plugin never sees a request. Counts carry no personal data, so
a view is not recorded; a refusal is, as every agent refusal is. Any agent
granted the service in the commune may read the board (``reader`` level).

Blocking: pages and the API call this through :meth:`Database.run`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select

from gateway.communes import Commune
from gateway.models import ServiceRequest
from gateway.plugins import HookFailed
from gateway.registry import ProvidedService
from gateway.requests.backoffice.access import Desk, recording_denials, staff_of
from gateway.requests.caller import Caller
from gateway.requests.errors import RequestError, ServiceNotOffered, ServiceUnavailable
from gateway.requests.linked import workflows_of
from gateway.requests.rules import unavailable_on_failure
from gateway.services import DRAFT, WITHDRAWN, Localized, Places, ServiceDefinition

log = logging.getLogger(__name__)

#: the most counters one board shows, and the most distinct form fields its counters match on together
PLACES_MAX = 500
FIELDS_MAX = 8


class NoPlacesBoard(RequestError):
    """The service's plugin names no counter for this commune: there is no board to show."""

    status = 404
    problem_type = "urn:guichet:problem:no-places-board"

    def __init__(self) -> None:
        super().__init__(
            Localized(
                "Cette démarche n'a pas de tableau des places dans cette commune.",
                "This service has no places board in this commune.",
            )
        )


@dataclass(frozen=True)
class Tally:
    """How many requests in one status hold these answers (the matched fields' text answers only)."""

    status: str
    answers: Mapping[str, str]
    count: int


@dataclass(frozen=True)
class PlacesCount:
    """One counter and the requests it counts, by where the workflow has them."""

    label: Localized
    match: Mapping[str, str]
    capacity: int | None
    in_progress: int
    accepted: int
    closed: int

    @property
    def left(self) -> int | None:
        """Places not taken by an accepted request (never below 0); None without a capacity."""
        return None if self.capacity is None else max(self.capacity - self.accepted, 0)

    @property
    def over(self) -> int:
        """How many accepted requests are beyond the capacity (0 when within it)."""
        return 0 if self.capacity is None else max(self.accepted - self.capacity, 0)

    @property
    def oversubscribed(self) -> bool:
        """More requests waiting for a decision than places left: not all of them can be accepted."""
        return self.left is not None and self.in_progress > self.left


@dataclass(frozen=True)
class PlacesGroup:
    """The counters shown in one table (a school), in the plugin's order; ``label`` None for ungrouped ones."""

    label: Localized | None
    counts: Sequence[PlacesCount]


@dataclass(frozen=True)
class PlacesBoard:
    service: ServiceDefinition
    groups: Sequence[PlacesGroup]


def localized(text: Localized | str) -> Localized:
    return text if isinstance(text, Localized) else Localized(text)


class PlacesQueries(Desk):
    """What an agent reads of a service's places: counts only, never a request."""

    def has_board(self, commune: Commune, key: str) -> bool:
        """Whether ``key`` has a board in the commune: its plugin names counters there (the queue links it then).

        A plugin that fails here is logged (by the hook runner) and its board not linked; opening it says why.
        """
        provided = self.registry.services.get(key)
        if (
            provided is None
            or commune.services.get(key) is None
            or not self.registry.is_available(key)
            or "guichet_service_places" not in self.registry.plugins.hooks_of(provided.plugin)
        ):
            return False
        try:
            return bool(self._ask(provided, commune))
        except (HookFailed, ServiceUnavailable):
            return False

    @recording_denials("places.read")
    def board(self, caller: Caller, commune_slug: str, key: str) -> PlacesBoard:
        """The board of ``key`` in the commune, once the caller's grant on it (any level) is checked."""
        commune = self._commune(commune_slug)
        principal = staff_of(caller)
        if not commune.enables(key):
            raise ServiceNotOffered(commune.slug, key)
        if not principal.can("agent", commune=commune.slug, service=key, level="reader"):
            self._deny(caller, commune.slug, key, resource=f"places/{commune.slug}/{key}")
        provided = self.registry.services.get(key)
        settings = commune.services.get(key)
        if provided is None or settings is None or not self.registry.is_available(key):
            raise ServiceUnavailable(key, provided.plugin if provided else None)
        counters = self._counters(provided, commune)
        if not counters:
            raise NoPlacesBoard
        totals = self._count(commune.slug, key, counters)
        return PlacesBoard(provided.definition, _grouped(provided.definition, counters, totals))

    def _counters(self, provided: ProvidedService, commune: Commune) -> list[Places]:
        """The plugin's counters, checked: a result the core cannot count is the plugin's failure (503)."""
        definition = provided.definition
        with unavailable_on_failure(definition.key):
            counters = self._ask(provided, commune)
        known = {state.name for workflow in workflows_of(definition) for state in workflow.states}
        fault = None
        if any(not isinstance(counter, Places) for counter in counters):
            fault = "its result holds something other than Places"
        elif len(counters) > PLACES_MAX:
            fault = f"more than {PLACES_MAX} counters"
        elif len({name for counter in counters for name in counter.match}) > FIELDS_MAX:
            fault = f"its counters match on more than {FIELDS_MAX} form fields"
        elif unknown := sorted({s for counter in counters for s in counter.accepted_states} - known):
            fault = f"accepted_states names states the service's workflows do not have: {unknown}"
        if fault is not None:
            log.error("plugin %s: the places board of %s is refused: %s", provided.plugin, definition.key, fault)
            raise ServiceUnavailable(definition.key, provided.plugin)
        return counters

    def _ask(self, provided: ProvidedService, commune: Commune) -> list[Places]:
        found = self.registry.hooks.first(
            "guichet_service_places",
            only=provided.plugin,
            service=provided.definition,
            commune=commune,
            settings=commune.services[provided.definition.key],
        )
        if found is not None and (isinstance(found, str) or not isinstance(found, Sequence)):
            log.error(
                "plugin %s: the places board of %s is refused: not a list", provided.plugin, provided.definition.key
            )
            raise ServiceUnavailable(provided.definition.key, provided.plugin)
        return list(found or ())

    def _count(self, commune: str, key: str, counters: Sequence[Places]) -> list[Tally]:
        """How many submitted requests hold each combination of the matched fields' answers, per status.

        One query, grouped by the answers of every field a counter matches on and
        by status; each counter then adds up the groups that hold its values. An
        answer that is not a text (a number, a list) is not counted.
        """
        names = sorted({name for counter in counters for name in counter.match})
        data = col(ServiceRequest.data)
        answers = [data[name].as_string() for name in names]
        status = col(ServiceRequest.status)
        query = (
            select(status, func.count(), *answers)
            .where(col(ServiceRequest.service) == key, status != DRAFT)
            .group_by(status, *answers)
        )
        with self.db.read_session(commune=commune) as session:
            rows = session.exec(query).all()
        return [
            Tally(
                row[0],
                {name: value for name, value in zip(names, row[2:], strict=True) if isinstance(value, str)},
                int(row[1]),
            )
            for row in rows
        ]


def _grouped(definition: ServiceDefinition, counters: Sequence[Places], totals: Sequence[Tally]) -> list[PlacesGroup]:
    final = {state.name for workflow in workflows_of(definition) for state in workflow.states if state.final}
    groups: dict[Localized | None, list[PlacesCount]] = {}
    for counter in counters:
        accepted_states = set(counter.accepted_states)
        tally = {"in_progress": 0, "accepted": 0, "closed": 0}
        for total in totals:
            if any(total.answers.get(name) != value for name, value in counter.match.items()):
                continue
            if total.status in accepted_states:
                tally["accepted"] += total.count
            elif total.status == WITHDRAWN or total.status in final:
                tally["closed"] += total.count
            else:
                tally["in_progress"] += total.count
        group = localized(counter.group) if counter.group is not None else None
        groups.setdefault(group, []).append(
            PlacesCount(localized(counter.label), dict(counter.match), counter.capacity, **tally)
        )
    return [PlacesGroup(label, counts) for label, counts in groups.items()]
