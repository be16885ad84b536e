"""Fast start and a fast ``prefdyn ipo``: what the command line imports, that its parser did not change,
and the direct minimiser that verifies a one-shot optimum in O(K^2) values of f and one O(K^3) solve.

* ``import verify`` and building the ``prefdyn`` parser load no sympy, mpmath or ``theory`` (checked in
  a fresh interpreter); every public name of :mod:`verify` still resolves (PEP 562).
* The parser is the one it was before the imports became lazy: each command's options, defaults,
  help texts and epilog are walked and hashed, and compared with the hashes taken from the parser
  built with the eager imports (:data:`PARSER_DIGESTS`; regenerate with ``python tests/test_startup.py``
  after an intended change of the command line).
* :func:`verify.numerics.optimum.spd_solve` against mpmath's LU at higher precision, and
  :func:`verify.numerics.optimum.minimise` against the whole-loss finite differences it replaces
  (negative controls: a perturbed solve, a planted wrong optimum, a planted wrong loss in the minimiser).
"""

import argparse
import hashlib
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import mpmath
import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Modules that building the parser must not load (the numeric stack and the symbolic one).
HEAVY = ("sympy", "mpmath", "theory", "matplotlib", "hypothesis", "pandas", "dask", "numba", "scipy", "flint")

#: sha256[:16] of :func:`parser_records`, taken from the parser built with eager imports (commit 8b3fe4a).
PARSER_DIGESTS = {
    "": "cdfc9faa58bb8a46",
    "check": "2c312cff95f40ab4",
    "claims": "9ca900b0f9d81e57",
    "optimum": "dbcce56d5ffbbac7",
    "threshold": "e90d61038e4e66d9",
    "simulate": "577ec5c670169c97",
    "phase": "f3e30f91503480f2",
    "certify": "f0241bcd68564572",
    "bifurcation": "e1193add35367994",
    "counterexample": "09fbc4ac5c0da2a1",
    "sampler": "30d93105bb545cc3",
    "latex": "8e942925c89f2d67",
    "report": "09c20eb8a0c5c375",
    "ipo": "1f783fffe268366d",
    "dpo": "c2e82a771552ac7f",
    "dpo-threshold": "bb03a148ce12d15f",
    "dpo-phase": "e0b904d8660f792c",
    "experiment": "48561adab9c638bd",
}


def _python(code: str) -> str:
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout


# ----------------------------------------------------------------------------- what starting loads


def test_building_the_parser_loads_no_symbolic_or_numeric_stack():
    out = _python(
        "import sys, json, verify, verify.cli\n"
        "verify.cli.build_parser()\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))"
    )
    assert json.loads(out) == []


def test_the_control_sees_an_eager_import():
    """The same probe reports sympy and theory once a command's computation is imported (it can fail)."""
    out = _python(
        "import sys, json, verify.cli\n"
        "from verify import System\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & {'sympy', 'mpmath', 'theory'})))"
    )
    assert json.loads(out) == ["mpmath", "sympy", "theory"]


def test_every_public_name_resolves():
    out = _python(
        "import importlib, json, verify\n"
        "names = [n for n in verify.__all__ if n != '__version__']\n"
        "assert set(names) <= set(dir(verify))\n"
        "src = {n: m for m, ns in verify.EXPORTS.items() for n in ns}\n"
        "ok = [n for n in names if getattr(verify, n) is getattr(importlib.import_module(src[n]), n)]\n"
        "ns = {}\n"
        "exec('from verify import ' + ', '.join(names), ns)\n"
        "print(json.dumps({'all': sorted(names), 'exports': sorted(src), 'ok': sorted(ok), 'imported': sorted(set(ns) & set(names))}))"
    )
    d = json.loads(out)
    assert d["all"] == d["exports"] == d["ok"] == d["imported"]
    assert len(d["all"]) > 40


def test_unknown_attribute_is_an_attribute_error():
    import verify

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        verify.nope  # noqa: B018
    assert not hasattr(verify, "_private_name")


# ----------------------------------------------------------------------------- the parser did not change


def _value(v):
    if callable(v) and not isinstance(v, type):
        return f"{getattr(v, '__module__', '?')}.{getattr(v, '__qualname__', repr(v))}"
    if isinstance(v, type):
        return v.__name__
    return repr(v)


def _walk(parser: argparse.ArgumentParser) -> dict:
    out = {"prog": parser.prog, "description": parser.description, "epilog": parser.epilog,
           "formatter": parser.formatter_class.__name__, "defaults": {k: _value(v) for k, v in sorted(parser._defaults.items())},
           "actions": [], "groups": [], "exclusive": []}
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            out["actions"].append({"subcommands": [n for n in a.choices]})
            continue
        out["actions"].append({"kind": type(a).__name__, "options": a.option_strings, "dest": a.dest, "nargs": _value(a.nargs),
                               "const": _value(a.const), "default": _value(a.default), "type": _value(a.type),
                               "choices": _value(a.choices), "required": a.required, "help": a.help, "metavar": _value(a.metavar)})
    for g in parser._action_groups:
        out["groups"].append([g.title, g.description, [a.dest for a in g._group_actions]])
    for g in parser._mutually_exclusive_groups:
        out["exclusive"].append([g.required, [a.dest for a in g._group_actions]])
    return out


def parser_records(parser: argparse.ArgumentParser) -> dict:
    """Everything argparse knows about ``prefdyn`` and each subcommand (options, defaults, texts), by command."""
    top = _walk(parser)
    top["actions"] = [a for a in top["actions"] if "subcommands" not in a]
    res = {"": top}
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            helps = {c.dest: [c.help, c.metavar] for c in a._choices_actions}
            for name, sub in a.choices.items():
                res[name] = {**_walk(sub), "command_help": helps.get(name)}
    return res


def parser_digests(parser: argparse.ArgumentParser) -> dict:
    return {k: hashlib.sha256(json.dumps(v, sort_keys=True).encode()).hexdigest()[:16] for k, v in parser_records(parser).items()}


def test_the_parser_is_the_one_built_with_eager_imports():
    from verify.cli import build_parser

    now = parser_digests(build_parser())
    changed = [k or "prefdyn" for k, v in PARSER_DIGESTS.items() if now.get(k) != v]
    assert not changed, f"the parser of {changed} changed (regenerate PARSER_DIGESTS: python tests/test_startup.py)"
    order = [k for k in now if k in PARSER_DIGESTS]
    assert order == list(PARSER_DIGESTS)  # the commands keep their order; new ones may follow


def test_the_digest_sees_a_changed_help_text():
    """Negative control: one changed help string changes that command's digest and no other."""
    from verify.cli import build_parser

    p = build_parser()
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    next(a for a in sub.choices["ipo"]._actions if a.dest == "dps").help += "!"
    now = parser_digests(p)
    assert [k for k, v in PARSER_DIGESTS.items() if now[k] != v] == ["ipo"]


def test_the_loss_catalogue_is_theorys():
    from verify.commands._lossargs import LOSS_ALIASES, LOSS_CATALOGUE, loss_catalogue

    table, aliases = loss_catalogue()
    assert list(table.items()) == list(LOSS_CATALOGUE.items())  # in the same order: the epilog lists them so
    assert aliases == LOSS_ALIASES


def test_the_claims_reference_path_is_the_publishers():
    from verify.commands import claims
    from verify.publish.reference import REFERENCE_PATH

    assert claims.REFERENCE_PATH == REFERENCE_PATH


# ----------------------------------------------------------------------------- spd_solve


def _spd(n: int, cond: float, seed: int):
    """A random symmetric positive definite matrix with condition number ``cond`` (at the current precision)."""
    state = [seed]

    def r():  # a seeded stream, independent of mpmath's global generator
        state[0] = (state[0] * 6364136223846793005 + 1442695040888963407) % 2**64
        return mpmath.mpf(state[0]) / 2**64 - mpmath.mpf(1) / 2

    Q, _ = mpmath.qr(mpmath.matrix([[r() for _ in range(n)] for _ in range(n)]))
    ev = [mpmath.mpf(cond) ** (mpmath.mpf(i) / max(1, n - 1)) * mpmath.mpf(10) ** -9 for i in range(n)]
    H = Q * mpmath.diag(ev) * Q.T
    H = (H + H.T) / 2
    return [[H[i, j] for j in range(n)] for i in range(n)], [r() for _ in range(n)]


def _rel_err(z, ref) -> mpmath.mpf:
    return max(abs(a - b) for a, b in zip(z, ref)) / max(abs(b) for b in ref)


@pytest.mark.parametrize("n, cond", [(2, 1), (9, 1e6), (16, 1e20)])
def test_spd_solve_agrees_with_lu_at_higher_precision(n, cond):
    from verify.numerics.optimum import spd_solve

    with mpmath.workdps(60):
        H, b = _spd(n, cond, seed=n)
        z = spd_solve(H, b)
        with mpmath.workdps(150):
            ref = mpmath.lu_solve(mpmath.matrix(H), mpmath.matrix(b))
        bound = mpmath.mpf(cond) * n * mpmath.mpf(10) ** -58
        assert _rel_err(z, ref) < bound
        # negative control: the same check catches a solution off by a hundred times the bound
        planted = list(z)
        planted[-1] += 100 * bound * max(abs(v) for v in ref)
        assert not _rel_err(planted, ref) < bound


def test_spd_solve_refuses_an_indefinite_matrix_and_non_finite_entries():
    from verify.numerics.optimum import spd_solve

    with mpmath.workdps(40):
        H, b = _spd(6, 10, seed=1)
        H[3][3] = -H[3][3]
        with pytest.raises(ValueError, match="not numerically positive definite"):
            spd_solve(H, b)
        H, b = _spd(6, 10, seed=1)
        eps = mpmath.mpf(10) ** -30
        H[2][4] = H[4][2] = mpmath.sqrt(H[2][2] * H[4][4]) * (1 + eps)  # |H_24| > sqrt(H_22 H_44): indefinite
        with pytest.raises(ValueError, match="pivot 4"):
            spd_solve(H, b)
        H, b = _spd(3, 10, seed=2)
        H[0][0] = mpmath.inf
        with pytest.raises(ValueError, match="not finite"):
            spd_solve(H, b)
        assert spd_solve([[mpmath.mpf(2)]], [mpmath.mpf(0)]) == [0]


# ----------------------------------------------------------------------------- the direct minimiser


def _random_instance(K: int, seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    n = rng.integers(50, 951, size=(K, K))
    P = [[Fraction(1, 2)] * K for _ in range(K)]
    for i in range(K):
        for j in range(i + 1, K):
            P[i][j] = Fraction(int(n[i, j]), 1000)
            P[j][i] = 1 - P[i][j]
    w = [Fraction(int(v)) for v in rng.integers(1, 20, size=K)]
    return P, [v / sum(w) for v in w]


def test_pair_term_differences_are_the_whole_loss_differences():
    """For IPO (step 1 is exact) the minimiser's Newton step equals the one from differences of the whole loss."""
    from verify.numerics import optimum as O
    from verify.numerics.precision import agree

    P, mu = _random_instance(6, seed=3)
    lo = O.as_loss("ipo")
    K, p = 6, max(range(6), key=lambda k: mu[k])
    free = [k for k in range(K) if k != p]
    with mpmath.workdps(80):
        L = lambda x: O.population_loss(P, mu, [v / 2 for v in x], lo)  # noqa: E731  (b = 2 at beta = 1: x = 2 r)

        def at(*moves):
            x = [mpmath.mpf(0)] * K
            for k, d in moves:
                x[k] += d
            return L(x)

        g = [(at((k, 1)) - at((k, -1))) / 2 for k in free]
        H = mpmath.matrix(K - 1, K - 1)
        for a, k in enumerate(free):
            H[a, a] = at((k, 1)) - 2 * at() + at((k, -1))
            for c, l in enumerate(free):
                if c != a:
                    H[a, c] = (at((k, 1), (l, 1)) - at((k, 1), (l, -1)) - at((k, -1), (l, 1)) + at((k, -1), (l, -1))) / 4
        dz = mpmath.cholesky_solve(H, mpmath.matrix([-v for v in g]))
        x = [mpmath.mpf(0)] * K
        for a, k in enumerate(free):
            x[k] = dz[a]
        c = mpmath.fsum(x) / K
        whole = O.policy([Fraction(1, K)] * K, [(v - c) / 2 for v in x])
        pairs = O.minimise(P, mu, lo, dps=50)
        assert all(agree(a, b, 50)[0] for a, b in zip(whole, pairs))


@pytest.mark.parametrize("spec, K", [("ipo", 12), ("dpo", 4), ("exp(-x)", 3)])
def test_minimiser_agrees_with_the_optimum(spec, K):
    from verify.numerics import optimum as O
    from verify.numerics.precision import agree

    P, mu = _random_instance(K, seed=K)
    ref = [Fraction(k + 1, K * (K + 1) // 2) for k in range(K)]
    lo = O.as_loss(spec)
    seen = []
    a = O.optimum(P, mu, lo, ref, dps=40)
    b = O.minimise(P, mu, lo, ref, dps=40, progress=lambda d, t, w: seen.append((w, d, t)))
    with mpmath.workdps(60):
        assert all(agree(u, v, 40)[0] for u, v in zip(a, b))
    assert {w.split(",")[0] for w, _, _ in seen} == {"Hessian", "Cholesky"}
    assert all(w.endswith("Newton step 1") for w, _, _ in seen[:2]) or spec == "ipo"  # a loss that is not quadratic: named steps
    for what in {w for w, _, _ in seen}:  # every phase of every step reports its end
        done = [(d, t) for w, d, t in seen if w == what]
        assert done[-1][0] == done[-1][1] and all(d1 <= t for d1, t in done)


def _ipo_cli(capsys, path, *extra):
    from verify.cli import main

    code = main(["ipo", "--matrix", str(path), "--mu", ",".join(map(str, MU)), "--beta", "3/2", "--dps", "30", "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


P12, MU = _random_instance(12, seed=12)


@pytest.fixture
def p12(tmp_path):
    path = tmp_path / "P12.json"
    path.write_text(json.dumps({"P": [[str(v) for v in row] for row in P12]}))
    return path


def test_ipo_command_verifies_at_k12(capsys, p12):
    code, d = _ipo_cli(capsys, p12)
    assert code == 0 and d["agrees_to_dps"] and d["dps"] == 30 and d["tolerance"] == "1e-30"
    assert mpmath.mpf(d["residual"]) < mpmath.mpf(10) ** -30


def test_ipo_command_catches_a_planted_wrong_optimum(capsys, p12, monkeypatch):
    """Negative control: an optimum off in its 25th digit (one coordinate) is reported DISAGREE, exit 1."""
    from verify.numerics import optimum as O

    real = O.optimum

    def planted(*a, **k):
        pi = real(*a, **k)
        with mpmath.workdps(80):  # the optimum's own precision (30 + GUARD digits) is kept
            pi[5] *= 1 + mpmath.mpf(10) ** -25
        return pi

    monkeypatch.setattr(O, "optimum", planted)
    code, d = _ipo_cli(capsys, p12)
    assert code == 1 and not d["agrees_to_dps"]
    assert mpmath.mpf(10) ** -26 < mpmath.mpf(d["residual"]) < mpmath.mpf(10) ** -24  # the planted error, seen


def test_ipo_command_catches_a_planted_wrong_minimiser(capsys, p12, monkeypatch):
    """Negative control: the minimiser fed a loss off by 1e-28 x^2 (the closed form is not) disagrees."""
    import dataclasses

    from verify.numerics import bridge

    real = bridge.loss_functions

    def planted(lo):
        fns = real(lo)
        return dataclasses.replace(fns, f=lambda x: fns.f(x) + mpmath.mpf(10) ** -28 * x**2)

    monkeypatch.setattr(bridge, "loss_functions", planted)
    code, d = _ipo_cli(capsys, p12)
    assert code == 1 and not d["agrees_to_dps"]


def test_progress_bar_from_k100_only(capsys):
    from verify.commands.optimum import PROGRESS_FROM_K, verification_progress

    assert verification_progress(PROGRESS_FROM_K - 1) is None
    step = verification_progress(PROGRESS_FROM_K)
    step(10, 20, "Hessian")
    step(20, 20, "Cholesky")
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("verifying") and " 25/100 " in err[0] and " 100/100 " in err[-1]


if __name__ == "__main__":  # regenerate PARSER_DIGESTS after an intended change of the command line
    sys.path.insert(0, str(ROOT))
    from verify.cli import build_parser

    print(json.dumps(parser_digests(build_parser()), indent=4))
