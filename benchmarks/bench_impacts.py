"""Impact monitoring: what a clone to the horizon costs, and the virtual-impactor search
against plain Monte Carlo at the same completeness.

Groups (ratios measured in the same run; nothing is asserted on time):

* ``impact_mc``: seeded clones of JPL #220 followed from the solution epoch to
  ``HORIZON`` with close-approach and impact detection inside the integrator
  (:func:`apophis_sim.risk.impact_monte_carlo`), ``serial_batched`` (one process,
  numba's threads over the particles) vs ``dask_2workers`` (an embedded LocalCluster
  of 2 single-threaded workers, started and warmed outside the timing). Ratio:
  ``dask_over_serial`` (time per clone), and clones per second of each.
* ``vi_vs_mc``: the virtual-impactor search of :func:`apophis_sim.risk.impact_probability`
  for an orbit moved into the 2036 keyhole (IP ~0.2) and for #220 (IP ~1e-253391),
  counting the orbits it integrates (every particle handed to the n-body kernel) and
  its wall time as a ratio to one clone of the Monte Carlo above. Plain Monte Carlo at
  the same completeness -- finding an impact of probability p with 95 % confidence --
  needs N = ln 0.05 / ln(1 - p) clones (~3 / p): 14 for p = 0.2, 3.0e7 for p = 1e-7.
  ``extra_info`` gives both counts and the Monte Carlo's wall time projected from the
  measured time per clone.

``HORIZON`` is 2100 when measuring (``APOPHIS_SIM_BENCH_IMPACT_HORIZON``, default 2100)
and 2031 in quick mode (``--benchmark-disable``), with ``APOPHIS_SIM_BENCH_IMPACT_CLONES``
clones (default 64; quick 4).
"""

from __future__ import annotations

import logging
import math
import os
import time

import pytest
from astropy.time import Time

from apophis_sim import apophis, nbody
from apophis_sim.ephemeris import Ephemeris
from apophis_sim.risk import impact_monte_carlo, impact_probability, keyholes, orbit_through

GROUP = "impact_mc"
SEED = 2029
N_CLONES = int(os.environ.get("APOPHIS_SIM_BENCH_IMPACT_CLONES", "64"))
HORIZON_YEAR = int(os.environ.get("APOPHIS_SIM_BENCH_IMPACT_HORIZON", "2100"))


def _setup(benchmark) -> tuple[int, Time]:
    if benchmark.disabled:
        return 4, Time("2031-01-01", scale="tdb")
    return N_CLONES, Time(f"{HORIZON_YEAR}-01-01", scale="tdb")


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


@pytest.fixture(scope="module")
def warm():
    impact_monte_carlo(apophis(), Time("2030-01-01", scale="tdb"), 2, 0, chunk_size=2,
                       scheduler="serial", progress=False)


@pytest.fixture(scope="module")
def cluster(warm):
    from distributed import Client, LocalCluster

    lc = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0", silence_logs=logging.ERROR)
    client = Client(lc)
    impact_monte_carlo(apophis(), Time("2030-01-01", scale="tdb"), 4, 1, chunk_size=2,
                       scheduler=client, progress=False)  # warm both workers
    yield client
    client.close()
    lc.close()


def _record(bench_registry, name, n, seconds, benchmark):
    entry = {"clones": n, "seconds": seconds, "clones_per_second": n / seconds}
    bench_registry.setdefault(GROUP, {})[name] = entry
    benchmark.extra_info.update(entry)
    summary = bench_registry[GROUP].setdefault("summary", {})
    summary[f"{name}_clones_per_second"] = round(n / seconds, 3)
    s, d = bench_registry[GROUP].get("serial_batched"), bench_registry[GROUP].get("dask_2workers")
    if s and d:
        summary["dask_over_serial"] = round((d["seconds"] / d["clones"])
                                            / (s["seconds"] / s["clones"]), 3)


def test_serial_batched(benchmark, bench_registry, warm):
    n, until = _setup(benchmark)
    tab, sec = benchmark.pedantic(
        lambda: _timed(lambda: impact_monte_carlo(apophis(), until, n, SEED, chunk_size=64,
                                                  scheduler="serial", progress=False)),
        rounds=1, iterations=1)
    assert tab.meta["complete"] and tab.meta["n_clones"] == n
    _record(bench_registry, "serial_batched", n, sec, benchmark)


def test_dask_2workers(benchmark, bench_registry, cluster):
    n, until = _setup(benchmark)
    tab, sec = benchmark.pedantic(
        lambda: _timed(lambda: impact_monte_carlo(apophis(), until, n, SEED,
                                                  chunk_size=max(1, n // 8),
                                                  scheduler=cluster, progress=False)),
        rounds=1, iterations=1)
    assert tab.meta["complete"] and tab.meta["n_clones"] == n
    _record(bench_registry, "dask_2workers", n, sec, benchmark)


class _Counter:
    """Counts the orbits handed to the n-body kernel (every particle of every call)."""

    def __init__(self, monkeypatch):
        self.orbits = 0
        real = nbody._run

        def counting(ssb, *args, **kwargs):
            self.orbits += int(math.prod(ssb.shape)) if ssb.shape else 1
            return real(ssb, *args, **kwargs)

        monkeypatch.setattr(nbody, "_run", counting)


def _mc_clones_for(p: float, confidence: float = 0.95) -> float:
    """Clones that find an impact of probability p with the given confidence."""
    if p <= 0:
        return math.inf
    return math.log(1 - confidence) / math.log1p(-p)


@pytest.mark.parametrize("case", ["keyhole_2036", "jpl220"])
def test_vi_search_vs_mc(benchmark, bench_registry, monkeypatch, case):
    until = Time("2037-01-01", scale="tdb")
    eph = Ephemeris.open()
    sol = apophis()
    if case == "keyhole_2036":
        kh = keyholes(sol, until, ephemeris=eph)
        sol = orbit_through(sol, zeta=kh["zeta"][0], ephemeris=eph)
    counter = _Counter(monkeypatch)
    tab, sec = benchmark.pedantic(
        lambda: _timed(lambda: impact_probability(sol, until, ephemeris=eph)),
        rounds=1, iterations=1)
    assert len(tab) == 1
    p = float(tab["ip"][0])
    # One clone of the Monte Carlo to the same horizon, in the same run.
    one, sec_one = _timed(lambda: impact_monte_carlo(sol, until, 1, SEED, chunk_size=1,
                                                     scheduler="serial", progress=False))
    info = {"vi_orbits_integrated": counter.orbits, "vi_seconds": round(sec, 3),
            "ip": p, "log10_ip": float(tab["log10_ip"][0]),
            "mc_clones_same_completeness": _mc_clones_for(p),
            "mc_clones_for_ip_1e-7": round(_mc_clones_for(1e-7)),
            "vi_seconds_over_one_clone": round(sec / sec_one, 2),
            "mc_seconds_for_ip_1e-7_projected": round(_mc_clones_for(1e-7) * sec_one)}
    benchmark.extra_info.update(info)
    summary = bench_registry.setdefault("vi_vs_mc", {}).setdefault("summary", {})
    for k in ("vi_orbits_integrated", "mc_clones_same_completeness",
              "vi_seconds_over_one_clone", "mc_seconds_for_ip_1e-7_projected"):
        v = info[k]
        summary[f"{case}: {k}"] = (f"{v:.3g}" if isinstance(v, float) else v)
