"""``apophis-sim windows``: ranked Earth -> Apophis launch windows (Ramses-type rendezvous).

Registered by :mod:`apophis_sim.cli` through ``register(subparsers)``. Defaults
follow issue 5: launches through 2027-2028, arrivals before March 2029 on the
grid, ranked windows under the constraints of
:func:`apophis_sim.rendezvous.launch_windows` (arrival by 2029-02-13, two
months before the flyby).
"""

from __future__ import annotations

import argparse
import json
import math
import time as _time
import warnings
from pathlib import Path

from ._common import bounded_int, non_negative_float, output_folder, positive_float

__all__ = ["register", "run_windows"]

_DEFAULTS = dict(launch_start="2027-01-01", launch_end="2028-12-31", arrival_end="2029-03-01",
                 step=1.0, tof_min=30.0)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``windows`` subcommand to the ``apophis-sim`` parser."""
    from ..rendezvous import (DEFAULT_ARRIVE_BY, DEFAULT_C3_MAX, DEFAULT_DLA_MAX,
                              DEFAULT_V_INF_ARRIVAL_MAX, MAX_REVS)
    from ._common import add_renamed_flag

    p = subparsers.add_parser(
        "windows", help="ranked Earth -> Apophis rendezvous launch windows (porkchop search)",
        description="Two-impulse Earth (DE440) -> Apophis (n-body, JPL #220) transfers on a "
                    "daily launch x arrival grid (Izzo Lambert solver); prints the launch "
                    "windows that meet the constraints, best total delta-v first. Every date, "
                    "given or printed, is a UTC calendar date (the grid's dates are UTC "
                    "midnights); the computation runs in TDB.")
    p.add_argument("--json", action="store_true", help="print a JSON list of windows")
    p.add_argument("--plots", metavar="DIR", help="write porkchop and transfer figures to DIR")
    p.add_argument("--launch-start", default=_DEFAULTS["launch_start"],
                   help="first launch date, UTC (default %(default)s)")
    p.add_argument("--launch-end", default=_DEFAULTS["launch_end"],
                   help="last launch date, UTC (default %(default)s)")
    p.add_argument("--arrival-end", default=_DEFAULTS["arrival_end"],
                   help="last arrival date of the grid, UTC (default %(default)s)")
    p.add_argument("--step", type=float, default=_DEFAULTS["step"],
                   help="grid step [days] (default %(default)s)")
    p.add_argument("--tof-min", type=non_negative_float, default=_DEFAULTS["tof_min"],
                   help="shortest flight [days] on the grid and in the windows "
                        "(default %(default)s)")
    p.add_argument("--arrive-by", default=DEFAULT_ARRIVE_BY,
                   help="latest arrival, UTC (default %(default)s: two months before the flyby)")
    p.add_argument("--c3-max", type=positive_float, default=DEFAULT_C3_MAX.value,
                   help="launch C3 limit [km^2/s^2] (default %(default)s)")
    p.add_argument("--dla-max", type=positive_float, default=DEFAULT_DLA_MAX.value,
                   help="|DLA| limit [deg] (default %(default)s; 30.4 = due east from "
                        "Tanegashima)")
    p.add_argument("--v-inf-arrival-max", type=positive_float,
                   default=DEFAULT_V_INF_ARRIVAL_MAX.value,
                   help="arrival v_inf (rendezvous delta-v) limit [km/s] (default %(default)s)")
    p.add_argument("--max-revs", type=bounded_int(0, MAX_REVS), default=0,
                   help=f"complete revolutions tried per cell, 0 .. {MAX_REVS} (default "
                        "%(default)s; the search stops where no arc can exist)")
    p.add_argument("--top", type=bounded_int(1, 10**6), default=10,
                   help="windows shown (default %(default)s)")
    add_renamed_flag(p, "--min-tof", "--tof-min")
    add_renamed_flag(p, "--vinf-max", "--v-inf-arrival-max")
    p.set_defaults(func=run_windows)


def _grid(start: str, end: str, step: float, name: str):
    """UTC calendar dates from ``start`` to ``end`` every ``step`` days, as TDB Times."""
    import astropy.units as u

    from ..errors import InputError, TimeInputError
    from ..time import utc_dates

    if step <= 0:
        raise InputError(f"--step must be > 0 days, got {step}")
    try:
        return utc_dates(start, end, step * u.day)
    except TimeInputError as exc:
        raise InputError(f"{name}: {exc}") from None


def _check_grid_size(args: argparse.Namespace) -> None:
    """Refuse a launch x arrival grid over the porkchop limit before building it."""
    from ..errors import TooManyRowsError
    from ..rendezvous import MAX_PORKCHOP_CELLS

    first = _utc_date(args.launch_start, "--launch-start")
    spans = [(_utc_date(end, name) - first).to_value("day")
             for end, name in ((args.launch_end, "--launch-end"),
                               (args.arrival_end, "--arrival-end"))]
    n_dep, n_arr = (max(0.0, span) / args.step + 1.0 for span in spans)
    if n_dep * n_arr > MAX_PORKCHOP_CELLS:
        smallest = ((max(spans[0], 0.0) * max(spans[1], 0.0)) / MAX_PORKCHOP_CELLS) ** 0.5
        raise TooManyRowsError(
            f"--step {args.step:g} d makes a grid of about {n_dep:,.0f} launch x {n_arr:,.0f} "
            f"arrival dates = {n_dep * n_arr:,.0f} cells, more than the limit of "
            f"{MAX_PORKCHOP_CELLS:,}; pass --step >= {smallest:.2g} or shorter date ranges")


def _utc_date(text: str, name: str):
    """The instant ``launch_windows(arrive_by=text)`` uses: one reading of a date string
    (:func:`apophis_sim.time.utc_time`) for the CLI and the Python API."""
    from ..errors import InputError, TimeInputError
    from ..time import utc_time

    try:
        return utc_time(text, name)
    except TimeInputError as exc:
        raise InputError(str(exc)) from None


def run_windows(args: argparse.Namespace) -> int:
    """Compute the porkchop, print the ranked windows (table or JSON), optionally plot."""
    import astropy.units as u

    from ..errors import InputError
    from ..rendezvous import KM2_S2, KM_S, feasible_cells, launch_windows, porkchop
    from ..time import UTC_ASSUMPTION, UTCAssumptionWarning

    t_start = _time.perf_counter()
    # Everything the user typed is checked before the first Lambert solve.
    if not (math.isfinite(args.step) and args.step > 0):
        raise InputError(f"--step must be a positive number of days (e.g. 1 or 0.5), got "
                         f"{args.step:g}")
    plots = output_folder(args.plots, "--plots")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UTCAssumptionWarning)
        arrive_by = _utc_date(args.arrive_by, "--arrive-by")
        _check_grid_size(args)
        dep = _grid(args.launch_start, args.launch_end, args.step, "--launch-start/--launch-end")
        arr = _grid(args.launch_start, args.arrival_end, args.step,
                    "--launch-start/--arrival-end")
        arr = arr[(arr - dep[0]).to_value(u.day) >= args.tof_min]
        if len(arr) == 0:
            raise InputError(f"--tof-min {args.tof_min:g}: no arrival date of the grid "
                             f"(to --arrival-end {args.arrival_end}) is that long after "
                             f"--launch-start {args.launch_start}; pass a smaller --tof-min "
                             "or a later --arrival-end")
        pc = porkchop(dep, arr, "earth", None, max_revs=args.max_revs)
        limits = dict(c3_max=args.c3_max * KM2_S2, dla_max=args.dla_max * u.deg,
                      arrive_by=arrive_by, v_inf_arrival_max=args.v_inf_arrival_max * KM_S,
                      tof_min=args.tof_min * u.day)
        windows = launch_windows(pc, **limits)
        rows = [w.to_dict() for w in windows]
    for w in caught:
        if not issubclass(w.category, UTCAssumptionWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    utc_note = any(issubclass(w.category, UTCAssumptionWarning) for w in caught) or bool(rows)
    elapsed = _time.perf_counter() - t_start
    if plots is not None:
        _write_plots(plots, pc, windows, feasible_cells(pc, **limits))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    n, m = pc.shape
    print(f"Earth -> {pc.target}: two-impulse rendezvous windows "
          f"({n} launch x {m} arrival dates, step {args.step:g} d, {elapsed:.2f} s)")
    print(f"constraints: C3 <= {args.c3_max:g} km^2/s^2, |DLA| <= {args.dla_max:g} deg, "
          f"arrival v_inf <= {args.v_inf_arrival_max:g} km/s, arrival by {args.arrive_by} UTC, "
          f"tof >= {args.tof_min:g} d")
    if not rows:
        print("no launch window satisfies the constraints")
        return 0
    print(f"{'#':>2} {'launch opens':10} {'closes':10} {'days':>4}  {'best launch':10} "
          f"{'arrival':10} {'tof d':>5} {'C3':>6} {'DLA':>6} {'v_inf,arr':>9} {'total dv':>8}")
    for k, r in enumerate(rows[: args.top], start=1):
        print(f"{k:2d} {r['launch_open_utc'][:10]} {r['launch_close_utc'][:10]} "
              f"{r['length_days']:4.0f}  {r['best_launch_utc'][:10]} "
              f"{r['best_arrival_utc'][:10]} {r['tof_days']:5.0f} {r['c3_km2_s2']:6.2f} "
              f"{r['dla_deg']:6.1f} {r['v_inf_arrival_km_s']:9.3f} {r['total_dv_km_s']:8.3f}")
    print("units: C3 km^2/s^2, DLA deg (ICRF), v_inf and total dv (sqrt(C3) + arrival v_inf) "
          "km/s; dates UTC")
    if utc_note:
        print(f"note: {UTC_ASSUMPTION}")
    return 0


def _write_plots(out: Path, pc, windows, feasible) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plotting.porkchop import plot_porkchop, plot_transfer

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    best = windows[0] if windows else True
    for quantity in ("c3", "total_dv"):
        fig, ax = plt.subplots(figsize=(9, 7), layout="constrained")
        plot_porkchop(ax, pc, quantity, windows=windows, best=best, feasible=feasible)
        path = out / f"porkchop_{quantity}.png"
        fig.savefig(path, dpi=120)
        plt.close(fig)
        paths.append(path)
    fig, ax = plt.subplots(figsize=(7, 7.6), layout="constrained")
    plot_transfer(ax, pc, windows[0] if windows else None)
    path = out / "transfer.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    paths.append(path)
    return paths
