"""Hypothesis strategies for preference matrices, simplex points and parameters.

Every strategy draws only admissible objects (valid ``P``, points of the
simplex, ``beta > 0``). ``K`` may be an int or a strategy of ints.
Exact strategies return :class:`fractions.Fraction` entries.

A user's own property test:

>>> from hypothesis import given, settings
>>> from verify.engine.strategies import preference_matrices, simplex_points
>>> @settings(max_examples=20, database=None)
... @given(preference_matrices(K=3, kind="sst", exact=True))
... def test_sst_has_condorcet_winner(P):
...     assert any(all(P[c][j] > 0.5 for j in range(3) if j != c) for c in range(3))
>>> test_sst_has_condorcet_winner()
"""

from __future__ import annotations

import functools
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from verify.exact.families import sst_from_increments

__all__ = [
    "KINDS",
    "preference_matrices",
    "simplex_points",
    "betas",
    "unit_params",
    "sst_from_increments",
]

KINDS = ("any", "cyclic", "wst", "sst", "bt")

_HALF = Fraction(1, 2)


def _K(draw, K: Any, min_K: int, max_K: int) -> int:
    if K is None:
        return draw(st.integers(min_K, max_K))
    if isinstance(K, int):
        if K < 2:
            raise ValueError(f"K = {K}, expected K >= 2")
        return K
    return draw(K)


@st.composite
def _fractions(draw, lo: Fraction, hi: Fraction, max_denominator: int) -> Fraction:
    """Fractions in ``[lo, hi]`` with denominator ``<= max_denominator``: a denominator, then a numerator.

    The same values as ``st.fractions(lo, hi, max_denominator=...)``, drawn with two integer draws
    (``st.fractions`` builds new strategies at every draw, which made fuzzing ~10 times slower);
    shrinks toward denominator 1 and toward ``lo``.
    """
    d = draw(st.integers(1, max_denominator))
    n_lo = -((-lo.numerator * d) // lo.denominator)  # ceil(lo d)
    n_hi = (hi.numerator * d) // hi.denominator  # floor(hi d)
    if n_lo > n_hi:  # no multiple of 1/d in [lo, hi]: fall back to the ends
        return lo if draw(st.booleans()) else hi
    return Fraction(draw(st.integers(n_lo, n_hi)), d)


@functools.lru_cache(maxsize=256)
def _unit(exact: bool, lo: Fraction = Fraction(0), hi: Fraction = Fraction(1), max_denominator: int = 64):
    """Numbers in ``[lo, hi]`` as fractions (cached: building strategies per draw is slow)."""
    if exact:
        den = max(max_denominator, Fraction(lo).denominator, Fraction(hi).denominator)
        return _fractions(Fraction(lo), Fraction(hi), den)
    return st.floats(min_value=float(lo), max_value=float(hi), allow_nan=False, allow_infinity=False).map(
        lambda x: Fraction(repr(x))
    )


@functools.lru_cache(maxsize=4)
def _above_half(exact: bool):
    """Numbers in ``(1/2, 1]`` (cached)."""
    return _unit(exact, Fraction(1, 2), Fraction(1)).filter(lambda v: v > _HALF)


def _permute(P: list[list[Fraction]], perm: list[int]) -> list[list[Fraction]]:
    K = len(P)
    inv = [0] * K
    for pos, item in enumerate(perm):
        inv[item] = pos
    return [[P[inv[i]][inv[j]] for j in range(K)] for i in range(K)]


def preference_matrices(
    K: Any = None,
    kind: str = "any",
    exact: bool = False,
    *,
    min_K: int = 2,
    max_K: int = 6,
    permute: bool = True,
):
    """Valid preference matrices as lists of rows of ``Fraction``.

    Parameters
    ----------
    K : int or strategy, optional
        Size (default: drawn in ``[min_K, max_K]``).
    kind : {"any", "cyclic", "wst", "sst", "bt"}
        ``any``: any valid ``P``; ``cyclic``: has a majority 3-cycle (needs K >= 3);
        ``wst``: the majority relation is a strict linear order; ``sst``: strictly
        strongly transitive; ``bt``: Bradley–Terry, ``P[i,j] = w_i/(w_i+w_j)`` with
        rational weights (so exact draws stay rational).
    exact : bool
        Draw entries as fractions with small denominators (else decimals of floats).
    permute : bool
        Relabel responses by a random permutation (so the top is not always 0).

    Arguments are validated when the strategy is built (``ValueError``).
    """
    if kind not in KINDS:
        raise ValueError(f"kind = {kind!r}, expected one of {KINDS}")
    if isinstance(K, int) and K < 2:
        raise ValueError(f"K = {K}, expected K >= 2")
    if kind == "cyclic" and isinstance(K, int) and K < 3:
        raise ValueError("cyclic matrices need K >= 3")
    return _preference_matrices(K, kind, exact, min_K=min_K, max_K=max_K, permute=permute)


@st.composite
def _preference_matrices(
    draw,
    K: Any = None,
    kind: str = "any",
    exact: bool = False,
    *,
    min_K: int = 2,
    max_K: int = 6,
    permute: bool = True,
) -> list[list[Fraction]]:
    """The drawing behind :func:`preference_matrices` (arguments already validated)."""
    if kind not in KINDS:
        raise ValueError(f"kind = {kind!r}, expected one of {KINDS}")
    k = _K(draw, K, max(min_K, 3) if kind == "cyclic" else min_K, max_K)
    if kind == "cyclic" and k < 3:
        raise ValueError("cyclic matrices need K >= 3")
    P = [[_HALF] * k for _ in range(k)]
    if kind == "bt":
        w = [draw(st.fractions(Fraction(1, 16), Fraction(16), max_denominator=16) if exact else _unit(False, Fraction(1, 16), Fraction(16))) for _ in range(k)]
        for i in range(k):
            for j in range(k):
                if i != j:
                    P[i][j] = w[i] / (w[i] + w[j])
        return P
    if kind == "sst":
        inc = [[Fraction(0)] * k for _ in range(k)]
        for i in range(k):
            for j in range(i + 1, k):
                inc[i][j] = draw(_unit(exact, Fraction(1, 64), Fraction(2), 32))
        P = sst_from_increments(inc)
    else:
        lo = Fraction(0)
        for i in range(k):
            for j in range(i + 1, k):
                if kind == "wst":
                    x = draw(_above_half(exact))
                else:
                    x = draw(_unit(exact, lo, Fraction(1)))
                P[i][j] = x
                P[j][i] = 1 - x
        if kind == "cyclic":
            for (a, b) in ((0, 1), (1, 2), (2, 0)):
                x = draw(_above_half(exact))
                P[a][b] = x
                P[b][a] = 1 - x
    if permute:
        perm = draw(st.permutations(list(range(k))))
        P = _permute(P, perm)
    return P


@st.composite
def simplex_points(draw, K: Any = None, interior: bool = True, exact: bool = False, *, min_K: int = 2, max_K: int = 6, min_entry: Fraction = Fraction(1, 1000)):
    """Points of the simplex as tuples of ``Fraction`` (exactly normalised).

    ``interior=True`` keeps every entry ``>= min_entry / K`` after normalisation
    (strictly positive); ``interior=False`` also allows exact zeros.
    """
    k = _K(draw, K, min_K, max_K)
    lo = Fraction(min_entry) if interior else Fraction(0)
    # on the boundary, each entry is an exact zero with probability about 1/4 (else zeros would be rare draws)
    w = [Fraction(0) if not interior and draw(st.integers(0, 3)) == 0 else draw(_unit(exact, lo, Fraction(1), 1000)) for _ in range(k)]
    if sum(w) == 0:
        w[draw(st.integers(0, k - 1))] = Fraction(1)
    total = sum(w)
    return tuple(x / total for x in w)


def betas(min_value: float = 1e-3, max_value: float = 50.0, exact: bool = False):
    """Positive ``beta`` values (Fraction)."""
    lo, hi = Fraction(repr(min_value)), Fraction(repr(max_value))
    return _unit(exact, lo, hi, 64).filter(lambda b: b > 0)


def unit_params(exact: bool = False, open_left: bool = False):
    """Parameters in ``[0, 1]`` (``alpha``, ``lambda``); ``(0, 1]`` with ``open_left``."""
    s = _unit(exact, Fraction(0), Fraction(1), 64)
    return s.filter(lambda x: x > 0) if open_left else s
