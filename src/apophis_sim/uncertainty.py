"""Orbit uncertainty through the 2029 encounter: covariance sampling, linear mapping,
B-plane, and Monte Carlo runs on Dask.

An orbit solution is a distribution, not a point: JPL publishes the 8x8 covariance
of Apophis's ecliptic J2000 elements and Marsden parameters (e, q, tp, node, peri,
i, A1, A2) at the solution epoch. This module carries it to the close approach of
13 April 2029 in two ways:

* **linearly** (:func:`linear_encounter`): the covariance mapped through the
  finite-difference state-transition matrix of the n-body flow, 17 integrations;
* **by Monte Carlo** (:func:`run_monte_carlo`): seeded clones drawn from the
  covariance, each integrated with the full force model, in chunks that run as
  Dask tasks (an embedded ``LocalCluster`` by default, or an existing cluster),
  written per chunk atomically as Parquet so that a run can be resumed.

Both give the close-approach time, distance and Opik/Valsecchi B-plane
coordinates (:func:`bplane_coordinates`).

Conventions: parameters in JPL's units (e dimensionless, q au, tp TDB Julian date
[day], node/peri/i degrees, A1/A2 au/day^2); times TDB Julian dates; distances
km; velocities km/s; vectors ICRF.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import sys
import time as _time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import astropy.units as u
import numpy as np
from astropy.time import Time

from . import bodies as _bodies
from ._core import bplane as _bp
from .elements import Elements
from .ephemeris import Ephemeris
from .errors import (ConvergenceError, IncompatibleRunError, InputError, NonFiniteInputError,
                     OrbitTypeError, ShapeMismatchError)
from .nbody import OrbitSolution, apophis, close_approaches, resolve_forces
from .nbody import _epsilon as _nbody_epsilon
from .state import State
from .time import from_jd_tdb
from .units import AU_KM, GM_UNIT

__all__ = [
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
    "bplane_coordinates",
    "encounter_of",
    "linear_encounter",
    "encounter_statistics",
    "run_monte_carlo",
    "load_monte_carlo",
]

#: The parameters of JPL's covariance, in its order and units (e [-], q [au],
#: tp [TDB JD], node/peri/i [deg], A1/A2 [au/day^2]).
PARAMETER_LABELS = ("e", "q", "tp", "node", "peri", "i", "A1", "A2")
#: The encounter quantities of :class:`LinearEncounter` (TDB JD [day], km, km, km).
ENCOUNTER_LABELS = ("time_tdb_jd", "distance_km", "xi_km", "zeta_km")
#: GM of the Sun of JPL's small-body elements (SBDB) [au^3/day^2].
GM_SUN_SBDB = _bodies.GM_SUN_SBDB * GM_UNIT
#: Search window of the 2029 encounter: from the solution epoch to this TDB date,
#: Earth approaches within this distance [au] (the 2029 one is the only one < 0.01 au).
ENCOUNTER_UNTIL = "2029-04-20"
ENCOUNTER_MAX_DISTANCE_AU = 0.01
#: Columns of a Monte Carlo result (one row per clone).
RESULT_COLUMNS = ("clone", "time_tdb_jd", "distance_km", "v_rel_km_s", "v_inf_km_s",
                  "xi_km", "zeta_km") + tuple(f"p_{name}" for name in PARAMETER_LABELS)
_MANIFEST = "manifest.json"
_FORMAT = "apophis_sim.montecarlo/1"
_CHUNK_RE = re.compile(r"^chunk-(\d{6,})\.parquet$")
_KM_S = AU_KM / 86400.0
_GM_KM3_S2 = AU_KM**3 / 86400.0**2


# ----------------------------------------------------------------------------- sampling


@dataclass(frozen=True)
class CovarianceFactor:
    """A square-root factor ``L`` of a covariance ``C`` (``C = L L^T``).

    Attributes
    ----------
    factor : ndarray (n, n)
        ``L = diag(sigma) V diag(sqrt(w))``, columns are the principal axes of the
        distribution scaled to one standard deviation (parameter units).
    sigma : ndarray (n,)
        Square roots of the diagonal of ``C``.
    eigenvalues : ndarray (n,)
        Eigenvalues ``w`` of the correlation matrix (ascending), after clipping.
    clipped : int
        How many tiny negative eigenvalues were clipped to zero.
    """

    factor: np.ndarray
    sigma: np.ndarray
    eigenvalues: np.ndarray
    clipped: int


def covariance_factor(covariance: np.ndarray, *, clip_tol: float = 1e-12) -> CovarianceFactor:
    """Square-root factor of an ill-conditioned covariance, via its correlation matrix.

    JPL's Apophis covariance spans 4e-32 (A2^2, au^2/day^4) to 1e-11 (deg^2): its
    condition number is ~3e23, beyond float64, so it is never factorised as is.
    It is scaled by its standard deviations first, ``R = D^-1 C D^-1`` with
    ``D = diag(sqrt(diag C))`` (condition number ~3e7 for #220), then
    ``R = V diag(w) V^T`` by a symmetric eigendecomposition (LAPACK ``syevd``),
    and ``L = D V diag(sqrt(w))``. Eigenvalues in ``[-clip_tol * max(w), 0)``
    are rounding noise of the published 16-digit matrix and are clipped to 0
    (that direction gets no spread); a more negative one means the matrix is not
    a covariance and is an error. ``eigh`` rather than Cholesky because it
    survives a semi-definite matrix and gives principal axes, which
    :func:`linear_encounter` uses as its finite-difference directions.

    Parameters
    ----------
    covariance : array_like (n, n)
        Symmetric positive semi-definite covariance, any (consistent) units.
    clip_tol : float
        Relative tolerance for clipping negative eigenvalues of the correlation matrix.

    Returns
    -------
    CovarianceFactor

    Raises
    ------
    ShapeMismatchError
        Not a square matrix.
    NonFiniteInputError
        NaN or infinity in the matrix.
    InputError
        Not symmetric (relative asymmetry > 1e-10 of the correlation), a diagonal
        entry <= 0, or an eigenvalue below ``-clip_tol * max``.
    """
    c = np.asarray(covariance, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ShapeMismatchError(f"covariance must be a square matrix, got shape {c.shape}")
    if not np.isfinite(c).all():
        raise NonFiniteInputError("covariance contains NaN or infinity")
    d = np.diag(c)
    if np.any(d <= 0):
        raise InputError(f"covariance diagonal must be positive, got {d}")
    sigma = np.sqrt(d)
    r = c / np.outer(sigma, sigma)
    if np.max(np.abs(r - r.T)) > 1e-10:
        raise InputError("covariance is not symmetric")
    r = 0.5 * (r + r.T)
    w, v = np.linalg.eigh(r)
    tol = clip_tol * float(w[-1])
    if w[0] < -tol:
        raise InputError(f"covariance is not positive semi-definite: its correlation matrix "
                         f"has eigenvalue {w[0]:.3g} (largest {w[-1]:.3g})")
    clipped = int(np.sum(w < 0))
    w = np.clip(w, 0.0, None)
    return CovarianceFactor(sigma[:, None] * v * np.sqrt(w)[None, :], sigma, w, clipped)


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def standard_normals(seed: int, start: int, stop: int, dim: int = len(PARAMETER_LABELS)
                     ) -> np.ndarray:
    """Independent N(0, 1) vectors of clones ``start .. stop-1`` of a seeded run.

    Clone ``k`` draws from its own generator, ``PCG64(SeedSequence(seed,
    spawn_key=(k,)))`` -- the ``k``-th child of ``SeedSequence(seed).spawn`` --
    so a clone's numbers depend only on ``(seed, k)``: never on the chunk it runs
    in, the chunk size or the number of workers.

    Returns
    -------
    ndarray (stop - start, dim)

    Raises
    ------
    InputError
        Negative seed or ``start``, or ``stop < start``.
    """
    seed = _check_seed(seed)
    if start < 0 or stop < start:
        raise InputError(f"need 0 <= start <= stop, got start={start}, stop={stop}")
    out = np.empty((stop - start, dim))
    for j, k in enumerate(range(start, stop)):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(k,))))
        out[j] = rng.standard_normal(dim)
    return out


def _nominal(solution: OrbitSolution) -> np.ndarray:
    labels = tuple(solution.covariance_labels)
    if labels != PARAMETER_LABELS:
        raise InputError(f"the solution's covariance must be over {PARAMETER_LABELS}, "
                         f"got {labels}")
    return np.array([float(solution.nominal_elements[k]) for k in PARAMETER_LABELS])


def sample_parameters(solution: OrbitSolution, seed: int, start: int, stop: int) -> np.ndarray:
    """Parameters of clones ``start .. stop-1``: ``x_k = x0 + L z_k``.

    ``x0`` is the solution's nominal (e, q, tp, node, peri, i, A1, A2), ``L`` its
    :func:`covariance_factor`, ``z_k`` from :func:`standard_normals`.

    Returns
    -------
    ndarray (stop - start, 8)
        Clone parameters in JPL's units (tp TDB JD, angles deg, A1/A2 au/day^2).
    """
    fac = covariance_factor(solution.covariance)
    z = standard_normals(seed, start, stop)
    # einsum without BLAS: each clone's row is the same sum whatever the batch size, so a
    # clone's parameters do not depend on the chunking (BLAS blocks by batch shape).
    return _nominal(solution)[None, :] + np.einsum("kj,ij->ki", z, fac.factor, optimize=False)


def _elements_state(solution: OrbitSolution, params: np.ndarray) -> State:
    """Heliocentric ICRF states of parameter rows (n, 8) at the solution epoch."""
    x0 = _nominal(solution)
    tp_int = math.floor(x0[2])
    # tp as a two-part JD: the integer day is exact, the clone's offset keeps full precision.
    tp = from_jd_tdb(np.full(len(params), float(tp_int)), (x0[2] - tp_int) + (params[:, 2] - x0[2]))
    el = Elements(q=params[:, 1] * u.au, e=params[:, 0], inc=params[:, 5] * u.deg,
                  raan=params[:, 3] * u.deg, argp=params[:, 4] * u.deg, tp=tp,
                  epoch=solution.state.epoch, frame="ecliptic", centre="sun", gm=GM_SUN_SBDB)
    return el.to_state().to_frame("icrf")


def clone_states(solution: OrbitSolution, params: np.ndarray) -> tuple[State, u.Quantity]:
    """Heliocentric ICRF states and Marsden parameters of clones.

    Each clone's elements are converted by ``Elements(...).to_state().to_frame("icrf")``
    (GM = :data:`GM_SUN_SBDB`, JPL's) and the conversion of the nominal elements
    is subtracted: ``r_k = r_sol + (r(x_k) - r(x0))`` (likewise v). The clone
    cloud is thereby centred exactly on the solution's published state vector
    (the element conversion reproduces it to ~1 m only, a bias that would
    otherwise shift every clone alike); the difference is exact to ~1e-16 au.

    Parameters
    ----------
    solution : OrbitSolution
        E.g. :func:`apophis`.
    params : ndarray (n, 8)
        Clone parameters (:func:`sample_parameters`), JPL's units.

    Returns
    -------
    states : State, shape (n,)
        Heliocentric ICRF, at the solution epoch.
    nongrav : Quantity (n, 3) [au/day^2]
        A1, A2 of each clone and A3 = 0.
    """
    p = np.asarray(params, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != len(PARAMETER_LABELS):
        raise ShapeMismatchError(f"params must have shape (n, 8), got {p.shape}")
    if not np.isfinite(p).all():
        raise NonFiniteInputError("params contain NaN or infinity")
    both = _elements_state(solution, np.vstack([_nominal(solution)[None, :], p]))
    sol = solution.state.to_frame("icrf")
    if sol.centre != "sun":
        raise InputError("the solution's state must be heliocentric")
    r = sol.r_au + (both.r_au[1:] - both.r_au[:1])
    v = sol.v_au_d + (both.v_au_d[1:] - both.v_au_d[:1])
    jd1, jd2 = sol.jd_tdb
    states = State.from_arrays(r, v, float(jd1), float(jd2), "icrf", "sun")
    ng = np.zeros((len(p), 3))
    ng[:, 0] = p[:, 6]
    ng[:, 1] = p[:, 7]
    return states, ng * u.au / u.day**2


# ----------------------------------------------------------------------------- B-plane


class BPlane(NamedTuple):
    """B-plane coordinates of flybys (arrays broadcast over the batch).

    Attributes
    ----------
    xi_km, zeta_km : ndarray
        Coordinates of the impact-parameter vector B on the xi and zeta axes [km].
    b_km : ndarray
        Impact parameter |B| [km].
    v_inf_km_s : ndarray
        Hyperbolic excess speed [km/s].
    eta_hat : ndarray (..., 3)
        Unit vector of the incoming asymptote (the B-plane normal), ICRF.
    """

    xi_km: np.ndarray
    zeta_km: np.ndarray
    b_km: np.ndarray
    v_inf_km_s: np.ndarray
    eta_hat: np.ndarray


def bplane_coordinates(r_rel_km: np.ndarray, v_rel_km_s: np.ndarray, gm_km3_s2: float,
                       earth_velocity_km_s: np.ndarray) -> BPlane:
    """Opik/Valsecchi B-plane coordinates from a planet-centred state.

    The planet-centred state (at closest approach or anywhere on the flyby) defines
    an osculating hyperbola. Its incoming asymptote has direction
    ``eta = (e_hat + sqrt(e^2 - 1) (h_hat x e_hat)) / e`` (perifocal velocity at
    true anomaly ``-arccos(-1/e)``), the B-plane is the plane through the planet
    perpendicular to it, and ``B = b (eta x h_hat)`` with ``b = |h| / v_inf``
    is where the incoming asymptote pierces it. Axes (Valsecchi et al. 2003,
    A&A 408, 1179): ``eta`` along the incoming planet-centred velocity, ``zeta``
    opposite to the projection of the planet's heliocentric velocity on the
    B-plane, ``xi = eta x zeta`` completing the right-handed set (xi, eta, zeta).
    ``zeta`` measures the shift in time of arrival (the early/late axis), ``xi``
    the minimum orbit intersection distance.

    Parameters
    ----------
    r_rel_km : array_like (..., 3)
        Body position relative to the planet [km], any inertial axes (ICRF here).
    v_rel_km_s : array_like (..., 3)
        Velocity relative to the planet [km/s], same axes.
    gm_km3_s2 : float
        GM of the planet [km^3/s^2] (Earth alone, as in the close-approach search).
    earth_velocity_km_s : array_like (..., 3)
        Heliocentric velocity of the planet at the same time [km/s], same axes.

    Returns
    -------
    BPlane

    Raises
    ------
    ShapeMismatchError
        Vectors without a last axis of 3 or not broadcasting.
    NonFiniteInputError
        NaN or infinity in the input.
    OrbitTypeError
        The planet-centred orbit is not hyperbolic (v^2 <= 2 GM / r): no asymptote.
    """
    try:
        r, v, ve = np.broadcast_arrays(np.asarray(r_rel_km, dtype=np.float64),
                                       np.asarray(v_rel_km_s, dtype=np.float64),
                                       np.asarray(earth_velocity_km_s, dtype=np.float64))
    except ValueError:
        raise ShapeMismatchError("r_rel_km, v_rel_km_s and earth_velocity_km_s do not "
                                 "broadcast together") from None
    if r.ndim == 0 or r.shape[-1] != 3:
        raise ShapeMismatchError(f"vectors need xyz on their last axis, got shape {r.shape}")
    if not (np.isfinite(r).all() and np.isfinite(v).all() and np.isfinite(ve).all()
            and math.isfinite(gm_km3_s2)):
        raise NonFiniteInputError("B-plane input contains NaN or infinity")
    mu = float(gm_km3_s2)
    rn = np.linalg.norm(r, axis=-1)
    v2 = np.sum(v * v, axis=-1)
    vinf2 = v2 - 2.0 * mu / rn
    if np.any(vinf2 <= 0):
        raise OrbitTypeError("the planet-centred orbit is not hyperbolic (v^2 <= 2 GM/r): "
                             "no incoming asymptote, no B-plane")
    hyp = _bp.hyperbola_arrays(r, v, mu)
    xi_hat, zeta_hat, _, _ = _bp.bplane_axes(hyp["s_hat"], ve, np.array([0.0, 0.0, 1.0]))
    b_vec = hyp["b_vec"]
    return BPlane(np.sum(b_vec * xi_hat, axis=-1), np.sum(b_vec * zeta_hat, axis=-1), hyp["b"],
                  hyp["v_inf"], hyp["s_hat"])


# ----------------------------------------------------------------------------- encounters


def _earth_gm_km3_s2() -> float:
    return _bodies.body("earth").gm_au3_d2 * _GM_KM3_S2


def encounter_of(states: State, nongrav: u.Quantity, *, forces: Sequence[str] | None = None,
                 ephemeris: Ephemeris | None = None, epsilon: float | None = None,
                 until: Time | None = None, progress: bool | None = False) -> dict[str, np.ndarray]:
    """The 2029 Earth close approach of each state of a batch (one batched n-body run).

    Parameters
    ----------
    states : State, shape (n,)
        Heliocentric (any frame) states at one epoch.
    nongrav : Quantity (n, 3) [length/time^2]
        A1, A2, A3 of each state.
    forces, ephemeris, epsilon, progress
        As in :func:`apophis_sim.nbody.close_approaches`.
    until : Time, optional
        End of the search (default 2029-04-20 TDB); the closest Earth approach
        within 0.01 au before it is taken.

    Returns
    -------
    dict of ndarray (n,)
        ``time_tdb_jd`` [TDB JD, day], ``distance_km``, ``v_rel_km_s``, ``v_inf_km_s``,
        ``xi_km``, ``zeta_km`` (:func:`bplane_coordinates`, Earth's heliocentric
        velocity from the same ephemeris).

    Raises
    ------
    ConvergenceError
        A state has no Earth approach within 0.01 au before ``until`` (or the
        integration failed).
    """
    eph = ephemeris if ephemeris is not None else Ephemeris.open()
    n = int(np.prod(states.shape)) if states.shape else 1
    until = until if until is not None else Time(ENCOUNTER_UNTIL, scale="tdb")
    tab = close_approaches(states, until, bodies=("earth",),
                           max_distance=ENCOUNTER_MAX_DISTANCE_AU * u.au, nongrav=nongrav,
                           forces=forces, ephemeris=eph, epsilon=epsilon, progress=progress)
    particle = np.asarray(tab["particle"])
    dist = tab["distance"].to_value(u.km)
    best = np.full(n, -1, dtype=np.int64)
    for row in np.argsort(dist, kind="stable")[::-1]:  # the closest one is written last
        best[particle[row]] = row
    if np.any(best < 0):
        k = int(np.argmax(best < 0))
        raise ConvergenceError(f"clone {k} (and {int(np.sum(best < 0)) - 1} more) has no Earth "
                               f"approach within {ENCOUNTER_MAX_DISTANCE_AU} au before {until.iso}")
    t = tab["time"][best]
    jd1, jd2 = t.tdb.jd1, t.tdb.jd2
    r_rel = tab["r_rel"].to_value(u.km)[best]
    v_rel = tab["v_rel_vec"].to_value(u.km / u.s)[best]
    _, ve = eph.posvel("earth", jd1, jd2, centre="sun")
    bp = bplane_coordinates(r_rel, v_rel, _earth_gm_km3_s2(), ve * _KM_S)
    return {
        "time_tdb_jd": jd1 + jd2,
        "distance_km": dist[best],
        "v_rel_km_s": tab["v_rel"].to_value(u.km / u.s)[best],
        "v_inf_km_s": bp.v_inf_km_s,
        "xi_km": bp.xi_km,
        "zeta_km": bp.zeta_km,
    }


def _encounter_vector(enc: dict[str, np.ndarray]) -> np.ndarray:
    return np.stack([enc[k] for k in ENCOUNTER_LABELS], axis=-1)


@dataclass(frozen=True)
class LinearEncounter:
    """The encounter covariance from the linearised flow (:func:`linear_encounter`).

    Attributes
    ----------
    labels : tuple of str
        :data:`ENCOUNTER_LABELS`: CA time (TDB JD [day]), distance, xi, zeta [km].
    nominal : ndarray (4,)
        The nominal clone's values.
    covariance : ndarray (4, 4)
        Covariance in day^2, day km, km^2.
    differences : ndarray (4, 8)
        Central differences ``(f(x0 + h s_k) - f(x0 - h s_k)) / 2h`` along the
        step directions ``s_k`` (columns of the covariance factor for
        ``scheme="principal"``: rows then predict clone ``x0 + L z`` as
        ``nominal + differences @ z``; unit parameter vectors scaled by sigma
        for ``scheme="parameters"``).
    scheme : str
    step : float
        Step length in standard deviations.
    forces : tuple of str
    """

    labels: tuple[str, ...]
    nominal: np.ndarray
    covariance: np.ndarray
    differences: np.ndarray
    scheme: str
    step: float
    forces: tuple[str, ...]

    @property
    def sigma(self) -> np.ndarray:
        """Standard deviations (day, km, km, km)."""
        return np.sqrt(np.diag(self.covariance))

    def predict(self, z: np.ndarray) -> np.ndarray:
        """Linear prediction ``nominal + differences @ z`` for standard-normal
        vectors ``z`` (n, 8) of :func:`standard_normals` (``scheme="principal"`` only)."""
        if self.scheme != "principal":
            raise InputError("predict() needs scheme='principal' (steps along the factor)")
        return self.nominal + np.asarray(z) @ self.differences.T


def linear_encounter(solution: OrbitSolution | None = None, *, scheme: str = "principal",
                     step: float = 1.0, forces: Sequence[str] | None = None,
                     ephemeris: Ephemeris | None = None, epsilon: float | None = None
                     ) -> LinearEncounter:
    """Covariance of the 2029 close approach by linear mapping (finite-difference STM).

    One batched n-body run of 17 clones: the nominal and, for each of 8 step
    directions ``s_k``, ``x0 +/- step * s_k``. Central differences
    ``d_k = (f(x0 + h s_k) - f(x0 - h s_k)) / 2h`` cancel the even-order terms of
    the flow (error O(h^2 f''')), and every clone is integrated to the same
    adaptive tolerance, so the integration noise (~mm) is far below the ~km
    responses of one-sigma steps.

    * ``scheme="principal"`` (default): ``s_k`` are the columns of the
      :func:`covariance_factor` ``L`` -- one-sigma displacements along the
      principal axes of the distribution itself, so no step leaves the region the
      clones populate (a one-sigma step in ``node`` alone would be ~50 conditional
      sigmas off the node-peri correlation of -0.98). Then ``C_f = D D^T``
      exactly, with ``D = [d_k]``.
    * ``scheme="parameters"``: ``s_k = sigma_k e_k``, the classical
      parameter-by-parameter Jacobian ``J`` (columns ``d_k / sigma_k``), and
      ``C_f = J C J^T``.

    Parameters
    ----------
    solution : OrbitSolution, optional
        Default :func:`apophis` (JPL #220).
    scheme : {"principal", "parameters"}
    step : float
        Step length ``h`` in standard deviations (> 0; default 1).
    forces, ephemeris, epsilon
        As in :func:`apophis_sim.nbody.close_approaches`.

    Returns
    -------
    LinearEncounter

    Raises
    ------
    InputError
        Unknown scheme, non-positive step.
    """
    sol = solution if solution is not None else apophis()
    if scheme not in ("principal", "parameters"):
        raise InputError(f"scheme must be 'principal' or 'parameters', got {scheme!r}")
    if not (step > 0 and math.isfinite(step)):
        raise InputError(f"step must be a positive number of sigmas, got {step}")
    fac = covariance_factor(sol.covariance)
    dirs = fac.factor if scheme == "principal" else np.diag(fac.sigma)
    x0 = _nominal(sol)
    params = np.vstack([x0[None, :], x0 + step * dirs.T, x0 - step * dirs.T])
    eph = ephemeris if ephemeris is not None else Ephemeris.open()
    states, ng = clone_states(sol, params)
    f = _encounter_vector(encounter_of(states, ng, forces=forces, ephemeris=eph,
                                       epsilon=epsilon))
    # Differences first, then divide: the CA times (~2.46e6 day) keep full precision.
    d = ((f[1:9] - f[9:17]) / (2.0 * step)).T
    if scheme == "principal":
        cov = d @ d.T
    else:
        jac = d / fac.sigma[None, :]
        cov = jac @ sol.covariance @ jac.T
    return LinearEncounter(ENCOUNTER_LABELS, f[0], 0.5 * (cov + cov.T), d, scheme, float(step),
                           tuple(resolve_forces(forces, eph)))


# ----------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class EncounterStatistics:
    """Statistics of the close approaches of N clones.

    Attributes
    ----------
    n_clones : int
    distance_km : dict
        ``mean``, ``min``, ``max``, ``sigma`` (sample standard deviation, ddof=1) [km].
    time_tdb_jd : dict
        ``mean`` [TDB JD], ``sigma`` [day].
    bplane : dict
        ``xi_km``, ``zeta_km`` (means) and ``cov_km2`` (2x2 sample covariance of
        (xi, zeta) [km^2], list of lists).
    """

    n_clones: int
    distance_km: dict
    time_tdb_jd: dict
    bplane: dict

    @property
    def distance_3sigma_km(self) -> tuple[float, float]:
        """``mean -/+ 3 sigma`` of the distance [km] (JPL's "3-sigma range" convention)."""
        m, s = self.distance_km["mean"], self.distance_km["sigma"]
        return (m - 3.0 * s, m + 3.0 * s)

    @property
    def time_sigma_s(self) -> float:
        """Standard deviation of the close-approach time [s]."""
        return self.time_tdb_jd["sigma"] * 86400.0

    def to_dict(self) -> dict:
        """Plain JSON-serialisable dict (the CLI's ``--json`` keys)."""
        return {"n_clones": self.n_clones, "distance_km": dict(self.distance_km),
                "time_tdb_jd": dict(self.time_tdb_jd), "bplane": {
                    "xi_km": self.bplane["xi_km"], "zeta_km": self.bplane["zeta_km"],
                    "cov_km2": [list(map(float, row)) for row in self.bplane["cov_km2"]]}}


def encounter_statistics(columns: dict[str, np.ndarray]) -> EncounterStatistics:
    """Statistics of a Monte Carlo result (``MonteCarloResult.columns``).

    Raises
    ------
    InputError
        Fewer than 2 clones (no sample standard deviation).
    """
    d = np.asarray(columns["distance_km"], dtype=np.float64)
    n = d.size
    if n < 2:
        raise InputError(f"statistics need at least 2 clones, got {n}")
    t = np.asarray(columns["time_tdb_jd"], dtype=np.float64)
    t_ref = float(t[0])
    dt = t - t_ref  # small numbers: no cancellation in the variance
    xz = np.stack([columns["xi_km"], columns["zeta_km"]])
    cov = np.cov(xz, ddof=1)
    return EncounterStatistics(
        n_clones=int(n),
        distance_km={"mean": float(d.mean()), "min": float(d.min()), "max": float(d.max()),
                     "sigma": float(d.std(ddof=1))},
        time_tdb_jd={"mean": t_ref + float(dt.mean()), "sigma": float(dt.std(ddof=1))},
        bplane={"xi_km": float(xz[0].mean()), "zeta_km": float(xz[1].mean()),
                "cov_km2": cov.tolist()},
    )


# ----------------------------------------------------------------------------- Monte Carlo


def _solution_digest(sol: OrbitSolution) -> str:
    st = sol.state.to_frame("icrf")
    blob = json.dumps({
        "name": sol.name, "solution": sol.solution,
        "r": st.r_au.tolist(), "v": st.v_au_d.tolist(),
        "epoch": [float(x) for x in st.jd_tdb], "centre": st.centre,
        "nongrav": sol.nongrav.to_value(u.au / u.day**2).tolist(),
        "covariance": np.asarray(sol.covariance).tolist(),
        "nominal": [float(sol.nominal_elements[k]) for k in PARAMETER_LABELS],
    }, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _run_parameters(sol: OrbitSolution, seed: int, n_clones: int, chunk_size: int,
                    forces: tuple[str, ...], files: tuple[str, ...], epsilon: float) -> dict:
    return {
        "format": _FORMAT,
        "seed": seed,
        "n_clones": n_clones,
        "chunk_size": chunk_size,
        "solution": {"name": sol.name, "id": sol.solution, "sha256": _solution_digest(sol)},
        "model": {"forces": list(forces), "ephemeris_files": list(files), "epsilon": epsilon,
                  "integrator": "IAS15 (Gauss-Radau, PRS23 step control)",
                  "encounter": {"body": "earth", "until_tdb": ENCOUNTER_UNTIL,
                                "max_distance_au": ENCOUNTER_MAX_DISTANCE_AU},
                  "sampling": "x = x0 + L z, L from eigh of the correlation matrix; "
                              "z of clone k from PCG64(SeedSequence(seed, spawn_key=(k,)))"},
    }


def _run_id(params: dict) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class _ChunkSpec:
    """What a worker needs to compute any chunk of a run (small: ~3 kB pickled).

    A plain object, not a dict: Dask would treat a scattered or embedded dict's
    entries as separate keys of the cluster (named "seed", "solution", ...), which
    collide between runs sharing one cluster.
    """

    solution: OrbitSolution
    seed: int
    n_clones: int
    chunk_size: int
    forces: tuple[str, ...]
    epsilon: float
    numba_threads: int | None


def _simulate_chunk(spec: _ChunkSpec, chunk: int) -> dict[str, Any]:
    """Worker task: the clones of one chunk -> result columns (plain NumPy arrays).

    Pure function of ``(spec, chunk)``: a re-run after a lost worker gives the
    same bits.
    """
    threads = spec.numba_threads
    if threads:
        import numba

        numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    sol = spec.solution
    start = chunk * spec.chunk_size
    stop = min(spec.n_clones, start + spec.chunk_size)
    params = sample_parameters(sol, spec.seed, start, stop)
    states, ng = clone_states(sol, params)
    eph = Ephemeris.open()
    enc = encounter_of(states, ng, forces=spec.forces, ephemeris=eph, epsilon=spec.epsilon)
    cols: dict[str, Any] = {"clone": np.arange(start, stop, dtype=np.int64)}
    cols.update(enc)
    for j, name in enumerate(PARAMETER_LABELS):
        cols[f"p_{name}"] = params[:, j]
    return {"chunk": chunk, "columns": cols, "ephemeris_files": list(eph.files),
            "pid": os.getpid()}


def _chunk_path(out: Path, chunk: int) -> Path:
    return out / f"chunk-{chunk:06d}.parquet"


def _write_atomic_bytes(path: Path, data: bytes) -> None:
    tmp = path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _write_chunk(out: Path, chunk: int, cols: dict[str, np.ndarray], run_id: str) -> Path:
    """Write one chunk as Parquet: to a temporary name in the same folder, fsync,
    then ``os.replace`` (atomic on POSIX): a reader sees the whole file or none."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({k: np.asarray(cols[k]) for k in RESULT_COLUMNS},
                     metadata={"apophis_sim.run_id": run_id, "apophis_sim.chunk": str(chunk)})
    final = _chunk_path(out, chunk)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    _write_atomic_bytes(final, sink.getvalue().to_pybytes())
    return final


def _read_chunk(path: Path, run_id: str) -> dict[str, np.ndarray]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    meta = table.schema.metadata or {}
    if meta.get(b"apophis_sim.run_id", b"").decode() != run_id:
        raise IncompatibleRunError(f"{path} belongs to another run (run id "
                                   f"{meta.get(b'apophis_sim.run_id', b'?').decode()}, "
                                   f"expected {run_id})")
    return {k: table.column(k).to_numpy() for k in RESULT_COLUMNS}


def _finished_chunks(out: Path) -> dict[int, Path]:
    """Final chunk files only (``chunk-NNNNNN.parquet``); temporaries never match."""
    found = {}
    for p in out.iterdir():
        m = _CHUNK_RE.match(p.name)
        if m:
            found[int(m.group(1))] = p
    return found


def _diff(a: Any, b: Any, prefix: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += _diff(a.get(k), b.get(k), f"{prefix}{k}.")
        return out
    return [] if a == b else [f"{prefix.rstrip('.')}: {a!r} (folder) != {b!r} (requested)"]


def _prepare_out(out: Path, params: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / _MANIFEST
    if manifest.exists():
        old = json.loads(manifest.read_text())
        old_params = old.get("parameters", {})
        diffs = _diff(old_params, params)
        if diffs:
            raise IncompatibleRunError(
                f"{out} holds a different Monte Carlo run; differing parameters: "
                + "; ".join(diffs) + ". Use another --out folder or the same parameters.")
    else:
        if _finished_chunks(out):
            raise IncompatibleRunError(f"{out} has chunk files but no {_MANIFEST}: not a "
                                       f"resumable run; use an empty folder")
        body = {"parameters": params, "run_id": _run_id(params),
                "created": _time.strftime("%Y-%m-%dT%H:%M:%SZ", _time.gmtime())}
        _write_atomic_bytes(manifest, (json.dumps(body, indent=1) + "\n").encode())


@dataclass
class MonteCarloResult:
    """Results of a Monte Carlo run (complete or partial), one row per clone.

    Attributes
    ----------
    columns : dict of ndarray
        :data:`RESULT_COLUMNS`, sorted by clone index: ``clone``, ``time_tdb_jd``
        [TDB JD, day; float64, ~4e-6 s resolution], ``distance_km``,
        ``v_rel_km_s``, ``v_inf_km_s``, ``xi_km``, ``zeta_km`` and the clone's
        parameters ``p_e`` ... ``p_A2`` (JPL's units).
    parameters : dict
        The run parameters (as in the manifest): seed, n_clones, chunk_size,
        solution, model.
    out : Path or None
        The folder of the chunk files, if any.
    computed_chunks, reused_chunks : list of int
        Chunks computed by this call and chunks read back from ``out``.
    seconds : float
        Wall time of the call.
    """

    columns: dict[str, np.ndarray]
    parameters: dict
    out: Path | None = None
    computed_chunks: list[int] = field(default_factory=list)
    reused_chunks: list[int] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def n_clones(self) -> int:
        return int(self.columns["clone"].size)

    @property
    def complete(self) -> bool:
        return self.n_clones == self.parameters["n_clones"]

    def statistics(self) -> EncounterStatistics:
        """:func:`encounter_statistics` of the clones."""
        return encounter_statistics(self.columns)

    def standard_normals(self) -> np.ndarray:
        """The N(0, 1) vectors the clones were drawn from (n, 8), from (seed, clone)."""
        seed = self.parameters["seed"]
        return np.vstack([standard_normals(seed, int(k), int(k) + 1)
                          for k in self.columns["clone"]]) if self.n_clones else np.zeros((0, 8))


def _assemble(parts: dict[int, dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    if not parts:
        return {k: np.zeros(0) for k in RESULT_COLUMNS}
    cols = {k: np.concatenate([parts[c][k] for c in sorted(parts)]) for k in RESULT_COLUMNS}
    order = np.argsort(cols["clone"], kind="stable")
    return {k: v[order] for k, v in cols.items()}


@contextlib.contextmanager
def _dask_client(scheduler: Any, n_workers: int | None) -> Iterator[Any]:
    from distributed import Client, LocalCluster

    if scheduler is None:
        import logging

        workers = n_workers if n_workers is not None else (os.cpu_count() or 1)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.ERROR)
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
            cluster.close()
    elif isinstance(scheduler, Client):
        yield scheduler
    elif isinstance(scheduler, str):
        client = Client(scheduler)
        try:
            yield client
        finally:
            client.close()
    else:
        raise InputError(f"scheduler must be None (embedded LocalCluster), 'serial', a "
                         f"scheduler address or a distributed.Client, got {scheduler!r}")


def run_monte_carlo(n_clones: int, seed: int, *, solution: OrbitSolution | None = None,
                    chunk_size: int = 64, out: str | os.PathLike | None = None,
                    scheduler: Any = None, n_workers: int | None = None,
                    numba_threads: int | None = None, forces: Sequence[str] | None = None,
                    epsilon: float | None = None, progress: bool | None = None,
                    on_chunk: Callable[[int], None] | None = None) -> MonteCarloResult:
    """Monte Carlo of the 2029 encounter: N clones drawn from the covariance, on Dask.

    Clone ``k`` has parameters ``x0 + L z_k`` (:func:`sample_parameters`, ``z_k``
    from ``(seed, k)`` only) and is integrated from the solution epoch through
    the 2029 Earth approach with the full force model (:func:`encounter_of`).
    Clones ``[c K, (c+1) K)`` form chunk ``c`` (``K = chunk_size``), one Dask task
    each. Each clone has its own adaptive integrator, so results are
    bit-identical whatever the worker count, chunk size or scheduler.

    Fault tolerance: when a worker dies, Dask reruns its tasks elsewhere (a task
    is a pure function of ``(spec, chunk)``); the client receives one result per
    chunk and writes it once, as ``chunk-NNNNNN.parquet`` in ``out``, atomically
    (temporary name in the same folder, fsync, ``os.replace``). Only final names
    are ever read. A ``manifest.json`` records the run parameters (seed,
    n_clones, chunk_size, solution digest, force model, ephemeris files,
    epsilon); calling again with the same ``out`` resumes: finished chunks are
    read back, never recomputed, and a folder of another run is refused.

    Parameters
    ----------
    n_clones : int
        Number of clones (> 0).
    seed : int
        Non-negative seed.
    solution : OrbitSolution, optional
        Default :func:`apophis` (JPL #220).
    chunk_size : int
        Clones per task (> 0). ~0.02-0.05 s of CPU per clone: 32-256 keeps the
        scheduler overhead (~1 ms per task) negligible and the bar moving.
    out : path, optional
        Folder for the manifest and chunk files (created). Without it results
        stay in memory and nothing can be resumed.
    scheduler : None, "serial", str or distributed.Client
        ``None`` (default): an embedded ``LocalCluster`` of ``n_workers``
        single-threaded worker processes; ``"serial"``: no Dask, chunks run in
        this process; an address (``"tcp://host:8786"``): an existing cluster;
        or a connected ``Client``.
    n_workers : int, optional
        Workers of the embedded cluster (default: the number of cores).
    numba_threads : int, optional
        Numba threads per task. Default 1 on Dask (one worker process per core
        already fills the cores) and all cores for ``"serial"``.
    forces : sequence of str, optional
        Force terms (default JPL's model; asteroids if SB441-N16 is installed).
    epsilon : float
        IAS15 precision parameter.
    progress : bool, optional
        tqdm bar of chunks done (default: when stderr is a terminal).
    on_chunk : callable, optional
        Called with each chunk index once it is stored (for monitoring).

    Returns
    -------
    MonteCarloResult

    Raises
    ------
    InputError
        ``n_clones <= 0``, ``chunk_size <= 0``, bad seed, ``n_workers <= 0``.
    IncompatibleRunError
        ``out`` holds another run.
    ConvergenceError
        A clone has no 2029 approach or its integration failed.
    """
    t_start = _time.perf_counter()
    for name, value in (("n_clones", n_clones), ("chunk_size", chunk_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise InputError(f"{name} must be a positive integer, got {value!r}")
    if n_workers is not None and (not isinstance(n_workers, (int, np.integer)) or n_workers <= 0):
        raise InputError(f"n_workers must be a positive integer, got {n_workers!r}")
    epsilon = _nbody_epsilon(epsilon)
    seed = _check_seed(seed)
    n_clones, chunk_size = int(n_clones), int(chunk_size)
    sol = solution if solution is not None else apophis()
    covariance_factor(sol.covariance)  # validate here, not in every worker
    _nominal(sol)
    eph = Ephemeris.open()
    force_names = tuple(resolve_forces(forces, eph))
    params = _run_parameters(sol, seed, n_clones, chunk_size, force_names, eph.files,
                             float(epsilon))
    run_id = _run_id(params)
    n_chunks = math.ceil(n_clones / chunk_size)
    out_path = Path(out) if out is not None else None
    parts: dict[int, dict[str, np.ndarray]] = {}
    reused: list[int] = []
    if out_path is not None:
        _prepare_out(out_path, params)
        for c, p in sorted(_finished_chunks(out_path).items()):
            if c >= n_chunks:
                raise IncompatibleRunError(f"{p} is beyond the {n_chunks} chunks of this run")
            parts[c] = _read_chunk(p, run_id)
            reused.append(c)
    todo = [c for c in range(n_chunks) if c not in parts]
    serial = isinstance(scheduler, str) and scheduler == "serial"
    threads = numba_threads if numba_threads is not None else (None if serial else 1)
    spec = _ChunkSpec(sol, seed, n_clones, chunk_size, force_names, float(epsilon), threads)
    show = progress if progress is not None else sys.stderr.isatty()
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=n_chunks, initial=len(reused), unit="chunk", desc="Monte Carlo")

    def store(res: dict[str, Any]) -> None:
        c = int(res["chunk"])
        if c in parts:  # a duplicate delivery is dropped: each chunk is stored once
            return
        if list(res["ephemeris_files"]) != list(eph.files):
            raise IncompatibleRunError(
                f"chunk {c} was computed with ephemeris files {res['ephemeris_files']}, the "
                f"run uses {list(eph.files)}: install the same ephemerides on every worker")
        if out_path is not None:
            _write_chunk(out_path, c, res["columns"], run_id)
        parts[c] = {k: np.asarray(res["columns"][k]) for k in RESULT_COLUMNS}
        if bar is not None:
            bar.update(1)
        if on_chunk is not None:
            on_chunk(c)

    try:
        if todo and serial:
            for c in todo:
                store(_simulate_chunk(spec, c))
        elif todo:
            from distributed import as_completed

            with _dask_client(scheduler, n_workers) as client:
                futures = [client.submit(_simulate_chunk, spec, c,
                                         key=f"apophis-mc-{run_id}-{c:06d}", pure=False)
                           for c in todo]
                for fut in as_completed(futures):
                    store(fut.result())
                    fut.release()
    finally:
        if bar is not None:
            bar.close()
    return MonteCarloResult(_assemble(parts), params, out_path, todo, reused,
                            _time.perf_counter() - t_start)


def load_monte_carlo(out: str | os.PathLike) -> MonteCarloResult:
    """Read the finished chunks of a run folder (complete or not).

    Only final ``chunk-NNNNNN.parquet`` names are read (never temporaries).

    Raises
    ------
    InputError
        The folder has no manifest.
    IncompatibleRunError
        A chunk file belongs to another run.
    """
    path = Path(out)
    manifest = path / _MANIFEST
    if not manifest.exists():
        raise InputError(f"{path} has no {_MANIFEST}: not a Monte Carlo run folder")
    body = json.loads(manifest.read_text())
    params = body["parameters"]
    run_id = _run_id(params)
    parts = {c: _read_chunk(p, run_id) for c, p in _finished_chunks(path).items()}
    return MonteCarloResult(_assemble(parts), params, path, [], sorted(parts), 0.0)
