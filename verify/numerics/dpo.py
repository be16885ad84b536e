r"""The one-shot DPO optimum at any precision, a direct minimiser to check it, and ``dr/dmu``.

DPO is the logistic loss ``f(x) = log(1 + e^{-x})`` of the GPO family with ``b = beta_dpo``
(:data:`theory.losses.BUILTIN`). The population DPO loss (docs/claims.md §0) depends on
``r = log(pi/pi_ref)`` only through ``x = beta_dpo * r``, and its stationarity equations (DPO-1)

    G_k(x; mu) = sum_j mu_j (P[k,j] - sig(x_k - x_j)) = 0

do not contain ``beta_dpo`` (:mod:`theory.dpo`, step 3). The functions here are the DPO instances
of :mod:`verify.numerics.optimum` (one solver for every loss): DPO's ``G`` is minus the generic
``G_k = sum_j mu_j g(x_k - x_j; P_kj)``, ``g(x; p) = p f'(x) - (1-p) f'(-x) = sig(x) - p``, and the
sigmoid is the bridge's :class:`~verify.numerics.bridge.expit` (``f'(x) = -expit(-x)``), so no
module writes it again. The solver returns ``r* = x*/beta_dpo``: no overflow for large ``beta_dpo``.

Solver (:func:`solve_scaled` = :func:`verify.numerics.optimum.solve`): damped Newton on ``K - 1``
coordinates with an Armijo line search on the loss; it never returns an unconverged point. When
every off-diagonal ``P[i,j]`` is in ``(0, 1)`` and ``mu`` is interior the loss is strictly convex and
coercive on the pinned coordinates, so it converges from any start. Otherwise (entries 0 or 1) a
finite minimiser exists iff the exact graph test :func:`escaping_set` passes; if it fails the
solver raises :class:`DPOSolveError` with the certificate.

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

from verify.exact.objects import NumericalFailure, OneShotData, PreferenceMatrix, one_shot_data, positive
from verify.numerics import optimum as generic
from verify.numerics import bridge
from verify.numerics.bridge import mp_matrix, mp_vector, mpf
from verify.numerics.losses import loss
from verify.numerics.optimum import escaping_set
from verify.numerics.precision import GUARD, workdps

__all__ = [
    "DPOSolveError",
    "DPONumericalFailure",
    "population_loss",
    "minimiser_extra_digits",
    "NonUniqueDPOOptimum",
    "DPOInstance",
    "dpo_instance",
    "dpo_loss",
    "stationarity",
    "stationarity_jacobian",
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
    """No finite DPO minimiser (with the escaping set), or a solver failure (:class:`DPONumericalFailure`)."""


class DPONumericalFailure(DPOSolveError, NumericalFailure):
    """A DPO solver failed on valid input (a finite minimiser exists): a numerical failure, not bad input."""


class NonUniqueDPOOptimum(generic.NonUniqueOptimum):
    """Some ``mu_k = 0``: ``r_k`` does not enter the DPO loss, the optimum is not unique."""


def dpo_loss(beta_dpo: Any = 1):
    """The DPO :class:`~theory.losses.PairLoss` (``f = log(1 + e^{-x})``, ``b = beta_dpo``) at an exact ``beta_dpo``."""
    return loss("dpo", scale=beta_dpo)


def _fns():
    """DPO's ``f, f', f''`` from the bridge (the one place the logistic becomes numbers)."""
    return bridge.loss_functions(loss("dpo"))


@dataclass(frozen=True)
class DPOInstance(OneShotData):
    """Validated exact data of a one-shot DPO problem: ``P``, ``mu``, ``pi_ref`` (:class:`~verify.exact.objects.OneShotData`) and ``beta_dpo``."""

    beta_dpo: Fraction


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


def _half(K: int) -> mpmath.matrix:
    return mpmath.matrix([[mpmath.mpf(1) / 2] * K for _ in range(K)])


def stationarity(P, mu: Sequence, x: Sequence) -> list:
    """DPO-1's ``G_k = sum_j mu_j (P[k,j] - sig(x_k - x_j))`` at the current precision (``P`` an mpmath matrix).

    Evaluated as minus the generic ``sum_j mu_j (P[k,j] f'(x_kj) - P[j,k] f'(-x_kj))`` with
    ``f'(x) = -expit(-x)``: both entries of ``P`` are used as given, so entries near 0 or 1 cause
    no ``1 - sig`` cancellation and ``mu^T G = 0`` holds to rounding.
    """
    return [-g for g in generic.stationarity(P, mu, x, _fns())]


def scaled_loss(P, mu: Sequence, x: Sequence):
    """``L_DPO`` at ``beta_dpo = 1`` in ``x`` (``L(r) = scaled_loss(beta_dpo r)``), from its definition."""
    return generic.loss_x(P, mu, x, _fns())


def stationarity_jacobian(mu: Sequence, x: Sequence) -> mpmath.matrix:
    """``dG/dx`` of DPO-1's ``G``: ``[k,l] = mu_l sig'(x_k - x_l)`` (``l != k``), rows summing to 0.

    DPO's ``f''`` is even, so ``g'(x; p) = f''(x)`` does not depend on ``p``: the generic Jacobian
    at ``P = 1/2`` (negated for DPO-1's sign).
    """
    return -generic.stationarity_jacobian(_half(len(mu)), mu, x, _fns())


def _dpo_failure(e: Exception) -> DPONumericalFailure:
    return DPONumericalFailure(f"DPO {e}")


def solve_scaled(P, mu: Sequence, x0: Sequence | None = None, *, tol=None, maxiter: int = 200) -> tuple[list, dict]:
    """Solve DPO-1 ``G(x; mu) = 0`` at the current precision; return centred ``x`` and info.

    :func:`verify.numerics.optimum.solve` with the DPO loss (see there for the method and the
    convergence rule: residual and Newton step both below ``10**-(dps - GUARD/2)``).

    Raises
    ------
    DPONumericalFailure
        If the iteration does not converge.
    """
    try:
        return generic.solve(P, mu, _fns(), x0, tol=tol, maxiter=maxiter)
    except NumericalFailure as e:
        raise _dpo_failure(e) from None


def extreme_entries(P: PreferenceMatrix) -> list[tuple[int, int]]:
    """Off-diagonal ``(i, j)``, ``i < j``, with ``P[i,j]`` equal to 0 or 1 (existence is then not guaranteed)."""
    return [(i, j) for i in range(P.K) for j in range(i + 1, P.K) if P[i, j] in (0, 1)]


def _no_minimiser(P: PreferenceMatrix) -> None:
    U = escaping_set(P) if extreme_entries(P) else None
    if U is not None:
        rest = [k for k in range(P.K) if k not in U]
        raise DPOSolveError(
            f"no finite DPO minimiser: responses {U} beat {rest} with probability 1 (P[i,j] = 1 for i in {U}, "
            f"j in {rest}), so the loss keeps decreasing as r_i - r_j -> infinity"
        )


def solve_checked(inst: DPOInstance, x0: Sequence | None = None) -> list:
    """``x*`` at the current precision, after the exact existence test :func:`escaping_set`.

    Raises
    ------
    DPOSolveError
        When no finite minimiser exists (with the certificate ``U``), or Newton fails.
    """
    _no_minimiser(inst.P)
    x, _ = solve_scaled(mp_matrix(inst.P.entries), mp_vector(inst.mu), x0)
    return x


def dpo_log_ratio(inst: DPOInstance, *, warm: bool = True) -> list:
    """Centred ``r* = x*/beta_dpo`` at the current precision (``warm`` is accepted for compatibility; the
    solver always starts from the data, after a 30-digit solve)."""
    x = solve_checked(inst, None)
    b = mpf(inst.beta_dpo)
    return [v / b for v in x]


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
        return generic.policy(inst.pi_ref, r)


def population_loss(P, mu: Sequence, r: Sequence, beta_dpo) -> mpmath.mpf:
    r"""The population DPO loss from its definition, at the current precision.

    ``L(r) = -sum_{i,j} mu_i mu_j [P_ij log sig(b (r_i - r_j)) + P_ji log sig(-b (r_i - r_j))]`` with
    ``b = beta_dpo`` (``-log sig = softplus(-.)``, the bridge's ``f``).
    """
    b = mpmath.mpmathify(beta_dpo)
    return generic.loss_x(P, mu, [b * v for v in r], _fns())


def minimiser_extra_digits(inst: DPOInstance) -> int:
    """Digits :func:`dpo_minimise` adds for conditioning (:func:`verify.numerics.optimum.minimiser_extra_digits`):
    ``2 log10(1/min mu) + log10(1/min P(1-P)) + 2 log10(max(1, 1/b)) + 5``."""
    return generic.minimiser_extra_digits(inst.P, inst.mu, inst.beta_dpo)


def dpo_minimise(P: Any, mu: Any, pi_ref: Any = None, beta_dpo: Any = 1, dps: int = 30, max_iter: int | None = None) -> list:
    """Minimise the DPO loss directly, from loss values only (independent of the Newton solver).

    :func:`verify.numerics.optimum.minimise` with the DPO loss: Newton with finite-difference
    gradient and Hessian of loss *values*, an Armijo line search, from the pairwise minimisers of
    ``P_ij f(t) + P_ji f(-t)`` found by golden-section search on values (for DPO ``logit P_ij``, so
    exact for Bradley-Terry ``P``). ``max_iter`` defaults to ``500 + 3 log10(1/min P(1-P))``.

    Raises
    ------
    DPOSolveError
        When no finite minimiser exists (exact test :func:`escaping_set`).
    DPONumericalFailure
        (a :class:`~verify.exact.objects.NumericalFailure`) when the iteration does not converge.
    """
    inst = dpo_instance(P, mu, pi_ref, beta_dpo)
    _no_minimiser(inst.P)
    try:
        return generic.minimise(inst.P, inst.mu, dpo_loss(inst.beta_dpo), inst.pi_ref, dps=dps, max_iter=max_iter)
    except NumericalFailure as e:
        raise _dpo_failure(e) from None


def ift_matrices(P, mu: Sequence, x: Sequence) -> tuple[mpmath.matrix, mpmath.matrix]:
    """``A = dG/dx`` and ``B = dG/dmu`` of DPO-1's ``G`` at ``(x, mu)`` (theory.dpo, step 5):
    ``B[k,l] = P[k,l] - sig(x_k - x_l)`` (minus the generic matrices)."""
    A, B = generic.ift_matrices(P, mu, x, _fns())
    return -A, -B


def ift_sensitivity(P, mu: Sequence, x: Sequence) -> mpmath.matrix:
    """``X = dx*/dmu`` (ambient ``K x K``, centred columns) by the implicit function theorem
    (:func:`verify.numerics.optimum.ift_sensitivity`)."""
    return generic.ift_sensitivity(P, mu, x, _fns())


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
        x = solve_checked(inst, None)
        return ift_sensitivity(mp_matrix(inst.P.entries), mp_vector(inst.mu), x) / mpf(inst.beta_dpo)
