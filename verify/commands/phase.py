"""``prefdyn phase``: the DYN-5 phase diagram of the MRS map of any smooth loss (a table; a figure with ``--out``).

The vertical axis is the loss's IPO-equivalent ``beta * lambda`` = ``c_f lambda / b`` (IPO:
``beta lambda``; DPO: ``4 lambda / beta_dpo``), on which the balanced threshold of LOSS-3 is one
curve for every smooth loss.
"""

from __future__ import annotations

import argparse

from verify.commands._dynargs import add_matrix_options, matrix_from_args, number_option
from verify.commands._lossargs import HelpFormatter, add_loss_options, loss_epilog, loss_from_args, loss_json, loss_label
from verify.engine.report import Progress, print_json, table
from verify.exact.objects import InputError, unit_interval


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "phase",
        help="phase diagram of the MRS map of any smooth loss (--loss) over (alpha, beta*lambda); a figure with --out (DYN-5)",
        description=(
            "Classify a grid of (alpha, beta*lambda) into: stable (one fixed point, rho < 1, trajectories converge), "
            "cycle (rho > 1, persistent oscillation), several fixed points, bistable, undecided. The vertical axis is "
            "the loss's IPO-equivalent beta*lambda = c_f lambda/b (c_f = -2 f'(0)/f''(0); IPO: beta*lambda, DPO: "
            "4 lambda/beta_dpo), on which the balanced threshold (DYN-1/DYN-6/LOSS-3) is one curve for every loss. "
            "Prints the number of grid points in each region; with --out FILE also draws the diagram with that threshold "
            "(balanced P) or the numeric rho = 1 contour, and the q = 1 line of DYN-2 (matplotlib only for drawing). "
            "A piecewise-linear loss (the hinge) has no phase diagram here (its optimum is a set): simulate it."
        ),
        epilog=loss_epilog(),
        formatter_class=HelpFormatter,
    )
    add_matrix_options(p)
    add_loss_options(p, default="ipo", scale=False)
    p.add_argument("--lam", default="1", help="lambda in (0, 1] held fixed (default 1); the scale follows from beta*lambda")
    p.add_argument("--alpha-points", type=int, default=41, help="grid points in alpha over [0, 1] (default 41)")
    p.add_argument("--bl-max", default=None, help="largest beta*lambda (default: 1.6 x the threshold at alpha = 0, or 12)")
    p.add_argument("--bl-points", type=int, default=41, help="grid points in beta*lambda (default 41)")
    p.add_argument("--steps", type=int, default=1500, help="iterations per trajectory (default 1500)")
    p.add_argument("--starts", type=int, default=3, help="trajectories per grid point (default 3)")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--out", default=None, metavar="FILE",
                   help="draw the diagram into FILE, format from the extension (.png, .pdf, .svg, ...); needs the plot extra. "
                        "No file is written without it")
    p.add_argument(
        "--no-dpo-curve",
        action="store_true",
        help="for balanced P and --loss ipo, do not overlay the MRS-DPO threshold (DPO-4/DPO-6), read on the same axis as lambda/beta_dpo",
    )
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    P, label = matrix_from_args(args)
    loss = loss_from_args(args)
    la = float(unit_interval(args.lam, "lambda"))
    if la <= 0:
        raise InputError("--lam must be > 0 (the axis is beta*lambda)")
    for name in ("alpha_points", "bl_points"):
        if getattr(args, name) < 2 or getattr(args, name) > 400:
            raise InputError(f"--{name.replace('_', '-')} = {getattr(args, name)}, expected 2..400")
    if args.steps < 10:
        raise InputError(f"--steps = {args.steps}, expected >= 10")
    from verify.numerics.batch import method_for
    from verify.numerics.phase import balanced_curve, phase_diagram

    if method_for(loss) == "enumerate" or loss.gain is None:
        raise InputError(
            f"no phase diagram for the {loss_label(loss)} loss: {loss.not_smooth_at_0 or 'its optimum is a set'}; "
            f"simulate it instead (prefdyn simulate --loss {args.loss})"
        )
    balanced = bool(np.allclose((P - 0.5).sum(axis=1), 0, atol=1e-12))
    if args.bl_max is None:
        bl_max = 1.6 * balanced_curve(np.array([0.0]), P)[0] if balanced and np.abs(P - 0.5).max() > 0 else 12.0
    else:
        bl_max = number_option(args.bl_max, "--bl-max")
    if not bl_max > 0:
        raise InputError(f"--bl-max = {bl_max}, expected > 0")
    if args.out is not None:
        from verify.plots import check_out_option

        check_out_option(args.out)
    alphas = np.linspace(0, 1, args.alpha_points)
    bls = np.linspace(0, bl_max, args.bl_points)
    prog = Progress("phase", enabled=not args.quiet)
    d = phase_diagram(P, alphas, bls, lam=la, loss=loss, steps=args.steps, n_starts=args.starts, seed=args.seed, progress=prog)
    extra = []
    if loss.name == "ipo" and balanced and not args.no_dpo_curve and np.abs(P - 0.5).max() > 0:
        # DPO-4 / DPO-6: the MRS-DPO threshold at the uniform point is the IPO one with beta = 4 / beta_dpo,
        # so on this axis the critical lambda / beta_dpo is the DYN-6 curve divided by 4.
        fine = np.linspace(0, 1, 201)
        extra.append(("MRS-DPO threshold (DPO-4/6): critical lambda/beta_dpo", fine, balanced_curve(fine, P) / 4))
    path = None
    if args.out is not None:
        from verify.plots import phase_figure, save
        from verify.plots.style import matrix_mathtext

        title = f"MRS phase diagram, {loss_label(loss)}: {matrix_mathtext(label)}, $\\lambda$ = {la:g}"
        curves = [("MRS-DPO threshold (DPO-4/6): critical $\\lambda/\\beta_{\\mathrm{DPO}}$", x, y) for _, x, y in extra]
        path = save(phase_figure(d, title=title, extra_curves=curves), args.out)
    counts = d.counts()
    if args.json:
        lj = loss_json(loss)
        for k in ("scale_exact", loss.scale_name):
            lj.pop(k, None)
        print_json({"matrix": label, "K": P.shape[0], **lj, "lambda": la, "alphas": alphas, "beta_lambda": bls,
                    "axis": d.axis_label, "scales": d.scales, "regions": d.regions,
                    "region_names": ["stable", "cycle", "several", "bistable", "undecided"], "counts": counts, "png": path,
                    "balanced": balanced, "extra_curves": [c[0] for c in extra]})
    else:
        rows = [[k, v] for k, v in counts.items()] + [["axis", d.axis_label]] + ([["picture", path]] if path else [])
        print(table(["region", "grid points"], rows, [12, 60]))
    return 0

