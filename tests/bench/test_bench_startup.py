"""Benchmarks of the command line's start and of ``prefdyn ipo`` at large K (pytest-benchmark; not part of the CI run).

Run: ``python -m pytest tests/bench/test_bench_startup.py -p no:randomly -n 0 --benchmark-only -s``

Start (median of ``RUNS`` fresh interpreters each): ``prefdyn --help``, every ``prefdyn COMMAND --help``
and two cheap exact commands (``counterexample``, ``sampler`` on ``examples/sst4.csv``), against, in
the same run, the floor (``python -c "import numpy"``) and the eager reference: an interpreter that
imports every module ``verify/__init__.py`` used to import (:data:`verify.EXPORTS`) and then builds
the parser, which is what every command paid before the imports became lazy.

``prefdyn ipo`` at K = 50, 100, 200 on a random interior matrix (:func:`random_interior_matrix`:
seed 0, ``P[i,j] = n/1000`` with ``n`` uniform in 50..950 for ``i < j``, ``P[j,i] = 1 - P[i,j]``,
written as exact strings; uniform ``mu`` and ``pi_ref``, ``beta = 1``, dps 50), timed as a
subprocess (the whole command: start, reading the file, the closed form and its verification),
with the verdict checked; in the same run the closed form alone (the tight reference: what is
verified) and the whole-loss finite differences the minimiser used before (the plain reference,
``O(K^4)`` values of ``f``, timed at K = 8 and 16, checked against the minimiser at K = 16, and
extrapolated as K^4). At K = 200 a planted wrong optimum (one coordinate off by a relative
``1e-45``) must come back DISAGREE with exit 1.

The numbers are printed (``-s``) and stored in ``benchmark.extra_info``.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy is imported: one BLAS thread
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from fractions import Fraction  # noqa: E402
from pathlib import Path  # noqa: E402

import mpmath  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RUNS = 7
ENV = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _wall(argv: list[str], runs: int = RUNS) -> float:
    """Median wall time (s) of ``runs`` fresh interpreters running ``argv`` (each must exit 0)."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        res = subprocess.run(argv, cwd=ROOT, env=ENV, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        assert res.returncode == 0, res.stderr[-2000:]
    return statistics.median(times)


def _prefdyn(*args: str) -> list[str]:
    return [sys.executable, "-m", "verify.cli", *args]


def _commands() -> list[str]:
    import argparse

    from verify.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return list(sub.choices)


def test_startup(benchmark):
    import verify

    eager = "import " + ", ".join(verify.EXPORTS) + "; import verify.cli; verify.cli.build_parser()"
    floor = _wall([sys.executable, "-c", "import numpy"])
    bare = _wall([sys.executable, "-c", "pass"])
    before = _wall([sys.executable, "-c", eager], runs=3)
    rows = {"prefdyn --help": _prefdyn("--help")}
    rows |= {f"prefdyn {c} --help": _prefdyn(c, "--help") for c in _commands()}
    rows["prefdyn counterexample --mu 0.2,0.3,0.5 --property CT"] = _prefdyn("counterexample", "--mu", "0.2,0.3,0.5", "--property", "CT")
    rows["prefdyn sampler --matrix examples/sst4.csv --property ST"] = _prefdyn("sampler", "--matrix", "examples/sst4.csv", "--property", "ST")
    main = benchmark.pedantic(lambda: subprocess.run(rows["prefdyn --help"], cwd=ROOT, env=ENV, capture_output=True), rounds=RUNS, iterations=1)
    assert main.returncode == 0
    times = {name: _wall(argv) for name, argv in rows.items()}
    print(f"\nstart (median of {RUNS}): python -c pass {bare * 1e3:.0f} ms | python -c 'import numpy' {floor * 1e3:.0f} ms | "
          f"eager imports + parser (the old start) {before * 1e3:.0f} ms")
    for name, t in times.items():
        print(f"  {name:60s} {t * 1e3:6.0f} ms  (x{t / floor:4.2f} the numpy floor, {before / t:5.1f} x faster than eager)")
    benchmark.extra_info.update({"python_ms": bare * 1e3, "numpy_ms": floor * 1e3, "eager_ms": before * 1e3,
                                 **{k: v * 1e3 for k, v in times.items()}})
    assert max(times.values()) < before  # every measured start beats the eager one in the same run


# ----------------------------------------------------------------------------- prefdyn ipo at large K


def random_interior_matrix(K: int, seed: int = 0) -> list[list[str]]:
    """A random interior preference matrix as exact strings: ``n/1000``, ``n`` uniform in 50..950 above the diagonal."""
    rng = np.random.default_rng(seed)
    n = rng.integers(50, 951, size=(K, K))
    P = [["1/2"] * K for _ in range(K)]
    for i in range(K):
        for j in range(i + 1, K):
            P[i][j] = f"{n[i, j]}/1000"
            P[j][i] = f"{1000 - n[i, j]}/1000"
    return P


def whole_loss_minimise(P, K: int):
    """The minimiser before: IPO's one Newton step from 0 with every difference taken of the whole loss (``O(K^2)``
    Hessian entries, each four evaluations of the ``O(K^2)`` loss) and mpmath's Cholesky, at the current precision
    (uniform ``mu`` and ``pi_ref``, ``beta = 1``: ``x = 2 r``, ``x_0`` pinned); returns ``pi``."""
    from verify.numerics import optimum as O
    from verify.numerics.bridge import loss_functions, mp_vector

    f = loss_functions(O.as_loss("ipo")).f
    Pr = [mp_vector(row) for row in P]
    mm = mp_vector([Fraction(1, K)] * K)
    free = list(range(1, K))

    def L(x):
        return mpmath.fsum(mm[i] * mm[j] * (Pr[i][j] * f(x[i] - x[j]) + Pr[j][i] * f(x[j] - x[i])) for i in range(K) for j in range(K))

    def at(*moves):
        x = [mpmath.mpf(0)] * K
        for k, d in moves:
            x[k] += d
        return L(x)

    g = [(at((k, 1)) - at((k, -1))) / 2 for k in free]
    H = mpmath.matrix(K - 1, K - 1)
    for a, k in enumerate(free):
        H[a, a] = at((k, 1)) - 2 * at() + at((k, -1))
        for c in range(a + 1, K - 1):
            l = free[c]
            H[a, c] = H[c, a] = (at((k, 1), (l, 1)) - at((k, 1), (l, -1)) - at((k, -1), (l, 1)) + at((k, -1), (l, -1))) / 4
    dz = mpmath.cholesky_solve(H, mpmath.matrix([-v for v in g]))
    x = [mpmath.mpf(0)] + [dz[a] for a in range(K - 1)]
    c = mpmath.fsum(x) / K
    return O.policy([Fraction(1, K)] * K, [(v - c) / 2 for v in x])


REFERENCE: dict = {}


def _whole_loss_seconds() -> tuple[float, float]:
    """Seconds of :func:`whole_loss_minimise` at K = 8 and 16 (the minimiser's working precision at K = 200, 131
    digits), measured once; at K = 16 its policy must agree with :func:`verify.numerics.optimum.minimise`'s."""
    from verify.numerics import optimum as O
    from verify.numerics.precision import agree

    if not REFERENCE:
        for K in (8, 16):
            P = [[Fraction(v) for v in row] for row in random_interior_matrix(K)]
            with mpmath.workdps(131):
                t = time.perf_counter()
                pi = whole_loss_minimise(P, K)
                REFERENCE[K] = time.perf_counter() - t
            new = O.minimise(P, [Fraction(1, K)] * K, "ipo", dps=50)
            with mpmath.workdps(70):
                assert all(agree(a, b, 50)[0] for a, b in zip(pi, new))
    return REFERENCE[8], REFERENCE[16]


@pytest.mark.parametrize("K", [50, 100, 200])
def test_ipo_large_k(benchmark, tmp_path, K):
    from verify.numerics import optimum as O

    path = tmp_path / f"P{K}.json"
    path.write_text(json.dumps({"P": random_interior_matrix(K)}))
    argv = _prefdyn("ipo", "--matrix", str(path), "--json")

    def once():
        res = subprocess.run(argv, cwd=ROOT, env=ENV, capture_output=True, text=True)
        assert res.returncode == 0, res.stderr[-2000:]
        return json.loads(res.stdout)

    out = benchmark.pedantic(once, rounds=1, iterations=1)
    assert out["agrees_to_dps"] and out["dps"] == 50 and out["tolerance"] == "1e-50"
    command = benchmark.stats.stats.min
    # in process: the closed form (what is verified) and the minimiser (the verification), the file read once
    from verify.exact.objects import load_preference_matrix

    Pm = load_preference_matrix(path)
    mu = [Fraction(1, K)] * K
    t = time.perf_counter()
    O.optimum(Pm, mu, "ipo", dps=50)
    closed = time.perf_counter() - t
    phases: dict = {}
    t = time.perf_counter()
    O.minimise(Pm, mu, "ipo", dps=50, progress=lambda d, n, w: phases.setdefault(w, time.perf_counter() - t))
    verify_s = time.perf_counter() - t
    w8, w16 = _whole_loss_seconds()
    old = w16 * (K / 16) ** 4  # the O(K^4) reference extrapolated from K = 16
    info = {"K": K, "command_s": command, "closed_form_s": closed, "minimise_s": verify_s, "hessian_start_s": phases.get("Hessian"),
            "cholesky_start_s": phases.get("Cholesky"), "whole_loss_K8_s": w8, "whole_loss_K16_s": w16, "whole_loss_extrapolated_s": old}
    benchmark.extra_info.update(info)
    print(f"\nprefdyn ipo K = {K}: command {command:6.2f} s | closed form {closed:5.2f} s, minimiser {verify_s:5.2f} s "
          f"(x{verify_s / closed:4.1f} the closed form) | whole-loss reference: K=8 {w8:.2f} s, K=16 {w16:.2f} s "
          f"(x{w16 / w8:.1f}; K^4 predicts x16) -> ~{old:,.0f} s at K = {K}")
    if K == 200:
        _planted_wrong_optimum_is_caught(path)


def _planted_wrong_optimum_is_caught(path: Path) -> None:
    """One coordinate of the closed form off by a relative 1e-45 (dps 50): the verification must say DISAGREE, exit 1."""
    import contextlib
    import io

    from verify.cli import main
    from verify.numerics import optimum as O

    real = O.optimum

    def planted(*a, **k):
        pi = real(*a, **k)
        with mpmath.workdps(100):  # the optimum's own precision (50 + GUARD digits) is kept
            pi[len(pi) // 2] *= 1 + mpmath.mpf(10) ** -45
        return pi

    O.optimum = planted
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            code = main(["ipo", "--matrix", str(path), "--json"])
    finally:
        O.optimum = real
    d = json.loads(buf.getvalue())
    assert code == 1 and not d["agrees_to_dps"] and 1e-46 < float(d["residual"]) < 1e-44, d["residual"]
    print(f"  planted wrong optimum (relative 1e-45 in one coordinate) at K = 200: DISAGREE, residual {d['residual']}, exit {code}")
