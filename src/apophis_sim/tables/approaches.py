"""Close-approach tables with uncertainties (JPL CAD / Horizons APPROACH, extended).

One variational integration finds every approach to the requested bodies (roots of
the range rate on the dense output) and carries the state transition matrix to each
of them; the solution's covariance is then mapped linearly to the approach time,
distance and B-plane coordinates (:func:`apophis_sim.uncertainty.linear`). Columns
follow JPL's Close-Approach Data (time and its 3-sigma uncertainty, nominal and
3-sigma minimum/maximum distance, v_rel, v_inf, H) and Horizons' extended approach
table (B.T, B.R, the 1-sigma B-plane ellipse, how many sigmas separate the nominal
B-plane point from the gravitationally focused disc of the body, and a linearised
impact probability).

Linearity. The mapping is first order. It holds while the uncertainty is small on the
scale over which the approach geometry changes; for Apophis it holds in 2029 and fails
for the returns after the 2029 flyby, whose uncertainty along the track is thousands of
km. The ``linear`` column flags rows where the 3-sigma B-plane extent exceeds 10 % of
the distance or the 3-sigma time uncertainty exceeds 10 % of the encounter's timescale
(distance / v_rel): use :func:`apophis_sim.uncertainty.run_monte_carlo` there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import astropy.units as u
import numpy as np
from astropy.table import QTable
from astropy.time import Time

from ..ephemeris import Ephemeris
from .._deprecation import renamed_kwargs
from ..errors import CovarianceError, InputError
from ..nbody import OrbitSolution, apophis
from ..nbody import _epsilon as _nbody_epsilon
from ..time import from_jd_tdb, quiet_utc, to_jd_tdb
from ..uncertainty.linear import parameter_space, variational_approaches
from ..units import AU, AU_KM, real_array, real_scalar, to_canonical

__all__ = ["approaches", "bplane_ellipse", "sigma_to_disc", "linear_impact_probability"]

_KM_S = AU_KM / 86400.0
#: Linearity thresholds of the ``linear`` column (see the module docstring).
_LINEAR_FRACTION = 0.1


def bplane_ellipse(cov_km2: np.ndarray) -> tuple[float, float, float]:
    """1-sigma ellipse of a 2x2 (xi, zeta) covariance: semi-major, semi-minor [km] and the
    angle of the major axis from +zeta toward +xi [deg], in (-90, 90].

    Parameters
    ----------
    cov_km2 : ndarray (2, 2)
        Covariance of (xi, zeta) [km^2].

    Returns
    -------
    (float, float, float)
        Semi-major [km], semi-minor [km], angle [deg].
    """
    cov = real_array(cov_km2, "cov_km2", shape=(2, 2))
    c = 0.5 * (cov + cov.T)
    w, v = np.linalg.eigh(c)
    w = np.clip(w, 0.0, None)
    major = v[:, 1]  # (xi, zeta) components
    ang = math.degrees(math.atan2(major[0], major[1]))
    if ang <= -90.0:
        ang += 180.0
    elif ang > 90.0:
        ang -= 180.0
    return math.sqrt(w[1]), math.sqrt(w[0]), ang


def sigma_to_disc(mean_km: np.ndarray, cov_km2: np.ndarray, radius_km: float) -> float:
    """Mahalanobis distance from the nominal B-plane point to the disc of ``radius_km``
    about the origin (the body's focused cross-section): the smallest number of sigmas
    to any point of the disc; negative (minus the distance to the rim) when the nominal
    is inside. A singular covariance gives +inf outside.

    Parameters
    ----------
    mean_km : ndarray (2,)
        Nominal (xi, zeta) [km].
    cov_km2 : ndarray (2, 2)
        Covariance of (xi, zeta) [km^2].
    radius_km : float
        Radius of the disc [km].

    Returns
    -------
    float
    """
    m = real_array(mean_km, "mean_km", shape=(2,))
    cov = real_array(cov_km2, "cov_km2", shape=(2, 2))
    radius_km = real_scalar(radius_km, "radius_km", positive=True)
    if np.any(np.diag(cov) < 0):
        raise CovarianceError(f"cov_km2 has a negative variance on its diagonal: {np.diag(cov)}")
    inside = float(np.hypot(*m)) < radius_km
    ang = np.linspace(0.0, 2.0 * np.pi, 2881)
    rim = radius_km * np.stack([np.sin(ang), np.cos(ang)], axis=-1)  # (xi, zeta)
    try:
        ci = np.linalg.inv(cov)
    except np.linalg.LinAlgError:
        return -math.inf if inside else math.inf
    d = rim - m
    md = np.sqrt(np.maximum(np.einsum("ni,ij,nj->n", d, ci, d), 0.0))
    # Refine the minimum on the rim by a local parabola through the best sample.
    best = float(md.min())
    return -best if inside else best


def linear_impact_probability(mean_km: np.ndarray, cov_km2: np.ndarray,
                              radius_km: float) -> float:
    """Probability that a 2-D Gaussian N(mean, cov) on the B-plane falls in the disc of
    ``radius_km`` about the origin.

    Parameters
    ----------
    mean_km : ndarray (2,)
        Nominal (xi, zeta) [km].
    cov_km2 : ndarray (2, 2)
        Covariance of (xi, zeta) [km^2].
    radius_km : float
        Radius of the disc [km].

    In the Gaussian's principal axes (the disc about the origin stays a disc), the
    probability along the major axis is exact (normal CDFs over the chord
    ``|u| < sqrt(R^2 - t^2)``) and the minor axis ``t`` is integrated by 128-point
    Gauss-Legendre over ``mean ± 13 sigma`` clipped to the disc, with ``t = R sin(psi)``
    so the chord's square-root ends are smooth. B-plane ellipses of real encounters are
    needles (2024 YR4 at the Moon in 2032: 24 682 km by 0.79 km): a polar grid over the
    disc misses such a ridge (it gave 5.30 % there for the exact 4.19 %). 0 beyond 38
    sigma from the disc (the tail is < 1e-300), 1 when the disc holds the 38-sigma
    ellipse; a singular covariance is a line (the chord's probability at the mean's
    offset).
    """
    from scipy.special import ndtr

    m = real_array(mean_km, "mean_km", shape=(2,))
    c = real_array(cov_km2, "cov_km2", shape=(2, 2))
    radius_km = real_scalar(radius_km, "radius_km", positive=True)
    s = sigma_to_disc(m, c, radius_km)
    if s > 38.0:
        return 0.0
    if s < -38.0:
        return 1.0
    w, v = np.linalg.eigh(0.5 * (c + c.T))
    sig_u = math.sqrt(max(float(w[1]), 0.0))
    sig_t = math.sqrt(max(float(w[0]), 0.0))
    mu_u = float(v[:, 1] @ m)  # along the major axis
    mu_t = float(v[:, 0] @ m)  # along the minor axis

    def along(t):  # P(|u| < chord half-length at t), exact
        g = np.sqrt(np.clip(radius_km**2 - t * t, 0.0, None))
        if sig_u == 0.0:
            return (np.abs(mu_u) < g).astype(float)
        return ndtr((g - mu_u) / sig_u) - ndtr((-g - mu_u) / sig_u)

    if sig_t <= 1e-12 * sig_u:  # a line: all the mass at t = mu_t
        return float(along(np.array([mu_t]))[0]) if abs(mu_t) < radius_km else 0.0
    lo = max(-radius_km, mu_t - 13.0 * sig_t)
    hi = min(radius_km, mu_t + 13.0 * sig_t)
    if not lo < hi:
        return 0.0
    p0 = math.asin(lo / radius_km)
    p1 = math.asin(hi / radius_km)
    x, wx = np.polynomial.legendre.leggauss(128)
    psi = 0.5 * (p1 - p0) * (x + 1.0) + p0
    t = radius_km * np.sin(psi)
    dens = np.exp(-0.5 * ((t - mu_t) / sig_t) ** 2) / (math.sqrt(2.0 * math.pi) * sig_t)
    val = np.sum(wx * dens * along(t) * radius_km * np.cos(psi)) * 0.5 * (p1 - p0)
    return float(min(max(val, 0.0), 1.0))


@renamed_kwargs(max_distance="distance_max")
def approaches(solution: OrbitSolution | None = None, start: Time | None = None,
               stop: Time | None = None, *, bodies: Sequence[str] = ("earth", "moon"),
               distance_max: u.Quantity = 0.05 * u.au, forces: Sequence[str] | None = None,
               ephemeris: Ephemeris | None = None, epsilon: float | None = None) -> QTable:
    """Close approaches with their uncertainties, like JPL's CAD and Horizons APPROACH.

    Parameters
    ----------
    solution : OrbitSolution, optional
        With a covariance over JPL's elements (and A1..A3), e.g. from
        :meth:`OrbitSolution.from_sbdb`; default :func:`apophis` (JPL #220).
    start, stop : Time, optional
        The interval searched (default: the solution's epoch to 2100-01-01 TDB); either
        side of the epoch (one variational integration each way).
    bodies : sequence of str
        Bodies of the ephemeris (``"earth"``, ``"moon"``, ``"mars"``, ...).
    distance_max : Quantity [length]
        Nominal approaches closer than this are listed (CAD's default is 0.05 au).
    forces, ephemeris, epsilon
        As in :func:`apophis_sim.nbody.propagate_nbody`.

    Returns
    -------
    QTable
        One row per approach, sorted by time: ``body``, ``time`` (TDB) and ``time_utc``
        (UTC) of closest approach, ``time_3sigma`` [min], ``distance``,
        ``distance_min_3sigma``, ``distance_max_3sigma`` [au and km columns],
        ``v_rel``, ``v_inf`` [km/s], ``H``, ``b_t``, ``b_r``, ``xi``, ``zeta`` [km],
        the 1-sigma B-plane ellipse ``b_smaa``, ``b_smia`` [km], ``b_theta`` [deg, from
        +zeta toward +xi], ``capture_radius`` [km], ``sigma_to_disc`` (Mahalanobis),
        ``ip_linear`` (linearised impact probability) and ``linear`` (bool, see the
        module docstring). ``meta`` records the solution, forces and epsilon.

    Raises
    ------
    InputError
        A solution without a covariance over JPL's elements, ``start >= stop``,
        a non-positive ``distance_max``.
    TimeInputError, EphemerisRangeError, UnknownNameError
    """
    sol = solution if solution is not None else apophis()
    if not isinstance(sol, OrbitSolution):
        raise InputError(f"solution must be an OrbitSolution (e.g. apophis() or "
                         f"OrbitSolution.from_sbdb(path)), got {type(sol).__name__}")
    if sol.covariance.size == 0:
        raise InputError("the solution has no covariance: load its SBDB answer with cov=mat")
    if isinstance(bodies, str):
        bodies = (bodies,)
    rmax = float(to_canonical(distance_max, AU, "distance_max"))
    if not (rmax > 0 and math.isfinite(rmax)):
        raise InputError(f"distance_max must be a positive length, got {distance_max}")
    ep1, ep2 = (float(x) for x in sol.state.jd_tdb)
    epoch_jd = ep1 + ep2
    t_start = start if start is not None else from_jd_tdb(ep1, ep2)
    t_stop = stop if stop is not None else Time("2100-01-01", scale="tdb")
    s1, s2 = to_jd_tdb(t_start, "start")
    e1, e2 = to_jd_tdb(t_stop, "stop")
    if np.ndim(s1) or np.ndim(e1):
        raise InputError("start and stop must be scalar Times")
    lo, hi = float(s1) + float(s2), float(e1) + float(e2)
    if not lo < hi:
        raise InputError(f"start ({t_start.iso}) must be before stop ({t_stop.iso})")
    eph = ephemeris if ephemeris is not None else Ephemeris.open()
    events = []
    from ..time import blame_range

    if hi > epoch_jd:
        with blame_range("stop"):
            events += variational_approaches(sol, t_stop, bodies=bodies, max_distance_au=rmax,
                                             forces=forces, ephemeris=eph, epsilon=epsilon)
    if lo < epoch_jd:
        with blame_range("start"):
            events += variational_approaches(sol, t_start, bodies=bodies,
                                             max_distance_au=rmax, forces=forces,
                                             ephemeris=eph, epsilon=epsilon)
    events = [e for e in events if lo <= e.jd1 + e.t_rel <= hi]
    events.sort(key=lambda e: (e.jd1 + e.t_rel))
    cov = sol.covariance
    rows = []
    for ev in events:
        jac = parameter_space(ev.state_jacobian, sol)
        c = jac @ cov @ jac.T
        sig = np.sqrt(np.clip(np.diag(c), 0.0, None))
        xz = ev.nominal[2:]
        cxz = c[2:, 2:]
        if np.all(np.isfinite(xz)):
            smaa, smia, theta = bplane_ellipse(cxz)
            s_disc = sigma_to_disc(xz, cxz, ev.capture_radius_km)
            ip = linear_impact_probability(xz, cxz, ev.capture_radius_km)
            b_extent = 3.0 * smaa
        else:
            smaa = smia = theta = s_disc = ip = b_extent = float("nan")
        d_km = ev.nominal[1]
        t_scale = ev.distance_au / ev.v_rel_au_d  # days
        linear = bool(3.0 * sig[0] < _LINEAR_FRACTION * t_scale
                      and (not math.isfinite(b_extent) or b_extent < _LINEAR_FRACTION * d_km))
        rows.append((ev, sig, smaa, smia, theta, s_disc, ip, linear))
    return _table(sol, rows, forces, eph, epsilon)


def _table(sol, rows, forces, eph, epsilon) -> QTable:
    n = len(rows)
    t = QTable()
    t["body"] = np.array([r[0].body for r in rows], dtype="U16")
    jd1 = np.array([r[0].jd1 for r in rows])
    jd2 = np.array([r[0].t_rel for r in rows])
    t["time"] = from_jd_tdb(jd1, jd2)
    with quiet_utc(announce=False):
        t["time_utc"] = t["time"].utc
    sig = np.array([r[1] for r in rows]).reshape(n, 4)
    dist_km = np.array([r[0].nominal[1] for r in rows])
    t["time_3sigma"] = (3.0 * sig[:, 0] * 1440.0) * u.min
    t["distance"] = (dist_km / AU_KM) * u.au
    t["distance_km"] = dist_km * u.km
    t["distance_min_3sigma"] = (dist_km - 3.0 * sig[:, 1]) * u.km
    t["distance_max_3sigma"] = (dist_km + 3.0 * sig[:, 1]) * u.km
    t["v_rel"] = np.array([r[0].v_rel_au_d for r in rows]) * _KM_S * u.km / u.s
    t["v_inf"] = np.array([r[0].v_inf_km_s for r in rows]) * u.km / u.s
    t["H"] = np.full(n, np.nan if sol.H is None else float(sol.H))
    t["b_t"] = np.array([r[0].b_dot_t_km for r in rows]) * u.km
    t["b_r"] = np.array([r[0].b_dot_r_km for r in rows]) * u.km
    t["xi"] = np.array([r[0].nominal[2] for r in rows]) * u.km
    t["zeta"] = np.array([r[0].nominal[3] for r in rows]) * u.km
    t["b_smaa"] = np.array([r[2] for r in rows]) * u.km
    t["b_smia"] = np.array([r[3] for r in rows]) * u.km
    t["b_theta"] = np.array([r[4] for r in rows]) * u.deg
    t["capture_radius"] = np.array([r[0].capture_radius_km for r in rows]) * u.km
    t["sigma_to_disc"] = np.array([r[5] for r in rows])
    t["ip_linear"] = np.array([r[6] for r in rows])
    t["linear"] = np.array([r[7] for r in rows], dtype=bool)
    t.meta.update({
        "solution": f"{sol.name} {sol.solution}",
        "forces": list(rows[0][0].forces) if rows else list(forces or []),
        "epsilon": _nbody_epsilon(epsilon),
        "ephemeris_files": list(eph.files),
        "time_scales": "time: TDB; time_utc: UTC",
        "bplane": "Opik/Valsecchi xi, zeta; Kizner B.T (ecliptic), B.R",
        "method": "linear mapping through the STM of one variational integration",
    })
    for col in ("distance", "distance_km", "distance_min_3sigma", "distance_max_3sigma"):
        t[col].info.format = ".9f" if col == "distance" else ".3f"
    for col in ("v_rel", "v_inf"):
        t[col].info.format = ".5f"
    for col in ("b_t", "b_r", "xi", "zeta", "b_smaa", "b_smia", "capture_radius"):
        t[col].info.format = ".3f"
    t["time_3sigma"].info.format = ".3g"
    t["b_theta"].info.format = ".2f"
    t["sigma_to_disc"].info.format = ".4g"
    t["ip_linear"].info.format = ".3g"
    t["time_utc"].format = "iso"
    t["time_utc"].precision = 0
    return t
