"""Filling a service's form as a demo citizen would: a draft, answers drawn for every field, documents, submission.

The form of any service is filled generically from its :class:`FormField`
list (a choice for a select, a plausible date, fictitious names, addresses at
``example.org``), with one of the example answers the service's plugin offers
(``guichet_demo_answers``) drawn over them; when the service's own checks
refuse the answers, the fields they name are drawn again, a few times, before
the request is given up.
"""

from __future__ import annotations

import random
import struct
import unicodedata
import zlib
from collections.abc import Callable, Sequence
from datetime import date, timedelta

from gateway.audit.events import Actor
from gateway.communes import Commune
from gateway.models import Citizen
from gateway.registry import Registry
from gateway.requests.attachments import JPEG, PDF, PNG, UploadRefused
from gateway.requests.caller import Caller
from gateway.requests.errors import RequestError, ServiceUnavailable
from gateway.requests.field_kinds import empty_value
from gateway.requests.lifecycle import CitizenRequests
from gateway.requests.rules import ServiceRules, rules_for, unavailable_on_failure
from gateway.requests.submission_keys import new_submission_key
from gateway.services import CitizenIdentity, DocumentSpec, FieldError, FieldValue, FormField, FormValues, PostalAddress

ORIGIN = "cli demo seed"
MESSAGES = (
    "Bonjour, je vous écris au sujet de cette démarche. Merci d'avance pour votre réponse.",
    "Le trottoir devant le 12 rue de l'Exemple est abîmé depuis l'orage de la semaine dernière.",
    "Pourriez-vous m'indiquer les horaires d'ouverture de la mairie annexe pendant les vacances ?",
    "Je signale un dépôt sauvage de déchets à l'angle de l'avenue Fictive et de la rue des Essais.",
)
EMAIL_DOMAIN = "example.org"  # reserved for examples (RFC 2606); the form checks refuse ``.invalid``

ATTEMPTS = 8


def citizen_caller(citizen: Citizen) -> Caller:
    """Act as a citizen through the service layer (what a signed-in page would do)."""
    return Caller(
        actor=Actor(f"citizen:{citizen.public_id}", "citizen"),
        origin=ORIGIN,
        citizen_id=citizen.id,
        citizen_public_id=citizen.public_id,
        identity=CitizenIdentity(
            given_name=citizen.given_name, family_name=citizen.family_name, email=citizen.email, verified=False
        ),
    )


def fill_and_file(
    people: CitizenRequests, registry: Registry, rng: random.Random, citizen: Citizen, commune: Commune, key: str
) -> str | None:
    """Draft, fill, attach, submit; the request's public id, or None when the service kept refusing."""
    caller = citizen_caller(citizen)
    try:
        rules = rules_for(registry, commune, key)
        form, definition = rules.form, rules.definition  # the definition's documents and the form's document fields
        examples = _examples(registry, rules)
        draft = people.start_draft(caller, commune.slug, key, submission_key=new_submission_key())
        values = _with_example(rng, examples, form, _fill(rng, form, citizen, commune, {}))
        for attempt in range(ATTEMPTS):
            _attach_documents(people, caller, draft.public_id, definition.documents, values, rng)
            submitted = people.submit(caller, draft.public_id, values)
            if not submitted.errors:
                return draft.public_id
            # draw again the fields the service named; when that does not do, the whole form
            redraw = _names(submitted.errors) if attempt < ATTEMPTS // 2 else None
            values = _fill(rng, form, citizen, commune, values if redraw else {}, redraw=redraw)
            values = _with_example(rng, examples, form, values)
        people.discard_draft(caller, draft.public_id)
    except (RequestError, UploadRefused, ServiceUnavailable):
        return None
    return None


def _examples(registry: Registry, rules: ServiceRules) -> list[FormValues]:
    """The example answers the service's plugin offers a demonstration (``guichet_demo_answers``), if any."""
    with unavailable_on_failure(rules.key):
        found = registry.hooks.first("guichet_demo_answers", only=rules.provided.plugin, **rules.hook_args)
    return [dict(example) for example in found or ()]


def _with_example(
    rng: random.Random, examples: Sequence[FormValues], form: Sequence[FormField], values: FormValues
) -> dict[str, FieldValue]:
    """``values`` with one of the plugin's examples drawn over them (the form's own fields only)."""
    if not examples:
        return dict(values)
    names = {form_field.name for form_field in form if form_field.kind != "document"}
    return {**values, **{name: value for name, value in rng.choice(examples).items() if name in names}}


def _names(errors: Sequence[FieldError]) -> set[str]:
    return {error.field for error in errors}


def _fill(
    rng: random.Random,
    form: Sequence[FormField],
    citizen: Citizen,
    commune: Commune,
    previous: FormValues,
    *,
    redraw: set[str] | None = None,
) -> dict[str, FieldValue]:
    """Answers for every field: kept from ``previous`` except those to draw again (all on the first go)."""
    values: dict[str, FieldValue] = {}
    for form_field in form:
        if form_field.kind == "document":
            continue  # attached below, with the service's documents
        if redraw is not None and form_field.name not in redraw and form_field.name in previous:
            values[form_field.name] = previous[form_field.name]
        else:
            values[form_field.name] = _answer(rng, form_field, citizen, commune)
    return values


def _answer(rng: random.Random, form_field: FormField, citizen: Citizen, commune: Commune) -> FieldValue:
    if form_field.kind in ("select", "radio"):
        return rng.choice(form_field.choices).value if form_field.choices else ""
    if form_field.kind == "checkboxes":
        ticked = [choice.value for choice in form_field.choices if rng.random() < 0.5]
        return ticked or [form_field.choices[0].value]
    if form_field.kind == "number":
        return rng.randint(form_field.min_value or 0, form_field.max_value or 0)
    if not form_field.required and rng.random() < 0.7:
        return empty_value(form_field)
    if form_field.kind == "yesno":
        return rng.random() < 0.5
    if form_field.kind == "address":
        address: PostalAddress = {"number": rng.randrange(1, 90), "suffix": rng.choice(("", "", "bis")),
                                  "street": "rue de la Démonstration", "complement": "",
                                  "postcode": commune.postcode, "town": commune.city}  # fmt: skip
        return address
    given, family = citizen.given_name or "Alix", citizen.family_name or "Démo"
    hints = f"{form_field.name} {form_field.autocomplete or ''}".lower()
    if form_field.kind == "date" and any(word in hints for word in ("child", "enfant")):
        # a child of school age (2 to 11), so that services about children see plausible ones
        born = date.today().year - rng.randrange(2, 12)
        value = date(born, rng.randrange(1, 13), rng.randrange(1, 29)).isoformat()
    elif form_field.kind == "date":
        start = date(1965, 1, 1)
        value = (start + timedelta(days=rng.randrange((date(2020, 12, 31) - start).days))).isoformat()
    elif form_field.kind == "email":
        value = email_of(given, family)
    elif form_field.kind == "tel":
        value = f"04 00 00 {rng.randrange(100):02d} {rng.randrange(100):02d}"
    elif form_field.kind == "textarea":
        value = rng.choice(MESSAGES)
    else:
        value = _text(rng, hints, given, family, commune)
    return value[: form_field.max_length]


def _text(rng: random.Random, hints: str, given: str, family: str, commune: Commune) -> str:
    rules: tuple[tuple[tuple[str, ...], Callable[[], str]], ...] = (
        (("postal-code", "postcode", "code_postal"), lambda: commune.postcode),
        (("address-level2", "city", "ville"), lambda: commune.city),
        (("country", "pays"), lambda: "France"),
        (("address-line2", "complement"), lambda: f"Bâtiment {rng.choice('ABC')}"),
        (("address", "street", "rue"), lambda: f"{rng.randrange(1, 90)} rue de la Démonstration"),
        (("mother",), lambda: f"{rng.choice(('Claire', 'Anne', 'Sophie'))} Démo-Mère"),
        (("father",), lambda: f"{rng.choice(('Paul', 'Jean', 'Marc'))} Démo-Père"),
        (("given",), lambda: given),
        (("family", "surname", "nom"), lambda: family),
        (("name",), lambda: f"{given} {family}"),
        (("phone",), lambda: f"04 00 00 {rng.randrange(100):02d} {rng.randrange(100):02d}"),
    )
    for words, make in rules:
        if any(word in hints for word in words):
            return make()
    return "Démo"


def _attach_documents(
    people: CitizenRequests,
    caller: Caller,
    public_id: str,
    documents: Sequence[DocumentSpec],
    values: FormValues,
    rng: random.Random,
) -> None:
    """One small fictitious file for every document the answers call for and the draft lacks."""
    have = {attachment.document for attachment in people.case(caller, public_id).attachments}
    for spec in documents:
        if spec.name in have or not spec.applies(values) or (not spec.required and rng.random() < 0.5):
            continue
        name, data = _sample_file(spec)
        people.attach(caller, public_id, spec.name, name, data)


def _sample_file(spec: DocumentSpec) -> tuple[str, bytes]:
    if PDF in spec.accept:
        body = f"%PDF-1.4\n% document de demonstration : {spec.name}\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
        return f"{spec.name}-demo.pdf", body.encode()
    if PNG in spec.accept:
        return f"{spec.name}-demo.png", _png()
    if JPEG in spec.accept:
        raise UploadRefused(422, spec.label)  # no JPEG sample: the request is given up
    raise UploadRefused(422, spec.label)


def _png() -> bytes:
    """A real 1×1 white PNG."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in plain.lower() if ch.isalnum() or ch in ".-")


def email_of(given: str, family: str) -> str:
    return f"{_ascii(given)}.{_ascii(family)}@{EMAIL_DOMAIN}"
