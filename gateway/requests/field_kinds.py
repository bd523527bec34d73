"""Reading the answers that are not plain text: numbers, yes/no, multiple choices and postal addresses.

Each reader takes what was sent — a JSON value, or the texts of a posted
HTML form — and gives the value to store, in its type, with the error to
show (the value stored on an error is the empty one, so a stored answer
always has its kind's type). A French house number keeps its repetition
index apart (« 12 bis » is 12 and ``"bis"``) so a catchment map can compare
numbers and their parity.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from gateway.requests.text import CONTROL_CHARS, NOT_TEXT, REQUIRED, cleaned, text_problem, too_long
from gateway.services import FieldValue, FormField, Localized, PostalAddress

ONE_VALUE = Localized("Une seule valeur est attendue pour ce champ.", "This field takes a single value, not several.")
NOT_YES_NO = Localized("Répondez par oui ou par non.", "Answer yes or no.")
NOT_A_LIST = Localized(
    "Cette réponse doit être une liste des options cochées.", "This answer must be a list of the options ticked."
)
UNKNOWN_CHOICES = Localized("Cochez seulement des options proposées.", "Tick only options that are offered.")
NOT_AN_ADDRESS = Localized(
    "Cette adresse doit être un objet (numéro, voie, complément, code postal, commune).",
    "This address must be an object (number, street, complement, postcode, town).",
)
BAD_POSTCODE = Localized("Saisissez un code postal de 5 chiffres, par exemple 69200.",
                         "Enter a 5-digit postcode, for example 69200.")  # fmt: skip
BAD_HOUSE_NUMBER = Localized(
    "Saisissez un numéro de 1 à 9999, suivi s'il y a lieu de bis, ter, quater ou d'une lettre (par exemple 12 bis).",
    "Enter a number from 1 to 9999, followed where needed by bis, ter, quater or a letter (for example 12 bis).",
)
ADDRESS_PART_LABELS = {
    "number": Localized("numéro", "number"),
    "street": Localized("voie", "street"),
    "complement": Localized("complément", "complement"),
    "postcode": Localized("code postal", "postcode"),
    "town": Localized("commune", "town"),
    "suffix": Localized("indice (bis, ter…)", "suffix (bis, ter…)"),
}
ADDRESS_KEYS = ("number", "suffix", "street", "complement", "postcode", "town")
#: an address's text parts: whether each must be given (when the address is), and its longest length
_ADDRESS_TEXTS = (("street", True, 150), ("complement", False, 150), ("postcode", True, 5), ("town", True, 100))
HOUSE_NUMBER_MAX = 9999
_SUFFIXES = ("bis", "ter", "quater", "quinquies")
_SUFFIX = re.compile(r"(bis|ter|quater|quinquies|[a-z])", re.IGNORECASE)
_HOUSE = re.compile(r"([0-9]{1,4})\s*(bis|ter|quater|quinquies|[a-z])?", re.IGNORECASE)
_NUMBER_AND_STREET = re.compile(r"([0-9]{1,4})\s*(bis|ter|quater|quinquies|[a-z])?[\s,]+(\D.*)", re.IGNORECASE)
_POSTCODE = re.compile(r"[0-9]{5}")
_INTEGER = re.compile(r"[-+]?[0-9]{1,16}")


def number_out_of_range(low: int, high: int) -> Localized:
    return Localized(f"Saisissez un nombre entier de {low} à {high}.", f"Enter a whole number from {low} to {high}.")


def in_part(part: str, message: Localized) -> Localized:
    """An error about one part of an address, naming the part."""
    label = ADDRESS_PART_LABELS[part]
    return Localized(f"{label.fr.capitalize()} : {message.fr}", f"{label('en').capitalize()}: {message('en')}")


def read_number(field: FormField, value: object) -> tuple[int | None, Localized | None]:
    """A whole number within the field's bounds: a JSON integer, or decimal digits typed in a page."""
    low, high = field.min_value or 0, field.max_value or 0
    if isinstance(value, str):
        text = value.strip().replace(" ", "").replace("\u202f", "").replace("\xa0", "")
        if not text:
            value = None
        elif not _INTEGER.fullmatch(text):
            return None, number_out_of_range(low, high)
        else:
            value = int(text)
    if value is None:
        return None, REQUIRED if field.required else None
    if isinstance(value, list):
        return None, ONE_VALUE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None, number_out_of_range(low, high)
    return value, None


def read_yes_no(field: FormField, value: object) -> tuple[bool | None, Localized | None]:
    """``true`` or ``false`` (a page's ``yes``/``no`` are read as these before)."""
    if value is None:
        return None, REQUIRED if field.required else None
    if isinstance(value, bool):
        return value, None
    return None, ONE_VALUE if isinstance(value, list) else NOT_YES_NO


def read_choices(field: FormField, value: object) -> tuple[list[str], Localized | None]:
    """The ticked options, each once, in the order the form offers them."""
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return [], NOT_A_LIST
    offered = [choice.value for choice in field.choices]
    if any(item not in offered for item in value):
        return [item for item in offered if item in value], UNKNOWN_CHOICES
    ticked = [item for item in offered if item in value]
    if field.required and not ticked:
        return [], REQUIRED
    return ticked, None


def read_address(field: FormField, value: object) -> tuple[PostalAddress | None, Localized | None]:
    """A French postal address from its parts; an address left wholly empty is ``None``.

    ``number`` is a JSON integer (with ``suffix`` apart) or the text typed in
    a page (« 12 bis »); the first wrong part is named in the error.
    """
    if value is None:
        return None, REQUIRED if field.required else None
    if not isinstance(value, dict) or any(key not in ADDRESS_KEYS for key in value):
        return None, NOT_AN_ADDRESS
    texts: dict[str, str] = {}
    errors: list[Localized] = []
    for part, _needed, longest in _ADDRESS_TEXTS:
        raw = value.get(part)
        texts[part] = cleaned(raw, multiline=False)
        problem = text_problem(raw, texts[part], required=False, max_length=longest, multiline=False)
        if problem is not None:
            texts[part] = texts[part] if isinstance(raw, str) else ""
            message = {"not-text": NOT_TEXT, "too-long": too_long(longest)}.get(problem, CONTROL_CHARS)
            errors.append(in_part(part, ONE_VALUE if isinstance(raw, list) else message))
    number, suffix = value.get("number"), value.get("suffix")
    typed_in_street = _NUMBER_AND_STREET.fullmatch(texts["street"])
    if number in (None, "") and not suffix and typed_in_street:  # « 12 bis rue des Lilas » in the street box
        number, suffix, texts["street"] = typed_in_street.group(1), typed_in_street.group(2), typed_in_street.group(3)
    number, suffix, number_error = _house_number(number, suffix)
    if number_error is not None:
        errors.append(number_error)
    if not errors and number is None and not any(texts.values()):
        return None, REQUIRED if field.required else None
    errors += [in_part(part, REQUIRED) for part, needed, _longest in _ADDRESS_TEXTS if needed and not texts[part]]
    if texts["postcode"] and not _POSTCODE.fullmatch(texts["postcode"]):
        errors.append(in_part("postcode", BAD_POSTCODE))
    address: PostalAddress = {
        "number": number,
        "suffix": suffix,
        "street": texts["street"],
        "complement": texts["complement"],
        "postcode": texts["postcode"],
        "town": texts["town"],
    }
    return address, errors[0] if errors else None


def _house_number(number: object, suffix: object) -> tuple[int | None, str, Localized | None]:
    """The house number and its repetition index, or the error if they are not a French house number."""
    if suffix is not None and not isinstance(suffix, str):
        return None, "", in_part("suffix", ONE_VALUE if isinstance(suffix, list) else NOT_TEXT)
    suffix_text = (suffix or "").strip()
    if suffix_text and not _SUFFIX.fullmatch(suffix_text):
        return None, "", in_part("suffix", BAD_HOUSE_NUMBER)
    if isinstance(number, str):
        typed = number.strip()
        match = _HOUSE.fullmatch(typed)
        if typed and (match is None or (match.group(2) and suffix_text)):
            return None, "", in_part("number", BAD_HOUSE_NUMBER)
        number = int(match.group(1)) if match else None
        suffix_text = (match.group(2) if match else None) or suffix_text
    if number is None:
        return None, "", in_part("number", BAD_HOUSE_NUMBER) if suffix_text else None
    if isinstance(number, list):
        return None, "", in_part("number", ONE_VALUE)
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= HOUSE_NUMBER_MAX:
        return None, "", in_part("number", BAD_HOUSE_NUMBER)
    return number, _suffix(suffix_text), None


def _suffix(text: str) -> str:
    """« BIS » is stored ``bis``, « b » is stored ``B``: one spelling each, for comparisons."""
    return text.lower() if text.lower() in _SUFFIXES else text.upper()


def house_number_text(address: PostalAddress) -> str:
    """« 12 bis », « 7 B », or "" for an address without a number."""
    if address.get("number") is None:
        return ""
    suffix = address.get("suffix") or ""
    return f"{address['number']} {suffix}".strip()


def address_lines(address: PostalAddress) -> list[str]:
    """The address as it is written on an envelope (AFNOR NF Z10-011 order, without the addressee)."""
    first = " ".join(part for part in (house_number_text(address), address.get("street", "")) if part)
    town = " ".join(part for part in (address.get("postcode", ""), address.get("town", "").upper()) if part)
    return [line for line in (address.get("complement", ""), first, town) if line]


def empty_value(field: FormField) -> FieldValue:
    """What an optional field left empty stores, in its kind's type."""
    if field.kind == "checkboxes":
        return []
    if field.kind in ("number", "yesno", "address"):
        return None
    return ""


def posted_value(field: FormField, values: Sequence[str] | None) -> object:
    """One field of a posted HTML form, in the shape a JSON client would send (texts for the typed kinds)."""
    if field.kind == "checkboxes":
        return list(values or [])
    if not values:
        return None
    return values[0] if len(values) == 1 else list(values)
