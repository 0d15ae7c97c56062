"""Linear mapping of an orbit solution's covariance: through the state transition matrix
(one variational integration) or by finite differences of clones.

JPL publishes the covariance of (e, q, tp, node, peri, i [, A1, A2, A3]) at an epoch.
To first order, a deviation ``dp`` of those parameters moves the state at time ``t`` by
``ds(t) = Phi(t, t0) J_el dp_el + P(t) dA``: ``J_el`` is the Jacobian of the Cartesian
state with respect to the elements at the epoch (complex-step derivative of the
element -> state map, :mod:`apophis_sim._core.coe_partials`), ``Phi`` the state
transition matrix and ``P`` the non-gravitational partials of
:func:`apophis_sim.nbody.state_transition`. So the covariance at ``t`` is
``K C K^T`` with ``K = [Phi J_el, P]`` (Milani & Gronchi 2010, *Theory of Orbit
Determination*, sec. 5.5 and ch. 6).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.time import Time

from .. import bodies as _bodies
from .._core import coe_partials as _cp
from .._core import forces as _forces
from .._core import frames as _frames
from .. import nbody as _nbody
from .._deprecation import deprecated_attribute, renamed_kwargs, warn_renamed
from ..ephemeris import Ephemeris
from ..errors import ConvergenceError, InputError, InputTypeError
from ..nbody import OrbitSolution, apophis, resolve_forces
from ..state import State
from ..time import dt_days, from_jd_tdb, to_jd_tdb, utc_iso
from ..units import AU_KM
from .encounter import (ENCOUNTER_LABELS, ENCOUNTER_MAX_DISTANCE_AU, ENCOUNTER_UNTIL,
                        bplane_coordinates, encounter_of)
from .sampling import _nominal, clone_states, covariance_factor

_KM_S = AU_KM / 86400.0
_GM_KM3_S2 = AU_KM**3 / 86400.0**2
_ELEMENT_LABELS = ("e", "q", "tp", "node", "peri", "i")
_ANGLE_LABELS = ("node", "peri", "i")
_NONGRAV_LABELS = ("A1", "A2", "A3")


# ----------------------------------------------------------------------------- Jacobians


def parameter_jacobian(solution: OrbitSolution) -> np.ndarray:
    """d(r [au], v [au/d]) / d(parameters) at the solution epoch, heliocentric ICRF.

    Columns follow ``solution.covariance_labels`` in JPL's units (e [-], q [au],
    tp [day], node/peri/i [deg], A1..A3 [au/d^2]); the non-gravitational columns
    are zero at the epoch (they act through the integration).

    Parameters
    ----------
    solution : OrbitSolution
        With its covariance-epoch elements (:meth:`OrbitSolution.from_sbdb`).

    Returns
    -------
    ndarray (6, n)

    Raises
    ------
    InputError
        The solution has no covariance-epoch elements (build it with
        :meth:`OrbitSolution.from_sbdb`), an element set other than JPL's, a
        parameter this mapping does not know, or a near-parabolic orbit
        (``|e - 1| < 1e-6``) where the closed-form partials are not used.
    """
    if not isinstance(solution, OrbitSolution):
        raise InputTypeError(f"solution must be an OrbitSolution (e.g. apophis() or "
                             f"OrbitSolution.from_sbdb(...)), got {type(solution).__name__}")
    el = solution.elements
    labels = tuple(solution.covariance_labels)
    if el is None:
        raise InputError("the solution has no elements at its covariance epoch; load it with "
                         "OrbitSolution.from_sbdb(...) to map its covariance")
    if labels[:6] != _ELEMENT_LABELS:
        raise InputError(f"covariance labels must start with {_ELEMENT_LABELS}, got {labels}")
    unknown = [lab for lab in labels[6:] if lab not in _NONGRAV_LABELS]
    if unknown:
        raise InputError(f"cannot map covariance parameters {unknown}: the propagator models "
                         f"{_ELEMENT_LABELS + _NONGRAV_LABELS}")
    if el.shape != ():
        raise InputError("the solution's elements must be a single orbit")
    e = float(el.e)
    if abs(e - 1.0) < _cp.PARABOLIC_BAND:
        raise InputError(f"e = {e!r} is within {_cp.PARABOLIC_BAND:g} of a parabola: the "
                         "element partials are not computed there")
    dt = float(dt_days(el._ep1, el._ep2, el._tp1, el._tp2))
    state, jac = _cp.elements_jacobian(e, float(el.q.to_value(u.au)), dt,
                                       float(el.raan.to_value(u.rad)),
                                       float(el.argp.to_value(u.rad)),
                                       float(el.inc.to_value(u.rad)), float(el._mu))
    rot = np.eye(3) if el.frame == "icrf" else np.asarray(_frames.ICRF_FROM_ECL)
    m = np.zeros((6, 6))
    m[:3, :3] = rot
    m[3:, 3:] = rot
    jac = m @ jac
    jac[:, 3:6] *= math.pi / 180.0  # per degree
    out = np.zeros((6, len(labels)))
    out[:, :6] = jac
    return out


def _nongrav_columns(labels: Sequence[str]) -> list[tuple[int, int]]:
    """(covariance column, A index) of the non-gravitational parameters."""
    return [(j, _NONGRAV_LABELS.index(lab)) for j, lab in enumerate(labels)
            if lab in _NONGRAV_LABELS]


# ----------------------------------------------------------------------------- covariance


@dataclass(frozen=True)
class StateCovariance:
    """A state with its linearly mapped covariance (:func:`covariance_at`).

    Attributes
    ----------
    state : State
        Nominal state(s), heliocentric ICRF, batch shape T (the times).
    matrix : ndarray (T..., 6, 6)
        Covariance of (r [au], v [au/d]) in the canonical units.
    jacobian : ndarray (T..., 6, n)
        d(r, v) / d(parameters), columns as ``parameter_labels``.
    parameter_labels : tuple of str
    """

    state: State
    matrix: np.ndarray
    jacobian: np.ndarray
    parameter_labels: tuple[str, ...]

    @property
    def position(self) -> u.Quantity:
        """3x3 position covariance [km^2]."""
        return self.matrix[..., :3, :3] * AU_KM**2 * u.km**2

    @property
    def velocity(self) -> u.Quantity:
        """3x3 velocity covariance [(km/s)^2]."""
        return self.matrix[..., 3:, 3:] * _KM_S**2 * (u.km / u.s) ** 2

    @property
    def position_sigma(self) -> u.Quantity:
        """1-sigma position uncertainty along x, y, z (ICRF) [km]."""
        return np.sqrt(np.diagonal(self.matrix[..., :3, :3], axis1=-2, axis2=-1)) * AU_KM * u.km

    def rtn_sigma(self) -> u.Quantity:
        """1-sigma position uncertainty along radial, transverse (in the orbit plane,
        along the motion) and normal directions [km], shape T + (3,)."""
        r = self.state.r_au
        v = self.state.v_au_d
        rh = r / np.linalg.norm(r, axis=-1, keepdims=True)
        nh = np.cross(r, v)
        nh /= np.linalg.norm(nh, axis=-1, keepdims=True)
        th = np.cross(nh, rh)
        rot = np.stack([rh, th, nh], axis=-2)  # rows: unit vectors
        c = rot @ self.matrix[..., :3, :3] @ np.swapaxes(rot, -1, -2)
        return np.sqrt(np.diagonal(c, axis1=-2, axis2=-1)) * AU_KM * u.km

    def __repr__(self) -> str:
        shape = self.matrix.shape[:-2]
        sig = self.rtn_sigma().to_value(u.km)
        if shape:
            return (f"<StateCovariance at {int(np.prod(shape))} times, position 1-sigma "
                    f"(R, T, N) up to {np.max(sig[..., 0]):.4g}, {np.max(sig[..., 1]):.4g}, "
                    f"{np.max(sig[..., 2]):.4g} km>")
        return (f"<StateCovariance at {utc_iso(self.state.epoch)} UTC, position 1-sigma "
                f"(R, T, N) {sig[0]:.4g}, {sig[1]:.4g}, {sig[2]:.4g} km>")


def covariance_at(solution: OrbitSolution, times: Time, *, forces: Sequence[str] | None = None,
                  ephemeris: Ephemeris | None = None, epsilon: float | None = None
                  ) -> StateCovariance:
    """The solution's covariance mapped to Cartesian coordinates at any time(s).

    ``C(t) = K C K^T`` with ``K = [Phi(t, t0) J_el, P(t)]``: the element Jacobian at
    the solution epoch (:func:`parameter_jacobian`), the state transition matrix and
    the non-gravitational partials from one variational integration per direction
    (:func:`apophis_sim.nbody.state_transition_grid`).

    Parameters
    ----------
    solution : OrbitSolution
        With a covariance over JPL's elements (and optionally A1..A3), e.g.
        :func:`apophis` or :meth:`OrbitSolution.from_sbdb`.
    times : Time
        Any shape T, either side of the epoch (the epoch itself gives the
        covariance of the published elements in Cartesian form).
    forces, ephemeris, epsilon
        As in :func:`apophis_sim.nbody.propagate_nbody`.

    Returns
    -------
    StateCovariance
        Heliocentric ICRF state(s) and covariance(s), batch shape T.

    Notes
    -----
    Linear: valid while the mapped uncertainty stays small compared with the scale
    on which the flow bends (for Apophis, until the 2029 flyby and for years after;
    for later close approaches use :func:`run_monte_carlo`).
    """
    labels = tuple(solution.covariance_labels)
    st = _nbody.state_transition_grid(solution, times, forces=forces, ephemeris=ephemeris,
                                      epsilon=epsilon)
    helio = st.state.to_centre("sun", ephemeris=ephemeris).to_frame("icrf")
    k = parameter_space(icrf_partials(st, solution), solution)
    cov = k @ solution.covariance @ np.swapaxes(k, -1, -2)
    return StateCovariance(helio, 0.5 * (cov + np.swapaxes(cov, -1, -2)), k, labels)


# ----------------------------------------------------------------------------- encounter


@dataclass(frozen=True)
class EncounterJacobian:
    """Derivatives of a close approach with respect to the orbit's parameters.

    Attributes
    ----------
    nominal_vector : ndarray (4,)
        The nominal in canonical units, the vector the Jacobians differentiate:
        CA time (TDB JD [day]), distance, xi, zeta [km]. The same values with units:
        :attr:`time`, :attr:`distance`, :attr:`xi`, :attr:`zeta`.
    jacobian : ndarray (4, n)
        d(nominal_vector) / d(parameters) (``parameter_labels``, JPL's units).
    state_jacobian : ndarray (4, 9)
        d(nominal_vector) / d(r0 [au], v0 [au/d], A1..A3 [au/d^2]) at the solution
        epoch, ICRF.
    parameter_labels : tuple of str
        The parameters the columns of ``jacobian`` refer to.
    forces : tuple of str
        Force model of the variational integration.
    """

    nominal_vector: np.ndarray
    jacobian: np.ndarray
    state_jacobian: np.ndarray
    parameter_labels: tuple[str, ...]
    forces: tuple[str, ...]

    nominal = deprecated_attribute("nominal_vector")

    @property
    def time(self) -> Time:
        """Nominal time of closest approach (TDB)."""
        return _tdb_time(self.nominal_vector[0])

    @property
    def distance(self) -> u.Quantity:
        """Nominal distance of closest approach, centre to centre [km]."""
        return float(self.nominal_vector[1]) * u.km

    @property
    def xi(self) -> u.Quantity:
        """Nominal B-plane xi coordinate [km]."""
        return float(self.nominal_vector[2]) * u.km

    @property
    def zeta(self) -> u.Quantity:
        """Nominal B-plane zeta coordinate [km]."""
        return float(self.nominal_vector[3]) * u.km

    def __repr__(self) -> str:
        v = self.nominal_vector
        return (f"<EncounterJacobian CA {_utc_label(v[0])} UTC, distance "
                f"{v[1]:.3f} km, xi {v[2]:.1f} km, zeta "
                f"{v[3]:.1f} km; d/d({', '.join(self.parameter_labels)})>")


EncounterJacobian.__init__ = renamed_kwargs(  # type: ignore[method-assign]
    nominal="nominal_vector")(EncounterJacobian.__init__)


def _tdb_time(jd: float) -> Time:
    day = math.floor(jd)
    return from_jd_tdb(float(day), float(jd - day))


def _bplane_xz(rho_au: np.ndarray, rhodot_au_d: np.ndarray, ve_au_d: np.ndarray,
               gm_earth: float) -> np.ndarray:
    bp = bplane_coordinates(rho_au * AU_KM, rhodot_au_d * _KM_S, gm_earth * _GM_KM3_S2,
                            ve_au_d * _KM_S)
    return np.array([float(bp.xi_km), float(bp.zeta_km)])


def encounter_jacobian(solution: OrbitSolution, *, until: Time | None = None,
                       body: str = "earth", forces: Sequence[str] | None = None,
                       ephemeris: Ephemeris | None = None, epsilon: float | None = None,
                       since: Time | None = None) -> EncounterJacobian:
    """The closest approach to ``body`` before ``until`` (and after ``since``) and its
    first derivatives with respect to the solution's parameters, from one variational
    integration.

    The CA time ``t*`` is the root of ``f = rho . rho_dot`` (``rho`` = particle - body).
    With the STM and non-grav partials at ``t*``, ``G = [Phi | P]``:
    ``dt* = -(rho_dot^T G_r + rho^T G_v) dp / f_dot`` with
    ``f_dot = rho_dot . rho_dot + rho . rho_ddot``; the distance moves by
    ``rho_hat . (G_r dp)`` (``rho_hat . rho_dot = 0`` at ``t*``); the B-plane
    coordinates follow from the total variations ``G_r dp + rho_dot dt*``,
    ``G_v dp + rho_ddot dt*`` and the body's velocity change ``a_body dt*``, through
    central differences of the closed-form :func:`bplane_coordinates` (relative step
    1e-7, error ~1e-10).

    Parameters
    ----------
    solution : OrbitSolution
        The orbit and its covariance labels.
    until : Time, optional
        Search end (default 2029-04-20 TDB: the 2029 flyby).
    body : str
        The body of the encounter (default ``"earth"``).
    forces, ephemeris, epsilon
        As in :func:`apophis_sim.propagate_nbody`.
    since : Time, optional
        Only approaches after this time (default: any after the solution epoch): picks a
        later encounter when an earlier one is closer.

    Returns
    -------
    EncounterJacobian

    Raises
    ------
    ConvergenceError
        No approach within 0.01 au before ``until`` (and after ``since``).
    """
    until = until if until is not None else Time(ENCOUNTER_UNTIL, scale="tdb")
    events = variational_approaches(solution, until, bodies=(body,),
                                    max_distance_au=ENCOUNTER_MAX_DISTANCE_AU, forces=forces,
                                    ephemeris=ephemeris, epsilon=epsilon)
    if since is not None:
        s1, s2 = to_jd_tdb(since, "since")
        events = [e for e in events if (e.jd1 - float(s1)) + (e.t_rel - float(s2)) > 0]
    if not events:
        after = f" after {since.iso}" if since is not None else ""
        raise ConvergenceError(f"no approach to {body} within {ENCOUNTER_MAX_DISTANCE_AU} au "
                               f"before {until.iso}{after}")
    ev = min(events, key=lambda e: e.distance_au)
    labels = tuple(solution.covariance_labels)
    jac = parameter_space(ev.state_jacobian, solution)
    return EncounterJacobian(ev.nominal, jac, ev.state_jacobian, labels, ev.forces)


@dataclass(frozen=True)
class ApproachPartials:
    """One close approach found by a variational run, with its derivatives.

    Attributes
    ----------
    body : str
    jd1, t_rel : float
        CA time as a two-part TDB JD (``jd1 + t_rel``).
    distance_au, v_rel_au_d, v_inf_km_s, capture_radius_km : float
    nominal : ndarray (4,)
        CA time (TDB JD [day]), distance, xi, zeta [km].
    state_jacobian : ndarray (4, 9)
        d(nominal) / d(r0 [au], v0 [au/d], A1..A3 [au/d^2]) at the epoch (ICRF).
    b_dot_t_km, b_dot_r_km : float
        Kizner B.T and B.R (T in the ecliptic, R southward) of the nominal.
    forces : tuple of str
    """

    body: str
    jd1: float
    t_rel: float
    distance_au: float
    v_rel_au_d: float
    v_inf_km_s: float
    capture_radius_km: float
    nominal: np.ndarray
    state_jacobian: np.ndarray
    b_dot_t_km: float
    b_dot_r_km: float
    forces: tuple[str, ...]

    def __repr__(self) -> str:
        return (f"<ApproachPartials {self.body} {_utc_label(self.jd1 + self.t_rel)} UTC, "
                f"distance {self.nominal[1]:.3f} km, v_rel "
                f"{self.v_rel_au_d * _KM_S:.4f} km/s>")


def _utc_label(jd_tdb: float) -> str:
    day = math.floor(jd_tdb)
    return utc_iso(from_jd_tdb(float(day), float(jd_tdb - day)), 1)


def parameter_space(state_jacobian: np.ndarray, solution: OrbitSolution) -> np.ndarray:
    """d(quantities)/d(state, A1..A3) (..., m, 9) -> d(quantities)/d(parameters)
    (..., m, n) in the solution's labels (JPL's units), through
    :func:`parameter_jacobian`. The state columns are ICRF, per au and au/d at the
    solution's epoch (a heliocentric deviation is a barycentric one)."""
    labels = tuple(solution.covariance_labels)
    jac = state_jacobian[..., :6] @ parameter_jacobian(solution)
    for col, a_idx in _nongrav_columns(labels):
        jac[..., col] = state_jacobian[..., 6 + a_idx]
    return jac


def icrf_partials(st: _nbody.StateTransition, solution: OrbitSolution) -> np.ndarray:
    """``[Phi | P]`` (..., 6, 9) of a :func:`~apophis_sim.nbody.state_transition` run
    from ``solution``, in ICRF axes whatever the frame of the solution's state."""
    phi, par = st.stm, st.nongrav_partials
    if solution.state.frame != "icrf":
        m = _nbody._frame_matrix(solution.state.frame)
        phi, par = m @ phi @ m.T, m @ par
    return np.concatenate([phi, par], axis=-1)


def variational_approaches(solution: OrbitSolution, until: Time, *,
                           bodies: Sequence[str] = ("earth",), max_distance_au: float = 0.05,
                           forces: Sequence[str] | None = None,
                           ephemeris: Ephemeris | None = None, epsilon: float | None = None
                           ) -> list[ApproachPartials]:
    """Every approach to ``bodies`` closer than ``max_distance_au`` between the solution's
    epoch and ``until`` (either direction), each with its derivatives, from one
    variational integration (see :func:`encounter_jacobian` for the chain rule)."""
    eph = ephemeris if ephemeris is not None else Ephemeris.open()
    ssb, ng, eph, _, model = _nbody._prepare(solution, None, eph)
    e1, e2 = _nbody.to_jd_tdb(until, "until")
    if np.ndim(e1):
        raise InputError("until must be a scalar Time")
    run = _nbody._run(ssb, ng, eph, (float(e1), float(e2)), (np.zeros(0), np.zeros(0)),
                      forces, tuple(bodies), max_distance_au, epsilon, 1_000_000, False,
                      model, True)
    n_ev = min(int(run.info[0, 3]), run.events.shape[1])
    if n_ev == 0:
        return []
    jd1 = run.jd0
    times = run.events[0, :n_ev, 1]
    tab = eph.tables(jd1 + float(times.min()) - 1.0, jd1 + float(times.max()) + 1.0)
    flags = 0
    for f in run.forces:
        flags |= _nbody._FORCE_BITS[f]
    tabs = (tab.coef, tab.seg_i, tab.seg_f, tab.body_chain)
    work = np.zeros((len(tab.names), 10))
    consts = _nbody._consts(model)
    out = []
    for k in range(n_ev):
        body = run.event_bodies[int(run.events[0, k, 0])]
        t_rel = float(run.events[0, k, 1])
        rows = run.event_rows[0, k]                        # (10, 6), SSB ICRF
        ap = np.zeros(3)
        _forces.accel(jd1, t_rel, rows[0, :3], rows[0, 3:], flags, tab.gm, len(tab.names),
                      ng[0], consts, tabs, work, ap, np.zeros((3, _forces.JAC_COLS)), False)
        out.append(_approach_partials(eph, body, jd1, t_rel, rows, ap, run.forces))
    return out


def _approach_partials(eph: Ephemeris, body: str, jd1: float, t_rel: float, rows: np.ndarray,
                       ap: np.ndarray, forces: tuple[str, ...]) -> ApproachPartials:
    x, v = rows[0, :3], rows[0, 3:]
    g = np.concatenate([rows[1:7].T, rows[7:10].T], axis=1)  # (6, 9): [Phi | P]
    pb, vb = eph.posvel(body, jd1, t_rel, centre="ssb")
    h = 1e-3  # day: the body's acceleration by central differences of its velocity
    _, vp = eph.posvel(body, jd1, t_rel + h, centre="ssb")
    _, vm = eph.posvel(body, jd1, t_rel - h, centre="ssb")
    ab = (vp - vm) / (2.0 * h)
    rho, rhod, rhodd = x - pb, v - vb, ap - ab
    gr, gv = g[:3], g[3:]
    fdot = rhod @ rhod + rho @ rhodd
    dt = -(rhod @ gr + rho @ gv) / fdot               # (9,) day per unit
    dist = float(np.linalg.norm(rho))
    drho = gr + np.outer(rhod, dt)
    drhod = gv + np.outer(rhodd, dt)
    dve = np.outer(ab - _sun_acc(eph, jd1, t_rel), dt)  # heliocentric body velocity
    ddist = (rho / dist) @ gr
    _, ve_h = eph.posvel(body, jd1, t_rel, centre="sun")
    gm_body = _bodies.body(body).gm_au3_d2
    y0 = np.concatenate([rho, rhod, ve_h])
    vinf2 = rhod @ rhod - 2.0 * gm_body / dist
    xz0 = np.array([np.nan, np.nan])
    dxz = np.full((2, 9), np.nan)
    b_t = b_r = vinf = cap = float("nan")
    if vinf2 > 0:  # hyperbolic about the body: a B-plane exists
        xz0 = _bplane_xz(rho, rhod, ve_h, gm_body)
        dxz[:] = 0.0
        for j in range(9):
            dy = np.concatenate([drho[:, j], drhod[:, j], dve[:, j]])
            if not np.any(dy):
                continue
            hstep = min(1e-7 * np.linalg.norm(y0[:3]) / max(np.linalg.norm(dy[:3]), 1e-300),
                        1e-7 * np.linalg.norm(y0[3:6]) / max(np.linalg.norm(dy[3:6]), 1e-300))
            yp = y0 + hstep * dy
            ym = y0 - hstep * dy
            dxz[:, j] = (_bplane_xz(yp[:3], yp[3:6], yp[6:], gm_body)
                         - _bplane_xz(ym[:3], ym[3:6], ym[6:], gm_body)) / (2.0 * hstep)
        from ..encounter import bplane as _kizner

        kb = _kizner(rho * AU_KM * u.km, rhod * _KM_S * u.km / u.s, ve_h * _KM_S * u.km / u.s,
                     body)
        b_t = float(kb.b_dot_t.to_value(u.km))
        b_r = float(kb.b_dot_r.to_value(u.km))
        vinf = math.sqrt(vinf2) * _KM_S
        cap = float(kb.capture_radius.to_value(u.km))
    state_jac = np.vstack([dt, ddist * AU_KM, dxz])   # (4, 9): day, km, km, km
    nominal = np.array([jd1 + t_rel, dist * AU_KM, xz0[0], xz0[1]])
    return ApproachPartials(body, jd1, t_rel, dist, float(np.linalg.norm(rhod)), vinf, cap,
                            nominal, state_jac, b_t, b_r, forces)


def _sun_acc(eph: Ephemeris, jd1: float, t: float) -> np.ndarray:
    h = 1e-3
    _, vp = eph.posvel("sun", jd1, t + h, centre="ssb")
    _, vm = eph.posvel("sun", jd1, t - h, centre="ssb")
    return (vp - vm) / (2.0 * h)


# ----------------------------------------------------------------------------- encounter covariance


def _encounter_vector(enc: dict[str, np.ndarray]) -> np.ndarray:
    return np.stack([enc[k] for k in ENCOUNTER_LABELS], axis=-1)


@dataclass(frozen=True)
class LinearEncounter:
    """The encounter covariance from the linearised flow (:func:`linear_encounter`).

    The results with units are properties: :attr:`time` (Time),
    :attr:`distance`, :attr:`xi`, :attr:`zeta` (Quantity [km]), their 1-sigma
    uncertainties :attr:`time_sigma` [s], :attr:`distance_sigma`,
    :attr:`xi_sigma`, :attr:`zeta_sigma` [km], :attr:`distance_3sigma` and
    :attr:`bplane_covariance` [km^2]. The attributes below are the linear-algebra
    arrays behind them, in canonical mixed units (CA time as a TDB JD [day], lengths
    in km), in the order of ``labels``.

    Attributes
    ----------
    labels : tuple of str
        :data:`~apophis_sim.uncertainty.ENCOUNTER_LABELS`: CA time (TDB JD [day]),
        distance, xi, zeta [km].
    nominal_vector : ndarray (4,)
        The nominal clone's values in canonical units (the vector ``covariance``,
        ``differences`` and :meth:`predict` refer to).
    covariance : ndarray (4, 4)
        Covariance in day^2, day km, km^2.
    differences : ndarray (4, 8)
        Central differences ``(f(x0 + h s_k) - f(x0 - h s_k)) / 2h`` along the
        step directions ``s_k`` (columns of the covariance factor for
        ``scheme="principal"``: rows then predict clone ``x0 + L z`` as
        ``nominal_vector + differences @ z``; unit parameter vectors scaled by sigma
        for ``scheme="parameters"``).
        With ``method="stm"`` they are the exact linear responses
        ``jacobian @ s_k`` (no finite step).
    scheme : str
        Step directions of the differences: ``"principal"`` or ``"parameters"``
        (see :func:`linear_encounter`).
    step : float
        Step length in standard deviations (``nan`` for ``method="stm"``).
    forces : tuple of str
        Force model of the integrations.
    method : str
        ``"stm"`` (variational equations, one integration) or ``"differences"``.
    jacobian : ndarray (4, n)
        d(encounter quantities) / d(parameters) in the units above per the
        parameters' JPL units (``covariance_labels`` of the solution).
    parameter_labels : tuple of str
        The parameters the Jacobian's columns refer to.
    """

    labels: tuple[str, ...]
    nominal_vector: np.ndarray
    covariance: np.ndarray
    differences: np.ndarray
    scheme: str
    step: float
    forces: tuple[str, ...]
    method: str = "differences"
    jacobian: np.ndarray | None = None
    parameter_labels: tuple[str, ...] = ()

    nominal = deprecated_attribute("nominal_vector")

    def _sigma(self, k: int) -> float:
        return float(np.sqrt(self.covariance[k, k]))

    @property
    def time(self) -> Time:
        """Nominal time of closest approach (TDB)."""
        return _tdb_time(self.nominal_vector[0])

    @property
    def time_sigma(self) -> u.Quantity:
        """1-sigma uncertainty of the time of closest approach [s]."""
        return self._sigma(0) * 86400.0 * u.s

    @property
    def distance(self) -> u.Quantity:
        """Nominal distance of closest approach, centre to centre [km]."""
        return float(self.nominal_vector[1]) * u.km

    @property
    def distance_sigma(self) -> u.Quantity:
        """1-sigma uncertainty of the closest-approach distance [km]."""
        return self._sigma(1) * u.km

    @property
    def distance_3sigma(self) -> tuple[u.Quantity, u.Quantity]:
        """(minimum, maximum) distance at 3 sigma, as JPL's CAD lists it [km]."""
        d, s = float(self.nominal_vector[1]), 3.0 * self._sigma(1)
        return (d - s) * u.km, (d + s) * u.km

    @property
    def xi(self) -> u.Quantity:
        """Nominal B-plane xi coordinate [km]."""
        return float(self.nominal_vector[2]) * u.km

    @property
    def xi_sigma(self) -> u.Quantity:
        """1-sigma uncertainty of the B-plane xi coordinate [km]."""
        return self._sigma(2) * u.km

    @property
    def zeta(self) -> u.Quantity:
        """Nominal B-plane zeta coordinate [km]."""
        return float(self.nominal_vector[3]) * u.km

    @property
    def zeta_sigma(self) -> u.Quantity:
        """1-sigma uncertainty of the B-plane zeta coordinate [km]."""
        return self._sigma(3) * u.km

    @property
    def bplane_covariance(self) -> u.Quantity:
        """2x2 covariance of (xi, zeta) [km^2]."""
        return self.covariance[2:, 2:] * u.km**2

    def __repr__(self) -> str:
        lo, hi = self.distance_3sigma
        return (f"<LinearEncounter ({self.method}) CA {utc_iso(self.time, 1)} UTC "
                f"+/- {self.time_sigma.to_value(u.s):.2f} s, distance "
                f"{self.distance.to_value(u.km):.3f} km (3 sigma {lo.to_value(u.km):.3f} - "
                f"{hi.to_value(u.km):.3f} km), xi {self.xi.to_value(u.km):.1f} km, zeta "
                f"{self.zeta.to_value(u.km):.1f} km>")

    @property
    def sigma(self) -> np.ndarray:
        """Deprecated: standard deviations in mixed units (day, km, km, km); use
        :attr:`time_sigma`, :attr:`distance_sigma`, :attr:`xi_sigma`,
        :attr:`zeta_sigma` (removed in 0.3)."""
        warn_renamed("LinearEncounter.sigma (mixed day/km array)",
                     "LinearEncounter.time_sigma, .distance_sigma, .xi_sigma, .zeta_sigma "
                     "(Quantities)")
        return np.sqrt(np.diag(self.covariance))

    def predict(self, z: np.ndarray) -> np.ndarray:
        """Linear prediction ``nominal_vector + differences @ z`` of clones.

        Parameters
        ----------
        z : ndarray (n, 8)
            Standard-normal vectors of :func:`standard_normals`
            (``scheme="principal"`` only).

        Returns
        -------
        ndarray (n, 4)
            Canonical units, in the order of ``labels`` (TDB JD [day], km, km, km).
        """
        if self.scheme != "principal":
            raise InputError("predict() needs scheme='principal' (steps along the factor)")
        return self.nominal_vector + np.asarray(z) @ self.differences.T


LinearEncounter.__init__ = renamed_kwargs(  # type: ignore[method-assign]
    nominal="nominal_vector")(LinearEncounter.__init__)


def linear_encounter(solution: OrbitSolution | None = None, *, method: str = "stm",
                     scheme: str = "principal", step: float = 1.0,
                     forces: Sequence[str] | None = None, ephemeris: Ephemeris | None = None,
                     epsilon: float | None = None) -> LinearEncounter:
    """Covariance of the 2029 close approach by linear mapping.

    ``method="stm"`` (default): one integration of the nominal orbit with its
    variational equations (:func:`apophis_sim.nbody.state_transition`); the
    close approach is located on the dense output and the STM read there; the
    derivatives of the CA time, distance and B-plane coordinates follow by the
    chain rule (see :func:`encounter_jacobian`), and ``C_f = K C K^T``.

    ``method="differences"``: the finite-difference scheme it replaces, one
    batched n-body run of 17 clones: the nominal and, for each of 8 step
    directions ``s_k``, ``x0 +/- step * s_k``. Central differences
    ``d_k = (f(x0 + h s_k) - f(x0 - h s_k)) / 2h`` cancel the even-order terms of
    the flow (error O(h^2 f''')), and every clone is integrated to the same
    adaptive tolerance, so the integration noise (~mm) is far below the ~km
    responses of one-sigma steps.

    * ``scheme="principal"`` (default): ``s_k`` are the columns of the
      :func:`covariance_factor` ``L`` -- one-sigma displacements along the
      principal axes of the distribution itself, so no step leaves the region the
      clones populate (a one-sigma step in ``node`` alone would be ~50 conditional
      sigmas off the node-peri correlation of -0.98). Then ``C_f = D D^T``
      exactly, with ``D = [d_k]``.
    * ``scheme="parameters"``: ``s_k = sigma_k e_k``, the classical
      parameter-by-parameter Jacobian ``J`` (columns ``d_k / sigma_k``), and
      ``C_f = J C J^T``.

    Parameters
    ----------
    solution : OrbitSolution, optional
        Default :func:`apophis` (JPL #220).
    method : {"stm", "differences", "unscented"}
        ``"unscented"``: the sigma-point transform (Julier & Uhlmann 2004, Proc. IEEE
        92, 401) with the same 17 integrations as the differences, at
        ``x0 +/- sqrt(3) L_k`` (``n + kappa = 3``, which matches a Gaussian's fourth
        moment); the weighted mean and covariance of the outputs carry the flow's
        second-order terms, so ``nominal_vector`` is then the sigma-point *mean*, not the
        nominal orbit's approach. ``scheme`` and ``step`` do not apply.
    scheme : {"principal", "parameters"}
    step : float
        Step length ``h`` in standard deviations (> 0; default 1).
    forces, ephemeris, epsilon
        As in :func:`apophis_sim.nbody.close_approaches`.

    Returns
    -------
    LinearEncounter

    Raises
    ------
    InputError
        Unknown scheme, non-positive step.
    """
    sol = solution if solution is not None else apophis()
    if method not in ("stm", "differences", "unscented"):
        raise InputError(f"method must be 'stm', 'differences' or 'unscented', got {method!r}")
    if scheme not in ("principal", "parameters"):
        raise InputError(f"scheme must be 'principal' or 'parameters', got {scheme!r}")
    from ..units import real_array

    step_arr = real_array(step, "step")
    if np.ndim(step_arr) != 0 or not step_arr > 0:
        raise InputError(f"step must be a positive number of sigmas, got {step!r:.60}")
    step = float(step_arr)
    fac = covariance_factor(sol.covariance)
    dirs = fac.factor if scheme == "principal" else np.diag(fac.sigma)
    eph = ephemeris if ephemeris is not None else Ephemeris.open()
    if method == "stm":
        enc = encounter_jacobian(sol, forces=forces, ephemeris=eph, epsilon=epsilon)
        jac = enc.jacobian
        cov = jac @ sol.covariance @ jac.T
        return LinearEncounter(ENCOUNTER_LABELS, enc.nominal_vector, 0.5 * (cov + cov.T), jac @ dirs,
                               scheme, float("nan"), enc.forces, "stm", jac,
                               tuple(sol.covariance_labels))
    x0 = _nominal(sol)
    if method == "unscented":
        return _unscented(sol, x0, fac, forces, eph, epsilon)
    params = np.vstack([x0[None, :], x0 + step * dirs.T, x0 - step * dirs.T])
    states, ng = clone_states(sol, params)
    f = _encounter_vector(encounter_of(states, ng, nongrav_model=sol.nongrav_model,
                                       forces=forces, ephemeris=eph,
                                       epsilon=epsilon))
    # Differences first, then divide: the CA times (~2.46e6 day) keep full precision.
    d = ((f[1:9] - f[9:17]) / (2.0 * step)).T
    jac = d / fac.sigma[None, :] if scheme == "parameters" else d @ np.linalg.pinv(dirs)
    if scheme == "principal":
        cov = d @ d.T
    else:
        cov = jac @ sol.covariance @ jac.T
    return LinearEncounter(ENCOUNTER_LABELS, f[0], 0.5 * (cov + cov.T), d, scheme, float(step),
                           tuple(resolve_forces(forces, eph)), "differences", jac,
                           tuple(sol.covariance_labels))


def _unscented(sol: OrbitSolution, x0: np.ndarray, fac, forces, eph, epsilon) -> LinearEncounter:
    """Sigma-point (unscented) transform of the encounter: 2n + 1 clones, n + kappa = 3."""
    n = x0.size
    lam = 3.0  # n + kappa
    pts = np.vstack([x0[None, :], x0 + math.sqrt(lam) * fac.factor.T,
                     x0 - math.sqrt(lam) * fac.factor.T])
    w = np.full(2 * n + 1, 1.0 / (2.0 * lam))
    w[0] = (lam - n) / lam
    states, ng = clone_states(sol, pts)
    f = _encounter_vector(encounter_of(states, ng, nongrav_model=sol.nongrav_model,
                                       forces=forces, ephemeris=eph, epsilon=epsilon))
    # Weighted sums relative to the central point keep the CA time's precision.
    dev = f - f[0]
    mean_dev = w @ dev
    d = dev - mean_dev
    cov = (d * w[:, None]).T @ d
    spread = ((f[1:n + 1] - f[n + 1:]) / (2.0 * math.sqrt(lam))).T
    return LinearEncounter(ENCOUNTER_LABELS, f[0] + mean_dev, 0.5 * (cov + cov.T), spread,
                           "principal", math.sqrt(lam), tuple(resolve_forces(forces, eph)),
                           "unscented", None, tuple(sol.covariance_labels))
