r"""The batched float64 MRS step for any pairwise loss of the GPO family.

A loss ``l(h; p) = p f(b h) + (1-p) f(-b h)`` (:class:`theory.losses.PairLoss`) has, in the
scaled variable ``x = b r`` (``r = log(pi / pi_ref)``), the stationarity equations

.. math::

    G_k(x; \mu) = \sum_j \mu_j\, g(x_k - x_j; P_{kj}) = 0, \qquad
    g(x; p) = p f'(x) - (1-p) f'(-x),

(``mu^T G = 0`` identically: ``K - 1`` independent equations; the solution is a vector up to a
constant). One MRS step is

.. math::

    \log \pi' = \alpha \log \pi + (1 - \alpha) \log \pi_{ref} + x^*(\mu) / b \quad (\text{normalised}),
    \qquad \mu = \lambda \pi + (1 - \lambda) \pi_0 .

:func:`solve_batch` finds ``x*`` for ``B`` rows at once, by one of three methods chosen from
``f`` itself (never from the loss's name):

* ``"closed"`` — ``f''`` is a positive constant (``f`` quadratic, e.g. IPO): ``g`` is affine and
  ``x* = c_f P mu`` up to a constant, with the gain ``c_f = -2 f'(0) / f''(0)``. The step is then
  the closed form ``log pi' = alpha log pi + (1-alpha) log pi_ref + (c_f / b) P mu`` (for IPO
  ``c_f / b = beta``), computed in log space on K-major buffers (the fast path);
* ``"enumerate"`` — ``f'' = 0`` away from one kink ``k`` (``f`` piecewise linear, e.g. the SLiC
  hinge with ``k = 1``): the population loss ``L(x) = 2 sum_ij mu_i mu_j P_ij f(x_i - x_j)`` is
  convex and piecewise linear with breakpoints ``x_i - x_j = ±k``. Its minimum is attained (``f``
  is bounded below) and the set of minimisers is a polyhedron which, modulo constants, contains a
  vertex of that hyperplane arrangement (no cell contains a line). A vertex solves
  ``x_i - x_j = ±k`` along a spanning tree, so, shifted to minimum 0, it is ``k v`` for a weak
  ordering ``v`` of the ``K`` responses (integer values filling ``{0, ..., m}``). All weak orderings
  (the ordered Bell number: 75 for ``K = 4``, 4,683 for ``K = 6``; a superset of the vertices, all
  feasible) are evaluated in batch, so the least value among them is the minimum. **The optimum is a set**; the selection rule is: the mean
  of the centred vertices whose loss is within ``1e-12 (1 + |L_min|)`` of the least (a minimiser
  by convexity; invariant under relabelling the responses; a function of ``(P, mu)`` only).
  ``K <= 6``;
* ``"newton"`` — every other loss: Newton on ``G`` in ``K - 1`` coordinates (the coordinate of
  the largest ``mu_k`` pinned), the Jacobian ``A_km = dG_k/dx_m`` (a weighted Laplacian with
  weights ``mu_m g'(x_k - x_m; P_km)``), a step capped at 8 in max-norm and a backtracking line
  search on ``||G||^2`` (the Newton direction is a descent direction for it). A row has
  converged when ``|G_k| <= tol (1 + T_k)`` for every ``k``, with ``T_k = sum_j mu_j (P_kj |f'(x_k - x_j)|
  + P_jk |f'(x_j - x_k)|)`` the size of the terms summed (a relative criterion: absolute for
  the logistic, whose terms are at most 1).

``f``, ``f'`` and ``f''`` are the numpy functions of the one bridge
(:func:`verify.numerics.bridge.loss_functions`: stable forms, the logistic through ``expit``);
the method is read from it too (``quadratic``, ``piecewise_linear``). Wherever numpy still
overflows to a non-finite value (an expression without a stable form, ``exp(800)/(1 + exp(800))``),
those entries are recomputed by the bridge's mpmath twin (no exponent range limit), so the
generic path is stable for ``|x|`` in the hundreds and beyond, for every loss, without special cases.

:func:`make_step` builds the step for a batch: ``alpha``, ``lam`` and the scale may be scalars
or length-``B`` arrays (one setting per row). ``b = loss.b_of(scale)`` in float64.

>>> from theory.losses import BUILTIN
>>> P = np.array([[0.5, 0.8], [0.2, 0.5]])
>>> step = make_step(P, BUILTIN["dpo"], alpha=0.5, lam=1.0)
>>> np.round(np.exp(step(np.log(np.full((1, 2), 0.5)))), 6)
array([[0.8, 0.2]])
>>> step = make_step(P, BUILTIN["ipo"], alpha=0.0, lam=1.0, scale=1.0)    # softmax(beta P mu)
>>> np.round(np.exp(step(np.log(np.full((1, 2), 0.5)))), 6)
array([[0.574443, 0.425557]])
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import mpmath
import numpy as np
import sympy

from theory.losses import BUILTIN, PairLoss
from verify.exact.objects import InputError, NumericalFailure, load_preference_matrix, positive, simplex_vector, unit_interval
from verify.numerics.basis import helmert_basis
from verify.numerics.bridge import loss_functions
from verify.numerics.dpo import DPOSolveError
from verify.numerics.optimum import escaping_set
from verify.numerics.losses import loss as make_loss
from verify.numerics.validate import check_matrix_stack

__all__ = [
    "BatchSolveError",
    "LossNumbers",
    "loss_numbers",
    "as_loss",
    "METHODS",
    "MAX_ENUMERATION_K",
    "solve_batch",
    "sensitivity_batch",
    "stationarity_batch",
    "loss_batch",
    "method_for",
    "make_step",
    "make_batch_step",
    "solve_scaled_batch",
]

#: The ways :func:`solve_batch` finds ``x*`` (see the module docstring).
METHODS = ("closed", "enumerate", "newton")
#: Largest ``K`` for the exact enumeration of a piecewise-linear loss (4,683 vertices at 6; 47,293 at 7).
MAX_ENUMERATION_K = 6


class BatchSolveError(NumericalFailure):
    """The batched inner solve did not reach stationarity for some rows (the message names them)."""


# ----------------------------------------------------------------------------- the loss as numbers


def as_loss(loss: Any) -> PairLoss:
    """A :class:`PairLoss` from itself, a built-in name or alias, or an expression in ``x``.

    Names and expressions go through :func:`verify.numerics.losses.loss` (validated; a bad one
    is an :class:`InputError`).
    """
    if isinstance(loss, PairLoss):
        return loss
    return make_loss(loss)


def _guarded(np_fn: Callable, mp_fn: Callable) -> Callable[[np.ndarray], np.ndarray]:
    """The bridge's numpy function, with any non-finite entry recomputed by its mpmath twin.

    The bridge compiles stable forms (the logistic through ``expit``/``softplus``); for an
    expression it has no stable form for, numpy may still overflow (``inf/inf``) where the value
    is an ordinary number, and mpmath, with no exponent limit, gives it.
    """

    def fn(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        out = np_fn(x)
        bad = ~np.isfinite(out)
        if bad.any():
            out = np.array(out, dtype=float)
            with mpmath.workdps(30):
                out[bad] = [float(mp_fn(mpmath.mpf(float(v)))) for v in x[bad]]
        return out

    return fn


@dataclass(frozen=True)
class LossNumbers:
    """What the float solvers need of a loss (scale-free), built once per loss (:func:`loss_numbers`)."""

    method: str
    f: Callable[[np.ndarray], np.ndarray]
    fp: Callable[[np.ndarray], np.ndarray]
    fpp: Callable[[np.ndarray], np.ndarray]
    gain: float | None
    kink: float | None
    inv_b: Callable[[Any], Any]
    decreases_forever: bool
    bounded_below: bool
    label: str


@lru_cache(maxsize=64)
def loss_numbers(loss: PairLoss) -> LossNumbers:
    """The numbers of ``loss``: the method, stable ``f, f', f''`` (numpy, non-finite values redone in
    mpmath), the gain ``c_f``, the kink, ``1/b`` as a function of the scale, and whether ``f`` decreases
    forever / the pair loss is bounded below. One place for the batched step, the kernels and the
    finite-sample solver.

    >>> nums = loss_numbers(BUILTIN["ipo"])
    >>> nums.method, nums.gain, float(nums.inv_b(8.0))
    ('closed', 2.0, 4.0)
    """
    fn = loss_functions(loss)
    if fn.quadratic is not None:
        method = "closed"
    elif fn.piecewise_linear:
        method = "enumerate"
    else:
        method = "newton"
    s = sympy.Symbol("s", positive=True)
    inv_b = sympy.lambdify(s, sympy.simplify(1 / loss.b_of(s)), "numpy")
    gain = None if loss.gain is None else float(loss.gain)
    kinks = sorted({abs(float(k)) for k in loss.kinks})
    kink = kinks[0] if len(kinks) == 1 and kinks[0] > 0 else None
    with mpmath.workdps(30):
        # f' < 0 even far out on the right: f decreases to its infimum without reaching it (logistic, exp)
        forever = all(fn.fp(mpmath.mpf(2) ** e) < 0 for e in (3, 6, 9, 12))
    # the pair loss p f(x) + (1-p) f(-x) is bounded below for every p iff f'(+oo) >= 0 >= f'(-oo)
    right, left = fn.slope_right, fn.slope_left
    bounded = not ((right is not None and bool(right < 0)) or (left is not None and bool(left > 0)))
    return LossNumbers(
        method,
        _guarded(fn.f_np, fn.f),
        _guarded(fn.fp_np, fn.fp),
        _guarded(fn.fpp_np, fn.fpp),
        gain,
        kink,
        inv_b,
        forever,
        bounded,
        loss.title or loss.name,
    )


def method_for(loss: Any) -> str:
    """The method :func:`solve_batch` uses for ``loss`` by default (one of :data:`METHODS`).

    >>> [method_for(n) for n in ("ipo", "dpo", "slic", "exp", "tq")]
    ['closed', 'newton', 'enumerate', 'newton', 'newton']
    """
    return loss_numbers(as_loss(loss)).method


def _choose(nums: LossNumbers, method: str | None) -> str:
    m = nums.method if method is None else method
    if m not in METHODS:
        raise InputError(f"method = {method!r}, expected one of {METHODS}")
    if m == "closed" and nums.method != "closed":
        raise InputError(f"method 'closed' needs a quadratic f (f'' a positive constant); the {nums.label} loss is not")
    if m == "enumerate" and nums.method != "enumerate":
        raise InputError(f"method 'enumerate' needs a piecewise-linear f; the {nums.label} loss is not")
    if m == "newton" and nums.method == "enumerate":
        raise InputError(f"the {nums.label} loss is piecewise linear (f'' = 0): Newton does not apply, use 'enumerate'")
    return m


# ----------------------------------------------------------------------------- the pair terms


def _diffs(x: np.ndarray) -> np.ndarray:
    return x[:, :, None] - x[:, None, :]


def _terms(P: np.ndarray, Q: np.ndarray, mu: np.ndarray, x: np.ndarray, fp) -> tuple[np.ndarray, np.ndarray]:
    """``G`` and the term size ``T``, both ``(B, K)``; ``Q = 1 - P``."""
    F = fp(_diffs(x))
    a = P * F
    c = Q * np.swapaxes(F, 1, 2)  # (1 - P_kj) f'(x_j - x_k)
    m = mu[:, :, None]
    G = np.matmul(a - c, m)[:, :, 0]
    np.abs(a, out=a)
    np.abs(c, out=c)
    a += c
    return G, np.matmul(a, m)[:, :, 0]


def _jacobian_x(P: np.ndarray, Q: np.ndarray, mu: np.ndarray, x: np.ndarray, fpp) -> np.ndarray:
    """``A_km = dG_k / dx_m``: ``-mu_m g'(x_k - x_m; P_km)`` off the diagonal, rows summing to 0."""
    F2 = fpp(_diffs(x))
    A = P * F2
    A += Q * np.swapaxes(F2, 1, 2)  # g'(x_k - x_m; P_km)
    A *= mu[:, None, :]
    np.negative(A, out=A)
    Bn, K = x.shape
    diag = A.reshape(Bn, K * K)[:, :: K + 1]  # a view: the diagonal
    diag -= A.sum(axis=2)  # the new diagonal is minus the off-diagonal row sum
    return A


def _pinned_solve(A: np.ndarray, rhs: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Solve ``A z = rhs`` with the equation of coordinate ``p`` replaced by ``z_p = 0`` (rhs ``(B, K)`` or ``(B, K, m)``).

    ``A`` and ``rhs`` are overwritten.
    """
    rows = np.arange(A.shape[0])
    A[rows, p, :] = 0.0
    A[rows, p, p] = 1.0
    rhs[rows, p] = 0.0
    vec = rhs.ndim == 2
    rr = rhs[..., None] if vec else rhs
    try:
        z = np.linalg.solve(A, rr)
    except np.linalg.LinAlgError:  # one singular row fails the stack: least squares for all
        z = np.linalg.pinv(A) @ rr
    return z[..., 0] if vec else z


def _bcast_P(P: np.ndarray, n: int) -> np.ndarray:
    return np.broadcast_to(P, (n,) + P.shape[-2:]) if P.ndim == 2 else P


def _newton(P, mu, x0, nums: LossNumbers, tol: float, max_iter: int, max_step: float):
    """Newton from ``x0``; rows that fail from a given start are tried again from 0 (a far warm start can stall)."""
    x, ok = _newton_from(P, mu, x0, nums, tol, max_iter, max_step)
    if x0 is not None and not ok.all():
        bad = np.flatnonzero(~ok)
        xb, okb = _newton_from(P if P.ndim == 2 else P[bad], mu[bad], None, nums, tol, max_iter, max_step)
        x[bad[okb]] = xb[okb]
        ok[bad[okb]] = True
    return x, ok


def _newton_from(P, mu, x0, nums: LossNumbers, tol: float, max_iter: int, max_step: float):
    Bn, K = mu.shape
    Pb = _bcast_P(P, Bn)
    Qb = 1.0 - Pb
    rows = np.arange(Bn)
    p = np.argmax(mu, axis=1)
    # start: the linearisation at x = 0 (x ~ c_f P mu, exact for a quadratic f), or x0 where its residual is smaller
    x = nums.gain * np.matmul(Pb, mu[:, :, None])[:, :, 0] if nums.gain is not None else np.zeros((Bn, K))
    x -= x[rows, p][:, None]
    G, T = _terms(Pb, Qb, mu, x, nums.fp)
    res = np.max(np.abs(G) / (1.0 + T), axis=1)
    if x0 is not None:
        xw = np.array(x0, dtype=float, copy=True)
        xw = np.where(np.isfinite(xw), xw, 0.0)
        xw -= xw[rows, p][:, None]
        Gw, Tw = _terms(Pb, Qb, mu, xw, nums.fp)
        rw = np.max(np.abs(Gw) / (1.0 + Tw), axis=1)
        better = rw < res
        if better.any():
            x[better], G[better], T[better], res[better] = xw[better], Gw[better], Tw[better], rw[better]
    stalled = np.zeros(Bn, dtype=bool)
    for _ in range(max_iter):
        todo = ~(res <= tol) & ~stalled & np.isfinite(res)
        if not todo.any():
            break
        if todo.all():  # views, no copies
            act, xa, Pa, Qa, ma, pa, Ga = rows, x, Pb, Qb, mu, p, G
        else:
            act = np.flatnonzero(todo)
            xa, Pa, Qa, ma, pa, Ga = x[act], Pb[act], Qb[act], mu[act], p[act], G[act]
        dx = _pinned_solve(_jacobian_x(Pa, Qa, ma, xa, nums.fpp), -Ga, pa)
        dx[~np.isfinite(dx)] = 0.0
        big = np.max(np.abs(dx), axis=1)
        if np.any(big > max_step):  # a trust region: Newton from a poor start can overshoot into the flat tails
            dx *= np.minimum(1.0, max_step / np.maximum(big, 1e-300))[:, None]
        phi = np.einsum("bk,bk->b", Ga, Ga)
        t = 1.0
        cand = xa + dx
        Gc, Tc = _terms(Pa, Qa, ma, cand, nums.fp)
        acc = np.einsum("bk,bk->b", Gc, Gc) <= (1 - 1e-4) * phi
        pending = ~acc
        if acc.all():
            xn, Gn, Tn = cand, Gc, Tc
        else:  # backtracking on the rows whose full step did not decrease ||G||^2 enough
            keep = acc[:, None]
            xn, Gn, Tn = np.where(keep, cand, xa), np.where(keep, Gc, Ga), np.where(keep, Tc, T[act])
            for _ls in range(40):
                t *= 0.5
                idx = np.flatnonzero(pending)
                cand = xa[idx] + t * dx[idx]
                Gc, Tc = _terms(Pa[idx], Qa[idx], ma[idx], cand, nums.fp)
                ok = np.einsum("bk,bk->b", Gc, Gc) <= (1 - 1e-4 * t) * phi[idx]
                ai = idx[ok]
                xn[ai], Gn[ai], Tn[ai] = cand[ok], Gc[ok], Tc[ok]
                pending[ai] = False
                if not pending.any():
                    break
        stalled[act[pending]] = True
        x[act], G[act], T[act] = xn, Gn, Tn
        res[act] = np.max(np.abs(Gn) / (1.0 + Tn), axis=1)
    ok = res <= tol
    return x - x.mean(axis=1, keepdims=True), ok


@lru_cache(maxsize=16)
def _weak_orderings(K: int) -> np.ndarray:
    """All integer vectors whose values fill ``{0, ..., m}`` for some ``m`` (``(C, K)``, C = ordered Bell number)."""
    out = [v for v in itertools.product(range(K), repeat=K) if set(v) == set(range(max(v) + 1))]
    arr = np.array(out, dtype=float)
    arr.setflags(write=False)
    return arr


def _check_enumerable(K: int, nums: LossNumbers) -> None:
    """The guards of the exact enumeration: ``K <= MAX_ENUMERATION_K``, one kink, ``f`` bounded below."""
    if K > MAX_ENUMERATION_K:
        raise InputError(
            f"K = {K}: the exact enumeration for the piecewise-linear {nums.label} loss is limited to K <= {MAX_ENUMERATION_K} "
            f"(it evaluates every weak ordering of the K responses)"
        )
    if nums.kink is None:
        raise InputError(f"the piecewise-linear {nums.label} loss needs exactly one kink k > 0 for the exact enumeration")
    if not nums.bounded_below:
        raise InputError(f"the piecewise-linear {nums.label} loss is not bounded below (f'(+oo) < 0 or f'(-oo) > 0)")


def _enumerate(P, mu, nums: LossNumbers):
    Bn, K = mu.shape
    _check_enumerable(K, nums)
    V = nums.kink * _weak_orderings(K)
    C = V.shape[0]
    Fc = nums.f(_diffs(V)).reshape(C, K * K)
    Vc = V - V.mean(axis=1, keepdims=True)
    Pb = _bcast_P(P, Bn)
    W = (2.0 * mu[:, :, None] * mu[:, None, :] * Pb).reshape(Bn, K * K)
    x = np.empty((Bn, K))
    chunk = max(1, int(4_000_000 // C))
    FcT = np.ascontiguousarray(Fc.T)
    for s in range(0, Bn, chunk):
        # stacked (1 x K^2) @ (K^2 x C) products: numpy's own loop, not a threaded BLAS call on a small matrix
        L = np.matmul(W[s : s + chunk, None, :], FcT)[:, 0, :]
        Lmin = L.min(axis=1, keepdims=True)
        mask = (L <= Lmin + 1e-12 * (1.0 + np.abs(Lmin))).astype(float)
        x[s : s + chunk] = np.matmul(mask[:, None, :], Vc)[:, 0, :] / mask.sum(axis=1, keepdims=True)
    ok = np.isfinite(x).all(axis=1)
    return x, ok


def solve_batch(
    P: Any,
    mu: Any,
    loss: Any,
    x0: Any = None,
    *,
    tol: float = 1e-11,
    max_iter: int = 60,
    max_step: float = 8.0,
    method: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``G(x; mu) = 0`` (or minimise the loss, for a piecewise-linear ``f``) for ``B`` rows at once.

    Parameters
    ----------
    P : ``(K, K)`` (shared) or ``(B, K, K)`` float array (not validated here; see :func:`make_step`)
    mu : ``(B, K)`` sampling distributions (rows on the simplex; ``mu_k = 0`` is allowed: the
        equation ``G_k = 0`` does not contain ``mu_k`` and still fixes ``x_k``, the continuous extension)
    loss : :class:`theory.losses.PairLoss`, a built-in name, or an expression in ``x``
    x0 : ``(B, K)`` start for Newton (any constant shift), default 0
    tol, max_iter, max_step : Newton's relative stationarity tolerance, iteration limit and step cap
    method : ``None`` (chosen from ``f``: see the module docstring) or one of :data:`METHODS`

    Returns
    -------
    x : ``(B, K)`` centred solutions in ``x = b r`` (scale-free: ``b`` does not enter ``G``)
    ok : ``(B,)`` bool, the rows that reached the tolerance (always True for ``closed`` and
        ``enumerate`` on finite input)

    >>> x, ok = solve_batch([[0.5, 0.8], [0.2, 0.5]], [[0.5, 0.5]], "dpo")
    >>> np.round(x, 6).tolist(), ok.tolist()       # x_0 - x_1 = logit(0.8)
    ([[0.693147, -0.693147]], [True])
    """
    nums = loss_numbers(as_loss(loss))
    m = _choose(nums, method)
    P = np.asarray(P, dtype=float)
    mu = np.atleast_2d(np.asarray(mu, dtype=float))
    if P.ndim not in (2, 3) or P.shape[-1] != P.shape[-2] or P.shape[-1] != mu.shape[1]:
        raise InputError(f"P has shape {P.shape} and mu {mu.shape}, expected (K, K) or (B, K, K) and (B, K)")
    if m == "closed":
        x = nums.gain * (np.einsum("bkj,bj->bk", _bcast_P(P, mu.shape[0]), mu))
        return x - x.mean(axis=1, keepdims=True), np.isfinite(x).all(axis=1)
    if m == "enumerate":
        return _enumerate(P, mu, nums)
    return _newton(P, mu, x0, nums, tol, max_iter, max_step)


def stationarity_batch(P: Any, mu: Any, x: Any, loss: Any) -> np.ndarray:
    """``G(x; mu)`` as ``(B, K)`` (float64; the residual the Newton path drives to 0)."""
    nums = loss_numbers(as_loss(loss))
    mu = np.atleast_2d(np.asarray(mu, dtype=float))
    Pb = _bcast_P(np.asarray(P, dtype=float), mu.shape[0])
    return _terms(Pb, 1.0 - Pb, mu, np.atleast_2d(np.asarray(x, dtype=float)), nums.fp)[0]


def loss_batch(P: Any, mu: Any, x: Any, loss: Any) -> np.ndarray:
    """The population loss ``L(x; mu) = 2 sum_ij mu_i mu_j P_ij f(x_i - x_j)`` in ``x = b r``, ``(B,)``."""
    nums = loss_numbers(as_loss(loss))
    mu = np.atleast_2d(np.asarray(mu, dtype=float))
    x = np.atleast_2d(np.asarray(x, dtype=float))
    Pb = _bcast_P(np.asarray(P, dtype=float), mu.shape[0])
    return 2.0 * np.einsum("bi,bj,bij,bij->b", mu, mu, Pb, nums.f(_diffs(x)))


def sensitivity_batch(P: Any, mu: Any, x: Any, loss: Any) -> np.ndarray:
    """``X = dx*/dmu`` (IFT) at solutions ``x`` of ``G(x; mu) = 0``: ``(B, K, K)``, columns centred.

    ``A X = -B`` with ``A = dG/dx`` and ``B_km = dG_k/dmu_m = g(x_k - x_m; P_km)``, solved with the
    coordinate of the largest ``mu_k`` pinned (the system is consistent: ``mu^T A = 0`` and
    ``mu^T B dmu = 0`` for tangent ``dmu``); ``X`` is defined up to constants per column, which
    the MRS map's normalisation removes. For a quadratic ``f`` it is ``c_f P`` (centred).
    Not defined for a piecewise-linear ``f``.
    """
    nums = loss_numbers(as_loss(loss))
    mu = np.atleast_2d(np.asarray(mu, dtype=float))
    x = np.atleast_2d(np.asarray(x, dtype=float))
    Bn, K = mu.shape
    Pb = _bcast_P(np.asarray(P, dtype=float), Bn)
    if nums.method == "enumerate":
        raise InputError(f"the {nums.label} loss is piecewise linear: its optimum is a set and has no derivative in mu")
    if nums.method == "closed":
        X = nums.gain * np.array(Pb, dtype=float)
    else:
        Qb = 1.0 - Pb
        F = nums.fp(_diffs(x))
        Bm = Pb * F - Qb * np.swapaxes(F, 1, 2)
        A = _jacobian_x(Pb, Qb, mu, x, nums.fpp)
        X = _pinned_solve(A, -Bm, np.argmax(mu, axis=1))
    return X - X.mean(axis=1, keepdims=True)


# ----------------------------------------------------------------------------- validation


def _check_P(P: Any) -> np.ndarray:
    if np.ndim(P) == 2:
        return np.array(load_preference_matrix(P).to_numpy(), dtype=float)
    return check_matrix_stack(np.asarray(P, dtype=float), "(K, K) or (B, K, K) with K >= 2")


def _check_escape(P: np.ndarray, nums: LossNumbers) -> None:
    """No finite optimum when a set of responses beats the rest surely and ``f`` never reaches its infimum."""
    if not nums.decreases_forever:
        return
    K = P.shape[-1]
    off = ~np.eye(K, dtype=bool)
    mats = P[None] if P.ndim == 2 else P
    extreme = (((mats <= 0) | (mats >= 1)) & off).any(axis=(1, 2))
    for bi in np.flatnonzero(extreme):
        name = "P" if P.ndim == 2 else f"P[{bi}]"
        U = escaping_set(load_preference_matrix(mats[bi], name=name))
        if U is not None:
            raise InputError(
                f"{name}: responses {U} beat all others with probability 1, so no finite optimum of the {nums.label} loss "
                "exists (f decreases to its infimum without reaching it; an off-diagonal entry 0 or 1 that is not part of a cycle)"
            )


def _param(v: Any, B: int | None, name: str, kind: str) -> Any:
    """A scalar float or a ``(B,)`` array, validated (``kind``: ``unit`` for [0, 1], ``positive``)."""
    if np.ndim(v) == 0:
        if isinstance(v, (np.ndarray, np.generic)):
            v = v.item()
        val = unit_interval(v, name) if kind == "unit" else positive(v, name)
        return float(val)
    a = np.asarray(v, dtype=float)
    if a.ndim != 1 or (B is not None and a.shape != (B,)):
        raise InputError(f"{name} has shape {a.shape}, expected a scalar or ({B},)")
    bad = ~((a >= 0) & (a <= 1)) if kind == "unit" else ~(a > 0)
    if bad.any():
        i = int(np.argmax(bad))
        rule = "is outside [0, 1]" if kind == "unit" else "expected > 0"
        raise InputError(f"{name}[{i}] = {a[i]:.12g}{',' if kind != 'unit' else ''} {rule}")
    return a


def _policy(v: Any, K: int, B: int | None, name: str) -> np.ndarray:
    """``(1, K)`` or ``(B, K)`` interior points of the simplex (default uniform)."""
    if v is None:
        return np.full((1, K), 1.0 / K)
    arr = np.asarray(v, dtype=float) if not isinstance(v, str) else None
    if arr is None or arr.ndim == 1:
        return np.array([[float(t) for t in simplex_vector(v, K, name=name, interior=True)]])
    if arr.ndim != 2 or arr.shape[1] != K or (B is not None and arr.shape[0] != B):
        raise InputError(f"{name} has shape {arr.shape}, expected ({K},) or ({B}, {K})")
    if not (np.all(arr > 0) and np.all(np.isfinite(arr))):
        b = int(np.argmax(~(arr > 0).all(axis=1)))
        raise InputError(f"{name}[{b}] must have K = {K} positive entries (an interior point of the simplex)")
    if np.any(np.abs(arr.sum(axis=1) - 1) > 1e-9):
        b = int(np.argmax(np.abs(arr.sum(axis=1) - 1)))
        raise InputError(f"{name}[{b}] sums to {arr[b].sum():.12g}, expected 1")
    return arr


def _logsumexp(z: np.ndarray) -> np.ndarray:
    m = np.max(z, axis=1, keepdims=True)
    return m + np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))


def _col(v: Any) -> Any:
    return v[:, None] if np.ndim(v) == 1 else v


# ----------------------------------------------------------------------------- the closed form (fast path)


def _closed_kernel(P: np.ndarray, coef: Any, al: Any, la: Any, ref: np.ndarray, p0: np.ndarray, B: int):
    """The quadratic-loss step on K-major buffers: ``logpi' = al logpi + (1-al) log ref + coef P mu`` normalised.

    ``coef = c_f / b`` (IPO: ``beta``). The maximum logit is subtracted before exponentiating,
    so large coefficients (``beta`` up to ``1e4``) cannot overflow.
    """
    K = P.shape[-1]
    refK = np.log(ref).T  # (K, 1) or (K, B)
    p0K = p0.T
    if P.ndim == 2:
        PK = None
        Pp0 = P @ p0K
    else:
        PK = np.ascontiguousarray(P.transpose(1, 2, 0))  # (K, K, B)
        Pp0 = np.einsum("ijb,jb->ib", PK, np.broadcast_to(p0K, (K, B)))
    base = (1 - al) * refK + coef * (1 - la) * Pp0
    base = np.ascontiguousarray(np.broadcast_to(base, (K, B)))
    gain = np.asarray(coef * la)
    al_arr = np.asarray(al)
    small = K <= 8

    def Pdot(x: np.ndarray) -> np.ndarray:
        if PK is None:
            return P @ x
        if small:
            out = np.empty((K, x.shape[1]))
            for i in range(K):
                acc = PK[i, 0] * x[0]
                for j in range(1, K):
                    acc += PK[i, j] * x[j]
                out[i] = acc
            return out
        return np.matmul(P, x.T[:, :, None])[:, :, 0].T

    cache: dict[str, Any] = {"out": None, "pi": None}

    def kernel(logpi: np.ndarray) -> np.ndarray:
        Xk = logpi.T
        if Xk.shape != (K, B):
            raise ValueError(f"logpi has shape {logpi.shape}, expected ({B}, {K})")
        pi = cache["pi"] if cache["out"] is logpi else np.exp(Xk)
        z = Pdot(pi)
        z *= gain
        z += base
        z += al_arr * Xk
        m = np.maximum.reduce(z, axis=0)
        z -= m
        e = np.exp(z)
        s = np.add.reduce(e, axis=0)
        z -= np.log(s)
        e /= s
        out = z.T
        cache["out"] = out
        cache["pi"] = e
        return out

    kernel.policy_of = lambda lp: cache["pi"] if cache["out"] is lp else None  # type: ignore[attr-defined]
    return kernel


# ----------------------------------------------------------------------------- the step


def make_step(
    P: Any,
    loss: Any,
    alpha: Any,
    lam: Any,
    pi_ref: Any = None,
    pi0: Any = None,
    *,
    scale: Any = None,
    B: int | None = None,
    warm_start: bool = True,
    method: str | None = None,
    tol: float = 1e-11,
    max_iter: int = 60,
) -> Callable[[np.ndarray], np.ndarray]:
    """The batched float64 MRS step ``logpi (B, K) -> logpi' (B, K)`` for any loss of the family.

    Parameters
    ----------
    P : ``(K, K)`` (shared) or ``(B, K, K)`` (one per row); validated (entries in [0, 1],
        ``P[i,j] + P[j,i] = 1``). For a loss that decreases to its infimum without reaching it
        (logistic, exponential), a set of responses that beats the rest with probability 1 has
        no finite optimum: refused with the set named.
    loss : :class:`theory.losses.PairLoss`, a built-in name, or an expression in ``x``
    alpha, lam : scalars in [0, 1] or ``(B,)`` arrays
    pi_ref, pi0 : ``(K,)`` or ``(B, K)`` interior points (default uniform)
    scale : the loss's scale parameter (``loss.scale_name``; IPO's ``beta``, DPO's ``beta_dpo``),
        scalar or ``(B,)``; default ``loss.scale``. ``b = loss.b_of(scale)`` in float64.
    B : the batch size; inferred from the batched arguments. When nothing is batched and ``B`` is
        not given, the step accepts any number of rows.
    warm_start : start Newton from the previous call's ``x*`` when the batch shape matches
    method : ``None`` (from ``f``), ``"closed"``, ``"enumerate"`` or ``"newton"`` (see :func:`solve_batch`;
        ``"newton"`` on a quadratic loss runs the generic path, for comparison with the closed form)
    tol, max_iter : the inner Newton solve's tolerance and iteration limit

    Returns
    -------
    step : callable ``logpi -> logpi'`` with ``logsumexp(logpi') = 0`` per row. Raises
        :class:`BatchSolveError` naming the rows whose inner solve failed. Attributes:
        ``step.K``, ``step.B`` (None when free), ``step.loss``, ``step.method``,
        ``step.try_step(logpi) -> (logpi', ok)`` (no exception; ``ok`` per row),
        ``step.jacobian(logpi) -> (B, K-1, K-1)``: the Jacobian of the map of centred logits
        at ``logpi`` in the Helmert basis, ``H^T (alpha I + (lam/b) X M) H`` with
        ``X = dx*/dmu`` (:func:`sensitivity_batch`) and ``M = diag(pi) - pi pi^T``; its eigenvalues
        are the tangent eigenvalues of the MRS map at a fixed point.

    The quadratic path keeps the closed form on K-major buffers (``step.policy_of(out)`` returns
    the policy the step computed, sparing an ``exp`` in :func:`verify.numerics.simulate.run_batch`).
    """
    lossobj = as_loss(loss)
    nums = loss_numbers(lossobj)
    m = _choose(nums, method)
    Parr = _check_P(P)
    K = Parr.shape[-1]
    if m == "enumerate":
        _check_enumerable(K, nums)
    if m == "newton":
        _check_escape(Parr, nums)
    if B is None:
        cands = [Parr.shape[0]] if Parr.ndim == 3 else []
        cands += [len(v) for v in (alpha, lam, scale) if v is not None and np.ndim(v) == 1]
        cands += [np.shape(v)[0] for v in (pi_ref, pi0) if v is not None and not isinstance(v, str) and np.ndim(v) == 2]
        B = cands[0] if cands else None
    if B is not None and Parr.ndim == 3 and Parr.shape[0] != B:
        raise InputError(f"P has {Parr.shape[0]} matrices, expected B = {B}")
    al = _param(alpha, B, "alpha", "unit")
    la = _param(lam, B, "lam", "unit")
    sc = _param(lossobj.scale if scale is None else scale, B, lossobj.scale_name, "positive")
    inv_b = np.asarray(nums.inv_b(sc), dtype=float) if np.ndim(sc) else float(nums.inv_b(sc))
    logref = np.log(_policy(pi_ref, K, B, "pi_ref"))
    p0 = _policy(pi0, K, B, "pi0")
    H = helmert_basis(K)

    def sizes(logpi: np.ndarray) -> int:
        n = logpi.shape[0]
        if logpi.ndim != 2 or logpi.shape[1] != K or (B is not None and n != B):
            raise ValueError(f"logpi has shape {logpi.shape}, expected ({B if B is not None else 'n'}, {K})")
        return n

    def mu_of(logpi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pi = np.exp(logpi)
        return pi, _col(la) * pi + (1 - _col(la)) * p0

    def jacobian(logpi: Any) -> np.ndarray:
        lp = np.asarray(logpi, dtype=float)
        n = sizes(lp)
        lp = lp - _logsumexp(lp)
        pi, mu = mu_of(lp)
        if m == "closed":
            X = nums.gain * np.array(_bcast_P(Parr, n))
        else:
            x, ok = _solve(mu)
            if not ok.all():
                raise _failure(ok)
            X = sensitivity_batch(Parr, mu, x, lossobj)
        M = pi[:, :, None] * np.eye(K) - pi[:, :, None] * pi[:, None, :]
        A = np.asarray(al).reshape(-1, 1, 1) * np.eye(K) + (np.asarray(la) * inv_b).reshape(-1, 1, 1) * (X @ M)
        return H.T @ A @ H

    state: dict[str, Any] = {}

    def _solve(mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x0 = state.get("x")
        if not (warm_start and x0 is not None and x0.shape == mu.shape):
            x0 = None
        if m == "enumerate":
            x, ok = _enumerate(Parr, mu, nums)
        else:
            x, ok = _newton(Parr, mu, x0, nums, tol, max_iter, 8.0)
        state["x"] = np.where(ok[:, None], x, 0.0)
        return x, ok

    def _failure(ok: np.ndarray) -> BatchSolveError:
        bad = np.flatnonzero(~ok)
        return BatchSolveError(
            f"inner solve for the {nums.label} loss did not converge (|G_k| > {tol:g} (1 + T_k)) for batch rows "
            f"{bad[:10].tolist()}" + (" ..." if bad.size > 10 else "") + "; try a larger max_iter"
        )

    if m == "closed":
        coef = nums.gain * inv_b
        kernels: dict[int, Callable] = {}

        def kernel_for(n: int) -> Callable:
            if n not in kernels:
                kernels.clear()
                kernels[n] = _closed_kernel(Parr, coef, al, la, np.exp(logref), p0, n)
            return kernels[n]

        if B is not None:
            kern = kernel_for(B)

            def step(logpi: np.ndarray) -> np.ndarray:
                return kern(logpi)

            step.policy_of = kern.policy_of  # type: ignore[attr-defined]
        else:

            def step(logpi: np.ndarray) -> np.ndarray:
                lp = np.asarray(logpi, dtype=float)
                return kernel_for(sizes(lp))(lp)

            step.policy_of = lambda lp: next(iter(kernels.values())).policy_of(lp) if kernels else None  # type: ignore[attr-defined]

        def try_step(logpi: Any) -> tuple[np.ndarray, np.ndarray]:
            out = step(np.asarray(logpi, dtype=float))
            return out, np.isfinite(out).all(axis=1)

    else:

        def try_step(logpi: Any) -> tuple[np.ndarray, np.ndarray]:
            lp = np.asarray(logpi, dtype=float)
            sizes(lp)
            _, mu = mu_of(lp)
            x, ok = _solve(mu)
            z = _col(al) * lp + (1 - _col(al)) * logref + x * _col(inv_b)
            return z - _logsumexp(z), ok

        def step(logpi: np.ndarray) -> np.ndarray:
            out, ok = try_step(logpi)
            if not ok.all():
                raise _failure(ok)
            return out

    step.try_step = try_step  # type: ignore[attr-defined]
    step.jacobian = jacobian  # type: ignore[attr-defined]
    step.K = K  # type: ignore[attr-defined]
    step.B = B  # type: ignore[attr-defined]
    step.loss = lossobj  # type: ignore[attr-defined]
    step.method = m  # type: ignore[attr-defined]
    return step


# ----------------------------------------------------------------------------- DPO names kept


def solve_scaled_batch(
    P: Any, mu: Any, x0: Any = None, *, max_iter: int = 60, tol: float = 1e-11, max_step: float = 8.0
) -> tuple[np.ndarray, np.ndarray]:
    """The DPO solve of :func:`solve_batch`: centred ``x = beta_dpo r`` (B, K) and a converged mask."""
    return solve_batch(P, mu, BUILTIN["dpo"], x0, tol=tol, max_iter=max_iter, max_step=max_step)


def make_batch_step(
    P: Any,
    alpha: Any,
    beta_dpo: Any,
    lam: Any,
    pi_ref: Any = None,
    pi0: Any = None,
    *,
    max_iter: int = 60,
    tol: float = 1e-11,
    warm_start: bool = True,
) -> Callable[[np.ndarray], np.ndarray]:
    """The MRS-DPO step: :func:`make_step` with the logistic loss and ``scale = beta_dpo``.

    Raises :class:`verify.numerics.dpo.DPOSolveError` (not :class:`BatchSolveError`) naming the rows
    whose inner solve failed, as the DPO modules expect.

    >>> step = make_batch_step([[0.5, 0.8], [0.2, 0.5]], alpha=0.5, beta_dpo=1.0, lam=1.0)
    >>> np.round(np.exp(step(np.log(np.full((1, 2), 0.5)))), 6)
    array([[0.8, 0.2]])
    """
    inner = make_step(P, BUILTIN["dpo"], alpha, lam, pi_ref, pi0, scale=beta_dpo, warm_start=warm_start, tol=tol, max_iter=max_iter)

    def step(logpi: np.ndarray) -> np.ndarray:
        try:
            return inner(logpi)
        except BatchSolveError as exc:
            raise DPOSolveError(str(exc)) from None

    for name in ("try_step", "jacobian", "K", "B", "loss", "method"):
        setattr(step, name, getattr(inner, name))
    return step
