"""The single time boundary: astropy ``Time`` <-> two-part TDB Julian date.

Every public time argument is an astropy :class:`~astropy.time.Time`. It is
converted once, exactly (through ERFA: UTC -> TAI -> TT -> TDB), to a two-part
TDB Julian date ``(jd1, jd2)`` which the core keeps as two float64 arrays; time
differences are formed as ``(jd1a - jd1b) + (jd2a - jd2b)`` so no precision is
lost to the large Julian day number.

UTC beyond the last announced leap second (2029 is) rests on the assumption that
no further leap second is inserted; ERFA warns about a "dubious year". We
replace that warning by one :class:`UTCAssumptionWarning` that says so.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings

import erfa
import numpy as np
from astropy.time import Time
from astropy.utils import iers

from .errors import InputError, NonFiniteInputError, TimeInputError, TooManyRowsError

__all__ = ["UTCAssumptionWarning", "to_jd_tdb", "from_jd_tdb", "dt_days", "quiet_utc", "utc_iso",
           "utc_dates", "utc_time", "one_utc_warning", "user_stacklevel"]


class UTCAssumptionWarning(UserWarning):
    """UTC was used for a date past the last announced leap second."""


UTC_ASSUMPTION = ("UTC after the last announced leap second assumes that no further "
                  "leap second is inserted (TDB - UTC = 69.184 s + periodic terms)")


class quiet_utc(warnings.catch_warnings):
    """Context manager: turn ERFA's 'dubious year' warnings into one UTCAssumptionWarning.

    With ``announce=False`` they are dropped: astropy's TT -> TDB goes through an
    approximate UTC that only feeds the topocentric term of ERFA's ``dtdb``, which
    is zero for a geocentric Time, so the result does not rest on the assumption.

    Parameters
    ----------
    announce : bool
        Raise the UTCAssumptionWarning (default) or drop it.
    """

    def __init__(self, announce: bool = True) -> None:
        super().__init__(record=True)
        self._announce = announce

    def __enter__(self):
        # Never download (leap seconds, IERS): astropy's bundled tables only.
        self._offline = iers.conf.set_temp("auto_download", False)
        self._offline.__enter__()
        try:
            self._log = super().__enter__()
        except BaseException:
            self._offline.__exit__(None, None, None)
            raise
        warnings.simplefilter("always")
        return self._log

    def __exit__(self, *exc) -> None:
        log = self._log
        super().__exit__(*exc)
        self._offline.__exit__(*exc)
        dubious = False
        for w in log:
            if "dubious year" in str(w.message).lower():
                dubious = True
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if dubious and self._announce:
            warnings.warn(UTC_ASSUMPTION, UTCAssumptionWarning, stacklevel=user_stacklevel())


#: Frames in these directories are "inside": a warning is attributed to the first
#: frame outside them, the user's line that caused it.
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_INTERNAL_DIRS = (_PACKAGE_DIR, os.path.dirname(contextlib.__file__) + os.sep + "contextlib",
                  os.path.dirname(warnings.__file__) + os.sep + "warnings")


def user_stacklevel() -> int:
    """``stacklevel`` for :func:`warnings.warn` called from here that names the first
    frame outside apophis_sim (and outside ``contextlib``/``warnings``): the caller's
    line that caused the warning, however deep inside the package it is raised.
    """
    frame = sys._getframe(1)  # the function that calls warnings.warn
    level = 1
    while frame is not None:
        name = os.path.abspath(frame.f_code.co_filename)
        if not name.startswith(_INTERNAL_DIRS):
            return level
        frame = frame.f_back
        level += 1
    return 1


@contextlib.contextmanager
def one_utc_warning():
    """Context manager: however many :class:`UTCAssumptionWarning` are raised inside,
    re-raise one, attributed to the user's line (e.g. a porkchop whose two date grids
    are both UTC)."""
    with warnings.catch_warnings(record=True) as log:
        warnings.simplefilter("always", UTCAssumptionWarning)
        yield
    utc = False
    for w in log:
        if issubclass(w.category, UTCAssumptionWarning):
            utc = True
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if utc:
        warnings.warn(UTC_ASSUMPTION, UTCAssumptionWarning, stacklevel=user_stacklevel())


def to_jd_tdb(t: Time, name: str = "time") -> tuple[np.ndarray, np.ndarray]:
    """Convert an astropy Time to a two-part TDB Julian date ``(jd1, jd2)``.

    Parameters
    ----------
    t : Time
        Any scale (UTC past the last leap second warns once).
    name : str
        The argument's name, for error messages.

    Returns
    -------
    jd1, jd2 : ndarray
        Two-part TDB Julian date, the shape of ``t``.

    Raises
    ------
    TimeInputError
        ``t`` is not an astropy Time (a bare float is ambiguous: which scale?).
    NonFiniteInputError
        ``t`` holds masked, NaN or infinite elements (checked here, once, for every
        public time argument: the kernels would treat a NaN time step as converged).
    """
    if not isinstance(t, Time):
        raise TimeInputError(
            f"{name} must be an astropy.time.Time (e.g. Time('2029-04-13', scale='tdb') "
            f"or Time(2462240.5, format='jd', scale='tdb')), got {type(t).__name__} "
            f"{t!r:.60}; a bare number does not say which time scale it is in")
    mask = np.asarray(getattr(t, "mask", False))
    if np.any(mask):
        bad = np.argwhere(np.atleast_1d(mask))[0]
        raise NonFiniteInputError(
            f"{name} has {int(np.sum(mask))} masked element(s) (first at index "
            f"{tuple(int(i) for i in bad)}); pass only valid times, e.g. {name}[~{name}.mask]")
    jd1_raw = np.asarray(getattr(t.jd1, "unmasked", t.jd1), dtype=np.float64)
    jd2_raw = np.asarray(getattr(t.jd2, "unmasked", t.jd2), dtype=np.float64)
    _check_finite_jd(jd1_raw, jd2_raw, name)
    if t.scale == "tdb":
        jd1, jd2 = jd1_raw, jd2_raw
    elif t.scale == "ut1":
        jd1, jd2 = _ut1_to_tdb(t, name)
    else:
        try:
            with quiet_utc(announce=t.scale == "utc"):
                tdb = t.tdb
        except (ValueError, ArithmeticError, erfa.ErfaError) as exc:
            raise InputError(
                f"{name} cannot be converted from {t.scale.upper()} to TDB ({exc}); pass dates "
                f"between years -4712 and 9999, or a Time with scale='tdb'") from None
        jd1, jd2 = (np.asarray(getattr(x, "unmasked", x), dtype=np.float64)
                    for x in (tdb.jd1, tdb.jd2))
        _check_finite_jd(jd1, jd2, name)
    return jd1, jd2


@contextlib.contextmanager
def blame_range(name: str):
    """Prefix an EphemerisRangeError raised inside with the user's argument ``name``."""
    from .errors import EphemerisRangeError

    import re

    try:
        yield
    except EphemerisRangeError as exc:
        text = re.sub(r"^(to|times|until): ", "", str(exc))
        if text.startswith(f"{name}:"):
            raise
        raise EphemerisRangeError(f"{name}: {text}") from None


#: Said once per conversion when UT1 lies outside the bundled IERS tables.
UT1_EXTRAPOLATED = ("UT1 outside the bundled IERS tables: UT1-UTC is held at its last "
                    "tabulated value (|UT1-UTC| < 0.9 s by definition of UTC); no IERS data "
                    "is downloaded. Pass a Time with scale='tdb' (or 'tt', 'utc') to avoid it")


def _ut1_to_tdb(t: Time, name: str) -> tuple[np.ndarray, np.ndarray]:
    """UT1 -> TDB with astropy's bundled IERS-A/B tables only: never a download, never a
    write to the astropy cache. Beyond the tables UT1-UTC is held (one
    EarthOrientationWarning); before them (1962) a typed error says what to pass."""
    from .visibility import EarthOrientationWarning

    t_min = Time(1962, format="jyear", scale="utc")
    try:
        with iers.conf.set_temp("auto_max_age", None), \
                iers.conf.set_temp("iers_degraded_accuracy", "warn"), \
                quiet_utc(announce=True) as log:
            if np.any(t.jd1 + t.jd2 < t_min.jd1 + t_min.jd2 - 1.0):
                raise InputError(
                    f"{name} is a UT1 time before 1962, where the IERS tables start; pass it "
                    f"as TT or TDB (e.g. Time(..., scale='tt')): UT1-UTC is not tabulated there")
            tdb = t.tdb
            jd1 = np.asarray(tdb.jd1, dtype=np.float64)
            jd2 = np.asarray(tdb.jd2, dtype=np.float64)
            extrapolated = any(
                any(k in str(w.message).lower() for k in ("iers", "ut1", "degraded"))
                for w in log)
            log[:] = [w for w in log if not any(
                k in str(w.message).lower() for k in ("iers", "ut1", "degraded"))]
    except (ValueError, IndexError, ArithmeticError, erfa.ErfaError) as exc:
        if isinstance(exc, InputError):
            raise
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{name} cannot be converted from UT1 to TDB with the bundled IERS "
                         f"tables ({first}); pass a Time with scale='tdb' or 'tt'") from None
    if extrapolated:
        warnings.warn(UT1_EXTRAPOLATED, EarthOrientationWarning, stacklevel=user_stacklevel())
    _check_finite_jd(jd1, jd2, name)
    return jd1, jd2


def _check_finite_jd(jd1: np.ndarray, jd2: np.ndarray, name: str) -> None:
    ok = np.isfinite(jd1) & np.isfinite(jd2)
    if not np.all(ok):
        bad = np.argwhere(~np.atleast_1d(ok))[0]
        raise NonFiniteInputError(
            f"{name} contains {int(np.sum(~ok))} NaN or infinite time(s) (first at index "
            f"{tuple(int(i) for i in bad)}); pass finite dates, e.g. "
            f"Time('2029-04-13', scale='tdb')")


def from_jd_tdb(jd1, jd2) -> Time:
    """Two-part TDB Julian date -> astropy Time (scale 'tdb', format 'jd').

    Parameters
    ----------
    jd1, jd2 : float or array_like
        The two parts (their sum is the TDB Julian date).

    Returns
    -------
    Time
    """
    return Time(np.asarray(jd1, dtype=np.float64), np.asarray(jd2, dtype=np.float64),
                format="jd", scale="tdb")


def dt_days(jd1_to, jd2_to, jd1_from, jd2_from) -> np.ndarray:
    """Time difference ``to - from`` in days, without losing the large day number.

    Parameters
    ----------
    jd1_to, jd2_to : float or array_like
        Two-part TDB Julian date of the later time.
    jd1_from, jd2_from : float or array_like
        Two-part TDB Julian date of the earlier time.

    Returns
    -------
    ndarray
        ``to - from`` [day].
    """
    return (np.asarray(jd1_to) - np.asarray(jd1_from)) + (np.asarray(jd2_to) - np.asarray(jd2_from))


def utc_iso(t: Time, seconds: int = 0) -> str | np.ndarray:
    """Calendar date(s) in UTC for display: ``'2029-04-13 21:45:04 UTC'``-style strings
    without the suffix, rounded to ``seconds`` decimals of a second.

    For display only (no warning for dates past the last announced leap second: a
    one-second uncertainty in a printed label is not worth one).

    Parameters
    ----------
    t : Time
        Any scale.
    seconds : int
        Decimals of the second shown (0: whole seconds).

    Returns
    -------
    str or ndarray of str
    """
    with quiet_utc(announce=False):
        utc = t.utc
        utc.precision = max(0, int(seconds))
        return utc.iso


#: Most dates :func:`utc_dates` returns (80 MB a float64 array).
MAX_DATES = 10_000_000


def utc_dates(start: str | Time, stop: str | Time, step=None) -> Time:
    """Calendar dates at UTC midnights (or ``start + k step``) from ``start`` to ``stop``
    inclusive, returned as TDB :class:`~astropy.time.Time`: the grid people mean when
    they say "daily from 2027-01-01", in the scale the library computes in.

    Dates are counted in UTC days (no ERFA "dubious year" warnings while counting);
    the conversion to TDB raises one :class:`UTCAssumptionWarning` when a date lies
    past the last announced leap second, attributed to the caller's line.

    Parameters
    ----------
    start, stop : str or Time
        First and last date (UTC); ``stop`` before ``start`` gives an empty grid error.
    step : Quantity [time], optional
        Grid step (default 1 day).

    Raises
    ------
    TimeInputError
        Unparseable dates, a non-positive step, or ``stop`` before ``start``.
    TooManyRowsError
        More than ``MAX_DATES`` (10^7) dates; the message gives the smallest step.
    """
    import astropy.units as u

    from .units import to_canonical

    if step is None:
        step_d = 1.0
    else:
        step_arr = to_canonical(step, u.day, "step", finite=False)
        if np.ndim(step_arr) != 0:
            raise InputError(f"step must be a scalar time (e.g. 1 * u.day), got shape "
                             f"{np.shape(step_arr)}")
        step_d = float(step_arr)
    if not (step_d > 0 and np.isfinite(step_d)):
        raise TimeInputError(f"step must be a positive time, got {step!r}")
    for name, given in (("start", start), ("stop", stop)):
        if isinstance(given, Time) and not np.all(np.isfinite(given.jd1 + given.jd2)):
            raise NonFiniteInputError(f"{name} is not a finite date (NaN or inf); pass a "
                                      "calendar date such as '2029-01-01'")
    try:
        with quiet_utc(announce=False):
            m0 = Time(start, scale="utc").utc.mjd if not isinstance(start, Time) else start.utc.mjd
            m1 = Time(stop, scale="utc").utc.mjd if not isinstance(stop, Time) else stop.utc.mjd
    except ValueError as exc:
        raise TimeInputError(f"cannot read {start!r} / {stop!r} as dates ({exc})") from None
    for name, m, given in (("start", m0, start), ("stop", m1, stop)):
        if np.ndim(m) != 0:
            raise InputError(f"{name} must be one date, got shape {np.shape(m)}")
        if not np.isfinite(m):
            raise NonFiniteInputError(f"{name} is not a finite date: {given!r:.60}")
    if m1 < m0:
        raise TimeInputError(f"stop {stop!r} is before start {start!r}")
    n = np.floor((m1 - m0 + 1e-9) / step_d) + 1
    if n > MAX_DATES:
        raise TooManyRowsError(
            f"step {step} from {start} to {stop} makes {n:,.0f} dates, more than the limit "
            f"of {MAX_DATES:,}; pass a larger step (>= {(m1 - m0) / (MAX_DATES - 1):.3g} day) "
            "or a shorter span")
    mjd = m0 + np.arange(0.0, (m1 - m0) + 1e-9, step_d)
    with quiet_utc(announce=False), warnings.catch_warnings(record=True) as log:
        warnings.simplefilter("always")
        tdb = Time(mjd, format="mjd", scale="utc").tdb
    dubious = any("dubious year" in str(w.message).lower() for w in log)
    for w in log:
        if "dubious year" not in str(w.message).lower():
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if dubious:
        warnings.warn(UTC_ASSUMPTION, UTCAssumptionWarning, stacklevel=user_stacklevel())
    return Time(tdb.jd1, tdb.jd2, format="jd", scale="tdb")


def utc_time(value: str | Time, name: str = "time", *, announce: bool = True) -> Time:
    """A time argument that may be a date string: strings are UTC calendar dates.

    The library's one convention for strings (as in :func:`utc_dates` and every
    ``apophis-sim`` date option): ``"2029-02-13"`` is 2029-02-13 00:00 UTC, returned
    as the same instant in TDB. A :class:`~astropy.time.Time` keeps its own scale
    (it is checked and returned unchanged).

    Parameters
    ----------
    value : str or Time
        An ISO date or date-time string (UTC), or a Time in any scale.
    name : str
        The argument's name, for error messages.
    announce : bool
        Raise one :class:`UTCAssumptionWarning` (attributed to the caller's line) when
        the date lies past the last announced leap second; ``False`` for a library
        default, which the user did not write.

    Raises
    ------
    TimeInputError
        Neither a Time nor a readable date string.
    """
    if isinstance(value, Time):
        to_jd_tdb(value, name)  # the usual type and finiteness checks
        return value
    if not isinstance(value, str):
        to_jd_tdb(value, name)  # raises TimeInputError with the usual message
    try:
        with quiet_utc(announce=False), warnings.catch_warnings(record=True) as log:
            warnings.simplefilter("always")
            t = Time(value, scale="utc")
            tdb = t.tdb
    except ValueError as exc:
        raise TimeInputError(f"{name}: cannot read {value!r} as a UTC date ({exc}); use an "
                             f"ISO date such as '2029-02-13' or a Time") from None
    for w in log:
        if "dubious year" not in str(w.message).lower():
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if announce and any("dubious year" in str(w.message).lower() for w in log):
        warnings.warn(UTC_ASSUMPTION, UTCAssumptionWarning, stacklevel=user_stacklevel())
    return Time(tdb.jd1, tdb.jd2, format="jd", scale="tdb")
