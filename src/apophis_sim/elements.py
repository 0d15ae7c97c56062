"""Osculating classical orbital elements (public, with units).

The stored set is JPL's: perifocal distance ``q``, eccentricity ``e``,
inclination ``inc``, longitude of the ascending node ``raan``, argument of
periapsis ``argp`` and time of periapsis ``tp``, at an ``epoch``, in a frame and
about a centre. ``q`` and ``tp`` stay finite and well conditioned through the
parabola (e = 1), unlike ``a`` and the mean anomaly. Everything is vectorised
over any batch shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import astropy.units as u
import numpy as np
from astropy.time import Time

from ._core import elements as _el
from ._core import moid as _moid
from ._core.kepler import STATUS_OK
from ._deprecation import renamed_kwargs
from .bodies import GM_SUN_SBDB
from .errors import (ConvergenceError, InputError, OrbitTypeError, ShapeMismatchError,
                     UnknownNameError)
from .state import State, gm_canonical, require_state, validate_centre, validate_frame
from .time import dt_days, from_jd_tdb, to_jd_tdb
from .units import AU, DAY, GM_UNIT, check_finite, to_canonical

if TYPE_CHECKING:
    from .ephemeris import Ephemeris
    from .solution import OrbitSolution

__all__ = ["Elements", "Moid", "moid", "orbit_class"]


class Elements:
    """Classical osculating elements of one or many orbits.

    Parameters
    ----------
    q : Quantity [length]
        Periapsis distance, > 0.
    e : float or array or dimensionless Quantity
        Eccentricity, >= 0 (ellipse, parabola and hyperbola all allowed).
    inc, raan, argp : Quantity [angle]
        Inclination (0..180 deg), longitude of the ascending node, argument of periapsis.
    tp : astropy.time.Time
        Time of periapsis passage.
    epoch : astropy.time.Time
        Osculation epoch.
    frame : {"ecliptic", "icrf"}
        Reference plane of the angles (JPL publishes ecliptic J2000 elements).
    centre : str
        Central body (``"sun"`` for heliocentric elements).
    gm : Quantity [length^3/time^2], optional
        Gravitational parameter; defaults to the centre's DE440 GM
        (for the Sun 2.9591220828411951e-04 au^3/d^2, which JPL's SBDB uses).

    Raises
    ------
    InputError
        q <= 0, e < 0, or an inclination outside [0, 180] deg.
    PhysicalTypeError, NonFiniteInputError, TimeInputError, UnknownNameError, ShapeMismatchError
    """

    def __init__(self, q: u.Quantity, e, inc: u.Quantity, raan: u.Quantity, argp: u.Quantity,
                 tp: Time, epoch: Time, frame: str = "ecliptic", centre: str = "sun",
                 gm: u.Quantity | None = None) -> None:
        q_au = to_canonical(q, AU, "q")
        e_val = to_canonical(e if isinstance(e, u.Quantity) else _dimensionless(e, "e"), u.one, "e")
        inc_rad = to_canonical(inc, u.rad, "inc")
        raan_rad = to_canonical(raan, u.rad, "raan")
        argp_rad = to_canonical(argp, u.rad, "argp")
        tp1, tp2 = to_jd_tdb(tp, "tp")
        ep1, ep2 = to_jd_tdb(epoch, "epoch")
        if np.any(q_au <= 0):
            raise InputError("q (periapsis distance) must be positive")
        if np.any(e_val < 0):
            raise InputError("e (eccentricity) must be >= 0")
        if np.any((inc_rad < 0) | (inc_rad > np.pi)):
            raise InputError("inc must lie in [0, 180] deg; use raan/argp for orientation")
        centre = validate_centre(centre)
        self._set(q_au, e_val, inc_rad, raan_rad, argp_rad, tp1, tp2, ep1, ep2,
                  validate_frame(frame), centre, gm_canonical(gm, centre))

    def _set(self, q, e, inc, raan, argp, tp1, tp2, ep1, ep2, frame, centre, mu) -> None:
        arrays = [np.asarray(x, dtype=np.float64) for x in (q, e, inc, raan, argp, tp1, tp2,
                                                             ep1, ep2, mu)]
        try:
            shape = np.broadcast_shapes(*(a.shape for a in arrays))
        except ValueError:
            raise ShapeMismatchError(
                "element arrays do not broadcast together: shapes "
                + ", ".join(str(a.shape) for a in arrays)) from None
        (self._q, self._e, self._inc, self._raan, self._argp, self._tp1, self._tp2,
         self._ep1, self._ep2, self._mu) = (np.broadcast_to(a, shape) for a in arrays)
        self.frame = frame
        self.centre = centre

    @classmethod
    def from_mean_anomaly(cls, a: u.Quantity, e, inc: u.Quantity, raan: u.Quantity,
                          argp: u.Quantity, M: u.Quantity, epoch: Time, frame: str = "ecliptic",
                          centre: str = "sun", gm: u.Quantity | None = None) -> Elements:
        """Elements from semi-major axis and mean anomaly at ``epoch`` (ellipses and hyperbolas).

        ``a`` is negative for hyperbolas (``M`` is then the hyperbolic mean anomaly).

        Parameters
        ----------
        a : Quantity [length]
            Semi-major axis (negative for a hyperbola).
        e : float or array_like
            Eccentricity.
        inc, raan, argp : Quantity [angle]
            Inclination, longitude of the ascending node, argument of periapsis.
        M : Quantity [angle]
            Mean anomaly at ``epoch``.
        epoch : astropy.time.Time
            Osculation epoch.
        frame, centre, gm
            As in :class:`Elements`.

        Returns
        -------
        Elements

        Raises
        ------
        OrbitTypeError
            a > 0 with e >= 1, or a < 0 with e <= 1 (a parabola has no a; use q and tp).
        """
        a_au = to_canonical(a, AU, "a")
        e_val = to_canonical(e if isinstance(e, u.Quantity) else _dimensionless(e, "e"), u.one, "e")
        m_rad = to_canonical(M, u.rad, "M")
        centre_c = validate_centre(centre)
        mu = gm_canonical(gm, centre_c)
        if np.any((a_au > 0) & (e_val >= 1)) or np.any((a_au < 0) & (e_val <= 1)) or np.any(a_au == 0):
            raise OrbitTypeError(
                "a and e disagree on the conic: an ellipse needs a > 0 and e < 1, a hyperbola "
                "a < 0 and e > 1; for a parabola construct Elements from q and tp")
        n = np.sqrt(mu / np.abs(a_au) ** 3)
        q_au = a_au * (1.0 - e_val)
        ep1, ep2 = to_jd_tdb(epoch, "epoch")
        tp = from_jd_tdb(ep1, ep2 - m_rad / n)
        return cls(q_au * AU, e_val, inc, raan, argp, tp, epoch, frame=frame, centre=centre_c,
                   gm=mu * GM_UNIT)

    @classmethod
    def from_state(cls, state: State, gm: u.Quantity | None = None) -> Elements:
        """Osculating elements of a :class:`State` (same frame and centre).

        Parameters
        ----------
        state : State
            The state(s) to osculate (any batch shape).
        gm : Quantity [length^3/time^2], optional
            Gravitational parameter; default the centre's.

        Returns
        -------
        Elements

        Raises
        ------
        InputError
            ``state`` is not a State, or some position is r = 0.
        NonFiniteInputError
            The state holds NaN or infinity.
        OrbitTypeError
            A radial (rectilinear) orbit: the angular momentum r x v vanishes
            (v = 0 or v parallel to r; ``|h| <= 1e-12 |r| |v|``). Its plane, node,
            periapsis and e are undefined; propagate the State itself instead
            (:func:`apophis_sim.propagate` handles radial orbits).
        """
        require_state(state, "state")
        mu = gm_canonical(gm, state.centre)
        _check_not_radial(state.r_au, state.v_au_d, "state")
        with np.errstate(all="ignore"):
            q, e, inc, raan, argp, nu = _el.rv_to_coe(state.r_au, state.v_au_d, mu)
            rn0 = np.linalg.norm(state.r_au, axis=-1)
            vn0 = np.linalg.norm(state.v_au_d, axis=-1)
        if not all(np.all(np.isfinite(x)) for x in (q, e, inc, raan, argp, nu)):
            raise InputError(
                "state: its elements overflow float64 (|r| up to "
                f"{float(np.max(rn0)):.3g} au, |v| up to {float(np.max(vn0)):.3g} au/d); "
                "pass a state of solar-system size")
        # q/r below ~1e-10 leaves 1 - e with few correct digits (e is stored next to 1):
        # such a nearly radial orbit cannot be represented by (q, e) in float64.
        rn = np.linalg.norm(state.r_au, axis=-1)
        if np.any(q < 1e-10 * rn):
            idx = tuple(int(i) for i in np.argwhere(np.atleast_1d(q < 1e-10 * rn))[0])
            raise OrbitTypeError(
                f"state is a nearly radial orbit at index {idx} (periapsis q below 1e-10 r): "
                "q and e cannot represent it in float64; propagate the State itself")
        ep1, ep2 = state.jd_tdb
        dt = _el.time_since_periapsis(q, e, nu, mu)
        self = cls.__new__(cls)
        self._set(q, e, inc, raan, argp, ep1, ep2 - dt, ep1, ep2, state.frame, state.centre, mu)
        return self

    # ---- properties -----------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self._q.shape

    q = property(lambda self: u.Quantity(self._q, AU), doc="Periapsis distance [au].")
    e = property(lambda self: np.array(self._e), doc="Eccentricity.")
    inc = property(lambda self: u.Quantity(self._inc, u.rad).to(u.deg), doc="Inclination [deg].")
    raan = property(lambda self: u.Quantity(self._raan, u.rad).to(u.deg),
                    doc="Longitude of the ascending node [deg].")
    argp = property(lambda self: u.Quantity(self._argp, u.rad).to(u.deg),
                    doc="Argument of periapsis [deg].")
    tp = property(lambda self: from_jd_tdb(self._tp1, self._tp2), doc="Time of periapsis (TDB).")
    epoch = property(lambda self: from_jd_tdb(self._ep1, self._ep2), doc="Epoch (TDB).")
    gm = property(lambda self: u.Quantity(self._mu, GM_UNIT), doc="GM [au^3/day^2].")

    @property
    def a(self) -> u.Quantity:
        """Semi-major axis [au]: q / (1 - e); negative for hyperbolas, infinite for e = 1."""
        with np.errstate(divide="ignore"):
            return u.Quantity(self._q / (1.0 - self._e), AU)

    @property
    def period(self) -> u.Quantity:
        """Orbital period [day].

        Raises
        ------
        OrbitTypeError
            Some orbit is not an ellipse (e >= 1).
        """
        self._require_ellipse("period")
        a = self._q / (1.0 - self._e)
        return u.Quantity(2.0 * np.pi * np.sqrt(a ** 3 / self._mu), DAY)

    @property
    def mean_motion(self) -> u.Quantity:
        """Mean motion [deg/day] (ellipses and hyperbolas).

        Raises
        ------
        OrbitTypeError
            Some orbit is a parabola (e = 1): it has no mean motion (a is infinite).
        """
        if np.any(self._e == 1.0):
            raise OrbitTypeError("a parabola (e = 1) has no mean motion (a is infinite); "
                                 "use q and tp, or pass elements with e != 1")
        a = np.abs(self._q / (1.0 - self._e))
        return u.Quantity(np.sqrt(self._mu / a ** 3), u.rad / DAY).to(u.deg / DAY)

    @property
    def M(self) -> u.Quantity:
        """Mean anomaly at epoch [deg] (hyperbolic mean anomaly for e > 1; undefined for e = 1)."""
        if np.any(self._e == 1.0):
            raise OrbitTypeError("a parabola (e = 1) has no mean anomaly; use tp")
        dt = dt_days(self._ep1, self._ep2, self._tp1, self._tp2)
        return (self.mean_motion * u.Quantity(dt, DAY)).to(u.deg)

    @property
    def nu(self) -> u.Quantity:
        """True anomaly at epoch [deg], from Kepler's equation (robust for any e)."""
        return u.Quantity(self._nu_rad(), u.rad).to(u.deg)

    def _nu_rad(self) -> np.ndarray:
        dt = dt_days(self._ep1, self._ep2, self._tp1, self._tp2)
        nu, status = _el.nu_from_time_since_periapsis(self._q, self._e, dt, self._mu)
        if np.any(status != STATUS_OK):
            idx = tuple(int(i) for i in np.argwhere(status != STATUS_OK)[0])
            raise ConvergenceError(
                f"Kepler's equation did not converge for the elements at index {idx} "
                f"(e = {self._e[idx]:.6g}, epoch - tp = {dt[idx]:.6g} d); a hyperbolic arc this "
                "long overflows float64: choose an epoch closer to periapsis")
        return nu

    def _require_ellipse(self, what: str) -> None:
        if np.any(self._e >= 1.0):
            raise OrbitTypeError(f"{what} needs an ellipse (e < 1); "
                                 f"max e here is {float(np.max(self._e)):.6g}")

    # ---- conversion -------------------------------------------------------------
    def to_state(self) -> State:
        """Cartesian State at the epoch (same frame and centre)."""
        nu = self._nu_rad()
        r, v = _el.coe_to_rv(self._q, self._e, self._inc, self._raan, self._argp, nu, self._mu)
        return State.from_arrays(r, v, self._ep1, self._ep2, self.frame, self.centre)

    def __repr__(self) -> str:
        if self.shape:
            return f"<Elements shape={self.shape} frame={self.frame!r} centre={self.centre!r}>"
        return (f"<Elements q={float(self._q):.12g} au e={float(self._e):.12g} "
                f"inc={np.degrees(float(self._inc)):.10g} deg raan={np.degrees(float(self._raan)):.10g} deg "
                f"argp={np.degrees(float(self._argp)):.10g} deg tp={self.tp.tdb.isot} TDB "
                f"epoch={self.epoch.tdb.isot} TDB frame={self.frame!r} centre={self.centre!r}>")


def orbit_class(a: u.Quantity, e) -> np.ndarray:
    """Near-Earth orbit class per the usual definitions (CNEOS):
    Atira (Q < 0.983 au), Aten (a < 1 au, Q > 0.983 au), Apollo (a > 1 au, q < 1.017 au),
    Amor (1.017 < q < 1.3 au); ``"hyperbolic"`` for e > 1 (a < 0); otherwise ``"other"``.

    Parameters
    ----------
    a : Quantity [length]
        Semi-major axis (negative for hyperbolas).
    e : float or array_like
        Eccentricity (broadcasts against ``a``).

    Returns
    -------
    ndarray of str

    Raises
    ------
    InputError
        e is negative; NonFiniteInputError for NaN/inf in a or e.
    OrbitTypeError
        a and e disagree on the conic (a > 0 needs e < 1, a < 0 needs e > 1; a
        parabola has no finite a).
    """
    a_au = to_canonical(a, AU, "a")
    e = to_canonical(e if isinstance(e, u.Quantity) else _dimensionless(e, "e"), u.one, "e")
    if np.any(e < 0):
        raise InputError("e (eccentricity) must be >= 0")
    if np.any((a_au > 0) & (e >= 1)) or np.any((a_au < 0) & (e <= 1)) or np.any(a_au == 0):
        raise OrbitTypeError(
            "orbit_class: a and e disagree on the conic: an ellipse needs a > 0 and e < 1, a "
            "hyperbola a < 0 and e > 1 (a parabola has no finite a)")
    q = a_au * (1 - e)
    big_q = a_au * (1 + e)
    out = np.full(np.broadcast(a_au, e).shape, "other", dtype=object)
    out = np.where((a_au < 1.0) & (big_q < 0.983), "Atira", out)
    out = np.where((a_au < 1.0) & (big_q >= 0.983), "Aten", out)
    out = np.where((a_au >= 1.0) & (q <= 1.017), "Apollo", out)
    out = np.where((q > 1.017) & (q < 1.3), "Amor", out)
    out = np.where(e > 1.0, "hyperbolic", out)
    return out


def _dimensionless(x, name: str) -> u.Quantity:
    """A bare number (e) -> dimensionless Quantity; anything else -> a typed error."""
    try:
        arr = np.asarray(x)
    except Exception:  # noqa: BLE001 - any object numpy cannot read
        arr = np.asarray(None)
    if arr.dtype.kind not in "biufc":
        raise InputError(f"{name} must be a number or array of numbers, got "
                         f"{type(x).__name__} {x!r:.60}")
    return u.Quantity(arr)


def scaled(x: np.ndarray) -> np.ndarray:
    """``x`` divided by its largest |component| along the last axis (zero rows kept):
    same directions, norms between 1 and sqrt(3), so that cross products and norms of
    finite vectors never overflow or underflow (|x| from 1e-300 to 1e300)."""
    m = np.max(np.abs(x), axis=-1, keepdims=True)
    return x / np.where(m > 0, m, 1.0)


def parallel(r: np.ndarray, v: np.ndarray, rtol: float) -> np.ndarray:
    """|r x v| <= rtol |r| |v| (v = 0 or v parallel to r), overflow-free."""
    rs, vs = scaled(r), scaled(v)
    h = np.linalg.norm(np.cross(rs, vs), axis=-1)
    return h <= rtol * np.linalg.norm(rs, axis=-1) * np.linalg.norm(vs, axis=-1)


def _check_not_radial(r: np.ndarray, v: np.ndarray, name: str) -> None:
    check_finite(r, f"{name}.r")
    check_finite(v, f"{name}.v")
    if np.any(np.all(r == 0, axis=-1)):
        raise InputError(f"{name} has r = 0 (the object at the centre): no orbit is defined; "
                         "pass a state with r != 0")
    radial = parallel(r, v, 1e-12)
    if np.any(radial):
        idx = tuple(int(i) for i in np.argwhere(np.atleast_1d(radial))[0])
        raise OrbitTypeError(
            f"{name} is a radial orbit at index {idx} (v = 0 or v parallel to r, so h = r x v "
            "= 0): its plane, node, periapsis and e are undefined; propagate the State itself "
            "(propagate handles radial orbits) or pass a state with some transverse velocity")


# ----------------------------------------------------------------------------- MOID


#: Largest ``n_grid`` of :func:`moid` (the grid search costs n_grid^2 per pair).
MOID_MAX_GRID = 4096


@dataclass(frozen=True)
class Moid:
    """Minimum orbit intersection distance of two heliocentric two-body orbits.

    Attributes
    ----------
    distance : Quantity [au], batch shape
        The MOID: the global minimum of the distance between the two orbits.
    nu1, nu2 : Quantity [deg], batch shape
        True anomalies of the closest points on the first and second orbit.
    r1, r2 : Quantity [au], shape (..., 3)
        Those points, heliocentric ICRF.
    minima : Quantity [au], shape (..., 8)
        Distances of all local minima found, ascending; the unused trailing slots
        are NaN (``n_minima`` says how many are used).
    minima_nu1, minima_nu2 : Quantity [deg], shape (..., 8)
        True anomalies of the local minima (NaN past ``n_minima``).
    n_minima : ndarray of int, batch shape
        Number of local minima found (1 to 4 for two ellipses, usually 2).
    epoch1, epoch2 : Time
        Osculation epochs of the two orbits.
    """

    distance: u.Quantity
    nu1: u.Quantity
    nu2: u.Quantity
    r1: u.Quantity = field(repr=False)
    r2: u.Quantity = field(repr=False)
    minima: u.Quantity = field(repr=False)
    minima_nu1: u.Quantity = field(repr=False)
    minima_nu2: u.Quantity = field(repr=False)
    n_minima: np.ndarray = field(repr=False)
    epoch1: Time = field(repr=False)
    epoch2: Time = field(repr=False)

    def __repr__(self) -> str:
        d = self.distance.to_value(u.au)
        if np.ndim(d):
            return f"<Moid shape={np.shape(d)} min={np.min(d):.9g} au max={np.max(d):.9g} au>"
        return (f"<Moid {float(d):.9g} au ({float(d) * 149597870.7:.6g} km) at "
                f"nu1={float(self.nu1.to_value(u.deg)):.6g} deg, "
                f"nu2={float(self.nu2.to_value(u.deg)):.6g} deg; "
                f"{int(self.n_minima)} local minima>")


def _heliocentric_icrf(obj: Any, name: str, ephemeris: Ephemeris | None) -> State:
    """A heliocentric ICRF State from a State or an OrbitSolution (orbit-epoch elements)."""
    from .solution import OrbitSolution

    if isinstance(obj, OrbitSolution):
        st = obj.orbit_elements.to_state() if obj.orbit_elements is not None else obj.state
    elif isinstance(obj, State):
        st = obj
    else:
        raise InputError(f"{name} must be a State, an OrbitSolution or (for other) a body "
                         f"name such as 'earth'; got {type(obj).__name__}")
    check_finite(st.r_au, f"{name} position")
    check_finite(st.v_au_d, f"{name} velocity")
    if st.centre != "sun":
        st = st.to_centre("sun", ephemeris=ephemeris)
    return st.to_frame("icrf")


@renamed_kwargs(obj="state")
def moid(state: State | OrbitSolution, other: str | State | OrbitSolution = "earth", *,
         n_grid: int = 128, ephemeris: Ephemeris | None = None) -> Moid:
    """Minimum orbit intersection distance (MOID) between two osculating orbits.

    Both orbits are heliocentric two-body conics with GM_sun alone
    (:data:`~apophis_sim.bodies.GM_SUN_SBDB` = 2.9591220828411951e-04 au^3/d^2, JPL's),
    osculating at their own epochs. The MOID is the minimum distance between the
    two curves, whatever the positions of the bodies on them. This is JPL's
    convention for the SBDB ``moid`` field: the object's orbit against the
    heliocentric osculating orbit of the Earth itself (not the Earth-Moon
    barycentre), from DE440 here.

    Parameters
    ----------
    state : State or OrbitSolution
        The orbit(s); a State of any frame, centre and batch shape (converted to
        heliocentric ICRF; a non-heliocentric one through the ephemeris). For an
        OrbitSolution with ``orbit_elements`` (e.g. from
        :meth:`OrbitSolution.from_sbdb`), its elements at the *orbit* epoch are used
        (JPL computes its ``moid`` field there, so this reproduces it); otherwise its
        ``state``. For the MOID at the covariance epoch pass ``solution.state``.
    other : str, State or OrbitSolution, optional
        A body of the ephemeris (default ``"earth"``: Earth's heliocentric
        osculating orbit at ``state``'s epoch), or an orbit as for ``state``; it
        broadcasts against ``state``.
    n_grid : int, keyword-only
        Samples per orbit of the starting grid (>= 16; default 128). Local minima
        narrower than ~3 grid cells in anomaly may be merged with a neighbour; the
        global minimum is found for all tested geometries at 128.
    ephemeris : Ephemeris, keyword-only, optional
        For body positions and centre changes; default :meth:`Ephemeris.open`.

    Returns
    -------
    Moid
        ``distance`` [au] and the true anomalies and positions of the closest
        points, with all local minima.

    Raises
    ------
    InputError
        ``state``/``other`` of a wrong type, or ``n_grid`` < 16.
    NonFiniteInputError
        A state holds NaN or infinity.
    UnknownNameError
        ``other`` is not a body of the ephemeris (the message lists them).
    OrbitTypeError
        A rectilinear (zero angular momentum) orbit, or both orbits open
        (parabolic/hyperbolic: their MOID may lie at infinity).
    ConvergenceError
        The refinement did not converge (not seen in tests).

    Notes
    -----
    Method: a sampled grid over both anomalies gives starting points (grid local
    minima and the minima of the scan "nearest point of the other orbit"), each
    refined by a damped Newton iteration in both anomalies to ~1e-16 au; see
    :mod:`apophis_sim._core.moid` and Wisniowski & Rickman (2013), Acta Astron.
    63, 293. Ellipses are parametrised by eccentric anomaly, parabolas by
    tan(nu/2) and hyperbolas by hyperbolic anomaly over the bounded branch
    r <= 2 Q_other + q (Q_other the other orbit's apoapsis), which provably
    contains the minimum. Parabolas (e = 1 exactly) are supported. At most one
    of the two orbits may be open.
    """
    from .ephemeris import Ephemeris

    if not isinstance(n_grid, (int, np.integer)) or isinstance(n_grid, bool) or n_grid < 16:
        raise InputError(f"n_grid must be an integer >= 16, got {n_grid!r:.60}")
    if n_grid > MOID_MAX_GRID:
        raise InputError(f"n_grid = {n_grid:,} is more than {MOID_MAX_GRID:,} samples per "
                         f"orbit; pass 16 .. {MOID_MAX_GRID:,} (the default 128 already "
                         f"brackets every local minimum of ordinary orbits)")
    s1 = _heliocentric_icrf(state, "state", ephemeris)
    if isinstance(other, str):
        eph = ephemeris if ephemeris is not None else Ephemeris.open()
        if other.lower() in ("sun", "ssb"):
            raise UnknownNameError("body", other, tuple(n for n in eph.bodies
                                                       if n not in ("sun",)), argument="other")
        if other.lower() not in eph.bodies:
            raise UnknownNameError("body", other, tuple(n for n in eph.bodies if n != "sun"),
                                   argument="other")
        jd1, jd2 = s1.jd_tdb
        r2, v2 = eph.posvel(other, np.broadcast_to(jd1, s1.shape),
                            np.broadcast_to(jd2, s1.shape), centre="sun")
        s2 = State.from_arrays(r2, v2, jd1, jd2, "icrf", "sun")
    else:
        s2 = _heliocentric_icrf(other, "other", ephemeris)
    mu = GM_SUN_SBDB
    try:
        shape = np.broadcast_shapes(s1.shape, s2.shape)
    except ValueError:
        raise ShapeMismatchError(f"state (shape {s1.shape}) and other (shape {s2.shape}) do "
                                 "not broadcast") from None
    q1, e1, P1, Q1, h1 = _moid.perifocal_from_rv(np.broadcast_to(s1.r_au, shape + (3,)),
                                                 np.broadcast_to(s1.v_au_d, shape + (3,)), mu)
    q2, e2, P2, Q2, h2 = _moid.perifocal_from_rv(np.broadcast_to(s2.r_au, shape + (3,)),
                                                 np.broadcast_to(s2.v_au_d, shape + (3,)), mu)
    for nm, h, r in (("state", h1, s1.r_au), ("other", h2, s2.r_au)):
        rn = np.linalg.norm(r, axis=-1)
        if np.any(rn == 0) or np.any(h <= 1e-14 * np.broadcast_to(rn, h.shape)):
            raise OrbitTypeError(f"{nm} is a rectilinear orbit (zero angular momentum, or at "
                                 "the Sun's centre): it has no conic to measure a MOID to")
    flat = [np.ascontiguousarray(np.reshape(x, (-1,) + x.shape[len(shape):]))
            for x in (q1, e1, P1, Q1, q2, e2, P2, Q2)]
    dist, nu1, nu2, count, status = _moid.moid_batch(*flat, int(n_grid))
    if np.any(status == _moid.STATUS_BOTH_OPEN):
        raise OrbitTypeError("both orbits are open (e >= 1): their MOID may lie at infinity; "
                             "at least one orbit must be an ellipse")
    if np.any(status == _moid.STATUS_BAD_ORBIT):
        raise OrbitTypeError("an orbit has q <= 0 or a non-finite element")
    if np.any(status == _moid.STATUS_NO_CONVERGENCE) or np.any(count == 0):
        k = int(np.argmax((status != 0) | (count == 0)))
        raise ConvergenceError(
            f"the MOID refinement did not converge for pair {k} (q1={flat[0][k]:.6g} au, "
            f"e1={flat[1][k]:.6g}, q2={flat[4][k]:.6g} au, e2={flat[5][k]:.6g}); "
            "try a larger n_grid")
    d0 = dist[:, 0]
    n10, n20 = nu1[:, 0], nu2[:, 0]

    def point(q, e, P, Q, nu):
        p = q * (1.0 + e)
        rr = p / (1.0 + e * np.cos(nu))
        return rr[:, None] * (np.cos(nu)[:, None] * P + np.sin(nu)[:, None] * Q)

    r1 = point(flat[0], flat[1], flat[2], flat[3], n10)
    r2 = point(flat[4], flat[5], flat[6], flat[7], n20)
    m = _moid.MAX_MINIMA
    return Moid(
        distance=u.Quantity(d0.reshape(shape), AU),
        nu1=u.Quantity(np.degrees(n10).reshape(shape), u.deg),
        nu2=u.Quantity(np.degrees(n20).reshape(shape), u.deg),
        r1=u.Quantity(r1.reshape(shape + (3,)), AU),
        r2=u.Quantity(r2.reshape(shape + (3,)), AU),
        minima=u.Quantity(dist.reshape(shape + (m,)), AU),
        minima_nu1=u.Quantity(np.degrees(nu1).reshape(shape + (m,)), u.deg),
        minima_nu2=u.Quantity(np.degrees(nu2).reshape(shape + (m,)), u.deg),
        n_minima=count.reshape(shape),
        epoch1=s1.epoch,
        epoch2=s2.epoch,
    )
