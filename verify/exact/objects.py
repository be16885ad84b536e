"""Validated inputs: preference matrices, points of the simplex, parameters.

Every value is stored exactly, as :class:`fractions.Fraction`.

* Exact input (``int``, ``Fraction``, sympy ``Rational``, strings such as
  ``"3/10"`` or ``"0.3"``) is checked exactly: ``P[i,j] + P[j,i]`` must equal 1,
  a simplex vector must sum to exactly 1.
* Float input is first read as the decimal it prints as (``0.3`` -> ``3/10``),
  then checked with the absolute tolerance :data:`FLOAT_TOL`. Within tolerance
  the value is repaired *exactly*: the upper triangle of ``P`` is kept and
  ``P[j,i] := 1 - P[i,j]``; a vector is divided by its (exact) sum. Outside the
  tolerance the input is refused.

Invalid input raises :class:`InputError` (a ``ValueError``) whose message names
the offending entry and the rule, e.g. ``P[1,2] + P[2,1] = 1.3, expected 1``.

>>> P = load_preference_matrix([[0.5, 0.7], [0.3, 0.5]])
>>> P.K, P[0, 1]
(2, Fraction(7, 10))
>>> load_preference_matrix([[0.5, 0.7], [0.6, 0.5]])
Traceback (most recent call last):
...
verify.exact.objects.InputError: P[0,1] + P[1,0] = 1.3, expected 1
"""

from __future__ import annotations

import decimal
import json
import math
import numbers
import re
from dataclasses import dataclass, field, fields
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Sequence

__all__ = [
    "FLOAT_TOL",
    "EXACT_DECIMAL_DIGITS",
    "InputError",
    "NumericalFailure",
    "Reading",
    "read_number",
    "SimplexPoint",
    "PreferenceMatrix",
    "load_preference_matrix",
    "ExactData",
    "OneShotData",
    "reference_policies",
    "simplex_vector",
    "unit_interval",
    "positive",
    "to_fraction",
    "fmt",
]

#: Absolute tolerance applied to float input (never to exact input).
FLOAT_TOL = 1e-9


class InputError(ValueError):
    """Raised for invalid user input; the message names the entry and the rule."""


def fmt(x: Any) -> str:
    """Format a number for messages: fractions as ``p/q``, floats compactly."""
    if isinstance(x, Fraction):
        if x.denominator == 1 and abs(x.numerator) < 10**15:
            return str(x.numerator)
        if x.denominator <= 10**6 and abs(x.numerator) < 10**15:
            return f"{x.numerator}/{x.denominator}"
        return _sci(x)
    if isinstance(x, float):
        return f"{x:.12g}"
    return str(x)


def _sci(x: Fraction, digits: int = 12) -> str:
    """``x`` to ``digits`` significant digits, with no float overflow or underflow (``1e-400`` stays ``1e-400``)."""
    with decimal.localcontext() as ctx:
        ctx.prec = digits + 3
        ctx.Emax, ctx.Emin = decimal.MAX_EMAX, decimal.MIN_EMIN
        s = f"{decimal.Decimal(x.numerator) / decimal.Decimal(x.denominator):.{digits}g}"
    mant, e, ex = s.partition("e")
    if "." in mant:
        mant = mant.rstrip("0").rstrip(".")
    return mant + (f"e{int(ex):+03d}" if e else "")


def _shower(exact: bool):
    """Format values as fractions for exact input, as decimals for float input."""
    if exact:
        return fmt
    return lambda v: _sci(Fraction(v))


class NumericalFailure(ArithmeticError):
    """A solver failed on *valid* input (not the caller's fault).

    The message says what failed and what to try (more ``dps``, another
    option). The command line reports it as ``error: ...`` with exit code 1;
    bad input (:class:`InputError`) has exit code 2.
    """


#: Decimal strings with at most this many significant digits are exact ("0.3", "0.125").
EXACT_DECIMAL_DIGITS = 6

_DECIMAL = re.compile(r"^[+-]?(?:(\d+)\.?(\d*)|\.(\d+))(?:[eE]([+-]?\d+))?$")


@dataclass(frozen=True)
class Reading:
    """One scalar as read: its exact value, the absolute tolerance it carries, and its kind.

    ``kind`` is ``"exact"`` (int, Fraction, sympy Rational, ``"p/q"``, short decimal
    strings; ``tol = 0``), ``"float"`` (a binary float, a JSON number, or a long decimal
    string that is a float64 written out; checked with the float tolerance of the
    caller, default :data:`FLOAT_TOL`; ``tol`` is 0 and the caller's applies),
    ``"decimal"`` (a decimal string with more than :data:`EXACT_DECIMAL_DIGITS`
    significant digits that is not a float64 written out; ``tol`` = one unit in its
    last digit) or ``"mpf"`` (an mpmath ``mpf`` or sympy ``Float``, converted exactly;
    ``tol = 10**-(digits - 3)`` with ``digits`` its precision).
    """

    value: Fraction
    kind: str
    tol: Fraction = Fraction(0)


def _decimal_reading(s: str, *, json_number: bool = False) -> Reading | None:
    """The reading of a decimal string (None if ``s`` is not one); see :func:`read_number`."""
    m = _DECIMAL.match(s)
    if not m:
        return None
    ip, fp, only_fp, ex = m.groups()
    if only_fp is not None:
        ip, fp = "", only_fp
    digits = (ip + fp).lstrip("0")
    d = len(digits)
    exp = int(ex) if ex else 0
    value = Fraction(s)
    ulp = Fraction(10) ** (exp - len(fp))
    if d <= 17 and json_number:
        # a JSON number is a float; never stricter than the same digits in a string
        return Reading(Fraction(repr(float(s))), "float", ulp if d > EXACT_DECIMAL_DIGITS else Fraction(0))
    if d <= EXACT_DECIMAL_DIGITS:
        return Reading(value, "exact")
    if d >= 16:
        f = float(s)
        if math.isfinite(f) and f != 0 and abs(value - Fraction(f)) <= ulp / 2:
            # a float64 written out to d digits (numpy.savetxt writes 19): read it as that float
            return Reading(Fraction(repr(f)), "float")
    return Reading(value, "decimal", ulp)


def _mpf_reading(sign: int, man: int, exp: int, bits: int, where: str) -> Reading:
    value = Fraction(man) * (Fraction(2) ** exp) * (-1 if sign else 1)
    import mpmath

    digits = max(int(mpmath.mp.dps), int(bits * 0.30102999566398120))
    return Reading(value, "mpf", Fraction(1, 10 ** max(digits - 3, 1)))


def read_number(x: Any, where: str) -> Reading:
    """Read one scalar exactly, with the tolerance its form carries.

    The rule (see the module docstring): exact forms are exact; a decimal string
    carries the tolerance of its digits; a float carries the float tolerance;
    an mpmath ``mpf`` (or sympy ``Float``) is converted exactly (never through
    ``float``) and carries a tolerance tied to its precision.

    >>> read_number("0.3", "x")
    Reading(value=Fraction(3, 10), kind='exact', tol=Fraction(0, 1))
    >>> read_number("0.333333333333", "x").tol
    Fraction(1, 1000000000000)
    >>> read_number("3.000000000000000444e-01", "x")          # numpy.savetxt of 0.1 + 0.2
    Reading(value=Fraction(7500000000000001, 25000000000000000), kind='float', tol=Fraction(0, 1))
    """
    if isinstance(x, bool) or x is None:
        raise InputError(f"{where} = {x!r} is not a number")
    mod = type(x).__module__
    if mod.startswith("sympy"):
        if getattr(x, "is_Rational", False):
            return Reading(Fraction(int(x.p), int(x.q)), "exact")
        if getattr(x, "is_Float", False):
            if not x.is_finite:
                raise InputError(f"{where} = {x} is not finite")
            sign, man, exp, bc = x._mpf_
            return _mpf_reading(sign, man, exp, int(x._prec), where)
        raise InputError(f"{where} = {x} is not a rational or float number")
    if mod.startswith("mpmath"):
        mpf_ = getattr(x, "_mpf_", None)
        if mpf_ is None:
            kind = "complex (mpmath.mpc)" if hasattr(x, "_mpc_") else f"a {type(x).__name__}"
            raise InputError(f"{where} = {x} is {kind}, expected a real number")
        sign, man, exp, bc = mpf_
        if man == 0 and exp != 0:  # +-inf, nan
            raise InputError(f"{where} = {x} is not finite")
        return _mpf_reading(sign, man, exp, bc, where)
    if isinstance(x, Fraction):
        return Reading(x, "exact")
    if isinstance(x, numbers.Integral):
        return Reading(Fraction(int(x)), "exact")
    if isinstance(x, str):
        s = x.strip()
        r = _decimal_reading(s, json_number=isinstance(x, _JsonNumber))
        if r is not None:
            return r
        try:
            return Reading(Fraction(s), "exact")
        except (ValueError, ZeroDivisionError):
            pass
        try:
            fv = float(s)
        except ValueError:
            hint = " (a decimal comma? write 0.3, not 0,3)" if re.fullmatch(r"-?\d+,\d+", s) else ""
            raise InputError(f"{where} = {x!r} is not a number{hint}") from None
        if not math.isfinite(fv):
            raise InputError(f"{where} = {x!r} is not finite") from None
        raise InputError(f"{where} = {x!r} is not a number") from None
    if isinstance(x, numbers.Real):
        fx = float(x)
        if math.isnan(fx):
            raise InputError(f"{where} is NaN")
        if math.isinf(fx):
            raise InputError(f"{where} = {fx} is not finite")
        size = getattr(x, "itemsize", 8)
        if size > 8 and hasattr(x, "as_integer_ratio"):  # numpy longdouble: keep every bit
            return Reading(Fraction(*x.as_integer_ratio()), "float")
        if size < 8:  # numpy float32/float16: the decimal it prints as at its own precision
            return Reading(Fraction(str(x)), "float")
        return Reading(Fraction(repr(fx)), "float")
    if isinstance(x, numbers.Complex):
        raise InputError(f"{where} = {x!r} is complex, expected a real number")
    raise InputError(f"{where} = {x!r} is not a number")


def to_fraction(x: Any, where: str) -> tuple[Fraction, bool]:
    """Convert one scalar to an exact ``Fraction``.

    Returns ``(value, exact)`` where ``exact`` is False for input that carries a
    tolerance (floats, long decimal strings, mpmath numbers; see :func:`read_number`).
    Refuses NaN, infinities, booleans, complex numbers and non-numbers,
    naming ``where`` in the message.
    """
    r = read_number(x, where)
    return r.value, r.kind == "exact"


def _check_tol(readings: Iterable[Reading], float_tol: Fraction) -> Fraction:
    """Tolerance of one check (a pair sum, a vector sum) over the entries it involves.

    The float tolerance if a float is involved, else the sum of the entries' tolerances
    (each entry is within its own tolerance of the intended value, so a sum is within
    the sum of them); 0 when every entry is exact.
    """
    total = Fraction(0)
    has_float = False
    for r in readings:
        has_float = has_float or r.kind == "float"
        total += r.tol
    return max(total, float_tol) if has_float else total


def _show_num(v: Fraction, exact: bool, target: Fraction | None = None) -> str:
    """A value for a message; near ``target`` (1), show the gap so that "1, expected 1" cannot happen."""
    s = fmt(v) if exact else _sci(v)
    if target is not None and v != target:
        d = v - target
        if s in (fmt(target), _sci(target)):
            s = f"{fmt(target)} {'+' if d > 0 else '-'} {_sci(abs(d), 3)}"
    return s


def _gap(d: Fraction) -> str:
    return _sci(abs(d), 3) if d else "0"


class _JsonNumber(str):
    """The text of a JSON number (read with the float rule, see :func:`read_number`)."""


def _as_rows(source: Any, name: str) -> list[list[Any]]:
    """Turn nested lists / numpy arrays / sympy matrices into a list of rows."""
    if hasattr(source, "tolist") and hasattr(source, "shape"):
        shape = tuple(source.shape)
        if len(shape) != 2:
            raise InputError(f"{name} must be a 2-d matrix, got shape {shape}")
        rows = source.tolist()
    else:
        try:
            rows = [list(r) for r in source]
        except TypeError:
            raise InputError(f"{name} must be a square matrix (a list of rows), got {type(source).__name__}") from None
    return rows


_NUMBERISH = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?\d+\s*/\s*\d+$")


def _split_table(text: str, shown: str, delim: str | None) -> list[list[str]]:
    """Rows of cells of a delimited text table, with a one-line error for what people get wrong."""
    numbered = [(n, ln) for n, ln in enumerate(text.splitlines(), 1) if ln.strip() and not ln.lstrip().startswith("#")]
    if not numbered:
        raise InputError(f"matrix file {shown} has no rows")
    body = "\n".join(ln for _, ln in numbered)
    if delim is None:
        delim = "\t" if "\t" in body else ";" if ";" in body else "," if "," in body else " "
    rows = []
    for n, ln in numbered:
        cells = ln.split() if delim == " " else [c.strip() for c in ln.split(delim)]
        while len(cells) > 1 and cells[-1] == "":  # a trailing delimiter (Excel, hand-written)
            cells.pop()
        for c, cell in enumerate(cells, 1):
            if cell == "":
                raise InputError(f"matrix file {shown}: line {n}, column {c} is empty")
        rows.append((n, cells))
    n0, first = rows[0]
    if len(rows) > 1 and not all(_NUMBERISH.match(c) for c in first) and all(_NUMBERISH.match(c) for c in rows[1][1]):
        head = ", ".join(repr(c) for c in first[:4]) + (", ..." if len(first) > 4 else "")
        raise InputError(f"matrix file {shown}: row 1 looks like a header: {head}; remove it or comment it out with '#'")
    return [cells for _, cells in rows]


def _read_file(path: Path) -> Any:
    shown = repr(str(path))
    if not path.exists():
        raise InputError(f"matrix file {shown} does not exist")
    if path.is_dir():
        raise InputError(f"matrix file {shown} is a directory, expected a .json or .csv file")
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv", ".txt", ".tsv", ".dat"):
        raise InputError(f"matrix file {shown}: unknown format {suffix!r}, expected .json or .csv")
    try:
        text = path.read_bytes().decode("utf-8-sig")  # utf-8-sig: drop an Excel byte-order mark
    except UnicodeDecodeError as e:
        raise InputError(f"matrix file {shown} is not UTF-8 text (byte {e.start}); save it as UTF-8 CSV or JSON") from None
    except OSError as e:
        raise InputError(f"matrix file {shown} cannot be read: {e.strerror}") from None
    if suffix == ".json":
        try:
            data = json.loads(text, parse_float=_JsonNumber, parse_int=str)
        except json.JSONDecodeError as e:
            raise InputError(f"matrix file {shown} is not valid JSON: {e.msg} at line {e.lineno}") from None
        if isinstance(data, dict):
            for key in ("P", "matrix", "preference_matrix"):
                if key in data:
                    return data[key]
            raise InputError(f"matrix file {shown}: JSON object needs a key 'P' holding the matrix")
        return data
    return _split_table(text, shown, "\t" if suffix == ".tsv" else None)


@dataclass(frozen=True)
class PreferenceMatrix:
    """A validated preference matrix ``P`` with exact rational entries.

    ``P[i,j]`` is the probability that response ``i`` beats ``j``; valid iff
    ``0 <= P[i,j] <= 1`` and ``P[i,j] + P[j,i] = 1`` (so ``P[i,i] = 1/2``).

    Attributes
    ----------
    entries : tuple of tuples of Fraction
        The matrix, row by row.
    exact : bool
        True when every input entry was exact (no floats, long decimals or mpmath numbers).
    tol : Fraction
        The largest tolerance an entry was read with (0 for exact input; the float
        tolerance for float input; see :func:`read_number`). Predicates on ``P``
        (:mod:`verify.exact.social`) use it.
    repairs : tuple of str
        The exact repairs made to accept the input (empty when none), one sentence each,
        e.g. ``"P[1,0] := 1 - P[0,1] (the pair summed to 1 + 4.44e-17; tolerance 1e-09)"``.
    """

    entries: tuple[tuple[Fraction, ...], ...]
    exact: bool = True
    tol: Fraction = field(default=Fraction(0), compare=False)
    repairs: tuple[str, ...] = field(default=(), compare=False)

    @property
    def K(self) -> int:
        """Number of responses."""
        return len(self.entries)

    def __getitem__(self, ij: tuple[int, int]) -> Fraction:
        i, j = ij
        return self.entries[i][j]

    def rows(self) -> list[list[Fraction]]:
        """The entries as a list of lists of ``Fraction``."""
        return [list(r) for r in self.entries]

    def skew(self) -> list[list[Fraction]]:
        """``S = P - (1/2) 1 1^T`` (skew-symmetric), exactly."""
        h = Fraction(1, 2)
        return [[p - h for p in r] for r in self.entries]

    def to_sympy(self):
        """The matrix as a sympy ``Matrix`` of ``Rational``."""
        import sympy

        return sympy.Matrix([[sympy.Rational(p.numerator, p.denominator) for p in r] for r in self.entries])

    def to_mpmath(self):
        """The matrix as an ``mpmath.matrix`` at the current working precision."""
        import mpmath

        return mpmath.matrix([[mpmath.mpf(p.numerator) / p.denominator for p in r] for r in self.entries])

    def to_numpy(self):
        """The matrix as a float64 numpy array."""
        import numpy as np

        return np.array([[float(p) for p in r] for r in self.entries], dtype=float)

    def to_json(self) -> list[list[str]]:
        """Exact JSON form: entries as ``"p/q"`` strings."""
        return [[fmt_exact(p) for p in r] for r in self.entries]

    def __str__(self) -> str:
        return "\n".join(" ".join(f"{fmt(p):>10}" for p in r) for r in self.entries)


def fmt_exact(x: Fraction) -> str:
    """Exact string of a fraction (``"7/10"``, ``"1"``)."""
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def _listing(items: list[str], limit: int = 3) -> str:
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


def load_preference_matrix(source: Any, *, tol: float = FLOAT_TOL, name: str = "P") -> PreferenceMatrix:
    """Validate and return a :class:`PreferenceMatrix`.

    Parameters
    ----------
    source : list of lists, numpy array, sympy Matrix, PreferenceMatrix, or path
        A path (``str`` or ``Path``) must end in ``.json`` (a list of rows, or
        an object with key ``"P"``) or ``.csv``/``.tsv``/``.txt`` (one row per
        line, cells separated by ``,``, ``;``, a tab or spaces; ``#`` comments
        allowed; a UTF-8 byte-order mark and trailing delimiters are ignored).
        Entries may be numbers or strings like ``"3/10"``.
    tol : float
        Absolute tolerance for float input (see module docstring).

    Returns
    -------
    PreferenceMatrix
        With ``repairs`` listing any exact repair made.

    Raises
    ------
    InputError
        Naming the entry and the rule that fails.

    Examples
    --------
    >>> load_preference_matrix([["1/2", "2/3"], ["1/3", "1/2"]])[0, 1]
    Fraction(2, 3)
    >>> load_preference_matrix([[0.5, 0.1 + 0.2], [0.7, 0.5]]).repairs
    ('P[1,0] := 1 - P[0,1] (the pair summed to 1 + 4e-17; tolerance 1e-09)',)
    """
    if isinstance(source, PreferenceMatrix):
        return source
    if isinstance(source, (str, Path)):
        source = _read_file(Path(source))
    rows = _as_rows(source, name)
    K = len(rows)
    if K < 2:
        raise InputError(f"{name} has {K} row(s): at least K = 2 responses are needed")
    for i, r in enumerate(rows):
        if len(r) != K:
            raise InputError(f"{name} must be square: row {i} has {len(r)} entries, expected {K}")
    reads = [[read_number(x, f"{name}[{i},{j}]") for j, x in enumerate(r)] for i, r in enumerate(rows)]
    vals = [[rd.value for rd in r] for r in reads]
    ftol = Fraction(repr(float(tol)))
    exact = all(rd.kind == "exact" for r in reads for rd in r)
    for i in range(K):
        for j in range(K):
            v, t = vals[i][j], _check_tol([reads[i][j]], ftol)
            if v < -t or v > 1 + t:
                x = rows[i][j]
                shown = x.strip() if isinstance(x, str) else _show_num(v, reads[i][j].kind == "exact")
                raise InputError(f"{name}[{i},{j}] = {shown} is outside [0, 1]")
    clamped, diag, completed = [], [], []
    worst = {"clamp": Fraction(0), "diag": Fraction(0), "pair": Fraction(0)}
    tols = {"clamp": Fraction(0), "diag": Fraction(0), "pair": Fraction(0)}
    for i in range(K):
        for j in range(i, K):
            s = vals[i][j] + vals[j][i]
            pair = [reads[i][j]] if i == j else [reads[i][j], reads[j][i]]
            t = _check_tol(pair, ftol)
            ex = all(rd.kind == "exact" for rd in pair)
            if abs(s - 1) > t:
                if i == j:
                    raise InputError(f"{name}[{i},{i}] = {_show_num(vals[i][i], ex, Fraction(1, 2))}, expected 1/2 (P[i,i] + P[i,i] = 1)")
                raise InputError(
                    f"{name}[{i},{j}] + {name}[{j},{i}] = {_show_num(s, ex, Fraction(1))}, expected 1"
                    + ("" if ex or abs(s - 1) > Fraction(1, 10**6) else f" (tolerance {_sci(t, 3)} for input of this precision)")
                )
    # exact repairs, reported
    for i in range(K):
        if vals[i][i] != Fraction(1, 2):
            worst["diag"] = max(worst["diag"], abs(vals[i][i] - Fraction(1, 2)))
            tols["diag"] = max(tols["diag"], _check_tol([reads[i][i]], ftol))
            diag.append(f"{name}[{i},{i}]")
            vals[i][i] = Fraction(1, 2)
        for j in range(i + 1, K):
            # keep the entry read more exactly (the upper one on a tie)
            a, b = (i, j) if reads[j][i].kind != "exact" or reads[i][j].kind == "exact" else (j, i)
            v = vals[a][b]
            if v < 0 or v > 1:
                c = min(max(v, Fraction(0)), Fraction(1))
                worst["clamp"] = max(worst["clamp"], abs(c - v))
                tols["clamp"] = max(tols["clamp"], _check_tol([reads[a][b]], ftol))
                clamped.append(f"{name}[{a},{b}]")
                vals[a][b] = v = c
            if vals[b][a] != 1 - v:
                d = vals[a][b] + vals[b][a] - 1
                worst["pair"] = max(worst["pair"], abs(d))
                tols["pair"] = max(tols["pair"], _check_tol([reads[a][b], reads[b][a]], ftol))
                completed.append((f"{name}[{b},{a}]", f"{name}[{a},{b}]", d))
                vals[b][a] = 1 - v
    repairs = []
    if diag:
        repairs.append(f"{_listing(diag)} := 1/2 (off by at most {_gap(worst['diag'])}; tolerance {_sci(tols['diag'], 3)})")
    if clamped:
        repairs.append(f"{_listing(clamped)} clipped to [0, 1] (by at most {_gap(worst['clamp'])}; tolerance {_sci(tols['clamp'], 3)})")
    if len(completed) == 1:
        lo, up, d = completed[0]
        repairs.append(f"{lo} := 1 - {up} (the pair summed to 1 {'+' if d > 0 else '-'} {_gap(d)}; tolerance {_sci(tols['pair'], 3)})")
    elif completed:
        repairs.append(
            f"{_listing([c[0] for c in completed])} := 1 - (the transposed entry) "
            f"(pair sums off from 1 by at most {_gap(worst['pair'])}; tolerance {_sci(tols['pair'], 3)})"
        )
    etol = max((_check_tol([rd], ftol) for r in reads for rd in r), default=Fraction(0))
    return PreferenceMatrix(tuple(tuple(r) for r in vals), exact, etol, tuple(repairs))


def _as_list(v: Any, name: str) -> list[Any]:
    if isinstance(v, str):
        parts = [p for p in v.replace(";", ",").split(",")]
        if any(not p.strip() for p in parts):
            raise InputError(f"{name} = {v!r}: empty entry in a comma-separated list")
        return parts
    if hasattr(v, "shape") and hasattr(v, "tolist"):
        shape = tuple(v.shape)
        if len(shape) == 2 and 1 in shape:
            return list(v.reshape(-1).tolist()) if hasattr(v, "reshape") else [x for x in v]
        if len(shape) != 1:
            raise InputError(f"{name} must be a vector, got shape {shape}")
        return list(v.tolist())
    try:
        return list(v)
    except TypeError:
        raise InputError(f"{name} must be a vector, got {type(v).__name__}") from None


class SimplexPoint(tuple):
    """A validated point of the simplex: a tuple of ``Fraction`` with two attributes.

    Attributes
    ----------
    exact : bool
        True when every entry was read exactly.
    repairs : tuple of str
        The exact repairs made to accept the input (empty when none).
    """

    exact: bool
    repairs: tuple[str, ...]

    def __new__(cls, values: Iterable[Fraction], exact: bool = True, repairs: tuple[str, ...] = ()):
        self = super().__new__(cls, values)
        self.exact = exact
        self.repairs = tuple(repairs)
        return self

    def __reduce__(self):
        return (SimplexPoint, (tuple(self), self.exact, self.repairs))


def simplex_vector(
    v: Any,
    K: int | None = None,
    *,
    name: str = "mu",
    interior: bool = False,
    tol: float = FLOAT_TOL,
) -> SimplexPoint:
    """Validate a point of the probability simplex; return exact fractions.

    Parameters
    ----------
    v : sequence of numbers, numpy array, or comma-separated string
    K : int, optional
        Required length.
    interior : bool
        Require every entry to be > 0.

    Returns
    -------
    SimplexPoint
        A tuple of ``Fraction``; its ``repairs`` attribute lists an exact repair
        (clipping a tiny negative entry to 0, dividing by the sum) when one was made.

    >>> simplex_vector("0.2,0.3,0.5")
    (Fraction(1, 5), Fraction(3, 10), Fraction(1, 2))
    >>> simplex_vector([1, 0], interior=True, name="pi_ref")
    Traceback (most recent call last):
    ...
    verify.exact.objects.InputError: pi_ref[1] = 0, expected > 0 (an interior point of the simplex)
    >>> simplex_vector([0.1, 0.2, 0.7 + 1e-12]).repairs
    ('mu divided by its sum 1 + 1e-12 (tolerance 1e-09)',)
    """
    items = _as_list(v, name)
    if K is not None and len(items) != K:
        raise InputError(f"{name} has {len(items)} entries, expected K = {K}")
    if len(items) < 2:
        raise InputError(f"{name} has {len(items)} entries, expected at least 2")
    reads = [read_number(x, f"{name}[{k}]") for k, x in enumerate(items)]
    vals = [r.value for r in reads]
    exact = all(r.kind == "exact" for r in reads)
    ftol = Fraction(repr(float(tol)))
    for k, (x, r) in enumerate(zip(vals, reads)):
        if x < -_check_tol([r], ftol):
            shown = items[k].strip() if isinstance(items[k], str) else _show_num(x, r.kind == "exact")
            raise InputError(f"{name}[{k}] = {shown} < 0, expected >= 0 (a probability)")
    total = sum(vals, Fraction(0))
    t = _check_tol(reads, ftol)
    if abs(total - 1) > t:
        extra = "" if exact or abs(total - 1) > Fraction(1, 10**6) else f" (tolerance {_sci(t, 3)} for input of this precision)"
        raise InputError(f"{name} sums to {_show_num(total, exact, Fraction(1))}, expected 1 (a point of the simplex){extra}")
    repairs = []
    neg = [k for k, x in enumerate(vals) if x < 0]
    if neg:
        repairs.append(f"{_listing([f'{name}[{k}]' for k in neg])} clipped to 0 (by at most {_gap(max(-vals[k] for k in neg))}; tolerance {_sci(t, 3)})")
        vals = [max(x, Fraction(0)) for x in vals]
        total = sum(vals, Fraction(0))
    if total != 1:
        d = total - 1
        repairs.append(f"{name} divided by its sum 1 {'+' if d > 0 else '-'} {_gap(d)} (tolerance {_sci(t, 3)})")
        vals = [x / total for x in vals]
    if interior:
        for k, x in enumerate(vals):
            if x <= 0:
                raise InputError(f"{name}[{k}] = {fmt(x)}, expected > 0 (an interior point of the simplex)")
    return SimplexPoint(vals, exact, tuple(repairs))


def unit_interval(x: Any, name: str) -> Fraction:
    """Validate a parameter in ``[0, 1]`` (``alpha``, ``lambda``)."""
    v, exact = to_fraction(x, name)
    if v < 0 or v > 1:
        raise InputError(f"{name} = {_shower(exact)(v)} is outside [0, 1]")
    return v


def positive(x: Any, name: str) -> Fraction:
    """Validate a strictly positive parameter (``beta``, ``beta_dpo``)."""
    v, exact = to_fraction(x, name)
    if v <= 0:
        raise InputError(f"{name} = {_shower(exact)(v)}, expected > 0")
    return v


def uniform(K: int) -> tuple[Fraction, ...]:
    """The uniform point of the simplex, exactly."""
    return tuple(Fraction(1, K) for _ in range(K))


def one_shot_data(P: Any, mu: Any, pi_ref: Any = None) -> tuple[PreferenceMatrix, tuple[Fraction, ...], tuple[Fraction, ...]]:
    """Validate the data shared by one-shot problems: ``P``, ``mu`` (simplex), ``pi_ref`` (interior, default uniform)."""
    Pm = load_preference_matrix(P)
    m = simplex_vector(mu, Pm.K, name="mu")
    ref = uniform(Pm.K) if pi_ref is None else simplex_vector(pi_ref, Pm.K, name="pi_ref", interior=True)
    return Pm, m, ref


def reference_policies(K: int, pi_ref: Any = None, pi0: Any = None) -> tuple[tuple[Fraction, ...], tuple[Fraction, ...]]:
    """Validate the two fixed policies of an MRS map, ``pi_ref`` and ``pi0`` (interior, default uniform), in that order."""
    ref = uniform(K) if pi_ref is None else simplex_vector(pi_ref, K, name="pi_ref", interior=True)
    p0 = uniform(K) if pi0 is None else simplex_vector(pi0, K, name="pi0", interior=True)
    return ref, p0


class ExactData:
    """Base of the validated exact parameter records (frozen dataclasses whose first field is a
    :class:`PreferenceMatrix` ``P``): ``K``, the exact repairs made to the inputs, and a JSON form
    field by field (``P`` as its JSON, tuples as lists, numbers as they are)."""

    @property
    def K(self) -> int:
        return self.P.K

    @property
    def repairs(self) -> tuple[str, ...]:
        """Exact repairs made to the inputs (``P``, the simplex vectors; see :func:`load_preference_matrix`)."""
        return tuple(r for f in fields(self) for r in getattr(getattr(self, f.name), "repairs", ()))

    def to_json(self) -> dict:
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.to_json() if isinstance(v, PreferenceMatrix) else list(v) if isinstance(v, tuple) else v
        return out


@dataclass(frozen=True)
class OneShotData(ExactData):
    """The validated data every one-shot problem shares (:func:`one_shot_data`); a loss adds its scale as a further field."""

    P: PreferenceMatrix
    mu: tuple[Fraction, ...]
    pi_ref: tuple[Fraction, ...]


def as_sequence_of_rows(P: PreferenceMatrix) -> Sequence[Sequence[Fraction]]:
    """Rows of ``P`` (helper for code that only needs indexing)."""
    return P.entries


def _iter_pairs(K: int) -> Iterable[tuple[int, int]]:
    for i in range(K):
        for j in range(i + 1, K):
            yield i, j
