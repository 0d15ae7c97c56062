"""Deflection: the STM prediction of an impulse's effect on the 2029 encounter against full
n-body propagation, the deflected solution's covariance, kinetic impactors, the CLI."""

from __future__ import annotations

import json

import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time

from apophis_sim.cli import main
from apophis_sim.ephemeris import Ephemeris
from apophis_sim.errors import (InputError, NonFiniteInputError, PhysicalTypeError,
                                UnknownNameError)
from apophis_sim.nbody import apophis, close_approaches
from apophis_sim.risk import deflect, deflection_map, kinetic_impactor_dv
from apophis_sim.uncertainty import linear_encounter


def _sigmas(lin):
    """1-sigma of (CA time [day], distance, xi, zeta [km]): the canonical vector's."""
    return np.sqrt(np.diag(lin.covariance))


AT = Time("2028-04-13", scale="tdb")


@pytest.fixture(scope="module")
def planets_only() -> Ephemeris:
    return Ephemeris.open(asteroids=False)


@pytest.fixture(scope="module")
def base(planets_only):
    return linear_encounter(apophis(), ephemeris=planets_only)


@pytest.mark.parametrize("direction", [0, 1, 2])
def test_map_matches_full_propagation(direction, base, planets_only):
    """0.2 mm/s along R, T or N a year before the flyby: the linear B-plane and distance
    shifts agree with a full propagation of the deflected orbit to 1e-3 of the shift
    (+ 1 m), and the deflected solution carries the same encounter covariance (its
    covariance was re-expressed in elements at the impulse time: sigmas to 2e-3)."""
    sol = apophis()
    m = deflection_map(sol, AT, ephemeris=planets_only)
    dv = np.zeros(3)
    dv[direction] = 0.2
    d = deflect(sol, dv * u.mm / u.s, AT, ephemeris=planets_only)
    after = linear_encounter(d.solution, ephemeris=planets_only)
    full = after.nominal_vector[1:] - base.nominal_vector[1:]
    lin = 0.2 * np.array([m["ddistance"][direction].value, m["dxi"][direction].value,
                          m["dzeta"][direction].value])
    assert np.all(np.abs(full - lin) < 1e-3 * np.abs(full) + 1e-3), (full, lin)
    np.testing.assert_allclose(_sigmas(after), _sigmas(base), rtol=2e-3)
    assert d.solution.state.epoch.tdb.jd == pytest.approx(AT.jd)
    assert "deflections" in d.solution.provenance


def test_zero_impulse_is_the_same_orbit(base, planets_only):
    """No impulse: re-expressing the state and covariance at the impulse time changes the
    2029 approach by < 1 m and its sigmas by < 1e-3."""
    d = deflect(apophis(), [0.0, 0.0, 0.0] * u.mm / u.s, AT, ephemeris=planets_only)
    after = linear_encounter(d.solution, ephemeris=planets_only)
    assert abs(after.nominal_vector[1] - base.nominal_vector[1]) < 1e-3
    np.testing.assert_allclose(_sigmas(after), _sigmas(base), rtol=1e-3)


def test_along_track_dominates_a_year_ahead(planets_only):
    """A year before the flyby, 1 km of miss distance costs ~17 um/s along the track and
    > 50x more radially or normally (the along-track push accumulates a timing shift)."""
    m = deflection_map(apophis(), AT, ephemeris=planets_only)
    per_km = {d: m["dv_per_km"][k].to_value(u.mm / u.s / u.km) for k, d in enumerate("RTN")}
    assert 0.01 < per_km["T"] < 0.03
    assert per_km["R"] > 20 * per_km["T"] and per_km["N"] > 50 * per_km["T"]
    assert m["lead_time"][0].to_value(u.day) == pytest.approx(365.9, abs=0.1)


def test_kinetic_impactor():
    """beta m u / M, in the direction of u: 500 kg at 6 km/s with beta 3.6 on 6e10 kg."""
    dv = kinetic_impactor_dv(500 * u.kg, [0, 6, 0] * u.km / u.s, 6e10 * u.kg, beta=3.6)
    np.testing.assert_allclose(dv.to_value(u.mm / u.s), [0.0, 3.6 * 500 * 6e6 / 6e10, 0.0],
                               rtol=1e-12)
    with pytest.raises(InputError, match="beta"):
        kinetic_impactor_dv(500 * u.kg, [0, 6, 0] * u.km / u.s, 6e10 * u.kg, beta=0.5)
    with pytest.raises(PhysicalTypeError):
        kinetic_impactor_dv(500 * u.m, [0, 6, 0] * u.km / u.s, 6e10 * u.kg)
    with pytest.raises(NonFiniteInputError):
        kinetic_impactor_dv(500 * u.kg, [0, np.nan, 0] * u.km / u.s, 6e10 * u.kg)


def test_bad_input(planets_only):
    sol = apophis()
    with pytest.raises(PhysicalTypeError):
        deflect(sol, [0, 1, 0] * u.km, AT)
    with pytest.raises(PhysicalTypeError):
        deflect(sol, [0, 1, 0], AT)
    with pytest.raises(UnknownNameError):
        deflect(sol, [0, 1, 0] * u.mm / u.s, AT, frame="lvlh")
    with pytest.raises(InputError, match="before the encounter"):
        deflection_map(sol, Time("2029-06-01", scale="tdb"), ephemeris=planets_only)


def test_cli(capsys, tmp_path):
    assert main(["deflect", "--dv", "0,0.1,0", "--at", "2028-04-13", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    change = r["after"]["distance_km"] - r["before"]["distance_km"]
    assert change == pytest.approx(r["linear_prediction"]["distance_km"], rel=1e-3)
    assert 5.0 < change < 7.0
    with pytest.raises(SystemExit):  # argparse: --dv needs three numbers
        main(["deflect", "--dv", "0,1", "--at", "2028-04-13"])
    capsys.readouterr()
    for argv in (["--dv", "0,1,0", "--at", "2030-01-01"],  # after the encounter
                 ["--dv", "0,1,0", "--at", "nonsense"]):
        assert main(["deflect", *argv]) == 2
        err = capsys.readouterr().err
        assert err.startswith("apophis-sim: error: --at") and err.count("\n") == 1


def test_dv_for_shift():
    """The impulse a year ahead that moves the 2029 approach by +1 km along the track
    (STM first guess ~17 um/s, iterated on full propagations to 1 m), checked by an
    independent close-approach search of the deflected orbit; and the least-norm
    impulse that moves zeta by -1 267 km, the distance to the 2036 keyhole (~20 mm/s,
    non-linear enough that the secant iteration matters)."""
    from apophis_sim.risk import dv_for_shift

    at = Time("2028-04-13", scale="tdb")
    sol = apophis()
    one = dv_for_shift(sol, at, distance=1 * u.km, direction="T")
    assert abs(one.achieved.to_value(u.km) - 1.0) < 1e-3
    assert 0.010 < one.dv.to_value(u.mm / u.s) < 0.030
    r, t, n = one.dv_rtn.to_value(u.mm / u.s)
    assert r == 0.0 and n == 0.0 and t > 0
    until = Time("2029-04-20", scale="tdb")
    d0 = close_approaches(sol, until, bodies=("earth",), distance_max=0.01 * u.au)
    d1 = close_approaches(one.deflection.solution, until, bodies=("earth",),
                          distance_max=0.01 * u.au)
    change = (d1["distance"][0] - d0["distance"][0]).to_value(u.km)
    assert abs(change - 1.0) < 2e-3
    far = dv_for_shift(sol, at, zeta=-1267 * u.km, direction="min")
    assert abs(far.achieved.to_value(u.km) + 1267) < 1e-3
    assert 15 < far.dv.to_value(u.mm / u.s) < 25
    assert "EncounterShift zeta" in repr(far)
    with pytest.raises(InputError):
        dv_for_shift(sol, at)
    with pytest.raises(InputError):
        dv_for_shift(sol, at, zeta=1 * u.km, distance=1 * u.km)


def test_dv_into_the_2036_keyhole():
    """A year ahead, an along-track impulse of ~20.06 mm/s puts #220 through the 2036
    keyhole: the Brent search on full propagations finds a return inside the focused
    radius, and the integrator, run on to 2037 with impacts on, confirms the impact on
    2036-04-13. The STM estimate from the keyhole's LOV crossing (20.58 mm/s) is not it:
    the impulse moves the b-plane point along another line than the LOV."""
    from apophis_sim.risk import dv_into_keyhole, first_impact, keyholes

    until = Time("2037-01-01", scale="tdb")
    sol = apophis()
    kh = keyholes(sol, until)
    r = dv_into_keyhole(sol, AT, kh)
    assert r.hits and "inside" in repr(r)
    assert 19.5 < r.dv.to_value(u.mm / u.s) < 20.6
    assert abs(r.dv.to_value(u.mm / u.s) - 20.578) > 0.1
    hit = first_impact(r.deflection.solution, until)
    assert hit is not None and hit.time.tdb.iso.startswith("2036-04-13")
    with pytest.raises(InputError):
        dv_into_keyhole(sol, AT, kh, row=5)


def test_shift_and_keyhole_name_at():
    """Bad impulse times are blamed on ``at`` (not on the internal ``to``/``times``), and
    the ground point wants a Time."""
    from apophis_sim.errors import EphemerisRangeError, TimeInputError
    from apophis_sim.risk import dv_for_shift, impact_site

    sol = apophis()
    for bad, kind in ((Time("1500-01-01", scale="tdb"), EphemerisRangeError),
                      (AT + np.nan * u.day, NonFiniteInputError),
                      (Time(["2028-01-01", "2028-02-01"], scale="tdb"), InputError)):
        with pytest.raises(kind, match=r"^at\b"):
            dv_for_shift(sol, bad, zeta=1 * u.km)
    with pytest.raises(TimeInputError, match="time"):
        impact_site(np.array([6378.0, 0.0, 0.0]), "2029-04-13")
