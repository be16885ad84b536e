"""The one-shot IPO optimum at any precision (closed form, IPO-1), and a direct minimiser to check it.

IPO is the loss ``f = (1 - x)^2`` of the GPO family with ``b = 2/beta``
(:data:`theory.losses.BUILTIN`); the closed form ``pi* ∝ pi_ref exp(beta P mu)`` is kept here as
the fast path, and the direct minimiser is the generic
:func:`verify.numerics.optimum.minimise` (loss values only). :class:`NonUniqueOptimum` is a
:class:`verify.numerics.optimum.NonUniqueOptimum` whose message describes IPO's optimal set.

>>> from verify import ipo_optimum
>>> P = [[0.5, 0.8], [0.2, 0.5]]
>>> [mpmath.nstr(x, 12) for x in ipo_optimum(P, [0.5, 0.5], beta=1, dps=30)]
['0.574442516812', '0.425557483188']
>>> ipo_optimum(P, [1, 0])
Traceback (most recent call last):
...
verify.numerics.ipo.NonUniqueOptimum: the IPO optimum is not unique: mu[1] = 0; with at most one sampled response every pair has margin 0 and the loss does not depend on r at all: every policy is optimal (IPO-2)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

import mpmath

from verify.exact.objects import OneShotData, one_shot_data, positive
from verify.numerics.bridge import mp_matrix, mp_vector, mpf
from verify.numerics.losses import loss
from verify.numerics import optimum as generic
from verify.numerics.optimum import minimise, population_loss
from verify.numerics.optimum import minimiser_extra_digits as generic_extra_digits
from verify.numerics.precision import GUARD, workdps

__all__ = [
    "NonUniqueOptimum",
    "IPOInstance",
    "ipo_instance",
    "ipo_optimum",
    "ipo_optimum_log",
    "ipo_minimise",
    "minimiser_extra_digits",
    "ipo_loss",
    "expected_pair_loss",
    "support",
    "solution_set_statement",
]


class NonUniqueOptimum(generic.NonUniqueOptimum):
    """The IPO optimum is not unique (some ``mu_k = 0``, IPO-2); the message describes the optimal set."""


@dataclass(frozen=True)
class IPOInstance(OneShotData):
    """Validated exact data of a one-shot IPO problem: ``P``, ``mu``, ``pi_ref`` (:class:`~verify.exact.objects.OneShotData`) and ``beta``."""

    beta: Fraction


def ipo_instance(P: Any, mu: Any, pi_ref: Any = None, beta: Any = 1) -> IPOInstance:
    """Validate ``P``, ``mu`` (simplex), ``pi_ref`` (interior, default uniform), ``beta > 0``."""
    return IPOInstance(*one_shot_data(P, mu, pi_ref), positive(beta, "beta"))


def support(mu: Sequence[Fraction]) -> list[int]:
    """Indices with ``mu_k > 0``."""
    return [k for k, x in enumerate(mu) if x > 0]


def solution_set_statement(inst: IPOInstance) -> str:
    """A sentence describing the optimal set when ``mu`` has zeros (IPO-2)."""
    T = support(inst.mu)
    Z = [k for k in range(inst.K) if k not in T]
    zs = ", ".join(f"mu[{k}] = 0" for k in Z)
    rs = ", ".join(f"r_{k}" for k in Z)
    verb = "does" if len(Z) == 1 else "do"
    if len(T) <= 1:
        return (
            f"the IPO optimum is not unique: {zs}; with at most one sampled response every pair has margin 0 "
            f"and the loss does not depend on r at all: every policy is optimal (IPO-2)"
        )
    return (
        f"the IPO optimum is not unique: {zs}, so {rs} = log(pi/pi_ref) {verb} not enter the loss and any value "
        f"is optimal (IPO-2); the optimal policies are pi_k proportional to pi_ref_k exp(beta (P mu)_k) on the "
        f"support {{{', '.join(map(str, T))}}} of mu, with arbitrary mass on {{{', '.join(map(str, Z))}}}"
    )


def ipo_optimum_log(inst: IPOInstance, beta_factor: Any = 1) -> list[mpmath.mpf]:
    """``log pi*`` at the current precision (log-space, no overflow for large ``beta``)."""
    P = mp_matrix(inst.P.entries)
    m = mp_vector(inst.mu)
    b = mpf(inst.beta) * mpf(Fraction(beta_factor) if not isinstance(beta_factor, Fraction) else beta_factor)
    z = [mpmath.log(mpf(inst.pi_ref[k])) + b * mpmath.fsum(P[k, j] * m[j] for j in range(inst.K)) for k in range(inst.K)]
    top = max(z)
    lse = top + mpmath.log(mpmath.fsum(mpmath.exp(x - top) for x in z))
    return [x - lse for x in z]


def ipo_optimum(P: Any, mu: Any, pi_ref: Any = None, beta: Any = 1, dps: int = 50) -> list[mpmath.mpf]:
    """The one-shot IPO optimum ``pi* ∝ pi_ref ⊙ exp(beta P mu)`` (IPO-1).

    Parameters
    ----------
    P : preference matrix (anything :func:`verify.load_preference_matrix` accepts)
    mu : point of the simplex (the sampler); must be interior for uniqueness
    pi_ref : interior point of the simplex, default uniform
    beta : float or exact number > 0 (``beta = 1/tau``)
    dps : int
        Decimal digits of the result (computed with guard digits).

    Returns
    -------
    list of mpmath.mpf

    Raises
    ------
    NonUniqueOptimum
        When some ``mu_k = 0`` (IPO-2): the optimum is a family, described in the message.
    InputError
        For invalid input.
    """
    inst = ipo_instance(P, mu, pi_ref, beta)
    if len(support(inst.mu)) < inst.K:
        raise NonUniqueOptimum(solution_set_statement(inst))
    with workdps(int(dps) + GUARD):
        logs = ipo_optimum_log(inst)
        out = [mpmath.exp(x) for x in logs]
    return out


def expected_pair_loss(inst: IPOInstance, r: Sequence[Any]) -> mpmath.mpf:
    """The population IPO loss ``E (h(y_w, y_l) - beta/2)^2`` (``tau = 1/beta``) at the current precision.

    This is ``(beta^2/4)`` times the GPO form ``sum mu_i mu_j [P_ij f(b h) + P_ji f(-b h)]`` with
    ``f = (1 - x)^2`` and ``b = 2/beta`` (:func:`verify.numerics.optimum.population_loss`).
    """
    return mpf(inst.beta) ** 2 / 4 * population_loss(inst.P, inst.mu, r, ipo_loss(inst.beta))


def minimiser_extra_digits(inst: IPOInstance) -> int:
    """Digits the direct minimiser adds to the working precision: ``2 log10(1/min mu) + log10(max(1, beta/2)) + 5``."""
    return generic_extra_digits(inst.P, inst.mu, 2 / inst.beta, quadratic=True)


def ipo_loss(beta: Any = 1):
    """The IPO :class:`~theory.losses.PairLoss` (``f = (1 - x)^2``, ``b = 2/beta``) at an exact ``beta``."""
    return loss("ipo", scale=beta)


def ipo_minimise(P: Any, mu: Any, pi_ref: Any = None, beta: Any = 1, dps: int = 50) -> list[mpmath.mpf]:
    """Minimise the IPO loss directly, using only evaluations of the loss (:func:`verify.numerics.optimum.minimise`).

    The loss is a quadratic in ``x = (2/beta) r``; its Hessian and gradient at ``x = 0`` are
    obtained from loss evaluations (second and central differences with step 1, exact for a
    quadratic up to rounding), ``x_p`` is pinned to 0 (the loss is invariant under ``x -> x + t 1``),
    and the reduced Newton system is solved by Cholesky. Independent of the closed form; used
    to check it.

    Conditioning: the Hessian entries of ``x_k`` are ``O(mu_k)``, so ``x_k`` is determined only to
    ``eps/mu_k``, and ``r = x beta/2`` loses ``log10(beta)`` more digits. The working precision is
    raised by :func:`verify.numerics.optimum.minimiser_extra_digits` (``2 log10(1/min mu) +
    log10(max(1, beta/2)) + 5`` digits), so the policy is accurate to ``dps`` digits for ``mu_k``
    down to ``1e-300`` and any ``beta``.

    Raises
    ------
    NonUniqueOptimum
        When some ``mu_k = 0`` (IPO-2).
    NumericalFailure
        If the reduced Hessian is not numerically positive definite.
    """
    inst = ipo_instance(P, mu, pi_ref, beta)
    if len(support(inst.mu)) < inst.K:
        raise NonUniqueOptimum(solution_set_statement(inst))
    return minimise(inst.P, inst.mu, ipo_loss(inst.beta), inst.pi_ref, dps=dps)
