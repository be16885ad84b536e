"""MRS-IPO iterative dynamics: the map, its Jacobian, and exact stability thresholds.

docs/claims.md §3. One step of MRS-IPO with parameters ``alpha, lambda in [0, 1]``,
``beta > 0``, offline sampler/start ``pi0`` and reference ``pi_ref`` is

.. math::

    z_i(\\pi) = \\alpha \\log \\pi_i + (1-\\alpha) \\log \\pi^{ref}_i + \\beta (P \\mu)_i,
    \\qquad \\mu = \\lambda \\pi + (1-\\lambda) \\pi_0,
    \\qquad F(\\pi) = \\operatorname{softmax}(z(\\pi)).

Ambient Jacobian (the map extended to the positive orthant by the same formula)

.. math::

    DF(\\pi) = (\\operatorname{diag}\\pi' - \\pi'\\pi'^T)(\\alpha\\,\\operatorname{diag}(\\pi)^{-1} + \\beta\\lambda P),
    \\qquad \\pi' = F(\\pi).

Coordinates used throughout (documented once here):

* **tangent basis** ``B = [e_0 - e_{K-1}, ..., e_{K-2} - e_{K-1}]`` (``K x (K-1)``), with left
  inverse ``L`` = the first ``K-1`` rows (``L B = I``, and ``v = B L v`` for ``1^T v = 0``).
  The tangent Jacobian is ``J_T = L DF B``: the Jacobian of the map in the chart
  ``(pi_0, ..., pi_{K-2})`` with ``pi_{K-1} = 1 - sum``.
* **centered logits** ``x = C log pi`` with ``C = I - 11^T/K``; the map becomes
  ``G(x) = C(alpha x + (1-alpha) log pi_ref + beta P mu(softmax x))`` with
  ``DG(x) = C(alpha I + beta lambda P M)``, ``M = diag(pi) - pi pi^T``, and in the orthonormal
  Helmert basis ``H`` of ``{1^T x = 0}`` the matrix ``J_x = H^T DG H``. At a fixed point
  ``J_x`` and ``J_T`` are similar (same eigenvalues).

Derivations are exact (sympy only). The general-``K`` statements are proved in matrix form with
index (``IndexedBase``/``KroneckerDelta``) differentiation; explicit ``K = 2, 3, 4`` are
obtained by direct differentiation of the map.

>>> lam1, lam2 = cycle_eigenvalues()
>>> lam1
sqrt(3)*I*a*beta*lambda/3 + alpha
>>> cycle_threshold()
a**2*beta**2*lambda**2/3 + alpha**2
"""

from __future__ import annotations

from functools import lru_cache

import sympy
from sympy import (
    I,
    Matrix,
    Rational,
    Symbol,
    eye,
    exp,
    log,
    ones,
    sqrt,
    symbols,
    zeros,
)

from .matrices import balanced_skew, cyclic_P, helmert_basis, tangent_basis, tangent_left_inverse

__all__ = [
    "alpha",
    "beta",
    "lam",
    "a",
    "kappa",
    "generic_P",
    "cyclic_P",
    "policy_symbols",
    "logits",
    "mrs_ipo_map",
    "ambient_jacobian",
    "jacobian_formula",
    "jacobian_residual",
    "tangent_basis",
    "tangent_left_inverse",
    "helmert_basis",
    "tangent_jacobian",
    "centered_logit_jacobian",
    "general_jacobian_proof",
    "uniform_tangent_jacobian",
    "cycle_eigenvalues",
    "cycle_threshold",
    "balanced_tangent_jacobian",
    "balanced_spectral_radius_sq",
    "balanced_threshold",
    "generic_balanced_S",
    "general_balanced_obligations",
    "general_balanced_residuals",
    "fixed_point_equation_residual",
    "contraction_factor",
    "softmax_jacobian",
    "sections",
]

#: A generic balanced skew ``S`` (``S 1 = 0``): the one copy is :func:`theory.family.balanced_skew`.
generic_balanced_S = balanced_skew

alpha, beta, lam = symbols("alpha beta lambda", positive=True)
a = Symbol("a", positive=True)
kappa = Symbol("kappa", positive=True)
HALF = Rational(1, 2)


def policy_symbols(K: int, name: str = "pi") -> list[Symbol]:
    """Positive symbols ``name_0 .. name_{K-1}``."""
    return list(symbols(f"{name}_0:{K}", positive=True))


def generic_P(K: int) -> Matrix:
    """A generic valid preference matrix: symbols ``p_ij`` above the diagonal, ``1 - p_ij`` below."""
    P = zeros(K, K)
    for i in range(K):
        P[i, i] = HALF
        for j in range(i + 1, K):
            s = Symbol(f"p_{i}{j}", positive=True)
            P[i, j] = s
            P[j, i] = 1 - s
    return P


def logits(pi, P, pi_ref, pi0, al=alpha, be=beta, la=lam) -> Matrix:
    """``z(pi)`` (column), the pre-softmax logits of one MRS-IPO step."""
    K = len(pi)
    pi = Matrix(pi)
    mu = la * pi + (1 - la) * Matrix(pi0)
    Pmu = P * mu
    return Matrix([al * log(pi[i]) + (1 - al) * log(pi_ref[i]) + be * Pmu[i] for i in range(K)])


def _softmax(z: Matrix) -> Matrix:
    e = [exp(zi) for zi in z]
    s = sum(e)
    return Matrix([ei / s for ei in e])


def mrs_ipo_map(K: int, P: Matrix | None = None, pi_ref=None, pi0=None) -> tuple[Matrix, list[Symbol]]:
    """The map ``F(pi)`` for explicit ``K`` (generic ``P``, ``pi_ref``, ``pi0`` unless given).

    Returns ``(F, pi_symbols)``.
    """
    pi = policy_symbols(K)
    P = generic_P(K) if P is None else P
    pi_ref = policy_symbols(K, "r") if pi_ref is None else list(pi_ref)
    pi0 = policy_symbols(K, "q") if pi0 is None else list(pi0)
    return _softmax(logits(pi, P, pi_ref, pi0)), pi


def softmax_jacobian(s: Matrix) -> Matrix:
    """``diag(s) - s s^T``."""
    return sympy.diag(*list(s)) - s * s.T


def jacobian_formula(K: int, P: Matrix | None = None, pi=None, Fpi: Matrix | None = None) -> Matrix:
    """the claims reference's ``(diag pi' - pi' pi'^T)(alpha diag(pi)^{-1} + beta lambda P)``."""
    pi = policy_symbols(K) if pi is None else list(pi)
    P = generic_P(K) if P is None else P
    if Fpi is None:
        raise ValueError("pass Fpi = F(pi)")
    return softmax_jacobian(Fpi) * (alpha * sympy.diag(*[1 / p for p in pi]) + beta * lam * P)


@lru_cache(maxsize=None)
def ambient_jacobian(K: int) -> tuple[Matrix, Matrix, list[Symbol]]:
    """Direct differentiation of ``F`` for explicit ``K`` (generic ``P``, ``pi_ref``, ``pi0``).

    ``F_i = W_i / sum_k W_k`` with ``W_k = exp(z_k)``. The exponentials are kept as
    opaque functions ``W_k(pi)`` with the defining rule ``dW_k/dpi_j = W_k dz_k/dpi_j``,
    where ``dz_k/dpi_j`` is sympy's derivative of the explicit logits. This avoids
    sympy rewriting products of exponentials and makes the comparison a rational identity.

    Returns ``(DF, Fpi, W)`` with ``DF`` and ``Fpi = F(pi)`` in terms of symbols ``W``.
    """
    pi = policy_symbols(K)
    P = generic_P(K)
    z = logits(pi, P, policy_symbols(K, "r"), policy_symbols(K, "q"))
    Wf = [sympy.Function(f"W{k}")(*pi) for k in range(K)]
    Ws = list(symbols(f"W_0:{K}", positive=True))
    total = sum(Wf)
    F = Matrix([Wf[i] / total for i in range(K)])
    DF = zeros(K, K)
    rules = {}
    for k in range(K):
        for j in range(K):
            rules[sympy.Derivative(Wf[k], pi[j])] = Wf[k] * sympy.diff(z[k], pi[j])
    back = dict(zip(Wf, Ws))
    for i in range(K):
        for j in range(K):
            d = sympy.diff(F[i], pi[j]).subs(rules).subs(back)
            DF[i, j] = d
    Fpi = F.subs(back)
    return DF, Fpi, Ws


def jacobian_residual(K: int) -> Matrix:
    """``DF_direct - DF_formula`` for explicit ``K``, cancelled (the zero matrix iff the formula holds)."""
    DF, Fpi, _ = ambient_jacobian(K)
    form = jacobian_formula(K, Fpi=Fpi)
    return (DF - form).applyfunc(lambda e: sympy.cancel(sympy.together(e)))


@lru_cache(maxsize=None)
def general_jacobian_proof(lam_factor=1) -> dict[str, sympy.Expr]:
    """General-``K`` matrix-form derivation with indexed symbols.

    Returns the residuals of the two chain-rule factors, each of which must be 0:

    * ``dz``: ``d z_i / d pi_j - (alpha delta_ij / pi_i + beta lambda P_ij)`` where
      ``z_i = alpha log pi_i + (1-alpha) log r_i + beta sum_k P_ik (lambda pi_k + (1-lambda) q_k)``
      (``sum`` over ``k = 0..K-1`` with symbolic ``K``);
    * ``softmax``: ``d/dz_j (e^{z_i}/D) - (s_i delta_ij - s_i s_j)`` with ``D = sum_k e^{z_k}``,
      ``dD/dz_j = e^{z_j}`` (the one fact about ``D`` used; it holds for every ``K``).

    Chain rule: ``DF = (diag s - s s^T)(alpha diag(pi)^{-1} + beta lambda P)``.
    """
    Kn = Symbol("K", integer=True, positive=True)
    i, j, k = symbols("i j k", integer=True, nonnegative=True)
    pi = sympy.IndexedBase("pi", positive=True)
    r = sympy.IndexedBase("r", positive=True)
    q = sympy.IndexedBase("q", positive=True)
    Pm = sympy.IndexedBase("P")
    z_i = alpha * log(pi[i]) + (1 - alpha) * log(r[i]) + beta * sympy.Sum(Pm[i, k] * (lam * pi[k] + (1 - lam) * q[k]), (k, 0, Kn - 1))
    dz = sympy.diff(z_i, pi[j]).doit()
    target = alpha * sympy.KroneckerDelta(i, j) / pi[i] + beta * lam * lam_factor * Pm[i, j]
    # sympy returns Piecewise((value, index in range), (other, True)); the index range
    # 0 <= j <= K-1 is the hypothesis, so the first branch is the derivative.
    res_dz_in = _in_range(sympy.simplify((dz - target).subs({j: i})))  # j = i
    res_dz_off = _in_range(sympy.simplify(dz.subs({i: 0, j: 1}) - target.subs({i: 0, j: 1})))  # j != i
    # softmax factor: D an opaque function of z_j with derivative e^{z_j}
    zi, zj, D = symbols("z_i z_j D", real=True)
    # case i == j: d/dz_i (e^{z_i} / D(z_i)) with D' = e^{z_i}
    Df = sympy.Function("D")(zi)
    s_i = exp(zi) / Df
    d_same = sympy.diff(s_i, zi).subs(sympy.Derivative(Df, zi), exp(zi))
    res_sm_same = sympy.simplify(d_same - (s_i - s_i**2))
    # case i != j: d/dz_j (e^{z_i} / D(z_j)) with D' = e^{z_j}
    Dg = sympy.Function("D")(zj)
    s_i2 = exp(zi) / Dg
    s_j2 = exp(zj) / Dg
    d_off = sympy.diff(s_i2, zj).subs(sympy.Derivative(Dg, zj), exp(zj))
    res_sm_off = sympy.simplify(d_off - (-s_i2 * s_j2))
    # the fact used about D: d/dz_j sum_k e^{z_k} = e^{z_j} for 0 <= j <= K-1 (indexed sum, symbolic K)
    zz = sympy.IndexedBase("z", real=True)
    Dsum = sympy.Sum(exp(zz[k]), (k, 0, Kn - 1))
    res_den = _in_range(sympy.simplify(sympy.diff(Dsum, zz[j]).doit() - exp(zz[j])))
    return {
        "softmax_denominator": res_den,
        "dz_diagonal": res_dz_in,
        "dz_off_diagonal": res_dz_off,
        "softmax_diagonal": res_sm_same,
        "softmax_off_diagonal": res_sm_off,
    }


def _in_range(expr: sympy.Expr) -> sympy.Expr:
    """The branch of a ``Piecewise`` whose condition is an index-range inequality in ``K``."""
    if isinstance(expr, sympy.Piecewise):
        value, cond = expr.args[0]
        if not (isinstance(cond, sympy.core.relational.Relational) and any(s.name == "K" for s in cond.free_symbols)):
            raise ValueError(f"unexpected condition {cond}")
        return sympy.simplify(value)
    return expr


def tangent_jacobian(DF: Matrix) -> Matrix:
    """``J_T = L DF B`` in the documented tangent basis."""
    K = DF.rows
    return tangent_left_inverse(K) * DF * tangent_basis(K)


def centered_logit_jacobian(pi, P: Matrix, al=alpha, be=beta, la=lam) -> Matrix:
    """``J_x = H^T C (alpha I + beta lambda P M(pi)) H`` at the policy ``pi`` (centered logits)."""
    K = len(pi)
    pi = Matrix(pi)
    C = eye(K) - ones(K, K) / K
    H = helmert_basis(K)
    return H.T * C * (al * eye(K) + be * la * P * softmax_jacobian(pi)) * H


def uniform_tangent_jacobian(P: Matrix, al=alpha, be=beta, la=lam) -> Matrix:
    """Tangent Jacobian ``J_T`` at ``pi = uniform`` when ``F(uniform) = uniform``."""
    K = P.rows
    u = Matrix([Rational(1, K)] * K)
    DF = softmax_jacobian(u) * (al * sympy.diag(*[K] * K) + be * la * P)
    return tangent_jacobian(DF).applyfunc(sympy.expand)


@lru_cache(maxsize=None)
def cycle_eigenvalues() -> tuple[sympy.Expr, sympy.Expr]:
    """Exact tangent eigenvalues at uniform for ``P_cyc(a)``: ``alpha ± i a beta lambda / sqrt(3)``."""
    J = uniform_tangent_jacobian(cyclic_P())
    x = Symbol("x")
    cp = sympy.factor(J.charpoly(x).as_expr(), extension=[I, sqrt(3)])
    roots = sympy.solve(cp, x)
    roots = sorted((sympy.simplify(rt) for rt in roots), key=lambda e: sympy.default_sort_key(sympy.im(e)))
    return tuple(sorted(roots, key=lambda e: -int(sympy.sign(sympy.im(e).subs({a: 1, beta: 1, lam: 1})))))  # type: ignore[return-value]


def cycle_threshold() -> sympy.Expr:
    """``|eigenvalue|^2 = alpha^2 + a^2 beta^2 lambda^2 / 3``: unstable iff ``> 1``."""
    l1, _ = cycle_eigenvalues()
    return sympy.expand(sympy.simplify(l1 * sympy.conjugate(l1)))


def balanced_tangent_jacobian(S: Matrix, al=alpha, be=beta, la=lam) -> Matrix:
    """The claimed form ``L (alpha I + (beta lambda / K) S) B`` of ``J_T`` at uniform for balanced ``P``."""
    K = S.rows
    return (tangent_left_inverse(K) * (al * eye(K) + be * la * S / K) * tangent_basis(K)).applyfunc(sympy.expand)


def balanced_spectral_radius_sq(s_max, K, al=alpha, be=beta, la=lam) -> sympy.Expr:
    """``rho^2 = alpha^2 + (beta lambda s_max / K)^2`` (``s_max = ||S||_2``)."""
    return al**2 + (be * la * s_max / K) ** 2


def balanced_threshold(K=None) -> sympy.Expr:
    """DYN-6 threshold expression ``alpha^2 + (beta lambda s_max / K)^2`` (unstable iff ``> 1``)."""
    Kn = Symbol("K", integer=True, positive=True) if K is None else K
    return balanced_spectral_radius_sq(Symbol("s_max", positive=True), Kn)


def general_balanced_obligations(coef=1) -> list[tuple[str, "object"]]:
    """DYN-6 for every ``K``: identities in the free matrix algebra (:mod:`theory.matrix_algebra`).

    Each element must normalise to 0 under the balanced axioms ``S one = 0``, ``one^T S = 0``,
    ``one^T one = K`` (:func:`theory.dpo.balanced_normal_form`, the algebra DPO-6 uses) together
    with ``S^T = -S``. At ``u = one/K`` (``diag u = I/K``), with ``P = S + (1/2) one one^T``,
    ``C = I - one one^T/K`` and ``c = coef * beta lambda / K`` (``coef = 1`` is the claim):

    * ``P u = (1/2) one``: the logits are constant, so ``F(u) = u`` (uniform is fixed);
    * ``DF(u) = (diag u - u u^T)(alpha diag(u)^{-1} + beta lambda P) = (1/K) C (alpha K I + beta lambda P)``;
    * ``DF(u) C = alpha C + c S``: for tangent ``v = C w`` (every tangent vector is one, ``C v = v``),
      ``DF(u) v = alpha v + c S v``;
    * ``one^T (alpha C + c S) = 0``: the tangent space is invariant;
    * ``S C = S``: ``S`` on the tangent space has the norm of ``S`` (``S one = 0``);
    * ``J^T J = J J^T = alpha^2 C + c^2 S^T S`` for ``J = alpha C + c S``: ``J`` is normal, so on the tangent
      space its spectral radius equals its 2-norm, ``sqrt(alpha^2 + c^2 ||S||_2^2)``.
    """
    from . import matrix_algebra as ma

    Kn = Symbol("K", positive=True, integer=True)
    Id = ma.NC({(): 1})
    S, one, onet = ma.S, ma.one, ma.onet
    P = S + one * onet * HALF
    C = Id - one * onet * (1 / Kn)
    u = one * (1 / Kn)
    DF = (Id * (1 / Kn) - u * u.T) * (Id * (alpha * Kn) + P * (beta * lam))
    c = coef * beta * lam / Kn
    J = C * alpha + S * c
    return [
        ("P u = (1/2) one (uniform is fixed)", P * u - one * HALF),
        ("DF(u) = (1/K) C (alpha K I + beta lambda P)", DF - C * (1 / Kn) * (Id * (alpha * Kn) + P * (beta * lam))),
        ("DF(u) C = alpha C + (beta lambda/K) S (tangent action)", DF * C - J),
        ("one^T J = 0 (tangent space invariant)", onet * J),
        ("S C = S", S * C - S),
        ("J^T J = alpha^2 C + c^2 S^T S", J.T * J - (C * alpha**2 + S.T * S * c**2)),
        ("J J^T = J^T J (normal)", J * J.T - J.T * J),
    ]


def general_balanced_residuals(coef=1) -> dict[str, dict]:
    """Normal forms of :func:`general_balanced_obligations` (``{}`` = proved for every ``K``)."""
    from .dpo import balanced_normal_form

    Kn = Symbol("K", positive=True, integer=True)
    return {name: balanced_normal_form(e, Kn) for name, e in general_balanced_obligations(coef)}


def fixed_point_equation_residual(K: int) -> sympy.Expr:
    """DYN-4: a fixed point of MRS-IPO (``alpha < 1``) satisfies
    ``log pi = log pi_ref + kappa P pi + beta (1-lambda)/(1-alpha) P pi0 + c 1``.

    From ``log pi = alpha log pi + (1-alpha) log pi_ref + beta P mu - lse`` subtract the
    right-hand side of the claimed form times ``(1 - alpha)`` and compare the differences
    ``i`` vs ``0`` (the constants drop out). Returns the list of residuals (all 0).
    """
    pi = policy_symbols(K)
    P = generic_P(K)
    r = policy_symbols(K, "r")
    q = policy_symbols(K, "q")
    z = logits(pi, P, r, q)
    kap = beta * lam / (1 - alpha)
    claim = Matrix([log(r[i]) + kap * (P * Matrix(pi))[i] + beta * (1 - lam) / (1 - alpha) * (P * Matrix(q))[i] for i in range(K)])
    # fixed point: log pi_i - z_i is constant in i;  claimed: log pi_i - claim_i is constant in i
    res = []
    for i in range(1, K):
        lhs = (log(pi[i]) - z[i]) - (log(pi[0]) - z[0])
        rhs = (1 - alpha) * ((log(pi[i]) - claim[i]) - (log(pi[0]) - claim[0]))
        res.append(sympy.simplify(sympy.expand(lhs - rhs)))
    return res


def contraction_factor(S_norm) -> sympy.Expr:
    """DYN-2: ``q = alpha + (beta lambda / 2) ||S||_2``."""
    return alpha + beta * lam * S_norm / 2


@lru_cache(maxsize=None)
def _section_map() -> dict:
    from .latex import Equation, Section, on_simplex

    l1, l2 = cycle_eigenvalues()
    Fpi = Matrix(symbols("f_0:3", positive=True))
    J3 = jacobian_formula(3, Fpi=Fpi)
    s_max, Kn = Symbol("s_max", positive=True), Symbol("K", integer=True, positive=True)
    return {
        "map": Section(
            "MRS-IPO map and its Jacobian (docs/claims.md §3)",
            "One step of the iterative dynamics; softmax over the K responses.",
            [
                ("map", r"\pi_{t+1} = \operatorname{softmax}\big(\alpha\log\pi_t + (1-\alpha)\log\pi_{\mathrm{ref}} + \beta P(\lambda\pi_t + (1-\lambda)\pi_0)\big)"),
                ("Jacobian (ambient, general K)", r"DF(\pi) = (\operatorname{diag}\pi' - \pi'\pi'^{\top})\big(\alpha\operatorname{diag}(\pi)^{-1} + \beta\lambda P\big),\quad \pi' = F(\pi)"),
                ("Jacobian, K = 3, generic P, at a point pi with entries pi_k and image f = F(pi) (f_0 + f_1 + f_2 = 1)", Equation("DF", on_simplex(J3, tuple(Fpi)))),
                ("centered-logit Jacobian", r"DG(x) = (I - \tfrac{1}{K}\mathbf{1}\mathbf{1}^{\top})\big(\alpha I + \beta\lambda S(\operatorname{diag}\pi - \pi\pi^{\top})\big),\quad \pi = \operatorname{softmax}(x)"),
            ],
        ),
        "cycle": Section(
            "DYN-1: 3-cycle eigenvalues at the uniform fixed point",
            "Tangent eigenvalues for P_cyc(a), pi_0 = pi_ref = uniform; unstable iff the modulus squared exceeds 1.",
            [("eigenvalue 1", Equation(r"\nu_{+}", l1)), ("eigenvalue 2", Equation(r"\nu_{-}", l2)), ("modulus squared", Equation(r"|\nu_{\pm}|^2", cycle_threshold()))],
        ),
        "contraction": Section(
            "DYN-2: contraction factor",
            "Global convergence to the unique fixed point when q < 1.",
            [("contraction factor q", Equation("q", contraction_factor(Symbol(r"\|S\|_2", positive=True))))],
        ),
        "fixed_point": Section(
            "DYN-4: fixed-point equation for alpha < 1",
            "Fixed points of MRS-IPO; the solution is unique for every kappa.",
            [("fixed-point equation", r"\pi \propto \pi_{\mathrm{ref}} \odot \exp\big(\kappa P\pi + \tfrac{\beta(1-\lambda)}{1-\alpha}P\pi_0\big),\quad \kappa = \tfrac{\beta\lambda}{1-\alpha}")],
        ),
        "balanced": Section(
            "DYN-6: balanced P, any K",
            "Spectral radius at the uniform fixed point; unstable iff it exceeds 1.",
            [("spectral radius squared", Equation(r"\rho^2", balanced_spectral_radius_sq(s_max, Kn)))],
        ),
    }


def sections(*names: str) -> list:
    """LaTeX sections (``theory.latex.Section``): ``map``, ``cycle``, ``contraction``, ``fixed_point``,
    ``balanced`` (all when no name is given)."""
    table = _section_map()
    keys = names or tuple(table)
    return [table[k] for k in keys]
