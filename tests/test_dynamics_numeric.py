"""verify.numerics.mrs_ipo (mpmath) and verify.numerics.simulate (batched float64): agreement, extremes, bad input."""

from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from verify import InputError, fixed_points, mrs_ipo_jacobian, mrs_ipo_step
from verify.numerics import mrs_ipo as dyn
from verify.numerics.precision import agree, workdps
from verify.numerics.simulate import cyclic_matrix, make_ipo_batch_step, near_uniform_starts, normalise_log, random_sst_matrix, run_batch
from verify.engine.strategies import preference_matrices, simplex_points

params_st = st.tuples(st.floats(0, 1), st.floats(0.05, 50), st.floats(0, 1))


@settings(max_examples=15)
@given(preference_matrices(K=st.integers(2, 5), exact=True), st.data(), params_st)
@example(P=[[Fraction(1, 2), Fraction(9, 10)], [Fraction(1, 10), Fraction(1, 2)]], data=None, prm=(0.0, 1.0, 0.0))
def test_jacobian_matches_mpmath_diff_at_random_interior_points(P, data, prm):
    K = len(P)
    if data is None:
        pi, ref, p0 = [Fraction(1, 4), Fraction(3, 4)], None, None
    else:
        pi = data.draw(simplex_points(K=K))
        ref = data.draw(simplex_points(K=K))
        p0 = data.draw(simplex_points(K=K))
    al, be, la = (Fraction(x).limit_denominator(1000) for x in prm)
    be = max(be, Fraction(1, 20))
    with workdps(70):
        J = mrs_ipo_jacobian(pi, P, al, be, la, ref, p0, dps=50)
        base = [mpmath.mpf(x.numerator) / x.denominator for x in pi]
        for j in range(K):
            for i in range(K):
                def f(t):
                    p = list(base)
                    p[j] += t
                    s = sum(p)
                    # the ambient map: evaluate the formula at the (unnormalised) point
                    pr = dyn.params(P, al, be, la, ref, p0)
                    z = dyn.logits([mpmath.log(x) for x in p], pr)
                    c = dyn.logsumexp(z)
                    return mpmath.exp(z[i] - c) + 0 * s

                assert agree(mpmath.diff(f, 0), J[i, j], 50)[0]


def test_tangent_finite_differences_match_tangent_jacobian():
    P = [["1/2", "0.7", "0.2"], ["0.3", "1/2", "0.6"], ["0.8", "0.4", "1/2"]]
    pi = ["0.2", "0.3", "0.5"]
    with workdps(80):
        JT = dyn.tangent_jacobian(pi, P, "0.6", 3, "0.7", dps=60)
        h = mpmath.mpf(10) ** -30
        for j in range(2):
            plus = [mpmath.mpf(x) for x in pi]
            minus = list(plus)
            plus[j] += h
            plus[2] -= h
            minus[j] -= h
            minus[2] += h
            Fp = mrs_ipo_step(plus, P, "0.6", 3, "0.7", dps=70)
            Fm = mrs_ipo_step(minus, P, "0.6", 3, "0.7", dps=70)
            for i in range(2):
                assert agree((Fp[i] - Fm[i]) / (2 * h), JT[i, j], 50)[0]


@settings(max_examples=20)
@given(st.integers(0, 2**32 - 1), st.integers(2, 6))
def test_batched_step_matches_mpmath_step(seed, K):
    rng = np.random.default_rng(seed)
    B = 4
    P = np.stack([np.array(_rand_P(K, rng), dtype=float) for _ in range(B)])
    al, be, la = rng.uniform(0, 1, B), rng.uniform(0.1, 30, B), rng.uniform(0, 1, B)
    ref, p0 = rng.dirichlet(np.ones(K), B), rng.dirichlet(np.ones(K), B)
    lp = normalise_log(rng.normal(0, 2, (B, K)))
    step = make_ipo_batch_step(P, al, be, la, ref, p0)
    out = np.asarray(step(np.asfortranarray(lp)))
    for b in range(B):
        m = dyn.mrs_ipo_step_log(list(lp[b]), P[b].tolist(), al[b], be[b], la[b], list(ref[b]), list(p0[b]), dps=30)
        assert np.allclose(out[b], [float(x) for x in m], rtol=1e-10, atol=1e-10)


def _rand_P(K, rng):
    P = np.full((K, K), 0.5)
    for i in range(K):
        for j in range(i + 1, K):
            P[i, j] = round(rng.uniform(0, 1), 3)
            P[j, i] = 1 - P[i, j]
    return P


def test_extremes_no_overflow_nan_or_silent_zero():
    P = cyclic_matrix(0.5)
    # beta = 1e4 and probabilities down to 1e-300, in mpmath
    pi = ["1e-300", "1e-300", str(Fraction(1) - 2 * Fraction(10) ** -300)]
    out = mrs_ipo_step(pi, P.tolist(), "1", 10000, 1, dps=30)
    assert all(x > 0 for x in out) and abs(mpmath.fsum(out) - 1) < mpmath.mpf(10) ** -30
    assert mpmath.log(out[0]) < -600
    # float64: log space stays finite for 3000 steps at beta = 1e4
    step = make_ipo_batch_step(P, 1.0, 1e4, 1.0, B=2)
    lp0 = np.log(np.array([[1e-300, 1e-300, 1.0], [0.2, 0.3, 0.5]]))
    res = run_batch(step, lp0, 3000, record=False)
    assert np.isfinite(res.logpi).all()
    assert np.isfinite(res.metrics["entropy"]).all() and np.isfinite(res.metrics["cycle_strength"]).all()
    assert res.logpi.min() < -700  # far below float64's smallest probability, still finite


def test_fixed_points_three_cycle_and_classification():
    P = [["1/2", "9/10", "1/10"], ["1/10", "1/2", "9/10"], ["9/10", "1/10", "1/2"]]
    stable = fixed_points(P, "0.5", 1, 1, dps=30)
    unstable = fixed_points(P, "0.9", 8, 1, dps=30)
    assert len(stable) == len(unstable) == 1
    assert stable[0].classification == "stable" and unstable[0].classification == "unstable"
    with workdps(40):
        assert agree(unstable[0].spectral_radius, mpmath.sqrt(mpmath.mpf("0.81") + mpmath.mpf("0.16") * 64 / 3), 25)[0]
    assert dyn.classify(mpmath.mpf(1), 10) == "neutral"


def test_fixed_point_sst_is_unique_and_concentrated():
    P = random_sst_matrix(4, np.random.default_rng(3)).tolist()
    fps = fixed_points(P, "0.5", 20, 1, dps=30)
    assert len(fps) == 1
    assert fps[0].pi[0] > 0.9


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"alpha": "1.5"}, "alpha = 3/2 is outside [0, 1]"),
        ({"beta": 0}, "beta = 0, expected > 0"),
        ({"lam": -1}, "lambda = -1 is outside [0, 1]"),
        ({"pi_ref": [1, 0, 0]}, "pi_ref[1] = 0, expected > 0"),
    ],
)
def test_bad_parameters_name_the_entry(kwargs, message):
    args = {"alpha": "0.5", "beta": 1, "lam": 1}
    args.update(kwargs)
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        mrs_ipo_step(["1/3"] * 3, cyclic_matrix(0.2).tolist(), args["alpha"], args["beta"], args["lam"], pi_ref=args.get("pi_ref"))


def test_bad_policy_names_the_entry():
    with pytest.raises(InputError, match=r"pi\[2\] = 0(\.0)?, expected > 0"):
        mrs_ipo_step([0.5, 0.5, 0], cyclic_matrix(0.2).tolist(), 0.5, 1, 1)
    with pytest.raises(InputError, match="pi has 2 entries, expected K = 3"):
        mrs_ipo_jacobian([0.5, 0.5], cyclic_matrix(0.2).tolist(), 0.5, 1, 1)
    with pytest.raises(InputError, match=r"P\[0,1\] \+ P\[1,0\]"):
        mrs_ipo_step([0.5, 0.5], [[0.5, 0.9], [0.9, 0.5]], 0.5, 1, 1)


def test_run_batch_rejects_bad_start_and_shapes():
    step = make_ipo_batch_step(cyclic_matrix(0.3), 0.5, 1.0, 1.0, B=1)
    with pytest.raises(ValueError, match="non-finite"):
        run_batch(step, np.array([[0.0, -np.inf, 0.0]]), 10)
    with pytest.raises(ValueError, match="steps = 0"):
        run_batch(step, np.zeros((1, 3)), 0)
    with pytest.raises(ValueError, match="alpha has shape"):
        make_ipo_batch_step(np.stack([cyclic_matrix(0.3)] * 2), np.zeros(3), 1.0, 1.0)


def test_run_batch_is_generic_in_the_step():
    calls = []

    def identity(lp):
        calls.append(lp.shape)
        return lp

    res = run_batch(identity, np.log(np.array([[0.2, 0.8], [0.5, 0.5]])), 20, burn_in=5)
    assert len(calls) == 20 and calls[0] == (2, 2)
    assert res.metrics["converged"].all() and (res.metrics["converged_at"] == 0).all()
    assert np.allclose(res.metrics["cycle_strength"], 0)


def test_three_cycle_oscillates_and_converges_in_simulation():
    from verify.numerics.simulate import simulate

    osc = simulate(cyclic_matrix(0.4), 0.9, 8, 1, steps=1500)
    conv = simulate(cyclic_matrix(0.4), 0.2, 1, 1, steps=1500)
    assert osc.metrics["oscillating"][0] and osc.metrics["cycle_strength"][0] > 0.01
    assert conv.metrics["converged"][0] and np.allclose(conv.pi, 1 / 3)


def test_batched_parameter_settings_and_near_uniform_starts():
    rng = np.random.default_rng(0)
    lp = near_uniform_starts(5, 4, rng)
    assert np.allclose(np.exp(lp).sum(axis=1), 1)
    step = make_ipo_batch_step(random_sst_matrix(4, rng), np.linspace(0, 0.9, 5), np.linspace(1, 5, 5), 0.5, B=5)
    res = run_batch(step, lp, 200)
    assert res.logpi.shape == (5, 4)


def test_public_api_simulate_is_a_function():
    import verify
    import verify.numerics.simulate as simmod

    assert verify.simulate is simmod.simulate
    res = verify.simulate(cyclic_matrix(0.4), 0.2, 1.0, 1.0, steps=200)
    assert res.metrics["converged"][0]
    assert simmod.run_batch is verify.run_batch


def test_phase_fixed_points_on_a_larger_grid():
    """Regression: one failing member of the batched Newton solve must not spoil the whole grid."""
    from verify.numerics.phase import phase_diagram

    P = np.array([[0.5, 0.8, 0.3, 0.6], [0.2, 0.5, 0.9, 0.55], [0.7, 0.1, 0.5, 0.65], [0.4, 0.45, 0.35, 0.5]])
    d = phase_diagram(P, np.linspace(0, 1, 12), np.linspace(0, 12, 12), steps=600)
    inner = d.alphas[:, None] < 1
    assert (d.n_fixed_points[np.broadcast_to(inner, d.regions.shape)] == 1).all()
    assert d.counts()["cycle"] > 30 and d.counts()["stable"] > 30


def test_simulate_several_starts_per_setting():
    import verify

    r = verify.simulate(np.stack([cyclic_matrix(0.4)] * 2), np.array([0.9, 0.2]), np.array([8.0, 1.0]), 1.0, steps=800, n_starts=3)
    assert r.metrics["oscillating"].tolist() == [True] * 3 + [False] * 3
    assert r.metrics["converged"].tolist() == [False] * 3 + [True] * 3
