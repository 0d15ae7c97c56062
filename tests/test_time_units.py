"""The units and time boundary: Quantity -> canonical floats, Time -> two-part TDB JD.

What is checked
---------------
* any time scale is converted to TDB exactly as astropy/ERFA does it (bit for
  bit), the 2029 TDB - UTC offset is the expected ~69.18 s, and UTC past the
  last leap second triggers exactly one :class:`UTCAssumptionWarning`;
* a bare number (or string, datetime) where a time belongs raises
  :class:`TimeInputError` with a message that says what to pass;
* a Quantity of the wrong physical type raises :class:`PhysicalTypeError`,
  NaN/inf raises :class:`NonFiniteInputError`;
* the typed exceptions derive from the matching builtin exceptions.
"""

from __future__ import annotations

import datetime
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time

from apophis_sim import State, UTCAssumptionWarning, errors, propagate
from apophis_sim.time import dt_days, from_jd_tdb, to_jd_tdb
from apophis_sim.units import AU, AU_KM, AU_PER_DAY, GM_UNIT, check_finite, to_canonical
from conftest import AU_M, DAY_S, JPL220_R_AU, JPL220_V_AU_D

# Closest approach of Apophis in JPL's close-approach table, given there in TDB
# and as its UTC equivalent (apophis.md section 2).
CA_TDB = "2029-04-13T21:46:12.746"
CA_UTC_APPROX = "2029-04-13T21:45:03.56"


# ---------------------------------------------------------------------------
# Time -> TDB
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("scale", ["utc", "tt", "tai", "tcg", "tcb", "tdb"])
def test_time_scales_convert_exactly_like_astropy(scale):
    """Every scale goes to TDB exactly as astropy's own ``.tdb`` (same jd1, jd2 bits)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # leap-second assumption, tested separately
        t = Time(["2021-01-01T00:00:00", "2029-04-13T21:45:03.56", "2030-01-01T12:00:00"],
                 scale=scale)
        jd1, jd2 = to_jd_tdb(t)
        ref = t.tdb
    np.testing.assert_array_equal(jd1, ref.jd1)
    np.testing.assert_array_equal(jd2, ref.jd2)
    assert jd1.dtype == np.float64 and jd2.dtype == np.float64


def test_tdb_minus_utc_in_2029_is_69_18_s():
    """TDB - UTC in April 2029 = 37 leap s + 32.184 s (TT - TAI) + ~1.6 ms periodic term."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_utc = Time(CA_UTC_APPROX, scale="utc")
        jd1, jd2 = to_jd_tdb(t_utc)
    offset_s = ((jd1 - t_utc.jd1) + (jd2 - t_utc.jd2)) * DAY_S
    assert offset_s == pytest.approx(69.184, abs=2e-3)
    # JPL's pair (21:46:12.746 TDB ~ 21:45:03.56 UTC) agrees to its 10 ms rounding.
    t_tdb = Time(CA_TDB, scale="tdb")
    assert float(dt_days(t_tdb.jd1, t_tdb.jd2, jd1, jd2)) * DAY_S == pytest.approx(0.0, abs=0.01)


def test_utc_after_last_leap_second_warns_once_with_the_assumption():
    t_utc = Time(2462240.4, format="jd", scale="utc")  # built from a JD: no parse warning
    with warnings.catch_warnings(record=True) as log:
        warnings.simplefilter("always")
        to_jd_tdb(t_utc)
    ours = [w for w in log if issubclass(w.category, UTCAssumptionWarning)]
    assert len(ours) == 1
    assert "leap second" in str(ours[0].message)
    # ERFA's cryptic "dubious year" warning is replaced, not repeated.
    assert not [w for w in log if "dubious" in str(w.message).lower()]


def test_tt_and_tdb_inputs_do_not_warn():
    for scale in ("tt", "tdb"):
        t = Time(2462240.4, format="jd", scale=scale)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            to_jd_tdb(t)


def test_utc_target_time_has_no_69_s_slip():
    """propagate(..., to=UTC time) must land where the equivalent TDB time lands.

    Treating the UTC clock reading as TDB would move Apophis by ~69 s x 30 km/s
    ~ 2 000 km; the exact conversion agrees with the TDB route to < 1 mm.
    """
    epoch = Time(2462137.5, format="jd", scale="tdb")
    s0 = State(JPL220_R_AU * u.au, JPL220_V_AU_D * u.au / u.day, epoch)
    t_utc = Time(2462240.4, format="jd", scale="utc")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UTCAssumptionWarning)
        via_utc = propagate(s0, t_utc)
    via_tdb = propagate(s0, t_utc.tdb)
    naive = propagate(s0, Time(t_utc.jd1, t_utc.jd2, format="jd", scale="tdb"))
    assert np.linalg.norm(via_utc.r_au - via_tdb.r_au) * AU_M < 1e-3
    slip_km = np.linalg.norm(via_utc.r_au - naive.r_au) * AU_KM
    speed_km_s = np.linalg.norm(via_tdb.v_au_d) * AU_KM / DAY_S
    assert slip_km == pytest.approx(69.18 * speed_km_s, rel=0.01)
    np.testing.assert_array_equal(via_utc.jd_tdb[0] + via_utc.jd_tdb[1],
                                  via_tdb.jd_tdb[0] + via_tdb.jd_tdb[1])


@pytest.mark.parametrize("bad", [2462240.5, np.float64(2462240.5), 2462240, "2029-04-13",
                                 datetime.datetime(2029, 4, 13), np.array([2462240.5])])
def test_bare_time_is_rejected_with_instructions(bad):
    with pytest.raises(errors.TimeInputError) as exc:
        to_jd_tdb(bad, "epoch")
    msg = str(exc.value)
    assert "epoch" in msg  # names the argument
    assert "astropy.time.Time" in msg and "scale=" in msg  # says what to pass
    assert isinstance(exc.value, TypeError)


def test_bare_float_rejected_by_public_functions(epoch_2029):
    s = State([1.0, 0, 0] * u.au, [0, 0.017, 0] * u.au / u.day, epoch_2029)
    with pytest.raises(errors.TimeInputError, match="to must be an astropy.time.Time"):
        propagate(s, 2462240.5)
    with pytest.raises(errors.TimeInputError, match="epoch"):
        State([1.0, 0, 0] * u.au, [0, 0.017, 0] * u.au / u.day, 2462137.5)


def test_two_part_jd_keeps_sub_microsecond_differences():
    """dt_days subtracts the big day numbers first: a 1 us step survives at JD 2.46e6.

    A single float64 JD has a resolution of ~40 us at this date, so the naive
    (jd1 + jd2) difference could not represent 1 us.
    """
    one_us = 1e-6 / DAY_S
    t0 = Time(2462240.0, 0.4070919632, format="jd", scale="tdb")
    t1 = Time(2462240.0, 0.4070919632 + one_us, format="jd", scale="tdb")
    (a1, a2), (b1, b2) = to_jd_tdb(t1), to_jd_tdb(t0)
    assert float(dt_days(a1, a2, b1, b2)) * DAY_S == pytest.approx(1e-6, rel=1e-6)
    assert (float(a1 + a2) - float(b1 + b2)) * DAY_S != pytest.approx(1e-6, rel=1e-3)


def test_from_jd_tdb_round_trip():
    jd1 = np.array([2462240.0, 2459215.5])
    jd2 = np.array([0.407091969, 0.0])
    t = from_jd_tdb(jd1, jd2)
    assert t.scale == "tdb"
    b1, b2 = to_jd_tdb(t)
    np.testing.assert_array_equal(b1 + b2, jd1 + jd2)


# ---------------------------------------------------------------------------
# Quantity -> canonical floats
# ---------------------------------------------------------------------------
def test_to_canonical_converts_units():
    np.testing.assert_allclose(to_canonical([AU_KM, 0.0] * u.km, AU, "r"), [1.0, 0.0], rtol=1e-15)
    # 1 au/day in km/s.
    np.testing.assert_allclose(to_canonical(AU_KM / DAY_S * u.km / u.s, AU_PER_DAY, "v"), 1.0,
                               rtol=1e-15)
    gm_km3_s2 = 1.32712440041279419e11  # DE440 GM_sun
    expected = gm_km3_s2 * DAY_S**2 / AU_KM**3
    assert to_canonical(gm_km3_s2 * u.km**3 / u.s**2, GM_UNIT, "gm") == pytest.approx(
        expected, rel=1e-15)
    assert expected == pytest.approx(2.9591220828411956e-04, rel=1e-15)


def test_length_where_velocity_belongs():
    with pytest.raises(errors.PhysicalTypeError) as exc:
        to_canonical(3.0 * u.km, AU_PER_DAY, "v")
    msg = str(exc.value)
    assert "v must have units of speed" in msg and "length" in msg
    assert isinstance(exc.value, TypeError)


@pytest.mark.parametrize("bare", [1.0, [1.0, 2.0, 3.0], np.ones(3)])
def test_bare_number_where_quantity_belongs(bare):
    with pytest.raises(errors.PhysicalTypeError, match="r must be an astropy Quantity"):
        to_canonical(bare, AU, "r")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_rejected(bad):
    with pytest.raises(errors.NonFiniteInputError) as exc:
        to_canonical([1.0, bad, 3.0] * u.km, AU, "r")
    assert "r contains 1 NaN or infinite" in str(exc.value)
    assert "index (1,)" in str(exc.value)
    assert isinstance(exc.value, ValueError)
    # ... unless explicitly allowed (internal use).
    assert np.isnan(to_canonical([np.nan] * u.km, AU, "r", finite=False)).all()


def test_check_finite_passes_finite_through():
    x = np.arange(6.0).reshape(2, 3)
    assert check_finite(x, "x") is x


# ---------------------------------------------------------------------------
# the error module
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("exc", "builtin"),
    [
        (errors.NonFiniteInputError, ValueError),
        (errors.PhysicalTypeError, TypeError),
        (errors.TimeInputError, TypeError),
        (errors.ShapeMismatchError, ValueError),
        (errors.UnknownNameError, KeyError),
        (errors.OrbitTypeError, ValueError),
        (errors.ConvergenceError, RuntimeError),
        (errors.EphemerisRangeError, ValueError),
        (errors.EphemerisNotFoundError, FileNotFoundError),
    ],
)
def test_errors_derive_from_base_and_builtin(exc, builtin):
    assert issubclass(exc, errors.ApophisSimError)
    assert issubclass(exc, builtin)


def test_unknown_name_error_lists_valid_names_readably():
    err = errors.UnknownNameError("frame", "galactic", ("icrf", "ecliptic"))
    # str() is the plain message (KeyError would otherwise show its repr in quotes).
    assert str(err) == "unknown frame 'galactic'; valid frame names are: icrf, ecliptic"
    assert err.valid == ("icrf", "ecliptic")
