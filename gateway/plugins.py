"""The plugin manager: hook specifications, the core's default plugins, entry points.

Built-in behaviour (the pages, the API, reference numbers) is registered as
default plugins through the very hooks a commune's plugin implements; the
demo's own plugins are added only for a demo deployment (``demo=True``). Other
plugins are distributions declaring an entry point in the ``guichet`` group.

Plugins are loaded one by one: a plugin that fails to import is logged and
recorded in :attr:`PluginSet.failures`, and the gateway starts without it.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import pluggy

from gateway import core_hookspecs, hookspecs
from gateway.observability import metrics
from gateway.plugin_version import VERSION_ATTRIBUTE, incompatibility
from gateway.services import TransitionRefused

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "guichet"

#: The core's own plugins, registered before any entry point.
DEFAULT_PLUGINS = (
    "gateway.builtin.reference_numbers",
    "gateway.builtin.health",
    "gateway.builtin.api",
    "gateway.builtin.pages",
    "gateway.builtin.staff_pages",
    "gateway.builtin.audit_console",
    "gateway.builtin.access_log",
    "gateway.builtin.account_pages",
    "gateway.builtin.oidc_pages",
    "gateway.builtin.citizen_requests",
    "gateway.builtin.back_office",
    "gateway.builtin.issued_documents",
)

#: The demo's plugins (its identity provider, its mailbox), registered after the defaults in demo deployments only.
DEMO_PLUGINS = (
    "gateway.demo.identity_plugin",
    "gateway.demo.mailbox",
)


@dataclass(frozen=True)
class PluginFailure:
    plugin: str
    hook: str
    error: str


@dataclass
class PluginSet:
    """A plugin manager plus what was learnt while loading it."""

    manager: pluggy.PluginManager
    #: plugin name -> distribution name and version, for entry-point plugins
    distributions: dict[str, tuple[str, str]] = field(default_factory=dict)
    failures: dict[str, PluginFailure] = field(default_factory=dict)
    blocked: tuple[str, ...] = ()
    #: plugin name -> the plugin API version it declares (entry points and a test's own plugins)
    api_versions: dict[str, str] = field(default_factory=dict)

    def record_failure(self, plugin: str, hook: str, error: BaseException) -> None:
        """Take ``plugin`` out of service for this process (it failed at start)."""
        log_failure(plugin, hook, error)
        self.failures.setdefault(plugin, PluginFailure(plugin, hook, f"{type(error).__name__}: {error}"))

    def refuse(self, plugin: str, reason: str) -> None:
        """Keep ``plugin`` out of service for a reason that says it all in one line (no traceback)."""
        logger.error("%s", reason)
        self.failures.setdefault(plugin, PluginFailure(plugin, "load", reason))

    def api_version_of(self, name: str) -> str | None:
        """The plugin API version a plugin declares (None for the core's own plugins)."""
        return self.api_versions.get(name)

    def names(self) -> list[str]:
        return [name for name, plugin in self.manager.list_name_plugin() if plugin is not None]

    def hooks_of(self, name: str) -> list[str]:
        plugin = self.manager.get_plugin(name)
        callers = self.manager.get_hookcallers(plugin) or []
        return sorted(caller.name for caller in callers)


def log_failure(plugin: str, hook: str, error: BaseException) -> None:
    metrics.PLUGIN_FAILURES.labels(plugin=plugin, hook=hook).inc()
    logger.error("plugin %r failed in %s: %s: %s", plugin, hook, type(error).__name__, error, exc_info=error)


class UnknownBlockedPlugin(ValueError):
    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        super().__init__(f"no plugin named '{name}' (known: {', '.join(sorted(known)) or 'none'})")


def available_entry_points() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def get_plugin_manager(
    blocked: Iterable[str] = (),
    *,
    demo: bool = False,
    local_plugins: Iterable[tuple[str, object]] = (),
    extra_plugins: Iterable[tuple[str, object]] = (),
) -> PluginSet:
    """Build the plugin manager: specs, defaults, entry points, blocklist, checks.

    ``demo`` (``gateway.demo`` in the settings) adds :data:`DEMO_PLUGINS`
    after the defaults; their names may be blocked in any deployment.
    ``local_plugins`` are communes' plugins loaded from folders
    (:mod:`gateway.local_plugins`), (name, module) pairs registered after the
    entry points and checked as they are. ``extra_plugins`` registers (name,
    module-or-object) pairs last; tests use it to load small plugins from ``tests/plugins``.
    """
    local_plugins = tuple(local_plugins)
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    manager.add_hookspecs(core_hookspecs)
    blocked = tuple(blocked)
    points = available_entry_points()
    known = (
        set(points) | set(DEFAULT_PLUGINS) | set(DEMO_PLUGINS) | {name for name, _ in (*local_plugins, *extra_plugins)}
    )
    for name in blocked:
        if name not in known:
            raise UnknownBlockedPlugin(name, known)
        manager.set_blocked(name)
    plugins = PluginSet(manager=manager, blocked=blocked)
    for module_name in (*DEFAULT_PLUGINS, *(DEMO_PLUGINS if demo else ())):
        if not manager.is_blocked(module_name):
            manager.register(importlib.import_module(module_name), name=module_name)
    for name, point in sorted(points.items()):
        if manager.is_blocked(name):
            continue
        if point.dist is not None:
            plugins.distributions[name] = (point.dist.name, point.dist.version)
        try:
            loaded = point.load()
        except Exception as error:  # a broken plugin must not stop the gateway
            plugins.record_failure(name, "load", error)
            continue
        _register_checked(plugins, name, loaded)
    for name, module in local_plugins:  # a commune's own: registered and checked as an entry point's plugin is
        if not manager.is_blocked(name):
            _register_checked(plugins, name, module)
    for name, plugin in extra_plugins:
        if not manager.is_blocked(name):
            _register_checked(plugins, name, plugin, trusted=True)
    manager.check_pending()
    return plugins


def _register_checked(plugins: PluginSet, name: str, plugin: object, *, trusted: bool = False) -> None:
    """Register a plugin, or take it out of service if it targets another plugin API or its hooks are not Guichet's.

    A plugin API version it does not declare or this gateway does not offer, a
    misspelt hook name or a hook wrapper (Guichet calls implementations one by
    one and has no wrappers) is a fault of that plugin alone. Only the core and
    the embedding program's own plugins (``trusted``: a test's) may implement
    the core's hooks, which see the secrets.
    """
    declared = getattr(plugin, VERSION_ATTRIBUTE, None)
    refusal = incompatibility(name, declared)
    if refusal:
        plugins.refuse(name, refusal)
        return
    plugins.api_versions[name] = str(declared)
    manager = plugins.manager
    try:
        manager.register(plugin, name=name)
    except Exception as error:
        plugins.record_failure(name, "load", error)
        return
    for caller in manager.get_hookcallers(plugin) or []:
        fault = None
        if not caller.has_spec():
            fault = f"implements {caller.name}, which is not a Guichet hook"
        elif caller.name in core_hookspecs.CORE_HOOKS and not trusted:
            fault = f"implements {caller.name}, which is reserved to the core; use guichet_routes"
        elif any(impl.plugin is plugin and (impl.wrapper or impl.hookwrapper) for impl in caller.get_hookimpls()):
            fault = f"implements {caller.name} as a wrapper; Guichet hooks take no wrappers"
        if fault:
            manager.unregister(plugin)
            plugins.record_failure(name, "load", ValueError(fault))
            return


class HookFailed(Exception):
    """A plugin raised inside a hook; the caller answers 'temporarily unavailable'."""

    def __init__(self, plugin: str, hook: str) -> None:
        self.plugin = plugin
        self.hook = hook
        super().__init__(f"plugin {plugin!r} failed in {hook}")


class HookRunner:
    """Call hook implementations one at a time, so a failure names its plugin.

    The order is pluggy's (``tryfirst``/``trylast``, then last registered
    first). ``only`` restricts the call to one plugin: service hooks go to the
    plugin that provides the service and to no other.
    """

    def __init__(self, plugins: PluginSet) -> None:
        self.plugins = plugins

    def _implementations(self, hook: str, only: str | None) -> list[pluggy.HookImpl]:
        impls = getattr(self.plugins.manager.hook, hook).get_hookimpls()
        failed = self.plugins.failures
        return [
            impl
            for impl in reversed(impls)
            if (only is None or impl.plugin_name == only) and impl.plugin_name not in failed
        ]

    def _call(self, impl: pluggy.HookImpl, hook: str, kwargs: dict[str, Any]) -> Any:
        try:
            return impl.function(*(kwargs[name] for name in impl.argnames))
        except TransitionRefused as refusal:
            # the plugin's own answer (an agent is told its reason), not a failure: neither logged nor counted
            raise HookFailed(impl.plugin_name, hook) from refusal
        except Exception as error:
            log_failure(impl.plugin_name, hook, error)
            raise HookFailed(impl.plugin_name, hook) from error

    def all(self, hook: str, *, only: str | None = None, **kwargs: Any) -> list[tuple[str, Any]]:
        """Every non-``None`` result with the name of the plugin that gave it."""
        results = []
        for impl in self._implementations(hook, only):
            result = self._call(impl, hook, kwargs)
            if result is not None:
                results.append((impl.plugin_name, result))
        return results

    def first(self, hook: str, *, only: str | None = None, **kwargs: Any) -> Any:
        for impl in self._implementations(hook, only):
            result = self._call(impl, hook, kwargs)
            if result is not None:
                return result
        return None

    def collect(self, hook: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Like :meth:`all`, for start-up: a failing plugin is taken out of service and skipped."""
        results = []
        for impl in self._implementations(hook, None):
            try:
                result = impl.function(*(kwargs[name] for name in impl.argnames))
            except Exception as error:
                self.plugins.record_failure(impl.plugin_name, hook, error)
                continue
            if result is not None:
                results.append((impl.plugin_name, result))
        return results
