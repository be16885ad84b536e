r"""A claimed stability threshold against a certified instance: agree, contradict, or undecided.

A threshold claim (DYN-1, DYN-6, DPO-4) says that at the uniform fixed point the squared spectral radius
is ``m`` (a closed form) and that the point is unstable iff ``m > 1``. :func:`compare_threshold` certifies
the instance (:func:`verify.certified.fixed_point.certify_instance`, with the box centred at the uniform
point) and compares:

* ``"contradicts"`` when a certificate contradicts the claim: the certified verdict (stable/unstable) is the
  opposite of the claimed side, or the certified enclosure of ``rho^2`` is disjoint from the claimed ``m``
  (an :class:`~verify.certified.balls.Interval`, exact when ``m`` is rational), or the uniform point is
  certified *not* to be a fixed point (the residual of the fixed-point system at ``l = 0`` excludes 0);
* ``"agrees"`` when both are decided and consistent;
* ``"undecided"`` otherwise (no box, or an enclosure that contains 1).

>>> from fractions import Fraction as F
>>> from verify.exact.families import cyclic
>>> a, al, be, la = F(3, 10), F(1, 2), F(8), F(1)
>>> r = compare_threshold(cyclic(a), al, be, la, claimed=al**2 + a**2 * be**2 * la**2 / 3)     # DYN-1
>>> r.status, r.claimed_side, r.certificate.verdict
('agrees', 'outside', 'certified unstable')
>>> compare_threshold(cyclic(a), al, be, la, claimed=al**2 + a**2 * be**2 * la**2 / 4).status   # a planted 1/4
'contradicts'
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from verify.certified.balls import DEFAULT_PREC, Interval, ball, digits_of, interval_of, working_precision
from verify.certified.chart import ChartSystem
from verify.certified.fixed_point import InstanceCertificate, certify_instance
from verify.certified.spectrum import side_of

__all__ = ["ThresholdComparison", "ThresholdSummary", "compare_threshold", "summarise", "square"]


@dataclass(frozen=True)
class ThresholdComparison:
    """The claimed ``rho^2`` and side against the certificate of one instance."""

    certificate: InstanceCertificate
    claimed: Interval
    claimed_side: str
    modulus_sq: Interval | None
    status: str  #: "agrees", "contradicts" or "undecided"
    why: str

    def to_json(self) -> dict:
        fp = self.certificate.fixed_point
        return {
            "instance": self.certificate.instance.to_json(),
            "status": self.status,
            "why": self.why,
            "claimed_modulus_sq": self.claimed.to_json(),
            "claimed_side": self.claimed_side,
            "certified_modulus_sq": None if self.modulus_sq is None else self.modulus_sq.to_json(),
            "verdict": self.certificate.verdict,
            "box": [iv.to_json(12) for iv in fp.box],
            "unique_in": [iv.to_json(6) for iv in fp.unique_in],
            "spectral_radius": None if self.certificate.spectrum is None else self.certificate.spectrum.radius.to_json(),
        }

    def short(self) -> str:
        """One line: the instance, the claimed and certified rho^2, the verdict."""
        inst = self.certificate.instance
        ms = "none" if self.modulus_sq is None else self.modulus_sq.text(12)
        return (f"K = {inst.K}, alpha = {inst.alpha}, {inst.scale_name} = {inst.scale}, lam = {inst.lam}: claimed rho^2 "
                f"{self.claimed.text(12)}, certified rho^2 in {ms} ({self.certificate.verdict})")


def square(iv: Interval) -> Interval:
    """``{x^2 : x in iv}`` for ``iv`` with ``lo >= 0``."""
    if iv.lo < 0:
        raise ValueError("square() expects a non-negative interval")
    return Interval(iv.lo * iv.lo, iv.hi * iv.hi)


def _as_interval(x: Any) -> Interval:
    if isinstance(x, Interval):
        return x
    q = Fraction(x) if not isinstance(x, Fraction) else x
    return Interval(q, q)


def _uniform_residual(inst, prec: int) -> str | None:
    """A description when the fixed-point system at ``l = 0`` (with the only ``y`` the fixed-point equation allows, for
    DPO) is certified non-zero: then the uniform point is not a fixed point. None otherwise."""
    with working_precision(prec):
        sys = ChartSystem(inst)
        zero = [sys.zero] * sys.n
        X = zero + (sys.optimum_of_chart(zero) if inst.loss == "dpo" else [])
        for i, r in enumerate(sys.residual(X)):
            if not r.contains(0):
                return f"component {i} of the residual at l = 0 is in {interval_of(r).text(8)}"
    return None


def compare_threshold(P: Any, alpha: Any, scale: Any, lam: Any, *, claimed: Any, loss: str = "ipo", prec: int = DEFAULT_PREC) -> ThresholdComparison:
    """Certify the instance at the uniform point (``pi_0 = pi_ref`` uniform) and compare it with the claimed ``rho^2``.

    ``claimed`` is the claimed squared spectral radius: an exact rational or an :class:`Interval` enclosing it.
    """
    cl = _as_interval(claimed)
    cside = side_of(cl)  # rho^2 < 1 iff rho < 1
    K = len(P)
    cert = certify_instance(P, alpha, scale, lam, loss=loss, guess=[Fraction(1, K)] * K, prec=prec)
    fp = cert.fixed_point
    off = _uniform_residual(cert.instance, prec)
    if off is not None:
        return ThresholdComparison(cert, cl, cside, None, "contradicts", f"the uniform point is certified not to be a fixed point ({off})")
    if not fp.proved:
        return ThresholdComparison(cert, cl, cside, None, "undecided", "no fixed-point box certified: " + fp.reason)
    spec = cert.spectrum
    with working_precision(prec):
        r = spec.radius
        lo, hi = ball(r.lo), ball(r.hi)
        ms = Interval(interval_of(lo * lo).lo, interval_of(hi * hi).hi)
    if cert.verdict != "undecided" and cside != "undecided":
        certified_side = "inside" if cert.verdict == "certified stable" else "outside"
        if certified_side != cside:
            return ThresholdComparison(cert, cl, cside, ms, "contradicts",
                                       f"the claim puts rho^2 {'below' if cside == 'inside' else 'above'} 1, but the point is {cert.verdict}")
    if ms.hi < cl.lo or cl.hi < ms.lo:
        return ThresholdComparison(cert, cl, cside, ms, "contradicts",
                                   f"the certified rho^2 enclosure {ms.text(15)} excludes the claimed {cl.text(15)}")
    if cert.verdict == "undecided" or cside == "undecided":
        return ThresholdComparison(cert, cl, cside, ms, "undecided", "the enclosure of rho (or the claimed value) contains 1")
    return ThresholdComparison(cert, cl, cside, ms, "agrees", f"{cert.verdict}, as claimed; the certified rho^2 enclosure contains the claimed value")


@dataclass(frozen=True)
class ThresholdSummary:
    """What a checker reports about several comparisons: counts, the widest enclosure, one line per instance."""

    n: int
    agrees: int
    contradictions: tuple[ThresholdComparison, ...]
    undecided: tuple[ThresholdComparison, ...]
    max_width: Fraction
    prec: int
    lines: tuple[str, ...]

    @property
    def digits(self) -> int:
        return digits_of(self.prec)

    stable: int = 0
    unstable: int = 0


def summarise(comparisons: list[ThresholdComparison], prec: int = DEFAULT_PREC) -> ThresholdSummary:
    """Counts, the first contradictions, the widest enclosure of ``rho^2`` and a one-line rendering of each instance."""
    widths = [c.modulus_sq.width for c in comparisons if c.modulus_sq is not None]
    return ThresholdSummary(
        len(comparisons),
        sum(c.status == "agrees" for c in comparisons),
        tuple(c for c in comparisons if c.status == "contradicts"),
        tuple(c for c in comparisons if c.status == "undecided"),
        max(widths, default=Fraction(0)),
        prec,
        tuple(c.short() for c in comparisons),
        sum(c.certificate.verdict == "certified stable" for c in comparisons),
        sum(c.certificate.verdict == "certified unstable" for c in comparisons),
    )
