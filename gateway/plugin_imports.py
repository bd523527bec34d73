"""The import boundary of a plugin: which ``gateway`` modules a plugin's files import, and which it may.

A plugin imports only the public plugin API (``gateway``, ``gateway.plugin``)
and, in its tests, the test kit (``gateway.testing``). The ``ast`` module reads
every import of a file, including those inside functions and under
``if TYPE_CHECKING:``, without running it: the same walk checks the plugins
of this repository (tests/test_plugin_imports.py) and a commune's local plugin
when the gateway loads it (:mod:`gateway.local_plugins`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PUBLIC = frozenset({"gateway", "gateway.plugin"})
TEST_KIT = frozenset({"gateway.testing"})
_GATEWAY = Path(__file__).resolve().parent


def imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Each absolute module a file imports, with its line.

    ``from gateway import testing`` imports the submodule ``gateway.testing``, so a
    name imported from ``gateway`` that is one of its submodules counts as that module.
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:
                if node.module == "gateway" and is_submodule(alias.name):
                    yield node.lineno, f"gateway.{alias.name}"


def is_submodule(name: str) -> bool:
    return (_GATEWAY / f"{name}.py").exists() or (_GATEWAY / name / "__init__.py").exists()


def forbidden_imports(path: Path, allowed: frozenset[str], *, shown_as: str | None = None) -> list[str]:
    """``FILE:LINE: imports MODULE`` for each ``gateway`` module the file imports outside ``allowed``.

    A file that is not valid Python is reported as such (the gateway would fail to import it anyway).
    """
    name = shown_as or str(path)
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, UnicodeDecodeError) as error:
        return [f"{name}: cannot be read as Python ({error})"]
    return [
        f"{name}:{line}: imports {module}"
        for line, module in imported_modules(tree)
        if (module == "gateway" or module.startswith("gateway.")) and module not in allowed
    ]
