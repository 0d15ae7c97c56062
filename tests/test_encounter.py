"""Encounter science: B-plane geometry against closed forms, orbit change, H-G brightness,
visibility, figures and the flyby CLI."""

from __future__ import annotations

import json
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import EarthLocation
from astropy.time import Time

from apophis_sim import apophis
from apophis_sim.bodies import AU_KM, EARTH_RADIUS_WGS84_KM, body
from apophis_sim.cli import main
from apophis_sim.encounter import analyse_flyby, bplane, capture_radius, hyperbola, orbit_change
from apophis_sim.ephemeris import Ephemeris
from apophis_sim.errors import InputError, OrbitTypeError
from apophis_sim.visibility import (EarthOrientationWarning, bright_intervals, hg_magnitude,
                                    visibility)

MU_E = body("earth").gm_au3_d2 * AU_KM**3 / 86400.0**2  # km^3/s^2
KMS = u.km / u.s


def _synthetic_flyby(b_km: float, vinf: float, s_hat, b_hat):
    """Exact periapsis state of the hyperbola with impact parameter b, speed v_inf,
    incoming asymptote s_hat and B direction b_hat (closed form: Battin 1999 ch. 4)."""
    s_hat = np.asarray(s_hat, float) / np.linalg.norm(s_hat)
    b_hat = np.asarray(b_hat, float) / np.linalg.norm(b_hat)
    a = MU_E / vinf**2
    e = np.sqrt(1 + (b_km / a) ** 2)
    q = a * (e - 1)
    # Turning angle delta: sin(delta/2) = 1/e. The periapsis lies in the (s, b) plane.
    half = np.arcsin(1 / e)
    # The path bends towards the planet (-b_hat) by delta; at periapsis the velocity
    # bisects the asymptotes and the position is b_hat turned by delta/2 towards s_hat.
    p_hat = np.cos(half) * b_hat + np.sin(half) * s_hat
    v_hat = np.cos(half) * s_hat - np.sin(half) * b_hat
    vq = np.sqrt(vinf**2 + 2 * MU_E / q)
    return p_hat * q, v_hat * vq, q, e


@pytest.mark.parametrize("b_km,vinf", [(48_300.0, 5.84), (10_000.0, 3.0), (200_000.0, 12.0)])
def test_hyperbola_and_bplane_closed_form(b_km, vinf):
    s_hat = np.array([0.3, -0.8, 0.2])
    b_hat = np.cross(s_hat, [0.1, 0.5, 0.9])
    r, v, q, e = _synthetic_flyby(b_km, vinf, s_hat, b_hat)
    hyp = hyperbola(r * u.km, v * KMS)
    assert hyp.e == pytest.approx(e, rel=1e-12)
    assert hyp.q.to_value(u.km) == pytest.approx(q, rel=1e-12)
    assert hyp.v_inf.to_value(KMS) == pytest.approx(vinf, rel=1e-12)
    assert hyp.b.to_value(u.km) == pytest.approx(b_km, rel=1e-12)
    np.testing.assert_allclose(hyp.asymptote_in, s_hat / np.linalg.norm(s_hat), atol=1e-12)
    # b and q are tied by the hyperbola: b = q sqrt(1 + 2 mu / (q v_inf^2)).
    assert b_km == pytest.approx(q * np.sqrt(1 + 2 * MU_E / (q * vinf**2)), rel=1e-12)
    # B-plane: the B vector is b along b_hat; with the planet's velocity along -zeta.
    s_u = s_hat / np.linalg.norm(s_hat)
    vp = np.cross(s_u, b_hat)  # in the b-plane, perpendicular to b_hat
    bp = bplane(r * u.km, v * KMS, 30.0 * vp / np.linalg.norm(vp) * KMS)
    assert abs(bp.zeta.to_value(u.km)) < 1e-6 * b_km      # B is perpendicular to -vp
    assert abs(bp.xi.to_value(u.km)) == pytest.approx(b_km, rel=1e-12)
    assert np.hypot(bp.b_dot_t.to_value(u.km), bp.b_dot_r.to_value(u.km)) == pytest.approx(
        b_km, rel=1e-12)


def test_straight_line_limit_bplane_is_the_miss_vector():
    """For a very fast flyby the B vector is the straight-line miss vector."""
    s_hat = np.array([1.0, 0.0, 0.0])
    miss = np.array([0.0, 3.0e5, 0.0])
    r = miss - 2e5 * s_hat       # before closest approach, far out
    v = 5000.0 * s_hat           # km/s: gravity negligible
    hyp = hyperbola(r * u.km, v * KMS)
    assert hyp.b.to_value(u.km) == pytest.approx(3.0e5, rel=1e-6)
    np.testing.assert_allclose(hyp.asymptote_in, s_hat, atol=1e-6)
    bp = bplane(r * u.km, v * KMS, np.array([0.0, 0.0, -30.0]) * KMS)
    # zeta axis = -(projection of vp) = +z; xi = eta x zeta = x cross z = -y.
    assert bp.xi.to_value(u.km) == pytest.approx(-3.0e5, rel=1e-6)
    assert abs(bp.zeta.to_value(u.km)) < 1.0


def test_capture_radius_closed_form():
    rc = capture_radius("earth", 5.84 * KMS).to_value(u.km)
    R = EARTH_RADIUS_WGS84_KM
    assert rc == pytest.approx(R * np.sqrt(1 + 2 * MU_E / (R * 5.84**2)), rel=1e-14)
    # The focusing makes the capture radius grow as v_inf falls.
    assert capture_radius("earth", 2 * KMS) > capture_radius("earth", 20 * KMS)
    with pytest.raises(InputError, match="positive"):
        capture_radius("earth", 0 * KMS)


def test_bound_orbit_has_no_bplane():
    with pytest.raises(OrbitTypeError, match="bound"):
        hyperbola([42164.0, 0, 0] * u.km, [0, 3.07, 0] * KMS)
    with pytest.raises(InputError):
        hyperbola([1.0, 2.0] * u.km, [0, 3.07] * KMS)


def test_hg_magnitude_closed_forms():
    # Opposition (alpha = 0): V = H + 5 log10(r Delta).
    assert hg_magnitude(19.09, 0.24, 1 * u.au, 1 * u.au, 0 * u.deg) == pytest.approx(19.09)
    assert hg_magnitude(19.09, 0.24, 2 * u.au, 0.5 * u.au, 0 * u.deg) == pytest.approx(19.09)
    v = hg_magnitude(10.0, 0.15, 1 * u.au, 1 * u.au, 60 * u.deg)
    t = np.tan(np.radians(30))
    phi = 0.85 * np.exp(-3.33 * t**0.63) + 0.15 * np.exp(-1.87 * t**1.22)
    assert v == pytest.approx(10.0 - 2.5 * np.log10(phi), rel=1e-14)
    with pytest.raises(InputError):
        hg_magnitude(10, 0.15, -1 * u.au, 1 * u.au, 0 * u.deg)


@pytest.fixture(scope="module")
def analysis():
    return analyse_flyby(apophis(), Time("2029-04-20", scale="tdb"), also=("moon",),
                         ephemeris=Ephemeris.open(asteroids=False), step=10 * u.min)


def test_apophis_flyby_analysis(analysis):
    a = analysis
    # The B-plane impact parameter is tied to the approach distance by the hyperbola.
    q = a.distance.to_value(u.km)
    vinf = a.v_inf.to_value(KMS)
    assert a.bplane.b.to_value(u.km) == pytest.approx(q * np.sqrt(1 + 2 * MU_E / (q * vinf**2)),
                                                      rel=1e-9)
    assert a.bplane.hyperbola.q.to_value(u.km) == pytest.approx(q, rel=1e-9)
    # A miss: outside the capture disc, by more than 3x.
    assert a.bplane.b > 3 * a.bplane.capture_radius
    # Orbit change (apophis.md section 2: Aten, a ~ 0.922 au -> Apollo, a > 1 au).
    assert a.change.class_before == "Aten" and a.change.class_after == "Apollo"
    assert a.change.a_before.to_value(u.au) == pytest.approx(0.922, abs=0.002)
    assert 1.09 < a.change.a_after.to_value(u.au) < 1.11
    # Peak brightness ~3.1 (JPL), within 0.2 mag (H-G model, geocentric observer).
    assert a.peak_magnitude == pytest.approx(3.1, abs=0.2)
    # Sub-asteroid point at closest approach over the Atlantic Ocean.
    k = int(np.argmin(np.abs((a.track_times - a.time).to_value(u.day))))
    assert -60 < a.visibility.sub_lon[k].to_value(u.deg) < -10
    assert -40 < a.visibility.sub_lat[k].to_value(u.deg) < 60


def test_orbit_change_bad_offset():
    with pytest.raises(InputError):
        orbit_change(apophis(), Time("2029-04-13", scale="tdb"), offset=-1 * u.day)


def test_topocentric_visibility_and_intervals():
    """From La Palma (Europe/Africa see it at night): above the horizon and brighter than
    mag 4 during dark hours; the Earth-orientation fallback warns instead of downloading."""
    site = EarthLocation.from_geodetic(lon=-17.88 * u.deg, lat=28.76 * u.deg, height=2400 * u.m)
    t0 = Time("2029-04-13 21:46", scale="tdb")
    times = t0 + np.linspace(-0.25, 0.25, 61) * u.day
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vis = visibility(apophis(), times, location=site,
                         ephemeris=Ephemeris.open(asteroids=False))
    assert any(issubclass(w.category, EarthOrientationWarning) for w in caught)
    k = 30
    assert vis.alt[k] > 30 * u.deg
    assert vis.sun_alt[k] < -12 * u.deg
    # Topocentric distance differs from geocentric by at most an Earth radius.
    geo = visibility(apophis(), times, ephemeris=Ephemeris.open(asteroids=False))
    assert np.all(np.abs(vis.delta - geo.delta) <= 6379 * u.km)
    spans = bright_intervals(vis, 4.0, sun_altitude_max=-12 * u.deg)
    assert len(spans) >= 1
    start, end = spans[0]
    assert start <= times[k] <= end
    with pytest.raises(InputError):
        bright_intervals(geo, 4.0, sun_altitude_max=-12 * u.deg)


def test_flyby_figures_written(analysis, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from apophis_sim.plotting import write_flyby_figures

    paths = write_flyby_figures(analysis, tmp_path)
    names = sorted(p.name for p in paths)
    assert names == sorted(["flyby_geometry.png", "flyby_geometry_moon.png", "distance_speed.png",
                            "bplane.png", "ground_track.png", "orbit_change.png"])
    for p in paths:
        assert p.stat().st_size > 10_000


def test_plot_functions_return_ax(analysis):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from apophis_sim.plotting import plot_bplane, plot_distance_speed, plot_ground_track

    fig, ax = plt.subplots()
    assert plot_bplane(ax, analysis.bplane) is ax
    assert ax.get_xlabel() == r"$\xi$ [km]"
    fig2, ax2 = plt.subplots()
    r = np.linalg.norm(analysis.track_r, axis=1)
    s = np.linalg.norm(analysis.track_v, axis=1)
    assert plot_distance_speed(ax2, analysis.track_times, r, s) is ax2
    assert "UTC" in ax2.get_xlabel()
    fig3, ax3 = plt.subplots()
    assert plot_ground_track(ax3, analysis.visibility.sub_lon, analysis.visibility.sub_lat) is ax3
    plt.close("all")


def test_flyby_cli_json_has_bplane_and_orbit_change(capsys):
    assert main(["flyby", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("earth", "moon", "bplane", "orbit_change", "model"):
        assert key in out
    for key in ("time_tdb_jd", "time_utc_iso", "distance_km", "v_rel_km_s", "v_inf_km_s"):
        assert key in out["earth"] and key in out["moon"]
    assert set(("xi_km", "zeta_km", "b_km")) <= set(out["bplane"])
    assert out["orbit_change"]["class_before"] == "Aten"
    assert out["orbit_change"]["class_after"] == "Apollo"
    assert abs(out["earth"]["distance_km"] - 38011.459) < 0.5
    assert "utc_note" in out
