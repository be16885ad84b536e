"""High-precision IPO optimum: closed form vs direct minimisation, degenerate samplers, extremes."""

from fractions import Fraction

import mpmath
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from verify import InputError, NonUniqueOptimum, ipo_minimise, ipo_optimum
from verify.claims.ipo import check_nonunique, check_numeric, exact_loss
from verify.exact.objects import load_preference_matrix
from verify.numerics.precision import agree, workdps
from verify.engine.registry import CheckContext
from verify.engine.strategies import preference_matrices, simplex_points


@given(
    preference_matrices(K=st.integers(2, 8), exact=True),
    st.data(),
    st.fractions(Fraction(1, 100), Fraction(40), max_denominator=100),
)
@example([[Fraction(1, 2), Fraction(1)], [Fraction(0), Fraction(1, 2)]], None, Fraction(40))
def test_closed_form_equals_direct_minimiser_to_50_digits(P, data, beta):
    K = len(P)
    if data is None:
        mu, ref = (Fraction(1, 2),) * 2, None
    else:
        mu = data.draw(simplex_points(K=K, exact=True))
        ref = data.draw(simplex_points(K=K, exact=True))
    a = ipo_optimum(P, mu, ref, beta, dps=50)
    b = ipo_minimise(P, mu, ref, beta, dps=50)
    with workdps(70):
        assert all(agree(x, y, 50)[0] for x, y in zip(a, b))
        assert agree(mpmath.fsum(a), 1, 50)[0]


def test_known_value_k2():
    # pi*_0 / pi*_1 = exp(beta (P mu)_0 - beta (P mu)_1) = exp(0.3) for P01 = 0.8, mu uniform
    pi = ipo_optimum([[0.5, 0.8], [0.2, 0.5]], [0.5, 0.5], dps=40)
    with workdps(60):
        assert agree(pi[0] / pi[1], mpmath.exp(mpmath.mpf(3) / 10), 40)[0]


def test_large_beta_and_tiny_reference_do_not_overflow():
    P = [[0.5, 1, 1], [0, 0.5, 1], [0, 0, 0.5]]
    tiny = Fraction(1, 10**300)
    pi = ipo_optimum(P, [0.2, 0.3, 0.5], pi_ref=[tiny, (1 - tiny) / 2, (1 - tiny) / 2], beta=10**4, dps=30)
    assert all(mpmath.isfinite(x) and x >= 0 for x in pi)
    with workdps(40):
        assert agree(mpmath.fsum(pi), 1, 30)[0]
        # log pi_0 - log pi_1 = log(1e-300/0.5) + 1e4 * ((P mu)_0 - (P mu)_1) = -690.09 + 1e4 * 0.25
        expected = mpmath.log(mpmath.mpf("1e-300") / ((1 - mpmath.mpf("1e-300")) / 2)) + 10**4 * mpmath.mpf("0.25")
        assert agree(mpmath.log(pi[0]) - mpmath.log(pi[1]), expected, 25)[0]


def test_degenerate_sampler_is_reported_not_picked():
    with pytest.raises(NonUniqueOptimum, match=r"mu\[2\] = 0.*support \{0, 1\}"):
        ipo_optimum([[0.5, 0.6, 0.7], [0.4, 0.5, 0.6], [0.3, 0.4, 0.5]], [0.5, 0.5, 0])
    with pytest.raises(NonUniqueOptimum, match="every policy is optimal"):
        ipo_minimise([[0.5, 0.6, 0.7], [0.4, 0.5, 0.6], [0.3, 0.4, 0.5]], [1, 0, 0])


def test_exact_loss_ignores_unsampled_response():
    P = load_preference_matrix([["1/2", "3/4", "1/5"], ["1/4", "1/2", "9/10"], ["4/5", "1/10", "1/2"]])
    mu = [Fraction(1, 3), Fraction(2, 3), Fraction(0)]
    r = [Fraction(1), Fraction(-2), Fraction(5)]
    assert exact_loss(P, mu, Fraction(2), r) == exact_loss(P, mu, Fraction(2), r[:2] + [Fraction(-77)])
    assert exact_loss(P, mu, Fraction(2), r) != exact_loss(P, mu, Fraction(2), [Fraction(9)] + r[1:])


def test_bad_input_to_the_api():
    with pytest.raises(InputError, match=r"beta = 0, expected > 0"):
        ipo_optimum([[0.5, 0.5], [0.5, 0.5]], [0.5, 0.5], beta=0)
    with pytest.raises(InputError, match=r"mu has 3 entries, expected K = 2"):
        ipo_optimum([[0.5, 0.5], [0.5, 0.5]], [0.2, 0.3, 0.5])
    with pytest.raises(InputError, match=r"pi_ref\[0\] = 0, expected > 0"):
        ipo_optimum([[0.5, 0.5], [0.5, 0.5]], [0.5, 0.5], pi_ref=[0, 1])


def test_checkers_pass_and_fail_on_planted_variants():
    ctx = CheckContext(seed=1, claim_id="IPO-1")
    assert check_numeric(ctx).verdict == "verified"
    bad = check_numeric(ctx, beta_factor=Fraction(1, 2))
    assert bad.verdict == "refuted" and "mu" in bad.counterexample.instance
    assert check_nonunique(ctx).verdict == "proved"
    assert check_nonunique(ctx, zero_mass=False).verdict == "refuted"
