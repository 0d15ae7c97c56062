"""MOID benchmarks: core kernel, public (units) layer, brute-force reference.

Workload (seeded): 64 random heliocentric ellipse pairs (q 0.3-2 au, e 0-0.9,
isotropic orientations).

Measured in the same run, so only *ratios* are reported (no absolute-time
assertions; these machines are shared and noisy):

* ``kernel``    -- :func:`apophis_sim._core.moid.moid_batch` on float64 arrays
  (n_grid = 128, numba, parallel over the pairs);
* ``units``     -- :func:`apophis_sim.moid` on two batch :class:`State` objects
  (state -> perifocal conversion, Quantity/Time boundary, :class:`Moid` result);
* ``reference`` -- a plain NumPy/SciPy brute force on the first 8 pairs: a dense
  400 x 400 grid in true anomaly plus a least-squares polish of the 4 lowest grid
  minima (scaled by 64/8 in the ratio).

``test_ratios`` records kernel/reference and units/kernel in ``extra_info`` and
checks the kernel and the reference agree (1e-8 au) on the shared pairs.
Cold start (JIT compile) is not benchmarked separately here: ``cache=True``
kernels compile once per environment (about 40 s for the parallel batch kernel).
"""

from __future__ import annotations

import astropy.units as u
import numba
import numpy as np
import pytest
from astropy.time import Time
from scipy.optimize import least_squares

import apophis_sim
from apophis_sim._core import moid as core
from apophis_sim._core.elements import coe_to_rv
from conftest import median_seconds

GM_SUN = 2.9591220828411951e-04
N_PAIRS = 64
N_REF = 8
GROUP = "moid, 64 ellipse pairs"
SEED = 20290413


@pytest.fixture(scope="module")
def pairs():
    rng = np.random.default_rng(SEED)

    def draw():
        return np.stack([rng.uniform(0.3, 2.0, N_PAIRS), rng.uniform(0.0, 0.9, N_PAIRS),
                         np.arccos(rng.uniform(-1, 1, N_PAIRS)),
                         rng.uniform(0, 2 * np.pi, N_PAIRS), rng.uniform(0, 2 * np.pi, N_PAIRS)])

    el1, el2 = draw(), draw()
    r1, v1 = coe_to_rv(*el1, 0.3, GM_SUN)
    r2, v2 = coe_to_rv(*el2, -1.0, GM_SUN)
    return el1, el2, r1, v1, r2, v2


def reference_moid(el1, el2, n=400) -> float:
    """Dense (nu1, nu2) grid + least-squares polish of the 4 lowest grid cells [au]."""
    nu = np.linspace(-np.pi, np.pi, n, endpoint=False)
    X = coe_to_rv(*el1, nu, GM_SUN)[0]
    Y = coe_to_rv(*el2, nu, GM_SUN)[0]
    D = np.sum((X[:, None, :] - Y[None, :, :]) ** 2, axis=-1)
    best = np.inf
    for k in np.argsort(D, axis=None)[:4]:
        i, j = divmod(int(k), n)
        res = least_squares(lambda x: coe_to_rv(*el1, x[0], GM_SUN)[0]
                            - coe_to_rv(*el2, x[1], GM_SUN)[0], [nu[i], nu[j]],
                            xtol=1e-15, ftol=1e-15, gtol=1e-15)
        best = min(best, float(np.linalg.norm(res.fun)))
    return best


def _record(benchmark, bench_registry, name):
    benchmark.extra_info["pairs"] = N_PAIRS
    benchmark.extra_info["numba_threads"] = numba.get_num_threads()
    bench_registry.setdefault(GROUP, {})[name] = benchmark


def test_kernel(benchmark, bench_registry, pairs):
    _, _, r1, v1, r2, v2 = pairs
    q1, e1, P1, Q1, _ = core.perifocal_from_rv(r1, v1, GM_SUN)
    q2, e2, P2, Q2, _ = core.perifocal_from_rv(r2, v2, GM_SUN)
    args = [np.ascontiguousarray(x) for x in (q1, e1, P1, Q1, q2, e2, P2, Q2)]
    core.moid_batch(*args, 128)  # warm (compile or load from cache)
    out = benchmark(core.moid_batch, *args, 128)
    assert np.all(out[4] == core.STATUS_OK)
    bench_registry.setdefault(GROUP, {})["kernel_result"] = out[0][:, 0]
    _record(benchmark, bench_registry, "kernel")


def test_units_layer(benchmark, bench_registry, pairs):
    _, _, r1, v1, r2, v2 = pairs
    t = Time(2460000.5, format="jd", scale="tdb")
    s1 = apophis_sim.State(r1 * u.au, v1 * u.au / u.day, t)
    s2 = apophis_sim.State(r2 * u.au, v2 * u.au / u.day, t)
    out = benchmark(apophis_sim.moid, s1, s2)
    assert out.distance.shape == (N_PAIRS,)
    _record(benchmark, bench_registry, "units")


def test_reference(benchmark, bench_registry, pairs):
    el1, el2 = pairs[0], pairs[1]
    out = benchmark(lambda: np.array([reference_moid(el1[:, k], el2[:, k])
                                      for k in range(N_REF)]))
    bench_registry.setdefault(GROUP, {})["reference_result"] = out
    _record(benchmark, bench_registry, "reference")


def test_ratios(bench_registry):
    entries = bench_registry.get(GROUP, {})
    missing = {"kernel", "units", "reference"} - entries.keys()
    assert not missing, f"benchmarks did not run: {sorted(missing)}"
    np.testing.assert_allclose(entries["kernel_result"][:N_REF], entries["reference_result"],
                               rtol=0, atol=1e-8)
    t = {name: median_seconds(entries[name]) for name in ("kernel", "units", "reference")}
    summary: dict[str, object] = {"numba threads": numba.get_num_threads()}
    if None in t.values():
        summary["ratios"] = "not measured (--benchmark-disable)"
    else:
        ref_all = t["reference"] * N_PAIRS / N_REF
        ratios = {
            "kernel_over_reference": t["kernel"] / ref_all,
            "units_over_kernel": t["units"] / t["kernel"],
            "kernel_pairs_per_s": N_PAIRS / t["kernel"],
            "reference_pairs_per_s": N_PAIRS / ref_all,
        }
        for name in ("kernel", "units", "reference"):
            entries[name].extra_info.update(ratios)
        summary.update({k: f"{v:.4g}" for k, v in ratios.items()})
    entries["summary"] = summary
