r"""MRS-DPO: the implicit map, its Jacobian, a batched float64 step, and the stability threshold.

The map (docs/claims.md §3–4, same mixing as MRS-IPO)::

    pi_ref^(t) ∝ pi_t^alpha pi_ref^(1-alpha),   mu_t = lam pi_t + (1-lam) pi_0,
    log pi_{t+1} = log pi_ref^(t) + x*(mu_t) / beta_dpo   (normalised),

where ``x*`` solves ``(P - Sigma(x)) mu = 0`` (DPO-1 in the scaled coordinates
``x = beta_dpo r``, see :mod:`verify.numerics.dpo`). Its ambient ``K x K`` Jacobian (DPO-3,
implicit function theorem) is

    DF(pi) = (diag(pi') - pi' pi'^T) (alpha diag(pi)^{-1} + (lam/beta_dpo) X(mu)),

``X = dx*/dmu`` by the implicit function theorem. The high-precision functions are the DPO
instances of :mod:`verify.numerics.mrs` (one MRS implementation for every loss). Tangent
eigenvalues are reported in the basis ``e_k - e_{K-1}`` (:func:`tangent_matrix`).

Stability of the uniform point (DPO-4, DPO-6; ``pi_0 = pi_ref`` uniform, ``P`` balanced,
``S 1 = 0``): unstable iff ``alpha^2 + (4 lam rho(S) / (beta_dpo K))^2 > 1``; for the
3-cycle ``P_cyc(a)``: ``alpha^2 + 16 a^2 lam^2 / (3 beta_dpo^2) > 1``. This is the
MRS-IPO threshold with ``beta = 4 / beta_dpo``.

Phase-diagram curve: :func:`verify.numerics.phase.dpo_cycle_threshold_curve` returns, on the
``(alpha, beta*lambda)`` axes of the IPO diagram, the critical value of
``lambda / beta_dpo`` (default): the uniform point is unstable *above* the curve,
as for IPO's ``beta*lambda``. The DPO curve is the IPO curve divided by 4.

>>> from verify.numerics.phase import dpo_cycle_threshold_curve
>>> [round(float(v), 6) for v in dpo_cycle_threshold_curve(0.25, [0.0, 0.6, 1.0])]
[1.732051, 1.385641, 0.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

import mpmath

from verify.numerics import mrs
from verify.numerics.bridge import mp_vector
from verify.numerics.dpo import dpo_loss
from verify.exact.objects import (
    ExactData,
    InputError,
    PreferenceMatrix,
    load_preference_matrix,
    positive,
    reference_policies,
    simplex_vector,
    unit_interval,
)
from verify.numerics.precision import GUARD, workdps

__all__ = [
    "MRSDPOInstance",
    "mrs_dpo_instance",
    "setting",
    "mrs_dpo_step",
    "mrs_dpo_jacobian",
    "ambient_map",
    "finite_difference_jacobian",
    "tangent_matrix",
    "tangent_eigenvalues",
]


@dataclass(frozen=True)
class MRSDPOInstance(ExactData):
    """Validated exact parameters of MRS-DPO (``K`` and ``to_json`` from :class:`~verify.exact.objects.ExactData`)."""

    P: PreferenceMatrix
    alpha: Fraction
    beta_dpo: Fraction
    lam: Fraction
    pi_ref: tuple[Fraction, ...]
    pi0: tuple[Fraction, ...]


def mrs_dpo_instance(P: Any, alpha: Any, beta_dpo: Any, lam: Any, pi_ref: Any = None, pi0: Any = None) -> MRSDPOInstance:
    """Validate MRS-DPO parameters (``alpha, lam in [0,1]``, ``beta_dpo > 0``, interior ``pi_ref``, ``pi_0``)."""
    Pm = load_preference_matrix(P)
    K = Pm.K
    ref, p0 = reference_policies(K, pi_ref, pi0)
    return MRSDPOInstance(Pm, unit_interval(alpha, "alpha"), positive(beta_dpo, "beta_dpo"), unit_interval(lam, "lam"), ref, p0)


def _mp_pi(pi: Any, K: int) -> list:
    """An interior point of the simplex at the current precision (mpf input kept as is)."""
    if all(isinstance(v, mpmath.mpf) for v in pi) and len(pi) == K:
        vals = list(pi)
        for k, v in enumerate(vals):
            if not v > 0:
                raise InputError(f"pi[{k}] = {mpmath.nstr(v, 8)}, expected > 0 (an interior point of the simplex)")
        s = mpmath.fsum(vals)
        if abs(s - 1) > mpmath.mpf(10) ** (-(mpmath.mp.dps // 2)):
            raise InputError(f"pi sums to {mpmath.nstr(s, 12)}, expected 1 (a point of the simplex)")
        return [v / s for v in vals]
    return mp_vector(simplex_vector(pi, K, name="pi", interior=True))


def setting(inst: MRSDPOInstance) -> mrs.Setting:
    """The generic :class:`verify.numerics.mrs.Setting` of an MRS-DPO instance (loss ``dpo`` at ``beta_dpo``)."""
    return mrs.Setting(inst.P, dpo_loss(inst.beta_dpo), inst.alpha, inst.lam, inst.pi_ref, inst.pi0)


def ambient_map(inst: MRSDPOInstance, pi: Sequence, *, x0: Sequence | None = None) -> tuple[list, list]:
    """``F(pi)`` for any positive ``pi`` (not necessarily normalised), at the current precision.

    Returns ``(pi', x*)``. This is the extension whose derivative is the ambient Jacobian
    (:func:`verify.numerics.mrs.ambient_map` with the DPO loss).
    """
    return mrs.ambient_map(setting(inst), pi, x0=x0)


def mrs_dpo_step(pi: Any, P: Any, alpha: Any, beta_dpo: Any, lam: Any, pi_ref: Any = None, pi0: Any = None, dps: int = 50) -> list:
    """One MRS-DPO step ``pi_{t+1} = F(pi_t)`` at ``dps`` digits.

    Parameters
    ----------
    pi : interior point of the simplex (exact numbers, floats, or mpf at the current precision)
    P : preference matrix
    alpha, lam : numbers in [0, 1]
    beta_dpo : number > 0 (DPO's KL coefficient)
    pi_ref, pi0 : interior points of the simplex (default uniform)
    dps : digits of the result

    Returns
    -------
    list of mpmath.mpf

    Examples
    --------
    >>> P = [["1/2", "3/4", "1/4"], ["1/4", "1/2", "3/4"], ["3/4", "1/4", "1/2"]]
    >>> [mpmath.nstr(v, 15) for v in mrs_dpo_step(["1/3"] * 3, P, "1/2", 1, 1)]   # uniform is fixed
    ['0.333333333333333', '0.333333333333333', '0.333333333333333']
    """
    inst = mrs_dpo_instance(P, alpha, beta_dpo, lam, pi_ref, pi0)
    with workdps(int(dps) + GUARD):
        out, _ = ambient_map(inst, _mp_pi(pi, inst.K))
    return out


def mrs_dpo_jacobian(
    pi: Any, P: Any, alpha: Any, beta_dpo: Any, lam: Any, pi_ref: Any = None, pi0: Any = None, dps: int = 50
) -> mpmath.matrix:
    """The ambient ``K x K`` Jacobian of the MRS-DPO map at ``pi`` (DPO-3).

    ``DF = (diag(pi') - pi' pi'^T)(alpha diag(pi)^{-1} + (lam/beta_dpo) X)``, ``X = dx*/dmu``
    by the implicit function theorem (:func:`verify.numerics.mrs.ambient_jacobian`). Its columns
    sum to 0 (the image is tangent); :func:`tangent_matrix` gives it in the basis ``e_k - e_{K-1}``.

    Examples
    --------
    >>> P = [["1/2", "7/10", "3/10"], ["3/10", "1/2", "7/10"], ["7/10", "3/10", "1/2"]]
    >>> J = mrs_dpo_jacobian(["1/3"] * 3, P, "1/2", "1/2", 1, dps=20)   # = alpha C + (4 lam/(beta_dpo K)) S
    >>> with workdps(20):
    ...     print(mpmath.nstr(J[0, 1], 12), mpmath.nstr(J[0, 2], 12))
    0.366666666667 -0.7
    """
    inst = mrs_dpo_instance(P, alpha, beta_dpo, lam, pi_ref, pi0)
    with workdps(int(dps) + GUARD):
        return mrs.ambient_jacobian(setting(inst), _mp_pi(pi, inst.K))


def tangent_matrix(DF: mpmath.matrix) -> mpmath.matrix:
    """``DF`` on the tangent space in the basis ``v_k = e_k - e_{K-1}``: ``(V^T V)^{-1} V^T DF V``."""
    K = DF.rows
    V = mpmath.matrix(K, K - 1)
    for k in range(K - 1):
        V[k, k] = 1
        V[K - 1, k] = -1
    return mpmath.inverse(V.T * V) * V.T * DF * V


def finite_difference_jacobian(
    pi: Any, P: Any, alpha: Any, beta_dpo: Any, lam: Any, pi_ref: Any = None, pi0: Any = None, dps: int = 50
) -> mpmath.matrix:
    """The ambient Jacobian of the MRS-DPO map at ``pi`` by central differences of the solved map.

    Independent of DPO-3's formula: no implicit-function matrices, only evaluations of the map
    ``F`` (each a DPO optimum solved by Newton); :func:`verify.numerics.mrs.finite_difference_jacobian`
    (``2 dps + 40`` digits, step ``h = 10^-(dps + 20)``).
    """
    inst = mrs_dpo_instance(P, alpha, beta_dpo, lam, pi_ref, pi0)
    return mrs.finite_difference_jacobian(pi, inst.P, dpo_loss(inst.beta_dpo), inst.alpha, inst.lam, inst.pi_ref, inst.pi0, dps=dps)


def tangent_eigenvalues(DF: mpmath.matrix) -> list:
    """Eigenvalues of ``DF`` restricted to the tangent space (sorted by modulus, largest first)."""
    ev = mpmath.eig(tangent_matrix(DF), left=False, right=False)
    return sorted(ev, key=lambda z: -abs(z))
