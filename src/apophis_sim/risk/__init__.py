"""Planetary-defence tools: deflection (impulses, kinetic impactors, B-plane shifts)."""

from __future__ import annotations

from .deflection import Deflection, deflect, deflection_map, kinetic_impactor_dv, rtn_basis

__all__ = ["Deflection", "deflect", "deflection_map", "kinetic_impactor_dv", "rtn_basis"]
