"""Impacts detected inside the integrator (issue 10): a particle that enters a body's
radius stops at the crossing, found on the dense output of the step that contains it.

The reference is independent of the kernel's event code: Brent's method on the
geocentric distance of ``propagate_nbody`` end states (each one a separate integration,
bodies as point masses), which must cross the radius at the same instant.
"""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time
from scipy.optimize import brentq

from apophis_sim import State
from apophis_sim.bodies import EARTH_RADIUS_KM, MOON_RADIUS_KM
from apophis_sim.ephemeris import Ephemeris
from apophis_sim.nbody import apophis, close_approaches, propagate_nbody

FORCES = ("sun", "planets")  # enough for the geometry; the test is about the events
GM_EARTH_KM3_S2 = 398600.435
GM_MOON_KM3_S2 = 4902.80


@pytest.fixture(scope="module")
def eph() -> Ephemeris:
    return Ephemeris.open(asteroids=False)


@pytest.fixture(scope="module")
def encounter(eph):
    """Apophis's 2029 approach: the time of the minimum and the geocentric state there
    (r perpendicular to v)."""
    sol = apophis()
    tab = close_approaches(sol, Time("2029-04-20", scale="tdb"), bodies=("earth",),
                           distance_max=0.01 * u.au, forces=FORCES, ephemeris=eph)
    t = tab["time"][0]
    s = propagate_nbody(sol, t, forces=FORCES, ephemeris=eph)
    return t, s.to_centre("earth", ephemeris=eph)


def _aimed(encounter, eph, perigee_km: float) -> State:
    """A particle with perigee ``perigee_km`` at Apophis's perigee time, in the same
    direction, moving with the two-body perigee speed sqrt(v_inf^2 + 2 GM / q): integrated
    back 6 days (bodies are point masses there), so that it comes back to that perigee."""
    t, geo = encounter
    r = geo.r.to_value(u.km)
    v = geo.v.to_value(u.km / u.s)
    vinf2 = np.dot(v, v) - 2 * GM_EARTH_KM3_S2 / np.linalg.norm(r)
    speed = np.sqrt(vinf2 + 2 * GM_EARTH_KM3_S2 / perigee_km)
    s = State(r / np.linalg.norm(r) * perigee_km * u.km, v / np.linalg.norm(v) * speed
              * u.km / u.s, t, centre="earth")
    return propagate_nbody(s, t - 6 * u.day, forces=FORCES, ephemeris=eph)


def _crossing_reference(start: State, t_lo: Time, t_hi: Time, radius_km: float, eph,
                        body: str = "earth") -> float:
    """TDB JD where |r - r_body| = radius, by Brent on full integrations."""
    def f(dt_day: float) -> float:
        s = propagate_nbody(start, t_lo + dt_day * u.day, forces=FORCES, ephemeris=eph)
        return float(np.linalg.norm(s.to_centre(body, ephemeris=eph).r.to_value(u.km))) \
            - radius_km

    span = (t_hi - t_lo).to_value(u.day)
    root = brentq(f, 0.0, span, xtol=1e-12, rtol=1e-14)
    return (t_lo + root * u.day).tdb.jd


@pytest.mark.parametrize("perigee_km", [300.0, 3000.0, 6000.0])
def test_earth_impact_stops_at_the_radius(encounter, eph, perigee_km):
    """Near-central, deep and grazing impacts: one row flagged ``impact``, at the radius, at
    the instant a root-finder on independent integrations gives (< 1 ms), and nothing
    after it."""
    start = _aimed(encounter, eph, perigee_km)
    tab = close_approaches(start, Time("2029-06-01", scale="tdb"), bodies=("earth", "moon"),
                           distance_max=0.05 * u.au, forces=FORCES, ephemeris=eph)
    hits = tab[tab["impact"]]
    assert len(hits) == 1
    assert hits["body"][0] == "earth"
    assert tab["time"][-1] == hits["time"][0]  # the last row: the particle stopped there
    assert abs(hits["distance"][0].to_value(u.km) - EARTH_RADIUS_KM) < 1e-6
    t_ca = encounter[0]
    ref = _crossing_reference(start, t_ca - 1 * u.day, hits["time"][0] + 60 * u.s,
                              EARTH_RADIUS_KM, eph)
    assert abs(hits["time"][0].tdb.jd - ref) * 86400.0 < 1e-3
    # |r_rel| at the entry is the radius, and the particle is moving inward there.
    r = hits["r_rel"][0].to_value(u.km)
    v = hits["v_rel_vec"][0].to_value(u.km / u.s)
    assert abs(np.linalg.norm(r) - EARTH_RADIUS_KM) < 1e-6
    assert np.dot(r, v) < 0


def test_near_miss_is_a_minimum_not_an_impact(encounter, eph):
    """100 km above the radius: a minimum (no impact), found where the point-mass
    trajectory has it; the same trajectory with impacts off is identical."""
    start = _aimed(encounter, eph, EARTH_RADIUS_KM + 100.0)
    until = Time("2029-05-01", scale="tdb")
    on = close_approaches(start, until, bodies=("earth",), distance_max=0.01 * u.au,
                          forces=FORCES, ephemeris=eph)
    off = close_approaches(start, until, bodies=("earth",), distance_max=0.01 * u.au,
                           forces=FORCES, ephemeris=eph, impacts=False)
    assert not np.any(on["impact"])
    assert len(on) == len(off) == 1
    assert on["distance"][0] == off["distance"][0]
    assert EARTH_RADIUS_KM < on["distance"][0].to_value(u.km) < EARTH_RADIUS_KM + 100.001


def test_impacts_off_passes_through(encounter, eph):
    """With impacts=False a body is a point mass: the deep pass is a minimum well inside
    the radius and the integration goes on."""
    start = _aimed(encounter, eph, 3000.0)
    off = close_approaches(start, Time("2029-05-01", scale="tdb"), bodies=("earth",),
                           distance_max=0.01 * u.au, forces=FORCES, ephemeris=eph,
                           impacts=False)
    assert not np.any(off["impact"])
    assert abs(off["distance"][0].to_value(u.km) - 3000.0) < 1e-3


MOON_PERILUNE_KM = 500.0
MOON_V_INF_KM_S = 3.0


@pytest.fixture(scope="module")
def moon_start(encounter, eph):
    """A particle on a 500-km-perilune path past the Moon (v_inf 3 km/s), 3 days after
    Apophis's 2029 perigee, integrated back one day: (start state, perilune time)."""
    t_hit = encounter[0] + 3 * u.day
    moon = State(np.zeros(3) * u.km, np.zeros(3) * u.km / u.s, t_hit,
                 centre="moon").to_centre("earth", ephemeris=eph)
    r = np.array([1.0, 0.0, 0.0]) * MOON_PERILUNE_KM  # selenocentric perilune, v perpendicular
    speed = np.sqrt(MOON_V_INF_KM_S**2 + 2 * GM_MOON_KM3_S2 / MOON_PERILUNE_KM)
    v = np.array([0.0, 0.6, 0.8]) * speed
    s = State((moon.r.to_value(u.km) + r) * u.km, (moon.v.to_value(u.km / u.s) + v) * u.km / u.s,
              t_hit, centre="earth")
    return propagate_nbody(s, t_hit - 1 * u.day, forces=FORCES, ephemeris=eph), t_hit


def test_moon_impact(moon_start, eph):
    """A particle on a 500-km-perilune path stops at the Moon's radius."""
    start, t_hit = moon_start
    tab = close_approaches(start, t_hit + 30 * u.day, bodies=("earth", "moon"),
                           distance_max=0.05 * u.au, forces=FORCES, ephemeris=eph)
    hits = tab[tab["impact"]]
    assert list(hits["body"]) == ["moon"]
    assert tab["time"][-1] == hits["time"][0]
    assert abs(hits["distance"][0].to_value(u.km) - MOON_RADIUS_KM) < 1e-6
    ref = _crossing_reference(start, t_hit - 1 * u.day, t_hit, MOON_RADIUS_KM, eph,
                              body="moon")
    assert abs(hits["time"][0].tdb.jd - ref) * 86400.0 < 1e-3


def test_impact_site_and_entry_angle(encounter, eph):
    """The ground point and entry angle of a 3000-km-perigee orbit: the geodetic point
    maps back (astropy's EarthLocation -> GCRS, a separate ERFA path) onto the entry
    point to < 1 m; the height is that of the equatorial sphere over the ellipsoid
    (0..21.4 km); the entry angle is the two-body hyperbola's flight-path angle at R,
    arccos(q v_q / (R v_R)), to 0.05 deg."""
    from astropy.coordinates import EarthLocation

    from apophis_sim.risk import first_impact

    q = 3000.0
    start = _aimed(encounter, eph, q)
    hit = first_impact(start, Time("2029-06-01", scale="tdb"), forces=FORCES, ephemeris=eph)
    assert hit is not None and hit.body == "earth"
    assert "Impact on earth" in repr(hit) and "UTC" in repr(hit)
    loc = EarthLocation.from_geodetic(hit.longitude, hit.latitude, hit.height,
                                      ellipsoid="WGS84")
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # held Earth orientation past the IERS tables
        from apophis_sim.visibility import offline_earth_orientation
        with offline_earth_orientation():
            back = loc.get_gcrs(hit.time).cartesian.xyz.to_value(u.km)
    assert np.linalg.norm(back - hit.r_rel.to_value(u.km)) < 1e-3
    assert 0.0 <= hit.height.to_value(u.km) < 21.4
    _, geo = encounter
    v = geo.v.to_value(u.km / u.s)
    vinf2 = np.dot(v, v) - 2 * GM_EARTH_KM3_S2 / np.linalg.norm(geo.r.to_value(u.km))
    v_q = np.sqrt(vinf2 + 2 * GM_EARTH_KM3_S2 / q)
    v_r = np.sqrt(vinf2 + 2 * GM_EARTH_KM3_S2 / EARTH_RADIUS_KM)
    gamma = np.degrees(np.arccos(q * v_q / (EARTH_RADIUS_KM * v_r)))
    assert abs(hit.entry_angle.to_value(u.deg) - gamma) < 0.05
    assert abs(hit.speed.to_value(u.km / u.s) - v_r) < 1e-3


def test_no_impact_is_none(encounter, eph):
    from apophis_sim.risk import first_impact

    assert first_impact(apophis(), Time("2029-05-01", scale="tdb"), forces=FORCES,
                        ephemeris=eph) is None


def test_moon_impact_site(moon_start, eph):
    """The selenographic entry point of the 500-km-perilune orbit: the Moon-relative
    position at the impact, rotated into the lunar frame by a matrix built here with
    ERFA's rotation helpers from the IAU angles (R3(W) R1(90 - delta0) R3(90 + alpha0)),
    points at the returned latitude and longitude to < 1 m on the 1737.4 km sphere; the
    height is that of DE440's 1738.0 km entry sphere above it; the entry angle and speed
    are those of the two-body hyperbola about the Moon (0.05 deg, 1 m/s)."""
    import erfa

    from apophis_sim.bodies import MOON_MEAN_RADIUS_KM
    from apophis_sim.risk import first_impact, moon_orientation

    start, t_hit = moon_start
    hit = first_impact(start, t_hit + 30 * u.day, forces=FORCES, ephemeris=eph)
    assert hit is not None and hit.body == "moon"
    assert "Impact on moon" in repr(hit) and "deg E" in repr(hit)
    # The same crossing as the integrator's table.
    tab = close_approaches(start, t_hit + 30 * u.day, bodies=("earth", "moon"),
                           distance_max=0.05 * u.au, forces=FORCES, ephemeris=eph)
    row = tab[tab["impact"]][0]
    assert hit.time == row["time"]
    r = hit.r_rel.to_value(u.km)
    assert np.allclose(r, row["r_rel"].to_value(u.km), rtol=0, atol=1e-9)
    ra, dec, w = (x.to_value(u.rad) for x in moon_orientation(hit.time))
    m = erfa.rz(w, erfa.rx(np.pi / 2 - dec, erfa.rz(np.pi / 2 + ra, np.eye(3))))
    x = m @ r / np.linalg.norm(r)
    lat, lon = hit.latitude.to_value(u.rad), hit.longitude.to_value(u.rad)
    assert -np.pi / 2 <= lat <= np.pi / 2 and -np.pi < lon <= np.pi
    point = np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    assert np.linalg.norm(point - x) * MOON_MEAN_RADIUS_KM * 1e3 < 1.0  # m
    assert hit.height.to_value(u.km) == pytest.approx(MOON_RADIUS_KM - MOON_MEAN_RADIUS_KM,
                                                      abs=1e-6)
    q, vq = MOON_PERILUNE_KM, np.sqrt(MOON_V_INF_KM_S**2 + 2 * GM_MOON_KM3_S2 / MOON_PERILUNE_KM)
    v_r = np.sqrt(MOON_V_INF_KM_S**2 + 2 * GM_MOON_KM3_S2 / MOON_RADIUS_KM)
    gamma = np.degrees(np.arccos(q * vq / (MOON_RADIUS_KM * v_r)))
    assert abs(hit.entry_angle.to_value(u.deg) - gamma) < 0.05
    assert abs(hit.speed.to_value(u.km / u.s) - v_r) < 1e-3
