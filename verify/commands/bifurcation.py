r"""``prefdyn bifurcation``: the Neimark–Sacker bifurcation of the MRS map at the uniform point (DYN-7).

For a balanced ``P`` (``S 1 = 0``, ``S = P - 11^T/2``; the 3-cycle ``P_cyc(a)`` or any ``--matrix``) with
``pi0 = pi_ref`` uniform, the uniform point is a fixed point of the MRS map of every smooth loss, and its
tangent Jacobian has the eigenvalues ``alpha + i c_f lam s_k/(b K)`` (LOSS-3; ``± i s_k`` the eigenvalues of
``S``, ``c_f = -2 f'(0)/f''(0)``). The largest pair reaches the unit circle on the **bifurcation curve**

.. math::

    b_c(\alpha) = \frac{c_f\, \lambda\, s_{\max}}{K \sqrt{1 - \alpha^2}}
    \qquad (\text{IPO: } \beta_c = 2/b_c;\ \text{DPO: } \beta_{\mathrm{DPO},c} = b_c),

exactly (DYN-1 / DPO-4 for the 3-cycle, DYN-6 / DPO-6 for balanced ``P``, LOSS-3 for any smooth loss), with
``theta = arccos(alpha)``. Along it, at ``N`` points ``alpha = k/(N + 1)``, the command gives the first
Lyapunov coefficient ``d`` (sign, supercritical / subcritical / degenerate) in the log-ratio chart
``l_i = log(pi_i/pi_{K-1})`` with ``<q, q> = 1``, ``<p, q> = 1`` (Euclidean in the chart):

* the 3-cycle (``--cyclic A``, or a balanced ``K = 3`` matrix: ``P_cyc(a)`` or its transpose, the same map
  after swapping responses 0 and 1, an isometry of the chart) uses the **exact closed form** of
  :func:`theory.oscillation.cycle_normal_form` when that module is present (:func:`exact_normal_form`), else
  the numeric 3-cycle route :func:`verify.numerics.normal_form.lyapunov_numeric`;
* any other balanced ``P`` uses :func:`verify.numerics.normal_form.lyapunov_numeric_matrix` (``--dps``
  digits with an error estimate); when two pairs of ``S`` share the largest ``|s|`` they cross together (a
  codimension-two point) and the coefficient is not computed.

A non-balanced ``P`` (the uniform point is not a fixed point) and a loss that is not twice differentiable
at 0 (the hinge) are refused with one line (exit 2).

**JSON** (``--json``, ``"schema": "prefdyn.bifurcation/1"``): ``matrix`` (label), ``K``, ``P`` (exact strings),
``cycle`` (``{"a", "transposed"}`` for a 3-cycle, else ``null``), ``loss``/``f``/``scale_name``/``convention``
(:func:`verify.commands._lossargs.loss_json` without a scale value), ``lam`` (exact string), ``threshold``
(``claim``, ``gain`` = ``c_f``, ``s_max`` exact and ``s_max_float``, ``b_c`` and ``scale_c`` as exact
expressions in ``alpha``, ``unstable_side``: ``"above"``/``"below"`` the curve in the scale),
``pairs`` (pairs of ``S`` at ``s_max``), ``degenerate`` (the codimension-two reason or ``null``), ``chart``,
``normalisation``, ``method`` (``"exact closed form"`` or ``"numeric"``), ``closed_form`` (``d``, ``d_here``
at this ``a`` and ``lam``, ``latex``, ``enters``, ``sign_verdict``: the proved sign over the whole 3-cycle family,
``{"verdict", "surface", "subcritical_where"}``; ``null`` on the numeric route), ``dps``, ``resonances``
(``[{"name", "where"}]``), ``points`` (one per ``alpha``: ``alpha`` exact, ``alpha_float``, ``b_c``,
``scale_c`` (float) and ``scale_c_exact``, ``theta_over_2pi``, ``d`` (string, 20 digits or exact),
``d_float``, ``sign`` (-1, 0, 1 or ``null``), ``type``, ``source``, ``error`` (``null`` when exact),
``resonance``), ``summary``, ``orbit`` (with ``--out``: the simulated point, see
:func:`verify.plots.bifurcation.orbit_past_threshold`) and ``png``.

>>> bf = bifurcation(cyclic_matrix("2/5"), "ipo", 1, points=1)
>>> bf.points[0].kind, str(bf.points[0].alpha), bf.scale_name
('supercritical', '1/2', 'beta')
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable

from verify.commands._dynargs import exact_matrix_from_args
from verify.commands._lossargs import HelpFormatter, Subparsers, add_loss_options, loss_epilog, loss_from_args, loss_json, loss_label
from verify.exact.objects import InputError, NumericalFailure, to_fraction, unit_interval

__all__ = [
    "SCHEMA",
    "DEFAULT_POINTS",
    "DEFAULT_DPS",
    "CurvePoint",
    "Bifurcation",
    "exact_normal_form",
    "exact_sign_verdict",
    "cyclic_matrix",
    "curve_alphas",
    "alpha_symbol",
    "bifurcation",
    "document",
    "d_text",
    "render_text",
    "register",
    "run",
]

SCHEMA = "prefdyn.bifurcation/1"
DEFAULT_POINTS = 9
DEFAULT_DPS = 30

#: The claims that state the threshold, by loss and by whether P is the 3-cycle.
_CLAIMS = {("ipo", True): "DYN-1", ("dpo", True): "DPO-4", ("ipo", False): "DYN-6", ("dpo", False): "DPO-6"}

#: The strong resonances on every curve of this command (theta = arccos(alpha), alpha in [0, 1)), when the
#: exact module does not give its own list.
_RESONANCES = (
    ("1:4", "alpha = 0 (theta = pi/2, eigenvalues ±i)"),
    ("1:1", "alpha -> 1 (theta -> 0)"),
    ("1:2", "nowhere on the curve (theta = pi needs alpha = -1)"),
    ("1:3", "nowhere on the curve (theta = 2 pi/3 needs alpha = -1/2)"),
)


# ----------------------------------------------------------------------------- the exact route (one adapter)


def exact_normal_form(loss: Any) -> Any:
    """The exact 3-cycle normal form of ``loss`` (:func:`theory.oscillation.cycle_normal_form`).

    The object has ``d`` (exact in ``params = (alpha, a, lam)``), ``value(alpha, a, lam)`` (exact),
    ``latex()``, ``enters`` and ``resonances``.
    """
    from theory.oscillation import cycle_normal_form

    return cycle_normal_form(loss)


def exact_sign_verdict(loss: Any) -> Any:
    """The proved sign of ``d`` over the 3-cycle family (:func:`theory.oscillation.sign_verdict`: ``verdict``,
    ``surface``, ``subcritical_where``)."""
    from theory.oscillation import sign_verdict

    return sign_verdict(loss)


def _exact_sign(v: Any) -> int:
    """The sign of an exact real sympy number (radicals decided by sympy, else at 60 digits with a margin)."""
    import sympy

    v = sympy.sympify(v)
    if v == 0:
        return 0
    if v.is_positive:
        return 1
    if v.is_negative:
        return -1
    x = v.evalf(60)
    if abs(x) > sympy.Float(10) ** -40:
        return 1 if x > 0 else -1
    raise NumericalFailure(f"the sign of the exact value {v} was not decided (|d| < 1e-40 at 60 digits)")


# ----------------------------------------------------------------------------- data


@dataclass
class CurvePoint:
    """One point of the bifurcation curve: ``alpha``, the threshold (``b_c`` and the loss's scale, exact and
    float), ``theta/2pi``, the coefficient ``d`` (a sympy number on the exact route, an mpf on the numeric
    one, ``None`` when degenerate), its sign, the type (``supercritical``, ``subcritical``,
    ``degenerate (d = 0)``, ``undecided``, ``degenerate (codimension two)``) and where ``d`` comes from."""

    alpha: Fraction
    b_c: Any
    scale_c: Any
    scale_float: float
    theta_over_2pi: float
    d: Any
    d_float: float | None
    sign: int | None
    kind: str
    source: str
    error: Any = None
    resonance: str | None = None

    def d_text(self, digits: int = 12) -> str:
        """``d`` for a table: an exact value when short, else ``digits`` significant digits."""
        if self.d is None:
            return "-"
        import mpmath

        if isinstance(self.d, mpmath.mpf):
            return mpmath.nstr(self.d, digits)
        import sympy

        s = sympy.sstr(self.d)
        return s if len(s) <= 14 else sympy.sstr(sympy.N(self.d, digits))


@dataclass
class Bifurcation:
    """The bifurcation curve of one MRS map at the uniform point and the coefficient along it (:func:`bifurcation`)."""

    label: str
    P: Any
    K: int
    loss: Any
    lam: Fraction
    cycle: tuple | None
    pair: Any
    claim: str
    b_curve: Any
    scale_curve: Any
    scale_name: str
    side: str
    chart: str
    normalisation: str
    method: str
    closed_form: Any
    closed_form_text: str | None
    sign_verdict: Any
    resonances: list
    degenerate: str | None
    dps: int
    points: list = field(default_factory=list)

    @property
    def types(self) -> dict:
        """How many points of each type."""
        out: dict = {}
        for p in self.points:
            out[p.kind] = out.get(p.kind, 0) + 1
        return out

    def summary(self) -> str:
        """One sentence: the type along the curve."""
        t = self.types
        n = len(self.points)
        every = "at the one point" if n == 1 else f"at all {n} points"
        if self.degenerate is not None:
            return f"degenerate {every}: {self.degenerate}"
        if t.get("supercritical") == n:
            return f"supercritical {every} (d < 0): a stable invariant circle is born just past the threshold (persistent small oscillation)"
        if t.get("subcritical") == n:
            return f"subcritical {every} (d > 0): no small circle past the threshold, orbits leave the uniform point"
        if t.get("degenerate (d = 0)") == n:
            return (f"d = 0 {every} (to the working precision): the cubic normal form does not decide (a degenerate "
                    "Neimark–Sacker point; the next coefficient would)")
        return "the type changes along the curve: " + ", ".join(f"{k} at {v}" for k, v in t.items())

    def curve_function(self) -> Callable[[float], float]:
        """The threshold scale as a float function of ``alpha`` (``b_c = b_0/sqrt(1 - alpha^2)``, ``b_0`` exact then
        rounded once, and the loss's inverse of ``b`` lambdified once)."""
        import sympy

        bs = sympy.Symbol("b", positive=True)
        g = sympy.lambdify(bs, self.loss.scale_of_b(bs), "math")
        b0 = float(sympy.N(self.loss.gain * sympy.Rational(self.lam.numerator, self.lam.denominator) * self.pair.s_max / self.K, 20))
        return lambda alpha: float(g(b0 / math.sqrt(1 - float(alpha) ** 2)))


def alpha_symbol():
    """The symbol ``alpha`` of the curve's expressions."""
    import sympy

    return sympy.Symbol("alpha", nonnegative=True)


def cyclic_matrix(a: Any):
    """``P_cyc(a)`` as a validated exact :class:`~verify.exact.objects.PreferenceMatrix` (``0 < a <= 1/2``)."""
    from verify.exact.families import cyclic
    from verify.exact.objects import load_preference_matrix

    v, _ = to_fraction(a, "--cyclic A")
    if not (0 < v <= Fraction(1, 2)):
        raise InputError(f"--cyclic A = {a}, expected 0 < A <= 1/2")
    return load_preference_matrix(cyclic(v))


def curve_alphas(n: int) -> list[Fraction]:
    """``alpha = k/(n + 1)``, ``k = 1..n`` (exact; ``n = 9``: 0.1, ..., 0.9).

    >>> [str(a) for a in curve_alphas(3)]
    ['1/4', '1/2', '3/4']
    """
    if isinstance(n, bool) or int(n) != n or not (1 <= int(n) <= 99):
        raise InputError(f"--points N = {n}, expected an integer 1..99")
    return [Fraction(k, int(n) + 1) for k in range(1, int(n) + 1)]


def _kind_numeric(d, err, dps: int) -> tuple[int | None, str]:
    import mpmath

    zero = max(err, mpmath.mpf(10) ** (-dps))
    if abs(d) <= zero:
        if err <= mpmath.mpf(10) ** (-dps):
            return 0, "degenerate (d = 0)"
        return None, "undecided"
    return (-1, "supercritical") if d < 0 else (1, "subcritical")


_KIND_OF_SIGN = {-1: "supercritical", 1: "subcritical", 0: "degenerate (d = 0)"}


def bifurcation(P: Any, loss: Any, lam: Any = 1, *, points: int = DEFAULT_POINTS, dps: int = DEFAULT_DPS, label: str | None = None,
                exact: bool = True, progress: Callable | None = None) -> Bifurcation:
    """The bifurcation curve of the MRS map of ``loss`` at the uniform point of a balanced ``P``, and ``d`` along it.

    Parameters
    ----------
    P : a balanced preference matrix (exact; :func:`verify.numerics.normal_form.balanced_skew`)
    loss : a smooth loss (name, expression or PairLoss; its scale is set by the curve)
    lam : ``0 < lam <= 1``
    points : ``N``: ``d`` at ``alpha = k/(N + 1)``
    dps : the digits of the numeric route
    label : the matrix's name in the output
    exact : use the exact closed form for a 3-cycle when :func:`exact_normal_form` has it (``False``: always numeric)
    progress : ``progress(done, total, what)`` while the numeric route runs
    """
    import mpmath
    import sympy

    from verify.numerics.losses import loss as make_loss
    from verify.numerics.normal_form import (balanced_skew, critical_pair, lyapunov_numeric, lyapunov_numeric_matrix,
                                             read_alpha_lam, resonance)
    from verify.numerics.phase import threshold_side

    lo = make_loss(loss)
    if lo.gain is None:
        raise InputError(
            f"the {loss_label(lo)} loss has no Neimark–Sacker normal form at the uniform point: {lo.not_smooth_at_0} "
            f"(its optimum is not a smooth function of the sampler); simulate it instead (prefdyn simulate --loss {lo.name})"
        )
    la_v = unit_interval(lam, "lambda")
    if la_v == 0:
        raise InputError("--lam 0: the sampler does not depend on the policy (no oscillation); expected 0 < lam <= 1")
    _, la = read_alpha_lam(0, la_v)
    D = int(dps)
    if D < 5 or D > 200:
        raise InputError(f"--dps {dps}, expected 5..200")
    alphas = curve_alphas(points)
    Pm, S = balanced_skew(P)
    K = Pm.K
    cp = critical_pair(Pm)
    cycle = None
    if K == 3:
        t = S[0][1]
        cycle = (abs(t), t < 0)
    R = lambda x: sympy.Rational(x.numerator, x.denominator)  # noqa: E731
    al_s = alpha_symbol()
    b_curve = sympy.radsimp(lo.gain * R(la) * cp.s_max / K) / sympy.sqrt(1 - al_s**2)
    scale_curve = sympy.simplify(lo.scale_of_b(b_curve))
    side = threshold_side(lo)
    nf = exact_normal_form(lo) if (exact and cycle is not None) else None
    method = "exact closed form" if nf is not None else "numeric"
    res = list(_RESONANCES)
    if nf is not None and getattr(nf, "resonances", None):
        res = [(r.name, r.where) for r in nf.resonances]
    chart = (f"log-ratio chart l_i = log(pi_i/pi_{K - 1}), i = 0..{K - 2} (pi = softmax(l, 0), the uniform point l = 0); "
             f"map F(l)_i = z_i - z_{K - 1}")
    normalisation = ("A q = e^{i theta} q, A^T p = e^{-i theta} p, <q, q> = 1, <p, q> = 1 with <u, v> = conj(u)^T v "
                     "(Euclidean in the chart); d = Re(e^{-i theta} c1), c1 of w -> e^{i theta} w + c1 w|w|^2, w = <p, l>")
    degenerate = None
    if not cp.simple:
        degenerate = (f"{cp.pairs} pairs of eigenvalues ±i s of S share the largest |s| = s_max, so {cp.pairs} pairs cross the unit "
                      "circle together (a codimension-two point): the first Lyapunov coefficient does not decide")
    bf = Bifurcation(label or "P", Pm, K, lo, la, cycle, cp, _CLAIMS.get((lo.name, K == 3), "LOSS-3"), b_curve, scale_curve,
                     lo.scale_name, side, chart, normalisation, method, nf, None if nf is None else d_text(nf.d, nf.params[0]),
                     None if nf is None else exact_sign_verdict(lo), res, degenerate, D)
    for i, al in enumerate(alphas):
        b_c = sympy.radsimp(b_curve.subs(al_s, R(al)))
        sc = sympy.radsimp(lo.scale_of_b(b_c))
        th = math.acos(float(al)) / (2 * math.pi)
        rs = resonance(mpmath.acos(mpmath.mpf(al.numerator) / al.denominator), mpmath.mpf(10) ** -12)
        common = dict(alpha=al, b_c=b_c, scale_c=sc, scale_float=float(sc), theta_over_2pi=th, resonance=rs)
        if degenerate is not None:
            bf.points.append(CurvePoint(d=None, d_float=None, sign=None, kind="degenerate (codimension two)",
                                        source="pairs of S at s_max: " + str(cp.pairs), **common))
            continue
        if nf is not None:
            a, _ = cycle
            d = sympy.radsimp(nf.value(R(al), R(a), R(la)))
            s = _exact_sign(d)
            bf.points.append(CurvePoint(d=d, d_float=float(d), sign=s, kind=_KIND_OF_SIGN[s], source="exact closed form", **common))
            continue
        if progress is not None:
            progress(i, len(alphas), f"alpha = {al}")
        if cycle is not None:
            r = lyapunov_numeric(lo, al, cycle[0], la, dps=D)
        else:
            r = lyapunov_numeric_matrix(lo, Pm, al, la, dps=D)
        s, kind = _kind_numeric(r.d, r.error, D)
        bf.points.append(CurvePoint(d=r.d, d_float=float(r.d), sign=s, kind=kind,
                                    source=f"numeric, {D} digits, error {mpmath.nstr(r.error, 2)}", error=r.error, **common))
    if progress is not None and method == "numeric" and degenerate is None:
        progress(len(alphas), len(alphas), "done")
    return bf


# ----------------------------------------------------------------------------- output


def _matrix_text(bf: Bifurcation) -> str:
    if bf.cycle is None or bf.label.startswith("P_cyc"):
        return bf.label
    a, tr = bf.cycle
    return f"{bf.label} = " + (f"P_cyc({a})^T (the 3-cycle reversed: the same map after swapping responses 0 and 1)" if tr else f"P_cyc({a})")


def _closed_form_here(bf: Bifurcation):
    import sympy

    nf = bf.closed_form
    al_s, a_s, lam_s = nf.params
    a, _ = bf.cycle
    R = lambda x: sympy.Rational(x.numerator, x.denominator)  # noqa: E731
    return sympy.factor(nf.d.subs({a_s: R(a), lam_s: R(bf.lam)}))


def d_text(d: Any, alpha: Any) -> str:
    """A closed form ``d`` as text, with the factor ``1 - alpha^2`` in front when it divides ``d``.

    >>> import sympy
    >>> al, x = sympy.symbols("alpha x")
    >>> d_text((al - 1) * (al + 1) / 8, al), d_text(-(al - 1) * (al + 1) * (16 * x**2 - 3) / 24, al), d_text(al / 3, al)
    ('-(1 - alpha**2)/8', '(1 - alpha**2)*(16*x**2 - 3)/24', 'alpha/3')
    """
    import sympy

    Q = sympy.factor(sympy.cancel(d / (1 - alpha**2)))
    if Q.has(alpha):
        return sympy.sstr(sympy.factor(d))
    num, den = sympy.fraction(Q)
    sign = ""
    if num.is_Number and num < 0:
        sign, num = "-", -num
    elif num.could_extract_minus_sign():
        sign, num = "-", -num
    body = "(1 - alpha**2)" if num == 1 else f"(1 - alpha**2)*{sympy.sstr(num) if num.is_Atom else '(' + sympy.sstr(num) + ')'}"
    return sign + body + ("" if den == 1 else f"/{sympy.sstr(den)}")


def render_text(bf: Bifurcation, orbit: dict | None = None, png: str | None = None) -> str:
    """The command's text output."""
    import sympy

    from verify.engine.report import table

    sname = bf.scale_name
    crit = f"{sname}_c"
    lines = []
    lines.append(f"MRS bifurcation at the uniform point: {loss_label(bf.loss)}, {_matrix_text(bf)} (K = {bf.K}, balanced), "
                 f"lam = {bf.lam}, pi0 = pi_ref = uniform")
    smax = sympy.sstr(bf.pair.s_max)
    lines.append(f"curve ({bf.claim}, exact): {crit}(alpha) = {sympy.sstr(bf.scale_curve)}   "
                 f"[b_c = c_f lam s_max/(K sqrt(1 - alpha^2)), c_f = {sympy.sstr(bf.loss.gain)}, s_max = {smax}]")
    stable, unstable = ("<", ">") if bf.side == "above" else (">", "<")
    lines.append(f"  stable (the uniform point attracts) for {sname} {stable} {crit}(alpha); unstable, oscillating, for {sname} {unstable} {crit}(alpha); "
                 "on the curve the eigenvalues are e^{±i theta}, theta = arccos(alpha)")
    lines.append(f"chart: {bf.chart}; normalisation: {bf.normalisation}")
    if bf.degenerate is not None:
        lines.append(f"degenerate: {bf.degenerate}")
    elif bf.closed_form is not None:
        nf = bf.closed_form
        al_s = nf.params[0]
        lines.append(f"d, exact closed form (theory.oscillation): d = {d_text(nf.d, al_s)}; here (a = {bf.cycle[0]}, lam = {bf.lam}) "
                     f"d = {d_text(_closed_form_here(bf), al_s)}" + (f"; enters: {nf.enters}" if getattr(nf, "enters", None) else ""))
        sv = bf.sign_verdict
        if sv is not None:
            lines.append(f"sign over the whole 3-cycle family (alpha in (0, 1), a in (0, 1/2], lam in (0, 1]; proved, theory.oscillation): "
                         f"{sv.verdict}" + (f"; {sv.surface if sv.surface.startswith('d = 0') else 'd = 0 on ' + sv.surface}" if sv.surface else "")
                         + (f"; {sv.subcritical_where}" if sv.subcritical_where else ""))
    else:
        lines.append(f"d, numeric ({bf.dps} digits, error estimate from a control computation with the step 10^-3 smaller and 10 more digits)")
    on = [f"{n} at {w}" for n, w in bf.resonances if not w.startswith("nowhere")]
    off = [n for n, w in bf.resonances if w.startswith("nowhere")]
    lines.append("excluded strong resonances: " + "; ".join(on) + (f"; not on the curve: {', '.join(off)}" if off else ""))
    rows = [[str(p.alpha) if p.alpha.denominator <= 10 else f"{float(p.alpha):.4g}", f"{p.scale_float:.8g}", f"{p.theta_over_2pi:.6f}",
             p.d_text(), {-1: "-", 1: "+", 0: "0", None: "?"}[p.sign], p.kind, p.source] for p in bf.points]
    lines.append(table(["alpha", crit, "theta/2pi", "d", "sign", "type", "source"], rows))
    lines.append("verdict: " + bf.summary())
    if orbit is not None:
        lines.append("orbit: " + orbit["text"])
    if png:
        lines.append(f"picture: {png}")
    return "\n".join(lines)


def document(bf: Bifurcation, orbit: dict | None = None, png: str | None = None) -> dict:
    """The ``--json`` document (keys in the module docstring)."""
    import mpmath
    import sympy

    from verify.commands._lossargs import exact_json

    lj = loss_json(bf.loss)
    for k in ("scale_exact", bf.loss.scale_name):
        lj.pop(k, None)
    nf = bf.closed_form
    closed = None
    if nf is not None:
        sv = bf.sign_verdict
        closed = {"d": d_text(nf.d, nf.params[0]), "d_here": d_text(_closed_form_here(bf), nf.params[0]), "latex": nf.latex(),
                  "enters": getattr(nf, "enters", None),
                  "sign_verdict": None if sv is None else {"verdict": sv.verdict, "surface": sv.surface, "subcritical_where": sv.subcritical_where}}
    pts = []
    for p in bf.points:
        if p.d is None:
            dstr = None
        elif isinstance(p.d, mpmath.mpf):
            dstr = mpmath.nstr(p.d, 20)
        else:
            dstr = sympy.sstr(p.d)
        pts.append({
            "alpha": str(p.alpha), "alpha_float": float(p.alpha), "b_c": exact_json(p.b_c), "scale_c": p.scale_float,
            "scale_c_exact": exact_json(p.scale_c), "theta_over_2pi": p.theta_over_2pi, "d": dstr, "d_float": p.d_float,
            "sign": p.sign, "type": p.kind, "source": p.source,
            "error": None if p.error is None else float(p.error), "resonance": p.resonance,
        })
    return {
        "schema": SCHEMA,
        "matrix": bf.label,
        "K": bf.K,
        "P": [[str(x) for x in row] for row in bf.P.entries],
        "cycle": None if bf.cycle is None else {"a": str(bf.cycle[0]), "transposed": bool(bf.cycle[1])},
        **lj,
        "lam": str(bf.lam),
        "threshold": {
            "claim": bf.claim, "gain": exact_json(bf.loss.gain), "s_max": sympy.sstr(bf.pair.s_max),
            "s_max_float": float(bf.pair.s_max), "b_c": sympy.sstr(bf.b_curve), "scale_c": sympy.sstr(bf.scale_curve),
            "unstable_side": bf.side,
        },
        "pairs": bf.pair.pairs,
        "degenerate": bf.degenerate,
        "chart": bf.chart,
        "normalisation": bf.normalisation,
        "method": bf.method,
        "closed_form": closed,
        "dps": bf.dps,
        "resonances": [{"name": n, "where": w} for n, w in bf.resonances],
        "points": pts,
        "types": bf.types,
        "summary": bf.summary(),
        "orbit": None if orbit is None else {k: v for k, v in orbit.items() if k not in ("pi", "circle", "names")},
        "png": png,
    }


# ----------------------------------------------------------------------------- command line


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "bifurcation",
        help="the Neimark–Sacker bifurcation of the MRS map at the uniform point: the threshold curve and the first "
             "Lyapunov coefficient along it, supercritical or subcritical (DYN-7); a figure with --out",
        description=(
            "For a balanced P (the 3-cycle --cyclic A, or --matrix FILE with S 1 = 0) and pi0 = pi_ref = uniform, print the "
            "exact threshold curve of the uniform point (DYN-1/DPO-4 for the 3-cycle, DYN-6/DPO-6/LOSS-3 for balanced P) "
            "as the loss's scale against alpha, and at N points alpha = k/(N+1) along it the first Lyapunov coefficient d "
            "of the Neimark–Sacker bifurcation: its sign, supercritical (d < 0: a stable invariant circle, persistent "
            "small oscillations just past the threshold) or subcritical (d > 0), theta/2pi, and where d comes from (the "
            "exact closed form for the 3-cycle, else numeric with --dps digits and an error estimate). With --out FILE "
            "also draws the phase diagram with the curve coloured by type, the type map over (a, lam) for the 3-cycle "
            "when the sign depends on them, and a simulated orbit just past the threshold in the simplex with the "
            "predicted invariant circle (matplotlib only for drawing)."
        ),
        epilog=loss_epilog(),
        formatter_class=HelpFormatter,
    )
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--cyclic", metavar="A", help="the 3-cycle P_cyc(A): P[0,1] = P[1,2] = P[2,0] = 1/2 + A, 0 < A <= 1/2 (0.4 or 2/5)")
    g.add_argument("--matrix", metavar="FILE",
                   help="a balanced preference matrix file (.json list of rows or {'P': ...}, or .csv): S = P - 11^T/2 with S 1 = 0")
    add_loss_options(p, default="ipo", scale=False)
    p.add_argument("--lam", default="1", help="lambda in (0, 1] (default 1); the loss's scale follows from the curve")
    p.add_argument("--points", type=int, default=DEFAULT_POINTS,
                   help=f"points along the curve, alpha = k/(N+1), k = 1..N (default {DEFAULT_POINTS}: alpha = 0.1, ..., 0.9)")
    p.add_argument("--dps", type=int, default=DEFAULT_DPS,
                   help=f"digits of the numeric route (default {DEFAULT_DPS}); the exact closed form needs none")
    p.add_argument("--seed", type=int, default=0, help="seed of the simulated orbit's start phase with --out (default 0)")
    p.add_argument("--out", default=None, metavar="PNG",
                   help="draw the figure into this file, format from the extension (.png, .pdf, .svg, ...); needs the plot extra")
    p.add_argument("--json", action="store_true", help=f"print a JSON document on stdout (schema {SCHEMA})")
    p.add_argument("--quiet", action="store_true", help="no progress line on stderr while the numeric route runs")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from verify.engine.report import Progress, print_json

    P, label = exact_matrix_from_args(args)
    loss = loss_from_args(args)
    if args.out is not None:
        from verify.plots.style import check_out_option

        check_out_option(args.out)
    prog = Progress("bifurcation", enabled=not (args.quiet or args.json))
    bf = bifurcation(P, loss, args.lam, points=args.points, dps=args.dps, label=label, progress=prog)
    orbit = None
    png = None
    if args.out is not None:
        from verify.plots.bifurcation import bifurcation_figure, orbit_past_threshold
        from verify.plots.style import save

        orbit = orbit_past_threshold(bf, seed=args.seed)
        png = save(bifurcation_figure(bf, orbit), args.out)
    if args.json:
        print_json(document(bf, orbit, png))
    else:
        print(render_text(bf, orbit, png))
    return 0
