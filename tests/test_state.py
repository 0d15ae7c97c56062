"""State: construction, units, broadcasting, indexing, frames, centres, interop.

Tolerances: unit conversions and frame rotations are a handful of float64
operations, so they are checked to a few ulp (1e-15 relative); centre changes
are compared against the ephemeris itself (the same numbers, so exact to
1e-15 au); poliastro-family round trips go through km and km/s (two unit
conversions each way: 1e-14 relative).
"""

from __future__ import annotations

import math
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time

from apophis_sim import FRAMES, State, errors
from apophis_sim._core.frames import ECL_FROM_ICRF, OBLIQUITY_J2000_RAD
from conftest import AU_KM, DAY_S, JPL220_EPOCH_JD_TDB, JPL220_R_AU, JPL220_V_AU_D


@pytest.fixture
def apophis() -> State:
    """Apophis at the JPL #220 epoch (heliocentric ICRF)."""
    return State(JPL220_R_AU * u.au, JPL220_V_AU_D * u.au / u.day,
                 Time(JPL220_EPOCH_JD_TDB, format="jd", scale="tdb"))


def batch(n: int, epoch: Time, rng: np.random.Generator) -> State:
    r = rng.normal(size=(n, 3)) * u.au
    v = rng.normal(size=(n, 3)) * 0.01 * u.au / u.day
    return State(r, v, epoch)


# ---------------------------------------------------------------------------
# construction and units
# ---------------------------------------------------------------------------
def test_units_are_converted_once_to_au_and_au_per_day(epoch_2029):
    s = State([AU_KM, -2 * AU_KM, 0.5 * AU_KM] * u.km,
              [AU_KM / DAY_S, 0.0, -1.0] * u.km / u.s, epoch_2029)
    np.testing.assert_allclose(s.r_au, [1.0, -2.0, 0.5], rtol=1e-15)
    np.testing.assert_allclose(s.v_au_d, [1.0, 0.0, -DAY_S / AU_KM], rtol=1e-15)
    assert s.r.unit == u.au and s.v.unit == u.au / u.day
    assert s.distance.to_value(u.au) == pytest.approx(math.sqrt(5.25), rel=1e-15)
    assert s.speed.unit == u.au / u.day
    assert s.frame == "icrf" and s.centre == "sun"


def test_epoch_in_any_scale_is_stored_as_tdb(epoch_2029):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # astropy's TDB -> TT passes an approximate UTC
        tt = epoch_2029.tt
    s = State([1, 0, 0] * u.au, [0, 0.017, 0] * u.au / u.day, tt)
    assert s.epoch.scale == "tdb"
    j1, j2 = s.jd_tdb
    assert (j1 - epoch_2029.jd1) + (j2 - epoch_2029.jd2) == pytest.approx(0.0, abs=1e-15)


def test_from_arrays_fast_path_and_alias(epoch_2029):
    s = State.from_arrays(np.array([1.0, 0, 0]), np.array([0, 0.017, 0]), epoch_2029.jd1,
                          epoch_2029.jd2, frame="ecliptic", centre="earth")
    assert s.frame == "ecliptic" and s.centre == "earth" and s.shape == ()
    s2 = State.from_vectors(s.r, s.v, s.epoch, frame="ecliptic", centre="earth")
    np.testing.assert_array_equal(s2.r_au, s.r_au)


def test_repr_names_frame_centre_and_epoch(apophis):
    text = repr(apophis)
    assert "frame='icrf'" in text and "centre='sun'" in text and "2021-01-01T00:00:00.000" in text
    assert "shape=(4,)" in repr(State(np.ones((4, 3)) * u.au, np.ones(3) * u.au / u.day,
                                      apophis.epoch))


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------
def test_length_where_velocity_belongs(epoch_2029):
    with pytest.raises(errors.PhysicalTypeError, match="v must have units of speed"):
        State([1, 0, 0] * u.au, [0, 1, 0] * u.km, epoch_2029)
    with pytest.raises(errors.PhysicalTypeError, match="r must have units of length"):
        State([1, 0, 0] * u.km / u.s, [0, 1, 0] * u.km / u.s, epoch_2029)


def test_bare_arrays_rejected(epoch_2029):
    with pytest.raises(errors.PhysicalTypeError, match="r must be an astropy Quantity"):
        State([1.0, 0, 0], [0, 0.017, 0] * u.au / u.day, epoch_2029)


@pytest.mark.parametrize("which", ["r", "v"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_rejected(epoch_2029, which, bad):
    r = np.array([[1.0, 0, 0], [1.0, 0, 0]])
    v = np.array([[0, 0.017, 0], [0, 0.017, 0]])
    (r if which == "r" else v)[1, 2] = bad
    with pytest.raises(errors.NonFiniteInputError, match=f"{which} contains 1 NaN or infinite"):
        State(r * u.au, v * u.au / u.day, epoch_2029)


def test_bare_float_epoch_rejected():
    with pytest.raises(errors.TimeInputError, match="astropy.time.Time"):
        State([1, 0, 0] * u.au, [0, 0.017, 0] * u.au / u.day, 2462137.5)


def test_mismatched_batch_shapes(epoch_2029):
    with pytest.raises(errors.ShapeMismatchError, match="do not broadcast"):
        State(np.ones((4, 3)) * u.au, np.ones((5, 3)) * u.au / u.day, epoch_2029)
    with pytest.raises(errors.ShapeMismatchError, match="do not broadcast"):
        State(np.ones((4, 3)) * u.au, np.ones((4, 3)) * u.au / u.day,
              epoch_2029 + np.arange(3) * u.day)


def test_missing_xyz_axis(epoch_2029):
    with pytest.raises(errors.ShapeMismatchError, match=r"shape \(\.\.\., 3\)"):
        State(np.ones((4, 2)) * u.au, np.ones((4, 2)) * u.au / u.day, epoch_2029)
    with pytest.raises(errors.ShapeMismatchError):
        State(1.0 * u.au, 1.0 * u.au / u.day, epoch_2029)


def test_unknown_frame_lists_valid_names(epoch_2029):
    with pytest.raises(errors.UnknownNameError) as exc:
        State([1, 0, 0] * u.au, [0, 0.017, 0] * u.au / u.day, epoch_2029, frame="galactic")
    assert "galactic" in str(exc.value)
    for name in FRAMES:
        assert name in str(exc.value)
    assert isinstance(exc.value, KeyError)


def test_unknown_centre_lists_valid_names(epoch_2029):
    with pytest.raises(errors.UnknownNameError) as exc:
        State([1, 0, 0] * u.au, [0, 0.017, 0] * u.au / u.day, epoch_2029, centre="vulcan")
    msg = str(exc.value)
    assert "vulcan" in msg
    for name in ("ssb", "sun", "earth", "moon", "jupiter"):
        assert name in msg


def test_names_are_case_insensitive(epoch_2029):
    s = State([1, 0, 0] * u.au, [0, 0.017, 0] * u.au / u.day, epoch_2029, frame="ICRF",
              centre="Earth")
    assert (s.frame, s.centre) == ("icrf", "earth")


# ---------------------------------------------------------------------------
# broadcasting and indexing
# ---------------------------------------------------------------------------
def test_broadcasting_r_v_and_per_state_epochs(epoch_2029, rng):
    r = rng.normal(size=(4, 1, 3)) * u.au
    v = rng.normal(size=(5, 3)) * u.au / u.day
    epochs = epoch_2029 + np.arange(5) * u.day
    s = State(r, v, epochs)
    assert s.shape == (4, 5) and s.ndim == 2 and len(s) == 4
    assert s.r.shape == (4, 5, 3) and s.v.shape == (4, 5, 3)
    assert s.epoch.shape == (4, 5)
    np.testing.assert_array_equal(s.r_au[:, 3], r.value[:, 0])
    np.testing.assert_array_equal(s.v_au_d[2], v.value)
    dt = (s.epoch[1, 3] - epoch_2029).to_value(u.day)
    assert dt == pytest.approx(3.0, abs=1e-12)


def test_indexing_and_slicing_keep_the_matching_epochs(epoch_2029, rng):
    n = 6
    epochs = epoch_2029 + np.arange(n) * 10 * u.day
    s = State(rng.normal(size=(n, 3)) * u.au, rng.normal(size=(n, 3)) * u.au / u.day, epochs,
              frame="ecliptic", centre="earth")
    one = s[4]
    assert one.shape == ()
    np.testing.assert_array_equal(one.r_au, s.r_au[4])
    np.testing.assert_array_equal(one.v_au_d, s.v_au_d[4])
    assert (one.epoch - epochs[4]).to_value(u.s) == pytest.approx(0.0, abs=1e-6)
    assert (one.frame, one.centre) == ("ecliptic", "earth")

    part = s[1:5:2]
    assert part.shape == (2,)
    np.testing.assert_array_equal(part.r_au, s.r_au[1:5:2])
    np.testing.assert_allclose((part.epoch - epoch_2029).to_value(u.day), [10.0, 30.0],
                               atol=1e-9)
    mask = np.array([True, False, False, True, False, True])
    np.testing.assert_array_equal(s[mask].r_au, s.r_au[mask])
    np.testing.assert_array_equal(s[[5, 0]].v_au_d, s.v_au_d[[5, 0]])


def test_indexing_two_dimensional_batches(epoch_2029, rng):
    s = State(rng.normal(size=(3, 4, 3)) * u.au, rng.normal(size=(3, 4, 3)) * u.au / u.day,
              epoch_2029)
    assert s[1].shape == (4,)
    assert s[1, 2].shape == ()
    assert s[:, 0].shape == (3,)
    np.testing.assert_array_equal(s[:, 0].r_au, s.r_au[:, 0])
    np.testing.assert_array_equal(s[2, 1:3].v_au_d, s.v_au_d[2, 1:3])


def test_scalar_state_cannot_be_indexed(apophis):
    with pytest.raises(IndexError):
        apophis[0]
    with pytest.raises(TypeError):
        len(apophis)
    with pytest.raises(IndexError):
        State(np.ones((2, 3)) * u.au, np.ones(3) * u.au / u.day, apophis.epoch)[..., 0]


# ---------------------------------------------------------------------------
# frames
# ---------------------------------------------------------------------------
def test_obliquity_is_iau1976_j2000():
    assert OBLIQUITY_J2000_RAD == pytest.approx(math.radians(84381.448 / 3600.0), rel=1e-16)


def test_ecliptic_pole_maps_to_z(epoch_2029):
    """The ecliptic north pole in ICRF, (0, -sin eps, cos eps), is +z in the ecliptic frame;
    the vernal equinox (+x) is common to both frames."""
    eps = math.radians(84381.448 / 3600.0)
    r = np.array([[0.0, -math.sin(eps), math.cos(eps)], [1.0, 0.0, 0.0]])
    s = State(r * u.au, r * u.au / u.day, epoch_2029).to_frame("ecliptic")
    np.testing.assert_allclose(s.r_au, [[0, 0, 1], [1, 0, 0]], atol=1e-16)
    assert s.frame == "ecliptic"


def test_frame_round_trip_is_exact_to_ulps(epoch_2029, rng):
    s = batch(1000, epoch_2029, rng)
    back = s.to_frame("ecliptic").to_frame("icrf")
    np.testing.assert_allclose(back.r_au, s.r_au, rtol=0, atol=4e-16 * np.abs(s.r_au).max())
    np.testing.assert_allclose(back.v_au_d, s.v_au_d, rtol=0, atol=4e-16 * np.abs(s.v_au_d).max())
    # Rotations preserve lengths and r.v.
    e = s.to_frame("ecliptic")
    np.testing.assert_allclose(e.distance, s.distance, rtol=1e-15)
    np.testing.assert_allclose(np.sum(e.r_au * e.v_au_d, -1), np.sum(s.r_au * s.v_au_d, -1),
                               rtol=1e-13, atol=1e-18)
    assert s.to_frame("icrf") is s  # no-op returns the same object


def test_frame_rotation_matches_matrix(apophis):
    ecl = apophis.to_frame("ecliptic")
    np.testing.assert_allclose(ecl.r_au, ECL_FROM_ICRF @ JPL220_R_AU, rtol=0, atol=1e-16)
    # Apophis's orbit is inclined only 3.3 deg to the ecliptic: |z| is small there.
    assert abs(ecl.r_au[2]) < 0.07 < abs(apophis.r_au[2])


def test_to_frame_unknown_name(apophis):
    with pytest.raises(errors.UnknownNameError, match="valid frame names are: icrf, ecliptic"):
        apophis.to_frame("ecl")


# ---------------------------------------------------------------------------
# centres (DE440, installed with the package)
# ---------------------------------------------------------------------------
def test_centre_change_uses_the_ephemeris():
    from apophis_sim.ephemeris import Ephemeris

    eph = Ephemeris.open()
    t = Time(2462240.5, format="jd", scale="tdb")
    geocentre = State(np.zeros(3) * u.au, np.zeros(3) * u.au / u.day, t, centre="earth")
    helio = geocentre.to_centre("sun")
    r_ref, v_ref = eph.posvel("earth", t.jd1, t.jd2, centre="sun")
    np.testing.assert_allclose(helio.r_au, r_ref, rtol=0, atol=1e-15)
    np.testing.assert_allclose(helio.v_au_d, v_ref, rtol=0, atol=1e-17)
    assert helio.centre == "sun"
    assert 0.98 < float(helio.distance.to_value(u.au)) < 1.02
    back = helio.to_centre("earth")
    np.testing.assert_allclose(back.r_au, 0.0, atol=1e-15)
    # In the ecliptic frame the offset is rotated too: Earth stays in the ecliptic.
    ecl = geocentre.to_frame("ecliptic").to_centre("sun")
    assert abs(ecl.r_au[2]) < 1e-4 and ecl.frame == "ecliptic"
    np.testing.assert_allclose(ecl.to_frame("icrf").r_au, helio.r_au, atol=1e-15)


def test_unknown_centre_in_to_centre(apophis):
    with pytest.raises(errors.UnknownNameError, match="valid centre names are: ssb, sun"):
        apophis.to_centre("nibiru")


# ---------------------------------------------------------------------------
# poliastro family (boinor installs with numpy 2 / astropy 8)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("frame", ["icrf", "ecliptic"])
@pytest.mark.parametrize("centre", ["sun", "earth"])
def test_poliastro_round_trip(apophis, frame, centre):
    pytest.importorskip("boinor")
    s = State(apophis.r, apophis.v, apophis.epoch, frame=frame, centre=centre)
    orbit = s.to_poliastro("boinor")
    assert type(orbit).__module__.startswith("boinor")
    assert orbit.attractor.name.lower() == centre
    np.testing.assert_allclose(orbit.r.to_value(u.au), s.r_au, rtol=1e-14)
    back = State.from_poliastro(orbit)
    assert (back.frame, back.centre) == (frame, centre)
    np.testing.assert_allclose(back.r_au, s.r_au, rtol=1e-14)
    np.testing.assert_allclose(back.v_au_d, s.v_au_d, rtol=1e-14)
    assert abs((back.epoch - s.epoch).to_value(u.s)) < 1e-6


def test_to_poliastro_default_package_and_errors(apophis):
    pytest.importorskip("boinor")
    assert type(apophis.to_poliastro()).__module__.startswith("boinor")
    with pytest.raises(errors.ShapeMismatchError, match="index this State"):
        State(np.ones((2, 3)) * u.au, np.ones(3) * u.au / u.day, apophis.epoch).to_poliastro()
    with pytest.raises(errors.InputError, match="no body for centre 'ssb'"):
        State(apophis.r, apophis.v, apophis.epoch, centre="ssb").to_poliastro("boinor")


def test_to_poliastro_missing_package(apophis):
    with pytest.raises(ImportError, match="not_a_poliastro_fork"):
        apophis.to_poliastro("not_a_poliastro_fork")


def test_from_poliastro_rejects_other_objects():
    with pytest.raises(errors.InputError, match="poliastro/hapsira/boinor Orbit"):
        State.from_poliastro(object())
