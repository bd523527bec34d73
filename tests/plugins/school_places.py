"""A school registration service with a places board, for the tests of ``guichet_service_places`` (API 1.2).

``inscription`` (« Inscription scolaire ») asks for the child's name, the
school and the level. A commune's settings give each school's capacity per
level (``capacities = {jules-ferry = {cp = 2, ce1 = 1}}``); the board shows a
table per school, a row per level, and a row counting the whole school with
no capacity. ``holding`` names the states holding a place. ``fault`` makes the plugin misbehave, for the tests of a
plugin's failure: ``raise`` raises, ``state`` names a state the workflow does
not have, ``shape`` returns a text instead of a list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from gateway import (
    DEFAULT_WORKFLOW,
    Choice,
    FormField,
    Localized,
    Places,
    ServiceDefinition,
    ServiceSettings,
    hookimpl,
)

#: the plugin API version this plugin is written for: places boards came in 1.2
GUICHET_PLUGIN_API = "1.2"

KEY = "inscription"
SCHOOLS = {"jules-ferry": "École Jules-Ferry", "moulin": "École du Moulin"}
LEVELS = {"cp": Localized("CP", "Year 1"), "ce1": Localized("CE1", "Year 2")}


class SchoolSettings(ServiceSettings):
    #: school -> level -> places
    capacities: dict[str, dict[str, int]] = Field(default_factory=dict)
    fault: Literal["", "raise", "state", "shape"] = ""
    #: the states whose requests hold a place
    holding: tuple[str, ...] = ("accepted",)


SERVICE = ServiceDefinition(
    key=KEY,
    title=Localized("Inscription scolaire", "School registration"),
    description=Localized("Inscrire un enfant à l'école.", "Register a child at school."),
    reference_prefix="INS",
    purpose=Localized("Inscriptions scolaires", "School registrations"),
    settings=SchoolSettings,
    workflow=DEFAULT_WORKFLOW,
)


@hookimpl
def guichet_services() -> list[ServiceDefinition]:
    return [SERVICE]


@hookimpl
def guichet_service_form() -> list[FormField]:
    return [
        FormField("child_name", Localized("Nom de l'enfant", "Child's name")),
        FormField(
            "school",
            Localized("École", "School"),
            kind="select",
            choices=tuple(Choice(value, Localized(name)) for value, name in SCHOOLS.items()),
        ),
        FormField(
            "level",
            Localized("Niveau", "Level"),
            kind="select",
            choices=tuple(Choice(value, label) for value, label in LEVELS.items()),
        ),
    ]


@hookimpl
def guichet_service_places(settings: SchoolSettings) -> Sequence[Places] | None:
    if settings.fault == "raise":
        raise RuntimeError("the capacities could not be read")
    if settings.fault == "shape":
        return "CP"  # type: ignore[return-value]
    accepted = settings.holding if settings.fault != "state" else ("admitted",)
    counters = []
    for school, levels in settings.capacities.items():
        group = SCHOOLS.get(school, school)
        counters += [
            Places(LEVELS.get(level, Localized(level)), {"school": school, "level": level}, capacity, group, accepted)
            for level, capacity in levels.items()
        ]
        counters.append(Places(Localized("Toute l'école", "Whole school"), {"school": school}, None, group, accepted))
    return counters or None
