"""Canonical units and the Quantity boundary.

Inside the core everything is a plain float64 in au, day, TDB Julian date and
au^3/day^2. Public functions call :func:`to_canonical` once per argument on the
way in and attach units once on the way out.
"""

from __future__ import annotations

import astropy.units as u
import numpy as np

from .errors import InputError, NonFiniteInputError, PhysicalTypeError

__all__ = ["AU", "DAY", "AU_PER_DAY", "GM_UNIT", "AU_KM", "to_canonical", "check_finite",
           "check_magnitude", "MAX_MAGNITUDE", "real_array", "real_scalar", "integer"]

AU = u.au
DAY = u.day
AU_PER_DAY = u.au / u.day
GM_UNIT = u.au**3 / u.day**2
#: IAU 2012 Resolution B2 (exact).
AU_KM = 149_597_870.700


def check_finite(values: np.ndarray, name: str) -> np.ndarray:
    """Raise :class:`NonFiniteInputError` if ``values`` holds NaN or infinity.

    Parameters
    ----------
    values : ndarray
        Canonical floats.
    name : str
        The argument's name, for the message.

    Returns
    -------
    ndarray
        ``values``, unchanged.
    """
    if not np.all(np.isfinite(values)):
        bad = np.argwhere(~np.isfinite(np.atleast_1d(values)))
        raise NonFiniteInputError(
            f"{name} contains {len(bad)} NaN or infinite value(s) (first at index "
            f"{tuple(int(i) for i in bad[0])}); pass finite numbers")
    return values


def to_canonical(value, unit: u.UnitBase, name: str, *, finite: bool = True) -> np.ndarray:
    """Strip the units of a Quantity argument, converting to ``unit``.

    Parameters
    ----------
    value : astropy.units.Quantity
        The user's argument. A bare number is rejected: it is ambiguous.
    unit : astropy.units.UnitBase
        Canonical unit to convert to (its physical type is what is checked).
    name : str
        Argument name used in error messages.
    finite : bool
        Also reject NaN and infinity.

    Returns
    -------
    numpy.ndarray
        float64 values in ``unit`` (a view when no conversion is needed).

    Raises
    ------
    PhysicalTypeError
        ``value`` is not a Quantity or has the wrong physical type.
    NonFiniteInputError
        ``value`` contains NaN or infinity and ``finite`` is true.
    """
    if not isinstance(value, u.Quantity):
        raise PhysicalTypeError(
            f"{name} must be an astropy Quantity with units of {unit.physical_type} "
            f"(e.g. 1.0 * u.{unit.to_string()}), got {type(value).__name__} {value!r:.60}")
    if np.iscomplexobj(value.value):
        raise PhysicalTypeError(
            f"{name} must be real, got a complex Quantity ({value.dtype}); its imaginary part "
            f"would be lost: pass the real part, e.g. {name}.real")
    if value.unit is unit or value.unit == unit:
        out = np.asarray(value.value, dtype=np.float64)
    else:
        try:
            out = np.asarray(value.to_value(unit), dtype=np.float64)
        except u.UnitConversionError:
            raise PhysicalTypeError(
                f"{name} must have units of {unit.physical_type} (convertible to "
                f"{unit.to_string()}), got {value.unit.to_string() or 'dimensionless'} "
                f"({value.unit.physical_type})") from None
    if finite:
        check_finite(out, name)
        check_magnitude(out, name, unit)
    return out


#: Largest absolute value accepted in canonical units (au, day, km, km/s, rad, ...): far beyond
#: anything physical, and small enough that products of six such numbers stay finite
#: in float64 (so no kernel overflows to inf/NaN on a finite input).
MAX_MAGNITUDE = 1e50


def check_magnitude(arr: np.ndarray, name: str, unit: u.UnitBase | None = None) -> None:
    """Typed error for finite values beyond ``MAX_MAGNITUDE`` (overflow guard).

    Parameters
    ----------
    arr : array_like
        The values (already in canonical units).
    name : str
        The argument's name, for the message.
    unit : astropy.units.Unit, optional
        Their unit, for the message.
    """
    a = np.abs(np.asarray(arr, dtype=np.float64))
    if a.size and np.max(a) > MAX_MAGNITUDE:
        what = f" {unit.to_string()}" if unit is not None and unit.to_string() else ""
        raise InputError(f"{name} has a value of magnitude {np.max(a):.3g}{what}, beyond the "
                         f"{MAX_MAGNITUDE:g} this library accepts (float64 products would "
                         f"overflow); pass a physical value")


def real_array(value, name: str, *, shape: tuple | None = None, last: int | None = None,
               positive: bool = False, non_negative: bool = False) -> np.ndarray:
    """A plain-number argument (documented in fixed units, e.g. ``*_km``) -> float64
    array, or a typed error naming ``name``: not numbers, complex, NaN/inf, beyond
    ``MAX_MAGNITUDE``, wrong shape (``shape`` exact, or ``last`` = size of the last
    axis), or not positive / not >= 0.

    Parameters
    ----------
    value : array_like
        The argument as given (plain numbers; a Quantity is refused).
    name : str
        The argument's name, for the messages.
    shape : tuple, optional
        The exact shape required.
    last : int, optional
        The size required of the last axis.
    positive, non_negative : bool
        Require every value > 0, or >= 0.

    Returns
    -------
    ndarray of float64
    """
    from .errors import InputTypeError, ShapeMismatchError

    if isinstance(value, u.Quantity):
        raise PhysicalTypeError(f"{name} takes plain numbers in the units its name says, "
                                f"got a Quantity in {value.unit}; pass .value in those units")
    try:
        arr = np.asarray(value)
    except Exception:  # noqa: BLE001 - anything numpy cannot read
        arr = np.asarray(None)
    if arr.dtype.kind == "c":
        raise PhysicalTypeError(f"{name} must be real, got complex values; pass the real part")
    if arr.dtype.kind not in "biuf" or arr.dtype == np.bool_:
        raise InputTypeError(f"{name} must be a number or an array of numbers, got "
                             f"{type(value).__name__} {value!r:.60}")
    arr = arr.astype(np.float64)
    if shape is not None and arr.shape != tuple(shape):
        raise ShapeMismatchError(f"{name} must have shape {tuple(shape)}, got {arr.shape}")
    if last is not None and (arr.ndim == 0 or arr.shape[-1] != last):
        raise ShapeMismatchError(f"{name} must have {last} components on its last axis, got "
                                 f"shape {arr.shape}")
    check_finite(arr, name)
    check_magnitude(arr, name)
    if positive and np.any(arr <= 0):
        raise InputError(f"{name} must be > 0, got {value!r:.60}")
    if non_negative and np.any(arr < 0):
        raise InputError(f"{name} must be >= 0, got {value!r:.60}")
    return arr


def real_scalar(value, name: str, **kw) -> float:
    """:func:`real_array` for one number.

    Parameters
    ----------
    value : number
        The argument as given.
    name : str
        The argument's name, for the messages.
    **kw
        ``positive`` / ``non_negative`` as in :func:`real_array`.

    Returns
    -------
    float
    """
    return float(real_array(value, name, shape=(), **kw))


def integer(value, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer count argument, or a typed error naming ``name``.

    Parameters
    ----------
    value : int
        The argument as given (a bool or a float is refused).
    name : str
        The argument's name, for the messages.
    minimum, maximum : int, optional
        Inclusive bounds.

    Returns
    -------
    int
    """
    ok = (not isinstance(value, (bool, np.bool_))) and isinstance(value, (int, np.integer))
    if not ok or (minimum is not None and value < minimum) or \
            (maximum is not None and value > maximum):
        lo = "" if minimum is None else f" >= {minimum}"
        hi = "" if maximum is None else f" and <= {maximum:,}"
        raise InputError(f"{name} must be an integer{lo}{hi}, got {value!r:.60}")
    return int(value)
