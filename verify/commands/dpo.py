"""``prefdyn dpo``: the one-shot DPO optimum (checked by direct minimisation), and
``prefdyn dpo-threshold``: the MRS-DPO stability threshold of the uniform point for a balanced ``P``."""

from __future__ import annotations

import argparse
from fractions import Fraction

import mpmath

from verify.numerics.dpo import dpo_instance, dpo_minimise, dpo_optimum, dpo_sensitivity
from verify.numerics.mrs_dpo import dpo_balanced_modulus, ipo_balanced_modulus, mrs_dpo_jacobian, spectral_radius_skew, tangent_eigenvalues
from verify.exact.objects import InputError, fmt, load_preference_matrix, positive, unit_interval
from verify.numerics.precision import GUARD, agree_log, tolerance, workdps
from verify.engine.report import print_json
from verify.commands._dynargs import note_repairs


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dpo",
        help="the one-shot DPO optimum (DPO-1), checked against direct minimisation of the DPO loss",
        description=(
            "Solve sum_j mu_j (P[i,j] - sig(beta_dpo (r_i - r_j))) = 0 by damped Newton at DPS digits and "
            "check the optimum against cyclic coordinate descent on the DPO loss. beta_dpo is DPO's KL "
            "coefficient (TRL's DPO 'beta'; larger = closer to pi_ref)."
        ),
    )
    p.add_argument("--matrix", required=True, metavar="FILE", help="preference matrix, .json or .csv")
    p.add_argument("--mu", metavar="V1,V2,...", help="sampling distribution, interior (default: uniform)")
    p.add_argument("--ref", metavar="V1,V2,...", help="reference policy pi_ref, interior (default: uniform)")
    p.add_argument("--beta-dpo", default="1", help="beta_dpo > 0 (default: 1)")
    p.add_argument("--dps", type=int, default=30, help="decimal digits (default: 30)")
    p.add_argument("--sensitivity", action="store_true", help="also print dr*/dmu (implicit function theorem)")
    p.add_argument("--json", action="store_true", help="print JSON on stdout")
    p.set_defaults(func=run)

    t = sub.add_parser(
        "dpo-threshold",
        help="MRS-DPO stability of the uniform fixed point for a balanced P (DPO-4, DPO-6)",
        description=(
            "For balanced P (every row of S = P - 1/2 sums to 0) and pi_0 = pi_ref uniform: the uniform point is "
            "linearly unstable iff alpha^2 + (4 lam rho(S)/(beta_dpo K))^2 > 1. Prints the closed form, the "
            "numeric spectral radius of the IFT Jacobian, and the IPO beta = 4/beta_dpo with the same threshold."
        ),
    )
    t.add_argument("--matrix", required=True, metavar="FILE", help="balanced preference matrix, .json or .csv")
    t.add_argument("--alpha", required=True, help="alpha in [0, 1]")
    t.add_argument("--lam", required=True, help="lambda in [0, 1]")
    t.add_argument("--beta-dpo", required=True, help="beta_dpo > 0")
    t.add_argument("--json", action="store_true", help="print JSON on stdout")
    t.set_defaults(func=run_threshold)

    f = sub.add_parser(
        "dpo-phase",
        help="draw the MRS-DPO 3-cycle threshold (DPO-4) beside the MRS-IPO one (DYN-1)",
        description=(
            "Plot, on (alpha, beta*lambda) axes, IPO's critical beta*lambda = sqrt(3(1-alpha^2))/a and DPO's critical "
            "lambda/beta_dpo = sqrt(3(1-alpha^2))/(4a) for P_cyc(a). The uniform point is unstable above each curve."
        ),
    )
    f.add_argument("--a", required=True, help="cycle strength a in (0, 1/2]")
    f.add_argument("--out", required=True, metavar="FILE", help="output image (.png, .pdf, .svg)")
    f.set_defaults(func=run_phase)


def run(args: argparse.Namespace) -> int:
    if args.dps < 5 or args.dps > 1000:
        raise ValueError(f"--dps {args.dps} is outside [5, 1000]")
    P = load_preference_matrix(args.matrix)
    mu = args.mu if args.mu is not None else [f"1/{P.K}"] * P.K
    inst = dpo_instance(P, mu, args.ref, args.beta_dpo)
    note_repairs(args.command, inst)
    pi = dpo_optimum(inst.P, inst.mu, inst.pi_ref, inst.beta_dpo, dps=args.dps)
    direct = dpo_minimise(inst.P, inst.mu, inst.pi_ref, inst.beta_dpo, dps=args.dps)
    with workdps(args.dps + GUARD):
        worst = max(agree_log(a, b, args.dps)[1] for a, b in zip(pi, direct))
        ok = worst <= tolerance(args.dps)
        pis = [mpmath.nstr(x, args.dps) for x in pi]
    sens = None
    if args.sensitivity:
        X = dpo_sensitivity(inst.P, inst.mu, inst.beta_dpo, dps=args.dps)
        sens = [[mpmath.nstr(X[i, j], 12) for j in range(inst.K)] for i in range(inst.K)]
    if args.json:
        out = {"pi": pis, "residual": mpmath.nstr(worst, 5), "agrees_to_dps": bool(ok), "dps": args.dps, "instance": inst.to_json()}
        if sens is not None:
            out["dr_dmu"] = sens
        print_json(out)
        return 0 if ok else 1
    width = len(str(inst.K - 1))
    print(f"DPO optimum (beta_dpo = {fmt(inst.beta_dpo)}, dps = {args.dps}):")
    for k, s in enumerate(pis):
        print(f"  pi*[{k:>{width}}] = {s}")
    verdict = "agree" if ok else "DISAGREE"
    print(
        f"verification: Newton and direct minimisation of the loss {verdict} (log-policies: max scaled difference "
        f"{mpmath.nstr(worst, 3)}, tolerance 1e-{args.dps}, relative-or-absolute)"
    )
    if sens is not None:
        print("dr*/dmu (rows r_i, columns mu_j; r* centred):")
        for row in sens:
            print("  " + "  ".join(f"{v:>18}" for v in row))
    return 0 if ok else 1


def run_threshold(args: argparse.Namespace) -> int:
    P = load_preference_matrix(args.matrix)
    K = P.K
    S = P.skew()
    for i, row in enumerate(S):
        s = sum(row, Fraction(0))
        if s != 0:
            raise InputError(f"P is not balanced: row {i} of S = P - 1/2 sums to {fmt(s)}, expected 0 (DPO-6 needs S 1 = 0)")
    alpha, lam, b = unit_interval(args.alpha, "alpha"), unit_interval(args.lam, "lam"), positive(args.beta_dpo, "beta_dpo")
    with workdps(30 + GUARD):
        rho = spectral_radius_skew(S)
        m2 = dpo_balanced_modulus(rho, K, alpha, b, lam)
        J = mrs_dpo_jacobian([Fraction(1, K)] * K, P, alpha, b, lam, dps=30)
        num = abs(tangent_eigenvalues(J)[0])
        beta_ipo = 4 / mpmath.mpf(b.numerator) * b.denominator
        m2_ipo = ipo_balanced_modulus(rho, K, alpha, beta_ipo, lam)
        unstable = m2 > 1
        res = {
            "rho_S": mpmath.nstr(rho, 20),
            "modulus_squared": mpmath.nstr(m2, 20),
            "spectral_radius_closed_form": mpmath.nstr(mpmath.sqrt(m2), 20),
            "spectral_radius_numeric": mpmath.nstr(num, 20),
            "verdict": "unstable" if unstable else ("marginal" if m2 == 1 else "stable"),
            "ipo_beta_with_same_threshold": mpmath.nstr(beta_ipo, 20),
            "ipo_modulus_squared_at_that_beta": mpmath.nstr(m2_ipo, 20),
        }
    if args.json:
        print_json(res)
        return 0
    print(f"balanced P, K = {K}: rho(S) = {res['rho_S']}")
    print(f"alpha^2 + (4 lam rho/(beta_dpo K))^2 = {res['modulus_squared']}  ->  uniform point {res['verdict']}")
    print(f"spectral radius: closed form {res['spectral_radius_closed_form']}, numeric (IFT Jacobian, 30 digits) {res['spectral_radius_numeric']}")
    print(f"MRS-IPO has the same threshold at beta = 4/beta_dpo = {res['ipo_beta_with_same_threshold']}")
    return 0


def run_phase(args: argparse.Namespace) -> int:
    from verify.numerics.mrs_dpo import draw_threshold_comparison

    a = float(positive(args.a, "a"))
    if a > 0.5:
        raise InputError(f"a = {args.a}, expected 0 < a <= 1/2")
    draw_threshold_comparison(a, args.out)
    print(f"wrote {args.out}")
    return 0
