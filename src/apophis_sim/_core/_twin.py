"""Pure-Python twins of small jitted kernels, for a few calls before they are compiled.

A kernel called for one or two states (the state of an orbit at its epoch, a body's
position at a few dates) costs microseconds to run and about a second to compile.
:func:`python_twin` gives the kernel's own Python function, with every jitted
function it calls replaced by that function's twin, so the same arithmetic runs in
the interpreter; :func:`cold` tells whether the jitted kernel would have to be
compiled for a call. The callers use the twin only for a few calls on a cold kernel:
a run that needs the kernel for many calls compiles it as before. The twin and the
kernel agree to the last bit on the cases the tests try (``tests/test_twin.py``).
"""

from __future__ import annotations

import types

from numba.core.dispatcher import Dispatcher

__all__ = ["python_twin", "cold"]

_twins: dict = {}


def python_twin(kernel):
    """The Python function of jitted ``kernel``, calling the twins of the jitted
    functions it calls (recursively)."""
    twin = _twins.get(kernel)
    if twin is None:
        py = kernel.py_func
        env = dict(py.__globals__)
        for name in py.__code__.co_names:
            obj = env.get(name)
            if isinstance(obj, Dispatcher):
                env[name] = python_twin(obj)
        twin = types.FunctionType(py.__code__, env, py.__name__, py.__defaults__,
                                  py.__closure__)
        _twins[kernel] = twin
    return twin


def cold(kernel, *args) -> bool:
    """True when calling ``kernel`` with ``args`` would compile it: it is neither
    compiled in this process nor in numba's on-disk cache (a cached kernel is loaded
    here, as numba's dispatch would)."""
    from numba import typeof

    from ._warm import ensure_loaded

    if not getattr(kernel, "_can_compile", True):
        return False
    try:
        sig = tuple(typeof(a) for a in args)
    except Exception:
        return False
    return not ensure_loaded(kernel, sig)
