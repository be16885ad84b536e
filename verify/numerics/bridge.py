r"""The one bridge from exact sympy expressions to numbers (mpmath and numpy).

``theory/`` never imports numpy or mpmath; ``verify/`` turns exact results into
numbers only through the functions here: exact scalars and matrices into mpmath
(:func:`mpf`, :func:`mp_vector`, :func:`mp_matrix`), expressions into mpmath
callables (:func:`lambdify_mp`, :func:`evalf_mp`), and a loss's ``f``, ``f'``,
``f''`` into mpmath *and* numpy callables (:func:`loss_functions`). No other module
hard-codes a loss or its derivatives: the logistic ``1/(1 + e^{-u})`` exists once,
as :class:`expit` (a sympy function with its mpmath and numpy implementations).

**How a loss is compiled** (:func:`loss_functions`, cached per ``f``):

1. *Stable form.* ``log(c + exp(u))`` (``c > 0`` a number) is rewritten
   ``log(c) + softplus(u - log c)``, where :class:`softplus` and :class:`expit` are
   sympy functions whose derivatives are known to sympy
   (``softplus' = expit``, ``expit'(u) = expit(u) expit(-u)``). Their numeric
   implementations never overflow and keep relative accuracy in both tails
   (``softplus(u) = u + log1p(e^{-u})`` for ``u > 0``, ``log1p(e^u)`` otherwise;
   ``expit`` through ``e^{-|u|}``), so DPO's ``f'(x) = -expit(-x)`` is right to the
   last digit at ``|x|`` in the hundreds, in mpmath and in float64.
2. *Derivatives.* ``f'`` and ``f''`` are sympy derivatives of the stable form. They are
   checked against the loss's own ``PairLoss.fp`` / ``PairLoss.fpp`` at five points away
   from the kinks (30 digits), and the numpy callables against the mpmath ones.
3. *Kinks* (``Max``, ``Min``, ``Heaviside``): the convention is the **right derivative**:
   at a kink ``k``, ``f'(k) = lim_{t -> 0+} f'(k + t)`` and ``f''(k) = lim_{t -> 0+} f''(k + t)``.
   ``Heaviside(u)`` becomes ``1`` for ``u > 0``, ``0`` for ``u < 0`` and, at ``u = 0``,
   its limit from the right in ``x`` (``1`` if ``u`` increases with ``x``, else ``0``);
   ``DiracDelta`` terms (the jumps of ``f'``) are dropped: ``f''`` is the density of the
   absolutely continuous part. ``Max``/``Min`` become ``Piecewise`` (numpy: ``select``).

>>> from theory.losses import BUILTIN
>>> fn = loss_functions(BUILTIN["dpo"])
>>> with workdps(30):
...     print(mpmath.nstr(fn.fp(mpmath.mpf(-800)), 10), mpmath.nstr(fn.fp(mpmath.mpf(800)), 10))
-1.0 -3.667874584e-348
>>> import numpy as np
>>> [float(v) for v in fn.fp_np(np.array([-800.0, 0.0, 800.0]))]
[-1.0, -0.5, 0.0]
>>> hinge = loss_functions(BUILTIN["slic"])
>>> [hinge.fp(mpmath.mpf(v)) for v in ("0.5", "1", "2")]      # right derivative at the kink x = 1
[mpf('-1.0'), mpf('0.0'), mpf('0.0')]
>>> hinge.piecewise_linear, loss_functions(BUILTIN["ipo"]).quadratic
(True, (1, -2, 1))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any, Callable, Sequence

import mpmath
import numpy as np
import sympy

from theory.family import recession_slopes
from verify.numerics.precision import workdps

__all__ = [
    "mpf",
    "mp_vector",
    "mp_matrix",
    "lambdify_mp",
    "evalf_mp",
    "to_rational",
    "workdps",
    "expit",
    "softplus",
    "expit_mp",
    "softplus_mp",
    "expit_np",
    "softplus_np",
    "LossFunctions",
    "CompileError",
    "loss_functions",
    "b_mp",
]


def mpf(x: Any) -> mpmath.mpf:
    """An exact value (Fraction, int, sympy Rational, decimal string) as an mpf at the current precision."""
    if isinstance(x, Fraction):
        return mpmath.mpf(x.numerator) / x.denominator
    if isinstance(x, sympy.Rational):
        return mpmath.mpf(int(x.p)) / int(x.q)
    if isinstance(x, sympy.Basic):
        return mpmath.mpf(sympy.N(x, mpmath.mp.dps + 5).__str__())
    return mpmath.mpmathify(x)


def mp_vector(v: Sequence[Any]) -> list[mpmath.mpf]:
    """A list of mpf from exact entries."""
    return [mpf(x) for x in v]


def mp_matrix(rows: Sequence[Sequence[Any]]) -> mpmath.matrix:
    """An ``mpmath.matrix`` from exact rows."""
    return mpmath.matrix([[mpf(x) for x in r] for r in rows])


def lambdify_mp(args: Sequence[Any], expr: Any):
    """``sympy.lambdify`` with the mpmath module (evaluates at the current precision)."""
    return sympy.lambdify(args, expr, modules="mpmath")


def evalf_mp(expr: Any, subs: dict | None = None, dps: int | None = None) -> mpmath.mpf:
    """Evaluate an exact expression at ``dps`` digits (default: current) as an mpf."""
    d = dps or mpmath.mp.dps
    val = sympy.sympify(expr).evalf(d + 5, subs=subs or {})
    with workdps(d):
        return mpmath.mpf(str(val))


def to_rational(x: Any) -> sympy.Rational:
    """An exact value (Fraction, int, string) as a sympy Rational."""
    if isinstance(x, Fraction):
        return sympy.Rational(x.numerator, x.denominator)
    return sympy.Rational(x)


def b_mp(loss) -> mpmath.mpf:
    """The multiplier ``b`` of a :class:`~theory.losses.PairLoss` at its scale, as an mpf (current precision)."""
    return mpf(loss.b)


# ----------------------------------------------------------------------------- the logistic, once


class expit(sympy.Function):
    """``expit(u) = 1/(1 + e^{-u})`` (the logistic function) as a sympy function."""

    def fdiff(self, argindex=1):
        u = self.args[0]
        return expit(u) * expit(-u)

    def _eval_rewrite_as_exp(self, u, **kwargs):
        return 1 / (1 + sympy.exp(-u))


class softplus(sympy.Function):
    """``softplus(u) = log(1 + e^u)`` as a sympy function (derivative :class:`expit`)."""

    def fdiff(self, argindex=1):
        return expit(self.args[0])

    def _eval_rewrite_as_exp(self, u, **kwargs):
        return sympy.log(1 + sympy.exp(u))


def expit_mp(u):
    """``1/(1 + e^{-u})`` in mpmath, with relative accuracy in both tails."""
    u = mpmath.mpmathify(u)
    if u >= 0:
        return 1 / (1 + mpmath.exp(-u))
    e = mpmath.exp(u)
    return e / (1 + e)


def softplus_mp(u):
    """``log(1 + e^u)`` in mpmath, with relative accuracy in both tails."""
    u = mpmath.mpmathify(u)
    if u > 0:
        return u + mpmath.log1p(mpmath.exp(-u))
    return mpmath.log1p(mpmath.exp(u))


def expit_np(u):
    """``1/(1 + e^{-u})`` in float64 without overflow (``e^{-|u|}`` only)."""
    u = np.asarray(u, dtype=float)
    e = np.exp(-np.abs(u))
    return np.where(u >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softplus_np(u):
    """``log(1 + e^u)`` in float64 without overflow."""
    return np.logaddexp(0.0, np.asarray(u, dtype=float))


_MP_NAMESPACE = {"expit": expit_mp, "softplus": softplus_mp}
_NP_NAMESPACE = {"expit": expit_np, "softplus": softplus_np}


# ----------------------------------------------------------------------------- compiling a loss

_X = sympy.Symbol("x", real=True)


def _stable(f: sympy.Expr) -> sympy.Expr:
    """``log(c + exp(u))`` -> ``log(c) + softplus(u - log c)`` for numbers ``c > 0``."""

    def match(node):
        if not isinstance(node, sympy.log) or not node.args[0].is_Add or len(node.args[0].args) != 2:
            return False
        a, e = node.args[0].args
        if isinstance(a, sympy.exp):
            a, e = e, a
        return isinstance(e, sympy.exp) and a.is_number and a.is_positive

    def repl(node):
        a, e = node.args[0].args
        if isinstance(a, sympy.exp):
            a, e = e, a
        if a == 1:
            return softplus(e.args[0])
        return sympy.log(a) + softplus(e.args[0] - sympy.log(a))

    return f.replace(match, repl)


def _numeric_form(expr: sympy.Expr, x: sympy.Symbol) -> sympy.Expr:
    """Heaviside by the right-derivative convention, DiracDelta dropped, Max/Min as Piecewise."""

    def heaviside(node):
        u = node.args[0]
        slope = sympy.diff(u, x)
        at0 = sympy.Integer(1) if slope.is_positive else sympy.Integer(0) if slope.is_negative else sympy.Rational(1, 2)
        return sympy.Piecewise((1, u > 0), (0, u < 0), (at0, True))

    out = expr.replace(lambda n: isinstance(n, sympy.DiracDelta), lambda n: sympy.S.Zero)
    out = out.replace(lambda n: isinstance(n, sympy.Heaviside), heaviside)
    out = out.replace(lambda n: isinstance(n, (sympy.Max, sympy.Min)), lambda n: n.rewrite(sympy.Piecewise))
    return sympy.piecewise_fold(out)


def _np_callable(expr: sympy.Expr, x: sympy.Symbol) -> Callable:
    fn = sympy.lambdify(x, expr, modules=[_NP_NAMESPACE, "numpy"])

    def call(v):
        v = np.asarray(v, dtype=float)
        with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
            return np.asarray(fn(v), dtype=float) + np.zeros_like(v)

    return call


def _mp_callable(expr: sympy.Expr, x: sympy.Symbol) -> Callable:
    fn = sympy.lambdify(x, expr, modules=[_MP_NAMESPACE, "mpmath"])

    def call(v):
        return mpmath.mpmathify(fn(v))

    return call


def _slopes(loss) -> tuple:
    """``(lim f'(+oo), lim f'(-oo))`` from :func:`theory.family.recession_slopes` (exact; None when sympy cannot decide)."""
    try:
        right, left = recession_slopes(loss)
    except (NotImplementedError, ValueError, TypeError, sympy.PoleError):
        return None, None
    ok = [v for v in (right, left) if not (v.has(sympy.Limit) or v is sympy.nan)]
    if len(ok) < 2:
        return None, None
    return right, -left


@dataclass(frozen=True)
class LossFunctions:
    """A loss's ``f``, ``f'``, ``f''`` as numbers (see the module docstring for the conventions).

    Attributes
    ----------
    f, fp, fpp : mpmath callables (one real argument, evaluated at the current precision)
    f_np, fp_np, fpp_np : numpy callables (elementwise, float64, no overflow warnings)
    exprs : the compiled sympy expressions ``{"f", "fp", "fpp"}`` (stable form, numeric convention)
    quadratic : ``(c2, c1, c0)`` exact when ``f = c2 x^2 + c1 x + c0`` (``c2 > 0``), else None
    piecewise_linear : ``f'' = 0`` away from the kinks (the hinge): the pair loss is nowhere strictly convex
    kinks : points where ``f`` is not twice differentiable
    slope_right, slope_left : ``lim f'(x)`` as ``x -> +oo`` and ``x -> -oo`` (exact, ``oo`` allowed; None if unknown),
        from :func:`theory.family.recession_slopes` (``f_inf(1)`` and ``-f_inf(-1)``)
    """

    f: Callable
    fp: Callable
    fpp: Callable
    f_np: Callable
    fp_np: Callable
    fpp_np: Callable
    exprs: dict = field(compare=False)
    quadratic: tuple | None = None
    piecewise_linear: bool = False
    kinks: tuple = ()
    slope_right: Any = None
    slope_left: Any = None

    def g(self, x, p, q):
        """``g(x; p) = p f'(x) - q f'(-x)`` with ``q = P_ji`` passed separately (no ``1 - p`` cancellation)."""
        return p * self.fp(x) - q * self.fp(-x)

    def gprime(self, x, p, q):
        """``g'(x; p) = p f''(x) + q f''(-x)``."""
        return p * self.fpp(x) + q * self.fpp(-x)

    def pair(self, x, p, q):
        """The pair loss ``p f(x) + q f(-x)`` in ``x = b h``."""
        return p * self.f(x) + q * self.f(-x)

    def g_np(self, x, p, q):
        """numpy ``g(x; p)`` (elementwise)."""
        return p * self.fp_np(x) - q * self.fp_np(-x)

    def gprime_np(self, x, p, q):
        """numpy ``g'(x; p)`` (elementwise)."""
        return p * self.fpp_np(x) + q * self.fpp_np(-x)


#: Points where the compiled derivatives are checked against the loss's own ``fp``/``fpp``.
_CHECK_POINTS = (sympy.Rational(-7, 3), sympy.Rational(-1, 2), sympy.Rational(1, 3), sympy.Rational(5, 4), sympy.Rational(17, 5))


class CompileError(ValueError):
    """A loss expression that cannot be turned into numbers (not real, or the compiled form disagrees)."""


def loss_functions(loss) -> LossFunctions:
    """The numeric ``f, f', f''`` of a :class:`~theory.losses.PairLoss` (cached per loss; the scale does not enter).

    The functions do not depend on the loss's scale (they are functions of ``x = b h``).

    Raises
    ------
    CompileError
        When ``f`` is not real at a check point, or a compiled derivative disagrees with
        the loss's own ``fp``/``fpp`` (which would be a defect of this module).
    """
    return _compile(loss)


@lru_cache(maxsize=64)
def _compile(loss) -> LossFunctions:
    f, kinks = loss.f, tuple(loss.kinks)
    x = next((s for s in f.free_symbols if s.name == "x"), _X)
    fp_ref, fpp_ref = sympy.diff(f, x), sympy.diff(f, x, 2)  # = PairLoss.fp, PairLoss.fpp
    stable = _stable(f)
    fp = sympy.diff(stable, x)
    fpp = sympy.diff(fp, x)
    exprs = {"f": _numeric_form(stable, x), "fp": _numeric_form(fp, x), "fpp": _numeric_form(fpp, x)}
    mp = {k: _mp_callable(e, x) for k, e in exprs.items()}
    nps = {k: _np_callable(e, x) for k, e in exprs.items()}
    quadratic = None
    if f.is_polynomial(x):
        poly = sympy.Poly(f, x)
        if poly.degree() == 2 and poly.LC() > 0:
            c = poly.all_coeffs()
            quadratic = (c[0], c[1], c[2])
    pwl = exprs["fpp"].is_zero
    if pwl is None:
        pwl = sympy.simplify(exprs["fpp"]) == 0
    # check the compiled functions against the loss's own expressions, away from the kinks
    with workdps(30):
        for pt in _CHECK_POINTS:
            if any(abs(float(pt - k)) < 1e-3 for k in kinks):
                continue
            for name, ref in (("f", f), ("fp", fp_ref), ("fpp", fpp_ref)):
                want = sympy.N(ref.subs(x, pt), 40)
                if not want.is_real:
                    raise CompileError(f"loss f(x) = {sympy.sstr(f)}: {name} is not real at x = {pt}")
                got = mp[name](mpf(pt))
                w = mpmath.mpf(str(want))
                if abs(got - w) > mpmath.mpf(10) ** -20 * max(1, abs(w)):
                    raise CompileError(f"loss f(x) = {sympy.sstr(f)}: the compiled {name} disagrees with the loss's {name} at x = {pt}")
                gn = float(nps[name](float(pt)))
                if not abs(gn - float(w)) <= 1e-9 * max(1.0, abs(float(w))):
                    raise CompileError(f"loss f(x) = {sympy.sstr(f)}: the numpy {name} disagrees with the mpmath {name} at x = {pt}")
    slopes = _slopes(loss)
    return LossFunctions(
        f=mp["f"],
        fp=mp["fp"],
        fpp=mp["fpp"],
        f_np=nps["f"],
        fp_np=nps["fp"],
        fpp_np=nps["fpp"],
        exprs=exprs,
        quadratic=quadratic,
        piecewise_linear=bool(pwl),
        kinks=kinks,
        slope_right=slopes[0],
        slope_left=slopes[1],
    )
