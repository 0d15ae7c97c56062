"""Tests of apophis_sim.rendezvous: Lambert with units, porkchops, launch windows, CLI, plots.

Three kinds, as everywhere in this suite:

* closed forms: a Hohmann transfer between circular coplanar orbits (vis-viva,
  Curtis 2014 sec. 6.2 / 8.3) gives C3 and the arrival v_inf exactly; a known
  asymptote gives its DLA/RLA;
* properties: every transfer of a real Earth -> Apophis porkchop, re-propagated
  with our two-body core, lands on Apophis; multi-revolution search never does
  worse than direct arcs; windows on a synthetic grid;
* bad input raises typed errors; infeasible cells are masked with a reason.
"""

from __future__ import annotations

import json
import math

import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time

from apophis_sim import State, propagate
from apophis_sim import rendezvous as rv
from apophis_sim._core.lambert import lambert as core_lambert
from apophis_sim.errors import (InputError, PhysicalTypeError, ShapeMismatchError,
                                TimeInputError, UnknownNameError)

GM_SUN = 2.9591220828411951e-04  # au^3/day^2 (DE440, also the module default)
KMS = 149_597_870.700 / 86400.0  # km/s per au/day
T0 = Time("2028-01-01", scale="tdb")


def _circular(radius_au: float, phase_rad: float, epoch: Time) -> State:
    """Heliocentric circular prograde orbit in the ICRF xy plane."""
    v = math.sqrt(GM_SUN / radius_au)
    r = radius_au * np.array([math.cos(phase_rad), math.sin(phase_rad), 0.0])
    vv = v * np.array([-math.sin(phase_rad), math.cos(phase_rad), 0.0])
    return State(r * u.au, vv * u.au / u.day, epoch, frame="icrf", centre="sun")


# ---------------------------------------------------------------------------
# closed forms
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("r2_au", [1.523679, 0.723332, 5.2026])  # Mars-, Venus-, Jupiter-like
def test_hohmann_c3_and_arrival_vinf(r2_au):
    """Porkchop of a near-Hohmann transfer vs vis-viva (Curtis 2014, eq. 8.2-8.4)."""
    r1 = 1.0
    a_t = 0.5 * (r1 + r2_au)
    t_h = math.pi * math.sqrt(a_t**3 / GM_SUN)  # half the transfer ellipse's period [day]
    n2 = math.sqrt(GM_SUN / r2_au**3)
    # Transfer angle 180 deg - 0.001 deg: a plane exists, the arc is Hohmann to O(eps).
    eps = math.radians(1e-3)
    arrival_angle = math.pi - eps
    target = _circular(r2_au, arrival_angle - n2 * t_h, T0)
    origin = _circular(r1, 0.0, T0)
    pc = rv.porkchop(T0.reshape((1,)), (T0 + t_h * u.day).reshape((1,)), origin, target)
    assert pc.status[0, 0] == 0
    v_c1, v_c2 = math.sqrt(GM_SUN / r1), math.sqrt(GM_SUN / r2_au)
    v_p = math.sqrt(GM_SUN * (2 / r1 - 1 / a_t))       # vis-viva at departure
    v_a = math.sqrt(GM_SUN * (2 / r2_au - 1 / a_t))    # and at arrival
    c3_exact = ((v_p - v_c1) * KMS) ** 2
    vinf_exact = abs(v_c2 - v_a) * KMS
    assert pc.c3[0, 0].to_value(u.km**2 / u.s**2) == pytest.approx(c3_exact, rel=1e-4)
    assert pc.v_inf_arrival[0, 0].to_value(u.km / u.s) == pytest.approx(vinf_exact, rel=1e-4)
    assert pc.total_dv[0, 0].to_value(u.km / u.s) == pytest.approx(
        math.sqrt(c3_exact) + vinf_exact, rel=1e-4)
    # Coplanar in the ICRF xy plane: the asymptote lies in the equator, along
    # +y (Earth's velocity at phase 0) for an outward transfer, -y inward.
    assert abs(pc.dla[0, 0].to_value(u.deg)) < 1e-6
    expected_rla = 90.0 if r2_au > r1 else 270.0
    assert pc.rla[0, 0].to_value(u.deg) == pytest.approx(expected_rla, abs=0.01)
    assert pc.revs[0, 0] == 0


@pytest.mark.parametrize("dec_deg, ra_deg", [(28.5, 10.0), (-45.0, 200.0), (0.0, 359.0),
                                             (80.0, 90.0)])
def test_dla_rla_of_a_known_asymptote(dec_deg, ra_deg):
    """porkchop_arrays recovers the declination / RA of a prescribed v_inf vector."""
    r_dep = np.array([[1.0, 0.1, 0.02]])
    r_arr = np.array([[-0.3, 0.9, 0.05]])
    tof = np.array([[150.0]])
    v1, _, st = core_lambert(r_dep[0], r_arr[0], 150.0, GM_SUN)
    assert st == 0
    d, a = math.radians(dec_deg), math.radians(ra_deg)
    w = 3.0 / KMS * np.array([math.cos(d) * math.cos(a), math.cos(d) * math.sin(a), math.sin(d)])
    out = rv.porkchop_arrays(r_dep, (v1 - w)[None], r_arr, np.zeros((1, 3)), tof, GM_SUN)
    assert out["dla"][0, 0] == pytest.approx(dec_deg, abs=1e-9)
    assert out["rla"][0, 0] == pytest.approx(ra_deg, abs=1e-9)
    assert out["c3"][0, 0] == pytest.approx(9.0, rel=1e-12)


# ---------------------------------------------------------------------------
# Earth -> Apophis porkchop
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ramses_pc() -> rv.Porkchop:
    dep = Time("2028-03-01", scale="tdb") + np.arange(0, 121, 4) * u.day
    arr = Time("2028-10-01", scale="tdb") + np.arange(0, 160, 4) * u.day
    return rv.porkchop(dep, arr)


def test_porkchop_shapes_units_and_mask(ramses_pc):
    pc = ramses_pc
    n, m = pc.shape
    assert (n, m) == (len(pc.departure), len(pc.arrival))
    assert pc.c3.unit == u.km**2 / u.s**2 and pc.total_dv.unit == u.km / u.s
    assert pc.v_inf_departure.shape == (n, m, 3) and pc.dla.unit == u.deg
    ok = pc.ok
    assert ok.any()
    np.testing.assert_allclose(pc.c3.value[ok],
                               np.sum(pc.v_inf_departure.value[ok] ** 2, axis=-1), rtol=1e-12)
    np.testing.assert_allclose(pc.total_dv.value[ok],
                               np.sqrt(pc.c3.value[ok]) + pc.v_inf_arrival.value[ok], rtol=1e-12)
    # Not-ok cells are NaN, never silent: every one has a reason.
    assert np.all(np.isnan(pc.c3.value[~ok])) and np.all(pc.revs[~ok] == -1)
    assert set(pc.reasons[~ok]) <= set(rv.CELL_STATUS_NAMES.values()) - {"OK"}


def test_porkchop_transfers_land_on_apophis(ramses_pc):
    """Each transfer's (r1, v1), re-propagated (two-body, same GM), reaches Apophis at arrival."""
    pc = ramses_pc
    rng = np.random.default_rng(5)
    cells = np.argwhere(pc.ok)
    for i, j in cells[rng.choice(len(cells), size=min(25, len(cells)), replace=False)]:
        end = propagate(pc.transfer(i, j), pc.arrival[j], gm=pc.gm)
        miss = np.linalg.norm(end.r.to_value(u.au) - pc.r_arrival[j].to_value(u.au))
        assert miss < 1e-9 * np.linalg.norm(pc.r_arrival[j].to_value(u.au))  # 150 m per au
        vinf = np.linalg.norm(pc.v_arrival[j].to_value(u.km / u.s)
                              - end.v.to_value(u.km / u.s))
        assert vinf == pytest.approx(pc.v_inf_arrival[i, j].to_value(u.km / u.s), rel=1e-8)


def test_earth_end_is_de440_heliocentric(ramses_pc):
    from apophis_sim import Ephemeris

    eph = Ephemeris.open()
    d = ramses_pc.departure
    re, ve = eph.posvel("earth", d.tdb.jd1, d.tdb.jd2)
    rs, vs = eph.posvel("sun", d.tdb.jd1, d.tdb.jd2)
    np.testing.assert_allclose(ramses_pc.r_departure.to_value(u.au), re - rs, atol=1e-14)


def test_nonpositive_tof_cells_are_masked():
    dep = Time("2028-05-01", scale="tdb") + np.arange(3) * u.day
    arr = Time("2028-05-01", scale="tdb") + np.array([0.0, 1.0, 200.0]) * u.day
    pc = rv.porkchop(dep, arr, "earth", "mars")
    assert pc.status[0, 0] == rv.STATUS_NONPOSITIVE_TOF and pc.reasons[2, 1] == "NONPOSITIVE_TOF"
    assert np.isnan(pc.c3[1, 0]) and pc.status[0, 2] == 0


def test_multi_rev_never_worse_than_direct():
    origin = _circular(1.0, 0.0, T0)
    target = _circular(0.92, 1.0, T0)
    dep = T0 + np.arange(0, 60, 10) * u.day
    arr = T0 + np.arange(300, 700, 25) * u.day
    direct = rv.porkchop(dep, arr, origin, target)
    multi = rv.porkchop(dep, arr, origin, target, max_revs=2)
    both = direct.ok
    assert np.all(multi.ok[both])
    assert np.all(multi.total_dv.value[both] <= direct.total_dv.value[both] + 1e-12)
    assert (multi.revs >= 1).any()  # long flights between close orbits: some arcs loop


def test_state_and_body_targets():
    """A user State as target: two-body from its epoch; a body target: DE440."""
    sol_state = rv.porkchop(T0.reshape((1,)), (T0 + 200 * u.day).reshape((1,)), "earth",
                            _circular(1.3, 0.5, T0))
    assert sol_state.status[0, 0] == 0 and sol_state.target == "state"
    tab = propagate(_circular(1.3, 0.5, T0), (T0 + 200 * u.day).reshape((1,)))
    from_table = rv.porkchop(T0.reshape((1,)), (T0 + 200 * u.day).reshape((1,)), "earth", tab)
    assert from_table.c3[0, 0].value == pytest.approx(sol_state.c3[0, 0].value, rel=1e-12)


# ---------------------------------------------------------------------------
# launch windows on a synthetic grid
# ---------------------------------------------------------------------------
def _synthetic(c3: np.ndarray, vinf: np.ndarray, dla: np.ndarray | None = None) -> rv.Porkchop:
    n, m = c3.shape
    dep = T0 + np.arange(n) * u.day
    arr = T0 + (100 + np.arange(m)) * u.day
    dla = np.zeros((n, m)) if dla is None else dla
    status = np.where(np.isfinite(c3), 0, 4).astype(np.int8)
    kms = u.km / u.s
    return rv.Porkchop(
        departure=dep, arrival=arr, c3=c3 * u.km**2 / u.s**2,
        v_inf_departure=np.zeros((n, m, 3)) * kms, dla=dla * u.deg, rla=np.zeros((n, m)) * u.deg,
        v_inf_arrival=vinf * kms, total_dv=(np.sqrt(c3) + vinf) * kms,
        tof=(arr.jd[None, :] - dep.jd[:, None]) * u.day, revs=np.zeros((n, m), int),
        branch=np.zeros((n, m), int), status=status)


def test_windows_on_a_synthetic_grid():
    n, m = 12, 4
    c3 = np.full((n, m), 50.0)
    vinf = np.full((n, m), 1.0)
    c3[1:4, 2] = [20.0, 10.0, 25.0]   # window A: rows 1-3, best row 2 (total 4.162)
    c3[6:8, 1] = [4.0, 9.0]           # window B: rows 6-7, best row 6 (total 3)
    c3[10, 3] = 1.0                   # window C: row 10, but arrival v_inf too high
    vinf[10, 3] = 5.0
    c3[0, 0] = np.nan                 # an unsolved cell is never feasible
    pc = _synthetic(c3, vinf)
    ws = rv.launch_windows(pc, c3_max=30 * u.km**2 / u.s**2, arrive_by=None,
                           v_inf_arrival_max=2 * u.km / u.s, dla_max=None)
    assert [w.rows for w in ws] == [(6, 7), (1, 3)]
    assert ws[0].index == (6, 1) and ws[1].index == (2, 2)
    assert ws[0].open == pc.departure[6] and ws[0].close == pc.departure[7]
    assert ws[1].total_dv.to_value(u.km / u.s) == pytest.approx(math.sqrt(10) + 1)
    assert ws[1].length.to_value(u.day) == pytest.approx(2.0)
    assert ws[1].columns == (2, 2)
    # Relaxing the arrival limit adds window C (total 6) last; ranking by C3 reorders.
    ws = rv.launch_windows(pc, c3_max=30 * u.km**2 / u.s**2, arrive_by=None,
                           v_inf_arrival_max=None, dla_max=None)
    assert [w.rows for w in ws] == [(6, 7), (1, 3), (10, 10)]
    ws = rv.launch_windows(pc, c3_max=30 * u.km**2 / u.s**2, arrive_by=None,
                           v_inf_arrival_max=None, dla_max=None, rank_by="c3")
    assert [w.rows for w in ws] == [(10, 10), (6, 7), (1, 3)]
    # An arrive_by before every arrival: nothing.
    assert rv.launch_windows(pc, arrive_by=T0 + 50 * u.day, dla_max=None) == []


def test_windows_dla_and_arrive_by_limits():
    c3 = np.full((5, 3), 10.0)
    vinf = np.full((5, 3), 1.0)
    dla = np.array([[10, 45, 45], [45, 45, 45], [-20, 45, 45], [-50, 45, 45], [0, 0, 0.]])
    pc = _synthetic(c3, vinf, dla)
    ws = rv.launch_windows(pc, dla_max=30 * u.deg, arrive_by=None)
    assert sorted(w.rows for w in ws) == [(0, 0), (2, 2), (4, 4)]
    # arrivals are T0 + 100, 101, 102 d: keep only the first column
    ws = rv.launch_windows(pc, dla_max=None, arrive_by=T0 + 100.5 * u.day)
    assert [w.rows for w in ws] == [(0, 4)] and ws[0].columns == (0, 0)


def test_default_windows_cover_esa_plan(ramses_pc):
    """With the documented defaults, a 2028 window exists and arrives by 2029-02-13."""
    ws = rv.launch_windows(ramses_pc)
    assert ws
    best = ws[0]
    assert best.best_arrival <= Time(rv.DEFAULT_ARRIVE_BY, scale="tdb")
    assert best.c3 <= rv.DEFAULT_C3_MAX and abs(best.dla) <= rv.DEFAULT_DLA_MAX
    keys = {"launch_open_utc", "launch_close_utc", "best_launch_utc", "best_arrival_utc",
            "c3_km2_s2", "v_inf_arrival_km_s", "total_dv_km_s", "dla_deg"}
    assert keys <= set(best.to_dict())


def test_ride_share_options():
    launch = Time("2028-05-01", scale="tdb")
    table = rv.ride_share_options(launch, 15 * u.km**2 / u.s**2)
    assert len(table) > 0
    assert np.all(table["c3"] <= 15 * u.km**2 / u.s**2)
    assert np.all(table["arrival"] <= Time(rv.DEFAULT_ARRIVE_BY, scale="tdb"))
    assert np.all(np.diff(table["v_inf_arrival"].value) >= 0)
    assert np.all(table["tof"] >= 30 * u.day)
    tight = rv.ride_share_options(launch, 0.01 * u.km**2 / u.s**2)
    assert len(tight) == 0


# ---------------------------------------------------------------------------
# Lambert with units
# ---------------------------------------------------------------------------
def test_lambert_units_vallado_5_7():
    """Vallado (2013) example 7-5 style check against the core: units in, km/s out."""
    r1 = [15945.34, 0.0, 0.0] * u.km
    r2 = [12214.83899, 10249.46731, 0.0] * u.km
    gm = 398600.4418 * u.km**3 / u.s**2
    sol = rv.lambert(r1, r2, 76.0 * u.min, gm=gm)
    # Vallado 2013, Example 7-5: v1 = (2.058913, 2.915965, 0) km/s.
    np.testing.assert_allclose(sol.v1.to_value(u.km / u.s), [2.058913, 2.915965, 0.0],
                               atol=2e-6)
    np.testing.assert_allclose(sol.v2.to_value(u.km / u.s), [-3.451565, 0.910315, 0.0],
                               atol=2e-6)
    assert sol.status == 0 and sol.reasons == "OK"


def test_lambert_bad_input_and_masking():
    r1 = [1.0, 0.0, 0.0] * u.au
    r2 = [0.0, 1.2, 0.0] * u.au
    with pytest.raises(PhysicalTypeError):
        rv.lambert([1.0, 0, 0], r2, 100 * u.day)
    with pytest.raises(PhysicalTypeError):
        rv.lambert(r1, r2, 100 * u.km)
    with pytest.raises(InputError, match="tof must be > 0"):
        rv.lambert(r1, r2, -5 * u.day)
    with pytest.raises(InputError, match="collinear"):
        rv.lambert(r1, [-2.0, 0.0, 0.0] * u.au, 100 * u.day)
    with pytest.raises(InputError, match="minimum"):
        rv.lambert(r1, r2, 100 * u.day, revs=3)
    with pytest.raises(UnknownNameError, match="left"):
        rv.lambert(r1, r2, 100 * u.day, branch="middle")
    with pytest.raises(ShapeMismatchError):
        rv.lambert([1.0, 0.0] * u.au, r2, 100 * u.day)
    with pytest.raises(InputError):
        rv.lambert(r1, r2, 100 * u.day, gm=-1 * u.au**3 / u.day**2)
    sol = rv.lambert(r1, r2, [100, 1000] * u.day, revs=1, on_failure="mask")
    assert list(sol.reasons) == ["NO_SOLUTION_FOR_REVS", "OK"]
    assert np.isnan(sol.v1[0]).all() and np.isfinite(sol.v1[1]).all()


def test_porkchop_bad_input():
    t = Time("2028-05-01", scale="tdb") + np.arange(3) * u.day
    with pytest.raises(TimeInputError):
        rv.porkchop(2462000.5 + np.arange(3), t)
    with pytest.raises(UnknownNameError, match="mars"):
        rv.porkchop(t, t + 100 * u.day, "marz")
    with pytest.raises(InputError, match="Sun"):
        rv.porkchop(t, t + 100 * u.day, "sun")
    with pytest.raises(InputError, match="max_revs"):
        rv.porkchop(t, t + 100 * u.day, "earth", "mars", max_revs=-1)
    with pytest.raises(ShapeMismatchError):
        rv.porkchop(t.reshape((3, 1)), t + 100 * u.day, "earth", "mars")
    with pytest.raises(InputError):
        rv.porkchop(t, t + 100 * u.day, "earth", 42)
    with pytest.raises(PhysicalTypeError):
        rv.launch_windows(_synthetic(np.ones((2, 2)), np.ones((2, 2))), c3_max=30.0)
    with pytest.raises(UnknownNameError):
        rv.launch_windows(_synthetic(np.ones((2, 2)), np.ones((2, 2))), rank_by="fuel")


def test_lambert_matches_boinor():
    izzo = pytest.importorskip("boinor.core.iod").izzo
    r1 = np.array([0.98, 0.2, 0.001])
    r2 = np.array([-0.7, 0.55, 0.03])
    sol = rv.lambert(r1 * u.au, r2 * u.au, 210 * u.day)
    v1_ref, v2_ref = izzo(GM_SUN, r1, r2, 210.0, 0, True, True, 35, 1e-12)
    np.testing.assert_allclose(sol.v1.to_value(u.km / u.s), v1_ref * KMS, rtol=1e-9)
    np.testing.assert_allclose(sol.v2.to_value(u.km / u.s), v2_ref * KMS, rtol=1e-9)


# ---------------------------------------------------------------------------
# CLI and plots
# ---------------------------------------------------------------------------
def test_cli_windows_json(capsys, tmp_path):
    from apophis_sim.cli import main

    code = main(["windows", "--json", "--launch-start", "2028-03-01", "--launch-end",
                 "2028-06-30", "--step", "3", "--plots", str(tmp_path)])
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert isinstance(rows, list) and rows
    for key in ("launch_open_utc", "launch_close_utc", "best_launch_utc", "best_arrival_utc",
                "c3_km2_s2", "v_inf_arrival_km_s", "total_dv_km_s", "dla_deg"):
        assert key in rows[0]
    assert rows[0]["launch_open_utc"] <= rows[0]["best_launch_utc"] <= rows[0]["launch_close_utc"]
    totals = [r["total_dv_km_s"] for r in rows]
    assert totals == sorted(totals)
    for name in ("porkchop_c3.png", "porkchop_total_dv.png", "transfer.png"):
        assert (tmp_path / name).stat().st_size > 10_000


def test_cli_windows_table_and_bad_dates(capsys):
    from apophis_sim.cli import main

    assert main(["windows", "--launch-start", "2028-04-01", "--launch-end", "2028-05-31",
                 "--step", "5"]) == 0
    out = capsys.readouterr().out
    assert "launch opens" in out and "constraints" in out
    assert main(["windows", "--launch-start", "2028-06-01", "--launch-end", "2028-05-01"]) == 2


def test_plots_smoke(ramses_pc, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from apophis_sim.plotting import plot_porkchop, plot_transfer

    ws = rv.launch_windows(ramses_pc)
    fig, axes = plt.subplots(1, 3, figsize=(18, 6))
    assert plot_porkchop(axes[0], ramses_pc, "c3", windows=ws, best=ws[0],
                         feasible=rv.feasible_cells(ramses_pc)) is axes[0]
    plot_porkchop(axes[1], ramses_pc, "total_dv", best=True, cmap="magma")
    assert plot_transfer(axes[2], ramses_pc, ws[0]) is axes[2]
    assert "launch date" in axes[0].get_xlabel() and "arrival date" in axes[0].get_ylabel()
    assert "[au]" in axes[2].get_xlabel()
    assert len(axes[0].patches) == len(ws)
    path = tmp_path / "pc.png"
    fig.savefig(path)
    plt.close(fig)
    assert path.stat().st_size > 10_000
    with pytest.raises(UnknownNameError):
        plot_porkchop(plt.gca(), ramses_pc, "mass")
