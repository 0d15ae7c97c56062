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

import warnings

import numpy as np
from astropy.time import Time

from .errors import TimeInputError

__all__ = ["UTCAssumptionWarning", "to_jd_tdb", "from_jd_tdb", "dt_days", "quiet_utc", "utc_iso"]


class UTCAssumptionWarning(UserWarning):
    """UTC was used for a date past the last announced leap second."""


UTC_ASSUMPTION = ("UTC after the last announced leap second assumes that no further "
                  "leap second is inserted (TDB - UTC = 69.184 s + periodic terms)")


class quiet_utc(warnings.catch_warnings):
    """Context manager: turn ERFA's 'dubious year' warnings into one UTCAssumptionWarning.

    With ``announce=False`` they are dropped: astropy's TT -> TDB goes through an
    approximate UTC that only feeds the topocentric term of ERFA's ``dtdb``, which
    is zero for a geocentric Time, so the result does not rest on the assumption.
    """

    def __init__(self, announce: bool = True) -> None:
        super().__init__(record=True)
        self._announce = announce

    def __enter__(self):
        self._log = super().__enter__()
        warnings.simplefilter("always")
        return self._log

    def __exit__(self, *exc) -> None:
        log = self._log
        super().__exit__(*exc)
        dubious = False
        for w in log:
            if "dubious year" in str(w.message).lower():
                dubious = True
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if dubious and self._announce:
            warnings.warn(UTC_ASSUMPTION, UTCAssumptionWarning, stacklevel=3)


def to_jd_tdb(t: Time, name: str = "time") -> tuple[np.ndarray, np.ndarray]:
    """Convert an astropy Time to a two-part TDB Julian date ``(jd1, jd2)``.

    Raises
    ------
    TimeInputError
        ``t`` is not an astropy Time (a bare float is ambiguous: which scale?).
    """
    if not isinstance(t, Time):
        raise TimeInputError(
            f"{name} must be an astropy.time.Time (e.g. Time('2029-04-13', scale='tdb') "
            f"or Time(2462240.5, format='jd', scale='tdb')), got {type(t).__name__} "
            f"{t!r:.60}; a bare number does not say which time scale it is in")
    if t.scale == "tdb":
        tdb = t
    else:
        with quiet_utc(announce=t.scale == "utc"):
            tdb = t.tdb
    return np.asarray(tdb.jd1, dtype=np.float64), np.asarray(tdb.jd2, dtype=np.float64)


def from_jd_tdb(jd1, jd2) -> Time:
    """Two-part TDB Julian date -> astropy Time (scale 'tdb', format 'jd')."""
    return Time(np.asarray(jd1, dtype=np.float64), np.asarray(jd2, dtype=np.float64),
                format="jd", scale="tdb")


def dt_days(jd1_to, jd2_to, jd1_from, jd2_from) -> np.ndarray:
    """Time difference ``to - from`` in days, without losing the large day number."""
    return (np.asarray(jd1_to) - np.asarray(jd1_from)) + (np.asarray(jd2_to) - np.asarray(jd2_from))


def utc_iso(t: Time, seconds: int = 0) -> str | np.ndarray:
    """Calendar date(s) in UTC for display: ``'2029-04-13 21:45:04 UTC'``-style strings
    without the suffix, rounded to ``seconds`` decimals of a second.

    For display only (no warning for dates past the last announced leap second: a
    one-second uncertainty in a printed label is not worth one).
    """
    with quiet_utc(announce=False):
        utc = t.utc
        utc.precision = max(0, int(seconds))
        return utc.iso
