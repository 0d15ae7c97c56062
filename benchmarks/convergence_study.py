"""Convergence of the n-body integrator's step control through the 2029 flyby.

For each start epoch (2021-01-01, 2028-06-01, 2029-01-01, 2029-04-01 TDB; start
states: JPL #220 propagated there at epsilon = 1e-13) and each epsilon, integrate
once on a dense output grid (0.25 day from the start to 2036-01-01, plus 1 minute
over 2029-04-12 .. 2029-04-15) and compare every output time with a run at
epsilon / 100. Reports the largest position difference

* before the flyby (output times up to 2029-04-12 00:00 TDB),
* within one year after it (up to 2030-04-13),
* over the whole grid (to 2036-01-01),

with the accepted step count and the warm wall time of the run. Never one end
point: an error can hide inside a step while the end state looks fine.

Run::

    python benchmarks/convergence_study.py            # full table (~10 s once compiled)
    python benchmarks/convergence_study.py --quick    # epochs 2029-01-01 only, grid to 2030-06
"""

from __future__ import annotations

import argparse
import time

import astropy.units as u
import numpy as np
from astropy.time import Time

from apophis_sim import nbody
from apophis_sim.ephemeris import Ephemeris
from apophis_sim.nbody import apophis, propagate_nbody
from apophis_sim.state import State

AU_M = 149_597_870_700.0
EPOCHS = ("2021-01-01", "2028-06-01", "2029-01-01", "2029-04-01")
EPSILONS = (1e-9, 3e-10, 1e-10, 3e-11, 1e-11, 1e-12, 3e-13, 1e-13)
FLYBY_JD = 2462238.5       # 2029-04-12 00:00 TDB: "before the flyby" ends here
YEAR_AFTER_JD = 2462604.5  # 2030-04-13 00:00 TDB
START_EPSILON = 1e-13


def output_grid(start_jd: float, end_jd: float) -> np.ndarray:
    """0.25-day grid from the start, plus a 1-minute grid over 2029-04-12 .. 15 (TDB JD)."""
    coarse = start_jd + np.arange(0.25, end_jd - start_jd + 1e-9, 0.25)
    fine = 2462238.5 + np.arange(0.0, 3.0 + 1e-12, 1.0 / 1440.0)
    fine = fine[fine > start_jd]
    return np.unique(np.concatenate([coarse, fine]))


def start_state(sol, epoch: str, eph: Ephemeris) -> State:
    t = Time(epoch, scale="tdb")
    s = sol.state if abs(t.jd - sol.state.epoch.tdb.jd) < 1e-9 else propagate_nbody(
        sol, t, epsilon=START_EPSILON, ephemeris=eph)
    return State(s.r_au * u.au, s.v_au_d * u.au / u.day, s.epoch)


def run(ssb, ng, eph, grid_jd: np.ndarray, epsilon: float):
    """-> (positions (M, 3) [au], accepted steps, warm wall time [s])."""
    t1 = np.floor(grid_jd)
    t2 = grid_jd - t1
    t0 = time.perf_counter()
    r = nbody._run(ssb, ng, eph, (t1[-1], t2[-1]), (t1, t2), None, (), 0.0, epsilon,
                   10_000_000, False)
    wall = time.perf_counter() - t0
    return r.x_out[0][:, 0], int(r.info[0, 1]), wall


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--epochs", nargs="*", default=None)
    p.add_argument("--end", default="2036-01-01")
    p.add_argument("--epsilons", nargs="*", type=float, default=EPSILONS)
    args = p.parse_args()
    epochs = args.epochs or (("2029-01-01",) if args.quick else EPOCHS)
    end_jd = Time("2030-06-01" if args.quick else args.end, scale="tdb").jd
    eph = Ephemeris.open()
    sol = apophis()
    print(f"ephemeris files: {eph.files}; grid: 0.25 d to {Time(end_jd, format='jd').iso[:10]}"
          f" + 1 min over 2029-04-12..15; reference: epsilon/100")
    hdr = (f"{'start':>10s} {'epsilon':>8s} {'pre-flyby [m]':>14s} {'<=1 yr after [m]':>17s} "
           f"{'to end [m]':>11s} {'steps':>7s} {'wall [s]':>9s} {'ref steps':>9s}")
    print(hdr)
    for epoch in epochs:
        st = start_state(sol, epoch, eph)
        ssb, ng, eph_, _, _ = nbody._prepare(st, sol.nongrav, eph)
        grid = output_grid(st.epoch.tdb.jd, end_jd)
        run(ssb, ng, eph_, grid[:8], 1e-9)  # compile / warm the ephemeris outside the timing
        cache: dict[float, tuple] = {}

        def get(e: float):
            # Round (1e-11 / 100 is 1.0000000000000001e-13): a one-ulp change of epsilon
            # changes the step sequence, which from 2021 moves the post-flyby state by metres.
            key = float(f"{e:.3g}")
            if key not in cache:
                cache[key] = run(ssb, ng, eph_, grid, key)
            return cache[key]

        pre = grid <= FLYBY_JD
        post = (grid > FLYBY_JD) & (grid <= YEAR_AFTER_JD)
        for e in args.epsilons:
            x, n, wall = get(e)
            xr, nr, _ = get(e / 100)
            d = np.linalg.norm(x - xr, axis=1) * AU_M
            dpre = d[pre].max() if pre.any() else float("nan")
            dpost = d[post].max() if post.any() else float("nan")
            print(f"{epoch:>10s} {e:8.0e} {dpre:14.3e} {dpost:17.3e} {d.max():11.3e} "
                  f"{n:7d} {wall:9.3f} {nr:9d}", flush=True)


if __name__ == "__main__":
    main()
