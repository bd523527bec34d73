"""A plugin imports only the public API, and this test says so.

Every Python file of a plugin (``plugins/*/src``, ``plugins/*/tests``) and of the
core's test plugins (``tests/plugins``) may import ``gateway`` and ``gateway.plugin``;
a test file may also import ``gateway.testing``, the test kit. Anything else
under ``gateway`` is an internal a plugin must not lean on: the failure names
the file, the line and the module. Plugins are separate distributions, so
import-linter (which sees one package graph) cannot say this; the ``ast``
module reads every import, including those inside functions and under
``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path

import gateway.plugin
from gateway.plugin_imports import PUBLIC, TEST_KIT, imported_modules
from gateway.plugin_imports import forbidden_imports as forbidden_in

ROOT = Path(__file__).resolve().parent.parent

#: test plugins that probe the core's internals from inside a running gateway (an agent route reading
#: the store: there is no public API for a plugin's own back-office pages yet, see docs/plugin_api.md,
#: "Not in the API yet"); the list only shrinks
PENDING: dict[str, str] = {
    "tests/plugins/agent_probe.py": "a route that reads the request store to test staff access",
}


def plugin_files() -> Iterator[Path]:
    for pattern in (
        "plugins/*/src/**/*.py",
        "plugins/*/tests/**/*.py",
        "tests/plugins/**/*.py",
        "config/local-plugins/**/*.py",
    ):
        yield from sorted(ROOT.glob(pattern))


def is_test_file(path: Path) -> bool:
    relative = path.relative_to(ROOT).parts
    return relative[0] == "tests" or (relative[0] == "plugins" and relative[2] == "tests")


def forbidden_imports(path: Path) -> list[str]:
    allowed = PUBLIC | TEST_KIT if is_test_file(path) else PUBLIC
    return forbidden_in(path, allowed, shown_as=str(path.relative_to(ROOT)))


def test_plugins_import_only_the_public_api_and_in_tests_the_test_kit() -> None:
    found = [
        problem
        for path in plugin_files()
        if str(path.relative_to(ROOT)) not in PENDING
        for problem in forbidden_imports(path)
    ]
    assert not found, (
        "a plugin may import only `gateway` / `gateway.plugin` (and `gateway.testing` in its tests); "
        "add what it needs to the public API (docs/plugin_api.md) instead:\n" + "\n".join(found)
    )


def test_every_pending_exception_still_needs_its_exemption() -> None:
    cleared = [name for name in PENDING if not forbidden_imports(ROOT / name)]
    assert not cleared, f"these files now import only the public API; remove them from PENDING: {cleared}"


def test_the_check_sees_an_internal_import_in_a_function_and_a_submodule_imported_by_name() -> None:
    source = "from gateway import Localized, testing\n\ndef f():\n    from gateway.models import Citizen\n"
    assert sorted(imported_modules(ast.parse(source))) == [
        (1, "gateway"),
        (1, "gateway.testing"),
        (4, "gateway.models"),
    ]


def test_the_test_kit_is_allowed_in_tests_only() -> None:
    assert is_test_file(ROOT / "plugins/contact/tests/test_contact.py")
    assert not is_test_file(ROOT / "plugins/contact/src/guichet_contact/plugin.py")


def test_every_type_of_the_public_api_is_documented() -> None:
    undocumented = [
        name
        for name in gateway.plugin.__all__
        if inspect.isclass(cls := getattr(gateway.plugin, name))
        # a dataclass without a docstring gets its signature as one: that is not documentation
        and (not cls.__dict__.get("__doc__") or cls.__dict__["__doc__"].startswith(f"{name}("))
    ]
    assert not undocumented, f"public API types without a docstring: {undocumented}"
