"""Deflection: impulses, kinetic impactors, and how far they move an encounter.

An impulse ``dv`` applied at time ``at`` moves the next encounter's B-plane point by
``d(xi, zeta) = G dv`` to first order, where ``G`` is the 2x3 block of the encounter
Jacobian with respect to the velocity at ``at`` -- the state transition matrix from
``at`` to the close approach, chained with the B-plane geometry
(:func:`apophis_sim.uncertainty.linear.variational_approaches`). A kinetic impactor of
mass ``m`` hitting at relative velocity ``u`` imparts ``dv = beta m u / M`` (momentum
enhancement ``beta >= 1``; Rivkin et al. 2021, PSJ 2, 173 for DART's beta ~3.6).

Directions: RTN is radial (from the Sun), transverse (in the orbit plane, along the
motion: the along-track direction for a near-circular orbit) and normal (r x v) at
``at``; ICRF otherwise.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import astropy.units as u
import numpy as np
from astropy.table import QTable
from astropy.time import Time

from .. import nbody as _nbody
from .._deprecation import deprecated_attribute, renamed_kwargs
from .._core import coe_partials as _cp
from .._core import frames as _frames
from ..bodies import GM_SUN_SBDB
from ..elements import Elements
from ..ephemeris import Ephemeris
from ..errors import InputError, NonFiniteInputError, OrbitTypeError, PhysicalTypeError
from ..solution import OrbitSolution
from ..state import State
from ..time import blame_range, dt_days, to_jd_tdb, utc_iso
from ..uncertainty.linear import icrf_partials, parameter_space, variational_approaches
from ..units import AU_KM

__all__ = ["Deflection", "EncounterShift", "KeyholeDeflection", "deflect", "deflection_map",
           "dv_for_shift", "dv_into_keyhole", "kinetic_impactor_dv", "rtn_basis"]

_KM_S = AU_KM / 86400.0
_MM_S_IN_AU_D = 1e-6 / _KM_S  # 1 mm/s in au/day
_FRAMES = ("rtn", "icrf")


def rtn_basis(r_au: np.ndarray, v_au_d: np.ndarray) -> np.ndarray:
    """Rows: radial, transverse, normal unit vectors (ICRF) of heliocentric (r, v).

    Parameters
    ----------
    r_au : ndarray (3,)
        Heliocentric ICRF position [au].
    v_au_d : ndarray (3,)
        Heliocentric ICRF velocity [au/day].

    Returns
    -------
    ndarray (3, 3)
        Rows R, T, N.
    """
    from ..elements import parallel
    from ..units import real_array

    r_au = real_array(r_au, "r_au", shape=(3,))
    v_au_d = real_array(v_au_d, "v_au_d", shape=(3,))
    if not np.any(r_au) or parallel(r_au, v_au_d, 1e-12):
        raise OrbitTypeError("r_au, v_au_d: r = 0, v = 0 or v parallel to r: the transverse "
                             "and normal directions are undefined; pass a state with some "
                             "transverse velocity")
    rh = r_au / np.linalg.norm(r_au)
    nh = np.cross(r_au, v_au_d)
    nh /= np.linalg.norm(nh)
    return np.stack([rh, np.cross(nh, rh), nh])


def _velocity(dv: u.Quantity, name: str) -> np.ndarray:
    if not isinstance(dv, u.Quantity):
        raise PhysicalTypeError(f"{name} must be a velocity Quantity such as [0, 1, 0] * u.mm / "
                                f"u.s, got {type(dv).__name__}")
    if np.iscomplexobj(dv.value):
        raise PhysicalTypeError(f"{name} must be real, got a complex Quantity; its imaginary "
                                f"part would be lost: pass {name}.real")
    try:
        arr = np.asarray(dv.to_value(u.au / u.day), dtype=np.float64)
    except u.UnitConversionError:
        raise PhysicalTypeError(f"{name} must be a velocity (e.g. mm/s), got unit "
                                f"{dv.unit}") from None
    if arr.shape != (3,):
        raise InputError(f"{name} must have shape (3,), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise NonFiniteInputError(f"{name} contains NaN or infinity")
    if np.any(np.abs(arr) > 1.0):  # 1 au/day = 1731 km/s: no deflection is that fast
        raise InputError(f"{name} = {dv} is faster than 1 au/day (1731 km/s); pass a "
                         "deflection in mm/s or m/s")
    return arr


def kinetic_impactor_dv(spacecraft_mass: u.Quantity, relative_velocity: u.Quantity,
                        asteroid_mass: u.Quantity, beta: float = 1.0) -> u.Quantity:
    """Velocity change of an asteroid hit by an impactor: ``beta m u / M``.

    Parameters
    ----------
    spacecraft_mass, asteroid_mass : Quantity [mass]
        Impactor and target masses (> 0). JPL publishes no mass for Apophis; ~4e10 -
        6e10 kg follows from a 0.34 km equivalent diameter and 2-3 g/cm^3 (state yours).
    relative_velocity : Quantity [velocity], shape (3,)
        Impactor velocity relative to the asteroid (its direction is the push).
    beta : float
        Momentum enhancement from ejecta, >= 1 (DART: ~3.6, Cheng et al. 2023).

    Returns
    -------
    Quantity (3,) [mm/s]
    """
    from ..units import to_canonical

    m, big = (to_canonical(q, u.kg, name) for q, name in ((spacecraft_mass, "spacecraft_mass"),
                                                          (asteroid_mass, "asteroid_mass")))
    for name, val in (("spacecraft_mass", m), ("asteroid_mass", big)):
        if np.ndim(val) != 0 or not val > 0:
            raise InputError(f"{name} must be one positive mass (e.g. 500 * u.kg), got {val!r}")
    m, big = float(m), float(big)
    if not (isinstance(beta, (int, float)) and math.isfinite(beta) and beta >= 1.0):
        raise InputError(f"beta (momentum enhancement) must be >= 1, got {beta!r}")
    vel = _velocity(relative_velocity, "relative_velocity")
    return (beta * m / big * vel / _MM_S_IN_AU_D) * u.mm / u.s


@dataclasses.dataclass(frozen=True)
class Deflection:
    """The deflected solution and the impulse applied.

    Attributes
    ----------
    solution : OrbitSolution
        The deflected solution, its epoch ``at``.
    at : Time
        When the impulse was applied.
    dv_icrf : Quantity [mm/s], shape (3,)
        The impulse in ICRF axes.
    dv_rtn : Quantity [mm/s], shape (3,)
        The impulse in radial, transverse, normal axes at ``at``.
    """

    solution: OrbitSolution
    at: Time
    dv_icrf: u.Quantity
    dv_rtn: u.Quantity

    dv_icrf_mm_s = deprecated_attribute("dv_icrf", lambda q: q.to_value(u.mm / u.s))
    dv_rtn_mm_s = deprecated_attribute("dv_rtn", lambda q: q.to_value(u.mm / u.s))

    def __repr__(self) -> str:
        r, t, n = self.dv_rtn.to_value(u.mm / u.s)
        return (f"<Deflection at {utc_iso(self.at)} UTC: dv (R, T, N) = ({r:.4g}, {t:.4g}, "
                f"{n:.4g}) mm/s -> {self.solution.solution}>")


def deflect(solution: OrbitSolution, dv: u.Quantity, at: Time, *, frame: str = "rtn",
            forces: Sequence[str] | None = None, ephemeris: Ephemeris | None = None,
            epsilon: float | None = None) -> Deflection:
    """Apply an impulse ``dv`` at time ``at`` and return the deflected orbit solution.

    The solution is propagated to ``at`` with its variational equations; the impulse is
    added to the velocity; the new solution's epoch is ``at``, its elements are the
    osculating heliocentric ecliptic elements after the impulse, and its covariance is
    the original one mapped to those elements
    (``C' = M C M^T``, ``M = [J_el(at)^-1 K(at); I_A]``, ``K = [Phi J_el, P]``), so
    every tool (``linear_encounter``, ``covariance_at``, Monte Carlo) works on it.

    Parameters
    ----------
    solution : OrbitSolution
        From :meth:`OrbitSolution.from_sbdb` (or :func:`apophis`).
    dv : Quantity [velocity], shape (3,)
        The impulse, in ``frame`` axes.
    at : Time
        When it is applied.
    frame : {"rtn", "icrf"}
        Radial/transverse/normal at ``at``, or ICRF.
    forces, ephemeris, epsilon
        As in :func:`apophis_sim.propagate_nbody`.

    Returns
    -------
    Deflection
        ``.solution`` (OrbitSolution at ``at``), the impulse in ICRF and RTN [mm/s].
    """
    if not isinstance(solution, OrbitSolution):
        raise InputError(f"solution must be an OrbitSolution, got {type(solution).__name__}")
    if frame not in _FRAMES:
        from ..errors import UnknownNameError

        raise UnknownNameError("frame", frame, _FRAMES)
    dv_in = _velocity(dv, "dv")
    t1, t2 = _scalar_at(at)
    with blame_range("at"):
        st = _nbody.state_transition(solution, at, forces=forces, ephemeris=ephemeris,
                                     epsilon=epsilon)
    s = st.state.to_centre("sun", ephemeris=ephemeris).to_frame("icrf")
    basis = rtn_basis(s.r_au, s.v_au_d)
    dv_icrf = basis.T @ dv_in if frame == "rtn" else dv_in
    new_state = State.from_arrays(s.r_au, s.v_au_d + dv_icrf, float(t1), float(t2), "icrf",
                                  "sun")
    labels = tuple(solution.covariance_labels)
    k = parameter_space(icrf_partials(st, solution), solution)
    el = Elements.from_state(new_state.to_frame("ecliptic"),
                             gm=GM_SUN_SBDB * u.au**3 / u.day**2)
    e = float(el.e)
    _, j_new = _cp.elements_jacobian(
        e, float(el.q.to_value(u.au)), float(dt_days(el._ep1, el._ep2, el._tp1, el._tp2)),
        float(el.raan.to_value(u.rad)), float(el.argp.to_value(u.rad)),
        float(el.inc.to_value(u.rad)), float(el._mu))
    rot = np.zeros((6, 6))
    rot[:3, :3] = rot[3:, 3:] = _frames.ICRF_FROM_ECL
    j_new = rot @ j_new
    j_new[:, 3:6] *= math.pi / 180.0
    n = len(labels)
    mmat = np.zeros((n, n))
    mmat[:6] = np.linalg.solve(j_new, k)
    for j in range(6, n):
        mmat[j, j] = 1.0
    cov = mmat @ solution.covariance @ mmat.T
    tp = el.tp
    nominal = {"e": e, "q": float(el.q.to_value(u.au)), "tp": float(tp.jd1 + tp.jd2),
               "node": float(el.raan.to_value(u.deg)), "peri": float(el.argp.to_value(u.deg)),
               "i": float(el.inc.to_value(u.deg))}
    for lab in labels[6:]:
        nominal[lab] = float(solution.nominal_elements[lab])
    record = {"at_tdb_jd": float(t1) + float(t2),
              "dv_icrf_mm_s": (dv_icrf / _MM_S_IN_AU_D).tolist(),
              "dv_rtn_mm_s": (basis @ dv_icrf / _MM_S_IN_AU_D).tolist(), "frame": frame}
    prov = dict(solution.provenance)
    prov["deflections"] = list(prov.get("deflections", [])) + [record]
    new = dataclasses.replace(solution, solution=f"{solution.solution}+dv", state=new_state,
                              covariance=0.5 * (cov + cov.T), nominal_elements=nominal,
                              provenance=prov, elements=el, orbit_elements=None, moid_jpl=None)
    return Deflection(new, at, dv_icrf / _MM_S_IN_AU_D * (u.mm / u.s),
                      basis @ dv_icrf / _MM_S_IN_AU_D * (u.mm / u.s))


def deflection_map(solution: OrbitSolution, times: Time, *, until: Time | None = None,
                   body: str = "earth", forces: Sequence[str] | None = None,
                   ephemeris: Ephemeris | None = None, epsilon: float | None = None) -> QTable:
    """How far 1 mm/s at each time of ``times`` moves the next close approach to ``body``.

    For each time, one variational integration from the solution propagated there to
    the closest approach before ``until`` (default 2029-04-20) gives the derivatives of
    the CA time, distance and B-plane coordinates with respect to the velocity there;
    they are rotated to RTN and scaled to 1 mm/s.

    Parameters
    ----------
    solution : OrbitSolution
        The orbit to deflect.
    times : Time
        Impulse times (any shape; flattened).
    until : Time, optional
        End of the search for the approach (default 2029-04-20 TDB).
    body : str
        The body of the encounter (default ``"earth"``).
    forces, ephemeris, epsilon
        As in :func:`apophis_sim.propagate_nbody`.

    Returns
    -------
    QTable
        One row per (time, direction R/T/N): ``time`` (TDB), ``lead_time`` [day],
        ``direction``, ``dxi``, ``dzeta``, ``ddistance`` [km per mm/s], ``dtime``
        [s per mm/s], and ``dv_per_km`` [mm/s to move the approach distance by 1 km in
        that direction].
    """
    eph = ephemeris if ephemeris is not None else Ephemeris.open()
    until = until if until is not None else Time("2029-04-20", scale="tdb")
    t1, t2 = to_jd_tdb(times, "times")
    t1 = np.atleast_1d(t1)
    t2 = np.atleast_1d(t2)
    rows = []
    for a, b in zip(t1.ravel(), t2.ravel()):
        when = Time(a, b, format="jd", scale="tdb")
        s = _nbody.propagate_nbody(solution, when, forces=forces, ephemeris=eph,
                                   epsilon=epsilon)
        s = s.to_centre("sun", ephemeris=eph).to_frame("icrf")
        moved = dataclasses.replace(solution, state=s)
        evs = variational_approaches(moved, until, bodies=(body,), max_distance_au=0.01,
                                     forces=forces, ephemeris=eph, epsilon=epsilon)
        if not evs:
            raise InputError(f"no approach to {body} within 0.01 au between {utc_iso(when)} "
                             f"UTC and {utc_iso(until)} UTC; choose times before the "
                             f"encounter")
        ev = min(evs, key=lambda e: e.distance_au)
        basis = rtn_basis(s.r_au, s.v_au_d)
        g = ev.state_jacobian[:, 3:6] @ basis.T * _MM_S_IN_AU_D  # per mm/s along R, T, N
        lead = float(ev.nominal[0] - (a + b))
        for k, name in enumerate("RTN"):
            dd = float(g[1, k])
            rows.append((a, b, lead, name, float(g[2, k]), float(g[3, k]), dd,
                         float(g[0, k]) * 86400.0, 1.0 / abs(dd) if dd else math.inf))
    tab = QTable()
    tab["time"] = Time([r[0] for r in rows], [r[1] for r in rows], format="jd", scale="tdb")
    tab["lead_time"] = np.array([r[2] for r in rows]) * u.day
    tab["direction"] = np.array([r[3] for r in rows])
    tab["dxi"] = np.array([r[4] for r in rows]) * u.km / (u.mm / u.s)
    tab["dzeta"] = np.array([r[5] for r in rows]) * u.km / (u.mm / u.s)
    tab["ddistance"] = np.array([r[6] for r in rows]) * u.km / (u.mm / u.s)
    tab["dtime"] = np.array([r[7] for r in rows]) * u.s / (u.mm / u.s)
    tab["dv_per_km"] = np.array([r[8] for r in rows]) * (u.mm / u.s) / u.km
    tab.meta["body"] = body
    tab.meta["method"] = "STM from each time to the approach (linear), RTN at that time"
    return tab


Deflection.__init__ = renamed_kwargs(  # type: ignore[method-assign]
    dv_icrf_mm_s=("dv_icrf", lambda x: np.asarray(x) * (u.mm / u.s)),
    dv_rtn_mm_s=("dv_rtn", lambda x: np.asarray(x) * (u.mm / u.s)))(Deflection.__init__)


def _scalar_at(at: Time) -> tuple[float, float]:
    """The impulse time ``at`` as a two-part TDB JD; a typed error naming ``at`` unless it
    is one finite Time."""
    t1, t2 = to_jd_tdb(at, "at")
    if np.ndim(t1):
        raise InputError("at must be a scalar Time")
    return float(t1), float(t2)


def _impulse_axis(solution: OrbitSolution, at: Time, column: str, direction: str,
                  kw: dict) -> tuple[np.ndarray, float]:
    """Unit RTN impulse direction and the first-order change [km per mm/s] along it of the
    :func:`deflection_map` quantity ``column``: an RTN axis, or (``"min"``) the gradient,
    the direction of least impulse."""
    _scalar_at(at)
    with blame_range("at"):
        m = deflection_map(solution, at, **kw)
    g = np.array([m[column][k].to_value(u.km / (u.mm / u.s)) for k in range(3)])
    if direction == "min":
        unit, rate = g / np.linalg.norm(g), float(np.linalg.norm(g))
    else:
        unit = np.eye(3)["RTN".index(direction)]
        rate = float(g["RTN".index(direction)])
    if rate == 0.0:
        raise InputError(f"an impulse along {direction} does not move {column[1:]} at first "
                         f"order; choose another direction")
    return unit, rate


@dataclasses.dataclass(frozen=True)
class EncounterShift:
    """The impulse that moves an encounter by a chosen amount (:func:`dv_for_shift`).

    Attributes
    ----------
    dv_rtn : Quantity [mm/s], shape (3,)
        The impulse (R, T, N) at ``at``, iterated on full propagations.
    dv_linear : Quantity [mm/s], shape (3,)
        The first-order (STM) answer the iteration started from.
    target, achieved : Quantity [km]
        Requested and achieved change of the encounter quantity (full propagation).
    quantity : str
        ``"zeta"`` or ``"distance"``.
    deflection : Deflection
        The deflected solution.
    iterations : int
        Full propagations of the deflected orbit used.
    """

    dv_rtn: u.Quantity
    dv_linear: u.Quantity
    target: u.Quantity
    achieved: u.Quantity
    quantity: str
    deflection: Deflection
    iterations: int

    @property
    def dv(self) -> u.Quantity:
        """``|dv|`` [mm/s]."""
        return np.linalg.norm(self.dv_rtn.to_value(u.mm / u.s)) * u.mm / u.s

    def __repr__(self) -> str:
        r, t, n = self.dv_rtn.to_value(u.mm / u.s) + 0.0  # no "-0"
        return (f"<EncounterShift {self.quantity} {self.target.to_value(u.km):+.3f} km "
                f"(achieved {self.achieved.to_value(u.km):+.4f}): dv (R, T, N) = ({r:.4g}, "
                f"{t:.4g}, {n:.4g}) mm/s at {utc_iso(self.deflection.at)} UTC, "
                f"{self.iterations} iterations>")


def dv_for_shift(solution: OrbitSolution, at: Time, *, zeta: u.Quantity | None = None,
                 distance: u.Quantity | None = None, direction: str = "T",
                 tolerance: u.Quantity = 1.0 * u.m, max_iterations: int = 8,
                 forces: Sequence[str] | None = None, ephemeris: Ephemeris | None = None,
                 epsilon: float | None = None) -> EncounterShift:
    """The impulse at ``at`` that changes the next encounter's ``zeta`` (b-plane) or
    ``distance`` by the given amount, along one RTN axis or in the cheapest direction.

    The first-order answer comes from the STM (:func:`deflection_map`'s gradient g:
    along an axis dv = shift / g_k; ``direction="min"``: the least-norm impulse
    ``dv = g shift / |g|^2``); a secant iteration on the impulse's size along that direction,
    each step a full propagation of the deflected solution (:func:`deflect`), then brings
    the achieved change within ``tolerance`` of the request.

    Parameters
    ----------
    solution : OrbitSolution
    at : Time
        When the impulse is applied (before the encounter).
    zeta, distance : Quantity [length]
        The change wanted (exactly one of them): of the b-plane coordinate zeta (toward a
        keyhole) or of the closest-approach distance.
    direction : {"R", "T", "N", "min"}
        An RTN axis, or the direction of least impulse.
    tolerance : Quantity [length]
        Stop when the achieved change is this close to the request.
    max_iterations : int
        Most full propagations.
    forces, ephemeris, epsilon
        As in :func:`apophis_sim.propagate_nbody`.

    Returns
    -------
    EncounterShift
    """
    from ..errors import ConvergenceError, UnknownNameError
    from ..units import to_canonical
    from ..uncertainty import linear_encounter

    if not isinstance(solution, OrbitSolution):
        raise InputError(f"solution must be an OrbitSolution, got {type(solution).__name__}")
    if (zeta is None) == (distance is None):
        raise InputError("give exactly one of zeta= or distance= (the change wanted, a length)")
    quantity = "zeta" if zeta is not None else "distance"
    want = float(to_canonical(zeta if zeta is not None else distance, u.km, quantity))
    if want == 0.0:
        raise InputError(f"{quantity} must be a non-zero change")
    if direction not in ("R", "T", "N", "min"):
        raise UnknownNameError("direction", direction, ("R", "T", "N", "min"))
    tol = float(to_canonical(tolerance, u.km, "tolerance"))
    if not tol > 0:
        raise InputError("tolerance must be a positive length")
    if isinstance(max_iterations, bool) or not isinstance(max_iterations, int) \
            or max_iterations < 1:
        raise InputError(f"max_iterations must be a positive integer, got {max_iterations!r}")
    kw = {"forces": forces, "ephemeris": ephemeris, "epsilon": epsilon}
    unit, rate = _impulse_axis(solution, at, "dzeta" if quantity == "zeta" else "ddistance",
                               direction, kw)
    before = linear_encounter(solution, **kw)
    index = 3 if quantity == "zeta" else 1
    base = float(before.nominal_vector[index])

    def achieved(size: float) -> tuple[float, Deflection]:
        d = deflect(solution, size * unit * u.mm / u.s, at, frame="rtn", **kw)
        after = linear_encounter(d.solution, **kw)
        return float(after.nominal_vector[index]) - base, d

    s0 = want / rate
    f0, d0 = achieved(s0)
    it = 1
    s_prev, f_prev = 0.0, 0.0
    s, f, d = s0, f0, d0
    while abs(f - want) > tol:
        if it >= max_iterations:
            raise ConvergenceError(
                f"the impulse did not converge in {max_iterations} full propagations "
                f"(achieved {f:+.4f} km of {want:+.4f} km); raise max_iterations or ask for "
                f"a smaller change")
        slope = (f - f_prev) / (s - s_prev)
        s_prev, f_prev = s, f
        s = s + (want - f) / slope
        f, d = achieved(s)
        it += 1
    return EncounterShift(dv_rtn=s * unit * u.mm / u.s, dv_linear=s0 * unit * u.mm / u.s,
                          target=want * u.km, achieved=f * u.km, quantity=quantity,
                          deflection=d, iterations=it)


@dataclasses.dataclass(frozen=True)
class KeyholeDeflection:
    """The impulse along one direction that puts an orbit in a keyhole's centre
    (:func:`dv_into_keyhole`).

    Attributes
    ----------
    dv_rtn : Quantity [mm/s], shape (3,)
        The impulse (R, T, N) at ``at`` that minimises the return's impact parameter.
    dv_linear : Quantity [mm/s], shape (3,)
        The STM estimate from the keyhole's zeta on the line of variations.
    b_return, capture_radius : Quantity [km]
        The return's b-plane impact parameter at that impulse, and the focused radius
        of the body (b_return < capture_radius: the deflected orbit hits).
    return_date : Time
        The return's closest approach.
    deflection : Deflection
        The deflected solution.
    evaluations : int
        Full propagations of deflected orbits used.
    """

    dv_rtn: u.Quantity
    dv_linear: u.Quantity
    b_return: u.Quantity
    capture_radius: u.Quantity
    return_date: Time
    deflection: Deflection
    evaluations: int

    @property
    def dv(self) -> u.Quantity:
        """``|dv|`` [mm/s]."""
        return np.linalg.norm(self.dv_rtn.to_value(u.mm / u.s)) * u.mm / u.s

    @property
    def hits(self) -> bool:
        """Whether the deflected orbit's return is an impact (b < focused radius)."""
        return bool(self.b_return < self.capture_radius)

    def __repr__(self) -> str:
        r, t, n = self.dv_rtn.to_value(u.mm / u.s) + 0.0
        return (f"<KeyholeDeflection dv (R, T, N) = ({r:.5g}, {t:.5g}, {n:.5g}) mm/s at "
                f"{utc_iso(self.deflection.at)} UTC: return {utc_iso(self.return_date)} UTC "
                f"b = {self.b_return.to_value(u.km):,.0f} km "
                f"({'inside' if self.hits else 'outside'} the "
                f"{self.capture_radius.to_value(u.km):,.0f} km focused radius)>")


def dv_into_keyhole(solution: OrbitSolution, at: Time, keyhole_table, row: int = 0, *,
                    direction: str = "T", window: float = 0.05,
                    forces: Sequence[str] | None = None, ephemeris: Ephemeris | None = None,
                    epsilon: float | None = None) -> KeyholeDeflection:
    """The impulse at ``at``, along one RTN axis (or the least-impulse direction), that
    sends the orbit through the centre of a keyhole: the return's b-plane impact
    parameter is minimised over the impulse's size.

    An impulse moves the encounter's b-plane point along a line that in general does not
    follow the line of variations, so it crosses the keyhole's arc elsewhere than the
    keyhole table's (LOV) centre: the STM estimate (the keyhole's zeta shift over the
    zeta gain) only starts a bounded Brent search (within ``window`` of it, relative),
    each evaluation a full propagation of the deflected solution to the return.

    Parameters
    ----------
    solution : OrbitSolution
    at : Time
        When the impulse is applied (before the encounter).
    keyhole_table : QTable
        :func:`apophis_sim.risk.keyholes`'s result for this solution.
    row : int
        The keyhole (row of ``keyhole_table``).
    direction : {"R", "T", "N", "min"}
        An RTN axis, or the direction of least impulse for the zeta shift.
    window : float
        Relative half-width of the searched impulse sizes around the STM estimate.
    forces, ephemeris, epsilon
        As in :func:`apophis_sim.propagate_nbody`.

    Returns
    -------
    KeyholeDeflection
    """
    from scipy.optimize import minimize_scalar

    from ..errors import ConvergenceError, UnknownNameError
    from ..uncertainty import linear_encounter
    from ..uncertainty.encounter import bplane_coordinates

    if not isinstance(solution, OrbitSolution):
        raise InputError(f"solution must be an OrbitSolution, got {type(solution).__name__}")
    cols = getattr(keyhole_table, "colnames", ())
    if not all(c in cols for c in ("return_date", "body", "zeta")):
        raise InputError("keyhole_table must be risk.keyholes()'s table")
    if isinstance(row, bool) or not isinstance(row, (int, np.integer)) \
            or not 0 <= row < len(keyhole_table):
        raise InputError(f"row must be an index into the {len(keyhole_table)} keyholes, "
                         f"got {row!r}")
    if direction not in ("R", "T", "N", "min"):
        raise UnknownNameError("direction", direction, ("R", "T", "N", "min"))
    if not (isinstance(window, (int, float)) and 0 < window < 1):
        raise InputError(f"window must be a fraction in (0, 1), got {window!r}")
    kw = {"forces": forces, "ephemeris": ephemeris, "epsilon": epsilon}
    eph = ephemeris if ephemeris is not None else Ephemeris.open()
    kw["ephemeris"] = eph
    unit, rate = _impulse_axis(solution, at, "dzeta", direction, kw)
    base = linear_encounter(solution, **kw)
    s0 = (float(keyhole_table["zeta"][row].to_value(u.km)) - float(base.nominal_vector[3])) / rate
    body = str(keyhole_table["body"][row])
    t_ret = keyhole_table["return_date"][row].tdb
    gm = _nbody._bodies.body(body).gm_au3_d2 * AU_KM**3 / 86400.0**2
    n_eval = [0]
    last: dict = {}

    def b_return(size: float) -> float:
        n_eval[0] += 1
        d = deflect(solution, size * unit * u.mm / u.s, at, frame="rtn", **kw)
        tab = _nbody.close_approaches(d.solution, t_ret + 40 * u.day, bodies=(body,),
                                      distance_max=0.2 * u.au, impacts=False, **kw)
        near = np.abs(tab["time"].tdb.jd - t_ret.jd) < 40.0
        if not np.any(near):
            return math.inf
        k = int(np.flatnonzero(near)[np.argmin(tab["distance"][near].to_value(u.km))])
        _, vb = eph.posvel(body, tab["time"][k].tdb.jd1, tab["time"][k].tdb.jd2, centre="sun")
        bp = bplane_coordinates(tab["r_rel"][k].to_value(u.km),
                                tab["v_rel_vec"][k].to_value(u.km / u.s), gm, vb * _KM_S)
        b = float(bp.b_km)
        if b < last.get("b", math.inf):
            last.update(b=b, size=size, d=d, time=tab["time"][k],
                        vinf=float(bp.v_inf_km_s))
        return b

    lo, hi = sorted((s0 * (1 - window), s0 * (1 + window)))
    minimize_scalar(b_return, bounds=(lo, hi), method="bounded",
                    options={"xatol": 1e-7 * abs(s0), "maxiter": 200})
    if "d" not in last:
        raise ConvergenceError(f"no return to {body} near {utc_iso(t_ret)} UTC for impulses "
                               f"of {lo:.4g} to {hi:.4g} mm/s; widen window")
    r_body = _nbody._bodies.body(body).radius_km
    b_c = r_body * math.sqrt(1.0 + 2.0 * gm / (r_body * last["vinf"] ** 2))
    return KeyholeDeflection(dv_rtn=last["size"] * unit * u.mm / u.s,
                             dv_linear=s0 * unit * u.mm / u.s, b_return=last["b"] * u.km,
                             capture_radius=b_c * u.km, return_date=last["time"],
                             deflection=last["d"], evaluations=n_eval[0])
