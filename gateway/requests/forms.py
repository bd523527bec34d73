"""The core's generic checks of a filled form, with messages in both languages.

The text rules themselves (length, control characters, line breaks) are
:mod:`gateway.requests.text`'s, shared with comments and messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date

from email_validator import EmailNotValidError, validate_email

from gateway.requests.text import CONTROL_CHARS, NOT_TEXT, REQUIRED, cleaned, text_problem, too_long
from gateway.services import FieldError, FormField, Localized

__all__ = ["BAD_DATE", "BAD_EMAIL", "BAD_PHONE", "CONTROL_CHARS", "NOT_TEXT", "REQUIRED", "UNKNOWN_CHOICE",
           "check_form", "too_long"]  # fmt: skip

_PHONE = re.compile(r"^\+?[0-9 .()-]{6,20}$")

UNKNOWN_CHOICE = Localized("Choisissez une des options proposées.", "Choose one of the options offered.")
BAD_EMAIL = Localized(
    "Saisissez une adresse électronique valide, par exemple nom@exemple.fr.",
    "Enter a valid e-mail address, for example name@example.org.",
)
BAD_PHONE = Localized(
    "Saisissez un numéro de téléphone, par exemple 04 12 34 56 78.", "Enter a phone number, for example 04 12 34 56 78."
)
BAD_DATE = Localized("Saisissez une date valide au format AAAA-MM-JJ.", "Enter a valid date as YYYY-MM-DD.")


def check_form(fields: Sequence[FormField], raw: Mapping[str, object]) -> tuple[dict[str, str], list[FieldError]]:
    """Return the cleaned values of the declared fields and the errors found.

    Keys the form does not declare are dropped, so nothing unexpected is
    stored; a conditional field whose condition is not met is emptied and
    not checked (an address typed, then "pickup at the counter" chosen).
    """
    cleaned_values = {field.name: cleaned(raw.get(field.name), multiline=field.kind == "textarea") for field in fields}
    errors: list[FieldError] = []
    for field in fields:
        if not field.applies(cleaned_values):
            cleaned_values[field.name] = ""
            continue
        error = _field_error(field, cleaned_values[field.name], raw.get(field.name))
        if error is not None:
            errors.append(FieldError(field.name, error))
    return cleaned_values, errors


def _field_error(field: FormField, text: str, value: object) -> Localized | None:
    problem = text_problem(
        value, text, required=field.required, max_length=field.max_length, multiline=field.kind == "textarea"
    )
    if problem is not None:
        return {"not-text": NOT_TEXT, "required": REQUIRED, "too-long": too_long(field.max_length)}.get(
            problem, CONTROL_CHARS
        )
    if not text:
        return None
    if field.kind == "select" and text not in {choice.value for choice in field.choices}:
        return UNKNOWN_CHOICE
    if field.kind == "email":
        try:
            validate_email(text, check_deliverability=False)
        except EmailNotValidError:
            return BAD_EMAIL
    if field.kind == "tel" and not _PHONE.match(text):
        return BAD_PHONE
    if field.kind == "date":
        try:
            date.fromisoformat(text)
        except ValueError:
            return BAD_DATE
    return None
