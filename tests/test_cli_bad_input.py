"""Bad command lines (issue 13, cause 7): every subcommand answers a bad flag value with
one line on stderr that names the flag, exit code 2, no traceback, and before anything
is computed (the computing functions are replaced by ones that fail the test).
SIGINT prints one line. Each test is bounded in time (hang guard)."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import apophis_sim
from apophis_sim.cli import main

SRC = str(Path(apophis_sim.__file__).resolve().parents[1])
ENV = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}


@pytest.fixture
def nothing_computed(monkeypatch):
    """Every expensive entry point a subcommand reaches fails the test if called."""
    import apophis_sim.encounter as enc
    import apophis_sim.nbody as nb
    import apophis_sim.rendezvous as rz
    import apophis_sim.uncertainty.montecarlo as mc

    obs = importlib.import_module("apophis_sim.tables.observer")  # not the re-exported function

    def refuse(*a, **k):
        raise AssertionError("computed before validating the command line")

    for mod, name in ((enc, "analyse_flyby"), (rz, "porkchop"), (obs, "observer"),
                      (mc, "_simulate_chunk"), (nb, "close_approaches"),
                      (nb, "propagate_nbody_grid"), (nb, "propagate_nbody")):
        monkeypatch.setattr(mod, name, refuse)


def run(capsys, argv) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse
        code = exc.code
    err = capsys.readouterr().err
    return code, err


def _bad_paths(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    return [("/proc/apophis-sim-plots", "/proc"), ("/sys/apophis", "/sys"),
            (str(a_file), "not a folder"), (str(a_file / "sub"), "Not a directory"),
            ("", "empty")]


_COMMANDS = {
    "flyby": ["flyby"],
    "windows": ["windows"],
    "orbit": ["orbit"],
    "approaches": ["approaches"],
    "deflect": ["deflect", "--dv", "0,1,0", "--at", "2026-01-01"],
    "ephemeris": ["ephemeris", "--start", "2029-04-13", "--stop", "2029-04-14", "--step", "1h"],
    "risk": ["risk"],
    "montecarlo": ["montecarlo", "--clones", "2", "--seed", "1", "--scheduler", "serial"],
}


@pytest.mark.parametrize("command", sorted(_COMMANDS))
def test_plots_into_impossible_folders_fail_before_computing(command, tmp_path, capsys,
                                                            nothing_computed):
    t0 = time.monotonic()
    for path, why in _bad_paths(tmp_path):
        code, err = run(capsys, _COMMANDS[command] + ["--plots", path])
        assert code == 2, (path, err)
        assert err.count("\n") == 1 and "--plots" in err and why in err, err
        assert "Traceback" not in err
    assert time.monotonic() - t0 < 120, "hang guard"


_BAD_FLAGS = [
    # windows: dates, numbers, sizes
    (["windows", "--arrive-by", "garbage"], "--arrive-by"),
    (["windows", "--launch-start", "2029-13-45"], "--launch-start"),
    (["windows", "--launch-end", "garbage"], "--launch-end"),
    (["windows", "--arrival-end", ""], "--arrival-end"),
    (["windows", "--step", "nan"], "--step"),
    (["windows", "--step", "inf"], "--step"),
    (["windows", "--step", "-1"], "--step"),
    (["windows", "--step", "0"], "--step"),
    (["windows", "--step", "1e-4"], "--step"),
    (["windows", "--tof-min", "nan"], "--tof-min"),
    (["windows", "--tof-min", "-1"], "--tof-min"),
    (["windows", "--tof-min", "100000"], "--tof-min"),
    (["windows", "--c3-max", "nan"], "--c3-max"),
    (["windows", "--dla-max", "-5"], "--dla-max"),
    (["windows", "--v-inf-arrival-max", "inf"], "--v-inf-arrival-max"),
    (["windows", "--max-revs", "100000"], "--max-revs"),
    (["windows", "--max-revs", "-1"], "--max-revs"),
    (["windows", "--top", "0"], "--top"),
    # flyby
    (["flyby", "--forces", "bogus"], "bogus"),
    (["flyby", "--forces", "sun,bogus"], "bogus"),
    # montecarlo
    (["montecarlo", "--clones", "2", "--seed", "1", "--scheduler", "bogus"], "--scheduler"),
    (["montecarlo", "--clones", "2", "--seed", "1", "--workers", "100000"], "--workers"),
    (["montecarlo", "--clones", "0", "--seed", "1"], "--clones"),
    (["montecarlo", "--clones", "10000000000", "--seed", "1", "--chunk-size", "1",
      "--scheduler", "serial"], "chunk_size"),
    (["montecarlo", "--clones", "2", "--seed", "-1"], "--seed"),
    (["montecarlo", "--clones", "2", "--seed", "1", "--connect-timeout", "nan"],
     "--connect-timeout"),
    (["montecarlo", "--clones", "2", "--seed", "1", "--lock-timeout", "-1"], "--lock-timeout"),
    # ephemeris
    (["ephemeris", "--start", "2029-04-13", "--stop", "2029-04-14", "--step", "0m"], "--step"),
    (["ephemeris", "--start", "2029-04-13", "--stop", "2029-04-14", "--step", "1e-9s"],
     "--step"),
    (["ephemeris", "--start", "garbage", "--stop", "2029-04-14", "--step", "1h"], "--start"),
    (["ephemeris", "--start", "2029-04-13", "--stop", "2029-04-14", "--step", "1h",
      "--max-rows", "0"], "--max-rows"),
    (["ephemeris", "--start", "2029-04-13", "--stop", "2029-04-14", "--step", "1h",
      "--site", "nan,0,0"], "--site"),
    # orbit, approaches, deflect, risk
    (["orbit", "--at", "garbage"], "--at"),
    (["orbit", "--sbdb", "/nonexistent/sbdb.json"], "sbdb.json"),
    (["approaches", "--max-distance", "nan"], "--max-distance"),
    (["approaches", "--bodies", "bogus"], "bogus"),
    (["approaches", "--start", "garbage"], "--start"),
    (["deflect", "--dv", "nan,0,0", "--at", "2026-01-01"], "--dv"),
    (["deflect", "--dv", "0,1,0", "--at", "garbage"], "--at"),
    (["risk", "--until", "x"], "--until"),
    (["risk", "--window", "-1"], "--window"),
    (["risk", "--window", "1e30"], "--window"),
]


@pytest.mark.parametrize("argv, flag", _BAD_FLAGS, ids=[" ".join(a) for a, _ in _BAD_FLAGS])
def test_bad_flag_values_are_one_line_exit_2(argv, flag, capsys, nothing_computed):
    t0 = time.monotonic()
    code, err = run(capsys, argv)
    assert code == 2, err
    assert err.count("\n") == 1, err
    assert flag in err and "Traceback" not in err, err
    assert time.monotonic() - t0 < 60, "hang guard"


def _cli(*argv, timeout=120, **kw):
    return subprocess.run([sys.executable, "-m", "apophis_sim.cli", *argv], capture_output=True,
                          text=True, env=ENV, timeout=timeout, **kw)


def test_dead_scheduler_fails_fast_in_one_line():
    # timeout= is a hang guard; the refused connection is reported at once.
    done = _cli("montecarlo", "--clones", "2", "--seed", "1", "--no-progress",
                "--scheduler", "tcp://127.0.0.1:9", timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "--scheduler" in done.stderr
    assert "Traceback" not in done.stderr


_READY_THEN_MAIN = ("import sys; from apophis_sim.cli import main; print('ready', flush=True); "
                    "sys.exit(main(sys.argv[1:]))")


@pytest.mark.parametrize("command", [["windows", "--max-revs", "5"], ["flyby"]])
def test_sigint_prints_one_line(command):
    # The child says when its imports are done (a Ctrl-C inside `import numba` is
    # Python's, not ours); SIGINT then lands inside the computation.
    p = subprocess.Popen([sys.executable, "-c", _READY_THEN_MAIN, *command],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert p.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)  # hang guard
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, err
    # One line; on a cold cache the first-compile notice may precede it.
    lines = err.splitlines()
    assert lines[-1] == "apophis-sim: interrupted" and "Traceback" not in err, err
    assert all(line.startswith("apophis-sim: compiling") for line in lines[:-1]), err


def test_sigint_swallowed_by_a_callback_still_exits_130(monkeypatch, capsys):
    """A Ctrl-C that lands in a ctypes callback (numba's LLVM object cache during a
    compilation) is swallowed there and surfaces as another error; the CLI still
    reports it as an interrupt (one line, exit 130), not as a traceback."""
    import ctypes

    import apophis_sim.cli.flyby as flyby_cli

    # Python's own hook, which prints to stderr (pytest's would turn it into a warning)
    monkeypatch.setattr(sys, "unraisablehook", sys.__unraisablehook__)

    def callback():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1.0)  # the handler raises here, inside the ctypes callback

    def swallowed(args):
        # ctypes swallows the KeyboardInterrupt and hands it to sys.unraisablehook
        # ("Exception ignored on calling ctypes callback function" + a traceback).
        ctypes.CFUNCTYPE(None)(callback)()
        raise RuntimeError("no compiled object yet")

    monkeypatch.setattr(flyby_cli, "_flyby", swallowed)
    from apophis_sim.cli import main

    # The interpreter as a terminal starts it: SIGINT raises KeyboardInterrupt. A run
    # started in the background by a non-interactive shell inherits SIGINT ignored,
    # and Python keeps it ignored (then the kill above would do nothing).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        assert main(["flyby"]) == 130
    finally:
        signal.signal(signal.SIGINT, previous)
    assert capsys.readouterr().err.strip() == "apophis-sim: interrupted"


#: A child that compiles a large fresh numba function (no cache) under the CLI's SIGINT
#: handler; it says "ready" just before and "compiled" after.
_COMPILE_CHILD = r"""
import sys, time
import numba
from apophis_sim.cli import _interrupted, _watch_sigint

src = "def big(x):\n    y = x\n" + "".join(
    f"    y = y * 1.0000001 + {i}.0 * (y if y > {i} else -y)\n" for i in range(250)
) + "    return y\n"
ns = {}
exec(src, ns)
f = numba.njit(ns["big"])
_watch_sigint()
print("ready", flush=True)
try:
    f(1.0)
    print("compiled", flush=True)
    time.sleep(60)
except KeyboardInterrupt:
    sys.exit(_interrupted())
"""


def test_sigint_during_a_compilation():
    """Ctrl-C inside a numba compilation (through LLVM's callbacks): one line, exit 130,
    the compilation left ("compiled" absent)."""
    p = subprocess.Popen([sys.executable, "-c", _COMPILE_CHILD], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=ENV,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert p.stdout.readline().strip() == "ready"
        time.sleep(1.0)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
    assert "compiled" not in out, "the compilation finished before the signal: make it longer"
    assert p.returncode == 130, err
    assert err == "apophis-sim: interrupted\n", err


def test_sigint_inside_llvmlite_is_raised_after_it(monkeypatch):
    """A SIGINT whose handler runs in llvmlite's Python code (a ctypes callback called
    from LLVM's C++) is not raised there: it is delivered again once the stack has left
    llvmlite, and raised then. The callback stands in as code compiled with an
    llvmlite file name."""
    from apophis_sim.cli import _watch_sigint

    fake = compile(
        "def callback(kill):\n"
        "    import time\n"
        "    kill()\n"
        "    t = time.monotonic()\n"
        "    while time.monotonic() - t < 0.3:\n"
        "        pass\n"
        "    return 'returned'\n",
        os.path.join(os.sep, "site-packages", "llvmlite", "binding", "executionengine.py"),
        "exec")
    ns: dict = {}
    exec(fake, ns)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    results = []
    try:
        _watch_sigint()
        with pytest.raises(KeyboardInterrupt):
            results.append(ns["callback"](lambda: os.kill(os.getpid(), signal.SIGINT)))
            t = time.monotonic()
            while time.monotonic() - t < 5.0:  # the deferred SIGINT lands here
                pass
        assert results == ["returned"]
    finally:
        signal.signal(signal.SIGINT, previous)
