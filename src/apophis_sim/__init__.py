"""apophis_sim: orbital geometry of (99942) Apophis's 2029 Earth flyby.

A float64 core (au, day, TDB Julian date, au^3/day^2; compiled with numba) under a
thin astropy-units layer. This module imports no plotting library and has no side
effects; heavy pieces (ephemerides, numba kernels) load on first use, and so do the
subpackages: ``import apophis_sim`` then ``apophis_sim.encounter`` (or
``.rendezvous``, ``.uncertainty``, ``.risk``, ``.tables``, ``.visibility``,
``.plotting``) works without a second import.
"""

import sys

# Checked before anything else is imported, in syntax every Python 3 parses, so that an
# older interpreter (e.g. with PYTHONPATH=src or a copied tree) gets this one sentence
# instead of a SyntaxError or a confusing failure deep inside a dependency.
if sys.version_info < (3, 11):  # noqa: UP036 (keep in step with requires-python)
    raise ImportError(
        "apophis_sim needs Python 3.11 or newer; this is Python %d.%d (%s). Install it "
        "with a newer interpreter, e.g. python3.12 -m venv venv && venv/bin/pip install ."
        % (sys.version_info[0], sys.version_info[1], sys.executable))

from . import errors  # noqa: E402 (after the version check)
from .elements import Elements, Moid, moid, orbit_class
from .ephemeris import Ephemeris
from .nbody import (FORCE_NAMES, StateTransition, close_approaches, propagate_nbody,
                    propagate_nbody_grid, state_transition, state_transition_grid)
from .propagate import propagate, propagate_grid
from .solution import NongravModel, OrbitSolution, apophis
from .state import FRAMES, State
from .time import UTCAssumptionWarning

__version__ = "0.1.0"

#: Submodules imported on first attribute access (``apophis_sim.encounter``), so that
#: ``import apophis_sim`` stays light (``plotting`` imports matplotlib).
_LAZY_SUBMODULES = ("bodies", "cli", "elements", "encounter", "ephemeris", "nbody", "plotting",
                    "propagate", "rendezvous", "risk", "solution", "state", "tables", "time",
                    "uncertainty", "units", "visibility")


def __getattr__(name: str):
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))

__all__ = [
    "Elements",
    "Ephemeris",
    "FORCE_NAMES",
    "Moid",
    "NongravModel",
    "OrbitSolution",
    "apophis",
    "close_approaches",
    "propagate_nbody",
    "propagate_nbody_grid",
    "state_transition",
    "state_transition_grid",
    "StateTransition",
    "FRAMES",
    "State",
    "UTCAssumptionWarning",
    "errors",
    "moid",
    "orbit_class",
    "propagate",
    "propagate_grid",
    "__version__",
]
