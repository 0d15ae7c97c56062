"""Planetary-defence figures: the deflection map (impulse per km against lead time)."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from ..errors import InputError

__all__ = ["plot_deflection_map"]


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
        if col not in table.colnames:
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
