"""Impact monitoring along the line of variations: virtual impactors from keyholes.

For an object whose future is decided by one deep encounter (Apophis in 2029), every
impact before a horizon passes through an impact keyhole of that encounter's b-plane
(Valsecchi et al. 2003). :func:`apophis_sim.risk.keyholes` finds them along the line
of variations (LOV) with the full n-body model; each keyhole is then a virtual
impactor (Milani et al. 2005, Icarus 173, 362): the set of orbits on the LOV between
its edges. Its impact probability is the Gaussian probability of that LOV interval,

    IP = Phi(s_hi) - Phi(s_lo),   s = (zeta - zeta_nominal) / sigma_zeta,

evaluated in log space (``scipy.special.log_ndtr``) so that IPs of 1e-300 and below
keep their exponent (``log10_ip``). The transverse direction costs nothing: a
keyhole is an arc of a circle many km long across the b-plane, far wider than the
solution's ~1 km spread in xi.

Impact energy: ``E = 1/2 m v_impact^2`` with the mass from H, the geometric albedo
(the solution's SBDB ``albedo`` when it lists one, else 0.14) and a bulk density of
2.6 g/cm^3 (assumptions stated in each row's ``meta``): D = 1329 km / sqrt(p_v)
10^(-H/5) (Fowler & Chillemi 1992). Palermo scale (Chesley et al. 2002, Icarus 159,
423): PS = log10(IP / (f_B dT)), background f_B = 0.03 E^-4/5 per year (E in Mt),
dT the years from ``now`` to the impact. Torino scale (Binzel 2000, PSS 48, 297;
descriptions reworded in 2005 after Morrison et al. 2004, boundaries unchanged): the
integer category 0..10 of the point (log10 E, log10 IP) on Binzel's chart, whose
boundaries are the straight lines written out in :func:`torino_scale`; it is rated for Earth
impacts within 100 years of ``now`` with a known energy, as the scale is defined
(``-1`` in the table otherwise). ``tests/test_torino.py`` checks it against the
published ratings of Apophis (2004-2009), 2004 VD17, 2007 VK184 and 2024 YR4.

Limits, stated: only the impacts reachable through a keyhole of the chosen encounter
found by :func:`keyholes` within its ``window`` (returns after an intermediate
encounter, and keyholes the search reports as unresolved, are not covered: the
resonances with outcome ``"unresolved"`` in the keyhole table's
``meta["resonances"]`` are listed in ``meta["unresolved"]``; impacts after a close
return are :func:`~apophis_sim.risk.return_keyholes`'s). Each virtual impactor is
also integrated on to its impact, which the integrator detects itself
(``confirmed``), and its entry point on the ground is given
(:func:`~apophis_sim.risk.first_impact`: WGS84 on the Earth, the IAU mean Earth/polar
axis frame on the Moon).
"""

from __future__ import annotations

import math

import astropy.units as u
import numpy as np
from astropy.table import QTable
from astropy.time import Time
from scipy.special import log_ndtr

from ..errors import InputError, ShapeMismatchError
from ..units import real_array, real_scalar
from ..solution import OrbitSolution
from .impact_point import Impact, first_impact
from .keyholes import _own_nominal, keyholes

__all__ = ["impact_energy_mt", "impact_probability", "palermo_scale", "torino_scale"]

_MT_J = 4.184e15
_LN10 = math.log(10.0)


def impact_energy_mt(H: float, v_impact_km_s, *, albedo: float = 0.14,
                     density_g_cm3: float = 2.6) -> np.ndarray:
    """Impact energy [Mt TNT] of a body of absolute magnitude H hitting at ``v_impact``.

    D = 1329 km / sqrt(albedo) 10^(-H/5) (Fowler & Chillemi 1992), a sphere of the
    given bulk density, E = m v^2 / 2, 1 Mt = 4.184e15 J.

    Parameters
    ----------
    H : float
        Absolute magnitude.
    v_impact_km_s : float or array_like
        Impact speed [km/s].
    albedo : float
        Geometric albedo (default 0.14).
    density_g_cm3 : float
        Bulk density [g/cm^3] (default 2.6).

    Returns
    -------
    ndarray
        Energy [Mt TNT].
    """
    if H is None:
        raise InputError("H must be a finite absolute magnitude (comets publish none: pass "
                         "a size instead)")
    H = real_scalar(H, "H")
    if not -10.0 <= H <= 40.0:
        raise InputError(f"H must be an absolute magnitude in [-10, 40], got {H}")
    albedo = real_scalar(albedo, "albedo")
    density_g_cm3 = real_scalar(density_g_cm3, "density_g_cm3", positive=True)
    if not 0 < albedo <= 1:
        raise InputError(f"albedo must be in (0, 1], got {albedo}")
    d_km = 1329.0 / math.sqrt(albedo) * 10.0 ** (-H / 5.0)
    mass = density_g_cm3 * 1e3 * math.pi / 6.0 * (d_km * 1e3) ** 3
    v = real_array(v_impact_km_s, "v_impact_km_s", non_negative=True) * 1e3
    return 0.5 * mass * v * v / _MT_J


def palermo_scale(log10_ip, energy_mt, years_to_impact) -> np.ndarray:
    """Palermo technical scale log10(IP / (f_B dT)), f_B = 0.03 E^-0.8 per year
    (Chesley et al. 2002), from log10(IP) so that tiny IPs keep their exponent.

    Parameters
    ----------
    log10_ip : float or array_like
        log10 of the impact probability.
    energy_mt : float or array_like
        Impact energy [Mt TNT].
    years_to_impact : float or array_like
        Time until the impact [yr].

    Returns
    -------
    ndarray
    """
    try:  # log10(IP = 0) = -inf is a valid "no impact"; everything else must be finite
        raw = np.asarray(log10_ip, dtype=np.float64)
    except (TypeError, ValueError):
        raw = None
    if raw is None or np.iscomplexobj(log10_ip):
        lip = real_array(log10_ip, "log10_ip")  # raises, naming log10_ip
    else:
        real_array(np.where(np.isneginf(raw), 0.0, raw), "log10_ip")
        lip = raw
    e = real_array(energy_mt, "energy_mt", positive=True)
    dt = real_array(years_to_impact, "years_to_impact", positive=True)
    try:
        np.broadcast_shapes(lip.shape, e.shape, dt.shape)
    except ValueError:
        raise ShapeMismatchError(f"log10_ip {lip.shape}, energy_mt {e.shape} and "
                                 f"years_to_impact {dt.shape} do not broadcast") from None
    with np.errstate(over="ignore", under="ignore"):
        return lip - (np.log10(0.03) - 0.8 * np.log10(e) + np.log10(dt))


#: Corners of Binzel's chart: the collision probabilities and energies [Mt] of its
#: vertical and horizontal boundary lines.
_TORINO_P_CLOSE, _TORINO_P_CERTAIN = 0.01, 0.99
_TORINO_E_LOCAL, _TORINO_E_REGIONAL, _TORINO_E_GLOBAL = 1.0, 100.0, 1e5


def torino_scale(ip, energy_mt):
    """Torino impact hazard scale (Binzel 2000): the integer category 0..10 of a
    potential impact of probability ``ip`` and kinetic energy ``energy_mt``.

    The category is the region of Binzel's chart of log10 P (collision probability)
    against log10 E (kinetic energy [Mt TNT]) that holds the point. The chart's
    boundaries are straight lines in (log10 E, log10 P): the vertical lines P = 1 % and
    P = 99 %, the horizontal lines E = 1, 100 and 1e5 Mt, and the diagonals
    ``g_c = 0`` of::

        g_c(E, P) = (log10 E - c) / 3 + (log10 P + 2) / 2,    c = -1, 2, 5

    lines of slope -2/3 in log10 P per log10 E that cross P = 1 % at E = 0.1, 100 and
    1e5 Mt. A point on a line belongs to the category above or to the right of it.
    The categories (every one but 0 also needs E >= 1 Mt)::

        0                  E < 1 Mt, or g_-1 < 0 (this includes P = 0)
        P < 1 %            1: g_-1 >= 0 > g_2     2: g_2 >= 0 > g_5     6: g_5 >= 0
        1 % <= P < 99 %    3: E < 100 Mt          4: E >= 100 Mt and g_5 < 0
                           5: g_5 >= 0 and E < 1e5 Mt                   7: E >= 1e5 Mt
        P >= 99 %          8: E < 100 Mt          9: 100 <= E < 1e5 Mt  10: E >= 1e5 Mt

    The Torino scale is defined for potential impacts less than 100 years ahead
    (Morrison et al. 2004); that condition is the caller's (:func:`impact_probability`
    applies it). The IP is taken linear: an IP that underflows to 0 is category 0 for
    any energy this function accepts (E <= 1e50 Mt), so log10 IP is not needed here.

    Parameters
    ----------
    ip : float or array_like
        Collision probability, in [0, 1].
    energy_mt : float or array_like
        Kinetic energy of the impact [Mt TNT, 4.184e15 J], > 0 (e.g. from
        :func:`impact_energy_mt`). Broadcast against ``ip``.

    Returns
    -------
    int or ndarray of int64
        The category, 0..10: a Python int when both arguments are scalars, else an
        array of their broadcast shape.

    Raises
    ------
    InputError
        ``ip`` outside [0, 1] or ``energy_mt`` not > 0 (NaN and infinity included:
        :class:`~apophis_sim.errors.NonFiniteInputError`); a Quantity is refused
        (:class:`~apophis_sim.errors.PhysicalTypeError`), and arguments that do not
        broadcast raise :class:`~apophis_sim.errors.ShapeMismatchError`.

    References
    ----------
    Binzel, R. P. (2000), "The Torino Impact Hazard Scale", Planetary and Space
    Science 48, 297-303 (the chart, its Fig. 1). Morrison, D., Chapman, C. R.,
    Steel, D. and Binzel, R. P. (2004), "Impacts and the public: communicating the
    nature of the impact hazard", in Mitigation of Hazardous Comets and Asteroids
    (Belton et al., eds.), Cambridge University Press (the wording of the categories
    as revised in 2005; the boundaries are unchanged).
    """
    p = real_array(ip, "ip")
    if np.any((p < 0.0) | (p > 1.0)):
        raise InputError(f"ip must be a probability in [0, 1], got {ip!r:.60}")
    e = real_array(energy_mt, "energy_mt", positive=True)
    try:
        p, e = np.broadcast_arrays(p, e)
    except ValueError:
        raise ShapeMismatchError(f"ip {p.shape} and energy_mt {e.shape} do not "
                                 "broadcast") from None
    with np.errstate(divide="ignore"):  # log10(0) = -inf: below every diagonal
        log_p = np.log10(p)
    log_e = np.log10(e)

    def g(c: float) -> np.ndarray:  # >= 0 on or above the diagonal through (10^c, 1 %)
        return (log_e - c) / 3.0 + (log_p + 2.0) / 2.0

    g_local, g_regional, g_global = g(-1.0), g(2.0), g(5.0)
    rated = (e >= _TORINO_E_LOCAL) & (g_local >= 0.0)  # everything else is 0
    unlikely = rated & (p < _TORINO_P_CLOSE)
    close = rated & (p >= _TORINO_P_CLOSE) & (p < _TORINO_P_CERTAIN)
    certain = rated & (p >= _TORINO_P_CERTAIN)
    regional = e >= _TORINO_E_REGIONAL
    glob = e >= _TORINO_E_GLOBAL
    conditions = [
        unlikely & (g_regional < 0.0),                                   # 1
        unlikely & (g_regional >= 0.0) & (g_global < 0.0),               # 2
        close & ~regional,                                               # 3
        close & regional & (g_global < 0.0),                             # 4
        close & ~glob & (g_global >= 0.0),                               # 5
        unlikely & (g_global >= 0.0),                                    # 6
        close & glob,                                                    # 7
        certain & ~regional,                                             # 8
        certain & regional & ~glob,                                      # 9
        certain & glob,                                                  # 10
    ]
    out = np.select(conditions, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], default=0).astype(np.int64)
    return int(out) if out.ndim == 0 else out


def impact_probability(solution: OrbitSolution, until: Time = Time("2100-01-01", scale="tdb"),
                       *, bodies=("earth",), now: Time | None = None,
                       albedo: float | None = None, density_g_cm3: float = 2.6,
                       full_covariance: bool = True, keyhole_table: QTable | None = None,
                       **keyhole_kwargs) -> QTable:
    """Virtual impactors through the keyholes of the solution's deep encounter.

    Parameters
    ----------
    solution : OrbitSolution
        With a covariance (e.g. :func:`apophis` or :func:`orbit_through`'s result).
    until : Time
        Horizon of the search (returns before it).
    bodies : sequence of {"earth", "moon"}
        Impacts on the Earth, and on the Moon with ``"moon"``.
    now : Time, optional
        Reference date of the Palermo scale and of the Torino scale's 100-year span
        (default: today).
    albedo, density_g_cm3 : float
        Size and mass assumptions for the energy (albedo default: the solution's SBDB
        value, else 0.14).
    full_covariance : bool
        Also linearise the return at each virtual impactor over every direction of the
        covariance (one variational integration per VI; default). Otherwise only the
        LOV mass of the keyhole, which overestimates the IP when the outcome depends on
        directions other than zeta (``lov_correlation`` < 1).
    keyhole_table : QTable, optional
        :func:`keyholes`'s result for this solution, encounter and horizon (with
        ``include_moon`` when ``"moon"`` is in ``bodies``), to reuse a search already
        made; default: search now.
    **keyhole_kwargs
        Passed to :func:`keyholes` (``window``, ``max_k``, ``forces``, ...).

    Returns
    -------
    QTable
        One row per virtual impactor, sorted by date: ``date`` (TDB), ``body``,
        ``resonance``, ``sigma_lov`` (centre), ``width`` [m], ``ip``, ``log10_ip``
        (full covariance), ``log10_ip_lov`` (LOV only), ``lov_correlation`` (of the
        return coordinate with zeta: the LOV's share), ``v_impact`` [km/s],
        ``energy`` [Mt], ``palermo``, ``torino`` (:func:`torino_scale`, int 0..10;
        -1 where the scale does not apply: no energy because the solution has no H,
        a Moon impact, or an impact 100 years or more after ``now``, the scale being
        defined for Earth impacts within a century); ``confirmed`` (the VI orbit,
        integrated on, enters the body's radius: the integrator's own impact
        detection),
        ``impact_time`` (its entry, TDB; the return date when not confirmed),
        ``latitude``/``longitude`` [deg] (the entry point in the coordinates of the
        row's ``body``: WGS84 geodetic for the Earth, selenocentric in the IAU mean
        Earth/polar axis frame for the Moon, :func:`~apophis_sim.risk.first_impact`;
        NaN when not confirmed). ``meta`` holds the
        cumulative IP (``cumulative_ip``, ``cumulative_log10_ip``), the highest Torino
        category of the table (``torino_max``: -1 when no row is rated, 0 when there is
        no virtual impactor), the assumptions, the searched window and what the
        keyhole search could not resolve.
    """
    if not isinstance(solution, OrbitSolution):
        raise InputError(f"solution must be an OrbitSolution, got {type(solution).__name__}")
    if isinstance(bodies, str):
        bodies = (bodies,)
    bad = [b for b in bodies if b not in ("earth", "moon")]
    if bad:
        from ..errors import UnknownNameError

        raise UnknownNameError("impact body", bad[0], ("earth", "moon"))
    if keyhole_table is None:
        kh = keyholes(solution, until, include_moon="moon" in bodies, **keyhole_kwargs)
    else:
        kh = keyhole_table
        missing = [c for c in ("return_date", "body", "zeta", "width", "sigma_lov",
                               "v_impact") if c not in kh.colnames]
        if missing or "sigma_zeta_km" not in kh.meta:
            raise InputError("keyhole_table must be risk.keyholes()'s table (missing "
                             f"{missing or 'meta sigma_zeta_km'})")
    if "earth" not in bodies:
        kh = kh[kh["body"] != "earth"]
    sig_z = float(kh.meta["sigma_zeta_km"])
    if albedo is None:
        try:
            albedo = float(solution.provenance.get("phys_par", {}).get("albedo") or 0.14)
        except (TypeError, ValueError):
            albedo = 0.14
    now = now if now is not None else Time.now()
    centre = np.asarray(kh["sigma_lov"], dtype=np.float64)
    half = np.asarray(kh["width"].to_value(u.km)) / sig_z / 2.0
    # 1. Along the LOV only (the keyhole's Gaussian mass on the line).
    log_ip_lov = _log_interval(centre - half, centre + half)
    # 2. With every direction of the covariance: the return's b-plane coordinate zeta'
    #    linearised at the virtual impactor (the keyhole-centre orbit), its spread over
    #    the whole covariance, and the impact chord |zeta' - zeta'_c| < sqrt(b_c^2 - xi'^2).
    log_ip = np.array(log_ip_lov, dtype=np.float64)
    corr = np.full(len(kh), np.nan)
    hits: list[Impact | None] = []
    lov = None
    if len(kh):  # the LOV of the search, once for every virtual impactor
        from .keyholes import line_of_variations

        lov = line_of_variations(solution, **{key: keyhole_kwargs[key] for key in
                                              ("encounter", "body", "forces", "ephemeris",
                                               "epsilon") if key in keyhole_kwargs})
    for k in range(len(kh)):
        vi, p_star = _vi_orbit(solution, lov, kh, k)
        if full_covariance:
            res = _vi_log_ip(solution, lov, vi, p_star, kh, k, keyhole_kwargs)
            if res is not None:
                log_ip[k], corr[k] = res
        # The VI (the keyhole-centre orbit) integrated to its impact: the integrator's
        # own detection, and where on the ground.
        hits.append(first_impact(vi, kh["return_date"][k].tdb + 60 * u.day,
                                 bodies=(str(kh["body"][k]),),
                                 **{key: keyhole_kwargs[key] for key in
                                    ("forces", "ephemeris", "epsilon")
                                    if key in keyhole_kwargs}))
    log10_ip = log_ip / _LN10
    ip = np.exp(log_ip)
    t = QTable()
    t["date"] = kh["return_date"]
    t["body"] = kh["body"]
    t["resonance"] = kh["resonance"]
    t["sigma_lov"] = centre
    t["width"] = kh["width"]
    t["ip"] = ip
    t["log10_ip"] = log10_ip
    t["log10_ip_lov"] = np.asarray(log_ip_lov) / _LN10
    t["lov_correlation"] = corr
    t["v_impact"] = kh["v_impact"]
    t["confirmed"] = np.array([h is not None for h in hits], dtype=bool)
    jd_hit = np.array([h.time.tdb.jd if h is not None else np.nan for h in hits])
    if len(kh):
        t["impact_time"] = Time(np.where(np.isfinite(jd_hit), jd_hit,
                                         kh["return_date"].tdb.jd), format="jd", scale="tdb")
        t["impact_time"].format = "isot"
    else:
        t["impact_time"] = Time([], format="jd", scale="tdb")
    t["latitude"] = np.array([h.latitude.to_value(u.deg) if h is not None else np.nan
                              for h in hits]) * u.deg
    t["longitude"] = np.array([h.longitude.to_value(u.deg) if h is not None else np.nan
                               for h in hits]) * u.deg
    if solution.H is not None and len(kh):
        energy = impact_energy_mt(float(solution.H), kh["v_impact"].to_value(u.km / u.s),
                                  albedo=albedo, density_g_cm3=density_g_cm3)
        years = (kh["return_date"].tdb.jd - now.tdb.jd) / 365.25
        t["energy"] = energy * u.Mt if hasattr(u, "Mt") else energy
        t["palermo"] = palermo_scale(log10_ip, energy, np.maximum(years, 1e-3))
        # The Torino scale is defined for Earth impacts less than 100 years ahead
        # (Morrison et al. 2004); other rows are not rated (-1).
        rated = (np.asarray(kh["body"]) == "earth") & (years < 100.0)
        t["torino"] = np.where(rated, torino_scale(np.clip(ip, 0.0, 1.0), energy), -1)
    else:
        t["energy"] = np.full(len(kh), np.nan)
        t["palermo"] = np.full(len(kh), np.nan)
        t["torino"] = np.full(len(kh), -1, dtype=np.int64)  # no H, no energy: not rated
    total = float(np.sum(ip))
    t.meta.update({
        "object": kh.meta.get("object"), "solution": kh.meta.get("solution"),
        "encounter_utc": kh.meta.get("encounter_utc"), "until": kh.meta.get("until"),
        "cumulative_ip": total,
        "cumulative_log10_ip": float(np.logaddexp.reduce(log_ip) / _LN10) if len(kh) else
        -math.inf,
        "torino_max": int(np.max(t["torino"])) if len(kh) else 0,
        "assumptions": f"albedo {albedo:g}, density {density_g_cm3:g} g/cm^3, energy "
                       f"1/2 m v_impact^2; Palermo background 0.03 E^-0.8 / yr",
        "window_km": kh.meta.get("window_km"),
        "unresolved": _unresolved(kh.meta),
        "method": "keyholes along the LOV (virtual impactors); IP = Gaussian mass of each "
                  "LOV interval",
        "now": now.tdb.iso,
    })
    return t


def _unresolved(meta) -> list[str]:
    """The resonances of a keyhole table that are truly unresolved (neither a keyhole, a
    close return without keyhole, nor excluded by the MOID), one sentence each; a
    table without ``resonances`` (older) gives its ``no_keyhole`` list."""
    res = meta.get("resonances")
    if res is None:
        return list(meta.get("no_keyhole") or [])
    return [f"{r['k']}:{r['h']} ({r['body']}) near dzeta {r['dzeta_km']:+.0f} km: {r['detail']}"
            for r in res if r["outcome"] == "unresolved"]


def _log_interval(lo, hi) -> np.ndarray:
    """log P(lo < N(0,1) < hi), accurate in either tail (mirror to the lower one)."""
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    upper = (lo + hi) > 0
    a = np.where(upper, -hi, lo)
    b = np.where(upper, -lo, hi)
    la, lb = log_ndtr(a), log_ndtr(b)
    with np.errstate(divide="ignore"):
        return lb + np.log1p(-np.exp(la - lb))


def _vi_orbit(solution: OrbitSolution, lov, kh, k: int) -> tuple[OrbitSolution, np.ndarray]:
    """The virtual impactor of keyhole ``k``: the solution moved along the LOV to the
    keyhole's centre, and its parameters."""
    from .keyholes import _moved

    zeta_c = float(kh["zeta"][k].to_value(u.km))
    p_star = lov.parameters(zeta_c - lov.zeta_km)[0]
    return _moved(solution, p_star), p_star


def _vi_log_ip(solution: OrbitSolution, lov, vi: OrbitSolution, p_star: np.ndarray, kh,
               k: int, kwargs) -> tuple[float, float] | None:
    """log IP of keyhole ``k`` with the full covariance, and the LOV correlation."""
    from ..uncertainty.linear import parameter_space, variational_approaches

    body = str(kh["body"][k])
    t_ret = kh["return_date"][k].tdb
    evs = variational_approaches(vi, t_ret + 60 * u.day, bodies=(body,), max_distance_au=0.05,
                                 forces=kwargs.get("forces"), ephemeris=kwargs.get("ephemeris"),
                                 epsilon=kwargs.get("epsilon"))
    evs = [e for e in evs if abs(e.jd1 + e.t_rel - t_ret.jd) < 30.0]
    if not evs:
        return None
    ev = min(evs, key=lambda e: e.distance_au)
    if not np.all(np.isfinite(ev.nominal[2:])):
        return None
    jac = parameter_space(ev.state_jacobian, vi)      # (t, d, xi', zeta') per parameter
    g = jac[3]
    cov = solution.covariance
    sig_f = math.sqrt(float(g @ cov @ g))
    if sig_f == 0.0:
        return None
    x0 = _own_nominal(solution)
    f0 = ev.nominal[3] + float(g @ (x0 - p_star))       # zeta' of the nominal, linearised
    xi_r = ev.nominal[2]
    chord2 = ev.capture_radius_km ** 2 - xi_r ** 2
    if chord2 <= 0:
        return None
    half = math.sqrt(chord2)
    lo = (-half - f0) / sig_f
    hi = (half - f0) / sig_f
    k_zeta = lov.jacobian[1]
    corr = float(g @ cov @ k_zeta) / (sig_f * math.sqrt(float(k_zeta @ cov @ k_zeta)))
    return float(_log_interval(lo, hi)), abs(corr)
