"""Plotting helpers (matplotlib only lives here; ``import apophis_sim`` never imports it).

Functions take a matplotlib ``Axes``, draw, and return it; extra keyword
arguments go to the underlying matplotlib call.
"""

from __future__ import annotations

from .flyby import (GEO_RADIUS_KM, plot_bplane, plot_distance_speed, plot_flyby_geometry,
                    plot_ground_track, plot_orbit_change, write_flyby_figures)
from .orbits import PROJECTIONS, orbit_track, plot_orbit, plot_position
from .keyholes import keyhole_band, plot_keyhole_map, plot_keyhole_zoom
from .porkchop import PORKCHOP_QUANTITIES, plot_porkchop, plot_transfer
from .risk import plot_deflection_map, plot_impact_probability
from .sky import plot_observer_distance, plot_sky_track, sky_ellipse
from .uncertainty import (covariance_ellipse, plot_bplane_scatter, plot_distance_band,
                          plot_distance_histogram, plot_uncertainty_growth)

__all__ = ["GEO_RADIUS_KM", "PROJECTIONS", "orbit_track", "plot_bplane", "plot_distance_speed",
           "plot_flyby_geometry", "plot_ground_track", "plot_orbit", "plot_orbit_change",
           "plot_position", "write_flyby_figures"]
__all__ += ["PORKCHOP_QUANTITIES", "plot_porkchop", "plot_transfer"]
__all__ += ["covariance_ellipse", "plot_bplane_scatter", "plot_distance_band",
            "plot_distance_histogram", "plot_uncertainty_growth"]
__all__ += ["plot_deflection_map", "plot_impact_probability"]
__all__ += ["keyhole_band", "plot_keyhole_map", "plot_keyhole_zoom"]
__all__ += ["plot_observer_distance", "plot_sky_track", "sky_ellipse"]
