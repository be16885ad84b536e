"""``prefdyn check``: check the registered claims and print verdicts with evidence."""

from __future__ import annotations

import argparse
import sys

from verify.engine.registry import BUDGETS, REGISTRY
from verify.engine.report import Progress, print_json, results_json, results_markdown, results_table, table
from verify.engine.runner import check, load_builtin_claims, load_module, run_controls


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="check the claims of docs/claims.md (and your own) and print verdicts",
        description=(
            "Run the checkers of each claim and print a verdict with evidence: proved, "
            "verified, refuted (with a counterexample and its seed), inconclusive or error. "
            "Each claim shows its scope and what is proved vs only checked: a claim is proved only when its proofs "
            "cover its whole scope. A refuted verdict prints the command that replays it "
            "(prefdyn check --claim ID --seed N). "
            "Exit 0 when nothing is refuted or errored (and, with --controls, every control came back as expected), "
            "1 otherwise, 2 on bad usage."
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
        help="also run each claim's negative controls and constant mutations (planted wrong variants that must come back "
        "refuted; mutations that keep the statement true must not); exit 1 if any is not as expected",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    load_builtin_claims()
    user_ids: list[str] = []
    for m in args.module:
        user_ids += load_module(m)
    if args.list:
        rows = [[c.id, c.tag, c.scope.text, c.statement] for c in REGISTRY]
        if args.json:
            print_json([{"id": c.id, "tag": c.tag, "scope": c.scope.text, "statement": c.statement} for c in REGISTRY])
        else:
            print(table(["claim", "tag", "scope", "statement"], rows, [10, 7, 40, 70]))
        return 0
    ids = args.claim
    if ids:
        for i in ids:
            REGISTRY.get(i)  # unknown ids: KeyError -> exit 2 with the list of known ids
    progress = Progress("checking", enabled=not args.quiet)
    results = check(ids, budget=args.budget, seed=args.seed, progress=progress)
    controls = {}
    if args.controls:
        cprog = Progress("controls", enabled=not args.quiet)
        for k, r in enumerate(results):
            cprog(k, len(results), r.id)
            controls[r.id] = run_controls(REGISTRY.get(r.id), budget=args.budget, seed=args.seed)
        cprog(len(results), len(results), "")
    missed = [(cid, c) for cid, cs in controls.items() for c in cs if not c.caught]
    if args.json:
        run_info = {"command": "prefdyn check", "budget": args.budget, "seed": args.seed, "claims": [r.id for r in results]}
        data = results_json(results, **run_info)
        if args.controls:
            for d in data["results"]:
                d["controls"] = [c.to_dict() for c in controls[d["id"]]]
            data["controls_missed"] = [f"{cid}/{c.checker}" for cid, c in missed]
        print_json(data)
    elif args.markdown:
        print(results_markdown(results))
    else:
        print(results_table(results))
        if args.controls:
            rows = []
            for cid, cs in controls.items():
                for c in cs:
                    if c.expect == "holds":
                        ok = "holds" if c.caught else "FALSE ALARM"
                    else:
                        ok = "caught" if c.caught else "NOT CAUGHT"
                    rows.append([cid, c.checker[len("control:"):], ok, f"{c.verdict}: {c.outcome.summary}"])
            print()
            print(table(["claim", "control", "result", "evidence"], rows, [10, 40, 11, 60]))
            n = sum(len(cs) for cs in controls.values())
            print(f"\n{n - len(missed)} of {n} controls came back as expected")
    for cid, c in missed:
        what = "was refuted although the mutated statement is true" if c.expect == "holds" else f"was not caught ({c.verdict})"
        print(f"control {cid}/{c.checker[len('control:'):]} {what}", file=sys.stderr)
    bad = [r for r in results if r.verdict in ("refuted", "error")]
    return 1 if bad or missed else 0
