"""French first, English second: catalogues and the choice of language.

The source texts (msgids) are French; ``gateway/translations/en`` holds the
English catalogue, compiled in memory at start from its ``.po`` file so a
checkout never serves stale ``.mo`` files.
"""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale, negotiate_locale
from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.requests import HTTPConnection

from gateway.deployment import LOCALES as LOCALES  # one list of languages, shared with plugins

DEFAULT_LOCALE = "fr"
COOKIE = "guichet_lang"
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"


@cache
def translations(locale: str) -> gettext.NullTranslations:
    po_file = TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale == DEFAULT_LOCALE or not po_file.exists():
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo  # on the first English page, not at every worker's start
    from babel.messages.pofile import read_po

    with po_file.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def choose_locale(connection: HTTPConnection) -> str:
    """The visitor's explicit choice (cookie), else their browser's, else the gateway's default."""
    chosen = connection.cookies.get(COOKIE)
    if chosen in LOCALES:
        return chosen
    header = connection.headers.get("accept-language", "")
    preferred = [part.split(";")[0].strip().replace("-", "_") for part in header.split(",") if part.strip()]
    return negotiate_locale(preferred, LOCALES) or _default_locale(connection)


def _default_locale(connection: HTTPConnection) -> str:
    app = connection.scope.get("app")
    registry = getattr(getattr(app, "state", None), "registry", None)
    return registry.settings.gateway.default_locale if registry is not None else DEFAULT_LOCALE


def gettext_for(locale: str, message: str) -> str:
    return translations(locale).gettext(message)


# Jinja's newstyle gettext formats the result with the call's variables itself.
@pass_context
def context_gettext(context: Context, message: str) -> str:
    return gettext_for(context.get("locale", DEFAULT_LOCALE), message)


@pass_context
def context_ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return translations(context.get("locale", DEFAULT_LOCALE)).ngettext(singular, plural, n)


def language_name(code: str) -> str:
    return (Locale.parse(code).get_display_name(code) or code).capitalize()
