r"""Pairwise preference losses of the GPO family, as exact objects.

Generalized Preference Optimization (Tang et al., ICML 2024) writes the offline
preference losses in one form: for a comparison won with probability ``p`` and a
margin ``h = r_i - r_j`` (``r = log(pi/pi_ref)``),

.. math::

    \ell(h; p) = p\, f(b h) + (1 - p)\, f(-b h), \qquad f \text{ convex},\ b > 0.

A :class:`PairLoss` holds ``f`` as a sympy expression in the real symbol :data:`X`,
the name of its scale parameter, the exact map from that parameter to ``b``, the
convention in words, and what ``f`` is (smooth? strictly convex? where it is not
differentiable). Adding a loss is one entry in :data:`BUILTIN`.

In the variable ``x = b h`` the stationarity of one pair is ``g(x; p) = 0`` with

    g(x; p) = p f'(x) - (1 - p) f'(-x),

and the scale-free quantities every derivation uses are ``f'(0)`` and ``f''(0)``.

The IPO convention (docs/claims.md §0): the pair loss is ``(h - beta/2)^2`` for the
winner, i.e. ``(1 - x)^2`` with ``x = (2/beta) h`` up to the factor ``beta^2/4``,
so ``b = 2/beta`` (``beta = 1/tau``; TRL's ``loss_type="ipo"`` calls ``tau`` "beta").

>>> ipo = BUILTIN["ipo"]
>>> ipo.b_of(sympy.Integer(4))
1/2
>>> [BUILTIN[n].gain for n in ("ipo", "dpo", "exp", "tq")]
[2, 4, 2, 2]
>>> BUILTIN["slic"].gain is None, BUILTIN["slic"].not_smooth_at_0
(True, 'f is linear near 0 (second derivative 0): the pair loss is not strictly convex there')
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

import sympy

__all__ = ["X", "P_SYM", "SCALE", "PairLoss", "LossError", "BUILTIN", "ALIASES", "builtin", "from_expression", "names"]

#: The argument of ``f`` (a real number: the scaled margin ``x = b h``).
X = sympy.Symbol("x", real=True)
#: A win probability ``p`` in ``[0, 1]``.
P_SYM = sympy.Symbol("p", real=True, nonnegative=True)
#: The scale parameter as a symbol (``b_expr`` is an expression in it).
SCALE = sympy.Symbol("s", positive=True)


class LossError(ValueError):
    """A loss expression that cannot be used (not a function of x alone, not convex, ...)."""


@dataclass(frozen=True, repr=False)
class PairLoss:
    """One pairwise preference loss ``l(h; p) = p f(b h) + (1-p) f(-b h)``.

    Attributes
    ----------
    name : short name (``"ipo"``, ``"dpo"``, ``"slic"``, ``"exp"``, ``"tq"``, or ``"user"``)
    f : sympy expression in :data:`X`
    scale_name : the name of the scale parameter on the command line and in the API
        (``beta`` for IPO, ``beta_dpo`` for DPO, ...)
    b_expr : ``b`` as an exact expression of the scale symbol :data:`SCALE` (IPO: ``2/s``)
    default_scale : the default value of the scale parameter (exact)
    scale : the value of the scale parameter this loss object carries (exact)
    convention : the convention in words (and TRL's name)
    smooth : ``f`` is twice continuously differentiable on the whole real line
    strictly_convex : ``f'' > 0`` everywhere (where defined)
    kinks : points where ``f`` is not twice differentiable
    larger_scale_moves_away : True when a larger scale moves the optimum further from the reference
    """

    name: str
    f: sympy.Expr
    scale_name: str
    b_expr: sympy.Expr
    default_scale: sympy.Rational
    convention: str
    smooth: bool
    strictly_convex: bool
    kinks: tuple = ()
    larger_scale_moves_away: bool = False
    title: str = ""
    scale: sympy.Rational | None = field(default=None, compare=False)

    def __post_init__(self):
        if self.scale is None:
            object.__setattr__(self, "scale", self.default_scale)

    # --- the scale ---------------------------------------------------------------------------
    def with_scale(self, value) -> "PairLoss":
        """The same loss with another value of its scale parameter (kept exact)."""
        v = sympy.nsimplify(value) if not isinstance(value, sympy.Basic) else value
        if not (v.is_real and v.is_positive):
            raise LossError(f"{self.scale_name} = {value}, expected > 0")
        return replace(self, scale=v)

    def b_of(self, scale) -> sympy.Expr:
        """``b`` for a value (or symbol) of the scale parameter."""
        return sympy.simplify(self.b_expr.subs(SCALE, scale))

    @property
    def b(self) -> sympy.Expr:
        """``b`` at this object's scale."""
        return self.b_of(self.scale)

    def scale_of_b(self, b) -> sympy.Expr:
        """The scale parameter that gives multiplier ``b`` (inverse of :meth:`b_of`)."""
        sol = sympy.solve(sympy.Eq(self.b_expr, b), SCALE)
        if len(sol) != 1:
            raise LossError(f"cannot invert b = {self.b_expr} for {self.scale_name}")
        return sympy.simplify(sol[0])

    # --- f and its derivatives ---------------------------------------------------------------
    @cached_property
    def fp(self) -> sympy.Expr:
        """``f'`` (sympy; Heaviside/DiracDelta where ``f`` has kinks)."""
        return sympy.diff(self.f, X)

    @cached_property
    def fpp(self) -> sympy.Expr:
        """``f''``."""
        return sympy.diff(self.f, X, 2)

    def at0(self, expr: sympy.Expr) -> sympy.Expr:
        return sympy.simplify(expr.subs(X, 0))

    @cached_property
    def fp0(self) -> sympy.Expr:
        """``f'(0)``."""
        return self.at0(self.fp)

    @cached_property
    def fpp0(self) -> sympy.Expr:
        """``f''(0)``."""
        return self.at0(self.fpp)

    def pair_loss(self, h, p, b=None) -> sympy.Expr:
        """``p f(b h) + (1-p) f(-b h)`` (``b`` defaults to this object's ``b``)."""
        b = self.b if b is None else b
        return p * self.f.subs(X, b * h) + (1 - p) * self.f.subs(X, -b * h)

    def g(self, x, p) -> sympy.Expr:
        """The stationarity of one pair in ``x = b h``: ``p f'(x) - (1-p) f'(-x)``."""
        return p * self.fp.subs(X, x) - (1 - p) * self.fp.subs(X, -x)

    def gprime(self, x, p) -> sympy.Expr:
        """``d g / dx = p f''(x) + (1-p) f''(-x)``."""
        return p * self.fpp.subs(X, x) + (1 - p) * self.fpp.subs(X, -x)

    @cached_property
    def not_smooth_at_0(self) -> str | None:
        """Why the derivations at the uniform point do not apply, or None when they do."""
        if any(sympy.simplify(k) == 0 for k in self.kinks):
            return "f is not twice differentiable at 0"
        if self.fpp0 == 0:
            return "f is linear near 0 (second derivative 0): the pair loss is not strictly convex there"
        if not (self.fpp0.is_real and self.fpp0.is_positive):
            return f"f''(0) = {self.fpp0} is not a positive number"
        return None

    @cached_property
    def gain(self) -> sympy.Expr | None:
        """``c_f = -2 f'(0) / f''(0)``: at the uniform point, ``dx*/dmu = c_f S`` (None where not applicable).

        The MRS map at the uniform point of a balanced ``P`` then has tangent Jacobian
        ``alpha I + (c_f lam / (b K)) S`` (LOSS-3).
        """
        if self.not_smooth_at_0 is not None:
            return None
        return sympy.simplify(-2 * self.fp0 / self.fpp0)

    def __repr__(self) -> str:
        return f"PairLoss({self.name!r}, f={sympy.sstr(self.f)}, {self.scale_name}={self.scale})"

    def latex(self) -> str:
        """LaTeX of ``f``."""
        return sympy.latex(self.f)

    def describe(self) -> str:
        return f"{self.title or self.name}: f(x) = {sympy.sstr(self.f)}, b = {sympy.sstr(self.b_expr.subs(SCALE, sympy.Symbol(self.scale_name)))}"


def _entry(name, f, scale_name, b_expr, convention, *, smooth=True, strictly_convex=True, kinks=(), away=False, title=""):
    return PairLoss(
        name=name,
        f=f,
        scale_name=scale_name,
        b_expr=b_expr,
        default_scale=sympy.Integer(1),
        convention=convention,
        smooth=smooth,
        strictly_convex=strictly_convex,
        kinks=tuple(kinks),
        larger_scale_moves_away=away,
        title=title,
    )


_x = X
#: The built-in losses. Adding a loss is one entry here.
BUILTIN: dict[str, PairLoss] = {
    loss.name: loss
    for loss in (
        _entry("ipo", (1 - _x) ** 2, "beta", 2 / SCALE,
               "IPO (Azar et al. 2023): beta = 1/tau, b = 2/beta; TRL loss_type='ipo' calls tau 'beta'",
               away=True, title="IPO (squared)"),
        _entry("dpo", sympy.log(1 + sympy.exp(-_x)), "beta_dpo", SCALE,
               "DPO (Rafailov et al. 2023): b = beta_dpo, the KL coefficient (TRL: beta, loss_type='sigmoid')",
               title="DPO (logistic)"),
        _entry("slic", sympy.Max(0, 1 - _x), "beta_slic", SCALE,
               "SLiC (Zhao et al. 2023) hinge: b = beta_slic (TRL: beta, loss_type='hinge')",
               smooth=False, strictly_convex=False, kinks=(sympy.Integer(1),), title="SLiC (hinge)"),
        _entry("exp", sympy.exp(-_x), "beta_exp", SCALE,
               "exponential loss (GPO, Tang et al. 2024): b = beta_exp", title="exponential"),
        _entry("tq", sympy.Max(0, 1 - _x) ** 2, "beta_tq", SCALE,
               "truncated quadratic (GPO, Tang et al. 2024): b = beta_tq",
               smooth=False, strictly_convex=False, kinks=(sympy.Integer(1),), title="truncated quadratic"),
    )
}

#: Other names accepted for the built-ins.
ALIASES = {"hinge": "slic", "logistic": "dpo", "sigmoid": "dpo", "squared": "ipo", "exponential": "exp",
           "truncated-quadratic": "tq", "sqhinge": "tq", "squared-hinge": "tq"}


def names() -> list[str]:
    """The built-in loss names."""
    return list(BUILTIN)


def builtin(name: str) -> PairLoss:
    """A built-in loss by name or alias (case-insensitive)."""
    key = ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in BUILTIN:
        raise LossError(f"unknown loss {name!r}; built-ins: {', '.join(BUILTIN)} (or an expression in x such as 'exp(-x)')")
    return BUILTIN[key]


_ALLOWED = {"exp": sympy.exp, "log": sympy.log, "sqrt": sympy.sqrt, "Max": sympy.Max, "max": sympy.Max,
            "Min": sympy.Min, "min": sympy.Min, "Abs": sympy.Abs, "abs": sympy.Abs, "cosh": sympy.cosh,
            "sinh": sympy.sinh, "tanh": sympy.tanh, "log1p": lambda z: sympy.log(1 + z), "E": sympy.E, "pi": sympy.pi}


def from_expression(text: str, *, scale_name: str = "b") -> PairLoss:
    """A user loss ``f`` from an expression in ``x`` such as ``"log(1+exp(-x))"``.

    The exact checks made here: the expression parses, depends on ``x`` only, is
    differentiable at 0 with ``f'(0) < 0`` (a loss that rewards the winner's margin), and
    its second derivative is non-negative *where sympy can decide it*. Convexity on the
    whole line is then checked numerically by :func:`verify.losses.loss` when sympy cannot
    prove it (stated in the loss's ``convention``).

    >>> from_expression("log(1+exp(-x))").gain
    4
    >>> from_expression("x**3")
    Traceback (most recent call last):
    ...
    theory.losses.LossError: loss 'x**3': f'(0) = 0, expected f'(0) < 0 (the loss must decrease in the winner's margin at 0)
    """
    src = text.strip()
    if not src:
        raise LossError("empty loss expression")
    try:
        f = sympy.parse_expr(src.replace("^", "**"), local_dict={"x": X, **_ALLOWED}, evaluate=True)
    except (sympy.SympifyError, SyntaxError, TypeError, NameError, AttributeError, TokenError) as exc:  # noqa: F821
        raise LossError(f"loss {text!r} does not parse as an expression in x: {exc.__class__.__name__}") from None
    if not isinstance(f, sympy.Expr):
        raise LossError(f"loss {text!r} is not an expression")
    extra = f.free_symbols - {X}
    if extra:
        raise LossError(f"loss {text!r} depends on {', '.join(sorted(map(str, extra)))}; use x only (the scale is a separate option)")
    if X not in f.free_symbols:
        raise LossError(f"loss {text!r} does not depend on x")
    kinks = tuple(sorted({k for k in _kinks(f)}, key=sympy.default_sort_key))
    if any(k == 0 for k in kinks):
        raise LossError(f"loss {text!r} is not differentiable at 0 (a kink at x = 0)")
    fp0 = sympy.simplify(sympy.diff(f, X).subs(X, 0))
    if not fp0.is_real or fp0.is_nonnegative:
        raise LossError(f"loss {text!r}: f'(0) = {fp0}, expected f'(0) < 0 (the loss must decrease in the winner's margin at 0)")
    fpp = sympy.simplify(sympy.diff(f, X, 2))
    if fpp.is_negative:
        raise LossError(f"loss {text!r} is not convex: f'' = {fpp} < 0")
    proved = bool(fpp.is_positive)
    loss = PairLoss(
        name="user",
        f=f,
        scale_name=scale_name,
        b_expr=SCALE,
        default_scale=sympy.Integer(1),
        convention=f"user loss f(x) = {sympy.sstr(f)}, b = {scale_name}; "
        + ("strict convexity proved by sympy (f'' > 0)" if proved else "convexity not proved symbolically"),
        smooth=not kinks,
        strictly_convex=proved,
        kinks=kinks,
        title=f"f(x) = {sympy.sstr(f)}",
    )
    return loss


def _kinks(f: sympy.Expr):
    """Points where a Max/Min/Abs inside ``f`` switches branch (only for arguments linear in x)."""
    for node in sympy.preorder_traversal(f):
        if isinstance(node, (sympy.Max, sympy.Min)) and len(node.args) == 2:
            a, c = node.args
            for sol in sympy.solve(sympy.Eq(a, c), X):
                if sol.is_real:
                    yield sol
        elif isinstance(node, sympy.Abs):
            for sol in sympy.solve(node.args[0], X):
                if sol.is_real:
                    yield sol


from sympy.parsing.sympy_parser import TokenError  # noqa: E402  (used in from_expression)
