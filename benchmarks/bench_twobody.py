"""Two-body propagation benchmarks: core kernel, units layer, plain-NumPy reference.

Workload (seeded): 100 000 random elliptic heliocentric orbits (a 0.5-3 au,
e 0-0.9, isotropic orientations, uniform true anomaly), each propagated by
100 days with GM_sun.

Measured in the same run, so that only *ratios* are reported (these machines
are shared and noisy; no test asserts on an absolute time):

* ``kernel``    -- :func:`apophis_sim._core.kepler.kepler_rv` on float64 arrays
  (compiled, parallel over the batch with numba's threads);
* ``units``     -- :func:`apophis_sim.propagate` on a :class:`State` built once
  and an astropy ``Time`` target (unit stripping, the Time boundary, output State);
* ``reference`` -- a plain-NumPy solver written below: f and g functions with a
  vectorised Newton iteration on the eccentric anomaly.

``test_ratios`` then records kernel/reference (issue target <= 0.5) and the
units-layer overhead over the kernel (target <= 10 %) in ``extra_info``, with
the numba thread count. ``test_cold_start`` times a fresh Python process that
imports apophis_sim and propagates one orbit, once with an empty numba cache
(the truly-first run: JIT compilation included) and once with that cache warm
(issue target <= 1 s).

Quick mode (``--benchmark-disable``): every body runs once; correctness checks
still run; ratios are reported as not measured.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import time

import astropy.units as u
import numba
import numpy as np
import pytest
from astropy.time import Time

import apophis_sim
from apophis_sim import bodies
from apophis_sim._core import kepler
from apophis_sim._core.elements import coe_to_rv
from conftest import median_seconds

N_ORBITS = 100_000
DT_DAYS = 100.0
GM_SUN = 2.9591220828411951e-04  # au^3/day^2
GROUP = "two-body, 100 000 orbits x 100 days"
SEED = 20290413


# ---------------------------------------------------------------------------
# the plain-NumPy reference solver
# ---------------------------------------------------------------------------
def reference_fg_newton(r0: np.ndarray, v0: np.ndarray, dt_days: float, gm: float,
                        tol: float = 1e-13, max_iter: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Propagate ellipses with f and g functions and a vectorised Newton on E.

    A straightforward NumPy implementation of the textbook method (Vallado 2013,
    alg. 2 for Kepler's equation; eqs. 2-65/2-67 for the Lagrange coefficients),
    solving for the *change* of eccentric anomaly x = E1 - E0:

        x - (e cos E0) sin x + (e sin E0)(1 - cos x) = n dt  (mod 2 pi),

    with Danby's starter E1 ~ M1 + 0.85 e sign(sin M1) and Newton steps on the
    whole batch until the largest step is below ``tol`` [rad].

    Parameters
    ----------
    r0, v0 : ndarray, shape (N, 3)
        Positions [au] and velocities [au/day]; ellipses only.
    dt_days : float
        Time of flight [day].
    gm : float
        Gravitational parameter [au^3/day^2].

    Returns
    -------
    r, v : ndarray, shape (N, 3)
        Position [au] and velocity [au/day] after ``dt_days``.
    """
    rn = np.sqrt(np.einsum("ij,ij->i", r0, r0))
    v2 = np.einsum("ij,ij->i", v0, v0)
    rv = np.einsum("ij,ij->i", r0, v0)
    a = 1.0 / (2.0 / rn - v2 / gm)
    n = np.sqrt(gm / a**3)
    sqma = np.sqrt(gm * a)
    ecos0 = 1.0 - rn / a  # e cos E0
    esin0 = rv / sqma  # e sin E0
    ecc = np.hypot(ecos0, esin0)
    e0 = np.arctan2(esin0, ecos0)
    dm = n * dt_days
    revs = np.round(dm / (2 * np.pi))
    dm_w = dm - 2 * np.pi * revs  # whole revolutions change nothing but g's (x - sin x)
    m1 = e0 - esin0 + dm_w
    x = m1 + 0.85 * ecc * np.sign(np.sin(m1)) - e0
    for _ in range(max_iter):
        sx, cx = np.sin(x), np.cos(x)
        g_x = x - ecos0 * sx + esin0 * (1.0 - cx) - dm_w
        step = g_x / (1.0 - ecos0 * cx + esin0 * sx)
        x -= step
        if np.max(np.abs(step)) < tol:
            break
    sx, cx = np.sin(x), np.cos(x)
    f = 1.0 - a / rn * (1.0 - cx)
    g = dt_days - (x + 2 * np.pi * revs - sx) / n
    r = f[:, None] * r0 + g[:, None] * v0
    r1 = np.sqrt(np.einsum("ij,ij->i", r, r))
    fdot = -sqma / (r1 * rn) * sx
    gdot = 1.0 - a / r1 * (1.0 - cx)
    v = fdot[:, None] * r0 + gdot[:, None] * v0
    return r, v


# ---------------------------------------------------------------------------
# workload
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def orbits() -> tuple[np.ndarray, np.ndarray]:
    """Seeded initial states (N, 3) [au, au/day], with the kernel compiled/loaded already."""
    rng = np.random.default_rng(SEED)
    a = rng.uniform(0.5, 3.0, N_ORBITS)
    e = rng.uniform(0.0, 0.9, N_ORBITS)
    inc = np.arccos(rng.uniform(-1, 1, N_ORBITS))
    raan, argp, nu = rng.uniform(0, 2 * np.pi, (3, N_ORBITS))
    r0, v0 = coe_to_rv(a * (1 - e), e, inc, raan, argp, nu, GM_SUN)
    r0, v0 = np.ascontiguousarray(r0), np.ascontiguousarray(v0)
    kepler.kepler_rv(r0[:10], v0[:10], DT_DAYS, GM_SUN)  # JIT / cache load outside timing
    return r0, v0


@pytest.fixture(scope="module")
def public_inputs(orbits):
    """The State (built once) and the target Time for the units-layer benchmark."""
    r0, v0 = orbits
    epoch = Time(2462137.5, format="jd", scale="tdb")
    state = apophis_sim.State(r0 * u.au, v0 * u.au / u.day, epoch)
    return state, epoch + DT_DAYS * u.day


def _record(benchmark, bench_registry, name: str) -> None:
    benchmark.extra_info["orbits"] = N_ORBITS
    benchmark.extra_info["dt_days"] = DT_DAYS
    benchmark.extra_info["numba_threads"] = numba.get_num_threads()
    bench_registry.setdefault(GROUP, {})[name] = benchmark


# ---------------------------------------------------------------------------
# the three measurements
# ---------------------------------------------------------------------------
@pytest.mark.benchmark(group=GROUP)
def test_kernel(benchmark, bench_registry, orbits):
    r0, v0 = orbits
    r, v, status = benchmark(kepler.kepler_rv, r0, v0, DT_DAYS, GM_SUN)
    assert np.all(status == kepler.STATUS_OK)
    _record(benchmark, bench_registry, "kernel")


@pytest.mark.benchmark(group=GROUP)
def test_units_layer(benchmark, bench_registry, public_inputs, orbits):
    state, target = public_inputs
    out = benchmark(apophis_sim.propagate, state, target)
    assert out.shape == (N_ORBITS,)
    # Same numbers as the kernel (with the default GM, DE440's GM_sun): the layer
    # only strips and re-attaches units.
    r, _, _ = kepler.kepler_rv(*orbits, DT_DAYS, bodies.GM_SUN)
    np.testing.assert_array_equal(out.r_au, r)
    _record(benchmark, bench_registry, "units")


@pytest.mark.benchmark(group=GROUP)
def test_numpy_reference(benchmark, bench_registry, orbits):
    r0, v0 = orbits
    r, v = benchmark(reference_fg_newton, r0, v0, DT_DAYS, GM_SUN)
    # The reference must solve the same problem to be a fair comparison:
    # agreement with the kernel to float64 conditioning (measured ~1e-13 au).
    rk, vk, _ = kepler.kepler_rv(r0, v0, DT_DAYS, GM_SUN)
    assert np.max(np.linalg.norm(r - rk, axis=-1)) < 1e-11  # au, ~1.5 m
    assert np.max(np.linalg.norm(v - vk, axis=-1) / np.linalg.norm(vk, axis=-1)) < 1e-10
    _record(benchmark, bench_registry, "reference")


def test_ratios(bench_registry):
    """Turn the three medians into the ratios the issue asks for (no time assertions)."""
    entries = bench_registry.get(GROUP, {})
    missing = {"kernel", "units", "reference"} - entries.keys()
    assert not missing, f"benchmarks did not run: {sorted(missing)}"
    t = {name: median_seconds(entries[name]) for name in ("kernel", "units", "reference")}
    summary: dict[str, object] = {"numba threads": numba.get_num_threads()}
    if None in t.values():
        summary["ratios"] = "not measured (--benchmark-disable)"
    else:
        ratios = {
            "kernel_over_reference": t["kernel"] / t["reference"],
            "units_over_kernel": t["units"] / t["kernel"],
            "units_overhead_percent": 100.0 * (t["units"] / t["kernel"] - 1.0),
            "kernel_orbits_per_s": N_ORBITS / t["kernel"],
            "units_orbits_per_s": N_ORBITS / t["units"],
            "reference_orbits_per_s": N_ORBITS / t["reference"],
        }
        for name in ("kernel", "units", "reference"):
            entries[name].extra_info.update(ratios)
        summary.update({k: f"{v:.4g}" for k, v in ratios.items()})
        summary["targets"] = "kernel/reference <= 0.5, units overhead <= 10 %"
    entries["summary"] = summary


# ---------------------------------------------------------------------------
# cold start in a fresh process
# ---------------------------------------------------------------------------
_ONE_ORBIT = textwrap.dedent(
    """
    import time
    t0 = time.perf_counter()
    import astropy.units as u
    from astropy.time import Time
    import apophis_sim
    s = apophis_sim.State([-0.41, 0.907, 0.327] * u.au, [-0.0151, -0.0037, -0.0018] * u.au / u.day,
                          Time(2459215.5, format="jd", scale="tdb"))
    out = apophis_sim.propagate(s, Time(2462240.5, format="jd", scale="tdb"))
    assert out.r.shape == (3,)
    print(time.perf_counter() - t0)
    """
)


def _fresh_process(cache_dir: str) -> tuple[float, float]:
    """(wall time of the whole process, time inside it after interpreter start) [s]."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _ONE_ORBIT], env=env, check=True,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    return wall, float(done.stdout.strip().splitlines()[-1])


@pytest.mark.benchmark(group="cold start: fresh process, import + propagate one orbit")
def test_cold_start(benchmark, bench_registry):
    """Truly-first (empty numba cache: JIT compile) and warm-cache fresh-process times.

    An empty NUMBA_CACHE_DIR forces compilation, whatever state the package's own
    __pycache__ is in; the warm figure reuses that directory. The OS file cache is
    warm in both (the first import of astropy after a reboot is slower still).
    """
    with tempfile.TemporaryDirectory(prefix="apophis-numba-cache-") as cache:
        first_wall, first_inside = _fresh_process(cache)
        warm_wall, warm_inside = benchmark.pedantic(_fresh_process, args=(cache,), rounds=3,
                                                    iterations=1)
    info = {
        "first_run_wall_s": round(first_wall, 3),
        "first_run_in_process_s": round(first_inside, 3),
        "warm_cache_wall_s": round(warm_wall, 3),
        "warm_cache_in_process_s": round(warm_inside, 3),
        "target": "warm-cache process <= 1 s",
    }
    benchmark.extra_info.update(info)
    bench_registry.setdefault("cold start", {})["summary"] = info
    assert first_inside > 0 and warm_inside > 0
