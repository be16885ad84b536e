"""Benchmarks of the one batched MRS step, for every built-in loss (pytest-benchmark; not part of the CI run).

Run: ``python -m pytest tests/bench/test_bench_batch.py -p no:randomly -n 0 --benchmark-only -s``

For each loss of ``theory.losses.BUILTIN``: one call of ``make_step`` on ``B = 1000`` rows with
``K = 4`` (random interior ``P``, ``alpha = 0.5``, ``lam = 0.8``, the loss's default scale), from
states that moved (5 steps taken first, so the warm start is the previous step's optimum, as in a
simulation: before each timed call the step is run once, untimed, on the previous state), against

* a plain Python loop over the rows (the same step built for one row at a time, timed on 100
  rows and scaled to 1000), and
* the IPO closed form on the same batch (the tight reference: no inner solve at all).

The numbers are printed (``-s``) and stored in ``benchmark.extra_info``.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy is imported: one BLAS thread
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from theory.losses import BUILTIN  # noqa: E402
from verify.numerics.batch import make_step  # noqa: E402

B, K, WARM = 1000, 4, 5
SUB = 100
RESULTS: dict = {}


def _random_P(rng, n, k):
    P = np.full((n, k, k), 0.5)
    iu = np.triu_indices(k, 1)
    v = 1 / (1 + np.exp(-rng.normal(scale=1.5, size=(n, len(iu[0])))))
    P[:, iu[0], iu[1]] = v
    P[:, iu[1], iu[0]] = 1 - v
    return P


def _moved(step, lp):
    for _ in range(WARM):
        lp = np.array(step(lp))
    return lp


def _best(fn, rounds=5):
    best = np.inf
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_step_B1000_K4(benchmark, name):
    rng = np.random.default_rng(0)
    P = _random_P(rng, B, K)
    lp0 = np.log(rng.dirichlet(np.ones(K), B))
    step = make_step(P, name, 0.5, 0.8)
    prev = _moved(step, lp0)
    lp = np.array(step(prev))

    def setup():  # the warm start is the optimum of the previous state, not of this one
        step(prev)

    out = benchmark.pedantic(lambda: step(lp), setup=setup, rounds=7, iterations=1, warmup_rounds=1)
    assert np.isfinite(out).all()
    batched = benchmark.stats.stats.min
    cold_step = make_step(P, name, 0.5, 0.8, warm_start=False)
    cold = _best(lambda: cold_step(lp), rounds=5)
    # plain loop over rows: the same step, one row at a time (warm started the same way)
    rows = [make_step(P[b], name, 0.5, 0.8) for b in range(SUB)]
    prevs = [_moved(rows[b], lp0[b : b + 1]) for b in range(SUB)]
    nexts = [np.array(rows[b](prevs[b])) for b in range(SUB)]

    def loop_once():
        for b in range(SUB):
            rows[b](prevs[b])  # untimed: each row's warm start is the previous state's optimum, as in the batched run
        t = time.perf_counter()
        for b in range(SUB):
            rows[b](nexts[b])
        return time.perf_counter() - t

    loop = min(loop_once() for _ in range(3)) * (B / SUB)
    # the IPO closed form on the same batch and states
    ipo = make_step(P, "ipo", 0.5, 0.8, B=B)
    lpk = np.ascontiguousarray(lp.T).T
    closed = _best(lambda: ipo(lpk), rounds=7)
    RESULTS[name] = {"method": step.method, "batched_ms": batched * 1e3, "cold_ms": cold * 1e3, "loop_ms": loop * 1e3,
                     "ipo_closed_ms": closed * 1e3}
    benchmark.extra_info.update(RESULTS[name])
    print(
        f"\n{name:5s} ({step.method:9s}): batched {batched * 1e3:7.2f} ms/step (cold start {cold * 1e3:7.2f}) | plain loop "
        f"{loop * 1e3:8.1f} ms (x{loop / batched:6.1f}) | IPO closed form {closed * 1e3:6.3f} ms (batched / closed = {batched / closed:6.1f})"
    )
