"""``apophis-sim montecarlo``: Monte Carlo of the 2029 encounter on Dask (CLI layer).

A thin layer over :func:`apophis_sim.uncertainty.run_monte_carlo`; registered by
:mod:`apophis_sim.cli` through its subcommand hook.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

from ._common import bounded_int

__all__ = ["register"]

#: JPL close-approach data for orbit #220 (reference sheet, section 2).
JPL_3SIGMA_RANGE_KM = (38_008.181, 38_014.737)
JPL_DISTANCE_KM = 38_011.459


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number of seconds >= 0, got {text}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``montecarlo`` subcommand to the ``apophis-sim`` parser."""
    p = subparsers.add_parser(
        "montecarlo",
        help="Monte Carlo of the 2029 close approach from JPL #220's covariance (Dask)",
        description="Clones of JPL orbit #220 drawn from its 8x8 covariance (elements, A1, A2), "
                    "each integrated through the 13 April 2029 Earth approach; prints the "
                    "distribution of distance, time and B-plane coordinates. Runs on an "
                    "embedded Dask LocalCluster (one single-threaded worker per core) unless "
                    "--scheduler names an existing cluster or 'serial'.")
    p.add_argument("--clones", type=bounded_int(1), required=True, help="number of clones N")
    p.add_argument("--seed", type=bounded_int(0), required=True,
                   help="seed S: clone k depends only on (S, k)")
    p.add_argument("--scheduler", default=None,
                   help="Dask scheduler address (tcp://host:8786), or 'serial' for no Dask "
                        "(default: an embedded LocalCluster)")
    p.add_argument("--workers", type=bounded_int(1), default=None,
                   help="workers of the embedded LocalCluster (default: cores)")
    p.add_argument("--chunk-size", type=bounded_int(1), default=64,
                   help="clones per Dask task (default 64)")
    p.add_argument("--out", default=None,
                   help="folder for manifest.json and per-chunk Parquet files; rerunning with "
                        "the same folder resumes")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plots", default=None,
                   help="folder for bplane.png (scatter + ellipses) and distance.png")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--connect-timeout", type=_seconds, default=5.0, metavar="S",
                   help="seconds to wait for --scheduler to answer (default 5)")
    p.add_argument("--worker-timeout", type=_seconds, default=120.0, metavar="S",
                   help="end the run (keeping finished chunks) when the cluster has had no "
                        "workers for S seconds (default 120)")
    p.add_argument("--lock-timeout", type=_seconds, default=0.0, metavar="S",
                   help="seconds to wait for another run using --out to finish (default 0: "
                        "refuse at once)")
    p.set_defaults(func=_montecarlo)


def _write_plots(folder: Path, result, linear_cov=None) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plotting.uncertainty import plot_bplane_scatter, plot_distance_histogram

    folder.mkdir(parents=True, exist_ok=True)
    cols = result.columns
    paths = []
    fig, ax = plt.subplots(figsize=(6.0, 6.0))
    plot_bplane_scatter(ax, cols["xi_km"], cols["zeta_km"])
    ax.set_title(f"Apophis 2029 B-plane (Earth): {result.n_clones} clones, JPL #220")
    fig.tight_layout()
    paths.append(folder / "bplane.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7.0, 4.5))
    plot_distance_histogram(ax, cols["distance_km"], reference_range_km=JPL_3SIGMA_RANGE_KM)
    ax.set_title("Apophis 2029 close-approach distance")
    fig.tight_layout()
    paths.append(folder / "distance.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    return paths


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled like SIGINT."""


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    def handler(signum, frame):
        raise _Terminated

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupted(args: argparse.Namespace) -> int:
    """One line on stderr after SIGINT/SIGTERM, exit code 130 (128 + SIGINT)."""
    with contextlib.suppress(KeyboardInterrupt):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not traceback
        total = -(-args.clones // args.chunk_size)
        if args.out:
            from ..uncertainty.store import _finished_chunks

            try:
                saved = len(_finished_chunks(Path(args.out)))
            except OSError:
                saved = 0
            msg = (f"interrupted; {saved} of {total} chunks saved in {args.out}; rerun the "
                   f"same command to resume")
        else:
            msg = ("interrupted; nothing saved (no --out); rerun with --out FOLDER to make "
                   "the run resumable")
        print(f"apophis-sim: {msg}", file=sys.stderr, flush=True)
    return 130


def _montecarlo(args: argparse.Namespace) -> int:
    try:
        with _sigterm_as_interrupt():
            return _montecarlo_run(args)
    except KeyboardInterrupt:
        return _interrupted(args)


def _montecarlo_run(args: argparse.Namespace) -> int:
    from astropy.time import Time

    from ..errors import OutputPathError
    from ..time import quiet_utc
    from ..uncertainty import run_monte_carlo
    from ..uncertainty.montecarlo import require_engine
    from ..uncertainty.store import check_output_folder

    # The 'distributed' extra, then every output path, before the computation (hours).
    require_engine(args.scheduler, args.out)
    from ..errors import ClusterError, InputError
    from ..uncertainty.montecarlo import _check_scheduler, max_local_workers

    try:
        _check_scheduler(args.scheduler)
    except InputError as exc:
        raise InputError(f"--{exc}") from None
    if args.workers is not None and args.workers > max_local_workers():
        raise InputError(f"--workers {args.workers}: at most {max_local_workers()} worker "
                         f"processes on this machine ({os.cpu_count() or 1} cores)")
    if args.out is not None:
        check_output_folder(args.out, "--out")
    if args.plots is not None:
        check_output_folder(args.plots, "--plots")
    try:
        result = run_monte_carlo(args.clones, args.seed, chunk_size=args.chunk_size,
                                 out=args.out, scheduler=args.scheduler, n_workers=args.workers,
                                 progress=False if args.no_progress or args.json else None,
                                 lock_timeout=args.lock_timeout,
                                 connect_timeout=args.connect_timeout or 1e-3,
                                 worker_timeout=args.worker_timeout or 1e-3)
    except ClusterError as exc:
        raise type(exc)(f"--scheduler {args.scheduler or '(embedded LocalCluster)'}: "
                        f"{exc}") from None
    stats = result.statistics()
    plots: list[Path] = []
    plot_error = None
    if args.plots:
        try:
            plots = _write_plots(Path(args.plots), result)
        except OSError as exc:  # checked before computing; reported after the results
            plot_error = OutputPathError(f"--plots {args.plots!r}: cannot write the figures "
                                         f"({exc.strerror or exc}); the results are printed "
                                         f"above" + (f" and kept in {result.out}"
                                                     if result.out is not None else ""))
    if args.json:
        out = stats.to_dict()
        out["distance_km"]["three_sigma_range"] = list(stats.distance_3sigma_km)
        out["time_tdb_jd"]["sigma_s"] = stats.time_sigma_s
        out["seed"] = args.seed
        out["model"] = result.parameters["model"]
        out["solution"] = result.parameters["solution"]["id"]
        if result.out is not None:
            out["out"] = str(result.out)
        if plots:
            out["plots"] = [str(p) for p in plots]
        print(json.dumps(out, indent=2))
        if plot_error is not None:
            raise plot_error
        return 0
    d, t, b = stats.distance_km, stats.time_tdb_jd, stats.bplane
    lo, hi = stats.distance_3sigma_km
    tt = Time(t["mean"], format="jd", scale="tdb")
    with quiet_utc(announce=False):
        utc = tt.utc.isot
    where = {None: f"LocalCluster ({args.workers or os.cpu_count()} workers)",
             "serial": "this process"}.get(args.scheduler, f"scheduler {args.scheduler}")
    print(f"(99942) Apophis, {result.parameters['solution']['id']}: Monte Carlo of the "
          f"13 April 2029 Earth approach")
    print(f"clones {stats.n_clones}, seed {args.seed}, chunks of {args.chunk_size} on {where}; "
          f"{len(result.computed_chunks)} chunks computed, {len(result.reused_chunks)} resumed, "
          f"{result.seconds:.1f} s")
    print(f"distance   mean {d['mean']:.3f} km, sigma {d['sigma']:.3f} km, "
          f"min {d['min']:.3f}, max {d['max']:.3f} km")
    print(f"           3-sigma range {lo:.3f} - {hi:.3f} km "
          f"(JPL #220: {JPL_3SIGMA_RANGE_KM[0]:.3f} - {JPL_3SIGMA_RANGE_KM[1]:.3f} km)")
    print(f"time       mean {tt.isot} TDB (JD {t['mean']:.9f}; {utc} UTC), "
          f"sigma {stats.time_sigma_s:.3f} s (3 sigma {3 * stats.time_sigma_s:.3f} s)")
    c = b["cov_km2"]
    print(f"B-plane    xi {b['xi_km']:.3f} km, zeta {b['zeta_km']:.3f} km; "
          f"sigma_xi {c[0][0] ** 0.5:.3f} km, sigma_zeta {c[1][1] ** 0.5:.3f} km, "
          f"correlation {c[0][1] / (c[0][0] * c[1][1]) ** 0.5:+.3f}")
    print(f"model: forces {', '.join(result.parameters['model']['forces'])}; ephemerides "
          f"{', '.join(result.parameters['model']['ephemeris_files'])}")
    if result.out is not None:
        print(f"results: {result.out} (manifest.json, chunk-*.parquet)")
    for p in plots:
        print(f"wrote {p}")
    if plot_error is not None:
        raise plot_error
    return 0
