"""LOSS-1 .. LOSS-3 (the GPO loss family): verdicts on the true statements, controls, mutations, and per-loss checks.

Per-loss tests are parametrised over the built-in losses the claim speaks about (computed from
``theory.losses.BUILTIN``), so a new loss is tested without a new test.
"""

from fractions import Fraction

import mpmath
import pytest

from theory.losses import BUILTIN
from verify.engine.registry import MUTATION_FACTORS, CheckContext
from verify.claims import losses as C
from verify.numerics import optimum

HALF = Fraction(1, 2)
CLAIMS = {"LOSS-1": C.LOSS1, "LOSS-2": C.LOSS2, "LOSS-3": C.LOSS3}
#: the verdict each checker must return on the true statement
EXPECTED = {
    ("LOSS-1", "uniqueness every K"): "proved",
    ("LOSS-1", "existence every K"): "proved",
    ("LOSS-2", "symbolic (<=) every K"): "proved",
    ("LOSS-2", "symbolic (=>) every K"): "proved",
    ("LOSS-3", "general"): "proved",
    ("LOSS-3", "explicit"): "proved",
    ("LOSS-3", "not applicable (hinge)"): "inconclusive",
}


def _ctx(claim):
    return CheckContext(budget="quick", seed=0, claim_id=claim.id, hypotheses=dict(claim.hypotheses))


CHECKS = [(cid, ch.name) for cid, c in CLAIMS.items() for ch in c.checkers]


@pytest.mark.parametrize("cid, name", CHECKS, ids=[f"{a}/{b}" for a, b in CHECKS])
def test_checker_verdict_on_the_true_statement(cid, name):
    claim = CLAIMS[cid]
    o = claim.checker(name).fn(_ctx(claim))
    assert o.verdict == EXPECTED.get((cid, name), "verified"), o.summary


def test_tags_and_beyond_the_paper():
    assert C.LOSS1.tag == "derived" and C.LOSS2.tag == "open" and C.LOSS3.tag == "open"
    for c in CLAIMS.values():
        assert c.statement.startswith("[beyond the paper]") and "beyond the paper" in c.note.lower()
        assert len(c.scope.parts) >= 1 and all(any(p in ch.proves for ch in c.checkers) for p in c.scope.parts)


CONTROLS = [(cid, i, k.name) for cid, c in CLAIMS.items() for i, k in enumerate(c.controls)]


@pytest.mark.parametrize("cid, i, name", CONTROLS, ids=[f"{a}/{b}" for a, _, b in CONTROLS])
def test_control_is_caught(cid, i, name):
    claim = CLAIMS[cid]
    k = claim.controls[i]
    o = k.fn(_ctx(claim))
    assert k.caught(o), f"{name}: {o.verdict}: {o.summary}"
    assert o.counterexample is not None and o.counterexample.instance is not None


MUTATIONS = [(cid, k.name, ch, f) for cid, c in CLAIMS.items() for k in c.constants for ch in k.checkers for f in MUTATION_FACTORS]


@pytest.mark.parametrize("cid, constant, checker, factor", MUTATIONS, ids=[f"{a}-{c}-x{f}" for a, _, c, f in MUTATIONS])
def test_mutated_constant_is_refuted(cid, constant, checker, factor):
    claim = CLAIMS[cid]
    (k,) = [k for k in claim.constants if k.name == constant]
    assert not k.holds(factor)
    o = claim.checker(checker).fn(_ctx(claim), **{k.param: k.perturbed(factor)})
    assert o.verdict == "refuted", o.summary


# --------------------------------------------------------------------------- LOSS-1, per loss


def test_loss_sets_follow_the_builtin_table():
    assert set(C.STRICT) == {n for n, L in BUILTIN.items() if L.smooth and L.strictly_convex}
    assert set(C.GAINED) | set(C.NOT_APPLICABLE) == set(BUILTIN)
    assert "slic" in C.NOT_APPLICABLE and {"ipo", "dpo"} <= set(C.STRICT)


@pytest.mark.parametrize("name", C.STRICT)
def test_loss1_optimum_passes_the_solver_free_witness(name):
    P = [[HALF, Fraction(7, 10), Fraction(1, 5)], [Fraction(3, 10), HALF, Fraction(3, 5)], [Fraction(4, 5), Fraction(2, 5), HALF]]
    mu = [Fraction(1, 2), Fraction(1, 3), Fraction(1, 6)]
    L = BUILTIN[name]
    x = optimum.optimum_x(P, mu, L, dps=30)
    assert C.minimum_witness(L, P, mu, x, 30) is None


@pytest.mark.parametrize("name", C.STRICT)
def test_loss1_witness_rejects_a_point_off_the_optimum(name):
    P = [[HALF, Fraction(7, 10), Fraction(1, 5)], [Fraction(3, 10), HALF, Fraction(3, 5)], [Fraction(4, 5), Fraction(2, 5), HALF]]
    mu = [Fraction(1, 3)] * 3
    assert "not stationary" in C.minimum_witness(BUILTIN[name], P, mu, [mpmath.mpf("0.1"), 0, mpmath.mpf("-0.1")], 30)


@pytest.mark.parametrize("name", [n for n in C.STRICT if C.existence_class(n) == "no escaping set"])
def test_loss1_escaping_set_has_no_optimum(name):
    P = [[HALF, Fraction(1), Fraction(1)], [Fraction(0), HALF, Fraction(2, 5)], [Fraction(0), Fraction(3, 5), HALF]]
    assert C.has_escaping_set(P) and not C.has_escaping_set(C.families.cyclic(Fraction(1, 4)))
    with pytest.raises(optimum.NoOptimum):
        optimum.optimum_x(P, [Fraction(1, 3)] * 3, BUILTIN[name], dps=20)
    # solver-free: at any stationary-looking point the loss still falls along 1_A - |A|/K (or curves too little)
    x = [mpmath.mpf(20), mpmath.mpf(-10), mpmath.mpf(-10)]
    assert C.minimum_witness(BUILTIN[name], P, [Fraction(1, 3)] * 3, x, 5) is not None


def test_loss1_hinge_optimum_is_a_set_at_a_balanced_P():
    P = C.families.cyclic(Fraction(1, 4))
    fail = C.minimum_witness(BUILTIN["slic"], P, [Fraction(1, 3)] * 3, [0, 0, 0], 30)
    assert fail is not None and "flat direction" in fail


def test_loss1_existence_classes():
    assert C.existence_class("ipo") == "every P"
    assert {C.existence_class(n) for n in ("dpo", "exp")} == {"no escaping set"}


# --------------------------------------------------------------------------- LOSS-2, per loss


@pytest.mark.parametrize("name", C.linked())
def test_loss2_model_matrices_are_in_the_model(name):
    import numpy as np

    rng = np.random.default_rng(1)
    for K in (3, 4):
        P, _ = C.model_matrix(name, rng, K)
        assert C.in_link_model(name, P)
    assert not C.in_link_model(name, C.families.cyclic(Fraction(1, 5)))


@pytest.mark.parametrize("name", C.linked())
def test_loss2_per_loss(name):
    ctx = _ctx(C.LOSS2)
    assert C.check_loss2_invariance(ctx, losses=(name,)).verdict == "verified"
    assert C.check_loss2_non_model(ctx, losses=(name,)).verdict == "verified"
    assert C.check_loss2_non_model(ctx, losses=(name,), planted_model=True).verdict == "refuted"
    assert C.check_loss2_exact_certificate(ctx, losses=(name,)).verdict == "verified"


def test_loss2_bradley_terry_is_not_the_ipo_model():
    o = C.check_loss2_invariance(_ctx(C.LOSS2), link={"ipo": "dpo"}, losses=("ipo",))
    assert o.verdict == "refuted"


# --------------------------------------------------------------------------- LOSS-3, per loss


@pytest.mark.parametrize("name", C.GAINED)
def test_loss3_per_loss_numeric_and_dynamic(name):
    ctx = _ctx(C.LOSS3)
    assert C.check_loss3_numeric(ctx, losses=(name,)).verdict == "verified"
    assert C.check_loss3_dynamic(ctx, losses=(name,)).verdict == "verified"


@pytest.mark.parametrize("name", C.GAINED)
@pytest.mark.parametrize("factor", [Fraction(3, 4), Fraction(5, 4), 2])
def test_loss3_wrong_gain_is_refuted_for_each_loss(name, factor):
    ctx = _ctx(C.LOSS3)
    assert C.check_loss3_numeric(ctx, losses=(name,), gain_factor=factor).verdict == "refuted"
    assert C.check_loss3_dynamic(ctx, losses=(name,), gain_factor=factor).verdict == "refuted"


@pytest.mark.parametrize("name", C.NOT_APPLICABLE)
def test_loss3_not_applicable_says_why_and_still_simulates(name):
    o = C.check_loss3_not_applicable(_ctx(C.LOSS3), losses=(name,))
    assert o.verdict == "inconclusive" and "not applicable" in o.summary and "Observation only" in o.summary
    assert o.details["observation"][name] and "set" in o.details["reason"][name]


# --------------------------------------------------------------------------- DYN-6 and DPO-6 are LOSS-3's instances


@pytest.mark.parametrize("cid, name", [("DYN-6", "ipo"), ("DPO-6", "dpo")])
def test_dyn6_dpo6_run_the_loss3_checkers(cid, name):
    from verify.engine.registry import REGISTRY
    from verify.engine.runner import load_builtin_claims

    load_builtin_claims()
    claim = REGISTRY.get(cid)
    for ch in claim.checkers:
        if ch.kind == "certified":  # the ball-arithmetic instances are the claim's own (verify.certified)
            continue
        assert ch.fn.__name__.startswith("check_loss3_") and ch.fn.__name__.endswith(f"[{name}]"), ch.fn.__name__
    (k,) = claim.constants
    assert k.param == "gain" and k.value == BUILTIN[name].gain
    # the stated gain is the loss's own: the bound checker with gain = c_f is the claim, another gain is refuted
    ctx = CheckContext(budget="quick", seed=0, claim_id=cid, hypotheses=dict(claim.hypotheses))
    general = claim.checker([c.name for c in claim.checkers if c.proves][0]).fn
    assert general(ctx, gain=k.value).verdict == "proved"
    assert general(ctx, gain=k.value + 1).verdict == "refuted"


# --- referee: planted conventions and statements that a checker must see -------------------------


def test_dyn6_proof_sees_the_ipo_scale_convention(monkeypatch):
    """IPO's b = 2/beta planted as 1/beta in the loss table: the map the numerics and the LOSS-3 proof use is then
    not MRS-IPO, and DYN-6's every-K proof (LOSS-3 with losses=("ipo",)) must refute its reduction."""
    from dataclasses import replace

    from theory.losses import SCALE

    ctx = CheckContext(budget="quick", seed=0, claim_id="DYN-6", hypotheses={})
    monkeypatch.setitem(BUILTIN, "ipo", replace(BUILTIN["ipo"], b_expr=1 / SCALE))
    o = C.check_loss3_general(ctx, losses=("ipo",))
    assert o.verdict == "refuted" and "DYN-6" in o.summary, o.summary
    monkeypatch.setitem(BUILTIN, "dpo", replace(BUILTIN["dpo"], b_expr=2 * SCALE))
    o = C.check_loss3_general(ctx, losses=("dpo",))
    assert o.verdict == "refuted" and "DPO-6" in o.summary, o.summary


def test_loss1_existence_covers_infinite_recession_slopes():
    """The generic existence proof must cover f superlinear on a side (f_inf = +oo: IPO on both sides, exp and the
    truncated quadratic on the left), not only finite positive slopes."""
    from theory import family

    obs = C._existence_class_obligations()
    names = [o[0] for o in obs]
    assert any("f_inf(1) +oo, f_inf(-1) +oo" in n for n in names)
    assert any("decreasing (f_inf(-1) +oo)" in n for n in names)
    assert family.failures(obs) == []
    assert family.failures(C._existence_class_obligations(p_across=Fraction(9, 10)))


def test_loss2_wrong_stated_link_is_refuted():
    """A statement naming DPO's link as logit(p)/2 (or IPO's as p - 1/2) must be refuted by the (<=) proof, and
    LOSS-2's scope must state that the pair link exists (the proof takes phi as given)."""
    names = [k.name for k in C.LOSS2.controls]
    assert "DPO link stated as logit(p)/2" in names and "IPO link stated as p - 1/2" in names
    assert "pair link phi(p)" in C.LOSS2.scope.text and all("pair link" in part for part in C.LOSS2.scope.parts)


def test_user_loss_concave_beyond_the_grid_is_rejected():
    """(1 - x)^2 - exp(x - 50) is convex on [-40, 40] but concave (and unbounded below) for x > 50.7: no optimum
    exists, so neither a loss object nor a LOSS-3 threshold may be built from it."""
    from verify import System
    from verify.exact.objects import InputError
    from verify.numerics.losses import loss

    with pytest.raises(InputError, match="not convex"):
        loss("(1-x)**2 - exp(x-50)")
    with pytest.raises(InputError, match="not convex"):
        System(C.families.cyclic(Fraction(1, 4)), "(1-x)**2 - exp(x-50)", alpha="1/2", lam=1)


def test_threshold_states_when_convexity_is_only_checked_on_a_grid():
    """A user loss that sympy cannot prove convex gets a threshold with a caveat (LOSS-3 assumes f convex); a proved
    one (and a built-in) gets none."""
    from verify import System

    P = C.families.cyclic(Fraction(1, 4))
    t = System(P, "exp(-x) + x**4 - x**2/4", alpha="1/2", lam=1).threshold()
    assert t.applicable and t.caveat and "not proved" in t.caveat and t.to_json()["caveat"] == t.caveat
    assert System(P, "exp(-x)", alpha="1/2", lam=1).threshold().caveat is None
    assert System(P, "ipo", alpha="1/2", lam=1).threshold().caveat is None


@pytest.mark.parametrize("text, gain", [("x**2 - x + 1e-3", 1), ("exp(-0.5*x)", 4), ("log(1+exp(-1.5*x))", Fraction(8, 3))])
def test_user_loss_with_decimal_literals_is_exact(text, gain):
    """Decimal literals in a user loss are read exactly (they used to be rejected with 'the compiled f disagrees')."""
    from verify.numerics.losses import loss

    assert loss(text).gain == gain
