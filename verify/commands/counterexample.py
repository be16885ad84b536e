"""``prefdyn counterexample``: a preference matrix on which a given sampler breaks CT, ST or OP (RANK-1)."""

from __future__ import annotations

import argparse

from verify.exact.ranking import PROPERTIES, counterexample, verify_counterexample
from verify.engine.report import print_json
from verify.exact.objects import simplex_vector
from verify.commands._dynargs import note_repairs


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "counterexample",
        help="build P on which an interior sampler mu violates CT, ST or OP (exact certificate)",
        description=(
            "For an interior sampler mu (K >= 3) print a preference matrix P on which the IPO scores "
            "s = P mu violate the property, with the exact certificate: the scores and a required pair "
            "(i, j) with s_i - s_j <= 0. The certificate is re-verified exactly before printing."
        ),
    )
    p.add_argument("--mu", required=True, help="sampler, comma-separated (e.g. 0.2,0.3,0.5 or 1/5,3/10,1/2)")
    p.add_argument("--property", required=True, type=str.upper, choices=PROPERTIES, help="CT, ST or OP")
    p.add_argument("--json", action="store_true", help="print the certificate as JSON (exact fractions as strings)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    mu = simplex_vector(args.mu, name="mu")
    note_repairs(args.command, mu)
    cx = counterexample(mu, args.property)
    ok, why = verify_counterexample(cx.to_json())
    if not ok:  # pragma: no cover - the construction is proved (RANK-1)
        raise ValueError(f"internal error: certificate rejected: {why}")
    if args.json:
        d = cx.to_json()
        d["check"] = why
        print_json(d)
        return 0
    i, j = cx.pair
    print(f"property {cx.property} fails for mu = ({', '.join(map(_s, cx.mu))})")
    print(f"construction: {cx.construction}, eps = {_s(cx.eps)}")
    print("P =")
    print(cx.P)
    print(f"scores s = P mu = ({', '.join(map(_s, cx.scores))})")
    print(f"certificate: s_{i} - s_{j} = {_s(cx.gap)} <= 0")
    print(f"check: {why}")
    return 0


def _s(x) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"
