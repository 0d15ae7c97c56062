"""Monte Carlo runs under faults (issue 13, sections 5-8): concurrent runs into one
folder, corrupted chunks, damaged manifests, workers that keep dying, a dead
scheduler, impossible output paths, absurd sizes, and SIGINT/SIGTERM in the CLI.

Every test has a wall-clock bound (``@time_bound``: the body runs in a thread that
must finish in time; subprocesses get ``communicate(timeout=...)``), so a hang is a
failure, not a stuck CI job. Runs use the serial scheduler unless the Dask cluster
is the point.

Read-only folders: these tests run as root in CI, where ``chmod`` does not stop
writes, so unwritable outputs are made with a path inside /proc and with a file
where a folder belongs; the chmod variant runs only for non-root users.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from apophis_sim.errors import (CorruptChunkError, CorruptChunkWarning,
                                IncompatibleRunError, InputError, ManifestError,
                                OutputPathError, RunLockedError, SchedulerUnreachableError,
                                WorkersLostError)
from apophis_sim.uncertainty import RESULT_COLUMNS, load_monte_carlo, run_monte_carlo

SRC = str(Path(__file__).resolve().parents[1] / "src")
ENV = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}


def time_bound(seconds: float):
    """Fail the test if its body has not finished after ``seconds`` of wall time."""

    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            box: dict = {}

            def target():
                try:
                    fn(*args, **kwargs)
                except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
                    box["exc"] = exc

            t = threading.Thread(target=target, daemon=True, name=fn.__name__)
            t.start()
            t.join(seconds)
            if t.is_alive():
                pytest.fail(f"{fn.__name__} did not finish within {seconds} s")
            if "exc" in box:
                raise box["exc"]

        return wrapper

    return deco


def _same(a: dict, b: dict) -> None:
    for k in RESULT_COLUMNS:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k, strict=True)


def _run(out, seed=7, n=4, **kw):
    return run_monte_carlo(n, seed, chunk_size=2, scheduler="serial", out=out, progress=False,
                           **kw)


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    """A finished 4-clone run of 2 chunks: the reference every repair must reproduce."""
    out = tmp_path_factory.mktemp("ref") / "run"
    res = _run(out)
    assert res.computed_chunks == [0, 1]
    return out, res.columns


@pytest.fixture
def run_copy(ref, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(ref[0], out)
    return out


# ----------------------------------------------------------------------------- lock


_RACER = r"""
import json, os, sys, time
from pathlib import Path
from apophis_sim.errors import ApophisSimError
from apophis_sim.uncertainty import run_monte_carlo
out, seed, lock_timeout, sync = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), Path(sys.argv[4])
(sync / f"ready-{os.getpid()}").touch()
while not (sync / "go").exists():
    time.sleep(0.001)
try:
    r = run_monte_carlo(8, seed, chunk_size=1, scheduler="serial", out=out, progress=False,
                        lock_timeout=lock_timeout)
    print(json.dumps({"seed": seed, "ok": True, "computed": r.computed_chunks,
                      "reused": r.reused_chunks}))
except ApophisSimError as e:
    print(json.dumps({"seed": seed, "ok": False, "type": type(e).__name__, "msg": str(e)}))
"""


@time_bound(90)
def test_concurrent_runs_into_one_folder_cannot_mix(tmp_path):
    """Seeds 1 and 2 refuse to wait, a second seed-1 run waits up to 60 s; all start
    within a millisecond. One run owns the folder; the others are refused with
    RunLockedError naming the folder and the owner, or (the waiter) resume it or are
    refused as incompatible once it is free. The folder is never mixed."""
    out, sync = tmp_path / "run", tmp_path / "sync"
    sync.mkdir()
    procs = [subprocess.Popen([sys.executable, "-c", _RACER, str(out), str(seed), str(wait),
                               str(sync)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=ENV)
             for seed, wait in ((1, 0), (2, 0), (1, 60))]
    try:
        deadline = time.monotonic() + 60
        while len(list(sync.glob("ready-*"))) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        (sync / "go").touch()
        results = []
        for p in procs:
            stdout, stderr = p.communicate(timeout=75)
            assert p.returncode == 0, stderr
            results.append(json.loads(stdout.strip().splitlines()[-1]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    winners = [r for r in results if r["ok"] and r["computed"] == list(range(8))]
    assert len(winners) == 1, results
    locked = [r for r in results if not r["ok"] and r["type"] == "RunLockedError"]
    assert locked, results
    for r in locked:
        assert str(out) in r["msg"] and "pid" in r["msg"]
    for r in results:
        if r in winners or r in locked:
            continue
        # The waiting run got the folder after the winner: same seed -> all reused.
        assert (r["ok"] and r["reused"] == list(range(8)) and r["computed"] == []) or \
            (not r["ok"] and r["type"] == "IncompatibleRunError"), results
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["seed"] == winners[0]["seed"]
    loaded = load_monte_carlo(out)  # verifies every chunk's run id and checksum
    assert loaded.complete and loaded.n_clones == 8
    assert sorted(p.name for p in out.iterdir()) == \
        sorted(["manifest.json"] + [f"chunk-{c:06d}.parquet" for c in range(8)])


_HOLDER = r"""
import sys, time
from pathlib import Path
from apophis_sim.uncertainty.store import run_lock
with run_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(120)
"""


@time_bound(60)
def test_lock_of_a_killed_run_is_not_stale(ref, tmp_path):
    """flock dies with its holder: after SIGKILL the folder is free at once."""
    out = tmp_path / "run"
    shutil.copytree(ref[0], out)
    p = subprocess.Popen([sys.executable, "-c", _HOLDER, str(out)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        assert p.stdout.readline().strip() == "locked"
        with pytest.raises(RunLockedError, match=f"{out}.*pid {p.pid}"):
            _run(out)
        t0 = time.monotonic()
        with pytest.raises(RunLockedError):
            _run(out, lock_timeout=0.5)
        assert time.monotonic() - t0 >= 0.5
    finally:
        p.kill()
        p.wait(timeout=10)
    assert (out / ".lock").exists()  # left behind by the killed holder ...
    res = _run(out)  # ... and harmless
    assert res.reused_chunks == [0, 1] and res.computed_chunks == []
    assert not (out / ".lock").exists()


# ----------------------------------------------------------------------------- corruption


def _alter_value(path: Path) -> None:
    """Change one distance by 1 mm, keeping the Parquet metadata (run id, chunk) intact."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    i = table.schema.get_field_index("distance_km")
    d = table.column(i).to_numpy().copy()
    d[0] += 1e-6
    altered = table.set_column(i, "distance_km", pa.array(d))
    altered = altered.replace_schema_metadata(table.schema.metadata)
    pq.write_table(altered, path)


_CORRUPTIONS = {
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "garbage": lambda p: p.write_bytes(np.random.default_rng(0).bytes(p.stat().st_size)),
    "empty": lambda p: p.write_bytes(b""),
    "altered value": _alter_value,
    "another chunk's file": lambda p: shutil.copyfile(p.with_name("chunk-000000.parquet"), p),
}


@pytest.mark.parametrize("kind", list(_CORRUPTIONS))
@time_bound(40)
def test_corrupt_chunk_is_detected_moved_aside_and_recomputed(ref, run_copy, kind):
    bad = run_copy / "chunk-000001.parquet"
    _CORRUPTIONS[kind](bad)
    with pytest.raises(CorruptChunkError, match="chunk-000001.parquet") as info:
        load_monte_carlo(run_copy)
    assert info.value.path == bad and "rerun" in str(info.value)
    with pytest.warns(CorruptChunkWarning, match="chunk-000001.parquet.*moved aside"):
        res = _run(run_copy)
    assert res.reused_chunks == [0] and res.computed_chunks == [1]
    _same(res.columns, ref[1])  # recomputed bit-identically
    _same(load_monte_carlo(run_copy).columns, ref[1])
    aside = [p.name for p in run_copy.iterdir() if ".corrupt-" in p.name]
    assert len(aside) == 1 and aside[0].startswith("chunk-000001.parquet.corrupt-")


@time_bound(30)
def test_chunk_of_another_run_is_still_refused(ref, run_copy, tmp_path):
    """A sound chunk with a valid checksum but another run id is a mix-up, not damage:
    refused, never moved aside or overwritten."""
    other = tmp_path / "other"
    _run(other, seed=8)
    shutil.copyfile(other / "chunk-000001.parquet", run_copy / "chunk-000001.parquet")
    with pytest.raises(IncompatibleRunError, match="another run"):
        _run(run_copy)
    with pytest.raises(IncompatibleRunError):
        load_monte_carlo(run_copy)
    assert not [p for p in run_copy.iterdir() if ".corrupt-" in p.name]


@pytest.mark.parametrize("content", [
    b"{not json", b"\xff\xfe\x00garbage", b"[1, 2, 3]", b'{"run_id": "x"}',
    b'{"parameters": {"format": "apophis_sim.montecarlo/1", "n_clones": 4}}', b"",
], ids=["invalid-json", "binary", "not-an-object", "no-parameters", "missing-keys", "empty"])
@time_bound(30)
def test_bad_manifest_is_a_typed_error_and_recoverable(ref, run_copy, content):
    manifest = run_copy / "manifest.json"
    manifest.write_bytes(content)
    with pytest.raises(ManifestError, match=f"{manifest}.*mv ") as info:
        _run(run_copy)
    assert "rerun the same" in str(info.value)
    with pytest.raises(ManifestError, match=str(manifest)):
        load_monte_carlo(run_copy)
    # What the message says to do: move it aside and rerun; the chunks are kept.
    manifest.rename(run_copy / "manifest.json.bad")
    with pytest.warns(UserWarning, match="manifest was rebuilt"):
        res = _run(run_copy)
    assert res.reused_chunks == [0, 1] and res.computed_chunks == []
    _same(res.columns, ref[1])


@time_bound(30)
def test_stray_temporaries_are_removed_and_only_ours(run_copy):
    ours = [run_copy / ".chunk-000001.parquet.123.deadbeef.tmp",
            run_copy / f".manifest.json.{os.getpid()}.{'ab' * 16}.tmp"]
    for p in ours:
        p.write_bytes(b"half a file")
    theirs = run_copy / "notes.tmp"
    theirs.write_text("user file")
    res = _run(run_copy)
    assert res.computed_chunks == [] and not any(p.exists() for p in ours)
    assert theirs.read_text() == "user file"


# ----------------------------------------------------------------------------- Dask faults


def _killer_plugin(out: str):
    """A worker plugin that SIGKILLs its own worker whenever a chunk other than chunk 0
    starts executing, as soon as chunk 0 is stored (so that a finished chunk exists to
    be kept). The kill is done from a thread: blocking the worker's event loop would
    keep chunk 0's result from reaching the client."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class KillWhenRunning(WorkerPlugin):
        name = "apophis-test-killer"

        def transition(self, key, start, finish, **kwargs):
            if finish != "executing" or str(key).endswith("-000000"):
                return

            def kill():
                marker = os.path.join(out, "chunk-000000.parquet")
                for _ in range(3000):
                    if os.path.exists(marker):
                        break
                    time.sleep(0.01)
                os.kill(os.getpid(), signal.SIGKILL)

            threading.Thread(target=kill, daemon=True).start()

    return KillWhenRunning()


@time_bound(100)
def test_repeated_worker_death_ends_with_typed_error_keeping_chunks(ref, tmp_path):
    """Every worker that starts chunk 1 dies; with allowed-failures=1 Dask gives up
    after the second death: WorkersLostError saying how to resume, chunk 0 kept,
    and the resumed run is bit-identical."""
    import logging

    import dask
    from distributed import Client, LocalCluster

    out = tmp_path / "run"
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), \
            LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                         dashboard_address=":0", silence_logs=logging.CRITICAL,
                         local_directory=str(tmp_path / "scratch")) as lc, Client(lc) as client:
        client.register_plugin(_killer_plugin(str(out)))
        t0 = time.monotonic()
        with pytest.raises(WorkersLostError) as info:
            run_monte_carlo(4, 7, chunk_size=2, scheduler=client, out=out, progress=False)
        assert time.monotonic() - t0 < 90
    msg = str(info.value)
    assert "gave up" in msg and f"1 of 2 chunks are saved in {out}" in msg and "rerun" in msg
    assert sorted(p.name for p in out.iterdir()) == ["chunk-000000.parquet", "manifest.json"]
    res = _run(out)
    assert res.reused_chunks == [0] and res.computed_chunks == [1]
    _same(res.columns, ref[1])


@time_bound(40)
def test_cluster_without_workers_ends_with_typed_error(tmp_path):
    import logging

    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=0, processes=False, dashboard_address=":0",
                      silence_logs=logging.CRITICAL) as lc, Client(lc) as client:
        t0 = time.monotonic()
        with pytest.raises(WorkersLostError, match="no workers for 1.5 s.*rerun"):
            run_monte_carlo(4, 7, chunk_size=2, scheduler=client, out=tmp_path / "run",
                            progress=False, worker_timeout=1.5)
        assert time.monotonic() - t0 < 20


@time_bound(30)
def test_dead_or_bogus_scheduler_fails_fast():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.monotonic()
    with pytest.raises(SchedulerUnreachableError, match=f"127.0.0.1:{port} within 1 s"):
        run_monte_carlo(2, 1, scheduler=f"tcp://127.0.0.1:{port}", connect_timeout=1,
                        progress=False)
    assert time.monotonic() - t0 < 15
    for bad in ("bogus", "tcp://", "host:port"):
        with pytest.raises(InputError, match="scheduler"):
            run_monte_carlo(2, 1, scheduler=bad, progress=False)


# ----------------------------------------------------------------------------- paths, sizes


def _bad_outputs(tmp_path: Path) -> dict[str, str]:
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    return {"": "empty", "   ": "empty", "/proc/apophis-sim-run": "/proc",
            "/sys/kernel/apophis": "/sys", str(a_file): "not a folder",
            str(a_file / "sub"): "Not a directory"}


@time_bound(30)
def test_impossible_out_folders_are_refused_before_computing(tmp_path, monkeypatch):
    import apophis_sim.uncertainty.montecarlo as mc

    def no_compute(*a, **k):
        raise AssertionError("computed before checking the output folder")

    monkeypatch.setattr(mc, "_simulate_chunk", no_compute)
    for path, why in _bad_outputs(tmp_path).items():
        with pytest.raises(OutputPathError, match=why):
            run_monte_carlo(2, 1, out=path, scheduler="serial", progress=False)
    assert not Path("manifest.json").exists()  # '' never means the current folder


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores chmod; /proc and file-as-folder "
                                              "cover unwritable outputs")
@time_bound(30)
def test_read_only_out_folder_is_refused(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(OutputPathError, match="not writable"):
            run_monte_carlo(2, 1, out=ro, scheduler="serial", progress=False)
    finally:
        ro.chmod(0o700)


@time_bound(60)
def test_cli_output_paths_are_checked_before_computing(tmp_path, capsys, monkeypatch):
    import apophis_sim.uncertainty.montecarlo as mc
    from apophis_sim.cli import main

    def no_compute(*a, **k):
        raise AssertionError("computed before checking the output paths")

    monkeypatch.setattr(mc, "_simulate_chunk", no_compute)
    base = ["montecarlo", "--clones", "2", "--seed", "1", "--scheduler", "serial", "--json"]
    for path, why in _bad_outputs(tmp_path).items():
        for flag in ("--out", "--plots"):
            assert main(base + [flag, path]) == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and flag in err and why in err, err
    for sched, why in (("bogus", "'bogus'"), ("tcp://127.0.0.1:1", "within 0.5 s")):
        assert main(base + ["--scheduler", sched, "--connect-timeout", "0.5"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and why in err, err


@time_bound(20)
def test_huge_runs_are_refused_quickly_with_their_size():
    import tracemalloc

    from apophis_sim.cli import main

    tracemalloc.start()
    try:
        t0 = time.monotonic()
        with pytest.raises(InputError, match=r"10,000,000,000 chunks.*limit is 1,000,000"):
            run_monte_carlo(10**10, 1, chunk_size=1)
        with pytest.raises(InputError, match=r"1,200.0 GB.*limit is 100,000,000 clones"):
            run_monte_carlo(10**10, 1, chunk_size=10**5)
        assert time.monotonic() - t0 < 2
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000
    assert main(["montecarlo", "--clones", str(10**10), "--seed", "1", "--chunk-size",
                 "1"]) == 2


# ----------------------------------------------------------------------------- signals


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@time_bound(90)
def test_cli_interrupt_prints_one_line_and_resumes(tmp_path, sig):
    out = tmp_path / "run"
    # 40 one-clone chunks: enough work left after the first one that the signal lands
    # mid-run even when this process is descheduled for a while on a loaded machine.
    cmd = [sys.executable, "-m", "apophis_sim.cli", "montecarlo", "--clones", "40", "--seed",
           "3", "--chunk-size", "1", "--scheduler", "serial", "--out", str(out), "--json"]
    # A CI runner may start us with SIGINT ignored (background jobs of a non-interactive
    # shell): the child would inherit SIG_IGN and Python would keep ignoring it. Give the
    # child the default disposition, as a terminal would.
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=ENV, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 60
        while not list(out.glob("chunk-*.parquet")) and time.monotonic() < deadline:
            assert p.poll() is None, p.communicate()
            time.sleep(0.02)
        p.send_signal(sig)
        stdout, stderr = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    saved = len(list(out.glob("chunk-*.parquet")))
    assert p.returncode == 130, stderr
    assert stderr == (f"apophis-sim: interrupted; {saved} of 40 chunks saved in {out}; rerun "
                      f"the same command to resume\n")
    assert stdout == "" and 1 <= saved < 40
    if sig == signal.SIGTERM:
        return  # the resume below does not depend on the signal (saves ~5 s)
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, env=ENV, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["n_clones"] == 40
    assert load_monte_carlo(out).complete
