"""Reading the input of the requests API: JSON body fields, the Idempotency-Key header, and their problems.

Every mistake in a body is collected before answering once (422, field by
field), so a client fixes them all in one round; a bad query string is a
400 in the same shape. Both the citizens' and the agents' endpoints use it.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gateway.api.bodies import json_object
from gateway.requests.submission_keys import SubmissionKeyTooLong, key_from_header
from gateway.requests.text import NOT_TEXT, REQUIRED
from gateway.services import FieldError, Localized
from gateway.web.errors import problem
from gateway.web.i18n import choose_locale
from gateway.web.numbers import INTEGER_MAX
from gateway.web.openapi import problem_response

Endpoint = Callable[[Request], Awaitable[Response]]

FORM_ERRORS = Localized("Le formulaire contient des erreurs.", "The form has errors.")
BODY_ERRORS = Localized("Le corps de la requête contient des erreurs.", "The request body has errors.")
BAD_KEY = Localized(
    "L'en-tête Idempotency-Key dépasse 64 caractères.", "The Idempotency-Key header is longer than 64 characters."
)
NOT_AN_OBJECT = Localized("Cette valeur doit être un objet JSON.", "This value must be a JSON object.")
NOT_A_VERSION = Localized(
    "Indiquez la version de la demande que vous avez lue (un nombre entier).",
    "Give the version of the request you read (an integer).",
)
NOT_AN_ID = Localized(
    "Indiquez un identifiant de compte (nombre entier) ou null.", "Give an account id (integer) or null."
)
UNKNOWN_FIELD = Localized("Ce champ n'est pas attendu ici.", "This field is not expected here.")
REFERENCES = Localized(
    "Donnez une liste de 1 à 200 références (textes).", "Give a list of 1 to 200 references (strings)."
)
INVALID_BODY = "urn:guichet:problem:invalid-body"

#: what :func:`json_object` and :class:`Body` answer, for the ``@operation`` of an endpoint reading a JSON body
JSON_BODY_ERRORS = {
    "400": problem_response("The body is not valid JSON, or not a JSON object."),
    "415": problem_response("The body is not JSON."),
    "422": problem_response("A field of the body is missing or of the wrong type; `errors` lists them."),
}


def at_most(limit: int) -> Localized:
    return Localized(f"{limit} caractères au maximum.", f"At most {limit} characters.")


class ShapeError(Exception):
    """A body or query string of the wrong shape, with what is wrong field by field."""

    def __init__(self, status: int, title: Localized, errors: Sequence[tuple[str, Localized]], type_: str) -> None:
        self.status, self.title, self.errors, self.type_ = status, title, errors, type_
        super().__init__(title.fr)


def body_error(errors: Sequence[tuple[str, Localized]]) -> ShapeError:
    return ShapeError(422, BODY_ERRORS, errors, INVALID_BODY)


def answers_shape_errors(endpoint: Endpoint) -> Endpoint:
    """Turn a :class:`ShapeError` raised while reading the input into its problem document."""

    @functools.wraps(endpoint)
    async def wrapped(request: Request) -> Response:
        try:
            return await endpoint(request)
        except ShapeError as error:
            locale = choose_locale(request)
            errors = [{"field": name, "detail": text(locale)} for name, text in error.errors]
            return problem(error.status, error.title(locale), _listing(errors), type_=error.type_, errors=errors)

    return wrapped


def form_problem(request: Request, errors: Sequence[FieldError], more: Sequence[dict[str, Any]] = ()) -> Response:
    """The 422 for a form the service layer refused, with the same ``errors`` as a page would show.

    ``more``: errors already listed, of other requests (a family's other members, each naming its request).
    """
    listed = field_errors(request, errors) + list(more)
    return problem(
        422,
        FORM_ERRORS(choose_locale(request)),
        _listing(listed),
        type_="urn:guichet:problem:validation-error",
        errors=listed,
    )


def field_errors(request: Request, errors: Sequence[FieldError]) -> list[dict[str, str]]:
    locale = choose_locale(request)
    return [{"field": error.field, "detail": error.message(locale)} for error in errors]


def _listing(errors: Sequence[Mapping[str, str]]) -> str:
    """The errors in one line, for a client that shows only ``detail``."""
    return " ; ".join(f"{error['field'] or '*'} : {error['detail']}" for error in errors)


def _count(value: Any) -> int | None:
    """``value`` if it is a positive integer a database column holds (``true`` is not one), else ``None``."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= INTEGER_MAX else None


class Body:
    """Reads the fields of a JSON object body, collecting every mistake before answering 422 once."""

    def __init__(self, values: Mapping[str, Any], allowed: Sequence[str]) -> None:
        self.values = values
        self.errors: list[tuple[str, Localized]] = [(name, UNKNOWN_FIELD) for name in values if name not in allowed]

    def text(self, name: str, *, required: bool = False, max_length: int | None = None) -> str:
        value = self.values.get(name)
        if value is None:
            if required:
                self.errors.append((name, REQUIRED))
            return ""
        if not isinstance(value, str):
            self.errors.append((name, NOT_TEXT))
            return ""
        if required and not value.strip():
            self.errors.append((name, REQUIRED))
        if max_length is not None and len(value) > max_length:
            self.errors.append((name, at_most(max_length)))
        return value

    def mapping(self, name: str) -> dict[str, Any]:
        value = self.values.get(name)
        if not isinstance(value, dict):
            self.errors.append((name, REQUIRED if value is None else NOT_AN_OBJECT))
            return {}
        return value

    def version(self) -> int | None:
        value = _count(self.values.get("version"))
        if value is None:
            self.errors.append(("version", NOT_A_VERSION))
        return value

    def staff_id(self) -> int | None:
        value = self.values.get("staff_id", False)
        if value is None:
            return None
        found = _count(value)
        if found is None:
            self.errors.append(("staff_id", NOT_AN_ID))
        return found

    def references(self) -> list[str]:
        value = self.values.get("references")
        if (
            not isinstance(value, list)
            or not 1 <= len(value) <= 200
            or not all(isinstance(item, str) and 0 < len(item) <= 40 for item in value)
        ):
            self.errors.append(("references", REFERENCES))
            return []
        return list(value)

    def check(self) -> None:
        if self.errors:
            raise body_error(self.errors)


async def read_body(request: Request, *allowed: str) -> Body:
    """The JSON object body (415/400 otherwise), to read the ``allowed`` fields from."""
    return Body(await json_object(request), allowed)


def submission_key(request: Request) -> str:
    """The client's Idempotency-Key, or a fresh key when it sent none (400 when too long)."""
    try:
        return key_from_header(request.headers.get("idempotency-key"))
    except SubmissionKeyTooLong:
        raise ShapeError(
            400, BAD_KEY, [("Idempotency-Key", BAD_KEY)], "urn:guichet:problem:bad-idempotency-key"
        ) from None
