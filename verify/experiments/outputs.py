"""The outputs of an experiment: summary and per-matrix tables, figures, and a Markdown report.

:func:`write_outputs` writes, into one directory:

* ``summary.csv`` and ``summary.json`` — one row per matrix class and setting
  (:data:`SUMMARY_COLUMNS`): the number of matrices, the mean, median and maximum cycle strength,
  the mean final entropy, and the shares of runs that oscillate and that converged;
* ``per_matrix.csv`` — one row per matrix and setting (:data:`PER_MATRIX_COLUMNS`): its prompt,
  class, setting and every metric of the run;
* ``finite_sample.csv`` (with the finite-sample variant) — one row per matrix and setting;
* figures (PNG, with matplotlib): ``heatmap_cycle_strength.png``, ``heatmap_final_entropy.png``,
  ``examples.png`` and, with the finite-sample variant, ``finite_sample.png``;
* ``report.md`` — the inputs, every option, the class counts beside the paper's, the headline
  numbers, and where the numbers differ from the paper's.

The tables are computed by :func:`per_matrix_columns` and :func:`summary_rows` from the arrays of a
sweep (one ``(N, S)`` array per metric), so the summary can be recomputed from ``per_matrix.csv``.
Floats are written with ``repr`` (the shortest text that reads back to the same float), so two
runs give byte-identical tables exactly when their numbers agree.

>>> import numpy as np
>>> rows = summary_rows(np.array(["cyclic", "sst", "cyclic"]), np.array([[0.5, 1.0, 1.0]]),
...                     {"cycle_strength": np.array([[1e-3], [0.0], [3e-3]]), "final_entropy": np.array([[1.0], [0.5], [1.2]]),
...                      "oscillating": np.array([[True], [False], [True]]), "converged": np.array([[False], [True], [False]])})
>>> [(r["class"], r["n_matrices"], r["cycle_strength_mean"], r["share_oscillating"]) for r in rows]
[('cyclic', 2, 0.002, 1.0), ('sst', 1, 0.0, 0.0)]
"""

from __future__ import annotations

import csv
import json
import math
import os
import pathlib
from typing import Any, Iterable, Sequence

import numpy as np

from verify.experiments.construct import PAPER_COUNTS

__all__ = [
    "DEFAULT_CLASSES",
    "METRICS",
    "SUMMARY_COLUMNS",
    "PER_MATRIX_COLUMNS",
    "PAPER",
    "TABLE_FILES",
    "FIGURE_FILES",
    "ROUNDING",
    "sweep_metrics",
    "draw_figures",
    "example_runs",
    "FINITE_COLUMNS",
    "per_matrix_columns",
    "finite_rows",
    "pick_examples",
    "summary_rows",
    "counts_table",
    "differences_from_paper",
    "headline",
    "report_markdown",
    "write_csv",
    "write_columns",
    "read_csv",
    "write_outputs",
]

#: The classes the paper runs.
DEFAULT_CLASSES: tuple[str, ...] = ("cyclic", "sst")

#: The metrics of every run, in the order of the per-matrix table (verify/numerics/metrics.py).
METRICS: tuple[str, ...] = ("cycle_strength", "final_entropy", "amplitude", "last_delta", "oscillating", "converged")

#: The columns of ``summary.csv`` (``scale`` is the loss's own scale: IPO beta, DPO beta_dpo, ...).
SUMMARY_COLUMNS: tuple[str, ...] = (
    "class", "setting", "alpha", "scale", "lambda", "n_matrices",
    "cycle_strength_mean", "cycle_strength_median", "cycle_strength_max",
    "final_entropy_mean", "share_oscillating", "share_converged",
)

#: The columns of ``per_matrix.csv``: one row per matrix and setting.
PER_MATRIX_COLUMNS: tuple[str, ...] = ("matrix", "prompt_index", "class", "setting", "alpha", "scale", "lambda") + METRICS

#: The paper's setup (arXiv:2602.12180, §5): HelpSteer responses, K, the kept counts, iterations, loss.
PAPER: dict[str, Any] = {"rows": 35331, "K": 4, "counts": dict(PAPER_COUNTS), "steps": 3000, "loss": "ipo"}

#: The table files and what each holds.
TABLE_FILES: dict[str, str] = {
    "summary.csv": "one row per matrix class and setting (n matrices, cycle strength mean/median/max, mean final entropy, "
                   "shares oscillating and converged)",
    "summary.json": "the same rows, with the inputs, the options and the counts beside the paper's",
    "per_matrix.csv": "one row per matrix and setting: prompt index, class, setting and every metric",
    "finite_sample.csv": "the finite-sample variant: one row per matrix and setting",
}

#: A cycle strength below this is rounding (a converged run's variance is ~1e-33): the heatmaps draw it as 0.
ROUNDING = 1e-20

#: The figure files and what each shows.
FIGURE_FILES: dict[str, str] = {
    "heatmap_cycle_strength": "mean cycle strength over the grid, one panel per class",
    "heatmap_final_entropy": "mean final entropy over the grid, one panel per class",
    "examples": "the policy of an example cyclic and an example SST matrix against the iteration",
    "finite_sample": "finite-sample paths against the population path and the realisation average",
}


def _num(x: Any) -> Any:
    """A JSON value: numpy bools, ints and floats as Python's."""
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x)
    return x


def _settings(settings: Any) -> np.ndarray:
    s = np.asarray(settings, float)
    if s.ndim != 2 or s.shape[1] != 3:
        raise ValueError(f"settings have shape {s.shape}, expected (S, 3) = (alpha, scale, lambda)")
    return s


def _texts(values: Any) -> list[str]:
    """Table cells of a 1-d array or list, as :func:`write_csv` writes them."""
    vals = values.tolist() if isinstance(values, np.ndarray) else list(values)
    if vals and isinstance(vals[0], bool):
        return ["true" if v else "false" for v in vals]
    if vals and isinstance(vals[0], float):
        return list(map(repr, vals))
    return list(map(str, vals))


def per_matrix_columns(prompt_index: Any, classes: Any, settings: Any, metrics: dict[str, np.ndarray]) -> dict[str, list[str]]:
    """The cells of ``per_matrix.csv`` column by column (:data:`PER_MATRIX_COLUMNS`), one row per matrix and setting,
    matrix-major (row ``i * S + j`` is matrix ``i`` at setting ``j``).

    ``metrics`` maps each name of :data:`METRICS` to its ``(N, S)`` array; ``prompt_index`` and ``classes`` are
    ``(N,)``, ``settings`` is ``(S, 3)``. Built per column (a paper-scale sweep has hundreds of thousands of rows;
    the per-matrix and per-setting cells are formatted once and repeated).

    >>> cols = per_matrix_columns([7, 9], ["sst", "cyclic"], [[0.5, 8.0, 1.0]], {m: np.zeros((2, 1)) for m in METRICS})
    >>> cols["prompt_index"], cols["class"], cols["alpha"], cols["cycle_strength"]
    (['7', '9'], ['sst', 'cyclic'], ['0.5', '0.5'], ['0.0', '0.0'])
    """
    s = _settings(settings)
    pidx = np.asarray(prompt_index).astype(np.int64)
    cls = np.asarray(classes).astype(str)
    N, S = len(pidx), len(s)
    for m in METRICS:
        if np.shape(metrics[m]) != (N, S):
            raise ValueError(f"metric {m} has shape {np.shape(metrics[m])}, expected ({N}, {S})")

    def repeat(cells: list[str]) -> list[str]:  # each matrix's cell, once per setting
        return [c for c in cells for _ in range(S)]

    cols = {"matrix": repeat(_texts(np.arange(N))), "prompt_index": repeat(_texts(pidx)), "class": repeat(_texts(cls)),
            "setting": _texts(np.arange(S)) * N}
    for k, name in enumerate(("alpha", "scale", "lambda")):
        cols[name] = _texts(s[:, k].astype(float)) * N
    for m in METRICS:
        cols[m] = _texts(np.asarray(metrics[m]).reshape(-1))
    return cols


def summary_rows(classes: Any, settings: Any, metrics: dict[str, np.ndarray], order: Sequence[str] | None = None) -> list[dict]:
    """One row per class and setting (:data:`SUMMARY_COLUMNS`): class-major, settings in order.

    The statistics are over the class's matrices at that setting: mean, median and maximum of the
    cycle strength, mean of the final entropy, and the shares (in [0, 1]) of runs flagged
    oscillating and converged. ``order`` is the order of the classes (default: as they first
    appear); a class without matrices has no rows.
    """
    s = _settings(settings)
    cls = np.asarray(classes).astype(str)
    names = list(order) if order is not None else list(dict.fromkeys(cls.tolist()))
    cs = np.asarray(metrics["cycle_strength"], float)
    fe = np.asarray(metrics["final_entropy"], float)
    osc = np.asarray(metrics["oscillating"], bool)
    conv = np.asarray(metrics["converged"], bool)
    rows = []
    for name in names:
        mask = cls == name
        n = int(mask.sum())
        if n == 0:
            continue
        c = cs[mask]
        stats = {
            "cycle_strength_mean": c.mean(axis=0),
            "cycle_strength_median": np.median(c, axis=0),
            "cycle_strength_max": c.max(axis=0),
            "final_entropy_mean": fe[mask].mean(axis=0),
            "share_oscillating": osc[mask].mean(axis=0),
            "share_converged": conv[mask].mean(axis=0),
        }
        for j in range(len(s)):
            row = {"class": name, "setting": j, "alpha": float(s[j, 0]), "scale": float(s[j, 1]), "lambda": float(s[j, 2]), "n_matrices": n}
            row.update({k: float(v[j]) for k, v in stats.items()})
            rows.append(row)
    return rows


def counts_table(counts: dict[str, int], paper: dict[str, int] | None = None) -> list[dict]:
    """The class counts beside the paper's: ``[{"class", "count", "paper"}, ...]`` (``paper`` None where it gives none).

    >>> counts_table({"cyclic": 3, "sst": 40, "transitive": 5, "other": 1})[:2]
    [{'class': 'cyclic', 'count': 3, 'paper': 118}, {'class': 'sst', 'count': 40, 'paper': 4924}]
    """
    paper = PAPER["counts"] if paper is None else paper
    return [{"class": c, "count": int(n), "paper": paper.get(c)} for c, n in counts.items()]


def write_csv(path: Any, rows: Iterable[dict], columns: Sequence[str]) -> pathlib.Path:
    """Write ``rows`` (dicts) as CSV with a header of ``columns``; floats exactly (``repr``), bools ``true``/``false``."""
    path = pathlib.Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([_cell(r.get(c)) for c in columns])
    os.replace(tmp, path)
    return path


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return str(v)


def write_columns(path: Any, columns: dict[str, Sequence[str]], order: Sequence[str]) -> pathlib.Path:
    """Write a table given as columns of cell texts (:func:`per_matrix_columns`); no cell may need quoting."""
    path = pathlib.Path(path)
    texts = [columns[name] for name in order]
    if len({len(t) for t in texts}) > 1:
        raise ValueError("columns of different lengths")
    for name, t in zip(order, texts):
        if any(("," in v or '"' in v or "\n" in v) for v in set(t)):
            raise ValueError(f"column {name} has a cell that needs quoting")
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(order) + "\n")
        fh.writelines(",".join(cells) + "\n" for cells in zip(*texts))
    os.replace(tmp, path)
    return path


def read_csv(path: Any) -> list[dict]:
    """Read a table written by :func:`write_csv`: numbers as int or float, ``true``/``false`` as bools."""

    def conv(v: str) -> Any:
        if v in ("true", "false"):
            return v == "true"
        if v == "":
            return None
        try:
            return int(v)
        except ValueError:
            pass
        try:
            return float(v)
        except ValueError:
            return v

    with open(path, newline="", encoding="utf-8") as fh:
        return [{k: conv(v) for k, v in r.items()} for r in csv.DictReader(fh)]


def _json_ready(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _json_ready(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_ready(v) for v in x]
    if isinstance(x, pathlib.PurePath):
        return str(x)
    if isinstance(x, np.ndarray):
        return _json_ready(x.tolist())
    if isinstance(x, (float, np.floating)):
        f = float(x)
        return f if math.isfinite(f) else str(f)
    if hasattr(x, "to_json"):
        return _json_ready(x.to_json())
    return _num(x)


def _write_json(path: pathlib.Path, doc: Any) -> pathlib.Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(_json_ready(doc), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def headline(rows: Sequence[dict], scale_name: str = "scale") -> list[str]:
    """The headline numbers of a summary (one line per class): where its mean cycle strength is largest,
    how often its runs oscillate and converge, and its range of mean final entropy. ``scale_name`` names
    the loss's scale (``beta`` for IPO).

    >>> r = [{"class": "sst", "setting": 0, "alpha": 0.5, "scale": 4.0, "lambda": 1.0, "n_matrices": 2, "cycle_strength_mean": 0.0,
    ...       "cycle_strength_median": 0.0, "cycle_strength_max": 0.0, "final_entropy_mean": 0.2, "share_oscillating": 0.0,
    ...       "share_converged": 1.0}]
    >>> print(headline(r)[0])
    sst (2 matrices, 1 setting): mean cycle strength 0 up to rounding (at most 0); oscillating in 0% of runs, converged in 100%; mean final entropy 0.2 to 0.2 nats
    """
    out = []
    for name in dict.fromkeys(r["class"] for r in rows):
        rs = [r for r in rows if r["class"] == name]
        top = max(rs, key=lambda r: r["cycle_strength_mean"])
        osc = sum(r["share_oscillating"] for r in rs) / len(rs)
        conv = sum(r["share_converged"] for r in rs) / len(rs)
        fe = [r["final_entropy_mean"] for r in rs]
        n = rs[0]["n_matrices"]
        where = f"alpha = {top['alpha']:g}, {scale_name} = {top['scale']:g}, lambda = {top['lambda']:g}"
        most = (f"mean cycle strength 0 up to rounding (at most {top['cycle_strength_mean']:.2g})"
                if top["cycle_strength_mean"] < ROUNDING else f"mean cycle strength at most {top['cycle_strength_mean']:.4g} ({where})")
        out.append(
            f"{name} ({n:,} matrices, {len(rs)} setting{'s' if len(rs) != 1 else ''}): {most}; "
            f"oscillating in {100 * osc:.3g}% of runs, converged in {100 * conv:.3g}%; "
            f"mean final entropy {min(fe):.4g} to {max(fe):.4g} nats"
        )
    return out


def differences_from_paper(
    *, counts: dict[str, int], rows_read: int, synthetic: bool, K: int, steps: int, loss: str, classes: Sequence[str],
    finite: Any = None,
) -> list[str]:
    """Where this run's numbers differ from the paper's, and why (one sentence each).

    >>> d = differences_from_paper(counts={"cyclic": 3, "sst": 50}, rows_read=400, synthetic=True, K=4, steps=300,
    ...                            loss="ipo", classes=("cyclic", "sst"))
    >>> [x.split(":")[0] for x in d]
    ['Data', 'Counts', 'Iterations', 'Unstated choices']
    """
    out = []
    paper_counts = PAPER["counts"]
    if synthetic:
        out.append(
            "Data: the input is the synthetic sample shipped with prefdyn (HelpSteer schema, generated scores), not NVIDIA "
            f"HelpSteer: {rows_read:,} rows against the paper's {PAPER['rows']:,}. Its class counts and every number "
            "below are not comparable with the paper's; run with --data on HelpSteer's train.jsonl.gz for those."
        )
    elif rows_read != PAPER["rows"]:
        out.append(
            f"Data: the file has {rows_read:,} rows; the paper's HelpSteer has {PAPER['rows']:,} responses "
            "(a different split or version of the dataset gives different counts)."
        )
    diff = [f"{c} {counts.get(c, 0):,} (paper {p:,})" for c, p in paper_counts.items() if counts.get(c, 0) != p]
    if diff:
        why = "the data differ" if synthetic or rows_read != PAPER["rows"] else (
            "the paper does not state its choices for ties, for prompts with more or fewer than 4 responses, for the "
            "attribute drawn per pair, for how a tie enters the SST test, or its seed; the options above are this run's "
            "choices (--ties, --group, --attribute, --premise, --seed change them)")
        out.append(f"Counts: {'; '.join(diff)}: {why}.")
    if K != PAPER["K"]:
        out.append(f"K: {K} responses per prompt (the paper: {PAPER['K']}).")
    if steps != PAPER["steps"]:
        out.append(f"Iterations: {steps:,} per run (the paper: {PAPER['steps']:,}); cycle strength and final entropy depend on it.")
    if loss != PAPER["loss"]:
        out.append(f"Loss: {loss} (the paper runs MRS-IPO); the scale axis is this loss's own scale.")
    if tuple(classes) != tuple(paper_counts):
        out.append(f"Classes: {', '.join(classes)} (the paper studies the cyclic and the SST matrices).")
    if finite is not None:
        out.append(
            "Finite-sample variant: the paper does not state the number of pairs per round, the number of realisations "
            "or what happens to a response no pair sampled; this run's choices are listed above."
        )
    out.append(
        "Unstated choices: the paper does not give its grid values, burn-in or starting policies; this run's are listed "
        "above (the burn-in states are left out of the cycle strength)."
    )
    return out


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in r) + " |")
    return "\n".join(lines)


def _g(x: Any) -> str:
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def report_markdown(
    *,
    inputs: dict,
    build_lines: Sequence[str],
    spec: dict,
    counts: dict[str, int],
    classes: Sequence[str],
    rows: Sequence[dict],
    differences: Sequence[str],
    files: dict[str, str],
    figures_note: str | None = None,
    command: str | None = None,
    scale_name: str = "scale",
    finite_lines: Sequence[str] = (),
    max_rows: int = 40,
) -> str:
    """The Markdown report of an experiment: inputs, options, counts, headline numbers, differences, files.

    ``inputs`` is the loader's report (``LoadReport.to_json()``: path, format, rows, skipped, bad,
    prompts) with ``synthetic``; ``build_lines`` the lines of ``BuildOptions.describe()``;
    ``spec`` the sweep's ``SweepSpec.to_json()`` (every field is listed); ``rows`` the summary rows;
    ``scale_name`` the name of the loss's scale (the column ``scale`` of the tables); ``finite_lines`` the
    lines of ``FiniteSample.describe()`` when the finite-sample variant ran.
    """
    out = ["# Experiment report", ""]
    if command:
        out += ["Reproduce with:", "", "```sh", command, "```", ""]
    out += ["## Inputs", ""]
    kind = "the synthetic sample shipped with prefdyn: HelpSteer schema, **synthetic scores**" if inputs.get("synthetic") else "a HelpSteer-schema file"
    out.append(f"- file: `{inputs.get('path')}` ({kind})")
    out.append(f"- format: {inputs.get('format')}")
    out.append(f"- rows read: {inputs.get('rows', 0):,}; rows skipped (malformed, --skip-bad): {inputs.get('skipped', 0):,}")
    out.append(f"- prompts: {inputs.get('prompts', 0):,}")
    for msg in inputs.get("bad") or []:
        out.append(f"  - skipped: {msg}")
    out += ["", "## Options", "", "Matrix construction:", ""]
    out += [f"- {line}" for line in build_lines]
    out += ["", "Runs:", ""]
    for k, v in spec.items():
        if isinstance(v, dict):
            out.append(f"- {k}: " + ", ".join(f"{kk} = {_fmt_value(vv)}" for kk, vv in v.items()))
        else:
            out.append(f"- {k}: {_fmt_value(v)}")
    out.append(f"- classes run: {', '.join(classes)}")
    if finite_lines:
        out += ["", "Finite-sample variant:", ""]
        out += [f"- {line}" for line in finite_lines]
    if scale_name != "scale":
        out.append(f"- the column `scale` of the tables is the loss's scale {scale_name}")
    out += ["", "## Class counts", "", "Matrices of each class, beside the paper's (it reports the cyclic and the SST counts):", ""]
    out.append(_md_table(["class", "this run", "paper"], [[c["class"], f"{c['count']:,}", "" if c["paper"] is None else f"{c['paper']:,}"]
                                                          for c in counts_table(counts)]))
    out += ["", "## Headline numbers", ""]
    out += [f"- {line}" for line in headline(rows, scale_name)] or ["- no matrix of the selected classes"]
    out += ["", "## Where the numbers differ from the paper's", ""]
    out += [f"- {d}" for d in differences]
    out += ["", "## Summary", ""]
    cols = ["class", "alpha", scale_name if scale_name != "scale" else "scale", "lambda", "n", "cycle strength mean", "median", "max", "final entropy mean", "oscillating", "converged"]
    body = [[r["class"], _g(r["alpha"]), _g(r["scale"]), _g(r["lambda"]), r["n_matrices"], _g(r["cycle_strength_mean"]),
             _g(r["cycle_strength_median"]), _g(r["cycle_strength_max"]), _g(r["final_entropy_mean"]),
             f"{100 * r['share_oscillating']:.3g}%", f"{100 * r['share_converged']:.3g}%"] for r in rows[:max_rows]]
    out.append(_md_table(cols, body))
    if len(rows) > max_rows:
        out.append(f"\n({len(rows) - max_rows} more rows in summary.csv.)")
    out += ["", "## Files", ""]
    for name, what in files.items():
        out.append(f"- `{name}`: {what}")
    if figures_note:
        out.append(f"- {figures_note}")
    return "\n".join(out) + "\n"


def _fmt_value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt_value(x) for x in v) + "]"
    if v is None:
        return "none"
    return str(v)


#: The columns of ``finite_sample.csv``: per matrix and setting, the realisations' mean metrics and those of their average path.
FINITE_COLUMNS: tuple[str, ...] = (
    "matrix", "prompt_index", "class", "setting", "alpha", "scale", "lambda", "realisations",
    "cycle_strength_mean", "cycle_strength_min", "cycle_strength_max", "final_entropy_mean", "share_oscillating",
    "averaged_cycle_strength", "averaged_final_entropy", "averaged_oscillating", "population_cycle_strength",
)


def finite_rows(prompt_index: Any, classes: Any, settings: Any, sweep: Any) -> list[dict]:
    """One row per matrix and setting of the finite-sample variant (:data:`FINITE_COLUMNS`).

    From the sweep's ``finite`` result (:class:`verify.experiments.finite.FiniteRun`: per realisation
    ``(N, S, R)``, of the realisation-averaged path ``(N, S)``): the mean, min and max over the
    realisations of the cycle strength, the mean final entropy and the share of realisations that
    oscillate; the cycle strength, final entropy and oscillation of the averaged path; and the
    population run's cycle strength beside them.
    """
    f = sweep.finite
    s = _settings(settings)
    cs = np.asarray(f.cycle_strength, float)
    fe = np.asarray(f.final_entropy, float)
    osc = np.asarray(f.oscillating, bool)
    N, S, R = cs.shape
    pop = np.asarray(sweep.cycle_strength, float)
    cols = {
        "cycle_strength_mean": cs.mean(axis=2), "cycle_strength_min": cs.min(axis=2), "cycle_strength_max": cs.max(axis=2),
        "final_entropy_mean": fe.mean(axis=2), "share_oscillating": osc.mean(axis=2),
        "averaged_cycle_strength": np.asarray(f.averaged_cycle_strength, float),
        "averaged_final_entropy": np.asarray(f.averaged_final_entropy, float),
        "averaged_oscillating": np.asarray(f.averaged_oscillating, bool), "population_cycle_strength": pop,
    }
    lists = {k: v.tolist() for k, v in cols.items()}
    pidx, cls, st = np.asarray(prompt_index).tolist(), np.asarray(classes).astype(str).tolist(), s.tolist()
    rows = []
    for i in range(N):
        for j in range(S):
            row = {"matrix": i, "prompt_index": pidx[i], "class": cls[i], "setting": j, "alpha": st[j][0], "scale": st[j][1],
                   "lambda": st[j][2], "realisations": R}
            row.update({k: v[i][j] for k, v in lists.items()})
            rows.append(row)
    return rows


def pick_examples(classes: Any, metrics: dict[str, np.ndarray]) -> dict:
    """The example runs drawn in ``examples.png``: ``{"setting": j, "cyclic": i or None, "sst": i or None}``.

    The setting is the one where the cyclic class's mean cycle strength is largest (without cyclic
    matrices: the first class's); the cyclic example is the cyclic matrix of largest cycle strength
    there, the SST example the SST matrix of median cycle strength there (the lower middle one;
    ties: the first in order).

    >>> pick_examples(np.array(["sst", "cyclic", "sst", "cyclic", "sst"]),
    ...               {"cycle_strength": np.array([[0.0, 1.0], [0.1, 0.3], [0.0, 2.0], [0.2, 0.1], [0.0, 3.0]])})
    {'setting': 1, 'cyclic': 1, 'sst': 2}
    """
    cls = np.asarray(classes).astype(str)
    cs = np.asarray(metrics["cycle_strength"], float)
    lead = "cyclic" if (cls == "cyclic").any() else (cls[0] if cls.size else None)
    if lead is None:
        return {"setting": 0, "cyclic": None, "sst": None}
    j = int(np.argmax(cs[cls == lead].mean(axis=0)))
    out: dict[str, Any] = {"setting": j, "cyclic": None, "sst": None}
    cyc = np.flatnonzero(cls == "cyclic")
    if cyc.size:
        out["cyclic"] = int(cyc[np.argmax(cs[cyc, j])])
    sst = np.flatnonzero(cls == "sst")
    if sst.size:
        order = sst[np.argsort(cs[sst, j], kind="stable")]
        out["sst"] = int(order[(len(order) - 1) // 2])
    return out


def sweep_metrics(sweep: Any) -> dict[str, np.ndarray]:
    """The ``(N, S)`` array of every metric of :data:`METRICS` from a sweep's result (or a GridResult)."""
    return {m: np.asarray(getattr(sweep, m)) for m in METRICS}


def _loss_of(spec: Any):
    from verify.numerics.losses import loss as make_loss

    return make_loss(spec.loss)


def _info_of(spec: Any):
    from verify.numerics.kernels import loss_info

    return loss_info(spec.loss)


def example_runs(P: np.ndarray, matrix: int, setting: int, spec: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """The run of matrix ``matrix`` (index into ``P``) at setting ``setting`` with its paths recorded.

    Returns the ``(steps + 1, K)`` log-policy trajectory and, with ``spec.finite``, the ``(R, steps + 1, K)``
    policy paths of the finite-sample realisations (else None). The work is the sweep's own chunk
    function (:func:`verify.experiments.sweep.compute_chunk`) on a one-cell chunk with the global
    indices: the same start, loss, engine and random streams, so the recorded run is the one whose
    metrics are in ``per_matrix.csv`` (every row of the kernels is independent of the others).
    """
    from dataclasses import replace

    from verify.experiments import sweep as sw

    m, s = int(matrix), int(setting)
    one = replace(spec, record=((m, s),))
    arrays = sw.compute_chunk(np.asarray(P)[m : m + 1], one, sw.Chunk(0, m, m + 1, s, s + 1))
    traj = np.asarray(arrays["rec_traj"][0])
    paths = np.asarray(arrays["fs_rec_paths"][0]) if spec.finite is not None else None
    return traj, paths


def draw_figures(out: pathlib.Path, selected: Any, sweep: Any, spec: Any, metrics: dict[str, np.ndarray], settings: np.ndarray,
                 classes: Sequence[str]) -> dict[str, pathlib.Path]:
    """Draw the figures of :data:`FIGURE_FILES` into ``out``; returns file name -> path.

    The heatmaps show the class means of :func:`summary_rows` over the grid (axes from
    :func:`verify.plots.experiment.heatmap_axes`); the examples are those of :func:`pick_examples`,
    rerun with their trajectories recorded (:func:`example_runs`); the finite-sample figure (with
    ``spec.finite``) shows the first example (the cyclic one when there is one) at the examples' setting.
    """
    from verify.plots import save
    from verify.plots.experiment import example_trajectories_figure, finite_sample_figure, grid_heatmap_figure, heatmap_axes
    from verify.plots.style import parameter_text

    L = _loss_of(spec)
    label = "MRS-IPO" if L.name == "ipo" else f"MRS, {L.title or L.name}"
    cls = np.asarray(selected.classes).astype(str)
    present = [c for c in classes if (cls == c).any()]
    counts = {c: int((cls == c).sum()) for c in present}
    axes = heatmap_axes(settings)
    files: dict[str, pathlib.Path] = {}
    K = int(np.asarray(selected.P).shape[-1])
    steps = f"{int(spec.steps):,} iterations"
    for metric, name, what, lim, zero in (
        ("cycle_strength", "heatmap_cycle_strength.png", "mean cycle strength", (0.0, None), ROUNDING),
        ("final_entropy", "heatmap_final_entropy.png", "mean final entropy (nats)", (0.0, float(np.log(K))), None),
    ):
        values = {c: metrics[metric][cls == c].mean(axis=0) for c in present}
        title = f"{label}: {what} over the grid, {steps}"
        fig = grid_heatmap_figure(values, axes, metric=what, title=title, scale_name=L.scale_name, vmin=lim[0], vmax=lim[1],
                                  counts=counts, zero_below=zero)
        files[name] = pathlib.Path(save(fig, out / name))
    pick = pick_examples(cls, metrics)
    j = pick["setting"]
    st = settings[j]
    params = parameter_text(L, {"alpha": st[0], L.scale_name: st[1], "lambda": st[2]})
    chosen = [(k, pick[k]) for k in ("cyclic", "sst") if pick[k] is not None]
    runs = {k: example_runs(selected.P, i, j, spec) for k, i in chosen}
    if chosen:
        names = {"cyclic": "cyclic matrix", "sst": "SST matrix"}
        examples = [(f"{names[k]}, prompt {int(selected.prompt_index[i])}", runs[k][0]) for k, i in chosen]
        fig = example_trajectories_figure(examples, title=f"{label}: example runs ({steps})", params_text=params)
        files["examples.png"] = pathlib.Path(save(fig, out / "examples.png"))
    finite = getattr(spec, "finite", None)
    if finite is not None:
        k, i = chosen[0] if chosen else ("", 0)
        traj, paths = runs[k] if chosen else example_runs(selected.P, 0, j, spec)
        fig = finite_sample_figure(np.exp(traj), paths, burn_in=int(spec.burn_in), params_text=params,
                                   title=f"{label}, finite samples of {finite.pairs} pairs per round: {cls[i]} matrix, prompt "
                                         f"{int(selected.prompt_index[i])}")
        files["finite_sample.png"] = pathlib.Path(save(fig, out / "finite_sample.png"))
    return files


def _spec_json(spec: Any) -> dict:
    d = spec.to_json() if hasattr(spec, "to_json") else dict(spec)
    return _json_ready(d)


def write_outputs(
    out_dir: Any,
    matrices: Any,
    load_report: Any,
    sweep: Any,
    spec: Any,
    *,
    figures: bool = True,
    classes: Sequence[str] | None = None,
    synthetic: bool | None = None,
    command: str | None = None,
    figures_note: str | None = None,
) -> dict[str, pathlib.Path]:
    """Write the tables, the figures and the report of an experiment into ``out_dir``; returns file name -> path.

    Parameters
    ----------
    out_dir : the folder (created if missing)
    matrices : every matrix built (:class:`verify.experiments.construct.MatrixSet`; its counts are reported)
    load_report : the loader's :class:`verify.experiments.helpsteer.LoadReport`
    sweep : the :class:`verify.experiments.sweep.SweepResult` of the matrices of ``classes``, in their order
    spec : the :class:`verify.experiments.sweep.SweepSpec` of the sweep
    figures : draw the figures (matplotlib); without it ``figures_note`` says why they are left out
    classes : the classes that were run (default: the paper's, cyclic and SST)
    synthetic : whether the data are the shipped sample (default: from the file's path)
    command : the command line that reproduces the run (written at the top of the report)
    """
    out = pathlib.Path(os.fspath(out_dir))
    out.mkdir(parents=True, exist_ok=True)
    chosen = tuple(classes) if classes is not None else DEFAULT_CLASSES
    selected = matrices.select(chosen)
    metrics = sweep_metrics(sweep)
    settings = _settings(sweep.settings)
    N = len(selected.classes)
    if metrics["cycle_strength"].shape != (N, len(settings)):
        raise ValueError(f"the sweep has {metrics['cycle_strength'].shape} results, expected ({N}, {len(settings)}): "
                         f"the {N} matrices of {', '.join(chosen)} at {len(settings)} settings")
    if synthetic is None:
        from verify.experiments.helpsteer import SAMPLE_PATH

        synthetic = pathlib.Path(str(load_report.path)).resolve() == pathlib.Path(SAMPLE_PATH).resolve()
    counts = dict(matrices.counts())
    spec_doc = _spec_json(spec)
    ran = tuple(getattr(sweep, "engines", ()) or ())
    if ran and spec_doc.get("engine") == "auto":
        spec_doc["engine"] = f"auto (ran: {', '.join(ran)})"
    rows = summary_rows(selected.classes, settings, metrics, order=chosen)
    inputs = {**load_report.to_json(), "synthetic": bool(synthetic)}
    files: dict[str, pathlib.Path] = {}
    files["summary.csv"] = write_csv(out / "summary.csv", rows, SUMMARY_COLUMNS)
    doc = {
        "inputs": inputs,
        "options": {"build": _json_ready(selected.options.to_json()), "sweep": spec_doc, "classes": list(chosen)},
        "counts": counts,
        "paper_counts": dict(PAPER["counts"]),
        "counts_vs_paper": counts_table(counts),
        "columns": list(SUMMARY_COLUMNS),
        "rows": rows,
    }
    files["summary.json"] = _write_json(out / "summary.json", doc)
    per = per_matrix_columns(selected.prompt_index, selected.classes, settings, metrics)
    files["per_matrix.csv"] = write_columns(out / "per_matrix.csv", per, PER_MATRIX_COLUMNS)
    finite = getattr(spec, "finite", None)
    if finite is not None:
        frows = finite_rows(selected.prompt_index, selected.classes, settings, sweep)
        files["finite_sample.csv"] = write_csv(out / "finite_sample.csv", frows, FINITE_COLUMNS)
    described = {name: TABLE_FILES[name] for name in files}
    if figures:
        for name, path in draw_figures(out, selected, sweep, spec, metrics, settings, chosen).items():
            files[name] = path
            described[name] = FIGURE_FILES[name.rsplit(".", 1)[0]]
    differences = differences_from_paper(counts=counts, rows_read=int(load_report.rows), synthetic=bool(synthetic),
                                         K=int(selected.options.K), steps=int(spec.steps), loss=_info_of(spec).name, classes=chosen,
                                         finite=finite)
    described["report.md"] = "this report"
    text = report_markdown(inputs=inputs, build_lines=selected.options.describe(), spec=spec_doc, counts=counts, classes=chosen,
                           rows=rows, differences=differences, files=described, figures_note=figures_note, command=command,
                           scale_name=_info_of(spec).scale_name, finite_lines=finite.describe() if finite is not None else ())
    path = out / "report.md"
    tmp = out / ".report.md.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    files["report.md"] = path
    return files
