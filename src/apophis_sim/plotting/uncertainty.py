"""Monte Carlo figures: B-plane scatter with covariance ellipses, distance histogram.

Every function takes a matplotlib ``Axes`` first, draws, passes extra keyword
arguments to the main matplotlib call and returns the ``Axes``::

    res = run_monte_carlo(500, seed=1)
    fig, (a, b) = plt.subplots(1, 2)
    plot_bplane_scatter(a, res.columns["xi_km"], res.columns["zeta_km"])
    plot_distance_histogram(b, res.columns["distance_km"], reference_range_km=(38008.181, 38014.737))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes

from ..errors import InputError, ShapeMismatchError

__all__ = ["covariance_ellipse", "plot_bplane_scatter", "plot_distance_band",
           "plot_distance_histogram", "plot_uncertainty_growth"]


def covariance_ellipse(mean: Sequence[float], cov: np.ndarray, n_sigma: float = 3.0,
                       n_points: int = 361) -> np.ndarray:
    """Points of the ``n_sigma`` ellipse ``(x - m)^T C^-1 (x - m) = n_sigma^2`` of a 2-D Gaussian.

    Parameters
    ----------
    mean : (2,) sequence
        Centre (any unit, e.g. km).
    cov : array_like (2, 2)
        Covariance (unit squared), symmetric positive semi-definite.
    n_sigma : float
        Scale of the ellipse in standard deviations (> 0). For a 2-D Gaussian the
        1/2/3-sigma ellipses hold 39.3 / 86.5 / 98.9 % of the points.
    n_points : int
        Number of points on the closed curve.

    Returns
    -------
    ndarray (n_points, 2)

    Raises
    ------
    ShapeMismatchError, InputError
        Wrong shapes, n_sigma <= 0, or a covariance with a negative eigenvalue.
    """
    c = np.asarray(cov, dtype=np.float64)
    m = np.asarray(mean, dtype=np.float64)
    if c.shape != (2, 2) or m.shape != (2,):
        raise ShapeMismatchError(f"need mean (2,) and cov (2, 2), got {m.shape} and {c.shape}")
    if not n_sigma > 0:
        raise InputError(f"n_sigma must be positive, got {n_sigma}")
    w, v = np.linalg.eigh(0.5 * (c + c.T))
    if w[0] < -1e-12 * abs(w[-1]):
        raise InputError("cov is not positive semi-definite")
    ang = np.linspace(0.0, 2.0 * np.pi, n_points)
    circle = np.stack([np.cos(ang), np.sin(ang)], axis=-1)
    return m + n_sigma * (circle * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def plot_bplane_scatter(ax: Axes, xi_km: np.ndarray, zeta_km: np.ndarray, *,
                cov_km2: np.ndarray | None = None, n_sigma: Sequence[float] = (1.0, 3.0),
                relative: bool = True, ellipse_color: str = "C3", **kwargs) -> Axes:
    """Scatter of clones on the B-plane with covariance ellipses.

    Parameters
    ----------
    ax : matplotlib Axes
    xi_km, zeta_km : array_like (n,)
        B-plane coordinates of the clones [km] (Öpik/Valsecchi axes, see
        :func:`apophis_sim.uncertainty.bplane_coordinates`).
    cov_km2 : array_like (2, 2), optional
        Covariance of (xi, zeta) [km^2] for the ellipses, e.g. from the linear
        mapping; default the sample covariance of the points.
    n_sigma : sequence of float
        Ellipses to draw (default 1 and 3 sigma).
    relative : bool
        Plot offsets from the mean [km] (the mean is written in the axis labels):
        the cloud is ~km wide at ~48 000 km from Earth.
    ellipse_color : str
    **kwargs
        Passed to ``ax.scatter`` (defaults: ``s=6``, ``alpha=0.6``).

    Returns
    -------
    Axes
    """
    x = np.asarray(xi_km, dtype=np.float64)
    z = np.asarray(zeta_km, dtype=np.float64)
    if x.shape != z.shape or x.ndim != 1 or x.size < 2:
        raise ShapeMismatchError(f"xi_km and zeta_km must be 1-D of equal length >= 2, got "
                                 f"{x.shape} and {z.shape}")
    mean = np.array([x.mean(), z.mean()])
    cov = np.cov(np.stack([x, z])) if cov_km2 is None else np.asarray(cov_km2, dtype=np.float64)
    off = mean if relative else np.zeros(2)
    kwargs.setdefault("s", 6)
    kwargs.setdefault("alpha", 0.6)
    kwargs.setdefault("label", f"{x.size} clones")
    ax.scatter(x - off[0], z - off[1], **kwargs)
    styles = ("-", "--", ":", "-.")
    for j, k in enumerate(n_sigma):
        pts = covariance_ellipse(mean - off, cov, k)
        ax.plot(pts[:, 0], pts[:, 1], color=ellipse_color, ls=styles[j % len(styles)], lw=1.2,
                label=f"{k:g}$\\sigma$ ellipse")
    ax.plot([0.0 if relative else mean[0]], [0.0 if relative else mean[1]], "+",
            color=ellipse_color, ms=10)
    if relative:
        ax.set_xlabel(f"$\\xi - {mean[0]:.1f}$ km")
        ax.set_ylabel(f"$\\zeta - {mean[1]:.1f}$ km")
    else:
        ax.set_xlabel(r"$\xi$ [km]")
        ax.set_ylabel(r"$\zeta$ [km]")
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_distance_histogram(ax: Axes, distance_km: np.ndarray, *, bins: int | str = "auto",
                            reference_range_km: tuple[float, float] | None = None,
                            reference_label: str = "JPL #220 3$\\sigma$ range",
                            **kwargs) -> Axes:
    """Histogram of close-approach distances with the sample mean +/- 3 sigma.

    Parameters
    ----------
    ax : matplotlib Axes
    distance_km : array_like (n,)
        Geocentric close-approach distances [km].
    bins : int or str
        Passed to ``ax.hist``.
    reference_range_km : (float, float), optional
        A published range to mark (e.g. JPL's 38 008.181 - 38 014.737 km).
    reference_label : str
    **kwargs
        Passed to ``ax.hist`` (defaults: ``color="C0"``, ``alpha=0.7``).

    Returns
    -------
    Axes
    """
    d = np.asarray(distance_km, dtype=np.float64)
    if d.ndim != 1 or d.size < 2:
        raise ShapeMismatchError(f"distance_km must be 1-D with >= 2 values, got {d.shape}")
    kwargs.setdefault("color", "C0")
    kwargs.setdefault("alpha", 0.7)
    kwargs.setdefault("label", f"{d.size} clones")
    counts, _, _ = ax.hist(d, bins=bins, **kwargs)
    m, s = d.mean(), d.std(ddof=1)
    # The marker lines stop a little above the tallest bar; the legend sits above them
    # (full-height lines ran under the legend and hid the mean).
    top = 1.08 * float(np.max(counts))
    ax.plot([m, m], [0, top], color="k", lw=1.0, label=f"mean {m:.3f} km")
    for x in (m - 3 * s, m + 3 * s):
        ax.plot([x, x], [0, top], color="k", ls="--", lw=1.0)
    ax.plot([], [], "k--", label=f"mean $\\pm$ 3$\\sigma$ ($\\sigma$ = {s:.3f} km)")
    if reference_range_km is not None:
        for x in reference_range_km:
            ax.plot([x, x], [0, top], color="C3", ls=":", lw=1.5)
        ax.plot([], [], ":", color="C3", label=reference_label)
    ax.set_xlabel("close-approach distance from Earth's centre [km]")
    ax.set_ylabel("clones")
    ax.set_ylim(0, top * 1.45)
    ax.legend(loc="upper center", ncols=2, fontsize="small")
    return ax


def plot_uncertainty_growth(ax: Axes, times, rtn_sigma_km: np.ndarray, *,
                            events: Sequence[tuple[object, str]] = (), **kwargs) -> Axes:
    """1-sigma position uncertainty along radial, transverse and normal directions
    against time (log scale), from :meth:`StateCovariance.rtn_sigma`.

    Parameters
    ----------
    ax : Axes
    times : astropy.time.Time, shape (T,)
        Shown as UTC calendar dates.
    rtn_sigma_km : array_like (T, 3)
        Radial, transverse (along-track), normal sigma [km].
    events : sequence of (Time, label)
        Vertical markers (e.g. the 2029 flyby).
    **kwargs
        Passed to ``ax.plot`` for every curve.
    """
    from ..time import utc_iso

    s = np.asarray(rtn_sigma_km, dtype=np.float64)
    if s.ndim != 2 or s.shape[1] != 3 or s.shape[0] != len(times):
        raise ShapeMismatchError(f"rtn_sigma_km must be (T, 3) with T = len(times) = "
                                 f"{len(times)}, got {s.shape}")
    if not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise InputError("rtn_sigma_km must be positive and finite (a log axis)")
    dates = np.array(utc_iso(times), dtype="datetime64[ms]")
    for k, (label, colour) in enumerate((("radial", "tab:blue"), ("along-track", "tab:red"),
                                         ("normal", "tab:green"))):
        ax.plot(dates, s[:, k], color=colour, label=label, **kwargs)
    ax.set_yscale("log")
    top = s.max()
    for when, text in events:
        d = np.array(utc_iso(when), dtype="datetime64[ms]")
        ax.axvline(d, color="0.4", lw=0.8, ls="--")
        ax.annotate(text, (d, top), xytext=(4, -4), textcoords="offset points", ha="left",
                    va="top", fontsize="small", color="0.3")
    _concise_dates(ax)
    ax.set_ylabel("1-sigma position uncertainty [km]")
    ax.set_xlabel("date (UTC)")
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(True, which="major", alpha=0.3)
    return ax


def plot_distance_band(ax: Axes, times, distance_km: np.ndarray, sigma_km: np.ndarray, *,
                       n_sigma: float = 3.0, body: str = "Earth", ax_sigma: Axes | None = None,
                       **kwargs) -> Axes:
    """Distance to a body against time with its ``n_sigma`` band (linear mapping).

    Parameters
    ----------
    ax : Axes
    times : astropy.time.Time, shape (T,)
        Shown as UTC calendar dates.
    distance_km, sigma_km : array_like (T,)
        Nominal distance and its 1-sigma uncertainty [km].
    n_sigma : float
        Half-width of the band in sigmas (default 3, as JPL's CAD).
    body : str
        Body name for the axis label (default ``"Earth"``).
    ax_sigma : Axes, optional
        Also draw the band's half-width ``n_sigma * sigma`` [km] here (the band is
        often invisible next to the distance itself: km against 1e5 km).
    **kwargs
        Passed to ``ax.plot`` for the nominal curve.
    """
    from ..time import utc_iso

    d = np.asarray(distance_km, dtype=np.float64)
    s = np.asarray(sigma_km, dtype=np.float64)
    if d.shape != (len(times),) or s.shape != d.shape:
        raise ShapeMismatchError(f"distance_km and sigma_km must have shape ({len(times)},), "
                                 f"got {d.shape} and {s.shape}")
    if not (np.all(np.isfinite(d)) and np.all(np.isfinite(s)) and np.all(s >= 0)):
        raise InputError("distance_km and sigma_km must be finite, sigma_km >= 0")
    if not n_sigma > 0:
        raise InputError(f"n_sigma must be positive, got {n_sigma}")
    dates = np.array(utc_iso(times), dtype="datetime64[ms]")
    kwargs.setdefault("color", "tab:blue")
    ax.fill_between(dates, d - n_sigma * s, d + n_sigma * s, color=kwargs["color"], alpha=0.25,
                    lw=0, label=f"{n_sigma:g}-sigma band")
    ax.plot(dates, d, label="nominal", **kwargs)
    ax.set_ylabel(f"distance from {body} [km]")
    ax.legend(loc="best", fontsize="small")
    ax.grid(True, alpha=0.3)
    _concise_dates(ax)
    if ax_sigma is not None:
        _concise_dates(ax_sigma)
        ax_sigma.plot(dates, n_sigma * s, color=kwargs["color"])
        ax_sigma.set_ylabel(f"{n_sigma:g}-sigma [km]")
        ax_sigma.set_xlabel("date (UTC)")
        ax_sigma.grid(True, alpha=0.3)
    else:
        ax.set_xlabel("date (UTC)")
    return ax


def _concise_dates(ax: Axes) -> None:
    """Date ticks that stay legible from hours to decades (matplotlib's concise format)."""
    import matplotlib.dates as mdates

    loc = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
