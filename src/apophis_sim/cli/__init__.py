"""The ``apophis-sim`` command line: a thin layer over the public API."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["main"]

#: One module per subcommand, each with ``register(subparsers)``.
_SUBCOMMAND_MODULES: tuple[str, ...] = ("apophis_sim.cli.flyby",
                                        "apophis_sim.cli.windows",
                                        "apophis_sim.cli.montecarlo",
                                        "apophis_sim.cli.orbit",
                                        "apophis_sim.cli.approaches",
                                        "apophis_sim.cli.deflect",
                                        "apophis_sim.cli.ephemeris",
                                        "apophis_sim.cli.risk")


def _build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="apophis-sim",
        description="Orbital geometry of (99942) Apophis's 13 April 2029 Earth flyby.")
    parser.add_argument("--version", action="version", version=f"apophis-sim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    # Further subcommands live beside the code they drive; each module exposes
    # register(subparsers), which adds its parser and sets ``func``.
    for module in _SUBCOMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``apophis-sim`` console script."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    from ..errors import ApophisSimError

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
