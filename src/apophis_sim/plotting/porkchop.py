"""Porkchop and transfer plots (matplotlib).

``plot_porkchop(ax, pc)`` draws filled contours of launch C3 (or total delta-v,
or arrival v_inf) over the departure x arrival grid of a
:class:`~apophis_sim.rendezvous.Porkchop`, with time-of-flight lines, launch
windows outlined and the best point marked; dates are on both axes (UTC).
``plot_transfer(ax, pc, cell)`` draws the chosen heliocentric transfer arc with the
orbits of its two ends. Both take an ``Axes``, draw, pass ``**kwargs`` on and
return the ``Axes``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import astropy.units as u
import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from ..errors import InputError, UnknownNameError
from ..propagate import propagate_grid
from .._deprecation import renamed_value
from ..rendezvous import _RENAMED_QUANTITIES, KM2_S2, KM_S, LaunchWindow, Porkchop
from ..state import State
from ..time import quiet_utc, to_jd_tdb, utc_iso
from ..units import AU, DAY
from .orbits import _label_axes, _projection, orbit_track

__all__ = ["PORKCHOP_QUANTITIES", "plot_porkchop", "plot_transfer"]

#: quantity -> (Porkchop attribute, unit, colour-bar label).
PORKCHOP_QUANTITIES = {
    "c3": ("c3", KM2_S2, r"launch C$_3$ [km$^2$/s$^2$]"),
    "total_dv": ("total_dv", KM_S, r"total $\Delta v$ = $\sqrt{C_3}$ + $v_{\infty,\rm arr}$ [km/s]"),
    "v_inf_arrival": ("v_inf_arrival", KM_S, r"arrival $v_\infty$ (rendezvous $\Delta v$) [km/s]"),
}
#: matplotlib's date number is days since 1970-01-01T00:00 (JD 2440587.5).
_MPL_EPOCH_JD = 2440587.5


def _datenum(t) -> np.ndarray:
    """matplotlib date numbers of the UTC calendar dates of ``t`` (display only)."""
    to_jd_tdb(t)  # the usual type check
    with quiet_utc(announce=False):
        utc = t.utc
        return (np.asarray(utc.jd1) - _MPL_EPOCH_JD) + np.asarray(utc.jd2)


def _title(name: str) -> str:
    return name.capitalize() if name.islower() else name


def _cell(pc: Porkchop, cell: tuple[int, int] | LaunchWindow | None) -> tuple[int, int]:
    if cell is None:
        return pc.best("total_dv")
    if isinstance(cell, LaunchWindow):
        return cell.index
    try:
        i, j = (int(k) for k in cell)
    except (TypeError, ValueError):
        raise InputError(f"cell must be an (i, j) index pair or a LaunchWindow, got {cell!r}"
                         ) from None
    return i, j


def plot_porkchop(ax: Axes, pc: Porkchop, quantity: str = "c3", *,
                  windows: Sequence[LaunchWindow] | None = None,
                  best: tuple[int, int] | LaunchWindow | bool | None = None,
                  levels: Sequence[float] | int | None = None, vmax: float | None = None,
                  tof_step: u.Quantity | None = 50 * u.day, feasible: np.ndarray | None = None,
                  colorbar: bool = True, **kwargs: Any) -> Axes:
    """Filled contours of a porkchop quantity over launch x arrival dates.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    pc : Porkchop
        From :func:`apophis_sim.rendezvous.porkchop`.
    quantity : {"c3", "total_dv", "v_inf_arrival"}
        Filled quantity: C3 [km^2/s^2], total delta-v or arrival v_inf [km/s].
    windows : sequence of LaunchWindow, optional
        Outlined as rectangles (launch interval x arrival span of their
        feasible cells) and numbered by rank.
    best : (i, j), LaunchWindow or True, optional
        Point marked with a star (True: the grid's least total delta-v).
    levels : int or sequence of float, optional
        Contour levels (default ~14 levels from the minimum to ``vmax``).
    vmax : float, optional
        Top of the colour scale in the quantity's unit; cells above it are grey
        (cells without a transfer stay white) and the view is cropped to the cells
        under it (default: the 20th percentile of the finite values, which keeps
        the low-cost valleys readable).
    tof_step : Quantity [time], optional
        Spacing of the time-of-flight lines (default 50 days; None: no lines).
    feasible : ndarray of bool (N, M), optional
        A mask (e.g. :func:`~apophis_sim.rendezvous.feasible_cells`) whose
        boundary is drawn as a dashed line.
    colorbar : bool
        Add a colour bar to the figure.
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.contourf` (e.g. ``cmap``).

    Returns
    -------
    matplotlib.axes.Axes
    """
    quantity = renamed_value(quantity, _RENAMED_QUANTITIES, "plot_porkchop() quantity")
    if quantity not in PORKCHOP_QUANTITIES:
        raise UnknownNameError("porkchop quantity", quantity, PORKCHOP_QUANTITIES)
    attr, unit, label = PORKCHOP_QUANTITIES[quantity]
    z = getattr(pc, attr).to_value(unit).T  # (M, N): rows are arrivals (y)
    x = _datenum(pc.departure)
    y = _datenum(pc.arrival)
    finite = z[np.isfinite(z)]
    if finite.size == 0:
        raise InputError("the porkchop holds no transfer: nothing to plot")
    lo = float(finite.min())
    hi = float(vmax) if vmax is not None else float(np.percentile(finite, 20))
    if hi <= lo:
        hi = lo + 1.0
    if levels is None or isinstance(levels, int):
        from matplotlib.ticker import MaxNLocator

        levels = MaxNLocator(levels or 14).tick_values(lo, hi)
    import matplotlib as mpl
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    cmap = mpl.colormaps[kwargs.pop("cmap", "viridis")] if isinstance(
        kwargs.get("cmap", "viridis"), str) else kwargs.pop("cmap")
    over = "0.80"
    cmap = cmap.with_extremes(over=over)
    # No transfer: masked (white); above the colour limit: grey (the colour bar's arrow).
    zm = np.ma.masked_invalid(z)
    cs = ax.contourf(x, y, zm, levels=levels, cmap=cmap, extend="max", **kwargs)
    if colorbar:
        ax.figure.colorbar(cs, ax=ax, label=label, extend="max", pad=0.02)
    handles = []
    # Crop to the cells under the colour limit (plus a margin): the rest is no information.
    low = np.isfinite(z) & (z <= hi)
    if low.any():
        jj, ii = np.nonzero(low)
        dx = max(3.0, 0.06 * (x[ii.max()] - x[ii.min()]))
        dy = max(3.0, 0.06 * (y[jj.max()] - y[jj.min()]))
        x0, x1 = max(x[0], x[ii.min()] - dx), min(x[-1], x[ii.max()] + dx)
        y0, y1 = max(y[0], y[jj.min()] - dy), min(y[-1], y[jj.max()] + 2.5 * dy)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
    xl, yl = ax.get_xlim(), ax.get_ylim()
    if tof_step is not None:
        step = float(tof_step.to_value(DAY))
        tof = pc.tof.to_value(DAY).T
        tof_levels = np.arange(step, float(tof.max()) + step, step)
        if tof_levels.size:
            cl = ax.contour(x, y, tof, levels=tof_levels, colors="0.45", linewidths=0.6,
                            linestyles="dotted")
            # Labels placed by hand, well inside the frame (automatic ones get clipped).
            spots, used = [], []
            for lev in tof_levels:
                xs = np.linspace(xl[0], xl[1], 200)
                ys = xs + lev
                inside = ((xs > xl[0] + 0.08 * (xl[1] - xl[0])) & (xs < xl[1] - 0.08 * (xl[1] - xl[0]))
                          & (ys > yl[0] + 0.08 * (yl[1] - yl[0])) & (ys < yl[1] - 0.12 * (yl[1] - yl[0])))
                if inside.any():
                    k = np.flatnonzero(inside)[len(np.flatnonzero(inside)) // 2]
                    spots.append((xs[k], ys[k]))
                    used.append(lev)
            if spots:
                ax.clabel(cl, levels=used, manual=spots, fmt=lambda v: f"{v:.0f} d", fontsize=7,
                          inline_spacing=2)
            handles.append(Line2D([], [], color="0.45", lw=0.8, ls="dotted",
                                  label="time of flight [d]"))
    if feasible is not None:
        f = np.asarray(feasible, dtype=float).T
        if f.shape != z.shape:
            raise InputError(f"feasible must have the porkchop's shape {pc.shape}, "
                             f"got {f.T.shape}")
        if 0 < f.sum() < f.size:
            ax.contour(x, y, f, levels=[0.5], colors="k", linewidths=1.0, linestyles="dashed")
            handles.append(Line2D([], [], color="k", lw=1.0, ls="dashed",
                                  label="boundary of the feasible cells"))
    for rank, w in enumerate(windows or (), start=1):
        x0, x1 = x[w.rows[0]], x[w.rows[1]]
        y0, y1 = y[w.columns[0]], y[w.columns[1]]
        ax.add_patch(Rectangle((x0, y0), max(x1 - x0, 0.5), max(y1 - y0, 0.5), fill=False,
                               edgecolor="red", linewidth=1.4, zorder=4))
        ax.annotate(f"#{rank}", (x0, y0), xytext=(-3, 3), textcoords="offset points",
                    ha="right", va="bottom", color="red", fontsize=9, fontweight="bold",
                    zorder=5, bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none",
                                        alpha=0.7))
    if windows:
        handles.append(Patch(fill=False, edgecolor="red", linewidth=1.4,
                             label="launch windows, by rank"))
    if best is not None and best is not False:
        i, j = _cell(pc, None if best is True else best)
        handles.insert(0, ax.plot(
            x[i], y[j], marker="*", markersize=15, color="gold", markeredgecolor="k",
            linestyle="none", zorder=6,
            label=f"best: C3 {pc.c3[i, j].to_value(KM2_S2):.1f} km$^2$/s$^2$, "
                  f"$\\Delta v$ {pc.total_dv[i, j].to_value(KM_S):.2f} km/s")[0])
    handles.append(Patch(facecolor=over, label="above the colour limit"))
    handles.append(Patch(facecolor="white", edgecolor="0.6", label="no transfer"))
    # Lower right: below the diagonal, where arrivals precede launches (no transfer).
    ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.9)
    for axis in (ax.xaxis, ax.yaxis):
        loc = mdates.AutoDateLocator(minticks=4, maxticks=9)
        axis.set_major_locator(loc)
        axis.set_major_formatter(mdates.ConciseDateFormatter(loc))
    if not ax.get_xlabel():
        ax.set_xlabel(f"launch date (UTC), from {_title(pc.origin)}")
    if not ax.get_ylabel():
        ax.set_ylabel(f"arrival date (UTC), at {_title(pc.target)}")
    if not ax.get_title():
        ax.set_title(f"{_title(pc.origin)} → {_title(pc.target)}: {label.split(' [')[0]}", fontsize=10)
    return ax


def plot_transfer(ax: Axes, pc: Porkchop, cell: tuple[int, int] | LaunchWindow | None = None,
                  *, frame: str = "ecliptic", projection: str = "xy", n_points: int = 400,
                  orbits: bool = True, **kwargs: Any) -> Axes:
    """Heliocentric plot of one transfer of a porkchop with the orbits of both ends.

    The transfer arc is the Kepler arc from the origin's position with the
    Lambert departure velocity, sampled over the time of flight with
    :func:`~apophis_sim.propagate_grid`; the orbits are the osculating two-body
    orbits of the origin at departure and of the target at arrival (one period
    each).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    pc : Porkchop
        Source grid.
    cell : (i, j) or LaunchWindow, optional
        Which transfer (default: the grid's least total delta-v).
    frame : {"ecliptic", "icrf"}
        Frame of the drawing (default ecliptic J2000: the orbits look flat).
    projection : {"xy", "xz", "yz"}
        Axes of that frame drawn horizontally and vertically.
    n_points : int
        Samples along the arc.
    orbits : bool
        Also draw the two ends' orbits, the Sun and the end points.
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.plot` for the transfer arc.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InputError
        The cell holds no transfer.
    """
    a, b = _projection(projection)
    i, j = _cell(pc, cell)
    sc = pc.transfer(i, j)
    tof = float(pc.tof[i, j].to_value(DAY))
    arc = propagate_grid(sc, sc.epoch + np.linspace(0.0, tof, n_points) * u.day,
                         gm=pc.gm).to_frame(frame).r_au
    if orbits:
        jd = to_jd_tdb(pc.departure[i])
        ja = to_jd_tdb(pc.arrival[j])
        ends = (
            (State.from_arrays(pc.r_departure[i].to_value(AU),
                               pc.v_departure[i].to_value(u.au / u.day), *jd, "icrf", "sun"),
             _title(pc.origin), "C0"),
            (State.from_arrays(pc.r_arrival[j].to_value(AU),
                               pc.v_arrival[j].to_value(u.au / u.day), *ja, "icrf", "sun"),
             _title(pc.target), "C1"),
        )
        for st, name, colour in ends:
            track = orbit_track(st, frame=frame, gm=pc.gm)
            ax.plot(track[:, a], track[:, b], color=colour, linewidth=0.9, label=f"{name} orbit")
        # The Sun in yellow with a dark edge: not the target's orange (C1).
        ax.plot(0.0, 0.0, marker="o", color="gold", markeredgecolor="0.3", markersize=10,
                linestyle="none", label="Sun")
        ax.plot(arc[0, a], arc[0, b], marker="o", color="C0", linestyle="none",
                label=f"launch {utc_iso(pc.departure[i])[:10]} (UTC)")
        ax.plot(arc[-1, a], arc[-1, b], marker="s", color="C1", linestyle="none",
                label=f"arrival {utc_iso(pc.arrival[j])[:10]} (UTC)")
    kwargs.setdefault("color", "C3")
    kwargs.setdefault("linewidth", 1.8)
    kwargs.setdefault("label", f"transfer: {tof:.0f} d, C3 {pc.c3[i, j].to_value(KM2_S2):.1f} "
                               f"km$^2$/s$^2$, arrival $v_\\infty$ "
                               f"{pc.v_inf_arrival[i, j].to_value(KM_S):.2f} km/s")
    ax.plot(arc[:, a], arc[:, b], **kwargs)
    ax.set_aspect("equal", adjustable="datalim")
    _label_axes(ax, frame, projection)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=2, fontsize=7,
              frameon=False)
    return ax
