"""MRS-IPO at any precision (mpmath): the map, its Jacobian, fixed points and their stability.

docs/claims.md §3. These are the IPO instances of :mod:`verify.numerics.mrs` (one MRS implementation
for every loss): IPO is ``f = (1 - x)^2`` with ``b = 2/beta``, whose optimum is the closed form
``x* = 2 C P mu``, so the step is

``log pi' = alpha log pi + (1-alpha) log pi_ref + beta P mu - logsumexp(...)``,
``mu = lambda pi + (1-lambda) pi0``,

in log space: ``beta`` up to ``1e4`` and probabilities down to ``1e-300`` (or far below:
mpmath exponents are unbounded) give no overflow, NaN or silent zeros.

Coordinates (see :mod:`theory.mrs_ipo`): the ambient ``K x K`` Jacobian
``DF(pi) = (diag pi' - pi' pi'^T)(alpha diag(pi)^-1 + beta lambda P)``; the tangent Jacobian
``J_T = L DF B`` in the basis ``B = [e_i - e_{K-1}]``; the centered-logit Jacobian
``J_x = H^T (alpha I + beta lambda P M) H`` in the orthonormal Helmert basis ``H``.

>>> P = [["1/2", "9/10", "1/10"], ["1/10", "1/2", "9/10"], ["9/10", "1/10", "1/2"]]
>>> fp = fixed_points(P, alpha="0.5", beta=1, lam=1, dps=30)
>>> len(fp), fp[0].classification
(1, 'stable')
>>> mpmath.nstr(fp[0].spectral_radius, 12)
'0.550757054729'
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any, Sequence

import mpmath
import numpy as np

from verify.exact.objects import InputError, load_preference_matrix, positive, reference_policies, to_fraction, unit_interval
from verify.numerics import mrs
from verify.numerics.ipo import ipo_loss
from verify.numerics.mrs import FixedPoint, classify, helmert_basis, spectrum
from verify.numerics.optimum import logsumexp
from verify.numerics.precision import GUARD, workdps

__all__ = [
    "Params",
    "params",
    "setting",
    "logits",
    "mrs_ipo_step",
    "mrs_ipo_step_log",
    "mrs_ipo_jacobian",
    "tangent_jacobian",
    "centered_logit_jacobian",
    "helmert_basis",
    "spectrum",
    "classify",
    "FixedPoint",
    "fixed_points",
    "newton_fixed_point",
]


@dataclass(frozen=True)
class Params:
    """Validated MRS-IPO parameters, exact (``Fraction``)."""

    P: tuple[tuple[Fraction, ...], ...]
    alpha: Fraction
    beta: Fraction
    lam: Fraction
    pi_ref: tuple[Fraction, ...]
    pi0: tuple[Fraction, ...]

    @property
    def K(self) -> int:
        return len(self.P)

    def numpy(self) -> dict[str, Any]:
        """The parameters as float64 arrays (for the batched simulator)."""
        return {
            "P": np.array([[float(x) for x in r] for r in self.P]),
            "alpha": float(self.alpha),
            "beta": float(self.beta),
            "lam": float(self.lam),
            "pi_ref": np.array([float(x) for x in self.pi_ref]),
            "pi0": np.array([float(x) for x in self.pi0]),
        }


def params(P: Any, alpha: Any, beta: Any, lam: Any, pi_ref: Any = None, pi0: Any = None) -> Params:
    """Validate MRS-IPO parameters (``alpha, lambda in [0,1]``, ``beta > 0``, interior ``pi_ref``, ``pi0``).

    Raises :class:`~verify.exact.objects.InputError` naming the offending entry.
    """
    Pm = load_preference_matrix(P)
    K = Pm.K
    al = unit_interval(alpha, "alpha")
    be = positive(beta, "beta")
    la = unit_interval(lam, "lambda")
    ref, p0 = reference_policies(K, pi_ref, pi0)
    return Params(Pm.entries, al, be, la, ref, p0)


def _mp(x: Fraction) -> mpmath.mpf:
    return mpmath.mpf(x.numerator) / x.denominator


@lru_cache(maxsize=256)
def setting(pr: Params) -> mrs.Setting:
    """The generic :class:`verify.numerics.mrs.Setting` of validated MRS-IPO parameters (loss ``ipo`` at ``beta``)."""
    return mrs.Setting(load_preference_matrix(pr.P), ipo_loss(pr.beta), pr.alpha, pr.lam, pr.pi_ref, pr.pi0)


def logits(logpi: Sequence[mpmath.mpf], pr: Params) -> list[mpmath.mpf]:
    """``alpha log pi + (1-alpha) log pi_ref + beta C P mu`` (not normalised) at ``pi = exp(logpi)``, current precision.

    ``mu = lam pi + (1-lam) pi0`` with ``pi`` as given (the ambient map: linear in ``pi``).
    """
    return mrs.logits(setting(pr), list(logpi))[0]




def mrs_ipo_step_log(logpi: Sequence[Any], P: Any, alpha: Any, beta: Any, lam: Any, pi_ref: Any = None, pi0: Any = None, dps: int = 50) -> list[mpmath.mpf]:
    """One MRS-IPO step on log-probabilities (normalised: ``logsumexp(logpi) = 0``).

    Returns the next normalised log-policy as mpf computed at ``dps + GUARD`` digits.
    """
    pr = params(P, alpha, beta, lam, pi_ref, pi0)
    with workdps(int(dps) + GUARD):
        lp = [mpmath.mpf(x) if isinstance(x, mpmath.mpf) else _mp(to_fraction(x, f"logpi[{k}]")[0]) for k, x in enumerate(logpi)]
        if len(lp) != pr.K:
            raise InputError(f"logpi has {len(lp)} entries, expected K = {pr.K}")
        c0 = logsumexp(lp)
        z = logits([x - c0 for x in lp], pr)
        c = logsumexp(z)
        return [zi - c for zi in z]


def mrs_ipo_step(pi: Any, P: Any, alpha: Any, beta: Any, lam: Any, pi_ref: Any = None, pi0: Any = None, dps: int = 50) -> list[mpmath.mpf]:
    """One step of MRS-IPO at ``dps`` digits: ``pi_{t+1} = softmax(alpha log pi + (1-alpha) log pi_ref + beta P mu)``.

    Parameters
    ----------
    pi : sequence
        Interior policy (entries > 0, summing to 1; mpf entries keep their precision).
    P : preference matrix (anything :func:`~verify.exact.objects.load_preference_matrix` accepts)
    alpha, lam : numbers in [0, 1]
    beta : number > 0
    pi_ref, pi0 : interior policies, optional (default uniform)
    dps : int
        Digits; the computation runs at ``dps + GUARD``.

    Returns
    -------
    list of mpf
        The next policy.

    Examples
    --------
    >>> P = [["1/2", "9/10", "1/10"], ["1/10", "1/2", "9/10"], ["9/10", "1/10", "1/2"]]
    >>> [mpmath.nstr(x, 8) for x in mrs_ipo_step(["1/3"] * 3, P, "0.9", 8, 1)]
    ['0.33333333', '0.33333333', '0.33333333']
    """
    pr = params(P, alpha, beta, lam, pi_ref, pi0)
    with workdps(int(dps) + GUARD):
        return mrs.ambient_map(setting(pr), mrs.read_policy(pi, pr.K))[0]


def mrs_ipo_jacobian(pi: Any, P: Any, alpha: Any, beta: Any, lam: Any, pi_ref: Any = None, pi0: Any = None, dps: int = 50) -> mpmath.matrix:
    """The ``K x K`` ambient Jacobian ``DF(pi) = (diag pi' - pi' pi'^T)(alpha diag(pi)^-1 + beta lambda P)``.

    Restricted to the tangent space ``{v : 1^T v = 0}`` it is the derivative of the
    map on the simplex (see :func:`tangent_jacobian` for the ``(K-1) x (K-1)`` form).

    Examples
    --------
    >>> J = mrs_ipo_jacobian(["1/2", "1/2"], [["1/2", "3/4"], ["1/4", "1/2"]], "1/2", 2, 1, dps=20)
    >>> mpmath.nstr(J[0, 0] - J[0, 1], 10)
    '0.4700074244'
    """
    pr = params(P, alpha, beta, lam, pi_ref, pi0)
    with workdps(int(dps) + GUARD):
        return mrs.ambient_jacobian(setting(pr), mrs.read_policy(pi, pr.K))


def tangent_jacobian(pi: Any, P: Any, alpha: Any, beta: Any, lam: Any, pi_ref: Any = None, pi0: Any = None, dps: int = 50) -> mpmath.matrix:
    """``J_T = L DF(pi) B``: the Jacobian in the chart ``(pi_0, ..., pi_{K-2})``."""
    pr = params(P, alpha, beta, lam, pi_ref, pi0)
    with workdps(int(dps) + GUARD):
        K = pr.K
        return mrs.tangent_left_inverse(K) * mrs.ambient_jacobian(setting(pr), mrs.read_policy(pi, K)) * mrs.tangent_basis(K)


def centered_logit_jacobian(pi: Any, P: Any, alpha: Any, beta: Any, lam: Any, pi_ref: Any = None, pi0: Any = None, dps: int = 50) -> mpmath.matrix:
    """``J_x = H^T (alpha I + beta lambda P M(pi)) H``, the map's Jacobian in centered logits
    (``x = C log pi``) in the Helmert basis (``H^T C = H^T``)."""
    pr = params(P, alpha, beta, lam, pi_ref, pi0)
    with workdps(int(dps) + GUARD):
        return mrs.centered_logit_jacobian_at(setting(pr), mrs.read_policy(pi, pr.K))


def newton_fixed_point(pr: Params, x0: Sequence[Any], dps: int, max_iter: int = 200) -> tuple[list, mpmath.mpf] | None:
    """Damped Newton for ``G(x) = x`` in centered logits (:func:`verify.numerics.mrs.newton_fixed_point`).

    Returns ``(pi, residual)`` with ``||R|| <= 10^-(dps)`` at working precision ``dps + GUARD``,
    or ``None`` if Newton does not converge from ``x0``.
    """
    return mrs.newton_fixed_point(setting(pr), x0, dps, max_iter)


def fixed_points(
    P: Any,
    alpha: Any,
    beta: Any,
    lam: Any,
    pi_ref: Any = None,
    pi0: Any = None,
    dps: int = 50,
    *,
    n_random: int = 8,
    seed: int = 0,
    dedup_digits: int = 8,
) -> list[FixedPoint]:
    """All interior fixed points found from a documented set of starts, refined to ``dps`` digits.

    :func:`verify.numerics.mrs.fixed_points` for the IPO loss: damped Newton on the centered-logit
    map ``G(x) = x`` (``K-1`` Helmert coordinates) from (i) uniform, (ii) ``pi_ref`` and ``pi0``,
    (iii) corner starts ``x = c (e_i - 1/K)``, ``c in {2, 6}``, (iv) ``2 n_random`` random logit
    vectors (``N(0, 1)`` and ``N(0, 9)``, seeded). Converged roots are merged when they agree to
    ``dedup_digits`` digits. Each root gets the eigenvalues of its centered-logit Jacobian
    (similar to the tangent Jacobian at a fixed point), its spectral radius and a class
    (``stable``/``unstable``/``neutral`` with tolerance ``10^-(dps/2)``).

    For ``alpha < 1`` the fixed point is unique (see DYN-4 in docs/dynamics.md); finding
    exactly one root from every start is a check of that statement, not an assumption.
    """
    pr = params(P, alpha, beta, lam, pi_ref, pi0)
    return mrs.fixed_points_of(setting(pr), dps, n_random=n_random, seed=seed, dedup_digits=dedup_digits)
