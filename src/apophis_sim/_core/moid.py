"""Minimum orbit intersection distance (MOID) of two confocal Keplerian orbits (float64 core).

Each orbit is a conic with periapsis distance q, eccentricity e and perifocal unit
vectors P (towards periapsis) and Q (90 deg ahead, along the motion), all in one
common frame. It is parametrised by an anomaly s that keeps the position and its
derivatives well conditioned for every e:

* ellipse (e < 1), eccentric anomaly E in [0, 2 pi) (periodic):
  x = q - 2 a sin^2(E / 2) (= a (cos E - e)), y = b sin E;
* hyperbola (e > 1), hyperbolic anomaly F in [-F_max, F_max]:
  x = q - A (cosh F - 1), y = B sinh F with A = q / (e - 1), B = sqrt(A q (1 + e));
* parabola (e = 1), D = tan(nu / 2) in [-D_max, D_max]: x = q (1 - D^2), y = 2 q D;

and the position is x P + y Q. An open orbit's branch is cut where r reaches
``r_max = 2 Q_other + q_self`` (Q_other the apoapsis of the other orbit, which
must be an ellipse): every farther point lies farther than r - Q_other >= Q_other
+ q_self from the other orbit, i.e. farther than the periapsis point does, so
the global minimum is always inside the scanned branch. An ellipse reaching
beyond its r_max (near-parabolic, e.g. e = 1 - 1e-16 from a parabolic state) is cut
the same way, so its grid covers the relevant arc.

Method (global, in the spirit of Wisniowski & Rickman 2013, Acta Astron. 63, 293):
both anomalies are sampled on an ``n x n`` grid; starting points are (i) the
local minima of the sampled squared distance on the grid (8 neighbours,
periodic for ellipses), (ii) the local minima of the scan function
f(s_i) = min_j d(s_i, t_j) (for each point of orbit 1 the nearest sampled point of
orbit 2) and (iii) the same with the roles exchanged. Each start is refined by a
damped (Levenberg-Marquardt) Newton iteration on the squared distance in
(s, t), with analytic gradient and Hessian, until the step is below 1e-15 rad;
minima that coincide are merged. The squared distance is evaluated from the
difference of the two positions, so the result is accurate to ~1e-16 au
absolute; the location of a minimum is accurate to ~1e-8 rad (the distance is
stationary there).

Kernels never raise: each pair gets a status code (``STATUS_*``).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

__all__ = ["MAX_MINIMA", "STATUS_OK", "STATUS_NO_CONVERGENCE", "STATUS_BOTH_OPEN",
           "STATUS_BAD_ORBIT", "moid_batch", "perifocal_from_rv", "anomaly_to_nu"]

#: Most local minima kept per pair (two confocal conics have at most 4; margin for
#: numerically indistinguishable ones).
MAX_MINIMA = 8
STATUS_OK = 0
#: Some refinement hit its iteration limit (the best point found is returned).
STATUS_NO_CONVERGENCE = 1
#: Both orbits are open (parabola/hyperbola): the MOID may lie at infinity.
STATUS_BOTH_OPEN = 2
#: q <= 0, e < 0, or non-finite input.
STATUS_BAD_ORBIT = 3

_MAX_ITER = 100


@nb.njit(cache=True)
def _xy(kind, q, e, sa, sb, s):
    """Perifocal (x, y) and first and second derivatives with respect to the anomaly.

    ``sa``, ``sb`` are the semi-axes (a, b) of an ellipse, (A, B) of a hyperbola."""
    if kind == 0:
        c, sn = math.cos(s), math.sin(s)
        hs = math.sin(0.5 * s)
        # a (cos E - e) = q - 2 a sin^2(E/2): no cancellation for e -> 1.
        return (q - 2.0 * sa * hs * hs, sb * sn, -sa * sn, sb * c, -sa * c, -sb * sn)
    if kind == 1:
        ch, sh = math.cosh(s), math.sinh(s)
        hs = math.sinh(0.5 * s)
        return (q - 2.0 * sa * hs * hs, sb * sh, -sa * sh, sb * ch, -sa * ch, sb * sh)
    return (q * (1.0 - s * s), 2.0 * q * s, -2.0 * q * s, 2.0 * q, -2.0 * q, 0.0)


@nb.njit(cache=True)
def _pos(kind, q, e, sa, sb, P, Q, s, out, d1, d2):
    x, y, xp, yp, xpp, ypp = _xy(kind, q, e, sa, sb, s)
    for k in range(3):
        out[k] = x * P[k] + y * Q[k]
        d1[k] = xp * P[k] + yp * Q[k]
        d2[k] = xpp * P[k] + ypp * Q[k]


@nb.njit(cache=True)
def _d2(kind1, q1, e1, a1, b1, P1, Q1, s, kind2, q2, e2, a2, b2, P2, Q2, t):
    x1, y1, _, _, _, _ = _xy(kind1, q1, e1, a1, b1, s)
    x2, y2, _, _, _, _ = _xy(kind2, q2, e2, a2, b2, t)
    acc = 0.0
    for k in range(3):
        dk = (x1 * P1[k] + y1 * Q1[k]) - (x2 * P2[k] + y2 * Q2[k])
        acc += dk * dk
    return acc


@nb.njit(cache=True)
def _setup(q, e, r_max):
    """(kind, semi-axis 1, semi-axis 2, lo, hi, periodic) of one orbit's parametrisation.

    Ranges come from r = q + 2 a e sin^2(E/2) (ellipse), r = q + 2 A e sinh^2(F/2)
    (hyperbola), r = q (1 + D^2) (parabola), cut at r_max (no cancellation near e = 1).
    An ellipse reaching beyond r_max (a near-parabolic one) is cut like an open orbit.
    """
    if e < 1.0:
        a = q / (1.0 - e)
        b = math.sqrt(a * q * (1.0 + e))
        arg = (r_max - q) / (2.0 * a * e) if e > 0.0 else 2.0
        if arg < 1.0:
            emax = 2.0 * math.asin(math.sqrt(max(arg, 0.0)))
            return 0, a, b, -emax, emax, False
        return 0, a, b, 0.0, 2.0 * math.pi, True
    if e > 1.0:
        A = q / (e - 1.0)
        fmax = 2.0 * math.asinh(math.sqrt(max((r_max - q) / (2.0 * A * e), 0.0)))
        return 1, A, math.sqrt(A * q * (1.0 + e)), -fmax, fmax, False
    dmax = math.sqrt(max(r_max / q - 1.0, 0.0))
    return 2, q, q, -dmax, dmax, False


@nb.njit(cache=True)
def _wrap(periodic, s, lo, hi):
    if periodic:
        return s - 2.0 * math.pi * math.floor(s / (2.0 * math.pi))
    return min(max(s, lo), hi)


@nb.njit(cache=True)
def _refine(kind1, q1, e1, a1, b1, P1, Q1, lo1, hi1, per1, kind2, q2, e2, a2, b2, P2, Q2, lo2,
            hi2, per2, s, t):
    """Levenberg-Marquardt Newton on |X(s) - Y(t)|^2. Returns (d2, s, t, converged)."""
    X = np.empty(3)
    Xp = np.empty(3)
    Xpp = np.empty(3)
    Y = np.empty(3)
    Yp = np.empty(3)
    Ypp = np.empty(3)
    lam = 0.0
    f = _d2(kind1, q1, e1, a1, b1, P1, Q1, s, kind2, q2, e2, a2, b2, P2, Q2, t)
    for _ in range(_MAX_ITER):
        _pos(kind1, q1, e1, a1, b1, P1, Q1, s, X, Xp, Xpp)
        _pos(kind2, q2, e2, a2, b2, P2, Q2, t, Y, Yp, Ypp)
        gs = 0.0
        gt = 0.0
        hss = 0.0
        htt = 0.0
        hst = 0.0
        for k in range(3):
            dk = X[k] - Y[k]
            gs += dk * Xp[k]
            gt -= dk * Yp[k]
            hss += Xp[k] * Xp[k] + dk * Xpp[k]
            htt += Yp[k] * Yp[k] - dk * Ypp[k]
            hst -= Xp[k] * Yp[k]
        scale = hss + htt
        if scale <= 0.0:
            scale = 1.0
        accepted = False
        for _ls in range(40):
            h11 = hss + lam * scale
            h22 = htt + lam * scale
            det = h11 * h22 - hst * hst
            if det > 0.0 and h11 > 0.0:
                ds = -(h22 * gs - hst * gt) / det
                dt = -(h11 * gt - hst * gs) / det
                # Keep steps local: a full Newton step across half an orbit is not one.
                step = math.sqrt(ds * ds + dt * dt)
                if step > 0.5:
                    ds *= 0.5 / step
                    dt *= 0.5 / step
                s_new = _wrap(per1, s + ds, lo1, hi1)
                t_new = _wrap(per2, t + dt, lo2, hi2)
                f_new = _d2(kind1, q1, e1, a1, b1, P1, Q1, s_new, kind2, q2, e2, a2, b2, P2,
                            Q2, t_new)
                if f_new <= f:
                    small = abs(ds) < 1e-15 * max(1.0, abs(s)) and \
                        abs(dt) < 1e-15 * max(1.0, abs(t))
                    no_gain = f - f_new <= 1e-30 + 4e-16 * f
                    s, t, f = s_new, t_new, f_new
                    lam *= 0.1
                    if lam < 1e-12:
                        lam = 0.0
                    accepted = True
                    if small or (no_gain and step < 1e-7):
                        return f, s, t, True
                    break
            lam = 1e-6 if lam == 0.0 else lam * 10.0
        if not accepted:
            # No descent direction left at float64 resolution: a minimum.
            return f, s, t, True
    return f, s, t, False


@nb.njit(cache=True)
def _same(periodic, x, y, tol):
    d = abs(x - y)
    if periodic:
        d = min(d, 2.0 * math.pi - d)
    return d < tol


@nb.njit(cache=True)
def _moid_one(q1, e1, P1, Q1, q2, e2, P2, Q2, n, dist, s1o, s2o):
    """One pair; fills ``dist``, ``s1o``, ``s2o`` (length MAX_MINIMA), returns (count, status)."""
    for v in (q1, e1, q2, e2):
        if not math.isfinite(v):
            return 0, STATUS_BAD_ORBIT
    if q1 <= 0.0 or q2 <= 0.0 or e1 < 0.0 or e2 < 0.0:
        return 0, STATUS_BAD_ORBIT
    if e1 >= 1.0 and e2 >= 1.0:
        return 0, STATUS_BOTH_OPEN
    big_q1 = q1 * (1.0 + e1) / (1.0 - e1) if e1 < 1.0 else 0.0
    big_q2 = q2 * (1.0 + e2) / (1.0 - e2) if e2 < 1.0 else 0.0
    # r_max of an orbit comes from the other one's apoapsis; against an open orbit an
    # ellipse is scanned whole.
    rmax1 = 2.0 * big_q2 + q1 if e2 < 1.0 else np.inf
    rmax2 = 2.0 * big_q1 + q2 if e1 < 1.0 else np.inf
    kind1, a1, b1, lo1, hi1, per1 = _setup(q1, e1, rmax1)
    kind2, a2, b2, lo2, hi2, per2 = _setup(q2, e2, rmax2)
    g1 = np.empty(n)
    g2 = np.empty(n)
    for i in range(n):
        if per1:
            g1[i] = 2.0 * math.pi * i / n
        else:
            g1[i] = lo1 + (hi1 - lo1) * i / (n - 1)
        if per2:
            g2[i] = 2.0 * math.pi * i / n
        else:
            g2[i] = lo2 + (hi2 - lo2) * i / (n - 1)
    X = np.empty((n, 3))
    Y = np.empty((n, 3))
    for i in range(n):
        x, y, _, _, _, _ = _xy(kind1, q1, e1, a1, b1, g1[i])
        for k in range(3):
            X[i, k] = x * P1[k] + y * Q1[k]
        x, y, _, _, _, _ = _xy(kind2, q2, e2, a2, b2, g2[i])
        for k in range(3):
            Y[i, k] = x * P2[k] + y * Q2[k]
    D = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            acc = 0.0
            for k in range(3):
                dk = X[i, k] - Y[j, k]
                acc += dk * dk
            D[i, j] = acc
    # Starting points.
    starts = np.zeros((n * n, 2), dtype=np.int64)
    ns = 0
    for i in range(n):
        for j in range(n):
            v = D[i, j]
            is_min = True
            for di in (-1, 0, 1):
                for dj in (-1, 0, 1):
                    if di == 0 and dj == 0:
                        continue
                    ii = i + di
                    jj = j + dj
                    if per1:
                        ii = ii % n
                    elif ii < 0 or ii >= n:
                        continue
                    if per2:
                        jj = jj % n
                    elif jj < 0 or jj >= n:
                        continue
                    if D[ii, jj] < v:
                        is_min = False
            if is_min:
                starts[ns, 0] = i
                starts[ns, 1] = j
                ns += 1
    # Scan functions: row minima f(s_i) and column minima g(t_j).
    rowj = np.empty(n, dtype=np.int64)
    rowv = np.empty(n)
    for i in range(n):
        best = 0
        for j in range(1, n):
            if D[i, j] < D[i, best]:
                best = j
        rowj[i] = best
        rowv[i] = D[i, best]
    colj = np.empty(n, dtype=np.int64)
    colv = np.empty(n)
    for j in range(n):
        best = 0
        for i in range(1, n):
            if D[i, j] < D[best, j]:
                best = i
        colj[j] = best
        colv[j] = D[best, j]
    for i in range(n):
        im = (i - 1) % n if per1 else max(i - 1, 0)
        ip = (i + 1) % n if per1 else min(i + 1, n - 1)
        if rowv[i] <= rowv[im] and rowv[i] <= rowv[ip]:
            starts[ns % (n * n), 0] = i
            starts[ns % (n * n), 1] = rowj[i]
            ns = min(ns + 1, n * n)
    for j in range(n):
        jm = (j - 1) % n if per2 else max(j - 1, 0)
        jp = (j + 1) % n if per2 else min(j + 1, n - 1)
        if colv[j] <= colv[jm] and colv[j] <= colv[jp]:
            starts[ns % (n * n), 0] = colj[j]
            starts[ns % (n * n), 1] = j
            ns = min(ns + 1, n * n)
    count = 0
    status = STATUS_OK
    tol = 1e-6
    for m in range(ns):
        i = starts[m, 0]
        j = starts[m, 1]
        dup_start = False
        for mm in range(m):
            if starts[mm, 0] == i and starts[mm, 1] == j:
                dup_start = True
                break
        if dup_start:
            continue
        f, s, t, ok = _refine(kind1, q1, e1, a1, b1, P1, Q1, lo1, hi1, per1, kind2, q2, e2, a2,
                              b2, P2, Q2, lo2, hi2, per2, g1[i], g2[j])
        if not ok:
            status = STATUS_NO_CONVERGENCE
        # A minimum on the cut of an open branch is an artefact of the cut (see module doc).
        if (not per1 and (s <= lo1 or s >= hi1)) or (not per2 and (t <= lo2 or t >= hi2)):
            continue
        d = math.sqrt(f)
        known = False
        for c in range(count):
            if _same(per1, s, s1o[c], tol) and _same(per2, t, s2o[c], tol):
                known = True
                if d < dist[c]:
                    dist[c] = d
                    s1o[c] = s
                    s2o[c] = t
                break
        if known:
            continue
        if count < MAX_MINIMA:
            dist[count] = d
            s1o[count] = s
            s2o[count] = t
            count += 1
        else:
            worst = 0
            for c in range(1, count):
                if dist[c] > dist[worst]:
                    worst = c
            if d < dist[worst]:
                dist[worst] = d
                s1o[worst] = s
                s2o[worst] = t
    # Sort ascending (insertion sort; count <= MAX_MINIMA).
    for a in range(1, count):
        dv, sv, tv = dist[a], s1o[a], s2o[a]
        b = a - 1
        while b >= 0 and dist[b] > dv:
            dist[b + 1] = dist[b]
            s1o[b + 1] = s1o[b]
            s2o[b + 1] = s2o[b]
            b -= 1
        dist[b + 1] = dv
        s1o[b + 1] = sv
        s2o[b + 1] = tv
    return count, status


@nb.njit(cache=True)
def anomaly_to_nu(q, e, s):
    """Anomaly of the parametrisation (E, F or D) -> true anomaly [rad]."""
    if e < 1.0:
        return 2.0 * math.atan2(math.sqrt(1.0 + e) * math.sin(0.5 * s),
                                math.sqrt(1.0 - e) * math.cos(0.5 * s))
    if e > 1.0:
        return 2.0 * math.atan(math.sqrt((e + 1.0) / (e - 1.0)) * math.tanh(0.5 * s))
    return 2.0 * math.atan(s)


@nb.njit(cache=True, parallel=True)
def moid_batch(q1, e1, P1, Q1, q2, e2, P2, Q2, n_grid):
    """MOID of N pairs of confocal conics.

    Parameters
    ----------
    q1, e1, q2, e2 : ndarray (N,)
        Periapsis distances [au] and eccentricities.
    P1, Q1, P2, Q2 : ndarray (N, 3)
        Perifocal unit vectors in one common frame.
    n_grid : int
        Samples per orbit of the starting grid (>= 8).

    Returns
    -------
    dist : ndarray (N, MAX_MINIMA)
        Distances of the local minima [au], ascending; NaN past ``count``.
    nu1, nu2 : ndarray (N, MAX_MINIMA)
        True anomalies [rad] of the minima on each orbit; NaN past ``count``.
    count : ndarray (N,) int64
    status : ndarray (N,) int64
        ``STATUS_*`` codes.
    """
    n = q1.shape[0]
    dist = np.full((n, MAX_MINIMA), np.nan)
    nu1 = np.full((n, MAX_MINIMA), np.nan)
    nu2 = np.full((n, MAX_MINIMA), np.nan)
    count = np.zeros(n, dtype=np.int64)
    status = np.zeros(n, dtype=np.int64)
    for k in nb.prange(n):
        d = np.full(MAX_MINIMA, np.nan)
        s1 = np.full(MAX_MINIMA, np.nan)
        s2 = np.full(MAX_MINIMA, np.nan)
        c, st = _moid_one(q1[k], e1[k], P1[k], Q1[k], q2[k], e2[k], P2[k], Q2[k], n_grid,
                          d, s1, s2)
        count[k] = c
        status[k] = st
        for m in range(c):
            dist[k, m] = d[m]
            nu1[k, m] = anomaly_to_nu(q1[k], e1[k], s1[m])
            nu2[k, m] = anomaly_to_nu(q2[k], e2[k], s2[m])
    return dist, nu1, nu2, count, status


def perifocal_from_rv(r: np.ndarray, v: np.ndarray, mu: float
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(q, e, P, Q, h) of Cartesian states (..., 3) about a centre of GM ``mu``.

    P is the unit eccentricity vector (the position direction for an exactly
    circular orbit), Q = h_hat x P. ``h`` (|r x v|) is returned so the caller can
    reject rectilinear orbits (h = 0), whose q is 0.
    """
    r = np.asarray(r, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    h = np.cross(r, v)
    hn = np.linalg.norm(h, axis=-1)
    rn = np.linalg.norm(r, axis=-1)
    rv = np.sum(r * v, axis=-1)
    v2 = np.sum(v * v, axis=-1)
    evec = ((v2 - mu / rn)[..., None] * r - rv[..., None] * v) / mu
    e = np.linalg.norm(evec, axis=-1)
    p = hn * hn / mu
    q = p / (1.0 + e)
    with np.errstate(invalid="ignore", divide="ignore"):
        P = np.where((e > 0)[..., None], evec / e[..., None], r / rn[..., None])
        hhat = h / hn[..., None]
    Q = np.cross(hhat, P)
    return q, e, P, Q, hn
