"""``apophis-sim deflect``: what an impulse does to the 2029 encounter (CLI layer).

A thin layer over :func:`apophis_sim.risk.deflect` and
:func:`apophis_sim.risk.deflection_map`; registered by :mod:`apophis_sim.cli` through its
subcommand hook. Dates are read and shown in UTC.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ._common import add_solution_args, load_solution, output_folder, utc_date

__all__ = ["register"]


def _vector(text: str) -> list[float]:
    import math

    try:
        vals = [float(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected three comma-separated numbers, got "
                                         f"{text!r}") from None
    if len(vals) != 3 or not all(math.isfinite(v) for v in vals):
        raise argparse.ArgumentTypeError(f"expected three finite numbers, got {text!r}")
    return vals


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "deflect", help="apply an impulse to Apophis and show how the 2029 approach moves",
        description="Apply an impulse DV [mm/s] (radial, transverse, normal by default) at "
                    "--at (UTC) to JPL #220 (or an SBDB solution) and compare the 2029 "
                    "approach before and after, by full n-body propagation and by the "
                    "linear (STM) prediction.")
    p.add_argument("--dv", type=_vector, required=True, metavar="R,T,N",
                   help="impulse in mm/s, e.g. 0,1,0 (1 mm/s along the track)")
    p.add_argument("--frame", choices=("rtn", "icrf"), default="rtn",
                   help="axes of --dv (default rtn)")
    p.add_argument("--at", required=True, help="UTC date of the impulse (before the flyby)")
    add_solution_args(p, drop=False)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plots", metavar="DIR", default=None,
                   help="write deflection_map.png (mm/s per km of miss-distance change "
                        "against lead time, R/T/N) into DIR")
    p.set_defaults(func=run_deflect)


def run_deflect(args: argparse.Namespace) -> int:
    import astropy.units as u
    import numpy as np

    from ..errors import InputError
    from ..risk import deflect, deflection_map
    from ..time import utc_iso
    from ..uncertainty import linear_encounter

    out = output_folder(args.plots)
    at = utc_date(args.at, "--at")
    sol = load_solution(args)
    before = linear_encounter(sol)
    if at.jd >= before.time.jd - 1.0:
        raise InputError(f"--at must be at least a day before the encounter "
                         f"({utc_iso(before.time)} UTC)")
    d = deflect(sol, np.array(args.dv) * u.mm / u.s, at, frame=args.frame)
    after = linear_encounter(d.solution)
    m = deflection_map(sol, at)
    g = np.array([[m["ddistance"][k].value, m["dxi"][k].value, m["dzeta"][k].value,
                   m["dtime"][k].value] for k in range(3)])  # per mm/s along R, T, N
    dv_rtn = d.dv_rtn.to_value(u.mm / u.s)
    pred = dv_rtn @ g
    report = {
        "solution": f"{sol.name} {sol.solution}", "at_utc": utc_iso(at),
        "dv_rtn_mm_s": dv_rtn.tolist(), "dv_icrf_mm_s": d.dv_icrf.to_value(u.mm / u.s).tolist(),
        "encounter_utc": utc_iso(before.time, 1),
        "before": {"distance_km": before.distance.to_value(u.km),
                   "xi_km": before.xi.to_value(u.km), "zeta_km": before.zeta.to_value(u.km)},
        "after": {"distance_km": after.distance.to_value(u.km),
                  "xi_km": after.xi.to_value(u.km), "zeta_km": after.zeta.to_value(u.km),
                  "time_shift_s": (after.time - before.time).to_value(u.s)},
        "linear_prediction": {"distance_km": float(pred[0]), "xi_km": float(pred[1]),
                              "zeta_km": float(pred[2]), "time_s": float(pred[3])},
        "distance_3sigma_km": 3 * after.distance_sigma.to_value(u.km),
    }
    if out is not None:
        report["plots"] = [str(_plot(out, sol, before.time))]
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    b, a, p = report["before"], report["after"], report["linear_prediction"]
    print(f"{report['solution']}: impulse (R, T, N) = ({dv_rtn[0]:.4g}, "
          f"{dv_rtn[1]:.4g}, {dv_rtn[2]:.4g}) mm/s at {report['at_utc']} UTC")
    print(f"  encounter {report['encounter_utc']} UTC (full n-body propagation before / after; "
          f"linear STM prediction of the change)")
    for key, label in (("distance_km", "distance"), ("xi_km", "xi"), ("zeta_km", "zeta")):
        print(f"  {label:>9s}: {b[key]:14.3f} km -> {a[key]:14.3f} km  (change "
              f"{a[key] - b[key]:+.3f} km; linear {p[key]:+.3f} km)")
    print(f"  CA time change: {a['time_shift_s']:+.3f} s (linear {p['time_s']:+.3f} s); "
          f"3-sigma of the distance: {report['distance_3sigma_km']:.3f} km")
    for path in report.get("plots", []):
        print(f"  wrote {path}")
    return 0


def _plot(out: Path, sol, encounter) -> Path:
    import astropy.units as u
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from ..plotting import plot_deflection_map
    from ..risk import deflection_map

    span = min(3 * 365.25, encounter.tdb.jd - sol.state.epoch.tdb.jd - 1.0)
    times = encounter.tdb - np.geomspace(span, 2.0, 36) * u.day  # even on the log axis
    tab = deflection_map(sol, times)
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    plot_deflection_map(ax, tab)
    ax.set_title(f"{sol.name}: impulse needed per km of change in the 2029 miss distance",
                 fontsize="medium")
    path = out / "deflection_map.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
