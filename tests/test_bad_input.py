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
from apophis_sim.time import UTCAssumptionWarning, to_jd_tdb
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
    with warnings.catch_warnings():  # UTC past the last leap second is noted, by design
        warnings.simplefilter("ignore", UTCAssumptionWarning)
        out = typed_or_result(lambda: to_jd_tdb(t, "when"), "when")
    if out is not None:
        assert np.isfinite(out[0]) and np.isfinite(out[1])


# --------------------------------------------------------------------------- cause 1: times
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_target_time(bad):
    with pytest.raises(errors.NonFiniteInputError, match=r"\bto\b"):
        propagate(state(), shifted(bad))


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
                                     bodies="earth", distance_max=0.002 * u.au)
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


# --------------------------------------------------------------------------- cause 6: limits
def time_bound(seconds: float):
    """Fail the test when its body has not finished after ``seconds`` (a hang guard, not
    a performance assert)."""
    import functools
    import threading

    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            box: dict = {}

            def target():
                try:
                    fn(*args, **kwargs)
                except BaseException as exc:  # noqa: BLE001 - re-raised below
                    box["exc"] = exc

            t = threading.Thread(target=target, daemon=True, name=fn.__name__)
            t.start()
            t.join(seconds)
            if t.is_alive():
                pytest.fail(f"{fn.__name__} did not finish within {seconds} s")
            if "exc" in box:
                raise box["exc"]

        return wrapper

    return deco


def _peak_mib(fn) -> float:
    """Run ``fn`` (expected to raise an apophis_sim error) and return the peak of the
    Python allocations it made [MiB]."""
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return peak


@pytest.fixture
def no_integration(monkeypatch):
    """Fail if an n-body integration starts: limits are checked before computing."""
    import apophis_sim.nbody as nb

    def refuse(*a, **k):
        raise AssertionError("integrated before validating the arguments")

    for name in ("close_approaches", "propagate_nbody_grid"):
        monkeypatch.setattr(nb, name, refuse)


@time_bound(60)
@pytest.mark.parametrize("step, window, exc, words", [
    (0 * u.min, 1 * u.day, errors.InputError, ("step", "positive")),
    (-5 * u.min, 1 * u.day, errors.InputError, ("step", "positive")),
    (np.nan * u.min, 1 * u.day, errors.NonFiniteInputError, ("step",)),
    (5.0, 1 * u.day, errors.PhysicalTypeError, ("step",)),
    ([5, 6] * u.min, 1 * u.day, errors.InputError, ("step", "scalar")),
    (5 * u.min, -1 * u.day, errors.InputError, ("window", "positive")),
    (1e-9 * u.day, 1 * u.day, errors.TooManyRowsError, ("step", "2,000,000,001", "200,000")),
    (1 * u.s, 10 * u.day, errors.TooManyRowsError, ("step", "larger step")),
])
def test_analyse_flyby_refuses_bad_steps_before_integrating(no_integration, step, window,
                                                           exc, words):
    from apophis_sim import apophis

    box = {}

    def call():
        with pytest.raises(exc) as info:
            encounter.analyse_flyby(apophis(), Time("2029-04-20", scale="tdb"),
                                    step=step, window=window)
        box["msg"] = str(info.value)

    assert _peak_mib(call) < 64  # refused from the size estimate, nothing allocated
    assert all(w in box["msg"] for w in words), box["msg"]


def test_analyse_flyby_track_size_accepts_the_limit():
    # The largest accepted track is exactly the limit; one more sample is refused.
    half, n = encounter._track_size(1 * u.day, (2.0 / (encounter.MAX_TRACK_POINTS - 1)) * u.day)
    assert (half, n) == (1.0, encounter.MAX_TRACK_POINTS)
    with pytest.raises(errors.TooManyRowsError):
        encounter._track_size(1 * u.day, (2.0 / encounter.MAX_TRACK_POINTS) * u.day)


def _circular_target():
    # A heliocentric target on a 1.3 au circular orbit, two-body propagated: no n-body.
    a = 1.3
    return State([a, 0.0, 0.0] * u.au, [0.0, K / np.sqrt(a), 0.0] * u.au / u.day, T0)


def _grid(n_dep=30, n_arr=30, span=900.0):
    dep = T0 + np.linspace(0.0, 300.0, n_dep) * u.day
    arr = T0 + np.linspace(60.0, span, n_arr) * u.day
    return dep, arr


@time_bound(120)
@pytest.mark.parametrize("bad", [101, 100_000, -1, 1.5, "3", None, True, np.nan])
def test_porkchop_and_lambert_refuse_absurd_revolutions(bad):
    from apophis_sim import rendezvous

    dep, arr = _grid(3, 3)
    with pytest.raises(errors.InputError, match=r"\bmax_revs\b"):
        rendezvous.porkchop(dep, arr, "earth", _circular_target(), max_revs=bad)
    with pytest.raises(errors.InputError, match=r"\brevs\b"):
        rendezvous.lambert([1, 0, 0] * u.au, [0, 1, 0] * u.au, 400 * u.day, revs=bad)


@time_bound(300)
def test_porkchop_multirev_search_stops_where_no_arc_exists(monkeypatch):
    from apophis_sim import rendezvous

    dep, arr = _grid()
    target = _circular_target()
    real = rendezvous._transfer_grid
    calls: list[int] = []

    def counting(*args):
        calls.append(args[6])  # revs
        return real(*args)

    monkeypatch.setattr(rendezvous, "_transfer_grid", counting)
    pc = rendezvous.porkchop(dep, arr, "earth", target, max_revs=rendezvous.MAX_REVS)
    top = max(calls)
    # Multi-revolution arcs exist on this grid (tof up to 900 d, periods ~260 d) ...
    assert top >= 2 and pc.revs.max() >= 1
    # ... the search stopped long before MAX_REVS, at the bound of _max_useful_revs ...
    r1, r2 = pc.r_departure.to_value(u.au), pc.r_arrival.to_value(u.au)
    tof = pc.tof.to_value(u.day)
    mu = float(pc.gm.to_value(u.au**3 / u.day**2))
    assert top == rendezvous._max_useful_revs(r1, r2, tof, mu) < rendezvous.MAX_REVS
    # ... the bound is safe: no cell has an arc of one revolution more ...
    i, j = np.nonzero(tof > 0)
    more = rendezvous.lambert(r1[i] * u.au, r2[j] * u.au, tof[i, j] * u.day, revs=top + 1,
                              on_failure="mask")
    assert np.all(more.status != 0), "an arc exists beyond the search's revolution bound"
    # ... and asking for exactly the useful count gives the same porkchop.
    same = rendezvous.porkchop(dep, arr, "earth", target, max_revs=top)
    np.testing.assert_array_equal(same.total_dv.value, pc.total_dv.value)
    np.testing.assert_array_equal(same.revs, pc.revs)


@time_bound(60)
def test_porkchop_refuses_huge_grids_before_any_ephemeris(monkeypatch):
    from apophis_sim import rendezvous

    def refuse(*a, **k):
        raise AssertionError("computed before checking the grid size")

    monkeypatch.setattr(rendezvous, "_end_posvel", refuse)
    dep = T0 + np.arange(3000) * 0.1 * u.day
    with pytest.raises(errors.TooManyRowsError, match=r"departure_times x arrival_times.*9,000,000"):
        rendezvous.porkchop(dep, dep, "earth", _circular_target())


@time_bound(60)
def test_utc_dates_size_is_estimated_before_allocating():
    from apophis_sim.time import utc_dates

    def call():
        with pytest.raises(errors.TooManyRowsError, match=r"\bstep\b.*dates.*10,000,000"):
            utc_dates("2000-01-01", "2100-01-01", 1e-6 * u.s)

    assert _peak_mib(call) < 64
    with pytest.raises(errors.PhysicalTypeError, match=r"\bstep\b"):
        utc_dates("2000-01-01", "2001-01-01", 5)
    with pytest.raises(errors.NonFiniteInputError, match=r"\bstart\b"):
        utc_dates(NAN_T, "2030-01-01")
    assert len(utc_dates("2020-01-01", "2020-01-31")) == 31  # valid input unchanged


@time_bound(120)
def test_counts_are_bounded():
    import apophis_sim
    from apophis_sim import tables
    from apophis_sim.uncertainty import run_monte_carlo

    sol = apophis_sim.apophis()
    with pytest.raises(errors.InputError, match=r"\bn_grid\b.*4,096"):
        apophis_sim.moid(sol, n_grid=10**7)
    with pytest.raises(errors.InputError, match=r"\bmax_rows\b"):
        tables.observer(sol, T0, "500", max_rows=-1)
    with pytest.raises(errors.InputError, match=r"\bn_workers\b"):
        run_monte_carlo(2, 1, n_workers=10**6, progress=False)
    with pytest.raises(errors.InputError, match=r"\bnumba_threads\b"):
        run_monte_carlo(2, 1, numba_threads="x", scheduler="serial", progress=False)
    peak = _peak_mib(lambda: pytest.raises(errors.InputError, run_monte_carlo, 10**10, 1,
                                           chunk_size=1, scheduler="serial", progress=False))
    assert peak < 64


@pytest.mark.parametrize("fn, words", [
    (lambda: state(r=(1e300, 0.0, 0.0)), ("r", "1e+50")),
    (lambda: state(v=(0.0, 1e60, 0.0)), ("v", "1e+50")),
    (lambda: bplane_coordinates([1e300, 0, 0], [0, 10, 0], MU_EARTH_KM3_S2, [0, 30, 0]),
     ("r_rel_km",)),
    (lambda: encounter.bplane([1e-300, 1e-300, 0] * u.km, [0, 1e40, 1e40] * u.km / u.s,
                              [0, 30, 0] * u.km / u.s), ("r_rel",)),
])
def test_absurd_magnitudes_are_typed_without_warnings(fn, words):
    with pytest.raises(errors.ApophisSimError) as info:
        fn()
    assert all(names_argument(info.value, w) or w in str(info.value) for w in words), info.value


# --------------------------------------------------------------------------- cause 9: UT1
_OFFLINE_UT1 = r"""
import os, socket, sys, urllib.request, warnings
def refuse(*a, **k):
    raise AssertionError("the network was touched")
socket.socket.connect = refuse
socket.create_connection = refuse
urllib.request.urlopen = refuse
import numpy as np, astropy.units as u
from astropy.time import Time
import apophis_sim
from apophis_sim import State, errors, propagate, tables
from apophis_sim.time import UTCAssumptionWarning, to_jd_tdb
from apophis_sim.visibility import EarthOrientationWarning

def offset_s(t):  # TDB - UT1 [s] of one UT1 Time
    jd1, jd2 = to_jd_tdb(t, "t")
    return float(((jd1 - t.jd1) + (jd2 - t.jd2)) * 86400.0)

with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    inside = offset_s(Time("2020-01-10", scale="ut1"))       # tabulated (IERS-B)
assert not [x for x in w if issubclass(x.category, EarthOrientationWarning)], w
# TDB - UT1 = (TT - UTC) - (UT1 - UTC) + (TDB - TT), |UT1 - UTC| < 0.9 s, |TDB - TT| < 2 ms
assert abs(inside - 69.184) < 0.9, inside
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    beyond = offset_s(Time("2029-04-13", scale="ut1"))       # past the tables: held
assert abs(beyond - 69.184) < 0.9, beyond
assert [x for x in w if issubclass(x.category, EarthOrientationWarning)], [str(x.message) for x in w]
try:
    to_jd_tdb(Time("1900-01-01", scale="ut1"), "when")
except errors.InputError as exc:
    assert "when" in str(exc) and "scale='tt'" in str(exc), exc
else:
    raise AssertionError("UT1 before 1962 accepted")
t_ut1 = Time("2029-04-13 21:00", scale="ut1")
warnings.simplefilter("ignore")
s = State([1, 0, 0] * u.au, [0, 0.0172, 0] * u.au / u.day, t_ut1)
assert abs((s.epoch.tdb - Time("2029-04-13 21:01:09.2", scale="tdb")).to_value(u.s)) < 1
out = propagate(s, t_ut1 + 1 * u.day)
assert np.all(np.isfinite(out.r_au))
sol = apophis_sim.apophis()
tab = tables.observer(sol, Time(["2029-04-13 12:00", "2029-04-13 13:00"], scale="ut1"), "500",
                      uncertainty=False)
assert len(tab) == 2
apophis_sim.close_approaches(sol, Time(sol.orbit_epoch.tdb.jd + 5, format="jd", scale="ut1"))
print("OFFLINE-OK")
"""


@time_bound(300)
def test_ut1_times_never_touch_the_network_or_home(tmp_path):
    """A UT1 Time anywhere a time is accepted: astropy's bundled IERS tables only, no
    socket, nothing written under $HOME (~/.astropy, ~/.cache/astropy)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    home = tmp_path / "home"
    home.mkdir()
    src = str(Path(apophis_sim.__file__).resolve().parents[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env.update(HOME=str(home), PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # numba's cache lives beside the package, not under HOME; astropy's config and
    # cache dirs follow HOME.
    done = subprocess.run([sys.executable, "-c", _OFFLINE_UT1], capture_output=True, text=True,
                          env=env, timeout=280)
    assert done.returncode == 0 and "OFFLINE-OK" in done.stdout, done.stderr[-3000:]
    written = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
    assert written == [], f"files written under HOME: {written}"


# --------------------------------------------------------------------------- adversarial sweep
def _opik_args():
    return [np.array([1.0, 5.0, 2.0]), np.array([1.496e8, 0, 0]), np.array([0, 29.8, 0]),
            398600.4, 1.327e11]


def _porkchop_small():
    from apophis_sim import rendezvous

    return rendezvous.porkchop(T0 + np.arange(0, 30, 10) * u.day,
                               T0 + np.arange(100, 160, 20) * u.day, "earth",
                               _circular_target())


_COV = np.array([[4.0, 1.0], [1.0, 9.0]])
_OUTSIDE_DE440 = Time("3000-01-01", scale="tdb")


def _sweep_cases():
    import apophis_sim
    from apophis_sim import rendezvous, risk, tables

    sol = apophis_sim.apophis
    return [
        # plain-number helpers: wrong types, NaN, wrong shapes
        (lambda: tables.bplane_ellipse(np.nan), "cov_km2"),
        (lambda: tables.bplane_ellipse("x"), "cov_km2"),
        (lambda: tables.sigma_to_disc([100.0, 0.0], np.full((2, 2), np.nan), 6400.0), "cov_km2"),
        (lambda: tables.linear_impact_probability([100.0, 0.0], _COV, np.nan), "radius_km"),
        (lambda: tables.linear_impact_probability(np.nan, _COV, 6400.0), "mean_km"),
        (lambda: tables.linear_impact_probability([100.0, 0.0], _COV, [1.0, 2.0]), "radius_km"),
        (lambda: risk.impact_energy_mt("x", 12.6), "H"),
        (lambda: risk.impact_energy_mt(19.09, np.nan), "v_impact_km_s"),
        (lambda: risk.impact_energy_mt(19.09, 12.6, albedo=None), "albedo"),
        (lambda: risk.palermo_scale(np.nan, 1000.0, 50.0), "log10_ip"),
        (lambda: risk.palermo_scale(-5.0, 1000.0, np.inf), "years_to_impact"),
        (lambda: risk.rtn_basis(np.nan, np.array([0, K, 0])), "r_au"),
        (lambda: risk.rtn_basis(np.array([1.0, 0, 0]), np.array([2.0, 0, 0])), "r_au"),
        (lambda: risk.opik_encounter(np.nan, *_opik_args()[1:]), "v_inf_vec_km_s"),
        (lambda: risk.opik_encounter(*_opik_args()[:3], np.nan, 1.327e11), "gm_planet_km3_s2"),
        (lambda: risk.valsecchi_circle(risk.opik_encounter(*_opik_args()), 0, 6), "k"),
        (lambda: risk.valsecchi_circle(risk.opik_encounter(*_opik_args()), 7, 1.5), "h"),
        (lambda: risk.kinetic_impactor_dv([1, 2] * u.kg, [0, 6, 0] * u.km / u.s, 4e10 * u.kg),
         "spacecraft_mass"),
        # scalars where arrays were silently accepted or crashed
        (lambda: apophis_sim.close_approaches(sol(), T0, distance_max=[1, 2] * u.au),
         "distance_max"),
        (lambda: apophis_sim.close_approaches(sol(), T0, bodies=None), "bodies"),
        (lambda: encounter.capture_radius("earth", 5 * u.km / u.s, radius=[1, 2] * u.km),
         "radius"),
        (lambda: rendezvous.launch_windows(_porkchop_small(), c3_max=[1, 2] * u.km**2 / u.s**2),
         "c3_max"),
        (lambda: rendezvous.launch_windows(_porkchop_small(), arrive_by=T0 + [1, 2] * u.day),
         "arrive_by"),
        (lambda: rendezvous.launch_windows(None), "pc"),
        (lambda: visibility.bright_intervals(None, [1.0, 2.0]), "vis"),
        (lambda: risk.keyholes(sol(), window=[1, 2] * u.km), "window"),
        (lambda: risk.keyholes(sol(), window=1e30 * u.km), "window"),
        (lambda: risk.keyholes(sol(), max_k=np.nan), "max_k"),
        (lambda: risk.orbit_through(sol(), [1, 2] * u.km), "zeta"),
        (lambda: risk.orbit_through(sol(), 1000 * u.km, max_iterations="x"), "max_iterations"),
        (lambda: tables.to_json(None), "table"),
        (lambda: tables.write_csv(tables.observer(sol(), T0, uncertainty=False), "/proc/x.csv"),
         "path"),
        (lambda: Elements(q=0.9 * u.au, e="x", inc=3 * u.deg, raan=1 * u.deg, argp=1 * u.deg,
                          tp=T0, epoch=T0), "e"),
        (lambda: visibility.visibility(sol(), T0 + [0, 1] * u.hour, location="Paranal"),
         "location"),
        (lambda: visibility.visibility(sol(), T0 + np.zeros((2, 2)) * u.hour), "times"),
        # names of arguments in messages
        (lambda: apophis_sim.moid(state(), "bogus"), "other"),
        (lambda: apophis_sim.propagate_nbody(sol(), T0, forces=["bogus"]), "forces"),
        (lambda: apophis_sim.close_approaches(sol(), T0, bodies=["bogus"]), "bodies"),
        (lambda: apophis_sim.propagate_nbody(sol(), T0 + [1, 2] * u.day), "to"),
        (lambda: apophis_sim.propagate_nbody(sol(), _OUTSIDE_DE440), "to"),
        (lambda: apophis_sim.propagate_nbody_grid(sol(), T0 + [0, 1e6] * u.day), "times"),
        (lambda: apophis_sim.close_approaches(sol(), _OUTSIDE_DE440), "until"),
        (lambda: rendezvous.porkchop(T0 + [1e6] * u.day, T0 + [1e6 + 100] * u.day, "earth",
                                     _circular_target()), "departure_times"),
        (lambda: encounter.orbit_change(sol(), 5.0), "encounter_time"),
        (lambda: encounter.orbit_change(sol(), _OUTSIDE_DE440), "encounter_time"),
        (lambda: tables.approaches(sol(), None, _OUTSIDE_DE440), "stop"),
        (lambda: risk.deflect(sol(), [0, 1, 0] * u.mm / u.s, _OUTSIDE_DE440), "at"),
        (lambda: risk.deflect(sol(), [0, 1e300, 0] * u.mm / u.s, T0), "dv"),
    ]


@time_bound(300)
def test_adversarial_sweep_regressions():
    """Inputs an adversarial sweep of every public function found answered by a raw
    exception, a silent NaN, a hang or a message blaming the wrong argument: each is
    now an apophis_sim error that names the argument (no RuntimeWarning either)."""
    failures = []
    for k, (fn, name) in enumerate(_sweep_cases()):
        try:
            out = fn()
        except errors.ApophisSimError as exc:
            if not names_argument(exc, name):
                failures.append(f"case {k}: {type(exc).__name__} does not name {name}: {exc}")
        except Exception as exc:  # noqa: BLE001 - the point of the test
            failures.append(f"case {k} ({name}): raw {type(exc).__name__}: {exc}")
        else:
            failures.append(f"case {k} ({name}): returned {out!r:.80} instead of raising")
    assert not failures, "\n".join(failures)


def _more_sweep_cases():
    import apophis_sim
    from apophis_sim import risk, uncertainty

    return [
        (lambda: uncertainty.covariance_factor("x"), "covariance"),
        (lambda: uncertainty.standard_normals(1, 0, 10**12), "stop"),
        (lambda: uncertainty.standard_normals(1, 0, 4, dim=-1), "dim"),
        (lambda: uncertainty.standard_normals(1, 0, 4.5), "stop"),
        (lambda: uncertainty.clone_states(apophis_sim.apophis(), "x"), "params"),
        (lambda: bplane_coordinates(np.array([1 + 1j, 0, 0]), [0, 10, 0], MU_EARTH_KM3_S2,
                                    [0, 30, 0]), "r_rel_km"),
        (lambda: uncertainty.encounter_statistics(state()), "columns"),
        (lambda: uncertainty.linear_encounter(step="x"), "step"),
        (lambda: uncertainty.load_monte_carlo(None), "out"),
        (lambda: uncertainty.run_monte_carlo(4, 1, out=5, scheduler="serial"), "out"),
        (lambda: uncertainty.parameter_jacobian(None), "solution"),
        (lambda: risk.impact_probability(apophis_sim.apophis(),
                                         Time("3000-01-01", scale="tdb")), "until"),
        # accepted silently before: unused weather, a complex impulse
        (lambda: _observer(humidity=np.nan), "humidity"),
        (lambda: _observer(temperature=5), "temperature"),
        (lambda: _observer(pressure=2000 * u.hPa), "pressure"),
        (lambda: risk.deflect(apophis_sim.apophis(), [1 + 1j, 0, 0] * u.mm / u.s,
                              Time("2026-01-01", scale="tdb")), "dv"),
    ]


def _observer(**weather):
    import apophis_sim
    from apophis_sim import tables

    return tables.observer(apophis_sim.apophis(), T0, "568", uncertainty=False, **weather)


@time_bound(120)
def test_adversarial_sweep_regressions_uncertainty():
    failures = []
    for k, (fn, name) in enumerate(_more_sweep_cases()):
        try:
            out = fn()
        except errors.ApophisSimError as exc:
            if not names_argument(exc, name):
                failures.append(f"case {k}: {type(exc).__name__} does not name {name}: {exc}")
        except Exception as exc:  # noqa: BLE001 - the point of the test
            failures.append(f"case {k} ({name}): raw {type(exc).__name__}: {exc}")
        else:
            failures.append(f"case {k} ({name}): returned {out!r:.80} instead of raising")
    assert not failures, "\n".join(failures)
