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


def _length(text: str) -> float:
    """argparse type: a finite, non-zero number of km."""
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of km, got {text!r}") from None
    if not math.isfinite(value) or value == 0.0:
        raise argparse.ArgumentTypeError(f"expected a finite, non-zero number of km, got "
                                         f"{text!r}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "deflect", help="apply an impulse to Apophis and show how the 2029 approach moves",
        description="Apply an impulse DV [mm/s] (radial, transverse, normal by default) at "
                    "--at (UTC) to JPL #220 (or an SBDB solution) and compare the 2029 "
                    "approach before and after, by full n-body propagation and by the "
                    "linear (STM) prediction.")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--dv", type=_vector, metavar="R,T,N",
                      help="impulse in mm/s, e.g. 0,1,0 (1 mm/s along the track)")
    what.add_argument("--shift-distance", type=_length, metavar="KM",
                      help="find the impulse that changes the 2029 distance by KM (iterated "
                           "on full propagations to 1 m)")
    what.add_argument("--shift-zeta", type=_length, metavar="KM",
                      help="find the impulse that moves the 2029 b-plane zeta by KM (e.g. "
                           "toward a keyhole)")
    p.add_argument("--direction", choices=("R", "T", "N", "min"), default="T",
                   help="axis of the impulse found by --shift-* (default T, along the "
                        "track; min: least impulse)")
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
    from ..risk import deflect, deflection_map, dv_for_shift
    from ..time import utc_iso
    from ..uncertainty import linear_encounter

    out = output_folder(args.plots)
    at = utc_date(args.at, "--at")
    sol = load_solution(args)
    before = linear_encounter(sol)
    if at.jd >= before.time.jd - 1.0:
        raise InputError(f"--at must be at least a day before the encounter "
                         f"({utc_iso(before.time)} UTC)")
    shift = None
    if args.dv is None:
        if args.frame != "rtn":
            raise InputError("--frame applies to --dv only; --shift-* finds an RTN impulse")
        kw = ({"distance": args.shift_distance * u.km} if args.shift_distance is not None
              else {"zeta": args.shift_zeta * u.km})
        shift = dv_for_shift(sol, at, direction=args.direction, **kw)
        d = shift.deflection
    else:
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
    if shift is not None:
        report["shift"] = {"quantity": shift.quantity,
                           "target_km": float(shift.target.to_value(u.km)),
                           "achieved_km": float(shift.achieved.to_value(u.km)),
                           "dv_mm_s": float(shift.dv.to_value(u.mm / u.s)),
                           "dv_linear_rtn_mm_s": shift.dv_linear.to_value(u.mm / u.s).tolist(),
                           "direction": args.direction, "iterations": shift.iterations}
    if out is not None:
        report["plots"] = [str(_plot(out, sol, before.time))]
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    b, a, p = report["before"], report["after"], report["linear_prediction"]
    if shift is not None:
        sh = report["shift"]
        print(f"{report['solution']}: {sh['dv_mm_s']:.4g} mm/s ({args.direction}) moves the "
              f"2029 {sh['quantity']} by {sh['achieved_km']:+.4f} km (asked {sh['target_km']:+g} "
              f"km; {sh['iterations']} full propagations)")
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
