"""Plotting helpers (matplotlib only lives here; ``import apophis_sim`` never imports it).

Functions take a matplotlib ``Axes``, draw, and return it; extra keyword
arguments go to the underlying matplotlib call.
"""

from __future__ import annotations

from .orbits import PROJECTIONS, orbit_track, plot_orbit, plot_position

__all__ = ["PROJECTIONS", "orbit_track", "plot_orbit", "plot_position"]
