"""The English catalogue: every page text translated, checked and rendered.

The msgids are the French texts of the templates. They are extracted here the
way ``babel.cfg`` says (the same file the ``pybabel extract`` command reads),
so a text added to a template without a translation fails this module, and
the pages are served from the ``.po`` file alone (no compiled ``.mo``).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from gateway.testing import GuichetClient
from gateway.web.i18n import TRANSLATIONS_DIR
from gateway.web.templating import TEMPLATES_DIR

ROOT = Path(__file__).resolve().parent.parent
BABEL_CFG = ROOT / "babel.cfg"
ENGLISH_PO = TRANSLATIONS_DIR / "en" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +-]*\d*(?:\.\d+)?[a-zA-Z%]")
BREADCRUMB = re.compile(r'<nav class="breadcrumb.*?</nav>', re.DOTALL)

# The translation tests do not depend on the database: one backend is enough.
sqlite_only = pytest.mark.parametrize("guichet_database_url", ["sqlite"], indirect=True)


def template_msgids() -> set[str | tuple[str, ...]]:
    """Every msgid (a tuple for plural texts) the templates hold, as babel.cfg extracts them."""
    with BABEL_CFG.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle, str(BABEL_CFG))
    found: set[str | tuple[str, ...]] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(TEMPLATES_DIR, method_map, options_map):
        found.add(tuple(message) if isinstance(message, list | tuple) else message)
    return found


def english_catalog() -> Catalog:
    with ENGLISH_PO.open("rb") as handle:
        return read_po(handle, locale="en")


def entries(catalog: Catalog) -> list[Message]:
    return [message for message in catalog if message.id]


def singular(msgid: str | tuple[str, ...]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


def translations_of(message: Message) -> list[str]:
    if isinstance(message.string, tuple | list):
        return list(message.string)
    return [message.string or ""]


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def as_pattern(msgid: str) -> re.Pattern[str]:
    """A msgid as it could appear on a page: its fixed words, any value in each placeholder."""
    fixed = PLACEHOLDER.split(msgid)
    return re.compile(".+?".join(re.escape(part) for part in fixed))


def test_templates_have_texts_to_translate() -> None:
    # guards the tests below against an extraction that silently finds nothing
    msgids = template_msgids()
    assert "Accueil" in msgids
    assert ("%(num)d démarche en ligne", "%(num)d démarches en ligne") in msgids


def test_every_template_text_has_an_english_translation() -> None:
    catalog = english_catalog()
    missing = []
    for msgid in sorted(template_msgids(), key=singular):
        message = catalog.get(msgid)
        if message is None or not all(text.strip() for text in translations_of(message)):
            missing.append(msgid)
    assert not missing, "no English translation in messages.po for: " + "; ".join(map(repr, missing))


def test_catalogue_has_no_fuzzy_entry() -> None:
    fuzzy = [message.id for message in entries(english_catalog()) if message.fuzzy]
    assert not fuzzy, f"fuzzy entries are not served; check them and remove the flag: {fuzzy}"


def test_translations_keep_the_placeholders_of_their_msgid() -> None:
    mismatched = []
    for message in entries(english_catalog()):
        for msgid in [message.id] if isinstance(message.id, str) else message.id:
            for text in translations_of(message):
                if placeholders(text) != placeholders(msgid):
                    mismatched.append((msgid, text))
    assert not mismatched, f"placeholders differ between msgid and msgstr: {mismatched}"


def test_catalogue_holds_no_obsolete_text() -> None:
    catalog = english_catalog()
    current = template_msgids()
    stale = [message.id for message in entries(catalog) if message.id not in current]
    assert not stale, f"texts no template uses any more (run `make catalogues`, see babel.cfg): {stale}"
    assert not catalog.obsolete, f"obsolete (#~) entries left in messages.po: {list(catalog.obsolete)}"


def test_the_template_file_holds_exactly_the_texts_of_the_templates() -> None:
    """messages.pot is what a translator starts from: regenerated (see babel.cfg) whenever a template's texts change."""
    with (TRANSLATIONS_DIR / "messages.pot").open("rb") as handle:
        committed = {message.id for message in entries(read_po(handle))}
    current = template_msgids()
    assert committed == current, (
        f"messages.pot is out of date (run `make catalogues`, see babel.cfg): "
        f"missing {sorted(map(str, current - committed))}, no longer used {sorted(map(str, committed - current))}"
    )


def untranslated_on(page: str) -> list[str]:
    """French template texts found on a page that should be in English (words the same in both aside)."""
    text = html.unescape(page)
    same_in_english = {
        msgid for message in entries(english_catalog())
        for msgid in ([message.id] if isinstance(message.id, str) else message.id)
        if msgid in translations_of(message)
    }  # fmt: skip
    found = []
    for msgid in template_msgids():
        for french in [msgid] if isinstance(msgid, str) else msgid:
            if french not in same_in_english and as_pattern(french).search(text):
                found.append(french)
    return found


#: page -> (status, English texts it must show)
ENGLISH_PAGES = {
    "/": (200, ["Skip to content", "Deal with your town hall online. Choose your commune.", "seat of the syndicate"]),
    "/venissieux": (200, ["Vénissieux town hall", "Online services", "Contact us", "Opening hours:"]),
    "/venissieux/contact": (200, ["Send my request", "(optional)", "Why do we ask for this?", "Postcode"]),
    "/nowhere": (404, ["Back to the home page", "Error code: 404"]),
}


@sqlite_only
@pytest.mark.parametrize("path", ENGLISH_PAGES)
async def test_page_in_english_has_no_french_template_text(guichet_client: GuichetClient, path: str) -> None:
    status, english = ENGLISH_PAGES[path]
    response = await guichet_client.get(path, headers={"Accept-Language": "en"})
    assert response.status_code == status
    assert '<html lang="en">' in response.text
    page = html.unescape(response.text)
    assert [text for text in english if text not in page] == []
    assert untranslated_on(response.text) == []


@sqlite_only
async def test_home_page_in_english_uses_the_singular_translation(guichet_client: GuichetClient) -> None:
    response = await guichet_client.get("/", headers={"Accept-Language": "en"})
    assert re.search(r"\b1 online service\b", response.text)


@sqlite_only
async def test_form_errors_in_english_use_the_plural_translation(guichet_client: GuichetClient) -> None:
    guichet_client.headers["Accept-Language"] = "en"
    response = await guichet_client.submit("/venissieux/contact", {})
    assert response.status_code == 422
    assert '<html lang="en">' in response.text
    assert re.search(r"There are \d+ problems with the form", response.text)
    assert untranslated_on(response.text) == []


@sqlite_only
async def test_breadcrumb_macro_is_translated_too(guichet_client: GuichetClient) -> None:
    response = await guichet_client.get("/venissieux/contact", headers={"Accept-Language": "en"})
    breadcrumb = BREADCRUMB.search(response.text)
    assert breadcrumb is not None
    # an imported macro only sees the page's locale when imported `with context`
    assert 'aria-label="Breadcrumb"' in breadcrumb.group(0)
    assert '<a href="/">Home</a>' in breadcrumb.group(0)


@sqlite_only
async def test_french_stays_the_default_language(guichet_client: GuichetClient) -> None:
    response = await guichet_client.get("/")
    assert '<html lang="fr">' in response.text
    assert "Aller au contenu" in response.text
