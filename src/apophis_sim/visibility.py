"""Brightness and visibility of a small body from Earth during a flyby.

* Apparent V magnitude in the IAU H-G system (Bowell et al. 1989, in Asteroids II):
  V = H + 5 log10(r Delta) - 2.5 log10((1 - G) Phi1 + G Phi2),
  Phi_i = exp(-A_i tan(alpha/2)^B_i), A = (3.33, 1.87), B = (0.63, 1.22),
  with r and Delta in au and alpha the phase angle (Sun-object-observer).
* Geocentric or topocentric (astropy ``EarthLocation``) geometry, altitude and
  azimuth (``AltAz``), and the sub-object point (geocentric latitude/longitude
  on the ITRS).

Earth orientation for 2029 lies beyond today's IERS tables. Nothing here ever
downloads: the computations run with astropy's IERS auto-download switched off
and degraded accuracy allowed, which means UT1 - UTC and polar motion are taken
from the end of the bundled tables (``|UT1 - UTC|`` < 0.9 s by definition of UTC, so
the sub-point longitude is uncertain by < 0.004 deg, ~400 m; polar motion
< 0.5", ~15 m). One :class:`EarthOrientationWarning` says so.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.coordinates import GCRS, ITRS, AltAz, CartesianRepresentation, EarthLocation
from astropy.time import Time
from astropy.utils import iers

from ._deprecation import renamed_kwargs
from .ephemeris import Ephemeris
from .errors import InputError, InputTypeError, ShapeMismatchError
from .time import quiet_utc, to_jd_tdb, user_stacklevel, utc_iso
from .units import AU_KM, check_finite, to_canonical

__all__ = ["EarthOrientationWarning", "hg_magnitude", "Visibility", "visibility",
           "bright_intervals", "offline_earth_orientation"]


class EarthOrientationWarning(UserWarning):
    """Earth orientation was extrapolated beyond the IERS tables (no download)."""


_EOP_NOTE = ("Earth orientation beyond the bundled IERS tables: UT1-UTC and polar motion "
             "are held at their last tabulated values (sub-point uncertainty < ~400 m); "
             "no IERS data is downloaded")


@contextlib.contextmanager
def offline_earth_orientation():
    """Context in which astropy never downloads IERS data and extrapolates instead.

    Emits one :class:`EarthOrientationWarning` if astropy had to extrapolate, attributed
    to the caller's line. ERFA's "dubious year" warnings are dropped: the UTC that
    astropy forms internally here (for UT1 and polar motion) is not the user's input;
    a UTC input is announced once where it is converted (:func:`~apophis_sim.time.to_jd_tdb`).
    """
    with iers.conf.set_temp("auto_download", False), \
            iers.conf.set_temp("auto_max_age", None), \
            iers.conf.set_temp("iers_degraded_accuracy", "warn"), \
            warnings.catch_warnings(record=True) as caught, quiet_utc(announce=False):
        warnings.simplefilter("always")
        yield
    extrapolated = False
    for w in caught:
        text = str(w.message).lower()
        if "iers" in text or "polar motion" in text or "ut1" in text or "tai-utc" in text:
            extrapolated = True
        elif issubclass(w.category, Warning) and "dubious year" not in text:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if extrapolated:
        warnings.warn(_EOP_NOTE, EarthOrientationWarning, stacklevel=user_stacklevel())


def hg_magnitude(H: float, G: float, r: u.Quantity, delta: u.Quantity,
                 phase: u.Quantity) -> np.ndarray:
    """Apparent V magnitude in the IAU H-G system.

    Parameters
    ----------
    H, G : float
        Absolute magnitude and slope parameter.
    r, delta : Quantity [length]
        Heliocentric and observer distances.
    phase : Quantity [angle]
        Phase angle Sun-object-observer, 0..180 deg.

    Raises
    ------
    InputError
        H or G is not a number; G outside [G_MIN, G_MAX] = [-0.25, 1.0] (the range
        of published slope parameters; the H-G phase function is fitted for 0 <= G <= 1
        and small negative values occur); r or delta not positive; phase outside
        [0, 180] deg.
    NonFiniteInputError
        NaN or infinity in any argument.
        Also: a phase angle so close to 180 deg that the H-G phase function
        underflows to 0 (the object is dark: no finite magnitude).

    Notes
    -----
    Bowell et al. (1989), Asteroids II, 524: the two-parameter phase function
    ``(1 - G) phi1 + G phi2``; it is an approximation valid to about 120 deg.
    """
    h_val = _scalar_number(H, "H")
    g_val = _scalar_number(G, "G")
    if np.any((g_val < G_MIN) | (g_val > G_MAX)):
        raise InputError(f"G (slope parameter) must lie in [{G_MIN}, {G_MAX}], got {G!r}; "
                         "typical asteroids have G = 0.15 (Apophis 0.24)")
    r_au = to_canonical(r, u.au, "r")
    d_au = to_canonical(delta, u.au, "delta")
    alpha = to_canonical(phase, u.rad, "phase")
    if np.any(r_au <= 0) or np.any(d_au <= 0):
        raise InputError("r and delta must be positive")
    if np.any((alpha < 0) | (alpha > np.pi)):
        raise InputError("phase must lie in [0, 180] deg")
    t = np.tan(0.5 * alpha)
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        phi1 = np.exp(-3.33 * t**0.63)
        phi2 = np.exp(-1.87 * t**1.22)
        flux = (1.0 - g_val) * phi1 + g_val * phi2
        mag = h_val + 5.0 * np.log10(r_au * d_au) - 2.5 * np.log10(flux)
    bad = ~np.isfinite(mag)
    if np.any(bad):
        worst = float(np.max(np.degrees(np.broadcast_to(alpha, np.shape(mag))[bad])))
        raise InputError(
            f"phase {worst:.10g} deg is so close to 180 deg that the H-G phase function "
            "vanishes (no finite magnitude: the object shows its unlit side); pass phase "
            "angles below ~179 deg")
    return mag


#: Accepted range of the H-G slope parameter.
G_MIN, G_MAX = -0.25, 1.0


def _scalar_number(x, name: str) -> np.ndarray:
    """A real, finite number (or array of them) for a unitless argument such as H or G."""
    if isinstance(x, u.Quantity):
        x = to_canonical(x, u.one, name)
    try:
        arr = np.asarray(x)
    except Exception:  # noqa: BLE001 - any object numpy cannot read
        arr = np.asarray(None)
    if arr.dtype.kind not in "biuf":
        raise InputError(f"{name} must be a real number, got {type(x).__name__} {x!r:.40}")
    arr = arr.astype(np.float64)
    check_finite(arr, name)
    return arr


@dataclass(frozen=True)
class Visibility:
    """Geometry and brightness of the object at the requested times.

    Attributes
    ----------
    time : Time
        The times.
    magnitude : ndarray
        Apparent V magnitude (H-G system; a magnitude carries no astropy unit).
    phase : Quantity [deg]
        Sun-object-observer phase angle.
    delta, r_helio : Quantity [au]
        Observer-object and Sun-object distances.
    ra, dec : Quantity [deg]
        Geometric ICRF right ascension and declination.
    alt, az : Quantity [deg] or None
        Altitude and azimuth at the site (None when geocentric).
    sub_lat, sub_lon : Quantity [deg]
        Geocentric latitude and longitude of the sub-object point.
    sun_alt : Quantity [deg] or None
        The Sun's altitude at the site (None when geocentric).
    """

    time: Time
    magnitude: np.ndarray
    phase: u.Quantity
    delta: u.Quantity
    r_helio: u.Quantity
    ra: u.Quantity
    dec: u.Quantity
    alt: u.Quantity | None
    az: u.Quantity | None
    sub_lat: u.Quantity
    sub_lon: u.Quantity
    sun_alt: u.Quantity | None

    def __repr__(self) -> str:
        n = len(self.magnitude)
        where = "geocentric" if self.alt is None else "topocentric"
        k = int(np.argmin(self.magnitude))
        t = utc_iso(self.time[[0, -1, k]])
        d = self.delta.to_value(u.km)
        return (f"Visibility({n} times {t[0]} .. {t[1]} UTC, {where}; brightest V = "
                f"{self.magnitude[k]:.2f} at {t[2]} UTC; distance {np.min(d):,.0f} .. "
                f"{np.max(d):,.0f} km)")


def visibility(solution, times: Time, location: EarthLocation | None = None,
               ephemeris: Ephemeris | None = None, H: float | None = None,
               G: float | None = None, states=None) -> Visibility:
    """Brightness and sky position of the object seen from Earth at ``times``.

    Parameters
    ----------
    solution : OrbitSolution or State
        The object; positions come from the n-body propagation.
    times : astropy.time.Time
        Times (any scale; 1-D).
    location : astropy.coordinates.EarthLocation, optional
        Observing site (topocentric geometry, altitude/azimuth and the Sun's
        altitude). Default: geocentric, without altitude/azimuth.
    H, G : float, optional
        Default: the solution's (Apophis: 19.09, 0.24).
    ephemeris : Ephemeris, optional
        Default :meth:`Ephemeris.open`.
    states : State, optional
        The object's states at ``times`` (any centre and frame) when already
        computed; otherwise ``solution`` is propagated with the n-body model.

    Notes
    -----
    Geometric positions (no light-time or aberration: at 38 000 km light takes
    0.13 s, and aberration is < 21"). The sub-object point is the geocentric
    direction's intersection longitude/latitude on the ITRS (geocentric latitude).
    """
    from .nbody import OrbitSolution, propagate_nbody_grid

    if H is None or G is None:
        if not isinstance(solution, OrbitSolution):
            raise InputError("pass H and G for an object given as a State")
        H = solution.H if H is None else H
        G = solution.G if G is None else G
        if H is None or G is None:
            raise InputError(f"the solution {solution.name!r} publishes no H/G magnitudes "
                             "(comets have M1/K1); pass H and G")
    # Check H and G before the (costly) propagation; hg_magnitude checks them again.
    g_val = _scalar_number(G, "G")
    h_val = _scalar_number(H, "H")
    for name, arr in (("H", h_val), ("G", g_val)):
        if np.ndim(arr) != 0:
            raise InputError(f"{name} must be one number for the object, got shape "
                             f"{np.shape(arr)}")
    if np.any((g_val < G_MIN) | (g_val > G_MAX)):
        raise InputError(f"G (slope parameter) must lie in [{G_MIN}, {G_MAX}], got {G!r}")
    if location is not None and not isinstance(location, EarthLocation):
        raise InputTypeError(f"location must be an astropy EarthLocation (e.g. "
                             f"EarthLocation.of_site('Paranal')) or None for the geocentre, "
                             f"got {type(location).__name__}")
    t1, t2 = to_jd_tdb(times, "times")
    if np.ndim(t1) > 1:
        raise ShapeMismatchError(f"times must be a scalar or 1-D Time, got shape "
                                 f"{np.shape(t1)}; pass times.ravel()")
    times = Time(np.atleast_1d(t1), np.atleast_1d(t2), format="jd", scale="tdb")
    eph = ephemeris if ephemeris is not None else Ephemeris.open()
    if states is None:
        states = propagate_nbody_grid(solution, times, ephemeris=eph)
    elif states.shape != times.shape:
        raise ShapeMismatchError(f"states has shape {states.shape}, times {times.shape}; "
                                 "pass the object's states at exactly these times")
    helio = states.to_centre("sun", ephemeris=eph).to_frame("icrf").r_au
    geo = states.to_centre("earth", ephemeris=eph).to_frame("icrf").r_au
    jd1, jd2 = times.jd1, times.jd2
    earth_helio, _ = eph.posvel("earth", jd1, jd2, centre="sun")
    with offline_earth_orientation():
        obs_geo_km = np.zeros_like(geo)
        if location is not None:
            site, _ = location.get_gcrs_posvel(times)
            obs_geo_km = site.xyz.to_value(u.km).T
        topo_km = geo * AU_KM - obs_geo_km
        obs_helio_au = earth_helio + obs_geo_km / AU_KM
        delta_au = np.linalg.norm(topo_km, axis=-1) / AU_KM
        r_au = np.linalg.norm(helio, axis=-1)
        # Phase angle between the directions object->Sun and object->observer.
        to_sun = -helio
        to_obs = obs_helio_au - helio
        cosang = np.sum(to_sun * to_obs, axis=-1) / (r_au * np.linalg.norm(to_obs, axis=-1))
        phase = np.arccos(np.clip(cosang, -1.0, 1.0)) * u.rad
        mag = hg_magnitude(H, G, r_au * u.au, delta_au * u.au, phase)
        ra = np.arctan2(topo_km[:, 1], topo_km[:, 0]) % (2 * np.pi) * u.rad
        dec = np.arcsin(topo_km[:, 2] / np.linalg.norm(topo_km, axis=-1)) * u.rad
        gcrs = GCRS(CartesianRepresentation((geo * AU_KM).T * u.km), obstime=times)
        itrs = gcrs.transform_to(ITRS(obstime=times))
        sph = itrs.spherical
        alt = az = sun_alt = None
        if location is not None:
            altaz = gcrs.transform_to(AltAz(obstime=times, location=location))
            alt, az = altaz.alt.to(u.deg), altaz.az.to(u.deg)
            sun_geo = -earth_helio * AU_KM
            sun = GCRS(CartesianRepresentation(sun_geo.T * u.km), obstime=times)
            sun_alt = sun.transform_to(AltAz(obstime=times, location=location)).alt.to(u.deg)
    return Visibility(time=times, magnitude=mag, phase=phase.to(u.deg), delta=delta_au * AU_KM * u.km,
                      r_helio=r_au * u.au, ra=ra.to(u.deg), dec=dec.to(u.deg), alt=alt, az=az,
                      sub_lat=sph.lat.to(u.deg), sub_lon=sph.lon.wrap_at(180 * u.deg).to(u.deg),
                      sun_alt=sun_alt)


@renamed_kwargs(min_altitude="altitude_min", max_sun_altitude="sun_altitude_max")
def bright_intervals(vis: Visibility, limit: float, altitude_min: u.Quantity = 0 * u.deg,
                     sun_altitude_max: u.Quantity | None = None) -> list[tuple[Time, Time]]:
    """Intervals (between sampled times) when the object is brighter than ``limit``
    and, for a site, above ``altitude_min`` (and the Sun below ``sun_altitude_max``).

    The ends are the first and last sampled times that satisfy the conditions; their
    resolution is the sampling step of ``vis``.

    Parameters
    ----------
    vis : Visibility
        From :func:`visibility`.
    limit : float
        Faintest V magnitude accepted.
    altitude_min : Quantity [angle]
        Lowest altitude of the object (sites only; default 0 deg).
    sun_altitude_max : Quantity [angle], optional
        Highest altitude of the Sun (e.g. -12 deg, nautical twilight; sites only).

    Returns
    -------
    list of (Time, Time)

    Raises
    ------
    InputError, NonFiniteInputError
        ``vis`` is not a :class:`Visibility`, or ``limit`` is not a finite number.
    PhysicalTypeError
        ``altitude_min`` or ``sun_altitude_max`` is not an angle.
    """
    if not isinstance(vis, Visibility):
        raise InputError(f"vis must be a Visibility (from visibility(...)), got "
                         f"{type(vis).__name__}")
    limit_arr = _scalar_number(limit, "limit")
    if np.ndim(limit_arr) != 0:
        raise InputError(f"limit must be one magnitude, got shape {np.shape(limit_arr)}")
    limit = float(limit_arr)
    altitude_min = to_canonical(altitude_min, u.deg, "altitude_min") * u.deg
    if sun_altitude_max is not None:
        sun_altitude_max = to_canonical(sun_altitude_max, u.deg, "sun_altitude_max") * u.deg
    ok = vis.magnitude < limit
    if vis.alt is not None:
        ok &= vis.alt >= altitude_min
        if sun_altitude_max is not None:
            ok &= vis.sun_alt <= sun_altitude_max
    elif sun_altitude_max is not None:
        raise InputError("sun_altitude_max needs a site: call visibility(..., location=...)")
    out = []
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return out
    breaks = np.flatnonzero(np.diff(idx) > 1)
    starts = np.concatenate([[idx[0]], idx[breaks + 1]])
    ends = np.concatenate([idx[breaks], [idx[-1]]])
    for s, e in zip(starts, ends):
        out.append((vis.time[s], vis.time[e]))
    return out
