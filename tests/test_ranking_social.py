"""Social-choice predicates, cross-checked against pref_voting on random instances.

pref_voting is a test-only dependency (the ``test`` extra); it is imported at
module top on purpose, so a missing install fails the suite instead of skipping.
"""

import itertools
import math
import os
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pref_voting.c1_methods import smith_set as pv_smith_set
from pref_voting.weighted_majority_graphs import MarginGraph

import verify
from verify.exact.families import random_bt, random_matrix
from verify.exact.objects import InputError
from verify.exact.social import (
    bradley_terry,
    condorcet_winner,
    has_majority_cycle,
    is_bt,
    is_sst,
    is_transitive,
    is_wst,
    majority_cycle,
    majority_order,
    majority_relation,
    rows_ordered,
    smith_set,
)
from verify.engine.strategies import preference_matrices

H = Fraction(1, 2)


def margin_graph(P):
    """pref_voting's margin graph with exact integer margins (scaled by a common denominator)."""
    K = len(P)
    den = math.lcm(*(x.denominator for r in P for x in r))
    edges = [(i, j, int((P[i][j] - P[j][i]) * den)) for i in range(K) for j in range(K) if P[i][j] > P[j][i]]
    return MarginGraph(list(range(K)), edges)


def test_predicates_agree_with_pref_voting_on_thousands_of_instances():
    rng = np.random.default_rng(20260214)
    count = 1000 if os.environ.get("CI") else 3000  # the CI run keeps the first 1,000 of the same stream
    n = 0
    for _ in range(count):
        K = int(rng.integers(2, 9))
        P = random_matrix(rng, K, den=int(rng.choice([2, 4, 6, 10, 40])))
        mg = margin_graph(P)
        assert condorcet_winner(P) == mg.condorcet_winner(), P
        assert smith_set(P) == sorted(pv_smith_set(mg)), P
        assert has_majority_cycle(P) == mg.has_cycle(), P
        assert is_transitive(P) == (mg.is_tournament and not mg.has_cycle()), P
        M = majority_relation(P)
        assert all(M[i][j] == mg.majority_prefers(i, j) for i in range(K) for j in range(K) if i != j)
        n += 1
    assert n == count


@given(preference_matrices(kind="any", exact=True, max_K=7))
def test_predicates_agree_with_pref_voting_hypothesis(P):
    mg = margin_graph(P)
    assert condorcet_winner(P) == mg.condorcet_winner()
    assert smith_set(P) == sorted(pv_smith_set(mg))
    assert has_majority_cycle(P) == mg.has_cycle()


def test_condorcet_trap_of_pref_voting_is_avoided():
    cyc = [[H, Fraction(7, 10), Fraction(3, 10)], [Fraction(3, 10), H, Fraction(7, 10)], [Fraction(7, 10), Fraction(3, 10), H]]
    assert condorcet_winner(cyc) is None
    assert smith_set(cyc) == [0, 1, 2]
    assert majority_cycle(cyc) == [0, 1, 2]


def brute_smith(P):
    K = len(P)
    for size in range(1, K + 1):
        for S in itertools.combinations(range(K), size):
            if all(P[i][j] > H for i in S for j in range(K) if j not in S):
                return list(S)


def brute_cycle_exists(P):
    K = len(P)
    reach = [[P[i][j] > H for j in range(K)] for i in range(K)]
    for k in range(K):
        for i in range(K):
            for j in range(K):
                reach[i][j] = reach[i][j] or (reach[i][k] and reach[k][j])
    return any(reach[i][i] for i in range(K))


@given(preference_matrices(kind="any", exact=True, max_K=6))
def test_smith_and_cycles_against_brute_force(P):
    assert smith_set(P) == brute_smith(P)
    c = majority_cycle(P)
    assert (c is not None) == brute_cycle_exists(P)
    if c is not None:
        assert all(P[c[k]][c[(k + 1) % len(c)]] > H for k in range(len(c)))


def test_cycle_with_ties_but_no_three_cycle():
    # 0 > 1 > 2 > 3 > 0 with 0 ~ 2 and 1 ~ 3: a 4-cycle and no 3-cycle
    P = [[H] * 4 for _ in range(4)]
    for a, b in [(0, 1), (1, 2), (2, 3), (3, 0)]:
        P[a][b], P[b][a] = Fraction(3, 5), Fraction(2, 5)
    assert majority_cycle(P) == [0, 1, 2, 3]
    assert smith_set(P) == [0, 1, 2, 3]
    assert not is_transitive(P)


def brute_sst(P, strict):
    K = len(P)
    if not is_transitive(P):
        return False
    for i, j, k in itertools.permutations(range(K), 3):
        if P[i][j] > H and P[j][k] > H:
            m = max(P[i][j], P[j][k])
            if (P[i][k] <= m) if strict else (P[i][k] < m):
                return False
    return True


def brute_wst(P, strict):
    K = len(P)
    rel = (lambda a: a > H) if strict else (lambda a: a >= H)
    return all(rel(P[i][k]) for i, j, k in itertools.permutations(range(K), 3) if rel(P[i][j]) and rel(P[j][k]))


@given(st.one_of(*(preference_matrices(kind=k, exact=True, max_K=6) for k in ("any", "wst", "sst", "bt"))))
@example([[H, H, Fraction(3, 5)], [H, H, Fraction(3, 5)], [Fraction(2, 5), Fraction(2, 5), H]])
def test_transitivity_notions_against_brute_force(P):
    for strict in (False, True):
        assert is_sst(P, strict=strict) == brute_sst(P, strict)
        assert is_wst(P, strict=strict) == brute_wst(P, strict)
        assert is_sst(P, strict=strict) == (is_transitive(P) and rows_ordered(P, strict=strict))
    if is_transitive(P):
        order = majority_order(P)
        assert all(P[order[r]][order[s]] > H for r in range(len(P)) for s in range(r + 1, len(P)))


def test_sst_strict_vs_nonstrict_and_ties():
    P = [[H, Fraction(3, 5), Fraction(3, 5)], [Fraction(2, 5), H, Fraction(3, 5)], [Fraction(2, 5), Fraction(2, 5), H]]
    assert is_sst(P) and not is_sst(P, strict=True)
    ties = [[H] * 3 for _ in range(3)]
    assert rows_ordered(ties) and not is_sst(ties) and is_wst(ties) and not is_transitive(ties)


def bt_matrix(u):
    return [[1 / (1 + math.exp(-(a - b))) for b in u] for a in u]


@given(preference_matrices(kind="bt", exact=True, max_K=6))
def test_bt_matrices_are_recognised_and_fitted(P):
    fit = bradley_terry(P)
    assert fit.is_bt and fit.violation is None
    K = len(P)
    for i in range(K):
        for j in range(K):
            assert P[i][j] == fit.odds[i] / (fit.odds[i] + fit.odds[j])
            assert abs(1 / (1 + math.exp(-(fit.utilities[i] - fit.utilities[j]))) - float(P[i][j])) < 1e-12
    assert abs(sum(fit.utilities)) < 1e-9


def test_bt_against_least_squares_logit_fit():
    rng = np.random.default_rng(5)
    for _ in range(300):
        K = int(rng.integers(3, 7))
        P, _ = random_bt(rng, K)
        perturb = bool(rng.integers(0, 2))
        if perturb:
            i, j = (int(x) for x in rng.choice(K, 2, replace=False))
            P[i][j] += Fraction(1, 1000) if P[i][j] < Fraction(1, 2) else -Fraction(1, 1000)
            P[j][i] = 1 - P[i][j]
        # independent float least-squares fit of logits
        L = np.array([[math.log(float(P[i][j]) / float(P[j][i])) for j in range(K)] for i in range(K)])
        u = L.mean(axis=1)
        resid = np.abs(L - (u[:, None] - u[None, :])).max()
        assert is_bt(P) == (resid < 1e-9), (P, resid)
        assert abs(bradley_terry(P).residual - resid) < 1e-9


def test_bt_rejects_zero_one_entries():
    fit = bradley_terry([[H, Fraction(1)], [Fraction(0), H]])
    assert not fit.is_bt and fit.violation == (0, 1) and fit.utilities is None


def test_public_api_accepts_anything_load_accepts(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("0.5,0.6,0.9\n0.4,0.5,0.8\n0.1,0.2,0.5\n")
    assert verify.condorcet_winner(str(f)) == 0
    assert verify.smith_set(np.array([[0.5, 0.6], [0.4, 0.5]])) == [0]
    assert verify.is_sst(f) is True
    assert verify.is_bt([["1/2", "2/3"], ["1/3", "1/2"]]) is True


@pytest.mark.parametrize(
    "bad, msg",
    [
        ([[0.5, 0.7], [0.6, 0.5]], r"P\[0,1\] \+ P\[1,0\] = (1\.3|13/10), expected 1"),
        ([[0.5, 1.2], [-0.2, 0.5]], r"P\[0,1\] = (1\.2|6/5) is outside \[0, 1\]"),
        ([[0.5, 0.5, 0.5], [0.5, 0.5]], "must be square"),
    ],
)
def test_bad_input_names_the_entry(bad, msg):
    for fn in (verify.condorcet_winner, verify.smith_set, verify.is_sst, verify.is_bt):
        with pytest.raises(InputError, match=msg):
            fn(bad)
