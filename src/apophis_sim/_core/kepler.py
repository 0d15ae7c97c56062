"""Universal-variable Kepler propagation of any conic (float64 core, numba).

Units are whatever the caller uses consistently; apophis_sim passes au, day and
au^3/day^2. Nothing here imports astropy.

The universal Kepler equation (Battin 1999 sec. 4.5; Vallado 2013 alg. 8)

    F(chi) = sigma0 chi^2 C(psi) + (1 - alpha r0) chi^3 S(psi) + r0 chi - sqrt(mu) dt = 0,
    psi = alpha chi^2,  alpha = 2/r0 - v0^2/mu,  sigma0 = r0.v0 / sqrt(mu),

has dF/dchi = r(chi) > 0, i.e. F is strictly increasing for every conic. We
therefore bracket the root and run a Newton iteration that falls back to bisection
whenever a step would leave the bracket: convergence is guaranteed for
ellipses, parabolas and hyperbolas alike, forward and backward in time, and the
only failure mode is overflow of cosh for absurdly long hyperbolic arcs, which is
reported through a status code.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ._twin import cold, python_twin

__all__ = [
    "stumpff_c2_c3",
    "kepler_rv",
    "kepler_rv_flat",
    "kepler_rv_flat_serial",
    "PARALLEL_MIN_STATES",
    "STATUS_OK",
    "STATUS_NOT_CONVERGED",
    "STATUS_OVERFLOW",
    "STATUS_DEGENERATE",
]

STATUS_OK = 0
STATUS_NOT_CONVERGED = 1
STATUS_OVERFLOW = 2
STATUS_DEGENERATE = 3

_MAX_ITER = 200
# |psi| below which the Stumpff functions are evaluated by their Taylor series.
_PSI_SERIES = 1.0
_N_SERIES = 9
# Horner factors 1/((2k+1)(2k+2)) and 1/((2k+2)(2k+3)) for k = 1.._N_SERIES.
_RC2 = np.array([1.0 / ((2 * k + 1) * (2 * k + 2)) for k in range(1, _N_SERIES + 1)])
_RC3 = np.array([1.0 / ((2 * k + 2) * (2 * k + 3)) for k in range(1, _N_SERIES + 1)])


@nb.njit(cache=True, inline="always")
def stumpff_c2_c3(psi: float) -> tuple[float, float]:
    """Stumpff functions c2(psi) = (1 - cos sqrt(psi))/psi and
    c3(psi) = (sqrt(psi) - sin sqrt(psi))/psi^1.5, continued analytically to psi <= 0.

    For |psi| < 1 the Taylor series (10 terms, truncation < 2e-20) is used: the
    closed form of c3 loses ~log10(6/psi) digits to cancellation there.
    """
    if abs(psi) < _PSI_SERIES:
        # c2 = sum_k (-psi)^k / (2k+2)!,  c3 = sum_k (-psi)^k / (2k+3)!, Horner form
        # with the reciprocal factorial ratios precomputed (no divisions in the loop).
        c2 = 1.0
        c3 = 1.0
        for k in range(_N_SERIES - 1, -1, -1):
            c2 = 1.0 - psi * _RC2[k] * c2
            c3 = 1.0 - psi * _RC3[k] * c3
        return 0.5 * c2, c3 * (1.0 / 6.0)
    if psi > 0.0:
        s = math.sqrt(psi)
        # 1 - cos s = 2 sin^2(s/2): no cancellation.
        h = math.sin(0.5 * s)
        return 2.0 * h * h / psi, (s - math.sin(s)) / (psi * s)
    s = math.sqrt(-psi)
    h = math.sinh(0.5 * s)
    return -2.0 * h * h / psi, (math.sinh(s) - s) / (-psi * s)


@nb.njit(cache=True)
def _solve_one(r0: np.ndarray, v0: np.ndarray, dt: float, mu: float,
               r_out: np.ndarray, v_out: np.ndarray) -> int:
    """Propagate one state (r0, v0) by dt; write r_out, v_out; return a status code."""
    rx, ry, rz = r0[0], r0[1], r0[2]
    vx, vy, vz = v0[0], v0[1], v0[2]
    rn = math.sqrt(rx * rx + ry * ry + rz * rz)
    v2 = vx * vx + vy * vy + vz * vz
    if not (rn > 0.0 and mu > 0.0 and math.isfinite(rn) and math.isfinite(v2)
            and math.isfinite(dt) and math.isfinite(mu)):
        return STATUS_DEGENERATE
    if dt == 0.0:
        for k in range(3):
            r_out[k] = r0[k]
            v_out[k] = v0[k]
        return STATUS_OK
    sqmu = math.sqrt(mu)
    sigma0 = (rx * vx + ry * vy + rz * vz) / sqmu
    alpha = 2.0 / rn - v2 / mu
    beta = 1.0 - alpha * rn

    # Bracket of the root; F(0) = -sqrt(mu) dt and F is increasing.
    inf = math.inf
    if dt > 0.0:
        lo, hi = 0.0, inf
    else:
        lo, hi = -inf, 0.0

    # |dt| far below every time scale of the orbit: chi = sqrt(mu) dt / r0 is exact to
    # O(dt^2), whereas the revolution-based starters below are O(e) away and leave
    # bisection ~log2(P / dt) halvings to go (> _MAX_ITER for |dt| < ~1e-70 d).
    tiny = abs(dt) * math.sqrt(v2 / (rn * rn) + mu / (rn * rn * rn)) < 1e-6
    if alpha > 0.0 and not tiny:
        # Ellipse. Whole revolutions change nothing: remove them so chi stays
        # small (conditioning, iteration count), then start from Danby's (1987)
        # guess on the eccentric anomaly, chi = dE / sqrt(alpha).
        sqa = math.sqrt(alpha)
        period = 2.0 * math.pi / (sqmu * alpha * sqa)
        if abs(dt) > 0.5 * period:
            dt = dt - period * math.floor(dt / period + 0.5)
            if dt == 0.0:
                for k in range(3):
                    r_out[k] = r0[k]
                    v_out[k] = v0[k]
                return STATUS_OK
            if dt > 0.0:
                lo, hi = 0.0, inf
            else:
                lo, hi = -inf, 0.0
        # |dt| <= P/2 implies |dE| <= 2 pi.
        if dt > 0.0:
            hi = 2.0 * math.pi / sqa
        else:
            lo = -2.0 * math.pi / sqa
        ecos0 = beta
        esin0 = sigma0 * sqa
        ecc = math.sqrt(ecos0 * ecos0 + esin0 * esin0)
        e0 = math.atan2(esin0, ecos0)
        m1 = e0 - esin0 + sqmu * alpha * sqa * dt
        m1w = m1 - 2.0 * math.pi * math.floor(m1 / (2.0 * math.pi) + 0.5)
        e1 = m1w + (0.85 * ecc if math.sin(m1w) >= 0.0 else -0.85 * ecc)
        chi = (e1 + (m1 - m1w) - e0) / sqa
    elif alpha < -1e-12 and not tiny:
        # Hyperbola: Vallado (2013) alg. 8 starter.
        a = 1.0 / alpha
        sgn = 1.0 if dt > 0.0 else -1.0
        den = sigma0 * sqmu + sgn * math.sqrt(-mu * a) * beta
        arg = (-2.0 * mu * alpha * dt) / den if den != 0.0 else -1.0
        chi = sgn * math.sqrt(-a) * math.log(arg) if arg > 0.0 else sqmu * dt / rn
    else:
        chi = sqmu * dt / rn
    target = sqmu * dt
    if not (lo < chi < hi):
        chi = 0.5 * (lo + hi) if (math.isfinite(lo) and math.isfinite(hi)) else target / rn

    # Halley iteration on F with bisection/expansion safeguard.
    converged = False
    for _ in range(_MAX_ITER):
        psi = alpha * chi * chi
        if psi < -1400.0:
            # cosh would overflow here: the root lies closer to zero (an iterate
            # can overshoot while the bracket is still open), so shrink towards it.
            if chi > 0.0:
                hi = chi
            else:
                lo = chi
            if math.isinf(lo) or math.isinf(hi) or hi - lo <= 4e-16 * abs(chi):
                return STATUS_OVERFLOW
            chi = 0.5 * (lo + hi)
            continue
        c2, c3 = stumpff_c2_c3(psi)
        chi2 = chi * chi
        f = sigma0 * chi2 * c2 + beta * chi2 * chi * c3 + rn * chi - target
        r = chi2 * c2 + sigma0 * chi * (1.0 - psi * c3) + rn * (1.0 - psi * c2)
        dr = sigma0 * (1.0 - psi * c2) + beta * chi * (1.0 - psi * c3)
        if f > 0.0:
            hi = chi
        elif f < 0.0:
            lo = chi
        else:
            converged = True
            break
        # A radial orbit (h = 0, e.g. a body released at rest) can zero Halley's
        # denominator; NaN then falls through to the bisection step below.
        den = r * r - 0.5 * f * dr
        new = chi - f * r / den if den != 0.0 else math.nan
        if not (lo < new < hi):
            if math.isinf(hi):
                new = 2.0 * chi if chi > 0.0 else 1.0
            elif math.isinf(lo):
                new = 2.0 * chi if chi < 0.0 else -1.0
            else:
                new = 0.5 * (lo + hi)
        if abs(new - chi) <= 2e-16 * abs(new) or new == lo or new == hi:
            chi = new
            converged = True
            break
        chi = new
    if not converged:
        return STATUS_NOT_CONVERGED
    psi = alpha * chi * chi
    c2, c3 = stumpff_c2_c3(psi)
    chi2 = chi * chi
    r = chi2 * c2 + sigma0 * chi * (1.0 - psi * c3) + rn * (1.0 - psi * c2)
    # Lagrange coefficients, with f - 1 and gdot - 1 kept separate so that the
    # result is r0 + (small correction) for short arcs (as in Wisdom-Holman drifts).
    if not r > 0.0:
        # The arc reaches r = 0: a radial orbit that collides with the centre.
        return STATUS_DEGENERATE
    hx = ry * vz - rz * vy
    hy = rz * vx - rx * vz
    hz = rx * vy - ry * vx
    if (hx * hx + hy * hy + hz * hz) <= 1e-24 * rn * rn * v2:
        # Radial orbit (h = 0): universal variables continue through the collision
        # with the centre as a bounce. Moving inward at the start and outward at the end
        # (in the direction of dt) means the arc went through r = 0.
        sigma1 = sigma0 * (1.0 - psi * c2) + beta * chi * (1.0 - psi * c3)
        if sigma0 * dt <= 0.0 and sigma1 * dt > 0.0:
            return STATUS_DEGENERATE
    fm1 = -chi2 / rn * c2
    # sqrt(mu) g = sigma0 chi^2 c2 + r0 chi (1 - psi c3): the textbook
    # g = dt - chi^3 c3 / sqrt(mu) cancels badly for eccentric orbits.
    g = (sigma0 * chi2 * c2 + rn * chi * (1.0 - psi * c3)) / sqmu
    fdot = sqmu / (r * rn) * chi * (psi * c3 - 1.0)
    gdotm1 = -chi2 / r * c2
    for k in range(3):
        r_out[k] = r0[k] + (fm1 * r0[k] + g * v0[k])
        v_out[k] = v0[k] + (fdot * r0[k] + gdotm1 * v0[k])
    if not (math.isfinite(r_out[0]) and math.isfinite(v_out[0]) and math.isfinite(r_out[2])):
        return STATUS_OVERFLOW
    return STATUS_OK


@nb.njit(cache=True)
def kepler_rv_flat_serial(r0: np.ndarray, v0: np.ndarray, dt: np.ndarray, mu: np.ndarray,
                          r_out: np.ndarray, v_out: np.ndarray, status: np.ndarray) -> None:
    """:func:`kepler_rv_flat` in this thread: the same results, and half its compile
    time (no parfor lowering), for the few states a single orbit needs."""
    for k in range(dt.shape[0]):
        status[k] = _solve_one(r0[k], v0[k], dt[k], mu[k], r_out[k], v_out[k])


#: From this many states on, :func:`kepler_rv` uses the parallel kernel; below, a
#: parallel compile (~2x the serial one) cannot pay for itself (~1 us per state), and
#: the states are solved one by one from Python.
PARALLEL_MIN_STATES = 1024

#: Up to this many states, a cold kernel is not compiled: its Python twin runs them
#: (:mod:`._twin`; the state of an orbit at its epoch costs no compilation).
TWIN_MAX_STATES = 4


@nb.njit(cache=True, parallel=True)
def kepler_rv_flat(r0: np.ndarray, v0: np.ndarray, dt: np.ndarray, mu: np.ndarray,
                   r_out: np.ndarray, v_out: np.ndarray, status: np.ndarray) -> None:
    """Propagate K states by K time steps in parallel (all arrays already flat).

    Parameters
    ----------
    r0, v0 : (K, 3) float64
        Initial position [L] and velocity [L/T].
    dt : (K,) float64
        Time of flight [T], any sign.
    mu : (K,) float64
        Gravitational parameter [L^3/T^2], > 0.
    r_out, v_out : (K, 3) float64
        Output, written in place.
    status : (K,) int8
        Output status per element (``STATUS_*``).
    """
    for k in nb.prange(dt.shape[0]):
        status[k] = _solve_one(r0[k], v0[k], dt[k], mu[k], r_out[k], v_out[k])


@nb.njit(cache=True, parallel=True)
def kepler_rv_grid(r0: np.ndarray, v0: np.ndarray, dt: np.ndarray, mu: np.ndarray,
                   r_out: np.ndarray, v_out: np.ndarray, status: np.ndarray) -> None:
    """Propagate N states to M times each without materialising N*M copies of r0, v0.

    Shapes: r0, v0 (N, 3); dt (N, M); mu (N,); r_out, v_out (N, M, 3); status (N, M).
    """
    n, m = dt.shape
    for idx in nb.prange(n * m):
        i = idx // m
        j = idx - i * m
        status[i, j] = _solve_one(r0[i], v0[i], dt[i, j], mu[i], r_out[i, j], v_out[i, j])


def kepler_rv(r0: np.ndarray, v0: np.ndarray, dt, mu) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Broadcasting front end of the kernel (plain NumPy in, plain NumPy out).

    ``r0``, ``v0`` have shape ``(..., 3)``; ``dt`` and ``mu`` broadcast against the
    batch shape ``r0.shape[:-1]``. Returns ``(r, v, status)`` with the broadcast
    batch shape. No validation: the public layer validates.
    """
    r0 = np.asarray(r0, dtype=np.float64)
    v0 = np.asarray(v0, dtype=np.float64)
    dt = np.asarray(dt, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    batch = np.broadcast_shapes(r0.shape[:-1], v0.shape[:-1], dt.shape, mu.shape)
    k = int(np.prod(batch)) if batch else 1
    # Fresh writable C copies whatever the input (np.ascontiguousarray keeps a
    # read-only broadcast view read-only): one kernel specialisation, not two.
    r0f = np.array(np.broadcast_to(r0, batch + (3,)), order="C").reshape(k, 3)
    v0f = np.array(np.broadcast_to(v0, batch + (3,)), order="C").reshape(k, 3)
    dtf = np.array(np.broadcast_to(dt, batch), order="C").reshape(k)
    muf = np.array(np.broadcast_to(mu, batch), order="C").reshape(k)
    r = np.empty((k, 3))
    v = np.empty((k, 3))
    status = np.empty(k, dtype=np.int8)
    if k >= PARALLEL_MIN_STATES:
        kepler_rv_flat(r0f, v0f, dtf, muf, r, v, status)
    else:
        # One state at a time from Python (~1 us of call overhead each): only
        # _solve_one compiles on a first run, not a jitted loop around it as well
        # (numba re-optimises and re-emits every callee inside each caller).
        solve = _solve_one
        if k <= TWIN_MAX_STATES and cold(_solve_one, r0f[0], v0f[0], dtf[0], muf[0], r[0],
                                         v[0]):
            solve = python_twin(_solve_one)  # a few states: no compilation for them
        for i in range(k):
            status[i] = solve(r0f[i], v0f[i], dtf[i], muf[i], r[i], v[i])
    return r.reshape(batch + (3,)), v.reshape(batch + (3,)), status.reshape(batch)
