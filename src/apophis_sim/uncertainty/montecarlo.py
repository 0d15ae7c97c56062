"""Monte Carlo runs on Dask: seeded clones in chunks, atomic Parquet per chunk,
resumable, and the statistics of their close approaches."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import sys
import time as _time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np

from .._extras import require
from ..ephemeris import Ephemeris
from ..errors import (ClusterError, CorruptChunkError, IncompatibleRunError, InputError,
                      InputTypeError, NonFiniteInputError, OutputPathError,
                      SchedulerUnreachableError, WorkersLostError)
from ..nbody import OrbitSolution, apophis, resolve_forces
from ..nbody import _epsilon as _nbody_epsilon
from .encounter import ENCOUNTER_MAX_DISTANCE_AU, ENCOUNTER_UNTIL, encounter_of
from .sampling import (PARAMETER_LABELS, _check_seed, _nominal, clone_states, covariance_factor,
                       sample_parameters, standard_normals)
from .store import (_FORMAT, IMPACT_BODIES, RESULT_COLUMNS, _finished_chunks, _prepare_out,
                    _read_chunk, _run_id, _write_chunk, check_output_folder, clean_temporaries,
                    move_aside, read_manifest, run_columns, run_lock)

#: Most chunks of one run. Each chunk is one file in the run folder and one Dask
#: task (~1 ms of scheduler time and ~1 kB of scheduler memory each): 10^6 chunks
#: are a 10^6-file folder and ~20 min of pure scheduling, past which a larger
#: chunk_size is always the better choice.
MAX_CHUNKS = 1_000_000
#: Most clones of one run: the result columns live in memory (15 float64/int64
#: columns, 120 bytes a clone: 12 GB at 10^8), and 10^8 clones at 0.02-0.05 s each
#: are 60-160 core-years of integration.
MAX_CLONES = 100_000_000
#: Bytes of result columns per clone (every column is 8 bytes wide).
_BYTES_PER_CLONE = 8 * len(RESULT_COLUMNS)


@dataclass(frozen=True)
class EncounterStatistics:
    """Statistics of the close approaches of N clones.

    Attributes
    ----------
    n_clones : int
    distance_km : dict
        ``mean``, ``min``, ``max``, ``sigma`` (sample standard deviation, ddof=1) [km].
    time_tdb_jd : dict
        ``mean`` [TDB JD], ``sigma`` [day].
    bplane : dict
        ``xi_km``, ``zeta_km`` (means) and ``cov_km2`` (2x2 sample covariance of
        (xi, zeta) [km^2], list of lists).
    """

    n_clones: int
    distance_km: dict
    time_tdb_jd: dict
    bplane: dict

    @property
    def distance_3sigma_km(self) -> tuple[float, float]:
        """``mean -/+ 3 sigma`` of the distance [km] (JPL's "3-sigma range" convention)."""
        m, s = self.distance_km["mean"], self.distance_km["sigma"]
        return (m - 3.0 * s, m + 3.0 * s)

    @property
    def time_sigma_s(self) -> float:
        """Standard deviation of the close-approach time [s]."""
        return self.time_tdb_jd["sigma"] * 86400.0

    def to_dict(self) -> dict:
        """Plain JSON-serialisable dict (the CLI's ``--json`` keys)."""
        return {"n_clones": self.n_clones, "distance_km": dict(self.distance_km),
                "time_tdb_jd": dict(self.time_tdb_jd), "bplane": {
                    "xi_km": self.bplane["xi_km"], "zeta_km": self.bplane["zeta_km"],
                    "cov_km2": [list(map(float, row)) for row in self.bplane["cov_km2"]]}}


def encounter_statistics(columns: dict[str, np.ndarray]) -> EncounterStatistics:
    """Statistics of a Monte Carlo result (``MonteCarloResult.columns``).

    Parameters
    ----------
    columns : dict of str to ndarray
        :data:`RESULT_COLUMNS` arrays, one value per clone.

    Returns
    -------
    EncounterStatistics

    Raises
    ------
    InputError
        A required column is missing, or fewer than 2 clones (no sample standard
        deviation).
    NonFiniteInputError
        A column holds NaN or infinity (the message names it).
    """
    need = ("distance_km", "time_tdb_jd", "xi_km", "zeta_km")
    if not isinstance(columns, Mapping):
        raise InputTypeError(f"columns must be a mapping of column name -> array (e.g. "
                             f"MonteCarloResult.columns), got {type(columns).__name__}")
    try:
        cols = {k: np.asarray(columns[k], dtype=np.float64) for k in need}
    except KeyError as exc:
        raise InputError(f"columns must hold {need} (a MonteCarloResult's columns); missing "
                         f"{exc.args[0]!r}") from None
    except (TypeError, ValueError):
        raise InputError(f"columns must map {need} to numeric arrays") from None
    for k, v in cols.items():
        if not np.all(np.isfinite(v)):
            raise NonFiniteInputError(f"columns[{k!r}] contains NaN or infinity")
    d = cols["distance_km"]
    n = d.size
    if n < 2:
        raise InputError(f"statistics need at least 2 clones, got {n}")
    t = cols["time_tdb_jd"]
    t_ref = float(t[0])
    dt = t - t_ref  # small numbers: no cancellation in the variance
    xz = np.stack([cols["xi_km"], cols["zeta_km"]])
    cov = np.cov(xz, ddof=1)
    return EncounterStatistics(
        n_clones=int(n),
        distance_km={"mean": float(d.mean()), "min": float(d.min()), "max": float(d.max()),
                     "sigma": float(d.std(ddof=1))},
        time_tdb_jd={"mean": t_ref + float(dt.mean()), "sigma": float(dt.std(ddof=1))},
        bplane={"xi_km": float(xz[0].mean()), "zeta_km": float(xz[1].mean()),
                "cov_km2": cov.tolist()},
    )


# ----------------------------------------------------------------------------- Monte Carlo


def _solution_digest(sol: OrbitSolution) -> str:
    st = sol.state.to_frame("icrf")
    blob = json.dumps({
        "name": sol.name, "solution": sol.solution,
        "r": st.r_au.tolist(), "v": st.v_au_d.tolist(),
        "epoch": [float(x) for x in st.jd_tdb], "centre": st.centre,
        "nongrav": sol.nongrav.to_value(u.au / u.day**2).tolist(),
        "covariance": np.asarray(sol.covariance).tolist(),
        "nominal": _nominal(sol, embedded=True).tolist(),
    }, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _run_parameters(sol: OrbitSolution, seed: int, n_clones: int, chunk_size: int,
                    forces: tuple[str, ...], files: tuple[str, ...], epsilon: float,
                    impacts: dict | None = None, encounter: bool = True) -> dict:
    params = {
        "format": _FORMAT,
        "seed": seed,
        "n_clones": n_clones,
        "chunk_size": chunk_size,
        "solution": {"name": sol.name, "id": sol.solution, "sha256": _solution_digest(sol)},
        "model": {"forces": list(forces), "ephemeris_files": list(files), "epsilon": epsilon,
                  "integrator": "IAS15 (Gauss-Radau, PRS23 step control)",
                  "encounter": {"body": "earth", "until_tdb": ENCOUNTER_UNTIL,
                                "max_distance_au": ENCOUNTER_MAX_DISTANCE_AU},
                  "sampling": "x = x0 + L z, L from eigh of the correlation matrix; "
                              "z of clone k from PCG64(SeedSequence(seed, spawn_key=(k,)))"},
    }
    if impacts:  # only then: the run id of an encounter-only run is unchanged
        params["model"]["impacts"] = impacts
    if not encounter:  # likewise: runs with the 2029 encounter keep their id
        params["model"]["encounter"] = None
    return params



@dataclass(frozen=True)
class _ChunkSpec:
    """What a worker needs to compute any chunk of a run (small: ~3 kB pickled).

    A plain object, not a dict: Dask would treat a scattered or embedded dict's
    entries as separate keys of the cluster (named "seed", "solution", ...), which
    collide between runs sharing one cluster.
    """

    solution: OrbitSolution
    seed: int
    n_clones: int
    chunk_size: int
    forces: tuple[str, ...]
    epsilon: float
    numba_threads: int | None
    impacts_until: tuple[float, float] | None = None
    impact_bodies: tuple[str, ...] = ()
    encounter: bool = True


def _first_impacts(states, ng, spec: _ChunkSpec, eph: Ephemeris, n: int) -> dict[str, Any]:
    """Each clone's first impact on ``spec.impact_bodies`` before ``spec.impacts_until``,
    detected inside the integrator (entry through the body's radius)."""
    from astropy.time import Time

    from ..nbody import close_approaches

    until = Time(spec.impacts_until[0], spec.impacts_until[1], format="jd", scale="tdb")
    # Minima are not wanted here: a 1e-6 au (150 km) threshold keeps only impacts.
    tab = close_approaches(states, until, bodies=spec.impact_bodies, distance_max=1e-6 * u.au,
                           nongrav=ng, nongrav_model=spec.solution.nongrav_model,
                           forces=spec.forces, ephemeris=eph, epsilon=spec.epsilon,
                           progress=False, impacts=True)
    jd = np.zeros(n)
    body = np.zeros(n, dtype=np.int64)
    hits = tab[tab["impact"]]
    for k, t, b in zip(np.asarray(hits["particle"]), hits["time"].tdb.jd,
                       np.asarray(hits["body"])):
        jd[k] = t
        body[k] = IMPACT_BODIES.index(str(b))
    return {"impact_tdb_jd": jd, "impact_body": body}


def _simulate_chunk(spec: _ChunkSpec, chunk: int) -> dict[str, Any]:
    """Worker task: the clones of one chunk -> result columns (plain NumPy arrays).

    Pure function of ``(spec, chunk)``: a re-run after a lost worker gives the
    same bits.
    """
    threads = spec.numba_threads
    if threads:
        import numba

        numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    sol = spec.solution
    start = chunk * spec.chunk_size
    stop = min(spec.n_clones, start + spec.chunk_size)
    params = sample_parameters(sol, spec.seed, start, stop)
    states, ng = clone_states(sol, params)
    eph = Ephemeris.open()
    if spec.encounter:
        enc = encounter_of(states, ng, nongrav_model=spec.solution.nongrav_model,
                           forces=spec.forces, ephemeris=eph, epsilon=spec.epsilon)
    else:  # an impact-only run of an object without Apophis's 2029 approach
        enc = {name: np.full(stop - start, np.nan) for name in RESULT_COLUMNS[1:7]}
    cols: dict[str, Any] = {"clone": np.arange(start, stop, dtype=np.int64)}
    cols.update(enc)
    for j, name in enumerate(PARAMETER_LABELS):
        cols[f"p_{name}"] = params[:, j]
    if spec.impacts_until is not None:
        cols.update(_first_impacts(states, ng, spec, eph, stop - start))
    return {"chunk": chunk, "columns": cols, "ephemeris_files": list(eph.files),
            "pid": os.getpid()}


@dataclass
class MonteCarloResult:
    """Results of a Monte Carlo run (complete or partial), one row per clone.

    Attributes
    ----------
    columns : dict of ndarray
        :data:`RESULT_COLUMNS`, sorted by clone index: ``clone``, ``time_tdb_jd``
        [TDB JD, day; float64, ~4e-6 s resolution], ``distance_km``,
        ``v_rel_km_s``, ``v_inf_km_s``, ``xi_km``, ``zeta_km`` and the clone's
        parameters ``p_e`` ... ``p_A2`` (JPL's units); with impact detection
        (``impacts_until``) also ``impact_tdb_jd`` and ``impact_body``.
    parameters : dict
        The run parameters (as in the manifest): seed, n_clones, chunk_size,
        solution, model.
    out : Path or None
        The folder of the chunk files, if any.
    computed_chunks, reused_chunks : list of int
        Chunks computed by this call and chunks read back from ``out``.
    seconds : float
        Wall time of the call.
    """

    columns: dict[str, np.ndarray] = field(repr=False)
    parameters: dict = field(repr=False)
    out: Path | None = None
    computed_chunks: list[int] = field(default_factory=list, repr=False)
    reused_chunks: list[int] = field(default_factory=list, repr=False)
    seconds: float = 0.0

    def __repr__(self) -> str:
        n = self.n_clones
        head = f"<MonteCarloResult {n} of {self.parameters.get('n_clones', '?')} clones"
        if n >= 2 and self.parameters.get("model", {}).get("encounter", True) is not None:
            st = self.statistics()
            d = st.distance_km
            head += (f", distance {d['mean']:,.3f} +/- {d['sigma']:.3f} km (1 sigma), time "
                     f"sigma {st.time_sigma_s:.3f} s")
        return head + (f", out={str(self.out)!r}>" if self.out is not None else ">")

    @property
    def n_clones(self) -> int:
        return int(self.columns["clone"].size)

    @property
    def complete(self) -> bool:
        return self.n_clones == self.parameters["n_clones"]

    def statistics(self) -> EncounterStatistics:
        """:func:`encounter_statistics` of the clones."""
        return encounter_statistics(self.columns)

    def standard_normals(self) -> np.ndarray:
        """The N(0, 1) vectors the clones were drawn from (n, 8), from (seed, clone); a
        gravity-only solution's clones used the first six."""
        seed = self.parameters["seed"]
        return np.vstack([standard_normals(seed, int(k), int(k) + 1)
                          for k in self.columns["clone"]]) if self.n_clones else np.zeros((0, 8))


def _assemble(parts: dict[int, dict[str, np.ndarray]],
              columns: tuple[str, ...] = RESULT_COLUMNS) -> dict[str, np.ndarray]:
    if not parts:
        return {k: np.zeros(0) for k in columns}
    cols = {k: np.concatenate([parts[c][k] for c in sorted(parts)]) for k in columns}
    order = np.argsort(cols["clone"], kind="stable")
    return {k: v[order] for k, v in cols.items()}


def require_engine(scheduler: Any, out: Any) -> None:
    """Raise :class:`MissingDependencyError` unless the packages of the ``distributed``
    extra that this run needs are installed: Dask unless ``scheduler == "serial"``,
    pyarrow when ``out`` is given (Parquet chunks)."""
    serial = isinstance(scheduler, str) and scheduler == "serial"
    require((() if serial else ("dask", "distributed")) + (("pyarrow",) if out is not None else ()),
            "run_monte_carlo" + ("" if serial else " (on Dask)"))


def _check_scheduler(scheduler: Any) -> None:
    """Refuse a scheduler argument that cannot work, before anything is computed."""
    if scheduler is None or (isinstance(scheduler, str) and scheduler == "serial"):
        return
    if isinstance(scheduler, str):
        if not re.match(r"^([a-z][a-z0-9+.-]*://)?[^\s:/]+(:\d+)$|^[a-z][a-z0-9+.-]*://\S+$",
                        scheduler):
            raise InputError(f"scheduler {scheduler!r} is neither 'serial' nor a Dask scheduler "
                             f"address like 'tcp://host:8786' (omit it for an embedded "
                             f"LocalCluster)")
        return
    try:
        from distributed import Client
    except ImportError:  # without the 'distributed' extra no Client can exist
        Client = ()
    if not isinstance(scheduler, Client):
        raise InputError(f"scheduler must be None (embedded LocalCluster), 'serial', a "
                         f"scheduler address or a distributed.Client, got {scheduler!r}")


def _probe_scheduler(address: str, timeout_s: float) -> None:
    """Fail at once when nothing listens at a ``tcp://host:port`` address (Dask's own
    client retries a refused connection until its timeout)."""
    import socket

    m = re.match(r"^(?:tcp://)?\[?([^\s\[\]/]+?)\]?:(\d+)$", address)
    if m is None:  # other protocols (tls://, ucx://, inproc://): leave them to Dask
        return
    host, port = m.group(1), int(m.group(2))
    try:
        with socket.create_connection((host, port), timeout=max(timeout_s, 1e-3)):
            pass
    except OSError as exc:
        raise SchedulerUnreachableError(
            f"no Dask scheduler answered at {address} within {timeout_s:g} s "
            f"({exc.strerror or exc}); start one "
            f"there (dask scheduler), fix the address, or omit scheduler for an embedded "
            f"LocalCluster") from None


def max_local_workers() -> int:
    """Most worker processes of an embedded LocalCluster: 4 per core, at least 64."""
    return max(64, 4 * (os.cpu_count() or 1))


@contextlib.contextmanager
def _dask_client(scheduler: Any, n_workers: int | None,
                 connect_timeout_s: float = 5.0) -> Iterator[Any]:
    """A connected Client; an embedded LocalCluster keeps its scratch files
    (``dask-scratch-space``, worker lock files) in a temporary folder removed on exit."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler is None:
        import logging
        import tempfile

        workers = n_workers if n_workers is not None else (os.cpu_count() or 1)
        with tempfile.TemporaryDirectory(prefix="apophis-sim-dask-",
                                         ignore_cleanup_errors=True) as scratch, \
                dask.config.set({"temporary-directory": scratch}):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=":0", silence_logs=logging.ERROR,
                                   local_directory=scratch)
            try:
                client = Client(cluster)
                try:
                    yield client
                finally:
                    client.close()
            finally:
                cluster.close()
    elif isinstance(scheduler, Client):
        yield scheduler
    elif isinstance(scheduler, str):
        _probe_scheduler(scheduler, connect_timeout_s)
        try:
            client = Client(scheduler, timeout=connect_timeout_s)
        except (OSError, TimeoutError) as exc:
            raise SchedulerUnreachableError(
                f"no Dask scheduler answered at {scheduler} within {connect_timeout_s:g} s "
                f"({exc}); start one there (dask scheduler), fix the address, or omit "
                f"scheduler for an embedded LocalCluster") from None
        except ValueError as exc:
            raise InputError(f"scheduler {scheduler!r}: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - e.g. MemoryError from a non-Dask server's reply
            raise SchedulerUnreachableError(
                f"something answered at {scheduler} but not as a Dask scheduler "
                f"({type(exc).__name__}: {str(exc)[:120]}); check the address and port of "
                f"your 'dask scheduler'") from None
        try:
            yield client
        finally:
            client.close()
    else:  # pragma: no cover - refused by _check_scheduler
        raise InputError(f"scheduler must be None, 'serial', an address or a Client, "
                         f"got {scheduler!r}")


def _check_size(n_clones: int, chunk_size: int) -> int:
    """Refuse runs whose bookkeeping or results cannot fit, before allocating; -> chunks."""
    n_chunks = -(-n_clones // chunk_size)
    if n_chunks > MAX_CHUNKS:
        raise InputError(
            f"n_clones={n_clones} in chunks of chunk_size={chunk_size} make {n_chunks:,} chunks "
            f"(one file and one Dask task each); the limit is {MAX_CHUNKS:,}: use chunk_size >= "
            f"{-(-n_clones // MAX_CHUNKS)}")
    need = n_clones * _BYTES_PER_CLONE
    if n_clones > MAX_CLONES:
        raise InputError(
            f"n_clones={n_clones:,} needs {need / 1e9:,.1f} GB of result columns in memory "
            f"({_BYTES_PER_CLONE} bytes a clone); the limit is {MAX_CLONES:,} clones "
            f"({MAX_CLONES * _BYTES_PER_CLONE / 1e9:.0f} GB): split the run over several seeds")
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        ram = 0
    if ram and need > ram // 2:
        raise InputError(
            f"n_clones={n_clones:,} needs {need / 1e9:,.1f} GB of result columns in memory "
            f"({_BYTES_PER_CLONE} bytes a clone), more than half of this machine's "
            f"{ram / 1e9:,.1f} GB: split the run over several seeds")
    return n_chunks


def _done_message(done: int, n_chunks: int, out: Path | None) -> str:
    if out is None:
        return (f"{done} of {n_chunks} chunks were computed but not saved (no out folder); "
                f"pass out=FOLDER to make the run resumable")
    return (f"{done} of {n_chunks} chunks are saved in {out}; rerun the same command (same "
            f"out folder) to resume")


def _run_on_dask(client: Any, spec: _ChunkSpec, run_id: str, todo: Iterator[int],
                 store: Callable[[dict], None], n_saved: Callable[[], int], n_chunks: int,
                 out: Path | None, worker_timeout_s: float) -> None:
    """Submit chunks in a bounded window (never the whole run at once), store each
    result as it arrives, and end with a typed error when Dask gives up on a chunk
    or the cluster has no workers for ``worker_timeout_s`` seconds."""
    from distributed import KilledWorker

    inflight: set = set()
    exhausted = False
    no_workers_since: float | None = None
    next_check = 0.0
    threads = 0

    def n_threads() -> int:
        try:
            return int(sum(client.nthreads().values()))
        except Exception as exc:  # noqa: BLE001 - any failure here means a lost scheduler
            raise ClusterError(f"lost the Dask scheduler ({type(exc).__name__}: {exc}); "
                               f"{_done_message(n_saved(), n_chunks, out)}") from None

    # Futures are polled with fut.done() (local state, no round trip) and a short
    # sleep in this thread, not with distributed.wait: a KeyboardInterrupt then lands
    # in our code, never inside distributed's event-loop bridge (which logs a
    # spurious traceback when interrupted).
    while True:
        now = _time.monotonic()
        if now >= next_check:  # one scheduler round trip a second at most
            threads = n_threads()
            next_check = now + min(1.0, worker_timeout_s / 4)
            if threads:
                no_workers_since = None
            elif no_workers_since is None:
                no_workers_since = now
            elif now - no_workers_since > worker_timeout_s:
                for f in inflight:
                    f.release()
                raise WorkersLostError(
                    f"the Dask cluster has had no workers for {worker_timeout_s:g} s; "
                    f"{_done_message(n_saved(), n_chunks, out)} once workers are back")
        window = max(16, 4 * threads)
        while not exhausted and len(inflight) < window:
            c = next(todo, None)
            if c is None:
                exhausted = True
                break
            inflight.add(client.submit(_simulate_chunk, spec, c,
                                       key=f"apophis-mc-{run_id}-{c:06d}", pure=False))
        if not inflight:
            return
        done = [f for f in inflight if f.done()]
        if not done:
            _time.sleep(0.02)
            continue
        for fut in done:
            inflight.discard(fut)
            if fut.status == "error":
                exc = fut.exception()
                if isinstance(exc, KilledWorker):
                    for f in inflight:
                        f.release()
                    raise WorkersLostError(
                        f"Dask gave up on a chunk after the workers running it died "
                        f"repeatedly ({exc}; limit distributed.scheduler.allowed-failures); "
                        f"{_done_message(n_saved(), n_chunks, out)}") from None
            elif fut.status == "cancelled":
                for f in inflight:
                    f.release()
                raise ClusterError(f"the Dask scheduler cancelled a chunk (scheduler lost or "
                                   f"restarted); {_done_message(n_saved(), n_chunks, out)}")
            store(fut.result())  # a task's own error (e.g. ConvergenceError) is re-raised
            fut.release()


def run_monte_carlo(n_clones: int, seed: int, *, solution: OrbitSolution | None = None,
                    chunk_size: int = 64, out: str | os.PathLike | None = None,
                    scheduler: Any = None, n_workers: int | None = None,
                    numba_threads: int | None = None, forces: Sequence[str] | None = None,
                    epsilon: float | None = None, progress: bool | None = None,
                    on_chunk: Callable[[int], None] | None = None,
                    lock_timeout: float = 0.0, connect_timeout: float = 5.0,
                    worker_timeout: float = 120.0, impacts_until: Any = None,
                    impact_bodies: Sequence[str] = ("earth", "moon"),
                    encounter: bool = True) -> MonteCarloResult:
    """Monte Carlo of the 2029 encounter: N clones drawn from the covariance, on Dask.

    Needs the ``distributed`` extra (``pip install "apophis_sim[distributed]"``:
    dask, distributed, pyarrow); only ``scheduler="serial"`` without ``out`` runs
    on the core install.

    Clone ``k`` has parameters ``x0 + L z_k`` (:func:`sample_parameters`, ``z_k``
    from ``(seed, k)`` only) and is integrated from the solution epoch through
    the 2029 Earth approach with the full force model (:func:`encounter_of`).
    Clones ``[c K, (c+1) K)`` form chunk ``c`` (``K = chunk_size``), one Dask task
    each. Each clone has its own adaptive integrator, so results are
    bit-identical whatever the worker count, chunk size or scheduler.

    Fault tolerance: when a worker dies, Dask reruns its tasks elsewhere (a task
    is a pure function of ``(spec, chunk)``); the client receives one result per
    chunk and writes it once, as ``chunk-NNNNNN.parquet`` in ``out``, atomically
    (temporary name in the same folder, fsync, ``os.replace``). Only final names
    are ever read. A ``manifest.json`` records the run parameters (seed,
    n_clones, chunk_size, solution digest, force model, ephemeris files,
    epsilon); calling again with the same ``out`` resumes: finished chunks are
    read back, never recomputed, and a folder of another run is refused.

    Durability: one run at a time owns ``out`` (an exclusive ``flock`` on ``out/.lock``,
    released by the kernel if the process dies). At start, temporaries of
    interrupted writes are removed and every finished chunk is verified against
    the SHA-256 checksum it carries; a damaged chunk (truncated, empty, garbage,
    altered values) is moved aside as ``chunk-NNNNNN.parquet.corrupt-<UTC time>``
    with a :class:`CorruptChunkWarning` and recomputed. Chunks are submitted to
    Dask in a bounded window; when Dask gives up on a chunk (``KilledWorker``)
    or the cluster has no workers for ``worker_timeout`` seconds, the run ends
    with :class:`WorkersLostError`, keeping every finished chunk.

    Limits: at most :data:`MAX_CHUNKS` (10^6) chunks and :data:`MAX_CLONES`
    (10^8) clones, and result columns (120 bytes a clone) within half the
    machine's memory; checked before anything is allocated.

    Parameters
    ----------
    n_clones : int
        Number of clones (> 0).
    seed : int
        Non-negative seed.
    solution : OrbitSolution, optional
        Default :func:`apophis` (JPL #220).
    chunk_size : int
        Clones per task (> 0). ~0.02-0.05 s of CPU per clone: 32-256 keeps the
        scheduler overhead (~1 ms per task) negligible and the bar moving.
    out : path, optional
        Folder for the manifest and chunk files (created). Without it results
        stay in memory and nothing can be resumed.
    scheduler : None, "serial", str or distributed.Client
        ``None`` (default): an embedded ``LocalCluster`` of ``n_workers``
        single-threaded worker processes; ``"serial"``: no Dask, chunks run in
        this process; an address (``"tcp://host:8786"``): an existing cluster;
        or a connected ``Client``.
    n_workers : int, optional
        Workers of the embedded cluster (default: the number of cores).
    numba_threads : int, optional
        Numba threads per task. Default 1 on Dask (one worker process per core
        already fills the cores) and all cores for ``"serial"``.
    forces : sequence of str, optional
        Force terms (default JPL's model; asteroids if SB441-N16 is installed).
    epsilon : float
        IAS15 precision parameter.
    progress : bool, optional
        tqdm bar of chunks done (default: when stderr is a terminal).
    on_chunk : callable, optional
        Called with each chunk index once it is stored (for monitoring).
    lock_timeout : float
        How long to wait for another run holding ``out`` [s]; 0 (default)
        refuses at once with :class:`RunLockedError`.
    connect_timeout : float
        How long to wait for a scheduler address to answer [s] (default 5).
    worker_timeout : float
        How long the cluster may have no workers before the run ends with
        :class:`WorkersLostError` [s] (default 120: enough for an adaptive
        cluster to start one).
    impacts_until : Time, optional
        Also follow every clone to this date with impact detection inside the
        integrator (entry through the radius of a body of ``impact_bodies``): adds
        the columns ``impact_tdb_jd`` (first impact, 0.0 when none) and
        ``impact_body`` (0 none, 1 Earth, 2 Moon). See
        :func:`apophis_sim.risk.impact_monte_carlo`.
    impact_bodies : sequence of {"earth", "moon"}
        Bodies whose surface ends a clone (with ``impacts_until``).
    encounter : bool
        Compute each clone's 2029 Earth approach (default). ``False`` (only with
        ``impacts_until``) skips it and leaves those six columns NaN: impact runs of
        objects other than Apophis, which have no approach within 0.01 au before
        2029-04-20.

    Returns
    -------
    MonteCarloResult

    Raises
    ------
    InputError
        ``n_clones <= 0``, ``chunk_size <= 0``, bad seed, ``n_workers <= 0``, a
        bad scheduler, or a run beyond the size limits (the message gives the size).
    OutputPathError
        ``out`` is empty, a file, inside /proc, /sys or /dev, or not writable.
    IncompatibleRunError
        ``out`` holds another run.
    ManifestError
        ``out/manifest.json`` is damaged (the message says how to recover).
    RunLockedError
        Another process is running into ``out``.
    SchedulerUnreachableError
        No scheduler answered at the address within ``connect_timeout``.
    WorkersLostError
        Dask gave up on a chunk, or the cluster had no workers for ``worker_timeout``.
    ConvergenceError
        A clone has no 2029 approach (with ``encounter``) or its integration failed.
    MissingDependencyError
        The ``distributed`` extra is not installed (``pip install
        "apophis_sim[distributed]"``): Dask is needed unless ``scheduler="serial"``,
        pyarrow whenever ``out`` is given.
    """
    t_start = _time.perf_counter()
    for name, value in (("n_clones", n_clones), ("chunk_size", chunk_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise InputError(f"{name} must be a positive integer, got {value!r}")
    for name, value in (("n_workers", n_workers), ("numba_threads", numba_threads)):
        if value is not None and (isinstance(value, bool)
                                  or not isinstance(value, (int, np.integer)) or value <= 0):
            raise InputError(f"{name} must be a positive integer, got {value!r:.60}")
    if n_workers is not None and n_workers > max_local_workers():
        raise InputError(f"n_workers = {n_workers:,} worker processes is more than this "
                         f"machine can run ({os.cpu_count() or 1} cores, limit "
                         f"{max_local_workers()}); pass n_workers <= {max_local_workers()}, "
                         f"or a scheduler address for a larger cluster")
    epsilon = _nbody_epsilon(epsilon)
    seed = _check_seed(seed)
    n_clones, chunk_size = int(n_clones), int(chunk_size)
    n_chunks = _check_size(n_clones, chunk_size)
    for name, value in (("lock_timeout", lock_timeout), ("connect_timeout", connect_timeout),
                        ("worker_timeout", worker_timeout)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating,
                                                             np.integer)) \
                or not math.isfinite(value) or value < 0 or (value == 0 and name != "lock_timeout"):
            raise InputError(f"{name} must be a finite number of seconds "
                             f"{'>= 0' if name == 'lock_timeout' else '> 0'}, got {value!r}")
    _check_scheduler(scheduler)
    if out is not None and not isinstance(out, (str, os.PathLike)):
        raise OutputPathError(f"out must be a folder name (str or Path), got {out!r:.60}")
    serial = isinstance(scheduler, str) and scheduler == "serial"
    require_engine(scheduler, out)  # before any folder is created or anything computed
    out_path = check_output_folder(out, "out") if out is not None else None
    sol = solution if solution is not None else apophis()
    covariance_factor(sol.covariance)  # validate here, not in every worker
    _nominal(sol, embedded=True)
    if not isinstance(encounter, (bool, np.bool_)):
        raise InputError(f"encounter must be True or False, got {encounter!r:.60}")
    if not encounter and impacts_until is None:
        raise InputError("encounter=False needs impacts_until: a run without the 2029 "
                         "encounter and without impacts would compute nothing")
    eph = Ephemeris.open()
    force_names = tuple(resolve_forces(forces, eph))
    impacts = None
    until_jd = None
    if impacts_until is not None:
        from ..time import to_jd_tdb

        if isinstance(impact_bodies, str):
            impact_bodies = (impact_bodies,)
        impact_bodies = tuple(str(b).lower() for b in impact_bodies)
        bad = [b for b in impact_bodies if b not in IMPACT_BODIES[1:]]
        if bad or not impact_bodies:
            from ..errors import UnknownNameError

            raise UnknownNameError("impact_bodies", bad[0] if bad else "(none)",
                                   IMPACT_BODIES[1:])
        j1, j2 = to_jd_tdb(impacts_until, "impacts_until")
        if np.ndim(j1):
            raise InputError("impacts_until must be a scalar Time")
        until_jd = (float(j1), float(j2))
        ep1, ep2 = sol.state.jd_tdb
        if (until_jd[0] - float(np.ravel(ep1)[0])) + (until_jd[1] - float(np.ravel(ep2)[0])) <= 0:
            raise InputError("impacts_until must be after the solution epoch")
        impacts = {"until_tdb_jd": until_jd[0] + until_jd[1], "bodies": list(impact_bodies),
                   "detection": "entry through the body's equatorial radius, inside the "
                                "integrator"}
    params = _run_parameters(sol, seed, n_clones, chunk_size, force_names, eph.files,
                             float(epsilon), impacts, bool(encounter))
    columns = run_columns(params)
    run_id = _run_id(params)
    parts: dict[int, dict[str, np.ndarray]] = {}
    reused: list[int] = []
    computed: list[int] = []
    threads = numba_threads if numba_threads is not None else (None if serial else 1)
    spec = _ChunkSpec(sol, seed, n_clones, chunk_size, force_names, float(epsilon), threads,
                      until_jd, tuple(impact_bodies) if impacts else (), bool(encounter))
    show = progress if progress is not None else sys.stderr.isatty()

    with contextlib.ExitStack() as stack:
        if out_path is not None:
            stack.enter_context(run_lock(out_path, lock_timeout))
            clean_temporaries(out_path)
            _prepare_out(out_path, params)
            for c, p in sorted(_finished_chunks(out_path).items()):
                if c >= n_chunks:
                    raise IncompatibleRunError(f"{p} is beyond the {n_chunks} chunks of this run")
                try:
                    parts[c] = _read_chunk(p, run_id, columns)
                except CorruptChunkError as exc:
                    move_aside(p, exc.reason)
                    continue
                reused.append(c)
        todo = (c for c in range(n_chunks) if c not in parts)  # lazy: never a list of all
        bar = None
        if show:
            from tqdm import tqdm

            bar = tqdm(total=n_chunks, initial=len(reused), unit="chunk", desc="Monte Carlo")
            stack.callback(bar.close)

        def store(res: dict[str, Any]) -> None:
            c = int(res["chunk"])
            if c in parts:  # a duplicate delivery is dropped: each chunk is stored once
                return
            if list(res["ephemeris_files"]) != list(eph.files):
                raise IncompatibleRunError(
                    f"chunk {c} was computed with ephemeris files {res['ephemeris_files']}, the "
                    f"run uses {list(eph.files)}: install the same ephemerides on every worker")
            if out_path is not None:
                _write_chunk(out_path, c, res["columns"], run_id, columns)
            parts[c] = {k: np.asarray(res["columns"][k]) for k in columns}
            computed.append(c)
            if bar is not None:
                bar.update(1)
            if on_chunk is not None:
                on_chunk(c)

        if len(parts) < n_chunks and serial:
            for c in todo:
                store(_simulate_chunk(spec, c))
        elif len(parts) < n_chunks:
            with _dask_client(scheduler, n_workers, float(connect_timeout)) as client:
                _run_on_dask(client, spec, run_id, todo, store, lambda: len(parts), n_chunks,
                             out_path, float(worker_timeout))
    return MonteCarloResult(_assemble(parts, columns), params, out_path, sorted(computed),
                            reused, _time.perf_counter() - t_start)


def load_monte_carlo(out: str | os.PathLike) -> MonteCarloResult:
    """Read the finished chunks of a run folder (complete or not), each verified
    against its SHA-256 checksum.

    Only final ``chunk-NNNNNN.parquet`` names are read (never temporaries or chunks
    moved aside as corrupt).

    Parameters
    ----------
    out : str or os.PathLike
        The run folder.

    Returns
    -------
    MonteCarloResult

    Raises
    ------
    InputError
        The folder does not exist, is not a folder, or has no manifest.
    ManifestError
        The manifest is damaged (the message says how to recover).
    CorruptChunkError
        A chunk is truncated, empty, not Parquet or altered (the message names it;
        rerunning ``run_monte_carlo`` with this folder recomputes it).
    IncompatibleRunError
        A chunk file belongs to another run.
    MissingDependencyError
        pyarrow (the ``distributed`` extra) is not installed.
    """
    if not isinstance(out, (str, os.PathLike)) or not str(out).strip():
        raise InputError(f"out must be the folder of a Monte Carlo run (str or Path), got "
                         f"{out!r:.60}")
    require(("pyarrow",), "load_monte_carlo")
    path = Path(out)
    if not path.is_dir():
        raise InputError(f"out {str(path)!r} is not a folder: not a Monte Carlo run folder")
    if not (path / "manifest.json").exists():
        raise InputError(f"out {str(path)!r} has no manifest.json: not a Monte Carlo run "
                         "folder")
    params = read_manifest(path)["parameters"]
    run_id = _run_id(params)
    try:
        chunks = _finished_chunks(path)
    except OSError as exc:
        raise InputError(f"{path} cannot be listed: {exc.strerror or exc}") from None
    columns = run_columns(params)
    parts = {c: _read_chunk(p, run_id, columns) for c, p in chunks.items()}
    return MonteCarloResult(_assemble(parts, columns), params, path, [], sorted(parts), 0.0)
