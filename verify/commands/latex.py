"""``prefdyn latex``: a LaTeX document of the claims: statement, scope, hypotheses and derivation of each."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from verify.engine.registry import REGISTRY
from verify.engine.runner import check, load_builtin_claims, load_module
from verify.exact.objects import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "latex",
        help="export the claims (statement, scope, hypotheses, derivation) as a standalone .tex document",
        description=(
            "Write a standalone LaTeX document (article, A4, amsmath/amssymb; texlive-latex-base is enough) "
            "with every selected claim: its statement, scope, hypotheses, source and the derived expressions, "
            "in the notation of the claims reference, broken over lines to fit the page. With --verdicts the "
            "claims are checked first (quick budget, seed 0) and each one's verdict and evidence are included."
        ),
    )
    p.add_argument("--claim", action="append", metavar="ID", help="claim id (repeatable; default: every claim)")
    p.add_argument("--module", action="append", default=[], metavar="PATH", help="Python file of user claims to load")
    p.add_argument("--verdicts", action="store_true", help="check the claims first (quick budget, seed 0) and print their verdicts")
    p.add_argument("--out", metavar="FILE", help="output .tex file (default: stdout)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from verify.publish.tex import claims_document  # LaTeX printing is sympy's: imported when the command runs

    for m in args.module:
        load_module(m)
    load_builtin_claims()
    try:
        claims = [REGISTRY.get(i) for i in args.claim] if args.claim else list(REGISTRY)
    except KeyError as e:
        raise InputError(f"--claim: {e.args[0] if e.args else e}") from None
    out = Path(args.out) if args.out else None
    if out is not None and not out.parent.exists():
        raise InputError(f"--out {args.out!r}: folder {str(out.parent)!r} does not exist")
    results = None
    if args.verdicts:
        results = {r.id: r for r in check([c.id for c in claims], budget="quick", seed=0)}
    start = time.perf_counter()
    tex = claims_document(claims, results)
    if out is not None:
        out.write_text(tex)
        print(f"wrote {out} ({len(tex.splitlines())} lines, {len(claims)} claims, {time.perf_counter() - start:.1f} s)", file=sys.stderr)
    else:
        sys.stdout.write(tex)
    return 0
