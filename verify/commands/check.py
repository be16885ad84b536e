"""``prefdyn check``: check the registered claims and print verdicts with evidence."""

from __future__ import annotations

import argparse

from ..registry import BUDGETS, REGISTRY
from ..report import Progress, print_json, results_json, results_markdown, results_table, table
from ..runner import check, load_builtin_claims, load_module, run_controls


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="check the claims of THEORY.md (and your own) and print verdicts",
        description=(
            "Run the checkers of each claim and print a verdict with evidence: proved, "
            "verified, refuted (with a counterexample and its seed), inconclusive or error. "
            "Exit 0 when nothing is refuted or errored, 1 otherwise, 2 on bad usage."
        ),
    )
    p.add_argument("--claim", action="append", metavar="ID", help="claim id to check (repeatable; default: all)")
    p.add_argument(
        "--module", action="append", metavar="PATH", default=[], help="Python file of user claims to load and check (repeatable)"
    )
    p.add_argument("--budget", choices=BUDGETS, default="quick", help="effort per checker (default: quick, < 1 min in all)")
    p.add_argument("--seed", type=int, default=0, help="seed for every random choice (default: 0)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print JSON on stdout instead of a table")
    fmt.add_argument("--markdown", action="store_true", help="print a Markdown table (claim, tag, verdict, checks)")
    p.add_argument("--list", action="store_true", help="list the claims and exit")
    p.add_argument(
        "--controls",
        action="store_true",
        help="also run each claim's negative controls (planted wrong variants that must come back refuted)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    load_builtin_claims()
    user_ids: list[str] = []
    for m in args.module:
        user_ids += load_module(m)
    if args.list:
        rows = [[c.id, c.tag, c.statement] for c in REGISTRY]
        if args.json:
            print_json([{"id": c.id, "tag": c.tag, "statement": c.statement} for c in REGISTRY])
        else:
            print(table(["claim", "tag", "statement"], rows, [10, 7, 90]))
        return 0
    ids = args.claim
    if ids:
        for i in ids:
            REGISTRY.get(i)  # unknown ids: KeyError -> exit 2 with the list of known ids
    progress = Progress("checking", enabled=not args.quiet)
    results = check(ids, budget=args.budget, seed=args.seed, progress=progress)
    controls = {}
    if args.controls:
        for r in results:
            controls[r.id] = run_controls(REGISTRY.get(r.id), budget=args.budget, seed=args.seed)
    if args.json:
        data = results_json(results)
        if args.controls:
            for d in data:
                d["controls"] = [c.to_dict() for c in controls[d["id"]]]
        print_json(data)
    elif args.markdown:
        print(results_markdown(results))
    else:
        print(results_table(results))
        if args.controls:
            rows = []
            for cid, cs in controls.items():
                for c in cs:
                    ok = "caught" if c.verdict == "refuted" else "NOT CAUGHT"
                    rows.append([cid, c.checker, ok, c.outcome.summary])
            print()
            print(table(["claim", "control", "result", "evidence"], rows, [10, 24, 10, 70]))
    bad = [r for r in results if r.verdict in ("refuted", "error")]
    return 1 if bad else 0
