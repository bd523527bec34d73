"""Form strings and their rules: reading text out of raw input, and what text a field or a message may hold.

One rule for every text a person types — a form field (:mod:`gateway.requests.forms`),
an agent's comment, note or message, a citizen's message: trimmed, line ends
made ``\\n`` where several lines are allowed, within a length, and no control
character (a tab always allowed, a line break only where several lines are).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from gateway.requests.errors import InvalidInput
from gateway.services import Localized

TEXT_MAX = 5000
Problem = Literal["not-text", "required", "too-long", "control"]

REQUIRED = Localized("Ce champ est obligatoire.", "This field is required.")
NOT_TEXT = Localized("Cette valeur doit être du texte.", "This value must be text.")
CONTROL_CHARS = Localized(
    "Ce texte contient des caractères non autorisés.", "This text contains characters that are not allowed."
)


#: control characters but a tab (and, where several lines are allowed, a line break); DEL too
_CONTROL_ONE_LINE = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
_CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def too_long(limit: int) -> Localized:
    return Localized(
        f"Ce texte est trop long : {limit} caractères au maximum.",
        f"This text is too long: at most {limit} characters.",
    )


def answers_of(values: Mapping[str, Any]) -> dict[str, Any]:
    """A stored form's answers, each in its type, as conditions (``show_if``, ``only_if``) are checked against."""
    return dict(values)


def cleaned(value: object, *, multiline: bool) -> str:
    """The text as kept: trimmed, and with ``\\n`` line ends where several lines are allowed."""
    text = value.strip() if isinstance(value, str) else ""
    return text.replace("\r\n", "\n") if multiline else text


def text_problem(value: object, text: str, *, required: bool, max_length: int, multiline: bool) -> Problem | None:
    """What is wrong with ``text`` (``value`` cleaned), or None. ``None`` as ``value`` is an empty answer."""
    if value is not None and not isinstance(value, str):
        return "not-text"
    if not text:
        return "required" if required else None
    if len(text) > max_length:
        return "too-long"
    if (_CONTROL_MULTILINE if multiline else _CONTROL_ONE_LINE).search(text):
        return "control"
    return None


def checked_text(value: object, *, required: bool, label: Localized) -> str:
    """A comment or message as typed, by the rules of a multi-line form field of :data:`TEXT_MAX` characters."""
    text = cleaned(value, multiline=True)
    problem = text_problem(value, text, required=required, max_length=TEXT_MAX, multiline=True)
    if problem == "required":
        raise InvalidInput(
            Localized(f"{label.fr} : ce champ est obligatoire.", f"{label('en')}: this field is required.")
        )
    if problem == "too-long":
        raise InvalidInput(
            Localized(
                f"{label.fr} : {TEXT_MAX} caractères au maximum.", f"{label('en')}: at most {TEXT_MAX} characters."
            )
        )
    if problem == "not-text":
        raise InvalidInput(NOT_TEXT)
    if problem == "control":
        raise InvalidInput(CONTROL_CHARS)
    return text
