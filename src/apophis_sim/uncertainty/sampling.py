"""Sampling an orbit solution's covariance: factors, seeded standard normals, clone
parameters and clone states."""

from __future__ import annotations

import math
from dataclasses import dataclass

import astropy.units as u
import numpy as np

from .. import bodies as _bodies
from ..elements import Elements
from ..errors import InputError, NonFiniteInputError, ShapeMismatchError, TooManyRowsError
from ..nbody import OrbitSolution
from ..state import State
from ..time import from_jd_tdb
from ..units import GM_UNIT

#: The parameters of JPL's covariance, in its order and units (e [-], q [au],
#: tp [TDB JD], node/peri/i [deg], A1/A2 [au/day^2]).
PARAMETER_LABELS = ("e", "q", "tp", "node", "peri", "i", "A1", "A2")
#: GM of the Sun of JPL's small-body elements (SBDB) [au^3/day^2].
GM_SUN_SBDB = _bodies.GM_SUN_SBDB * GM_UNIT


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



#: Most clones :func:`standard_normals` / :func:`sample_parameters` draw in one call.
MAX_DRAWS = 10_000_000

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
    from ..units import real_array

    c = real_array(covariance, "covariance")
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


def covariance_distance(covariance: np.ndarray, dp: np.ndarray) -> float:
    """``sqrt(dp^T C^-1 dp)``: a parameter offset in sigmas of the covariance metric.

    Through the correlation matrix's eigen-decomposition (see
    :func:`covariance_factor`), because JPL's Apophis covariance (condition number
    ~3e23) cannot be inverted as is; directions with eigenvalue below 1e-16 of the
    largest are floored there.

    Parameters
    ----------
    covariance : array_like (n, n)
        The covariance (e.g. an orbit solution's).
    dp : array_like (n,)
        The offset, in the covariance's parameters and units.

    Returns
    -------
    float

    Raises
    ------
    NonFiniteInputError, InputTypeError, ShapeMismatchError
        ``dp`` with NaN/inf, not numbers, or not one entry per parameter; and
        :func:`covariance_factor`'s errors for the matrix.
    """
    from ..units import real_array

    fac = covariance_factor(covariance)  # validates the matrix
    c = np.asarray(covariance, dtype=np.float64)
    d = real_array(dp, "dp")  # numbers, finite
    if d.shape != fac.sigma.shape:
        raise ShapeMismatchError(f"dp must have shape {fac.sigma.shape} (one entry per "
                                 f"covariance parameter), got {d.shape}")
    floor = float(fac.eigenvalues[-1]) * 1e-16
    z = np.linalg.eigh(c / np.outer(fac.sigma, fac.sigma))[1].T @ (d / fac.sigma)
    return float(math.sqrt(np.sum(z**2 / np.maximum(fac.eigenvalues, floor))))


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

    Parameters
    ----------
    seed : int
        The run's seed.
    start, stop : int
        Clone range ``start .. stop-1``.
    dim : int
        Dimension of each vector (default 8, the parameters of JPL #220).

    Returns
    -------
    ndarray (stop - start, dim)

    Raises
    ------
    InputError
        Negative seed or ``start``, or ``stop < start``.
    """
    from ..units import integer

    seed = _check_seed(seed)
    start = integer(start, "start", minimum=0)
    stop = integer(stop, "stop", minimum=0)
    dim = integer(dim, "dim", minimum=1, maximum=1000)
    if stop < start:
        raise InputError(f"need 0 <= start <= stop, got start={start}, stop={stop}")
    if stop - start > MAX_DRAWS:
        raise TooManyRowsError(f"start={start:,} .. stop={stop:,} is {stop - start:,} clones, "
                               f"more than {MAX_DRAWS:,} in one call; draw them in chunks "
                               "(clone k depends only on (seed, k))")
    out = np.empty((stop - start, dim))
    for j, k in enumerate(range(start, stop)):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(k,))))
        out[j] = rng.standard_normal(dim)
    return out


def parameter_index(solution: OrbitSolution) -> np.ndarray:
    """Where each of the solution's covariance labels sits in :data:`PARAMETER_LABELS`.

    JPL publishes covariances over the six elements (most small NEAs, e.g. 2024 YR4),
    the six and A2 (a Yarkovsky drift) or the six, A1 and A2 (Apophis #220). A1 or A2
    outside the covariance keep the solution's value (often 0) and are not varied.

    Parameters
    ----------
    solution : OrbitSolution
        Any orbit solution with a covariance.

    Returns
    -------
    ndarray of int, shape (n,)

    Raises
    ------
    InputError
        Other labels (e.g. a thermal model's RHO/AMRAT), or a non-zero A3 (not varied
        by the 8-parameter form).
    """
    if not isinstance(solution, OrbitSolution):
        raise InputError(f"solution must be an apophis_sim.OrbitSolution (e.g. "
                         f"apophis_sim.apophis()), got {type(solution).__name__}")
    labels = tuple(solution.covariance_labels)
    extra = labels[6:]
    if (labels[:6] != PARAMETER_LABELS[:6]
            or extra not in ((), ("A1",), ("A2",), ("A1", "A2"))):
        raise InputError(
            f"the solution's covariance must be over {PARAMETER_LABELS[:6]}, optionally "
            f"followed by A1 and/or A2 (JPL's forms), got {labels}")
    if float(solution.nongrav[2].to_value(u.au / u.day**2)) != 0.0:
        raise InputError("the solution has a non-zero A3, which the (e, q, tp, node, peri, "
                         "i, A1, A2) parameters cannot carry; pass a solution without A3")
    return np.array([PARAMETER_LABELS.index(lab) for lab in labels])


def _nominal(solution: OrbitSolution, *, embedded: bool = False) -> np.ndarray:
    """The solution's nominal (e, q, tp, node, peri, i, A1, A2).

    With ``embedded``, any covariance :func:`parameter_index` accepts: A1 and A2
    outside it are the solution's fixed values (0 for a gravity-only solution such as
    JPL's for most small NEAs) and are never varied. Without, the covariance must be
    over all eight.
    """
    labels = tuple(solution.covariance_labels)
    if labels == PARAMETER_LABELS:
        return np.array([float(solution.nominal_elements[k]) for k in PARAMETER_LABELS])
    if embedded:
        parameter_index(solution)
        ng = solution.nongrav.to_value(u.au / u.day**2)
        return np.array([float(solution.nominal_elements[k]) if k in labels
                         else float(ng[j - 6])
                         for j, k in enumerate(PARAMETER_LABELS)])
    raise InputError(f"the solution's covariance must be over {PARAMETER_LABELS}, "
                     f"got {labels}")


def embed_parameters(solution: OrbitSolution, params: np.ndarray) -> np.ndarray:
    """Parameters over the solution's covariance labels (m, n) -> (m, 8) in
    :data:`PARAMETER_LABELS` (A1/A2 outside the covariance at the solution's values).

    Parameters
    ----------
    solution : OrbitSolution
        Any solution :func:`parameter_index` accepts.
    params : ndarray (m, n)
        In the solution's ``covariance_labels`` (JPL's units).

    Returns
    -------
    ndarray (m, 8)
    """
    from ..units import real_array

    idx = parameter_index(solution)
    p = real_array(params, "params")  # numbers, finite
    if p.ndim != 2 or p.shape[1] != idx.size:
        raise ShapeMismatchError(f"params must have shape (m, {idx.size}), got {p.shape}")
    out = np.repeat(_nominal(solution, embedded=True)[None, :], len(p), axis=0)
    out[:, idx] = p
    return out


def sample_parameters(solution: OrbitSolution, seed: int, start: int, stop: int) -> np.ndarray:
    """Parameters of clones ``start .. stop-1``: ``x_k = x0 + L z_k``.

    ``x0`` is the solution's nominal (e, q, tp, node, peri, i, A1, A2), ``L`` its
    :func:`covariance_factor`, ``z_k`` from :func:`standard_normals`. A solution
    without non-gravitational terms (covariance over the six elements, A1 = A2 = A3
    = 0, as JPL publishes for most small NEAs) draws six normals per clone and keeps
    A1 = A2 = 0; one over the six and A2 draws seven and keeps A1 (see
    :func:`parameter_index`).

    Parameters
    ----------
    solution : OrbitSolution
        Nominal and covariance.
    seed : int
        The run's seed.
    start, stop : int
        Clone range ``start .. stop-1``.

    Returns
    -------
    ndarray (stop - start, 8)
        Clone parameters in JPL's units (tp TDB JD, angles deg, A1/A2 au/day^2).
    """
    x0 = _nominal(solution, embedded=True)
    idx = parameter_index(solution)
    fac = covariance_factor(solution.covariance)
    m = fac.sigma.size  # 8, 7 or 6: the parameters outside the covariance are not sampled
    z = standard_normals(seed, start, stop, dim=m)
    out = np.repeat(x0[None, :], stop - start, axis=0)
    # einsum without BLAS: each clone's row is the same sum whatever the batch size, so a
    # clone's parameters do not depend on the chunking (BLAS blocks by batch shape).
    out[:, idx] += np.einsum("kj,ij->ki", z, fac.factor, optimize=False)
    return out


def _elements_state(solution: OrbitSolution, params: np.ndarray) -> State:
    """Heliocentric ICRF states of parameter rows (n, 8) at the solution epoch."""
    x0 = _nominal(solution, embedded=True)
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
    (GM = :data:`~apophis_sim.uncertainty.GM_SUN_SBDB`, JPL's) and the conversion of the nominal elements
    is subtracted: ``r_k = r_sol + (r(x_k) - r(x0))`` (likewise v). The clone
    cloud is thereby centred exactly on the solution's published state vector
    (the element conversion reproduces it to ~1 m only, a bias that would
    otherwise shift every clone alike); the difference is exact to ~1e-16 au.

    Parameters
    ----------
    solution : OrbitSolution
        E.g. :func:`apophis`.
    params : ndarray (n, 8) or (n, m)
        Clone parameters in JPL's units: all eight (:func:`sample_parameters`), or
        over the solution's ``covariance_labels`` (m of them; see
        :func:`embed_parameters`).

    Returns
    -------
    states : State, shape (n,)
        Heliocentric ICRF, at the solution epoch.
    nongrav : Quantity (n, 3) [au/day^2]
        A1, A2 of each clone and A3 = 0.
    """
    from ..units import real_array

    p = real_array(params, "params")
    n_lab = len(solution.covariance_labels)
    if p.ndim != 2 or p.shape[1] not in (len(PARAMETER_LABELS), n_lab):
        raise ShapeMismatchError(f"params must have shape (n, 8) or (n, {n_lab}) (the "
                                 f"solution's covariance labels), got {p.shape}")
    if not np.isfinite(p).all():
        raise NonFiniteInputError("params contain NaN or infinity")
    if p.shape[1] != len(PARAMETER_LABELS):
        p = embed_parameters(solution, p)
    both = _elements_state(solution, np.vstack([_nominal(solution, embedded=True)[None, :],
                                                p]))
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
