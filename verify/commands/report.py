"""``prefdyn report``: check the claims and write one PDF with every claim, its evidence and the figures."""

from __future__ import annotations

import argparse
import importlib.util
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

from verify.engine.registry import BUDGETS, REGISTRY
from verify.engine.report import Progress
from verify.engine.runner import check, load_builtin_claims, load_module
from verify.exact.objects import InputError

#: What to install when pdflatex is missing.
TEX_HINT = (
    "prefdyn report needs pdflatex: install TeX Live (Debian/Ubuntu: apt-get install texlive-latex-base; "
    "macOS: brew install --cask mactex-no-gui) or MiKTeX"
)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="check the claims and write one PDF (through LaTeX): every claim, its evidence, figures, versions",
        description=(
            "Check the claims (as prefdyn check does) and write one PDF through pdflatex that can be attached to a "
            "submission: the command that reproduces it and the versions of prefdyn, Python, its libraries and pdflatex; "
            "a summary table of every claim (id, tag, verdict, scope); for every claim its statement, scope, hypotheses, "
            "verdict, derivation, a table of its evidence (instances, precision, tolerance, worst error, seed) and, when "
            "refuted, the counterexample with the command that replays it; then the figures (the MRS-IPO phase diagram "
            "of the 3-cycle with its thresholds, an oscillating and a converging trajectory, the MRS-IPO and MRS-DPO "
            "thresholds). Needs pdflatex; the figures need matplotlib (the plot extra). "
            "Exit 0 when nothing is refuted or errored, 1 otherwise (the PDF is written either way), 2 on bad usage."
        ),
    )
    p.add_argument("--out", required=True, metavar="FILE.pdf", help="the PDF to write (its folder must exist)")
    p.add_argument("--claim", action="append", metavar="ID", help="claim id to check and report (repeatable; default: all)")
    p.add_argument(
        "--module", action="append", metavar="PATH", default=[], help="Python file of user claims to load and report (repeatable)"
    )
    p.add_argument("--budget", choices=BUDGETS, default="quick", help="effort per checker (default: quick)")
    p.add_argument("--seed", type=int, default=0, help="seed for every random choice (default: 0)")
    p.add_argument("--no-figures", action="store_true", help="leave out the figures (implied without matplotlib)")
    p.add_argument(
        "--markdown", metavar="FILE.md", help="also write a Markdown twin (figures as PNGs in FILE_figures/ next to it)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    p.set_defaults(func=run)


def _output(path: str, option: str, suffixes: tuple[str, ...]) -> Path:
    """``path`` as the file ``option`` writes: the right extension, in a folder that exists."""
    out = Path(path)
    if out.suffix.lower() not in suffixes:
        raise InputError(f"{option} {path!r}: expected a file name ending in {' or '.join(suffixes)}")
    if out.is_dir():
        raise InputError(f"{option} {path!r} is a folder; give a file name ending in {suffixes[0]}")
    if not out.parent.is_dir():
        raise InputError(f"{option} {path!r}: folder {str(out.parent)!r} does not exist")
    return out


def reproduce_command(args: argparse.Namespace, figures: bool) -> str:
    """The ``prefdyn report`` command line that reproduces this report (budget and seed always explicit)."""
    parts = ["prefdyn", "report", "--out", args.out]
    for i in args.claim or []:
        parts += ["--claim", i]
    for m in args.module:
        parts += ["--module", m]
    parts += ["--budget", args.budget, "--seed", str(args.seed)]
    if not figures:
        parts.append("--no-figures")
    if args.markdown:
        parts += ["--markdown", args.markdown]
    return " ".join(shlex.quote(p) for p in parts)


def run(args: argparse.Namespace) -> int:
    from verify.plots import PLOT_HINT  # verify.plots reads theory.notation: imported when the command runs

    out = _output(args.out, "--out", (".pdf",))
    md = _output(args.markdown, "--markdown", (".md", ".markdown")) if args.markdown else None
    if md is not None and md.resolve() == out.resolve():
        raise InputError("--markdown and --out name the same file")
    if shutil.which("pdflatex") is None:
        raise InputError(TEX_HINT)
    figures = not args.no_figures
    if figures and importlib.util.find_spec("matplotlib") is None:
        print(f"prefdyn report: note: no figures; {PLOT_HINT}", file=sys.stderr)
        figures = False
    load_builtin_claims()
    for m in args.module:
        load_module(m)
    for i in args.claim or []:
        REGISTRY.get(i)  # unknown ids: KeyError -> exit 2 with the list of known ids
    from verify.publish.report import build_report, verdict_counts
    from verify.publish.tex import TexError

    results = check(args.claim, budget=args.budget, seed=args.seed, progress=Progress("checking", enabled=not args.quiet))
    try:
        rep = build_report(
            results,
            out_pdf=out,
            figures=figures,
            command=reproduce_command(args, figures),
            budget=args.budget,
            seed=args.seed,
            markdown_path=md,
            progress=Progress("report", enabled=not args.quiet),
        )
    except TexError as e:
        print(f"prefdyn report: error: {e}", file=sys.stderr)
        return 1
    pages = f"{rep.pages} pages, " if rep.pages is not None else ""
    n, nf = len(results), len(rep.figures)
    print(f"{rep.pdf}: {pages}{n} claim{'' if n == 1 else 's'} ({verdict_counts(results) or 'none'}), {nf} figure{'' if nf == 1 else 's'}")
    if rep.markdown is not None:
        print(f"{rep.markdown}: the Markdown twin" + (f", figures in {rep.figures[0].path.parent}" if rep.figures and rep.figures[0].path else ""))
    if rep.problems:
        print(
            f"prefdyn report: note: pdflatex reported {len(rep.problems)} layout problems (first: {rep.problems[0]})",
            file=sys.stderr,
        )
    bad = [r for r in results if r.verdict in ("refuted", "error")]
    return 1 if bad else 0
