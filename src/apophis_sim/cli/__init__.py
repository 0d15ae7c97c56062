"""The ``apophis-sim`` command line: a thin layer over the public API."""

from __future__ import annotations

import argparse
import importlib
import os
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


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``apophis-sim CMD: error: ...`` and exit code 2
    (no usage block; ``--help`` shows it)."""

    def error(self, message: str):  # noqa: D401 - argparse API
        first = " ".join(str(message).split())
        self.exit(2, f"{self.prog}: error: {first} (see {self.prog} --help)\n")


def _build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = _Parser(
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
    try:
        parser = _build_parser()
        args = parser.parse_args(argv)
    except KeyboardInterrupt:
        return _interrupted()
    from ..errors import ApophisSimError

    _watch_sigint()
    try:
        return int(args.func(args))
    except ApophisSimError as exc:
        print(f"apophis-sim: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `apophis-sim flyby --json | head`
        sys.stdout = None
        return 0
    except KeyboardInterrupt:
        return _interrupted()
    except OSError as exc:  # a file the user named (--sbdb, ...) cannot be read
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"apophis-sim: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except Exception:
        # A Ctrl-C that lands inside a ctypes callback (numba's LLVM object cache,
        # during a compilation) is swallowed there ("Exception ignored ...") and
        # surfaces as some other error: it was still the user's Ctrl-C.
        if _SIGINT_SEEN:
            return _interrupted()
        raise


_SIGINT_SEEN = False


def _watch_sigint() -> None:
    """Remember a SIGINT, then raise KeyboardInterrupt as Python's default handler does."""
    import signal

    global _SIGINT_SEEN
    _SIGINT_SEEN = False

    def handler(signum, frame):
        global _SIGINT_SEEN
        _SIGINT_SEEN = True
        if _in_llvm_callback(frame):
            # Raised here, KeyboardInterrupt would unwind into LLVM's C++ code, which
            # swallows it ("Exception ignored on calling ctypes callback function") or
            # crashes (a CI run saw SIGSEGV). Raise it again once the stack has left.
            _interrupt_again()
            return
        raise KeyboardInterrupt

    try:
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: leave Python's handler
        pass

    # A KeyboardInterrupt raised inside a ctypes callback cannot propagate: Python
    # prints "Exception ignored on calling ctypes callback function" and a traceback
    # through its unraisable hook. It is the user's Ctrl-C, already remembered above,
    # so it is reported once, by `_interrupted`, and not as a traceback.
    previous = sys.unraisablehook

    def unraisable(args):
        if isinstance(args.exc_value, KeyboardInterrupt):
            global _SIGINT_SEEN
            _SIGINT_SEEN = True
            return
        previous(args)

    if not getattr(previous, "_apophis_sim", False):
        unraisable._apophis_sim = True
        sys.unraisablehook = unraisable


#: llvmlite's Python code: its ctypes callbacks run inside LLVM's C++ frames.
_LLVMLITE_DIR = os.sep + "llvmlite" + os.sep


def _in_llvm_callback(frame) -> bool:
    """Whether the interrupted Python stack runs inside llvmlite (numba compiling)."""
    while frame is not None:
        if _LLVMLITE_DIR in frame.f_code.co_filename:
            return True
        frame = frame.f_back
    return False


def _interrupt_again(delay_s: float = 0.05) -> None:
    """Deliver SIGINT to the main thread again after ``delay_s`` (the handler then
    raises KeyboardInterrupt, or defers once more if still inside LLVM)."""
    import _thread
    import threading
    import time

    def later():
        time.sleep(delay_s)
        _thread.interrupt_main()

    threading.Thread(target=later, name="apophis-sim-sigint", daemon=True).start()


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _interrupted() -> int:
    """SIGINT: one line on stderr, exit code 130 (128 + SIGINT), no traceback."""
    import signal

    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not traceback
    except ValueError:  # not the main thread
        pass
    print("apophis-sim: interrupted", file=sys.stderr, flush=True)
    return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
