"""Orbit uncertainty through the 2029 encounter: covariance sampling, linear mapping,
B-plane, and Monte Carlo runs on Dask.

An orbit solution is a distribution, not a point: JPL publishes the 8x8 covariance
of Apophis's ecliptic J2000 elements and Marsden parameters (e, q, tp, node, peri,
i, A1, A2) at the solution epoch. This module carries it to the close approach of
13 April 2029 in two ways:

* **linearly**: :func:`covariance_at` maps the covariance to Cartesian coordinates
  at any time, and :func:`linear_encounter` to the close-approach time, distance
  and B-plane coordinates, through the state transition matrix of one
  variational integration (or, as a check, by finite differences of 17 clones);
* **by Monte Carlo** (:func:`run_monte_carlo`): seeded clones drawn from the
  covariance, each integrated with the full force model, in chunks that run as
  Dask tasks (an embedded ``LocalCluster`` by default, or an existing cluster),
  written per chunk atomically as Parquet so that a run can be resumed. Dask and
  pyarrow are the optional ``distributed`` extra, ``pip install
  "apophis_sim[distributed]"``; without it, importing this module and the linear
  mapping work, and :func:`run_monte_carlo` raises
  :class:`~apophis_sim.errors.MissingDependencyError` saying so.

Both give the close-approach time, distance and Opik/Valsecchi B-plane
coordinates (:func:`bplane_coordinates`).

Conventions: parameters in JPL's units (e dimensionless, q au, tp TDB Julian date
[day], node/peri/i degrees, A1/A2 au/day^2); times TDB Julian dates; distances
km; velocities km/s; vectors ICRF.
"""


from __future__ import annotations

from .encounter import (ENCOUNTER_LABELS, ENCOUNTER_MAX_DISTANCE_AU, ENCOUNTER_UNTIL, BPlane,
                        bplane_coordinates, encounter_of)
from .linear import (EncounterJacobian, LinearEncounter, StateCovariance, covariance_at,
                     encounter_jacobian, linear_encounter, parameter_jacobian)
from .montecarlo import (RESULT_COLUMNS, EncounterStatistics, MonteCarloResult,
                         encounter_statistics, load_monte_carlo, run_monte_carlo)
from .sampling import (GM_SUN_SBDB, PARAMETER_LABELS, CovarianceFactor,
                       _elements_state,  # noqa: F401  (used by the tests)
                       clone_states, covariance_factor, embed_parameters, parameter_index,
                       sample_parameters, standard_normals)

__all__ = [
    "StateCovariance",
    "EncounterJacobian",
    "covariance_at",
    "encounter_jacobian",
    "parameter_jacobian",
    "RESULT_COLUMNS",
    "ENCOUNTER_UNTIL",
    "ENCOUNTER_MAX_DISTANCE_AU",
    "PARAMETER_LABELS",
    "ENCOUNTER_LABELS",
    "GM_SUN_SBDB",
    "CovarianceFactor",
    "BPlane",
    "LinearEncounter",
    "EncounterStatistics",
    "MonteCarloResult",
    "covariance_factor",
    "standard_normals",
    "sample_parameters",
    "clone_states",
    "parameter_index",
    "embed_parameters",
    "bplane_coordinates",
    "encounter_of",
    "linear_encounter",
    "encounter_statistics",
    "run_monte_carlo",
    "load_monte_carlo",
]
