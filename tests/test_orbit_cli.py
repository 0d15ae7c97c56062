"""``apophis-sim orbit`` and the uncertainty-growth figure: every flag changes what it
should, errors are one line with exit code 2, the figure has its axes and legend."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import astropy.units as u  # noqa: E402
from astropy.time import Time  # noqa: E402

from apophis_sim.cli import main  # noqa: E402
from apophis_sim.errors import InputError, ShapeMismatchError  # noqa: E402
from apophis_sim.plotting import plot_uncertainty_growth  # noqa: E402

DATA = Path(__file__).parent / "data" / "sbdb"


def _json(capsys, *argv) -> dict:
    assert main(["orbit", "--json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_default_is_apophis_with_jpl_moid(capsys):
    r = _json(capsys)
    assert r["solution"] == "JPL#220" and "Apophis" in r["object"]
    assert abs(r["moid_au"] - r["moid_jpl_au"]) < 5e-10
    rows = r["uncertainty_1sigma_km"]
    assert [row["utc"][:10] for row in rows] == ["2020-12-31", "2029-04-13", "2030-01-01",
                                                 "2036-04-13"]
    # The flyby multiplies the along-track uncertainty by > 1000 within nine months.
    assert rows[2]["along_track"] > 1000 * rows[1]["along_track"]


def test_at_and_sbdb_change_the_report(capsys):
    r = _json(capsys, "--sbdb", str(DATA / "C_2022_E3.json"), "--at", "2023-02-01")
    assert r["solution"] == "JPL#82" and len(r["uncertainty_1sigma_km"]) == 2
    assert r["nongrav_au_d2"]["A3"] != 0.0 and r["H"] is None
    assert abs(r["moid_au"] - 0.219806) < 1e-6


def test_unsupported_model_needs_the_flag(capsys):
    assert main(["orbit", "--sbdb", str(DATA / "101955.json")]) == 2
    err = capsys.readouterr().err
    assert "--drop-unsupported" in err and "RHO" in err and err.count("\n") == 1
    r = _json(capsys, "--sbdb", str(DATA / "101955.json"), "--drop-unsupported")
    assert r["covariance"] == ["e", "q", "tp", "node", "peri", "i"]


@pytest.mark.parametrize("argv, words", [
    (["--at", "2029-13-45"], "--at"),
    (["--sbdb", "/nonexistent/x.json"], "cannot read"),
])
def test_bad_input_is_one_line(capsys, argv, words):
    assert main(["orbit", *argv]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1


def test_plots_written(tmp_path, capsys):
    assert main(["orbit", "--at", "2030-01-01", "--plots", str(tmp_path)]) == 0
    assert "orbit_uncertainty.png" in capsys.readouterr().out
    img = plt.imread(tmp_path / "orbit_uncertainty.png")
    assert img.shape[0] > 400 and img.shape[1] > 800


def test_plot_uncertainty_growth_axes():
    times = Time("2029-01-01", scale="tdb") + np.arange(10.0) * 30 * u.day
    sig = np.column_stack([np.linspace(1, 2, 10), np.linspace(2, 2000, 10), np.ones(10)])
    fig, ax = plt.subplots()
    out = plot_uncertainty_growth(ax, times, sig, events=[(times[5], "flyby")])
    assert out is ax and ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["radial", "along-track",
                                                                   "normal"]
    assert "UTC" in ax.get_xlabel() and "km" in ax.get_ylabel()
    with pytest.raises(ShapeMismatchError):
        plot_uncertainty_growth(ax, times, sig[:5])
    with pytest.raises(InputError):
        plot_uncertainty_growth(ax, times, -sig)
    plt.close(fig)
