r"""The finite-sample MRS dynamics: each round's optimum from ``n`` sampled, labelled pairs, for any loss.

The population MRS step (:func:`verify.numerics.batch.make_step`) solves, in the scaled variable
``x = b r``, the stationarity equations ``sum_j mu_j g(x_k - x_j; P_kj) = 0`` of the expected loss.
Here the expectation is replaced by a sample. Each round ``t``:

1. draw ``n`` ordered pairs ``(i, j)`` i.i.d. from ``mu_t x mu_t`` (``mu_t = lam pi_t + (1 - lam) pi0``),
   and label each one: ``i`` preferred with probability ``P_ij``, else ``j``;
2. count the wins, ``N_kj`` = the number of sampled comparisons of ``k`` and ``j`` that ``k`` won
   (a pair ``(k, k)`` compares a response with itself and carries no information: it is drawn, and
   so uses up one of the ``n``, but not counted);
3. add the prior: ``prior`` tied pseudo-comparisons spread evenly over the ``K (K-1) / 2`` unordered
   pairs (half a win to each side, ``N_kj += prior / (K (K - 1))``);
4. ``x*`` minimises the empirical loss ``sum_kj N_kj f(x_k - x_j)``, i.e. solves

   .. math::

       G_k(x) = \sum_j \left[ N_{kj} f'(x_k - x_j) - N_{jk} f'(x_j - x_k) \right] = 0 ;

5. ``log pi_{t+1} = alpha log pi_t + (1 - alpha) log pi_ref + x* / b`` (normalised), as in the
   population step.

With the expected counts ``N_kj = 2 n mu_k mu_j P_kj`` (:func:`expected_counts`) ``G_k`` is
``2 n mu_k`` times the population ``G_k``, so the empirical optimum is the population one
(tested to 1e-10 against :func:`verify.numerics.batch.solve_batch`).

**How ``x*`` is found** (the method of :func:`verify.numerics.batch.method_for`):

* quadratic ``f`` (IPO): ``G`` is affine, ``f'(h) = f'(0) + f''(0) h``; with ``W = N + N^T`` (the
  comparisons per pair) and its Laplacian ``L_W``, ``G = 0`` is the weighted-Laplacian system
  ``L_W x = (c_f / 2) (N - N^T) 1`` (``c_f = -2 f'(0) / f''(0)``, IPO: ``c_f = 2``);
* piecewise-linear ``f`` (the hinge): the empirical loss is convex and piecewise linear; as in the
  population solver, every weak ordering of the responses (times the kink) is evaluated and the
  selection is the mean of the near-minimal ones (``K <= 6``);
* any other ``f``: Newton on ``G`` with the Jacobian ``A = L_{H + H^T}``, ``H_kj = N_kj f''(x_k - x_j)``
  (a weighted Laplacian), a step capped at 8 in max-norm and a backtracking line search on
  ``||G||^2``, started from 0 every round (the first step is the weighted-Laplacian linearisation;
  a warm start from the previous round's optimum, fitted to other counts, took more iterations and
  stalled in the logistic's flat tails), and from the previous optimum for the rows that fail.

**When the optimum is not unique or does not exist** (only with ``prior = 0``): the solution set is
the solution plus a constant on each connected component of the sample graph (``W > 0``). A
response in no sampled pair is its own component. ``unsampled`` selects one solution:

* ``"hold"`` (default): the solution nearest (least squares) to the previous round's ``x*``, so each
  component keeps the mean logit it had; an unsampled response's ``x_k`` keeps its previous value
  relative to the sampled ones (the first round's previous ``x*`` is 0);
* ``"tie"``: the minimum-norm solution, every component has mean 0: an unsampled response is tied
  with the others.

For a loss that decreases to its infimum without reaching it (the logistic, the exponential) the
optimum exists only if, inside each component, every set of responses lost at least one sampled
comparison to the rest (the win graph is strongly connected, Zermelo's condition for
Bradley--Terry); otherwise :class:`NoEmpiricalOptimum` (a :class:`verify.exact.objects.NumericalFailure`)
names the matrix, setting, realisation, round and set, and suggests ``prior > 0`` (with ``prior > 0``
every pair carries a fraction of a tied comparison: the sample graph is complete, every set has lost
some of a comparison, and the optimum always exists).

**Randomness.** Realisation ``r`` of matrix ``m`` at setting ``s`` draws from its own stream,
``numpy.random.SeedSequence([seed, m, s, r, 2])`` (:func:`realisation_seed`; global indices), PCG64's
raw output, one 64-bit word per sampled pair (:func:`draw_counts`), ``n`` per round in order, so a
row's path does not depend on which other rows share the computation.

>>> from verify.exact.families import cyclic_float
>>> fs = FiniteSample(pairs=64, realisations=4)
>>> run = run_finite(cyclic_float(0.4)[None], [[0.9, 8.0, 1.0]], np.log(np.full((1, 3), 1 / 3)), fs,
...                  steps=300, burn_in=100, record=[(0, 0)])
>>> run.cycle_strength.shape, run.paths[(0, 0)].shape
((1, 1, 4), (4, 301, 3))
>>> bool(run.averaged_cycle_strength[0, 0] < run.cycle_strength[0, 0].mean())
True
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any, Callable, Sequence

import numpy as np

from verify.exact.objects import InputError, NumericalFailure
from verify.numerics.metrics import StreamingMetrics

__all__ = [
    "FiniteSample",
    "UNSAMPLED",
    "FiniteRun",
    "NoEmpiricalOptimum",
    "realisation_seed",
    "draw_counts",
    "expected_counts",
    "empirical_stationarity",
    "empirical_optimum",
    "pair_comparisons",
    "run_finite",
]

#: The choices for a response that no sampled pair contains (with ``prior = 0``): see the module docstring.
UNSAMPLED = ("hold", "tie")

#: Memory budget (64-bit words) of the block of pre-drawn random words per call of :func:`run_finite`.
_UNIFORM_BUDGET = 1 << 22


class NoEmpiricalOptimum(NumericalFailure):
    """The empirical loss of some row has no finite minimiser (a loss without a minimum, ``prior = 0``).

    ``rows`` are the affected rows, ``sets[i]`` the ``(K,)`` boolean set of responses that won every
    sampled comparison with the rest of their component in row ``rows[i]``.
    """

    def __init__(self, message: str, rows: np.ndarray, sets: np.ndarray) -> None:
        super().__init__(message)
        self.rows = rows
        self.sets = sets

    def __reduce__(self):  # picklable with its data (a cluster task sends it back)
        return (type(self), (str(self), self.rows, self.sets))


@dataclass(frozen=True)
class FiniteSample:
    """The finite-sample variant's options (every one documented; see the module docstring).

    Attributes
    ----------
    pairs : ``n``, the number of ordered pairs drawn from ``mu_t x mu_t`` per round (default 64;
        the paper does not state its ``n``)
    realisations : ``R``, independent realisations per matrix and setting (default 8); the
        realisation-averaged path is computed from them
    prior : tied pseudo-comparisons spread evenly over the unordered pairs (default 1: one
        comparison in total, half a win to each side of every pair, so the sample graph is
        complete and the optimum finite for every loss; its pull toward the tie is ``O(prior / n)``).
        ``0`` is the pure empirical loss: then ``unsampled`` decides, and a loss without a minimum
        can fail
    unsampled : ``"hold"`` (default) or ``"tie"``, what a response in no sampled pair gets when
        ``prior = 0`` (module docstring)
    """

    pairs: int = 64
    realisations: int = 8
    prior: float = 1.0
    unsampled: str = "hold"

    def __post_init__(self) -> None:
        for name in ("pairs", "realisations"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise InputError(f"finite-sample {name} = {v!r}, expected an integer >= 1")
            object.__setattr__(self, name, int(v))
        try:
            prior = float(self.prior)
        except (TypeError, ValueError):
            raise InputError(f"finite-sample prior = {self.prior!r}, expected a number >= 0") from None
        if not (np.isfinite(prior) and prior >= 0):
            raise InputError(f"finite-sample prior = {self.prior!r}, expected a finite number >= 0")
        object.__setattr__(self, "prior", prior)
        if self.unsampled not in UNSAMPLED:
            raise InputError(f"finite-sample unsampled = {self.unsampled!r}, expected one of {', '.join(UNSAMPLED)}")

    def to_json(self) -> dict:
        """The options as a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> "FiniteSample":
        return cls(**d)

    def describe(self) -> list[str]:
        """One line per option, saying what it means."""
        return [
            f"pairs = {self.pairs}: ordered pairs drawn i.i.d. from mu_t x mu_t each round, each labelled "
            "i-preferred with probability P_ij",
            f"realisations = {self.realisations}: independent sampled paths per matrix and setting "
            "(seeded from seed, matrix, setting, realisation)",
            f"prior = {self.prior:g}: tied pseudo-comparisons spread over all pairs (0 = the pure empirical loss)",
            f"unsampled = {self.unsampled}: with prior 0, a response in no sampled pair "
            + ("keeps its previous logit relative to the sampled ones" if self.unsampled == "hold" else "is tied with the rest"),
            "the optimum of each round minimises the empirical loss sum_kj N_kj f(x_k - x_j) of the win counts N",
        ]


@dataclass
class FiniteRun:
    """Results of :func:`run_finite` for ``M`` matrices, ``S`` settings and ``R`` realisations.

    Per realisation ``(M, S, R)``: ``cycle_strength``, ``final_entropy``, ``amplitude``, ``oscillating``,
    ``converged`` (the definitions of :mod:`verify.numerics.metrics`). Of the realisation-averaged
    policy path ``mean_r pi_t^(r)`` ``(M, S)``: ``averaged_cycle_strength``, ``averaged_final_entropy``,
    ``averaged_amplitude``, ``averaged_oscillating``. ``paths[(m, s)]``: the ``(R, T+1, K)`` *policy*
    paths of the recorded (local) matrix and setting indices; ``averaged_path(m, s)`` their mean.
    """

    cycle_strength: np.ndarray
    final_entropy: np.ndarray
    amplitude: np.ndarray
    oscillating: np.ndarray
    converged: np.ndarray
    averaged_cycle_strength: np.ndarray
    averaged_final_entropy: np.ndarray
    averaged_amplitude: np.ndarray
    averaged_oscillating: np.ndarray
    paths: dict = field(default_factory=dict)

    def averaged_path(self, m: int, s: int) -> np.ndarray:
        """The realisation-averaged policy path ``(T+1, K)`` of a recorded ``(m, s)``."""
        return _mean_over_realisations(self.paths[(m, s)][None])[0]


# ----------------------------------------------------------------------------- randomness


def realisation_seed(seed: int, matrix: int, setting: int, realisation: int) -> np.random.SeedSequence:
    """The seed of one realisation: ``SeedSequence([seed, matrix, setting, realisation, 2])`` (global indices).

    The trailing tag ``2`` marks these streams (the starts use a counter-based hash of their own) and
    gives every key the same length (``SeedSequence`` pads with zeros, so keys of different lengths
    could coincide).
    """
    return np.random.SeedSequence([int(seed), int(matrix), int(setting), int(realisation), 2])


_TWO32 = float(2**32)
_LOW32 = np.uint64(0xFFFFFFFF)


def _cell_thresholds(mu: np.ndarray) -> np.ndarray:
    """``ceil(2^32 F_c)`` ``(B, K^2)`` int64 for the CDF ``F`` of ``mu_i mu_j`` over the cells in row-major order."""
    B, K = mu.shape
    F = np.cumsum((mu[:, :, None] * mu[:, None, :]).reshape(B, K * K), axis=1)
    F /= F[:, -1:]
    thr = np.ceil(F * _TWO32).astype(np.int64)
    thr[:, -1] = 1 << 32
    return thr


def _transposed_cells(K: int) -> np.ndarray:
    c = np.arange(K * K)
    return (c % K) * K + c // K


def _count_numpy(thr: np.ndarray, pthr: np.ndarray, words: np.ndarray, K: int) -> np.ndarray:
    B, n = words.shape
    K2 = K * K
    u = (words >> np.uint64(32)).astype(np.int64)
    if K2 <= 16:
        cell = np.zeros((B, n), dtype=np.int64)
        for c in range(K2 - 1):
            cell += u >= thr[:, c : c + 1]
    else:  # bisection: the first c with thr[c] > u
        lo = np.zeros((B, n), dtype=np.int64)
        hi = np.full((B, n), K2 - 1, dtype=np.int64)
        while True:
            active = lo < hi
            if not active.any():
                break
            mid = (lo + hi) // 2
            right = u >= np.take_along_axis(thr, mid, axis=1)
            lo = np.where(active & right, mid + 1, lo)
            hi = np.where(active & ~right, mid, hi)
        cell = lo
    win = (words & _LOW32).astype(np.int64) < np.take_along_axis(pthr, cell, axis=1)
    cell = np.where(win, cell, _transposed_cells(K)[cell])
    cell += np.arange(B, dtype=np.int64)[:, None] * K2
    return np.bincount(cell.ravel(), minlength=B * K2).reshape(B, K2)


_NUMBA: dict[str, Any] = {}


def _count_kernel():
    """The compiled twin of :func:`_count_numpy` (numba), or None when numba is not importable."""
    if "kernel" not in _NUMBA:
        try:
            import numba
        except ImportError:
            _NUMBA["kernel"] = None
            return None

        @numba.njit(cache=True, nogil=True)
        def kernel(mu, pthr, words, flip, out):  # pragma: no cover - compiled
            B, n = words.shape
            K = mu.shape[1]
            K2 = K * K
            thr = np.empty(K2, dtype=np.int64)
            F = np.empty(K2)
            for b in range(B):
                acc = 0.0  # the thresholds exactly as _cell_thresholds computes them (sequential sums)
                for i in range(K):
                    for j in range(K):
                        acc += mu[b, i] * mu[b, j]
                        F[i * K + j] = acc
                for c in range(K2):
                    thr[c] = np.int64(np.ceil(F[c] / acc * 4294967296.0))
                thr[K2 - 1] = np.int64(4294967296)
                if K == 4:  # the data's K, with literal bounds (unrolled): the same arithmetic as below
                    for t in range(n):
                        w = words[b, t]
                        u = np.int64(w >> np.uint64(32))
                        v = np.int64(w & np.uint64(0xFFFFFFFF))
                        i = np.int64(u >= thr[3]) + np.int64(u >= thr[7]) + np.int64(u >= thr[11])
                        lo = 4 * i + np.int64(u >= thr[4 * i]) + np.int64(u >= thr[4 * i + 1]) + np.int64(u >= thr[4 * i + 2])
                        cell = lo if v < pthr[b, lo] else flip[lo]
                        out[b, cell] += 1
                    continue
                for t in range(n):
                    w = words[b, t]
                    u = np.int64(w >> np.uint64(32))
                    v = np.int64(w & np.uint64(0xFFFFFFFF))
                    # the number of thresholds <= u, in two branch-free passes: the block of i, then j within it
                    i = 0
                    for r in range(K - 1):
                        i += u >= thr[r * K + K - 1]
                    lo = i * K
                    for c in range(K - 1):
                        lo += u >= thr[i * K + c]
                    win = v < pthr[b, lo]
                    cell = lo if win else flip[lo]  # a select, not a branch: the label is a coin flip
                    out[b, cell] += 1

        _NUMBA["kernel"] = kernel
    return _NUMBA["kernel"]


def _label_thresholds(P: np.ndarray, B: int) -> np.ndarray:
    """``ceil(2^32 P_ij)`` ``(B, K^2)`` int64: the label thresholds of :func:`draw_counts`."""
    K = P.shape[-1]
    return np.ceil(np.broadcast_to(P, (B, K, K)).reshape(B, K * K) * _TWO32).astype(np.int64)


def draw_counts(P: Any, mu: Any, words: Any, *, engine: str = "auto", pthr: np.ndarray | None = None) -> np.ndarray:
    """Win counts ``N (B, K, K)`` of ``n`` ordered pairs from ``mu x mu`` labelled by ``P``, from ``words (B, n)`` uint64.

    Each 64-bit word draws one pair: its high 32 bits ``U`` pick the ordered pair ``(i, j)`` (inverse
    CDF of ``mu_i mu_j`` over the ``K^2`` cells in row-major order: the cell ``c`` with
    ``t_{c-1} <= U < t_c``, thresholds ``t_c = ceil(2^32 F_c)``, so probabilities are resolved to
    ``2^-32``), its low 32 bits ``V`` the label: ``i`` preferred when ``V < ceil(2^32 P_ij)``.
    ``N_kj`` counts the comparisons of ``k`` and ``j`` won by ``k``; the diagonal (a response drawn
    twice) is zero. Integer arithmetic after the thresholds: a row's counts do not depend on the
    other rows, and ``engine`` (``"numpy"``, ``"numba"``, ``"auto"`` = numba when importable) does not
    change a single count. ``pthr`` may pass the label thresholds precomputed (they depend on ``P`` only).

    >>> P = np.array([[[0.5, 1.0], [0.0, 0.5]]])
    >>> w = np.array([[3 << 62, (1 << 62) | 7, 1 << 62]], dtype=np.uint64)   # cells (1, 1), (0, 1), (0, 1)
    >>> draw_counts(P, np.array([[0.5, 0.5]]), w)[0].tolist()
    [[0.0, 2.0], [0.0, 0.0]]
    """
    P = np.asarray(P, dtype=float)
    mu = np.asarray(mu, dtype=float)
    words = np.ascontiguousarray(words, dtype=np.uint64)
    B, K = mu.shape
    pthr = _label_thresholds(P, B) if pthr is None else pthr
    if engine not in ("auto", "numpy", "numba", "reference"):
        raise InputError(f"engine = {engine!r}, expected auto, numpy, numba or reference")
    kernel = None if engine in ("numpy", "reference") else _count_kernel()
    if engine == "numba" and kernel is None:
        raise InputError('engine "numba" needs numba: pip install "prefdyn[fast]"')
    if kernel is not None:
        counts = np.zeros((B, K * K), dtype=np.int64)
        kernel(np.ascontiguousarray(mu), pthr, words, _transposed_cells(K), counts)
    else:
        counts = _count_numpy(_cell_thresholds(mu), pthr, words, K)
    N = counts.reshape(B, K, K).astype(float)
    N[:, np.arange(K), np.arange(K)] = 0.0
    return N


def expected_counts(P: Any, mu: Any, n: float) -> np.ndarray:
    """The expected win counts of :func:`draw_counts`: ``N_kj = 2 n mu_k mu_j P_kj`` off the diagonal, ``(B, K, K)``.

    (Draw ``(k, j)`` and ``k`` wins, or draw ``(j, k)`` and ``k`` wins: each ``n mu_k mu_j P_kj``.)
    """
    mu = np.atleast_2d(np.asarray(mu, dtype=float))
    P = np.asarray(P, dtype=float)
    P = np.broadcast_to(P, (mu.shape[0],) + P.shape[-2:])
    N = 2.0 * n * mu[:, :, None] * mu[:, None, :] * P
    K = mu.shape[1]
    N[:, np.arange(K), np.arange(K)] = 0.0
    return N


# ----------------------------------------------------------------------------- the loss as numbers


@dataclass(frozen=True)
class _Loss:
    method: str
    f: Callable
    fp: Callable
    fpp: Callable
    strictly_convex: bool
    gain: float | None
    kink: float | None
    no_minimum: bool
    label: str
    scale_name: str
    default_scale: float
    inv_b: Callable


@lru_cache(maxsize=32)
def _loss_numbers_cached(loss: Any) -> _Loss:
    from verify.numerics.batch import as_loss, loss_numbers

    obj = as_loss(loss)
    nums = loss_numbers(obj)
    return _Loss(
        nums.method,
        nums.f,
        nums.fp,
        nums.fpp,
        bool(obj.strictly_convex),
        nums.gain,
        nums.kink,
        nums.decreases_forever,
        nums.label,
        obj.scale_name,
        float(obj.scale),
        nums.inv_b,
    )


def _loss_numbers(loss: Any) -> _Loss:
    try:
        hash(loss)
    except TypeError:
        loss = str(loss)
    return _loss_numbers_cached(loss)


# ----------------------------------------------------------------------------- the empirical optimum


def pair_comparisons(N: np.ndarray) -> np.ndarray:
    """``W = N + N^T``: the number of comparisons of each unordered pair (the sample graph's weights)."""
    return N + np.swapaxes(N, 1, 2)


def _diffs(x: np.ndarray) -> np.ndarray:
    return x[:, :, None] - x[:, None, :]


@lru_cache(maxsize=16)
def _off_diagonal(K: int) -> np.ndarray:
    out = 1.0 - np.eye(K)
    out.setflags(write=False)
    return out


def _laplacian(W: np.ndarray) -> np.ndarray:
    """``diag(W 1) - W`` with ``W``'s own diagonal ignored, ``(B, K, K)``."""
    K = W.shape[-1]
    idx = np.arange(K)
    L = W * -_off_diagonal(K)
    L[:, idx, idx] = -L.sum(axis=2)
    return L


def _reach(adj: np.ndarray) -> np.ndarray:
    """Transitive-reflexive closure of boolean ``(B, K, K)`` adjacency (repeated squaring)."""
    K = adj.shape[-1]
    R = (adj | np.eye(K, dtype=bool)).astype(np.float64)
    for _ in range(max(1, int(np.ceil(np.log2(max(K - 1, 1)))))):
        R = (np.matmul(R, R) > 0).astype(np.float64)
    return R > 0


def _component_projector(W: np.ndarray) -> np.ndarray:
    """``Pi (B, K, K)``: the orthogonal projector onto vectors constant on each component of ``W > 0``."""
    R = _reach(W > 0).astype(float)
    return R / R.sum(axis=2, keepdims=True)


def _solve_rows(A: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """``A z = rhs`` per row (``(B, K, K)``, ``(B, K)``); a singular row is solved by least squares alone."""
    try:
        return np.linalg.solve(A, rhs[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.empty_like(rhs)
        for b in range(A.shape[0]):
            try:
                out[b] = np.linalg.solve(A[b], rhs[b])
            except np.linalg.LinAlgError:
                out[b] = np.linalg.lstsq(A[b], rhs[b], rcond=None)[0]
        return out


def _solve_spd(A: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """``A z = rhs`` for symmetric positive definite ``A (B, K, K)``: elimination without pivoting, vectorised over rows.

    Elementwise operations on ``(B,)`` vectors only, so a row's bits do not depend on the other rows;
    faster than a stacked LAPACK call for small ``K`` (used up to ``K = 8``).
    """
    B, K = rhs.shape
    if K > 8:
        return _solve_rows(A, rhs)
    M = np.ascontiguousarray(A.transpose(1, 2, 0))
    y = np.ascontiguousarray(rhs.T)
    for k in range(K - 1):
        inv = 1.0 / M[k, k]
        for i in range(k + 1, K):
            f = M[i, k] * inv
            M[i, k + 1 :] -= f * M[k, k + 1 :]
            y[i] -= f * y[k]
    x = np.empty_like(y)
    for k in range(K - 1, -1, -1):
        acc = y[k].copy()
        for j in range(k + 1, K):
            acc -= M[k, j] * x[j]
        x[k] = acc / M[k, k]
    return x.T


def empirical_stationarity(N: Any, x: Any, loss: Any = "ipo") -> np.ndarray:
    """``G_k(x) = sum_j [N_kj f'(x_k - x_j) - N_jk f'(x_j - x_k)]``, ``(B, K)`` (the residual the solver drives to 0)."""
    nums = _loss_numbers(loss)
    N = np.asarray(N, dtype=float)
    x = np.atleast_2d(np.asarray(x, dtype=float))
    return _terms(N, x, nums.fp)[0]


def _terms(N: np.ndarray, x: np.ndarray, fp) -> tuple[np.ndarray, np.ndarray]:
    M = N * fp(_diffs(x))
    MT = np.swapaxes(M, 1, 2)
    G = (M - MT).sum(axis=2)
    T = (np.abs(M) + np.abs(MT)).sum(axis=2)
    return G, T


def _newton(N, x0, Pi, nums: _Loss, tol: float, max_iter: int, max_step: float = 8.0):
    x = np.array(x0, dtype=float, copy=True)
    B, K = x.shape
    G, T = _terms(N, x, nums.fp)
    res = np.max(np.abs(G) / (1.0 + T), axis=1)
    stalled = np.zeros(B, dtype=bool)
    for _ in range(max_iter):
        todo = ~(res <= tol) & ~stalled & np.isfinite(res)
        if not todo.any():
            break
        act = np.flatnonzero(todo)
        Na, xa, Ga = N[act], x[act], G[act]
        H = Na * nums.fpp(_diffs(xa))
        A = _laplacian(H + np.swapaxes(H, 1, 2)) + Pi[act]
        if nums.strictly_convex:  # f'' > 0: A + Pi is positive definite; a row whose pivots underflowed goes to LAPACK
            dx = _solve_spd(A, -Ga)
            bad = ~np.isfinite(dx).all(axis=1)
            if bad.any():
                dx[bad] = _solve_rows(A[bad], -Ga[bad])
        else:
            dx = _solve_rows(A, -Ga)
        dx[~np.isfinite(dx)] = 0.0
        big = np.max(np.abs(dx), axis=1)
        dx *= np.minimum(1.0, max_step / np.maximum(big, 1e-300))[:, None]
        phi = np.einsum("bk,bk->b", Ga, Ga)
        xn, Gn, Tn = xa.copy(), Ga.copy(), T[act].copy()
        pending = np.ones(act.size, dtype=bool)
        t = 1.0
        for _ls in range(41):
            idx = np.flatnonzero(pending)
            cand = xa[idx] + t * dx[idx]
            Gc, Tc = _terms(Na[idx], cand, nums.fp)
            ok = np.einsum("bk,bk->b", Gc, Gc) <= (1 - 1e-4 * t) * phi[idx]
            ai = idx[ok]
            xn[ai], Gn[ai], Tn[ai] = cand[ok], Gc[ok], Tc[ok]
            pending[ai] = False
            if not pending.any():
                break
            t *= 0.5
        stalled[act[pending]] = True
        x[act], G[act], T[act] = xn, Gn, Tn
        res[act] = np.max(np.abs(Gn) / (1.0 + Tn), axis=1)
    return x, res <= tol


@lru_cache(maxsize=8)
def _weak_orderings(K: int) -> np.ndarray:
    out = [v for v in itertools.product(range(K), repeat=K) if set(v) == set(range(max(v) + 1))]
    arr = np.array(out, dtype=float)
    arr.setflags(write=False)
    return arr


def _enumerate(N: np.ndarray, nums: _Loss) -> np.ndarray:
    B, K = N.shape[:2]
    if K > 6:
        raise InputError(f"K = {K}: the exact enumeration for the piecewise-linear {nums.label} loss is limited to K <= 6")
    if nums.kink is None:
        raise InputError(f"the piecewise-linear {nums.label} loss needs exactly one kink k > 0 for the exact enumeration")
    V = nums.kink * _weak_orderings(K)
    C = V.shape[0]
    FcT = np.ascontiguousarray(nums.f(_diffs(V)).reshape(C, K * K).T)
    Vc = V - V.mean(axis=1, keepdims=True)
    L = np.matmul(N.reshape(B, 1, K * K), FcT)[:, 0, :]  # stacked products: one per row, row-independent
    Lmin = L.min(axis=1, keepdims=True)
    mask = (L <= Lmin + 1e-12 * (1.0 + np.abs(Lmin))).astype(float)
    return np.matmul(mask[:, None, :], Vc)[:, 0, :] / mask.sum(axis=1, keepdims=True)


def _no_optimum_rows(N: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose win graph is not strongly connected inside the components of the sample graph.

    Returns the rows and, per row, a boolean ``(K,)`` set that won every comparison with the rest of its component.
    """
    W = pair_comparisons(N)
    same = _reach(W > 0)
    beats = _reach(N > 0)  # k reaches j: a chain of wins k > ... > j
    bad = (same & ~beats).any(axis=(1, 2))
    rows = np.flatnonzero(bad)
    sets = np.zeros((rows.size, N.shape[1]), dtype=bool)
    for n_, b in enumerate(rows):
        k = int(np.argwhere(same[b] & ~beats[b])[0][0])
        # what k's chains of wins reach is closed under "beat": the rest of k's component won every comparison with it
        sets[n_] = same[b, k] & ~beats[b, k]
    return rows, sets


def empirical_optimum(
    N: Any,
    loss: Any = "ipo",
    *,
    prior: float = 0.0,
    unsampled: str = "tie",
    x_prev: Any = None,
    tol: float = 1e-11,
    max_iter: int = 60,
) -> tuple[np.ndarray, np.ndarray]:
    """The minimiser ``x*`` of the empirical loss ``sum_kj N_kj f(x_k - x_j)`` for ``B`` count matrices at once.

    Parameters
    ----------
    N : ``(B, K, K)`` or ``(K, K)`` win counts (``N_kj`` comparisons of ``k`` and ``j`` won by ``k``; the
        diagonal is ignored)
    loss : a :class:`theory.losses.PairLoss`, a built-in name or an expression in ``x``
    prior : tied pseudo-comparisons spread over the ``K (K-1) / 2`` pairs (added here)
    unsampled, x_prev : the selection when the solution is not unique (module docstring; ``x_prev``
        ``(B, K)`` is the previous round's optimum for ``"hold"``, default 0)
    tol, max_iter : Newton's relative stationarity tolerance and iteration limit

    Returns
    -------
    x : ``(B, K)`` centred, ``ok`` : ``(B,)`` the rows whose solve reached the tolerance

    Raises
    ------
    NumericalFailure
        When, for a loss without a minimum, some row's optimum does not exist (its message names the
        first such row and the set of responses that won all its comparisons).

    >>> x, ok = empirical_optimum([[0, 3], [1, 0]], "dpo")     # 3 wins to 1: x_0 - x_1 = log 3
    >>> round(float(x[0, 0] - x[0, 1]), 12), ok.tolist()
    (1.098612288668, [True])
    """
    nums = _loss_numbers(loss)
    N = np.asarray(N, dtype=float)
    if N.ndim == 2:
        N = N[None]
    if N.ndim != 3 or N.shape[1] != N.shape[2] or N.shape[1] < 2:
        raise InputError(f"N has shape {N.shape}, expected (K, K) or (B, K, K) with K >= 2")
    if not np.all(np.isfinite(N)) or np.any(N < 0):
        raise InputError("N must hold finite counts >= 0")
    if unsampled not in UNSAMPLED:
        raise InputError(f"unsampled = {unsampled!r}, expected one of {', '.join(UNSAMPLED)}")
    N = N.copy()
    N[:, np.arange(N.shape[1]), np.arange(N.shape[1])] = 0.0
    xp = None if x_prev is None else np.array(np.broadcast_to(np.asarray(x_prev, dtype=float), N.shape[:2]))
    return _optimum(N, nums, float(prior), unsampled, xp, tol, max_iter)


def _optimum(N: np.ndarray, nums: _Loss, prior: float, unsampled: str, xp: np.ndarray | None, tol: float, max_iter: int):
    """:func:`empirical_optimum` on validated counts with a zero diagonal (``N`` is modified)."""
    B, K = N.shape[:2]
    if xp is None:
        xp = np.zeros((B, K))
    if prior > 0:
        N += _off_diagonal(K) * (prior / (K * (K - 1)))
        Pi = np.broadcast_to(np.full((K, K), 1.0 / K), (B, K, K))
    else:
        Pi = _component_projector(pair_comparisons(N))
    if nums.method == "closed":
        rhs = 0.5 * nums.gain * (N - np.swapaxes(N, 1, 2)).sum(axis=2)
        A = _laplacian(pair_comparisons(N))
        A += (1.0 / K) if prior > 0 else Pi
        x = _solve_spd(A, rhs)  # L_W + Pi is positive definite
        ok = np.isfinite(x).all(axis=1)
    elif nums.method == "enumerate":
        x = _enumerate(N, nums)
        ok = np.isfinite(x).all(axis=1)
    else:
        if nums.no_minimum and prior <= 0:
            rows, sets = _no_optimum_rows(N)
            if rows.size:
                raise NoEmpiricalOptimum(
                    f"no finite optimum of the empirical {nums.label} loss for row {int(rows[0])}: responses "
                    f"{np.flatnonzero(sets[0]).tolist()} won every sampled comparison with the rest of their component "
                    f"({rows.size} row(s) affected); use prior > 0",
                    rows,
                    sets,
                )
        x0 = np.zeros((B, K))
        x, ok = _newton(N, x0, Pi, nums, tol, max_iter)
        if not ok.all():  # try again from the previous round's optimum
            bad = np.flatnonzero(~ok)
            xw = xp[bad] - np.einsum("bkj,bj->bk", Pi[bad], xp[bad])
            xb, okb = _newton(N[bad], xw, Pi[bad], nums, tol, max_iter)
            x[bad[okb]] = xb[okb]
            ok[bad[okb]] = True
    if prior <= 0:  # the selection on the null space: each component's mean from the reference
        ref = xp if unsampled == "hold" else np.zeros((B, K))
        x = x - np.einsum("bkj,bj->bk", Pi, x) + np.einsum("bkj,bj->bk", Pi, ref)
    return x - x.mean(axis=1, keepdims=True), ok


# ----------------------------------------------------------------------------- the dynamics


def _normalise(z: np.ndarray) -> np.ndarray:
    m = z.max(axis=1, keepdims=True)
    return z - (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))


def _mean_over_realisations(pi: np.ndarray) -> np.ndarray:
    """Mean over axis 1 of ``(G, R, ...)``, summed in realisation order (the same bits for any ``G``)."""
    acc = pi[:, 0].copy()
    for r in range(1, pi.shape[1]):
        acc += pi[:, r]
    return acc / pi.shape[1]


def run_finite(
    P: Any,
    settings: Any,
    starts: Any,
    fs: FiniteSample,
    *,
    loss: Any = "ipo",
    steps: int = 3000,
    burn_in: int = 0,
    seed: int = 0,
    matrix_index: Sequence[int] | None = None,
    setting_index: Sequence[int] | None = None,
    record: Sequence[tuple[int, int]] = (),
    tol: float = 1e-10,
    window: int = 512,
    amp_tol: float = 1e-6,
    max_iter: int = 60,
    engine: str = "auto",
) -> FiniteRun:
    """Run the finite-sample MRS dynamics for every matrix x setting x realisation, vectorised.

    Parameters
    ----------
    P : ``(M, K, K)`` preference matrices (validated by the caller)
    settings : ``(S, 3)`` rows ``(alpha, scale, lam)`` (``scale`` the loss's own: IPO ``beta``)
    starts : ``(M, K)`` normalised log-policies (every setting and realisation of a matrix starts there)
    fs : the :class:`FiniteSample` options
    loss, steps, burn_in : as in the population sweep (``pi_ref`` and ``pi0`` uniform)
    seed, matrix_index, setting_index : the streams are :func:`realisation_seed` of the *global* indices
        (default ``range(M)``, ``range(S)``)
    record : local ``(m, s)`` pairs whose ``(R, T+1, K)`` policy paths are kept
    tol, window, amp_tol : metric options (:mod:`verify.numerics.metrics`)
    max_iter : Newton's iteration limit per round
    engine : how the counts are drawn (:func:`draw_counts`: ``"numpy"``, ``"numba"``, ``"auto"``; ``"reference"``
        means numpy); every engine gives the same counts, so the same paths

    Raises
    ------
    NumericalFailure
        When a round's optimum does not exist or its solve fails (the message names the matrix,
        setting, realisation and round).
    """
    nums = _loss_numbers(loss)
    P = np.asarray(P, dtype=float)
    M, K = P.shape[0], P.shape[-1]
    st = np.asarray(settings, dtype=float).reshape(-1, 3)
    S, R, n = st.shape[0], fs.realisations, fs.pairs
    mi = np.arange(M) if matrix_index is None else np.asarray(matrix_index, dtype=int)
    si = np.arange(S) if setting_index is None else np.asarray(setting_index, dtype=int)
    steps, burn_in = int(steps), int(burn_in)
    B = M * S * R
    # rows ordered (m, s, r), r fastest
    rows_m = np.repeat(np.arange(M), S * R)
    rows_s = np.tile(np.repeat(np.arange(S), R), M)
    rows_r = np.tile(np.arange(R), M * S)
    Pr = P[rows_m]
    alpha = st[rows_s, 0][:, None]
    lam = st[rows_s, 2][:, None]
    inv_b = np.broadcast_to(np.asarray(nums.inv_b(st[rows_s, 1]), dtype=float), (B,)).reshape(B, 1)
    pi0 = 1.0 / K
    logref = np.log(1.0 / K)
    lp = _normalise(np.asarray(starts, dtype=float)[rows_m])
    gens = [np.random.Generator(np.random.PCG64(realisation_seed(seed, mi[m], si[s], r)))
            for m, s, r in zip(rows_m, rows_s, rows_r)]
    Tb = max(1, min(steps, _UNIFORM_BUDGET // max(1, B * n)))
    buf = np.empty((Tb, B, n), dtype=np.uint64)
    pthr = _label_thresholds(Pr, B)
    met = StreamingMetrics(B, K, steps, burn_in=burn_in, tol=tol, window=window, amp_tol=amp_tol)
    G = M * S
    met_avg = StreamingMetrics(G, K, steps, burn_in=burn_in, tol=tol, window=window, amp_tol=amp_tol)
    rec = [(int(m), int(s)) for m, s in record]
    for m, s in rec:
        if not (0 <= m < M and 0 <= s < S):
            raise InputError(f"record pair ({m}, {s}) is outside {M} matrices x {S} settings")
    rec_rows = [(m * S + s) * R + np.arange(R) for m, s in rec]
    paths = {key: np.empty((R, steps + 1, K)) for key in rec}
    pi = np.exp(lp)
    for key, rr in zip(rec, rec_rows):
        paths[key][:, 0] = pi[rr]
    avg_pi = _mean_over_realisations(pi.reshape(G, R, K))
    avg_lp = np.log(avg_pi)
    x_prev = np.zeros((B, K))
    for t in range(1, steps + 1):
        tt = (t - 1) % Tb
        if tt == 0:
            for b, g in enumerate(gens):
                buf[:, b] = g.bit_generator.random_raw((Tb, n))
        mu = lam * pi + (1 - lam) * pi0
        N = draw_counts(Pr, mu, buf[tt], engine=engine, pthr=pthr)
        try:
            x, ok = _optimum(N, nums, fs.prior, fs.unsampled, x_prev, 1e-11, max_iter)
        except NoEmpiricalOptimum as exc:
            b = int(exc.rows[0])
            raise NoEmpiricalOptimum(
                f"finite-sample round {t}, matrix {mi[rows_m[b]]}, setting {si[rows_s[b]]}, realisation {rows_r[b]}: "
                f"no finite optimum of the empirical {nums.label} loss (responses {np.flatnonzero(exc.sets[0]).tolist()} "
                f"won every sampled comparison with the rest; {exc.rows.size} row(s) affected); use prior > 0",
                exc.rows,
                exc.sets,
            ) from None
        if not ok.all():
            b = int(np.flatnonzero(~ok)[0])
            raise NumericalFailure(
                f"finite-sample round {t}: the {nums.label} empirical optimum did not converge for matrix {mi[rows_m[b]]}, "
                f"setting {si[rows_s[b]]}, realisation {rows_r[b]} ({int((~ok).sum())} row(s)); try a larger max_iter or prior > 0"
            )
        x_prev = x
        new = _normalise(alpha * lp + (1 - alpha) * logref + x * inv_b)
        pi = np.exp(new)
        met.update(t, lp.T, new.T, pi.T)
        lp = new
        new_avg = _mean_over_realisations(pi.reshape(G, R, K))
        new_avg_lp = np.log(new_avg)
        met_avg.update(t, avg_lp.T, new_avg_lp.T, new_avg.T)
        avg_lp = new_avg_lp
        for key, rr in zip(rec, rec_rows):
            paths[key][:, t] = pi[rr]
    res = met.result(lp.T)
    avg = met_avg.result(avg_lp.T)
    shape3, shape2 = (M, S, R), (M, S)
    return FiniteRun(
        cycle_strength=res["cycle_strength"].reshape(shape3),
        final_entropy=res["entropy"].reshape(shape3),
        amplitude=res["amplitude"].reshape(shape3),
        oscillating=res["oscillating"].reshape(shape3),
        converged=res["converged"].reshape(shape3),
        averaged_cycle_strength=avg["cycle_strength"].reshape(shape2),
        averaged_final_entropy=avg["entropy"].reshape(shape2),
        averaged_amplitude=avg["amplitude"].reshape(shape2),
        averaged_oscillating=avg["oscillating"].reshape(shape2),
        paths=paths,
    )

