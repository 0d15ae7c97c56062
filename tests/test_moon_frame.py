"""The lunar body-fixed frame (IAU mean Earth/polar axis, WGCCRE 2009 model as NAIF ships
it in pck00010.tpc) behind the Moon impact point.

Independent checks: the published constant terms at J2000 (and the published per-century
rates of the data block at a 2029 date), the optical libration of the sub-Earth point
over a year of DE440, and Cassini's laws (the lunar equator 1.54 deg from the ecliptic
of date, whose pole ERFA gives, and the ecliptic pole between the lunar pole and the
orbit normal, in one plane).
"""

from __future__ import annotations

import math

import astropy.units as u
import erfa
import numpy as np
import pytest
from astropy.time import Time

from apophis_sim.ephemeris import Ephemeris
from apophis_sim.errors import InputError, UnknownNameError
from apophis_sim.risk import impact_site, moon_orientation

# pck00010.tpc, as published (data block: BODY3_NUT_PREC_ANGLES in deg and deg/century).
POLE_RA = (269.9949, 0.0031)
POLE_DEC = (66.5392, 0.0130)
PM = (38.3213, 13.17635815, -1.4e-12)
NUT_PREC_RA = [-3.8787, -0.1204, 0.0700, -0.0172, 0.0, 0.0072, 0.0, 0.0, 0.0, -0.0052,
               0.0, 0.0, 0.0043]
NUT_PREC_DEC = [1.5419, 0.0239, -0.0278, 0.0068, 0.0, -0.0029, 0.0009, 0.0, 0.0, 0.0008,
                0.0, 0.0, -0.0009]
NUT_PREC_PM = [3.5610, 0.1208, -0.0642, 0.0158, 0.0252, -0.0066, -0.0047, -0.0046, 0.0028,
               0.0052, 0.0040, 0.0019, -0.0044]
NUT_PREC_ANGLES = [(125.045, -1935.5364525), (250.089, -3871.0729050),
                   (260.008, 475263.3328725), (176.625, 487269.6299850),
                   (357.529, 35999.0509575), (311.589, 964468.4993100),
                   (134.963, 477198.8693250), (276.617, 12006.3007650),
                   (34.226, 63863.5132425), (15.134, -5806.6093575),
                   (119.743, 131.8406400), (239.961, 6003.1503825),
                   (25.053, 473327.7964200)]


def _published(d: float) -> tuple[float, float, float]:
    """alpha0, delta0, W [deg] from the published tables, term by term, d days of TDB."""
    t = d / 36525.0
    e = [math.radians(a + b * t) for a, b in NUT_PREC_ANGLES]
    ra = POLE_RA[0] + POLE_RA[1] * t + sum(k * math.sin(x) for k, x in zip(NUT_PREC_RA, e))
    dec = POLE_DEC[0] + POLE_DEC[1] * t + sum(k * math.cos(x) for k, x in zip(NUT_PREC_DEC, e))
    w = PM[0] + PM[1] * d + PM[2] * d * d + sum(k * math.sin(x) for k, x in zip(NUT_PREC_PM, e))
    return ra, dec, w % 360.0


@pytest.fixture(scope="module")
def eph() -> Ephemeris:
    return Ephemeris.open(asteroids=False)


def _ang_diff(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def test_orientation_at_j2000_is_the_published_one():
    """At J2000 (d = T = 0) the pole and prime meridian are the constant terms plus the
    periodic terms at the constant arguments: alpha0 = 266.8577 deg, delta0 = 65.6411
    deg, W = 41.1953 deg, to 1e-9 deg."""
    ra, dec, w = moon_orientation(Time(2451545.0, format="jd", scale="tdb"))
    ref = _published(0.0)
    assert ra.to_value(u.deg) == pytest.approx(ref[0], abs=1e-9)
    assert dec.to_value(u.deg) == pytest.approx(ref[1], abs=1e-9)
    assert _ang_diff(w.to_value(u.deg), ref[2]) < 1e-9
    # The published numbers themselves, rounded: the sums at T = 0 done by hand.
    assert ref[0] == pytest.approx(266.8577, abs=1e-4)
    assert ref[1] == pytest.approx(65.6411, abs=1e-4)
    assert ref[2] == pytest.approx(41.1953, abs=1e-4)


@pytest.mark.parametrize("iso", ["1990-06-01", "2029-04-13T21:46", "2036-04-13", "2090-01-01"])
def test_orientation_at_other_dates_uses_the_published_rates(iso):
    """The library keeps the report's per-day rates; the PCK data block lists them per
    century (x 36525): the two agree to 1e-7 deg at dates decades from J2000 (W grows by
    4 800 deg a year, so this checks the rates to ~1e-12 relative). Arrays broadcast."""
    t = Time(iso, scale="tdb")
    d = (t.jd1 - 2451545.0) + t.jd2
    ra, dec, w = moon_orientation(t)
    ref = _published(d)
    assert ra.to_value(u.deg) == pytest.approx(ref[0], abs=1e-7)
    assert dec.to_value(u.deg) == pytest.approx(ref[1], abs=1e-7)
    assert _ang_diff(w.to_value(u.deg), ref[2]) < 1e-7
    ra2, _, w2 = moon_orientation(t + np.arange(3) * u.day)
    assert ra2.shape == (3,) and ra2[0] == ra and 0 <= w2.to_value(u.deg).min() < 360


def test_sub_earth_point_librates_about_the_prime_meridian(eph):
    """The direction from the Moon to the Earth (DE440) in the lunar frame over 2029, every
    6 h: the optical librations stay within +-8.5 deg in longitude and +-7.5 deg in
    latitude (measured +-8.05, +-6.85) and reach most of that range; the mean is the
    prime meridian on the equator, the mean-Earth frame's definition, within 0.5 deg
    (measured -0.24 deg latitude, -0.01 deg longitude)."""
    t0 = Time("2029-01-01", scale="tdb")
    times = t0 + np.arange(0.0, 365.25, 0.25) * u.day
    pos, _ = eph.posvel("earth", times.jd1, times.jd2, centre="moon")
    pos_km = pos * 1.495978707e8
    lat = np.empty(len(times))
    lon = np.empty(len(times))
    for k in range(0, len(times), 1):
        lat[k], lon[k], _ = impact_site(pos_km[k], times[k], body="moon")
    assert np.abs(lon).max() < 8.5 and np.abs(lat).max() < 7.5
    assert np.abs(lon).max() > 7.0 and np.abs(lat).max() > 6.0
    assert abs(lon.mean()) < 0.5 and abs(lat.mean()) < 0.5


@pytest.mark.parametrize("year", [2000, 2010, 2029, 2036, 2045])
def test_cassini_laws(eph, year):
    """The lunar pole is 1.54 +- 0.1 deg from the pole of the ecliptic of date (IAU 2006,
    ERFA's ecm06; measured 1.52..1.57 deg, the model's 18.6-year and monthly terms), and
    the ecliptic pole lies between the lunar pole and the Moon's orbit normal (mean of
    r x v over a month of DE440), on the great circle through them to 0.1 deg (measured
    <= 0.045 deg): Cassini's second and third laws."""
    t = Time(f"{year}-07-01", scale="tdb")
    d = (t.jd1 - 2451545.0) + t.jd2
    ra, dec, _ = (math.radians(x) for x in _published(d))
    ra_l, dec_l, _ = moon_orientation(t)
    assert ra_l.to_value(u.rad) == pytest.approx(ra, abs=1e-9)
    assert dec_l.to_value(u.rad) == pytest.approx(dec, abs=1e-9)
    pole = np.array([math.cos(dec) * math.cos(ra), math.cos(dec) * math.sin(ra), math.sin(dec)])
    # The ecliptic pole of date in ICRS components (ecm06 takes TT; TDB - TT < 2 ms).
    ecl = erfa.ecm06(t.jd1, t.jd2)[2]
    incl = math.degrees(math.acos(pole @ ecl))
    assert incl == pytest.approx(1.54, abs=0.1)
    times = t + np.linspace(-13.66, 13.66, 400) * u.day
    r, v = eph.posvel("moon", times.jd1, times.jd2, centre="earth")
    h = np.cross(r, v)
    h = (h / np.linalg.norm(h, axis=1)[:, None]).mean(axis=0)
    h /= np.linalg.norm(h)
    orbit = math.degrees(math.acos(h @ ecl))
    assert 4.9 < orbit < 5.4
    assert math.degrees(math.acos(pole @ h)) == pytest.approx(incl + orbit, abs=0.1)
    normal = np.cross(pole, h)
    assert abs(math.degrees(math.asin(ecl @ normal / np.linalg.norm(normal)))) < 0.1


def test_impact_site_on_the_moon_geometry():
    """The three body-fixed axes, rotated back to the ICRF with ERFA's rotation helpers
    from (alpha0, delta0, W), land on (0, 0), (0, 90 E) and the north pole; the height
    is above the 1737.4 km mean sphere; bad input is refused."""
    t = Time("2029-04-13T21:46", scale="tdb")
    ra, dec, w = (x.to_value(u.rad) for x in moon_orientation(t))
    m = erfa.rz(w, erfa.rx(math.pi / 2 - dec, erfa.rz(math.pi / 2 + ra, np.eye(3))))
    for axis, (lat0, lon0) in zip(np.eye(3), [(0.0, 0.0), (0.0, 90.0), (90.0, None)]):
        lat, lon, h = impact_site(m.T @ axis * 2000.0, t, body="moon")
        assert lat == pytest.approx(lat0, abs=1e-9)
        if lon0 is not None:
            assert lon == pytest.approx(lon0, abs=1e-9)
        assert h == pytest.approx(2000.0 - 1737.4, abs=1e-9)
    lat, lon, _ = impact_site(-m.T @ np.eye(3)[0] * 1738.0, t, body="moon")
    assert abs(lat) < 1e-9 and abs(abs(lon) - 180.0) < 1e-9 and -180 < lon <= 180
    with pytest.raises(UnknownNameError):
        impact_site(np.ones(3), t, body="mars")
    with pytest.raises(InputError):
        impact_site(np.ones(2), t, body="moon")
    with pytest.raises(InputError):
        impact_site(np.ones(3), t + [0, 1] * u.day, body="moon")


def test_cli_prints_the_moon_point(monkeypatch, capsys):
    """``apophis-sim risk --moon`` prints a confirmed Moon VI's selenographic point, and an
    Earth VI's ground point as before (the search replaced by a two-row table: only the
    printing is tested)."""
    import json

    from astropy.table import QTable

    from apophis_sim import risk
    from apophis_sim.cli import main

    t = Time(["2036-04-13T08:46", "2034-09-20T02:00"], scale="tdb")
    ip = QTable()
    ip["date"] = t
    ip["body"] = ["earth", "moon"]
    ip["resonance"] = ["7:6", "5:4"]
    ip["sigma_lov"] = [0.5, 1.5]
    ip["width"] = [600.0, 20.0] * u.m
    ip["ip"] = [1e-5, 1e-8]
    ip["log10_ip"] = np.log10(ip["ip"])
    ip["v_impact"] = [12.6, 10.2] * u.km / u.s
    ip["energy"] = [1000.0, 700.0]
    ip["palermo"] = [-2.0, -6.0]
    ip["torino"] = [1, -1]
    ip["confirmed"] = [True, True]
    ip["impact_time"] = t
    ip["latitude"] = [24.7, -12.25] * u.deg
    ip["longitude"] = [-126.8, 33.5] * u.deg
    ip.meta.update({"object": "99942 Apophis", "solution": "test", "encounter_utc":
                    "2029-04-13 21:46", "window_km": 2000.0, "cumulative_ip": 1e-5,
                    "cumulative_log10_ip": -5.0, "torino_max": 1, "assumptions": "",
                    "method": "", "unresolved": []})
    monkeypatch.setattr(risk, "keyholes", lambda *a, **k: QTable())
    monkeypatch.setattr(risk, "impact_probability", lambda *a, **k: ip)
    assert main(["risk", "--until", "2037", "--moon"]) == 0
    out = capsys.readouterr().out
    assert "reaches Earth's radius at 2036-04-13" in out and "+24.70 deg, -126.80 deg E" in out
    assert "reaches the Moon's radius (selenographic) at 2034-09-20" in out
    assert "-12.25 deg, +33.50 deg E" in out
    assert main(["risk", "--until", "2037", "--moon", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["virtual_impactors"]
    assert rows[1]["body"] == "moon" and rows[1]["latitude_deg"] == -12.25
