"""Checking the shape of form bodies before anything parses them for real.

asgi-csrf and Starlette both parse form bodies; asgi-csrf crashes on a
multipart body without a usable boundary, on a broken one and on text that
is not UTF-8, and Starlette quietly keeps such text as Latin-1. The checks
here run first (from :mod:`gateway.web.input_guard`) and say what is wrong,
so what reaches the parsers is well formed, in UTF-8, with a plausible token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import DEFAULT_MAX_HEADER_SIZE, MultipartParser, parse_options_header
from starlette.datastructures import FormData
from starlette.requests import Request

from gateway.services import Localized

MULTIPART = "multipart/form-data"
URLENCODED = "application/x-www-form-urlencoded"
#: the form field asgi-csrf compares with the cookie; it must be ASCII for that comparison
TOKEN_FIELD = b"csrftoken"
#: RFC 2046 §5.1.1: 1 to 70 characters among these, not ending with a space
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")

NO_BOUNDARY = Localized(
    "Le formulaire envoyé (multipart/form-data) n'indique pas de délimiteur valide (paramètre « boundary » "
    "de 1 à 70 caractères).",
    "The form sent (multipart/form-data) has no valid delimiter (a “boundary” parameter of 1 to 70 characters).",
)
BROKEN_MULTIPART = Localized(
    "Le formulaire envoyé (multipart/form-data) est mal formé ou incomplet. Renvoyez-le depuis la page du site.",
    "The form sent (multipart/form-data) is malformed or incomplete. Send it again from the site's page.",
)
NOT_UTF8 = Localized(
    "Le formulaire contient du texte qui n'est pas en UTF-8. Renvoyez-le depuis la page du site.",
    "The form holds text that is not valid UTF-8. Send it again from the site's page.",
)
#: a file name longer than this is refused with its length (file systems stop at 255)
FILENAME_MAX_INPUT = 255
HEADER_TOO_LONG = Localized(
    f"Un en-tête du formulaire envoyé dépasse {DEFAULT_MAX_HEADER_SIZE} octets.",
    f"A header of the form sent is longer than {DEFAULT_MAX_HEADER_SIZE} bytes.",
)


def filename_too_long(length: int) -> Localized:
    return Localized(
        f"Le nom du fichier est trop long : {length} caractères, {FILENAME_MAX_INPUT} au plus. "
        "Renommez le fichier, puis envoyez-le à nouveau.",
        f"The file name is too long: {length} characters, at most {FILENAME_MAX_INPUT}. "
        "Rename the file, then send it again.",
    )


BAD_TOKEN = Localized(
    "Le jeton de sécurité du formulaire est mal formé. Rechargez la page et envoyez-le à nouveau.",
    "The form's security token is malformed. Reload the page and send it again.",
)


def form_kind(content_type: bytes) -> tuple[str, str | None] | None:
    """(media type, boundary) of a form body, as the parsers will read it; None for anything not a form.

    A multipart type whose boundary is missing or invalid gives a boundary of None.
    """
    media, options = parse_options_header(content_type.decode("latin-1"))
    kind = media.decode("latin-1")
    if kind == URLENCODED:
        return kind, None
    if kind != MULTIPART:
        return None
    boundary = options.get(b"boundary", b"").decode("latin-1")
    return kind, boundary if _BOUNDARY.fullmatch(boundary) else None


def canonical_content_type(kind: str, boundary: str | None) -> bytes:
    """The header in the one spelling every parser reads alike (asgi-csrf splits on ``"; boundary="``)."""
    return f"{kind}; boundary={boundary}".encode("latin-1") if boundary else kind.encode("latin-1")


def urlencoded_problem(body: bytes) -> Localized | None:
    """What is wrong with an URL-encoded form body, or None."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        return NOT_UTF8
    if any(name == TOKEN_FIELD.decode() and not value.isascii() for name, value in pairs):
        return BAD_TOKEN
    return None


@dataclass
class _Part:
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    data: bytearray = field(default_factory=bytearray)
    is_file: bool = False
    name: bytes = b""
    filename: bytes = b""


class _MultipartCheck:
    """Collects the parts' headers and the text fields' values while python-multipart reads the body."""

    def __init__(self) -> None:
        self.parts: list[_Part] = []
        self.ended = False
        self._field = bytearray()
        self._value = bytearray()

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": lambda: self.parts.append(_Part()),
            "on_header_field": lambda data, start, end: self._field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._value.extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_end": self._end,
        }

    def _header_end(self) -> None:
        self.parts[-1].headers.append((bytes(self._field).lower(), bytes(self._value)))
        self._field.clear()
        self._value.clear()

    def _headers_finished(self) -> None:
        part = self.parts[-1]
        disposition = dict(part.headers).get(b"content-disposition", b"")
        _kind, options = parse_options_header(disposition)
        part.name = options.get(b"name", b"")
        part.is_file = b"filename" in options
        part.filename = options.get(b"filename", b"")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        part = self.parts[-1]
        if not part.is_file:
            part.data.extend(data[start:end])

    def _end(self) -> None:
        self.ended = True

    def problem(self) -> Localized | None:
        if not self.ended or not self.parts:
            return BROKEN_MULTIPART
        for part in self.parts:
            disposition = dict(part.headers).get(b"content-disposition")
            if disposition is None or not part.name:
                return BROKEN_MULTIPART
            try:
                for _name, value in part.headers:
                    value.decode("utf-8")
                if not part.is_file:
                    part.data.decode("utf-8")
            except UnicodeDecodeError:
                return NOT_UTF8
            length = len(part.filename.decode("utf-8", "replace"))
            if length > FILENAME_MAX_INPUT:
                return filename_too_long(length)
            if any(len(name) + len(value) > DEFAULT_MAX_HEADER_SIZE for name, value in part.headers):
                return HEADER_TOO_LONG
            if part.name == TOKEN_FIELD and (part.is_file or not part.data or not part.data.isascii()):
                return BAD_TOKEN
        return None


def multipart_problem(body: bytes, boundary: str) -> Localized | None:
    """What is wrong with a multipart form body, or None: it must parse to its closing delimiter."""
    check = _MultipartCheck()
    try:
        # headers up to 16 times what Starlette's parser takes, so a long one is named, not "invalid data"
        callbacks: Any = check.callbacks()
        parser = MultipartParser(boundary, callbacks, max_header_size=16 * DEFAULT_MAX_HEADER_SIZE)
        parser.write(body)
        parser.finalize()
    except FormParserError:
        return BROKEN_MULTIPART
    return check.problem()


async def text_form(request: Request) -> FormData:
    """The posted form with any uploaded file already closed, for handlers that read text fields only.

    A form left open keeps its spooled files until the garbage collector
    finds them; a file posted to a page that expects none is dropped at once.
    """
    async with request.form() as form:
        return form
