"""verify.System end to end: validation, one-shot optimum, the map, its Jacobian, fixed points, LOSS-3's threshold, simulation."""

from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy

import verify
from theory.losses import BUILTIN
from verify import InputError, System
from verify.exact import families
from verify.numerics import mrs
from verify.numerics import optimum as O
from verify.numerics.precision import agree, workdps


def cyclic(a):
    return families.cyclic(Fraction(a))


P3 = [["1/2", "7/10", "1/5"], ["3/10", "1/2", "3/5"], ["4/5", "2/5", "1/2"]]


def test_exports_and_repr():
    assert verify.System is System and verify.loss("logistic").name == "dpo"
    s = System(P3, "exp", alpha="1/2", lam="7/10", pi_ref=["1/4", "1/4", "1/2"], scale="3/2")
    assert repr(s) == (
        "System(K=3, loss=exp [f(x) = exp(-x)], beta_exp=3/2, alpha=1/2, lam=7/10, pi_ref=[1/4, 1/4, 1/2], pi0=uniform)"
    )
    assert s.K == 3 and s.loss.scale == sympy.Rational(3, 2) and s.b == sympy.Rational(3, 2)
    assert System(P3).loss.name == "ipo" and System(P3, "ipo", scale=4).b == sympy.Rational(1, 2)


def test_scale_is_exact():
    assert System(P3, "dpo", scale="7/10").loss.scale == sympy.Rational(7, 10)
    assert System(P3, "dpo", scale=Fraction(2, 3)).loss.scale == sympy.Rational(2, 3)
    with workdps(50):
        v = mpmath.mpf(1) / 3
    got = System(P3, "dpo", scale=v).loss.scale  # every bit of the 50-digit mpf, not float64's 1/3
    assert abs(got - sympy.Rational(1, 3)) < sympy.Rational(1, 10**45) and got != sympy.Rational(Fraction(1 / 3))


@pytest.mark.parametrize(
    "kwargs, msg",
    [
        ({"loss": "foo"}, "unknown loss 'foo'"),
        ({"loss": "x**4 - x**2 - x"}, r"is not convex: f''\(-0.4\) = -0.08 < 0"),
        ({"alpha": 2}, r"alpha = 2 is outside \[0, 1\]"),
        ({"lam": "-1/2"}, r"lam = -1/2 is outside \[0, 1\]"),
        ({"scale": 0}, "beta = 0, expected > 0"),
        ({"pi_ref": [1, 0, 0]}, r"pi_ref\[1\] = 0"),
    ],
)
def test_bad_input_is_one_line(kwargs, msg):
    args = {"loss": "ipo", "alpha": "1/2", "lam": 1}
    args.update(kwargs)
    with pytest.raises(InputError, match=msg) as e:
        System(P3, **args)
    assert "\n" not in str(e.value)


def test_dynamics_need_alpha_and_lam():
    s = System(P3, "dpo")
    assert len(s.optimum(dps=20)) == 3
    with pytest.raises(InputError, match="need alpha and lam"):
        s.step(["1/3"] * 3)


@pytest.mark.parametrize("spec", ["ipo", "dpo", "exp", "tq", "sqrt(1 + x**2) - x"])
def test_methods_are_the_algorithm_modules(spec):
    s = System(P3, spec, alpha="3/5", lam="7/10", pi_ref=["1/4", "1/4", "1/2"], pi0=["1/5", "1/5", "3/5"], scale="3/2")
    lo = verify.loss(spec, scale="3/2")
    pi = ["1/6", "1/3", "1/2"]
    with workdps(60):
        assert all(agree(u, v, 40)[0] for u, v in zip(s.optimum(["1/2", "1/4", "1/4"], dps=40), O.optimum(P3, ["1/2", "1/4", "1/4"], lo, ["1/4", "1/4", "1/2"], dps=40)))
        step = s.step(pi, dps=40)
        ref = mrs.step(pi, P3, lo, "3/5", "7/10", ["1/4", "1/4", "1/2"], ["1/5", "1/5", "3/5"], dps=40)
        assert all(agree(u, v, 40)[0] for u, v in zip(step, ref))
    J = s.jacobian(pi, dps=30)
    assert (J.rows, J.cols) == (3, 3)
    # acting on tangent vectors: J v equals the derivative of the map along v (central differences of step)
    v = [mpmath.mpf(1), mpmath.mpf(-2), mpmath.mpf(1)]
    with workdps(80):
        h = mpmath.mpf(10) ** -25
        base = [mpmath.mpf(Fraction(p).numerator) / Fraction(p).denominator for p in pi]
        up = s.step([b + h * d for b, d in zip(base, v)], dps=70)
        dn = s.step([b - h * d for b, d in zip(base, v)], dps=70)
        for k in range(3):
            assert agree(mpmath.fsum(J[k, l] * v[l] for l in range(3)), (up[k] - dn[k]) / (2 * h), 30)[0]


def test_fixed_points_of_the_cycle():
    s = System(cyclic("3/10"), "dpo", alpha="1/2", lam=1, scale=2)
    fps = s.fixed_points(dps=30, n_random=1)
    assert len(fps) == 1 and fps[0].classification == "stable"
    with workdps(40):
        assert all(agree(p, mpmath.mpf(1) / 3, 30)[0] for p in fps[0].pi)
        # alpha ± i 4 a lam/(sqrt(3) b)
        assert agree(fps[0].spectral_radius, mpmath.sqrt(mpmath.mpf(1) / 4 + (4 * mpmath.mpf("0.3") / (mpmath.sqrt(3) * 2)) ** 2), 25)[0]


@pytest.mark.parametrize("a, alpha, lam", [("1/5", "3/5", "7/10"), ("1/2", "0", "1"), ("1/10", "9/10", "1/3"), ("3/10", "1/2", "1")])
def test_threshold_reproduces_dyn1_and_dpo4_exactly(a, alpha, lam):
    a_, al, la = (sympy.Rational(v) for v in (a, alpha, lam))
    ipo = System(cyclic(a), "ipo", alpha=alpha, lam=lam).threshold()
    assert ipo.applicable and ipo.scale_name == "beta"
    assert sympy.simplify(ipo.exact - sympy.sqrt(3) * sympy.sqrt(1 - al**2) / (a_ * la)) == 0  # DYN-1
    assert ipo.unstable_when.startswith("beta > ")
    dpo = System(cyclic(a), "dpo", alpha=alpha, lam=lam).threshold()
    assert sympy.simplify(dpo.exact - 4 * a_ * la / (sympy.sqrt(3) * sympy.sqrt(1 - al**2))) == 0  # DPO-4
    assert dpo.unstable_when.startswith("beta_dpo < ")
    user = System(cyclic(a), "log(1+exp(-x))", alpha=alpha, lam=lam).threshold()  # the logistic typed by hand
    assert sympy.simplify(user.exact - dpo.exact) == 0 and user.unstable_when.startswith("b < ")
    with workdps(40):
        assert agree(dpo.value, mpmath.mpf(sympy.N(dpo.exact, 45).__str__()), 28)[0]


@pytest.mark.parametrize("spec", ["ipo", "dpo", "exp", "tq"])
def test_threshold_is_where_the_spectral_radius_crosses_1(spec):
    """Points chosen from the formula on both sides: the uniform point's spectral radius is < 1 on the
    stable side and > 1 on the unstable side (a balanced non-circulant K = 4 matrix)."""
    P = [["1/2", "7/10", "2/5", "2/5"], ["3/10", "1/2", "7/10", "1/2"], ["3/5", "3/10", "1/2", "3/5"], ["3/5", "1/2", "2/5", "1/2"]]
    t = System(P, spec, alpha="1/2", lam="4/5").threshold()
    assert t.applicable
    unstable_side = t.unstable_when.split()[1]  # "<" or ">"
    for factor in (sympy.Rational(9, 10), sympy.Rational(11, 10)):
        s = System(P, spec, alpha="1/2", lam="4/5", scale=t.exact * factor)  # an exact irrational scale
        _, rho = s.spectrum(["1/4"] * 4, dps=20)
        unstable = (unstable_side == "<") == (factor < 1)
        assert (rho > 1) == unstable, (spec, factor, rho, t.unstable_when)


def test_threshold_not_applicable_says_why():
    def why(**kw):
        args = {"P": cyclic("1/5"), "loss": "ipo", "alpha": "1/2", "lam": 1}
        args.update(kw)
        t = System(**args).threshold()
        assert not t.applicable and t.exact is None
        return t.reason

    assert "not balanced" in why(P=P3)
    assert "pi0 = pi_ref = uniform" in why(pi0=["1/2", "1/4", "1/4"])
    assert "alpha = 1" in why(alpha=1)
    assert "stable for every scale" in why(lam=0)
    assert "linear near 0" in why(loss="hinge")


def test_hinge_one_shot_and_map_say_the_optimum_is_a_set():
    s = System(cyclic("1/5"), "slic", alpha="1/2", lam=1)
    with pytest.raises(O.NonUniqueOptimum, match="optimum is a set"):
        s.optimum()
    with pytest.raises(O.NonUniqueOptimum, match="batched solver"):
        s.step(["1/3"] * 3)


def test_simulate_ipo_oscillates_beyond_the_threshold_and_converges_below():
    P = cyclic("2/5")
    t = System(P, "ipo", alpha="9/10", lam=1).threshold()  # beta* = sqrt(3) sqrt(19/100)/(2/5) = sqrt(57)/4 = 1.89
    above = System(P, "ipo", alpha="9/10", lam=1, scale=4).simulate(600, starts=2, seed=1)
    below = System(P, "ipo", alpha="9/10", lam=1, scale=1).simulate(600, starts=2, seed=1)
    assert sympy.simplify(t.exact - sympy.sqrt(57) / 4) == 0 and 1 < float(t.value) < 4
    assert above.metrics["oscillating"].all() and below.metrics["converged"].all()
    assert above.logpi.shape == (2, 3) and above.params["beta"] == "4"
    fixed = System(P, "ipo", alpha="9/10", lam=1, scale=1).simulate(10, starts=[[0.2, 0.3, 0.5]])
    assert np.isfinite(fixed.logpi).all()


@pytest.mark.parametrize("spec", ["dpo", "slic", "exp(-x)", "tq"])
def test_simulate_every_loss_oscillates_on_the_unstable_side(spec):
    """Scales chosen from the threshold's own formula (the hinge has none: it still simulates)."""
    P = cyclic("2/5")
    t = System(P, spec, alpha="9/10", lam=1).threshold()
    if not t.applicable:
        res = System(P, spec, alpha="9/10", lam=1).simulate(200, starts=2)
        assert np.isfinite(res.logpi).all() and res.params["loss"] == verify.loss(spec).name
        return
    unstable = t.exact / 2 if t.unstable_when.split()[1] == "<" else t.exact * 2
    stable = t.exact * 2 if t.unstable_when.split()[1] == "<" else t.exact / 2
    up = System(P, spec, alpha="9/10", lam=1, scale=unstable).simulate(800, starts=2, seed=3)
    down = System(P, spec, alpha="9/10", lam=1, scale=stable).simulate(800, starts=2, seed=3)
    assert up.metrics["oscillating"].all() and down.metrics["converged"].all()


def test_every_builtin_loss_builds_a_system():
    for name in BUILTIN:
        s = System(cyclic("1/4"), name, alpha="1/2", lam=1)
        assert s.loss.name == name and repr(s).startswith("System(K=3, loss=" + name)
