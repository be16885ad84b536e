r"""The tangent bases of the simplex as numbers: numpy (float64) and mpmath matrices.

One copy, derived from the exact matrices of :mod:`theory.matrices` (``tangent_basis``,
``tangent_left_inverse``, ``helmert_basis``), so that every module that changes
coordinates uses the same documented bases:

* the **tangent basis** ``V = [e_0 - e_{K-1}, ..., e_{K-2} - e_{K-1}]`` (``K x (K-1)``) and its
  left inverse ``L`` (the first ``K-1`` rows of the identity): ``L V = I``, ``V L v = v`` on
  ``1^T v = 0``. A Jacobian ``DF`` of a map of the simplex is ``L DF V`` in this basis (the
  chart ``(pi_0, ..., pi_{K-2})``);
* the **Helmert basis** ``H`` (``K x (K-1)``), orthonormal, ``H^T 1 = 0``: a Jacobian of a map of
  centred logits is ``H^T J H`` in it, and ``H^T C = H^T`` for the centring ``C = I - 11^T/K``.

The numpy arrays are cached and read-only; the mpmath matrices are built at the current
precision (a fresh matrix per call).

>>> H = helmert_basis(3)
>>> np.allclose(H.T @ H, np.eye(2)), np.allclose(H.sum(axis=0), 0)
(True, True)
>>> tangent_basis(3).tolist()
[[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]
>>> import mpmath
>>> with mpmath.workdps(30):
...     print(mpmath.nstr(helmert_basis_mp(2)[0, 0], 25))
0.7071067811865475244008444
"""

from __future__ import annotations

from functools import lru_cache

import mpmath
import numpy as np

from theory.matrices import helmert_basis as _exact_helmert
from theory.matrices import tangent_basis as _exact_tangent
from theory.matrices import tangent_left_inverse as _exact_left_inverse
from verify.numerics.bridge import mp_matrix

__all__ = [
    "tangent_basis",
    "tangent_left_inverse",
    "helmert_basis",
    "tangent_basis_mp",
    "tangent_left_inverse_mp",
    "helmert_basis_mp",
    "to_tangent",
    "to_helmert",
]


def _check_K(K: int) -> int:
    K = int(K)
    if K < 2:
        raise ValueError(f"K = {K}, expected K >= 2")
    return K


def _frozen(M) -> np.ndarray:
    """An exact sympy matrix as a read-only float64 array (entries evaluated to 17 digits)."""
    arr = np.array([[float(M[i, j].evalf(17)) for j in range(M.cols)] for i in range(M.rows)], dtype=float)
    arr.setflags(write=False)
    return arr


@lru_cache(maxsize=None)
def tangent_basis(K: int) -> np.ndarray:
    """``V = [e_0 - e_{K-1}, ..., e_{K-2} - e_{K-1}]`` as a read-only ``(K, K-1)`` float64 array."""
    return _frozen(_exact_tangent(_check_K(K)))


@lru_cache(maxsize=None)
def tangent_left_inverse(K: int) -> np.ndarray:
    """``L`` = the first ``K-1`` rows of the identity, read-only ``(K-1, K)``."""
    return _frozen(_exact_left_inverse(_check_K(K)))


@lru_cache(maxsize=None)
def helmert_basis(K: int) -> np.ndarray:
    """The orthonormal Helmert basis ``H`` of ``{x : 1^T x = 0}``, read-only ``(K, K-1)``."""
    return _frozen(_exact_helmert(_check_K(K)))


def tangent_basis_mp(K: int) -> mpmath.matrix:
    """``V`` as an ``mpmath.matrix`` (exact entries 0, 1, -1)."""
    return mp_matrix(_exact_tangent(_check_K(K)).tolist())


def tangent_left_inverse_mp(K: int) -> mpmath.matrix:
    """``L`` as an ``mpmath.matrix``."""
    return mp_matrix(_exact_left_inverse(_check_K(K)).tolist())


def helmert_basis_mp(K: int) -> mpmath.matrix:
    """``H`` as an ``mpmath.matrix`` at the current precision."""
    return mp_matrix(_exact_helmert(_check_K(K)).tolist())


def to_tangent(DF: np.ndarray) -> np.ndarray:
    """``L DF V`` for a ``(K, K)`` or batched ``(..., K, K)`` ambient Jacobian.

    >>> DF = np.array([[0.5, -0.5], [-0.5, 0.5]])
    >>> to_tangent(DF).tolist()
    [[1.0]]
    """
    DF = np.asarray(DF, dtype=float)
    K = DF.shape[-1]
    return tangent_left_inverse(K) @ DF @ tangent_basis(K)


def to_helmert(J: np.ndarray) -> np.ndarray:
    """``H^T J H`` for a ``(K, K)`` or batched ``(..., K, K)`` Jacobian of centred logits."""
    J = np.asarray(J, dtype=float)
    H = helmert_basis(J.shape[-1])
    return H.T @ J @ H
