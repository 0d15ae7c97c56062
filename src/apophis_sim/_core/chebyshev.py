"""Numba kernels that evaluate JPL SPK type-2 (Chebyshev position) segments.

The planetary (DE440) and small-body (SB441-N16) ephemerides are stored as SPK
type-2 segments: for each body and time window ("record") of fixed length, one
Chebyshev series per Cartesian component gives the position; the velocity is
its time derivative. These kernels evaluate such segments from flat, packed
float64/int64 tables so that they can be called from other numba code (the
n-body integrator's force loop) without Python overhead or allocation.

Packed table layout
-------------------
coef : float64, shape (ncoef_total,)
    All Chebyshev coefficients, **already converted from km to au**. Segment
    ``s`` occupies ``coef[offset : offset + n_records * 3 * n_coef]`` laid out
    as ``(n_records, 3, n_coef)`` in C order (record, xyz component,
    coefficient of T_0 .. T_{n_coef-1}), which is the order of the SPK file.
seg_i : int64, shape (nseg, 3)
    ``(offset into coef, n_records, n_coef)`` of each segment.
seg_f : float64, shape (nseg, 2)
    ``(init_jd_tdb, intlen_days)``: TDB Julian date at which the first kept
    record starts, and the record length in days. Record ``k`` covers
    ``[init + k * intlen, init + (k + 1) * intlen]``.
body_chain : int64, shape (nbody, 4)
    Indices of the segments whose states **add up** to the body's state
    relative to the solar-system barycentre, ordered from the body towards
    the barycentre (Earth: EMB->Earth, then SSB->EMB); unused slots hold -1
    and come after the used ones.

Units: positions in au, velocities in au/day, times as two-part TDB Julian
dates ``jd1 + jd2`` (astropy's ``jd1``/``jd2`` convention). The large parts
cancel first (``jd1 - init``), and whole records are removed before ``jd2`` is
added, so the position inside a record keeps ~1e-15 day precision whatever the
magnitude of the Julian date or the length of the tables.

Range
-----
The kernels do **not** check that a time lies inside the tables: the caller
(:mod:`apophis_sim.ephemeris`, or the integrator that was handed tables cut for
its interval) must. A time past either end is evaluated with the nearest
record, i.e. the Chebyshev series is extrapolated and the result is
meaningless; clamping the record index only guarantees memory safety. A time
exactly at the end of the last record uses the last record (as SPICE and
jplephem do).

References
----------
NAIF SPK Required Reading, "Type 2: Chebyshev (position only)".
Clenshaw, C. W. (1955), "A note on the summation of Chebyshev series",
Math. Tables Aids Comput. 9, 118; the derivative recurrence is that of the
Clenshaw sum differentiated term by term.
"""

from __future__ import annotations

import numba
import numpy as np

from ._jitopts import inner_njit

__all__ = [
    "CHAIN_SLOTS",
    "segment_posvel",
    "body_posvel",
    "bodies_posvel",
    "body_posvel_many",
]

#: Number of segment slots per row of ``body_chain``.
CHAIN_SLOTS = 4


@inner_njit()
def _clenshaw(coef, start, n_coef, x):
    """Value and x-derivative of ``sum_k coef[start + k] T_k(x)``, k < n_coef.

    Clenshaw: b_k = a_k + 2x b_{k+1} - b_{k+2}, f = a_0 + x b_1 - b_2.
    Differentiating each line in x: b'_k = 2 b_{k+1} + 2x b'_{k+1} - b'_{k+2},
    f' = b_1 + x b'_1 - b'_2.
    """
    b1 = 0.0
    b2 = 0.0
    d1 = 0.0
    d2 = 0.0
    two_x = 2.0 * x
    for k in range(n_coef - 1, 0, -1):
        d0 = 2.0 * b1 + two_x * d1 - d2
        b0 = coef[start + k] + two_x * b1 - b2
        b2 = b1
        b1 = b0
        d2 = d1
        d1 = d0
    return coef[start] + x * b1 - b2, b1 + x * d1 - d2


@inner_njit()
def _segment_state(coef, seg_i, seg_f, s, jd1, jd2):
    """State of segment ``s`` as a 6-tuple (x, y, z, vx, vy, vz), au and au/day."""
    offset = seg_i[s, 0]
    n_records = seg_i[s, 1]
    n_coef = seg_i[s, 2]
    init = seg_f[s, 0]
    intlen = seg_f[s, 1]

    # jd1 - init is exact (Sterbenz) when jd1 is a date near the tables; the
    # record start index * intlen is an exact whole number of days, so the
    # offset into the record is formed before jd2 is added and keeps the
    # precision of a ~10-day number, not that of t (up to ~4e5 days, whose
    # spacing of 6e-11 day = 5 us would be ~0.2 m at 47 km/s).
    t1 = jd1 - init
    index = int(np.floor((t1 + jd2) / intlen))
    # index == n_records happens exactly at the end of the last record; larger
    # or negative values are out of range (checked by the caller) and clamped
    # only so that memory outside the table is never read.
    if index >= n_records:
        index = n_records - 1
    elif index < 0:
        index = 0
    x = 2.0 * ((t1 - index * intlen) + jd2) / intlen - 1.0
    # d/dt = (dx/dt) d/dx with dx/dt = 2 / intlen  [1/day]
    dxdt = 2.0 / intlen

    base = offset + index * 3 * n_coef
    px, dpx = _clenshaw(coef, base, n_coef, x)
    py, dpy = _clenshaw(coef, base + n_coef, n_coef, x)
    pz, dpz = _clenshaw(coef, base + 2 * n_coef, n_coef, x)
    return px, py, pz, dpx * dxdt, dpy * dxdt, dpz * dxdt


@numba.njit(cache=True)
def segment_posvel(coef, seg_i, seg_f, s, jd1, jd2, pos, vel):
    """Evaluate one SPK type-2 segment (target relative to its centre).

    Parameters
    ----------
    coef, seg_i, seg_f : ndarray
        Packed tables (see the module docstring).
    s : int
        Segment index (row of ``seg_i``/``seg_f``).
    jd1, jd2 : float
        Two-part TDB Julian date [day]; only the sum matters, split it so that
        ``jd1`` carries the large part. Must lie inside the segment's records
        (not checked; see the module docstring).
    pos, vel : ndarray, shape (3,)
        Output: position [au] and velocity [au/day], overwritten.
    """
    x, y, z, vx, vy, vz = _segment_state(coef, seg_i, seg_f, s, jd1, jd2)
    pos[0] = x
    pos[1] = y
    pos[2] = z
    vel[0] = vx
    vel[1] = vy
    vel[2] = vz


@numba.njit(cache=True)
def body_posvel(coef, seg_i, seg_f, body_chain, b, jd1, jd2, pos, vel):
    """State of body ``b`` relative to the solar-system barycentre.

    Parameters
    ----------
    coef, seg_i, seg_f, body_chain : ndarray
        Packed tables (see the module docstring).
    b : int
        Body index (row of ``body_chain``).
    jd1, jd2 : float
        Two-part TDB Julian date [day], inside the tables (not checked).
    pos, vel : ndarray, shape (3,)
        Output: barycentric position [au] and velocity [au/day], overwritten.
    """
    for c in range(3):
        pos[c] = 0.0
        vel[c] = 0.0
    for slot in range(body_chain.shape[1]):
        s = body_chain[b, slot]
        if s < 0:
            break
        x, y, z, vx, vy, vz = _segment_state(coef, seg_i, seg_f, s, jd1, jd2)
        pos[0] += x
        pos[1] += y
        pos[2] += z
        vel[0] += vx
        vel[1] += vy
        vel[2] += vz


@numba.njit(cache=True)
def bodies_posvel(coef, seg_i, seg_f, body_chain, jd1, jd2, pos, vel):
    """Barycentric states of all bodies at one time; allocation-free.

    This is the n-body integrator's per-substep call.

    Parameters
    ----------
    coef, seg_i, seg_f, body_chain : ndarray
        Packed tables (see the module docstring).
    jd1, jd2 : float
        Two-part TDB Julian date [day], inside the tables (not checked).
    pos, vel : ndarray, shape (nbody, 3)
        Output: barycentric positions [au] and velocities [au/day] of the
        bodies in ``body_chain`` order, overwritten.
    """
    # Links past the first (towards the SSB) are shared by neighbouring rows:
    # SSB->Sun by all 16 asteroids, SSB->EMB by Earth and Moon. A one-entry
    # cache of the last such link, kept in scalars, evaluates each once.
    cached_s = -1
    cx = cy = cz = cvx = cvy = cvz = 0.0
    for b in range(body_chain.shape[0]):
        px = 0.0
        py = 0.0
        pz = 0.0
        vx = 0.0
        vy = 0.0
        vz = 0.0
        for slot in range(body_chain.shape[1]):
            s = body_chain[b, slot]
            if s < 0:
                break
            if slot == 0:
                x, y, z, dx, dy, dz = _segment_state(coef, seg_i, seg_f, s, jd1, jd2)
            else:
                if s != cached_s:
                    cx, cy, cz, cvx, cvy, cvz = _segment_state(coef, seg_i, seg_f, s, jd1, jd2)
                    cached_s = s
                x, y, z, dx, dy, dz = cx, cy, cz, cvx, cvy, cvz
            px += x
            py += y
            pz += z
            vx += dx
            vy += dy
            vz += dz
        pos[b, 0] = px
        pos[b, 1] = py
        pos[b, 2] = pz
        vel[b, 0] = vx
        vel[b, 1] = vy
        vel[b, 2] = vz


@numba.njit(cache=True)
def body_posvel_many(coef, seg_i, seg_f, body_chain, b, jd1, jd2):
    """Barycentric state of body ``b`` at many times (vectorised wrapper).

    Parameters
    ----------
    coef, seg_i, seg_f, body_chain : ndarray
        Packed tables (see the module docstring).
    b : int
        Body index (row of ``body_chain``).
    jd1, jd2 : ndarray, shape (n,)
        Two-part TDB Julian dates [day], all inside the tables (not checked).

    Returns
    -------
    pos, vel : ndarray, shape (n, 3)
        Barycentric positions [au] and velocities [au/day].
    """
    n = jd1.shape[0]
    pos = np.empty((n, 3))
    vel = np.empty((n, 3))
    for i in range(n):
        body_posvel(coef, seg_i, seg_f, body_chain, b, jd1[i], jd2[i], pos[i], vel[i])
    return pos, vel
