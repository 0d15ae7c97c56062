"""Planetary-defence risk analysis: keyholes on an encounter's b-plane and orbits moved
through a chosen b-plane point (:func:`keyholes`, :func:`orbit_through`, in
``risk/keyholes.py``), with the analytic resonant-return circles of Valsecchi et al.
(2003) (:func:`valsecchi_circle`, ``risk/valsecchi.py``); virtual impactors, their
impact probability, Palermo and Torino scales (:func:`impact_probability`,
:func:`palermo_scale`, :func:`torino_scale`, ``risk/impacts.py``); where an
impacting orbit meets the ground, on the Earth or the Moon (:func:`first_impact`,
:func:`moon_orientation`, ``risk/impact_point.py``); plain
Monte Carlo impact probability on the Dask engine (:func:`impact_monte_carlo`,
``risk/montecarlo.py``); deflection by
impulses and kinetic impactors (:func:`deflect`, ``risk/deflection.py``).
"""

from __future__ import annotations

from .deflection import (Deflection, EncounterShift, KeyholeDeflection, deflect,
                         deflection_map, dv_for_shift, dv_into_keyhole, kinetic_impactor_dv,
                         rtn_basis)
from .impact_point import Impact, first_impact, impact_site, moon_orientation
from .impacts import impact_energy_mt, impact_probability, palermo_scale, torino_scale
from .keyholes import (EDGE_TOL_KM, KEYHOLE_COLUMNS, LineOfVariations, keyholes,
                       line_of_variations, orbit_through)
from .montecarlo import impact_monte_carlo, wilson_interval
from .returns import return_keyholes
from .valsecchi import OpikEncounter, opik_encounter, valsecchi_circle

__all__ = [
    "Deflection",
    "EDGE_TOL_KM",
    "EncounterShift",
    "Impact",
    "KeyholeDeflection",
    "KEYHOLE_COLUMNS",
    "LineOfVariations",
    "OpikEncounter",
    "deflect",
    "deflection_map",
    "dv_for_shift",
    "dv_into_keyhole",
    "first_impact",
    "impact_energy_mt",
    "impact_monte_carlo",
    "impact_probability",
    "impact_site",
    "keyholes",
    "kinetic_impactor_dv",
    "line_of_variations",
    "moon_orientation",
    "opik_encounter",
    "orbit_through",
    "palermo_scale",
    "return_keyholes",
    "rtn_basis",
    "torino_scale",
    "valsecchi_circle",
    "wilson_interval",
]
