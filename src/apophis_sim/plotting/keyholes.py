"""Keyhole figures on the encounter b-plane (from a :func:`apophis_sim.risk.keyholes` table).

Every function takes a matplotlib ``Axes`` first, draws, passes extra keyword
arguments on to the main matplotlib call and returns the ``Axes``::

    tab = keyholes(apophis(), Time("2100-01-01", scale="tdb"))
    fig, (a, b, c) = plt.subplots(1, 3)
    plot_keyhole_map(a, tab)
    plot_keyhole_zoom(b, tab)                      # the nominal and its ellipses
    plot_keyhole_zoom(c, tab, centre=row_of_2036)  # same scale: the keyhole band

Axes are Valsecchi's b-plane coordinates xi (horizontal) and zeta (vertical), km.
"""

from __future__ import annotations

import math

import astropy.units as u
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Circle, Polygon
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ..encounter import capture_radius
from ..errors import InputError
from ..risk import valsecchi as _vs
from .uncertainty import covariance_ellipse

__all__ = ["plot_keyhole_map", "plot_keyhole_zoom", "keyhole_band"]


def _meta(table) -> dict:
    need = ("nominal_xi_km", "nominal_zeta_km", "bplane_covariance_km2", "lov_slope_dxi_dzeta",
            "opik")
    missing = [k for k in need if k not in table.meta]
    if missing:
        raise InputError(f"table lacks meta {missing}: pass the QTable of "
                         "apophis_sim.risk.keyholes(...)")
    return table.meta


def _year(row) -> str:
    return row["return_date"].tdb.datetime.strftime("%Y")


def plot_keyhole_map(ax: Axes, table, *, body_radius_km: float = 6378.137,
                     label_resonance: bool = True, **kwargs) -> Axes:
    """The whole b-plane: the body, its gravitationally focused disc (for the nominal
    v_inf), the nominal, the LOV across the searched window, and every keyhole of
    ``table`` marked and labelled by its return year (and ``k:h``).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    table : QTable
        From :func:`apophis_sim.risk.keyholes` (its ``meta`` carries the LOV).
    body_radius_km : float
        Radius of the body drawn [km] (default Earth's, 6378.137 km).
    label_resonance : bool
        Add ``k:h`` to the year labels.
    **kwargs
        Passed to the keyhole markers (``ax.scatter``).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.
    """
    m = _meta(table)
    xi0, z0 = m["nominal_xi_km"], m["nominal_zeta_km"]
    vinf = m["opik"]["v_inf_km_s"]
    bc = float(capture_radius(m.get("body", "earth"), vinf * u.km / u.s).to_value(u.km))
    ax.add_patch(Circle((0, 0), bc, color="C0", alpha=0.15, lw=0,
                        label=f"focused disc b_c = {bc:,.0f} km"))
    body = str(m.get("body", "earth")).capitalize()
    ax.add_patch(Circle((0, 0), body_radius_km, color="C0", alpha=0.6, lw=0, label=body))
    w = m.get("window_km", 2000.0)
    zz = np.array([z0 - w, z0 + w])
    ax.plot(z0 * 0 + xi0 + m["lov_slope_dxi_dzeta"] * (zz - z0), zz, color="0.4", lw=0.8,
            label="line of variations (searched)")
    sol_id = str(m.get("solution", "")).replace("JPL#", "JPL #")
    ax.plot([xi0], [z0], "k+", ms=10, mew=1.5,
            label=f"nominal ({sol_id})" if sol_id else "nominal")
    if len(table):
        xi = table["xi"].to_value(u.km)
        ze = table["zeta"].to_value(u.km)
        kw = {"s": 22, "c": "C3", "zorder": 5, "label": "keyholes (impact)"}
        kw.update(kwargs)
        ax.scatter(xi, ze, **kw)
        order = np.argsort(ze)
        for j, i in enumerate(order):
            row = table[i]
            text = _year(row) + (f" ({row['resonance']})" if label_resonance else "")
            dx = 1 if j % 2 == 0 else -1
            ax.annotate(text, (xi[i], ze[i]), xytext=(8 * dx, 0), textcoords="offset points",
                        fontsize=6, va="center", ha="left" if dx > 0 else "right")
    lim = max(abs(z0) + w, bc) * 1.08
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.xaxis.set_major_locator(MaxNLocator(5, symmetric=True))
    ax.yaxis.set_major_locator(MaxNLocator(7, symmetric=True))
    ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.set_xlabel("xi [km]")
    ax.set_ylabel("zeta [km]")
    ax.legend(fontsize=6, loc="lower left")
    return ax


def _thousands(value: float, _pos=None) -> str:
    """Tick label with thousands separators and a true minus sign."""
    return f"{value:,.0f}".replace("-", "\N{MINUS SIGN}")


def _offset_label(name: str, value: float) -> str:
    """``zeta + 181,345.130 [km]`` for an axis centred on ``value`` (no double minus)."""
    sign = "\N{MINUS SIGN}" if value >= 0 else "+"
    return f"{name} {sign} {abs(value):,.3f} [km]"


def keyhole_band(table, index: int, half_length_km: float = 50.0,
                 n_points: int = 101) -> np.ndarray:
    """Outline (n, 2) [km] of keyhole ``index`` drawn as the band between two arcs
    of its resonant circle's family (centre on the zeta axis at the calibrated
    Valsecchi centre ``D``) through the numerical edges; ``half_length_km`` along
    the arc either side of the LOV crossing. A drawing aid: only the crossing with
    the LOV is computed numerically.

    Parameters
    ----------
    table : QTable
        From :func:`apophis_sim.risk.keyholes`.
    index : int
        Row of the keyhole.
    half_length_km : float
        Arc length either side of the LOV crossing [km].
    n_points : int
        Points per arc.

    Returns
    -------
    ndarray (n, 2)
        (xi, zeta) [km].
    """
    m = _meta(table)
    row = table[index]
    enc = _vs.OpikEncounter(**m["opik"])
    d, _ = _vs.valsecchi_circle(enc, int(row["k"]), int(row["h"]),
                                _vs.SIDEREAL_YEAR_DAYS * m.get("period_calibration", 1.0))
    xi = float(row["xi"].to_value(u.km))
    ze = float(row["zeta"].to_value(u.km))
    half_w = 0.5 * float(row["width"].to_value(u.km))
    if not math.isfinite(d):
        d = ze + 1e9  # no circle: straight band
    out = []
    for z_edge, sense in ((ze - half_w, 1), (ze + half_w, -1)):
        r = math.hypot(xi, z_edge - d)
        a0 = math.atan2(z_edge - d, xi)
        da = half_length_km / r
        ang = np.linspace(a0 - da, a0 + da, n_points)[::sense]
        out.append(np.stack([r * np.cos(ang), d + r * np.sin(ang)], axis=-1))
    return np.vstack(out)


def plot_keyhole_zoom(ax: Axes, table, *, centre: int | None = None, half_width_km: float = 4.0,
                      n_sigma=(1.0, 3.0), **kwargs) -> Axes:
    """A zoom of ``2 half_width_km`` on a side (equal scales), centred on the nominal
    (``centre=None``: its 1/3-sigma ellipses and the LOV) or on keyhole row
    ``centre`` (its band, to scale, and the LOV). Draw both with the same
    ``half_width_km`` to compare a ~600 m keyhole with a ~3 km ellipse.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    table : QTable
        From :func:`apophis_sim.risk.keyholes`.
    centre : int, optional
        Keyhole row to centre on (default: the nominal).
    half_width_km : float
        Half-width of the view [km].
    n_sigma : sequence of float
        Ellipses drawn around the nominal (in sigmas).
    **kwargs
        Passed to the keyhole band (``Polygon``).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.
    """
    m = _meta(table)
    xi0, z0 = m["nominal_xi_km"], m["nominal_zeta_km"]
    slope = m["lov_slope_dxi_dzeta"]
    if centre is None:
        cx, cz = xi0, z0
        cov = np.asarray(m["bplane_covariance_km2"])
        for ns, ls in zip(n_sigma, ("-", "--", ":")):
            e = covariance_ellipse((xi0, z0), cov, ns)
            ax.plot(e[:, 0] - cx, e[:, 1] - cz, "C3", ls=ls, lw=1, label=f"{ns:g} sigma")
        ax.plot([0], [0], "k+", ms=10, mew=1.5, label="nominal")
        year = str(m.get("encounter_utc", ""))[:4]
        title = f"nominal {year} b-plane point".replace("  ", " ")
    else:
        row = table[centre]
        cx, cz = float(row["xi"].to_value(u.km)), float(row["zeta"].to_value(u.km))
        band = keyhole_band(table, centre, half_length_km=3 * half_width_km)
        kw = {"color": "C3", "alpha": 0.7, "lw": 0,
              "label": f"{row['resonance']} keyhole, {row['width'].to_value(u.m):.0f} m"}
        kw.update(kwargs)
        ax.add_patch(Polygon(band - [cx, cz], closed=True, **kw))
        title = (f"{_year(row)} keyhole, {row['distance'].to_value(u.km):+,.0f} km "
                 f"({row['sigma_lov']:+,.0f} sigma) from the nominal")
    zz = np.array([-half_width_km, half_width_km]) + cz
    ax.plot(xi0 + slope * (zz - z0) - cx, zz - cz, color="0.4", lw=0.8, label="LOV")
    ax.set_xlim(-half_width_km, half_width_km)
    ax.set_ylim(-half_width_km, half_width_km)
    ax.set_aspect("equal")
    ax.set_xlabel(_offset_label("xi", cx))
    ax.set_ylabel(_offset_label("zeta", cz))
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=6, loc="upper right")
    return ax
