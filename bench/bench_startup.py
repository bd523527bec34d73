"""Cold start: a new worker process building the gateway, against one building the bare baseline app.

Run with ``make bench`` (or ``python -m bench.bench_startup [--quick]``). Each
round starts a fresh Python process that imports and builds the application,
then exits: Guichet with every commune and plugin of the demo configuration
(copied to a temporary folder, migrated), and the bare Starlette app of
:mod:`bench.baseline_app`. The two alternate; the medians of wall time (spawn
to exit) and of peak resident memory (the child's own ``VmHWM``, which it
prints as it exits) are reported with their ratios. Not ``ru_maxrss`` from
``os.wait4``: Linux counts in it the memory of the forked copy of this
process before ``exec``, so both sides then read as large as the benchmark
itself. The issue's goals are absolute
(≤ 1.5 s and ≤ 120 MB per worker), so both figures are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.baseline_app import DATABASE_ENV
from gateway.testing import ConfigFolder, migrate

GUICHET = "import sys; from pathlib import Path; from gateway.app import create_app; create_app(Path(sys.argv[1]))"
BASELINE = "from bench.baseline_app import create_app; create_app()"
#: appended to each child's code: its own peak resident memory (kB), last line of its output; none off Linux
PEAK = (
    "\nimport pathlib as _p\n_s = _p.Path('/proc/self/status')\n"
    "_l = _s.read_text().splitlines() if _s.exists() else []\n"
    "print(next((l.split()[1] for l in _l if l.startswith('VmHWM:')), ''))"
)


@dataclass(frozen=True)
class Start:
    seconds: float
    peak_kib: int


@dataclass(frozen=True)
class StartupComparison:
    case: Start
    baseline: Start

    def report(self) -> str:
        return (
            "cold start of one worker (all communes and plugins)\n"
            f"  case     {self.case.seconds * 1000:8.0f} ms   peak RSS {self.case.peak_kib / 1024:6.1f} MiB"
            "   (goal: ≤ 1500 ms, ≤ 120 MiB)\n"
            f"  baseline {self.baseline.seconds * 1000:8.0f} ms   peak RSS {self.baseline.peak_kib / 1024:6.1f} MiB"
            "   (a bare Starlette + SQLModel app)\n"
            f"  ratio    time ×{self.case.seconds / self.baseline.seconds:.2f}   "
            f"memory ×{self.case.peak_kib / self.baseline.peak_kib:.2f}"
        )


def start_once(code: str, *args: str, env: dict[str, str]) -> Start:
    """Spawn ``python -c code args``, wait for it; its wall time and its own peak RSS."""
    began = time.perf_counter()
    child = subprocess.Popen(  # noqa: S603  (our interpreter, our code)
        [sys.executable, "-c", code + PEAK, *args], env=env, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    with child.stdout:
        output = child.stdout.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - began
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"the start-up process exited with {child.returncode}")
    peak = output.strip().rsplit("\n", 1)[-1]
    return Start(elapsed, int(peak) if peak.isdigit() else usage.ru_maxrss)


def run(rounds: int = 5) -> StartupComparison:
    with tempfile.TemporaryDirectory(prefix="guichet-bench-start-") as folder:
        root = Path(folder)
        config = ConfigFolder.demo(root)
        url = f"sqlite:///{root / 'guichet.db'}"
        config.set_gateway(database={"url": url})
        migrate(url)
        env = {**os.environ, DATABASE_ENV: f"sqlite:///{root / 'baseline.db'}"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # a deployed worker starts from compiled byte-code
        start_once(GUICHET, str(config.path), env=env)  # warm the file cache and byte-code, both sides
        start_once(BASELINE, env=env)
        cases, baselines = [], []
        for _ in range(rounds):
            cases.append(start_once(GUICHET, str(config.path), env=env))
            baselines.append(start_once(BASELINE, env=env))
    return StartupComparison(_median(cases), _median(baselines))


def _median(starts: list[Start]) -> Start:
    return Start(statistics.median(s.seconds for s in starts), int(statistics.median(s.peak_kib for s in starts)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round, for a smoke run")
    args = parser.parse_args(argv)
    print(run(1 if args.quick else 5).report(), flush=True)


if __name__ == "__main__":
    main()
