"""A worker's start imports only what starting needs (docs/performance.md, cold start).

PDF drawing (ReportLab, segno), the HTTP client (httpx, which brings its
command line's rich and click) and Alembic are imported by the requests and
commands that use them, not by every worker as it starts. Checked in a fresh
interpreter building the app from the demo configuration, every commune and
plugin loaded, as ``bench/bench_startup.py`` does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gateway.testing import ConfigFolder, migrate

#: imported on first use only; a start that imports one of them again has lost that
NOT_AT_START = ("alembic", "httpx", "reportlab.pdfgen", "segno", "rich", "pygments", "babel.messages")

BUILD = (
    "import json, sys; from pathlib import Path; from gateway.app import create_app; create_app(Path(sys.argv[1])); "
    "print(json.dumps(sorted(name for name in sys.argv[2:] if name in sys.modules)))"
)


def test_building_the_app_imports_no_pdf_library_http_client_or_alembic(tmp_path: Path) -> None:
    config = ConfigFolder.demo(tmp_path)
    url = f"sqlite:///{tmp_path / 'guichet.db'}"
    config.set_gateway(database={"url": url})
    migrate(url)
    built = subprocess.run(
        [sys.executable, "-c", BUILD, str(config.path), *NOT_AT_START],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout.splitlines()[-1]) == []
