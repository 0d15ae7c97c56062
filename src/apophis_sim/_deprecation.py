"""Deprecated spellings kept for one release (see "Naming and units" in the contributor
docs): renamed keywords, attributes and option values.

Every helper warns :class:`DeprecationWarning` naming the new spelling, attributed to
the line that used the old spelling (so that the library's own use of one would be
attributed to apophis_sim, and a user's to the user's line), then behaves exactly as
the new spelling does. Every message starts with :data:`PREFIX`, so that
``-W "error:Deprecated in apophis_sim"`` turns exactly these into errors.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from typing import Any, Callable, TypeVar

from .errors import InputTypeError

__all__ = ["PREFIX", "REMOVED_IN", "deprecated_attribute", "renamed_kwargs", "renamed_value",
           "warn_renamed"]

F = TypeVar("F", bound=Callable[..., Any])

#: The release in which the deprecated spellings are removed.
REMOVED_IN = "0.3"
#: Start of every deprecation message of the package.
PREFIX = "Deprecated in apophis_sim"


_HERE = os.path.abspath(__file__)


def _stacklevel(n: int) -> int:
    """``stacklevel`` for a ``warnings.warn`` in :func:`warn_renamed` that names the
    ``n``-th frame outside this module above it (this module's wrappers and
    descriptors are transparent: 1 is the line that used the old spelling when
    called from them, the function that received it otherwise)."""
    frame = sys._getframe(2)  # the caller of warn_renamed
    level = 2
    while frame is not None:
        if os.path.abspath(frame.f_code.co_filename) != _HERE:
            n -= 1
            if n <= 0:
                return level
        frame = frame.f_back
        level += 1
    return 1


def warn_renamed(old: str, new: str, where: str = "", stacklevel: int = 1) -> None:
    """Warn that ``old`` is deprecated in favour of ``new`` (``where`` names the API).

    ``stacklevel`` counts the frames outside this module above the call: 1 is the
    function that calls this one (or, from this module's decorator and descriptor,
    the line that used the old spelling), 2 its caller, ...
    """
    place = f" ({where})" if where else ""
    warnings.warn(f"{PREFIX} 0.2{place}: {old} is renamed {new}; the old spelling is "
                  f"removed in {REMOVED_IN}", DeprecationWarning,
                  stacklevel=_stacklevel(stacklevel))


def renamed_kwargs(**renames: str | tuple[str, Callable[[Any], Any]]) -> Callable[[F], F]:
    """Decorator: accept the old keyword names ``renames = {old: new}`` with a warning.

    A value ``(new, convert)`` also converts the old keyword's value (e.g. a bare km
    array to the Quantity the new keyword takes).

    Passing both spellings is a :class:`~apophis_sim.errors.InputTypeError` (the
    same mistake as passing one keyword twice). The wrapped function's signature
    (``inspect.signature`` follows ``__wrapped__``) shows only the new names.
    """

    def decorate(func: F) -> F:
        name = func.__qualname__.replace(".__init__", "")

        table = {old: (spec, None) if isinstance(spec, str) else spec
                 for old, spec in renames.items()}

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, (new, convert) in table.items():
                if old in kwargs:
                    if new in kwargs:
                        raise InputTypeError(f"{name}() got both {old}= (deprecated) and "
                                             f"{new}=; pass only {new}=")
                    warn_renamed(f"keyword {old}=", f"{new}=", f"{name}()")
                    value = kwargs.pop(old)
                    kwargs[new] = value if convert is None else convert(value)
            return func(*args, **kwargs)

        wrapper.__deprecated_kwargs__ = {  # type: ignore[attr-defined]
            old: new for old, (new, _) in table.items()}
        return wrapper  # type: ignore[return-value]

    return decorate


class deprecated_attribute:  # noqa: N801  (used like ``property``)
    """Class attribute: a read-only alias under an old name that warns and returns ``new``
    (through ``convert`` when the old attribute had another type, e.g. a bare km array
    for a Quantity)."""

    def __init__(self, new: str, convert: Callable[[Any], Any] | None = None) -> None:
        self.new = new
        self.convert = convert
        self.old = ""
        self.__doc__ = f"Deprecated alias of ``{new}`` (removed in {REMOVED_IN})."

    def __set_name__(self, owner: type, name: str) -> None:
        self.old = name
        self.owner = owner.__name__

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        warn_renamed(f"{self.owner}.{self.old}", f"{self.owner}.{self.new}")
        value = getattr(obj, self.new)
        return value if self.convert is None else self.convert(value)


def renamed_value(value: Any, renames: dict[str, str], what: str, stacklevel: int = 2) -> Any:
    """Map a deprecated option value (``renames = {old: new}``) to its new spelling, warning.

    ``stacklevel`` as in :func:`warn_renamed` (default 2: the caller of the public
    function that calls this one).
    """
    if isinstance(value, str) and value in renames:
        warn_renamed(f"{what} {value!r}", repr(renames[value]), stacklevel=stacklevel)
        return renames[value]
    return value
