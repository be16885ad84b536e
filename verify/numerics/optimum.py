r"""The one-shot optimum of any pairwise loss, at any precision; a direct minimiser to check it; ``dx*/dmu``.

A loss ``l(h; p) = p f(b h) + (1-p) f(-b h)`` (:class:`theory.losses.PairLoss`) has the
population loss ``L(r; mu) = sum_{i,j} mu_i mu_j l(r_i - r_j; P_ij)``. In ``x = b r`` the
stationarity conditions do not contain ``b`` (docs/claims.md §4b):

.. math::

    G_k(x; \mu) = \sum_j \mu_j\, g(x_k - x_j; P_{kj}) = 0, \qquad
    g(x; p) = p f'(x) - (1-p) f'(-x),

with ``dL/dr_k = 2 b mu_k G_k`` and ``mu^T G = 0`` identically. Every function here evaluates
``g`` with ``P_kj`` and ``P_jk`` as two numbers (never ``1 - P_kj``), so ``mu^T G = 0`` holds to
rounding for entries as close to 0 or 1 as ``10^-300``. ``f'`` and ``f''`` come from
:func:`verify.numerics.bridge.loss_functions`, the one place a loss becomes numbers (looked up
on the bridge module at call time, so a test can plant a wrong derivative in one place).

**Solver** (:func:`solve`, the generalisation of DPO-1's damped Newton). Newton on the ``K - 1``
coordinates other than ``x_p`` (``p = argmax mu``, pinned to 0; the result is centred,
``sum x = 0``), with an Armijo line search on the loss. The Hessian in ``x`` is the weighted
Laplacian with weights ``mu_k mu_j g'(x_k - x_j; P_kj)``, positive definite on the pinned
coordinates when every weight is positive, so for a smooth strictly convex ``f``, interior ``mu``
and entries in ``(0, 1)`` damped Newton converges from any start, quadratically near the root.
The start comes from the data (:func:`data_start`: every pair term replaced by its quadratic model
at its own minimiser ``phi(P_ij)``, the *link*, the zero of ``g(.; p)``; exact when
``phi(P_ij) = u_i - u_j``, LOSS-2), or ``x = 0`` when the loss is lower there; above 40 digits a
30-digit solve comes first. Steps longer than ``max_step`` are shortened (a trust region for the
nearly linear tails). Convergence needs both the residual ``max |G_k|`` and the Newton step below
``10^-(dps - GUARD/2)`` (with entries near 0 or 1 the residual can be tiny far from the root).
A quadratic ``f = c2 x^2 + c1 x + c0`` (IPO) is solved exactly instead:
``x* = -(c1/(2 c2)) C (P - P^T) mu`` (``C`` the centring), extended *linearly* off the simplex.
A truncated quadratic (``C^1``, ``f''`` piecewise constant) is solved by the same iteration, a
semismooth Newton method, with ``f''`` taken from the right at the kink (see the bridge).

**Existence** (LOSS-1, :func:`escaping_set`). With ``a = f'(+oo)`` and ``c = -f'(-oo) > 0``, a
direction ``d`` recedes iff it does on some indicator ``1_U``, where the recession of the loss is
``sum_{i in U, j not in U} mu_i mu_j (P_ij a + P_ji c)``: never zero when ``a > 0`` (IPO: an optimum
always exists); when ``a = 0`` (``f`` bounded on the right: logistic, exponential, hinge,
truncated quadratic) or ``c = oo``, zero exactly for a set ``U`` that beats its complement with
probability 1 (DPO-1's escaping set, found by a strongly-connected-components test).

**Uniqueness.** For interior ``mu`` the optimum is unique up to a constant when the weights are
positive at it (local strict convexity, then convexity gives it globally); a zero ``mu_k``, a
piecewise linear ``f`` (the hinge) or a disconnected weight graph at the solution raise
:class:`NonUniqueOptimum`.

>>> P = [["1/2", "3/4"], ["1/4", "1/2"]]
>>> x = optimum_x(P, ["1/3", "2/3"], "dpo", dps=30)          # logit(3/4) = log 3, centred
>>> with workdps(30):
...     print(mpmath.nstr(x[0] - x[1], 20), mpmath.nstr(mpmath.log(3), 20))
1.0986122886681096914 1.0986122886681096914
>>> [mpmath.nstr(v, 12) for v in optimum(P, ["1/2", "1/2"], "ipo", dps=30)]   # softmax(beta P mu)
['0.562176500886', '0.437823499114']
"""

from __future__ import annotations

import math
import operator
from fractions import Fraction
from typing import Any, Callable, Sequence

import mpmath
import sympy

from theory.losses import PairLoss
from verify.exact.objects import InputError, NumericalFailure, PreferenceMatrix, one_shot_data
from verify.numerics import bridge
from verify.numerics.bridge import LossFunctions, b_mp, evalf_mp, mp_matrix, mp_vector, mpf
from verify.numerics.losses import loss as make_loss
from verify.numerics.precision import GUARD, workdps

__all__ = [
    "NoOptimum",
    "NonUniqueOptimum",
    "OptimumFailure",
    "as_loss",
    "stationarity",
    "stationarity_jacobian",
    "loss_x",
    "ift_matrices",
    "ift_sensitivity",
    "sensitivity_x",
    "steepest_sampler_move",
    "link",
    "data_start",
    "solve",
    "escaping_set",
    "existence_obstruction",
    "check_unique",
    "logsumexp",
    "policy",
    "optimum_x",
    "optimum",
    "minimise",
    "minimiser_extra_digits",
    "sensitivity",
    "population_loss",
    "spd_solve",
]


class NoOptimum(ValueError):
    """No bounded optimum exists; ``escaping`` is the set of responses that escapes to infinity."""

    def __init__(self, message: str, escaping: Sequence[int] = (), rest: Sequence[int] = ()):
        super().__init__(message)
        self.escaping = list(escaping)
        self.rest = list(rest)


class NonUniqueOptimum(ValueError):
    """The optimum is a set, not a point (a zero sampler mass, or a loss that is not strictly convex there)."""


class OptimumFailure(NumericalFailure):
    """A solver failed on valid input (an optimum exists); the message says what to try."""


def as_loss(loss: Any) -> PairLoss:
    """A :class:`PairLoss` from a PairLoss, a name, an alias or an expression (see :func:`verify.numerics.losses.loss`)."""
    return loss if isinstance(loss, PairLoss) else make_loss(loss)


# ----------------------------------------------------------------------------- kernel (current precision)


def stationarity(P, mu: Sequence, x: Sequence, fns: LossFunctions) -> list:
    """``G_k = sum_j mu_j g(x_k - x_j; P_kj)`` at the current precision (``P`` an mpmath matrix)."""
    K = len(mu)
    return [mpmath.fsum(mu[j] * fns.g(x[k] - x[j], P[k, j], P[j, k]) for j in range(K) if j != k) for k in range(K)]


def stationarity_jacobian(P, mu: Sequence, x: Sequence, fns: LossFunctions) -> mpmath.matrix:
    """``A = dG/dx``: ``A_kl = -mu_l g'(x_k - x_l; P_kl)`` (``l != k``), rows summing to 0."""
    K = len(mu)
    A = mpmath.matrix(K, K)
    for k in range(K):
        diag = []
        for l in range(K):
            if l == k:
                continue
            w = mu[l] * fns.gprime(x[k] - x[l], P[k, l], P[l, k])
            A[k, l] = -w
            diag.append(w)
        A[k, k] = mpmath.fsum(diag)
    return A


def loss_x(P, mu: Sequence, x: Sequence, fns: LossFunctions):
    """``sum_{i,j} mu_i mu_j (P_ij f(x_i - x_j) + P_ji f(x_j - x_i))`` (the loss at ``b = 1``; loss values only)."""
    K = len(mu)
    return mpmath.fsum(mu[i] * mu[j] * fns.pair(x[i] - x[j], P[i, j], P[j, i]) for i in range(K) for j in range(K))


def ift_matrices(P, mu: Sequence, x: Sequence, fns: LossFunctions) -> tuple[mpmath.matrix, mpmath.matrix]:
    """``A = dG/dx`` and ``B = dG/dmu``, ``B_km = g(x_k - x_m; P_km)``."""
    K = len(mu)
    A = stationarity_jacobian(P, mu, x, fns)
    B = mpmath.matrix(K, K)
    for k in range(K):
        for m in range(K):
            if m != k:
                B[k, m] = fns.g(x[k] - x[m], P[k, m], P[m, k])
    return A, B


def ift_sensitivity(P, mu: Sequence, x: Sequence, fns: LossFunctions) -> mpmath.matrix:
    """``X = dx*/dmu`` (``K x K``, centred columns) by the implicit function theorem.

    Solves ``[[A, 1], [1^T, 0]] [X; t] = [-B; 0]``; the bordered matrix is nonsingular because
    ``ker A = span(1)``, ``range(A) = mu^perp`` and ``mu^T 1 != 0``. This is the derivative of the
    solution of ``G(x; mu) = 0``, which is homogeneous of degree 0 in ``mu`` (``X mu = 0``).
    """
    K = len(mu)
    A, B = ift_matrices(P, mu, x, fns)
    M = mpmath.matrix(K + 1, K + 1)
    for k in range(K):
        for l in range(K):
            M[k, l] = A[k, l]
        M[k, K] = 1
        M[K, k] = 1
    X = mpmath.matrix(K, K)
    try:
        for l in range(K):
            col = mpmath.lu_solve(M, mpmath.matrix([-B[k, l] for k in range(K)] + [0]))
            for k in range(K):
                X[k, l] = col[k]
    except ZeroDivisionError:
        raise OptimumFailure(
            "the implicit-function system is numerically singular (the loss is flat at the optimum); try a larger dps"
        ) from None
    return X


def steepest_sampler_move(B: Sequence[Sequence], mu: Sequence[Fraction]) -> tuple[Any, tuple[int, int], list[Fraction]]:
    """The sampler move that shifts ``G`` most: the pair ``(i, j)``, ``i != j``, maximising
    ``max_k |B[k][i] - B[k][j]|`` (the first such pair in row order), that maximum, and the sampler
    ``mu + (e_i - e_j)/(2K)`` (exact). ``B`` is ``dG/dmu`` (:func:`ift_matrices`) or any matrix with the
    same column differences up to sign; evaluated at the current precision."""
    K = len(mu)
    best, pair = mpmath.mpf(-1), (0, 1)
    for i in range(K):
        for j in range(K):
            if i != j:
                v = max(abs(B[k][i] - B[k][j]) for k in range(K))
                if v > best:
                    best, pair = v, (i, j)
    i, j = pair
    eps = Fraction(1, 2 * K)
    mu2 = list(mu)
    mu2[i] += eps
    mu2[j] -= eps
    return best, pair, mu2


def _quadratic(fns: LossFunctions):
    c2, c1, _ = fns.quadratic
    return mpf(c2), mpf(c1)


def sensitivity_x(P, mu: Sequence, x: Sequence, fns: LossFunctions) -> mpmath.matrix:
    """``X = dx*/dmu`` for the map ``mu -> x*(mu)`` that :func:`solve` computes.

    On tangent vectors ``v`` (``1^T v = 0``) ``X v`` is the derivative of the optimum. Off the
    simplex: for a quadratic ``f`` the extension is linear, ``X = -(c1/(2 c2)) C (P - P^T)`` (the
    IPO formula ``2 C P`` at ``f = (1-x)^2``); otherwise ``x*`` is homogeneous of degree 0 in
    ``mu`` and ``X`` comes from :func:`ift_sensitivity`.
    """
    if fns.quadratic is None:
        return ift_sensitivity(P, mu, x, fns)
    K = len(mu)
    c2, c1 = _quadratic(fns)
    D = mpmath.matrix(K, K)
    for k in range(K):
        for m in range(K):
            D[k, m] = P[k, m] - P[m, k]
    X = mpmath.matrix(K, K)
    for m in range(K):
        mean = mpmath.fsum(D[k, m] for k in range(K)) / K
        for k in range(K):
            X[k, m] = -c1 / (2 * c2) * (D[k, m] - mean)
    return X


def link(p, q, fns: LossFunctions, *, iterations: int = 100):
    """``phi(p)``: the zero of ``x -> p f'(x) - q f'(-x)`` (``q = 1 - p``), or None if there is none in ``|x| <= 2^12``.

    ``g`` is non-decreasing in ``x`` (``f`` convex): a doubling bracket, then Newton steps kept
    inside the bracket (bisection when a step leaves it). Used for starting points only
    (about 20 digits, computed at 25).
    """
    if p == q:
        return mpmath.mpf(0)
    if p == 0 or q == 0:
        return None
    with workdps(min(mpmath.mp.dps, 25)):
        p, q = +p, +q
        sign = 1 if p > q else -1  # g(0) = (p - q) f'(0) < 0 when p > q: the zero is on the right
        lo, hi = mpmath.mpf(0), mpmath.mpf(sign)
        while sign * fns.g(hi, p, q) < 0:
            lo, hi = hi, 2 * hi
            if abs(hi) > 2**12:
                return None
        x = (lo + hi) / 2
        eps = mpmath.mpf(10) ** -20
        for _ in range(iterations):
            gx = fns.g(x, p, q)
            if gx == 0:
                break
            if sign * gx < 0:
                lo = x
            else:
                hi = x
            d = fns.gprime(x, p, q)
            nx = x - gx / d if d > 0 else None
            if nx is None or not (min(lo, hi) < nx < max(lo, hi)):
                nx = (lo + hi) / 2
            if abs(nx - x) <= eps * max(1, abs(x)):
                x = nx
                break
            x = nx
    return +x


def data_start(P, fns: LossFunctions, mu: Sequence | None = None) -> list:
    """A start from the data: every pair term replaced by its quadratic model at its own minimiser ``phi(P_ij)``.

    Minimises ``sum_{i<j} w_ij (x_i - x_j - phi(P_ij))^2`` with ``w_ij = mu_i mu_j g'(phi(P_ij); P_ij)``
    (the pair's curvature there; ``mu = 1`` when not given) over centred ``x``: exact for a quadratic
    ``f`` and whenever ``phi(P_ij) = u_i - u_j`` (LOSS-2, e.g. DPO with Bradley-Terry ``P``). Pairs
    without a finite link (``P_ij`` in ``{0, 1}``) are left out.
    """
    K = P.rows
    mu = [mpmath.mpf(1)] * K if mu is None else mu
    W = mpmath.matrix(K, K)
    rhs = [mpmath.mpf(0)] * K
    for i in range(K):
        for j in range(i + 1, K):
            v = link(P[i, j], P[j, i], fns)
            if v is None:
                continue
            w = mu[i] * mu[j] * fns.gprime(v, P[i, j], P[j, i])
            W[i, j] = W[j, i] = -w
            W[i, i] += w
            W[j, j] += w
            rhs[i] += w * v
            rhs[j] -= w * v
    scale = max([abs(W[i, i]) for i in range(K)] + [mpmath.mpf(0)])
    if scale == 0:
        return [mpmath.mpf(0)] * K
    for i in range(K):  # a tiny ridge pins pairs of components that no finite link connects
        W[i, i] += scale * mpmath.mpf(10) ** (-(mpmath.mp.dps // 2))
    try:
        x = mpmath.lu_solve(W, mpmath.matrix(rhs))
    except ZeroDivisionError:
        return [mpmath.mpf(0)] * K
    c = mpmath.fsum(x) / K
    return [x[i] - c for i in range(K)]


def _solve_quadratic(P, mu: Sequence, fns: LossFunctions) -> list:
    K = len(mu)
    c2, c1 = _quadratic(fns)
    rows = P.tolist()
    d = [mpmath.fsum(mu[j] * (rows[k][j] - rows[j][k]) for j in range(K)) for k in range(K)]
    m = mpmath.fsum(d) / K
    return [-c1 / (2 * c2) * (v - m) for v in d]


def solve(
    P, mu: Sequence, fns: LossFunctions, x0: Sequence | None = None, *, tol=None, maxiter: int = 200, max_step: float = 16
) -> tuple[list, dict]:
    """Solve ``G(x; mu) = 0`` at the current precision; return centred ``x`` and info (see the module docstring).

    Parameters
    ----------
    P : mpmath.matrix (both triangles are used as given)
    mu : positive mpf (need not sum to 1: ``G`` is homogeneous in ``mu``)
    fns : the loss's :class:`~verify.numerics.bridge.LossFunctions`
    x0 : optional start (default: the data's link, after a 30-digit solve above 40 digits)
    tol : residual tolerance ``max_k |G_k|`` (default ``10**-(dps - GUARD/2)``); the Newton step must
        also be below ``10**-(dps - GUARD/2)``
    max_step : the largest Newton step (max-norm) taken; longer ones are shortened to it

    Raises
    ------
    OptimumFailure
        When the iteration does not converge (with what to try).
    """
    K = len(mu)
    if fns.quadratic is not None:
        return _solve_quadratic(P, mu, fns), {"iterations": 0, "residual": mpmath.mpf(0), "method": "closed form (quadratic f)"}
    dps = mpmath.mp.dps
    tol = mpmath.mpf(10) ** (-(dps - GUARD // 2)) if tol is None else mpmath.mpf(tol)
    xtol = mpmath.mpf(10) ** (-(dps - GUARD // 2))
    if x0 is None:
        x = None
        if dps > 40:
            try:
                with workdps(30):
                    lowP = mpmath.matrix(P)
                    x, _ = solve(lowP, [+m for m in mu], fns)
            except OptimumFailure:
                x = None
        if x is None:
            x = data_start(P, fns, mu)
            if loss_x(P, mu, [mpmath.mpf(0)] * K, fns) < loss_x(P, mu, x, fns):
                x = [mpmath.mpf(0)] * K
        else:
            x = [mpmath.mpf(v) for v in x]
    else:
        x = [mpmath.mpf(v) for v in x0]
    p = max(range(K), key=lambda k: mu[k])
    x = [v - x[p] for v in x]
    free = [k for k in range(K) if k != p]
    L = loss_x(P, mu, x, fns)
    res = None
    it = 0
    for it in range(1, maxiter + 1):
        G = stationarity(P, mu, x, fns)
        res = max(abs(g) for g in G)
        A = stationarity_jacobian(P, mu, x, fns)
        Ar = mpmath.matrix([[A[k, l] for l in free] for k in free])
        try:
            dz = mpmath.lu_solve(Ar, mpmath.matrix([-G[k] for k in free]))
        except ZeroDivisionError:
            raise OptimumFailure(
                f"Newton: the Jacobian of the stationarity conditions is numerically singular at iteration {it} "
                f"(max |x| = {mpmath.nstr(max(abs(v) for v in x), 5)}); the loss may be flat there; try a larger dps"
            ) from None
        dx = [mpmath.mpf(0)] * K
        for n, k in enumerate(free):
            dx[k] = dz[n]
        size = max(abs(v) for v in dx)
        if res <= tol and size <= xtol:
            break
        if size > max_step:  # a trust region: far from the root, on nearly linear tails, Newton steps explode
            dx = [v * max_step / size for v in dx]
        slope = mpmath.fsum(2 * mu[k] * G[k] * dx[k] for k in range(K))  # grad L = 2 diag(mu) G (b = 1)
        t = mpmath.mpf(1)
        noise = mpmath.mpf(10) ** (-(dps - 5)) * max(1, abs(L))
        xt = None
        if -slope > noise:
            while t >= mpmath.mpf(2) ** -40:
                cand = [x[k] + t * dx[k] for k in range(K)]
                Lt = loss_x(P, mu, cand, fns)
                if Lt <= L + t * slope / 4:
                    xt = cand
                    break
                t /= 2
        if xt is None:
            # below the rounding level of L (or no Armijo step): the longest step 1, 1/2, ... that reduces max |G|
            t = mpmath.mpf(1)
            while t >= mpmath.mpf(2) ** -40:
                cand = [x[k] + t * dx[k] for k in range(K)]
                if max(abs(g) for g in stationarity(P, mu, cand, fns)) < res:
                    xt = cand
                    break
                t /= 2
            if xt is None:
                raise OptimumFailure(
                    f"Newton stalled: max |G_k| = {mpmath.nstr(res, 5)} > {mpmath.nstr(tol, 3)} and no step decreases the loss "
                    "or the residual; try a larger dps (entries of P near 0 or 1 make the problem ill-conditioned)"
                )
            Lt = loss_x(P, mu, xt, fns)
        x, L = xt, Lt
    else:
        raise OptimumFailure(
            f"stationarity not reached after {maxiter} damped Newton iterations: max |G_k| = {mpmath.nstr(res, 5)} "
            f"(tolerance {mpmath.nstr(tol, 3)}), or the Newton step is still above {mpmath.nstr(xtol, 3)}; try a larger dps "
            "(a bounded optimum need not exist when some P[i,j] is 0 or 1)"
        )
    c = mpmath.fsum(x) / K
    return [v - c for v in x], {"iterations": it, "residual": res, "tolerance": tol, "method": "damped Newton"}


# ----------------------------------------------------------------------------- existence and uniqueness


def escaping_set(P: PreferenceMatrix) -> list[int] | None:
    """A set ``U`` that beats its complement with certainty (``P[i,j] = 1``, ``i in U``, ``j not in U``), or None.

    Exact test: draw an edge ``j -> i`` when a receding direction must have ``d_i >= d_j``: both ways for
    ``P[i,j]`` in ``(0, 1)``, one way for ``P[i,j] = 1``. No such ``U`` exists iff this digraph is
    strongly connected; otherwise the set reachable from some vertex is one.
    """
    K = P.K
    out: list[set[int]] = [set() for _ in range(K)]
    for i in range(K):
        for j in range(K):
            if i == j:
                continue
            if 0 < P[i, j] < 1:
                out[j].add(i)
                out[i].add(j)
            elif P[i, j] == 1:
                out[j].add(i)
    for v in range(K):
        seen, stack = {v}, [v]
        while stack:
            for w in out[stack.pop()]:
                if w not in seen:
                    seen.add(w)
                    stack.append(w)
        if len(seen) < K:
            return sorted(seen)
    return None


def existence_obstruction(P: PreferenceMatrix, mu: Sequence[Fraction], fns: LossFunctions) -> list[int] | None:
    """A proper set ``U`` along whose indicator the loss does not increase (no bounded optimum), or None.

    LOSS-1 by the recession criterion (module docstring), exact: ``a = f'(+oo)``, ``c = -f'(-oo)``.
    ``a > 0``: None. ``a = 0`` or ``c = oo``: :func:`escaping_set`. ``a < 0`` and ``c`` finite:
    every ``U`` is tried (``2^K - 2`` sets). Unknown slopes: :func:`escaping_set` (exact when
    ``a = 0``; the solver reports a failure otherwise).
    """
    a, c = fns.slope_right, fns.slope_left
    c = None if c is None else -c
    if a is not None and (a is sympy.oo or a > 0):
        return None
    if a is None or a == 0 or c is sympy.oo:
        return escaping_set(P)
    K = P.K

    def rat(v: Fraction) -> sympy.Rational:
        return sympy.Rational(v.numerator, v.denominator)

    for bits in range(1, 2**K - 1):
        U = [k for k in range(K) if bits >> k & 1]
        R = sum(rat(mu[i]) * rat(mu[j]) * (rat(P[i, j]) * a + rat(P[j, i]) * c) for i in U for j in range(K) if j not in U)
        if bool(sympy.sympify(R) <= 0):
            return U
    return None


def check_unique(P, mu: Sequence, x: Sequence, fns: LossFunctions) -> list[list[int]] | None:
    """The connected components of the graph of pairs where the loss is strictly convex at ``x``, if several.

    An edge ``k - j`` when ``mu_k mu_j min(g'(x_kj - d), g'(x_kj + d)) > 0`` (``d = 10^-(dps/2)``, both
    sides of a kink). One component: the loss is strictly convex near ``x``, so ``x`` is the unique
    minimiser up to a constant. Returns None then, else the components.
    """
    K = len(mu)
    d = mpmath.mpf(10) ** (-(mpmath.mp.dps // 2))
    floor = mpmath.mpf(10) ** (-(mpmath.mp.dps - 5))
    adj: list[set[int]] = [set() for _ in range(K)]
    for k in range(K):
        for j in range(k + 1, K):
            z = x[k] - x[j]
            w = min(fns.gprime(z - d, P[k, j], P[j, k]), fns.gprime(z + d, P[k, j], P[j, k]), fns.gprime(z, P[k, j], P[j, k]))
            if mu[k] * mu[j] * w > floor:
                adj[k].add(j)
                adj[j].add(k)
    comps, seen = [], set()
    for v in range(K):
        if v in seen:
            continue
        comp, stack = {v}, [v]
        while stack:
            for w in adj[stack.pop()]:
                if w not in comp:
                    comp.add(w)
                    stack.append(w)
        seen |= comp
        comps.append(sorted(comp))
    return comps if len(comps) > 1 else None


# ----------------------------------------------------------------------------- a symmetric positive definite solve


def _fixed(v, shift: int) -> int:
    """``round(v * 2^shift)`` for a finite mpf ``v``, exactly from its mantissa and exponent."""
    man, exp = v.man_exp
    if v < 0:
        man = -man
    k = exp + shift
    if k >= 0:
        return man << k
    return (man + (1 << (-k - 1))) >> -k


def _div(a: int, b: int) -> int:
    """``round(a / b)`` for integers, ``b > 0``."""
    return (2 * a + b) // (2 * b)


def spd_solve(H: Sequence[Sequence], rhs: Sequence, *, progress: Callable[[int, int, str], None] | None = None) -> list:
    """Solve ``H z = rhs`` for a symmetric positive definite ``H`` by Cholesky, at the current precision.

    ``H`` is a list of rows of mpf (only the lower triangle is read), ``rhs`` a list of mpf.
    The matrix is scaled by powers of two, ``D H D`` with ``D_ii = 2^-t_i`` chosen so the diagonal
    lies in ``[1/2, 2)`` (exact; every entry is then at most 2 in absolute value), and factored
    ``C C^T`` in integer fixed-point arithmetic with ``B = mp.prec + 2 bitlength(n) + 16`` fraction
    bits: each entry of ``C`` is one rounding of an exact dot product, so the factor is at least as
    accurate as a floating-point Cholesky at the working precision, in ``n^3/6`` integer
    multiplications instead of as many mpf operations. Positive definiteness is checked as a
    floating-point Cholesky checks it: every pivot must be positive. ``progress``, if given, is
    called as ``progress(done, total, "Cholesky")`` at every tenth of the work.

    Raises
    ------
    ValueError
        When a pivot is not positive (``H`` is not numerically positive definite) or an entry is
        not finite.

    >>> with workdps(30):
    ...     z = spd_solve([[mpf(4), mpf(2)], [mpf(2), mpf(3)]], [mpf(1), mpf(2)])
    ...     print([mpmath.nstr(v, 20) for v in z])      # exact: (-1/8, 3/4)
    ['-0.125', '0.75']
    >>> spd_solve([[mpf(1), mpf(2)], [mpf(2), mpf(1)]], [mpf(1), mpf(1)])
    Traceback (most recent call last):
    ...
    ValueError: the matrix is not numerically positive definite (pivot 1 is -3.0)
    """
    n = len(rhs)
    if n == 0:
        return []
    for row in H:
        if not all(mpmath.isfinite(v) for v in row):
            raise ValueError("the matrix has an entry that is not finite")
    if not all(mpmath.isfinite(v) for v in rhs):
        raise ValueError("the right-hand side has an entry that is not finite")
    B = mpmath.mp.prec + 2 * n.bit_length() + 16
    t = []
    for i in range(n):
        d = mpmath.mpmathify(H[i][i])
        if not d > 0:
            raise ValueError(f"the matrix is not numerically positive definite (pivot {i} is {mpmath.nstr(d, 5)})")
        t.append(mpmath.frexp(d)[1] // 2)  # d = m 2^e, m in [1/2, 1): d 2^(-2 (e // 2)) in [1/2, 2)
    A = [[_fixed(mpmath.mpmathify(H[i][j]), B - t[i] - t[j]) for j in range(i + 1)] for i in range(n)]
    b = [mpmath.mpmathify(v) * mpmath.ldexp(1, -t[i]) for i, v in enumerate(rhs)]
    big = max(abs(v) for v in b)
    if big == 0:
        return [mpmath.mpf(0)] * n
    tb = mpmath.frexp(big)[1]  # |b_i| 2^-tb <= 1
    bi = [_fixed(v, B - tb) for v in b]
    C: list[list[int]] = []
    mul = operator.mul
    work = n * (n + 1) * (2 * n + 1) // 6  # sum of i^2: the multiplications, up to a factor 1/2
    tenth = 0
    for i in range(n):
        Ci: list[int] = []
        Ai = A[i]
        for j in range(i):
            Cj = C[j]
            Ci.append(_div((Ai[j] << B) - sum(map(mul, Ci, Cj)), Cj[j]))
        piv = (Ai[i] << B) - sum(map(mul, Ci, Ci))
        if piv <= 0:
            value = mpmath.ldexp(piv, -2 * B + 2 * t[i])
            raise ValueError(f"the matrix is not numerically positive definite (pivot {i} is {mpmath.nstr(value, 5)})")
        Ci.append(math.isqrt(piv))
        C.append(Ci)
        done = (i + 1) * (i + 2) * (2 * i + 3) // 6
        if progress is not None and 10 * done // work > tenth:
            tenth = 10 * done // work
            progress(done, work, "Cholesky")
    y: list[int] = []
    for i in range(n):
        Ci = C[i]
        y.append(_div((bi[i] << B) - sum(map(mul, Ci, y)), Ci[i]))
    z = [0] * n
    for i in range(n - 1, -1, -1):
        acc = y[i] << B
        for k in range(i + 1, n):
            acc -= C[k][i] * z[k]
        z[i] = _div(acc, C[i][i])
    return [mpmath.mpf((z[i], tb - B - t[i])) for i in range(n)]


# ----------------------------------------------------------------------------- policies


def logsumexp(z: Sequence) -> mpmath.mpf:
    """``log sum exp z`` without overflow (current precision)."""
    m = max(z)
    return m + mpmath.log(mpmath.fsum(mpmath.exp(v - m) for v in z))


def policy(pi_ref: Sequence, r: Sequence) -> list:
    """``pi ∝ pi_ref exp(r)``, normalised in log space (exact or mpf ``pi_ref``)."""
    z = [mpmath.log(mpf(pi_ref[k])) + r[k] for k in range(len(r))]
    c = logsumexp(z)
    return [mpmath.exp(v - c) for v in z]


# ----------------------------------------------------------------------------- validated entry points


def _prepare(P: Any, mu: Any, loss: Any, pi_ref: Any = None):
    """Validate; raise :class:`NonUniqueOptimum` / :class:`NoOptimum` for the cases decided exactly."""
    lo = as_loss(loss)
    Pm, m, ref = one_shot_data(P, mu, pi_ref)
    zero = [k for k, v in enumerate(m) if v == 0]
    if zero:
        zs = ", ".join(f"mu[{k}] = 0" for k in zero)
        raise NonUniqueOptimum(
            f"the optimum is not unique: {zs}, so r_k = log(pi_k/pi_ref_k) for k in {zero} does not enter "
            "the loss and any value is optimal; give an interior mu"
        )
    fns = bridge.loss_functions(lo)
    if fns.piecewise_linear:
        raise NonUniqueOptimum(
            f"the loss {lo.name} (f = {sympy.sstr(lo.f)}) is piecewise linear, so its optimum is a set (a polyhedron "
            "of margins), not a point; the batched solver verify.numerics.batch (solve_batch, make_step) enumerates "
            "its vertices with a stated selection rule"
        )
    U = existence_obstruction(Pm, m, fns)
    if U is not None:
        rest = [k for k in range(Pm.K) if k not in U]
        if all(Pm[i, j] == 1 for i in U for j in rest):
            why = f"responses {U} beat {rest} with probability 1 (P[i,j] = 1 for i in {U}, j in {rest}), so "
        else:
            why = f"f'(+oo) = {fns.slope_right} < 0 and "
        raise NoOptimum(
            f"no bounded {lo.name} optimum: {why}the loss does not increase as r_i - r_j -> infinity for i in {U}, "
            f"j in {rest} (it keeps decreasing when f does; where f is constant on the right the optimal set is unbounded)",
            U,
            rest,
        )
    return lo, Pm, m, ref, fns


def _solve_checked(lo: PairLoss, Pm: PreferenceMatrix, m, fns: LossFunctions, x0=None) -> list:
    Pmp = mp_matrix(Pm.entries)
    mm = mp_vector(m)
    x, _ = solve(Pmp, mm, fns, x0)
    if not lo.strictly_convex and fns.quadratic is None:
        comps = check_unique(Pmp, mm, x, fns)
        if comps is not None:
            raise NonUniqueOptimum(
                f"the {lo.name} loss is not strictly convex at the solution found: the groups {comps} can be shifted "
                "against each other without changing the loss to first and second order, so the optimum is (locally) a set"
            )
    return x


def optimum_x(P: Any, mu: Any, loss: Any, *, dps: int = 50, x0: Sequence | None = None) -> list:
    """The centred optimum ``x* = b r*`` (``sum x* = 0``) of a loss at an interior ``mu``, to ``dps`` digits.

    Parameters
    ----------
    P : preference matrix (anything :func:`verify.load_preference_matrix` accepts)
    mu : interior point of the simplex (the sampler)
    loss : :class:`~theory.losses.PairLoss`, built-in name or alias, or an expression in ``x``
    dps : decimal digits (computed with ``GUARD`` extra digits)
    x0 : optional Newton start

    Raises
    ------
    NonUniqueOptimum
        Some ``mu_k = 0``; a piecewise linear loss (hinge); a loss not strictly convex at the solution.
    NoOptimum
        No bounded optimum (the escaping set is named).
    OptimumFailure
        Newton did not converge (a :class:`~verify.exact.objects.NumericalFailure`).
    InputError
        Invalid input.
    """
    lo, Pm, m, _, fns = _prepare(P, mu, loss)
    with workdps(int(dps) + GUARD):
        return _solve_checked(lo, Pm, m, fns, x0)


def optimum(P: Any, mu: Any, loss: Any, pi_ref: Any = None, dps: int = 50) -> list:
    """The one-shot optimum ``pi* ∝ pi_ref exp(x*/b)`` of a loss (see :func:`optimum_x`).

    >>> pi = optimum([["1/2", "9/10"], ["1/10", "1/2"]], ["1/2", "1/2"], "exp(-x)", dps=20)   # phi = logit/2
    >>> mpmath.nstr(pi[0] / pi[1], 15)
    '3.0'
    """
    lo, Pm, m, ref, fns = _prepare(P, mu, loss, pi_ref)
    with workdps(int(dps) + GUARD):
        x = _solve_checked(lo, Pm, m, fns)
        b = b_mp(lo)
        return policy(ref, [v / b for v in x])


def _digits_of(x: Fraction) -> int:
    """``ceil(log10(x))`` for ``x >= 1``, else 0."""
    if x <= 1:
        return 0
    return len(str(x.numerator // x.denominator)) or 1


def minimiser_extra_digits(P: PreferenceMatrix, mu: Sequence[Fraction], b: Fraction, quadratic: bool = False) -> int:
    """Digits :func:`minimise` adds for conditioning.

    The Hessian in ``x`` has eigenvalues down to about ``min(mu)^2 min P(1-P)`` (entries in
    ``(0, 1)``; 1 for a quadratic ``f``), so ``x`` is determined to (gradient error)/(that), and
    ``r = x/b`` loses ``log10(1/b)`` more: ``2 log10(1/min mu) + log10(1/min P(1-P)) +
    2 log10(max(1, 1/b)) + 5`` (quadratic: ``2 log10(1/min mu) + log10(max(1, 1/b)) + 5``).
    """
    inv_b = 1 / b
    if quadratic:
        return 2 * _digits_of(1 / min(mu)) + _digits_of(inv_b) + 5
    inner = [P[i, j] * (1 - P[i, j]) for i in range(P.K) for j in range(i + 1, P.K) if 0 < P[i, j] < 1]
    pq = min(inner) if inner else Fraction(1, 4)
    return 2 * _digits_of(1 / min(mu)) + _digits_of(1 / pq) + 2 * _digits_of(inv_b) + 5


def _exact_b(lo: PairLoss) -> Fraction:
    """``b`` as a Fraction (exact when rational, else to 30 digits: it only sizes the working precision)."""
    b = sympy.sympify(lo.b)
    if b.is_Rational:
        return Fraction(int(b.p), int(b.q))
    with workdps(30):
        return Fraction(mpmath.nstr(evalf_mp(b, dps=30), 30))


def _pair_start(p, q, f, bound=2**12):
    """The minimiser of ``p f(x) + q f(-x)`` by golden-section search on values (a start; None if unbounded)."""
    if p == q:
        return mpmath.mpf(0)
    if p == 0 or q == 0:
        return None
    phi = lambda v: p * f(v) + q * f(-v)  # noqa: E731
    sign = 1 if p > q else -1
    a, c = mpmath.mpf(0), mpmath.mpf(sign)
    fa, fc = phi(a), phi(c)
    while fc < fa:
        a, fa = c, fc
        c = 2 * c
        if abs(c) > bound:
            return None
        fc = phi(c)
    lo, hi = (a / 2, c) if sign > 0 else (c, a / 2)
    gr = (mpmath.sqrt(5) - 1) / 2
    x1, x2 = hi - gr * (hi - lo), lo + gr * (hi - lo)
    f1, f2 = phi(x1), phi(x2)
    for _ in range(90):
        if f1 <= f2:
            hi, x2, f2 = x2, x1, f1
            x1 = hi - gr * (hi - lo)
            f1 = phi(x1)
        else:
            lo, x1, f1 = x1, x2, f2
            x2 = lo + gr * (hi - lo)
            f2 = phi(x2)
    return (lo + hi) / 2


def minimise(
    P: Any,
    mu: Any,
    loss: Any,
    pi_ref: Any = None,
    dps: int = 30,
    max_iter: int | None = None,
    *,
    progress: Callable[[int, int, str], None] | None = None,
) -> list:
    """Minimise a loss directly from its values (no ``f'``, no ``f''``, no :func:`solve`): the independent check.

    Method. In ``x = b r``, with ``x_p = 0`` pinned at ``p = argmax mu``, the loss (:func:`loss_x` written
    out again from ``f`` alone) is evaluated at ``W' = 3W/2 + 10`` digits, ``W = dps + GUARD +``
    :func:`minimiser_extra_digits`. *Quadratic f:* central and second differences with step 1 are exact,
    one Newton step from 0 (Cholesky, which also certifies positive definiteness). *Otherwise:* Newton
    with finite-difference gradient (step ``10^-(W/2)``) and Hessian (step ``10^-(W/4)``) and an Armijo
    line search on the loss and steps of at most 16, from ``x_i = (1/K) sum_j argmin_t (P_ij f(t) + P_ji f(-t))``
    (golden-section search on values) or from 0 when the loss is lower there. Stops when a full step moves ``x`` by less than ``10^-(dps + 10)``; a fresh Newton
    step at the result must again be below that bound.

    The differences are those of the whole loss, taken term by term: moving ``x_k`` changes only the
    pair terms of ``k``, and moving ``x_k`` and ``x_l`` together leaves only the pair ``{k, l}`` in the
    mixed difference (the other terms cancel exactly), so the gradient and Hessian cost ``O(K^2)``
    values of ``f`` instead of ``O(K^4)``, with less cancellation. The Newton system is solved by
    :func:`spd_solve` (Cholesky in fixed point at the working precision, ``O(K^3)``). ``progress``, if
    given, is called as ``progress(done, total, what)`` at every tenth of the pairs (``what`` starts
    with ``"Hessian"``) and of the factorisation (``"Cholesky"``), for every Newton step (named in
    ``what`` for a loss that is not quadratic).

    Returns the policy ``pi ∝ pi_ref exp(x/b)`` (values computed at ``dps + GUARD``).

    Raises
    ------
    NonUniqueOptimum, NoOptimum
        As :func:`optimum_x` (decided exactly before any arithmetic).
    OptimumFailure
        When the iteration does not converge, or the Hessian is not numerically positive definite.
    """
    lo, Pm, m, ref, fns = _prepare(P, mu, loss, pi_ref)
    f = fns.f
    K = Pm.K
    quad = fns.quadratic is not None
    bex = _exact_b(lo)
    W = int(dps) + GUARD + minimiser_extra_digits(Pm, m, bex, quadratic=quad)
    W2 = W + W // 2 + 10
    if max_iter is None and not quad:
        inner = [v * (1 - v) for row in Pm.entries for v in row if 0 < v < 1]
        max_iter = 500 + 3 * _digits_of(1 / min(inner)) if inner else 500
    with workdps(W2):
        Prow = [mp_vector(row) for row in Pm.entries]
        mm = mp_vector(m)
        p = max(range(K), key=lambda k: m[k])
        free = [k for k in range(K) if k != p]
        n = len(free)

        def L(x):
            return mpmath.fsum(mm[i] * mm[j] * (Prow[i][j] * f(x[i] - x[j]) + Prow[j][i] * f(x[j] - x[i])) for i in range(K) for j in range(K))

        def moved(x, steps):
            s = list(x)
            for k, d in steps:
                s[k] += d
            return s

        def differences(d, h1, h2):
            """The differences of ``f`` at ``d`` and at ``-d`` that the pair terms need (see ``grad_hess``)."""
            fp = {t: f(d + t) for t in (0, h1, -h1, h2, -h2, 2 * h2, -2 * h2)}
            fm = {t: f(-d - t) for t in fp}
            return (
                fp[h1] - fp[-h1], fm[h1] - fm[-h1],  # first differences
                fp[h2] - 2 * fp[0] + fp[-h2], fm[h2] - 2 * fm[0] + fm[-h2],  # second differences
                2 * fp[0] - fp[2 * h2] - fp[-2 * h2], 2 * fm[0] - fm[2 * h2] - fm[-2 * h2],  # mixed (four-point)
            )

        def grad_hess(x, h1, h2, progress):
            """Central differences of the loss (step h1) and second differences (step h2), term by term.

            ``T_kj(d) = mu_k mu_j (P_kj f(d) + P_jk f(-d))`` is the term of the ordered pair ``(k, j)`` at
            ``d = x_k - x_j`` (the pair ``(j, k)`` has the same value), so ``L(x + h e_k) - L(x - h e_k) =
            2 sum_j (T_kj(d + h) - T_kj(d - h))``, the second difference is ``2 sum_j (T_kj(d + h) - 2 T_kj(d)
            + T_kj(d - h))``, and the four-point mixed difference in ``(k, l)`` is ``2 (2 T_kl(d) -
            T_kl(d + 2h) - T_kl(d - 2h))``. The differences of ``f`` are kept per value of ``d`` (from
            ``x = 0`` every pair has ``d = 0``).
            """
            g = [[] for _ in range(K)]
            diag = [[] for _ in range(K)]
            H = [[None] * n for _ in range(n)]
            pos = {k: a for a, k in enumerate(free)}
            seen: dict = {}
            pairs, tenth = K * (K - 1) // 2, 0
            mixed_scale = 1 / (2 * h2**2)
            for k in range(K):
                Pk, xk, wk = Prow[k], x[k], mm[k]
                a = pos.get(k)
                for j in range(k + 1, K):
                    d = xk - x[j]
                    dif = seen.get(d)
                    if dif is None:
                        dif = seen[d] = differences(d, h1, h2)
                    g1, g1m, s2, s2m, m4, m4m = dif
                    w = wk * mm[j]
                    u, v = w * Pk[j], w * Prow[j][k]
                    gd = u * g1 + v * g1m  # T_kj(d + h1) - T_kj(d - h1): the (k, j) term as x_k moves by +-h1
                    g[k].append(gd)
                    g[j].append(-gd)
                    sd = u * s2 + v * s2m  # the same for x_k and for x_j
                    diag[k].append(sd)
                    diag[j].append(sd)
                    c = pos.get(j)
                    if a is not None and c is not None:
                        H[c][a] = H[a][c] = (u * m4 + v * m4m) * mixed_scale
                done = pairs - (K - k - 1) * (K - k - 2) // 2
                if progress is not None and 10 * done // pairs > tenth:
                    tenth = 10 * done // pairs
                    progress(done, pairs, "Hessian")
            for a, k in enumerate(free):
                H[a][a] = 2 * mpmath.fsum(diag[k]) / h2**2
            return [mpmath.fsum(g[k]) / h1 for k in free], H

        def newton_step(x, h1, h2, it=None):
            report = progress
            if progress is not None and it is not None:
                report = lambda done, total, what: progress(done, total, f"{what}, Newton step {it + 1}")  # noqa: E731
            g, H = grad_hess(x, h1, h2, report)
            try:
                dz = spd_solve(H, [-v for v in g], progress=report)
            except ValueError:
                raise OptimumFailure(
                    f"direct minimisation: the finite-difference Hessian of the {lo.name} loss is not numerically positive "
                    f"definite at {mpmath.mp.dps} digits; try a larger dps"
                ) from None
            return g, dz

        step_tol = mpmath.mpf(10) ** (-(int(dps) + 10))
        if quad:
            x = [mpmath.mpf(0)] * K
            _, dz = newton_step(x, mpmath.mpf(1), mpmath.mpf(1))
            for a, k in enumerate(free):
                x[k] = dz[a]
        else:
            h1 = mpmath.mpf(10) ** (-(W // 2))
            h2 = mpmath.mpf(10) ** (-(W // 4))
            with workdps(30):
                starts = {}
                for i in range(K):
                    for j in range(i + 1, K):
                        v = _pair_start(Prow[i][j], Prow[j][i], f)
                        if v is not None:
                            starts[i, j], starts[j, i] = v, -v
            x = [mpmath.fsum(starts[i, j] for j in range(K) if (i, j) in starts) / K for i in range(K)]
            x = [v - x[p] for v in x]
            L0 = L(x)
            zero = [mpmath.mpf(0)] * K
            if L(zero) < L0:  # with entries near 0 or 1 the averaged pairwise minimisers can be far off
                x, L0 = zero, L(zero)
            noise = mpmath.mpf(10) ** (-(W2 - 5))
            size = None
            for it in range(max_iter):
                g, dz = newton_step(x, h1, h2, it)
                size = max(abs(v) for v in dz)
                if size > 16:  # a trust region on the nearly linear tails
                    dz = [v * 16 / size for v in dz]
                slope = mpmath.fsum(g[a] * dz[a] for a in range(n))
                t = mpmath.mpf(1)
                if -slope <= noise * max(1, abs(L0)):
                    x = moved(x, [(k, dz[a]) for a, k in enumerate(free)])
                else:
                    while True:
                        xt = moved(x, [(k, t * dz[a]) for a, k in enumerate(free)])
                        Lt = L(xt)
                        if Lt <= L0 + t * slope / 4:
                            break
                        t /= 2
                        if t < mpmath.mpf(2) ** -60:
                            raise OptimumFailure(f"direct minimisation: line search failed at iteration {it}; try a larger dps")
                    x = xt
                L0 = L(x)
                if t == 1 and size <= step_tol:
                    break
            else:
                raise OptimumFailure(
                    f"direct minimisation did not converge in {max_iter} Newton steps (last step {mpmath.nstr(size, 3)}); "
                    "try a larger dps"
                )
            _, dz = newton_step(x, h1, h2, it + 1)  # the check step at the result
            last = max(abs(v) for v in dz)
            if last > step_tol:
                raise OptimumFailure(
                    f"direct minimisation: the Newton step at the final point is {mpmath.nstr(last, 3)} > "
                    f"{mpmath.nstr(step_tol, 3)}; try a larger dps"
                )
        c = mpmath.fsum(x) / K
        b = b_mp(lo)
        pi = policy(ref, [(v - c) / b for v in x])
    with workdps(int(dps) + GUARD):
        return [+v for v in pi]


def sensitivity(P: Any, mu: Any, loss: Any, dps: int = 50) -> mpmath.matrix:
    """``X = dx*/dmu`` (``K x K``, centred columns, ``x = b r``) at an interior ``mu`` (see :func:`sensitivity_x`).

    >>> X = sensitivity([["1/2", "3/4"], ["1/4", "1/2"]], ["1/2", "1/2"], "dpo", dps=20)   # BT: x* does not move
    >>> max(abs(v) for v in X) < mpmath.mpf(10) ** -20
    True
    """
    lo, Pm, m, _, fns = _prepare(P, mu, loss)
    with workdps(int(dps) + GUARD):
        x = _solve_checked(lo, Pm, m, fns)
        return sensitivity_x(mp_matrix(Pm.entries), mp_vector(m), x, fns)


def population_loss(P: Any, mu: Any, r: Sequence, loss: Any) -> mpmath.mpf:
    r"""``L(r; mu) = sum_{i,j} mu_i mu_j [P_ij f(b (r_i - r_j)) + P_ji f(-b (r_i - r_j))]`` at the current precision.

    ``P`` and ``mu`` may be exact (validated) or mpmath (used as given); ``r`` a sequence of numbers.
    """
    lo = as_loss(loss)
    if isinstance(P, mpmath.matrix):
        Pmp, mm = P, [mpmath.mpmathify(v) for v in mu]
    else:
        Pm, m, _ = one_shot_data(P, mu, None)
        Pmp, mm = mp_matrix(Pm.entries), mp_vector(m)
    if len(r) != len(mm):
        raise InputError(f"r has {len(r)} entries, expected K = {len(mm)}")
    b = b_mp(lo)
    return loss_x(Pmp, mm, [b * mpmath.mpmathify(v) for v in r], bridge.loss_functions(lo))
