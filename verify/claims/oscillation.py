"""DYN-7 [open, beyond the paper]: is the oscillation born at the 3-cycle threshold persistent?

Where the uniform point of the 3-cycle loses stability (DYN-1 for MRS-IPO, DPO-4 for MRS-DPO) a complex
pair of eigenvalues ``e^{±i theta}``, ``cos theta = alpha``, crosses the unit circle: a Neimark–Sacker
bifurcation of the map. The sign of its first Lyapunov coefficient ``d`` decides whether a stable invariant
circle is born (``d < 0``, supercritical: small oscillations persist just past the threshold) or an
unstable one (``d > 0``, subcritical: orbits leave for something far away). Chart, normalisation and
formula: :mod:`theory.normal_form`, :mod:`theory.oscillation`.

The claim (settled by the derivation; the closed forms are the statement, so a wrong constant in them is
refuted by every checker):

* MRS-IPO: ``d = -(1 - alpha^2)/8`` on the whole DYN-1 curve (only ``alpha`` enters): supercritical.
* MRS-DPO: ``d = -(1 - alpha^2)(1 - 16 a^2 lam^2/3)/8`` on the DPO-4 curve (``a`` and ``lam`` enter through
  ``lam a``): supercritical for ``lam a < sqrt(3)/4``, **subcritical** for ``lam a > sqrt(3)/4``.
* every smooth loss of the family: ``d = (1 - alpha^2) Q/24``, ``Q = 2 c_f lam^2 a^2 (2 c_f a^2 rho_3^2 -
  4 rho_3 - c_f rho_4) - 3``, ``rho_k = f^(k)(0)/f''(0)``, ``c_f = -2 f'(0)/f''(0)``.

Checkers: the formula on maps whose coefficient is known (symbolic); the closed forms and their signs,
derived for MRS-IPO, MRS-DPO and every smooth loss (symbolic; the family route is compared with direct
differentiation of the IPO map and implicit differentiation of the DPO stationarity); the coefficient of the
solved maps by high-precision finite differences (numeric, independent of the derivation); the invariant
circle in float64 simulations (dynamic: radius^2 ~ -mu/d, rotation number -> theta/2pi, convergence before
the threshold, or for the subcritical case the unstable circle before it).
"""

from __future__ import annotations

from fractions import Fraction
from functools import partial

import sympy

from theory import normal_form as tnf
from theory import oscillation as osc
from verify.engine.outcomes import symbolic_outcome
from verify.engine.registry import CheckContext, Checker, Claim, Constant, Control, Outcome, Scope, inconclusive, refuted, register, verified

SOURCE = "beyond arXiv:2602.12180 (its abstract: the iterative dynamics 'can exhibit persistent oscillations')"
_F = Fraction
ALPHA, A, LAM = osc.ALPHA, osc.A, osc.LAM

#: The stated constants: d_IPO = -(1 - alpha^2) * IPO_COEF, d_DPO = -(1 - alpha^2) * IPO_COEF * (1 - DPO_K a^2 lam^2).
IPO_COEF = _F(1, 8)
DPO_K = _F(16, 3)

PART_IPO = "MRS-IPO: every point of the DYN-1 curve with 0 < alpha < 1 (every a, beta, lambda on it)"
PART_DPO = "MRS-DPO: every point of the DPO-4 curve with 0 < alpha < 1, 0 < a <= 1/2, 0 < lambda <= 1"
PART_ANY = "every loss of the family with f smooth at 0 and f''(0) > 0: the closed form of d on its threshold curve"
NUMERIC_DPS = 30
#: distances past the threshold at the quick budget (the extrapolated ratio is as sharp; the runs are shorter)
QUICK_DISTANCES = (0.01, 0.02, 0.04)
NUMERIC_TOL = Fraction(1, 10**20)


def _q(x) -> sympy.Rational:
    x = Fraction(x)
    return sympy.Rational(x.numerator, x.denominator)


def claimed_d(loss: str, coef=IPO_COEF, k=DPO_K) -> sympy.Expr:
    """The stated closed form of ``d`` on the curve (``coef`` and ``k`` are the claim's constants)."""
    if loss == "ipo":
        return -(1 - ALPHA**2) * _q(coef)
    if loss == "dpo":
        return -(1 - ALPHA**2) * _q(coef) * (1 - _q(k) * A**2 * LAM**2)
    raise ValueError(f"no stated closed form for {loss!r}")


def _stated_sign_rule(loss: str, k=DPO_K) -> str:
    if loss == "ipo":
        return "supercritical (d < 0) for every alpha in (0, 1)"
    edge = sympy.sstr(1 / sympy.sqrt(_q(k))) if k else "oo"
    return f"supercritical for lam a < {edge}, subcritical for lam a > {edge}"


# ------------------------------------------------------------------------------------------------ symbolic
def check_formula(ctx: CheckContext, term_factors=(1, 2, 1), half=sympy.Rational(1, 2)) -> Outcome:
    """Kuznetsov's formula as implemented, on maps whose coefficient is known (normal-form models, the delayed logistic map)."""
    obls = _flat([(name, "model", e) for name, e in tnf.formula_obligations(term_factors=term_factors, half=half)])
    return symbolic_outcome(
        ctx, [("formula on maps with a known coefficient", obls)],
        f"the first-Lyapunov-coefficient formula gives the known coefficient on {len(obls)} maps "
        "(maps conjugate to chosen normal forms; the delayed logistic map at r = 2, d = -1 by elimination)",
    )


def _flat(triples) -> list:
    """``(name, kind, residual)`` triples as ``(name [kind], residual)`` pairs, a list of residuals spread out."""
    out = []
    for name, kind, e in triples:
        for x in (e if isinstance(e, (list, tuple)) else [e]):
            out.append((f"{name} [{kind}]", x))
    return out


def _closed_form_group(loss: str, coef, k, **hooks):
    def obls():
        nf = osc.cycle_normal_form(loss, **hooks)
        return [(f"derived d - stated d ({loss})", sympy.factor(sympy.cancel(nf.d - claimed_d(loss, coef, k))))]
    return obls


def _sign_group(loss: str):
    """The sign of the derived d on the whole box (exact: real-root counting, a convexity bound, the corner value)."""
    return lambda: _flat(osc.sign_obligations(loss))


def _roots_inside(poly: sympy.Expr, lo=0, hi=1) -> sympy.Integer:
    """The number of real roots of the polynomial ``poly`` in ``alpha`` on the open interval ``(lo, hi)`` (exact)."""
    return sympy.Integer(sum(1 for r in sympy.real_roots(sympy.Poly(sympy.expand(poly), ALPHA)) if lo < r < hi))


def _hypotheses_group():
    """The theorem's hypotheses on the curve, for 0 < alpha < 1: transversality and no strong resonance (exact)."""
    def obls():
        out = [("transversality: d|nu|^2/d omega = 2 omega = 2 sqrt(1 - alpha^2) has no zero on (0, 1)", _roots_inside(1 - ALPHA**2))]
        for k in range(1, 5):
            Tk = sympy.chebyshevt(k, ALPHA)  # cos(k theta) with cos(theta) = alpha
            out.append((f"no 1:{k} resonance: cos({k} theta) = 1 has no root alpha in (0, 1)", _roots_inside(Tk - 1)))
        return out
    return obls


def check_symbolic(ctx: CheckContext, loss: str = "ipo", coef=IPO_COEF, k=DPO_K, term_factors=(1, 2, 1), half=sympy.Rational(1, 2)) -> Outcome:
    """Exact: the family route equals an independent route for this loss; the derived d equals the stated closed form; the sign rule."""
    cross = {"ipo": 0, "dpo": 1}[loss]

    def route():
        return _flat([osc.cross_check_obligations()[cross]])

    groups = [
        ("Neimark–Sacker hypotheses on the curve", _hypotheses_group()),
        ("the map's Taylor tensors: family route = independent route", route),
        ("closed form of d on the curve", _closed_form_group(loss, coef, k, term_factors=term_factors, half=half)),
        ("sign of d", _sign_group(loss)),
    ]
    nf = osc.cycle_normal_form(loss)
    out = symbolic_outcome(
        ctx, groups,
        f"MRS-{loss.upper()}: d = {sympy.sstr(nf.d)} on the whole curve ({nf.enters}); {_stated_sign_rule(loss, k)}",
    )
    if out.verdict == "proved":
        out.details.update(d=sympy.sstr(nf.d), latex=nf.latex(), chart=nf.chart, normalisation=nf.normalisation,
                           resonances=[f"{r.name}: {r.where}" for r in nf.resonances])
    return out


def check_every_loss(ctx: CheckContext, term_factors=(1, 2, 1)) -> Outcome:
    """Exact: for f arbitrary (derivatives at 0 as symbols) the derived d equals the stated (1 - alpha^2) Q / 24."""
    def obls():
        nf = osc.cycle_normal_form("generic", term_factors=term_factors)
        return [("derived d - stated d (generic f)", sympy.factor(sympy.cancel(nf.d - osc.STATED_D)))]

    return symbolic_outcome(
        ctx, [("third-order expansion of x*(mu)", lambda: _flat(osc.xstar_obligations())),
              ("closed form for every smooth f", obls)],
        "every smooth f with f''(0) > 0: d = (1 - alpha^2)/24 (2 c_f lam^2 a^2 (2 c_f a^2 rho_3^2 - 4 rho_3 - c_f rho_4) - 3)",
    )


# ------------------------------------------------------------------------------------------------ numeric
def _points(ctx: CheckContext, n: int, name: str):
    rng = ctx.rng(name)
    pts = []
    for _ in range(n):
        al = _F(int(rng.integers(1, 20)), 20)
        a = _F(int(rng.integers(1, 11)), 20)
        lam = _F(int(rng.integers(2, 11)), 10)
        pts.append((al, a, lam))
    return pts


def check_numeric(ctx: CheckContext, coef=IPO_COEF, k=DPO_K) -> Outcome:
    """The coefficient of the solved maps by high-precision finite differences (an independent route) vs the stated closed forms."""
    from verify.numerics.normal_form import lyapunov_numeric

    n = ctx.pick(quick=2, standard=4, thorough=12)
    worst = 0.0
    rows = 0
    for loss in ("ipo", "dpo"):
        for al, a, lam in _points(ctx, n, f"dyn7num-{loss}"):
            num = lyapunov_numeric(loss, al, a, lam, dps=NUMERIC_DPS)
            stated = claimed_d(loss, coef, k).subs({ALPHA: _q(al), A: _q(a), LAM: _q(lam)})
            st = sympy.Float(stated, NUMERIC_DPS + 10)
            err = abs(sympy.Float(str(num.d), NUMERIC_DPS + 10) - st)
            tol = float(NUMERIC_TOL) * max(1.0, abs(float(st)))
            worst = max(worst, float(err))
            rows += 1
            if err > tol:
                return refuted(
                    f"MRS-{loss.upper()} at alpha = {al}, a = {a}, lam = {lam}: numeric d = {sympy.sstr(sympy.Float(str(num.d), 15))} "
                    f"(error estimate {float(num.error):.1e}), stated {sympy.sstr(stated)} = {sympy.sstr(sympy.Float(stated, 15))}",
                    instance={"loss": loss, "alpha": str(al), "a": str(a), "lambda": str(lam), "numeric_d": str(num.d),
                              "stated_d": str(stated), "coef": str(coef), "k": str(k)},
                    seed=ctx.subseed(f"dyn7num-{loss}"),
                )
    return verified(
        f"{rows} rational curve points (MRS-IPO and MRS-DPO): d of the solved map (13-point central differences, "
        f"{NUMERIC_DPS} digits) equals the stated closed form",
        n=rows, dps=NUMERIC_DPS, tolerance=float(NUMERIC_TOL), tolerance_kind="relative-or-absolute", max_error=worst,
    )


# ------------------------------------------------------------------------------------------------ dynamic
def _dynamic(ctx: CheckContext, loss: str, points, coef, k) -> Outcome:
    from verify.numerics.invariant_circle import DEFAULT_DISTANCES, TOL_RATIO, TOL_ROTATION, circle_evidence

    rows = []
    for al, a, lam in points:
        d = claimed_d(loss, coef, k).subs({ALPHA: _q(al), A: _q(a), LAM: _q(lam)})
        if d == 0:
            return inconclusive(f"the stated d vanishes at alpha = {al}, a = {a}, lam = {lam}: the normal form does not decide")
        # the subcritical test (the crossover radius before the threshold) needs the closer distances at every budget
        near = d > 0 or ctx.budget != "quick"
        ev = circle_evidence(loss, str(al), str(a), str(lam), d_pred=float(d), seed=ctx.subseed(f"dyn7dyn-{loss}"),
                             distances=DEFAULT_DISTANCES if near else QUICK_DISTANCES)
        rows.append({"alpha": str(al), "a": str(a), "lambda": str(lam), "stated_d": str(d),
                     "type": "supercritical" if d < 0 else "subcritical", "ratio0": ev.ratio0, "rotation0": ev.rotation0,
                     "verdict": ev.verdict})
        if not ev.passed:
            return refuted(
                f"MRS-{loss.upper()} at alpha = {al}, a = {a}, lam = {lam} (stated d = {sympy.sstr(d)}, "
                f"{rows[-1]['type']}): {ev.verdict}",
                instance={"loss": loss, **rows[-1], "coef": str(coef), "k": str(k)},
                seed=ctx.subseed(f"dyn7dyn-{loss}"),
            )
    kinds = sorted({r["type"] for r in rows})
    what = []
    if "supercritical" in kinds:
        what.append("supercritical: past the threshold the orbit settles on the circle |<p,l>|^2 = -mu/d and before it converges")
    if "subcritical" in kinds:
        what.append("subcritical: before the threshold starts inside the circle |<p,l>|^2 = -mu/d converge and starts outside "
                    "leave, and past it small starts leave")
    return verified(
        f"{len(rows)} curve points ({', '.join(kinds)}), float64 orbits; {'; '.join(what)}; the extrapolated ratio of the "
        f"measured to the stated radius^2 is within {TOL_RATIO} of 1 and the rotation number within {TOL_ROTATION:.0%} of theta/2pi",
        n=len(rows), dps=15, tolerance=TOL_RATIO, tolerance_kind="margin", points=rows,
        criterion="mean |<p, l>|^2 over the settled orbit divided by -mu/d, fitted as ratio0 + k mu over three distances past "
        "the threshold; |ratio0 - 1| <= tolerance (subcritical: the crossover radius of converging/leaving starts before it)",
    )


def check_dynamic_ipo(ctx: CheckContext, coef=IPO_COEF) -> Outcome:
    """Invariant circle of MRS-IPO just past the DYN-1 curve against the stated d (float64 dynamics)."""
    pts = [(_F(1, 2), _F(1, 4), _F(1))] + ctx.pick(quick=[], standard=[(_F(1, 5), _F(2, 5), _F(1, 2))],
                                                   thorough=[(_F(1, 5), _F(2, 5), _F(1, 2)), (_F(4, 5), _F(1, 10), _F(1))])
    return _dynamic(ctx, "ipo", pts, coef, DPO_K)


def check_dynamic_dpo(ctx: CheckContext, coef=IPO_COEF, k=DPO_K) -> Outcome:
    """Invariant circle of MRS-DPO past the DPO-4 curve (supercritical point), and the unstable circle before it (subcritical point)."""
    pts = [(_F(1, 2), _F(1, 4), _F(1)), (_F(1, 2), _F(1, 2), _F(1))] + ctx.pick(
        quick=[], standard=[(_F(1, 5), _F(1, 5), _F(1, 2))], thorough=[(_F(1, 5), _F(1, 5), _F(1, 2)), (_F(4, 5), _F(1, 2), _F(1))])
    return _dynamic(ctx, "dpo", pts, coef, k)


SCOPE = Scope(
    "K = 3; P_cyc(a), 0 < a <= 1/2; pi0 = pi_ref = uniform; the threshold curves of DYN-1 (MRS-IPO), DPO-4 (MRS-DPO) and "
    "LOSS-3 (any smooth loss) with 0 < alpha < 1 (strong resonances 1:4 at alpha = 0 and 1:1 as alpha -> 1 excluded)",
    parts=(PART_IPO, PART_DPO, PART_ANY),
)

register(
    Claim(
        id="DYN-7",
        statement="3-cycle, pi0 = pi_ref = uniform: past the threshold a Neimark–Sacker bifurcation with first Lyapunov "
        "coefficient (chart l_i = log(pi_i/pi_2), <q,q> = <p,q> = 1) d = -(1 - alpha^2)/8 for MRS-IPO (supercritical: a "
        "stable invariant circle, persistent small oscillation) and d = -(1 - alpha^2)(1 - 16 a^2 lambda^2/3)/8 for MRS-DPO "
        "(supercritical for lambda a < sqrt(3)/4, subcritical for lambda a > sqrt(3)/4)",
        tag="open",
        latex=r"d_{\mathrm{IPO}} = -\frac{1-\alpha^2}{8},\qquad d_{\mathrm{DPO}} = -\frac{1-\alpha^2}{8}\Bigl(1 - \frac{16}{3}a^2\lambda^2\Bigr)",
        scope=SCOPE,
        checkers=[
            Checker("formula", "symbolic", check_formula, "the coefficient formula on maps whose coefficient is known",
                    covers="normal-form models and the delayed logistic map (the formula itself; no scope part)"),
            Checker("symbolic MRS-IPO", "symbolic", partial(check_symbolic, loss="ipo"),
                    "Taylor tensors vs direct differentiation of the IPO map; closed form; sign",
                    covers="symbolic alpha, a, lam, b on the DYN-1 curve", proves=(PART_IPO,)),
            Checker("symbolic MRS-DPO", "symbolic", partial(check_symbolic, loss="dpo"),
                    "Taylor tensors vs implicit differentiation of the DPO stationarity; closed form; sign",
                    covers="symbolic alpha, a, lam, beta_dpo on the DPO-4 curve", proves=(PART_DPO,)),
            Checker("symbolic every smooth loss", "symbolic", check_every_loss, "x*(mu) to third order for f arbitrary; closed form",
                    covers="f'(0) .. f''''(0) symbols", proves=(PART_ANY,)),
            Checker("numeric", "numeric", check_numeric, "coefficient of the solved maps by finite differences at 30 digits",
                    covers="random rational curve points, MRS-IPO and MRS-DPO, 30 digits"),
            Checker("dynamic MRS-IPO", "dynamic", check_dynamic_ipo, "invariant circle past the DYN-1 curve",
                    covers="alpha = 1/2, a = 1/4, lam = 1 (more points at larger budgets), float64"),
            Checker("dynamic MRS-DPO", "dynamic", check_dynamic_dpo, "invariant circle past the DPO-4 curve; unstable circle before it",
                    covers="a supercritical (lam a = 1/4) and a subcritical (lam a = 1/2) point, more at larger budgets, float64"),
        ],
        controls=[
            Control("formula without the 2", "the formula with B(q, (I - A)^-1 B(q, qbar)) counted once", partial(check_formula, term_factors=(1, 1, 1))),
            Control("formula without 1/2", "c1 without the factor 1/2", partial(check_formula, half=1)),
            Control("IPO closed form through a wrong formula", "d_IPO derived without the factor 1/2 of c1",
                    partial(check_symbolic, loss="ipo", half=1)),
            Control("DPO closed form through a wrong formula", "d_DPO derived without the third term B(qbar, (e^{2i theta} - A)^-1 B(q, q))",
                    partial(check_symbolic, loss="dpo", term_factors=(1, 2, 0))),
            Control("DPO stated supercritical everywhere", "d_DPO with 16/3 replaced by 0 (symbolic)", partial(check_symbolic, loss="dpo", k=0)),
            Control("DPO dynamic, stated supercritical", "the subcritical point checked against d with 16/3 replaced by 1",
                    lambda ctx: _dynamic(ctx, "dpo", [(_F(1, 2), _F(1, 2), _F(1))], IPO_COEF, 1)),
        ],
        constants=[
            Constant("1/8 in d", IPO_COEF, "coef", ("symbolic MRS-IPO", "symbolic MRS-DPO", "numeric", "dynamic MRS-IPO"),
                     why="the coefficient is exactly -(1 - alpha^2)/8 for IPO; any other factor is a different normal form"),
            Constant("16/3 in d_DPO", DPO_K, "k", ("symbolic MRS-DPO", "numeric", "dynamic MRS-DPO"),
                     why="moves the DPO coefficient and the sub/supercritical boundary lam a = sqrt(3)/4"),
        ],
        source=SOURCE,
        cites=(
            "Neimark–Sacker theorem (Kuznetsov, Elementary Bifurcation Theory, 3rd ed., Thm 4.6): a fixed point of a smooth "
            "planar map family whose simple pair of multipliers crosses the unit circle transversally at e^{±i theta}, with "
            "e^{ik theta} != 1 for k = 1..4 and d != 0, has a unique closed invariant curve on one side of the threshold, "
            "stable when d < 0 (born past it) and unstable when d > 0 (before it)",
            "Kuznetsov's formula for c1 (ibid., §5.7 for n-dimensional maps), checked here on maps with a known coefficient",
        ),
        note="Transversality: the modulus^2 alpha^2 + omega^2 increases with the gain omega. Resonances on the curve: 1:4 at "
        "alpha = 0 and 1:1 as alpha -> 1 (excluded); 1:2 and 1:3 would need alpha < 0. MRS-DPO at lam a = sqrt(3)/4 has "
        "d = 0 (a degenerate, codimension-two point the first coefficient does not decide). The exponential loss: "
        "d = (1 - alpha^2)(8 lam^2 a^2 (1 + 2 a^2) - 3)/24 <= 0, zero only at a = 1/2, lam = 1.",
        expressions=osc.sections,
    )
)
