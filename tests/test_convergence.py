"""Convergence of the default step control through the 2029 flyby, at every output time.

The default epsilon (:data:`apophis_sim.nbody.DEFAULT_EPSILON`) must agree with a run at
default / 100 at *every* output time of a 0.25-day grid plus a 1-minute grid over
2029-04-12 .. 15 -- never one end point: an under-resolved step shows in its dense output
while the next step ends close to the truth. The flyby multiplies an along-track error
~6400x (1 m in January 2029 -> 6.4 km in 2030), so the post-flyby tolerance tests the
pre-flyby accuracy with a magnifying glass. Figures: benchmarks/convergence_study.py.
"""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time

from apophis_sim import State, nbody
from apophis_sim.ephemeris import Ephemeris
from apophis_sim.nbody import apophis, propagate_nbody, propagate_nbody_grid

AU_M = 149_597_870_700.0
FLYBY_JD = 2462238.5       # 2029-04-12 00:00 TDB: "before the flyby" ends here
YEAR_AFTER_JD = 2462604.5  # 2030-04-13 00:00 TDB
START_EPSILON = 1e-13      # start states: #220 propagated to the start epoch

# (start epoch, tolerance <= 1 year after the flyby [m]). Starts from 2028-06 on meet the
# 1 m goal (measured at the default 1e-12: 0.05, 0.07, 0.005 m; benchmarks/
# convergence_study.py). From 2021, eight pre-flyby years leave 3-7 mm of along-track
# difference between any two epsilons from 1e-12 to 3e-14 (< 1 cm, as required, but not
# shrinking with epsilon: a floor that is not truncation error), which the flyby turns into
# 2-25 m depending on the step sequence: the 1 m goal is not met from 2021 and this bound
# only guards that floor.
STARTS = [("2021-01-01", 50.0), ("2028-06-01", 1.0), ("2029-01-01", 1.0), ("2029-04-01", 1.0)]


@pytest.fixture(scope="module")
def planets_only() -> Ephemeris:
    return Ephemeris.open(asteroids=False)


def _start(epoch: str, eph: Ephemeris) -> tuple[State, u.Quantity]:
    sol = apophis()
    t = Time(epoch, scale="tdb")
    s = sol.state if abs((t - sol.state.epoch).to_value(u.day)) < 1e-9 else propagate_nbody(
        sol, t, epsilon=START_EPSILON, ephemeris=eph)
    return State(s.r_au * u.au, s.v_au_d * u.au / u.day, s.epoch), sol.nongrav


def _grid(start_jd: float, end: str) -> Time:
    end_jd = Time(end, scale="tdb").jd
    coarse = start_jd + np.arange(0.25, end_jd - start_jd + 1e-9, 0.25)
    fine = FLYBY_JD + np.arange(0.0, 3.0 + 1e-12, 1.0 / 1440.0)
    jd = np.unique(np.concatenate([coarse, fine[fine > start_jd]]))
    jd1 = np.floor(jd)
    return Time(jd1, jd - jd1, format="jd", scale="tdb")


def _max_diffs(epoch: str, end: str, eph: Ephemeris) -> tuple[float, float, float]:
    """Largest |r(default) - r(default/100)| [m] before, <= 1 year after, and to ``end``."""
    st, ng = _start(epoch, eph)
    times = _grid(st.epoch.tdb.jd, end)
    a = propagate_nbody_grid(st, times, nongrav=ng, ephemeris=eph)  # the default epsilon
    b = propagate_nbody_grid(st, times, nongrav=ng, ephemeris=eph,
                             epsilon=nbody.DEFAULT_EPSILON / 100)
    d = np.linalg.norm(a.r_au - b.r_au, axis=-1) * AU_M
    jd = times.jd
    pre = d[jd <= FLYBY_JD]
    post = d[(jd > FLYBY_JD) & (jd <= YEAR_AFTER_JD)]
    return float(pre.max()), float(post.max()), float(d.max())


@pytest.mark.parametrize("epoch, post_tol_m", STARTS)
def test_default_epsilon_converged_through_flyby(epoch, post_tol_m, planets_only):
    """< 1 cm at every output time before the flyby, < 1 m up to a year after it."""
    pre, post, _ = _max_diffs(epoch, "2030-04-13", planets_only)
    assert pre < 0.01, f"pre-flyby {pre:.3e} m"
    assert post < post_tol_m, f"post-flyby {post:.3e} m"


@pytest.mark.parametrize("epoch, post_tol_m", STARTS)
def test_default_epsilon_converged_to_2036(epoch, post_tol_m, planets_only):
    """The same grid to 2036-01-01 (the 2036 and 2029 runs share their step sequence up
    to 2030, so the first two bounds hold again). Later, the flyby's amplification keeps
    growing the difference (measured at the default 1e-12: 156 m from 2021, 0.31 m from
    2028-06, 0.44 m and 0.03 m from 2029); this guards against a blow-up: 100x the 2030
    bound.
    Fast enough (~0.5 s per start) not to be marked slow."""
    pre, post, total = _max_diffs(epoch, "2036-01-01", planets_only)
    assert pre < 0.01, f"pre-flyby {pre:.3e} m"
    assert post < post_tol_m, f"post-flyby {post:.3e} m"
    assert total < 100.0 * post_tol_m, f"to 2036 {total:.3e} m"


@pytest.mark.parametrize("days", [30.0, 98.0, 103.75, 104.5, 200.0])
def test_single_time_matches_grid(days, planets_only):
    """propagate_nbody(s, t) vs the same t inside propagate_nbody_grid: < 1 mm.

    Neither run shortens a step to land on an output time; both read t from the dense
    output of the same step sequence (output times do not steer the controller), so they
    agree bit for bit. (With a last step clamped onto t, the 98-day point, inside a 9-day
    step just before the flyby at the old default 1e-9, was 1.46 m off.)"""
    st, ng = _start("2029-01-01", planets_only)
    jd0 = st.epoch.tdb.jd
    grid = Time(jd0 + np.arange(0.25, 250.0 + 1e-9, 0.25), format="jd", scale="tdb")
    g = propagate_nbody_grid(st, grid, nongrav=ng, ephemeris=planets_only)
    k = int(np.argmin(np.abs(grid.jd - (jd0 + days))))
    one = propagate_nbody(st, grid[k], nongrav=ng, ephemeris=planets_only)
    d_m = np.linalg.norm(one.r_au - g.r_au[k]) * AU_M
    assert d_m < 1e-3, f"{d_m:.3e} m at {grid[k].iso}"
