"""What a commune may adjust in ``[services.etat-civil]``, with the lawful defaults."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field, field_validator, model_validator

from gateway import ServiceSettings
from guichet_etat_civil.entitlement import FORMS, LAWFUL_MATRIX, Form, Kind, Quality, Rules

#: civil registers kept by the communes start in 1792
FIRST_REGISTER_YEAR = 1792


def _lawful_matrix() -> dict[Kind, dict[Form, tuple[Quality, ...]]]:
    return {kind: dict(forms) for kind, forms in LAWFUL_MATRIX.items()}


class EtatCivilSettings(ServiceSettings):
    """Per-commune settings; any other key is refused when the gateway starts."""

    #: the first year whose records the commune delivers online; older ones are for its archives
    registers_from_year: int = Field(default=1900, ge=FIRST_REGISTER_YEAR)
    #: the forms of document the commune delivers, in the order offered
    forms: tuple[Form, ...] = FORMS
    #: whether the citizen may collect the document at the town hall's counter
    counter_pickup: bool = False
    #: working days the commune takes, told to citizens
    processing_days: int = Field(default=10, ge=1, le=30)
    #: the largest number of copies one request may ask for
    max_copies: int = Field(default=3, ge=1, le=10)
    #: kind -> form -> the qualities entitled to it; a commune's file overrides entries, the rest stay lawful
    entitled: dict[Kind, dict[Form, tuple[Quality, ...]]] = Field(default_factory=_lawful_matrix)
    #: a record is open to anyone this many years after its date…
    archive_years: int = Field(default=75, ge=1, le=150)
    #: …this many when it concerns a minor…
    archive_years_minor: int = Field(default=100, ge=1, le=150)
    #: …or this many years after the death of the person it concerns
    years_after_death: int = Field(default=25, ge=1, le=150)
    #: a PACS partner is offered as a quality and treated as a spouse (sources disagree: off by default)
    pacs_partner_entitled: bool = False

    @field_validator("registers_from_year")
    @classmethod
    def _not_in_the_future(cls, value: int) -> int:
        if value > date.today().year:
            raise ValueError("registers_from_year is in the future")
        return value

    @field_validator("forms")
    @classmethod
    def _distinct_and_not_empty(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("deliver at least one form of document")
        if len(set(value)) != len(value):
            raise ValueError("a form is listed twice")
        return value

    @field_validator("entitled", mode="before")
    @classmethod
    def _over_the_lawful_matrix(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        merged: dict[Any, Any] = _lawful_matrix()
        for kind, forms in value.items():
            merged[kind] = {**merged.get(kind, {}), **forms} if isinstance(forms, dict) else forms
        return merged

    @field_validator("entitled")
    @classmethod
    def _death_is_a_full_copy(
        cls, value: dict[Kind, dict[Form, tuple[Quality, ...]]]
    ) -> dict[Kind, dict[Form, tuple[Quality, ...]]]:
        if set(value.get("death", {})) - {"full-copy"}:
            raise ValueError("a death record is issued as a full copy only")
        for kind, forms in value.items():
            for form, qualities in forms.items():
                if not qualities:
                    raise ValueError(f"{kind}.{form}: name at least one quality (use `forms` to stop delivering it)")
                if len(set(qualities)) != len(qualities):
                    raise ValueError(f"{kind}.{form}: a quality is listed twice")
        return value

    @model_validator(mode="after")
    def _minor_period_not_shorter(self) -> EtatCivilSettings:
        if self.archive_years_minor < self.archive_years:
            raise ValueError("archive_years_minor must not be shorter than archive_years")
        return self

    def rules(self) -> Rules:
        return Rules(
            matrix=self.entitled,
            archive_years=self.archive_years,
            archive_years_minor=self.archive_years_minor,
            years_after_death=self.years_after_death,
            pacs_partner_entitled=self.pacs_partner_entitled,
        )

    @property
    def kinds(self) -> tuple[Kind, ...]:
        """The kinds of record offered: a death record only when full copies are delivered."""
        return ("birth", "marriage", "death") if "full-copy" in self.forms else ("birth", "marriage")
