r"""Certified bounds for DYN-2: ``||S||_2`` for ``S = P - 11^T/2``, the contraction factor ``q``, and step norms.

**The norm bound is an exact rational certificate.** A rational ``s`` (20 significant digits, rounded up
from Arb's enclosure of the largest eigenvalue of ``S^T S``) is certified ``> ||S||_2`` by checking, in
exact rational arithmetic (flint ``fmpq_mat``), that ``s^2 I - S^T S`` is positive definite: every leading
principal minor is ``> 0`` (Sylvester's criterion). The lower end of the enclosure of ``||S||_2`` is Arb's
(``acb_mat.eig(multiple=True)`` of the exact ``S^T S``: its eigenvalues may repeat, e.g. the 3-cycle's).

Then ``q = alpha + q_factor beta lam ||S||_2`` (``q_factor = 1/2`` is DYN-2's) is enclosed with exact
rational endpoints, and ``q < 1`` is certified when the upper end is ``< 1``.

:func:`certify_step_norm` encloses the norm of the centred-logit Jacobian
``DG(pi) = C (alpha I + beta lam S M(pi))`` on the tangent space (``C = I - 11^T/K``,
``M = diag pi - pi pi^T``) at a rational ``pi``: the square root of the largest eigenvalue of the exact
rational ``C DG^T DG C``. A certified ``||DG(pi)||_2 > q`` at some ``pi`` shows that the map is not
``q``-Lipschitz.

>>> from verify.exact.families import cyclic
>>> c = certify_contraction(cyclic("2/5"), "1/5", 1, 1)            # ||S||_2 = sqrt(3) 2/5 = 0.6928...
>>> c.skew_norm.text(8), c.q_below_one, c.norm_certificate.startswith("exact")
('[0.69282032, 0.69282033]', True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

from verify.certified.balls import DEFAULT_PREC, Interval, ball, decimal_up, exact_matrix, exact_rational, exact_vector, interval_of, working_precision
from verify.certified.spectrum import certify_spectrum
from verify.exact.objects import InputError, NumericalFailure, load_preference_matrix

__all__ = ["Q_FACTOR", "ContractionCertificate", "certify_contraction", "skew_norm_enclosure", "certify_step_norm", "positive_definite"]

#: DYN-2's constant: q = alpha + Q_FACTOR beta lam ||S||_2.
Q_FACTOR = Fraction(1, 2)


@dataclass(frozen=True)
class ContractionCertificate:
    """``||S||_2`` enclosed (upper end certified exactly), ``q`` enclosed, and whether ``q < 1`` is certified."""

    alpha: Fraction
    beta: Fraction
    lam: Fraction
    q_factor: Fraction
    skew_norm: Interval
    norm_certificate: str
    q: Interval
    q_below_one: bool | None  #: True: certified q < 1; False: certified q >= 1; None: undecided
    prec: int

    def to_json(self) -> dict:
        return {
            "q_factor": str(self.q_factor),
            "skew_norm": self.skew_norm.to_json(),
            "skew_norm_upper_exact": str(self.skew_norm.hi),
            "norm_certificate": self.norm_certificate,
            "q": self.q.to_json(),
            "q_upper_exact": str(self.q.hi),
            "q_below_one": self.q_below_one,
            "prec_bits": self.prec,
        }

    def text(self, digits: int = 20) -> str:
        word = {True: "q < 1 certified (DYN-2: unique fixed point, global contraction)", False: "q >= 1 certified (DYN-2 does not apply)",
                None: "undecided"}[self.q_below_one]
        return (f"DYN-2 contraction bound: ||P - 11^T/2||_2 in {self.skew_norm.text(digits)} "
                f"(upper end: {self.norm_certificate});\n  q = alpha + ({self.q_factor}) beta lam ||S||_2 in {self.q.text(digits)}: {word}")


def positive_definite(A: Sequence[Sequence[Fraction]]) -> tuple[bool, list[Fraction]]:
    """Sylvester's criterion in exact rational arithmetic: ``(all leading principal minors > 0, the minors)``."""
    from verify.certified.balls import flint_module

    flint = flint_module()
    n = len(A)
    minors = []
    for k in range(1, n + 1):
        M = flint.fmpq_mat(k, k, [flint.fmpq(A[i][j].numerator, A[i][j].denominator) for i in range(k) for j in range(k)])
        d = M.det()
        minors.append(Fraction(int(d.p), int(d.q)))
        if minors[-1] <= 0:
            return False, minors
    return True, minors


def _gram(S: Sequence[Sequence[Fraction]]) -> list[list[Fraction]]:
    n = len(S)
    return [[sum((S[k][i] * S[k][j] for k in range(n)), Fraction(0)) for j in range(n)] for i in range(n)]


def _largest_eigenvalue(T: list[list[Fraction]], prec: int) -> Interval:
    """Enclosure of the largest eigenvalue of the exact symmetric matrix ``T`` (its real parts)."""
    spec = certify_spectrum(T, prec=prec)
    if not spec.eigenvalues:
        raise NumericalFailure("the eigenvalues of S^T S could not be isolated; raise the precision")
    return Interval(max(e.re.lo for e in spec.eigenvalues), max(e.re.hi for e in spec.eigenvalues))


def _sqrt_interval(iv: Interval) -> Interval:
    lo = ball(max(iv.lo, Fraction(0))).sqrt()
    hi = ball(iv.hi).sqrt()
    return Interval(max(interval_of(lo).lo, Fraction(0)), interval_of(hi).hi)


def skew_norm_enclosure(P: Any, *, prec: int = DEFAULT_PREC) -> tuple[Interval, str]:
    """``(enclosure of ||P - 11^T/2||_2, how its upper end is certified)``; the upper end is exact (Sylvester)."""
    rows = exact_matrix(P, "P")
    load_preference_matrix(rows)
    h = Fraction(1, 2)
    S = [[x - h for x in r] for r in rows]
    T = _gram(S)
    if all(v == 0 for r in T for v in r):
        return Interval(Fraction(0), Fraction(0)), "exact: S = 0"
    with working_precision(prec):
        lam = _largest_eigenvalue(T, prec)
        norm = _sqrt_interval(lam)
    s = Fraction(decimal_up(norm.hi, 20))
    for _ in range(4):
        ok, minors = positive_definite([[(s * s if i == j else 0) - T[i][j] for j in range(len(T))] for i in range(len(T))])
        if ok:
            return (Interval(min(norm.lo, s), s),
                    f"exact: {decimal_up(s, 20)}^2 I - S^T S is positive definite (Sylvester: {len(minors)} leading principal "
                    "minors > 0 in exact rational arithmetic)")
        s *= 1 + Fraction(1, 10**15)
    raise NumericalFailure("could not certify an upper bound on ||S||_2 (s^2 I - S^T S not positive definite); raise the precision")


def certify_contraction(P: Any, alpha: Any, beta: Any, lam: Any, *, q_factor: Any = Q_FACTOR, prec: int = DEFAULT_PREC,
                        allow_float: bool = False) -> ContractionCertificate:
    """A certified enclosure of ``q = alpha + q_factor beta lam ||P - 11^T/2||_2`` and whether ``q < 1`` (DYN-2).

    Inputs are read exactly (floats refused unless ``allow_float=True``: then their exact binary values). The upper
    end of ``||S||_2`` is an exact rational certificate (see the module docstring); so is the upper end of ``q``.
    """
    al = exact_rational(alpha, "alpha", allow_float=allow_float)
    be = exact_rational(beta, "beta", allow_float=allow_float)
    la = exact_rational(lam, "lam", allow_float=allow_float)
    if allow_float:
        P = exact_matrix(P, "P", allow_float=True)
    qf = exact_rational(q_factor, "q_factor")
    if not (0 <= al <= 1 and 0 <= la <= 1) or be <= 0 or qf < 0:
        raise InputError(f"alpha = {al}, lam = {la} must be in [0, 1], beta = {be} > 0, q_factor = {qf} >= 0")
    norm, how = skew_norm_enclosure(P, prec=prec)
    g = qf * be * la
    q = Interval(al + g * norm.lo, al + g * norm.hi)
    below = True if q.hi < 1 else (False if q.lo >= 1 else None)
    return ContractionCertificate(al, be, la, qf, norm, how, q, below, prec)


def certify_step_norm(P: Any, alpha: Any, beta: Any, lam: Any, pi: Any, *, prec: int = DEFAULT_PREC) -> Interval:
    """Enclosure of ``||C (alpha I + beta lam S M(pi))||_2`` on the tangent space at a rational interior ``pi``.

    The Jacobian of the MRS-IPO map in centred logits ``x = C log pi`` at ``pi`` (DYN-2's ``DG``); every
    entry is rational, so the enclosure is as tight as the precision.
    """
    rows = exact_matrix(P, "P")
    load_preference_matrix(rows)
    K = len(rows)
    al, be, la = exact_rational(alpha, "alpha"), exact_rational(beta, "beta"), exact_rational(lam, "lam")
    p = exact_vector(pi, "pi")
    if len(p) != K or any(v <= 0 for v in p) or sum(p) != 1:
        raise InputError(f"pi must be an interior point of the simplex with K = {K} exact entries summing to 1")
    h = Fraction(1, 2)
    S = [[x - h for x in r] for r in rows]
    M = [[(p[i] if i == j else 0) - p[i] * p[j] for j in range(K)] for i in range(K)]
    C = [[(1 if i == j else 0) - Fraction(1, K) for j in range(K)] for i in range(K)]
    inner = [[(al if i == j else 0) + be * la * sum((S[i][k] * M[k][j] for k in range(K)), Fraction(0)) for j in range(K)] for i in range(K)]
    DG = _mul(C, inner)
    X = _mul(_mul(C, _mul(_transpose(DG), DG)), C)
    with working_precision(prec):
        return _sqrt_interval(_largest_eigenvalue(X, prec))


def _mul(A, B):
    n, m, r = len(A), len(B), len(B[0])
    return [[sum((A[i][k] * B[k][j] for k in range(m)), Fraction(0)) for j in range(r)] for i in range(n)]


def _transpose(A):
    return [list(r) for r in zip(*A)]
