"""The test kit works as a plugin author gets it: Guichet from its wheel, in a fresh virtual environment.

The plugin is the one docs/testing_plugins.md writes, file by file (each block
headed by ``<!-- file: PATH -->``), so the guide's examples are what runs. Both
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


def test_a_plugin_outside_the_repository_passes_its_tests_against_guichets_wheel(tmp_path: Path) -> None:
    if importlib.util.find_spec("hatchling") is None:
        skip_or_fail("hatchling, which builds the wheels here, is not installed (`make test` installs the [dev] extra)")
    plugin = tmp_path / "guichet-cantine"
    for relative, body in guide_files().items():
        (plugin / relative).parent.mkdir(parents=True, exist_ok=True)
        (plugin / relative).write_text(body, encoding="utf-8")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    guichet = build_wheel(ROOT, wheels)
    cantine = build_wheel(plugin, wheels)

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    # this environment's pip installs into the new one; neither wheel is editable
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", f"{guichet}[test]", str(cantine)],
        cwd=tmp_path)  # fmt: skip

    env = {key: value for key, value in os.environ.items() if key not in LEFT_OUT_ENV}
    where = run([str(python), "-c", "import gateway, guichet_cantine; print(gateway.__file__)"], cwd=plugin, env=env)
    assert Path(where.strip()).is_relative_to(venv), f"gateway imported from {where}, not the new environment"

    output = run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=plugin, env=env)
    written = sum(len(re.findall(r"^(?:async )?def test_", body, re.MULTILINE)) for body in guide_files().values())
    passed = re.search(r"\b(\d+) passed", output)
    assert passed and int(passed.group(1)) >= written, output
