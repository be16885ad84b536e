"""One-shot ranking under IPO with a uniform reference: exact symbolic derivations.

With a uniform reference, IPO ranks the responses by the score ``s = P mu``
(THEORY.md §2). Every function below builds an exact sympy expression and,
where it proves something, returns a *residual* that must expand to 0 (an
identity) together with the nonnegative pieces it is made of.

Contents
--------
* :func:`ct_construction`, :func:`ct_gap` — RANK-1: the counterexample
  ``P(mu, eps)`` for CT/OP (and ST for ``K = 3``) and its score gap
  ``s_0 - s_1 = eps - (1 - mu_0 - mu_1)/2`` (``eps - mu_2/2`` for ``K = 3``).
* :func:`st_construction`, :func:`st_gap` — RANK-1 for ST with a Smith set of
  size 3 and no Condorcet winner (``K >= 4``).
* :func:`rank2_bound_identity` — RANK-2: ``s_c - s_j >= m - eps (K-2)/(2K)`` for
  ``mu = (1-eps) e_c + (eps/K) 1`` as an identity with nonnegative slacks.
* :func:`skew_quadratic_identity` — RANK-3 lemma ``a^T P a = (sum a)^2 / 2``.
* :func:`op_small_K_margins` — RANK-4 minimality: ``K <= 3`` always admits OP.
* :func:`farkas_form` — the linear form ``sum_r y_r (s_i - s_j)`` of a certificate.
* :func:`sst_gap_identity` — RANK-5: the score gap of ``i >_M j`` as a sum of
  SST slacks (three relative positions of the third response).
* :func:`abel_identity`, :func:`entropy_derivative_identity`,
  :func:`chebyshev_identity` — RANK-6.
"""

from __future__ import annotations

from functools import lru_cache

import sympy
from sympy import Matrix, Rational, Symbol, expand, symbols

__all__ = [
    "HALF",
    "mu_symbols",
    "scores",
    "ct_construction",
    "ct_gap",
    "st_construction",
    "st_gap",
    "rank2_bound_identity",
    "skew_quadratic_identity",
    "op_small_K_margins",
    "farkas_form",
    "upper_symbols",
    "sst_gap_identity",
    "abel_identity",
    "entropy_derivative_identity",
    "chebyshev_identity",
]

HALF = Rational(1, 2)
EPS = Symbol("varepsilon", positive=True)


def mu_symbols(K: int, name: str = "mu") -> list[Symbol]:
    """Symbols ``mu_0 .. mu_{K-1}`` (no sign assumptions)."""
    return list(symbols(f"{name}_0:{K}"))


def scores(P: Matrix, mu) -> Matrix:
    """The IPO score vector ``s = P mu``."""
    return P * Matrix(mu)


def _complete(P: list[list]) -> Matrix:
    K = len(P)
    for i in range(K):
        P[i][i] = HALF
        for j in range(i + 1, K):
            P[j][i] = 1 - P[i][j]
    return Matrix(P)


@lru_cache(maxsize=None)
def ct_construction(K: int, eps: sympy.Expr = EPS) -> Matrix:
    """RANK-1 counterexample for CT and OP (and ST when ``K = 3``).

    Response 0 beats everyone by ``1/2 + eps`` (it is the Condorcet winner);
    response 1 beats every ``k >= 2`` with probability 1; responses
    ``2 .. K-1`` are ordered with probability 1. ``P`` is transitive with
    order ``0 > 1 > ... > K-1`` and not SST (``P[0,2] < P[1,2]``).
    """
    if K < 3:
        raise ValueError(f"K = {K}, expected K >= 3")
    P = [[HALF] * K for _ in range(K)]
    for k in range(1, K):
        P[0][k] = HALF + eps
    for i in range(1, K):
        for j in range(i + 1, K):
            P[i][j] = sympy.Integer(1)
    return _complete(P)


@lru_cache(maxsize=None)
def ct_gap(K: int) -> tuple[sympy.Expr, sympy.Expr]:
    """``(gap, reduced)``: ``s_0 - s_1`` for :func:`ct_construction` at symbolic ``mu``.

    ``reduced`` uses ``sum mu = 1``: it equals ``eps - (1 - mu_0 - mu_1)/2``,
    which for ``K = 3`` is ``eps - mu_2/2`` (the THEORY.md hint).
    """
    mu = mu_symbols(K)
    s = scores(ct_construction(K), mu)
    gap = expand(s[0] - s[1])
    reduced = expand(gap.subs(mu[K - 1], 1 - sum(mu[: K - 1])))
    if K == 3:
        reduced = expand(reduced.subs(mu[0], 1 - mu[1] - mu[2]))
    return gap, reduced


@lru_cache(maxsize=None)
def st_construction(K: int, e: sympy.Expr = EPS) -> Matrix:
    """RANK-1 counterexample for ST without a Condorcet winner (``K >= 4``).

    Smith set ``{0, 1, 2}``: a majority cycle ``0 > 1 > 2 > 0`` with
    ``P[0,1] = P[1,2] = 1/2 + e`` and ``P[2,0] = 1``; every member beats every
    outsider by ``1/2 + e``; the outsiders ``3 > 4 > ...`` by ``1/2 + e``.
    Outsider 3 then outscores member 0 when ``e`` is small.
    """
    if K < 4:
        raise ValueError(f"K = {K}, expected K >= 4 (for K = 3 a Smith set with an outsider has one member)")
    P = [[HALF] * K for _ in range(K)]
    P[0][1] = HALF + e
    P[1][2] = HALF + e
    P[0][2] = sympy.Integer(0)
    for i in range(K):
        for j in range(max(i + 1, 3), K):
            P[i][j] = HALF + e
    return _complete(P)


@lru_cache(maxsize=None)
def st_gap(K: int) -> sympy.Expr:
    """``s_3 - s_0`` for :func:`st_construction`: ``mu_2/2 - e (mu_0 + 2 mu_1 + mu_2 + mu_3)``."""
    mu = mu_symbols(K)
    s = scores(st_construction(K), mu)
    return expand(s[3] - s[0])


@lru_cache(maxsize=None)
def rank2_bound_identity(K: int) -> dict:
    """RANK-2: the CT gap under ``mu = (1 - eps) e_0 + (eps/K) 1`` and its lower bound.

    Response 0 is the Condorcet winner and ``j = 1`` any other response (by
    relabelling). Symbols: ``A = P[0,1] - 1/2``, ``p_k = P[0,k]``,
    ``q_k = P[1,k]`` (``k >= 2``), ``m <= A``, ``m <= p_k - 1/2``. Returns

    * ``gap`` = ``s_0 - s_1``;
    * ``bound`` = ``m - eps (K-2)/(2K)``;
    * ``pieces`` = list of ``(coefficient, slack)`` with both factors
      nonnegative for ``0 <= eps <= 1``;
    * ``residual`` = ``gap - bound - sum coefficient*slack`` (expands to 0).
    """
    eps, m, A = symbols("varepsilon m A")
    p = {k: Symbol(f"p_{k}") for k in range(2, K)}
    q = {k: Symbol(f"q_{k}") for k in range(2, K)}
    P = [[HALF] * K for _ in range(K)]
    P[0][1] = HALF + A
    for k in range(2, K):
        P[0][k] = p[k]
        P[1][k] = q[k]
    for i in range(2, K):
        for j in range(i + 1, K):
            P[i][j] = Symbol(f"r_{i}{j}")
    Pm = _complete(P)
    mu = [(1 - eps) + eps / K] + [eps / K] * (K - 1)
    s = scores(Pm, mu)
    gap = expand(s[0] - s[1])
    bound = m - eps * Rational(K - 2, 2 * K)
    pieces = [(1 - eps + 2 * eps / K, A - m)]
    for k in range(2, K):
        pieces.append((eps / K, p[k] - HALF - m))
        pieces.append((eps / K, 1 - q[k]))
    residual = expand(gap - bound - sum(c * sl for c, sl in pieces))
    return {"gap": gap, "bound": bound, "pieces": pieces, "residual": residual, "eps": eps, "m": m, "A": A}


@lru_cache(maxsize=None)
def skew_quadratic_identity(K: int) -> sympy.Expr:
    """RANK-3 lemma: ``a^T P a - (sum a)^2 / 2`` for a generic valid ``P`` (expands to 0)."""
    a = mu_symbols(K, "a")
    P = [[HALF] * K for _ in range(K)]
    for i in range(K):
        for j in range(i + 1, K):
            P[i][j] = Symbol(f"p_{i}{j}")
    Pm = _complete(P)
    v = Matrix(a)
    return expand((v.T * Pm * v)[0, 0] - sum(a) ** 2 / 2)


@lru_cache(maxsize=None)
def upper_symbols(K: int) -> tuple[Matrix, dict]:
    """A generic valid ``P`` in rank order: ``P[i,j] = p_ij`` for ``i < j``, ``P[j,i] = 1 - p_ij``."""
    P = [[HALF] * K for _ in range(K)]
    syms = {}
    for i in range(K):
        for j in range(i + 1, K):
            syms[(i, j)] = Symbol(f"p_{i}{j}")
            P[i][j] = syms[(i, j)]
    return _complete(P), syms


@lru_cache(maxsize=None)
def op_small_K_margins(K: int) -> list[sympy.Expr]:
    """RANK-4 minimality: consecutive score margins for a transitive ``P`` (order ``0 > ... > K-1``).

    ``K = 2``: any ``mu`` gives ``s_0 - s_1 = p_01 - 1/2 > 0`` (returned at
    symbolic ``mu`` with ``sum mu = 1``); ``K = 3``: ``mu = e_1`` gives
    ``[p_01 - 1/2, p_12 - 1/2]``, both positive, so OP holds at ``e_1`` and,
    by continuity, at an interior point near it.
    """
    P, _ = upper_symbols(K)
    if K == 2:
        mu = mu_symbols(2)
        s = scores(P, mu)
        return [expand((s[0] - s[1]).subs(mu[1], 1 - mu[0]))]
    if K == 3:
        s = scores(P, [0, 1, 0])
        return [expand(s[0] - s[1]), expand(s[1] - s[2])]
    raise ValueError(f"K = {K}: only K = 2, 3 always admit OP (K = 4 has a Farkas witness)")


def farkas_form(P: Matrix, pairs, y) -> sympy.Expr:
    """``sum_r y_r ((P mu)_i - (P mu)_j)`` as a linear form in symbolic ``mu``."""
    mu = mu_symbols(P.rows)
    s = scores(P, mu)
    return expand(sum(Rational(w) * (s[i] - s[j]) for w, (i, j) in zip(y, pairs)))


@lru_cache(maxsize=None)
def sst_gap_identity(K: int) -> list[dict]:
    """RANK-5: for every pair ``i < j`` (rank order), ``s_i - s_j`` as SST slacks.

    ``s_i - s_j = (mu_i + mu_j)(p_ij - 1/2) + sum_{k != i,j} mu_k T_k`` where

    * ``k < i``: ``T_k = p_kj - p_ki`` (SST for ``k > i > j``: ``P[k,j] >= P[k,i]``);
    * ``i < k < j``: ``T_k = (p_ik - 1/2) + (p_kj - 1/2)`` (majority margins);
    * ``k > j``: ``T_k = p_ik - p_jk`` (SST for ``i > j > k``: ``P[i,k] >= P[j,k]``).

    Returns one dict per pair with the residual (expands to 0). Each term
    involves only ``(i, j, k)``, so the three cases prove it for every ``K``.
    """
    P, p = upper_symbols(K)
    mu = mu_symbols(K)
    s = scores(P, mu)
    out = []
    for i in range(K):
        for j in range(i + 1, K):
            cert = (mu[i] + mu[j]) * (p[(i, j)] - HALF)
            for k in range(K):
                if k in (i, j):
                    continue
                if k < i:
                    T = p[(k, j)] - p[(k, i)]
                elif k < j:
                    T = (p[(i, k)] - HALF) + (p[(k, j)] - HALF)
                else:
                    T = p[(i, k)] - p[(j, k)]
                cert += mu[k] * T
            out.append({"pair": (i, j), "gap": expand(s[i] - s[j]), "certificate": cert, "residual": expand(s[i] - s[j] - cert)})
    return out


@lru_cache(maxsize=None)
def abel_identity(K: int) -> dict:
    """RANK-6: summation by parts for the gap change under a shift of ``mu``.

    With ``d_k`` (position ``k = 0..K-1``, top first), cumulative sums
    ``F_m = mu_0 + ... + mu_m`` and ``sum mu' = sum mu``:
    ``sum_k (mu'_k - mu_k) d_k = sum_{m=0}^{K-2} (F'_m - F_m)(d_m - d_{m+1})``.
    """
    mu = mu_symbols(K, "mu")
    nu = mu_symbols(K, "nu")  # mu'
    d = mu_symbols(K, "d")
    lhs = sum((nu[k] - mu[k]) * d[k] for k in range(K))
    F = [sum(mu[: m + 1]) for m in range(K)]
    G = [sum(nu[: m + 1]) for m in range(K)]
    rhs = sum((G[m] - F[m]) * (d[m] - d[m + 1]) for m in range(K - 1))
    # impose sum nu = sum mu through the last coordinate of nu
    sub = {nu[K - 1]: sum(mu) - sum(nu[: K - 1])}
    residual = expand((lhs - rhs).subs(sub))
    return {"lhs": lhs, "rhs": rhs, "residual": residual}


@lru_cache(maxsize=None)
def entropy_derivative_identity(K: int) -> sympy.Expr:
    """RANK-6 entropy: ``dH/dt + beta Cov_pi(z, Delta)`` for ``pi = softmax(z)``, ``dz/dt = beta Delta``.

    Written with ``w_k = exp(z_k) > 0`` (so ``d/dz_k = w_k d/dw_k``); the
    returned expression simplifies to 0.
    """
    w = list(symbols(f"w_0:{K}", positive=True))
    D = mu_symbols(K, "Delta")
    beta = Symbol("beta", positive=True)
    W = sum(w)
    pi = [wk / W for wk in w]
    z = [sympy.log(wk) for wk in w]
    H = -sum(pi[k] * (z[k] - sympy.log(W)) for k in range(K))
    dH = sum(w[l] * sympy.diff(H, w[l]) * beta * D[l] for l in range(K))
    mean_z = sum(pi[k] * z[k] for k in range(K))
    mean_D = sum(pi[k] * D[k] for k in range(K))
    cov = sum(pi[k] * (z[k] - mean_z) * (D[k] - mean_D) for k in range(K))
    return sympy.simplify(sympy.together(expand(dH + beta * cov)))


@lru_cache(maxsize=None)
def chebyshev_identity(K: int) -> sympy.Expr:
    """``Cov_pi(a, b) - (1/2) sum_{k,l} pi_k pi_l (a_k - a_l)(b_k - b_l)`` with ``sum pi = 1`` (expands to 0).

    Each summand is ``>= 0`` when ``a`` and ``b`` are ordered alike
    (comonotone), so then ``Cov_pi(a, b) >= 0`` (Chebyshev's sum inequality).
    """
    pi = mu_symbols(K, "pi")
    a = mu_symbols(K, "a")
    b = mu_symbols(K, "b")
    ma = sum(pi[k] * a[k] for k in range(K))
    mb = sum(pi[k] * b[k] for k in range(K))
    cov = sum(pi[k] * (a[k] - ma) * (b[k] - mb) for k in range(K))
    pairs = sum(pi[k] * pi[l] * (a[k] - a[l]) * (b[k] - b[l]) for k in range(K) for l in range(K)) / 2
    return expand((cov - pairs).subs(pi[K - 1], 1 - sum(pi[: K - 1])))
