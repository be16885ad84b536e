"""Benchmarks of the ranking family (run: python -m pytest tests/bench/test_bench_ranking.py -p no:randomly -n 0 --benchmark-only)."""

import numpy as np
import pytest

from verify.claims.ranking import load_rank4_witness
from verify.exact.families import random_matrix
from verify.exact.lp import max_min_margin
from verify.exact.ranking import counterexample, required_pairs, sampler
from verify.exact.social import bradley_terry, is_sst, smith_set


def _instance(K, kind, seed=0):
    """A random ``P`` of the family ``kind`` with its responses relabelled by a random permutation."""
    rng = np.random.default_rng(seed)
    P = random_matrix(rng, K, den=40, kind=kind)
    perm = [int(x) for x in rng.permutation(K)]
    Q = [[None] * K for _ in range(K)]
    for i in range(K):
        for j in range(K):
            Q[perm[i]][perm[j]] = P[i][j]
    return Q


@pytest.mark.parametrize("K", [4, 7, 10])
def test_bench_exact_st_lp(benchmark, K):
    P = _instance(K, "smith", seed=K)
    pairs = required_pairs(P, "ST")
    res = benchmark(max_min_margin, P, pairs)
    assert res.t > 0


@pytest.mark.parametrize("K", [4, 7, 10])
def test_bench_float_then_exact_lp(benchmark, K):
    P = _instance(K, "transitive", seed=K)
    pairs = required_pairs(P, "OP")
    res = benchmark(max_min_margin, P, pairs, "float")
    assert res.method in ("float+exact", "exact")


def test_bench_rank4_witness_sampler(benchmark):
    P = load_rank4_witness()["P"]
    assert benchmark(sampler, P, "OP").status == "infeasible"


@pytest.mark.parametrize("K", [5, 10])
def test_bench_predicates(benchmark, K):
    P = _instance(K, "any", seed=K)

    def run():
        return smith_set(P), is_sst(P), bradley_terry(P).is_bt

    benchmark(run)


def test_bench_counterexample(benchmark):
    mu = [f"{k}/55" for k in range(1, 11)]
    assert benchmark(counterexample, mu, "ST").gap <= 0
