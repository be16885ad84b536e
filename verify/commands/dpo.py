"""The DPO commands, each the general command with ``--loss dpo``:

* ``prefdyn dpo`` = ``prefdyn optimum --loss dpo`` (the one-shot DPO optimum, DPO-1);
* ``prefdyn dpo-threshold`` = ``prefdyn threshold --loss dpo`` (DPO-4, DPO-6);
* ``prefdyn dpo-phase``: the DPO-4 threshold curve of ``P_cyc(A)`` beside the DYN-1 one (no simulation):
  a table, and a figure with ``--out``.
"""

from __future__ import annotations

import argparse
import sys
from fractions import Fraction

from verify.commands import optimum, threshold
from verify.engine.report import print_json, table
from verify.exact.objects import InputError, to_fraction

#: The alphas of the table that ``dpo-phase`` prints.
TABLE_ALPHAS = (0.0, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0)


def register(sub: argparse._SubParsersAction) -> None:
    optimum.register_alias(sub, "dpo")
    threshold.register_alias(sub, "dpo", "dpo-threshold")
    f = sub.add_parser(
        "dpo-phase",
        help="the MRS-DPO 3-cycle threshold (DPO-4) beside the MRS-IPO one (DYN-1): a table, a figure with --out",
        description=(
            "For P_cyc(A): IPO's critical beta*lambda = sqrt(3(1-alpha^2))/A (DYN-1) and DPO's critical "
            "lambda/beta_dpo = sqrt(3(1-alpha^2))/(4A) (DPO-4), with pi_0 = pi_ref uniform; the uniform point is "
            "unstable above each curve. Prints both at a few alphas (and the critical beta_dpo at lambda = 1); with "
            "--out FILE also draws them on one alpha axis. For the simulated diagram of any loss use "
            "'prefdyn phase --loss NAME'."
        ),
    )
    f.add_argument("--cyclic", metavar="A", help="the 3-cycle P_cyc(A), 0 < A <= 1/2 (0.4 or 2/5), as in simulate and phase")
    f.add_argument("--a", dest="a_deprecated", default=None, help=argparse.SUPPRESS)  # the old name of --cyclic
    f.add_argument("--out", default=None, metavar="FILE",
                   help="draw both curves into FILE, format from the extension (.png, .pdf, .svg, ...); needs the plot "
                        "extra. No file is written without it")
    f.add_argument("--json", action="store_true", help="print the table as JSON on stdout")
    f.set_defaults(func=run_phase)


def _cycle_strength(args: argparse.Namespace) -> tuple[Fraction, str]:
    if args.a_deprecated is not None:
        print("prefdyn dpo-phase: note: --a is deprecated; use --cyclic", file=sys.stderr)
        if args.cyclic is not None and to_fraction(args.cyclic, "--cyclic A")[0] != to_fraction(args.a_deprecated, "--a")[0]:
            raise InputError(f"--cyclic {args.cyclic} and --a {args.a_deprecated} disagree; give --cyclic only")
    text = args.cyclic if args.cyclic is not None else args.a_deprecated
    if text is None:
        raise InputError("give the 3-cycle: --cyclic A (0 < A <= 1/2)")
    a, _ = to_fraction(text, "--cyclic A")
    if not (0 < a <= Fraction(1, 2)):
        raise InputError(f"--cyclic A = {text}, expected 0 < A <= 1/2")
    return a, text.strip()


def run_phase(args: argparse.Namespace) -> int:
    import numpy as np

    from verify.numerics.phase import dpo_cycle_threshold_curve

    a, text = _cycle_strength(args)
    if args.out is not None:
        from verify.plots import check_out_option

        check_out_option(args.out)
    al = np.array(TABLE_ALPHAS)
    ipo = dpo_cycle_threshold_curve(float(a), al, quantity="ipo_equivalent")
    dpo = dpo_cycle_threshold_curve(float(a), al, quantity="lam_over_beta_dpo")
    bdpo = dpo_cycle_threshold_curve(float(a), al, lam=1.0, quantity="beta_dpo")
    path = None
    if args.out is not None:
        from verify.plots import save, threshold_comparison_figure

        path = save(threshold_comparison_figure(float(a)), args.out)
    if args.json:
        print_json({"matrix": f"P_cyc({text})", "a": float(a), "alphas": al, "ipo_critical_beta_lambda": ipo,
                    "dpo_critical_lambda_over_beta_dpo": dpo, "dpo_critical_beta_dpo_at_lambda_1": bdpo, "png": path})
        return 0
    rows = [[f"{x:g}", f"{i:.6g}", f"{d:.6g}", f"{b:.6g}"] for x, i, d, b in zip(al, ipo, dpo, bdpo)]
    print(f"P_cyc({text}), pi_0 = pi_ref uniform: the uniform point is unstable above each critical value "
          "(below the critical beta_dpo)")
    print(table(["alpha", "IPO beta*lambda (DYN-1)", "DPO lambda/beta_dpo (DPO-4)", "DPO beta_dpo, lambda=1"], rows, [6, 24, 28, 24]))
    if path:
        print(f"picture: {path}")
    return 0
