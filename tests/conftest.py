"""Shared fixtures, reference data and hypothesis strategies for the apophis_sim tests.

Property tests are *seeded*: the hypothesis profile below derandomises example
generation (the examples depend only on the test's source), so a failure is
reproducible on every machine and CI run. Set ``HYPOTHESIS_PROFILE=explore`` to
search with fresh random examples instead.

Test modules import the strategies and helpers with ``from conftest import ...``
(pytest's default "prepend" import mode puts ``tests/`` on ``sys.path``).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from astropy.time import Time
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# ---------------------------------------------------------------------------
# hypothesis profiles
# ---------------------------------------------------------------------------
settings.register_profile(
    "seeded",
    derandomize=True,  # deterministic examples: a red CI run is reproducible locally
    database=None,  # ... and not influenced by a local example database
    deadline=None,  # first calls compile numba kernels (or load them from cache)
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("explore", parent=settings.get_profile("seeded"),
                          derandomize=False, max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "seeded"))

# ---------------------------------------------------------------------------
# constants and reference data (see /work/shared/reference/apophis.md)
# ---------------------------------------------------------------------------
#: 1 au in km (IAU 2012 B2, exact) and in metres.
AU_KM = 149_597_870.700
AU_M = AU_KM * 1e3
#: Seconds per day.
DAY_S = 86_400.0
#: GM of the Sun used by JPL SBDB orbit solutions [au^3/day^2].
GM_SUN_SBDB = 2.9591220828411951e-04

#: JPL SBDB orbit solution #220 of (99942) Apophis: heliocentric ICRF state.
JPL220_EPOCH_JD_TDB = 2459215.5
JPL220_R_AU = np.array([-4.098530841632175e-01, 9.070198866066711e-01, 3.267919471115156e-01])
JPL220_V_AU_D = np.array([-1.507552412168823e-02, -3.713559927658847e-03,
                          -1.761867987218290e-03])
#: ... and its ecliptic-J2000 elements at the same epoch (angles in degrees).
JPL220_ELEMENTS = dict(
    q_au=0.7458270478466523,
    e=0.1915216893501022,
    tp_jd_tdb=2459101.039422462638,
    raan_deg=204.0389272089208,
    argp_deg=126.6520518368553,
    inc_deg=3.336751320066756,
)


@pytest.fixture
def rng() -> np.random.Generator:
    """A fixed-seed generator for vectorised (non-hypothesis) random workloads."""
    return np.random.default_rng(20290413)


@pytest.fixture
def epoch_2029() -> Time:
    """2029-01-01 00:00 TDB, a typical epoch for this library."""
    return Time(2462137.5, format="jd", scale="tdb")


# ---------------------------------------------------------------------------
# helpers on canonical float arrays (au, day, au^3/day^2)
# ---------------------------------------------------------------------------
def specific_energy(r: np.ndarray, v: np.ndarray, mu: float) -> np.ndarray:
    """Two-body specific orbital energy v^2/2 - mu/r [au^2/day^2], shape (...)."""
    return 0.5 * np.sum(v * v, axis=-1) - mu / np.linalg.norm(r, axis=-1)


def energy_scale(r: np.ndarray, v: np.ndarray, mu: float) -> np.ndarray:
    """Size of the terms whose difference is the energy, v^2/2 + mu/r.

    Energy is a difference of two such terms, so float64 can only conserve it
    relative to this scale; near e = 1 the energy itself is ~0 and a ratio to it
    would be meaningless.
    """
    return 0.5 * np.sum(v * v, axis=-1) + mu / np.linalg.norm(r, axis=-1)


def angular_momentum(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Specific angular momentum vector r x v [au^2/day], shape (..., 3)."""
    return np.cross(r, v)


def angle_diff(a, b) -> np.ndarray:
    """Smallest signed difference a - b between angles [rad], in (-pi, pi]."""
    d = np.mod(np.asarray(a) - np.asarray(b) + np.pi, 2.0 * np.pi) - np.pi
    return d


# ---------------------------------------------------------------------------
# hypothesis strategies: classical elements (q [au], e, inc, raan, argp, nu [rad])
# ---------------------------------------------------------------------------
_finite = dict(allow_nan=False, allow_infinity=False)
angles_2pi = st.floats(0.0, 2.0 * np.pi, exclude_max=True, **_finite)
q_au = st.floats(0.05, 10.0, **_finite)
inclinations = st.floats(0.0, np.pi, **_finite)


@st.composite
def conic_elements(draw, kind: str) -> tuple[float, ...]:
    """Draw (q, e, inc, raan, argp, nu) for one family of orbits.

    kind
        ``"ellipse"`` (0 <= e <= 0.99), ``"near_parabolic"`` (|e - 1| <= 1e-6),
        ``"hyperbola"`` (1 + 1e-6 <= e <= 10), ``"near_circular"`` (e <= 1e-6,
        including exactly 0), ``"near_equatorial"`` (i or pi - i <= 1e-6,
        including exactly 0 and pi), ``"retrograde"`` (90 < i <= 180 deg).

    For open orbits nu stays at most 90 % of the way to the asymptote
    (1 + e cos nu > 0 is required, and the last 10 % is astronomically far away);
    near-parabolic orbits keep |nu| <= 2.8 rad (r <= ~35 q).
    """
    q = draw(q_au)
    raan = draw(angles_2pi)
    argp = draw(angles_2pi)
    inc = draw(inclinations)
    if kind == "ellipse":
        e = draw(st.floats(0.0, 0.99, **_finite))
    elif kind == "near_parabolic":
        e = 1.0 + draw(st.floats(-1e-6, 1e-6, **_finite))
    elif kind == "hyperbola":
        e = draw(st.floats(1.0 + 1e-6, 10.0, **_finite))
    elif kind == "near_circular":
        e = draw(st.one_of(st.just(0.0), st.floats(1e-16, 1e-6, **_finite)))
    elif kind == "near_equatorial":
        e = draw(st.floats(0.0, 0.99, **_finite))
        tilt = draw(st.one_of(st.just(0.0), st.floats(1e-16, 1e-6, **_finite)))
        inc = tilt if draw(st.booleans()) else np.pi - tilt
    elif kind == "retrograde":
        e = draw(st.floats(0.0, 0.99, **_finite))
        inc = draw(st.floats(np.pi / 2, np.pi, exclude_min=True, **_finite))
    else:  # pragma: no cover - test-suite misuse
        raise ValueError(kind)
    if kind == "near_parabolic":
        # r <= ~35 q: beyond that an e = 1 - 1e-6 orbit is ~1e4 au out, a million
        # years from periapsis, where tp carries no meaningful digits.
        nu = draw(st.floats(-2.8, 2.8, **_finite))
    elif e < 1.0:
        nu = draw(st.floats(-np.pi, np.pi, **_finite))
    else:
        nu_max = 0.9 * np.arccos(-1.0 / e)
        nu = draw(st.floats(-nu_max, nu_max, **_finite))
    return q, e, inc, raan, argp, nu


ORBIT_KINDS = ("ellipse", "near_parabolic", "hyperbola", "near_circular", "near_equatorial",
               "retrograde")


@pytest.fixture(scope="session")
def point_mass_tables():
    """Ephemeris tables with every body fixed at the origin and only the Sun's GM: a pure
    Kepler problem for the compiled integrator, -> (tabs, gm)."""
    from apophis_sim.bodies import GM_SUN

    nbody = 11
    coef = np.zeros(2 * 3)
    seg_i = np.array([[0, 1, 2]], dtype=np.int64)
    seg_f = np.array([[2400000.5, 400000.0]])
    chain = np.full((nbody, 4), -1, dtype=np.int64)
    chain[:, 0] = 0
    gm = np.zeros(nbody)
    gm[0] = GM_SUN
    return (coef, seg_i, seg_f, chain), gm
