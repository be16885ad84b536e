"""The numeric Neimark–Sacker coefficient (verify/numerics/normal_form.py) and the invariant-circle
evidence (verify/numerics/invariant_circle.py): known values, planted wrong predictions, cheap budgets."""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from verify.exact.objects import InputError
from verify.numerics.invariant_circle import TOL_RATIO, circle_evidence, circle_run
from verify.numerics.normal_form import first_lyapunov, lyapunov_numeric, map_in_chart, taylor_numeric, threshold_b
from verify.numerics.precision import workdps

DPS = 15


def _hand_ipo(alpha: Fraction) -> mpmath.mpf:
    """The hand value of the shared conventions: d = -(1 - alpha^2)/8 on the DYN-1 curve."""
    v = -(1 - alpha**2) / 8
    return mpmath.mpf(v.numerator) / v.denominator


# ----------------------------------------------------------------------------- the formula on known maps


def _conjugated_normal_form(lam: complex, c: complex, beta: tuple):
    """``F = H o G o H^-1`` with ``G(w) = lam w + c w|w|^2`` and ``H(w) = w + b20 w^2 + b11 w wbar + b02 wbar^2``
    in the coordinates ``l = (Re w, Im w)``: quadratic and cubic terms, and (since ``DH(0) = I`` and ``H`` has
    no cubic part) the normal-form coefficient ``c1 = 2 c`` in the normalisation ``<q, q> = 1``."""
    b20, b11, b02 = (mpmath.mpc(*x) for x in beta)
    lam, c = mpmath.mpc(lam), mpmath.mpc(c)

    def H(w):
        return w + b20 * w * w + b11 * w * mpmath.conj(w) + b02 * mpmath.conj(w) ** 2

    def F(l):
        y = mpmath.mpc(l[0], l[1])
        w = y
        for _ in range(400):  # H^-1 by fixed-point iteration (a contraction for tiny |y|)
            w_new = y - (H(w) - w)
            if abs(w_new - w) <= mpmath.mpf(2) ** (-mpmath.mp.prec + 4) * max(abs(y), mpmath.mpf(2) ** -1000):
                w = w_new
                break
            w = w_new
        g = lam * w + c * w * abs(w) ** 2
        z = H(g)
        return (z.real, z.imag)

    return F


@pytest.mark.parametrize("modulus", ["1", "0.9"])
def test_first_lyapunov_recovers_a_planted_normal_form(modulus):
    with workdps(80):
        lam = mpmath.mpf(modulus) * mpmath.expjpi(mpmath.mpf(2) / 7)
        c = mpmath.mpc("-0.3", "0.7")
        F = _conjugated_normal_form(lam, c, (("0.4", "-0.2"), ("-0.5", "0.3"), ("0.25", "0.6")))
        T = taylor_numeric(F, 10)
        ed = first_lyapunov(*T)
        assert abs(ed.eigenvalue - lam) < mpmath.mpf(10) ** -10
        assert abs(ed.c1 - 2 * c) < mpmath.mpf(10) ** -9
        assert abs(ed.d - (mpmath.expj(-ed.theta) * 2 * c).real) < mpmath.mpf(10) ** -9
        # each of the three parts matters: dropping one (or halving it) is caught at this tolerance
        for t in ed.terms:
            assert abs(t) > mpmath.mpf(10) ** -2
            assert abs(ed.c1 - t / 2 - 2 * c) > mpmath.mpf(10) ** -3
        # normalisation of the shared conventions
        q, p = ed.q, ed.p
        assert abs(mpmath.fsum(mpmath.conj(x) * x for x in q) - 1) < mpmath.mpf(10) ** -60
        assert abs(mpmath.fsum(mpmath.conj(x) * y for x, y in zip(p, q)) - 1) < mpmath.mpf(10) ** -60


def test_taylor_numeric_refuses_a_map_of_too_few_digits():
    F = map_in_chart("ipo", "1/2", "1/4", 1, threshold_b("ipo", "1/2", "1/4", 1), dps=20)
    with pytest.raises(InputError, match="digits"):
        taylor_numeric(F, 15)


# ----------------------------------------------------------------------------- the MRS maps


@pytest.mark.parametrize("alpha", [Fraction(1, 5), Fraction(1, 2), Fraction(4, 5)])
def test_ipo_matches_the_hand_value(alpha):
    res = lyapunov_numeric("ipo", alpha, Fraction(1, 4), Fraction(3, 4), dps=DPS)
    hand = _hand_ipo(alpha)
    tol = mpmath.mpf(10) ** -DPS
    assert res.verified and res.error <= tol
    assert abs(res.r - 1) <= tol                                   # on the DYN-1 curve
    assert abs(res.theta - mpmath.acos(mpmath.mpf(alpha.numerator) / alpha.denominator)) <= tol
    assert abs(res.d - hand) <= tol and res.kind == "supercritical"
    for f in (Fraction(3, 4), Fraction(5, 4), Fraction(2)):       # a planted factor on the hand value is caught
        assert abs(res.d - hand * mpmath.mpf(f.numerator) / f.denominator) > 10**6 * tol


def test_dpo_point_with_its_error_estimate():
    tol = mpmath.mpf(10) ** -10
    res = lyapunov_numeric("dpo", "1/2", "1/4", 1, dps=10)
    assert res.verified and 0 < res.error <= tol
    assert abs(res.d + mpmath.mpf(1) / 16) <= tol                 # -(1 - alpha^2)/8 (1 - 16 a^2 lam^2/3) = -1/16
    # the same product a lam, another split: the same d; another product: another d
    same = lyapunov_numeric("dpo", "1/2", "1/2", "1/2", dps=10)
    assert abs(same.d - res.d) <= tol
    # a lam > sqrt(3)/4: subcritical (d = +(1 - alpha^2)/24 at a = 1/2, lam = 1)
    sub = lyapunov_numeric("dpo", "1/2", "1/2", 1, dps=10)
    assert sub.kind == "subcritical" and abs(sub.d - mpmath.mpf(1) / 32) <= tol
    # a user expression of the logistic loss is the same map
    user = lyapunov_numeric("log(1+exp(-x))", "1/2", "1/4", 1, dps=10)
    assert abs(user.d - res.d) <= tol


def test_off_curve_and_resonance():
    b = threshold_b("ipo", "1/2", "1/4", 1)
    off = lyapunov_numeric("ipo", "1/2", "1/4", 1, b * Fraction(11, 10), dps=DPS)   # smaller gain: inside
    assert not off.on_curve and off.r < 1 and off.resonance is None
    res0 = lyapunov_numeric("ipo", 0, "1/4", 1, dps=DPS)
    assert res0.resonance == "1:4 (theta = pi/2)"


def test_bad_input():
    with pytest.raises(InputError, match="not twice differentiable"):
        lyapunov_numeric("slic", "1/2", "1/4", 1)
    with pytest.raises(InputError, match="alpha = 1"):
        lyapunov_numeric("ipo", 1, "1/4", 1)
    with pytest.raises(InputError, match="a = 3/4"):
        lyapunov_numeric("ipo", "1/2", "3/4", 1)
    with pytest.raises(InputError, match="d_pred"):
        circle_evidence("ipo", "1/2", "1/4", 1, d_pred=0)


# ----------------------------------------------------------------------------- the invariant circle


D_IPO = float(_hand_ipo(Fraction(1, 2)))


def test_circle_evidence_passes_with_the_true_coefficient():
    ev = circle_evidence("ipo", "1/2", "1/4", 1, d_pred=D_IPO)
    assert ev.passed, ev.verdict
    assert abs(ev.ratio0 - 1) < TOL_RATIO / 5
    assert abs(ev.rotation0 - 1 / 6) < 1e-4                       # theta = pi/3
    assert all(r.mu > 0 and 0.9 < r.ratio < 1.1 for r in ev.rows)
    (row,) = ev.before
    assert row.converged and abs(math.log(row.rate) / math.log(row.r) - 1) < 0.01


@pytest.mark.parametrize("factor", [0.75, 1.25, 2.0])
def test_circle_evidence_refutes_a_planted_factor(factor):
    ev = circle_evidence("ipo", "1/2", "1/4", 1, d_pred=D_IPO * factor, before=False)
    assert not ev.radius_ok and ev.rotation_ok
    assert abs(ev.ratio0 - factor) < 0.02                          # the planted factor is measured


def test_rotation_number_catches_a_wrong_theta():
    ev = circle_evidence("ipo", "1/2", "1/4", 1, d_pred=D_IPO, theta_pred=math.acos(0.5 * 5 / 4), before=False)
    assert ev.radius_ok and not ev.rotation_ok and not ev.passed


def test_subcritical_dpo_inside_converges_outside_leaves():
    """DPO at a lam = 1/2 > sqrt(3)/4 (d = 1/32): before the threshold the unstable circle |w|^2 = -mu/d separates."""
    b = float(threshold_b("dpo", "1/2", "1/2", 1)) / (1 - 0.01)
    inside = circle_run("dpo", "1/2", "1/2", 1, b, steps=1, start=0)
    s = -inside["mu"] / (1 / 32)
    phase = np.exp(0.7j)
    inside = circle_run("dpo", "1/2", "1/2", 1, b, steps=900, start=math.sqrt(0.4 * s) * phase)
    outside = circle_run("dpo", "1/2", "1/2", 1, b, steps=900, start=math.sqrt(2.5 * s) * phase, stop_above=4 * s)
    assert abs(inside["w"][-1]) ** 2 < 0.1 * 0.4 * s
    assert outside["steps"] < 900 and abs(outside["w"][-1]) ** 2 > 4 * s
