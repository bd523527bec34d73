"""The README stays the short front door: the two commands first, CI running the same test command, every guide listed.

Everything else lives in docs/ (the guides); tests/test_docs_links.py checks
that the links between them lead somewhere.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
#: a newcomer reads the README in a few minutes; the rest belongs in a guide under docs/
MOST_BYTES = 15_000


def first_commands() -> list[str]:
    """The commands of the README's first code block, comments left out."""
    block = re.search(r"^```sh\n(.*?)^```", README.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)
    assert block, "the README has no sh code block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.split("#")[0].strip()]


def test_the_readme_opens_with_make_run_and_make_test() -> None:
    text = README.read_text(encoding="utf-8")

    assert text.index("```sh") < text.index("\n## ")
    assert first_commands() == ["make run", "make test"]


def test_the_readmes_two_commands_are_targets_of_the_makefile() -> None:
    targets = set(re.findall(r"^([a-z][\w.-]*):", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE))

    assert {command.removeprefix("make ") for command in first_commands()} <= targets


def test_ci_runs_the_readmes_test_command() -> None:
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    test_command = next(command for command in first_commands() if command.endswith(" test"))

    assert test_command in ci, f".ci/run does not run the README's test command {test_command!r}"


def test_the_readme_links_every_guide() -> None:
    linked = set(re.findall(r"\]\(docs/([\w.-]+\.md)(?:#[^)]*)?\)", README.read_text(encoding="utf-8")))
    guides = {page.name for page in (ROOT / "docs").glob("*.md")}

    assert not guides - linked, f"guides the README's « Guides » list does not link: {sorted(guides - linked)}"


def test_the_readme_stays_short() -> None:
    size = len(README.read_bytes())

    assert size <= MOST_BYTES, f"README.md is {size} bytes: move what a newcomer does not need first into a guide"
