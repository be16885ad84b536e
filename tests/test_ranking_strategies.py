"""The exported hypothesis strategies draw what they say (checked with the RANK predicates)."""

import tomllib
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.exact.ranking import satisfies
from verify.exact.social import is_bt, is_sst, is_transitive, majority_cycle, rows_of
from verify.engine.strategies import betas, preference_matrices, simplex_points, sst_from_increments, unit_params

H = Fraction(1, 2)


def valid(P):
    K = len(P)
    return all(0 <= P[i][j] <= 1 and P[i][j] + P[j][i] == 1 for i in range(K) for j in range(K))


@pytest.mark.parametrize("exact", [False, True])
@given(data=st.data())
def test_each_kind_draws_what_it_says(exact, data):
    for kind, pred in [
        ("any", lambda P: True),
        ("cyclic", lambda P: majority_cycle(P) is not None),
        ("wst", is_transitive),
        ("sst", lambda P: is_sst(P, strict=True)),
        ("bt", is_bt),
    ]:
        P = data.draw(preference_matrices(kind=kind, exact=exact), label=kind)
        assert valid(P) and all(isinstance(x, Fraction) for r in P for x in r)
        rows_of(P)  # accepted by the validator
        assert pred(P), (kind, P)
        if kind == "cyclic":
            assert len(P) >= 3


@given(preference_matrices(K=4, kind="any", exact=True))
def test_fixed_K(P):
    assert len(P) == 4


@given(preference_matrices(K=st.integers(3, 5), kind="sst", exact=True, permute=True))
def test_sst_top_is_not_always_zero_eventually(P):
    assert is_sst(P, strict=True)


def test_permutation_moves_the_top():
    tops = set()

    @settings(max_examples=60, database=None, derandomize=True)
    @given(preference_matrices(K=4, kind="wst", exact=True))
    def run(P):
        tops.add(max(range(4), key=lambda i: sum(P[i][j] > H for j in range(4))))

    run()
    assert len(tops) > 1


@pytest.mark.parametrize("interior", [True, False])
@given(data=st.data())
def test_simplex_points(interior, data):
    mu = data.draw(simplex_points(K=st.integers(2, 8), interior=interior, exact=data.draw(st.booleans())))
    assert sum(mu) == 1 and all(x >= 0 for x in mu)
    if interior:
        assert all(x > 0 for x in mu)


@given(betas(exact=True), betas(), unit_params(exact=True, open_left=True))
def test_parameter_strategies(b1, b2, a):
    assert b1 > 0 and b2 > 0 and 0 < a <= 1


def test_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        preference_matrices(kind="tournament")
    with pytest.raises(ValueError, match="K >= 3"):
        preference_matrices(K=2, kind="cyclic")
    with pytest.raises(ValueError, match="K >= 2"):
        preference_matrices(K=1)


def test_sst_from_increments_is_strictly_sst():
    inc = [[Fraction(1, 3)] * 4 for _ in range(4)]
    assert is_sst(sst_from_increments(inc), strict=True)


@given(preference_matrices(kind="sst", exact=True), st.data())
def test_user_style_property_sst_implies_op(P, data):
    mu = data.draw(simplex_points(K=len(P), interior=True, exact=True))
    assert satisfies(P, mu, "OP")


def test_pref_voting_is_in_the_test_extra_only():
    meta = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    assert any(d.startswith("pref_voting") for d in meta["optional-dependencies"]["test"])
    assert not any(d.startswith("pref_voting") for d in meta["dependencies"])


def test_ranking_docs_and_module_doctests_run():
    import doctest

    import verify.exact.lp
    import verify.exact.ranking
    import verify.exact.social
    import verify.engine.strategies

    root = Path(__file__).resolve().parents[1]
    res = doctest.testfile(str(root / "docs" / "ranking.md"), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert res.failed == 0 and res.attempted >= 10
    for mod in (verify.exact.social, verify.exact.lp, verify.exact.ranking, verify.engine.strategies):
        r = doctest.testmod(mod)
        assert r.failed == 0 and r.attempted > 0, mod.__name__
