"""Sky-plane plots of an observer ephemeris (:func:`apophis_sim.tables.observer`)."""

from __future__ import annotations

import astropy.units as u
import numpy as np

__all__ = ["plot_sky_track", "plot_observer_distance", "sky_ellipse"]


def sky_ellipse(ra_deg: float, dec_deg: float, smaa_arcsec: float, smia_arcsec: float,
                theta_deg: float, scale: float = 1.0, n: int = 73) -> tuple[np.ndarray, np.ndarray]:
    """Outline (RA, Dec) [deg] of a plane-of-sky ellipse centred on (ra, dec).

    Semi-axes in arcsec, ``theta`` the position angle of the major axis east of north
    (Horizons' convention); ``scale`` multiplies the axes (to make arcsec ellipses
    visible on a degree-scale track). Tangent-plane offsets: RA offset = east / cos(dec).

    Parameters
    ----------
    ra_deg, dec_deg : float
        Centre [deg].
    smaa_arcsec, smia_arcsec : float
        Semi-major and semi-minor axes [arcsec].
    theta_deg : float
        Position angle of the major axis, east of north [deg].
    scale : float
        Magnification of the axes.
    n : int
        Points of the outline.

    Returns
    -------
    ra, dec : ndarray
        [deg].
    """
    s = np.linspace(0.0, 2.0 * np.pi, n)
    th = np.radians(theta_deg)
    a = smaa_arcsec * scale / 3600.0
    b = smia_arcsec * scale / 3600.0
    east = a * np.cos(s) * np.sin(th) + b * np.sin(s) * np.cos(th)
    north = a * np.cos(s) * np.cos(th) - b * np.sin(s) * np.sin(th)
    return ra_deg + east / np.cos(np.radians(dec_deg)), dec_deg + north


def plot_sky_track(ax, table, *, n_ellipses: int = 8, scale: float | None = None,
                   ellipse_kw: dict | None = None, **kwargs):
    """RA/Dec track of an observer table with its 3-sigma plane-of-sky ellipses.

    Parameters
    ----------
    ax : matplotlib Axes
    table : QTable
        From :func:`apophis_sim.tables.observer` (``ra``, ``dec``; ellipses need
        ``smaa_3sig``, ``smia_3sig``, ``theta``).
    n_ellipses : int
        Ellipses drawn at evenly spaced rows.
    scale : float, optional
        Magnification of the ellipses; default such that the largest spans ~3 % of the
        track (stated in the legend).
    ellipse_kw : dict, optional
        Passed to the ellipse ``plot`` calls.
    **kwargs
        Passed to the track's ``ax.plot``.

    Returns
    -------
    ax
    """
    ra = np.degrees(np.unwrap(np.radians(table["ra"].to_value(u.deg))))
    dec = table["dec"].to_value(u.deg)
    kwargs.setdefault("color", "C0")
    kwargs.setdefault("lw", 1.2)
    ax.plot(ra, dec, label=kwargs.pop("label", "astrometric track"), **kwargs)
    if "smaa_3sig" in table.colnames and n_ellipses > 0:
        idx = np.unique(np.linspace(0, len(table) - 1, n_ellipses).round().astype(int))
        smaa = table["smaa_3sig"].to_value(u.arcsec)
        smia = table["smia_3sig"].to_value(u.arcsec)
        theta = table["theta"].to_value(u.deg)
        if scale is None:
            span = max(np.ptp(ra), np.ptp(dec), 1e-6)
            big = max(float(np.max(smaa[idx])) / 3600.0, 1e-12)
            scale = max(1.0, 0.03 * span / big)
        kw = {"color": "C3", "lw": 1.0}
        kw.update(ellipse_kw or {})
        for j, k in enumerate(idx):
            x, y = sky_ellipse(ra[k], dec[k], smaa[k], smia[k], theta[k], scale)
            ax.plot(x, y, label=(f"3-sigma ellipse x{scale:.3g}" if j == 0 else None), **kw)
    if not ax.xaxis_inverted():
        ax.invert_xaxis()  # east to the left, as on the sky
    ax.set_xlabel("RA (ICRF, astrometric) [deg]")
    ax.set_ylabel("Dec [deg]")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_observer_distance(ax, table, **kwargs):
    """Observer distance against time (UTC) with its 3-sigma band when present.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    table : QTable
        From :func:`apophis_sim.tables.observer` (``delta``; ``delta_3sig`` for the
        band).
    **kwargs
        Passed to the distance curve's ``ax.plot``.

    Returns
    -------
    ax
    """
    from ..time import quiet_utc

    with quiet_utc(announce=False):
        x = table["time_utc"].utc.datetime64
    d = table["delta"].to_value(u.km)
    kwargs.setdefault("color", "C0")
    ax.plot(x, d, label=kwargs.pop("label", "distance"), **kwargs)
    if "delta_3sig" in table.colnames:
        s = table["delta_3sig"].to_value(u.km)
        ax.fill_between(x, d - s, d + s, alpha=0.3, color=kwargs["color"], label="3-sigma")
    ax.set_xlabel("time (UTC)")
    ax.set_ylabel("distance [km]")
    ax.legend(loc="best", fontsize="small")
    ax.figure.autofmt_xdate()
    return ax
