"""Rendezvous transfers: Lambert arcs with units, porkchop grids and launch windows.

The question Ramses answers (ESA, with JAXA): when can a spacecraft launched from
Earth reach (99942) Apophis before its 13 April 2029 flyby, at what cost, and how
does that change with the launch date? This module answers it for two-impulse
(ballistic Lambert) transfers:

* :func:`lambert` -- the compiled Izzo (2015) solver of :mod:`apophis_sim._core.lambert`
  behind an astropy-units boundary, raising typed errors (or masking, on request);
* :func:`porkchop` -- every (departure date, arrival date) pair of a grid: launch
  C3, the departure asymptote (v_inf vector, DLA, RLA), arrival v_inf, total
  delta-v, time of flight and revolution count, as a :class:`Porkchop`;
* :func:`launch_windows` -- contiguous launch intervals that satisfy launch
  constraints, ranked, as :class:`LaunchWindow` objects;
* :func:`ride_share_options` -- what arrivals remain for one fixed launch date and a
  C3 budget (a second payload on the same launcher).

Conventions
-----------
Frame and centre
    Transfers are heliocentric (centre ``"sun"``), in ICRF (equatorial J2000)
    axes, with the Sun's DE440 GM by default. Earth comes from DE440
    (``posvel(earth) - posvel(sun)``); Apophis from its n-body trajectory
    (:func:`~apophis_sim.propagate_nbody_grid`, JPL #220 with its force model).
Departure
    ``v_inf_dep = v1 - v_origin``: the hyperbolic excess velocity the launcher
    delivers, with ``C3 = |v_inf_dep|^2`` [km^2/s^2]. The asymptote's declination
    (DLA) and right ascension (RLA) are those of ``v_inf_dep`` in the ICRF
    (Earth-equatorial) frame, which is what a launch site's latitude limits.
    Earth's own gravity well and the Earth-Moon offset are not modelled: the
    patched-conic departure sits at Earth's centre.
Arrival
    ``v_inf_arr = v_target - v2``: the velocity change that matches the target's
    velocity at arrival (a rendezvous; Apophis's gravity is negligible, so this
    *is* the arrival delta-v).
Total delta-v
    ``total_dv = |v_inf_dep| + |v_inf_arr|`` = sqrt(C3) + arrival delta-v, the
    usual porkchop figure of merit for a two-impulse transfer counted from
    Earth's sphere of influence. It is *not* the spacecraft's own budget when a
    launcher provides C3 (then only ``v_inf_arr`` is), and it excludes the
    delta-v of leaving a parking orbit (sqrt(C3 + v_esc^2) - v_circ).

Limitations
-----------
Ballistic two-impulse arcs only: no deep-space manoeuvre, no gravity assist, no
low thrust (a real mission may do better than the best cell). The transfer is a
heliocentric Kepler arc; planetary perturbations during cruise are ignored (they
shift the arrival by ~1e-4 of the arc for Earth-Apophis transfers).

References
----------
D. Izzo, "Revisiting Lambert's problem", Celest. Mech. Dyn. Astr. 121, 1-15 (2015).
J. E. Prussing and B. A. Conway, *Orbital Mechanics*, 2nd ed., OUP (2013), ch. 5
(Lambert) and ch. 6 (patched conics, C3, v_inf).
H. D. Curtis, *Orbital Mechanics for Engineering Students*, 3rd ed. (2014),
ch. 8 (interplanetary trajectories, Hohmann transfer).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import astropy.units as u
import numpy as np
from astropy.table import QTable
from astropy.time import Time

from . import bodies as _bodies
from ._deprecation import deprecated_attribute, renamed_kwargs, renamed_value, warn_renamed
from ._core import lambert as _lam
from .errors import (ConvergenceError, InputError, InputTypeError, ShapeMismatchError,
                     TooManyRowsError, UnknownNameError)
from .state import State
from .time import dt_days, from_jd_tdb, one_utc_warning, to_jd_tdb, utc_iso, utc_time
from .units import AU, AU_KM, DAY, GM_UNIT, to_canonical

if TYPE_CHECKING:
    from .ephemeris import Ephemeris
    from .nbody import OrbitSolution

__all__ = [
    "BRANCHES",
    "CELL_STATUS_NAMES",
    "DEFAULT_ARRIVE_BY",
    "DEFAULT_V_INF_ARRIVAL_MAX",
    "DEFAULT_C3_MAX",
    "DEFAULT_DLA_MAX",
    "LambertSolution",
    "MAX_PORKCHOP_CELLS",
    "MAX_REVS",
    "LaunchWindow",
    "Porkchop",
    "STATUS_NONPOSITIVE_TOF",
    "lambert",
    "launch_windows",
    "porkchop",
    "ride_share_options",
]

KM_S = u.km / u.s
KM2_S2 = u.km**2 / u.s**2
#: au/day -> km/s.
_KMS_PER_AU_D = AU_KM / 86400.0

#: Valid Lambert branch names (multi-revolution transfers only), see :func:`lambert`.
BRANCHES = {"left": _lam.BRANCH_LEFT, "right": _lam.BRANCH_RIGHT}

#: Cell status of a porkchop: the arrival is not after the departure.
STATUS_NONPOSITIVE_TOF = 6
#: Status code -> name, for :attr:`Porkchop.status` (the Lambert codes plus
#: ``NONPOSITIVE_TOF``).
CELL_STATUS_NAMES = {**_lam.STATUS_NAMES, STATUS_NONPOSITIVE_TOF: "NONPOSITIVE_TOF"}

#: Default launch-energy limit [km^2/s^2]. 30 km^2/s^2 is about the C3 an H3-24
#: class launcher gives a ~1.5 t spacecraft (Ramses' class; Hayabusa2 left with
#: C3 = 21 on H-IIA), and well above what an Earth -> Apophis rendezvous needs.
DEFAULT_C3_MAX = 30.0 * KM2_S2
#: Default ``|DLA|`` limit [deg]: 40 deg. From a parking orbit of inclination i every
#: asymptote with ``|DLA| <= i`` is reached without a plane change. JAXA's
#: Tanegashima pad lies at 30.40 deg N: a due-east launch gives i = 30.4 deg, and
#: i = 40 deg needs an azimuth of ~117 deg (sin Az = cos i / cos 30.4 deg), which
#: gives up only ~0.05 km/s of Earth-rotation speed (0.40 km/s there) -- the pad
#: flies far steeper orbits (H-IIB/HTV to 51.6 deg). Pass 30.4 deg for the strict
#: due-east case.
DEFAULT_DLA_MAX = 40.0 * u.deg
#: Default latest arrival, a UTC date (2029-02-13 00:00 UTC, as every date string of
#: the library): two months before the 13 April 2029 flyby (Ramses plans to arrive in
#: February 2029 to characterise Apophis before the flyby).
DEFAULT_ARRIVE_BY = "2029-02-13"
#: Default arrival delta-v limit [km/s]: 2.5 km/s, what a Hera-class
#: bipropellant spacecraft (Isp ~ 320 s) delivers with ~55 % of its launch mass
#: as propellant -- generous for Ramses, so that the ranking, not this
#: threshold, decides which window is best.
DEFAULT_V_INF_ARRIVAL_MAX = 2.5 * KM_S

#: Quantity names of earlier releases (deprecated; see :func:`launch_windows`).
_RENAMED_QUANTITIES = {"vinf_arrival": "v_inf_arrival"}
_RENAMED_CONSTANTS = {"DEFAULT_ARRIVAL_VINF_MAX": "DEFAULT_V_INF_ARRIVAL_MAX"}


def __getattr__(name: str) -> Any:
    if name in _RENAMED_CONSTANTS:
        new = _RENAMED_CONSTANTS[name]
        warn_renamed(f"apophis_sim.rendezvous.{name}", new, stacklevel=2)
        return globals()[new]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------------------
# Lambert with units
# ---------------------------------------------------------------------------
class LambertSolution(NamedTuple):
    """Result of :func:`lambert`.

    Attributes
    ----------
    v1, v2 : Quantity [km/s], shape batch + (3,)
        Velocities at r1 (departure) and r2 (arrival), in the frame of r1 and r2;
        NaN where ``status != 0`` (only with ``on_failure="mask"``).
    status : ndarray of int8, shape batch
        0 (OK) everywhere unless ``on_failure="mask"``; otherwise the codes of
        :data:`apophis_sim._core.lambert.STATUS_NAMES` (1 not converged,
        3 degenerate geometry, 4 invalid input, 5 no solution for ``revs``).
    """

    v1: u.Quantity
    v2: u.Quantity
    status: np.ndarray

    @property
    def reasons(self) -> np.ndarray:
        """Status names (``"OK"``, ``"DEGENERATE"``, ...), same shape as ``status``."""
        return _status_names(self.status)


def _status_names(status: np.ndarray) -> np.ndarray:
    names = np.empty(np.shape(status), dtype=object)
    for code, name in CELL_STATUS_NAMES.items():
        names[status == code] = name
    return names


def _branch_code(branch: str | int) -> int:
    if isinstance(branch, str):
        key = branch.lower()
        if key not in BRANCHES:
            raise UnknownNameError("branch", branch, BRANCHES)
        return BRANCHES[key]
    if branch in (0, 1) and not isinstance(branch, bool):
        return int(branch)
    raise UnknownNameError("branch", branch, BRANCHES)


def _sun_gm(gm: u.Quantity | None) -> float:
    if gm is None:
        return float(_bodies.body("sun").gm_au3_d2)
    out = to_canonical(gm, GM_UNIT, "gm")
    if out.ndim != 0:
        raise ShapeMismatchError(f"gm must be a scalar (one central body), got shape {out.shape}")
    if out <= 0:
        raise InputError(f"gm must be positive, got {gm}")
    return float(out)


def lambert(r1: u.Quantity, r2: u.Quantity, tof: u.Quantity, *, gm: u.Quantity | None = None,
            revs: int = 0, branch: str | int = "left", prograde: bool = True,
            on_failure: str = "raise") -> LambertSolution:
    """Solve Lambert's problem with units (Izzo 2015), broadcasting over batches.

    Finds the Keplerian arc from ``r1`` to ``r2`` in time ``tof`` about a body of
    gravitational parameter ``gm`` with ``revs`` complete revolutions.

    Parameters
    ----------
    r1, r2 : Quantity [length], shape (..., 3)
        Departure and arrival positions, same inertial frame (xyz on the last axis).
    tof : Quantity [time]
        Time of flight, > 0; broadcasts against the batch shapes of r1 and r2.
    gm : Quantity [length^3/time^2], optional
        Gravitational parameter of the central body (scalar). Default: the Sun's
        DE440 GM, 2.9591220828911812e-4 au^3/day^2.
    revs : int
        Complete revolutions M >= 0.
    branch : {"left", "right"} or {0, 1}
        For M >= 1: ``"left"``, the solution with x below x(T_min) (pykep's
        index 2M - 1, poliastro ``lowpath=False``); ``"right"``, the other one
        (``lowpath=True``). Ignored for M = 0.
    prograde : bool
        True: angular momentum along +z of the frame (the direct sense in
        ecliptic or equatorial frames); False: retrograde.
    on_failure : {"raise", "mask"}
        ``"raise"`` (default): any element without a solution raises.
        ``"mask"``: such elements get NaN velocities and their reason in
        ``status``; bad *input* (units, shapes, NaN, tof <= 0) still raises.

    Returns
    -------
    LambertSolution
        ``(v1, v2, status)``, velocities in km/s.

    Raises
    ------
    PhysicalTypeError, NonFiniteInputError, ShapeMismatchError
        Wrong units, NaN/inf, or shapes that do not broadcast.
    InputError
        ``tof <= 0``, ``gm <= 0``, ``revs < 0``; with ``on_failure="raise"``,
        also r1, r2 collinear (the transfer plane is undefined) or ``tof`` below
        the minimum time of flight of ``revs`` revolutions (the message gives it).
    ConvergenceError
        The iteration failed (not observed in the test suite; with
        ``on_failure="raise"``).
    UnknownNameError
        ``branch`` or ``on_failure`` is not a valid option.

    Notes
    -----
    Precision: a few ulp of the exact solution of the float64 problem; the arc
    re-propagated with :func:`~apophis_sim.propagate` reaches r2 within 1 m per
    au. Collinear r1, r2 (0 or 180 degrees) define no plane and are reported as
    degenerate. See :mod:`apophis_sim._core.lambert` for the method.

    References
    ----------
    D. Izzo, "Revisiting Lambert's problem", Celest. Mech. Dyn. Astr. 121, 1-15 (2015).
    """
    if on_failure not in ("raise", "mask"):
        raise UnknownNameError("on_failure option", on_failure, ("raise", "mask"))
    r1_au = to_canonical(r1, AU, "r1")
    r2_au = to_canonical(r2, AU, "r2")
    tof_d = to_canonical(tof, DAY, "tof")
    mu = _sun_gm(gm)
    if np.any(tof_d <= 0):
        raise InputError(f"tof must be > 0 (arrival after departure); got min {tof_d.min()} day")
    revs = _check_max_revs(revs, "revs")
    code = _branch_code(branch)
    for name, a in (("r1", r1_au), ("r2", r2_au)):
        if a.ndim == 0 or a.shape[-1] != 3:
            raise ShapeMismatchError(f"{name} needs xyz on its last axis (shape (..., 3)), "
                                     f"got shape {a.shape}")
    try:
        np.broadcast_shapes(r1_au.shape[:-1], r2_au.shape[:-1], tof_d.shape)
    except ValueError:
        raise ShapeMismatchError(
            f"batch shapes do not broadcast: r1 {r1_au.shape[:-1]}, r2 {r2_au.shape[:-1]}, "
            f"tof {tof_d.shape}") from None
    v1, v2, status = _lam.lambert(r1_au, r2_au, tof_d, mu, int(revs), code, bool(prograde))
    if on_failure == "raise" and np.any(status != _lam.STATUS_OK):
        _raise_lambert(status, r1_au, r2_au, tof_d, mu, int(revs), bool(prograde))
    return LambertSolution(u.Quantity(v1 * _KMS_PER_AU_D, KM_S),
                           u.Quantity(v2 * _KMS_PER_AU_D, KM_S), status)


def _raise_lambert(status, r1, r2, tof, mu, revs, prograde) -> None:
    bad = np.argwhere(np.atleast_1d(status) != _lam.STATUS_OK)[0]
    idx = tuple(int(i) for i in bad) if np.ndim(status) else ()
    code = int(np.asarray(status)[idx])
    batch = np.shape(status)
    a = np.broadcast_to(r1, batch + (3,))[idx]
    b = np.broadcast_to(r2, batch + (3,))[idx]
    t = float(np.broadcast_to(tof, batch)[idx])
    where = f" (first at batch index {idx})" if idx else ""
    if code == _lam.STATUS_DEGENERATE:
        raise InputError(
            f"r1 and r2 are collinear or zero{where}: the transfer angle is 0 or 180 degrees, "
            "so no transfer plane is defined (infinitely many arcs exist); move one position "
            "slightly out of the line, or pass on_failure='mask'")
    if code == _lam.STATUS_NO_SOLUTION_FOR_REVS:
        t_min, _ = _lam.min_tof(a, b, mu, revs, prograde)
        raise InputError(
            f"no {revs}-revolution transfer exists{where}: tof = {t:.6g} day is below the "
            f"minimum {float(t_min):.6g} day for {revs} revolution(s); use fewer revs, a longer "
            "tof, or on_failure='mask'")
    if code == _lam.STATUS_NOT_CONVERGED:
        raise ConvergenceError(
            f"Lambert iteration did not converge{where} (r1 = {a} au, r2 = {b} au, tof = {t} "
            "day); report this case, or pass on_failure='mask'")
    raise InputError(f"invalid Lambert input{where} (status {CELL_STATUS_NAMES.get(code, code)}):"
                     f" r1 = {a} au, r2 = {b} au, tof = {t} day, revs = {revs}")


# ---------------------------------------------------------------------------
# end points of a transfer
# ---------------------------------------------------------------------------
def _ensure_times(t: Any, name: str) -> tuple[Time, np.ndarray, np.ndarray]:
    jd1, jd2 = to_jd_tdb(t, name)
    jd1 = np.atleast_1d(jd1)
    jd2 = np.atleast_1d(jd2)
    if jd1.ndim != 1 or jd1.size == 0:
        raise ShapeMismatchError(f"{name} must be a non-empty 1-d Time array, got shape "
                                 f"{np.shape(t.jd1)}")
    return from_jd_tdb(jd1, jd2), jd1, jd2


def _end_label(obj: Any) -> str:
    if isinstance(obj, str):
        return obj.lower()
    name = getattr(obj, "name", None)
    if isinstance(name, str):
        return name
    return "state"


def _end_posvel(obj: Any, times: Time, jd1: np.ndarray, jd2: np.ndarray,
                eph: Ephemeris | None, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Heliocentric ICRF position [au] and velocity [au/day] of one transfer end at times."""
    from .nbody import OrbitSolution, propagate_nbody_grid
    from .propagate import propagate_grid

    if isinstance(obj, str):
        from .ephemeris import Ephemeris

        e = eph if eph is not None else Ephemeris.open()
        body = obj.lower()
        if body == "sun":
            raise InputError(f"{name} cannot be the Sun: transfers are heliocentric")
        if body not in e.bodies:
            raise UnknownNameError(f"{name} body", obj, tuple(b for b in e.bodies if b != "sun"))
        return e.posvel(body, jd1, jd2, centre="sun")
    if isinstance(obj, OrbitSolution):
        st = propagate_nbody_grid(obj, times, ephemeris=eph)
        st = st.to_frame("icrf").to_centre("sun", ephemeris=eph)
        return np.asarray(st.r_au), np.asarray(st.v_au_d)
    if isinstance(obj, State):
        st = obj.to_frame("icrf")
        if st.shape == jd1.shape and np.allclose(dt_days(*st.jd_tdb, jd1, jd2), 0.0, atol=1e-9):
            # A tabulated trajectory at exactly these times: used as given.
            st = st.to_centre("sun", ephemeris=eph)
            return np.asarray(st.r_au), np.asarray(st.v_au_d)
        if st.shape:
            raise ShapeMismatchError(
                f"{name} State must be a single state (propagated with two-body motion about "
                f"the Sun) or a trajectory tabulated at exactly the {name.split()[0]} times "
                f"(shape {jd1.shape}); got shape {st.shape}")
        st = st.to_centre("sun", ephemeris=eph)
        out = propagate_grid(st, times)
        return np.asarray(out.r_au), np.asarray(out.v_au_d)
    raise InputError(
        f"{name} must be a DE440 body name (e.g. 'earth', 'mars'), an OrbitSolution (e.g. "
        f"apophis_sim.apophis()) or a State; got {type(obj).__name__}")


# ---------------------------------------------------------------------------
# porkchop
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Porkchop:
    """A departure x arrival grid of two-impulse transfers (see :func:`porkchop`).

    Every array has shape ``(n_departures, n_arrivals)`` (vectors one more axis
    of 3); cell ``[i, j]`` is the transfer leaving at ``departure[i]`` and
    arriving at ``arrival[j]``. Cells without a transfer (``status != 0``) hold
    NaN (and ``revs = -1``); ``status`` says why.

    Attributes
    ----------
    departure, arrival : Time, shape (N,) and (M,)
        Grid times (TDB).
    c3 : Quantity [km^2/s^2]
        Launch energy ``|v_inf_dep|^2``.
    v_inf_departure : Quantity [km/s], shape (N, M, 3)
        Departure hyperbolic excess velocity ``v1 - v_origin`` (ICRF axes).
    dla, rla : Quantity [deg]
        Declination (-90..90) and right ascension (0..360) of the departure
        asymptote in the ICRF (Earth-equatorial) frame.
    v_inf_arrival : Quantity [km/s]
        ``|v_target - v2|``, the rendezvous (arrival) delta-v.
    total_dv : Quantity [km/s]
        sqrt(C3) + v_inf_arrival (see the module docstring for the convention).
    tof : Quantity [day]
        Time of flight (also where there is no transfer; <= 0 below the diagonal).
    revs : ndarray of int
        Complete revolutions of the chosen arc (-1 where there is none).
    branch : ndarray of int
        Lambert branch of multi-revolution arcs (0 left, 1 right; 0 for M = 0).
    status : ndarray of int8
        0 OK; otherwise a code of :data:`CELL_STATUS_NAMES` (e.g. 6,
        ``NONPOSITIVE_TOF``: the arrival is not after the departure; 3,
        ``DEGENERATE``: a transfer angle of exactly 0 or 180 degrees).
    origin, target : str
        Labels of the two ends.
    r_departure, v_departure : Quantity [au], [km/s], shape (N, 3)
        Heliocentric ICRF state of the origin at each departure time.
    r_arrival, v_arrival : Quantity [au], [km/s], shape (M, 3)
        Heliocentric ICRF state of the target at each arrival time.
    v1, v2 : Quantity [km/s], shape (N, M, 3)
        Heliocentric transfer velocities at departure and arrival.
    gm : Quantity [au^3/day^2]
        Gravitational parameter of the Sun used.
    """

    departure: Time
    arrival: Time
    c3: u.Quantity
    v_inf_departure: u.Quantity = field(repr=False)
    dla: u.Quantity = field(repr=False)
    rla: u.Quantity = field(repr=False)
    v_inf_arrival: u.Quantity = field(repr=False)
    total_dv: u.Quantity = field(repr=False)
    tof: u.Quantity = field(repr=False)
    revs: np.ndarray = field(repr=False)
    branch: np.ndarray = field(repr=False)
    status: np.ndarray = field(repr=False)
    origin: str = "earth"
    target: str = "apophis"
    r_departure: u.Quantity = field(repr=False, default=None)
    v_departure: u.Quantity = field(repr=False, default=None)
    r_arrival: u.Quantity = field(repr=False, default=None)
    v_arrival: u.Quantity = field(repr=False, default=None)
    v1: u.Quantity = field(repr=False, default=None)
    v2: u.Quantity = field(repr=False, default=None)
    gm: u.Quantity = field(repr=False, default=None)

    vinf_departure = deprecated_attribute("v_inf_departure")
    vinf_arrival = deprecated_attribute("v_inf_arrival")

    @property
    def shape(self) -> tuple[int, int]:
        """(n_departures, n_arrivals)."""
        return self.status.shape

    def _summary(self) -> list[tuple[str, str]]:
        n, m = self.shape
        d = utc_iso(self.departure[[0, -1]])
        a = utc_iso(self.arrival[[0, -1]])
        rows = [("transfer", f"{_title_case(self.origin)} -> {_title_case(self.target)}"),
                ("launch dates (UTC)", f"{d[0][:10]} .. {d[1][:10]} ({n})"),
                ("arrival dates (UTC)", f"{a[0][:10]} .. {a[1][:10]} ({m})"),
                ("cells with a transfer", f"{int(self.ok.sum())} of {n * m}")]
        if self.ok.any():
            i, j = self.best("total_dv")
            bd, ba = utc_iso(self.departure[i])[:10], utc_iso(self.arrival[j])[:10]
            rows.append(("least total dv", f"{self.total_dv[i, j].to_value(KM_S):.3f} km/s "
                         f"(launch {bd}, arrival {ba}, C3 {self.c3[i, j].to_value(KM2_S2):.2f} "
                         f"km2/s2)"))
        return rows

    def __repr__(self) -> str:
        n, m = self.shape
        d = utc_iso(self.departure[[0, -1]])
        a = utc_iso(self.arrival[[0, -1]])
        best = ""
        if self.ok.any():
            i, j = self.best("total_dv")
            best = f", least total dv {self.total_dv[i, j].to_value(KM_S):.3f} km/s"
        return (f"Porkchop({self.origin} -> {self.target}, {n} launch dates {d[0][:10]} .. "
                f"{d[1][:10]} x {m} arrival dates {a[0][:10]} .. {a[1][:10]} (UTC), "
                f"{int(self.ok.sum())} of {n * m} cells with a transfer{best})")

    def _repr_html_(self) -> str:
        return _html_rows("Porkchop", self._summary())

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of the cells that hold a transfer."""
        return self.status == 0

    @property
    def reasons(self) -> np.ndarray:
        """Status names per cell (``"OK"``, ``"NONPOSITIVE_TOF"``, ...)."""
        return _status_names(self.status)

    def best(self, quantity: str = "total_dv", mask: np.ndarray | None = None
             ) -> tuple[int, int]:
        """Index ``(i, j)`` of the cell minimising ``quantity`` (among ``mask`` if given).

        Parameters
        ----------
        quantity : {"total_dv", "c3", "v_inf_arrival", "tof"}
            The figure of merit.
        mask : ndarray of bool (N, M), optional
            Cells allowed (e.g. ``feasible_cells(pc, ...)``).

        Returns
        -------
        (int, int)

        Raises
        ------
        UnknownNameError
            ``quantity`` is not one of ``"c3"``, ``"total_dv"``, ``"v_inf_arrival"``,
            ``"tof"``.
        InputError
            No cell qualifies.
        """
        quantity = renamed_value(quantity, _RENAMED_QUANTITIES, "Porkchop.best() quantity")
        values = self._values(quantity)
        sel = self.ok if mask is None else (self.ok & np.asarray(mask, dtype=bool))
        if not sel.any():
            raise InputError("no cell of the porkchop satisfies the mask: nothing to pick")
        return tuple(int(k) for k in np.unravel_index(
            np.argmin(np.where(sel, values, np.inf)), values.shape))

    def _values(self, quantity: str) -> np.ndarray:
        options = {"c3": (self.c3, KM2_S2), "total_dv": (self.total_dv, KM_S),
                   "v_inf_arrival": (self.v_inf_arrival, KM_S), "tof": (self.tof, DAY)}
        if quantity not in options:
            raise UnknownNameError("porkchop quantity", quantity, options)
        q, unit = options[quantity]
        return q.to_value(unit)

    def transfer(self, i: int, j: int) -> State:
        """The spacecraft's heliocentric ICRF state just after departure in cell (i, j).

        Parameters
        ----------
        i, j : int
            Departure and arrival index of the cell.

        Returns
        -------
        State

        Raises
        ------
        InputError
            The cell holds no transfer (the message gives its status).
        """
        if self.status[i, j] != 0:
            raise InputError(f"cell ({i}, {j}) holds no transfer: "
                             f"{CELL_STATUS_NAMES[int(self.status[i, j])]}")
        jd1, jd2 = to_jd_tdb(self.departure[i])
        return State.from_arrays(self.r_departure[i].to_value(AU),
                                 self.v1[i, j].to_value(KM_S) / _KMS_PER_AU_D, jd1, jd2,
                                 "icrf", "sun")


Porkchop.__init__ = renamed_kwargs(  # type: ignore[method-assign]
    vinf_departure="v_inf_departure", vinf_arrival="v_inf_arrival")(Porkchop.__init__)


def _title_case(name: str) -> str:
    return name.capitalize() if name.islower() else name


def _html_rows(title: str, rows: list[tuple[str, str]]) -> str:
    import html

    body = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
                   f"<td style='text-align:left'>{html.escape(v)}</td></tr>" for k, v in rows)
    return (f"<table><caption style='text-align:left'><b>{html.escape(title)}</b></caption>"
            f"{body}</table>")


def _transfer_grid(r_dep: np.ndarray, v_dep: np.ndarray, r_arr: np.ndarray, v_arr: np.ndarray,
                   tof_d: np.ndarray, mu: float, revs: int, branch: int, prograde: bool,
                   ) -> dict[str, np.ndarray]:
    """Lambert solve plus v_inf on a (N, M) grid, canonical units in, km/s out (the core)."""
    v1, v2, status = _lam.lambert(r_dep[:, None, :], r_arr[None, :, :], tof_d, mu, revs, branch,
                                  prograde)
    vd = (v1 - v_dep[:, None, :]) * _KMS_PER_AU_D
    va = (v_arr[None, :, :] - v2) * _KMS_PER_AU_D
    vd_mag = np.sqrt(np.einsum("...k,...k->...", vd, vd))
    va_mag = np.sqrt(np.einsum("...k,...k->...", va, va))
    return dict(v1=v1, v2=v2, status=status, vinf_dep=vd, vd_mag=vd_mag, va_mag=va_mag,
                total=vd_mag + va_mag)


#: Largest ``max_revs`` accepted by :func:`porkchop` and :func:`lambert`: beyond a few
#: dozen revolutions a two-impulse arc is not a transfer anyone flies, and the grid
#: search stops anyway where no arc can exist (see ``_max_useful_revs``).
MAX_REVS = 100


#: Largest porkchop grid (departures x arrivals); each cell holds ~300 bytes of results.
MAX_PORKCHOP_CELLS = 4_000_000
_BYTES_PER_CELL = 300


def _max_useful_revs(r1: np.ndarray, r2: np.ndarray, tof_d: np.ndarray, mu: float) -> int:
    """Most complete revolutions any cell of a grid can fly (0 when none).

    An arc of N revolutions lasts more than N periods of its orbit, and no orbit
    joining r1 and r2 has a shorter period than the minimum-energy one
    (a_m = s / 2, s the semi-perimeter of the transfer triangle). So
    T_min(N) >= N 2 pi sqrt(a_m^3 / mu), and revolution counts above
    tof / P(a_m) have no solution in any cell.

    Parameters
    ----------
    r1 : ndarray (N, 3), r2 : ndarray (M, 3)
        Departure and arrival positions [au].
    tof_d : ndarray (N, M)
        Times of flight [day].
    mu : float
        GM [au^3/day^2].
    """
    if tof_d.size == 0:
        return 0
    with np.errstate(all="ignore"):
        n1 = np.linalg.norm(r1, axis=-1)[:, None]
        n2 = np.linalg.norm(r2, axis=-1)[None, :]
        c = np.linalg.norm(r2[None, :, :] - r1[:, None, :], axis=-1)
        a_m = (n1 + n2 + c) / 4.0
        period = 2.0 * np.pi * np.sqrt(a_m ** 3 / mu)
        ratio = np.where(np.isfinite(tof_d) & (tof_d > 0) & (period > 0), tof_d / period, 0.0)
    top = float(np.max(ratio)) if ratio.size else 0.0
    return int(min(np.floor(top), MAX_REVS)) if np.isfinite(top) else MAX_REVS


def _check_max_revs(max_revs, name: str = "max_revs") -> int:
    ok = (not isinstance(max_revs, (bool, np.bool_))
          and isinstance(max_revs, (int, np.integer, float, np.floating))
          and np.isfinite(max_revs) and int(max_revs) == max_revs and max_revs >= 0)
    if not ok:
        raise InputError(f"{name} must be an integer >= 0, got {max_revs!r:.60}")
    if max_revs > MAX_REVS:
        raise InputError(f"{name} = {max_revs} is more than {MAX_REVS} revolutions; pass "
                         f"0 .. {MAX_REVS} (multi-revolution arcs need tof > N orbital "
                         f"periods, so large counts have no solution on any launch grid)")
    return int(max_revs)


def porkchop_arrays(r_dep: np.ndarray, v_dep: np.ndarray, r_arr: np.ndarray,
                    v_arr: np.ndarray, tof_d: np.ndarray, mu: float, *, max_revs: int = 0,
                    prograde: bool = True, progress: bool | None = None,
                    chunk_rows: int | None = None) -> dict[str, np.ndarray]:
    """The porkchop core: canonical arrays in, plain arrays out (no units, no Time).

    Parameters
    ----------
    r_dep, v_dep : ndarray (N, 3)
        Origin position [au] and velocity [au/day] at the departures (ICRF).
    r_arr, v_arr : ndarray (M, 3)
        Target position and velocity at the arrivals.
    tof_d : ndarray (N, M)
        Times of flight [day].
    mu : float
        GM [au^3/day^2].
    max_revs : int
        Revolutions tried: M = 0 .. max_revs (both branches for M >= 1); the arc
        of least total delta-v is kept per cell.
    prograde : bool
        Sense of the transfer (see :func:`lambert`).
    progress : bool, optional
        tqdm bar over row chunks (default: stderr is a terminal and N * M > 1e6).
    chunk_rows : int, optional
        Rows per chunk (default: ~250 000 cells per chunk).

    Returns
    -------
    dict of ndarray
        ``c3`` [km^2/s^2], ``vinf_dep`` (N, M, 3) [km/s], ``dla``, ``rla`` [deg],
        ``vinf_arr``, ``total_dv`` [km/s], ``revs``, ``branch``, ``status``,
        ``v1``, ``v2`` [au/day].
    """
    n, m = tof_d.shape
    out = dict(c3=np.empty((n, m)), vinf_dep=np.empty((n, m, 3)), vinf_arr=np.empty((n, m)),
               total_dv=np.empty((n, m)), revs=np.empty((n, m), dtype=np.int64),
               branch=np.zeros((n, m), np.int64), status=np.empty((n, m), np.int8),
               v1=np.empty((n, m, 3)), v2=np.empty((n, m, 3)))
    if chunk_rows is None:
        chunk_rows = max(1, 250_000 // max(m, 1))
    if progress is None:
        progress = n * m * (1 + 2 * max_revs) > 1_000_000 and sys.stderr.isatty()
    starts = range(0, n, chunk_rows)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="porkchop (Lambert rows)", unit="chunk", leave=False)
    for s in starts:
        rows = slice(s, min(n, s + chunk_rows))
        best_total = np.full((rows.stop - s, m), np.inf)
        first_status = None
        # No N-revolution arc exists where tof < N P(a_m) <= T_min(N): stop there.
        top = min(max_revs, _max_useful_revs(r_dep[rows], r_arr, tof_d[rows], mu))
        for revs in range(top + 1):
            for branch in ((0,) if revs == 0 else (0, 1)):
                g = _transfer_grid(r_dep[rows], v_dep[rows], r_arr, v_arr, tof_d[rows], mu,
                                   revs, branch, prograde)
                if first_status is None:
                    # Direct arcs: plain copies (the kernel already put NaN in every
                    # unsolved cell, so no masking is needed).
                    first_status = g["status"]
                    best_total = np.where(first_status == 0, g["total"], np.inf)
                    out["c3"][rows] = g["vd_mag"] ** 2
                    out["vinf_dep"][rows] = g["vinf_dep"]
                    out["vinf_arr"][rows] = g["va_mag"]
                    out["total_dv"][rows] = g["total"]
                    out["revs"][rows] = np.where(first_status == 0, 0, -1)
                    out["v1"][rows] = g["v1"]
                    out["v2"][rows] = g["v2"]
                    continue
                better = (g["status"] == 0) & (g["total"] < best_total)
                if not better.any():
                    continue
                best_total = np.where(better, g["total"], best_total)
                tgt = {k: v[rows] for k, v in out.items()}
                tgt["c3"][better] = g["vd_mag"][better] ** 2
                tgt["vinf_dep"][better] = g["vinf_dep"][better]
                tgt["vinf_arr"][better] = g["va_mag"][better]
                tgt["total_dv"][better] = g["total"][better]
                tgt["revs"][better] = revs
                tgt["branch"][better] = branch
                tgt["v1"][better] = g["v1"][better]
                tgt["v2"][better] = g["v2"][better]
        st = np.where(np.isfinite(best_total), 0, first_status).astype(np.int8)
        st[tof_d[rows] <= 0] = STATUS_NONPOSITIVE_TOF
        out["status"][rows] = st
    vd = out["vinf_dep"]
    vmag = np.sqrt(out["c3"])
    with np.errstate(invalid="ignore"):
        out["dla"] = np.degrees(np.arcsin(np.clip(vd[..., 2] / vmag, -1.0, 1.0)))
        out["rla"] = np.degrees(np.arctan2(vd[..., 1], vd[..., 0])) % 360.0
    return out


def porkchop(departure_times: Time, arrival_times: Time, origin: str | State | OrbitSolution
             = "earth", target: str | State | OrbitSolution | None = None, *,
             max_revs: int = 0, prograde: bool = True, gm: u.Quantity | None = None,
             ephemeris: Ephemeris | None = None, progress: bool | None = None) -> Porkchop:
    """Every two-impulse transfer of a departure x arrival date grid (a porkchop plot's data).

    Parameters
    ----------
    departure_times, arrival_times : Time, 1-d (N,) and (M,)
        Grid dates, any scale (converted once to TDB; UTC after the last leap
        second warns with :class:`~apophis_sim.UTCAssumptionWarning`).
    origin, target : str, OrbitSolution or State
        Each end of the transfer: a DE440 body name (``"earth"``, ``"mars"``,
        ... -- heliocentric from the ephemeris), an :class:`~apophis_sim.OrbitSolution`
        (propagated with the full n-body model by
        :func:`~apophis_sim.propagate_nbody_grid`), a scalar :class:`~apophis_sim.State`
        (two-body propagated about the Sun by :func:`~apophis_sim.propagate_grid`
        after conversion to a heliocentric ICRF state) or a State tabulated at
        exactly the grid's times. Default: origin Earth, target Apophis
        (:func:`~apophis_sim.apophis`, JPL #220).
    max_revs : int
        Complete revolutions tried per cell, 0 .. max_revs (both Lambert branches
        for >= 1); the arc of least total delta-v is kept and its count stored in
        ``revs``. Default 0 (direct transfers), which is what launch windows of
        less than a year need. At most ``MAX_REVS`` (100); the search stops at the
        largest count any cell can fly (an N-revolution arc lasts more than N
        periods of the minimum-energy orbit, see ``_max_useful_revs``), so a
        large ``max_revs`` costs no more than the useful one.
    prograde : bool
        Prograde (default; the only sensible choice between near-ecliptic
        orbits) or retrograde transfers.
    gm : Quantity [length^3/time^2], optional
        GM of the Sun; default DE440's.
    ephemeris : Ephemeris, optional
        Default :meth:`Ephemeris.open`.
    progress : bool, optional
        tqdm progress bar (default: on large grids when stderr is a terminal).

    Returns
    -------
    Porkchop
        Grid results with units; cells with ``tof <= 0`` or without a solution are
        NaN with a non-zero ``status`` (never silent).

    Raises
    ------
    TimeInputError, ShapeMismatchError
        Non-Time or non-1-d times.
    UnknownNameError
        Unknown body name (the message lists the valid ones).
    InputError
        ``max_revs`` not an integer in 0 .. ``MAX_REVS`` (100), an unsupported end
        type, or the Sun as an end.
    TooManyRowsError
        More than ``MAX_PORKCHOP_CELLS`` (4 x 10^6) cells (about 1 GiB of results).
    EphemerisRangeError
        Dates outside DE440.

    Notes
    -----
    Cost: one compiled Izzo solve per cell and revolution branch (~0.2 us per
    cell on two cores), plus the end points: DE440 evaluations, one n-body
    integration for an OrbitSolution.

    Examples
    --------
    >>> import numpy as np, astropy.units as u
    >>> from astropy.time import Time
    >>> dep = Time("2028-03-01", scale="tdb") + np.arange(0, 120, 2) * u.day
    >>> arr = Time("2028-09-01", scale="tdb") + np.arange(0, 180, 2) * u.day
    >>> pc = porkchop(dep, arr)                      # Earth -> Apophis (n-body)
    >>> i, j = pc.best("total_dv")
    """
    from .nbody import apophis

    max_revs = _check_max_revs(max_revs)
    if target is None:
        target = apophis()
    with one_utc_warning():  # two UTC grids: one warning, on the caller's line
        dep, d1, d2 = _ensure_times(departure_times, "departure_times")
        arr, a1, a2 = _ensure_times(arrival_times, "arrival_times")
    cells = d1.size * a1.size
    if cells > MAX_PORKCHOP_CELLS:
        raise TooManyRowsError(
            f"departure_times x arrival_times = {d1.size:,} x {a1.size:,} = {cells:,} cells "
            f"(~{cells * _BYTES_PER_CELL / 2**30:,.1f} GiB), more than the limit of "
            f"{MAX_PORKCHOP_CELLS:,}; use a coarser step or shorter date ranges (or several "
            "porkchops)")
    mu = _sun_gm(gm)
    from .time import blame_range

    with blame_range("departure_times"):
        r_dep, v_dep = _end_posvel(origin, dep, d1, d2, ephemeris, "origin")
    with blame_range("arrival_times"):
        r_arr, v_arr = _end_posvel(target, arr, a1, a2, ephemeris, "target")
    tof_d = dt_days(a1[None, :], a2[None, :], d1[:, None], d2[:, None])
    out = porkchop_arrays(np.ascontiguousarray(r_dep), np.ascontiguousarray(v_dep),
                          np.ascontiguousarray(r_arr), np.ascontiguousarray(v_arr), tof_d, mu,
                          max_revs=int(max_revs), prograde=bool(prograde), progress=progress)
    return Porkchop(
        departure=dep, arrival=arr,
        c3=u.Quantity(out["c3"], KM2_S2), v_inf_departure=u.Quantity(out["vinf_dep"], KM_S),
        dla=u.Quantity(out["dla"], u.deg), rla=u.Quantity(out["rla"], u.deg),
        v_inf_arrival=u.Quantity(out["vinf_arr"], KM_S),
        total_dv=u.Quantity(out["total_dv"], KM_S), tof=u.Quantity(tof_d, DAY),
        revs=out["revs"], branch=out["branch"], status=out["status"],
        origin=_end_label(origin), target=_end_label(target),
        r_departure=u.Quantity(r_dep, AU), v_departure=u.Quantity(v_dep * _KMS_PER_AU_D, KM_S),
        r_arrival=u.Quantity(r_arr, AU), v_arrival=u.Quantity(v_arr * _KMS_PER_AU_D, KM_S),
        v1=u.Quantity(out["v1"] * _KMS_PER_AU_D, KM_S),
        v2=u.Quantity(out["v2"] * _KMS_PER_AU_D, KM_S),
        gm=u.Quantity(mu, GM_UNIT))


# ---------------------------------------------------------------------------
# launch windows
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class LaunchWindow:
    """A contiguous interval of launch dates that satisfy the constraints.

    Attributes
    ----------
    open, close : Time
        First and last grid launch date of the interval (TDB; the true edges lie
        within one grid step outside).
    best_launch, best_arrival : Time
        The feasible cell of least total delta-v inside the window.
    c3 : Quantity [km^2/s^2]
    v_inf_arrival : Quantity [km/s]
        Arrival (rendezvous) delta-v.
    total_dv : Quantity [km/s]
    dla, rla : Quantity [deg]
    tof : Quantity [day]
    revs : int
    index : (int, int)
        Cell of the best point in the source :class:`Porkchop`.
    rows : (int, int)
        First and last departure index of the window (inclusive).
    columns : (int, int)
        First and last arrival index of the window's feasible cells (inclusive).
    """

    open: Time
    close: Time
    best_launch: Time
    best_arrival: Time
    c3: u.Quantity
    v_inf_arrival: u.Quantity
    total_dv: u.Quantity
    dla: u.Quantity
    rla: u.Quantity
    tof: u.Quantity
    revs: int
    index: tuple[int, int]
    rows: tuple[int, int]
    columns: tuple[int, int]

    vinf_arrival = deprecated_attribute("v_inf_arrival")

    @property
    def length(self) -> u.Quantity:
        """close - open [day] (0 for a single grid date)."""
        return (self.close - self.open).to(DAY)

    def __repr__(self) -> str:
        d = self.to_dict()
        return (f"LaunchWindow(launch {d['launch_open_utc'][:10]} .. {d['launch_close_utc'][:10]}"
                f" UTC, best {d['best_launch_utc'][:10]} -> {d['best_arrival_utc'][:10]} "
                f"({d['tof_days']:.0f} d), C3 {d['c3_km2_s2']:.2f} km2/s2, DLA "
                f"{d['dla_deg']:.1f} deg, arrival v_inf {d['v_inf_arrival_km_s']:.3f} km/s, "
                f"total dv {d['total_dv_km_s']:.3f} km/s)")

    def _repr_html_(self) -> str:
        d = self.to_dict()
        return _html_rows("LaunchWindow", [
            ("launch window (UTC)", f"{d['launch_open_utc']} .. {d['launch_close_utc']} "
                                    f"({d['length_days']:.0f} d)"),
            ("best launch (UTC)", d["best_launch_utc"]),
            ("best arrival (UTC)", f"{d['best_arrival_utc']} (time of flight "
                                   f"{d['tof_days']:.0f} d)"),
            ("C3", f"{d['c3_km2_s2']:.2f} km2/s2"),
            ("DLA, RLA", f"{d['dla_deg']:.1f} deg, {d['rla_deg']:.1f} deg (ICRF)"),
            ("arrival v_inf", f"{d['v_inf_arrival_km_s']:.3f} km/s"),
            ("total dv", f"{d['total_dv_km_s']:.3f} km/s"),
        ])

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict, rounded to what the numbers mean.

        Dates are UTC ISO strings to the second (``2028-05-09T00:00:00``; UTC in
        2028-29 assumes no new leap second); durations in days to 1e-6 d (0.1 s: a
        daily grid's 279 d is printed as 279.0, not 278.9999999967); C3 to 1e-4
        km^2/s^2, speeds to 0.1 m/s, angles to 1e-3 deg.
        """
        utc = [utc_iso(t).replace(" ", "T") for t in (self.open, self.close, self.best_launch,
                                                       self.best_arrival)]
        return {
            "launch_open_utc": utc[0],
            "launch_close_utc": utc[1],
            "best_launch_utc": utc[2],
            "best_arrival_utc": utc[3],
            "c3_km2_s2": round(float(self.c3.to_value(KM2_S2)), 4),
            "v_inf_arrival_km_s": round(float(self.v_inf_arrival.to_value(KM_S)), 4),
            "total_dv_km_s": round(float(self.total_dv.to_value(KM_S)), 4),
            "dla_deg": round(float(self.dla.to_value(u.deg)), 3),
            "rla_deg": round(float(self.rla.to_value(u.deg)), 3),
            "tof_days": round(float(self.tof.to_value(DAY)), 6),
            "revs": int(self.revs),
            "length_days": round(float(self.length.to_value(DAY)), 6),
        }


LaunchWindow.__init__ = renamed_kwargs(  # type: ignore[method-assign]
    vinf_arrival="v_inf_arrival")(LaunchWindow.__init__)


def _scalar_q(q, unit, name: str) -> float:
    """A scalar Quantity argument -> float in ``unit`` (typed errors naming ``name``)."""
    arr = to_canonical(q, unit, name)
    if np.ndim(arr) != 0:
        raise InputError(f"{name} must be a scalar, got shape {np.shape(arr)}")
    return float(arr)


def _time_arg(t: Time | str, name: str) -> Time:
    """A date string is a UTC date (the library's convention, :func:`utc_time`); the
    default date is read without a UTCAssumptionWarning (the user did not write it)."""
    t = utc_time(t, name, announce=not (isinstance(t, str) and t == DEFAULT_ARRIVE_BY))
    jd1, _ = to_jd_tdb(t, name)  # type check with the usual message
    if np.ndim(jd1) != 0:
        raise ShapeMismatchError(f"{name} must be one time, got shape {np.shape(jd1)}")
    return t


@renamed_kwargs(arrival_vinf_max="v_inf_arrival_max")
def feasible_cells(pc: Porkchop, *, c3_max: u.Quantity = DEFAULT_C3_MAX,
                   dla_max: u.Quantity = DEFAULT_DLA_MAX,
                   arrive_by: Time | str = DEFAULT_ARRIVE_BY,
                   v_inf_arrival_max: u.Quantity = DEFAULT_V_INF_ARRIVAL_MAX,
                   tof_min: u.Quantity = 0 * DAY) -> np.ndarray:
    """Boolean (N, M) mask of the cells of ``pc`` that satisfy every constraint.

    Parameters as in :func:`launch_windows`; a limit of ``None`` is not applied.
    """
    if not isinstance(pc, Porkchop):
        raise InputTypeError(f"pc must be a Porkchop (from porkchop(...)), got "
                             f"{type(pc).__name__}")
    ok = pc.ok.copy()
    with np.errstate(invalid="ignore"):
        if c3_max is not None:
            ok &= pc.c3.to_value(KM2_S2) <= _scalar_q(c3_max, KM2_S2, "c3_max")
        if dla_max is not None:
            lim = _scalar_q(dla_max, u.deg, "dla_max")
            if lim < 0:
                raise InputError(f"dla_max must be >= 0, got {dla_max}")
            ok &= np.abs(pc.dla.to_value(u.deg)) <= lim
        if v_inf_arrival_max is not None:
            ok &= pc.v_inf_arrival.to_value(KM_S) <= _scalar_q(v_inf_arrival_max, KM_S,
                                                               "v_inf_arrival_max")
        if tof_min is not None:
            ok &= pc.tof.to_value(DAY) >= _scalar_q(tof_min, DAY, "tof_min")
    if arrive_by is not None:
        t = _time_arg(arrive_by, "arrive_by")
        b1, b2 = to_jd_tdb(t, "arrive_by")
        a1, a2 = to_jd_tdb(pc.arrival)
        ok &= (dt_days(a1, a2, b1, b2) <= 0)[None, :]
    return ok


@renamed_kwargs(arrival_vinf_max="v_inf_arrival_max")
def launch_windows(pc: Porkchop, *, c3_max: u.Quantity | None = DEFAULT_C3_MAX,
                   dla_max: u.Quantity | None = DEFAULT_DLA_MAX,
                   arrive_by: Time | str | None = DEFAULT_ARRIVE_BY,
                   v_inf_arrival_max: u.Quantity | None = DEFAULT_V_INF_ARRIVAL_MAX,
                   tof_min: u.Quantity | None = 0 * DAY,
                   rank_by: str = "total_dv") -> list[LaunchWindow]:
    """Launch windows in a porkchop: contiguous launch intervals meeting the constraints.

    A launch date is *feasible* when at least one arrival date gives a transfer
    within every limit; each maximal run of consecutive feasible grid launch
    dates is a window. Its best point is its feasible cell of least
    ``rank_by``; windows are ranked by that value (best first).

    Parameters
    ----------
    pc : Porkchop
        From :func:`porkchop` (its grid step is the dates' resolution).
    c3_max : Quantity [km^2/s^2], optional
        Launch-energy limit; default :data:`DEFAULT_C3_MAX` (30 km^2/s^2, H3-class
        launcher with a ~1.5 t spacecraft).
    dla_max : Quantity [angle], optional
        ``|DLA|`` limit; default :data:`DEFAULT_DLA_MAX` (40 deg: a Tanegashima parking
        orbit of 40 deg inclination costs < 0.05 km/s more than a due-east one,
        30.4 deg).
    arrive_by : Time or str, optional
        Latest arrival. A string is a UTC calendar date, as everywhere in the
        library (``"2029-02-13"`` is 2029-02-13 00:00 UTC, the instant
        ``apophis-sim windows --arrive-by 2029-02-13`` uses); a Time keeps its
        scale. Default :data:`DEFAULT_ARRIVE_BY` (2029-02-13 UTC, two months before
        the flyby).
    v_inf_arrival_max : Quantity [km/s], optional
        Limit on the arrival (rendezvous) delta-v; default
        :data:`DEFAULT_V_INF_ARRIVAL_MAX` (2.5 km/s).
    tof_min : Quantity [time], optional
        Shortest acceptable flight (default 0: none).
    rank_by : {"total_dv", "v_inf_arrival", "c3"}
        Figure of merit of the best point and of the ranking.

    ``None`` for a limit disables it.

    Returns
    -------
    list of LaunchWindow
        Ranked, best first; empty when nothing satisfies the constraints.

    Raises
    ------
    PhysicalTypeError, NonFiniteInputError
        A limit with wrong units or NaN.
    UnknownNameError
        Bad ``rank_by``.
    """
    rank_by = renamed_value(rank_by, _RENAMED_QUANTITIES, "launch_windows() rank_by")
    if rank_by not in ("total_dv", "v_inf_arrival", "c3"):
        raise UnknownNameError("rank_by quantity", rank_by, ("total_dv", "v_inf_arrival", "c3"))
    ok = feasible_cells(pc, c3_max=c3_max, dla_max=dla_max, arrive_by=arrive_by,
                        v_inf_arrival_max=v_inf_arrival_max, tof_min=tof_min)
    return _windows_from_mask(pc, ok, rank_by)


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive (start, stop) index pairs of the runs of True in a 1-d bool array."""
    f = np.concatenate(([False], np.asarray(flags, bool), [False]))
    d = np.diff(f.astype(np.int8))
    starts = np.flatnonzero(d == 1)
    stops = np.flatnonzero(d == -1) - 1
    return list(zip(starts.tolist(), stops.tolist()))


def _windows_from_mask(pc: Porkchop, ok: np.ndarray, rank_by: str) -> list[LaunchWindow]:
    values = np.where(ok, pc._values(rank_by), np.inf)
    windows = []
    for a, b in _runs(ok.any(axis=1)):
        block = values[a:b + 1]
        k, j = np.unravel_index(np.argmin(block), block.shape)
        i = a + int(k)
        j = int(j)
        cols = np.flatnonzero(ok[a:b + 1].any(axis=0))
        windows.append(LaunchWindow(
            open=pc.departure[a], close=pc.departure[b], best_launch=pc.departure[i],
            best_arrival=pc.arrival[j], c3=pc.c3[i, j], v_inf_arrival=pc.v_inf_arrival[i, j],
            total_dv=pc.total_dv[i, j], dla=pc.dla[i, j], rla=pc.rla[i, j], tof=pc.tof[i, j],
            revs=int(pc.revs[i, j]), index=(i, j), rows=(a, b),
            columns=(int(cols[0]), int(cols[-1]))))
    windows.sort(key=lambda w: float(values[w.index]))
    return windows


@renamed_kwargs(arrival_vinf_max="v_inf_arrival_max")
def ride_share_options(launch: Time, c3_max: u.Quantity, *, arrival_times: Time | None = None,
                       origin: str | State | OrbitSolution = "earth",
                       target: str | State | OrbitSolution | None = None,
                       dla_max: u.Quantity | None = DEFAULT_DLA_MAX,
                       arrive_by: Time | str | None = DEFAULT_ARRIVE_BY,
                       v_inf_arrival_max: u.Quantity | None = DEFAULT_V_INF_ARRIVAL_MAX,
                       tof_min: u.Quantity | None = 30 * DAY, max_revs: int = 0,
                       ephemeris: Ephemeris | None = None) -> QTable:
    """Arrival options for a fixed launch date and C3 (e.g. a ride-share on one launcher).

    When the launch date and the C3 are set by the primary payload, the
    secondary can still choose its arrival date (its own propulsion pays the
    arrival delta-v and any C3 shortfall is not allowed). This lists every
    arrival date of the grid that satisfies the constraints.

    Parameters
    ----------
    launch : Time
        The launch (departure) date, scalar.
    c3_max : Quantity [km^2/s^2]
        C3 the launcher gives this payload (transfers needing more are dropped).
    arrival_times : Time, 1-d, optional
        Candidate arrivals; default daily from ``launch + tof_min`` to ``arrive_by``
        (or 2 years after launch when ``arrive_by`` is None).
    origin, target, max_revs, ephemeris
        As in :func:`porkchop`.
    dla_max, arrive_by, v_inf_arrival_max, tof_min
        As in :func:`launch_windows` (``tof_min`` default 30 days here).

    Returns
    -------
    QTable
        One row per feasible arrival, sorted by arrival delta-v (best first):
        ``arrival`` (Time), ``tof`` [day], ``c3`` [km^2/s^2], ``dla``, ``rla``
        [deg], ``v_inf_arrival``, ``total_dv`` [km/s], ``revs``. ``meta`` holds the
        launch date and the limits. Empty (zero rows) if nothing is feasible.
    """
    l1, l2 = to_jd_tdb(launch, "launch")
    if np.ndim(l1):
        raise ShapeMismatchError("ride_share_options takes one launch date; use porkchop() "
                                 "and launch_windows() for a range")
    c3_lim = _scalar_q(c3_max, KM2_S2, "c3_max")
    if c3_lim < 0:
        raise InputError(f"c3_max must be >= 0, got {c3_max}")
    launch_tdb = from_jd_tdb(l1, l2)
    if arrival_times is None:
        start = launch_tdb + (to_canonical(tof_min, DAY, "tof_min") if tof_min is not None
                              else 1.0) * u.day
        end = (_time_arg(arrive_by, "arrive_by") if arrive_by is not None
               else launch_tdb + 730 * u.day)
        n = int(np.floor((end - start).to_value(DAY))) + 1
        if n < 1:
            raise InputError(f"no arrival date between launch + tof_min ({start.isot} TDB) and "
                             f"arrive_by ({end.isot} TDB)")
        arrival_times = start + np.arange(n) * u.day
    from .time import blame_range

    with blame_range("launch"):
        pc = porkchop(launch_tdb.reshape((1,)), arrival_times, origin, target,
                      max_revs=max_revs, ephemeris=ephemeris, progress=False)
    ok = feasible_cells(pc, c3_max=c3_lim * KM2_S2, dla_max=dla_max, arrive_by=arrive_by,
                        v_inf_arrival_max=v_inf_arrival_max, tof_min=tof_min)[0]
    js = np.flatnonzero(ok)
    js = js[np.argsort(pc.v_inf_arrival[0, js].to_value(KM_S), kind="stable")]
    table = QTable()
    table["arrival"] = pc.arrival[js] if js.size else Time([], format="jd", scale="tdb")
    table["tof"] = pc.tof[0, js]
    table["c3"] = pc.c3[0, js]
    table["dla"] = pc.dla[0, js]
    table["rla"] = pc.rla[0, js]
    table["v_inf_arrival"] = pc.v_inf_arrival[0, js]
    table["total_dv"] = pc.total_dv[0, js]
    table["revs"] = pc.revs[0, js]
    table.meta.update(launch=launch_tdb, c3_max=c3_lim * KM2_S2, dla_max=dla_max,
                      arrive_by=arrive_by, v_inf_arrival_max=v_inf_arrival_max, tof_min=tof_min,
                      origin=pc.origin, target=pc.target)
    return table
