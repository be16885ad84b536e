"""``prefdyn simulate``: run MRS-IPO (or MRS-DPO) from one matrix, print a summary, write a PNG."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from verify.exact.objects import InputError, positive, unit_interval
from verify.engine.report import Progress, print_json, table
from verify.commands._dynargs import PLOT_HINT, add_matrix_options, matrix_from_args, need_matplotlib, vector_option


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulate MRS-IPO / MRS-DPO from one matrix; summary and a PNG",
        description=(
            "Iterate the MRS-IPO map (THEORY.md section 3) in float64 log space from a near-uniform start "
            "(or --start) and print: the fixed point's spectral radius, the final policy and entropy, the cycle "
            "strength, and whether the trajectory converged or oscillates (with a period estimate). Writes a PNG: "
            "the trajectory on the simplex for K = 3, policy coordinates and entropy against t for any K."
        ),
    )
    add_matrix_options(p)
    p.add_argument("--method", choices=("ipo", "dpo"), default="ipo", help="ipo (default) or dpo (needs verify.numerics.mrs_dpo)")
    p.add_argument("--alpha", default="0.5", help="reference mixing alpha in [0, 1] (default 0.5)")
    p.add_argument("--beta", default="4", help="IPO beta > 0 (default 4)")
    p.add_argument("--beta-dpo", default="0.25", help="DPO KL coefficient beta_dpo > 0 for --method dpo (default 0.25)")
    p.add_argument("--lam", default="1", help="sampler mixing lambda in [0, 1] (default 1)")
    p.add_argument("--steps", type=int, default=3000, help="iterations (default 3000)")
    p.add_argument("--burn-in", type=int, default=None, help="states left out of the cycle strength (default steps/2)")
    p.add_argument("--seed", type=int, default=0, help="seed of the start perturbation and of --random-sst (default 0)")
    p.add_argument("--start-scale", type=float, default=1e-3, help="logit perturbation of the near-uniform start (default 1e-3)")
    p.add_argument("--start", help="start policy, comma-separated (default: near-uniform)")
    p.add_argument("--pi-ref", help="reference policy, comma-separated (default uniform)")
    p.add_argument("--pi0", help="offline sampler, comma-separated (default uniform)")
    p.add_argument("--out", default="prefdyn_simulate.png", help="PNG path (default prefdyn_simulate.png)")
    p.add_argument("--no-plot", action="store_true", help="do not write a PNG")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _step(args, P, al, be, la, ref, p0):
    if args.method == "ipo":
        from verify.numerics.simulate import make_ipo_batch_step

        return make_ipo_batch_step(P, al, be, la, ref, p0, B=1)
    try:
        from verify.numerics.mrs_dpo import make_batch_step  # type: ignore[import-not-found]
    except ImportError:
        raise InputError("--method dpo needs the module verify.numerics.mrs_dpo, which is not installed in this version") from None
    bd = float(positive(args.beta_dpo, "beta_dpo"))
    return make_batch_step(P, al, bd, la, pi_ref=ref, pi0=p0)


def run(args: argparse.Namespace) -> int:
    P, label = matrix_from_args(args)
    K = P.shape[0]
    al = float(unit_interval(args.alpha, "alpha"))
    be = float(positive(args.beta, "beta"))
    la = float(unit_interval(args.lam, "lambda"))
    if args.steps < 1:
        raise InputError(f"--steps = {args.steps}, expected >= 1")
    burn = args.steps // 2 if args.burn_in is None else args.burn_in
    if not 0 <= burn < args.steps:
        raise InputError(f"--burn-in = {burn}, expected 0 <= burn-in < steps = {args.steps}")
    ref = vector_option(args.pi_ref, K, "pi_ref")
    p0 = vector_option(args.pi0, K, "pi0")
    from verify.numerics.simulate import near_uniform_starts, run_batch

    if args.start is not None:
        s = vector_option(args.start, K, "start")
        lp0 = np.log(s)[None, :]
    else:
        lp0 = near_uniform_starts(1, K, np.random.default_rng(args.seed), args.start_scale)
    step = _step(args, P, al, be, la, ref, p0)
    prog = Progress("simulate", enabled=(not args.quiet) and args.steps * K >= 200_000)
    res = run_batch(step, lp0, args.steps, burn_in=burn, record=True, progress=prog)
    m = {k: v[0] for k, v in res.metrics.items()}
    fp = None
    if args.method == "ipo":
        from verify.numerics.phase import batch_fixed_points

        pi, conv, rho, _ = batch_fixed_points(P, np.array([al]), np.array([be]), np.array([la]), ref, p0, iters=200)
        if conv[0]:
            fp = {"pi": pi[0].tolist(), "spectral_radius": float(rho[0]), "stability": "stable" if rho[0] < 1 else ("unstable" if rho[0] > 1 else "neutral")}
    pi_T = np.exp(res.logpi[0])
    if m["oscillating"]:
        status = "oscillating"
    elif m["converged"]:
        status = "converged"
    elif pi_T.max() > 1 - 1e-9:
        status = f"concentrating on response {int(np.argmax(pi_T))} (log-probabilities still moving)"
    else:
        status = "not converged"
    summary = {
        "matrix": label,
        "K": K,
        "method": args.method,
        "alpha": al,
        "beta": be,
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
        "png": None,
    }
    if args.method == "dpo":
        summary["beta_dpo"] = float(args.beta_dpo)
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
            ["method", "MRS-DPO" if args.method == "dpo" else "MRS-IPO"],
            [
                "parameters",
                f"alpha = {al:g}, beta_dpo = {float(args.beta_dpo):g}, lambda = {la:g}"
                if args.method == "dpo"
                else f"alpha = {al:g}, beta = {be:g}, lambda = {la:g}",
            ],
            ["status", status + (f" (period ~ {m['period']:.2f} steps)" if m["oscillating"] else (f" at step {int(m['converged_at'])}" if m["converged"] else ""))],
            ["cycle strength", f"{m['cycle_strength']:.4g} (variance of pi over t > {burn}, mean over coordinates)"],
            ["amplitude", f"{m['amplitude']:.4g}"],
            ["final entropy", f"{m['entropy']:.6g} nats (max log K = {np.log(K):.4g})"],
            ["final pi", ", ".join(f"{x:.4g}" for x in pi_T)],
        ]
        if fp is not None:
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
    fig.suptitle(f"MRS-{s['method'].upper()}: {s['matrix']}, alpha={s['alpha']:g}, beta={s['beta']:g}, lambda={s['lambda']:g} — {s['status'].split(' (')[0]}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
