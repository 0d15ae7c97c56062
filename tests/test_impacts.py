"""Impact monitoring through keyholes: energies, Palermo scale, the virtual impactor of an
orbit moved into the 2036 keyhole against a plain Monte Carlo of its clones, and #220."""

from __future__ import annotations

import json
import math
import re

import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time

from apophis_sim.cli import main
from apophis_sim.ephemeris import Ephemeris
from apophis_sim.errors import InputError, UnknownNameError
from apophis_sim.nbody import apophis, close_approaches
from apophis_sim.risk import (impact_energy_mt, impact_probability, keyholes, orbit_through,
                              palermo_scale, torino_scale)
from apophis_sim.uncertainty import clone_states, sample_parameters

NOW = Time("2026-12-02", scale="tdb")
UNTIL = Time("2037-01-01", scale="tdb")


@pytest.fixture(scope="module")
def planets_only() -> Ephemeris:
    return Ephemeris.open(asteroids=False)


@pytest.fixture(scope="module")
def into_keyhole(planets_only):
    sol = apophis()
    kh = keyholes(sol, UNTIL, ephemeris=planets_only)
    return orbit_through(sol, zeta=kh["zeta"][0], ephemeris=planets_only)


@pytest.fixture(scope="module")
def kh_keyhole(into_keyhole, planets_only):
    """The keyhole search of the orbit moved into the 2036 keyhole (what
    impact_probability would search itself), shared by the tests that reuse it."""
    return keyholes(into_keyhole, UNTIL, ephemeris=planets_only)


@pytest.fixture(scope="module")
def ip_keyhole(into_keyhole, kh_keyhole, planets_only):
    return impact_probability(into_keyhole, UNTIL, now=NOW, ephemeris=planets_only,
                              keyhole_table=kh_keyhole)


def test_energy_and_palermo_closed_forms():
    """H = 19.09, albedo 0.35 -> D = 1329/sqrt(0.35) 10^(-19.09/5) = 0.341 km; 2.6 g/cm^3,
    12.63 km/s -> ~1 030 Mt. Palermo of IP = f_B dT is 0."""
    d_km = 1329.0 / math.sqrt(0.35) * 10 ** (-19.09 / 5)
    assert d_km == pytest.approx(0.341, abs=0.001)
    mass = 2600.0 * math.pi / 6 * (d_km * 1e3) ** 3
    e = impact_energy_mt(19.09, 12.63, albedo=0.35)
    assert e == pytest.approx(0.5 * mass * 12630.0**2 / 4.184e15, rel=1e-12)
    assert 900 < e < 1200
    fb = 0.03 * e ** -0.8
    assert palermo_scale(math.log10(fb * 7.0), e, 7.0) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(InputError):
        impact_energy_mt(float("nan"), 12.0)
    with pytest.raises(InputError):
        palermo_scale(-5.0, -1.0, 7.0)


def test_orbit_in_the_2036_keyhole_has_a_large_ip(into_keyhole, ip_keyhole, planets_only):
    """The orbit moved into the 2036 keyhole, with #220's covariance: the LOV mass of the
    623 m keyhole (+-0.27 sigma of zeta) is 0.213; with every direction of the covariance
    0.209 (the return's coordinate correlates 0.98 with zeta). 300 clones integrated to
    2036 with plain Monte Carlo (impacts detected in the integrator) agree within 4
    binomial standard errors (measured: 0.207 +- 0.007 from 3 000 clones of two seeds).
    The VI itself hits, at a ground point."""
    ip = ip_keyhole
    assert len(ip) == 1 and str(ip["resonance"][0]) == "7:6"
    assert ip["date"][0].tdb.iso.startswith("2036-04-13")
    assert 0.15 < ip["ip"][0] < 0.25
    assert 0.2 < 10 ** ip["log10_ip_lov"][0] < 0.23
    assert 0.9 < ip["lov_correlation"][0] <= 1.0
    assert ip["palermo"][0] > 1.0  # far above the background: a real threat
    # The VI orbit, integrated on, enters Earth's radius (the integrator's own detection)
    # within the hour of the keyhole's return date, at a finite ground point.
    assert ip["confirmed"][0]
    assert abs((ip["impact_time"][0] - ip["date"][0]).to_value(u.hour)) < 1.0
    assert -90 <= ip["latitude"][0].to_value(u.deg) <= 90
    assert -180 <= ip["longitude"][0].to_value(u.deg) <= 180
    n = 300
    states, ng = clone_states(into_keyhole, sample_parameters(into_keyhole, 36, 0, n))
    tab = close_approaches(states, Time("2036-06-01", scale="tdb"), bodies=("earth",),
                           distance_max=0.01 * u.au, nongrav=ng, ephemeris=planets_only,
                           progress=False)
    # Impacts as the integrator detects them (entry through Earth's radius).
    hit = tab[tab["impact"] & (tab["time"].jd > 2464000)]
    assert len(set(np.asarray(hit["particle"]).tolist())) == len(hit)  # one per clone
    p_mc = len(hit) / n
    se = math.sqrt(ip["ip"][0] * (1 - ip["ip"][0]) / n)
    assert abs(p_mc - ip["ip"][0]) < 4 * se, (p_mc, ip["ip"][0])


def test_torino_column(into_keyhole, kh_keyhole, ip_keyhole, planets_only):
    """The table's ``torino`` is torino_scale(ip, energy), and ``meta["torino_max"]`` the
    highest. The 2036 VI of the orbit moved into the keyhole (IP 0.209, 1 033 Mt) is 4
    or 5: it sits on the g_5 diagonal, which crosses IP 0.209 at 1 050 Mt (4 below
    it; the LOV-only IP 0.213 gives 5). Not rated (-1): an impact 100 years or more
    after ``now``, a Moon impact, a solution without H (no energy)."""
    ip = ip_keyhole
    assert ip.colnames[ip.colnames.index("palermo") + 1] == "torino"
    assert ip["torino"].dtype.kind == "i"
    energy = np.asarray(getattr(ip["energy"], "value", ip["energy"]), dtype=float)
    assert ip["torino"].tolist() == torino_scale(np.asarray(ip["ip"]), energy).tolist()
    assert ip["torino"][0] in (4, 5)
    assert ip.meta["torino_max"] == ip["torino"][0]
    # The same VI seen from 1930: 106 years ahead, beyond the scale's century.
    kw = {"ephemeris": planets_only, "full_covariance": False}
    old = impact_probability(into_keyhole, UNTIL, now=Time("1930-01-01", scale="tdb"),
                             keyhole_table=kh_keyhole, **kw)
    assert old["torino"].tolist() == [-1] and old.meta["torino_max"] == -1
    assert np.isfinite(old["palermo"][0])  # Palermo still computed
    # ... and from 1937: 99.3 years ahead, rated.
    near = impact_probability(into_keyhole, UNTIL, now=Time("1937-01-01", scale="tdb"),
                              keyhole_table=kh_keyhole, **kw)
    energy = np.asarray(getattr(near["energy"], "value", near["energy"]), dtype=float)
    assert near["torino"].tolist() == torino_scale(np.asarray(near["ip"]), energy).tolist()
    assert near["torino"][0] in (4, 5) and near.meta["torino_max"] == near["torino"][0]
    # The keyhole relabelled as a Moon impact: the Torino scale is for the Earth.
    moon = kh_keyhole.copy()
    moon["body"] = ["moon"] * len(moon)
    m = impact_probability(into_keyhole, UNTIL, now=NOW, bodies=("earth", "moon"),
                           keyhole_table=moon, **kw)
    assert m["torino"].tolist() == [-1] and m.meta["torino_max"] == -1
    # No H, no energy: not rated.
    import dataclasses

    no_h = dataclasses.replace(into_keyhole, H=None)
    n = impact_probability(no_h, UNTIL, now=NOW, keyhole_table=kh_keyhole, **kw)
    assert np.isnan(n["energy"][0]) and n["torino"].tolist() == [-1]


def test_cli_prints_torino(monkeypatch, capsys, into_keyhole, kh_keyhole, ip_keyhole):
    """``apophis-sim risk`` prints the Torino category beside Palermo and the highest one
    (the search replaced by the keyhole orbit's tables: only the printing is tested)."""
    from apophis_sim import risk

    monkeypatch.setattr(risk, "keyholes", lambda *a, **k: kh_keyhole)
    monkeypatch.setattr(risk, "impact_probability", lambda *a, **k: ip_keyhole)
    want = int(ip_keyhole["torino"][0])
    assert want in (4, 5)
    assert main(["risk", "--until", "2037"]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"Palermo \S+  Torino {want}\n", out), out
    assert f"highest Torino {want};" in out
    assert main(["risk", "--until", "2037", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["virtual_impactors"][0]["torino"] == want and r["torino_max"] == want
    unrated = ip_keyhole.copy()
    unrated["torino"] = [-1]
    unrated.meta["torino_max"] = -1
    monkeypatch.setattr(risk, "impact_probability", lambda *a, **k: unrated)
    assert main(["risk", "--until", "2037", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["virtual_impactors"][0]["torino"] is None and r["torino_max"] is None
    assert main(["risk", "--until", "2037"]) == 0
    out = capsys.readouterr().out
    assert "Torino n/a" in out and "highest Torino n/a;" in out


def test_impact_probability_figure(ip_keyhole):
    """The IP-by-year figure: one Earth VI drawn at (2036.28, log10 IP), the 1e-7 floor,
    both in the legend, the searched span on the x axis, no text over text."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from test_ux import assert_no_text_overlap

    from apophis_sim.plotting import plot_impact_probability

    fig, ax = plt.subplots(figsize=(7.5, 4.2), constrained_layout=True)
    plot_impact_probability(ax, ip_keyhole)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["virtual impactor (earth)", "IP = 1e-7 (monitoring floor)"]
    x, y = ax.lines[0].get_data()
    assert x[0] == pytest.approx(ip_keyhole["date"][0].tdb.decimalyear)
    assert y[0] == pytest.approx(ip_keyhole["log10_ip"][0])
    lo, hi = ax.get_xlim()
    assert lo < 2029.3 and hi > 2037.0
    assert ax.get_ylabel() == "log10 impact probability"
    assert_no_text_overlap(fig)
    plt.close(fig)
    with pytest.raises(InputError):
        plot_impact_probability(ax, ip_keyhole["date", "ip"])


def test_apophis_220_has_no_risk_to_2037(planets_only):
    """#220: the 2036 keyhole is ~1100 sigma away, log10 IP ~ -2.5e5: JPL's "no risk for at
    least 100 years" (to 2037 here; the CI-sized search)."""
    ip = impact_probability(apophis(), UNTIL, now=NOW, ephemeris=planets_only)
    assert len(ip) == 1
    assert ip["log10_ip"][0] < -1e5 and ip["ip"][0] == 0.0
    assert ip.meta["cumulative_ip"] == 0.0 and ip["palermo"][0] < -1e5
    assert ip["torino"][0] == 0 and ip.meta["torino_max"] == 0  # IP 0: no hazard


def test_bad_input():
    with pytest.raises(UnknownNameError):
        impact_probability(apophis(), UNTIL, bodies=("mars",))
    with pytest.raises(InputError):
        impact_probability(apophis().state, UNTIL)


def test_cli(capsys):
    assert main(["risk", "--until", "2037", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert [v["resonance"] for v in r["virtual_impactors"]] == ["7:6"]
    assert r["virtual_impactors"][0]["date_utc"].startswith("2036-04-13")
    assert r["virtual_impactors"][0]["impact_confirmed"] is True
    assert r["virtual_impactors"][0]["torino"] == 0 and r["torino_max"] == 0
    with pytest.raises(SystemExit):  # argparse usage errors: SystemExit(2)
        main(["risk", "--until", "1999"])
    with pytest.raises(SystemExit):
        main(["risk", "--mc-clones", "-1"])
    capsys.readouterr()
    from apophis_sim.cli.risk import MAX_CLONES
    from apophis_sim.uncertainty import montecarlo

    assert MAX_CLONES == montecarlo.MAX_CLONES  # the CLI's copy (no engine import at start)


def test_cli_monte_carlo(capsys, tmp_path):
    """--mc-clones: a seeded Monte Carlo beside the keyhole search (8 clones of #220 to
    2037: no impact, the 95 % upper bound 1 - 0.05^(1/8))."""
    assert main(["risk", "--until", "2037", "--json", "--mc-clones", "8", "--seed", "3",
                 "--scheduler", "serial", "--mc-out", str(tmp_path / "run"),
                 "--plots", str(tmp_path / "p")]) == 0
    r = json.loads(capsys.readouterr().out)
    mc = r["monte_carlo"]
    assert mc["n_clones"] == 8 and mc["seed"] == 3 and mc["events"] == []
    assert mc["cumulative_ip"] == 0.0
    assert mc["cumulative_ip_95"][1] == pytest.approx(3.8415 / 8 / (1 + 3.8415 / 8), rel=1e-4)
    assert (tmp_path / "run" / "manifest.json").exists()
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == [
        "risk_impact_probability.png", "risk_keyholes.png"]


def test_impact_monte_carlo_on_the_engine(into_keyhole, ip_keyhole, planets_only, tmp_path):
    """Plain Monte Carlo on the Dask engine's serial path with impacts detected in the
    integrator: 96 clones of the orbit moved into the 2036 keyhole give one 2036 Earth
    event whose Wilson interval holds the VI's IP (0.209); the 2029 encounter columns
    are bit-identical to a run without impact detection; a second call resumes from the
    folder (nothing recomputed, same table)."""
    from apophis_sim.risk import impact_monte_carlo, wilson_interval
    from apophis_sim.uncertainty import run_monte_carlo

    kw = dict(scheduler="serial", progress=False, chunk_size=32)
    mc = impact_monte_carlo(into_keyhole, UNTIL, 96, 7, bodies=("earth",), out=tmp_path / "mc",
                            **kw)
    assert len(mc) == 1 and mc["body"][0] == "earth"
    assert mc["date"][0].tdb.iso.startswith("2036-04-13")
    assert mc["ip_low"][0] <= ip_keyhole["ip"][0] <= mc["ip_high"][0]
    assert mc.meta["n_clones"] == 96 and mc.meta["complete"]
    again = impact_monte_carlo(into_keyhole, UNTIL, 96, 7, bodies=("earth",),
                               out=tmp_path / "mc", **kw)
    assert again["n_impacts"][0] == mc["n_impacts"][0]
    plain = run_monte_carlo(32, 7, solution=into_keyhole, **kw)
    from apophis_sim.uncertainty import load_monte_carlo

    with_imp = load_monte_carlo(tmp_path / "mc")
    for k in ("time_tdb_jd", "xi_km", "zeta_km", "distance_km"):
        assert np.array_equal(plain.columns[k], with_imp.columns[k][:32])
    assert set(np.unique(with_imp.columns["impact_body"])) <= {0, 1}
    hit = with_imp.columns["impact_body"] == 1
    assert np.all(with_imp.columns["impact_tdb_jd"][~hit] == 0.0)
    # Wilson interval: closed-form values for k = 0 and k = n / 2.
    lo, hi = wilson_interval(0, 100)
    assert lo == 0.0 and hi == pytest.approx(0.036995, abs=1e-5)
    lo, hi = wilson_interval(50, 100)
    assert (lo, hi) == (pytest.approx(0.40383, abs=1e-5), pytest.approx(0.59617, abs=1e-5))
    with pytest.raises(InputError):
        impact_monte_carlo(into_keyhole, "2037-01-01", 10, 0)
    with pytest.raises(UnknownNameError):
        impact_monte_carlo(into_keyhole, UNTIL, 10, 0, bodies=("mars",), scheduler="serial")
