"""15th-order Gauss-Radau integrator (IAS15) for test particles (float64, numba).

Everhart (1985), "An efficient integrator that uses Gauss-Radau spacings", and
Rein & Spiegel (2015), MNRAS 446, 1424: the acceleration over a step is the
polynomial a(h) = a0 + sum_k b_k h^(k+1) (h in [0, 1]) fitted at the 7 Gauss-Radau
nodes by a predictor-corrector iteration; the step size follows the PRS23 criterion
(Pham, Rein & Spiegel 2024), as in REBOUND's default IAS15 since 2024.

Each particle is integrated independently with its own adaptive steps (the batch
runs in parallel over particles), so one clone's deep encounter never forces small
steps on the others. Every accepted step also yields a dense output (the same
polynomial) on which the kernel

* interpolates the states at the requested output times, and
* finds every minimum of the distance to the requested bodies inside the step,
  as the root of the range-rate rho . rho_dot (Illinois regula falsi on the dense
  output; never a sampled minimum).

The step sequence does not depend on the requested end time: the last step is not
shortened to land on it (it is only bounded by ``t_limit``, the end of the
ephemeris tables), and the end state comes from the dense output like every other
output. A run to t and a run to a grid containing t therefore give the same state
at t, bit for bit.

Variational equations. Each particle carries K rows of (position, velocity): row 0
is the particle, rows 1..K-1 are first-order variations dx, dv with
d(dv)/dt = (d a / d r) dx + (d a / d v) dv [+ d a / d A_k for a row forced by
parameter k] (the tangent linear model of Milani & Gronchi 2010, ch. 6), integrated
with the same Gauss-Radau polynomials and steps. The step size and the
predictor-corrector convergence are controlled by row 0 alone (as REBOUND does for
variational particles), so the particle's own trajectory is bit-identical with and
without its variations.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from numba.core import types as _nbtypes
from numba.extending import overload

from ._jitopts import inner_njit
from . import _warm
from . import forces as _forces
from numba.core.types.function_type import WrapperAddressProtocol
from numba.experimental.function_type import _get_wrapper_address
from .chebyshev import body_posvel
from .forces import JAC_COLS

__all__ = ["integrate", "integrate_serial", "integrate_parallel", "PARALLEL_MIN_PARTICLES",
           "NO_FORCING", "ST_OK", "ST_MAX_STEPS", "ST_STEP_UNDERFLOW", "ST_NONFINITE",
           "ST_EVENT_OVERFLOW", "ST_IMPACT", "EV_COLS", "EV_MINIMUM", "EV_IMPACT"]

ST_OK = 0
ST_MAX_STEPS = 1
ST_STEP_UNDERFLOW = 2
ST_NONFINITE = 3
ST_EVENT_OVERFLOW = 4
#: Not a failure: the particle reached a body's surface (``ev_rimp``) and stopped there.
ST_IMPACT = 5

#: Columns of one event record: body slot, t [day since jd0], distance [au],
#: relative position (3) [au] and velocity (3) [au/day] w.r.t. the body, kind.
EV_COLS = 10
#: Kinds of event (column 9): a minimum of the distance, or the entry through a
#: body's impact radius (the last event of a particle that hits).
EV_MINIMUM = 0.0
EV_IMPACT = 1.0

# Gauss-Radau nodes on [0, 1] (h_0 = 0 is the step start).
_H = np.array([0.0, 0.0562625605369221464656521910318, 0.180240691736892364987579942780,
               0.352624717113169637373907769648, 0.547153626330555383001448554766,
               0.734210177215410531523210605558, 0.885320946839095768090359771030,
               0.977520613561287501891174488626])


def _coefficient_tables() -> tuple[np.ndarray, np.ndarray]:
    """C[j, k]: coefficient of h^(k+1) in prod_{i=0..j} (h - h_i), so b = C^T g;
    D = C^{-1} gives g from b. Both computed from the nodes, in float64."""
    C = np.zeros((7, 7))
    for j in range(7):
        poly = np.array([1.0])  # coefficients, highest power first
        for i in range(j + 1):
            poly = np.polymul(poly, np.array([1.0, -_H[i]]))
        # poly has degree j+1; coefficient of h^(k+1) is poly[-(k+2)]
        for k in range(j + 1):
            C[j, k] = poly[-(k + 2)]
    D = np.linalg.inv(C)
    return C, D


_C, _D = _coefficient_tables()
# Binomial predictor of the next step's b from the last one (Everhart 1985, eq. 2.12).
_BINOM = np.array([[math.comb(j + 1, k + 1) for j in range(7)] for k in range(7)], dtype=np.float64)

_EPS_PC = 1e-16
_SAFETY = 0.25
# Reject a step when the controller asks for less than half of it. REBOUND rejects below
# 0.25 only; a step accepted at 0.26 is ~4x too long, and its dense output (stage order 8,
# unlike the order-15 end point) was 274 m off two days before the 2029 flyby at
# epsilon = 1e-9 (benchmarks/convergence_study.py). 0.5 costs < 1% more steps.
_REJECT = 0.5
_MAX_PC_ITER = 12
#: ``forcing`` entry of a variational row that no parameter drives (and of row 0).
NO_FORCING = -1


# Element loops instead of ``dst[...] = src``: numba's array-to-array setitem
# compiles its broadcasting and its error messages (string building) at every
# site, which was ~4 s of the integrator's first compile.
@inner_njit(error_model="numpy")
def _copy2(src, dst):
    """dst[:, :] = src for same-shape 2-d arrays."""
    for i in range(src.shape[0]):
        for j in range(src.shape[1]):
            dst[i, j] = src[i, j]


@inner_njit(error_model="numpy")
def _copy3(src, dst):
    """dst[:, :, :] = src for same-shape 3-d arrays."""
    for i in range(src.shape[0]):
        for j in range(src.shape[1]):
            for k in range(src.shape[2]):
                dst[i, j, k] = src[i, j, k]


@inner_njit(error_model="numpy")
def _zero3(a):
    """a[:, :, :] = 0.0 (element loops: a slice fill compiles numba's broadcasting)."""
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            for k in range(a.shape[2]):
                a[i, j, k] = 0.0


@inner_njit(error_model="numpy")
def _dense(x0, v0, a0, b, dt, h, nr, xout, vout):
    """Positions (xout) and velocities (vout) of rows 0..nr-1 at fraction h of the step
    (the Gauss-Radau polynomial and its derivative). One kernel for both: every
    caller needs both, and each jitted function costs its own compilation."""
    for r in range(nr):
        for k in range(3):
            s = (((((((b[6, r, k] * 7.0 * h / 9.0 + b[5, r, k]) * 3.0 * h / 4.0 + b[4, r, k])
                     * 5.0 * h / 7.0 + b[3, r, k]) * 2.0 * h / 3.0 + b[2, r, k]) * 3.0 * h / 5.0
                   + b[1, r, k]) * h / 2.0 + b[0, r, k]) * h / 3.0 + a0[r, k])
            xout[r, k] = x0[r, k] + (s * dt * h / 2.0 + v0[r, k]) * dt * h
    for r in range(nr):
        for k in range(3):
            s = ((((((b[6, r, k] * 7.0 * h / 8.0 + b[5, r, k]) * 6.0 * h / 7.0 + b[4, r, k])
                    * 5.0 * h / 6.0 + b[3, r, k]) * 4.0 * h / 5.0 + b[2, r, k]) * 3.0 * h / 4.0
                  + b[1, r, k]) * 2.0 * h / 3.0 + b[0, r, k]) * h / 2.0 + a0[r, k]
            vout[r, k] = v0[r, k] + s * dt * h


def _scratch(forcing, shape):
    """A zeroed float64 array of ``shape`` when ``forcing`` is an array (a run with
    variational rows), None when ``forcing`` is None. Jitted code only."""
    raise NotImplementedError("_scratch is for numba-compiled code")


@overload(_scratch)
def _scratch_typed(forcing, shape):
    # Chosen from the type, at compile time: the no-variations kernel gets None for
    # its Jacobian buffers, and every ``if jac is not None`` branch below (and in
    # forces.accel) is pruned before typing, so it compiles no Jacobian code.
    if isinstance(forcing, _nbtypes.NoneType):
        return lambda forcing, shape: None
    return lambda forcing, shape: np.zeros(shape)


@inner_njit(error_model="numpy")
def _variational_accel(jac, xs, vs, forcing, at):
    """Rows 1..K-1: d a_r = J_r dx_r + J_v dv_r (+ d a / d A_k for a forced row)."""
    for r in range(1, xs.shape[0]):
        f = forcing[r]
        for i in range(3):
            s = 0.0
            for j in range(3):
                s += jac[i, j] * xs[r, j] + jac[i, 3 + j] * vs[r, j]
            if f >= 0:
                s += jac[i, 6 + f]
            at[r, i] = s


@inner_njit(error_model="numpy")
def _correct(at, a0, g, b, r, k, n, h):
    """Gauss-Radau corrector for row r, axis k at node n (fraction h of the step):
    update g[n-1] from the new acceleration by divided differences and b from g
    (Everhart 1985); returns the change of g[n-1] (the convergence measure)."""
    val = (at[r, k] - a0[r, k]) / h
    for j in range(n - 1):
        val = (val - g[j, r, k]) / (h - _H[j + 1])
    delta = val - g[n - 1, r, k]
    g[n - 1, r, k] = val
    for m in range(n):
        b[m, r, k] += delta * _C[n - 1, m]
    return delta


@inner_njit(error_model="numpy")
def _converge_variations(x0, v0, a0, b, g, dt, jacs, forcing, xs, vs, at):
    """Finish the predictor-corrector iteration of the variational rows (1..K-1).

    The main iteration stops when row 0 has converged, which can leave the
    variational rows short of convergence where they respond more slowly (seen
    through the 2029 flyby with relativity on and steps accepted down to a quarter
    of the controller's request: 1e-7 relative in the STM, whatever epsilon; with
    the present rejection threshold the main iteration happens to suffice, and this
    costs no force evaluation). Row 0 is final here, so the Jacobians at its
    substeps (``jacs``) are too, and the variations obey a linear system: iterate
    it alone until its own b6 correction stops shrinking or falls below the
    round-off of its accelerations.
    """
    nrow = x0.shape[0]
    db6 = np.zeros(nrow)
    amax = np.zeros(nrow)
    err_last = 3.0
    err = 2.0
    for it in range(_MAX_PC_ITER):
        if err < _EPS_PC or (it > 1 and err_last <= err):
            break
        err_last = err
        db6[:] = 0.0
        amax[:] = 0.0
        for n in range(1, 8):
            h = _H[n]
            _dense(x0, v0, a0, b, dt, h, nrow, xs, vs)
            _variational_accel(jacs[n - 1], xs, vs, forcing, at)
            for r in range(1, nrow):
                for k in range(3):
                    delta = _correct(at, a0, g, b, r, k, n, h)
                    if n == 7:
                        db6[r] = max(db6[r], abs(delta))
                        amax[r] = max(amax[r], abs(at[r, k]))
        # Each row relative to its own scale (STM columns and parameter partials
        # differ by orders of magnitude).
        err = 0.0
        for r in range(1, nrow):
            if amax[r] > 0.0:
                err = max(err, db6[r] / amax[r])


@inner_njit(error_model="numpy")
def _range_rate(x0, v0, a0, b, t, dt, h, jd0, tabs, body, xp, vp, bp, bv, posvel_fn):
    """rho . rho_dot of the particle (row 0) w.r.t. table body ``body`` at fraction h;
    fills xp, vp (particle, row 0) and bp, bv (body)."""
    # np.int64(1), not the literal 1: a literal would compile a second
    # specialisation of _dense (Literal[int](1)) for this call site.
    _dense(x0, v0, a0, b, dt, h, np.int64(1), xp, vp)
    posvel_fn(tabs[0], tabs[1], tabs[2], tabs[3], body, jd0, t + h * dt, bp, bv)
    return ((xp[0, 0] - bp[0]) * (vp[0, 0] - bv[0]) + (xp[0, 1] - bp[1]) * (vp[0, 1] - bv[1])
            + (xp[0, 2] - bp[2]) * (vp[0, 2] - bv[2]))


@inner_njit(error_model="numpy")
def _dist(xp, bp):
    """|particle (row 0) - body| from the arrays _range_rate fills."""
    dx = xp[0, 0] - bp[0]
    dy = xp[0, 1] - bp[1]
    dz = xp[0, 2] - bp[2]
    return math.sqrt(dx * dx + dy * dy + dz * dz)


@inner_njit(error_model="numpy")
def _record(x0, v0, a0, b, t, dt, h, jd0, tabs, body, slot, kind, nrow, xp, vp, bp, bv, xs, vs,
            ev, rows, posvel_fn):
    """Write one event record ``ev`` (and, when ``rows`` has a slot, every row's state
    into ``rows[0]``) at fraction h."""
    _range_rate(x0, v0, a0, b, t, dt, h, jd0, tabs, body, xp, vp, bp, bv, posvel_fn)
    ev[0] = slot
    ev[1] = t + h * dt
    ev[2] = _dist(xp, bp)
    for k in range(3):
        ev[3 + k] = xp[0, k] - bp[k]
        ev[6 + k] = vp[0, k] - bv[k]
    ev[9] = kind
    if rows.shape[0] > 0:
        # every row (the variations too) at the event
        _dense(x0, v0, a0, b, dt, h, nrow, xs, vs)
        for r in range(nrow):
            for k in range(3):
                rows[0, r, k] = xs[r, k]
                rows[0, r, 3 + k] = vs[r, k]


@nb.njit(cache=True, error_model="numpy")
def _integrate_one(accel_fn, posvel_fn, jd0, t0, x_init, v_init, t_end, t_limit, out_t, flags, gm, n_bodies, ng,
                   consts, tabs, eps, dt_init, max_steps, forcing, ev_bodies, ev_rmax, ev_rimp,
                   x_out, v_out, x_end, v_end, ev_buf, ev_rows, info):
    """Integrate one particle (K rows) from t0 to t_end [days since jd0]; see :func:`integrate`."""
    nbt = tabs[3].shape[0]
    nrow = x_init.shape[0]
    work = np.zeros((nbt, 10))
    # None (and no Jacobian code compiled) when ``forcing`` is None: no variations.
    jac = _scratch(forcing, (3, JAC_COLS))
    jacs = _scratch(forcing, (7, 3, JAC_COLS))  # Jacobians at the 7 substeps of the step
    x0 = np.zeros((nrow, 3))
    v0 = np.zeros((nrow, 3))
    _copy2(x_init, x0)
    _copy2(v_init, v0)
    csx = np.zeros((nrow, 3))  # Kahan compensation of x0, v0 and t
    csv = np.zeros((nrow, 3))
    t = t0
    cst = 0.0
    direction = 1.0 if t_end >= t0 else -1.0
    a0 = np.zeros((nrow, 3))
    at = np.zeros((nrow, 3))
    xs = np.zeros((nrow, 3))
    vs = np.zeros((nrow, 3))
    b = np.zeros((7, nrow, 3))
    g = np.zeros((7, nrow, 3))
    e = np.zeros((7, nrow, 3))      # prediction made for the current step
    br = np.zeros((7, nrow, 3))     # b of the last accepted step
    er = np.zeros((7, nrow, 3))     # prediction that was made for the last accepted step
    tmp7 = np.zeros((7, nrow, 3))
    xp = np.zeros((nrow, 3))
    vp = np.zeros((nrow, 3))
    bp = np.zeros(3)
    bv = np.zeros(3)
    n_ev_bodies = ev_bodies.shape[0]
    f_start = np.zeros(n_ev_bodies)
    d_start = np.zeros(n_ev_bodies)
    d_stop = np.zeros(n_ev_bodies)
    d_min = np.zeros(n_ev_bodies)
    h_min = np.zeros(n_ev_bodies)
    n_out = out_t.shape[0]
    i_out = 0
    # Outputs at the start.
    while i_out < n_out and (out_t[i_out] - t0) * direction <= 0.0:
        _copy2(x0, x_out[i_out])
        _copy2(v0, v_out[i_out])
        i_out += 1
    _copy2(x0, x_end)
    _copy2(v0, v_end)
    dt = direction * abs(dt_init)
    dt_last_done = 0.0
    n_steps = 0
    n_reject = 0
    n_ev = 0
    status = ST_OK
    max_ev = ev_buf.shape[0]
    finished = not ((t_end - t) * direction > 0.0)

    while not finished:
        if n_steps >= max_steps:
            status = ST_MAX_STEPS
            break
        # Never past the end of the ephemeris tables (the requested end is reached
        # on the dense output, not by shortening the step).
        if (t + dt - t_limit) * direction > 0.0:
            dt = t_limit - t
            if dt == 0.0:
                status = ST_STEP_UNDERFLOW  # t_limit before t_end: a caller error
                break
        # Row 0 from the force model; the variational rows from its Jacobian,
        # d a_r = J_r dx_r + J_v dv_r (+ d a / d A_k when forced). Called here, not
        # through a helper: each level of jitted calls re-optimises and re-emits the
        # whole force model below it on a first compile.
        accel_fn(jd0, t, x0[0], v0[0], flags, gm, n_bodies, ng, consts, tabs, work, a0[0], jac,
              nrow > 1)
        if forcing is not None:
            _variational_accel(jac, x0, v0, forcing, a0)
        if not (math.isfinite(a0[0, 0]) and math.isfinite(a0[0, 1])
                and math.isfinite(a0[0, 2])):
            status = ST_NONFINITE
            break
        # g from the (predicted) b.
        for j in range(7):
            for r in range(nrow):
                for k in range(3):
                    s = 0.0
                    for m in range(j, 7):
                        s += _D[m, j] * b[m, r, k]
                    g[j, r, k] = s
        # Predictor-corrector iteration (convergence judged on row 0).
        pc_err = 2.0
        pc_err_last = 3.0
        it = 0
        while True:
            if pc_err < _EPS_PC:
                break
            if it > 2 and pc_err_last <= pc_err:
                break
            if it >= _MAX_PC_ITER:
                break
            pc_err_last = pc_err
            it += 1
            max_db6 = 0.0
            max_at = 0.0
            for n in range(1, 8):
                h = _H[n]
                _dense(x0, v0, a0, b, dt, h, nrow, xs, vs)
                accel_fn(jd0, t + h * dt, xs[0], vs[0], flags, gm, n_bodies, ng, consts, tabs,
                      work, at[0], jac, nrow > 1)
                if forcing is not None:
                    _variational_accel(jac, xs, vs, forcing, at)
                if forcing is not None:  # pruned at compile time (an argument, not jacs)
                    if nrow > 1:
                        _copy2(jac, jacs[n - 1])
                for r in range(nrow):
                    for k in range(3):
                        delta = _correct(at, a0, g, b, r, k, n, h)
                        if n == 7 and r == 0:
                            if abs(delta) > max_db6:
                                max_db6 = abs(delta)
                            if abs(at[0, k]) > max_at:
                                max_at = abs(at[0, k])
            pc_err = max_db6 / max_at if max_at > 0.0 else 0.0
        if forcing is not None:
            if nrow > 1:
                _converge_variations(x0, v0, a0, b, g, dt, jacs, forcing, xs, vs, at)

        # New step size from the PRS23 criterion (Pham, Rein & Spiegel 2024, OJAp 7):
        # the timescale sqrt(2 |a|^2 / (|jerk|^2 + |a| |snap|)) of the end-of-step
        # acceleration of row 0, from the low-order coefficients. Unlike Rein &
        # Spiegel's |b6| / |a|, it is not swamped by round-off when the relative
        # position to a close body is small compared with the barycentric coordinates.
        y2 = 0.0
        y3 = 0.0
        y4 = 0.0
        for k in range(3):
            s = (a0[0, k] + b[0, 0, k] + b[1, 0, k] + b[2, 0, k] + b[3, 0, k] + b[4, 0, k]
                 + b[5, 0, k] + b[6, 0, k])
            y2 += s * s
            s = (b[0, 0, k] + 2.0 * b[1, 0, k] + 3.0 * b[2, 0, k] + 4.0 * b[3, 0, k]
                 + 5.0 * b[4, 0, k] + 6.0 * b[5, 0, k] + 7.0 * b[6, 0, k])
            y3 += s * s
            s = (2.0 * b[1, 0, k] + 6.0 * b[2, 0, k] + 12.0 * b[3, 0, k] + 20.0 * b[4, 0, k]
                 + 30.0 * b[5, 0, k] + 42.0 * b[6, 0, k])
            y4 += s * s
        dt_done = dt
        ts2 = 2.0 * y2 / (y3 + math.sqrt(y4 * y2))
        if ts2 > 0.0 and math.isfinite(ts2):
            dt_new = math.sqrt(ts2) * dt_done * (eps * 5040.0) ** (1.0 / 7.0)
        elif math.isfinite(y2):
            dt_new = dt_done / _SAFETY
        else:
            status = ST_NONFINITE
            break
        if abs(dt_new) < 1e-12 * max(1.0, abs(t)):
            status = ST_STEP_UNDERFLOW
            break
        if abs(dt_new / dt_done) < _REJECT:
            # Reject: retry with the smaller step, b predicted from the last accepted step.
            n_reject += 1
            dt = dt_new
            if dt_last_done != 0.0:
                _predict(br, er, dt / dt_last_done, b, e, tmp7)
            else:
                _zero3(b)
            continue
        if abs(dt_new / dt_done) > 1.0 / _SAFETY:
            dt_new = dt_done / _SAFETY

        # ---- accepted step: events and outputs on the dense output, up to t_end -----
        h_end = (t_end - t) / dt_done
        finished = h_end <= 1.0
        h_stop = h_end if finished else 1.0
        # Pass 1: the minimum of the distance to each event body inside this step.
        for q in range(n_ev_bodies):
            f_start[q] = _range_rate(x0, v0, a0, b, t, dt_done, 0.0, jd0, tabs, ev_bodies[q],
                                     xp, vp, bp, bv, posvel_fn) * direction
            d_start[q] = _dist(xp, bp)
        for q in range(n_ev_bodies):
            f1 = _range_rate(x0, v0, a0, b, t, dt_done, 1.0, jd0, tabs, ev_bodies[q],
                             xp, vp, bp, bv, posvel_fn) * direction
            d_stop[q] = _dist(xp, bp)
            f0 = f_start[q]
            h_min[q] = -1.0
            if f0 < 0.0 and f1 >= 0.0:
                # Illinois regula falsi for the root of rho . rho_dot in h.
                lo, hi = 0.0, 1.0
                flo, fhi = f0, f1
                side = 0
                hm = 1.0
                for _ in range(100):
                    hm = (lo * fhi - hi * flo) / (fhi - flo)
                    if not (lo < hm < hi):
                        hm = 0.5 * (lo + hi)
                    fm = _range_rate(x0, v0, a0, b, t, dt_done, hm, jd0, tabs, ev_bodies[q],
                                     xp, vp, bp, bv, posvel_fn) * direction
                    if fm == 0.0 or (hi - lo) * abs(dt_done) < 1e-13:
                        break
                    if fm < 0.0:
                        lo, flo = hm, fm
                        if side == -1:
                            fhi *= 0.5
                        side = -1
                    else:
                        hi, fhi = hm, fm
                        if side == 1:
                            flo *= 0.5
                        side = 1
                h_min[q] = hm
                _range_rate(x0, v0, a0, b, t, dt_done, hm, jd0, tabs, ev_bodies[q],
                            xp, vp, bp, bv, posvel_fn)
                d_min[q] = _dist(xp, bp)
        # Pass 2: the first entry through an impact radius in this step, if any (from
        # outside at the step start; a particle inside at its start is the caller's).
        q_imp = -1
        h_imp = 2.0
        for q in range(n_ev_bodies):
            rq = ev_rimp[q]
            if rq <= 0.0 or d_start[q] <= rq:
                continue
            h_hi = -1.0
            if d_stop[q] <= rq:
                h_hi = 1.0
            elif h_min[q] >= 0.0 and d_min[q] <= rq:
                h_hi = h_min[q]
            if h_hi < 0.0:
                continue
            lo, hi = 0.0, h_hi  # bisection of |rho(h)| - R: outside at lo, inside at hi
            for _ in range(200):
                if (hi - lo) * abs(dt_done) < 1e-13:
                    break
                hm = 0.5 * (lo + hi)
                _range_rate(x0, v0, a0, b, t, dt_done, hm, jd0, tabs, ev_bodies[q],
                            xp, vp, bp, bv, posvel_fn)
                if _dist(xp, bp) > rq:
                    lo = hm
                else:
                    hi = hm
            if hi < h_imp and hi <= h_stop:
                h_imp = hi
                q_imp = q
        if q_imp >= 0:
            h_stop = h_imp
            h_end = h_imp
            finished = True
            status = ST_IMPACT
        # Pass 3: record the minima up to the end (or the impact), then the impact, from
        # one call site (one compiled specialisation of _record, not one per site).
        for qq in range(n_ev_bodies + 1):
            if qq < n_ev_bodies:
                q = qq
                hm = h_min[q]
                if hm < 0.0 or hm > h_stop:
                    continue  # no minimum, or after the requested end / the impact
                if q_imp >= 0 and hm == h_stop:
                    continue
                if d_min[q] > ev_rmax[q]:
                    continue
                kind = EV_MINIMUM
            else:
                if q_imp < 0:
                    break
                q = q_imp
                hm = h_imp
                kind = EV_IMPACT
            if n_ev < max_ev:
                _record(x0, v0, a0, b, t, dt_done, hm, jd0, tabs, ev_bodies[q], q, kind, nrow,
                        xp, vp, bp, bv, xs, vs, ev_buf[n_ev], ev_rows[n_ev:n_ev + 1],
                        posvel_fn)
            n_ev += 1
        while i_out < n_out and (out_t[i_out] - (t + h_stop * dt_done)) * direction <= 0.0:
            h = (out_t[i_out] - t) / dt_done
            _dense(x0, v0, a0, b, dt_done, h, nrow, xp, vp)
            _copy2(xp, x_out[i_out])
            _copy2(vp, v_out[i_out])
            i_out += 1
        if finished:
            _dense(x0, v0, a0, b, dt_done, h_end, nrow, x_end, v_end)

        # ---- advance (compensated summation) --------------------------------------
        for r in range(nrow):
            for k in range(3):
                dx_k = dt_done * v0[r, k] + dt_done * dt_done * (
                    a0[r, k] / 2.0 + b[0, r, k] / 6.0 + b[1, r, k] / 12.0 + b[2, r, k] / 20.0
                    + b[3, r, k] / 30.0 + b[4, r, k] / 42.0 + b[5, r, k] / 56.0
                    + b[6, r, k] / 72.0)
                y = dx_k - csx[r, k]
                s = x0[r, k] + y
                csx[r, k] = (s - x0[r, k]) - y
                x0[r, k] = s
                dv_k = dt_done * (a0[r, k] + b[0, r, k] / 2.0 + b[1, r, k] / 3.0
                                  + b[2, r, k] / 4.0 + b[3, r, k] / 5.0 + b[4, r, k] / 6.0
                                  + b[5, r, k] / 7.0 + b[6, r, k] / 8.0)
                y = dv_k - csv[r, k]
                s = v0[r, k] + y
                csv[r, k] = (s - v0[r, k]) - y
                v0[r, k] = s
        y = dt_done - cst
        s = t + y
        cst = (s - t) - y
        t = s
        n_steps += 1
        dt_last_done = dt_done
        dt = dt_new
        _copy3(b, br)
        _copy3(e, er)
        _predict(br, er, dt / dt_last_done, b, e, tmp7)

    if n_ev > max_ev and (status == ST_OK or status == ST_IMPACT):
        status = ST_EVENT_OVERFLOW
    info[0] = status
    info[1] = n_steps
    info[2] = n_reject
    info[3] = n_ev


@inner_njit(error_model="numpy")
def _predict(br, er, ratio, b, e, tmp7):
    """Predict b (and record the prediction in e) for a step ``ratio`` times the last one,
    from the last accepted step's polynomial (Everhart 1985): the new coefficients are
    the binomial re-expansion of the old polynomial, plus the last correction b - e."""
    if ratio > 20.0 or ratio < -20.0:
        _zero3(b)
        _zero3(e)
        return
    nrow = b.shape[1]
    for j in range(7):
        q = ratio ** (j + 1)
        for r in range(nrow):
            for k in range(3):
                s = 0.0
                for m in range(j, 7):
                    s += _BINOM[j, m] * br[m, r, k]
                tmp7[j, r, k] = q * s
    for j in range(7):
        for r in range(nrow):
            for k in range(3):
                b[j, r, k] = tmp7[j, r, k] + (br[j, r, k] - er[j, r, k])
                e[j, r, k] = tmp7[j, r, k]


@nb.njit(cache=True, error_model="numpy")
def integrate_serial(accel_fn, posvel_fn, jd0, t0, x_init, v_init, t_end, t_limit, out_t, flags, gm, n_bodies, ng,
                     consts, tabs, eps, dt_init, max_steps, forcing, ev_bodies, ev_rmax, ev_rimp,
                     x_out, v_out, x_end, v_end, ev_buf, ev_rows, info):
    """:func:`integrate` one particle after the other, in this thread.

    Same arguments and results, bit for bit (each particle has its own integrator
    either way). For one or a few particles: a ``parallel=True`` kernel costs about
    twice the compile time of this one (parfor lowering and a second optimisation
    of the whole integrator inside the gufunc) and gains nothing for N = 1.
    """
    for i in range(x_init.shape[0]):
        _integrate_one(accel_fn, posvel_fn, jd0, t0, x_init[i], v_init[i], t_end[i], t_limit, out_t, flags, gm,
                       n_bodies, ng[i], consts, tabs, eps, dt_init, max_steps, forcing,
                       ev_bodies, ev_rmax, ev_rimp, x_out[i], v_out[i], x_end[i], v_end[i],
                       ev_buf[i], ev_rows[i], info[i])


@nb.njit(cache=True, parallel=True, error_model="numpy")
def integrate_parallel(accel_fn, posvel_fn, jd0, t0, x_init, v_init, t_end, t_limit, out_t, flags, gm, n_bodies, ng,
                       consts, tabs, eps, dt_init, max_steps, forcing, ev_bodies, ev_rmax,
                       ev_rimp, x_out, v_out, x_end, v_end, ev_buf, ev_rows, info):
    """:func:`integrate` with the particles spread over numba's threads (``prange``)."""
    n = x_init.shape[0]
    for i in nb.prange(n):
        _integrate_one(accel_fn, posvel_fn, jd0, t0, x_init[i], v_init[i], t_end[i], t_limit, out_t, flags, gm,
                       n_bodies, ng[i], consts, tabs, eps, dt_init, max_steps, forcing,
                       ev_bodies, ev_rmax, ev_rimp, x_out[i], v_out[i], x_end[i], v_end[i],
                       ev_buf[i], ev_rows[i], info[i])


class _KernelPointer(WrapperAddressProtocol):
    """A jitted kernel passed to the integrator as a function pointer.

    The integrator calls the force model (:func:`~apophis_sim._core.forces.accel`) and
    the ephemeris (:func:`~apophis_sim._core.chebyshev.body_posvel`) through pointers
    instead of linking them in, so that numba compiles the integrator without them
    (a linked callee is re-typed, re-optimised and re-emitted in every caller), and
    they can be compiled at the same time in another process (:mod:`._warm`). A call
    through a pointer costs nothing measurable next to what these functions do.
    """

    def __init__(self, dispatcher, sig, job: str):
        self._dispatcher = dispatcher
        self._sig = sig
        self._job = job

    def signature(self):
        return self._sig

    def __wrapper_address__(self):
        _warm.wait(self._job)
        return _get_wrapper_address(self._dispatcher, self._sig)


_F8_1 = nb.types.float64[::1]
_TABS = (nb.types.float64[::1], nb.types.int64[:, ::1], nb.types.float64[:, ::1],
         nb.types.int64[:, ::1])


def _accel_signature(variations: bool, gm_t, ng_t, consts_t, tabs_t):
    jac = nb.types.float64[:, ::1] if variations else nb.types.none
    return nb.types.void(nb.types.float64, nb.types.float64, _F8_1, _F8_1, nb.types.int64,
                         gm_t, nb.types.int64, ng_t, consts_t, tabs_t,
                         nb.types.float64[:, ::1], _F8_1, jac, nb.types.boolean)


def _posvel_signature(tabs_t):
    return nb.types.void(*tabs_t.types, nb.types.int64, nb.types.float64, nb.types.float64,
                         _F8_1, _F8_1)


def canonical_signature(job: str):
    """The signature with which the kernels call ``job``'s function ("posvel",
    "accel" or "accel-variations"), for the arrays :mod:`apophis_sim.nbody` passes
    (C-contiguous float64 and int64 tables)."""
    tabs_t = nb.types.Tuple(_TABS)
    if job == "posvel":
        return _posvel_signature(tabs_t)
    return _accel_signature(job == "accel-variations", _F8_1, _F8_1, _F8_1, tabs_t)


def _pointers(forcing, gm, ng, consts, tabs) -> tuple[_KernelPointer, _KernelPointer]:
    """The force model and ephemeris pointers for these arguments; starts compiling
    them in a child process when they are neither compiled nor cached."""
    job = "accel" if forcing is None else "accel-variations"
    tabs_t = nb.typeof(tabs)
    sig_a = _accel_signature(forcing is not None, nb.typeof(gm), nb.typeof(ng[0]),
                             nb.typeof(consts), tabs_t)
    sig_p = _posvel_signature(tabs_t)
    if sig_a == canonical_signature(job) and sig_p == canonical_signature("posvel"):
        _warm.start(("posvel", job))  # no-op when compiled or cached already
    return (_KernelPointer(_forces.accel, sig_a, job),
            _KernelPointer(body_posvel, sig_p, "posvel"))


#: Below this many particles :func:`integrate` runs :func:`_integrate_one` for each
#: particle from Python: the threads cannot pay for the parallel kernel's compile (a
#: first call of ``apophis-sim flyby`` compiled for ~50 s CPU instead of ~20 s), and
#: a jitted loop around it (:func:`integrate_serial`) would cost one more compilation
#: of the whole integrator (numba re-optimises and re-emits every callee inside
#: each caller), ~3 s of a first run.
PARALLEL_MIN_PARTICLES = 2


def integrate(jd0, t0, x_init, v_init, t_end, t_limit, out_t, flags, gm, n_bodies, ng, consts,
              tabs, eps, dt_init, max_steps, forcing, ev_bodies, ev_rmax, ev_rimp, x_out, v_out,
              x_end, v_end, ev_buf, ev_rows, info):
    """Integrate N test particles (one IAS15 per particle), each with K rows
    (the particle and K - 1 variational rows); in parallel over particles from
    :data:`PARALLEL_MIN_PARTICLES` on, else serially (the same results, bit for bit).

    Parameters
    ----------
    jd0 : float
        Time origin, TDB Julian date (times below are days since jd0; the
        ephemeris is evaluated at the two-part date (jd0, t)).
    t0 : float
        Start time of every particle [day since jd0].
    x_init, v_init : (N, K, 3)
        Row 0: barycentric ICRF states at t0 [au, au/day]; rows 1..K-1: initial
        variations (e.g. unit vectors for the state transition matrix, zero for
        parameter partials).
    t_end : (N,)
        End time of each particle [day since jd0], either sign.
    t_limit : float
        No step goes beyond this time [day since jd0] (the end of the ephemeris
        tables, on the far side of every ``t_end``).
    out_t : (M,)
        Output times, sorted in the direction of integration, between t0 and t_end.
    flags, gm, n_bodies, ng (N, 3), consts, tabs
        Force model, see :func:`apophis_sim._core.forces.accel`.
    eps : float
        IAS15 precision parameter.
    dt_init : float
        First trial step [day]; the controller adapts it from the first step on.
    max_steps : int
        Per particle; exceeding it sets ``ST_MAX_STEPS``.
    forcing : (K,) int64
        For each row, the index (0, 1, 2 for A1, A2, A3) of the parameter whose
        partial forces it, or ``NO_FORCING``. Ignored for K = 1 (the kernels then run
        with ``forcing=None``, a specialisation without the variational code).
    ev_bodies : (E,) int
        Table indices of the bodies whose close approaches are recorded.
    ev_rmax : (E,)
        Record an approach only when the minimum distance is below this [au].
    ev_rimp : (E,)
        Impact radius of each event body [au], 0 for none: a particle whose distance
        falls below it stops at the crossing (found on the dense output of the step
        that contains it, to < 1e-13 day), records an ``EV_IMPACT`` event there, ends
        with ``ST_IMPACT`` and has ``x_end, v_end`` at the crossing (outputs after
        it are left unwritten).
    x_out, v_out : (N, M, K, 3)
        States and variations at ``out_t`` (written).
    x_end, v_end : (N, K, 3)
        At ``t_end`` (written).
    ev_buf : (N, B, EV_COLS)
        Close-approach records of row 0 (written; B is the capacity per particle).
    ev_rows : (N, B, K, 6) or (N, 0, K, 6)
        Every row's barycentric position and velocity at each recorded approach
        (written when its second axis is not empty: the STM at the approach).
    info : (N, 4) int64
        status, accepted steps, rejected steps, number of approaches found (written).
        No exception is raised: the caller turns the status into a typed error.
    """
    if x_init.shape[1] == 1:
        # No variational rows: the kernel specialised on forcing=None compiles none of
        # the Jacobian and variational code (about a third of the integrator).
        forcing = None
    n = x_init.shape[0]
    if n >= PARALLEL_MIN_PARTICLES:
        integrate_parallel(*_pointers(forcing, gm, ng, consts, tabs), jd0, t0, x_init, v_init, t_end, t_limit, out_t, flags, gm, n_bodies,
                           ng, consts, tabs, eps, dt_init, max_steps, forcing, ev_bodies,
                           ev_rmax, ev_rimp, x_out, v_out, x_end, v_end, ev_buf, ev_rows, info)
        return
    accel_fn, posvel_fn = _pointers(forcing, gm, ng, consts, tabs)
    for i in range(n):
        _integrate_one(accel_fn, posvel_fn, jd0, t0, x_init[i], v_init[i], t_end[i], t_limit, out_t, flags, gm,
                       n_bodies, ng[i], consts, tabs, eps, dt_init, max_steps, forcing,
                       ev_bodies, ev_rmax, ev_rimp, x_out[i], v_out[i], x_end[i], v_end[i],
                       ev_buf[i], ev_rows[i], info[i])
