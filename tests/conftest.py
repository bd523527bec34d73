"""Core test fixtures; the shared ones come from :mod:`gateway.testing` (a pytest plugin)."""

from __future__ import annotations

import pytest

from gateway.testing import ConfigFolder


@pytest.fixture
def config(guichet_config: ConfigFolder) -> ConfigFolder:
    return guichet_config
