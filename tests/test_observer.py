"""Observer ephemerides (apophis_sim.tables.observer), sites, the `ephemeris` CLI, the sky plot.

Cross-checks with stated tolerances:
* astropy's own coordinate machinery (ICRS -> TETE / AltAz, EarthLocation.get_gcrs_posvel,
  with astropy pointed at the same DE440 file) on the same barycentric vectors, the
  object taken from a separate n-body integration at the light-time-corrected epochs:
  astrometric, apparent and alt/az agree to 0.1 mas (measured < 0.002 mas), range to
  1 cm (measured < 1 mm; this also bounds the Taylor light-time step back);
* visibility.py: sub-point within 0.01 deg, V within 0.005 mag, directions within the
  light-time displacement (visibility is geometric), flyby angular rate ~40 deg/h equal
  to finite differences of visibility's RA/Dec to 0.5 %;
* the 3-sigma ellipse equals a sampled projection of covariance_at at t - tau (2 %).
No published Horizons observer table for Apophis was found to cite; none is used.
"""

from __future__ import annotations

import json
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import (ICRS, TETE, AltAz, CartesianRepresentation, EarthLocation,
                                 UnitSphericalRepresentation, get_body_barycentric,
                                 solar_system_ephemeris)
from astropy.time import Time

import apophis_sim as A
from apophis_sim import errors
from apophis_sim.tables import observer, site
from apophis_sim.visibility import offline_earth_orientation, visibility

MAS = 1.0 / 3.6e6  # deg


@pytest.fixture(scope="module")
def sol():
    return A.apophis()


@pytest.fixture(scope="module")
def eph():
    return A.Ephemeris.open()


def _wrap(d_deg):
    return (np.asarray(d_deg) + 180.0) % 360.0 - 180.0


FLYBY = Time("2029-04-13 12:00", scale="tdb") + np.linspace(0, 0.5, 7) * u.day
FAR = Time("2028-12-20", scale="tdb") + np.linspace(0, 60, 7) * u.day


@pytest.mark.parametrize("times", [FLYBY, FAR], ids=["flyby", "far"])
@pytest.mark.parametrize("code", ["500", "568"])
def test_astropy_cross_check(sol, eph, times, code):
    tab = observer(sol, times, code, uncertainty=False)
    loc = site(code).location
    tret = Time(times.jd1, times.jd2 - tab["light_time"].to_value(u.day), format="jd",
                scale="tdb")
    r = A.propagate_nbody_grid(sol, tret).to_centre("ssb").to_frame("icrf").r_au
    with solar_system_ephemeris.set(str(eph.paths[0])), offline_earth_orientation():
        pos, _ = loc.get_gcrs_posvel(times)
        obs = get_body_barycentric("earth", times).xyz.to_value(u.au).T + pos.xyz.to_value(u.au).T
        rho = r - obs
        sph = CartesianRepresentation(rho.T * u.au).represent_as(UnitSphericalRepresentation)
        coord = ICRS(CartesianRepresentation(r.T * u.au))
        tete = coord.transform_to(TETE(obstime=times, location=loc))
        altaz = coord.transform_to(AltAz(obstime=times, location=loc)) if code != "500" else None
    cosd = np.cos(np.radians(tab["dec"].value))
    tol = 0.1 * MAS
    assert np.all(np.abs(_wrap(sph.lon.deg - tab["ra"].value)) * cosd < tol)
    assert np.all(np.abs(sph.lat.deg - tab["dec"].value) < tol)
    assert np.all(np.abs(np.linalg.norm(rho, axis=1) - tab["delta"].to_value(u.au))
                  * 1.495978707e11 < 0.01)  # metres
    assert np.all(np.abs(_wrap(tete.ra.deg - tab["ra_app"].value)) * cosd < tol)
    assert np.all(np.abs(tete.dec.deg - tab["dec_app"].value) < tol)
    if altaz is not None:
        cosa = np.cos(np.radians(tab["alt"].value))
        assert np.all(np.abs(_wrap(altaz.az.deg - tab["az"].value)) * cosa < tol)
        assert np.all(np.abs(altaz.alt.deg - tab["alt"].value) < tol)
    # apparent differs from astrometric by aberration (~20") and precession since J2000
    sep = np.hypot(_wrap(tab["ra_app"].value - tab["ra"].value) * cosd,
                   tab["dec_app"].value - tab["dec"].value)
    assert np.all((sep > 0.05) & (sep < 0.5))


def test_flyby_agrees_with_visibility(sol):
    t = Time("2029-04-13 21:00", scale="tdb") + np.linspace(0, 1.5 / 24, 31) * u.day
    tab = observer(sol, t, "500")
    vis = visibility(sol, t)
    assert np.all(np.abs(vis.sub_lat.to_value(u.deg) - tab["sub_lat"].value) < 0.01)
    assert np.all(np.abs(_wrap(vis.sub_lon.to_value(u.deg) - tab["sub_lon"].value)) < 0.01)
    assert np.all(np.abs(vis.magnitude - tab["V"].value) < 0.005)
    rate = np.hypot(tab["ra_rate"], tab["dec_rate"]).to_value(u.deg / u.h)
    # visibility is geometric: directions differ by the light-time displacement only,
    # the object's barycentric velocity (< 40 km/s) times the light time
    dra = _wrap(vis.ra.to_value(u.deg) - tab["ra"].value) * np.cos(np.radians(tab["dec"].value))
    sep = np.hypot(dra, vis.dec.to_value(u.deg) - tab["dec"].value)
    shift = np.degrees(40.0 * tab["light_time"].to_value(u.s) / tab["delta"].to_value(u.km))
    assert np.all(sep < shift) and np.all(sep > 0.1 * shift)
    k = int(np.argmin(tab["delta"]))
    assert 38_000 < tab["delta"][k].to_value(u.km) < 38_030
    assert 39.0 < rate[k] < 41.5  # ~40 deg/h near closest approach
    ra, dec = np.unwrap(vis.ra.to_value(u.rad)), vis.dec.to_value(u.rad)
    dt_h = (t[1] - t[0]).to_value(u.h)
    fd = np.degrees(np.hypot(np.gradient(ra, dt_h) * np.cos(dec), np.gradient(dec, dt_h)))
    assert np.all(np.abs(fd[2:-2] / rate[2:-2] - 1) < 0.005)


def test_ellipse_matches_sampled_projection(sol):
    from apophis_sim.uncertainty import covariance_at

    t = Time(["2029-04-13 18:00", "2029-04-13 23:00"], scale="tdb")
    tab = observer(sol, t, "568")
    st = site("568")
    tret = Time(t.jd1, t.jd2 - tab["light_time"].to_value(u.day), format="jd", scale="tdb")
    cov = covariance_at(sol, tret)
    rng = np.random.default_rng(11)
    for k in range(len(t)):
        # position of the observer from the table's own vectors: object - rho
        dirs = np.array([np.cos(np.radians(tab["dec"][k].value)) * np.cos(np.radians(tab["ra"][k].value)),
                         np.cos(np.radians(tab["dec"][k].value)) * np.sin(np.radians(tab["ra"][k].value)),
                         np.sin(np.radians(tab["dec"][k].value))])
        rho = dirs * tab["delta"][k].to_value(u.au)
        dr = rng.multivariate_normal(np.zeros(3), cov.matrix[k, :3, :3], size=20000)
        c = CartesianRepresentation((rho + dr).T * u.au).represent_as(UnitSphericalRepresentation)
        de = _wrap(c.lon.deg - tab["ra"][k].value) * np.cos(np.radians(tab["dec"][k].value)) * 3600
        dn = (c.lat.deg - tab["dec"][k].value) * 3600
        w, v = np.linalg.eigh(np.cov(np.stack([de, dn])))
        assert 3 * np.sqrt(w[1]) == pytest.approx(tab["smaa_3sig"][k].value, rel=0.02)
        assert 3 * np.sqrt(w[0]) == pytest.approx(tab["smia_3sig"][k].value, rel=0.03)
        pa = np.degrees(np.arctan2(v[0, 1], v[1, 1]))
        assert abs(_wrap(2 * (pa - tab["theta"][k].value)) / 2) < 2.0
        assert tab["rss_3sig"][k].value == pytest.approx(
            np.hypot(tab["smaa_3sig"][k].value, tab["smia_3sig"][k].value))
    assert st.kind == "earth"


def test_sites_and_spacecraft(sol, eph):
    s = site("568")
    assert s.name == "Maunakea"
    assert np.degrees(s.lat_rad) == pytest.approx(19.82, abs=0.02)
    assert s.height_m == pytest.approx(4200, abs=150)
    t = FLYBY[:3]
    a = observer(sol, t, "568", uncertainty=False)
    b = observer(sol, t, s.location, uncertainty=False)
    assert np.allclose(a["ra"].value, b["ra"].value, atol=1e-9)
    assert np.allclose(a["alt"].value, b["alt"].value, atol=1e-9)
    geo = observer(sol, t, "500", uncertainty=False)
    assert "alt" not in geo.colnames and "sub_lat" in geo.colnames
    # a spacecraft given as states at the times: the Earth's own -> equals the geocentre
    e_r, e_v = eph.posvel("earth", t.jd1, t.jd2)
    craft = A.State.from_arrays(e_r, e_v, t.jd1, t.jd2, "icrf", "ssb")
    sc = observer(sol, t, craft, uncertainty=False)
    assert np.allclose(sc["ra"].value, geo["ra"].value, atol=1e-9)
    assert np.allclose(sc["ra_app"].value, geo["ra_app"].value, atol=1e-8)
    assert "alt" not in sc.colnames and "sub_lat" not in sc.colnames
    # Ramses-like companion 100 km sunward... along +x of Apophis, propagated (n-body)
    t0 = Time("2029-04-20", scale="tdb")
    ap = A.propagate_nbody(sol, t0)
    ramses = A.State(ap.r + [100.0, 0, 0] * u.km, ap.v, t0, ap.frame, ap.centre)
    view = observer(sol, Time([t0.jd1], [t0.jd2], format="jd", scale="tdb"), ramses,
                    uncertainty=False)
    assert view["delta"][0].to_value(u.km) == pytest.approx(100.0, abs=0.01)
    assert view["ra"][0].value == pytest.approx(180.0, abs=0.01)
    assert view["dec"][0].value == pytest.approx(0.0, abs=0.01)


def test_flags_change_output(sol):
    t = FLYBY[:4]
    base = observer(sol, t, "568", uncertainty=False)
    refr = observer(sol, t, "568", uncertainty=False, refraction=True)
    up = base["alt"].value > 5
    assert np.all(refr["alt"].value[up] > base["alt"].value[up])  # refraction lifts
    assert np.all(refr["alt"].value[up] - base["alt"].value[up] < 0.2)
    assert np.array_equal(refr["ra"].value, base["ra"].value)
    dop = observer(sol, t, "568", uncertainty=False, radar_frequency=2380 * u.MHz)
    assert np.allclose(dop["doppler"].value / base["doppler"].value, 2380 / 8560)
    assert np.allclose(base["radar_delay"].to_value(u.s),
                       2 * base["delta"].to_value(u.km) / 299792.458, rtol=1e-9)
    bright = observer(sol, t, "568", uncertainty=False, H=18.09)
    assert np.allclose(base["V"].value - bright["V"].value, 1.0)
    assert "smaa_3sig" not in base.colnames
    assert "smaa_3sig" in observer(sol, t[:1], "568").colnames


def test_comet_without_H(sol):
    c = A.OrbitSolution.from_sbdb("tests/data/sbdb/C_2022_E3.json")
    t = Time("2023-02-01", scale="tdb") + np.arange(3) * u.day
    tab = observer(c, t, "500")
    assert "V" not in tab.colnames and "T_mag" in tab.colnames
    assert np.all(np.isfinite(tab["T_mag"].value))
    assert 4 < tab["T_mag"][0].value < 9  # C/2022 E3 (ZTF) was ~5th mag on 1 Feb 2023
    assert any("T_mag" in n for n in tab.meta["notes"])
    state = A.propagate_nbody(sol, t[0])
    tab = observer(state, t[:1], "500")
    assert "V" not in tab.colnames and any("no magnitude" in n for n in tab.meta["notes"])
    assert "V" in observer(state, t[:1], "500", H=19.09, G=0.24).colnames


def test_outputs(sol, tmp_path):
    tab = observer(sol, FLYBY[:3], "568")
    text = repr(tab)
    assert text.startswith("<ObserverTable 99942 Apophis") and "3 rows" in text
    assert len(text.splitlines()) < 12
    assert "<p>ObserverTable" in tab._repr_html_()
    pytest.importorskip("pandas")
    df = tab.to_pandas()
    assert len(df) == 3 and "smaa_3sig" in df.columns
    csv = tab.to_csv(tmp_path / "t.csv")
    header = csv.splitlines()[0]
    assert "ra [deg]" in header and "time_utc [UTC]" in header and "ra_rate [arcsec / min]" in header
    obj = json.loads(tab.to_json(tmp_path / "t.json"))
    assert obj["units"]["delta"] == "AU" and len(obj["rows"]) == 3
    assert obj["meta"]["site"] == "568 (Maunakea)"
    for name in tab.colnames:
        col = tab[name]
        assert isinstance(col, (u.Quantity, Time)) or name == "elong_flag"
    assert tab["time_tdb"].scale == "tdb" and tab["time_utc"].scale == "utc"


# ----------------------------------------------------------------------------- bad input


def test_unknown_site_lists_near_matches():
    with pytest.raises(errors.UnknownSiteError) as exc:
        site("5OO")
    assert "500" in str(exc.value) and isinstance(exc.value, KeyError)
    with pytest.raises(errors.UnknownSiteError, match="Maunakea"):
        site("Maunakeaa")
    assert site("Maunakea").code == "568"


def test_impossible_and_spacebased_sites():
    with pytest.raises(errors.SiteError, match="impossible site coordinates"):
        site(EarthLocation.from_geodetic(10 * u.deg, 20 * u.deg, 1000 * u.km))
    with pytest.raises(errors.SiteError, match="space-based or roving"):
        site("C51")
    with pytest.raises(errors.SiteError):
        site(3.5)


def test_bad_times_and_sizes(sol):
    with pytest.raises(errors.TimeInputError):
        observer(sol, 2462240.5)
    with pytest.raises(errors.EphemerisRangeError, match="times"):
        observer(sol, Time("2700-01-01", scale="tdb"))
    many = Time("2029-01-01", scale="tdb") + np.arange(11) * u.day
    with pytest.raises(errors.TooManyRowsError, match="11 rows"):
        observer(sol, many, max_rows=10)
    with pytest.raises(errors.InputError, match="uncertainty=True"):
        observer(A.propagate_nbody(sol, many[0]), many[:1], uncertainty=True)
    with pytest.raises(errors.InputError, match="radar_frequency"):
        observer(sol, many[:1], radar_frequency=-1 * u.MHz)


# ----------------------------------------------------------------------------- CLI and plot


def _cli(capsys, *argv):
    from apophis_sim.cli import main

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_text_json_csv(capsys, tmp_path):
    base = ("ephemeris", "--site", "568", "--start", "2029-04-13 20:00", "--stop",
            "2029-04-13 21:00", "--step", "30m")
    rc, out, _ = _cli(capsys, *base, "--plots", str(tmp_path))
    assert rc == 0 and "$$SOE" in out and "$$EOE" in out and "Maunakea" in out
    rows = out.split("$$SOE")[1].split("$$EOE")[0].strip().splitlines()
    assert len(rows) == 3 and rows[0].startswith("2029-Apr-13 20:00:00")
    assert (tmp_path / "sky_track.png").stat().st_size > 1000
    rc, out, _ = _cli(capsys, *base, "--json")
    assert rc == 0 and len(json.loads(out)["rows"]) == 3
    rc, out, _ = _cli(capsys, *base, "--csv", "--no-uncertainty")
    assert rc == 0 and len(out.splitlines()) == 4 and "smaa_3sig" not in out


@pytest.mark.parametrize("argv, match", [
    (("--site", "5OO"), "500 \\(Geocentric\\)"),
    (("--site", "10,95,0"), "impossible coordinates"),
    (("--step", "0m"), "not a positive step"),
    (("--step", "-1h"), "not a positive step"),
    (("--step", "fortnight"), "cannot read"),
    (("--step", "1s", "--stop", "2029-06-01"), "rows"),
    (("--start", "2700-01-01", "--stop", "2700-01-02"), "outside the interval"),
])
def test_cli_bad_input(capsys, argv, match):
    args = {"--site": "500", "--start": "2029-04-13", "--stop": "2029-04-14", "--step": "1h"}
    args.update(dict(zip(argv[::2], argv[1::2])))
    rc, _, err = _cli(capsys, "ephemeris", *[f"{k}={v}" for k, v in args.items()])
    assert rc == 2
    import re

    assert re.search(match, err), err


def test_sky_plot_returns_ax(sol):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from apophis_sim.plotting import plot_observer_distance, plot_sky_track, sky_ellipse

    tab = observer(sol, FLYBY, "500")
    fig, ax = plt.subplots()
    assert plot_sky_track(ax, tab, n_ellipses=3) is ax
    assert len(ax.lines) == 4 and ax.xaxis_inverted()
    fig2, ax2 = plt.subplots()
    assert plot_observer_distance(ax2, tab) is ax2
    plt.close(fig)
    plt.close(fig2)
    x, y = sky_ellipse(10.0, 0.0, 3600.0, 1800.0, 0.0)
    assert np.ptp(y) == pytest.approx(2.0) and np.ptp(x) == pytest.approx(1.0)
