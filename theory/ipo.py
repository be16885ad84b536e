r"""The population IPO loss, its gradient and Hessian, and the closed-form optimum.

Conventions (docs/claims.md §0): ``beta = 1/tau``; ordered pairs ``(i, j)`` are drawn
from ``mu x mu``; response ``i`` wins with probability ``P[i,j]``; the sampled-pair
loss is ``(h(y_w, y_l) - 1/(2 tau))^2`` with ``h(i, j) = r_i - r_j``.

Derivation (each step is an *obligation*: an exact expression that must simplify
to 0, checked by :func:`obligations` for explicit ``K`` and
:func:`general_obligations` for every ``K``):

1. For one ordered pair, with ``c = beta/2`` and ``S = P - 1/2``,
   ``P_ij (h - c)^2 + P_ji (h + c)^2 = (h - beta S_ij)^2 + beta^2 (1/4 - S_ij^2)``, so
   ``L(r) = sum_ij mu_i mu_j (r_i - r_j - beta S_ij)^2`` plus an ``r``-free constant.
2. ``dL/dr_k = 4 mu_k sum_j mu_j (r_k - r_j - beta S_kj)``.
3. ``H = 4 (diag(mu) (1^T mu) - mu mu^T)`` and ``v^T H v = 4 sum_{i<j} mu_i mu_j (v_i - v_j)^2 >= 0``:
   PSD, and for interior ``mu`` its kernel is exactly ``span(1)``.
4. ``pi* = pi_ref * exp(beta P mu) / Z`` makes the gradient vanish (given ``1^T mu = 1``).
   ``L`` is convex and invariant under ``r -> r + t 1``, so ``pi*`` is the unique minimiser.

>>> sy = ipo_symbols(2)
>>> [sympy.simplify(e) for e in stationarity_residual(sy)]
[0, 0]
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import sympy

from . import matrix_algebra as ma
from .latex import Equation, Section, on_simplex

__all__ = [
    "IPOSymbols",
    "symbolic_preference_matrix",
    "ipo_symbols",
    "expected_pair_loss",
    "population_loss",
    "loss_constant",
    "gradient",
    "stated_gradient",
    "hessian",
    "stated_hessian",
    "hessian_sos",
    "closed_form_policy",
    "closed_form_log_ratio",
    "stationarity_residual",
    "Obligation",
    "obligations",
    "general_obligations",
    "latex_sections",
]


@dataclass(frozen=True)
class IPOSymbols:
    """Fully symbolic data for explicit ``K``.

    ``P`` has free upper-triangle entries ``p_i_j`` (``i < j``), ``P[j,i] = 1 - p_i_j``,
    ``P[i,i] = 1/2``; ``mu``, ``r``, ``pi_ref`` are symbol vectors; ``beta > 0``.
    """

    K: int
    P: sympy.Matrix
    upper: tuple[sympy.Symbol, ...]
    mu: tuple[sympy.Symbol, ...]
    r: tuple[sympy.Symbol, ...]
    pi_ref: tuple[sympy.Symbol, ...]
    beta: sympy.Symbol

    @property
    def S(self) -> sympy.Matrix:
        """``S = P - (1/2) 1 1^T``."""
        return self.P - sympy.Rational(1, 2) * sympy.ones(self.K, self.K)

    def mu_normalised(self) -> dict:
        """Substitution ``mu_{K-1} = 1 - sum_{k<K-1} mu_k``."""
        return {self.mu[-1]: 1 - sum(self.mu[:-1])}


def symbolic_preference_matrix(K: int) -> tuple[sympy.Matrix, tuple[sympy.Symbol, ...]]:
    """``P`` with free upper-triangle entries ``p_i_j`` (``i < j``), ``P[j,i] = 1 - p_i_j``, ``P[i,i] = 1/2``.

    Returns ``(P, upper symbols)``; shared by the IPO and DPO derivations.
    """
    if K < 2:
        raise ValueError(f"K = {K}, expected K >= 2")
    upper = []
    P = sympy.zeros(K, K)
    for i in range(K):
        P[i, i] = sympy.Rational(1, 2)
        for j in range(i + 1, K):
            p = sympy.Symbol(f"p_{i}_{j}", positive=True)
            upper.append(p)
            P[i, j] = p
            P[j, i] = 1 - p
    return P, tuple(upper)


@lru_cache(maxsize=None)
def ipo_symbols(K: int) -> IPOSymbols:
    """Symbols for explicit ``K >= 2``."""
    P, upper = symbolic_preference_matrix(K)
    mu = tuple(sympy.Symbol(f"mu_{k}", positive=True) for k in range(K))
    r = tuple(sympy.Symbol(f"r_{k}", real=True) for k in range(K))
    pi_ref = tuple(sympy.Symbol(f"piref_{k}", positive=True) for k in range(K))
    beta = sympy.Symbol("beta", positive=True)
    return IPOSymbols(K, P, upper, mu, r, pi_ref, beta)


def expected_pair_loss(sy: IPOSymbols, beta_factor: sympy.Expr = 1) -> sympy.Expr:
    """``E_{(i,j)~mu x mu} E_label (h(y_w, y_l) - beta/2)^2`` written out pair by pair."""
    c = beta_factor * sy.beta / 2
    L = 0
    for i in range(sy.K):
        for j in range(sy.K):
            h = sy.r[i] - sy.r[j]
            L += sy.mu[i] * sy.mu[j] * (sy.P[i, j] * (h - c) ** 2 + sy.P[j, i] * (-h - c) ** 2)
    return L


def population_loss(sy: IPOSymbols) -> sympy.Expr:
    """``L_IPO(r; mu) = sum_ij mu_i mu_j (r_i - r_j - beta S_ij)^2`` (docs/claims.md §0)."""
    S = sy.S
    return sum(
        sy.mu[i] * sy.mu[j] * (sy.r[i] - sy.r[j] - sy.beta * S[i, j]) ** 2 for i in range(sy.K) for j in range(sy.K)
    )


def loss_constant(sy: IPOSymbols) -> sympy.Expr:
    """The ``r``-free difference ``beta^2 sum_ij mu_i mu_j (1/4 - S_ij^2)``."""
    S = sy.S
    return sy.beta**2 * sum(
        sy.mu[i] * sy.mu[j] * (sympy.Rational(1, 4) - S[i, j] ** 2) for i in range(sy.K) for j in range(sy.K)
    )


def gradient(sy: IPOSymbols, L: sympy.Expr | None = None) -> sympy.Matrix:
    """``dL/dr`` by differentiation of ``L`` (default: the population loss)."""
    L = population_loss(sy) if L is None else L
    return sympy.Matrix([sympy.diff(L, rk) for rk in sy.r])


def stated_gradient(sy: IPOSymbols, factor: sympy.Expr = 4) -> sympy.Matrix:
    """the claims reference's ``dL/dr_k = 4 mu_k sum_j mu_j (r_k - r_j - beta S[k,j])``."""
    S = sy.S
    return sympy.Matrix(
        [factor * sy.mu[k] * sum(sy.mu[j] * (sy.r[k] - sy.r[j] - sy.beta * S[k, j]) for j in range(sy.K)) for k in range(sy.K)]
    )


def hessian(sy: IPOSymbols) -> sympy.Matrix:
    """Hessian of the population loss in ``r``."""
    return sympy.hessian(population_loss(sy), sy.r)


def stated_hessian(sy: IPOSymbols) -> sympy.Matrix:
    """``4 (diag(mu) (1^T mu) - mu mu^T)``."""
    m = sympy.Matrix(sy.mu)
    return 4 * (sympy.diag(*sy.mu) * sum(sy.mu) - m * m.T)


def hessian_sos(sy: IPOSymbols, v: tuple[sympy.Symbol, ...]) -> sympy.Expr:
    """``4 sum_{i<j} mu_i mu_j (v_i - v_j)^2``: ``v^T H v`` as a sum of squares."""
    return 4 * sum(sy.mu[i] * sy.mu[j] * (v[i] - v[j]) ** 2 for i in range(sy.K) for j in range(i + 1, sy.K))


def _scores(sy: IPOSymbols) -> sympy.Matrix:
    return sy.P * sympy.Matrix(sy.mu)


def closed_form_policy(sy: IPOSymbols, beta_factor: sympy.Expr = 1) -> list[sympy.Expr]:
    """``pi*_k = pi_ref_k exp(beta (P mu)_k) / Z`` (``beta_factor`` plants wrong variants)."""
    s = _scores(sy)
    w = [sy.pi_ref[k] * sympy.exp(beta_factor * sy.beta * s[k]) for k in range(sy.K)]
    Z = sum(w)
    return [wk / Z for wk in w]


def closed_form_log_ratio(sy: IPOSymbols, beta_factor: sympy.Expr = 1) -> list[sympy.Expr]:
    """``r_k = log(pi*_k / pi_ref_k)``, expanded: ``beta (P mu)_k - log Z``."""
    pi = closed_form_policy(sy, beta_factor)
    return [sympy.expand_log(sympy.log(pi[k] / sy.pi_ref[k]), force=True) for k in range(sy.K)]


def stationarity_residual(sy: IPOSymbols, beta_factor: sympy.Expr = 1) -> list[sympy.Expr]:
    """The stated gradient at the closed form, with ``1^T mu = 1``: must be exactly 0."""
    g = stated_gradient(sy)
    sub = dict(zip(sy.r, closed_form_log_ratio(sy, beta_factor)))
    norm = sy.mu_normalised()
    return [sympy.expand(g[k].subs(sub).subs(norm)) for k in range(sy.K)]


@dataclass(frozen=True)
class Obligation:
    """An exact expression that must be identically 0, with what it proves."""

    name: str
    description: str
    expr: Callable[[], object]  # lazily built: a sympy expr, a list of them, or a Matrix


def _pair_loss_obligation(sy: IPOSymbols, beta_factor: sympy.Expr) -> sympy.Expr:
    return sympy.expand(expected_pair_loss(sy, beta_factor) - population_loss(sy) - loss_constant(sy))


def obligations(
    K: int,
    *,
    beta_factor: sympy.Expr = 1,
    grad_factor: sympy.Expr = 4,
    pair_factor: sympy.Expr = 1,
) -> list[Obligation]:
    """The proof obligations of IPO-1 for explicit ``K``.

    The keyword factors plant wrong variants for negative controls:
    ``beta_factor`` scales ``beta`` in the closed form, ``grad_factor`` replaces
    the 4 of the stated gradient, ``pair_factor`` scales the margin ``1/(2 tau)``.
    """
    sy = ipo_symbols(K)
    v = tuple(sympy.Symbol(f"v_{k}", real=True) for k in range(K))
    vv = sympy.Matrix(v)

    return [
        Obligation(
            "pair-loss",
            "expected sampled-pair loss = population loss + r-free constant",
            lambda: _pair_loss_obligation(sy, pair_factor),
        ),
        Obligation(
            "gradient",
            "dL/dr_k = 4 mu_k sum_j mu_j (r_k - r_j - beta S_kj)",
            lambda: sympy.expand(gradient(sy) - stated_gradient(sy, grad_factor)),
        ),
        Obligation(
            "hessian",
            "H = 4 (diag(mu) 1^T mu - mu mu^T)",
            lambda: sympy.expand(hessian(sy) - stated_hessian(sy)),
        ),
        Obligation(
            "hessian-sos",
            "v^T H v = 4 sum_{i<j} mu_i mu_j (v_i - v_j)^2 (PSD; kernel = span 1 for interior mu)",
            lambda: sympy.expand((vv.T * stated_hessian(sy) * vv)[0, 0] - hessian_sos(sy, v)),
        ),
        Obligation(
            "hessian-kernel",
            "H 1 = 0 (the loss is invariant under r -> r + t 1)",
            lambda: sympy.expand(stated_hessian(sy) * sympy.ones(K, 1)),
        ),
        Obligation(
            "stationarity",
            "the closed form pi* = pi_ref exp(beta P mu)/Z zeroes the gradient (1^T mu = 1)",
            lambda: stationarity_residual(sy, beta_factor),
        ),
    ]


def general_obligations(*, beta_factor: sympy.Expr = 1, grad_factor: sympy.Expr = 4) -> list[tuple[str, str, ma.NC, bool]]:
    """The same derivation for every ``K``, in the free matrix algebra.

    Returns ``(name, description, element, normalised)``; each element must
    normalise to 0 (see :mod:`theory.matrix_algebra`). The matrix form of the
    loss,

    ``L = 2 (1^T mu)(r^T D r) - 2 (mu^T r)(r^T mu) - 2 beta (r^T D S mu - mu^T S D r) + beta^2 C``

    with ``D = diag(mu)`` is the index form term by term (it is compared with the
    index form for explicit ``K`` by the tests and by the ``matrix-form`` obligation
    of :func:`matrix_form_obligation`).
    """
    beta, c, C = sympy.symbols("beta c C")
    S, D, one, onet, mu, mut = ma.S, ma.D, ma.one, ma.onet, ma.mu, ma.mut
    r, rt = ma.vec("r")
    v, vt = ma.vec("v")
    L = 2 * (onet * mu) * (rt * D * r) - 2 * (mut * r) * (rt * mu) - 2 * beta * (rt * D * S * mu - mut * S * D * r) + beta**2 * C
    g = grad_factor * (D * r * (onet * mu) - D * one * (mut * r) - beta * D * S * mu)
    H = 4 * ((onet * mu) * D - mu * mut)
    P = S + ma.half * one * onet
    dL = L.derivative("r", "v")
    d2L = dL.derivative("r", "v")
    w = v - one * (mut * v)
    r_star = beta_factor * beta * P * mu - c * one
    return [
        ("gradient", "dL[v] = v^T g with g = 4 D((1^T mu) r - (mu^T r) 1 - beta S mu)", dL - vt * g, False),
        ("hessian", "d^2L[v,v] = v^T H v with H = 4((1^T mu) D - mu mu^T)", d2L - vt * H * v, False),
        (
            "hessian-psd",
            "v^T H v = 4 (v - (mu^T v) 1)^T D (v - (mu^T v) 1) >= 0 when 1^T mu = 1 (D = diag(mu) >= 0)",
            vt * H * v - 4 * (w.T * D * w),
            True,
        ),
        ("hessian-kernel", "H 1 = 0", H * one, True),
        ("mu-P-mu", "mu^T P mu = 1/2 (from P + P^T = 1 1^T and 1^T mu = 1)", mut * P * mu - ma.half, True),
        (
            "stationarity",
            "g(beta P mu - c 1) = 0 for every K and every c (1^T mu = 1)",
            g.subs("r", r_star),
            True,
        ),
    ]


def matrix_form_obligation(K: int) -> sympy.Expr:
    """Index-form population loss minus the matrix form of :func:`general_obligations`, explicit ``K``."""
    sy = ipo_symbols(K)
    mu = sympy.Matrix(sy.mu)
    r = sympy.Matrix(sy.r)
    D = sympy.diag(*sy.mu)
    S = sy.S
    C = sum(sy.mu[i] * sy.mu[j] * S[i, j] ** 2 for i in range(K) for j in range(K))
    Lm = (
        2 * sum(sy.mu) * (r.T * D * r)[0, 0]
        - 2 * (mu.T * r)[0, 0] ** 2
        - 2 * sy.beta * ((r.T * D * S * mu)[0, 0] - (mu.T * S * D * r)[0, 0])
        + sy.beta**2 * C
    )
    return sympy.expand(population_loss(sy) - Lm)


def latex_sections() -> list[Section]:
    """IPO loss, gradient, Hessian and closed form for ``K = 3`` plus the general forms.

    The Hessian is printed with ``sum(mu) = 1`` (``mu`` is a distribution); the closed form with
    the scores ``s = P mu`` and the normaliser ``Z`` as names, so that each entry fits the page.
    """
    sy = ipo_symbols(3)
    s = sympy.symbols("s_0:3", real=True)
    items = [
        (
            "Population loss (general K)",
            r"L_{\mathrm{IPO}}(r;\mu)=\sum_{i,j}\mu_i\mu_j\,(r_i-r_j-\beta S_{ij})^2"
            r"+\beta^2\sum_{i,j}\mu_i\mu_j\left(\tfrac14-S_{ij}^2\right),\qquad S=P-\tfrac12\mathbf 1\mathbf 1^{\top}",
        ),
        (
            "Gradient (general K)",
            r"\nabla_r L=4\,\mathrm{diag}(\mu)\left((\mathbf 1^{\top}\mu)\,r-(\mu^{\top}r)\,\mathbf 1-\beta S\mu\right)",
        ),
        (
            "Hessian (general K)",
            r"\nabla^2_r L=4\left((\mathbf 1^{\top}\mu)\,\mathrm{diag}(\mu)-\mu\mu^{\top}\right),\qquad "
            r"v^{\top}\nabla^2 L\,v=4\sum_{i<j}\mu_i\mu_j(v_i-v_j)^2",
        ),
        ("Closed form (general K)", r"\pi^*=\frac{\pi_{\mathrm{ref}}\odot e^{\beta P\mu}}{\mathbf 1^{\top}(\pi_{\mathrm{ref}}\odot e^{\beta P\mu})}"),
        ("Population loss, K = 3 (up to the r-free constant)", Equation("L", population_loss(sy))),
        ("Gradient, K = 3", Equation(r"\nabla_r L", stated_gradient(sy))),
        ("Hessian, K = 3, with mu_0 + mu_1 + mu_2 = 1", Equation(r"\nabla^2_r L", on_simplex(stated_hessian(sy), sy.mu))),
        ("Scores s = P mu, K = 3", Equation("s", _scores(sy))),
        (
            "Closed-form optimum, K = 3",
            Equation(r"Z\,\pi^*", sympy.Matrix([sy.pi_ref[k] * sympy.exp(sy.beta * s[k]) for k in range(3)])),
        ),
        ("Normaliser", Equation("Z", sum(sy.pi_ref[k] * sympy.exp(sy.beta * s[k]) for k in range(3)))),
    ]
    return [
        Section(
            "IPO-1: the one-shot IPO optimum",
            r"For interior $\mu$ the population IPO loss is a convex quadratic in $r=\log(\pi/\pi_{\mathrm{ref}})$ "
            r"whose minimiser is unique up to $r\mapsto r+t\mathbf 1$, i.e. $\pi^*\propto\pi_{\mathrm{ref}}\odot\exp(\beta P\mu)$.",
            items,
        )
    ]


def general_index_obligations(*, beta_factor: sympy.Expr = 1) -> list[tuple[str, str, sympy.Expr]]:
    r"""The link from the sampled-pair loss to the matrix form of :func:`general_obligations`, every ``K``.

    Written as the ``(i, j)`` summand of a double sum over ``[K] x [K]`` in symbols ``r_i, r_j,
    mu_i, mu_j, s`` (``s = S_ij``, so ``S_ji = -s``); each residual must be 0:

    * ``pointwise`` (pair loss): ``P_ij (h - c)^2 + P_ji (h + c)^2 = (h - beta s)^2 + beta^2 (1/4 - s^2)``
      with ``c = beta/2``, ``P_ij = 1/2 + s``, ``P_ji = 1/2 - s`` -- for every pair, hence every ``K``;
    * ``pair-sum`` (matrix form): each word of the matrix form is, by definition, a double sum
      (``(1^T mu)(r^T D r) = sum_ij mu_j mu_i r_i^2``, ``(mu^T r)(r^T mu) = sum_ij mu_i r_i mu_j r_j``,
      ``r^T D S mu = sum_ij r_i mu_i s mu_j``, ``mu^T S D r = sum_ij mu_i s mu_j r_j``,
      ``C = sum_ij mu_i mu_j s^2``); the summand of index form minus matrix form vanishes after
      relabelling ``i <-> j`` (:func:`theory.matrix_algebra.pair_sum_residual`).

    ``beta_factor`` scales the margin ``1/(2 tau)`` of the sampled-pair loss (planted variant).
    """
    r_i, r_j, s = sympy.symbols("r_i r_j s", real=True)
    mu_i, mu_j = sympy.symbols("mu_i mu_j", positive=True)
    beta = sympy.Symbol("beta", positive=True)
    h = r_i - r_j
    c = beta_factor * beta / 2
    half = sympy.Rational(1, 2)
    pair = (half + s) * (h - c) ** 2 + (half - s) * (h + c) ** 2 - ((h - beta * s) ** 2 + beta**2 * (sympy.Rational(1, 4) - s**2))
    index = mu_i * mu_j * (h - beta * s) ** 2
    matrix = 2 * mu_j * mu_i * r_i**2 - 2 * mu_i * r_i * mu_j * r_j - 2 * beta * (r_i * mu_i * s * mu_j - mu_i * s * mu_j * r_j) + beta**2 * mu_i * mu_j * s**2
    swap = {r_i: r_j, r_j: r_i, mu_i: mu_j, mu_j: mu_i, s: -s}
    return [
        ("pair-loss (every pair)", "pointwise", sympy.expand(pair)),
        ("index form = matrix form (every K)", "pair-sum", ma.pair_sum_residual(index - matrix, swap)),
    ]
