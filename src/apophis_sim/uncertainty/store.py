"""Where a Monte Carlo run lives on disk: one Parquet file per chunk, written
atomically, and a manifest that pins the run's parameters for resuming."""

from __future__ import annotations

import hashlib
import json
import os
import re
import time as _time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IncompatibleRunError
from .sampling import PARAMETER_LABELS

#: Columns of a Monte Carlo result (one row per clone).
RESULT_COLUMNS = ("clone", "time_tdb_jd", "distance_km", "v_rel_km_s", "v_inf_km_s",
                  "xi_km", "zeta_km") + tuple(f"p_{name}" for name in PARAMETER_LABELS)
_MANIFEST = "manifest.json"
_FORMAT = "apophis_sim.montecarlo/1"
_CHUNK_RE = re.compile(r"^chunk-(\d{6,})\.parquet$")


def _chunk_path(out: Path, chunk: int) -> Path:
    return out / f"chunk-{chunk:06d}.parquet"


def _write_atomic_bytes(path: Path, data: bytes) -> None:
    tmp = path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _write_chunk(out: Path, chunk: int, cols: dict[str, np.ndarray], run_id: str) -> Path:
    """Write one chunk as Parquet: to a temporary name in the same folder, fsync,
    then ``os.replace`` (atomic on POSIX): a reader sees the whole file or none."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({k: np.asarray(cols[k]) for k in RESULT_COLUMNS},
                     metadata={"apophis_sim.run_id": run_id, "apophis_sim.chunk": str(chunk)})
    final = _chunk_path(out, chunk)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    _write_atomic_bytes(final, sink.getvalue().to_pybytes())
    return final


def _read_chunk(path: Path, run_id: str) -> dict[str, np.ndarray]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    meta = table.schema.metadata or {}
    if meta.get(b"apophis_sim.run_id", b"").decode() != run_id:
        raise IncompatibleRunError(f"{path} belongs to another run (run id "
                                   f"{meta.get(b'apophis_sim.run_id', b'?').decode()}, "
                                   f"expected {run_id})")
    return {k: table.column(k).to_numpy() for k in RESULT_COLUMNS}


def _finished_chunks(out: Path) -> dict[int, Path]:
    """Final chunk files only (``chunk-NNNNNN.parquet``); temporaries never match."""
    found = {}
    for p in out.iterdir():
        m = _CHUNK_RE.match(p.name)
        if m:
            found[int(m.group(1))] = p
    return found


def _diff(a: Any, b: Any, prefix: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += _diff(a.get(k), b.get(k), f"{prefix}{k}.")
        return out
    return [] if a == b else [f"{prefix.rstrip('.')}: {a!r} (folder) != {b!r} (requested)"]


def _prepare_out(out: Path, params: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / _MANIFEST
    if manifest.exists():
        old = json.loads(manifest.read_text())
        old_params = old.get("parameters", {})
        diffs = _diff(old_params, params)
        if diffs:
            raise IncompatibleRunError(
                f"{out} holds a different Monte Carlo run; differing parameters: "
                + "; ".join(diffs) + ". Use another --out folder or the same parameters.")
    else:
        if _finished_chunks(out):
            raise IncompatibleRunError(f"{out} has chunk files but no {_MANIFEST}: not a "
                                       f"resumable run; use an empty folder")
        body = {"parameters": params, "run_id": _run_id(params),
                "created": _time.strftime("%Y-%m-%dT%H:%M:%SZ", _time.gmtime())}
        _write_atomic_bytes(manifest, (json.dumps(body, indent=1) + "\n").encode())

def _run_id(params: dict) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
