"""``prefdyn sampler``: an interior sampler satisfying CT, ST or OP on a given P, or a Farkas certificate."""

from __future__ import annotations

import argparse

from verify.exact.objects import load_preference_matrix
from verify.commands._dynargs import note_repairs
from verify.exact.ranking import PROPERTIES, sampler, verify_sampler_certificate
from verify.engine.report import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sampler",
        help="find an interior sampler with a certified margin for CT, ST or OP, or prove none exists",
        description=(
            "Solve the max-min-margin LP exactly (rational simplex). Prints an interior sampler mu with "
            "its exact margin min (P mu)_i - (P mu)_j > 0 over the required pairs, or an exact Farkas "
            "certificate y (y >= 0, sum y = 1, D^T y <= 0) that no sampler works. Exit 0 in both cases."
        ),
    )
    p.add_argument("--matrix", required=True, metavar="FILE", help="preference matrix, .json (list of rows or {\"P\": ...}) or .csv")
    p.add_argument("--property", required=True, type=str.upper, choices=PROPERTIES, help="CT, ST or OP")
    p.add_argument("--json", action="store_true", help="print the certificate as JSON (exact fractions as strings)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    P = load_preference_matrix(args.matrix)
    note_repairs(args.command, P)
    res = sampler(P, args.property)
    d = res.to_json()
    ok, why = verify_sampler_certificate(P, args.property, d)
    if not ok:  # pragma: no cover - certificates are checked in the LP layer too
        raise ValueError(f"internal error: certificate rejected: {why}")
    d["check"] = why
    if args.json:
        print_json(d)
        return 0
    print(f"property {res.property}: {res.status}")
    if res.pairs:
        print("required: " + ", ".join(f"s_{i} > s_{j}" for i, j in res.pairs))
    if res.status in ("feasible", "vacuous"):
        print(f"interior sampler mu = ({', '.join(d['mu'])})")
        if res.margin is not None:
            print(f"certified margin min (P mu)_i - (P mu)_j = {d['margin']} > 0 (LP optimum t* = {d['lp_optimum']})")
    else:
        print(f"Farkas certificate y = ({', '.join(d['farkas_y'])}) on the required pairs: max_k (D^T y)_k = {d['farkas_value']} <= 0")
        print("so sum_r y_r (s_i - s_j) <= 0 for every sampler: no sampler satisfies all strict inequalities")
    for note in res.notes:
        print(f"note: {note}")
    print(f"check: {why}")
    return 0
