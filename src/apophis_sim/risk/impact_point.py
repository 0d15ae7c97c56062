"""Where an impacting orbit meets the Earth: time, geodetic latitude and longitude, speed
and entry angle at the crossing of Earth's radius.

The crossing is found inside the integrator (:func:`apophis_sim.nbody.close_approaches`
with ``impacts=True``: the first time the geocentric distance falls below the equatorial
radius R = 6378.1366 km, on the dense output of the step that contains it, to < 1e-13
day). The geocentric ICRF entry point is turned into the terrestrial frame (ITRS) with
astropy's IAU 2006/2000A GCRS -> ITRS chain (ERFA), with the IERS tables astropy ships
and, beyond them, held Earth-orientation values (never downloaded; an
``EarthOrientationWarning`` says so), then into WGS84 geodetic coordinates. Because the
entry surface is the equatorial sphere, the geodetic height of the point is 0 km on the
equator and up to 21 km above the ellipsoid at the poles; the ground point below it is
given. The Moon's surface point is not computed (no lunar orientation model here): a
Moon impact reports its time and speed only.
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

__all__ = ["Impact", "first_impact", "impact_site"]


@dataclass(frozen=True)
class Impact:
    """The first impact of one orbit.

    Attributes
    ----------
    time : Time
        Crossing of the body's radius (TDB inside; shown in UTC).
    body : str
        ``"earth"`` or ``"moon"``.
    latitude, longitude : Quantity [deg]
        WGS84 geodetic latitude and east longitude of the entry point (Earth only,
        NaN for the Moon).
    height : Quantity [km]
        Height of the entry point above the WGS84 ellipsoid (0 at the equator, up to
        21 km at the poles: the entry surface is the equatorial sphere).
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


def impact_site(r_rel_km: np.ndarray, time: Time) -> tuple[float, float, float]:
    """WGS84 geodetic (latitude [deg], east longitude [deg], height [km]) of a geocentric
    ICRF (GCRS) position ``r_rel_km`` at ``time``, without touching the network.

    Parameters
    ----------
    r_rel_km : ndarray (3,)
        Geocentric ICRF position [km].
    time : Time
        When.

    Returns
    -------
    (float, float, float)
        Latitude [deg], east longitude [deg], height [km].
    """
    from astropy.coordinates import GCRS, ITRS, CartesianRepresentation, EarthLocation

    from ..visibility import offline_earth_orientation

    from ..time import to_jd_tdb

    r = np.asarray(r_rel_km, dtype=np.float64)
    if r.shape != (3,) or not np.all(np.isfinite(r)):
        raise InputError("r_rel_km must be 3 finite numbers [km]")
    if np.ndim(to_jd_tdb(time, "time")[0]):  # a finite astropy Time, any scale
        raise InputError("time must be one Time")
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
    if body == "earth":
        lat, lon, h = impact_site(r, row["time"])
    else:
        lat = lon = h = float("nan")
    return Impact(time=row["time"], body=body, latitude=lat * u.deg, longitude=lon * u.deg,
                  height=h * u.km, speed=speed * u.km / u.s, entry_angle=angle * u.deg,
                  r_rel=r * u.km, v_rel=v * u.km / u.s)
