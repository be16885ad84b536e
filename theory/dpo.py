r"""DPO and MRS-DPO, exactly: loss, stationarity, convexity, Bradley–Terry invariance,
the implicit-function Jacobian, and the stability threshold of the uniform fixed point.

Conventions (docs/claims.md §0, §4): ordered pairs ``(i, j)`` are drawn from ``mu x mu``,
``i`` wins with probability ``P[i,j]``, ``h = r_i - r_j`` with ``r = log(pi/pi_ref)``, and

    L_DPO(r; mu) = -sum_{i,j} mu_i mu_j [P_ij log sig(b h) + P_ji log sig(-b h)],   b = beta_dpo.

The sigmoid is the function :class:`sig` below, whose two defining properties
(``sig' = sig (1 - sig)`` and ``sig(-z) = 1 - sig(z)``) are checked against
``1/(1 + exp(-z))`` by :func:`sigmoid_obligations`; every later obligation is then
a polynomial identity in the atoms ``sig(.)`` that ``expand`` reduces to 0.

Derivation (each step is an obligation checked for explicit ``K``):

1. Per pair, ``d/dh [P log sig(bh) + (1-P) log sig(-bh)] = b (P - sig(bh))``, hence
   ``dL/dr_k = -2 b mu_k G_k`` with ``G_k = sum_j mu_j (P_kj - sig(b (r_k - r_j)))``:
   stationarity (DPO-1) is ``G = (P - Sigma(r)) mu = 0`` with ``Sigma_kj = sig(b (r_k - r_j))``.
   ``mu^T G = 0`` identically, so only ``K - 1`` equations are independent.
2. ``H = 2 b^2 Lap(W)``, ``W_ij = mu_i mu_j sig_ij (1 - sig_ij)``, and
   ``v^T H v = 2 b^2 sum_{i<j} W_ij (v_i - v_j)^2``: convex; for interior ``mu`` all
   ``W_ij > 0`` (complete graph), so the kernel is ``span(1)`` and ``L`` is strictly
   convex on centred ``r``. If every off-diagonal ``P_ij`` lies in ``(0, 1)`` each pair
   term tends to ``+inf`` as ``|h| -> inf``, so ``L`` is coercive on centred ``r`` and the
   minimiser exists and is unique up to ``r + t 1``.
3. Scale invariance: with ``x = b r`` the equation ``(P - Sigma(x)) mu = 0`` does not contain
   ``b``. So ``r*(mu) = x*(mu) / beta_dpo``: DPO's optimum is
   ``pi* ∝ pi_ref exp(x*(mu)/beta_dpo)`` (compare IPO: ``pi_ref exp(beta P mu)``).
4. Bradley–Terry (DPO-2): ``P_ij = sig(u_i - u_j)`` gives ``x = u + c`` for every ``mu``.
5. Implicit function theorem (DPO-2/3): ``A = dG/dx``, ``B = dG/dmu`` with
   ``A_kl = -delta_kl sum_j mu_j sig'_kj + mu_l sig'_kl`` and ``B_kl = P_kl - sig(x_k - x_l)``.
   ``mu^T A = 0`` and ``mu^T B = -G^T``, so at a solution both have range in ``mu^perp``;
   ``X = dx*/dmu`` (centred) is the top block of ``-[[A, 1], [1^T, 0]]^{-1} [B; 0]``.
6. MRS-DPO map ``F(pi) = softmax(alpha log pi + (1-alpha) log pi_ref + x*(mu)/b)``,
   ``mu = lam pi + (1-lam) pi_0``: its ambient Jacobian is
   ``DF = (diag(pi') - pi' pi'^T)(alpha diag(pi)^{-1} + (lam/b) X(mu))``.
7. Balanced ``P`` (``S 1 = 0``), ``pi_0 = pi_ref`` uniform: ``x = 0`` solves step 1 at
   ``mu = 1/K``, ``A = -(1/4) C`` (``C = I - 11^T/K``), ``B = S``, ``X = 4 S``; the map in
   centred logits has Jacobian ``J = alpha C + (4 lam/(b K)) S``, which is normal with
   ``J^T J = alpha^2 C - (4 lam/(b K))^2 S^2`` on the tangent space. The uniform point is
   linearly unstable iff ``alpha^2 + (4 lam rho(S)/(b K))^2 > 1`` (DPO-6); for the 3-cycle
   ``rho(S) = sqrt(3) a``: ``alpha^2 + 16 a^2 lam^2 / (3 b^2) > 1`` (DPO-4). This is the IPO
   threshold with ``beta = 4/beta_dpo``.

>>> sig(0), sig(-sympy.Symbol("z")) + sig(sympy.Symbol("z"))
(1/2, 1)
>>> cycle_threshold_expr()
16*a**2*lam**2/(3*beta_dpo**2) + alpha**2
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy

from . import matrix_algebra as ma
from .latex import Equation, Section
from .matrices import balanced_skew, cycle_skew, tangent_basis
from .ipo import symbolic_preference_matrix

__all__ = [
    "sig",
    "sigmoid_obligations",
    "DPOSymbols",
    "dpo_symbols",
    "population_loss",
    "gradient",
    "stationarity",
    "stated_gradient",
    "hessian",
    "stated_hessian",
    "hessian_sos",
    "weight_matrix",
    "pair_obligations",
    "obligations",
    "bt_residual",
    "ift_A",
    "ift_B",
    "stated_A",
    "stated_B",
    "ift_obligations",
    "ift_solve",
    "mrs_dpo_jacobian_obligation",
    "balanced_skew",
    "cycle_skew",
    "uniform_linearisation",
    "balanced_obligations",
    "tangent_basis",
    "balanced_normal_form",
    "general_balanced_obligations",
    "cycle_eigenvalues",
    "cycle_threshold_expr",
    "balanced_threshold_expr",
    "ipo_balanced_threshold_expr",
    "critical_lam_over_beta_dpo",
    "pair_symbols",
    "general_dpo1_obligations",
    "general_bt_obligations",
    "general_non_bt_obligations",
    "latex_sections",
    "latex_section",
]


class sig(sympy.Function):
    r"""The logistic sigmoid ``1/(1 + exp(-z))``, kept as an atom.

    Canonical form: an argument that can extract a minus sign is rewritten with
    ``sig(-z) = 1 - sig(z)``, and ``sig(0) = 1/2``; the derivative is ``sig (1 - sig)``.
    """

    @classmethod
    def eval(cls, z):
        if z.is_zero:
            return sympy.Rational(1, 2)
        if z.could_extract_minus_sign():
            return 1 - cls(-z)
        return None

    def fdiff(self, argindex=1):
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, z, **kwargs):
        return 1 / (1 + sympy.exp(-z))

    def _latex(self, printer, exp=None):
        s = r"\sigma\left(%s\right)" % printer._print(self.args[0])
        return s if exp is None else r"%s^{%s}" % (s, exp)


def sigmoid_obligations() -> list[tuple[str, sympy.Expr]]:
    """The two properties :class:`sig` relies on, against the explicit ``1/(1+exp(-z))``.

    Each expression must simplify to 0.
    """
    z = sympy.Symbol("z", real=True)
    e = 1 / (1 + sympy.exp(-z))
    e_neg = 1 / (1 + sympy.exp(z))
    return [
        ("sig'(z) = sig(z)(1 - sig(z))", sympy.simplify(sympy.diff(e, z) - e * (1 - e))),
        ("sig(-z) = 1 - sig(z)", sympy.simplify(e_neg - (1 - e))),
        ("sig(0) = 1/2", e.subs(z, 0) - sympy.Rational(1, 2)),
    ]


@dataclass(frozen=True)
class DPOSymbols:
    """Fully symbolic data for explicit ``K``: ``P`` (free upper triangle), ``mu``, ``r``, ``beta_dpo``.

    ``mu`` is not normalised (the DPO stationarity equations are homogeneous in ``mu``).
    """

    K: int
    P: sympy.Matrix
    upper: tuple[sympy.Symbol, ...]
    mu: tuple[sympy.Symbol, ...]
    r: tuple[sympy.Symbol, ...]
    beta: sympy.Symbol

    @property
    def S(self) -> sympy.Matrix:
        return self.P - sympy.Rational(1, 2) * sympy.ones(self.K, self.K)


@lru_cache(maxsize=None)
def dpo_symbols(K: int) -> DPOSymbols:
    """Symbols for explicit ``K >= 2``."""
    P, upper = symbolic_preference_matrix(K)
    mu = tuple(sympy.Symbol(f"mu_{k}", positive=True) for k in range(K))
    r = tuple(sympy.Symbol(f"r_{k}", real=True) for k in range(K))
    return DPOSymbols(K, P, upper, mu, r, sympy.Symbol("beta_dpo", positive=True))


def population_loss(sy: DPOSymbols) -> sympy.Expr:
    """``L_DPO(r; mu)`` written out over ordered pairs (docs/claims.md §0)."""
    b = sy.beta
    L = 0
    for i in range(sy.K):
        for j in range(sy.K):
            h = sy.r[i] - sy.r[j]
            L += -sy.mu[i] * sy.mu[j] * (sy.P[i, j] * sympy.log(sig(b * h)) + sy.P[j, i] * sympy.log(sig(-b * h)))
    return L


def gradient(sy: DPOSymbols) -> sympy.Matrix:
    """``dL/dr`` by differentiation of :func:`population_loss`."""
    L = population_loss(sy)
    return sympy.Matrix([sympy.diff(L, rk) for rk in sy.r])


def stationarity(sy: DPOSymbols, x: tuple | None = None, mu: tuple | None = None, P: sympy.Matrix | None = None) -> sympy.Matrix:
    """``G = (P - Sigma) mu``, ``G_k = sum_j mu_j (P_kj - sig(x_k - x_j))`` with ``x = b r`` by default."""
    P = sy.P if P is None else P
    mu = sy.mu if mu is None else mu
    x = tuple(sy.beta * rk for rk in sy.r) if x is None else x
    K = len(mu)
    return sympy.Matrix([sum(mu[j] * (P[k, j] - sig(sympy.expand(x[k] - x[j]))) for j in range(K)) for k in range(K)])


def stated_gradient(sy: DPOSymbols, factor: sympy.Expr = 2) -> sympy.Matrix:
    """``-factor * b * mu_k * G_k`` (the stated gradient has ``factor = 2``)."""
    G = stationarity(sy)
    return sympy.Matrix([-factor * sy.beta * sy.mu[k] * G[k] for k in range(sy.K)])


def weight_matrix(sy: DPOSymbols, x: tuple | None = None, mu: tuple | None = None) -> sympy.Matrix:
    """``W_ij = mu_i mu_j sig_ij (1 - sig_ij)`` (zero diagonal), ``sig_ij = sig(x_i - x_j)``."""
    mu = sy.mu if mu is None else mu
    x = tuple(sy.beta * rk for rk in sy.r) if x is None else x
    K = len(mu)
    W = sympy.zeros(K, K)
    for i in range(K):
        for j in range(K):
            if i != j:
                s = sig(sympy.expand(x[i] - x[j]))
                W[i, j] = mu[i] * mu[j] * s * (1 - s)
    return W


def hessian(sy: DPOSymbols) -> sympy.Matrix:
    """``d^2 L / dr^2`` by differentiation."""
    g = gradient(sy)
    return sympy.Matrix(sy.K, sy.K, lambda k, l: sympy.diff(g[k], sy.r[l]))


def stated_hessian(sy: DPOSymbols, factor: sympy.Expr = 2) -> sympy.Matrix:
    """``factor * b^2 * Lap(W)`` with ``Lap(W) = diag(W 1) - W``."""
    W = weight_matrix(sy)
    Lap = sympy.diag(*[sum(W[i, j] for j in range(sy.K)) for i in range(sy.K)]) - W
    return factor * sy.beta**2 * Lap


def hessian_sos(sy: DPOSymbols, v: tuple) -> sympy.Expr:
    """``v^T H v - 2 b^2 sum_{i<j} W_ij (v_i - v_j)^2`` (must expand to 0)."""
    H = stated_hessian(sy)
    W = weight_matrix(sy)
    vv = sympy.Matrix(v)
    sos = 2 * sy.beta**2 * sum(W[i, j] * (v[i] - v[j]) ** 2 for i in range(sy.K) for j in range(i + 1, sy.K))
    return (vv.T * H * vv)[0, 0] - sos


def pair_obligations(*, factor: sympy.Expr = 1) -> list[tuple[str, sympy.Expr]]:
    """The two scalar identities behind the general-``K`` gradient (each must expand to 0).

    With ``l(h; p) = -(p log sig(b h) + (1 - p) log sig(-b h))`` (one ordered pair):
    ``l'(h; p) = -b (p - sig(b h))`` and ``l(-h; 1 - p) = l(h; p)``. Since
    ``L = sum_{i != j} mu_i mu_j l(r_i - r_j; P_ij)``, the chain rule gives
    ``dL/dr_k = sum_j mu_k mu_j l'(h_kj; P_kj) - sum_i mu_i mu_k l'(h_ik; P_ik)`` and the
    second identity turns the second sum into the first: ``dL/dr_k = -2 b mu_k G_k`` for every ``K``.
    ``factor`` plants a wrong constant.
    """
    h = sympy.Symbol("h", real=True)
    p = sympy.Symbol("p", positive=True)
    b = sympy.Symbol("beta_dpo", positive=True)

    def ell(hh, pp):
        return -(pp * sympy.log(sig(b * hh)) + (1 - pp) * sympy.log(sig(-b * hh)))

    return [
        ("l'(h; p) = -b (p - sig(b h))", sympy.expand(sympy.diff(ell(h, p), h) + factor * b * (p - sig(b * h)))),
        ("l(-h; 1 - p) = l(h; p)", sympy.expand(ell(-h, 1 - p) - ell(h, p))),
    ]


def obligations(K: int, *, grad_factor: sympy.Expr = 2, hess_factor: sympy.Expr = 2) -> list[tuple[str, sympy.Expr]]:
    """DPO-1 obligations for explicit ``K``: each expression must ``expand`` to 0.

    ``grad_factor`` / ``hess_factor`` plant wrong constants for negative controls.
    """
    sy = dpo_symbols(K)
    g = gradient(sy)
    out = []
    gs = stated_gradient(sy, grad_factor)
    out += [(f"dL/dr_{k} = -2 b mu_{k} G_{k}", sympy.expand(g[k] - gs[k])) for k in range(K)]
    G = stationarity(sy)
    out.append(("mu^T G = 0", sympy.expand(sum(sy.mu[k] * G[k] for k in range(K)))))
    H = hessian(sy)
    Hs = stated_hessian(sy, hess_factor)
    out += [(f"H[{k},{l}] = 2 b^2 Lap(W)[{k},{l}]", sympy.expand(H[k, l] - Hs[k, l])) for k in range(K) for l in range(k, K)]
    v = tuple(sympy.Symbol(f"v_{k}", real=True) for k in range(K))
    out.append(("v^T H v = 2 b^2 sum_{i<j} W_ij (v_i - v_j)^2", sympy.expand(hessian_sos(sy, v))))
    out.append(("H 1 = 0", sympy.expand(sum(Hs[0, l] for l in range(K)))))
    return out


def bt_residual(K: int, scale: sympy.Expr = 1) -> list[sympy.Expr]:
    """DPO-2 (<=): with ``P_ij = sig(u_i - u_j)`` and ``r = scale * u/b + c``, ``G_k`` for free ``mu``.

    The stated claim is ``scale = 1``; every entry must expand to 0. A different
    ``scale`` is a planted wrong optimum (negative control).
    """
    sy = dpo_symbols(K)
    u = tuple(sympy.Symbol(f"u_{k}", real=True) for k in range(K))
    c = sympy.Symbol("c", real=True)
    P = sympy.Matrix(K, K, lambda i, j: sig(u[i] - u[j]))
    r = tuple(scale * u[k] / sy.beta + c for k in range(K))
    x = tuple(sympy.expand(sy.beta * rk) for rk in r)
    G = stationarity(sy, x=x, P=P)
    return [sympy.expand(G[k]) for k in range(K)]


def _xsyms(K: int) -> tuple[sympy.Symbol, ...]:
    return tuple(sympy.Symbol(f"x_{k}", real=True) for k in range(K))


def ift_A(K: int) -> sympy.Matrix:
    """``A = dG/dx`` by differentiation (``x = b r``, free ``mu``)."""
    sy = dpo_symbols(K)
    x = _xsyms(K)
    G = stationarity(sy, x=x)
    return G.jacobian(sympy.Matrix(x))


def ift_B(K: int) -> sympy.Matrix:
    """``B = dG/dmu`` by differentiation."""
    sy = dpo_symbols(K)
    x = _xsyms(K)
    G = stationarity(sy, x=x)
    return G.jacobian(sympy.Matrix(sy.mu))


def stated_A(K: int, factor: sympy.Expr = 1) -> sympy.Matrix:
    """``A_kl = -delta_kl sum_j mu_j sig'_kj + factor * mu_l sig'_kl``."""
    sy = dpo_symbols(K)
    x = _xsyms(K)
    mu = sy.mu

    def sp(k, l):
        s = sig(sympy.expand(x[k] - x[l]))
        return s * (1 - s)

    return sympy.Matrix(
        K, K, lambda k, l: (-sum(mu[j] * sp(k, j) for j in range(K) if j != k) if k == l else factor * mu[l] * sp(k, l))
    )


def stated_B(K: int) -> sympy.Matrix:
    """``B_kl = P_kl - sig(x_k - x_l)``."""
    sy = dpo_symbols(K)
    x = _xsyms(K)
    return sympy.Matrix(K, K, lambda k, l: sy.P[k, l] - sig(sympy.expand(x[k] - x[l])))


def ift_obligations(K: int, *, a_factor: sympy.Expr = 1) -> list[tuple[str, sympy.Expr]]:
    """DPO-2/3 obligations: ``A``, ``B`` as stated, ``mu^T A = 0``, ``mu^T B + G^T = 0``."""
    sy = dpo_symbols(K)
    x = _xsyms(K)
    A, B = ift_A(K), ift_B(K)
    As, Bs = stated_A(K, a_factor), stated_B(K)
    G = stationarity(sy, x=x)
    mu = sympy.Matrix(sy.mu)
    out = [(f"A[{k},{l}]", sympy.expand(A[k, l] - As[k, l])) for k in range(K) for l in range(K)]
    out += [(f"B[{k},{l}]", sympy.expand(B[k, l] - Bs[k, l])) for k in range(K) for l in range(K)]
    muA = mu.T * As
    muB = mu.T * Bs
    out += [(f"(mu^T A)[{l}]", sympy.expand(muA[0, l])) for l in range(K)]
    out += [(f"(mu^T B)[{l}] + G[{l}]", sympy.expand(muB[0, l] + G[l])) for l in range(K)]
    return out


def ift_solve(A: sympy.Matrix, B: sympy.Matrix) -> sympy.Matrix:
    """``X`` with ``A X + B = 0`` and ``1^T X = 0``: top block of ``-[[A, 1], [1^T, 0]]^{-1} [B; 0]``."""
    K = A.rows
    M = sympy.zeros(K + 1, K + 1)
    M[:K, :K] = A
    M[:K, K] = sympy.ones(K, 1)
    M[K, :K] = sympy.ones(1, K)
    rhs = sympy.zeros(K + 1, B.cols)
    rhs[:K, :] = -B
    sol = M.LUsolve(rhs)
    return sol[:K, :]


def mrs_dpo_jacobian_obligation(K: int, *, lam_factor: sympy.Expr = 1) -> list[tuple[str, sympy.Expr]]:
    """DPO-3 chain rule for explicit ``K``, with ``x*`` an undefined function of ``mu``.

    ``F(pi) = softmax(alpha log pi + (1-alpha) log pi_ref + x*(lam pi + (1-lam) pi_0)/b)``
    is differentiated by sympy and compared with the stated
    ``(diag(pi') - pi' pi'^T)(alpha diag(pi)^{-1} + (lam/b) X)``, ``X_kl = dx*_k/dmu_l``.
    ``lam_factor`` plants a wrong constant (negative control).
    """
    pi = tuple(sympy.Symbol(f"pi_{k}", positive=True) for k in range(K))
    ref = tuple(sympy.Symbol(f"piref_{k}", positive=True) for k in range(K))
    pi0 = tuple(sympy.Symbol(f"pizero_{k}", positive=True) for k in range(K))
    alpha, lam = sympy.symbols("alpha lam", positive=True)
    b = sympy.Symbol("beta_dpo", positive=True)
    m = tuple(sympy.Symbol(f"m_{k}", positive=True) for k in range(K))
    xs = [sympy.Function(f"xstar_{k}")(*m) for k in range(K)]
    mu_of_pi = {m[k]: lam * pi[k] + (1 - lam) * pi0[k] for k in range(K)}
    z = [alpha * sympy.log(pi[k]) + (1 - alpha) * sympy.log(ref[k]) + xs[k].subs(mu_of_pi) / b for k in range(K)]
    ez = [sympy.exp(zk) for zk in z]
    Z = sum(ez)
    F = [e / Z for e in ez]
    DF = sympy.Matrix(K, K, lambda k, l: sympy.diff(F[k], pi[l]))
    # stated form, with X evaluated at mu(pi)
    X = sympy.Matrix(K, K, lambda k, l: sympy.diff(xs[k], m[l]).subs(mu_of_pi))
    Fp = sympy.Matrix(F)
    Dsm = sympy.diag(*F) - Fp * Fp.T
    stated = Dsm * (alpha * sympy.diag(*[1 / p for p in pi]) + lam_factor * lam / b * X)
    return [(f"DF[{k},{l}]", _rational_zero(DF[k, l] - stated[k, l])) for k in range(K) for l in range(K)]


def _rational_zero(e: sympy.Expr) -> sympy.Expr:
    """Normal form of an expression rational in exponentials (0 iff it is identically 0)."""
    return sympy.expand(sympy.together(sympy.powsimp(sympy.expand(e))))


def _params():
    return sympy.symbols("alpha lam", positive=True) + (sympy.Symbol("beta_dpo", positive=True),)


def uniform_linearisation(S: sympy.Matrix, *, sigprime_factor: sympy.Expr = 1) -> dict:
    """Linearise MRS-DPO at the uniform fixed point for a balanced ``S`` (``pi_0 = pi_ref`` uniform).

    Builds ``A``, ``B`` (the stated forms of step 5, separately proved) at ``x = 0``, ``mu = 1/K``
    (``P = S + 1/2``), solves the IFT system exactly, and forms the ambient Jacobian ``DF`` and the
    Jacobian in centred logits ``J = C (K DF) C / K`` (at uniform ``d log pi = K d pi`` on the tangent
    space). ``sigprime_factor`` scales ``sig'(0)`` (a planted wrong constant for controls).

    Returns a dict with ``A``, ``B``, ``X``, ``DF`` (ambient), ``J`` (centred logits),
    ``J_tangent`` (in :func:`tangent_basis`), and the parameters.
    """
    K = S.rows
    alpha, lam, b = _params()
    half = sympy.Rational(1, 2)
    P = S + half * sympy.ones(K, K)
    u = sympy.Rational(1, K)
    # A and B at x = 0, mu = u, from the stated (and separately proved) forms
    sp0 = sig(0) * (1 - sig(0)) * sigprime_factor
    A = sympy.Matrix(K, K, lambda k, l: (-sum(u * sp0 for j in range(K) if j != k) if k == l else u * sp0))
    B = sympy.Matrix(K, K, lambda k, l: P[k, l] - sig(0))
    X = ift_solve(A, B)
    pip = sympy.Matrix([u] * K)
    Dsm = sympy.diag(*([u] * K)) - pip * pip.T
    DF = Dsm * (alpha * K * sympy.eye(K) + lam / b * X)
    C = sympy.eye(K) - sympy.ones(K, K) / K
    # centred logits: ell = C log pi, d log pi = K dpi on the tangent at uniform
    J = sympy.simplify(C * (K * DF) * C / K)
    V = tangent_basis(K)
    Jt = sympy.simplify((V.T * V).inv() * V.T * DF * V)
    return {"A": A, "B": B, "X": X, "DF": DF, "J": J, "J_tangent": Jt, "C": C, "alpha": alpha, "lam": lam, "beta_dpo": b}


def balanced_obligations(K: int, *, sigprime_factor: sympy.Expr = 1, coefficient: sympy.Expr = 4) -> list[tuple[str, sympy.Expr]]:
    """DPO-6 obligations for a generic balanced ``S`` of size ``K``; each must simplify to 0 (matrices: zero matrices).

    1. ``x = 0`` solves stationarity at ``mu = 1/K`` (``G = S 1 / K``... exactly 0);
    2. ``X = coefficient * S`` (the IFT solution, ``coefficient = 4``);
    3. ``J = alpha C + (coefficient lam /(b K)) S`` in centred logits;
    4. ``J^T J = alpha^2 C - (coefficient lam/(b K))^2 S^2`` and ``J J^T = J^T J`` (normal);
    5. the IPO Jacobian at the same point with ``beta = 4/beta_dpo`` equals ``J``.
    """
    S, _ = balanced_skew(K)
    lin = uniform_linearisation(S, sigprime_factor=sigprime_factor)
    alpha, lam, b = lin["alpha"], lin["lam"], lin["beta_dpo"]
    C = lin["C"]
    half = sympy.Rational(1, 2)
    P = S + half * sympy.ones(K, K)
    u = [sympy.Rational(1, K)] * K
    G0 = sympy.Matrix([sum(u[j] * (P[k, j] - sig(0)) for j in range(K)) for k in range(K)])
    c = coefficient * lam / (b * K)
    Jst = alpha * C + c * S
    J = lin["J"]
    # IPO at the uniform point: DF_IPO = (diag(u) - u u^T)(alpha K I + beta lam P), J_IPO = C (K DF) C / K
    beta = 4 / b
    pip = sympy.Matrix(u)
    DF_ipo = (sympy.diag(*u) - pip * pip.T) * (alpha * K * sympy.eye(K) + beta * lam * P)
    J_ipo = C * (K * DF_ipo) * C / K
    return [
        ("G(0, 1/K) = 0", G0.applyfunc(sympy.expand)),
        ("X = 4 S", (lin["X"] - coefficient * S).applyfunc(sympy.simplify)),
        ("J = alpha C + (4 lam/(b K)) S", (J - Jst).applyfunc(sympy.simplify)),
        ("J^T J = alpha^2 C - (4 lam/(b K))^2 S^2", (J.T * J - (alpha**2 * C - c**2 * S * S)).applyfunc(sympy.expand)),
        ("J J^T = J^T J", (J * J.T - J.T * J).applyfunc(sympy.expand)),
        ("J_DPO(beta_dpo) = J_IPO(beta = 4/beta_dpo)", (J - J_ipo).applyfunc(sympy.simplify)),
    ]


def balanced_normal_form(e: "ma.NC", K: sympy.Expr) -> dict:
    """Normal form in the free matrix algebra under the extra axioms of a balanced ``S`` of size ``K``.

    Axioms (sound for every ``K``): ``S one = 0`` (balanced), ``one^T S = 0`` (its transpose, as
    ``S^T = -S``), ``one^T one = K``. Words containing ``S.one`` or ``onet.S`` are dropped and
    ``onet.one`` becomes the scalar ``K``; then :func:`theory.matrix_algebra.normal_form` finishes.
    ``{}`` means the element is 0 for every ``K``.
    """
    changed = True
    while changed:
        changed = False
        out = ma.NC()
        for w, c in e.terms.items():
            drop, rep = False, None
            for k in range(len(w) - 1):
                pair = w[k : k + 2]
                if pair in (("S", "one"), ("onet", "S")):
                    drop = True
                    break
                if pair == ("onet", "one"):
                    rep = (w[:k] + w[k + 2 :], K)
                    break
            if drop:
                changed = True
                continue
            if rep is not None:
                out = out + ma.NC({rep[0]: c * rep[1]})
                changed = True
            else:
                out = out + ma.NC({w: c})
        e = out
    return ma.normal_form(e)


def general_balanced_obligations(*, coefficient: sympy.Expr = 4, sigprime_factor: sympy.Expr = 1, a_factor: sympy.Expr = 1) -> list[tuple[str, "ma.NC"]]:
    """DPO-6 for every ``K`` (free matrix algebra, balanced axioms); each element must normalise to 0.

    ``C = I - one one^T / K``; at ``(x, mu) = (0, 1/K)``: ``A = -(1/4) C`` and ``B = S`` are TAKEN FROM
    :func:`uniform_ift_step` (whose obligations prove them from DPO-3's every-K entries); ``sigprime_factor`` /
    ``a_factor`` plant a wrong ``sig'(0)`` / off-diagonal there.
    """
    K = sympy.Symbol("K", positive=True, integer=True)
    alpha, lam, b = _params()
    I = ma.NC({(): 1})
    S, one, onet = ma.S, ma.one, ma.onet
    C = I - one * onet * (1 / K)
    A, B, _ = uniform_ift_step(sigprime_factor=sigprime_factor, a_factor=a_factor)
    X = S * coefficient
    c = 4 * lam / (b * K)
    DF = C * (1 / K) * (I * (alpha * K) + X * (lam / b))  # (diag(u) - u u^T)(alpha diag(u)^-1 + (lam/b) X)
    J = C * alpha + S * c
    return [
        ("G(0, 1/K) = S one / K = 0 (x = 0 solves DPO-1)", S * one * (1 / K)),
        ("A X + B = 0 with X = coefficient * S", A * X + B),
        ("1^T X = 0", onet * X),
        ("DF = alpha C + (4 lam/(b K)) S", DF - J),
        ("1^T J = 0 (J maps the tangent space into itself)", onet * J),
        ("J^T J = alpha^2 C - c^2 S^2", J.T * J - (C * alpha**2 - S * S * c**2)),
        ("J J^T = J^T J (normal)", J * J.T - J.T * J),
    ]


def pair_symbols() -> dict:
    """Symbols for the ``(i, j)`` summand of an indexed double sum over ``[K] x [K]`` (every ``K``).

    ``r_i, r_j, v_i, v_j, mu_i, mu_j, u_i, u_j`` and ``p`` (``= P_ij``); ``swap`` exchanges
    ``i`` and ``j`` (``P_ji = 1 - P_ij``), as :func:`theory.matrix_algebra.pair_sum_residual` needs.
    """
    r_i, r_j, v_i, v_j, u_i, u_j = sympy.symbols("r_i r_j v_i v_j u_i u_j", real=True)
    mu_i, mu_j = sympy.symbols("mu_i mu_j", positive=True)
    p = sympy.Symbol("p", positive=True)
    b = sympy.Symbol("beta_dpo", positive=True)
    c = sympy.Symbol("c", real=True)
    t = sympy.Symbol("t", real=True)
    swap = {r_i: r_j, r_j: r_i, v_i: v_j, v_j: v_i, mu_i: mu_j, mu_j: mu_i, u_i: u_j, u_j: u_i, p: 1 - p}
    return dict(r_i=r_i, r_j=r_j, v_i=v_i, v_j=v_j, u_i=u_i, u_j=u_j, mu_i=mu_i, mu_j=mu_j, p=p, b=b, c=c, t=t, swap=swap)


def _pair_loss(h, p, b):
    return -(p * sympy.log(sig(sympy.expand(b * h))) + (1 - p) * sympy.log(sig(sympy.expand(-b * h))))


def general_dpo1_obligations(*, grad_factor: sympy.Expr = 2, hess_factor: sympy.Expr = 1) -> list[tuple[str, str, sympy.Expr]]:
    r"""DPO-1 for every ``K``: gradient and Hessian quadratic form as indexed double sums.

    ``L(r + t v) = sum_{i,j} F_ij(t)`` with ``F_ij(t) = mu_i mu_j l(r_i - r_j + t (v_i - v_j); P_ij)``.
    Returns ``(name, kind, residual)``; every residual must be 0:

    * ``pair-sum``: ``dL[v] = -2 b sum_i v_i mu_i G_i`` -- the summand
      ``F_ij'(0) + 2 b v_i mu_i mu_j (P_ij - sig(b h_ij))`` vanishes after relabelling ``i <-> j``;
    * ``pointwise``: ``d^2 L[v, v] = b^2 sum_{i,j} w_ij (v_i - v_j)^2`` with
      ``w_ij = mu_i mu_j sig(b h_ij)(1 - sig(b h_ij))`` -- the summands agree term by term;
    * ``positive``: ``w_ij > 0`` for interior ``mu`` (sympy decides the sign of
      ``mu_i mu_j e^{-z}/(1 + e^{-z})^2`` for real ``z``); the residual is 0 when it is positive.

    ``grad_factor`` (2) and ``hess_factor`` (1, the factor of ``b^2``) plant wrong constants.
    """
    from .matrix_algebra import pair_sum_residual

    y = pair_symbols()
    r_i, r_j, v_i, v_j, mu_i, mu_j, p, b, t = (y[k] for k in ("r_i", "r_j", "v_i", "v_j", "mu_i", "mu_j", "p", "b", "t"))
    h = r_i - r_j
    F = mu_i * mu_j * _pair_loss(h + t * (v_i - v_j), p, b)
    d1 = sympy.diff(F, t).subs(t, 0)
    d2 = sympy.diff(F, t, 2).subs(t, 0)
    s = sig(sympy.expand(b * h))
    g_summand = -grad_factor * b * v_i * mu_i * mu_j * (p - s)
    w = mu_i * mu_j * s * (1 - s)
    z = sympy.Symbol("z", real=True)
    w_exp = (mu_i * mu_j * sig(z) * (1 - sig(z))).rewrite(sympy.exp)
    return [
        ("dL[v] = -2 b sum_i v_i mu_i G_i", "pair-sum", pair_sum_residual(sympy.expand(d1 - g_summand), y["swap"])),
        (
            "d^2L[v,v] = b^2 sum_ij w_ij (v_i - v_j)^2",
            "pointwise",
            sympy.expand(d2 - hess_factor * b**2 * w * (v_i - v_j) ** 2),
        ),
        ("w_ij = mu_i mu_j sig (1 - sig) > 0", "positive", sympy.Integer(0) if sympy.simplify(w_exp).is_positive else w_exp),
    ]


def general_bt_obligations(*, scale: sympy.Expr = 1) -> list[tuple[str, str, sympy.Expr]]:
    r"""DPO-2 (<=) for every ``K`` and every ``mu``: the summand of ``G_i`` vanishes identically.

    With ``P_ij = sig(u_i - u_j)`` and ``r = scale * u / b + c``: ``x_i - x_j = b (r_i - r_j) =
    scale (u_i - u_j)``, so ``mu_j (P_ij - sig(x_i - x_j)) = 0`` for every pair, hence
    ``G_i = sum_j mu_j (...) = 0`` for every ``K`` and every ``mu``. ``scale = 1`` is the claim.
    """
    y = pair_symbols()
    u_i, u_j, mu_j, b, c = y["u_i"], y["u_j"], y["mu_j"], y["b"], y["c"]
    r_i, r_j = scale * u_i / b + c, scale * u_j / b + c
    summand = mu_j * (sig(sympy.expand(u_i - u_j)) - sig(sympy.expand(b * (r_i - r_j))))
    return [("mu_j (P_ij - sig(b (r_i - r_j))) = 0 with P_ij = sig(u_i - u_j), r = u/b + c", "pointwise", sympy.expand(summand))]


def general_non_bt_obligations(*, eps: sympy.Expr = sympy.Rational(1, 2), inverse_factor: sympy.Expr = 1) -> list[tuple[str, str, object]]:
    r"""DPO-2 (=>) for every ``K`` in the free matrix algebra (axiom ``one^T one = K``).

    ``D = P - Sigma(x)`` is a free ``K x K`` matrix (``G(x, mu) = D mu``). The samplers
    ``m_j = M e_j`` with ``M = (1 - eps) I + (eps/K) 1 1^T`` are interior (entries ``1 - eps + eps/K``
    and ``eps/K``, both > 0 for ``0 < eps < 1``) and sum to 1 (``1^T M = 1^T``); ``M`` is invertible
    with ``M^{-1} = (I - (eps/K) 1 1^T)/(1 - eps)``. So if one ``x`` were stationary for every ``m_j``,
    ``D M = 0`` and ``D = D M M^{-1} = 0``: ``P_ij = sig(x_i - x_j)``, i.e. ``P`` is BT.
    Returns ``(name, kind, element)``: ``kind`` "algebra" (must normalise to 0 with ``one^T one = K``)
    or "positive" (a sympy expression that must be positive). ``inverse_factor`` plants a wrong inverse.
    """
    from . import matrix_algebra as ma

    K = sympy.Symbol("K", positive=True, integer=True)
    I = ma.NC({(): 1})
    one, onet = ma.one, ma.onet
    Dm, _ = ma.mat("Dres")
    M = I * (1 - eps) + one * onet * (eps / K)
    Minv = (I - one * onet * (inverse_factor * eps / K)) * (1 / (1 - eps))
    return [
        ("M M^-1 = I", "algebra", M * Minv - I),
        ("M^-1 M = I", "algebra", Minv * M - I),
        ("D = (D M) M^-1", "algebra", Dm * M * Minv - Dm),
        ("1^T M = 1^T (each m_j sums to 1)", "algebra", onet * M - onet),
        ("diagonal entry of M: 1 - eps + eps/K > 0", "positive", 1 - eps + eps / K),
        ("off-diagonal entry of M: eps/K > 0", "positive", eps / K),
    ]


@lru_cache(maxsize=None)
def cycle_eigenvalues() -> tuple[sympy.Expr, ...]:
    """Tangent-space eigenvalues of MRS-DPO at uniform for ``P_cyc(a)``, computed exactly."""
    S = cycle_skew()
    lin = uniform_linearisation(S)
    Jt = lin["J_tangent"]
    t = sympy.Symbol("t")
    poly = sympy.factor((Jt - t * sympy.eye(2)).det())
    return tuple(sympy.simplify(e) for e in sympy.solve(poly, t))


def cycle_threshold_expr(coefficient: sympy.Expr = 16) -> sympy.Expr:
    """``|eigenvalue|^2 = alpha^2 + 16 a^2 lam^2 / (3 beta_dpo^2)``; unstable iff ``> 1`` (DPO-4)."""
    alpha, lam, b = _params()
    a = sympy.Symbol("a", positive=True)
    return alpha**2 + coefficient * a**2 * lam**2 / (3 * b**2)


def balanced_threshold_expr(rho: sympy.Expr | None = None, K: sympy.Expr | None = None) -> sympy.Expr:
    """``alpha^2 + (4 lam rho(S) / (beta_dpo K))^2``; unstable iff ``> 1`` (DPO-6)."""
    alpha, lam, b = _params()
    rho = sympy.Symbol("rho", nonnegative=True) if rho is None else rho
    K = sympy.Symbol("K", positive=True, integer=True) if K is None else K
    return alpha**2 + (4 * lam * rho / (b * K)) ** 2


def ipo_balanced_threshold_expr(rho: sympy.Expr | None = None, K: sympy.Expr | None = None) -> sympy.Expr:
    """The MRS-IPO analogue (DYN-6): ``alpha^2 + (beta lam rho(S) / K)^2``."""
    alpha, lam, _ = _params()
    beta = sympy.Symbol("beta", positive=True)
    rho = sympy.Symbol("rho", nonnegative=True) if rho is None else rho
    K = sympy.Symbol("K", positive=True, integer=True) if K is None else K
    return alpha**2 + (beta * lam * rho / K) ** 2


def critical_lam_over_beta_dpo() -> sympy.Expr:
    """For ``P_cyc(a)``: the critical ``lam / beta_dpo = sqrt(3 (1 - alpha^2)) / (4 a)``.

    Above it (larger ``lam / beta_dpo``) the uniform point is unstable.
    """
    alpha = sympy.Symbol("alpha", positive=True)
    a = sympy.Symbol("a", positive=True)
    return sympy.sqrt(3 * (1 - alpha**2)) / (4 * a)


def latex_section(claim_id: str) -> list[Section]:
    """The LaTeX section(s) of one DPO claim (``DPO-1`` .. ``DPO-6``)."""
    secs = latex_sections()
    index = {"DPO-1": [0], "DPO-2": [1], "DPO-3": [2], "DPO-4": [3], "DPO-6": [4]}
    return [secs[i] for i in index.get(claim_id, [])]


@lru_cache(maxsize=None)
def _latex_sections_cached() -> tuple:
    return tuple(_build_latex_sections())


def latex_sections() -> list[Section]:
    """DPO-1 .. DPO-6 derived expressions for ``prefdyn latex``."""
    return list(_latex_sections_cached())


def _pretty(e):
    """Display names for LaTeX: ``lam`` -> ``lambda``."""
    lam = sympy.Symbol("lam", positive=True)
    return e.subs(lam, sympy.Symbol("lambda", positive=True)) if hasattr(e, "subs") else e


def _build_latex_sections() -> list[Section]:
    return [
        Section(s.title, s.statement, [(lab, _abbreviate_sigmoids(_pretty(e))) for lab, e in s.items]) for s in _raw_latex_sections()
    ]


def _abbreviate_sigmoids(e):
    """``sig(x_i - x_j)`` as ``sigma_ij`` (the abbreviation the general forms use), inside an item."""
    if isinstance(e, Equation):
        return Equation(e.lhs, _abbreviate_sigmoids(e.rhs), e.rel)
    if not isinstance(e, (sympy.Basic, sympy.MatrixBase)):
        return e

    def short(z):
        a = z.args[0]
        syms = sorted(a.free_symbols, key=lambda q: q.name)
        if len(syms) == 2 and all(q.name.startswith("x_") for q in syms):
            i, j = syms[0].name[2:], syms[1].name[2:]
            if sympy.expand(a - (syms[0] - syms[1])) == 0:
                return sympy.Symbol(r"\sigma_{" + i + j + "}")
        return z

    return e.replace(lambda z: isinstance(z, sig), short)


def _raw_latex_sections() -> list[Section]:
    sy = dpo_symbols(3)
    alpha, lam, b = _params()
    ev = cycle_eigenvalues()
    return [
        Section(
            "DPO-1: DPO stationarity and convexity",
            r"For interior $\mu$ the population DPO loss is convex in $r=\log(\pi/\pi_{\mathrm{ref}})$, strictly on "
            r"centred $r$; its minimiser solves $(P-\Sigma(r))\mu=0$ and is unique up to $r\mapsto r+t\mathbf 1$.",
            [
                ("Stationarity (general K)", r"\sum_j \mu_j\bigl(P_{ij}-\sigma(\beta_{\mathrm{DPO}}(r_i-r_j))\bigr)=0,\qquad "
                 r"\nabla_r L=-2\beta_{\mathrm{DPO}}\,\mathrm{diag}(\mu)\,(P-\Sigma(r))\mu"),
                ("Hessian (general K)", r"\nabla^2_r L=2\beta_{\mathrm{DPO}}^2\,\bigl(\mathrm{diag}(W\mathbf 1)-W\bigr),\quad "
                 r"W_{ij}=\mu_i\mu_j\sigma_{ij}(1-\sigma_{ij}),\quad v^{\top}\nabla^2L\,v=2\beta_{\mathrm{DPO}}^2\sum_{i<j}W_{ij}(v_i-v_j)^2"),
                ("Scale invariance", r"r^*(\mu)=x^*(\mu)/\beta_{\mathrm{DPO}},\qquad (P-\Sigma(x^*))\mu=0,\ \Sigma_{ij}=\sigma(x_i-x_j)"),
                ("Stationarity residual G(r), K = 3", Equation("G", stationarity(sy))),
            ],
        ),
        Section(
            "DPO-2: Bradley-Terry invariance and the implicit-function theorem",
            r"If $P_{ij}=\sigma(u_i-u_j)$ then $r=u/\beta_{\mathrm{DPO}}+c$ for every $\mu$. In general "
            r"$A\,X+B=0$, $\mathbf 1^{\top}X=0$ with $X=\partial x^*/\partial\mu$; below "
            r"$\sigma_{ij}=\sigma(x_i-x_j)$ and $\sigma_{ji}=1-\sigma_{ij}$.",
            [
                ("A = dG/dx, K = 3", Equation("A", stated_A(3))),
                ("B = dG/dmu, K = 3", Equation("B", stated_B(3))),
            ],
        ),
        Section(
            "DPO-3: the MRS-DPO Jacobian",
            r"$\pi'=F(\pi)=\mathrm{softmax}\bigl(\alpha\log\pi+(1-\alpha)\log\pi_{\mathrm{ref}}+x^*(\lambda\pi+(1-\lambda)\pi_0)/\beta_{\mathrm{DPO}}\bigr)$; "
            r"its ambient Jacobian follows from the chain rule and the implicit function theorem.",
            [
                ("MRS-DPO Jacobian (general K)", r"DF(\pi)=\bigl(\mathrm{diag}(\pi')-\pi'\pi'^{\top}\bigr)\Bigl(\alpha\,\mathrm{diag}(\pi)^{-1}"
                 r"+\frac{\lambda}{\beta_{\mathrm{DPO}}}X(\mu)\Bigr),\quad X=-\begin{pmatrix}A&\mathbf 1\\ \mathbf 1^{\top}&0\end{pmatrix}^{-1}"
                 r"\begin{pmatrix}B\\0\end{pmatrix}\Big|_{\text{top}}"),
            ],
        ),
        Section(
            "DPO-4: MRS-DPO 3-cycle threshold",
            r"For $P_{\mathrm{cyc}}(a)$ with $\pi_0=\pi_{\mathrm{ref}}$ uniform, the uniform fixed point of MRS-DPO is linearly "
            r"unstable iff the expression below exceeds 1 (equivalently $\lambda/\beta_{\mathrm{DPO}}>\sqrt{3(1-\alpha^2)}/(4a)$); "
            r"it is the MRS-IPO threshold $\alpha^2+a^2\beta^2\lambda^2/3$ with $\beta=4/\beta_{\mathrm{DPO}}$.",
            [
                ("Tangent eigenvalues", Equation(r"\nu_{1}", ev[0])),
                ("", Equation(r"\nu_{2}", ev[1])),
                ("Squared modulus", Equation(r"|\nu_{1}|^2 = |\nu_{2}|^2", cycle_threshold_expr())),
                ("Critical lambda/beta_dpo", Equation(r"(\lambda/\beta_{\mathrm{DPO}})_c", critical_lam_over_beta_dpo())),
            ],
        ),
        Section(
            "DPO-6: MRS-DPO threshold for balanced P",
            r"For balanced $P$ ($S\mathbf 1=0$), any $K$, the centred-logit Jacobian at the uniform point is "
            r"$J=\alpha C+\frac{4\lambda}{\beta_{\mathrm{DPO}}K}S$ (normal); the uniform point is linearly unstable iff",
            [
                ("DPO threshold", sympy.StrictGreaterThan(balanced_threshold_expr(), 1)),
                ("IPO threshold (DYN-6), for comparison", sympy.StrictGreaterThan(ipo_balanced_threshold_expr(), 1)),
                ("Correspondence", r"\beta\,\beta_{\mathrm{DPO}}=4"),
            ],
        ),
    ]


# --------------------------------------------------------------------------- every K: IFT matrices, chain rule, uniform point
def indexed_symbols() -> dict:
    r"""Symbols for the every-``K`` indexed proofs of DPO-3 / DPO-6.

    Index hypotheses (stated once, used by :func:`resolve_index_range`): ``K`` is a positive integer,
    the free indices ``k, l`` and the dummy ``j`` are integers with ``0 <= k, l, j`` (sympy assumption
    ``nonnegative``) and ``k, l <= K - 1`` (discharged where sympy's ``Sum(... KroneckerDelta ...)``
    returns a ``Piecewise`` on it). ``x``, ``mu``, ``P``, ``S``, ``X``, ``pi``, ``q`` are ``IndexedBase``.
    """
    K = sympy.Symbol("K", integer=True, positive=True)
    k, l, j, m = sympy.symbols("k l j m", integer=True, nonnegative=True)
    names = ("x", "mu", "P", "S", "X", "pi", "pi_ref", "q")
    out = {n: sympy.IndexedBase(n) for n in names}
    out.update(K=K, k=k, l=l, j=j, m=m, pad=sympy.Symbol("pad", integer=True, nonnegative=True))
    return out


def resolve_index_range(expr: sympy.Expr, indices: tuple) -> sympy.Expr:
    r"""Replace each ``Piecewise((v, cond), ...)`` by ``v`` when ``cond`` follows from ``0 <= i <= K - 1``.

    ``cond`` (or each conjunct of it) may involve ``K`` and ONE index ``i`` of ``indices`` (nonnegative integers);
    it is accepted only if it becomes ``True`` under ``K = i + 1 + pad`` with ``pad`` a nonnegative integer -- exactly the
    hypothesis ``i <= K - 1``. Otherwise :class:`ValueError` (nothing is assumed silently).
    """
    y = indexed_symbols()
    K, pad = y["K"], y["pad"]

    def fix(pw):
        value, cond = pw.args[0]
        for part in sympy.And.make_args(cond):  # a conjunction: each conjunct on its own index
            idx = [i for i in indices if i in part.free_symbols]
            if part.free_symbols - {K} - set(idx) or len(idx) != 1:
                raise ValueError(f"index condition {part} is not of the form i <= K - 1")
            if part.subs(K, idx[0] + 1 + pad) is not sympy.true:
                raise ValueError(f"condition {part} does not follow from 0 <= {idx[0]} <= K - 1")
        return value

    return expr.replace(lambda e: isinstance(e, sympy.Piecewise), fix)


def merge_sums(expr: sympy.Expr) -> sympy.Expr:
    r"""Linearity of ``Sum`` over ``j = 0..K-1``: collect every ``c * Sum(f, (d, 0, K-1))`` (``c`` free of the
    dummy) into ONE sum over ``j`` with the expanded summand; returns ``rest + Sum(summand)`` (0 if both vanish)."""
    y = indexed_symbols()
    K, j = y["K"], y["j"]
    expr = sympy.expand(expr)
    rest, summand = sympy.Integer(0), sympy.Integer(0)
    for t in sympy.Add.make_args(expr):
        sums = [f for f in sympy.Mul.make_args(t) if isinstance(f, sympy.Sum)]
        if not sums:
            rest += t
            continue
        if len(sums) != 1 or len(sums[0].limits) != 1:
            raise ValueError(f"cannot merge {t}")
        s = sums[0]
        (d, lo, hi) = s.limits[0]
        if lo != 0 or sympy.expand(hi - (K - 1)) != 0:
            raise ValueError(f"unexpected limits {s.limits}")
        c = t / s
        if d in c.free_symbols:
            raise ValueError(f"coefficient depends on the dummy: {t}")
        summand += c * s.function.xreplace({d: j})
    summand = sympy.expand(summand)
    rest = sympy.expand(rest)
    return rest + (sympy.Sum(summand, (j, 0, K - 1)) if summand != 0 else 0)


def _sp(a, b):
    """``sig'(a - b) = sig (1 - sig)`` (canonical sigmoid atoms)."""
    s = sig(a - b)
    return s * (1 - s)


def indexed_G():
    """``G_k = sum_{j=0}^{K-1} mu_j (P_kj - sig(x_k - x_j))`` with symbolic ``k`` and ``K`` (DPO-1 in ``x = b r``)."""
    y = indexed_symbols()
    x, mu, P, K, k, j = y["x"], y["mu"], y["P"], y["K"], y["k"], y["j"]
    return sympy.Sum(mu[j] * (P[k, j] - sig(x[k] - x[j])), (j, 0, K - 1))


def stated_A_entry(case: str, *, factor: sympy.Expr = 1, sigprime: sympy.Expr | None = None) -> sympy.Expr:
    r"""``stated_A`` with symbolic indices: ``case = "diagonal"`` (``k = l``): ``-sum_{j != k} mu_j sig'(x_k - x_j)``
    (written ``sum_j mu_j sig'_kj (1 - delta_jk)``); ``case = "off-diagonal"`` (``k != l``): ``factor mu_l sig'(x_k - x_l)``.
    ``factor`` plants a wrong off-diagonal factor."""
    y = indexed_symbols()
    x, mu, K, k, l, j = y["x"], y["mu"], y["K"], y["k"], y["l"], y["j"]
    if case == "diagonal":
        return -sympy.Sum(mu[j] * _sp(x[k], x[j]) * (1 - sympy.KroneckerDelta(j, k)), (j, 0, K - 1))
    return factor * mu[l] * _sp(x[k], x[l])


def stated_B_entry() -> sympy.Expr:
    """``stated_B`` with symbolic indices: ``P_kl - sig(x_k - x_l)``."""
    y = indexed_symbols()
    return y["P"][y["k"], y["l"]] - sig(y["x"][y["k"]] - y["x"][y["l"]])


def _is_zero_indexed(e: sympy.Expr, indices) -> sympy.Expr:
    """``doit`` the Kronecker sums, discharge the index ranges, merge the sums; 0 when the identity holds."""
    return merge_sums(resolve_index_range(sympy.expand(e.doit()), indices))


def general_ift_obligations(*, a_factor: sympy.Expr = 1) -> list[tuple[str, str, sympy.Expr]]:
    r"""DPO-3 (IFT matrices) for EVERY ``K``: symbolic ``K``, symbolic indices ``k, l``; each residual must be 0.

    ``G_k`` is :func:`indexed_G`; sympy differentiates the ``Sum`` with respect to ``x[l]`` and ``mu[l]`` (Kronecker
    deltas), ``Sum.doit`` evaluates the Kronecker sums (a ``Piecewise`` on ``l <= K - 1`` / ``k <= K - 1`` discharged by
    :func:`resolve_index_range` under ``0 <= k, l <= K - 1``), and the two cases of ``stated_A`` are separate exact
    identities: ``k = l`` (substitute ``l -> k``) and ``k != l`` (``KroneckerDelta(k, l) = 0``, the case hypothesis).
    Row identities: ``(mu^T A)_l = sum_{k,j} mu_k mu_j sig'_kj (delta_jl - delta_kl)`` vanishes by relabelling
    ``k <-> j`` (:func:`theory.matrix_algebra.pair_sum_residual`, ``sig'`` even); ``(mu^T B)_l + G_l =
    sum_j mu_j (P_jl + P_lj - 1) = 0`` by the axiom ``P_jl + P_lj = 1``. ``a_factor`` plants a wrong off-diagonal of ``A``.
    """
    y = indexed_symbols()
    x, mu, P, K, k, l, j = (y[n] for n in ("x", "mu", "P", "K", "k", "l", "j"))
    G = indexed_G()
    dA = sympy.diff(G, x[l])
    dB = sympy.diff(G, mu[l])
    kl0 = {sympy.KroneckerDelta(k, l): 0, sympy.KroneckerDelta(l, k): 0}
    out = [
        ("dG_k/dx_k = stated_A[k,k] (k = l)", "indexed", _is_zero_indexed(dA.xreplace({l: k}) - stated_A_entry("diagonal"), (k,))),
        (
            "dG_k/dx_l = stated_A[k,l] (k != l)",
            "indexed",
            _is_zero_indexed(dA.xreplace(kl0).doit().xreplace(kl0) - stated_A_entry("off-diagonal", factor=a_factor), (k, l)),
        ),
        ("dG_k/dmu_l = stated_B[k,l]", "indexed", _is_zero_indexed(dB - stated_B_entry(), (k, l))),
    ]
    # mu^T A = 0: the summand of dG_k/dx_l (a Sum over j), times mu_k, summed over k: antisymmetric in k <-> j
    from .matrix_algebra import pair_sum_residual

    assert isinstance(dA, sympy.Sum)
    summand_A = mu[k] * dA.function
    # a planted factor scales the delta_jl (off-diagonal) part, as in stated_A
    summand_A = summand_A.subs(sympy.KroneckerDelta(j, l), a_factor * sympy.KroneckerDelta(j, l))
    out.append(("(mu^T A)_l = 0", "pair-sum", pair_sum_residual(sympy.expand(summand_A), {k: j, j: k})))
    # mu^T B + G^T = 0
    muB = sympy.Sum((mu[k] * stated_B_entry()).xreplace({k: j}), (j, 0, K - 1))
    G_l = G.xreplace({k: l})
    e = merge_sums(muB + G_l)
    e = e.replace(lambda t: isinstance(t, sympy.Indexed) and t.base == P and t.indices == (j, l), lambda t: 1 - P[l, j])
    out.append(("(mu^T B)_l + G_l = 0 (P_jl + P_lj = 1)", "indexed", merge_sums(e)))
    return out


def _uniform_subs(e: sympy.Expr, Kn: sympy.Expr) -> sympy.Expr:
    """The uniform point: every ``x[i] -> 0``, ``mu[i] -> 1/K``, ``P[i, j] -> S[i, j] + 1/2`` (balanced ``P = S + 11^T/2``)."""
    y = indexed_symbols()
    x, mu, P, S = y["x"], y["mu"], y["P"], y["S"]

    def rep(t):
        if t.base == x:
            return sympy.Integer(0)
        if t.base == mu:
            return 1 / Kn
        if t.base == P:
            return S[t.indices] + sympy.Rational(1, 2)
        return t

    return e.replace(lambda t: isinstance(t, sympy.Indexed), rep)


def uniform_ift_step(*, sigprime_factor: sympy.Expr = 1, a_factor: sympy.Expr = 1) -> tuple:
    r"""DPO-6 step from DPO-3, every ``K``: at ``(x, mu) = (0, 1/K)``, ``P = S + 11^T/2``, the stated entries of
    :func:`general_ift_obligations` become the entries of ``A = -(1/4) C`` and ``B = S`` (``C = I - one one^T/K``).

    Returns ``(A, B, obligations)``: ``A``, ``B`` are free-algebra elements (``A = -(sigprime_factor/4) C``, with
    ``(a_factor - 1) (one one^T - I)/(4K)`` added to plant a wrong off-diagonal), and each obligation is
    ``(name, kind, residual)``: the stated entry of A (both cases) / B at the uniform point minus the entry of the
    algebra element (:func:`theory.matrix_algebra.entry`), ``doit`` (``sig(0) = 1/2``, ``sig'(0) = sig(0)(1 - sig(0))
    = 1/4`` come from the sigmoid atom, ``sum_{j != k} 1/K = (K - 1)/K`` from the Kronecker sum under ``k <= K - 1``),
    then the case hypothesis (``delta_kk = 1`` / ``delta_kl = 0``). Also the bordered inverse at the uniform point:
    ``[[A, 1], [1^T, 0]]^{-1} = [[-4 C, 1/K], [1^T/K, 0]]`` (four block identities), so ``X`` is unique there.
    """
    y = indexed_symbols()
    K, k, l, S = y["K"], y["k"], y["l"], y["S"]
    I = ma.NC({(): 1})
    one, onet = ma.one, ma.onet
    C = I - one * onet * (1 / K)
    A = C * (-sympy.Rational(1, 4) * sympy.sympify(sigprime_factor)) + (one * onet - I) * ((sympy.sympify(a_factor) - 1) / (4 * K))
    B = ma.S
    bases = {"S": S}
    kl0 = {sympy.KroneckerDelta(k, l): 0, sympy.KroneckerDelta(l, k): 0}
    a_diag = _uniform_subs(stated_A_entry("diagonal"), K) - ma.entry(A, k, k, K, bases)
    a_off = _uniform_subs(stated_A_entry("off-diagonal"), K) - ma.entry(A, k, l, K, bases).xreplace(kl0)
    b_ent = _uniform_subs(stated_B_entry(), K) - ma.entry(B, k, l, K, bases)
    j = y["j"]
    g_ent = _uniform_subs(indexed_G().xreplace({}), K) - sympy.Sum(S[k, j], (j, 0, K - 1)) / K
    obls = [
        ("G_k(0, 1/K) = (S one)_k / K", "indexed", _is_zero_indexed(g_ent, (k,))),
        ("A[k,k] at (0, 1/K) = (-(1/4) C)[k,k]", "indexed", _is_zero_indexed(a_diag, (k,))),
        ("A[k,l] at (0, 1/K) = (-(1/4) C)[k,l] (k != l)", "indexed", _is_zero_indexed(a_off, (k, l))),
        ("B[k,l] at (0, 1/K, P = S + 11^T/2) = S[k,l]", "indexed", _is_zero_indexed(b_ent, (k, l))),
    ]
    # bordered system [[A, one], [onet, 0]] with candidate inverse [[-4 C, one/K], [onet/K, 0]]
    M11, M12, M21 = C * -4, one * (1 / K), onet * (1 / K)
    blocks = [
        ("bordered inverse: A (-4 C) + one onet/K = I", A * M11 + one * M21 - I),
        ("bordered inverse: A one/K = 0", A * M12),
        ("bordered inverse: onet (-4 C) = 0", onet * M11),
        ("bordered inverse: onet one/K = 1", onet * M12 - 1),
    ]
    for name, e in blocks:
        nf = ma.dimension_normal_form(e, K)
        obls.append((name, "algebra", sympy.Integer(0) if nf == {} else sympy.Symbol(str(nf))))
    return A, B, obls


def general_chain_rule_obligations(*, lam_factor: sympy.Expr = 1) -> list[tuple[str, str, object]]:
    r"""DPO-3 (chain rule) for EVERY ``K``, with ``X = dx*/dmu`` a free indexed matrix.

    ``F = softmax(z)``, ``z_i = alpha log pi_i + (1 - alpha) log pi_ref_i + x*_i(mu(pi))/b``,
    ``mu_m = lam pi_m + (1 - lam) q_m`` (``q = pi_0``). Residuals (each must be 0):

    * ``dz``: ``dz_i/dpi_j = alpha delta_ij/pi_i + (lam/b) X_ij``; the ``x*`` term by the multivariable chain rule
      ``d x*_i(mu(pi))/dpi_j = sum_m X_im dmu_m/dpi_j`` (the one fact used: ``X`` is the derivative of ``x*``), the sums
      over ``m = 0..K-1`` evaluated by sympy (Kronecker deltas, range ``j <= K - 1`` discharged); cases ``i = j``, ``i != j``;
    * ``softmax``: ``d s_i/dz_j = s_i delta_ij - s_i s_j`` with ``D = sum_m e^{z_m}``, ``dD/dz_j = e^{z_j}`` (cases);
    * ``product`` (free matrix algebra, every ``K``): ``Dsm (alpha Pinv + (1/b) X (lam I))`` equals the stated
      ``Dsm (alpha Pinv + lam_factor (lam/b) X)`` (``Dsm = diag(s) - s s^T``, ``Pinv = diag(pi)^-1`` free matrices):
      ``DF = Dsm Dz`` is the chain rule for ``softmax o z``.

    ``lam_factor`` plants a wrong constant in the stated ``lam/b``.
    """
    y = indexed_symbols()
    K, i, j, m = y["K"], y["k"], y["l"], y["m"]
    X, pi, ref, q = y["X"], y["pi"], y["pi_ref"], y["q"]
    alpha, lam, b = _params()
    mu_m = lam * pi[m] + (1 - lam) * q[m]
    # z_i without the x* term, differentiated directly; the x* term by the chain rule as an indexed sum
    z_rest = alpha * sympy.log(pi[i]) + (1 - alpha) * sympy.log(ref[i])
    chain = sympy.Sum(X[i, m] * sympy.diff(mu_m, pi[j]), (m, 0, K - 1)) / b
    dz = sympy.diff(z_rest, pi[j]) + chain
    target = alpha * sympy.KroneckerDelta(i, j) / pi[i] + lam_factor * lam / b * X[i, j]
    ij0 = {sympy.KroneckerDelta(i, j): 0, sympy.KroneckerDelta(j, i): 0}
    res_same = resolve_index_range(sympy.expand((dz - target).xreplace({j: i}).doit()), (i,))
    res_off = resolve_index_range(sympy.expand((dz - target).xreplace(ij0).doit().xreplace(ij0)), (i, j))
    zi, zj = sympy.symbols("z_i z_j", real=True)
    Df = sympy.Function("D")(zi)
    s_i = sympy.exp(zi) / Df
    d_same = sympy.diff(s_i, zi).subs(sympy.Derivative(Df, zi), sympy.exp(zi))
    Dg = sympy.Function("D")(zj)
    s_i2, s_j2 = sympy.exp(zi) / Dg, sympy.exp(zj) / Dg
    d_off = sympy.diff(s_i2, zj).subs(sympy.Derivative(Dg, zj), sympy.exp(zj))
    Dsm, _ = ma.mat("Dsm")
    Pinv, _ = ma.mat("Pinv")
    Xm, _ = ma.mat("Xift")
    I = ma.NC({(): 1})
    product = Dsm * (Pinv * alpha + Xm * (1 / b) * (I * lam)) - Dsm * (Pinv * alpha + Xm * (lam_factor * lam / b))
    nf = ma.normal_form(product)
    return [
        ("dz_i/dpi_i = alpha/pi_i + (lam/b) X_ii", "indexed", sympy.simplify(res_same)),
        ("dz_i/dpi_j = (lam/b) X_ij (i != j)", "indexed", sympy.simplify(res_off)),
        ("ds_i/dz_i = s_i - s_i^2", "pointwise", sympy.simplify(d_same - (s_i - s_i**2))),
        ("ds_i/dz_j = -s_i s_j (i != j)", "pointwise", sympy.simplify(d_off + s_i2 * s_j2)),
        ("DF = Dsm Dz = (diag(s) - s s^T)(alpha diag(pi)^-1 + (lam/b) X)", "algebra", sympy.Integer(0) if nf == {} else sympy.Symbol(str(nf))),
    ]


def general_ift_solvability_obligations(*, form_factor: sympy.Expr = 1) -> list[tuple[str, str, sympy.Expr]]:
    r"""DPO-3 (IFT solvability) for EVERY ``K``: the bordered matrix ``[[A, 1], [1^T, 0]]`` is nonsingular (interior ``mu``).

    * ``quadratic form`` (pair sum): ``v^T diag(mu) A v = -(1/2) sum_{k,j} mu_k mu_j sig'_kj (v_k - v_j)^2``; the
      ``l``-sum of ``sum_{k,l} v_k mu_k A_kl v_l`` (``A`` from the derivative summand) is evaluated by sympy's Kronecker
      sum (range discharged), the remaining double sum vanishes by relabelling ``k <-> j``;
    * ``positive``: ``mu_k mu_j sig'(z) > 0`` for interior ``mu`` and real ``z``.

    With ``mu^T A = 0`` (:func:`general_ift_obligations`): if ``A v + t 1 = 0`` and ``1^T v = 0`` then
    ``t mu^T 1 = 0`` so ``t = 0``; then ``v^T diag(mu) A v = 0`` forces ``v_k = v_j`` for every pair (positive weights,
    complete graph) and ``1^T v = 0`` gives ``v = 0``. ``form_factor`` plants a wrong constant (``1/2``).
    """
    from .matrix_algebra import pair_sum_residual

    y = indexed_symbols()
    x, mu, K, k, l, j = (y[n] for n in ("x", "mu", "K", "k", "l", "j"))
    v = sympy.IndexedBase("v")
    dA = sympy.diff(indexed_G(), x[l])
    inner = sympy.Sum(dA.function * v[l], (l, 0, K - 1)).doit()  # sum over l of A-summand v_l (Kronecker sums)
    inner = resolve_index_range(sympy.expand(inner), (k, j))
    summand = sympy.expand(v[k] * mu[k] * inner + form_factor * sympy.Rational(1, 2) * mu[k] * mu[j] * _sp(x[k], x[j]) * (v[k] - v[j]) ** 2)
    z = sympy.Symbol("z", real=True)
    mk, mj = sympy.symbols("mu_k mu_j", positive=True)
    w = (mk * mj * sig(z) * (1 - sig(z))).rewrite(sympy.exp)
    return [
        ("v^T diag(mu) A v = -(1/2) sum_kj mu_k mu_j sig'_kj (v_k - v_j)^2", "pair-sum", pair_sum_residual(summand, {k: j, j: k})),
        ("mu_k mu_j sig'(z) > 0 (interior mu)", "positive", sympy.Integer(0) if sympy.simplify(w).is_positive else w),
    ]
