"""Batched float64 simulation of policy dynamics (many matrices and parameter settings at once).

The generic core is :func:`run_batch`: ``step(logpi) -> logpi'`` maps a batch of
normalised log-policies ``(B, K)`` (``logsumexp`` over ``K`` is 0) to the next ones, and
the metrics of :mod:`verify.numerics.metrics` are accumulated while streaming (the trajectory
``(T+1, B, K)`` is stored only with ``record=True``).

State arrays are kept *K-major* in memory: the ``(B, K)`` arrays passed to ``step`` are
transposed views of contiguous ``(K, B)`` buffers (``logpi.T`` is contiguous). Any step
written with ordinary numpy operations works; a step may use ``logpi.T`` to get
contiguous rows per response (much faster reductions for small ``K``).

The step of any loss is :func:`verify.numerics.batch.make_step` (the one batched float64
MRS step); :func:`make_ipo_batch_step` is its IPO instance (closed form in log space, no
overflow for ``beta`` up to ``1e4``, log-probabilities stay finite far below ``log 1e-300``),
and :func:`simulate` takes ``loss=`` (IPO by default).

>>> import numpy as np
>>> res = simulate(cyclic_matrix(0.4), alpha=0.9, beta=8, lam=1, steps=600, seed=0)
>>> bool(res.metrics["oscillating"][0]), bool(res.metrics["converged"][0])
(True, False)
>>> res = simulate(cyclic_matrix(0.4), alpha=0.2, beta=1, lam=1, steps=600, seed=0)
>>> bool(res.metrics["converged"][0])
True
>>> res = simulate(cyclic_matrix(0.4), 0.9, 0.1, 1, steps=600, loss="dpo")   # beta_dpo = 0.1
>>> bool(res.metrics["oscillating"][0])
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from theory.losses import BUILTIN
from verify.exact.families import cyclic, cyclic_float, random_sst_float
from verify.numerics.batch import make_step
from verify.numerics.metrics import StreamingMetrics

__all__ = [
    "run_batch",
    "make_ipo_batch_step",
    "trajectory",
    "simulate_dpo",
    "simulate",
    "BatchResult",
    "cyclic_matrix",
    "cycle_matrix",
    "random_sst_matrix",
    "near_uniform_starts",
    "normalise_log",
]


def normalise_log(logpi: np.ndarray) -> np.ndarray:
    """Subtract ``logsumexp`` over the last axis."""
    lp = np.asarray(logpi, dtype=float)
    m = lp.max(axis=-1, keepdims=True)
    return lp - (m + np.log(np.exp(lp - m).sum(axis=-1, keepdims=True)))


#: ``P_cyc(a)`` exactly (Fractions): :func:`verify.exact.families.cyclic`.
cycle_matrix = cyclic
#: ``P_cyc(a)`` as float64: :func:`verify.exact.families.cyclic_float`.
cyclic_matrix = cyclic_float


def random_sst_matrix(K: int, rng: np.random.Generator, n: int | None = None) -> np.ndarray:
    """Strictly SST float64 matrices, ``(K, K)`` or ``(n, K, K)``: :func:`verify.exact.families.random_sst_float`."""
    return random_sst_float(rng, K, n)


def near_uniform_starts(B: int, K: int, rng: np.random.Generator, scale: float = 1e-3) -> np.ndarray:
    """``B`` normalised log-policies within ``scale`` (in logits) of uniform."""
    return normalise_log(rng.normal(0.0, scale, (B, K)))


def _kmajor(x: np.ndarray) -> np.ndarray:
    """A ``(B, K)`` array whose ``.T`` is C-contiguous (copy only if needed)."""
    if x.T.flags.c_contiguous:
        return x
    return np.ascontiguousarray(x.T).T


def make_ipo_batch_step(
    P: Any,
    alpha: Any,
    beta: Any,
    lam: Any,
    pi_ref: Any = None,
    pi0: Any = None,
    B: int | None = None,
) -> Callable[[np.ndarray], np.ndarray]:
    """The batched MRS-IPO step: :func:`verify.numerics.batch.make_step` with the IPO loss and ``scale = beta``.

    ``logpi' = alpha logpi + (1-alpha) log pi_ref + beta P mu - logsumexp``,
    ``mu = lam exp(logpi) + (1-lam) pi0`` (the closed form of a quadratic ``f``, on K-major buffers;
    ``beta`` up to ``1e4`` cannot overflow). ``alpha, beta, lam`` are scalars or ``(B,)`` arrays.
    """
    return make_step(P, BUILTIN["ipo"], alpha, lam, pi_ref, pi0, scale=beta, B=B)


def trajectory(step: Callable[[np.ndarray], np.ndarray], logpi0: np.ndarray, steps: int) -> np.ndarray:
    """The recorded trajectory ``(steps + 1, B, K)`` of log-policies of any step (no metrics).

    >>> step = make_step(cyclic_matrix(0.4), "dpo", alpha=0.5, lam=1.0, scale=1.0)
    >>> trajectory(step, np.log(np.full((1, 3), 1 / 3)), 5).shape
    (6, 1, 3)
    """
    out = np.empty((int(steps) + 1,) + np.shape(logpi0))
    out[0] = logpi0
    for t in range(int(steps)):
        out[t + 1] = step(out[t])
    return out


#: The name the MRS-DPO modules used for :func:`trajectory`.
simulate_dpo = trajectory


@dataclass
class BatchResult:
    """Final states, metrics (arrays of length ``B``) and, with ``record=True``, the trajectory."""

    logpi: np.ndarray
    metrics: dict[str, np.ndarray]
    steps: int
    burn_in: int
    trajectory: np.ndarray | None = None
    params: dict = field(default_factory=dict)

    @property
    def pi(self) -> np.ndarray:
        return np.exp(self.logpi)


def run_batch(
    step: Callable[[np.ndarray], np.ndarray],
    logpi0: np.ndarray,
    steps: int,
    *,
    burn_in: int = 0,
    record: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
    tol: float = 1e-10,
    window: int = 512,
    amp_tol: float = 1e-6,
    reduce: str = "mean",
) -> BatchResult:
    """Iterate ``step`` ``steps`` times from ``logpi0`` ``(B, K)``, computing the metrics while streaming.

    Parameters
    ----------
    step : callable ``(B, K) -> (B, K)``
        Maps normalised log-policies to the next normalised log-policies.
    logpi0 : array ``(B, K)``
        Start (normalised here; must be finite).
    steps : int
    burn_in : int
        States ``t <= burn_in`` are left out of the cycle strength.
    record : bool
        Also return the trajectory of log-policies ``(steps+1, B, K)``.
    progress : callable(done, total, label), optional
        Called about 50 times.
    tol, window, amp_tol, reduce
        Metric options (see :mod:`verify.numerics.metrics`).

    Raises
    ------
    ValueError
        On non-finite starts or a step that produces non-finite values.
    """
    lp = np.asarray(logpi0, dtype=float)
    if lp.ndim != 2:
        raise ValueError(f"logpi0 has shape {lp.shape}, expected (B, K)")
    if not np.all(np.isfinite(lp)):
        raise ValueError("logpi0 has non-finite entries (use log-probabilities of an interior policy)")
    steps = int(steps)
    if steps < 1:
        raise ValueError(f"steps = {steps}, expected >= 1")
    lp = _kmajor(normalise_log(lp))
    B, K = lp.shape
    met = StreamingMetrics(B, K, steps, burn_in=burn_in, tol=tol, window=window, amp_tol=amp_tol, reduce=reduce)
    traj = None
    if record:
        traj = np.empty((steps + 1, B, K))
        traj[0] = lp
    policy_of = getattr(step, "policy_of", None)
    every = max(1, steps // 50)
    for t in range(1, steps + 1):
        new = step(lp)
        pi = policy_of(new) if policy_of is not None else None
        if pi is None:
            new = _kmajor(np.asarray(new, dtype=float))
            pi = np.exp(new.T)
        met.update(t, lp.T, new.T, pi)
        lp = new
        if record:
            traj[t] = lp
        if progress is not None and (t % every == 0 or t == steps):
            progress(t, steps, "steps")
    if not np.all(np.isfinite(lp)):
        bad = int(np.argmax(~np.isfinite(lp).all(axis=1)))
        raise ValueError(f"the step produced non-finite log-probabilities (trajectory {bad})")
    return BatchResult(np.array(lp), met.result(lp.T), steps, burn_in, traj)


def simulate(
    P: Any,
    alpha: Any,
    beta: Any,
    lam: Any,
    steps: int = 3000,
    *,
    loss: Any = "ipo",
    pi_ref: Any = None,
    pi0: Any = None,
    start: Any = None,
    n_starts: int = 1,
    seed: int = 0,
    start_scale: float = 1e-3,
    burn_in: int = 0,
    record: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
    tol: float = 1e-10,
    window: int = 512,
) -> BatchResult:
    """Simulate MRS for a batch of matrices and parameter settings (float64, log space), any loss.

    Parameters
    ----------
    P : ``(K, K)`` or ``(B, K, K)``
    alpha, lam : scalars or ``(B,)`` arrays
    beta : the loss's scale parameter (``loss.scale_name``: IPO's ``beta``, DPO's ``beta_dpo``, ...),
        scalar or ``(B,)``; ``None`` takes the loss's own scale
    steps : int
    loss : :class:`theory.losses.PairLoss`, a built-in name or an expression in ``x`` (default IPO)
    pi_ref, pi0 : ``(K,)`` or ``(B, K)``, optional (default uniform)
    start : ``(K,)`` or ``(B, K)`` policy, optional
        Default: ``n_starts`` (per setting) near-uniform starts, logits perturbed by
        ``N(0, start_scale^2)`` with ``seed``.
    burn_in, record, progress, tol, window
        See :func:`run_batch`.

    Examples
    --------
    >>> P = random_sst_matrix(4, np.random.default_rng(1), n=10)
    >>> res = simulate(P, alpha=1.0, beta=5.0, lam=1.0, steps=3000)
    >>> bool((res.pi[:, 0] > 0.99).all())
    True
    """
    P = np.asarray(P, dtype=float)
    K = P.shape[-1]
    B = 1
    for x in (alpha, beta, lam):
        if np.ndim(x) == 1:
            B = max(B, len(x))
    if P.ndim == 3:
        B = max(B, P.shape[0])
    rng = np.random.default_rng(seed)
    if n_starts > 1:
        rep = lambda x: x if np.ndim(x) == 0 else np.repeat(np.asarray(x), n_starts, axis=0)  # noqa: E731
        P = P if P.ndim == 2 else rep(P)
        alpha, beta, lam = (np.repeat(np.broadcast_to(np.asarray(x, float), (B,)), n_starts) if np.ndim(x) else x for x in (alpha, beta, lam))
        pi_ref = None if pi_ref is None else (rep(pi_ref) if np.ndim(pi_ref) == 2 else pi_ref)
        pi0 = None if pi0 is None else (rep(pi0) if np.ndim(pi0) == 2 else pi0)
        B = B * n_starts
    if start is None:
        lp0 = near_uniform_starts(B, K, rng, start_scale)
    else:
        s = np.asarray(start, dtype=float)
        if np.any(s <= 0):
            raise ValueError("start must be an interior policy (all entries > 0)")
        lp0 = np.broadcast_to(np.log(s / s.sum(axis=-1, keepdims=True)), (B, K))
    step = make_step(P, loss, alpha, lam, pi_ref, pi0, scale=beta, B=B)
    res = run_batch(step, lp0, steps, burn_in=burn_in, record=record, progress=progress, tol=tol, window=window)
    res.params = {"alpha": alpha, "beta": beta, "lam": lam, "K": K, "B": B, "seed": seed, "loss": step.loss.name,
                  "scale_name": step.loss.scale_name}
    return res
