"""Keyholes of close returns (``risk.return_keyholes``) and encounters after 2029
(``encounter=Time([start, end])``).

The physics check is independent of the keyhole machinery: every virtual impactor
the search reports is integrated on by the n-body integrator with its own impact
detection (``confirmed``), and must hit the Earth at the reported return while
missing it at the close return it comes through.
"""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time

from apophis_sim import apophis
from apophis_sim.errors import ConvergenceError, InputError
from apophis_sim.risk import keyholes, line_of_variations, return_keyholes

R_EARTH_KM = 6378.137
UNTIL = Time("2041-01-01", scale="tdb")


@pytest.fixture(scope="module")
def sol():
    return apophis()


@pytest.fixture(scope="module")
def close_returns(sol):
    return keyholes(sol, UNTIL, return_distance_max=0.01 * u.au, classify=False)


@pytest.fixture(scope="module")
def table(sol, close_returns):
    return return_keyholes(sol, UNTIL, returns=close_returns)


def test_close_returns_include_the_2036_return(close_returns):
    """The 7:6 return of 2036 passes within 0.01 au (it holds the 2036 impact keyhole)."""
    rows = close_returns[close_returns["resonance"] == "7:6"]
    assert len(rows) == 1
    assert rows["return_date"][0].tdb.iso.startswith("2036-04-13")
    assert "return closer than" in close_returns.meta["criterion"]


def test_a_2040_impact_through_the_2036_return(table):
    """A keyhole of the 2036 close return leads to an impact in April 2040 (4:3 from
    2036): the integrator confirms the impact, and the orbit misses the Earth in 2036."""
    rows = table[(table["via_resonance"] == "7:6") & (table["resonance"] == "4:3")]
    assert len(rows) >= 1
    row = rows[0]
    assert row["return_date"].tdb.iso.startswith("2040-04-13")
    assert row["confirmed"]
    assert abs(row["impact_time"].tdb.jd - row["return_date"].tdb.jd) < 1.0
    assert row["return_distance"].to_value(u.km) < R_EARTH_KM  # point masses: inside
    # A miss in 2036, far outside the capture disc: a genuine intermediate encounter.
    assert row["via_distance"].to_value(u.km) > 5 * R_EARTH_KM
    assert np.hypot(row["xi"], row["zeta"]).to_value(u.km) > 20_000.0
    # Next to the 2036 keyhole on the LOV (-1098 sigma), astronomically improbable.
    assert -1110.0 < row["sigma"] < -1090.0
    assert row["log10_ip"] < -2e5
    assert 12.0 < row["v_impact"].to_value(u.km / u.s) < 13.5


def test_rows_are_confirmed_or_explained(table):
    """Every reported keyhole is either confirmed by the integrator or its refusal is
    written down; nothing in the table hits the Earth at the close return itself."""
    assert table.meta["returns_followed"]
    # Only keyholes with a scanned orbit inside the Earth's radius are rows; the
    # integrator, with its own impact detection, confirms them.
    assert np.all(table["return_distance"].to_value(u.km) < R_EARTH_KM)
    assert np.all(table["confirmed"])
    assert np.all(table["return_date"].tdb.jd > table["via_date"].tdb.jd)
    assert table["sigma"].dtype.kind == "f"


def test_later_encounter_by_span(sol, close_returns):
    """``encounter=Time([start, end])`` picks the closest approach in that span even
    when an earlier one (2029) is closer."""
    from apophis_sim.risk.keyholes import _moved

    lov = line_of_variations(sol)
    s_c = close_returns.meta["_rows"][0]["_s_centre"]
    centre = _moved(sol, lov.parameters(s_c)[0])
    t_r = close_returns["return_date"][0].tdb
    span = Time([t_r.jd - 30, t_r.jd + 30], format="jd", scale="tdb")
    lov_r = line_of_variations(centre, encounter=span)
    assert abs(lov_r.time_tdb_jd - t_r.jd) < 1.0
    # ... while the default (before 2029-04-20) is the 2029 flyby.
    assert abs(line_of_variations(centre).time_tdb_jd - 2462240.4) < 1.0


def test_bad_input(sol, close_returns):
    with pytest.raises(InputError, match="return_distance_max"):
        return_keyholes(sol, UNTIL, return_distance_max=-1 * u.km, returns=close_returns)
    impact_only = keyholes(sol, Time("2037-01-01", scale="tdb"))
    with pytest.raises(InputError, match="returns must be"):
        return_keyholes(sol, UNTIL, returns=impact_only)
    with pytest.raises(InputError, match="solution must be"):
        return_keyholes("99942", UNTIL)
    with pytest.raises(InputError, match="span"):
        line_of_variations(sol, encounter=Time(["2036-05-01", "2036-04-01"], scale="tdb"))
    with pytest.raises(ConvergenceError, match="after"):
        line_of_variations(sol, encounter=Time(["2030-01-01", "2031-01-01"], scale="tdb"))


def test_cli_prints_the_return_keyholes(table, monkeypatch, capsys):
    """``apophis-sim risk --returns``: the close-return keyholes in the text and the
    JSON (the search itself is the fixture's, to keep this test short)."""
    import json

    import apophis_sim.risk as risk
    from apophis_sim.cli import main

    monkeypatch.setattr(risk, "return_keyholes", lambda *a, **k: table)
    assert main(["risk", "--until", "2041", "--returns", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    vis = report["return_keyholes"]["virtual_impactors"]
    assert len(vis) == len(table) >= 1
    assert vis[0]["via_resonance"] == "7:6" and vis[0]["impact_confirmed"]
    assert vis[0]["date_utc"].startswith("2040-04-13")
    assert main(["risk", "--until", "2041", "--returns"]) == 0
    text = capsys.readouterr().out
    assert "keyholes of close returns" in text and "via the 2036-04-13 7:6 return" in text


def test_classify_false_only_skips_the_scan(sol):
    """``classify=False`` finds the same keyholes; the crossings the secant could not
    settle stay "unresolved" (no 21-orbit scan)."""
    until = Time("2037-01-01", scale="tdb")
    a = keyholes(sol, until)
    b = keyholes(sol, until, classify=False)
    assert list(a["resonance"]) == list(b["resonance"])
    np.testing.assert_array_equal(a["zeta"].value, b["zeta"].value)
    assert {r["outcome"] for r in b.meta["resonances"]} <= {"keyhole", "close return",
                                                             "unresolved"}
