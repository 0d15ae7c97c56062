"""The ``apophis-sim`` command line: a thin layer over the public API."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time as _time
import warnings
from collections.abc import Sequence

__all__ = ["main"]

#: Modules that add subcommands (besides ``flyby``), each with ``register(subparsers)``.
_SUBCOMMAND_MODULES: tuple[str, ...] = ()

#: Search window of the 2029 encounter, and the reporting threshold.
_FLYBY_UNTIL = "2029-04-20"
_FLYBY_MAX_DISTANCE_AU = 0.01


def _flyby(args: argparse.Namespace) -> int:
    import astropy.units as u
    from astropy.time import Time

    from .nbody import apophis, close_approaches
    from .time import UTC_ASSUMPTION, UTCAssumptionWarning

    sol = apophis()
    t0 = _time.perf_counter()
    forces = None if not args.forces else args.forces.split(",")
    table = close_approaches(sol, Time(_FLYBY_UNTIL, scale="tdb"), bodies=("earth", "moon"),
                             max_distance=_FLYBY_MAX_DISTANCE_AU * u.au, forces=forces,
                             epsilon=args.epsilon)
    elapsed = _time.perf_counter() - t0
    rows = {}
    utc_note = False
    for body in ("earth", "moon"):
        sel = table[table["body"] == body]
        if len(sel) == 0:
            continue
        row = sel[int(sel["distance"].argmin())]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            from .time import quiet_utc

            with quiet_utc():
                utc_iso = row["time"].utc.isot
        utc_note = utc_note or any(issubclass(w.category, UTCAssumptionWarning) for w in caught)
        rows[body] = {
            "time_tdb_jd": float(row["time"].tdb.jd1 + row["time"].tdb.jd2),
            "time_tdb_iso": row["time"].tdb.isot,
            "time_utc_iso": utc_iso,
            "distance_km": float(row["distance"].to_value(u.km)),
            "v_rel_km_s": float(row["v_rel"].to_value(u.km / u.s)),
            "v_inf_km_s": float(row["v_inf"].to_value(u.km / u.s)),
        }
    model = {
        "orbit_solution": sol.solution,
        "forces": table.meta["forces"],
        "ephemeris_files": table.meta["ephemeris_files"],
        "integrator": "IAS15 (Gauss-Radau, PRS23 step control)",
        "epsilon": table.meta["epsilon"],
        "steps": table.meta["steps"],
    }
    if args.json:
        out = dict(rows)
        out["model"] = model
        if utc_note:
            out["utc_note"] = UTC_ASSUMPTION
        print(json.dumps(out, indent=2))
        return 0
    print(f"(99942) Apophis, {sol.solution}: close approaches in April 2029")
    print(f"{'body':6} {'time (UTC)':24} {'time (TDB JD)':>18} {'distance km':>13} "
          f"{'v_rel km/s':>11} {'v_inf km/s':>11}")
    for body, r in rows.items():
        print(f"{body:6} {r['time_utc_iso']:24} {r['time_tdb_jd']:18.9f} {r['distance_km']:13.3f} "
              f"{r['v_rel_km_s']:11.6f} {r['v_inf_km_s']:11.6f}")
    print(f"model: forces {', '.join(model['forces'])}; ephemerides "
          f"{', '.join(model['ephemeris_files'])}; {model['integrator']}, epsilon "
          f"{model['epsilon']:g}, {model['steps']} steps, {elapsed:.2f} s")
    if utc_note:
        print(f"note: {UTC_ASSUMPTION}")
    return 0


def _build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="apophis-sim",
        description="Orbital geometry of (99942) Apophis's 13 April 2029 Earth flyby.")
    parser.add_argument("--version", action="version", version=f"apophis-sim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    flyby = sub.add_parser("flyby", help="the 2029 Earth and Moon close approaches (n-body, "
                                         "JPL #220, DE440)")
    flyby.add_argument("--json", action="store_true", help="print one JSON object")
    flyby.add_argument("--forces", default="",
                       help="comma-separated force terms (default: all of JPL's model)")
    flyby.add_argument("--epsilon", type=float, default=1e-9,
                       help="IAS15 precision parameter (default 1e-9)")
    flyby.set_defaults(func=_flyby)
    # Further subcommands live beside the code they drive; each module exposes
    # register(subparsers), which adds its parser and sets ``func``.
    for module in _SUBCOMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``apophis-sim`` console script."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    from .errors import ApophisSimError

    try:
        return int(args.func(args))
    except ApophisSimError as exc:
        print(f"apophis-sim: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `apophis-sim flyby --json | head`
        sys.stdout = None
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
