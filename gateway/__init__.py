"""Guichet: an e-services gateway for the communes of an inter-municipal syndicate.

Plugin authors import everything they need from here: the names are those of
the public plugin API, :mod:`gateway.plugin`, re-exported as they are.
"""

from __future__ import annotations

from gateway.plugin import *  # noqa: F403  (the public plugin API, one list of names in gateway.plugin)
from gateway.plugin import __all__ as _public_api

__version__ = "0.1.0"

__all__ = [*_public_api, "__version__"]
