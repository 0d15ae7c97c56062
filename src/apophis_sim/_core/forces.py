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
  g(r) (A1 r_hat + A2 t_hat + A3 n_hat) with g = (1 au / r)^2 (JPL's ALN = 1,
  NM = 2, NK = 0, R0 = 1 au), r heliocentric, t_hat in the orbit plane along the
  motion, n_hat = r_hat x t_hat (Farnocchia et al. 2013, Icarus 224).
"""

from __future__ import annotations

import math

import numba as nb

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


@nb.njit(cache=True, inline="always")
def _zonal(dx, dy, dz, gm, radius, j2, j3, j4, px, py, pz, a):
    """Add the J2 (J3, J4) acceleration of an oblate body to a (3,).

    (dx, dy, dz) is the particle relative to the body's centre (ICRF); ``pole``
    (px, py, pz) is the unit vector of the body's rotation axis; the formulas are written in
    the body frame (z along the pole) and mapped back: with z = r.pole,
    a = A(r, z) r_vec + B(r, z) pole. Derived from U = -(GM/r) sum_n J_n (R/r)^n P_n(z/r)
    (Vallado 2013 sec. 8.6.1).
    """
    r2 = dx * dx + dy * dy + dz * dz
    r = math.sqrt(r2)
    z = dx * px + dy * py + dz * pz
    u = z / r
    u2 = u * u
    mur2 = gm / r2
    # J2: a = -3/2 J2 mu R^2 / r^4 [ (1 - 5u^2) r_hat + 2 u pole ]
    f2 = 1.5 * j2 * mur2 * (radius / r) ** 2
    ar = -f2 * (1.0 - 5.0 * u2)
    ap = -f2 * 2.0 * u
    # General term n: a = c_n [((n+1) P_n + u P_n') r_hat - P_n' pole],
    # c_n = J_n GM R^n / r^(n+2), from grad of -(GM/r) J_n (R/r)^n P_n(u).
    if j3 != 0.0:
        c3 = j3 * mur2 * (radius / r) ** 3
        ar += 2.5 * c3 * (7.0 * u2 * u - 3.0 * u)
        ap += -1.5 * c3 * (5.0 * u2 - 1.0)
    if j4 != 0.0:
        c4 = j4 * mur2 * (radius / r) ** 4
        ar += 0.625 * c4 * (63.0 * u2 * u2 - 42.0 * u2 + 3.0)
        ap += -2.5 * c4 * (7.0 * u2 * u - 3.0 * u)
    a[0] += ar * dx / r + ap * px
    a[1] += ar * dy / r + ap * py
    a[2] += ar * dz / r + ap * pz


@nb.njit(cache=True, inline="always")
def _pole(ra_deg, dec_deg):
    """Unit vector (ICRF) of a pole given by its right ascension and declination [deg]."""
    ra = math.radians(ra_deg)
    dec = math.radians(dec_deg)
    return math.cos(dec) * math.cos(ra), math.cos(dec) * math.sin(ra), math.sin(dec)


@nb.njit(cache=True)
def accel(jd0, t, x, v, flags, gm, n_bodies, ng, consts, tabs, work, a):
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
    consts : (8,) float64
        c [au/d], Earth R [au], J2, J3, J4, Sun R [au], Sun J2, spare.
    tabs : tuple
        (coef, seg_i, seg_f, body_chain) packed ephemeris.
    work : (nbody, 10) float64 scratch, written here: body positions (cols 0-2),
        velocities (3-5), mutual Newtonian accelerations (6-8) and potentials (9).
    a : (3,) float64
        Output.
    """
    coef, seg_i, seg_f, chain = tabs
    nb_all = chain.shape[0]
    bp = work[:, 0:3]
    bv = work[:, 3:6]
    bodies_posvel(coef, seg_i, seg_f, chain, jd0, t, bp, bv)
    a[0] = 0.0
    a[1] = 0.0
    a[2] = 0.0
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

    if flags & F_GR:
        _eih_correction(x, v, gm, bp, bv, consts[0], work, a)

    if flags & F_EARTH_HARMONICS:
        # Earth's pole along ICRF +z, as in JPL's small-body integrations (Horizons)
        # and ASSIST: the 0.16 deg precession since J2000 is deliberately ignored so
        # that results match JPL's.
        _zonal(x[0] - bp[I_EARTH, 0], x[1] - bp[I_EARTH, 1], x[2] - bp[I_EARTH, 2],
               gm[I_EARTH], consts[1], consts[2], consts[3], consts[4], 0.0, 0.0, 1.0, a)

    if flags & F_SUN_HARMONICS:
        px, py, pz = _pole(286.13, 63.87)
        _zonal(x[0] - bp[I_SUN, 0], x[1] - bp[I_SUN, 1], x[2] - bp[I_SUN, 2],
               gm[I_SUN], consts[5], consts[6], 0.0, 0.0, px, py, pz, a)

    if flags & F_NONGRAV:
        rx = x[0] - bp[I_SUN, 0]
        ry = x[1] - bp[I_SUN, 1]
        rz = x[2] - bp[I_SUN, 2]
        vx = v[0] - bv[I_SUN, 0]
        vy = v[1] - bv[I_SUN, 1]
        vz = v[2] - bv[I_SUN, 2]
        r2 = rx * rx + ry * ry + rz * rz
        r = math.sqrt(r2)
        g = 1.0 / r2  # (1 au / r)^2
        # n = r x v / |r x v|;  t = n x r_hat
        hx = ry * vz - rz * vy
        hy = rz * vx - rx * vz
        hz = rx * vy - ry * vx
        hn = math.sqrt(hx * hx + hy * hy + hz * hz)
        nx, ny, nz = hx / hn, hy / hn, hz / hn
        ux, uy, uz = rx / r, ry / r, rz / r
        tx = ny * uz - nz * uy
        ty = nz * ux - nx * uz
        tz = nx * uy - ny * ux
        a[0] += g * (ng[0] * ux + ng[1] * tx + ng[2] * nx)
        a[1] += g * (ng[0] * uy + ng[1] * ty + ng[2] * ny)
        a[2] += g * (ng[0] * uz + ng[1] * tz + ng[2] * nz)


@nb.njit(cache=True)
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
    acc[:n, :] = 0.0
    phi_b[:n] = 0.0
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
