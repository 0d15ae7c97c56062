"""The IAU mean Earth/polar axis (ME) body-fixed frame of the Moon (float64 core).

The orientation of the Moon relative to the ICRF as given by the IAU Working Group on
Cartographic Coordinates and Rotational Elements (WGCCRE): the right ascension
``alpha0`` and declination ``delta0`` of the lunar north pole and the location ``W`` of
the prime meridian, in degrees, as trigonometric series in the nutation-precession
angles E1..E13 of the Earth-Moon system::

    alpha0 = 269.9949 + 0.0031 T + sum_i A_i sin(E_i)
    delta0 =  66.5392 + 0.0130 T + sum_i D_i cos(E_i)
    W      =  38.3213 + 13.17635815 d - 1.4e-12 d^2 + sum_i P_i sin(E_i)
    E_i    =  e0_i + e1_i d

with ``d`` days and ``T`` Julian centuries of 36525 days of TDB from J2000
(JD 2451545.0 TDB). The body-fixed axes: +z to the pole, +x where the prime meridian
crosses the equator, +y completing a right-handed set (east longitude positive):
``x_fixed = R3(W) R1(90 deg - delta0) R3(90 deg + alpha0) x_icrf``.

Source of the numbers (data, not code): the NAIF generic text PCK ``pck00010.tpc``
(N. Bachman, NAIF, 2011 October 21), keywords ``BODY301_POLE_RA``, ``BODY301_POLE_DEC``,
``BODY301_PM``, ``BODY301_NUT_PREC_RA``, ``BODY301_NUT_PREC_DEC``,
``BODY301_NUT_PREC_PM`` and ``BODY3_NUT_PREC_ANGLES`` (whose per-day rates, listed in
that file's comments as the "original constants", are used here; the data block holds
them times 36525), from Archinal et al. (2011), "Report of the IAU Working Group on
Cartographic Coordinates and Rotational Elements: 2009", Celest. Mech. Dyn. Astron.
109:101-135. The 2015 report (Archinal et al. 2018, CMDA 130:22) no longer gives
rotational elements for the Moon; NAIF's ``pck00011.tpc`` (2022) keeps these 2009 values
and says so in its "Lunar orientation" note. The
copy read: GitHub ``MaxSmith-1/My-Projects``, path ``kernels/pck/pck00010.tpc``, commit
``dbc8995bc3fbba61879336c26c52ad576d80f2b5``. Cross-checked term by term against an
independent transcription of the same model, Cesium's
``packages/engine/Source/Core/Iau2000Orientation.js`` (GitHub ``CesiumGS/cesium``,
commit ``0671b6d41eddc224f4ca1b0516c5b69496c169ce``): every coefficient agrees.

Accuracy, as NAIF documents it (lunar frame kernel ``moon_060721.tf``, "Comparison of
DE-based and IAU/IAG report rotation data"): the IAU model truncates the libration
series, so it differs from the ephemeris-based ME frame (there DE403) by a
time-dependent rotation of amplitude ~0.005 deg, ~150 m along the lunar surface
(mean ~75 m) over ~2000-2020. The principal-axis (PA) frame of the DE ephemerides
is a different frame, ~0.03 deg (~860 m) away.
"""

from __future__ import annotations

import numpy as np

__all__ = ["J2000_JD", "moon_fixed_from_icrf", "moon_orientation_deg", "selenographic_deg"]

J2000_JD = 2451545.0
_DAYS_PER_CENTURY = 36525.0

#: Polynomial parts [deg, deg/century] of alpha0 and delta0, and of W [deg, deg/day,
#: deg/day^2].
_POLE_RA = (269.9949, 0.0031)
_POLE_DEC = (66.5392, 0.0130)
_PM = (38.3213, 13.17635815, -1.4e-12)

#: E1..E13: constant [deg] and rate [deg/day] (pck00010.tpc, "original constants").
_E0 = np.array([125.045, 250.089, 260.008, 176.625, 357.529, 311.589, 134.963,
                276.617, 34.226, 15.134, 119.743, 239.961, 25.053])
_E1 = np.array([-0.0529921, -0.1059842, 13.0120009, 13.3407154, 0.9856003, 26.4057084,
                13.0649930, 0.3287146, 1.7484877, -0.1589763, 0.0036096, 0.1643573,
                12.9590088])

#: Amplitudes [deg] of sin(E_i) in alpha0, cos(E_i) in delta0, sin(E_i) in W.
_RA_SIN = np.array([-3.8787, -0.1204, 0.0700, -0.0172, 0.0, 0.0072, 0.0, 0.0, 0.0,
                    -0.0052, 0.0, 0.0, 0.0043])
_DEC_COS = np.array([1.5419, 0.0239, -0.0278, 0.0068, 0.0, -0.0029, 0.0009, 0.0, 0.0,
                     0.0008, 0.0, 0.0, -0.0009])
_PM_SIN = np.array([3.5610, 0.1208, -0.0642, 0.0158, 0.0252, -0.0066, -0.0047, -0.0046,
                    0.0028, 0.0052, 0.0040, 0.0019, -0.0044])

for _a in (_E0, _E1, _RA_SIN, _DEC_COS, _PM_SIN):
    _a.setflags(write=False)


def moon_orientation_deg(jd1, jd2=0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """alpha0, delta0 [deg] of the lunar north pole (ICRF) and W [deg, in [0, 360)] of
    the prime meridian at the two-part TDB Julian date ``jd1 + jd2`` (broadcast)."""
    d = (np.asarray(jd1, dtype=np.float64) - J2000_JD) + np.asarray(jd2, dtype=np.float64)
    t = d / _DAYS_PER_CENTURY
    e = np.radians(_E0 + np.multiply.outer(d, _E1) % 360.0)          # (..., 13)
    s, c = np.sin(e), np.cos(e)
    alpha = _POLE_RA[0] + _POLE_RA[1] * t + s @ _RA_SIN
    delta = _POLE_DEC[0] + _POLE_DEC[1] * t + c @ _DEC_COS
    # The rotation term modulo 360 before the small ones: W itself grows by ~4800 deg/yr.
    w = (_PM[0] + (_PM[1] * d) % 360.0 + _PM[2] * d * d + s @ _PM_SIN) % 360.0
    return alpha, delta, w


def moon_fixed_from_icrf(jd1, jd2=0.0) -> np.ndarray:
    """Rotation matrices (..., 3, 3): ``x_fixed = M @ x_icrf`` (IAU lunar ME frame)."""
    alpha, delta, w = (np.radians(a) for a in moon_orientation_deg(jd1, jd2))
    # Rows of M: the ICRF components of the fixed x, y, z axes. The pole p; the node
    # n = (-sin a, cos a, 0) of the lunar equator on the ICRF equator (the direction
    # R3(90 + a) takes to +x); q = p x n; then x = cos W n + sin W q, y = -sin W n + cos W q.
    ca, sa, cd, sd, cw, sw = (np.cos(alpha), np.sin(alpha), np.cos(delta), np.sin(delta),
                              np.cos(w), np.sin(w))
    zero = np.zeros_like(ca)
    p = np.stack([cd * ca, cd * sa, sd], axis=-1)
    n = np.stack([-sa, ca, zero], axis=-1)
    q = np.cross(p, n)
    x = cw[..., None] * n + sw[..., None] * q
    y = -sw[..., None] * n + cw[..., None] * q
    return np.stack([x, y, p], axis=-2)


def selenographic_deg(r_icrf, jd1, jd2=0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Selenocentric latitude [deg], east longitude [deg, in (-180, 180]] and distance
    (the unit of ``r_icrf``) of Moon-centred ICRF positions ``r_icrf`` (..., 3) at the
    TDB Julian dates ``jd1 + jd2`` (broadcast against ``r_icrf[..., 0]``)."""
    r = np.asarray(r_icrf, dtype=np.float64)
    m = moon_fixed_from_icrf(jd1, jd2)
    x = np.einsum("...ij,...j->...i", m, r)
    rho = np.linalg.norm(x, axis=-1)
    lat = np.degrees(np.arctan2(x[..., 2], np.hypot(x[..., 0], x[..., 1])))
    lon = np.degrees(np.arctan2(x[..., 1], x[..., 0]))
    lon = np.where(lon <= -180.0, lon + 360.0, lon)
    return lat, lon, rho
