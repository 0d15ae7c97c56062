"""Osculating classical orbital elements (public, with units).

The stored set is JPL's: perifocal distance ``q``, eccentricity ``e``,
inclination ``inc``, longitude of the ascending node ``raan``, argument of
periapsis ``argp`` and time of periapsis ``tp``, at an ``epoch``, in a frame and
about a centre. ``q`` and ``tp`` stay finite and well conditioned through the
parabola (e = 1), unlike ``a`` and the mean anomaly. Everything is vectorised
over any batch shape.
"""

from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.time import Time

from ._core import elements as _el
from ._core.kepler import STATUS_OK
from .errors import ConvergenceError, InputError, OrbitTypeError, ShapeMismatchError
from .state import State, gm_canonical, validate_centre, validate_frame
from .time import dt_days, from_jd_tdb, to_jd_tdb
from .units import AU, DAY, GM_UNIT, to_canonical

__all__ = ["Elements", "orbit_class"]


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
        e_val = to_canonical(e if isinstance(e, u.Quantity) else u.Quantity(e), u.one, "e")
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

        Raises
        ------
        OrbitTypeError
            a > 0 with e >= 1, or a < 0 with e <= 1 (a parabola has no a; use q and tp).
        """
        a_au = to_canonical(a, AU, "a")
        e_val = to_canonical(e if isinstance(e, u.Quantity) else u.Quantity(e), u.one, "e")
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
        """Osculating elements of a :class:`State` (same frame and centre)."""
        mu = gm_canonical(gm, state.centre)
        q, e, inc, raan, argp, nu = _el.rv_to_coe(state.r_au, state.v_au_d, mu)
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
        """Mean motion [deg/day] (ellipses and hyperbolas)."""
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
    Amor (1.017 < q < 1.3 au); otherwise ``"other"``.
    """
    a_au = to_canonical(a, AU, "a")
    e = np.asarray(e, dtype=np.float64)
    q = a_au * (1 - e)
    big_q = a_au * (1 + e)
    out = np.full(np.broadcast(a_au, e).shape, "other", dtype=object)
    out = np.where((a_au < 1.0) & (big_q < 0.983), "Atira", out)
    out = np.where((a_au < 1.0) & (big_q >= 0.983), "Aten", out)
    out = np.where((a_au >= 1.0) & (q <= 1.017), "Apollo", out)
    out = np.where((q > 1.017) & (q < 1.3), "Amor", out)
    return out
