"""numba decorator for the kernels' internal helpers.

numba builds two wrappers for every function it compiles, one to call it from
Python (argument unboxing) and one C callback, and lowers, optimises and emits
machine code for both, even for a helper that only other jitted functions call.
For those helpers they are dead weight on a first run (about a tenth of the compile
time of ``apophis-sim flyby``). :func:`inner_njit` compiles without them.

Such a helper has no Python entry point: calling it from Python raises TypeError
(numba itself would jump to a null pointer). Test it through a public kernel, or
call ``helper.py_func`` for the pure-Python version.
"""

from __future__ import annotations

from numba.core.registry import CPUDispatcher

__all__ = ["inner_njit"]


class _InnerDispatcher(CPUDispatcher):
    """A CPU dispatcher whose functions are callable from jitted code only."""

    def __call__(self, *args, **kws):
        raise TypeError(f"{self.py_func.__qualname__} is a jitted helper without a Python "
                        "entry point; call it from a jitted function (or use .py_func)")


def inner_njit(cache: bool = True, **options):
    """``numba.njit(cache=cache, **options)`` for a helper called only from jitted code:
    no Python (cpython) or C (cfunc) wrapper is compiled for it."""
    targetoptions = dict(options, nopython=True, no_cpython_wrapper=True,
                         no_cfunc_wrapper=True)

    def wrap(func):
        from numba.core import config

        if config.DISABLE_JIT:
            return func
        disp = _InnerDispatcher(py_func=func, locals={}, targetoptions=targetoptions)
        if cache:
            disp.enable_caching()
        return disp

    return wrap
