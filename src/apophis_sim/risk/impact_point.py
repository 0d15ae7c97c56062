"""Where an impacting orbit meets the Earth or the Moon: time, latitude and longitude,
speed and entry angle at the crossing of the body's radius.

The crossing is found inside the integrator (:func:`apophis_sim.nbody.close_approaches`
with ``impacts=True``: the first time the body-centred distance falls below the body's
radius, R = 6378.1366 km for the Earth and 1738.0 km for the Moon (the DE440 reference
radii, :mod:`apophis_sim.bodies`), on the dense output of the step that contains it, to
< 1e-13 day).

**Earth.** The geocentric ICRF entry point is turned into the terrestrial frame (ITRS)
with astropy's IAU 2006/2000A GCRS -> ITRS chain (ERFA), with the IERS tables astropy
ships and, beyond them, held Earth-orientation values (never downloaded; an
``EarthOrientationWarning`` says so), then into WGS84 geodetic coordinates. Because the
entry surface is the equatorial sphere, the geodetic height of the point is 0 km on the
equator and up to 21 km above the ellipsoid at the poles; the ground point below it is
given.

**Moon.** The selenocentric ICRF entry point is rotated into the IAU mean Earth/polar
axis (ME) frame of the Moon: the pole right ascension and declination and the prime
meridian of the IAU Working Group on Cartographic Coordinates and Rotational Elements
(Archinal et al. 2011, CMDA 109:101, the 2009 report; the 2015 report, Archinal et al.
2018, CMDA 130:22, no longer gives lunar rotational elements, and NAIF's 2022
``pck00011.tpc`` keeps these 2009 values), a series in 13 lunar-solar arguments E1..E13
of TDB (:func:`moon_orientation`). Its +z axis is the mean rotation pole, its prime
meridian the mean direction to the Earth. The coefficients were taken from NAIF's
generic text PCK ``pck00010.tpc`` (keywords ``BODY301_POLE_RA``, ``BODY301_POLE_DEC``,
``BODY301_PM``, ``BODY301_NUT_PREC_RA/DEC/PM``, ``BODY3_NUT_PREC_ANGLES``), read from the
copy in GitHub ``MaxSmith-1/My-Projects``, ``kernels/pck/pck00010.tpc``, commit
``dbc8995bc3fbba61879336c26c52ad576d80f2b5``, and checked term by term against Cesium's
independent transcription (``CesiumGS/cesium``,
``packages/engine/Source/Core/Iau2000Orientation.js``, commit
``0671b6d41eddc224f4ca1b0516c5b69496c169ce``). The point is given as selenocentric
latitude and east longitude on the sphere of the IAU mean radius, 1737.4 km (the
direction of the entry point: latitude and longitude do not depend on the radius), and
its height above that sphere (0.6 km: the entry surface is DE440's 1738.0 km sphere).
Accuracy: NAIF documents (lunar frame kernel ``moon_060721.tf``) that the IAU formula,
a truncated libration series, departs from the ephemeris-based ME frame by up to
~0.005 deg, ~150 m on the surface (mean ~75 m); the ephemerides' principal-axis (PA)
frame is another ~0.03 deg (~860 m) away. Both are far below the spread of any impact
prediction.
"""

from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.time import Time

from .._deprecation import renamed_kwargs
from ..errors import InputError
from ..nbody import close_approaches
from ..solution import OrbitSolution
from ..state import State
from ..time import utc_iso

__all__ = ["Impact", "first_impact", "impact_site", "moon_orientation"]


@dataclass(frozen=True)
class Impact:
    """The first impact of one orbit.

    Attributes
    ----------
    time : Time
        Crossing of the body's radius (TDB inside; shown in UTC).
    body : str
        ``"earth"`` or ``"moon"``: the body whose coordinates ``latitude``,
        ``longitude`` and ``height`` are.
    latitude, longitude : Quantity [deg]
        Latitude and east longitude (-180..180 deg) of the entry point. Earth: WGS84
        geodetic. Moon: selenocentric, in the IAU mean Earth/polar axis frame
        (:func:`moon_orientation`; longitude 0 is the mean sub-Earth meridian).
    height : Quantity [km]
        Height of the entry point. Earth: above the WGS84 ellipsoid (0 at the equator,
        up to 21 km at the poles: the entry surface is the equatorial sphere). Moon:
        above the IAU mean sphere of 1737.4 km (0.6 km: the entry surface is DE440's
        1738.0 km sphere).
    speed : Quantity [km/s]
        Body-relative speed at the entry.
    entry_angle : Quantity [deg]
        Angle of the velocity below the local horizontal (90 deg: vertical).
    r_rel, v_rel : Quantity [km], [km/s]
        Body-centred ICRF position and velocity at the entry.
    """

    time: Time
    body: str
    latitude: u.Quantity
    longitude: u.Quantity
    height: u.Quantity
    speed: u.Quantity
    entry_angle: u.Quantity
    r_rel: u.Quantity
    v_rel: u.Quantity

    def __repr__(self) -> str:
        where = ("" if not np.isfinite(self.latitude.value) else
                 f" at {self.latitude.to_value(u.deg):+.3f} deg, "
                 f"{self.longitude.to_value(u.deg):+.3f} deg E")
        return (f"<Impact on {self.body} {utc_iso(self.time)} UTC{where}, "
                f"{self.speed.to_value(u.km / u.s):.2f} km/s, "
                f"{self.entry_angle.to_value(u.deg):.1f} deg below the horizon>")


def moon_orientation(time: Time) -> tuple[u.Quantity, u.Quantity, u.Quantity]:
    """The IAU orientation of the Moon: ICRF right ascension and declination of its
    north pole and the location of its prime meridian, at ``time``.

    The IAU WGCCRE model of the lunar mean Earth/polar axis frame (Archinal et al.
    2011, the 2009 report, as NAIF ships it in ``pck00010.tpc``; ``pck00011.tpc``
    still takes its lunar data from that report, the 2015 one giving none): constant
    and secular terms plus sine (RA, W) and cosine (Dec) series in the 13 arguments
    E1..E13, in days and Julian centuries of TDB from J2000. The body-fixed axes are
    ``R3(W) R1(90 deg - dec) R3(90 deg + ra)`` applied to the ICRF axes. It departs
    from the DE ephemerides' mean Earth frame by up to ~0.005 deg (~150 m on the
    surface), as NAIF documents; the sources are cited in the docstring of
    ``risk/impact_point.py``.

    Parameters
    ----------
    time : Time
        When (any scale, any shape).

    Returns
    -------
    pole_ra, pole_dec : Quantity [deg]
        ICRF right ascension and declination of the lunar north pole.
    prime_meridian : Quantity [deg]
        W, the angle along the lunar equator from its ascending node on the ICRF
        equator to the prime meridian, in [0, 360) deg.
    """
    from .._core.moon_frame import moon_orientation_deg
    from ..time import to_jd_tdb

    jd1, jd2 = to_jd_tdb(time, "time")
    ra, dec, w = moon_orientation_deg(jd1, jd2)
    return ra * u.deg, dec * u.deg, w * u.deg


def impact_site(r_rel_km: np.ndarray, time: Time, *,
                body: str = "earth") -> tuple[float, float, float]:
    """Latitude [deg], east longitude [deg] and height [km] of a body-centred ICRF
    position ``r_rel_km`` at ``time``, without touching the network.

    Earth (default): WGS84 geodetic coordinates of a geocentric ICRF (GCRS) position,
    through astropy's GCRS -> ITRS. Moon: selenocentric latitude and east longitude in
    the IAU mean Earth/polar axis frame (:func:`moon_orientation`), and the height
    above the IAU mean sphere of 1737.4 km (``bodies.MOON_MEAN_RADIUS_KM``).

    Parameters
    ----------
    r_rel_km : ndarray (3,)
        Body-centred (geocentric or selenocentric) ICRF position [km].
    time : Time
        When.
    body : {"earth", "moon"}
        Whose coordinates (default ``"earth"``).

    Returns
    -------
    (float, float, float)
        Latitude [deg], east longitude [deg, -180..180], height [km].
    """
    from ..time import to_jd_tdb

    r = np.asarray(r_rel_km, dtype=np.float64)
    if r.shape != (3,) or not np.all(np.isfinite(r)):
        raise InputError("r_rel_km must be 3 finite numbers [km]")
    jd1, jd2 = to_jd_tdb(time, "time")  # a finite astropy Time, any scale
    if np.ndim(jd1):
        raise InputError("time must be one Time")
    if body == "moon":
        from .._core.moon_frame import selenographic_deg
        from ..bodies import MOON_MEAN_RADIUS_KM

        lat, lon, rho = selenographic_deg(r, jd1, jd2)
        return float(lat), float(lon), float(rho) - MOON_MEAN_RADIUS_KM
    if body != "earth":
        from ..errors import UnknownNameError

        raise UnknownNameError("impact body", body, ("earth", "moon"))
    from astropy.coordinates import GCRS, ITRS, CartesianRepresentation, EarthLocation

    from ..visibility import offline_earth_orientation

    with offline_earth_orientation():
        gcrs = GCRS(CartesianRepresentation(r * u.km), obstime=time)
        itrs = gcrs.transform_to(ITRS(obstime=time))
        loc = EarthLocation.from_geocentric(*itrs.cartesian.xyz)
        lon, lat, h = loc.to_geodetic("WGS84")
    return float(lat.to_value(u.deg)), float(lon.wrap_at(180 * u.deg).to_value(u.deg)), \
        float(h.to_value(u.km))


@renamed_kwargs(orbit="state")
def first_impact(state: State | OrbitSolution, until: Time, *,
                 bodies=("earth", "moon"), **kwargs) -> Impact | None:
    """The first impact on ``bodies`` of one orbit before ``until``, or None.

    Parameters
    ----------
    state : State or OrbitSolution
        One orbit (a State of shape ``()`` or a solution's nominal).
    until : Time
        End of the search.
    bodies : sequence of {"earth", "moon"}
        Bodies whose surface ends the orbit.
    **kwargs
        Passed to :func:`apophis_sim.nbody.close_approaches` (``forces``,
        ``ephemeris``, ``epsilon``, ``nongrav``, ...).

    Returns
    -------
    Impact or None
        With the entry point in the hit body's coordinates (``Impact.body``): WGS84 on
        the Earth, IAU mean Earth/polar axis selenocentric on the Moon
        (:func:`impact_site`).
    """
    if isinstance(bodies, str):
        bodies = (bodies,)
    if isinstance(state, State) and state.shape != ():
        raise InputError(f"state must be one orbit (State of shape ()), got shape {state.shape}")
    tab = close_approaches(state, until, bodies=tuple(bodies), distance_max=0.001 * u.au,
                           impacts=True, **kwargs)
    hits = tab[tab["impact"]]
    if len(hits) == 0:
        return None
    row = hits[0]
    r = np.asarray(row["r_rel"].to_value(u.km), dtype=np.float64)
    v = np.asarray(row["v_rel_vec"].to_value(u.km / u.s), dtype=np.float64)
    speed = float(np.linalg.norm(v))
    # below the local horizontal: the angle between -v and the outward radial, from 90.
    angle = float(np.degrees(np.arcsin(-np.dot(r, v) / (np.linalg.norm(r) * speed))))
    body = str(row["body"])
    lat, lon, h = impact_site(r, row["time"], body=body)
    return Impact(time=row["time"], body=body, latitude=lat * u.deg, longitude=lon * u.deg,
                  height=h * u.km, speed=speed * u.km / u.s, entry_angle=angle * u.deg,
                  r_rel=r * u.km, v_rel=v * u.km / u.s)
