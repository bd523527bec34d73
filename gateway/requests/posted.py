"""An HTML form as posted, kept apart from a JSON body so each is read by its own rules.

A browser sends every value as text and repeats a name for each ticked box;
a JSON client sends typed values (a list, a number, an object). The form
checks (:mod:`gateway.requests.forms`) read a :class:`PostedForm` as the
browser's shape: one text per field (a repeated one is refused), every value
of a multiple choice, ``yes``/``no`` for a yes/no question, and an
address's parts under ``<field>.<part>``.
"""

from __future__ import annotations

from collections.abc import Iterable

#: the parts of an address field as the page names them (``<field>.<part>``): the house number is typed with its
#: repetition index (« 12 bis »), so the page has no separate box for it
ADDRESS_INPUTS = ("number", "street", "complement", "postcode", "town")


class PostedForm(dict[str, list[str]]):
    """Every text value of a posted form, by name, in the order sent (files and the form's tokens left out)."""

    @classmethod
    def from_items(cls, items: Iterable[tuple[str, object]], *, drop: Iterable[str] = ("csrftoken",)) -> PostedForm:
        dropped = set(drop)
        posted = cls()
        for name, value in items:
            if isinstance(value, str) and name not in dropped:
                posted.setdefault(name, []).append(value)
        return posted

    def text(self, name: str, default: str = "") -> str:
        """The last value sent under ``name`` (a page's own box, read once)."""
        values = self.get(name)
        return values[-1] if values else default

    def pop_text(self, name: str, default: str = "") -> str:
        """Take out a control value the page itself adds (the last one sent), not an answer."""
        values = self.pop(name, None)
        return values[-1] if values else default
