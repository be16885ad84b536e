"""``prefdyn experiment``: the files it writes, its JSON, its errors, and a summary that agrees with its own table.

One run of the command on the shipped synthetic sample (a 2 x 1 grid, few steps, the finite-sample
variant on) writes every file once for the module; the other tests run the command without
``--out`` (nothing written) or fail before any work.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import math
import sys
from collections import defaultdict

import numpy as np
import pytest

from verify.cli import main
from verify.experiments import outputs
from verify.experiments.construct import PAPER_COUNTS, BuildOptions
from verify.experiments.helpsteer import ATTRIBUTES, SAMPLE_PATH


GRID = "alpha=0.5/0.9,beta=8,lam=1"
QUICK = ["--grid", GRID, "--steps", "200", "--engine", "numpy"]
FINITE = ["--finite-pairs", "32", "--realisations", "2"]


def run(capsys, *argv):
    code = main(["experiment", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The command run once with --out (and the finite-sample variant): the folder, its stdout and stderr."""
    import contextlib
    import io

    out = tmp_path_factory.mktemp("experiment") / "results"
    o, e = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        code = main(["experiment", "--synthetic", *QUICK, *FINITE, "--out", str(out)])
    assert code == 0, e.getvalue()
    return out, o.getvalue(), e.getvalue()


# ----------------------------------------------------------------------------- the files


def test_every_file_is_written_and_parses(written):
    out, stdout, _ = written
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    expected = ["chunks", "examples.png", "finite_sample.csv", "finite_sample.png", "heatmap_cycle_strength.png",
                "heatmap_final_entropy.png", "per_matrix.csv", "report.md", "summary.csv", "summary.json"]
    assert [n for n in names if n != "chunks"] == [n for n in expected if n != "chunks"]
    summary = outputs.read_csv(out / "summary.csv")
    per = outputs.read_csv(out / "per_matrix.csv")
    finite = outputs.read_csv(out / "finite_sample.csv")
    with open(out / "summary.csv") as fh:
        assert fh.readline().strip().split(",") == list(outputs.SUMMARY_COLUMNS)
    with open(out / "per_matrix.csv") as fh:
        assert fh.readline().strip().split(",") == list(outputs.PER_MATRIX_COLUMNS)
    with open(out / "finite_sample.csv") as fh:
        assert fh.readline().strip().split(",") == list(outputs.FINITE_COLUMNS)
    doc = json.loads((out / "summary.json").read_text())
    assert {"inputs", "options", "counts", "paper_counts", "counts_vs_paper", "columns", "rows"} <= set(doc)
    assert doc["paper_counts"] == PAPER_COUNTS and doc["inputs"]["synthetic"] is True
    assert doc["rows"] == summary  # the JSON and the CSV hold the same rows, exactly
    counts = doc["counts"]
    S = 2
    assert len(summary) == 2 * S and {r["class"] for r in summary} == {"cyclic", "sst"}
    assert len(per) == (counts["cyclic"] + counts["sst"]) * S == len(finite)
    assert {r["alpha"] for r in per} == {0.5, 0.9} and {r["scale"] for r in per} == {8.0}
    assert all(isinstance(r["oscillating"], bool) and r["cycle_strength"] >= 0 for r in per)
    assert all(0 <= r["final_entropy"] <= math.log(4) + 1e-12 for r in per)
    # the finite-sample table: averaging the realisations' paths lowers the cycle strength
    osc = [r for r in finite if r["share_oscillating"] == 1.0]
    assert osc and all(r["averaged_cycle_strength"] < r["cycle_strength_mean"] for r in osc)
    for name in expected:
        if name != "chunks":
            assert f"wrote {out / name}" in stdout


def test_pictures_are_real(written):
    pytest.importorskip("matplotlib")
    from tests.test_plots import _assert_picture
    from verify.plots.experiment import EXAMPLES_HEIGHT, FINITE_HEIGHT, HEATMAP_HEIGHT

    out = written[0]
    for name, height in (("heatmap_cycle_strength.png", HEATMAP_HEIGHT), ("heatmap_final_entropy.png", HEATMAP_HEIGHT),
                         ("examples.png", EXAMPLES_HEIGHT), ("finite_sample.png", FINITE_HEIGHT)):
        _assert_picture(out / name, height)


def test_report_names_every_option_and_the_counts(written):
    out, stdout, _ = written
    text = (out / "report.md").read_text()
    doc = json.loads((out / "summary.json").read_text())
    for line in BuildOptions(seed=0).describe():
        assert line in text
    for key, value in doc["options"]["sweep"].items():
        assert f"- {key}: " in text, key
    assert "pairs = 32" in text and "realisations = 2" in text and "unsampled = hold" in text
    assert f"rows read: {doc['inputs']['rows']:,}" in text and "rows skipped" in text
    assert "| cyclic | " in text and "| 118 |" in text and "| 4,924 |" in text
    assert str(SAMPLE_PATH) in text and "synthetic" in text.lower()
    assert "## Where the numbers differ from the paper's" in text and "not comparable" in text
    assert "Iterations: 200 per run (the paper: 3,000)" in text
    assert "prefdyn experiment --synthetic" in text  # the command that reproduces it
    # the counts are printed beside the paper's on stdout too
    assert "118" in stdout and "4,924" in stdout and "paper" in stdout


# ----------------------------------------------------------------------------- the summary agrees with the table


def recompute_summary(per: list[dict]) -> list[dict]:
    """The summary rows, recomputed from per_matrix.csv alone (plain Python, no code of outputs.py)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in per:
        groups[(r["class"], r["setting"])].append(r)
    rows = []
    for (c, j), rs in groups.items():
        cs = sorted(r["cycle_strength"] for r in rs)
        n = len(cs)
        median = cs[n // 2] if n % 2 else (cs[n // 2 - 1] + cs[n // 2]) / 2
        rows.append({"class": c, "setting": j, "alpha": rs[0]["alpha"], "scale": rs[0]["scale"], "lambda": rs[0]["lambda"],
                     "n_matrices": n, "cycle_strength_mean": math.fsum(cs) / n, "cycle_strength_median": median,
                     "cycle_strength_max": cs[-1], "final_entropy_mean": math.fsum(r["final_entropy"] for r in rs) / n,
                     "share_oscillating": sum(r["oscillating"] for r in rs) / n, "share_converged": sum(r["converged"] for r in rs) / n})
    return rows


def summary_mismatches(summary: list[dict], per: list[dict], rel: float = 1e-12) -> list[str]:
    """Every cell of ``summary`` that differs from the recomputation from ``per`` (beyond rounding)."""
    want = {(r["class"], r["setting"]): r for r in recompute_summary(per)}
    bad = []
    if {(r["class"], r["setting"]) for r in summary} != set(want):
        bad.append("different (class, setting) rows")
    for r in summary:
        w = want.get((r["class"], r["setting"]))
        if w is None:
            continue
        for k in outputs.SUMMARY_COLUMNS:
            a, b = r[k], w[k]
            if isinstance(b, float) and not math.isclose(a, b, rel_tol=rel, abs_tol=1e-300):
                bad.append(f"{r['class']} setting {r['setting']}: {k} = {a}, recomputed {b}")
            elif not isinstance(b, float) and a != b:
                bad.append(f"{r['class']} setting {r['setting']}: {k} = {a}, recomputed {b}")
    return bad


def test_summary_equals_its_recomputation_from_per_matrix(written):
    out = written[0]
    summary, per = outputs.read_csv(out / "summary.csv"), outputs.read_csv(out / "per_matrix.csv")
    assert summary_mismatches(summary, per) == []
    assert any(r["share_oscillating"] > 0 for r in summary if r["class"] == "cyclic")  # not a table of zeros


def _planted(kind: str, per: list[dict]) -> list[dict]:
    """The summary of ``per`` computed by outputs.summary_rows with one mistake planted."""
    mats = sorted({r["matrix"] for r in per})
    S = 1 + max(r["setting"] for r in per)
    cls = np.array([next(r["class"] for r in per if r["matrix"] == m) for m in mats])
    settings = np.array(sorted({(r["setting"], r["alpha"], r["scale"], r["lambda"]) for r in per}))[:, 1:]
    arrays = {m: np.zeros((len(mats), S), dtype=bool if m in ("oscillating", "converged") else float) for m in outputs.METRICS}
    for r in per:
        for m in outputs.METRICS:
            arrays[m][r["matrix"], r["setting"]] = r[m]
    if kind == "classes shifted by one matrix":
        cls = np.roll(cls, 1)
    if kind == "settings swapped":
        arrays = {m: a[:, ::-1] for m, a in arrays.items()}
    if kind == "oscillating read as converged":
        arrays["oscillating"] = arrays["converged"]
    rows = outputs.summary_rows(cls, settings, arrays, order=("cyclic", "sst"))
    if kind == "median as mean":
        for r in rows:
            r["cycle_strength_median"] = r["cycle_strength_mean"]
    if kind == "entropy over every class":
        allmean = float(arrays["final_entropy"].mean(axis=0)[0])
        for r in rows:
            if r["setting"] == 0:
                r["final_entropy_mean"] = allmean
    return rows


@pytest.mark.parametrize("kind", ["none", "classes shifted by one matrix", "settings swapped", "oscillating read as converged",
                                  "median as mean", "entropy over every class"])
def test_a_planted_wrong_aggregation_is_caught(kind, written):
    per = outputs.read_csv(written[0] / "per_matrix.csv")
    bad = summary_mismatches(_planted(kind, per), per)
    assert (bad == []) == (kind == "none"), bad[:3]


# ----------------------------------------------------------------------------- JSON, text, nothing written


def test_json_on_stdout_only_and_nothing_written(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "--synthetic", *QUICK, "--json")
    assert code == 0
    doc = json.loads(out)  # stdout is exactly one JSON document
    assert {"inputs", "options", "counts", "paper_counts", "counts_vs_paper", "summary", "headline", "differences", "files",
            "seconds"} <= set(doc)
    assert doc["files"] == {} and list(tmp_path.iterdir()) == []
    assert doc["paper_counts"] == {"cyclic": 118, "sst": 4924}
    assert [c["class"] for c in doc["counts_vs_paper"]] == ["cyclic", "sst", "transitive", "other"]
    assert doc["options"]["sweep"]["steps"] == 200 and doc["options"]["classes"] == ["cyclic", "sst"]
    assert "{" not in err  # logs on stderr, no JSON there
    code, out, err = run(capsys, "--synthetic", *QUICK, "--quiet")
    assert code == 0 and err == ""
    assert "118" in out and "4,924" in out and "cyclic" in out  # the counts beside the paper's, always
    assert list(tmp_path.iterdir()) == []


def _subset(tmp_path, n_prompts: int = 60):
    """The first prompts of the shipped sample, written as JSONL and as JSONL.gz."""
    with gzip.open(SAMPLE_PATH, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    keep = list(dict.fromkeys(r["prompt"] for r in rows))[:n_prompts]
    text = "".join(json.dumps(r) + "\n" for r in rows if r["prompt"] in keep)
    plain, packed = tmp_path / "sample.jsonl", tmp_path / "sample.jsonl.gz"
    plain.write_text(text, encoding="utf-8")
    with gzip.open(packed, "wt", encoding="utf-8") as fh:
        fh.write(text)
    return plain, packed


def test_jsonl_and_jsonl_gz_give_the_same_output(tmp_path, capsys):
    plain, packed = _subset(tmp_path)
    docs = []
    for path in (plain, packed):
        code, out, err = run(capsys, "--data", str(path), *QUICK, "--classes", "all", "--json", "--quiet")
        assert code == 0, err
        docs.append(json.loads(out))
    a, b = docs
    assert a["inputs"]["format"] == "jsonl" and b["inputs"]["format"] == "jsonl.gz"
    for d in docs:
        d["inputs"].pop("path"), d["inputs"].pop("format"), d.pop("seconds")
    assert a == b and a["inputs"]["synthetic"] is False
    assert "Data: the file has" in " ".join(a["differences"])


# ----------------------------------------------------------------------------- bad input: one line, exit 2


BAD = {
    "neither": ([], "--data FILE"),
    "both": (["--synthetic", "--data", "x.jsonl"], "not both"),
    "missing file": (["--data", "no/such/file.jsonl"], "no/such/file.jsonl"),
    "bad grid": (["--synthetic", "--grid", "alpha=2:1"], "grid"),
    "bad class": (["--synthetic", "--classes", "cyclic,round"], "--classes"),
    "bad attribute": (["--synthetic", "--attribute", "kindness"], "--attribute"),
    "bad sigmoid scale": (["--synthetic", "--sigmoid-scale", "-1"], "sigmoid"),
    "finite option alone": (["--synthetic", "--realisations", "4"], "--finite-pairs"),
    "workers and scheduler": (["--synthetic", "--workers", "2", "--scheduler", "tcp://x:1"], "not both"),
    "bad loss": (["--synthetic", "--loss", "nosuchloss"], "nosuchloss"),
    "steps": (["--synthetic", "--steps", "0"], "--steps"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_line_and_exit_2(case, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv, needle = BAD[case]
    code, out, err = run(capsys, *argv, "--steps", "10") if case != "steps" else run(capsys, *argv)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("prefdyn experiment: error: ") and needle in lines[0], err
    assert list(tmp_path.iterdir()) == []


def test_out_that_is_a_file_is_refused(tmp_path, capsys):
    f = tmp_path / "taken"
    f.write_text("")
    code, out, err = run(capsys, "--synthetic", *QUICK, "--out", str(f))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "is a file" in err


def test_workers_without_the_distributed_extra(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "distributed" else real(name, *a))
    code, out, err = run(capsys, "--synthetic", *QUICK, "--workers", "2")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert 'pip install "prefdyn[distributed]"' in err


def test_without_matplotlib_tables_and_report_are_written(tmp_path, monkeypatch, capsys):
    from tests.test_plots import _hide_matplotlib

    _hide_matplotlib(monkeypatch)
    code, out, err = run(capsys, "--synthetic", *QUICK, "--out", str(tmp_path / "r"), "--quiet")
    assert code == 0, err
    names = sorted(p.name for p in (tmp_path / "r").iterdir() if p.suffix in (".csv", ".json", ".md", ".png"))
    assert names == ["per_matrix.csv", "report.md", "summary.csv", "summary.json"]
    assert "prefdyn[plot]" in out and "prefdyn[plot]" in (tmp_path / "r" / "report.md").read_text()


# ----------------------------------------------------------------------------- the command line itself


def _parser() -> argparse.ArgumentParser:
    from verify.cli import build_parser

    sub = next(a for a in build_parser()._subparsers._group_actions)
    return sub.choices["experiment"]


def test_help_states_every_default_and_the_defaults_agree():
    from verify.commands.experiment import DEFAULTS
    from verify.experiments.finite import FiniteSample
    from verify.experiments.pipeline import DEFAULT_CLASSES, DEFAULT_STEPS

    for action in _parser()._actions:
        if action.option_strings and action.dest != "help":
            assert "default" in (action.help or ""), action.option_strings
    b, f = BuildOptions(), FiniteSample()
    assert (DEFAULTS["group"], DEFAULTS["attribute"], DEFAULTS["ties"], DEFAULTS["premise"], float(DEFAULTS["sigmoid_scale"])) == (
        b.group, b.attribute, b.ties, b.premise, b.scale)
    assert (DEFAULTS["realisations"], DEFAULTS["prior"], DEFAULTS["unsampled"]) == (f.realisations, f.prior, f.unsampled)
    assert DEFAULTS["steps"] == DEFAULT_STEPS == 3000 and tuple(DEFAULTS["classes"].split(",")) == DEFAULT_CLASSES
    assert b.K == 4 and DEFAULTS["loss"] == "ipo"
    help_text = _parser().format_help()
    for name in ATTRIBUTES:
        assert name in help_text


def test_building_the_command_line_imports_no_numeric_library():
    """The command module imports only the standard library at module level (numpy, matplotlib, sympy and the
    experiment modules are imported inside run()), so building the parser costs nothing."""
    import ast

    import verify.commands.experiment as m

    tree = ast.parse(open(m.__file__, encoding="utf-8").read())
    top = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            top.add((node.module or "").split(".")[0])
    assert top <= {"__future__", "argparse", "shlex", "sys", "textwrap", "typing"}, top
    before = set(sys.modules)
    m.register(argparse.ArgumentParser().add_subparsers())
    assert set(sys.modules) - before == set()  # register() imports nothing


def test_the_example_runs_are_the_runs_in_the_table(written):
    """examples.png draws the sweep's own runs: rerun, their metrics are the per-matrix rows (and a planted other start is not)."""
    from dataclasses import replace

    from verify.experiments import construct, helpsteer, sweep
    from verify.numerics.metrics import cycle_strength

    out = written[0]
    doc = json.loads((out / "summary.json").read_text())
    spec = sweep.SweepSpec.from_json(doc["options"]["sweep"])
    groups, _ = helpsteer.load_groups(SAMPLE_PATH)
    selected = construct.build_matrices(groups, BuildOptions(**doc["options"]["build"])).select(doc["options"]["classes"])
    per = outputs.read_csv(out / "per_matrix.csv")
    N, S = len(selected.classes), len(per) // len(selected.classes)
    cs = np.array([r["cycle_strength"] for r in per]).reshape(N, S)
    pick = outputs.pick_examples(selected.classes, {"cycle_strength": cs})
    assert selected.classes[pick["cyclic"]] == "cyclic" and selected.classes[pick["sst"]] == "sst"
    for i in (pick["cyclic"], pick["sst"]):
        traj, paths = outputs.example_runs(selected.P, i, pick["setting"], spec)
        row = per[i * S + pick["setting"]]
        assert row["matrix"] == i and row["prompt_index"] == int(selected.prompt_index[i])
        got = float(cycle_strength(np.exp(traj), burn_in=spec.burn_in))
        assert math.isclose(got, row["cycle_strength"], rel_tol=1e-9, abs_tol=1e-18), (i, got, row["cycle_strength"])
        assert paths.shape == (spec.finite.realisations, spec.steps + 1, 4)
    moved = replace(spec, seed=spec.seed + 1)  # another start: a different run, caught
    traj, _ = outputs.example_runs(selected.P, pick["cyclic"], pick["setting"], moved)
    other = float(cycle_strength(np.exp(traj), burn_in=spec.burn_in))
    assert not math.isclose(other, per[pick["cyclic"] * S + pick["setting"]]["cycle_strength"], rel_tol=1e-9)


def test_the_experiment_modules_import_no_symbolic_or_plotting_library_at_module_level():
    import ast

    from verify.experiments import pipeline
    from verify.plots import experiment as plots

    for mod in (pipeline, outputs, plots):
        tree = ast.parse(open(mod.__file__, encoding="utf-8").read())
        top = [a.name for n in tree.body if isinstance(n, ast.Import) for a in n.names]
        top += [n.module for n in tree.body if isinstance(n, ast.ImportFrom) and n.module]
        heavy = [m for m in top if m.split(".")[0] in ("sympy", "theory", "mpmath", "matplotlib", "distributed", "dask", "numba")]
        assert heavy == [], (mod.__name__, heavy)
