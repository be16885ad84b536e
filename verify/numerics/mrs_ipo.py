"""MRS-IPO at any precision (mpmath): the map, its Jacobian, fixed points and their stability.

THEORY.md §3. All computations run in log space: the step is

``log pi' = alpha log pi + (1-alpha) log pi_ref + beta P mu - logsumexp(...)``,
``mu = lambda pi + (1-lambda) pi0``,

so ``beta`` up to ``1e4`` and probabilities down to ``1e-300`` (or far below:
mpmath exponents are unbounded) give no overflow, NaN or silent zeros.

Coordinates (see :mod:`theory.mrs_ipo`): the ambient ``K x K`` Jacobian
``DF(pi)``; the tangent Jacobian ``J_T = L DF B`` in the basis
``B = [e_i - e_{K-1}]``; the centered-logit Jacobian ``J_x = H^T C (alpha I + beta lambda P M) H``
in the orthonormal Helmert basis ``H``.

>>> P = [["1/2", "9/10", "1/10"], ["1/10", "1/2", "9/10"], ["9/10", "1/10", "1/2"]]
>>> fp = fixed_points(P, alpha="0.5", beta=1, lam=1, dps=30)
>>> len(fp), fp[0].classification
(1, 'stable')
>>> mpmath.nstr(fp[0].spectral_radius, 12)
'0.550757054729'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Sequence

import mpmath
import numpy as np

from verify.exact.objects import InputError, load_preference_matrix, positive, simplex_vector, to_fraction, unit_interval
from verify.numerics.precision import GUARD, workdps

__all__ = [
    "Params",
    "params",
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
    u = tuple(Fraction(1, K) for _ in range(K))
    ref = u if pi_ref is None else simplex_vector(pi_ref, K, name="pi_ref", interior=True)
    p0 = u if pi0 is None else simplex_vector(pi0, K, name="pi0", interior=True)
    return Params(Pm.entries, al, be, la, ref, p0)


def _mp(x: Fraction) -> mpmath.mpf:
    return mpmath.mpf(x.numerator) / x.denominator


def _policy(pi: Any, K: int, name: str = "pi") -> list[mpmath.mpf]:
    """An interior policy as mpf at the current precision (mpf entries keep their precision)."""
    if isinstance(pi, mpmath.matrix):
        pi = [pi[k] for k in range(pi.rows * pi.cols)]
    if isinstance(pi, str):
        pi = pi.split(",")
    try:
        items = list(pi)
    except TypeError:
        raise InputError(f"{name} must be a vector, got {type(pi).__name__}") from None
    if len(items) != K:
        raise InputError(f"{name} has {len(items)} entries, expected K = {K}")
    vals = []
    for k, x in enumerate(items):
        if isinstance(x, mpmath.mpf):
            v = mpmath.mpf(x)
        else:
            f, _ = to_fraction(x, f"{name}[{k}]")
            v = _mp(f)
        if not v > 0:
            raise InputError(f"{name}[{k}] = {mpmath.nstr(v, 6)}, expected > 0 (an interior point of the simplex)")
        vals.append(v)
    total = mpmath.fsum(vals)
    if abs(total - 1) > mpmath.mpf(10) ** (-6):
        raise InputError(f"{name} sums to {mpmath.nstr(total, 12)}, expected 1 (a point of the simplex)")
    return [v / total for v in vals]


def _logsumexp(z: Sequence[mpmath.mpf]) -> mpmath.mpf:
    m = max(z)
    return m + mpmath.log(mpmath.fsum(mpmath.exp(zi - m) for zi in z))


def _logits(logpi: Sequence[mpmath.mpf], pr: Params) -> list[mpmath.mpf]:
    K = pr.K
    pi = [mpmath.exp(x) for x in logpi]
    al, be, la = _mp(pr.alpha), _mp(pr.beta), _mp(pr.lam)
    mu = [la * pi[k] + (1 - la) * _mp(pr.pi0[k]) for k in range(K)]
    return [
        al * logpi[i] + (1 - al) * mpmath.log(_mp(pr.pi_ref[i])) + be * mpmath.fsum(_mp(pr.P[i][j]) * mu[j] for j in range(K))
        for i in range(K)
    ]


def mrs_ipo_step_log(logpi: Sequence[Any], P: Any, alpha: Any, beta: Any, lam: Any, pi_ref: Any = None, pi0: Any = None, dps: int = 50) -> list[mpmath.mpf]:
    """One MRS-IPO step on log-probabilities (normalised: ``logsumexp(logpi) = 0``).

    Returns the next normalised log-policy as mpf computed at ``dps + 10`` digits.
    """
    pr = params(P, alpha, beta, lam, pi_ref, pi0)
    with workdps(dps + 10):
        lp = [mpmath.mpf(x) if isinstance(x, mpmath.mpf) else _mp(to_fraction(x, f"logpi[{k}]")[0]) for k, x in enumerate(logpi)]
        if len(lp) != pr.K:
            raise InputError(f"logpi has {len(lp)} entries, expected K = {pr.K}")
        lp = [x - _logsumexp(lp) for x in lp]
        z = _logits(lp, pr)
        c = _logsumexp(z)
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
        Digits; the computation runs at ``dps + 10``.

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
    with workdps(dps + 10):
        p = _policy(pi, pr.K)
        z = _logits([mpmath.log(x) for x in p], pr)
        c = _logsumexp(z)
        return [mpmath.exp(zi - c) for zi in z]


def _jacobian_mp(p: list[mpmath.mpf], pr: Params) -> mpmath.matrix:
    K = pr.K
    z = _logits([mpmath.log(x) for x in p], pr)
    c = _logsumexp(z)
    s = [mpmath.exp(zi - c) for zi in z]
    al, be, la = _mp(pr.alpha), _mp(pr.beta), _mp(pr.lam)
    A = mpmath.matrix(K, K)
    for i in range(K):
        for j in range(K):
            A[i, j] = (al / p[i] if i == j else 0) + be * la * _mp(pr.P[i][j])
    Msm = mpmath.matrix(K, K)
    for i in range(K):
        for j in range(K):
            Msm[i, j] = (s[i] if i == j else 0) - s[i] * s[j]
    return Msm * A


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
    with workdps(dps + 10):
        return _jacobian_mp(_policy(pi, pr.K), pr)


def _basis(K: int) -> tuple[mpmath.matrix, mpmath.matrix]:
    B = mpmath.matrix(K, K - 1)
    L = mpmath.matrix(K - 1, K)
    for c in range(K - 1):
        B[c, c] = 1
        B[K - 1, c] = -1
        L[c, c] = 1
    return B, L


def helmert_basis(K: int) -> mpmath.matrix:
    """Orthonormal Helmert basis of ``{1^T x = 0}`` at the current precision (``K x (K-1)``)."""
    H = mpmath.matrix(K, K - 1)
    for c in range(1, K):
        n = mpmath.sqrt(c * (c + 1))
        for r in range(c):
            H[r, c - 1] = 1 / n
        H[c, c - 1] = -mpmath.mpf(c) / n
    return H


def tangent_jacobian(pi: Any, P: Any, alpha: Any, beta: Any, lam: Any, pi_ref: Any = None, pi0: Any = None, dps: int = 50) -> mpmath.matrix:
    """``J_T = L DF(pi) B``: the Jacobian in the chart ``(pi_0, ..., pi_{K-2})``."""
    pr = params(P, alpha, beta, lam, pi_ref, pi0)
    with workdps(dps + 10):
        B, L = _basis(pr.K)
        return L * _jacobian_mp(_policy(pi, pr.K), pr) * B


def _centered_jac(p: list[mpmath.mpf], pr: Params) -> mpmath.matrix:
    K = pr.K
    al, be, la = _mp(pr.alpha), _mp(pr.beta), _mp(pr.lam)
    M = mpmath.matrix(K, K)
    for i in range(K):
        for j in range(K):
            M[i, j] = (p[i] if i == j else 0) - p[i] * p[j]
    Pm = mpmath.matrix([[_mp(x) for x in r] for r in pr.P])
    H = helmert_basis(K)
    return H.T * (al * mpmath.eye(K) + be * la * Pm * M) * H


def centered_logit_jacobian(pi: Any, P: Any, alpha: Any, beta: Any, lam: Any, pi_ref: Any = None, pi0: Any = None, dps: int = 50) -> mpmath.matrix:
    """``J_x = H^T (alpha I + beta lambda P M(pi)) H``, the map's Jacobian in centered logits
    (``x = C log pi``) in the Helmert basis (``H^T C = H^T``)."""
    pr = params(P, alpha, beta, lam, pi_ref, pi0)
    with workdps(dps + 10):
        return _centered_jac(_policy(pi, pr.K), pr)


def spectrum(J: mpmath.matrix) -> tuple[list, mpmath.mpf]:
    """Eigenvalues (sorted by decreasing modulus) and spectral radius of ``J``."""
    if J.rows == 1:
        ev = [J[0, 0]]
    else:
        ev = list(mpmath.eig(J, left=False, right=False))
    ev.sort(key=lambda e: -abs(e))
    return ev, max(abs(e) for e in ev)


def classify(rho: mpmath.mpf, digits: int) -> str:
    """``stable`` (rho < 1), ``unstable`` (rho > 1) or ``neutral`` (``|rho - 1| <= 10^-digits``)."""
    if abs(rho - 1) <= mpmath.mpf(10) ** (-digits):
        return "neutral"
    return "stable" if rho < 1 else "unstable"


@dataclass
class FixedPoint:
    """A fixed point with its tangent spectrum (``eigenvalues`` of ``J_T``, equal to those of ``J_x``)."""

    pi: list
    eigenvalues: list
    spectral_radius: Any
    classification: str
    residual: Any
    dps: int
    starts: int = 1
    notes: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "pi": [mpmath.nstr(x, 20) for x in self.pi],
            "eigenvalues": [mpmath.nstr(e, 15) for e in self.eigenvalues],
            "spectral_radius": mpmath.nstr(self.spectral_radius, 20),
            "classification": self.classification,
            "residual": mpmath.nstr(self.residual, 3),
            "dps": self.dps,
            "starts": self.starts,
        }


def _G_residual(y: mpmath.matrix, pr: Params, H: mpmath.matrix) -> tuple[mpmath.matrix, list]:
    """``R(y) = H^T G(H y) - y`` and the policy at ``x = H y``."""
    K = pr.K
    x = H * y
    c = _logsumexp([x[k] for k in range(K)])
    lp = [x[k] - c for k in range(K)]
    z = _logits(lp, pr)
    zm = mpmath.fsum(z) / K
    g = mpmath.matrix([zi - zm for zi in z])
    return H.T * g - y, [mpmath.exp(v) for v in lp]


def newton_fixed_point(pr: Params, x0: Sequence[Any], dps: int, max_iter: int = 200) -> tuple[list, mpmath.mpf] | None:
    """Damped Newton for ``G(x) = x`` in centered logits (``K-1`` Helmert coordinates).

    Returns ``(pi, residual)`` with ``||R|| <= 10^-(dps)`` at working precision ``dps + GUARD``,
    or ``None`` if Newton does not converge from ``x0``.
    """
    K = pr.K
    with workdps(dps + GUARD):
        H = helmert_basis(K)
        y = H.T * mpmath.matrix([mpmath.mpf(v) for v in x0])
        tol = mpmath.mpf(10) ** (-dps)
        R, p = _G_residual(y, pr, H)
        nr = mpmath.norm(R)
        for _ in range(max_iter):
            if nr <= tol:
                return p, nr
            J = _centered_jac(p, pr) - mpmath.eye(K - 1)
            try:
                step = mpmath.lu_solve(J, -R)
            except ZeroDivisionError:
                return None
            t = mpmath.mpf(1)
            while True:
                y_new = y + t * step
                R_new, p_new = _G_residual(y_new, pr, H)
                n_new = mpmath.norm(R_new)
                if n_new < nr or t < mpmath.mpf(2) ** -30:
                    break
                t /= 2
            if not n_new < nr:
                return None
            y, R, p, nr = y_new, R_new, p_new, n_new
        return (p, nr) if nr <= tol else None


def _float_starts(pr: Params, n_random: int, seed: int) -> np.ndarray:
    """Documented start set: uniform, pi_ref, pi0, corner starts, random logits."""
    K = pr.K
    starts = [np.zeros(K)]
    for v in (pr.pi_ref, pr.pi0):
        lv = np.log([float(x) for x in v])
        starts.append(lv - lv.mean())
    for c in (2.0, 6.0):
        for i in range(K):
            e = -np.full(K, c / K)
            e[i] += c
            starts.append(e)
    rng = np.random.default_rng(seed)
    for s in (1.0, 3.0):
        for _ in range(n_random):
            v = rng.normal(0, s, K)
            starts.append(v - v.mean())
    return np.array(starts)


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

    Strategy: damped Newton on the centered-logit map ``G(x) = x`` (``K-1`` Helmert
    coordinates) from (i) uniform, (ii) ``pi_ref`` and ``pi0``, (iii) corner starts
    ``x = c (e_i - 1/K)``, ``c in {2, 6}``, (iv) ``2 n_random`` random logit vectors
    (``N(0, 1)`` and ``N(0, 9)``, seeded). Converged roots are merged when they agree to
    ``dedup_digits`` digits. Each root gets the eigenvalues of its centered-logit Jacobian
    (similar to the tangent Jacobian at a fixed point), its spectral radius and a class
    (``stable``/``unstable``/``neutral`` with tolerance ``10^-(dps/2)``).

    For ``alpha < 1`` the fixed point is unique (see DYN-4 in docs/dynamics.md); finding
    exactly one root from every start is a check of that statement, not an assumption.
    """
    pr = params(P, alpha, beta, lam, pi_ref, pi0)
    roots: list[FixedPoint] = []
    for x0 in _float_starts(pr, n_random, seed):
        got = newton_fixed_point(pr, [mpmath.mpf(float(v)) for v in x0], dps)
        if got is None:
            continue
        p, res = got
        dup = None
        for r in roots:
            if max(abs(a - b) for a, b in zip(r.pi, p)) <= mpmath.mpf(10) ** (-dedup_digits):
                dup = r
                break
        if dup is not None:
            dup.starts += 1
            continue
        with workdps(dps + GUARD):
            ev, rho = spectrum(_centered_jac(p, pr))
        roots.append(FixedPoint(p, ev, rho, classify(rho, dps // 2), res, dps))
    return roots
