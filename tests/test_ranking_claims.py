"""RANK-1..6: symbolic results at rational points, checkers, negative controls, CLI certificates."""

import json
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from theory import ranking as th
from theory.latex import Section, document
from verify.cli import main
from verify.claims import ranking as cr
from verify.exact.families import random_interior, random_matrix
from verify.exact.lp import check_farkas, max_min_margin
from verify.exact.ranking import counterexample, ct_matrix, ct_sampler, rank2_eps_bound, sampler, scores
from verify.engine.registry import REGISTRY, TOLERANCE_KINDS, CheckContext
from verify.engine.runner import load_builtin_claims
from verify.engine.strategies import preference_matrices, simplex_points

H = Fraction(1, 2)
IDS = [f"RANK-{k}" for k in range(1, 7)]


def _F(x):
    return Fraction(str(x))


# ---------------------------------------------------------------- independent checker of CLI certificates


def softmax_entropy(s, beta):
    """The entropy of ``pi ∝ exp(beta s)`` in mpmath at the working precision (the IPO optimum for scores ``s``)."""
    w = [mpmath.exp(beta * (x - max(s))) for x in s]
    W = mpmath.fsum(w)
    return -mpmath.fsum((x / W) * mpmath.log(x / W) for x in w)


def independent_scores(P, mu):
    return [sum(Fraction(a) * Fraction(b) for a, b in zip(row, mu)) for row in P]


def independent_required(P, prop):
    """Required pairs, recomputed without the library (brute force)."""
    K = len(P)
    F = [[Fraction(x) for x in r] for r in P]
    if prop == "CT":
        cs = [c for c in range(K) if all(F[c][j] > H for j in range(K) if j != c)]
        return [] if not cs else [(cs[0], j) for j in range(K) if j != cs[0]]
    if prop == "ST":
        import itertools

        for size in range(1, K + 1):
            for S in itertools.combinations(range(K), size):
                if all(F[i][j] > H for i in S for j in range(K) if j not in S):
                    return [(i, j) for i in S for j in range(K) if j not in S]
    wins = sorted(range(K), key=lambda i: -sum(F[i][j] > H for j in range(K)))
    assert all(F[wins[r]][wins[s]] > H for r in range(K) for s in range(r + 1, K))
    return [(wins[r], wins[r + 1]) for r in range(K - 1)]


def independent_counterexample_ok(d):
    P, mu = d["P"], [Fraction(x) for x in d["mu"]]
    K = len(P)
    assert all(Fraction(P[i][j]) + Fraction(P[j][i]) == 1 and 0 <= Fraction(P[i][j]) <= 1 for i in range(K) for j in range(K))
    assert all(m > 0 for m in mu) and sum(mu) == 1
    s = independent_scores(P, mu)
    assert [Fraction(x) for x in d["scores"]] == s
    pairs = independent_required(P, d["property"])
    return any(s[i] - s[j] <= 0 for i, j in pairs)


def independent_sampler_ok(P, prop, d):
    pairs = independent_required(P, prop)
    if d["status"] == "infeasible":
        y = [Fraction(v) for v in d["farkas_y"]]
        K = len(P)
        col = [sum(y[r] * (Fraction(P[i][k]) - Fraction(P[j][k])) for r, (i, j) in enumerate(pairs)) for k in range(K)]
        return all(v >= 0 for v in y) and sum(y) > 0 and all(c <= 0 for c in col)
    mu = [Fraction(x) for x in d["mu"]]
    s = independent_scores(P, mu)
    return all(m > 0 for m in mu) and sum(mu) == 1 and all(s[i] - s[j] >= Fraction(d["margin"]) > 0 for i, j in pairs)


@pytest.mark.parametrize("prop", ["CT", "ST", "OP"])
@pytest.mark.parametrize("mu", ["0.2,0.3,0.5", "1/10,1/5,3/10,2/5", "0.05,0.05,0.3,0.3,0.3"])
def test_cli_counterexample_certificate_is_accepted_independently(capsys, prop, mu):
    assert main(["counterexample", "--mu", mu, "--property", prop.lower() if prop == "OP" else prop, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert independent_counterexample_ok(d)


def test_cli_counterexample_text(capsys):
    assert main(["counterexample", "--mu", "0.2,0.3,0.5", "--property", "CT"]) == 0
    out = capsys.readouterr().out
    assert "s_0 - s_1 = -1/8 <= 0" in out


@pytest.mark.parametrize("prop", ["CT", "ST", "OP"])
def test_cli_sampler_certificates_are_accepted_independently(tmp_path, capsys, prop):
    rng = np.random.default_rng(7)
    mats = [cr.load_rank4_witness()["P"]]
    for _ in range(12):
        K = int(rng.integers(3, 7))
        mats.append([[str(x) for x in r] for r in random_matrix(rng, K, den=10, kind="transitive" if prop == "OP" else "smith")])
    statuses = set()
    for k, P in enumerate(mats):
        f = tmp_path / f"P{k}.json"
        f.write_text(json.dumps({"P": P}))
        assert main(["sampler", "--matrix", str(f), "--property", prop, "--json"]) == 0
        d = json.loads(capsys.readouterr().out)
        statuses.add(d["status"])
        assert independent_sampler_ok(P, prop, d), d
    if prop == "OP":
        assert "infeasible" in statuses and "feasible" in statuses


@pytest.mark.parametrize(
    "argv, msg",
    [
        (["counterexample", "--mu", "0.5,0.5", "--property", "CT"], "K >= 3"),
        (["counterexample", "--mu", "0,0.5,0.5", "--property", "CT"], r"mu\[0\] = 0, expected > 0"),
        (["counterexample", "--mu", "0.2,x,0.8", "--property", "ST"], r"mu\[1\] = 'x' is not a number"),
        (["sampler", "--matrix", "/nonexistent.json", "--property", "CT"], "does not exist"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(capsys, argv, msg):
    import re

    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and re.search(msg, err), err


def test_cli_sampler_op_on_cyclic_matrix_exits_2(tmp_path, capsys):
    f = tmp_path / "c.csv"
    f.write_text("1/2,7/10,3/10\n3/10,1/2,7/10\n7/10,3/10,1/2\n")
    assert main(["sampler", "--matrix", str(f), "--property", "OP"]) == 2
    assert "OP needs a transitive P" in capsys.readouterr().err


def test_cli_sampler_text_and_vacuous(tmp_path, capsys):
    f = tmp_path / "c.csv"
    f.write_text("1/2,7/10,3/10\n3/10,1/2,7/10\n7/10,3/10,1/2\n")
    assert main(["sampler", "--matrix", str(f), "--property", "CT"]) == 0
    assert "vacuous" in capsys.readouterr().out


# ---------------------------------------------------------------- symbolic results at rational points


@given(simplex_points(K=st.integers(3, 7), interior=True, exact=True), st.fractions(Fraction(1, 100), Fraction(1, 2), max_denominator=100))
def test_ct_gap_formula_at_rational_points(mu, eps):
    K = len(mu)
    P = th.ct_construction(K).subs(th.EPS, sympy.Rational(eps.numerator, eps.denominator))
    rows = [[Fraction(str(P[i, j])) for j in range(K)] for i in range(K)]
    s = independent_scores(rows, mu)
    assert s[0] - s[1] == eps - (1 - mu[0] - mu[1]) / 2


@given(simplex_points(K=st.integers(4, 7), interior=True, exact=True))
def test_st_counterexample_gap_at_rational_points(mu):
    cx = counterexample(mu, "ST")
    s = independent_scores(cx.P.rows(), mu)
    e = mu[2] / 4
    assert s[3] - s[0] == mu[2] / 2 - e * (mu[0] + 2 * mu[1] + mu[2] + mu[3]) > 0


def test_rank2_bound_numeric_and_tight():
    for K in range(3, 8):
        P = ct_matrix(K, Fraction(1, 40))
        c, m, bound = rank2_eps_bound(P)
        assert (c, m) == (0, Fraction(1, 40)) and bound == Fraction(2 * K, 40 * (K - 2))
        for eps, sign in ((bound * Fraction(99, 100), 1), (bound, 0), (bound * Fraction(101, 100), -1)):
            mu, _ = ct_sampler(P, eps)
            s = independent_scores(P, mu)
            gap = min(s[0] - s[j] for j in range(1, K))
            assert (gap > 0) - (gap < 0) == sign


def test_rank2_symbolic_gap_at_rational_point():
    d = th.rank2_bound_identity(4)
    rng = np.random.default_rng(1)
    P = random_matrix(rng, 4, den=20, kind="condorcet")
    eps = Fraction(1, 7)
    sub = {d["eps"]: sympy.Rational(1, 7), d["A"]: sympy.Rational(str(P[0][1] - H))}
    for k in range(2, 4):
        sub[sympy.Symbol(f"p_{k}")] = sympy.Rational(str(P[0][k]))
        sub[sympy.Symbol(f"q_{k}")] = sympy.Rational(str(P[1][k]))
    sub[sympy.Symbol("r_23")] = sympy.Rational(str(P[2][3]))
    mu = [(1 - eps) + eps / 4] + [eps / 4] * 3
    s = independent_scores(P, mu)
    assert Fraction(str(d["gap"].subs(sub))) == s[0] - s[1]


def test_sst_identity_at_rational_points():
    rng = np.random.default_rng(3)
    for d in th.sst_gap_identity(4):
        P = random_matrix(rng, 4, den=10, kind="transitive")
        mu = random_interior(rng, 4)
        sub = {sympy.Symbol(f"p_{i}{j}"): sympy.Rational(str(P[i][j])) for i in range(4) for j in range(i + 1, 4)}
        sub.update({sympy.Symbol(f"mu_{k}"): sympy.Rational(str(mu[k])) for k in range(4)})
        s = independent_scores(P, mu)
        i, j = d["pair"]
        assert Fraction(str(d["certificate"].subs(sub))) == s[i] - s[j]


def test_entropy_derivative_against_mpmath_diff():
    s = [mpmath.mpf(1) / 3, mpmath.mpf(1) / 5, mpmath.mpf(-1) / 7]
    D = [mpmath.mpf(2) / 11, mpmath.mpf(-1) / 13, mpmath.mpf(1) / 17]
    beta = mpmath.mpf(3)
    with mpmath.workdps(60):

        def Hs(t):
            z = [beta * (a + t * b) for a, b in zip(s, D)]
            w = [mpmath.exp(x) for x in z]
            W = sum(w)
            return -sum((x / W) * mpmath.log(x / W) for x in w)

        num = mpmath.diff(Hs, 0)
        z = [beta * a for a in s]
        w = [mpmath.exp(x) for x in z]
        pi = [x / sum(w) for x in w]
        mz = sum(p * x for p, x in zip(pi, z))
        mD = sum(p * x for p, x in zip(pi, D))
        cov = sum(p * (x - mz) * (y - mD) for p, x, y in zip(pi, z, D))
        assert abs(num + beta * cov) < mpmath.mpf(10) ** -50
    assert th.entropy_derivative_identity(3) == 0


def test_rank4_witness_farkas_identity():
    w = cr.load_rank4_witness()
    P = w["P"]
    for mu in ([Fraction(1, 4)] * 4, [Fraction(1), 0, 0, 0], [Fraction(1, 10), Fraction(2, 10), Fraction(3, 10), Fraction(4, 10)]):
        s = independent_scores(P, mu)
        assert (s[0] - s[1]) + (s[2] - s[3]) == Fraction(-1, 10)
    assert check_farkas(P, [(0, 1), (1, 2), (2, 3)], w["farkas_y"])
    assert not check_farkas(P, [(0, 1), (1, 2), (2, 3)], ["1/3", "1/3", "1/3"])


@given(preference_matrices(K=3, kind="wst", exact=True))
def test_k3_always_admits_op(P):
    r = sampler(P, "OP")
    assert r.status == "feasible" and all(x > 0 for x in r.mu) and r.margin > 0


def test_exact_and_float_lp_agree_on_sign():
    rng = np.random.default_rng(11)
    for _ in range(60):
        K = int(rng.integers(3, 7))
        P = random_matrix(rng, K, den=20, kind="transitive")
        pairs = [(r, r + 1) for r in range(K - 1)]
        a = max_min_margin(P, pairs)
        b = max_min_margin(P, pairs, method="float")
        assert (a.t > 0) == (b.t > 0)
        assert b.t <= a.t if b.t > 0 else b.t >= a.t


# ---------------------------------------------------------------- checkers and controls


def test_all_rank_claims_registered_with_controls():
    load_builtin_claims()
    for cid in IDS:
        c = REGISTRY.get(cid)
        assert c.controls and c.checkers and c.expressions is not None


@pytest.mark.parametrize("cid", IDS)
def test_checkers_pass_quick(cid, quick_results):
    r = quick_results[cid]
    assert all(c.verdict in ("proved", "verified") for c in r.checks), r.evidence


# every control and mutation of these claims runs in tests/test_claims.py (registry-wide)


def test_wrong_witness_is_refuted():
    out = cr.rank4_certificate(CheckContext(), y=["1/3", "1/3", "1/3"])
    assert out.verdict == "refuted"


def test_rank6_counterexample_without_condition_is_reproducible():
    hyp = _claim("RANK-6").hypotheses
    ctx = CheckContext(seed=4, claim_id="RANK-6", hypotheses={"fosd": hyp["fosd"]})
    a = cr.rank6_fuzz(ctx, draw="sst")
    b = cr.rank6_fuzz(ctx, draw="sst")
    assert a.verdict == b.verdict == "refuted"
    assert a.counterexample.to_dict() == b.counterexample.to_dict()
    inst = a.counterexample.instance
    P = [[Fraction(x) for x in r] for r in inst["P"]]
    back = {"P": P, "pair": tuple(inst["pair"]), "positions": inst["positions"], "mu": [Fraction(x) for x in inst["mu"]], "mu_shifted": [Fraction(x) for x in inst["mu_shifted"]]}
    assert hyp["fosd"](back) and not hyp["d_monotone"](back)


# ---------------------------------------------------------------- verdicts, coverage, every-K proofs, mutations


def _claim(cid):
    load_builtin_claims()
    return REGISTRY.get(cid)


#: the checker whose proof covers each claim's whole scope (every K, or the existential/minimality parts)
EVERY_K = {"RANK-1": ["general-K"], "RANK-2": ["general-K"], "RANK-3": ["duality"], "RANK-4": ["farkas-witness", "minimality"], "RANK-5": ["general-K"], "RANK-6": ["abel"]}


@pytest.mark.parametrize("cid", IDS)
def test_verdict_and_coverage_are_as_intended(cid, quick_results):
    c = _claim(cid)
    r = quick_results[cid]
    assert r.verdict == "proved", r.coverage
    assert r.unproved_parts == []
    covered = set()
    for name in EVERY_K[cid]:
        ch = c.checker(name)
        assert ch.evidence == "proof" and ch.proves
        covered |= set(ch.proves)
    assert covered == set(c.scope.parts)
    # partial proofs (fixed K) prove no scope part; instance checkers never return 'proved'
    for ch in c.checkers:
        if ch.name not in EVERY_K[cid]:
            assert ch.proves == ()
    for chk in r.checks:
        if chk.verdict == "verified":
            o = chk.outcome
            assert o.tolerance_kind in TOLERANCE_KINDS and isinstance(o.tolerance, (int, float)), (cid, chk.checker, o.tolerance)
            if o.tolerance_kind == "exact":
                assert o.tolerance == 0 and o.dps is None
            else:
                assert o.dps is not None


def test_rank3_cites_the_theorem_it_uses():
    c = _claim("RANK-3")
    assert any("Ville" in t for t in c.cites) and not c.argument and "Ville" in c.checker("duality").covers


@pytest.mark.parametrize(
    "name, fn, wrong",
    [
        ("RANK-1 threshold", lambda x: th.rank1_general(x)["residual"], sympy.Rational(3, 8)),
        ("RANK-2 coefficient", lambda x: th.rank2_general(x)["residual"], sympy.Rational(5, 8)),
        ("RANK-3 quadratic", lambda x: th.rank3_duality(x)["quadratic"], sympy.Rational(3, 8)),
        ("RANK-5 certificate", lambda x: th.rank5_general(x)["residual"], sympy.Rational(1, 3)),
        ("RANK-6 Abel factor", lambda x: th.rank6_general(x)["residual"], sympy.Rational(5, 4)),
    ],
)
def test_every_K_proofs_fail_on_a_planted_wrong_constant(name, fn, wrong):
    true = sympy.Integer(1) if "Abel" in name else sympy.Rational(1, 2)
    assert fn(true) in (0, {}), name
    assert fn(wrong) not in (0, {}), name


@pytest.mark.parametrize(
    "cid, checker, kw",
    [
        ("RANK-1", cr.rank1_general, {"threshold": Fraction(3, 8)}),
        ("RANK-2", cr.rank2_general, {"coefficient": Fraction(3, 8)}),
        ("RANK-3", cr.rank3_duality, {"half": Fraction(3, 8)}),
        ("RANK-5", cr.rank5_general, {"half": Fraction(1, 3)}),
        ("RANK-6", cr.rank6_general, {"scale": Fraction(5, 4)}),
    ],
)
def test_every_K_checkers_refute_a_planted_wrong_identity(cid, checker, kw):
    ctx = CheckContext(budget="quick", seed=0, claim_id=cid, hypotheses=dict(_claim(cid).hypotheses))
    assert checker(ctx).verdict == "proved"
    out = checker(ctx, **kw)
    assert out.verdict == "refuted" and out.counterexample.instance


@pytest.mark.parametrize("K", [2, 3, 4, 6])
def test_sum_calculus_steps_agree_with_explicit_sums(K):
    """peel, shift and split of :class:`theory.ranking.Sigma` at concrete K, against the expanded sum."""
    f = sympy.IndexedBase("f")
    s = th.Sigma(f[th.KI] * th.KI, 0, th.KS - 1)

    def val(x):
        if isinstance(x, th.Sigma):
            lo, hi = int(x.lo.subs(th.KS, K)), int(x.hi.subs(th.KS, K))
            return sum((x.summand.subs(th.KI, k).subs(th.KS, K) for k in range(lo, hi + 1)), sympy.Integer(0))
        return sympy.sympify(x).subs(th.KS, K)

    whole = val(s)
    low, top = s.peel_top()
    assert sympy.expand(val(low) + val(top) - whole) == 0
    bottom, high = s.peel_bottom()
    assert sympy.expand(val(bottom) + val(high) - whole) == 0
    assert sympy.expand(val(s.shift(3)) - whole) == 0
    for c in range(K):
        a, (mid, _), b = s.split(c, (), (), ())
        assert sympy.expand(val(a) + val(mid) + val(b) - whole) == 0


@pytest.mark.parametrize("cid, checkers", [("RANK-1", ("general-K", "constructor")), ("RANK-2", ("general-K", "instances"))])
def test_mutations_behave_as_declared(cid, checkers):
    c = _claim(cid)
    muts = c.mutation_controls()
    assert len(muts) == 3 * len(checkers)
    for ctrl in muts:
        assert any(f"[{n}]" in ctrl.name for n in checkers)
        out = ctrl.fn(CheckContext(budget="quick", seed=0, claim_id=cid, hypotheses=dict(c.hypotheses)))
        holds = "x3/4" in ctrl.name and cid == "RANK-2"
        assert ctrl.expect == ("holds" if holds else "refuted"), ctrl.name
        assert ctrl.caught(out), (ctrl.name, out.verdict, out.summary)


@pytest.mark.parametrize("cid, names", [("RANK-1", {"drop-K_at_least_3", "drop-interior"}), ("RANK-5", {"drop-sst", "drop-interior"}), ("RANK-6", {"drop-d_monotone", "drop-fosd", "sst-only"})])
def test_needed_hypotheses_have_dropped_hypothesis_controls(cid, names):
    c = _claim(cid)
    assert names <= {x.name for x in c.controls}
    for x in c.controls:
        if x.name in names:
            out = x.fn(CheckContext(budget="quick", seed=0, claim_id=cid, hypotheses=dict(c.hypotheses)))
            assert out.verdict == "refuted"


def test_rank5_fuzz_filters_with_the_hypotheses():
    c = _claim("RANK-5")
    seen = []
    ctx = CheckContext(budget="quick", seed=0, claim_id="RANK-5", hypotheses={k: (lambda h: lambda inst: seen.append(1) or h(inst))(v) for k, v in c.hypotheses.items()})
    assert cr.rank5_fuzz(ctx).verdict == "verified" and seen


def test_latex_sections_compile_to_a_document():
    load_builtin_claims()
    secs = []
    for cid in IDS:
        s = REGISTRY.get(cid).expressions()
        assert s and all(isinstance(x, Section) for x in s)
        secs += s
    doc = document(secs)
    assert "\\begin{pmatrix}" in doc and "RANK-4" in doc


def test_scores_public():
    assert scores([["1/2", "3/4"], ["1/4", "1/2"]], "1/2,1/2") == (Fraction(5, 8), Fraction(3, 8))


def test_rank6_explicit_counterexample_in_note():
    P = [[H, Fraction(3, 5), Fraction(1)], [Fraction(2, 5), H, Fraction(3, 5)], [Fraction(0), Fraction(2, 5), H]]
    from verify.exact.social import is_sst as _sst

    assert _sst(P)
    mu, nu = [Fraction(1, 3)] * 3, [Fraction(1, 3), Fraction(1, 2), Fraction(1, 6)]
    s, s2 = independent_scores(P, mu), independent_scores(P, nu)
    assert s == [Fraction(7, 10), H, Fraction(3, 10)] and s2 == [Fraction(19, 30), Fraction(29, 60), Fraction(17, 60)]
    assert s2[0] - s2[1] == Fraction(3, 20) < s[0] - s[1] == Fraction(1, 5)
    with mpmath.workdps(40):
        H0 = softmax_entropy([mpmath.mpf(x.numerator) / x.denominator for x in s], mpmath.mpf(10))
        H1 = softmax_entropy([mpmath.mpf(x.numerator) / x.denominator for x in s2], mpmath.mpf(10))
        assert abs((H1 - H0) - mpmath.mpf("0.136118102436644009693591120169796")) < mpmath.mpf(10) ** -25


def test_cli_sampler_on_shipped_examples(capsys):
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1]
    assert main(["sampler", "--matrix", str(root / "examples" / "rank4_op_infeasible.json"), "--property", "OP"]) == 0
    out = capsys.readouterr().out
    assert "property OP: infeasible" in out and "y = (1/2, 0, 1/2)" in out
    assert main(["sampler", "--matrix", str(root / "examples" / "sst4.csv"), "--property", "OP", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    P = [[str(x) for x in r] for r in d["P"]]
    assert d["status"] == "feasible" and independent_sampler_ok(P, "OP", d)
