r"""Certified fixed points of the MRS maps, and certified stability of an instance.

:func:`certify_fixed_point` proves, by the Krawczyk test (:mod:`verify.certified.krawczyk`) on the chart
system of :mod:`verify.certified.chart`, that the MRS-IPO or MRS-DPO map has **exactly one fixed point in an
explicit box** of the log-ratio chart ``l_i = log(pi_i / pi_{K-1})``, and narrows the box around it. A float
guess (by default the project's float64 Newton, :func:`verify.numerics.phase.batch_fixed_points`) and a
Newton polish on midpoints only choose the box; the proof is the inclusion ``K(X) ⊂ int X`` in ball
arithmetic. For MRS-DPO the proof is on the joint system in ``(l, y)`` (chart and optimum): the box of ``y``
is chosen to contain ``b (1 - alpha)(X_l - c)``, the only ``y`` that the fixed-point equation allows for
``l in X_l`` (checked in ball arithmetic), so the joint uniqueness is uniqueness of the fixed point in
``X_l``.

:func:`certify_instance` adds the Jacobian of the map enclosed over the final box (so it encloses the
Jacobian at the fixed point), its certified spectrum (:func:`verify.certified.spectrum.certify_spectrum`),
the verdict ``"certified stable"`` (spectral radius < 1: a hyperbolic attracting fixed point) /
``"certified unstable"`` (> 1) / ``"undecided"``, and for MRS-IPO the DYN-2 contraction bound
(:func:`verify.certified.contraction.certify_contraction`).

>>> from verify.exact.families import cyclic
>>> c = certify_instance(cyclic("3/10"), "1/2", 8, 1)       # DYN-1: modulus^2 = 1/4 + (9/100)(64)/3 = 217/100
>>> c.verdict, c.fixed_point.proved, c.spectrum.radius.text(12)
('certified unstable', True, '[1.47309198626, 1.47309198627]')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Sequence

from verify.certified.balls import DEFAULT_PREC, Interval, ball, centre_ball, digits_of, exact_rational, interval_of, working_precision
from verify.certified.chart import ChartSystem, MapInstance, map_instance
from verify.certified.contraction import ContractionCertificate, certify_contraction
from verify.certified.krawczyk import krawczyk, newton_midpoint
from verify.certified.spectrum import SpectrumCertificate, certify_spectrum
from verify.exact.objects import InputError

__all__ = [
    "VERDICTS",
    "FixedPointCertificate",
    "InstanceCertificate",
    "certify_fixed_point",
    "certify_instance",
    "float_guess",
    "box_balls",
    "equation_residual",
]

#: The verdicts of :class:`InstanceCertificate`.
VERDICTS = ("certified stable", "certified unstable", "undecided")
#: Radii (relative to 1 + |centre|) tried for the Krawczyk box, widest first: the first that passes is the
#: uniqueness region.
RADII = (Fraction(1, 2**8), Fraction(1, 2**16), Fraction(1, 2**30))


@dataclass(frozen=True)
class FixedPointCertificate:
    """A Krawczyk proof of a unique fixed point in a box of the chart (see the module docstring).

    ``unique_in``: the box ``X0`` in which the fixed point is unique (chart ``l``; for DPO also ``y``);
    ``box``: the narrowed box that contains it; ``policy``: enclosures of ``pi`` at it; ``optimum``: DPO only,
    the box of the pinned optimum ``y = x* - x*_{K-1}``; ``kappa``: the contraction factor of the Krawczyk map
    on ``X0`` (< 1); ``reason``: why not, when ``proved`` is False.
    """

    instance: MapInstance
    proved: bool
    box: tuple[Interval, ...]
    unique_in: tuple[Interval, ...]
    policy: tuple[Interval, ...]
    optimum: tuple[Interval, ...]
    kappa: Fraction | None
    prec: int
    iterations: int
    guess: str
    reason: str = ""

    def to_json(self) -> dict:
        return {
            "instance": self.instance.to_json(),
            "chart": "l_i = log(pi_i / pi_{K-1}), i = 0..K-2",
            "proved": self.proved,
            "box": [iv.to_json() for iv in self.box],
            "unique_in": [iv.to_json() for iv in self.unique_in],
            "policy": [iv.to_json() for iv in self.policy],
            "optimum": [iv.to_json() for iv in self.optimum],
            "kappa": None if self.kappa is None else float(self.kappa),
            "prec_bits": self.prec,
            "digits": digits_of(self.prec),
            "narrowing_steps": self.iterations,
            "guess": self.guess,
            "reason": self.reason,
        }

    def text(self, digits: int = 20) -> str:
        if not self.proved:
            return f"fixed point: NOT certified ({self.reason})"
        n = self.instance.K - 1
        lines = [f"fixed point: certified unique in the box X0 (Krawczyk, contraction factor <= {_f(self.kappa)}, {self.prec} bits)"]
        for i, iv in enumerate(self.unique_in[:n]):
            lines.append(f"  X0: l_{i} in {iv.text(8)}")
        for i, iv in enumerate(self.unique_in[n:]):
            lines.append(f"  X0: y_{i} in {iv.text(8)}   (DPO optimum, x*_{i} - x*_{n})")
        lines.append(f"  it lies in the narrowed box ({self.iterations} narrowing steps):")
        for i, iv in enumerate(self.box[:n]):
            lines.append(f"    l_{i} = log(pi_{i}/pi_{n}) in {iv.text(digits)}")
        for i, iv in enumerate(self.optimum):
            lines.append(f"    y_{i} = x*_{i} - x*_{n} in {iv.text(digits)}")
        for i, iv in enumerate(self.policy):
            lines.append(f"    pi_{i} in {iv.text(digits)}")
        return "\n".join(lines)


@dataclass(frozen=True)
class InstanceCertificate:
    """Fixed-point box, Jacobian enclosure, certified spectrum and verdict of one instance (and DYN-2's bound for IPO)."""

    fixed_point: FixedPointCertificate
    jacobian: tuple[tuple[Interval, ...], ...]
    spectrum: SpectrumCertificate | None
    verdict: str
    contraction: ContractionCertificate | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def instance(self) -> MapInstance:
        return self.fixed_point.instance

    def to_json(self) -> dict:
        return {
            "verdict": self.verdict,
            "fixed_point": self.fixed_point.to_json(),
            "jacobian": [[iv.to_json() for iv in row] for row in self.jacobian],
            "spectrum": None if self.spectrum is None else self.spectrum.to_json(),
            "contraction": None if self.contraction is None else self.contraction.to_json(),
            "notes": list(self.notes),
        }

    def text(self, digits: int = 20) -> str:
        inst = self.instance
        head = (f"MRS-{inst.loss.upper()}, K = {inst.K}: alpha = {_q(inst.alpha)}, {inst.scale_name} = {_q(inst.scale)}, "
                f"lam = {_q(inst.lam)}")
        lines = [head, f"verdict: {self.verdict.upper()}", self.fixed_point.text(digits)]
        if self.jacobian:
            lines.append("Jacobian of the map in the chart, enclosed over the narrowed box:")
            for i, row in enumerate(self.jacobian):
                lines.append(f"  row {i}: " + "  ".join(iv.text(digits) for iv in row))
        if self.spectrum is not None:
            lines.append(self.spectrum.text(digits))
        if self.contraction is not None:
            lines.append(self.contraction.text(digits))
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def _f(x: Fraction | None) -> str:
    return "?" if x is None else f"{float(x):.3g}"


def _q(x: Fraction) -> str:
    return str(x)


def float_guess(inst: MapInstance) -> list[float]:
    """A float64 fixed point (policy ``pi``) from :func:`verify.numerics.phase.batch_fixed_points`; uniform when it fails."""
    import numpy as np

    from verify.numerics.phase import batch_fixed_points

    K = inst.K
    P = np.array([[float(x) for x in r] for r in inst.P])
    pi, conv, _, _ = batch_fixed_points(P, np.array([float(inst.alpha)]), np.array([float(inst.scale)]), np.array([float(inst.lam)]),
                                        np.array([float(x) for x in inst.pi_ref]), np.array([float(x) for x in inst.pi0]),
                                        loss=inst.loss)
    if conv[0] and np.all(pi[0] > 0):
        return [float(v) for v in pi[0]]
    return [1.0 / K] * K


def _chart_start(sys: ChartSystem, guess: Sequence[Any]) -> list:
    """Box centre from a guess policy ``pi`` (K entries, any numbers) or chart point (K - 1 entries)."""
    flint = sys.flint
    n = sys.n
    g = list(guess)
    if len(g) == sys.K:
        p = [centre_ball(v) for v in g]
        if any(not v > 0 for v in p):
            raise InputError("the guess must be an interior policy (every entry > 0)")
        l = [(p[i] / p[n]).log().mid() for i in range(n)]
    elif len(g) == n:
        l = [centre_ball(v) for v in g]
    else:
        raise InputError(f"the guess has {len(g)} entries, expected K = {sys.K} (a policy) or K - 1 = {n} (a chart point)")
    if sys.inst.loss == "dpo":
        l = l + [v.mid() for v in sys.optimum_of_chart(l)]
    return [flint.arb(v).mid() for v in l]


def _prove(sys: ChartSystem, start: list):
    """Polish the centre by Newton on midpoints, then try the Krawczyk test on the boxes of :data:`RADII`."""
    centre = newton_midpoint(sys.residual, sys.residual_jacobian, start)
    last = None
    for rel in RADII:
        radius = [rel * (1 + abs(_fr(c))) for c in centre]
        if sys.inst.loss == "dpo":
            n = sys.n
            bl = abs(_fr(sys.scale.mid())) * (1 - sys.inst.alpha)  # b (1 - alpha) >= 0, y = b (1 - alpha)(l - c)
            for i in range(n):
                radius[n + i] = max(radius[n + i], 2 * bl * radius[i] + rel * Fraction(1, 2**20))
        res = krawczyk(sys.residual, sys.residual_jacobian, centre, radius)
        last = res
        if res.proved:
            if sys.inst.loss == "dpo" and not _y_image_inside(sys, res):
                last = res.__class__(False, res.initial, res.initial, res.kappa, 0,
                                     "the y-box does not contain b (1 - alpha)(X_l - c): uniqueness of l not shown")
                continue
            return res
    return last


def _y_image_inside(sys: ChartSystem, res) -> bool:
    """DPO: ``b (1 - alpha)(X_l - c)`` (the only ``y`` a fixed point ``l in X_l`` can have) lies in the y-box."""
    n = sys.n
    X0 = list(res.initial_balls)
    img = sys.optimum_of_chart(X0[:n])
    return all(X0[n + i].contains(img[i]) for i in range(n))


def _fr(a) -> Fraction:
    return interval_of(a.mid()).lo


def _certify(inst: MapInstance, guess: Any, prec: int):
    """``(FixedPointCertificate, ChartSystem, final balls)`` inside the caller's working precision.

    Without a guess: Newton on midpoints from the uniform point first, then the project's float64 Newton
    (:func:`float_guess`) when that box is not certified."""
    sys = ChartSystem(inst)
    n = sys.n
    if guess is not None:
        starts = [(guess, "given")]
    else:
        starts = [([0] * n, "Newton on midpoints from the uniform point"), (None, "float64 Newton (verify.numerics.phase.batch_fixed_points)")]
    for g, gtext in starts:
        res = _prove(sys, _chart_start(sys, float_guess(inst) if g is None else g))
        if res.proved:
            break
    if not res.proved:
        empty = FixedPointCertificate(inst, False, res.initial, res.initial, (), (), res.kappa, prec, 0, gtext, res.reason)
        return empty, sys, None
    X = list(res.balls)
    pol = tuple(interval_of(p) for p in sys.policy(X[:n]))
    opt = tuple(res.box[n:]) if inst.loss == "dpo" else ()
    cert = FixedPointCertificate(inst, True, tuple(res.box), tuple(res.initial), pol, opt, res.kappa, prec, res.iterations, gtext)
    return cert, sys, X


def certify_fixed_point(P: Any, alpha: Any, scale: Any, lam: Any, *, loss: str = "ipo", pi_ref: Any = None, pi0: Any = None,
                        guess: Any = None, prec: int = DEFAULT_PREC, allow_float: bool = False) -> FixedPointCertificate:
    """Prove that the MRS map (``loss`` ``"ipo"`` or ``"dpo"``) has exactly one fixed point in an explicit box.

    Parameters
    ----------
    P, alpha, scale, lam, pi_ref, pi0
        The instance, read exactly (:func:`verify.certified.chart.map_instance`). ``scale`` is ``beta`` for
        MRS-IPO and ``beta_dpo`` for MRS-DPO. Binary floats are refused unless ``allow_float=True``, which
        certifies the instance at the floats' exact binary values (``0.3`` is then 5404319552844595/2^54).
    guess : sequence, optional
        An approximate fixed point: a policy ``pi`` (``K`` entries) or a chart point ``l`` (``K - 1``), any
        numbers (floats fine: it only places the box). Default: :func:`float_guess`.
    prec : int
        Working precision in bits.

    Returns
    -------
    FixedPointCertificate
        ``proved`` False (with ``reason``) when the test fails: nothing is claimed then.
    """
    inst = map_instance(P, alpha, scale, lam, loss=loss, pi_ref=pi_ref, pi0=pi0, allow_float=allow_float)
    with working_precision(prec):
        cert, _, _ = _certify(inst, guess, prec)
    return cert


def certify_instance(P: Any, alpha: Any, scale: Any, lam: Any, *, loss: str = "ipo", pi_ref: Any = None, pi0: Any = None,
                     guess: Any = None, prec: int = DEFAULT_PREC, allow_float: bool = False) -> InstanceCertificate:
    """The fixed-point box, the Jacobian and spectrum enclosures, the verdict, and (IPO) the contraction bound.

    Parameters as :func:`certify_fixed_point`. The verdict is ``"certified stable"`` when the spectral radius
    of every Jacobian in the enclosure is < 1, ``"certified unstable"`` when it is > 1, else ``"undecided"``
    (also when no fixed-point box could be certified).
    """
    inst = map_instance(P, alpha, scale, lam, loss=loss, pi_ref=pi_ref, pi0=pi0, allow_float=allow_float)
    notes: list[str] = []
    with working_precision(prec):
        fp, sys, X = _certify(inst, guess, prec)
        jac: tuple = ()
        spec = None
        if fp.proved:
            J = sys.map_jacobian(X)
            jac = tuple(tuple(interval_of(J[i, k]) for k in range(J.ncols())) for i in range(J.nrows()))
    if fp.proved:
        spec = certify_spectrum(J, prec=prec)
    verdict = "undecided"
    if spec is not None and spec.side == "inside":
        verdict = "certified stable"
    elif spec is not None and spec.side == "outside":
        verdict = "certified unstable"
    if not fp.proved:
        notes.append("no fixed-point box was certified: try another --guess or a higher precision")
    elif verdict == "undecided":
        notes.append("the spectral-radius enclosure contains 1: raise the precision, or the point is on the threshold")
    contraction = None
    if inst.loss == "ipo":
        contraction = certify_contraction(inst.P, inst.alpha, inst.scale, inst.lam, prec=prec)
    else:
        notes.append("DYN-2's contraction bound q = alpha + (beta lam/2)||S||_2 is a statement about MRS-IPO; not computed for DPO")
    return InstanceCertificate(fp, jac, spec, verdict, contraction, tuple(notes))


def box_balls(box: Sequence[Interval]) -> list:
    """``arb`` balls that contain the intervals of a box (call inside :func:`~verify.certified.balls.working_precision`)."""
    return [ball(iv.lo).union(ball(iv.hi)) for iv in box]


def equation_residual(cert: FixedPointCertificate, kappa: Any, offset: Any, *, prec: int | None = None) -> tuple[Interval, ...]:
    """Enclosures, over the certified box, of the chart form of ``pi ∝ pi_ref exp(kappa P pi + offset P pi0)``.

    ``r_i = l_i - c_i - kappa ((P pi)_i - (P pi)_{K-1}) - offset ((P pi0)_i - (P pi0)_{K-1})``, ``i < K - 1``,
    ``c_i = log(pi_ref_i / pi_ref_{K-1})``. At a fixed point of MRS-IPO with ``alpha < 1`` every ``r_i`` is 0 for
    ``kappa = beta lam/(1 - alpha)`` and ``offset = beta (1 - lam)/(1 - alpha)`` (DYN-4); an enclosure that excludes
    0 is a certificate that the equation fails at the fixed point.
    """
    if not cert.proved:
        raise ValueError("no certified box: the fixed point was not certified")
    inst = cert.instance
    kap, off = exact_rational(kappa, "kappa"), exact_rational(offset, "offset")
    K, n = inst.K, inst.K - 1
    with working_precision(prec or cert.prec):
        sys = ChartSystem(inst)
        l = box_balls(cert.box[:n])
        pi = sys.policy(l)
        Ppi = [sum((sys.P[i][j] * pi[j] for j in range(K)), sys.zero) for i in range(K)]
        Pp0 = [sum((sys.P[i][j] * sys.pi0[j] for j in range(K)), sys.zero) for i in range(K)]
        k, o = ball(kap), ball(off)
        return tuple(interval_of(l[i] - sys.c[i] - k * (Ppi[i] - Ppi[n]) - o * (Pp0[i] - Pp0[n])) for i in range(n))
