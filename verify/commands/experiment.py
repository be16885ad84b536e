"""``prefdyn experiment``: the paper's experiments (§5) from HelpSteer-schema data, or the shipped synthetic sample.

Reads the responses, builds one K x K preference matrix per prompt, classifies the matrices, runs
the MRS dynamics of the chosen loss over a grid of settings for every matrix of the chosen
classes, and prints the class counts beside the paper's and a summary; with ``--out DIR`` it also
writes the tables, the figures and a Markdown report (:mod:`verify.experiments.outputs`). The work
is :func:`verify.experiments.pipeline.run_experiment`, which the Python API calls too.

This module imports only the standard library when the command line is built; numpy, matplotlib
and the experiment modules are imported when the command runs.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import textwrap
from typing import Any

__all__ = ["register", "run", "reproduce_command", "DEFAULTS"]

#: The defaults shown in ``--help`` (the same as :class:`verify.experiments.construct.BuildOptions`,
#: :class:`verify.experiments.sweep.FiniteSample` and :func:`verify.experiments.pipeline.run_experiment`;
#: tests/test_experiment_cli.py checks that they agree).
DEFAULTS: dict[str, Any] = {
    "loss": "ipo",
    "steps": 3000,
    "seed": 0,
    "classes": "cyclic,sst",
    "group": "first",
    "attribute": "random",
    "ties": "half",
    "premise": "strict",
    "sigmoid_scale": "1",
    "realisations": 8,
    "prior": 1.0,
    "unsampled": "hold",
}

_DESCRIPTION = """\
Reproduce the paper's experiments (arXiv:2602.12180, §5) on a HelpSteer-schema file (--data; JSON Lines, \
gzipped JSON Lines as published, CSV or Parquet) or on the synthetic sample shipped with prefdyn (--synthetic). \
Per prompt, K = 4 responses give a preference matrix P[i,j] = sigmoid(s * (score_i - score_j)) on one attribute \
per pair; the matrices are classified as cyclic, strongly transitive (sst), weakly but not strongly transitive \
(transitive) or other, and the counts are printed beside the paper's (118 cyclic, 4,924 SST from HelpSteer's \
35,331 responses). Every matrix of the chosen classes (--classes) is then run through the MRS dynamics of the loss \
(MRS-IPO by default) for --steps iterations at every setting (alpha, the loss's scale, lambda) of --grid; each run \
gets its cycle strength (mean over coordinates of the variance of pi_t after the burn-in), its final entropy \
(nats), and whether it oscillates or converged (the definitions of verify/numerics/metrics.py, docs/experiments.md). \
A summary (one row per class and setting) is printed; with --out DIR the command also writes summary.csv, \
summary.json, per_matrix.csv, PNG figures (heatmaps over the grid, example runs, finite-sample paths) and \
report.md (inputs, every option, counts beside the paper's, where the numbers differ). Without --out nothing \
is written. Finished chunks of the sweep are kept in DIR/chunks, and the same command resumes from them."""

_EPILOG = """\
grid (--grid): comma-separated NAME=VALUES, NAME one of alpha, the loss's scale (beta for IPO, beta_dpo for DPO, \
... or scale), lam; VALUES a single number, a:b:n (n points from a to b, evenly spaced) or a list a/b/c. The \
settings are every combination. Examples:
  --grid "alpha=0.05:0.95:10,beta=1:10:10,lam=1"    the 10 x 10 grid over (alpha, beta*lambda)
  --grid "alpha=0.9,beta=8,lam=0.25/0.5/1"           one alpha and beta, three lambdas
default grid: alpha=0.1:0.9:5, the loss's scale at five values (IPO: beta=2:10:5; other losses: the same \
IPO-equivalent beta*lambda), lam=1 (25 settings).

examples:
  prefdyn experiment --synthetic --out results/
  prefdyn experiment --data train.jsonl.gz --out helpsteer/ --workers 2
  prefdyn experiment --synthetic --loss dpo --finite-pairs 64 --realisations 8 --out dpo/"""


def _fill(text: str) -> str:
    out = []
    for para in text.split("\n"):
        lead = len(para) - len(para.lstrip())
        out.append(textwrap.fill(para.strip(), 100, initial_indent=" " * lead, subsequent_indent=" " * (lead + 4 if lead else 0))
                   if para.strip() else "")
    return "\n".join(out)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "experiment",
        help="the paper's experiments from HelpSteer-schema data (or --synthetic): class counts, sweeps, tables, figures, report",
        description=_fill(_DESCRIPTION),
        epilog=_fill(_EPILOG),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g = p.add_argument_group("input (give exactly one of --data and --synthetic)")
    g.add_argument("--data", metavar="FILE", help="a HelpSteer-schema file: fields prompt, response, helpfulness, correctness, "
                   "coherence, complexity, verbosity (scores 0-4); .jsonl, .jsonl.gz, .csv or .parquet (no default: give --data "
                        "or --synthetic)")
    g.add_argument("--synthetic", action="store_true",
                   help="use the synthetic sample shipped with prefdyn (HelpSteer schema, generated scores: not the paper's data) "
                        "(off by default)")
    g.add_argument("--format", choices=("jsonl", "jsonl.gz", "csv", "parquet"), default=None,
                   help="the file's format (default: from its name)")
    g.add_argument("--skip-bad", action="store_true",
                   help="skip malformed rows and count them (default: off, stop at the first with one line naming the line and field)")
    m = p.add_argument_group("matrices (the paper's unstated choices; docs/experiments.md)")
    m.add_argument("--group", choices=("first", "drop", "subsets"), default=None,
                   help="a prompt with more than K = 4 responses: its first 4 (first), dropped (drop), or every 4-subset "
                        "(subsets); a prompt with fewer is dropped (default: first)")
    m.add_argument("--attribute", default=None, metavar="NAME",
                   help="the attribute that decides each pair: random (drawn uniformly per pair, as in the paper) or one of "
                        "helpfulness, correctness, coherence, complexity, verbosity (default: random)")
    m.add_argument("--ties", choices=("half", "resample", "drop"), default=None,
                   help="equal scores on the drawn attribute: P = 1/2 (half), draw another attribute until they differ "
                        "(resample; 1/2 if all tie), or drop the matrix (drop) (default: half)")
    m.add_argument("--premise", choices=("strict", "weak"), default=None,
                   help="how a tie P = 1/2 enters the SST and transitivity tests: only P_ij > 1/2 and P_jk > 1/2 constrain "
                        "(strict), or P_ij >= 1/2 and P_jk >= 1/2 do (weak); moves tied matrices between sst and other, "
                        "cyclic is the same (default: strict)")
    m.add_argument("--sigmoid-scale", default=None, metavar="S",
                   help="P[i,j] = sigmoid(S * (score_i - score_j)), S > 0 (default: 1)")
    m.add_argument("--classes", default=None, metavar="LIST",
                   help="classes to run, comma-separated, from cyclic, sst, transitive, other, or all (default: cyclic,sst)")
    r = p.add_argument_group("runs")
    r.add_argument("--loss", default=None, metavar="NAME|EXPR",
                   help="the pairwise loss: ipo, dpo, slic, exp, tq (or an alias), or a convex f(x) in x such as 'exp(-x)' "
                        "(default: ipo)")
    r.add_argument("--grid", default=None, metavar="TEXT",
                   help="the settings (alpha, the loss's scale, lambda); see 'grid' below (default: 5 x 5 over alpha and "
                        "the scale at lambda = 1)")
    r.add_argument("--steps", type=int, default=None, metavar="N", help="iterations per run (default: 3000, the paper's)")
    r.add_argument("--burn-in", type=int, default=None, metavar="N",
                   help="states t <= N left out of the cycle strength (default: steps // 3, the first third)")
    r.add_argument("--seed", type=int, default=None, metavar="N",
                   help="seed of every random choice: the attribute per pair, the starts, the finite samples (default: 0)")
    r.add_argument("--engine", choices=("auto", "numpy", "numba", "reference"), default="auto",
                   help="the simulation kernel: numba when installed (auto), numpy, or the reference step (default: auto)")
    r.add_argument("--chunk", type=int, default=None, metavar="N",
                   help="work items (matrix-setting pairs, times the realisations) per chunk; each finished chunk is written to "
                        "DIR/chunks (default: 4096; the numbers do not depend on it)")
    f = p.add_argument_group("finite-sample variant (off unless --finite-pairs is given)")
    f.add_argument("--finite-pairs", type=int, default=None, metavar="n",
                   help="each round's optimum from n sampled, labelled pairs instead of P mu_t (default: off)")
    f.add_argument("--realisations", type=int, default=None, metavar="R",
                   help="independent finite-sample runs per matrix and setting (default: 8)")
    f.add_argument("--prior", default=None, metavar="X",
                   help="tied pseudo-comparisons per round spread evenly over all pairs, X >= 0, so every pair is compared and "
                        "the optimum exists for every loss; 0 is the pure empirical loss (default: 1)")
    f.add_argument("--unsampled", choices=("hold", "tie"), default=None,
                   help="with --prior 0, a response in no sampled pair: keeps its previous logit relative to the others "
                        "(hold) or is tied with the rest (tie) (default: hold)")
    s = p.add_argument_group("scale-out (the distributed extra: pip install \"prefdyn[distributed]\")")
    s.add_argument("--workers", type=int, default=None, metavar="N",
                   help="run on a local Dask cluster of N worker processes (default: in this process)")
    s.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on an existing Dask cluster, e.g. tcp://host:8786 (default: in this process)")
    o = p.add_argument_group("output")
    o.add_argument("--out", default=None, metavar="DIR",
                   help="write the tables, figures and report.md into DIR (created if missing) (default: none, nothing is "
                        "written)")
    o.add_argument("--no-figures", action="store_true",
                   help="write no figures (off by default; implied when matplotlib is not installed)")
    o.add_argument("--json", action="store_true",
                   help="print the summary as JSON on stdout (inputs, options, counts beside the paper's, summary rows, files) "
                        "instead of tables (off by default)")
    o.add_argument("--quiet", action="store_true", help="no progress bar and no log lines on stderr (off by default: a progress bar on a terminal, "
                        "a few log lines otherwise)")
    p.set_defaults(func=run)


def reproduce_command(args: argparse.Namespace) -> str:
    """The ``prefdyn experiment`` command line of ``args``, with every option that was given."""
    parts = ["prefdyn", "experiment"]
    parts += ["--synthetic"] if args.synthetic else ["--data", str(args.data)]
    for name in ("format", "group", "attribute", "ties", "premise", "sigmoid_scale", "classes", "loss", "grid", "steps", "burn_in", "seed",
                 "chunk", "finite_pairs", "realisations", "prior", "unsampled", "workers", "scheduler", "out"):
        v = getattr(args, name)
        if v is not None:
            parts += ["--" + name.replace("_", "-"), str(v)]
    if args.engine != "auto":
        parts += ["--engine", args.engine]
    for flag in ("skip_bad", "no_figures"):
        if getattr(args, flag):
            parts.append("--" + flag.replace("_", "-"))
    return " ".join(shlex.quote(x) for x in parts)


def _log(quiet: bool):
    if quiet:
        return None

    def log(msg: str) -> None:
        print(f"prefdyn experiment: {msg}", file=sys.stderr, flush=True)

    return log


def run(args: argparse.Namespace) -> int:
    from verify.experiments.pipeline import counts_lines, options_from_args, run_experiment, summary_lines

    opts = options_from_args(args)
    progress = None
    if not args.quiet and sys.stderr.isatty():
        from verify.engine.report import Progress

        progress = Progress("prefdyn experiment", stream=sys.stderr)
    doc = run_experiment(**opts, progress=progress, log=_log(args.quiet), command=reproduce_command(args))
    if args.json:
        from verify.engine.report import print_json

        print_json(doc)
        return 0
    print("\n".join(counts_lines(doc)))
    print()
    print("\n".join(summary_lines(doc)))
    return 0
