"""A new plugin's distribution, written from templates: what ``guichet new-plugin NAME`` generates.

The templates (package data under ``templates/``, rendered with Jinja2) make a
complete, installable distribution whose tests pass as generated: pyproject with
the ``guichet`` entry point, the plugin (service, settings, form, workflow, texts
in French and English, retention), a README and tests on the kit. Nothing is
fetched: a commune's developer gets it offline, from the installed gateway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from gateway.plugin import API_VERSION

#: a service key that is also a distribution and package name: lower case, digits, single hyphens inside
NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
NAME_MAX = 40

#: each file written (path in the distribution, ``{package}`` replaced) and the template it comes from
FILES = {
    "pyproject.toml": "pyproject.toml.jinja",
    "README.md": "README.md.jinja",
    ".gitignore": "gitignore.jinja",
    "src/{package}/__init__.py": "init.py.jinja",
    "src/{package}/plugin.py": "plugin.py.jinja",
    "tests/conftest.py": "conftest.py.jinja",
    "tests/test_pages.py": "test_pages.py.jinja",
    "tests/test_flow.py": "test_flow.py.jinja",
}


class ScaffoldError(ValueError):
    """A name or a folder ``new-plugin`` refuses, with the reason a person can act on."""


@dataclass(frozen=True)
class PluginNames:
    """The names a plugin called ``name`` goes by, each where it is used."""

    name: str

    @property
    def service(self) -> str:
        """The service key: in addresses and in a commune's ``[services.<key>]``."""
        return self.name

    @property
    def distribution(self) -> str:
        return f"guichet-{self.name}"

    @property
    def package(self) -> str:
        return f"guichet_{self.name.replace('-', '_')}"

    @property
    def settings_class(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("-")) + "Settings"

    @property
    def title(self) -> str:
        return self.name.replace("-", " ").capitalize()

    @property
    def prefix(self) -> str:
        """Its reference numbers' prefix: the name's first three letters, in capitals (2 to 5 are allowed)."""
        letters = "".join(char for char in self.name.upper() if char.isalpha())
        return (letters + "XX")[:3]


def check_name(name: str) -> PluginNames:
    """The plugin's names, or :class:`ScaffoldError` saying what a valid one looks like."""
    if not NAME.match(name) or len(name) > NAME_MAX:
        raise ScaffoldError(
            f"{name!r} is not a valid plugin name: it becomes the service key and the package name, so use "
            f"lower-case letters, digits and single hyphens, starting with a letter, at most {NAME_MAX} characters "
            "(for example 'cantine' or 'permis-de-louer')"
        )
    return PluginNames(name)


def generate(name: str, into: Path) -> Path:
    """Write the distribution of plugin ``name`` into a new folder ``guichet-<name>`` under ``into``; its path."""
    names = check_name(name)
    if not into.is_dir():
        raise ScaffoldError(f"{into} is not a folder")
    target = into / names.distribution
    if target.exists():
        raise ScaffoldError(f"{target} already exists: choose another folder (--into) or remove it")
    environment = Environment(
        loader=PackageLoader("gateway.scaffold", "templates"),
        autoescape=select_autoescape(enabled_extensions=(), default_for_string=False, default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    values = {"names": names, "api_version": API_VERSION, "guichet_version": _guichet_version()}
    for relative, template in FILES.items():
        path = target / relative.format(package=names.package)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(environment.get_template(template).render(values), encoding="utf-8")
    return target


def _guichet_version() -> str:
    """The ``MAJOR.MINOR`` of the installed gateway, the lowest the new plugin asks for."""
    from gateway import __version__

    return ".".join(__version__.split(".")[:2])
