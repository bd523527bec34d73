"""The core's generic checks of a filled form, with messages in both languages.

The text rules themselves (length, control characters, line breaks) are
:mod:`gateway.requests.text`'s, shared with comments and messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date

from gateway.notify.email_addresses import EmailNotValidError, validated
from gateway.requests.field_kinds import (
    ONE_VALUE,
    empty_value,
    posted_value,
    read_address,
    read_choices,
    read_number,
    read_yes_no,
)
from gateway.requests.posted import ADDRESS_INPUTS, PostedForm
from gateway.requests.text import CONTROL_CHARS, NOT_TEXT, REQUIRED, cleaned, text_problem, too_long
from gateway.services import FieldError, FieldValue, FormField, Localized

__all__ = ["BAD_DATE", "BAD_EMAIL", "BAD_PHONE", "CONTROL_CHARS", "NOT_TEXT", "ONE_VALUE", "REQUIRED",
           "UNKNOWN_CHOICE", "check_form", "read_answer", "too_long"]  # fmt: skip

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


def check_form(
    fields: Sequence[FormField], raw: Mapping[str, object]
) -> tuple[dict[str, FieldValue], list[FieldError]]:
    """Return the cleaned values of the declared fields, each in its kind's type, and the errors found.

    ``raw`` is a JSON body's ``data`` or a :class:`PostedForm` (a page's
    form). Keys the form does not declare are dropped, so nothing unexpected
    is stored; a conditional field whose condition is not met is emptied and
    not checked (an address typed, then "pickup at the counter" chosen). A
    wrong answer is stored empty (in its type) with its error.
    """
    fields = [field for field in fields if field.kind != "document"]  # a file is attached, not answered
    sent = {field.name: _sent(field, raw) for field in fields}
    values: dict[str, FieldValue] = {}
    errors: dict[str, Localized] = {}
    for field in fields:
        values[field.name], error = read_answer(field, sent[field.name])
        if error is not None:
            errors[field.name] = error
    found: list[FieldError] = []
    for field in fields:
        if not field.applies(values):
            values[field.name] = empty_value(field)
        elif field.name in errors:
            found.append(FieldError(field.name, errors[field.name]))
    return values, found


def _sent(field: FormField, raw: Mapping[str, object]) -> object:
    """What was sent for ``field``, a posted form's texts brought to the JSON shape."""
    if not isinstance(raw, PostedForm):
        return raw.get(field.name)
    if field.kind == "address":
        parts = {part: posted_value(field, raw.get(f"{field.name}.{part}")) for part in ADDRESS_INPUTS}
        return None if all(part is None for part in parts.values()) else parts
    value = posted_value(field, raw.get(field.name))
    if field.kind == "yesno":  # the page's radio buttons say yes or no; JSON says true or false
        return {"yes": True, "no": False, "": None}.get(value, value) if isinstance(value, str) else value
    return value


def read_answer(field: FormField, value: object) -> tuple[FieldValue, Localized | None]:
    """One answer (as a JSON client sends it) in its kind's type, with its error; its empty value when wrong."""
    if field.kind == "number":
        return read_number(field, value)
    if field.kind == "yesno":
        return read_yes_no(field, value)
    if field.kind == "checkboxes":
        return read_choices(field, value)
    if field.kind == "address":
        return read_address(field, value)
    if isinstance(value, list):
        return "", ONE_VALUE
    text = cleaned(value, multiline=field.kind == "textarea")
    error = _text_error(field, text, value)
    return (text if error is None or isinstance(value, str) else ""), error


def _text_error(field: FormField, text: str, value: object) -> Localized | None:
    problem = text_problem(
        value, text, required=field.required, max_length=field.max_length, multiline=field.kind == "textarea"
    )
    if problem is not None:
        return {"not-text": NOT_TEXT, "required": REQUIRED, "too-long": too_long(field.max_length)}.get(
            problem, CONTROL_CHARS
        )
    if not text:
        return None
    if field.kind in ("select", "radio") and text not in {choice.value for choice in field.choices}:
        return UNKNOWN_CHOICE
    if field.kind == "email":
        try:
            validated(text)
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
