"""Observer ephemerides: JPL-Horizons-like tables of a small body seen from a site.

``observer(solution, times, site)`` reduces the n-body positions of an object to what an
observer at an MPC site, an ``EarthLocation``, the geocentre or a spacecraft sees:
astrometric and apparent RA/Dec, alt/az, rates, range and range rate (radar delay and
Doppler), heliocentric distance, elongations, phase, magnitude, galactic latitude and
the 3-sigma plane-of-sky uncertainty ellipse from the STM-mapped covariance.

Method
------
* Object: ONE integration with dense output at the reception times ``t``
  (:func:`apophis_sim.propagate_nbody_grid`, or the variational integration of
  :func:`apophis_sim.uncertainty.covariance_at` when a covariance is mapped: it returns
  the state and the STM at once), not one per epoch. The light time ``tau`` solves
  ``c tau = |r(t - tau) - R_obs(t)|`` by fixed-point iteration, vectorised over all
  epochs, with ``r(t - tau) = r - v tau + a tau^2 / 2`` and ``a`` the point-mass
  attraction of the Sun, Venus, Earth, Moon, Mars and Jupiter (DE440): the neglected
  terms are below 1 m (tests compare with an integration at ``t - tau``). The
  covariance is carried to ``t - tau`` by the short-step STM. The gravitational
  (Shapiro) delay is not in the light time (< 1e-4 s, < 2 m along the track).
* Observer: DE440 Earth (geocentre "500"); an Earth site's ITRS position is taken to
  GCRS with ERFA's ``apco`` (IAU 2006/2000A CIP X, Y, s, Earth rotation angle from UT1
  and polar motion from astropy's IERS tables, extrapolated offline past their end
  exactly as :mod:`apophis_sim.visibility` does: no download, one
  ``EarthOrientationWarning``); a spacecraft is propagated with the n-body model (or
  its states are used as given).
* Astrometric RA/Dec: the direction of ``r(t - tau) - R_obs(t)`` in the ICRF (BCRS
  axes), as Horizons' "astrometric" quantities.
* Apparent RA/Dec (Horizons' airless apparent, true equator and equinox of date): ERFA
  ``ld`` (gravitational deflection by the Sun for a source at finite distance: the
  object-Sun direction, not ``ldsun``'s source at infinity), ``ab`` (aberration by the
  observer's barycentric velocity, diurnal part included for Earth sites), the CIO-based
  bias-precession-nutation matrix and the equation of the origins (``ra = ri - eo``).
* Alt/az: ERFA ``atioq`` (CIRS -> observed), refraction off by default
  (``refraction=True``: ERFA ``refco`` with the given weather).
* Precession-nutation (X, Y, s, eo) and TDB - TT are evaluated on a half-day grid and
  interpolated with cubic splines when that is cheaper than per epoch (IAU 2000A terms
  with periods under 7 d are < 1 mas: the interpolation error is a few microarcsec).
* Uncertainty: the position covariance at the light-time-corrected epoch
  (:func:`apophis_sim.uncertainty.covariance_at`, linear mapping through the STM) is
  projected on the plane of sky (east, north unit vectors at the astrometric
  position) and divided by the range: SMAA/SMIA are 3 sqrt(eigenvalues), ``theta`` the
  position angle of the major axis east of north in (-90, 90] deg, as Horizons. The
  light-time partial (v/c ~ 1e-4 of the ellipse) is neglected.
* Magnitude: IAU H-G (:func:`apophis_sim.visibility.hg_magnitude`). A comet without H
  but with JPL's total-magnitude parameters M1, K1 gets Horizons' ``T_mag = M1 +
  5 log10(delta) + K1 log10(r)`` instead; an object with neither gets no magnitude
  column (never a column of NaN) and a note in ``meta["notes"]``.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
from astropy.table import QTable
from astropy.time import Time

from ..errors import (EphemerisRangeError, InputError, InputTypeError, NonFiniteInputError,
                      OutputPathError, PhysicalTypeError, ShapeMismatchError, TooManyRowsError)
from ..time import quiet_utc, to_jd_tdb
from ..units import AU_KM
from .sites import Site, site as resolve_site

__all__ = ["observer", "ObserverTable", "MAX_ROWS", "DEFAULT_RADAR_FREQUENCY",
           "table_records", "write_csv", "to_json"]

#: Largest table built without ``max_rows=`` (memory ~3 kB per row while reducing).
MAX_ROWS = 500_000
#: Goldstone Solar System Radar transmitter frequency (8560 MHz, X band).
DEFAULT_RADAR_FREQUENCY = 8560.0 * u.MHz

_C_KM_S = 299_792.458
_DAY_S = 86_400.0
_C_AU_D = _C_KM_S * _DAY_S / AU_KM
_RAD_ARCSEC = 180.0 / math.pi * 3600.0
_OBLIQUITY_J2000 = math.radians(84381.406 / 3600.0)  # IAU 2006
#: Precession-nutation (and TDB - TT) interpolation step [day].
_PN_STEP_D = 0.5
#: Bodies whose attraction enters the light-time step back (see :func:`retard`).
_LT_BODIES = ("sun", "venus", "earth", "moon", "mars", "jupiter")


# ----------------------------------------------------------------------------- float core
# Plain float64 arrays (au, au/day, two-part TDB JD, radians) and ERFA only.


def _pv(p: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Position and velocity arrays (..., 3) -> ERFA's structured pv-vector array."""
    import erfa

    out = np.empty(p.shape[:-1], dtype=erfa.dt_pv)
    out["p"] = p
    out["v"] = v
    return out


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle between vectors, robust near 0 and pi (atan2 of |a x b| and a.b)."""
    return np.arctan2(np.linalg.norm(np.cross(a, b), axis=-1), np.sum(a * b, axis=-1))


def point_mass_acceleration(r: np.ndarray, body_pos: Sequence[np.ndarray],
                            gm_au3_d2: Sequence[float]) -> np.ndarray:
    """Newtonian acceleration [au/d^2] at ``r`` (T, 3) from point masses at ``body_pos``."""
    acc = np.zeros_like(r)
    for pos, gm in zip(body_pos, gm_au3_d2):
        d = r - pos
        acc -= gm * d / np.linalg.norm(d, axis=-1, keepdims=True) ** 3
    return acc


def retard(r0: np.ndarray, v0: np.ndarray, acc: np.ndarray, tau: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """State at ``t - tau`` from the state and acceleration at ``t`` (Taylor, 2nd order
    in position). With the Sun, Venus, Earth, Moon, Mars and Jupiter in ``acc`` the
    neglected terms are below 1 m for tau < 0.03 d (5 au): the jerk term is j tau^3 / 6
    ~ 1e-13 au, and the omitted bodies' accelerations < 1e-10 au/d^2."""
    tt = tau[:, None]
    return r0 - v0 * tt + 0.5 * acc * tt * tt, v0 - acc * tt


def light_time(r0: np.ndarray, v0: np.ndarray, obs: np.ndarray, acc: np.ndarray | None = None,
               iterations: int = 4) -> np.ndarray:
    """Light time [day] solving ``c tau = |r(t - tau) - obs|`` by fixed-point iteration.

    ``r0, v0, acc`` are the object's barycentric position, velocity and acceleration at
    the reception times (au, au/d, au/d^2) and ``obs`` the observer's position; ``r(t -
    tau)`` comes from :func:`retard`. Converges by a factor v/c ~ 1e-4 per iteration,
    vectorised over all epochs.
    """
    acc = np.zeros_like(r0) if acc is None else acc
    tau = np.linalg.norm(r0 - obs, axis=-1) / _C_AU_D
    for _ in range(iterations):
        tau = np.linalg.norm(retard(r0, v0, acc, tau)[0] - obs, axis=-1) / _C_AU_D
    return tau


def retard_covariance(cov6: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """State covariance (T, 6, 6) at ``t`` -> at ``t - tau`` through the short-step STM
    ``[[I, -tau I], [0, I]]`` (the gravity-gradient terms are O(tau^2 GM / r^3) ~ 1e-9
    relative for tau of minutes)."""
    phi = np.broadcast_to(np.eye(6), cov6.shape).copy()
    idx = np.arange(3)
    phi[:, idx, idx + 3] = -tau[:, None]
    return phi @ cov6 @ np.swapaxes(phi, -1, -2)


def _pn_quantities(tt1: np.ndarray, tt2: np.ndarray) -> tuple[np.ndarray, ...]:
    """CIP X, Y, CIO locator s and equation of the origins (IAU 2006/2000A) [rad]."""
    import erfa

    def direct(a, b):
        rnpb = erfa.pnm06a(a, b)
        x, y = erfa.bpn2xy(rnpb)
        s = erfa.s06(a, b, x, y)
        return x, y, s, erfa.eors(rnpb, s)

    return _spline_or_direct(direct, tt1, tt2)


def _ld_ab(p_unit: np.ndarray, q_unit: np.ndarray, astrom: np.ndarray) -> np.ndarray:
    """Light deflection by the Sun for a source at finite distance, then aberration."""
    import erfa

    em = astrom["em"]
    dlim = 1e-6 / np.maximum(em * em, 1.0)  # ERFA's ldsun limiter
    pn = erfa.ld(1.0, p_unit, q_unit, astrom["eh"], em, dlim)
    return erfa.ab(pn, astrom["v"], em, astrom["bm1"])


def _plane_of_sky(cov_r: np.ndarray, east: np.ndarray, north: np.ndarray, dist: np.ndarray
                  ) -> tuple[np.ndarray, ...]:
    """Position covariance (au^2) -> 1-sigma semi-axes [rad], PA of the major axis east
    of north [rad] in (-pi/2, pi/2], and the 1-sigma along east and north [rad]."""
    ce = np.einsum("ti,tij->tj", east, cov_r)
    cee = np.einsum("tj,tj->t", ce, east) / dist**2
    cen = np.einsum("tj,tj->t", ce, north) / dist**2
    cnn = np.einsum("ti,tij,tj->t", north, cov_r, north) / dist**2
    mean = 0.5 * (cee + cnn)
    rad = np.hypot(0.5 * (cnn - cee), cen)
    lmax = mean + rad
    lmin = np.maximum(mean - rad, 0.0)
    theta = 0.5 * np.arctan2(2.0 * cen, cnn - cee)
    theta = np.where(theta <= -0.5 * np.pi, theta + np.pi, theta)
    return np.sqrt(lmax), np.sqrt(lmin), theta, np.sqrt(cee), np.sqrt(cnn)


@functools.lru_cache(maxsize=1)
def _icrs_to_galactic() -> np.ndarray:
    """Rotation ICRS -> Galactic (astropy's, Hipparcos definition)."""
    from astropy.coordinates import ICRS, CartesianRepresentation, Galactic

    basis = ICRS(CartesianRepresentation(np.eye(3) * u.one))
    return np.asarray(basis.transform_to(Galactic()).cartesian.xyz.value)


# ----------------------------------------------------------------------------- units layer


def _ssb(state, eph):
    s = state.to_centre("ssb", ephemeris=eph).to_frame("icrf")
    return s.r_au.reshape(-1, 3), s.v_au_d.reshape(-1, 3)


def _spline_or_direct(f, jd1: np.ndarray, jd2: np.ndarray, step: float = _PN_STEP_D):
    """``f(jd1, jd2)`` -> tuple of arrays, evaluated directly or on a grid of ``step``
    days and interpolated with cubic splines when that is cheaper."""
    jd = jd1 + jd2
    lo, hi = float(jd.min()), float(jd.max())
    n_grid = int(math.ceil((hi - lo) / step)) + 5
    if n_grid >= jd.size or jd.size < 64:
        return f(jd1, jd2)
    from scipy.interpolate import CubicSpline

    base = math.floor(lo)
    grid = (lo - base) - 2 * step + step * np.arange(n_grid)
    vals = f(np.full(grid.shape, float(base)), grid)
    x_rel = (jd1 - base) + jd2
    return tuple(CubicSpline(grid, v)(x_rel) for v in vals)


def _earth_orientation(jd1: np.ndarray, jd2: np.ndarray, need_ut1: bool):
    """TT and UTC Times, UT1 parts and polar motion [rad] at TDB ``jd1 + jd2``.

    TDB - TT (ERFA ``dtdb``, geocentric, < 1.7 ms, periods >= days) is interpolated
    like the precession-nutation: astropy would evaluate the 787-term series at every
    epoch. Earth orientation is extrapolated offline as in visibility.py.
    """
    import erfa
    from astropy.coordinates.builtin_frames.utils import get_polar_motion

    from ..visibility import offline_earth_orientation

    (dtdb,) = _spline_or_direct(lambda a, b: (erfa.dtdb(a, b, 0.0, 0.0, 0.0, 0.0),), jd1, jd2)
    tt = Time(jd1, jd2 - dtdb / _DAY_S, format="jd", scale="tt")
    with offline_earth_orientation():
        utc = tt.utc
        if not need_ut1:
            return tt, utc, None, None, None, None
        ut1 = utc.ut1
        # astropy's own rule (as in visibility.py's transforms): tabulated polar motion,
        # or its default (0.035", 0.29") outside the tables.
        xp, yp = get_polar_motion(utc)
    return tt, utc, ut1.jd1, ut1.jd2, np.asarray(xp, dtype=float), np.asarray(yp, dtype=float)


def _weather(pressure, temperature, humidity, wavelength) -> tuple:
    """Refraction weather -> (hPa or None, deg C, 0..1, um), typed errors naming each."""
    from ..units import real_scalar

    def scalar(q, unit, name, equivalencies=None):
        if not isinstance(q, u.Quantity):
            raise PhysicalTypeError(f"{name} must be a Quantity in {unit} (e.g. 10 * "
                                    f"u.{unit.to_string()}), got {type(q).__name__} {q!r:.40}")
        if np.iscomplexobj(q.value):
            raise PhysicalTypeError(f"{name} must be real, got a complex Quantity")
        try:
            val = q.to_value(unit, equivalencies=equivalencies or [])
        except u.UnitConversionError:
            raise PhysicalTypeError(f"{name} must be convertible to {unit}, got "
                                    f"{q.unit}") from None
        return real_scalar(val, name)

    phpa = None if pressure is None else scalar(pressure, u.hPa, "pressure")
    tc = scalar(temperature, u.deg_C, "temperature", u.temperature())
    wl = scalar(wavelength, u.um, "wavelength")
    hum = real_scalar(humidity, "humidity")
    if phpa is not None and not 0 <= phpa < 1200:
        raise InputError(f"pressure must lie in 0..1200 hPa, got {pressure}")
    if not -150 < tc < 200:
        raise InputError(f"temperature must lie in -150..200 deg C, got {temperature}")
    if not 0 <= hum <= 1:
        raise InputError(f"humidity must lie in 0..1 (a fraction), got {humidity!r}")
    if not wl > 0:
        raise InputError(f"wavelength must be positive, got {wavelength}")
    return phpa, tc, hum, wl


def _check_times(times: Time, eph, max_rows: int) -> tuple[np.ndarray, np.ndarray]:
    jd1, jd2 = to_jd_tdb(times, "times")
    if np.ndim(jd1) > 1:
        raise ShapeMismatchError(f"times must be a scalar or 1-D Time, got shape "
                                 f"{np.shape(jd1)}; pass times.ravel()")
    jd1 = np.atleast_1d(np.asarray(jd1, dtype=float))
    jd2 = np.atleast_1d(np.asarray(jd2, dtype=float))
    if jd1.size == 0:
        raise InputError("times must hold at least one time")
    if jd1.size > max_rows:
        raise TooManyRowsError(
            f"times: {jd1.size:,} rows requested (~{jd1.size * 3e-6:,.1f} GB while reducing), "
            f"more than max_rows={max_rows:,}; use a larger step or a shorter span, split "
            f"the request into chunks, or pass max_rows={jd1.size}")
    jd = jd1 + jd2
    if not np.all(np.isfinite(jd)):
        raise NonFiniteInputError("times contain NaN or infinity")
    lo, hi = eph.covered
    # One day of margin for the light time (< 0.03 d out to 5 au) and the integrations.
    if jd.min() < lo + 1.0 or jd.max() > hi - 1.0:
        bad = jd.min() if jd.min() < lo + 1.0 else jd.max()
        raise EphemerisRangeError(
            f"times: TDB JD {bad:.3f} lies outside the interval the ephemeris "
            f"{', '.join(eph.files)} covers (JD {lo + 1.0:.1f} to {hi - 1.0:.1f} with a "
            "day of margin for the light time); pass times inside it")
    return jd1, jd2


def _magnitude(solution, H, G, r_au, delta_au, phase, notes):
    from ..visibility import hg_magnitude

    sol_H = getattr(solution, "H", None)
    sol_G = getattr(solution, "G", None)
    H = sol_H if H is None else H
    G = (sol_G if sol_G is not None else 0.15) if G is None else G
    if H is not None:
        return "V", hg_magnitude(float(H), float(G), r_au * u.au, delta_au * u.au,
                                 phase * u.rad)
    phys = (getattr(solution, "provenance", None) or {}).get("phys_par") or {}
    if phys.get("M1") is not None and phys.get("K1") is not None:
        m1, k1 = float(phys["M1"]), float(phys["K1"])
        notes.append(f"no H: T_mag is the comet total magnitude M1 + 5 log10(delta) + "
                     f"K1 log10(r) with JPL's M1 = {m1:g}, K1 = {k1:g} (as Horizons)")
        return "T_mag", m1 + 5.0 * np.log10(delta_au) + k1 * np.log10(r_au)
    notes.append("no magnitude column: the solution has neither H (H-G system) nor M1/K1; "
                 "pass H= (and G=) to get V")
    return None, None


def observer(solution, times: Time, site: Any = "500", *, uncertainty: bool | None = None,
             refraction: bool = False, pressure: u.Quantity | None = None,
             temperature: u.Quantity = 10.0 * u.deg_C, humidity: float = 0.5,
             wavelength: u.Quantity = 0.55 * u.um,
             radar_frequency: u.Quantity = DEFAULT_RADAR_FREQUENCY,
             H: float | None = None, G: float | None = None, ephemeris=None,
             forces: Sequence[str] | None = None, epsilon: float | None = None,
             max_rows: int = MAX_ROWS) -> ObserverTable:
    """Observer ephemeris of a small body: one row per time, Horizons-like columns.

    Parameters
    ----------
    solution : OrbitSolution or State
        The object (:func:`apophis_sim.apophis`, :meth:`OrbitSolution.from_sbdb`, or a
        single State propagated with the n-body model).
    times : astropy.time.Time
        Observation (reception) times, scalar or 1-D, any scale (UTC is converted once,
        with a warning past the last announced leap second).
    site : str, EarthLocation, State or OrbitSolution
        MPC observatory code (default ``"500"``, the geocentre), an ``EarthLocation``,
        or a spacecraft (see :func:`apophis_sim.tables.sites.site`).
    uncertainty : bool, optional
        Map the covariance through the STM and add the 3-sigma columns (default: when
        ``solution`` has a covariance).
    refraction : bool
        Apply atmospheric refraction to alt/az (Earth sites; default off, as Horizons'
        "airless").
    pressure : Quantity [pressure], optional
        Refraction weather: default the standard atmosphere at the site's height,
        1013.25 hPa exp(-h / 8150 m).
    temperature : Quantity [temperature]
        Refraction weather (default 10 deg C).
    humidity : float
        Relative humidity 0..1 (default 0.5).
    wavelength : Quantity [length]
        Observing wavelength for refraction (default 0.55 um).
    radar_frequency : Quantity [frequency]
        Transmitter frequency of the monostatic radar Doppler column (default Goldstone,
        8560 MHz).
    H, G : float, optional
        Override the solution's magnitude parameters (G defaults to 0.15).
    ephemeris, forces, epsilon
        As in :func:`apophis_sim.propagate_nbody`.
    max_rows : int
        Refuse larger requests (:class:`~apophis_sim.errors.TooManyRowsError`).

    Returns
    -------
    ObserverTable
        A QTable, one row per time (in the order given): ``time_tdb``, ``time_utc``;
        ``ra``, ``dec`` (astrometric ICRF) and ``ra_app``, ``dec_app`` (apparent, true
        equator and equinox of date) [deg]; ``az``, ``alt`` [deg] (Earth sites);
        ``ra_rate`` (dRA cos Dec / dt), ``dec_rate`` ["/min]; ``delta`` [au],
        ``delta_rate`` [km/s], ``light_time`` [min], ``radar_delay`` [s] (round trip),
        ``doppler`` [Hz]; ``r`` [au], ``r_rate`` [km/s]; ``elong`` [deg] with
        ``elong_flag`` ("/L" leads the Sun, morning sky; "/T" trails it, evening sky),
        ``phase`` [deg], ``V`` or ``T_mag`` [mag]; ``glat`` [deg]; ``moon_elong``
        [deg]; ``sub_lon``, ``sub_lat`` [deg] (geocentric longitude and latitude of the
        point on the Earth with the object at its zenith, Earth observers); with a
        covariance ``smaa_3sig``, ``smia_3sig`` ["], ``theta`` [deg], ``rss_3sig``,
        ``ra_3sig``, ``dec_3sig`` ["], ``delta_3sig`` [km], ``delta_rate_3sig`` [km/s].
        ``meta`` holds the object, site, model and notes.

    Raises
    ------
    TimeInputError, ShapeMismatchError, NonFiniteInputError
        ``times`` is not a Time, is N-D, or holds NaN.
    TooManyRowsError
        More than ``max_rows`` times.
    EphemerisRangeError
        A time outside DE440 (1550-2650).
    UnknownSiteError, SiteError
        Unknown MPC code (near matches listed), impossible coordinates, a space-based
        code without coordinates.
    InputError
        ``uncertainty=True`` for a solution without covariance, bad weather values.

    Notes
    -----
    Accuracy (tests/test_observer.py): astrometric and apparent RA/Dec and alt/az equal
    astropy's own machinery (ICRS -> TETE / AltAz, ``EarthLocation.get_gcrs_posvel``,
    astropy pointed at the same DE440 file) on the same barycentric vectors to < 0.1 mas
    (measured < 0.002 mas), the range to < 1 cm, also during the 2029 flyby. Earth
    orientation in 2029 is extrapolated (UT1 - UTC held, polar motion at astropy's
    default outside the IERS tables: ~10 m, 0.05" at 38 000 km). The MPC parallax
    constants (5 decimals) limit a code's position to ~60 m.
    """
    import erfa

    from ..ephemeris import Ephemeris
    from ..nbody import propagate_nbody_grid
    from ..solution import OrbitSolution
    from ..state import State

    if not isinstance(solution, (OrbitSolution, State)):
        raise InputError(f"solution must be an OrbitSolution or State, got "
                         f"{type(solution).__name__}")
    if isinstance(solution, State) and solution.shape != ():
        raise ShapeMismatchError(f"solution must be one State (shape ()), got shape "
                                 f"{solution.shape}; take one element, e.g. solution[0]")
    eph = ephemeris if ephemeris is not None else Ephemeris.open()
    st: Site = resolve_site(site)
    weather = _weather(pressure, temperature, humidity, wavelength)  # checked even if unused
    if (isinstance(max_rows, (bool, np.bool_)) or not isinstance(max_rows, (int, np.integer))
            or max_rows <= 0):
        raise InputError(f"max_rows must be a positive integer (default {MAX_ROWS:,}), got "
                         f"{max_rows!r:.60}")
    jd1, jd2 = _check_times(times, eph, int(max_rows))
    has_cov = isinstance(solution, OrbitSolution) and np.size(solution.covariance) > 0
    if uncertainty is None:
        uncertainty = has_cov
    elif uncertainty and not has_cov:
        raise InputError("uncertainty=True needs an OrbitSolution with a covariance; "
                         "pass uncertainty=False or load the solution with "
                         "OrbitSolution.from_sbdb (cov=mat)")
    f_hz = radar_frequency.to_value(u.Hz, equivalencies=u.spectral()) \
        if isinstance(radar_frequency, u.Quantity) else None
    if f_hz is None or not np.isfinite(f_hz) or f_hz <= 0:
        raise InputError(f"radar_frequency must be a positive Quantity [Hz], got "
                         f"{radar_frequency!r}; pass e.g. 8560 * u.MHz")
    notes: list[str] = []
    n = jd1.size
    t = Time(jd1, jd2, format="jd", scale="tdb")

    # --- observer at the reception times: barycentric position and velocity
    e_pos, e_vel = eph.posvel("earth", jd1, jd2)
    s_pos, s_vel = eph.posvel("sun", jd1, jd2)
    m_pos, _ = eph.posvel("moon", jd1, jd2)
    earth_bound = st.kind != "spacecraft"
    tt, utc, ut1, ut2, xp, yp = _earth_orientation(jd1, jd2, need_ut1=earth_bound)
    tt1, tt2 = tt.jd1, tt.jd2
    x, y, s, eo = _pn_quantities(tt1, tt2)
    ebpv = _pv(e_pos, e_vel)
    ehp = e_pos - s_pos
    if st.kind == "earth":
        if refraction:
            h = st.height_m
            phpa = 1013.25 * math.exp(-h / 8150.0) if pressure is None else weather[0]
            refa, refb = erfa.refco(phpa, weather[1], weather[2], weather[3])
        else:
            refa = refb = 0.0
        theta = erfa.era00(ut1, ut2)
        sp = erfa.sp00(tt1, tt2)
        astrom = erfa.apco(jd1, jd2, ebpv, ehp, x, y, s, theta, st.lon_rad, st.lat_rad,
                           st.height_m, xp, yp, sp, refa, refb)
        obs_pos = astrom["eb"]
        obs_vel = astrom["v"] * _C_AU_D
    else:
        if st.kind == "geocentre":
            obs_pos, obs_vel = e_pos, e_vel
        else:
            body = st.body
            if isinstance(body, State) and body.shape == (n,) and np.allclose(
                    (body.jd_tdb[0] - jd1) + (body.jd_tdb[1] - jd2), 0.0, atol=1e-9):
                obs_pos, obs_vel = _ssb(body, eph)
            else:
                obs_pos, obs_vel = _ssb(propagate_nbody_grid(body, t, ephemeris=eph,
                                                             forces=forces, epsilon=epsilon),
                                        eph)
        geo_m = (obs_pos - e_pos) * AU_KM * 1e3
        geo_v = (obs_vel - e_vel) * AU_KM * 1e3 / _DAY_S
        astrom = erfa.apcs(jd1, jd2, _pv(geo_m, geo_v), ebpv, ehp)
        astrom["bpn"] = erfa.c2ixys(x, y, s)

    # --- object: one integration at the reception times, then the light-time step back
    kw = dict(ephemeris=eph, forces=forces, epsilon=epsilon)
    cov = None
    if uncertainty:
        from ..uncertainty.linear import covariance_at

        cov = covariance_at(solution, t, **kw)
        r0 = cov.state.r_au.reshape(-1, 3) + s_pos
        v0 = cov.state.v_au_d.reshape(-1, 3) + s_vel
    else:
        r0, v0 = _ssb(propagate_nbody_grid(solution, t, **kw), eph)
    known = {"sun": s_pos, "earth": e_pos, "moon": m_pos}
    acc = point_mass_acceleration(r0, [known[b] if b in known else eph.posvel(b, jd1, jd2)[0]
                                       for b in _LT_BODIES],
                                  [eph.gm_au3_d2[eph.bodies.index(b)] for b in _LT_BODIES])
    tau = light_time(r0, v0, obs_pos, acc)
    r_ret, v1 = retard(r0, v0, acc, tau)
    sun_ret, sun_ret_v = eph.posvel("sun", jd1, jd2 - tau)
    cov_ret = None if cov is None else retard_covariance(cov.matrix.reshape(-1, 6, 6), tau)

    # --- astrometric geometry
    rho = r_ret - obs_pos
    dist = np.linalg.norm(rho, axis=-1)
    p = rho / dist[:, None]
    ra = np.arctan2(p[:, 1], p[:, 0]) % (2 * np.pi)
    dec = np.arcsin(np.clip(p[:, 2], -1.0, 1.0))
    east = np.stack([-np.sin(ra), np.cos(ra), np.zeros(n)], axis=-1)
    north = np.stack([-np.sin(dec) * np.cos(ra), -np.sin(dec) * np.sin(ra), np.cos(dec)], axis=-1)
    vrel = v1 - obs_vel
    rdot = np.sum(p * vrel, axis=-1)
    ra_rate = np.sum(east * vrel, axis=-1) / dist
    dec_rate = np.sum(north * vrel, axis=-1) / dist

    # --- apparent place and horizon coordinates (ERFA)
    q = _unit(r_ret - sun_ret)
    ppr = _ld_ab(p, q, astrom)
    p_cirs = erfa.rxp(astrom["bpn"], ppr)
    ri, di = erfa.c2s(p_cirs)
    ri = erfa.anp(ri)
    ra_app = erfa.anp(ri - eo)

    helio = r_ret - sun_ret
    r_h = np.linalg.norm(helio, axis=-1)
    r_rate = np.sum(helio * (v1 - sun_ret_v), axis=-1) / r_h
    to_sun = s_pos - obs_pos
    elong = _angle(to_sun, rho)
    phase = _angle(sun_ret - r_ret, obs_pos - r_ret)
    moon_elong = _angle(m_pos - obs_pos, rho)
    # Leading/trailing from the ecliptic longitudes (object east of the Sun: trails it).
    ce, se = math.cos(_OBLIQUITY_J2000), math.sin(_OBLIQUITY_J2000)

    def ecl_lon(v):
        return np.arctan2(ce * v[:, 1] + se * v[:, 2], v[:, 0])

    flag = np.where(np.sin(ecl_lon(rho) - ecl_lon(to_sun)) > 0, "/T", "/L")
    glat = np.arcsin(np.clip((p @ _icrs_to_galactic().T)[:, 2], -1.0, 1.0))

    cols: dict[str, Any] = {}
    t.format = "iso"
    utc.format = "iso"
    cols["time_tdb"] = t
    cols["time_utc"] = utc
    deg = np.degrees
    cols["ra"] = deg(ra) * u.deg
    cols["dec"] = deg(dec) * u.deg
    cols["ra_app"] = deg(ra_app) * u.deg
    cols["dec_app"] = deg(di) * u.deg
    if st.kind == "earth":
        aob, zob, _, _, _ = erfa.atioq(ri, di, astrom)
        cols["az"] = deg(aob) * u.deg
        cols["alt"] = (90.0 - deg(zob)) * u.deg
    per_min = _RAD_ARCSEC / 1440.0
    cols["ra_rate"] = ra_rate * per_min * u.arcsec / u.min
    cols["dec_rate"] = dec_rate * per_min * u.arcsec / u.min
    cols["delta"] = dist * u.au
    cols["delta_rate"] = rdot * AU_KM / _DAY_S * u.km / u.s
    cols["light_time"] = tau * 1440.0 * u.min
    cols["radar_delay"] = 2.0 * tau * _DAY_S * u.s
    cols["doppler"] = -2.0 * f_hz * (rdot * AU_KM / _DAY_S) / _C_KM_S * u.Hz
    cols["r"] = r_h * u.au
    cols["r_rate"] = r_rate * AU_KM / _DAY_S * u.km / u.s
    cols["elong"] = deg(elong) * u.deg
    cols["elong_flag"] = flag
    cols["phase"] = deg(phase) * u.deg
    mag_name, mag = _magnitude(solution, H, G, r_h, dist, phase, notes)
    if mag_name is not None:
        cols[mag_name] = np.asarray(mag) * u.mag
    cols["glat"] = deg(glat) * u.deg
    cols["moon_elong"] = deg(moon_elong) * u.deg
    if earth_bound:
        rpom = erfa.pom00(xp, yp, erfa.sp00(tt1, tt2))
        c2t = erfa.c2tcio(erfa.c2ixys(x, y, s), erfa.era00(ut1, ut2), rpom)
        g = np.einsum("tij,tj->ti", c2t, r_ret - e_pos)
        cols["sub_lon"] = deg(np.arctan2(g[:, 1], g[:, 0])) * u.deg
        cols["sub_lat"] = deg(np.arcsin(g[:, 2] / np.linalg.norm(g, axis=-1))) * u.deg
    if cov_ret is not None:
        c6 = cov_ret
        smaa, smia, pa, s_e, s_n = _plane_of_sky(c6[:, :3, :3], east, north, dist)
        three = 3.0 * _RAD_ARCSEC
        cols["smaa_3sig"] = smaa * three * u.arcsec
        cols["smia_3sig"] = smia * three * u.arcsec
        cols["theta"] = deg(pa) * u.deg
        cols["rss_3sig"] = np.hypot(smaa, smia) * three * u.arcsec
        cols["ra_3sig"] = s_e * three * u.arcsec
        cols["dec_3sig"] = s_n * three * u.arcsec
        cols["delta_3sig"] = 3.0 * np.sqrt(np.einsum("ti,tij,tj->t", p, c6[:, :3, :3], p)) \
            * AU_KM * u.km
        # d(rdot)/dr = (vrel - p rdot) / dist, d(rdot)/dv = p.
        jac = np.concatenate([(vrel - p * rdot[:, None]) / dist[:, None], p], axis=-1)
        var = np.einsum("ti,tij,tj->t", jac, c6, jac)
        cols["delta_rate_3sig"] = 3.0 * np.sqrt(np.maximum(var, 0.0)) * AU_KM / _DAY_S \
            * u.km / u.s
        notes.append("3-sigma columns: linear mapping of the covariance through the STM; "
                     "invalid once the uncertainty region bends (Apophis after 2029: use "
                     "apophis_sim.uncertainty Monte Carlo)")
    meta = {
        "object": getattr(solution, "name", "State"),
        "solution": getattr(solution, "solution", ""),
        "site": st.label,
        "site_kind": st.kind,
        "reference_frame": "ICRF (astrometric); true equator and equinox of date (apparent)",
        "corrections": "light time (astrometric); + solar deflection, aberration, "
                       "precession-nutation (apparent)",
        "refraction": bool(refraction and st.kind == "earth"),
        "radar_frequency_hz": f_hz,
        "ephemeris": ", ".join(eph.files),
        "notes": notes,
    }
    return ObserverTable(cols, meta=meta)


# ----------------------------------------------------------------------------- output

#: Columns shown by the compact repr.
_REPR_COLUMNS = ("time_utc", "ra", "dec", "delta", "V", "T_mag", "elong", "alt", "smaa_3sig")


def table_records(table: QTable) -> tuple[list[str], list[str], list[list]]:
    """Plain-Python view of a table: column names, unit strings and rows (lists).

    Time columns become ISO strings in their own scale (UTC to the millisecond; TDB also
    gets a ``<name>_jd`` column with the Julian date); Quantities become floats in the
    column's unit.

    Parameters
    ----------
    table : QTable
        Any table of the library.

    Returns
    -------
    names, units, rows : list
    """
    names, units, columns = [], [], []
    for name in table.colnames:
        col = table[name]
        if isinstance(col, Time):
            with quiet_utc(announce=False):
                c = col.copy()
                c.precision = 3
                names.append(name)
                units.append(col.scale.upper())
                columns.append([str(v) for v in np.atleast_1d(c.iso)])
                if col.scale == "tdb":
                    names.append(name + "_jd")
                    units.append("d")
                    columns.append([float(v) for v in np.atleast_1d(col.jd1 + col.jd2)])
        elif isinstance(col, u.Quantity):
            names.append(name)
            units.append(col.unit.to_string())
            columns.append([float(v) for v in np.atleast_1d(col.value)])
        else:
            names.append(name)
            units.append("")
            columns.append([v.item() if hasattr(v, "item") else v for v in np.atleast_1d(col)])
    rows = [list(r) for r in zip(*columns)]
    return names, units, rows


def _check_table(table) -> None:
    from astropy.table import Table

    if not isinstance(table, Table):
        raise InputTypeError(f"table must be an astropy Table/QTable (e.g. from observer() or "
                             f"approaches()), got {type(table).__name__}")


def _write_text(path, text: str) -> None:
    """Write ``text`` to ``path`` (typed errors naming ``path``)."""
    if path is None:
        return
    if not isinstance(path, (str, os.PathLike)) or str(path).strip() == "":
        raise OutputPathError(f"path must be a file name (str or Path), got {path!r:.60}")
    try:
        Path(path).write_text(text)
    except OSError as exc:
        raise OutputPathError(f"path {str(path)!r} cannot be written: "
                              f"{exc.strerror or exc}") from None


def write_csv(table: QTable, path: str | Path | None = None) -> str:
    """CSV text of a table (header ``name [unit]``), written to ``path`` when given.

    Parameters
    ----------
    table : QTable
        Any table of the library.
    path : str or Path, optional
        Where to write it as well.

    Returns
    -------
    str
    """
    import csv
    import io

    _check_table(table)
    names, units, rows = table_records(table)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([f"{n} [{un}]" if un else n for n, un in zip(names, units)])
    for row in rows:
        w.writerow([repr(v) if isinstance(v, float) else v for v in row])
    text = buf.getvalue()
    _write_text(path, text)
    return text


def to_json(table: QTable, path: str | Path | None = None) -> str:
    """JSON text ``{"meta", "units", "rows": [{name: value}, ...]}`` of a table (NaN ->
    null), written to ``path`` when given.

    Parameters
    ----------
    table : QTable
        Any table of the library.
    path : str or Path, optional
        Where to write it as well.

    Returns
    -------
    str
    """
    import json

    _check_table(table)
    names, units, rows = table_records(table)
    meta = {k: v for k, v in table.meta.items()}

    def clean(v):
        return None if isinstance(v, float) and not math.isfinite(v) else v

    obj = {"meta": meta, "units": dict(zip(names, units)),
           "rows": [{n: clean(v) for n, v in zip(names, row)} for row in rows]}
    text = json.dumps(obj, indent=1, default=str)
    _write_text(path, text)
    return text


class ObserverTable(QTable):
    """QTable of an observer ephemeris, with a compact repr and CSV/JSON export."""

    def _summary(self) -> str:
        m = self.meta
        n = len(self)
        span = ""
        if n and "time_utc" in self.colnames:
            with quiet_utc(announce=False):
                a, b = self["time_utc"][0].iso[:16], self["time_utc"][-1].iso[:16]
            span = f", {a} .. {b} UTC"
        return (f"<ObserverTable {m.get('object', '')} {m.get('solution', '')} from "
                f"{m.get('site', '')}: {n} rows{span}, {len(self.colnames)} columns>")

    def _compact(self) -> QTable:
        keep = [c for c in _REPR_COLUMNS if c in self.colnames]
        sub = QTable(self[keep], copy=False) if keep else QTable(self)
        if len(sub) > 6:
            sub = QTable(sub[[0, 1, 2, len(sub) - 2, len(sub) - 1]])
        for c in sub.colnames:
            if isinstance(sub[c], u.Quantity):
                sub[c].info.format = ".6g"
        return sub

    def __repr__(self) -> str:
        with quiet_utc(announce=False):
            body = "\n".join(self._compact().pformat(max_width=120))
        return f"{self._summary()}\n{body}"

    def _repr_html_(self) -> str:
        with quiet_utc(announce=False):
            html = self._compact()._repr_html_()
        return f"<p>{self._summary()[1:-1]}</p>{html}"

    def to_pandas(self, index=None, use_nullable_int=True):
        """A pandas DataFrame (astropy's :meth:`~astropy.table.Table.to_pandas`).

        The UTC column was already stated as UTC when the table was made, so ERFA's
        "dubious year" for dates past the last leap second is not repeated here.

        Parameters
        ----------
        index : None, bool or str
            As in :meth:`astropy.table.Table.to_pandas`.
        use_nullable_int : bool
            As in :meth:`astropy.table.Table.to_pandas`.

        Returns
        -------
        pandas.DataFrame
        """
        with quiet_utc(announce=False):
            return super().to_pandas(index=index, use_nullable_int=use_nullable_int)

    def to_csv(self, path: str | Path | None = None) -> str:
        """CSV text (see :func:`write_csv`).

        Parameters
        ----------
        path : str or Path, optional
            Where to write it as well.

        Returns
        -------
        str
        """
        return write_csv(self, path)

    def to_json(self, path: str | Path | None = None) -> str:
        """JSON text (see :func:`to_json`).

        Parameters
        ----------
        path : str or Path, optional
            Where to write it as well.

        Returns
        -------
        str
        """
        return to_json(self, path)
