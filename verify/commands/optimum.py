"""``prefdyn optimum``: the one-shot optimum of any pairwise loss, checked by direct minimisation.

``prefdyn ipo`` and ``prefdyn dpo`` are the same command with the loss preset (and their
historical defaults: IPO at 50 digits, DPO at 30).
"""

from __future__ import annotations

import argparse

from verify.commands._dynargs import note_repairs
from verify.commands._lossargs import LOSS_CATALOGUE, HelpFormatter, Subparsers, add_loss_options, loss_epilog, loss_from_args, loss_json, loss_label, scale_flag, scale_text
from verify.engine.report import print_json
from verify.exact.objects import InputError, load_preference_matrix, simplex_vector

__all__ = ["register", "register_alias", "run", "ALIASES", "PROGRESS_FROM_K", "verification_progress"]

#: ``prefdyn NAME`` = ``prefdyn optimum --loss NAME`` with these defaults (help, dps).
ALIASES = {
    "ipo": ("the one-shot IPO optimum pi* ∝ pi_ref exp(beta P mu) (= optimum --loss ipo)", 50),
    "dpo": ("the one-shot DPO optimum (DPO-1) (= optimum --loss dpo)", 30),
}

DESCRIPTION = (
    "The one-shot optimum of the population loss sum_ij mu_i mu_j [P_ij f(b h_ij) + P_ji f(-b h_ij)], "
    "h_ij = r_i - r_j, r = log(pi/pi_ref), at DPS digits (stationarity solved by Newton; the IPO closed form "
    "pi* ∝ pi_ref exp(beta P mu) for IPO), checked against a direct minimisation of the loss that uses loss "
    "values only. A sampler with zeros, or a loss whose optimum is a set (the hinge), is reported as a set, "
    "not picked (exit 0); no finite optimum (a set of responses that surely beats the rest) is exit 2."
)


def _add_common(p: argparse.ArgumentParser, dps: int) -> None:
    p.add_argument("--matrix", required=True, metavar="FILE", help="preference matrix, .json (list of rows or {'P': rows}) or .csv")
    p.add_argument("--mu", metavar="V1,V2,...", help="sampling distribution (default: uniform)")
    p.add_argument("--pi-ref", "--ref", dest="pi_ref", metavar="V1,V2,...", help="reference policy pi_ref, interior (default: uniform)")
    p.add_argument("--dps", type=int, default=dps, help=f"decimal digits (default: {dps})")
    p.add_argument("--sensitivity", action="store_true", help="also print dr*/dmu (implicit function theorem)")
    p.add_argument("--json", action="store_true", help="print JSON on stdout")


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "optimum",
        help="the one-shot optimum of any pairwise loss (--loss), checked by direct minimisation",
        description=DESCRIPTION,
        epilog=loss_epilog(),
        formatter_class=HelpFormatter,
    )
    _add_common(p, 30)
    add_loss_options(p, default="ipo")
    p.set_defaults(func=run, preset=None)


def register_alias(sub: Subparsers, name: str) -> None:
    """``prefdyn NAME``: ``optimum --loss NAME`` with NAME's own scale flag."""
    help_, dps = ALIASES[name]
    L = LOSS_CATALOGUE[name]
    p = sub.add_parser(name, help=help_, description=DESCRIPTION + f" This is 'prefdyn optimum --loss {name}'.")
    _add_common(p, dps)
    p.add_argument("--scale", default=None, metavar="VALUE", help=f"{L.scale_name} > 0 (default: 1)")
    p.add_argument(scale_flag(L.scale_name), dest=f"scale_{L.scale_name}", default=None, metavar="VALUE",
                   help=f"{L.scale_name} > 0, the same as --scale ({L.convention}; default: 1)")
    p.set_defaults(func=run, preset=name, loss_default=name, scale_defaults={})


def _on_support(P, mu, ref, loss, dps) -> dict:
    """With zeros in ``mu``: the optimum of the loss restricted to the support of ``mu`` (the pairs that enter).

    The responses off the support do not enter the loss, so their mass is arbitrary; on the support
    the loss is the same loss for the sub-matrix, whose optimum (a point, for a strictly convex loss)
    is the policy conditioned on the support.
    """
    import mpmath

    from verify.numerics.optimum import NonUniqueOptimum
    from verify.numerics.precision import GUARD, workdps
    from verify.system import System

    T = [k for k, m in enumerate(mu) if m > 0]
    Z = [k for k in range(P.K) if k not in T]
    if not Z:
        return {}
    sZ = "{" + ", ".join(map(str, Z)) + "}"
    if len(T) == 1:
        return {"support": T, "support_statement": "with one sampled response every pair has margin 0: the loss does not depend on r, every policy is optimal"}
    PT = [[P[i, j] for j in T] for i in T]
    refT = None if ref is None else [ref[k] for k in T]
    if refT is not None:
        tot = sum(refT)
        refT = [v / tot for v in refT]
    try:
        piT = System(PT, loss, pi_ref=refT).optimum([mu[k] for k in T], dps=dps)
    except NonUniqueOptimum as e:
        return {"support": T, "support_statement": f"on the support of mu the optimum is a set too: {e}"}
    with workdps(dps + GUARD):
        vals = [mpmath.nstr(v, dps) for v in piT]
    return {
        "support": T,
        "pi_on_support": vals,
        "support_statement": (
            f"the optimal policies: any mass on {sZ}, and on the support {{{', '.join(map(str, T))}}} of mu the optimum "
            f"of the same loss for the sub-matrix (pi* conditioned on the support):"
        ),
    }


def minimise(*args, **kwargs) -> list:
    """:func:`verify.numerics.optimum.minimise` (the check of the optimum), imported when the command runs."""
    from verify.numerics.optimum import minimise as direct

    return direct(*args, **kwargs)


#: From this K on the verification takes seconds: it shows a progress bar on stderr.
PROGRESS_FROM_K = 100


def verification_progress(K: int):
    """A progress bar (percent) over the direct minimisation for ``K >= PROGRESS_FROM_K``, else None.

    The minimiser reports the pairs of the Hessian done, then the work of its Cholesky factor done;
    each is about half of the time at large ``K``.
    """
    if K < PROGRESS_FROM_K:
        return None
    from verify.engine.report import Progress

    bar = Progress("verifying (direct minimisation)")

    def step(done: int, total: int, what: str) -> None:
        bar((50 if what.startswith("Cholesky") else 0) + 50 * done // total, 100, what)

    return step


def run(args: argparse.Namespace) -> int:
    import mpmath

    from verify.numerics.bridge import evalf_mp
    from verify.numerics.optimum import NonUniqueOptimum
    from verify.numerics.precision import GUARD, agree_log, tolerance, workdps
    from verify.system import System

    if args.dps < 5 or args.dps > 10000:
        raise InputError(f"--dps {args.dps} is outside [5, 10000]")
    P = load_preference_matrix(args.matrix)
    note_repairs(args.command, P)
    loss = loss_from_args(args, spec=args.preset)
    mu = simplex_vector(args.mu if args.mu is not None else [f"1/{P.K}"] * P.K, P.K, name="mu")
    ref = simplex_vector(args.pi_ref, P.K, name="pi_ref", interior=True) if args.pi_ref is not None else None
    note_repairs(args.command, mu, ref)
    instance = {"P": P.to_json(), "mu": list(mu), "pi_ref": list(ref) if ref is not None else [f"1/{P.K}"] * P.K, **loss_json(loss)}

    system = System(P, loss, pi_ref=ref)
    try:
        pi = system.optimum(mu, dps=args.dps)
    except NonUniqueOptimum as e:
        out = {"loss": loss.name, "unique": False, "statement": str(e), "instance": instance}
        out.update(_on_support(P, mu, ref, loss, args.dps))
        if args.json:
            print_json(out)
        else:
            print(out["statement"])
            if out.get("support_statement"):
                print(out["support_statement"])
                width = len(str(P.K - 1))
                for k, v in zip(out["support"], out.get("pi_on_support", ())):
                    print(f"  pi*[{k:>{width}} | support] = {v}")
        return 0
    direct = minimise(P, mu, loss, pi_ref=ref, dps=args.dps, progress=verification_progress(P.K))
    with workdps(args.dps + GUARD):
        worst = max(agree_log(a, b, args.dps)[1] for a, b in zip(pi, direct))
        ok = worst <= tolerance(args.dps)
        pis = [mpmath.nstr(x, args.dps) for x in pi]
    sens = None
    if args.sensitivity:
        X = system.sensitivity(mu, dps=args.dps)
        with workdps(args.dps + GUARD):
            binv = 1 / evalf_mp(loss.b)
            sens = [[mpmath.nstr(X[i, j] * binv, 12) for j in range(P.K)] for i in range(P.K)]
    if args.json:
        out = {
            "loss": loss.name,
            "unique": True,
            "pi": pis,
            "residual": mpmath.nstr(worst, 5),
            "agrees_to_dps": bool(ok),
            "dps": args.dps,
            "tolerance": f"1e-{args.dps}",
            "instance": instance,
        }
        if sens is not None:
            out["dr_dmu"] = sens
        print_json(out)
        return 0 if ok else 1
    width = len(str(P.K - 1))
    print(f"{loss_label(loss)} optimum ({scale_text(loss)}, dps = {args.dps}):")
    for k, s in enumerate(pis):
        print(f"  pi*[{k:>{width}}] = {s}")
    verdict = "agree" if ok else "DISAGREE"
    print(
        f"verification: the optimum and a direct minimisation of the loss {verdict} (log-policies: max scaled difference "
        f"{mpmath.nstr(worst, 3)}, tolerance 1e-{args.dps}, relative-or-absolute)"
    )
    if sens is not None:
        print("dr*/dmu (rows r_i, columns mu_j; r* centred):")
        for row in sens:
            print("  " + "  ".join(f"{v:>18}" for v in row))
    return 0 if ok else 1
