"""Claims RANK-1 .. RANK-6 (docs/claims.md §2): one-shot ranking properties of IPO samplers.

Every certificate is checked in exact rational arithmetic (``Fraction``);
symbolic steps are sympy identities from :mod:`theory.ranking`. Each claim
carries negative controls: the same checking code run on a planted wrong
variant (a wrong constant, a dropped hypothesis, swapped roles), which must
come back ``refuted``.

The module reads top-down, one block per claim: the statement (banner), the
checkers, the LaTeX sections, then the claim with its hypotheses, evidence and
controls, registered. Random instances come from :mod:`verify.exact.families`.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from fractions import Fraction
from functools import lru_cache, partial
from importlib import resources
from typing import Any

import mpmath
import sympy

from theory import matrix_algebra as ma
from theory import ranking as th
from theory.latex import Equation, Section

from verify.engine.property import without_hypothesis
from verify.engine.registry import CheckContext, Checker, Claim, Constant, Control, Outcome, Scope, proved, refuted, register, verified
from verify.exact.families import random_interior, random_matrix, random_sst
from verify.exact.lp import check_farkas, margins, max_min_margin
from verify.exact.objects import fmt_exact, load_preference_matrix
from verify.exact.ranking import (
    counterexample,
    ct_matrix,
    ct_sampler,
    rank2_eps_bound,
    required_pairs,
    sampler,
    verify_counterexample,
    verify_sampler_certificate,
)
from verify.exact.social import condorcet_winner, is_sst, is_transitive, majority_order, rows_ordered, smith_set
from verify.numerics.bridge import mpf
from verify.numerics.precision import workdps

__all__ = ["CLAIMS", "RANK1", "RANK2", "RANK3", "RANK4", "RANK5", "RANK6", "load_rank4_witness"]

SOURCE = "arXiv:2602.12180 (Chen, He, Jordan, Yao 2026), one-shot ranking under IPO"
EXACT = 0  # exact rational arithmetic: tolerance 0, kind "exact", dps None
HALF = Fraction(1, 2)

#: the name the ranking tests and benchmarks use for :func:`verify.exact.families.random_interior`
random_interior_mu = random_interior


# ------------------------------------------------------------------------------------------------
# shared by several claims


def _permuted(rng, P: list[list[Fraction]]) -> list[list[Fraction]]:
    K = len(P)
    perm = [int(x) for x in rng.permutation(K)]
    Q = [[HALF] * K for _ in range(K)]
    for i in range(K):
        for j in range(K):
            Q[perm[i]][perm[j]] = P[i][j]
    return Q


def _J(P) -> list[list[str]]:
    return [[fmt_exact(x) for x in r] for r in P]


def _q(x) -> sympy.Rational:
    x = Fraction(x)
    return sympy.Rational(x.numerator, x.denominator)


def _interior(mu) -> bool:
    return all(Fraction(x) > 0 for x in mu)


def _extremal(K: int, m: Fraction) -> list[list[Fraction]]:
    return ct_matrix(K, m)


def _mat(P) -> sympy.Matrix:
    return load_preference_matrix(P).to_sympy()


# ================================================================================================
# RANK-1: for every interior sampler some P breaks CT, ST and OP (the construction P(mu, eps))
# ================================================================================================


def rank1_symbolic(ctx: CheckContext, factor: Fraction = Fraction(1, 4)) -> Outcome:
    """The K = 3 hint and the general gap formulas, then the sign at ``eps = factor * (1 - mu_0 - mu_1)``."""
    eps = th.EPS
    mu3 = th.mu_symbols(3)
    _, red3 = th.ct_gap(3)
    hint_ok = sympy.expand(red3 - (eps - mu3[2] / 2)) == 0
    Ks = ctx.pick(quick=[3, 4, 5], standard=list(range(3, 8)), thorough=list(range(3, 10)))
    for K in Ks:
        mu = th.mu_symbols(K)
        _, red = th.ct_gap(K)
        expect = eps - mu[2] / 2 if K == 3 else eps - (1 - mu[0] - mu[1]) / 2
        if sympy.expand(red - expect) != 0:
            return refuted(f"CT gap formula fails at K = {K}", instance={"K": K, "gap": str(red)})
    for K in [k for k in Ks if k >= 4]:
        mu = th.mu_symbols(K)
        expect = mu[2] / 2 - eps * (mu[0] + 2 * mu[1] + mu[2] + mu[3])
        if sympy.expand(th.st_gap(K) - expect) != 0:
            return refuted(f"ST gap formula fails at K = {K}", instance={"K": K, "gap": str(th.st_gap(K))})
    if not hint_ok:
        return refuted("the K = 3 hint eps < mu_2/2 is wrong", instance={"gap": str(red3)})
    # the sign at eps = factor * rest is (factor - 1/2) * rest, rest = 1 - mu_0 - mu_1 > 0
    f = sympy.Rational(factor.numerator, factor.denominator)
    signed = sympy.factor(sympy.expand(red3.subs(eps, f * mu3[2])))
    if not f < sympy.Rational(1, 2):
        inst = {"mu": ["1/3", "1/3", "1/3"], "eps": fmt_exact(factor / 3), "gap_s0_minus_s1": str(signed.subs(mu3[2], sympy.Rational(1, 3)))}
        return refuted(f"eps = {factor} * mu_2 leaves the Condorcet winner strictly top (gap {signed} > 0)", instance=inst)
    return proved(
        "s_0 - s_1 = eps - mu_2/2 for K = 3 (hint correct: CT fails iff eps <= mu_2/2); "
        f"s_0 - s_1 = eps - (1 - mu_0 - mu_1)/2 for K in {Ks}; ST gap s_3 - s_0 = mu_2/2 - e(mu_0+2mu_1+mu_2+mu_3)",
        K3_gap=str(red3),
        at_default_eps=str(signed),
    )


def rank1_general(ctx: CheckContext, threshold: Fraction = HALF) -> Outcome:
    """Every ``K >= 3`` (symbolic K): the construction's gap is ``eps - c (1 - mu_0 - mu_1)``, CT/ST/OP fail iff ``eps <= c R``.

    ``threshold`` is the claimed ``c`` (true: 1/2). A wrong ``c`` leaves a residual
    ``sum_{k>=2} mu_k (c - 1/2)``; the counterexample is then the point ``K = 3``,
    ``mu = (1/3, 1/3, 1/3)`` with ``eps`` between ``c R`` and ``R/2``.
    """
    d = th.rank1_general(_q(threshold))
    if d["residual"] != 0 or not d["tiling"]:
        c = Fraction(threshold)
        mu = [Fraction(1, 3)] * 3
        R = 1 - mu[0] - mu[1]
        eps = (c + HALF) / 2 * R
        P = _extremal(3, eps)
        gap = sum((P[0][k] - P[1][k]) * mu[k] for k in range(3))
        claimed = "fails" if eps <= c * R else "holds"
        return refuted(
            f"every-K gap identity with threshold {c} fails: residual {d['residual']}; at K = 3 CT {claimed} by the claim but gap = {fmt_exact(gap)}",
            instance={"K": 3, "mu": [fmt_exact(x) for x in mu], "eps": fmt_exact(eps), "P": _J(P), "gap": fmt_exact(gap), "residual": str(d["residual"]), "claimed_threshold": fmt_exact(c)},
        )
    if not (d["upper_entries_above_half"] and d["entries_at_most_one"]):
        return refuted("the construction is not a valid transitive P with Condorcet winner 0", instance={"entries": {k: str(v) for k, v in d["entries"].items()}})
    return proved(
        "for every K >= 3 (symbolic K, indexed sum split at k = 0, 1 and 2..K-1): s_0 - s_1 = eps - (1/2) sum_{k>=2} mu_k "
        "= eps - (1 - mu_0 - mu_1)/2 for P(mu, eps); its upper entries 1/2 + eps and 1 are > 1/2 and <= 1 (0 < eps <= 1/2), so P is "
        "transitive with Condorcet winner 0 and Smith set {0}; R = 1 - mu_0 - mu_1 >= mu_2 > 0 for interior mu, so eps = R/4 "
        "breaks CT, ST and OP, and the construction breaks them iff eps <= R/2 (K = 3: eps <= mu_2/2)",
        residual=d["residual"],
    )


def _drawn_mu(rng, K: int) -> tuple[Fraction, ...]:
    """A point of the simplex; one in four has zero coordinates (for the dropped-hypothesis controls)."""
    mu = random_interior(rng, K, den=int(rng.choice([3, 10, 100])))
    if rng.random() < 0.25:
        if rng.random() < 0.5:  # all mass on two responses (then 1 - mu_0 - mu_1 may vanish)
            zeros = list(range(2, K))
        else:
            zeros = [int(x) for x in rng.choice(K, size=int(rng.integers(1, K)), replace=False)]
        w = [Fraction(0) if k in zeros else x for k, x in enumerate(mu)]
        mu = tuple(x / sum(w) for x in w)
    return mu


def _breaks(P, mu, prop: str) -> tuple[bool, str]:
    """Whether ``mu`` (any point of the simplex) violates ``prop`` on ``P``, computed directly (exact)."""
    pairs = required_pairs(P, prop)
    if not pairs:
        return False, f"{prop} holds vacuously on this P (no Condorcet winner / Smith set is everything)"
    ms = margins(P, pairs, mu)
    bad = [(p, m) for p, m in zip(pairs, ms) if m <= 0]
    if not bad:
        return False, f"{prop} holds: every required margin is > 0 (smallest {fmt_exact(min(ms))})"
    (i, j), m = bad[0]
    return True, f"s_{i} - s_{j} = {fmt_exact(m)} <= 0, so {prop} fails"


def rank1_constructor(ctx: CheckContext, factor: Fraction | None = None, threshold: Fraction = HALF) -> Outcome:
    """Counterexamples for drawn ``mu``, and the claimed threshold ``eps <= c R`` tested on both sides of ``c R``.

    Draws ``mu`` (K = 2..Kmax, some on the boundary) and keeps those that satisfy
    the claim's hypotheses (interior, K >= 3). For each: ``counterexample(mu, prop)``
    is re-verified from scratch for CT, ST, OP; then the construction ``P(mu, eps)``
    at ``eps = c R (1 + delta)``, ``delta`` in ``{-1/2, -1/10, -1/100, 0, 1/100, 1/10}``
    (``c`` = ``threshold``, the claimed constant; ``R = 1 - mu_0 - mu_1``), must break
    CT, ST and OP exactly when the claim says so (``eps <= c R``).
    """
    rng = ctx.rng("rank1")
    n = ctx.pick(quick=30, standard=300, thorough=3000)
    Kmax = ctx.pick(quick=8, standard=10, thorough=12)
    c = Fraction(threshold)
    done = kept = 0
    for _ in range(n):
        K = int(rng.integers(2, Kmax + 1))
        mu = _drawn_mu(rng, K)
        if not ctx.satisfies(mu):
            continue
        kept += 1
        for prop in ("CT", "ST", "OP"):
            if K >= 3 and all(x > 0 for x in mu):
                cx = counterexample(mu, prop, factor=factor).to_json()
                ok, why = verify_counterexample(cx)
            else:  # outside the hypotheses the construction is applied as is (controls)
                e = min((Fraction(1, 4) if factor is None else Fraction(factor)) * (1 - mu[0] - mu[1]), HALF)
                cx = {"property": prop, "mu": [fmt_exact(x) for x in mu], "P": _J(_extremal(K, e))}
                ok, why = _breaks(_extremal(K, e), mu, prop)
            if not ok:
                return refuted(
                    f"the construction is not a counterexample for {prop}: {why}",
                    instance={"mu": [fmt_exact(x) for x in mu], "property": prop, "P": cx["P"]},
                    seed=ctx.subseed("rank1"),
                )
            done += 1
        R = 1 - mu[0] - mu[1]
        for delta in (Fraction(-1, 2), Fraction(-1, 10), Fraction(-1, 100), Fraction(0), Fraction(1, 100), Fraction(1, 10)):
            eps = c * R * (1 + delta)
            if not 0 < eps <= HALF:
                continue
            P = _extremal(K, eps)
            claimed_fails = eps <= c * R
            for prop in ("CT", "ST", "OP"):
                if all(x > 0 for x in mu):
                    observed_fails, why = verify_counterexample({"property": prop, "mu": [fmt_exact(x) for x in mu], "P": _J(P)})
                else:
                    observed_fails, why = _breaks(P, mu, prop)
                if observed_fails != claimed_fails:
                    return refuted(
                        f"claimed: {prop} {'fails' if claimed_fails else 'holds'} at eps = {fmt_exact(eps)} (threshold {fmt_exact(c)} R, "
                        f"R = {fmt_exact(R)}); observed: {why}",
                        instance={"mu": [fmt_exact(x) for x in mu], "eps": fmt_exact(eps), "property": prop, "P": _J(P), "claimed_threshold": fmt_exact(c)},
                        seed=ctx.subseed("rank1"),
                    )
                done += 1
    return verified(
        f"{done} exact checks on {kept} drawn mu (K = 3..{Kmax}): counterexamples for CT, ST, OP re-verified from scratch, and the "
        f"construction breaks them exactly when eps <= {fmt_exact(c)} (1 - mu_0 - mu_1) (eps at 1 + delta times the threshold, both sides)",
        n=done,
        dps=None,
        tolerance=EXACT,
        seed=ctx.subseed("rank1"),
    )


def _sections_rank1() -> list[Section]:
    _, red = th.ct_gap(3)
    cx = counterexample("1/5,3/10,1/2", "CT")
    cx4 = counterexample("1/10,1/5,3/10,2/5", "ST")
    return [
        Section(
            "RANK-1: counterexamples for every interior sampler",
            "Construction $P(\\mu,\\varepsilon)$ for $K=3$ and its score gap; the hint $\\varepsilon < \\mu_2/2$ is exact.",
            [
                ("P(mu, eps), K = 3", Equation(r"P(\mu,\varepsilon)", th.ct_construction(3))),
                ("The score gap, with mu_0 + mu_1 + mu_2 = 1", Equation("s_0 - s_1", red)),
                ("ST construction, K = 4", Equation(r"P(\mu,\varepsilon)", th.st_construction(4))),
                ("The score gap (ST, K = 4)", Equation("s_3 - s_0", th.st_gap(4))),
                ("Certificate for mu = (1/5, 3/10, 1/2)", Equation("P", cx.P.to_sympy())),
                ("Its scores", Equation(r"s = P\mu", sympy.Matrix([sympy.Rational(str(x)) for x in cx.scores]))),
                ("ST certificate for mu = (1/10, 1/5, 3/10, 2/5)", Equation("P", cx4.P.to_sympy())),
                ("Its scores", Equation(r"s = P\mu", sympy.Matrix([sympy.Rational(str(x)) for x in cx4.scores]))),
            ],
        )
    ]


RANK1_PARTS = (
    "CT: every K >= 3, every interior mu",
    "ST: every K >= 3, every interior mu",
    "OP: every K >= 3, every interior mu (P transitive)",
)

RANK1 = register(
    Claim(
        id="RANK-1",
        statement=(
            "For every interior mu (K >= 3) there is a P on which CT fails; likewise ST, and OP with P transitive. "
            "Construction P(mu, eps) (0 beats all by 1/2 + eps, 1 beats all k >= 2 surely, the rest ordered surely; 0 < eps <= 1/2) "
            "breaks CT, ST and OP iff eps <= (1/2)(1 - mu_0 - mu_1) (K = 3: eps <= mu_2/2)."
        ),
        tag="paper",
        latex=r"\forall \mu\in\operatorname{int}\Delta_K,\ K\ge 3:\ \exists P:\ \neg\mathrm{CT}(P,\mu);\quad \neg\mathrm{CT}(P(\mu,\varepsilon),\mu)\iff \varepsilon\le\tfrac12(1-\mu_0-\mu_1)",
        hypotheses={"interior": _interior, "K_at_least_3": lambda mu: len(mu) >= 3},
        scope=Scope("every K >= 3, every interior mu: a P breaking CT, one breaking ST, a transitive one breaking OP", parts=RANK1_PARTS),
        checkers=[
            Checker("general-K", "symbolic", rank1_general, "the construction's gap for symbolic K (indexed sum, cases k = 0, 1, >= 2)",
                    covers="every K >= 3 (symbolic K, indexed sums)", proves=RANK1_PARTS),
            Checker("gap-formulas", "symbolic", rank1_symbolic, "K = 3 hint, gap formulas and the K >= 4 three-cycle ST construction at fixed K",
                    covers="K = 3, 4, 5 (quick)", proves=()),
            Checker("constructor", "exact", rank1_constructor, "counterexample(mu, property) re-verified; threshold tested on both sides",
                    covers="30 drawn mu, K = 3..8, exact (quick)"),
        ],
        constants=[
            Constant(
                "threshold 1/2 in eps <= (1/2)(1 - mu_0 - mu_1)",
                HALF,
                "threshold",
                checkers=("general-K", "constructor"),
                holds=lambda f: f == 1,
                why="the claim is an iff (the hint is exact): a smaller constant wrongly says CT holds just below R/2, a larger one wrongly says it fails just above",
            )
        ],
        controls=[
            Control("eps-3/4", "construction with eps = (3/4)(1 - mu_0 - mu_1), above the threshold 1/2", partial(rank1_constructor, factor=Fraction(3, 4))),
            Control("hint-eps-mu2", "symbolic sign check at eps = (3/4) mu_2 (K = 3)", partial(rank1_symbolic, factor=Fraction(3, 4))),
            without_hypothesis(rank1_constructor, "K_at_least_3", "the constructor on K = 2 samplers too (for K = 2 every interior mu ranks correctly)"),
            without_hypothesis(rank1_constructor, "interior", "the constructor on boundary samplers too (with 1 - mu_0 - mu_1 = 0 the construction cannot break CT)"),
        ],
        source=SOURCE,
        note=(
            "s_0 - s_1 = eps - (1-mu_0-mu_1)/2 for every K (K = 3: eps - mu_2/2, so the hint eps < mu_2/2 is exact; eps = mu_2/2 "
            "also fails CT by a tie). The same P is transitive, so it breaks OP, and its Smith set is {0}, so it breaks ST. For K >= 4 "
            "an ST counterexample with a 3-cycle Smith set and no Condorcet winner is also built: s_3 - s_0 = mu_2/2 - e(mu_0+2mu_1+mu_2+mu_3)."
        ),
        expressions=_sections_rank1,
    )
)


# ================================================================================================
# RANK-2: with a Condorcet winner, mu = (1-eps) e_c + (eps/K) 1 satisfies CT for eps below 2Km/(K-2)
# ================================================================================================


def rank2_general(ctx: CheckContext, bound_factor: Fraction = Fraction(1), coefficient: Fraction = HALF) -> Outcome:
    """Every ``K >= 2`` (symbolic K): ``s_c - s_j = m - eps (K-2)/(2K) + sum coef * slack``; the claimed range ``eps < f 2Km/(K-2)``.

    ``coefficient`` plants a wrong identity (true 1/2). ``bound_factor`` ``f`` is the
    claimed range: for ``f <= 1`` it lies inside the proved one; for ``f > 1`` the
    tight instance (every slack 0) has gap ``<= 0`` at ``eps = (1 + f)/2 * bound``.
    """
    d = th.rank2_general(_q(coefficient))
    if d["residual"] != 0 or not d["coefficients_nonnegative"]:
        K, m, eps = 3, Fraction(1, 10), Fraction(1, 2)
        return refuted(
            f"every-K bound identity with coefficient {fmt_exact(Fraction(coefficient))} fails: residual {d['residual']}",
            instance={"K": K, "m": fmt_exact(m), "eps": fmt_exact(eps), "residual": str(d["residual"]),
                      "residual_value": str(d["residual"].subs({th.KS: K, d["m"]: _q(m), d["eps"]: _q(eps)}))},
        )
    f = Fraction(bound_factor)
    if f > 1:
        K, m = 3, Fraction(1, 40)
        bound = Fraction(2 * K) * m / (K - 2)
        eps = min(Fraction(1), (1 + f) / 2 * bound)
        P = _extremal(K, m)
        mu, _ = ct_sampler(P, eps)
        t, pair = margins_ct(P, mu)
        lower = d["bound"].subs({th.KS: K, d["m"]: _q(m), d["eps"]: _q(eps)})
        return refuted(
            f"the claimed range eps < {f} * 2Km/(K-2) is too wide: on the tight instance (all slacks 0) gap = m - eps (K-2)/(2K) = {lower} <= 0",
            instance={"K": K, "P": _J(P), "eps": fmt_exact(eps), "claimed_bound": fmt_exact(f * bound), "gap": fmt_exact(t), "pair": list(pair)},
        )
    return proved(
        "for every K >= 2 (symbolic K, indexed sum split at k = c, j and the rest; c = 0, j = 1 by relabelling): "
        "s_c - s_j = [m - eps (K-2)/(2K)] + (1 - eps + 2eps/K)(A - m) + (eps/K) sum_k [(P[c,k] - 1/2 - m) + (1 - P[j,k])], "
        "coefficients >= 0 for 0 <= eps <= 1, slacks >= 0 by the definition of m; so CT holds for 0 < eps < 2Km/(K-2), eps <= 1 "
        f"(no bound for K = 2){'' if f == 1 else f', in particular for eps < {f} times that bound'}; equality on the tight instance",
        bound=str(d["bound"]),
    )


def rank2_instances(ctx: CheckContext, bound_factor: Fraction = Fraction(1)) -> Outcome:
    """CT at ``eps`` just below the claimed bound ``f * 2Km/(K-2)`` on tight and drawn matrices.

    ``eps = min(1, f * bound) (1 - delta)`` for ``delta`` in ``{1/100, 1/10, 1/2}``: a
    claimed bound above the true one puts ``eps`` past it on the tight instances.
    Drawn matrices are kept when they satisfy the claim's hypotheses (a Condorcet winner).
    """
    rng = ctx.rng("rank2")
    n = ctx.pick(quick=40, standard=400, thorough=4000)
    f = Fraction(bound_factor)
    cases = []
    for K in range(3, 9):
        for m in (Fraction(1, 40), Fraction(1, 7)):
            cases.append(_extremal(K, m))  # tight: every slack 0
    for _ in range(n):
        K = int(rng.integers(2, 9))
        kind = "condorcet" if rng.random() < 0.8 else "any"
        cases.append(_permuted(rng, random_matrix(rng, K, den=int(rng.choice([4, 20, 100])), kind=kind)))
    worst = None
    kept = 0
    for P in cases:
        if not ctx.satisfies(P):
            continue
        kept += 1
        c, m, bound = rank2_eps_bound(P)
        for delta in (Fraction(1, 100), Fraction(1, 10), Fraction(1, 2)):
            eps = min(Fraction(1), f * bound) * (1 - delta)
            mu, _ = ct_sampler(P, eps)
            t, pair = margins_ct(P, mu)
            if t <= 0:
                return refuted(
                    f"mu = (1-eps) e_c + (eps/K) 1 with eps = {fmt_exact(eps)} < claimed bound {fmt_exact(f * bound)} violates CT",
                    instance={"P": _J(P), "eps": fmt_exact(eps), "gap": fmt_exact(t), "pair": list(pair)},
                    seed=ctx.subseed("rank2"),
                )
            worst = t if worst is None else min(worst, t)
    return verified(
        f"CT holds exactly at eps = (1 - delta) min(1, {fmt_exact(f)} * 2Km/(K-2)), delta in {{1/100, 1/10, 1/2}}, on {kept} matrices "
        "with a Condorcet winner (12 tight instances K = 3..8)",
        n=kept,
        dps=None,
        tolerance=EXACT,
        smallest_margin=fmt_exact(worst) if worst is not None else None,
    )


def margins_ct(P, mu) -> tuple[Fraction, tuple[int, int]]:
    pairs = required_pairs(P, "CT")
    ms = margins(P, pairs, mu)
    r = min(range(len(pairs)), key=lambda k: ms[k])
    return ms[r], pairs[r]


def _sections_rank2() -> list[Section]:
    d = th.rank2_bound_identity(3)
    K = sympy.Symbol("K")
    # p_2 = P[0,2] and q_2 = P[1,2] in the notation of the claims reference
    names = {sympy.Symbol("p_2"): sympy.Symbol("p_02"), sympy.Symbol("q_2"): sympy.Symbol("p_12")}
    return [
        Section(
            "RANK-2: explicit sampler for CT",
            "$\\mu = (1-\\varepsilon)e_c + \\tfrac{\\varepsilon}{K}\\mathbf 1$ satisfies CT for $0<\\varepsilon<2Km/(K-2)$, $m=\\min_j P_{cj}-\\tfrac12$; tight. "
            "Below $c = 0$, $j = 1$ and $A = P_{01} - \\tfrac12$.",
            [
                ("The gap, K = 3", Equation("s_0 - s_1", d["gap"].subs(names))),
                ("Its lower bound", Equation(r"s_0 - s_1 \ge", d["bound"], "")),
                ("The bound on eps, every K", Equation(r"\varepsilon <", 2 * K * d["m"] / (K - 2), "")),
            ],
        )
    ]


RANK2 = register(
    Claim(
        id="RANK-2",
        statement="For every P with a Condorcet winner c there is an interior mu with CT: mu = (1-eps) e_c + (eps/K) 1 for 0 < eps < 2Km/(K-2), eps <= 1, m = min_j P[c,j] - 1/2.",
        tag="paper",
        latex=r"0<\varepsilon<\tfrac{2Km}{K-2},\ \varepsilon\le 1 \implies \mathrm{CT}(P,(1-\varepsilon)e_c+\tfrac{\varepsilon}{K}\mathbf 1)",
        hypotheses={"condorcet_winner": lambda P: condorcet_winner(P) is not None},
        scope=Scope("every K >= 2, every P with a Condorcet winner c, every 0 < eps <= 1 below 2Km/(K-2) (no bound for K = 2)"),
        checkers=[
            Checker("general-K", "symbolic", rank2_general, "gap = bound + nonnegative slacks for symbolic K; tightness",
                    covers="every K >= 2 (symbolic K, indexed sums; c = 0, j = 1 by relabelling)",
                    proves=("every K >= 2, every P with a Condorcet winner c, every 0 < eps <= 1 below 2Km/(K-2) (no bound for K = 2)",)),
            Checker("instances", "exact", rank2_instances, "CT at eps just below the claimed bound, exact",
                    covers="12 tight instances K = 3..8 and 40 drawn P, K = 2..8 (quick), 3 eps each"),
        ],
        constants=[
            Constant(
                "eps bound 2Km/(K-2)",
                Fraction(1),
                "bound_factor",
                checkers=("general-K", "instances"),
                holds=lambda f: f <= 1,
                why="a sufficient bound: a smaller one (x3/4) is still valid; a larger one is false because the bound is attained (tight instance, all slacks 0)",
            )
        ],
        controls=[
            Control("wrong-identity", "every-K identity with m - eps (K-2) (3/8)/K (coefficient 3/8 instead of 1/2)", partial(rank2_general, coefficient=Fraction(3, 8))),
        ],
        source=SOURCE,
        note=(
            "Explicit bound (derived here): s_c - s_j >= m - eps (K-2)/(2K), so any 0 < eps < 2Km/(K-2) (and eps <= 1) works; "
            "for K = 2 every eps in (0, 1] works. The bound is attained by the RANK-1 construction (gap 0 at eps = 2Km/(K-2)). "
            "The hypothesis 'Condorcet winner' has no dropped-hypothesis control: without a Condorcet winner CT holds vacuously."
        ),
        cites=("relabelling: CT, m and the bound are invariant under a permutation of the responses, so c = 0 and j = 1 loses no generality",),
        expressions=_sections_rank2,
    )
)


# ================================================================================================
# RANK-3: for every P some interior sampler satisfies ST
# ================================================================================================


def rank3_duality(ctx: CheckContext, half: Fraction = HALF) -> Outcome:
    """Every K: the duality step in the free matrix algebra, with Ville's theorem of the alternative as a cited axiom.

    ``half`` plants a wrong lemma ``a^T P a = half (1^T a)^2`` (true 1/2); a non-zero
    normal form is evaluated at a concrete ``K = 3`` point as the counterexample.
    """
    d = th.rank3_duality(_q(half))
    if d["quadratic"] or d["contradiction"]:
        rnd = ctx.rng("rank3-duality")
        K = 3
        S = sympy.zeros(K, K)
        for i in range(K):
            for j in range(i + 1, K):
                s = sympy.Rational(int(rnd.integers(-4, 5)), 10)
                S[i, j], S[j, i] = s, -s
        a = sympy.Matrix([sympy.Rational(1, 2), sympy.Rational(1, 3), sympy.Rational(1, 6)])
        b = sympy.Matrix([sympy.Rational(1, 4), sympy.Rational(1, 4), sympy.Rational(1, 2)])
        val = ma.evaluate(d["quadratic_expr"], {"S": S, "one": sympy.ones(K, 1), "a": a, "b": b})
        return refuted(
            f"a^T P a = {fmt_exact(Fraction(half))} (1^T a)^2 is not an identity: normal form {d['quadratic']}",
            instance={"K": K, "S": [[str(x) for x in S.row(i)] for i in range(K)], "a": [str(x) for x in a], "value": str(val[0, 0])},
        )
    if th.interior_push() != 0:
        return refuted("the interior push (1-delta) t - delta = t/2 fails", instance={"delta": "t/(2(1+t))"})
    return proved(
        "for every K: suppose no mu >= 0 has (P mu)_i > (P mu)_j for all i in S, j notin S. By Ville's theorem of the alternative "
        "(cited axiom; a form of Gordan's theorem / LP duality) some y >= 0, y != 0 has y^T M <= 0, M rows (e_i - e_j)^T P; "
        "with a = sum y_r e_(i_r)/sum y (a distribution on S), b likewise off S: 0 >= (y^T M a)/sum y = (a - b)^T P a = b^T Delta a, "
        "Delta = (1/2) 1 1^T - P (free matrix algebra, P = S + (1/2) 1 1^T, S^T = -S, 1^T a = 1^T b = 1; a^T S a = 0). "
        "But Delta[l,k] = 1/2 - P[l,k] > 0 for l off, k in the Smith set, so b^T Delta a > 0: contradiction. So some mu* in the simplex has "
        "margin t* > 0, and mu* mixed with 1/K at delta = t*/(2(1 + t*)) is interior with margin >= t*/2 (identity; margins >= -1 at 1/K)",
        quadratic=str(d["quadratic"]),
        contradiction=str(d["contradiction"]),
    )


def rank3_lp(ctx: CheckContext, swap: bool = False) -> Outcome:
    """Exact LP for ST on random matrices with a proper Smith set; ``swap`` reverses the roles (control)."""
    rng = ctx.rng("rank3")
    n = ctx.pick(quick=40, standard=300, thorough=3000)
    Kmax = ctx.pick(quick=7, standard=8, thorough=10)
    ts = []
    for _ in range(n):
        K = int(rng.integers(2, Kmax + 1))
        P = _permuted(rng, random_matrix(rng, K, den=int(rng.choice([2, 4, 10, 40])), kind="smith"))
        S = smith_set(P)
        pairs = [(i, j) for i in S for j in range(K) if j not in S]
        if swap:
            pairs = [(j, i) for i, j in pairs]
            lp = max_min_margin(P, pairs)
            if lp.t <= 0:
                assert check_farkas(P, pairs, lp.y)
                return refuted(
                    "non-members above Smith members: no sampler exists (Farkas certificate)",
                    instance={"P": _J(P), "pairs": pairs, "farkas_y": [fmt_exact(v) for v in lp.y], "value": fmt_exact(lp.t)},
                    seed=ctx.subseed("rank3"),
                )
            continue
        res = sampler(P, "ST")
        ok, why = verify_sampler_certificate(P, "ST", res.to_json())
        if res.status != "feasible" or not ok:
            return refuted(
                f"no interior ST sampler: {res.status}; {why}",
                instance={"P": _J(P), **res.to_json()},
                seed=ctx.subseed("rank3"),
            )
        ts.append(res.lp.t)
    if swap:
        return verified("every swapped instance was feasible", n=n, dps=None, tolerance=EXACT)
    return verified(
        f"exact LP certified t* > 0 and an interior ST sampler on {len(ts)} matrices with a proper Smith set (K = 2..{Kmax})",
        n=len(ts),
        tolerance=EXACT,
        smallest_t=fmt_exact(min(ts)),
        seed=ctx.subseed("rank3"),
    )


def _sections_rank3() -> list[Section]:
    return [
        Section(
            "RANK-3: instance-dependent ST sampler",
            "Lemma $a^\\top P a = (\\sum a)^2/2$; with LP duality it shows the max-min margin is positive for every $P$.",
            [("The lemma's residual, K = 3", Equation(r"a^{\top} P a - \tfrac12 (\mathbf 1^{\top} a)^2", th.skew_quadratic_identity(3)))],
        )
    ]


RANK3_SCOPE = "every K >= 2, every valid P (ties allowed)"

RANK3 = register(
    Claim(
        id="RANK-3",
        statement="For every P there is an interior mu with ST (every Smith member strictly above every non-member).",
        tag="open",
        latex=r"\forall P\ \exists \mu\in\operatorname{int}\Delta_K:\ \min_{i\in S,\,j\notin S}(P\mu)_i-(P\mu)_j>0",
        scope=Scope(RANK3_SCOPE),
        checkers=[
            Checker("duality", "symbolic", rank3_duality, "Ville's alternative + a^T P a = (1^T a)^2/2 in the free matrix algebra + interior push",
                    covers="every K (free matrix algebra; Ville's theorem of the alternative cited as an axiom)", proves=(RANK3_SCOPE,)),
            Checker("exact-lp", "exact", rank3_lp, "exact LP with certified t* > 0 and an interior sampler",
                    covers="40 drawn P with a proper Smith set, K = 2..7 (quick)"),
        ],
        controls=[
            Control("swap-roles", "the same LP with non-members required above Smith members", partial(rank3_lp, swap=True)),
            Control("wrong-lemma", "the duality step with a^T P a = (3/8)(1^T a)^2", partial(rank3_duality, half=Fraction(3, 8))),
        ],
        source=SOURCE,
        note=(
            "[open] settled: TRUE for every P (ties allowed). Proof (mechanised for every K except the cited Ville theorem): if no "
            "sampler had all Smith margins > 0, Ville's alternative gives distributions a on S and b off S with a^T P <= b^T P "
            "componentwise; then 0 >= (a - b)^T P a = b^T Delta a > 0 (Delta = (1/2) 1 1^T - P > 0 on off x in), a contradiction. "
            "Mixing the optimum with the uniform point (delta = t*/(2(1+t*))) keeps margin >= t*/2."
        ),
        cites=(
            "Ville's theorem of the alternative (1938): for a real matrix M, either M x > 0 for some x >= 0, or y^T M <= 0 "
            "for some y >= 0, y != 0 (equivalent to Gordan's theorem / LP strong duality)",
            "a sum of products b_l Delta_lk a_k with every Delta_lk >= m > 0 and a, b >= 0 summing to 1 is >= m (elementary)",
        ),
        expressions=_sections_rank3,
    )
)


# ================================================================================================
# RANK-4: a transitive P without an interior OP sampler exists; the smallest K is 4
# ================================================================================================


@lru_cache(maxsize=None)
def load_rank4_witness() -> dict:
    """The stored minimal RANK-4 witness (``verify/data/rank4_witness.json``)."""
    text = resources.files("verify").joinpath("data/rank4_witness.json").read_text()
    return json.loads(text)


def rank4_certificate(ctx: CheckContext, P: Any = None, y: Any = None) -> Outcome:
    """Exact Farkas check that no sampler satisfies OP on ``P`` (default: the stored witness)."""
    w = load_rank4_witness()
    P = w["P"] if P is None else P
    pm = load_preference_matrix(P)
    pairs = required_pairs(pm, "OP")
    yy = w["farkas_y"] if y is None else y
    if check_farkas(pm, pairs, yy):
        form = th.farkas_form(pm.to_sympy(), pairs, yy)
        return proved(
            f"P (K = {pm.K}) is transitive (order {majority_order(pm)}) and y = ({', '.join(map(str, yy))}) is a Farkas certificate: "
            f"sum_r y_r (s_i - s_j) = {form} < 0 for every sampler, so no interior mu satisfies OP",
            P=pm.rows(),
            pairs=pairs,
            farkas_y=[Fraction(v) for v in yy],
            linear_form=str(form),
        )
    res = sampler(pm, "OP")
    if res.status == "feasible":
        return refuted(
            f"an interior sampler satisfies OP on this P (margin {fmt_exact(res.margin)})",
            instance={"P": pm.to_json(), "mu": [fmt_exact(x) for x in res.mu], "margin": fmt_exact(res.margin)},
        )
    return refuted("the stored certificate fails (the LP still finds P infeasible)", instance={"P": pm.to_json(), **res.to_json()})


def rank4_minimal(ctx: CheckContext) -> Outcome:
    m2 = th.op_small_K_margins(2)
    m3 = th.op_small_K_margins(3)
    p = th.upper_symbols(3)[1]
    expected3 = [p[(0, 1)] - th.HALF, p[(1, 2)] - th.HALF]
    if m2 != [th.upper_symbols(2)[1][(0, 1)] - th.HALF] or [sympy.expand(a - b) for a, b in zip(m3, expected3)] != [0, 0]:
        return refuted("small-K margins differ from P[i,i+1] - 1/2", instance={"K2": str(m2), "K3": str(m3)})
    if th.interior_push() != 0:
        return refuted("the interior push (1-delta) t - delta = t/2 fails", instance={"delta": "t/(2(1+t))"})
    w = load_rank4_witness()
    return proved(
        f"K = 2: s_0 - s_1 = {m2[0]} > 0 for every mu; K = 3 (every transitive P, generic entries in rank order): at mu = e_1, "
        f"margins {m3} > 0, and mu = (1 - delta) e_1 + delta 1/3 at delta = t/(2(1+t)) is interior with margins >= t/2 (identity); "
        f"with the K = {w['K']} Farkas witness the smallest K is {w['K']}",
        smallest_K=w["K"],
    )


def rank4_search(ctx: CheckContext) -> Outcome:
    """Random (and, when thorough, exhaustive-grid) search for OP-infeasible transitive matrices."""
    rng = ctx.rng("rank4")
    n = ctx.pick(quick=100, standard=2000, thorough=20000)
    found: dict[int, int] = {}
    tried: dict[int, int] = {}
    example = None
    for _ in range(n):
        K = int(rng.integers(3, 8))
        P = random_matrix(rng, K, den=100, kind="transitive")
        if rng.random() < 0.5:  # skewed margins (many near 1/2 or near 1) find witnesses more often
            q = float(rng.choice([0.25, 4.0]))
            for i in range(K):
                for j in range(i + 1, K):
                    k = min(100, max(1, int(round(100 * float(rng.random()) ** q))))
                    P[i][j] = HALF + Fraction(k, 200)
                    P[j][i] = 1 - P[i][j]
        if not ctx.satisfies(P):
            continue
        tried[K] = tried.get(K, 0) + 1
        lp = max_min_margin(P, [(r, r + 1) for r in range(K - 1)], method="float")
        if lp.t <= 0:
            if not check_farkas(P, lp.pairs, lp.y):  # pragma: no cover - float+exact returns certified y
                continue
            found[K] = found.get(K, 0) + 1
            if example is None or K < len(example):
                example = P
    grid = grid_negative = None
    if ctx.budget == "thorough":
        vals = [Fraction(k, 10) for k in range(6, 11)]
        grid = grid_negative = 0
        for combo in itertools.product(vals, repeat=6):
            P = [[HALF] * 4 for _ in range(4)]
            it = iter(combo)
            for i in range(4):
                for j in range(i + 1, 4):
                    P[i][j] = next(it)
                    P[j][i] = 1 - P[i][j]
            lp = max_min_margin(P, [(0, 1), (1, 2), (2, 3)], method="float")
            if lp.t <= 0 and check_farkas(P, lp.pairs, lp.y):
                grid += 1
                grid_negative += max_min_margin(P, [(0, 1), (1, 2), (2, 3)]).t < 0
    small = [K for K in found if K <= 3]
    if small:
        return refuted(f"an OP-infeasible transitive P with K = {min(small)}", instance={"P": _J(example)})
    details = {"tried_per_K": tried, "certified_infeasible_per_K": found}
    if grid is not None:
        details["grid_K4_tenths_infeasible"] = grid
        details["grid_K4_tenths_negative_optimum"] = grid_negative
    return verified(
        f"{n} random transitive P (K = 3..7, entries k/100 or 1/2 + k/200 skewed): exact Farkas certificates for {sum(found.values())} "
        f"(per K: {dict(sorted(found.items()))}); none for K = 3"
        + ("" if grid is None else f"; exhaustive 1/10-grid at K = 4: {grid} of 15625 infeasible ({grid_negative} with optimum < 0, the rest = 0)"),
        n=n,
        dps=None,
        tolerance=0,
        tolerance_kind="exact",
        criterion="a float LP proposes OP-infeasible matrices; each is counted only when its Farkas certificate checks in exact rationals",
        **details,
    )


def _sections_rank4() -> list[Section]:
    w = load_rank4_witness()
    P = _mat(w["P"])
    pairs = [tuple(p) for p in w["pairs"]]
    return [
        Section(
            "RANK-4: a transitive P with no OP sampler (K = 4, minimal)",
            "Farkas certificate $y$ on consecutive pairs: $\\sum_r y_r (s_{i_r}-s_{j_r})<0$ for every sampler.",
            [
                ("The witness", Equation("P", P)),
                ("Farkas weights on the consecutive pairs", Equation("y", sympy.Matrix([sympy.Rational(v) for v in w["farkas_y"]]))),
                ("The certificate, for every sampler", Equation(r"\sum_r y_r (s_{i_r} - s_{j_r})", th.farkas_form(P, pairs, w["farkas_y"]))),
                ("K = 3: the consecutive margins at mu = e_1", Equation(r"(s_0 - s_1,\ s_1 - s_2)^{\top}", sympy.Matrix(th.op_small_K_margins(3)))),
            ],
        )
    ]


RANK4_PARTS = (
    "existence: a transitive P (K = 4) with no interior OP sampler",
    "minimality: every transitive P with K <= 3 admits an interior OP sampler",
)

RANK4 = register(
    Claim(
        id="RANK-4",
        statement="For some transitive P no interior mu satisfies OP; the smallest such K is 4.",
        tag="paper",
        latex=r"\exists P\ \text{transitive}:\ \forall\mu\in\operatorname{int}\Delta_K\ \neg\mathrm{OP}(P,\mu);\ \min K = 4",
        hypotheses={"transitive": is_transitive},
        scope=Scope("a transitive P without an interior OP sampler exists (K = 4), and none for K <= 3", parts=RANK4_PARTS),
        checkers=[
            Checker("farkas-witness", "exact", rank4_certificate, "stored K = 4 witness, exact Farkas certificate", evidence="proof",
                    covers="the existential statement: one exact certificate (K = 4)", proves=(RANK4_PARTS[0],)),
            Checker("minimality", "symbolic", rank4_minimal, "K <= 3 always admits OP",
                    covers="K = 2 and K = 3, every transitive P (generic symbolic entries in rank order)", proves=(RANK4_PARTS[1],)),
            Checker("search", "search", rank4_search, "random search (thorough: exhaustive 1/10 grid at K = 4)",
                    covers="100 drawn transitive P, K = 3..7 (quick)"),
        ],
        controls=[
            Control(
                "feasible-instance",
                "the certificate check on the RANK-1 matrix for K = 4 (OP achievable there)",
                partial(rank4_certificate, P=[[str(x) for x in r] for r in _extremal(4, Fraction(1, 10))], y=["1/2", "0", "1/2"]),
            )
        ],
        source=SOURCE,
        note=(
            "[open] smallest K = 4 (the specification guessed 6). Witness P = [[1/2,3/5,4/5,3/5],[2/5,1/2,1,4/5],[1/5,0,1/2,3/5],[2/5,1/5,2/5,1/2]], "
            "y = (1/2, 0, 1/2): (s_0 - s_1) + (s_2 - s_3) = -1/10 for every sampler. K = 2, 3 always admit OP (mu near e_1). "
            "In random search about 2% of transitive 4x4 matrices (uniform upper entries) have no OP sampler. 'transitive' has no "
            "dropped-hypothesis control: OP is only defined for transitive P."
        ),
        cites=(
            "relabelling: OP and transitivity are invariant under a permutation of the responses, so the majority order may be "
            "taken as 0 > 1 > ... > K-1",
            "elementary facts used by the minimality proof: the margins (P mu)_i - (P mu)_j are linear in mu and at least -1 at "
            "the uniform point; P[i,i+1] - 1/2 > 0 for a transitive P in rank order",
        ),
        expressions=_sections_rank4,
    )
)


# ================================================================================================
# RANK-5: under SST every interior sampler satisfies OP
# ================================================================================================


def rank5_symbolic(ctx: CheckContext) -> Outcome:
    Ks = ctx.pick(quick=[3, 4, 5], standard=[3, 4, 5, 6], thorough=[3, 4, 5, 6, 7])
    for K in Ks:
        for d in th.sst_gap_identity(K):
            if d["residual"] != 0:
                return refuted(f"gap identity fails for pair {d['pair']} at K = {K}", instance={"K": K, "residual": str(d["residual"])})
    return proved(
        "for i above j: s_i - s_j = (mu_i + mu_j)(P[i,j] - 1/2) + sum_k mu_k T_k with every T_k a sum of SST/majority slacks "
        f"(identity for every pair, K in {Ks}; each term involves only i, j, k, so all K); the specification's chain is correct "
        "(1/2 - P[j,i] = P[i,j] - 1/2) and needs only mu_i + mu_j > 0",
        Ks=Ks,
    )


def rank5_general(ctx: CheckContext, half: Fraction = HALF) -> Outcome:
    """Every K (symbolic K, i, j): ``s_i - s_j = (mu_i + mu_j)(P[i,j] - 1/2) + sum_k mu_k T_k`` with SST slacks ``T_k``.

    ``half`` plants a wrong constant in the certificate (true 1/2).
    """
    d = th.rank5_general(_q(half))
    if d["residual"] != 0 or not d["tiling"]:
        K, i, j = 3, 0, 1
        P = [[HALF, Fraction(3, 5), Fraction(7, 10)], [Fraction(2, 5), HALF, Fraction(3, 5)], [Fraction(3, 10), Fraction(2, 5), HALF]]
        mu = [Fraction(1, 3)] * 3
        val = d["residual"].subs({th.KS: K, th.II: i, th.JI: j}).subs({th.MUB[k]: _q(mu[k]) for k in range(K)})
        return refuted(
            f"every-K gap certificate with constant {fmt_exact(Fraction(half))} fails: residual {d['residual']}",
            instance={"K": K, "pair": [i, j], "P": _J(P), "mu": [fmt_exact(x) for x in mu], "residual_value": str(val)},
        )
    return proved(
        "for every K and every pair i above j (symbolic K, i, j; the sum over k split at i and j into k < i, i < k < j, k > j, "
        "where the rank order of i, j, k is fixed): s_i - s_j = (mu_i + mu_j)(P[i,j] - 1/2) + sum_(k<i) mu_k (P[k,j] - P[k,i]) "
        "+ sum_(i<k<j) mu_k ((P[i,k] - 1/2) + (P[k,j] - 1/2)) + sum_(k>j) mu_k (P[i,k] - P[j,k]); every bracket >= 0 by SST/WST "
        "and (mu_i + mu_j)(P[i,j] - 1/2) > 0 for interior mu, so OP holds",
        T={k: str(v) for k, v in d["T"].items()},
    )


def _rank5_instance(rng) -> dict:
    """A transitive P (strictly SST, SST with ties, or merely WST; relabelled) and a sampler (sometimes on the boundary)."""
    K = int(rng.integers(3, 8))
    r = rng.random()
    if r < 0.3:
        P = random_sst(rng, K, den=4)
    elif r < 0.6:  # SST with ties: entries in {3/4, 1}, rows ordered
        cut = [int(x) for x in sorted(rng.integers(1, K + 1, size=K))]
        P = [[HALF] * K for _ in range(K)]
        for i in range(K):
            for j in range(i + 1, K):
                P[i][j] = Fraction(1) if j >= cut[i] else Fraction(3, 4)  # cut non-decreasing: rows ordered
                P[j][i] = 1 - P[i][j]
    else:
        P = random_matrix(rng, K, den=int(rng.choice([4, 10, 100])), kind="transitive")
    P = _permuted(rng, P)
    if rng.random() < 0.3:
        w = [Fraction(0)] * K
        w[int(rng.integers(0, K))] = Fraction(1)
        mu = tuple(w)
    else:
        mu = random_interior(rng, K, den=int(rng.choice([3, 20, 1000])))
    return {"P": P, "mu": mu}


def rank5_fuzz(ctx: CheckContext) -> Outcome:
    """OP for drawn (P, mu) that satisfy the claim's hypotheses (SST, interior), exact scores."""
    rng = ctx.rng("rank5-fuzz")
    n = ctx.pick(quick=500, standard=3000, thorough=30000)
    kept = 0
    worst = None
    for _ in range(n):
        inst = _rank5_instance(rng)
        if not ctx.satisfies(inst):
            continue
        P, mu = inst["P"], inst["mu"]
        kept += 1
        t = min(margins(P, required_pairs(P, "OP"), mu))
        if t <= 0:
            return refuted(
                f"mu violates OP on a P that satisfies {sorted(ctx.hypotheses)} (margin {fmt_exact(t)})",
                instance={"P": _J(P), "mu": [fmt_exact(v) for v in mu], "margin": fmt_exact(t), "sst": is_sst(P)},
                seed=ctx.subseed("rank5-fuzz"),
            )
        worst = t if worst is None else min(worst, t)
    return verified(
        f"OP held exactly for {kept} drawn (P, mu) satisfying {sorted(ctx.hypotheses)} (K = 3..7)",
        n=kept,
        dps=None,
        tolerance=EXACT,
        smallest_margin=fmt_exact(worst) if worst is not None else None,
        seed=ctx.subseed("rank5-fuzz"),
    )


def rank5_rows(ctx: CheckContext, with_wst: bool = True) -> Outcome:
    """SST <=> (transitive and rows ordered), strict and non-strict, on random matrices (incl. ties)."""
    rng = ctx.rng("rank5-rows")
    n = ctx.pick(quick=300, standard=2000, thorough=20000)
    cases = [[[HALF] * 3 for _ in range(3)]]
    for _ in range(n):
        K = int(rng.integers(2, 6))
        kind = str(rng.choice(["any", "transitive", "sst"]))
        if kind == "sst":
            cases.append(random_sst(rng, K, den=4, low=0, high=3))  # zero increments: SST with ties
        else:
            cases.append(random_matrix(rng, K, den=int(rng.choice([2, 4, 10])), kind=kind))
    for P in cases:
        for strict in (False, True):
            rhs = rows_ordered(P, strict=strict) and (is_transitive(P) if with_wst else True)
            if is_sst(P, strict=strict) != rhs:
                return refuted(
                    f"SST{' (strict)' if strict else ''} != {'transitive and ' if with_wst else ''}rows ordered",
                    instance={"P": _J(P), "is_sst": is_sst(P, strict=strict), "rows_ordered": rows_ordered(P, strict=strict)},
                    seed=ctx.subseed("rank5-rows"),
                )
    return verified(
        f"SST <=> transitive and rows ordered (i >_M j => P[i,k] >= P[j,k]), strict and non-strict, on {len(cases)} matrices",
        n=len(cases),
        tolerance=EXACT,
    )


def _sections_rank5() -> list[Section]:
    d = th.sst_gap_identity(3)
    return [
        Section(
            "RANK-5: SST implies OP",
            "Gap of a pair as a nonnegative combination of SST slacks ($K=3$, all pairs).",
            [(f"Pair ({x['pair'][0]}, {x['pair'][1]})", Equation(f"s_{x['pair'][0]} - s_{x['pair'][1]}", x["certificate"])) for x in d],
        )
    ]


RANK5_SCOPE = "every K >= 2, every SST P, every interior mu"

RANK5 = register(
    Claim(
        id="RANK-5",
        statement="Under SST every interior mu satisfies OP.",
        tag="paper",
        latex=r"P\ \mathrm{SST},\ \mu\in\operatorname{int}\Delta_K \implies (P\mu)_i>(P\mu)_j\ \forall i>_M j",
        hypotheses={"sst": lambda inst: is_sst(inst["P"]), "interior": lambda inst: _interior(inst["mu"])},
        scope=Scope(RANK5_SCOPE),
        checkers=[
            Checker("general-K", "symbolic", rank5_general, "gap as SST slacks for symbolic K, i, j (three positions of k)",
                    covers="every K (symbolic K, i, j; indexed sums)", proves=(RANK5_SCOPE,)),
            Checker("slack-identity", "symbolic", rank5_symbolic, "gap as SST slacks for every pair at fixed K", covers="K = 3, 4, 5 (quick)"),
            Checker("fuzz", "exact", rank5_fuzz, "drawn (P, mu) filtered by SST and interior, exact scores", covers="about 200 drawn SST P, K = 3..7 (quick)"),
            Checker("rows-ordered", "exact", rank5_rows, "[derived] SST <=> transitive and rows ordered", covers="301 matrices K = 2..5 (quick)"),
        ],
        controls=[
            without_hypothesis(rank5_fuzz, "sst", "the fuzz with only transitivity (WST) required"),
            without_hypothesis(rank5_fuzz, "interior", "the fuzz with samplers on the boundary (vertices) allowed"),
            Control("rows-without-wst", "SST <=> rows ordered, without transitivity", partial(rank5_rows, with_wst=False)),
            Control("wrong-certificate", "every-K certificate with (mu_i + mu_j)(P[i,j] - 1/3)", partial(rank5_general, half=Fraction(1, 3))),
        ],
        source=SOURCE,
        note=(
            "The specification's chain is correct and only needs mu_i + mu_j > 0. The [derived] equivalence 'SST <=> rows ordered' "
            "holds together with transitivity (strict and non-strict); without transitivity it fails (a matrix of ties has "
            "ordered rows vacuously)."
        ),
        cites=("relabelling: OP and SST are invariant under a permutation of the responses, so the majority order may be taken as the index order",),
        expressions=_sections_rank5,
    )
)


# ================================================================================================
# RANK-6: shifting mu toward the top widens a gap whose d is non-increasing (Abel summation); entropy [open]
# ================================================================================================


def rank6_general(ctx: CheckContext, scale: Fraction = Fraction(1)) -> Outcome:
    """Every K (symbolic K): Abel summation by peel/shift steps; ``scale`` plants a wrong factor (true 1)."""
    d = th.rank6_general(_q(scale))
    if d["residual"] != 0 or not d["linearity"]:
        K = 3
        Db, db = sympy.IndexedBase("D"), sympy.IndexedBase("d")
        pt = {Db[0]: sympy.Rational(1, 5), Db[1]: sympy.Rational(1, 10), Db[2]: 0, db[0]: 1, db[1]: sympy.Rational(1, 2), db[2]: 0}
        val = d["residual"].subs(th.KS, K).doit().subs(pt)
        return refuted(
            f"every-K Abel identity with factor {fmt_exact(Fraction(scale))} fails: residual {d['residual']}",
            instance={"K": K, "D": ["1/5", "1/10", "0"], "d": ["1", "1/2", "0"], "residual_value": str(val)},
        )
    return proved(
        "for every K >= 2 (symbolic K; peel, shift and split of finite sums): sum_k (mu'_k - mu_k) d_k = "
        "sum_(m=0)^(K-2) (F'_m - F_m)(d_m - d_(m+1)) with equal mass (F'_(K-1) = F_(K-1)); with F' >= F and d non-increasing "
        "every product is >= 0, so the gap (P mu')_i - (P mu')_j does not shrink, strictly iff some F'_m > F_m and d_m > d_(m+1)",
    )


def _fosd_shift(rng, mu: tuple[Fraction, ...], order: list[int], den: int = 10) -> tuple[Fraction, ...]:
    """Move mass from lower to higher positions of ``order`` (a first-order-dominating mu')."""
    nu = list(mu)
    for _ in range(int(rng.integers(1, 4))):
        a, b = sorted(int(x) for x in rng.choice(len(order), size=2, replace=False))
        hi, lo = order[a], order[b]
        delta = nu[lo] * Fraction(int(rng.integers(1, den + 1)), den)
        nu[hi] += delta
        nu[lo] -= delta
    return tuple(nu)


def _rank6_instance(rng, draw: str = "any") -> dict:
    """A pair, an order of positions (d-sorted or not) and a shift of mu (first-order dominating or not).

    ``draw="any"``: any P, random pair, positions sorted by ``d`` half of the time;
    ``draw="sst"``: strictly SST P in majority order, adjacent pair, positions = majority order.
    """
    K = int(rng.integers(3, 7))
    if draw == "sst":
        P = random_sst(rng, K, den=8)
        r = int(rng.integers(0, K - 1))
        i, j = r, r + 1
        order = list(range(K))
    else:
        P = random_matrix(rng, K, den=int(rng.choice([4, 20])))
        i, j = (int(x) for x in rng.choice(K, size=2, replace=False))
        d = [P[i][k] - P[j][k] for k in range(K)]
        if rng.random() < 0.5:
            order = sorted(range(K), key=lambda k: (-d[k], float(rng.random())))
        else:
            order = [int(x) for x in rng.permutation(K)]
    mu = random_interior(rng, K)
    if draw == "sst" or rng.random() < 0.5:
        nu = _fosd_shift(rng, mu, order)
    else:
        nu = _fosd_shift(rng, mu, [int(x) for x in rng.permutation(K)])  # a shift in some other direction
    return {"P": P, "pair": (i, j), "positions": order, "mu": mu, "mu_shifted": nu}


def _d_monotone(inst: dict) -> bool:
    P, (i, j), order = inst["P"], inst["pair"], inst["positions"]
    d = [P[i][k] - P[j][k] for k in order]
    return all(d[r] >= d[r + 1] for r in range(len(d) - 1))


def _fosd(inst: dict) -> bool:
    order, mu, nu = inst["positions"], inst["mu"], inst["mu_shifted"]
    F = G = Fraction(0)
    for k in order:
        F += mu[k]
        G += nu[k]
        if G < F:
            return False
    return G == F


def rank6_fuzz(ctx: CheckContext, draw: str = "any") -> Outcome:
    """Gap monotonicity for drawn instances that satisfy the claim's hypotheses (d non-increasing, mu' FOSD mu)."""
    rng = ctx.rng("rank6")
    n = ctx.pick(quick=400, standard=2000, thorough=20000)
    strict = kept = 0
    for _ in range(n):
        inst = _rank6_instance(rng, draw)
        if not ctx.satisfies(inst):
            continue
        kept += 1
        P, (i, j), mu, nu = inst["P"], inst["pair"], inst["mu"], inst["mu_shifted"]
        K = len(P)
        g0 = sum((mu[k] * (P[i][k] - P[j][k]) for k in range(K)), Fraction(0))
        g1 = sum((nu[k] * (P[i][k] - P[j][k]) for k in range(K)), Fraction(0))
        if g1 < g0:
            return refuted(
                f"shifting mu shrinks the gap of ({i}, {j}) from {fmt_exact(g0)} to {fmt_exact(g1)} (hypotheses used: {sorted(ctx.hypotheses)})",
                instance={"P": _J(P), "pair": [i, j], "positions": inst["positions"], "mu": [fmt_exact(x) for x in mu], "mu_shifted": [fmt_exact(x) for x in nu]},
                seed=ctx.subseed("rank6"),
            )
        strict += g1 > g0
    return verified(
        f"gap never shrank on {kept} drawn shifts satisfying {sorted(ctx.hypotheses)} ({strict} strictly increased)",
        n=kept,
        dps=None,
        tolerance=EXACT,
    )


def _entropy(s, beta) -> Any:
    z = [beta * x for x in s]
    zmax = max(z)
    w = [mpmath.exp(x - zmax) for x in z]
    W = mpmath.fsum(w)
    return -mpmath.fsum((x / W) * mpmath.log(x / W) for x in w)


def rank6_entropy(ctx: CheckContext, comonotone: bool = True) -> Outcome:
    """Entropy of the IPO optimum ``pi* ∝ exp(beta P mu)`` under shifts of ``mu`` toward the top.

    Symbolic: ``dH/dt = -beta Cov_pi(z, Delta)`` and Chebyshev's identity, so
    ``H`` does not increase along ``s + t Delta`` when ``s`` and ``Delta`` are
    ordered alike. Numeric (dps 40): on strictly SST ``P`` with random shifts
    toward the top, counts how often ``H`` increases; with ``comonotone=True``
    only shifts whose score change is ordered like the scores are tested for
    ``H' <= H``, with ``False`` (control) every shift is.
    """
    Ks = ctx.pick(quick=[2, 3], standard=[2, 3, 4], thorough=[2, 3, 4])
    for K in Ks:
        if th.entropy_derivative_identity(K) != 0:
            return refuted(f"entropy derivative identity fails at K = {K}", instance={"K": K})
    for K in range(2, ctx.pick(quick=5, standard=6, thorough=7)):
        if th.chebyshev_identity(K) != 0:
            return refuted(f"Chebyshev identity fails at K = {K}", instance={"K": K})
    rng = ctx.rng("rank6-entropy")
    n = ctx.pick(quick=150, standard=2000, thorough=20000)
    dps, digits = 40, 30
    tested = increased = 0
    example = None
    with workdps(dps):
        for _ in range(n):
            K = int(rng.integers(3, 7))
            P = random_sst(rng, K, den=8)
            mu = random_interior(rng, K)
            nu = _fosd_shift(rng, mu, list(range(K)))
            s = [sum((P[k][l] * mu[l] for l in range(K)), Fraction(0)) for k in range(K)]
            s2 = [sum((P[k][l] * nu[l] for l in range(K)), Fraction(0)) for k in range(K)]
            delta = [b - a for a, b in zip(s, s2)]
            is_co = all(delta[k] >= delta[k + 1] for k in range(K - 1))
            beta = Fraction(int(rng.integers(1, 41)), 2)
            H0 = _entropy([mpf(x) for x in s], mpf(beta))
            H1 = _entropy([mpf(x) for x in s2], mpf(beta))
            up = H1 - H0 > mpmath.mpf(10) ** (-digits)
            increased += up
            if up and example is None:
                example = {"P": _J(P), "mu": [fmt_exact(x) for x in mu], "mu_shifted": [fmt_exact(x) for x in nu], "beta": fmt_exact(beta), "H": H0, "H_shifted": H1}
            if comonotone and not is_co:
                continue
            tested += 1
            if up:
                return refuted(
                    "entropy of pi* increased under a shift toward the top" + (" with comonotone score change" if comonotone else ""),
                    instance=example,
                    seed=ctx.subseed("rank6-entropy"),
                )
    return verified(
        f"dH/dt = -beta Cov_pi(z, Delta) (identity, K in {Ks}) and Chebyshev (K <= 5): H(pi*) does not increase when the score "
        f"change is ordered like the scores; confirmed on {tested} such shifts at {dps} digits. Without that condition H increased "
        f"in {increased} of {n} SST shifts toward the top",
        n=tested,
        dps=dps,
        tolerance=f"1e-{digits}",
        tolerance_kind="margin",
        criterion=f"H increased when H(shifted) - H > 1e-{digits} at {dps} digits",
        entropy_increases_without_condition=increased,
        example_increase=example,
    )


def _sections_rank6() -> list[Section]:
    a = th.abel_identity(4)
    prime = {sympy.Symbol(f"nu_{k}"): sympy.Symbol(f"\\mu'_{{{k}}}") for k in range(4)}  # nu is mu'
    lhs = r"\sum_k (\mu'_k - \mu_k)\, d_k"
    return [
        Section(
            "RANK-6: Abel summation and entropy",
            "Gap change under a shift of $\\mu$ to $\\mu'$ (equal mass), and $dH/dt=-\\beta\\,\\mathrm{Cov}_\\pi(z,\\Delta)$.",
            [("The change of the gap, K = 4", Equation(lhs, a["lhs"].subs(prime))), ("Summation by parts", Equation(lhs, a["rhs"].subs(prime)))],
        )
    ]


RANK6_SCOPE = (
    "every K >= 2, every P, every pair (i, j), every order of positions with d non-increasing, "
    "every mu' that first-order dominates mu (equal mass)"
)

RANK6 = register(
    Claim(
        id="RANK-6",
        statement=(
            "Precise version: for a pair (i, j) and a ranking of positions, if d_k = P[i,k] - P[j,k] is non-increasing in "
            "position and mu' first-order dominates mu toward the top, then (P mu')_i - (P mu')_j >= (P mu)_i - (P mu)_j "
            "(strict iff F'_m > F_m and d_m > d_{m+1} for some m)."
        ),
        tag="paper",
        latex=r"F'\ge F,\ d\downarrow \implies d^\top\mu' - d^\top\mu=\sum_m (F'_m-F_m)(d_m-d_{m+1})\ge 0",
        hypotheses={"d_monotone": _d_monotone, "fosd": _fosd},
        scope=Scope(RANK6_SCOPE),
        checkers=[
            Checker("abel", "symbolic", rank6_general, "summation by parts for symbolic K", covers="every K >= 2 (symbolic K, indexed sums)", proves=(RANK6_SCOPE,)),
            Checker("fuzz", "exact", rank6_fuzz, "drawn shifts filtered by d non-increasing and first-order dominance", covers="about 100 drawn shifts, K = 3..6 (quick)"),
            Checker("entropy", "numeric", rank6_entropy, "[open] entropy of pi* under shifts (symbolic + 40 digits)", covers="[open] part, not in the scope: entropy identity K = 2, 3 and Chebyshev K = 2..4; 150 shifts K = 3..6 at 40 digits (quick)"),
        ],
        controls=[
            without_hypothesis(rank6_fuzz, "d_monotone", "the fuzz without the condition on d (any order of positions)"),
            without_hypothesis(rank6_fuzz, "fosd", "the fuzz with shifts that do not first-order dominate"),
            dataclasses.replace(
                without_hypothesis(partial(rank6_fuzz, draw="sst"), "d_monotone", "strictly SST P, adjacent pair, shifts toward the top, no condition on d (the paper-style statement)"),
                name="sst-only",
            ),
            Control("wrong-abel", "every-K Abel identity with factor 5/4", partial(rank6_general, scale=Fraction(5, 4))),
            Control("entropy-any-shift", "claim H(pi*) never increases for SST shifts toward the top", partial(rank6_entropy, comonotone=False)),
        ],
        source=SOURCE + " (hypotheses of the paper unknown; this is a reconstruction)",
        note=(
            "SST alone does not suffice: shifting mass toward the top can shrink an adjacent gap (K = 3, pair (0,1), "
            "d = (P01-1/2, P01-1/2, P02-P12) is increasing when P02 - P12 > P01 - 1/2). Explicit: P = [[1/2,3/5,1],"
            "[2/5,1/2,3/5],[0,2/5,1/2]] (SST), mu = (1/3,1/3,1/3) -> mu' = (1/3,1/2,1/6): scores (7/10,1/2,3/10) -> "
            "(19/30,29/60,17/60), so s_0 - s_1 shrinks from 1/5 to 3/20, and at beta = 10 the entropy of pi* rises by 0.136. "
            "Entropy [open]: if the score change Delta = P(mu' - mu) is ordered like the scores (e.g. the condition holds "
            "for every adjacent pair and P is SST), H(pi*) does not increase (dH/dt = -beta Cov_pi(z, Delta) <= 0 by "
            "Chebyshev); without it, H increased in about a fifth of random SST shifts toward the top."
        ),
        expressions=_sections_rank6,
    )
)

#: the ranking claims, in registration order
CLAIMS = [RANK1, RANK2, RANK3, RANK4, RANK5, RANK6]
