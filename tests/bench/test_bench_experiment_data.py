"""Benchmarks of the data stage of the experiments: HelpSteer-schema file -> matrices -> classes.

Run: ``python -m pytest tests/bench/test_bench_experiment_data.py -p no:randomly -n 0 --benchmark-only -s``

The input is a synthetic file in the HelpSteer schema written by ``verify.experiments.synthetic``
(8,800 prompts, about 35,100 rows: the size of HelpSteer's 35,331), in every format. Timed, best of
several rounds, on one core:

* ``load_groups`` (streaming, validating, grouping) per format, and on a ``.jsonl.gz`` file of the
  same rows with texts of HelpSteer's rough size (prompts ~0.6 kB, responses ~1.5 kB; ``long``);
* ``build_matrices`` (vectorised construction and exact classification) at the default options and
  with ``group="subsets"`` and ``ties="resample"``;
* the whole data stage ``load_groups + build_matrices`` on the ``.jsonl.gz`` file,

against a plain Python reference written the obvious way: ``json.loads`` per line into a list of
records (texts kept), grouped with a dict, one matrix at a time with scalar draws, classified by
loops over the triples. Peak memory (tracemalloc) is measured for both. The numbers are printed
(``-s``) and stored in ``benchmark.extra_info``.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy is imported: one BLAS thread
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import gzip  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from verify.experiments import synthetic  # noqa: E402
from verify.experiments.construct import BuildOptions, build_matrices, draw  # noqa: E402
from verify.experiments.helpsteer import ATTRIBUTES, load_groups  # noqa: E402

PROMPTS, SEED = 8800, 1
RESULTS: dict = {}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("helpsteer")
    out = {}
    for ext in ("jsonl.gz", "jsonl", "csv", "parquet"):
        if ext == "parquet":
            pytest.importorskip("pyarrow")
        out[ext] = d / f"synthetic.{ext}"
        out["rows"] = synthetic.write(out[ext], PROMPTS, seed=SEED)
    # the same rows with texts of HelpSteer's rough size (prompt ~0.6 kB, response ~1.5 kB), still labelled synthetic
    pad_p, pad_r = " (synthetic filler)" * 32, " (synthetic filler text)" * 60
    out["long"] = d / "synthetic_long.jsonl.gz"
    with gzip.open(out["long"], "wt", encoding="utf-8", compresslevel=6) as fh:
        for rec in synthetic.generate(PROMPTS, seed=SEED):
            rec = dict(rec, prompt=rec["prompt"] + pad_p, response=rec["response"] + pad_r)
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return out


def _best(fn, rounds=5):
    best = np.inf
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _peak(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --------------------------------------------------------------------------- the plain reference


def plain_load(path):
    """Every record kept (texts included), grouped with a dict of lists."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    groups: dict[str, list] = {}
    for r in records:
        groups.setdefault(r["prompt"], []).append([int(r[a]) for a in ATTRIBUTES])
    return records, groups


def plain_classify(D):
    K = len(D)
    strict = [[D[i][j] > 0 for j in range(K)] for i in range(K)]
    reach = [row[:] for row in strict]
    for k in range(K):
        for i in range(K):
            for j in range(K):
                reach[i][j] = reach[i][j] or (reach[i][k] and reach[k][j])
    if any(reach[i][i] for i in range(K)):
        return "cyclic"
    sst = wst = True
    for i in range(K):
        for j in range(K):
            for k in range(K):
                if len({i, j, k}) == 3 and D[i][j] >= 0 and D[j][k] >= 0:
                    wst = wst and D[i][k] >= 0
                    sst = sst and D[i][k] >= max(D[i][j], D[j][k])
    return "sst" if sst else "transitive" if wst else "other"


def plain_build(groups, seed=0, K=4):
    out = []
    for idx, rows in enumerate(groups.values()):
        if len(rows) < K:
            continue
        D = [[0] * K for _ in range(K)]
        p = 0
        for i in range(K):
            for j in range(i + 1, K):
                a = draw(seed, idx, 0, p, 0, 5)
                D[i][j], D[j][i] = rows[i][a] - rows[j][a], rows[j][a] - rows[i][a]
                p += 1
        P = [[1 / (1 + np.exp(-d)) for d in row] for row in D]
        out.append((P, plain_classify(D)))
    return out


# --------------------------------------------------------------------------- benchmarks


def test_load_and_build_35k_rows(benchmark, files):
    path = files["jsonl.gz"]

    def pipeline():
        groups, _ = load_groups(path)
        return build_matrices(groups)

    m = benchmark.pedantic(pipeline, rounds=5, iterations=1, warmup_rounds=1)
    total = benchmark.stats.stats.min
    groups, report = load_groups(path)
    load = _best(lambda: load_groups(path))
    build = _best(lambda: build_matrices(groups))
    peak = _peak(pipeline)
    # the plain reference, on the same file
    plain_load_s = _best(lambda: plain_load(path), rounds=2)
    _, pgroups = plain_load(path)
    plain_build_s = _best(lambda: plain_build(pgroups), rounds=2)
    plain_peak = _peak(lambda: plain_build(plain_load(path)[1]))
    plain = plain_build(pgroups)
    assert [c for _, c in plain] == m.classes.tolist()  # the same matrices and classes
    assert np.allclose(np.array([P for P, _ in plain]), m.P, rtol=0, atol=1e-15)
    RESULTS["pipeline"] = {
        "rows": report.rows, "prompts": report.prompts, "matrices": len(m), "counts": m.counts(),
        "load_s": load, "build_s": build, "total_s": total, "peak_MiB": peak / 2**20,
        "plain_load_s": plain_load_s, "plain_build_s": plain_build_s, "plain_peak_MiB": plain_peak / 2**20,
    }
    benchmark.extra_info.update(RESULTS["pipeline"])
    print(
        f"\n{report.rows} rows, {report.prompts} prompts -> {len(m)} matrices {m.counts()}\n"
        f"  load {load * 1e3:7.1f} ms + build/classify {build * 1e3:6.1f} ms = {total * 1e3:7.1f} ms, peak {peak / 2**20:5.1f} MiB\n"
        f"  plain reference: load {plain_load_s * 1e3:7.1f} ms (x{plain_load_s / load:4.1f}), build/classify"
        f" {plain_build_s * 1e3:7.1f} ms (x{plain_build_s / build:5.1f}), peak {plain_peak / 2**20:5.1f} MiB"
    )
    assert total < 2.0


@pytest.mark.parametrize("fmt", ["jsonl.gz", "jsonl", "csv", "parquet", "long"])
def test_load_each_format(benchmark, files, fmt):
    path = files[fmt]
    groups, report = benchmark.pedantic(lambda: load_groups(path), rounds=5, iterations=1, warmup_rounds=1)
    best = benchmark.stats.stats.min
    peak = _peak(lambda: load_groups(path))
    size = path.stat().st_size
    RESULTS[f"load_{fmt}"] = {"s": best, "peak_MiB": peak / 2**20, "file_MiB": size / 2**20}
    benchmark.extra_info.update(RESULTS[f"load_{fmt}"])
    print(f"\nload {fmt:8s}: {best * 1e3:7.1f} ms for {report.rows} rows ({size / 2**20:5.1f} MiB file), peak {peak / 2**20:5.1f} MiB")


@pytest.mark.parametrize("options", [BuildOptions(group="subsets"), BuildOptions(ties="resample"), BuildOptions(ties="drop")],
                         ids=["subsets", "resample", "drop"])
def test_build_options(benchmark, files, options):
    groups, _ = load_groups(files["jsonl.gz"])
    m = benchmark.pedantic(lambda: build_matrices(groups, options), rounds=5, iterations=1, warmup_rounds=1)
    best = benchmark.stats.stats.min
    benchmark.extra_info.update({"s": best, "matrices": len(m)})
    print(f"\nbuild {options.group}/{options.ties}: {best * 1e3:6.1f} ms for {len(m)} matrices {m.counts()}")
