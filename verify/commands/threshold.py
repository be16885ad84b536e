"""``prefdyn threshold``: the critical value of a loss's scale at which the uniform point of MRS turns unstable.

For a balanced ``P`` (``S 1 = 0``, ``S = P - 11^T/2``) and ``pi0 = pi_ref = uniform`` the uniform
policy is a fixed point of the MRS map for every loss, and its tangent Jacobian is
``alpha I + (c_f lam / (b K)) S`` with the gain ``c_f = -2 f'(0) / f''(0)`` (LOSS-3): it is unstable
iff ``alpha^2 + (c_f lam ||S||_2 / (b K))^2 > 1``, i.e. iff ``b < b* = c_f lam ||S||_2 / (K sqrt(1 - alpha^2))``.
The command prints ``b*`` in the loss's own scale (IPO's ``beta = 2/b``: DYN-1/DYN-6; DPO's
``beta_dpo = b``: DPO-4/DPO-6), says which side is unstable, and with ``--scale`` evaluates the
closed form at that scale and checks it against the eigenvalues of the numeric Jacobian.

``prefdyn dpo-threshold`` is this command with ``--loss dpo``.
"""

from __future__ import annotations

import argparse
from fractions import Fraction

from verify.commands._dynargs import note_repairs
from verify.commands._lossargs import LOSS_CATALOGUE, HelpFormatter, Subparsers, add_loss_options, builtin_twin, exact_json, loss_epilog, loss_from_args, loss_json, loss_label, scale_flag
from verify.engine.report import print_json
from verify.exact.objects import InputError, fmt, load_preference_matrix, to_fraction, unit_interval

__all__ = ["register", "register_alias", "run", "exact_matrix", "balanced_or_raise", "formulas"]

DESCRIPTION = (
    "For a balanced P (every row of S = P - 1/2 sums to 0) and pi0 = pi_ref = uniform, the uniform policy is a "
    "fixed point of the MRS map and its tangent Jacobian is alpha I + (c_f lam/(b K)) S, c_f = -2 f'(0)/f''(0) "
    "(LOSS-3). It is linearly unstable iff alpha^2 + (c_f lam ||S||_2/(b K))^2 > 1, i.e. iff b < b* = "
    "c_f lam ||S||_2/(K sqrt(1 - alpha^2)). Prints the critical value of the loss's own scale (exact), which side "
    "is unstable, and the formula; with a scale (--scale or the loss's flag) also the spectral radius there, from "
    "the closed form and from the eigenvalues of the numeric Jacobian. For a loss with f''(0) = 0 (the hinge) "
    "the formula does not apply: the command says why (exit 0). A P that is not balanced is refused (exit 2)."
)

#: The claims a built-in's threshold specialises (the general one is LOSS-3).
CLAIMS = {"ipo": "DYN-1 for the 3-cycle, DYN-6", "dpo": "DPO-4 for the 3-cycle, DPO-6"}


def _show(expr) -> str:
    import sympy

    return sympy.sstr(sympy.simplify(expr))


def _add_common(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--matrix", metavar="FILE", help="balanced preference matrix, .json or .csv")
    g.add_argument("--cyclic", metavar="A", help="the 3-cycle P_cyc(A): P[0,1] = P[1,2] = P[2,0] = 1/2 + A, 0 < A <= 1/2 (exact: 1/4 or 0.25)")
    p.add_argument("--alpha", required=True, help="reference mixing alpha in [0, 1] (exact strings such as 1/2 accepted)")
    p.add_argument("--lam", required=True, help="sampler mixing lambda in [0, 1]")
    p.add_argument("--dps", type=int, default=30, help="digits of the numeric Jacobian check (with a scale; default 30)")
    p.add_argument("--json", action="store_true", help="print JSON on stdout")


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "threshold",
        help="the critical scale of a loss at which the uniform point of MRS turns unstable (balanced P; LOSS-3)",
        description=DESCRIPTION,
        epilog=loss_epilog(),
        formatter_class=HelpFormatter,
    )
    _add_common(p)
    add_loss_options(p, default="ipo")
    p.set_defaults(func=run, preset=None)


def register_alias(sub: Subparsers, name: str, command: str) -> None:
    """``prefdyn COMMAND`` = ``prefdyn threshold --loss NAME`` (with NAME's own scale flag)."""
    L = LOSS_CATALOGUE[name]
    p = sub.add_parser(
        command,
        help=f"the MRS stability of the uniform point for a balanced P with the {name} loss (= threshold --loss {name})",
        description=DESCRIPTION + f" This is 'prefdyn threshold --loss {name}'.",
    )
    _add_common(p)
    p.add_argument("--scale", default=None, metavar="VALUE", help=f"{L.scale_name} > 0 at which to evaluate the stability")
    p.add_argument(scale_flag(L.scale_name), dest=f"scale_{L.scale_name}", default=None, metavar="VALUE",
                   help=f"{L.scale_name} > 0, the same as --scale ({L.convention})")
    p.set_defaults(func=run, preset=name, loss_default=name, scale_defaults={})


def exact_matrix(args: argparse.Namespace):
    """The exact matrix of ``--matrix FILE`` or ``--cyclic A`` and a label."""
    if args.matrix:
        P = load_preference_matrix(args.matrix)
        note_repairs(args.command, P)
        return P, f"P from {args.matrix}"
    a, _ = to_fraction(args.cyclic, "--cyclic A")
    if not (0 < a <= Fraction(1, 2)):
        raise InputError(f"--cyclic A = {fmt(a)}, expected 0 < A <= 1/2")
    from verify.exact.families import cyclic

    return load_preference_matrix(cyclic(a)), f"P_cyc({fmt(a)})"


def balanced_or_raise(P) -> None:
    """Refuse a ``P`` that is not balanced, naming the first row of ``S`` that does not sum to 0."""
    for i, row in enumerate(P.skew()):
        s = sum(row, Fraction(0))
        if s != 0:
            raise InputError(
                f"P is not balanced: row {i} of S = P - 1/2 sums to {fmt(s)}, expected 0 "
                f"(the closed-form threshold needs a balanced P, S 1 = 0)"
            )


def _scale_given(args: argparse.Namespace) -> bool:
    return args.scale is not None or any(v is not None for k, v in vars(args).items() if k.startswith("scale_") and k != "scale_defaults")


def formulas(loss, *, cyclic: bool = False) -> dict:
    """LOSS-3's critical value as formulas in ``alpha``, ``lam``, ``sigma = ||S||_2``, ``K`` (and ``a`` for the 3-cycle).

    From :func:`theory.family.critical_b`, converted to the loss's own scale by ``loss.scale_of_b``.
    """
    import sympy

    from theory.family import critical_b

    ALPHA, LAM, SIGMA, KS, A = sympy.symbols("alpha lam sigma K a", positive=True)
    ROOT = sympy.Symbol("sqrt(1 - alpha**2)", positive=True)  # kept as one factor in the printed formulas

    b_general = critical_b(loss, SIGMA, KS, ALPHA, LAM).subs(sympy.sqrt(1 - ALPHA**2), ROOT)
    out = {
        "formula": f"{loss.scale_name}* = {_show(loss.scale_of_b(b_general))}  (sigma = ||S||_2)",
        "formula_b": f"b* = {_show(b_general)}  (sigma = ||S||_2)",
    }
    if cyclic:
        b_cyc = b_general.subs({SIGMA: sympy.sqrt(3) * A, KS: 3})
        out["formula_cyclic"] = f"{loss.scale_name}* = {_show(loss.scale_of_b(b_cyc))}  (P_cyc(a): sigma = sqrt(3) a, K = 3)"
    return out


def run(args: argparse.Namespace) -> int:
    import sympy

    if args.dps < 5 or args.dps > 1000:
        raise InputError(f"--dps {args.dps} is outside [5, 1000]")
    P, label = exact_matrix(args)
    alpha, lam = unit_interval(args.alpha, "alpha"), unit_interval(args.lam, "lam")
    loss = loss_from_args(args, spec=args.preset)
    balanced_or_raise(P)
    head = {"matrix": label, "K": P.K, "balanced": True, "alpha": alpha, "lambda": lam, **loss_json(loss)}
    if not _scale_given(args):
        for k in ("scale_exact", loss.scale_name):
            head.pop(k, None)
    if loss.gain is None:
        why = f"not applicable: {loss.not_smooth_at_0} (the closed form needs f''(0) > 0; simulate the loss instead)"
        if args.json:
            print_json({**head, "applicable": False, "reason": why, "critical_scale": None})
        else:
            print(f"threshold for {loss_label(loss)}: {why}")
        return 0
    from verify import System
    from verify.numerics.phase import threshold_side

    system = System(P, loss, alpha=alpha, lam=lam)
    t = system.threshold()
    sname = loss.scale_name
    side = threshold_side(loss)
    twin = builtin_twin(loss)
    claims_of = CLAIMS.get(loss.name) or (CLAIMS.get(twin.name) if twin is not None else None)
    res = {
        **head,
        "applicable": bool(t.applicable),
        "norm_S": exact_json(t.norm_S),
        "norm_S_float": float(t.norm_S),
        "gain": exact_json(t.gain),
        **formulas(loss, cyclic=args.cyclic is not None),
        "claims": ["LOSS-3"] + ([c.strip().split(" ")[0] for c in claims_of.split(",")] if claims_of else []),
    }
    if twin is not None:
        res["same_f_as"] = twin.name
    if t.exact is None:
        res.update({"critical_scale": None, "reason": t.reason})
    else:
        if twin is not None:
            tw = sympy.radsimp(sympy.simplify(twin.scale_of_b(t.b_exact)))
            res.update({f"{twin.name}_{twin.scale_name}_critical": float(tw), f"{twin.name}_{twin.scale_name}_critical_exact": exact_json(tw)})
        res.update({
            "critical_scale": float(t.exact),
            "critical_scale_exact": exact_json(t.exact),
            "critical_b": float(t.b_exact),
            "critical_b_exact": exact_json(t.b_exact),
            "unstable_side": side,
            "unstable_when": t.unstable_when,
            "caveat": t.caveat,
        })
    if _scale_given(args):
        res.update(_at_scale(system, loss, alpha, lam, t.norm_S, args.dps))
    if args.json:
        print_json(res)
        return 0 if res.get("agrees", True) else 1
    print(f"MRS at the uniform point (pi0 = pi_ref = uniform), {loss_label(loss)}: {label}, K = {P.K}, balanced (S 1 = 0)")
    print(f"alpha = {fmt(alpha)}, lambda = {fmt(lam)}; ||S||_2 = {sympy.sstr(t.norm_S)}; gain c_f = -2 f'(0)/f''(0) = {sympy.sstr(t.gain)}")
    if twin is not None:
        print(f"this f is the built-in {twin.name}'s ({loss_label(twin)}), whose scale is {twin.scale_name} with "
              f"b = {sympy.sstr(twin.b_of(sympy.Symbol(twin.scale_name, positive=True)))}")
    print(f"formula (LOSS-3{'; ' + claims_of if claims_of else ''}): {res['formula']}")
    if "formula_cyclic" in res:
        print(f"           for the 3-cycle: {res['formula_cyclic']}")
    if t.exact is None:
        print(f"no critical {sname}: {t.reason}")
    else:
        c = sympy.sstr(t.exact)
        approx = "" if t.exact.is_Rational else f" ≈ {sympy.N(t.exact, 15)}"
        lo, hi = ("unstable", "stable") if side == "below" else ("stable", "unstable")
        also = ""
        if twin is not None:
            tw = res[f"{twin.name}_{twin.scale_name}_critical_exact"]
            also = f"  (the {twin.name} loss's {twin.scale_name}* = {tw})"
        print(f"critical {sname}* = {c}{approx}{also}")
        print(f"the uniform point is linearly {lo} for {sname} < {c} and {hi} for {sname} > {c}")
        if t.caveat:
            print(f"caveat: {t.caveat}")
    if _scale_given(args):
        print(
            f"at {sname} = {sympy.sstr(loss.scale)}: alpha^2 + (c_f lam ||S||_2/(b K))^2 = {res['modulus_squared']} -> {res['verdict']}; "
            f"spectral radius: closed form {res['spectral_radius_closed_form']}, numeric (Jacobian at {args.dps} digits) "
            f"{res['spectral_radius_numeric']}{'' if res['agrees'] else '  DISAGREE'}"
        )
    return 0 if res.get("agrees", True) else 1


def _at_scale(system, loss, alpha, lam, sigma, dps) -> dict:
    """The closed-form modulus at this loss's scale (:func:`theory.family.balanced_threshold_expr`) and the
    spectral radius of the numeric Jacobian at the uniform point (``System.spectrum``)."""
    import mpmath
    import sympy

    from theory.family import balanced_threshold_expr
    from verify.numerics.bridge import evalf_mp
    from verify.numerics.precision import GUARD, agree, workdps

    K = system.K
    m2 = sympy.simplify(balanced_threshold_expr(loss, rho=sigma, K=K, alpha=sympy.Rational(alpha), lam=sympy.Rational(lam), b=loss.b))
    verdict = "unstable" if m2 > 1 else ("marginal" if m2 == 1 else "stable")
    _, num = system.spectrum([Fraction(1, K)] * K, dps=dps)
    with workdps(dps + GUARD):
        closed = mpmath.sqrt(evalf_mp(m2))
        ok, err = agree(closed, num, dps - 5)
        return {
            "scale": float(loss.scale),
            "modulus_squared": mpmath.nstr(evalf_mp(m2), 15),
            "modulus_squared_exact": exact_json(m2),
            "verdict": verdict,
            "spectral_radius_closed_form": mpmath.nstr(closed, 15),
            "spectral_radius_numeric": mpmath.nstr(num, 15),
            "agrees": bool(ok),
            "dps": dps,
            "tolerance": f"1e-{dps - 5}",
        }
