"""The DPO commands, each the general command with ``--loss dpo``:

* ``prefdyn dpo`` = ``prefdyn optimum --loss dpo`` (the one-shot DPO optimum, DPO-1);
* ``prefdyn dpo-threshold`` = ``prefdyn threshold --loss dpo`` (DPO-4, DPO-6);
* ``prefdyn dpo-phase``: the DPO-4 threshold curve drawn beside the DYN-1 one (no simulation).
"""

from __future__ import annotations

import argparse

from verify.commands import optimum, threshold
from verify.exact.objects import InputError, positive


def register(sub: argparse._SubParsersAction) -> None:
    optimum.register_alias(sub, "dpo")
    threshold.register_alias(sub, "dpo", "dpo-threshold")
    f = sub.add_parser(
        "dpo-phase",
        help="draw the MRS-DPO 3-cycle threshold (DPO-4) beside the MRS-IPO one (DYN-1)",
        description=(
            "Plot, on (alpha, beta*lambda) axes, IPO's critical beta*lambda = sqrt(3(1-alpha^2))/a and DPO's critical "
            "lambda/beta_dpo = sqrt(3(1-alpha^2))/(4a) for P_cyc(a). The uniform point is unstable above each curve. "
            "For the simulated diagram of any loss use 'prefdyn phase --loss NAME'."
        ),
    )
    f.add_argument("--a", required=True, help="cycle strength a in (0, 1/2]")
    f.add_argument("--out", required=True, metavar="FILE", help="output image (.png, .pdf, .svg)")
    f.set_defaults(func=run_phase)


def run_phase(args: argparse.Namespace) -> int:
    from verify.numerics.phase import draw_threshold_comparison

    a = float(positive(args.a, "a"))
    if a > 0.5:
        raise InputError(f"a = {args.a}, expected 0 < a <= 1/2")
    draw_threshold_comparison(a, args.out)
    print(f"wrote {args.out}")
    return 0
