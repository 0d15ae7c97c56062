"""``apophis-sim risk``: keyholes of an encounter (default Apophis 2029) and the virtual
impactors they make (CLI layer over :func:`apophis_sim.risk.impact_probability` and
:func:`apophis_sim.risk.keyholes`). Dates are shown in UTC.
"""

from __future__ import annotations

import argparse
import json
import math
import warnings
from pathlib import Path

from ._common import (add_solution_args, bounded_int, load_solution, output_folder,
                      positive_float, utc_date)

#: Most clones of one run: uncertainty.montecarlo.MAX_CLONES, copied so that the parser
#: does not import the engine (tests/test_impacts.py checks they are equal).
MAX_CLONES = 100_000_000

__all__ = ["register"]


def _year(text: str) -> int:
    try:
        y = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a year such as 2100, got {text!r}") from None
    if not 2030 <= y <= 2600:
        raise argparse.ArgumentTypeError(f"--until must be a year in 2030..2600, got {y}")
    return y


def _window_km(text: str) -> float:
    """argparse type: a finite window > 0 and <= MAX_WINDOW_KM."""
    from ..risk.keyholes import MAX_WINDOW_KM

    value = positive_float(text)
    if value > MAX_WINDOW_KM:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_WINDOW_KM:g} km, got {text!r}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "risk", help="keyholes of the 2029 flyby and the impact probabilities through them",
        description="Search the b-plane of an encounter (default: the 2029 flyby of JPL "
                    "#220) for impact keyholes of returns before --until (Valsecchi circles "
                    "refined with the full n-body model along the line of variations) and "
                    "give the virtual impactors' probabilities, energies, Palermo and "
                    "Torino scales.")
    add_solution_args(p, drop=False)
    p.add_argument("--encounter", metavar="DATE", default=None,
                   help="the encounter: the closest approach within 0.01 au and 30 days of "
                        "this UTC date (default: Apophis's 2029-04-13 flyby; for another "
                        "object, e.g. --sbdb 2023DZ2.json --encounter 2023-03-25)")
    p.add_argument("--until", type=_year, default=2100, help="horizon year (default 2100)")
    p.add_argument("--window", type=_window_km, default=2000.0, metavar="KM",
                   help="search keyholes within this distance of the nominal along the LOV "
                        "(default 2000 km, at most 20000)")
    p.add_argument("--moon", action="store_true", help="also Moon impacts")
    p.add_argument("--returns", action="store_true",
                   help="also impacts after an intermediate close approach: keyholes of "
                        "every return within 0.01 au (risk.return_keyholes; slower)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plots", metavar="DIR", default=None,
                   help="write risk_keyholes.png (b-plane map and zooms) and "
                        "risk_impact_probability.png into DIR")
    p.add_argument("--mc-clones", type=bounded_int(0, MAX_CLONES), default=0, metavar="N",
                   help="also estimate the impact probability by plain Monte Carlo with N "
                        "clones followed to --until (impacts detected in the integrator; on "
                        "Dask; IPs below ~3/N are not resolved)")
    p.add_argument("--seed", type=bounded_int(0), default=0,
                   help="seed of the Monte Carlo clones")
    p.add_argument("--mc-out", metavar="DIR", default=None,
                   help="run folder of the Monte Carlo (durable, resumable)")
    p.add_argument("--scheduler", default=None,
                   help="Dask scheduler of the Monte Carlo: 'serial', an address, or none for "
                        "a local cluster")
    p.set_defaults(func=run_risk)



def run_risk(args: argparse.Namespace) -> int:
    import astropy.units as u
    from astropy.time import Time

    from ..errors import ConvergenceError
    from ..risk import impact_probability, keyholes
    from ..time import quiet_utc, utc_iso
    from ..visibility import EarthOrientationWarning

    out = output_folder(args.plots)
    if args.mc_out is not None:
        output_folder(args.mc_out, "--mc-out")
    enc = None
    if args.encounter is not None:
        day = utc_date(args.encounter, "--encounter")
        enc = Time([day.tdb.jd - 30.0, day.tdb.jd + 30.0], format="jd", scale="tdb")
    sol = load_solution(args)
    bodies = ("earth", "moon") if args.moon else ("earth",)
    now = Time.now()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EarthOrientationWarning)
        until = Time(f"{args.until}-01-01", scale="tdb")
        try:
            kh = keyholes(sol, until, include_moon=args.moon, window=args.window * u.km,
                          encounter=enc)
        except ConvergenceError as exc:
            if "no approach" not in str(exc):
                raise
            hint = ("pass --encounter DATE, the UTC date of the object's deep encounter"
                    if enc is None else "pass the date of an approach within 0.01 au")
            raise ConvergenceError(f"{getattr(exc, 'without_hint', exc)}: {hint}") from None
        ip = impact_probability(sol, until, bodies=bodies, now=now, keyhole_table=kh,
                                window=args.window * u.km, encounter=enc)
    eop_note = any(issubclass(w.category, EarthOrientationWarning) for w in caught)
    for w in caught:  # anything else is shown as it would have been
        if not issubclass(w.category, EarthOrientationWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    meta = ip.meta
    with quiet_utc(announce=False):
        rows = [{"date_utc": utc_iso(r["date"], 0), "body": str(r["body"]),
                 "resonance": str(r["resonance"]), "sigma_lov": float(r["sigma_lov"]),
                 "width_m": float(r["width"].to_value(u.m)), "ip": float(r["ip"]),
                 "log10_ip": float(r["log10_ip"]),
                 "v_impact_km_s": float(r["v_impact"].to_value(u.km / u.s)),
                 "energy_mt": float(getattr(r["energy"], "value", r["energy"])),
                 "palermo": float(r["palermo"]),
                 "torino": int(r["torino"]) if r["torino"] >= 0 else None,
                 "impact_confirmed": bool(r["confirmed"]),
                 "impact_utc": utc_iso(r["impact_time"], 0),
                 "latitude_deg": _finite(r["latitude"].to_value(u.deg)),
                 "longitude_deg": _finite(r["longitude"].to_value(u.deg))} for r in ip]
    report = {"object": meta["object"], "solution": meta["solution"],
              "encounter_utc": meta["encounter_utc"], "until": args.until,
              "window_km": meta["window_km"], "virtual_impactors": rows,
              "cumulative_ip": meta["cumulative_ip"],
              "cumulative_log10_ip": meta["cumulative_log10_ip"],
              "torino_max": meta["torino_max"] if meta["torino_max"] >= 0 else None,
              "assumptions": meta["assumptions"], "method": meta["method"],
              "unresolved": meta["unresolved"]}
    if args.returns:
        from ..risk import return_keyholes

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EarthOrientationWarning)
            rk = return_keyholes(sol, until, window=args.window * u.km, encounter=enc)
        with quiet_utc(announce=False):
            report["return_keyholes"] = {
                "returns_followed": rk.meta["returns_followed"],
                "returns_not_followed": rk.meta["returns_not_followed"],
                "virtual_impactors": [
                    {"via_utc": utc_iso(r["via_date"], 0), "via_resonance": str(r["via_resonance"]),
                     "via_distance_km": float(r["via_distance"].to_value(u.km)),
                     "date_utc": utc_iso(r["return_date"], 0), "body": str(r["body"]),
                     "resonance": str(r["resonance"]), "sigma": float(r["sigma"]),
                     "width_m": float(r["width"].to_value(u.m)),
                     "log10_ip": float(r["log10_ip"]),
                     "impact_confirmed": bool(r["confirmed"])} for r in rk]}
    if args.mc_clones:
        from ..risk import impact_monte_carlo

        mc = impact_monte_carlo(sol, Time(f"{args.until}-01-01", scale="tdb"), args.mc_clones,
                                args.seed, bodies=bodies, out=args.mc_out,
                                scheduler=args.scheduler)
        report["monte_carlo"] = {
            "n_clones": mc.meta["n_clones"], "seed": mc.meta["seed"],
            "cumulative_ip": mc.meta["cumulative_ip"],
            "cumulative_ip_95": mc.meta["cumulative_ip_95"],
            "events": [{"date_utc": utc_iso(r["date"], 0), "body": str(r["body"]),
                        "n_impacts": int(r["n_impacts"]), "ip": float(r["ip"]),
                        "ip_95": [float(r["ip_low"]), float(r["ip_high"])]} for r in mc],
            "out": mc.meta["out"]}
    if eop_note:
        report["note"] = ("impact points use Earth orientation held at the last tabulated "
                          "IERS values (a few hundred metres on the ground)")
    if out is not None:
        report["plots"] = [str(p) for p in _plot(out, sol, args, kh, ip)]
    if args.json:
        print(json.dumps(report, indent=1, default=str))
        return 0
    print(f"{report['object']} {report['solution']}: keyholes of the {report['encounter_utc']} "
          f"UTC encounter, returns before {args.until}, within {report['window_km']:g} km of "
          f"the nominal along the line of variations")
    if not rows:
        print("  no impact keyhole found in the window")
    for r in rows:
        lg = r["log10_ip"]
        ip_txt = f"{r['ip']:.3g}" if r["ip"] > 0 else f"1e{lg:.0f}"
        print(f"  {r['date_utc']} UTC {r['body']:<5s} {r['resonance']:>6s}  "
              f"{r['sigma_lov']:+10.2f} sigma  width {r['width_m']:8.1f} m  IP {ip_txt:>10s}  "
              f"{r['energy_mt']:8.0f} Mt at {r['v_impact_km_s']:.2f} km/s  Palermo "
              f"{r['palermo']:.4g}  Torino {_torino_text(r['torino'])}")
        if r["impact_confirmed"] and r["latitude_deg"] is not None:
            # Earth: WGS84 geodetic; Moon: selenocentric, IAU mean Earth/polar axis frame.
            where = ("Earth's radius" if r["body"] == "earth" else
                     "the Moon's radius (selenographic)")
            print(f"      the VI reaches {where} at {r['impact_utc']} UTC, "
                  f"{r['latitude_deg']:+.2f} deg, {r['longitude_deg']:+.2f} deg E")
    lg = report["cumulative_log10_ip"]
    cum = (f"{report['cumulative_ip']:.3g} (log10 {lg:.4g})" if rows
           else "0 (no virtual impactor)")
    print(f"  cumulative IP: {cum}; highest Torino "
          f"{_torino_text(report['torino_max'])}; {report['assumptions']}")
    if report["unresolved"]:
        print(f"  not covered: {len(report['unresolved'])} resonances the search could not "
              f"resolve (see --json)"
              + ("" if args.returns else ", returns after an intermediate encounter "
                 "(--returns)"))
    rkr = report.get("return_keyholes")
    if rkr:
        print(f"  keyholes of close returns ({len(rkr['returns_followed'])} returns within "
              f"0.01 au followed, {len(rkr['returns_not_followed'])} not):")
        if not rkr["virtual_impactors"]:
            print("    no impact after a close return found")
        for r in rkr["virtual_impactors"]:
            print(f"    {r['date_utc']} UTC {r['body']:<5s} {r['resonance']:>6s} via the "
                  f"{r['via_utc'][:10]} {r['via_resonance']} return at "
                  f"{r['via_distance_km']:,.0f} km  {r['sigma']:+10.2f} sigma  IP "
                  f"1e{r['log10_ip']:.0f}  confirmed: {'yes' if r['impact_confirmed'] else 'no'}")
    mcr = report.get("monte_carlo")
    if mcr:
        lo, hi = mcr["cumulative_ip_95"]
        print(f"  Monte Carlo, {mcr['n_clones']} clones (seed {mcr['seed']}): cumulative IP "
              f"{mcr['cumulative_ip']:.3g} (95 %: {lo:.3g} .. {hi:.3g})")
        for e in mcr["events"]:
            print(f"    {e['date_utc']} UTC {e['body']:<5s} {e['n_impacts']} impacts, IP "
                  f"{e['ip']:.3g} (95 %: {e['ip_95'][0]:.3g} .. {e['ip_95'][1]:.3g})")
    for path in report.get("plots", []):
        print(f"  wrote {path}")
    if eop_note:
        print(f"  note: {report['note']}")
    return 0


def _torino_text(value: int | None) -> str:
    """A Torino category as printed; "n/a" where the scale does not apply (no energy,
    a Moon impact, or beyond 100 years)."""
    return "n/a" if value is None else str(value)


def _finite(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _plot(out: Path, sol, args, tab, ip) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from ..plotting import plot_impact_probability, plot_keyhole_map, plot_keyhole_zoom

    fig = plt.figure(figsize=(9.5, 5.6), constrained_layout=True)
    gs = fig.add_gridspec(2, 2, width_ratios=[1.6, 1])
    ax = fig.add_subplot(gs[:, 0])
    plot_keyhole_map(ax, tab)
    year = str(tab.meta.get("encounter_utc", "2029"))[:4]
    ax.set_title(f"{sol.name} {year} b-plane: impact keyholes to {args.until}", fontsize=9)
    plot_keyhole_zoom(fig.add_subplot(gs[0, 1]), tab, half_width_km=4.0)
    if len(tab):
        row = int(np.argmin(np.abs(tab["distance"])))
        plot_keyhole_zoom(fig.add_subplot(gs[1, 1]), tab, centre=row, half_width_km=4.0)
    paths = [out / "risk_keyholes.png", out / "risk_impact_probability.png"]
    fig.savefig(paths[0], dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7.5, 4.2), constrained_layout=True)
    plot_impact_probability(ax, ip)
    ax.set_title(f"{sol.name}: impact probability of each virtual impactor to {args.until}",
                 fontsize=9)
    fig.savefig(paths[1], dpi=110)
    plt.close(fig)
    return paths
