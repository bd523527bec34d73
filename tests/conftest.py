"""Core test fixtures; the shared ones come from :mod:`gateway.testing` (a pytest plugin)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.testing import ConfigFolder


@pytest.fixture
def config(guichet_config: ConfigFolder) -> ConfigFolder:
    return guichet_config


@pytest.fixture
def broken_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An installed distribution whose entry point raises on import."""
    site = tmp_path / "site"
    (site / "guichet_broken-1.0.dist-info").mkdir(parents=True)
    (site / "guichet_broken-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: guichet-broken\nVersion: 1.0\n", encoding="utf-8"
    )
    (site / "guichet_broken-1.0.dist-info" / "entry_points.txt").write_text(
        "[guichet]\nbroken = guichet_broken_module\n", encoding="utf-8"
    )
    (site / "guichet_broken_module.py").write_text("raise ImportError('missing dependency')\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    return "broken"
