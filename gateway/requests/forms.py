"""The core's generic checks of a filled form, with messages in both languages."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date

from email_validator import EmailNotValidError, validate_email

from gateway.services import FieldError, FormField, Localized

_PHONE = re.compile(r"^\+?[0-9 .()-]{6,20}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

REQUIRED = Localized("Ce champ est obligatoire.", "This field is required.")
UNKNOWN_CHOICE = Localized("Choisissez une des options proposées.", "Choose one of the options offered.")
BAD_EMAIL = Localized(
    "Saisissez une adresse électronique valide, par exemple nom@exemple.fr.",
    "Enter a valid e-mail address, for example name@example.org.",
)
BAD_PHONE = Localized(
    "Saisissez un numéro de téléphone, par exemple 04 12 34 56 78.", "Enter a phone number, for example 04 12 34 56 78."
)
BAD_DATE = Localized("Saisissez une date valide au format AAAA-MM-JJ.", "Enter a valid date as YYYY-MM-DD.")
NOT_TEXT = Localized("Cette valeur doit être du texte.", "This value must be text.")
CONTROL_CHARS = Localized(
    "Ce texte contient des caractères non autorisés.", "This text contains characters that are not allowed."
)


def too_long(limit: int) -> Localized:
    return Localized(
        f"Ce texte est trop long : {limit} caractères au maximum.",
        f"This text is too long: at most {limit} characters.",
    )


def check_form(fields: Sequence[FormField], raw: Mapping[str, object]) -> tuple[dict[str, str], list[FieldError]]:
    """Return the cleaned values of the declared fields and the errors found.

    Keys the form does not declare are dropped, so nothing unexpected is
    stored; a conditional field whose condition is not met is emptied and
    not checked (an address typed, then "pickup at the counter" chosen).
    """
    cleaned: dict[str, str] = {}
    for field in fields:
        value = raw.get(field.name)
        text = value.strip() if isinstance(value, str) else ""
        cleaned[field.name] = text.replace("\r\n", "\n") if field.kind == "textarea" else text
    errors: list[FieldError] = []
    for field in fields:
        if not field.applies(cleaned):
            cleaned[field.name] = ""
            continue
        error = _field_error(field, cleaned[field.name], raw.get(field.name))
        if error is not None:
            errors.append(FieldError(field.name, error))
    return cleaned, errors


def _field_error(field: FormField, text: str, value: object) -> Localized | None:
    if value is not None and not isinstance(value, str):
        return NOT_TEXT
    if not text:
        return REQUIRED if field.required else None
    if len(text) > field.max_length:
        return too_long(field.max_length)
    if _CONTROL.search(text) or (field.kind != "textarea" and "\n" in text):
        return CONTROL_CHARS
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
