"""Variational equations: the state transition matrix and the non-gravitational partials.

Three kinds of check:

1. every force term's analytic Jacobian against Richardson-extrapolated central
   differences of the same acceleration (the tolerance is the differences' own
   round-off, measured and stated per term);
2. the STM of whole integrations against Richardson-extrapolated central differences
   of batches of clones, at every output time of a grid through the 2029 flyby, and
   against the exact Kepler flow;
3. structural identities: det(STM) = 1 and the symplectic identity for conservative
   forces, composition Phi(t2, t0) = Phi(t2, t1) Phi(t1, t0), frames and batches.
"""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time

from apophis_sim import State
from apophis_sim._core import forces as F
from apophis_sim._core.kepler import kepler_rv
from apophis_sim.bodies import GM_SUN
from apophis_sim.ephemeris import Ephemeris
from apophis_sim.errors import InputError, ShapeMismatchError
from apophis_sim.nbody import (StateTransition, _consts, apophis, propagate_nbody,
                               propagate_nbody_grid, state_transition, state_transition_grid)
from apophis_sim.solution import NongravModel

AU_M = 149_597_870_700.0
JD0 = 2462240.0  # 2029-04-12 12:00 TDB, a day before the flyby
CONSERVATIVE = ("sun", "planets", "earth_harmonics", "sun_harmonics")


@pytest.fixture(scope="module")
def planets_only() -> Ephemeris:
    return Ephemeris.open(asteroids=False)


@pytest.fixture(scope="module")
def start_2029(planets_only):
    """#220 at 2029-01-01 TDB (heliocentric ICRF) and its A1, A2, A3."""
    sol = apophis()
    s = propagate_nbody(sol, Time("2029-01-01", scale="tdb"), ephemeris=planets_only)
    return s, sol.nongrav


# ----------------------------------------------------------------------------- kernel Jacobians


class _Field:
    """The force model at one instant, callable from Python."""

    def __init__(self, eph: Ephemeris, flags: int, model: NongravModel, ng: np.ndarray):
        tab = eph.tables(JD0 - 2, JD0 + 2)
        self.tabs = (tab.coef, tab.seg_i, tab.seg_f, tab.body_chain)
        self.gm = tab.gm
        self.n = len(tab.names)
        self.work = np.zeros((self.n, 10))
        self.flags = flags
        self.consts = _consts(model.as_array())
        self.ng = ng

    def __call__(self, y: np.ndarray, ng: np.ndarray | None = None, want_jac: bool = False):
        a = np.zeros(3)
        jac = np.zeros((3, F.JAC_COLS))
        F.accel(JD0, 0.0, y[:3], y[3:], self.flags, self.gm, self.n,
                self.ng if ng is None else ng, self.consts, self.tabs, self.work, a, jac,
                want_jac)
        return a, jac


def _richardson(f, y: np.ndarray, h: np.ndarray) -> np.ndarray:
    """d f / d y by central differences at h and h/2, Richardson-extrapolated (O(h^4))."""
    cols = []
    for j in range(len(y)):
        e = np.zeros(len(y))
        e[j] = h[j]
        d1 = (f(y + e) - f(y - e)) / (2 * h[j])
        d2 = (f(y + e / 2) - f(y - e / 2)) / h[j]
        cols.append((4 * d2 - d1) / 3)
    return np.stack(cols, axis=-1)


def _point(eph, body: str, offset_au, dv_au_d):
    p, v = eph.posvel(body, JD0, 0.0)
    return np.concatenate([p + np.asarray(offset_au), v + np.asarray(dv_au_d)])


# (flags, body the point is placed near, offset [au], velocity offset [au/d], position step
# [au], tolerance relative to the largest Jacobian entry). Near Earth the differences lose
# ~1e-8 to round-off (the barycentric coordinates are ~1 au, the Earth-relative ~1e-4 au).
JAC_CASES = {
    "sun": (F.F_SUN, "sun", [0.3, 0.8, 0.2], [0.01, -0.005, 0.002], 1e-5, 1e-9),
    "planets": (F.F_PLANETS, "earth", [2e-4, 1e-4, -5e-5], [3e-3, 1e-3, 0.0], 1e-8, 1e-7),
    "earth_harmonics": (F.F_EARTH_HARMONICS, "earth", [4e-5, 3e-5, 3.5e-5], [3e-3, 1e-3, 0.0],
                        1e-9, 1e-6),
    "sun_harmonics": (F.F_SUN_HARMONICS, "sun", [0.005, 0.003, 0.004], [0.01, -0.005, 0.002],
                      1e-5, 1e-9),
    "gr_far": (F.F_GR, "sun", [0.3, 0.8, 0.2], [0.01, -0.005, 0.002], 1e-5, 1e-9),
    "gr_near_earth": (F.F_GR, "earth", [2e-4, 1e-4, -5e-5], [3e-3, 1e-3, 0.0], 1e-8, 1e-7),
    "nongrav": (F.F_NONGRAV, "sun", [0.3, 0.8, 0.2], [0.01, -0.005, 0.002], 1e-5, 1e-10),
}


@pytest.mark.parametrize("law", ["asteroid", "comet"])
@pytest.mark.parametrize("case", sorted(JAC_CASES))
def test_force_jacobians_match_differences(case, law, planets_only):
    flags, body, off, dv, hr, tol = JAC_CASES[case]
    model = NongravModel() if law == "asteroid" else NongravModel.comet()
    ng = np.array([5e-9, -3e-9, 2e-9])
    field = _Field(planets_only, flags, model, ng)
    y = _point(planets_only, body, off, dv)
    a, jac = field(y, want_jac=True)
    a_plain, _ = field(y)
    np.testing.assert_array_equal(a, a_plain)  # the Jacobian never changes the acceleration
    fd = _richardson(lambda z: field(z)[0], y, np.array([hr] * 3 + [1e-6] * 3))
    scale = np.abs(fd).max()
    assert np.abs(jac[:, :6] - fd).max() < tol * scale, np.abs(jac[:, :6] - fd).max() / scale
    fd_a = _richardson(lambda p: field(y, ng=p)[0], ng, np.full(3, 1e-10))
    if flags & F.F_NONGRAV:
        np.testing.assert_allclose(jac[:, 6:], fd_a, rtol=1e-9, atol=1e-12 * np.abs(fd_a).max())
    else:
        assert np.all(jac[:, 6:] == 0.0) and np.all(fd_a == 0.0)


def test_zonal_jacobian_in_body_coordinates():
    """Earth J2-J4 alone, in body-relative coordinates (no barycentric round-off): the
    Jacobian to 1e-9 of its largest entry at several latitudes and distances."""
    gm, R = 8.887692445125634e-10, 6378.137 / 149597870.7
    rng = np.random.default_rng(1)
    for _ in range(10):
        d = rng.normal(size=3)
        d *= rng.uniform(1.05, 8.0) * R / np.linalg.norm(d)
        pole = np.array([0.1, -0.2, 1.0]) / np.linalg.norm([0.1, -0.2, 1.0])

        def acc(z):
            a = np.zeros(3)
            F._zonal(z[0], z[1], z[2], gm, R, 1.08e-3, -2.5e-6, -1.6e-6, *pole, a,
                     np.zeros((3, 9)), False)
            return a

        jac = np.zeros((3, 9))
        F._zonal(d[0], d[1], d[2], gm, R, 1.08e-3, -2.5e-6, -1.6e-6, *pole, np.zeros(3), jac,
                 True)
        fd = _richardson(acc, d, np.full(3, 1e-5 * np.linalg.norm(d)))
        assert np.abs(jac[:, :3] - fd).max() < 1e-9 * np.abs(fd).max()


# ----------------------------------------------------------------------------- whole integrations


def _fd_stm(state: State, times: Time, h_r: float, **kw) -> np.ndarray:
    """Richardson-extrapolated central differences of whole integrations: 24 clones
    (+-h/2, +-h per coordinate) in one batched run; -> (T, 6, 6)."""
    y0 = np.concatenate([state.r_au, state.v_au_d])
    hs = np.array([h_r] * 3 + [h_r * 0.02] * 3)
    clones = []
    for j in range(6):
        for m in (0.5, -0.5, 1.0, -1.0):
            y = y0.copy()
            y[j] += m * hs[j]
            clones.append(y)
    c = np.array(clones)
    g = propagate_nbody_grid(State(c[:, :3] * u.au, c[:, 3:] * u.au / u.day, state.epoch),
                             times, **kw)
    Y = np.concatenate([g.r_au, g.v_au_d], axis=-1).reshape(6, 4, len(times), 6)
    fd = np.zeros((len(times), 6, 6))
    for j in range(6):
        fd[:, :, j] = (4 * (Y[j, 0] - Y[j, 1]) / hs[j] - (Y[j, 2] - Y[j, 3]) / (2 * hs[j])) / 3
    return fd


FLYBY_GRID = Time(["2029-02-01", "2029-03-15", "2029-04-10", "2029-04-13 12:00",
                   "2029-04-13 21:00", "2029-04-13 21:46", "2029-04-13 22:30", "2029-04-14",
                   "2029-04-20", "2029-06-01", "2029-10-01", "2030-01-01"], scale="tdb")


@pytest.mark.parametrize("forces", [None, CONSERVATIVE])
def test_stm_matches_richardson_differences_through_flyby(start_2029, planets_only, forces):
    """At every output time from 2029-01-01 to 2030-01-01 (STM entries up to 6e5 after
    the flyby): each STM column agrees with the differences to 1e-8 of its largest entry
    (measured: <= 2.5e-9; the differences are limited by the clones' integration noise)."""
    s0, ng = start_2029
    st = state_transition_grid(s0, FLYBY_GRID, nongrav=ng, forces=forces, ephemeris=planets_only)
    fd = _fd_stm(s0, FLYBY_GRID, 1e-7, nongrav=ng, forces=forces, ephemeris=planets_only)
    for k in range(len(FLYBY_GRID)):
        col_scale = np.abs(fd[k]).max(axis=0)
        rel = (np.abs(st.stm[k] - fd[k]).max(axis=0) / col_scale).max()
        assert rel < 1e-8, f"{FLYBY_GRID[k].iso}: {rel:.2e}"


def test_nongrav_partials_match_differences(start_2029, planets_only):
    """d(r, v)/d(A1, A2, A3) vs central differences in A (steps 1e-12 au/d^2, ~2x JPL's
    A1 sigma): 1e-6 of each column's largest entry through the flyby (the response is
    linear in A to that level; measured ~1e-8)."""
    s0, ng = start_2029
    a0 = ng.to_value(u.au / u.day**2)
    st = state_transition_grid(s0, FLYBY_GRID, nongrav=ng, ephemeris=planets_only)
    h = 1e-12
    batch = []
    for k in range(3):
        for m in (1.0, -1.0):
            a = a0.copy()
            a[k] += m * h
            batch.append(a)
    states = State(np.tile(s0.r_au, (6, 1)) * u.au, np.tile(s0.v_au_d, (6, 1)) * u.au / u.day,
                   s0.epoch)
    g = propagate_nbody_grid(states, FLYBY_GRID, nongrav=np.array(batch) * u.au / u.day**2,
                             ephemeris=planets_only)
    Y = np.concatenate([g.r_au, g.v_au_d], axis=-1).reshape(3, 2, len(FLYBY_GRID), 6)
    fd = np.stack([(Y[k, 0] - Y[k, 1]) / (2 * h) for k in range(3)], axis=-1)
    for t in range(len(FLYBY_GRID)):
        scale = np.abs(fd[t]).max(axis=0)
        rel = (np.abs(st.nongrav_partials[t] - fd[t]).max(axis=0) / scale).max()
        assert rel < 1e-6, f"{FLYBY_GRID[t].iso}: {rel:.2e}"


@pytest.mark.parametrize("e", [0.2, 0.9, 1.5])
def test_stm_kepler_matches_exact_flow(e, point_mass_tables):
    """A fixed point mass (the kernel on tables that hold the Sun at the origin): the STM
    against Richardson differences of the exact universal-variable Kepler flow
    (independent code) to 1e-8 of its largest entry, det = 1 to 1e-11 and
    Phi^T J Phi = J to 1e-11 of |Phi|^2."""
    from apophis_sim._core import ias15

    tabs, gm = point_mass_tables
    q = 0.3
    vq = np.sqrt(GM_SUN * (1 + e) / q)
    y0 = np.array([q, 0.0, 0.0, 0.0, 0.8 * vq, 0.6 * vq])
    T = 60.0
    x0 = np.zeros((1, 10, 3))
    v0 = np.zeros((1, 10, 3))
    x0[0, 0], v0[0, 0] = y0[:3], y0[3:]
    for k in range(3):
        x0[0, 1 + k, k] = 1.0
        v0[0, 4 + k, k] = 1.0
    forcing = np.array([ias15.NO_FORCING] * 7 + [0, 1, 2])
    x_end, v_end = np.zeros((1, 10, 3)), np.zeros((1, 10, 3))
    info = np.zeros((1, 4), dtype=np.int64)
    ias15.integrate(2451545.0, 0.0, x0, v0, np.array([T]), T + 400.0, np.zeros(0), F.F_SUN,
                    gm, 11, np.zeros((1, 3)), np.zeros(F.N_CONSTS), tabs, 1e-12, 1.0, 100000,
                    forcing, np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0),
                    np.zeros((1, 0, 10, 3)),
                    np.zeros((1, 0, 10, 3)), x_end, v_end, np.zeros((1, 1, ias15.EV_COLS)),
                    np.zeros((1, 0, 10, 6)), info)
    assert info[0, 0] == ias15.ST_OK
    stm = np.concatenate([x_end[0, 1:7].T, v_end[0, 1:7].T])

    def flow(y):
        r, v, status = kepler_rv(y[:3], y[3:], T, GM_SUN)
        assert status == 0
        return np.concatenate([r, v])

    fd = _richardson(flow, y0, np.array([1e-6] * 3 + [1e-7] * 3))
    assert np.abs(stm - fd).max() < 1e-8 * np.abs(fd).max(), np.abs(stm - fd).max()
    assert abs(np.linalg.det(stm) - 1.0) < 1e-11
    J = np.block([[np.zeros((3, 3)), np.eye(3)], [-np.eye(3), np.zeros((3, 3))]])
    assert np.abs(stm.T @ J @ stm - J).max() < 1e-11 * np.abs(stm).max() ** 2


def test_conservative_flow_is_symplectic_through_flyby(start_2029, planets_only):
    """Point masses and zonal harmonics derive from a potential: det(Phi) = 1 and
    Phi^T J Phi = J at every output time through the flyby (relative to |Phi|^2, up to
    4e11 by 2030: measured <= 1e-13)."""
    s0, _ = start_2029
    st = state_transition_grid(s0, FLYBY_GRID, forces=CONSERVATIVE, ephemeris=planets_only)
    J = np.block([[np.zeros((3, 3)), np.eye(3)], [-np.eye(3), np.zeros((3, 3))]])
    for k in range(len(FLYBY_GRID)):
        phi = st.stm[k]
        resid = np.abs(phi.T @ J @ phi - J).max() / np.abs(phi).max() ** 2
        assert resid < 1e-12, f"{FLYBY_GRID[k].iso}: {resid:.1e}"
        # det via the symplectic structure: log|det| = 0 within the conditioning.
        assert abs(np.linalg.slogdet(phi)[1]) < 1e-6


def test_full_model_is_not_volume_preserving(start_2029, planets_only):
    """With relativity and the Marsden forces the flow is not Hamiltonian in (r, v):
    det(Phi) departs from 1 by a measurable amount (a test that the velocity partials
    are really integrated)."""
    s0, ng = start_2029
    st = state_transition(s0, Time("2029-03-01", scale="tdb"), nongrav=ng * 1e4,
                          ephemeris=planets_only)
    assert abs(np.linalg.det(st.stm) - 1.0) > 1e-9


def test_composition_through_flyby(start_2029, planets_only):
    """Phi(t2, t0) = Phi(t2, t1) Phi(t1, t0) and P(t2, t0) = Phi(t2, t1) P(t1, t0) + P(t2, t1)
    with t1 just before the flyby and t2 a year later, to 1e-7 relative (restarting at t1
    changes the step sequence, the difference is the integration error)."""
    s0, ng = start_2029
    t1 = Time("2029-04-13 12:00", scale="tdb")
    t2 = Time("2030-01-01", scale="tdb")
    a = state_transition(s0, t1, nongrav=ng, ephemeris=planets_only)
    b = state_transition(a.state, t2, nongrav=ng, ephemeris=planets_only)
    c = state_transition(s0, t2, nongrav=ng, ephemeris=planets_only)
    phi = b.stm @ a.stm
    assert (np.abs(phi - c.stm).max(axis=0) / np.abs(c.stm).max(axis=0)).max() < 1e-7
    par = b.stm @ a.nongrav_partials + b.nongrav_partials
    assert (np.abs(par - c.nongrav_partials).max(axis=0)
            / np.abs(c.nongrav_partials).max(axis=0)).max() < 1e-7


def test_state_is_bit_identical_to_propagate_nbody(start_2029, planets_only):
    """The variational rows never steer the steps: .state equals propagate_nbody, and the
    grid variant equals the single-time one at the same time."""
    s0, ng = start_2029
    t = Time("2029-04-14", scale="tdb")
    st = state_transition(s0, t, nongrav=ng, ephemeris=planets_only)
    p = propagate_nbody(s0, t, nongrav=ng, ephemeris=planets_only)
    np.testing.assert_array_equal(st.state.r_au, p.r_au)
    np.testing.assert_array_equal(st.state.v_au_d, p.v_au_d)
    g = state_transition_grid(s0, Time(["2029-03-01", "2029-04-14"], scale="tdb"), nongrav=ng,
                              ephemeris=planets_only)
    np.testing.assert_array_equal(g.stm[1], st.stm)
    np.testing.assert_array_equal(g.nongrav_partials[1], st.nongrav_partials)
    assert isinstance(st, StateTransition) and "StateTransition" in repr(st)
    assert len(repr(st)) < 200


def test_frames_batches_and_backwards(start_2029, planets_only):
    """An ecliptic input gets its STM in ecliptic axes (= M^T Phi_icrf M); a batch of two
    states gives each one's own STM; integrating backwards inverts the forward STM."""
    s0, ng = start_2029
    t = Time("2029-03-01", scale="tdb")
    icrf = state_transition(s0, t, nongrav=ng, ephemeris=planets_only)
    ecl = state_transition(s0.to_frame("ecliptic"), t, nongrav=ng, ephemeris=planets_only)
    from apophis_sim._core.frames import ICRF_FROM_ECL
    m = np.zeros((6, 6))
    m[:3, :3] = m[3:, 3:] = ICRF_FROM_ECL
    np.testing.assert_allclose(ecl.stm, m.T @ icrf.stm @ m, rtol=0, atol=1e-9)
    np.testing.assert_allclose(ecl.nongrav_partials, m.T @ icrf.nongrav_partials, rtol=0,
                               atol=1e-9 * np.abs(icrf.nongrav_partials).max())
    assert ecl.state.frame == "ecliptic"
    two = State(np.stack([s0.r_au, s0.r_au * 1.01]) * u.au,
                np.stack([s0.v_au_d, s0.v_au_d]) * u.au / u.day, s0.epoch)
    b = state_transition(two, t, nongrav=ng, ephemeris=planets_only)
    assert b.stm.shape == (2, 6, 6) and b.nongrav_partials.shape == (2, 6, 3)
    np.testing.assert_array_equal(b.stm[0], icrf.stm)
    back = state_transition(icrf.state, s0.epoch, nongrav=ng, ephemeris=planets_only)
    np.testing.assert_allclose(back.stm @ icrf.stm, np.eye(6), atol=1e-9)


def test_bad_input(start_2029, planets_only):
    s0, _ = start_2029
    with pytest.raises(ShapeMismatchError):
        state_transition(s0, Time(["2029-02-01", "2029-03-01"], scale="tdb"))
    for eps in (0.0, -1.0, float("nan"), "abc"):
        with pytest.raises(InputError, match="epsilon"):
            state_transition(s0, Time("2029-02-01", scale="tdb"), epsilon=eps)
    with pytest.raises(InputError, match="max_steps"):
        state_transition(s0, Time("2029-02-01", scale="tdb"), max_steps="abc")
    with pytest.raises(InputError, match="state"):
        state_transition(s0.r, Time("2029-02-01", scale="tdb"))
