"""The one bridge from exact sympy expressions to mpmath numbers.

``theory/`` never imports numpy or mpmath; ``verify/`` evaluates exact results
only through the functions here, at a stated precision.

>>> import sympy
>>> x = sympy.Symbol("x")
>>> f = lambdify_mp([x], sympy.exp(x) / 3)
>>> with workdps(30):
...     print(mpmath.nstr(f(mpmath.mpf(1)), 20))
0.90609394281968174512
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Sequence

import mpmath
import sympy

from verify.numerics.precision import workdps

__all__ = ["mpf", "mp_vector", "mp_matrix", "lambdify_mp", "evalf_mp", "to_rational", "workdps"]


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
