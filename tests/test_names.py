"""Names and units (docs/contributing.rst, "Naming and units"): the rules, checked over
the whole public API, and every deprecated spelling of the previous release.

The rule checks walk ``__all__`` of the package and of every public module; they
import only names that the previous release already had, so that they can be run
against it (and fail there: ``state_or_solution``, ``arrival_vinf_max``,
``max_distance``, ``LinearEncounter.nominal``, ...).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import inspect
import json
import pkgutil
import re
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time

import apophis_sim

KMS = u.km / u.s

# --------------------------------------------------------------------------- the walk


def _public_modules():
    names = ["apophis_sim"] + sorted(
        m.name for m in pkgutil.walk_packages(apophis_sim.__path__, "apophis_sim.")
        if not any(p.startswith("_") for p in m.name.split(".")) and ".cli" not in m.name)
    return [importlib.import_module(n) for n in names]


def _public_objects():
    """(qualified name, object) of every function and class in a public ``__all__``."""
    seen, out = set(), []
    for mod in _public_modules():
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and id(obj) not in seen:
                seen.add(id(obj))
                out.append((f"{mod.__name__}.{name}", obj))
    return out


def _callables():
    """(qualified name, function, is_method) for every public function, class
    constructor and public method."""
    out = []
    for qual, obj in _public_objects():
        if inspect.isfunction(obj):
            out.append((qual, obj, False))
            continue
        if issubclass(obj, BaseException):
            continue
        init = obj.__dict__.get("__init__")
        if init is not None and inspect.isfunction(init):
            out.append((f"{qual}.__init__", init, True))
        for an, av in vars(obj).items():
            if an.startswith("_"):
                continue
            f = av.__func__ if isinstance(av, (classmethod, staticmethod)) else av
            if inspect.isfunction(f):
                out.append((f"{qual}.{an}", f, not isinstance(av, staticmethod)))
    return out


def _params(func, is_method):
    ps = list(inspect.signature(func).parameters.values())
    return ps[1:] if is_method and ps and ps[0].name in ("self", "cls") else ps


#: max_/min_ is for caps on counts; limits on quantities are <quantity>_max/_min.
_COUNT_NOUNS = {"revs", "steps", "iterations", "rows", "k", "workers"}

#: Float-level helpers (documented as such: canonical floats in and out, units in
#: every name) and dict/JSON records: unit suffixes are their rule, not a violation.
_FLOAT_LEVEL = {
    "apophis_sim.bodies.Body", "apophis_sim.ephemeris.EphemerisTables",
    "apophis_sim.tables.Site", "apophis_sim.risk.OpikEncounter",
    "apophis_sim.risk.LineOfVariations", "apophis_sim.uncertainty.BPlane",
    "apophis_sim.uncertainty.EncounterStatistics", "apophis_sim.NongravModel",
}
_UNIT_SUFFIX = re.compile(r"_(km|km_s|km2|au|au_d|m|mm_s|s|days?|deg|rad|jd|tdb_jd|mjd)$")


def test_parameter_names_follow_the_rules():
    """v_inf is spelled v_inf; limits on quantities are <quantity>_max/_min; the first
    argument of an OrbitSolution-taking function is ``solution``, of a State-taking
    one ``state``."""
    bad = []
    for qual, func, is_method in _callables():
        ps = _params(func, is_method)
        for p in ps:
            if re.search(r"(^|_)vinf", p.name):
                bad.append(f"{qual}({p.name}=): spell v_inf as v_inf")
            m = re.match(r"^(max|min)_(.+)$", p.name)
            if m and m.group(2) not in _COUNT_NOUNS:
                bad.append(f"{qual}({p.name}=): a limit is named {m.group(2)}_{m.group(1)}")
        positional = [p for p in ps if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if positional and positional[0].name == "ax":
            positional = positional[1:]
        if not positional:
            continue
        first = positional[0]
        ann = first.annotation if isinstance(first.annotation, str) else str(first.annotation)
        has_sol = "OrbitSolution" in ann
        has_state = re.search(r"\bState\b", ann) is not None
        if "Elements" in ann:  # an orbit to draw or convert: State or Elements
            if first.name != "orbit" and has_state:
                bad.append(f"{qual}({first.name}): a State or Elements argument is named orbit")
        elif has_sol and not has_state and first.name != "solution":
            bad.append(f"{qual}({first.name}): an OrbitSolution argument is named solution")
        elif has_state and not has_sol and first.name != "state":
            bad.append(f"{qual}({first.name}): a State argument is named state")
        elif has_state and has_sol and first.name not in ("state", "solution"):
            bad.append(f"{qual}({first.name}): a State or OrbitSolution argument is named "
                       f"state (or solution when the function needs the solution's covariance, "
                       f"H/G or non-gravitational model)")
    assert not bad, "\n".join(bad)


def test_result_attributes_carry_units():
    """Public result objects hold Quantities and Times: no bare array named for a unit
    (``*_km``, ``*_jd``, ...) outside the float-level helpers, no ``vinf``, and no
    attribute that mixes units under a plain name (``nominal``, ``sigma``)."""
    bad = []
    for qual, obj in _public_objects():
        if not inspect.isclass(obj) or issubclass(obj, BaseException):
            continue
        names = [f.name for f in dataclasses.fields(obj)] if dataclasses.is_dataclass(obj) else []
        names += [n for n, v in vars(obj).items() if isinstance(v, property)
                  and not n.startswith("_") and not (v.__doc__ or "").startswith("Deprecated")]
        for n in names:
            if re.search(r"(^|_)vinf", n):
                bad.append(f"{qual}.{n}: spell v_inf as v_inf")
            stem = _UNIT_SUFFIX.sub("", n)
            mirror = stem != n and stem in names  # State.r_au beside the Quantity State.r
            if qual not in _FLOAT_LEVEL and _UNIT_SUFFIX.search(n) and not mirror:
                bad.append(f"{qual}.{n}: a bare number named for its unit; return a "
                           f"Quantity/Time (suffixes are for JSON/CSV keys)")
    from apophis_sim.uncertainty import LinearEncounter

    for n in ("nominal", "sigma"):
        attr = inspect.getattr_static(LinearEncounter, n, None)
        if attr is not None and not (getattr(attr, "__doc__", "") or "").startswith("Deprecated"):
            bad.append(f"LinearEncounter.{n}: mixes a TDB JD with km / days with km")
    assert not bad, "\n".join(bad)


def test_submodules_need_no_explicit_import():
    import subprocess
    import sys

    code = ("import sys, apophis_sim; assert 'matplotlib' not in sys.modules; "
            "apophis_sim.encounter.analyse_flyby; apophis_sim.rendezvous.launch_windows; "
            "apophis_sim.uncertainty.linear_encounter; apophis_sim.risk.keyholes; "
            "apophis_sim.tables.approaches; apophis_sim.visibility.visibility; "
            "assert 'matplotlib' not in sys.modules; apophis_sim.plotting.plot_porkchop")
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- docstrings


def test_every_public_parameter_is_documented():
    """numpydoc: every parameter of every public function, class (its fields or
    ``__init__`` parameters) and public method is in its Parameters / Attributes."""
    from numpydoc.docscrape import NumpyDocString

    def documented(func_or_cls, sections):
        doc = NumpyDocString(inspect.getdoc(func_or_cls) or "")
        return {n.strip().lstrip("*") for sec in sections for p in doc[sec]
                for n in p.name.split(",")}

    missing = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpydoc's own notes on unusual sections
        for qual, obj in _public_objects():
            if inspect.isfunction(obj):
                have = documented(obj, ["Parameters", "Other Parameters"])
                miss = [p.name for p in _params(obj, False) if p.name not in have]
            elif issubclass(obj, BaseException) and "__init__" not in obj.__dict__:
                continue
            else:
                have = documented(obj, ["Parameters", "Attributes", "Other Parameters"])
                if dataclasses.is_dataclass(obj):
                    want = [f.name for f in dataclasses.fields(obj)]
                elif "__init__" in obj.__dict__:
                    want = [p.name for p in _params(obj.__dict__["__init__"], True)]
                else:
                    want = []
                miss = [n for n in want if n not in have and n not in ("args", "kwargs")]
                for an, av in vars(obj).items():
                    f = av.__func__ if isinstance(av, (classmethod, staticmethod)) else av
                    if an.startswith("_") or not inspect.isfunction(f):
                        continue
                    h = documented(f, ["Parameters", "Other Parameters"])
                    miss += [f"{an}({p.name})" for p in
                             _params(f, not isinstance(av, staticmethod)) if p.name not in h]
            if miss:
                missing.append(f"{qual}: {miss}")
    assert not missing, "undocumented parameters:\n" + "\n".join(missing)


# --------------------------------------------------------------------------- aliases


def _same_as_new(call_old, call_new, match):
    """The old spelling warns DeprecationWarning (naming ``match``, attributed to this
    file) and gives what the new one gives (or the same error)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Deprecated in apophis_sim")  # never for new
        try:
            new, new_exc = call_new(), None
        except DeprecationWarning:
            raise
        except Exception as exc:  # noqa: BLE001  (compared below)
            new, new_exc = None, exc
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        try:
            old, old_exc = call_old(), None
        except Exception as exc:  # noqa: BLE001
            old, old_exc = None, exc
    ours = [r for r in rec if issubclass(r.category, DeprecationWarning)
            and str(r.message).startswith("Deprecated in apophis_sim")]
    assert any(re.search(match, str(r.message)) for r in ours), [str(r.message) for r in rec]
    assert all(r.filename == __file__ for r in ours), [(r.filename, r.lineno) for r in ours]
    if new_exc is not None or old_exc is not None:
        assert type(old_exc) is type(new_exc) and str(old_exc) == str(new_exc), (old_exc, new_exc)
    return old, new


def _synthetic_porkchop(arrival: Time | None = None):
    from apophis_sim import rendezvous as rv

    n = 8
    dep = Time("2028-05-01", scale="tdb") + np.arange(n) * u.day
    arr = arrival if arrival is not None else Time("2029-01-01", scale="tdb") + np.arange(4) * u.day
    m = len(arr)
    c3 = np.full((n, m), 20.0)
    c3[5:, :] = 40.0
    vinf = np.linspace(1.0, 3.0, n * m).reshape(n, m)
    return rv.Porkchop(
        departure=dep, arrival=arr, c3=c3 * u.km**2 / u.s**2,
        v_inf_departure=np.zeros((n, m, 3)) * KMS, dla=np.zeros((n, m)) * u.deg,
        rla=np.zeros((n, m)) * u.deg, v_inf_arrival=vinf * KMS,
        total_dv=(np.sqrt(c3) + vinf) * KMS,
        tof=(arr.jd[None, :] - dep.jd[:, None]) * u.day, revs=np.zeros((n, m), int),
        branch=np.zeros((n, m), int), status=np.zeros((n, m), np.int8))


def test_v_inf_arrival_max_alias():
    from apophis_sim.rendezvous import feasible_cells, launch_windows

    pc = _synthetic_porkchop()
    old, new = _same_as_new(lambda: launch_windows(pc, arrival_vinf_max=2 * KMS),
                            lambda: launch_windows(pc, v_inf_arrival_max=2 * KMS),
                            "arrival_vinf_max=.*v_inf_arrival_max=")
    assert [w.to_dict() for w in old] == [w.to_dict() for w in new] and new
    old, new = _same_as_new(lambda: feasible_cells(pc, arrival_vinf_max=2 * KMS),
                            lambda: feasible_cells(pc, v_inf_arrival_max=2 * KMS),
                            "arrival_vinf_max")
    np.testing.assert_array_equal(old, new)
    assert 0 < new.sum() < new.size
    from apophis_sim.errors import InputTypeError

    with pytest.raises(InputTypeError, match="both"):
        launch_windows(pc, arrival_vinf_max=2 * KMS, v_inf_arrival_max=2 * KMS)


def test_ride_share_options_alias():
    from apophis_sim.rendezvous import ride_share_options

    launch = Time("2028-05-09", scale="tdb")
    arrivals = Time("2029-01-20", scale="tdb") + np.arange(0, 20, 5) * u.day
    kw = dict(arrival_times=arrivals, arrive_by=None)
    old, new = _same_as_new(
        lambda: ride_share_options(launch, 30 * u.km**2 / u.s**2, arrival_vinf_max=3 * KMS, **kw),
        lambda: ride_share_options(launch, 30 * u.km**2 / u.s**2, v_inf_arrival_max=3 * KMS, **kw),
        "arrival_vinf_max")
    assert old.colnames == new.colnames and "v_inf_arrival" in new.colnames
    np.testing.assert_array_equal(old["v_inf_arrival"], new["v_inf_arrival"])


def test_porkchop_and_launch_window_attribute_aliases():
    from apophis_sim import rendezvous as rv

    pc = _synthetic_porkchop()
    with pytest.warns(DeprecationWarning, match=r"Porkchop.vinf_arrival .*Porkchop.v_inf_arrival"):
        assert pc.vinf_arrival is pc.v_inf_arrival
    with pytest.warns(DeprecationWarning, match="Porkchop.v_inf_departure"):
        assert pc.vinf_departure is pc.v_inf_departure
    w = rv.launch_windows(pc, v_inf_arrival_max=None)[0]
    with pytest.warns(DeprecationWarning, match="LaunchWindow.v_inf_arrival"):
        assert w.vinf_arrival is w.v_inf_arrival
    kw = {f.name: getattr(w, f.name) for f in dataclasses.fields(w)}
    kw["vinf_arrival"] = kw.pop("v_inf_arrival")
    old, new = _same_as_new(lambda: rv.LaunchWindow(**kw),
                            lambda: dataclasses.replace(w), "vinf_arrival=")
    assert old == new
    kw = {f.name: getattr(pc, f.name) for f in dataclasses.fields(pc)}
    kw["vinf_arrival"] = kw.pop("v_inf_arrival")
    kw["vinf_departure"] = kw.pop("v_inf_departure")
    old, new = _same_as_new(lambda: rv.Porkchop(**kw), lambda: dataclasses.replace(pc),
                            "vinf_")
    assert old.v_inf_arrival is new.v_inf_arrival and old.v_inf_departure is new.v_inf_departure


def test_quantity_name_vinf_arrival_alias():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from apophis_sim import rendezvous as rv
    from apophis_sim.plotting import plot_porkchop

    pc = _synthetic_porkchop()
    old, new = _same_as_new(lambda: pc.best("vinf_arrival"), lambda: pc.best("v_inf_arrival"),
                            "'vinf_arrival' is renamed 'v_inf_arrival'")
    assert old == new == (0, 0)
    old, new = _same_as_new(
        lambda: rv.launch_windows(pc, rank_by="vinf_arrival", v_inf_arrival_max=None),
        lambda: rv.launch_windows(pc, rank_by="v_inf_arrival", v_inf_arrival_max=None),
        "rank_by")
    assert [w.to_dict() for w in old] == [w.to_dict() for w in new]
    fig, (a1, a2) = plt.subplots(1, 2)
    _same_as_new(lambda: plot_porkchop(a1, pc, "vinf_arrival"),
                 lambda: plot_porkchop(a2, pc, "v_inf_arrival"), "plot_porkchop")
    assert a1.get_xlabel() == a2.get_xlabel()
    assert [t.get_text() for t in fig.axes[-1].get_yticklabels()] == \
        [t.get_text() for t in fig.axes[-2].get_yticklabels()]
    plt.close(fig)


def test_default_constant_alias():
    from apophis_sim import rendezvous as rv

    with pytest.warns(DeprecationWarning, match="DEFAULT_V_INF_ARRIVAL_MAX"):
        assert rv.DEFAULT_ARRIVAL_VINF_MAX is rv.DEFAULT_V_INF_ARRIVAL_MAX
    with pytest.raises(AttributeError):
        rv.NO_SUCH_NAME  # noqa: B018


@pytest.fixture(scope="module")
def sun_only():
    from apophis_sim import apophis

    return apophis(), ("sun",)


def test_state_transition_alias(sun_only):
    from apophis_sim import state_transition, state_transition_grid

    sol, forces = sun_only
    t = sol.state.epoch + 2 * u.day
    old, new = _same_as_new(lambda: state_transition(state_or_solution=sol, to=t, forces=forces),
                            lambda: state_transition(state=sol, to=t, forces=forces),
                            "state_or_solution=.*state=")
    np.testing.assert_array_equal(old.stm, new.stm)
    grid = sol.state.epoch + [1, 2] * u.day
    old, new = _same_as_new(
        lambda: state_transition_grid(state_or_solution=sol, times=grid, forces=forces),
        lambda: state_transition_grid(state=sol, times=grid, forces=forces), "state_or_solution")
    np.testing.assert_array_equal(old.stm, new.stm)


def test_close_approaches_alias(sun_only):
    from apophis_sim import close_approaches

    sol, forces = sun_only
    until = Time("2029-04-20", scale="tdb")
    old, new = _same_as_new(
        lambda: close_approaches(sol, until, bodies="earth", forces=forces,
                                 max_distance=0.05 * u.au),
        lambda: close_approaches(sol, until, bodies="earth", forces=forces,
                                 distance_max=0.05 * u.au), "max_distance=.*distance_max=")
    assert len(new) >= 1
    np.testing.assert_array_equal(old["distance"], new["distance"])


def test_distance_max_alias_of_analyse_flyby_and_approaches():
    """Forwarded to the same check: the same error, naming the new spelling."""
    from apophis_sim import apophis
    from apophis_sim.encounter import analyse_flyby
    from apophis_sim.tables import approaches

    sol = apophis()
    until = Time("2029-04-20", scale="tdb")
    _same_as_new(lambda: analyse_flyby(sol, until, max_distance=-1 * u.au),
                 lambda: analyse_flyby(sol, until, distance_max=-1 * u.au), "max_distance")
    _same_as_new(lambda: approaches(sol, stop=until, max_distance=-1 * u.au),
                 lambda: approaches(sol, stop=until, distance_max=-1 * u.au), "max_distance")


def test_return_distance_max_alias_of_keyholes():
    from apophis_sim import apophis
    from apophis_sim.risk import keyholes

    sol = apophis()
    _same_as_new(lambda: keyholes(sol, max_return_distance=-1 * u.km),
                 lambda: keyholes(sol, return_distance_max=-1 * u.km), "max_return_distance")


def test_bright_intervals_aliases():
    from apophis_sim.visibility import Visibility, bright_intervals

    t = Time("2029-04-13", scale="tdb") + np.arange(6) * u.hour
    deg = u.deg
    vis = Visibility(time=t, magnitude=np.array([5.0, 3.0, 3.0, 3.0, 3.5, 6.0]),
                     phase=np.zeros(6) * deg, delta=np.ones(6) * u.au, r_helio=np.ones(6) * u.au,
                     ra=np.zeros(6) * deg, dec=np.zeros(6) * deg,
                     alt=np.array([10, 20, 30, -5, 40, 50.0]) * deg, az=np.zeros(6) * deg,
                     sub_lat=np.zeros(6) * deg, sub_lon=np.zeros(6) * deg,
                     sun_alt=np.array([-20, -20, -20, -20, 5, -20.0]) * deg)
    old, new = _same_as_new(
        lambda: bright_intervals(vis, 4.0, min_altitude=15 * deg, max_sun_altitude=-12 * deg),
        lambda: bright_intervals(vis, 4.0, altitude_min=15 * deg, sun_altitude_max=-12 * deg),
        "min_altitude=.*altitude_min=")
    assert [(a.jd, b.jd) for a, b in old] == [(a.jd, b.jd) for a, b in new] == \
        [(t[1].jd, t[2].jd)]


def test_moid_alias():
    from apophis_sim import State, moid

    ep = Time("2029-01-01", scale="tdb")
    a = State([1.0, 0.0, 0.0] * u.au, [0.0, 0.0172, 0.0] * u.au / u.day, ep)
    b = State([0.0, 1.1, 0.0] * u.au, [-0.016, 0.0, 0.001] * u.au / u.day, ep)
    old, new = _same_as_new(lambda: moid(obj=a, other=b), lambda: moid(state=a, other=b),
                            "obj=.*state=")
    assert old.distance == new.distance


def test_encounter_of_alias():
    from apophis_sim.uncertainty import encounter_of

    _same_as_new(lambda: encounter_of(states="not a state", nongrav=np.zeros((1, 3))),
                 lambda: encounter_of(state="not a state", nongrav=np.zeros((1, 3))),
                 "states=.*state=")


def test_linear_encounter_aliases():
    from apophis_sim.uncertainty import ENCOUNTER_LABELS, EncounterJacobian, LinearEncounter

    vec = np.array([2462240.40625, 38012.0, 48000.0, -1500.0])
    cov = np.diag([(0.1 / 86400) ** 2, 1.0, 4.0, 9.0])
    kw = dict(labels=ENCOUNTER_LABELS, covariance=cov, differences=np.zeros((4, 8)),
              scheme="principal", step=1.0, forces=("sun",))
    old, new = _same_as_new(lambda: LinearEncounter(nominal=vec, **kw),
                            lambda: LinearEncounter(nominal_vector=vec, **kw), "nominal=")
    np.testing.assert_array_equal(old.nominal_vector, new.nominal_vector)
    with pytest.warns(DeprecationWarning, match="LinearEncounter.nominal_vector"):
        np.testing.assert_array_equal(new.nominal, vec)
    with pytest.warns(DeprecationWarning, match="time_sigma"):
        sig = new.sigma
    np.testing.assert_allclose(sig, [new.time_sigma.to_value(u.day),
                                     new.distance_sigma.to_value(u.km),
                                     new.xi_sigma.to_value(u.km), new.zeta_sigma.to_value(u.km)])
    assert new.time.scale == "tdb" and new.time.jd == vec[0]
    assert new.distance == 38012.0 * u.km and new.zeta_sigma == 3.0 * u.km
    jkw = dict(jacobian=np.zeros((4, 6)), state_jacobian=np.zeros((4, 9)),
               parameter_labels=("e",) * 6, forces=("sun",))
    old, new = _same_as_new(lambda: EncounterJacobian(nominal=vec, **jkw),
                            lambda: EncounterJacobian(nominal_vector=vec, **jkw), "nominal=")
    with pytest.warns(DeprecationWarning, match="EncounterJacobian.nominal_vector"):
        assert old.nominal is old.nominal_vector
    assert new.xi == 48000.0 * u.km and new.time.jd == vec[0]


def test_flyby_analysis_aliases():
    from apophis_sim.encounter import FlybyAnalysis

    r = np.arange(12.0).reshape(4, 3)
    base = dict(approaches=None, time=Time("2029-04-13", scale="tdb"), distance=1 * u.km,
                v_rel=1 * KMS, v_inf=1 * KMS, bplane=None, change=None,
                track_times=Time("2029-04-13", scale="tdb") + np.arange(4) * u.hour,
                visibility=None, peak_magnitude=3.0, peak_time=Time("2029-04-13", scale="tdb"))
    old, new = _same_as_new(
        lambda: FlybyAnalysis(track_r_km=r, track_v_km_s=r / 10, moon_r_km=r * 100, **base),
        lambda: FlybyAnalysis(track_r=r * u.km, track_v=r / 10 * KMS, moon_r=r * 100 * u.km,
                              **base), "track_r_km=")
    for name, new_name, unit in (("track_r_km", "track_r", u.km), ("track_v_km_s", "track_v", KMS),
                                 ("moon_r_km", "moon_r", u.km)):
        assert u.allclose(getattr(old, new_name), getattr(new, new_name))
        with pytest.warns(DeprecationWarning, match=f"FlybyAnalysis.{new_name}"):
            bare = getattr(new, name)
        assert not isinstance(bare, u.Quantity)
        np.testing.assert_array_equal(bare, getattr(new, new_name).to_value(unit))


def test_deflection_aliases():
    from apophis_sim import apophis
    from apophis_sim.risk import Deflection

    at = Time("2028-04-13", scale="tdb")
    dv = np.array([0.1, 0.2, 0.3])
    old, new = _same_as_new(
        lambda: Deflection(apophis(), at, dv_icrf_mm_s=dv, dv_rtn_mm_s=dv[::-1]),
        lambda: Deflection(apophis(), at, dv_icrf=dv * u.mm / u.s, dv_rtn=dv[::-1] * u.mm / u.s),
        "dv_icrf_mm_s=")
    assert u.allclose(old.dv_icrf, new.dv_icrf) and u.allclose(old.dv_rtn, new.dv_rtn)
    with pytest.warns(DeprecationWarning, match="Deflection.dv_rtn"):
        np.testing.assert_array_equal(new.dv_rtn_mm_s, dv[::-1])
    with pytest.warns(DeprecationWarning, match="Deflection.dv_icrf"):
        np.testing.assert_array_equal(new.dv_icrf_mm_s, dv)


@pytest.mark.parametrize("argv_old, argv_new, old, new", [
    (["windows", "--vinf-max", "1.7"], ["windows", "--v-inf-arrival-max", "1.7"],
     "--vinf-max", "--v-inf-arrival-max"),
    (["windows", "--min-tof", "200"], ["windows", "--tof-min", "200"], "--min-tof", "--tof-min"),
    (["approaches", "--max-distance", "0.1"], ["approaches", "--distance-max", "0.1"],
     "--max-distance", "--distance-max"),
])
def test_renamed_cli_flags(capsys, argv_old, argv_new, old, new):
    """The old flag parses to the same namespace, is hidden from --help, and prints a
    one-line note on stderr."""
    from apophis_sim.cli import _build_parser

    parser = _build_parser()
    ns_new = vars(parser.parse_args(argv_new))
    assert capsys.readouterr().err == ""
    ns_old = vars(parser.parse_args(argv_old))
    err = capsys.readouterr().err
    assert ns_old == ns_new
    assert err.count("\n") == 1 and old in err and new in err and "deprecated" in err
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helptext = sub.choices[argv_new[0]].format_help()
    assert new in helptext and old not in helptext


def test_renamed_cli_flag_end_to_end(capsys):
    """``windows --vinf-max`` still runs and gives what ``--v-inf-arrival-max`` gives."""
    from apophis_sim.cli import main

    small = ["windows", "--launch-start", "2028-04-01", "--launch-end", "2028-05-31",
             "--arrival-end", "2029-03-01", "--step", "5", "--json"]
    assert main(small + ["--v-inf-arrival-max", "1.6"]) == 0
    new = json.loads(capsys.readouterr().out)
    assert main(small + ["--vinf-max", "1.6"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out) == new and "--vinf-max is deprecated" in out.err
    assert new and all(w["v_inf_arrival_km_s"] <= 1.6 for w in new)


# --------------------------------------------------------------------------- arrive_by


def test_arrive_by_string_is_a_utc_date():
    """``arrive_by="2029-02-13"`` is 2029-02-13 00:00 UTC, like every date string of the
    library: an arrival grid at UTC midnights keeps that day (read as TDB, the day
    was dropped: its UTC midnight is 69 s after TDB midnight)."""
    from apophis_sim.rendezvous import feasible_cells
    from apophis_sim.time import UTCAssumptionWarning, utc_dates

    with pytest.warns(UTCAssumptionWarning):
        arrivals = utc_dates("2029-02-10", "2029-02-16")
    pc = _synthetic_porkchop(arrivals)
    limits = dict(c3_max=None, dla_max=None, v_inf_arrival_max=None, tof_min=None)
    ok = feasible_cells(pc, arrive_by="2029-02-13", **limits).any(axis=0)  # the default:
    assert ok.tolist() == [True] * 4 + [False] * 3                         # no warning
    with pytest.warns(UTCAssumptionWarning):
        ok2 = feasible_cells(pc, arrive_by="2029-02-12", **limits).any(axis=0)
    assert ok2.tolist() == [True] * 3 + [False] * 4
    tdb = feasible_cells(pc, arrive_by=Time("2029-02-13", scale="tdb"), **limits).any(axis=0)
    assert tdb.tolist() == [True] * 3 + [False] * 4  # a Time keeps its own scale


def test_windows_cli_and_api_agree_on_arrive_by(capsys):
    """The same --arrive-by string and the same ``arrive_by`` string give the same
    windows (the date is on the 5-day arrival grid, so a TDB reading would differ)."""
    from apophis_sim.cli import main
    from apophis_sim.rendezvous import launch_windows, porkchop
    from apophis_sim.time import UTCAssumptionWarning, utc_dates

    small = ["windows", "--launch-start", "2028-04-01", "--launch-end", "2028-05-31",
             "--arrival-end", "2029-03-01", "--step", "5", "--json"]
    assert main(small + ["--arrive-by", "2029-01-16"]) == 0
    cli = json.loads(capsys.readouterr().out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UTCAssumptionWarning)
        dep = utc_dates("2028-04-01", "2028-05-31", 5 * u.day)
        arr = utc_dates("2028-04-01", "2029-03-01", 5 * u.day)
        arr = arr[(arr - dep[0]).to_value(u.day) >= 30]
        pc = porkchop(dep, arr)
        api = [w.to_dict() for w in launch_windows(pc, arrive_by="2029-01-16",
                                                   tof_min=30 * u.day)]
        as_tdb = [w.to_dict() for w in launch_windows(
            pc, arrive_by=Time("2029-01-16", scale="tdb"), tof_min=30 * u.day)]
    assert cli == api and cli
    assert "2029-01-16T00:00:00" in {w["best_arrival_utc"] for w in api}
    assert as_tdb != api  # the instant matters: the check above can fail
    for w in cli:  # numbers rounded to what they mean
        assert w["tof_days"] == round(w["tof_days"]) and w["length_days"] == round(w["length_days"])


def test_windows_help_says_utc_for_every_date(capsys):
    from apophis_sim.cli import _build_parser

    parser = _build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    text = sub.choices["windows"].format_help()
    assert "TDB" not in text.replace("in TDB", "")
    for flag in ("--launch-start", "--launch-end", "--arrival-end", "--arrive-by"):
        block = text.split(flag, 1)[1].split("\n  --", 1)[0]
        assert "UTC" in block, (flag, block)
