"""The symbolic IPO derivation, checked against independent numerics."""

import random

import mpmath
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import ipo as T
from theory import matrix_algebra as ma
from verify.numerics.bridge import lambdify_mp
from verify.numerics.precision import agree, workdps


@pytest.mark.parametrize("K", [2, 3, 4])
def test_every_obligation_is_exactly_zero(K):
    for ob in T.obligations(K):
        e = ob.expr()
        items = list(e) if isinstance(e, (list, sympy.MatrixBase)) else [e]
        assert all(sympy.simplify(x) == 0 for x in items), ob.name


@pytest.mark.parametrize("K", [2, 3, 4, 5, 6])
def test_matrix_form_of_the_loss_equals_the_index_form(K):
    assert T.matrix_form_obligation(K) == 0


@pytest.mark.parametrize(
    "factors, failing",
    [
        ({"beta_factor": sympy.Rational(1, 2)}, "stationarity"),
        ({"grad_factor": 2}, "gradient"),
        ({"pair_factor": 2}, "pair-loss"),
    ],
)
def test_planted_errors_break_exactly_their_obligation(factors, failing):
    broken = []
    for ob in T.obligations(3, **factors):
        e = ob.expr()
        items = list(e) if isinstance(e, (list, sympy.MatrixBase)) else [e]
        if any(sympy.simplify(x) != 0 for x in items):
            broken.append(ob.name)
    assert broken == [failing]


def test_general_k_identities_hold_and_planted_one_fails():
    assert all(ma.is_zero(e, norm) for _n, _d, e, norm in T.general_obligations())
    bad = {n: ma.is_zero(e, norm) for n, _d, e, norm in T.general_obligations(beta_factor=2)}
    assert bad["stationarity"] is False and bad["gradient"] is True


def test_free_algebra_is_not_fooled_by_a_false_identity():
    r, rt = ma.vec("r")
    # mu^T S r is not zero in general (only mu^T S mu is)
    assert not ma.is_zero(ma.mut * ma.S * r)
    assert ma.is_zero(ma.mut * ma.S * ma.mu)
    # the normalisation axiom is only used when asked for
    assert not ma.is_zero(ma.onet * ma.mu - 1)
    assert ma.is_zero(ma.onet * ma.mu - 1, normalised=True)
    with pytest.raises(ValueError, match="non-conformable"):
        ma.S * ma.mut


def test_free_algebra_evaluation_agrees_with_normal_form():
    rnd = random.Random(5)
    K = 4
    S = sympy.zeros(K, K)
    for i in range(K):
        for j in range(i + 1, K):
            s = sympy.Rational(rnd.randint(-9, 9), 10)
            S[i, j], S[j, i] = s, -s
    mu = sympy.Matrix([sympy.Rational(k + 1, 10) for k in range(K)])
    r = sympy.Matrix([sympy.Rational(rnd.randint(-9, 9), 3) for _ in range(K)])
    env = {"S": S, "D": sympy.diag(*mu), "one": sympy.ones(K, 1), "mu": mu, "r": r}
    rr, rrt = ma.vec("r")
    e = ma.mut * ma.S * ma.D * rr + 3 * (rrt * ma.mu) * (ma.onet * ma.D * rr)
    direct = (mu.T * S * sympy.diag(*mu) * r)[0, 0] + 3 * (r.T * mu)[0, 0] * (sympy.ones(1, K) * sympy.diag(*mu) * r)[0, 0]
    assert ma.evaluate(e, env)[0, 0] == sympy.expand(direct)


@settings(max_examples=15, deadline=None)
@given(st.integers(2, 4), st.integers(0, 10**6))
def test_symbolic_gradient_matches_mpmath_diff_at_50_digits(K, seed):
    """Independent check: numeric differentiation of the loss at a rational point."""
    rnd = random.Random(seed)
    sy = T.ipo_symbols(K)
    point = {p: sympy.Rational(rnd.randint(1, 99), 100) for p in sy.upper}
    w = [rnd.randint(1, 9) for _ in range(K)]
    point.update({m: sympy.Rational(x, sum(w)) for m, x in zip(sy.mu, w)})
    point[sy.beta] = sympy.Rational(rnd.randint(1, 50), 7)
    r0 = [sympy.Rational(rnd.randint(-20, 20), 9) for _ in range(K)]
    L = T.expected_pair_loss(sy).subs(point)
    f = lambdify_mp(list(sy.r), L)
    g = T.stated_gradient(sy).subs(point)
    with workdps(70):
        for k in range(K):
            args = [mpmath.mpf(x.p) / x.q for x in r0]

            def along(t, k=k):
                a = list(args)
                a[k] += t
                return f(*a)

            numeric = mpmath.diff(along, 0)
            exact = g[k].subs(dict(zip(sy.r, r0)))
            ok, err = agree(numeric, mpmath.mpf(exact.p) / exact.q, 50)
            assert ok, (k, err)


def test_closed_form_policy_is_normalised_and_positive():
    sy = T.ipo_symbols(3)
    pi = T.closed_form_policy(sy)
    assert sympy.simplify(sum(pi) - 1) == 0
    assert all(p.is_positive for p in pi)


def test_latex_sections_render():
    from theory.latex import document

    doc = document(T.latex_sections())
    assert r"\beta" in doc and "mu_{0}" in doc.replace("\\mu", "mu")


def test_every_k_index_to_matrix_identities_hold_and_planted_margin_fails():
    assert all(res == 0 for _n, _k, res in T.general_index_obligations())
    assert T.general_index_obligations(beta_factor=2)[0][2] != 0


def test_ipo1_general_evidence_says_only_what_it_runs():
    from verify.claims import ipo as C
    from verify.engine.registry import CheckContext

    ctx = CheckContext(budget="quick", seed=0, claim_id="IPO-1", hypotheses=dict(C.IPO1.hypotheses))
    out = C.check_general(ctx)
    assert out.verdict == "proved"
    assert "K = 2..6" not in out.summary and "checked against" not in out.summary
    assert "index form" in out.summary and "index-matrix" in out.details["identities"]
    assert C.check_general(ctx, beta_factor=sympy.Rational(1, 2)).verdict == "refuted"


def test_ipo1_has_its_controls_and_mutations():
    from verify.claims import ipo as C
    from verify.engine.runner import all_controls

    # every control and mutation runs in tests/test_claims.py; here: the ones this claim must have
    names = [c.name for c in all_controls(C.IPO1)]
    assert "drop-mu_interior" in names
    assert sum(n.startswith("mutate beta") for n in names) == 3 * 4  # 3 factors x 4 checkers
