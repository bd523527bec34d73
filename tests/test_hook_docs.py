"""docs/plugin_hooks.md and gateway/hookspecs.py describe the same hooks.

Every hook specification has a ``## guichet_<name>`` section whose python block
holds its signature exactly as the specification writes it, and whose
``**Combination:**`` line agrees with its ``firstresult`` option; the page
documents no hook that does not exist.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gateway import hookspecs

DOC = Path(__file__).resolve().parent.parent / "docs" / "plugin_hooks.md"
SECTION_HEADING = re.compile(r"^## (guichet_\w+)\s*$", re.MULTILINE)
ANY_HEADING = re.compile(r"^#{1,2} ", re.MULTILINE)
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
COMBINATION = re.compile(r"^\*\*Combination:\*\*(.*?)(?:\n\s*\n|\Z)", re.MULTILINE | re.DOTALL)


def hook_specs() -> dict[str, Callable[..., Any]]:
    return {
        name: function
        for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
        if name.startswith("guichet_")
    }


def spec_options(function: Callable[..., Any]) -> dict[str, Any]:
    # pluggy's HookspecMarker("guichet") stores its options on this attribute
    options: dict[str, Any] = getattr(function, f"{hookspecs.PROJECT}_spec")
    return options


def expected_signature(name: str, function: Callable[..., Any]) -> str:
    """``def name(arg: Type, ...) -> Ret``, from the specification's annotations as written."""
    signature = inspect.signature(function, eval_str=False)
    annotations = function.__annotations__
    arguments = ", ".join(f"{parameter}: {annotations[parameter]}" for parameter in signature.parameters)
    return f"def {name}({arguments}) -> {annotations['return']}"


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def doc_sections() -> dict[str, str]:
    """``guichet_*`` heading -> the text up to the next heading of level 1 or 2."""
    text = doc_text()
    sections = {}
    for match in SECTION_HEADING.finditer(text):
        following = ANY_HEADING.search(text, match.end())
        sections[match.group(1)] = text[match.end() : following.start() if following else len(text)]
    return sections


def combination_of(section: str) -> str:
    match = COMBINATION.search(section)
    assert match, "no **Combination:** line"
    return " ".join(match.group(1).split()).lower()


HOOKS = sorted(hook_specs())


def test_hookspecs_are_found() -> None:
    # guards the parametrized tests below against an empty list
    assert {"guichet_services", "guichet_routes", "guichet_reference_number"} <= set(HOOKS)


def test_hookspecs_carry_their_options_where_expected() -> None:
    # the Combination checks rely on this attribute; fail loudly if pluggy moves it
    for function in hook_specs().values():
        assert "firstresult" in spec_options(function)


def test_every_hook_has_a_section() -> None:
    missing = sorted(set(HOOKS) - set(doc_sections()))
    assert not missing, f"hooks with no `## name` section in {DOC.name}: {missing}"


def test_no_section_documents_a_hook_that_does_not_exist() -> None:
    unknown = sorted(set(doc_sections()) - set(HOOKS))
    assert not unknown, f"{DOC.name} documents hooks gateway/hookspecs.py does not have: {unknown}"


def test_no_hook_is_documented_twice() -> None:
    headings = SECTION_HEADING.findall(doc_text())
    assert len(headings) == len(set(headings))


@pytest.mark.parametrize("name", HOOKS)
def test_section_shows_the_hookspec_signature(name: str) -> None:
    section = doc_sections().get(name)
    assert section is not None, f"no `## {name}` section"
    expected = expected_signature(name, hook_specs()[name])
    lines = [block.strip() for block in PYTHON_BLOCK.findall(section)]
    shown = [line for line in lines if line.startswith(f"def {name}(")]
    assert shown, f"no python block holding `def {name}(...)` in its section"
    assert shown[0] == expected


@pytest.mark.parametrize("name", HOOKS)
def test_combination_line_matches_firstresult(name: str) -> None:
    section = doc_sections().get(name)
    assert section is not None, f"no `## {name}` section"
    wording = combination_of(section)
    if spec_options(hook_specs()[name])["firstresult"]:
        assert "first result" in wording, f"{name} is firstresult: its Combination line must say 'first result'"
    else:
        assert "all results" in wording, f"{name} collects every result: its Combination line must say 'all results'"
        assert "first" not in wording, f"{name} is not firstresult: its Combination line must not say 'first'"
