"""Classical orbital elements <-> Cartesian state, for every conic (float64 core).

Element set: perifocal distance q, eccentricity e, inclination i, longitude of
the ascending node raan, argument of periapsis argp, and true anomaly nu (or the
time since periapsis). q is used instead of a because it is finite and well
conditioned through e = 1 (parabola), as in JPL's SBDB.

Conventions for undefined angles:
* circular (e < ``E_CIRC``): argp = 0 and nu is the argument of latitude;
* equatorial (sin i < ``SIN_I_EQ``): raan = 0 and argp is measured from +x
  (i.e. it is the longitude of periapsis).

Time since periapsis is computed from the anomaly with the forms that stay well
conditioned near e = 1 (cf. Farnocchia, Bracali Cioci & Milani 2013, CeMDA 116):
M = (1 - e) E + e (E - sin E) for ellipses and M = (e - 1) F + e (sinh F - F) for
hyperbolas, with E - sin E and sinh F - F from series at small argument, and
Barker's equation for e = 1. The inverse (time -> anomaly) goes through the
universal-variable Kepler kernel, which is robust for all e.
"""

from __future__ import annotations

import numpy as np

from .kepler import kepler_rv

__all__ = [
    "E_CIRC",
    "SIN_I_EQ",
    "rv_to_coe",
    "coe_to_rv",
    "time_since_periapsis",
    "nu_from_time_since_periapsis",
]

E_CIRC = 1e-15
SIN_I_EQ = 1e-15


def _cubic_series(x: np.ndarray, sign: float, closed) -> np.ndarray:
    """x - sin x (sign = -1) or sinh x - x (sign = +1) without cancellation: the
    closed form, with the series x^3/3! (1 + sign x^2/20 (1 + ...)) for |x| < 0.5
    (9 terms, error < 1e-20)."""
    x = np.asarray(x, dtype=np.float64)
    out = closed(x)
    small = np.abs(x) < 0.5
    if np.any(small):
        xs = x[small]
        x2 = xs * xs
        acc = np.ones_like(xs)
        for k in range(9, 0, -1):
            acc = 1.0 + sign * x2 / ((2 * k + 2) * (2 * k + 3)) * acc
        out[small] = xs * x2 / 6.0 * acc
    return out


def _x_minus_sin(x: np.ndarray) -> np.ndarray:
    """x - sin x without cancellation."""
    return _cubic_series(x, -1.0, lambda y: y - np.sin(y))


def _sinh_minus_x(x: np.ndarray) -> np.ndarray:
    """sinh x - x without cancellation."""
    return _cubic_series(x, 1.0, lambda y: np.sinh(y) - y)


def rv_to_coe(r: np.ndarray, v: np.ndarray, mu) -> tuple[np.ndarray, ...]:
    """Cartesian state -> (q, e, inc, raan, argp, nu), angles in radians.

    ``r`` [L] and ``v`` [L/T] have shape (..., 3); ``mu`` [L^3/T^2] broadcasts.
    Angles: inc in [0, pi], raan and argp in [0, 2 pi), nu in (-pi, pi].
    """
    r = np.asarray(r, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    h = np.cross(r, v)
    hn = np.linalg.norm(h, axis=-1)
    rn = np.linalg.norm(r, axis=-1)
    rv = np.sum(r * v, axis=-1)
    v2 = np.sum(v * v, axis=-1)
    p = hn * hn / mu
    evec = ((v2 - mu / rn)[..., None] * r - rv[..., None] * v) / mu[..., None]
    e = np.linalg.norm(evec, axis=-1)
    q = p / (1.0 + e)
    inc = np.arctan2(np.hypot(h[..., 0], h[..., 1]), h[..., 2])

    # Node vector n = z x h; equatorial orbits take the x axis as reference.
    nvec = np.stack([-h[..., 1], h[..., 0], np.zeros_like(hn)], axis=-1)
    nn = np.linalg.norm(nvec, axis=-1)
    equatorial = nn <= SIN_I_EQ * hn
    nhat = np.where(equatorial[..., None], np.array([1.0, 0.0, 0.0]),
                    nvec / np.where(nn > 0, nn, 1.0)[..., None])
    raan = np.where(equatorial, 0.0, np.arctan2(nhat[..., 1], nhat[..., 0]))
    # In-plane unit vector 90 deg ahead of the node, along the motion.
    hhat = h / hn[..., None]
    mhat = np.cross(hhat, nhat)
    # Argument of latitude u of the position, and true anomaly from
    # e cos nu = p/r - 1, e sin nu = sqrt(p/mu) (r.v)/r (no division by e).
    u = np.arctan2(np.sum(r * mhat, axis=-1), np.sum(r * nhat, axis=-1))
    nu = np.arctan2(np.sqrt(p / mu) * rv / rn, p / rn - 1.0)
    circular = e < E_CIRC
    nu = np.where(circular, u, nu)
    argp = np.where(circular, 0.0, u - nu)
    two_pi = 2.0 * np.pi
    return (q, e, inc, np.mod(raan, two_pi), np.mod(argp, two_pi),
            np.mod(nu + np.pi, two_pi) - np.pi)


def coe_to_rv(q, e, inc, raan, argp, nu, mu) -> tuple[np.ndarray, np.ndarray]:
    """(q, e, inc, raan, argp, nu) -> Cartesian (r, v), broadcasting over all inputs.

    For hyperbolas nu must satisfy 1 + e cos nu > 0 (the caller validates).
    """
    q, e, inc, raan, argp, nu, mu = np.broadcast_arrays(
        *(np.asarray(x, dtype=np.float64) for x in (q, e, inc, raan, argp, nu, mu)))
    p = q * (1.0 + e)
    cnu, snu = np.cos(nu), np.sin(nu)
    rn = p / (1.0 + e * cnu)
    sqmup = np.sqrt(mu / p)
    # Perifocal components.
    r_pf = np.stack([rn * cnu, rn * snu], axis=-1)
    v_pf = np.stack([-sqmup * snu, sqmup * (e + cnu)], axis=-1)
    cO, sO = np.cos(raan), np.sin(raan)
    cw, sw = np.cos(argp), np.sin(argp)
    ci, si = np.cos(inc), np.sin(inc)
    # Columns P and Q of the perifocal -> inertial rotation R3(-raan) R1(-i) R3(-argp).
    P = np.stack([cO * cw - sO * sw * ci, sO * cw + cO * sw * ci, sw * si], axis=-1)
    Q = np.stack([-cO * sw - sO * cw * ci, -sO * sw + cO * cw * ci, cw * si], axis=-1)
    r = r_pf[..., :1] * P + r_pf[..., 1:] * Q
    v = v_pf[..., :1] * P + v_pf[..., 1:] * Q
    return r, v


def time_since_periapsis(q, e, nu, mu) -> np.ndarray:
    """Time from periapsis passage to true anomaly nu [T] (negative before periapsis).

    For ellipses the result lies in (-P/2, P/2]. Well conditioned through e = 1.
    """
    q, e, nu, mu = np.broadcast_arrays(
        *(np.asarray(x, dtype=np.float64) for x in (q, e, nu, mu)))
    out = np.empty(q.shape)
    half = 0.5 * nu
    ell = e < 1.0
    hyp = e > 1.0
    par = ~(ell | hyp)
    if np.any(ell):
        ee, qq, mm = e[ell], q[ell], mu[ell]
        E = 2.0 * np.arctan2(np.sqrt(1.0 - ee) * np.sin(half[ell]),
                             np.sqrt(1.0 + ee) * np.cos(half[ell]))
        M = (1.0 - ee) * E + ee * _x_minus_sin(E)
        out[ell] = M * np.sqrt(qq ** 3 / (mm * (1.0 - ee) ** 3))
    if np.any(hyp):
        ee, qq, mm = e[hyp], q[hyp], mu[hyp]
        F = 2.0 * np.arctanh(np.sqrt((ee - 1.0) / (ee + 1.0)) * np.tan(half[hyp]))
        M = (ee - 1.0) * F + ee * _sinh_minus_x(F)
        out[hyp] = M * np.sqrt(qq ** 3 / (mm * (ee - 1.0) ** 3))
    if np.any(par):
        # Barker: t = sqrt(2 q^3 / mu) (D + D^3/3), D = tan(nu/2).
        D = np.tan(half[par])
        out[par] = np.sqrt(2.0 * q[par] ** 3 / mu[par]) * (D + D ** 3 / 3.0)
    return out


def nu_from_time_since_periapsis(q, e, dt, mu) -> tuple[np.ndarray, np.ndarray]:
    """True anomaly reached a time dt [T] after periapsis passage, for any conic.

    Propagates the periapsis state (r = q x_hat, v = sqrt(mu (1+e)/q) y_hat) with
    the universal-variable kernel, which converges for every conic.
    Returns (nu, status) where status is the kernel's status code per element.
    """
    q, e, dt, mu = np.broadcast_arrays(
        *(np.asarray(x, dtype=np.float64) for x in (q, e, dt, mu)))
    zeros = np.zeros(q.shape)
    r0 = np.stack([q, zeros, zeros], axis=-1)
    v0 = np.stack([zeros, np.sqrt(mu * (1.0 + e) / q), zeros], axis=-1)
    r, _, status = kepler_rv(r0, v0, dt, mu)
    return np.arctan2(r[..., 1], r[..., 0]), status
