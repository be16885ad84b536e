"""IPO-1 (closed-form one-shot optimum) and IPO-2 (degenerate sampling).

Checkers are parametrised by planted factors so that each negative control runs
the *same* code on a wrong variant (the closed form with ``beta/2``, a gradient
with 2 instead of 4, the non-uniqueness check without its hypothesis ``mu_k = 0``).

The module reads top-down, one block per claim: the statement (banner), the checkers,
then the claim with its hypotheses, evidence and controls, registered. Random instances
come from :mod:`verify.exact.families` (numpy ``Generator`` draws seeded by ``ctx.subseed``).
"""

from __future__ import annotations

import functools
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import sympy
from hypothesis import strategies as st

from theory import ipo as T
from theory import matrix_algebra as ma

from verify.engine.property import property_check, without_hypothesis
from verify.engine.registry import CheckContext, Checker, Claim, Constant, Control, Outcome, Scope, inconclusive, proved, refuted, register, verified
from verify.engine.strategies import preference_matrices, simplex_points
from verify.exact.families import random_interior, random_matrix
from verify.numerics.ipo import IPOInstance, NonUniqueOptimum, ipo_instance, ipo_minimise, ipo_optimum, ipo_optimum_log
from verify.numerics.precision import DEFAULT_DPS, GUARD, agree, tolerance, workdps

__all__ = ["IPO1", "IPO2", "check_symbolic", "check_general", "check_numeric", "check_nonunique", "exact_loss", "random_instance"]

SOURCE = "arXiv:2602.12180, one-shot IPO optimum"


# ------------------------------------------------------------------------------------------------
# shared by both claims


def random_instance(rng: np.random.Generator, K: int) -> IPOInstance:
    """A random exact IPO instance: ``P`` with entries ``k/1000`` (:func:`verify.exact.families.random_matrix`), interior
    ``mu`` and ``pi_ref`` with weights in ``1..1000`` (:func:`verify.exact.families.random_interior`), ``beta`` in ``[0.1, 20]``."""
    P = random_matrix(rng, K, den=1000)
    mu, ref = random_interior(rng, K, den=1000), random_interior(rng, K, den=1000)
    return ipo_instance(P, mu, ref, Fraction(int(rng.integers(1, 201)), 10))


def exact_loss(P: Any, mu: Any, beta: Fraction, r: list[Fraction]) -> Fraction:
    """The population IPO loss in exact rationals (from the sampled-pair definition)."""
    K = len(mu)
    c = beta / 2
    total = Fraction(0)
    for i in range(K):
        for j in range(K):
            h = r[i] - r[j]
            total += mu[i] * mu[j] * (P[i, j] * (h - c) ** 2 + P[j, i] * (-h - c) ** 2)
    return total


# ================================================================================================
# IPO-1: for interior mu the IPO optimum is pi* = pi_ref exp(beta P mu)/Z, unique
# ================================================================================================


def _witness_point(expr_syms: set, rng: np.random.Generator) -> dict:
    point = {}
    for s in sorted(expr_syms, key=str):
        name = str(s)
        if name.startswith("p_"):
            point[s] = sympy.Rational(int(rng.integers(1, 100)), 100)
        elif name.startswith(("mu_", "piref_")):
            point[s] = sympy.Rational(int(rng.integers(1, 10)), 30)
        elif name == "beta":
            point[s] = sympy.Rational(int(rng.integers(1, 41)), 7)
        else:
            point[s] = sympy.Rational(int(rng.integers(-20, 21)), 3)
    return point


def _nonzero_parts(e: Any) -> list[sympy.Expr]:
    if isinstance(e, sympy.MatrixBase):
        items = list(e)
    elif isinstance(e, (list, tuple)):
        items = list(e)
    else:
        items = [e]
    return [x for x in (sympy.simplify(sympy.expand(x)) for x in items) if x != 0]


def _describe(inst: IPOInstance) -> dict:
    return inst.to_json()


def check_symbolic(ctx: CheckContext, Ks: tuple[int, ...] = (2, 3, 4), **factors: Any) -> Outcome:
    """Every obligation of :func:`theory.ipo.obligations` simplifies to exactly 0 for explicit ``K``."""
    rng = np.random.default_rng(ctx.subseed("symbolic"))
    n = 0
    for K in Ks:
        for ob in T.obligations(K, **factors):
            bad = _nonzero_parts(ob.expr())
            n += 1
            if bad:
                e = bad[0]
                for _ in range(8):
                    pt = _witness_point(e.free_symbols, rng)
                    val = e.subs(pt)
                    if val != 0:
                        return refuted(
                            f"K = {K}: obligation '{ob.name}' ({ob.description}) is not identically 0",
                            instance={"K": K, "obligation": ob.name, "point": {str(k): str(v) for k, v in pt.items()}, "value": str(val)},
                            seed=ctx.subseed("symbolic"),
                            detail=f"residual {sympy.sstr(e)[:300]} evaluates to {val} at the point",
                        )
                return inconclusive(f"K = {K}: obligation '{ob.name}' did not simplify to 0 but no non-zero point was found")
    names = ", ".join(ob.name for ob in T.obligations(2))
    return proved(
        f"{n} exact obligations are identically 0 for K = {', '.join(map(str, Ks))} with fully symbolic P, mu, pi_ref, beta ({names})",
        Ks=list(Ks),
    )


def _concrete_env(K: int, rng: np.random.Generator) -> tuple[dict, dict]:
    mu = random_interior(rng, K, den=9)
    S = sympy.zeros(K, K)
    for i in range(K):
        for j in range(i + 1, K):
            s = sympy.Rational(int(rng.integers(-49, 50)), 100)
            S[i, j], S[j, i] = s, -s
    q = lambda x: sympy.Rational(x.numerator, x.denominator)  # noqa: E731
    env = {
        "S": S,
        "D": sympy.diag(*[q(x) for x in mu]),
        "one": sympy.ones(K, 1),
        "mu": sympy.Matrix([q(x) for x in mu]),
        "r": sympy.Matrix([sympy.Rational(int(rng.integers(-9, 10)), 4) for _ in range(K)]),
        "v": sympy.Matrix([sympy.Rational(int(rng.integers(-9, 10)), 4) for _ in range(K)]),
    }
    scal = {sympy.Symbol("beta"): sympy.Rational(int(rng.integers(1, 31)), 7), sympy.Symbol("c"): sympy.Rational(int(rng.integers(-9, 10)), 5), sympy.Symbol("C"): sympy.Rational(1, 3)}
    return env, scal


def check_general(ctx: CheckContext, **factors: Any) -> Outcome:
    """The derivation for every ``K``: the sampled-pair loss to the matrix form by indexed pair sums
    (:func:`theory.ipo.general_index_obligations`), then the free matrix algebra
    (:func:`theory.ipo.general_obligations`)."""
    for name, kind, res in T.general_index_obligations():
        if res != 0:
            return refuted(
                f"general K: '{name}' ({kind}) leaves the residual {sympy.sstr(res)[:200]}",
                instance={"obligation": name, "residual": sympy.sstr(res)[:400]},
                seed=ctx.subseed("general"),
            )
    rng = np.random.default_rng(ctx.subseed("general"))
    obs = T.general_obligations(**factors)
    for name, desc, e, normalised in obs:
        nf = ma.normal_form(e, normalised)
        if nf:
            for K in (3, 4, 5):
                env, scal = _concrete_env(K, rng)
                val = ma.evaluate(e, env, scal)
                if any(x != 0 for x in val):
                    return refuted(
                        f"general K: '{name}' ({desc}) fails; concrete counterexample at K = {K}",
                        instance={"K": K, "obligation": name, "S": env["S"].tolist(), "mu": list(env["mu"]), "r": list(env["r"]), "v": list(env["v"]), "scalars": {str(k): str(v) for k, v in scal.items()}, "value": [str(x) for x in val]},
                        seed=ctx.subseed("general"),
                    )
            return inconclusive(f"general K: '{name}' not reduced to 0 by the axioms, and no concrete counterexample found")
    return proved(
        "every K: the sampled-pair loss equals the index form pair by pair, and the index form equals the matrix form "
        "(indexed double sums, relabelling i <-> j); then "
        f"{len(obs)} identities hold in the free matrix algebra with axioms S^T = -S, D = diag(mu), 1^T mu = 1 "
        f"({', '.join(o[0] for o in obs)})",
        identities=["pair-loss", "index-matrix"] + [o[0] for o in obs],
    )


def check_numeric(ctx: CheckContext, beta_factor: Any = 1, digits: int = DEFAULT_DPS) -> Outcome:
    """Closed form vs direct minimisation of the loss, to ``digits`` digits, random ``K`` in 2..8."""
    n = ctx.pick(quick=12, standard=60, thorough=400)
    seed = ctx.subseed("numeric")
    rng = np.random.default_rng(seed)
    worst = 0
    with workdps(digits + GUARD):
        for t in range(n):
            K = 2 + t % 7
            inst = random_instance(rng, K)
            closed = [x for x in ipo_optimum_log(inst, beta_factor=Fraction(beta_factor))]
            direct = ipo_minimise(inst.P, inst.mu, inst.pi_ref, inst.beta, dps=digits)
            for k in range(K):
                ok, err = agree(mpmath.exp(closed[k]), direct[k], digits)
                worst = max(worst, err)
                if not ok:
                    return refuted(
                        f"closed form and direct minimisation differ at instance {t} (K = {K}) by {mpmath.nstr(err, 3)} > 1e-{digits}",
                        instance=inst.to_json(),
                        seed=seed,
                        detail=f"pi*[{k}]: closed form {mpmath.nstr(mpmath.exp(closed[k]), 20)} vs direct {mpmath.nstr(direct[k], 20)}",
                    )
    return verified(
        f"{n} random instances, K = 2..8: closed form = direct minimiser of the loss to {digits} digits",
        n=n,
        dps=digits + GUARD,
        tolerance=tolerance(digits),
        max_error=worst,
        seed=seed,
    )


@st.composite
def _ipo_instances(draw: Any, max_K: int = 6) -> IPOInstance:
    """IPO instances; ``mu`` is interior or (one draw in four) may have zero entries, so that the
    hypothesis ``mu_interior`` filters something and its control sees degenerate samplers."""
    K = draw(st.integers(2, max_K))
    P = draw(preference_matrices(K=K, exact=True))
    mu = draw(simplex_points(K=K, interior=draw(st.integers(0, 3)) > 0, exact=True))
    ref = draw(simplex_points(K=K, interior=True, exact=True))
    beta = draw(st.fractions(Fraction(1, 100), Fraction(60), max_denominator=100).filter(lambda b: b > 0))
    return ipo_instance(P, mu, ref, beta)


def _closed_form_matches(inst: IPOInstance, digits: int = 20, beta_factor: Any = 1) -> bool:
    """The (``beta_factor``-scaled) closed form is the unique minimiser: False when the solver reports
    non-uniqueness (IPO-2) or the two disagree."""
    try:
        b = ipo_minimise(inst.P, inst.mu, inst.pi_ref, inst.beta, dps=digits)
    except NonUniqueOptimum:
        return False
    with workdps(digits + GUARD):
        a = [mpmath.exp(x) for x in ipo_optimum_log(inst, beta_factor=Fraction(beta_factor))]
        return all(agree(x, y, digits)[0] for x, y in zip(a, b))


def check_fuzz(ctx: CheckContext, beta_factor: Any = 1, max_examples: int | None = None) -> Outcome:
    """Hypothesis search: closed form with ``beta_factor * beta`` = direct minimiser, instances filtered by
    the claim's hypotheses (``ctx.hypotheses``)."""
    out = property_check(
        functools.partial(_closed_form_matches, beta_factor=beta_factor),
        _ipo_instances(),
        ctx,
        max_examples=max_examples or ctx.pick(quick=40, standard=300, thorough=2000),
        describe=_describe,
    )
    if out.verdict == "verified":
        out.dps, out.tolerance, out.tolerance_kind = 20 + GUARD, float(tolerance(20)), "relative-or-absolute"
    return out


IPO1_SCOPE = "every K >= 2; every valid P; every interior mu; every interior pi_ref; beta > 0"
IPO1_HYPOTHESES = {"mu_interior": lambda inst: all(x > 0 for x in inst.mu), "beta_positive": lambda inst: inst.beta > 0}

IPO1 = register(
    Claim(
        id="IPO-1",
        statement=(
            "For interior mu the population IPO loss has a unique minimiser pi* = pi_ref * exp(beta P mu) / Z; "
            "the loss is a convex quadratic in r = log(pi/pi_ref) with Hessian 4(diag(mu) - mu mu^T) (PSD, kernel span 1)."
        ),
        latex=r"\pi^*\propto\pi_{\mathrm{ref}}\odot\exp(\beta P\mu)",
        tag="paper",
        scope=Scope(IPO1_SCOPE),
        hypotheses=IPO1_HYPOTHESES,
        checkers=[
            Checker("symbolic K=2,3,4", "symbolic", check_symbolic, "exact obligations with fully symbolic P, mu, pi_ref, beta", covers="K = 2, 3, 4 (explicit symbolic matrices)"),
            Checker(
                "symbolic general K",
                "symbolic",
                check_general,
                "indexed pair sums (pair loss -> index form -> matrix form) and the free matrix algebra with stated axioms",
                covers="every K (indexed pair sums + free matrix algebra)",
                proves=(IPO1_SCOPE,),
            ),
            Checker("numeric 50 digits", "numeric", check_numeric, "closed form vs direct minimisation of the loss", covers="12 random instances, K = 2..8, at 50 digits"),
            Checker("hypothesis fuzz", "property", check_fuzz, "hypothesis search, closed form vs direct minimisation at 20 digits", covers="hypothesis-drawn instances K = 2..6 satisfying the hypotheses"),
        ],
        controls=[
            Control("gradient factor 2", "dL/dr_k stated with 2 instead of 4", functools.partial(check_symbolic, Ks=(2,), grad_factor=2)),
            Control("pair margin beta/4", "sampled-pair margin 1/(4 tau) instead of 1/(2 tau)", functools.partial(check_symbolic, Ks=(2,), pair_factor=sympy.Rational(1, 2))),
            without_hypothesis(
                functools.partial(check_fuzz, max_examples=40),
                "mu_interior",
                "the fuzz checker with degenerate samplers admitted: the minimiser is no longer unique (IPO-2)",
            ),
        ],
        constants=[
            Constant(
                "beta in pi* ∝ pi_ref exp(beta P mu)",
                sympy.Integer(1),
                "beta_factor",
                ("symbolic K=2,3,4", "symbolic general K", "numeric 50 digits", "hypothesis fuzz"),
                why="the stationarity residual of pi_ref exp(c beta P mu) is 4 mu_k (c - 1) beta ((P mu)_k - 1/2) up to centring, "
                "non-zero unless P mu is constant, so every factor c != 1 gives a wrong minimiser",
            )
        ],
        source=SOURCE,
        cites=(
            "elementary lemma: v^T H v = 4 sum_{i<j} mu_i mu_j (v_i - v_j)^2 (mechanised) with every mu_i > 0 vanishes only when "
            "v is constant, so the kernel of the PSD Hessian is exactly span(1)",
            "a stationary point of a convex function is a global minimiser; with kernel span(1) it is unique up to r + c 1",
        ),
        note="beta_positive is the domain (beta = 1/tau); the closed form stays the minimiser for beta <= 0, so that "
        "hypothesis has no control. mu_interior is needed: with mu_k = 0 the minimiser is a family (IPO-2).",
        expressions=T.latex_sections,
    )
)


# ================================================================================================
# IPO-2: with mu_k = 0 the IPO loss does not determine r_k (the optimum is a family)
# ================================================================================================


def check_nonunique(ctx: CheckContext, zero_mass: bool = True) -> Outcome:
    """If ``mu_k = 0``, moving ``r_k`` leaves the loss unchanged exactly (so ``r_k`` is undetermined).

    Symbolically: with ``mu_k = 0`` the derivative ``dL/dr_k`` is identically 0 and the
    Hessian kernel contains ``e_k`` besides ``1`` (K = 3, 4). Numerically (exact
    rationals): random instances with a zero entry of ``mu`` give ``L(r) = L(r + t e_k)``.
    ``zero_mass=False`` is the negative control (hypothesis dropped: interior ``mu``).
    """
    seed = ctx.subseed("ipo2")
    rng = np.random.default_rng(seed)
    n = ctx.pick(quick=30, standard=200, thorough=2000)
    for t in range(n):
        K = 2 + t % 6
        inst = random_instance(rng, K)
        mu = list(inst.mu)
        k = int(rng.integers(0, K))
        if zero_mass:
            mu[k] = Fraction(0)
            s = sum(mu)
            if s == 0:
                continue
            mu = [x / s for x in mu]
        r = [Fraction(int(rng.integers(-50, 51)), 10) for _ in range(K)]
        shift = Fraction(int(rng.integers(1, 51)), 10)
        r2 = list(r)
        r2[k] += shift
        L1 = exact_loss(inst.P, mu, inst.beta, r)
        L2 = exact_loss(inst.P, mu, inst.beta, r2)
        if L1 != L2:
            return refuted(
                f"moving r_{k} changes the loss although the claim says it is undetermined (mu[{k}] = {mu[k]})",
                instance={"P": inst.P.to_json(), "mu": mu, "beta": inst.beta, "r": r, "k": k, "shift": shift, "L(r)": L1, "L(r+shift e_k)": L2},
                seed=seed,
            )
        if zero_mass and len([x for x in mu if x > 0]) < K:
            try:
                ipo_optimum(inst.P, mu, inst.pi_ref, inst.beta, dps=15)
            except NonUniqueOptimum:
                pass
            else:
                return refuted("ipo_optimum returned a single policy for a degenerate sampler", instance={"mu": mu}, seed=seed)
    # every K: the IPO-1 gradient g = 4 D (...) with D = diag(mu) (free matrix algebra), so its k-th entry
    # carries the factor mu_k and vanishes identically in r when mu_k = 0
    grad = [e for n, _d, e, norm in T.general_obligations() if n == "gradient"][0]
    if ma.normal_form(grad, False):
        return refuted("the general-K IPO gradient identity does not normalise to 0", instance={"obligation": "gradient"}, seed=seed)
    # symbolic part, K = 3 and 4
    for K in (3, 4):
        sy = T.ipo_symbols(K)
        zero = {sy.mu[-1]: 0} if zero_mass else {}
        L = T.population_loss(sy).subs(zero)
        d = sympy.expand(sympy.diff(L, sy.r[-1]))
        if d != 0:
            return refuted(
                f"K = {K}: dL/dr_{K-1} is not identically 0 when mu_{K-1} is not 0",
                instance={"K": K, "dL/dr_last": str(d)[:300]},
                seed=seed,
            )
        H = T.stated_hessian(sy).subs(zero)
        e_last = sympy.Matrix([0] * (K - 1) + [1])
        if (H * e_last).expand() != sympy.zeros(K, 1):
            return refuted(f"K = {K}: e_{K-1} is not in the Hessian kernel", instance={"K": K}, seed=seed)
    return proved(
        "non-unique: when mu_k = 0, dL/dr_k = 4 mu_k(...) vanishes identically (every K, from the IPO-1 gradient), "
        "the Hessian kernel contains e_k besides 1 (checked K = 3, 4), and L(r) = L(r + t e_k) exactly on "
        f"{n} random rational instances; prefdyn reports the optimal family instead of picking one",
        instances=n,
        seed=seed,
    )


IPO2 = register(
    Claim(
        id="IPO-2",
        statement="If mu_k = 0 then r_k = log(pi_k/pi_ref_k) is not determined by the IPO loss: the optimum is a family, and prefdyn reports it instead of picking one.",
        latex=r"\mu_k=0\;\Rightarrow\;\partial L/\partial r_k\equiv 0",
        tag="derived",
        scope=Scope("every K >= 2; every P; every mu with some mu_k = 0; beta > 0"),
        checkers=[
            Checker(
                "exact + symbolic",
                "exact",
                check_nonunique,
                evidence="proof",
                covers="every K: dL/dr_k = 4 mu_k (...) vanishes when mu_k = 0 (the IPO-1 gradient, proved for every K); "
                "exact rational instances K = 2..7 and symbolic K = 3, 4 as checks",
                proves=("every K >= 2; every P; every mu with some mu_k = 0; beta > 0",),
            )
        ],
        controls=[Control("interior mu", "the same check with the hypothesis mu_k = 0 dropped", functools.partial(check_nonunique, zero_mass=False))],
        source="derived for this project (one-shot IPO)",
    )
)

