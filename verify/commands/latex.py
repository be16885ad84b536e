"""``prefdyn latex``: a standalone .tex document with the derived expressions of the claims."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from theory.latex import Section, document

from verify.engine.registry import REGISTRY
from verify.engine.runner import load_builtin_claims, load_module


def sections_for(claim_ids: list[str] | None = None) -> list[Section]:
    """LaTeX sections of the selected claims (default: every claim that has expressions)."""
    load_builtin_claims()
    claims = [REGISTRY.get(i) for i in claim_ids] if claim_ids else list(REGISTRY)
    out: list[Section] = []
    for c in claims:
        if c.expressions is not None:
            out.extend(c.expressions())
        elif claim_ids:
            out.append(Section(f"{c.id}", c.latex and f"${c.latex}$" or c.statement, []))
    return out


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "latex",
        help="export the derived expressions of claims as a standalone .tex document",
        description=(
            "Write a standalone LaTeX document (article + amsmath/amssymb) with the derived "
            "expressions of the selected claims, rendered by sympy's LaTeX printer."
        ),
    )
    p.add_argument("--claim", action="append", metavar="ID", help="claim id (repeatable; default: all with expressions)")
    p.add_argument("--module", action="append", default=[], metavar="PATH", help="Python file of user claims to load")
    p.add_argument("--out", metavar="FILE", help="output .tex file (default: stdout)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for m in args.module:
        load_module(m)
    load_builtin_claims()
    for i in args.claim or []:
        REGISTRY.get(i)
    tex = document(sections_for(args.claim))
    if args.out:
        out = Path(args.out)
        if out.parent and not out.parent.exists():
            raise FileNotFoundError(f"--out {args.out!r}: folder {str(out.parent)!r} does not exist")
        out.write_text(tex)
        print(f"wrote {out} ({len(tex.splitlines())} lines)", file=sys.stderr)
    else:
        sys.stdout.write(tex)
    return 0
