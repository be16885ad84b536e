"""``prefdyn simulate``: run the MRS dynamics of any loss from one matrix, print a summary, write a PNG."""

from __future__ import annotations

import argparse
import sys

import numpy as np
import sympy

from theory.losses import ALIASES
from verify.commands._lossargs import HelpFormatter, add_loss_options, loss_epilog, loss_from_args, loss_json, loss_label
from verify.exact.objects import InputError, unit_interval
from verify.engine.report import Progress, print_json, table
from verify.commands._dynargs import PLOT_HINT, add_matrix_options, matrix_from_args, need_matplotlib, number_option, vector_option


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulate the MRS dynamics of any loss (--loss) from one matrix; summary and a PNG",
        description=(
            "Iterate the MRS map log pi' = alpha log pi + (1-alpha) log pi_ref + x*(mu)/b, mu = lam pi + (1-lam) pi0 "
            "(docs/claims.md §3) of the chosen loss in float64 log space from a near-uniform start (or --start) and "
            "print: the fixed point's spectral radius, the final policy and entropy, the cycle strength, and whether "
            "the trajectory converged or oscillates (with a period estimate). Writes a PNG: the trajectory on the "
            "simplex for K = 3, policy coordinates and entropy against t for any K."
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
    p.add_argument("--out", default="prefdyn_simulate.png", help="PNG path (default prefdyn_simulate.png)")
    p.add_argument("--no-plot", action="store_true", help="do not write a PNG")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


#: This command's default scales (kept from the IPO/DPO commands it replaces); other losses: their own default.
SCALE_DEFAULTS = {"ipo": "4", "dpo": "0.25"}


def _loss(args: argparse.Namespace):
    if args.method is not None:
        if args.loss is not None and ALIASES.get(args.loss.strip().lower(), args.loss.strip().lower()) != args.method:
            raise InputError(f"--method {args.method} and --loss {args.loss} disagree; give --loss only")
        return loss_from_args(args, spec=args.method)
    return loss_from_args(args)


def _fixed_point(P, loss, al, la, ref, p0):
    """The fixed point reached from the uniform start by damped Newton, and its spectral radius (float64), or None.

    None as well for a piecewise-linear loss (the hinge): its optimum is a set and the map has no Jacobian.
    """
    from verify.numerics.batch import method_for
    from verify.numerics.phase import batch_fixed_points

    if method_for(loss) == "enumerate":
        return None
    pi, conv, rho, _ = batch_fixed_points(P, np.array([al]), np.array([float(loss.scale)]), np.array([la]), ref, p0, iters=200, loss=loss)
    if not conv[0]:
        return None
    r = float(rho[0])
    return {"pi": pi[0].tolist(), "spectral_radius": r, "stability": "stable" if r < 1 else ("unstable" if r > 1 else "neutral")}


def _no_fixed_point(loss) -> str:
    from verify.numerics.batch import method_for

    if method_for(loss) == "enumerate":
        return "not computed: the optimum of a piecewise-linear loss is a set, the map has no Jacobian"
    return "not found: damped Newton from the uniform point did not converge"


def run(args: argparse.Namespace) -> int:
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
    from verify.numerics.simulate import near_uniform_starts, run_batch

    if args.start is not None:
        s = vector_option(args.start, K, "start")
        lp0 = np.log(s)[None, :]
    else:
        scale = number_option(args.start_scale, "--start-scale")
        if not scale >= 0:
            raise InputError(f"--start-scale = {args.start_scale}, expected >= 0")
        lp0 = near_uniform_starts(1, K, np.random.default_rng(args.seed), scale)
    step = make_step(P, loss, al, la, ref, p0, B=1)
    prog = Progress("simulate", enabled=(not args.quiet) and args.steps * K >= 200_000)
    res = run_batch(step, lp0, args.steps, burn_in=burn, record=True, progress=prog)
    m = {k: v[0] for k, v in res.metrics.items()}
    pi_T = np.exp(res.logpi[0])
    fp = _fixed_point(P, loss, al, la, ref, p0)
    if m["oscillating"]:
        status = "oscillating"
    elif m["converged"]:
        status = "converged"
    elif pi_T.max() > 1 - 1e-9:
        status = f"concentrating on response {int(np.argmax(pi_T))} (log-probabilities still moving)"
    else:
        status = "not converged"
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
        "fixed_point_note": None if fp is not None else _no_fixed_point(loss),
        "png": None,
    }
    summary["title"] = f"MRS, {loss_label(loss)}: {label}, alpha = {al:g}, {sname} = {float(loss.scale):g}, lambda = {la:g}"
    if not args.no_plot:
        try:
            summary["png"] = _plot(res.trajectory[:, 0, :], summary, args.out)
        except ImportError:
            print(f"prefdyn simulate: note: no PNG written; {PLOT_HINT}", file=sys.stderr)
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


def _plot(traj_log: np.ndarray, s: dict, path: str) -> str:
    plt = need_matplotlib()
    from verify.numerics.metrics import entropy_from_log

    pi = np.exp(traj_log)
    K = pi.shape[1]
    H = entropy_from_log(traj_log, axis=1)
    t = np.arange(pi.shape[0])
    ncols = 2 if K == 3 else 1
    fig = plt.figure(figsize=(11 if K == 3 else 7, 5))
    if K == 3:
        ax0 = fig.add_subplot(1, 2, 1)
        corners = np.array([[0, 0], [1, 0], [0.5, np.sqrt(3) / 2]])
        xy = pi @ corners
        ax0.plot(*np.vstack([corners, corners[:1]]).T, "k-", lw=1)
        ax0.plot(xy[:, 0], xy[:, 1], "-", lw=0.6, color="tab:blue", alpha=0.7)
        ax0.plot(*xy[0], "go", label="start")
        ax0.plot(*xy[-1], "rs", label="end")
        for k, name in enumerate(("0", "1", "2")):
            ax0.annotate(name, corners[k], textcoords="offset points", xytext=(-4 if k != 1 else 4, -12 if k < 2 else 6))
        ax0.set_aspect("equal")
        ax0.axis("off")
        ax0.legend(loc="upper left", fontsize=8)
        ax0.set_title("trajectory on the simplex")
    ax1 = fig.add_subplot(2, ncols, ncols)
    for k in range(min(K, 12)):
        ax1.plot(t, pi[:, k], lw=0.8, label=f"pi[{k}]")
    ax1.set_ylabel("policy")
    if K <= 12:
        ax1.legend(fontsize=7, ncol=min(K, 6))
    ax2 = fig.add_subplot(2, ncols, 2 * ncols)
    ax2.plot(t, H, "k-", lw=0.8)
    ax2.set_ylabel("entropy (nats)")
    ax2.set_xlabel("t")
    fig.suptitle(f"{s['title']} — {s['status'].split(' (')[0]}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
