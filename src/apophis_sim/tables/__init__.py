"""Horizons-grade tables: close approaches with uncertainties (CAD / APPROACH)."""

from __future__ import annotations

from .approaches import approaches, bplane_ellipse, linear_impact_probability, sigma_to_disc

__all__ = ["approaches", "bplane_ellipse", "linear_impact_probability", "sigma_to_disc"]
