"""The plugin API's version, and whether a plugin written for another one may load.

A plugin declares the version it targets as a module attribute of its entry
point, ``GUICHET_PLUGIN_API = "1.0"``. The major versions must be equal, and
the plugin's minor version must not be above the gateway's: a minor version
only adds (docs/plugin_api.md, "Versions").
"""

from __future__ import annotations

import re

#: the version of the public plugin API this gateway offers (``MAJOR.MINOR``)
API_VERSION = "1.2"

#: the attribute of a plugin's entry-point object naming the API version it targets
VERSION_ATTRIBUTE = "GUICHET_PLUGIN_API"

_VERSION = re.compile(r"^(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,3})$")


def parse_version(text: str) -> tuple[int, int] | None:
    match = _VERSION.match(text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def incompatibility(name: str, declared: object, offered: str = API_VERSION) -> str | None:
    """Why plugin ``name``, declaring ``declared``, may not load here (one line), or None when it may."""
    if declared is None:
        return f"plugin '{name}' declares no plugin API version ({VERSION_ATTRIBUTE} = \"{offered}\" in its module)"
    wanted = parse_version(declared) if isinstance(declared, str) else None
    if wanted is None:
        return f"plugin '{name}' declares {VERSION_ATTRIBUTE} = {declared!r}, not a MAJOR.MINOR version"
    major, minor = parse_version(offered) or (0, 0)
    if wanted[0] != major or wanted[1] > minor:
        return f"plugin '{name}' wants plugin API {declared}, this gateway offers {offered}"
    return None
