"""pytest configuration for the benchmarks (pytest-benchmark).

Run them with::

    pytest benchmarks                      # measure (a few minutes at most)
    pytest benchmarks --benchmark-disable  # quick mode: every benchmark body runs once

Benchmark files are named ``bench_*.py`` (so a plain ``pytest`` run of the test
suite never picks them up); this conftest makes pytest collect them when the
``benchmarks`` folder is given explicitly. Inside them, benchmark functions are
named ``test_*`` as usual.

Shared state: benchmarks of one file that are compared with each other (a
kernel against a reference measured in the same run) store their fixture in
the session-wide :func:`bench_registry`, and a final test of that file turns
the medians into ratios and writes them into every participant's
``benchmark.extra_info`` (pytest-benchmark serialises ``extra_info`` at the end
of the session, so late additions are kept). :func:`pytest_terminal_summary`
prints the ratios, so they appear in CI logs without ``--benchmark-json``.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_collect_file(parent: pytest.Collector, file_path: Path):
    """Collect ``bench_*.py`` modules as test modules."""
    # Files named on the command line are collected by pytest itself already.
    if (file_path.suffix == ".py" and file_path.name.startswith("bench_")
            and not parent.session.isinitpath(file_path)):
        return pytest.Module.from_parent(parent, path=file_path)
    return None


_REGISTRY: dict[str, dict] = {}


@pytest.fixture(scope="session")
def bench_registry() -> dict[str, dict]:
    """Session-wide store: ``{group: {name: benchmark_fixture, ..., "ratios": {...}}}``."""
    return _REGISTRY


def median_seconds(benchmark) -> float | None:
    """Median wall time of a finished benchmark [s], or None when benchmarks are disabled."""
    stats = getattr(benchmark, "stats", None)
    if not stats:  # --benchmark-disable: the body ran once, nothing was measured
        return None
    return float(stats.stats.median)


def record_ratio(bench_registry: dict, group: str, num: str, den: str, label: str,
                 digits: int = 3) -> None:
    """Store ``median(num) / median(den)`` of two benchmarks of ``group`` as ``label`` in the
    group's summary and in both benchmarks' ``extra_info`` (a note when disabled)."""
    entries = bench_registry.get(group, {})
    a, b = entries.get(num), entries.get(den)
    if a is None or b is None:
        return
    ta, tb = median_seconds(a), median_seconds(b)
    summary = entries.setdefault("summary", {})
    if ta is None or tb is None:
        summary["note"] = "benchmarks disabled: ratios not measured"
        return
    summary[label] = round(ta / tb, digits)
    for bench in (a, b):
        bench.extra_info.update(summary)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    for group, entries in _REGISTRY.items():
        summary = entries.get("summary")
        if not summary:
            continue
        terminalreporter.section(f"benchmark summary: {group}")
        for key, value in summary.items():
            terminalreporter.write_line(f"{key:>40s}: {value}")
