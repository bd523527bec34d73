"""What a commune writes under ``[services.inscription-scolaire]``: its schools and its catchment map.

Checked when the gateway starts, like every setting: a catchment entry naming
an unknown school, or a school for a level group it does not teach, and
overlaps or gaps between a street's house-number ranges are refused with a
message naming the street and the numbers.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gateway import ServiceSettings
from guichet_inscription_scolaire.catchment_check import map_problems
from guichet_inscription_scolaire.levels import LEVELS

_KEY = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
Parity = Literal["all", "odd", "even"]


class School(BaseModel):
    """A school of the commune: a stable key (what requests record), its name and address, places per level."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    name: str = Field(min_length=1, max_length=120)
    address: str = Field(min_length=1, max_length=200)
    #: level code (``ps``, ``cp``…) -> places; the levels the school teaches are the keys
    capacity: dict[str, int]

    @field_validator("key")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _KEY.match(value):
            raise ValueError(f"school key {value!r}: lower-case letters, digits and hyphens")
        return value

    @field_validator("capacity")
    @classmethod
    def _known_levels(cls, value: dict[str, int]) -> dict[str, int]:
        if not value:
            raise ValueError("a school teaches at least one level")
        unknown = sorted(set(value) - set(LEVELS))
        if unknown:
            raise ValueError(f"unknown level(s) {', '.join(unknown)} (levels: {', '.join(LEVELS)})")
        if any(places < 1 for places in value.values()):
            raise ValueError("a level's capacity is at least one place")
        return value

    @property
    def levels(self) -> tuple[str, ...]:
        return tuple(level for level in LEVELS if level in self.capacity)


class CatchmentRange(BaseModel):
    """House numbers of one street (``from``..``to``, all, odd or even ones) and the school of each level group."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    street: str = Field(min_length=1, max_length=150)
    first: int = Field(default=1, ge=0, alias="from")
    #: the last number (inclusive); None: to the end of the street
    last: int | None = Field(default=None, ge=0, alias="to")
    parity: Parity = "all"
    #: the school key for nursery levels (TPS to GS) and for elementary ones (CP to CM2)
    maternelle: str | None = None
    elementaire: str | None = None

    @model_validator(mode="after")
    def _sensible(self) -> CatchmentRange:
        if self.last is not None and self.last < self.first:
            raise ValueError(f"{self.street}: 'to' ({self.last}) is below 'from' ({self.first})")
        if self.maternelle is None and self.elementaire is None:
            raise ValueError(f"{self.street}: name the school for 'maternelle', 'elementaire' or both")
        return self


class InscriptionSettings(ServiceSettings):
    """Per-commune settings; any other key is refused when the gateway starts."""

    schools: tuple[School, ...] = ()
    catchment: tuple[CatchmentRange, ...] = ()
    #: other member communes a family may ask a dérogation for: slug -> name shown
    partner_communes: dict[str, str] = Field(default_factory=dict)
    #: the month (1-12) from which the coming school year is offered (registrations open before June)
    opens_month: int = Field(default=1, ge=1, le=12)

    @model_validator(mode="after")
    def _coherent_map(self) -> InscriptionSettings:
        keys = [school.key for school in self.schools]
        if len(set(keys)) != len(keys):
            raise ValueError("a school key is listed twice")
        problems = map_problems({school.key: school.levels for school in self.schools}, self.catchment)
        if problems:
            raise ValueError("catchment map: " + "; ".join(problems))
        return self

    def school(self, key: str) -> School | None:
        return next((school for school in self.schools if school.key == key), None)
