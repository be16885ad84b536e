"""``prefdyn ipo``: the one-shot IPO optimum for a matrix file, with its verification residual."""

from __future__ import annotations

import argparse
import sys

import mpmath

from verify.numerics.ipo import NonUniqueOptimum, ipo_instance, ipo_minimise, ipo_optimum, solution_set_statement, support
from verify.exact.objects import fmt, load_preference_matrix
from verify.numerics.precision import GUARD, agree_log, tolerance, workdps
from verify.engine.report import print_json
from verify.commands._dynargs import note_repairs


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ipo",
        help="the one-shot IPO optimum pi* ∝ pi_ref exp(beta P mu), with its verification residual",
        description=(
            "Compute the IPO optimum pi* = pi_ref * exp(beta P mu) / Z at DPS digits and check it "
            "against a direct minimisation of the IPO loss. beta is the paper's beta = 1/tau "
            "(TRL's loss_type='ipo' calls tau 'beta')."
        ),
    )
    p.add_argument("--matrix", required=True, metavar="FILE", help="preference matrix, .json (list of rows or {'P': rows}) or .csv")
    p.add_argument("--mu", metavar="V1,V2,...", help="sampling distribution (default: uniform)")
    p.add_argument("--ref", metavar="V1,V2,...", help="reference policy pi_ref, interior (default: uniform)")
    p.add_argument("--beta", default="1", help="beta = 1/tau > 0 (default: 1)")
    p.add_argument("--dps", type=int, default=50, help="decimal digits (default: 50)")
    p.add_argument("--json", action="store_true", help="print JSON on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.dps < 5 or args.dps > 10000:
        raise ValueError(f"--dps {args.dps} is outside [5, 10000]")
    P = load_preference_matrix(args.matrix)
    mu = args.mu if args.mu is not None else [f"1/{P.K}"] * P.K
    inst = ipo_instance(P, mu, args.ref, args.beta)
    note_repairs(args.command, inst)
    if len(support(inst.mu)) < inst.K:
        statement = solution_set_statement(inst)
        if args.json:
            print_json({"unique": False, "statement": statement, "instance": inst.to_json()})
        else:
            print(statement)
        return 0
    try:
        pi = ipo_optimum(inst.P, inst.mu, inst.pi_ref, inst.beta, dps=args.dps)
    except NonUniqueOptimum as e:  # pragma: no cover - handled above
        print(str(e), file=sys.stderr)
        return 0
    direct = ipo_minimise(inst.P, inst.mu, inst.pi_ref, inst.beta, dps=args.dps)
    with workdps(args.dps + GUARD):
        errs = [agree_log(a, b, args.dps)[1] for a, b in zip(pi, direct)]
        worst = max(errs)
        ok = worst <= tolerance(args.dps)
        pis = [mpmath.nstr(x, args.dps) for x in pi]
    if args.json:
        print_json(
            {
                "unique": True,
                "pi": pis,
                "residual": mpmath.nstr(worst, 5),
                "agrees_to_dps": bool(ok),
                "dps": args.dps,
                "tolerance": f"1e-{args.dps}",
                "instance": inst.to_json(),
            }
        )
    else:
        width = len(str(inst.K - 1))
        print(f"IPO optimum (beta = {fmt(inst.beta)}, dps = {args.dps}):")
        for k, s in enumerate(pis):
            print(f"  pi*[{k:>{width}}] = {s}")
        verdict = "agree" if ok else "DISAGREE"
        print(
            f"verification: closed form and direct minimisation of the loss {verdict} "
            f"(log-policies: max scaled difference {mpmath.nstr(worst, 3)}, tolerance 1e-{args.dps}, relative-or-absolute)"
        )
    return 0 if ok else 1
