"""``guichet serve`` starting and stopping for real: an unreachable database, workers that die or fail, SIGTERM.

Each test runs the command in a subprocess and reads what it logs; every wait
is bounded (tests/serving.py), none is what a test asserts.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from gateway.cli.supervisor import replacement_wait
from gateway.testing import ConfigFolder, migrate
from gateway.testing.databases import TEST_DATABASE_ENV, fresh_postgres_schema, postgres_server_url, skip_or_fail
from tests.serving import Served, add_slow_plugin, free_port


@pytest.fixture
def migrated(config: ConfigFolder) -> ConfigFolder:
    migrate(f"sqlite:///{config.data_dir / 'guichet.db'}")
    return config


def serve_once(config: ConfigFolder) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "gateway", "--config", str(config.path), "serve", "--port", str(free_port()),
               "--no-background"]  # fmt: skip
    env = {name: value for name, value in os.environ.items() if name != "GUICHET_DEBUG"}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


def unreachable(config: ConfigFolder, retry_seconds: int) -> None:
    url = f"postgresql://nobody@127.0.0.1:{free_port()}/none?connect_timeout=2"  # a closed port
    config.set_gateway(database={"url": url, "start_retry_seconds": retry_seconds})


def test_an_unreachable_database_stops_the_start_in_one_line(config: ConfigFolder) -> None:
    unreachable(config, 0)
    result = serve_once(config)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: the database cannot be used: connection failed: connection to server at")
    assert "Connection refused" in line


def test_an_unreachable_database_is_tried_again_for_as_long_as_configured(config: ConfigFolder) -> None:
    unreachable(config, 3)
    result = serve_once(config)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    *tries, last = result.stderr.strip().splitlines()
    assert tries and all(line.startswith("database unreachable: connection failed: ") for line in tries)
    assert all("; trying again for " in line for line in tries)
    assert last.startswith("Error: the database cannot be used: connection failed: ")


def test_a_killed_worker_is_logged_and_replaced(migrated: ConfigFolder) -> None:
    served = Served(migrated, "--workers", "2")
    try:
        first = int(served.wait_for_line(r"Started server process \[(\d+)\]").group(1))
        served.wait_ready()
        os.kill(first, signal.SIGKILL)
        # "ended (killed by SIGKILL)", or "stopped answering ... (killed by SIGKILL)" when killed while checked on
        served.wait_for_line(rf"worker process {first} .*\(killed by SIGKILL\); starting another")
        logged = len(served.lines)
        while True:  # the replacement says it started (the other worker may have said so after the kill)
            started = int(served.wait_for_line(r"Started server process \[(\d+)\]", after=logged).group(1))
            logged = next(i for i, line in enumerate(served.lines) if f"[{started}]" in line) + 1
            if started != first:
                break
        served.wait_ready()
        assert httpx.get(f"{served.url}/api/v1/communes", timeout=10).status_code == 200
    finally:
        code = served.stop()
    assert code == 0, served.log()
    assert "Traceback" not in served.log()


def test_a_worker_that_fails_to_start_says_why_and_is_replaced(migrated: ConfigFolder, tmp_path: Path) -> None:
    folder = add_slow_plugin(migrated, tmp_path)
    (folder / "fail-once").touch()  # the parent loads the plugin; the first worker to import it fails
    served = Served(migrated, "--workers", "2")
    try:
        failed = served.wait_for_line(r"worker process (\d+) could not start: .*this worker fails to start, once")
        served.wait_for_line(rf"worker process {failed.group(1)} .*\(exit code 1\); starting another")
        served.wait_ready()
        assert httpx.get(f"{served.url}/api/v1/communes", timeout=10).status_code == 200
    finally:
        code = served.stop()
    assert code == 0, served.log()


def test_replacements_of_workers_failing_at_start_wait_longer_each_time_up_to_a_minute() -> None:
    waits = [replacement_wait(failures) for failures in range(1, 12)]
    assert waits == [0, 1, 2, 4, 8, 16, 32, 60, 60, 60, 60]


def test_workers_that_keep_failing_are_replaced_ever_more_slowly_then_serve_once_fixed(
    migrated: ConfigFolder, tmp_path: Path
) -> None:
    folder = add_slow_plugin(migrated, tmp_path)
    (folder / "fail-always").touch()
    served = Served(migrated, "--workers", "2")
    try:
        served.wait_for_line(r"3 workers in a row ended within 10 s of starting; the next one is replaced after 2 s")
        (folder / "fail-always").unlink()
        served.wait_ready()
        assert httpx.get(f"{served.url}/api/v1/communes", timeout=10).status_code == 200
    finally:
        code = served.stop()
    assert code == 0, served.log()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_lets_an_in_flight_request_finish_then_exits_0(
    migrated: ConfigFolder, tmp_path: Path, workers: str
) -> None:
    folder = add_slow_plugin(migrated, tmp_path)
    served = Served(migrated, "--workers", workers)
    answers: list[httpx.Response] = []
    try:
        served.wait_ready()
        request = threading.Thread(
            target=lambda: answers.append(httpx.get(f"{served.url}/essai-lent", timeout=120)), daemon=True
        )
        request.start()
        while not (folder / "entered").exists():  # the request is in the page, waiting to be released
            assert request.is_alive(), "the request ended before it reached the page"
            request.join(timeout=0.05)
        served.process.send_signal(signal.SIGTERM)
        served.wait_for_line(r"Shutting down|Received SIGTERM")  # the server is stopping, the request still open
        assert served.process.poll() is None and not answers
        (folder / "release").touch()
        request.join(timeout=120)
    finally:
        code = served.stop()
    assert [(answer.status_code, answer.text) for answer in answers] == [(200, "fini")]
    assert code == 0, served.log()


class Forwarder:
    """A TCP relay from a loopback port to the PostgreSQL server: the database 'comes up' when it starts."""

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", port))
        self.open: list[socket.socket] = [self.listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):  # closed by close()
            while True:
                client, _ = self.listener.accept()
                server = socket.create_connection(self.target, timeout=30)
                self.open += [client, server]
                for source, sink in ((client, server), (server, client)):
                    threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        for sock in self.open:
            sock.close()


def test_a_gateway_waits_for_a_database_that_comes_up_later(config: ConfigFolder) -> None:
    server = postgres_server_url()
    if server is None:
        skip_or_fail(f"PostgreSQL tests skipped: {TEST_DATABASE_ENV} is not set (CI sets it; see README)")
    with fresh_postgres_schema(server) as url:
        migrate(url)
        real = make_url(url)
        port = free_port()  # nothing listens there until the relay starts
        config.set_gateway(
            database={
                "url": real.set(host="127.0.0.1", port=port).render_as_string(hide_password=False),
                "start_retry_seconds": 300,
            }
        )
        served = Served(config)
        relay = None
        try:
            served.wait_for_line(r"^database unreachable: connection failed: .*; trying again for \d+ s more$")
            relay = Forwarder(port, (real.host or "127.0.0.1", real.port or 5432))
            served.wait_ready()
            assert httpx.get(f"{served.url}/api/v1/communes", timeout=10).status_code == 200
        finally:
            code = served.stop()
            if relay is not None:
                relay.close()
        assert code == 0, served.log()
        assert "Traceback" not in served.log()
