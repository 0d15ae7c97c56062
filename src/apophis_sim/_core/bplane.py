"""Osculating flyby hyperbola and B-plane axes (float64 core, any consistent units).

For a body-centred state (r, v) and the body's GM mu:

* v_inf^2 = v^2 - 2 mu / r (> 0 for a flyby; the caller checks), a = -mu / v_inf^2,
  eccentricity vector e = ((v^2 - mu/r) r - (r.v) v) / mu, perigee q = |a| (e - 1);
* incoming asymptote S = (e_hat + sqrt(e^2 - 1) (h_hat x e_hat)) / e, the perifocal
  velocity direction at true anomaly -arccos(-1/e);
* impact parameter b = |h| / v_inf, B vector = b (S x h_hat).

Axes of the B-plane (the plane through the body perpendicular to S):

* Opik / Valsecchi (Valsecchi et al. 2003, A&A 408, 1179): zeta opposite to the
  projection of the body's heliocentric velocity, xi = S x zeta;
* Kizner: T = S x N / |S x N| for a reference pole N, R = S x T.
"""

from __future__ import annotations

import numpy as np

__all__ = ["hyperbola_arrays", "bplane_axes"]


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def hyperbola_arrays(r: np.ndarray, v: np.ndarray, mu: float) -> dict[str, np.ndarray]:
    """Elements of the osculating hyperbola and the B vector (arrays over ``(..., 3)``).

    Returns a dict with ``e``, ``q``, ``a``, ``v_inf``, ``b`` and the unit vectors
    ``s_hat`` (incoming asymptote), ``h_hat``, ``e_hat``, and ``b_vec`` (the B vector).
    Assumes a hyperbolic state (v^2 > 2 mu / r).
    """
    rn = np.linalg.norm(r, axis=-1)
    v2 = np.sum(v * v, axis=-1)
    vinf2 = v2 - 2.0 * mu / rn
    vinf = np.sqrt(vinf2)
    h = np.cross(r, v)
    hn = np.linalg.norm(h, axis=-1)
    h_hat = h / hn[..., None]
    evec = ((v2 - mu / rn)[..., None] * r - np.sum(r * v, axis=-1)[..., None] * v) / mu
    e = np.linalg.norm(evec, axis=-1)
    e_hat = evec / e[..., None]
    s_hat = (e_hat + np.sqrt(e * e - 1.0)[..., None] * np.cross(h_hat, e_hat)) / e[..., None]
    a = -mu / vinf2
    b = hn / vinf
    return {"e": e, "q": -a * (e - 1.0), "a": a, "v_inf": vinf, "b": b, "s_hat": s_hat,
            "h_hat": h_hat, "e_hat": e_hat,
            "b_vec": b[..., None] * _unit(np.cross(s_hat, h_hat))}


def bplane_axes(s_hat: np.ndarray, body_velocity: np.ndarray,
                pole: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Unit vectors (xi, zeta, T, R) of the B-plane of asymptote ``s_hat``."""
    proj = body_velocity - np.sum(body_velocity * s_hat, axis=-1, keepdims=True) * s_hat
    zeta_hat = -_unit(proj)
    xi_hat = np.cross(s_hat, zeta_hat)
    t_hat = _unit(np.cross(s_hat, np.broadcast_to(pole, s_hat.shape)))
    r_hat = np.cross(s_hat, t_hat)
    return xi_hat, zeta_hat, t_hat, r_hat
