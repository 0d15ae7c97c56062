"""Two-body (Kepler) propagation: textbook cases, extended-precision reference,
seeded invariants, convergence, shapes, bad input, poliastro-family cross-check.

Every case runs through both the float core (``_core.kepler.kepler_rv``) and
the public units layer (:func:`apophis_sim.propagate`) where that makes sense.

Tolerances, and why
-------------------
* Textbook cases: half a unit in the last printed digit.
* Extended-precision reference (an independent f-and-g solver on the
  eccentric / hyperbolic anomaly in 80-bit ``np.longdouble``): the float64 result
  may differ by a few ulp of the state plus the orbital motion during one ulp of
  the time of flight (the time resolution of a float64 ``dt``).
* Invariants: energy relative to v^2/2 + mu/r and angular momentum relative to
  |r||v| -- the sizes of the terms whose difference / cross product they are, so
  the tolerance means "1e-12 of what float64 can represent" also near e = 1
  (energy ~ 0) and far out on hyperbolas (r nearly parallel to v).
* Forward-then-back over 100 days for ~1 au orbits: 1 mm for 99.9 % of orbits
  (the issue's target). The tail is float64 conditioning, not the solver: an
  error of a few ulp in the velocity after the first leg (~1e-15 relative, the
  same as an extended-precision-checked f-and-g solver gives) is amplified ~10x
  by the 100-day return leg. At high e the time resolution of float64 dominates.
"""

from __future__ import annotations

import math
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time
from hypothesis import given
from hypothesis import strategies as st

from apophis_sim import Elements, State, errors, propagate, propagate_grid
from apophis_sim._core import elements as core_el
from apophis_sim._core import kepler
from conftest import (
    AU_M,
    GM_SUN_SBDB,
    JPL220_EPOCH_JD_TDB,
    JPL220_R_AU,
    JPL220_V_AU_D,
    ORBIT_KINDS,
    angular_momentum,
    conic_elements,
    energy_scale,
    specific_energy,
)

MU = GM_SUN_SBDB
GM = MU * u.au**3 / u.day**2
EPOCH = Time(2462137.5, format="jd", scale="tdb")
PATHS = ["kernel", "public"]
LONGDOUBLE_OK = np.finfo(np.longdouble).eps < 1e-18
needs_longdouble = pytest.mark.skipif(
    not LONGDOUBLE_OK, reason="np.longdouble is not an extended type on this platform")


def propagate_via(path: str, r, v, dt, mu, unit_r=u.au, unit_t=u.day):
    """(r, v, status) after ``dt`` through the kernel or through State + propagate.

    ``r``, ``v``, ``dt`` and ``mu`` are floats in (unit_r, unit_r/unit_t, unit_t,
    unit_r^3/unit_t^2); the result is in the same units.
    """
    if path == "kernel":
        return kepler.kepler_rv(r, v, dt, mu)
    s = State(np.asarray(r) * unit_r, np.asarray(v) * unit_r / unit_t, EPOCH, centre="earth")
    out = propagate(s, EPOCH + np.asarray(dt) * unit_t, gm=mu * unit_r**3 / unit_t**2)
    return (out.r.to_value(unit_r), out.v.to_value(unit_r / unit_t),
            np.zeros(out.shape, dtype=np.int8))


# ---------------------------------------------------------------------------
# extended-precision reference: f and g on the eccentric/hyperbolic anomaly
# ---------------------------------------------------------------------------
def _bisect_then_newton(F, dF, lo, hi, bisections=160, polish=3):
    """Root of an increasing F on [lo, hi]: plain bisection (robust whatever the bracket
    width: 160 halvings reach the 64-bit mantissa from any bracket < 2^90), then a few
    Newton steps to polish the last bits."""
    for _ in range(bisections):
        mid = 0.5 * (lo + hi)
        neg = F(mid) < 0
        lo = np.where(neg, mid, lo)
        hi = np.where(neg, hi, mid)
    x = 0.5 * (lo + hi)
    for _ in range(polish):
        x = x - F(x) / dF(x)
    return x


def reference_propagation(r0, v0, dt, mu):
    """Kepler propagation in np.longdouble (64-bit mantissa), ellipses and hyperbolas.

    Independent of the kernel: Kepler's equation in the eccentric anomaly
    (Vallado 2013 alg. 2) or hyperbolic anomaly, written relative to the initial
    anomaly, and the classical Lagrange coefficients (Vallado 2013 eqs. 2-65,
    2-67). Not for |e - 1| < ~0.01 (the anomaly forms lose precision there).
    """
    with np.errstate(over="ignore", invalid="ignore"):  # far ends of hyperbolic brackets
        return _reference_propagation(r0, v0, dt, mu)


def _reference_propagation(r0, v0, dt, mu):
    L = np.longdouble
    r0, v0 = np.asarray(r0, dtype=L), np.asarray(v0, dtype=L)
    dt = np.broadcast_to(np.asarray(dt, dtype=L), r0.shape[:-1])
    mu = L(mu)
    rn = np.sqrt(np.sum(r0 * r0, -1))
    rv = np.sum(r0 * v0, -1)
    a = 1 / (2 / rn - np.sum(v0 * v0, -1) / mu)
    ell = a > 0
    absa = np.abs(a)
    n = np.sqrt(mu / absa**3)
    sq = np.sqrt(mu * absa)
    c0 = 1 - rn / a  # e cos E0  or  e cosh F0
    s0 = rv / sq  # e sin E0  or  e sinh F0
    dM = n * dt

    def F(x):
        return np.where(ell, x - c0 * np.sin(x) + s0 * (1 - np.cos(x)),
                        c0 * np.sinh(np.where(ell, 0, x)) + s0 * (np.cosh(np.where(ell, 0, x)) - 1)
                        - x) - dM

    def dF(x):
        xe = np.where(ell, 0, x)
        return np.where(ell, 1 - c0 * np.cos(x) + s0 * np.sin(x),
                        c0 * np.cosh(xe) + s0 * np.sinh(xe) - 1)

    # Brackets: |e (sin(E0 + x) - sin E0)| <= 2 for ellipses; for hyperbolas grow
    # the bracket until F changes sign (F is increasing in x for both).
    lo = np.where(ell, dM - 2, np.minimum(dM, 0) - 1)
    hi = np.where(ell, dM + 2, np.maximum(dM, 0) + 1)
    for _ in range(200):
        grow_lo, grow_hi = (F(lo) > 0) & ~ell, (F(hi) < 0) & ~ell
        if not (grow_lo.any() or grow_hi.any()):
            break
        lo = np.where(grow_lo, 2 * lo, lo)
        hi = np.where(grow_hi, 2 * hi, hi)
    x = _bisect_then_newton(F, dF, lo, hi)
    xe = np.where(ell, x, 0)
    xh = np.where(ell, 0, x)
    one_minus_c = np.where(ell, 1 - np.cos(xe), 1 - np.cosh(xh))
    f = 1 - a / rn * one_minus_c
    g = dt - np.where(ell, x - np.sin(xe), np.sinh(xh) - x) / n
    r = f[..., None] * r0 + g[..., None] * v0
    r1 = np.sqrt(np.sum(r * r, -1))
    fdot = -sq / (r1 * rn) * np.where(ell, np.sin(xe), np.sinh(xh))
    gdot = 1 - a / r1 * one_minus_c
    v = fdot[..., None] * r0 + gdot[..., None] * v0
    return r.astype(np.float64), v.astype(np.float64)


def random_orbits(rng, n, a_range=None, e_range=(0.0, 0.3), q_range=None, nu_max=None):
    """Seeded batch of heliocentric states [au, au/day] with isotropic orientations."""
    e = rng.uniform(*e_range, n)
    if a_range is not None:
        q = rng.uniform(*a_range, n) * (1 - e)
    else:
        q = rng.uniform(*q_range, n)
    inc = np.arccos(rng.uniform(-1, 1, n))
    raan, argp = rng.uniform(0, 2 * np.pi, (2, n))
    if nu_max is None:
        nu = rng.uniform(-np.pi, np.pi, n)
    else:
        nu = rng.uniform(-1, 1, n) * nu_max(e)
    return core_el.coe_to_rv(q, e, inc, raan, argp, nu, MU)


def arcs(max_days: float):
    """Times of flight in [-max_days, max_days]: 0 or |dt| >= 1e-12 d (0.1 us, below the
    resolution of any Julian date). Smaller steps have their own test
    (test_tiny_time_steps_converge), so that one kernel defect fails one test."""
    return st.floats(-max_days, max_days).filter(lambda x: x == 0.0 or abs(x) >= 1e-12)


# ---------------------------------------------------------------------------
# 1. textbook cases
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("path", PATHS)
def test_vallado_2013_example_2_4(path):
    """Vallado (2013) example 2-4 (KEPLER, alg. 8): 40 min from r0 = (1131.340, -2282.343,
    6672.423) km, v0 = (-5.64305, 4.30333, 2.42879) km/s, mu = 398 600.4418 km^3/s^2 ->
    r = (-4219.7527, 4363.0292, -3958.7666) km, v = (3.689866, -1.916735, -6.112511) km/s."""
    r, v, status = propagate_via(path, [1131.340, -2282.343, 6672.423],
                                 [-5.64305, 4.30333, 2.42879], 40 * 60.0, 398600.4418,
                                 unit_r=u.km, unit_t=u.s)
    assert status == kepler.STATUS_OK
    np.testing.assert_allclose(r, [-4219.7527, 4363.0292, -3958.7666], rtol=0, atol=5e-5)
    np.testing.assert_allclose(v, [3.689866, -1.916735, -6.112511], rtol=0, atol=5e-7)


@pytest.mark.parametrize("path", PATHS)
def test_curtis_2014_example_3_7(path):
    """Curtis (2014, 3rd ed.) example 3.7 (alg. 3.4, universal anomaly): 60 min from
    r0 = (7000, -12 124, 0) km, v0 = (2.6679, 4.6210, 0) km/s, mu = 398 600 km^3/s^2 ->
    r = (-3297.8, 7413.4, 0) km (book); v = (-8.2976, -0.964045, 0) km/s (the book's
    MATLAB companion, 6 significant digits; the hand calculation in the text rounds
    f-dot and g-dot to 5 digits, which shifts v_y by ~1e-3 through cancellation)."""
    r, v, _ = propagate_via(path, [7000.0, -12124.0, 0.0], [2.6679, 4.6210, 0.0], 3600.0,
                            398600.0, unit_r=u.km, unit_t=u.s)
    np.testing.assert_allclose(r, [-3297.8, 7413.4, 0.0], rtol=0, atol=0.05)
    assert np.all(np.abs(np.asarray(v) - [-8.2976, -0.964045, 0.0]) <= [5e-5, 5e-7, 1e-12])


@pytest.mark.parametrize("path", PATHS)
def test_curtis_2014_example_3_6_hyperbola(path):
    """Curtis (2014) example 3.6: r0 = 10 000 km, v0 = 10 km/s, theta0 = 30 deg (a
    hyperbola, e = 1.4682, h = 95 154 km^2/s); after 1 h the true anomaly is 100.04 deg."""
    mu, r0, v0, th0 = 398600.0, 10000.0, 10.0, math.radians(30.0)
    a = 1 / (2 / r0 - v0**2 / mu)
    # r0 = a (1 - e^2) / (1 + e cos th0) fixes e (Curtis eqs. 2.45, 2.103).
    lo, hi = 1.0 + 1e-9, 5.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if a * (1 - mid**2) / (1 + mid * math.cos(th0)) < r0 else (lo, mid)
    e = 0.5 * (lo + hi)
    assert e == pytest.approx(1.4682, abs=5e-5)
    assert math.sqrt(mu * a * (1 - e * e)) == pytest.approx(95154, abs=0.5)
    r, v = core_el.coe_to_rv(a * (1 - e), e, 0.0, 0.0, 0.0, th0, mu)
    r1, v1, _ = propagate_via(path, r, v, 3600.0, mu, unit_r=u.km, unit_t=u.s)
    theta = math.degrees(math.atan2(r1[1], r1[0]))
    assert theta == pytest.approx(100.04, abs=5e-3)


# ---------------------------------------------------------------------------
# 2. accuracy against the extended-precision reference
# ---------------------------------------------------------------------------
def periapsis_scales(r0, v0, mu):
    """Periapsis speed [au/d] and acceleration [au/d^2] of each orbit: the scales of the
    phase error (an error dM in mean anomaly moves the body by at most v_peri dM / n)."""
    h = np.cross(r0, v0)
    ecc = np.linalg.norm(np.cross(v0, h) / mu - r0 / np.linalg.norm(r0, axis=-1)[..., None],
                         axis=-1)
    q = np.sum(h * h, -1) / mu / (1 + ecc)
    return np.sqrt(mu * (1 + ecc) / q), mu / q**2


@needs_longdouble
@pytest.mark.parametrize("dt", [1.0, 100.0, -100.0, 1000.0, 1e4])
def test_ellipses_match_extended_precision(rng, dt):
    """2000 ellipses (q 0.3-3 au, e <= 0.95, up to ~150 revolutions).

    Tolerance: 32 eps |r| (round-off in chi, the Stumpff functions, f and g) plus
    16 eps v_peri |dt| (the float64 phase n dt, and dt mod P for long arcs, carry
    a relative error of a few eps; the body moves by at most v_peri per unit of
    phase / n). Measured: <= 0.85 of this bound; a float64 f-and-g solver on the
    eccentric anomaly lands at the same level.
    """
    r0, v0 = random_orbits(rng, 2000, q_range=(0.3, 3.0), e_range=(0.0, 0.95))
    r, v, status = kepler.kepler_rv(r0, v0, dt, MU)
    assert np.all(status == kepler.STATUS_OK)
    r_ref, v_ref = reference_propagation(r0, v0, dt, MU)
    eps = np.finfo(float).eps
    v_peri, acc_peri = periapsis_scales(r0, v0, MU)
    tol_r = 32 * eps * np.linalg.norm(r_ref, axis=-1) + 16 * eps * v_peri * abs(dt)
    tol_v = 32 * eps * np.linalg.norm(v_ref, axis=-1) + 16 * eps * acc_peri * abs(dt)
    ratio_r = np.linalg.norm(r - r_ref, axis=-1) / tol_r
    ratio_v = np.linalg.norm(v - v_ref, axis=-1) / tol_v
    assert ratio_r.max() <= 1.0, f"worst position error is {ratio_r.max():.2f} x tolerance"
    assert ratio_v.max() <= 1.0, f"worst velocity error is {ratio_v.max():.2f} x tolerance"


@needs_longdouble
@pytest.mark.parametrize("dt", [1.0, 100.0, -100.0, 3000.0])
def test_hyperbolas_match_extended_precision(rng, dt):
    """2000 hyperbolas with 1.05 <= e <= 10, q 0.1-5 au: 64 eps relative plus the
    time-resolution term (measured ~35 eps: f and g grow like cosh F)."""
    r0, v0 = random_orbits(rng, 2000, q_range=(0.1, 5.0), e_range=(1.05, 10.0),
                           nu_max=lambda e: 0.8 * np.arccos(-1 / e))
    r, v, status = kepler.kepler_rv(r0, v0, dt, MU)
    assert np.all(status == kepler.STATUS_OK)
    r_ref, v_ref = reference_propagation(r0, v0, dt, MU)
    eps = np.finfo(float).eps
    rn, vn = np.linalg.norm(r_ref, axis=-1), np.linalg.norm(v_ref, axis=-1)
    v_peri, acc_peri = periapsis_scales(r0, v0, MU)
    np.testing.assert_array_less(np.linalg.norm(r - r_ref, axis=-1),
                                 64 * eps * rn + 16 * eps * v_peri * abs(dt))
    np.testing.assert_array_less(np.linalg.norm(v - v_ref, axis=-1),
                                 64 * eps * vn + 16 * eps * acc_peri * abs(dt))


# ---------------------------------------------------------------------------
# 3. seeded invariants
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ORBIT_KINDS)
def test_energy_and_angular_momentum_are_conserved(kind):
    """Energy and angular momentum after propagation, to 1e-12 of their natural scales."""

    @given(conic_elements(kind), arcs(1000.0))
    def check(draw, dt):
        r0, v0 = core_el.coe_to_rv(*draw, MU)
        r, v, status = kepler.kepler_rv(r0, v0, dt, MU)
        assert status == kepler.STATUS_OK
        dE = abs(specific_energy(r, v, MU) - specific_energy(r0, v0, MU))
        assert dE <= 1e-12 * max(energy_scale(r0, v0, MU), energy_scale(r, v, MU))
        dh = np.linalg.norm(angular_momentum(r, v) - angular_momentum(r0, v0))
        assert dh <= 1e-12 * max(np.linalg.norm(r0) * np.linalg.norm(v0),
                                 np.linalg.norm(r) * np.linalg.norm(v))

    check()


def test_energy_conservation_relative_to_energy_itself_for_bound_orbits(rng):
    """For orbits that are clearly bound (e <= 0.9) the plain relative energy error
    is also <= 1e-12 (the issue's wording), over 1000-day arcs."""
    r0, v0 = random_orbits(rng, 20000, q_range=(0.1, 5.0), e_range=(0.0, 0.9))
    r, v, _ = kepler.kepler_rv(r0, v0, 1000.0, MU)
    E0 = specific_energy(r0, v0, MU)
    h0 = np.linalg.norm(angular_momentum(r0, v0), axis=-1)
    assert np.max(np.abs(specific_energy(r, v, MU) - E0) / np.abs(E0)) < 1e-12
    assert np.max(np.abs(np.linalg.norm(angular_momentum(r, v), axis=-1) - h0) / h0) < 1e-12


def test_forward_then_back_100_days_1_au_orbits(rng):
    """The issue's target: 100 days forward then back returns within 1 mm (1 au orbits).

    20 000 seeded orbits with a in [0.9, 1.1] au and e <= 0.3, through the public layer.
    Measured: median ~0.13 mm, 99.9th percentile ~0.97 mm, maximum ~1.6 mm in
    200 000 orbits -- the tail is float64 conditioning (see the module docstring),
    so 99.9 % must be within 1 mm and every orbit within 3 mm.
    """
    r0, v0 = random_orbits(rng, 20000, a_range=(0.9, 1.1), e_range=(0.0, 0.3))
    s0 = State(r0 * u.au, v0 * u.au / u.day, EPOCH)
    there = propagate(s0, EPOCH + 100 * u.day)
    back = propagate(there, EPOCH)
    err_mm = np.linalg.norm(back.r_au - r0, axis=-1) * AU_M * 1e3
    assert np.median(err_mm) < 0.3
    assert np.percentile(err_mm, 99.9) < 1.0, np.percentile(err_mm, [50, 99, 99.9, 100])
    assert err_mm.max() < 3.0


@given(conic_elements("ellipse"), arcs(500.0), arcs(500.0))
def test_propagation_composes(draw, dt1, dt2):
    """propagate(dt1 + dt2) == propagate(dt2) o propagate(dt1), to float64 conditioning:
    1e-13 |r| per day of the longer arc times the mean motion, plus the time-resolution term."""
    r0, v0 = core_el.coe_to_rv(*draw, MU)
    r1, v1, _ = kepler.kepler_rv(r0, v0, dt1, MU)
    r2, v2, _ = kepler.kepler_rv(r1, v1, dt2, MU)
    r3, v3, _ = kepler.kepler_rv(r0, v0, dt1 + dt2, MU)
    q, e = draw[0], draw[1]
    n = math.sqrt(MU * ((1 - e) / q) ** 3)
    turns = 1 + n * (abs(dt1) + abs(dt2))
    vmax = math.sqrt(MU * (1 + e) / q)
    tol = 3e-15 * turns * (1 + e) / (1 - e) * np.linalg.norm(r3) + vmax * 8e-16 * (
        abs(dt1) + abs(dt2))
    assert np.linalg.norm(r2 - r3) <= tol


@pytest.mark.parametrize("k", [1, 3, 100])
def test_whole_periods_return_to_start(k):
    """Apophis after k periods is where it started (the kernel wraps whole revolutions):
    within the motion during one ulp of k P (float64 time resolution)."""
    r0, v0 = JPL220_R_AU, JPL220_V_AU_D
    a = 1 / (2 / np.linalg.norm(r0) - np.dot(v0, v0) / MU)
    period = 2 * math.pi * math.sqrt(a**3 / MU)
    r, v, status = kepler.kepler_rv(r0, v0, k * period, MU)
    assert status == kepler.STATUS_OK
    tol_au = 1e-15 + np.linalg.norm(v0) * 4 * np.spacing(k * period)
    assert np.linalg.norm(r - r0) <= tol_au


def test_zero_time_of_flight_returns_the_state_exactly():
    r, v, status = kepler.kepler_rv(JPL220_R_AU, JPL220_V_AU_D, 0.0, MU)
    np.testing.assert_array_equal(r, JPL220_R_AU)
    np.testing.assert_array_equal(v, JPL220_V_AU_D)


@pytest.mark.parametrize("dt", [1e-300, 1e-100, 1e-40, -1e-100])
@pytest.mark.parametrize("e", [0.5, 2.0])
def test_tiny_time_steps_converge(e, dt):
    """A time of flight of 1e-100 days is silly but valid: r = r0 + v0 dt (exactly r0 in
    float64). The kernel's docstring guarantees convergence for every conic."""
    r0, v0 = core_el.coe_to_rv(1.0, e, 0.3, 0.2, 0.1, 0.4, MU)
    r, v, status = kepler.kepler_rv(r0, v0, dt, MU)
    assert status == kepler.STATUS_OK, f"status {int(status)} for dt = {dt:g} d, e = {e}"
    np.testing.assert_allclose(r, r0, rtol=1e-15)
    np.testing.assert_allclose(v, v0, rtol=1e-15)


# ---------------------------------------------------------------------------
# 4. convergence for any conic
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "e_range"),
    [("ellipse", (0.0, 0.99)), ("near_parabolic", (1 - 1e-6, 1 + 1e-6)),
     ("hyperbola", (1 + 1e-6, 10.0))],
)
def test_moderate_arcs_always_converge(rng, kind, e_range):
    """|dt| <= 1e4 days (log-uniform from 1e-6 d), 50 000 seeded orbits per family,
    q 0.05-10 au: every solution is ordinary (hyperbolic anomaly at most ~11 for
    q = 0.05 au, e = 10, i.e. |psi| << 1400), so the kernel must converge, and
    conserve energy. (Hypothesis explores the same space in
    test_energy_and_angular_momentum_are_conserved; this dense seeded sweep is
    what finds the rare failures.)"""
    n = 50_000
    r0, v0 = random_orbits(rng, n, q_range=(0.05, 10.0), e_range=e_range,
                           nu_max=None if kind == "ellipse" else
                           lambda e: np.where(e < 1, 2.8, 0.9 * np.arccos(-1 / np.maximum(e, 1))))
    dt = rng.choice([-1.0, 1.0], n) * 10.0 ** rng.uniform(-6, 4, n)
    r, v, status = kepler.kepler_rv(r0, v0, dt, MU)
    bad = np.flatnonzero(status != kepler.STATUS_OK)
    if bad.size:
        k = bad[0]
        q_e = core_el.rv_to_coe(r0[k], v0[k], MU)[:2]
        pytest.fail(f"{bad.size} of {n} did not converge (status {sorted(set(status[bad]))}); "
                    f"first: q = {q_e[0]:.4g} au, e = {q_e[1]:.6g}, dt = {dt[k]:.6g} d")
    dE = np.abs(specific_energy(r, v, MU) - specific_energy(r0, v0, MU))
    assert np.all(dE <= 1e-12 * np.maximum(energy_scale(r0, v0, MU), energy_scale(r, v, MU)))


@needs_longdouble
@pytest.mark.parametrize("dt", [1e4, -1e4])
def test_near_parabolic_hyperbola_regression(dt):
    """q = 0.5 au, e = 1.01, from periapsis, 10 000 days: an ordinary arc (a = -50 au,
    hyperbolic anomaly ~1.35, final r ~ 55 au). Regression: the hyperbolic starter gives a
    negative chi here, the fallback guess sqrt(mu) dt / r0 = 344 has psi = -2367 < -1400,
    and the kernel used to report STATUS_OVERFLOW instead of shrinking the bracket."""
    r0, v0 = core_el.coe_to_rv(0.5, 1.01, 0.0, 0.0, 0.0, 0.0, MU)
    r, v, status = kepler.kepler_rv(r0, v0, dt, MU)
    assert status == kepler.STATUS_OK, f"status {int(status)} (2 = overflow)"
    r_ref, _ = reference_propagation(r0, v0, dt, MU)
    np.testing.assert_allclose(r, r_ref, rtol=1e-13)


@pytest.mark.parametrize("kind", ORBIT_KINDS)
def test_any_arc_gives_a_finite_state_or_a_typed_error(kind):
    """Up to 1e15 days: either a finite, energy-conserving state or ConvergenceError.
    Never NaN."""

    @given(conic_elements(kind), arcs(1e15))
    def check(draw, dt):
        r0, v0 = core_el.coe_to_rv(*draw, MU)
        s0 = State.from_arrays(r0, v0, EPOCH.jd1, EPOCH.jd2)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # no overflow RuntimeWarnings either
                out = propagate(s0, Time(EPOCH.jd1, EPOCH.jd2 + dt, format="jd", scale="tdb"),
                                gm=GM)
        except errors.ConvergenceError as exc:
            assert "batch index" in str(exc)
            return
        assert np.all(np.isfinite(out.r_au)) and np.all(np.isfinite(out.v_au_d))
        dE = abs(specific_energy(out.r_au, out.v_au_d, MU) - specific_energy(r0, v0, MU))
        assert dE <= 1e-10 * max(energy_scale(r0, v0, MU),
                                 energy_scale(out.r_au, out.v_au_d, MU))

    check()


def test_genuine_overflow_is_a_typed_error():
    """e = 10, q = 1 au, 1e18 days: hyperbolic anomaly ~42, cosh overflows float64."""
    r0, v0 = core_el.coe_to_rv(1.0, 10.0, 0.0, 0.0, 0.0, 0.0, MU)
    s0 = State(r0 * u.au, v0 * u.au / u.day, EPOCH)
    with pytest.raises(errors.ConvergenceError, match="overflows float64"):
        propagate(s0, Time(EPOCH.jd1, EPOCH.jd2 + 1e18, format="jd", scale="tdb"))


def test_degenerate_state_is_a_typed_error():
    s0 = State(np.zeros(3) * u.au, [0, 0.01, 0] * u.au / u.day, EPOCH)
    with pytest.raises(errors.ConvergenceError, match="degenerate"):
        propagate(s0, EPOCH + 1 * u.day)


# ---------------------------------------------------------------------------
# 5. shapes, broadcasting, propagate vs propagate_grid
# ---------------------------------------------------------------------------
@pytest.fixture
def states(rng) -> State:
    """Five heliocentric orbits with their own epochs (ecliptic frame)."""
    r0, v0 = random_orbits(rng, 5, q_range=(0.5, 2.0), e_range=(0.0, 0.8))
    epochs = EPOCH + np.array([0.0, 3.5, -20.0, 100.0, 7.25]) * u.day
    return State(r0 * u.au, v0 * u.au / u.day, epochs, frame="ecliptic")


def test_grid_equals_pairwise_propagate(states):
    times = EPOCH + np.linspace(-50, 400, 7) * u.day
    grid = propagate_grid(states, times)
    assert grid.shape == (5, 7)
    assert (grid.frame, grid.centre) == ("ecliptic", "sun")
    # The same through propagate with explicit broadcasting: (5, 1) x (7,) -> (5, 7).
    pair = propagate(_column(states), times)
    assert pair.shape == (5, 7)
    assert_vectors_close(grid.r_au, pair.r_au, 4e-16)
    for i in range(5):
        for j in (0, 6):
            one = propagate(states[i], times[j])
            # Same _solve_one, compiled into two kernels: equal to ~1 ulp of |r|, |v|.
            assert_vectors_close(grid[i, j].r_au, one.r_au, 4e-16)
            assert_vectors_close(grid[i, j].v_au_d, one.v_au_d, 4e-16)
    # Each output carries its target time.
    np.testing.assert_allclose((grid.epoch - times[None, :]).to_value(u.s), 0.0, atol=1e-6)


def assert_vectors_close(a, b, rel: float) -> None:
    """|a - b| <= rel |b| for every xyz vector (component-wise rtol would be unfair to
    components that happen to be near zero)."""
    err = np.linalg.norm(np.asarray(a) - b, axis=-1)
    tol = rel * np.linalg.norm(b, axis=-1)
    assert np.all(err <= tol), f"worst |a - b| / |b| = {np.max(err / np.linalg.norm(b, axis=-1)):.3g}"


def _column(s: State) -> State:
    """A (N,) State as (N, 1) (State indexing does not take None)."""
    return State.from_arrays(s.r_au[:, None, :], s.v_au_d[:, None, :], s.jd_tdb[0][:, None],
                             s.jd_tdb[1][:, None], s.frame, s.centre)


def test_each_state_to_its_own_time(states):
    times = EPOCH + np.array([10.0, 20.0, 30.0, 40.0, 50.0]) * u.day
    out = propagate(states, times)
    assert out.shape == (5,)
    for i in range(5):
        assert_vectors_close(out[i].r_au, propagate(states[i], times[i]).r_au, 4e-16)


def test_per_state_epochs_are_respected(states):
    """All five states propagated to one common time: each uses its own epoch."""
    t = EPOCH + 30 * u.day
    out = propagate(states, t)
    assert out.shape == (5,)
    for i in range(5):
        dt = (t - states[i].epoch).to_value(u.day)
        r, _, _ = kepler.kepler_rv(states.r_au[i], states.v_au_d[i], dt, MU)
        assert_vectors_close(out.r_au[i], r, 1e-14)


def test_grid_with_two_dimensional_times_and_batches(rng):
    r0, v0 = random_orbits(rng, 6, q_range=(0.5, 2.0))
    s = State(r0.reshape(2, 3, 3) * u.au, v0.reshape(2, 3, 3) * u.au / u.day, EPOCH)
    times = EPOCH + np.arange(8.0).reshape(2, 4) * 30 * u.day
    out = propagate_grid(s, times)
    assert out.shape == (2, 3, 2, 4)
    assert out.epoch.shape == (2, 3, 2, 4)
    assert_vectors_close(out[1, 2, 1, 3].r_au, propagate(s[1, 2], times[1, 3]).r_au, 4e-16)


def test_scalar_state_to_many_times():
    s = State(JPL220_R_AU * u.au, JPL220_V_AU_D * u.au / u.day,
              Time(JPL220_EPOCH_JD_TDB, format="jd", scale="tdb"))
    times = s.epoch + np.linspace(0, 1000, 11) * u.day
    out = propagate(s, times)
    assert out.shape == (11,)
    np.testing.assert_array_equal(out[0].r_au, JPL220_R_AU)
    grid = propagate_grid(s, times)
    assert grid.shape == (11,)
    assert_vectors_close(grid.r_au, out.r_au, 4e-16)


def test_mismatched_times_suggest_propagate_grid(states):
    with pytest.raises(errors.ShapeMismatchError, match="use propagate_grid"):
        propagate(states, EPOCH + np.arange(3.0) * u.day)


def test_units_layer_returns_quantities_and_default_gm():
    """Earth-centred state: default GM is DE440's GM_earth; units come back attached."""
    from apophis_sim import bodies

    s = State([7000.0, 0, 0] * u.km, [0, 7.5, 0.5] * u.km / u.s, EPOCH, centre="earth")
    out = propagate(s, EPOCH + 30 * u.min)
    r, _, _ = kepler.kepler_rv(s.r_au, s.v_au_d, 30 / 1440, bodies.GM_EARTH)
    # EPOCH + 30 min rounds the time to ~1e-17 d: ~1e-15 relative here.
    assert_vectors_close(out.r_au, r, 1e-14)
    assert out.r.unit == u.au and out.v.unit == u.au / u.day and out.centre == "earth"
    with pytest.raises(errors.PhysicalTypeError, match="gm must have units"):
        propagate(s, EPOCH + 1 * u.day, gm=1 * u.km)
    with pytest.raises(errors.InputError, match="gm must be positive"):
        propagate(s, EPOCH + 1 * u.day, gm=-1 * u.km**3 / u.s**2)
    with pytest.raises(errors.TimeInputError, match="to must be an astropy.time.Time"):
        propagate(s, 30.0)
    with pytest.raises(errors.TimeInputError, match="times must be an astropy.time.Time"):
        propagate_grid(s, [1.0, 2.0])


def test_elements_route_agrees_with_state_route():
    """Propagating Apophis's #220 *elements* (epoch moved) equals propagating its state."""
    E = dict(q=0.7458270478466523 * u.au, e=0.1915216893501022, inc=3.336751320066756 * u.deg,
             raan=204.0389272089208 * u.deg, argp=126.6520518368553 * u.deg,
             tp=Time("2459101.039422462638", format="jd", scale="tdb"))
    t0 = Time(JPL220_EPOCH_JD_TDB, format="jd", scale="tdb")
    t1 = Time(2462240.407091969, format="jd", scale="tdb")  # the 2029 close approach
    s0 = Elements(**E, epoch=t0, gm=GM).to_state()
    via_state = propagate(s0, t1, gm=GM)
    via_elements = Elements(**E, epoch=t1, gm=GM).to_state()
    # ~3000 days = ~9.5 revolutions: a few mm of float64 time resolution.
    assert np.linalg.norm(via_state.r_au - via_elements.r_au) * AU_M < 0.01


# ---------------------------------------------------------------------------
# 6. poliastro family (boinor)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("label", "q", "e", "dts"),
    [
        ("apophis-like ellipse", 0.746, 0.19, [100.0, -250.0, 1000.0]),
        ("eccentric ellipse", 0.3, 0.8, [50.0, 400.0]),
        ("hyperbola e=1.5", 0.8, 1.5, [100.0, -30.0]),
        ("hyperbola e=10", 2.0, 10.0, [100.0, 1000.0]),
    ],
)
def test_cross_check_against_boinor(label, q, e, dts):
    """Our propagate vs boinor's Orbit.propagate (Farnocchia) with the same GM (boinor's
    Sun.k): agreement to 1e-12 relative (0.15 m at 1 au; measured ~1 mm)."""
    pytest.importorskip("boinor")
    from boinor.bodies import Sun

    gm = Sun.k
    mu = gm.to_value(u.au**3 / u.day**2)
    r0, v0 = core_el.coe_to_rv(q, e, 0.4, 1.0, 2.0, -0.5, mu)
    s0 = State(r0 * u.au, v0 * u.au / u.day, EPOCH)
    orbit = s0.to_poliastro("boinor")
    for dt in dts:
        theirs = State.from_poliastro(orbit.propagate(dt * u.day))
        ours = propagate(s0, EPOCH + dt * u.day, gm=gm)
        assert abs((theirs.epoch - ours.epoch).to_value(u.s)) < 1e-6
        np.testing.assert_allclose(ours.r_au, theirs.r_au, rtol=0,
                                   atol=1e-12 * np.linalg.norm(ours.r_au))
        np.testing.assert_allclose(ours.v_au_d, theirs.v_au_d, rtol=0,
                                   atol=1e-12 * np.linalg.norm(ours.v_au_d))
