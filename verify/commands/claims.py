"""``prefdyn claims``: the claims reference (what prefdyn checks), generated from the claim registry."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from verify.engine.registry import REGISTRY
from verify.engine.runner import load_builtin_claims, load_module
from verify.exact.objects import InputError

#: Where the repository keeps the claims reference (:data:`verify.publish.reference.REFERENCE_PATH`,
#: repeated here so that building the parser imports nothing of ``theory``; a test keeps them equal).
REFERENCE_PATH = "docs/claims.md"


def register(sub: Any) -> None:
    """Add the ``claims`` subcommand to ``sub`` (the subparsers of ``prefdyn``)."""
    p = sub.add_parser(
        "claims",
        help=f"print the claims reference (the specification, {REFERENCE_PATH}) generated from the registry",
        description=(
            "Print the claims reference in Markdown: the conventions, then for every claim its id and tag, "
            "statement, formula, scope and the parts a proof must cover, hypotheses, source, cited results, "
            "checkers (what each establishes and covers) and negative controls. It is generated from the claim "
            f"registry, so it cannot drift from the code; the repository keeps it in {REFERENCE_PATH} "
            f"(regenerate: prefdyn claims --out {REFERENCE_PATH}). Verdicts come from 'prefdyn check'."
        ),
    )
    p.add_argument("--claim", action="append", metavar="ID", help="only these claims (repeatable; default: every built-in claim)")
    p.add_argument("--module", action="append", default=[], metavar="PATH", help="Python file of user claims to include")
    p.add_argument("--out", metavar="FILE", help="write the Markdown to FILE (default: stdout)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from verify.publish.reference import claims_reference  # it reads theory.notation: imported when the command runs

    load_builtin_claims()
    user: list[str] = []
    for m in args.module:
        user += load_module(m)
    if args.claim:
        claims = [REGISTRY.get(i) for i in args.claim]
    else:
        claims = [c for c in REGISTRY if c.tag != "user" or c.id in user]
    text = claims_reference(claims)
    if args.out:
        out = Path(args.out)
        if not out.parent.exists():
            raise InputError(f"--out {args.out!r}: folder {str(out.parent)!r} does not exist")
        out.write_text(text)
        print(f"wrote {out} ({len(claims)} claims)", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
