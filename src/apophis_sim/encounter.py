"""Encounter analysis: body-centred hyperbola, B-plane, and the flyby's orbit change.

Conventions
-----------
All vectors are ICRF. For a close approach with body-centred position r and
velocity v (at closest approach or any time near it), the osculating two-body
hyperbola about the body has

* v_inf = sqrt(v^2 - 2 mu / r), a = -mu / v_inf^2 < 0, eccentricity vector
  e = ((v^2 - mu/r) r - (r.v) v) / mu, perigee q = ``|a| (e - 1)``;
* incoming asymptote direction S = (e_hat + sqrt(e^2 - 1) (h_hat x e_hat)) / e
  (the direction of the velocity at t -> -infinity);
* B vector: from the body's centre to the incoming asymptote, perpendicular to
  it, B = b (S x h_hat) with impact parameter ``b = |h| / v_inf = |a| sqrt(e^2 - 1)``.

B-plane coordinates are given in two conventions:

* Öpik / Valsecchi (Valsecchi et al. 2003, A&A 408, 1179): eta along S (the
  planetocentric velocity), zeta opposite to the projection of the body's
  heliocentric velocity on the b-plane, xi = eta x zeta. xi measures the
  minimum-orbit-intersection distance, zeta the timing (early/late) of the
  encounter.
* Kizner (B.T, B.R): ``T = S x N / |S x N|`` with N the ecliptic north pole
  (ICRF components, obliquity 84381.448"), R = S x T.

The capture radius with gravitational focusing is
b_c = R sqrt(1 + 2 mu / (R v_inf^2)): every asymptote with b < b_c hits the body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import astropy.units as u
import numpy as np
from astropy.time import Time

from . import bodies as _bodies
from ._deprecation import deprecated_attribute, renamed_kwargs
from ._core import bplane as _bp
from ._core import frames as _frames
from .elements import Elements, orbit_class, parallel
from .errors import InputError, OrbitTypeError, TooManyRowsError
from .units import to_canonical

if TYPE_CHECKING:
    from .solution import OrbitSolution
    from .state import State

__all__ = ["Hyperbola", "BPlane", "hyperbola", "bplane", "capture_radius", "OrbitChange",
           "orbit_change", "FlybyAnalysis", "analyse_flyby"]

_KM_S = u.km / u.s


def _fmt(q: u.Quantity, unit, fmt: str = ",.1f") -> str:
    """One Quantity for a repr: its value in ``unit`` (a batch shows its shape)."""
    v = np.asarray(u.Quantity(q).to_value(unit))
    name = "au" if unit == u.au else u.Unit(unit).to_string()
    if v.ndim:
        return f"<{v.shape} {name}>"
    return f"{float(v):{fmt}} {name}"


def _html_table(title: str, rows: list[tuple[str, str]]) -> str:
    import html

    body = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
                   f"<td style='text-align:left'>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table><caption style='text-align:left'><b>{html.escape(title)}</b></caption>{body}</table>"
_ECLIPTIC_POLE_ICRF = _frames.ICRF_FROM_ECL @ np.array([0.0, 0.0, 1.0])


@dataclass(frozen=True)
class Hyperbola:
    """Osculating body-centred hyperbola (arrays broadcast over the batch).

    Attributes
    ----------
    e : ndarray
        Eccentricity (> 1).
    q : Quantity [km]
        Periapsis distance.
    a : Quantity [km]
        Semi-major axis (negative).
    v_inf : Quantity [km/s]
        Hyperbolic excess speed.
    b : Quantity [km]
        Impact parameter ``|h| / v_inf``.
    asymptote_in : ndarray (..., 3)
        Unit vector S of the incoming asymptote, ICRF.
    h_hat : ndarray (..., 3)
        Unit orbit normal, ICRF.
    e_hat : ndarray (..., 3)
        Unit vector to periapsis, ICRF.
    """

    e: np.ndarray
    q: u.Quantity
    a: u.Quantity
    v_inf: u.Quantity
    b: u.Quantity
    asymptote_in: np.ndarray
    h_hat: np.ndarray
    e_hat: np.ndarray

    def __repr__(self) -> str:
        e = np.asarray(self.e)
        es = f"{float(e):.4f}" if e.ndim == 0 else f"<{e.shape}>"
        return (f"Hyperbola(e={es}, q={_fmt(self.q, u.km)}, v_inf={_fmt(self.v_inf, _KM_S, '.4f')}, "
                f"b={_fmt(self.b, u.km)})")


@dataclass(frozen=True)
class BPlane:
    """B-plane coordinates of an encounter and the body's capture radius.

    Attributes
    ----------
    xi, zeta : Quantity [km]
        Opik/Valsecchi B-plane coordinates (zeta along the projected heliocentric
        velocity of the body, reversed; xi completes the right-handed frame).
    b_dot_t, b_dot_r : Quantity [km]
        Kizner B.T and B.R (T in the ecliptic, R southward).
    b : Quantity [km]
        Impact parameter ``|B|``.
    capture_radius : Quantity [km]
        Gravitationally focused radius of the body (:func:`capture_radius`).
    hyperbola : Hyperbola
        The osculating hyperbola it derives from.
    """

    xi: u.Quantity
    zeta: u.Quantity
    b_dot_t: u.Quantity
    b_dot_r: u.Quantity
    b: u.Quantity
    capture_radius: u.Quantity
    hyperbola: Hyperbola

    def __repr__(self) -> str:
        return (f"BPlane(xi={_fmt(self.xi, u.km)}, zeta={_fmt(self.zeta, u.km)}, "
                f"b={_fmt(self.b, u.km)}, B.T={_fmt(self.b_dot_t, u.km)}, "
                f"B.R={_fmt(self.b_dot_r, u.km)}, capture_radius={_fmt(self.capture_radius, u.km)})")


def _vec(x: u.Quantity, unit: u.UnitBase, name: str) -> np.ndarray:
    arr = to_canonical(x, unit, name)
    if arr.shape[-1:] != (3,):
        raise InputError(f"{name} must have xyz on its last axis (shape (..., 3)), got {arr.shape}")
    return arr


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def check_flyby_state(r: np.ndarray, v: np.ndarray, r_name: str, v_name: str) -> None:
    """Typed errors for a body-centred state with no osculating hyperbola axes:
    r = 0, or r parallel to v (h = 0, a head-on course)."""
    if np.any(np.all(r == 0, axis=-1)):
        raise InputError(f"{r_name} = 0 (the object at the body's centre): no flyby geometry; "
                         f"pass the position relative to the body's centre")
    if np.any(parallel(r, v, 1e-12)):
        raise OrbitTypeError(
            f"{r_name} is parallel to {v_name} (angular momentum h = 0): a radial, head-on "
            "course (b = 0) has no orbital plane to orient the B vector; pass a state with "
            "some transverse velocity")


def check_body_velocity(s_hat: np.ndarray, vp: np.ndarray, name: str) -> None:
    """zeta is minus the projection of the body's velocity on the B-plane: typed error
    when that projection vanishes (zero velocity, or velocity along the asymptote)."""
    if np.any(np.all(vp == 0, axis=-1)) or np.any(parallel(s_hat, vp, 1e-9)):
        raise InputError(
            f"{name} is zero or parallel to the incoming asymptote: its projection on the "
            "B-plane, which defines the zeta axis, vanishes; pass the body's heliocentric "
            "velocity at the encounter (for the Earth about 30 km/s)")


def hyperbola(r_rel: u.Quantity, v_rel: u.Quantity, body: str = "earth") -> Hyperbola:
    """Osculating hyperbola about ``body`` from a body-centred state.

    Parameters
    ----------
    r_rel : Quantity [length], shape (..., 3)
        Position relative to the body's centre (ICRF).
    v_rel : Quantity [velocity], shape (..., 3)
        Velocity relative to the body.
    body : str
        DE440 body name (its GM is used).

    Raises
    ------
    OrbitTypeError
        The relative orbit is bound (not a flyby): no asymptote, no B-plane; or it
        is radial (r_rel parallel to v_rel, h = 0: a head-on course, b = 0, with no
        orbital plane to orient the B vector).
    InputError
        r_rel = 0 (the object at the body's centre).
    """
    r = _vec(r_rel, u.km, "r_rel")
    v = _vec(v_rel, _KM_S, "v_rel")
    mu = _bodies.body(body).gm_au3_d2 * _bodies.AU_KM**3 / 86400.0**2
    check_flyby_state(r, v, "r_rel", "v_rel")
    if np.any(np.sum(v * v, axis=-1) * np.linalg.norm(r, axis=-1) <= 2.0 * mu):
        raise OrbitTypeError(f"r_rel, v_rel: the motion relative to {body} is bound (v^2 < 2 mu / r); a B-plane "
                             "exists only for hyperbolic flybys")
    with np.errstate(all="ignore"):
        h = _bp.hyperbola_arrays(r, v, mu)
    if not all(np.all(np.isfinite(h[k])) for k in ("e", "q", "a", "v_inf", "b", "s_hat",
                                                      "h_hat", "e_hat")):
        raise InputError("r_rel, v_rel: the hyperbola cannot be represented in float64 "
                         "(r_rel or v_rel so small or large that h = r x v underflows or "
                         "overflows); pass km and km/s vectors of a physical flyby")
    return Hyperbola(e=h["e"], q=h["q"] * u.km, a=h["a"] * u.km, v_inf=h["v_inf"] * _KM_S,
                     b=h["b"] * u.km, asymptote_in=h["s_hat"], h_hat=h["h_hat"],
                     e_hat=h["e_hat"])


def capture_radius(body: str, v_inf: u.Quantity, radius: u.Quantity | None = None) -> u.Quantity:
    """Gravitationally focused capture radius R sqrt(1 + 2 mu / (R v_inf^2)) [km].

    Parameters
    ----------
    body : str
        Body name (its GM and, by default, radius).
    v_inf : Quantity [speed]
        Hyperbolic excess speed.
    radius : Quantity [length], optional
        Defaults to the body's equatorial radius (Earth: 6378.137 km, WGS84, the
        radius JPL uses for impacts and altitudes).

    Returns
    -------
    Quantity [km]
    """
    b = _bodies.body(body)
    if radius is None:
        r_km = _bodies.EARTH_RADIUS_WGS84_KM if b.name == "earth" else b.radius_km
        if r_km is None:
            raise InputError(f"no radius is known for {body}; pass radius=...")
    else:
        r_arr = to_canonical(radius, u.km, "radius")
        if np.ndim(r_arr) != 0:
            raise InputError(f"radius must be a scalar length (e.g. 6378 * u.km), got shape "
                             f"{np.shape(r_arr)}")
        r_km = float(r_arr)
    mu = b.gm_au3_d2 * _bodies.AU_KM**3 / 86400.0**2
    vinf = to_canonical(v_inf, _KM_S, "v_inf")
    if np.any(vinf <= 0):
        raise InputError(f"v_inf must be positive (a flyby has v_inf > 0), got {v_inf}")
    if r_km <= 0:
        raise InputError(f"radius must be positive, got {radius}")
    return r_km * np.sqrt(1.0 + 2.0 * mu / (r_km * vinf * vinf)) * u.km


def bplane(r_rel: u.Quantity, v_rel: u.Quantity, body_velocity: u.Quantity,
           body: str = "earth") -> BPlane:
    """B-plane coordinates of a flyby (conventions in the module docstring).

    Parameters
    ----------
    r_rel, v_rel : Quantity, shape (..., 3)
        Body-centred ICRF state near the encounter.
    body_velocity : Quantity [velocity], shape (..., 3)
        Heliocentric velocity of the body at the encounter (defines zeta).
    body : str
        The encountered body.

    Raises
    ------
    OrbitTypeError
        As in :func:`hyperbola`.
    InputError
        ``body_velocity`` is zero or parallel to the incoming asymptote: zeta (the
        projection of the body's velocity on the B-plane) is then undefined.
    """
    hyp = hyperbola(r_rel, v_rel, body)
    vp = _vec(body_velocity, _KM_S, "body_velocity")
    s = hyp.asymptote_in
    check_body_velocity(s, vp, "body_velocity")
    if np.any(np.linalg.norm(np.cross(s, _ECLIPTIC_POLE_ICRF), axis=-1) <= 1e-12):
        raise OrbitTypeError("the incoming asymptote is parallel to the ecliptic pole: the "
                             "Kizner T axis (S x pole) is undefined; use xi and zeta")
    with np.errstate(all="ignore"):
        bvec = hyp.b.to_value(u.km)[..., None] * _unit(np.cross(s, hyp.h_hat))
        xi_hat, zeta_hat, t_hat, r_hat = _bp.bplane_axes(s, vp, _ECLIPTIC_POLE_ICRF)
    if not all(np.all(np.isfinite(x)) for x in (bvec, xi_hat, zeta_hat, t_hat, r_hat)):
        raise InputError("r_rel, v_rel, body_velocity: the B-plane axes cannot be represented "
                         "in float64 (vectors too small or too large); pass km and km/s "
                         "vectors of a physical flyby")
    return BPlane(
        xi=np.sum(bvec * xi_hat, axis=-1) * u.km,
        zeta=np.sum(bvec * zeta_hat, axis=-1) * u.km,
        b_dot_t=np.sum(bvec * t_hat, axis=-1) * u.km,
        b_dot_r=np.sum(bvec * r_hat, axis=-1) * u.km,
        b=hyp.b,
        capture_radius=capture_radius(body, hyp.v_inf),
        hyperbola=hyp,
    )


@dataclass(frozen=True)
class OrbitChange:
    """Heliocentric osculating orbit before and after an encounter.

    Attributes
    ----------
    before, after : Elements
        Heliocentric ecliptic osculating elements ``offset`` before and after.
    a_before, a_after : Quantity [au]
        Semi-major axes.
    class_before, class_after : str
        Orbit classes (:func:`~apophis_sim.orbit_class`).
    period_before, period_after : Quantity [day]
        Orbital periods.
    """

    before: Elements
    after: Elements
    a_before: u.Quantity
    a_after: u.Quantity
    class_before: str
    class_after: str
    period_before: u.Quantity
    period_after: u.Quantity

    def __repr__(self) -> str:
        return (f"OrbitChange(a {_fmt(self.a_before, u.au, '.4f')} -> "
                f"{_fmt(self.a_after, u.au, '.4f')}, {self.class_before} -> {self.class_after}, "
                f"period {_fmt(self.period_before, u.day)} -> {_fmt(self.period_after, u.day)})")


@renamed_kwargs(solution="state")
def orbit_change(state: State | OrbitSolution, encounter_time: Time,
                 offset: u.Quantity = 30 * u.day,
                 ephemeris=None) -> OrbitChange:
    """Heliocentric ecliptic osculating elements ``offset`` before and after an encounter.

    Parameters
    ----------
    state : State or OrbitSolution
        The object (propagated with the full n-body model).
    encounter_time : astropy.time.Time
        Time of the encounter (e.g. from :func:`apophis_sim.close_approaches`).
    offset : Quantity [time]
        How far from the encounter to osculate (30 days: far outside Earth's
        sphere of influence, ~0.01 au, for a 6-7 km/s flyby).
    ephemeris : Ephemeris, optional
        Default :meth:`Ephemeris.open`.

    Returns
    -------
    OrbitChange
    """
    from .nbody import propagate_nbody_grid

    dt = _offset_days(offset)
    from .time import from_jd_tdb, to_jd_tdb

    e1, e2 = to_jd_tdb(encounter_time, "encounter_time")
    if np.ndim(e1) != 0:
        raise InputError(f"encounter_time must be one time, got shape {np.shape(e1)}")
    times = from_jd_tdb(np.full(2, float(e1)), float(e2) + np.array([-dt, dt]))
    from .time import blame_range

    with blame_range("encounter_time"):
        grid = propagate_nbody_grid(state, times, ephemeris=ephemeris)
    return _change_from(grid, ephemeris)


#: Most samples :func:`analyse_flyby` keeps around the approach (2 window / step + 1);
#: each costs a few kB (state, frames, visibility), so 200 000 is about a GB at most.
MAX_TRACK_POINTS = 200_000


def _scalar_days(value, name: str) -> float:
    arr = to_canonical(value, u.day, name)
    if np.ndim(arr) != 0:
        raise InputError(f"{name} must be a scalar time interval (e.g. 5 * u.min), got "
                         f"shape {np.shape(arr)}")
    return float(arr)


def _track_size(window, step) -> tuple[float, int]:
    """(half-width [day], samples) of analyse_flyby's track, refused before allocating
    when ``window``/``step`` are not positive or the track would be too long."""
    half = _scalar_days(window, "window")
    dstep = _scalar_days(step, "step")
    if half <= 0:
        raise InputError(f"window must be a positive half-width (e.g. 1 * u.day), got {window}")
    if dstep <= 0:
        raise InputError(f"step must be a positive interval (e.g. 5 * u.min), got {step}")
    samples = 2.0 * half / dstep + 1.0
    if not samples <= MAX_TRACK_POINTS:
        raise TooManyRowsError(
            f"step {step} over window +-{window} is {samples:,.0f} samples (about "
            f"{samples * 4e3 / 2**30:,.1f} GiB), more than the limit of {MAX_TRACK_POINTS:,}; "
            f"pass a larger step (>= {2.0 * half * 1440.0 / (MAX_TRACK_POINTS - 1):.3g} min "
            f"for this window) or a shorter window")
    return half, int(round(2.0 * half / dstep)) + 1


def _offset_days(offset: u.Quantity) -> float:
    dt = _scalar_days(offset, "offset")
    if dt <= 0:
        raise InputError(f"offset must be positive (e.g. 30 * u.day), got {offset}")
    return dt


def _change_from(states, ephemeris) -> OrbitChange:
    """OrbitChange from the object's states before and after (batch of 2, any centre)."""
    helio = states.to_centre("sun", ephemeris=ephemeris).to_frame("ecliptic")
    before, after = helio[0].to_elements(), helio[1].to_elements()
    a_before, a_after = before.a, after.a
    return OrbitChange(before=before, after=after, a_before=a_before, a_after=a_after,
                       class_before=str(orbit_class(a_before, before.e)),
                       class_after=str(orbit_class(a_after, after.e)),
                       period_before=before.period, period_after=after.period)


@dataclass(frozen=True)
class FlybyAnalysis:
    """Everything about one planetary flyby (see :func:`analyse_flyby`).

    Attributes
    ----------
    approaches : astropy.table.QTable
        The :func:`~apophis_sim.close_approaches` table the flyby was picked from.
    time : Time
        Time of closest approach (TDB).
    distance : Quantity [km]
        Closest-approach distance, centre to centre.
    v_rel, v_inf : Quantity [km/s]
        Relative speed at closest approach and hyperbolic excess speed.
    bplane : BPlane
        B-plane coordinates and capture radius.
    change : OrbitChange
        Heliocentric orbit before and after.
    track_times : Time, shape (N,)
        Samples around the approach.
    track_r : Quantity [km], shape (N, 3)
        Body-centred ICRF positions of the object at ``track_times``.
    track_v : Quantity [km/s], shape (N, 3)
        Body-centred ICRF velocities of the object at ``track_times``.
    moon_r : Quantity [km], shape (N, 3)
        Earth-centred ICRF positions of the Moon at ``track_times``.
    visibility : Visibility
        Geocentric brightness and sky geometry at ``track_times``.
    peak_magnitude : float
        Brightest V magnitude on the track.
    peak_time : Time
        When it is reached.
    """

    approaches: object
    time: Time
    distance: u.Quantity
    v_rel: u.Quantity
    v_inf: u.Quantity
    bplane: BPlane
    change: OrbitChange
    track_times: Time
    track_r: u.Quantity
    track_v: u.Quantity
    moon_r: u.Quantity
    visibility: object
    peak_magnitude: float
    peak_time: Time

    track_r_km = deprecated_attribute("track_r", lambda q: q.to_value(u.km))
    track_v_km_s = deprecated_attribute("track_v", lambda q: q.to_value(u.km / u.s))
    moon_r_km = deprecated_attribute("moon_r", lambda q: q.to_value(u.km))

    def _summary(self) -> list[tuple[str, str]]:
        from .time import utc_iso

        bp = self.bplane
        ch = self.change
        return [
            ("closest approach", f"{utc_iso(self.time, 3)} UTC"),
            ("distance (centre)", _fmt(self.distance, u.km, ",.3f")),
            ("v_rel, v_inf", f"{_fmt(self.v_rel, _KM_S, '.4f')}, {_fmt(self.v_inf, _KM_S, '.4f')}"),
            ("B-plane (Öpik)", f"xi {_fmt(bp.xi, u.km)}, zeta {_fmt(bp.zeta, u.km)}, "
                               f"capture radius {_fmt(bp.capture_radius, u.km, ',.0f')}"),
            ("orbit change", f"a {_fmt(ch.a_before, u.au, '.4f')} -> {_fmt(ch.a_after, u.au, '.4f')}"
                             f", {ch.class_before} -> {ch.class_after}"),
            ("peak brightness", f"V = {self.peak_magnitude:.2f} at {utc_iso(self.peak_time)} UTC "
                                "(geocentric)"),
            ("approaches", f"{len(self.approaches)} rows (.approaches)"),
            ("track", f"{len(self.track_times)} samples (.track_times, .track_r, ...)"),
        ]

    def __repr__(self) -> str:
        from .time import utc_iso

        return (f"FlybyAnalysis({utc_iso(self.time, 3)} UTC, "
                f"distance={_fmt(self.distance, u.km, ',.3f')}, "
                f"v_inf={_fmt(self.v_inf, _KM_S, '.4f')}, xi={_fmt(self.bplane.xi, u.km)}, "
                f"zeta={_fmt(self.bplane.zeta, u.km)}, {self.change.class_before} -> "
                f"{self.change.class_after}, peak V={self.peak_magnitude:.2f})")

    def _repr_html_(self) -> str:
        return _html_table("FlybyAnalysis", self._summary())


@renamed_kwargs(max_distance="distance_max")
def analyse_flyby(solution, until: Time, body: str = "earth", *, also: tuple[str, ...] = (),
                  ephemeris=None, forces=None,
                  window: u.Quantity = 1.0 * u.day, step: u.Quantity = 5 * u.min,
                  distance_max: u.Quantity = 0.01 * u.au) -> FlybyAnalysis:
    """Close approach, B-plane, orbit change and brightness of the deepest flyby of ``body``.

    Parameters
    ----------
    solution : OrbitSolution
        The object (e.g. :func:`apophis_sim.apophis`).
    until : astropy.time.Time
        End of the search for close approaches.
    body : str
        The encountered body.
    also : tuple of str
        Other bodies whose approaches go into ``approaches`` (e.g. ``("moon",)``).
    ephemeris : Ephemeris, optional
        Default :meth:`Ephemeris.open`.
    forces : iterable of str, optional
        Force terms of every integration (names of :data:`apophis_sim.FORCE_NAMES`;
        default: JPL's full model, see :func:`apophis_sim.close_approaches`).
    window, step : Quantity [time]
        Half-width and sampling step of the trajectory kept around the approach
        (for plots, the brightness curve and the ground track). Both positive;
        at most ``encounter.MAX_TRACK_POINTS`` (200 000) samples (2 window / step + 1).
    distance_max : Quantity [length]
        Approaches farther than this are not reported.

    Raises
    ------
    InputError
        ``window`` or ``step`` is not a positive scalar interval (checked before
        anything is integrated); no approach closer than ``distance_max``.
    TooManyRowsError
        The track would hold more than ``encounter.MAX_TRACK_POINTS`` (200 000)
        samples (the message gives the size and the smallest step allowed).

    Warns
    -----
    UTCAssumptionWarning
        Only for a UTC ``until`` past the last announced leap second (never for TDB).
    EarthOrientationWarning
        Once: Earth orientation in 2029 is extrapolated (the ground track).
    """
    from .ephemeris import Ephemeris
    from .nbody import close_approaches, propagate_nbody_grid
    from .visibility import visibility

    half, n = _track_size(window, step)  # checked before anything is integrated
    _ = float(to_canonical(distance_max, u.au, "distance_max"))
    eph = ephemeris if ephemeris is not None else Ephemeris.open()
    table = close_approaches(solution, until, bodies=(body,) + tuple(also),
                             distance_max=distance_max, ephemeris=eph, forces=forces)
    mine = table[table["body"] == body]
    if len(mine) == 0:
        raise InputError(f"no approach to {body} closer than {distance_max} before {until.isot}")
    row = mine[int(np.argmin(mine["distance"]))]
    t_ca = row["time"]
    _, v_body = eph.posvel(body, t_ca.tdb.jd1, t_ca.tdb.jd2, centre="sun")
    bp = bplane(row["r_rel"], row["v_rel_vec"], v_body * _bodies.AU_KM / 86400.0 * _KM_S, body)
    dt = _offset_days(30 * u.day)
    # One integration serves the track, the brightness and the orbit change.
    offsets = np.concatenate([np.linspace(-half, half, n), [-dt, dt]])
    grid = propagate_nbody_grid(solution, t_ca + offsets * u.day, ephemeris=eph, forces=forces)
    change = _change_from(grid[n:], eph)
    track = grid[:n]
    times = track.epoch
    st = track.to_centre(body, ephemeris=eph).to_frame("icrf")
    moon, _ = eph.posvel("moon", times.tdb.jd1, times.tdb.jd2, centre="earth")
    vis = visibility(solution, times, ephemeris=eph, states=track)
    k = int(np.argmin(vis.magnitude))
    return FlybyAnalysis(
        approaches=table, time=t_ca, distance=row["distance"], v_rel=row["v_rel"],
        v_inf=row["v_inf"], bplane=bp, change=change, track_times=times,
        track_r=st.r_au * _bodies.AU_KM * u.km,
        track_v=st.v_au_d * (_bodies.AU_KM / 86400.0) * _KM_S,
        moon_r=moon * _bodies.AU_KM * u.km, visibility=vis, peak_magnitude=float(vis.magnitude[k]),
        peak_time=vis.time[k])


FlybyAnalysis.__init__ = renamed_kwargs(  # type: ignore[method-assign]
    track_r_km=("track_r", lambda x: x * u.km), track_v_km_s=("track_v", lambda x: x * _KM_S),
    moon_r_km=("moon_r", lambda x: x * u.km))(FlybyAnalysis.__init__)
