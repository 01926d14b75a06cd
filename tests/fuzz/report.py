"""The fuzz run's figures per spec (operations, examples, answers by status, failures, seconds),
printed at the end of the pytest run.

Each test_spec hands its figures to its report (`fuzz_report`, as user properties: plain data,
so that pytest-xdist carries them from the worker that ran the test); the process that prints
the summary collects them from the reports. Its hooks are imported by tests/conftest.py, which
the process printing the summary always loads (under xdist it collects nothing itself).
"""
from __future__ import annotations

from typing import Any

PROPERTY = "tmf_fuzz_run"
_RUNS: list[dict[str, Any]] = []


def figures(run: Any) -> dict[str, Any]:
    """A SpecRun as plain data: what the summary prints."""
    return {"spec": run.spec, "operations": run.operations, "served": run.served, "examples": run.examples,
            "failures": len(run.failures), "seconds": run.seconds, "client_cpu": run.client_cpu,
            "runtime_cpu": run.runtime_cpu, "statuses": sorted(run.statuses.items()),
            "slowest": [list(pair) for pair in run.slowest], "deviated": run.deviated,
            "skipped": list(run.skipped)}


def pytest_runtest_logreport(report) -> None:
    if report.when == "call":
        _RUNS.extend(value for name, value in report.user_properties if name == PROPERTY)


def pytest_terminal_summary(terminalreporter) -> None:
    if not _RUNS:
        return
    write = terminalreporter.write_line
    terminalreporter.section("TMF schema fuzz")
    write(f"{'spec':<58} {'ops':>4} {'served':>6} {'examples':>8} {'fail':>4} {'s':>6} {'cpu':>5} {'rt-cpu':>6}"
          "  answers by status")
    keys = ("operations", "served", "examples", "failures", "seconds", "client_cpu", "runtime_cpu")
    for run in sorted(_RUNS, key=lambda r: r["spec"]):
        statuses = " ".join(f"{s}:{n}" for s, n in run["statuses"])
        write(f"{run['spec']:<58} {run['operations']:>4} {run['served']:>6} {run['examples']:>8} "
              f"{run['failures']:>4} {run['seconds']:>6.1f} {run['client_cpu']:>5.1f} {run['runtime_cpu']:>6.1f}"
              f"  {statuses}")
        if run["served"]:
            write("    slowest: " + ", ".join(f"{label} {seconds:.1f} s" for seconds, label in run["slowest"]))
        if run["deviated"]:
            write(f"    {run['deviated']} answers held only thanks to a documented deviation (DEVIATIONS)")
        for skipped in run["skipped"]:
            write(f"    not generated: {skipped}")
    total = {key: sum(run[key] for run in _RUNS) for key in keys}
    write(f"{'total':<58} {total['operations']:>4} {total['served']:>6} {total['examples']:>8} "
          f"{total['failures']:>4} {total['seconds']:>6.1f} {total['client_cpu']:>5.1f} {total['runtime_cpu']:>6.1f}")
    write("s: wall seconds; cpu: this process's CPU seconds (generate, send, check); rt-cpu: the runtime's")
