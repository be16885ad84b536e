"""Benchmarks of the batched MRS-IPO simulator (pytest-benchmark; not part of the CI run).

Run: ``python -m pytest tests/bench/test_bench_dynamics.py -p no:randomly -n 0 --benchmark-only``

* the paper's scale: 5,042 matrices with K = 4 (118 cyclic + 4,924 SST in the paper; here seeded
  random 3-cycle-containing and SST matrices), 3,000 steps each, with every metric — target <= 1 s
  on one core;
* a plain per-matrix Python loop (numpy on one K-vector per step, metrics in Python) measured on a
  subset in the same run and scaled per matrix — target speed-up >= 100x;
* growth with K (4, 16, 64) and with the number of parameter settings.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy is imported: one BLAS thread
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from verify.exact.families import random_sst_float  # noqa: E402
from verify.numerics.batch import make_step  # noqa: E402
from verify.numerics.simulate import near_uniform_starts, run_batch  # noqa: E402


def _ipo_step(P, alpha, beta, lam):
    """The batched MRS-IPO step (the closed form of the quadratic loss): ``make_step`` with ``scale = beta``."""
    return make_step(P, "ipo", alpha, lam, scale=beta)


B_PAPER, K_PAPER, STEPS = 5042, 4, 3000
RESULTS: dict = {}


def _paper_batch(seed=0):
    rng = np.random.default_rng(seed)
    P = random_sst_float(rng, K_PAPER, B_PAPER)
    # 118 matrices with a majority 3-cycle among responses 0, 1, 2
    for b in range(118):
        x = rng.uniform(0.55, 0.95, 3)
        for (i, j), v in zip(((0, 1), (1, 2), (2, 0)), x):
            P[b, i, j], P[b, j, i] = v, 1 - v
    return P, near_uniform_starts(B_PAPER, K_PAPER, rng)


def _plain_loop(P, lp0, alpha, beta, lam, steps, burn_in):
    """One matrix at a time, one step at a time (the baseline)."""
    out = []
    K = P.shape[-1]
    for b in range(P.shape[0]):
        lp = lp0[b].copy()
        s1 = np.zeros(K)
        s2 = np.zeros(K)
        n = 0
        for t in range(1, steps + 1):
            pi = np.exp(lp)
            z = alpha * lp + beta * (P[b] @ (lam * pi + (1 - lam) / K))
            z -= z.max()
            new = z - np.log(np.exp(z).sum())
            delta = np.abs(new - lp).max()
            lp = new
            if t > burn_in:
                p = np.exp(lp)
                s1 += p
                s2 += p * p
                n += 1
        var = s2 / n - (s1 / n) ** 2
        out.append((var.mean(), -(np.exp(lp) * lp).sum(), delta))
    return out


def test_paper_scale(benchmark):
    P, lp0 = _paper_batch()
    step = _ipo_step(P, 0.9, 8.0, 1.0)

    def run():
        return run_batch(step, lp0, STEPS, burn_in=STEPS // 2)

    res = benchmark.pedantic(run, rounds=3, iterations=1)
    fast = benchmark.stats.stats.min
    # baseline on a subset, scaled per matrix
    n_sub = 12
    t0 = time.perf_counter()
    _plain_loop(P[:n_sub], lp0[:n_sub], 0.9, 8.0, 1.0, STEPS, STEPS // 2)
    per_matrix = (time.perf_counter() - t0) / n_sub
    loop_total = per_matrix * B_PAPER
    speedup = loop_total / fast
    RESULTS["paper"] = {"batched_s": fast, "plain_loop_s_per_matrix": per_matrix, "plain_loop_s_estimated": loop_total, "speedup": speedup}
    benchmark.extra_info.update(RESULTS["paper"])
    print(f"\npaper scale: batched {fast:.3f} s; plain loop {per_matrix * 1e3:.1f} ms/matrix -> {loop_total:.0f} s; speed-up {speedup:.0f}x")
    assert res.metrics["cycle_strength"].shape == (B_PAPER,)
    assert fast <= 1.0
    assert speedup >= 100


@pytest.mark.parametrize("K", [4, 16, 64])
def test_growth_with_K(benchmark, K):
    rng = np.random.default_rng(1)
    B = 1000
    P = random_sst_float(rng, K, B)
    step = _ipo_step(P, 0.9, 8.0, 1.0)
    lp0 = near_uniform_starts(B, K, rng)
    benchmark.pedantic(lambda: run_batch(step, lp0, 500, burn_in=250), rounds=2, iterations=1)
    benchmark.extra_info["per_trajectory_step_us"] = benchmark.stats.stats.min / (B * 500) * 1e6
    print(f"\nK = {K}: {benchmark.stats.stats.min:.3f} s for 1000 trajectories x 500 steps")


@pytest.mark.parametrize("settings", [1, 10, 100, 1000])
def test_growth_with_parameter_settings(benchmark, settings):
    """One K = 4 matrix, a grid of (alpha, beta) settings x 50 matrices."""
    rng = np.random.default_rng(2)
    n_mat = 50
    P = np.repeat(random_sst_float(rng, 4, n_mat), settings, axis=0)
    al = np.tile(np.linspace(0, 1, settings), n_mat)
    be = np.tile(np.geomspace(0.1, 100, settings), n_mat)
    step = _ipo_step(P, al, be, 1.0)
    lp0 = near_uniform_starts(P.shape[0], 4, rng)
    benchmark.pedantic(lambda: run_batch(step, lp0, 1000, burn_in=500), rounds=2, iterations=1)
    print(f"\n{settings} settings x {n_mat} matrices: {benchmark.stats.stats.min:.3f} s for 1000 steps")
