"""Orbit and position plots (matplotlib).

Every function takes a matplotlib ``Axes`` first, draws on it, passes extra
keyword arguments on to the underlying matplotlib call and returns the
``Axes``, so plots compose::

    fig, ax = plt.subplots()
    plot_orbit(ax, apophis_elements, color="C1", label="Apophis")
    plot_position(ax, apophis_state, color="C1")

Coordinates are drawn in au, in the ecliptic J2000 frame by default (the frame
in which the planets' orbits look flat), projected on two of its axes
(x-y: the ecliptic plane seen from its north pole).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import astropy.units as u
import numpy as np
from matplotlib.axes import Axes

from ..elements import Elements
from ..errors import InputError, OrbitTypeError, UnknownNameError
from ..propagate import propagate_grid
from ..state import State
from ..units import DAY, to_canonical

__all__ = ["plot_orbit", "plot_position", "PROJECTIONS"]

#: Valid projections: the two frame axes drawn horizontally and vertically.
PROJECTIONS = ("xy", "xz", "yz")
_AXIS = {"x": 0, "y": 1, "z": 2}


def _projection(projection: str) -> tuple[int, int]:
    if projection not in PROJECTIONS:
        raise UnknownNameError("projection", projection, PROJECTIONS)
    return _AXIS[projection[0]], _AXIS[projection[1]]


def _label_axes(ax: Axes, frame: str, projection: str) -> None:
    """Name the axes (only if nobody has named them yet)."""
    short = {"ecliptic": "ecl", "icrf": "icrf"}[frame]
    if not ax.get_xlabel():
        ax.set_xlabel(f"{projection[0]}$_{{\\rm {short}}}$ [au]")
    if not ax.get_ylabel():
        ax.set_ylabel(f"{projection[1]}$_{{\\rm {short}}}$ [au]")


def _as_state(obj: State | Elements, gm: u.Quantity | None) -> tuple[State, u.Quantity | None]:
    """A State and the GM to propagate it with (an Elements object carries its own GM)."""
    if isinstance(obj, Elements):
        return obj.to_state(), obj.gm
    if isinstance(obj, State):
        return obj, gm
    raise InputError(
        f"expected an apophis_sim State or Elements, got {type(obj).__name__}")


def orbit_track(orbit: State | Elements, *, n_points: int = 721, span: u.Quantity | None = None,
                frame: str = "ecliptic", gm: u.Quantity | None = None) -> np.ndarray:
    """Sample the two-body orbit of a (scalar) State or Elements.

    Parameters
    ----------
    orbit : State or Elements
        A single orbit (batch shape ``()``).
    n_points : int
        Number of samples (equally spaced in time).
    span : Quantity [time], optional
        Time span to sample, centred on the epoch. Default: one orbital period
        starting at the epoch (ellipses only).
    frame : {"ecliptic", "icrf"}
        Frame of the returned coordinates.
    gm : Quantity [length^3/time^2], optional
        GM for a State (default: its centre's DE440 GM); Elements use their own.

    Returns
    -------
    ndarray, shape (n_points, 3)
        Positions [au].

    Raises
    ------
    OrbitTypeError
        ``span`` omitted for an open orbit (e >= 1), which has no period.
    """
    state, gm = _as_state(orbit, gm)
    if state.shape:
        raise InputError(f"orbit_track needs a single orbit, got batch shape {state.shape}")
    if span is None:
        el = Elements.from_state(state, gm=gm)
        if float(el.e) >= 1.0:
            raise OrbitTypeError(
                f"an open orbit (e = {float(el.e):.6g}) has no period: pass span=<time span>, "
                "e.g. span=200 * u.day")
        offsets = np.linspace(0.0, el.period.to_value(DAY), n_points)
    else:
        half = 0.5 * float(to_canonical(span, DAY, "span"))
        offsets = np.linspace(-half, half, n_points)
    track = propagate_grid(state, state.epoch + offsets * u.day, gm=gm).to_frame(frame)
    return np.asarray(track.r_au)


def plot_orbit(ax: Axes, orbit: State | Elements, *, n_points: int = 721,
               span: u.Quantity | None = None, frame: str = "ecliptic", projection: str = "xy",
               gm: u.Quantity | None = None, equal_aspect: bool = True, **kwargs: Any) -> Axes:
    """Draw the two-body orbit of a State or Elements (one or many orbits).

    The orbit is sampled with :func:`~apophis_sim.propagate_grid` over one
    period from the epoch (or over ``span`` centred on the epoch), converted to
    ``frame`` and drawn as a line, projected on two of the frame's axes.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    orbit : State or Elements
        The orbit(s); each element of a batch is drawn as its own line.
    n_points : int
        Samples per orbit.
    span : Quantity [time], optional
        Time span centred on the epoch; required for open orbits.
    frame : {"ecliptic", "icrf"}
        Frame of the drawn coordinates (au).
    projection : {"xy", "xz", "yz"}
        Frame axes drawn horizontally and vertically.
    gm : Quantity [length^3/time^2], optional
        GM for States (Elements carry their own).
    equal_aspect : bool
        Set an equal aspect ratio, so that circles look round.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot` (``color``, ``label``, ...);
        a ``label`` goes on the first line of a batch only.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.
    """
    i, j = _projection(projection)
    state, gm = _as_state(orbit, gm)
    n = int(np.prod(state.shape)) if state.shape else 1
    flat = state if not state.shape else _flatten(state)
    for k in range(n):
        one = flat if not state.shape else flat[k]
        track = orbit_track(one, n_points=n_points, span=span, frame=frame, gm=gm)
        line_kwargs = dict(kwargs)
        if k:
            line_kwargs.pop("label", None)
        ax.plot(track[:, i], track[:, j], **line_kwargs)
    _label_axes(ax, frame, projection)
    if equal_aspect:
        ax.set_aspect("equal", adjustable="datalim")
    return ax


def plot_position(ax: Axes, state: State, *, label: str | None = None, frame: str = "ecliptic",
                  projection: str = "xy", annotate: bool = False,
                  offset_points: Sequence[float] = (6.0, 6.0), **kwargs: Any) -> Axes:
    """Mark the position(s) of a State.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    state : State
        Position(s) to mark (any batch shape), in any frame; converted to ``frame``.
    label : str, optional
        Legend label (and, with ``annotate``, text written next to the marker).
    frame : {"ecliptic", "icrf"}
        Frame of the drawn coordinates (au).
    projection : {"xy", "xz", "yz"}
        Frame axes drawn horizontally and vertically.
    annotate : bool
        Also write ``label`` next to the (first) marker.
    offset_points : (float, float)
        Offset of that text from the marker [points].
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot`; default marker ``"o"`` and no line.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.
    """
    if not isinstance(state, State):
        raise InputError(f"plot_position needs a State, got {type(state).__name__}")
    i, j = _projection(projection)
    r = np.asarray(state.to_frame(frame).r_au).reshape(-1, 3)
    kwargs.setdefault("marker", "o")
    kwargs.setdefault("linestyle", "none")
    ax.plot(r[:, i], r[:, j], label=label, **kwargs)
    if annotate and label:
        ax.annotate(label, (r[0, i], r[0, j]), xytext=tuple(offset_points),
                    textcoords="offset points", fontsize="small")
    _label_axes(ax, frame, projection)
    return ax


def _flatten(state: State) -> State:
    """A batched State as a 1-D batch (State indexing takes one index per dimension)."""
    n = int(np.prod(state.shape))
    jd1, jd2 = (np.broadcast_to(x, state.shape).reshape(n) for x in state.jd_tdb)
    return State.from_arrays(state.r_au.reshape(n, 3), state.v_au_d.reshape(n, 3), jd1, jd2,
                             state.frame, state.centre)
