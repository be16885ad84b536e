r"""Ball arithmetic for the certified checks: loading python-flint, exact inputs, enclosures as rationals.

python-flint (the optional ``certified`` extra) is imported *when a function runs*, never when this
module is imported, so the base install and ``prefdyn --help`` never load it. When it is missing,
:func:`flint_module` raises :class:`CertifiedUnavailable`, whose message carries the install hint
:data:`INSTALL_HINT`; the claim checkers turn it into ``inconclusive``.

**Exact inputs.** Every number that defines an instance is read by :func:`exact_rational`: ``int``,
``Fraction``, sympy ``Rational``, flint ``fmpq``, and strings (``"0.9"`` is 9/10 exactly, ``"1/3"``,
``"1e-3"``). A binary ``float`` (or an mpmath ``mpf``) is **rejected** with an
:class:`~verify.exact.objects.InputError` unless the caller passes ``allow_float=True``; then it is
converted exactly to the rational it stores (``0.3`` becomes 5404319552844595/18014398509481984, not
3/10). Box centres (guesses from float solvers) are not inputs: :func:`centre_ball` takes any float.

**Enclosures.** An :class:`Interval` is a pair of exact rationals ``lo <= hi`` read off an ``arb``
ball (its endpoints are dyadic, so the conversion is exact); :meth:`Interval.text` and the JSON print
decimal strings rounded *outward*, so every printed interval still encloses the value.

>>> from fractions import Fraction
>>> exact_rational("0.9", "alpha"), exact_rational(Fraction(1, 3), "a")
(Fraction(9, 10), Fraction(1, 3))
>>> exact_rational(0.5, "alpha")
Traceback (most recent call last):
...
verify.exact.objects.InputError: alpha = 0.5 is a binary float; give it exactly ("1/2", a Fraction) or pass allow_float=True to certify the float's own value
>>> iv = Interval(Fraction(1, 3), Fraction(1, 3))
>>> iv.text(6), decimal_down(Fraction(-1, 3), 4), decimal_up(Fraction(-1, 3), 4)
('[0.333333, 0.333334]', '-0.3334', '-0.3333')
"""

from __future__ import annotations

import importlib
import math
import numbers
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Iterator

from verify.exact.objects import InputError, NumericalFailure, to_fraction

__all__ = [
    "INSTALL_HINT",
    "DEFAULT_PREC",
    "CertifiedUnavailable",
    "available",
    "flint_module",
    "working_precision",
    "digits_of",
    "exact_rational",
    "exact_vector",
    "exact_matrix",
    "to_fmpq",
    "ball",
    "centre_ball",
    "dyadic",
    "Interval",
    "interval_of",
    "decimal_down",
    "decimal_up",
]

#: What to install for the certified checks.
INSTALL_HINT = "pip install 'prefdyn[certified]'"
#: Default working precision of the ball arithmetic, in bits (about 38 decimal digits).
DEFAULT_PREC = 128


class CertifiedUnavailable(ImportError):
    """python-flint (the ``certified`` extra) is not installed: nothing can be certified."""


def flint_module():
    """The ``flint`` module, imported now; :class:`CertifiedUnavailable` (with :data:`INSTALL_HINT`) when missing."""
    try:
        return importlib.import_module("flint")
    except ImportError as e:
        raise CertifiedUnavailable(f"python-flint is not installed, so nothing can be certified: {INSTALL_HINT}") from e


def available() -> bool:
    """Whether python-flint can be imported (the certified checks can run)."""
    try:
        flint_module()
    except CertifiedUnavailable:
        return False
    return True


@contextmanager
def working_precision(prec: int) -> Iterator[Any]:
    """Run flint at ``prec`` bits inside the block (restored after); yields the flint module."""
    if not isinstance(prec, int) or prec < 32:
        raise InputError(f"prec = {prec!r} bits, expected an integer >= 32")
    flint = flint_module()
    with flint.ctx.workprec(prec):
        yield flint


def digits_of(prec: int) -> int:
    """Decimal digits carried by ``prec`` bits (``floor(prec log10 2)``)."""
    return int(prec * math.log10(2))


# ----------------------------------------------------------------------------- exact inputs


def exact_rational(x: Any, name: str, *, allow_float: bool = False) -> Fraction:
    """One number read exactly (see the module docstring); floats refused unless ``allow_float``."""
    if isinstance(x, bool) or x is None:
        raise InputError(f"{name} = {x!r} is not a number")
    if isinstance(x, Fraction):
        return x
    if isinstance(x, numbers.Integral):
        return Fraction(int(x))
    if isinstance(x, str):
        s = x.strip()
        try:
            return Fraction(s)  # "0.9" -> 9/10, "1/3", "1e-3": exactly as written
        except (ValueError, ZeroDivisionError):
            to_fraction(s, name)  # the project's one-line message (a decimal comma, "nan", ...)
            raise InputError(f"{name} = {x!r} is not a number") from None
    mod = type(x).__module__
    if mod.startswith("flint") and hasattr(x, "p") and hasattr(x, "q"):
        return Fraction(int(x.p), int(x.q))
    if mod.startswith("sympy") and getattr(x, "is_Rational", False):
        return Fraction(int(x.p), int(x.q))
    if isinstance(x, float) or mod.startswith(("mpmath", "numpy", "sympy")):
        if not allow_float:
            shown = repr(x) if isinstance(x, float) else str(x)
            raise InputError(
                f"{name} = {shown} is a binary float; give it exactly (\"{_hint(x)}\", a Fraction) or pass "
                "allow_float=True to certify the float's own value"
            )
        if isinstance(x, float) or (mod.startswith("numpy") and isinstance(x, numbers.Real)):
            fx = float(x)
            if not math.isfinite(fx):
                raise InputError(f"{name} = {fx} is not finite")
            return Fraction(fx)  # the exact binary value
        mpf_ = getattr(x, "_mpf_", None)
        if mpf_ is not None:
            sign, man, exp, _ = mpf_
            if man == 0 and exp != 0:
                raise InputError(f"{name} = {x} is not finite")
            v = Fraction(man) * Fraction(2) ** exp
            return -v if sign else v
    return to_fraction(x, name)[0]


def _hint(x: Any) -> str:
    try:
        return str(Fraction(repr(float(x))).limit_denominator(10**6))
    except (TypeError, ValueError, OverflowError):
        return "p/q"


def exact_vector(v: Any, name: str, *, allow_float: bool = False) -> list[Fraction]:
    """A vector of exact rationals (``"1/3,1/3,1/3"`` or a sequence)."""
    if isinstance(v, str):
        v = v.split(",")
    try:
        items = list(v)
    except TypeError:
        raise InputError(f"{name} must be a vector, got {type(v).__name__}") from None
    return [exact_rational(x, f"{name}[{k}]", allow_float=allow_float) for k, x in enumerate(items)]


def exact_matrix(M: Any, name: str, *, allow_float: bool = False) -> list[list[Fraction]]:
    """A square matrix of exact rationals (rows of numbers; a validated ``PreferenceMatrix`` is read as its entries)."""
    rows = getattr(M, "entries", M)
    if hasattr(rows, "tolist"):
        rows = rows.tolist()
    try:
        out = [[exact_rational(x, f"{name}[{i},{j}]", allow_float=allow_float) for j, x in enumerate(r)] for i, r in enumerate(rows)]
    except TypeError:
        raise InputError(f"{name} must be a matrix (a list of rows)") from None
    n = len(out)
    if n == 0 or any(len(r) != n for r in out):
        raise InputError(f"{name} must be a non-empty square matrix, got rows of lengths {[len(r) for r in out]}")
    return out


def to_fmpq(x: Fraction):
    """A ``Fraction`` as a flint ``fmpq`` (exact)."""
    flint = flint_module()
    return flint.fmpq(x.numerator, x.denominator)


def ball(x: Fraction):
    """The ``arb`` ball of an exact rational at the current flint precision (it contains ``x``)."""
    flint = flint_module()
    return flint.arb(flint.fmpq(x.numerator, x.denominator))


def centre_ball(x: Any):
    """An exact ``arb`` point near ``x`` (a float, an mpf, a Fraction or an arb: its midpoint) for a box centre."""
    flint = flint_module()
    if isinstance(x, flint.arb):
        return x.mid()
    if isinstance(x, Fraction):
        return ball(x).mid()
    mpf_ = getattr(x, "_mpf_", None)
    if mpf_ is not None:
        return ball(exact_rational(x, "centre", allow_float=True)).mid()
    return flint.arb(float(x)).mid()


def dyadic(a: Any) -> Fraction:
    """The exact value of an exact ``arb`` (radius 0, e.g. ``x.lower()``) as a Fraction."""
    if not a.is_finite():
        raise NumericalFailure("an enclosure is not finite (the ball arithmetic lost all accuracy); raise the precision")
    man, exp = a.man_exp()
    man, exp = int(man), int(exp)
    return Fraction(man * 2**exp) if exp >= 0 else Fraction(man, 2 ** (-exp))


# ----------------------------------------------------------------------------- enclosures


def decimal_down(q: Fraction, digits: int = 20) -> str:
    """A decimal string ``<= q`` with ``digits`` significant digits (exact: ``Fraction(s) <= q``)."""
    return _decimal(q, digits, math.floor)


def decimal_up(q: Fraction, digits: int = 20) -> str:
    """A decimal string ``>= q`` with ``digits`` significant digits (exact: ``Fraction(s) >= q``)."""
    return _decimal(q, digits, math.ceil)


def _decimal(q: Fraction, digits: int, rnd) -> str:
    if q == 0:
        return "0"
    e = _floor_log10(abs(q))
    shift = digits - 1 - e
    n = rnd(q * Fraction(10) ** shift)
    if n == 0:
        return "0"
    sign = "-" if n < 0 else ""
    s = str(abs(n))
    point = len(s) - shift  # digits before the decimal point
    if -6 <= point - 1 <= 20:
        if point <= 0:
            out = "0." + "0" * (-point) + s
        elif point >= len(s):
            out = s + "0" * (point - len(s))
        else:
            out = s[:point] + "." + s[point:]
        if "." in out:
            out = out.rstrip("0").rstrip(".")
        return sign + out
    mant = s[0] + ("." + s[1:].rstrip("0") if s[1:].rstrip("0") else "")
    return f"{sign}{mant}e{point - 1}"


def _floor_log10(q: Fraction) -> int:
    e = len(str(q.numerator)) - len(str(q.denominator))
    while Fraction(10) ** e > q:
        e -= 1
    while Fraction(10) ** (e + 1) <= q:
        e += 1
    return e


@dataclass(frozen=True)
class Interval:
    """A rigorous enclosure ``[lo, hi]`` with exact rational endpoints."""

    lo: Fraction
    hi: Fraction

    def __post_init__(self) -> None:
        if self.lo > self.hi:
            raise ValueError(f"empty interval [{self.lo}, {self.hi}]")

    @property
    def width(self) -> Fraction:
        return self.hi - self.lo

    def contains(self, x: Fraction) -> bool:
        return self.lo <= x <= self.hi

    def below(self, x: Fraction) -> bool:
        """Certified ``value < x``."""
        return self.hi < x

    def above(self, x: Fraction) -> bool:
        """Certified ``value > x``."""
        return self.lo > x

    def text(self, digits: int = 20) -> str:
        """``[lo, hi]`` as decimals rounded outward (still an enclosure)."""
        return f"[{decimal_down(self.lo, digits)}, {decimal_up(self.hi, digits)}]"

    def to_json(self, digits: int = 30) -> dict:
        """``{"lo": ..., "hi": ..., "width": ...}``: decimal strings rounded outward (parse them with ``Fraction``)."""
        return {"lo": decimal_down(self.lo, digits), "hi": decimal_up(self.hi, digits), "width": decimal_up(self.width, 3)}


def interval_of(a: Any) -> Interval:
    """The :class:`Interval` of an ``arb`` ball (its exact endpoints)."""
    return Interval(dyadic(a.lower()), dyadic(a.upper()))
