"""What the ``apophis-sim`` subcommands share: loading a solution, reading UTC dates,
checking an output folder before anything is computed, and argparse number types."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

__all__ = ["load_solution", "utc_date", "output_folder", "positive_float", "non_negative_float",
           "bounded_int", "add_solution_args", "add_renamed_flag"]


class _RenamedFlag(argparse._StoreAction):
    """Store like the new flag, after a one-line deprecation note on stderr."""

    def __init__(self, *args, new: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.new = new

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        from .._deprecation import REMOVED_IN

        print(f"apophis-sim: {option_string} is deprecated, use {self.new} (the old flag is "
              f"removed in {REMOVED_IN})", file=sys.stderr)
        super().__call__(parser, namespace, values, option_string)


def add_renamed_flag(parser: argparse.ArgumentParser, old: str, new: str) -> None:
    """Keep ``old`` as a hidden alias of the already-added option ``new`` (one release)."""
    action = next(a for a in parser._actions if new in a.option_strings)
    parser.add_argument(old, dest=action.dest, type=action.type, metavar=action.metavar,
                        action=_RenamedFlag, new=new, default=argparse.SUPPRESS,
                        help=argparse.SUPPRESS)


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def add_solution_args(parser: argparse.ArgumentParser, *, drop: bool = True) -> None:
    """``--sbdb FILE`` (and ``--drop-unsupported``) for commands that take a solution."""
    parser.add_argument("--sbdb", metavar="FILE", default=None,
                        help="SBDB API JSON file (default: JPL #220 of 99942 Apophis)")
    if drop:
        parser.add_argument("--drop-unsupported", action="store_true",
                            help="drop model parameters the propagator does not model (e.g. "
                                 "Bennu's RHO/AMRAT) and marginalise the covariance, instead "
                                 "of refusing")


def load_solution(args: argparse.Namespace):
    """The shipped JPL #220, or ``--sbdb FILE`` with the CLI's own hint when the file's
    model has parameters the propagator does not model."""
    from ..errors import UnsupportedModelError
    from ..solution import OrbitSolution, apophis

    if getattr(args, "sbdb", None) is None:
        return apophis()
    drop = bool(getattr(args, "drop_unsupported", False))
    try:
        return OrbitSolution.from_sbdb(Path(args.sbdb), unsupported="drop" if drop else "raise")
    except UnsupportedModelError as exc:
        raise UnsupportedModelError(
            exc.parameters,
            f"{args.sbdb}: the solution has parameters apophis_sim does not model "
            f"({', '.join(exc.parameters)}); rerun with --drop-unsupported to drop them "
            f"(the covariance is marginalised over them)") from None


def utc_date(text, option: str):
    """A calendar date (or dates) typed by a person, read as UTC -> Time (TDB scale)."""
    from astropy.time import Time

    from ..errors import TimeInputError
    from ..time import quiet_utc

    if text is None:
        return None
    try:
        with quiet_utc(announce=False):
            return Time(text, scale="utc").tdb
    except ValueError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TimeInputError(f"{option}: cannot read {text!r} as UTC (use ISO dates, e.g. "
                             f"2029-04-13 or '2029-04-13 21:45'; {first})") from None


def output_folder(path: str | None, option: str = "--plots") -> Path | None:
    """Create and probe an output folder before anything is computed (one-line errors).

    Refuses (:class:`~apophis_sim.errors.OutputPathError`, exit code 2) an empty
    name, a path inside /proc, /sys or /dev, an existing file, and a folder that
    cannot be created or written into; see
    :func:`apophis_sim.uncertainty.store.check_output_folder`.
    """
    from ..uncertainty.store import check_output_folder

    if path is None:
        return None
    return check_output_folder(path, option)


def non_negative_float(text: str) -> float:
    """argparse type: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def bounded_int(low: int, high: int | None = None):
    """argparse type: an integer in ``low .. high`` (``>= low`` without ``high``)."""
    wanted = f"an integer >= {low}" if high is None else f"an integer {low} .. {high}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse
