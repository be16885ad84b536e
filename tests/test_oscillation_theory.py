"""The Neimark–Sacker coefficient of the MRS maps at the uniform point of the 3-cycle (theory/oscillation.py, DYN-7):
closed forms, the independent IPO and DPO routes, the sign and its proof, and planted wrong variants refuted."""

from __future__ import annotations

import pytest
import sympy
from sympy import Rational, sqrt

from theory import oscillation as O
from theory.family import is_zero
from theory.losses import LossError
from theory.normal_form import first_lyapunov

al, a, lam = O.ALPHA, O.A, O.LAM


def _fails(obs):
    return [ob[0] for ob in obs if not is_zero(ob[-1])]


# --------------------------------------------------------------------------- closed forms
def test_ipo_closed_form_only_alpha_enters():
    nf = O.cycle_normal_form("ipo")
    assert sympy.expand(nf.d + (1 - al**2) / 8) == 0          # the hand value -(1 - alpha^2)/8, re-derived
    assert nf.d.free_symbols == {al} and nf.enters.startswith("only alpha")
    assert sympy.expand(O.cycle_normal_form("tq").d - nf.d) == 0   # equal to IPO near 0
    assert nf.gain == 2 and nf.scale_at(Rational(3, 5), Rational(1, 4), 1) == 16 * sqrt(3) / 5   # beta = sqrt(3) s/(lam a)


@pytest.mark.parametrize("name", ["dpo", "exp"])
def test_builtin_closed_forms(name):
    nf = O.cycle_normal_form(name)
    assert sympy.expand(nf.d - O.CLOSED_FORMS[name]) == 0


def test_how_the_parameters_enter():
    assert "lam a" in O.cycle_normal_form("dpo").enters
    assert "separately" in O.cycle_normal_form("exp").enters
    assert sympy.expand(O.cycle_normal_form("generic").d - O.STATED_D) == 0


def test_a_user_expression_through_the_parser():
    nf = O.cycle_normal_form("log(2*cosh(x)) - x")      # log(1 + exp(-2x)): DPO with x -> 2x
    assert sympy.expand(nf.d - O.CLOSED_FORMS["dpo"]) == 0
    with pytest.raises(LossError, match="smooth"):
        O.cycle_normal_form("slic")


# --------------------------------------------------------------------------- the derivation's steps
def test_xstar_and_symmetry_obligations_hold_and_a_wrong_third_order_is_caught():
    assert _fails(O.xstar_obligations()) == []
    assert _fails(O.symmetry_obligations()) == []     # incl. B(q, conj q) = 0: the term 2 B(q, (I - A)^-1 B(q, conj q)) is 0 here
    assert _fails(O.xstar_obligations(order3_factor=2)) == ["G(x1 + x2 + x3; 1/3 + u) = O(|u|^4)"]


def test_family_route_equals_the_independent_ipo_and_dpo_routes():
    assert _fails(O.cross_check_obligations()) == []


def test_cross_checks_refute_planted_variants():
    # a wrong cubic coefficient of exp in the softmax: seen by the IPO route; a wrong f''''(0): seen by the DPO route
    assert "IPO" in _fails(O.cross_check_obligations(exp_cubic=Rational(1, 3)))[0]
    wrong = (-Rational(1, 2), Rational(1, 4), 0, Rational(1, 8))
    assert [n[:3] for n in _fails(O.cross_check_obligations(dpo_derivatives=wrong))] == ["DPO"]


def test_dpo_direct_route_gives_the_closed_form_at_a_rational_point():
    c, s = Rational(3, 5), Rational(4, 5)
    b = 4 * 1 * Rational(1, 2) / (sqrt(3) * s)             # on the curve: b = c_f lam a/(sqrt(3) sin theta)
    A_, B_, C_ = O.dpo_direct_tensors(((al, c), (a, Rational(1, 2)), (lam, 1), (O.B_SCALE, b)))
    nf = first_lyapunov(A_, B_, C_, c, s)
    assert nf.d == O.cycle_normal_form("dpo").value(alpha=c, a=Rational(1, 2), lam=1) == Rational(2, 75)


# --------------------------------------------------------------------------- the sign
def test_sign_verdicts():
    assert O.sign_verdict("ipo").verdict == "supercritical"
    v = O.sign_verdict("dpo")
    assert (v.verdict, v.surface) == ("changes sign", "lam a = sqrt(3)/4")
    e = O.sign_verdict("exp")
    assert e.verdict == "supercritical except at a corner" and e.Q_corner == 0
    for v in (O.sign_verdict("ipo"), v, e):
        assert _fails(v.steps) == []


def test_sign_at_rational_points_on_both_sides_of_the_dpo_surface():
    h = Rational(1, 2)
    assert O.sign_at("dpo", h, h, 1) == 1                       # lam a = 1/2 > sqrt(3)/4: subcritical
    assert O.sign_at("dpo", h, Rational(1, 4), 1) == -1
    assert O.sign_at("dpo", h, Rational(433, 1000), 1) == -1    # 0.433 < sqrt(3)/4 = 0.4330127...
    assert O.sign_at("dpo", h, Rational(4331, 10000), 1) == 1
    assert O.sign_at("exp", h, h, 1) == 0 and O.sign_at("exp", h, h, Rational(99, 100)) == -1
    assert O.sign_at("ipo", Rational(99, 100), h, 1) == -1
    with pytest.raises(ValueError, match="exact"):
        O.cycle_normal_form("ipo").value(alpha=0.5, a=h, lam=1)


@pytest.mark.parametrize("hooks", [
    dict(term_factors=(1, 2, 2)),
    dict(f_derivatives=(-Rational(1, 2), Rational(1, 4), Rational(1, 10), -Rational(1, 8))),   # a wrong f'''(0)
])
def test_planted_variants_refute_the_sign_proof(hooks):
    assert _fails(O.sign_obligations("dpo", **hooks)) == ["derived d = stated closed form"]


def test_exact_sign():
    assert O.exact_sign(sqrt(2) - Rational(141, 100)) == 1
    assert O.exact_sign(sqrt(3) - sqrt(2) - Rational(318, 1000)) == -1      # 0.31783...
    assert O.exact_sign((1 - sqrt(3)) / (2 + sqrt(5))) == -1
    assert O.exact_sign(sqrt(8) - 2 * sqrt(2)) == 0
    with pytest.raises(ValueError):
        O.exact_sign(sympy.pi - 3)


# --------------------------------------------------------------------------- curve, resonances, output
def test_resonances_and_the_curve():
    names = {r.name: r for r in O.RESONANCES}
    assert "alpha = 0" in names["1:4"].where and "alpha -> 1" in names["1:1"].where
    assert "nowhere" in names["1:2"].where and "nowhere" in names["1:3"].where
    nf = O.cycle_normal_form("dpo")
    assert sympy.denom(sympy.together(nf.c1)).subs(al, -Rational(1, 2)) == 0     # 1:3 at alpha = -1/2, off the curve
    b = nf.b_at(Rational(1, 2), Rational(1, 4), 1)
    assert b == Rational(2, 3) and sympy.simplify(nf.omega.subs({O.B_SCALE: b, a: Rational(1, 4), lam: 1}) ** 2 + al**2 - 1).subs(al, Rational(1, 2)) == 0
    assert "\\alpha" in nf.latex() and "\\lambda" in nf.latex()
