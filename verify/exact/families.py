"""The families of preference matrices that claims, tests and commands draw from: one copy of each.

Exact matrices are lists of rows of :class:`fractions.Fraction`; the float64 versions
are numpy arrays with the same entries. Names:

* ``P_cyc(a)``, the 3-cycle ``P[0,1] = P[1,2] = P[2,0] = 1/2 + a``: :func:`cyclic`,
  :func:`cyclic_float`;
* the skew part ``S = P - 11^T/2`` and back: :func:`skew`, :func:`from_skew`;
  *balanced* means ``S 1 = 0`` (every row of ``P`` sums to ``K/2``): :func:`is_balanced`;
* random draws: :func:`random_matrix` (any, open, transitive, with a planted Smith set or
  Condorcet winner), :func:`random_interior` (a point of the open simplex),
  :func:`random_balanced` / :func:`random_balanced_skew` (circulant or sums of cycle flows),
  :func:`random_sst` / :func:`random_sst_float` (strictly SST in rank order
  ``0 > 1 > ... > K-1``, from :func:`sst_from_increments`), :func:`random_bt` (Bradley–Terry
  with rational strengths).

**Random convention.** Every random family takes a numpy ``Generator`` as its first
argument, ``rng = numpy.random.default_rng(seed)``; a checker gets one from its context,
``ctx.rng(name)`` (a seed derived from the run seed, the claim id and ``name``). The same
generator state gives the same matrix, so a seed reproduces a whole run. Whether ``P`` is
Bradley–Terry is :func:`verify.exact.social.is_bt` (exact on exact input).

>>> import numpy as np
>>> cyclic("1/5")[0]
[Fraction(1, 2), Fraction(7, 10), Fraction(3, 10)]
>>> P = random_balanced(np.random.default_rng(0), 5, "cycles")
>>> is_balanced(P), is_balanced(cyclic("1/5")), is_balanced(random_sst(np.random.default_rng(0), 3))
(True, True, False)
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Sequence

import numpy as np

__all__ = [
    "HALF",
    "MATRIX_KINDS",
    "BALANCED_KINDS",
    "cyclic",
    "cyclic_float",
    "skew",
    "from_skew",
    "is_balanced",
    "random_matrix",
    "random_interior",
    "random_balanced_skew",
    "random_balanced",
    "sst_from_increments",
    "random_sst",
    "random_sst_float",
    "random_bt",
]

HALF = Fraction(1, 2)

#: kinds of :func:`random_matrix`
MATRIX_KINDS = ("any", "open", "transitive", "smith", "condorcet")
#: kinds of :func:`random_balanced`
BALANCED_KINDS = ("circulant", "cycles")


def _exact(x: Any) -> Fraction:
    """An exact number: floats by their shortest decimal ``repr`` (0.1 -> 1/10), the rest by ``Fraction``."""
    if isinstance(x, (float, np.floating)):
        return Fraction(repr(float(x)))
    return Fraction(x)


# --------------------------------------------------------------------------- the 3-cycle


def cyclic(a: Any) -> list[list[Fraction]]:
    """``P_cyc(a)`` exactly: ``P[0,1] = P[1,2] = P[2,0] = 1/2 + a`` (``0 <= a <= 1/2``).

    ``a`` may be a ``Fraction``, an int, an exact string (``"1/5"``) or a float (read by its
    decimal ``repr``, so ``0.2`` is ``1/5``).

    >>> cyclic(0.25)[2]
    [Fraction(3, 4), Fraction(1, 4), Fraction(1, 2)]
    """
    a = _exact(a)
    if not 0 <= a <= HALF:
        raise ValueError(f"cyclic margin a = {a}, expected 0 <= a <= 1/2")
    h = HALF
    return [[h, h + a, h - a], [h - a, h, h + a], [h + a, h - a, h]]


def cyclic_float(a: float) -> np.ndarray:
    """``P_cyc(a)`` as a float64 ``(3, 3)`` array (``0 <= a <= 1/2``).

    >>> cyclic_float(0.4)[0].tolist()
    [0.5, 0.9, 0.09999999999999998]
    """
    if not 0 <= a <= 0.5:
        raise ValueError(f"cyclic margin a = {a}, expected 0 <= a <= 1/2")
    P = np.full((3, 3), 0.5)
    for i, j in ((0, 1), (1, 2), (2, 0)):
        P[i, j] = 0.5 + a
        P[j, i] = 0.5 - a
    return P


# --------------------------------------------------------------------------- skew part, balance


def skew(P: Any) -> list[list[Fraction]]:
    """``S = P - 11^T/2`` exactly (float entries at their exact binary value)."""
    return [[Fraction(x) - HALF for x in row] for row in P]


def from_skew(S: Any) -> list[list[Fraction]]:
    """``P = 11^T/2 + S`` exactly."""
    return [[HALF + Fraction(x) for x in row] for row in S]


def is_balanced(P: Any) -> bool:
    """Whether ``S 1 = 0`` for ``S = P - 11^T/2``, exactly (float entries at their exact binary value).

    >>> is_balanced([[0.5, 0.6], [0.4, 0.5]]), is_balanced(cyclic(0))
    (False, True)
    """
    return all(sum(Fraction(x) - HALF for x in row) == 0 for row in P)


# --------------------------------------------------------------------------- random matrices


def random_matrix(rng: np.random.Generator, K: int, den: int = 20, kind: str = "any") -> list[list[Fraction]]:
    """A random valid ``P`` with entries in ``{0, 1/den, ..., 1}``, upper entries drawn row by row.

    ``kind``: ``any`` (entries in ``[0, 1]``); ``open`` (off-diagonal entries in ``(0, 1)``);
    ``transitive`` (order ``0 > 1 > ...``, every upper entry ``> 1/2``); ``smith`` (a planted
    dominating set ``{0..s-1}``, ``1 <= s < K``, so the Smith set is a proper subset);
    ``condorcet`` (0 beats everyone).

    >>> import numpy as np
    >>> P = random_matrix(np.random.default_rng(1), 3, den=10, kind="transitive")
    >>> all(P[i][j] > HALF for i in range(3) for j in range(i + 1, 3))
    True
    """
    if kind not in MATRIX_KINDS:
        raise ValueError(f"kind = {kind!r}, expected one of {MATRIX_KINDS}")
    P = [[HALF] * K for _ in range(K)]
    s = int(rng.integers(1, K)) if kind == "smith" else 1
    for i in range(K):
        for j in range(i + 1, K):
            if kind == "transitive" or (kind == "smith" and i < s <= j) or (kind == "condorcet" and i == 0):
                v = Fraction(int(rng.integers(den // 2 + 1, den + 1)), den)
            elif kind == "open":
                v = Fraction(int(rng.integers(1, den)), den)
            else:
                v = Fraction(int(rng.integers(0, den + 1)), den)
            P[i][j] = v
            P[j][i] = 1 - v
    return P


def random_interior(rng: np.random.Generator, K: int, den: int = 20) -> tuple[Fraction, ...]:
    """A point of the open simplex: weights drawn from ``{1, ..., den}``, normalised exactly."""
    w = [Fraction(int(rng.integers(1, den + 1))) for _ in range(K)]
    s = sum(w)
    return tuple(x / s for x in w)


def random_balanced_skew(rng: np.random.Generator, K: int, kind: str = "circulant") -> list[list[Fraction]]:
    """A random skew ``S`` with ``S 1 = 0`` and ``|S_ij| <= 1/2``, exactly.

    ``circulant``: ``S_ij = c_{(j-i) mod K}`` with ``c_{K-d} = -c_d`` drawn from ``{-1/2, ..., 1/2}``
    (step 1/100); ``cycles``: a sum of 2 to 4 random directed cycle flows of weight in
    ``(0, 1/2]`` (not circulant in general), scaled to ``max |S_ij| = 1/2`` when larger. An
    all-zero draw is replaced by the 3-cycle flow ``0 -> 1 -> 2 -> 0`` of weight 1/4.
    """
    if kind not in BALANCED_KINDS:
        raise ValueError(f"kind = {kind!r}, expected one of {BALANCED_KINDS}")
    S = [[Fraction(0)] * K for _ in range(K)]
    if kind == "circulant":
        c = [Fraction(0)] * K
        for d in range(1, (K + 1) // 2):
            c[d] = Fraction(int(rng.integers(-50, 51)), 100)
            c[K - d] = -c[d]
        for i in range(K):
            for j in range(K):
                S[i][j] = c[(j - i) % K]
    else:
        for _ in range(int(rng.integers(2, 5))):
            L = int(rng.integers(3, K + 1))
            cyc = [int(v) for v in rng.permutation(K)[:L]]
            w = Fraction(int(rng.integers(1, 51)), 100)
            for t in range(L):
                i, j = cyc[t], cyc[(t + 1) % L]
                S[i][j] += w
                S[j][i] -= w
    m = max(abs(x) for r in S for x in r)
    if m == 0:
        for i, j in ((0, 1), (1, 2), (2, 0)):
            S[i][j], S[j][i] = Fraction(1, 4), -Fraction(1, 4)
        m = Fraction(1, 4)
    if m > HALF:
        S = [[x / (2 * m) for x in r] for r in S]
    return S


def random_balanced(rng: np.random.Generator, K: int, kind: str = "circulant") -> list[list[Fraction]]:
    """A random balanced ``P = 11^T/2 + S`` (``S 1 = 0``), exactly; ``S`` from :func:`random_balanced_skew`."""
    return from_skew(random_balanced_skew(rng, K, kind))


def sst_from_increments(inc: Sequence[Sequence[Any]]) -> list[list[Fraction]]:
    """A strictly SST matrix in rank order ``0 > 1 > ... > K-1`` (SST with ties when some increment is 0).

    With increments ``a_ij >= 0`` (``i < j``; other entries ignored) put
    ``t_ij = a_ij + max(t_{i,j-1}, t_{i+1,j})`` (``t_ii = 0``), which is increasing in ``j`` and
    decreasing in ``i`` (strictly when every ``a_ij > 0``), and ``P[i,j] = 1/2 + t/(2(1+t))``:
    in ``[1/2, 1)`` with ordered rows.
    """
    K = len(inc)
    t = [[Fraction(0)] * K for _ in range(K)]
    for i in range(K - 2, -1, -1):
        for j in range(i + 1, K):
            left = t[i][j - 1] if j - 1 > i else Fraction(0)
            down = t[i + 1][j] if i + 1 < j else Fraction(0)
            t[i][j] = Fraction(inc[i][j]) + max(left, down)
    P = [[HALF] * K for _ in range(K)]
    for i in range(K):
        for j in range(i + 1, K):
            P[i][j] = HALF + t[i][j] / (2 * (1 + t[i][j]))
            P[j][i] = 1 - P[i][j]
    return P


def random_sst(rng: np.random.Generator, K: int, den: int = 40, low: int = 1, high: int | None = None) -> list[list[Fraction]]:
    """A random SST matrix in rank order ``0 > 1 > ... > K-1``, exactly.

    A full ``K x K`` grid of increments ``n/den`` with ``n`` drawn from ``{low, ..., high}``
    (``high = den`` by default; only the upper triangle is used) goes through
    :func:`sst_from_increments`; ``low >= 1`` gives a strictly SST matrix, ``low = 0`` allows ties.
    """
    hi = den if high is None else high
    inc = [[Fraction(int(rng.integers(low, hi + 1)), den) for _ in range(K)] for _ in range(K)]
    return sst_from_increments(inc)


def random_sst_float(rng: np.random.Generator, K: int, n: int | None = None) -> np.ndarray:
    """Strictly SST float64 matrices (rank order ``0 > 1 > ... > K-1``), ``(K, K)`` or ``(n, K, K)``.

    The construction of :func:`sst_from_increments` with increments ``a_ij ~ U(1/64, 2)``, batched.
    """
    shape = (1 if n is None else n,)
    inc = rng.uniform(1 / 64, 2, shape + (K, K))
    t = np.zeros(shape + (K, K))
    for i in range(K - 2, -1, -1):
        for j in range(i + 1, K):
            left = t[:, i, j - 1] if j - 1 > i else 0.0
            down = t[:, i + 1, j] if i + 1 < j else 0.0
            t[:, i, j] = inc[:, i, j] + np.maximum(left, down)
    P = np.full(shape + (K, K), 0.5)
    iu = np.triu_indices(K, 1)
    up = 0.5 + t[:, iu[0], iu[1]] / (2 * (1 + t[:, iu[0], iu[1]]))
    P[:, iu[0], iu[1]] = up
    P[:, iu[1], iu[0]] = 1 - up
    return P[0] if n is None else P


def random_bt(rng: np.random.Generator, K: int) -> tuple[list[list[Fraction]], list[Fraction]]:
    """A random Bradley–Terry ``P[i,j] = w_i/(w_i + w_j)`` with rational strengths ``w_i = n/d``,
    ``n`` in ``{1..40}``, ``d`` in ``{1..10}``; returns ``(P, w)``."""
    w = []
    for _ in range(K):
        num = int(rng.integers(1, 41))
        w.append(Fraction(num, int(rng.integers(1, 11))))
    P = [[w[i] / (w[i] + w[j]) for j in range(K)] for i in range(K)]
    return P, w
