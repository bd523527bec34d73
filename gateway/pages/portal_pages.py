"""The citizen-facing pages: syndicate home, commune pages, service forms, receipts.

Registered by the default plugin :mod:`gateway.builtin.pages` through ``guichet_routes``, as any plugin's
pages would be.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from gateway.communes import Commune
from gateway.identity.access import principal_of, require_citizen
from gateway.pages.citizen_request_pages import start_page
from gateway.pages.family_form import apply_action, family_context, read_post
from gateway.requests.errors import TooManyFilings
from gateway.requests.family import MemberError, is_family_service
from gateway.requests.family_drafts import takes_family_drafts
from gateway.requests.filing import Filed
from gateway.requests.follow import follow_path
from gateway.requests.forms import read_answer
from gateway.requests.lifecycle import CitizenRequests
from gateway.requests.posted import PostedForm
from gateway.requests.rules import ServiceRules, plugin_call, rules_for
from gateway.requests.submission_keys import key_from_form, new_submission_key
from gateway.services import FieldError, FieldValue, FormField, Localized, ServiceDefinition
from gateway.web.callers import caller_of, file_family_from, file_from
from gateway.web.dates import when
from gateway.web.errors import PageError
from gateway.web.form_bodies import text_form
from gateway.web.form_hints import first_errors, form_hints
from gateway.web.form_values import shown_values
from gateway.web.i18n import COOKIE, LOCALES, choose_locale
from gateway.web.lookups import (
    commune_or_404,
    enabled_service_or_404,
    local_path,
    registry_of,
)
from gateway.web.templating import render

STATIC_DIR = Path(__file__).resolve().parent.parent / "web" / "static"
RECEIPT_MAX_AGE = 24 * 3600

RECEIPT_EXPIRED = Localized(
    "Ce récépissé n'est plus consultable. Votre demande a bien été enregistrée ; conservez son numéro de suivi.",
    "This receipt can no longer be shown. Your request was recorded; keep its reference number.",
)


async def home(request: Request) -> Response:
    communes = sorted(registry_of(request).communes.values(), key=lambda commune: (not commune.seat, commune.name))
    return render(request, "home.html", {"communes": communes})


async def choose_language(request: Request) -> Response:
    form = await text_form(request)
    lang = form.get("lang")
    target = form.get("next")
    if lang not in LOCALES:
        raise PageError(400, Localized("Langue inconnue.", "Unknown language."))
    response = RedirectResponse(local_path(target), status_code=303)
    settings = registry_of(request).settings
    response.set_cookie(
        COOKIE, str(lang), max_age=365 * 24 * 3600, httponly=True, samesite="lax", secure=settings.https
    )
    return response


async def commune_page(request: Request) -> Response:
    commune = commune_or_404(request)
    return render(request, "commune.html", {"commune": commune, "services": registry_of(request).offers(commune)})


async def service_page(request: Request) -> Response:
    """A signed-in citizen starts a draft; anyone else signs in first, or files directly where that is allowed."""
    commune = commune_or_404(request)
    key = enabled_service_or_404(request, commune)
    rules = rules_for(registry_of(request), commune, key)
    definition = rules.definition
    citizen = _is_citizen(request)
    # a family service filed in one go; one that asks for documents is prepared as drafts, one per member
    family = is_family_service(rules) and not (citizen and takes_family_drafts(rules))
    if request.method == "GET":
        if family and (citizen or not definition.requires_sign_in):  # filed in one go, never as a draft
            prefilled = await _prefilled(request, rules) if citizen else {}
            return _family_page(request, rules, prefilled, [{}], [], new_submission_key())
        if citizen or definition.requires_sign_in:
            return start_page(request, commune, definition, rules.form, signed_in=citizen)
        return _form_page(request, commune, definition, rules.form, {}, [], new_submission_key())
    if citizen and not family:
        return await _start_draft(request, rules)
    if definition.requires_sign_in and not citizen:
        require_citizen(request)  # sends the visitor to sign in, then back here
    return await (_submit_family(request, rules) if family else _submit(request, rules))


async def _prefilled(request: Request, rules: ServiceRules) -> dict[str, FieldValue]:
    """The shared answers the service prefills from the resident's identity (each member's are typed)."""
    caller = await caller_of(request)
    if caller.identity is None:
        return {}
    with plugin_call(rules.key):
        prefill = registry_of(request).hooks.first(
            "guichet_prefill_form", only=rules.provided.plugin, citizen=caller.identity, **rules.hook_args
        )
    fields = {field.name: field for field in rules.form if not field.per_member and field.kind != "document"}
    return {name: read_answer(fields[name], value)[0] for name, value in (prefill or {}).items() if name in fields}


def _is_citizen(request: Request) -> bool:
    principal = principal_of(request)
    return principal is not None and principal.is_citizen


async def _start_draft(request: Request, rules: ServiceRules) -> Response:
    """Start a draft ("Commencer"): one draft per one-time key, so a double click opens the same draft."""
    async with request.form() as form:
        submission_key = key_from_form(form.get("submission_key"))
    caller = await caller_of(request)
    requests = CitizenRequests(request.app.state.db, registry_of(request))
    row = await request.app.state.db.run(
        lambda: requests.start_draft(caller, rules.commune.slug, rules.key, submission_key=submission_key, rules=rules)
    )
    return RedirectResponse(f"/mes-demandes/{row.public_id}", status_code=303)


async def _submit(request: Request, rules: ServiceRules) -> Response:
    """File directly (no draft); on errors the form again, from the rules this post resolved."""
    commune, key = rules.commune, rules.key
    async with request.form() as form:
        raw = PostedForm.from_items(form.multi_items())
    submission_key = key_from_form(raw.pop_text("submission_key"))
    try:
        filed: Filed = await file_from(request, rules, raw, submission_key=submission_key)
    except TooManyFilings as refused:  # the form again, as typed, with the reason and when to try again
        page = _form_page(request, commune, rules.definition, rules.form, raw,
                          [FieldError("", refused.reason)], submission_key, status_code=429)  # fmt: skip
        page.headers["Retry-After"] = str(refused.retry_after)
        return page
    if filed.errors:
        return _form_page(
            request, commune, rules.definition, rules.form, raw, filed.errors, submission_key, status_code=422
        )
    assert filed.request is not None
    token = _receipts(request).dumps(
        {
            "c": commune.slug,
            "s": key,
            "r": filed.request.reference,
            "t": filed.request.created_at.isoformat(),
            "m": filed.receipt_mailed,  # whether a receipt was mailed: the page says so, truthfully
            **_follow_claims(request, [filed.request], filed.receipt_mailed),
        }
    )
    return RedirectResponse(f"/{commune.slug}/{key}/recu?t={token}", status_code=303)


async def _submit_family(request: Request, rules: ServiceRules) -> Response:
    """A family form posted: a block added or removed (the form again), or every member filed in one go."""
    block = rules.definition.members
    assert block is not None
    async with request.form() as form:
        raw = PostedForm.from_items(form.multi_items())
    submission_key = key_from_form(raw.pop_text("submission_key"))
    post = read_post(raw, block)
    changed = apply_action(post, block)
    if changed is not None:
        members, notes = changed
        errors = [MemberError(None, note) for note in notes]
        return _family_page(request, rules, post.shared, members, errors, submission_key,
                            status_code=422 if notes else 200)  # fmt: skip
    try:
        filed = await file_family_from(request, rules, post.shared, post.members, submission_key=submission_key)
    except TooManyFilings as refused:
        reason = [MemberError(None, FieldError("", refused.reason))]
        page = _family_page(request, rules, post.shared, post.members, reason, submission_key, status_code=429)
        page.headers["Retry-After"] = str(refused.retry_after)
        return page
    if filed.errors:
        return _family_page(request, rules, post.shared, post.members, filed.errors, submission_key, status_code=422)
    first = filed.requests[0]
    token = _receipts(request).dumps(
        {
            "c": rules.commune.slug,
            "s": rules.key,
            "r": first.reference,
            "f": [row.reference for row in filed.requests],
            "t": first.created_at.isoformat(),
            "m": filed.receipt_mailed,
            **_follow_claims(request, filed.requests, filed.receipt_mailed),
        }
    )
    return RedirectResponse(f"/{rules.commune.slug}/{rules.key}/recu?t={token}", status_code=303)


def _family_page(
    request: Request,
    rules: ServiceRules,
    shared: Mapping[str, Any],
    members: Sequence[Mapping[str, Any]],
    errors: Sequence[MemberError],
    submission_key: str,
    *,
    status_code: int = 200,
) -> Response:
    """The family form: the shared fields and a block per member, as typed, with each error in its block."""
    block = rules.definition.members
    assert block is not None
    locale = choose_locale(request)
    form = rules.form
    context = {
        "commune": rules.commune,
        "service": rules.definition,
        "form": form,
        "labels": {field.name: field.label(locale) for field in form},
        **form_hints(form, locale),
        **family_context(form, block, shared, members, errors, locale),
        "submission_key": submission_key,
    }
    return render(request, "service_form.html", context, status_code=status_code)


def _form_page(
    request: Request,
    commune: Commune,
    service: ServiceDefinition,
    form: Sequence[FormField],
    answers: Mapping[str, Any],
    errors: Sequence[FieldError],
    submission_key: str,
    *,
    status_code: int = 200,
) -> Response:
    locale = choose_locale(request)
    field_errors = first_errors(errors)
    context = {
        "commune": commune,
        "service": service,
        "form": form,
        "values": shown_values(form, answers),
        "errors": errors,
        "field_errors": field_errors,
        "labels": {field.name: field.label(locale) for field in form},
        **form_hints(form, locale),
        "submission_key": submission_key,
    }
    return render(request, "service_form.html", context, status_code=status_code)


def masked_address(address: str) -> str:
    """An address as the receipt page recalls it, « c…@example.org »: enough to recognise, not to read out."""
    local, at, domain = address.partition("@")
    return f"{local[:1]}…@{domain}" if at else "…"


def _follow_claims(request: Request, rows: Sequence[Any], mailed: bool | None) -> dict[str, Any]:
    """What the receipt page adds for requests filed without an account: where the receipt went, how to follow.

    ``a``: the address the receipt was queued to, masked (only when it was);
    ``l``: each request's reference and follow link (:mod:`gateway.requests.follow`).
    """
    secret = registry_of(request).settings.secret_key
    claims: dict[str, Any] = {}
    if mailed and rows and rows[0].notify_email:
        claims["a"] = masked_address(rows[0].notify_email)
    links = [[row.reference, follow_path(secret, row.public_id)] for row in rows if row.citizen_id is None]
    if links:
        claims["l"] = links
    return claims


def _receipts(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(registry_of(request).settings.secret_key, salt="guichet-receipt")


async def receipt_page(request: Request) -> Response:
    commune = commune_or_404(request)
    key = enabled_service_or_404(request, commune)
    try:
        claims = _receipts(request).loads(request.query_params.get("t", ""), max_age=RECEIPT_MAX_AGE)
    except BadSignature:
        raise PageError(404, RECEIPT_EXPIRED) from None
    if claims.get("c") != commune.slug or claims.get("s") != key:
        raise PageError(404, RECEIPT_EXPIRED)
    locale = choose_locale(request)
    received = when(datetime.fromisoformat(claims["t"]), locale)
    service = registry_of(request).services[key].definition
    return render(
        request,
        "receipt.html",
        {
            "commune": commune,
            "service": service,
            "reference": claims["r"],
            "family": claims.get("f") or [],
            "received": received,
            "mailed": claims.get("m"),
            "address": claims.get("a"),
            "follow": [link for link in claims.get("l") or [] if str(link[1]).startswith("/suivi/")],
        },
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/", home, name="home"),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        Route("/langue", choose_language, methods=["POST"], name="language"),
        Route("/{commune}", commune_page, name="commune"),
        Route("/{commune}/{service}", service_page, methods=["GET", "POST"], name="service"),
        Route("/{commune}/{service}/recu", receipt_page, name="receipt"),
    ]
