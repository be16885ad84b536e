r"""Build a loss from what a user types: a name, an alias or an expression, and an exact scale.

:func:`loss` returns a :class:`theory.losses.PairLoss` (the exact object). A user expression
goes through :func:`theory.losses.from_expression` (which proves strict convexity when sympy
can); when sympy cannot, convexity is checked here on a grid at 30 digits
(:func:`check_convexity`: ``f'' >= 0`` at every grid point and ``f'`` non-decreasing between
neighbours, which also catches a downward kink), and the loss's ``convention`` records how
convexity was established. Anything unusable raises
:class:`~verify.exact.objects.InputError` with one line.

>>> loss("dpo", scale="7/10").scale
7/10
>>> loss("hinge").name, loss("IPO").scale_name
('slic', 'beta')
>>> loss("x**4 - x").convention.split("; ")[-1]
"convexity checked numerically (not a proof): f'' >= 0 and f' non-decreasing at 2001 points of [-40, 40] at 30 digits (min f'' = 0.0 at x = 0.0)"
>>> loss("x**4 - x**2 - x")
Traceback (most recent call last):
...
verify.exact.objects.InputError: loss 'x**4 - x**2 - x' is not convex: f''(-0.4) = -0.08 < 0 (checked at 30 digits on 2001 points of [-40, 40])
>>> loss("ipo", scale=0)
Traceback (most recent call last):
...
verify.exact.objects.InputError: beta = 0, expected > 0
"""

from __future__ import annotations

import re
from dataclasses import replace
from fractions import Fraction
from typing import Any

import mpmath
import sympy

from theory.losses import ALIASES, BUILTIN, LossError, PairLoss, builtin, from_expression
from verify.exact.objects import InputError, positive
from verify.numerics.bridge import CompileError, loss_functions
from verify.numerics.precision import workdps

__all__ = ["loss", "read_scale", "check_convexity", "exact_literals", "GRID_POINTS", "GRID_RANGE", "GRID_DPS", "TAIL_POINTS"]

#: The convexity grid for user expressions: points, range, digits.
GRID_POINTS = 2001
GRID_RANGE = (-40, 40)
GRID_DPS = 30
#: beyond the grid: the points ``GRID_RANGE * 2^k``, ``k = 1..TAIL_POINTS``, on each side
TAIL_POINTS = 20
#: how the tails were checked (recorded in a user loss's ``convention``)
TAIL_NOTE = (f"f'' >= 0 and f' non-decreasing also beyond the grid at |x| = {max(map(abs, GRID_RANGE))} * 2^k, "
             f"k = 1..{TAIL_POINTS}")

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def read_scale(value: Any, name: str = "scale") -> sympy.Rational:
    """A scale parameter read exactly (``"7/10"``, ints, Fractions, decimal strings, floats as printed, mpf bits).

    >>> from fractions import Fraction
    >>> read_scale("7/10"), read_scale(0.1), read_scale(Fraction(2, 3))
    (7/10, 1/10, 2/3)
    """
    if isinstance(value, sympy.Basic) and not (value.is_Rational or value.is_Float):
        if value.is_real and value.is_positive:
            return value
        raise InputError(f"{name} = {value}, expected a number > 0")
    v = positive(value, name)
    return sympy.Rational(v.numerator, v.denominator)


def check_convexity(lo: PairLoss, *, points: int = GRID_POINTS, bounds: tuple = GRID_RANGE, dps: int = GRID_DPS,
                    tails_out: int = TAIL_POINTS) -> tuple[mpmath.mpf, mpmath.mpf]:
    """Check ``f'' >= 0`` and ``f'`` non-decreasing on a grid and at ``bounds * 2^k`` (``k <= tails_out``) beyond it;
    return ``(min f'' on the grid, where)``.

    Raises
    ------
    InputError
        Naming a grid point where ``f`` is not real, ``f'' < 0``, or ``f'`` decreases.
    """
    fns = loss_functions(lo)
    a, b = bounds
    where = f"on {points} points of [{a}, {b}]"
    with workdps(dps):
        xs = [mpmath.mpf(a) + (mpmath.mpf(b) - a) * i / (points - 1) for i in range(points)]
        worst, at = None, None
        prev = None
        for x in xs:
            try:
                fx, d1, d2 = fns.f(x), fns.fp(x), fns.fpp(x)
            except (ValueError, ZeroDivisionError, TypeError):
                raise InputError(f"loss {sympy.sstr(lo.f)!r}: f is not defined at x = {mpmath.nstr(x, 8)}") from None
            if any(not isinstance(v, mpmath.mpf) or not mpmath.isfinite(v) for v in (fx, d1, d2)):
                raise InputError(f"loss {sympy.sstr(lo.f)!r}: f is not a finite real number at x = {mpmath.nstr(x, 8)}")
            if d2 < 0 and abs(d2) > mpmath.mpf(10) ** (-(dps - 5)):
                raise InputError(
                    f"loss {sympy.sstr(lo.f)!r} is not convex: f''({mpmath.nstr(x, 8)}) = {mpmath.nstr(d2, 6)} < 0 "
                    f"(checked at {dps} digits {where})"
                )
            if prev is not None and d1 < prev[1] - mpmath.mpf(10) ** (-(dps - 5)) * max(1, abs(d1)):
                raise InputError(
                    f"loss {sympy.sstr(lo.f)!r} is not convex: f' decreases between x = {mpmath.nstr(prev[0], 8)} and "
                    f"x = {mpmath.nstr(x, 8)} (from {mpmath.nstr(prev[1], 6)} to {mpmath.nstr(d1, 6)}; checked at {dps} digits {where})"
                )
            prev = (x, d1)
            if worst is None or d2 < worst:
                worst, at = d2, x
        # the tails: a loss that turns concave past the grid (e.g. (1-x)^2 - exp(x-50), unbounded below) is not convex
        tails = [[mpmath.mpf(a) * 2**k for k in range(1, tails_out + 1)], [mpmath.mpf(b) * 2**k for k in range(1, tails_out + 1)]]
        for side, pts in zip((-1, 1), tails):
            prev = (xs[0], fns.fp(xs[0])) if side < 0 else (xs[-1], fns.fp(xs[-1]))
            for x in pts:
                try:
                    d1, d2 = fns.fp(x), fns.fpp(x)
                except (ValueError, ZeroDivisionError, TypeError):
                    raise InputError(f"loss {sympy.sstr(lo.f)!r}: f is not defined at x = {mpmath.nstr(x, 8)}") from None
                if any(not isinstance(v, mpmath.mpf) or not mpmath.isfinite(v) for v in (d1, d2)):
                    raise InputError(f"loss {sympy.sstr(lo.f)!r}: f is not a finite real number at x = {mpmath.nstr(x, 8)}")
                falls = (d1 < prev[1] - mpmath.mpf(10) ** (-(dps - 5)) * max(1, abs(d1))) if side > 0 else \
                    (d1 > prev[1] + mpmath.mpf(10) ** (-(dps - 5)) * max(1, abs(d1)))
                if (d2 < 0 and abs(d2) > mpmath.mpf(10) ** (-(dps - 5))) or falls:
                    raise InputError(
                        f"loss {sympy.sstr(lo.f)!r} is not convex: beyond the grid, f''({mpmath.nstr(x, 8)}) = {mpmath.nstr(d2, 6)}"
                        f"{' and f' + chr(39) + ' decreases towards it' if falls else ''} (checked at {dps} digits at |x| = "
                        f"{max(abs(a), abs(b))} * 2^k, k = 1..{tails_out})"
                    )
                prev = (x, d1)
    return worst, at


def loss(spec: Any = "ipo", scale: Any = None) -> PairLoss:
    """A :class:`~theory.losses.PairLoss` from a name, an alias, an expression in ``x``, or a PairLoss.

    Parameters
    ----------
    spec : str or PairLoss
        A built-in name (``ipo``, ``dpo``, ``slic``, ``exp``, ``tq``), an alias (``hinge``,
        ``logistic``, ...; case-insensitive), or an expression ``f(x)`` such as ``"log(1+exp(-x))"``.
    scale : exact number > 0, optional
        The value of the loss's scale parameter (``beta`` for IPO, ``beta_dpo`` for DPO, ...); kept
        exact (``"7/10"``, ints, Fractions, decimal strings, mpf bits); default the loss's default.

    Raises
    ------
    InputError
        Unknown name, unusable expression, a user expression that is not convex on the grid, a bad scale.
    """
    if isinstance(spec, PairLoss):
        lo = spec
    elif isinstance(spec, str):
        text = spec.strip()
        key = text.lower()
        try:
            if key in BUILTIN or key in ALIASES or (_NAME.match(text) and text != "x"):
                lo = builtin(text)
            else:
                lo = _user(text)
        except LossError as e:
            raise InputError(str(e)) from None
    else:
        raise InputError(f"loss = {spec!r}: expected a name ({', '.join(BUILTIN)}), an expression in x, or a PairLoss")
    if scale is not None:
        lo = lo.with_scale(read_scale(scale, lo.scale_name))
    return lo


#: a decimal literal (``0.5``, ``.5``, ``1e-3``, ``2.5E+2``) not inside a name
_DECIMAL = re.compile(r"(?<![A-Za-z_0-9.])(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?(?![A-Za-z_0-9.])")


def exact_literals(text: str) -> str:
    """``text`` with every decimal literal written as the exact fraction it denotes (``0.5`` -> ``(1/2)``), so that a
    user loss such as ``exp(-0.5*x)`` is exact (a float literal would carry 15 digits into the 50-digit numerics).

    >>> exact_literals("x**2 - x + 1e-3"), exact_literals("log1p(exp(-1.5*x))")
    ('x**2 - x + (1/1000)', 'log1p(exp(-(3/2)*x))')
    """

    def one(m: re.Match) -> str:
        lit = m.group(0)
        if not any(c in lit for c in ".eE"):
            return lit
        q = Fraction(lit)
        return f"({q.numerator}/{q.denominator})" if q.denominator != 1 else str(q.numerator)

    return _DECIMAL.sub(one, text)


def _user(text: str) -> PairLoss:
    lo = from_expression(exact_literals(text))
    try:
        fns = loss_functions(lo)
    except CompileError as e:
        raise InputError(str(e)) from None
    del fns
    if lo.strictly_convex:
        return lo
    try:
        worst, at = check_convexity(lo)
    except InputError as e:
        raise InputError(str(e).replace(f"loss {sympy.sstr(lo.f)!r}", f"loss {text!r}", 1)) from None
    note = (
        f"convexity checked numerically (not a proof): f'' >= 0 and f' non-decreasing at {GRID_POINTS} points of "
        f"[{GRID_RANGE[0]}, {GRID_RANGE[1]}] at {GRID_DPS} digits (min f'' = {mpmath.nstr(worst, 6)} at x = {mpmath.nstr(at, 6)})"
    )
    conv = lo.convention.replace("convexity not proved symbolically", f"{TAIL_NOTE}; {note}")
    if conv == lo.convention:
        conv = f"{lo.convention}; {TAIL_NOTE}; {note}"
    return replace(lo, convention=conv)

