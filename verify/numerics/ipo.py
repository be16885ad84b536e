"""The one-shot IPO optimum at any precision, and a direct minimiser to check it.

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

from verify.numerics.bridge import mp_matrix, mp_vector, mpf
from verify.exact.objects import NumericalFailure, PreferenceMatrix, one_shot_data, positive
from verify.numerics.precision import GUARD, workdps

__all__ = [
    "NonUniqueOptimum",
    "IPOInstance",
    "ipo_instance",
    "ipo_optimum",
    "ipo_optimum_log",
    "ipo_minimise",
    "minimiser_extra_digits",
    "expected_pair_loss",
    "support",
    "solution_set_statement",
]


class NonUniqueOptimum(ValueError):
    """The IPO optimum is not unique (some ``mu_k = 0``, IPO-2)."""


@dataclass(frozen=True)
class IPOInstance:
    """Validated exact data of a one-shot IPO problem."""

    P: PreferenceMatrix
    mu: tuple[Fraction, ...]
    pi_ref: tuple[Fraction, ...]
    beta: Fraction

    @property
    def K(self) -> int:
        return self.P.K

    @property
    def repairs(self) -> tuple[str, ...]:
        """Exact repairs made to the input ``P``, ``mu``, ``pi_ref`` (see :mod:`verify.exact.objects`)."""
        return tuple(r for x in (self.P, self.mu, self.pi_ref) for r in getattr(x, "repairs", ()))

    def to_json(self) -> dict:
        return {"P": self.P.to_json(), "mu": list(self.mu), "pi_ref": list(self.pi_ref), "beta": self.beta}


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
    """The population IPO loss from its definition: ``E (h(y_w, y_l) - beta/2)^2`` (``tau = 1/beta``)."""
    P = inst.P
    m = mp_vector(inst.mu)
    c = mpf(inst.beta) / 2
    total = mpmath.mpf(0)
    for i in range(inst.K):
        for j in range(inst.K):
            h = r[i] - r[j]
            total += m[i] * m[j] * (mpf(P[i, j]) * (h - c) ** 2 + mpf(P[j, i]) * (-h - c) ** 2)
    return total


def _log10_ceil(x: Fraction) -> int:
    """``ceil(log10(x))`` for ``x >= 1`` (0 below 1), from the digits of an exact number."""
    if x <= 1:
        return 0
    q = x.numerator // x.denominator
    return len(str(q)) if q > 0 else 1


def minimiser_extra_digits(inst: IPOInstance) -> int:
    """Digits the direct minimiser adds to the working precision: ``2 log10(1/min mu) + log10(max(1, beta)) + 5``."""
    m = min(inst.mu)
    return 2 * _log10_ceil(1 / m) + _log10_ceil(inst.beta) + 5


def ipo_minimise(P: Any, mu: Any, pi_ref: Any = None, beta: Any = 1, dps: int = 50) -> list[mpmath.mpf]:
    """Minimise the IPO loss directly, using only evaluations of the loss.

    The loss is a quadratic in ``r``; its Hessian and gradient at ``r = 0`` are
    obtained from loss evaluations (second and central differences with steps
    ``s = max(1, beta)``, exact for a quadratic up to rounding), ``r_{K-1}`` is
    pinned to 0 (the loss is invariant under ``r -> r + t 1``), and the reduced
    Newton system is solved by Cholesky. Independent of the closed form; used
    to check it.

    Conditioning: the loss is ``O(beta^2)`` at ``r = 0`` while the Hessian
    entries of ``r_k`` are ``O(mu_k)``, and ``r_k`` is determined only to
    ``eps/mu_k``. The working precision is therefore raised by
    :func:`minimiser_extra_digits` (``2 log10(1/min mu) + log10(max(1, beta))``
    digits), so the policy is accurate to ``dps`` digits for ``mu_k`` down to
    ``1e-300`` and any ``beta``.

    Raises
    ------
    NumericalFailure
        If the reduced Hessian is not numerically positive definite.
    """
    inst = ipo_instance(P, mu, pi_ref, beta)
    if len(support(inst.mu)) < inst.K:
        raise NonUniqueOptimum(solution_set_statement(inst))
    K = inst.K
    n = K - 1
    extra = minimiser_extra_digits(inst)
    with workdps(int(dps) + GUARD + extra):
        zero = [mpmath.mpf(0)] * K
        step = max(mpmath.mpf(1), mpf(inst.beta))

        def L(idx_vals: dict[int, Any]) -> mpmath.mpf:
            r = list(zero)
            for i, v in idx_vals.items():
                r[i] += v * step
            return expected_pair_loss(inst, r)

        L0 = L({})
        g = mpmath.matrix(n, 1)
        H = mpmath.matrix(n, n)
        Le = [L({k: 1}) for k in range(n)]
        for k in range(n):
            g[k] = (Le[k] - L({k: -1})) / 2
            for l in range(k, n):
                if k == l:
                    H[k, k] = Le[k] - 2 * L0 + L({k: -1})
                else:
                    H[k, l] = H[l, k] = L({k: 1, l: 1}) - Le[k] - Le[l] + L0
        try:
            y = mpmath.cholesky_solve(H, -g)  # raises ValueError unless H is positive definite
        except (ValueError, ZeroDivisionError):
            raise NumericalFailure(
                f"direct IPO minimisation failed: the reduced Hessian of the loss is not numerically positive "
                f"definite at {mpmath.mp.dps} digits (min mu = {mpmath.nstr(mpf(min(inst.mu)), 3)}, beta = "
                f"{mpmath.nstr(mpf(inst.beta), 3)}); try a larger --dps"
            ) from None
        r = [y[k] * step for k in range(n)] + [mpmath.mpf(0)]
        z = [mpmath.log(mpf(inst.pi_ref[k])) + r[k] for k in range(K)]
        top = max(z)
        w = [mpmath.exp(x - top) for x in z]
        s = mpmath.fsum(w)
        return [x / s for x in w]
