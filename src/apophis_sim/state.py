"""Cartesian states with their epoch, frame and centre.

A :class:`State` holds positions and velocities with shape ``(..., 3)`` (any
batch shape), the epoch(s) as a two-part TDB Julian date, the frame (``"icrf"``
equatorial or ``"ecliptic"`` J2000) and the centre (``"ssb"`` or a DE440 body).
Internally the arrays are float64 in au and au/day; the public properties
return astropy Quantities.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import astropy.units as u
import numpy as np
from astropy.time import Time

from ._core import frames as _frames
from .errors import InputError, InputTypeError, ShapeMismatchError, UnknownNameError
from .time import from_jd_tdb, to_jd_tdb
from .units import AU, AU_PER_DAY, GM_UNIT, to_canonical

if TYPE_CHECKING:
    from .elements import Elements

__all__ = ["State", "FRAMES", "validate_frame", "validate_centre", "centre_gm", "require_state"]

#: Valid frame names.
FRAMES = ("icrf", "ecliptic")

_ROT = {
    ("icrf", "ecliptic"): _frames.ECL_FROM_ICRF,
    ("ecliptic", "icrf"): _frames.ICRF_FROM_ECL,
}


def validate_frame(frame: str) -> str:
    """Return the canonical frame name or raise :class:`UnknownNameError` listing the valid ones.

    Parameters
    ----------
    frame : str
        A frame name, any case.

    Returns
    -------
    str
    """
    name = frame.lower() if isinstance(frame, str) else frame
    if name not in FRAMES:
        raise UnknownNameError("frame", frame, FRAMES)
    return name


def validate_centre(centre: str) -> str:
    """Return the canonical centre name (``"ssb"`` or a DE440 body name).

    Parameters
    ----------
    centre : str
        A centre name, any case.

    Returns
    -------
    str
    """
    from .bodies import body

    name = centre.lower() if isinstance(centre, str) else centre
    if name == "ssb":
        return name
    try:
        body(name)
    except UnknownNameError as exc:
        raise UnknownNameError("centre", centre, ("ssb",) + tuple(exc.valid)) from None
    return name


_STATE_HINTS = {
    "Elements": "convert Elements with elements.to_state()",
    "OrbitSolution": ("use solution.state for two-body motion, or propagate_nbody(solution, ...) "
                      "for the n-body model"),
}


def require_state(obj: Any, name: str = "state") -> None:
    """Raise :class:`InputTypeError` (naming ``name`` and how to convert) unless ``obj`` is a State.

    Parameters
    ----------
    obj : object
        The value to check.
    name : str
        The argument's name, for the message.
    """
    if not isinstance(obj, State):
        raise InputTypeError(
            f"{name} must be an apophis_sim.State, got {type(obj).__name__}; "
            + _STATE_HINTS.get(type(obj).__name__, "build one with State(r, v, epoch)"))


def centre_gm(centre: str) -> float:
    """GM [au^3/day^2] that two-body motion about ``centre`` uses.

    For a body, its DE440 GM. For ``"ssb"``, the summed GM of the Sun, planets,
    Moon and Pluto (the usual barycentric two-body approximation).

    Parameters
    ----------
    centre : str
        A canonical centre name.

    Returns
    -------
    float
    """
    from . import bodies

    if centre == "ssb":
        return float(sum(bodies.body(n).gm_au3_d2 for n in bodies.PLANETARY_NAMES))
    return float(bodies.body(centre).gm_au3_d2)


class State:
    """Position and velocity of one or many objects at their epoch(s).

    Parameters
    ----------
    r : Quantity, shape (..., 3)
        Position (any length unit).
    v : Quantity, shape (..., 3)
        Velocity (any velocity unit).
    epoch : astropy.time.Time
        Epoch, scalar or broadcastable to the batch shape ``r.shape[:-1]``. Any
        time scale; converted once, exactly, to TDB.
    frame : {"icrf", "ecliptic"}
        Axes: ICRF (equatorial) or ecliptic J2000 (obliquity 84381.448").
    centre : str
        ``"ssb"`` or a DE440 body name (``"sun"``, ``"earth"``, ``"moon"``, ...).

    Raises
    ------
    PhysicalTypeError, NonFiniteInputError, ShapeMismatchError, TimeInputError, UnknownNameError
        On bad input; the message names the argument.

    Notes
    -----
    Indexing (``state[3]``, ``state[:10]``) acts on the batch dimensions.
    """

    __slots__ = ("_r", "_v", "_jd1", "_jd2", "frame", "centre")

    def __init__(self, r: u.Quantity, v: u.Quantity, epoch: Time, frame: str = "icrf",
                 centre: str = "sun") -> None:
        r_au = to_canonical(r, AU, "r")
        v_au_d = to_canonical(v, AU_PER_DAY, "v")
        jd1, jd2 = to_jd_tdb(epoch, "epoch")
        self._init(r_au, v_au_d, jd1, jd2, validate_frame(frame), validate_centre(centre))

    def _init(self, r_au, v_au_d, jd1, jd2, frame, centre) -> None:
        r_au = np.asarray(r_au, dtype=np.float64)
        v_au_d = np.asarray(v_au_d, dtype=np.float64)
        if r_au.ndim == 0 or r_au.shape[-1] != 3 or v_au_d.ndim == 0 or v_au_d.shape[-1] != 3:
            raise ShapeMismatchError(
                f"r and v need xyz on their last axis (shape (..., 3)); got r {r_au.shape}, "
                f"v {v_au_d.shape}")
        try:
            batch = np.broadcast_shapes(r_au.shape[:-1], v_au_d.shape[:-1], np.shape(jd1))
        except ValueError:
            raise ShapeMismatchError(
                f"batch shapes do not broadcast: r {r_au.shape[:-1]}, v {v_au_d.shape[:-1]}, "
                f"epoch {np.shape(jd1)}") from None
        self._r = np.broadcast_to(r_au, batch + (3,))
        self._v = np.broadcast_to(v_au_d, batch + (3,))
        jd1 = np.asarray(jd1, dtype=np.float64)
        jd2 = np.asarray(jd2, dtype=np.float64)
        if jd1.ndim:
            jd1 = np.broadcast_to(jd1, batch)
            jd2 = np.broadcast_to(jd2, batch)
        self._jd1, self._jd2 = jd1, jd2
        self.frame = frame
        self.centre = centre

    @classmethod
    def from_arrays(cls, r_au, v_au_d, jd1, jd2, frame: str = "icrf",
                    centre: str = "sun") -> State:
        """Build a State from canonical float arrays (au, au/day, TDB JD parts).

        The fast path used by the library itself; shapes are checked, values are not.

        Parameters
        ----------
        r_au, v_au_d : array_like (..., 3)
            Position [au] and velocity [au/day].
        jd1, jd2 : float or array_like
            Two-part TDB Julian date of the epoch.
        frame, centre : str
            As in :class:`State`.

        Returns
        -------
        State
        """
        self = cls.__new__(cls)
        self._init(r_au, v_au_d, jd1, jd2, validate_frame(frame), validate_centre(centre))
        return self

    @classmethod
    def from_vectors(cls, r: u.Quantity, v: u.Quantity, epoch: Time, frame: str = "icrf",
                     centre: str = "sun") -> State:
        """Alias of the constructor, for poliastro users.

        Parameters
        ----------
        r, v, epoch, frame, centre
            As in :class:`State`.

        Returns
        -------
        State
        """
        return cls(r, v, epoch, frame=frame, centre=centre)

    # ---- canonical views -------------------------------------------------------
    @property
    def r_au(self) -> np.ndarray:
        """Position in au, shape (..., 3) (read-only float64 array)."""
        return self._r

    @property
    def v_au_d(self) -> np.ndarray:
        """Velocity in au/day, shape (..., 3) (read-only float64 array)."""
        return self._v

    @property
    def jd_tdb(self) -> tuple[np.ndarray, np.ndarray]:
        """Epoch as a two-part TDB Julian date (jd1, jd2)."""
        return self._jd1, self._jd2

    # ---- public, with units ----------------------------------------------------
    @property
    def r(self) -> u.Quantity:
        """Position [au], shape (..., 3)."""
        return u.Quantity(self._r, AU, copy=False)

    @property
    def v(self) -> u.Quantity:
        """Velocity [au/day], shape (..., 3)."""
        return u.Quantity(self._v, AU_PER_DAY, copy=False)

    @property
    def epoch(self) -> Time:
        """Epoch (TDB)."""
        return from_jd_tdb(self._jd1, self._jd2)

    @property
    def distance(self) -> u.Quantity:
        """``|r|`` [au], shape (...)."""
        return u.Quantity(np.linalg.norm(self._r, axis=-1), AU)

    @property
    def speed(self) -> u.Quantity:
        """``|v|`` [au/day], shape (...)."""
        return u.Quantity(np.linalg.norm(self._v, axis=-1), AU_PER_DAY)

    @property
    def shape(self) -> tuple[int, ...]:
        """Batch shape (the shape of r without its xyz axis)."""
        return self._r.shape[:-1]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("a scalar State has no len()")
        return self.shape[0]

    def __getitem__(self, item) -> State:
        if not self.shape:
            raise IndexError("a scalar State cannot be indexed")
        if not isinstance(item, tuple):
            item = (item,)
        if any(i is Ellipsis for i in item):
            raise IndexError("Ellipsis is not supported when indexing a State")
        key = item + (slice(None),)
        jd1 = self._jd1[item] if self._jd1.ndim else self._jd1
        jd2 = self._jd2[item] if self._jd2.ndim else self._jd2
        new = State.__new__(State)
        new._init(self._r[key], self._v[key], jd1, jd2, self.frame, self.centre)
        return new

    def __repr__(self) -> str:
        ep = self.epoch
        if ep.isscalar:
            when = ep.isot
        elif ep.size == 0:
            when = "(none)"
        else:
            when = f"{ep.min().isot} .. {ep.max().isot}"
        shape = "scalar" if not self.shape else f"shape={self.shape}"
        if not self.shape:
            body = (f"r=[{', '.join(f'{x:.12g}' for x in self._r)}] au, "
                    f"v=[{', '.join(f'{x:.12g}' for x in self._v)}] au/d, ")
        else:
            body = ""
        return (f"<State {shape} {body}epoch={when} TDB, frame={self.frame!r}, "
                f"centre={self.centre!r}>")

    # ---- conversions -----------------------------------------------------------
    def to_frame(self, frame: str) -> State:
        """The same state expressed in another frame.

        Parameters
        ----------
        frame : {"icrf", "ecliptic"}
            Target frame.

        Returns
        -------
        State
        """
        frame = validate_frame(frame)
        if frame == self.frame:
            return self
        rot = _ROT[(self.frame, frame)]
        return State.from_arrays(_frames.rotate(rot, self._r), _frames.rotate(rot, self._v),
                                 self._jd1, self._jd2, frame, self.centre)

    def to_centre(self, centre: str, ephemeris=None) -> State:
        """The same state relative to another centre, using the DE440 ephemeris.

        Parameters
        ----------
        centre : str
            ``"ssb"`` or any body of the ephemeris.
        ephemeris : apophis_sim.ephemeris.Ephemeris, optional
            Defaults to the installed DE440 (plus SB441-N16 when installed).

        Raises
        ------
        EphemerisRangeError
            The epoch lies outside the ephemeris; the message names its interval.
        """
        centre = validate_centre(centre)
        if centre == self.centre:
            return self
        from .ephemeris import Ephemeris

        eph = ephemeris if ephemeris is not None else Ephemeris.open()
        jd1 = np.broadcast_to(self._jd1, self.shape)
        jd2 = np.broadcast_to(self._jd2, self.shape)
        r_old, v_old = eph.posvel(self.centre, jd1, jd2, centre="ssb")
        r_new, v_new = eph.posvel(centre, jd1, jd2, centre="ssb")
        dr, dv = r_old - r_new, v_old - v_new
        if self.frame != "icrf":
            rot = _ROT[("icrf", self.frame)]
            dr, dv = _frames.rotate(rot, dr), _frames.rotate(rot, dv)
        return State.from_arrays(self._r + dr, self._v + dv, self._jd1, self._jd2,
                                 self.frame, centre)

    def to_elements(self, gm: u.Quantity | None = None) -> Elements:
        """Osculating classical elements (in this state's frame and about its centre).

        Parameters
        ----------
        gm : Quantity [length^3/time^2], optional
            Gravitational parameter; defaults to the centre's DE440 GM.
        """
        from .elements import Elements

        return Elements.from_state(self, gm=gm)

    # ---- poliastro-family interoperability ---------------------------------------
    @classmethod
    def from_poliastro(cls, orbit: Any) -> State:
        """Build a State from a poliastro, hapsira or boinor ``Orbit``.

        The attractor gives the centre (``Sun`` -> ``"sun"``, ``Earth`` -> ``"earth"``,
        ...) and the orbit's plane the frame (``EARTH_EQUATOR`` -> ``"icrf"``,
        ``EARTH_ECLIPTIC`` -> ``"ecliptic"``).

        Parameters
        ----------
        orbit : poliastro.twobody.Orbit
            Or the hapsira / boinor equivalent.

        Returns
        -------
        State
        """
        for attr in ("r", "v", "epoch", "attractor"):
            if not hasattr(orbit, attr):
                raise InputError(
                    f"orbit must be a poliastro/hapsira/boinor Orbit (it has no .{attr}); "
                    f"got {type(orbit).__name__}")
        plane = getattr(getattr(orbit, "plane", None), "name", "EARTH_EQUATOR")
        frame = "ecliptic" if "ECLIPTIC" in str(plane).upper() else "icrf"
        centre = str(orbit.attractor.name).lower()
        return cls(orbit.r, orbit.v, orbit.epoch, frame=frame, centre=centre)

    def to_poliastro(self, package: str | None = None) -> Any:
        """Convert a scalar State to a poliastro-family ``Orbit``.

        Parameters
        ----------
        package : {"boinor", "hapsira", "poliastro"}, optional
            Which package to use; by default the first one that imports, in that
            order. None of them is a dependency of apophis_sim (install the
            ``poliastro`` extra for boinor).
        """
        if self.shape:
            raise ShapeMismatchError(
                f"poliastro-family Orbit objects hold a single state; index this State "
                f"(shape {self.shape}) first, e.g. state[0]")
        candidates = (package,) if package else ("boinor", "hapsira", "poliastro")
        mods = None
        for name in candidates:
            try:
                mods = (importlib.import_module(f"{name}.twobody"),
                        importlib.import_module(f"{name}.bodies"),
                        importlib.import_module(f"{name}.frames"))
                break
            except ImportError:
                continue
        if mods is None:
            raise ImportError(
                f"none of {', '.join(candidates)} is installed; "
                "`pip install 'apophis_sim[poliastro]'` installs boinor")
        twobody, bodies_mod, frames_mod = mods
        attractor = getattr(bodies_mod, self.centre.capitalize(), None)
        if attractor is None:
            raise InputError(f"{candidates[0]} has no body for centre {self.centre!r}")
        plane = (frames_mod.Planes.EARTH_ECLIPTIC if self.frame == "ecliptic"
                 else frames_mod.Planes.EARTH_EQUATOR)
        return twobody.Orbit.from_vectors(attractor, self.r.to(u.km), self.v.to(u.km / u.s),
                                          epoch=self.epoch, plane=plane)


def gm_canonical(gm: u.Quantity | None, centre: str) -> float | np.ndarray:
    """GM argument -> au^3/day^2 (the centre's GM when ``gm`` is None)."""
    if gm is None:
        return centre_gm(centre)
    out = to_canonical(gm, GM_UNIT, "gm")
    if np.any(out <= 0):
        raise InputError(f"gm must be positive, got {gm}")
    return out
