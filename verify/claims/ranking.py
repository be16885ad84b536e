"""Claims RANK-1 .. RANK-6 (THEORY.md §2): one-shot ranking properties of IPO samplers.

Every certificate is checked in exact rational arithmetic (``Fraction``);
symbolic steps are sympy identities from :mod:`theory.ranking`. Each claim
carries negative controls: the same checking code run on a planted wrong
variant (a wrong constant, a dropped hypothesis, swapped roles), which must
come back ``refuted``.
"""

from __future__ import annotations

import json
from fractions import Fraction
from functools import lru_cache, partial
from importlib import resources
from typing import Any

import sympy

from theory import ranking as th
from theory.latex import Section

from ..lp import check_farkas, margins, max_min_margin
from ..objects import fmt_exact, load_preference_matrix
from ..registry import CheckContext, Checker, Claim, Control, Outcome, proved, refuted, register, verified
from ..ranking import (
    counterexample,
    ct_sampler,
    rank2_eps_bound,
    required_pairs,
    sampler,
    verify_counterexample,
    verify_sampler_certificate,
)
from ..social import condorcet_winner, is_sst, is_transitive, majority_order, rows_ordered, smith_set

__all__ = ["CLAIMS", "load_rank4_witness", "random_interior_mu", "random_matrix"]

SOURCE = "arXiv:2602.12180 (Chen, He, Jordan, Yao 2026), one-shot ranking under IPO; THEORY.md §2"
EXACT = "0 (exact rational arithmetic)"
HALF = Fraction(1, 2)

# --------------------------------------------------------------------------- random exact instances


def random_interior_mu(rng, K: int, den: int = 20) -> tuple[Fraction, ...]:
    """An interior point of the simplex with small denominators."""
    w = [Fraction(int(rng.integers(1, den + 1))) for _ in range(K)]
    s = sum(w)
    return tuple(x / s for x in w)


def random_matrix(rng, K: int, den: int = 20, kind: str = "any") -> list[list[Fraction]]:
    """A random valid ``P`` with entries in ``{0, 1/den, ..., 1}``.

    ``kind``: ``any``; ``transitive`` (order ``0 > 1 > ...``, margins > 0);
    ``smith`` (a planted dominating set ``{0..s-1}``, ``1 <= s < K``, so the
    Smith set is a proper subset); ``condorcet`` (0 beats everyone).
    """
    P = [[HALF] * K for _ in range(K)]
    s = int(rng.integers(1, K)) if kind == "smith" else 1
    for i in range(K):
        for j in range(i + 1, K):
            if kind == "transitive" or (kind == "smith" and i < s <= j) or (kind == "condorcet" and i == 0):
                v = Fraction(int(rng.integers(den // 2 + 1, den + 1)), den)
            else:
                v = Fraction(int(rng.integers(0, den + 1)), den)
            P[i][j] = v
            P[j][i] = 1 - v
    return P


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


# --------------------------------------------------------------------------- RANK-1


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


def rank1_constructor(ctx: CheckContext, factor: Fraction | None = None) -> Outcome:
    """Build and independently verify counterexamples for random interior ``mu``."""
    rng = ctx.rng("rank1")
    n = ctx.pick(quick=40, standard=300, thorough=3000)
    Kmax = ctx.pick(quick=8, standard=10, thorough=12)
    done = 0
    for it in range(n):
        K = int(rng.integers(3, Kmax + 1))
        mu = random_interior_mu(rng, K, den=int(rng.choice([3, 10, 100])))
        for prop in ("CT", "ST", "OP"):
            cx = counterexample(mu, prop, factor=factor)
            ok, why = verify_counterexample(cx.to_json())
            if not ok:
                return refuted(
                    f"the construction is not a counterexample for {prop}: {why}",
                    instance={"mu": [fmt_exact(x) for x in mu], "property": prop, "P": cx.P.to_json()},
                    seed=ctx.subseed("rank1"),
                )
            done += 1
    return verified(
        f"{done} counterexamples (CT, ST, OP; K = 3..{Kmax}) built and re-verified exactly from scratch",
        n=done,
        tolerance=EXACT,
        seed=ctx.subseed("rank1"),
    )


# --------------------------------------------------------------------------- RANK-2


def _extremal(K: int, m: Fraction) -> list[list[Fraction]]:
    from ..ranking import _ct_matrix

    return _ct_matrix(K, m)


def rank2_symbolic(ctx: CheckContext) -> Outcome:
    Ks = ctx.pick(quick=[3, 4, 5], standard=list(range(3, 8)), thorough=list(range(3, 10)))
    for K in Ks:
        d = th.rank2_bound_identity(K)
        if d["residual"] != 0:
            return refuted(f"RANK-2 bound identity fails at K = {K}", instance={"K": K, "residual": str(d["residual"])})
        eps = d["eps"]
        for coef, _ in d["pieces"]:
            lo, hi = coef.subs(eps, 0), coef.subs(eps, 1)
            if lo < 0 or hi < 0:  # coefficients are affine in eps
                return refuted(f"negative coefficient {coef} at K = {K}", instance={"K": K})
        # tightness: A = m, p_k = 1/2 + m, q_k = 1 makes every slack 0
        sub = {d["A"]: d["m"]}
        for k in range(2, K):
            sub[sympy.Symbol(f"p_{k}")] = th.HALF + d["m"]
            sub[sympy.Symbol(f"q_{k}")] = 1
        if sympy.expand(d["gap"].subs(sub) - d["bound"]) != 0:
            return refuted(f"bound not attained at K = {K}", instance={"K": K})
    return proved(
        "s_c - s_j = [m - eps (K-2)/(2K)] + nonnegative slacks (identity, K in "
        f"{Ks}); so mu = (1-eps) e_c + (eps/K) 1 satisfies CT for 0 < eps < 2Km/(K-2), eps <= 1, "
        "m = min_j P[c,j] - 1/2; equality on the RANK-1 extremal instance, so the bound is tight",
        Ks=Ks,
    )


def rank2_instances(ctx: CheckContext, scale: Fraction = Fraction(99, 100)) -> Outcome:
    """Random ``P`` with a Condorcet winner and the extremal instances at ``eps = scale * min(1, bound)``."""
    rng = ctx.rng("rank2")
    n = ctx.pick(quick=60, standard=400, thorough=4000)
    cases = []
    for K in range(3, 9):
        cases.append(_extremal(K, Fraction(1, 40)))  # bound = 2K/40/(K-2) < 1: tight instance
    for _ in range(n):
        K = int(rng.integers(2, 9))
        cases.append(_permuted(rng, random_matrix(rng, K, den=int(rng.choice([4, 20, 100])), kind="condorcet")))
    worst = None
    for P in cases:
        c, m, bound = rank2_eps_bound(P)
        eps = scale * min(Fraction(1), bound)
        mu, _ = ct_sampler(P, eps)
        t, pair = margins_ct(P, mu)
        if t <= 0:
            return refuted(
                f"mu = (1-eps) e_c + (eps/K) 1 with eps = {fmt_exact(eps)} (bound {fmt_exact(bound)}) violates CT",
                instance={"P": _J(P), "eps": fmt_exact(eps), "gap": fmt_exact(t), "pair": list(pair)},
                seed=ctx.subseed("rank2"),
            )
        worst = t if worst is None else min(worst, t)
    return verified(
        f"CT holds exactly at eps = {scale} * min(1, 2Km/(K-2)) on {len(cases)} matrices (incl. 6 tight instances)",
        n=len(cases),
        tolerance=EXACT,
        smallest_margin=fmt_exact(worst) if worst is not None else None,
    )


def margins_ct(P, mu) -> tuple[Fraction, tuple[int, int]]:
    pairs = required_pairs(P, "CT")
    ms = margins(P, pairs, mu)
    r = min(range(len(pairs)), key=lambda k: ms[k])
    return ms[r], pairs[r]


# --------------------------------------------------------------------------- RANK-3


def rank3_lemma(ctx: CheckContext) -> Outcome:
    Ks = ctx.pick(quick=[2, 3, 4, 5], standard=list(range(2, 8)), thorough=list(range(2, 10)))
    for K in Ks:
        r = th.skew_quadratic_identity(K)
        if r != 0:
            return refuted(f"a^T P a != (sum a)^2/2 at K = {K}", instance={"K": K, "residual": str(r)})
    return proved(
        "a^T P a = (sum a)^2/2 for every valid P (identity, K in "
        f"{Ks}); hence ST is always achievable: if max_mu min_(i in S, j notin S) (P mu)_i - (P mu)_j <= 0, "
        "by LP duality there are distributions a on S, b off S with a^T P <= b^T P; on columns k in S, "
        "b^T P e_k < 1/2, so a^T P a < 1/2, contradicting the identity. So t* > 0, and mixing with uniform keeps t > 0.",
        Ks=Ks,
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
        return verified("every swapped instance was feasible", n=n, tolerance=EXACT)
    return verified(
        f"exact LP certified t* > 0 and an interior ST sampler on {len(ts)} matrices with a proper Smith set (K = 2..{Kmax})",
        n=len(ts),
        tolerance=EXACT,
        smallest_t=fmt_exact(min(ts)),
        seed=ctx.subseed("rank3"),
    )


# --------------------------------------------------------------------------- RANK-4


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
            P=pm.to_json(),
            pairs=pairs,
            farkas_y=yy,
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
    w = load_rank4_witness()
    return proved(
        f"K = 2: s_0 - s_1 = {m2[0]} > 0 for every mu; K = 3: at mu = e_1, margins {m3} > 0, so an interior mu near e_1 works; "
        f"with the K = {w['K']} Farkas witness the smallest K is {w['K']}",
        smallest_K=w["K"],
    )


def rank4_search(ctx: CheckContext) -> Outcome:
    """Random (and, when thorough, exhaustive-grid) search for OP-infeasible transitive matrices."""
    import itertools

    rng = ctx.rng("rank4")
    n = ctx.pick(quick=200, standard=2000, thorough=20000)
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
        tolerance="float LP, certificates re-verified exactly",
        **details,
    )


# --------------------------------------------------------------------------- RANK-5


def rank5_symbolic(ctx: CheckContext) -> Outcome:
    Ks = ctx.pick(quick=[3, 4, 5], standard=[3, 4, 5, 6], thorough=[3, 4, 5, 6, 7])
    for K in Ks:
        for d in th.sst_gap_identity(K):
            if d["residual"] != 0:
                return refuted(f"gap identity fails for pair {d['pair']} at K = {K}", instance={"K": K, "residual": str(d["residual"])})
    return proved(
        "for i above j: s_i - s_j = (mu_i + mu_j)(P[i,j] - 1/2) + sum_k mu_k T_k with every T_k a sum of SST/majority slacks "
        f"(identity for every pair, K in {Ks}; each term involves only i, j, k, so all K); the THEORY chain is correct "
        "(1/2 - P[j,i] = P[i,j] - 1/2) and needs only mu_i + mu_j > 0",
        Ks=Ks,
    )


def rank5_fuzz(ctx: CheckContext, require_sst: bool = True) -> Outcome:
    """OP for random interior ``mu`` on random SST (and WST) matrices, exact scores.

    Draws strictly and non-strictly SST matrices (increments may be 0) and
    merely transitive ones, relabelled at random; keeps those satisfying the
    hypothesis (``SST``, or only ``transitive`` for the control).
    """
    from ..strategies import sst_from_increments

    rng = ctx.rng("rank5-fuzz")
    n = ctx.pick(quick=400, standard=3000, thorough=30000)
    kept = 0
    worst = None
    for _ in range(n):
        K = int(rng.integers(3, 8))
        if rng.random() < 0.5:
            inc = [[Fraction(int(rng.integers(0, 5)), 4) for _ in range(K)] for _ in range(K)]
            P = sst_from_increments(inc)
            if any(P[i][j] == HALF for i in range(K) for j in range(K) if i != j):
                P = random_matrix(rng, K, den=10, kind="transitive")
        else:
            P = random_matrix(rng, K, den=int(rng.choice([4, 10, 100])), kind="transitive")
        P = _permuted(rng, P)
        if not (is_sst(P) if require_sst else is_transitive(P)):
            continue
        kept += 1
        mu = random_interior_mu(rng, K, den=int(rng.choice([3, 20, 1000])))
        pairs = required_pairs(P, "OP")
        t = min(margins(P, pairs, mu))
        if t <= 0:
            return refuted(
                f"interior mu violates OP on a {'SST' if require_sst else 'transitive'} P (margin {fmt_exact(t)})",
                instance={"P": _J(P), "mu": [fmt_exact(v) for v in mu], "margin": fmt_exact(t)},
                seed=ctx.subseed("rank5-fuzz"),
            )
        worst = t if worst is None else min(worst, t)
    return verified(
        f"OP held exactly for {kept} random interior samplers on {'SST' if require_sst else 'transitive'} matrices (K = 3..7)",
        n=kept,
        tolerance=EXACT,
        smallest_margin=fmt_exact(worst) if worst is not None else None,
        seed=ctx.subseed("rank5-fuzz"),
    )


def rank5_rows(ctx: CheckContext, with_wst: bool = True) -> Outcome:
    """SST <=> (transitive and rows ordered), strict and non-strict, on random matrices (incl. ties)."""
    rng = ctx.rng("rank5-rows")
    n = ctx.pick(quick=300, standard=2000, thorough=20000)
    cases = [[[HALF] * 3 for _ in range(3)]]
    from ..strategies import sst_from_increments

    for _ in range(n):
        K = int(rng.integers(2, 6))
        kind = str(rng.choice(["any", "transitive", "sst"]))
        if kind == "sst":
            inc = [[Fraction(int(rng.integers(0, 4)), 4) for _ in range(K)] for _ in range(K)]
            cases.append(sst_from_increments(inc))
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


# --------------------------------------------------------------------------- RANK-6


def rank6_abel(ctx: CheckContext) -> Outcome:
    Ks = ctx.pick(quick=list(range(2, 7)), standard=list(range(2, 9)), thorough=list(range(2, 11)))
    for K in Ks:
        r = th.abel_identity(K)["residual"]
        if r != 0:
            return refuted(f"Abel identity fails at K = {K}", instance={"K": K, "residual": str(r)})
    return proved(
        "gap(mu') - gap(mu) = sum_m (F'_m - F_m)(d_m - d_{m+1}) (identity, K in "
        f"{Ks}): if mu' first-order dominates mu toward the top (F' >= F) and d is non-increasing in rank position, "
        "the gap does not shrink; it grows strictly iff F'_m > F_m and d_m > d_{m+1} for some m. SST is not needed.",
        Ks=Ks,
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


def rank6_fuzz(ctx: CheckContext, condition: bool = True) -> Outcome:
    """Gap monotonicity under first-order-dominating shifts.

    ``condition=True``: for any ``P`` and pair, positions are ordered so that
    ``d`` is non-increasing (the sufficient condition holds). ``False``
    (control): strictly SST ``P`` in majority order, adjacent pair, no
    condition on ``d`` — the paper-style statement "under SST".
    """
    rng = ctx.rng("rank6")
    n = ctx.pick(quick=300, standard=2000, thorough=20000)
    strict = 0
    from ..strategies import sst_from_increments

    for _ in range(n):
        K = int(rng.integers(3, 7))
        if condition:
            P = random_matrix(rng, K, den=int(rng.choice([4, 20])))
            i, j = (int(x) for x in rng.choice(K, size=2, replace=False))
            d = [P[i][k] - P[j][k] for k in range(K)]
            order = sorted(range(K), key=lambda k: (-d[k], float(rng.random())))
        else:
            inc = [[Fraction(int(rng.integers(1, 9)), 8) for _ in range(K)] for _ in range(K)]
            P = sst_from_increments(inc)
            order = list(range(K))
            r = int(rng.integers(0, K - 1))
            i, j = r, r + 1
        mu = random_interior_mu(rng, K)
        nu = _fosd_shift(rng, mu, order)
        g0 = sum((mu[k] * (P[i][k] - P[j][k]) for k in range(K)), Fraction(0))
        g1 = sum((nu[k] * (P[i][k] - P[j][k]) for k in range(K)), Fraction(0))
        if g1 < g0:
            return refuted(
                f"shifting mu toward the top shrinks the gap of ({i}, {j}) from {fmt_exact(g0)} to {fmt_exact(g1)}",
                instance={"P": _J(P), "pair": [i, j], "positions": order, "mu": [fmt_exact(x) for x in mu], "mu_shifted": [fmt_exact(x) for x in nu]},
                seed=ctx.subseed("rank6"),
            )
        strict += g1 > g0
    return verified(
        f"gap never shrank on {n} first-order-dominating shifts with d non-increasing ({strict} strictly increased)",
        n=n,
        tolerance=EXACT,
    )


def _entropy(s, beta) -> Any:
    import mpmath

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
    import mpmath

    from ..bridge import mpf
    from ..precision import workdps
    from ..strategies import sst_from_increments

    Ks = ctx.pick(quick=[2, 3], standard=[2, 3, 4], thorough=[2, 3, 4])
    for K in Ks:
        if th.entropy_derivative_identity(K) != 0:
            return refuted(f"entropy derivative identity fails at K = {K}", instance={"K": K})
    for K in range(2, 6):
        if th.chebyshev_identity(K) != 0:
            return refuted(f"Chebyshev identity fails at K = {K}", instance={"K": K})
    rng = ctx.rng("rank6-entropy")
    n = ctx.pick(quick=300, standard=2000, thorough=20000)
    dps, digits = 40, 30
    tested = increased = 0
    example = None
    with workdps(dps):
        for _ in range(n):
            K = int(rng.integers(3, 7))
            inc = [[Fraction(int(rng.integers(1, 9)), 8) for _ in range(K)] for _ in range(K)]
            P = sst_from_increments(inc)
            mu = random_interior_mu(rng, K)
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
                example = {"P": _J(P), "mu": [fmt_exact(x) for x in mu], "mu_shifted": [fmt_exact(x) for x in nu], "beta": fmt_exact(beta), "H": mpmath.nstr(H0, 12), "H_shifted": mpmath.nstr(H1, 12)}
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
        entropy_increases_without_condition=increased,
        example_increase=example,
    )


# --------------------------------------------------------------------------- LaTeX


def _mat(P) -> sympy.Matrix:
    return load_preference_matrix(P).to_sympy()


def _sections_rank1() -> list[Section]:
    _, red = th.ct_gap(3)
    cx = counterexample("1/5,3/10,1/2", "CT")
    cx4 = counterexample("1/10,1/5,3/10,2/5", "ST")
    return [
        Section(
            "RANK-1: counterexamples for every interior sampler",
            "Construction $P(\\mu,\\varepsilon)$ for $K=3$ and its score gap; the hint $\\varepsilon < \\mu_2/2$ is exact.",
            [
                ("P(mu, eps), K = 3", th.ct_construction(3)),
                ("s_0 - s_1 (using sum mu = 1)", red),
                ("ST construction, K = 4", th.st_construction(4)),
                ("s_3 - s_0 (ST, K = 4)", th.st_gap(4)),
                ("certificate for mu = (1/5, 3/10, 1/2): P", cx.P.to_sympy()),
                ("certificate: scores P mu", sympy.Matrix([sympy.Rational(str(x)) for x in cx.scores])),
                ("ST certificate for mu = (1/10, 1/5, 3/10, 2/5): P", cx4.P.to_sympy()),
                ("ST certificate: scores P mu", sympy.Matrix([sympy.Rational(str(x)) for x in cx4.scores])),
            ],
        )
    ]


def _sections_rank2() -> list[Section]:
    d = th.rank2_bound_identity(3)
    K = sympy.Symbol("K")
    return [
        Section(
            "RANK-2: explicit sampler for CT",
            "$\\mu = (1-\\varepsilon)e_c + \\tfrac{\\varepsilon}{K}\\mathbf 1$ satisfies CT for $0<\\varepsilon<2Km/(K-2)$, $m=\\min_j P_{cj}-\\tfrac12$; tight.",
            [("gap s_c - s_j, K = 3", d["gap"]), ("lower bound", d["bound"]), ("general bound on eps", 2 * K * d["m"] / (K - 2))],
        )
    ]


def _sections_rank3() -> list[Section]:
    return [
        Section(
            "RANK-3: instance-dependent ST sampler",
            "Lemma $a^\\top P a = (\\sum a)^2/2$; with LP duality it shows the max-min margin is positive for every $P$.",
            [("a^T P a - (sum a)^2/2, K = 3", th.skew_quadratic_identity(3))],
        )
    ]


def _sections_rank4() -> list[Section]:
    w = load_rank4_witness()
    P = _mat(w["P"])
    pairs = [tuple(p) for p in w["pairs"]]
    return [
        Section(
            "RANK-4: a transitive P with no OP sampler (K = 4, minimal)",
            "Farkas certificate $y$ on consecutive pairs: $\\sum_r y_r (s_{i_r}-s_{j_r})<0$ for every sampler.",
            [
                ("witness P", P),
                ("Farkas weights y", sympy.Matrix([sympy.Rational(v) for v in w["farkas_y"]])),
                ("sum_r y_r (s_i - s_j)", th.farkas_form(P, pairs, w["farkas_y"])),
                ("K = 3 margins at mu = e_1", sympy.Matrix(th.op_small_K_margins(3))),
            ],
        )
    ]


def _sections_rank5() -> list[Section]:
    d = th.sst_gap_identity(3)
    return [
        Section(
            "RANK-5: SST implies OP",
            "Gap of a pair as a nonnegative combination of SST slacks ($K=3$, all pairs).",
            [(f"s_{x['pair'][0]} - s_{x['pair'][1]} certificate", x["certificate"]) for x in d],
        )
    ]


def _sections_rank6() -> list[Section]:
    a = th.abel_identity(4)
    return [
        Section(
            "RANK-6: Abel summation and entropy",
            "Gap change under a shift of $\\mu$, and $dH/dt=-\\beta\\,\\mathrm{Cov}_\\pi(z,\\Delta)$.",
            [("sum_k (mu'_k - mu_k) d_k, K = 4", a["lhs"]), ("Abel form", a["rhs"])],
        )
    ]


# --------------------------------------------------------------------------- claims


CLAIMS = [
    Claim(
        id="RANK-1",
        statement="For every interior mu (K >= 3) there is a P on which CT fails; likewise ST, and OP with P transitive.",
        tag="paper",
        latex=r"\forall \mu\in\operatorname{int}\Delta_K,\ K\ge 3:\ \exists P:\ \neg\mathrm{CT}(P,\mu)",
        hypotheses={"interior": lambda mu: all(Fraction(x) > 0 for x in mu), "K_at_least_3": lambda mu: len(mu) >= 3},
        checkers=[
            Checker("gap-formulas", "symbolic", rank1_symbolic, "K = 3 hint and general gap formulas (sympy)"),
            Checker("constructor", "exact", rank1_constructor, "counterexample(mu, property) re-verified from scratch"),
        ],
        controls=[
            Control("eps-3/4", "construction with eps = (3/4)(1 - mu_0 - mu_1), above the threshold 1/2", partial(rank1_constructor, factor=Fraction(3, 4))),
            Control("hint-eps-mu2", "symbolic sign check at eps = (3/4) mu_2 (K = 3)", partial(rank1_symbolic, factor=Fraction(3, 4))),
        ],
        source=SOURCE,
        note=(
            "Construction: 0 beats all by 1/2+eps, 1 beats all k>=2 surely; s_0 - s_1 = eps - (1-mu_0-mu_1)/2 "
            "(K = 3: eps - mu_2/2, so the hint eps < mu_2/2 is exact; eps = mu_2/2 also fails CT by a tie). "
            "The same P is transitive, so it breaks OP, and its Smith set is {0}, so it breaks ST. For K >= 4 an ST "
            "counterexample with a 3-cycle Smith set and no Condorcet winner is also built: s_3 - s_0 = mu_2/2 - e(mu_0+2mu_1+mu_2+mu_3)."
        ),
        expressions=_sections_rank1,
    ),
    Claim(
        id="RANK-2",
        statement="For every P with a Condorcet winner c there is an interior mu with CT: mu = (1-eps) e_c + (eps/K) 1 for 0 < eps < 2Km/(K-2), m = min_j P[c,j] - 1/2.",
        tag="paper",
        latex=r"0<\varepsilon<\tfrac{2Km}{K-2},\ \varepsilon\le 1 \implies \mathrm{CT}(P,(1-\varepsilon)e_c+\tfrac{\varepsilon}{K}\mathbf 1)",
        hypotheses={"condorcet_winner": lambda P: condorcet_winner(P) is not None},
        checkers=[
            Checker("bound-identity", "symbolic", rank2_symbolic, "gap = bound + nonnegative slacks; tightness"),
            Checker("instances", "exact", rank2_instances, "CT at eps = 0.99 * bound, exact"),
        ],
        controls=[Control("eps-2x", "eps at 1.98 times the bound (tight instances break)", partial(rank2_instances, scale=Fraction(198, 100)))],
        source=SOURCE,
        note=(
            "Explicit bound (derived here): s_c - s_j >= m - eps (K-2)/(2K), so any 0 < eps < 2Km/(K-2) (and eps <= 1) works; "
            "for K = 2 every eps in (0, 1] works. The bound is attained by the RANK-1 construction (gap 0 at eps = 2Km/(K-2))."
        ),
        expressions=_sections_rank2,
    ),
    Claim(
        id="RANK-3",
        statement="For every P there is an interior mu with ST (every Smith member strictly above every non-member).",
        tag="open",
        latex=r"\forall P\ \exists \mu\in\operatorname{int}\Delta_K:\ \min_{i\in S,\,j\notin S}(P\mu)_i-(P\mu)_j>0",
        checkers=[
            Checker("duality-lemma", "symbolic", rank3_lemma, "a^T P a = (sum a)^2/2 and the minimax argument"),
            Checker("exact-lp", "exact", rank3_lp, "exact LP with certified t* > 0 and an interior sampler"),
        ],
        controls=[Control("swap-roles", "the same LP with non-members required above Smith members", partial(rank3_lp, swap=True))],
        source=SOURCE,
        note=(
            "[open] settled: TRUE for every P (ties allowed). Proof: if the max-min margin t* were <= 0, LP duality gives "
            "distributions a on S and b off S with a^T P <= b^T P componentwise; every column k in S has b^T P e_k < 1/2 "
            "(non-members lose to members), so a^T P a < 1/2, but a^T P a = (sum a)^2/2 = 1/2 for any distribution. "
            "Mixing the LP optimum with the uniform point (delta = t*/(2(1+t*))) keeps margin >= t*/2."
        ),
        expressions=_sections_rank3,
    ),
    Claim(
        id="RANK-4",
        statement="For some transitive P no interior mu satisfies OP; the smallest such K is 4.",
        tag="paper",
        latex=r"\exists P\ \text{transitive}:\ \forall\mu\in\operatorname{int}\Delta_K\ \neg\mathrm{OP}(P,\mu);\ \min K = 4",
        hypotheses={"transitive": is_transitive},
        checkers=[
            Checker("farkas-witness", "exact", rank4_certificate, "stored K = 4 witness, exact Farkas certificate"),
            Checker("minimality", "symbolic", rank4_minimal, "K <= 3 always admits OP"),
            Checker("search", "search", rank4_search, "random search (thorough: exhaustive 1/10 grid at K = 4)"),
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
            "[open] smallest K = 4 (THEORY guessed 6). Witness P = [[1/2,3/5,4/5,3/5],[2/5,1/2,1,4/5],[1/5,0,1/2,3/5],[2/5,1/5,2/5,1/2]], "
            "y = (1/2, 0, 1/2): (s_0 - s_1) + (s_2 - s_3) = -1/10 for every sampler. K = 2, 3 always admit OP (mu near e_1). "
            "In random search about 2% of transitive 4x4 matrices (uniform upper entries) have no OP sampler."
        ),
        expressions=_sections_rank4,
    ),
    Claim(
        id="RANK-5",
        statement="Under SST every interior mu satisfies OP.",
        tag="paper",
        latex=r"P\ \mathrm{SST},\ \mu\in\operatorname{int}\Delta_K \implies (P\mu)_i>(P\mu)_j\ \forall i>_M j",
        hypotheses={"sst": is_sst},
        checkers=[
            Checker("slack-identity", "symbolic", rank5_symbolic, "gap as SST slacks (three positions of k)"),
            Checker("fuzz", "exact", rank5_fuzz, "random SST P (ties allowed), interior mu, exact scores"),
            Checker("rows-ordered", "exact", rank5_rows, "SST <=> transitive and rows ordered"),
        ],
        controls=[
            Control("drop-sst", "fuzz with only transitivity (WST) required", partial(rank5_fuzz, require_sst=False)),
            Control("rows-without-wst", "SST <=> rows ordered, without transitivity", partial(rank5_rows, with_wst=False)),
        ],
        source=SOURCE,
        note=(
            "The THEORY chain is correct and only needs mu_i + mu_j > 0. The [derived] equivalence 'SST <=> rows ordered' "
            "holds together with transitivity (strict and non-strict); without transitivity it fails (a matrix of ties has "
            "ordered rows vacuously)."
        ),
        expressions=_sections_rank5,
    ),
    Claim(
        id="RANK-6",
        statement=(
            "Precise version: for a pair (i, j) and a ranking of positions, if d_k = P[i,k] - P[j,k] is non-increasing in "
            "position and mu' first-order dominates mu toward the top, then (P mu')_i - (P mu')_j >= (P mu)_i - (P mu)_j "
            "(strict iff F'_m > F_m and d_m > d_{m+1} for some m)."
        ),
        tag="paper",
        latex=r"F'\ge F,\ d\downarrow \implies d^\top\mu' - d^\top\mu=\sum_m (F'_m-F_m)(d_m-d_{m+1})\ge 0",
        checkers=[
            Checker("abel", "symbolic", rank6_abel, "summation by parts identity"),
            Checker("fuzz", "exact", rank6_fuzz, "shifts toward the top with d non-increasing"),
            Checker("entropy", "numeric", rank6_entropy, "entropy of pi* under shifts (symbolic + 40 digits)"),
        ],
        controls=[
            Control("sst-only", "drop the d-monotonicity condition (strictly SST P, adjacent pair)", partial(rank6_fuzz, condition=False)),
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
    ),
]

for _c in CLAIMS:
    register(_c)
