"""verify.numerics.metrics: streaming metrics agree with the reference implementation on recorded trajectories."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.numerics.metrics import convergence_time, cycle_strength, entropy_from_log, oscillation, period_estimate, trajectory_metrics
from verify.numerics.batch import make_step
from verify.numerics.simulate import cyclic_matrix, make_ipo_batch_step, near_uniform_starts, random_sst_matrix, run_batch


@settings(max_examples=10)
@given(st.integers(0, 10**6), st.sampled_from([(0.9, 8.0), (0.2, 1.0), (0.6, 5.0), (1.0, 3.0)]), st.integers(0, 150), st.sampled_from(["ipo", "dpo"]))
def test_streaming_equals_reference(seed, ab, burn_in, loss):
    """Any step: the IPO closed form (which hands run_batch its policy) and the solved DPO step (which does not)."""
    rng = np.random.default_rng(seed)
    al, be = ab
    P = np.stack([cyclic_matrix(0.4), random_sst_matrix(3, rng)])
    step = make_step(P, loss, al, 1.0, scale=be if loss == "ipo" else 4.0 / be)  # the same IPO-equivalent beta
    res = run_batch(step, near_uniform_starts(2, 3, rng), 300, burn_in=burn_in, record=True, window=128)
    for b in range(2):
        ref = trajectory_metrics(res.trajectory[:, b], burn_in=burn_in, window=128)
        assert res.metrics["cycle_strength"][b] == pytest.approx(ref["cycle_strength"], rel=1e-6, abs=1e-15)
        assert res.metrics["entropy"][b] == pytest.approx(ref["entropy"], rel=1e-12, abs=1e-300)
        assert bool(res.metrics["converged"][b]) == ref["converged"]
        assert bool(res.metrics["oscillating"][b]) == ref["oscillating"]
        if ref["converged"]:
            assert res.metrics["converged_at"][b] == ref["converged_at"]
        if ref["oscillating"]:
            assert res.metrics["period"][b] == pytest.approx(ref["period"], rel=1e-9)


@pytest.mark.parametrize("period", [3.0, 7.3, 11.8, 40.0])
def test_period_estimate(period):
    t = np.arange(512)
    assert period_estimate(np.sin(2 * np.pi * t / period) + 0.1) == pytest.approx(period, rel=0.02)


def test_period_estimate_flat_is_nan():
    assert np.isnan(period_estimate(np.ones(100)))


def test_oscillation_detection_distinguishes_decay_from_cycle():
    t = np.arange(1001)[:, None]
    cyc = 1 / 3 + 0.1 * np.cos(2 * np.pi * t / 9 + np.array([0, 2, 4]) * np.pi / 3)
    dec = 1 / 3 + 0.1 * 0.97**t * np.cos(2 * np.pi * t / 9 + np.array([0, 2, 4]) * np.pi / 3)
    assert oscillation(cyc)["oscillating"] and oscillation(cyc)["period"] == pytest.approx(9, rel=0.02)
    assert not oscillation(dec)["oscillating"]


def test_cycle_strength_definition():
    x = np.array([[0.5, 0.5], [0.2, 0.8], [0.8, 0.2], [0.2, 0.8], [0.8, 0.2]])
    assert cycle_strength(x, burn_in=0) == pytest.approx(0.09)
    assert cycle_strength(x, burn_in=0, reduce="sum") == pytest.approx(0.18)
    with pytest.raises(ValueError, match="burn_in = 4 leaves no states"):
        cycle_strength(x, burn_in=4)
    with pytest.raises(ValueError, match="reduce"):
        cycle_strength(x, reduce="max")


def test_entropy_and_convergence_time():
    assert entropy_from_log(np.array([0.0, -np.inf])) == 0.0
    lt = np.log(np.array([[0.5, 0.5], [0.4, 0.6], [0.4, 0.6], [0.4, 0.6]]))
    assert convergence_time(lt, 1e-12) == 1
    lt2 = np.log(np.array([[0.5, 0.5], [0.4, 0.6], [0.5, 0.5]]))
    assert convergence_time(lt2, 1e-12) == -1


def test_burn_in_must_leave_states():
    step = make_ipo_batch_step(cyclic_matrix(0.3), 0.5, 1.0, 1.0, B=1)
    with pytest.raises(ValueError, match="burn_in = 10"):
        run_batch(step, np.zeros((1, 3)), 10, burn_in=10)
