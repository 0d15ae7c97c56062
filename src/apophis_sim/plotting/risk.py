"""Planetary-defence figures: the deflection map (impulse per km against lead time) and
the impact probability of each virtual impactor by year."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from ..errors import InputError

__all__ = ["plot_deflection_map", "plot_impact_probability"]


def plot_deflection_map(ax: Axes, table, **kwargs) -> Axes:
    """Impulse [mm/s] needed to change the encounter distance by 1 km, against the lead
    time [days before the encounter], one curve per direction (R, T, N), log scale.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    table : QTable
        From :func:`apophis_sim.risk.deflection_map`.
    **kwargs
        Passed to ``ax.plot``.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.
    """
    import astropy.units as u

    for col in ("lead_time", "direction", "dv_per_km"):
        if col not in getattr(table, "colnames", ()):
            raise InputError(f"table must come from risk.deflection_map (missing {col!r})")
    colours = {"R": "tab:blue", "T": "tab:red", "N": "tab:green"}
    names = {"R": "radial", "T": "along-track (transverse)", "N": "normal"}
    for d in ("R", "T", "N"):
        sel = np.asarray(table["direction"]) == d
        if not np.any(sel):
            continue
        lead = table["lead_time"][sel].to_value(u.day)
        dv = table["dv_per_km"][sel].to_value(u.mm / u.s / u.km)
        order = np.argsort(lead)
        ax.plot(lead[order], dv[order], marker="o", ms=3, color=colours[d], label=names[d],
                **kwargs)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("lead time before the encounter [days]")
    ax.set_ylabel("impulse per km of miss distance [mm/s per km]")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def plot_impact_probability(ax: Axes, table, *, floor_log10: float = -7.0,
                            label_resonances: bool = True, years: tuple | None = None) -> Axes:
    """Impact probability of each virtual impactor against its year, as log10 IP.

    A log10 axis (not a log axis) so that IPs of 1e-300 and far below, which a double
    cannot hold, are drawn where they are. Earth and Moon impacts get their own
    markers.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    table : QTable
        From :func:`apophis_sim.risk.impact_probability`.
    floor_log10 : float
        A dashed line at this log10 IP (default -7: the smallest IP monitoring systems
        report).
    label_resonances : bool
        Label each point with its resonance and IP.
    years : (float, float), optional
        Horizontal range (default: the searched span in the table's meta, else the
        impacts' years with a margin).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.
    """
    for col in ("date", "log10_ip", "body", "resonance"):
        if col not in getattr(table, "colnames", ()):
            raise InputError(f"table must come from risk.impact_probability (missing {col!r})")
    if years is None:
        years = _searched_years(table)
    if years is not None:
        ax.set_xlim(*years)
    if len(table):
        years = table["date"].tdb.decimalyear
        lg = np.asarray(table["log10_ip"], dtype=float)
        style = {"earth": ("o", "tab:blue"), "moon": ("s", "tab:grey")}
        for body, (marker, colour) in style.items():
            sel = np.asarray(table["body"]) == body
            if np.any(sel):
                ax.vlines(years[sel], np.minimum(lg[sel].min(), floor_log10) - 1, lg[sel],
                          color=colour, alpha=0.35, lw=1)
                ax.plot(years[sel], lg[sel], marker, color=colour, ms=5, ls="none",
                        label=f"virtual impactor ({body})")
        if label_resonances:
            for y, v, res in zip(years, lg, np.asarray(table["resonance"])):
                ip = f"IP {10 ** v:.2g}" if v > -300 else f"IP 1e{v:.0f}"
                ax.annotate(f"{res}  {ip}", (y, v), textcoords="offset points",
                            xytext=(5, 4), fontsize=7)
        low = min(float(lg.min()), floor_log10)
        high = max(float(lg.max()), 0.0)
        pad = 0.06 * (high - low) + 0.5
        ax.set_ylim(low - pad, high + pad)
    ax.axhline(floor_log10, color="tab:red", ls="--", lw=1,
               label=f"IP = 1e{floor_log10:g} (monitoring floor)")
    ax.set_xlabel("year of the impact")
    ax.set_ylabel("log10 impact probability")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", loc="center left")
    return ax


def _searched_years(table) -> tuple[float, float] | None:
    """(first, last) decimal years of the search: the encounter to ``until`` (meta)."""
    from astropy.time import Time

    try:
        t0 = Time(str(table.meta["encounter_utc"]).replace(" UTC", ""), scale="tdb")  # ~1 min
        t1 = Time(str(table.meta["until"]).replace(" UTC", ""), scale="tdb")
        return float(t0.decimalyear) - 1.0, float(t1.decimalyear) + 1.0
    except (KeyError, ValueError, TypeError):
        return None
