"""Uncertainty at any time: element partials, Cartesian covariance through the STM, and
the 2029 encounter covariance from one variational integration.

Independent references: Richardson differences of the numba element -> state
conversion (``Elements.to_state``, universal variables) for the complex-step
partials; clones propagated without variational equations for the mapped
covariance; the finite-difference scheme ``linear_encounter(method="differences")``
and JPL's close-approach figures for the encounter.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time

from apophis_sim import Elements, OrbitSolution, State
from apophis_sim.bodies import GM_SUN_SBDB
from apophis_sim.ephemeris import Ephemeris
from apophis_sim.errors import InputError
from apophis_sim.nbody import apophis, propagate_nbody_grid
from apophis_sim.uncertainty import covariance_factor, linear_encounter
from apophis_sim.uncertainty.linear import (StateCovariance, covariance_at, encounter_jacobian,
                                            parameter_jacobian)


def _sigmas(lin):
    """1-sigma of (CA time [day], distance, xi, zeta [km]): the canonical vector's."""
    return np.sqrt(np.diag(lin.covariance))


DATA = Path(__file__).parent / "data" / "sbdb"
JPL_3SIGMA_KM = (38008.181, 38014.737)


@pytest.fixture(scope="module")
def planets_only() -> Ephemeris:
    return Ephemeris.open(asteroids=False)


@pytest.fixture(scope="module")
def solutions():
    bennu = OrbitSolution.from_sbdb(DATA / "101955.json", unsupported="drop")
    comet = OrbitSolution.from_sbdb(DATA / "C_2022_E3.json")
    return {"apophis": apophis(), "bennu": bennu, "comet": comet,
            "eros": OrbitSolution.from_sbdb(DATA / "433.json")}


def _state_from_params(sol: OrbitSolution, p: np.ndarray, dtp: float) -> np.ndarray:
    """(r, v) heliocentric ICRF through Elements.to_state, tp shifted by dtp [day] in
    two parts (a float JD would quantise it to 40 us)."""
    el = sol.elements
    tp = Time(el.tp.jd1, el.tp.jd2 + dtp, format="jd", scale="tdb")
    e2 = Elements(q=p[1] * u.au, e=p[0], inc=p[5] * u.deg, raan=p[3] * u.deg,
                  argp=p[4] * u.deg, tp=tp, epoch=el.epoch, frame="ecliptic", centre="sun",
                  gm=GM_SUN_SBDB * u.au**3 / u.day**2)
    s = e2.to_state().to_frame("icrf")
    return np.concatenate([s.r_au, s.v_au_d])


@pytest.mark.parametrize("name", ["apophis", "bennu", "eros", "comet"])
def test_element_partials_match_differences(name, solutions):
    """Complex-step d(r, v)/d(e, q, tp, node, peri, i) against Richardson differences of
    the independent numba conversion with steps of 10 sigma (comet: its hyperbolic
    branch), per column to 1e-6 of its largest entry (differences' round-off)."""
    sol = solutions[name]
    jac = parameter_jacobian(sol)
    assert jac.shape == (6, len(sol.covariance_labels))
    el = sol.elements
    p0 = np.array([float(el.e), el.q.to_value(u.au), 0.0, el.raan.to_value(u.deg),
                   el.argp.to_value(u.deg), el.inc.to_value(u.deg)])
    sig = np.sqrt(np.diag(sol.covariance))[:6]
    base = _state_from_params(sol, p0, 0.0)
    assert np.allclose(base[:3], sol.state.to_frame("icrf").r_au, rtol=0, atol=1e-14)
    for k in range(6):
        h = 10.0 * sig[k]

        def f(x):
            p = p0.copy()
            p[k] += x
            return _state_from_params(sol, p, x if k == 2 else 0.0)

        d1 = (f(h) - f(-h)) / (2 * h)
        d2 = (f(h / 2) - f(-h / 2)) / h
        fd = (4 * d2 - d1) / 3
        err = np.abs(jac[:, k] - fd).max() / np.abs(fd).max()
        assert err < 1e-6, f"{name} column {k}: {err:.1e}"
    assert np.all(jac[:, 6:] == 0.0)


def _clone_jacobian(sol: OrbitSolution, times: Time, h: float, eph) -> np.ndarray:
    """d(r, v)(t) / d(parameters) . L by central differences of 2n clones x0 +- h L_k,
    built with the independent numba element conversion and propagated without
    variational equations; -> (T, 6, n)."""
    fac = covariance_factor(sol.covariance).factor
    labels = sol.covariance_labels
    el = sol.elements
    p0 = np.array([float(el.e), el.q.to_value(u.au), 0.0, el.raan.to_value(u.deg),
                   el.argp.to_value(u.deg), el.inc.to_value(u.deg)])
    a0 = sol.nongrav.to_value(u.au / u.day**2)
    ys, ngs = [], []
    for sign in (1.0, -1.0):
        for k in range(len(labels)):
            dp = sign * h * fac[:, k]
            ys.append(_state_from_params(sol, p0 + np.r_[dp[:2], 0.0, dp[3:6]], dp[2]))
            a = a0.copy()
            for j, lab in enumerate(labels[6:], start=6):
                a[("A1", "A2", "A3").index(lab)] += dp[j]
            ngs.append(a)
    y = np.array(ys)
    states = State(y[:, :3] * u.au, y[:, 3:] * u.au / u.day, sol.state.epoch)
    g = propagate_nbody_grid(states, times, nongrav=np.array(ngs) * u.au / u.day**2,
                             nongrav_model=sol.nongrav_model, ephemeris=eph)
    out = np.concatenate([g.r_au, g.v_au_d], axis=-1)       # (2n, T, 6)
    n = len(labels)
    return np.moveaxis((out[:n] - out[n:]) / (2 * h), 0, -1)  # (T, 6, n)


@pytest.mark.parametrize("name", ["apophis", "bennu", "comet"])
def test_covariance_at_matches_propagated_clones(name, solutions, planets_only):
    """K(t) L (STM x element partials, and the non-grav partials for the comet's A2/A3)
    against central differences of clones x0 +- L_k propagated without variational
    equations, at times either side of the epoch and (Apophis) through the flyby: every
    column of K L to 2e-3 of the largest response at that time (the clones' one-sigma
    steps carry the flow's curvature). Includes the hyperbolic comet with its g(r) law."""
    sol = solutions[name]
    t0 = sol.state.epoch
    if name == "apophis":
        times = Time(["2021-01-01", "2025-06-01", "2029-04-10", "2029-04-13 21:46"],
                     scale="tdb")
    else:
        times = t0 + [-200.0, 0.0, 150.0] * u.day
    cov = covariance_at(sol, times, ephemeris=planets_only)
    assert isinstance(cov, StateCovariance) and cov.matrix.shape == (len(times), 6, 6)
    fac = covariance_factor(sol.covariance).factor
    kl = cov.jacobian @ fac
    ref = _clone_jacobian(sol, times, 1.0, planets_only)
    for t in range(len(times)):
        for rows in (slice(0, 3), slice(3, 6)):
            scale = np.abs(ref[t, rows]).max()
            err = np.abs(kl[t, rows] - ref[t, rows]).max() / scale
            assert err < 2e-3, f"{name} {times[t].iso} rows {rows}: {err:.1e}"
    for c in cov.matrix:
        np.testing.assert_allclose(c, c.T, rtol=1e-12, atol=0)
        w = np.linalg.eigvalsh(c / np.sqrt(np.outer(np.diag(c), np.diag(c))))
        assert w.min() > -1e-9


def test_covariance_at_units_and_repr(solutions, planets_only):
    sol = solutions["apophis"]
    times = Time(["2021-01-01", "2029-04-10"], scale="tdb")
    cov = covariance_at(sol, times, ephemeris=planets_only)
    # At the epoch it is exactly J C J^T of the published elements.
    j0 = parameter_jacobian(sol)
    np.testing.assert_allclose(cov.matrix[0], j0 @ sol.covariance @ j0.T, rtol=1e-12,
                               atol=1e-30)
    assert cov.position.unit == u.km**2 and cov.velocity.unit == (u.km / u.s) ** 2
    rtn = cov.rtn_sigma().to_value(u.km)
    assert rtn.shape == (2, 3)
    # Before the flyby the along-track (timing) uncertainty dominates.
    assert rtn[1, 1] > rtn[1, 0] and rtn[1, 1] > rtn[1, 2]
    assert len(repr(cov)) < 150 and len(repr(covariance_at(sol, times[1]))) < 150


def test_encounter_stm_matches_finite_differences(solutions, planets_only):
    """The STM encounter Jacobian against the 17-clone parameter-by-parameter differences:
    distance, xi and zeta rows to 1e-4 of each row's largest entry (measured ~6e-6); the
    time row to 5e-3 (measured 1.5e-3: the clones' CA times are float JDs, resolution
    40 us, against a 1-sigma response of 39 ms). Sigmas of the two methods to 3e-3."""
    sol = solutions["apophis"]
    stm = linear_encounter(sol, scheme="parameters", ephemeris=planets_only)
    fd = linear_encounter(sol, method="differences", scheme="parameters",
                          ephemeris=planets_only)
    assert stm.method == "stm" and fd.method == "differences"
    rel = np.abs(stm.jacobian - fd.jacobian).max(axis=1) / np.abs(fd.jacobian).max(axis=1)
    assert rel[0] < 5e-3 and np.all(rel[1:] < 1e-4), rel
    np.testing.assert_allclose(_sigmas(stm), _sigmas(fd), rtol=3e-3)
    np.testing.assert_array_equal(stm.nominal_vector, fd.nominal_vector)


def test_encounter_stm_vs_jpl(solutions, planets_only):
    """JPL CAD for #220: 3-sigma 38 008.181 - 38 014.737 km, time 3-sigma < 1 min. The
    width (6.556 km) to 0.5 % (our force model differs from JPL's at 1e-4 in the
    mapping); each end to 0.2 km (the nominal differs by +0.05 km without the asteroid
    perturbers, tests/test_nbody.py). Quantities carry units; the repr is one line."""
    lin = linear_encounter(solutions["apophis"], ephemeris=planets_only)
    lo, hi = (q.to_value(u.km) for q in lin.distance_3sigma)
    width = JPL_3SIGMA_KM[1] - JPL_3SIGMA_KM[0]
    assert abs((hi - lo) - width) < 0.005 * width
    assert abs(lo - JPL_3SIGMA_KM[0]) < 0.2 and abs(hi - JPL_3SIGMA_KM[1]) < 0.2
    assert 3 * lin.time_sigma < 60 * u.s
    assert lin.distance.unit == u.km and lin.bplane_covariance.unit == u.km**2
    assert abs((lin.time - Time(2462240.407091969, format="jd", scale="tdb")).to(u.s)) < 0.1 * u.s
    assert "\n" not in repr(lin) and len(repr(lin)) < 220


def test_encounter_jacobian_state_columns(solutions, planets_only):
    """d(CA time, distance, xi, zeta)/d(initial state) from the STM and the chain rule
    against Richardson differences of full integrations (4 clones per state component,
    steps 1e-7 au and 1e-9 au/d): distance, xi and zeta to 1e-5 relative; the CA time to
    3e-5 (the clones' times are float JDs, 40 us resolution against a ~14 s response)."""
    from apophis_sim.uncertainty import encounter_of

    sol = solutions["apophis"]
    ej = encounter_jacobian(sol, ephemeris=planets_only)
    assert ej.state_jacobian.shape == (4, 9) and ej.jacobian.shape == (4, 8)
    assert "EncounterJacobian" in repr(ej) and len(repr(ej)) < 200
    s = sol.state
    for j in range(6):
        h = 1e-7 if j < 3 else 1e-9
        y = []
        for m in (0.5, -0.5, 1.0, -1.0):
            r, v = s.r_au.copy(), s.v_au_d.copy()
            (r if j < 3 else v)[j % 3] += m * h
            y.append((r, v))
        st = State(np.array([a for a, _ in y]) * u.au, np.array([b for _, b in y]) * u.au / u.day,
                   s.epoch)
        enc = encounter_of(st, np.tile(sol.nongrav.value, (4, 1)) * sol.nongrav.unit,
                           ephemeris=planets_only)
        for row, key in enumerate(("time_tdb_jd", "distance_km", "xi_km", "zeta_km")):
            f = np.asarray(enc[key]) - enc[key][0]  # differences keep the JD's precision
            fd = (4 * (f[0] - f[1]) / h - (f[2] - f[3]) / (2 * h)) / 3
            ref = ej.state_jacobian[row, j]
            tol = 3e-5 if row == 0 else 1e-5
            assert abs(fd - ref) < tol * abs(ref), (key, j, fd, ref)


def test_bad_input(solutions):
    sol = solutions["apophis"]
    no_el = dataclasses.replace(sol, elements=None)
    with pytest.raises(InputError, match="from_sbdb"):
        covariance_at(no_el, Time("2029-01-01", scale="tdb"))
    bad = dataclasses.replace(sol, covariance_labels=("a",) + sol.covariance_labels[1:])
    with pytest.raises(InputError, match="labels"):
        parameter_jacobian(bad)
    with pytest.raises(InputError, match="method"):
        linear_encounter(sol, method="bogus")
    st = State(sol.state.r, sol.state.v, sol.state.epoch)
    with pytest.raises((InputError, AttributeError, TypeError)):
        covariance_at(st, Time("2029-01-01", scale="tdb"))


def test_unscented_agrees_with_stm_where_linear(solutions, planets_only):
    """The sigma-point transform (17 clones at sqrt(3) sigma) against the STM for the 2029
    encounter, which is linear at the km level: sigmas to 1e-3 (measured 1.3e-4) and the
    sigma-point mean within 1e-3 sigma of the nominal approach (measured 1e-5)."""
    sol = solutions["apophis"]
    stm = linear_encounter(sol, ephemeris=planets_only)
    ut = linear_encounter(sol, method="unscented", ephemeris=planets_only)
    assert ut.method == "unscented"
    np.testing.assert_allclose(_sigmas(ut), _sigmas(stm), rtol=1e-3)
    assert np.all(np.abs(ut.nominal_vector - stm.nominal_vector) < 1e-3 * _sigmas(stm))
