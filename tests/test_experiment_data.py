"""HelpSteer-schema data: the loader, the matrix construction, the exact classification, the synthetic sample.

* every format reads the same content to the same ``Groups``; a bad row is named by file, line and
  field, or skipped and counted;
* the vectorised construction equals a plain per-prompt loop written from the rule in docs/experiments.md,
  every option changes what it says and nothing else, and a prompt's matrix does not depend on which
  other prompts are built with it;
* the classification equals the exact oracle of :mod:`verify.exact.social` on Fractions, and planted
  wrong variants (ties ignored, or counted the other way) are caught by the same comparison;
* the shipped sample is what the documented command writes, byte for byte, and has the documented counts.
"""

from __future__ import annotations

import ast
import gzip
import json
import sys
import tracemalloc
import zlib
from fractions import Fraction
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from verify.exact.objects import InputError
from verify.exact.social import has_majority_cycle, is_sst, is_wst, rows_of, sst_violation
from verify.experiments import synthetic
from verify.experiments.construct import (
    CLASSES,
    DROP_REASONS,
    PAPER_COUNTS,
    BuildOptions,
    build_matrices,
    classify,
    draw,
    draws,
    sigmoid_table,
)
from verify.experiments.helpsteer import ATTRIBUTES, FIELDS, SAMPLE_PATH, Groups, load_groups

ROOT = Path(__file__).resolve().parents[1]
HALF = Fraction(1, 2)
HEADER = ",".join(FIELDS)


def _row(prompt, response="r", scores=(3, 3, 4, 1, 1), **over):
    rec = {"prompt": prompt, "response": response, **dict(zip(ATTRIBUTES, scores))}
    rec.update(over)
    return rec


def _jsonl(path, records):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


def _same_groups(a: Groups, b: Groups):
    assert a.prompts == b.prompts
    assert a.index.tolist() == b.index.tolist()
    assert len(a.scores) == len(b.scores)
    for x, y in zip(a.scores, b.scores):
        assert x.dtype == y.dtype == np.int8
        assert np.array_equal(x, y)


@pytest.fixture(scope="module")
def sample():
    return load_groups(SAMPLE_PATH)


# --------------------------------------------------------------------------- loader: formats


def test_every_format_reads_the_same_groups(tmp_path):
    pytest.importorskip("pyarrow")
    ref = None
    for name in ("s.jsonl", "s.jsonl.gz", "s.csv", "s.parquet"):
        rows = synthetic.write(tmp_path / name, 40, seed=5)
        g, rep = load_groups(tmp_path / name)
        assert rep.rows == rows and rep.skipped == 0 and rep.prompts == 40 and rep.format == name[2:]
        assert sum(rep.sizes.values()) == 40 and sum(k * v for k, v in rep.sizes.items()) == rows
        if ref is None:
            ref = g
        else:
            _same_groups(g, ref)
    # and the groups are the generator's rows, grouped by prompt in order
    recs = list(synthetic.generate(40, seed=5))
    assert ref.prompts == list(dict.fromkeys(r["prompt"] for r in recs))
    for p, s in zip(ref.prompts, ref.scores):
        assert s.tolist() == [[r[a] for a in ATTRIBUTES] for r in recs if r["prompt"] == p]


def test_rows_of_a_prompt_need_not_be_contiguous_and_values_may_be_spelled_loosely(tmp_path):
    recs = [_row("b", scores=(1, 1, 1, 1, 1)), _row("a", scores=(2, 2, 2, 2, 2)), _row("b", scores=(3.0, 3, 3, 3, 3)), _row("a")]
    g, rep = load_groups(_jsonl(tmp_path / "x.jsonl", recs))
    assert g.prompts == ["b", "a"] and rep.rows == 4
    assert g.scores[0].tolist() == [[1] * 5, [3] * 5] and g.scores[1].tolist() == [[2] * 5, [3, 3, 4, 1, 1]]
    csv_text = f'{HEADER}\nb,x,1,1,1,1,1\na,y,2,2,2,2,2\n"b","multi\nline",3.0, 3 ,3,3,3\na,z,3,3,4,1,1\n'
    (tmp_path / "x.csv").write_text("\ufeff" + csv_text, encoding="utf-8")
    _same_groups(load_groups(tmp_path / "x.csv")[0], g)
    # a shuffled file: prompts in order of first appearance, each prompt's rows in file order
    recs = list(synthetic.generate(300, seed=4))
    recs = [recs[i] for i in np.random.default_rng(0).permutation(len(recs))]
    g2, _ = load_groups(_jsonl(tmp_path / "shuffled.jsonl", recs))
    assert g2.prompts == list(dict.fromkeys(r["prompt"] for r in recs))
    assert all(s.tolist() == [[r[a] for a in ATTRIBUTES] for r in recs if r["prompt"] == p] for p, s in zip(g2.prompts, g2.scores))
    # the format may be forced, and a gzipped file is read whatever its name says
    (tmp_path / "x.data").write_bytes(gzip.compress((tmp_path / "x.jsonl").read_bytes()))
    _same_groups(load_groups(tmp_path / "x.data", fmt="jsonl")[0], g)


def test_groups_select_keeps_the_file_numbering():
    g = Groups(["a", "b", "c"], [np.full((2, 5), k) for k in range(3)])
    sub = g.select(np.array([False, True, True]))
    assert sub.prompts == ["b", "c"] and sub.index.tolist() == [1, 2] and sub.scores[1][0, 0] == 2
    with pytest.raises(InputError, match=r"scores\[0\] has shape \(5,\)"):
        Groups(["a"], [np.zeros(5)])
    with pytest.raises(InputError, match="not an integer 0-4"):
        Groups(["a"], [np.full((1, 5), 5)])


# --------------------------------------------------------------------------- loader: errors

BAD_JSONL = [
    ('{"prompt": "q", "response": "r", "helpfulness": 3', "invalid JSON"),
    ("[1, 2]", "expected a JSON object, got list"),
    (_row("q", helpfulness="x"), "field 'helpfulness': expected an integer 0-4, got 'x'"),
    (_row("q", correctness=3.5), "field 'correctness': expected an integer 0-4, got 3.5"),
    (_row("q", coherence=5), "field 'coherence': expected an integer 0-4, got 5"),
    (_row("q", complexity=-1), "field 'complexity': expected an integer 0-4, got -1"),
    (_row("q", verbosity=True), "field 'verbosity': expected an integer 0-4, got True"),
    (_row("q", verbosity=None), "field 'verbosity': expected an integer 0-4, got None"),
    ({k: v for k, v in _row("q").items() if k != "coherence"}, "field 'coherence': missing"),
    ({k: v for k, v in _row("q").items() if k != "prompt"}, "field 'prompt': missing"),
    ({k: v for k, v in _row("q").items() if k != "response"}, "field 'response': missing"),
    (_row(""), "field 'prompt': empty"),
    (_row("  \t"), "field 'prompt': empty"),
    (_row(7), "field 'prompt': expected a string, got 7"),
    (_row("q", response=None), "field 'response': expected a string, got None"),
]


@pytest.mark.parametrize("bad, message", BAD_JSONL)
def test_a_bad_jsonl_row_is_named_by_file_line_and_field(tmp_path, bad, message):
    path = _jsonl(tmp_path / "d.jsonl", [_row("q"), "", bad, _row("q")])  # line 2 is blank, the bad row is line 3
    with pytest.raises(InputError) as err:
        load_groups(path)
    assert str(err.value).startswith(f"{path}:3: {message}")
    assert "\n" not in str(err.value)
    g, rep = load_groups(path, skip_bad=True)
    assert (rep.rows, rep.skipped, rep.bad) == (2, 1, [str(err.value)])


def test_bad_csv_rows_name_the_line_and_field(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(
        f'{HEADER}\nq,r,3,3,4,1,1\n"q","two\nlines",3,3,4,1,1\nq,r,3,3,4,1\nq,r,3,3,4,1,2.5\n,r,1,1,1,1,1\n'
        'q,"three\nline\nresponse",1,1,1,x,1\n'
    )
    with pytest.raises(InputError, match=rf"^{path}:5: field 'verbosity': missing$"):
        load_groups(path)
    g, rep = load_groups(path, skip_bad=True)
    assert rep.rows == 2 and rep.skipped == 4
    assert rep.bad == [
        f"{path}:5: field 'verbosity': missing",
        f"{path}:6: field 'verbosity': expected an integer 0-4, got '2.5'",
        f"{path}:7: field 'prompt': empty",
        f"{path}:8: field 'complexity': expected an integer 0-4, got 'x'",  # the line where the record starts
    ]
    (tmp_path / "h.csv").write_text("prompt,response,helpfulness,correctness,coherence,complexity\nq,r,1,1,1,1\n")
    with pytest.raises(InputError, match=r"h.csv:1: missing column 'verbosity'"):
        load_groups(tmp_path / "h.csv", skip_bad=True)


def test_bad_parquet_rows_name_the_row_and_field(tmp_path, monkeypatch):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    cols = {f: [r[f] for r in [_row("q"), _row("q"), _row("q")]] for f in FIELDS}
    cols["correctness"] = [3, 7, 2]
    pq.write_table(pa.table(cols), tmp_path / "d.parquet")
    with pytest.raises(InputError, match=rf"^{tmp_path / 'd.parquet'}:row 2: field 'correctness': expected an integer 0-4, got 7$"):
        load_groups(tmp_path / "d.parquet")
    assert load_groups(tmp_path / "d.parquet", skip_bad=True)[1].skipped == 1
    del cols["verbosity"]
    pq.write_table(pa.table(cols), tmp_path / "m.parquet")
    with pytest.raises(InputError, match=r"m.parquet: missing column 'verbosity'"):
        load_groups(tmp_path / "m.parquet")
    (tmp_path / "n.parquet").write_text("not parquet")
    with pytest.raises(InputError, match=r"n.parquet: not a readable Parquet file"):
        load_groups(tmp_path / "n.parquet")
    # without pyarrow: one line naming the extra
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(InputError, match=r'd.parquet: reading Parquet needs pyarrow: pip install "prefdyn\[parquet\]"'):
        load_groups(tmp_path / "d.parquet")


def test_files_that_cannot_be_read_give_one_line(tmp_path):
    cases = {
        tmp_path / "none.jsonl": "none.jsonl: no such file",
        tmp_path / "x.txt": "x.txt: unknown format",
        tmp_path: "is a directory",
    }
    (tmp_path / "x.txt").write_text("")
    (tmp_path / "e.jsonl").write_text("\n\n")
    cases[tmp_path / "e.jsonl"] = "e.jsonl: no valid rows$"
    _jsonl(tmp_path / "b.jsonl", [_row("")] * 3)
    cases[tmp_path / "b.jsonl"] = r"b.jsonl: no valid rows \(3 malformed rows skipped; first: .*b.jsonl:1: field 'prompt': empty\)"
    (tmp_path / "g.jsonl.gz").write_bytes(gzip.compress(b'{"prompt": "q"}\n' * 100)[:40])
    cases[tmp_path / "g.jsonl.gz"] = "g.jsonl.gz: broken gzip stream"
    (tmp_path / "u.jsonl").write_bytes(json.dumps(_row("q")).encode() + b"\n\xff\xfe\n")
    cases[tmp_path / "u.jsonl"] = "u.jsonl:2: not UTF-8 text"
    for path, message in cases.items():
        with pytest.raises(InputError, match=message) as err:
            load_groups(path if path != tmp_path else tmp_path, fmt="jsonl" if path == tmp_path else None, skip_bad=True)
        assert "\n" not in str(err.value)
    with pytest.raises(InputError, match="unknown format 'xml'"):
        load_groups(tmp_path / "e.jsonl", fmt="xml")


def test_skip_bad_counts_every_bad_row_and_keeps_ten_messages(tmp_path):
    recs = []
    for i in range(15):
        recs += [_row(f"p{i % 3}"), _row(f"p{i % 3}", helpfulness="bad")]
    g, rep = load_groups(_jsonl(tmp_path / "d.jsonl", recs), skip_bad=True)
    assert (rep.rows, rep.skipped, rep.prompts, len(rep.bad)) == (15, 15, 3, 10)
    assert rep.bad[0] == f"{tmp_path / 'd.jsonl'}:2: field 'helpfulness': expected an integer 0-4, got 'bad'"
    assert rep.bad[9].startswith(f"{tmp_path / 'd.jsonl'}:20:")
    assert json.loads(json.dumps(rep.to_json())) == rep.to_json() and rep.to_json()["sizes"] == {"5": 3}


def test_memory_does_not_grow_with_the_texts(tmp_path):
    long = "x" * 20_000
    path = _jsonl(tmp_path / "big.jsonl", [_row(f"prompt {i // 4}", response=long) for i in range(1000)])
    size = path.stat().st_size
    tracemalloc.start()
    try:
        g, rep = load_groups(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rep.rows == 1000 and size > 20_000_000
    assert peak < 2_000_000, f"peak {peak} bytes while reading a {size}-byte file"


# --------------------------------------------------------------------------- construction: a plain reference


def reference_build(groups: Groups, o: BuildOptions):
    """The rule of docs/experiments.md and the options, one prompt, subset and pair at a time (scalar draws)."""
    K = o.K
    out = []
    for idx, S in zip(groups.index.tolist(), groups.scores):
        S = S.tolist()
        n = len(S)
        if n < K or (n > K and o.group == "drop"):
            continue
        subsets = list(combinations(range(n), K)) if o.group == "subsets" else [tuple(range(K))]
        for t, resp in enumerate(subsets):
            D = [[0] * K for _ in range(K)]
            A = [[-1] * K for _ in range(K)]
            p = 0
            for i in range(K):
                for j in range(i + 1, K):
                    si, sj = S[resp[i]], S[resp[j]]
                    a = draw(o.seed, idx, t, p, 0, 5) if o.attribute == "random" else ATTRIBUTES.index(o.attribute)
                    if si[a] == sj[a] and o.ties == "resample":
                        differ = [b for b in range(5) if si[b] != sj[b]]
                        if differ:
                            a = differ[draw(o.seed, idx, t, p, 1, len(differ))]
                    D[i][j], D[j][i] = si[a] - sj[a], sj[a] - si[a]
                    A[i][j] = A[j][i] = a
                    p += 1
            if o.ties == "drop" and any(D[i][j] == 0 for i in range(K) for j in range(K) if i != j):
                continue
            out.append((idx, t, list(resp), D, A))
    return out


OPTION_CASES = [
    BuildOptions(),
    BuildOptions(seed=7, ties="resample"),
    BuildOptions(ties="drop", seed=3),
    BuildOptions(group="subsets", K=3),
    BuildOptions(group="drop", attribute="coherence", ties="resample"),
]


@pytest.mark.parametrize("options", OPTION_CASES, ids=lambda o: f"{o.group}-{o.attribute}-{o.ties}-K{o.K}")
def test_vectorised_construction_equals_the_plain_loop(sample, options):
    g = sample[0].select(np.arange(0, 550, 3))  # a third of the sample, file numbers kept
    m = build_matrices(g, options)
    ref = reference_build(g, options)
    assert len(m) == len(ref) > 0
    for k, name in enumerate(("prompt_index", "subset_index", "responses", "differences", "attributes")):
        assert np.array_equal(getattr(m, name), np.array([r[k] for r in ref])), name  # (array_equal: a short report)
    table = sigmoid_table(options.scale)
    assert np.array_equal(m.P, table[m.differences.astype(int) + 4])


def test_built_matrices_are_preference_matrices_and_their_floats_classify_the_same(sample):
    m = build_matrices(sample[0])
    K = 4
    assert m.P.shape == (len(m), K, K) and m.P.dtype == np.float64
    assert np.all(m.P + m.P.transpose(0, 2, 1) == 1.0)  # P[j,i] = 1 - P[i,j] exactly, in floats
    assert np.all(np.diagonal(m.P, axis1=1, axis2=2) == 0.5)
    assert np.allclose(m.P, 1 / (1 + np.exp(-m.differences.astype(float))), rtol=0, atol=1e-15)
    assert classify(m.P).tolist() == m.classes.tolist()
    assert set(np.diagonal(m.attributes, axis1=1, axis2=2).ravel().tolist()) == {-1}
    assert np.array_equal(m.attributes, m.attributes.transpose(0, 2, 1))


def test_defaults_are_the_documented_ones():
    o = BuildOptions()
    assert (o.K, o.group, o.attribute, o.ties, o.scale, o.seed, o.max_subsets, o.premise) == (4, "first", "random", "half", 1.0, 0, 1000, "strict")
    lines = o.describe()
    assert len(lines) == len(o.to_json()) and all(line.split(" = ")[0] in o.to_json() for line in lines)
    assert PAPER_COUNTS == {"cyclic": 118, "sst": 4924}
    for bad in ({"K": 1}, {"K": True}, {"group": "all"}, {"attribute": "style"}, {"ties": "x"}, {"scale": 0}, {"scale": float("nan")}, {"seed": -1}, {"max_subsets": 0}, {"premise": "loose"}):
        with pytest.raises(InputError, match=f"^{next(iter(bad))}="):
            BuildOptions(**bad)


def _toy():
    """Prompts with 2, 3, 4, 5 and 6 responses (scores chosen so that ties on one attribute are common)."""
    rng = np.random.default_rng(11)
    sizes = [2, 3, 4, 5, 6, 4, 4]
    return Groups([f"p{i}" for i in range(len(sizes))], [rng.integers(0, 3, (n, 5)) for n in sizes])


def test_group_option_first_drop_subsets():
    g = _toy()
    first, drop, subsets = (build_matrices(g, BuildOptions(group=x)) for x in ("first", "drop", "subsets"))
    assert first.prompt_index.tolist() == [2, 3, 4, 5, 6] and first.dropped == {"fewer_responses": 2, "more_responses": 0, "ties": 0}
    assert first.responses.tolist() == [[0, 1, 2, 3]] * 5
    assert drop.prompt_index.tolist() == [2, 5, 6] and drop.dropped["more_responses"] == 2
    assert subsets.prompt_index.tolist() == [2] + [3] * 5 + [4] * 15 + [5, 6]
    assert subsets.responses[subsets.prompt_index == 4].tolist() == [list(c) for c in combinations(range(6), 4)]
    # subset 0 is the first K responses, drawn with the same key: the same matrix as group="first"
    zero = subsets.subset_index == 0
    assert np.array_equal(subsets.P[zero], first.P) and np.array_equal(subsets.attributes[zero], first.attributes)
    # the cap: C(20, 4) = 4845 matrices
    big = Groups(["many"], [np.zeros((20, 5))])
    with pytest.raises(InputError, match=r"prompt 0 \('many'\) has 20 responses: 4845 subsets of 4 exceed max_subsets=1000"):
        build_matrices(big, BuildOptions(group="subsets"))
    assert len(build_matrices(big, BuildOptions(group="subsets", max_subsets=5000))) == 4845


def test_K_option():
    g = _toy()
    m = build_matrices(g, BuildOptions(K=3))
    assert m.P.shape[1:] == (3, 3) and m.dropped["fewer_responses"] == 1 and len(m) == 6
    assert build_matrices(g, BuildOptions(K=7)).P.shape == (0, 7, 7)


def test_attribute_option_fixed_compares_every_pair_on_it(sample):
    g = sample[0]
    for k, name in enumerate(ATTRIBUTES):
        m = build_matrices(g, BuildOptions(attribute=name))
        off = ~np.eye(4, dtype=bool)
        assert (m.attributes[:, off] == k).all()
        S = np.stack([g.scores[i][:4, k] for i in m.prompt_index]).astype(int)
        assert np.array_equal(m.differences, S[:, :, None] - S[:, None, :])
        assert m.counts()["cyclic"] == 0  # one attribute is a total preorder; sigma of its differences is SST
        assert m.counts()["sst"] == len(m)
    rnd = build_matrices(g)
    shares = np.bincount(rnd.attributes[:, *np.triu_indices(4, 1)].ravel(), minlength=5) / (len(rnd) * 6)
    assert np.all(np.abs(shares - 0.2) < 0.03), shares


def test_ties_options(sample):
    g = sample[0]
    half = build_matrices(g)
    off = ~np.eye(4, dtype=bool)
    tied = (half.differences[:, off] == 0).any(axis=1)
    assert tied.mean() > 0.5  # the reason the option matters
    assert np.all(half.P[half.differences == 0] == 0.5)
    drop = build_matrices(g, BuildOptions(ties="drop"))
    assert drop.dropped["ties"] == int(tied.sum()) and len(drop) == int((~tied).sum())
    assert np.array_equal(drop.P, half.P[~tied]) and drop.prompt_index.tolist() == half.prompt_index[~tied].tolist()
    res = build_matrices(g, BuildOptions(ties="resample"))
    same = half.differences != 0
    assert np.array_equal(res.differences[same], half.differences[same])  # only the ties are redrawn
    for n, i, j in zip(*np.nonzero((res.differences == 0) & off)):
        rows = g.scores[res.prompt_index[n]][res.responses[n]]
        assert np.array_equal(rows[i], rows[j])  # a tie survives only when the two responses agree on everything
    assert res.counts() != half.counts()


def test_scale_changes_P_but_not_the_exact_classes(sample):
    g = sample[0]
    one = build_matrices(g)
    for scale in (0.25, 3.0, 1e3):
        m = build_matrices(g, BuildOptions(scale=scale))
        assert np.array_equal(m.differences, one.differences) and m.classes.tolist() == one.classes.tolist()
        with np.errstate(over="ignore"):
            assert np.allclose(m.P, 1 / (1 + np.exp(-scale * m.differences.astype(float))), rtol=0, atol=1e-15)
        assert not np.array_equal(m.P, one.P)
    # at c = 1e3 the floats saturate (sigma(1e3) == sigma(2e3) == 1.0): classifying the floats would be wrong
    sat = build_matrices(g, BuildOptions(scale=1e3))
    assert (classify(sat.P) != sat.classes).any()


def test_seed_option_and_the_draws(sample):
    g = sample[0]
    a, b, c = build_matrices(g, BuildOptions(seed=0)), build_matrices(g, BuildOptions(seed=0)), build_matrices(g, BuildOptions(seed=1))
    assert np.array_equal(a.attributes, b.attributes) and np.array_equal(a.P, b.P)
    assert (a.attributes != c.attributes).mean() > 0.5
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 2**40, size=(200, 4))
    seeds = rng.integers(0, 2**63, size=200)
    n = rng.integers(1, 6, size=200)
    vec = [int(draws(int(s), k[0], k[1], k[2], k[3] % 4, m)) for s, k, m in zip(seeds, keys, n)]
    assert vec == [draw(int(s), int(k[0]), int(k[1]), int(k[2]), int(k[3] % 4), int(m)) for s, k, m in zip(seeds, keys, n)]
    assert all(0 <= v < m for v, m in zip(vec, n))
    big = draws(5, np.arange(50_000), 0, 0, 0, 5)
    assert np.all(np.abs(np.bincount(big, minlength=5) / 50_000 - 0.2) < 0.01)


def test_a_prompts_matrix_does_not_depend_on_the_other_prompts(sample):
    g = sample[0]
    for options in (BuildOptions(seed=4, ties="resample"), BuildOptions(group="subsets", ties="drop")):
        whole = build_matrices(g, options)
        pick = np.random.default_rng(1).permutation(len(g))[:200]
        part = build_matrices(g.select(np.sort(pick)), options)
        where = {(p, t): n for n, (p, t) in enumerate(zip(whole.prompt_index.tolist(), whole.subset_index.tolist()))}
        rows = [where[(p, t)] for p, t in zip(part.prompt_index.tolist(), part.subset_index.tolist())]
        assert len(rows) == len(part) > 0
        assert np.array_equal(part.P, whole.P[rows]) and np.array_equal(part.attributes, whole.attributes[rows])
        assert part.classes.tolist() == whole.classes[rows].tolist()
        # chunks of the file build the same matrices as the whole file
        chunks = [build_matrices(g.select(np.arange(lo, min(lo + 128, len(g)))), options) for lo in range(0, len(g), 128)]
        assert np.array_equal(np.concatenate([c.P for c in chunks]), whole.P)


def test_matrix_set_counts_select_take():
    m = build_matrices(load_groups(SAMPLE_PATH)[0])
    c = m.counts()
    assert list(c) == list(CLASSES) and sum(c.values()) == len(m)
    for cls in CLASSES:
        sub = m.select(cls)
        assert len(sub) == c[cls] and set(sub.classes.tolist()) <= {cls}
        assert sub.options == m.options and sub.dropped == m.dropped
    with pytest.raises(InputError, match="unknown matrix class 'sst2'"):
        m.select(["sst2"])
    js = m.to_json()
    assert js["counts"] == c and js["paper_counts"] == PAPER_COUNTS and set(js["dropped"]) == set(DROP_REASONS)


# --------------------------------------------------------------------------- classification against the exact oracle


def _fractions(D):
    """An exact matrix with the order of ``D``: ``1/2 + d/10`` (any increasing map with 0 -> 1/2 would do)."""
    return [[HALF + Fraction(int(d), 10) for d in row] for row in D]


def sst_by_definition(R, premise):
    """SST straight from the definition, on Fractions (the premise P_ij >= 1/2 or > 1/2)."""
    K = len(R)
    ok = (lambda x: x >= HALF) if premise == "weak" else (lambda x: x > HALF)
    return all(
        R[i][k] >= max(R[i][j], R[j][k])
        for i in range(K)
        for j in range(K)
        for k in range(K)
        if len({i, j, k}) == 3 and ok(R[i][j]) and ok(R[j][k])
    )


def oracle_class(D, premise="weak"):
    R = rows_of(_fractions(D))
    cyclic = has_majority_cycle(R)
    if premise == "weak":
        wst = is_wst(R)
        sst = sst_by_definition(R, "weak")
        if all(R[i][j] != HALF for i in range(len(R)) for j in range(len(R)) if i != j):
            assert sst == is_sst(R)  # on tie-free matrices the oracle's SST is ours
    else:
        wst = is_wst(R, strict=True)
        sst = sst_violation(R) is None
        assert sst == sst_by_definition(R, "strict")
    assert not (cyclic and wst) and (wst or not sst)  # the classes partition
    return "cyclic" if cyclic else "sst" if sst else "transitive" if wst else "other"


def _antisymmetric(K, upper):
    D = np.zeros((K, K), dtype=int)
    iu = np.triu_indices(K, 1)
    D[iu] = upper
    return D - D.T


@st.composite
def difference_matrices(draw_):
    K = draw_(st.integers(3, 5))
    m = draw_(st.integers(1, 4))
    upper = draw_(st.lists(st.integers(-m, m), min_size=K * (K - 1) // 2, max_size=K * (K - 1) // 2))
    return _antisymmetric(K, upper)


@given(difference_matrices(), st.sampled_from(["weak", "strict"]))
@example(_antisymmetric(3, [0, -1, 0]), "weak")  # P_01 = P_12 = 1/2 > P_02: "other"
@example(_antisymmetric(3, [1, -1, 1]), "weak")  # a 3-cycle
@example(_antisymmetric(4, [0, 0, 0, 0, 0, 0]), "strict")
def test_classification_equals_the_exact_oracle(D, premise):
    expected = oracle_class(D, premise)
    assert classify(D, half=0, premise=premise).tolist() == [expected]
    P = np.array([[float(x) for x in row] for row in _fractions(D)])
    assert classify(P, premise=premise).tolist() == [expected]
    assert classify(sigmoid_table(1.0)[D + 4], premise=premise).tolist() == [expected]


def _batch(seed, n=200, K=4, m=2):
    rng = np.random.default_rng(seed)
    return [_antisymmetric(K, rng.integers(-m, m + 1, K * (K - 1) // 2)) for _ in range(n)]


def test_the_oracle_comparison_catches_a_classifier_that_ignores_ties():
    batch = _batch(3)
    stacked = np.stack(batch)
    for premise, wrong in (("weak", "strict"), ("strict", "weak")):
        expected = [oracle_class(D, premise) for D in batch]
        assert classify(stacked, half=0, premise=premise).tolist() == expected
        planted = classify(stacked, half=0, premise=wrong).tolist()
        assert sum(a != b for a, b in zip(planted, expected)) > 10
    expected = [oracle_class(D) for D in batch]
    assert set(expected) == set(CLASSES)  # the batch reaches every class
    # the oracle's is_sst demands a linear order: a tie between interchangeable responses is SST for us, not for it
    s = np.array([2, 1, 1, 0])
    D = s[:, None] - s[None, :]
    assert oracle_class(D) == classify(D, half=0)[0] == "sst" and not is_sst(_fractions(D))


# --------------------------------------------------------------------------- the shipped sample


def test_the_shipped_sample_has_the_documented_counts(sample):
    g, rep = sample
    assert (rep.rows, rep.prompts, rep.skipped, rep.sizes) == (2197, 550, 0, {3: 10, 4: 533, 5: 7})
    assert all(p.startswith("prefdyn synthetic prompt ") and p.endswith("not HelpSteer data") for p in g.prompts)
    m = build_matrices(g)
    assert m.counts() == {"cyclic": 27, "sst": 311, "transitive": 26, "other": 176}
    assert build_matrices(g, BuildOptions(premise="weak")).counts() == {"cyclic": 27, "sst": 57, "transitive": 38, "other": 418}
    assert sum(len(np.unique(s, axis=0)) < len(s) for s in g.scores) > 20  # repeated score rows
    with gzip.open(SAMPLE_PATH, "rt", encoding="utf-8") as fh:
        assert all("not HelpSteer data" in json.loads(line)["response"] for line in fh)


def test_the_shipped_sample_is_what_the_documented_command_writes(tmp_path):
    out = tmp_path / "helpsteer_synthetic.jsonl.gz"
    args = synthetic.SAMPLE_COMMAND.split()[3:]
    assert args[0] == "--out" and args[1] == "verify/data/helpsteer_synthetic.jsonl.gz"
    assert synthetic.main(["--out", str(out)] + args[2:]) == 0
    new, old = out.read_bytes(), SAMPLE_PATH.read_bytes()
    assert gzip.decompress(new) == gzip.decompress(old)  # the content, under any zlib
    if zlib.ZLIB_RUNTIME_VERSION == synthetic.SAMPLE_ZLIB:  # and byte for byte under the zlib that wrote it
        assert new == old


def test_the_generator_command_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as ex:
        synthetic.main(["--help"])
    assert ex.value.code == 0 and "SYNTHETIC" in capsys.readouterr().out
    assert synthetic.main(["--out", str(tmp_path / "a.csv"), "--prompts", "3", "--seed", "9"]) == 0
    assert "wrote 12 synthetic rows" in capsys.readouterr().out
    assert synthetic.main(["--out", str(tmp_path / "a.xml")]) == 2
    assert "unknown format" in capsys.readouterr().err
    # the first prompts do not depend on how many are generated; the seed matters
    assert list(synthetic.generate(5, seed=2)) == list(synthetic.generate(9, seed=2))[: len(list(synthetic.generate(5, seed=2)))]
    assert list(synthetic.generate(5, seed=2)) != list(synthetic.generate(5, seed=3))
    with pytest.raises(InputError, match="p_three=2"):
        list(synthetic.generate(1, p_three=2))


# --------------------------------------------------------------------------- import weight


def test_the_data_modules_do_not_import_sympy_at_module_level():
    files = [ROOT / "verify/experiments" / f for f in ("__init__.py", "helpsteer.py", "construct.py", "synthetic.py")]
    files.append(ROOT / "verify/exact/objects.py")
    for path in files:
        for node in ast.parse(path.read_text()).body:
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not name.startswith(("sympy", "theory", "mpmath")), f"{path.name} imports {name} at module level"
                assert not name.startswith("verify") or name in ("verify.exact.objects", "verify.experiments.helpsteer"), (path.name, name)
