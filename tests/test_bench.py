"""The benchmarks still run (a smoke run; no timing is asserted)."""

from __future__ import annotations

import pytest

from bench import bench_audit, bench_http
from bench.bench_gateway import run
from gateway.testing import skip_or_fail


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
    assert output.count("ratio") == 6


def test_request_benchmarks_run_and_report_ratios(capsys: pytest.CaptureFixture[str]) -> None:
    from bench import bench_requests

    bench_requests.main(["--quick"])
    output = capsys.readouterr().out
    assert "a 50-row queue page, 50 people, recorded" in output and output.count("ratio") == 4


def test_filing_step_benchmark_times_both_ways_of_filing(capsys: pytest.CaptureFixture[str]) -> None:
    from bench import bench_filing_steps

    bench_filing_steps.main(["--filings", "8", "--batch", "4"])
    output = capsys.readouterr().out
    assert "one transaction per filing:" in output and "batched by 4:" in output
    batched = output.split("batched by 4:")[1]
    assert "INSERT service_request" in batched and "SAVEPOINT" not in batched  # no member failed: no second run


def test_http_benchmarks_run_and_end_on_the_sqlite_filing_ratio(capsys: pytest.CaptureFixture[str]) -> None:
    if bench_http.wrk_path() is None:
        skip_or_fail(f"HTTP benchmark not smoke-tested: {bench_http.INSTALL_WRK}")
    assert bench_http.main(["--quick"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for path in ("filing", "agent read"):
        for clients in (8, 32):
            assert any(f"{path}" in line and f"{clients} clients" in line and "ratio ×" in line for line in lines)
            assert any(f"{path}" in line and f"{clients} clients" in line and "auditing off" in line for line in lines)
    assert lines[-2] == "requests answered outside 2xx or lost to socket errors: 0"
    assert lines[-1].startswith("SQLite filing throughput ratio (Guichet / bare insert) at 32 clients: ×")


def test_cold_start_benchmark_runs_and_reports_both_goals() -> None:
    from bench import bench_startup

    comparison = bench_startup.run(rounds=1)
    report = comparison.report()
    assert comparison.case.seconds > 0 and comparison.baseline.peak_kib > 0
    assert "goal: ≤ 1500 ms, ≤ 120 MiB" in report and "memory ×" in report


def test_file_memory_benchmark_measures_save_and_read(capsys: pytest.CaptureFixture[str]) -> None:
    from bench import bench_files

    assert bench_files.main(["--megabytes", "2"]) == 0
    output = capsys.readouterr().out
    assert "sqlite: a file of 2 MiB" in output
    assert all(f"  {mode}" in output for mode in ("hold", "save", "read")), output
