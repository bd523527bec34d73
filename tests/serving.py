"""A real ``guichet serve`` in a subprocess, its standard error read line by line, for start and stop tests."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from gateway.testing import ConfigFolder

#: the longest any wait of these tests lasts before it fails (a bound, never what a test asserts)
BOUND = 90.0

#: a local plugin: a page that answers once the test releases it, and a worker that fails to start once
SLOW_PLUGIN = '''
"""/essai-lent answers once the file ``release`` exists; a worker fails to start once if ``fail-once`` exists,
and every time while ``fail-always`` does."""

import asyncio
import multiprocessing
from pathlib import Path

from starlette.responses import PlainTextResponse
from starlette.routing import Route

from gateway import hookimpl

GUICHET_PLUGIN_API = "1.0"
HERE = Path(__file__).parent

if multiprocessing.parent_process() is not None and (HERE / "fail-once").exists():
    (HERE / "fail-once").unlink(missing_ok=True)
    raise ImportError("this worker fails to start, once")
if multiprocessing.parent_process() is not None and (HERE / "fail-always").exists():
    raise ImportError("this worker fails to start, every time")


async def slow(request):
    (HERE / "entered").touch()
    while not (HERE / "release").exists():
        await asyncio.sleep(0.05)
    return PlainTextResponse("fini")


@hookimpl
def guichet_routes(settings):
    return [Route("/essai-lent", slow)]
'''


def add_slow_plugin(config: ConfigFolder, tmp_path: Path) -> Path:
    """Deploy :data:`SLOW_PLUGIN` as Corbas's local plugin ``lent``; its folder (where the test drops files)."""
    source = tmp_path / "plugin-source" / "lent"
    source.mkdir(parents=True)
    (source / "__init__.py").write_text(SLOW_PLUGIN, encoding="utf-8")
    config.add_local_plugin("corbas", "lent", source)
    return config.path / "local-plugins" / "lent"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    """``python -m gateway --config DIR serve ...`` in a subprocess; every line of its standard error kept."""

    def __init__(self, config: ConfigFolder, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "gateway", "--config", str(config.path), "serve", "--port", str(self.port),
                   "--no-background"]  # fmt: skip
        env = {name: value for name, value in os.environ.items() if name != "GUICHET_DEBUG"}
        self.process = subprocess.Popen(
            [*command, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self.ended = False
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        with self.process.stderr:
            for line in self.process.stderr:
                with self._changed:
                    self.lines.append(line.rstrip("\n"))
                    self._changed.notify_all()
        with self._changed:
            self.ended = True
            self._changed.notify_all()

    def wait_for_line(self, pattern: str, *, after: int = 0) -> re.Match[str]:
        """The first line from index ``after`` on matching ``pattern``; fails after :data:`BOUND` seconds."""
        compiled = re.compile(pattern)
        deadline = time.monotonic() + BOUND
        with self._changed:
            index = after
            while True:
                for line in self.lines[index:]:
                    if found := compiled.search(line):
                        return found
                index = len(self.lines)
                left = deadline - time.monotonic()
                if self.ended or left <= 0:
                    raise AssertionError(f"no line matched {pattern!r}:\n{self.log()}")
                self._changed.wait(left)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + BOUND
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the server exited early:\n{self.log()}"
            try:
                if httpx.get(f"{self.url}/readyz", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"{self.url} was not ready within {BOUND} s:\n{self.log()}")

    def stop(self) -> int:
        """SIGTERM, then the exit code (every line of standard error read by then)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=BOUND)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        with self._changed:
            self._changed.wait_for(lambda: self.ended, BOUND)
        return code

    def log(self) -> str:
        return "\n".join(self.lines)
