"""``prefdyn certify``: certify one instance of MRS-IPO or MRS-DPO in ball arithmetic (python-flint).

Prints the fixed-point box (a Krawczyk proof of a unique fixed point in it), the Jacobian enclosed over the
box, every eigenvalue enclosed and the spectral radius enclosure, and whether the fixed point is therefore
certified stable or unstable; for MRS-IPO also DYN-2's contraction bound ``q`` with an exact certificate for
``||P - 11^T/2||_2``. Numbers are read exactly (``--alpha 0.9`` is 9/10).

Exit codes: 0 the verdict is certified (stable or unstable); 1 the instance could not be certified (no
fixed-point box, or a spectral-radius enclosure that contains 1: the certificate is printed, with what to
try); 2 bad input, or python-flint missing (one line saying ``pip install 'prefdyn[certified]'``), as for
``prefdyn report`` without pdflatex.
"""

from __future__ import annotations

import argparse
import sys
from fractions import Fraction

from verify.commands._lossargs import Subparsers
from verify.engine.report import print_json
from verify.exact.objects import InputError

__all__ = ["register", "run"]


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "certify",
        help="certify one instance in ball arithmetic: fixed-point box, spectral-radius enclosure, stable/unstable (python-flint)",
        description=(
            "Certify what can be certified for one instance of MRS-IPO (--loss ipo, scale --beta) or MRS-DPO (--loss dpo, "
            "scale --beta-dpo) with pi_0, pi_ref (default uniform): a Krawczyk proof that the map has exactly one fixed point "
            "in an explicit box of the chart l_i = log(pi_i/pi_{K-1}) (for DPO on the joint system of the chart and the DPO "
            "optimum), the Jacobian enclosed over the box, every eigenvalue enclosed (Arb's acb_mat.eig) and so the fixed "
            "point certified stable (spectral radius < 1) or unstable (> 1), and for IPO DYN-2's q = alpha + (beta lam/2)"
            "||P - 11^T/2||_2 with an exact rational certificate of the norm bound. Every enclosure is printed (decimals "
            "rounded outward). Numbers are exact: --alpha 0.9 is 9/10, 1/3 is a third. Needs python-flint: "
            "pip install 'prefdyn[certified]'. Exit 0 when certified, 1 when undecided, 2 on bad input or without python-flint."
        ),
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument("--matrix", metavar="FILE", help="preference matrix file (.json list of rows or {'P': ...}, or .csv); entries read exactly")
    g.add_argument("--cyclic", metavar="A", help="the 3-cycle P_cyc(A): P[0,1] = P[1,2] = P[2,0] = 1/2 + A, 0 < A <= 1/2 (0.4 or 2/5)")
    p.add_argument("--loss", choices=("ipo", "dpo"), default="ipo", help="the map: MRS-IPO or MRS-DPO (default ipo)")
    p.add_argument("--alpha", required=True, help="reference mixing alpha in [0, 1], exact (0.9 = 9/10)")
    p.add_argument("--beta", default=None, metavar="VALUE", help="IPO's beta > 0 (--loss ipo)")
    p.add_argument("--beta-dpo", dest="beta_dpo", default=None, metavar="VALUE", help="DPO's beta_dpo > 0 (--loss dpo)")
    p.add_argument("--lam", default="1", help="sampler mixing lambda in [0, 1] (default 1)")
    p.add_argument("--pi-ref", help="reference policy, comma-separated exact numbers summing to 1 (default uniform)")
    p.add_argument("--pi0", help="offline sampler, comma-separated exact numbers summing to 1 (default uniform)")
    p.add_argument("--guess", help="an approximate fixed point pi, comma-separated (default: Newton from uniform, then float64 Newton)")
    p.add_argument("--prec", type=int, default=128, help="bits of the ball arithmetic (default 128, about 38 digits)")
    p.add_argument("--digits", type=int, default=20, help="significant digits printed per enclosure (default 20; JSON: 30)")
    p.add_argument("--json", action="store_true", help="print the certificate as JSON on stdout")
    p.set_defaults(func=run)


def _matrix(args: argparse.Namespace):
    """``(exact rows, label)`` from --matrix or --cyclic; the exact rational matrix that is certified."""
    from verify.commands._dynargs import exact_matrix_from_args

    P, label = exact_matrix_from_args(args)
    if args.matrix and not P.exact:
        print(f"prefdyn {args.command}: note: {args.matrix} has binary-float entries; the matrix certified is the exact "
              "rational one printed (each entry as its shortest decimal)", file=sys.stderr)
    return [list(r) for r in P.entries], label


def _scale(args: argparse.Namespace) -> str:
    own, other = ("beta", "beta_dpo") if args.loss == "ipo" else ("beta_dpo", "beta")
    flag = {"beta": "--beta", "beta_dpo": "--beta-dpo"}
    if getattr(args, other) is not None:
        raise InputError(f"{flag[other]} is the scale of --loss {'dpo' if args.loss == 'ipo' else 'ipo'}; for --loss {args.loss} give {flag[own]}")
    value = getattr(args, own)
    if value is None:
        raise InputError(f"give the scale of --loss {args.loss}: {flag[own]} VALUE (> 0)")
    return value


def _s(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def run(args: argparse.Namespace) -> int:
    from verify.certified import INSTALL_HINT, available, certify_instance

    if args.prec < 32 or args.prec > 100_000:
        raise InputError(f"--prec = {args.prec}, expected 32 <= bits <= 100000")
    if not 3 <= args.digits <= 200:
        raise InputError(f"--digits = {args.digits}, expected 3..200")
    P, label = _matrix(args)
    scale = _scale(args)
    guess = None if args.guess is None else [v.strip() for v in args.guess.split(",")]
    if not available():
        raise InputError(f"python-flint is not installed, so nothing can be certified: {INSTALL_HINT}")
    from verify.certified.balls import exact_rational

    if guess is not None:
        guess = [exact_rational(v, f"--guess[{k}]") for k, v in enumerate(guess)]
    cert = certify_instance(P, args.alpha, scale, args.lam, loss=args.loss, pi_ref=args.pi_ref, pi0=args.pi0, guess=guess, prec=args.prec)
    code = 0 if cert.verdict != "undecided" else 1
    if args.json:
        print_json({"command": "prefdyn certify", "matrix": label, "verdict": cert.verdict, "exit_code": code, **cert.to_json()})
    else:
        print(f"matrix: {label}")
        for r in cert.instance.P:
            print("  " + "  ".join(f"{_s(x):>8}" for x in r))
        print(cert.text(args.digits))
    if code:
        print(f"prefdyn {args.command}: note: not certified: "
              + ("no fixed-point box; try --guess PI or a higher --prec" if not cert.fixed_point.proved
                 else "the spectral-radius enclosure contains 1; try a higher --prec (or the point is on the threshold)"),
              file=sys.stderr)
    return code
