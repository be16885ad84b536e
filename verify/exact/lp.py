"""Exact linear programs for ranking margins, and Farkas certificates.

For a preference matrix ``P`` and a list of ordered pairs ``(i, j)`` ("``i``
must score strictly above ``j``"), the scores under a sampler ``mu`` are
``s = P mu`` and the margin of pair ``r = (i, j)`` is ``D_r mu`` with
``D_r = P[i,:] - P[j,:]``. The max-min-margin LP

    t* = max_{mu in simplex} min_r D_r mu

and its dual

    t* = min_{y in simplex over pairs} max_k (D^T y)_k

are solved exactly, each by sympy's rational simplex through its public
``sympy.solvers.simplex.linprog``.
Both optimal points are returned: ``min_r D_r mu* = t* = max_k (D^T y*)_k``
certifies optimality exactly (weak duality), and

* ``t* > 0``: ``mu*`` satisfies every strict inequality, with margin ``t*``;
* ``t* <= 0``: ``y*`` is a *Farkas certificate*: ``y >= 0``, ``sum y = 1``,
  ``D^T y <= 0``, so for every ``mu >= 0`` the weighted sum
  ``sum_r y_r D_r mu = (D^T y) . mu <= 0`` and the margins cannot all be
  positive (no sampler, interior or not, works).

Certificates are checked with :class:`fractions.Fraction` only
(:func:`certify`, :func:`check_margin_certificate`, :func:`check_farkas`),
independently of the solver.

>>> P = [["1/2", "3/5"], ["2/5", "1/2"]]
>>> res = max_min_margin(P, [(0, 1)])
>>> res.t, check_margin_certificate(P, [(0, 1)], res.mu) == res.t
(Fraction(1, 10), True)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

from verify.exact.social import rows_of

__all__ = [
    "MarginLP",
    "difference_rows",
    "margins",
    "check_margin_certificate",
    "dual_value",
    "check_farkas",
    "max_min_margin",
    "certify",
    "float_max_min_margin",
]

Pair = tuple[int, int]


@dataclass(frozen=True)
class MarginLP:
    """Solution of the max-min-margin LP with its exact optimality certificate.

    Attributes
    ----------
    pairs : tuple of (i, j)
        The required strict inequalities ``s_i > s_j``.
    t : Fraction
        The optimal max-min margin over the closed simplex.
    mu : tuple of Fraction
        A primal optimum (a point of the simplex with ``min_r D_r mu = t``).
    y : tuple of Fraction
        A dual optimum (weights on the pairs, summing to 1, with
        ``max_k (D^T y)_k = t``); a Farkas certificate when ``t <= 0``.
    method : str
        ``"exact"`` (rational simplex) or ``"float+exact"`` (a float LP whose
        rounded solution was re-verified exactly).
    """

    pairs: tuple[Pair, ...]
    t: Fraction
    mu: tuple[Fraction, ...]
    y: tuple[Fraction, ...]
    method: str = "exact"

    @property
    def feasible(self) -> bool:
        """Whether some sampler satisfies every strict inequality (``t > 0``)."""
        return self.t > 0


def difference_rows(P: Any, pairs: Sequence[Pair]) -> list[list[Fraction]]:
    """Rows ``D_r = P[i,:] - P[j,:]`` for the pairs ``r = (i, j)``."""
    R = rows_of(P)
    return [[a - b for a, b in zip(R[i], R[j])] for i, j in pairs]


def margins(P: Any, pairs: Sequence[Pair], mu: Sequence[Fraction]) -> list[Fraction]:
    """Exact margins ``(P mu)_i - (P mu)_j`` for each pair."""
    D = difference_rows(P, pairs)
    return [sum((d * m for d, m in zip(row, mu)), Fraction(0)) for row in D]


def check_margin_certificate(P: Any, pairs: Sequence[Pair], mu: Sequence[Any]) -> Fraction:
    """Check that ``mu`` is a point of the simplex and return its exact min margin.

    Raises ``ValueError`` when ``mu`` is not in the simplex.
    """
    mu = [Fraction(x) for x in mu]
    if any(m < 0 for m in mu) or sum(mu) != 1:
        raise ValueError("mu is not a point of the simplex")
    if not pairs:
        raise ValueError("no pairs: the margin of an empty set of inequalities is undefined")
    return min(margins(P, pairs, mu))


def dual_value(P: Any, pairs: Sequence[Pair], y: Sequence[Any]) -> Fraction:
    """``max_k (D^T y)_k`` for weights ``y`` on the pairs (exact)."""
    D = difference_rows(P, pairs)
    K = len(D[0])
    y = [Fraction(v) for v in y]
    return max(sum((y[r] * D[r][k] for r in range(len(D))), Fraction(0)) for k in range(K))


def check_farkas(P: Any, pairs: Sequence[Pair], y: Sequence[Any]) -> bool:
    """Exact check of a Farkas certificate of infeasibility.

    True iff ``y >= 0``, ``y != 0`` and ``D^T y <= 0`` componentwise: then no
    ``mu >= 0`` (in particular no interior sampler) has every margin positive.

    >>> P = [["1/2", "3/5", "4/5", "3/5"], ["2/5", "1/2", "1", "4/5"],
    ...      ["1/5", "0", "1/2", "3/5"], ["2/5", "1/5", "2/5", "1/2"]]
    >>> check_farkas(P, [(0, 1), (1, 2), (2, 3)], ["1/2", "0", "1/2"])
    True
    """
    y = [Fraction(v) for v in y]
    if len(y) != len(pairs) or any(v < 0 for v in y) or not any(y):
        return False
    return dual_value(P, pairs, y) <= 0


def _sym(x: Fraction):
    import sympy

    return sympy.Rational(x.numerator, x.denominator)


def _frac(x) -> Fraction:
    import sympy

    x = sympy.Rational(x)
    return Fraction(int(x.p), int(x.q))


def _max_min(M: Sequence[Sequence[Fraction]], linprog: Any) -> tuple[Fraction, tuple[Fraction, ...]]:
    """``max_{x in simplex} min_i (M x)_i`` and an optimal ``x``, exactly, for entries of ``M`` in ``[-1, 1]``.

    One LP through sympy's public ``linprog`` (``sympy.solvers.simplex.linprog``, a rational
    simplex). Every variable is kept nonnegative: the value lies in ``[-1, 1]``, so it is
    written ``u - 1`` with ``u >= 0``:  minimise ``-u`` s.t. ``u - M_i x <= 1`` (each row ``i``),
    ``sum x = 1``. (Written with a free variable, or the dual as a minimisation, sympy 1.14's
    ``linprog`` raised ``InfeasibleLPError`` on feasible instances or returned a non-optimal point.)
    """
    import sympy

    n, m = len(M), len(M[0])
    Q = lambda rows: sympy.Matrix([[_sym(Fraction(v)) for v in r] for r in rows])  # noqa: E731
    opt, x = linprog(Q([[0] * m + [-1]]), Q([[-v for v in row] + [1] for row in M]), Q([[1]] * n), Q([[1] * m + [0]]), Q([[1]]))
    return -_frac(opt) - 1, tuple(_frac(v) for v in x[:m])


def max_min_margin(P: Any, pairs: Sequence[Pair], method: str = "exact") -> MarginLP:
    """Solve the max-min-margin LP and return it with an exact certificate.

    Parameters
    ----------
    P : preference matrix
    pairs : list of (i, j)
        Required strict inequalities ``(P mu)_i > (P mu)_j``; non-empty.
    method : {"exact", "float"}
        ``"exact"``: the primal and the dual LP, each by sympy's rational simplex (its public
        ``sympy.solvers.simplex.linprog``). ``"float"``: scipy's HiGHS, then the rounded primal
        and dual points are re-verified exactly; when the rounded points do not certify
        the same sign of ``t`` the exact solver is used.

    Returns
    -------
    MarginLP
        With ``min_r D_r mu = t = max_k (D^T y)_k`` checked exactly (:func:`certify`) for
        ``"exact"``; for ``"float"`` ``t`` is the exact margin of the rounded ``mu`` when
        positive, else the exact dual value of the rounded ``y``.

    Raises
    ------
    ArithmeticError
        When the solver's points do not certify ``t`` exactly and no re-verified repair exists
        (the solver is never trusted).
    """
    pairs = tuple((int(i), int(j)) for i, j in pairs)
    if not pairs:
        raise ValueError("no pairs: nothing to separate")
    if method == "float":
        res = float_max_min_margin(P, pairs)
        if res is not None:
            return res
        method = "exact"
    if method != "exact":
        raise ValueError(f"method = {method!r}, expected 'exact' or 'float'")
    try:
        from sympy.solvers.simplex import InfeasibleLPError, UnboundedLPError, linprog
    except ImportError:  # pragma: no cover - an older sympy: the float LP, re-verified exactly
        alt = float_max_min_margin(P, pairs, denom=10**12)
        if alt is None:
            raise
        return alt

    D = difference_rows(P, pairs)
    R, K = len(D), len(D[0])
    # the primal max_{mu} min_r D_r mu, and the dual min_{y} max_k (D^T y)_k = -max_{y} min_k (-D^T y)_k,
    # each as one max-min LP (entries of D in [-1, 1]); certify() then checks that the values agree
    t, mu = _max_min(D, linprog)
    try:
        _, y = _max_min([[-D[r][k] for r in range(R)] for k in range(K)], linprog)
    except (InfeasibleLPError, UnboundedLPError):  # the dual always has an optimum: a solver failure, repaired below
        y = (Fraction(0),) * R
    res = MarginLP(pairs, t, mu, y, "exact")
    try:
        certify(P, res)
    except ArithmeticError:
        # never trust the solver: repair the dual by a float solve re-verified exactly, or give up
        alt = float_max_min_margin(P, pairs, denom=10**12)
        if alt is None or alt.t != t:
            raise
        res = MarginLP(pairs, t, mu, alt.y, "exact")
        certify(P, res)
    return res


def certify(P: Any, res: MarginLP) -> None:
    """Check exactly that ``res.mu`` and ``res.y`` certify ``res.t``; raise ``ArithmeticError`` otherwise.

    ``mu`` and ``y`` must be points of their simplices with ``min_r D_r mu = t = max_k (D^T y)_k``:
    by weak duality both are then optimal and ``t`` is the optimum.

    >>> P = [["1/2", "3/5"], ["2/5", "1/2"]]
    >>> certify(P, MarginLP(((0, 1),), Fraction(1, 10), (Fraction(1), Fraction(0)), (Fraction(1),)))
    >>> certify(P, MarginLP(((0, 1),), Fraction(1, 5), (Fraction(1), Fraction(0)), (Fraction(1),)))
    Traceback (most recent call last):
    ...
    ArithmeticError: LP certificate mismatch: primal margin 1/10, t 1/5, dual value 1/10
    """
    if any(m < 0 for m in res.mu) or sum(res.mu) != 1:
        raise ArithmeticError("LP primal point is not in the simplex")
    if any(v < 0 for v in res.y) or sum(res.y) != 1:
        raise ArithmeticError("LP dual point is not in the simplex")
    lo = min(margins(P, res.pairs, res.mu))
    hi = dual_value(P, res.pairs, res.y)
    if not (lo == res.t == hi):
        raise ArithmeticError(f"LP certificate mismatch: primal margin {lo}, t {res.t}, dual value {hi}")


def _round_simplex(v: Sequence[float], denom: int) -> tuple[Fraction, ...]:
    w = [max(Fraction(x).limit_denominator(denom), Fraction(0)) for x in v]
    total = sum(w)
    if total == 0:
        return tuple(Fraction(1, len(w)) for _ in w)
    return tuple(x / total for x in w)


def float_max_min_margin(P: Any, pairs: Sequence[Pair], denom: int = 10**6) -> MarginLP | None:
    """Float LP (scipy HiGHS) re-verified exactly; None when scipy is missing or rounding fails.

    The returned ``t`` is an exact value: the min margin of the rounded
    ``mu`` when it is positive (a valid certificate of feasibility, possibly
    below the optimum), else the dual value of the rounded ``y`` when it is
    ``<= 0`` (a valid Farkas certificate).
    """
    try:
        import numpy as np
        from scipy.optimize import linprog as flinprog
    except ImportError:  # pragma: no cover - scipy ships with the test environment
        return None
    pairs = tuple(pairs)
    D = difference_rows(P, pairs)
    R, K = len(D), len(D[0])
    Df = np.array([[float(d) for d in row] for row in D])
    c = np.zeros(K + 1)
    c[-1] = -1.0
    A = np.hstack([-Df, np.ones((R, 1))])
    r = flinprog(
        c,
        A_ub=A,
        b_ub=np.zeros(R),
        A_eq=np.hstack([np.ones((1, K)), np.zeros((1, 1))]),
        b_eq=[1.0],
        bounds=[(0, None)] * K + [(None, None)],
        method="highs",
    )
    if r.status != 0:
        return None
    mu = _round_simplex(r.x[:K], denom)
    t_primal = min(margins(P, pairs, mu))
    y_float = -np.asarray(r.ineqlin.marginals)
    y = _round_simplex(y_float, denom)
    t_dual = dual_value(P, pairs, y)
    if t_primal > 0:
        return MarginLP(pairs, t_primal, mu, y, "float+exact")
    if t_dual <= 0:
        return MarginLP(pairs, t_dual, mu, y, "float+exact")
    return None
