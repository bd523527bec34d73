"""The checkout's tests (the core's under tests/, the demo plugins' under plugins/) run on the demo syndicate.

The test kit's own ``guichet_config`` is a blank deployment, as a plugin author
outside this repository gets it; here it starts as a copy of ``config/``, whose
communes and services these tests name.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.testing import ConfigFolder


@pytest.fixture
def guichet_config(tmp_path: Path) -> ConfigFolder:
    return ConfigFolder.demo(tmp_path)
