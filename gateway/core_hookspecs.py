"""The core's own hooks: not part of the plugin API, refused to any other plugin.

Some of the core's default plugins build their routes from secrets (the
sign-in pages from the identity providers' credentials, the demo identity
provider from the secret key). They implement ``guichet_core_routes``, which
receives the whole :class:`gateway.settings.Settings`; every other plugin
implements ``guichet_routes`` and sees only
:class:`gateway.deployment.DeploymentSettings`. An installed plugin that
implements a hook of this module is taken out of service at start.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pluggy

from gateway.hookspecs import PROJECT

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from gateway.settings import Settings

hookspec = pluggy.HookspecMarker(PROJECT)

#: the names of the hooks below, which only the core (and a test's own plugins) may implement
CORE_HOOKS = frozenset({"guichet_core_routes"})


@hookspec
def guichet_core_routes(settings: Settings) -> Sequence[BaseRoute]:
    """Add routes built from the deployment's full settings, secrets included (the core's plugins only).

    Combination: all results, concatenated with those of ``guichet_routes``.
    """
