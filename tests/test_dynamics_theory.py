"""theory.mrs_ipo: exact derivations, checked against independent mpmath numerics."""

import ast
from pathlib import Path

import mpmath
import pytest
import sympy

from theory import mrs_ipo as th
from verify.numerics import mrs_ipo as dyn
from verify.numerics.precision import agree, workdps


def test_theory_module_imports_only_sympy():
    tree = ast.parse(Path(th.__file__).read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not names & {"numpy", "mpmath", "math"}


@pytest.mark.parametrize("K", [2, 3, 4])
def test_jacobian_formula_is_exact(K):
    assert th.jacobian_residual(K).is_zero_matrix


def test_jacobian_residual_detects_wrong_formula():
    DF, Fpi, _ = th.ambient_jacobian(3)
    wrong = th.softmax_jacobian(Fpi) * (th.alpha * sympy.diag(*[1 / p for p in th.policy_symbols(3)]) + th.beta * th.generic_P(3))
    R = (DF - wrong).applyfunc(lambda e: sympy.cancel(sympy.together(e)))
    assert not R.is_zero_matrix


def test_general_K_proof_residuals_vanish():
    assert all(v == 0 for v in th.general_jacobian_proof().values())


def test_symbolic_jacobian_matches_mpmath_at_rational_point():
    K = 3
    DF, Fpi, W = th.ambient_jacobian(K)
    P = [[sympy.Rational(1, 2), sympy.Rational(7, 10), sympy.Rational(1, 5)], [sympy.Rational(3, 10), sympy.Rational(1, 2), sympy.Rational(3, 5)], [sympy.Rational(4, 5), sympy.Rational(2, 5), sympy.Rational(1, 2)]]
    pi = [sympy.Rational(1, 5), sympy.Rational(3, 10), sympy.Rational(1, 2)]
    ref = [sympy.Rational(1, 4), sympy.Rational(1, 4), sympy.Rational(1, 2)]
    q = [sympy.Rational(1, 3)] * 3
    al, be, la = sympy.Rational(3, 5), sympy.Integer(3), sympy.Rational(7, 10)
    z = th.logits(pi, sympy.Matrix(P), ref, q, al, be, la)
    subs = {th.alpha: al, th.beta: be, th.lam: la}
    subs.update({s: v for s, v in zip(th.policy_symbols(K), pi)})
    subs.update({s: v for s, v in zip(th.policy_symbols(K, "r"), ref)})
    subs.update({s: v for s, v in zip(th.policy_symbols(K, "q"), q)})
    for i in range(K):
        for j in range(i + 1, K):
            subs[sympy.Symbol(f"p_{i}{j}", positive=True)] = P[i][j]
    subs.update({w: sympy.exp(zk) for w, zk in zip(W, z)})
    with workdps(70):
        J = dyn.mrs_ipo_jacobian([str(x) for x in pi], [[str(x) for x in r] for r in P], "3/5", 3, "7/10", pi_ref=[str(x) for x in ref], dps=50)
        for i in range(K):
            for j in range(K):
                val = mpmath.mpf(str(sympy.N(DF[i, j].subs(subs), 70)))
                assert agree(val, J[i, j], 50)[0]


def test_cycle_eigenvalues_and_threshold():
    l1, l2 = th.cycle_eigenvalues()
    assert sympy.simplify(l1 - (th.alpha + sympy.I * th.a * th.beta * th.lam / sympy.sqrt(3))) == 0
    assert sympy.simplify(l2 - sympy.conjugate(l1)) == 0
    assert sympy.expand(th.cycle_threshold() - (th.alpha**2 + th.a**2 * th.beta**2 * th.lam**2 / 3)) == 0


def test_cycle_eigenvalues_numeric():
    with workdps(60):
        J = dyn.tangent_jacobian(["1/3"] * 3, [["1/2", "7/10", "3/10"], ["3/10", "1/2", "7/10"], ["7/10", "3/10", "1/2"]], "1/2", 5, "4/5", dps=50)
        ev, rho = dyn.spectrum(J)
        l1 = th.cycle_eigenvalues()[0].subs({th.alpha: sympy.Rational(1, 2), th.a: sympy.Rational(1, 5), th.beta: 5, th.lam: sympy.Rational(4, 5)})
        target = mpmath.mpc(str(sympy.N(sympy.re(l1), 70)), str(sympy.N(sympy.im(l1), 70)))
        assert min(abs(e - target) for e in ev) < mpmath.mpf(10) ** -50


@pytest.mark.parametrize("K", [3, 4, 5])
def test_balanced_tangent_jacobian(K):
    S, _ = th.generic_balanced_S(K)
    assert all(sympy.expand(sum(S.row(i))) == 0 for i in range(K))
    P = S + sympy.ones(K, K) / 2
    assert (th.uniform_tangent_jacobian(P) - th.balanced_tangent_jacobian(S)).applyfunc(sympy.expand).is_zero_matrix


def test_balanced_form_fails_for_unbalanced_P():
    P = th.generic_P(3)
    S = P - sympy.ones(3, 3) / 2
    assert not (th.uniform_tangent_jacobian(P) - th.balanced_tangent_jacobian(S)).applyfunc(sympy.expand).is_zero_matrix


def test_fixed_point_equation():
    assert all(r == 0 for r in th.fixed_point_equation_residual(3))


def test_helmert_basis_orthonormal():
    H = th.helmert_basis(5)
    assert (H.T * H - sympy.eye(4)).applyfunc(sympy.simplify).is_zero_matrix
    assert all(sympy.simplify(sum(H.col(c))) == 0 for c in range(4))


def test_sections_render():
    from theory.latex import document

    doc = document(th.sections())
    assert "DYN-1" in doc and r"\sqrt{3}" in doc


def _centered_map(x, P, al, be, la):
    """G(x) = C(alpha x + beta P mu(softmax x)) with uniform pi_ref = pi0 (mpmath)."""
    K = len(x)
    m = max(x)
    e = [mpmath.exp(v - m) for v in x]
    s = mpmath.fsum(e)
    pi = [v / s for v in e]
    mu = [la * p + (1 - la) / K for p in pi]
    z = [al * x[i] + be * mpmath.fsum(P[i][j] * mu[j] for j in range(K)) for i in range(K)]
    zm = mpmath.fsum(z) / K
    return [v - zm for v in z]


def test_symbolic_centered_logit_jacobian_matches_mpmath_diff():
    K = 3
    P = [[sympy.Rational(1, 2), sympy.Rational(4, 5), sympy.Rational(1, 10)], [sympy.Rational(1, 5), sympy.Rational(1, 2), sympy.Rational(7, 10)], [sympy.Rational(9, 10), sympy.Rational(3, 10), sympy.Rational(1, 2)]]
    al, be, la = sympy.Rational(2, 5), sympy.Integer(6), sympy.Rational(3, 4)
    x = [sympy.Rational(3, 10), sympy.Rational(-1, 2), sympy.Rational(1, 5)]  # a point with 1^T x = 0, not a fixed point
    pi_sym = [sympy.exp(v) / sum(sympy.exp(w) for w in x) for v in x]
    Jx = th.centered_logit_jacobian(pi_sym, sympy.Matrix(P), al, be, la)
    with workdps(80):
        Pm = [[mpmath.mpf(int(e.p)) / int(e.q) for e in r] for r in P]
        H = dyn.helmert_basis(K)
        x0 = [mpmath.mpf(int(v.p)) / int(v.q) for v in x]
        alm, bem, lam_ = mpmath.mpf(2) / 5, mpmath.mpf(6), mpmath.mpf(3) / 4
        for c in range(K - 1):
            for r in range(K - 1):
                def g(t):
                    xx = [x0[k] + t * H[k, c] for k in range(K)]
                    G = _centered_map(xx, Pm, alm, bem, lam_)
                    return mpmath.fsum(H[k, r] * G[k] for k in range(K))

                num = mpmath.diff(g, 0)
                sym = mpmath.mpf(str(sympy.N(Jx[r, c], 80)))
                assert agree(num, sym, 50)[0]


def test_symbolic_tangent_jacobian_matches_mpmath_at_non_fixed_point():
    K = 3
    P = th.cyclic_P(sympy.Rational(3, 10))
    pi = [sympy.Rational(1, 5), sympy.Rational(1, 2), sympy.Rational(3, 10)]
    al, be, la = sympy.Rational(1, 2), sympy.Integer(4), sympy.Rational(9, 10)
    u = [sympy.Rational(1, 3)] * 3
    z = th.logits(pi, P, u, u, al, be, la)
    Fpi = sympy.Matrix([sympy.exp(v) / sum(sympy.exp(w) for w in z) for v in z])
    JT = th.tangent_jacobian(th.jacobian_formula(K, P=P, pi=pi, Fpi=Fpi).subs({th.alpha: al, th.beta: be, th.lam: la}))
    with workdps(70):
        Jm = dyn.tangent_jacobian([str(v) for v in pi], [[str(e) for e in r] for r in P.tolist()], "1/2", 4, "9/10", dps=50)
        for i in range(K - 1):
            for j in range(K - 1):
                assert agree(mpmath.mpf(str(sympy.N(JT[i, j], 70))), Jm[i, j], 50)[0]


def test_general_K_balanced_identities_hold():
    assert all(v == {} for v in th.general_balanced_residuals().values())


def test_general_K_balanced_proof_fails_on_planted_identity():
    from theory import matrix_algebra as ma

    # a planted wrong identity: DF(u) C = alpha C + (beta lambda/(2K)) S
    res = th.general_balanced_residuals(sympy.Rational(1, 2))
    assert res["DF(u) C = alpha C + (beta lambda/K) S (tangent action)"] != {}
    # and a planted wrong axiom-free identity: S C = C S is not an identity
    from theory.dpo import balanced_normal_form

    K = sympy.Symbol("K", positive=True, integer=True)
    C = ma.NC({(): 1}) - ma.one * ma.onet * (1 / K)
    assert balanced_normal_form(ma.S * C - C * ma.S - ma.S, K) != {}


def test_general_jacobian_proof_detects_wrong_lambda():
    res = th.general_jacobian_proof(2)
    assert res["dz_off_diagonal"] != 0
