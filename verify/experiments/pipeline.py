"""One experiment, end to end: data -> matrices -> classes -> sweep -> summary (and files).

:func:`run_experiment` is what ``prefdyn experiment`` runs and what the Python API calls:

1. load a HelpSteer-schema file (:func:`verify.experiments.helpsteer.load_groups`), or the synthetic
   sample shipped with prefdyn (``synthetic=True``);
2. build one preference matrix per prompt and classify it
   (:func:`verify.experiments.construct.build_matrices` with :class:`~verify.experiments.construct.BuildOptions`);
3. keep the matrices of the chosen classes (the paper's: cyclic and SST);
4. run the MRS dynamics of the loss at every setting of the grid for every kept matrix
   (:func:`verify.experiments.sweep.run_sweep`; in this process, on a local Dask cluster with
   ``workers=N``, or on an existing one with ``scheduler=ADDRESS``);
5. summarise (one row per class and setting), and with ``out_dir`` write the tables, figures and
   report (:func:`verify.experiments.outputs.write_outputs`).

It returns a JSON-ready dict: the inputs, every option, the class counts beside the paper's, the
summary rows, the headline numbers, where the numbers differ from the paper's, the files written
and the time each stage took.

>>> doc = run_experiment(synthetic=True, grid="alpha=0.9,beta=8,lam=1", steps=200)
>>> doc["paper_counts"], doc["counts"]["cyclic"] > 0, [r["class"] for r in doc["summary"]]
({'cyclic': 118, 'sst': 4924}, True, ['cyclic', 'sst'])
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import pathlib
import time
from typing import Any, Callable, Sequence

from verify.exact.objects import InputError
from verify.experiments.outputs import DEFAULT_CLASSES

__all__ = [
    "DEFAULT_CLASSES",
    "DEFAULT_STEPS",
    "IPO_GRID",
    "DISTRIBUTED_HINT",
    "default_grid",
    "parse_classes",
    "run_experiment",
    "options_from_args",
    "counts_lines",
    "summary_lines",
]

#: The paper's number of iterations (its classes: :data:`DEFAULT_CLASSES`, cyclic and SST).
DEFAULT_STEPS = 3000
#: The default grid of MRS-IPO: 5 x 5 over alpha and beta at lambda = 1.
IPO_GRID = "alpha=0.1:0.9:5,beta=2:10:5,lam=1"
#: The IPO-equivalent beta*lambda values of the default grid (every loss).
_DEFAULT_BL = (2.0, 4.0, 6.0, 8.0, 10.0)
DISTRIBUTED_HINT = 'pip install "prefdyn[distributed]"'


def default_grid(loss: Any) -> str:
    """The default ``--grid`` text of a loss: ``alpha`` at 0.1, 0.3, ..., 0.9, ``lam = 1``, and the loss's
    scale at the values whose IPO-equivalent ``beta*lambda = c_f lambda / b`` is 2, 4, ..., 10 (IPO: ``beta``
    itself; DPO: ``beta_dpo = 4 / (beta lambda)``).

    >>> default_grid("ipo"), default_grid("dpo")
    ('alpha=0.1:0.9:5,beta=2:10:5,lam=1', 'alpha=0.1:0.9:5,beta_dpo=2/1/0.6666666666666666/0.5/0.4,lam=1')
    """
    if isinstance(loss, str) and loss.strip().lower() == "ipo":
        return IPO_GRID
    from verify.numerics.losses import loss as make_loss

    L = make_loss(loss)
    if L.name == "ipo":
        return IPO_GRID
    if L.gain is None:
        raise InputError(f"the loss {L.name} has no smooth gain at 0 (a hinge): give --grid with its scale {L.scale_name}")
    import sympy

    s = sympy.Symbol("s", positive=True)
    values = []
    for bl in _DEFAULT_BL:
        roots = sympy.solve(sympy.Eq(L.b_of(s), sympy.nsimplify(L.gain) / sympy.nsimplify(bl)), s)
        if not roots:
            raise InputError(f"no default grid for the loss {L.name}: give --grid with its scale {L.scale_name}")
        values.append(float(roots[0]))
    return f"alpha=0.1:0.9:5,{L.scale_name}=" + "/".join(repr(v).removesuffix(".0") for v in values) + ",lam=1"


def parse_classes(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """The classes to run from ``"cyclic,sst"`` (or ``"all"``), in the order of ``CLASSES``; one line on a bad name.

    >>> parse_classes("sst, cyclic"), parse_classes("all")
    (('cyclic', 'sst'), ('cyclic', 'sst', 'transitive', 'other'))
    """
    from verify.experiments.construct import CLASSES

    if text is None:
        return DEFAULT_CLASSES
    items = [t.strip().lower() for t in (text.split(",") if isinstance(text, str) else text)]
    items = [t for t in items if t]
    if items == ["all"]:
        return tuple(CLASSES)
    bad = [t for t in items if t not in CLASSES]
    if bad or not items:
        raise InputError(f"--classes {text!r}: expected names from {', '.join(CLASSES)} (comma-separated) or all")
    return tuple(c for c in CLASSES if c in items)


def _check_scale_out(workers: int | None, scheduler: str | None) -> None:
    """Refuse, before any work, both options at once, a bad worker count, or a missing ``distributed`` extra."""
    if workers is None and scheduler is None:
        return
    if workers is not None and scheduler is not None:
        raise InputError("give --workers N (a local cluster) or --scheduler ADDRESS (an existing one), not both")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise InputError(f"--workers = {workers}, expected an integer >= 1")
    if importlib.util.find_spec("distributed") is None:
        raise InputError(f"{'--workers' if workers is not None else '--scheduler'} needs Dask's distributed: {DISTRIBUTED_HINT}")


def _client(workers: int | None, scheduler: str | None):
    """``(client, handle)`` for the sweep: None in this process, a local cluster or an existing one."""
    _check_scale_out(workers, scheduler)
    if workers is None and scheduler is None:
        return None, None
    from verify.experiments import cluster

    if workers is not None:
        client, handle = cluster.start_local(workers)
        return client, (client, handle)
    client = cluster.connect(scheduler)
    return client, (client,)


def _out_dir(out_dir: Any) -> pathlib.Path | None:
    if out_dir is None:
        return None
    d = pathlib.Path(os.fspath(out_dir))
    if d.exists() and not d.is_dir():
        raise InputError(f"--out {os.fspath(out_dir)!r} is a file; give a folder (it is created if missing)")
    if not d.exists() and not d.parent.is_dir() and str(d.parent) not in ("", "."):
        raise InputError(f"--out {os.fspath(out_dir)!r}: the folder {str(d.parent)!r} does not exist")
    return d


def run_experiment(
    data: str | os.PathLike | None = None,
    *,
    synthetic: bool = False,
    fmt: str | None = None,
    skip_bad: bool = False,
    build: Any = None,
    classes: str | Sequence[str] | None = DEFAULT_CLASSES,
    loss: str = "ipo",
    grid: Any = None,
    steps: int = DEFAULT_STEPS,
    burn_in: int | None = None,
    seed: int = 0,
    engine: str = "auto",
    chunk: int | None = None,
    finite: Any = None,
    workers: int | None = None,
    scheduler: str | None = None,
    out_dir: str | os.PathLike | None = None,
    figures: bool = True,
    progress: Callable[[int, int, str], None] | None = None,
    log: Callable[[str], None] | None = None,
    command: str | None = None,
) -> dict:
    """Run one experiment and return its summary document (see the module docstring).

    Parameters
    ----------
    data : a HelpSteer-schema file (``.jsonl``, ``.jsonl.gz``, ``.csv``, ``.parquet``); or ``synthetic=True``
        for the shipped sample (exactly one of the two)
    fmt, skip_bad : passed to :func:`verify.experiments.helpsteer.load_groups`
    build : :class:`verify.experiments.construct.BuildOptions` (default: the defaults with ``seed``)
    classes : the classes whose matrices are run (names of ``CLASSES``, or ``"all"``)
    loss : the loss's name or an expression in ``x`` (its scale is set by the grid)
    grid : a :class:`verify.experiments.sweep.Grid` or its text (:func:`verify.experiments.sweep.parse_grid`);
        default :func:`default_grid`
    steps, burn_in, seed, engine, chunk, finite : the sweep's (:class:`verify.experiments.sweep.SweepSpec`;
        ``finite`` a :class:`~verify.experiments.sweep.FiniteSample` or None)
    workers, scheduler : run on a local Dask cluster of ``workers`` processes or on the cluster at ``scheduler``
        (the ``distributed`` extra); default in this process. The results are the same.
    out_dir : write the tables, figures and report there (created if missing); None writes nothing
    figures : draw the figures (left out, with a note, when matplotlib is missing)
    progress : ``progress(done, total, what)`` of the sweep; ``log(message)`` gets one line per stage
    command : the command line that reproduces the run (written into the report)
    """
    from verify.experiments import construct, helpsteer, sweep as sw

    t0 = time.perf_counter()
    say = log or (lambda msg: None)
    if synthetic and data is not None:
        raise InputError("give --data FILE or --synthetic, not both")
    if not synthetic and data is None:
        raise InputError("give the data: --data FILE (a HelpSteer-schema file) or --synthetic (the shipped sample)")
    if not isinstance(steps, int) or steps < 1:
        raise InputError(f"--steps = {steps}, expected an integer >= 1")
    chosen = parse_classes(classes)
    out = _out_dir(out_dir)
    loss_name = loss.strip() if isinstance(loss, str) else loss
    from verify.numerics.kernels import loss_info

    L = loss_info(loss_name)  # IPO by name: no symbolic work
    the_grid = grid if isinstance(grid, sw.Grid) else sw.parse_grid(grid if grid is not None else default_grid(loss_name), L.scale_name)
    build = build if build is not None else construct.BuildOptions(seed=seed)
    spec_kw: dict[str, Any] = {"loss": loss_name if isinstance(loss_name, str) else L.name, "grid": the_grid, "steps": steps,
                               "seed": seed, "engine": engine, "finite": finite}
    if burn_in is not None:
        spec_kw["burn_in"] = burn_in
    if chunk is not None:
        spec_kw["chunk"] = chunk
    spec = sw.SweepSpec(**spec_kw)
    if figures and importlib.util.find_spec("matplotlib") is None:
        figures = False
        figures_note = "figures left out: plotting needs matplotlib: pip install 'prefdyn[plot]'"
    else:
        figures_note = None if figures else "figures left out (--no-figures)"
    _check_scale_out(workers, scheduler)
    path = helpsteer.SAMPLE_PATH if synthetic else data
    t = time.perf_counter()
    groups, report = helpsteer.load_groups(path, fmt=fmt, skip_bad=skip_bad)
    t_load = time.perf_counter() - t
    say(f"read {report.rows:,} rows ({report.skipped:,} skipped) and {report.prompts:,} prompts from {report.path} in {t_load:.2f} s")
    t = time.perf_counter()
    matrices = construct.build_matrices(groups, build)
    counts = matrices.counts()
    t_build = time.perf_counter() - t
    say("matrices: " + ", ".join(f"{c} {n:,}" + (f" (paper {construct.PAPER_COUNTS[c]:,})" if c in construct.PAPER_COUNTS else "")
                                 for c, n in counts.items()) + f" ({t_build:.2f} s)")
    selected = matrices.select(chosen)
    N, S = len(selected.classes), len(the_grid.settings())
    if N == 0:
        raise InputError(f"no matrix of the classes {', '.join(chosen)} in {report.path}: nothing to run (counts: "
                         + ", ".join(f"{c} {n}" for c, n in counts.items()) + ")")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    client, handle = _client(workers, scheduler)
    try:
        say(f"running {N:,} matrices x {S:,} settings x {steps:,} steps ({spec.loss}, engine {engine}"
            + (f", {workers} workers" if workers else f", scheduler {scheduler}" if scheduler else "") + ")")
        t = time.perf_counter()
        result = sw.run_sweep(selected.P, spec, out_dir=out, client=client, progress=progress)
        t_sweep = time.perf_counter() - t
        read = f", {result.resumed} read from {out / 'chunks'}" if result.resumed else ""
        say(f"sweep done in {t_sweep:.2f} s ({result.computed} of {result.chunks} chunks computed{read}; engine "
            f"{', '.join(result.engines)})")
    finally:
        if handle is not None:
            from verify.experiments import cluster

            cluster.close(*handle)
    from verify.experiments import outputs

    inputs = {**report.to_json(), "synthetic": bool(synthetic)}
    rows = outputs.summary_rows(selected.classes, result.settings, outputs.sweep_metrics(result), order=chosen)
    differences = outputs.differences_from_paper(counts=counts, rows_read=report.rows, synthetic=synthetic, K=build.K, steps=steps,
                                                 loss=L.name, classes=chosen, finite=finite)
    files: dict[str, pathlib.Path] = {}
    t = time.perf_counter()
    if out is not None:
        files = outputs.write_outputs(out, matrices, report, result, spec, figures=figures, classes=chosen, synthetic=synthetic,
                                      command=command, figures_note=figures_note)
        say(f"wrote {len(files)} files to {out} in {time.perf_counter() - t:.2f} s")
    t_out = time.perf_counter() - t
    return {
        "inputs": inputs,
        "options": {
            "build": build.to_json(),
            "build_description": build.describe(),
            "sweep": spec.to_json(),
            "classes": list(chosen),
            "scale_name": L.scale_name,
            "workers": workers,
            "scheduler": scheduler,
            "figures": bool(figures),
        },
        "counts": dict(counts),
        "paper_counts": dict(construct.PAPER_COUNTS),
        "counts_vs_paper": outputs.counts_table(counts, construct.PAPER_COUNTS),
        "dropped": dict(matrices.dropped),
        "matrices_run": N,
        "settings": S,
        "summary": rows,
        "headline": outputs.headline(rows, L.scale_name),
        "differences": differences,
        "files": {k: str(v) for k, v in files.items()},
        "figures_note": figures_note,
        "seconds": {"load": t_load, "build": t_build, "sweep": t_sweep, "outputs": t_out, "total": time.perf_counter() - t0},
    }


def _int_option(v: Any, name: str, lo: int = 1) -> int | None:
    if v is None:
        return None
    if v < lo:
        raise InputError(f"--{name} = {v}, expected >= {lo}")
    return v


def _nonnegative(text: str, option: str) -> float:
    import math

    try:
        v = float(text)
    except ValueError:
        raise InputError(f"{option} {text!r}: expected a number >= 0") from None
    if not (math.isfinite(v) and v >= 0):
        raise InputError(f"{option} {text!r}: expected a finite number >= 0")
    return v


def options_from_args(args: argparse.Namespace) -> dict:
    """The keyword arguments of :func:`run_experiment` from a parsed ``prefdyn experiment`` command line.

    Every value is validated here or by the object it builds, with one line naming the option.
    """
    from verify.exact.objects import positive
    from verify.experiments import construct, helpsteer, sweep as sw

    seed = 0 if args.seed is None else args.seed
    build_kw: dict[str, Any] = {"seed": seed}
    if args.group is not None:
        build_kw["group"] = args.group
    if args.ties is not None:
        build_kw["ties"] = args.ties
    if args.premise is not None:
        build_kw["premise"] = args.premise
    if args.attribute is not None:
        a = args.attribute.strip().lower()
        if a != "random" and a not in helpsteer.ATTRIBUTES:
            raise InputError(f"--attribute {args.attribute!r}: expected random or one of {', '.join(helpsteer.ATTRIBUTES)}")
        build_kw["attribute"] = a
    if args.sigmoid_scale is not None:
        build_kw["scale"] = float(positive(args.sigmoid_scale, "--sigmoid-scale"))
    finite = None
    given = [n for n in ("realisations", "prior", "unsampled") if getattr(args, n) is not None]
    if args.finite_pairs is not None:
        _int_option(args.finite_pairs, "finite-pairs")
        fkw: dict[str, Any] = {"pairs": args.finite_pairs}
        fkw["realisations"] = _int_option(args.realisations, "realisations") or 8
        if args.prior is not None:
            fkw["prior"] = _nonnegative(args.prior, "--prior")
        if args.unsampled is not None:
            fkw["unsampled"] = args.unsampled
        finite = sw.FiniteSample(**fkw)
    elif given:
        raise InputError(f"--{given[0]} belongs to the finite-sample variant: give --finite-pairs n too")
    if args.data is not None and not args.synthetic and not os.path.exists(args.data):
        raise InputError(f"--data {args.data!r}: no such file")
    return {
        "data": args.data,
        "synthetic": bool(args.synthetic),
        "fmt": args.format,
        "skip_bad": bool(args.skip_bad),
        "build": construct.BuildOptions(**build_kw),
        "classes": args.classes,
        "loss": args.loss or "ipo",
        "grid": args.grid,
        "steps": DEFAULT_STEPS if args.steps is None else args.steps,
        "burn_in": args.burn_in,
        "seed": seed,
        "engine": args.engine,
        "chunk": _int_option(args.chunk, "chunk"),
        "finite": finite,
        "workers": args.workers,
        "scheduler": args.scheduler,
        "out_dir": args.out,
        "figures": not args.no_figures,
    }


def counts_lines(doc: dict) -> list[str]:
    """The class counts beside the paper's, as printed by ``prefdyn experiment`` (with the input above them)."""
    from verify.engine.report import table

    i = doc["inputs"]
    what = " (the synthetic sample, not HelpSteer)" if i.get("synthetic") else ""
    skipped = f" ({i['skipped']:,} skipped)" if i.get("skipped") else ""
    head = f"{i['path']}{what}: {i['rows']:,} rows{skipped}, {i['prompts']:,} prompts"
    rows = [[c["class"], f"{c['count']:,}", "" if c["paper"] is None else f"{c['paper']:,}"] for c in doc["counts_vs_paper"]]
    dropped = ", ".join(f"{why}: {n:,}" for why, n in doc.get("dropped", {}).items() if n)
    lines = [head, table(["class", "matrices", "paper"], rows, [12, 10, 8])]
    if dropped:
        lines.append(f"prompts without a matrix: {dropped}")
    return lines


def summary_lines(doc: dict) -> list[str]:
    """The summary table (one row per class and setting), the headline numbers and the files written."""
    from verify.engine.report import table

    sname = doc["options"].get("scale_name") or "scale"
    rows = [[r["class"], f"{r['alpha']:g}", f"{r['scale']:g}", f"{r['lambda']:g}", r["n_matrices"], f"{r['cycle_strength_mean']:.4g}",
             f"{r['cycle_strength_max']:.4g}", f"{r['final_entropy_mean']:.4g}", f"{100 * r['share_oscillating']:.3g}%",
             f"{100 * r['share_converged']:.3g}%"] for r in doc["summary"]]
    out = [table(["class", "alpha", sname, "lambda", "n", "cycle str.", "max", "entropy", "oscill.", "converged"], rows,
                 [10, 6, 8, 6, 6, 10, 10, 8, 8, 9])]
    out.append("")
    out += doc["headline"]
    if doc["files"]:
        out.append("")
        out += [f"wrote {p}" for p in doc["files"].values()]
    if doc.get("figures_note"):
        out.append(doc["figures_note"])
    return out
