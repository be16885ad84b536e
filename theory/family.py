r"""The family of pairwise preference losses, exactly and generically in ``f`` (LOSS-1, LOSS-2, LOSS-3).

A loss of the GPO family (:mod:`theory.losses`) is ``l(h; p) = p f(b h) + (1 - p) f(-b h)`` with
``h = r_i - r_j``, ``r = log(pi/pi_ref)``, ``f`` convex and a scale ``b > 0``. With ``x = b r`` (docs/claims.md §4b):

* population loss ``L(r; mu) = sum_{i,j} mu_i mu_j l(r_i - r_j; P_ij)``;
* pair stationarity ``g(x; p) = p f'(x) - (1 - p) f'(-x)``, ``g'(x; p) = p f''(x) + (1 - p) f''(-x)``,
  ``g(-x; 1 - p) = -g(x; p)``, ``g'(-x; 1 - p) = g'(x; p)``;
* gradient ``dL/dr_k = 2 b mu_k G_k``, ``G_k(x; mu) = sum_j mu_j g(x_k - x_j; P_kj)``; ``mu^T G = 0``;
* Hessian in ``x``: ``2 Lap(W)``, ``W_kj = mu_k mu_j g'(x_k - x_j; P_kj)``, and
  ``v^T Lap(W) v = sum_{i<j} W_ij (v_i - v_j)^2`` (uniqueness up to a constant when every ``W_ij > 0``);
* implicit-function matrices ``A = dG/dx`` (``A_kl = delta_kl sum_{j != k} mu_j g'_kj - (1 - delta_kl) mu_l g'_kl``)
  and ``B = dG/dmu`` (``B_km = g(x_k - x_m; P_km)``); ``mu^T A = 0``, ``mu^T B = -G^T``;
* the MRS map ``F(pi) = softmax(alpha log pi + (1 - alpha) log pi_ref + x*(mu)/b)``, ``mu = lam pi + (1 - lam) pi0``,
  with ``DF = (diag(pi') - pi' pi'^T)(alpha diag(pi)^{-1} + (lam/b) X)``, ``X = dx*/dmu``;
* the link ``phi(p)`` = the zero of ``g(.; p)`` (LOSS-2) and the stability threshold at the uniform point (LOSS-3).

**Generic in f.** :data:`GENERIC` is a :class:`theory.losses.PairLoss` whose ``f`` is an *undefined* function
:class:`Fn` with derivative atoms :class:`Fn1` (``f'``), :class:`Fn2` (``f''``, declared positive: the strict
convexity hypothesis) and :class:`Fn3`. Sympy knows nothing about them but the chain rule, so an obligation that
reduces to 0 for :data:`GENERIC` holds for every smooth ``f`` (with ``f'' > 0`` where positivity is used). The
built-in losses are instances: every function below takes the loss as its first argument.

**Obligations** are triples ``(name, kind, residual)``; the residual must be exactly 0 (a sympy expression, a
matrix or a list of them; :func:`is_zero`). ``kind`` says what makes a zero residual a proof:

=============  ===========================================================================================
``explicit``   an identity for one explicit ``K`` (symbolic entries of ``P``, ``mu``, ``x``)
``pointwise``  an identity of one summand, hence of every sum of such summands (every ``K``)
``pair-sum``   the summand of a double sum over ``[K] x [K]`` whose ``i <-> j`` symmetrisation is 0
               (:func:`theory.matrix_algebra.pair_sum_residual`; every ``K``)
``indexed``    an identity with symbolic ``K`` and symbolic indices (``sympy.Sum``; every ``K``)
``algebra``    an element of the free matrix algebra (:mod:`theory.matrix_algebra`) that normalises to 0
               under the stated axioms (every ``K``); the residual is 0 or a symbol naming the normal form
``positive``   the residual is 0 when sympy's assumptions decide that the stated quantity is positive
``limit``      an exact limit (``sympy.limit``) minus its stated value
``reduction``  the family result for a built-in loss minus the closed form of :mod:`theory.ipo`,
               :mod:`theory.dpo` or :mod:`theory.mrs_ipo`
=============  ===========================================================================================

Each obligation function has keyword arguments that plant a wrong constant; with them the residual is not 0
(the tests show each one fails). Cited statements (not proved here) are the strings :data:`RECESSION_THEOREM`,
:data:`LAPLACIAN_LEMMA`, :data:`MONOTONE_LEMMA`, :data:`IFT_THEOREM` and :data:`SPECTRAL_THEOREM`;
:data:`ESCAPING_ARGUMENT` spells out the top-level-set step of LOSS-1 existence in words (the claim cites it as the
self-contained order lemma on finite relations, ``verify.claims.losses.ORDER_LEMMA``).

**Shared objects** (one copy in the project): :func:`tangent_basis` (columns ``e_k - e_{K-1}``),
:func:`tangent_left_inverse`, :func:`helmert_basis`, :func:`cyclic_P`, :func:`cycle_skew`, :func:`balanced_skew`.

>>> from theory.losses import BUILTIN
>>> link(BUILTIN["ipo"]), link(BUILTIN["dpo"]), link(BUILTIN["exp"])
(Lambda(p, 2*p - 1), Lambda(p, log(p/(1 - p))), Lambda(p, log(p/(1 - p))/2))
>>> no_link_reason(BUILTIN["slic"])[:45]
'g(x; p) = 1 - 2*p does not depend on x near 0'
>>> cycle_threshold_expr(BUILTIN["dpo"])
16*a**2*lam**2/(3*beta_dpo**2) + alpha**2
>>> critical_b(BUILTIN["ipo"], sympy.Symbol("rho"), 3, sympy.Rational(1, 2), 1)
4*sqrt(3)*rho/9
>>> is_additive([[sympy.Rational(1, 2), sympy.Rational(3, 5)], [sympy.Rational(2, 5), sympy.Rational(1, 2)]])
True
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable, Sequence

import sympy

from . import matrix_algebra as ma
from .ipo import symbolic_preference_matrix
from .latex import Equation, Note, Section
from .matrices import CYCLE_MARGIN as _A_SYM, balanced_skew, cycle_skew, cyclic_P, helmert_basis, tangent_basis, tangent_left_inverse
from . import dpo as T
from . import mrs_ipo as M
from .dpo import balanced_normal_form, ift_solve, merge_sums, resolve_index_range, sig
from .losses import BUILTIN, LossError, PairLoss, X

__all__ = [
    # the abstract f
    "Fn", "Fn1", "Fn2", "Fn3", "GENERIC", "generic_loss", "instantiate", "loss_constants",
    # shared exact objects
    "tangent_basis", "tangent_left_inverse", "helmert_basis", "cyclic_P", "cycle_skew", "balanced_skew",
    # explicit objects, any loss
    "FamilySymbols", "family_symbols", "pair_g", "pair_gprime", "population_loss", "stationarity", "gradient_r",
    "weights", "laplacian", "hessian_x", "ift_matrices", "ift_solve", "affine_optimum", "mrs_map", "mrs_jacobian",
    # obligations
    "is_zero", "failures", "explicit_obligations", "ipo_reduction_obligations", "dpo_reduction_obligations",
    "mrs_jacobian_obligations", "ipo_mrs_reduction_obligations",
    "general_hessian_obligations", "general_ift_obligations",
    # LOSS-1
    "recession_slopes", "pair_recession", "existence_condition", "recession_obligations",
    "escaping_direction_obligations",
    # LOSS-2
    "link", "no_link_reason", "link_domain", "STATED_LINKS", "link_obligations", "named_model",
    "loss2_sufficiency_obligations", "loss2_necessity_obligations",
    "is_additive", "is_bradley_terry", "is_link_model",
    # LOSS-3
    "uniform_ift", "uniform_tangent_jacobian", "stated_uniform_tangent_jacobian", "balanced_obligations",
    "uniform_step_obligations", "general_balanced_obligations", "balanced_threshold_expr", "critical_b",
    "critical_scale", "cycle_threshold_expr", "cycle_norm_obligations", "threshold_reduction_obligations",
    "balanced_reduction_obligations", "loss1_obligations", "loss2_obligations", "loss3_obligations", "indexed_G",
    "D1", "D2", "STATED_RECESSION", "local_loss", "local_loss_obligations",
    # citations and LaTeX
    "RECESSION_THEOREM", "LAPLACIAN_LEMMA", "MONOTONE_LEMMA", "IFT_THEOREM", "SPECTRAL_THEOREM", "ESCAPING_ARGUMENT",
    "latex_sections",
]

HALF = sympy.Rational(1, 2)


# =========================================================================== the abstract f
class Fn(sympy.Function):
    r"""An arbitrary smooth convex ``f`` (undefined function); its derivative is :class:`Fn1`."""

    def fdiff(self, argindex=1):
        return Fn1(self.args[0])

    def _latex(self, printer, exp=None):
        s = r"f\left(%s\right)" % printer._print(self.args[0])
        return s if exp is None else r"\left(%s\right)^{%s}" % (s, exp)


class Fn1(sympy.Function):
    r"""``f'`` of :class:`Fn` (real); its derivative is :class:`Fn2`."""

    def fdiff(self, argindex=1):
        return Fn2(self.args[0])

    def _eval_is_real(self):
        return True

    def _latex(self, printer, exp=None):
        s = r"f'\left(%s\right)" % printer._print(self.args[0])
        return s if exp is None else r"\left(%s\right)^{%s}" % (s, exp)


class Fn2(sympy.Function):
    r"""``f''`` of :class:`Fn`: declared real and positive (the hypothesis ``f'' > 0``); derivative :class:`Fn3`."""

    def fdiff(self, argindex=1):
        return Fn3(self.args[0])

    def _eval_is_real(self):
        return True

    def _eval_is_positive(self):
        return True

    def _latex(self, printer, exp=None):
        s = r"f''\left(%s\right)" % printer._print(self.args[0])
        return s if exp is None else r"\left(%s\right)^{%s}" % (s, exp)


class Fn3(sympy.Function):
    r"""``f'''`` of :class:`Fn` (no property assumed)."""


def generic_loss() -> PairLoss:
    """The loss with an arbitrary smooth strictly convex ``f`` (:class:`Fn`) and ``b`` = its scale.

    >>> generic_loss().g(X, sympy.Symbol("p"))
    p*Fn1(x) - (1 - p)*Fn1(-x)
    >>> generic_loss().gain
    -2*Fn1(0)/Fn2(0)
    """
    dpo = BUILTIN["dpo"]
    return dataclasses.replace(
        dpo,
        name="generic",
        f=Fn(X),
        scale_name="b",
        convention="an arbitrary smooth f with f'' > 0 (an undefined function: results hold for every such f); b = scale",
        smooth=True,
        strictly_convex=True,
        kinks=(),
        title="generic f",
    )


#: The generic loss: ``f`` an undefined smooth function with ``f'' > 0``.
GENERIC: PairLoss = generic_loss()

#: ``f'(0)`` and ``f''(0)`` of the generic loss in the LOSS-3 derivation (``d1 < 0 < d2``).
D1 = sympy.Symbol("d_1", negative=True)
D2 = sympy.Symbol("d_2", positive=True)


def loss_constants(loss: PairLoss) -> tuple[sympy.Expr, sympy.Expr]:
    """``(f'(0), f''(0))``: the symbols ``(d_1, d_2)`` for :data:`GENERIC`, exact values otherwise.

    >>> loss_constants(GENERIC), loss_constants(BUILTIN["dpo"])
    ((d_1, d_2), (-1/2, 1/4))
    """
    if loss.name == "generic":
        return D1, D2
    return loss.fp0, loss.fpp0


def instantiate(expr, atoms) -> object:
    """Replace the abstract atoms ``Fn``, ``Fn1``, ``Fn2`` in ``expr`` by functions.

    ``atoms`` is ``{Fn: Lambda, Fn1: Lambda, Fn2: Lambda}`` or a concrete :class:`PairLoss` (its ``f``, ``f'``, ``f''``).
    Sound: an identity proved for :class:`Fn` holds for every ``f``, so also for the substituted one.

    >>> instantiate(GENERIC.g(X, sympy.Symbol("p")), BUILTIN["ipo"])
    p*(2*x - 2) - (1 - p)*(-2*x - 2)
    """
    if isinstance(atoms, PairLoss):
        atoms = _atoms_of(atoms)

    def one(e):
        for cls, fun in atoms.items():
            e = e.replace(cls, fun)
        return e

    if isinstance(expr, sympy.MatrixBase):
        return expr.applyfunc(one)
    if isinstance(expr, (list, tuple)):
        return type(expr)(instantiate(e, atoms) for e in expr)
    return one(expr)


def _atoms_of(loss: PairLoss) -> dict:
    """``{Fn: f, Fn1: f', Fn2: f''}`` of a concrete loss, as Lambdas."""
    z = sympy.Dummy("z", real=True)
    return {Fn: sympy.Lambda(z, loss.f.subs(X, z)), Fn1: sympy.Lambda(z, loss.fp.subs(X, z)), Fn2: sympy.Lambda(z, loss.fpp.subs(X, z))}


# shared exact objects (one copy, in theory/matrices.py)


# =========================================================================== explicit objects (any loss)
@dataclass(frozen=True)
class FamilySymbols:
    """Symbols for explicit ``K``: ``P`` (free upper triangle ``p_i_j``), ``mu``, ``r``, ``x``, ``v``, ``b``."""

    K: int
    P: sympy.Matrix
    upper: tuple
    mu: tuple
    r: tuple
    x: tuple
    v: tuple
    b: sympy.Symbol

    @property
    def S(self) -> sympy.Matrix:
        return self.P - HALF * sympy.ones(self.K, self.K)


@lru_cache(maxsize=None)
def family_symbols(K: int) -> FamilySymbols:
    """Symbols for explicit ``K >= 2`` (the same ``P``, ``mu``, ``r``, ``x`` names as :mod:`theory.dpo`)."""
    P, upper = symbolic_preference_matrix(K)
    mu = tuple(sympy.Symbol(f"mu_{k}", positive=True) for k in range(K))
    r = tuple(sympy.Symbol(f"r_{k}", real=True) for k in range(K))
    x = tuple(sympy.Symbol(f"x_{k}", real=True) for k in range(K))
    v = tuple(sympy.Symbol(f"v_{k}", real=True) for k in range(K))
    return FamilySymbols(K, P, upper, mu, r, x, v, sympy.Symbol("b", positive=True))


def _at(expr: sympy.Expr, z) -> sympy.Expr:
    return expr.subs(X, sympy.expand(z))


def pair_g(loss: PairLoss, x, p) -> sympy.Expr:
    """``g(x; p) = p f'(x) - (1 - p) f'(-x)`` (arguments expanded, so atoms compare)."""
    return p * _at(loss.fp, x) - (1 - p) * _at(loss.fp, -x)


def pair_gprime(loss: PairLoss, x, p) -> sympy.Expr:
    """``g'(x; p) = p f''(x) + (1 - p) f''(-x)``."""
    return p * _at(loss.fpp, x) + (1 - p) * _at(loss.fpp, -x)


def _pair_loss(loss: PairLoss, h, p, b) -> sympy.Expr:
    return p * _at(loss.f, b * h) + (1 - p) * _at(loss.f, -b * h)


def population_loss(loss: PairLoss, P: sympy.Matrix, mu: Sequence, r: Sequence, b) -> sympy.Expr:
    """``L(r; mu) = sum_{i,j} mu_i mu_j [P_ij f(b (r_i - r_j)) + (1 - P_ij) f(-b (r_i - r_j))]``."""
    K = len(mu)
    return sum(mu[i] * mu[j] * _pair_loss(loss, r[i] - r[j], P[i, j], b) for i in range(K) for j in range(K))


def stationarity(loss: PairLoss, P: sympy.Matrix, mu: Sequence, x: Sequence) -> sympy.Matrix:
    """``G_k(x; mu) = sum_j mu_j g(x_k - x_j; P_kj)`` (column), ``x = b r``.

    >>> from theory.losses import BUILTIN
    >>> stationarity(BUILTIN["ipo"], cyclic_P(), [sympy.Rational(1, 3)] * 3, [0, 0, 0]).T
    Matrix([[0, 0, 0]])
    """
    K = len(mu)
    return sympy.Matrix([sum(mu[j] * pair_g(loss, x[k] - x[j], P[k, j]) for j in range(K)) for k in range(K)])


def gradient_r(loss: PairLoss, P: sympy.Matrix, mu: Sequence, r: Sequence, b, *, factor=2) -> sympy.Matrix:
    """The stated gradient ``dL/dr_k = 2 b mu_k G_k(b r; mu)`` (``factor`` plants a wrong constant)."""
    G = stationarity(loss, P, mu, [b * rk for rk in r])
    return sympy.Matrix([factor * b * mu[k] * G[k] for k in range(len(mu))])


def weights(loss: PairLoss, P: sympy.Matrix, mu: Sequence, x: Sequence) -> sympy.Matrix:
    """``W_kj = mu_k mu_j g'(x_k - x_j; P_kj)`` off the diagonal (zero diagonal)."""
    K = len(mu)
    return sympy.Matrix(K, K, lambda k, j: 0 if k == j else mu[k] * mu[j] * pair_gprime(loss, x[k] - x[j], P[k, j]))


def laplacian(W: sympy.Matrix) -> sympy.Matrix:
    """``Lap(W) = diag(W 1) - W``."""
    K = W.rows
    return sympy.diag(*[sum(W[i, j] for j in range(K)) for i in range(K)]) - W


def hessian_x(loss: PairLoss, P: sympy.Matrix, mu: Sequence, x: Sequence, *, factor=2) -> sympy.Matrix:
    """The stated Hessian of ``L`` in ``x``: ``2 Lap(W)`` (in ``r`` it is ``b^2`` times this)."""
    return factor * laplacian(weights(loss, P, mu, x))


def ift_matrices(loss: PairLoss, P: sympy.Matrix, mu: Sequence, x: Sequence, *, a_factor=1) -> tuple[sympy.Matrix, sympy.Matrix]:
    """The stated ``A = dG/dx`` and ``B = dG/dmu``.

    ``A_kl = delta_kl sum_{j != k} mu_j g'(x_k - x_j; P_kj) - (1 - delta_kl) mu_l g'(x_k - x_l; P_kl)``,
    ``B_km = g(x_k - x_m; P_km)``. ``a_factor`` scales the off-diagonal of ``A`` (a planted wrong variant).
    """
    K = len(mu)

    def a(k, l):
        if k == l:
            return sum(mu[j] * pair_gprime(loss, x[k] - x[j], P[k, j]) for j in range(K) if j != k)
        return -a_factor * mu[l] * pair_gprime(loss, x[k] - x[l], P[k, l])

    A = sympy.Matrix(K, K, a)
    B = sympy.Matrix(K, K, lambda k, m: pair_g(loss, x[k] - x[m], P[k, m]))
    return A, B


def affine_optimum(loss: PairLoss, P: sympy.Matrix, mu: Sequence) -> sympy.Matrix | None:
    """The closed-form optimum when ``g(x; p) = s (x - phi(p))`` with a constant slope ``s`` (IPO), else None.

    Then ``G_k = s sum_j mu_j (x_k - x_j - phi(P_kj))`` and ``x*_k = sum_j mu_j phi(P_kj) / sum_j mu_j`` solves
    ``G = 0`` with ``mu^T x* = 0`` (``phi(1 - p) = -phi(p)``). IPO: ``x* = 2 P mu - 1`` for ``1^T mu = 1``,
    i.e. ``r* = x*/b = beta P mu`` up to a constant.
    """
    p = sympy.Symbol("p", real=True)
    z = sympy.Symbol("z", real=True)
    g = sympy.expand(pair_g(loss, z, p))
    if any(isinstance(t, (sympy.Heaviside, sympy.Max, sympy.Min, sympy.Abs, sympy.DiracDelta)) for t in sympy.preorder_traversal(g)):
        return None
    if not g.is_polynomial(z) or sympy.degree(g, z) != 1:
        return None
    slope = g.coeff(z, 1)
    if slope.has(p) or slope == 0:
        return None
    phi = sympy.Lambda(p, sympy.expand(-g.coeff(z, 0) / slope))
    K = len(mu)
    tot = sympy.expand(sum(mu))
    return sympy.Matrix([sum(mu[j] * phi(P[k, j]) for j in range(K)) / tot for k in range(K)])


def mrs_map(loss: PairLoss, P: sympy.Matrix, pi: Sequence, alpha, lam, b=None, pi_ref=None, pi0=None,
            xstar: Callable | None = None) -> sympy.Matrix:
    """One MRS step ``F(pi) = softmax(alpha log pi + (1 - alpha) log pi_ref + x*(mu)/b)``, ``mu = lam pi + (1 - lam) pi0``.

    ``xstar`` maps ``mu`` (a list) to ``x*(mu)`` (a list or column); by default the closed form
    :func:`affine_optimum` when the loss has one, else undefined functions ``xstar_k(m_0, ..., m_{K-1})`` at ``mu``
    (the map generic in ``f``). ``pi_ref``/``pi0`` default to symbols ``piref_k``/``pizero_k``; ``b`` to ``loss.b``.
    """
    K = len(pi)
    b = loss.b if b is None else b
    pi_ref = [sympy.Symbol(f"piref_{k}", positive=True) for k in range(K)] if pi_ref is None else list(pi_ref)
    pi0 = [sympy.Symbol(f"pizero_{k}", positive=True) for k in range(K)] if pi0 is None else list(pi0)
    mu = [lam * pi[k] + (1 - lam) * pi0[k] for k in range(K)]
    if xstar is None:
        aff = affine_optimum(loss, P, mu)
        if aff is not None:
            xs = list(aff)
        else:
            m = [sympy.Symbol(f"m_{k}", positive=True) for k in range(K)]
            xs = [sympy.Function(f"xstar_{k}")(*m).subs(dict(zip(m, mu)), simultaneous=True) for k in range(K)]
    else:
        xs = list(xstar(mu))
    z = [alpha * sympy.log(pi[k]) + (1 - alpha) * sympy.log(pi_ref[k]) + xs[k] / b for k in range(K)]
    e = [sympy.exp(zk) for zk in z]
    tot = sum(e)
    return sympy.Matrix([ek / tot for ek in e])


def mrs_jacobian(Fpi: sympy.Matrix, pi: Sequence, alpha, lam, b, X: sympy.Matrix) -> sympy.Matrix:
    """The stated ambient Jacobian ``(diag(pi') - pi' pi'^T)(alpha diag(pi)^{-1} + (lam/b) X)``, ``pi' = F(pi)``."""
    Dsm = sympy.diag(*list(Fpi)) - Fpi * Fpi.T
    return Dsm * (alpha * sympy.diag(*[1 / p for p in pi]) + lam / b * X)


# =========================================================================== obligation helpers
def is_zero(residual) -> bool:
    """True when a residual (expression, matrix, list/tuple of them, or a normal-form dict) is exactly 0."""
    if isinstance(residual, dict):
        return residual == {}
    if isinstance(residual, (list, tuple)):
        return all(is_zero(r) for r in residual)
    if isinstance(residual, sympy.MatrixBase):
        return all(is_zero(e) for e in residual)
    e = sympy.expand(sympy.sympify(residual))
    if e == 0:
        return True
    return _zero_after_rewrite(e)


#: Residuals larger than this (sympy ``count_ops``) are not given to ``simplify`` (it can take minutes).
SIMPLIFY_MAX_OPS = 400


def _zero_after_rewrite(e: sympy.Expr) -> bool:
    """A residual that ``expand`` leaves non-zero only through transcendental constants of a concrete loss
    (``tanh(1)`` next to ``sinh(1)/cosh(1)``): rewrite hyperbolic and trigonometric functions as exponentials,
    then ``simplify``. Exact; bounded in size so that it cannot stall."""
    if not e.atoms(sympy.Function) or sympy.count_ops(e) > SIMPLIFY_MAX_OPS:
        return False
    return sympy.simplify(sympy.expand(e.rewrite(sympy.exp))) == 0


def failures(obligations: Iterable[tuple]) -> list[str]:
    """Names of the obligations whose residual is not 0 (``[]``: all discharged)."""
    return [ob[0] for ob in obligations if not is_zero(ob[-1])]


def _nf(e: ma.NC, K, *, balanced: bool = False) -> sympy.Expr:
    """0 when the algebra element normalises to 0 (with ``one^T one = K``; balanced: also ``S one = 0``)."""
    if balanced:

        nf = balanced_normal_form(e, K)
    else:
        nf = ma.dimension_normal_form(e, K)
    return sympy.Integer(0) if nf == {} else sympy.Symbol(str(nf))


def _positive(expr: sympy.Expr) -> sympy.Expr:
    """0 when sympy decides ``expr > 0`` (``+oo`` included), else the symbol ``unproved: expr > 0`` (never 0)."""
    if sympy.sympify(expr).is_extended_positive:
        return sympy.Integer(0)
    return sympy.Symbol(f"unproved: {sympy.sstr(expr)} > 0")


def _matzero(M: sympy.Matrix) -> sympy.Matrix:
    return M.applyfunc(sympy.expand)


# =========================================================================== 1-3: explicit K, generic f
def explicit_obligations(K: int, loss: PairLoss = GENERIC, *, grad_factor=2, hess_factor=2, a_factor=1,
                         b_factor=1) -> list[tuple[str, str, object]]:
    """Population loss -> gradient -> stationarity -> Hessian -> IFT matrices for explicit ``K``, any ``loss``.

    With :data:`GENERIC` (default) the derivation holds for every smooth ``f``. Residuals (all must be 0):
    ``dL/dr = 2 b diag(mu) G(b r)``; ``mu^T G = 0``; ``d^2 L/dx^2 = 2 Lap(W)``; ``W`` symmetric;
    ``v^T Lap(W) v = sum_{i<j} W_ij (v_i - v_j)^2``; ``Lap(W) 1 = 0``; ``dG/dx = A``, ``dG/dmu = B`` (stated);
    ``mu^T A = 0``; ``mu^T B + G^T = 0``; ``d^2 L/dr^2 = b^2 (2 Lap(W))``.
    Planted variants: ``grad_factor`` (2), ``hess_factor`` (2), ``a_factor`` (1), ``b_factor`` (scales the stated
    gradient: e.g. ``1/b`` plants a wrong power of ``b`` in the chain rule ``x = b r``).
    """
    sy = family_symbols(K)
    P, mu, r, x, v, b = sy.P, sy.mu, sy.r, sy.x, sy.v, sy.b
    L = population_loss(loss, P, mu, r, b)
    grad = sympy.Matrix([sympy.diff(L, rk) for rk in r])
    grad_st = b_factor * gradient_r(loss, P, mu, r, b, factor=grad_factor)
    G = stationarity(loss, P, mu, x)
    Lx = population_loss(loss, P, mu, x, 1)
    Hx = sympy.hessian(Lx, x)
    Hst = hessian_x(loss, P, mu, x, factor=hess_factor)
    W = weights(loss, P, mu, x)
    vv = sympy.Matrix(v)
    sos = sum(W[i, j] * (v[i] - v[j]) ** 2 for i in range(K) for j in range(i + 1, K))
    A, B = sympy.Matrix(G).jacobian(sympy.Matrix(x)), sympy.Matrix(G).jacobian(sympy.Matrix(mu))
    As, Bs = ift_matrices(loss, P, mu, x, a_factor=a_factor)
    m = sympy.Matrix(mu)
    Hr = sympy.hessian(L, r)
    Hr_st = (b**2 * hessian_x(loss, P, mu, [b * rk for rk in r], factor=hess_factor))
    return [
        ("dL/dr_k = 2 b mu_k G_k(b r)", "explicit", _matzero(grad - grad_st)),
        ("mu^T G = 0", "explicit", sympy.expand((m.T * G)[0, 0])),
        ("d^2 L/dx^2 = 2 Lap(W)", "explicit", _matzero(Hx - Hst)),
        ("W symmetric (g'(-x; 1-p) = g'(x; p))", "explicit", _matzero(W - W.T)),
        ("v^T Lap(W) v = sum_{i<j} W_ij (v_i - v_j)^2", "explicit", sympy.expand((vv.T * laplacian(W) * vv)[0, 0] - sos)),
        ("Lap(W) 1 = 0 (L(x + t 1) = L(x))", "explicit", _matzero(laplacian(W) * sympy.ones(K, 1))),
        ("dG/dx = A (stated)", "explicit", _matzero(A - As)),
        ("dG/dmu = B (stated)", "explicit", _matzero(B - Bs)),
        ("mu^T A = 0", "explicit", _matzero(m.T * As)),
        ("mu^T B + G^T = 0", "explicit", _matzero(m.T * Bs + G.T)),
        ("d^2 L/dr^2 = b^2 * 2 Lap(W)(b r)", "explicit", _matzero(Hr - Hr_st)),
    ]


def ipo_reduction_obligations(K: int, *, b=None) -> list[tuple[str, str, object]]:
    """IPO as an instance (``f = (1 - x)^2``, ``b = 2/beta``) reproduces :mod:`theory.ipo` exactly.

    * population loss: ``L_family = (4/beta^2)(L_IPO + r-free constant)`` (:func:`theory.ipo.population_loss`,
      :func:`theory.ipo.loss_constant`);
    * gradient: ``dL_family/dr = (4/beta^2) * stated IPO gradient``;
    * stationarity: ``beta mu_k G_k(b r) = stated IPO gradient_k``;
    * Hessian: ``b^2 * 2 Lap(W) = (4/beta^2) * 4 (diag(mu) 1^T mu - mu mu^T)``;
    * closed form: ``G(b r*) = 0`` at ``r* = log(pi*/pi_ref)`` of :func:`theory.ipo.closed_form_log_ratio`
      (``1^T mu = 1``), and :func:`affine_optimum` equals ``b r*`` up to a constant.

    ``b`` (default ``2/beta``) plants another convention, e.g. ``1/beta``.
    """
    from . import ipo as I

    sy = I.ipo_symbols(K)
    loss = BUILTIN["ipo"]
    beta = sy.beta
    b = 2 / beta if b is None else b
    c = 4 / beta**2
    P, mu, r = sy.P, sy.mu, sy.r
    L = population_loss(loss, P, mu, r, b)
    grad = sympy.Matrix([sympy.diff(L, rk) for rk in r])
    G = stationarity(loss, P, mu, [b * rk for rk in r])
    gst = I.stated_gradient(sy)
    x = family_symbols(K).x
    Hr = b**2 * hessian_x(loss, P, mu, x)
    rstar = I.closed_form_log_ratio(sy)
    norm = sy.mu_normalised()
    Gstar = stationarity(loss, P, mu, [b * rk for rk in rstar]).applyfunc(lambda e: sympy.expand(sympy.expand(e).subs(norm)))
    aff = affine_optimum(loss, P, mu)
    diff0 = [sympy.cancel(sympy.expand((aff[k] - b * rstar[k]) - (aff[0] - b * rstar[0])).subs(norm)) for k in range(1, K)]
    return [
        ("IPO: L = (4/beta^2)(L_IPO + const)", "reduction", sympy.expand(L - c * (I.population_loss(sy) + I.loss_constant(sy)))),
        ("IPO: dL/dr = (4/beta^2) stated IPO gradient", "reduction", _matzero(grad - c * gst)),
        ("IPO: beta mu_k G_k(b r) = stated IPO gradient_k", "reduction", _matzero(sympy.Matrix([beta * mu[k] * G[k] for k in range(K)]) - gst)),
        ("IPO: b^2 2 Lap(W) = (4/beta^2) IPO Hessian", "reduction", _matzero(Hr - c * I.stated_hessian(sy))),
        ("IPO: G(b r*) = 0 at the closed form (1^T mu = 1)", "reduction", Gstar),
        ("IPO: affine optimum = b r* + const", "reduction", diff0),
    ]


def _dpo_atoms() -> dict:

    z = sympy.Dummy("z", real=True)
    return {Fn: sympy.Lambda(z, -sympy.log(sig(z))), Fn1: sympy.Lambda(z, sig(z) - 1), Fn2: sympy.Lambda(z, sig(z) * (1 - sig(z)))}


def _canon_sig(e):

    def one(t):
        return t.replace(sig, lambda z: sig(sympy.expand(z)))

    return e.applyfunc(one) if isinstance(e, sympy.MatrixBase) else one(e)


def dpo_reduction_obligations(K: int, *, sigprime=None) -> list[tuple[str, str, object]]:
    """DPO as an instance reproduces :mod:`theory.dpo` exactly (``b = beta_dpo``; ``G_family = -G_DPO``).

    Atom lemmas (``pointwise``, checked against the loss's own ``f = log(1 + e^{-x})``): ``f = -log sig``,
    ``f' = sig - 1``, ``f'' = sig (1 - sig)``. Then the generic results of :func:`explicit_obligations`,
    instantiated by these atoms, equal: :func:`theory.dpo.population_loss`, :func:`theory.dpo.stated_gradient`,
    ``-`` :func:`theory.dpo.stationarity`, :func:`theory.dpo.stated_hessian` (``b^2 * 2 Lap(W)``),
    ``-`` :func:`theory.dpo.stated_A`, ``-`` :func:`theory.dpo.stated_B`.
    ``sigprime`` plants a wrong ``f''`` atom (e.g. ``sig(z)/4``).
    """

    loss = BUILTIN["dpo"]
    atoms = _dpo_atoms()
    if sigprime is not None:
        z = sympy.Dummy("z", real=True)
        atoms[Fn2] = sympy.Lambda(z, sigprime(z))
    z = sympy.Symbol("z", real=True)
    lemma = [
        ("DPO atom: f = -log sig", "pointwise", sympy.simplify((loss.f.subs(X, z) - atoms[Fn](z)).rewrite(sympy.exp))),
        ("DPO atom: f' = sig - 1", "pointwise", sympy.simplify((loss.fp.subs(X, z) - atoms[Fn1](z)).rewrite(sympy.exp))),
        ("DPO atom: f'' = sig (1 - sig)", "pointwise", sympy.simplify((loss.fpp.subs(X, z) - atoms[Fn2](z)).rewrite(sympy.exp))),
    ]
    sy = T.dpo_symbols(K)
    fs = family_symbols(K)
    b = sy.beta
    P, mu, r, x = sy.P, sy.mu, sy.r, fs.x

    def inst(e):
        return _canon_sig(instantiate(e, atoms))

    L = inst(population_loss(GENERIC, P, mu, r, b))
    grad = inst(gradient_r(GENERIC, P, mu, r, b))
    G = inst(stationarity(GENERIC, P, mu, x))
    Hr = inst(b**2 * hessian_x(GENERIC, P, mu, [b * rk for rk in r]))
    A, B = ift_matrices(GENERIC, P, mu, x)
    A, B = inst(A), inst(B)
    return lemma + [
        ("DPO: L_family = L_DPO", "reduction", sympy.expand(L - _canon_sig(T.population_loss(sy)))),
        ("DPO: 2 b mu_k G_k = stated DPO gradient", "reduction", _matzero(grad - _canon_sig(T.stated_gradient(sy)))),
        ("DPO: G_family = -G_DPO", "reduction", _matzero(G + _canon_sig(T.stationarity(sy, x=x)))),
        ("DPO: b^2 2 Lap(W) = stated DPO Hessian", "reduction", _matzero(Hr - _canon_sig(T.stated_hessian(sy)))),
        ("DPO: A_family = -A_DPO", "reduction", _matzero(A + T.stated_A(K))),
        ("DPO: B_family = -B_DPO", "reduction", _matzero(B + T.stated_B(K))),
    ]


# --------------------------------------------------------------------------- 4: the MRS map, explicit K
def _rational_zero(e: sympy.Expr) -> sympy.Expr:
    """Normal form of an expression rational in exponentials (0 iff identically 0)."""
    return sympy.expand(sympy.together(sympy.powsimp(sympy.expand(e))))


def mrs_jacobian_obligations(K: int, *, lam_factor=1) -> list[tuple[str, str, object]]:
    """The MRS map generic in ``f`` (``x*`` undefined functions of ``mu``), explicit ``K``: ``DF`` by sympy's chain rule
    equals the stated :func:`mrs_jacobian` with ``X_kl = dx*_k/dmu_l`` at ``mu(pi)``. ``lam_factor`` plants a wrong
    constant. (That ``X = -A^+ B`` is the implicit-function theorem, :data:`IFT_THEOREM`, with ``A`` nonsingular on
    the tangent space by :func:`general_ift_obligations`.)
    """
    pi = [sympy.Symbol(f"pi_{k}", positive=True) for k in range(K)]
    alpha, lam = sympy.symbols("alpha lam", positive=True)
    b = sympy.Symbol("b", positive=True)
    m = [sympy.Symbol(f"m_{k}", positive=True) for k in range(K)]
    xs = [sympy.Function(f"xstar_{k}")(*m) for k in range(K)]
    pi0 = [sympy.Symbol(f"pizero_{k}", positive=True) for k in range(K)]
    mu_of_pi = {m[k]: lam * pi[k] + (1 - lam) * pi0[k] for k in range(K)}
    F = mrs_map(GENERIC, None, pi, alpha, lam, b, pi0=pi0, xstar=lambda mu: [x.subs(mu_of_pi, simultaneous=True) for x in xs])
    DF = F.jacobian(sympy.Matrix(pi))
    Xm = sympy.Matrix(K, K, lambda k, l: sympy.diff(xs[k], m[l]).subs(mu_of_pi, simultaneous=True))
    stated = mrs_jacobian(F, pi, alpha, lam_factor * lam, b, Xm)
    return [(f"DF[{k},{l}] = stated", "explicit", _rational_zero(DF[k, l] - stated[k, l])) for k in range(K) for l in range(K)]


def ipo_mrs_reduction_obligations(K: int, *, b=None) -> list[tuple[str, str, object]]:
    """MRS-IPO as an instance: with ``b = 2/beta`` and ``x*`` = :func:`affine_optimum`, on the simplex

    * the logits of the family map equal :func:`theory.mrs_ipo.logits` up to a constant (the same step);
    * ``A dx*/dmu + B = 0`` at ``x*`` (the IFT identity, exactly, free ``mu``);
    * ``(lam/b) X V = beta lam P V`` with ``X = dx*/dmu`` at ``1^T mu = 1`` (``V`` = :func:`tangent_basis`): the stated
      :func:`mrs_jacobian` and :func:`theory.mrs_ipo.jacobian_formula` differ by ``Dsm ((lam/b) X - beta lam P)``, so
      they agree on tangent vectors (``X = 2P - (1 + x*) 1^T`` there).

    ``b`` plants another convention.
    """

    loss = BUILTIN["ipo"]
    beta, alpha, lam = M.beta, M.alpha, M.lam
    b = 2 / beta if b is None else b
    P = M.generic_P(K)
    pi = M.policy_symbols(K)
    ref = M.policy_symbols(K, "r")
    q = M.policy_symbols(K, "q")
    norm = {pi[-1]: 1 - sum(pi[:-1]), q[-1]: 1 - sum(q[:-1])}
    pin = [sympy.sympify(p).subs(norm) for p in pi]
    qn = [sympy.sympify(p).subs(norm) for p in q]
    mu = [lam * pin[k] + (1 - lam) * qn[k] for k in range(K)]
    xs = affine_optimum(loss, P, mu)  # 1^T mu expands to 1
    z_fam = [alpha * sympy.log(pin[k]) + (1 - alpha) * sympy.log(ref[k]) + xs[k] / b for k in range(K)]
    z_ipo = M.logits(pin, P, ref, qn)
    logit_res = [sympy.expand((z_fam[k] - z_ipo[k]) - (z_fam[0] - z_ipo[0])) for k in range(1, K)]
    fs = family_symbols(K)
    mus = fs.mu
    xa = affine_optimum(loss, P, mus)
    A, B = ift_matrices(loss, P, mus, list(xa))
    Xa = xa.jacobian(sympy.Matrix(mus))
    ift_res = (A * Xa + B).applyfunc(sympy.cancel)
    Xmu = Xa.subs(dict(zip(mus, mu)), simultaneous=True).applyfunc(sympy.expand)
    tan_res = ((lam / b * Xmu - beta * lam * P) * tangent_basis(K)).applyfunc(sympy.expand)
    return [
        ("MRS-IPO: logits = mrs_ipo.logits + const (1^T pi = 1^T pi0 = 1)", "reduction", logit_res),
        ("IPO closed form: A dx*/dmu + B = 0", "explicit", ift_res),
        ("MRS-IPO: (lam/b) X = beta lam P on tangent vectors (stated DF = mrs_ipo.jacobian_formula there)", "reduction", tan_res),
    ]


# =========================================================================== 2-3: every K
def _pair_syms() -> dict:
    x_i, x_j, v_i, v_j, u_i, u_j = sympy.symbols("x_i x_j v_i v_j u_i u_j", real=True)
    mu_i, mu_j = sympy.symbols("mu_i mu_j", positive=True)
    p = sympy.Symbol("p", real=True)
    t, c = sympy.symbols("t c", real=True)
    swap = {x_i: x_j, x_j: x_i, v_i: v_j, v_j: v_i, mu_i: mu_j, mu_j: mu_i, u_i: u_j, u_j: u_i, p: 1 - p}
    return dict(x_i=x_i, x_j=x_j, v_i=v_i, v_j=v_j, u_i=u_i, u_j=u_j, mu_i=mu_i, mu_j=mu_j, p=p, t=t, c=c, swap=swap)


def _regions(loss: PairLoss) -> list[tuple[str, sympy.Expr]]:
    """Parametrisations ``x(T)``, ``T > 0``, of the open intervals between the points ``±kink`` (all of R if none)."""
    T = sympy.Symbol("T", positive=True)
    pts = sorted({sympy.sympify(s * k) for k in loss.kinks for s in (1, -1)}, key=lambda e: float(e))
    if not pts:
        return [("x real", sympy.Symbol("z", real=True))]
    out = [(f"x < {pts[0]}", pts[0] - T)]
    out += [(f"{a} < x < {c}", a + (c - a) * T / (1 + T)) for a, c in zip(pts, pts[1:])]
    out.append((f"x > {pts[-1]}", pts[-1] + T))
    return out


def _convex_weight_positive(loss: PairLoss, z=None) -> list[tuple[str, str, sympy.Expr]]:
    """``g'(x; p) > 0`` for ``p`` in ``(0, 1)`` (as ``q/(1+q)``, ``q > 0``), at ``p = 1`` and at ``p = 0``, for every
    real ``x`` off the kinks of ``f`` (one ``positive`` obligation per interval between the points ``±kink``)."""
    q = sympy.Symbol("q", positive=True)
    out = []
    for where, xr in _regions(loss):
        fpp_z = _at(loss.fpp, xr)
        fpp_mz = _at(loss.fpp, -xr)
        if loss.name != "generic":
            fpp_z, fpp_mz = sympy.simplify(fpp_z), sympy.simplify(fpp_mz)
        inner = q / (1 + q) * fpp_z + 1 / (1 + q) * fpp_mz
        tag = "" if where == "x real" else f", {where}"
        out += [
            (f"g'(x; p) > 0 for 0 < p < 1{tag}", "positive", _positive(inner)),
            (f"g'(x; 1) = f''(x) > 0{tag}", "positive", _positive(fpp_z)),
            (f"g'(x; 0) = f''(-x) > 0{tag}", "positive", _positive(fpp_mz)),
        ]
    return out


def general_hessian_obligations(loss: PairLoss = GENERIC, *, grad_factor=2, hess_factor=1) -> list[tuple[str, str, object]]:
    r"""LOSS-1 (uniqueness) for every ``K``: ``L(x + t v) = sum_{i,j} F_ij(t)``, ``F_ij(t) = mu_i mu_j l(x_i - x_j + t (v_i - v_j); P_ij)``
    (``b = 1``: ``x = b r``).

    * ``pair-sum``: ``dL[v] = 2 sum_i v_i mu_i G_i`` (relabelling ``i <-> j`` with ``g(-x; 1-p) = -g(x; p)``);
    * ``pointwise``: ``d^2 L[v, v] = sum_{i,j} W_ij (v_i - v_j)^2``, ``W_ij = mu_i mu_j g'(x_i - x_j; P_ij)``;
    * ``pointwise``: ``W_ji = W_ij`` (``g'(-x; 1-p) = g'(x; p)``) and ``L(x + t 1) = L(x)`` (each term);
    * ``positive``: ``g'(z; p) > 0`` for every ``p`` in ``[0, 1]`` when ``f'' > 0`` (three cases).

    With :data:`LAPLACIAN_LEMMA` (a positive-weighted sum of squares over the complete graph vanishes only on
    ``span(1)``): ``L`` is strictly convex on centred ``x`` for interior ``mu``, so the minimiser is unique up to a
    constant. ``grad_factor`` (2) and ``hess_factor`` (1) plant wrong constants.
    """
    y = _pair_syms()
    x_i, x_j, v_i, v_j, mu_i, mu_j, p, t, c = (y[k] for k in ("x_i", "x_j", "v_i", "v_j", "mu_i", "mu_j", "p", "t", "c"))
    h = x_i - x_j
    F = mu_i * mu_j * _pair_loss(loss, h + t * (v_i - v_j), p, 1)
    d1 = sympy.diff(F, t).subs(t, 0)
    d2 = sympy.diff(F, t, 2).subs(t, 0)
    g_summand = grad_factor * v_i * mu_i * mu_j * pair_g(loss, h, p)
    W = mu_i * mu_j * pair_gprime(loss, h, p)
    shift = mu_i * mu_j * (_pair_loss(loss, (x_i + c) - (x_j + c), p, 1) - _pair_loss(loss, h, p, 1))
    z = sympy.Symbol("z", real=True)
    return [
        ("dL[v] = 2 sum_i v_i mu_i G_i", "pair-sum", ma.pair_sum_residual(sympy.expand(d1 - g_summand), y["swap"])),
        ("d^2L[v,v] = sum_ij W_ij (v_i - v_j)^2", "pointwise", sympy.expand(d2 - hess_factor * W * (v_i - v_j) ** 2)),
        ("W_ji = W_ij", "pointwise", sympy.expand(W.xreplace(y["swap"]) - W)),
        ("L(x + c 1) = L(x) (each term)", "pointwise", sympy.expand(shift)),
    ] + _convex_weight_positive(loss, z)


def _indexed():
    K = sympy.Symbol("K", integer=True, positive=True)
    k, l, j, m = sympy.symbols("k l j m", integer=True, nonnegative=True)
    names = ("x", "mu", "P", "S", "v")
    out = {n: sympy.IndexedBase(n) for n in names}
    out.update(K=K, k=k, l=l, j=j, m=m)
    return out


def _idx_zero(e: sympy.Expr, indices) -> sympy.Expr:
    """``doit`` the Kronecker sums, discharge ``0 <= i <= K - 1``, merge sums (0 when the identity holds)."""

    return merge_sums(resolve_index_range(sympy.expand(e.doit()), indices))


def _idx_range(e: sympy.Expr, indices) -> sympy.Expr:

    return resolve_index_range(e, indices)


def _concrete_zero(loss: PairLoss, e: sympy.Expr) -> sympy.Expr:
    """For a concrete loss, the exponential-rational normal form of ``e`` (the generic residual is already exact)."""
    return e if loss.name == "generic" or e == 0 else _rational_zero(e)


def _indexed_g(loss: PairLoss, a, b, p):
    """``g(a - b; p)`` with indexed arguments."""
    return p * _at(loss.fp, a - b) - (1 - p) * _at(loss.fp, b - a)


def _indexed_gp(loss: PairLoss, a, b, p):
    return p * _at(loss.fpp, a - b) + (1 - p) * _at(loss.fpp, b - a)


def indexed_G(loss: PairLoss = GENERIC) -> sympy.Sum:
    """``G_k = sum_{j=0}^{K-1} mu_j g(x_k - x_j; P_kj)`` with symbolic ``k`` and ``K``."""
    y = _indexed()
    x, mu, P, K, k, j = (y[n] for n in ("x", "mu", "P", "K", "k", "j"))
    return sympy.Sum(mu[j] * _indexed_g(loss, x[k], x[j], P[k, j]), (j, 0, K - 1))


def _stated_A_entry(loss, case, factor=1):
    y = _indexed()
    x, mu, P, K, k, l, j = (y[n] for n in ("x", "mu", "P", "K", "k", "l", "j"))
    if case == "diagonal":
        return sympy.Sum(mu[j] * _indexed_gp(loss, x[k], x[j], P[k, j]) * (1 - sympy.KroneckerDelta(j, k)), (j, 0, K - 1))
    return -factor * mu[l] * _indexed_gp(loss, x[k], x[l], P[k, l])


def _stated_B_entry(loss):
    y = _indexed()
    return _indexed_g(loss, y["x"][y["k"]], y["x"][y["l"]], y["P"][y["k"], y["l"]])


def general_ift_obligations(loss: PairLoss = GENERIC, *, a_factor=1, form_factor=1) -> list[tuple[str, str, object]]:
    r"""The IFT matrices for EVERY ``K`` (symbolic ``K``, symbolic indices ``k, l``), generic in ``f``.

    ``G_k`` = :func:`indexed_G`; sympy differentiates the ``Sum`` in ``x[l]`` and ``mu[l]`` (Kronecker deltas),
    ``Sum.doit`` evaluates the Kronecker sums, the range ``0 <= k, l <= K - 1`` is discharged
    (:func:`theory.dpo.resolve_index_range`); the cases ``k = l`` and ``k != l`` are separate identities.

    * ``A[k,k] = sum_{j != k} mu_j g'(x_k - x_j; P_kj)``, ``A[k,l] = -mu_l g'(x_k - x_l; P_kl)`` (``k != l``);
    * ``B[k,l] = g(x_k - x_l; P_kl)``;
    * ``(mu^T A)_l = 0`` (pair sum, ``k <-> j``, ``g'`` symmetric under ``(x, p) -> (-x, 1-p)``);
    * ``(mu^T B)_l + G_l = 0`` (pair-free: ``P_jl + P_lj = 1``, ``g(-x; 1-p) = -g(x; p)``);
    * solvability: ``v^T diag(mu) A v = (1/2) sum_{k,j} mu_k mu_j g'_kj (v_k - v_j)^2`` (pair sum), so with
      positive weights (:func:`general_hessian_obligations`) the bordered matrix ``[[A, 1], [1^T, 0]]`` is nonsingular
      and ``X = dx*/dmu`` is the unique centred solution of ``A X + B = 0`` (:data:`IFT_THEOREM`).

    ``a_factor`` plants a wrong off-diagonal of ``A``; ``form_factor`` a wrong ``1/2``.
    """
    y = _indexed()
    x, mu, P, K, k, l, j = (y[n] for n in ("x", "mu", "P", "K", "k", "l", "j"))
    v = y["v"]
    G = indexed_G(loss)
    dA = sympy.diff(G, x[l])
    dB = sympy.diff(G, mu[l])
    kl0 = {sympy.KroneckerDelta(k, l): 0, sympy.KroneckerDelta(l, k): 0}
    out = [
        ("dG_k/dx_k = A[k,k]", "indexed", _idx_zero(dA.xreplace({l: k}) - _stated_A_entry(loss, "diagonal"), (k,))),
        ("dG_k/dx_l = A[k,l] (k != l)", "indexed",
         _idx_zero(dA.xreplace(kl0).doit().xreplace(kl0) - _stated_A_entry(loss, "off-diagonal", a_factor), (k, l))),
        ("dG_k/dmu_l = B[k,l]", "indexed", _idx_zero(dB - _stated_B_entry(loss), (k, l))),
    ]
    summand_A = mu[k] * dA.function
    summand_A = summand_A.subs(sympy.KroneckerDelta(j, l), a_factor * sympy.KroneckerDelta(j, l))
    swap = {k: j, j: k, P[k, j]: 1 - P[k, j]}  # P_jk = 1 - P_kj (xreplace matches P[k, j] before its indices)
    out.append(("(mu^T A)_l = 0", "pair-sum", _concrete_zero(loss, ma.pair_sum_residual(sympy.expand(summand_A), swap))))
    # (mu^T B)_l + G_l: one sum over j of mu_j [g(x_j - x_l; P_jl) + g(x_l - x_j; P_lj)], with P_jl = 1 - P_lj
    term = mu[j] * (_indexed_g(loss, x[j], x[l], P[j, l]) + _indexed_g(loss, x[l], x[j], P[l, j]))
    term = term.replace(lambda t: isinstance(t, sympy.Indexed) and t.base == P and t.indices == (j, l), lambda t: 1 - P[l, j])
    out.append(("(mu^T B)_l + G_l = 0 (P_jl + P_lj = 1)", "indexed", sympy.expand(term)))
    inner = sympy.Sum(dA.function * v[l], (l, 0, K - 1)).doit()
    inner = _idx_range(sympy.expand(inner), (k, j))
    summand = sympy.expand(v[k] * mu[k] * inner - form_factor * HALF * mu[k] * mu[j] * _indexed_gp(loss, x[k], x[j], P[k, j]) * (v[k] - v[j]) ** 2)
    out.append(("v^T diag(mu) A v = (1/2) sum_kj mu_k mu_j g'_kj (v_k - v_j)^2", "pair-sum",
                _concrete_zero(loss, ma.pair_sum_residual(summand, swap))))
    return out


# =========================================================================== LOSS-1: existence (recession)
#: Elementary statements the LOSS-1 existence proof uses as axioms (stated in full; reported with the verdict).
ORDER_LEMMA = (
    "For a relation R on a finite set V: there is a non-constant d: V -> R with (d_i > d_j => (i, j) in R) iff there is a "
    "proper non-empty A of V with A x (V minus A) contained in R (take A = the set where d is largest; conversely d = "
    "the indicator of A)."
)
CONVEX_DICHOTOMY = (
    "A convex C^2 function f on R with f'' > 0, bounded below and with f'(0) < 0 has f_inf(-1) = lim_{s -> inf} f(-s)/s "
    ">= -f'(0) > 0 (tangent line at 0) and f_inf(1) = lim_{s -> inf} f'(s) >= 0; if f_inf(1) > 0, f -> inf on both sides; "
    "if f_inf(1) = 0, f' < 0 everywhere and f decreases strictly to a finite limit."
)
NONNEGATIVE_SUM = "A sum of non-negative terms (+inf allowed) is 0 only when every term is 0."

RECESSION_THEOREM = (
    "Rockafellar, Convex Analysis (1970): for a closed proper convex function h on R^n the recession function is "
    "h0+(d) = lim_{t -> inf} (h(x + t d) - h(x))/t for any x in dom h (Thm 8.5), and the set of minimisers of h is "
    "non-empty and bounded iff h has no direction of recession, i.e. no d != 0 with h0+(d) <= 0 (Thm 27.1; cf. Thm 27.3)."
)
LAPLACIAN_LEMMA = (
    "A sum sum_{i<j} w_ij (v_i - v_j)^2 with every w_ij > 0 (i != j in [K]) vanishes only when v_i = v_j for all i, j, "
    "i.e. v in span(1); it is >= 0 for all v (a positive-weighted sum of squares)."
)
MONOTONE_LEMMA = "A differentiable function with positive derivative on R is strictly increasing, so it has at most one zero."
SPECTRAL_THEOREM = (
    "For a real normal matrix J (J^T J = J J^T) on an invariant subspace, the spectral radius equals the 2-norm, "
    "sqrt(lambda_max(J^T J)) (spectral theorem for normal matrices)."
)
ESCAPING_ARGUMENT = (
    "(=>) of LOSS-1 existence, for f with f_inf(1) = 0 < f_inf(-1): every term mu_i mu_j l_inf(d_i - d_j; P_ij) is "
    ">= 0, so L_inf(d) = 0 forces each to vanish (interior mu); a centred d != 0 is not constant, so its top level set "
    "A = argmax d is proper and non-empty; for i in A, j not in A, d_i - d_j > 0 and l_inf(d_i - d_j; P_ij) = 0 force "
    "P_ij = 1 (recession_obligations): A beats its complement with probability 1 (an escaping set). (<=) is "
    "escaping_direction_obligations; with RECESSION_THEOREM on the centred subspace (L is finite and convex there), a "
    "minimiser exists, bounded modulo constants, iff no escaping set exists."
)
IFT_THEOREM = (
    "Implicit function theorem: if G(x, mu) is C^1 and the Jacobian of (x -> (G(x, mu), 1^T x)) is nonsingular at a "
    "solution, the centred solution x*(mu) is C^1 nearby with A dx*/dmu + B = 0 and 1^T dx*/dmu = 0."
)


def _beyond(expr: sympy.Expr, sign: int, T: sympy.Symbol, kinks: Iterable) -> sympy.Expr:
    """``expr`` at ``x = sign (T + c)`` with ``c`` past every kink (so Max/Heaviside evaluate for ``T > 0``)."""
    c = 1 + max([abs(sympy.sympify(k)) for k in kinks] + [0])
    return expr.subs(X, sign * (T + c))


def recession_slopes(loss: PairLoss) -> tuple[sympy.Expr, sympy.Expr]:
    """``(f_inf(1), f_inf(-1))`` with ``f_inf(y) = lim_{t -> inf} f(t y)/t`` (exact limits; ``oo`` allowed).

    ``f_inf(y) = y f_inf(1)`` for ``y > 0`` and ``|y| f_inf(-1)`` for ``y < 0`` (positive homogeneity).

    >>> from theory.losses import BUILTIN
    >>> [recession_slopes(BUILTIN[n]) for n in ("ipo", "dpo", "slic", "exp", "tq")]
    [(oo, oo), (0, 1), (0, 1), (0, oo), (0, oo)]
    """
    if loss.name == "generic":
        return sympy.Symbol("f_inf_plus"), sympy.Symbol("f_inf_minus")
    T = sympy.Symbol("T", positive=True)
    c = 1 + max([abs(sympy.sympify(k)) for k in loss.kinks] + [0])
    out = []
    for sign in (1, -1):
        e = _beyond(loss.f, sign, T, loss.kinks) / (T + c)
        out.append(sympy.limit(e, T, sympy.oo))
    return tuple(out)


def pair_recession(loss: PairLoss, y, p) -> sympy.Expr:
    """``l_inf(y; p) = p f_inf(y) + (1 - p) f_inf(-y)`` for a number ``y`` (a term with weight 0 is dropped).

    >>> from theory.losses import BUILTIN
    >>> pair_recession(BUILTIN["dpo"], 1, 1), pair_recession(BUILTIN["dpo"], 1, sympy.Rational(1, 4))
    (0, 3/4)
    """
    sp, sm = recession_slopes(loss)

    def finf(yy):
        yy = sympy.sympify(yy)
        if yy == 0:
            return sympy.Integer(0)
        return yy * sp if yy.is_positive else -yy * sm

    p = sympy.sympify(p)
    out = sympy.Integer(0)
    if p != 0:
        out += p * finf(y)
    if p != 1:
        out += (1 - p) * finf(-sympy.sympify(y))
    return out


def existence_condition(loss: PairLoss) -> str:
    """LOSS-1 existence, from the recession slopes: ``"every P"``, ``"no escaping set"``, ``"never"`` or ``"unknown"``.

    * ``f_inf(1) > 0`` and ``f_inf(-1) > 0`` (IPO): no centred ``d != 0`` has zero recession: a minimiser for every ``P``;
    * ``f_inf(1) = 0 < f_inf(-1)`` (``f`` decreasing to a finite limit: DPO, SLiC, exp, tq): zero recession exactly
      along ``1_A - |A|/K`` for a set ``A`` that beats its complement with probability 1 (:func:`escaping_direction_obligations`);
    * ``f_inf(1) < 0``: ``L`` is unbounded below along ``e_i - 1/K`` directions: never.

    >>> from theory.losses import BUILTIN
    >>> [existence_condition(BUILTIN[n]) for n in ("ipo", "dpo", "exp")]
    ['every P', 'no escaping set', 'no escaping set']
    """
    sp, sm = recession_slopes(loss)
    if sp.is_extended_positive and sm.is_extended_positive:
        return "every P"
    if sp == 0 and sm.is_extended_positive:
        return "no escaping set"
    if sp.is_extended_negative or sm.is_extended_negative:
        return "never"
    return "unknown"


#: Stated recession slopes ``(f_inf(1), f_inf(-1))`` of the built-ins (checked by :func:`recession_obligations`).
STATED_RECESSION = {"ipo": (sympy.oo, sympy.oo), "dpo": (0, 1), "slic": (0, 1), "exp": (0, sympy.oo), "tq": (0, sympy.oo)}


def recession_obligations(loss: PairLoss, *, stated: tuple | None = None) -> list[tuple[str, str, object]]:
    """The exact recession slopes of ``loss`` against the stated ones (``limit``), and the pair recession cases.

    For ``f_inf(1) = 0 < f_inf(-1)``: ``l_inf(y; 1) = 0`` and ``l_inf(-y; 0) = 0`` for ``y > 0``, and
    ``l_inf(y; p) > 0`` for ``y > 0`` and ``0 <= p < 1`` (``p = q/(1+q)``, ``q > 0``, and ``p = 0``).
    ``stated`` plants a wrong table entry.
    """
    stated = STATED_RECESSION.get(loss.name) if stated is None else stated
    sp, sm = recession_slopes(loss)
    out = []
    if stated is not None:
        out += [
            (f"{loss.name}: f_inf(1) = {stated[0]}", "limit", sympy.Integer(0) if sp == stated[0] else sympy.Symbol(f"{sp}-({stated[0]})")),
            (f"{loss.name}: f_inf(-1) = {stated[1]}", "limit", sympy.Integer(0) if sm == stated[1] else sympy.Symbol(f"{sm}-({stated[1]})")),
        ]
    if sp == 0 and sm.is_extended_positive:
        q = sympy.Symbol("q", positive=True)
        y = sympy.Symbol("y", positive=True)
        out += [
            ("l_inf(y; 1) = 0 (y > 0)", "pointwise", pair_recession(loss, y, 1)),
            ("l_inf(-y; 0) = 0 (y > 0)", "pointwise", pair_recession(loss, -y, 0)),
            ("l_inf(y; p) > 0 for y > 0, 0 <= p < 1 (p = 0 and p = q/(1+q))", "positive",
             _positive(pair_recession(loss, y, q / (1 + q))) + _positive(pair_recession(loss, y, 0))),
        ]
    elif sp.is_extended_positive and sm.is_extended_positive:
        q = sympy.Symbol("q", positive=True)
        y = sympy.Symbol("y", positive=True)
        out.append(("l_inf(+-y; p) > 0 for y > 0 and every p in [0, 1] (no recession direction)", "positive",
                    sum(_positive(pair_recession(loss, s * y, p)) for s in (1, -1) for p in (0, 1, q / (1 + q)))))
    return out


def escaping_direction_obligations(loss: PairLoss, *, p_across=1) -> list[tuple[str, str, object]]:
    """Zero recession along ``d = 1_A - (|A|/K) 1`` when ``A`` beats its complement with probability 1 (every ``K``).

    Each pair term of ``L_inf(d) = sum_{i,j} mu_i mu_j l_inf(d_i - d_j; P_ij)`` is 0: inside ``A`` or inside its
    complement ``d_i - d_j = 0``; across, ``d_i - d_j = 1`` with ``P_ij = 1`` and ``-1`` with ``P_ji = 0``
    (``pointwise``, so the sum is 0 for every ``K``). Conversely (the argument, not mechanised here): if
    ``L_inf(d) = 0`` for a centred ``d != 0``, its top level set ``A`` is proper, and for ``i in A``, ``j`` outside,
    ``d_i > d_j`` forces ``P_ij = 1`` (:func:`recession_obligations`): ``A`` escapes. ``p_across`` plants ``P_ij < 1``.
    Only for losses with :func:`existence_condition` ``"no escaping set"`` (``[]`` otherwise: for IPO every
    ``l_inf(y; p)`` with ``y != 0`` is ``+oo``, so no such direction exists).
    """
    if existence_condition(loss) != "no escaping set":
        return []
    mu_i, mu_j = sympy.symbols("mu_i mu_j", positive=True)
    cases = [("i, j in A", 0, HALF), ("i, j not in A", 0, HALF), ("i in A, j not in A", 1, p_across), ("i not in A, j in A", -1, 1 - sympy.sympify(p_across))]
    return [(f"l_inf term = 0 ({name})", "pointwise", sympy.expand(mu_i * mu_j * pair_recession(loss, dy, p))) for name, dy, p in cases]


# =========================================================================== LOSS-2: the link and sampler invariance
def _smooth_piece(f: sympy.Expr) -> sympy.Expr:
    """``f`` on the neighbourhood of 0 up to the nearest kink: each Max/Min/Abs replaced by its branch at 0."""
    def pick_max(*args):
        vals = [a.subs(X, 0) for a in args]
        best = max(range(len(args)), key=lambda i: vals[i])
        if sum(1 for v in vals if v == vals[best]) > 1:
            raise LossError("f has a kink at 0")
        return args[best]

    def pick_min(*args):
        vals = [a.subs(X, 0) for a in args]
        best = min(range(len(args)), key=lambda i: vals[i])
        if sum(1 for v in vals if v == vals[best]) > 1:
            raise LossError("f has a kink at 0")
        return args[best]

    def pick_abs(a):
        v = a.subs(X, 0)
        if v == 0:
            raise LossError("f has a kink at 0")
        return a if v > 0 else -a

    return f.replace(sympy.Max, pick_max).replace(sympy.Min, pick_min).replace(sympy.Abs, pick_abs)


_P = sympy.Symbol("p", real=True)
_Q = sympy.Symbol("q", positive=True)


#: A closed-form link larger than this (sympy ``count_ops``) is not used: checking it by substitution can take minutes.
LINK_MAX_OPS = 40


@lru_cache(maxsize=None)
def _link_info(loss: PairLoss) -> tuple:
    """``(phi or None, reason or None)``: ``phi`` solves ``g(phi(p); p) = 0`` on the smooth piece of ``f`` at 0."""
    if loss.name == "generic":
        return sympy.Lambda(_P, sympy.Function("phi")(_P)), None
    try:
        f0 = _smooth_piece(loss.f)
    except LossError as exc:
        return None, str(exc)
    fp0 = sympy.diff(f0, X)
    z = sympy.Symbol("z", real=True)
    g = sympy.expand(_P * fp0.subs(X, z) - (1 - _P) * fp0.subs(X, -z))
    if z not in g.free_symbols:
        return None, (f"g(x; p) = {sympy.sstr(sympy.factor(g))} does not depend on x near 0: f is linear there, so for "
                      "p != 1/2 the pair optimum sits at a kink and at p = 1/2 it is a whole interval (set-valued link)")
    gq = g.subs(_P, _Q / (1 + _Q))
    try:
        sols = sympy.solve(gq, z)
    except (NotImplementedError, ValueError) as exc:
        return None, f"sympy cannot solve g(x; p) = 0 in closed form ({exc.__class__.__name__})"
    real = [s for s in sols if s.is_real is not False and sympy.im(s.subs(_Q, 1)) == 0]
    if len(real) != 1:
        return None, f"g(x; p) = 0 has {len(real)} real solutions in closed form (expected exactly one)"
    if sympy.count_ops(real[0]) > LINK_MAX_OPS:
        return None, (f"sympy's closed form of the zero of g(x; p) has {sympy.count_ops(real[0])} operations (more than "
                      f"{LINK_MAX_OPS}), too large to check by substitution; the link is not used for this loss (the every-K "
                      "proof for a generic f still applies wherever the zero exists)")
    phi_q = sympy.expand_log(sympy.simplify(real[0]), force=True)  # q > 0, so expanding the logarithms is exact
    phi = phi_q.subs(_Q, _P / (1 - _P))  # q = p/(1 - p)
    if not phi.has(sympy.log):
        phi = sympy.cancel(phi)
    return sympy.Lambda(_P, phi), None


def link(loss: PairLoss) -> sympy.Lambda | None:
    """The pairwise optimum ``phi(p)``: the zero of ``g(.; p)`` (``x_i - x_j`` at the one-pair optimum), or None.

    Derived by solving ``g(x; p) = 0`` (on the smooth piece of ``f`` at 0, for ``p = q/(1+q)``, ``q > 0``) and
    checked by substitution in the full ``g`` by :func:`link_obligations`. :data:`GENERIC` gets the undefined
    function ``phi``. None (see :func:`no_link_reason`) when ``g(.; p)`` has no unique zero (hinge).
    """
    return _link_info(loss)[0]


def no_link_reason(loss: PairLoss) -> str | None:
    """Why :func:`link` is None (None when there is a link)."""
    return _link_info(loss)[1]


def link_domain(loss: PairLoss) -> sympy.Interval | None:
    """The ``p`` for which ``g(.; p)`` has a unique zero ``phi(p)``: ``[0, 1]`` or ``(0, 1)`` (None without a link).

    ``p = 1`` (hence ``p = 0``) is included when ``phi(1)`` is finite and strictly inside the smooth piece (IPO);
    DPO/exp have ``phi(1) = oo``; the truncated quadratic has ``phi(1) = 1`` at its kink (zero set ``[1, oo)``).
    """
    phi = link(loss)
    if phi is None:
        return None
    if loss.name == "generic":
        return sympy.Interval.open(0, 1)
    v = sympy.limit(phi(_P), _P, 1, dir="-")
    inside = v.is_finite and all(abs(v) < abs(sympy.sympify(k)) for k in loss.kinks)
    return sympy.Interval(0, 1) if inside else sympy.Interval.open(0, 1)


#: The stated links of the built-ins (``None``: no link).
STATED_LINKS = {
    "ipo": sympy.Lambda(_P, 2 * _P - 1),
    "dpo": sympy.Lambda(_P, sympy.log(_P / (1 - _P))),
    "exp": sympy.Lambda(_P, sympy.log(_P / (1 - _P)) / 2),
    "tq": sympy.Lambda(_P, 2 * _P - 1),
    "slic": None,
}


def link_obligations(loss: PairLoss, *, stated: sympy.Lambda | None = None) -> list[tuple[str, str, object]]:
    """``g(phi(p); p) = 0`` in the FULL ``g`` (kinks included) for ``p = q/(1+q)``, ``phi(1-p) = -phi(p)``, ``g' > 0``
    at ``phi(p)`` (so the zero is unique, :data:`MONOTONE_LEMMA`), and ``phi`` = the stated link. ``stated`` plants one.
    """
    phi = link(loss)
    if phi is None:
        return []
    stated = STATED_LINKS.get(loss.name) if stated is None else stated
    pq = _Q / (1 + _Q)
    out = []
    if loss.name != "generic":
        g_at = pair_g(loss, phi(pq), pq)
        out.append(("g(phi(p); p) = 0", "pointwise", sympy.simplify(sympy.expand_log(g_at, force=True))))
        out.append(("phi(1 - p) = -phi(p)", "pointwise", sympy.simplify(sympy.expand_log(phi(1 - pq) + phi(pq), force=True))))
        gp = sympy.simplify(pair_gprime(loss, phi(pq), pq))
        out.append(("g'(phi(p); p) > 0 (unique zero)", "positive", _positive(gp)))
    if stated is not None:
        out.append((f"phi = {sympy.sstr(stated.expr)}", "pointwise", sympy.simplify(sympy.expand_log(phi(pq) - stated(pq), force=True))))
    return out


def named_model(loss: PairLoss) -> str | None:
    """The LOSS-2 model of ``P`` named from the link: affine ``phi`` -> additive differences, ``c logit`` -> Bradley–Terry.

    >>> from theory.losses import BUILTIN
    >>> named_model(BUILTIN["dpo"]), named_model(BUILTIN["ipo"])
    ('Bradley-Terry: P_ij = sig(c (u_i - u_j)) with c = 1', 'additive differences: P_ij = 1/2 + (v_i - v_j) with v = u/2')
    """
    phi = link(loss)
    if phi is None or loss.name == "generic":
        return None
    e = phi(_P)
    d = sympy.simplify(sympy.diff(e, _P))
    if not d.has(_P):
        return f"additive differences: P_ij = 1/2 + (v_i - v_j) with v = u/{sympy.sstr(d)}"
    ratio = sympy.simplify(sympy.expand_log(e, force=True) / sympy.expand_log(sympy.log(_P / (1 - _P)), force=True))
    if not ratio.has(_P):
        return f"Bradley-Terry: P_ij = sig(c (u_i - u_j)) with c = {sympy.sstr(1 / ratio)}"
    return None


def loss2_sufficiency_obligations(loss: PairLoss = GENERIC, *, scale=1) -> list[tuple[str, str, object]]:
    """LOSS-2 (<=) for every ``K`` and every ``mu``: if ``phi(P_ij) = u_i - u_j`` then ``x = u + c`` solves ``G = 0``.

    The summand ``mu_j g(x_i - x_j; P_ij)`` at ``x = scale * u + c`` with ``u_i = u_j + phi(p)`` minus
    ``mu_j g(phi(p); p)`` (0 by the definition of ``phi``) must be 0 (``pointwise``): every term vanishes, so
    ``G_i = 0`` for every ``K``. ``scale`` plants a wrong optimum.
    """
    y = _pair_syms()
    u_j, mu_j, p, c = y["u_j"], y["mu_j"], y["p"], y["c"]
    phi = link(loss) if loss.name != "generic" else sympy.Lambda(p, sympy.Function("phi")(p))
    if phi is None:
        return []
    u_i = u_j + phi(p)
    x_i, x_j = scale * u_i + c, scale * u_j + c
    summand = mu_j * pair_g(loss, x_i - x_j, p)
    axiom = mu_j * pair_g(loss, phi(p), p)
    return [("mu_j g(x_i - x_j; P_ij) = mu_j g(phi(P_ij); P_ij) at x = u + c", "pointwise", sympy.expand(summand - axiom))]


def loss2_necessity_obligations(loss: PairLoss = GENERIC, *, eps=HALF, inverse_factor=1) -> list[tuple[str, str, object]]:
    r"""LOSS-2 (=>) for every ``K`` (free matrix algebra, ``one^T one = K``), generic in ``f``.

    Write ``G(x; mu) = D mu`` with ``D_kj = g(x_k - x_j; P_kj)`` (a free ``K x K`` matrix). The samplers
    ``m_j = M e_j``, ``M = (1 - eps) I + (eps/K) 1 1^T`` (``eps = 1/2``: ``m_j = e_j/2 + 1/(2K)``) are interior and
    sum to 1; ``M^{-1} = (I - (eps/K) 1 1^T)/(1 - eps)``. If one ``x`` is stationary for every interior ``mu`` then
    ``D M = 0``, so ``D = (D M) M^{-1} = 0``: every ``g(x_k - x_j; P_kj) = 0``. Where ``g(.; p)`` is strictly
    increasing (``g' > 0``, :func:`general_hessian_obligations`; :data:`MONOTONE_LEMMA`) its zero is unique, so
    ``x_k - x_j = phi(P_kj)``: ``P`` satisfies the link model with ``u = x``. ``inverse_factor`` plants a wrong inverse.
    """
    K = sympy.Symbol("K", positive=True, integer=True)
    I = ma.NC({(): 1})
    one, onet = ma.one, ma.onet
    Dm, _ = ma.mat("Gterms")
    M = I * (1 - eps) + one * onet * (eps / K)
    Minv = (I - one * onet * (inverse_factor * eps / K)) * (1 / (1 - eps))
    z = sympy.Symbol("z", real=True)
    return [
        ("M M^-1 = I", "algebra", _nf(M * Minv - I, K)),
        ("M^-1 M = I", "algebra", _nf(Minv * M - I, K)),
        ("D = (D M) M^-1", "algebra", _nf(Dm * M * Minv - Dm, K)),
        ("1^T M = 1^T (each m_j sums to 1)", "algebra", _nf(onet * M - onet, K)),
        ("diagonal entry of M: 1 - eps + eps/K > 0", "positive", _positive(1 - eps + eps / K)),
        ("off-diagonal entry of M: eps/K > 0", "positive", _positive(eps / K)),
    ] + [(f"{n} (g strictly increasing)", k, r) for n, k, r in _convex_weight_positive(loss, z)]


def _as_matrix(P) -> sympy.Matrix:
    if isinstance(P, sympy.MatrixBase):
        return P.applyfunc(sympy.nsimplify)
    return sympy.Matrix([[sympy.Rational(sympy.sympify(str(e)) if isinstance(e, str) else sympy.sympify(e)) for e in row] for row in P])


def is_additive(P) -> bool:
    """Exact: is there ``v`` with ``P_ij - 1/2 = v_i - v_j`` for all ``i, j`` (the IPO/tq LOSS-2 model)?

    Equivalent to ``S_ij = S_i0 + S_0j`` for all ``i, j`` (``S = P - 1/2``, ``v_i = S_i0``). Accepts a sympy
    matrix or rows of Fractions / ints / strings.

    >>> is_additive([["1/2", "7/10", "3/10"], ["3/10", "1/2", "7/10"], ["7/10", "3/10", "1/2"]])
    False
    """
    M = _as_matrix(P)
    K = M.rows
    S = M - HALF * sympy.ones(K, K)
    return all(S[i, j] == S[i, 0] + S[0, j] for i in range(K) for j in range(K))


def is_bradley_terry(P) -> bool:
    """Exact: ``P_ij = sig(u_i - u_j)`` for some ``u`` (entries in ``(0, 1)``; the DPO/exp LOSS-2 model).

    Equivalent to ``odds(P_ij) = odds(P_i0) odds(P_0j)`` (``odds(p) = p/(1-p)``), checked in rationals.

    >>> is_bradley_terry([["1/2", "2/3"], ["1/3", "1/2"]])
    True
    """
    M = _as_matrix(P)
    K = M.rows
    if any(not (0 < M[i, j] < 1) for i in range(K) for j in range(K)):
        return False
    odds = lambda p: p / (1 - p)  # noqa: E731
    return all(odds(M[i, j]) == odds(M[i, 0]) * odds(M[0, j]) for i in range(K) for j in range(K))


def is_link_model(P, loss: PairLoss) -> bool:
    """Exact: ``phi(P_ij) = u_i - u_j`` for some ``u``, i.e. ``phi(P_ij) = phi(P_i0) - phi(P_j0)`` (LOSS-2 condition).

    False when an entry is outside :func:`link_domain`. Logarithms of rationals are compared through
    ``expand_log`` (prime factorisation), so the test is exact. Raises :class:`LossError` without a link.
    """
    phi = link(loss)
    if phi is None:
        raise LossError(f"{loss.name}: no link ({no_link_reason(loss)})")
    M = _as_matrix(P)
    K = M.rows
    dom = link_domain(loss)
    if any(not dom.contains(M[i, j]) for i in range(K) for j in range(K)):
        return False
    vals = [[phi(M[i, j]) for j in range(K)] for i in range(K)]
    for i in range(K):
        for j in range(K):
            e = sympy.expand_log(vals[i][j] - vals[i][0] + vals[j][0], force=True)
            if sympy.nsimplify(sympy.expand(e)) != 0:
                return False
    return True


# =========================================================================== LOSS-3: the uniform point
def local_loss(loss: PairLoss) -> PairLoss:
    """The loss with ``f`` replaced by its smooth piece at 0 (equal to ``f`` for ``|x|`` below the nearest kink).

    Everything at the uniform point (LOSS-3) depends only on this germ of ``f``: the truncated quadratic's
    local loss is IPO's ``(1 - x)^2`` (with its own scale convention).

    >>> from theory.losses import BUILTIN
    >>> local_loss(BUILTIN["tq"]).f
    (1 - x)**2
    """
    if not loss.kinks:
        return loss
    return dataclasses.replace(loss, f=_smooth_piece(loss.f), kinks=(), smooth=True)


def local_loss_obligations(loss: PairLoss) -> list[tuple[str, str, object]]:
    """``f = f_local`` on ``|x| < k`` (``k`` = the nearest kink), at ``x = k (T - 1)/(T + 1)``, ``T > 0``."""
    if not loss.kinks:
        return []
    T = sympy.Symbol("T", positive=True)
    k = min(abs(sympy.sympify(c)) for c in loss.kinks)
    xr = k * (T - 1) / (T + 1)
    return [(f"f = f_local on |x| < {k}", "pointwise", sympy.simplify(loss.f.subs(X, xr) - local_loss(loss).f.subs(X, xr)))]


def _require_smooth_at_0(loss: PairLoss) -> None:
    if loss.name != "generic" and loss.not_smooth_at_0 is not None:
        raise LossError(f"LOSS-3 does not apply to {loss.name}: {loss.not_smooth_at_0}")


def uniform_ift(loss: PairLoss, S: sympy.Matrix) -> dict:
    """``A``, ``B``, ``X`` at ``x = 0``, ``mu = 1/K``, ``P = S + (1/2) 1 1^T`` from the loss's own ``g``, ``g'``.

    Expected (LOSS-3): ``A = f''(0) C``, ``B = 2 f'(0) S``, ``X = c_f S`` with ``c_f = -2 f'(0)/f''(0)`` when ``S 1 = 0``.
    """
    _require_smooth_at_0(loss)
    K = S.rows
    P = S + HALF * sympy.ones(K, K)
    A, B = ift_matrices(loss, P, [sympy.Rational(1, K)] * K, [0] * K)
    A, B = A.applyfunc(sympy.simplify), B.applyfunc(sympy.expand)
    X = ift_solve(A, B).applyfunc(sympy.simplify)
    return {"A": A, "B": B, "X": X}


def uniform_tangent_jacobian(loss: PairLoss, S: sympy.Matrix, alpha, lam, b) -> sympy.Matrix:
    """The MRS Jacobian at the uniform point (``pi = pi0 = pi_ref`` uniform, balanced ``S``) in :func:`tangent_basis`.

    ``DF = (diag(u) - u u^T)(alpha diag(u)^{-1} + (lam/b) X)`` with ``X`` from :func:`uniform_ift`; returns
    ``L DF V`` (``(K-1) x (K-1)``). Raises :class:`LossError` when ``f`` is not smooth with ``f''(0) > 0`` at 0.

    >>> from theory.losses import BUILTIN
    >>> a, l = sympy.symbols("alpha lam", positive=True)
    >>> uniform_tangent_jacobian(BUILTIN["exp"], cycle_skew(), a, l, 1)
    Matrix([
    [2*a*lam/3 + alpha,          4*a*lam/3],
    [       -4*a*lam/3, -2*a*lam/3 + alpha]])
    """
    K = S.rows
    X = uniform_ift(loss, S)["X"]
    u = sympy.Matrix([sympy.Rational(1, K)] * K)
    DF = (sympy.diag(*list(u)) - u * u.T) * (alpha * K * sympy.eye(K) + lam / b * X)
    return (tangent_left_inverse(K) * DF * tangent_basis(K)).applyfunc(sympy.expand)


def stated_uniform_tangent_jacobian(loss: PairLoss, S: sympy.Matrix, alpha, lam, b, *, gain_factor=1) -> sympy.Matrix:
    """The claimed form ``L (alpha I + (c_f lam/(b K)) S) V`` (``gain_factor`` plants a wrong gain)."""
    K = S.rows
    d1, d2 = loss_constants(loss)
    c = gain_factor * (-2 * d1 / d2)
    return (tangent_left_inverse(K) * (alpha * sympy.eye(K) + c * lam / (b * K) * S) * tangent_basis(K)).applyfunc(sympy.expand)


def balanced_obligations(K: int, loss: PairLoss, *, gain_factor=1) -> list[tuple[str, str, object]]:
    """LOSS-3 for explicit ``K`` and a generic balanced ``S`` (:func:`balanced_skew`), from the loss's own ``f``.

    ``G(0; 1/K) = 0``; ``A = f''(0) C``; ``B = 2 f'(0) S``; ``X = c_f S``; the tangent Jacobian equals
    :func:`stated_uniform_tangent_jacobian`; its characteristic polynomial is that of ``alpha + (c_f lam/(bK)) L S V``.
    ``gain_factor`` plants a wrong gain.
    """
    S, _ = balanced_skew(K)
    alpha, lam = sympy.symbols("alpha lam", positive=True)
    b = sympy.Symbol("b", positive=True)
    d1, d2 = loss.fp0, loss.fpp0
    c = gain_factor * (-2 * d1 / d2)
    P = S + HALF * sympy.ones(K, K)
    C = sympy.eye(K) - sympy.ones(K, K) / K
    G0 = stationarity(loss, P, [sympy.Rational(1, K)] * K, [0] * K).applyfunc(sympy.simplify)
    lin = uniform_ift(loss, S)
    J = uniform_tangent_jacobian(loss, S, alpha, lam, b)
    Js = stated_uniform_tangent_jacobian(loss, S, alpha, lam, b, gain_factor=gain_factor)
    t, s = sympy.symbols("t s")
    k = c * lam / (b * K)
    cS = (tangent_left_inverse(K) * S * tangent_basis(K)).charpoly(s).as_expr()
    cJ = J.charpoly(t).as_expr()
    return [
        ("G(0; 1/K) = 0", "explicit", G0),
        ("A = f''(0) C", "explicit", _matzero(lin["A"] - d2 * C)),
        ("B = 2 f'(0) S", "explicit", _matzero(lin["B"] - 2 * d1 * S)),
        ("X = c_f S", "explicit", (lin["X"] - c * S).applyfunc(sympy.simplify)),
        ("J_T = L (alpha I + (c_f lam/(b K)) S) V", "explicit", _matzero(J - Js)),
        ("charpoly(J_T)(t) = k^(K-1) charpoly(L S V)((t - alpha)/k)", "explicit",
         sympy.expand(sympy.cancel(cJ - k ** (K - 1) * cS.subs(s, (t - alpha) / k)))),
    ]


def uniform_step_obligations(loss: PairLoss = GENERIC, *, d2_factor=1, b_factor=1) -> tuple:
    r"""LOSS-3 step from the every-``K`` IFT entries: at ``(x, mu) = (0, 1/K)``, ``P = S + 11^T/2`` the stated entries of
    :func:`general_ift_obligations` are those of ``A = f''(0) C`` and ``B = 2 f'(0) S`` (``C = I - 11^T/K``).

    Returns ``(A, B, obligations)`` with ``A``, ``B`` free-algebra elements. For :data:`GENERIC` ``f'(0) = d_1``,
    ``f''(0) = d_2`` (symbols); for a concrete loss the exact values. ``d2_factor``/``b_factor`` plant a wrong
    ``f''(0)`` in ``A`` / a wrong factor 2 in ``B``.
    """
    y = _indexed()
    x, mu, P, S, K, k, l, j = (y[n] for n in ("x", "mu", "P", "S", "K", "k", "l", "j"))
    d1, d2 = loss_constants(loss)
    I = ma.NC({(): 1})
    one, onet = ma.one, ma.onet
    C = I - one * onet * (1 / K)
    A = C * (d2_factor * d2)
    B = ma.S * (2 * b_factor * d1)

    def at_uniform(e):
        def rep(t):
            if t.base == x:
                return sympy.Integer(0)
            if t.base == mu:
                return 1 / K
            if t.base == P:
                return S[t.indices] + HALF
            return t

        e = e.replace(lambda t: isinstance(t, sympy.Indexed), rep)
        if loss.name == "generic":
            e = e.subs({Fn1(0): D1, Fn2(0): D2})
        return e

    bases = {"S": S}
    kl0 = {sympy.KroneckerDelta(k, l): 0, sympy.KroneckerDelta(l, k): 0}
    a_diag = at_uniform(_stated_A_entry(loss, "diagonal")) - ma.entry(A, k, k, K, bases)
    a_off = at_uniform(_stated_A_entry(loss, "off-diagonal")) - ma.entry(A, k, l, K, bases).xreplace(kl0)
    b_ent = at_uniform(_stated_B_entry(loss)) - ma.entry(B, k, l, K, bases)
    g_ent = at_uniform(indexed_G(loss)) - sympy.Sum(2 * d1 * S[k, j], (j, 0, K - 1)) / K
    obls = [
        ("G_k(0, 1/K) = (2 f'(0)/K) (S 1)_k", "indexed", _idx_zero(g_ent, (k,))),
        ("A[k,k] at the uniform point = (f''(0) C)[k,k]", "indexed", _idx_zero(a_diag, (k,))),
        ("A[k,l] at the uniform point = (f''(0) C)[k,l] (k != l)", "indexed", _idx_zero(a_off, (k, l))),
        ("B[k,l] at the uniform point = 2 f'(0) S[k,l]", "indexed", _idx_zero(b_ent, (k, l))),
    ]
    M11, M12, M21 = C * (1 / d2), one * (1 / K), onet * (1 / K)
    for name, e in [
        ("bordered inverse: A C/f''(0) + 1 1^T/K = I", A * M11 + one * M21 - I),
        ("bordered inverse: A 1/K = 0", A * M12),
        ("bordered inverse: 1^T C/f''(0) = 0", onet * M11),
        ("bordered inverse: 1^T 1/K = 1", onet * M12 - 1),
    ]:
        obls.append((name, "algebra", _nf(e, K)))
    return A, B, obls


def general_balanced_obligations(loss: PairLoss = GENERIC, *, gain_factor=1, d2_factor=1, b_factor=1) -> list[tuple[str, str, object]]:
    """LOSS-3 for every ``K`` (free matrix algebra; balanced axioms ``S 1 = 0``, ``1^T S = 0``, ``1^T 1 = K``).

    ``A``, ``B`` are taken from :func:`uniform_step_obligations` (proved from the every-``K`` IFT entries);
    ``X = c_f S`` with ``c_f = gain_factor * (-2 f'(0)/f''(0))``; ``c = c_f lam/(b K)``:

    * ``A X + B = 0`` and ``1^T X = 0`` (so ``X`` is the IFT solution; the bordered matrix is nonsingular);
    * ``DF = (1/K) C (alpha K I + (lam/b) X) = alpha C + c S``; ``1^T J = 0``;
    * ``J^T J = alpha^2 C - c^2 S^2`` and ``J J^T = J^T J`` (normal): on the tangent space the spectral radius is
      the 2-norm, ``sqrt(alpha^2 + c^2 ||S||_2^2)``, so the uniform point is unstable iff
      ``alpha^2 + (c_f lam ||S||_2/(b K))^2 > 1`` (:func:`balanced_threshold_expr`; the last step cites
      :data:`SPECTRAL_THEOREM`);
    * ``S C = S`` and ``-S^2 = S^T S``.

    :func:`threshold_reduction_obligations` shows DYN-6 and DPO-6 are the substitutions IPO and DPO.
    """
    K = sympy.Symbol("K", positive=True, integer=True)
    alpha, lam = sympy.symbols("alpha lam", positive=True)
    b = sympy.Symbol("b", positive=True)
    d1, d2 = loss_constants(loss)
    I = ma.NC({(): 1})
    S, one, onet = ma.S, ma.one, ma.onet
    C = I - one * onet * (1 / K)
    A, B, _ = uniform_step_obligations(loss, d2_factor=d2_factor, b_factor=b_factor)
    cf = gain_factor * (-2 * d1 / d2)
    X = S * cf
    c = cf * lam / (b * K)
    DF = C * (1 / K) * (I * (alpha * K) + X * (lam / b))
    J = C * alpha + S * c
    return [
        (name, "algebra", _nf(e, K, balanced=True))
        for name, e in [
            ("G(0, 1/K) = (2 f'(0)/K) S 1 = 0", S * one * (2 * d1 / K)),
            ("A X + B = 0 with X = c_f S", A * X + B),
            ("1^T X = 0", onet * X),
            ("DF = alpha C + (c_f lam/(b K)) S", DF - J),
            ("1^T J = 0 (J maps the tangent space into itself)", onet * J),
            ("J^T J = alpha^2 C - c^2 S^2", J.T * J - (C * alpha**2 - S * S * c**2)),
            ("J J^T = J^T J (normal)", J * J.T - J.T * J),
            ("S C = S (S on the tangent space has the norm of S)", S * C - S),
            ("-S^2 = S^T S (PSD: J^T J = alpha^2 I + c^2 S^T S on the tangent space)", S * S + S.T * S),
        ]
    ]


def _default_b(loss: PairLoss):
    return loss.b_of(sympy.Symbol(loss.scale_name, positive=True))


def _gain(loss: PairLoss):
    _require_smooth_at_0(loss)
    d1, d2 = loss_constants(loss)
    return sympy.simplify(-2 * d1 / d2)


def balanced_threshold_expr(loss: PairLoss, rho=None, K=None, alpha=None, lam=None, b=None) -> sympy.Expr:
    """``alpha^2 + (c_f lam rho/(b K))^2``: the squared spectral radius at the uniform point (unstable iff > 1).

    ``rho = ||S||_2``; defaults: symbols ``rho``, ``K``, ``alpha``, ``lam`` and ``b`` = the loss's ``b`` in its scale
    symbol (IPO: ``2/beta``). Raises :class:`LossError` where LOSS-3 does not apply (hinge).

    >>> from theory.losses import BUILTIN
    >>> balanced_threshold_expr(BUILTIN["ipo"])
    alpha**2 + beta**2*lam**2*rho**2/K**2
    """
    c = _gain(loss)
    rho = sympy.Symbol("rho", nonnegative=True) if rho is None else rho
    K = sympy.Symbol("K", positive=True, integer=True) if K is None else K
    alpha = sympy.Symbol("alpha", positive=True) if alpha is None else alpha
    lam = sympy.Symbol("lam", positive=True) if lam is None else lam
    b = _default_b(loss) if b is None else b
    return alpha**2 + (c * lam * rho / (b * K)) ** 2


def critical_b(loss: PairLoss, rho=None, K=None, alpha=None, lam=None) -> sympy.Expr:
    """``b* = c_f lam rho / (K sqrt(1 - alpha^2))`` (``alpha < 1``): unstable iff ``b < b*``."""
    c = _gain(loss)
    rho = sympy.Symbol("rho", nonnegative=True) if rho is None else rho
    K = sympy.Symbol("K", positive=True, integer=True) if K is None else K
    alpha = sympy.Symbol("alpha", positive=True) if alpha is None else alpha
    lam = sympy.Symbol("lam", positive=True) if lam is None else lam
    return c * lam * rho / (K * sympy.sqrt(1 - alpha**2))


def critical_scale(loss: PairLoss, rho=None, K=None, alpha=None, lam=None) -> sympy.Expr:
    """The loss's scale parameter at ``b = b*`` (IPO: ``beta* = K sqrt(1 - alpha^2)/(lam rho)``, unstable iff ``beta > beta*``;
    for ``b = scale`` losses unstable iff ``scale < scale*``; see ``loss.larger_scale_moves_away``)."""
    return sympy.simplify(loss.scale_of_b(critical_b(loss, rho, K, alpha, lam)))


def cycle_threshold_expr(loss: PairLoss, alpha=None, lam=None, b=None, a=None) -> sympy.Expr:
    """The 3-cycle (``K = 3``, ``rho = ||S_cyc||_2 = sqrt(3) a``): ``alpha^2 + c_f^2 lam^2 a^2 / (3 b^2)``.

    >>> from theory.losses import BUILTIN
    >>> cycle_threshold_expr(BUILTIN["ipo"])
    a**2*beta**2*lam**2/3 + alpha**2
    """
    a = _A_SYM if a is None else a
    return sympy.expand(balanced_threshold_expr(loss, sympy.sqrt(3) * a, 3, alpha, lam, b))


def cycle_norm_obligations(*, norm_sq=None) -> list[tuple[str, str, object]]:
    """``||S_cyc||_2^2 = 3 a^2``: the eigenvalues of ``S^T S`` are ``3 a^2`` (twice) and 0. ``norm_sq`` plants one."""
    Sc = cycle_skew()
    t = sympy.Symbol("t")
    a = _A_SYM
    ns = 3 * a**2 if norm_sq is None else norm_sq
    cp = (Sc.T * Sc).charpoly(t).as_expr()
    return [("charpoly(S^T S) = t (t - ||S||^2)^2", "explicit", sympy.expand(cp - t * (t - ns) ** 2))]


def threshold_reduction_obligations(*, ipo_b=None, dpo_b=None) -> list[tuple[str, str, object]]:
    """DYN-6/DYN-1 (IPO, ``b = 2/beta``) and DPO-6/DPO-4 (DPO, ``b = beta_dpo``) are the substitutions of LOSS-3.

    The every-``K`` uniform-point matrices of DPO equal minus those of :func:`theory.dpo.uniform_ift_step`
    (``G_family = -G_DPO``). Compares :func:`balanced_threshold_expr` with :func:`theory.mrs_ipo.balanced_threshold` and
    :func:`theory.dpo.balanced_threshold_expr`, :func:`cycle_threshold_expr` with :func:`theory.mrs_ipo.cycle_threshold`
    and :func:`theory.dpo.cycle_threshold_expr`, and the every-``K`` Jacobian coefficient ``c_f lam/(b K)`` with
    ``beta lam/K`` (IPO) and ``4 lam/(beta_dpo K)`` (DPO). ``ipo_b``/``dpo_b`` plant another convention.
    """

    ipo, dpo = BUILTIN["ipo"], BUILTIN["dpo"]
    Ks = sympy.Symbol("K", integer=True, positive=True)
    smax = sympy.Symbol("s_max", positive=True)
    bi = 2 / M.beta if ipo_b is None else ipo_b
    ipo_bal = balanced_threshold_expr(ipo, smax, Ks, M.alpha, M.lam, bi) - M.balanced_threshold()
    ipo_cyc = cycle_threshold_expr(ipo, M.alpha, M.lam, bi, M.a) - M.cycle_threshold()
    alpha, lam = sympy.symbols("alpha lam", positive=True)
    bd = sympy.Symbol("beta_dpo", positive=True)
    bd_used = bd if dpo_b is None else dpo_b
    rho = sympy.Symbol("rho", nonnegative=True)
    dpo_bal = balanced_threshold_expr(dpo, rho, Ks, alpha, lam, bd_used) - T.balanced_threshold_expr()
    dpo_cyc = cycle_threshold_expr(dpo, alpha, lam, bd_used) - T.cycle_threshold_expr()
    K = sympy.Symbol("K", positive=True, integer=True)
    coef_ipo = _gain(ipo) * M.lam / (bi * K) - M.beta * M.lam / K
    coef_dpo = _gain(dpo) * lam / (bd_used * K) - 4 * lam / (bd * K)
    A_f, B_f, _ = uniform_step_obligations(dpo)
    A_d, B_d, _ = T.uniform_ift_step()
    return [
        ("DPO uniform point, every K: A_family = -A_DPO = (1/4) C", "algebra", _nf(A_f + A_d, K)),
        ("DPO uniform point, every K: B_family = -B_DPO = -S", "algebra", _nf(B_f + B_d, K)),
        ("IPO (b = 2/beta): balanced threshold = DYN-6", "reduction", sympy.expand(ipo_bal)),
        ("IPO (b = 2/beta): 3-cycle threshold = DYN-1", "reduction", sympy.expand(ipo_cyc)),
        ("IPO: J = alpha C + (beta lam/K) S (mrs_ipo.general_balanced_obligations)", "reduction", sympy.simplify(coef_ipo)),
        ("DPO (b = beta_dpo): balanced threshold = DPO-6", "reduction", sympy.expand(dpo_bal)),
        ("DPO (b = beta_dpo): 3-cycle threshold = DPO-4", "reduction", sympy.expand(dpo_cyc)),
        ("DPO: J = alpha C + (4 lam/(beta_dpo K)) S (dpo.general_balanced_obligations)", "reduction", sympy.simplify(coef_dpo)),
    ]


def balanced_reduction_obligations(K: int, *, ipo_b=None, dpo_b=None) -> list[tuple[str, str, object]]:
    """Explicit ``K``, generic balanced ``S``: :func:`uniform_tangent_jacobian` of IPO (``b = 2/beta``) equals
    :func:`theory.mrs_ipo.uniform_tangent_jacobian` and that of DPO (``b = beta_dpo``) equals the ``J_tangent`` of
    :func:`theory.dpo.uniform_linearisation`. ``ipo_b``/``dpo_b`` plant another convention.
    """

    S, _ = balanced_skew(K)
    P = S + HALF * sympy.ones(K, K)
    bi = 2 / M.beta if ipo_b is None else ipo_b
    J_ipo = uniform_tangent_jacobian(BUILTIN["ipo"], S, M.alpha, M.lam, bi)
    lin = T.uniform_linearisation(S)
    bd = lin["beta_dpo"] if dpo_b is None else dpo_b
    J_dpo = uniform_tangent_jacobian(BUILTIN["dpo"], S, lin["alpha"], lin["lam"], bd)
    return [
        (f"IPO K = {K}: J_T = mrs_ipo.uniform_tangent_jacobian", "reduction", (J_ipo - M.uniform_tangent_jacobian(P)).applyfunc(sympy.simplify)),
        (f"DPO K = {K}: J_T = dpo.uniform_linearisation J_tangent", "reduction", (J_dpo - lin["J_tangent"]).applyfunc(sympy.simplify)),
    ]


# =========================================================================== one list per claim
def loss1_obligations(loss: PairLoss = GENERIC) -> list[tuple[str, str, object]]:
    """LOSS-1 for every ``K``: :func:`general_hessian_obligations` (uniqueness up to a constant when ``f'' > 0``),
    :func:`recession_obligations` and :func:`escaping_direction_obligations` (existence; cites :data:`RECESSION_THEOREM`,
    :data:`LAPLACIAN_LEMMA`)."""
    out = general_hessian_obligations(loss)
    if loss.name != "generic":
        out += recession_obligations(loss) + escaping_direction_obligations(loss)
    return out


def loss2_obligations(loss: PairLoss = GENERIC) -> list[tuple[str, str, object]]:
    """LOSS-2 for every ``K``: (<=) :func:`loss2_sufficiency_obligations`, (=>) :func:`loss2_necessity_obligations`,
    and the link :func:`link_obligations` (``[]`` parts where the loss has no link; see :func:`no_link_reason`)."""
    if link(loss) is None:
        return []
    return loss2_sufficiency_obligations(loss) + loss2_necessity_obligations(loss) + link_obligations(loss)


def loss3_obligations(loss: PairLoss = GENERIC) -> list[tuple[str, str, object]]:
    """LOSS-3 for every ``K``: :func:`general_ift_obligations` (IFT entries, solvability), the uniform-point step of
    :func:`uniform_step_obligations` and :func:`general_balanced_obligations`. Raises :class:`LossError` where it
    does not apply (``f''(0) = 0`` or a kink at 0). A loss with kinks away from 0 (tq) is replaced by its
    :func:`local_loss` (the IFT at the uniform point only sees ``f`` near 0), with :func:`local_loss_obligations`."""
    _require_smooth_at_0(loss)
    loc = local_loss(loss)
    return (local_loss_obligations(loss) + general_ift_obligations(loc) + uniform_step_obligations(loc)[2]
            + general_balanced_obligations(loc))


# =========================================================================== LaTeX
def _pretty(e):
    lam = sympy.Symbol("lam", positive=True)
    return e.subs(lam, sympy.Symbol("lambda", positive=True)) if hasattr(e, "subs") else e


def _logistic(e):
    """``exp(u) / (exp(u) + 1)`` inside a product as ``sig(u)`` (the logistic function, with ``sig(-u) = 1 - sig(u)``), for display."""
    sigma = sig

    def has_logistic(z):
        return z.is_Mul and as_sigma(z) is not z

    def as_sigma(z):
        args = list(z.args)
        for a in args:
            if isinstance(a, sympy.exp):
                for b in args:
                    if b.is_Pow and b.exp == -1 and sympy.expand(b.base - a - 1) == 0:
                        rest = [c for c in args if c is not a and c is not b]
                        return sympy.Mul(*rest) * sigma(a.args[0])
        return z

    if isinstance(e, sympy.MatrixBase):
        return e.applyfunc(_logistic)
    return e.replace(has_logistic, as_sigma)


def latex_sections(loss: PairLoss = GENERIC) -> list[Section]:
    """LOSS-1, LOSS-2, LOSS-3 derivations for ``loss`` (default :data:`GENERIC`: ``f``, ``f'``, ``f''`` printed as such).

    The general-``K`` forms are the same for every loss: they are printed for :data:`GENERIC` only, and a
    built-in loss's sections are its instance (its ``f`` and ``b``, then the ``K = 3`` expressions).
    """
    sy = family_symbols(3)
    generic = loss.name == "generic"
    own = [] if generic else [("The loss", Equation("f(x)", loss.f)), ("Its scale", Equation("b", loss.b_expr.subs({q: sympy.Symbol(loss.scale_name) for q in loss.b_expr.free_symbols})))]
    G3 = stationarity(loss, sy.P, sy.mu, sy.x)
    W3 = weights(loss, sy.P, sy.mu, sy.x)
    items1 = [
        ("Population loss (general K)", r"L(r;\mu)=\sum_{i,j}\mu_i\mu_j\bigl[P_{ij}f(b(r_i-r_j))+(1-P_{ij})f(-b(r_i-r_j))\bigr]"),
        ("Gradient and stationarity (general K)", r"\partial L/\partial r_k=2b\,\mu_k G_k(x;\mu),\quad G_k=\sum_j\mu_j\,g(x_k-x_j;P_{kj}),"
         r"\quad g(x;p)=p f'(x)-(1-p)f'(-x),\quad x=br"),
        ("Hessian (general K)", r"\nabla^2_x L=2\,(\mathrm{diag}(W\mathbf 1)-W),\ W_{kj}=\mu_k\mu_j\,g'(x_k-x_j;P_{kj}),\ "
         r"v^{\top}\nabla^2_xL\,v=2\sum_{i<j}W_{ij}(v_i-v_j)^2"),
        ("Existence (recession)", r"L_\infty(d)=\sum_{i,j}\mu_i\mu_j\,\ell_\infty(d_i-d_j;P_{ij}),\ "
         r"\ell_\infty(y;p)=p f_\infty(y)+(1-p)f_\infty(-y),\ f_\infty(y)=\lim_{t\to\infty}f(ty)/t"),
        ("Stationarity G(x), K = 3", Equation("G", _logistic(G3))),
        ("Weights W(x), K = 3", Equation("W", _logistic(W3))),
    ]
    if not generic:
        items1 = own + items1[-2:]
    phi = link(loss)
    items2 = [] if not generic else [
        ("Sampler invariance (general K)", r"x^*(\mu)\text{ is the same for every interior }\mu\iff\exists u:\ \phi(P_{ij})=u_i-u_j,"
         r"\quad g(\phi(p);p)=0"),
    ]
    if loss.name == "generic":
        items2.append(("Link", r"\phi(p):\ g(\phi(p);p)=0\quad(\text{unique, since } g'(x;p)>0)"))
    elif phi is not None:
        items2.append(("Link", sympy.Eq(sympy.Function(r"\phi")(_P), phi(_P))))
        nm = named_model(loss)
        if nm:
            items2.append(("Model", Note(nm)))
    else:
        items2.append(("Link", Note(no_link_reason(loss) or "")))
    items3 = [] if not generic else [
        ("Uniform point (general K)", r"A=f''(0)\,C,\quad B=2f'(0)\,S,\quad X=c_f S,\quad c_f=-2f'(0)/f''(0),\quad C=I-\mathbf 1\mathbf 1^{\top}/K"),
        ("Jacobian (general K)", r"J=\alpha C+\frac{c_f\lambda}{bK}S,\qquad J^{\top}J=\alpha^2C-\Bigl(\frac{c_f\lambda}{bK}\Bigr)^2S^2"),
    ]
    if loss.name == "generic" or loss.not_smooth_at_0 is None:
        if loss.name == "generic":
            rho, K, al, lm, b = sympy.symbols("rho K alpha lambda b", positive=True)
            c = -2 * Fn1(0) / Fn2(0)
            thr = al**2 + (c * lm * rho / (b * K)) ** 2
        else:
            thr = _pretty(balanced_threshold_expr(loss))
        items3.append(("Unstable iff", sympy.StrictGreaterThan(thr, 1)))
    else:
        items3.append(("Not applicable", Note(loss.not_smooth_at_0)))
    name = loss.title or loss.name
    instance = f"The {name} instance of the derivation for a generic f above."
    return [
        Section(f"LOSS-1: existence and uniqueness ({name})",
                r"For interior $\mu$ and $f''>0$ the population loss is strictly convex on centred $r$ (weighted Laplacian "
                r"Hessian); a minimiser exists iff no centred $d\neq 0$ has $L_\infty(d)=0$." if generic else instance, items1),
        Section(f"LOSS-2: sampler invariance ({name})",
                r"The optimum is the same for every interior sampler iff $\phi(P_{ij})=u_i-u_j$ for some $u$." if generic else instance, items2),
        Section(f"LOSS-3: stability of the uniform point ({name})",
                r"Balanced $P$ ($S\mathbf 1=0$), $\pi_0=\pi_{\mathrm{ref}}$ uniform, any $K$." if generic else instance, items3),
    ]
