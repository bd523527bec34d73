"""A commune's local plugins: services deployed from a folder named in its file, offered by that commune only.

A local plugin is a Python package in a folder of the deployment (its
``__init__.py`` holds or imports the hook implementations), named in the
commune's file::

    [[local_plugins]]
    name = "encombrants"
    path = "local-plugins/encombrants"

It runs in the gateway's process with the gateway's rights: nothing here is a
sandbox. What the gateway checks at start, refusing to start with the file and
key named, is what it checks of every plugin plus what makes "this commune
only" hold: the import boundary (read from the source before anything runs),
that the package imports, that its services are enabled by no other commune,
and that none of its routes takes a path another plugin serves. The trust
model is in docs/local_plugins.md.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from gateway.plugin_imports import PUBLIC, forbidden_imports
from gateway.plugin_version import VERSION_ATTRIBUTE, incompatibility
from gateway.registry import Registry
from gateway.settings import ConfigError, Settings

#: how a local plugin's name starts: ``local:<commune>:<name>``
LOCAL_PREFIX = "local:"


@dataclass(frozen=True)
class LocalPlugin:
    """A loaded local plugin: its plugin name (``local:<commune>:<name>``), its commune, its module."""

    name: str
    commune: str
    module: ModuleType
    #: the commune file and the key that declared it, for error messages
    file: Path
    key: str


def load_local_plugins(settings: Settings) -> list[LocalPlugin]:
    """Check and import every commune's local plugins; raises ConfigError naming the file and key."""
    loaded = []
    for commune in settings.communes:
        file = settings.commune_files[commune.slug]
        for index, entry in enumerate(commune.local_plugins):
            key = f"local_plugins.{index}"
            folder = (settings.config_dir / entry.path).resolve()
            if not (folder / "__init__.py").is_file():
                raise ConfigError(file, f"{key}.path", f"no Python package at {folder} (its __init__.py is missing)")
            problems = [problem for source in sorted(folder.rglob("*.py")) for problem in _boundary(source, folder)]
            if problems:
                raise ConfigError(
                    file, key, "a plugin imports only `gateway` / `gateway.plugin`: " + "; ".join(problems)
                )
            name = f"{LOCAL_PREFIX}{commune.slug}:{entry.name}"
            module_name = f"guichet_local_{commune.slug}_{entry.name}".replace("-", "_")
            try:
                module = _import_package(folder, module_name)
            except Exception as error:
                raise ConfigError(file, key, f"the plugin failed to import: {type(error).__name__}: {error}") from None
            check_api_version(name, module, file, key)
            loaded.append(LocalPlugin(name, commune.slug, module, file, key))
    return loaded


def _boundary(source: Path, folder: Path) -> list[str]:
    return forbidden_imports(source, PUBLIC, shown_as=source.relative_to(folder).as_posix())


def _import_package(folder: Path, module_name: str) -> ModuleType:
    """Import the folder as the package ``module_name`` (its own relative imports work), once per process."""
    existing = sys.modules.get(module_name)
    if existing is not None and Path(existing.__file__ or "").resolve() == folder / "__init__.py":
        return existing
    spec = importlib.util.spec_from_file_location(
        module_name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def check_api_version(name: str, module: ModuleType, file: Path, key: str) -> None:
    """The plugin API version the plugin declares must be one this gateway offers.

    The one place where a local plugin's declared version stops the start with its file and key
    (the plugin manager then registers it as it registers an entry point's plugin, never as a
    trusted one).
    """
    refusal = incompatibility(name, getattr(module, VERSION_ATTRIBUTE, None))
    if refusal is not None:
        raise ConfigError(file, key, refusal)


def check_local_plugins(registry: Registry, local: Iterable[LocalPlugin]) -> None:
    """Each local plugin's services are enabled by its commune only, and its routes clash with no other plugin's."""
    local = list(local)
    if not local:
        return
    routes_by_plugin: dict[str, set[str]] = {}
    for plugin_name, routes in registry.plugin_routes:
        routes_by_plugin.setdefault(plugin_name, set()).update(str(getattr(route, "path", "")) for route in routes)
    for plugin in local:
        own = [key for key, provided in registry.services.items() if provided.plugin == plugin.name]
        for key in own:
            others = [slug for slug in registry.enabled_by(key) if slug != plugin.commune]
            for slug in others:
                raise ConfigError(
                    registry.settings.commune_files[slug],
                    f"services.{key}",
                    f"'{key}' is a local plugin of {plugin.commune}, offered by that commune only",
                )
        mine = routes_by_plugin.get(plugin.name, set())
        for other, paths in routes_by_plugin.items():
            clash = sorted(mine & paths) if other != plugin.name else []
            if clash:
                raise ConfigError(plugin.file, plugin.key, f"route {clash[0]} is already served by plugin {other}")
