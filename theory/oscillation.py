r"""Persistent oscillation at the uniform point of the 3-cycle: the Neimark–Sacker normal form of the MRS maps (DYN-7).

**Setting** (the shared conventions): ``P_cyc(a) = 11^T/2 + a S0`` with ``0 < a <= 1/2``, ``K = 3``,
``pi0 = pi_ref = uniform``; one MRS step of a loss of the family (:mod:`theory.losses`) with scale ``b`` is
``log pi' = alpha log pi + (1 - alpha) log pi_ref + x*(mu)/b + const`` with ``mu = lam pi + (1 - lam) pi0`` and
``x*(mu)`` the optimum of the population loss (its stationarity :func:`theory.family.stationarity`; ``x*`` is
defined up to a constant, which the chart does not see).

**Chart**: ``l_i = log(pi_i / pi_2)``, ``i = 0, 1`` (so ``pi = softmax(l_0, l_1, 0)`` and the uniform point is
``l = 0``); the map in the chart is ``F(l)_i = z_i - z_2``, i.e.

.. math::

    F(l) = \alpha\, l + \tfrac1b \bigl(x^*_0(\mu) - x^*_2(\mu),\ x^*_1(\mu) - x^*_2(\mu)\bigr),
    \qquad \mu = \lambda\, \pi(l) + (1 - \lambda)/3 .

**Derivation** (all exact, cached):

1. :func:`xstar_expansion` — ``x*(mu)`` to third order in ``u = mu - 1/3`` by implicit differentiation of the
   family's stationarity ``G(x; mu) = 0`` (order by order: ``x_n = -G_x^{-1} [G(x_1 + ... + x_{n-1}; mu)]_n``,
   ``G_x`` the implicit-function matrix of :func:`theory.family.ift_matrices`), for an arbitrary smooth ``f``:
   it depends on ``f`` only through ``rho_k = f^{(k)}(0)/f''(0)`` (``G`` is linear in ``f'``, so dividing ``f`` by
   ``f''(0) > 0`` does not move the optimum), i.e. through ``f'(0), f''(0), f'''(0), f''''(0)``.
2. :func:`cycle_map` — the Taylor polynomial of degree 3 of ``F`` at ``l = 0`` and its tensors ``A, B, C``
   (parameters ``alpha, a, lam, b``).
3. :func:`cycle_normal_form` — on the threshold curve ``alpha^2 + omega^2 = 1``,
   ``omega = c_f lam a / (b sqrt 3) = sin(theta)`` (``b`` eliminated), the coefficient
   ``d = Re(e^{-i theta} c_1)`` of :func:`theory.normal_form.first_lyapunov` in the normalisation
   :data:`theory.normal_form.NORMALISATION` (``<q, q> = 1``, ``<p, q> = 1`` in the Euclidean product of the chart).

**Result** (:data:`STATED_D`, derived exactly for every smooth ``f`` with ``f''(0) > 0`` — the derivatives of ``f`` at
0 as symbols — and checked against independent routes for IPO and DPO, :func:`cross_check_obligations`; the formula
of the coefficient itself is checked on maps whose coefficient is known, :func:`theory.normal_form.formula_obligations`):

.. math::

    d = \frac{1 - \alpha^2}{24}\, Q, \qquad
    Q = 2 c_f \lambda^2 a^2 \bigl(2 c_f a^2 \rho_3^2 - 4 \rho_3 - c_f \rho_4\bigr) - 3,
    \qquad c_f = -2\rho_1,\ \rho_k = f^{(k)}(0)/f''(0).

IPO (and the truncated quadratic, equal to it near 0): ``d = -(1 - alpha^2)/8`` (only ``alpha`` enters:
supercritical on the whole curve). DPO: ``d = (1 - alpha^2)(16 lam^2 a^2 - 3)/24`` (``a`` and ``lam`` enter through
``lam a``): supercritical for ``lam a < sqrt(3)/4``, **subcritical** for ``lam a > sqrt(3)/4``. Exponential loss:
``d = (1 - alpha^2)(8 lam^2 a^2 (1 + 2 a^2) - 3)/24 <= 0``, zero only at the corner ``a = 1/2, lam = 1``
(:func:`sign_verdict`).

>>> nf = cycle_normal_form("ipo")
>>> nf.d
alpha**2/8 - 1/8
>>> nf.value(alpha=sympy.Rational(1, 2), a=sympy.Rational(1, 4), lam=1)
-3/32
>>> sign_at("dpo", sympy.Rational(1, 2), sympy.Rational(1, 2), 1), sign_at("dpo", sympy.Rational(1, 2), sympy.Rational(1, 4), 1)
(1, -1)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Sequence

import sympy
from sympy import QQ, Rational
from sympy.polys.rings import PolyRing

from . import dpo as dpo_theory
from . import family
from . import mrs_ipo
from .family import D1, D2, GENERIC, Fn1, Fn2, instantiate
from .losses import LossError, PairLoss, X, builtin, from_expression
from .matrices import CYCLE_MARGIN, cyclic_P
from .normal_form import NORMALISATION, MultilinearForm, NSCoefficient, first_lyapunov, taylor_tensors

__all__ = [
    "ALPHA", "LAM", "A", "B_SCALE", "S", "D3", "D4", "RHO", "L", "U",
    "CHART", "resolve_loss", "loss_derivatives", "ratios",
    "XStarExpansion", "xstar_expansion", "xstar_obligations",
    "CycleMap", "cycle_map", "on_curve_tensors",
    "ipo_direct_tensors", "dpo_direct_tensors", "cross_check_obligations", "Q_CHART", "symmetry_obligations",
    "Resonance", "RESONANCES", "CycleNormalForm", "cycle_normal_form",
    "STATED_D", "CLOSED_FORMS", "stated_d", "sections", "SignVerdict", "sign_verdict", "sign_obligations", "sign_at", "exact_sign",
]

#: ``alpha`` (= ``cos theta`` on the curve), the cycle strength ``a``, ``lam``, the loss scale ``b``, ``s = sin theta``.
ALPHA = sympy.Symbol("alpha", positive=True)
LAM = sympy.Symbol("lam", positive=True)
A = CYCLE_MARGIN
B_SCALE = sympy.Symbol("b", positive=True)
S = sympy.Symbol("s", positive=True)
#: ``f'''(0)`` and ``f''''(0)`` of the generic loss (``f'(0)``, ``f''(0)`` are :data:`theory.family.D1`, ``D2``).
D3 = sympy.Symbol("d_3", real=True)
D4 = sympy.Symbol("d_4", real=True)
#: ``rho_1 = f'(0)/f''(0)``, ``rho_3 = f'''(0)/f''(0)``, ``rho_4 = f''''(0)/f''(0)``.
RHO = (sympy.Symbol("rho_1", negative=True), sympy.Symbol("rho_3", real=True), sympy.Symbol("rho_4", real=True))
#: The chart coordinates ``l_0, l_1`` and the sampler increments ``u_0, u_1`` (``u_2 = -u_0 - u_1``).
L = sympy.symbols("l_0 l_1", real=True)
U = sympy.symbols("u_0 u_1", real=True)
THIRD = Rational(1, 3)

CHART = ("log-ratio chart l_i = log(pi_i/pi_2), i = 0, 1 (pi = softmax(l_0, l_1, 0), uniform point l = 0); "
         "map F(l)_i = z_i - z_2 = alpha l_i + (x*_i(mu) - x*_2(mu))/b, mu = lam pi(l) + (1 - lam)/3")


# =========================================================================== the loss
def resolve_loss(loss) -> PairLoss:
    """A :class:`theory.losses.PairLoss` from a loss object, a built-in name/alias, ``"generic"`` or an expression in ``x``.

    Refused (``LossError``, one line) when ``f`` is not smooth at 0 (the hinge) — the normal form needs ``f''(0) > 0``
    and four derivatives at 0.
    """
    if isinstance(loss, PairLoss):
        L_ = loss
    elif isinstance(loss, str):
        key = loss.strip().lower()
        if key == "generic":
            L_ = GENERIC
        else:
            try:
                L_ = builtin(key)
            except LossError:
                L_ = from_expression(loss)
    else:
        raise LossError(f"loss {loss!r}: expected a PairLoss, a built-in name or an expression in x")
    if L_.name != "generic":
        why = L_.not_smooth_at_0
        if why is not None:
            raise LossError(f"the normal form at the uniform point needs f smooth with f''(0) > 0 at 0; {L_.name}: {why}")
    return L_


def _key(loss: PairLoss) -> tuple:
    return (loss.name, sympy.srepr(loss.f))


@lru_cache(maxsize=None)
def _derivatives(loss: PairLoss) -> tuple:
    out = []
    for k in range(1, 5):
        v = sympy.simplify(sympy.diff(loss.f, X, k).subs(X, 0))
        if v.has(sympy.Heaviside, sympy.DiracDelta, sympy.Max, sympy.Min, sympy.Abs, sympy.nan, sympy.zoo):
            raise LossError(f"f^({k})(0) = {v} is not a number: f is not smooth at 0")
        out.append(v)
    return tuple(out)


def loss_derivatives(loss) -> tuple[sympy.Expr, sympy.Expr, sympy.Expr, sympy.Expr]:
    """``(f'(0), f''(0), f'''(0), f''''(0))`` exactly; the symbols ``(d_1, d_2, d_3, d_4)`` for the generic loss.

    >>> loss_derivatives("dpo"), loss_derivatives("exp")
    ((-1/2, 1/4, 0, -1/8), (-1, 1, -1, 1))
    """
    L_ = resolve_loss(loss)
    if L_.name == "generic":
        return (D1, D2, D3, D4)
    return _derivatives(L_)


def ratios(derivs: Sequence) -> dict:
    """``{rho_1: f'(0)/f''(0), rho_3: f'''(0)/f''(0), rho_4: f''''(0)/f''(0)}``."""
    f1, f2, f3, f4 = (sympy.sympify(v) for v in derivs)
    return {RHO[0]: sympy.cancel(f1 / f2), RHO[1]: sympy.cancel(f3 / f2), RHO[2]: sympy.cancel(f4 / f2)}


# =========================================================================== x*(mu) to third order
@dataclass(frozen=True)
class XStarExpansion:
    """``x*(1/3 + u) = x1(u) + x2(u) + x3(u) + O(|u|^4)`` (centred, ``1^T x = 0``; ``u = (u_0, u_1, -u_0 - u_1)``).

    ``orders`` are 3-vectors (sympy matrices) homogeneous of degree 1, 2, 3 in :data:`U`; coefficients in ``a`` and the
    loss's ``f^{(k)}(0)`` (symbols ``d_1 .. d_4`` for the generic loss). ``r* = x*/b``.
    """

    loss: str
    orders: tuple
    u: tuple = U

    def total(self) -> sympy.Matrix:
        """``x1 + x2 + x3``."""
        return self.orders[0] + self.orders[1] + self.orders[2]

    def r_star(self) -> sympy.Matrix:
        """``r* = x*/b`` to third order (``b`` = :data:`B_SCALE`)."""
        return self.total() / B_SCALE


def _taylor_fprime(rho) -> sympy.Lambda:
    z = sympy.Dummy("z")
    r1, r3, r4 = rho
    return sympy.Lambda(z, r1 + z + r3 * z**2 / 2 + r4 * z**3 / 6)


def _taylor_fsecond(rho) -> sympy.Lambda:
    z = sympy.Dummy("z")
    _, r3, r4 = rho
    return sympy.Lambda(z, 1 + r3 * z + r4 * z**2 / 2)


def _cycle_stationarity() -> tuple:
    """``(x_0, x_1)`` and the family's stationarity for ``P_cyc(a)`` at ``mu = 1/3 + u`` in the gauge ``x_2 = 0``, with
    ``f'`` replaced by its Taylor polynomial in ``rho``."""
    xs = sympy.symbols("x_0 x_1", real=True)
    mu = [THIRD + uk for uk in (U[0], U[1], -U[0] - U[1])]
    G = family.stationarity(GENERIC, cyclic_P(), mu, [xs[0], xs[1], 0])
    return xs, instantiate(G, {Fn1: _taylor_fprime(RHO)})


@lru_cache(maxsize=None)
def _xstar_rho(order3_factor=1) -> tuple:
    """The gauge-``x_2 = 0`` expansion in ``rho`` (``f''(0)`` normalised to 1), as ring elements and expressions.

    ``order3_factor`` plants a wrong third order (negative control).
    """
    xs, G = _cycle_stationarity()
    R = PolyRing([*xs, *U, A, *RHO], QQ)
    g = dict(zip([*xs, *U, A, *RHO], R.gens))
    rows = [R.from_expr(sympy.expand(G[k])) for k in range(2)]
    # the implicit-function matrix at the uniform point (theory.family.ift_matrices), gauge x_2 = 0: columns 0, 1
    Aift, _ = family.ift_matrices(GENERIC, cyclic_P(), [THIRD] * 3, [0, 0, 0])
    Aift = instantiate(Aift, {Fn2: _taylor_fsecond(RHO)})
    Gx = Aift[:2, :2]
    Gx_inv = Gx.inv()
    iu = [R.gens.index(g[U[0]]), R.gens.index(g[U[1]])]

    def degree_part(p, n):
        return R.from_dict({m: c for m, c in p.items() if m[iu[0]] + m[iu[1]] == n}) if p else p

    Xs = [R.zero, R.zero]
    orders = []
    for n in (1, 2, 3):
        comp = [row.compose([(g[xs[0]], Xs[0]), (g[xs[1]], Xs[1])]) for row in rows]
        Rn = [degree_part(c, n) for c in comp]
        xn = [-(sum((R.from_expr(Gx_inv[i, j]) * Rn[j] for j in range(2)), R.zero)) for i in range(2)]
        if n == 3 and order3_factor != 1:
            xn = [R.from_expr(sympy.sympify(order3_factor)) * x for x in xn]
        orders.append(xn)
        Xs = [Xs[i] + xn[i] for i in range(2)]
    return R, g, orders, Gx, rows


@lru_cache(maxsize=None)
def _xstar_cached(loss_key: tuple, derivs: tuple) -> XStarExpansion:
    R, g, orders, _, _ = _xstar_rho()
    sub = ratios(derivs)
    out = []
    for xn in orders:
        v = [sympy.factor(sympy.expand(x.as_expr().subs(sub))) for x in xn] + [sympy.Integer(0)]
        mean = sum(v) / 3
        out.append(sympy.Matrix([sympy.factor(sympy.expand(vi - mean)) for vi in v]))
    return XStarExpansion(loss_key[0], tuple(out))


def xstar_expansion(loss="generic") -> XStarExpansion:
    """``x*(mu)`` at the uniform sampler to third order, for any smooth loss (exact; cached).

    >>> xs = xstar_expansion("dpo")
    >>> xs.orders[0].T
    Matrix([[4*a*(u_0 + 2*u_1), -4*a*(2*u_0 + u_1), 4*a*(u_0 - u_1)]])
    >>> xs.orders[1].T   # the logistic f''' vanishes at 0
    Matrix([[0, 0, 0]])
    """
    L_ = resolve_loss(loss)
    return _xstar_cached(_key(L_), loss_derivatives(L_))


def xstar_obligations(*, order3_factor=1) -> list[tuple[str, str, object]]:
    """The expansion of :func:`xstar_expansion` solves the stationarity to third order, for every smooth ``f``.

    * ``linear part``: the ``x``-linear part of ``G`` is the stated implicit-function matrix ``A`` of
      :func:`theory.family.ift_matrices` (generic ``f``), and the expansion starts with ``x1 = c_f S u`` (LOSS-3);
    * ``solves G to order 3``: ``G(x1 + x2 + x3; 1/3 + u)`` has no terms of degree ``<= 3`` in ``u`` (``G`` with ``f'``
      replaced by its Taylor polynomial of degree 3: the rest is ``O(|x|^4) = O(|u|^4)``);
    * ``homogeneity``: ``G`` is linear in ``(f'(0), .., f''''(0))``, so ``x*`` depends on ``f`` only through the
      ratios ``rho_k`` (the Taylor polynomial of ``f'`` with ``d_k`` is ``d_2`` times the one with ``rho_k``).

    Residuals must be 0; ``order3_factor`` plants a wrong third order.
    """
    R, g, orders, Gx, rows = _xstar_rho(order3_factor)
    xs, G = _cycle_stationarity()
    lin = sympy.Matrix(2, 2, lambda i, j: sympy.diff(G[i], xs[j]).subs({xs[0]: 0, xs[1]: 0, U[0]: 0, U[1]: 0}))
    tot = [sum((o[i] for o in orders), R.zero) for i in range(2)]
    iu = [R.gens.index(g[U[0]]), R.gens.index(g[U[1]])]
    low = []
    for row in rows:
        comp = row.compose([(g[xs[0]], tot[0]), (g[xs[1]], tot[1])])
        low.append(R.from_dict({m: c for m, c in comp.items() if m[iu[0]] + m[iu[1]] <= 3}).as_expr() if comp else sympy.Integer(0))
    cf = -2 * RHO[0]
    S = cyclic_P() - sympy.ones(3, 3) / 2
    x1_stated = cf * S * sympy.Matrix([U[0], U[1], -U[0] - U[1]])
    x1 = sympy.Matrix([orders[0][0].as_expr(), orders[0][1].as_expr(), 0])
    gauge = (x1_stated - x1_stated[2] * sympy.ones(3, 1)) - x1
    z = sympy.Dummy("z")
    d1, d2 = D1, D2
    with_d = sympy.expand(d1 + d2 * z + D3 * z**2 / 2 + D4 * z**3 / 6)
    with_rho = _taylor_fprime(RHO)(z).subs({RHO[0]: d1 / d2, RHO[1]: D3 / d2, RHO[2]: D4 / d2})
    return [
        ("linear part of G = ift_matrices' A (x_2 = 0)", "explicit", (lin - Gx).applyfunc(sympy.expand)),
        ("x1 = c_f S u (LOSS-3), in the gauge x_2 = 0", "explicit", gauge.applyfunc(sympy.expand)),
        ("G(x1 + x2 + x3; 1/3 + u) = O(|u|^4)", "explicit", low),
        ("f' Taylor polynomial with d_k = d_2 x the one with rho_k = d_k/d_2", "explicit", sympy.expand(with_d - d2 * with_rho)),
    ]


# =========================================================================== the map in the chart
@dataclass(frozen=True)
class CycleMap:
    """The MRS map of one loss in the chart: its Taylor polynomial ``F`` of degree 3 at ``l = 0`` and ``A, B, C``.

    Parameters ``alpha, a, lam, b`` (:data:`ALPHA`, :data:`A`, :data:`LAM`, :data:`B_SCALE`); ``xs`` = :data:`L`.
    """

    loss: str
    derivatives: tuple
    F: sympy.Matrix
    A: sympy.Matrix
    B: MultilinearForm
    C: MultilinearForm
    xs: tuple = L


@lru_cache(maxsize=None)
def _map_rho(exp_cubic=Rational(1, 6), order3_factor=1):
    """``F(l)`` in ``rho`` (ring elements over QQ[l, lam, a, rho]) without the ``alpha l`` and ``1/b`` factors."""
    R0, g0, orders, _, _ = _xstar_rho(order3_factor)
    R = PolyRing([*L, LAM, A, *RHO], QQ)
    g = dict(zip([*L, LAM, A, *RHO], R.gens))
    il = [0, 1]

    def trunc(p):
        return R.from_dict({m: c for m, c in p.items() if m[il[0]] + m[il[1]] <= 3}) if p else p

    l0, l1 = g[L[0]], g[L[1]]
    c3 = R.domain.convert(exp_cubic)
    e0 = R.one + l0 + l0**2 / 2 + c3 * l0**3
    e1 = R.one + l1 + l1**2 / 2 + c3 * l1**3
    delta = (e0 + e1 - 2) / 3                        # softmax denominator 1 + e0 + e1 = 3 (1 + delta)
    inv = trunc((R.one - delta + trunc(delta**2) - trunc(delta**3)) / 3)
    pi = [trunc(e0 * inv), trunc(e1 * inv)]
    u = [trunc(g[LAM] * (pi[k] - R.one / 3)) for k in range(2)]
    # x*(u) in the gauge x_2 = 0: components 0, 1 are the chart differences x_i - x_2
    out = []
    for i in range(2):
        total = R.zero
        for xn in orders:
            total += _compose(R, xn[i].as_expr(), g, u, trunc)
        out.append(trunc(total))
    return R, g, out


def _compose(R, expr, g, u, trunc):
    """``expr(u_0, u_1)`` (a polynomial in U with coefficients in a, rho) at the ring elements ``u``, truncated."""
    p = sympy.Poly(expr, *U)
    acc = R.zero
    for (m0, m1), coef in p.terms():
        term = R.from_expr(coef)
        for _ in range(m0):
            term = trunc(term * u[0])
        for _ in range(m1):
            term = trunc(term * u[1])
        acc += term
    return trunc(acc)


@lru_cache(maxsize=None)
def _cycle_map_cached(loss_name: str, derivs: tuple, exp_cubic, order3_factor) -> CycleMap:
    R, g, out = _map_rho(exp_cubic, order3_factor)
    sub = ratios(derivs) if derivs is not None else {}
    F = sympy.Matrix([ALPHA * L[i] + sympy.expand(out[i].as_expr().subs(sub)) / B_SCALE for i in range(2)])
    Amat, Bf, Cf = taylor_tensors(F, L, simplify=lambda e: sympy.factor(sympy.expand(e)))
    return CycleMap(loss_name, derivs, F, Amat, Bf, Cf)


def cycle_map(loss="generic", *, f_derivatives=None, exp_cubic=Rational(1, 6), order3_factor=1) -> CycleMap:
    """The MRS map of ``loss`` on the 3-cycle in the chart, to third order at the uniform point (exact, cached).

    ``f_derivatives`` overrides ``(f'(0), .., f''''(0))``; ``exp_cubic`` (true ``1/6``, the cubic coefficient of
    ``exp`` in the softmax) and ``order3_factor`` (true 1) plant wrong variants for negative controls.

    >>> cm = cycle_map("ipo")      # A = alpha I + (2 a lam / (3 b)) N,  N = [[-1, 2], [-2, 1]]
    >>> ((cm.A - ALPHA * sympy.eye(2)) * 3 * B_SCALE / (2 * A * LAM)).applyfunc(sympy.simplify)
    Matrix([
    [-1, 2],
    [-2, 1]])
    """
    L_ = resolve_loss(loss)
    derivs = tuple(sympy.sympify(v) for v in f_derivatives) if f_derivatives is not None else loss_derivatives(L_)
    return _cycle_map_cached(L_.name, derivs, sympy.sympify(exp_cubic), sympy.sympify(order3_factor))


def _gain(derivs) -> sympy.Expr:
    return sympy.cancel(-2 * sympy.sympify(derivs[0]) / sympy.sympify(derivs[1]))


def on_curve_tensors(cm: CycleMap):
    """``A, B, C`` of a :class:`CycleMap` on the threshold curve: ``b = c_f lam a / (sqrt(3) s)``, ``s = sin theta``.

    Then ``A = alpha I + (s/sqrt 3) N`` with ``N = [[-1, 2], [-2, 1]]`` (``N^2 = -3 I``): eigenvalues ``alpha ± i s``.
    """
    cf = _gain(cm.derivatives)
    on = {B_SCALE: cf * LAM * A / (sympy.sqrt(3) * S)}

    def tidy(e):
        return sympy.expand(sympy.cancel(e.subs(on)))

    return cm.A.applyfunc(tidy), cm.B.applyfunc(tidy), cm.C.applyfunc(tidy)


# =========================================================================== independent routes (IPO, DPO)
def _chart_pi():
    E = [sympy.exp(L[0]), sympy.exp(L[1]), sympy.Integer(1)]
    tot = sum(E)
    return [e / tot for e in E]


def _pi_taylor() -> list:
    """The Taylor polynomials of degree 3 of ``pi(l) = softmax(l_0, l_1, 0)`` at 0, by sympy's derivatives."""
    pis = _chart_pi()
    out = []
    for p in pis:
        acc = p.subs({L[0]: 0, L[1]: 0})
        for n in (1, 2, 3):
            for i in range(n, -1, -1):
                dk = p
                if i:
                    dk = sympy.diff(dk, L[0], i)
                if n - i:
                    dk = sympy.diff(dk, L[1], n - i)
                acc += sympy.cancel(dk.subs({L[0]: 0, L[1]: 0})) * L[0] ** i * L[1] ** (n - i) / (sympy.factorial(i) * sympy.factorial(n - i))
        out.append(sympy.expand(acc))
    return out


def _truncate_l(e: sympy.Expr, order: int = 3) -> sympy.Expr:
    p = sympy.Poly(sympy.expand(e), *L)
    return sum((c * L[0] ** m[0] * L[1] ** m[1] for m, c in p.terms() if sum(m) <= order), sympy.Integer(0))


@lru_cache(maxsize=None)
def ipo_direct_tensors(point: tuple | None = None):
    """``A, B, C`` of MRS-IPO in the chart by direct differentiation of the map of :mod:`theory.mrs_ipo`.

    :func:`theory.mrs_ipo.mrs_ipo_map` is ``softmax(z)`` with ``z`` = :func:`theory.mrs_ipo.logits` (``P = cyclic_P(a)``,
    ``pi_ref = pi0 = uniform``), so the chart map is ``z_0 - z_2``, ``z_1 - z_2`` at ``pi = softmax(l_0, l_1, 0)``
    (exact, with ``log``), differentiated three times at ``l = 0`` by sympy. Symbols renamed to this module's
    (``beta = 2/b``). ``point`` = ``((symbol, value), ...)`` substitutes parameters first.
    """
    pis = _chart_pi()
    z = mrs_ipo.logits(pis, cyclic_P(), [THIRD] * 3, [THIRD] * 3)
    z = z.subs({mrs_ipo.alpha: ALPHA, mrs_ipo.lam: LAM, mrs_ipo.beta: 2 / B_SCALE}, simultaneous=True)
    if point:
        z = z.subs(dict(point))
    chart = sympy.Matrix([z[0] - z[2], z[1] - z[2]])
    return taylor_tensors(chart, L, simplify=lambda e: sympy.factor(sympy.cancel(sympy.expand_log(e, force=True))))


@lru_cache(maxsize=None)
def dpo_direct_tensors(point: tuple | None = None):
    """``A, B, C`` of MRS-DPO in the chart by implicit differentiation of :func:`theory.dpo.stationarity`.

    Independent of :func:`xstar_expansion` and :func:`cycle_map`: the DPO stationarity
    ``G_k = sum_j mu_j (P_kj - sig(x_k - x_j))`` (:mod:`theory.dpo`'s sigmoid atom, ``x = beta_dpo r``) with ``sig``
    replaced by its Taylor polynomial of degree 3 computed from the atom's own derivative rule
    (``sig' = sig (1 - sig)``, ``sig(0) = 1/2``); ``mu = lam pi(l) + (1 - lam)/3`` with the Taylor polynomial of the
    exact ``pi(l) = softmax(l_0, l_1, 0)`` from sympy's derivatives; ``x_k(l) = sum_{1 <= |m| <= 3} c_{k,m} l^m``
    (``x_2 = 0``) solved order by order from ``[G_0]_n = [G_1]_n = 0`` (the derivatives of order ``n`` at ``l = 0``);
    then ``F(l) = alpha l + (x_0(l), x_1(l))/b`` (the chart map by definition). ``point`` substitutes parameters first.
    """
    sy = dpo_theory.dpo_symbols(3)
    pt = dict(point) if point else {}
    y = sympy.Symbol("y", real=True)
    sig_taylor = sum(sympy.diff(dpo_theory.sig(y), y, k).subs(y, 0) * y**k / sympy.factorial(k) for k in range(4))
    lam_v, a_v = pt.get(LAM, LAM), pt.get(A, A)
    # G in placeholders x_0, x_1 (x_2 = 0) and m_0, m_1, m_2 = mu, with sig -> its Taylor polynomial
    xph = sympy.symbols("xph_0 xph_1", real=True)
    mph = sympy.symbols("m_0 m_1 m_2", positive=True)
    G = dpo_theory.stationarity(sy, x=(xph[0], xph[1], sympy.Integer(0)), mu=mph, P=cyclic_P(a_v))
    G = [sympy.expand(G[k].replace(dpo_theory.sig, sympy.Lambda(y, sig_taylor))) for k in range(2)]
    mu = [sympy.expand(lam_v * p + (1 - lam_v) * THIRD) for p in _pi_taylor()]
    mons = {n: [(i, n - i) for i in range(n, -1, -1)] for n in (1, 2, 3)}
    cs = {(k, m): sympy.Symbol(f"c_{k}_{m[0]}{m[1]}") for n in (1, 2, 3) for k in range(2) for m in mons[n]}
    extra = sorted((set().union(*(g.free_symbols for g in G)) | set().union(*(m.free_symbols for m in mu)))
                   - set(xph) - set(mph) - set(L), key=sympy.default_sort_key)
    gens = [*L, *extra, *cs.values()]
    R = PolyRing(gens, QQ)
    g = dict(zip(gens, R.gens))

    def trunc(p, order):
        return R.from_dict({m: c for m, c in p.items() if m[0] + m[1] <= order}) if p else p

    mu_r = [R.from_expr(m) for m in mu]
    known = [R.zero, R.zero]
    sol = {}
    for n in (1, 2, 3):
        Xk = [known[k] + sum((g[cs[(k, m)]] * g[L[0]] ** m[0] * g[L[1]] ** m[1] for m in mons[n]), R.zero) for k in range(2)]
        vals = {xph[0]: Xk[0], xph[1]: Xk[1], **dict(zip(mph, mu_r))}
        eqs = []
        for k in range(2):
            Gk = _compose_ring(R, G[k], vals, lambda p: trunc(p, n))
            eqs += [_l_coeff(R, Gk, m) for m in mons[n]]
        unknowns = [cs[(k, m)] for k in range(2) for m in mons[n]]
        (solution,) = sympy.linsolve([e.as_expr() for e in eqs], unknowns)
        step = dict(zip(unknowns, solution))
        sol.update(step)
        known = [R.from_expr(sympy.expand(Xk[k].as_expr().subs(step))) for k in range(2)]
    alpha_v, b_v = pt.get(ALPHA, ALPHA), pt.get(B_SCALE, B_SCALE)
    F = sympy.Matrix([alpha_v * L[k] + known[k].as_expr() / b_v for k in range(2)])
    return taylor_tensors(F, L, simplify=lambda e: sympy.factor(sympy.expand(e)))


def _l_coeff(R, p, m):
    """The coefficient of ``l_0^m0 l_1^m1`` in ``p`` (the first two generators), as a ring element."""
    return R.from_dict({(0, 0) + mon[2:]: c for mon, c in p.items() if mon[0] == m[0] and mon[1] == m[1]}) if p else p


def _compose_ring(R, expr: sympy.Expr, vals: dict, trunc: Callable):
    """``expr`` (a polynomial in the keys of ``vals`` with coefficients in the ring's other generators) at the ring
    elements ``vals``, every product truncated by ``trunc``."""
    keys = list(vals)
    p = sympy.Poly(expr, *keys)
    acc = R.zero
    for mon, coef in p.terms():
        term = R.from_expr(coef)
        for key, k in zip(keys, mon):
            for _ in range(k):
                term = trunc(term * vals[key])
        acc += term
    return trunc(acc)


def _tensor_residual(t1, t2) -> list:
    A1, B1, C1 = t1
    A2, B2, C2 = t2
    return [sympy.expand(sympy.cancel(e)) for e in list((A1 - A2).applyfunc(sympy.expand)) + B1.minus(B2) + C1.minus(C2)]


def cross_check_obligations(*, point: dict | None = None, exp_cubic=Rational(1, 6), order3_factor=1,
                            dpo_derivatives=None) -> list[tuple[str, str, object]]:
    """The family route of :func:`cycle_map` against two independent routes (residuals: lists that must be 0).

    * ``IPO``: the tensors ``A, B, C`` of :func:`cycle_map` ``("ipo")`` minus those of :func:`ipo_direct_tensors`
      (direct differentiation of :func:`theory.mrs_ipo.mrs_ipo_map`, ``beta = 2/b``) — symbolic in
      ``alpha, a, lam, b`` unless ``point`` is given;
    * ``DPO``: the tensors of :func:`cycle_map` ``("dpo")`` minus those of :func:`dpo_direct_tensors` (implicit
      differentiation of :func:`theory.dpo.stationarity`, the sigmoid form) — at ``point`` when given.

    ``exp_cubic``, ``order3_factor`` and ``dpo_derivatives`` plant wrong variants in the family route.
    """
    pt = tuple(sorted((point or {}).items(), key=lambda kv: str(kv[0])))

    def fam(name, derivs=None):
        cm = cycle_map(name, f_derivatives=derivs, exp_cubic=exp_cubic, order3_factor=order3_factor)
        if not pt:
            return cm.A, cm.B, cm.C
        sub = dict(pt)
        return (cm.A.subs(sub), cm.B.applyfunc(lambda e: e.subs(sub)), cm.C.applyfunc(lambda e: e.subs(sub)))

    return [
        ("IPO: family route = direct differentiation of theory.mrs_ipo (logits; mrs_ipo_map = softmax(logits))", "reduction",
         _tensor_residual(fam("ipo"), ipo_direct_tensors(pt or None))),
        ("DPO: family route = implicit differentiation of theory.dpo.stationarity", "reduction",
         _tensor_residual(fam("dpo", dpo_derivatives), dpo_direct_tensors(pt or None))),
    ]


# =========================================================================== the normal form on the curve
@dataclass(frozen=True)
class Resonance:
    """A strong resonance ``e^{i k theta} = 1`` and where it sits on the curve."""

    name: str
    where: str
    why: str


RESONANCES: tuple[Resonance, ...] = (
    Resonance("1:4", "alpha = 0 (theta = pi/2, eigenvalues ±i)",
              "e^{4 i theta} = 1: the normal form keeps the resonant term conj(w)^3, of the same order as c1 w|w|^2, "
              "so the sign of d alone does not decide; alpha = 0 is the end of the curve, outside alpha in (0, 1)"),
    Resonance("1:1", "alpha -> 1 (theta -> 0, s = sin theta -> 0)",
              "e^{i theta} -> 1: I - A becomes singular and the pair merges into a double eigenvalue 1 (not a "
              "Neimark–Sacker point); d -> 0 like 1 - alpha^2"),
    Resonance("1:2", "nowhere on the curve", "theta = pi would need alpha = cos theta = -1"),
    Resonance("1:3", "nowhere on the curve",
              "theta = 2 pi/3 would need alpha = -1/2 < 0; e^{2 i theta} I - A is singular exactly there (the factor "
              "2 alpha + 1 in the denominator of c1)"),
)


@dataclass(frozen=True)
class CycleNormalForm:
    """The Neimark–Sacker data of one loss's MRS map at the uniform point of the 3-cycle, along its threshold curve.

    ``d`` is exact in ``alpha`` (= cos theta), ``a`` and ``lam`` with ``b`` eliminated by the curve; ``enters`` says
    which combinations of the parameters enter. ``value(alpha=, a=, lam=)`` evaluates it exactly;
    ``b_at``/``scale_at`` give the point of the curve (the loss's ``b`` and its own scale parameter).
    """

    loss: str
    title: str
    params: tuple
    derivatives: tuple
    gain: sympy.Expr
    curve: str
    omega: sympy.Expr
    b_on_curve: sympy.Expr
    theta: sympy.Expr
    eigenvalue: sympy.Expr
    q: sympy.Matrix
    p: sympy.Matrix
    c1: sympy.Expr
    d: sympy.Expr
    Q: sympy.Expr
    enters: str
    chart: str = CHART
    normalisation: str = NORMALISATION
    resonances: tuple = RESONANCES
    scale_name: str = "b"
    b_expr: sympy.Expr = field(default=None, compare=False)

    def _sub(self, alpha, a, lam) -> dict:
        vals = {ALPHA: _exact(alpha, "alpha"), A: _exact(a, "a"), LAM: _exact(lam, "lam")}
        al = vals[ALPHA]
        if al.is_number and not (0 <= al < 1):
            raise ValueError(f"alpha = {al}: the curve has alpha in [0, 1)")
        vals[S] = sympy.sqrt(1 - al**2)
        return vals

    def value(self, alpha, a, lam) -> sympy.Expr:
        """``d`` at a point of the curve, exactly (sympy numbers in, a sympy number out)."""
        return sympy.radsimp(sympy.expand(self.d.subs(self._sub(alpha, a, lam), simultaneous=True)))

    def b_at(self, alpha, a, lam) -> sympy.Expr:
        """``b`` on the curve: ``c_f lam a / sqrt(3 (1 - alpha^2))``."""
        return sympy.radsimp(self.b_on_curve.subs(self._sub(alpha, a, lam), simultaneous=True))

    def scale_at(self, alpha, a, lam) -> sympy.Expr:
        """The loss's own scale parameter on the curve (IPO: ``beta = 2/b``; DPO: ``beta_dpo = b``)."""
        from .losses import SCALE
        b = self.b_at(alpha, a, lam)
        if self.b_expr is None:
            return b
        sol = sympy.solve(sympy.Eq(self.b_expr, b), SCALE)
        return sympy.radsimp(sol[0])

    def latex(self) -> str:
        """LaTeX of ``d`` in the project's notation."""
        from .latex import render
        return render(sympy.Eq(sympy.Symbol("d"), self.d))


def _exact(v, name: str) -> sympy.Expr:
    if isinstance(v, float):
        raise ValueError(f"{name} = {v!r}: give an exact number (int, Fraction, sympy Rational or a string such as '1/2')")
    e = sympy.Rational(v) if isinstance(v, str) else sympy.sympify(v)
    if isinstance(e, sympy.Float):
        raise ValueError(f"{name} = {v!r}: give an exact number, not a float")
    return e


#: The eigenvector of ``A = alpha I + (s/sqrt 3) N`` for ``alpha + i s`` on the curve, ``<q, q> = 1`` (every loss).
Q_CHART = sympy.Matrix([2, 1 + sympy.I * sympy.sqrt(3)]) / (2 * sympy.sqrt(2))


def _rho_map(exp_cubic=Rational(1, 6), order3_factor=1) -> CycleMap:
    return _cycle_map_cached("rho", (RHO[0], sympy.Integer(1), RHO[1], RHO[2]), exp_cubic, order3_factor)


@lru_cache(maxsize=None)
def _generic_nf(term_factors=(1, 2, 1), half=Rational(1, 2), exp_cubic=Rational(1, 6), order3_factor=1) -> NSCoefficient:
    """The normal form for the symbolic ratios ``rho`` (``f''(0) = 1``): one derivation for every smooth loss.

    ``q`` = :data:`Q_CHART` (it does not depend on ``alpha``, ``s`` or the loss; :func:`symmetry_obligations`).
    """
    Ac, Bc, Cc = on_curve_tensors(_rho_map(exp_cubic, order3_factor))
    return first_lyapunov(Ac, Bc, Cc, ALPHA, S, q=list(Q_CHART), term_factors=term_factors, half=half)


def symmetry_obligations() -> list[tuple[str, str, object]]:
    """The structure on the curve that every loss shares (residuals must be 0).

    * ``A = alpha I + (s/sqrt 3) N``, ``N = [[-1, 2], [-2, 1]]``, and ``A q = (alpha + i s) q``, ``<q, q> = 1`` for
      :data:`Q_CHART`;
    * ``B(q, conj q) = 0``: the map commutes with the cyclic relabelling of the responses (``P_cyc`` is circulant), a
      rotation of order 3 in the eigen-coordinate ``z``, so the reduced map has no ``z conj(z)`` (and no ``z^2``) term.
      Hence the term ``2 B(q, (I - A)^{-1} B(q, conj q))`` of the formula vanishes here, and a wrong factor on it is
      not visible on these maps (it is on the models of :func:`theory.normal_form.formula_obligations`).
    """
    Ac, Bc, _ = on_curve_tensors(_rho_map())
    N = sympy.Matrix([[-1, 2], [-2, 1]])
    lam = ALPHA + sympy.I * S
    q = Q_CHART
    qb = q.applyfunc(sympy.conjugate)
    tidy = lambda e: sympy.expand(sympy.radsimp(sympy.expand(e)))  # noqa: E731
    return [
        ("A = alpha I + (s/sqrt 3) N on the curve", "explicit", (Ac - ALPHA * sympy.eye(2) - S / sympy.sqrt(3) * N).applyfunc(tidy)),
        ("A q = (alpha + i s) q", "explicit", (Ac * q - lam * q).applyfunc(tidy)),
        ("<q, q> = 1", "explicit", tidy((qb.T * q)[0] - 1)),
        ("B(q, conj q) = 0 (Z3 symmetry)", "explicit", Bc(q, qb).applyfunc(tidy)),
    ]


def _enters(d: sympy.Expr) -> str:
    free = d.free_symbols
    if free <= {ALPHA}:
        return "only alpha (a, lam and b enter through the curve alone)"
    Qs = sympy.factor(sympy.cancel(d / (1 - ALPHA**2)))
    if not Qs.has(ALPHA):
        w = sympy.Symbol("w", positive=True)
        try_w = sympy.simplify(Qs.subs(LAM, w / A))
        if A in free and LAM in free and not try_w.has(A):
            return "alpha and the product lam a (d = (1 - alpha^2) Q(lam a)/24; b is then fixed by the curve)"
        return "alpha, and a and lam separately (d = (1 - alpha^2) Q(a, lam)/24; b is then fixed by the curve)"
    return "alpha, a and lam (not in a product form)"


@lru_cache(maxsize=None)
def _cycle_nf_cached(name: str, title: str, derivs: tuple, b_expr, scale_name: str, hooks: tuple) -> CycleNormalForm:
    term_factors, half, exp_cubic, order3_factor = hooks
    gen = _generic_nf(term_factors, half, exp_cubic, order3_factor)
    sub = ratios(derivs)

    def inst(e):
        return sympy.factor(sympy.cancel(sympy.sympify(e).subs(sub)))

    d_raw = inst(gen.d)
    c1 = sympy.expand(gen.c1.subs(sub))
    cf = _gain(derivs)
    Q = sympy.factor(sympy.cancel(d_raw * 24 / (1 - ALPHA**2)))
    d = (1 - ALPHA**2) * Q / 24 if not Q.has(ALPHA) else d_raw
    omega = cf * LAM * A / (B_SCALE * sympy.sqrt(3))
    return CycleNormalForm(
        loss=name, title=title, params=(ALPHA, A, LAM), derivatives=derivs, gain=cf,
        curve=f"alpha^2 + omega^2 = 1, omega = c_f lam a/(b sqrt 3) = sin(theta), c_f = {sympy.sstr(cf)}",
        omega=omega, b_on_curve=cf * LAM * A / sympy.sqrt(3 * (1 - ALPHA**2)), theta=sympy.acos(ALPHA),
        eigenvalue=ALPHA + sympy.I * S, q=gen.q, p=gen.p.applyfunc(lambda e: sympy.simplify(sympy.radsimp(e))),
        c1=sympy.factor(sympy.together(c1), sympy.I), d=d, Q=Q, enters=_enters(d),
        scale_name=scale_name, b_expr=b_expr,
    )


def cycle_normal_form(loss="ipo", *, term_factors=(1, 2, 1), half=Rational(1, 2), f_derivatives=None,
                      exp_cubic=Rational(1, 6), order3_factor=1) -> CycleNormalForm:
    """The first Lyapunov coefficient of the MRS map of ``loss`` along its threshold curve (exact, cached).

    ``loss``: a :class:`theory.losses.PairLoss`, a built-in name (``"ipo"``, ``"dpo"``, ``"exp"``, ``"tq"``),
    ``"generic"`` (``f`` arbitrary: ``d_1 .. d_4`` symbols) or an expression in ``x``. Free parameters on the curve:
    ``alpha in (0, 1)``, ``a in (0, 1/2]``, ``lam in (0, 1]`` (``b = c_f lam a / sqrt(3 (1 - alpha^2))``). Which
    combinations enter is in ``enters``: IPO only ``alpha``; DPO ``alpha`` and ``lam a``; the exponential loss
    ``alpha``, ``lam a`` and ``a``. ``s = sin(theta)`` appears only in ``q``, ``p``, ``c1``.

    Planted wrong variants (negative controls): ``term_factors``/``half`` of the formula
    (:func:`theory.normal_form.first_lyapunov`), ``f_derivatives`` (e.g. a wrong ``f'''(0)``), ``exp_cubic`` and
    ``order3_factor`` (:func:`cycle_map`).

    >>> cycle_normal_form("dpo").d
    (1 - alpha**2)*(16*a**2*lam**2 - 3)/24
    """
    L_ = resolve_loss(loss)
    derivs = tuple(sympy.sympify(v) for v in f_derivatives) if f_derivatives is not None else loss_derivatives(L_)
    b_expr = None if L_.name in ("generic", "user") else L_.b_expr
    hooks = (tuple(sympy.sympify(t) for t in term_factors), sympy.sympify(half), sympy.sympify(exp_cubic), sympy.sympify(order3_factor))
    return _cycle_nf_cached(L_.name, L_.title or L_.name, derivs, b_expr, L_.scale_name, hooks)


# =========================================================================== stated closed forms and the sign
def stated_d(derivs) -> sympy.Expr:
    """The stated closed form ``(1 - alpha^2)/24 * (2 c_f lam^2 a^2 (2 c_f a^2 rho_3^2 - 4 rho_3 - c_f rho_4) - 3)``."""
    f1, f2, f3, f4 = (sympy.sympify(v) for v in derivs)
    cf = -2 * f1 / f2
    r3, r4 = f3 / f2, f4 / f2
    return (1 - ALPHA**2) / 24 * (2 * cf * LAM**2 * A**2 * (2 * cf * A**2 * r3**2 - 4 * r3 - cf * r4) - 3)


#: The stated closed form for every smooth ``f`` (``d_1 .. d_4`` = ``f'(0) .. f''''(0)``).
STATED_D = stated_d((D1, D2, D3, D4))

#: The closed forms of the built-ins, written out (the tests compare them with the derivation).
CLOSED_FORMS = {
    "ipo": -(1 - ALPHA**2) / 8,
    "tq": -(1 - ALPHA**2) / 8,
    "dpo": (1 - ALPHA**2) * (16 * LAM**2 * A**2 - 3) / 24,
    "exp": (1 - ALPHA**2) * (8 * LAM**2 * A**2 * (1 + 2 * A**2) - 3) / 24,
}


@dataclass(frozen=True)
class SignVerdict:
    """The sign of ``d`` over ``alpha in (0, 1)``, ``a in (0, 1/2]``, ``lam in (0, 1]`` and its proof.

    ``verdict`` is one of ``supercritical`` (d < 0 everywhere), ``supercritical except at a corner`` (d < 0 except
    where it vanishes), ``changes sign`` (then ``surface`` is the exact set ``d = 0`` inside the box and
    ``subcritical_where`` the region ``d > 0``), ``subcritical`` (d > 0 everywhere) or ``undecided`` (symbolic
    constants whose sign is not known). ``steps`` are the obligations of :func:`sign_obligations`.
    """

    loss: str
    d: sympy.Expr
    Q: sympy.Expr
    K0: sympy.Expr
    K1: sympy.Expr
    Q_corner: sympy.Expr
    verdict: str
    surface: str
    subcritical_where: str
    steps: tuple


def _K(derivs):
    f1, f2, f3, f4 = (sympy.sympify(v) for v in derivs)
    cf = -2 * f1 / f2
    r3, r4 = f3 / f2, f4 / f2
    return sympy.factor(-2 * cf * (4 * r3 + cf * r4)), sympy.factor(4 * cf**2 * r3**2)


def _interval_sign_residual(poly: sympy.Expr, var: sympy.Symbol, lo, hi) -> sympy.Expr:
    """0 when ``poly > 0`` on the open interval ``(lo, hi)``, exactly (real roots of ``poly`` inside, and a sample point).

    Otherwise the number of real roots inside plus 1 if the sample at the midpoint is not positive (never 0).
    """
    p = sympy.Poly(sympy.expand(poly), var)
    inside = [r for r in sympy.real_roots(p) if lo < r < hi]
    mid = (sympy.sympify(lo) + sympy.sympify(hi)) / 2
    bad = len(inside) + (0 if p.eval(mid) > 0 else 1)
    return sympy.Integer(bad)


def sign_obligations(loss="ipo", **hooks) -> list[tuple[str, str, object]]:
    """The proof of the sign of ``d`` as obligations ``(name, kind, residual)``; every residual must be exactly 0.

    1. ``identity``: the derived ``d`` equals the stated closed form :func:`stated_d` (and :data:`CLOSED_FORMS` for the
       built-ins); planted variants (``hooks`` as in :func:`cycle_normal_form`) make this residual non-zero.
    2. ``identity``: ``d = (1 - alpha^2) Q / 24`` with ``Q = -3 + w (K0 + K1 a^2)``, ``w = lam^2 a^2``.
    3. ``interval``: ``1 - alpha^2 > 0`` on ``(0, 1)`` (real roots counted exactly, :func:`sympy.real_roots`).
    4. ``positive``: ``K1 = 4 c_f^2 rho_3^2 >= 0``. With 2., ``Q`` is affine in ``w in (0, a^2]`` for fixed ``a`` and,
       at ``lam = 1``, convex in ``t = a^2 in (0, 1/4]``; so ``sup Q = max(-3, Q(a = 1/2, lam = 1))`` over the box, and
       where ``Q(1/2, 1) = 0`` the maximum is attained only at that corner.
    5. the verdict's own step: ``Q(1/2, 1) < 0`` (supercritical), ``= 0`` (zero only at the corner), or ``> 0`` with
       the surface ``lam^2 a^2 (K0 + K1 a^2) = 3``.
    """
    nf = cycle_normal_form(loss, **hooks)
    L_ = resolve_loss(loss)
    stated = stated_d(loss_derivatives(L_))
    K0, K1 = _K(loss_derivatives(L_))
    w = LAM**2 * A**2
    Qs = -3 + w * (K0 + K1 * A**2)
    obs = [("derived d = stated closed form", "identity", sympy.expand(sympy.cancel(nf.d - stated)))]
    if L_.name in CLOSED_FORMS:
        obs.append((f"stated closed form = CLOSED_FORMS[{L_.name!r}]", "identity", sympy.expand(stated - CLOSED_FORMS[L_.name])))
    obs.append(("d = (1 - alpha^2) Q/24, Q = -3 + lam^2 a^2 (K0 + K1 a^2)", "identity",
                sympy.expand(sympy.cancel(stated - (1 - ALPHA**2) * Qs / 24))))
    obs.append(("1 - alpha^2 > 0 for alpha in (0, 1)", "interval", _interval_sign_residual(1 - ALPHA**2, ALPHA, 0, 1)))
    k1_ok = sympy.Integer(0) if (K1.is_nonnegative is True) else sympy.Symbol(f"unproved: {sympy.sstr(K1)} >= 0")
    obs.append(("K1 = 4 c_f^2 rho_3^2 >= 0 (Q convex in a^2 at lam = 1)", "positive", k1_ok))
    Qc = sympy.simplify(Qs.subs({A: Rational(1, 2), LAM: 1}))
    if Qc.is_negative:
        obs.append(("Q(a = 1/2, lam = 1) < 0: d < 0 on the whole box", "positive", sympy.Integer(0)))
    elif Qc.is_zero:
        obs.append(("Q(a = 1/2, lam = 1) = 0: d < 0 except at the corner a = 1/2, lam = 1", "identity", Qc))
    elif Qc.is_positive:
        obs.append(("Q(a = 1/2, lam = 1) > 0: d changes sign on lam^2 a^2 (K0 + K1 a^2) = 3", "positive", sympy.Integer(0)))
        obs.append(("Q vanishes on the stated surface", "identity",
                    sympy.expand(sympy.cancel(Qs.subs(LAM, sympy.sqrt(3 / (A**2 * (K0 + K1 * A**2))))))))
    else:
        obs.append(("sign of Q(a = 1/2, lam = 1) decided", "positive", sympy.Symbol(f"undecided: sign of {sympy.sstr(Qc)}")))
    return obs


def sign_verdict(loss="ipo") -> SignVerdict:
    """The sign of ``d`` over the whole curve and box, with its proof (:func:`sign_obligations`).

    >>> v = sign_verdict("dpo")
    >>> v.verdict, v.surface
    ('changes sign', 'lam a = sqrt(3)/4')
    """
    L_ = resolve_loss(loss)
    nf = cycle_normal_form(L_)
    steps = tuple(sign_obligations(L_))
    K0, K1 = _K(loss_derivatives(L_))
    Qc = sympy.simplify((-3 + LAM**2 * A**2 * (K0 + K1 * A**2)).subs({A: Rational(1, 2), LAM: 1}))
    proved = all(family.is_zero(r) for _, _, r in steps)
    surface, where = "", ""
    region = f"lam^2 a^2 ({sympy.sstr(K0)} + {sympy.sstr(K1)} a^2) > 3"
    if not proved:
        verdict = "undecided"
        surface = (f"d < 0 on the whole box iff Q(a = 1/2, lam = 1) = {sympy.sstr(Qc)} < 0; otherwise d > 0 exactly where "
                   f"{region} (for each a with K0 + K1 a^2 > 0: lam > sqrt(3/(a^2 (K0 + K1 a^2))))")
    elif Qc.is_negative:
        verdict = "supercritical"
    elif Qc.is_zero:
        verdict = "supercritical except at a corner"
        surface = "d = 0 only at a = 1/2, lam = 1 (for every alpha): a degenerate Neimark–Sacker point"
    else:
        verdict = "changes sign"
        if K1 == 0:
            lam_a = sympy.radsimp(sympy.sqrt(sympy.Rational(3) / K0))
            surface = f"lam a = {sympy.sstr(lam_a)}"
            where = f"lam a > {sympy.sstr(lam_a)} (subcritical); lam a < {sympy.sstr(lam_a)} supercritical"
        else:
            surface = f"lam^2 a^2 ({sympy.sstr(K0)} + {sympy.sstr(K1)} a^2) = 3"
            where = f"{region}: for each a with K0 + K1 a^2 > 0, lam > sqrt(3/(a^2 (K0 + K1 a^2)))"
    return SignVerdict(L_.name, nf.d, nf.Q, K0, K1, Qc, verdict, surface, where, steps)


def exact_sign(value) -> int:
    """The sign of an exact real number built from rationals and square roots of rationals (no floats, no evalf).

    ``e = e0 + e1 sqrt(k)`` (``e0``, ``e1`` free of that root): same signs decide; otherwise
    ``sign(e) = sign(e0) * sign(e0^2 - k e1^2)``; recursively over the roots. A quotient is split into numerator and
    denominator. Anything else (``pi``, ``log 2``, ...) raises ``ValueError``.

    >>> exact_sign(sympy.sqrt(2) - sympy.Rational(141, 100)), exact_sign(sympy.sqrt(3) - sympy.sqrt(2) - sympy.Rational(318, 1000))
    (1, -1)
    """
    e = sympy.sympify(value)
    if e.free_symbols:
        raise ValueError(f"{e} is not a number")
    num, den = sympy.fraction(sympy.together(e))
    return _sign_poly(sympy.expand(num)) * _sign_poly(sympy.expand(den))


def _sign_poly(e: sympy.Expr) -> int:
    if e.is_Rational:
        return int(sympy.sign(e))
    roots = sorted({pw for pw in e.atoms(sympy.Pow) if pw.base.is_Rational and pw.base > 0 and pw.exp == Rational(1, 2)},
                   key=sympy.default_sort_key)
    if not roots:
        raise ValueError(f"cannot decide the sign of {e} exactly (only rationals and square roots of rationals)")
    r = roots[0]
    k = r.base
    t = sympy.Dummy("t")
    p = sympy.expand(e.xreplace({r: t}))
    poly = sympy.Poly(p, t)
    rem = poly.rem(sympy.Poly(t**2 - k, t))
    e0 = rem.coeff_monomial(1)
    e1 = rem.coeff_monomial(t)
    s0, s1 = _sign_poly(sympy.expand(e0)), _sign_poly(sympy.expand(e1))
    if s1 == 0:
        return s0
    if s0 == 0 or s0 == s1:
        return s1 if s0 == 0 else s0
    return s0 * _sign_poly(sympy.expand(e0**2 - k * e1**2))


def sign_at(loss, alpha, a, lam, **hooks) -> int:
    """The exact sign of ``d`` at a rational point ``(alpha, a, lam)`` of the curve (-1, 0 or 1).

    Exact: ``d`` is evaluated with sympy's exact arithmetic and its sign decided by :func:`exact_sign`.
    """
    nf = cycle_normal_form(loss, **hooks)
    return exact_sign(nf.value(alpha=alpha, a=a, lam=lam))


# =========================================================================== LaTeX sections (the claims reference, reports)
def sections(*names: str) -> list:
    """LaTeX sections (``theory.latex.Section``) of DYN-7: ``closed_forms`` (the coefficient on the curves) and
    ``formula`` (the coefficient of a map); all when no name is given."""
    from .latex import Equation, Section

    table = {
        "closed_forms": Section(
            "DYN-7: first Lyapunov coefficient on the threshold curves of the 3-cycle",
            "Chart l_i = log(pi_i/pi_2); <q, q> = 1, <p, q> = 1; b eliminated by the curve alpha^2 + omega^2 = 1.",
            [
                ("MRS-IPO (DYN-1 curve)", Equation(r"d_{\mathrm{IPO}}", CLOSED_FORMS["ipo"])),
                ("MRS-DPO (DPO-4 curve)", Equation(r"d_{\mathrm{DPO}}", CLOSED_FORMS["dpo"])),
                ("exponential loss", Equation(r"d_{\exp}", CLOSED_FORMS["exp"])),
                ("every smooth f (d_k = f^(k)(0))", Equation("d", STATED_D)),
            ],
        ),
        "formula": Section(
            "The first Lyapunov coefficient of a map",
            "Kuznetsov's formula; A q = e^{i theta} q, A^T p = e^{-i theta} p.",
            [("c1", r"c_1 = \tfrac12\langle p,\ C(q,q,\bar q) + 2B(q,(I-A)^{-1}B(q,\bar q)) + B(\bar q,(e^{2i\theta}I-A)^{-1}B(q,q))\rangle"),
             ("d", r"d = \operatorname{Re}\bigl(e^{-i\theta} c_1\bigr)")],
        ),
    }
    keys = names or tuple(table)
    return [table[k] for k in keys]
