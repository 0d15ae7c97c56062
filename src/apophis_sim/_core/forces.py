"""Accelerations on a massless small body in the DE440 solar system (float64, numba).

Units: au, day, au/day^2. Positions are barycentric ICRF. The massive bodies'
states come from the packed ephemeris tables (``_core.chebyshev``), in the
table order sun, mercury, venus, earth, moon, mars, jupiter, saturn, uranus,
neptune, pluto [, 16 asteroids].

Force terms (bit flags, switched by name in the public layer):

* ``F_SUN``, ``F_PLANETS``, ``F_ASTEROIDS``: Newtonian point masses.
* ``F_GR``: post-Newtonian (PPN beta = gamma = 1) Einstein-Infeld-Hoffmann
  acceleration of a test particle in the field of the Sun, planets, Moon and
  Pluto (Moyer 2003, JPL Monograph 2, eq. 4-61; the form JPL's small-body
  integrator and ASSIST's ``GR_EIH`` use). Only the relativistic correction is
  added here; the Newtonian part is in the point-mass terms.
* ``F_EARTH_HARMONICS``: Earth's zonal J2, J3, J4 about the ICRF z axis (the
  J2000 pole), exactly as JPL Horizons' small-body integrator and ASSIST do;
  the pole's precession since J2000 (0.16 deg by 2029) is left out on purpose so
  that results reproduce JPL's.
* ``F_SUN_HARMONICS``: the Sun's J2 about its IAU pole (alpha0 = 286.13,
  delta0 = 63.87 deg).
* ``F_NONGRAV``: Marsden et al. (1973) non-gravitational acceleration
  g(r) (A1 r_hat + A2 t_hat + A3 n_hat) with
  g = ALN (r / R0)^-NM (1 + (r / R0)^NN)^-NK (JPL's asteroid default ALN = 1,
  NM = 2, NK = 0, R0 = 1 au, i.e. g = (1 au / r)^2), r heliocentric, t_hat in the
  orbit plane along the motion, n_hat = r_hat x t_hat (Farnocchia et al. 2013,
  Icarus 224).

Variational equations. With ``want_jac`` :func:`accel` also returns the partials
of the acceleration: ``jac[:, 0:3]`` = d a / d r, ``jac[:, 3:6]`` = d a / d v and
``jac[:, 6:9]`` = d a / d (A1, A2, A3), analytic for every term, the full EIH
acceleration included (its dependence on the particle's position and velocity;
the bodies' states and mutual accelerations do not depend on the particle).
"""

from __future__ import annotations

import math

import numba as nb

from ._jitopts import inner_njit
from .chebyshev import bodies_posvel

F_SUN = 1
F_PLANETS = 2
F_ASTEROIDS = 4
F_GR = 8
F_EARTH_HARMONICS = 16
F_SUN_HARMONICS = 32
F_NONGRAV = 64

#: Table indices of the bodies the special terms need.
I_SUN = 0
I_EARTH = 3
#: Number of DE440 bodies (the EIH sum runs over these).
N_MAJOR = 11
#: Length of the ``consts`` array: c [au/d], Earth R [au], J2, J3, J4, Sun R [au],
#: Sun J2, spare, then the non-gravitational g(r) law ALN, R0 [au], NM, NN, NK.
N_CONSTS = 13
#: Columns of the Jacobian: d a / d r (3), d a / d v (3), d a / d (A1, A2, A3) (3).
JAC_COLS = 9


# Plain njit (a Python entry point): tests call it alone.
@nb.njit(cache=True, error_model="numpy", no_cfunc_wrapper=True)
def _zonal(dx, dy, dz, gm, radius, j2, j3, j4, px, py, pz, a, jac, want_jac):
    """Add the J2 (J3, J4) acceleration of an oblate body to a (3,).

    (dx, dy, dz) is the particle relative to the body's centre (ICRF); ``pole``
    (px, py, pz) is the unit vector of the body's rotation axis; the formulas are written in
    the body frame (z along the pole) and mapped back: with u = z / r, z = r.pole,
    a = ar(r, u) r_hat + ap(r, u) pole. Derived from
    U = -(GM/r) sum_n J_n (R/r)^n P_n(u) (Vallado 2013 sec. 8.6.1): term n is
    c_n [((n+1) P_n + u P_n') r_hat - P_n' pole] with c_n = J_n GM R^n / r^(n+2).

    With ``want_jac``, d a / d r is added to ``jac[:, 0:3]``: each ar, ap term is
    c_n(r) f(u), so d/dr = -(n+2)/r times the term, grad u = (pole - u r_hat) / r
    and grad r_hat = (I - r_hat r_hat^T) / r.
    """
    r2 = dx * dx + dy * dy + dz * dz
    r = math.sqrt(r2)
    ux = dx / r
    uy = dy / r
    uz = dz / r
    u = ux * px + uy * py + uz * pz
    u2 = u * u
    mur2 = gm / r2
    # J2: ar = c2 (15/2 u^2 - 3/2), ap = -3 c2 u
    c2 = j2 * mur2 * (radius / r) ** 2
    ar = c2 * (7.5 * u2 - 1.5)
    ap = -3.0 * c2 * u
    ar_r = -4.0 * ar / r
    ap_r = -4.0 * ap / r
    ar_u = 15.0 * c2 * u
    ap_u = -3.0 * c2
    if j3 != 0.0:
        c3 = j3 * mur2 * (radius / r) ** 3
        tr = 2.5 * c3 * (7.0 * u2 * u - 3.0 * u)
        tp = -1.5 * c3 * (5.0 * u2 - 1.0)
        ar += tr
        ap += tp
        ar_r += -5.0 * tr / r
        ap_r += -5.0 * tp / r
        ar_u += 2.5 * c3 * (21.0 * u2 - 3.0)
        ap_u += -15.0 * c3 * u
    if j4 != 0.0:
        c4 = j4 * mur2 * (radius / r) ** 4
        tr = 0.625 * c4 * (63.0 * u2 * u2 - 42.0 * u2 + 3.0)
        tp = -2.5 * c4 * (7.0 * u2 * u - 3.0 * u)
        ar += tr
        ap += tp
        ar_r += -6.0 * tr / r
        ap_r += -6.0 * tp / r
        ar_u += 0.625 * c4 * (252.0 * u2 * u - 84.0 * u)
        ap_u += -2.5 * c4 * (21.0 * u2 - 3.0)
    a[0] += ar * ux + ap * px
    a[1] += ar * uy + ap * py
    a[2] += ar * uz + ap * pz
    if jac is None:  # pruned at compile time: no Jacobian code without a jac array
        return
    if want_jac:
        for i in range(3):
            ri = ux if i == 0 else (uy if i == 1 else uz)
            pi = px if i == 0 else (py if i == 1 else pz)
            for j in range(3):
                rj = ux if j == 0 else (uy if j == 1 else uz)
                pj = px if j == 0 else (py if j == 1 else pz)
                gu = (pj - u * rj) / r
                drh = ((1.0 if i == j else 0.0) - ri * rj) / r
                jac[i, j] += (ri * (ar_r * rj + ar_u * gu) + ar * drh
                              + pi * (ap_r * rj + ap_u * gu))


def _pole(ra_deg, dec_deg):
    """Unit vector (ICRF) of a pole given by its right ascension and declination [deg]."""
    ra = math.radians(ra_deg)
    dec = math.radians(dec_deg)
    return math.cos(dec) * math.cos(ra), math.cos(dec) * math.sin(ra), math.sin(dec)


#: The Sun's IAU pole (alpha0 = 286.13, delta0 = 63.87 deg), ICRF; computed once here
#: (the kernels see module constants; no jitted function to compile for it).
_SUN_POLE = _pole(286.13, 63.87)


@inner_njit(error_model="numpy")
def _nongrav(rx, ry, rz, vx, vy, vz, ng, consts, a, jac, want_jac):
    """Add the Marsden non-gravitational acceleration (heliocentric r, v (3,)) to a.

    a = g(r) (A1 r_hat + A2 t_hat + A3 n_hat), n_hat = h / |h| (h = r x v),
    t_hat = n_hat x r_hat, g = ALN (r/R0)^-NM (1 + (r/R0)^NN)^-NK. With
    ``want_jac``: d a / d r, d a / d v and d a / d A_k = g e_k, from
    d r_hat = (I - r_hat r_hat^T) dr / r, d n_hat = (I - n_hat n_hat^T) dh / |h|
    (dh = dr x v + r x dv) and d t_hat = d n_hat x r_hat + n_hat x d r_hat.
    """
    r = (rx, ry, rz)
    v = (vx, vy, vz)
    r2 = rx * rx + ry * ry + rz * rz
    rn = math.sqrt(r2)
    aln = consts[8]
    r0 = consts[9]
    nm = consts[10]
    nn = consts[11]
    nk = consts[12]
    if nk == 0.0 and nm == 2.0:
        g = aln * r0 * r0 / r2
        dlng = -2.0 / rn
    else:
        x = rn / r0
        xn = x ** nn
        g = aln * x ** (-nm) * (1.0 + xn) ** (-nk)
        dlng = (-nm - nk * nn * xn / (1.0 + xn)) / rn
    hx = r[1] * v[2] - r[2] * v[1]
    hy = r[2] * v[0] - r[0] * v[2]
    hz = r[0] * v[1] - r[1] * v[0]
    hn = math.sqrt(hx * hx + hy * hy + hz * hz)
    nh = (hx / hn, hy / hn, hz / hn)
    rh = (r[0] / rn, r[1] / rn, r[2] / rn)
    th = (nh[1] * rh[2] - nh[2] * rh[1], nh[2] * rh[0] - nh[0] * rh[2],
          nh[0] * rh[1] - nh[1] * rh[0])
    for i in range(3):
        a[i] += g * (ng[0] * rh[i] + ng[1] * th[i] + ng[2] * nh[i])
    if jac is None:  # pruned at compile time
        return
    if not want_jac:
        return
    for i in range(3):
        jac[i, 6] += g * rh[i]
        jac[i, 7] += g * th[i]
        jac[i, 8] += g * nh[i]
    # Directional derivatives along each unit displacement of r (col j) and v (col 3+j).
    for col in range(6):
        dr = (1.0 if col == 0 else 0.0, 1.0 if col == 1 else 0.0, 1.0 if col == 2 else 0.0)
        dv = (1.0 if col == 3 else 0.0, 1.0 if col == 4 else 0.0, 1.0 if col == 5 else 0.0)
        # d r_hat
        rd = rh[0] * dr[0] + rh[1] * dr[1] + rh[2] * dr[2]
        drh0 = (dr[0] - rh[0] * rd) / rn
        drh1 = (dr[1] - rh[1] * rd) / rn
        drh2 = (dr[2] - rh[2] * rd) / rn
        # dh = dr x v + r x dv
        dh0 = dr[1] * v[2] - dr[2] * v[1] + r[1] * dv[2] - r[2] * dv[1]
        dh1 = dr[2] * v[0] - dr[0] * v[2] + r[2] * dv[0] - r[0] * dv[2]
        dh2 = dr[0] * v[1] - dr[1] * v[0] + r[0] * dv[1] - r[1] * dv[0]
        nd = nh[0] * dh0 + nh[1] * dh1 + nh[2] * dh2
        dn0 = (dh0 - nh[0] * nd) / hn
        dn1 = (dh1 - nh[1] * nd) / hn
        dn2 = (dh2 - nh[2] * nd) / hn
        # d t_hat = d n_hat x r_hat + n_hat x d r_hat
        dt0 = dn1 * rh[2] - dn2 * rh[1] + nh[1] * drh2 - nh[2] * drh1
        dt1 = dn2 * rh[0] - dn0 * rh[2] + nh[2] * drh0 - nh[0] * drh2
        dt2 = dn0 * rh[1] - dn1 * rh[0] + nh[0] * drh1 - nh[1] * drh0
        dg = g * dlng * rd  # d g along the displacement (zero for dv)
        jac[0, col] += dg * (ng[0] * rh[0] + ng[1] * th[0] + ng[2] * nh[0]) + g * (
            ng[0] * drh0 + ng[1] * dt0 + ng[2] * dn0)
        jac[1, col] += dg * (ng[0] * rh[1] + ng[1] * th[1] + ng[2] * nh[1]) + g * (
            ng[0] * drh1 + ng[1] * dt1 + ng[2] * dn1)
        jac[2, col] += dg * (ng[0] * rh[2] + ng[1] * th[2] + ng[2] * nh[2]) + g * (
            ng[0] * drh2 + ng[1] * dt2 + ng[2] * dn2)


@inner_njit(error_model="numpy")
def _point_mass_jac(dx, dy, dz, gm_j, jac):
    """Add d a / d r of a point mass, -GM (I / d^3 - 3 d d^T / d^5), to jac[:, 0:3]."""
    r2 = dx * dx + dy * dy + dz * dz
    r = math.sqrt(r2)
    f = gm_j / (r2 * r)
    g = 3.0 * f / r2
    d = (dx, dy, dz)
    for i in range(3):
        for j in range(3):
            jac[i, j] += g * d[i] * d[j] - (f if i == j else 0.0)


@inner_njit(error_model="numpy")
def _eih_jac(x, v, gm, bp, bv, c, work, jac):
    """Add the Jacobian of :func:`_eih_correction` (d a / d r to jac[:, 0:3], d a / d v
    to jac[:, 3:6]); the bodies' accelerations a_j and potentials (work[:, 6:10]) are
    those :func:`_eih_correction` left there. With d_j = r_j - x, r = |d_j|,
    s_j = -d_j.v_j / r, D_j = -d_j.(4 v - 3 v_j) and the bracket B_j of Moyer's
    eq. 4-61, each body contributes
    d/dx: -G_j B_j + mu d_j (dB_j/dx)^T / r^3 + 3 mu D_j (v - v_j) d_j^T / r^5
          + mu (v - v_j)(4 v - 3 v_j)^T / r^3 + 3.5 mu a_j d_j^T / r^3,
    d/dv: mu d_j (2 v - 4 v_j)^T / r^3 - 4 mu (v - v_j) d_j^T / r^3 + mu D_j I / r^3,
    all over c^2, with G_j = mu (I - 3 d_hat d_hat^T) / r^3,
    dB_j/dx = -4 grad Phi - 3 s_j (v_j / r + s_j d_j / r^2) - a_j / 2 and
    grad Phi = sum_k mu_k d_k / r_k^3.
    """
    n = N_MAJOR
    c2 = c * c
    acc = work[:, 6:9]
    phi_b = work[:, 9]
    # Newtonian potential at the particle and its gradient.
    phi_p = 0.0
    gp0 = 0.0
    gp1 = 0.0
    gp2 = 0.0
    for k in range(n):
        dx = bp[k, 0] - x[0]
        dy = bp[k, 1] - x[1]
        dz = bp[k, 2] - x[2]
        r2 = dx * dx + dy * dy + dz * dz
        r = math.sqrt(r2)
        phi_p += gm[k] / r
        f = gm[k] / (r2 * r)
        gp0 += f * dx
        gp1 += f * dy
        gp2 += f * dz
    gphi = (gp0, gp1, gp2)
    vi2 = v[0] * v[0] + v[1] * v[1] + v[2] * v[2]
    for j in range(n):
        d = (bp[j, 0] - x[0], bp[j, 1] - x[1], bp[j, 2] - x[2])
        vj = (bv[j, 0], bv[j, 1], bv[j, 2])
        aj = (acc[j, 0], acc[j, 1], acc[j, 2])
        r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
        r = math.sqrt(r2)
        r3 = r2 * r
        mu = gm[j]
        f = mu / r3
        vj2 = vj[0] * vj[0] + vj[1] * vj[1] + vj[2] * vj[2]
        vivj = v[0] * vj[0] + v[1] * vj[1] + v[2] * vj[2]
        s = -(d[0] * vj[0] + d[1] * vj[1] + d[2] * vj[2]) / r
        da = d[0] * aj[0] + d[1] * aj[1] + d[2] * aj[2]
        bj = -4.0 * phi_p - phi_b[j] + vi2 + 2.0 * vj2 - 4.0 * vivj - 1.5 * s * s + 0.5 * da
        dj = -(d[0] * (4.0 * v[0] - 3.0 * vj[0]) + d[1] * (4.0 * v[1] - 3.0 * vj[1])
               + d[2] * (4.0 * v[2] - 3.0 * vj[2]))
        for col in range(3):
            dbx = -4.0 * gphi[col] - 3.0 * s * (vj[col] / r + s * d[col] / r2) - 0.5 * aj[col]
            w_col = 4.0 * v[col] - 3.0 * vj[col]
            for row in range(3):
                e = 1.0 if row == col else 0.0
                g_rc = f * (e - 3.0 * d[row] * d[col] / r2)
                dvr = v[row] - vj[row]
                jac[row, col] += (-g_rc * bj + f * d[row] * dbx
                                  + 3.0 * f * dj * dvr * d[col] / r2
                                  + f * dvr * w_col + 3.5 * f * aj[row] * d[col]) / c2
                jac[row, 3 + col] += (f * d[row] * (2.0 * v[col] - 4.0 * vj[col])
                                      - 4.0 * f * dvr * d[col] + f * dj * e) / c2


@nb.njit(cache=True, error_model="numpy")
def accel(jd0, t, x, v, flags, gm, n_bodies, ng, consts, tabs, work, a, jac, want_jac):
    """Acceleration [au/day^2] of the particle at (x, v) at TDB JD jd0 + t, into a (3,).

    Parameters
    ----------
    jd0, t : float
        Integration origin (TDB JD) and time since it [day].
    x, v : (3,) float64
        Barycentric ICRF position [au] and velocity [au/day].
    flags : int
        OR of the ``F_*`` bits.
    gm : (nbody,) float64
        GM of the table bodies [au^3/day^2].
    n_bodies : int
        How many table bodies take part in the Newtonian sum (11 or 27).
    ng : (3,) float64
        A1, A2, A3 [au/day^2].
    consts : (N_CONSTS,) float64
        c [au/d], Earth R [au], J2, J3, J4, Sun R [au], Sun J2, spare, and the
        g(r) law ALN, R0 [au], NM, NN, NK.
    tabs : tuple
        (coef, seg_i, seg_f, body_chain) packed ephemeris.
    work : (nbody, 10) float64 scratch, written here: body positions (cols 0-2),
        velocities (3-5), mutual Newtonian accelerations (6-8) and potentials (9).
    a : (3,) float64
        Output.
    jac : (3, JAC_COLS) float64 or None
        Output when ``want_jac``: d a / d r [1/day^2], d a / d v [1/day],
        d a / d (A1, A2, A3) [-]; untouched otherwise. None compiles a
        specialisation without any Jacobian code (the ``jac is None`` branches are
        pruned before typing), which the integrator uses without variational rows.
    want_jac : bool
    """
    coef, seg_i, seg_f, chain = tabs
    nb_all = chain.shape[0]
    bp = work[:, 0:3]
    bv = work[:, 3:6]
    bodies_posvel(coef, seg_i, seg_f, chain, jd0, t, bp, bv)
    a[0] = 0.0
    a[1] = 0.0
    a[2] = 0.0
    if jac is not None:
        if want_jac:
            jac[:, :] = 0.0
    # Newtonian point masses.
    for j in range(min(n_bodies, nb_all)):
        if j == I_SUN:
            if not (flags & F_SUN):
                continue
        elif j < N_MAJOR:
            if not (flags & F_PLANETS):
                continue
        elif not (flags & F_ASTEROIDS):
            continue
        dx = x[0] - bp[j, 0]
        dy = x[1] - bp[j, 1]
        dz = x[2] - bp[j, 2]
        r2 = dx * dx + dy * dy + dz * dz
        f = gm[j] / (r2 * math.sqrt(r2))
        a[0] -= f * dx
        a[1] -= f * dy
        a[2] -= f * dz
        if jac is not None:
            if want_jac:
                _point_mass_jac(dx, dy, dz, gm[j], jac)

    if flags & F_GR:
        _eih_correction(x, v, gm, bp, bv, consts[0], work, a)
        if jac is not None:
            if want_jac:
                _eih_jac(x, v, gm, bp, bv, consts[0], work, jac)

    if flags & F_EARTH_HARMONICS:
        # Earth's pole along ICRF +z, as in JPL's small-body integrations (Horizons)
        # and ASSIST: the 0.16 deg precession since J2000 is deliberately ignored so
        # that results match JPL's.
        _zonal(x[0] - bp[I_EARTH, 0], x[1] - bp[I_EARTH, 1], x[2] - bp[I_EARTH, 2],
               gm[I_EARTH], consts[1], consts[2], consts[3], consts[4], 0.0, 0.0, 1.0, a,
               jac, want_jac)

    if flags & F_SUN_HARMONICS:
        px, py, pz = _SUN_POLE
        _zonal(x[0] - bp[I_SUN, 0], x[1] - bp[I_SUN, 1], x[2] - bp[I_SUN, 2],
               gm[I_SUN], consts[5], consts[6], 0.0, 0.0, px, py, pz, a, jac, want_jac)

    if flags & F_NONGRAV:
        _nongrav(x[0] - bp[I_SUN, 0], x[1] - bp[I_SUN, 1], x[2] - bp[I_SUN, 2],
                 v[0] - bv[I_SUN, 0], v[1] - bv[I_SUN, 1], v[2] - bv[I_SUN, 2], ng, consts, a,
                 jac, want_jac)


@inner_njit(error_model="numpy")
def _eih_correction(x, v, gm, bp, bv, c, work, a):
    """Add the 1PN (EIH) part of the acceleration of a test particle (Moyer 2003, eq. 4-61)
    from the N_MAJOR DE440 bodies, with their Newtonian accelerations from each other.
    """
    n = N_MAJOR
    c2 = c * c
    # Newtonian potential at the particle, and body accelerations a_j from the others.
    phi_p = 0.0
    for j in range(n):
        dx = x[0] - bp[j, 0]
        dy = x[1] - bp[j, 1]
        dz = x[2] - bp[j, 2]
        phi_p += gm[j] / math.sqrt(dx * dx + dy * dy + dz * dz)
    acc = work[:, 6:9]
    phi_b = work[:, 9]
    # Element loops, not acc[:n, :] = 0.0: a slice fill compiles numba's broadcasting
    # machinery at each site (~0.5 s of a first run for these two lines).
    for j in range(n):
        acc[j, 0] = 0.0
        acc[j, 1] = 0.0
        acc[j, 2] = 0.0
        phi_b[j] = 0.0
    for j in range(n):
        for k in range(j + 1, n):
            dx = bp[k, 0] - bp[j, 0]
            dy = bp[k, 1] - bp[j, 1]
            dz = bp[k, 2] - bp[j, 2]
            r2 = dx * dx + dy * dy + dz * dz
            rjk = math.sqrt(r2)
            r3 = r2 * rjk
            acc[j, 0] += gm[k] * dx / r3
            acc[j, 1] += gm[k] * dy / r3
            acc[j, 2] += gm[k] * dz / r3
            acc[k, 0] -= gm[j] * dx / r3
            acc[k, 1] -= gm[j] * dy / r3
            acc[k, 2] -= gm[j] * dz / r3
            phi_b[j] += gm[k] / rjk
            phi_b[k] += gm[j] / rjk
    vi2 = v[0] * v[0] + v[1] * v[1] + v[2] * v[2]
    ax = 0.0
    ay = 0.0
    az = 0.0
    for j in range(n):
        # r_ij = r_j - r_i (from the particle to the body)
        dx = bp[j, 0] - x[0]
        dy = bp[j, 1] - x[1]
        dz = bp[j, 2] - x[2]
        r2 = dx * dx + dy * dy + dz * dz
        rij = math.sqrt(r2)
        r3 = r2 * rij
        vj = bv[j]
        vj2 = vj[0] * vj[0] + vj[1] * vj[1] + vj[2] * vj[2]
        vivj = v[0] * vj[0] + v[1] * vj[1] + v[2] * vj[2]
        # ((r_i - r_j) . v_j / r_ij)^2
        rv = -(dx * vj[0] + dy * vj[1] + dz * vj[2]) / rij
        # (r_j - r_i) . a_j
        ra = dx * acc[j, 0] + dy * acc[j, 1] + dz * acc[j, 2]
        bracket = (-4.0 * phi_p - phi_b[j] + vi2 + 2.0 * vj2 - 4.0 * vivj
                   - 1.5 * rv * rv + 0.5 * ra) / c2
        f = gm[j] / r3
        ax += f * dx * bracket
        ay += f * dy * bracket
        az += f * dz * bracket
        # (r_i - r_j) . (4 v_i - 3 v_j) times (v_i - v_j)
        dot = -(dx * (4.0 * v[0] - 3.0 * vj[0]) + dy * (4.0 * v[1] - 3.0 * vj[1])
                + dz * (4.0 * v[2] - 3.0 * vj[2]))
        g = f * dot / c2
        ax += g * (v[0] - vj[0])
        ay += g * (v[1] - vj[1])
        az += g * (v[2] - vj[2])
        h = 3.5 * gm[j] / (rij * c2)
        ax += h * acc[j, 0]
        ay += h * acc[j, 1]
        az += h * acc[j, 2]
    a[0] += ax
    a[1] += ay
    a[2] += az
