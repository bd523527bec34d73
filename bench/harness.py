"""A small benchmark harness: time a case and its baseline alternately, report medians and the ratio.

Ratios, not seconds, are the result: the same run on the same machine times
both sides, so a slower machine changes the seconds but not the verdict.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Comparison:
    name: str
    baseline: str
    case_seconds: float
    baseline_seconds: float
    operations: int
    case_peak_bytes: int
    baseline_peak_bytes: int

    @property
    def ratio(self) -> float:
        return self.case_seconds / self.baseline_seconds

    def report(self) -> str:
        per_op = self.case_seconds / self.operations * 1e6
        base_per_op = self.baseline_seconds / self.operations * 1e6
        if self.baseline_peak_bytes:
            case_peak = f"peak {self.case_peak_bytes / 1024:8.0f} KiB"
            base_peak = f"peak {self.baseline_peak_bytes / 1024:8.0f} KiB"
            memory = f"memory ×{self.case_peak_bytes / self.baseline_peak_bytes:.2f}"
        else:
            case_peak = base_peak = memory = "memory not measured"
        return (
            f"{self.name}\n"
            f"  case     {per_op:10.2f} µs/op   {case_peak}\n"
            f"  baseline {base_per_op:10.2f} µs/op   {base_peak}   ({self.baseline})\n"
            f"  ratio    time ×{self.ratio:.2f}   {memory}"
        )


def _timed(run: Callable[[int], None], operations: int) -> float:
    start = time.perf_counter()
    run(operations)
    return time.perf_counter() - start


def _peak(run: Callable[[int], None], operations: int) -> int:
    tracemalloc.start()
    try:
        run(operations)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def compare(
    name: str,
    case: Callable[[int], None],
    baseline_name: str,
    baseline: Callable[[int], None],
    *,
    operations: int,
    rounds: int = 5,
    warm_up: bool = True,
    memory: bool = True,
) -> Comparison:
    """Run ``case`` and ``baseline`` ``rounds`` times each, interleaved; compare medians.

    ``memory=False`` skips the traced run (tracemalloc slows a long case several times).
    """
    if warm_up:  # imports, caches, connections
        case(max(1, operations // 10))
        baseline(max(1, operations // 10))
    case_times, base_times = [], []
    for _ in range(rounds):
        case_times.append(_timed(case, operations))
        base_times.append(_timed(baseline, operations))
    memory_ops = max(1, operations // 10)
    return Comparison(
        name=name,
        baseline=baseline_name,
        case_seconds=statistics.median(case_times),
        baseline_seconds=statistics.median(base_times),
        operations=operations,
        case_peak_bytes=_peak(case, memory_ops) if memory else 0,
        baseline_peak_bytes=_peak(baseline, memory_ops) if memory else 0,
    )
