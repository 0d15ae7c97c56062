"""Keyholes on an encounter's b-plane, and orbits moved through a chosen b-plane point.

A *keyhole* (Chodas 1999; Valsecchi et al. 2003) is the small region of the
b-plane of a first encounter through which the body must pass to come back on a
resonant orbit and hit the planet (or come closer than a chosen distance) at a
later encounter. This module

1. places each ``k:h`` resonance (``h`` revolutions of the body in ``k`` years)
   with the analytic resonant-return circles of Valsecchi et al. (2003)
   (:mod:`apophis_sim.risk.valsecchi`);
2. refines each crossing of a circle with the line of variations numerically, by
   full n-body propagations (the library's converged IAS15 with DE440, GR, Earth's
   J2-J4, the Sun's J2, non-gravitational forces) of orbits of the solution moved
   along the LOV, from the solution epoch through the encounter to the return;
3. reports the keyhole as the interval of the LOV on which the return's b-plane
   impact parameter ``b'`` is below the gravitationally focused radius
   ``b_c = R sqrt(1 + 2 GM / (R v_inf'^2))`` (``b' < b_c`` <=> osculating perigee
   below the body's radius: an impact).

The line of variations (LOV) used here is the *constrained* LOV of Milani et al.
(2005, A&A 431, 729) in its linear form: for each b-plane ``zeta``, the orbit of
least covariance norm ``dp^T C^-1 dp`` whose encounter has that ``zeta``,
``dp = C K_z^T (K_z C K_z^T)^-1 dzeta`` with ``K_z = d zeta / d p`` from one
variational run (:func:`apophis_sim.uncertainty.encounter_jacobian`). In the
b-plane it is the line ``xi = xi0 + (C_xz / C_zz) (zeta - zeta0)`` and its
parameter is ``sigma_LOV = (zeta - zeta0) / sigma_zeta``, exactly the chi of the
constrained orbit. Farnocchia et al. (2013, Icarus 224, 192) map Apophis's
keyholes on the same b-plane (Valsecchi's xi, zeta).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.table import QTable
from astropy.time import Time

from .. import bodies as _bodies
from .._deprecation import renamed_kwargs
from ..elements import Elements
from ..encounter import capture_radius
from ..ephemeris import Ephemeris
from ..errors import (ConvergenceError, InputError, NonFiniteInputError, OrbitTypeError,
                      TooManyRowsError, UnknownNameError)

from ..nbody import close_approaches
from ..solution import OrbitSolution
from ..time import from_jd_tdb, to_jd_tdb, utc_iso
from ..units import AU_KM, to_canonical
from ..uncertainty import (bplane_coordinates, clone_states, encounter_jacobian)
from ..uncertainty.sampling import GM_SUN_SBDB, covariance_distance, parameter_index
from . import valsecchi as _vs

__all__ = ["LineOfVariations", "line_of_variations", "keyholes", "orbit_through",
           "KEYHOLE_COLUMNS"]

_KM_S = AU_KM / 86400.0
_GM_KM3_S2 = AU_KM**3 / 86400.0**2
#: Default encounter: Apophis's 2029 Earth flyby is the closest Earth approach
#: before this date (TDB).
_ENCOUNTER_UNTIL = "2029-04-20"
#: Returns are searched within this many days of the resonant date ``t0 + k years``.
_RETURN_WINDOW_DAYS = 90.0
#: Approaches closer than this [au] are recorded while searching a return.
_RETURN_SEARCH_AU = 0.3
#: Edge tolerance: the secant on b' - b_c stops when its step along the LOV is below
#: this [km] (1 mm).
EDGE_TOL_KM = 1e-6
_BODIES = ("earth", "moon")

#: Columns of the :func:`keyholes` table.
KEYHOLE_COLUMNS = ("return_date", "body", "resonance", "k", "h", "xi", "zeta", "width",
                   "distance", "sigma_lov", "v_impact", "zeta_valsecchi", "edge_tolerance",
                   "xi_return")


# ----------------------------------------------------------------------------- LOV


@dataclass(frozen=True)
class LineOfVariations:
    """The linear constrained line of variations on an encounter's b-plane.

    Attributes
    ----------
    solution : OrbitSolution
    body : str
    time_tdb_jd : float
        Nominal encounter time (TDB JD).
    xi_km, zeta_km : float
        Nominal b-plane point [km].
    distance_km : float
        Nominal close-approach distance [km].
    jacobian : ndarray (2, n)
        d(xi, zeta) / d(parameters) (JPL's units).
    covariance_km2 : ndarray (2, 2)
        Linear b-plane covariance of (xi, zeta) [km^2].
    slope : float
        ``d xi / d zeta`` of the LOV (``C_xz / C_zz``).
    sigma_zeta_km : float
        One sigma of zeta [km]; the LOV's sigma unit.
    direction : ndarray (n,)
        Parameter displacement per km of zeta along the LOV.
    nominal : ndarray (n,)
        Nominal parameters.
    opik : OpikEncounter
        Opik variables of the nominal encounter.
    """

    solution: OrbitSolution
    body: str
    time_tdb_jd: float
    xi_km: float
    zeta_km: float
    distance_km: float
    jacobian: np.ndarray
    covariance_km2: np.ndarray
    slope: float
    sigma_zeta_km: float
    direction: np.ndarray
    nominal: np.ndarray
    opik: _vs.OpikEncounter

    def __repr__(self) -> str:
        return (f"<LineOfVariations {self.solution.name} {self.solution.solution} on the "
                f"{self.body} b-plane: xi {self.xi_km:.3f} km, zeta {self.zeta_km:.3f} km, "
                f"1 sigma = {self.sigma_zeta_km:.4f} km of zeta, d xi/d zeta = "
                f"{self.slope:.4f}>")

    def parameters(self, dzeta_km) -> np.ndarray:
        """Parameters (n_points, n) of the LOV orbits ``dzeta_km`` [km] from the nominal.

        Parameters
        ----------
        dzeta_km : float or array_like
            Offsets along zeta from the nominal [km].

        Returns
        -------
        ndarray (n_points, n)
            In the solution's ``covariance_labels`` (JPL's units).
        """
        s = np.atleast_1d(np.asarray(dzeta_km, dtype=np.float64))
        return self.nominal[None, :] + s[:, None] * self.direction[None, :]

    def xi_on_line(self, zeta_km) -> np.ndarray:
        """xi [km] of the LOV line at ``zeta_km``.

        Parameters
        ----------
        zeta_km : float or array_like
            B-plane zeta [km].

        Returns
        -------
        ndarray
        """
        return self.xi_km + self.slope * (np.asarray(zeta_km) - self.zeta_km)


def _check_body(body: str) -> str:
    key = body.lower() if isinstance(body, str) else body
    if key not in _BODIES:
        raise UnknownNameError("body", body, _BODIES)
    return key


def _check_solution(solution) -> OrbitSolution:
    if not isinstance(solution, OrbitSolution):
        raise InputError(f"solution must be an apophis_sim.OrbitSolution (e.g. "
                         f"apophis_sim.apophis()), got {type(solution).__name__}")
    parameter_index(solution)  # JPL's 6-, 7- or 8-parameter forms; says what to pass
    return solution


def _own_nominal(sol: OrbitSolution) -> np.ndarray:
    """The nominal over the solution's own covariance labels (the LOV's parameters)."""
    return np.array([float(sol.nominal_elements[lab]) for lab in sol.covariance_labels])


def _time(t, name: str) -> tuple[float, float]:
    j1, j2 = to_jd_tdb(t, name)
    if np.ndim(j1):
        raise InputError(f"{name} must be a scalar Time")
    if not (math.isfinite(float(j1)) and math.isfinite(float(j2))):
        raise NonFiniteInputError(f"{name} is not a finite time")
    return float(j1), float(j2)


def _encounter_span(encounter) -> tuple[Time | None, Time]:
    """``encounter`` as (since, until): a scalar Time is the end of the search (the
    closest approach before it), a pair of Times a span (the closest within it)."""
    if encounter is None:
        return None, Time(_ENCOUNTER_UNTIL, scale="tdb")
    if isinstance(encounter, Time) and encounter.shape == (2,):
        _time(encounter[0], "encounter[0]")
        _time(encounter[1], "encounter[1]")
        if encounter[1].tdb.jd - encounter[0].tdb.jd <= 0:
            raise InputError(f"encounter span {encounter[0].tdb.iso} to "
                             f"{encounter[1].tdb.iso} TDB is empty: pass (start, end) with "
                             "end after start")
        return encounter[0], encounter[1]
    return None, encounter


def line_of_variations(solution: OrbitSolution, *, encounter: Time | None = None,
                       body: str = "earth", forces: Sequence[str] | None = None,
                       ephemeris: Ephemeris | None = None,
                       epsilon: float | None = None) -> LineOfVariations:
    """The encounter's linear b-plane covariance and constrained LOV (module docstring).

    Parameters
    ----------
    solution : OrbitSolution
        With a covariance in one of JPL's forms: the six elements (e, q, tp, node,
        peri, i), optionally with A1 and/or A2 (e.g. :func:`apophis_sim.apophis`).
    encounter : Time, optional
        The encounter is the closest approach to ``body`` within 0.01 au before this
        time (default 2029-04-20 TDB: Apophis's 2029 flyby); a pair of Times
        ``Time([start, end])``: the closest within that span (a later encounter when an
        earlier one is closer, e.g. a return after 2029).
    body : {"earth", "moon"}
        The body of the encounter.
    forces, ephemeris, epsilon
        As in :func:`apophis_sim.propagate_nbody`.

    Returns
    -------
    LineOfVariations

    Raises
    ------
    ConvergenceError
        No approach within 0.01 au before ``encounter``.
    """
    sol = _check_solution(solution)
    body = _check_body(body)
    eph = ephemeris if ephemeris is not None else Ephemeris.open()
    since, until = _encounter_span(encounter)
    e1, e2 = _time(until, "encounter")
    s1, s2 = (float(np.ravel(x)[0]) for x in sol.state.jd_tdb)
    if (e1 - s1) + (e2 - s2) <= 0:
        raise InputError(f"encounter ({until.tdb.iso} TDB) must be after the solution epoch "
                         f"({sol.state.epoch.tdb.iso} TDB)")
    try:
        ej = encounter_jacobian(sol, until=until, body=body, forces=forces, ephemeris=eph,
                                epsilon=epsilon, since=since)
    except ConvergenceError as exc:
        err = ConvergenceError(
            f"{exc}; pass encounter=Time(...): a time after the object's deep encounter, "
            "or a span Time([start, end]) around it")
        err.without_hint = str(exc)
        raise err from None
    c = np.asarray(sol.covariance)
    k = ej.jacobian[2:4]
    cov = k @ c @ k.T
    czz = float(cov[1, 1])
    t_enc = float(ej.nominal_vector[0])
    # Opik variables from the nominal's body-centred state at closest approach.
    tab = close_approaches(sol, Time(t_enc + 1.0, format="jd", scale="tdb"), bodies=(body,),
                           distance_max=0.01 * u.au, forces=forces, ephemeris=eph,
                           epsilon=epsilon, impacts=False)
    # The approach found by the variational run (not an earlier, closer one).
    t_rows = tab["time"].tdb.jd1 - t_enc + tab["time"].tdb.jd2
    row = int(np.argmin(np.abs(t_rows)))
    t = tab["time"][row]
    r_rel = tab["r_rel"][row].to_value(u.km)
    v_rel = tab["v_rel_vec"][row].to_value(u.km / u.s)
    pb, vb = eph.posvel(body, t.tdb.jd1, t.tdb.jd2, centre="sun")
    gm = _bodies.body(body).gm_au3_d2 * _GM_KM3_S2
    bp = bplane_coordinates(r_rel, v_rel, gm, vb * _KM_S)
    opik = _vs.opik_encounter(float(bp.v_inf_km_s) * bp.eta_hat, pb * AU_KM, vb * _KM_S, gm,
                              _bodies.GM_SUN * _GM_KM3_S2)
    nv = ej.nominal_vector
    return LineOfVariations(sol, body, t_enc, float(nv[2]), float(nv[3]), float(nv[1]), k, cov,
                            float(cov[0, 1] / czz), math.sqrt(czz), c @ k[1] / czz,
                            _own_nominal(sol), opik)


# ----------------------------------------------------------------------------- evaluation


@dataclass
class _Eval:
    """Encounter and return of LOV orbits (arrays over the points)."""

    xi: np.ndarray
    zeta: np.ndarray
    t_ret: np.ndarray
    dist_ret: np.ndarray
    xi_ret: np.ndarray
    zeta_ret: np.ndarray
    vinf_ret: np.ndarray


def _bplane_rows(tab, rows, body, eph):
    t = tab["time"][rows]
    _, vb = eph.posvel(body, t.tdb.jd1, t.tdb.jd2, centre="sun")
    gm = _bodies.body(body).gm_au3_d2 * _GM_KM3_S2
    return bplane_coordinates(tab["r_rel"][rows].to_value(u.km),
                              tab["v_rel_vec"][rows].to_value(u.km / u.s), gm, vb * _KM_S)


def _evaluate(lov: LineOfVariations, s_km: np.ndarray, t_exp: np.ndarray, eph: Ephemeris,
              forces, epsilon) -> _Eval:
    """Propagate the LOV orbits ``s_km`` (dzeta along the LOV) from the solution epoch
    to their expected returns ``t_exp`` (TDB JD); NaN where no return was found or
    the integration failed."""
    n = len(s_km)
    out = _Eval(*(np.full(n, np.nan) for _ in range(7)))
    for until in np.unique(t_exp):
        sel = np.flatnonzero(t_exp == until)
        _evaluate_group(lov, s_km[sel], until, eph, forces, epsilon, out, sel)
    return out


def _evaluate_group(lov, s_km, t_exp, eph, forces, epsilon, out, sel):
    sol = lov.solution
    states, ng = clone_states(sol, lov.parameters(s_km))
    end = Time(t_exp + _RETURN_WINDOW_DAYS, format="jd", scale="tdb")
    try:
        tab = close_approaches(states, end, bodies=(lov.body,),
                               distance_max=_RETURN_SEARCH_AU * u.au, nongrav=ng,
                               nongrav_model=sol.nongrav_model, forces=forces, ephemeris=eph,
                               epsilon=epsilon, progress=False, impacts=False)
    except ConvergenceError:
        if len(s_km) == 1:
            return
        for j in range(len(s_km)):  # isolate the failing orbit(s)
            _evaluate_group(lov, s_km[j:j + 1], t_exp, eph, forces, epsilon, out, sel[j:j + 1])
        return
    if len(tab) == 0:
        return
    p = np.asarray(tab["particle"])
    jd = tab["time"].tdb.jd1 + tab["time"].tdb.jd2
    dist = tab["distance"].to_value(u.km)
    near_enc = np.abs(jd - lov.time_tdb_jd) < 5.0
    near_ret = np.abs(jd - t_exp) < _RETURN_WINDOW_DAYS
    for j in range(len(s_km)):
        mine = p == j
        e_rows = np.flatnonzero(mine & near_enc)
        r_rows = np.flatnonzero(mine & near_ret & ~near_enc)
        if e_rows.size == 0:
            continue
        er = e_rows[np.argmin(dist[e_rows])]
        try:
            bp = _bplane_rows(tab, [er], lov.body, eph)
        except OrbitTypeError:  # through the body's centre (point masses): no b-plane
            continue
        out.xi[sel[j]] = bp.xi_km[0]
        out.zeta[sel[j]] = bp.zeta_km[0]
        if r_rows.size == 0:
            continue
        rr = r_rows[np.argmin(dist[r_rows])]
        try:
            bq = _bplane_rows(tab, [rr], lov.body, eph)
        except OrbitTypeError:
            continue
        out.t_ret[sel[j]] = jd[rr]
        out.dist_ret[sel[j]] = dist[rr]
        out.xi_ret[sel[j]] = bq.xi_km[0]
        out.zeta_ret[sel[j]] = bq.zeta_km[0]
        out.vinf_ret[sel[j]] = bq.v_inf_km_s[0]


# ----------------------------------------------------------------------------- candidates


#: Widest ``window`` of :func:`keyholes` [km] along the line of variations.
MAX_WINDOW_KM = 20_000.0

#: Widest ``window`` in sigmas of zeta, where that is wider than :data:`MAX_WINDOW_KM`:
#: on the b-plane of a later encounter (a return), whose spread is wide.
MAX_WINDOW_SIGMA = 50.0

#: Most k:h resonances :func:`keyholes` examines analytically (each crossing the line of
#: variations inside the window is then refined by n-body integrations).
MAX_RESONANCES = 200_000


def _candidates(lov: LineOfVariations, t_end_jd: float, window_km: float, year_days: float,
                max_k: int | None):
    """(k, h, dzeta_pred [km], zeta of the pure analytic circle [km], D, R) of every
    resonance whose circle crosses the LOV within ``window_km`` of the nominal."""
    enc = lov.opik
    zs = lov.zeta_km + np.array([-window_km, window_km])
    ct = _vs.cos_theta_after(enc, lov.xi_on_line(zs), zs)
    periods = 2 * math.pi * np.sqrt(_vs.semimajor_axis_after(enc, ct) ** 3
                                    / enc.gm_sun_km3_s2) / 86400.0 / year_days
    pmin, pmax = float(np.min(periods)), float(np.max(periods))
    if not (math.isfinite(pmin) and math.isfinite(pmax) and pmin > 0):
        raise InputError(f"window {window_km:g} km: the line of variations leaves bound "
                         "heliocentric orbits within the window (no resonant returns); pass a "
                         "smaller window (default 2000 km)")
    kmax = int((t_end_jd - lov.time_tdb_jd) / _vs.SIDEREAL_YEAR_DAYS)
    if max_k is not None:
        kmax = min(kmax, int(max_k))
    # Resonances tried: sum over k of the h in [k / pmax, k / pmin]; refuse before looping.
    tries = 0.5 * kmax * (kmax + 1) * (1.0 / pmin - 1.0 / pmax) + kmax
    if tries > MAX_RESONANCES:
        raise TooManyRowsError(
            f"window {window_km:g} km with returns up to k = {kmax} years spans ~{tries:,.0f} "
            f"k:h resonances, more than the limit of {MAX_RESONANCES:,}; pass a smaller "
            "window (default 2000 km), an earlier until, or max_k")
    out = []
    for k in range(1, kmax + 1):
        for h in range(max(1, math.floor(k / pmax)), math.ceil(k / pmin) + 1):
            if math.gcd(k, h) != 1:
                continue  # a k:h return with a common factor is the earlier return repeated
            d, r = _vs.valsecchi_circle(enc, k, h, year_days)
            d0, r0 = _vs.valsecchi_circle(enc, k, h)
            for z in _vs.circle_line_intersections(d, r, lov.xi_km, lov.zeta_km, lov.slope):
                if abs(z - lov.zeta_km) > window_km:
                    continue
                z0 = _vs.circle_line_intersections(d0, r0, lov.xi_km, lov.zeta_km, lov.slope)
                z0 = float(z0[np.argmin(np.abs(z0 - z))]) if z0.size else math.nan
                out.append((k, h, float(z - lov.zeta_km), z0, d0, r0))
    return out


# ----------------------------------------------------------------------------- search


def _threshold(body: str, vinf: np.ndarray, max_return_distance_km: float | None) -> np.ndarray:
    """b-plane radius [km] below which the return is an impact / closer than the limit."""
    gm = _bodies.body(body).gm_au3_d2 * _GM_KM3_S2
    if max_return_distance_km is None:
        return capture_radius(body, np.maximum(vinf, 1e-6) * u.km / u.s).to_value(u.km)
    d = max_return_distance_km
    return d * np.sqrt(1.0 + 2.0 * gm / (d * vinf * vinf))


def _secant_root(f0, f1, s0, s1):
    with np.errstate(divide="ignore", invalid="ignore"):
        return s1 - f1 * (s1 - s0) / (f1 - f0)


@renamed_kwargs(max_return_distance="return_distance_max")
def keyholes(solution: OrbitSolution, until: Time = Time("2100-01-01", scale="tdb"), *,
             body: str = "earth", encounter: Time | None = None,
             return_distance_max: u.Quantity | None = None, include_moon: bool = False,
             window: u.Quantity = 2000 * u.km, max_k: int | None = None,
             calibrate: bool = True, classify: bool = True,
             forces: Sequence[str] | None = None,
             ephemeris: Ephemeris | None = None, epsilon: float | None = None) -> QTable:
    """Keyholes of an encounter's b-plane that lead to an impact (or a return closer
    than ``return_distance_max``) before ``until``.

    For every ``k:h`` resonance whose return falls before ``until``, the
    Valsecchi et al. (2003) circle is intersected with the LOV (within ``window``
    of the nominal); each crossing is then refined by full n-body propagations of
    LOV orbits from the solution epoch to the return (batched per return year):

    1. secant iterations on the return's b-plane ``zeta'`` (the return's timing)
       from the analytic prediction until the return passes within ~3 focused
       radii;
    2. the centre from two orbits two keyhole-half-widths either side (so no
       orbit of this step goes through the body);
    3. if the return's ``|xi'|`` (its MOID) is below the threshold, each edge by
       secant iterations on ``b' - b_c`` until the step along the LOV is below
       :data:`EDGE_TOL_KM` (1 mm), or 12 iterations.

    Parameters
    ----------
    solution : OrbitSolution
        With a covariance over (e, q, tp, node, peri, i), optionally with A1 and/or
        A2 (JPL's forms; Apophis #220 has all eight, 2024 YR4 #78 the six).
    until : Time
        Horizon: returns up to this date (default 2100-01-01 TDB).
    body : {"earth", "moon"}
        The body of the encounter and of the returns.
    encounter : Time, optional
        The encounter is the closest approach to ``body`` within 0.01 au before this
        time (default 2029-04-20 TDB, the 2029 flyby); a pair ``Time([start, end])``:
        the closest within that span (see :func:`line_of_variations`).
    return_distance_max : Quantity [length], optional
        Report keyholes to returns closer than this (centre to centre) instead of
        impacts (default: impacts, ``b' < b_c`` with the focused radius of
        :func:`apophis_sim.encounter.capture_radius`).
    include_moon : bool
        Also search Moon-impact keyholes near every Earth resonance (``body`` must
        be "earth"); rows have ``body = "moon"``.
    window : Quantity [length]
        Half-width of the searched stretch of the LOV around the nominal, along
        zeta (default 2000 km; the 2036 keyhole of #220 lies ~1270 km away); at most
        ``MAX_WINDOW_KM`` (20 000 km), or ``MAX_WINDOW_SIGMA`` (50) sigmas of zeta
        when that is wider (the b-plane of a later encounter).
    max_k : int, optional
        Search only returns within ``max_k`` years (caps the run time).
    calibrate : bool
        Shift the analytic predictions by the period offset measured on the first
        refined keyhole (the osculating two-body period after the encounter
        differs from the mean period by ~1e-3, i.e. ~500 km of zeta for #220;
        without it the later, narrower resonances start outside the secant's
        basin).
    classify : bool
        Examine every crossing the secant could not settle on 21 LOV orbits around
        it (``meta["resonances"]`` outcomes "close return" / "no close approach:
        MOID"; default). False leaves them "unresolved" with the secant's reason and
        saves those integrations.
    forces, ephemeris, epsilon
        As in :func:`apophis_sim.nbody.close_approaches`.

    Returns
    -------
    QTable
        One row per keyhole, sorted by return date: ``return_date`` (TDB Time, the
        return's closest approach at the keyhole centre), ``body``,
        ``resonance`` ("k:h"), ``k``, ``h``, ``xi``, ``zeta`` [km] (b-plane centre
        of the keyhole, the mean of its edges' measured coordinates), ``width`` [m]
        (along zeta), ``distance`` [km] (``zeta - zeta_nominal``, signed, along the
        LOV), ``sigma_lov`` (the same in sigmas of zeta: the constrained LOV's
        chi), ``v_impact`` [km/s] (``sqrt(v_inf'^2 + 2 GM / R)``; for
        ``return_distance_max`` at that distance), ``zeta_valsecchi`` [km] (where
        the pure analytic circle crosses the LOV), ``edge_tolerance`` [m] (the
        larger last secant step of the two edges, mapped to zeta), ``xi_return``
        [km] (the return's xi', the mean of the edges' values like ``xi`` and
        ``zeta``; when the return falls on the resonant date it is close to the
        MOID, otherwise not). ``meta`` holds the nominal, the LOV,
        the Opik variables, the calibration, the resonances that gave no keyhole
        (``no_keyhole``: one sentence each) and ``resonances``: one dict per
        examined crossing (keys ``k``, ``h``, ``body``, ``dzeta_km`` along zeta
        from the nominal, ``outcome``, ``moid_au``, ``detail``), ``outcome`` one
        of ``"keyhole"``, ``"close return"`` (the return found, its ``|xi'|``
        above the threshold), ``"no close approach: MOID"`` (see Notes) or
        ``"unresolved"`` (``detail`` says why).

    Raises
    ------
    TimeInputError
        ``until`` or ``encounter`` is not a Time.
    InputError
        ``until`` is not after the encounter, a non-positive window or distance.
    PhysicalTypeError
        ``window`` / ``return_distance_max`` without length units.
    NonFiniteInputError
        NaN in a Quantity or a time.
    UnknownNameError
        ``body`` other than "earth" or "moon".
    ConvergenceError
        No approach to ``body`` within 0.01 au before ``encounter``.

    Notes
    -----
    Known limits: only first returns of the given encounter are searched
    (a return that follows an intermediate close approach, or a keyhole of a
    keyhole, is not); the keyhole is measured along the LOV only (it is an arc
    of a circle; the table gives its crossing with the LOV); the focused radius
    uses the body's equatorial radius (WGS84 for the Earth) and no atmosphere.
    A crossing whose return the secant cannot refine (no return near the
    resonant date, or no convergence) is examined on the 21 LOV orbits within
    50 km of its prediction (5 km apart): their Earth MOID every 30 days over the
    return year (resonant date +- 180 days), their approaches, and each one's
    return (its closest approach within 90 days of the resonant date) on the
    b-plane. With every sampled MOID, less twice the largest change between
    neighbouring samples along the LOV and in time, above ``MOID_CLEAR_AU``
    (0.01 au, > 100 focused radii) the outcome is ``"no close approach: MOID"``
    (no impact at that return is possible); else, if every orbit returns and
    every return's ``b'`` less twice the largest change between neighbours is
    above the threshold, ``"close return"`` (no keyhole near the prediction;
    this assumes ``b'`` varies between the 5 km samples by no more than twice
    the largest change seen); otherwise it stays ``"unresolved"``, and
    ``detail`` gives the MOID range and the closest intermediate approach (for
    #220 after 2065 every such orbit has one within 0.1 au: returns after an
    intermediate encounter). The examination costs ~10 s per crossing near 2080.
    Integration error at the return (~km for the converged default epsilon)
    divided by the magnification ``dzeta'/dzeta`` (1e4-1e6) is below 0.1 m of
    zeta for returns before ~2060.
    """
    sol = _check_solution(solution)
    body = _check_body(body)
    if include_moon and body != "earth":
        raise InputError("include_moon=True needs body='earth'")
    u1, u2 = _time(until, "until")
    w_arr = to_canonical(window, u.km, "window")
    if np.ndim(w_arr) != 0:
        raise InputError(f"window must be a scalar length, got shape {np.shape(w_arr)}")
    wkm = float(w_arr)
    if not wkm > 0:
        raise InputError(f"window must be a positive length, got {window}")
    if wkm > MAX_WINDOW_KM and encounter is None:
        raise InputError(f"window {window} is wider than {MAX_WINDOW_KM:,.0f} km: the line of "
                         "variations is a local (linear) map of the B-plane and each keyhole "
                         "in the window costs n-body integrations; pass a window of at most "
                         f"{MAX_WINDOW_KM:,.0f} km (default 2000 km)")
    dmax = None
    if return_distance_max is not None:
        dmax = float(to_canonical(return_distance_max, u.km, "return_distance_max"))
        if not dmax > 0:
            raise InputError(f"return_distance_max must be positive, got {return_distance_max}")
    if max_k is not None and (isinstance(max_k, (bool, np.bool_))
                              or not isinstance(max_k, (int, np.integer)) or max_k < 1):
        raise InputError(f"max_k must be a positive integer (returns up to k years after the "
                         f"encounter), got {max_k!r:.60}")
    eph = ephemeris if ephemeris is not None else Ephemeris.open()
    if not eph.covered[0] <= u1 + u2 <= eph.covered[1] - 1.0:
        from ..errors import EphemerisRangeError

        raise EphemerisRangeError(f"until ({until.tdb.iso} TDB) lies outside the ephemeris "
                                  f"({', '.join(eph.files)}), which covers TDB JD "
                                  f"{eph.covered[0]} to {eph.covered[1]}; pass an earlier until")
    enc_until = _encounter_span(encounter)[1]
    e1, e2 = _time(enc_until, "encounter")
    if (u1 - e1) + (u2 - e2) <= 0:
        raise InputError(f"until ({until.tdb.iso} TDB) must be after the encounter "
                         f"({enc_until.tdb.iso} TDB): keyholes lead to later returns")
    lov = line_of_variations(sol, encounter=encounter, body=body, forces=forces,
                             ephemeris=eph, epsilon=epsilon)
    cap = max(MAX_WINDOW_KM, MAX_WINDOW_SIGMA * lov.sigma_zeta_km)
    if wkm > cap:
        raise InputError(f"window {window} is wider than {cap:,.0f} km (the larger of "
                         f"{MAX_WINDOW_KM:,.0f} km and {MAX_WINDOW_SIGMA:g} sigma of zeta, "
                         f"{lov.sigma_zeta_km:.4g} km, on this b-plane): the line of "
                         "variations is a local (linear) map of the b-plane; pass a smaller "
                         "window")
    t_end = u1 + u2
    year = _vs.SIDEREAL_YEAR_DAYS
    skipped: list[_Outcome] = []
    rows: list[dict] = []
    cands = _candidates(lov, t_end, wkm, year, max_k)
    cands.sort(key=lambda c: (c[0], c[1]))
    ratio = 1.0
    if calibrate and cands:
        # Refine the earliest resonance alone, then scale the analytic period.
        first = _refine(lov, [cands[0]], eph, forces, epsilon, dmax, t_end, skipped, year)
        if first and math.isfinite(first[0]["_s_centre"]):
            ratio = _period_ratio(lov, cands[0], first[0]["_s_centre"], year)
            rows.extend(first)
        cands_new = _candidates(lov, t_end, wkm, year * ratio, max_k)
        done = {(cands[0][0], cands[0][1], round(cands[0][2]))}
        cands = [c for c in cands_new
                 if not (rows and (c[0], c[1]) == (cands[0][0], cands[0][1])
                         and abs(c[2] - rows[0]["_s_centre"]) < 50.0)]
        del done
    rows.extend(_refine(lov, cands, eph, forces, epsilon, dmax, t_end, skipped, year))
    if include_moon:
        moon_lov = dataclasses.replace(lov, body="moon")
        rows.extend(_refine_moon(moon_lov, [r for r in rows if r["body"] == "earth"], eph,
                                 forces, epsilon, dmax, t_end, skipped))
    rows = [r for r in rows if r.get("_ok")]
    rows.sort(key=lambda r: r["_t"])
    if classify:
        _classify(lov, skipped, eph, forces, epsilon, dmax)
    return _table(lov, rows, skipped, ratio, dmax, window, until)


def _period_ratio(lov, cand, s_num, year):
    """Ratio of the effective resonant period to the analytic one at the numeric
    keyhole: the analytic circle through the numeric keyhole has period
    ``P_an(s_num)``; the resonance needs ``k/h`` years."""
    k, h = cand[0], cand[1]
    z = lov.zeta_km + s_num
    ct = _vs.cos_theta_after(lov.opik, lov.xi_on_line(z), z)
    a = _vs.semimajor_axis_after(lov.opik, ct)
    p_an = 2 * math.pi * math.sqrt(a**3 / lov.opik.gm_sun_km3_s2) / 86400.0
    return float(p_an / (k / h * year))


@dataclass
class _Outcome:
    """A resonance that gave no keyhole: its ``meta["no_keyhole"]`` text and its
    structured record for ``meta["resonances"]``."""

    text: str
    body: str
    k: int
    h: int
    dzeta_km: float
    outcome: str
    detail: str
    t_exp: float
    moid_au: float | None = None

    def record(self) -> dict:
        return {"k": int(self.k), "h": int(self.h), "body": self.body,
                "dzeta_km": float(self.dzeta_km), "outcome": self.outcome,
                "moid_au": None if self.moid_au is None else float(self.moid_au),
                "detail": self.detail}


#: Outcomes of ``meta["resonances"]`` of :func:`keyholes`.
RESONANCE_OUTCOMES = ("keyhole", "close return", "no close approach: MOID", "unresolved")

#: An unresolved resonance is examined on LOV orbits within this many km of zeta of its
#: prediction (half-width) ...
_MOID_HALF_WIDTH_KM = 50.0
#: ... spaced by this many km ...
_MOID_STEP_KM = 5.0
#: ... at these offsets [days] from the resonant date (the osculating MOID over the
#: return year, every 30 days).
_MOID_OFFSETS_DAYS = np.arange(-180.0, 181.0, 30.0)
#: Earth approaches closer than this [au] between the encounter and the return year are
#: reported as intermediate encounters.
_INTERMEDIATE_AU = 0.1
#: "No close approach: MOID" needs every sampled MOID, less twice the largest change
#: between neighbouring samples (along the LOV and in time), above this [au].
MOID_CLEAR_AU = 0.01


def _classify(lov: LineOfVariations, items: list, eph: Ephemeris, forces, epsilon,
              dmax: float | None = None, clear_au: float = MOID_CLEAR_AU) -> None:
    """Examine the unresolved outcomes ``items`` (in place): the Earth MOID of the LOV
    orbits around each prediction over its return year, and their approaches.

    An impact at the return needs the osculating heliocentric MOID (``|xi'|`` to
    first order) below the focused radius (~9e-5 au for the Earth) some weeks before
    the approach; the MOID is sampled every ``_MOID_STEP_KM`` along the LOV and every
    30 days, and twice the largest change between neighbouring samples (along the
    LOV, in time) is the margin: with every sample minus that margin above
    ``clear_au`` (:data:`MOID_CLEAR_AU`, > 100 focused radii) no orbit of the
    neighbourhood comes close at this return. Failing that, the same test on the
    returns' b-plane ``b'`` against the focused radius (or the
    ``return_distance_max`` threshold, ``dmax``) gives "close return" (no keyhole
    near the prediction).
    """
    from ..elements import moid
    from ..nbody import propagate_nbody_grid

    sol = lov.solution
    offs = np.arange(-_MOID_HALF_WIDTH_KM, _MOID_HALF_WIDTH_KM + 1e-9, _MOID_STEP_KM)
    for it in items:
        if it.outcome != "unresolved" or it.body != "earth":
            continue
        s = it.dzeta_km + offs
        states, ng = clone_states(sol, lov.parameters(s))
        times = Time(it.t_exp + _MOID_OFFSETS_DAYS, format="jd", scale="tdb")
        try:
            grid = propagate_nbody_grid(states, times, nongrav=ng,
                                        nongrav_model=sol.nongrav_model, forces=forces,
                                        ephemeris=eph, epsilon=epsilon, progress=False)
            tab = close_approaches(states, Time(it.t_exp - _MOID_OFFSETS_DAYS[0], format="jd",
                                                scale="tdb"),
                                   bodies=("earth",), distance_max=_RETURN_SEARCH_AU * u.au,
                                   nongrav=ng, nongrav_model=sol.nongrav_model,
                                   forces=forces, ephemeris=eph, epsilon=epsilon,
                                   progress=False, impacts=False)
        except ConvergenceError as exc:
            it.detail += f"; the MOID scan failed ({exc})"
            continue
        m = np.asarray(moid(grid, "earth", ephemeris=eph).distance.to_value(u.au))
        m_min = float(np.min(m))
        jump_s = float(np.max(np.abs(np.diff(m, axis=0))))
        jump_t = float(np.max(np.abs(np.diff(m, axis=1))))
        bound = m_min - 2.0 * (jump_s + jump_t)
        jd = tab["time"].tdb.jd1 + tab["time"].tdb.jd2
        d_au = tab["distance"].to_value(u.au)
        mid = ((jd > lov.time_tdb_jd + 5.0) & (jd < it.t_exp + _MOID_OFFSETS_DAYS[0])
               & (d_au < _INTERMEDIATE_AU))
        near = np.abs(jd - it.t_exp) <= -_MOID_OFFSETS_DAYS[0]
        words = [f"LOV orbits within {_MOID_HALF_WIDTH_KM:g} km ({len(s)} orbits): Earth "
                 f"MOID {m_min:.2g} .. {float(np.max(m)):.2g} au over the return year "
                 f"(neighbour changes {jump_s:.1g} au along the LOV, {jump_t:.1g} au in "
                 "30 days)"]
        if mid.any():
            n_orb = len(np.unique(np.asarray(tab["particle"])[mid]))
            i = int(np.flatnonzero(mid)[np.argmin(d_au[mid])])
            words.append(f"{n_orb} of them approach the Earth within {_INTERMEDIATE_AU:g} au "
                         f"between the encounter and the return (closest "
                         f"{d_au[i]:.2g} au on {from_jd_tdb(jd[i], 0.0).iso[:10]})")
        words.append("closest approach within 180 days of the resonant date "
                     + (f"{float(np.min(d_au[near])):.3f} au" if near.any()
                        else f"beyond {_RETURN_SEARCH_AU:g} au"))
        it.moid_au = m_min
        # The return of each orbit as _evaluate defines it: its closest approach within
        # the return window; its b-plane point.
        p = np.asarray(tab["particle"])
        ret = []
        for j in range(len(s)):
            r = np.flatnonzero((p == j) & (np.abs(jd - it.t_exp) < _RETURN_WINDOW_DAYS)
                               & (jd > lov.time_tdb_jd + 5.0))
            ret.append(int(r[np.argmin(d_au[r])]) if r.size else -1)
        ret = np.array(ret)
        scan = None
        if np.all(ret >= 0):
            bq = _bplane_rows(tab, ret, "earth", eph)
            b = np.hypot(bq.xi_km, bq.zeta_km)
            thr = float(np.max(_threshold("earth", bq.v_inf_km_s, dmax)))
            jump_b = float(np.max(np.abs(np.diff(b))))
            scan = (float(np.min(b)), jump_b, float(np.min(b)) - 2.0 * jump_b, thr,
                    jd[ret] - it.t_exp, d_au[ret])
        if bound > clear_au:
            it.outcome = "no close approach: MOID"
            it.detail = (f"no impact possible at this return: MOID >= {m_min:.4g} au "
                         f"(less twice the neighbour changes: {bound:.4g} au > {clear_au:g} au); "
                         + "; ".join(words))
        elif scan is not None and scan[2] > scan[3]:
            b_min, jump_b, bound_b, thr, dt, dist = scan
            it.outcome = "close return"
            it.detail = (f"no keyhole near the prediction: every one of the {len(s)} LOV "
                         f"orbits within {_MOID_HALF_WIDTH_KM:g} km returns ({dt.min():+.0f} .. "
                         f"{dt.max():+.0f} days from the resonant date, {dist.min():.3f} .. "
                         f"{dist.max():.3f} au) with b' >= {b_min:.0f} km, less twice the "
                         f"largest change between neighbours ({jump_b:.0f} km): "
                         f"{bound_b:.0f} km > "
                         f"the threshold {thr:.0f} km; " + "; ".join(words)
                         + f" (first: {it.detail})")
        else:
            it.detail += "; " + "; ".join(words)
            if mid.any():
                it.detail += (" -- a return after an intermediate encounter, which the "
                              "first-return search does not follow")


def _refine(lov, cands, eph, forces, epsilon, dmax, t_end, skipped, year) -> list[dict]:
    """Numerical refinement of candidate crossings (batched over candidates)."""
    if not cands:
        return []
    n = len(cands)
    k = np.array([c[0] for c in cands])
    t_exp = lov.time_tdb_jd + k * year
    t_exp = np.minimum(t_exp, t_end + _RETURN_WINDOW_DAYS)  # a last return near the horizon
    s = np.array([c[2] for c in cands])
    # 1. secant on zeta' from the prediction and a 1 km step.
    s_prev, s_cur = s.copy(), s + 1.0
    ev_prev = _evaluate(lov, s_prev, t_exp, eph, forces, epsilon)
    ev_cur = _evaluate(lov, s_cur, t_exp, eph, forces, epsilon)
    active = np.isfinite(ev_prev.zeta_ret) & np.isfinite(ev_cur.zeta_ret)
    # What the first evaluation saw of the return (for the outcome of an unresolved one).
    seen_dt = ev_prev.t_ret - t_exp
    seen_dist = ev_prev.dist_ret / AU_KM
    bthr = np.full(n, np.nan)
    for _ in range(10):
        bthr = _threshold(lov.body, np.where(np.isfinite(ev_cur.vinf_ret), ev_cur.vinf_ret, 5.0),
                          dmax)
        close = np.abs(ev_cur.zeta_ret) < 3.0 * bthr
        todo = active & ~close
        if not todo.any():
            break
        s_new = _secant_root(ev_prev.zeta_ret, ev_cur.zeta_ret, s_prev, s_cur)
        # Keep the step inside the window of a linear zeta'(s): at most 200 km.
        s_new = s_cur + np.clip(s_new - s_cur, -200.0, 200.0)
        idx = np.flatnonzero(todo & np.isfinite(s_new))
        ev_new = _evaluate(lov, s_new[idx], t_exp[idx], eph, forces, epsilon)
        for name in ("xi", "zeta", "t_ret", "dist_ret", "xi_ret", "zeta_ret", "vinf_ret"):
            getattr(ev_prev, name)[idx] = getattr(ev_cur, name)[idx]
            getattr(ev_cur, name)[idx] = getattr(ev_new, name)
        s_prev[idx], s_cur[idx] = s_cur[idx], s_new[idx]
        active &= np.isfinite(ev_cur.zeta_ret) & np.isfinite(ev_prev.zeta_ret)
    ok = active & (np.abs(ev_cur.zeta_ret) < 3.0 * bthr)
    slope = (ev_cur.zeta_ret - ev_prev.zeta_ret) / (s_cur - s_prev)
    s_c = _secant_root(ev_prev.zeta_ret, ev_cur.zeta_ret, s_prev, s_cur)
    # 2. centre from two orbits outside the keyhole (2 half-widths away).
    half = np.where(ok, bthr / np.abs(slope), 1.0)
    sa, sb = s_c - 2.0 * half, s_c + 2.0 * half
    idx = np.flatnonzero(ok)
    eva = _evaluate(lov, sa[idx], t_exp[idx], eph, forces, epsilon)
    evb = _evaluate(lov, sb[idx], t_exp[idx], eph, forces, epsilon)
    rows = []
    for j in range(n):
        kk, hh = cands[j][0], cands[j][1]
        label = f"{kk}:{hh} near dzeta {cands[j][2]:+.0f} km"
        if j not in idx:
            if np.isfinite(seen_dt[j]):
                why = (f"the secant on the return's zeta' did not converge (a return "
                       f"{seen_dt[j]:+.0f} days from the resonant date at "
                       f"{seen_dist[j]:.3f} au at the prediction)")
            else:
                why = (f"no approach within {_RETURN_SEARCH_AU} au and "
                       f"{_RETURN_WINDOW_DAYS:.0f} days of the resonant date at the prediction")
            skipped.append(_Outcome(
                f"{label}: no return within {_RETURN_SEARCH_AU} au and "
                f"{_RETURN_WINDOW_DAYS:.0f} days of the resonant date found",
                lov.body, kk, hh, float(cands[j][2]), "unresolved", why, float(t_exp[j])))
            continue
    if idx.size == 0:
        return rows
    za, zb = eva.zeta_ret, evb.zeta_ret
    sl = (zb - za) / (sb[idx] - sa[idx])
    sc = sa[idx] - za / sl
    xi_r = 0.5 * (eva.xi_ret + evb.xi_ret)
    vinf = 0.5 * (eva.vinf_ret + evb.vinf_ret)
    thr = _threshold(lov.body, np.where(np.isfinite(vinf), vinf, 5.0), dmax)
    has = np.isfinite(sc) & (np.abs(xi_r) < thr)
    for jj, j in enumerate(idx):
        if not has[jj]:
            why = ("return not found" if not np.isfinite(sc[jj]) else
                   f"the return's xi' = {xi_r[jj]:.0f} km exceeds the threshold "
                   f"{thr[jj]:.0f} km (a close return, no keyhole)")
            skipped.append(_Outcome(
                f"{cands[j][0]}:{cands[j][1]} near dzeta {sc[jj]:+.1f} km: {why}", lov.body,
                cands[j][0], cands[j][1],
                float(sc[jj]) if np.isfinite(sc[jj]) else float(cands[j][2]),
                "close return" if np.isfinite(sc[jj]) else "unresolved", why,
                float(t_exp[j])))
    # 3. edges: secant on f = b' - thr from the outer orbits and the linear prediction.
    sel = np.flatnonzero(has)
    if sel.size == 0:
        return rows
    halfw = np.sqrt(thr[sel] ** 2 - xi_r[sel] ** 2) / np.abs(sl[sel])
    edges = {}
    for sign, outer_s, outer_ev in ((-1.0, sa[idx][sel], eva), (1.0, sb[idx][sel], evb)):
        f_out = np.hypot(outer_ev.xi_ret[sel], outer_ev.zeta_ret[sel]) - thr[sel]
        s0, f0 = outer_s.copy(), f_out
        s1 = sc[sel] + sign * halfw
        ev1 = _evaluate(lov, s1, t_exp[idx][sel], eph, forces, epsilon)
        f1 = np.hypot(ev1.xi_ret, ev1.zeta_ret) - thr[sel]
        step = np.abs(s1 - s0)
        for _ in range(12):
            todo = np.isfinite(f1) & np.isfinite(f0) & (step > EDGE_TOL_KM) & (f1 != f0)
            if not todo.any():
                break
            s2 = _secant_root(f0, f1, s0, s1)
            t = np.flatnonzero(todo)
            ev2 = _evaluate(lov, s2[t], t_exp[idx][sel][t], eph, forces, epsilon)
            f2 = np.hypot(ev2.xi_ret, ev2.zeta_ret) - thr[sel][t]
            step[t] = np.abs(s2[t] - s1[t])
            s0[t], f0[t] = s1[t], f1[t]
            s1[t], f1[t] = s2[t], f2
            for name in ("xi", "zeta", "t_ret", "dist_ret", "xi_ret", "zeta_ret", "vinf_ret"):
                getattr(ev1, name)[t] = getattr(ev2, name)
        edges[sign] = (s1, ev1, step)
    (s_lo, ev_lo, st_lo), (s_hi, ev_hi, st_hi) = edges[-1.0], edges[1.0]
    dzds = np.abs((ev_hi.zeta - ev_lo.zeta) / (s_hi - s_lo))
    gm = _bodies.body(lov.body).gm_au3_d2 * _GM_KM3_S2
    radius = _bodies.EARTH_RADIUS_WGS84_KM if lov.body == "earth" else _bodies.MOON_RADIUS_KM
    r_imp = radius if dmax is None else dmax
    for jj, j in enumerate(idx[sel]):
        m = int(np.flatnonzero(idx == j)[0])
        good = np.isfinite(ev_lo.zeta[jj]) and np.isfinite(ev_hi.zeta[jj])
        if not good:
            skipped.append(_Outcome(f"{cands[j][0]}:{cands[j][1]}: an edge did not converge",
                                    lov.body, cands[j][0], cands[j][1], float(sc[m]),
                                    "unresolved", "an edge of the keyhole did not converge",
                                    float(t_exp[j])))
            continue
        if not (np.isfinite(ev_lo.t_ret[jj]) and np.isfinite(ev_hi.t_ret[jj])):
            # A wide threshold (return_distance_max) can put an edge where the return
            # leaves the searched window: no return date to report.
            why = (f"an edge's return was not found within {_RETURN_SEARCH_AU} au and "
                   f"{_RETURN_WINDOW_DAYS:.0f} days")
            skipped.append(_Outcome(f"{cands[j][0]}:{cands[j][1]}: {why}", lov.body,
                                    cands[j][0], cands[j][1], float(sc[m]), "unresolved",
                                    why, float(t_exp[j])))
            continue
        vi = 0.5 * (ev_lo.vinf_ret[jj] + ev_hi.vinf_ret[jj])
        rows.append({
            "_ok": True, "_t": 0.5 * (ev_lo.t_ret[jj] + ev_hi.t_ret[jj]),
            "_s_centre": float(sc[m]), "_s_edges": (float(s_lo[jj]), float(s_hi[jj])),
            "body": lov.body, "k": cands[j][0], "h": cands[j][1],
            "xi": 0.5 * (ev_lo.xi[jj] + ev_hi.xi[jj]),
            "zeta": 0.5 * (ev_lo.zeta[jj] + ev_hi.zeta[jj]),
            "width_m": abs(ev_hi.zeta[jj] - ev_lo.zeta[jj]) * 1e3,
            "v_impact": math.sqrt(vi * vi + 2.0 * gm / r_imp),
            "zeta_valsecchi": cands[j][3],
            "edge_tol_m": max(st_lo[jj], st_hi[jj]) * dzds[jj] * 1e3,
            "xi_return": 0.5 * (ev_lo.xi_ret[jj] + ev_hi.xi_ret[jj]),
            "circle": (cands[j][4], cands[j][5]),
        })
    return rows


def _refine_moon(lov, earth_rows, eph, forces, epsilon, dmax, t_end, skipped):
    """Moon keyholes next to every Earth keyhole: the same secant machinery on the
    Moon's b-plane, started from the Earth keyhole shifted by the Moon's offset."""
    cands = [(r["k"], r["h"], r["_s_centre"], r["zeta_valsecchi"], *r["circle"])
             for r in earth_rows]
    return _refine(lov, cands, eph, forces, epsilon, dmax, t_end, skipped,
                   _vs.SIDEREAL_YEAR_DAYS)


def _table(lov, rows, skipped, ratio, dmax, window, until) -> QTable:
    t = QTable()
    t["return_date"] = (from_jd_tdb(np.array([r["_t"] for r in rows]), np.zeros(len(rows)))
                        if rows else Time([], format="jd", scale="tdb"))
    t["return_date"].format = "iso"
    t["body"] = np.array([r["body"] for r in rows], dtype="U8")
    t["resonance"] = np.array([f"{r['k']}:{r['h']}" for r in rows], dtype="U8")
    t["k"] = np.array([r["k"] for r in rows], dtype=np.int64)
    t["h"] = np.array([r["h"] for r in rows], dtype=np.int64)
    t["xi"] = np.array([r["xi"] for r in rows], dtype=float) * u.km
    t["zeta"] = np.array([r["zeta"] for r in rows], dtype=float) * u.km
    t["width"] = np.array([r["width_m"] for r in rows], dtype=float) * u.m
    dist = np.array([r["zeta"] for r in rows], dtype=float) - lov.zeta_km
    t["distance"] = dist * u.km
    t["sigma_lov"] = dist / lov.sigma_zeta_km
    t["v_impact"] = np.array([r["v_impact"] for r in rows], dtype=float) * u.km / u.s
    t["zeta_valsecchi"] = np.array([r["zeta_valsecchi"] for r in rows], dtype=float) * u.km
    t["edge_tolerance"] = np.array([r["edge_tol_m"] for r in rows], dtype=float) * u.m
    t["xi_return"] = np.array([r["xi_return"] for r in rows], dtype=float) * u.km
    t.meta.update({
        "solution": lov.solution.solution,
        "object": lov.solution.name,
        "encounter_time_tdb_jd": lov.time_tdb_jd,
        "encounter_utc": str(utc_iso(Time(lov.time_tdb_jd, format="jd", scale="tdb"))),
        "body": lov.body,
        "nominal_xi_km": lov.xi_km,
        "nominal_zeta_km": lov.zeta_km,
        "nominal_distance_km": lov.distance_km,
        "bplane_covariance_km2": lov.covariance_km2.tolist(),
        "lov_slope_dxi_dzeta": lov.slope,
        "sigma_zeta_km": lov.sigma_zeta_km,
        "opik": dataclasses.asdict(lov.opik),
        "period_calibration": ratio,
        "criterion": ("b' < focused radius (impact)" if dmax is None
                      else f"return closer than {dmax} km"),
        "window_km": float(window.to_value(u.km)),
        "until": until.tdb.iso,
        "edge_tolerance_km": EDGE_TOL_KM,
        "no_keyhole": [o.text for o in skipped],
        "resonances": sorted(
            [{"k": int(r["k"]), "h": int(r["h"]), "body": r["body"],
              "dzeta_km": float(r["_s_centre"]), "outcome": "keyhole", "moid_au": None,
              "detail": f"impact keyhole {r['width_m']:.1f} m wide, return "
                        f"{from_jd_tdb(r['_t'], 0.0).iso[:10]}"} for r in rows]
            + [o.record() for o in skipped],
            key=lambda d: (d["k"], d["h"], d["body"], d["dzeta_km"])),
        "moid_clear_au": MOID_CLEAR_AU,
    })
    t.meta["_rows"] = [{k: v for k, v in r.items() if k.startswith("_s")} for r in rows]
    return t


# ----------------------------------------------------------------------------- orbit_through


def orbit_through(solution: OrbitSolution, zeta: u.Quantity, xi: u.Quantity | None = None, *,
                  encounter: Time | None = None, body: str = "earth",
                  tolerance: u.Quantity = 1 * u.cm, max_iterations: int = 8,
                  forces: Sequence[str] | None = None, ephemeris: Ephemeris | None = None,
                  epsilon: float | None = None) -> OrbitSolution:
    """The orbit of the solution whose encounter passes through a b-plane point.

    The smallest correction in the covariance metric (the minimum of
    ``dp^T C^-1 dp`` subject to the linearised constraint): with
    ``K = d(xi, zeta) / dp`` from :func:`apophis_sim.uncertainty.encounter_jacobian`,
    ``dp = C K^T (K C K^T)^-1 d(xi, zeta)``. With ``xi=None`` only zeta is
    constrained (``K`` is the zeta row): the result lies on the constrained LOV.
    Iterated with full propagation (:func:`apophis_sim.uncertainty.encounter_of`
    via :func:`~apophis_sim.nbody.close_approaches`) until the b-plane point
    matches within ``tolerance``; the Jacobian is re-evaluated at the current
    orbit when an iteration gains less than a factor 10.

    Parameters
    ----------
    solution : OrbitSolution
        With a covariance over the six elements, optionally with A1 and/or A2.
    zeta, xi : Quantity [length]
        Target b-plane coordinates (Valsecchi's axes, km).
    encounter, body, forces, ephemeris, epsilon
        As in :func:`keyholes`.
    tolerance : Quantity [length]
        Required match of the b-plane point (default 1 cm; the encounter itself
        is located to ~1e-13 day, i.e. < 1 mm).
    max_iterations : int
        Newton iterations allowed (default 8).

    Returns
    -------
    OrbitSolution
        Same covariance (labels, units, epoch), new nominal parameters and state;
        ``solution`` gets ``"+orbit_through"`` appended and ``provenance
        ["orbit_through"]`` records the target, the achieved point, the
        displacement ``dp`` and its chi ``sqrt(dp^T C^-1 dp)``.

    Raises
    ------
    PhysicalTypeError, NonFiniteInputError
        ``zeta``/``xi``/``tolerance`` without length units, or NaN.
    ConvergenceError
        Not matched within ``max_iterations``.
    """
    sol = _check_solution(solution)
    body = _check_body(body)
    from ..units import integer

    max_iterations = integer(max_iterations, "max_iterations", minimum=0, maximum=1000)
    z_arr = to_canonical(zeta, u.km, "zeta")
    x_arr = None if xi is None else to_canonical(xi, u.km, "xi")
    for name, arr in (("zeta", z_arr), ("xi", x_arr)):
        if arr is not None and np.ndim(arr) != 0:
            raise InputError(f"{name} must be one B-plane coordinate, got shape "
                             f"{np.shape(arr)}")
    z_t = float(z_arr)
    x_t = None if x_arr is None else float(x_arr)
    tol = float(to_canonical(tolerance, u.km, "tolerance"))
    if np.ndim(z_t) or not tol > 0:
        raise InputError("zeta must be a scalar length and tolerance positive")
    eph = ephemeris if ephemeris is not None else Ephemeris.open()
    until = encounter if encounter is not None else Time(_ENCOUNTER_UNTIL, scale="tdb")
    _time(until, "encounter")
    c = np.asarray(sol.covariance)
    p0 = _own_nominal(sol)
    p = p0.copy()
    cur = sol
    gain_ok = True
    resid_prev = math.inf
    ej = encounter_jacobian(sol, until=until, body=body, forces=forces, ephemeris=eph,
                            epsilon=epsilon)
    point = ej.nominal_vector[2:4]
    for it in range(max_iterations + 1):
        if x_t is None:
            d = np.array([z_t - point[1]])
            kk = ej.jacobian[3:4]
            resid = abs(float(d[0]))
        else:
            d = np.array([x_t - point[0], z_t - point[1]])
            kk = ej.jacobian[2:4]
            resid = float(np.max(np.abs(d)))
        if resid < tol:
            break
        if it == max_iterations:
            raise ConvergenceError(
                f"orbit_through did not reach zeta={z_t} km"
                + ("" if x_t is None else f", xi={x_t} km")
                + f" within {tol * 1e3:g} m in {max_iterations} iterations (last miss "
                  f"{resid * 1e3:.3g} m); raise max_iterations or the tolerance")
        if not gain_ok:
            ej = encounter_jacobian(cur, until=until, body=body, forces=forces,
                                    ephemeris=eph, epsilon=epsilon)
            kk = ej.jacobian[3:4] if x_t is None else ej.jacobian[2:4]
        p = p + c @ kk.T @ np.linalg.solve(kk @ c @ kk.T, d)
        cur = _moved(sol, p)
        tab = close_approaches(cur, until, bodies=(body,), distance_max=0.01 * u.au,
                               forces=forces, ephemeris=eph, epsilon=epsilon, impacts=False)
        if len(tab) == 0:
            raise ConvergenceError(f"the corrected orbit has no approach to {body} before "
                                   f"{until.tdb.iso}: the target is too far from the nominal")
        row = int(np.argmin(tab["distance"].to_value(u.km)))
        bp = _bplane_rows(tab, [row], body, eph)
        point = np.array([bp.xi_km[0], bp.zeta_km[0]])
        gain_ok = resid / 10.0 > (abs(z_t - point[1]) if x_t is None
                                  else max(abs(x_t - point[0]), abs(z_t - point[1])))
        resid_prev = resid
    del resid_prev
    dp = p - p0
    fac_chi = covariance_distance(c, dp)
    prov = dict(sol.provenance)
    prov["orbit_through"] = {
        "target_zeta_km": z_t, "target_xi_km": x_t,
        "achieved_xi_km": float(point[0]), "achieved_zeta_km": float(point[1]),
        "dp": dp.tolist(), "chi": fac_chi, "from_solution": sol.solution,
        "method": "minimum covariance-norm correction (C K^T (K C K^T)^-1), iterated with "
                  "full n-body propagation",
    }
    return dataclasses.replace(cur, provenance=prov)


def _moved(sol: OrbitSolution, p: np.ndarray) -> OrbitSolution:
    """The solution with nominal parameters ``p`` (over its covariance labels; same
    covariance)."""
    states, ng = clone_states(sol, p[None, :])
    state = states[0] if states.shape else states
    x0 = _own_nominal(sol)
    tp_int = math.floor(x0[2])
    tp = from_jd_tdb(float(tp_int), (x0[2] - tp_int) + (p[2] - x0[2]))
    el = Elements(q=p[1] * u.au, e=p[0], inc=p[5] * u.deg, raan=p[3] * u.deg,
                  argp=p[4] * u.deg, tp=tp, epoch=sol.state.epoch, frame="ecliptic",
                  centre="sun", gm=GM_SUN_SBDB)
    nominal = dict(sol.nominal_elements)
    nominal.update({lab: float(v) for lab, v in zip(sol.covariance_labels, p)})
    name = sol.solution if sol.solution.endswith("+orbit_through") \
        else sol.solution + "+orbit_through"
    return dataclasses.replace(sol, solution=name, state=state, nongrav=ng[0],
                               nominal_elements=nominal, elements=el)
