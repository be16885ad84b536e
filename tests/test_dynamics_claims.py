"""The DYN claims: every checker passes at the quick budget and every negative control is refuted."""

import pytest

from verify.engine.registry import REGISTRY, CheckContext
from verify.engine.runner import load_builtin_claims

load_builtin_claims()
IDS = ["DYN-J", "DYN-1", "DYN-2", "DYN-3", "DYN-4", "DYN-5", "DYN-6"]
EXPECTED = {"DYN-J": "proved", "DYN-1": "proved", "DYN-6": "proved", "DYN-2": "verified", "DYN-3": "verified", "DYN-4": "verified", "DYN-5": "verified"}


def _ctx(cid):
    claim = REGISTRY.get(cid)
    return CheckContext(budget="quick", seed=0, claim_id=cid, hypotheses=dict(claim.hypotheses))


@pytest.mark.parametrize("cid", IDS)
def test_claim_checkers_pass(cid, quick_results):
    r = quick_results[cid]
    assert r.verdict == EXPECTED[cid], r.evidence


# every control and mutation of these claims runs in tests/test_claims.py (registry-wide)


@pytest.mark.parametrize("cid", ["DYN-J", "DYN-1", "DYN-2", "DYN-4", "DYN-6"])
def test_claim_has_latex_sections(cid):
    from theory.latex import Section, document

    secs = REGISTRY.get(cid).expressions()
    assert secs and all(isinstance(s, Section) for s in secs)
    assert r"\begin{document}" in document(secs)


def test_latex_sections_are_not_duplicated_across_claims():
    titles = [s.title for c in IDS if REGISTRY.get(c).expressions for s in REGISTRY.get(c).expressions()]
    assert len(titles) == len(set(titles)) == 5


def test_random_balanced_matrices_are_balanced_and_valid():
    from fractions import Fraction

    from verify.exact.families import from_skew, random_balanced_skew

    rng = CheckContext().rng("t")
    for kind in ("circulant", "cycles"):
        for K in (3, 4, 7):
            S = random_balanced_skew(rng, K, kind)
            P = from_skew(S)
            assert all(sum(r) == 0 for r in S)
            assert all(0 <= P[i][j] <= 1 and P[i][j] + P[j][i] == 1 for i in range(K) for j in range(K))
            assert all(P[i][i] == Fraction(1, 2) for i in range(K))


def _dyn2_inst(q_factor):
    import numpy as np

    from verify.exact.families import cyclic_float

    P = cyclic_float(0.4)
    s = float(np.linalg.norm(P - 0.5, 2))
    be = 0.9 / (q_factor * s)
    return {"P": P, "alpha": 0.0, "beta": be, "lambda": 1.0, "q": q_factor * be * s, "q_factor": q_factor,
            "pi_ref": [1 / 3] * 3, "pi0": [1 / 3] * 3, "x0": [0.01, 0.0, -0.01], "direction": [1.0, -1.0, 0.0], "h": 1e-3}


def test_dyn2_fuzz_predicate_catches_wrong_q():
    from verify.claims.dynamics import _dyn2_predicate

    # the 3-cycle near uniform: q with ||S||/4 is below 1 but the map contracts by ||S|| beta/3 > q
    assert _dyn2_predicate(_dyn2_inst(0.5))[0]
    assert _dyn2_predicate(_dyn2_inst(0.25)) is False


def test_dyn2_fuzz_with_quarter_norm_is_refuted():
    from fractions import Fraction

    from verify.claims.dynamics import check_dyn2_fuzz

    o = check_dyn2_fuzz(_ctx("DYN-2"), q_factor=Fraction(1, 4))
    assert o.verdict == "refuted", o.summary
    assert o.counterexample.instance["q"] < 1


def test_dyn1_dynamic_refutes_planted_quarter():
    import sympy

    from verify.claims.dynamics import check_dyn1_dynamic

    assert check_dyn1_dynamic(_ctx("DYN-1")).verdict == "verified"
    o = check_dyn1_dynamic(_ctx("DYN-1"), factor=sympy.Rational(1, 4))
    assert o.verdict == "refuted", o.summary


def test_dyn4_stability_refutes_rho_5(monkeypatch):
    from verify.claims import dynamics as d

    assert d.check_dyn4_stability(_ctx("DYN-4")).verdict == "verified"
    assert d.check_dyn4_stability(_ctx("DYN-4"), rho_override=5.0).verdict == "refuted"
    # the same through a patched Newton: every spectral radius 5
    real = d.batch_fixed_points

    def fake(*a, **k):
        pi, conv, rho, x = real(*a, **k)
        return pi, conv, rho * 0 + 5.0, x

    monkeypatch.setattr(d, "batch_fixed_points", fake)
    o = d.check_dyn4_stability(_ctx("DYN-4"))
    assert o.verdict == "refuted" and o.counterexample.instance["rho"] == 5.0


def test_dyn6_verdict_and_coverage(quick_results):
    claim = REGISTRY.get("DYN-6")
    r = quick_results["DYN-6"]
    assert r.verdict == "proved"
    general = next(c for c in r.checks if c.checker == "general")
    assert general.verdict == "proved" and general.proves == claim.scope.parts
    assert "every K" in general.covers and "spectral theorem" in general.covers
    fixed_K = next(c for c in r.checks if c.checker == "symbolic")
    assert fixed_K.proves == ()  # a proof for fixed small K is partial
    # without the general-K proof the claim is only verified
    from verify.engine.registry import combine_verdicts

    assert combine_verdicts([c for c in r.checks if c.checker != "general"], claim.scope.parts) == "verified"


def test_dyn6_general_proof_fails_on_planted_identity():

    from theory import mrs_ipo as th
    from verify.claims.dynamics import check_dyn6_general

    assert check_dyn6_general(_ctx("DYN-6"), gain=1).verdict == "refuted"
    res = th.general_balanced_residuals(2)
    assert res["DF(u) C = alpha C + (beta lambda/K) S (tangent action)"]


def test_every_verified_states_dps_and_numeric_tolerance(quick_results):
    for cid in ("DYN-1", "DYN-3", "DYN-4", "DYN-6"):
        for c in quick_results[cid].checks:
            if c.verdict == "verified":
                assert c.outcome.tolerance is not None and not isinstance(c.outcome.tolerance, str) or str(c.outcome.tolerance)[0].isdigit(), c.checker
                assert c.outcome.tolerance_kind, c.checker


def test_strict_sst_hypothesis_predicate():
    import numpy as np

    from verify.exact.families import cyclic_float, random_sst_float
    from verify.exact.social import is_sst

    # the claims' hypothesis 'strict_sst' (DYN-3 and DYN-4) is exactly is_sst(P, strict=True)
    hyps = [REGISTRY.get(cid).hypotheses["strict_sst"] for cid in ("DYN-3", "DYN-4")]
    for P, expected in [
        (random_sst_float(np.random.default_rng(0), 5).tolist(), True),
        (cyclic_float(0.2).tolist(), False),
        ([[0.5, 0.6, 0.6], [0.4, 0.5, 0.7], [0.4, 0.3, 0.5]], False),  # P[0,2] = 0.6 < P[1,2] = 0.7
    ]:
        assert is_sst(P, strict=True) is expected
        assert all(h({"P": P}) is expected for h in hyps)
