"""Packaging: the core install is flyby-only, the Monte Carlo engine is the
``distributed`` extra, and older Pythons get one readable sentence.

Issue 12, item 9: ``pip install .`` must not pull Dask, distributed or pyarrow
(55 MB); every feature but the Monte Carlo engine works without them, and the
engine says exactly which command installs what it needs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import apophis_sim
from apophis_sim.errors import ApophisSimError, MissingDependencyError

ROOT = Path(__file__).resolve().parents[1]
INSTALL = 'pip install "apophis_sim[distributed]"'

#: Runs first in the child: the three packages of the extra cannot be imported, as on a
#: plain ``pip install .`` (None in sys.modules makes ``import dask`` raise ImportError).
BLOCK = """
import sys
for name in ("dask", "distributed", "pyarrow"):
    sys.modules[name] = None
"""


def _run_child(code: str, tmp_path: Path, timeout: float = 300.0) -> dict:
    """Run ``BLOCK + code`` in a fresh interpreter (same sys.path as this one); the code
    prints one JSON line last, which is returned."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    proc = subprocess.run([sys.executable, "-c", BLOCK + code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_flyby_without_the_distributed_extra(tmp_path):
    out = _run_child(r"""
import json, warnings
import astropy.units as u
from astropy.time import Time
import apophis_sim
import apophis_sim.cli, apophis_sim.encounter, apophis_sim.plotting, apophis_sim.risk
import apophis_sim.rendezvous, apophis_sim.tables, apophis_sim.uncertainty, apophis_sim.visibility
from apophis_sim import apophis, close_approaches
from apophis_sim.errors import MissingDependencyError
from apophis_sim.uncertainty import load_monte_carlo, run_monte_carlo

# a flyby-type call: JPL #220 through the 2029 approach (n-body, DE440)
tab = close_approaches(apophis(), Time("2029-04-20", scale="tdb"), bodies=("earth",),
                       max_distance=0.01 * u.au)
result = {"distance_km": float(tab["distance"][0].to_value(u.km))}

errors = {}
for name, call in [
        ("run_monte_carlo", lambda: run_monte_carlo(4, seed=1)),
        ("run_monte_carlo_out", lambda: run_monte_carlo(4, seed=1, out="mc")),
        ("run_monte_carlo_serial_out",
         lambda: run_monte_carlo(4, seed=1, scheduler="serial", out="mc-serial")),
        ("load_monte_carlo", lambda: load_monte_carlo("mc")),
]:
    try:
        call()
    except MissingDependencyError as exc:
        errors[name] = [str(exc), list(exc.missing), isinstance(exc, ImportError)]
    else:
        errors[name] = None
result["errors"] = errors

# the command: one line on stderr, exit code 2, no folder left behind
import contextlib, io, os
err = io.StringIO()
with contextlib.redirect_stderr(err):
    rc = apophis_sim.cli.main(["montecarlo", "--clones", "4", "--seed", "1", "--out", "mc-cli"])
result["cli"] = [rc, err.getvalue()]
result["folders"] = sorted(os.listdir("."))
import sys
result["loaded"] = sorted(m for m in ("dask", "distributed", "pyarrow")
                          if sys.modules.get(m) is not None)
print(json.dumps(result))
""", tmp_path)
    assert out["distance_km"] == pytest.approx(38_011.5, abs=1.0)
    errs = out["errors"]
    assert errs["run_monte_carlo"][1] == ["dask", "distributed"]
    assert errs["run_monte_carlo_out"][1] == ["dask", "distributed", "pyarrow"]
    assert errs["run_monte_carlo_serial_out"][1] == ["pyarrow"]
    assert errs["load_monte_carlo"][1] == ["pyarrow"]
    for message, _, is_import_error in errs.values():
        assert message.endswith(INSTALL), message
        assert is_import_error
    rc, stderr = out["cli"]
    assert rc == 2
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert stderr.startswith("apophis-sim: error: run_monte_carlo (on Dask) needs dask")
    assert stderr.strip().endswith(INSTALL)
    assert out["folders"] == []       # refused before any output folder was created
    assert out["loaded"] == []


def test_missing_dependency_error_is_typed():
    exc = MissingDependencyError("run_monte_carlo", ["dask", "pyarrow"], "distributed")
    assert isinstance(exc, ApophisSimError) and isinstance(exc, ImportError)
    assert exc.name == "dask" and exc.missing == ("dask", "pyarrow")
    assert str(exc) == ("run_monte_carlo needs dask, pyarrow (the optional 'distributed' "
                        "extra), which are not installed: " + INSTALL)
    assert "MissingDependencyError" in apophis_sim.errors.__all__


def test_serial_in_memory_monte_carlo_needs_no_extra(tmp_path):
    """The engine's serial in-memory path is plain NumPy + numba: it runs on the core
    install (the error above is only for what really needs Dask or Parquet)."""
    out = _run_child(r"""
import json
from apophis_sim.uncertainty import run_monte_carlo
res = run_monte_carlo(2, seed=1, chunk_size=2, scheduler="serial")
print(json.dumps({"n": res.n_clones, "d": float(res.columns["distance_km"][0])}))
""", tmp_path)
    assert out["n"] == 2
    assert out["d"] == pytest.approx(38_011.5, abs=20.0)


# --------------------------------------------------------------------------- metadata

def _pyproject() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def test_core_dependencies_leave_out_the_monte_carlo_engine():
    project = _pyproject()
    core = " ".join(project["dependencies"]).lower()
    assert "dask" not in core and "pyarrow" not in core and "distributed" not in core
    extras = project["optional-dependencies"]
    assert any(r.startswith("dask[distributed]") for r in extras["distributed"])
    assert any(r.startswith("pyarrow") for r in extras["distributed"])
    # `pip install ".[test]" && pytest` (the README) runs the Monte Carlo tests too
    assert "apophis_sim[distributed]" in extras["test"]


def test_python_versions_agree():
    project = _pyproject()
    assert project["requires-python"] == ">=3.11"
    classifiers = set(project["classifiers"])
    for minor in (11, 12, 13):
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers
    here = f"Programming Language :: Python :: 3.{sys.version_info[1]}"
    assert here in classifiers, f"the suite runs on an unlisted Python: add {here!r}"


def test_older_python_gets_one_readable_error(tmp_path):
    code = ("import sys\n"
            "sys.version_info = (3, 10, 13, 'final', 0)\n"
            "try:\n"
            "    import apophis_sim\n"
            "except ImportError as exc:\n"
            "    print(exc)\n"
            "else:\n"
            "    print('imported')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("apophis_sim needs Python 3.11 or newer; this is Python 3.10")


def _older_pythons() -> list[str]:
    found = []
    for version in ("3.10", "3.9", "3.8"):
        for cand in sorted(Path.home().glob(f".pyenv/versions/{version}*/bin/python")):
            found.append(str(cand))
            break
    return found


@pytest.mark.parametrize("python", _older_pythons() or [None])
def test_a_real_older_interpreter(python, tmp_path):
    if python is None:
        pytest.skip("no Python < 3.11 on this machine")
    src = Path(apophis_sim.__file__).resolve().parents[1]
    proc = subprocess.run([python, "-c", "import apophis_sim"], cwd=tmp_path,
                          env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(src)},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: apophis_sim needs Python 3.11 or newer"), proc.stderr
