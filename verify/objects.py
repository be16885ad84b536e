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
verify.objects.InputError: P[0,1] + P[1,0] = 1.3, expected 1
"""

from __future__ import annotations

import csv
import json
import math
import numbers
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Sequence

__all__ = [
    "FLOAT_TOL",
    "InputError",
    "PreferenceMatrix",
    "load_preference_matrix",
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
        if x.denominator == 1:
            return str(x.numerator)
        if x.denominator <= 10**6:
            return f"{x.numerator}/{x.denominator}"
        return f"{float(x):.12g}"
    if isinstance(x, float):
        return f"{x:.12g}"
    return str(x)


def _shower(exact: bool):
    """Format values as fractions for exact input, as decimals for float input."""
    if exact:
        return fmt
    return lambda v: f"{float(v):.12g}"


def to_fraction(x: Any, where: str) -> tuple[Fraction, bool]:
    """Convert one scalar to an exact ``Fraction``.

    Returns ``(value, exact)`` where ``exact`` is False for float input.
    Refuses NaN, infinities, booleans, complex numbers and non-numbers,
    naming ``where`` in the message.
    """
    if isinstance(x, bool) or x is None:
        raise InputError(f"{where} = {x!r} is not a number")
    # sympy numbers, without importing sympy eagerly
    mod = type(x).__module__
    if mod.startswith("sympy"):
        if getattr(x, "is_Rational", False):
            return Fraction(int(x.p), int(x.q)), True
        if getattr(x, "is_Float", False):
            x = float(x)
        else:
            raise InputError(f"{where} = {x} is not a rational or float number")
    if mod.startswith("mpmath"):
        try:
            x = float(x)
        except TypeError:
            raise InputError(f"{where} = {x} is not a real number") from None
    if isinstance(x, Fraction):
        return x, True
    if isinstance(x, numbers.Integral):
        return Fraction(int(x)), True
    if isinstance(x, str):
        s = x.strip()
        try:
            v = Fraction(s)
        except (ValueError, ZeroDivisionError):
            try:
                fv = float(s)
            except ValueError:
                raise InputError(f"{where} = {x!r} is not a number") from None
            if not math.isfinite(fv):
                raise InputError(f"{where} = {x!r} is not finite") from None
            raise InputError(f"{where} = {x!r} is not a number") from None
        return v, True
    if isinstance(x, numbers.Real):
        fx = float(x)
        if math.isnan(fx):
            raise InputError(f"{where} is NaN")
        if math.isinf(fx):
            raise InputError(f"{where} = {fx} is not finite")
        return Fraction(repr(fx)), False
    if isinstance(x, numbers.Complex):
        raise InputError(f"{where} = {x!r} is complex, expected a real number")
    raise InputError(f"{where} = {x!r} is not a number")


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


def _read_file(path: Path) -> Any:
    if not path.exists():
        raise InputError(f"matrix file {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    text = path.read_text()
    if suffix == ".json":
        try:
            data = json.loads(text, parse_float=str, parse_int=str)
        except json.JSONDecodeError as e:
            raise InputError(f"matrix file {str(path)!r} is not valid JSON: {e.msg} at line {e.lineno}") from None
        if isinstance(data, dict):
            for key in ("P", "matrix", "preference_matrix"):
                if key in data:
                    return data[key]
            raise InputError(f"matrix file {str(path)!r}: JSON object needs a key 'P' holding the matrix")
        return data
    if suffix in (".csv", ".txt", ".tsv"):
        delim = "\t" if suffix == ".tsv" else ","
        lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        return [[c.strip() for c in row] for row in csv.reader(lines, delimiter=delim)]
    raise InputError(f"matrix file {str(path)!r}: unknown format {suffix!r}, expected .json or .csv")


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
        True when every input entry was exact (no floats were involved).
    """

    entries: tuple[tuple[Fraction, ...], ...]
    exact: bool = True

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


def load_preference_matrix(source: Any, *, tol: float = FLOAT_TOL, name: str = "P") -> PreferenceMatrix:
    """Validate and return a :class:`PreferenceMatrix`.

    Parameters
    ----------
    source : list of lists, numpy array, sympy Matrix, PreferenceMatrix, or path
        A path (``str`` or ``Path``) must end in ``.json`` (a list of rows, or
        an object with key ``"P"``) or ``.csv`` (one row per line; ``#``
        comments allowed). Entries may be numbers or strings like ``"3/10"``.
    tol : float
        Absolute tolerance for float input (see module docstring).

    Returns
    -------
    PreferenceMatrix

    Raises
    ------
    InputError
        Naming the entry and the rule that fails.

    Examples
    --------
    >>> load_preference_matrix([["1/2", "2/3"], ["1/3", "1/2"]])[0, 1]
    Fraction(2, 3)
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
    vals: list[list[Fraction]] = []
    exact = True
    for i, r in enumerate(rows):
        row = []
        for j, x in enumerate(r):
            v, ex = to_fraction(x, f"{name}[{i},{j}]")
            exact = exact and ex
            row.append(v)
        vals.append(row)
    ftol = Fraction(0) if exact else Fraction(repr(float(tol)))
    show = _shower(exact)
    for i in range(K):
        for j in range(K):
            v = vals[i][j]
            if v < -ftol or v > 1 + ftol:
                raise InputError(f"{name}[{i},{j}] = {show(v)} is outside [0, 1]")
    for i in range(K):
        for j in range(i, K):
            s = vals[i][j] + vals[j][i]
            if abs(s - 1) > ftol:
                if i == j:
                    raise InputError(f"{name}[{i},{i}] = {show(vals[i][i])}, expected 1/2 (P[i,i] + P[i,i] = 1)")
                raise InputError(f"{name}[{i},{j}] + {name}[{j},{i}] = {show(s)}, expected 1")
    if not exact:
        for i in range(K):
            vals[i][i] = Fraction(1, 2)
            for j in range(i + 1, K):
                vals[i][j] = min(max(vals[i][j], Fraction(0)), Fraction(1))
                vals[j][i] = 1 - vals[i][j]
    return PreferenceMatrix(tuple(tuple(r) for r in vals), exact)


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


def simplex_vector(
    v: Any,
    K: int | None = None,
    *,
    name: str = "mu",
    interior: bool = False,
    tol: float = FLOAT_TOL,
) -> tuple[Fraction, ...]:
    """Validate a point of the probability simplex; return exact fractions.

    Parameters
    ----------
    v : sequence of numbers, numpy array, or comma-separated string
    K : int, optional
        Required length.
    interior : bool
        Require every entry to be > 0.

    >>> simplex_vector("0.2,0.3,0.5")
    (Fraction(1, 5), Fraction(3, 10), Fraction(1, 2))
    >>> simplex_vector([1, 0], interior=True, name="pi_ref")
    Traceback (most recent call last):
    ...
    verify.objects.InputError: pi_ref[1] = 0, expected > 0 (an interior point of the simplex)
    """
    items = _as_list(v, name)
    if K is not None and len(items) != K:
        raise InputError(f"{name} has {len(items)} entries, expected K = {K}")
    if len(items) < 2:
        raise InputError(f"{name} has {len(items)} entries, expected at least 2")
    vals = []
    exact = True
    for k, x in enumerate(items):
        val, ex = to_fraction(x, f"{name}[{k}]")
        exact = exact and ex
        vals.append(val)
    ftol = Fraction(0) if exact else Fraction(repr(float(tol)))
    show = _shower(exact)
    for k, x in enumerate(vals):
        if x < -ftol:
            raise InputError(f"{name}[{k}] = {show(x)} is negative, expected >= 0")
    total = sum(vals, Fraction(0))
    if abs(total - 1) > ftol:
        d = total - 1
        shown = show(total)
        if shown in ("1", "1.0"):
            shown = f"1 {'+' if d > 0 else '-'} {float(abs(d)):.3g}"
        raise InputError(f"{name} sums to {shown}, expected 1 (a point of the simplex)")
    if not exact:
        vals = [max(x, Fraction(0)) for x in vals]
        total = sum(vals, Fraction(0))
        vals = [x / total for x in vals]
    if interior:
        for k, x in enumerate(vals):
            if x <= 0:
                raise InputError(f"{name}[{k}] = {fmt(x)}, expected > 0 (an interior point of the simplex)")
    return tuple(vals)


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


def as_sequence_of_rows(P: PreferenceMatrix) -> Sequence[Sequence[Fraction]]:
    """Rows of ``P`` (helper for code that only needs indexing)."""
    return P.entries


def _iter_pairs(K: int) -> Iterable[tuple[int, int]]:
    for i in range(K):
        for j in range(i + 1, K):
            yield i, j
