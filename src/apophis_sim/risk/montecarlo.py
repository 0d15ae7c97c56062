"""Impact probability by plain Monte Carlo: seeded clones of the solution's covariance,
followed to a horizon on the project's Dask engine (chunks, atomic checksummed Parquet,
resume), each stopped by the integrator where it enters the Earth's or the Moon's radius.

The estimate needs no assumption about how impacts happen (no keyholes, no
linearisation): it is the reference the virtual-impactor search of
:func:`~apophis_sim.risk.impact_probability` is checked against, and the tool for
probabilities above ~1e-4 (N clones resolve IP ~ 3/N at 95 %). Below that it costs
~3/IP propagations where the keyhole search costs a few hundred whatever the IP
(``benchmarks/bench_impacts.py`` counts both).

Impacts of one event (same body, within ``cluster_days`` of each other) form one row,
with its Wilson score interval (Wilson 1927) for the binomial proportion; a run with no
impact reports the 95 % upper bound 1 - 0.05^(1/N) (~3/N) in ``meta``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from astropy.table import QTable
from astropy.time import Time

from ..errors import InputError
from ..solution import OrbitSolution
from ..uncertainty.store import IMPACT_BODIES

__all__ = ["impact_monte_carlo", "wilson_interval"]

_Z95 = 1.959963984540054


def wilson_interval(k, n: int, z: float = _Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (default 95 %) of a binomial proportion k / n.

    Parameters
    ----------
    k : int or array_like
        Successes.
    n : int
        Trials.
    z : float
        Normal quantile of the confidence level (default 1.96, 95 %).

    Returns
    -------
    lo, hi : ndarray
    """
    k = np.asarray(k, dtype=np.float64)
    if not (isinstance(n, (int, np.integer)) and n > 0):
        raise InputError(f"n must be a positive integer, got {n!r}")
    p = k / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    lo = np.where(k == 0, 0.0, np.maximum(centre - half, 0.0))  # exact at the ends
    hi = np.where(k == n, 1.0, np.minimum(centre + half, 1.0))
    return lo, hi


def impact_monte_carlo(solution: OrbitSolution, until: Time, n_clones: int, seed: int, *,
                       bodies: Sequence[str] = ("earth", "moon"), chunk_size: int = 32,
                       out: str | os.PathLike | None = None, scheduler: Any = None,
                       cluster_days: float = 30.0, **run_kwargs) -> QTable:
    """Impact probability of each impact event before ``until``, from ``n_clones``
    seeded clones (plain Monte Carlo with impact detection inside the integrator).

    Parameters
    ----------
    solution : OrbitSolution
        With a covariance.
    until : Time
        Horizon.
    n_clones : int
        Number of clones (> 0).
    seed : int
        Seed of the clones (clone k depends on (seed, k) only: results do not depend
        on chunking, workers or resumption).
    bodies : sequence of {"earth", "moon"}
        Bodies whose surface ends a clone.
    chunk_size, out, scheduler, **run_kwargs
        As in :func:`apophis_sim.uncertainty.run_monte_carlo` (``out`` makes the run
        durable and resumable; ``scheduler="serial"`` runs without Dask;
        ``encounter=False`` for an object without Apophis's 2029 approach, e.g.
        2024 YR4 in ``docs/guide/risk.rst``).
    cluster_days : float
        Impacts on one body closer in time than this are one event (one row).

    Returns
    -------
    QTable
        One row per impact event, by date: ``date`` (TDB, median of the event's
        impacts), ``body``, ``n_impacts``, ``ip`` (= n_impacts / n_clones),
        ``ip_low``, ``ip_high`` (Wilson 95 %). ``meta``: ``n_clones``, ``seed``,
        ``cumulative_ip`` with its interval, ``ip_upper_95`` when nothing hit,
        the run folder and its parameters.
    """
    from ..uncertainty import run_monte_carlo

    if not isinstance(solution, OrbitSolution):
        raise InputError(f"solution must be an OrbitSolution, got {type(solution).__name__}")
    if not isinstance(until, Time):
        raise InputError(f"until must be an astropy Time, got {type(until).__name__}")
    if isinstance(bodies, str):
        bodies = (bodies,)
    if not (isinstance(cluster_days, (int, float)) and math.isfinite(cluster_days)
            and cluster_days > 0):
        raise InputError(f"cluster_days must be a positive number of days, got {cluster_days!r}")
    from ..time import to_jd_tdb

    u1, u2 = to_jd_tdb(until, "until")
    e1, e2 = solution.state.jd_tdb
    ahead = (float(np.ravel(u1)[0]) - float(np.ravel(e1)[0])) \
        + (float(np.ravel(u2)[0]) - float(np.ravel(e2)[0]))
    if np.ndim(u1) or ahead <= 0:
        raise InputError("until must be one date after the solution epoch")
    res = run_monte_carlo(n_clones, seed, solution=solution, chunk_size=chunk_size, out=out,
                          scheduler=scheduler, impacts_until=until, impact_bodies=tuple(bodies),
                          **run_kwargs)
    cols = res.columns
    n = res.n_clones
    if n == 0:
        raise InputError("the run has no finished clone")
    jd = np.asarray(cols["impact_tdb_jd"], dtype=np.float64)
    code = np.asarray(cols["impact_body"], dtype=np.int64)
    rows = []
    for c in range(1, len(IMPACT_BODIES)):
        t = np.sort(jd[code == c])
        if t.size == 0:
            continue
        # events: gaps longer than cluster_days split the sorted impact times
        cuts = np.flatnonzero(np.diff(t) > cluster_days) + 1
        for grp in np.split(t, cuts):
            rows.append((float(np.median(grp)), IMPACT_BODIES[c], int(grp.size)))
    rows.sort()
    k = np.array([r[2] for r in rows], dtype=np.int64)
    lo, hi = wilson_interval(k, n)
    table = QTable()
    table["date"] = Time([r[0] for r in rows], format="jd", scale="tdb")
    table["date"].format = "isot"
    table["body"] = np.array([r[1] for r in rows], dtype="U8")
    table["n_impacts"] = k
    table["ip"] = k / n
    table["ip_low"] = lo
    table["ip_high"] = hi
    total = int(np.count_nonzero(code))
    tlo, thi = wilson_interval(total, n)
    table.meta.update({
        "method": "plain Monte Carlo, impacts detected inside the integrator",
        "n_clones": n, "seed": int(seed), "until": until.tdb.iso,
        "cumulative_ip": total / n, "cumulative_ip_95": [float(tlo), float(thi)],
        "out": str(res.out) if res.out is not None else None,
        "complete": res.complete,
    })
    if total == 0:
        table.meta["ip_upper_95"] = 1.0 - 0.05 ** (1.0 / n)
    return table
