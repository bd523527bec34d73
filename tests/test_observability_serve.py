"""``guichet serve --workers 2`` for real: JSON logs on standard error, and metrics summed over both workers.

A subprocess serves a test deployment on a free port. Requests go out on fresh
connections until both workers answered some (their pids are in the access
lines), then whichever worker answers a scrape counts every request: the
workers share their counts through prometheus-client's multiprocess files. A
worker killed with SIGKILL is restarted by uvicorn; the new one drops the dead
one's live gauge, and the dead one's requests still count.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from gateway.testing import ConfigFolder
from tests.test_observability_metrics import AUTH, TOKEN, parse, value

#: bounds on waiting for the server (start, restart); a slow machine waits longer, a broken one fails
PATIENCE = 90.0


class Server:
    """A ``guichet serve`` subprocess and what it wrote to standard error, line by line."""

    def __init__(self, config: ConfigFolder, port: int) -> None:
        env = {key: val for key, val in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
        env["GUICHET_METRICS_TOKEN"] = TOKEN
        command = [sys.executable, "-m", "gateway", "--config", str(config.path), "serve", "--port", str(port),
                   "--workers", "2"]  # fmt: skip
        self.process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
        self.lines: list[str] = []
        self.url = f"http://127.0.0.1:{port}"
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in list(self.lines) if line.startswith("{")]

    def access(self, route: str) -> list[dict[str, Any]]:
        return [
            record for record in self.records() if record["logger"] == "guichet.access" and record["route"] == route
        ]

    def wait_for(self, what: str, condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + PATIENCE
        while not condition():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{what}: not within {PATIENCE} s; standard error:\n" + "\n".join(self.lines))
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stderr is not None:
            self.process.stderr.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def server(guichet_config: ConfigFolder, guichet_database_url: str) -> Iterator[Server]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    running = Server(guichet_config, free_port())
    try:
        running.wait_for("the server answering", lambda: answers(running.url + "/readyz"))  # the test counts /healthz
        yield running
    finally:
        running.stop()


def scrape(server: Server) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    answer = httpx.get(server.url + "/metrics", headers={**AUTH, "Connection": "close"}, timeout=10)
    assert answer.status_code == 200, answer.text
    return parse(answer.text)


def test_two_workers_log_json_lines_and_share_their_counts(server: Server, guichet_config: ConfigFolder) -> None:
    server.wait_for("the second worker", lambda: _started(server) >= 2)
    sent = 0
    while len({record["worker_pid"] for record in server.access("/healthz")}) < 2 and sent < 400:
        assert httpx.get(server.url + "/healthz", headers={"Connection": "close"}, timeout=10).status_code == 200
        sent += 1
        server.wait_for("the access line", lambda count=sent: len(server.access("/healthz")) == count)
    workers = {record["worker_pid"] for record in server.access("/healthz")}
    assert len(workers) == 2, f"one worker answered all {sent} requests"
    for _ in range(4):  # whichever worker answers the scrape counts the other's requests too
        total = value(scrape(server), "guichet_http_requests_total", method="GET", route="/healthz", status="200")
        assert total == sent
    assert any(record["logger"].startswith("uvicorn") for record in server.records())  # uvicorn's lines, as ours
    assert all(line.startswith("{") for line in server.lines if "Traceback" in line or "INFO" in line)

    folder = guichet_config.data_dir / "metrics" / server.url.rsplit(":", 1)[1]
    dead = min(workers)
    assert (folder / f"gauge_livesum_{dead}.db").exists()
    os.kill(dead, signal.SIGKILL)
    server.wait_for("a worker restarted", lambda: _started(server) >= 3)
    server.wait_for("the new worker up", lambda: answers(server.url + "/readyz"))
    server.wait_for("the dead worker's live gauge dropped", lambda: not (folder / f"gauge_livesum_{dead}.db").exists())
    after = value(scrape(server), "guichet_http_requests_total", method="GET", route="/healthz", status="200")
    assert after == sent  # the dead worker's requests still count


def _started(server: Server) -> int:
    return sum(1 for record in server.records() if record["message"].startswith("Started server process"))
