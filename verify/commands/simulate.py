"""``prefdyn simulate``: run the MRS dynamics of any loss from one matrix, print a summary, and with ``--out`` draw it."""

from __future__ import annotations

import argparse

from verify.commands._lossargs import LOSS_ALIASES, HelpFormatter, add_loss_options, loss_epilog, loss_from_args, loss_json, loss_label
from verify.exact.objects import InputError, unit_interval
from verify.engine.report import Progress, print_json, table
from verify.commands._dynargs import add_matrix_options, matrix_from_args, number_option, vector_option


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulate the MRS dynamics of any loss (--loss) from one matrix; a summary, and a figure with --out",
        description=(
            "Iterate the MRS map log pi' = alpha log pi + (1-alpha) log pi_ref + x*(mu)/b, mu = lam pi + (1-lam) pi0 "
            "(docs/claims.md §3) of the chosen loss in float64 log space from a near-uniform start (or --start) and "
            "print: the fixed point's spectral radius, the final policy and entropy, the cycle strength, and whether "
            "the trajectory converged or oscillates (with a period estimate). With --out FILE, also draws the run: "
            "the trajectory in the simplex (K = 3; the two largest responses and the rest for K > 3), the policy over the "
            "last periods (or until it settles), and the whole run (distance to the fixed point on a log axis, or the "
            "entropy). Nothing is written without --out."
        ),
        epilog=loss_epilog(),
        formatter_class=HelpFormatter,
    )
    add_matrix_options(p)
    add_loss_options(p, default="ipo", scale_defaults=SCALE_DEFAULTS)
    p.add_argument("--method", choices=("ipo", "dpo"), default=None, help="the same as --loss ipo / --loss dpo (kept for old scripts)")
    p.add_argument("--alpha", default="0.5", help="reference mixing alpha in [0, 1] (default 0.5)")
    p.add_argument("--lam", default="1", help="sampler mixing lambda in [0, 1] (default 1)")
    p.add_argument("--steps", type=int, default=3000, help="iterations (default 3000)")
    p.add_argument("--burn-in", type=int, default=None, help="states left out of the cycle strength (default steps/2)")
    p.add_argument("--seed", type=int, default=0, help="seed of the start perturbation and of --random-sst (default 0)")
    p.add_argument("--start-scale", default="1e-3", help="logit perturbation of the near-uniform start (default 1e-3)")
    p.add_argument("--start", help="start policy, comma-separated (default: near-uniform)")
    p.add_argument("--pi-ref", help="reference policy, comma-separated (default uniform)")
    p.add_argument("--pi0", help="offline sampler, comma-separated (default uniform)")
    p.add_argument("--out", default=None, metavar="FILE",
                   help="draw the run into FILE, format from the extension (.png, .pdf, .svg, ...); needs the plot extra. "
                        "No file is written without it")
    p.add_argument("--no-plot", action="store_true",
                   help="kept for old scripts: draw nothing, even with --out (without --out nothing is drawn anyway)")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


#: This command's default scales (kept from the IPO/DPO commands it replaces); other losses: their own default.
SCALE_DEFAULTS = {"ipo": "4", "dpo": "0.25"}


def _loss(args: argparse.Namespace):
    if args.method is not None:
        if args.loss is not None and LOSS_ALIASES.get(args.loss.strip().lower(), args.loss.strip().lower()) != args.method:
            raise InputError(f"--method {args.method} and --loss {args.loss} disagree; give --loss only")
        return loss_from_args(args, spec=args.method)
    return loss_from_args(args)


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import sympy

    P, label = matrix_from_args(args)
    K = P.shape[0]
    loss = _loss(args)
    al = float(unit_interval(args.alpha, "alpha"))
    la = float(unit_interval(args.lam, "lambda"))
    if args.steps < 1:
        raise InputError(f"--steps = {args.steps}, expected >= 1")
    burn = args.steps // 2 if args.burn_in is None else args.burn_in
    if not 0 <= burn < args.steps:
        raise InputError(f"--burn-in = {burn}, expected 0 <= burn-in < steps = {args.steps}")
    ref = vector_option(args.pi_ref, K, "pi_ref")
    p0 = vector_option(args.pi0, K, "pi0")
    from verify.numerics.batch import make_step
    from verify.numerics.phase import run_summary
    from verify.numerics.simulate import near_uniform_starts, run_batch

    if args.start is not None:
        s = vector_option(args.start, K, "start")
        lp0 = np.log(s)[None, :]
    else:
        scale = number_option(args.start_scale, "--start-scale")
        if not scale >= 0:
            raise InputError(f"--start-scale = {args.start_scale}, expected >= 0")
        lp0 = near_uniform_starts(1, K, np.random.default_rng(args.seed), scale)
    out = None if args.no_plot else args.out
    if out is not None:
        from verify.plots import check_out_option

        check_out_option(out)
    step = make_step(P, loss, al, la, ref, p0, B=1)
    prog = Progress("simulate", enabled=(not args.quiet) and args.steps * K >= 200_000)
    res = run_batch(step, lp0, args.steps, burn_in=burn, record=out is not None, progress=prog)
    run_info = run_summary(P, loss, al, la, res, ref, p0)
    m = run_info["metrics"]
    pi_T = run_info["final_pi"]
    fp = run_info["fixed_point"]
    status = run_info["status"]
    sname = loss.scale_name
    summary = {
        "matrix": label,
        "K": K,
        **loss_json(loss),
        "method": loss.name,
        "alpha": al,
        "lambda": la,
        "steps": args.steps,
        "burn_in": burn,
        "seed": args.seed,
        "status": status,
        "converged": bool(m["converged"]),
        "converged_at": int(m["converged_at"]),
        "oscillating": bool(m["oscillating"]),
        "period": None if np.isnan(m["period"]) else float(m["period"]),
        "amplitude": float(m["amplitude"]),
        "cycle_strength": float(m["cycle_strength"]),
        "final_entropy": float(m["entropy"]),
        "final_pi": pi_T.tolist(),
        "min_log_pi": float(res.logpi[0].min()),
        "fixed_point": fp,
        "fixed_point_note": run_info["fixed_point_note"],
        "png": None,
    }
    summary["title"] = f"MRS, {loss_label(loss)}: {label}, alpha = {al:g}, {sname} = {float(loss.scale):g}, lambda = {la:g}"
    if out is not None:
        from verify.plots import save, trajectory_figure
        from verify.plots.style import matrix_mathtext

        fig = trajectory_figure(
            res.trajectory[:, 0, :],
            title=f"MRS, {loss_label(loss)}: {matrix_mathtext(label)}",
            loss=loss,
            params={"alpha": al, sname: float(loss.scale), "lambda": la},
            fixed_point=None if fp is None else fp["pi"],
            status=status,
            period=run_info["period"] if m["oscillating"] else None,
        )
        summary["png"] = save(fig, out)
    if args.json:
        print_json(summary)
    else:
        rows = [
            ["matrix", label],
            ["loss", f"MRS, {loss_label(loss)}" + ("" if loss_label(loss).startswith("f(x)") else f": f(x) = {summary['f']}")],
            ["parameters", f"alpha = {al:g}, {sname} = {sympy.sstr(loss.scale)}, lambda = {la:g}"],
            ["status", status + (f" (period ~ {m['period']:.2f} steps)" if m["oscillating"] else (f" at step {int(m['converged_at'])}" if m["converged"] else ""))],
            ["cycle strength", f"{m['cycle_strength']:.4g} (variance of pi over t > {burn}, mean over coordinates)"],
            ["amplitude", f"{m['amplitude']:.4g}"],
            ["final entropy", f"{m['entropy']:.6g} nats (max log K = {np.log(K):.4g})"],
            ["final pi", ", ".join(f"{x:.4g}" for x in pi_T)],
        ]
        if fp is None:
            rows.append(["fixed point", summary["fixed_point_note"]])
        else:
            rows.append(["fixed point", f"rho = {fp['spectral_radius']:.6g} ({fp['stability']}); pi* = " + ", ".join(f"{x:.4g}" for x in fp["pi"])])
        if summary["png"]:
            rows.append(["picture", summary["png"]])
        print(table(["", ""], rows, [16, 90]))
    return 0
