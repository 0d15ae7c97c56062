"""Figures of a planetary flyby: geometry, distance/speed, B-plane, ground track, orbit change.

Every function takes a matplotlib ``Axes``, draws, and returns it; extra
keyword arguments go to the main matplotlib call.
"""

from __future__ import annotations

from typing import Any

import astropy.units as u
import matplotlib.dates as mdates
import numpy as np
from astropy.time import Time
from matplotlib.axes import Axes
from matplotlib.patches import Circle
from matplotlib.ticker import MaxNLocator

from ..time import quiet_utc
from .orbits import plot_orbit

__all__ = ["GEO_RADIUS_KM", "plot_flyby_geometry", "plot_distance_speed", "plot_bplane",
           "plot_ground_track", "plot_orbit_change", "write_flyby_figures"]

#: Geostationary orbit radius [km] (from Earth's centre).
GEO_RADIUS_KM = 42_164.0
_EARTH_RADIUS_KM = 6378.137


def _utc_datetimes(times: Time):
    # Display only: a label is not worth a leap-second warning (see time.utc_iso).
    with quiet_utc(announce=False):
        return times.utc.to_datetime()


def plot_flyby_geometry(ax: Axes, r_object_km: np.ndarray, *, r_moon_km: np.ndarray | None = None,
                        ca_index: int | None = None, label: str = "Apophis",
                        extent_km: float = 120_000.0, **kwargs: Any) -> Axes:
    """Earth-centred flyby seen from above Earth's north pole (ICRF x-y).

    Draws Earth, the geostationary ring (equatorial, so a true circle here), the
    Moon's path if given, the object's track and its closest approach.

    Parameters
    ----------
    r_object_km : ndarray (N, 3)
        Earth-centred ICRF positions of the object [km].
    r_moon_km : ndarray (M, 3), optional
        Earth-centred ICRF positions of the Moon [km].
    ca_index : int, optional
        Index of the closest approach in ``r_object_km`` (default: minimum distance).
    extent_km : float
        Half-width of the view [km].
    """
    r = np.asarray(r_object_km)
    ax.add_patch(Circle((0, 0), _EARTH_RADIUS_KM, color="tab:blue", zorder=3, label="Earth"))
    ax.add_patch(Circle((0, 0), GEO_RADIUS_KM, fill=False, ls="--", color="0.4",
                        label="geostationary ring (42 164 km)"))
    if r_moon_km is not None:
        ax.plot(r_moon_km[:, 0], r_moon_km[:, 1], color="0.6", lw=1, label="Moon's path")
        ax.plot(*r_moon_km[-1, :2], "o", color="0.6", ms=4)
    kwargs.setdefault("color", "tab:red")
    ax.plot(r[:, 0], r[:, 1], label=label, **kwargs)
    k = int(np.argmin(np.linalg.norm(r, axis=1))) if ca_index is None else ca_index
    dist = float(np.linalg.norm(r[k]))
    ax.plot(*r[k, :2], "o", color=kwargs["color"], ms=5,
            label=f"closest approach, {dist:,.0f} km")
    ax.set_xlim(-extent_km, extent_km)
    ax.set_ylim(-extent_km, extent_km)
    ax.set_aspect("equal")
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.yaxis.set_major_locator(MaxNLocator(5))
    ax.set_xlabel("x (ICRF) [km]")
    ax.set_ylabel("y (ICRF) [km]")
    ax.set_title("Earth-centred flyby, seen from above the north pole")
    ax.legend(loc="lower left", fontsize="small")
    return ax


def plot_distance_speed(ax: Axes, times: Time, distance: u.Quantity, speed: u.Quantity,
                        **kwargs: Any) -> Axes:
    """Distance from Earth's centre and relative speed against UTC time (twin y axes)."""
    dt = _utc_datetimes(times)
    kwargs.setdefault("color", "tab:red")
    ax.plot(dt, distance.to_value(u.km), **kwargs)
    ax.set_ylabel("distance from Earth's centre [km]", color=kwargs["color"])
    ax.axhline(GEO_RADIUS_KM, ls="--", color="0.5", lw=1)
    ax.text(dt[0], GEO_RADIUS_KM, " geostationary ring", va="bottom", fontsize="small",
            color="0.4")
    ax2 = ax.twinx()
    ax2.plot(dt, speed.to_value(u.km / u.s), color="tab:blue")
    ax2.set_ylabel("speed relative to Earth [km/s]", color="tab:blue")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b %H:%M"))
    ax.set_xlabel("time (UTC)")
    ax.set_title("Distance and speed during the flyby")
    for label in ax.get_xticklabels():
        label.set_rotation(30)
        label.set_ha("right")
    return ax


def plot_bplane(ax: Axes, bplane, *, extent_km: float | None = None,
                points: tuple[np.ndarray, np.ndarray] | None = None, **kwargs: Any) -> Axes:
    """The Opik/Valsecchi B-plane (xi horizontal, zeta vertical) with Earth's capture disc.

    Parameters
    ----------
    bplane : apophis_sim.encounter.BPlane
        The nominal encounter.
    points : (xi_km, zeta_km), optional
        Extra points (e.g. Monte Carlo clones) to scatter.
    """
    xi = float(bplane.xi.to_value(u.km))
    zeta = float(bplane.zeta.to_value(u.km))
    rc = float(bplane.capture_radius.to_value(u.km))
    ax.add_patch(Circle((0, 0), rc, color="tab:orange", alpha=0.35,
                        label=f"capture disc (b < {rc:,.0f} km)"))
    ax.add_patch(Circle((0, 0), _EARTH_RADIUS_KM, color="tab:blue", label="Earth"))
    if points is not None:
        ax.scatter(points[0], points[1], s=3, color="0.3", label="clones")
    kwargs.setdefault("color", "tab:red")
    ax.plot([xi], [zeta], "o", label=f"nominal: xi = {xi:,.0f} km, zeta = {zeta:,.0f} km",
            **kwargs)
    ext = extent_km if extent_km is not None else 1.25 * max(abs(xi), abs(zeta), rc)
    ax.set_xlim(-ext, ext)
    ax.set_ylim(-ext, ext)
    ax.set_aspect("equal")
    ax.axhline(0, color="0.8", lw=0.8)
    ax.axvline(0, color="0.8", lw=0.8)
    ax.set_xlabel(r"$\xi$ [km]")
    ax.set_ylabel(r"$\zeta$ [km]")
    ax.set_title("B-plane (Opik/Valsecchi)")
    ax.legend(loc="lower left", fontsize="small")
    return ax


def plot_ground_track(ax: Axes, lon: u.Quantity, lat: u.Quantity, *, times: Time | None = None,
                      mark: int | None = None, **kwargs: Any) -> Axes:
    """Sub-object point track on a longitude/latitude map (plate carree graticule)."""
    lo = lon.to_value(u.deg)
    la = lat.to_value(u.deg)
    # Break the line where it wraps around +-180 deg.
    jumps = np.flatnonzero(np.abs(np.diff(lo)) > 180) + 1
    kwargs.setdefault("color", "tab:red")
    for seg_lo, seg_la in zip(np.split(lo, jumps), np.split(la, jumps)):
        ax.plot(seg_lo, seg_la, **kwargs)
    if times is not None and len(lo) > 1:
        for idx, ha in ((0, "left"), (-1, "right")):
            ax.annotate(f"{_utc_datetimes(times[idx]):%d %b %H:%M}", (lo[idx], la[idx]),
                        textcoords="offset points", xytext=(0, 6), ha=ha, fontsize="small")
    if mark is not None:
        label = "closest approach"
        if times is not None:
            label += f" ({_utc_datetimes(times[mark]):%H:%M} UTC)"
        ax.plot(lo[mark], la[mark], "o", color=kwargs["color"], label=label)
        ax.legend(loc="lower left", fontsize="small")
    ax.set_xlim(-180, 180)
    ax.set_ylim(-90, 90)
    ax.set_xticks(np.arange(-180, 181, 60))
    ax.set_yticks(np.arange(-90, 91, 30))
    ax.grid(True, color="0.85")
    ax.set_xlabel("longitude [deg]")
    ax.set_ylabel("geocentric latitude [deg]")
    ax.set_title("Sub-asteroid point")
    return ax


def plot_orbit_change(ax: Axes, change, earth=None, **kwargs: Any) -> Axes:
    """Heliocentric orbits before and after the flyby (ecliptic x-y), with Earth's."""
    plot_orbit(ax, change.before, color="tab:purple",
               label=f"before ({change.class_before}, a = {change.a_before.to_value(u.au):.3f} au)")
    plot_orbit(ax, change.after, color="tab:red",
               label=f"after ({change.class_after}, a = {change.a_after.to_value(u.au):.3f} au)")
    if earth is not None:
        plot_orbit(ax, earth, color="tab:blue", label="Earth", **kwargs)
    ax.plot([0], [0], "o", color="gold", ms=8)
    ax.set_title("Heliocentric orbit before and after the 2029 flyby")
    ax.legend(loc="lower left", fontsize="small")
    return ax


def write_flyby_figures(analysis, out_dir, *, dpi: int = 120) -> list:
    """Write every flyby figure of an :class:`~apophis_sim.encounter.FlybyAnalysis`
    as PNG into ``out_dir`` (created if needed); return the paths."""
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from ..ephemeris import Ephemeris
    from ..state import State

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []

    def save(fig, name):
        path = out / name
        fig.tight_layout()
        fig.savefig(path, dpi=dpi)
        plt.close(fig)
        paths.append(path)

    a = analysis
    fig, ax = plt.subplots(figsize=(7, 7))
    plot_flyby_geometry(ax, a.track_r_km)
    save(fig, "flyby_geometry.png")

    fig, ax = plt.subplots(figsize=(7, 7))
    plot_flyby_geometry(ax, a.track_r_km, r_moon_km=a.moon_r_km, extent_km=450_000.0)
    ax.set_title("Earth-centred flyby and the Moon's path (same days)")
    save(fig, "flyby_geometry_moon.png")

    fig, ax = plt.subplots(figsize=(9, 4.5))
    plot_distance_speed(ax, a.track_times, np.linalg.norm(a.track_r_km, axis=1) * u.km,
                        np.linalg.norm(a.track_v_km_s, axis=1) * u.km / u.s)
    save(fig, "distance_speed.png")

    fig, ax = plt.subplots(figsize=(7, 7))
    plot_bplane(ax, a.bplane)
    save(fig, "bplane.png")

    fig, ax = plt.subplots(figsize=(10, 5))
    # +-6 h around the approach: farther out the point just circles with Earth's rotation.
    near = np.abs((a.track_times - a.time).to_value(u.day)) <= 0.25
    k = int(np.argmin(np.linalg.norm(a.track_r_km[near], axis=1)))
    plot_ground_track(ax, a.visibility.sub_lon[near], a.visibility.sub_lat[near],
                      times=a.track_times[near], mark=k)
    ax.set_title("Sub-asteroid point, 6 hours either side of closest approach")
    save(fig, "ground_track.png")

    fig, ax = plt.subplots(figsize=(7, 7))
    eph = Ephemeris.open()
    t = a.time.tdb
    r_e, v_e = eph.posvel("earth", t.jd1, t.jd2, centre="sun")
    earth = State(r_e * u.au, v_e * u.au / u.day, t, frame="icrf", centre="sun").to_elements()
    plot_orbit_change(ax, a.change, earth=earth)
    save(fig, "orbit_change.png")
    return paths
