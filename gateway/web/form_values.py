"""Answers as a page shows them: in the form's controls (as typed or as stored), and in words for reading.

Stored answers keep their type (a list, a number, an address object); the
controls of a page hold text. :func:`shown_values` gives each field what its
controls show — from a form just posted (exactly as typed, mistakes
included) or from the stored answers; :func:`answer_text` writes an answer
in words for the agents' case file, the counter receipt and the citizen's
« as filed » list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gateway.requests.field_kinds import address_lines, house_number_text
from gateway.requests.posted import ADDRESS_INPUTS, PostedForm
from gateway.services import FormField, Localized, PostalAddress
from gateway.web.dates import calendar_day

YES = Localized("Oui", "Yes")
NO = Localized("Non", "No")


def shown_values(form: Sequence[FormField], answers: Mapping[str, Any]) -> dict[str, Any]:
    """Each field's value for its controls: text, a list of ticked values, or an address's parts as text.

    Names the form does not declare are kept as they are (a page's own
    extra boxes, like the counter's receipt address).
    """
    if isinstance(answers, PostedForm):
        shown: dict[str, Any] = {name: answers.text(name) for name in answers}
        return shown | {field.name: _posted(field, answers) for field in form}
    shown = {name: value for name, value in answers.items() if isinstance(value, str)}
    return shown | {field.name: _stored(field, answers.get(field.name)) for field in form}


def _posted(field: FormField, posted: PostedForm) -> Any:
    if field.kind == "checkboxes":
        return list(posted.get(field.name, []))
    if field.kind == "address":
        return {part: _first(posted.get(f"{field.name}.{part}")) for part in ADDRESS_INPUTS}
    return _first(posted.get(field.name))


def _first(values: Sequence[str] | None) -> str:
    return values[0] if values else ""


def _stored(field: FormField, value: object) -> Any:
    if field.kind == "checkboxes":
        return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []
    if field.kind == "address":
        address: Mapping[str, Any] = value if isinstance(value, dict) else {}
        shown = {part: str(address.get(part) or "") for part in ADDRESS_INPUTS}
        shown["number"] = house_number_text(address) if address else ""  # type: ignore[arg-type]
        return shown
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) else ""


def answer_text(field: FormField, value: object) -> Localized:
    """An answer in words: choices by their label, yes/no, an address on one line, a date in words; "" when empty."""
    labels = {choice.value: choice.label for choice in field.choices}
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, list):
        chosen = [labels.get(item, Localized(str(item))) for item in value]
        return Localized(", ".join(label.fr for label in chosen), ", ".join(label("en") for label in chosen))
    if isinstance(value, dict):
        address: PostalAddress = value  # type: ignore[assignment]
        return Localized(", ".join(address_lines(address)))
    if isinstance(value, int):
        return Localized(str(value))
    text = value if isinstance(value, str) else ""
    if field.kind == "date" and text:
        return Localized(calendar_day(text, "fr"), calendar_day(text, "en"))
    return labels.get(text, Localized(text))
