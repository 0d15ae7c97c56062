"""``apophis-sim ephemeris``: a Horizons-like observer table for an MPC site (CLI layer).

A thin layer over :func:`apophis_sim.tables.observer`; registered by
:mod:`apophis_sim.cli` through its subcommand hook. Dates are read and printed in UTC.
"""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

from ._common import bounded_int

__all__ = ["register", "parse_step", "time_grid"]

_STEP_UNITS = {"s": 1.0 / 86400.0, "sec": 1.0 / 86400.0, "m": 1.0 / 1440.0,
               "min": 1.0 / 1440.0, "h": 1.0 / 24.0, "hr": 1.0 / 24.0, "hour": 1.0 / 24.0,
               "d": 1.0, "day": 1.0}
_STEP_RE = re.compile(r"^\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]*)\s*$")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "ephemeris", help="observer ephemeris (RA/Dec, alt/az, rates, distance, magnitude, "
                          "3-sigma sky ellipse) from an MPC observatory code",
        description="Horizons-like observer table of an object (default: the shipped JPL "
                    "#220 of Apophis; or an SBDB API JSON file) seen from an MPC site, "
                    "from --start to --stop (UTC) every --step.")
    p.add_argument("--sbdb", metavar="FILE", default=None,
                   help="SBDB API JSON file (default: JPL #220 of 99942 Apophis)")
    p.add_argument("--site", default="500",
                   help="MPC observatory code (default 500 = geocentre; e.g. 568, I41, 695) "
                        "or 'LON,LAT,HEIGHT' (east longitude and latitude in deg, WGS84 "
                        "height in m)")
    p.add_argument("--start", required=True, metavar="DATE", help="first date (UTC, ISO)")
    p.add_argument("--stop", required=True, metavar="DATE", help="last date (UTC, ISO)")
    p.add_argument("--step", required=True, metavar="STEP",
                   help="positive step with unit: 30s, 10m (minutes), 1h, 1d")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print JSON (meta, units, rows)")
    fmt.add_argument("--csv", action="store_true", help="print CSV (header 'name [unit]')")
    p.add_argument("--refraction", action="store_true",
                   help="refract alt/az (standard atmosphere at the site; default airless)")
    p.add_argument("--no-uncertainty", action="store_true",
                   help="skip the covariance mapping (3-sigma columns)")
    p.add_argument("--max-rows", type=bounded_int(1, 10**9), default=None,
                   help="refuse tables longer than this (default 500000)")
    p.add_argument("--plots", metavar="DIR", default=None,
                   help="write sky_track.png (RA/Dec with 3-sigma ellipses) and "
                        "distance.png (with its 3-sigma band) into DIR")
    p.set_defaults(func=run_ephemeris)


def parse_step(text: str) -> float:
    """``'10m'`` -> step in days. Raises InputError for zero, negative or unreadable."""
    from ..errors import InputError

    m = _STEP_RE.match(text or "")
    unit = m.group(2).lower() if m else ""
    if unit not in _STEP_UNITS and unit.endswith("s"):  # "mins", "hours", "days"
        unit = unit[:-1]
    if m is None or unit not in _STEP_UNITS:
        raise InputError(f"--step: cannot read {text!r}; pass a positive number with a unit: "
                         "s, m (minutes), h or d, e.g. 10m or 1h")
    step = float(m.group(1)) * _STEP_UNITS[unit]
    if not math.isfinite(step) or step <= 0.0:
        raise InputError(f"--step: {text!r} is not a positive step; pass e.g. 10m or 1h")
    return step


def time_grid(start: str, stop: str, step_d: float, max_rows: int):
    """UTC dates -> Time grid (TDB) from start to stop inclusive; size checked first."""
    import numpy as np
    from astropy.time import Time

    from ..errors import InputError, TimeInputError, TooManyRowsError
    from ..time import quiet_utc

    try:
        with quiet_utc(announce=False):
            t0 = Time(start, scale="utc").tdb
            t1 = Time(stop, scale="utc").tdb
    except ValueError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TimeInputError(f"--start/--stop: cannot read {start!r} / {stop!r} as UTC dates "
                             f"(use ISO, e.g. 2029-04-13 or '2029-04-13 21:45'; {first})") from None
    span = float((t1.jd1 - t0.jd1) + (t1.jd2 - t0.jd2))
    if span < 0:
        raise InputError(f"--stop ({stop}) is before --start ({start}); swap them")
    n = int(math.floor(span / step_d + 1e-9)) + 1
    if n > max_rows:
        raise TooManyRowsError(
            f"{start} .. {stop} every {step_d * 1440:g} min is {n:,} rows (~{n * 3e-6:,.1f} GB "
            f"while reducing), more than --max-rows {max_rows:,}; use a larger --step or a "
            "shorter span, or raise --max-rows")
    k = np.arange(n) * step_d
    return Time(np.full(n, t0.jd1), t0.jd2 + k, format="jd", scale="tdb")


def _site(text: str):
    from ..errors import SiteError

    if "," not in text:
        return text
    import astropy.units as u
    from astropy.coordinates import EarthLocation

    try:
        lon, lat, h = (float(v) for v in text.split(","))
    except ValueError:
        raise SiteError(f"--site: cannot read {text!r} as LON,LAT,HEIGHT (deg, deg, m); pass "
                        "e.g. 204.53,19.83,4200 or an MPC code such as 568") from None
    if not (-90.0 <= lat <= 90.0) or not (-360.0 <= lon <= 360.0) or not math.isfinite(h):
        raise SiteError(f"--site: impossible coordinates {text!r}: latitude must lie in "
                        "[-90, 90] deg and longitude in [-360, 360] deg (east); height in m")
    return EarthLocation.from_geodetic(lon * u.deg, lat * u.deg, h * u.m)


def _sexa(x_deg, hours: bool) -> list[str]:
    import numpy as np

    v = np.asarray(x_deg, dtype=float) / (15.0 if hours else 1.0)
    out = []
    for val in v:
        sign = "-" if val < 0 else ("" if hours else "+")
        a = abs(val)
        dec = 2 if hours else 1
        total = round(a * 3600.0, dec)
        d, rem = divmod(total, 3600.0)
        m, s = divmod(rem, 60.0)
        w = 3 + dec
        out.append(f"{sign}{int(d):02d} {int(m):02d} {s:0{w}.{dec}f}")
    return out


def run_ephemeris(args: argparse.Namespace) -> int:
    from ..errors import UnsupportedModelError
    from ..solution import OrbitSolution, apophis
    from ..tables.observer import MAX_ROWS, observer

    from ._common import output_folder

    max_rows = MAX_ROWS if args.max_rows is None else int(args.max_rows)
    step = parse_step(args.step)
    plots_dir = output_folder(args.plots, "--plots")
    times = time_grid(args.start, args.stop, step, max_rows)
    site = _site(args.site)
    if args.sbdb is None:
        sol = apophis()
    else:
        try:
            sol = OrbitSolution.from_sbdb(Path(args.sbdb))
        except UnsupportedModelError as exc:
            raise UnsupportedModelError(
                exc.parameters, f"{args.sbdb}: parameters apophis_sim does not model "
                f"({', '.join(exc.parameters)}); see `apophis-sim orbit --drop-unsupported`"
            ) from None
    table = observer(sol, times, site, refraction=args.refraction,
                     uncertainty=False if args.no_uncertainty else None, max_rows=max_rows)
    paths = _write_plots(plots_dir, table) if plots_dir is not None else []
    if args.json:
        print(table.to_json())
    elif args.csv:
        print(table.to_csv(), end="")
    else:
        _print(table, args, step)
    if not (args.json or args.csv):
        for p in paths:
            print(f"wrote {p}")
    return 0


def _print(table, args, step_d: float) -> None:
    import astropy.units as u
    import numpy as np

    from ..time import quiet_utc

    m = table.meta
    bar = "*" * 100
    print(bar)
    print(f"Target body name: {m['object']}   {{source: {m['solution']}}}")
    print(f"Center-site name: {m['site']}   {{ephemeris: {m['ephemeris']}}}")
    print(f"Start time      : {args.start} UT    Stop time: {args.stop} UT    "
          f"Step-size: {step_d * 1440:g} minutes")
    print(f"Reference frame : {m['reference_frame']}")
    print(f"Corrections     : {m['corrections']}; refraction "
          f"{'on' if m['refraction'] else 'off (airless)'}")
    print(bar)
    cols = table.colnames
    mag = "V" if "V" in cols else ("T_mag" if "T_mag" in cols else None)
    head = [f"{'Date__(UT)__HR:MN:SS':<21}", f"{'R.A._(ICRF)':>12}", f"{'DEC_(ICRF)':>12}",
            f"{'dRA*cosD':>9}", f"{'d(DEC)/dt':>9}"]
    if "alt" in cols:
        head += [f"{'Azi_(deg)':>9}", f"{'Elev_(deg)':>10}"]
    if mag:
        head.append(f"{'APmag' if mag == 'V' else 'T-mag':>6}")
    head += [f"{'delta_(au)':>16}", f"{'deldot':>11}", f"{'S-O-T':>8} /r", f"{'S-T-O':>8}"]
    cov = "smaa_3sig" in cols
    if cov:
        head += [f"{'SMAA_3sig':>10}", f"{'SMIA_3sig':>10}", f"{'Theta':>7}"]
    print(" ".join(head))
    print(" " * 25 + "(astrometric, light-time corrected; rates in arcsec/min, deldot in km/s"
          + (", ellipse in arcsec/deg)" if cov else ")"))
    print("$$SOE")
    with quiet_utc(announce=False):
        dates = table["time_utc"].strftime("%Y-%b-%d %H:%M:%S")
    ra = _sexa(table["ra"].to_value(u.deg), True)
    de = _sexa(table["dec"].to_value(u.deg), False)
    get = {c: table[c].value if hasattr(table[c], "value") else np.asarray(table[c])
           for c in cols if c not in ("time_tdb", "time_utc")}
    for k in range(len(table)):
        row = [f" {dates[k]:<20}", f"{ra[k]:>12}", f"{de[k]:>12}", f"{get['ra_rate'][k]:9.3f}",
               f"{get['dec_rate'][k]:9.3f}"]
        if "alt" in cols:
            row += [f"{get['az'][k]:9.4f}", f"{get['alt'][k]:10.4f}"]
        if mag:
            row.append(f"{get[mag][k]:6.2f}")
        row += [f"{get['delta'][k]:16.12f}", f"{get['delta_rate'][k]:11.6f}",
                f"{get['elong'][k]:8.4f} {get['elong_flag'][k]}", f"{get['phase'][k]:8.4f}"]
        if cov:
            row += [f"{get['smaa_3sig'][k]:10.4g}", f"{get['smia_3sig'][k]:10.4g}",
                    f"{get['theta'][k]:7.2f}"]
        print(" ".join(row))
    print("$$EOE")
    for note in m.get("notes", []):
        print(f"note: {note}")


def _write_plots(out: Path, table) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..errors import InputError
    from ..plotting.sky import plot_observer_distance, plot_sky_track

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--plots: cannot create {str(out)!r}: {exc.strerror}") from None
    title = f"{table.meta['object']} from {table.meta['site']}"
    paths = []
    fig, ax = plt.subplots(figsize=(7, 5), layout="constrained")
    plot_sky_track(ax, table)
    ax.set_title(title, fontsize="medium")
    paths.append(out / "sky_track.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    plot_observer_distance(ax, table)
    ax.set_title(title, fontsize="medium")
    paths.append(out / "distance.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    return paths
