"""Orbit solutions: a state with its non-gravitational model, covariance and provenance.

An :class:`OrbitSolution` is what an orbit-determination centre publishes (JPL's
SBDB, ESA's NEOCC): the osculating orbit at an epoch, the estimated
non-gravitational parameters with the model they belong to, the covariance of the
fitted parameters, and where every number comes from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import astropy.units as u
import numpy as np
from astropy.time import Time

from .state import State

__all__ = ["NongravModel", "OrbitSolution", "apophis"]


@dataclass(frozen=True)
class NongravModel:
    """Radial dependence of the Marsden et al. (1973) non-gravitational acceleration.

    ``a = g(r) (A1 r_hat + A2 t_hat + A3 n_hat)`` with
    ``g(r) = alpha (r / r0)^-m (1 + (r / r0)^n)^-k`` (JPL's ALN, R0, NM, NN, NK).
    The default is JPL's asteroid convention ``g = (1 au / r)^2`` (ALN = 1, NM = 2,
    NK = 0, R0 = 1 au); :meth:`comet` is the water-ice sublimation law of Marsden
    et al. (1973) that JPL uses for comets when no parameters are listed.

    Attributes
    ----------
    alpha : float
        Normalising factor ALN (dimensionless).
    r0_au : float
        Normalising distance R0 [au].
    m, n, k : float
        Exponents NM, NN, NK.
    """

    alpha: float = 1.0
    r0_au: float = 1.0
    m: float = 2.0
    n: float = 1.0
    k: float = 0.0

    @classmethod
    def comet(cls) -> NongravModel:
        """Marsden et al. (1973) water-ice law: ALN = 0.1112620426, R0 = 2.808 au,
        NM = 2.15, NN = 5.093, NK = 4.6142."""
        return cls(alpha=0.1112620426, r0_au=2.808, m=2.15, n=5.093, k=4.6142)

    def as_array(self) -> np.ndarray:
        """(alpha, r0 [au], m, n, k) as float64, the order the compiled kernels take."""
        return np.array([self.alpha, self.r0_au, self.m, self.n, self.k], dtype=np.float64)


@dataclass(frozen=True)
class OrbitSolution:
    """An orbit solution: state, non-gravitational parameters, covariance, provenance.

    Attributes
    ----------
    name, solution : str
        Object designation and solution identifier (e.g. ``"JPL#220"``).
    state : State
        Heliocentric ICRF state at the solution epoch.
    nongrav : Quantity, shape (3,)
        A1, A2, A3 [au/day^2] of the Marsden model with g(r) = (1 au / r)^2.
    H, G : float
        Absolute magnitude and slope parameter (IAU H-G system).
    covariance : ndarray (8, 8)
        Covariance of ``covariance_labels`` (JPL's e, q, tp, node, peri, i, A1, A2;
        units in ``covariance_units``), ecliptic J2000 elements at the epoch.
    nominal_elements : dict
        The nominal values of ``covariance_labels``.
    provenance : dict
        Where every number comes from.
    nongrav_model : NongravModel
        The g(r) law that ``nongrav`` multiplies (default JPL's asteroid
        convention, g = (1 au / r)^2).
    """

    name: str
    solution: str
    state: State
    nongrav: u.Quantity
    H: float
    G: float
    covariance: np.ndarray = field(repr=False)
    covariance_labels: tuple[str, ...] = field(repr=False)
    covariance_units: dict = field(repr=False)
    nominal_elements: dict = field(repr=False)
    provenance: dict = field(repr=False)
    nongrav_model: NongravModel = field(default_factory=NongravModel)


@lru_cache(maxsize=1)
def _apophis_data() -> dict:
    text = resources.files("apophis_sim").joinpath("data/apophis_jpl220.json").read_text()
    return json.loads(text)


def apophis() -> OrbitSolution:
    """JPL orbit solution #220 of (99942) Apophis (shipped with the package).

    Returns the heliocentric ICRF state at 2021-01-01 TDB (JD 2459215.5), the
    non-gravitational parameters A1 = 5.0e-13, A2 = -2.901766637153165e-14,
    A3 = 0 au/day^2, H = 19.09, G = 0.24, and the full 8x8 covariance of
    (e, q, tp, node, peri, i, A1, A2), with provenance.
    """
    d = _apophis_data()
    st = d["state_icrf_heliocentric"]
    epoch = Time(d["epoch_jd_tdb"], format="jd", scale="tdb")
    state = State(np.array(st["r_au"]) * u.au, np.array(st["v_au_d"]) * u.au / u.day, epoch,
                  frame="icrf", centre="sun")
    ng = d["nongrav"]
    cov = d["covariance"]
    return OrbitSolution(
        name=d["designation"],
        solution=d["solution"],
        state=state,
        nongrav=np.array([ng["A1_au_d2"], ng["A2_au_d2"], ng["A3_au_d2"]]) * u.au / u.day**2,
        H=d["physical"]["H"],
        G=d["physical"]["G"],
        covariance=np.array(cov["covariance"], dtype=np.float64),
        covariance_labels=tuple(cov["labels"]),
        covariance_units=dict(cov["units"]),
        nominal_elements=dict(cov["nominal"]),
        provenance=dict(d["provenance"]),
    )


