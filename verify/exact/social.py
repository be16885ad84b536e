"""Social-choice predicates on a preference matrix, exact on exact input.

Every function accepts anything :func:`verify.exact.objects.load_preference_matrix`
accepts (nested lists, numpy arrays, sympy matrices, ``.json``/``.csv`` paths).

* On **exact input** (``Fraction``, ``int``, sympy ``Rational``, exact strings)
  entries are compared exactly, so a margin of ``1e-30`` is a margin and a tie
  is a tie.
* On **input read with a tolerance** (floats, long decimal strings, mpmath
  numbers; ``P.exact`` is False) every comparison uses the absolute tolerance
  ``t = min(PREDICATE_FLOAT_TOL, P.tol)``: ``1e-12`` for float64 input, tighter
  for high-precision input (``P.tol`` is tied to its digits, see
  :func:`verify.exact.objects.read_number`). Then ``|P[i,j] - 1/2| <= t`` is a **tie**
  (neither ``i >_M j`` nor ``j >_M i``), ``i >_M j`` needs ``P[i,j] > 1/2 + t``,
  an inequality ``a >= b`` holds when ``a >= b - t`` and ``a > b`` when
  ``a > b + t``; Bradley–Terry's product identity is tested relatively,
  ``|P_ij P_jk P_ki - P_ji P_kj P_ik| <= t max(both sides)``. So a float
  Bradley–Terry matrix computed as ``1/(1 + exp(-(u_i - u_j)))`` is BT, and a
  float margin of ``1e-13`` counts as a tie.

Definitions (docs/claims.md §2):

* majority relation ``i >_M j`` iff ``P[i,j] > 1/2``;
* Condorcet winner ``c``: ``P[c,j] > 1/2`` for every ``j != c``;
* Smith set: the smallest non-empty set ``S`` with ``P[i,j] > 1/2`` for all
  ``i in S``, ``j not in S`` (dominating sets are nested, so it is unique);
* transitive: ``>_M`` is a strict linear order (no ties, no majority cycle);
* stochastic transitivity (Fishburn 1973): weak (WST) ``P[i,j] >= 1/2`` and
  ``P[j,k] >= 1/2`` imply ``P[i,k] >= 1/2``; its strict variant uses ``>``;
  strong (SST, docs/claims.md): transitive and ``i >_M j >_M k`` implies
  ``P[i,k] >= max(P[i,j], P[j,k])`` (strict SST: ``>``);
* Bradley–Terry: ``P[i,j] = sig(u_i - u_j)`` for some ``u``, i.e. every entry in
  ``(0, 1)`` and ``logit P[i,j] + logit P[j,k] = logit P[i,k]``, tested exactly as
  ``P[i,j] P[j,k] P[k,i] = P[j,i] P[k,j] P[i,k]``.

>>> P = [["1/2", "3/5", "4/5"], ["2/5", "1/2", "1"], ["1/5", "0", "1/2"]]
>>> condorcet_winner(P), smith_set(P), is_transitive(P), is_sst(P)
(0, [0], True, False)
>>> cyc = [["1/2", "7/10", "3/10"], ["3/10", "1/2", "7/10"], ["7/10", "3/10", "1/2"]]
>>> condorcet_winner(cyc), smith_set(cyc), majority_cycle(cyc)
(None, [0, 1, 2], [0, 1, 2])
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from verify.exact.objects import PreferenceMatrix, load_preference_matrix

__all__ = [
    "rows_of",
    "majority_relation",
    "condorcet_winner",
    "smith_set",
    "majority_order",
    "is_transitive",
    "is_wst",
    "is_sst",
    "rows_ordered",
    "sst_violation",
    "majority_cycle",
    "has_majority_cycle",
    "BTFit",
    "bradley_terry",
    "is_bt",
    "PREDICATE_FLOAT_TOL",
    "predicate_tolerance",
]

HALF = Fraction(1, 2)

#: Largest absolute tolerance of the predicates on input that is not exact (float64 input gets exactly this).
PREDICATE_FLOAT_TOL = 1e-12


class _Rows(tuple):
    """Rows of ``Fraction`` that remember the comparison tolerance of the matrix they came from."""

    tol: Fraction

    def __new__(cls, rows, tol: Fraction = Fraction(0)):
        self = super().__new__(cls, rows)
        self.tol = tol
        return self


def rows_of(P: Any) -> tuple[tuple[Fraction, ...], ...]:
    """The validated entries of ``P`` (rows of ``Fraction``), carrying the predicate tolerance as ``.tol``."""
    if isinstance(P, _Rows):
        return P
    pm = P if isinstance(P, PreferenceMatrix) else load_preference_matrix(P)
    tol = Fraction(0) if pm.exact else min(Fraction(repr(PREDICATE_FLOAT_TOL)), pm.tol or Fraction(repr(PREDICATE_FLOAT_TOL)))
    return _Rows(pm.entries, tol)


def predicate_tolerance(P: Any) -> Fraction:
    """The absolute tolerance the predicates use on ``P`` (0 for exact input; see the module docstring)."""
    return rows_of(P).tol


def _gt(a: Fraction, b: Fraction, t: Fraction) -> bool:
    return a > b + t


def _ge(a: Fraction, b: Fraction, t: Fraction) -> bool:
    return a >= b - t


def majority_relation(P: Any) -> list[list[bool]]:
    """``M[i][j]`` is True iff ``i >_M j``, i.e. ``P[i,j] > 1/2``.

    >>> majority_relation([[0.5, 0.7], [0.3, 0.5]])
    [[False, True], [False, False]]
    """
    R = rows_of(P)
    return [[_gt(x, HALF, R.tol) for x in r] for r in R]


def condorcet_winner(P: Any) -> int | None:
    """The Condorcet winner (index) of ``P``, or None when there is none.

    Parameters
    ----------
    P : preference matrix (anything ``load_preference_matrix`` accepts)

    Returns
    -------
    int or None
        The ``c`` with ``P[c,j] > 1/2`` for every ``j != c``.

    Examples
    --------
    >>> condorcet_winner([["1/2", "1/2"], ["1/2", "1/2"]]) is None
    True
    >>> condorcet_winner([[0.5, 0.4], [0.6, 0.5]])
    1
    """
    R = rows_of(P)
    K = len(R)
    for c in range(K):
        if all(_gt(R[c][j], HALF, R.tol) for j in range(K) if j != c):
            return c
    return None


def smith_set(P: Any) -> list[int]:
    """The Smith set of ``P`` as a sorted list of indices.

    The smallest non-empty ``S`` such that every member beats every
    non-member by a strict majority. Computed as the smallest of the closures
    ``C(c)`` of each response ``c`` under "``j`` must join when a member does
    not strictly beat it" (any dominating set containing ``c`` contains
    ``C(c)``, and ``C(c)`` is dominating).

    Examples
    --------
    >>> smith_set([["1/2", "1/2", "1"], ["1/2", "1/2", "1"], ["0", "0", "1/2"]])
    [0, 1]
    """
    R = rows_of(P)
    K = len(R)
    best: set[int] | None = None
    for c in range(K):
        closure = {c}
        queue = deque([c])
        while queue:
            i = queue.popleft()
            for j in range(K):
                if j not in closure and not _gt(R[i][j], HALF, R.tol):
                    closure.add(j)
                    queue.append(j)
        if best is None or len(closure) < len(best):
            best = closure
    assert best is not None
    return sorted(best)


def is_transitive(P: Any) -> bool:
    """Whether ``>_M`` is a strict linear order (the claims reference's "transitive (WST)").

    No ties off the diagonal and no majority cycle. Equal to
    ``is_wst(P, strict=True)`` when ``P`` has no ties.

    >>> is_transitive([["1/2", "1/2"], ["1/2", "1/2"]])
    False
    """
    return majority_order(P) is not None


def majority_order(P: Any) -> list[int] | None:
    """The responses from top to bottom when ``>_M`` is a strict linear order, else None.

    >>> majority_order([["1/2", "1/4", "1/3"], ["3/4", "1/2", "3/5"], ["2/3", "2/5", "1/2"]])
    [1, 2, 0]
    """
    R = rows_of(P)
    K = len(R)
    wins = [sum(1 for j in range(K) if _gt(R[i][j], HALF, R.tol)) for i in range(K)]
    if any(abs(R[i][j] - HALF) <= R.tol for i in range(K) for j in range(K) if i != j):
        return None
    order = sorted(range(K), key=lambda i: -wins[i])
    # a tournament is transitive iff its win counts are K-1, K-2, ..., 0
    if sorted(wins, reverse=True) != list(range(K - 1, -1, -1)):
        return None
    return order


def is_wst(P: Any, strict: bool = False) -> bool:
    """Weak stochastic transitivity.

    ``strict=False``: ``P[i,j] >= 1/2`` and ``P[j,k] >= 1/2`` imply
    ``P[i,k] >= 1/2`` (ties allowed). ``strict=True``: the same with ``>``
    throughout (the strict majority relation is transitive; it may be
    incomplete). For a matrix without ties both equal :func:`is_transitive`.

    >>> tie = [["1/2", "1/2", "3/5"], ["1/2", "1/2", "3/5"], ["2/5", "2/5", "1/2"]]
    >>> is_wst(tie), is_wst(tie, strict=True), is_transitive(tie)
    (True, True, False)
    """
    R = rows_of(P)
    K = len(R)
    if strict:
        rel = [[_gt(R[i][j], HALF, R.tol) for j in range(K)] for i in range(K)]
    else:
        rel = [[_ge(R[i][j], HALF, R.tol) for j in range(K)] for i in range(K)]
    for i in range(K):
        for j in range(K):
            if i == j or not rel[i][j]:
                continue
            for k in range(K):
                if k != i and k != j and rel[j][k] and not rel[i][k]:
                    return False
    return True


def sst_violation(P: Any, strict: bool = False) -> tuple[int, int, int] | None:
    """A triple ``(i, j, k)`` with ``i >_M j >_M k`` violating SST, or None.

    The condition checked is ``P[i,k] >= max(P[i,j], P[j,k])`` (``>`` when
    ``strict``). Does not check transitivity (see :func:`is_sst`).
    """
    R = rows_of(P)
    K = len(R)
    for i in range(K):
        for j in range(K):
            if not _gt(R[i][j], HALF, R.tol):
                continue
            for k in range(K):
                if k in (i, j) or not _gt(R[j][k], HALF, R.tol):
                    continue
                m = max(R[i][j], R[j][k])
                if not (_gt(R[i][k], m, R.tol) if strict else _ge(R[i][k], m, R.tol)):
                    return (i, j, k)
    return None


def is_sst(P: Any, strict: bool = False) -> bool:
    """Strong stochastic transitivity (docs/claims.md §2).

    ``P`` is transitive (``>_M`` a strict linear order) and
    ``i >_M j >_M k`` implies ``P[i,k] >= max(P[i,j], P[j,k])``; with
    ``strict=True`` the inequality is strict.

    Parameters
    ----------
    P : preference matrix (anything ``load_preference_matrix`` accepts)
    strict : bool

    Returns
    -------
    bool

    Examples
    --------
    >>> P = [["1/2", "3/5", "3/5"], ["2/5", "1/2", "3/5"], ["2/5", "2/5", "1/2"]]
    >>> is_sst(P), is_sst(P, strict=True)
    (True, False)
    """
    R = rows_of(P)
    return is_transitive(R) and sst_violation(R, strict=strict) is None


def rows_ordered(P: Any, strict: bool = False) -> bool:
    """Whether ``i >_M j`` implies ``P[i,k] >= P[j,k]`` for every ``k`` (``>`` if strict).

    Together with transitivity this is equivalent to SST (claim RANK-5
    checks the equivalence); on its own it is not (a matrix of ties has
    ordered rows vacuously).
    """
    R = rows_of(P)
    K = len(R)
    for i in range(K):
        for j in range(K):
            if _gt(R[i][j], HALF, R.tol):
                for k in range(K):
                    if not (_gt(R[i][k], R[j][k], R.tol) if strict else _ge(R[i][k], R[j][k], R.tol)):
                        return False
    return True


def majority_cycle(P: Any) -> list[int] | None:
    """A shortest cycle ``[a, b, c, ...]`` of ``>_M`` (``a >_M b >_M ... >_M a``), or None.

    With ties a majority cycle need not contain a 3-cycle, so this searches
    the strict majority digraph by breadth-first search from every vertex.

    >>> majority_cycle([["1/2", "3/5"], ["2/5", "1/2"]]) is None
    True
    """
    R = rows_of(P)
    K = len(R)
    best: list[int] | None = None
    for s in range(K):
        parent = {s: -1}
        queue = deque([s])
        found = None
        while queue and found is None:
            u = queue.popleft()
            for v in range(K):
                if _gt(R[u][v], HALF, R.tol):
                    if v == s:
                        found = u
                        break
                    if v not in parent:
                        parent[v] = u
                        queue.append(v)
        if found is not None:
            path = [found]
            while parent[path[-1]] != -1:
                path.append(parent[path[-1]])
            cyc = list(reversed(path))
            if best is None or len(cyc) < len(best):
                best = cyc
    return best


def has_majority_cycle(P: Any) -> bool:
    """Whether ``>_M`` has a cycle."""
    return majority_cycle(P) is not None


@dataclass(frozen=True)
class BTFit:
    """Result of the Bradley–Terry test.

    Attributes
    ----------
    is_bt : bool
        Whether ``P[i,j] = sig(u_i - u_j)`` for some finite ``u`` (exact test on exact
        input; relative tolerance :func:`predicate_tolerance` otherwise).
    odds : tuple of Fraction or None
        When ``is_bt``: the exact strengths ``w_i = exp(u_i - u_0) = P[i,0]/P[0,i]``,
        with ``P[i,j] = w_i / (w_i + w_j)``.
    utilities : tuple of float or None
        Centred utilities ``u``. When ``is_bt`` they are ``log w`` centred
        (exact up to float rounding of the logarithm); otherwise the
        least-squares fit ``u_i = mean_j logit P[i,j]`` when every entry is in
        ``(0, 1)``, else None.
    violation : tuple or None
        A triple ``(i, j, k)`` with ``logit P[i,j] + logit P[j,k] != logit P[i,k]``,
        or ``(i, j)`` with ``P[i,j]`` in ``{0, 1}``.
    residual : float
        Largest ``|logit P[i,j] - (u_i - u_j)|`` of the fit (0 for BT, inf when
        an entry is 0 or 1).
    """

    is_bt: bool
    odds: tuple[Fraction, ...] | None
    utilities: tuple[float, ...] | None
    violation: tuple[int, ...] | None
    residual: float


def _logit(x: Fraction) -> float:
    return math.log(x.numerator) - math.log(x.denominator - x.numerator)


def bradley_terry(P: Any) -> BTFit:
    """Exact Bradley–Terry test of ``P`` with the fitted utilities.

    Examples
    --------
    >>> fit = bradley_terry([["1/2", "2/3"], ["1/3", "1/2"]])
    >>> fit.is_bt, fit.odds
    (True, (Fraction(1, 1), Fraction(1, 2)))
    >>> round(fit.utilities[0] - fit.utilities[1], 12) == round(math.log(2), 12)
    True
    """
    R = rows_of(P)
    K = len(R)
    for i in range(K):
        for j in range(K):
            if R[i][j] == 0 or R[i][j] == 1:
                return BTFit(False, None, None, (i, j), math.inf)
    violation = None
    for i in range(K):
        for j in range(i + 1, K):
            for k in range(j + 1, K):
                lhs, rhs = R[i][j] * R[j][k] * R[k][i], R[j][i] * R[k][j] * R[i][k]
                if abs(lhs - rhs) > R.tol * max(lhs, rhs):
                    violation = (i, j, k)
                    break
            if violation:
                break
        if violation:
            break
    if violation is None:
        odds = tuple(R[i][0] / R[0][i] for i in range(K))
        logs = [math.log(w.numerator) - math.log(w.denominator) for w in odds]
        mean = sum(logs) / K
        u = tuple(x - mean for x in logs)
        res = max(abs(_logit(R[i][j]) - (u[i] - u[j])) for i in range(K) for j in range(K))
        return BTFit(True, odds, u, None, res)
    u = tuple(sum(_logit(R[i][j]) for j in range(K)) / K for i in range(K))
    res = max(abs(_logit(R[i][j]) - (u[i] - u[j])) for i in range(K) for j in range(K))
    return BTFit(False, None, u, violation, res)


def is_bt(P: Any) -> bool:
    """Whether ``P`` is Bradley–Terry: ``P[i,j] = sig(u_i - u_j)`` for a finite ``u``.

    Exact on exact input; on float input within the relative tolerance
    :data:`PREDICATE_FLOAT_TOL` (see the module docstring), so a float64
    Bradley–Terry matrix is recognised:

    >>> import math
    >>> u = [0.3, -1.2, 2.0]
    >>> is_bt([[1 / (1 + math.exp(-(a - b))) for b in u] for a in u])
    True

    >>> is_bt([["1/2", "2/3", "4/5"], ["1/3", "1/2", "2/3"], ["1/5", "1/3", "1/2"]])
    True
    >>> is_bt([["1/2", "3/5", "3/5"], ["2/5", "1/2", "3/5"], ["2/5", "2/5", "1/2"]])
    False
    """
    return bradley_terry(P).is_bt

