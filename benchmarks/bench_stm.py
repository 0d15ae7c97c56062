"""Variational equations and the converged default: what they cost.

Groups (ratios measured in the same run, never absolute times):

* ``stm``: the public regression case (364.5 days through the 2029 flyby) with the
  state alone vs the state + 6x6 STM + 3 non-grav partials. Both runs take the same
  steps (the variational rows never steer the controller), so the time ratio is the
  per-step cost of the variational equations (target <= 3x).
* ``linear_encounter``: the 2029 encounter covariance from one variational run
  (``method="stm"``) vs the 17-clone finite-difference scheme it replaces.
* ``epsilon``: the same case at the old default epsilon = 1e-9 vs the converged
  default (:data:`apophis_sim.nbody.DEFAULT_EPSILON`), with step counts.
"""

from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.time import Time

from apophis_sim import State, apophis
from apophis_sim.ephemeris import Ephemeris
from apophis_sim.nbody import (DEFAULT_EPSILON, _prepare, _run, propagate_nbody,
                               state_transition)
from apophis_sim.uncertainty import linear_encounter

from conftest import record_ratio

JD0 = 2462138.5359989386
JD1 = 2462503.0372426095
R0 = np.array([-5.5946538550488512E-01, 8.5647564757574512E-01, 3.0415066217102493E-01])
V0 = np.array([-1.3818324735921638E-02, -6.0088275597939191E-03, -2.5805044631309632E-03])
NG = np.array([4.999999873689E-13, -2.901085508711E-14, 0.0]) * u.au / u.day**2
TO = Time(JD1, format="jd", scale="tdb")


def _case() -> State:
    return State(R0 * u.au, V0 * u.au / u.day, Time(JD0, format="jd", scale="tdb"))


def test_state_only(benchmark, bench_registry):
    eph = Ephemeris.open()
    st = _case()
    propagate_nbody(st, TO, nongrav=NG, ephemeris=eph)
    res = benchmark(propagate_nbody, st, TO, nongrav=NG, ephemeris=eph)
    assert np.all(np.isfinite(res.r_au))
    bench_registry.setdefault("stm", {})["state"] = benchmark


def test_state_and_stm(benchmark, bench_registry):
    eph = Ephemeris.open()
    st = _case()
    state_transition(st, TO, nongrav=NG, ephemeris=eph)
    res = benchmark(state_transition, st, TO, nongrav=NG, ephemeris=eph)
    assert np.all(np.isfinite(res.stm))
    bench_registry.setdefault("stm", {})["stm"] = benchmark
    record_ratio(bench_registry, "stm", "stm", "state", "stm_over_state_per_step")


def test_linear_encounter_differences(benchmark, bench_registry):
    sol = apophis()
    eph = Ephemeris.open()
    linear_encounter(sol, method="differences", ephemeris=eph)
    lin = benchmark.pedantic(linear_encounter, args=(sol,),
                             kwargs={"method": "differences", "ephemeris": eph},
                             rounds=3, iterations=1)
    assert lin.method == "differences"
    bench_registry.setdefault("linear_encounter", {})["differences"] = benchmark


def test_linear_encounter_stm(benchmark, bench_registry):
    sol = apophis()
    eph = Ephemeris.open()
    linear_encounter(sol, ephemeris=eph)
    lin = benchmark.pedantic(linear_encounter, args=(sol,), kwargs={"ephemeris": eph},
                             rounds=3, iterations=1)
    assert lin.method == "stm"
    bench_registry.setdefault("linear_encounter", {})["stm"] = benchmark
    record_ratio(bench_registry, "linear_encounter", "differences", "stm",
               "differences_over_stm")


def _steps(epsilon: float) -> int:
    ssb, ng, eph, _, model = _prepare(_case(), NG, Ephemeris.open())
    run = _run(ssb, ng, eph, (TO.jd1, TO.jd2), (np.zeros(0), np.zeros(0)), None, (), 0.0,
               epsilon, 1_000_000, False, model)
    return int(run.info[0, 1])


def test_epsilon_old_default(benchmark, bench_registry):
    eph = Ephemeris.open()
    st = _case()
    propagate_nbody(st, TO, nongrav=NG, ephemeris=eph, epsilon=1e-9)
    benchmark(propagate_nbody, st, TO, nongrav=NG, ephemeris=eph, epsilon=1e-9)
    benchmark.extra_info["steps"] = _steps(1e-9)
    bench_registry.setdefault("epsilon", {})["old"] = benchmark


def test_epsilon_default(benchmark, bench_registry):
    eph = Ephemeris.open()
    st = _case()
    propagate_nbody(st, TO, nongrav=NG, ephemeris=eph)
    benchmark(propagate_nbody, st, TO, nongrav=NG, ephemeris=eph)
    benchmark.extra_info["steps"] = _steps(DEFAULT_EPSILON)
    entries = bench_registry.setdefault("epsilon", {})
    entries["default"] = benchmark
    summary = entries.setdefault("summary", {})
    summary["steps_old_1e-9"] = _steps(1e-9)
    summary[f"steps_default_{DEFAULT_EPSILON:g}"] = _steps(DEFAULT_EPSILON)
    record_ratio(bench_registry, "epsilon", "default", "old", "default_over_old")
