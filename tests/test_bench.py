"""The benchmarks still run (a smoke run; no timing is asserted)."""

from __future__ import annotations

import pytest

from bench import bench_audit
from bench.bench_gateway import run


def test_benchmarks_run_and_report_ratios() -> None:
    comparisons = run(operations=2, rounds=1)
    assert [comparison.name for comparison in comparisons] == [
        "commune page (GET /venissieux)",
        "filing a request (file_request)",
    ]
    assert all(comparison.ratio > 0 and "ratio" in comparison.report() for comparison in comparisons)


def test_audit_benchmarks_run_and_report_ratios(capsys: pytest.CaptureFixture[str]) -> None:
    bench_audit.main(["--quick"])
    output = capsys.readouterr().out
    assert "filing a request, audited" in output and "verifying 2,000 entries" in output
    assert "an inclusion proof at 2,000 entries, from the stored tiles" in output
    assert output.count("ratio") == 5


def test_request_benchmarks_run_and_report_ratios(capsys: pytest.CaptureFixture[str]) -> None:
    from bench import bench_requests

    bench_requests.main(["--quick"])
    output = capsys.readouterr().out
    assert "a 50-row queue page, 50 people, recorded" in output and output.count("ratio") == 4
