"""Partial derivatives of a Cartesian state with respect to JPL's orbital elements.

JPL publishes an orbit's covariance over (e, q, tp, node, peri, i) in the
heliocentric ecliptic J2000 frame. Mapping it to a Cartesian covariance needs the
6x6 Jacobian d(r, v) / d(e, q, tp, node, peri, i) at the epoch. It is computed
here by the complex-step derivative (Squire & Trapp 1998, SIAM Rev. 40, 110;
Martins, Sturdza & Alonso 2003, ACM TOMS 29, 245): for an analytic f,
f'(x) = Im f(x + i h) / h + O(h^2) with no subtractive cancellation, so h = 1e-40
gives the derivative to machine precision. The element -> state map below is
written with complex-safe operations only (Kepler's equation by Newton's method in
complex arithmetic).

Units: e [-], q [au], tp [day] (an offset; the caller keeps the large Julian date
apart), node/peri/i [rad], mu [au^3/day^2]; r [au], v [au/day].

Limits: ellipses and hyperbolas with |e - 1| >= 1e-6 (the closed forms lose
accuracy near the parabola; the public layer reports that case).
"""

from __future__ import annotations

import numpy as np

__all__ = ["state_from_elements", "elements_jacobian", "PARABOLIC_BAND"]

#: |e - 1| below which the closed forms are not used.
PARABOLIC_BAND = 1e-6
_H = 1e-40
_NEWTON_ITER = 60


def _kepler_elliptic(M, e):
    E = M + 0.85 * e * np.sign(np.sin(M.real))  # Danby's starter
    for _ in range(_NEWTON_ITER):
        step = (E - e * np.sin(E) - M) / (1.0 - e * np.cos(E))
        E = E - step
        if abs(step.real) < 1e-15 * max(1.0, abs(E.real)) and abs(step.imag) <= 1e-15 * abs(
                E.imag) + 1e-300:
            break
    return E


def _kepler_hyperbolic(M, e):
    F = np.arcsinh(M / e) if abs(M.real) < 1e3 else np.sign(M.real) * np.log(
        2.0 * abs(M.real) / e + 1.0) + 0j
    F = F + 0j
    for _ in range(_NEWTON_ITER):
        step = (e * np.sinh(F) - F - M) / (e * np.cosh(F) - 1.0)
        F = F - step
        if abs(step.real) < 1e-15 * max(1.0, abs(F.real)) and abs(step.imag) <= 1e-15 * abs(
                F.imag) + 1e-300:
            break
    return F


def state_from_elements(e, q, dt_tp, node, peri, inc, mu):
    """Heliocentric (r, v) in the elements' frame from (e, q, t - tp, node, peri, i).

    Scalar inputs, real or complex (for the complex step); ``dt_tp`` is the time
    since periapsis [day]. Returns two complex (3,) arrays.
    """
    e = complex(e)
    q = complex(q)
    dt = complex(dt_tp)
    a = q / (1.0 - e)
    if e.real < 1.0:
        n = np.sqrt(mu / a**3)
        M = n * dt
        M = complex(np.remainder(M.real + np.pi, 2.0 * np.pi) - np.pi, M.imag)
        E = _kepler_elliptic(M, e)
        cE, sE = np.cos(E), np.sin(E)
        s1e2 = np.sqrt(1.0 - e * e)
        x = a * (cE - e)
        y = a * s1e2 * sE
        rn = a * (1.0 - e * cE)
        vx = -np.sqrt(mu * a) * sE / rn
        vy = np.sqrt(mu * a) * s1e2 * cE / rn
    else:
        n = np.sqrt(mu / (-a) ** 3)
        M = n * dt
        F = _kepler_hyperbolic(M, e)
        cF, sF = np.cosh(F), np.sinh(F)
        se21 = np.sqrt(e * e - 1.0)
        x = a * (cF - e)
        y = -a * se21 * sF
        fdot = n / (e * cF - 1.0)
        vx = a * sF * fdot
        vy = -a * se21 * cF * fdot
    cO, sO = np.cos(node), np.sin(node)
    cw, sw = np.cos(peri), np.sin(peri)
    ci, si = np.cos(inc), np.sin(inc)
    P = np.array([cO * cw - sO * sw * ci, sO * cw + cO * sw * ci, sw * si])
    Q = np.array([-cO * sw - sO * cw * ci, -sO * sw + cO * cw * ci, cw * si])
    return x * P + y * Q, vx * P + vy * Q


def elements_jacobian(e, q, dt_tp, node, peri, inc, mu) -> tuple[np.ndarray, np.ndarray]:
    """State and Jacobian d(r, v) / d(e, q, tp, node, peri, i) by the complex step.

    Parameters
    ----------
    e, q, dt_tp, node, peri, inc : float
        Eccentricity, perihelion distance [au], time since periapsis t - tp
        [day], node, argument of perihelion, inclination [rad].
    mu : float
        GM of the centre [au^3/day^2].

    Returns
    -------
    state : ndarray (6,)
        (r [au], v [au/day]) in the elements' frame.
    jac : ndarray (6, 6)
        Columns d/d e, d/d q [1/au], d/d tp [1/day], d/d node, d/d peri, d/d i
        [1/rad]. Note d/d tp = -d/d(t - tp).
    """
    x0 = [e, q, dt_tp, node, peri, inc]
    r, v = state_from_elements(*x0, mu)
    state = np.concatenate([r.real, v.real])
    jac = np.empty((6, 6))
    for k in range(6):
        xs = [complex(x) for x in x0]
        xs[k] += 1j * _H
        rk, vk = state_from_elements(*xs, mu)
        col = np.concatenate([rk.imag, vk.imag]) / _H
        jac[:, k] = -col if k == 2 else col
    return state, jac
