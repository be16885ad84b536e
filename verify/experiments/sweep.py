"""Sweeps of the MRS dynamics: matrices x a grid of settings (x finite-sample realisations), chunked and resumable.

A sweep runs every matrix ``P[m]`` at every setting ``(alpha, scale, lam)`` of a :class:`Grid` (the
cartesian product; ``scale`` is the loss's own scale parameter: IPO's ``beta``, DPO's ``beta_dpo``)
with :func:`verify.numerics.kernels.run_grid`, and, with ``spec.finite``, the finite-sample variant
of :mod:`verify.experiments.finite` too (``R`` realisations per matrix and setting).

**Work and chunks.** The work (matrices x settings, x realisations for the finite-sample variant) is
cut into rectangular chunks of matrices x settings (:func:`chunk_layout`) whose layout depends only
on ``(N, S, spec.chunk, R)`` -- never on the number of workers. Nothing random depends on the chunk:
the start of matrix ``m`` is a counter-based draw keyed by ``(seed, m)`` (:func:`start_logpis`:
logits ``N(0, start_scale^2)``, normalised; the same start for every setting and realisation), and
realisation ``r`` of ``(m, s)`` from ``SeedSequence([seed, m, s, r, 2])``; the kernels compute every
row independently. So any chunk size, the serial run and any cluster run give bit-identical tables
(tested): every chunk runs the same engine (``engine="auto"`` is resolved once by :func:`run_sweep`, on
the machine that runs it, to numba where it is importable, else numpy; a resume where it would
resolve otherwise is refused; the engines used are recorded in :attr:`SweepResult.engines`).

**Files and resuming.** With ``out_dir``, each finished chunk is written atomically to
``out_dir/chunks/chunk-NNNNNN.npz`` (a temporary file, flushed, then ``os.replace``) as soon as it
completes, next to ``out_dir/chunks/manifest.json`` (``spec.to_json()``, the matrices' shape and
SHA-256). A rerun with the same arguments reads the finished chunks (an unreadable or foreign file is
recomputed) and computes only the rest. A rerun with *different* arguments (another spec or other
matrices) is refused with one line naming the first difference: results of two sweeps are never
mixed, and nothing is deleted behind the user's back (use another ``out_dir`` or delete the
``chunks`` folder).

**Defaults** (the paper states only the 3,000 iterations): ``steps = 3000``; ``burn_in = steps // 3``
(1,000: the first third of the states is left out of the cycle strength); ``start_scale = 1e-3``;
``chunk = 4096`` work items (matrix-setting pairs, times ``R`` for the finite-sample variant).

**Cluster.** With a ``dask.distributed`` client (:mod:`verify.experiments.cluster`), each unfinished
chunk is one task (:func:`compute_chunk`, ``retries=`` for exceptions; a task lost with its worker is
rescheduled by the scheduler); results are gathered as they complete and written on the client side.

>>> from verify.exact.families import cyclic_float
>>> P = np.stack([cyclic_float(0.4), cyclic_float(0.05)])
>>> spec = SweepSpec(grid=parse_grid("alpha=0.9,beta=8,lam=1", "beta"), steps=600, engine="numpy")
>>> res = run_sweep(P, spec)
>>> res.oscillating[:, 0].tolist(), res.settings.tolist()
([True, False], [[0.9, 8.0, 1.0]])
>>> [r["state"] for r in res.to_rows()]
['oscillating', 'converged']
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from verify.exact.objects import InputError
from verify.experiments.finite import FiniteRun, FiniteSample, run_finite  # FiniteSample: re-exported

__all__ = [
    "FiniteSample",
    "Grid",
    "parse_grid",
    "GRID_DEFAULTS",
    "SweepSpec",
    "SweepResult",
    "Chunk",
    "chunk_layout",
    "start_logpi",
    "start_logpis",
    "starts",
    "compute_chunk",
    "run_sweep",
    "matrices_digest",
    "DEFAULT_STEPS",
    "DEFAULT_CHUNK",
    "ENGINES",
    "METRICS",
    "MANIFEST",
]

DEFAULT_STEPS = 3000
DEFAULT_CHUNK = 4096
ENGINES = ("auto", "numpy", "numba", "reference")
#: The per-(matrix, setting) metrics of a sweep (the fields of ``verify.numerics.kernels.GridResult``).
METRICS = ("cycle_strength", "final_entropy", "amplitude", "last_delta", "converged", "oscillating")
#: The manifest's file name inside ``out_dir/chunks``.
MANIFEST = "manifest.json"
_FORMAT = "prefdyn-sweep-chunks/1"
_FINITE_METRICS = ("cycle_strength", "final_entropy", "amplitude", "oscillating", "converged")
_AVERAGED_METRICS = ("averaged_cycle_strength", "averaged_final_entropy", "averaged_amplitude", "averaged_oscillating")

# ----------------------------------------------------------------------------- the grid

#: The value a parameter takes when the grid text does not name it.
GRID_DEFAULTS = {"alpha": 0.5, "scale": 1.0, "lam": 1.0}


def _as_floats(values: Any, name: str) -> tuple[float, ...]:
    try:
        vals = tuple(float(v) for v in (values if np.ndim(values) else [values]))
    except (TypeError, ValueError):
        raise InputError(f"grid {name} = {values!r}: expected numbers") from None
    if not vals:
        raise InputError(f"grid {name} is empty")
    for v in vals:
        if not math.isfinite(v):
            raise InputError(f"grid {name} has {v}, expected finite numbers")
        if name in ("alpha", "lam") and not 0 <= v <= 1:
            raise InputError(f"grid {name} = {v:g} is outside [0, 1]")
        if name == "scale" and not v > 0:
            raise InputError(f"grid scale = {v:g}, expected > 0")
    return vals


@dataclass(frozen=True)
class Grid:
    """A grid of settings: the cartesian product of ``alpha``, ``scale`` and ``lam`` values.

    ``scale`` is the loss's own scale parameter (IPO ``beta``, DPO ``beta_dpo``). Settings are
    ordered ``alpha``-major, then ``scale``, then ``lam`` (:meth:`settings`).

    >>> Grid(alpha=(0.5, 0.9), scale=(8,)).settings().tolist()
    [[0.5, 8.0, 1.0], [0.9, 8.0, 1.0]]
    """

    alpha: tuple[float, ...] = (GRID_DEFAULTS["alpha"],)
    scale: tuple[float, ...] = (GRID_DEFAULTS["scale"],)
    lam: tuple[float, ...] = (GRID_DEFAULTS["lam"],)

    def __post_init__(self) -> None:
        for name in ("alpha", "scale", "lam"):
            object.__setattr__(self, name, _as_floats(getattr(self, name), name))

    def settings(self) -> np.ndarray:
        """``(S, 3)`` rows ``(alpha, scale, lam)``."""
        return np.array(list(itertools.product(self.alpha, self.scale, self.lam)), dtype=float).reshape(-1, 3)

    def __len__(self) -> int:
        return len(self.alpha) * len(self.scale) * len(self.lam)

    def to_json(self) -> dict:
        return {"alpha": list(self.alpha), "scale": list(self.scale), "lam": list(self.lam)}

    @classmethod
    def from_json(cls, d: dict) -> "Grid":
        return cls(alpha=tuple(d["alpha"]), scale=tuple(d["scale"]), lam=tuple(d["lam"]))

    def text(self, scale_name: str = "scale") -> str:
        """The grid as ``parse_grid`` text (lists written out)."""
        fmt = lambda vs: "/".join(f"{v:g}" for v in vs)  # noqa: E731
        return f"alpha={fmt(self.alpha)},{scale_name}={fmt(self.scale)},lam={fmt(self.lam)}"


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def _parse_values(key: str, text: str) -> tuple[float, ...]:
    text = text.strip()
    m = re.fullmatch(rf"({_NUMBER}):({_NUMBER}):(\d+)", text)
    if m:
        a, b, n = float(m.group(1)), float(m.group(2)), int(m.group(3))
        if n < 1:
            raise InputError(f"grid {key}={text}: a:b:n needs n >= 1 points")
        if n == 1 and a != b:
            raise InputError(f"grid {key}={text}: one point between two different ends; write {key}={a:g}")
        return tuple(float(v) for v in np.linspace(a, b, n))
    parts = text.split("/")
    if all(re.fullmatch(_NUMBER, p.strip()) for p in parts):
        return tuple(float(p) for p in parts)
    raise InputError(f"grid {key}={text!r}: expected a number, a list a/b/c, or a range start:stop:count")


def parse_grid(text: str, loss_scale_name: str = "scale") -> Grid:
    """A :class:`Grid` from text such as ``"alpha=0.1:0.9:5,beta=1:10:5,lam=1"``.

    Entries are ``name=values`` separated by commas; values are a number, a list ``0.5/0.9`` or a
    range ``a:b:n`` (``n`` points linearly spaced from ``a`` to ``b``). Names: ``alpha``, ``lam``
    (or ``lambda``), and the scale as ``scale`` or the loss's own name ``loss_scale_name`` (``beta``
    for IPO, ``beta_dpo`` for DPO). A name not given takes :data:`GRID_DEFAULTS`. Bad text: an
    :class:`~verify.exact.objects.InputError` naming the entry.

    >>> g = parse_grid("alpha=0.1:0.9:3, beta=8, lam=0.5/1", "beta")
    >>> g.alpha, g.scale, g.lam, len(g)
    ((0.1, 0.5, 0.9), (8.0,), (0.5, 1.0), 6)
    >>> parse_grid("beta=8", "beta_dpo")
    Traceback (most recent call last):
    ...
    verify.exact.objects.InputError: grid: unknown parameter 'beta' (the scale of this loss is 'beta_dpo'; expected alpha, beta_dpo (or scale), lam)
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError("grid: empty text; expected e.g. 'alpha=0.1:0.9:5,beta=1:10:5,lam=1'")
    names = {"alpha": "alpha", "lam": "lam", "lambda": "lam", "scale": "scale", loss_scale_name: "scale"}
    seen: dict[str, tuple[float, ...]] = {}
    for entry in text.split(","):
        entry = entry.strip()
        if not entry:
            raise InputError(f"grid {text!r}: an empty entry (two commas in a row?)")
        if "=" not in entry:
            raise InputError(f"grid entry {entry!r}: expected name=values")
        key, _, values = entry.partition("=")
        key = key.strip()
        if key not in names:
            hint = f"the scale of this loss is {loss_scale_name!r}; " if key.startswith("beta") or key in ("tau",) else ""
            raise InputError(
                f"grid: unknown parameter {key!r} ({hint}expected alpha, {loss_scale_name}"
                f"{' (or scale)' if loss_scale_name != 'scale' else ''}, lam)"
            )
        canon = names[key]
        if canon in seen:
            raise InputError(f"grid: {key!r} given twice")
        seen[canon] = _parse_values(key, values)
    return Grid(**{k: seen.get(k, (v,)) for k, v in GRID_DEFAULTS.items()})


# ----------------------------------------------------------------------------- the spec


@dataclass(frozen=True)
class SweepSpec:
    """Everything that determines a sweep's numbers (with the matrices).

    Attributes
    ----------
    loss : a built-in loss name (``"ipo"``, ``"dpo"``, ...) or an expression in ``x``
    grid : the settings (:class:`Grid`)
    steps : iterations per trajectory (default 3,000, the paper's)
    burn_in : states ``t <= burn_in`` left out of the cycle strength; ``None`` (default) becomes ``steps // 3``
        on construction (the paper does not say)
    seed : the root of every random choice (starts, finite-sample draws)
    start_scale : the starts' logits are ``N(0, start_scale^2)`` around uniform
    chunk : work items per chunk (matrix-setting pairs, times the realisations with ``finite``)
    engine : the kernel of ``run_grid`` (``"auto"``, ``"numpy"``, ``"numba"``, ``"reference"``)
    finite : the finite-sample variant's options, or None (population dynamics only)
    record : ``(matrix, setting)`` pairs (global indices) whose paths are kept (figures)
    tol, window, amp_tol : the metric options of :mod:`verify.numerics.metrics`
    """

    loss: str = "ipo"
    grid: Grid = field(default_factory=Grid)
    steps: int = DEFAULT_STEPS
    burn_in: int | None = None
    seed: int = 0
    start_scale: float = 1e-3
    chunk: int = DEFAULT_CHUNK
    engine: str = "auto"
    finite: FiniteSample | None = None
    record: tuple = ()
    tol: float = 1e-10
    window: int = 512
    amp_tol: float = 1e-6

    def __post_init__(self) -> None:
        if not isinstance(self.loss, str) or not self.loss.strip():
            raise InputError(f"loss = {self.loss!r}, expected a loss name or an expression in x")
        if not isinstance(self.grid, Grid):
            raise InputError(f"grid = {self.grid!r}, expected a Grid (see parse_grid)")
        for name, low in (("steps", 1), ("seed", 0), ("chunk", 1), ("window", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
                raise InputError(f"{name} = {v!r}, expected an integer >= {low}")
            object.__setattr__(self, name, int(v))
        b = self.steps // 3 if self.burn_in is None else self.burn_in
        if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or not 0 <= b < self.steps:
            raise InputError(f"burn_in = {b!r}, expected an integer with 0 <= burn_in < steps = {self.steps}")
        object.__setattr__(self, "burn_in", int(b))
        for name in ("start_scale", "tol", "amp_tol"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float, np.floating)) and math.isfinite(v) and v >= 0):
                raise InputError(f"{name} = {v!r}, expected a finite number >= 0")
            object.__setattr__(self, name, float(v))
        if self.engine not in ENGINES:
            raise InputError(f"engine = {self.engine!r}, expected one of {', '.join(ENGINES)}")
        if self.finite is not None and not isinstance(self.finite, FiniteSample):
            raise InputError(f"finite = {self.finite!r}, expected a FiniteSample or None")
        try:
            rec = tuple((int(m), int(s)) for m, s in self.record)
        except (TypeError, ValueError):
            raise InputError(f"record = {self.record!r}, expected (matrix, setting) pairs of integers") from None
        if any(m < 0 or s < 0 for m, s in rec):
            raise InputError(f"record = {self.record!r}: indices must be >= 0")
        object.__setattr__(self, "record", tuple(sorted(set(rec))))

    @property
    def burn(self) -> int:
        """The burn-in used (``burn_in``; given as None it became ``steps // 3``)."""
        return int(self.burn_in)

    @property
    def realisations(self) -> int:
        return 1 if self.finite is None else self.finite.realisations

    def to_json(self) -> dict:
        """The spec as a JSON-ready dict."""
        return {
            "loss": self.loss,
            "grid": self.grid.to_json(),
            "steps": self.steps,
            "burn_in": self.burn_in,
            "seed": self.seed,
            "start_scale": self.start_scale,
            "chunk": self.chunk,
            "engine": self.engine,
            "finite": None if self.finite is None else self.finite.to_json(),
            "record": [list(p) for p in self.record],
            "tol": self.tol,
            "window": self.window,
            "amp_tol": self.amp_tol,
        }

    @classmethod
    def from_json(cls, d: dict) -> "SweepSpec":
        d = dict(d)
        d["grid"] = Grid.from_json(d["grid"])
        d["finite"] = None if d.get("finite") is None else FiniteSample.from_json(d["finite"])
        d["record"] = tuple(tuple(p) for p in d.get("record", ()))
        return cls(**d)


# ----------------------------------------------------------------------------- chunks


@dataclass(frozen=True)
class Chunk:
    """Matrices ``m0:m1`` x settings ``s0:s1`` (global indices), number ``id`` of the layout."""

    id: int
    m0: int
    m1: int
    s0: int
    s1: int

    @property
    def items(self) -> int:
        return (self.m1 - self.m0) * (self.s1 - self.s0)


def chunk_layout(N: int, S: int, chunk: int, realisations: int = 1) -> list[Chunk]:
    """The chunks of ``N`` matrices x ``S`` settings x ``realisations``, at most ``chunk`` work items each when possible.

    A chunk holds every realisation of its matrix-setting pairs (the averaged path needs them all);
    settings are split only when one matrix's settings exceed ``chunk``. Depends on its arguments only.

    >>> [(c.m0, c.m1, c.s0, c.s1) for c in chunk_layout(5, 2, 4)]
    [(0, 2, 0, 2), (2, 4, 0, 2), (4, 5, 0, 2)]
    >>> [(c.m0, c.m1, c.s0, c.s1) for c in chunk_layout(2, 5, 4, realisations=2)]
    [(0, 1, 0, 2), (0, 1, 2, 4), (0, 1, 4, 5), (1, 2, 0, 2), (1, 2, 2, 4), (1, 2, 4, 5)]
    """
    sb = min(S, max(1, chunk // realisations))
    mb = max(1, chunk // (sb * realisations))
    out = []
    for m0 in range(0, N, mb):
        for s0 in range(0, S, sb):
            out.append(Chunk(len(out), m0, min(N, m0 + mb), s0, min(S, s0 + sb)))
    return out


def start_logpis(seed: int, matrix_index: Any, K: int, scale: float) -> np.ndarray:
    """``(n, K)``: the starts of the (global) matrices ``matrix_index``: logits ``N(0, scale^2)``, normalised.

    Counter-based, so vectorised and independent of every other matrix: coordinate ``k`` of matrix ``m``
    takes two 53-bit uniforms ``u = ((h >> 11) + 1/2) / 2^53`` from the SplitMix64 hashes
    ``h = mix(mix(mix(mix(seed) ^ m) ^ (2 k + j)) ^ 1)``, ``j = 0, 1`` (:func:`verify.experiments.construct.mix64`),
    and the Box-Muller normal ``sqrt(-2 log u_0) cos(2 pi u_1)``.

    >>> a = start_logpis(0, [3, 7], 4, 1e-3)
    >>> bool(np.array_equal(a[1], start_logpis(0, [7], 4, 1e-3)[0])), bool(np.allclose(np.exp(a).sum(axis=1), 1))
    (True, True)
    """
    from verify.experiments.construct import mix64

    idx = np.atleast_1d(np.asarray(matrix_index, dtype=np.int64)).astype(np.uint64)
    k = np.arange(K, dtype=np.uint64)
    with np.errstate(over="ignore"):
        base = mix64(mix64(np.full(idx.shape, int(seed), dtype=np.uint64)) ^ idx)[:, None]
        u = [((mix64(mix64(base ^ (np.uint64(2) * k + np.uint64(j))) ^ np.uint64(1)) >> np.uint64(11)).astype(float) + 0.5) * 2.0**-53
             for j in (0, 1)]
    z = float(scale) * np.sqrt(-2.0 * np.log(u[0])) * np.cos(2.0 * np.pi * u[1])
    m = z.max(axis=1, keepdims=True)
    return z - (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))


def start_logpi(seed: int, matrix: int, K: int, scale: float) -> np.ndarray:
    """The start of matrix ``matrix`` (one row of :func:`start_logpis`)."""
    return start_logpis(seed, [matrix], K, scale)[0]


def starts(spec: SweepSpec, matrix_index: Any, K: int) -> np.ndarray:
    """``(n, K)``: the sweep's starts of the (global) matrices ``matrix_index`` (:func:`start_logpis` with ``spec``'s seed and scale)."""
    return start_logpis(spec.seed, matrix_index, K, spec.start_scale)


def compute_chunk(P_block: np.ndarray, spec: SweepSpec, chunk: Chunk) -> dict[str, np.ndarray]:
    """Run one chunk: ``P_block`` are the matrices ``chunk.m0:chunk.m1``. Returns the arrays of a chunk file.

    A pure function of its arguments (the cluster runs it as a task).
    """
    from verify.numerics.kernels import run_grid

    P_block = np.asarray(P_block, dtype=float)
    K = P_block.shape[-1]
    mi = np.arange(chunk.m0, chunk.m1)
    si = np.arange(chunk.s0, chunk.s1)
    st = spec.grid.settings()[chunk.s0 : chunk.s1]
    st0 = starts(spec, mi, K)
    rec = [(m, s) for m, s in spec.record if chunk.m0 <= m < chunk.m1 and chunk.s0 <= s < chunk.s1]
    local = [(m - chunk.m0, s - chunk.s0) for m, s in rec]
    g = run_grid(
        P_block,
        st[:, 0],
        st[:, 1],
        st[:, 2],
        st0,
        loss=spec.loss,
        steps=spec.steps,
        burn_in=spec.burn,
        tol=spec.tol,
        window=spec.window,
        amp_tol=spec.amp_tol,
        engine=spec.engine,
        record=local or None,
    )
    out: dict[str, np.ndarray] = {
        "id": np.array(chunk.id),
        "bounds": np.array([chunk.m0, chunk.m1, chunk.s0, chunk.s1]),
        "engine": np.array(str(g.engine)),
        "final_logpi": np.asarray(g.final_logpi, dtype=float),
        "rec_index": np.array(rec, dtype=np.int64).reshape(-1, 2),
        "rec_traj": np.empty((0, spec.steps + 1, K)),
    }
    if local:
        order = {tuple(int(v) for v in p): i for i, p in enumerate(getattr(g, "record", None) or local)}
        out["rec_traj"] = np.stack([np.asarray(g.trajectories[order[p]], dtype=float) for p in local])
    for name in METRICS:
        out[name] = np.asarray(getattr(g, name))
    if spec.finite is not None:
        fr = run_finite(
            P_block,
            st,
            st0,
            spec.finite,
            loss=spec.loss,
            steps=spec.steps,
            burn_in=spec.burn,
            seed=spec.seed,
            matrix_index=mi,
            setting_index=si,
            record=local,
            tol=spec.tol,
            window=spec.window,
            amp_tol=spec.amp_tol,
            engine="auto" if spec.engine == "auto" else ("numba" if spec.engine == "numba" else "numpy"),
        )
        for name in _FINITE_METRICS + _AVERAGED_METRICS:
            out["fs_" + name] = np.asarray(getattr(fr, name))
        R = spec.finite.realisations
        out["fs_rec_paths"] = (
            np.stack([fr.paths[p] for p in local]) if local else np.empty((0, R, spec.steps + 1, K))
        )
    return out


# ----------------------------------------------------------------------------- files


def matrices_digest(P: np.ndarray) -> str:
    """SHA-256 of the matrices (shape and float64 little-endian bytes)."""
    arr = np.ascontiguousarray(P, dtype="<f8")
    h = hashlib.sha256(repr(arr.shape).encode())
    h.update(arr.tobytes())
    return h.hexdigest()


def _manifest(P: np.ndarray, spec: SweepSpec, n_chunks: int) -> dict:
    return {
        "format": _FORMAT,
        "spec": spec.to_json(),
        "matrices": {"N": int(P.shape[0]), "K": int(P.shape[-1]), "sha256": matrices_digest(P)},
        "chunks": n_chunks,
    }


def _first_difference(old: Any, new: Any, path: str = "") -> str | None:
    if isinstance(old, dict) and isinstance(new, dict):
        for k in list(old) + [k for k in new if k not in old]:
            d = _first_difference(old.get(k), new.get(k), f"{path}.{k}" if path else str(k))
            if d:
                return d
        return None
    if old != new:
        show = lambda v: json.dumps(v)[:60]  # noqa: E731
        return f"{path}: {show(old)} there, {show(new)} now"
    return None


def _sweep_key(manifest: dict) -> str:
    return hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()


def _chunk_path(folder: Path, cid: int) -> Path:
    return folder / f"chunk-{cid:06d}.npz"


def _write_chunk(folder: Path, cid: int, arrays: dict[str, np.ndarray], key: str) -> None:
    path = _chunk_path(folder, cid)
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    with open(tmp, "wb") as fh:
        np.savez(fh, sweep=np.array(key), **arrays)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _read_chunk(folder: Path, chunk: Chunk, key: str) -> dict[str, np.ndarray] | None:
    """A finished chunk's arrays, or None when the file is missing, unreadable or not this sweep's."""
    path = _chunk_path(folder, chunk.id)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception:  # a truncated or foreign file: recompute it
        return None
    if str(arrays.get("sweep", "")) != key or list(arrays.get("bounds", [])) != [chunk.m0, chunk.m1, chunk.s0, chunk.s1]:
        return None
    return arrays


def _prepare_folder(out_dir: Any, manifest: dict) -> Path:
    folder = Path(out_dir) / "chunks"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {out_dir}: cannot create {folder} ({exc.strerror or exc})") from None
    for stale in folder.glob(".chunk-*.npz.*.tmp"):  # a write cut short (the chunk itself is recomputed)
        try:
            stale.unlink()
        except OSError:
            pass
    mpath = folder / MANIFEST
    if mpath.exists():
        try:
            old = json.loads(mpath.read_text())
        except (OSError, ValueError):
            raise InputError(f"{mpath} is unreadable; delete {folder} to start the sweep again") from None
        diff = _first_difference(old, manifest)
        if diff:
            raise InputError(
                f"{folder} holds chunks of a different sweep ({diff}); rerun with the same arguments to resume, "
                f"or use another output folder, or delete {folder}"
            )
    else:
        tmp = folder / f".{MANIFEST}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
        os.replace(tmp, mpath)
    return folder


# ----------------------------------------------------------------------------- the result


@dataclass
class SweepResult:
    """The numbers of a sweep of ``N`` matrices x ``S`` settings (x ``R`` realisations).

    Attributes
    ----------
    spec, settings : the spec and its ``(S, 3)`` settings ``(alpha, scale, lam)``; ``scale_name`` names the scale
    cycle_strength, final_entropy, amplitude, last_delta : ``(N, S)`` float64 (population dynamics)
    converged, oscillating : ``(N, S)`` bool
    final_logpi : ``(N, S, K)``
    trajectories : ``{(m, s): (T+1, K)}`` *log*-policy paths of the recorded pairs (as ``GridResult``)
    finite : a :class:`verify.experiments.finite.FiniteRun` over all ``(N, S, R)`` (``paths`` keyed by
        global ``(m, s)``, *policy* paths ``(R, T+1, K)``), or None
    engines : the engines that computed the chunks
    chunks, computed, resumed : the number of chunks, those computed now, those read from ``out_dir``
    """

    spec: SweepSpec
    settings: np.ndarray
    scale_name: str
    cycle_strength: np.ndarray
    final_entropy: np.ndarray
    amplitude: np.ndarray
    last_delta: np.ndarray
    converged: np.ndarray
    oscillating: np.ndarray
    final_logpi: np.ndarray
    trajectories: dict = field(default_factory=dict)
    finite: FiniteRun | None = None
    engines: tuple = ()
    chunks: int = 0
    computed: int = 0
    resumed: int = 0
    out_dir: Path | None = None

    def state(self) -> np.ndarray:
        """``(N, S)`` str: ``"converged"``, ``"oscillating"`` or ``"neither"`` (moving, not persistently oscillating)."""
        return np.where(self.converged, "converged", np.where(self.oscillating, "oscillating", "neither"))

    def arrays(self) -> dict[str, np.ndarray]:
        """Every per-matrix result as arrays (for exact comparison and saving)."""
        out = {name: getattr(self, name) for name in METRICS}
        out["final_logpi"] = self.final_logpi
        out["settings"] = self.settings
        for key, tr in sorted(self.trajectories.items()):
            out[f"trajectory_{key[0]}_{key[1]}"] = tr
        if self.finite is not None:
            for name in _FINITE_METRICS + _AVERAGED_METRICS:
                out["fs_" + name] = getattr(self.finite, name)
            for key, p in sorted(self.finite.paths.items()):
                out[f"fs_paths_{key[0]}_{key[1]}"] = p
        return out

    def to_rows(self) -> list[dict]:
        """One dict per (matrix, setting): the setting, the metrics, the state and, with ``finite``, summaries."""
        rows = []
        state = self.state()
        N, S = self.cycle_strength.shape
        for m in range(N):
            for s in range(S):
                a, sc, la = (float(v) for v in self.settings[s])
                row = {"matrix": m, "setting": s, "alpha": a, self.scale_name: sc, "lam": la}
                for name in METRICS:
                    v = getattr(self, name)[m, s]
                    row[name] = bool(v) if isinstance(v, (bool, np.bool_)) else float(v)
                row["state"] = str(state[m, s])
                if self.finite is not None:
                    f = self.finite
                    row["fs_cycle_strength_mean"] = float(f.cycle_strength[m, s].mean())
                    row["fs_final_entropy_mean"] = float(f.final_entropy[m, s].mean())
                    row["fs_oscillating_fraction"] = float(f.oscillating[m, s].mean())
                    row["fs_averaged_cycle_strength"] = float(f.averaged_cycle_strength[m, s])
                    row["fs_averaged_oscillating"] = bool(f.averaged_oscillating[m, s])
                rows.append(row)
        return rows


def _check_matrices(P: Any) -> np.ndarray:
    arr = np.asarray(P, dtype=float)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1] != arr.shape[2] or arr.shape[1] < 2 or arr.shape[0] < 1:
        raise InputError(f"P must be (N, K, K) with N >= 1 and K >= 2, got shape {np.shape(P)}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"P[{int(np.argmax(~np.isfinite(arr).all(axis=(1, 2))))}] has non-finite entries")
    bad = (arr < -1e-9) | (arr > 1 + 1e-9) | (np.abs(arr + np.swapaxes(arr, 1, 2) - 1) > 1e-9)
    if bad.any():
        b, i, j = (int(v) for v in np.argwhere(bad)[0])
        raise InputError(f"P[{b}]: P[{i},{j}] = {arr[b, i, j]:.12g}, P[{j},{i}] = {arr[b, j, i]:.12g}; "
                         "expected entries in [0, 1] with P[i,j] + P[j,i] = 1")
    return np.ascontiguousarray(np.clip(arr, 0.0, 1.0))


def _scale_name(loss: str) -> str:
    from verify.numerics.kernels import loss_info

    return loss_info(loss).scale_name


def run_sweep(
    P: Any,
    spec: SweepSpec,
    *,
    out_dir: Any = None,
    client: Any = None,
    progress: Callable[[int, int, str], None] | None = None,
    retries: int = 3,
) -> SweepResult:
    """Run ``spec`` on the matrices ``P (N, K, K)``: serially, or on a dask ``client``; resumable with ``out_dir``.

    Parameters
    ----------
    P : ``(N, K, K)`` preference matrices (validated)
    spec : the :class:`SweepSpec`
    out_dir : a folder; finished chunks go to ``out_dir/chunks`` as they complete and a rerun
        resumes from them (module docstring). None: nothing is written.
    client : a ``dask.distributed.Client`` (one task per unfinished chunk), or None (in-process)
    progress : ``progress(done, total, "chunks")``, called once at the start (``done`` = chunks read
        from ``out_dir``) and after every computed chunk
    retries : dask retries per task (a task that raised is run again up to this many times)

    Raises
    ------
    InputError
        Bad matrices, a ``record`` pair outside the sweep, an unknown loss, or an ``out_dir`` that
        holds another sweep's chunks.
    NumericalFailure
        From the kernels (e.g. a finite-sample round without an optimum).
    """
    if not isinstance(spec, SweepSpec):
        raise InputError(f"spec = {spec!r}, expected a SweepSpec")
    P = _check_matrices(P)
    N = P.shape[0]
    settings = spec.grid.settings()
    S = settings.shape[0]
    for m, s in spec.record:
        if m >= N or s >= S:
            raise InputError(f"record pair ({m}, {s}) is outside the sweep's {N} matrices x {S} settings")
    scale_name = _scale_name(spec.loss)
    if spec.engine == "auto":
        from verify.numerics.kernels import engine_for

        # resolved once, here: every chunk (in-process or on any worker) runs the same engine, so the
        # table is bit-identical whatever computes it; a resume where "auto" resolves otherwise is refused
        spec = dataclasses.replace(spec, engine=engine_for(spec.loss, "auto"))
    layout = chunk_layout(N, S, spec.chunk, spec.realisations)
    manifest = _manifest(P, spec, len(layout))
    key = _sweep_key(manifest)
    folder = None if out_dir is None else _prepare_folder(out_dir, manifest)
    done: dict[int, dict[str, np.ndarray]] = {}
    if folder is not None:
        for ch in layout:
            arrays = _read_chunk(folder, ch, key)
            if arrays is not None:
                done[ch.id] = arrays
    resumed = len(done)
    total = len(layout)
    if progress is not None:
        progress(resumed, total, "chunks")
    todo = [ch for ch in layout if ch.id not in done]

    def finish(ch: Chunk, arrays: dict[str, np.ndarray]) -> None:
        if folder is not None:
            _write_chunk(folder, ch.id, arrays, key)
        done[ch.id] = arrays
        if progress is not None:
            progress(len(done), total, "chunks")

    if client is None:
        for ch in todo:
            finish(ch, compute_chunk(P[ch.m0 : ch.m1], spec, ch))
    elif todo:
        _run_on_client(client, P, spec, todo, finish, retries)
    return _assemble(P, spec, layout, done, settings, scale_name, resumed, len(todo), folder)


def _run_on_client(client: Any, P: np.ndarray, spec: SweepSpec, todo: list[Chunk], finish, retries: int) -> None:
    from distributed import as_completed

    futures = {}
    for ch in todo:
        fut = client.submit(compute_chunk, P[ch.m0 : ch.m1], spec, ch, pure=False, retries=retries)
        futures[fut] = ch
    try:
        for fut in as_completed(list(futures)):
            finish(futures[fut], fut.result())
    finally:
        client.cancel([f for f in futures if not f.done()])


def _assemble(P, spec: SweepSpec, layout, done, settings, scale_name, resumed, computed, folder) -> SweepResult:
    N, K = P.shape[0], P.shape[-1]
    S = settings.shape[0]
    arr = {name: np.empty((N, S), dtype=bool if name in ("converged", "oscillating") else float) for name in METRICS}
    final = np.empty((N, S, K))
    traj: dict = {}
    engines = set()
    R = spec.realisations
    fin = None
    if spec.finite is not None:
        fin = {n: np.empty((N, S, R), dtype=bool if n in ("oscillating", "converged") else float) for n in _FINITE_METRICS}
        fin.update({n: np.empty((N, S), dtype=bool if n == "averaged_oscillating" else float) for n in _AVERAGED_METRICS})
        paths: dict = {}
    for ch in layout:
        a = done[ch.id]
        ms, ss = slice(ch.m0, ch.m1), slice(ch.s0, ch.s1)
        for name in METRICS:
            arr[name][ms, ss] = a[name]
        final[ms, ss] = a["final_logpi"]
        engines.add(str(a["engine"]))
        for (m, s), tr in zip(a["rec_index"].tolist(), a["rec_traj"]):
            traj[(m, s)] = tr
        if fin is not None:
            for name in fin:
                fin[name][ms, ss] = a["fs_" + name]
            for (m, s), p in zip(a["rec_index"].tolist(), a["fs_rec_paths"]):
                paths[(m, s)] = p
    finite = None if fin is None else FiniteRun(**fin, paths=paths)
    return SweepResult(
        spec=spec,
        settings=settings,
        scale_name=scale_name,
        final_logpi=final,
        trajectories=traj,
        finite=finite,
        engines=tuple(sorted(engines)),
        chunks=len(layout),
        computed=computed,
        resumed=resumed,
        out_dir=None if folder is None else folder.parent,
        **arr,
    )
