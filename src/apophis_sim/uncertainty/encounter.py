"""The 2029 close approach of a batch of states: B-plane coordinates and one batched
n-body run for every clone."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import astropy.units as u
import numpy as np
from astropy.time import Time

from .. import bodies as _bodies
from .._core import bplane as _bp
from .._deprecation import renamed_kwargs
from ..ephemeris import Ephemeris
from ..encounter import check_body_velocity, check_flyby_state
from ..errors import (ConvergenceError, InputError, NonFiniteInputError,
                     OrbitTypeError, ShapeMismatchError)
from ..nbody import close_approaches
from ..state import State
from ..units import AU_KM, check_magnitude

#: The encounter quantities of :class:`LinearEncounter` (TDB JD [day], km, km, km).
ENCOUNTER_LABELS = ("time_tdb_jd", "distance_km", "xi_km", "zeta_km")
#: Search window of the 2029 encounter: from the solution epoch to this TDB date,
#: Earth approaches within this distance [au] (the 2029 one is the only one < 0.01 au).
ENCOUNTER_UNTIL = "2029-04-20"
ENCOUNTER_MAX_DISTANCE_AU = 0.01
_KM_S = AU_KM / 86400.0
_GM_KM3_S2 = AU_KM**3 / 86400.0**2


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
        The planet-centred orbit is not hyperbolic (v^2 <= 2 GM / r): no asymptote;
        or it is radial (r parallel to v, h = 0).
    InputError
        ``gm_km3_s2`` is not a positive number, r = 0, or ``earth_velocity_km_s`` is zero
        or parallel to the incoming asymptote (zeta undefined).
    """
    from ..units import real_array

    r_in, v_in, ve_in = (real_array(x, name) for x, name in (
        (r_rel_km, "r_rel_km"), (v_rel_km_s, "v_rel_km_s"),
        (earth_velocity_km_s, "earth_velocity_km_s")))
    try:
        r, v, ve = np.broadcast_arrays(r_in, v_in, ve_in)
    except ValueError:
        raise ShapeMismatchError("r_rel_km, v_rel_km_s and earth_velocity_km_s do not "
                                 "broadcast together") from None
    if r.ndim == 0 or r.shape[-1] != 3:
        raise ShapeMismatchError(f"vectors need xyz on their last axis, got shape {r.shape}")
    try:
        mu = float(gm_km3_s2)
    except (TypeError, ValueError):
        raise InputError(f"gm_km3_s2 must be a positive number [km^3/s^2] (Earth: "
                         f"398600.435), got {type(gm_km3_s2).__name__} {gm_km3_s2!r:.40}") from None
    for name, arr in (("r_rel_km", r), ("v_rel_km_s", v), ("earth_velocity_km_s", ve)):
        if not np.isfinite(arr).all():
            raise NonFiniteInputError(f"{name} contains NaN or infinity; pass finite vectors")
        check_magnitude(arr, name)
    if not (math.isfinite(mu) and mu > 0):
        raise InputError(f"gm_km3_s2 must be a positive finite GM [km^3/s^2] (Earth: "
                         f"398600.435), got {gm_km3_s2!r}")
    check_magnitude(mu, "gm_km3_s2")
    check_flyby_state(r, v, "r_rel_km", "v_rel_km_s")
    rn = np.linalg.norm(r, axis=-1)
    v2 = np.sum(v * v, axis=-1)
    if np.any(v2 * rn <= 2.0 * mu):
        raise OrbitTypeError("r_rel_km, v_rel_km_s, gm_km3_s2: the planet-centred orbit is not hyperbolic (v^2 <= 2 GM/r): "
                             "no incoming asymptote, no B-plane")
    with np.errstate(all="ignore"):
        hyp = _bp.hyperbola_arrays(r, v, mu)
    check_body_velocity(hyp["s_hat"], ve, "earth_velocity_km_s")
    with np.errstate(all="ignore"):  # underflow (e.g. a subnormal velocity) is checked below
        xi_hat, zeta_hat, _, _ = _bp.bplane_axes(hyp["s_hat"], ve, np.array([0.0, 0.0, 1.0]))
    b_vec = hyp["b_vec"]
    if np.isfinite(b_vec).all() and not (np.isfinite(xi_hat).all()
                                         and np.isfinite(zeta_hat).all()):
        raise InputError("earth_velocity_km_s is too small to define the B-plane axes in "
                         "float64 (its projection on the B-plane underflows); pass the "
                         "planet's heliocentric velocity in km/s (Earth: ~30 km/s)")
    if not (np.isfinite(b_vec).all() and np.isfinite(xi_hat).all() and np.isfinite(zeta_hat).all()):
        raise InputError("r_rel_km, v_rel_km_s, gm_km3_s2: the hyperbola overflows float64 "
                         "(e = v^2 r / GM too large); pass GM in km^3/s^2 (Earth: 398600.435) "
                         "and km, km/s vectors")
    return BPlane(np.sum(b_vec * xi_hat, axis=-1), np.sum(b_vec * zeta_hat, axis=-1), hyp["b"],
                  hyp["v_inf"], hyp["s_hat"])


# ----------------------------------------------------------------------------- encounters


def _earth_gm_km3_s2() -> float:
    return _bodies.body("earth").gm_au3_d2 * _GM_KM3_S2


@renamed_kwargs(states="state")
def encounter_of(state: State, nongrav: u.Quantity, *, nongrav_model=None,
                 forces: Sequence[str] | None = None,
                 ephemeris: Ephemeris | None = None, epsilon: float | None = None,
                 until: Time | None = None, progress: bool | None = False) -> dict[str, np.ndarray]:
    """The 2029 Earth close approach of each state of a batch (one batched n-body run).

    Parameters
    ----------
    state : State, shape (n,)
        Heliocentric (any frame) states at one epoch (a batch).
    nongrav : Quantity (n, 3) [length/time^2]
        A1, A2, A3 of each state.
    nongrav_model : NongravModel, optional
        Their g(r) law (default JPL's asteroid law).
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
    n = int(np.prod(state.shape)) if state.shape else 1
    until = until if until is not None else Time(ENCOUNTER_UNTIL, scale="tdb")
    tab = close_approaches(state, until, bodies=("earth",),
                           distance_max=ENCOUNTER_MAX_DISTANCE_AU * u.au, nongrav=nongrav,
                           nongrav_model=nongrav_model,
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
