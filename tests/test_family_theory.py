"""theory.family: the pairwise-loss family generic in f (LOSS-1, LOSS-2, LOSS-3), its IPO/DPO reductions,
and a planted wrong variant for every obligation function (each one can fail)."""

from fractions import Fraction as Fr

import pytest
import sympy

from theory import dpo as T
from theory import family as F
from theory import mrs_ipo as M
from theory.latex import document
from theory.losses import BUILTIN, LossError, from_expression

BETA = sympy.Symbol("beta", positive=True)
SMOOTH = ["ipo", "dpo", "exp"]  # f'' > 0 everywhere
AT0 = ["ipo", "dpo", "exp", "tq"]  # smooth with f''(0) > 0 at 0


def _loss(name):
    return F.GENERIC if name == "generic" else BUILTIN[name]


def ok(obls):
    bad = F.failures(obls)
    assert obls and not bad, bad


def fails(obls, *names):
    bad = F.failures(obls)
    assert bad, "the planted variant was not detected"
    for n in names:
        assert n in bad, (n, bad)


# --------------------------------------------------------------------------- shared objects: one copy
def test_one_copy_of_bases_and_matrices():
    assert M.tangent_basis is F.tangent_basis and T.tangent_basis is F.tangent_basis
    assert M.tangent_left_inverse is F.tangent_left_inverse and M.helmert_basis is F.helmert_basis
    assert M.cyclic_P is F.cyclic_P and T.cycle_skew is F.cycle_skew
    assert T.balanced_skew is F.balanced_skew and M.generic_balanced_S is F.balanced_skew


@pytest.mark.parametrize("K", [2, 3, 5])
def test_bases(K):
    V, L, H = F.tangent_basis(K), F.tangent_left_inverse(K), F.helmert_basis(K)
    assert L * V == sympy.eye(K - 1) and sympy.ones(1, K) * V == sympy.zeros(1, K - 1)
    assert (H.T * H - sympy.eye(K - 1)).applyfunc(sympy.simplify).is_zero_matrix
    assert (sympy.ones(1, K) * H).applyfunc(sympy.simplify).is_zero_matrix
    S, free = F.balanced_skew(K)
    assert S.T == -S and (S * sympy.ones(K, 1)).applyfunc(sympy.expand).is_zero_matrix
    assert len(free) == (K - 1) * (K - 2) // 2


def test_cycle():
    a = sympy.Symbol("a", positive=True)
    assert F.cyclic_P() == M.cyclic_P(a) and F.cycle_skew() == F.cyclic_P() - sympy.ones(3, 3) / 2
    ok(F.cycle_norm_obligations())
    fails(F.cycle_norm_obligations(norm_sq=2 * a**2))


# --------------------------------------------------------------------------- 1-3: explicit K, generic f
@pytest.mark.parametrize("K", [2, 3, 4])
def test_explicit_generic(K):
    ok(F.explicit_obligations(K))


@pytest.mark.parametrize("name", SMOOTH)
def test_explicit_instances(name):
    ok(F.explicit_obligations(3, BUILTIN[name]))


def test_explicit_planted():
    b = F.family_symbols(3).b
    fails(F.explicit_obligations(3, grad_factor=3), "dL/dr_k = 2 b mu_k G_k(b r)")
    fails(F.explicit_obligations(3, b_factor=1 / b), "dL/dr_k = 2 b mu_k G_k(b r)")
    fails(F.explicit_obligations(3, hess_factor=1), "d^2 L/dx^2 = 2 Lap(W)", "d^2 L/dr^2 = b^2 * 2 Lap(W)(b r)")
    fails(F.explicit_obligations(3, a_factor=2), "dG/dx = A (stated)", "mu^T A = 0")


@pytest.mark.parametrize("K", [2, 3, 4])
def test_ipo_reduction(K):
    ok(F.ipo_reduction_obligations(K))


def test_ipo_reduction_wrong_convention():
    """b = 1/beta (TRL's tau read as beta) is refuted by every IPO identity."""
    obls = F.ipo_reduction_obligations(3, b=1 / BETA)
    assert len(F.failures(obls)) == len(obls)


@pytest.mark.parametrize("K", [2, 3, 4])
def test_dpo_reduction(K):
    ok(F.dpo_reduction_obligations(K))


def test_dpo_reduction_planted_sigprime():
    bad = F.failures(F.dpo_reduction_obligations(3, sigprime=lambda z: T.sig(z) / 4))
    assert "DPO atom: f'' = sig (1 - sig)" in bad and "DPO: A_family = -A_DPO" in bad


def test_stationarity_instances_closed_forms():
    """Explicit values: IPO G = 2 sum_j mu_j (x_k - x_j - (2P_kj - 1)); DPO G = -(P - Sigma) mu."""
    sy = F.family_symbols(3)
    G = F.stationarity(BUILTIN["ipo"], sy.P, sy.mu, sy.x)
    want = [2 * sum(sy.mu[j] * (sy.x[k] - sy.x[j] - (2 * sy.P[k, j] - 1)) for j in range(3)) for k in range(3)]
    assert all(sympy.expand(G[k] - want[k]) == 0 for k in range(3))
    assert F.affine_optimum(BUILTIN["dpo"], sy.P, sy.mu) is None


# --------------------------------------------------------------------------- 4: MRS map
def test_mrs_jacobian_chain_rule():
    ok(F.mrs_jacobian_obligations(2))
    fails(F.mrs_jacobian_obligations(2, lam_factor=2))


def test_mrs_ipo_reduction():
    ok(F.ipo_mrs_reduction_obligations(3))
    fails(F.ipo_mrs_reduction_obligations(3, b=1 / BETA), "MRS-IPO: logits = mrs_ipo.logits + const (1^T pi = 1^T pi0 = 1)")


def test_mrs_map_uniform_is_fixed():
    K, third = 3, sympy.Rational(1, 3)
    Fu = F.mrs_map(BUILTIN["ipo"], F.cyclic_P(), [third] * K, sympy.Rational(1, 2), 1, 2, [third] * K, [third] * K)
    assert (Fu - sympy.Matrix([third] * K)).applyfunc(sympy.simplify).is_zero_matrix


# --------------------------------------------------------------------------- every K: Hessian, IFT (LOSS-1 uniqueness)
@pytest.mark.parametrize("name", ["generic"] + SMOOTH)
def test_general_hessian(name):
    ok(F.general_hessian_obligations(_loss(name)))


def test_general_hessian_planted_and_hinge():
    fails(F.general_hessian_obligations(grad_factor=3), "dL[v] = 2 sum_i v_i mu_i G_i")
    fails(F.general_hessian_obligations(hess_factor=2), "d^2L[v,v] = sum_ij W_ij (v_i - v_j)^2")
    bad = F.failures(F.general_hessian_obligations(BUILTIN["slic"]))
    assert "g'(x; p) > 0 for 0 < p < 1, -1 < x < 1" in bad  # the hinge has no curvature: no uniqueness
    bad = F.failures(F.general_hessian_obligations(BUILTIN["tq"]))
    assert "g'(x; p) > 0 for 0 < p < 1, x > 1" not in bad and "g'(x; 1) = f''(x) > 0, x > 1" in bad


@pytest.mark.parametrize("name", ["generic", "ipo"])  # every other smooth loss: test_per_claim_lists
def test_general_ift(name):
    ok(F.general_ift_obligations(_loss(name)))


def test_general_ift_planted():
    fails(F.general_ift_obligations(a_factor=2), "dG_k/dx_l = A[k,l] (k != l)", "(mu^T A)_l = 0")
    fails(F.general_ift_obligations(form_factor=2), "v^T diag(mu) A v = (1/2) sum_kj mu_k mu_j g'_kj (v_k - v_j)^2")


# --------------------------------------------------------------------------- LOSS-1: existence
def test_recession_and_existence():
    want = {"ipo": "every P", "dpo": "no escaping set", "slic": "no escaping set", "exp": "no escaping set", "tq": "no escaping set"}
    for name, cond in want.items():
        assert F.existence_condition(BUILTIN[name]) == cond
        ok(F.recession_obligations(BUILTIN[name]))
    assert F.existence_condition(from_expression("exp(-x) + x**2")) == "every P"
    fails(F.recession_obligations(BUILTIN["dpo"], stated=(0, 2)))
    fails(F.recession_obligations(BUILTIN["ipo"], stated=(0, sympy.oo)))


@pytest.mark.parametrize("name", ["dpo", "slic", "exp", "tq"])
def test_escaping_direction(name):
    ok(F.escaping_direction_obligations(BUILTIN[name]))
    fails(F.escaping_direction_obligations(BUILTIN[name], p_across=sympy.Rational(9, 10)))


def test_no_escaping_direction_for_ipo():
    assert F.escaping_direction_obligations(BUILTIN["ipo"]) == []
    assert F.pair_recession(BUILTIN["ipo"], 1, 1) == sympy.oo


# --------------------------------------------------------------------------- LOSS-2
def test_links():
    p = sympy.Symbol("p", real=True)
    for name in ("ipo", "dpo", "exp", "tq"):
        phi = F.link(BUILTIN[name])
        assert sympy.simplify(phi(p) - F.STATED_LINKS[name](p)) == 0
        ok(F.link_obligations(BUILTIN[name]))
    assert F.link(BUILTIN["slic"]) is None and "does not depend on x" in F.no_link_reason(BUILTIN["slic"])
    assert F.link_domain(BUILTIN["ipo"]) == sympy.Interval(0, 1)
    assert F.link_domain(BUILTIN["tq"]) == sympy.Interval.open(0, 1) == F.link_domain(BUILTIN["dpo"])
    assert F.named_model(BUILTIN["dpo"]).startswith("Bradley-Terry") and F.named_model(BUILTIN["exp"]).endswith("c = 2")
    assert F.named_model(BUILTIN["ipo"]).startswith("additive") and F.named_model(BUILTIN["tq"]).startswith("additive")


def test_link_planted():
    p = sympy.Symbol("p", real=True)
    fails(F.link_obligations(BUILTIN["exp"], stated=sympy.Lambda(p, sympy.log(p / (1 - p)))), "phi = log(p/(1 - p))")
    fails(F.link_obligations(BUILTIN["ipo"], stated=sympy.Lambda(p, p - sympy.Rational(1, 2))))


def test_user_loss_link():
    loss = from_expression("log(1+exp(-x))")
    assert F.named_model(loss).startswith("Bradley-Terry")
    ok(F.link_obligations(loss))


@pytest.mark.parametrize("name", ["generic"] + AT0)
def test_loss2_sufficiency(name):
    ok(F.loss2_sufficiency_obligations(_loss(name)))
    fails(F.loss2_sufficiency_obligations(_loss(name), scale=2))


def test_loss2_necessity():
    ok(F.loss2_necessity_obligations())
    fails(F.loss2_necessity_obligations(inverse_factor=2), "M M^-1 = I", "D = (D M) M^-1")
    bad = F.failures(F.loss2_necessity_obligations(BUILTIN["tq"]))  # tq: strictly increasing only for 0 < p < 1
    assert bad and all("p) > 0 for 0 < p < 1" not in n for n in bad)


def test_predicates():
    P_add = [[Fr(1, 2), Fr(6, 10), Fr(7, 10)], [Fr(4, 10), Fr(1, 2), Fr(6, 10)], [Fr(3, 10), Fr(4, 10), Fr(1, 2)]]
    P_bt = [[Fr(1, 2), Fr(2, 3), Fr(4, 5)], [Fr(1, 3), Fr(1, 2), Fr(2, 3)], [Fr(1, 5), Fr(1, 3), Fr(1, 2)]]
    P_01 = [[Fr(1, 2), 1, Fr(1, 2)], [0, Fr(1, 2), 0], [Fr(1, 2), 1, Fr(1, 2)]]
    cyc = F.cyclic_P(sympy.Rational(1, 5))
    assert F.is_additive(P_add) and not F.is_additive(P_bt) and not F.is_additive(cyc) and F.is_additive(P_01)
    assert F.is_bradley_terry(P_bt) and not F.is_bradley_terry(P_add) and not F.is_bradley_terry(P_01)
    for name, model in (("ipo", F.is_additive), ("tq", F.is_additive), ("dpo", F.is_bradley_terry), ("exp", F.is_bradley_terry)):
        for P in (P_add, P_bt, cyc):
            assert F.is_link_model(P, BUILTIN[name]) == model(P), (name, P)
    assert F.is_link_model(P_01, BUILTIN["ipo"]) and not F.is_link_model(P_01, BUILTIN["tq"])
    with pytest.raises(LossError):
        F.is_link_model(P_add, BUILTIN["slic"])


def test_loss2_sufficiency_on_an_instance():
    """A Bradley-Terry P (exact logs) makes the DPO stationarity vanish at x = u for a free mu, K = 3."""
    u = [sympy.log(2), 0, -sympy.log(3)]
    P = sympy.Matrix(3, 3, lambda i, j: T.sig(u[i] - u[j]))
    mu = sympy.symbols("m0:3", positive=True)
    G = F.stationarity(BUILTIN["dpo"], P, mu, u)
    assert all(sympy.simplify(g.rewrite(sympy.exp)) == 0 for g in G)


# --------------------------------------------------------------------------- LOSS-3
@pytest.mark.parametrize("name", ["generic"] + AT0)
def test_uniform_step_and_general_balanced(name):
    loss = _loss(name)
    ok(F.uniform_step_obligations(F.local_loss(loss))[2])
    ok(F.general_balanced_obligations(F.local_loss(loss)))


def test_general_balanced_planted():
    fails(F.uniform_step_obligations(d2_factor=2)[2], "A[k,k] at the uniform point = (f''(0) C)[k,k]")
    fails(F.uniform_step_obligations(b_factor=2)[2], "B[k,l] at the uniform point = 2 f'(0) S[k,l]")
    fails(F.general_balanced_obligations(gain_factor=2), "A X + B = 0 with X = c_f S")
    fails(F.general_balanced_obligations(d2_factor=2), "A X + B = 0 with X = c_f S")


@pytest.mark.parametrize("K", [2, 3, 4])
@pytest.mark.parametrize("name", AT0)
def test_balanced_explicit(K, name):
    ok(F.balanced_obligations(K, BUILTIN[name]))


def test_balanced_explicit_planted_gain():
    fails(F.balanced_obligations(3, BUILTIN["dpo"], gain_factor=sympy.Rational(5, 4)), "X = c_f S", "J_T = L (alpha I + (c_f lam/(b K)) S) V")


@pytest.mark.parametrize("K", [3])
def test_balanced_reduction(K):
    ok(F.balanced_reduction_obligations(K))
    fails(F.balanced_reduction_obligations(K, ipo_b=1 / BETA), f"IPO K = {K}: J_T = mrs_ipo.uniform_tangent_jacobian")


def test_threshold_reductions():
    ok(F.threshold_reduction_obligations())
    obls = F.threshold_reduction_obligations(ipo_b=1 / BETA, dpo_b=2 * sympy.Symbol("beta_dpo", positive=True))
    assert set(F.failures(obls)) == {n for n, _, _ in obls if "uniform point" not in n}


def test_thresholds_and_critical_b():
    ipo, dpo = BUILTIN["ipo"], BUILTIN["dpo"]
    assert F.cycle_threshold_expr(dpo) == T.cycle_threshold_expr()
    assert sympy.expand(F.cycle_threshold_expr(ipo, M.alpha, M.lam, 2 / M.beta, M.a) - M.cycle_threshold()) == 0
    # b* separates: at b = b* the radius is exactly 1, below it unstable, above it stable
    rho, K, al, lm = sympy.Rational(3, 2), 4, sympy.Rational(3, 5), sympy.Rational(7, 10)
    for loss in (ipo, dpo, BUILTIN["exp"], BUILTIN["tq"]):
        bs = F.critical_b(loss, rho, K, al, lm)
        assert sympy.simplify(F.balanced_threshold_expr(loss, rho, K, al, lm, bs) - 1) == 0
        assert F.balanced_threshold_expr(loss, rho, K, al, lm, bs * sympy.Rational(9, 10)) > 1
        assert F.balanced_threshold_expr(loss, rho, K, al, lm, bs * sympy.Rational(11, 10)) < 1
    # IPO: beta* = K sqrt(1 - alpha^2)/(lam rho) (b = 2/beta)
    assert sympy.simplify(F.critical_scale(ipo, rho, K, al, lm) - K * sympy.sqrt(1 - al**2) / (lm * rho)) == 0


def test_loss3_not_applicable_for_hinge():
    with pytest.raises(LossError, match="not strictly convex"):
        F.balanced_threshold_expr(BUILTIN["slic"])
    with pytest.raises(LossError):
        F.uniform_tangent_jacobian(BUILTIN["slic"], F.cycle_skew(), 1, 1, 1)
    with pytest.raises(LossError):
        F.loss3_obligations(BUILTIN["slic"])


def test_local_loss():
    assert F.local_loss(BUILTIN["tq"]).f == BUILTIN["ipo"].f and F.local_loss(BUILTIN["dpo"]) is BUILTIN["dpo"]
    ok(F.local_loss_obligations(BUILTIN["tq"]))


# --------------------------------------------------------------------------- per-claim lists, every loss
@pytest.mark.parametrize("name", ["generic"] + list(BUILTIN))
def test_per_claim_lists(name):
    loss = _loss(name)
    l1 = F.loss1_obligations(loss)
    assert l1
    if name in ("generic",) + tuple(SMOOTH):
        ok(l1)
    l2 = F.loss2_obligations(loss)
    assert (l2 == []) == (F.link(loss) is None)
    if name in ("generic",) + tuple(SMOOTH):
        ok(l2)
    if loss.name == "generic" or loss.not_smooth_at_0 is None:
        ok(F.loss3_obligations(loss))


@pytest.mark.parametrize("name", ["generic", "ipo", "slic"])
def test_latex_sections(name):
    secs = F.latex_sections(_loss(name))
    doc = document(secs)
    assert [s.title[:6] for s in secs] == ["LOSS-1", "LOSS-2", "LOSS-3"] and r"\begin{document}" in doc
    if name == "slic":
        assert "Not applicable" in doc
