"""Staff management in pages: an administrator creates accounts, gives and withdraws roles, resets, disables.

What ``guichet users`` does from the command line, for the syndicate's
administrator (every account) and a commune's administrator (their commune's
accounts); the rules and the audit entries are :mod:`gateway.identity.staff_admin`'s,
shared with the command line. Every act is a POST form with its CSRF token, asks for
the password and code again when the sign-in is older than five minutes, and ends
on the account's page (post, redirect, get) saying what was done. An account out of
the administrator's reach is answered as one that does not exist, and the attempt recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.identity import staff_admin
from gateway.identity.access import (
    AccessDenied,
    ReauthenticationRequired,
    require_recent_authentication,
    require_staff_session,
)
from gateway.identity.principal import LEVELS, Grant, Principal
from gateway.identity.staff import grant_text
from gateway.identity.staff_admin import AdminProblem, Reach
from gateway.services import Localized
from gateway.web.access import record_denial, refuse_citizens
from gateway.web.errors import PageError
from gateway.web.form_bodies import text_form
from gateway.web.grant_words import EVERY_COMMUNE, grant_words
from gateway.web.i18n import choose_locale
from gateway.web.lookups import database_of, registry_of, request_origin
from gateway.web.numbers import BIGINT_MAX
from gateway.web.templating import render

HOME = "/agents/personnel"
ROLE = "administrator"
#: what the account page says after each act (the ``fait`` query parameter of the redirect)
DONE = {
    "cree": Localized("Le compte a été créé.", "The account was created."),
    "role-donne": Localized("Le rôle a été donné.", "The role was given."),
    "role-retire": Localized("Le rôle a été retiré.", "The role was withdrawn."),
    "second-facteur": Localized(
        "La seconde vérification a été oubliée : la personne la configurera à sa prochaine connexion.",
        "The second factor was forgotten: the person sets it up again at their next sign-in.",
    ),
    "desactive": Localized(
        "Le compte est désactivé : ses sessions ont pris fin.", "The account is disabled: its sessions have ended."
    ),
    "reactive": Localized("Le compte est de nouveau actif.", "The account is active again."),
}
BAD_ROLE_ID = Localized("Choisissez un des rôles du compte.", "Choose one of the account's roles.")
T = TypeVar("T")


async def administrator(request: Request) -> tuple[Principal, Reach]:
    """The administrator asking, and what they manage; anyone else is refused (403) and recorded."""
    await refuse_citizens(request, ROLE)
    principal = require_staff_session(request)
    reach = staff_admin.reach_of(principal.grants)
    if reach is None:
        await record_denial(request, principal, role=ROLE)
        raise AccessDenied
    return principal, reach


def role_choices(request: Request, reach: Reach) -> list[tuple[str, list[tuple[str, str]]]]:
    """The roles this administrator may give, grouped by where they apply, each as (value, words)."""
    registry, locale = registry_of(request), choose_locale(request)
    groups: list[tuple[str, list[Grant]]] = []
    if reach.syndicate:
        groups.append((EVERY_COMMUNE(locale), [Grant("auditor"), Grant("administrator")]))
    for commune in sorted(registry.communes.values(), key=lambda commune: commune.name):
        if not reach.may_give(Grant("supervisor", commune.slug)):
            continue
        services = [None, *sorted(key for key in commune.services if key in registry.services)]
        agents = [Grant("agent", commune.slug, service, level) for service in services for level in LEVELS]
        others = [Grant(role, commune.slug) for role in ("supervisor", "auditor", "administrator")]
        groups.append((commune.name, agents + others))
    return [(label, [(grant_text(g), grant_words(g, registry, locale)) for g in grants]) for label, grants in groups]


def _staff_id(request: Request) -> int:
    """The account number of the URL; anything no account can have (not digits, too large) is not found.

    Not Starlette's ``int`` convertor: it would fail on thousands of digits before any handler could answer.
    """
    text = str(request.path_params["staff_id"])
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or int(text) > BIGINT_MAX:
        raise PageError(404, staff_admin.NO_ACCOUNT)
    return int(text)


async def _in_store(request: Request, work: Callable[[Session], T]) -> T:
    db = database_of(request)

    def run() -> T:
        with db.session() as session:
            return work(session)

    return await db.run(run)


async def _refused(request: Request, principal: Principal, problem: AdminProblem) -> PageError:
    """The page answering a refused act; a refusal about access (another commune's) is recorded first."""
    if problem.status == 403:
        await record_denial(request, principal, role=ROLE)
        if problem.message is staff_admin.NO_ACCOUNT:  # as if it did not exist
            return PageError(404, staff_admin.NO_ACCOUNT)
    return PageError(problem.status, problem.message)


def _stale(principal: Principal, back: str) -> Response | None:
    """A redirect to confirm one's identity when the sign-in is not recent; back to ``back`` afterwards."""
    try:
        require_recent_authentication(principal)
    except ReauthenticationRequired:
        return RedirectResponse(f"/agents/reauthentification?suite={quote(back)}", status_code=303)
    return None


async def people(request: Request) -> Response:
    """Every account the administrator manages, with its roles in words and its state."""
    _principal, reach = await administrator(request)
    registry, locale = registry_of(request), choose_locale(request)
    found = await _in_store(request, lambda session: staff_admin.accounts(session, reach))
    rows = [(account, [grant_words(grant, registry, locale) for grant in account.grants]) for account in found]
    return render(request, "staff_people.html", {"rows": rows})


def _new_context(request: Request, reach: Reach, **values: Any) -> dict[str, Any]:
    blank = {"username": "", "display_name": "", "email": "", "role": "", "error": None, "field": None}
    return {**blank, **values, "choices": role_choices(request, reach)}


async def new_person(request: Request) -> Response:
    """The form creating an account (GET), and its creation (POST): the initial password is shown once."""
    principal, reach = await administrator(request)
    if request.method == "GET":
        return render(request, "staff_person_new.html", _new_context(request, reach))
    stale = _stale(principal, f"{HOME}/nouveau")
    if stale is not None:
        return stale
    form = await text_form(request)
    values = {name: str(form.get(name, "")) for name in ("username", "display_name", "email", "role")}
    try:
        grant = staff_admin.giveable(registry_of(request), reach, values["role"])

        def create(session: Session) -> tuple[int, str]:
            staff, password = staff_admin.create_account(
                session, reach, principal.actor(ROLE), username=values["username"],
                display_name=values["display_name"], email=values["email"], grant=grant,
                origin=request_origin(request),
            )  # fmt: skip
            assert staff.id is not None
            return staff.id, password

        staff_id, password = await _in_store(request, create)
    except AdminProblem as problem:
        if problem.status == 403:
            await record_denial(request, principal, role=ROLE)
        context = _new_context(request, reach, **values, error=problem.message, field=problem.field)
        return render(request, "staff_person_new.html", context, status_code=problem.status)
    context = {"staff_id": staff_id, "username": values["username"].strip().lower(), "password": password}
    response = render(request, "staff_person_created.html", context, status_code=201)
    response.headers["Cache-Control"] = "no-store"  # the password is shown once, and kept by no cache
    return response


async def person(request: Request) -> Response:
    """One account: who, its state, its roles (each with a button to withdraw it) and the acts on it."""
    principal, reach = await administrator(request)
    staff_id = _staff_id(request)
    return await _person_page(request, principal, reach, staff_id)


async def _person_page(
    request: Request, principal: Principal, reach: Reach, staff_id: int, *, error: Localized | None = None,
    status: int = 200,
) -> Response:  # fmt: skip
    try:
        account = await _in_store(request, lambda session: staff_admin.managed(session, reach, staff_id)[1])
    except AdminProblem as problem:
        raise await _refused(request, principal, problem) from None
    registry, locale = registry_of(request), choose_locale(request)
    roles = [(role_id, grant_words(grant, registry, locale)) for role_id, grant in account.roles]
    done = DONE.get(request.query_params.get("fait", ""))
    context = {"account": account, "roles": roles, "choices": role_choices(request, reach), "done": done,
               "error": error, "is_self": account.id == principal.user_id}  # fmt: skip
    return render(request, "staff_person.html", context, status_code=status)


async def _act(request: Request, done: str, act: Callable[[Principal, Reach, int, Any], Any]) -> Response:
    """Run an act on the account of the URL (``act(principal, reach, staff_id, form)`` in the store)."""
    principal, reach = await administrator(request)
    staff_id = _staff_id(request)
    page = f"{HOME}/{staff_id}"
    stale = _stale(principal, page)
    if stale is not None:
        return stale
    form = await text_form(request)
    try:
        await _in_store(request, lambda session: act(principal, reach, staff_id, (session, form)))
    except AdminProblem as problem:
        if problem.status in (403, 404) and problem.message is staff_admin.NO_ACCOUNT:
            raise await _refused(request, principal, problem) from None
        if problem.status == 403:
            await record_denial(request, principal, role=ROLE)
        return await _person_page(request, principal, reach, staff_id, error=problem.message, status=problem.status)
    return RedirectResponse(f"{page}?fait={done}", status_code=303)


def _give(request: Request) -> Callable[[Principal, Reach, int, Any], None]:
    registry, origin = registry_of(request), request_origin(request)

    def act(principal: Principal, reach: Reach, staff_id: int, store: tuple[Session, Any]) -> None:
        session, form = store
        grant = staff_admin.giveable(registry, reach, str(form.get("role", "")))
        staff_admin.give(session, reach, principal.actor(ROLE), staff_id, grant, origin=origin)

    return act


async def give_role(request: Request) -> Response:
    return await _act(request, "role-donne", _give(request))


async def withdraw_role(request: Request) -> Response:
    origin = request_origin(request)

    def act(principal: Principal, reach: Reach, staff_id: int, store: tuple[Session, Any]) -> None:
        session, form = store
        text = str(form.get("role_id", "")).strip()
        staff_admin.managed(session, reach, staff_id)  # another commune's account is not found, whatever the role
        if not (text.isascii() and text.isdigit()) or len(text) > 18:
            raise AdminProblem(422, BAD_ROLE_ID, field="role_id")
        staff_admin.withdraw(session, reach, principal.actor(ROLE), principal.user_id, staff_id, int(text),
                             origin=origin)  # fmt: skip

    return await _act(request, "role-retire", act)


async def reset_second_factor(request: Request) -> Response:
    origin = request_origin(request)

    def act(principal: Principal, reach: Reach, staff_id: int, store: tuple[Session, Any]) -> None:
        staff_admin.reset_second_factor(store[0], reach, principal.actor(ROLE), staff_id, origin=origin)

    return await _act(request, "second-facteur", act)


def _disabling(request: Request, disabled: bool) -> Callable[[Principal, Reach, int, Any], None]:
    origin = request_origin(request)

    def act(principal: Principal, reach: Reach, staff_id: int, store: tuple[Session, Any]) -> None:
        staff_admin.set_disabled(store[0], reach, principal.actor(ROLE), principal.user_id, staff_id, disabled,
                                 origin=origin)  # fmt: skip

    return act


async def disable(request: Request) -> Response:
    return await _act(request, "desactive", _disabling(request, True))


async def enable(request: Request) -> Response:
    return await _act(request, "reactive", _disabling(request, False))


def routes() -> list[BaseRoute]:
    return [
        Route(HOME, people, name="staff_people"),
        Route(f"{HOME}/nouveau", new_person, methods=["GET", "POST"], name="staff_person_new"),
        Route(HOME + "/{staff_id}", person, name="staff_person"),
        Route(HOME + "/{staff_id}/roles", give_role, methods=["POST"], name="staff_give_role"),
        Route(HOME + "/{staff_id}/roles/retrait", withdraw_role, methods=["POST"], name="staff_withdraw_role"),
        Route(HOME + "/{staff_id}/second-facteur", reset_second_factor, methods=["POST"], name="staff_reset_mfa"),
        Route(HOME + "/{staff_id}/desactivation", disable, methods=["POST"], name="staff_disable"),
        Route(HOME + "/{staff_id}/reactivation", enable, methods=["POST"], name="staff_enable"),
    ]
