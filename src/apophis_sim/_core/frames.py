"""Rotations between ICRF (equatorial) and ecliptic J2000 axes (float64 core).

The ecliptic frame is the one JPL uses for osculating elements of small bodies
(SBDB, Horizons): ICRF rotated about +x by the IAU 1976 obliquity of J2000,
epsilon = 84381.448 arcsec. The ~20 mas ICRF/J2000 frame bias is not applied,
exactly as JPL does not apply it for these elements.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["OBLIQUITY_J2000_RAD", "ECL_FROM_ICRF", "ICRF_FROM_ECL", "rotate"]

OBLIQUITY_J2000_RAD = 84381.448 / 3600.0 * math.pi / 180.0

_c = math.cos(OBLIQUITY_J2000_RAD)
_s = math.sin(OBLIQUITY_J2000_RAD)
#: x_ecl = ECL_FROM_ICRF @ x_icrf
ECL_FROM_ICRF = np.array([[1.0, 0.0, 0.0], [0.0, _c, _s], [0.0, -_s, _c]])
#: x_icrf = ICRF_FROM_ECL @ x_ecl
ICRF_FROM_ECL = np.ascontiguousarray(ECL_FROM_ICRF.T)
ECL_FROM_ICRF.setflags(write=False)
ICRF_FROM_ECL.setflags(write=False)


def rotate(matrix: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Apply a 3x3 rotation to vectors stored on the last axis of ``x`` (shape ``(..., 3)``)."""
    return x @ matrix.T
