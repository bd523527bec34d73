"""What a plugin says about the e-services it provides.

These are plain, frozen values: a plugin returns them from its hooks and the
core renders, validates and stores with them. Nothing here touches the
database, so a plugin never needs a session to describe a service.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypedDict

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class Localized:
    """A text in French (always) and English (falls back to French)."""

    fr: str
    en: str | None = None

    def __call__(self, locale: str) -> str:
        return self.en if locale == "en" and self.en else self.fr


PURPOSE_MAX = 200
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_CLAIM = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
#: the name the core gives documents an agent asks for later
EXTRA_DOCUMENT_NAME = "extra"

MEGABYTE = 1024 * 1024

#: content types the core recognises from a file's first bytes (see :mod:`gateway.requests.attachments`)
DOCUMENT_TYPES = ("application/pdf", "image/jpeg", "image/png")


#: What each kind stores (see :data:`FieldValue`): text kinds and ``select``/``radio`` a ``str``,
#: ``checkboxes`` a ``list[str]``, ``number`` an ``int``, ``yesno`` a ``bool``, ``address`` a
#: :class:`PostalAddress`; an optional field left empty stores ``""`` (text kinds), ``[]`` (checkboxes)
#: or ``None`` (number, yes/no, address). A ``document`` field is a file to attach: it stores no answer; the file is
#: an attachment of the request, uploaded and checked as the service's other documents are (:class:`DocumentSpec`).
FieldKind = Literal["text", "textarea", "email", "tel", "date", "select", "radio", "checkboxes", "number", "yesno",
                    "address", "document"]  # fmt: skip
#: the kinds whose answer is one of the field's ``choices``
CHOICE_KINDS = ("select", "radio", "checkboxes")
#: the kinds that store text (checked for length and control characters)
TEXT_KINDS = ("text", "textarea", "email", "tel", "date", "select", "radio")
#: the bounds a ``number`` field may declare: integers exact in every JSON reader (2**53 - 1)
NUMBER_LIMIT = 2**53 - 1


class PostalAddress(TypedDict):
    """A French postal address as an ``address`` field stores it, in parts a service can compute with.

    ``number`` is the house number (``None`` for an address without one, a
    lieu-dit), ``suffix`` its repetition index (``"bis"``, ``"ter"``,
    ``"quater"``, ``"quinquies"`` or one capital letter; ``""`` for none), so a
    catchment map can match number ranges and their parity; ``street`` the
    street type and name (« rue des Lilas »), ``complement`` a building,
    staircase or flat (``""`` for none), ``postcode`` five digits, ``town``
    the commune's name as the post office writes it.
    """

    number: int | None
    suffix: str
    street: str
    complement: str
    postcode: str
    town: str


#: One stored answer: its Python type follows the field's kind (see :data:`FieldKind`). The same value is kept in
#: the database (JSON), handed to the hooks and shown in the API and the exports.
FieldValue = str | int | bool | list[str] | PostalAddress | None
#: A filled form: field name -> answer, as hooks receive it (``guichet_validate_request``'s ``data``,
#: :attr:`RequestHandle.data`) and return it (``guichet_prefill_form``).
FormValues = Mapping[str, FieldValue]


def condition_met(value: object, wanted: tuple[str, ...]) -> bool:
    """Whether an answer is one of the ``wanted`` values of a ``show_if``/``only_if`` condition.

    A yes/no answer is compared as ``"yes"``/``"no"``, a number as its
    decimal text, a multiple choice when any ticked value is wanted.
    """
    if isinstance(value, bool):
        return ("yes" if value else "no") in wanted
    if isinstance(value, int):
        return str(value) in wanted
    if isinstance(value, list):
        return any(item in wanted for item in value)
    return (value if isinstance(value, str) else "") in wanted


@dataclass(frozen=True)
class Choice:
    """One option of a ``select``, ``radio`` or ``checkboxes`` field: the value stored, the label shown."""

    value: str
    label: Localized


@dataclass(frozen=True)
class FormField:
    """One field of a service's form; the core renders and checks it generically.

    ``choices`` are the options of the choice kinds (:data:`CHOICE_KINDS`);
    ``min_value``/``max_value`` bound a ``number`` (both required for it);
    ``max_length`` bounds text, and each text part of an address;
    ``accept`` and ``max_bytes`` say which files a ``document`` field takes.
    """

    name: str
    label: Localized
    kind: FieldKind = "text"
    required: bool = True
    max_length: int = 200
    help: Localized | None = None
    choices: tuple[Choice, ...] = ()
    autocomplete: str | None = None
    #: shown (and checked) only when another field holds one of these values: ``("kind", ("birth", "marriage"))``
    show_if: tuple[str, tuple[str, ...]] | None = None
    min_value: int | None = None
    max_value: int | None = None
    accept: tuple[str, ...] = DOCUMENT_TYPES
    max_bytes: int = 5 * MEGABYTE
    #: asked once per member of a family filing (API 1.2): the service's :class:`MemberBlock` repeats it,
    #: and each member's request holds its own answer; a field without it is asked once and copied to every request
    per_member: bool = False

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"field name {self.name!r} must be lower-case letters, digits, '_' and '-'")
        if self.kind in CHOICE_KINDS:
            values = [choice.value for choice in self.choices]
            if not values or len(set(values)) != len(values):
                raise ValueError(f"field {self.name!r} needs choices, each value once")
        if self.kind == "number":
            low, high = self.min_value, self.max_value
            if low is None or high is None or not -NUMBER_LIMIT <= low <= high <= NUMBER_LIMIT:
                raise ValueError(
                    f"number field {self.name!r} needs min_value <= max_value, both within ±{NUMBER_LIMIT}"
                )
        elif self.min_value is not None or self.max_value is not None:
            raise ValueError(f"field {self.name!r}: min_value and max_value belong to number fields")
        if self.kind == "document":
            if self.per_member:
                raise ValueError(f"document field {self.name!r} cannot be per member")
            self.as_document()  # its types and size are checked as a DocumentSpec's

    def as_document(self) -> DocumentSpec:
        """The document a ``document`` field asks for, attached and checked like the service's own documents."""
        return DocumentSpec(self.name, self.label, accept=self.accept, max_bytes=self.max_bytes,
                            required=self.required, help=self.help, show_if=self.show_if)  # fmt: skip

    def applies(self, values: FormValues) -> bool:
        """Whether this field is part of the form given the other answers."""
        return self.show_if is None or condition_met(values.get(self.show_if[0]), self.show_if[1])


@dataclass(frozen=True)
class FieldError:
    """A message about one field (or the whole form when ``field`` is empty)."""

    field: str
    message: Localized


@dataclass(frozen=True)
class DocumentSpec:
    """A document the citizen attaches: which types, how large, whether required (maybe only for some answers)."""

    name: str
    label: Localized
    accept: tuple[str, ...] = DOCUMENT_TYPES
    max_bytes: int = 5 * MEGABYTE
    required: bool = True
    help: Localized | None = None
    show_if: tuple[str, tuple[str, ...]] | None = None
    #: a member's own document in a family's drafts (API 1.2): not copied when another member's draft is added
    #: (the child's birth certificate, say); without it the document is shared and copied (a proof of address)
    per_member: bool = False

    def __post_init__(self) -> None:
        unknown = set(self.accept) - set(DOCUMENT_TYPES)
        if unknown or not self.accept:
            raise ValueError(f"document {self.name!r} accepts unknown types {sorted(unknown)}; use {DOCUMENT_TYPES}")
        if not 1 <= self.max_bytes <= 20 * MEGABYTE:
            raise ValueError(f"document {self.name!r}: max_bytes must be between 1 and {20 * MEGABYTE}")

    def applies(self, values: FormValues) -> bool:
        return self.show_if is None or condition_met(values.get(self.show_if[0]), self.show_if[1])


Role = Literal["agent", "citizen"]

#: states the core manages around every workflow: before submission, and the citizen's withdrawal
DRAFT = "draft"
WITHDRAWN = "withdrawn"
CORE_STATES = (DRAFT, WITHDRAWN)


@dataclass(frozen=True)
class State:
    """A state of a service's workflow; ``final`` states are decisions (retention counts from them)."""

    name: str
    label: Localized
    final: bool = False


@dataclass(frozen=True)
class Transition:
    """A move between states that an agent takes (with the grant level it needs).

    ``notify`` is the message the citizen receives when it is taken (None: no
    message); ``reasons`` is a list to choose from (a refusal's grounds),
    required when not empty; ``comment_required`` asks the agent for a
    comment the citizen reads; ``assigns`` makes the agent who takes it the
    one in charge of the request (« Prendre en charge »), when they may be.
    """

    name: str
    label: Localized
    source: tuple[str, ...]
    target: str
    #: the agent grant level it needs; ``supervisor`` (API 1.2) reserves a decision to a commune's supervisors
    level: Literal["reader", "instructor", "supervisor"] = "instructor"
    notify: Localized | None = None
    reasons: tuple[Choice, ...] = ()
    comment_required: bool = False
    #: offered only when a form field holds one of these values: ``("delivery", ("post",))``
    only_if: tuple[str, tuple[str, ...]] | None = None
    #: taking it assigns the request to the agent who takes it (API 1.2)
    assigns: bool = False
    #: on a request shared with another member commune, tell the other side of this step even though its target
    #: state is not final (API 1.2): a home commune's agreement the receiving commune decides on, say
    shares_decision: bool = False

    def applies(self, values: FormValues) -> bool:
        return self.only_if is None or condition_met(values.get(self.only_if[0]), self.only_if[1])


@dataclass(frozen=True)
class Workflow:
    """The states a request goes through once submitted, and the transitions between them."""

    states: tuple[State, ...]
    transitions: tuple[Transition, ...]
    initial: str = "submitted"

    def __post_init__(self) -> None:
        names = [state.name for state in self.states]
        if len(set(names)) != len(names):
            raise ValueError("a workflow state is declared twice")
        if set(names) & set(CORE_STATES):
            raise ValueError(f"the states {CORE_STATES} belong to the core")
        if self.initial not in names:
            raise ValueError(f"initial state {self.initial!r} is not declared")
        if self.state(self.initial).final or not any(state.final for state in self.states):
            raise ValueError("a workflow starts in a state that is not final and has at least one final state")
        transition_names = [transition.name for transition in self.transitions]
        if len(set(transition_names)) != len(transition_names):
            raise ValueError("a workflow transition is declared twice")
        for transition in self.transitions:
            if not _NAME.match(transition.name) or not transition.source:
                raise ValueError(
                    f"transition {transition.name!r} needs a lower-case name and at least one source state"
                )
            for state in (*transition.source, transition.target):
                if state not in names:
                    raise ValueError(f"transition {transition.name!r} names unknown state {state!r}")
            if any(self.state(s).final for s in transition.source):
                raise ValueError(f"transition {transition.name!r} leaves a final state")

    def state(self, name: str) -> State:
        for state in self.states:
            if state.name == name:
                return state
        if name == DRAFT:
            return State(DRAFT, Localized("Brouillon", "Draft"))
        if name == WITHDRAWN:
            return State(WITHDRAWN, Localized("Retirée", "Withdrawn"), final=True)
        raise KeyError(name)

    def transition(self, name: str) -> Transition | None:
        return next((transition for transition in self.transitions if transition.name == name), None)

    def available(self, status: str, values: FormValues) -> tuple[Transition, ...]:
        """The transitions that leave ``status`` for a request filled with ``values``."""
        return tuple(t for t in self.transitions if status in t.source and t.applies(values))

    def is_decided(self, status: str) -> bool:
        return status == WITHDRAWN or (status != DRAFT and self.state(status).final)


DEFAULT_WORKFLOW = Workflow(
    states=(
        State("submitted", Localized("Déposée", "Submitted")),
        State("in_progress", Localized("En cours de traitement", "In progress")),
        State("accepted", Localized("Acceptée", "Accepted"), final=True),
        State("refused", Localized("Refusée", "Refused"), final=True),
    ),
    transitions=(
        Transition("start", Localized("Prendre en charge", "Start processing"), ("submitted",), "in_progress",
                   notify=Localized("Votre demande est en cours de traitement.", "Your request is being processed."),
                   assigns=True),
        Transition("accept", Localized("Accepter", "Accept"), ("submitted", "in_progress"), "accepted",
                   notify=Localized("Votre demande a été acceptée.", "Your request was accepted.")),
        Transition("refuse", Localized("Refuser", "Refuse"), ("submitted", "in_progress"), "refused",
                   notify=Localized("Votre demande a été refusée.", "Your request was refused."),
                   comment_required=True),
    ),
)  # fmt: skip


@dataclass(frozen=True)
class CitizenIdentity:
    """What the identity provider said about the signed-in citizen, handed to a service to prefill its form.

    Every field may be missing (a local account knows only an e-mail address).
    ``birthplace`` is the INSEE code FranceConnect gives for people born in France.
    """

    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    birthdate: str | None = None
    birthplace: str | None = None
    birthcountry: str | None = None
    gender: str | None = None
    #: True when it comes from FranceConnect (or another federated provider), not typed by the citizen
    verified: bool = False


@dataclass(frozen=True)
class ScanVerdict:
    """An antivirus plugin's answer about one uploaded file."""

    clean: bool
    #: the scanner's name for what it found (shown to agents and logged, never the file)
    finding: str | None = None


class TransitionRefused(Exception):
    """Raised by a plugin's ``guichet_request_transition`` to stop a transition, with the reason shown."""

    def __init__(self, reason: Localized) -> None:
        self.reason = reason
        super().__init__(reason.fr)


class ServiceSettings(BaseModel):
    """Base for a service's per-commune settings: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


#: the most members one family filing may declare (:attr:`MemberBlock.max_count`)
MEMBERS_LIMIT = 12


@dataclass(frozen=True)
class MemberBlock:
    """The repeatable block of a family filing (API 1.2): one request per member, filed together and linked.

    The form's fields marked ``per_member=True`` make the block; the page
    shows one block, and a button adds another, up to ``max_count``.
    ``label`` names one member (« Enfant », the page says « Enfant 2 »);
    ``add_label`` is the button adding a block (« Ajouter un enfant »).
    """

    label: Localized
    add_label: Localized
    max_count: int = 6

    def __post_init__(self) -> None:
        if not 2 <= self.max_count <= MEMBERS_LIMIT:
            raise ValueError(f"a member block's max_count must be between 2 and {MEMBERS_LIMIT}")


@dataclass(frozen=True)
class ServiceDefinition:
    """An e-service as its plugin declares it.

    ``key`` is what a commune's file names under ``[services.<key>]``;
    ``settings`` validates that table; ``reference_prefix`` starts every
    reference number the service issues; ``purpose`` is the legal basis that
    the audit log and the processing register cite (at most 200 characters
    in French). ``subject_field`` names the form field identifying the person
    the request is about (for instance an e-mail address) while citizens file
    without signing in; the audit log records a pseudonym of it, never the value.
    """

    key: str
    title: Localized
    description: Localized
    reference_prefix: str
    purpose: Localized
    settings: type[ServiceSettings] = ServiceSettings
    #: days a decided request is kept, unless the commune's file says otherwise
    retention_days: int = 365
    #: the shortest retention the law allows for this service (None: no legal minimum); a commune may not go below
    retention_min_days: int | None = None
    subject_field: str | None = None
    workflow: Workflow = DEFAULT_WORKFLOW
    documents: tuple[DocumentSpec, ...] = ()
    #: the law or mission the processing rests on, as the processing register names it
    legal_basis: Localized | None = None
    #: who may file and what they must have, shown before the form
    eligibility: Localized | None = None
    #: bump when the form changes: each request keeps the version it was filed with
    form_version: int = 1
    #: False lets people file without an account (no tracking, no drafts, no attachments)
    requires_sign_in: bool = True
    #: days an untouched draft is kept before it is deleted
    draft_days: int = 30
    #: the identity claims (OpenID Connect / FranceConnect names: ``birthdate``, ``birthplace``...) this service
    #: needs beyond the deployment's base ones; a sign-in started from the service asks for them, and only then
    identity_claims: tuple[str, ...] = ()
    #: the workflow a request shared with another member commune follows there (API 1.1, docs/shared_requests.md);
    #: None: the service shares no request
    linked_workflow: Workflow | None = None
    #: the names of the values the plugin records on a request's data itself (API 1.2,
    #: :meth:`~gateway.request_handle.RequestHandle.record_value`): derived from the answers, never a form field
    derived: tuple[str, ...] = ()
    #: the form's ``per_member`` fields repeat once per member, each member filing a request of its own,
    #: all linked as one family (API 1.2, docs/writing_plugins.md "Families"); None: one request per filing
    members: MemberBlock | None = None

    def __post_init__(self) -> None:
        if not self.key.replace("-", "").isalnum() or self.key != self.key.lower():
            raise ValueError(f"service key {self.key!r} must be lower-case letters, digits and hyphens")
        if not (
            2 <= len(self.reference_prefix) <= 5 and self.reference_prefix.isalpha() and self.reference_prefix.isupper()
        ):
            raise ValueError(f"reference prefix {self.reference_prefix!r} must be 2 to 5 capital letters")
        if len(self.purpose.fr) > PURPOSE_MAX:
            raise ValueError(f"purpose of {self.key!r} is longer than {PURPOSE_MAX} characters")
        if self.retention_days < 1 or self.draft_days < 1:
            raise ValueError(f"retention and draft periods of {self.key!r} must be at least one day")
        if self.retention_min_days is not None and not 1 <= self.retention_min_days <= self.retention_days:
            raise ValueError(f"retention_min_days of {self.key!r} must be between 1 and its retention_days")
        if not self.requires_sign_in and self.documents:
            raise ValueError(f"service {self.key!r} takes documents, so it must require signing in")
        if any(not _CLAIM.match(claim) for claim in self.identity_claims):
            raise ValueError(f"service {self.key!r}: identity claims are lower-case names such as 'birthdate'")
        names = [document.name for document in self.documents]
        if len(set(names)) != len(names):
            raise ValueError(f"service {self.key!r} declares a document twice")
        if EXTRA_DOCUMENT_NAME in names:
            raise ValueError(f"service {self.key!r}: the document name {EXTRA_DOCUMENT_NAME!r} belongs to the core")
        if any(not _CLAIM.match(name) for name in self.derived) or len(set(self.derived)) != len(self.derived):
            raise ValueError(f"service {self.key!r}: derived values have distinct lower-case names such as 'school'")


@dataclass(frozen=True)
class SharedRequest:
    """A request to share with another member commune, as ``guichet_request_shares`` names it (API 1.1).

    ``commune`` is the receiving commune's slug; ``fields`` the form fields it
    receives (nothing else of the form crosses); ``documents`` the documents
    the family chose to share for this purpose (their ``DocumentSpec`` names);
    ``summary`` the line the receiving agents see in their queue (no personal
    data); ``field`` the form field a refusal is shown on (the one naming the
    commune, say). Docs: docs/shared_requests.md.
    """

    commune: str
    fields: tuple[str, ...]
    documents: tuple[str, ...] = ()
    summary: str | None = None
    field: str = ""

    def __post_init__(self) -> None:
        if not self.commune or not self.fields:
            raise ValueError("a shared request names a commune and at least one field it discloses")
        if self.summary is not None and len(self.summary) > 200:
            raise ValueError("a shared request's summary is at most 200 characters")


#: the most form fields one counter of a places board matches on, and the longest value it compares
PLACES_MATCH_MAX = 4
PLACES_VALUE_MAX = 200


@dataclass(frozen=True)
class Places:
    """One counter of a service's places board, as ``guichet_service_places`` returns it (API 1.2).

    The core counts the commune's requests of the service whose answers hold
    every ``match`` value (field name -> the value stored, a choice's value
    say: ``{"school": "jules-ferry", "level": "cp"}``), by where the workflow
    has them: accepted (a state of ``accepted_states``, final or not: a request
    there holds a place), closed (any other final state, withdrawn) or in
    progress (any other state).
    ``capacity`` is the number of places (None: no limit, only counted);
    ``group`` gathers counters in one table (a school, with a row per level).
    Docs: docs/plugin_api.md, "Places".
    """

    label: Localized | str
    match: Mapping[str, str]
    capacity: int | None = None
    group: Localized | str | None = None
    #: the workflow's states whose requests hold a place (an accepted registration, an admission)
    accepted_states: tuple[str, ...] = ("accepted",)

    def __post_init__(self) -> None:
        if not (self.label.fr if isinstance(self.label, Localized) else self.label):
            raise ValueError("a places counter needs a label")
        if not 1 <= len(self.match) <= PLACES_MATCH_MAX:
            raise ValueError(f"a places counter matches 1 to {PLACES_MATCH_MAX} form fields")
        for name, value in self.match.items():
            if not isinstance(name, str) or not _NAME.match(name):
                raise ValueError(f"places counter: {name!r} is not a form field name")
            if not isinstance(value, str) or not 0 < len(value) <= PLACES_VALUE_MAX:
                raise ValueError(f"places counter: the value of {name!r} must be a text of 1 to 200 characters")
        if self.capacity is not None and (
            isinstance(self.capacity, bool) or not isinstance(self.capacity, int) or self.capacity < 0
        ):
            raise ValueError("a places counter's capacity is a whole number, 0 or more (or None: no limit)")
        if not self.accepted_states or any(not isinstance(state, str) for state in self.accepted_states):
            raise ValueError("a places counter names at least one state whose requests hold a place")
