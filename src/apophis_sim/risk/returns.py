"""Keyholes of close returns: impacts that come after an intermediate close approach.

:func:`~apophis_sim.risk.keyholes` finds the impacts at the *first* resonant return
from an encounter. A return that misses the planet but passes close to it is itself
an encounter, with keyholes of its own (Valsecchi et al. 2003 sec. 7; the "keyholes
of keyholes" of Milani et al. 2005): an orbit through one of them hits the planet at
a later return. :func:`return_keyholes` searches them:

1. the close returns: :func:`~apophis_sim.risk.keyholes` with
   ``return_distance_max`` (default 0.01 au, which is also the largest distance at
   which :func:`~apophis_sim.risk.line_of_variations` takes an approach for an
   encounter) gives every stretch of the line of variations (LOV) of the first
   encounter whose return passes closer than that;
2. for each, the orbit of the stretch's centre (on the LOV, the solution's
   covariance kept) and the LOV of *its* return: the constrained LOV of that
   encounter's b-plane, through that orbit;
3. :func:`~apophis_sim.risk.keyholes` on the return's b-plane, over the stretch
   (the whole of it that returns closer than the limit: up to ``return_distance_max``
   either side of the centre along the return's zeta), to ``until``, with the same
   n-body refinement; keyholes whose return-plane point lies inside the capture disc
   are dropped (those orbits hit the planet at the first return, which
   :func:`~apophis_sim.risk.impact_probability` counts already);
4. each remaining keyhole as a virtual impactor: its centre orbit, its distance
   from the nominal in the covariance metric (``sigma``: the chi of its parameter
   offset), its impact probability linearised at it over the whole covariance (as
   :func:`~apophis_sim.risk.impact_probability` does), and the integrator's own
   confirmation that it hits (``confirmed``).

The LOV of the return is a straight line in parameter space through the centre
orbit, not the continuation of the first encounter's LOV; for an object whose
uncertainty is dominated by one direction (along-track, as for Apophis) the two
agree closely, and the probability is computed with the full covariance anyway.
"""

from __future__ import annotations

import math

import astropy.units as u
import numpy as np
from astropy.table import QTable
from astropy.time import Time

from .. import bodies as _bodies
from ..encounter import capture_radius
from ..errors import InputError
from ..solution import OrbitSolution
from ..uncertainty.sampling import covariance_distance
from ..units import to_canonical
from .impact_point import first_impact
from .keyholes import _moved, keyholes, line_of_variations

__all__ = ["return_keyholes"]

_LN10 = math.log(10.0)
#: Half-width [day] of the span in which a return's encounter is looked for.
_SPAN_DAYS = 30.0


#: Orbits sampled between a return keyhole's edges to place its virtual impactor, and
#: how many times the scan zooms on the deepest one.
_N_SAMPLES = 9
_ZOOMS = 3


def _deepest(solution, lov_r, s_lo, s_hi, t_ret, body, kwargs, t_via, radius_km):
    """The orbit on the return LOV between a keyhole's edges that passes closest to
    ``body`` at the return ``t_ret``: its parameters, that distance and its distance at
    the close return ``t_via`` [km]; (None, nan, nan) if none returns.

    The secondary keyhole's b-plane is far from linear in the LOV parameter: its
    edges (b' = b_c) can bracket orbits that miss, and the impacting part can be much
    narrower than the edges' span. So the interval is scanned with ``_N_SAMPLES`` + 2
    orbits, then the scan zooms on the deepest one's neighbours, ``_ZOOMS`` times (a
    resolution of 1/10^3 of the span), stopping once an orbit passes within half the
    body's radius (point masses)."""
    from ..nbody import close_approaches
    from ..uncertainty import clone_states

    best_s, best_d, best_via = None, math.inf, math.nan
    lo, hi = s_lo, s_hi
    for _ in range(_ZOOMS):
        s = np.linspace(lo, hi, _N_SAMPLES + 2)
        p = lov_r.parameters(s)
        states, ng = clone_states(solution, p)
        tab = close_approaches(states, t_ret + 30 * u.day, bodies=(body,),
                               distance_max=0.3 * u.au, nongrav=ng,
                               nongrav_model=solution.nongrav_model, impacts=False,
                               progress=False, **kwargs)
        jd = tab["time"].tdb.jd1 + tab["time"].tdb.jd2
        dist_all = tab["distance"].to_value(u.km)
        dist = np.where(np.abs(jd - t_ret.jd) < _SPAN_DAYS, dist_all, np.inf)
        part = np.asarray(tab["particle"])
        best = np.full(len(s), np.inf)
        np.minimum.at(best, part, dist)
        k = int(np.argmin(best))
        if not np.isfinite(best[k]):
            break
        if best[k] < best_d:
            mine = (part == k) & (np.abs(jd - t_via.jd) < _SPAN_DAYS)
            best_s, best_d = float(s[k]), float(best[k])
            best_via = float(np.min(dist_all[mine])) if mine.any() else math.nan
        if best_d < 0.5 * radius_km:
            break
        step = s[1] - s[0]
        lo, hi = s[k] - step, s[k] + step
    if best_s is None:
        return None, math.nan, math.nan
    return lov_r.parameters(best_s)[0], best_d, best_via


def _centre_and_lov(solution, lov, candidates, span, kwargs):
    """The first of the LOV points ``candidates`` whose orbit has a b-plane at the
    return (the return's LOV through it); re-raises the last failure."""
    err = None
    for s in candidates:
        centre = _moved(solution, lov.parameters(s)[0])
        try:
            return centre, line_of_variations(centre, encounter=span, **kwargs)
        except Exception as exc:  # noqa: PERF203 (a few tries)
            err = exc
    raise err


def return_keyholes(solution: OrbitSolution, until: Time = Time("2100-01-01", scale="tdb"),
                    *, encounter: Time | None = None,
                    return_distance_max: u.Quantity = 0.01 * u.au,
                    window: u.Quantity = 2000 * u.km, max_k: int | None = None,
                    returns: QTable | None = None, forces=None, ephemeris=None,
                    epsilon: float | None = None) -> QTable:
    """Impact keyholes of the close returns (impacts after an intermediate approach).

    See the module docstring for the method.

    Parameters
    ----------
    solution : OrbitSolution
        With its covariance (e.g. :func:`apophis_sim.apophis`).
    until : Time
        Horizon: impacts before this date.
    encounter : Time, optional
        The first encounter, as in :func:`keyholes` (default: Apophis's 2029 flyby,
        the closest approach within 0.01 au before 2029-04-20 TDB; a pair
        ``Time([start, end])``: the closest within that span).
    return_distance_max : Quantity [length]
        Follow the returns closer than this (centre to centre; default 0.01 au, the
        most an encounter may be for :func:`line_of_variations`).
    window : Quantity [length]
        Half-width of the first encounter's LOV searched for close returns (as in
        :func:`keyholes`; default 2000 km).
    max_k : int, optional
        Only returns within ``max_k`` years of each encounter.
    returns : QTable, optional
        :func:`keyholes`'s table of this solution with ``return_distance_max`` (to reuse
        a search already made); default: search now.
    forces, ephemeris, epsilon
        As in :func:`apophis_sim.nbody.close_approaches`.

    Returns
    -------
    QTable
        One row per keyhole of a close return that leads to an impact, sorted by
        impact date: ``via_date`` (TDB, the close return), ``via_resonance`` (its k:h
        from the first encounter), ``via_distance`` [km] (the virtual impactor's
        closest distance at that return), ``return_date`` (the impact's return), ``body``,
        ``resonance`` (k:h counted from the close return), ``xi``, ``zeta`` [km] (the
        keyhole on the close return's b-plane), ``width`` [m] (along that zeta),
        ``sigma`` (the virtual impactor's distance from the nominal in the
        covariance metric, sqrt(dp^T C^-1 dp), signed like the first encounter's
        zeta offset), ``ip``, ``log10_ip`` (linearised over the full covariance),
        ``v_impact`` [km/s], ``return_distance`` [km] (the virtual impactor's closest
        distance at the return, point masses: below the body's radius for an impact),
        ``confirmed`` (the virtual impactor, integrated on with impact detection,
        enters the body), ``impact_time``. ``meta``: the close returns followed,
        the returns that could not be followed and why, and every resonance the
        searches left without a keyhole (``no_keyhole``).

    Raises
    ------
    InputError
        ``returns`` is not a close-return table of :func:`keyholes`; a
        non-positive distance.
    """
    from .impacts import _vi_log_ip  # the VI probability of impact_probability

    if not isinstance(solution, OrbitSolution):
        raise InputError(f"solution must be an OrbitSolution, got {type(solution).__name__}")
    dmax = float(to_canonical(return_distance_max, u.km, "return_distance_max"))
    if not dmax > 0:
        raise InputError(f"return_distance_max must be positive, got {return_distance_max}")
    kwargs = {k: v for k, v in (("forces", forces), ("ephemeris", ephemeris),
                                ("epsilon", epsilon)) if v is not None}
    if returns is None:
        returns = keyholes(solution, until, encounter=encounter,
                           return_distance_max=dmax * u.km, window=window,
                           max_k=max_k, classify=False, **kwargs)
    elif "_rows" not in returns.meta or "return closer than" not in str(
            returns.meta.get("criterion", "")):
        raise InputError("returns must be keyholes()'s table made with return_distance_max")
    lov = line_of_variations(solution, encounter=encounter, **kwargs)
    cov = np.asarray(solution.covariance, dtype=np.float64)
    p0 = lov.nominal
    rows: list[dict] = []
    followed: list[str] = []
    not_followed: list[str] = []
    no_keyhole: list[str] = []
    not_confirmed: list[str] = []
    t_end = until.tdb.jd
    for i in range(len(returns)):
        t_r = returns["return_date"][i].tdb
        label = f"{returns['resonance'][i]} return {t_r.iso[:10]}"
        if t_r.jd + _SPAN_DAYS >= t_end:
            not_followed.append(f"{label}: at the horizon")
            continue
        s_c = float(returns.meta["_rows"][i]["_s_centre"])
        edges = returns.meta["_rows"][i].get("_s_edges", (s_c, s_c))
        quarter = 0.25 * abs(float(edges[1]) - float(edges[0]))
        span = Time([t_r.jd - _SPAN_DAYS, t_r.jd + _SPAN_DAYS], format="jd", scale="tdb")
        try:
            # The stretch's centre, or a quarter of the stretch either side when the
            # centre orbit cannot serve (it dives through the planet: no b-plane).
            centre, lov_r = _centre_and_lov(solution, lov, (s_c, s_c - quarter,
                                                             s_c + quarter), span, kwargs)
            # The stretch of the return's b-plane closer than the limit, from the centre
            # orbit's own xi' there (the table's xi_return is the mean of the stretch's
            # edges, far apart when the limit is wide).
            half = math.sqrt(max(dmax * dmax - lov_r.xi_km ** 2, 0.0))
            kh = keyholes(centre, until, encounter=span, max_k=max_k, classify=False,
                          window=max(min(half, 50.0 * lov_r.sigma_zeta_km), 1.0) * u.km,
                          **kwargs)
        except Exception as exc:  # a return the machinery cannot follow: say why
            not_followed.append(f"{label}: {type(exc).__name__}: {exc}")
            continue
        followed.append(f"{label} at {lov_r.distance_km:,.0f} km")
        no_keyhole.extend(f"via {label}: {s}" for s in kh.meta.get("no_keyhole", []))
        b_c = float(capture_radius(lov_r.body, lov_r.opik.v_inf_km_s * u.km / u.s)
                    .to_value(u.km))
        radius = (_bodies.EARTH_RADIUS_WGS84_KM if lov_r.body == "earth"
                  else _bodies.MOON_RADIUS_KM)  # what the integrator's detection uses
        for j in range(len(kh)):
            xi = float(kh["xi"][j].to_value(u.km))
            zeta = float(kh["zeta"][j].to_value(u.km))
            if math.hypot(xi, zeta) < b_c:
                continue  # hits at the close return itself: the first-return keyhole
            # The keyhole's centre in the search's own LOV parameter: the middle of its
            # converged edges (exact), not its measured zeta mapped back through the
            # linear LOV, nor the secant's first estimate of the centre (far off where
            # the return's b-plane is far from linear in the parameters).
            s_lo, s_hi = kh.meta["_rows"][j]["_s_edges"]
            p_vi, d_min, d_via = _deepest(solution, lov_r, float(s_lo), float(s_hi),
                                          kh["return_date"][j].tdb, str(kh["body"][j]),
                                          kwargs, t_r, radius)
            what = (f"via {label}: {kh['resonance'][j]} return "
                    f"{kh['return_date'][j].tdb.iso[:10]}")
            if p_vi is None:
                not_confirmed.append(f"{what}: no orbit between the keyhole's edges "
                                     "reaches the return")
                continue
            if not d_min < radius:
                not_confirmed.append(f"{what}: the closest of the orbits scanned between "
                                     f"the keyhole's edges passes at {d_min:,.0f} km (point "
                                     f"masses), outside the {radius:,.0f} km radius")
                continue
            vi = _moved(solution, p_vi)
            dp = p_vi - p0
            chi = covariance_distance(cov, dp)
            sign = math.copysign(1.0, float(lov.jacobian[1] @ dp))
            res = _vi_log_ip(solution, lov, vi, p_vi, kh, j, kwargs)
            hit = first_impact(vi, kh["return_date"][j].tdb + 60 * u.day,
                               bodies=(str(kh["body"][j]),), **kwargs)
            rows.append({
                "via_date": t_r.jd, "via_resonance": str(returns["resonance"][i]),
                "via_distance": d_via,
                "return_date": kh["return_date"][j].tdb.jd, "body": str(kh["body"][j]),
                "resonance": str(kh["resonance"][j]), "xi": xi, "zeta": zeta,
                "width": float(kh["width"][j].to_value(u.m)), "sigma": sign * chi,
                "log_ip": res[0] if res is not None else math.nan,
                "v_impact": float(kh["v_impact"][j].to_value(u.km / u.s)),
                "distance_min": d_min,
                "confirmed": hit is not None,
                "impact_time": hit.time.tdb.jd if hit is not None else
                kh["return_date"][j].tdb.jd,
            })
    rows.sort(key=lambda r: r["return_date"])
    t = QTable()
    n = len(rows)

    def col(name, dtype=float):
        return np.array([r[name] for r in rows], dtype=dtype)

    def times(name):
        t_ = Time(col(name) if n else np.zeros(0), format="jd", scale="tdb")
        t_.format = "iso"
        return t_

    t["via_date"] = times("via_date")
    t["via_resonance"] = col("via_resonance", "U8")
    t["via_distance"] = col("via_distance") * u.km
    t["return_date"] = times("return_date")
    t["body"] = col("body", "U8")
    t["resonance"] = col("resonance", "U8")
    t["xi"] = col("xi") * u.km
    t["zeta"] = col("zeta") * u.km
    t["width"] = col("width") * u.m
    t["sigma"] = col("sigma")
    log_ip = col("log_ip")
    t["ip"] = np.exp(log_ip)
    t["log10_ip"] = log_ip / _LN10
    t["v_impact"] = col("v_impact") * u.km / u.s
    t["return_distance"] = col("distance_min") * u.km
    t["confirmed"] = col("confirmed", bool)
    t["impact_time"] = times("impact_time")
    t.meta.update({
        "object": solution.name, "solution": solution.solution, "until": until.tdb.iso,
        "return_distance_max_km": dmax, "returns_followed": followed,
        "returns_not_followed": not_followed, "no_keyhole": no_keyhole,
        "keyholes_not_confirmed": not_confirmed,
        "method": "keyholes of each close return's b-plane, refined with the n-body model; "
                  "IP linearised over the full covariance at each virtual impactor",
    })
    return t
