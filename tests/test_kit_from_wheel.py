"""The test kit works as a plugin author gets it: Guichet from its wheel, in a fresh virtual environment.

Two plugins, in one environment built once: the one docs/testing_plugins.md
writes, file by file (each block headed by ``<!-- file: PATH -->``), so the
guide's examples are what runs; and the one the wheel's own ``guichet
new-plugin`` generates (docs/writing_plugins.md), installed from its wheel. The
wheels are built here without build isolation; pip takes the dependencies from
its cache when it has them. Nothing from this checkout is on the path of the
plugin's test run: the test checks that ``gateway`` is imported from the new
environment.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.testing import skip_or_fail

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "testing_plugins.md"
FILE_BLOCK = re.compile(r"^<!-- file: (\S+) -->\n```\w+\n(.*?)^```", re.MULTILINE | re.DOTALL)
#: what the checkout's environment says that the author's does not have
LEFT_OUT_ENV = ("PYTHONPATH", "GUICHET_CONFIG", "VIRTUAL_ENV", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")

pytestmark = pytest.mark.wheel


def guide_files() -> dict[str, str]:
    return {path: body for path, body in FILE_BLOCK.findall(GUIDE.read_text(encoding="utf-8"))}


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    return result.stdout


def build_wheel(source: Path, into: Path) -> Path:
    """The wheel of the project at ``source``, built into a folder of its own under ``into``."""
    folder = into / source.name
    folder.mkdir()
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(folder),
         str(source)], cwd=into)  # fmt: skip
    (wheel,) = folder.glob("*.whl")
    return wheel


def test_the_guide_writes_a_whole_plugin() -> None:
    files = guide_files()
    assert {"pyproject.toml", "src/guichet_cantine/plugin.py", "tests/conftest.py"} <= set(files)
    assert any(path.startswith("tests/test_") for path in files)


@dataclass(frozen=True)
class AuthorsEnvironment:
    """A fresh virtual environment with Guichet installed from its wheel, ``[test]`` extra included."""

    venv: Path
    wheels: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def install(self, wheel: Path, extra: str = "") -> None:
        # this environment's pip installs into the new one; no wheel is editable
        run([sys.executable, "-m", "pip", "--python", str(self.python), "install", "--quiet", f"{wheel}{extra}"],
            cwd=self.wheels)  # fmt: skip

    def run_tests(self, plugin: Path, package: str) -> str:
        """The plugin's tests run with pytest in the new environment, from the plugin's folder; pytest's output."""
        env = {key: value for key, value in os.environ.items() if key not in LEFT_OUT_ENV}
        where = run([str(self.python), "-c", f"import gateway, {package}; print(gateway.__file__)"], plugin, env)
        assert Path(where.strip()).is_relative_to(self.venv), f"gateway imported from {where}, not the new environment"
        return run([str(self.python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=plugin, env=env)


@pytest.fixture(scope="module")
def authors_environment(tmp_path_factory: pytest.TempPathFactory) -> AuthorsEnvironment:
    """Built once for this file's tests: Guichet's wheel is the slow part."""
    if importlib.util.find_spec("hatchling") is None:
        skip_or_fail("hatchling, which builds the wheels here, is not installed (`make test` installs the [dev] extra)")
    root = tmp_path_factory.mktemp("author")
    wheels = root / "wheels"
    wheels.mkdir()
    guichet = build_wheel(ROOT, wheels)
    venv = root / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=root)
    environment = AuthorsEnvironment(venv, wheels)
    environment.install(guichet, "[test]")
    return environment


def test_a_plugin_outside_the_repository_passes_its_tests_against_guichets_wheel(
    authors_environment: AuthorsEnvironment, tmp_path: Path
) -> None:
    plugin = tmp_path / "guichet-cantine"
    for relative, body in guide_files().items():
        (plugin / relative).parent.mkdir(parents=True, exist_ok=True)
        (plugin / relative).write_text(body, encoding="utf-8")
    authors_environment.install(build_wheel(plugin, authors_environment.wheels))

    output = authors_environment.run_tests(plugin, "guichet_cantine")

    assert_all_passed(output, guide_files().values())


def test_the_wheels_new_plugin_generates_a_plugin_whose_tests_pass_installed(
    authors_environment: AuthorsEnvironment, tmp_path: Path
) -> None:
    guichet = authors_environment.venv / "bin" / "guichet"
    run([str(guichet), "new-plugin", "pret-de-salle", "--into", str(tmp_path)], cwd=tmp_path)
    plugin = tmp_path / "guichet-pret-de-salle"
    authors_environment.install(build_wheel(plugin, authors_environment.wheels))

    output = authors_environment.run_tests(plugin, "guichet_pret_de_salle")

    assert_all_passed(output, [path.read_text(encoding="utf-8") for path in (plugin / "tests").glob("test_*.py")])


def assert_all_passed(output: str, test_sources: Iterable[str]) -> None:
    written = sum(len(re.findall(r"^(?:async )?def test_", body, re.MULTILINE)) for body in test_sources)
    passed = re.search(r"\b(\d+) passed", output)
    assert written and passed and int(passed.group(1)) >= written, output
