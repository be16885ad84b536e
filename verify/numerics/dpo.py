r"""The one-shot DPO optimum at any precision, a direct minimiser to check it, and ``dr/dmu``.

The population DPO loss (THEORY.md §0) depends on ``r = log(pi/pi_ref)`` only
through ``x = beta_dpo * r``, and its stationarity equations (DPO-1)

    G_k(x; mu) = sum_j mu_j (P[k,j] - sig(x_k - x_j)) = 0

do not contain ``beta_dpo`` (:mod:`theory.dpo`, step 3). So the solver works in
``x`` and returns ``r* = x*/beta_dpo``: no overflow for large ``beta_dpo``.

Solver (:func:`solve_scaled`): damped Newton on ``K - 1`` coordinates (``x_p = 0``
pinned at ``p = argmax mu``; the result is then centred, ``sum x = 0``), with an
Armijo backtracking line search on the loss. Guarantee: when every off-diagonal
``P[i,j]`` is in ``(0, 1)`` and ``mu`` is interior, the loss is strictly convex and
coercive on the pinned coordinates (theory.dpo, step 2), so damped Newton with
Armijo backtracking converges from any start and quadratically near the
minimiser. Otherwise (entries 0 or 1) a finite minimiser exists iff an exact
graph test passes (:func:`escaping_set`); if it fails the solver raises
:class:`DPOSolveError` with the certificate, and it never returns an unconverged point.

>>> from verify import dpo_optimum
>>> P = [["1/2", "3/4"], ["1/4", "1/2"]]                 # Bradley–Terry: logit(3/4) = log 3
>>> pi = dpo_optimum(P, ["1/3", "2/3"], beta_dpo=2, dps=30)
>>> with workdps(30):
...     print(mpmath.nstr(pi[0] / pi[1], 20))              # = exp(log(3)/2) = sqrt(3)
1.7320508075688772935
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

import mpmath

from verify.numerics.bridge import mp_matrix, mp_vector, mpf
from verify.exact.objects import NumericalFailure, PreferenceMatrix, one_shot_data, positive
from verify.numerics.precision import GUARD, workdps

__all__ = [
    "DPOSolveError",
    "DPONumericalFailure",
    "population_loss",
    "minimiser_extra_digits",
    "NonUniqueDPOOptimum",
    "DPOInstance",
    "dpo_instance",
    "stationarity",
    "scaled_loss",
    "solve_scaled",
    "solve_checked",
    "extreme_entries",
    "escaping_set",
    "dpo_log_ratio",
    "dpo_optimum",
    "dpo_minimise",
    "ift_matrices",
    "ift_sensitivity",
    "dpo_sensitivity",
]


class DPOSolveError(ArithmeticError, ValueError):
    """Newton did not reach the stationarity tolerance (no finite minimiser, or too few iterations)."""


class DPONumericalFailure(DPOSolveError, NumericalFailure):
    """A DPO solver failed on valid input (a finite minimiser exists): a numerical failure, not bad input."""


class NonUniqueDPOOptimum(ValueError):
    """Some ``mu_k = 0``: ``r_k`` does not enter the DPO loss, the optimum is not unique."""


@dataclass(frozen=True)
class DPOInstance:
    """Validated exact data of a one-shot DPO problem."""

    P: PreferenceMatrix
    mu: tuple[Fraction, ...]
    pi_ref: tuple[Fraction, ...]
    beta_dpo: Fraction

    @property
    def K(self) -> int:
        return self.P.K

    @property
    def repairs(self) -> tuple[str, ...]:
        """Exact repairs made to the input ``P``, ``mu``, ``pi_ref`` (see :mod:`verify.exact.objects`)."""
        return tuple(r for x in (self.P, self.mu, self.pi_ref) for r in getattr(x, "repairs", ()))

    def to_json(self) -> dict:
        return {"P": self.P.to_json(), "mu": list(self.mu), "pi_ref": list(self.pi_ref), "beta_dpo": self.beta_dpo}


def dpo_instance(P: Any, mu: Any, pi_ref: Any = None, beta_dpo: Any = 1) -> DPOInstance:
    """Validate ``P``, ``mu`` (simplex), ``pi_ref`` (interior, default uniform), ``beta_dpo > 0``."""
    Pm, m, ref = one_shot_data(P, mu, pi_ref)
    inst = DPOInstance(Pm, m, ref, positive(beta_dpo, "beta_dpo"))
    zero = [k for k, x in enumerate(m) if x == 0]
    if zero:
        zs = ", ".join(f"mu[{k}] = 0" for k in zero)
        raise NonUniqueDPOOptimum(
            f"the DPO optimum is not unique: {zs}, so r_k = log(pi_k/pi_ref_k) for k in {zero} does not enter "
            f"the loss and any value is optimal; give an interior mu"
        )
    return inst


def _sig(z):
    return 1 / (1 + mpmath.exp(-z))


def stationarity(P, mu: Sequence, x: Sequence) -> list:
    """``G_k = sum_j mu_j (P[k,j] - sig(x_k - x_j))`` at the current precision (``P`` an mpmath matrix).

    For ``x_k > x_j`` each term is evaluated as ``sig(x_j - x_k) - P[j,k]``, the same number when
    ``P[k,j] + P[j,k] = 1``, without the cancellation of ``1 - sig`` near 1 (entries near 0 or 1).
    """
    K = len(mu)

    def term(k, j):
        z = x[k] - x[j]
        return P[k, j] - _sig(z) if z <= 0 else _sig(-z) - P[j, k]

    return [mpmath.fsum(mu[j] * term(k, j) for j in range(K) if j != k) for k in range(K)]


def scaled_loss(P, mu: Sequence, x: Sequence):
    """``L_DPO`` at ``beta_dpo = 1`` in ``x`` (``L(r) = scaled_loss(beta_dpo r)``), from its definition."""
    K = len(mu)
    total = []
    for i in range(K):
        for j in range(K):
            if i == j:
                continue
            z = x[i] - x[j]
            # -log sig(z) = log1p(exp(-z)); -log sig(-z) = log1p(exp(z))
            total.append(mu[i] * mu[j] * (P[i, j] * mpmath.log1p(mpmath.exp(-z)) + P[j, i] * mpmath.log1p(mpmath.exp(z))))
    return mpmath.fsum(total)


def _merit(P, mu: Sequence, x: Sequence):
    """The line-search merit of :func:`solve_scaled`: ``scaled_loss`` written through ``_sig``.

    Its gradient is ``-2 diag(mu) G`` with the same sigmoid as :func:`stationarity`,
    so the damped Newton iteration is self-consistent: it converges to the root of
    the ``G`` it solves (a wrong sigmoid gives a wrong root, which the independent
    :func:`dpo_minimise` then exposes, rather than a stall).
    """
    K = len(mu)
    total = []
    for i in range(K):
        for j in range(K):
            if i != j:
                z = x[i] - x[j]
                total.append(mu[i] * mu[j] * (P[i, j] * mpmath.log(_sig(z)) + P[j, i] * mpmath.log(_sig(-z))))
    return -mpmath.fsum(total)


def stationarity_jacobian(mu: Sequence, x: Sequence) -> mpmath.matrix:
    K = len(mu)
    A = mpmath.matrix(K, K)
    for k in range(K):
        diag = mpmath.mpf(0)
        for l in range(K):
            if l == k:
                continue
            z = x[k] - x[l]
            sp = _sig(z) * _sig(-z)  # sig' = sig(z) sig(-z): no cancellation in 1 - sig(z) when |z| is large
            A[k, l] = mu[l] * sp
            diag -= mu[l] * sp
        A[k, k] = diag
    return A


def _consistent(P, K: int) -> mpmath.matrix:
    """``P`` with ``P[j,k] := 1 - P[k,j]`` (``k < j``) and ``P[k,k] = 1/2`` at the current precision.

    An mpf ``P`` rounded at a lower precision breaks ``P + P^T = 1`` by one ulp; then ``mu^T G = 0``
    fails at higher precision and the ``K`` equations become inconsistent. Rebuilding the lower
    triangle keeps the identity exact to rounding at every precision.
    """
    Q = mpmath.matrix(K, K)
    for k in range(K):
        Q[k, k] = mpmath.mpf(1) / 2
        for j in range(k + 1, K):
            Q[k, j] = +P[k, j]
            Q[j, k] = 1 - Q[k, j]
    return Q


def solve_scaled(P, mu: Sequence, x0: Sequence | None = None, *, tol=None, maxiter: int = 200) -> tuple[list, dict]:
    """Solve ``G(x; mu) = 0`` by damped Newton at the current precision; return centred ``x`` and info.

    Parameters
    ----------
    P : mpmath.matrix
    mu : sequence of positive mpf (need not sum to 1: ``G`` is homogeneous in ``mu``)
    x0 : optional start (default 0)
    tol : residual tolerance ``max_k |G_k|`` (default ``10**(-(dps - GUARD/2))``); the Newton step must
        also be below ``10**(-(dps - GUARD/2))``

    Raises
    ------
    DPOSolveError
        If the residual tolerance is not reached within ``maxiter`` iterations.
    """
    K = len(mu)
    tol = mpmath.mpf(10) ** (-(mpmath.mp.dps - GUARD // 2)) if tol is None else mpmath.mpf(tol)
    xtol = mpmath.mpf(10) ** (-(mpmath.mp.dps - GUARD // 2))
    P = _consistent(P, K)
    if x0 is None:  # a start from the data: x_i = (1/K) sum_j log(P[i,j]/P[j,i]) over entries in (0, 1) (exact for BT P)
        x = [
            mpmath.fsum(mpmath.log(P[i, j]) - mpmath.log(P[j, i]) for j in range(K) if P[i, j] > 0 and P[j, i] > 0) / K
            for i in range(K)
        ]
    else:
        x = [mpmath.mpf(v) for v in x0]
    p = max(range(K), key=lambda k: mu[k])
    x = [v - x[p] for v in x]
    free = [k for k in range(K) if k != p]
    L = _merit(P, mu, x)
    it = 0
    res = None
    for it in range(1, maxiter + 1):
        G = stationarity(P, mu, x)
        res = max(abs(g) for g in G)
        A = stationarity_jacobian(mu, x)
        Ar = mpmath.matrix([[A[k, l] for l in free] for k in free])
        rhs = mpmath.matrix([-G[k] for k in free])
        try:
            dz = mpmath.lu_solve(Ar, rhs)
        except ZeroDivisionError:
            raise DPONumericalFailure(
                f"DPO Newton: the Jacobian of the stationarity conditions is numerically singular at iteration {it} "
                f"(max |x| = {mpmath.nstr(max(abs(v) for v in x), 5)}); try a larger --dps"
            ) from None
        dx = [mpmath.mpf(0)] * K
        for n, k in enumerate(free):
            dx[k] = dz[n]
        # converged when the residual is small AND the Newton step is: with entries of P near 0 or 1 the
        # residual can be tiny (1e-40) while x is still far from the root (sig'(x) is tiny too)
        if res <= tol and max(abs(v) for v in dx) <= xtol:
            break
        # directional derivative of L: grad L = -2 diag(mu) G (beta_dpo = 1)
        slope = mpmath.fsum(-2 * mu[k] * G[k] * dx[k] for k in range(K))
        t = mpmath.mpf(1)
        # below the rounding level of L the Armijo test is noise: then accept a full step that reduces max |G|
        noise = mpmath.mpf(10) ** (-(mpmath.mp.dps - 5)) * max(1, abs(L))
        if -slope <= noise:
            # take the longest step t = 1, 1/2, 1/4, ... that reduces max |G|
            while t >= mpmath.mpf(2) ** -40:
                xt = [x[k] + t * dx[k] for k in range(K)]
                if max(abs(g) for g in stationarity(P, mu, xt)) < res:
                    break
                t /= 2
            else:
                raise DPONumericalFailure(
                    f"DPO Newton stalled at the rounding level: max |G_k| = {mpmath.nstr(res, 5)} > {mpmath.nstr(tol, 3)}; "
                    "try a larger --dps (entries of P near 0 or 1 make the problem ill-conditioned)"
                )
            x, L = xt, _merit(P, mu, xt)
            continue
        while t >= mpmath.mpf(2) ** -40:
            xt = [x[k] + t * dx[k] for k in range(K)]
            Lt = _merit(P, mu, xt)
            if Lt <= L + t * slope / 4:
                break
            t /= 2
        else:
            # Armijo failed at every step length: only possible when the decrease is at the rounding level of L
            xt = [x[k] + dx[k] for k in range(K)]
            if max(abs(g) for g in stationarity(P, mu, xt)) >= res:
                raise DPONumericalFailure(
                    f"DPO Newton stalled: max |G_k| = {mpmath.nstr(res, 5)} > {mpmath.nstr(tol, 3)} and no step decreases L or |G|; "
                    "try a larger --dps (entries of P near 0 or 1 make the problem ill-conditioned)"
                )
            Lt = _merit(P, mu, xt)
        x, L = xt, Lt
    else:
        G = stationarity(P, mu, x)
        res = max(abs(g) for g in G)
        raise DPONumericalFailure(
            f"DPO stationarity not reached after {maxiter} damped Newton iterations: max |G_k| = {mpmath.nstr(res, 5)} "
            f"(tolerance {mpmath.nstr(tol, 3)}), or the Newton step is still above {mpmath.nstr(xtol, 3)}; try a larger "
            f"--dps (a finite minimiser need not exist when some P[i,j] is 0 or 1)"
        )
    c = mpmath.fsum(x) / K
    return [v - c for v in x], {"iterations": it, "residual": res, "tolerance": tol}


def _float_start(inst: DPOInstance) -> list[float] | None:
    """A float64 starting point from the batched solver (None if it fails)."""
    try:
        import numpy as np

        from verify.numerics.mrs_dpo import solve_scaled_batch

        x, ok = solve_scaled_batch(inst.P.to_numpy()[None], np.array([[float(m) for m in inst.mu]]))
        return [float(v) for v in x[0]] if bool(ok[0]) else None
    except Exception:  # noqa: BLE001 - a start point is an optimisation only
        return None


def extreme_entries(P: PreferenceMatrix) -> list[tuple[int, int]]:
    """Off-diagonal ``(i, j)``, ``i < j``, with ``P[i,j]`` equal to 0 or 1 (existence is then not guaranteed)."""
    return [(i, j) for i in range(P.K) for j in range(i + 1, P.K) if P[i, j] in (0, 1)]


def escaping_set(P: PreferenceMatrix) -> list[int] | None:
    """A set ``U`` that beats its complement with certainty, or None when a finite DPO minimiser exists.

    Exact criterion (interior ``mu``). Draw an edge ``j -> i`` whenever a recession direction ``d``
    of the convex loss must have ``d_i >= d_j``: both ways for ``P[i,j]`` in ``(0, 1)`` (the pair term
    grows in both directions, so ``d_i = d_j``), one way for ``P[i,j] = 1``. A finite minimiser exists
    iff this digraph is strongly connected: otherwise the set ``U`` reachable from some vertex is
    proper, ``P[i,j] = 1`` for all ``i in U``, ``j not in U``, and the loss decreases strictly (to its
    infimum) along ``d = 1_U``; if it is strongly connected every recession direction is constant,
    so the loss is coercive on centred ``r``.
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


def solve_checked(inst: DPOInstance, x0: Sequence | None = None) -> list:
    """``x*`` at the current precision, after the exact existence test :func:`escaping_set`.

    Raises
    ------
    DPOSolveError
        When no finite minimiser exists (with the certificate ``U``), or Newton fails.
    """
    U = escaping_set(inst.P) if extreme_entries(inst.P) else None
    if U is not None:
        rest = [k for k in range(inst.K) if k not in U]
        raise DPOSolveError(
            f"no finite DPO minimiser: responses {U} beat {rest} with probability 1 (P[i,j] = 1 for i in {U}, "
            f"j in {rest}), so the loss keeps decreasing as r_i - r_j -> infinity"
        )
    P = mp_matrix(inst.P.entries)
    m = mp_vector(inst.mu)
    x, _ = solve_scaled(P, m, x0)
    return x


def dpo_log_ratio(inst: DPOInstance, *, warm: bool = True) -> list:
    """Centred ``r* = x*/beta_dpo`` at the current precision."""
    start = _float_start(inst) if warm and not extreme_entries(inst.P) else None
    try:
        x = solve_checked(inst, start)
    except DPONumericalFailure:
        if start is None:
            raise
        # float64 starts can be far off when entries are near 0 or 1 (saturated logits): start from the data
        x = solve_checked(inst, None)
    b = mpf(inst.beta_dpo)
    return [v / b for v in x]


def _policy(pi_ref: Sequence, r: Sequence) -> list:
    z = [mpmath.log(mpf(pi_ref[k])) + r[k] for k in range(len(r))]
    top = max(z)
    w = [mpmath.exp(v - top) for v in z]
    s = mpmath.fsum(w)
    return [v / s for v in w]


def dpo_optimum(P: Any, mu: Any, pi_ref: Any = None, beta_dpo: Any = 1, dps: int = 50) -> list:
    """The one-shot DPO optimum ``pi* ∝ pi_ref exp(r*)``, ``r*`` solving DPO-1.

    Parameters
    ----------
    P : preference matrix (anything :func:`verify.load_preference_matrix` accepts)
    mu : interior point of the simplex (the sampler)
    pi_ref : interior point of the simplex, default uniform
    beta_dpo : number > 0, the KL coefficient (larger = closer to ``pi_ref``)
    dps : int
        Decimal digits of the result (computed with guard digits).

    Returns
    -------
    list of mpmath.mpf

    Raises
    ------
    NonUniqueDPOOptimum
        When some ``mu_k = 0``.
    DPOSolveError
        When no finite minimiser is reached (possible only if some ``P[i,j]`` is 0 or 1).
    InputError
        For invalid input.

    Examples
    --------
    >>> [mpmath.nstr(v, 10) for v in dpo_optimum([[0.5, 0.8], [0.2, 0.5]], [0.5, 0.5], dps=20)]
    ['0.8', '0.2']
    """
    inst = dpo_instance(P, mu, pi_ref, beta_dpo)
    with workdps(int(dps) + GUARD):
        r = dpo_log_ratio(inst)
        pi = _policy(inst.pi_ref, r)
    return pi


def _log_sigmoid(z):
    """``log(1/(1 + exp(-z)))`` without overflow; written here independently of the Newton solver's sigmoid."""
    if z >= 0:
        return -mpmath.log1p(mpmath.exp(-z))
    return z - mpmath.log1p(mpmath.exp(z))


def population_loss(P, mu: Sequence, r: Sequence, beta_dpo) -> mpmath.mpf:
    r"""The population DPO loss from its definition, at the current precision.

    ``L(r) = -sum_{i != j} mu_i mu_j [P_ij log sig(b (r_i - r_j)) + P_ji log sig(-b (r_i - r_j))]``
    with ``b = beta_dpo``, using :func:`_log_sigmoid` (not the solver's sigmoid).
    """
    K = len(mu)
    terms = []
    for i in range(K):
        for j in range(K):
            if i != j:
                z = beta_dpo * (r[i] - r[j])
                terms.append(mu[i] * mu[j] * (P[i, j] * _log_sigmoid(z) + P[j, i] * _log_sigmoid(-z)))
    return -mpmath.fsum(terms)


def _digits_of(x: Fraction) -> int:
    """``ceil(log10(x))`` for ``x >= 1``, else 0."""
    if x <= 1:
        return 0
    return len(str(x.numerator // x.denominator)) or 1


def minimiser_extra_digits(inst: DPOInstance) -> int:
    """Digits :func:`dpo_minimise` adds for conditioning.

    The Hessian of the loss in ``r`` has eigenvalues down to about
    ``b^2 min(mu)^2 min P(1-P)`` (``P`` over entries in ``(0, 1)``), so ``r`` is
    determined only to (gradient error)/(that); the extra digits are
    ``2 log10(1/min mu) + log10(1/min P(1-P)) + 2 log10(max(1, 1/b)) + 5``.
    """
    inner = [inst.P[i, j] * (1 - inst.P[i, j]) for i in range(inst.K) for j in range(i + 1, inst.K) if 0 < inst.P[i, j] < 1]
    pq = min(inner) if inner else Fraction(1, 4)
    return 2 * _digits_of(1 / min(inst.mu)) + _digits_of(1 / pq) + 2 * _digits_of(1 / inst.beta_dpo) + 5


def dpo_minimise(P: Any, mu: Any, pi_ref: Any = None, beta_dpo: Any = 1, dps: int = 30, max_iter: int | None = None) -> list:
    """Minimise the DPO loss directly, from loss values only (independent of the Newton solver).

    Tries a start from the data first (``r_i = (1/(b K)) sum_j log(P[i,j]/P[j,i])``, exact for
    Bradley-Terry ``P``), then ``r = 0``; see :func:`_dpo_minimise` for the method. ``max_iter``
    defaults to ``500 + 3 log10(1/min P(1-P))`` Newton steps (far from the optimum Newton on the
    log-sigmoid's linear tails moves about one unit of ``b r`` per step).
    """
    inst = dpo_instance(P, mu, pi_ref, beta_dpo)
    if max_iter is None:
        inner = [inst.P[i, j] * (1 - inst.P[i, j]) for i in range(inst.K) for j in range(inst.K) if 0 < inst.P[i, j] < 1]
        max_iter = 500 + 3 * _digits_of(1 / min(inner)) if inner else 500
    try:
        return _dpo_minimise(inst, dps, max_iter, _data_start=True)
    except DPONumericalFailure:
        return _dpo_minimise(inst, dps, max_iter, _data_start=False)


def _dpo_minimise(inst: DPOInstance, dps: int, max_iter: int, *, _data_start: bool) -> list:
    """:func:`dpo_minimise` from one start (the data's log-odds, or ``r = 0``): loss values only.

    Method: Newton's method with an Armijo backtracking line search, where the
    gradient and the Hessian are finite differences of values of
    :func:`population_loss` (its own log-sigmoid; no ``_sig``, ``stationarity``
    or ``solve_scaled``). ``r_p`` is pinned to 0 at ``p = argmax mu`` (the loss is
    invariant under ``r -> r + t 1``). The loss is evaluated at ``W' = 3W/2 + 10``
    digits, ``W = dps + GUARD +`` :func:`minimiser_extra_digits`; central
    differences with step ``10**-(W/2)/b`` then give the gradient to about
    ``10**-W`` and second differences with step ``10**-(W/4)/b`` the Hessian to
    about ``10**-(W/2)`` (ample for Newton's step). It starts from
    ``r_i = (1/(b K)) sum_j logit P[i,j]`` (entries in (0, 1); exact for Bradley-Terry ``P``),
    which depends on the data only. Stops when a full Newton step
    moves ``b r`` by less than ``10**-(dps + 10)``; a final check recomputes the
    Newton step at the result and requires it below the same bound.

    Returns the policy ``pi ∝ pi_ref exp(r)``.

    Raises
    ------
    DPOSolveError
        When no finite minimiser exists (exact test :func:`escaping_set`).
    DPONumericalFailure
        (a :class:`~verify.exact.objects.NumericalFailure`) when the iteration does not converge.
    """
    K = inst.K
    U = escaping_set(inst.P) if extreme_entries(inst.P) else None
    if U is not None:
        rest = [k for k in range(K) if k not in U]
        raise DPOSolveError(f"no finite DPO minimiser: responses {U} beat {rest} with probability 1")
    W = int(dps) + GUARD + minimiser_extra_digits(inst)
    W2 = W + W // 2 + 10
    with workdps(W2):
        Pm = mp_matrix(inst.P.entries)
        m = mp_vector(inst.mu)
        b = mpf(inst.beta_dpo)
        p = max(range(K), key=lambda k: inst.mu[k])
        free = [k for k in range(K) if k != p]
        n = len(free)
        h1 = mpmath.mpf(10) ** (-(W // 2)) / b
        h2 = mpmath.mpf(10) ** (-(W // 4)) / b

        def L(r):
            return population_loss(Pm, m, r, b)

        def moved(r, steps):
            s = list(r)
            for k, d in steps:
                s[k] += d
            return s

        def gradient(r):
            return [(L(moved(r, [(k, h1)])) - L(moved(r, [(k, -h1)]))) / (2 * h1) for k in free]

        def hessian(r, L0):
            H = mpmath.matrix(n, n)
            for a, k in enumerate(free):
                H[a, a] = (L(moved(r, [(k, h2)])) - 2 * L0 + L(moved(r, [(k, -h2)]))) / h2**2
                for c in range(a + 1, n):
                    l = free[c]
                    H[a, c] = H[c, a] = (
                        L(moved(r, [(k, h2), (l, h2)]))
                        - L(moved(r, [(k, h2), (l, -h2)]))
                        - L(moved(r, [(k, -h2), (l, h2)]))
                        + L(moved(r, [(k, -h2), (l, -h2)]))
                    ) / (4 * h2**2)
            return H

        # start from the data, not from the solver: r_i = (1/(b K)) sum_j log(P[i,j]/P[j,i]) over entries in (0, 1)
        # (exact for Bradley-Terry P); with entries near 0 or 1 the optimum is far from 0 and Newton on the
        # nearly linear tails of the log-sigmoid would need about log(1/P) steps from r = 0
        if _data_start:
            r = [
                mpmath.fsum(mpmath.log(Pm[i, j]) - mpmath.log(Pm[j, i]) for j in range(K) if 0 < inst.P[i, j] < 1) / (b * K)
                for i in range(K)
            ]
            r = [v - r[p] for v in r]
        else:
            r = [mpmath.mpf(0)] * K
        L0 = L(r)
        step_tol = mpmath.mpf(10) ** (-(int(dps) + 10))
        noise = mpmath.mpf(10) ** (-(W2 - 5))
        for it in range(max_iter):
            g = gradient(r)
            try:
                dz = mpmath.lu_solve(hessian(r, L0), mpmath.matrix([-v for v in g]))
            except ZeroDivisionError:
                raise DPONumericalFailure(
                    f"direct DPO minimisation: singular finite-difference Hessian at iteration {it}; try a larger --dps"
                ) from None
            dr = [mpmath.mpf(0)] * K
            for a, k in enumerate(free):
                dr[k] = dz[a]
            slope = mpmath.fsum(g[a] * dz[a] for a in range(n))
            size = max(abs(b * v) for v in dr)
            t = mpmath.mpf(1)
            if -slope <= noise * max(1, abs(L0)):
                r = moved(r, [(k, dr[k]) for k in free])  # below the loss's rounding level: take Newton's step
            else:
                while True:
                    rt = moved(r, [(k, t * dr[k]) for k in free])
                    Lt = L(rt)
                    if Lt <= L0 + t * slope / 4:
                        break
                    t /= 2
                    if t < mpmath.mpf(2) ** -60:
                        raise DPONumericalFailure(
                            f"direct DPO minimisation: line search failed at iteration {it}; try a larger --dps"
                        )
                r = rt
            L0 = L(r)
            if t == 1 and size <= step_tol:
                break
        else:
            raise DPONumericalFailure(
                f"direct DPO minimisation did not converge in {max_iter} Newton steps (last step {mpmath.nstr(size, 3)}); "
                f"try a larger --dps"
            )
        # final check: r is a fixed point of the iteration (a fresh Newton step is again below tolerance)
        g = gradient(r)
        dz = mpmath.lu_solve(hessian(r, L0), mpmath.matrix([-v for v in g]))
        last = max(abs(b * v) for v in dz)
        if last > step_tol:
            raise DPONumericalFailure(
                f"direct DPO minimisation: the Newton step at the final point is {mpmath.nstr(last, 3)} > "
                f"{mpmath.nstr(step_tol, 3)}; try a larger --dps"
            )
        c = mpmath.fsum(r) / K
        pi = _policy(inst.pi_ref, [v - c for v in r])
    with workdps(int(dps) + GUARD):
        return [+v for v in pi]


def ift_matrices(P, mu: Sequence, x: Sequence) -> tuple[mpmath.matrix, mpmath.matrix]:
    """``A = dG/dx`` and ``B = dG/dmu`` at ``(x, mu)`` (theory.dpo, step 5)."""
    K = len(mu)
    A = stationarity_jacobian(mu, x)
    B = mpmath.matrix(K, K)
    for k in range(K):
        for l in range(K):
            B[k, l] = P[k, l] - _sig(x[k] - x[l])
    return A, B


def ift_sensitivity(P, mu: Sequence, x: Sequence) -> mpmath.matrix:
    """``X = dx*/dmu`` (ambient ``K x K``, centred columns) by the implicit function theorem.

    Solves ``[[A, 1], [1^T, 0]] [X; t] = [-B; 0]``; the bordered matrix is
    nonsingular because ``range(A) = mu^perp`` and ``mu^T 1 != 0``.
    """
    K = len(mu)
    A, B = ift_matrices(P, mu, x)
    M = mpmath.matrix(K + 1, K + 1)
    for k in range(K):
        for l in range(K):
            M[k, l] = A[k, l]
        M[k, K] = 1
        M[K, k] = 1
    X = mpmath.matrix(K, K)
    for l in range(K):
        rhs = mpmath.matrix([-B[k, l] for k in range(K)] + [0])
        col = mpmath.lu_solve(M, rhs)
        for k in range(K):
            X[k, l] = col[k]
    return X


def dpo_sensitivity(P: Any, mu: Any, beta_dpo: Any = 1, dps: int = 50) -> mpmath.matrix:
    """``dr*/dmu = X / beta_dpo`` (ambient ``K x K``; ``r*`` centred) at an interior ``mu``.

    Examples
    --------
    >>> X = dpo_sensitivity([[0.5, 0.8], [0.2, 0.5]], [0.5, 0.5], dps=20)   # BT: r* does not move
    >>> max(abs(v) for v in X) < mpmath.mpf(10) ** -20
    True
    """
    inst = dpo_instance(P, mu, None, beta_dpo)
    with workdps(int(dps) + GUARD):
        Pm = mp_matrix(inst.P.entries)
        m = mp_vector(inst.mu)
        x = solve_checked(inst, None if extreme_entries(inst.P) else _float_start(inst))
        X = ift_sensitivity(Pm, m, x) / mpf(inst.beta_dpo)
    return X
