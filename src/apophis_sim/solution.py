"""Orbit solutions: a state with its non-gravitational model, covariance and provenance.

An :class:`OrbitSolution` is what an orbit-determination centre publishes (JPL's
SBDB, ESA's NEOCC): the osculating orbit at an epoch, the estimated
non-gravitational parameters with the model they belong to, the covariance of the
fitted parameters, and where every number comes from.
"""

from __future__ import annotations

import copy
import json
import math
import os
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import astropy.units as u
import numpy as np
from astropy.time import Time

from .bodies import GM_SUN_SBDB
from .elements import Elements
from .errors import CovarianceError, InputError, SBDBFormatError, UnsupportedModelError
from .state import State
from .units import GM_UNIT

__all__ = ["NongravModel", "OrbitSolution", "apophis"]


@dataclass(frozen=True)
class NongravModel:
    """Radial dependence of the Marsden et al. (1973) non-gravitational acceleration.

    ``a = g(r) (A1 r_hat + A2 t_hat + A3 n_hat)`` with
    ``g(r) = alpha (r / r0)^-m (1 + (r / r0)^n)^-k`` (JPL's ALN, R0, NM, NN, NK).
    The default is JPL's asteroid convention ``g = (1 au / r)^2`` (ALN = 1, NM = 2,
    NK = 0, R0 = 1 au); :meth:`comet` is the water-ice sublimation law of Marsden
    et al. (1973) that JPL uses for comets when no parameters are listed.

    Attributes
    ----------
    alpha : float
        Normalising factor ALN (dimensionless).
    r0_au : float
        Normalising distance R0 [au].
    m, n, k : float
        Exponents NM, NN, NK.
    """

    alpha: float = 1.0
    r0_au: float = 1.0
    m: float = 2.0
    n: float = 1.0
    k: float = 0.0

    @classmethod
    def comet(cls) -> NongravModel:
        """Marsden et al. (1973) water-ice law: ALN = 0.1112620426, R0 = 2.808 au,
        NM = 2.15, NN = 5.093, NK = 4.6142."""
        return cls(alpha=0.1112620426, r0_au=2.808, m=2.15, n=5.093, k=4.6142)

    def as_array(self) -> np.ndarray:
        """(alpha, r0 [au], m, n, k) as float64, the order the compiled kernels take."""
        return np.array([self.alpha, self.r0_au, self.m, self.n, self.k], dtype=np.float64)


#: URL pattern of the JPL SBDB API answer that :meth:`OrbitSolution.from_sbdb` reads.
SBDB_URL = "https://ssd-api.jpl.nasa.gov/sbdb.api?sstr={object}&cov=mat&phys-par=1&full-prec=1"

#: JPL's names of the six element columns of an SBDB covariance, and the names of the
#: same elements in its element lists.
_EL_LABELS = ("e", "q", "tp", "node", "peri", "i")
_EL_NAMES = {"e": "e", "q": "q", "tp": "tp", "node": "om", "peri": "w", "i": "i"}
_NG_NAMES = ("A1", "A2", "A3")
#: The g(r) parameters and the NongravModel attribute each one sets.
_LAW_NAMES = {"ALN": "alpha", "R0": "r0_au", "NM": "m", "NN": "n", "NK": "k"}
_EL_UNITS = {"e": u.dimensionless_unscaled, "q": u.au, "tp": u.day, "node": u.deg,
             "peri": u.deg, "i": u.deg}
#: Relative asymmetry |C_ij - C_ji| / sqrt(C_ii C_jj) above which a covariance is rejected.
_COV_SYMMETRY_RTOL = 1e-10


@dataclass(frozen=True)
class OrbitSolution:
    """An orbit solution: state, non-gravitational parameters, covariance, provenance.

    Build one from a JPL SBDB API answer with :meth:`from_sbdb`; :func:`apophis`
    is JPL's solution #220 of (99942) Apophis.

    Attributes
    ----------
    name, solution : str
        Object name (JPL's ``fullname``) and solution identifier (e.g. ``"JPL#220"``).
    state : State
        Heliocentric ICRF state at the solution epoch (the covariance epoch for
        SBDB solutions).
    nongrav : Quantity, shape (3,)
        A1, A2, A3 [au/day^2] of the Marsden model (zeros where not estimated).
    H, G : float or None
        Absolute magnitude and slope parameter (IAU H-G system); ``None`` when the
        solution has none (comets publish total magnitudes M1/K1 instead, kept in
        ``provenance["phys_par"]``).
    covariance : ndarray (n, n)
        Covariance of ``covariance_labels`` (JPL's e, q, tp, node, peri, i, then
        non-gravitational parameters; units in ``covariance_units``), ecliptic
        J2000 elements at the epoch of ``state``. ``n`` is 6, 7 or 8 (9 with A1..A3).
    covariance_labels : tuple of str
        JPL's label names, in the order of ``covariance``.
    covariance_units : dict
        Label -> astropy unit (tp in days of TDB Julian date).
    nominal_elements : dict
        Label -> nominal value (float, units of ``covariance_units``).
    provenance : dict
        Where every number comes from (source, orbit id, solution date, producer,
        data arc, observations, ephemerides used, ...).
    nongrav_model : NongravModel
        The g(r) law that ``nongrav`` multiplies (default JPL's asteroid
        convention, g = (1 au / r)^2).
    orbit_elements : Elements or None
        The osculating ecliptic elements JPL publishes at its orbit epoch
        (``orbit.epoch``; often not the covariance epoch); None when not known.
    elements : Elements or None
        The covariance's nominal ecliptic elements at the epoch of ``state`` (the
        elements ``state`` was computed from); None when not known.
    moid_jpl : Quantity or None
        JPL's published Earth MOID [au] (computed at the orbit epoch).
    """

    name: str
    solution: str
    state: State
    nongrav: u.Quantity
    H: float | None
    G: float | None
    covariance: np.ndarray = field(repr=False)
    covariance_labels: tuple[str, ...] = field(repr=False)
    covariance_units: dict = field(repr=False)
    nominal_elements: dict = field(repr=False)
    provenance: dict = field(repr=False)
    nongrav_model: NongravModel = field(default_factory=NongravModel)
    orbit_elements: Elements | None = field(default=None, repr=False)
    elements: Elements | None = field(default=None, repr=False)
    moid_jpl: u.Quantity | None = None

    @property
    def orbit_epoch(self) -> Time | None:
        """Epoch (TDB) of :attr:`orbit_elements`, or None."""
        return None if self.orbit_elements is None else self.orbit_elements.epoch

    def __repr__(self) -> str:
        ep = self.state.epoch
        when = ep.utc.isot if ep.isscalar else "(batch)"
        n = np.shape(self.covariance)
        ng = ", ".join(f"{k}={v:.4g}" for k, v in zip(_NG_NAMES, self.nongrav.to_value(
            u.au / u.day**2).ravel()) if v != 0.0) or "none"
        return (f"<OrbitSolution {self.name!r} {self.solution} epoch={when} UTC "
                f"cov={n[0]}x{n[1] if len(n) > 1 else ''} nongrav=[{ng}] au/d^2>")

    @classmethod
    def from_sbdb(cls, source: str | os.PathLike | dict, *,
                  unsupported: str = "raise") -> OrbitSolution:
        """Orbit solution from a JPL Small-Body Database (SBDB) API answer.

        Download the JSON yourself (apophis_sim never touches the network), e.g.
        ``https://ssd-api.jpl.nasa.gov/sbdb.api?sstr=99942&cov=mat&phys-par=1&full-prec=1``
        (:data:`SBDB_URL`; ``sstr`` takes a number, designation or name, e.g.
        ``C/2022%20E3``). ``cov=mat`` gives the covariance as a matrix, ``full-prec=1``
        all digits, ``phys-par=1`` H and G.

        Parameters
        ----------
        source : str, os.PathLike or dict
            Path of the JSON file, or the already parsed dict (not modified).
        unsupported : {"raise", "drop"}, keyword-only
            What to do with force-model parameters the propagator does not model
            (JPL's DT time delay, RHO/AMRAT of its Yarkovsky/radiation-pressure
            thermal model, S0, or any other name besides A1, A2, A3, ALN, R0, NM,
            NN, NK). ``"raise"`` (default) raises :class:`UnsupportedModelError`.
            ``"drop"`` removes them: the covariance becomes the sub-matrix of the
            kept labels (which is exactly the marginal distribution of a Gaussian),
            and ``provenance["dropped_parameters"]`` and ``provenance["notes"]``
            record it. The orbit's nominal state is kept as fitted, so predictions
            lack the dropped force (e.g. Bennu's Yarkovsky drift).

        Returns
        -------
        OrbitSolution
            ``state``: heliocentric ICRF state at the covariance epoch
            (``orbit.covariance.epoch``), from ``orbit.covariance.elements``
            (ecliptic J2000, GM_sun = 2.9591220828411951e-04 au^3/d^2, JPL's) via
            :class:`~apophis_sim.elements.Elements`; without a covariance block, at
            ``orbit.epoch`` from ``orbit.elements``. ``orbit_elements``: JPL's
            elements at ``orbit.epoch``. ``moid_jpl``: JPL's Earth MOID [au].

        Notes
        -----
        * Decimal strings are parsed with ``float`` (correctly rounded float64);
          tp and epochs keep two parts (integer day + decimal fraction), so tp keeps
          the ~1e-12 day (0.1 us) JPL prints.
        * Non-gravitational law: the SET values of ALN, R0, NM, NN, NK where
          listed, JPL's documented defaults (the comet law,
          :meth:`NongravModel.comet`) for the unlisted ones; with none listed, the
          comet law for comets (``object.kind`` starting with ``"c"``) and
          g = (1 au / r)^2 for asteroids (JPL's conventions).
        * H and G from ``phys_par``; G = 0.15 (the IAU default) when H is given
          without G; both None when there is no H (comets: M1, K1 in
          ``provenance["phys_par"]``).
        * The covariance must be square, finite, with non-negative variances and
          symmetric to 1e-10 relative (|C_ij - C_ji| <= 1e-10 sqrt(C_ii C_jj));
          it is not required to be positive definite (JPL's can be semi-definite
          at round-off) and is symmetrised as (C + C^T) / 2.

        Raises
        ------
        SBDBFormatError
            A required field is missing or unparsable; the message names its path,
            e.g. ``orbit.covariance.elements['tp']``. Also for JPL error answers.
        CovarianceError
            The covariance is not square, finite, has a negative variance, or is
            asymmetric beyond round-off.
        UnsupportedModelError
            The model has parameters the propagator does not model and
            ``unsupported="raise"``; the message names them.
        UnknownNameError
            ``unsupported`` is not "raise" or "drop".
        InputError
            ``source`` is neither a path nor a dict.
        """
        from .errors import UnknownNameError

        if unsupported not in ("raise", "drop"):
            raise UnknownNameError("unsupported option", unsupported, ("raise", "drop"))
        if isinstance(source, dict):
            data, where = source, "dict"
        elif isinstance(source, (str, os.PathLike)):
            where = os.fspath(source)
            try:
                with open(where, encoding="utf-8") as fh:
                    data = json.load(fh)
            except json.JSONDecodeError as exc:
                raise SBDBFormatError(f"source {where!r} is not valid JSON ({exc})") from None
            except UnicodeDecodeError:
                raise SBDBFormatError(f"source {where!r} is not a UTF-8 text file; pass the JSON "
                                      f"answer of JPL's SBDB API") from None
            except OSError as exc:
                raise InputError(f"source: cannot read {where!r} ({exc.strerror or exc}); "
                                 f"pass the path of a JSON file saved from {SBDB_URL}") from None
            if not isinstance(data, dict):
                raise SBDBFormatError(f"{where} holds a JSON {type(data).__name__}, "
                                      "not an SBDB API object")
        else:
            raise InputError(f"source must be a path (str or os.PathLike) or a dict parsed "
                             f"from an SBDB API answer, got {type(source).__name__}")
        return _from_sbdb_dict(data, where, unsupported)


# ----------------------------------------------------------------------------- SBDB parsing


def _req(obj: Any, key: str, path: str) -> Any:
    if not isinstance(obj, dict):
        raise SBDBFormatError(f"{path.rsplit('.', 1)[0]} must be a JSON object")
    if key not in obj or obj[key] is None:
        raise SBDBFormatError(f"missing field {path} in the SBDB answer; download it with "
                              f"{SBDB_URL.format(object='<object>')}")
    return obj[key]


def _num(text: Any, path: str, nonfinite: type[InputError] = SBDBFormatError) -> float:
    try:
        val = float(text)
    except (TypeError, ValueError):
        raise SBDBFormatError(f"{path} = {text!r} is not a decimal number") from None
    if not math.isfinite(val):
        raise nonfinite(f"{path} = {text!r} is not finite")
    return val


def _jd2(text: Any, path: str) -> tuple[float, float]:
    """Decimal JD string -> (integer day, fraction), each exact to float64 rounding."""
    val = _num(text, path)
    s = str(text).strip()
    sign = -1.0 if s.startswith("-") else 1.0
    body = s.lstrip("+-")
    if "e" in body.lower() or not body.replace(".", "", 1).isdigit():
        return val, 0.0
    ip, _, frac = body.partition(".")
    return sign * float(int(ip or "0")), sign * float("0." + (frac or "0"))


def _tdb(jd: tuple[float, float]) -> Time:
    return Time(jd[0], jd[1], format="jd", scale="tdb")


def _elements(items: Any, epoch: tuple[float, float], path: str) -> tuple[Elements, dict]:
    """SBDB element list -> (ecliptic heliocentric Elements, nominal dict by JPL label)."""
    if not isinstance(items, list):
        raise SBDBFormatError(f"{path} must be a list of elements")
    by_name = {it.get("name"): it.get("value") for it in items if isinstance(it, dict)}
    vals: dict[str, float] = {}
    tp = (0.0, 0.0)
    for label in _EL_LABELS:
        name = _EL_NAMES[label]
        p = f"{path}['{name}']"
        if by_name.get(name) is None:
            raise SBDBFormatError(f"missing field {p} in the SBDB answer")
        if label == "tp":
            tp = _jd2(by_name[name], p)
            vals[label] = tp[0] + tp[1]
        else:
            vals[label] = _num(by_name[name], p)
    try:
        el = Elements(q=vals["q"] * u.au, e=vals["e"], inc=vals["i"] * u.deg,
                      raan=vals["node"] * u.deg, argp=vals["peri"] * u.deg, tp=_tdb(tp),
                      epoch=_tdb(epoch), frame="ecliptic", centre="sun",
                      gm=GM_SUN_SBDB * GM_UNIT)
    except InputError as exc:
        raise SBDBFormatError(f"{path} holds invalid elements: {exc}") from None
    return el, vals


def check_covariance(cov: np.ndarray, labels: tuple[str, ...], name: str = "covariance"
                     ) -> np.ndarray:
    """Validate a covariance matrix and return it symmetrised, (C + C^T) / 2.

    Checks: square with one row per label, finite, non-negative variances, and
    |C_ij - C_ji| <= 1e-10 sqrt(C_ii C_jj). Positive definiteness is not required
    (published covariances can be semi-definite at round-off).

    Raises
    ------
    CovarianceError
        Naming the offending entry.
    """
    c = np.asarray(cov, dtype=np.float64)
    n = len(labels)
    if c.shape != (n, n):
        raise CovarianceError(f"{name} must be {n}x{n} (one row per label {labels}), "
                              f"got shape {c.shape}")
    if not np.isfinite(c).all():
        i, j = (int(k) for k in np.argwhere(~np.isfinite(c))[0])
        raise CovarianceError(f"{name}[{labels[i]}, {labels[j]}] is not finite")
    d = np.diag(c)
    if np.any(d < 0):
        i = int(np.argmax(d < 0))
        raise CovarianceError(f"{name} has a negative variance for {labels[i]} ({d[i]:.3e})")
    scale = np.sqrt(np.outer(d, d))
    asym = np.abs(c - c.T)
    bad = asym > _COV_SYMMETRY_RTOL * scale
    if np.any(bad):
        i, j = (int(k) for k in np.argwhere(bad)[0])
        raise CovarianceError(
            f"{name} is not symmetric: [{labels[i]}, {labels[j]}] = {c[i, j]:.16e} but "
            f"[{labels[j]}, {labels[i]}] = {c[j, i]:.16e} (tolerance 1e-10 relative to "
            "sqrt(C_ii C_jj))")
    return 0.5 * (c + c.T)


def _from_sbdb_dict(data: dict, where: str, unsupported: str) -> OrbitSolution:
    if "orbit" not in data and "message" in data:
        raise SBDBFormatError(f"{where} is an SBDB error answer, not an orbit: "
                              f"{data.get('message')!r}")
    if "orbit" not in data and "list" in data:
        raise SBDBFormatError(f"{where} is an SBDB list of matching objects, not an orbit; "
                              "query one object (its number or full designation)")
    orbit = _req(data, "orbit", "orbit")
    obj = data.get("object") or {}
    epoch = _jd2(_req(orbit, "epoch", "orbit.epoch"), "orbit.epoch")
    orbit_el, orbit_vals = _elements(_req(orbit, "elements", "orbit.elements"), epoch,
                                     "orbit.elements")

    # Model parameters: name -> (value, kind, units).
    mp_raw = orbit.get("model_pars") or []
    if not isinstance(mp_raw, list):
        raise SBDBFormatError("orbit.model_pars must be a list")
    model: dict[str, tuple[float, str, str | None]] = {}
    for k, it in enumerate(mp_raw):
        name = _req(it, "name", f"orbit.model_pars[{k}].name")
        model[name] = (_num(_req(it, "value", f"orbit.model_pars['{name}'].value"),
                            f"orbit.model_pars['{name}'].value"),
                       str(it.get("kind") or ""), it.get("units"))
    unknown = tuple(n for n in model if n not in _NG_NAMES and n not in _LAW_NAMES)
    notes: list[str] = []
    if unknown and unsupported == "raise":
        raise UnsupportedModelError(
            unknown,
            f"{where}: the orbit solution uses force-model parameters apophis_sim does not "
            f"model: {', '.join(unknown)} (it models the Marsden A1, A2, A3 with g(r) "
            "parameters ALN, R0, NM, NN, NK); pass unsupported='drop' to drop them (the "
            "covariance is then marginalised over them)")
    if unknown:
        notes.append(f"dropped unsupported model parameters {', '.join(unknown)}: the "
                     "covariance is the marginal over the kept labels, and predictions "
                     "lack that force")

    # Covariance (and the epoch of the state).
    cov_block = orbit.get("covariance")
    if cov_block is not None:
        labels = tuple(_req(cov_block, "labels", "orbit.covariance.labels"))
        rows = _req(cov_block, "data", "orbit.covariance.data")
        cov_epoch = _jd2(_req(cov_block, "epoch", "orbit.covariance.epoch"),
                         "orbit.covariance.epoch")
        if labels[:6] != _EL_LABELS:
            raise SBDBFormatError(f"orbit.covariance.labels must start with {_EL_LABELS}, "
                                  f"got {labels}")
        for lab in labels[6:]:
            if lab not in model:
                raise SBDBFormatError(f"missing field orbit.model_pars['{lab}'] (the "
                                      "nominal value of a covariance label)")
        if cov_block.get("elements") is not None:
            state_el, cov_vals = _elements(cov_block["elements"], cov_epoch,
                                           "orbit.covariance.elements")
        elif sum(cov_epoch) == sum(epoch):
            state_el, cov_vals = orbit_el, orbit_vals
        else:
            raise SBDBFormatError(
                "missing field orbit.covariance.elements (the covariance epoch "
                f"{sum(cov_epoch)} differs from orbit.epoch {sum(epoch)}, so the "
                "nominal elements of the covariance are needed)")
        if not isinstance(rows, list) or any(not isinstance(r, list) for r in rows):
            raise SBDBFormatError("orbit.covariance.data must be a list of rows")
        cov = np.array([[_num(x, f"orbit.covariance.data[{i}][{j}]", CovarianceError) for j, x in
                         enumerate(r)] for i, r in enumerate(rows)], dtype=np.float64) \
            if rows and all(len(r) == len(rows[0]) for r in rows) else None
        if cov is None:
            raise CovarianceError("orbit.covariance.data rows have different lengths")
        cov = check_covariance(cov, labels, "orbit.covariance.data")
        keep = [k for k, lab in enumerate(labels) if lab not in unknown]
        cov = cov[np.ix_(keep, keep)]
        labels = tuple(labels[k] for k in keep)
        cov_epoch_jd = cov_epoch
    else:
        state_el, cov_vals = orbit_el, orbit_vals
        cov = np.zeros((0, 0))
        labels = ()
        cov_epoch_jd = epoch
        notes.append("no covariance in the SBDB answer (query with cov=mat)")

    nominal = {lab: (cov_vals[lab] if lab in cov_vals else model[lab][0]) for lab in labels}
    units = {lab: _EL_UNITS.get(lab, u.Unit(model[lab][2]) if lab in model and model[lab][2]
                                else u.dimensionless_unscaled) for lab in labels}
    for lab in labels[6:]:
        if lab in _NG_NAMES:
            units[lab] = u.au / u.day**2

    a123 = np.array([model[n][0] if n in model else 0.0 for n in _NG_NAMES])
    kind = str(obj.get("kind") or "")
    if any(n in model for n in _NG_NAMES):
        listed = {attr: model[n][0] for n, attr in _LAW_NAMES.items() if n in model}
        if listed:
            base = NongravModel.comet()  # JPL's documented defaults for unlisted ones
            ng_model = NongravModel(**{**base.__dict__, **listed})
        elif kind.lower().startswith("c"):
            ng_model = NongravModel.comet()
        else:
            ng_model = NongravModel()
    else:
        ng_model = NongravModel()

    phys = {}
    for k, it in enumerate(data.get("phys_par") or []):
        if isinstance(it, dict) and it.get("name") is not None:
            phys[it["name"]] = it.get("value")
    H = G = None
    if phys.get("H") is not None:
        H = _num(phys["H"], "phys_par['H']")
        G = _num(phys["G"], "phys_par['G']") if phys.get("G") is not None else 0.15
        if phys.get("G") is None:
            notes.append("G not published: IAU default G = 0.15 assumed")

    state = state_el.to_state().to_frame("icrf")
    moid = orbit.get("moid")
    orbit_id = str(orbit.get("orbit_id") or obj.get("orbit_id") or "?")
    sig = data.get("signature") or {}
    source = f"{sig.get('source', 'JPL SBDB API')} v{sig.get('version', '?')}"
    provenance = {
        "orbit": (f"{source}: solution JPL#{orbit_id} dated {orbit.get('soln_date')}, producer "
                  f"{orbit.get('producer')}; {orbit.get('n_obs_used')} observations "
                  f"{orbit.get('first_obs')}..{orbit.get('last_obs')}; fit with "
                  f"{orbit.get('pe_used')} + {orbit.get('sb_used')}"),
        "source": source,
        "file": where,
        "url_pattern": SBDB_URL,
        "orbit_id": orbit_id,
        "soln_date": orbit.get("soln_date"),
        "producer": orbit.get("producer"),
        "data_arc_days": orbit.get("data_arc"),
        "first_obs": orbit.get("first_obs"),
        "last_obs": orbit.get("last_obs"),
        "n_obs_used": orbit.get("n_obs_used"),
        "n_del_obs_used": orbit.get("n_del_obs_used"),
        "n_dop_obs_used": orbit.get("n_dop_obs_used"),
        "rms": orbit.get("rms"),
        "pe_used": orbit.get("pe_used"),
        "sb_used": orbit.get("sb_used"),
        "equinox": orbit.get("equinox"),
        "comment": orbit.get("comment"),
        "fullname": obj.get("fullname"),
        "designation": obj.get("des"),
        "spkid": obj.get("spkid"),
        "kind": kind,
        "orbit_class": (obj.get("orbit_class") or {}).get("name"),
        "orbit_epoch_jd_tdb": sum(epoch),
        "covariance_epoch_jd_tdb": sum(cov_epoch_jd),
        "model_pars": {n: v[0] for n, v in model.items()},
        "phys_par": copy.deepcopy(phys),
        "dropped_parameters": list(unknown) if unknown else [],
        "notes": notes,
    }
    return OrbitSolution(
        name=str(obj.get("fullname") or obj.get("des") or "?"),
        solution=f"JPL#{orbit_id}",
        state=state,
        nongrav=a123 * (u.au / u.day**2),
        H=H, G=G,
        covariance=cov,
        covariance_labels=labels,
        covariance_units=units,
        nominal_elements=nominal,
        provenance=provenance,
        nongrav_model=ng_model,
        orbit_elements=orbit_el,
        elements=state_el,
        moid_jpl=None if moid is None else _num(moid, "orbit.moid") * u.au,
    )


@lru_cache(maxsize=1)
def apophis() -> OrbitSolution:
    """JPL orbit solution #220 of (99942) Apophis (shipped with the package).

    ``OrbitSolution.from_sbdb`` of the shipped SBDB API answer
    ``apophis_sim/data/99942.json`` (solution date 2024-06-25, DE441 + SB441-N16):
    the heliocentric ICRF state at 2021-01-01 TDB (JD 2459215.5, the covariance
    epoch) from JPL's elements, A1 = 5.0e-13, A2 = -2.901766637153165e-14,
    A3 = 0 au/day^2 with g = (1 au / r)^2, H = 19.09, G = 0.24, the full 8x8
    covariance of (e, q, tp, node, peri, i, A1, A2), JPL's elements at the orbit
    epoch 2025-11-21 and its Earth MOID 0.000360605 au. Cached: every call returns
    the same object.
    """
    text = resources.files("apophis_sim").joinpath("data/99942.json").read_text()
    sol = OrbitSolution.from_sbdb(json.loads(text))
    sol.provenance["file"] = "apophis_sim/data/99942.json"
    return sol
