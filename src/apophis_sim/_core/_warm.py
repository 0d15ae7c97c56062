"""Compile the force model in a second process while this one compiles the integrator.

A first run compiles two large kernels that do not depend on each other's code: the
integrator (:func:`~apophis_sim._core.ias15._integrate_one`), which calls the force
model through a function pointer, and the force model
(:func:`~apophis_sim._core.forces.accel`). numba compiles in one thread, so on a
machine with two or more cores :func:`start` hands the force model to a child
process (``python -m apophis_sim._core._warm``) that compiles it into numba's on-disk
cache while this process compiles the integrator; :func:`wait` then loads it from
the cache. Later runs find both in the cache and start no process.

Nothing depends on the child: if it cannot start, fails, or the cache is not
writable, this process compiles the force model itself (the result is the same
machine code either way). ``APOPHIS_SIM_BACKGROUND_COMPILE=0`` turns it off.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

__all__ = ["start", "wait", "enabled", "ensure_loaded", "jobs_started", "EVENT"]

#: numba event kind (``numba.core.event``) broadcast while this process waits for the
#: child: :class:`apophis_sim._compilewatch.CompileWatch` counts it as compile time.
EVENT = "apophis_sim:compile-wait"

#: Longest wait for the child [s] before compiling here instead.
TIMEOUT_S = 600.0

_children: dict[str, subprocess.Popen] = {}


def jobs_started() -> int:
    """How many kernels this process has handed to child processes so far."""
    return len(_children)


def enabled() -> bool:
    """Whether a first compilation may use a child process."""
    if os.environ.get("APOPHIS_SIM_BACKGROUND_COMPILE", "1").strip() in ("0", "false", "no"):
        return False
    from numba.core import config

    if config.DISABLE_JIT:
        return False
    return (os.cpu_count() or 1) >= 2


def ensure_loaded(dispatcher, sig) -> bool:
    """True when ``dispatcher`` has ``sig`` compiled in this process, after loading it
    from numba's on-disk cache if it is there (what numba's own dispatch does first);
    False when it would have to be compiled. ``sig``: a numba signature, or a tuple of
    argument types (as numba's dispatch keys a call from Python)."""
    args = tuple(sig) if isinstance(sig, tuple) else tuple(sig.args)
    if args in dispatcher.overloads:
        return True
    try:
        cache = dispatcher._cache
        cres = cache.load_overload(sig, dispatcher.targetctx)
        if cres is None:
            return False
        dispatcher._cache_hits[sig] += 1
        dispatcher.targetctx.insert_user_function(cres.entry_point, cres.fndesc,
                                                  [cres.library])
        dispatcher.add_overload(cres)
        return True
    except Exception:  # numba internals moved: let numba compile as usual
        return False


def _cacheable(dispatcher) -> bool:
    try:
        from numba.core.caching import NullCache

        return not isinstance(dispatcher._cache, NullCache)
    except Exception:
        return False


_JOB_FUNCS = {"posvel": ("chebyshev", "body_posvel"), "accel": ("forces", "accel"),
              "accel-variations": ("forces", "accel")}


def _dispatcher(job: str):
    import importlib

    module, name = _JOB_FUNCS[job]
    return getattr(importlib.import_module(f"{__package__}.{module}"), name)


def start(jobs) -> None:
    """Compile the kernels of ``jobs`` (names of :func:`~.ias15.canonical_signature`) in
    one child process, those that are neither compiled nor cached nor being compiled
    by an earlier child."""
    if not enabled():
        return
    from .ias15 import canonical_signature

    todo = []
    for job in jobs:
        if job in _children:
            continue
        disp = _dispatcher(job)
        if _cacheable(disp) and not ensure_loaded(disp, canonical_signature(job)):
            todo.append(job)
    if not todo:
        return
    if not sys.executable:
        return  # an embedded interpreter: no Python to start
    # The child imports this very package (the same sys.path), so that it compiles the
    # kernels of these files into the cache this process reads.
    path = os.pathsep.join(p for p in sys.path if p)
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "apophis_sim._core._warm", *todo],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=dict(os.environ, APOPHIS_SIM_BACKGROUND_COMPILE="0", PYTHONPATH=path))
    except (OSError, ValueError):
        return
    for job in todo:
        _children[job] = child


def wait(job: str) -> None:
    """Wait for the child compiling ``job`` (if any) to finish."""
    child = _children.get(job)
    if child is None or child.poll() is not None:
        return
    try:
        from numba.core import event
    except ImportError:  # pragma: no cover
        event = None
    if event is not None:
        event.start_event(EVENT)
    try:
        child.wait(TIMEOUT_S)
    except subprocess.TimeoutExpired:
        child.kill()
    finally:
        if event is not None:
            event.end_event(EVENT)


def _main(argv: list[str]) -> int:
    from .ias15 import canonical_signature

    t0 = time.perf_counter()
    for job in argv:
        # The full signature (return type included) is the key under which the
        # integrator looks it up (numba.experimental.function_type).
        _dispatcher(job).compile(canonical_signature(job))
    if os.environ.get("APOPHIS_SIM_WARM_VERBOSE"):
        print(f"compiled {argv} in {time.perf_counter() - t0:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
