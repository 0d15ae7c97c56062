"""Resonant-return circles on the b-plane (Valsecchi et al. 2003), float64 core.

Opik's theory of close encounters in the form of Valsecchi, Milani, Gronchi &
Chesley (2003), *Resonant returns to close approaches: analytical theory*,
A&A 408, 1179-1196 (VMGC03). An encounter is described by the planetocentric
velocity ``U`` (magnitude ``U`` and angles ``theta``, ``phi``) in the frame
``X`` (away from the Sun), ``Y`` (the planet's heliocentric velocity), ``Z``
(the planet's orbital angular momentum)::

    U = U (sin(theta) sin(phi), cos(theta), sin(theta) cos(phi))

and by the b-plane coordinates ``(xi, zeta)`` of the incoming asymptote
(``zeta`` opposite to the projection of the planet's velocity). The encounter
rotates ``U`` by the deflection angle ``gamma``, ``tan(gamma / 2) = c / b`` with
``c = GM_planet / v_inf^2`` (a length), and the new ``theta'`` is (VMGC03 eq. 3)::

    cos(theta') = ((b^2 - c^2) cos(theta) + 2 c zeta sin(theta)) / (b^2 + c^2)

The post-encounter heliocentric energy depends on ``theta'`` alone; the locus of
b-plane points that give a chosen ``theta'`` (a chosen period) is a circle centred
on the zeta axis (VMGC03 eqs. 23-24)::

    xi^2 + (zeta - D)^2 = R^2,  D = c sin(theta) / (cos(theta') - cos(theta)),
                                R = c |sin(theta')| / |cos(theta') - cos(theta)|

For a ``k:h`` resonance (``h`` revolutions of the small body in ``k`` years) the
period is ``P' = (k / h) P_planet``. VMGC03 take a circular planetary orbit of
radius 1 (``1/a' = 1 - U^2 - 2 U cos(theta')``); here the planet's actual
heliocentric distance ``r_p`` and speed ``V_p`` at the encounter are used
(``v'^2 = V_p^2 + U^2 + 2 V_p U cos(theta')`` and ``v'^2 = GM_sun (2 / r_p - 1 / a')``,
exact for the two-body energy), which reduces to VMGC03's formula for a circular
orbit. The circles are a two-body, point-like-encounter approximation: the
numerical keyholes of :mod:`apophis_sim.risk.keyholes` are displaced from them by
the planetary perturbations between the encounters (the heliocentric osculating
period differs from the mean period by ~1e-3) -- see the keyhole docs for the
measured offsets. NEOs.jl (``valsecchi_circle``, ``bopik``) implements the same
theory in Julia; it was read for orientation, not copied.

Units: lengths km, speeds km/s, angles rad, GM km^3/s^2, times days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InputError

__all__ = ["OpikEncounter", "opik_encounter", "cos_theta_after", "resonant_cos_theta",
           "valsecchi_circle", "circle_line_intersections", "SIDEREAL_YEAR_DAYS"]

#: Earth's sidereal year [day] (IERS Conventions 2010, 365.256363004 d).
SIDEREAL_YEAR_DAYS = 365.256363004


@dataclass(frozen=True)
class OpikEncounter:
    """Opik variables of an encounter (VMGC03 sec. 2).

    Attributes
    ----------
    U : float
        Planetocentric speed at infinity in units of the planet's heliocentric speed.
    theta, phi : float
        Angles of the incoming ``U`` [rad] (``theta`` from the planet's velocity).
    v_inf_km_s, v_planet_km_s, r_planet_km : float
        Planetocentric v_inf, the planet's heliocentric speed and distance.
    c_km : float
        ``GM_planet / v_inf^2`` [km] (the b at which the deflection is 90 degrees).
    gm_sun_km3_s2 : float
        GM of the Sun used for the energy.
    """

    U: float
    theta: float
    phi: float
    v_inf_km_s: float
    v_planet_km_s: float
    r_planet_km: float
    c_km: float
    gm_sun_km3_s2: float


def opik_encounter(v_inf_vec_km_s: np.ndarray, r_planet_km: np.ndarray,
                   v_planet_km_s: np.ndarray, gm_planet_km3_s2: float,
                   gm_sun_km3_s2: float) -> OpikEncounter:
    """Opik variables from the incoming asymptotic velocity and the planet's
    heliocentric state (all ICRF, km and km/s).

    The frame is ``Y = V_p / |V_p|``, ``Z = (r_p x V_p) / |r_p x V_p|``,
    ``X = Y x Z`` (away from the Sun for a circular orbit, as in VMGC03).

    Parameters
    ----------
    v_inf_vec_km_s : ndarray (3,)
        Incoming planetocentric v_inf vector [km/s].
    r_planet_km, v_planet_km_s : ndarray (3,)
        The planet's heliocentric position [km] and velocity [km/s].
    gm_planet_km3_s2, gm_sun_km3_s2 : float
        Gravitational parameters [km^3/s^2].

    Returns
    -------
    OpikEncounter
    """
    from ..elements import parallel
    from ..units import real_array, real_scalar

    U = real_array(v_inf_vec_km_s, "v_inf_vec_km_s", shape=(3,))
    rp = real_array(r_planet_km, "r_planet_km", shape=(3,))
    vp = real_array(v_planet_km_s, "v_planet_km_s", shape=(3,))
    gm_planet_km3_s2 = real_scalar(gm_planet_km3_s2, "gm_planet_km3_s2", positive=True)
    gm_sun_km3_s2 = real_scalar(gm_sun_km3_s2, "gm_sun_km3_s2", positive=True)
    if not np.any(U):
        raise InputError("v_inf_vec_km_s is zero: a flyby has v_inf > 0")
    if not np.any(rp) or parallel(rp, vp, 1e-12):
        raise InputError("r_planet_km, v_planet_km_s: r = 0, v = 0 or v parallel to r: the "
                         "Opik frame (Z along r x V) is undefined; pass the planet's "
                         "heliocentric state")
    y = vp / np.linalg.norm(vp)
    z = np.cross(rp, vp)
    z /= np.linalg.norm(z)
    x = np.cross(y, z)
    vinf = float(np.linalg.norm(U))
    ux, uy, uz = float(U @ x), float(U @ y), float(U @ z)
    theta = math.acos(max(-1.0, min(1.0, uy / vinf)))
    phi = math.atan2(ux, uz)
    vpn = float(np.linalg.norm(vp))
    return OpikEncounter(vinf / vpn, theta, phi, vinf, vpn, float(np.linalg.norm(rp)),
                         gm_planet_km3_s2 / vinf**2, gm_sun_km3_s2)


def cos_theta_after(enc: OpikEncounter, xi_km, zeta_km) -> np.ndarray:
    """``cos(theta')`` after the encounter at b-plane point(s) (VMGC03 eq. 3).

    Parameters
    ----------
    enc : OpikEncounter
        From :func:`opik_encounter`.
    xi_km, zeta_km : float or array_like
        B-plane point(s) [km].

    Returns
    -------
    ndarray
    """
    xi = np.asarray(xi_km, dtype=np.float64)
    zeta = np.asarray(zeta_km, dtype=np.float64)
    b2 = xi * xi + zeta * zeta
    c = enc.c_km
    return ((b2 - c * c) * math.cos(enc.theta) + 2.0 * c * zeta * math.sin(enc.theta)) \
        / (b2 + c * c)


def semimajor_axis_after(enc: OpikEncounter, cos_theta_prime) -> np.ndarray:
    """Heliocentric semi-major axis [km] after the encounter (two-body energy)."""
    v2 = (enc.v_planet_km_s**2 + enc.v_inf_km_s**2
          + 2.0 * enc.v_planet_km_s * enc.v_inf_km_s * np.asarray(cos_theta_prime))
    return 1.0 / (2.0 / enc.r_planet_km - v2 / enc.gm_sun_km3_s2)


def resonant_cos_theta(enc: OpikEncounter, k: int, h: int,
                       year_days: float = SIDEREAL_YEAR_DAYS) -> float:
    """``cos(theta')`` of a ``k:h`` resonant return (period ``k / h`` years); may lie
    outside [-1, 1] (then the resonance is unreachable at this encounter).

    Parameters
    ----------
    enc : OpikEncounter
        From :func:`opik_encounter`.
    k, h : int
        The resonance: ``k`` planet years, ``h`` revolutions of the object.
    year_days : float
        The planet's year [day] (default sidereal year).

    Returns
    -------
    float
    """
    from ..units import integer, real_scalar

    k = integer(k, "k", minimum=1, maximum=10**6)
    h = integer(h, "h", minimum=1, maximum=10**6)
    year_days = real_scalar(year_days, "year_days", positive=True)
    period_s = (k / h) * year_days * 86400.0
    a = (enc.gm_sun_km3_s2 * (period_s / (2.0 * math.pi)) ** 2) ** (1.0 / 3.0)
    v2 = enc.gm_sun_km3_s2 * (2.0 / enc.r_planet_km - 1.0 / a)
    return (v2 - enc.v_planet_km_s**2 - enc.v_inf_km_s**2) \
        / (2.0 * enc.v_planet_km_s * enc.v_inf_km_s)


def valsecchi_circle(enc: OpikEncounter, k: int, h: int,
                     year_days: float = SIDEREAL_YEAR_DAYS) -> tuple[float, float]:
    """Centre ``D`` (on the zeta axis) and radius ``R`` [km] of the ``k:h`` circle
    (VMGC03 eqs. 23-24); ``(nan, nan)`` if the resonance is unreachable.

    Parameters
    ----------
    enc : OpikEncounter
        From :func:`opik_encounter`.
    k, h : int
        The resonance: ``k`` planet years, ``h`` revolutions of the object.
    year_days : float
        The planet's year [day] (default sidereal year).

    Returns
    -------
    (float, float)
        ``D`` and ``R`` [km].
    """
    ctp = resonant_cos_theta(enc, k, h, year_days)
    if not -1.0 < ctp < 1.0:
        return math.nan, math.nan
    ct = math.cos(enc.theta)
    den = ctp - ct
    if den == 0.0:
        return math.nan, math.nan
    return (enc.c_km * math.sin(enc.theta) / den,
            enc.c_km * math.sqrt(1.0 - ctp * ctp) / abs(den))


def circle_line_intersections(d_km: float, r_km: float, xi0_km: float, zeta0_km: float,
                              slope: float) -> np.ndarray:
    """zeta [km] where the circle ``xi^2 + (zeta - D)^2 = R^2`` meets the line
    ``xi = xi0 + slope (zeta - zeta0)``; 0, 1 or 2 values, ascending.

    Parameters
    ----------
    d_km, r_km : float
        Centre ``D`` (on the zeta axis) and radius ``R`` of the circle [km].
    xi0_km, zeta0_km : float
        A point of the line [km].
    slope : float
        d(xi)/d(zeta) of the line.

    Returns
    -------
    ndarray
    """
    if not (math.isfinite(d_km) and math.isfinite(r_km)):
        return np.zeros(0)
    # (xi0 - slope zeta0 + slope z)^2 + (z - D)^2 - R^2 = 0 -> A z^2 + B z + C = 0
    q = xi0_km - slope * zeta0_km
    a = slope * slope + 1.0
    b = 2.0 * (q * slope - d_km)
    c = q * q + d_km * d_km - r_km * r_km
    disc = b * b - 4.0 * a * c
    if disc < 0:
        return np.zeros(0)
    sq = math.sqrt(disc)
    # Numerically stable roots (no cancellation).
    t = -0.5 * (b + math.copysign(sq, b))
    roots = [t / a, c / t] if t != 0 else [-b / (2 * a)]
    return np.unique(np.array(roots))
