"""Where a Monte Carlo run lives on disk: one Parquet file per chunk, written
atomically and carrying its own SHA-256 checksum, a manifest that pins the run's
parameters for resuming, and an exclusive lock so that one run at a time owns the
folder.

Folder layout (nothing else is ever written there)::

    manifest.json            run parameters and run id (written once, atomically)
    chunk-NNNNNN.parquet     clones [N K, (N+1) K); checksum in the Parquet metadata
    .lock                    exists only while a run holds the folder (flock)
    chunk-NNNNNN.parquet.corrupt-YYYYmmddTHHMMSSZ   a damaged chunk, moved aside

Why the checksum lives inside each chunk: a manifest entry per chunk would make
every chunk rewrite the whole manifest (quadratic in the chunk count), and a
sidecar file per chunk doubles the files and can disagree with its chunk after a
crash. The SHA-256 covers the decoded column bytes, the run id and the chunk
index, so a value altered behind intact Parquet metadata, a chunk copied under
another index or from another run, and a file that no longer decodes are all
detected.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import socket
import sys
import time as _time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import (CorruptChunkError, CorruptChunkWarning, IncompatibleRunError,
                      ManifestError, OutputPathError, RunLockedError)
from .._extras import import_optional
from .sampling import PARAMETER_LABELS

#: Columns of a Monte Carlo result (one row per clone).
RESULT_COLUMNS = ("clone", "time_tdb_jd", "distance_km", "v_rel_km_s", "v_inf_km_s",
                  "xi_km", "zeta_km") + tuple(f"p_{name}" for name in PARAMETER_LABELS)
#: Extra columns of a run with impact detection to a horizon (``impacts_until``): the
#: TDB JD of each clone's first impact (0.0 when none) and its body (0 none, 1 Earth,
#: 2 Moon: :data:`IMPACT_BODIES`).
IMPACT_COLUMNS = ("impact_tdb_jd", "impact_body")
IMPACT_BODIES = ("none", "earth", "moon")


def run_columns(params: dict) -> tuple[str, ...]:
    """The result columns of a run, from its parameters (manifest)."""
    return RESULT_COLUMNS + (IMPACT_COLUMNS if params.get("model", {}).get("impacts")
                             else ())
_MANIFEST = "manifest.json"
_LOCK = ".lock"
_FORMAT = "apophis_sim.montecarlo/1"
_CHUNK_RE = re.compile(r"^chunk-(\d{6,})\.parquet$")
#: Temporaries of :func:`_write_atomic_bytes` (``.NAME.PID.HEX.tmp``): only ours are removed.
_TMP_RE = re.compile(r"^\.(?:chunk-\d{6,}\.parquet|manifest\.json)\.\d+\.[0-9a-f]+\.tmp$")
_SHA_KEY = b"apophis_sim.sha256"
#: Folders of kernel pseudo-filesystems: writing results there is always a mistake.
_PSEUDO_ROOTS = ("/proc", "/sys", "/dev")


def _chunk_path(out: Path, chunk: int) -> Path:
    return out / f"chunk-{chunk:06d}.parquet"


def _write_atomic_bytes(path: Path, data: bytes) -> None:
    tmp = path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


# ----------------------------------------------------------------------------- output paths


def check_output_folder(path: str | os.PathLike, what: str = "out") -> Path:
    """Check that ``path`` can be a folder this process writes into, creating it.

    Done before any computation, so that a bad path costs nothing. Refused: an
    empty string (it would mean the current folder), a path inside /proc, /sys or
    /dev, an existing file (or a file among its parents), and a folder where a
    probe file cannot be created (read-only, no permission, full).

    Raises
    ------
    OutputPathError
        The message names ``what`` and the path, and says why.
    """
    if isinstance(path, str) and not path.strip():
        raise OutputPathError(f"{what} is empty: give a folder name (use '.' for the "
                              f"current folder)")
    p = Path(path)
    absolute = os.path.abspath(p)
    for root in _PSEUDO_ROOTS:
        if absolute == root or absolute.startswith(root + os.sep):
            raise OutputPathError(f"{what} {str(p)!r} is inside {root}, a kernel "
                                  f"pseudo-filesystem: choose a folder on a real disk")
    if p.exists() and not p.is_dir():
        raise OutputPathError(f"{what} {str(p)!r} exists and is not a folder")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputPathError(f"{what} {str(p)!r} cannot be created: "
                              f"{exc.strerror or exc}") from None
    probe = p / f".apophis-sim-probe.{os.getpid()}.{uuid.uuid4().hex}.tmp"
    try:
        with open(probe, "wb") as fh:
            fh.write(b"probe")
    except OSError as exc:
        raise OutputPathError(f"{what} {str(p)!r} is not writable: "
                              f"{exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    return p


# ----------------------------------------------------------------------------- lock


@contextlib.contextmanager
def run_lock(out: Path, timeout_s: float = 0.0, poll_s: float = 0.1) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``out/.lock`` for the duration of a run.

    ``flock`` is released by the kernel when its holder dies (even by SIGKILL), so a
    lock file left behind by a dead run is never "stale": the next run takes it at
    once. The file is removed on release; because another process may open it
    between our unlink and our unlock, a taker checks that the file it locked is
    still the one at ``out/.lock`` and retries otherwise.

    Parameters
    ----------
    timeout_s : float
        How long to wait for another run to release the folder [s]; 0 refuses at once.

    Raises
    ------
    RunLockedError
        Another live process holds the folder; the message names the folder and
        that process (pid, host, start time, command) as it recorded them.
    """
    import fcntl

    path = out / _LOCK
    deadline = _time.monotonic() + max(0.0, float(timeout_s))
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputPathError(f"cannot create the lock file {path}: "
                                  f"{exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise OutputPathError(f"cannot lock {path}: {exc.strerror or exc}") from None
            if _time.monotonic() >= deadline:
                raise RunLockedError(
                    f"{out} is in use by another Monte Carlo run ({_lock_holder(path)}); "
                    f"wait for it to finish, or use another out folder") from None
            _time.sleep(poll_s)
            continue
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # we locked a file its former holder had just unlinked: retry
    try:
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started": _time.strftime("%Y-%m-%dT%H:%M:%SZ", _time.gmtime()),
                "command": " ".join(sys.argv)[:500]}
        os.ftruncate(fd, 0)
        os.write(fd, (json.dumps(info) + "\n").encode())
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


def _lock_holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text())
        return (f"pid {info['pid']} on {info['host']}, started {info['started']}: "
                f"{info['command']}")
    except (OSError, ValueError, KeyError, TypeError):
        return "a process that has not yet recorded its details"


def clean_temporaries(out: Path) -> list[Path]:
    """Remove temporaries of interrupted atomic writes (call while holding the lock:
    no writer of this folder can be alive then)."""
    removed = []
    for p in out.iterdir():
        if _TMP_RE.match(p.name):
            with contextlib.suppress(OSError):
                p.unlink()
                removed.append(p)
    return removed


# ----------------------------------------------------------------------------- chunks


def _content_digest(cols: dict[str, np.ndarray], run_id: str, chunk: int) -> str:
    """SHA-256 over run id, chunk index and every column's name, dtype, shape, bytes."""
    h = hashlib.sha256(f"{_FORMAT}\0{run_id}\0{chunk}\0".encode())
    for k in cols:  # every column of the chunk, in the run's column order
        a = np.ascontiguousarray(cols[k])
        h.update(f"{k}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _pyarrow(feature: str) -> tuple[Any, Any]:
    """``(pyarrow, pyarrow.parquet)``, or :class:`MissingDependencyError` naming the
    ``distributed`` extra (pyarrow is not a core dependency)."""
    pa = import_optional("pyarrow", feature)
    return pa, import_optional("pyarrow.parquet", feature)


def _write_chunk(out: Path, chunk: int, cols: dict[str, np.ndarray], run_id: str,
                 columns: tuple[str, ...] = RESULT_COLUMNS) -> Path:
    """Write one chunk as Parquet: to a temporary name in the same folder, fsync,
    then ``os.replace`` (atomic on POSIX): a reader sees the whole file or none."""
    pa, pq = _pyarrow("writing Monte Carlo chunks")

    arrays = {k: np.asarray(cols[k]) for k in columns}
    table = pa.table(arrays, metadata={
        "apophis_sim.run_id": run_id, "apophis_sim.chunk": str(chunk),
        _SHA_KEY.decode(): _content_digest(arrays, run_id, chunk)})
    final = _chunk_path(out, chunk)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    _write_atomic_bytes(final, sink.getvalue().to_pybytes())
    return final


def _read_chunk(path: Path, run_id: str,
                columns: tuple[str, ...] = RESULT_COLUMNS) -> dict[str, np.ndarray]:
    """Read and verify one chunk.

    Raises
    ------
    CorruptChunkError
        Unreadable, not Parquet, missing columns or checksum, or checksum mismatch.
    IncompatibleRunError
        A sound chunk of another run.
    MissingDependencyError
        pyarrow (the ``distributed`` extra) is not installed.
    """
    pa, pq = _pyarrow("reading Monte Carlo chunks")

    m = _CHUNK_RE.match(path.name)
    chunk = int(m.group(1)) if m else -1
    try:
        if path.stat().st_size == 0:
            raise CorruptChunkError(path, "empty file")
        table = pq.read_table(path)
        cols = {k: table.column(k).to_numpy() for k in columns}
    except CorruptChunkError:
        raise
    except (OSError, pa.ArrowException, KeyError, ValueError) as exc:
        raise CorruptChunkError(path, f"not a readable Parquet chunk: "
                                      f"{type(exc).__name__}: {str(exc)[:200]}") from None
    meta = table.schema.metadata or {}
    owner = meta.get(b"apophis_sim.run_id", b"").decode(errors="replace")
    stored = meta.get(_SHA_KEY, b"").decode(errors="replace")
    if not stored:
        raise CorruptChunkError(path, "no SHA-256 checksum in its metadata")
    if meta.get(b"apophis_sim.chunk", b"").decode(errors="replace") != str(chunk):
        raise CorruptChunkError(path, "its metadata names another chunk index")
    if _content_digest(cols, owner, chunk) != stored:
        raise CorruptChunkError(path, "SHA-256 checksum mismatch: its values were altered")
    if owner != run_id:
        raise IncompatibleRunError(f"{path} belongs to another run (run id {owner}, "
                                   f"expected {run_id})")
    return cols


def move_aside(path: Path, reason: str) -> Path:
    """Rename a corrupt chunk to ``NAME.corrupt-<UTC time>`` (kept for inspection,
    never read again) and warn with :class:`CorruptChunkWarning`."""
    stamp = _time.strftime("%Y%m%dT%H%M%SZ", _time.gmtime())
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    os.replace(path, target)
    warnings.warn(CorruptChunkWarning(f"{path.name} in {path.parent} is corrupt ({reason}): "
                                      f"moved aside to {target.name}; it will be recomputed"),
                  stacklevel=3)
    return target


def _finished_chunks(out: Path) -> dict[int, Path]:
    """Final chunk files only (``chunk-NNNNNN.parquet``); temporaries never match."""
    found = {}
    for p in out.iterdir():
        m = _CHUNK_RE.match(p.name)
        if m:
            found[int(m.group(1))] = p
    return found


# ----------------------------------------------------------------------------- manifest


def _diff(a: Any, b: Any, prefix: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += _diff(a.get(k), b.get(k), f"{prefix}{k}.")
        return out
    return [] if a == b else [f"{prefix.rstrip('.')}: {a!r} (folder) != {b!r} (requested)"]


def read_manifest(out: Path) -> dict:
    """The manifest of a run folder as a dict with ``parameters`` (a dict).

    Raises
    ------
    ManifestError
        Unreadable, not JSON, not an object, or without ``parameters`` and its
        ``seed``, ``n_clones``, ``chunk_size``.
    """
    path = out / _MANIFEST
    fix = (f"move it aside (mv {path} {path}.bad) and rerun the same Monte Carlo command "
           f"with this folder: chunks computed with the same parameters are kept")
    try:
        body = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise ManifestError(f"{path} cannot be read ({exc.strerror or exc}); {fix}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ManifestError(f"{path} is not valid JSON ({exc}); {fix}") from None
    if not isinstance(body, dict) or not isinstance(body.get("parameters"), dict):
        raise ManifestError(f"{path} has no 'parameters' object; {fix}")
    missing = [k for k in ("format", "seed", "n_clones", "chunk_size")
               if k not in body["parameters"]]
    if missing:
        raise ManifestError(f"{path} lacks parameters {', '.join(missing)}; {fix}")
    params = body["parameters"]
    if params["format"] != _FORMAT:
        raise ManifestError(f"{path} is of format {params['format']!r}, this version reads "
                            f"{_FORMAT!r}; use another out folder")
    bad = [k for k in ("seed", "n_clones", "chunk_size")
           if isinstance(params[k], bool) or not isinstance(params[k], int) or params[k] < 0]
    if bad or params["n_clones"] == 0 or params["chunk_size"] == 0:
        raise ManifestError(f"{path} holds invalid {', '.join(bad) or 'n_clones/chunk_size'}; "
                            f"{fix}")
    return body


def _chunk_owner(path: Path) -> str | None:
    """Run id in a chunk's Parquet metadata, or None if it cannot be read."""
    try:
        import pyarrow.parquet as pq

        meta = pq.read_schema(path).metadata or {}
        return meta.get(b"apophis_sim.run_id", b"").decode() or None
    except Exception:  # noqa: BLE001 - any unreadable file is simply "unknown owner"
        return None


def _prepare_out(out: Path, params: dict) -> None:
    """Create or check the manifest (call while holding :func:`run_lock`)."""
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / _MANIFEST
    if manifest.exists():
        old_params = read_manifest(out)["parameters"]
        diffs = _diff(old_params, params)
        if diffs:
            raise IncompatibleRunError(
                f"{out} holds a different Monte Carlo run; differing parameters: "
                + "; ".join(diffs) + ". Use another --out folder or the same parameters.")
        return
    chunks = _finished_chunks(out)
    if chunks:
        # A lost manifest is rebuilt only when every chunk proves (by its run id, a
        # hash of all run parameters) that it was computed with these parameters.
        run_id = _run_id(params)
        foreign = [p.name for p in chunks.values() if _chunk_owner(p) != run_id]
        if foreign:
            raise IncompatibleRunError(
                f"{out} has chunk files but no {_MANIFEST}, and {len(foreign)} of them "
                f"({', '.join(sorted(foreign)[:3])}) are not of the requested run: not a "
                f"resumable run; use an empty folder")
        warnings.warn(f"{out} had no {_MANIFEST}; its {len(chunks)} chunk files carry the "
                      f"requested run's id, so the manifest was rebuilt", stacklevel=3)
    body = {"parameters": params, "run_id": _run_id(params),
            "created": _time.strftime("%Y-%m-%dT%H:%M:%SZ", _time.gmtime())}
    _write_atomic_bytes(manifest, (json.dumps(body, indent=1) + "\n").encode())


def _run_id(params: dict) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
