"""Benchmarks for DPO / MRS-DPO (run: python -m pytest tests/bench/test_bench_dpo.py -p no:randomly -n 0 --benchmark-only -s).

Targets: one MRS-DPO step at 50 digits for K = 4 in <= 100 ms; a batched float64 step fast enough for
the experiment scale (thousands of K = 4 matrices x 3,000 iterations). Every float64 step is timed
from a state that moved (the warm start is the previous state's optimum), as in a simulation; the
paper-scale grid runs (compiled and numpy kernels) are in tests/bench/test_bench_kernels.py.
"""


import time

import numpy as np
import pytest

from verify import make_batch_step, mrs_dpo_jacobian, mrs_dpo_step

P4 = [
    ["1/2", "7/10", "1/5", "3/5"],
    ["3/10", "1/2", "9/10", "2/5"],
    ["4/5", "1/10", "1/2", "11/20"],
    ["2/5", "3/5", "9/20", "1/2"],
]
PI = ["1/10", "2/10", "3/10", "4/10"]


def test_bench_mrs_dpo_step_50_digits_K4(benchmark):
    out = benchmark(mrs_dpo_step, PI, P4, "3/5", "3/2", "7/10", None, None, 50)
    assert len(out) == 4
    assert benchmark.stats.stats.mean < 0.100


def test_bench_mrs_dpo_jacobian_50_digits_K4(benchmark):
    J = benchmark(mrs_dpo_jacobian, PI, P4, "3/5", "3/2", "7/10", None, None, 50)
    assert J.rows == 4


def _random_P(rng, B, K):
    P = np.full((B, K, K), 0.5)
    iu = np.triu_indices(K, 1)
    vals = 1 / (1 + np.exp(-rng.normal(scale=1.5, size=(B, len(iu[0])))))
    P[:, iu[0], iu[1]] = vals
    P[:, iu[1], iu[0]] = 1 - vals
    return P


@pytest.mark.parametrize("B", [1000, 5000])
def test_bench_batch_step_float64_K4(benchmark, B):
    """One step from a state that moved: the warm start is the previous state's optimum, so Newton iterates.

    (Timing ``step(lp)`` twice on the same ``lp`` would find the answer already in the warm start: no
    iteration at all.) Before each timed call the step is run, untimed, on the previous state.
    """
    rng = np.random.default_rng(0)
    step = make_batch_step(_random_P(rng, B, 4), 0.5, 1.0, 0.8)
    prev = np.log(rng.dirichlet(np.ones(4), size=B))
    for _ in range(5):  # a few steps along the trajectory
        prev = step(prev)
    lp = step(prev)
    moved = np.abs(lp - prev).max()

    def setup():
        step(prev)  # the warm start becomes the optimum for `prev`, not for `lp`

    out = benchmark.pedantic(lambda: step(lp), setup=setup, rounds=7, iterations=1, warmup_rounds=1)
    assert out.shape == (B, 4) and np.all(np.isfinite(out))
    assert moved > 1e-6  # the timed call has a different answer from the warm start's
    cold = make_batch_step(_random_P(np.random.default_rng(0), B, 4), 0.5, 1.0, 0.8, warm_start=False)
    t = min(_timed(lambda: cold(lp)) for _ in range(3))
    benchmark.extra_info.update({"state_moved": float(moved), "cold_start_s": t})
    print(f"\nB = {B}: warm-started step {benchmark.stats.stats.min * 1e3:.2f} ms (the state moved by {moved:.1e}); "
          f"cold start {t * 1e3:.2f} ms")


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def test_bench_batch_trajectory_100_steps_B5000_K4(benchmark):
    """A realistic load: 100 consecutive steps (the warm start follows the trajectory)."""
    from verify.numerics.simulate import trajectory as simulate_dpo

    rng = np.random.default_rng(1)
    B = 5000
    step = make_batch_step(_random_P(rng, B, 4), 0.5, 1.0, 0.8)
    lp = np.log(rng.dirichlet(np.ones(4), size=B))
    traj = benchmark.pedantic(simulate_dpo, args=(step, lp, 100), rounds=3, iterations=1)
    assert np.all(np.isfinite(traj[-1]))


def test_bench_batch_trajectory_cold_start_B5000_K4(benchmark):
    """Without the warm start (each step solves from x = 0)."""
    from verify.numerics.simulate import trajectory as simulate_dpo

    rng = np.random.default_rng(1)
    B = 5000
    step = make_batch_step(_random_P(rng, B, 4), 0.5, 1.0, 0.8, warm_start=False)
    lp = np.log(rng.dirichlet(np.ones(4), size=B))
    traj = benchmark.pedantic(simulate_dpo, args=(step, lp, 100), rounds=3, iterations=1)
    assert np.all(np.isfinite(traj[-1]))
