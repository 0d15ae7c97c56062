"""Lambert's problem by Izzo's (2015) method: vectorised, compiled (float64 core, numba).

Reference
---------
D. Izzo, "Revisiting Lambert's problem", Celestial Mechanics and Dynamical
Astronomy 121, 1-15 (2015), doi:10.1007/s10569-014-9587-y. Equation numbers in
the comments refer to that paper.

Method
------
The geometry (r1, r2) is reduced to the single parameter lambda (eq. 3-5) and the
time of flight to T = tof sqrt(2 mu / s^3); every transfer of the family is then
labelled by one real variable x (x < 1 ellipse, x = 1 parabola, x > 1
hyperbola) and

    T(x) = [(psi + M pi) / sqrt|1 - x^2| - x + lambda y] / (1 - x^2),     (eq. 18)
    y = sqrt(1 - lambda^2 (1 - x^2)),

(Lancaster & Blanchard 1969, Gooding 1990). This expression cancels
catastrophically near x = 1, where Battin's hypergeometric form (eq. 20) is used
instead. The root T(x) = T* is found with Householder's fourth-order iteration
(eq. 22 gives T', T'', T''' in closed form) from the initial guesses of eq. 30
(single revolution) and eq. 31 (the two multi-revolution branches). For M >= 1
complete revolutions T(x) has a single minimum T_min on (-1, 1), found by Halley
iterations on T'(x) = 0; below it no M-revolution transfer exists.

Departures from the paper, each for robustness:

* every iteration keeps a bracket of the root and falls back to bisection when a
  Householder step leaves it, so convergence never depends on the initial guess;
* psi is taken from atan2 / asinh of sin psi = sqrt(1 - x^2) (y - lambda x)
  rather than from acos of cos psi, which loses half the digits near psi = 0, pi;
* lambda, sigma and the combinations y +- lambda x are computed in forms free of
  cancellation (cos and sin of half the transfer angle from |u1 +- u2| / 2, and
  conjugate products), so transfers near 0 and 180 degrees and short chords
  keep full precision;
* near x = 1 the derivatives of T are those of Battin's series (exact), not the
  closed forms of eq. 22, which divide by 1 - x^2;
* the iterations stop on the residual |T(x) - T*| / T*, not on the step in x (whose
  natural scale varies enormously, e.g. ~sqrt(1 - lambda^2) near x = 0 for short
  chords), and fall back to Newton's step where Householder's higher-order terms
  are unreliable (far from the root relative to the curvature scale).

Precision
---------
The velocities agree with the exact solution of the same float64 problem
(Izzo's equations at 40 digits) to a few ulp: <= 2e-15 relative in the test
suite, up to ~4e-14 next to T_min of a high revolution count, where the two
branches merge. Re-propagated with the two-body propagator, (r1, v1) reaches r2
within 1 m per au of |r2| (observed: 0.12 m/au worst over 10 000 random
heliocentric problems). Two kinds of arc are intrinsically ill-conditioned in
float64, whatever the solver: arcs passing within a few solar radii of the
centre, and arcs of many decades, where one ulp of v1 moves the arrival point
by metres per au; the solution is still exact to the ulp there.

Conventions
-----------
Direction
    ``prograde=True`` selects the transfer whose angular momentum has a
    non-negative z component in the frame of r1 and r2 (counter-clockwise seen
    from +z, e.g. the direct sense in ecliptic or equatorial frames);
    ``prograde=False`` the opposite sense. The transfer angle is therefore
    below 180 degrees when (r1 x r2)_z > 0 and above when it is < 0. When the
    transfer plane contains the z axis ((r1 x r2)_z == 0 exactly), "prograde"
    means counter-clockwise about r1 x r2, i.e. the short way round.
Branch (M >= 1 only; ignored for M = 0)
    ``BRANCH_LEFT = 0``: the solution with x < x(T_min), on the decreasing part
    of T(x) (pykep's solution index 2M - 1; poliastro/boinor ``lowpath=False``).
    ``BRANCH_RIGHT = 1``: the solution with x > x(T_min), on the increasing part
    (pykep index 2M; poliastro/boinor ``lowpath=True``).
Status codes (int8; the numbering matches :mod:`.kepler` where meanings coincide)
    ``STATUS_OK`` (0), ``STATUS_NOT_CONVERGED`` (1), ``STATUS_DEGENERATE`` (3:
    |r1| or |r2| is zero, or r1 and r2 are collinear so that the transfer plane
    is undefined), ``STATUS_INVALID`` (4: a non-finite input, tof <= 0, mu <= 0,
    revs < 0, a branch other than 0 or 1), ``STATUS_NO_SOLUTION_FOR_REVS`` (5:
    tof is below the minimum time of flight of ``revs`` complete revolutions).
    Velocities of every element whose status is not OK are NaN: the kernels never
    raise, the public layer turns statuses into typed exceptions.

Units
-----
Unit-agnostic: any consistent length L and time T, with mu in L^3/T^2 (apophis_sim
passes au, day, au^3/day^2). Velocities come out in L/T.

Limitations
-----------
* Collinear r1, r2 (transfer angle exactly 0 or 180 degrees, or a multiple of
  360 degrees) define no plane: infinitely many transfers exist and the kernel
  reports ``STATUS_DEGENERATE`` whenever |r1 x r2| <= ``COLLINEAR_SIN`` |r1| |r2|
  (a sine of the transfer angle below 1e-14, i.e. at the rounding level of the
  cross product). Any larger out-of-plane component defines the plane and is
  solved normally, to full precision.
* Only Keplerian (two-body) transfers; the radial (rectilinear) transfer is not
  represented.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError, ShapeMismatchError

__all__ = [
    "BRANCH_LEFT",
    "BRANCH_RIGHT",
    "COLLINEAR_SIN",
    "STATUS_DEGENERATE",
    "STATUS_INVALID",
    "STATUS_NAMES",
    "STATUS_NOT_CONVERGED",
    "STATUS_NO_SOLUTION_FOR_REVS",
    "STATUS_OK",
    "lambert",
    "lambert_flat",
    "max_revs",
    "max_revs_flat",
    "min_tof",
    "min_tof_flat",
]

STATUS_OK = 0
STATUS_NOT_CONVERGED = 1
STATUS_DEGENERATE = 3
STATUS_INVALID = 4
STATUS_NO_SOLUTION_FOR_REVS = 5

STATUS_NAMES = {
    STATUS_OK: "OK",
    STATUS_NOT_CONVERGED: "NOT_CONVERGED",
    STATUS_DEGENERATE: "DEGENERATE",
    STATUS_INVALID: "INVALID",
    STATUS_NO_SOLUTION_FOR_REVS: "NO_SOLUTION_FOR_REVS",
}

BRANCH_LEFT = 0
BRANCH_RIGHT = 1

# |r1 x r2| / (|r1| |r2|) at or below which the transfer plane is undefined. The
# cross product's components carry rounding errors of a few ulp of |r1| |r2|;
# 1e-14 (~45 ulp) keeps the computed normal's direction within a few per cent
# of the true one (and t1, t2 are re-normalised, see _solve_one), so every
# transfer that passes is solved in a genuine plane through r1 and r2.
COLLINEAR_SIN = 1e-14

# |x - 1| below which Battin's series (eq. 20) replaces Lancaster's form (eq. 18).
# Lancaster's numerator is O(1 - x^2) made of O(1) terms, so T carries a relative
# error ~ eps / |1 - x|: measured against 50-digit mpmath, 3e-14 at |x - 1| = 0.01,
# 3e-15 at 0.1. Inside the band the series argument is |S1| <~ 0.25, ~30 terms.
_SERIES_BAND = 0.1
# Stopping rules of the root finders (see _householder). T(x) = T* is accepted
# when |T - T*| <= _RTOL T* and the higher-order step agrees with Newton's (the
# last step then leaves a residual <~ 1e-13 and typically ~1e-20); from eq. 30,
# M = 0 usually needs 2 evaluations of T. For M >= 1 the root can be nearly double
# (T* close to T_min), where the agreement test fails and the iteration instead
# stops on the absolute residual _FTOL.
_RTOL_M0 = 1e-5
_RTOL = 1e-7
_FTOL = 1e-14
# T_min: Halley on T'(x) = 0 stops when the Newton step is below this (an error
# e in x changes T_min by only ~T'' e^2).
_XTOL_TMIN = 1e-11
# Bisection safeguard: stop when the bracket is this small (relative).
_BRACKET_TOL = 4e-16
_MAX_ITER = 100
_LN2 = math.log(2.0)


@nb.njit(cache=True)
def _hyp2f1_3_1_52(z: float) -> tuple[float, float, float]:
    """F(z) = 2F1(3, 1; 5/2; z) and its first two derivatives, by the power series.

    The coefficients are c_j = (3)_j / (5/2)_j, c_{j+1} = c_j (3 + j) / (5/2 + j).
    Only called with |z| <~ 0.25 (|x - 1| < ``_SERIES_BAND``), where ~35 terms suffice.
    """
    cj = 1.0
    cj1 = 1.2  # c_1 = 3 / 2.5
    zj = 1.0
    f0 = 0.0
    f1 = 0.0
    f2 = 0.0
    for j in range(60):
        cj2 = cj1 * (4.0 + j) / (3.5 + j)
        f0 += cj * zj
        f1 += (j + 1.0) * cj1 * zj
        t2 = (j + 1.0) * (j + 2.0) * cj2 * zj
        f2 += t2
        if abs(t2) <= 1e-17 * abs(f2):
            break
        zj *= z
        cj = cj1
        cj1 = cj2
    return f0, f1, f2


@nb.njit(cache=True)
def _tof_derivs(x: float, lam: float, oml2: float, m: int) -> tuple[float, float, float, float]:
    """Non-dimensional time of flight T(x) and dT/dx, d2T/dx2, d3T/dx3.

    ``oml2`` is 1 - lambda^2, passed separately because it is known to full
    relative precision (it is c / s) even when lambda is within rounding of +-1.
    ``m`` is the number of complete revolutions.
    """
    lam2 = lam * lam
    y = math.sqrt(oml2 + lam2 * x * x)
    omx2 = (1.0 - x) * (1.0 + x)
    lx = lam * x
    # y - lambda x >= 0; when lambda x > 0 it cancels: (y - lx)(y + lx) = 1 - lambda^2.
    ymlx = oml2 / (y + lx) if lx > 0.0 else y - lx
    lam3y = lam2 * lam / y
    if abs(x - 1.0) < _SERIES_BAND:
        # Battin's form (eq. 20): T = (eta^3 Q + 4 lambda eta) / 2 with
        # eta = y - lambda x, S1 = (1 - lambda - x eta) / 2, Q = 4/3 2F1(3,1;5/2;S1),
        # plus the M pi / (1 - x^2)^1.5 of the complete revolutions. Derivatives are
        # taken analytically through eta(x) and S1(x): eta' = -lambda eta / y.
        eta = ymlx
        dy = lam2 * x / y
        deta = -lam * eta / y
        d2eta = -lam * (deta * y - eta * dy) / (y * y)
        s1 = 0.5 * (1.0 - lam - x * eta)
        ds1 = -0.5 * (eta + x * deta)
        d2s1 = -0.5 * (2.0 * deta + x * d2eta)
        f0, f1, f2 = _hyp2f1_3_1_52(s1)
        q = 4.0 / 3.0 * f0
        dq = 4.0 / 3.0 * f1 * ds1
        d2q = 4.0 / 3.0 * (f2 * ds1 * ds1 + f1 * d2s1)
        eta2 = eta * eta
        eta3 = eta2 * eta
        t = 0.5 * (eta3 * q + 4.0 * lam * eta)
        d1 = 0.5 * (3.0 * eta2 * deta * q + eta3 * dq + 4.0 * lam * deta)
        d2 = 0.5 * (6.0 * eta * deta * deta * q + 3.0 * eta2 * d2eta * q
                    + 6.0 * eta2 * deta * dq + eta3 * d2q + 4.0 * lam * d2eta)
        if m > 0:
            # Only reached with x < 1 (multi-revolution roots lie in (-1, 1)).
            mp = m * math.pi
            w = 1.0 / (omx2 * math.sqrt(omx2))
            t += mp * w
            d1 += 3.0 * mp * x * w / omx2
            d2 += mp * (3.0 * w / omx2 + 15.0 * x * x * w / (omx2 * omx2))
        # Eq. 22 for T''' divides by 1 - x^2: inaccurate within ~1e-8 of x = 1, but
        # T''' only enters Householder's step multiplied by (T - T*)^2.
        if omx2 != 0.0:
            d3 = (7.0 * x * d2 + 8.0 * d1
                  - 6.0 * oml2 * lam3y * lam2 * x / (y * y * y * y)) / omx2
        else:
            d3 = 0.0
        return t, d1, d2, d3
    # Lancaster's form (eq. 18). -x + lambda y cancels when lambda x > 0:
    # (lambda y - x)(lambda y + x) = lambda^2 y^2 - x^2 = (1 - lambda^2)(lambda^2 - (1 + lambda^2) x^2).
    if lx > 0.0:
        nxly = oml2 * (lam2 - (1.0 + lam2) * x * x) / (x + lam * y)
    else:
        nxly = lam * y - x
    if x < 1.0:
        sq = math.sqrt(omx2)
        # cos psi = x y + lambda (1 - x^2) (eq. 17), sin psi = sqrt(1 - x^2)(y - lambda x).
        psi = math.atan2(sq * ymlx, x * y + lam * omx2)
        t = ((psi + m * math.pi) / sq + nxly) / omx2
    else:
        sq = math.sqrt(-omx2)
        # Hyperbolic case: sinh psi = sqrt(x^2 - 1)(y - lambda x); m is 0 here.
        psi = math.asinh(sq * ymlx)
        t = (psi / sq + nxly) / omx2
    # Eq. 22.
    d1 = (3.0 * t * x - 2.0 + 2.0 * lam3y * x) / omx2
    d2 = (3.0 * t + 5.0 * x * d1 + 2.0 * oml2 * lam3y / (y * y)) / omx2
    d3 = (7.0 * x * d2 + 8.0 * d1 - 6.0 * oml2 * lam3y * lam2 * x / (y * y * y * y)) / omx2
    return t, d1, d2, d3


@nb.njit(cache=True)
def _householder(t_target: float, x0: float, lo: float, hi: float, decreasing: bool,
                 lam: float, oml2: float, m: int, rtol: float) -> tuple[float, bool]:
    """Solve T(x) = t_target on the bracket (lo, hi), where T is monotonic.

    Householder's fourth-order step with the derivatives of eq. 22, falling back
    to Newton's step far from the root and to bisection (or doubling, while ``hi``
    is infinite) whenever the step leaves the bracket or is not finite. ``rtol``
    is the relative residual below which one last step is taken and the
    iteration stops. Returns (x, converged).
    """
    x = x0
    if not (lo < x < hi):
        x = 0.5 * (lo + hi) if hi < math.inf else max(lo + 1.0, 2.0 * lo)
    ftol = _FTOL * t_target
    for _ in range(_MAX_ITER):
        t, d1, d2, d3 = _tof_derivs(x, lam, oml2, m)
        f = t - t_target
        if abs(f) <= ftol:
            return x, True
        # Root lies below x when T(x) is too large on a decreasing branch, or too
        # small on an increasing one.
        if (f > 0.0) != decreasing:
            hi = x
        else:
            lo = x
        dn = -f / d1
        d1sq = d1 * d1
        dh = -f * (d1sq - 0.5 * f * d2) / (d1 * (d1sq - f * d2) + d3 * f * f / 6.0)
        # Far from the root (relative to the curvature scale |T'/T''|) the
        # higher-order terms can shrink the step by orders of magnitude (e.g.
        # lambda -> 1, where T'' ~ (1 - lambda^2) / y^3 is huge near x = 0): a tiny
        # step there is not convergence. Use Newton's step then.
        dev = abs(dh - dn)
        if not (dev <= 0.5 * abs(dn)):
            dh = dn
        xn = x + dh
        # Converged: the residual is small and Householder agrees with Newton to
        # 1e-3, i.e. we are in the asymptotic regime and the step leaves a residual
        # <~ rtol (2 dev / |dn|)^3 ~ 1e-13, typically ~1e-20. The test is on T, not
        # on x: the scale of x varies enormously (for lambda -> 1, T changes on
        # |dx| ~ sqrt(1 - lambda^2) near x = 0). Closed bracket: a step below one
        # ulp leaves xn == x == lo (or hi).
        if abs(f) <= rtol * t_target and dev <= 1e-3 * abs(dn) and lo <= xn <= hi:
            return xn, True
        if not (lo < xn < hi):
            if hi < math.inf:
                xn = 0.5 * (lo + hi)
                if hi - lo <= _BRACKET_TOL * (1.0 + abs(xn)):
                    return xn, True
            else:
                xn = x + max(1.0, abs(x))
        x = xn
    return x, False


@nb.njit(cache=True)
def _t_min(lam: float, oml2: float, m: int) -> tuple[float, float, bool]:
    """Minimum non-dimensional time of flight of m >= 1 revolutions and its x.

    Halley iterations on T'(x) = 0. T is convex on (-1, 1) for m >= 1 and
    T'(0) = -2 for every lambda (eq. 22 at x = 0), so the minimum lies in (0, 1)
    and T' > 0 to its right: this is the bracket. Returns (x_min, T_min, converged).
    """
    lo = 0.0
    hi = 1.0
    # Start inside the bracket, where T'(0) = -2 is already known.
    x = 0.5
    ok = False
    for _ in range(_MAX_ITER):
        t, d1, d2, d3 = _tof_derivs(x, lam, oml2, m)
        if d1 == 0.0:
            ok = True
            break
        if d1 > 0.0:
            hi = x
        else:
            lo = x
        dn = -d1 / d2
        dh = -2.0 * d1 * d2 / (2.0 * d2 * d2 - d1 * d3)
        dev = abs(dh - dn)
        if not (dev <= 0.5 * abs(dn)):
            dh = dn
        xn = x + dh
        if abs(dn) <= _XTOL_TMIN and dev <= 1e-3 * abs(dn) and lo <= xn <= hi:
            x = xn
            ok = True
            break
        if not (lo < xn < hi):
            xn = 0.5 * (lo + hi)
            if hi - lo <= _BRACKET_TOL:
                x = xn
                ok = True
                break
        x = xn
    t = _tof_derivs(x, lam, oml2, m)[0]
    return x, t, ok


@nb.njit(cache=True)
def _geometry(r1: np.ndarray, r2: np.ndarray, prograde: bool) -> tuple:
    """Reduce (r1, r2, direction) to Izzo's variables.

    Returns (status, r1n, r2n, c, s, lam, oml2, nx, ny, nz), where n is the unit
    normal of the transfer plane in the sense of motion (the tangential unit
    vectors are n x u1 and n x u2), lam is signed (negative for transfer angles
    above 180 degrees, eq. 3 and the remark after it) and oml2 = 1 - lam^2 = c/s.
    status is STATUS_OK, STATUS_INVALID or STATUS_DEGENERATE.
    """
    x1, y1, z1 = r1[0], r1[1], r1[2]
    x2, y2, z2 = r2[0], r2[1], r2[2]
    nan = math.nan
    if not (math.isfinite(x1) and math.isfinite(y1) and math.isfinite(z1)
            and math.isfinite(x2) and math.isfinite(y2) and math.isfinite(z2)):
        return STATUS_INVALID, nan, nan, nan, nan, nan, nan, nan, nan, nan
    r1n = math.sqrt(x1 * x1 + y1 * y1 + z1 * z1)
    r2n = math.sqrt(x2 * x2 + y2 * y2 + z2 * z2)
    if not (math.isfinite(r1n) and math.isfinite(r2n)):
        # Finite components whose squares overflow (|r| > 1e154): out of range.
        return STATUS_INVALID, nan, nan, nan, nan, nan, nan, nan, nan, nan
    if r1n == 0.0 or r2n == 0.0:
        return STATUS_DEGENERATE, nan, nan, nan, nan, nan, nan, nan, nan, nan
    hx = y1 * z2 - z1 * y2
    hy = z1 * x2 - x1 * z2
    hz = x1 * y2 - y1 * x2
    hn = math.sqrt(hx * hx + hy * hy + hz * hz)
    if not (hn > COLLINEAR_SIN * r1n * r2n):
        return STATUS_DEGENERATE, nan, nan, nan, nan, nan, nan, nan, nan, nan
    dx, dy, dz = x2 - x1, y2 - y1, z2 - z1
    c = math.sqrt(dx * dx + dy * dy + dz * dz)
    s = 0.5 * (r1n + r2n + c)
    # lambda = sqrt(r1 r2) cos(theta/2) / s, with cos(theta/2) = |u1 + u2| / 2: exact
    # near 180 degrees, where sqrt(1 - c/s) would keep only half the digits.
    ax = x1 / r1n + x2 / r2n
    ay = y1 / r1n + y2 / r2n
    az = z1 / r1n + z2 / r2n
    lam = math.sqrt(r1n) * math.sqrt(r2n) * math.sqrt(ax * ax + ay * ay + az * az) / (2.0 * s)
    lam = min(lam, 1.0)
    oml2 = c / s
    # Motion counter-clockwise about r1 x r2 is the short way (lambda > 0); the
    # transfer normal n flips with the sign of h_z and again for retrograde.
    short = (hz >= 0.0) == prograde
    sgn = 1.0 if short else -1.0
    if not short:
        lam = -lam
    return (STATUS_OK, r1n, r2n, c, s, lam, oml2,
            sgn * hx / hn, sgn * hy / hn, sgn * hz / hn)


@nb.njit(cache=True)
def _solve_one(r1: np.ndarray, r2: np.ndarray, tof: float, mu: float, m: int, branch: int,
               prograde: bool, v1: np.ndarray, v2: np.ndarray) -> int:
    """Solve one Lambert problem; write v1, v2 (NaN unless OK); return a status."""
    for k in range(3):
        v1[k] = math.nan
        v2[k] = math.nan
    if not (math.isfinite(tof) and tof > 0.0 and math.isfinite(mu) and mu > 0.0
            and m >= 0 and (branch == 0 or branch == 1)):
        return STATUS_INVALID
    status, r1n, r2n, c, s, lam, oml2, nx, ny, nz = _geometry(r1, r2, prograde)
    if status != STATUS_OK:
        return status
    # Non-dimensional time of flight (eq. 9), written to avoid overflowing s^3.
    tt = tof * math.sqrt(2.0 * mu / s) / s
    if not (tt > 0.0 and math.isfinite(tt)):
        return STATUS_INVALID

    sq_oml2 = math.sqrt(oml2)
    # T at x = 0 (minimum-energy transfer), eq. 19: psi = atan2(sqrt(1 - lam^2), lam).
    t00 = math.atan2(sq_oml2, lam) + lam * sq_oml2
    if m == 0:
        # Single revolution: T decreases from +inf (x -> -1) to 0 (x -> +inf).
        # 1 - lambda computed without cancellation for lambda near 1.
        oml = oml2 / (1.0 + lam) if lam > 0.0 else 1.0 - lam
        lam2 = lam * lam
        t1 = 2.0 / 3.0 * oml * (1.0 + lam + lam2)  # T(x = 1), eq. 21
        # Initial guess, eq. 30 (middle branch as corrected by Izzo in pykep: it
        # interpolates x = 0 at T00 and x = 1 at T1).
        if tt >= t00:
            x0 = (t00 / tt) ** (2.0 / 3.0) - 1.0
        elif tt <= t1:
            oml5 = oml * (1.0 + lam + lam2 + lam2 * lam + lam2 * lam2)
            x0 = 2.5 * t1 * (t1 - tt) / (tt * oml5) + 1.0
        else:
            x0 = math.exp(_LN2 * math.log(tt / t00) / math.log(t1 / t00)) - 1.0
        x, ok = _householder(tt, x0, -1.0, math.inf, True, lam, oml2, 0, _RTOL_M0)
    else:
        mp = m * math.pi
        # m complete revolutions take at least m periods of the minimum-energy
        # ellipse, i.e. T > m pi: a cheap exact rejection.
        if tt < mp:
            return STATUS_NO_SOLUTION_FOR_REVS
        t00m = t00 + mp
        if tt >= t00m:
            # T(0) <= T* and x(T_min) > 0: the left root is in (-1, 0] and the
            # right one in [0, 1) without computing T_min.
            xm = 0.0
        else:
            xm, tmin, ok = _t_min(lam, oml2, m)
            if not ok:
                return STATUS_NOT_CONVERGED
            if tt < tmin:
                return STATUS_NO_SOLUTION_FOR_REVS
        if branch == BRANCH_LEFT:
            q = ((mp + math.pi) / (8.0 * tt)) ** (2.0 / 3.0)  # eq. 31
            x0 = (q - 1.0) / (q + 1.0)
            x, ok = _householder(tt, x0, -1.0, xm, True, lam, oml2, m, _RTOL)
        else:
            q = (8.0 * tt / mp) ** (2.0 / 3.0)  # eq. 31
            x0 = (q - 1.0) / (q + 1.0)
            x, ok = _householder(tt, x0, xm, 1.0, False, lam, oml2, m, _RTOL)
    if not ok:
        return STATUS_NOT_CONVERGED

    # Velocities, eq. 8-10 (Algorithm 1), with each of lambda y -+ x and y + lambda x
    # taken from the conjugate product when it would cancel.
    lam2 = lam * lam
    y = math.sqrt(oml2 + lam2 * x * x)
    lx = lam * x
    if lx > 0.0:
        ly_m_x = oml2 * (lam2 - (1.0 + lam2) * x * x) / (lam * y + x)
        ly_p_x = lam * y + x
        y_p_lx = y + lx
    else:
        ly_m_x = lam * y - x
        den = lam * y - x
        ly_p_x = oml2 * (lam2 - (1.0 + lam2) * x * x) / den if den != 0.0 else lam * y + x
        y_p_lx = oml2 / (y - lx)
    gamma = math.sqrt(0.5 * mu * s)
    rho = (r1n - r2n) / c
    # sigma = sqrt(1 - rho^2) = 2 sqrt(r1 r2) sin(theta/2) / c, sin(theta/2) = |u1 - u2|/2.
    bx = r2[0] / r2n - r1[0] / r1n
    by = r2[1] / r2n - r1[1] / r1n
    bz = r2[2] / r2n - r1[2] / r1n
    sigma = math.sqrt(r1n) * math.sqrt(r2n) * math.sqrt(bx * bx + by * by + bz * bz) / c
    vr1 = gamma * (ly_m_x - rho * ly_p_x) / r1n
    vr2 = -gamma * (ly_m_x + rho * ly_p_x) / r2n
    vt = gamma * sigma * y_p_lx
    vt1 = vt / r1n
    vt2 = vt / r2n
    # Tangential unit vectors n x u, re-normalised: for nearly collinear r1, r2 the
    # computed n is only approximately perpendicular to u1 and u2.
    u1x, u1y, u1z = r1[0] / r1n, r1[1] / r1n, r1[2] / r1n
    u2x, u2y, u2z = r2[0] / r2n, r2[1] / r2n, r2[2] / r2n
    t1x = ny * u1z - nz * u1y
    t1y = nz * u1x - nx * u1z
    t1z = nx * u1y - ny * u1x
    t2x = ny * u2z - nz * u2y
    t2y = nz * u2x - nx * u2z
    t2z = nx * u2y - ny * u2x
    n1 = vt1 / math.sqrt(t1x * t1x + t1y * t1y + t1z * t1z)
    n2 = vt2 / math.sqrt(t2x * t2x + t2y * t2y + t2z * t2z)
    v1[0] = vr1 * u1x + n1 * t1x
    v1[1] = vr1 * u1y + n1 * t1y
    v1[2] = vr1 * u1z + n1 * t1z
    v2[0] = vr2 * u2x + n2 * t2x
    v2[1] = vr2 * u2y + n2 * t2y
    v2[2] = vr2 * u2z + n2 * t2z
    return STATUS_OK


@nb.njit(cache=True, parallel=True)
def lambert_flat(r1: np.ndarray, r2: np.ndarray, tof: np.ndarray, mu: float,
                 revs: np.ndarray, branch: np.ndarray, prograde: np.ndarray,
                 v1_out: np.ndarray, v2_out: np.ndarray, status: np.ndarray) -> None:
    """Solve K Lambert problems in parallel (Izzo 2015); all arrays already flat.

    Parameters
    ----------
    r1, r2 : (K, 3) float64
        Departure and arrival positions [L], same inertial frame.
    tof : (K,) float64
        Time of flight [T], > 0.
    mu : float
        Gravitational parameter [L^3/T^2], > 0.
    revs : (K,) int64
        Number of complete revolutions M >= 0.
    branch : (K,) int64
        ``BRANCH_LEFT`` (0) or ``BRANCH_RIGHT`` (1); only used when revs >= 1.
    prograde : (K,) bool
        Sense of motion about +z (see the module docstring).
    v1_out, v2_out : (K, 3) float64
        Output velocities [L/T] at r1 and r2, written in place; NaN where the
        status is not OK.
    status : (K,) int8
        Output status per problem (``STATUS_*``).

    Notes
    -----
    No allocation, no exception: invalid input is reported per element through
    ``status``. Parallel over K with numba's ``prange``.
    """
    for k in nb.prange(tof.shape[0]):
        status[k] = _solve_one(r1[k], r2[k], tof[k], mu, revs[k], branch[k], prograde[k],
                               v1_out[k], v2_out[k])


@nb.njit(cache=True, parallel=True)
def min_tof_flat(r1: np.ndarray, r2: np.ndarray, mu: float, revs: np.ndarray,
                 prograde: np.ndarray, tof_out: np.ndarray, status: np.ndarray) -> None:
    """Minimum time of flight [T] of ``revs`` complete revolutions, K problems in parallel.

    0 for revs = 0 (the infimum, approached by ever faster hyperbolas); NaN where
    status is not OK. Shapes as in :func:`lambert_flat`.
    """
    for k in nb.prange(revs.shape[0]):
        tof_out[k] = math.nan
        m = revs[k]
        if not (math.isfinite(mu) and mu > 0.0 and m >= 0):
            status[k] = STATUS_INVALID
            continue
        st, r1n, r2n, c, s, lam, oml2, nx, ny, nz = _geometry(r1[k], r2[k], prograde[k])
        if st != STATUS_OK:
            status[k] = st
            continue
        if m == 0:
            tof_out[k] = 0.0
            status[k] = STATUS_OK
            continue
        xm, tmin, ok = _t_min(lam, oml2, m)
        if not ok:
            status[k] = STATUS_NOT_CONVERGED
            continue
        tof_out[k] = tmin * s / math.sqrt(2.0 * mu / s)
        status[k] = STATUS_OK


@nb.njit(cache=True, parallel=True)
def max_revs_flat(r1: np.ndarray, r2: np.ndarray, tof: np.ndarray, mu: float,
                  prograde: np.ndarray, revs_out: np.ndarray, status: np.ndarray) -> None:
    """Largest number of complete revolutions with a solution, K problems in parallel.

    -1 where status is not OK. Shapes as in :func:`lambert_flat`.
    """
    for k in nb.prange(tof.shape[0]):
        revs_out[k] = -1
        t = tof[k]
        if not (math.isfinite(t) and t > 0.0 and math.isfinite(mu) and mu > 0.0):
            status[k] = STATUS_INVALID
            continue
        st, r1n, r2n, c, s, lam, oml2, nx, ny, nz = _geometry(r1[k], r2[k], prograde[k])
        if st != STATUS_OK:
            status[k] = st
            continue
        tt = t * math.sqrt(2.0 * mu / s) / s
        # T_min(M) > M pi (see _solve_one), so M <= floor(T / pi); and
        # T_min(M - 1) <= T(x=0; M - 1) <= M pi <= T, so at most one step down.
        mmax = math.floor(tt / math.pi)
        if not mmax < 2.0**62:
            status[k] = STATUS_INVALID
            continue
        mm = np.int64(mmax)
        if mm >= 1:
            sq_oml2 = math.sqrt(oml2)
            t00m = math.atan2(sq_oml2, lam) + lam * sq_oml2 + mm * math.pi
            if tt < t00m:
                xm, tmin, ok = _t_min(lam, oml2, mm)
                if not ok:
                    status[k] = STATUS_NOT_CONVERGED
                    continue
                if tt < tmin:
                    mm -= 1
        revs_out[k] = mm
        status[k] = STATUS_OK


def _as_vectors(name: str, a: ArrayLike) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[-1] != 3:
        raise ShapeMismatchError(
            f"{name} must have xyz on its last axis, shape (..., 3); got shape {arr.shape}")
    return arr


def _as_int(name: str, a: ArrayLike) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind in "iub":
        return arr.astype(np.int64)
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        return arr.astype(np.int64)
    raise InputError(f"{name} must hold integers; got dtype {arr.dtype}")


def _mu_scalar(mu: ArrayLike) -> float:
    if np.ndim(mu) != 0:
        raise ShapeMismatchError(
            f"mu must be a scalar (one central body per call); got shape {np.shape(mu)}")
    return float(mu)


def _broadcast(batch: tuple[int, ...], k: int, a: np.ndarray, tail: tuple[int, ...] = ()
               ) -> np.ndarray:
    return np.ascontiguousarray(np.broadcast_to(a, batch + tail)).reshape((k,) + tail)


def _batch_shape(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeMismatchError(
            "the batch shapes do not broadcast together: "
            + ", ".join(str(s) for s in shapes)) from None


def lambert(r1: ArrayLike, r2: ArrayLike, tof: ArrayLike, mu: float, revs: ArrayLike = 0,
            branch: ArrayLike = BRANCH_LEFT, prograde: ArrayLike = True
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve Lambert's problem for a broadcast batch (Izzo 2015; plain NumPy in and out).

    Finds the Keplerian arc from ``r1`` to ``r2`` in time ``tof`` about a body of
    gravitational parameter ``mu``, with ``revs`` complete revolutions.

    Parameters
    ----------
    r1, r2 : array_like, shape (..., 3)
        Departure and arrival positions [L], same inertial frame.
    tof : array_like
        Time of flight [T], > 0; broadcasts against the batch shapes of r1, r2.
    mu : float
        Gravitational parameter [L^3/T^2], > 0 (scalar: one central body).
    revs : array_like of int, default 0
        Number of complete revolutions M >= 0.
    branch : array_like of int, default ``BRANCH_LEFT``
        For M >= 1: ``BRANCH_LEFT`` (0), the solution with x below x(T_min)
        (pykep's index 2M - 1, poliastro/boinor ``lowpath=False``), or
        ``BRANCH_RIGHT`` (1), the solution above it (``lowpath=True``).
        Ignored for M = 0.
    prograde : array_like of bool, default True
        True: angular momentum of the transfer along +z (counter-clockwise seen
        from +z); False: along -z. See the module docstring for planes that
        contain the z axis.

    Returns
    -------
    v1, v2 : ndarray, shape batch + (3,)
        Velocities [L/T] at r1 (departure) and r2 (arrival); NaN where status != 0.
    status : ndarray of int8, shape batch
        ``STATUS_OK`` (0), ``STATUS_NOT_CONVERGED`` (1), ``STATUS_DEGENERATE`` (3),
        ``STATUS_INVALID`` (4) or ``STATUS_NO_SOLUTION_FOR_REVS`` (5); see
        ``STATUS_NAMES``.

    Raises
    ------
    ShapeMismatchError
        r1 or r2 lacks the xyz axis, the batch shapes do not broadcast, or mu is
        not a scalar.
    InputError
        revs or branch hold non-integers.

    Notes
    -----
    Values are not checked here beyond shapes and types: non-finite input,
    tof <= 0, mu <= 0, revs < 0 or a branch other than 0/1 give
    ``STATUS_INVALID`` for the elements concerned. Precision: a few ulp of the
    exact solution (see the module docstring). Speed: ~0.35 microseconds per
    solve per core once compiled, parallel over the batch with numba's threads;
    the first call in a fresh process loads the kernel from numba's cache
    (~0.3 s) or compiles it (~4 s).

    References
    ----------
    D. Izzo, "Revisiting Lambert's problem", Celest. Mech. Dyn. Astr. 121, 1-15 (2015).
    """
    r1 = _as_vectors("r1", r1)
    r2 = _as_vectors("r2", r2)
    tof = np.asarray(tof, dtype=np.float64)
    revs = _as_int("revs", revs)
    branch = _as_int("branch", branch)
    prograde = np.asarray(prograde, dtype=np.bool_)
    mu_f = _mu_scalar(mu)
    batch = _batch_shape(r1.shape[:-1], r2.shape[:-1], tof.shape, revs.shape, branch.shape,
                         prograde.shape)
    k = math.prod(batch)
    v1 = np.empty((k, 3))
    v2 = np.empty((k, 3))
    status = np.empty(k, dtype=np.int8)
    lambert_flat(_broadcast(batch, k, r1, (3,)), _broadcast(batch, k, r2, (3,)),
                 _broadcast(batch, k, tof), mu_f, _broadcast(batch, k, revs),
                 _broadcast(batch, k, branch), _broadcast(batch, k, prograde),
                 v1, v2, status)
    return v1.reshape(batch + (3,)), v2.reshape(batch + (3,)), status.reshape(batch)


def min_tof(r1: ArrayLike, r2: ArrayLike, mu: float, revs: ArrayLike,
            prograde: ArrayLike = True) -> tuple[np.ndarray, np.ndarray]:
    """Minimum time of flight of a transfer with ``revs`` complete revolutions.

    Parameters
    ----------
    r1, r2 : array_like, shape (..., 3)
        Departure and arrival positions [L].
    mu : float
        Gravitational parameter [L^3/T^2].
    revs : array_like of int
        Number of complete revolutions M >= 0.
    prograde : array_like of bool, default True
        Sense of motion, as in :func:`lambert`.

    Returns
    -------
    tof_min : ndarray of float64, shape batch
        T_min of Izzo (2015, sec. 3) in dimensional form [T]: for M >= 1,
        :func:`lambert` returns ``STATUS_NO_SOLUTION_FOR_REVS`` below it and two
        solutions (both branches) above it. 0 for M = 0. NaN where status != 0.
    status : ndarray of int8, shape batch
        As in :func:`lambert`.
    """
    r1 = _as_vectors("r1", r1)
    r2 = _as_vectors("r2", r2)
    revs = _as_int("revs", revs)
    prograde = np.asarray(prograde, dtype=np.bool_)
    mu_f = _mu_scalar(mu)
    batch = _batch_shape(r1.shape[:-1], r2.shape[:-1], revs.shape, prograde.shape)
    k = math.prod(batch)
    out = np.empty(k)
    status = np.empty(k, dtype=np.int8)
    min_tof_flat(_broadcast(batch, k, r1, (3,)), _broadcast(batch, k, r2, (3,)), mu_f,
                 _broadcast(batch, k, revs), _broadcast(batch, k, prograde), out, status)
    return out.reshape(batch), status.reshape(batch)


def max_revs(r1: ArrayLike, r2: ArrayLike, tof: ArrayLike, mu: float,
             prograde: ArrayLike = True) -> tuple[np.ndarray, np.ndarray]:
    """Largest number of complete revolutions for which a transfer exists.

    Parameters
    ----------
    r1, r2 : array_like, shape (..., 3)
        Departure and arrival positions [L].
    tof : array_like
        Time of flight [T], > 0.
    mu : float
        Gravitational parameter [L^3/T^2].
    prograde : array_like of bool, default True
        Sense of motion, as in :func:`lambert`.

    Returns
    -------
    revs_max : ndarray of int64, shape batch
        M_max (Izzo 2015, Algorithm 2): :func:`lambert` has solutions, on both
        branches, for every 1 <= M <= M_max. -1 where status != 0.
    status : ndarray of int8, shape batch
        As in :func:`lambert`.
    """
    r1 = _as_vectors("r1", r1)
    r2 = _as_vectors("r2", r2)
    tof = np.asarray(tof, dtype=np.float64)
    prograde = np.asarray(prograde, dtype=np.bool_)
    mu_f = _mu_scalar(mu)
    batch = _batch_shape(r1.shape[:-1], r2.shape[:-1], tof.shape, prograde.shape)
    k = math.prod(batch)
    out = np.empty(k, dtype=np.int64)
    status = np.empty(k, dtype=np.int8)
    max_revs_flat(_broadcast(batch, k, r1, (3,)), _broadcast(batch, k, r2, (3,)),
                  _broadcast(batch, k, tof), mu_f, _broadcast(batch, k, prograde), out, status)
    return out.reshape(batch), status.reshape(batch)
