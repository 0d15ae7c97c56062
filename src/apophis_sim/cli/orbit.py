"""``apophis-sim orbit``: an orbit solution, its MOID and its uncertainty at any time (CLI layer).

A thin layer over :meth:`apophis_sim.OrbitSolution.from_sbdb`, :func:`apophis_sim.moid`
and :func:`apophis_sim.uncertainty.covariance_at`; registered by :mod:`apophis_sim.cli`
through its subcommand hook. Calendar dates are read and shown in UTC.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ._common import add_solution_args, load_solution, output_folder, utc_date

__all__ = ["register"]

#: Default report times for the shipped Apophis solution (UTC): the 2029 flyby and after.
_APOPHIS_TIMES = ("2029-04-13 21:45", "2030-01-01", "2036-04-13")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "orbit", help="an orbit solution (JPL SBDB JSON), its MOID and its 1-sigma position "
                      "uncertainty at chosen times",
        description="Load an orbit solution (default: the shipped JPL #220 of Apophis; or "
                    "the JSON of JPL's SBDB API, https://ssd-api.jpl.nasa.gov/sbdb.api?sstr="
                    "<object>&cov=mat&phys-par=1&full-prec=1), compute its Earth MOID and map "
                    "its covariance through the n-body state transition matrix to the "
                    "requested times (UTC).")
    add_solution_args(p)
    p.add_argument("--at", metavar="DATE", nargs="+", default=None,
                   help="UTC dates (ISO, e.g. 2029-04-13 or '2029-04-13 21:45') for the "
                        "uncertainty (default: the epoch, and for Apophis the 2029 flyby, "
                        "2030-01-01 and 2036-04-13)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plots", metavar="DIR", default=None,
                   help="write orbit_uncertainty.png (1-sigma R/T/N from the epoch to the "
                        "last date) into DIR")
    p.set_defaults(func=run_orbit)


def _times(dates: list[str] | None, sol):
    from astropy.time import Time

    if dates is None:
        dates = list(_APOPHIS_TIMES) if "99942" in sol.name else []
    extra = utc_date(dates, "--at") if dates else None
    epoch = sol.state.epoch.tdb
    if extra is None:
        return Time([epoch.jd1], [epoch.jd2], format="jd", scale="tdb")
    return Time(list([epoch.jd1]) + list(extra.jd1), list([epoch.jd2]) + list(extra.jd2),
                format="jd", scale="tdb")


def run_orbit(args: argparse.Namespace) -> int:
    import astropy.units as u

    from ..elements import moid
    from ..time import utc_iso
    from ..uncertainty.linear import covariance_at

    out = output_folder(args.plots)
    sol = load_solution(args)
    times = _times(args.at, sol)
    m = moid(sol)
    cov = covariance_at(sol, times) if sol.covariance.size else None
    el = sol.orbit_elements or sol.elements
    report = {
        "object": sol.name,
        "solution": sol.solution,
        "epoch_utc": utc_iso(sol.state.epoch, 0),
        "elements": None if el is None else {
            "epoch_utc": utc_iso(el.epoch, 0), "frame": "ecliptic J2000",
            "e": float(el.e), "q_au": float(el.q.to_value(u.au)),
            "i_deg": float(el.inc.to_value(u.deg)), "node_deg": float(el.raan.to_value(u.deg)),
            "peri_deg": float(el.argp.to_value(u.deg)), "tp_utc": utc_iso(el.tp, 3)},
        "nongrav_au_d2": dict(zip(("A1", "A2", "A3"),
                                  (float(x) for x in sol.nongrav.to_value(u.au / u.day**2)))),
        "H": sol.H, "G": sol.G,
        "covariance": list(sol.covariance_labels),
        "moid_au": float(m.distance.to_value(u.au)),
        "moid_jpl_au": None if sol.moid_jpl is None else float(sol.moid_jpl.to_value(u.au)),
        "uncertainty_1sigma_km": [],
    }
    if cov is not None:
        rtn = cov.rtn_sigma().to_value(u.km)
        for k in range(len(times)):
            report["uncertainty_1sigma_km"].append({
                "utc": utc_iso(times[k], 0), "radial": float(rtn[k, 0]),
                "along_track": float(rtn[k, 1]), "normal": float(rtn[k, 2])})
    if out is not None:
        report["plots"] = [str(p) for p in _write_plot(out, sol, times)]
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    _print(report)
    return 0


def _fmt_km(x: float) -> str:
    return f"{x:.3g}" if x < 1000 else f"{x:,.0f}"


def _print(r: dict) -> None:
    print(f"{r['object']}  {r['solution']}  (covariance epoch {r['epoch_utc']} UTC)")
    el = r["elements"]
    if el:
        print(f"  elements ({el['frame']}, epoch {el['epoch_utc']} UTC): e = {el['e']:.10f}, "
              f"q = {el['q_au']:.10f} au, i = {el['i_deg']:.6f} deg, node = "
              f"{el['node_deg']:.6f} deg, peri = {el['peri_deg']:.6f} deg, perihelion "
              f"{el['tp_utc']} UTC")
    ng = ", ".join(f"{k} = {v:.4g}" for k, v in r["nongrav_au_d2"].items() if v)
    print(f"  non-gravitational: {ng or 'none'} au/d^2;  H = {r['H']}, G = {r['G']}")
    jpl = r["moid_jpl_au"]
    jpl_txt = "" if jpl is None else f" (JPL SBDB: {jpl:.9g} au)"
    moid_km = r["moid_au"] * 149_597_870.7
    print(f"  Earth MOID: {r['moid_au']:.9f} au = {moid_km:,.0f} km{jpl_txt}")
    rows = r["uncertainty_1sigma_km"]
    if rows:
        print(f"  1-sigma position uncertainty [km], covariance of "
              f"{'/'.join(r['covariance'])} mapped through the STM:")
        print(f"    {'date (UTC)':<20s} {'radial':>10s} {'along-track':>12s} {'normal':>10s}")
        for row in rows:
            print(f"    {row['utc']:<20s} {_fmt_km(row['radial']):>10s} "
                  f"{_fmt_km(row['along_track']):>12s} {_fmt_km(row['normal']):>10s}")
        print("  linear mapping: once the uncertainty is no longer small against the scale on "
              "which the flow bends (after a deep close approach, e.g. Apophis after 2029) the "
              "distribution stops being Gaussian; use `apophis-sim montecarlo` there")
    else:
        print("  (no covariance in this solution)")
    for p in r.get("plots", []):
        print(f"  wrote {p}")


def _write_plot(out: Path, sol, times) -> list[Path]:
    import astropy.units as u
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from astropy.time import Time

    from ..plotting import plot_uncertainty_growth
    from ..time import utc_iso
    from ..uncertainty.linear import covariance_at

    t0 = sol.state.epoch.tdb
    span = float((times[-1] - t0).to_value(u.day)) if len(times) > 1 else 365.25
    if span == 0.0:
        span = 365.25
    n = max(200, min(2000, int(abs(span) / 2)))
    grid = t0 + np.linspace(0.0, span, n)[1:] * u.day
    # Add the requested times so that sharp features there are drawn.
    grid = Time(np.concatenate([grid.jd1, times.jd1[1:]]), np.concatenate([grid.jd2,
                times.jd2[1:]]), format="jd", scale="tdb")
    grid = grid[np.argsort(grid.jd)]
    cov = covariance_at(sol, grid)
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    events = []
    if "99942" in sol.name:
        events = [(Time("2029-04-13 21:46", scale="tdb"), "2029 flyby")]
    plot_uncertainty_growth(ax, grid, cov.rtn_sigma().to_value(u.km), events=events)
    ax.set_title(f"{sol.name} ({sol.solution}): linear uncertainty from the "
                 f"{utc_iso(t0)[:10]} covariance", fontsize="medium")
    path = out / "orbit_uncertainty.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return [path]
