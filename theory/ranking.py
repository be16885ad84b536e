"""One-shot ranking under IPO with a uniform reference: exact symbolic derivations.

With a uniform reference, IPO ranks the responses by the score ``s = P mu``
(docs/claims.md §2). Every function below builds an exact sympy expression and,
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

Every K (symbolic ``K``, sympy indexed sums; see the section "every K" below):
:class:`Sigma` (finite sums with peel / shift / split), :func:`canonical`,
:func:`combine`, :func:`tiles`; :func:`rank1_general`, :func:`rank2_general`,
:func:`rank5_general`, :func:`rank6_general`; :func:`rank3_duality` (free matrix
algebra) and :func:`interior_push`. Each takes the constant of its identity as a
parameter, so a planted wrong constant leaves a non-zero residual.
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
    "Sigma",
    "canonical",
    "combine",
    "tiles",
    "rank1_general",
    "rank2_general",
    "rank3_duality",
    "interior_push",
    "rank5_general",
    "rank6_general",
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
    which for ``K = 3`` is ``eps - mu_2/2`` (the docs/claims.md hint).
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
    # logs of the positive w_k and of W as independent symbols: a rational function that cancels
    # to 0 in independent symbols is 0 at every value of them (sound, and fast)
    logs = {sympy.log(wk): Symbol(f"L_{k}") for k, wk in enumerate(w)}
    logs[sympy.log(W)] = Symbol("L_W")
    return sympy.cancel(sympy.together((dH + beta * cov).xreplace(logs)))


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


# =========================================================================== every K
#
# The identities above are checked for one K at a time. The functions below prove
# them for a *symbolic* K with sympy indexed sums. Each argument is a chain of
# finite-sum rewrites that hold for every K (stated in :class:`Sigma`):
#
# * split:   sum_{lo}^{hi} f = sum_{lo}^{c-1} f + f(c) + sum_{c+1}^{hi} f   (lo <= c <= hi)
# * peel:    sum_{lo}^{hi} f = sum_{lo}^{hi-1} f + f(hi)                     (lo <= hi)
# * shift:   sum_{lo}^{hi} f(k) = sum_{lo+s}^{hi+s} f(k - s)
# * a sum whose summand does not depend on k is (hi - lo + 1) times it.
#
# A summand involves the running index k and finitely many fixed indices (i, j, or
# 0, 1); on each range of the split the *relative rank order* of these indices is
# fixed, so the axioms of a preference matrix (P[a,a] = 1/2, P[b,a] = 1 - P[a,b])
# put every summand in a canonical form in the upper entries P[a,b] (a ranked above
# b). That is the finite case analysis: the ranges cover 0..K-1 for every K, and
# inside a range the summand is one polynomial in symbolic entries. A residual that
# expands to 0 range by range is 0 for every K.

KS = Symbol("K", integer=True, positive=True)
KI = Symbol("k", integer=True)
II, JI = symbols("i j", integer=True, nonnegative=True)
PB = sympy.IndexedBase("P")
MUB = sympy.IndexedBase("mu")


def canonical(expr: sympy.Expr, order: tuple) -> sympy.Expr:
    """Rewrite ``P[a, b]`` into upper entries for the rank ``order`` (top first) of the indices.

    ``P[a, a] = 1/2`` and ``P[b, a] = 1 - P[a, b]`` when ``a`` is ranked above ``b``.
    Indices not in ``order`` are left alone (then the residual will not vanish).
    """
    pos = {sympy.sympify(x): r for r, x in enumerate(order)}

    def fix(e):
        a, b = e.indices
        if sympy.expand(a - b) == 0:
            return HALF
        pa, pb = pos.get(sympy.sympify(a)), pos.get(sympy.sympify(b))
        if pa is not None and pb is not None and pa > pb:
            return 1 - PB[b, a]
        return e

    return expand(expr.replace(lambda e: isinstance(e, sympy.Indexed) and e.base == PB, fix))


class Sigma:
    """``sum_{k=lo}^{hi} summand(k)`` with symbolic bounds and the rank ``order`` valid on the range."""

    def __init__(self, summand, lo, hi, order: tuple = ()) -> None:
        self.summand, self.lo, self.hi, self.order = sympy.sympify(summand), sympy.sympify(lo), sympy.sympify(hi), tuple(order)

    def at(self, v) -> sympy.Expr:
        return self.summand.subs(KI, v)

    def split(self, c, order_below: tuple, order_at: tuple, order_above: tuple) -> list:
        """``[Sigma(lo..c-1), (f(c), order_at), Sigma(c+1..hi)]`` (valid for ``lo <= c <= hi``)."""
        return [Sigma(self.summand, self.lo, c - 1, order_below), (self.at(c), order_at), Sigma(self.summand, c + 1, self.hi, order_above)]

    def peel_top(self) -> tuple:
        return Sigma(self.summand, self.lo, self.hi - 1, self.order), self.at(self.hi)

    def peel_bottom(self) -> tuple:
        return self.at(self.lo), Sigma(self.summand, self.lo + 1, self.hi, self.order)

    def shift(self, s) -> "Sigma":
        return Sigma(self.summand.subs(KI, KI - s), self.lo + s, self.hi + s, self.order)

    def value(self) -> sympy.Expr:
        """The sum; evaluated in closed form only when the summand does not depend on ``k``."""
        f = canonical(self.summand, self.order)
        if f == 0:
            return sympy.Integer(0)
        if KI not in f.free_symbols:
            return expand(f * (self.hi - self.lo + 1))
        return sympy.Sum(f, (KI, self.lo, self.hi))

    def __repr__(self) -> str:
        return f"Sum({self.summand}, ({KI}, {self.lo}, {self.hi}))"


def combine(pieces: list) -> sympy.Expr:
    """Sum of pieces: each a :class:`Sigma` or ``(term, order)``; sums on equal ranges add summand-wise."""
    by_range: dict = {}
    total = sympy.Integer(0)
    for p in pieces:
        if isinstance(p, Sigma):
            key = (expand(p.lo), expand(p.hi), p.order)
            by_range[key] = by_range.get(key, sympy.Integer(0)) + p.summand
        else:
            term, order = p
            total += canonical(sympy.sympify(term), order)
    for (lo, hi, order), f in by_range.items():
        total += Sigma(f, lo, hi, order).value()
    return expand(total)


def tiles(ranges: list, lo, hi) -> bool:
    """Whether consecutive ``(lo_r, hi_r)`` ranges tile ``lo..hi`` (symbolically, for every K)."""
    if expand(ranges[0][0] - lo) != 0 or expand(ranges[-1][1] - hi) != 0:
        return False
    return all(expand(ranges[r + 1][0] - ranges[r][1] - 1) == 0 for r in range(len(ranges) - 1))


def rank1_general(threshold=HALF) -> dict:
    """RANK-1 for every ``K >= 3``: ``s_0 - s_1 = eps - c * sum_{k>=2} mu_k`` for :func:`ct_construction`.

    The claimed ``c`` is ``threshold`` (true value 1/2). The gap
    ``sum_k mu_k (P[0,k] - P[1,k])`` is split at ``k = 0, 1`` and ``2..K-1``;
    the construction's entries are ``P[0,b] = 1/2 + eps`` (``b >= 1``) and
    ``P[a,b] = 1`` (``1 <= a < b``). The right side is written with the
    normalisation axiom ``sum_k mu_k = 1`` as ``sum_k mu_k g_k``, ``g_0 = g_1 = eps``,
    ``g_k = eps - c``. Returns ``residual`` (0 iff the identity holds for every K),
    the range tiling, and the sign facts of the construction's upper entries.
    """
    c = sympy.sympify(threshold)
    eps = EPS
    vals = {PB[0, KI]: HALF + eps, PB[1, KI]: 1, PB[0, 1]: HALF + eps}
    gap = Sigma(MUB[KI] * (PB[0, KI] - PB[1, KI]), 0, KS - 1, (0, 1, KI))
    t0, up = gap.peel_bottom()  # k = 0
    t1, rest = up.peel_bottom()  # k = 1, then k = 2..K-1 (order 0, 1, k)
    k0, k1 = (t0, (0, 1)), (t1, (0, 1))
    claim = [(-MUB[0] * eps, (0, 1)), (-MUB[1] * eps, (0, 1)), Sigma(-MUB[KI] * (eps - c), 2, KS - 1, (0, 1, KI))]
    pieces = [k0, k1, rest] + claim

    def sub(p):
        if isinstance(p, Sigma):
            return Sigma(canonical(p.summand, p.order).subs(vals), p.lo, p.hi, p.order)
        return (canonical(p[0], p[1]).subs(vals), p[1])

    residual = combine([sub(p) for p in pieces])
    entries = {"P[0,b], b >= 1": HALF + eps, "P[a,b], 1 <= a < b": sympy.Integer(1)}
    u = Symbol("u", nonnegative=True)  # eps = 1/2 - u: the construction's domain 0 < eps <= 1/2
    above_half = all(expand(v - HALF).is_positive for v in entries.values())
    at_most_one = all(expand(1 - v.subs(eps, HALF - u)).is_nonnegative for v in entries.values())
    return {
        "residual": residual,
        "tiling": tiles([(0, 0), (1, 1), (2, KS - 1)], 0, KS - 1),
        "entries": entries,
        "upper_entries_above_half": above_half,
        "entries_at_most_one": at_most_one,
        "gap_formula": eps - c * sympy.Symbol("R"),
    }


def rank2_general(coefficient=HALF) -> dict:
    """RANK-2 for every ``K >= 2``: ``s_0 - s_1 = m - eps (K-2) coefficient/K + sum(coef * slack)``.

    ``mu = (1 - eps) e_0 + (eps/K) 1`` (Condorcet winner 0, other response 1, by
    relabelling); slacks ``A - m`` (``A = P[0,1] - 1/2``), ``P[0,k] - 1/2 - m`` and
    ``1 - P[1,k]`` (``k >= 2``). The true ``coefficient`` is 1/2. Returns the
    residual (0 for every K), the coefficients (nonnegative for ``0 <= eps <= 1``) and
    the bound, with ``eps`` and ``m`` symbols.
    """
    eps, m = symbols("varepsilon m", nonnegative=True)
    c = sympy.sympify(coefficient)
    mu_top, mu_rest = 1 - eps + eps / KS, eps / KS
    order01 = (0, 1)
    # gap = sum_k mu_k (P[0,k] - P[1,k]), split at k = 0, 1 and 2..K-1
    pieces = [
        (mu_top * (PB[0, 0] - PB[1, 0]), order01),
        (mu_rest * (PB[0, 1] - PB[1, 1]), order01),
        Sigma(mu_rest * (PB[0, KI] - PB[1, KI]), 2, KS - 1, (0, 1, KI)),
    ]
    coefs = [1 - eps + 2 * eps / KS, eps / KS, eps / KS]
    slacks = [(PB[0, 1] - HALF - m, order01)]
    cert = [(-coefs[0] * slacks[0][0], order01)]
    cert.append(Sigma(-coefs[1] * (PB[0, KI] - HALF - m) - coefs[2] * (1 - PB[1, KI]), 2, KS - 1, (0, 1, KI)))
    bound = m - eps * (KS - 2) * c / KS
    residual = combine(pieces + cert + [(-bound, ())])
    # each coefficient is affine in eps: nonnegative on [0, 1] iff at both ends (K > 0)
    coef_ok = all(
        sympy.diff(cf, eps, 2) == 0 and cf.subs(eps, 0).is_nonnegative and cf.subs(eps, 1).is_nonnegative for cf in coefs
    )
    return {"residual": residual, "bound": bound, "coefficients": coefs, "coefficients_nonnegative": coef_ok, "eps": eps, "m": m}


def rank3_duality(half=HALF) -> dict:
    """RANK-3 duality step for every K in the free matrix algebra.

    ``P = S + (1/2) 1 1^T`` with ``S^T = -S`` (``P + P^T = 1 1^T``, ``P[a,a] = 1/2``).
    For distributions ``a`` (on the Smith set) and ``b`` (off it):

    * ``quadratic`` = ``a^T P a - half (1^T a)^2`` (0 iff ``half = 1/2``);
    * ``contradiction`` = ``(a - b)^T P a - b^T Delta a`` with ``Delta = (1/2) 1 1^T - P``
      and ``1^T a = 1^T b = 1``: the weighted Ville certificate
      ``sum_k a_k (y^T M)_k = (a - b)^T P a`` equals ``b^T Delta a``, a sum of
      products ``b_l Delta_lk a_k`` over ``l`` off, ``k`` in the Smith set, each ``>= 0``
      and together ``> 0``.

    Returns the normal forms (``{}`` is 0 for every K).
    """
    from . import matrix_algebra as ma

    a, at = ma.vec("a")
    b, bt = ma.vec("b")
    P = ma.S + HALF * ma.one * ma.onet
    quad = at * P * a - sympy.sympify(half) * (at * ma.one) * (at * ma.one)
    Delta = HALF * ma.one * ma.onet - P
    contra = (at - bt) * P * a - bt * Delta * a
    norm = {s: 1 for s in ma.atoms([("at", "one"), ("bt", "one")])}

    def nf(e):
        out = {}
        for w, cf in ma.normal_form(e).items():
            v = expand(cf.subs(norm))
            if v != 0:
                out[w] = v
        return out

    return {"quadratic": nf(quad), "contradiction": nf(contra), "quadratic_expr": quad, "contradiction_expr": contra}


def interior_push(t=None) -> sympy.Expr:
    """RANK-3/4 push to the interior: ``(1 - delta) t - delta`` at ``delta = t/(2(1 + t))`` minus ``t/2`` (0).

    Margins are linear in ``mu``; at the uniform point every margin is ``>= -1``, so
    ``mu_delta = (1 - delta) mu* + delta 1/K`` keeps every margin ``>= t/2 > 0``.
    """
    t = Symbol("t", positive=True) if t is None else t
    delta = t / (2 * (1 + t))
    return sympy.simplify((1 - delta) * t - delta - t / 2)


def rank5_general(half=HALF) -> dict:
    """RANK-5 for every K: ``s_i - s_j`` (``i`` ranked above ``j``) as SST slacks, symbolic ``K, i, j``.

    ``sum_k mu_k (P[i,k] - P[j,k])`` is split at ``k = i`` and ``k = j`` into
    ``k < i`` (order ``k, i, j``), ``i < k < j`` (``i, k, j``), ``k > j`` (``i, j, k``);
    the certificate is ``(mu_i + mu_j)(P[i,j] - half) + sum_k mu_k T_k`` with

    * ``k < i``: ``T = P[k,j] - P[k,i]`` (SST for ``k > i > j``);
    * ``i < k < j``: ``T = (P[i,k] - 1/2) + (P[k,j] - 1/2)`` (majority margins);
    * ``k > j``: ``T = P[i,k] - P[j,k]`` (SST for ``i > j > k``).

    Returns the residual (0 for every ``K``, ``0 <= i < j <= K-1`` iff ``half = 1/2``)
    and the tiling of ``0..K-1``.
    """
    h = sympy.sympify(half)
    gap = Sigma(MUB[KI] * (PB[II, KI] - PB[JI, KI]), 0, KS - 1)
    below, at_i, up = gap.split(II, (KI, II, JI), (II, JI), ())  # valid for 0 <= i <= K-1
    mid, at_j, above = up.split(JI, (II, KI, JI), (II, JI), (II, JI, KI))  # valid for i+1 <= j <= K-1
    T = {
        "below": PB[KI, JI] - PB[KI, II],
        "middle": (PB[II, KI] - HALF) + (PB[KI, JI] - HALF),
        "above": PB[II, KI] - PB[JI, KI],
    }
    cert = [
        ((MUB[II] + MUB[JI]) * (PB[II, JI] - h), (II, JI)),
        Sigma(MUB[KI] * T["below"], 0, II - 1, (KI, II, JI)),
        Sigma(MUB[KI] * T["middle"], II + 1, JI - 1, (II, KI, JI)),
        Sigma(MUB[KI] * T["above"], JI + 1, KS - 1, (II, JI, KI)),
    ]
    neg = [Sigma(-c.summand, c.lo, c.hi, c.order) if isinstance(c, Sigma) else (-c[0], c[1]) for c in cert]
    residual = combine([below, at_i, mid, at_j, above] + neg)
    tiling = tiles([(0, II - 1), (II, II), (II + 1, JI - 1), (JI, JI), (JI + 1, KS - 1)], 0, KS - 1)
    return {"residual": residual, "tiling": tiling, "T": T}


def rank6_general(scale=1) -> dict:
    """RANK-6 Abel summation for every ``K``: symbolic ``K``, cumulative ``D_m = F'_m - F_m``.

    With ``x_k = mu'_k - mu_k = D_k - D_{k-1}`` (``D_{-1} = 0``) the chain
    ``sum_{k=0}^{K-1} (D_k - D_{k-1}) d_k``
    = ``D_0 d_0 + sum_{k=1}^{K-1} D_k d_k - sum_{k=0}^{K-2} D_k d_{k+1}`` (peel, shift)
    = ``sum_{k=0}^{K-2} D_k (d_k - d_{k+1}) + D_{K-1} d_{K-1}`` (peel), and
    ``D_{K-1} = sum mu' - sum mu = 0``. ``scale`` multiplies the claimed Abel sum
    (true value 1). Returns the residual (0 for every ``K >= 2``).
    """
    Db, db = sympy.IndexedBase("D"), sympy.IndexedBase("d")
    lhs = Sigma((Db[KI] - Db[KI - 1]) * db[KI], 0, KS - 1)
    first = Sigma(Db[KI] * db[KI], 0, KS - 1)
    second = Sigma(-Db[KI - 1] * db[KI], 0, KS - 1)
    # lhs is first + second summand-wise (linearity); rewrite each
    f0, f_rest = first.peel_bottom()  # D_0 d_0 + sum_{1}^{K-1} D_k d_k
    s0, s_rest = second.peel_bottom()  # -D_{-1} d_0 + sum_{1}^{K-1} -D_{k-1} d_k
    s_shift = s_rest.shift(-1)  # sum_{0}^{K-2} -D_k d_{k+1}
    f_low, f_top = f_rest.peel_top()  # sum_{1}^{K-2} + D_{K-1} d_{K-1}
    abel = Sigma(sympy.sympify(scale) * Db[KI] * (db[KI] - db[KI + 1]), 0, KS - 2)
    a0, abel_rest = abel.peel_bottom()  # claimed side on k = 0 and k = 1..K-2
    s_at0, s_shift_rest = s_shift.peel_bottom()
    mass = Db[KS - 1] * db[KS - 1]  # D_{K-1} = 0 (equal mass) removes this term
    rewritten_ok = expand(lhs.summand - first.summand - second.summand) == 0
    pieces = [(f0, ()), f_low, (f_top, ()), (s0.subs(Db[-1], 0), ()), (s_at0, ()), s_shift_rest]
    claimed = [(-a0, ()), Sigma(-abel_rest.summand, abel_rest.lo, abel_rest.hi), (-mass, ())]
    residual = combine(pieces + claimed)
    return {"residual": residual, "linearity": rewritten_ok, "D_last": Db[KS - 1]}
