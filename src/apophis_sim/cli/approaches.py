"""``apophis-sim approaches``: close approaches with uncertainties, like JPL's CAD (CLI layer).

A thin layer over :func:`apophis_sim.tables.approaches`; registered by
:mod:`apophis_sim.cli` through its subcommand hook. Dates are read and shown in UTC.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from ._common import (add_renamed_flag, add_solution_args, load_solution, output_folder,
                      positive_float, utc_date)

__all__ = ["register"]

_COLUMNS = ("body", "time_utc", "time_3sigma", "distance", "distance_min_3sigma",
            "distance_max_3sigma", "v_rel", "v_inf", "b_t", "b_r", "b_smaa", "b_smia",
            "b_theta", "sigma_to_disc", "ip_linear", "linear")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "approaches", help="close approaches with 3-sigma uncertainties (JPL CAD-like)",
        description="Every approach closer than --distance-max to the chosen bodies between "
                    "--start and --stop (UTC dates), with JPL CAD's columns and Horizons' "
                    "extended B-plane ones, by linear mapping of the solution's covariance "
                    "through the n-body state transition matrix.")
    add_solution_args(p)
    p.add_argument("--start", default=None, help="UTC date (default: the solution's epoch)")
    p.add_argument("--stop", default="2100-01-01", help="UTC date (default 2100-01-01)")
    p.add_argument("--bodies", default="earth,moon",
                   help="comma-separated bodies (default earth,moon)")
    p.add_argument("--distance-max", type=positive_float, default=0.05, metavar="AU",
                   help="list approaches closer than this [au] (default 0.05, as CAD)")
    add_renamed_flag(p, "--max-distance", "--distance-max")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print JSON (one object per row)")
    fmt.add_argument("--csv", action="store_true", help="print CSV")
    p.add_argument("--plots", metavar="DIR", default=None,
                   help="write the distance with its 3-sigma band around each approach "
                        "(up to 6) into DIR")
    p.set_defaults(func=run_approaches)


def run_approaches(args: argparse.Namespace) -> int:
    import astropy.units as u

    from ..tables import approaches

    out = output_folder(args.plots)
    sol = load_solution(args)
    bodies = tuple(b.strip().lower() for b in args.bodies.split(",") if b.strip())
    tab = approaches(sol, utc_date(args.start, "--start"), utc_date(args.stop, "--stop"),
                     bodies=bodies,
                     distance_max=args.distance_max * u.au)
    if out is not None:
        tab.meta["plots"] = [str(p) for p in _plots(out, sol, tab)]
    from ..time import quiet_utc

    with quiet_utc(announce=False):  # UTC labels past the last leap second: display only
        if args.json:
            print(json.dumps(_records(tab), indent=1))
        elif args.csv:
            _csv(tab)
        else:
            _text(sol, tab)
    return 0


def _records(tab) -> dict:
    import astropy.units as u

    rows = []
    for r in tab:
        rows.append({
            "body": str(r["body"]), "time_tdb_jd": float(r["time"].jd),
            "time_utc": r["time_utc"].iso,
            "time_3sigma_min": float(r["time_3sigma"].to_value(u.min)),
            "distance_au": float(r["distance"].to_value(u.au)),
            "distance_km": float(r["distance_km"].to_value(u.km)),
            "distance_min_3sigma_km": float(r["distance_min_3sigma"].to_value(u.km)),
            "distance_max_3sigma_km": float(r["distance_max_3sigma"].to_value(u.km)),
            "v_rel_km_s": float(r["v_rel"].to_value(u.km / u.s)),
            "v_inf_km_s": float(r["v_inf"].to_value(u.km / u.s)),
            "H": None if math.isnan(float(r["H"])) else float(r["H"]),
            "b_t_km": float(r["b_t"].to_value(u.km)), "b_r_km": float(r["b_r"].to_value(u.km)),
            "xi_km": float(r["xi"].to_value(u.km)), "zeta_km": float(r["zeta"].to_value(u.km)),
            "b_smaa_km": float(r["b_smaa"].to_value(u.km)),
            "b_smia_km": float(r["b_smia"].to_value(u.km)),
            "b_theta_deg": float(r["b_theta"].to_value(u.deg)),
            "capture_radius_km": float(r["capture_radius"].to_value(u.km)),
            "sigma_to_disc": float(r["sigma_to_disc"]), "ip_linear": float(r["ip_linear"]),
            "linear": bool(r["linear"]),
        })
    meta = {k: v for k, v in tab.meta.items()}
    return {"meta": meta, "approaches": rows}


def _csv(tab) -> None:
    import csv

    recs = _records(tab)["approaches"]
    if not recs:
        print("# no approaches")
        return
    w = csv.DictWriter(sys.stdout, fieldnames=list(recs[0]))
    w.writeheader()
    for r in recs:
        w.writerow(r)


def _text(sol, tab) -> None:
    import astropy.units as u

    print(f"{sol.name}  {sol.solution}: close approaches (linear mapping of the covariance "
          f"through the STM; dates UTC)")
    if len(tab) == 0:
        print("  none closer than the requested distance")
        return
    print(f"  {'body':<6s} {'date (UTC)':<19s} {'3sig t':>8s} {'distance [au]':>14s} "
          f"{'dist [km]':>14s} {'3-sigma min - max [km]':>27s} {'v_rel':>8s} {'v_inf':>8s} "
          f"{'sig->disc':>10s} {'IP':>8s}")
    for r in tab:
        t3 = r["time_3sigma"].to_value(u.min)
        t3s = f"{t3 * 60:.2f} s" if t3 < 1 else (f"{t3:.1f} m" if t3 < 120 else
                                                 f"{t3 / 60:.1f} h")
        lo = r["distance_min_3sigma"].to_value(u.km)
        hi = r["distance_max_3sigma"].to_value(u.km)
        flag = "" if r["linear"] else "  (non-linear: use Monte Carlo)"
        print(f"  {r['body']:<6s} {r['time_utc'].iso[:19]:<19s} {t3s:>8s} "
              f"{r['distance'].to_value(u.au):14.9f} {r['distance_km'].to_value(u.km):14.3f} "
              f"{lo:13.3f} - {hi:<13.3f} {r['v_rel'].to_value(u.km / u.s):8.4f} "
              f"{r['v_inf'].to_value(u.km / u.s):8.4f} {r['sigma_to_disc']:10.4g} "
              f"{r['ip_linear']:8.2g}{flag}")
    print("  v_rel, v_inf in km/s; sig->disc: sigmas between the nominal B-plane point and the "
          "body's gravitationally focused disc; IP: linearised impact probability")
    for p in tab.meta.get("plots", []):
        print(f"  wrote {p}")


def _plots(out: Path, sol, tab) -> list[Path]:
    import astropy.units as u
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from ..ephemeris import Ephemeris
    from ..plotting import plot_distance_band
    from ..time import utc_iso
    from ..uncertainty import covariance_at

    eph = Ephemeris.open()
    paths = []
    for r in tab[:6]:
        body = str(r["body"])
        t0 = r["time"]
        half = max(0.05, min(3.0, 10.0 * float(r["distance"].to_value(u.au))
                             / max(float(r["v_rel"].to_value(u.au / u.day)), 1e-9)))
        times = t0 + np.linspace(-half, half, 241) * u.day
        cov = covariance_at(sol, times, ephemeris=eph)
        pb, _ = eph.posvel(body, times.tdb.jd1, times.tdb.jd2, centre="sun")
        rho = cov.state.r_au - pb
        d = np.linalg.norm(rho, axis=-1)
        rh = rho / d[:, None]
        var = np.einsum("ti,tij,tj->t", rh, cov.matrix[:, :3, :3], rh)
        fig, (ax, ax_s) = plt.subplots(2, 1, figsize=(8, 6), sharex=True, layout="constrained",
                                       gridspec_kw={"height_ratios": [2, 1]})
        plot_distance_band(ax, times, d * 149_597_870.7, np.sqrt(var) * 149_597_870.7,
                           body=body.capitalize(), ax_sigma=ax_s)
        ax.set_title(f"{sol.name}: approach to {body.capitalize()}, {utc_iso(t0)[:16]} UTC",
                     fontsize="medium")
        path = out / f"approach_{body}_{utc_iso(t0)[:10]}.png"
        fig.savefig(path, dpi=120)
        plt.close(fig)
        paths.append(path)
    return paths
