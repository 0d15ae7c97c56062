"""Notice and time numba's compilations, so that a first run is neither silent nor
misreported.

The kernels in :mod:`apophis_sim._core` are compiled on their first call and cached
on disk (``cache=True``); numba falls back to a user cache directory by itself when
the installed package is read-only. A cache hit costs milliseconds; a miss (the
first run after installing, or after upgrading numba) costs seconds. numba
broadcasts a ``"numba:compile"`` event only for a miss (numba's event API,
:mod:`numba.core.event`), so :class:`CompileWatch` can tell the user when a
compilation starts and report its time apart from the computation's.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["CompileWatch", "FIRST_COMPILE_NOTICE"]

#: Waiting for a kernel compiled in a child process (see :mod:`apophis_sim._core._warm`).
_WAIT_EVENT = "apophis_sim:compile-wait"

#: One line on stderr when the first kernel of a run has to be compiled.
FIRST_COMPILE_NOTICE = ("apophis-sim: compiling the numerical kernels for this command "
                        "(first run only, cached for later runs) ...")


class CompileWatch:
    """Context manager: wall time spent compiling numba kernels (cache misses) inside it.

    Parameters
    ----------
    notice : str or None
        Written (one line) to ``stream`` when the first compilation starts; None for
        no notice.
    stream : text file, optional
        Default ``sys.stderr`` at the time of the notice.

    Attributes
    ----------
    seconds : float
        Wall time [s] spent in outermost compilations (a kernel's callees compile
        inside it and are not counted twice). Loading a cached kernel is not
        counted: it is part of the run.
    kernels : int
        How many kernels were compiled (outermost only) in this process.
    kernels_elsewhere : int
        How many kernels a child process compiled meanwhile for this one (see
        :mod:`apophis_sim._core._warm`); the time this process waited for them is in
        ``seconds``.

    Notes
    -----
    Other compilations in other threads or processes (Dask workers) are not seen.
    Without numba's event API (numba < 0.55) it records nothing.
    """

    def __init__(self, notice: str | None = FIRST_COMPILE_NOTICE,
                 stream: TextIO | None = None) -> None:
        self.notice = notice
        self.stream = stream
        self.seconds = 0.0
        self.kernels = 0
        self.kernels_elsewhere = 0
        self._jobs0 = 0
        self._noticed = False
        self._depth = 0
        self._t0 = 0.0
        self._listener = None

    def _start(self) -> None:
        if self._depth == 0:
            if not self._noticed and self.notice:
                out = self.stream if self.stream is not None else sys.stderr
                print(self.notice, file=out, flush=True)
            self._noticed = True
            self._t0 = time.perf_counter()
        self._depth += 1

    def _end(self, kernel: bool = True) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.seconds += time.perf_counter() - self._t0
            self.kernels += int(kernel)

    def __enter__(self) -> CompileWatch:
        try:
            from numba.core import event
        except ImportError:  # pragma: no cover - numba without the event API
            return self
        watch = self

        class _Listener(event.Listener):
            def on_start(self, ev):
                watch._start()

            def on_end(self, ev):
                watch._end(kernel=ev.kind != _WAIT_EVENT)

        self._listener = _Listener()
        event.register("numba:compile", self._listener)
        event.register(_WAIT_EVENT, self._listener)
        from ._core import _warm

        self._jobs0 = _warm.jobs_started()
        return self

    def __exit__(self, *exc) -> None:
        if self._listener is not None:
            from numba.core import event

            event.unregister("numba:compile", self._listener)
            event.unregister(_WAIT_EVENT, self._listener)
            self._listener = None
            from ._core import _warm

            self.kernels_elsewhere = _warm.jobs_started() - self._jobs0
