"""The gateway's Prometheus metrics, counted where things happen, exported by ``/metrics``.

Counted in-process by default. ``guichet serve --workers N`` runs N processes:
it points ``PROMETHEUS_MULTIPROC_DIR`` at an emptied folder before they start
(:func:`prepare_multiprocess_dir`), each worker writes its counts to files of its
own there, and a scrape of any worker sums every worker's files
(prometheus-client's multiprocess mode). The environment variable must be set
before this module is first imported in a worker: the client picks its storage
then. A worker that died leaves its files: its counters still count (a counter
never goes back), its share of live gauges is dropped when the next worker
starts (:func:`mark_dead_workers`).

What needs the database (outbox depth, audit size) is not counted here but read
at scrape time (:mod:`gateway.web.metrics_endpoint`).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: what the exposition is served as (Prometheus' text format 0.0.4)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

REQUESTS = Counter(
    "guichet_http_requests_total", "Requests answered, by method, route template and status.",
    ["method", "route", "status"],
)  # fmt: skip
LATENCY = Histogram(
    "guichet_http_request_duration_seconds", "Time from a request's arrival to its last byte, by route and status.",
    ["method", "route", "status"],
)  # fmt: skip
IN_PROGRESS = Gauge(
    "guichet_http_requests_in_progress", "Requests being answered now.", multiprocess_mode="livesum"
)  # fmt: skip
WRITE_BATCH = Histogram(
    "guichet_write_batch_size", "Writes committed together in one transaction by a process's writer.",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)  # fmt: skip
FAILED_BATCHES = Counter("guichet_write_batches_failed_total", "Write batches whose transaction failed as a whole.")
PLUGIN_FAILURES = Counter(
    "guichet_plugin_failures_total", "A plugin raised in a hook (or failed to load), by plugin and hook.",
    ["plugin", "hook"],
)  # fmt: skip
SIGN_IN_FAILURES = Counter(
    "guichet_sign_in_failures_total",
    "Failed sign-ins and codes, by kind: staff, staff-mfa, citizen-local, unknown-account, document-check, "
    "follow-link.",
    ["kind"],
)  # fmt: skip
LOCKOUTS = Counter(
    "guichet_lockouts_total",
    "Throttle lock-outs caused, by what was locked: account, address, document-check, follow-link.",
    ["scope"],
)  # fmt: skip

_PID_FILE = re.compile(r".*_(\d+)\.db")


def multiprocess_dir() -> Path | None:
    """The folder workers share their counts through, when serving with several workers."""
    value = os.environ.get(MULTIPROC_ENV)
    return Path(value) if value else None


def prepare_multiprocess_dir(folder: Path) -> None:
    """Empty ``folder`` (the counts of a previous run) and name it to the workers about to start."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, mode=0o700)
    os.environ[MULTIPROC_ENV] = str(folder)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_dead_workers() -> list[int]:
    """Drop the live gauges of workers that died (the supervisor restarted them); returns their pids."""
    folder = multiprocess_dir()
    if folder is None or not folder.is_dir():
        return []
    pids = {int(match.group(1)) for path in folder.iterdir() if (match := _PID_FILE.fullmatch(path.name))}
    dead = sorted(pid for pid in pids if pid != os.getpid() and not _alive(pid))
    for pid in dead:
        multiprocess.mark_process_dead(pid, str(folder))  # type: ignore[no-untyped-call]
    return dead


def sign_in_failed(keys: Iterable[str]) -> None:
    """Count a failure on throttle ``keys`` (``account:staff:12``, ``address:…``) by the kind of the first."""
    first = next(iter(keys), "")
    prefix, _, rest = first.partition(":")
    if prefix == "account":
        kind = rest.partition(":")[0] or "account"
    elif prefix == "address":
        kind = "unknown-account"
    else:
        kind = prefix or "other"
    SIGN_IN_FAILURES.labels(kind=kind).inc()


def locked_out(key: str) -> None:
    """Count a lock-out of throttle ``key`` by its scope (never the key itself: it names a person or address)."""
    LOCKOUTS.labels(scope=key.partition(":")[0] or "other").inc()


def exposition(*extra: CollectorRegistry) -> bytes:
    """The text exposition: this process's (or every worker's) counts, then ``extra`` registries'."""
    folder = multiprocess_dir()
    if folder is not None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, str(folder))  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    return b"".join(generate_latest(each) for each in (registry, *extra))
