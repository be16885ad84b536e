r"""The MRS map of any pairwise loss at high precision (mpmath): step, Jacobian, fixed points.

One implementation for every loss (docs/claims.md §3, §4b). With ``mu = lam pi + (1 - lam) pi0``,

.. math::

    \log \pi' = \alpha \log \pi + (1-\alpha) \log \pi_{ref} + x^*(\mu)/b \quad (\text{normalised}),

where ``x*(mu)`` is the centred one-shot optimum in ``x = b r`` (:func:`verify.numerics.optimum.solve`;
IPO's closed form ``x* = 2 C P mu`` is its quadratic fast path, giving ``beta P mu`` in the logits).
All arithmetic is in log space, so scales like ``beta = 1e4`` and probabilities far below
``1e-300`` give no overflow or silent zeros.

**Ambient map and Jacobian.** :func:`ambient_map` accepts any positive ``pi`` (not normalised), and
:func:`jacobian` is its derivative (IFT chain rule):

.. math::

    DF(\pi) = (\mathrm{diag}\,\pi' - \pi' \pi'^T)\,(\alpha\, \mathrm{diag}(\pi)^{-1} + (\lambda/b)\, X(\mu)),
    \qquad X = dx^*/d\mu

(:func:`verify.numerics.optimum.sensitivity_x`). On tangent vectors (``1^T v = 0``) this is the map's
derivative on the simplex; off it, ``x*`` is extended linearly for a quadratic ``f`` (the IPO formula
with ``beta lam P``) and homogeneously of degree 0 otherwise. Columns sum to 0 (the image is tangent).

**Coordinates.** The tangent Jacobian ``J_T = L DF B`` in the basis ``B = [e_i - e_{K-1}]`` with
``L`` the first ``K - 1`` rows of the identity; the centred-logit Jacobian
``J_x = H^T (alpha I + (lam/b) X M(pi)) H`` in the orthonormal Helmert basis ``H``,
``M(pi) = diag(pi) - pi pi^T``. Both bases are the exact matrices of :mod:`theory.matrices`,
as numbers from :mod:`verify.numerics.basis` (the one copy). At a fixed point ``J_T`` and ``J_x`` are similar.

>>> P = [["1/2", "7/10", "3/10"], ["3/10", "1/2", "7/10"], ["7/10", "3/10", "1/2"]]
>>> J = jacobian(["1/3"] * 3, P, "dpo", "1/2", 1, dps=20)      # = alpha C + (4 lam/(b K)) S at uniform, b = 1
>>> with workdps(20):
...     print(mpmath.nstr(J[0, 1], 12), mpmath.nstr(J[0, 2], 12))
0.1 -0.433333333333
>>> fp = fixed_points(P, "exp", "1/2", 1, dps=20, n_random=1)
>>> len(fp), fp[0].classification, [mpmath.nstr(v, 8) for v in fp[0].pi]
(1, 'stable', ['0.33333333', '0.33333333', '0.33333333'])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any, Sequence

import mpmath
import numpy as np

from theory.losses import PairLoss
from verify.exact.objects import ExactData, InputError, PreferenceMatrix, load_preference_matrix, reference_policies, to_fraction, unit_interval
from verify.numerics import basis, bridge
from verify.numerics.bridge import b_mp, mp_matrix
from verify.numerics.optimum import as_loss, escaping_set, logsumexp, sensitivity_x, solve
from verify.numerics.optimum import NoOptimum, NonUniqueOptimum
from verify.numerics.precision import GUARD, workdps

__all__ = [
    "Setting",
    "setting",
    "check_solvable",
    "read_policy",
    "mixing",
    "logits",
    "ambient_map",
    "ambient_jacobian",
    "centered_logit_jacobian_at",
    "step",
    "step_log",
    "jacobian",
    "tangent_jacobian",
    "centered_logit_jacobian",
    "finite_difference_jacobian",
    "tangent_basis",
    "tangent_left_inverse",
    "helmert_basis",
    "spectrum",
    "classify",
    "FixedPoint",
    "fixed_points",
    "fixed_points_of",
    "newton_fixed_point",
    "float_starts",
]


@dataclass(frozen=True)
class Setting(ExactData):
    """Validated exact parameters of an MRS map: ``P``, the loss (with its scale), ``alpha``, ``lam``, ``pi_ref``, ``pi0``."""

    P: PreferenceMatrix
    loss: PairLoss
    alpha: Fraction
    lam: Fraction
    pi_ref: tuple[Fraction, ...]
    pi0: tuple[Fraction, ...]

    def to_json(self) -> dict:
        return {
            "P": self.P.to_json(),
            "loss": self.loss.name,
            "f": str(self.loss.f),
            self.loss.scale_name: str(self.loss.scale),
            "alpha": self.alpha,
            "lam": self.lam,
            "pi_ref": list(self.pi_ref),
            "pi0": list(self.pi0),
        }


def setting(P: Any, loss: Any, alpha: Any, lam: Any, pi_ref: Any = None, pi0: Any = None) -> Setting:
    """Validate an MRS setting (``alpha, lam in [0, 1]``, interior ``pi_ref``, ``pi0``; default uniform).

    ``loss`` is a PairLoss, a name or an expression (:func:`verify.numerics.losses.loss`). A loss whose
    optimum is a set (the hinge) or an escaping set of ``P`` (no bounded optimum) is refused when the
    map is first evaluated (:func:`check_solvable`), not here: the batched simulators still take it.
    """
    Pm = P if isinstance(P, PreferenceMatrix) else load_preference_matrix(P)
    K = Pm.K
    lo = as_loss(loss)
    ref, p0 = reference_policies(K, pi_ref, pi0)
    return Setting(Pm, lo, unit_interval(alpha, "alpha"), unit_interval(lam, "lam"), tuple(ref), tuple(p0))


@lru_cache(maxsize=256)
def check_solvable(s: Setting) -> None:
    """Raise when the high-precision map is not a function: a piecewise linear loss (:class:`NonUniqueOptimum`)
    or an escaping set of ``P`` (:class:`NoOptimum`). Cached per setting."""
    fns = bridge.loss_functions(s.loss)
    if fns.piecewise_linear:
        raise NonUniqueOptimum(
            f"the {s.loss.name} loss is piecewise linear: its one-shot optimum is a set, so the high-precision MRS map "
            "is not a function; simulate it with the batched solver (verify.numerics.batch), which states its selection rule"
        )
    if fns.slope_right is not None and fns.slope_right > 0:
        return
    U = escaping_set(s.P)
    if U is not None:
        rest = [k for k in range(s.K) if k not in U]
        raise NoOptimum(f"no bounded {s.loss.name} optimum: responses {U} beat {rest} with probability 1", U, rest)


def read_policy(pi: Any, K: int, name: str = "pi") -> list[mpmath.mpf]:
    """An interior policy as mpf at the current precision (mpf entries keep their precision; normalised).

    Raises :class:`~verify.exact.objects.InputError` naming the entry.
    """
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
            v = mpmath.mpf(f.numerator) / f.denominator
        if not v > 0:
            raise InputError(f"{name}[{k}] = {mpmath.nstr(v, 6)}, expected > 0 (an interior point of the simplex)")
        vals.append(v)
    total = mpmath.fsum(vals)
    if abs(total - 1) > mpmath.mpf(10) ** (-6):
        raise InputError(f"{name} sums to {mpmath.nstr(total, 12)}, expected 1 (a point of the simplex)")
    return [v / total for v in vals]


# ----------------------------------------------------------------------------- kernel (current precision)


def mixing(s: Setting, pi: Sequence) -> list:
    """``mu = lam pi + (1 - lam) pi0`` (``pi`` as given, not normalised)."""
    lam = bridge.mpf(s.lam)
    return [lam * pi[k] + (1 - lam) * bridge.mpf(s.pi0[k]) for k in range(s.K)]


def logits(s: Setting, logpi: Sequence, *, x0: Sequence | None = None) -> tuple[list, list]:
    """``(z, x*)`` with ``z = alpha log pi + (1-alpha) log pi_ref + x*(mu)/b`` (not normalised) at ``pi = exp(logpi)``."""
    K = s.K
    check_solvable(s)
    fns = bridge.loss_functions(s.loss)
    mu = mixing(s, [mpmath.exp(v) for v in logpi])
    x, _ = solve(mp_matrix(s.P.entries), mu, fns, x0)
    al, b = bridge.mpf(s.alpha), b_mp(s.loss)
    z = [al * logpi[k] + (1 - al) * mpmath.log(bridge.mpf(s.pi_ref[k])) + x[k] / b for k in range(K)]
    return z, x


def ambient_map(s: Setting, pi: Sequence, *, x0: Sequence | None = None) -> tuple[list, list]:
    """``F(pi)`` for any positive ``pi`` (not necessarily normalised), at the current precision: ``(pi', x*)``."""
    z, x = logits(s, [mpmath.log(v) for v in pi], x0=x0)
    c = logsumexp(z)
    return [mpmath.exp(v - c) for v in z], x


def _softmax_jacobian(p: Sequence) -> mpmath.matrix:
    K = len(p)
    M = mpmath.matrix(K, K)
    for i in range(K):
        for j in range(K):
            M[i, j] = (p[i] if i == j else 0) - p[i] * p[j]
    return M


def _X(s: Setting, pi: Sequence, x: Sequence) -> mpmath.matrix:
    return sensitivity_x(mp_matrix(s.P.entries), mixing(s, pi), x, bridge.loss_functions(s.loss))


def ambient_jacobian(s: Setting, pi: Sequence, *, x0: Sequence | None = None) -> mpmath.matrix:
    """``DF(pi) = (diag pi' - pi' pi'^T)(alpha diag(pi)^-1 + (lam/b) X(mu))`` at the current precision."""
    K = s.K
    new, x = ambient_map(s, pi, x0=x0)
    X = _X(s, pi, x)
    al, lam, b = bridge.mpf(s.alpha), bridge.mpf(s.lam), b_mp(s.loss)
    inner = mpmath.matrix(K, K)
    for k in range(K):
        for l in range(K):
            inner[k, l] = (al / pi[k] if k == l else 0) + lam / b * X[k, l]
    return _softmax_jacobian(new) * inner


def centered_logit_jacobian_at(s: Setting, pi: Sequence, *, x0: Sequence | None = None) -> mpmath.matrix:
    """``J_x = H^T (alpha I + (lam/b) X(mu) M(pi)) H`` at ``pi`` (current precision)."""
    K = s.K
    _, x = logits(s, [mpmath.log(v) for v in pi], x0=x0)
    X = _X(s, pi, x)
    al, lam, b = bridge.mpf(s.alpha), bridge.mpf(s.lam), b_mp(s.loss)
    H = helmert_basis(K)
    return H.T * (al * mpmath.eye(K) + (lam / b) * X * _softmax_jacobian(pi)) * H


# ----------------------------------------------------------------------------- the bases (verify.numerics.basis)


@lru_cache(maxsize=64)
def _basis_cached(kind: str, K: int, dps: int) -> mpmath.matrix:
    with workdps(dps):
        return {"tangent": basis.tangent_basis_mp, "left": basis.tangent_left_inverse_mp, "helmert": basis.helmert_basis_mp}[kind](K)


def tangent_basis(K: int) -> mpmath.matrix:
    """``B = [e_0 - e_{K-1}, ..., e_{K-2} - e_{K-1}]`` at the current precision (:func:`verify.numerics.basis.tangent_basis_mp`)."""
    return _basis_cached("tangent", K, mpmath.mp.dps).copy()


def tangent_left_inverse(K: int) -> mpmath.matrix:
    """``L`` = the first ``K - 1`` rows of the identity (:func:`verify.numerics.basis.tangent_left_inverse_mp`)."""
    return _basis_cached("left", K, mpmath.mp.dps).copy()


def helmert_basis(K: int) -> mpmath.matrix:
    """The orthonormal Helmert basis at the current precision (:func:`verify.numerics.basis.helmert_basis_mp`, cached per precision)."""
    return _basis_cached("helmert", K, mpmath.mp.dps).copy()


# ----------------------------------------------------------------------------- validated entry points


def step(pi: Any, P: Any, loss: Any, alpha: Any, lam: Any, pi_ref: Any = None, pi0: Any = None, dps: int = 50) -> list:
    """One MRS step ``pi' = F(pi)`` for any loss, at ``dps`` digits (computed at ``dps + GUARD``).

    Parameters
    ----------
    pi : interior policy (exact numbers, floats, strings, or mpf kept at their precision)
    P : preference matrix
    loss : PairLoss, name or expression (its scale is the loss's; see :func:`verify.numerics.losses.loss`)
    alpha, lam : numbers in [0, 1]
    pi_ref, pi0 : interior policies (default uniform)

    >>> P = [["1/2", "3/4", "1/4"], ["1/4", "1/2", "3/4"], ["3/4", "1/4", "1/2"]]
    >>> [mpmath.nstr(v, 15) for v in step(["1/3"] * 3, P, "tq", "1/2", 1)]   # balanced P: uniform is fixed
    ['0.333333333333333', '0.333333333333333', '0.333333333333333']
    """
    s = setting(P, loss, alpha, lam, pi_ref, pi0)
    with workdps(int(dps) + GUARD):
        out, _ = ambient_map(s, read_policy(pi, s.K))
    return out


def step_log(logpi: Sequence[Any], P: Any, loss: Any, alpha: Any, lam: Any, pi_ref: Any = None, pi0: Any = None, dps: int = 50) -> list:
    """One MRS step on log-probabilities; returns the next normalised log-policy (``logsumexp = 0``)."""
    s = setting(P, loss, alpha, lam, pi_ref, pi0)
    with workdps(int(dps) + GUARD):
        lp = [mpmath.mpf(x) if isinstance(x, mpmath.mpf) else bridge.mpf(to_fraction(x, f"logpi[{k}]")[0]) for k, x in enumerate(logpi)]
        if len(lp) != s.K:
            raise InputError(f"logpi has {len(lp)} entries, expected K = {s.K}")
        c0 = logsumexp(lp)
        z, _ = logits(s, [v - c0 for v in lp])
        c = logsumexp(z)
        return [v - c for v in z]


def jacobian(pi: Any, P: Any, loss: Any, alpha: Any, lam: Any, pi_ref: Any = None, pi0: Any = None, dps: int = 50) -> mpmath.matrix:
    """The ``K x K`` ambient Jacobian ``DF(pi)`` of the MRS map (module docstring); acts on tangent vectors."""
    s = setting(P, loss, alpha, lam, pi_ref, pi0)
    with workdps(int(dps) + GUARD):
        return ambient_jacobian(s, read_policy(pi, s.K))


def tangent_jacobian(pi: Any, P: Any, loss: Any, alpha: Any, lam: Any, pi_ref: Any = None, pi0: Any = None, dps: int = 50) -> mpmath.matrix:
    """``J_T = L DF(pi) B``: the Jacobian in the chart ``(pi_0, ..., pi_{K-2})`` (``(K-1) x (K-1)``)."""
    s = setting(P, loss, alpha, lam, pi_ref, pi0)
    with workdps(int(dps) + GUARD):
        return tangent_left_inverse(s.K) * ambient_jacobian(s, read_policy(pi, s.K)) * tangent_basis(s.K)


def centered_logit_jacobian(pi: Any, P: Any, loss: Any, alpha: Any, lam: Any, pi_ref: Any = None, pi0: Any = None, dps: int = 50) -> mpmath.matrix:
    """``J_x = H^T (alpha I + (lam/b) X M(pi)) H``: the map's Jacobian in centred logits, Helmert basis."""
    s = setting(P, loss, alpha, lam, pi_ref, pi0)
    with workdps(int(dps) + GUARD):
        return centered_logit_jacobian_at(s, read_policy(pi, s.K))


def finite_difference_jacobian(pi: Any, P: Any, loss: Any, alpha: Any, lam: Any, pi_ref: Any = None, pi0: Any = None, dps: int = 50) -> mpmath.matrix:
    """The ambient Jacobian by central differences of the solved map (no IFT, no ``X``): an independent check.

    Works at ``2 dps + 2 GUARD`` digits with step ``h = 10^-(dps + GUARD)``, so the ``O(h^2)``
    truncation and the rounding ``O(10^-(2 dps + 2 GUARD)/h)`` are both far below ``10^-dps``.
    """
    s = setting(P, loss, alpha, lam, pi_ref, pi0)
    K = s.K
    with workdps(2 * int(dps) + 2 * GUARD):
        p = read_policy(pi, K)
        _, x0 = ambient_map(s, p)
        h = mpmath.mpf(10) ** (-(int(dps) + GUARD))
        J = mpmath.matrix(K, K)
        for l in range(K):
            up = ambient_map(s, [p[m] + (h if m == l else 0) for m in range(K)], x0=x0)[0]
            dn = ambient_map(s, [p[m] - (h if m == l else 0) for m in range(K)], x0=x0)[0]
            for k in range(K):
                J[k, l] = (up[k] - dn[k]) / (2 * h)
    return J


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


# ----------------------------------------------------------------------------- fixed points


@dataclass
class FixedPoint:
    """A fixed point with its tangent spectrum (``eigenvalues`` of ``J_x``, equal to those of ``J_T``)."""

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


def _residual(s: Setting, y: mpmath.matrix, H: mpmath.matrix, x0: Sequence | None) -> tuple[mpmath.matrix, list, list]:
    """``R(y) = H^T z(H y) - y`` (``z`` the next centred logits), the policy at ``H y`` and ``x*``."""
    K = s.K
    v = H * y
    c = logsumexp([v[k] for k in range(K)])
    lp = [v[k] - c for k in range(K)]
    z, x = logits(s, lp, x0=x0)
    zm = mpmath.fsum(z) / K
    return H.T * mpmath.matrix([zi - zm for zi in z]) - y, [mpmath.exp(u) for u in lp], x


def newton_fixed_point(s: Setting, x0: Sequence[Any], dps: int, max_iter: int = 200) -> tuple[list, mpmath.mpf] | None:
    """Damped Newton for ``F(y) = y`` in centred logits (``K - 1`` Helmert coordinates) from logits ``x0``.

    Returns ``(pi, residual)`` with ``||R|| <= 10^-dps`` at working precision ``dps + GUARD``, or
    ``None`` if Newton does not converge from ``x0``.
    """
    K = s.K
    with workdps(int(dps) + GUARD):
        H = helmert_basis(K)
        y = H.T * mpmath.matrix([mpmath.mpf(v) for v in x0])
        tol = mpmath.mpf(10) ** (-int(dps))
        R, p, xs = _residual(s, y, H, None)
        nr = mpmath.norm(R)
        for _ in range(max_iter):
            if nr <= tol:
                return p, nr
            J = centered_logit_jacobian_at(s, p, x0=xs) - mpmath.eye(K - 1)
            try:
                dy = mpmath.lu_solve(J, -R)
            except ZeroDivisionError:
                return None
            t = mpmath.mpf(1)
            while True:
                y_new = y + t * dy
                R_new, p_new, x_new = _residual(s, y_new, H, xs)
                n_new = mpmath.norm(R_new)
                if n_new < nr or t < mpmath.mpf(2) ** -30:
                    break
                t /= 2
            if not n_new < nr:
                return None
            y, R, p, xs, nr = y_new, R_new, p_new, x_new, n_new
        return (p, nr) if nr <= tol else None


def float_starts(s: Setting, n_random: int, seed: int) -> np.ndarray:
    """The documented start set (centred logits): uniform, ``pi_ref``, ``pi0``, corners ``c (e_i - 1/K)``
    (``c in {2, 6}``), and ``2 n_random`` random logits (``N(0, 1)``, ``N(0, 9)``, seeded)."""
    K = s.K
    starts = [np.zeros(K)]
    for v in (s.pi_ref, s.pi0):
        lv = np.log([float(x) for x in v])
        starts.append(lv - lv.mean())
    for c in (2.0, 6.0):
        for i in range(K):
            e = -np.full(K, c / K)
            e[i] += c
            starts.append(e)
    rng = np.random.default_rng(seed)
    for sd in (1.0, 3.0):
        for _ in range(n_random):
            v = rng.normal(0, sd, K)
            starts.append(v - v.mean())
    return np.array(starts)


def fixed_points_of(s: Setting, dps: int = 50, *, n_random: int = 8, seed: int = 0, dedup_digits: int = 8) -> list[FixedPoint]:
    """:func:`fixed_points` for a validated :class:`Setting`."""
    roots: list[FixedPoint] = []
    for x0 in float_starts(s, n_random, seed):
        got = newton_fixed_point(s, [mpmath.mpf(float(v)) for v in x0], dps)
        if got is None:
            continue
        p, res = got
        dup = next((r for r in roots if max(abs(a - b) for a, b in zip(r.pi, p)) <= mpmath.mpf(10) ** (-dedup_digits)), None)
        if dup is not None:
            dup.starts += 1
            continue
        with workdps(int(dps) + GUARD):
            ev, rho = spectrum(centered_logit_jacobian_at(s, p))
        roots.append(FixedPoint(p, ev, rho, classify(rho, int(dps) // 2), res, int(dps)))
    return roots


def fixed_points(
    P: Any,
    loss: Any,
    alpha: Any,
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

    Strategy: damped Newton on the centred-logit map ``z(y) = y`` (``K - 1`` Helmert coordinates)
    from :func:`float_starts`. Converged roots are merged when they agree to ``dedup_digits`` digits.
    Each root gets the eigenvalues of its centred-logit Jacobian (similar to the tangent Jacobian
    at a fixed point), its spectral radius and a class (``stable``/``unstable``/``neutral`` with
    tolerance ``10^-(dps/2)``). Finding one root from every start is evidence, not a proof, of uniqueness.
    """
    return fixed_points_of(setting(P, loss, alpha, lam, pi_ref, pi0), dps, n_random=n_random, seed=seed, dedup_digits=dedup_digits)
