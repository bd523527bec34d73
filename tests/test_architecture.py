"""The floors of docs/architecture.md hold: imports point one way, no package cycle, small modules.

Three checks, each failing with a report a person can act on:

- the import-linter contracts in ``.importlinter`` (layers, pages/API independence, identity
  without HTTP, the store without the audit log...), type-only imports included;
- no import cycle among the children of any package of ``gateway`` (a type-only import counts:
  a cycle that only type checkers see still ties the two packages together);
- no module over 600 lines in ``gateway/`` or ``plugins/*/src``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable, Mapping, Set
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 600

#: what a migration may import from the core (Alembic's folder is not a package: import-linter cannot see it)
MIGRATIONS_MAY_IMPORT = {"gateway.models", "gateway.db"}


def test_the_import_linter_contracts_are_kept() -> None:
    # import-linter's Python API only reads configuration; its command line is the stable way to check
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from importlinter.cli import lint_imports_command; lint_imports_command()",
            "--no-cache",
            "--no-logo",
            str(ROOT / ".importlinter"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"import-linter contracts broken:\n{result.stdout}\n{result.stderr}"


def test_no_import_cycle_between_sibling_packages_or_modules() -> None:
    graph = grimp.build_graph("gateway", exclude_type_checking_imports=False, cache_dir=None)
    cycles = {}
    for package in sorted(name for name in graph.modules if graph.find_children(name)):
        found = [cycle for cycle in strongly_connected(sibling_imports(graph, package)) if len(cycle) > 1]
        if found:
            cycles[package] = found
    report = "\n".join(f"in {package}: {' <-> '.join(cycle)}" for package, found in cycles.items() for cycle in found)
    assert not cycles, f"import cycles (type-only imports included):\n{report}"


def test_modules_stay_small() -> None:
    sources = [*(ROOT / "gateway").rglob("*.py"), *ROOT.glob("plugins/*/src/**/*.py")]
    sizes = {path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines()) for path in sources}
    too_long = {path: lines for path, lines in sorted(sizes.items()) if lines > MAX_LINES}
    assert not too_long, f"modules over {MAX_LINES} lines (split them by job): {too_long}"


def test_migrations_import_only_the_models_and_the_store() -> None:
    found = {}
    for path in sorted((ROOT / "gateway" / "migrations").rglob("*.py")):
        outside = {name for name in imported_names(path) if name.split(".")[0] == "gateway"}
        outside -= {name for name in outside if any(belongs(name, allowed) for allowed in MIGRATIONS_MAY_IMPORT)}
        if outside:
            found[path.relative_to(ROOT).as_posix()] = sorted(outside)
    assert not found, f"migrations import more than {sorted(MIGRATIONS_MAY_IMPORT)}: {found}"


def test_the_cycle_search_finds_a_cycle() -> None:
    imports = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert sorted(sorted(cycle) for cycle in strongly_connected(imports)) == [["a", "b", "c"], ["d"]]


# helpers ------------------------------------------------------------------------------------------


def belongs(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def sibling_imports(graph: grimp.ImportGraph, package: str) -> dict[str, set[str]]:
    """Direct imports between the children of ``package``, each module counted as the child it sits in."""

    def child_of(module: str) -> str:
        return package + "." + module[len(package) + 1 :].split(".")[0]

    imports: dict[str, set[str]] = {}
    for importer in graph.modules:
        if not importer.startswith(package + "."):
            continue
        for imported in graph.find_modules_directly_imported_by(importer):
            if not imported.startswith(package + "."):
                continue
            source, target = child_of(importer), child_of(imported)
            if source != target:
                imports.setdefault(source, set()).add(target)
    return imports


def strongly_connected(imports: Mapping[str, Set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative): a component of two or more nodes is a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in sorted(imports):
        if start in index:
            continue
        work: list[tuple[str, Iterable[str]]] = [(start, iter(sorted(imports.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(imports.get(target, ())))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def imported_names(path: Path) -> set[str]:
    """Every module a file imports, wherever the import statement stands (type-only ones included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names
