"""Jinja2 set up once: autoescaping, translations, and the common page context."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from gateway.services import Localized
from gateway.web import dates
from gateway.web.i18n import LOCALES, choose_locale, context_gettext, context_ngettext, language_name

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def make_templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n", "jinja2.ext.do"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(context_gettext, context_ngettext, newstyle=True)  # type: ignore[attr-defined]
    dates.install(env)
    env.globals["language_name"] = language_name
    env.globals["LOCALES"] = LOCALES
    return Jinja2Templates(env=env)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """Render a page with what every page needs: language, CSRF token, gateway."""
    registry = request.app.state.registry
    locale = choose_locale(request)
    token = request.scope.get("csrftoken")

    def tr(text: Localized | None) -> str:
        return text(locale) if text is not None else ""

    page = {
        "locale": locale,
        "tr": tr,
        "csrftoken": token() if token else "",
        "gateway_name": registry.settings.gateway.name,
        "demo": registry.settings.gateway.demo,
        # where the language switch returns: the page as it was asked for (a receipt's token, a search's terms)
        "current_path": request.url.path
        + (f"?{request.url.query}" if request.url.query and request.method == "GET" else ""),
        "principal": _signed_in(request),
        **(context or {}),
    }
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, page, status_code=status_code)


def _signed_in(request: Request) -> object:
    """The person shown as signed in (not a staff member halfway through the second factor)."""
    principal = request.scope.get("state", {}).get("principal")
    return principal if principal is not None and not getattr(principal, "mfa_pending", False) else None


def _current_path(request: Request) -> str:
    """Where the language switch returns: the page as asked for, with a receipt's token or a search's terms."""
    query = request.url.query if request.method == "GET" else ""
    return request.url.path + (f"?{query}" if query else "")
