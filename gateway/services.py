"""What a plugin says about the e-services it provides.

These are plain, frozen values: a plugin returns them from its hooks and the
core renders, validates and stores with them. Nothing here touches the
database, so a plugin never needs a session to describe a service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class Localized:
    """A text in French (always) and English (falls back to French)."""

    fr: str
    en: str | None = None

    def __call__(self, locale: str) -> str:
        return self.en if locale == "en" and self.en else self.fr


PURPOSE_MAX = 200

FieldKind = Literal["text", "textarea", "email", "tel", "date", "select"]


@dataclass(frozen=True)
class Choice:
    value: str
    label: Localized


@dataclass(frozen=True)
class FormField:
    """One field of a service's form; the core renders and checks it generically."""

    name: str
    label: Localized
    kind: FieldKind = "text"
    required: bool = True
    max_length: int = 200
    help: Localized | None = None
    choices: tuple[Choice, ...] = ()
    autocomplete: str | None = None


@dataclass(frozen=True)
class FieldError:
    """A message about one field (or the whole form when ``field`` is empty)."""

    field: str
    message: Localized


class ServiceSettings(BaseModel):
    """Base for a service's per-commune settings: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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
    retention_days: int = 365
    subject_field: str | None = None

    def __post_init__(self) -> None:
        if not self.key.replace("-", "").isalnum() or self.key != self.key.lower():
            raise ValueError(f"service key {self.key!r} must be lower-case letters, digits and hyphens")
        if not (
            2 <= len(self.reference_prefix) <= 5 and self.reference_prefix.isalpha() and self.reference_prefix.isupper()
        ):
            raise ValueError(f"reference prefix {self.reference_prefix!r} must be 2 to 5 capital letters")
        if len(self.purpose.fr) > PURPOSE_MAX:
            raise ValueError(f"purpose of {self.key!r} is longer than {PURPOSE_MAX} characters")
