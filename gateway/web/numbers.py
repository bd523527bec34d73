"""Integers read from a path, a query string or a form: ASCII digits, within bounds, or a 4xx naming the parameter.

``str.isdigit()`` accepts « ¹ » and Arabic-Indic digits, which ``int()`` then
refuses or reads; a number larger than the database's integers overflows in
the query. Every route reads its integers through here instead.
"""

from __future__ import annotations

from gateway.services import Localized
from gateway.web.errors import PageError

#: the largest value of an INTEGER column on PostgreSQL (SQLite's are wider)
INTEGER_MAX = 2**31 - 1
#: the largest value of a BIGINT column, on both databases
BIGINT_MAX = 2**63 - 1


def integer_in(text: str, low: int, high: int) -> int | None:
    """``text`` as an integer if it is ASCII digits only and between ``low`` and ``high``; else None."""
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > len(str(high)):
        return None
    value = int(text)
    return value if low <= value <= high else None


def bounds(name: str, low: int, high: int) -> Localized:
    return Localized(
        f"« {name} » : un nombre entier de {low} à {high} est attendu.",
        f"“{name}”: an integer from {low} to {high} is expected.",
    )


def integer_parameter(text: str, name: str, low: int, high: int, *, status: int = 400) -> int:
    """``text`` as an integer within bounds, else a :class:`PageError` (400 unless told) naming it and the bounds."""
    value = integer_in(text, low, high)
    if value is None:
        raise PageError(status, bounds(name, low, high))
    return value
