"""JPL-grade n-body propagation of small bodies and their close approaches.

Test particles (asteroids, clones, spacecraft) move in the field of the Sun,
planets, Moon and Pluto of JPL DE440, plus the 16 SB441-N16 asteroids when the
``asteroids`` extra is installed, with general relativity (EIH), Earth's J2-J4,
the Sun's J2 and Marsden non-gravitational forces; integrated by a compiled
15th-order Gauss-Radau (IAS15) integrator, one adaptive integrator per particle.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.table import QTable
from astropy.time import Time

from . import bodies as _bodies
from ._deprecation import renamed_kwargs
from ._core import forces as _forces
from ._core import ias15 as _ias15
from .ephemeris import Ephemeris
from .errors import (ConvergenceError, EphemerisRangeError, InputError, ShapeMismatchError,
                     UnknownNameError)
from .solution import NongravModel, OrbitSolution, apophis  # noqa: F401  (apophis re-exported)
from .state import State
from .time import from_jd_tdb, to_jd_tdb, utc_iso
from .units import AU, AU_KM, DAY, to_canonical

__all__ = [
    "FORCE_NAMES",
    "OrbitSolution",
    "apophis",
    "propagate_nbody",
    "propagate_nbody_grid",
    "state_transition",
    "state_transition_grid",
    "StateTransition",
    "DEFAULT_EPSILON",
    "close_approaches",
    "resolve_forces",
]

#: Valid force-term names, in the order they are reported.
FORCE_NAMES = ("sun", "planets", "asteroids", "gr", "earth_harmonics", "sun_harmonics", "nongrav")
_FORCE_BITS = {
    "sun": _forces.F_SUN,
    "planets": _forces.F_PLANETS,
    "asteroids": _forces.F_ASTEROIDS,
    "gr": _forces.F_GR,
    "earth_harmonics": _forces.F_EARTH_HARMONICS,
    "sun_harmonics": _forces.F_SUN_HARMONICS,
    "nongrav": _forces.F_NONGRAV,
}
#: Records of close approaches kept per particle.
_MAX_EVENTS = 64
#: Default IAS15 precision parameter: converged at every output time through the
#: 2029 flyby (see tests/test_convergence.py and the validation docs).
DEFAULT_EPSILON = 1e-12
#: The ephemeris tables reach this far [day] beyond the requested interval, so that
#: the last step, which is not shortened to land on the end time, stays inside them.
_TABLE_MARGIN_DAYS = 60.0
#: Rows of a variational run: the particle, 6 STM columns, 3 non-grav partials.
_VAR_ROWS = 10


def resolve_forces(forces: Iterable[str] | None, ephemeris: Ephemeris) -> tuple[str, ...]:
    """Validate force names; ``None`` means JPL's model for Apophis (all terms,
    asteroids when the SB441-N16 file is loaded).

    Parameters
    ----------
    forces : iterable of str or None
        Names from :data:`FORCE_NAMES`, or ``None`` for the full model.
    ephemeris : Ephemeris
        The ephemeris the run uses (decides whether ``"asteroids"`` is available).

    Returns
    -------
    tuple of str
        The validated force terms.

    Raises
    ------
    UnknownNameError
        A name is not in :data:`FORCE_NAMES` (the message lists them).
    InputError
        ``"asteroids"`` requested without the SB441-N16 ephemeris.
    """
    has_asteroids = len(ephemeris.bodies) > len(_bodies.PLANETARY_NAMES)
    if forces is None:
        return tuple(f for f in FORCE_NAMES if f != "asteroids" or has_asteroids)
    if isinstance(forces, str):
        forces = (forces,)
    try:
        forces = list(forces)
    except TypeError:
        raise InputError(f"forces must be a list of force names among {FORCE_NAMES}, got "
                         f"{forces!r}") from None
    if not forces:
        raise InputError(f"forces must name at least one term (valid: {', '.join(FORCE_NAMES)});"
                         f" pass forces=None for JPL's full model")
    out = []
    for f in forces:
        name = f.lower() if isinstance(f, str) else f
        if name not in _FORCE_BITS:
            raise UnknownNameError("force", f, FORCE_NAMES, argument="forces")
        if name == "asteroids" and not has_asteroids:
            raise InputError(
                "force 'asteroids' needs the SB441-N16 ephemeris: "
                "pip install 'apophis_sim[asteroids]' or set APOPHIS_SIM_SB441")
        out.append(name)
    return tuple(f for f in FORCE_NAMES if f in out)


def _consts(ng_model: np.ndarray | None = None) -> np.ndarray:
    """The kernel's constants (:data:`apophis_sim._core.forces.N_CONSTS`)."""
    model = NongravModel().as_array() if ng_model is None else ng_model
    return np.concatenate([np.array([
        _bodies.C_AU_D,
        _bodies.EARTH_RADIUS_KM / AU_KM, _bodies.EARTH_J2, _bodies.EARTH_J3, _bodies.EARTH_J4,
        _bodies.SUN_RADIUS_KM / AU_KM, _bodies.SUN_J2, 0.0,
    ]), model])


@dataclass
class _Run:
    """Raw output of one kernel call (canonical units, SSB ICRF)."""

    jd0: float
    x_out: np.ndarray
    v_out: np.ndarray
    x_end: np.ndarray
    v_end: np.ndarray
    events: np.ndarray
    event_rows: np.ndarray
    info: np.ndarray
    forces: tuple[str, ...]
    epsilon: float
    files: tuple[str, ...]
    event_bodies: tuple[str, ...]


def _prepare(obj, nongrav, ephemeris, nongrav_model=None):
    """-> (ssb icrf State, nongrav array (N,3), ephemeris, original state, g(r) law (5,))."""
    model = NongravModel()
    if isinstance(obj, OrbitSolution):
        if nongrav is None:
            nongrav = obj.nongrav
        model = obj.nongrav_model
        obj = obj.state
    if nongrav_model is not None:
        if not isinstance(nongrav_model, NongravModel):
            raise InputError(f"nongrav_model must be an apophis_sim.NongravModel (e.g. "
                             f"NongravModel.comet()), got {type(nongrav_model).__name__}")
        model = nongrav_model
    if not isinstance(obj, State):
        raise InputError(f"state must be an apophis_sim State or OrbitSolution, got "
                         f"{type(obj).__name__}")
    eph = ephemeris if ephemeris is not None else Ephemeris.open()
    jd1, jd2 = obj.jd_tdb
    if np.ndim(jd1) and (np.ptp(jd1 + jd2) != 0.0 if np.size(jd1) else False):
        raise ShapeMismatchError(
            "n-body propagation integrates every state from one epoch; propagate the states "
            "to a common epoch first (e.g. with apophis_sim.propagate)")
    n = int(np.prod(obj.shape)) if obj.shape else 1
    if nongrav is None:
        ng = np.zeros((n, 3))
    else:
        ng_arr = to_canonical(nongrav, AU / DAY**2, "nongrav")
        if ng_arr.shape[-1:] != (3,):
            raise ShapeMismatchError(f"nongrav must have shape (..., 3) = (A1, A2, A3), got "
                                     f"{ng_arr.shape}")
        try:
            ng = np.broadcast_to(ng_arr, obj.shape + (3,)).reshape(n, 3).copy()
        except ValueError:
            raise ShapeMismatchError(f"nongrav shape {ng_arr.shape} does not broadcast with "
                                     f"the state batch shape {obj.shape}") from None
    ssb = obj.to_centre("ssb", ephemeris=eph).to_frame("icrf")
    return ssb, ng, eph, obj, model.as_array()


def _epsilon(epsilon: float | None) -> float:
    """The IAS15 precision parameter: ``None`` -> :data:`DEFAULT_EPSILON`."""
    if epsilon is None:
        return DEFAULT_EPSILON
    try:
        value = float(epsilon)
    except (TypeError, ValueError):
        raise InputError(f"epsilon must be a positive number (default {DEFAULT_EPSILON:g}), "
                         f"got {epsilon!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise InputError(f"epsilon must be a positive number (default {DEFAULT_EPSILON:g}), "
                         f"got {epsilon!r}")
    return value


def _run(ssb: State, ng: np.ndarray, eph: Ephemeris, end: tuple[float, float],
         out: tuple[np.ndarray, np.ndarray],
         forces, event_bodies: Sequence[str], event_rmax_au: float, epsilon: float | None,
         max_steps: int, progress: bool | None, ng_model: np.ndarray | None = None,
         variational: bool = False, impact_radii_au: Sequence[float] | None = None) -> _Run:
    """Integrate all particles of ``ssb`` from their common epoch to ``end`` (two-part
    TDB JD), with outputs at ``out`` (two-part TDB JDs, sorted along the motion).

    With ``variational`` every particle carries 9 variational rows (6 STM columns
    started from the identity, 3 non-grav partials started from zero); the outputs
    then have a row axis: ``x_out`` (n, m, 10, 3), ``x_end`` (n, 10, 3); without,
    (n, m, 1, 3) and (n, 1, 3).

    ``impact_radii_au`` (one per event body, 0 for none) stops a particle where it
    enters a body's radius (status ``ST_IMPACT``, an ``EV_IMPACT`` event there):
    not a failure; the caller reads ``info[:, 0]``.
    """
    eps = _epsilon(epsilon)
    if isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer)) \
            or max_steps < 1:
        raise InputError(f"max_steps must be a positive integer, got {max_steps!r}")
    jd1, jd2 = ssb.jd_tdb
    jd1 = float(np.ravel(jd1)[0])
    jd2 = float(np.ravel(jd2)[0])
    start = jd1 + jd2
    jd_end = end[0] + end[1]
    out_jd = np.asarray(out[0]) + np.asarray(out[1])
    lo = min(start, jd_end, *(out_jd.tolist() or [start])) - 1.0
    hi = max(start, jd_end, *(out_jd.tolist() or [start])) + 1.0
    eph._check_interval(lo, hi)
    # The last step overshoots the end (the end state is on its dense output): give
    # the tables a margin, within the ephemeris, and bound the steps by it.
    cov_lo, cov_hi = eph.covered
    lo = max(lo - _TABLE_MARGIN_DAYS, cov_lo)
    hi = min(hi + _TABLE_MARGIN_DAYS, cov_hi)
    tab = eph.tables(lo, hi)
    t_limit = ((hi if jd_end >= start else lo) - jd1)
    names = tuple(tab.names)
    force_names = resolve_forces(forces, eph)
    flags = 0
    for f in force_names:
        flags |= _FORCE_BITS[f]
    ev_idx = []
    for b in event_bodies:
        key = b.lower() if isinstance(b, str) else b
        if key not in names:
            raise UnknownNameError("body", b, names, argument="bodies")
        ev_idx.append(names.index(key))
    n = int(np.prod(ssb.shape)) if ssb.shape else 1
    rows = _VAR_ROWS if variational else 1
    x0 = np.zeros((n, rows, 3))
    v0 = np.zeros((n, rows, 3))
    x0[:, 0] = ssb.r_au.reshape(n, 3)
    v0[:, 0] = ssb.v_au_d.reshape(n, 3)
    forcing = np.full(rows, _ias15.NO_FORCING, dtype=np.int64)
    if variational:
        for k in range(3):
            x0[:, 1 + k, k] = 1.0      # d r / d r0_k
            v0[:, 4 + k, k] = 1.0      # d r / d v0_k
            forcing[7 + k] = k         # d / d A_k, from zero
    # Kernel times are days since jd1; the particles start at t = jd2.
    t_end = (end[0] - jd1) + end[1]
    out_t = np.ascontiguousarray((np.asarray(out[0]) - jd1) + np.asarray(out[1]),
                                 dtype=np.float64)
    m = out_t.shape[0]
    x_out = np.zeros((n, m, rows, 3))
    v_out = np.zeros((n, m, rows, 3))
    x_end = np.zeros((n, rows, 3))
    v_end = np.zeros((n, rows, 3))
    events = np.zeros((n, _MAX_EVENTS, _ias15.EV_COLS))
    # The rows at each approach are kept only for variational runs with events.
    ev_rows = np.zeros((n, _MAX_EVENTS if (variational and ev_idx) else 0, rows, 6))
    info = np.zeros((n, 4), dtype=np.int64)
    tabs = (tab.coef, tab.seg_i, tab.seg_f, tab.body_chain)
    consts = _consts(ng_model)
    ev_arr = np.array(ev_idx, dtype=np.int64)
    ev_r = np.full(len(ev_idx), float(event_rmax_au))
    ev_imp = np.zeros(len(ev_idx))
    if impact_radii_au is not None:
        ev_imp[:] = np.asarray(impact_radii_au, dtype=np.float64)
    # Chunks of particles, so that a progress bar can advance; the integration of a
    # particle does not depend on the chunking (each has its own integrator).
    chunk = max(1, min(n, 256))
    show = progress if progress is not None else (n > chunk and sys.stderr.isatty())
    starts = range(0, n, chunk)
    if show:
        from tqdm import tqdm

        starts = tqdm(starts, total=math.ceil(n / chunk), unit="chunk", desc="n-body")
    for s in starts:
        e = min(n, s + chunk)
        _ias15.integrate(jd1, jd2, x0[s:e], v0[s:e], np.full(e - s, t_end), t_limit, out_t,
                         flags, tab.gm, len(names), np.ascontiguousarray(ng[s:e]), consts,
                         tabs, eps, 1.0, int(max_steps), forcing, ev_arr, ev_r, ev_imp,
                         x_out[s:e], v_out[s:e], x_end[s:e], v_end[s:e], events[s:e],
                         ev_rows[s:e], info[s:e])
    bad = (info[:, 0] != _ias15.ST_OK) & (info[:, 0] != _ias15.ST_IMPACT)
    if np.any(bad):
        i = int(np.argmax(bad))
        code = int(info[i, 0])
        why = {
            _ias15.ST_MAX_STEPS: f"more than max_steps={max_steps} steps; raise max_steps",
            _ias15.ST_STEP_UNDERFLOW: "the step size underflowed (collision with a body?)",
            _ias15.ST_NONFINITE: "the acceleration became non-finite (collision with a body?)",
            _ias15.ST_EVENT_OVERFLOW: f"more than {_MAX_EVENTS} close approaches; lower distance_max",
        }.get(code, f"status {code}")
        raise ConvergenceError(f"n-body integration failed for {int(bad.sum())} particle(s); "
                               f"first is particle {i}: {why}")
    return _Run(jd1, x_out, v_out, x_end, v_end, events, ev_rows, info, force_names, eps,
                eph.files, tuple(names[i] for i in ev_idx))


def _finish(x: np.ndarray, v: np.ndarray, j1, j2, batch: tuple[int, ...],
            original: State, eph: Ephemeris) -> State:
    """SSB ICRF arrays -> State in the caller's frame and centre."""
    out = State.from_arrays(x.reshape(batch + (3,)), v.reshape(batch + (3,)), j1, j2,
                            "icrf", "ssb")
    return out.to_centre(original.centre, ephemeris=eph).to_frame(original.frame)


def _grid(ssb: State, ng: np.ndarray, eph: Ephemeris, t1: np.ndarray, t2: np.ndarray,
          forces, epsilon, max_steps, progress, ng_model, variational: bool
          ) -> tuple[np.ndarray, np.ndarray, list[_Run]]:
    """Every particle at every grid time (flat two-part TDB JDs), forward and backward
    from the epoch as two integrations; -> x, v (n, T, rows, 3) and the runs."""
    s1, s2 = (float(np.ravel(a)[0]) for a in ssb.jd_tdb)
    dt = (t1 - s1) + (t2 - s2)
    n = int(np.prod(ssb.shape)) if ssb.shape else 1
    rows = _VAR_ROWS if variational else 1
    x = np.zeros((n, dt.size, rows, 3))
    v = np.zeros((n, dt.size, rows, 3))
    runs = []
    for sign, sel in ((1.0, np.flatnonzero(dt >= 0)), (-1.0, np.flatnonzero(dt < 0))):
        if sel.size == 0:
            continue
        order = sel[np.argsort(dt[sel] * sign, kind="stable")]
        last = order[-1]
        run = _run(ssb, ng, eph, (float(t1[last]), float(t2[last])), (t1[order], t2[order]),
                   forces, (), 0.0, epsilon, max_steps, progress, ng_model, variational)
        x[:, order] = run.x_out
        v[:, order] = run.v_out
        runs.append(run)
    return x, v, runs


def _check_covered(eph: Ephemeris, jd1, jd2, name: str) -> None:
    """EphemerisRangeError naming the time argument when it leaves the ephemeris."""
    jd = np.asarray(jd1, dtype=np.float64) + np.asarray(jd2, dtype=np.float64)
    if jd.size == 0:
        return
    lo, hi = eph.covered
    if float(np.min(jd)) < lo + 1.0 or float(np.max(jd)) > hi - 1.0:
        try:
            eph._check_interval(float(np.min(jd)) - 1.0, float(np.max(jd)) + 1.0)
        except EphemerisRangeError as exc:
            raise EphemerisRangeError(f"{name}: {exc}; pass times inside that interval") \
                from None


def _grid_times(times: Time, name: str) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Time grid -> flat two-part TDB JDs and the grid's shape."""
    t1, t2 = to_jd_tdb(times, name)
    t_shape = np.shape(t1)
    t1 = np.ravel(np.asarray(t1, dtype=np.float64))
    t2 = np.ravel(np.asarray(t2, dtype=np.float64))
    if t1.size == 0:
        raise InputError(f"{name} must hold at least one time")
    return t1, t2, t_shape


def propagate_nbody(state: State | OrbitSolution, to: Time, *, nongrav: u.Quantity | None = None,
                    nongrav_model: NongravModel | None = None,
                    forces: Iterable[str] | None = None, ephemeris: Ephemeris | None = None,
                    epsilon: float | None = None, max_steps: int = 1_000_000,
                    progress: bool | None = None) -> State:
    """Propagate small bodies in the full DE440 force model to one target time.

    Parameters
    ----------
    state : State or OrbitSolution
        Initial state(s), any batch shape, all at one epoch, any frame/centre.
        An :class:`OrbitSolution` (e.g. :func:`apophis`) brings its own
        non-gravitational parameters and g(r) law.
    to : astropy.time.Time
        Scalar target time (before or after the epoch).
    nongrav : Quantity [length/time^2], shape (..., 3), optional
        A1, A2, A3 of the Marsden model, broadcast over the batch. Default:
        the solution's, else zero.
    nongrav_model : NongravModel, optional
        The g(r) law ``nongrav`` multiplies. Default: the solution's, else JPL's
        asteroid law g = (1 au / r)^2.
    forces : iterable of str, optional
        Force terms among :data:`FORCE_NAMES`; default all of them (asteroids when
        the SB441-N16 file is installed), which is JPL's model for Apophis.
    ephemeris : Ephemeris, optional
        Default :meth:`Ephemeris.open` (explicit path > env var > installed package).
    epsilon : float, optional
        IAS15 precision parameter; default :data:`DEFAULT_EPSILON` (1e-11), which
        agrees with a run at epsilon/100 to < 1 cm at every output time before the
        2029 flyby and < 1 m a year after it (tests/test_convergence.py).
    max_steps : int
        Step limit per particle.
    progress : bool, optional
        Show a progress bar over particle chunks (default: when stderr is a
        terminal and there are many particles).

    Returns
    -------
    State
        At ``to``, same batch shape, frame and centre as ``state``. The integrator
        takes its own steps and reads the state at ``to`` from the dense output of
        the step that contains it, so the result is bit-identical to
        :func:`propagate_nbody_grid` at the same time.

    Raises
    ------
    TimeInputError, EphemerisRangeError, UnknownNameError, ShapeMismatchError, ConvergenceError
    """
    ssb, ng, eph, original, model = _prepare(state, nongrav, ephemeris, nongrav_model)
    e1, e2 = to_jd_tdb(to, "to")
    _check_covered(eph, e1, e2, "to")
    if np.ndim(e1):
        raise ShapeMismatchError(f"to must be one time for propagate_nbody (got shape "
                                 f"{np.shape(e1)}); use "
                                 "propagate_nbody_grid(state, times) for many")
    run = _run(ssb, ng, eph, (float(e1), float(e2)), (np.zeros(0), np.zeros(0)), forces, (),
               0.0, epsilon, max_steps, progress, model)
    return _finish(run.x_end[:, 0], run.v_end[:, 0], e1, e2, original.shape, original, eph)


def propagate_nbody_grid(state: State | OrbitSolution, times: Time, *,
                         nongrav: u.Quantity | None = None,
                         nongrav_model: NongravModel | None = None,
                         forces: Iterable[str] | None = None,
                         ephemeris: Ephemeris | None = None, epsilon: float | None = None,
                         max_steps: int = 1_000_000, progress: bool | None = None) -> State:
    """Every state at every time of a grid, from the integrator's dense output.

    ``times`` (any shape T) may lie on both sides of the epoch; the result has batch
    shape ``state.shape + T``.

    Parameters
    ----------
    state : State or OrbitSolution
        As in :func:`propagate_nbody`.
    times : astropy.time.Time
        Output times, any shape.
    nongrav, nongrav_model, forces, ephemeris, epsilon, max_steps, progress
        As in :func:`propagate_nbody`.

    Returns
    -------
    State
        Batch shape ``state.shape + times.shape``, the input's frame and centre.
    """
    ssb, ng, eph, original, model = _prepare(state, nongrav, ephemeris, nongrav_model)
    t1, t2, t_shape = _grid_times(times, "times")
    _check_covered(eph, t1, t2, "times")
    x, v, _ = _grid(ssb, ng, eph, t1, t2, forces, epsilon, max_steps, progress, model, False)
    shape = original.shape + t_shape
    j1 = np.broadcast_to(np.reshape(t1, (1,) * len(original.shape) + t_shape), shape)
    j2 = np.broadcast_to(np.reshape(t2, (1,) * len(original.shape) + t_shape), shape)
    return _finish(x[:, :, 0], v[:, :, 0], j1, j2, shape, original, eph)


# ----------------------------------------------------------------------------- STM


@dataclass(frozen=True)
class StateTransition:
    """A state and its first-order derivatives with respect to the initial conditions.

    Attributes
    ----------
    state : State
        The propagated state(s), in the input's frame and centre.
    stm : ndarray (..., 6, 6)
        State transition matrix d(r [au], v [au/d]) at the state's epoch / d(r, v)
        at the initial epoch, in the input's frame (the centre's own motion does not
        depend on the particle, so it does not enter).
    nongrav_partials : ndarray (..., 6, 3)
        d(r [au], v [au/d]) / d(A1, A2, A3) [au/d^2] (au/(au/d^2), i.e. d^2, for r;
        d for v), in the input's frame.
    forces : tuple of str
        The force model.
    epsilon : float
        The IAS15 precision parameter used.
    """

    state: State
    stm: np.ndarray
    nongrav_partials: np.ndarray
    forces: tuple[str, ...]
    epsilon: float

    def __repr__(self) -> str:
        shape = self.stm.shape[:-2]
        when = self.state.epoch
        first = when if when.ndim == 0 else when.ravel()[0]
        label = f"shape={shape}, " if shape else ""
        return (f"<StateTransition {label}to {utc_iso(first)} UTC, frame="
                f"{self.state.frame!r}, centre={self.state.centre!r}, forces="
                f"{'+'.join(self.forces)}>")


def _frame_matrix(frame: str) -> np.ndarray:
    """M with s_icrf = M s_frame for 6-vectors (r, v)."""
    from ._core import frames as _frames

    rot = np.eye(3) if frame == "icrf" else np.asarray(_frames.ICRF_FROM_ECL)
    m = np.zeros((6, 6))
    m[:3, :3] = rot
    m[3:, 3:] = rot
    return m


def _stm_parts(x: np.ndarray, v: np.ndarray, frame: str) -> tuple[np.ndarray, np.ndarray]:
    """Variational rows (..., 10, 3) -> STM (..., 6, 6) and partials (..., 6, 3) in ``frame``."""
    # Row 1 + j holds d r / d s0_j and d v / d s0_j: stack r above v, columns j.
    phi = np.concatenate([np.swapaxes(x[..., 1:7, :], -1, -2),
                          np.swapaxes(v[..., 1:7, :], -1, -2)], axis=-2)
    par = np.concatenate([np.swapaxes(x[..., 7:10, :], -1, -2),
                          np.swapaxes(v[..., 7:10, :], -1, -2)], axis=-2)
    if frame != "icrf":
        m = _frame_matrix(frame)
        phi = m.T @ phi @ m
        par = m.T @ par
    return phi, par


@renamed_kwargs(state_or_solution="state")
def state_transition(state: State | OrbitSolution, to: Time, *,
                     nongrav: u.Quantity | None = None,
                     nongrav_model: NongravModel | None = None,
                     forces: Iterable[str] | None = None,
                     ephemeris: Ephemeris | None = None, epsilon: float | None = None,
                     max_steps: int = 1_000_000, progress: bool | None = None
                     ) -> StateTransition:
    """Propagate with the variational equations: the state, its 6x6 state transition
    matrix and its partials with respect to the non-gravitational parameters.

    The first-order variational equations d(dr)/dt = dv,
    d(dv)/dt = (d a / d r) dr + (d a / d v) dv [+ d a / d A_k] are integrated
    alongside every particle in the compiled IAS15 kernel, with the same steps
    (controlled by the particle alone, so ``.state`` is bit-identical to
    :func:`propagate_nbody`). The Jacobians are analytic for every force term:
    point masses, Earth's J2-J4, the Sun's J2, the Marsden model and the full EIH
    relativistic acceleration (tests/test_stm.py checks each against finite
    differences, and the STM against Richardson-extrapolated central differences
    of whole integrations through the 2029 flyby).

    Parameters
    ----------
    state : State or OrbitSolution
        Initial state(s), any batch shape, one epoch, any frame/centre.
    to : astropy.time.Time
        Scalar target time (before or after the epoch).
    nongrav, nongrav_model, forces, ephemeris, epsilon, max_steps, progress
        As in :func:`propagate_nbody`.

    Returns
    -------
    StateTransition
        ``.state`` (State at ``to``, the input's frame and centre), ``.stm``
        (batch + (6, 6)), ``.nongrav_partials`` (batch + (6, 3)).

    Raises
    ------
    TimeInputError, EphemerisRangeError, UnknownNameError, ShapeMismatchError, ConvergenceError

    Notes
    -----
    The STM of a 6-vector s = (r, v) maps a small initial deviation to the
    deviation at ``to``: ds(t) = stm @ ds(t0) + nongrav_partials @ dA. The
    velocity columns are per au/day. Milani & Gronchi (2010), *Theory of Orbit
    Determination*, ch. 6.
    """
    ssb, ng, eph, original, model = _prepare(state, nongrav, ephemeris,
                                             nongrav_model)
    e1, e2 = to_jd_tdb(to, "to")
    _check_covered(eph, e1, e2, "to")
    if np.ndim(e1):
        raise ShapeMismatchError(f"to must be one time for state_transition (got shape "
                                 f"{np.shape(e1)}); use "
                                 "state_transition_grid(state, times) for many")
    run = _run(ssb, ng, eph, (float(e1), float(e2)), (np.zeros(0), np.zeros(0)), forces, (),
               0.0, epsilon, max_steps, progress, model, True)
    st = _finish(run.x_end[:, 0], run.v_end[:, 0], e1, e2, original.shape, original, eph)
    phi, par = _stm_parts(run.x_end, run.v_end, original.frame)
    batch = original.shape
    return StateTransition(st, phi.reshape(batch + (6, 6)), par.reshape(batch + (6, 3)),
                           run.forces, run.epsilon)


@renamed_kwargs(state_or_solution="state")
def state_transition_grid(state: State | OrbitSolution, times: Time, *,
                          nongrav: u.Quantity | None = None,
                          nongrav_model: NongravModel | None = None,
                          forces: Iterable[str] | None = None,
                          ephemeris: Ephemeris | None = None, epsilon: float | None = None,
                          max_steps: int = 1_000_000, progress: bool | None = None
                          ) -> StateTransition:
    """:func:`state_transition` at every time of a grid (one integration each way from
    the epoch, dense output): ``.state`` has batch shape ``state.shape + T``,
    ``.stm`` ``state.shape + T + (6, 6)``, ``.nongrav_partials``
    ``state.shape + T + (6, 3)``.

    Parameters
    ----------
    state : State or OrbitSolution
        As in :func:`state_transition`.
    times : astropy.time.Time
        Output times, any shape T.
    nongrav, nongrav_model, forces, ephemeris, epsilon, max_steps, progress
        As in :func:`propagate_nbody`.

    Returns
    -------
    StateTransition
    """
    ssb, ng, eph, original, model = _prepare(state, nongrav, ephemeris,
                                             nongrav_model)
    t1, t2, t_shape = _grid_times(times, "times")
    _check_covered(eph, t1, t2, "times")
    x, v, runs = _grid(ssb, ng, eph, t1, t2, forces, epsilon, max_steps, progress, model, True)
    shape = original.shape + t_shape
    j1 = np.broadcast_to(np.reshape(t1, (1,) * len(original.shape) + t_shape), shape)
    j2 = np.broadcast_to(np.reshape(t2, (1,) * len(original.shape) + t_shape), shape)
    st = _finish(x[:, :, 0], v[:, :, 0], j1, j2, shape, original, eph)
    phi, par = _stm_parts(x, v, original.frame)
    return StateTransition(st, phi.reshape(shape + (6, 6)), par.reshape(shape + (6, 3)),
                           runs[0].forces, runs[0].epsilon)


@renamed_kwargs(max_distance="distance_max")
def close_approaches(state: State | OrbitSolution, until: Time, *,
                     bodies: Sequence[str] = ("earth", "moon"),
                     distance_max: u.Quantity = 0.05 * u.au, nongrav: u.Quantity | None = None,
                     nongrav_model: NongravModel | None = None,
                     forces: Iterable[str] | None = None, ephemeris: Ephemeris | None = None,
                     epsilon: float | None = None, max_steps: int = 1_000_000,
                     progress: bool | None = None, impacts: bool = True) -> QTable:
    """Every close approach to ``bodies`` between the epoch and ``until``, and impacts.

    Each minimum of the distance is the root of the range-rate rho . rho_dot on
    the integrator's dense output inside the step that contains it (Illinois
    regula falsi, converged to < 1e-13 day), never a sampled minimum.

    Parameters
    ----------
    state : State or OrbitSolution
        As in :func:`propagate_nbody`.
    until : astropy.time.Time
        End of the search (before or after the epoch).
    bodies : sequence of str
        Bodies of the ephemeris (``"earth"``, ``"moon"``, ``"mars"``, ...).
    distance_max : Quantity [length]
        Report minima closer than this (centre to centre).
    nongrav, nongrav_model, forces, ephemeris, epsilon, max_steps, progress
        As in :func:`propagate_nbody`.
    impacts : bool
        Detect impacts inside the integrator (default): a particle that enters a
        body's equatorial radius (``Body.radius_km`` of :mod:`apophis_sim.bodies`) stops
        there, and its last row is the entry (``impact`` True, ``distance`` the
        radius, ``r_rel`` the entry point). With False the bodies are point masses
        a particle may pass through.

    Returns
    -------
    astropy.table.QTable
        One row per approach, sorted by time, with columns ``particle`` (flat
        index in the batch), ``body``, ``time`` (TDB Time), ``distance`` [km],
        ``v_rel`` [km/s] (relative speed at closest approach), ``v_inf`` [km/s]
        (hyperbolic excess speed sqrt(v_rel^2 - 2 GM/d), NaN-free: 0 when bound),
        ``r_rel`` [km] and ``v_rel_vec`` [km/s] (body-centred ICRF vectors at
        closest approach), ``impact`` (bool: the row is an impact, at the entry
        through the body's radius, not a minimum). ``meta`` records the force
        terms, the ephemeris files, epsilon and the integrator statistics.
    """
    if isinstance(bodies, str):
        bodies = (bodies,)  # one body, not its letters
    try:
        bodies = tuple(bodies)
    except TypeError:
        raise InputError(f"bodies must be a body name or a list of names (e.g. ('earth', "
                         f"'moon')), got {bodies!r:.60}") from None
    if not bodies:
        raise InputError("bodies must name at least one body (e.g. ('earth', 'moon'))")
    rmax_arr = to_canonical(distance_max, AU, "distance_max")
    if np.ndim(rmax_arr) != 0:
        raise InputError(f"distance_max must be a scalar distance (e.g. 0.05 * u.au), got "
                         f"shape {np.shape(rmax_arr)}")
    rmax = float(rmax_arr)
    if rmax <= 0:
        raise InputError(f"distance_max must be positive, got {distance_max}")
    ssb, ng, eph, original, model = _prepare(state, nongrav, ephemeris, nongrav_model)
    e1, e2 = to_jd_tdb(until, "until")
    _check_covered(eph, e1, e2, "until")
    if np.ndim(e1):
        raise ShapeMismatchError("until must be a scalar Time")
    bodies = tuple(bodies)
    radii = None
    if impacts:
        radii = []
        for b in bodies:
            try:
                rk = _bodies.body(b).radius_km
            except UnknownNameError:  # reported by _run, with the valid names
                rk = None
            radii.append((rk or 0.0) / AU_KM)
    run = _run(ssb, ng, eph, (float(e1), float(e2)), (np.zeros(0), np.zeros(0)), forces,
               bodies, rmax, epsilon, max_steps, progress, model, impact_radii_au=radii)
    rows_p, rows_b, rows_t, rows_ev = [], [], [], []
    for i in range(run.events.shape[0]):
        for k in range(int(run.info[i, 3])):
            ev = run.events[i, k]
            rows_p.append(i)
            rows_b.append(run.event_bodies[int(ev[0])])
            rows_t.append(ev[1])
            rows_ev.append(ev)
    ev = np.array(rows_ev).reshape(-1, _ias15.EV_COLS)
    order = np.argsort(np.array(rows_t), kind="stable")
    ev = ev[order]
    km_s = AU_KM / 86400.0
    dist_km = ev[:, 2] * AU_KM
    vrel = np.linalg.norm(ev[:, 6:9], axis=1) * km_s
    gm_km3_s2 = np.array([_bodies.body(rows_b[j]).gm_au3_d2 for j in order]) * AU_KM**3 / 86400.0**2
    vinf2 = vrel**2 - 2.0 * gm_km3_s2 / np.where(dist_km > 0, dist_km, np.inf)
    table = QTable()
    table["particle"] = np.array(rows_p, dtype=np.int64)[order]
    table["body"] = np.array([rows_b[j] for j in order], dtype="U16")
    table["time"] = from_jd_tdb(np.full(len(order), run.jd0), ev[:, 1])
    table["distance"] = dist_km * u.km
    table["v_rel"] = vrel * u.km / u.s
    table["v_inf"] = np.sqrt(np.maximum(vinf2, 0.0)) * u.km / u.s
    table["r_rel"] = ev[:, 3:6] * AU_KM * u.km
    table["v_rel_vec"] = ev[:, 6:9] * km_s * u.km / u.s
    table["impact"] = ev[:, 9] == _ias15.EV_IMPACT
    # Shown as people read them: ISO time, metres in km, m/s in km/s.
    table["time"].format = "isot"
    table["distance"].info.format = ".3f"
    table["v_rel"].info.format = ".6f"
    table["v_inf"].info.format = ".6f"
    table["r_rel"].info.format = ".3f"
    table["v_rel_vec"].info.format = ".6f"
    table.meta.update({
        "forces": list(run.forces),
        "ephemeris_files": list(run.files),
        "epsilon": run.epsilon,
        "steps": int(run.info[:, 1].sum()),
        "rejected_steps": int(run.info[:, 2].sum()),
        "frame": "icrf",
        "time_scale": "tdb",
    })
    return table
