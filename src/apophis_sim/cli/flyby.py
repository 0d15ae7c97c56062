"""``apophis-sim flyby``: the 2029 Earth and Moon close approaches of JPL #220."""

from __future__ import annotations

import argparse
import json
import time as _time
import warnings

#: Search window of the 2029 encounter, and the reporting threshold.
_FLYBY_UNTIL = "2029-04-20"
_FLYBY_MAX_DISTANCE_AU = 0.01


def _flyby(args: argparse.Namespace) -> int:
    import astropy.units as u
    from astropy.time import Time

    from .._compilewatch import CompileWatch
    from ..encounter import analyse_flyby
    from ..nbody import apophis
    from ..time import UTC_ASSUMPTION, UTCAssumptionWarning, quiet_utc

    from ._common import output_folder

    forces = _parse_forces(args.forces)  # validated before anything is computed
    plots_dir = output_folder(args.plots, "--plots")
    t0 = _time.perf_counter()
    # The first run compiles the kernels (numba caches them): say so at once on
    # stderr, and report the compile time apart from the run time.
    with warnings.catch_warnings(record=True) as caught, CompileWatch() as jit:
        warnings.simplefilter("always")
        sol = apophis()
        an = analyse_flyby(sol, Time(_FLYBY_UNTIL, scale="tdb"), "earth", also=("moon",),
                           distance_max=_FLYBY_MAX_DISTANCE_AU * u.au, forces=forces)
        table = an.approaches
        rows = {}
        for body in ("earth", "moon"):
            sel = table[table["body"] == body]
            if len(sel) == 0:
                continue
            row = sel[int(sel["distance"].argmin())]
            with quiet_utc():
                utc_iso = row["time"].utc.isot
            rows[body] = {
                "time_tdb_jd": float(row["time"].tdb.jd1 + row["time"].tdb.jd2),
                "time_tdb_iso": row["time"].tdb.isot,
                "time_utc_iso": utc_iso,
                "distance_km": float(row["distance"].to_value(u.km)),
                "v_rel_km_s": float(row["v_rel"].to_value(u.km / u.s)),
                "v_inf_km_s": float(row["v_inf"].to_value(u.km / u.s)),
            }
        with quiet_utc():
            peak_utc = an.peak_time.utc.isot
        paths = []
        if args.plots:
            from ..plotting.flyby import write_flyby_figures

            paths = write_flyby_figures(an, plots_dir)
    elapsed = _time.perf_counter() - t0
    timing = {"run_s": round(elapsed - jit.seconds, 3), "compile_s": round(jit.seconds, 3),
              "kernels_compiled": jit.kernels,
              "kernels_compiled_in_parallel": jit.kernels_elsewhere}
    notes = sorted({str(w.message) for w in caught
                    if issubclass(w.category, UserWarning) and "apophis_sim" in w.category.__module__})
    utc_note = any(issubclass(w.category, UTCAssumptionWarning) for w in caught)
    bp = an.bplane
    ch = an.change
    bplane = {"xi_km": float(bp.xi.to_value(u.km)), "zeta_km": float(bp.zeta.to_value(u.km)),
              "b_km": float(bp.b.to_value(u.km)), "b_dot_t_km": float(bp.b_dot_t.to_value(u.km)),
              "b_dot_r_km": float(bp.b_dot_r.to_value(u.km)),
              "capture_radius_km": float(bp.capture_radius.to_value(u.km))}
    change = {"a_before_au": float(ch.a_before.to_value(u.au)),
              "a_after_au": float(ch.a_after.to_value(u.au)),
              "class_before": ch.class_before, "class_after": ch.class_after,
              "period_before_d": float(ch.period_before.to_value(u.day)),
              "period_after_d": float(ch.period_after.to_value(u.day))}
    brightness = {"peak_v_mag": an.peak_magnitude, "peak_time_utc_iso": peak_utc,
                  "observer": "geocentric"}
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
        out["bplane"] = bplane
        out["orbit_change"] = change
        out["brightness"] = brightness
        out["model"] = model
        out["timing"] = timing
        if utc_note:
            out["utc_note"] = UTC_ASSUMPTION
        if notes:
            out["notes"] = [n for n in notes if n != UTC_ASSUMPTION]
        if paths:
            out["plots"] = [str(p) for p in paths]
        print(json.dumps(out, indent=2))
        return 0
    print(f"(99942) Apophis, {sol.solution}: close approaches in April 2029")
    print(f"{'body':6} {'time (UTC)':24} {'time (TDB JD)':>18} {'distance km':>13} "
          f"{'v_rel km/s':>11} {'v_inf km/s':>11}")
    for body, r in rows.items():
        print(f"{body:6} {r['time_utc_iso']:24} {r['time_tdb_jd']:18.9f} {r['distance_km']:13.3f} "
              f"{r['v_rel_km_s']:11.6f} {r['v_inf_km_s']:11.6f}")
    print(f"B-plane (Earth): xi = {bplane['xi_km']:,.1f} km, zeta = {bplane['zeta_km']:,.1f} km, "
          f"b = {bplane['b_km']:,.1f} km (capture radius {bplane['capture_radius_km']:,.0f} km)")
    print(f"orbit change: a {change['a_before_au']:.4f} -> {change['a_after_au']:.4f} au, "
          f"{change['class_before']} -> {change['class_after']}, period "
          f"{change['period_before_d']:.1f} -> {change['period_after_d']:.1f} d")
    print(f"peak brightness (geocentric): V = {an.peak_magnitude:.2f} at {peak_utc} UTC")
    print(f"model: forces {', '.join(model['forces'])}; ephemerides "
          f"{', '.join(model['ephemeris_files'])}; {model['integrator']}, epsilon "
          f"{model['epsilon']:g}, {model['steps']} steps")
    print(f"time: run {timing['run_s']:.2f} s; "
          + (f"compile {jit.seconds:.1f} s ({_kernels(jit)}, first run only: cached)"
             if jit.kernels or jit.kernels_elsewhere else "kernels from the cache"))
    for p in paths:
        print(f"wrote {p}")
    if utc_note:
        print(f"note: {UTC_ASSUMPTION}")
    for n in notes:
        if n != UTC_ASSUMPTION:
            print(f"note: {n}")
    return 0


def _parse_forces(text: str) -> tuple[str, ...] | None:
    """``--forces sun,planets`` -> validated names; empty -> None (JPL's full model).

    Raises UnknownNameError (listing the valid names) before anything is integrated.
    """
    from ..ephemeris import Ephemeris
    from ..nbody import resolve_forces

    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:
        return None
    return resolve_forces(names, Ephemeris.open())


def register(sub) -> None:
    """Add the ``flyby`` subcommand to the ``apophis-sim`` parser."""
    flyby = sub.add_parser("flyby", help="the 2029 Earth and Moon close approaches (n-body, "
                                         "JPL #220, DE440)")
    flyby.add_argument("--json", action="store_true", help="print one JSON object")
    flyby.add_argument("--forces", default="",
                       help="comma-separated force terms, from: sun, planets, asteroids, gr, "
                            "earth_harmonics, sun_harmonics, nongrav (default: all of JPL's "
                            "model)")
    flyby.add_argument("--plots", metavar="DIR", default=None,
                       help="write every flyby figure as PNG into DIR")
    flyby.set_defaults(func=_flyby)


def _kernels(jit) -> str:
    """"3 kernels" / "1 kernel, 2 more in a parallel process"."""
    n = jit.kernels
    text = f"{n} kernel{'s' if n != 1 else ''}"
    if jit.kernels_elsewhere:
        text += f", {jit.kernels_elsewhere} more in a parallel process"
    return text
