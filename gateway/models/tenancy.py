"""The marker for tables whose rows belong to one commune.

Sessions opened for a commune only ever see and write that commune's rows of
these tables (see :mod:`gateway.db`): isolation holds where data is read,
whatever query a route or a plugin builds.
"""

from __future__ import annotations

from typing import ClassVar


class CommuneScoped:
    """Mixin for SQLModel tables with a ``commune`` column holding a commune's slug."""

    __commune_scoped__: ClassVar[bool] = True
