r"""Certified spectra: enclosures of every eigenvalue of a ball matrix, and which side of the unit circle they lie.

:func:`certify_spectrum` takes a square matrix of balls (``arb_mat``/``acb_mat``, or rows of exact numbers
or ``arb``/``acb`` balls) and returns a :class:`SpectrumCertificate`: an enclosure of each eigenvalue, of its
modulus, of the spectral radius ``[lo, hi]`` (exact rationals), and ``side``:

* ``"inside"``: certified ``|lambda| < 1`` for every eigenvalue (``hi < 1``);
* ``"outside"``: certified ``|lambda| > 1`` for some eigenvalue (``lo > 1``);
* ``"undecided"``: the enclosure of the spectral radius contains 1 (or the eigenvalues could not be isolated).

The enclosures hold for *every* matrix in the ball. They come from Arb's ``acb_mat_eig_simple`` (van der
Hoeven–Mourrain) or, when eigenvalues may coincide, ``acb_mat_eig_multiple`` (Rump's ``verifyeig``), whose
outputs enclose the eigenvalues of every exact matrix contained in the input (Arb's contract: every output
ball contains the exact result for every exact input in the input balls). The precision is raised (x2, x4)
when the eigenvalues cannot be isolated; when that still fails the radius is bounded by Gershgorin's
theorem (``rho <= min(max row sum, max column sum)`` of moduli; ``lo = 0``) and ``method`` says so.

>>> from fractions import Fraction as F
>>> c = certify_spectrum([[F(1, 2), F(-1, 3)], [F(1, 3), F(1, 2)]])     # 1/2 ± i/3
>>> c.side, c.radius.text(8)
('inside', '[0.60092521, 0.60092522]')
>>> certify_spectrum([[F(3, 5), -1], [1, F(3, 5)]]).side                  # |3/5 ± i| > 1
'outside'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from verify.certified.balls import (
    DEFAULT_PREC,
    Interval,
    digits_of,
    exact_rational,
    flint_module,
    interval_of,
    working_precision,
)
from verify.exact.objects import InputError

__all__ = ["SIDES", "Eigenvalue", "SpectrumCertificate", "certify_spectrum", "side_of", "to_acb_mat", "to_arb_mat"]

#: The possible values of :attr:`SpectrumCertificate.side`.
SIDES = ("inside", "outside", "undecided")


@dataclass(frozen=True)
class Eigenvalue:
    """Enclosures of one eigenvalue: real part, imaginary part, modulus."""

    re: Interval
    im: Interval
    modulus: Interval

    def text(self, digits: int = 20) -> str:
        return f"re {self.re.text(digits)}, im {self.im.text(digits)}, |.| {self.modulus.text(digits)}"

    def to_json(self) -> dict:
        return {"re": self.re.to_json(), "im": self.im.to_json(), "modulus": self.modulus.to_json()}


@dataclass(frozen=True)
class SpectrumCertificate:
    """Enclosures of the spectrum of every matrix in a ball matrix (see the module docstring)."""

    n: int
    eigenvalues: tuple[Eigenvalue, ...]
    radius: Interval
    side: str
    prec: int
    method: str
    input_radius: Fraction = Fraction(0)
    notes: tuple[str, ...] = field(default=())

    @property
    def decided(self) -> bool:
        return self.side != "undecided"

    def to_json(self) -> dict:
        return {
            "n": self.n,
            "side": self.side,
            "spectral_radius": self.radius.to_json(),
            "eigenvalues": [e.to_json() for e in self.eigenvalues],
            "prec_bits": self.prec,
            "digits": digits_of(self.prec),
            "method": self.method,
            "input_radius": _short(self.input_radius),
            "notes": list(self.notes),
        }

    def text(self, digits: int = 20) -> str:
        lines = [f"spectral radius in {self.radius.text(digits)}: {_side_words(self.side)}"]
        for k, e in enumerate(self.eigenvalues):
            lines.append(f"  eigenvalue {k}: {e.text(digits)}")
        lines.append(f"  ({self.method}, {self.prec} bits; entries of the matrix enclosed to radius <= {_short(self.input_radius)})")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def _short(q: Fraction) -> str:
    from verify.certified.balls import decimal_up

    return decimal_up(q, 3)


def _side_words(side: str) -> str:
    return {
        "inside": "every |eigenvalue| < 1 (certified)",
        "outside": "some |eigenvalue| > 1 (certified)",
        "undecided": "the enclosure contains 1: undecided",
    }[side]


def side_of(radius: Interval) -> str:
    """``"inside"`` when ``hi < 1``, ``"outside"`` when ``lo > 1``, else ``"undecided"``."""
    if radius.hi < 1:
        return "inside"
    if radius.lo > 1:
        return "outside"
    return "undecided"


def _entry(flint, x: Any, where: str):
    if isinstance(x, (flint.arb, flint.acb)):
        return flint.acb(x)
    q = exact_rational(x, where)
    return flint.acb(flint.arb(flint.fmpq(q.numerator, q.denominator)))


def to_acb_mat(J: Any):
    """A square ``acb_mat`` from an ``arb_mat``/``acb_mat`` or rows of balls/exact numbers (floats refused)."""
    flint = flint_module()
    if isinstance(J, flint.acb_mat):
        M = J
    elif isinstance(J, flint.arb_mat):
        M = flint.acb_mat(J)
    else:
        try:
            rows = [list(r) for r in J]
        except TypeError:
            raise InputError("the matrix must be an arb_mat, an acb_mat or a list of rows") from None
        M = flint.acb_mat([[_entry(flint, x, f"J[{i},{j}]") for j, x in enumerate(r)] for i, r in enumerate(rows)])
    if M.nrows() != M.ncols() or M.nrows() == 0:
        raise InputError(f"the matrix must be square and non-empty, got {M.nrows()} x {M.ncols()}")
    return M


def to_arb_mat(J: Any):
    """A square real ``arb_mat`` (see :func:`to_acb_mat`); complex entries are refused."""
    flint = flint_module()
    if isinstance(J, flint.arb_mat):
        return J
    M = to_acb_mat(J)
    n = M.nrows()
    out = flint.arb_mat(n, n)
    for i in range(n):
        for j in range(n):
            z = M[i, j]
            if not z.imag.is_zero():
                raise InputError(f"J[{i},{j}] is complex; a real matrix is expected here")
            out[i, j] = z.real
    return out


def _input_radius(M) -> Fraction:
    worst = Fraction(0)
    for i in range(M.nrows()):
        for j in range(M.ncols()):
            z = M[i, j]
            for part in (z.real, z.imag):
                worst = max(worst, interval_of(part.rad()).hi)
    return worst


def _eigen(M, multiple: bool):
    try:
        E = M.eig(multiple=multiple)
    except (ValueError, ZeroDivisionError):
        return None
    if any(not (z.real.is_finite() and z.imag.is_finite()) for z in E):
        return None
    return E


def _gershgorin(flint, M) -> Fraction:
    n = M.nrows()
    rows = [sum((abs(M[i, j]) for j in range(n)), flint.arb(0)) for i in range(n)]
    cols = [sum((abs(M[i, j]) for i in range(n)), flint.arb(0)) for j in range(n)]
    return min(max(interval_of(r).hi for r in rows), max(interval_of(c).hi for c in cols))


def certify_spectrum(J: Any, *, prec: int = DEFAULT_PREC) -> SpectrumCertificate:
    """Enclose every eigenvalue of every matrix in the ball matrix ``J`` and decide the side of the unit circle.

    Parameters
    ----------
    J : arb_mat, acb_mat, or a list of rows
        Entries are balls (``arb``/``acb``) or exact numbers (:func:`~verify.certified.balls.exact_rational`:
        floats are refused). The enclosures hold for every matrix whose entries lie in these balls.
    prec : int
        Working precision in bits (raised to 2x and 4x when the eigenvalues cannot be isolated).

    Returns
    -------
    SpectrumCertificate
    """
    notes: list[str] = []
    for p in (prec, 2 * prec, 4 * prec):
        with working_precision(p) as flint:
            M = to_acb_mat(J)
            rad = _input_radius(M)
            E, method = _eigen(M, multiple=False), "acb_mat.eig (van der Hoeven-Mourrain)"
            if E is None:
                E, method = _eigen(M, multiple=True), "acb_mat.eig(multiple=True) (Rump)"
            if E is None:
                notes.append(f"eigenvalues not isolated at {p} bits")
                continue
            eigs = []
            for z in E:
                mod = Interval(_nonneg(interval_of(z.abs_lower()).lo), interval_of(z.abs_upper()).hi)
                eigs.append(Eigenvalue(interval_of(z.real), interval_of(z.imag), mod))
            radius = Interval(max(e.modulus.lo for e in eigs), max(e.modulus.hi for e in eigs))
            eigs.sort(key=lambda e: (-(e.modulus.lo + e.modulus.hi), e.im.lo))
            return SpectrumCertificate(M.nrows(), tuple(eigs), radius, side_of(radius), p, method, rad, tuple(notes))
    with working_precision(prec) as flint:
        M = to_acb_mat(J)
        hi = _gershgorin(flint, M)
        rad = _input_radius(M)
    radius = Interval(Fraction(0), hi)
    notes.append("spectral radius bounded by Gershgorin's theorem only (no lower bound)")
    side = "inside" if hi < 1 else "undecided"
    return SpectrumCertificate(M.nrows(), (), radius, side, prec, "Gershgorin discs", rad, tuple(notes))


def _nonneg(x: Fraction) -> Fraction:
    return max(x, Fraction(0))
