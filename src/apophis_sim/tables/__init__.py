"""Horizons-grade tables: observer ephemerides (and, at merge, close approaches).

Each table is an astropy ``QTable`` with units on every column, TDB and UTC ``Time``
columns, a compact repr, ``to_pandas()`` and CSV/JSON export.
"""

from __future__ import annotations

from .observer import MAX_ROWS, ObserverTable, observer, to_json, write_csv
from .sites import Site, mpc_sites, site

__all__ = ["MAX_ROWS", "ObserverTable", "Site", "mpc_sites", "observer", "site", "to_json",
           "write_csv"]
