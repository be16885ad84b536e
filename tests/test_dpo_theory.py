"""theory.dpo: each symbolic result substituted at rational points and compared with an
independent numeric computation (mpmath.diff at 50+ digits), plus planted wrong variants."""

import random
from fractions import Fraction

import mpmath
import pytest
import sympy

from theory import dpo as T
from verify.numerics.precision import agree, workdps

DIG = 50


def _point(K, rnd):
    sy = T.dpo_symbols(K)
    pt = {p: sympy.Rational(rnd.randint(1, 19), 20) for p in sy.upper}
    pt.update({m: sympy.Rational(rnd.randint(1, 9), 10) for m in sy.mu})
    pt.update({r: sympy.Rational(rnd.randint(-20, 20), 7) for r in sy.r})
    pt[sy.beta] = sympy.Rational(rnd.randint(1, 30), 10)
    return sy, pt


def _mp(e, pt):
    """Evaluate a sympy expression exactly substituted, then numerically at the current precision."""
    return mpmath.mpf(sympy.N(e.subs(pt).rewrite(sympy.exp), mpmath.mp.dps + 10).__str__())


def _loss_mp(sy, pt, r):
    """The DPO loss from its definition, in mpmath (independent of theory.dpo)."""
    K = sy.K
    P = [[mpmath.mpf(sympy.N(sy.P[i, j].subs(pt), 80).__str__()) for j in range(K)] for i in range(K)]
    mu = [mpmath.mpf(sympy.N(pt[m], 80).__str__()) for m in sy.mu]
    b = mpmath.mpf(sympy.N(pt[sy.beta], 80).__str__())
    L = 0
    for i in range(K):
        for j in range(K):
            h = b * (r[i] - r[j])
            L -= mu[i] * mu[j] * (P[i][j] * mpmath.log(1 / (1 + mpmath.exp(-h))) + P[j][i] * mpmath.log(1 / (1 + mpmath.exp(h))))
    return L


@pytest.mark.parametrize("K", [2, 3, 4])
def test_gradient_and_hessian_match_mpmath_diff(K):
    rnd = random.Random(K)
    sy, pt = _point(K, rnd)
    g = T.stated_gradient(sy)
    H = T.stated_hessian(sy)
    with workdps(DIG + 20):
        r0 = [mpmath.mpf(sympy.N(pt[r], 90).__str__()) for r in sy.r]
        for k in range(K):

            def f(t, k=k):
                r = list(r0)
                r[k] += t
                return _loss_mp(sy, pt, r)

            d = mpmath.diff(f, 0)
            assert agree(_mp(g[k], pt), d, DIG)[0]
        for k in range(K):
            for l in range(K):

                def f2(s, t, k=k, l=l):
                    r = list(r0)
                    r[k] += s
                    r[l] += t
                    return _loss_mp(sy, pt, r)

                d2 = mpmath.diff(f2, (0, 0), (1, 1))
                assert agree(_mp(H[k, l], pt), d2, DIG - 10)[0]


@pytest.mark.parametrize("K", [2, 3, 4])
def test_all_dpo1_obligations_vanish(K):
    assert all(e == 0 for _, e in T.obligations(K))


def test_planted_gradient_constant_is_caught():
    assert any(e != 0 for _, e in T.obligations(2, grad_factor=1))
    assert any(e != 0 for _, e in T.obligations(2, hess_factor=3))
    assert any(e != 0 for _, e in T.pair_obligations(factor=2))


def test_sigmoid_atom_properties():
    assert all(sympy.simplify(e) == 0 for _, e in T.sigmoid_obligations())
    z = sympy.Symbol("z")
    assert T.sig(0) == sympy.Rational(1, 2)
    assert sympy.expand(T.sig(z) + T.sig(-z)) == 1
    assert sympy.diff(T.sig(z), z) == T.sig(z) * (1 - T.sig(z))


@pytest.mark.parametrize("K", [2, 3, 4])
def test_bt_residual_vanishes_and_wrong_scale_does_not(K):
    assert all(e == 0 for e in T.bt_residual(K))
    assert any(e != 0 for e in T.bt_residual(K, scale=2))


@pytest.mark.parametrize("K", [2, 3])
def test_ift_matrices_match_mpmath_diff(K):
    rnd = random.Random(10 + K)
    sy = T.dpo_symbols(K)
    x = sympy.symbols(f"x_0:{K}", real=True)
    pt = {p: sympy.Rational(rnd.randint(1, 19), 20) for p in sy.upper}
    pt.update({m: sympy.Rational(rnd.randint(1, 9), 10) for m in sy.mu})
    pt.update({xi: sympy.Rational(rnd.randint(-9, 9), 4) for xi in x})
    A, B = T.stated_A(K), T.stated_B(K)
    G = T.stationarity(sy, x=x)
    with workdps(DIG + 20):
        for k in range(K):
            fk = sympy.lambdify(list(x) + list(sy.mu), G[k].subs({p: pt[p] for p in sy.upper}).rewrite(sympy.exp), "mpmath")
            base = [mpmath.mpf(sympy.N(pt[v], 90).__str__()) for v in list(x) + list(sy.mu)]
            for l in range(2 * K):

                def f(t, l=l):
                    a = list(base)
                    a[l] += t
                    return fk(*a)

                d = mpmath.diff(f, 0)
                M = A if l < K else B
                exact = M[k, l % K]
                assert agree(_mp(exact, pt), d, DIG)[0]
    assert all(e == 0 for _, e in T.ift_obligations(K))
    assert any(e != 0 for _, e in T.ift_obligations(2, a_factor=2))


def test_ift_solve_gives_the_derivative_of_the_solution():
    A = sympy.Matrix([[-2, 1, 1], [1, -3, 2], [1, 2, -3]])  # symmetric, kernel 1, range 1^perp
    B = sympy.Matrix([[1, 0, -1], [0, 2, -2], [-1, -2, 3]])
    X = T.ift_solve(A, B)
    assert A * X + B == sympy.zeros(3, 3)
    assert sympy.ones(1, 3) * X == sympy.zeros(1, 3)


@pytest.mark.parametrize("K", [2, 3])
def test_mrs_dpo_chain_rule(K):
    assert all(e == 0 for _, e in T.mrs_dpo_jacobian_obligation(K))
    assert any(e != 0 for _, e in T.mrs_dpo_jacobian_obligation(2, lam_factor=2))


def test_cycle_eigenvalues_and_threshold():
    alpha, lam = sympy.symbols("alpha lam", positive=True)
    b = sympy.Symbol("beta_dpo", positive=True)
    a = sympy.Symbol("a", positive=True)
    ev = set(T.cycle_eigenvalues())
    expected = {alpha + 4 * sympy.I * a * lam / (sympy.sqrt(3) * b), alpha - 4 * sympy.I * a * lam / (sympy.sqrt(3) * b)}
    assert {sympy.simplify(e) for e in ev} == {sympy.simplify(e) for e in expected}
    # the critical curve solves threshold = 1
    crit = T.critical_lam_over_beta_dpo()
    val = T.cycle_threshold_expr().subs(lam, crit * b)
    assert sympy.simplify(val - 1) == 0


@pytest.mark.parametrize("K", [3, 4])
def test_balanced_obligations(K):
    for name, M in T.balanced_obligations(K):
        assert M == sympy.zeros(K, K) or M == sympy.zeros(K, 1), name
    bad = T.balanced_obligations(3, coefficient=2)
    assert any(not (M == sympy.zeros(3, 3) or M == sympy.zeros(3, 1)) for _, M in bad)


def test_balanced_jacobian_substituted_matches_numeric_linearisation():
    """X = 4 S at a rational balanced S, against mpmath.diff of the numerically solved x*(mu)."""
    from verify.numerics.dpo import solve_scaled

    S, free = T.balanced_skew(4)
    vals = {s: sympy.Rational(v, 20) for s, v in zip(free, (3, -2, 1))}
    Sx = S.subs(vals)
    P = [[Fraction(1, 2) + Fraction(int(sympy.fraction(Sx[i, j])[0]), int(sympy.fraction(Sx[i, j])[1])) for j in range(4)] for i in range(4)]
    with workdps(DIG + 20):
        Pm = mpmath.matrix([[mpmath.mpf(p.numerator) / p.denominator for p in row] for row in P])
        mu0 = [mpmath.mpf(1) / 4] * 4
        for l in range(4):

            def xs(t, l=l):
                mu = list(mu0)
                mu[l] += t
                return solve_scaled(Pm, mu)[0]

            for k in range(4):
                d = mpmath.diff(lambda t: xs(t)[k], 0)
                assert agree(d, 4 * mpmath.mpf(sympy.N(Sx[k, l], 80).__str__()), DIG - 5)[0]


def test_latex_sections_render():
    from theory.latex import document

    doc = document(T.latex_sections())
    assert "DPO-4" in doc and r"\sigma" in doc and "16" in doc
    assert [s.title[:5] for s in T.latex_section("DPO-6")] == ["DPO-6"]


def test_general_K_balanced_identities_and_planted_coefficient():
    K = sympy.Symbol("K", positive=True, integer=True)
    assert all(T.balanced_normal_form(e, K) == {} for _, e in T.general_balanced_obligations())
    bad = [T.balanced_normal_form(e, K) for _, e in T.general_balanced_obligations(coefficient=2)]
    assert any(nf != {} for nf in bad)


def test_balanced_axioms_are_needed():
    """Without the balanced axiom the first identity does not normalise to 0 (the rewrite is not vacuous)."""
    from theory import matrix_algebra as ma

    e = T.general_balanced_obligations()[0][1]
    assert ma.normal_form(e) != {}


# --------------------------------------------------------------------------- every K: IFT entries, uniform step, chain rule
def _instantiate(expr, K):
    """Symbolic-index expression -> explicit ``K``: indexed x, mu, P -> the symbols of ``dpo_symbols(K)``."""
    y = T.indexed_symbols()
    sy = T.dpo_symbols(K)
    xs = sympy.symbols(f"x_0:{K}", real=True)
    e = expr.subs(y["K"], K).doit()

    def rep(t):
        idx = [int(i) for i in t.indices]
        if t.base == y["x"]:
            return xs[idx[0]]
        if t.base == y["mu"]:
            return sy.mu[idx[0]]
        if t.base == y["P"]:
            return sy.P[idx[0], idx[1]]
        return t

    return sympy.expand(e.replace(lambda t: isinstance(t, sympy.Indexed) and all(i.is_Integer for i in t.indices), rep))


def test_every_K_ift_identities_hold_and_planted_factor_fails():
    assert all(e == 0 for _, _, e in T.general_ift_obligations())
    bad = dict((n, e) for n, _, e in T.general_ift_obligations(a_factor=2))
    assert bad["dG_k/dx_l = stated_A[k,l] (k != l)"] != 0
    assert bad["(mu^T A)_l = 0"] != 0
    assert all(e == 0 for _, _, e in T.general_ift_solvability_obligations())
    assert any(e != 0 for _, _, e in T.general_ift_solvability_obligations(form_factor=2))


@pytest.mark.parametrize("K", [2, 3, 4, 5])
def test_every_K_stated_entries_match_explicit_K(K):
    """The symbolic-index stated entries, at explicit K and indices, equal stated_A(K), stated_B(K) and the derivatives."""
    y = T.indexed_symbols()
    A, B = T.stated_A(K), T.stated_B(K)
    Ad, Bd = T.ift_A(K), T.ift_B(K)
    for k in range(K):
        for l in range(K):
            if k == l:
                a = _instantiate(T.stated_A_entry("diagonal").subs(y["k"], k), K)
            else:
                a = _instantiate(T.stated_A_entry("off-diagonal").subs({y["k"]: k, y["l"]: l}), K)
            b = _instantiate(T.stated_B_entry().subs({y["k"]: k, y["l"]: l}), K)
            assert sympy.expand(a - A[k, l]) == 0 and sympy.expand(a - Ad[k, l]) == 0
            assert sympy.expand(b - B[k, l]) == 0 and sympy.expand(b - Bd[k, l]) == 0
    # the indexed G is the explicit G
    xs = sympy.symbols(f"x_0:{K}", real=True)
    G = T.stationarity(T.dpo_symbols(K), x=xs)
    for k in range(K):
        assert sympy.expand(_instantiate(T.indexed_G().subs(y["k"], k), K) - G[k]) == 0


def test_resolve_index_range_refuses_an_unproved_condition():
    y = T.indexed_symbols()
    K, k = y["K"], y["k"]
    with pytest.raises(ValueError):
        T.resolve_index_range(sympy.Piecewise((1, k <= K - 2), (0, True)), (k,))
    assert T.resolve_index_range(sympy.Piecewise((1, k <= K - 1), (0, True)), (k,)) == 1


@pytest.mark.parametrize("K", [2, 3, 4, 5])
def test_uniform_step_matches_explicit_linearisation(K):
    """A = -(1/4) C and B = S (the every-K step) agree with the explicit uniform_linearisation at K."""
    from theory import matrix_algebra as ma

    y = T.indexed_symbols()
    A, B, obls = T.uniform_ift_step()
    assert all(e == 0 for _, _, e in obls)
    Sb, _ = T.balanced_skew(K)
    Ae = sympy.Matrix(K, K, lambda i, j: sympy.expand(ma.entry(A, i, j, y["K"]).subs(y["K"], K).doit()))
    Be = sympy.Matrix(K, K, lambda i, j: ma.entry(B, i, j, y["K"], {"S": y["S"]}).subs(y["S"][i, j], Sb[i, j]))
    lin = T.uniform_linearisation(Sb)
    assert (Ae - lin["A"]).applyfunc(sympy.expand) == sympy.zeros(K, K)
    assert (Be - lin["B"]).applyfunc(sympy.expand) == sympy.zeros(K, K)


def test_every_K_dpo6_proof_fails_with_sigprime_one_eighth():
    from verify.claims.dpo import check_dpo6_general
    from verify.engine.registry import CheckContext

    ctx = CheckContext(budget="quick", seed=0, claim_id="DPO-6", hypotheses={})
    assert check_dpo6_general(ctx).verdict == "proved"
    # sig'(0) = 1/8 instead of 1/4: f''(0) halved at the uniform point
    bad = check_dpo6_general(ctx, d2_factor=Fraction(1, 2))
    assert bad.verdict == "refuted"
    _, _, step = T.uniform_ift_step(sigprime_factor=Fraction(1, 2))
    assert any(e != 0 for _, _, e in step)
    K = sympy.Symbol("K", positive=True, integer=True)
    assert any(T.balanced_normal_form(e, K) != {} for _, e in T.general_balanced_obligations(sigprime_factor=Fraction(1, 2)))
    assert check_dpo6_general(ctx, a_factor=2).verdict == "refuted"


def test_every_K_chain_rule_and_planted_lambda():
    assert all(e == 0 for _, _, e in T.general_chain_rule_obligations())
    assert any(e != 0 for _, _, e in T.general_chain_rule_obligations(lam_factor=2))


def test_dpo3_dpo6_claims_proved_with_every_K_checkers(quick_results):
    from verify.claims.dpo import DPO3, DPO6

    for claim in (DPO3, DPO6):
        res = quick_results[claim.id]
        assert res.verdict == "proved", (claim.id, res.verdict)
