"""Exact matrices shared by every derivation: the tangent bases, the 3-cycle, balanced skew matrices.

One copy of each (sympy, exact). ``verify.numerics.basis`` turns the bases into numbers.

>>> tangent_basis(2)
Matrix([
[ 1],
[-1]])
"""

from __future__ import annotations

import sympy

__all__ = ["CYCLE_MARGIN", "tangent_basis", "tangent_left_inverse", "helmert_basis", "cyclic_P", "cycle_skew", "balanced_skew"]

HALF = sympy.Rational(1, 2)


def tangent_basis(K: int) -> sympy.Matrix:
    """THE tangent basis: columns ``e_k - e_{K-1}`` (``k < K - 1``) of ``{v : 1^T v = 0}``; ``K x (K-1)``.

    >>> tangent_basis(3)
    Matrix([
    [ 1,  0],
    [ 0,  1],
    [-1, -1]])
    """
    V = sympy.zeros(K, K - 1)
    for k in range(K - 1):
        V[k, k] = 1
        V[K - 1, k] = -1
    return V


def tangent_left_inverse(K: int) -> sympy.Matrix:
    """The first ``K - 1`` rows of the identity: ``L V = I`` and ``V L v = v`` when ``1^T v = 0``."""
    return sympy.eye(K)[: K - 1, :]


def helmert_basis(K: int) -> sympy.Matrix:
    """Orthonormal basis ``H`` (``K x (K-1)``) of ``{x : 1^T x = 0}``: Helmert contrasts, exact.

    >>> (helmert_basis(4).T * helmert_basis(4)).applyfunc(sympy.nsimplify) == sympy.eye(3)
    True
    """
    H = sympy.zeros(K, K - 1)
    for c in range(1, K):
        norm = sympy.sqrt(sympy.Rational(c * (c + 1)))
        for r in range(c):
            H[r, c - 1] = 1 / norm
        H[c, c - 1] = -sympy.Rational(c) / norm
    return H


#: The symbolic margin ``a`` of the 3-cycle.
CYCLE_MARGIN = sympy.Symbol("a", positive=True)


def cyclic_P(margin=None) -> sympy.Matrix:
    """``P_cyc(a)``: ``P[0,1] = P[1,2] = P[2,0] = 1/2 + a`` (default ``a`` the positive symbol ``a``).

    >>> cyclic_P(sympy.Rational(1, 5))[0, 1], cyclic_P()[1, 0]
    (7/10, 1/2 - a)
    """
    a = CYCLE_MARGIN if margin is None else sympy.sympify(margin)
    P = sympy.ones(3, 3) * HALF
    for i, j in ((0, 1), (1, 2), (2, 0)):
        P[i, j] = HALF + a
        P[j, i] = HALF - a
    return P


def cycle_skew(a=None) -> sympy.Matrix:
    """``S = P_cyc(a) - (1/2) 1 1^T`` of the 3-cycle."""
    return cyclic_P(a) - HALF * sympy.ones(3, 3)


def balanced_skew(K: int) -> tuple[sympy.Matrix, tuple[sympy.Symbol, ...]]:
    """A generic balanced skew ``S`` (``S^T = -S``, ``S 1 = 0``): free ``s_i_j`` (``i < j < K-1``), last column fixed.

    Returns ``(S, free symbols)``.

    >>> S, free = balanced_skew(3)
    >>> S.row(0), free
    (Matrix([[0, s_0_1, -s_0_1]]), (s_0_1,))
    """
    S = sympy.zeros(K, K)
    free = []
    for i in range(K - 1):
        for j in range(i + 1, K - 1):
            s = sympy.Symbol(f"s_{i}_{j}", real=True)
            free.append(s)
            S[i, j] = s
            S[j, i] = -s
    for i in range(K - 1):
        S[i, K - 1] = -sum(S[i, j] for j in range(K - 1))
        S[K - 1, i] = -S[i, K - 1]
    return S, tuple(free)
