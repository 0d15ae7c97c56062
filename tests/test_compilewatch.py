"""The first-compile notice and the compile/run split of the CLI (issue 12, item 6)."""

from __future__ import annotations

import io
import json

import numba
import numpy as np

from apophis_sim._compilewatch import CompileWatch
from apophis_sim.cli import main


def test_compile_watch_announces_once_and_times_only_misses():
    @numba.njit  # no cache: a compilation every time this test runs
    def inner(x):
        return x * 2.0

    @numba.njit
    def outer(a):
        return inner(a[0]) + 1.0

    stream = io.StringIO()
    with CompileWatch(notice="compiling", stream=stream) as watch:
        assert outer(np.ones(3)) == 3.0
        first = watch.seconds
        assert outer(np.ones(3)) == 3.0  # compiled already: nothing more
    assert stream.getvalue() == "compiling\n"
    assert watch.kernels == 1  # inner compiles inside outer, not counted twice
    assert first > 0.0 and watch.seconds == first
    with CompileWatch(notice="compiling", stream=stream) as again:
        outer(np.ones(3))
    assert again.kernels == 0 and again.seconds == 0.0
    assert stream.getvalue() == "compiling\n"


def test_flyby_reports_compile_and_run_time_apart(capsys):
    assert main(["flyby", "--json"]) == 0
    timing = json.loads(capsys.readouterr().out)["timing"]
    assert set(timing) == {"run_s", "compile_s", "kernels_compiled",
                           "kernels_compiled_in_parallel"}
    assert timing["run_s"] > 0.0 and timing["compile_s"] >= 0.0
    assert (timing["compile_s"] > 0.0) == (timing["kernels_compiled"]
                                           + timing["kernels_compiled_in_parallel"] > 0)
    assert main(["flyby"]) == 0
    out = capsys.readouterr().out
    assert "time: run " in out and ("compile " in out or "kernels from the cache" in out)
