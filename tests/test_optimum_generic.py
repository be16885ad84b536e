"""verify.numerics.optimum and verify.numerics.mrs for every loss: one test, every registered loss.

Parametrised over :data:`theory.losses.BUILTIN` and one user expression (the way pref_voting tests
every registered voting method), so a new loss is tested without a new test. Where a point optimum does
not exist (the hinge's optimum is a set), the test checks that the call says so instead of picking a point.
"""

from fractions import Fraction

import mpmath
import pytest

from theory.losses import BUILTIN
from verify.exact.objects import one_shot_data
from verify.numerics import mrs
from verify.numerics import optimum as O
from verify.numerics.bridge import loss_functions, mp_matrix, mp_vector, mpf
from verify.numerics.losses import loss
from verify.numerics.precision import agree, workdps

#: A user loss: smooth, strictly convex (sympy proves it), bounded on the right (so escaping sets matter).
USER = "sqrt(1 + x**2) - x"
SPECS = [*BUILTIN, USER]

P3 = [["1/2", "7/10", "1/5"], ["3/10", "1/2", "3/5"], ["4/5", "2/5", "1/2"]]
P4 = [
    ["1/2", "7/10", "1/5", "3/5"],
    ["3/10", "1/2", "9/10", "2/5"],
    ["4/5", "1/10", "1/2", "11/20"],
    ["2/5", "3/5", "9/20", "1/2"],
]
MU3 = ["1/5", "1/2", "3/10"]
MU4 = ["1/10", "2/5", "3/10", "1/5"]
REF3 = ["1/4", "1/4", "1/2"]


def _loss(spec, scale="7/10"):
    return loss(spec, scale=scale)


def _says_the_optimum_is_a_set(call):
    """For a piecewise-linear loss (the hinge) the one-shot optimum is a set: the call must say so, not pick a point."""
    with pytest.raises(O.NonUniqueOptimum, match="optimum is a set"):
        call()


@pytest.mark.parametrize("spec", SPECS)
def test_compiled_derivatives_are_the_derivatives_of_f(spec):
    """The bridge's f' and f'' equal mpmath.diff of its f at points away from the kinks (30 digits), and numpy agrees."""
    lo = _loss(spec)
    fns = loss_functions(lo)
    with workdps(50):
        for x in ("-3.7", "-1.2", "0.3", "0.9", "2.6", "40"):
            v = mpmath.mpf(x)
            if any(abs(v - mpmath.mpf(float(k))) < mpmath.mpf("0.05") for k in lo.kinks):
                continue
            assert agree(fns.fp(v), mpmath.diff(fns.f, v), 30)[0]
            assert agree(fns.fpp(v), mpmath.diff(fns.f, v, 2), 30)[0]
            assert abs(float(fns.fp_np(float(v))) - float(fns.fp(v))) <= 1e-12 * max(1.0, abs(float(fns.fp(v))))


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("P, mu", [(P3, MU3), (P4, MU4)])
def test_optimum_solves_stationarity_at_50_digits(spec, P, mu):
    lo = _loss(spec)
    fns = loss_functions(lo)
    if fns.piecewise_linear:
        with pytest.raises(O.NonUniqueOptimum, match="piecewise linear, so its optimum is a set"):
            O.optimum_x(P, mu, lo, dps=50)
        return
    x = O.optimum_x(P, mu, lo, dps=50)
    Pm, m, _ = one_shot_data(P, mu)
    with workdps(80):
        G = O.stationarity(mp_matrix(Pm.entries), mp_vector(m), x, fns)
        assert max(abs(g) for g in G) < mpmath.mpf(10) ** -50
        assert abs(mpmath.fsum(x)) < mpmath.mpf(10) ** -50


@pytest.mark.parametrize("spec", SPECS)
def test_direct_minimiser_agrees_to_50_digits(spec):
    lo = _loss(spec)
    if loss_functions(lo).piecewise_linear:
        _says_the_optimum_is_a_set(lambda: O.optimum(P3, MU3, lo, REF3, dps=50))
        _says_the_optimum_is_a_set(lambda: O.minimise(P3, MU3, lo, REF3, dps=50))
        return
    a = O.optimum(P3, MU3, lo, REF3, dps=50)
    b = O.minimise(P3, MU3, lo, REF3, dps=50)
    with workdps(70):
        assert all(agree(u, v, 50)[0] for u, v in zip(a, b))


def test_ipo_equals_the_closed_form():
    from verify import ipo_optimum

    for beta in ("7/10", 3, "1/1000"):
        a = O.optimum(P4, MU4, loss("ipo", scale=beta), dps=50)
        b = ipo_optimum(P4, MU4, None, beta, dps=50)
        with workdps(70):
            assert all(agree(u, v, 50)[0] for u, v in zip(a, b))


def test_dpo_equals_dpo_optimum_and_the_user_logistic():
    from verify import dpo_optimum

    a = O.optimum(P4, MU4, loss("dpo", scale="3/2"), dps=50)
    b = dpo_optimum(P4, MU4, None, "3/2", dps=50)
    c = O.optimum(P4, MU4, loss("log(1+exp(-x))", scale="3/2"), dps=50)
    with workdps(70):
        assert all(agree(u, v, 50)[0] and agree(u, w, 50)[0] for u, v, w in zip(a, b, c))


@pytest.mark.parametrize("spec", SPECS)
def test_jacobian_agrees_with_finite_differences_of_the_step(spec):
    lo = _loss(spec)
    args = (P3, lo, "3/5", "7/10", REF3, ["1/5", "1/5", "3/5"])
    pi = ["1/6", "1/3", "1/2"]
    if lo.not_smooth_at_0 is not None:  # the hinge: the map has no Jacobian, and says why
        _says_the_optimum_is_a_set(lambda: mrs.jacobian(pi, *args, dps=30))
        return
    J = mrs.jacobian(pi, *args, dps=30)
    FD = mrs.finite_difference_jacobian(pi, *args, dps=30)
    with workdps(60):
        B, L = mrs.tangent_basis(3), mrs.tangent_left_inverse(3)
        JT, FT = L * J * B, L * FD * B
        assert all(agree(JT[i, j], FT[i, j], 30)[0] for i in range(2) for j in range(2))
        assert all(abs(mpmath.fsum(J[k, l] for k in range(3))) < mpmath.mpf(10) ** -40 for l in range(3))


@pytest.mark.parametrize("spec", ["ipo", "dpo", USER])
def test_planted_wrong_jacobian_is_caught(spec, monkeypatch):
    """The same comparison refutes a Jacobian with lam/b replaced by 2 lam/b (X doubled in the chain rule)."""
    lo = _loss(spec)
    args = (P3, lo, "3/5", "7/10", REF3, None)
    pi = ["1/6", "1/3", "1/2"]
    FD = mrs.finite_difference_jacobian(pi, *args, dps=20)
    real = mrs.sensitivity_x
    monkeypatch.setattr(mrs, "sensitivity_x", lambda *a: 2 * real(*a))
    J = mrs.jacobian(pi, *args, dps=20)
    with workdps(40):
        B, L = mrs.tangent_basis(3), mrs.tangent_left_inverse(3)
        JT, FT = L * J * B, L * FD * B
        assert not all(agree(JT[i, j], FT[i, j], 20)[0] for i in range(2) for j in range(2))


@pytest.mark.parametrize("spec", SPECS)
def test_sensitivity_matches_finite_differences_of_the_optimum(spec):
    lo = _loss(spec)
    if loss_functions(lo).piecewise_linear:
        _says_the_optimum_is_a_set(lambda: O.sensitivity(P3, MU3, lo, dps=30))
        return
    X = O.sensitivity(P3, MU3, lo, dps=30)
    h = Fraction(1, 10**12)
    mu = [Fraction(m) for m in MU3]
    for j in range(2):  # the tangent direction e_j - e_2
        up = [m + (h if k == j else -h if k == 2 else 0) for k, m in enumerate(mu)]
        dn = [m - (h if k == j else -h if k == 2 else 0) for k, m in enumerate(mu)]
        xu, xd = O.optimum_x(P3, up, lo, dps=40), O.optimum_x(P3, dn, lo, dps=40)
        with workdps(60):
            for k in range(3):
                fd = (xu[k] - xd[k]) / (2 * mpf(h))
                assert agree(X[k, j] - X[k, 2], fd, 18)[0]


@pytest.mark.parametrize("spec", SPECS)
def test_existence_escaping_set(spec):
    """LOSS-1: an escaping set blocks a bounded optimum exactly when f is bounded on the right (not IPO)."""
    lo = _loss(spec)
    P = [["1/2", "3/5", "1"], ["2/5", "1/2", "1"], ["0", "0", "1/2"]]  # {0, 1} beat 2 surely
    fns = loss_functions(lo)
    if fns.piecewise_linear:
        _says_the_optimum_is_a_set(lambda: O.optimum_x(P, ["1/3"] * 3, lo, dps=20))
        return
    if fns.slope_right > 0:  # f -> oo on both sides (IPO, a linear growth such as log cosh): an optimum always exists
        x = O.optimum_x(P, ["1/3"] * 3, lo, dps=20)
        assert all(mpmath.isfinite(v) for v in x)
    else:
        with pytest.raises(O.NoOptimum, match=r"responses \[0, 1\] beat \[2\] with probability 1") as e:
            O.optimum_x(P, ["1/3"] * 3, lo, dps=20)
        assert e.value.escaping == [0, 1]


def test_boundary_sampler_is_not_unique_for_every_loss():
    for spec in SPECS:
        with pytest.raises(O.NonUniqueOptimum, match=r"mu\[2\] = 0"):
            O.optimum(P3, ["1/2", "1/2", "0"], spec, dps=20)


def test_tiny_entries_in_log_space():
    """Entries 1e-300 away from 0/1: every smooth loss's optimum stays finite and stationary."""
    tiny = Fraction(1, 10**300)
    P = [[Fraction(1, 2), tiny, Fraction(2, 5)], [1 - tiny, Fraction(1, 2), Fraction(3, 5)], [Fraction(3, 5), Fraction(2, 5), Fraction(1, 2)]]
    for spec in ("dpo", "exp", "tq", USER):
        lo = loss(spec)
        x = O.optimum_x(P, MU3, lo, dps=30)
        with workdps(60):
            G = O.stationarity(mp_matrix(P), mp_vector([Fraction(m) for m in MU3]), x, loss_functions(lo))
            assert max(abs(g) for g in G) < mpmath.mpf(10) ** -30


def test_loss_values_only_in_minimise(monkeypatch):
    import dataclasses

    from verify.numerics import bridge

    def forbidden(*a, **k):
        raise AssertionError("minimise must use loss values only")

    for name in ("stationarity", "solve", "stationarity_jacobian", "ift_matrices", "loss_x", "data_start", "link"):
        monkeypatch.setattr(O, name, forbidden)
    real = bridge.loss_functions
    monkeypatch.setattr(bridge, "loss_functions", lambda lo: dataclasses.replace(real(lo), fp=forbidden, fpp=forbidden))
    pi = O.minimise(P3, MU3, loss("exp"), dps=20)
    assert len(pi) == 3


def test_truncated_quadratic_beyond_the_kink():
    """tq is IPO while every margin is below 1; here one margin exceeds 1, so the semismooth Newton
    step meets the kink: the optimum differs from IPO's, the direct minimiser agrees, and the
    Jacobian still matches finite differences of the map."""
    P = [["1/2", "19/20", "1/20", "19/20"], ["1/20", "1/2", "19/20", "19/20"], ["19/20", "1/20", "1/2", "19/20"], ["1/20", "1/20", "1/20", "1/2"]]
    mu = ["1/10", "1/5", "3/10", "2/5"]
    x = O.optimum_x(P, mu, "tq", dps=40)
    y = O.optimum_x(P, mu, "ipo", dps=40)
    with workdps(60):
        assert max(x) - min(x) > 1 and not agree(x[1], y[1], 5)[0]
    a, b = O.optimum(P, mu, "tq", dps=40), O.minimise(P, mu, "tq", dps=40)
    with workdps(60):
        assert all(agree(u, v, 40)[0] for u, v in zip(a, b))
    J = mrs.jacobian(mu, P, "tq", "1/2", 1, dps=25)
    FD = mrs.finite_difference_jacobian(mu, P, "tq", "1/2", 1, dps=25)
    with workdps(50):
        B, L = mrs.tangent_basis(4), mrs.tangent_left_inverse(4)
        JT, FT = L * J * B, L * FD * B
        assert all(agree(JT[i, j], FT[i, j], 25)[0] for i in range(3) for j in range(3))
