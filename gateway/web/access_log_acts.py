"""The entries one act wrote, gathered, so a person's access log reads one line per thing someone did.

The audit log records each step of an act on its own: filing a request
writes the draft's creation, its last save and its submission; an agent who
opens a request from the queue writes the listing, the reading, and, when they
take a step, the step and the page read again after it. Told line by line,
one filing reads as three « vous-même » lines and one visit as three
« Consultation » lines. Nothing is changed in the log (its entries are sealed
and proven): only the reading gathers them.

An entry carries no request id, so an act is recognised from what the
entries do say. Entries next to each other in the person's log (oldest first)
belong to one act when they have the same actor, commune, service, outcome
and request (a queue listing fits any request of its service; a draft is
the request it became), and follow each other within :data:`GAP`. A new
visit starts a new act even within that time: a listing after a listing or
a reading, or a reading of the request's page after another one, starts the
next act — except the page read again right after a step taken on it, which
is the same click. A listing followed by the reading of the request it showed
is one visit.

Each act is shown by its most meaningful entry (:data:`WEIGHT`: a filing
before a step before a reading before a listing); every entry stays in it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

#: the longest quiet time between two entries of one act
GAP = timedelta(minutes=30)

#: how telling an action is, to pick the entry that names the act (unknown actions: as a step)
WEIGHT: Mapping[str, int] = {
    "request.submit": 100,
    "request.create": 95,
    "request.withdraw": 90,
    "request.delete": 85,
    "request.purge": 85,
    "request.transition": 80,
    "request.linked-decision": 75,
    "request.share": 70,
    "document.issue": 65,
    "document.revoke": 65,
    "request.update": 50,
    "request.export": 40,
    "document.download": 35,
    "request.read": 30,
    "request.search": 20,
    "request.list": 10,
}
_STEP = 60
_LISTINGS = ("request.list", "request.search", "request.export")
#: actions that change the request: the page read just after one belongs to the same click
_WRITES = frozenset(action for action, weight in WEIGHT.items() if weight >= 50)


class Entry(Protocol):
    """What grouping reads of an audit entry (:class:`gateway.models.AuditEntry` has it all)."""

    @property
    def time(self) -> datetime: ...
    @property
    def actor_id(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def resource(self) -> str: ...
    @property
    def commune(self) -> str | None: ...
    @property
    def service(self) -> str | None: ...
    @property
    def outcome(self) -> str: ...


E = TypeVar("E", bound=Entry)


def weight(action: str) -> int:
    return WEIGHT.get(action, _STEP)


def request_key(resource: str, drafts: Mapping[str, str]) -> str | None:
    """The request an entry is about: ``request/<ref>…`` is ``<ref>``, a draft the reference it got.

    None for a queue listing, which fits any request of its service.
    """
    kind, _, rest = resource.partition("/")
    if kind == "queue":
        return None
    if kind == "request":
        return rest.split("/", 1)[0]
    if kind == "draft":
        return drafts.get(rest, resource)
    return resource


def _reads_page(entry: Entry) -> bool:
    """The request's page read (not one of its files)."""
    return entry.action == "request.read" and entry.resource.count("/") == 1


@dataclass
class _Act(Generic[E]):
    entries: list[E]
    key: str | None
    listed: bool = False
    read: bool = False

    def add(self, entry: E, key: str | None) -> None:
        self.entries.append(entry)
        self.key = self.key or key
        self.listed = self.listed or entry.action in _LISTINGS
        self.read = self.read or _reads_page(entry)


def group(entries: Sequence[E], drafts: Mapping[str, str] | None = None) -> list[list[E]]:
    """``entries`` (oldest first) gathered into acts, oldest first; each act's entries oldest first.

    ``drafts`` maps a draft's public id to the reference it was filed under.
    """
    known = drafts or {}
    acts: list[_Act[E]] = []
    for entry in entries:
        key = request_key(entry.resource, known)
        current = acts[-1] if acts else None
        if current is None or not _continues(current, entry, key):
            current = _Act[E]([], key)
            acts.append(current)
        current.add(entry, key)
    return [act.entries for act in acts]


def _continues(act: _Act[E], entry: E, key: str | None) -> bool:
    last = act.entries[-1]
    same = (
        last.actor_id == entry.actor_id
        and last.commune == entry.commune
        and last.service == entry.service
        and last.outcome == entry.outcome
        and (key is None or act.key is None or key == act.key)
    )
    if not same or entry.time - last.time > GAP:
        return False
    if entry.action in _LISTINGS:
        return not (act.listed or act.read)  # back to the queue: another visit
    if _reads_page(entry) and act.read:
        return last.action in _WRITES  # the page shown again after a step is the same click
    return True


def representative(act: Sequence[E], by: Callable[[str], int] = weight) -> E:
    """The entry that names the act: the most telling action, the latest of equals."""
    return max(reversed(act), key=lambda entry: by(entry.action))
