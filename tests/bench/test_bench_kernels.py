"""Benchmarks of ``verify.numerics.kernels.run_grid`` (pytest-benchmark; not part of the CI run).

Run the benchmarks: ``python -m pytest tests/bench/test_bench_kernels.py -p no:randomly -n 0 --benchmark-only -s``.
Print the whole table in one command: ``python tests/bench/test_bench_kernels.py`` (``--quick`` for a
subset, about a minute; ``--json FILE`` to keep the numbers).

Compared in the same run, on the same seeded matrices and starts, every run from a start that moves
(near-uniform, perturbed by ``N(0, 1e-3^2)`` in the logits) for 3,000 steps with every metric on:

* the paper's scale: 5,042 K = 4 matrices (118 with a majority 3-cycle among responses 0, 1, 2, 4,924
  strictly SST, :func:`verify.exact.families.random_sst_float`), one setting, for IPO
  (``alpha = 0.9, beta = 8``) and MRS-DPO (``alpha = 0.9, beta_dpo = 0.5``), on the engines
  ``numba`` (compiled, fused loops), ``numpy`` (blocked K-major buffers) and ``reference``
  (``make_step`` + ``run_batch``), and a plain per-matrix loop (``make_step`` + ``run_batch`` for one
  matrix at a time) timed on a subset and **extrapolated** per matrix (labelled so);
* the same without converging rows to skip: ``alpha = 0.99`` (few rows reach a bit-for-bit fixed
  point within 3,000 steps), the cost of the step itself;
* growth with K (4, 16, 64, 256; fewer matrices at large K) and with the number of settings (100 vs
  1,000 settings x 8 matrices), as time per trajectory-step;
* peak memory (``ru_maxrss`` of a fresh process, with its import-only baseline) at the paper's scale
  and for a 10 x 10 grid of (alpha, beta) over all 5,042 matrices (IPO);
* agreement with the reference, on the cyclic and the SST rows, beside the reference's own
  sensitivity: the numpy engine (the reference bit for bit) from starts moved by ``1e-15``. Some
  cyclic MRS-DPO trajectories are chaotic at ``alpha = 0.9, beta_dpo = 0.5`` (a ``1e-15`` change of the
  start grows to O(1) within about 1,000 steps): there only bit-identical arithmetic agrees, and the
  compiled Newton (same criterion, different rounding) agrees in its statistics, not its final state.

Times are the best of a few rounds, wall clock and process CPU time (the CPU time is less disturbed
by other processes on a shared machine). The first numba call of a process loads the compiled
kernels from numba's cache (or compiles them: tens of seconds): it is made before timing.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy is imported: one BLAS thread
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

if __name__ == "__main__":  # run as a script: this checkout's packages first
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from verify.exact.families import random_sst_float  # noqa: E402
from verify.numerics.batch import make_step  # noqa: E402
from verify.numerics.kernels import numba_available, run_grid  # noqa: E402
from verify.numerics.simulate import near_uniform_starts, run_batch  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
N_CYCLIC, N_SST, K_PAPER, STEPS = 118, 4924, 4, 3000
#: (loss, alpha, scale, lam) of the paper-scale runs
CASES = {
    "ipo": ("ipo", 0.9, 8.0, 1.0),
    "dpo": ("dpo", 0.9, 0.5, 1.0),
    "ipo-slow": ("ipo", 0.99, 8.0, 1.0),
    "dpo-slow": ("dpo", 0.99, 0.5, 1.0),
}
ENGINES = ["numba", "numpy", "reference"]


def paper_set(seed: int = 0, n_sst: int = N_SST, n_cyclic: int = N_CYCLIC):
    """``(P, starts)``: ``n_cyclic`` matrices with a majority 3-cycle among responses 0, 1, 2, then ``n_sst`` SST ones."""
    rng = np.random.default_rng(seed)
    P = random_sst_float(rng, K_PAPER, n_cyclic + n_sst)
    for b in range(n_cyclic):
        x = rng.uniform(0.55, 0.95, 3)
        for (i, j), v in zip(((0, 1), (1, 2), (2, 0)), x):
            P[b, i, j], P[b, j, i] = v, 1 - v
    return P, near_uniform_starts(len(P), K_PAPER, rng)


def grid(P, starts, case, engine, steps=STEPS, **kw):
    loss, a, s, lam = CASES[case]
    return run_grid(P, [a], [s], [lam], starts, loss=loss, steps=steps, burn_in=steps // 2, engine=engine, **kw)


def timed(fn, rounds=3):
    """``(best wall s, best CPU s, last result)`` over ``rounds`` calls."""
    wall = cpu = np.inf
    out = None
    for _ in range(rounds):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        wall, cpu = min(wall, time.perf_counter() - w), min(cpu, time.process_time() - c)
    return wall, cpu, out


def plain_loop(P, starts, case, steps=STEPS):
    """One matrix at a time: ``make_step`` + ``run_batch`` for a batch of one (the per-matrix baseline)."""
    loss, a, s, lam = CASES[case]
    out = []
    for i in range(len(P)):
        step = make_step(P[i], loss, a, lam, scale=s, B=1)
        out.append(run_batch(step, starts[i : i + 1], steps, burn_in=steps // 2).metrics["cycle_strength"][0])
    return np.array(out)


def warm_up():
    """Load (or compile) the compiled kernels and the losses before anything is timed."""
    P, st = paper_set(n_sst=3, n_cyclic=1)
    for case in ("ipo", "dpo"):
        for engine in ENGINES if numba_available() else ENGINES[1:]:
            grid(P, st, case, engine, steps=4)


def max_difference(a, b):
    """Largest absolute difference over the float metrics, and whether the classifications agree."""
    d = max(float(np.max(np.abs(getattr(a, f) - getattr(b, f)))) for f in ("cycle_strength", "final_entropy", "amplitude", "final_logpi"))
    return d, bool((a.converged == b.converged).all() and (a.oscillating == b.oscillating).all())


# ----------------------------------------------------------------------------- measurements (shared by the tests and main)


def paper_scale(case, engines=ENGINES, rounds=3, loop_subset=20, quick=False):
    """Rows of the paper-scale comparison for ``case``: every engine, and the plain loop (extrapolated)."""
    P, st = paper_set()
    rows, results = [], {}
    slow = CASES[case][0] != "ipo"
    for engine in engines:
        if engine == "numba" and not numba_available():
            continue
        if quick and engine != "numba" and slow:  # the numpy Newton takes minutes: a subset, extrapolated
            sub = np.r_[0:20, N_CYCLIC : N_CYCLIC + 480]
            wall, cpu, res = timed(lambda: grid(P[sub], st[sub], case, engine), 1)
            f = len(P) / len(sub)
            rows.append({"case": case, "engine": engine, "wall_s": wall * f, "cpu_s": cpu * f, "note": f"extrapolated from {len(sub)} matrices"})
            continue
        r = rounds if (engine == "numba" or not slow) else 1
        wall, cpu, res = timed(lambda: grid(P, st, case, engine), r)
        results[engine] = res
        rows.append({"case": case, "engine": engine, "wall_s": wall, "cpu_s": cpu, "note": f"best of {r}",
                     "oscillating": int(res.oscillating.sum()), "converged": int(res.converged.sum())})
    n = loop_subset if not slow else max(2, loop_subset // 5)
    sub = np.r_[0 : n // 2, N_CYCLIC : N_CYCLIC + n - n // 2]
    steps = STEPS if not slow else STEPS // 10
    wall, cpu, _ = timed(lambda: plain_loop(P[sub], st[sub], case, steps), 1)
    f = len(P) / len(sub) * STEPS / steps
    rows.append({"case": case, "engine": "plain loop", "wall_s": wall * f, "cpu_s": cpu * f,
                 "note": f"extrapolated from {len(sub)} matrices x {steps} steps"})
    if "reference" in results:
        ref = results["reference"]
        for engine in ("numba", "numpy"):
            if engine in results:
                for part, idx in (("cyclic rows", slice(0, N_CYCLIC)), ("SST rows", slice(N_CYCLIC, None))):
                    d, same = max_difference(_rows(ref, idx), _rows(results[engine], idx))
                    rows.append({"case": case, "engine": f"{engine} vs reference", "rows": part, "max_abs_diff": d, "same_classes": same})
        # how sensitive the trajectories themselves are: the numpy engine (the reference, bit for bit) from starts moved by 1e-15
        cyc = np.arange(N_CYCLIC)
        moved = st[cyc].copy()
        moved[:, 0] += 1e-15
        d, same = max_difference(_rows(ref, cyc), grid(P[cyc], moved, case, "numpy"))
        rows.append({"case": case, "engine": "reference vs itself from starts moved by 1e-15", "rows": "cyclic rows", "max_abs_diff": d,
                     "same_classes": same})
    return rows


def _rows(res, idx):
    """The rows ``idx`` of a GridResult (the float and class arrays only)."""
    return type("Rows", (), {f: getattr(res, f)[idx] for f in ("cycle_strength", "final_entropy", "amplitude", "final_logpi",
                                                             "converged", "oscillating")})


def growth_with_K(case="ipo", Ks=(4, 16, 64, 256), engines=("numba", "numpy"), quick=False):
    """Time per trajectory-step for K = 4 ... 256 (fewer matrices and steps at large K)."""
    rows = []
    for K in Ks:
        n = {4: 1024, 16: 256, 64: 64, 256: 8}.get(K, 8)
        steps = 1000 if CASES[case][0] == "ipo" else (300 if K <= 16 else 100)
        if quick:
            n, steps = max(4, n // 4), max(50, steps // 4)
        rng = np.random.default_rng(K)
        P = random_sst_float(rng, K, n)
        st = near_uniform_starts(n, K, rng)
        for engine in engines:
            if engine == "numba" and not numba_available():
                continue
            wall, cpu, _ = timed(lambda: grid(P, st, case, engine, steps=steps), 2)
            rows.append({"case": case, "K": K, "engine": engine, "matrices": n, "steps": steps,
                         "us_per_trajectory_step": cpu / (n * steps) * 1e6, "wall_s": wall, "cpu_s": cpu})
    return rows


def growth_with_settings(case="ipo", counts=(100, 1000), engines=("numba", "numpy"), n_mat=8, steps=1000, quick=False):
    """Time per trajectory-step for ``counts`` settings x ``n_mat`` matrices: it should not grow."""
    rows = []
    rng = np.random.default_rng(7)
    P = random_sst_float(rng, K_PAPER, n_mat)
    P[0] = paper_set(n_sst=0, n_cyclic=1)[0][0]
    st = near_uniform_starts(n_mat, K_PAPER, rng)
    steps = steps // 4 if quick else steps
    for S in counts:
        al = np.resize(np.linspace(0.05, 0.95, 10), S)
        be = np.repeat(np.geomspace(0.5, 20, max(1, S // 10)), 10)[:S]
        for engine in engines:
            if engine == "numba" and not numba_available():
                continue
            loss = CASES[case][0]
            wall, cpu, _ = timed(lambda: run_grid(P, al, be, np.ones(S), st, loss=loss, steps=steps, burn_in=steps // 2, engine=engine), 2)
            rows.append({"case": case, "settings": S, "engine": engine, "trajectories": S * n_mat, "steps": steps,
                         "us_per_trajectory_step": cpu / (S * n_mat * steps) * 1e6, "wall_s": wall, "cpu_s": cpu})
    return rows


_MEMORY_SCRIPT = r"""
import os, resource, sys, time, json
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, {root!r}); sys.path.insert(0, {bench!r})
import numpy as np
from test_bench_kernels import paper_set, grid
from verify.numerics.kernels import run_grid
P, st = paper_set()
grid(P[:2], st[:2], "ipo", {engine!r}, steps=3)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
w, c = time.perf_counter(), time.process_time()
if {what!r} == "paper":
    grid(P, st, {case!r}, {engine!r})
else:
    al, be = np.meshgrid(np.linspace(0.1, 0.99, 10), np.geomspace(0.5, 20, 10))
    run_grid(P, al.ravel(), be.ravel(), np.ones(100), st, loss="ipo", steps=3000, burn_in=1500, engine={engine!r})
print(json.dumps({{"baseline_mib": base / 1024, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "wall_s": time.perf_counter() - w, "cpu_s": time.process_time() - c}}))
"""


def peak_memory(what="paper", case="ipo", engine="numba"):
    """Peak resident memory (MiB) of a fresh process running one grid, with its baseline after the imports."""
    code = _MEMORY_SCRIPT.format(root=str(ROOT), bench=str(Path(__file__).resolve().parent), what=what, case=case, engine=engine)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    row = json.loads(out.stdout.strip().splitlines()[-1])
    label = "paper scale" if what == "paper" else "10 x 10 grid x 5,042 matrices"
    return {"run": f"{label}, {case}, {engine}", **row}


# ----------------------------------------------------------------------------- pytest-benchmark


@pytest.fixture(scope="module")
def paper():
    warm_up()
    return paper_set()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", ["ipo", "dpo"])
def test_paper_scale(benchmark, paper, case, engine):
    if engine == "numba":
        assert numba_available(), "numba is not installed: the bench extra brings it (pip install -e '.[test,bench]')"
    P, st = paper
    rounds = 3 if engine == "numba" or case == "ipo" else 1
    res = benchmark.pedantic(lambda: grid(P, st, case, engine), rounds=rounds, iterations=1)
    best = benchmark.stats.stats.min
    benchmark.extra_info.update({"seconds": best, "oscillating": int(res.oscillating.sum())})
    print(f"\n{case} paper scale, {engine}: {best:.3f} s ({res.oscillating.sum()} oscillating, {res.converged.sum()} converged)")
    assert res.cycle_strength.shape == (N_CYCLIC + N_SST, 1)
    assert res.oscillating[:N_CYCLIC].sum() > 10 and res.converged[N_CYCLIC:].mean() > 0.9  # the mix the paper describes


@pytest.mark.parametrize("case", ["ipo", "dpo"])
def test_plain_loop_extrapolated(benchmark, paper, case):
    P, st = paper
    n = 10 if case == "ipo" else 4
    steps = STEPS if case == "ipo" else 300
    sub = np.r_[0 : n // 2, N_CYCLIC : N_CYCLIC + n - n // 2]
    benchmark.pedantic(lambda: plain_loop(P[sub], st[sub], case, steps), rounds=1, iterations=1)
    est = benchmark.stats.stats.min * len(P) / n * STEPS / steps
    benchmark.extra_info["extrapolated_paper_scale_s"] = est
    print(f"\n{case} plain per-matrix loop: {est:.0f} s at the paper's scale (extrapolated from {n} matrices x {steps} steps)")


@pytest.mark.parametrize("engine", ["numba", "numpy"])
@pytest.mark.parametrize("case", ["ipo-slow", "dpo-slow"])
def test_without_fixed_points(benchmark, paper, case, engine):
    """alpha = 0.99: few rows reach a bit-for-bit fixed point, so every step is computed."""
    if engine == "numba":
        assert numba_available(), "numba is not installed: the bench extra brings it (pip install -e '.[test,bench]')"
    P, st = paper
    if engine == "numpy" and case == "dpo-slow":
        P, st = P[:500], st[:500]
    res = benchmark.pedantic(lambda: grid(P, st, case, engine), rounds=1 if engine == "numpy" else 2, iterations=1)
    per = benchmark.stats.stats.min / (len(P) * STEPS) * 1e9
    benchmark.extra_info["ns_per_trajectory_step"] = per
    print(f"\n{case}, {engine}: {per:.0f} ns per trajectory-step ({(res.last_delta == 0).sum()} rows at a fixed point)")


@pytest.mark.parametrize("K", [4, 16, 64, 256])
@pytest.mark.parametrize("case", ["ipo", "dpo"])
def test_growth_with_K(benchmark, case, K):
    rows = benchmark.pedantic(lambda: growth_with_K(case, Ks=(K,)), rounds=1, iterations=1)
    for r in rows:
        benchmark.extra_info[f"{r['engine']}_us_per_trajectory_step"] = r["us_per_trajectory_step"]
        print(f"\n{case} K = {K}, {r['engine']}: {r['us_per_trajectory_step']:.3f} us per trajectory-step ({r['matrices']} x {r['steps']})")


def test_growth_with_settings(benchmark):
    rows = benchmark.pedantic(lambda: growth_with_settings("ipo"), rounds=1, iterations=1)
    for r in rows:
        print(f"\n{r['settings']} settings x 8 matrices, {r['engine']}: {r['us_per_trajectory_step']:.3f} us per trajectory-step")
    for engine in {r["engine"] for r in rows}:
        a, b = (r["us_per_trajectory_step"] for r in rows if r["engine"] == engine)
        assert b < 1.5 * a, f"{engine}: 1,000 settings cost {b / a:.2f} x more per trajectory than 100"


@pytest.mark.parametrize("what", ["paper", "grid"])
def test_peak_memory(benchmark, what):
    row = benchmark.pedantic(lambda: peak_memory(what, "ipo", "numba" if numba_available() else "numpy"), rounds=1, iterations=1)
    benchmark.extra_info.update(row)
    print(f"\n{row['run']}: peak {row['peak_mib']:.0f} MiB (baseline {row['baseline_mib']:.0f} MiB), {row['wall_s']:.1f} s")
    assert row["peak_mib"] < 1024


# ----------------------------------------------------------------------------- the table in one command


def _table(rows, cols):
    lines = [" | ".join(cols), " | ".join("---" for _ in cols)]
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c, "")
            cells.append(f"{v:.4g}" if isinstance(v, float) else str(v))
        lines.append(" | ".join(cells))
    return "\n".join(lines)


def main(argv=None):
    """Print every measurement of this module as tables (``--quick``: subsets, about a minute; ``--json FILE``)."""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    print(f"numba available: {numba_available()}; machine load (1 min): {os.getloadavg()[0]:.2f}; warming up ...", flush=True)
    warm_up()
    out = {}
    cases = ("ipo", "dpo", "ipo-slow", "dpo-slow")
    rows = []
    for case in cases:
        rows += paper_scale(case, engines=ENGINES if case in ("ipo", "dpo") else ("numba", "numpy"), rounds=2 if args.quick else 3,
                            quick=args.quick)
        print(f"  {case} done ({time.perf_counter() - t0:.0f} s)", flush=True)
    out["paper_scale"] = rows
    print("\n## Paper scale: 5,042 K = 4 matrices x 1 setting x 3,000 steps, metrics on\n")
    print(_table([r for r in rows if "wall_s" in r], ["case", "engine", "wall_s", "cpu_s", "oscillating", "converged", "note"]))
    print()
    print(_table([r for r in rows if "max_abs_diff" in r], ["case", "engine", "rows", "max_abs_diff", "same_classes"]))
    gk = growth_with_K("ipo", quick=args.quick) + growth_with_K("dpo", quick=args.quick)
    out["growth_K"] = gk
    print("\n## Growth with K (time per trajectory-step, CPU)\n")
    print(_table(gk, ["case", "K", "engine", "matrices", "steps", "us_per_trajectory_step", "cpu_s"]))
    gs = growth_with_settings("ipo", quick=args.quick) + growth_with_settings("dpo", engines=("numba",), quick=args.quick)
    out["growth_settings"] = gs
    print("\n## Growth with the number of settings (8 matrices)\n")
    print(_table(gs, ["case", "settings", "engine", "trajectories", "steps", "us_per_trajectory_step", "cpu_s"]))
    mem = [peak_memory("paper", "ipo", "numba"), peak_memory("paper", "dpo", "numba"), peak_memory("grid", "ipo", "numba")]
    if not args.quick:
        mem.append(peak_memory("grid", "ipo", "numpy"))
    out["memory"] = mem
    print("\n## Peak memory (fresh process; ru_maxrss)\n")
    print(_table(mem, ["run", "baseline_mib", "peak_mib", "wall_s", "cpu_s"]))
    print(f"\n(total {time.perf_counter() - t0:.0f} s; machine load now {os.getloadavg()[0]:.2f})")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
