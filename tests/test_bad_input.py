"""Bad input at the public boundary (issue 13, causes 1-5).

Every public function touched here must answer adversarial input with either an
:mod:`apophis_sim.errors` exception whose message names the offending argument, or a
finite result that passes a physical check (energy and angular momentum conserved,
elements that reproduce the state, magnitudes that are finite numbers). Never a raw
exception, a NaN, or a hang. The hypothesis tests are seeded (``derandomize=True``).
"""

from __future__ import annotations

import re
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import apophis_sim
from apophis_sim import Elements, State, errors, orbit_class, propagate, propagate_grid
from apophis_sim import encounter, visibility
from apophis_sim.state import centre_gm
from apophis_sim.time import to_jd_tdb
from apophis_sim.uncertainty.encounter import bplane_coordinates

T0 = Time("2029-01-01", scale="tdb")
NAN_T = T0 + np.nan * u.day
K = 0.01720209895  # circular speed at 1 au [au/day]
MU_SUN = centre_gm("sun")
MU_EARTH_KM3_S2 = 398600.435436

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

SEEDED = settings(max_examples=300, derandomize=True, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow])


def state(r=(1.0, 0.0, 0.0), v=(0.0, K, 0.0), t=T0, centre="sun") -> State:
    return State(np.asarray(r, dtype=float) * u.au, np.asarray(v, dtype=float) * u.au / u.day,
                 t, centre=centre)


def shifted(dt: float) -> Time | None:
    """T0 + dt days built the way a user would; None where astropy itself refuses
    (it cannot hold an infinite JD; its own arithmetic warns on the way)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            return T0 + dt * u.day
        except (TypeError, ValueError):
            return None


def names_argument(exc: BaseException, *names: str) -> bool:
    msg = str(exc)
    return any(re.search(rf"\b{re.escape(n)}\b", msg) for n in names)


def typed_or_result(fn, *names: str):
    """Call ``fn``; return its result, or None after checking that an exception is an
    apophis_sim.errors type whose message names one of ``names``."""
    try:
        return fn()
    except errors.ApophisSimError as exc:
        assert names_argument(exc, *names), f"{type(exc).__name__} does not name {names}: {exc}"
        return None


# --------------------------------------------------------------------------- strategies
special = st.sampled_from([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-300, 1e300, -1.0, 1.0])
coord = st.one_of(st.floats(-5.0, 5.0, allow_nan=False), special)
vcoord = st.one_of(st.floats(-0.05, 0.05, allow_nan=False), special)
vec3 = st.tuples(coord, coord, coord)
vvec3 = st.tuples(vcoord, vcoord, vcoord)
dt_days = st.one_of(st.floats(-400.0, 400.0, allow_nan=False), special)


def energy_h(r: np.ndarray, v: np.ndarray, mu: float) -> tuple[np.ndarray, np.ndarray]:
    rn = np.linalg.norm(r, axis=-1)
    return 0.5 * np.sum(v * v, axis=-1) - mu / rn, np.cross(r, v)


# --------------------------------------------------------------------------- properties
@SEEDED
@given(r=vec3, v=vvec3, dt=dt_days)
def test_propagate_typed_or_conserves(r, v, dt):
    s = typed_or_result(lambda: state(r, v), "r", "v")
    if s is None:
        return
    target = shifted(dt)
    if target is None:
        return
    out = typed_or_result(lambda: propagate(s, target), "to", "state", "dt")
    if out is None:
        return
    assert np.all(np.isfinite(out.r_au)) and np.all(np.isfinite(out.v_au_d))
    e0, h0 = energy_h(s.r_au, s.v_au_d, MU_SUN)
    e1, h1 = energy_h(out.r_au, out.v_au_d, MU_SUN)
    scale = abs(e0) + MU_SUN / np.linalg.norm(s.r_au) + 0.5 * np.sum(s.v_au_d ** 2)
    assert abs(e1 - e0) <= 1e-8 * scale
    h_scale = max(np.linalg.norm(s.r_au) * np.linalg.norm(s.v_au_d),
                  np.linalg.norm(out.r_au) * np.linalg.norm(out.v_au_d))
    assert np.linalg.norm(h1 - h0) <= 1e-8 * h_scale + 1e-300


@SEEDED
@given(r=vec3, v=vvec3)
def test_to_elements_typed_or_round_trip(r, v):
    s = typed_or_result(lambda: state(r, v), "r", "v")
    if s is None:
        return
    el = typed_or_result(s.to_elements, "state", "gm")
    if el is None:
        return
    q, e = float(el.q.to_value(u.au)), float(el.e)
    assert np.isfinite(q) and q > 0 and np.isfinite(e) and e >= 0
    assert 0 <= float(el.inc.to_value(u.deg)) <= 180
    back = typed_or_result(el.to_state, "elements", "epoch", "tp")
    if back is None:
        return
    assert np.allclose(back.r_au, s.r_au, rtol=1e-6, atol=1e-9 * np.linalg.norm(s.r_au))


@SEEDED
@given(H=st.one_of(st.floats(-5, 35), special), G=st.one_of(st.floats(-1, 2), special),
       phase=st.one_of(st.floats(0, 180), st.sampled_from([179.9999, 179.99999999, 180.0])),
       r=st.one_of(st.floats(0.01, 10), special), d=st.one_of(st.floats(1e-6, 10), special))
def test_hg_magnitude_typed_or_finite(H, G, phase, r, d):
    m = typed_or_result(lambda: visibility.hg_magnitude(H, G, r * u.au, d * u.au, phase * u.deg),
                        "H", "G", "r", "delta", "phase")
    if m is not None:
        assert np.isfinite(m)
        # Brighter than the absolute magnitude only when closer than 1 au x 1 au.
        if r * d >= 1:
            assert m >= H - 1e-9


@SEEDED
@given(a=st.one_of(st.floats(-5, 5), special), e=st.one_of(st.floats(0, 3), special))
def test_orbit_class_typed_or_valid(a, e):
    c = typed_or_result(lambda: orbit_class(a * u.au, e), "a", "e", "orbit_class")
    if c is not None:
        assert str(c) in {"Atira", "Aten", "Apollo", "Amor", "hyperbolic", "other"}
        if str(c) in {"Atira", "Aten", "Apollo", "Amor"}:
            assert a > 0 and e < 1


@SEEDED
@given(r=vec3, v=vvec3, ve=vvec3, gm=st.one_of(st.floats(-1e6, 1e6), special))
def test_bplane_coordinates_typed_or_finite(r, v, ve, gm):
    # km and km/s: scale the strategies up to flyby sizes
    rk = np.array(r) * 1e4
    vk = np.array(v) * 400.0
    vek = np.array(ve) * 600.0
    bp = typed_or_result(lambda: bplane_coordinates(rk, vk, gm, vek), "gm_km3_s2", "r_rel_km",
                         "v_rel_km_s", "earth_velocity_km_s")
    if bp is not None:
        assert np.isfinite(bp.xi_km) and np.isfinite(bp.zeta_km) and np.isfinite(bp.b_km)
        assert np.hypot(bp.xi_km, bp.zeta_km) == pytest.approx(bp.b_km, rel=1e-9, abs=1e-9)


@SEEDED
@given(r=vec3, v=vvec3, vb=vvec3)
def test_encounter_bplane_typed_or_finite(r, v, vb):
    bp = typed_or_result(lambda: encounter.bplane(np.array(r) * 1e4 * u.km,
                                                  np.array(v) * 400.0 * u.km / u.s,
                                                  np.array(vb) * 600.0 * u.km / u.s),
                         "r_rel", "v_rel", "body_velocity")
    if bp is not None:
        b = bp.b.to_value(u.km)
        assert np.isfinite(b) and np.isfinite(bp.xi.to_value(u.km))
        assert np.hypot(bp.xi.to_value(u.km), bp.zeta.to_value(u.km)) == pytest.approx(b, rel=1e-9)
        assert np.hypot(bp.b_dot_t.to_value(u.km), bp.b_dot_r.to_value(u.km)) == pytest.approx(
            b, rel=1e-9)


@SEEDED
@given(jd=st.one_of(st.floats(2.4e6, 2.5e6), special), scale=st.sampled_from(["tdb", "tt", "utc"]))
def test_time_boundary_typed_or_finite(jd, scale):
    try:
        t = Time(jd, format="jd", scale=scale)
    except Exception:  # noqa: BLE001 - astropy refusing to build the Time is not ours
        return
    out = typed_or_result(lambda: to_jd_tdb(t, "when"), "when")
    if out is not None:
        assert np.isfinite(out[0]) and np.isfinite(out[1])


# --------------------------------------------------------------------------- cause 1: times
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_target_time(bad):
    with pytest.raises(errors.NonFiniteInputError, match=r"\bto\b"):
        propagate(state(), T0 + bad * u.day)


def test_nan_epoch():
    with pytest.raises(errors.NonFiniteInputError, match=r"\bepoch\b"):
        state(t=NAN_T)


def test_nan_grid_time():
    with pytest.raises(errors.NonFiniteInputError, match=r"\btimes\b"):
        propagate_grid(state(), T0 + [1.0, np.nan] * u.day)


def test_masked_time():
    t = Time([2462137.5, 2462138.5], format="jd", scale="tdb")
    t[1] = np.ma.masked
    with pytest.raises(errors.NonFiniteInputError, match=r"\bto\b.*masked"):
        propagate(state(), t)


def test_close_approaches_nan_until():
    with pytest.raises(errors.NonFiniteInputError, match=r"\buntil\b"):
        apophis_sim.close_approaches(apophis_sim.apophis(), NAN_T)


def test_complex_quantity():
    with pytest.raises(errors.PhysicalTypeError, match=r"\br\b.*complex"):
        State(np.array([1 + 1j, 0, 0]) * u.au, [0, K, 0] * u.au / u.day, T0)


# --------------------------------------------------------------------------- cause 2: kernels
def test_body_at_rest_falls_radially():
    out = propagate(state(v=(0, 0, 0)), T0 + 10 * u.day)
    # Free fall from rest at r0 = 1 au: t = sqrt(r0^3 / 2 mu) (sqrt(x (1 - x)) + arccos sqrt(x)).
    x = float(out.r_au[0])
    t = np.sqrt(1 / (2 * MU_SUN)) * (np.sqrt(x * (1 - x)) + np.arccos(np.sqrt(x)))
    assert t == pytest.approx(10.0, rel=1e-9)
    assert np.allclose(out.r_au[1:], 0) and np.allclose(out.v_au_d[1:], 0)


def test_r_zero_two_body_is_typed():
    with pytest.raises(errors.ConvergenceError, match="degenerate"):
        propagate(state(r=(0, 0, 0)), T0 + 10 * u.day)


def test_max_steps_string_is_typed():
    with pytest.raises(errors.InputError, match="max_steps"):
        apophis_sim.propagate_nbody(state(), T0 + 10 * u.day, max_steps="abc")


def test_nbody_no_forces_is_typed_or_finite():
    out = typed_or_result(lambda: apophis_sim.propagate_nbody(state(), T0 + 10 * u.day, forces=[]),
                          "forces")
    assert out is None or np.all(np.isfinite(out.r_au))


def test_nbody_r_zero_is_typed():
    with pytest.raises(errors.ApophisSimError):
        apophis_sim.propagate_nbody(state(r=(0, 0, 0)), T0 + 10 * u.day)


# --------------------------------------------------------------------------- cause 3: geometry
@pytest.mark.parametrize("r, v", [((1, 0, 0), (0, 0, 0)),          # v = 0
                                  ((1, 0, 0), (0.01, 0, 0)),       # v parallel to r, bound
                                  ((1, 0, 0), (0.05, 0, 0))])      # radial hyperbola, h = 0
def test_to_elements_radial_is_typed(r, v):
    with pytest.raises(errors.OrbitTypeError, match=r"\bstate\b.*radial"):
        state(r, v).to_elements()


def test_to_elements_r_zero_is_typed():
    with pytest.raises(errors.InputError, match=r"\bstate\b.*r = 0"):
        state(r=(0, 0, 0)).to_elements()
    with pytest.raises(errors.InputError, match=r"\bstate\b"):
        Elements.from_state(state(r=(0, 0, 0)))


def test_to_elements_nonfinite_internal_state_is_typed():
    s = State.from_arrays(np.array([np.nan, 1, 0]), np.array([0, K, 0]), 2462137.5, 0.0)
    with pytest.raises(errors.NonFiniteInputError, match=r"state\.r"):
        s.to_elements()


R_REL = [7000.0, 0, 0] * u.km
V_REL = [0, 12.0, 0] * u.km / u.s


def test_bplane_zero_body_velocity():
    with pytest.raises(errors.InputError, match="body_velocity"):
        encounter.bplane(R_REL, V_REL, [0, 0, 0] * u.km / u.s)


def test_bplane_body_velocity_along_asymptote():
    s = encounter.hyperbola(R_REL, V_REL).asymptote_in
    with pytest.raises(errors.InputError, match="body_velocity"):
        encounter.bplane(R_REL, V_REL, 30 * s * u.km / u.s)


def test_bplane_radial_course_and_centre():
    with pytest.raises(errors.OrbitTypeError, match="r_rel"):
        encounter.bplane(R_REL, [12.0, 0, 0] * u.km / u.s, [0, 30, 0] * u.km / u.s)
    with pytest.raises(errors.InputError, match="r_rel"):
        encounter.bplane([0, 0, 0] * u.km, V_REL, [0, 30, 0] * u.km / u.s)


@pytest.mark.parametrize("gm", [0.0, -1.0, np.nan, "earth"])
def test_bplane_coordinates_bad_gm(gm):
    with pytest.raises(errors.InputError, match="gm_km3_s2"):
        bplane_coordinates(np.array([7000.0, 0, 0]), np.array([0, 12.0, 0]), gm,
                           np.array([0, 30.0, 0]))


def test_bplane_coordinates_zero_earth_velocity():
    with pytest.raises(errors.InputError, match="earth_velocity_km_s"):
        bplane_coordinates(np.array([7000.0, 0, 0]), np.array([0, 12.0, 0]), MU_EARTH_KM3_S2,
                           np.zeros(3))


# --------------------------------------------------------------------------- cause 4: scalars
@pytest.mark.parametrize("H, G, name", [(np.nan, 0.24, "H"), (19.0, np.nan, "G"), (19.0, 5.0, "G"),
                                        (19.0, -1.0, "G"), ("19", 0.24, "H")])
def test_hg_bad_scalars(H, G, name):
    with pytest.raises(errors.InputError, match=rf"\b{name}\b"):
        visibility.hg_magnitude(H, G, 1 * u.au, 1 * u.au, 10 * u.deg)


@pytest.mark.parametrize("phase", [179.9999, 179.99999999, 180.0])
def test_hg_phase_near_180(phase):
    try:
        m = visibility.hg_magnitude(19.09, 0.24, 1 * u.au, 1 * u.au, phase * u.deg)
    except errors.InputError as exc:
        assert "phase" in str(exc)
    else:
        assert np.isfinite(m)


def test_bright_intervals_nan_limit():
    vis = visibility.Visibility(T0 + [0, 1] * u.day, np.array([10.0, 11.0]), *([None] * 10))
    with pytest.raises(errors.NonFiniteInputError, match="limit"):
        visibility.bright_intervals(vis, np.nan)
    assert len(visibility.bright_intervals(vis, 10.5)) == 1


def test_orbit_class_hyperbola_and_mismatch():
    assert orbit_class(-1 * u.au, 1.5) == "hyperbolic"
    with pytest.raises(errors.OrbitTypeError, match=r"\ba and e\b"):
        orbit_class(1 * u.au, 1.5)
    with pytest.raises(errors.OrbitTypeError):
        orbit_class(-1 * u.au, 0.5)
    with pytest.raises(errors.NonFiniteInputError, match=r"\be\b"):
        orbit_class(1 * u.au, np.nan)
    with pytest.raises(errors.InputError, match=r"\be\b"):
        orbit_class(1 * u.au, -0.1)
    assert orbit_class(0.922 * u.au, 0.191) == "Aten"


def test_parabola_mean_motion():
    el = Elements(1 * u.au, 1.0, 10 * u.deg, 0 * u.deg, 0 * u.deg, T0, T0)
    with pytest.raises(errors.OrbitTypeError, match="parabola"):
        el.mean_motion
    with pytest.raises(errors.OrbitTypeError, match="parabola"):
        el.M


# --------------------------------------------------------------------------- cause 5: types
@pytest.mark.parametrize("fn", [propagate, propagate_grid])
@pytest.mark.parametrize("obj, hint", [("elements", "to_state"), ("solution", "solution.state"),
                                       (None, "State")])
def test_propagate_wrong_type(fn, obj, hint):
    if obj == "elements":
        obj = state().to_elements()
    elif obj == "solution":
        obj = apophis_sim.apophis()
    with pytest.raises(errors.InputTypeError, match=r"\bstate\b") as info:
        fn(obj, T0 + 1 * u.day)
    assert hint in str(info.value)
    assert isinstance(info.value, TypeError)


def test_repr_empty_state():
    for epoch in (T0, T0 + np.zeros(0) * u.day):
        s = State(np.zeros((0, 3)) * u.au, np.zeros((0, 3)) * u.au / u.day, epoch)
        assert "shape=(0,)" in repr(s)


def test_bad_gm_shape_names_gm():
    s = state(r=np.ones((3, 3)), v=np.tile([0, K, 0], (3, 1)))
    for fn in (propagate, propagate_grid):
        with pytest.raises(errors.ShapeMismatchError, match=r"^gm\b"):
            fn(s, T0 + 1 * u.day, gm=[1, 2] * u.au**3 / u.day**2)


def test_close_approaches_single_body_string():
    t = apophis_sim.close_approaches(apophis_sim.apophis(), Time("2029-04-20", scale="tdb"),
                                     bodies="earth", max_distance=0.002 * u.au)
    assert set(t["body"]) == {"earth"}


def test_encounter_statistics_typed():
    from apophis_sim.uncertainty import encounter_statistics

    good = {"distance_km": [1.0, 2.0], "time_tdb_jd": [2462240.0, 2462240.1],
            "xi_km": [0.0, 1.0], "zeta_km": [0.0, 1.0]}
    assert encounter_statistics(good).n_clones == 2
    with pytest.raises(errors.InputError, match="distance_km"):
        encounter_statistics({k: v for k, v in good.items() if k != "distance_km"})
    with pytest.raises(errors.NonFiniteInputError, match="distance_km"):
        encounter_statistics({**good, "distance_km": [1.0, float("nan")]})
