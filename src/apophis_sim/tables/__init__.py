"""Horizons-grade tables: close approaches with uncertainties (CAD / APPROACH) and
observer ephemerides.

Each table is an astropy ``QTable`` with units on every column, TDB and UTC ``Time``
columns, a compact repr, ``to_pandas()`` and CSV/JSON export.
"""

from __future__ import annotations

from .approaches import approaches, bplane_ellipse, linear_impact_probability, sigma_to_disc
from .observer import MAX_ROWS, ObserverTable, observer, to_json, write_csv
from .sites import Site, mpc_sites, site

__all__ = ["MAX_ROWS", "ObserverTable", "Site", "approaches", "bplane_ellipse",
           "linear_impact_probability", "mpc_sites", "observer", "sigma_to_disc", "site",
           "to_json", "write_csv"]
