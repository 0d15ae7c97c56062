"""Optional extras: import their packages on use, with a typed error when missing.

``pip install .`` is the flyby-only install; the Monte Carlo engine (Dask workers,
Parquet chunk files) needs the ``distributed`` extra, ``pip install
"apophis_sim[distributed]"``. Nothing here is imported by ``import apophis_sim``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from types import ModuleType

from .errors import MissingDependencyError

__all__ = ["DISTRIBUTED_MODULES", "require", "import_optional"]

#: The modules of the ``distributed`` extra (``dask[distributed]`` and ``pyarrow``).
DISTRIBUTED_MODULES = ("dask", "distributed", "pyarrow")


def require(modules: Iterable[str], feature: str, extra: str = "distributed") -> None:
    """Import each of ``modules``; raise one :class:`MissingDependencyError` naming
    every one that is missing and the ``pip install "apophis_sim[extra]"`` command."""
    missing = []
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise MissingDependencyError(feature, missing, extra)


def import_optional(name: str, feature: str, extra: str = "distributed") -> ModuleType:
    """``importlib.import_module(name)``, or :class:`MissingDependencyError`."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise MissingDependencyError(feature, [name], extra) from None
