"""Working precision and tolerances for numeric verdicts.

Precision is a context (``with workdps(70): ...``), never a global that
checkers mutate. Tolerances are derived from the number of digits that a
verdict claims, never typed ad hoc: a check that claims agreement "to 50
digits" computes at ``50 + GUARD`` digits and compares with :func:`agree`
at tolerance ``10**-50`` (relative and absolute, as ``mpmath.almosteq``).

>>> import mpmath
>>> with workdps(60):
...     ok, err = agree(mpmath.mpf(1) / 3, mpmath.mpf("0.333333333333333333333333333333333333333333333333333333333"), digits=50)
>>> ok
True
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterable, Iterator

import mpmath

__all__ = ["DEFAULT_DPS", "GUARD", "workdps", "tolerance", "agree", "agree_log", "max_error", "mpf_str"]

#: Default digits claimed by high-precision verdicts.
DEFAULT_DPS = 50
#: Extra digits carried beyond the digits a verdict claims.
GUARD = 20


@contextmanager
def workdps(dps: int) -> Iterator[None]:
    """Evaluate the block at ``dps`` decimal digits; restores the previous precision."""
    if int(dps) < 5:
        raise ValueError(f"dps = {dps}, expected >= 5")
    with mpmath.workdps(int(dps)):
        yield


def tolerance(digits: int) -> mpmath.mpf:
    """The tolerance ``10**-digits`` that a verdict "to ``digits`` digits" uses."""
    return mpmath.mpf(10) ** (-int(digits))


def agree(a, b, digits: int) -> tuple[bool, mpmath.mpf]:
    """Whether ``a`` and ``b`` agree to ``digits`` digits (relative or absolute).

    Returns ``(ok, err)`` with ``err = |a - b| / max(1, |a|, |b|)``.
    """
    a = mpmath.mpmathify(a)
    b = mpmath.mpmathify(b)
    scale = max(mpmath.mpf(1), abs(a), abs(b))
    err = abs(a - b) / scale
    return bool(err <= tolerance(digits)), err


def agree_log(a, b, digits: int) -> tuple[bool, mpmath.mpf]:
    """Whether two positive numbers agree to ``digits`` digits *in log space* (:func:`agree` on their logs).

    The right comparison for probabilities that may be tiny: ``1e-300`` and ``9e-41`` differ by
    less than ``1e-30`` in absolute terms but their logs differ by about 600.

    >>> import mpmath
    >>> agree_log(mpmath.mpf("1e-300"), mpmath.mpf("9e-41"), 30)[0]
    False
    """
    a = mpmath.mpmathify(a)
    b = mpmath.mpmathify(b)
    if a <= 0 or b <= 0:
        return bool(a == b), mpmath.mpf(0) if a == b else mpmath.inf
    return agree(mpmath.log(a), mpmath.log(b), digits)


def max_error(pairs: Iterable[tuple[object, object]]) -> mpmath.mpf:
    """Largest scaled difference over pairs (see :func:`agree`)."""
    worst = mpmath.mpf(0)
    for a, b in pairs:
        a = mpmath.mpmathify(a)
        b = mpmath.mpmathify(b)
        scale = max(mpmath.mpf(1), abs(a), abs(b))
        worst = max(worst, abs(a - b) / scale)
    return worst


def mpf_str(x, digits: int = 6) -> str:
    """Short string for an mpmath number in evidence (``'3.2e-71'``)."""
    return mpmath.nstr(mpmath.mpmathify(x), digits)
