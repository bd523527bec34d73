"""Words that explain a form: conditional fields, accepted document types and sizes, in the reader's language.

Shared by every page that renders a service's form (the public form, the
citizen's draft, the counter form), so each says the same thing the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from gateway.requests.attachments import size_text, types_text
from gateway.services import FieldError, FormField, Localized
from gateway.web.form_values import NO, YES


def condition_text(
    condition: tuple[str, tuple[str, ...]] | None, form: Sequence[FormField], locale: str
) -> tuple[str, str] | None:
    """("Retrait", "Par courrier") for a field or document shown only for some answers of another field."""
    if condition is None:
        return None
    name, wanted = condition
    other = next((form_field for form_field in form if form_field.name == name), None)
    if other is None:
        return name, " / ".join(wanted)
    choices = {choice.value: choice.label(locale) for choice in other.choices}
    if other.kind == "yesno":
        choices = {"yes": YES(locale), "no": NO(locale)}
    joiner = " » ou « " if locale == "fr" else "” or “"
    return other.label(locale), joiner.join(choices.get(value, value) for value in wanted)


def form_hints(form: Sequence[FormField], locale: str) -> dict[str, Callable[[Any], Any]]:
    """The template helpers a service form's page needs: ``condition``, ``size_text``, ``types_text``."""
    return {
        "condition": lambda show_if: condition_text(show_if, form, locale),
        "size_text": lambda size: size_text(size)(locale),
        "types_text": lambda accept: types_text(accept)(locale),
    }


def first_errors(errors: Sequence[FieldError]) -> dict[str, Localized]:
    """Each field's first error, the one shown next to it."""
    found: dict[str, Localized] = {}
    for error in errors:
        found.setdefault(error.field, error.message)
    return found
