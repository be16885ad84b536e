"""The DYN claims: every checker passes at the quick budget and every negative control is refuted."""

import pytest

from verify.registry import REGISTRY, CheckContext
from verify.runner import load_builtin_claims, run_claim, run_controls

load_builtin_claims()
IDS = ["DYN-J", "DYN-1", "DYN-2", "DYN-3", "DYN-4", "DYN-5", "DYN-6"]
EXPECTED = {"DYN-J": "proved", "DYN-1": "proved", "DYN-6": "proved", "DYN-2": "verified", "DYN-3": "verified", "DYN-4": "verified", "DYN-5": "verified"}


@pytest.mark.parametrize("cid", IDS)
def test_claim_checkers_pass(cid):
    r = run_claim(REGISTRY.get(cid), budget="quick", seed=0)
    assert r.verdict == EXPECTED[cid], r.evidence


@pytest.mark.parametrize("cid", IDS)
def test_claim_controls_are_refuted(cid):
    claim = REGISTRY.get(cid)
    assert claim.controls, f"{cid} has no negative control"
    for c in run_controls(claim, budget="quick", seed=0):
        assert c.verdict == "refuted", f"{c.checker}: {c.outcome.summary}"


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

    from verify.claims.dynamics import _P_from_S, random_balanced_S

    rng = CheckContext().rng("t")
    for kind in ("circulant", "cycles"):
        for K in (3, 4, 7):
            S = random_balanced_S(K, rng, kind)
            P = _P_from_S(S)
            assert all(sum(r) == 0 for r in S)
            assert all(0 <= P[i][j] <= 1 and P[i][j] + P[j][i] == 1 for i in range(K) for j in range(K))
            assert all(P[i][i] == Fraction(1, 2) for i in range(K))


def test_dyn2_fuzz_predicate_catches_wrong_q():
    from verify.claims.dynamics import _dyn2_predicate

    # a 3-cycle instance where q computed with ||S||/8 is below 1 but the map is not a contraction
    inst = (3, 0, 0.0, 0.95, 1.0)
    assert _dyn2_predicate(inst, q_factor=0.5)[0]
    bad = [s for s in range(40) if _dyn2_predicate((3, s, 0.0, 0.95, 1.0), q_factor=0.125) is False]
    assert bad


def test_strict_sst_hypothesis_predicate():
    import numpy as np

    from verify.claims.dynamics import _is_strict_sst
    from verify.simulate import cyclic_matrix, random_sst_matrix

    assert _is_strict_sst(random_sst_matrix(5, np.random.default_rng(0)).tolist())
    assert not _is_strict_sst(cyclic_matrix(0.2).tolist())
    assert not _is_strict_sst([[0.5, 0.6, 0.6], [0.4, 0.5, 0.7], [0.4, 0.3, 0.5]])  # P[0,2] = 0.6 < P[1,2] = 0.7
