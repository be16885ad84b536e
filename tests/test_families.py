"""The matrix families (verify.exact.families): each draw is what its name says, and a seed fixes it."""

from fractions import Fraction

import numpy as np
import pytest

from verify.exact import families as F
from verify.exact.social import condorcet_winner, is_bt, is_sst, is_transitive, rows_ordered, smith_set, sst_violation

HALF = Fraction(1, 2)


def _valid(P):
    K = len(P)
    return all(P[i][i] == HALF for i in range(K)) and all(0 <= P[i][j] <= 1 and P[i][j] + P[j][i] == 1 for i in range(K) for j in range(K))


def test_cyclic_exact_and_float_are_the_same_matrix():
    for a in (0, 0.1, 0.25, 0.4, 0.5):
        P = F.cyclic(a)
        assert _valid(P) and F.is_balanced(P)
        assert np.allclose(np.array(P, dtype=float), F.cyclic_float(a), rtol=0, atol=1e-15)
        assert P[0][1] == P[1][2] == P[2][0] == HALF + Fraction(repr(a))
    assert F.cyclic("1/5") == F.cyclic(Fraction(1, 5)) == F.cyclic(0.2)
    for bad in (-0.1, 0.6, "3/5"):
        with pytest.raises(ValueError, match="0 <= a <= 1/2"):
            F.cyclic(bad)
    with pytest.raises(ValueError, match="0 <= a <= 1/2"):
        F.cyclic_float(0.6)


def test_skew_round_trip_and_balance_is_exact():
    P = F.cyclic("3/10")
    assert F.from_skew(F.skew(P)) == P
    S = F.skew(P)
    assert all(S[i][j] == -S[j][i] for i in range(3) for j in range(3))
    assert F.is_balanced([[0.5, 0.75, 0.25], [0.25, 0.5, 0.75], [0.75, 0.25, 0.5]])
    assert not F.is_balanced([[0.5, 0.75, 0.5], [0.25, 0.5, 0.75], [0.5, 0.25, 0.5]])
    # float entries count at their exact binary value: a row off by one ulp is not balanced
    assert not F.is_balanced([[0.5, 0.75, np.nextafter(0.25, 1)], [0.25, 0.5, 0.75], [0.75, 0.25, 0.5]])


@pytest.mark.parametrize("kind", F.MATRIX_KINDS)
def test_random_matrix_kinds(kind):
    rng = np.random.default_rng(7)
    for K in range(2, 8):
        for den in (2, 10, 100):
            P = F.random_matrix(rng, K, den=den, kind=kind)
            assert _valid(P) and all((x * den).denominator == 1 for row in P for x in row if x != HALF)
            if kind == "open":
                assert all(0 < P[i][j] < 1 for i in range(K) for j in range(K))
            if kind == "transitive":
                assert is_transitive(P) and all(P[i][j] > HALF for i in range(K) for j in range(i + 1, K))
            if kind == "condorcet":
                assert condorcet_winner(P) == 0
            if kind == "smith":
                assert len(smith_set(P)) < K
    with pytest.raises(ValueError, match="kind"):
        F.random_matrix(rng, 3, kind="cyclic")


def test_a_seed_fixes_the_draw():
    """The draw sequence is part of the convention: checkers' instances depend on it."""
    P = F.random_matrix(np.random.default_rng(0), 3, den=10)
    assert P == [[HALF, Fraction(9, 10), Fraction(7, 10)], [Fraction(1, 10), HALF, HALF], [Fraction(3, 10), HALF, HALF]]
    for fam in (lambda r: F.random_balanced(r, 5, "cycles"), lambda r: F.random_sst(r, 4), lambda r: F.random_bt(r, 4), lambda r: F.random_interior(r, 4)):
        assert fam(np.random.default_rng(3)) == fam(np.random.default_rng(3))
        assert fam(np.random.default_rng(3)) != fam(np.random.default_rng(4))


def test_random_interior_is_in_the_open_simplex():
    rng = np.random.default_rng(1)
    for K in range(2, 9):
        mu = F.random_interior(rng, K, den=3)
        assert isinstance(mu, tuple) and len(mu) == K and sum(mu) == 1 and min(mu) > 0


@pytest.mark.parametrize("kind", F.BALANCED_KINDS)
def test_random_balanced_is_balanced_and_valid(kind):
    rng = np.random.default_rng(2)
    for K in range(3, 9):
        for _ in range(5):
            S = F.random_balanced_skew(rng, K, kind)
            P = F.from_skew(S)
            assert all(sum(r) == 0 for r in S) and _valid(P) and F.is_balanced(P)
            assert any(x != 0 for r in S for x in r)
            if kind == "circulant":
                assert all(S[i][j] == S[0][(j - i) % K] for i in range(K) for j in range(K))
    with pytest.raises(ValueError, match="kind"):
        F.random_balanced(rng, 4, "sst")


def test_random_sst_exact_and_float():
    rng = np.random.default_rng(5)
    for K in range(2, 7):
        P = F.random_sst(rng, K)
        assert _valid(P) and is_sst(P, strict=True) and condorcet_winner(P) == 0
        Q = F.random_sst(rng, K, den=4, low=0, high=3)  # zero increments allowed: SST, perhaps with ties
        assert _valid(Q) and sst_violation(Q) is None and rows_ordered(Q)
        Pf = F.random_sst_float(rng, K)
        assert Pf.shape == (K, K) and is_sst(Pf.tolist(), strict=True)
    batch = F.random_sst_float(rng, 4, n=6)
    assert batch.shape == (6, 4, 4) and all(is_sst(b.tolist(), strict=True) for b in batch)
    # the float family is the exact construction evaluated in float64
    inc = np.random.default_rng(9).uniform(1 / 64, 2, (1, 4, 4))[0]
    exact = F.sst_from_increments([[Fraction(x) for x in r] for r in inc])
    assert np.allclose(np.array(exact, dtype=float), F.random_sst_float(np.random.default_rng(9), 4), rtol=0, atol=1e-15)


def test_random_bt_is_bradley_terry():
    rng = np.random.default_rng(11)
    for K in range(2, 7):
        P, w = F.random_bt(rng, K)
        assert _valid(P) and is_bt(P) and len(w) == K and min(w) > 0
        assert all(P[i][j] == w[i] / (w[i] + w[j]) for i in range(K) for j in range(K))
    assert not is_bt(F.cyclic("1/5"))
