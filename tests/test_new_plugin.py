"""``guichet new-plugin``: a distribution that installs and whose tests pass as generated; bad names refused.

The generated plugin is installed for real (a wheel built by hatchling, installed
with pip into a folder of its own, not editable) and its own tests run with
pytest in a subprocess of this environment, from the plugin's folder, so they
run in ``make test``. tests/test_kit_from_wheel.py does the same from Guichet's
wheel in a fresh virtual environment.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gateway.cli import main
from gateway.plugin import API_VERSION
from gateway.plugin_imports import PUBLIC, TEST_KIT, forbidden_imports
from gateway.testing import skip_or_fail

#: what this checkout's environment says that a plugin author's does not have
LEFT_OUT_ENV = ("PYTHONPATH", "GUICHET_CONFIG", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")


def new_plugin(*args: str) -> Result:
    return CliRunner().invoke(main, ["new-plugin", *args], catch_exceptions=False)


def test_it_writes_a_distribution_with_the_entry_point_and_the_api_version(tmp_path: Path) -> None:
    result = new_plugin("pret-de-salle", "--into", str(tmp_path))
    assert result.exit_code == 0, result.output
    folder = tmp_path / "guichet-pret-de-salle"
    project = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["name"] == "guichet-pret-de-salle"
    assert project["project"]["entry-points"]["guichet"] == {"pret-de-salle": "guichet_pret_de_salle.plugin"}
    assert project["tool"]["pytest"]["ini_options"]["asyncio_mode"] == "auto"
    plugin = (folder / "src" / "guichet_pret_de_salle" / "plugin.py").read_text(encoding="utf-8")
    assert f'GUICHET_PLUGIN_API = "{API_VERSION}"' in plugin
    assert str(folder) in result.output


def test_every_python_file_it_writes_compiles(tmp_path: Path) -> None:
    new_plugin("pret-de-salle", "--into", str(tmp_path))
    sources = sorted((tmp_path / "guichet-pret-de-salle").rglob("*.py"))
    assert len(sources) == 5
    for source in sources:
        compile(source.read_text(encoding="utf-8"), str(source), "exec")


def test_the_generated_plugin_imports_only_the_public_api(tmp_path: Path) -> None:
    new_plugin("composteur", "--into", str(tmp_path))
    folder = tmp_path / "guichet-composteur"
    faults = [fault for path in sorted((folder / "src").rglob("*.py")) for fault in forbidden_imports(path, PUBLIC)]
    faults += [fault for path in sorted((folder / "tests").rglob("*.py")) for fault in
               forbidden_imports(path, PUBLIC | TEST_KIT)]  # fmt: skip
    assert faults == []


@pytest.mark.parametrize(
    "name",
    ["Cantine", "cantine_scolaire", "2cantine", "-cantine", "cantine-", "can--tine", "cantine!", "", "a" * 41],
)
def test_a_name_that_cannot_be_a_service_key_and_a_package_is_refused(tmp_path: Path, name: str) -> None:
    result = new_plugin("--into", str(tmp_path), "--", name)
    assert result.exit_code == 2
    assert "is not a valid plugin name" in result.output
    assert "lower-case letters, digits and single hyphens" in result.output
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    (tmp_path / "guichet-cantine").mkdir()
    (tmp_path / "guichet-cantine" / "notes.txt").write_text("mine", encoding="utf-8")
    result = new_plugin("cantine", "--into", str(tmp_path))
    assert result.exit_code == 2
    assert "guichet-cantine already exists" in result.output
    assert [path.name for path in (tmp_path / "guichet-cantine").iterdir()] == ["notes.txt"]


def test_a_missing_destination_folder_is_refused(tmp_path: Path) -> None:
    result = new_plugin("cantine", "--into", str(tmp_path / "nowhere"))
    assert result.exit_code == 2
    assert "is not a folder" in result.output


def test_the_generated_plugin_installs_and_its_tests_pass(tmp_path: Path) -> None:
    if importlib.util.find_spec("hatchling") is None:
        skip_or_fail("hatchling, which builds the plugin's wheel, is not installed (`make test` installs [dev])")
    new_plugin("pret-de-salle", "--into", str(tmp_path))
    folder = tmp_path / "guichet-pret-de-salle"
    site = tmp_path / "site"
    # installed as it is deployed (a wheel, not editable); its dependencies are this environment's
    run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target",
         str(site), str(folder)], cwd=tmp_path)  # fmt: skip
    env = {key: value for key, value in os.environ.items() if key not in LEFT_OUT_ENV} | {"PYTHONPATH": str(site)}

    output = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=folder, env=env)

    written = sum(len(re.findall(r"^(?:async )?def test_", path.read_text(encoding="utf-8"), re.MULTILINE))
                  for path in (folder / "tests").glob("test_*.py"))  # fmt: skip
    passed = re.search(r"\b(\d+) passed", output)
    assert written >= 10
    assert passed and int(passed.group(1)) >= written, output
    assert "failed" not in output and "error" not in output, output


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    return result.stdout
