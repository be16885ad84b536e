"""Sweeps and the finite-sample dynamics (verify.experiments.sweep, verify.experiments.finite).

* the grid text: ranges, lists, defaults, the loss's own scale name, and one clear line for bad text;
* bit-identical tables whatever the chunk size (population and finite-sample, recorded paths too);
* resuming: a rerun reads the finished chunks and computes only the missing or damaged ones; a rerun
  with other arguments or other matrices is refused with one line;
* the finite-sample estimator: with the expected counts it is the population optimum of
  ``make_step``/``solve_batch`` (to 1e-10, IPO, DPO, exponential, hinge), the sampler's counts have the
  expected means, both sampler engines give the same counts; planted wrong variants (comparisons not
  symmetrised, win rates in place of counts, labels transposed) are caught;
* the point of the variant: realisations of a cyclic matrix past the threshold keep oscillating while
  their average looks damped;
* ``prior = 0``: the ``hold`` and ``tie`` selections, and no optimum for the logistic named clearly.
"""

from __future__ import annotations

import numpy as np
import pytest

from verify.exact.families import cyclic_float, random_sst_float
from verify.exact.objects import InputError, NumericalFailure
from verify.experiments import finite
from verify.experiments.finite import (
    FiniteSample,
    NoEmpiricalOptimum,
    draw_counts,
    empirical_optimum,
    empirical_stationarity,
    expected_counts,
    run_finite,
)
from verify.experiments.sweep import (
    GRID_DEFAULTS,
    Grid,
    SweepSpec,
    chunk_layout,
    parse_grid,
    run_sweep,
    start_logpi,
    starts,
)
from verify.numerics.batch import make_step, solve_batch
from verify.numerics.metrics import cycle_strength


def _random_P(rng, n, K, spread=1.5):
    P = np.full((n, K, K), 0.5)
    iu = np.triu_indices(K, 1)
    v = 1 / (1 + np.exp(-rng.normal(scale=spread, size=(n, len(iu[0])))))
    P[:, iu[0], iu[1]] = v
    P[:, iu[1], iu[0]] = 1 - v
    return P


def _cyclic4(a):
    """A 4 x 4 matrix with a 3-cycle among 0, 1, 2 and a response 3 that loses to all (K = 4 like the data)."""
    P = np.full((4, 4), 0.5)
    P[:3, :3] = cyclic_float(a)
    P[:3, 3], P[3, :3] = 0.7, 0.3
    return P


@pytest.fixture(scope="module")
def matrices():
    rng = np.random.default_rng(7)
    return np.concatenate([np.stack([_cyclic4(0.4), _cyclic4(0.2)]), random_sst_float(rng, 4, 5), _random_P(rng, 2, 4)])


# ----------------------------------------------------------------------------- the grid


def test_parse_grid_ranges_lists_defaults_and_scale_names():
    g = parse_grid("alpha=0.1:0.9:5,beta=1:10:4,lam=1", "beta")
    assert g.alpha == pytest.approx((0.1, 0.3, 0.5, 0.7, 0.9)) and g.scale == (1.0, 4.0, 7.0, 10.0) and g.lam == (1.0,)
    assert g.settings().shape == (20, 3) and len(g) == 20
    assert g.settings()[:2].tolist() == [[0.1, 1.0, 1.0], [0.1, 4.0, 1.0]]  # alpha-major, then the scale, then lam
    assert parse_grid("beta_dpo=0.1/0.5, lambda=0.5", "beta_dpo") == Grid(alpha=(GRID_DEFAULTS["alpha"],), scale=(0.1, 0.5), lam=(0.5,))
    assert parse_grid("scale=2", "beta_dpo").scale == (2.0,)
    assert parse_grid(" alpha = 0.9 ", "beta").alpha == (0.9,)
    assert parse_grid(parse_grid("alpha=0.2/0.9,beta=3:5:3", "beta").text("beta"), "beta") == parse_grid("alpha=0.2/0.9,beta=3/4/5", "beta")


@pytest.mark.parametrize(
    "text, scale_name, words",
    [
        ("beta=8", "beta_dpo", "unknown parameter 'beta'"),
        ("gamma=1", "beta", "unknown parameter 'gamma'"),
        ("alpha=0.5,alpha=0.6", "beta", "given twice"),
        ("alpha=1.5", "beta", "outside [0, 1]"),
        ("beta=-1", "beta", "expected > 0"),
        ("beta=0", "beta", "expected > 0"),
        ("alpha=0.1:0.9:0", "beta", "n >= 1"),
        ("alpha=0.1:0.9", "beta", "expected a number"),
        ("alpha=x", "beta", "expected a number"),
        ("alpha", "beta", "expected name=values"),
        ("alpha=0.5,,lam=1", "beta", "empty entry"),
        ("", "beta", "empty text"),
        ("alpha=nan", "beta", "expected a number"),
    ],
)
def test_parse_grid_refuses_bad_text_in_one_line(text, scale_name, words):
    with pytest.raises(InputError) as err:
        parse_grid(text, scale_name)
    msg = str(err.value)
    assert words in msg and "\n" not in msg


def test_spec_validation_and_json_round_trip():
    spec = SweepSpec(loss="dpo", grid=parse_grid("alpha=0.5/0.9", "beta_dpo"), steps=90, seed=3,
                     finite=FiniteSample(pairs=10, realisations=2), record=[(1, 0), (0, 1), (1, 0)])
    assert spec.burn == 30 and spec.record == ((0, 1), (1, 0))
    assert SweepSpec.from_json(spec.to_json()) == spec
    assert SweepSpec().steps == 3000 and SweepSpec().burn == 1000
    for bad, words in [(dict(steps=0), "steps"), (dict(steps=10, burn_in=10), "burn_in"), (dict(engine="gpu"), "engine"),
                       (dict(chunk=0), "chunk"), (dict(seed=-1), "seed"), (dict(record=[(0, -1)]), "record")]:
        with pytest.raises(InputError, match=words):
            SweepSpec(**bad)
    for bad, words in [(dict(pairs=0), "pairs"), (dict(realisations=1.5), "realisations"), (dict(prior=-1), "prior"),
                       (dict(unsampled="drop"), "unsampled")]:
        with pytest.raises(InputError, match=words):
            FiniteSample(**bad)


def test_chunk_layout_covers_the_work_once_and_ignores_nothing_but_its_arguments():
    for N, S, chunk, R in [(9, 4, 7, 1), (9, 4, 100, 1), (3, 10, 4, 1), (5, 3, 7, 3), (1, 1, 1, 8)]:
        layout = chunk_layout(N, S, chunk, R)
        seen = np.zeros((N, S), dtype=int)
        for i, c in enumerate(layout):
            assert c.id == i
            seen[c.m0 : c.m1, c.s0 : c.s1] += 1
            assert c.items * R <= max(chunk, R * (c.s1 - c.s0))  # at most chunk items, or one matrix's settings
        assert (seen == 1).all()
        assert layout == chunk_layout(N, S, chunk, R)


# ----------------------------------------------------------------------------- bit-identical chunks


def test_chunk_size_does_not_change_a_bit(matrices):
    grid = parse_grid("alpha=0.5/0.9,beta=2/8", "beta")
    fs = FiniteSample(pairs=16, realisations=2)
    base = dict(grid=grid, steps=60, seed=5, engine="numpy", finite=fs, record=((0, 3), (6, 1)))
    small = run_sweep(matrices, SweepSpec(chunk=7, **base))
    whole = run_sweep(matrices, SweepSpec(chunk=1000, **base))
    assert small.chunks > 5 and whole.chunks == 1
    a, b = small.arrays(), whole.arrays()
    assert sorted(a) == sorted(b) and "fs_paths_0_3" in a and "trajectory_6_1" in a
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    # the seed matters (the comparison can fail)
    other = run_sweep(matrices, SweepSpec(chunk=1000, **{**base, "seed": 6}))
    assert not np.array_equal(other.finite.cycle_strength, whole.finite.cycle_strength)
    assert not np.array_equal(other.final_logpi, whole.final_logpi)
    # starts: a function of (seed, matrix) only
    assert np.array_equal(start_logpi(5, 3, 4, 1e-3), start_logpi(5, 3, 4, 1e-3))
    assert not np.array_equal(start_logpi(5, 3, 4, 1e-3), start_logpi(5, 4, 4, 1e-3))
    assert np.array_equal(starts(SweepSpec(seed=5), [6, 3], 4)[1], start_logpi(5, 3, 4, 1e-3))


def test_result_rows_and_states(matrices):
    res = run_sweep(matrices[:3], SweepSpec(grid=parse_grid("alpha=0.9,beta=8/0.5", "beta"), steps=600, engine="numpy"))
    rows = res.to_rows()
    assert len(rows) == 6 and set(rows[0]) >= {"matrix", "setting", "alpha", "beta", "lam", "cycle_strength", "state"}
    by = {(r["matrix"], r["setting"]): r for r in rows}
    assert by[(0, 0)]["state"] == "oscillating" and by[(0, 1)]["state"] == "converged"
    assert by[(0, 0)]["cycle_strength"] > 1e-3 > by[(0, 1)]["cycle_strength"]


# ----------------------------------------------------------------------------- resuming


def _counter():
    calls = []
    return calls, lambda done, total, label: calls.append((done, total, label))


def test_resume_recomputes_only_the_missing_chunk(matrices, tmp_path):
    spec = SweepSpec(grid=parse_grid("alpha=0.6/0.9,beta=4", "beta"), steps=60, chunk=4, engine="numpy",
                     finite=FiniteSample(pairs=8, realisations=2), record=((1, 1),))
    calls, progress = _counter()
    first = run_sweep(matrices, spec, out_dir=tmp_path, progress=progress)
    folder = tmp_path / "chunks"
    files = sorted(folder.glob("chunk-*.npz"))
    assert len(files) == first.chunks == first.computed > 3 and (folder / "manifest.json").exists()
    assert calls[0] == (0, first.chunks, "chunks") and calls[-1] == (first.chunks, first.chunks, "chunks")
    assert not list(folder.glob(".*tmp"))  # no temporary file left behind

    files[2].unlink()
    files[4].write_bytes(files[4].read_bytes()[:100])  # a truncated file (a crash mid-write without os.replace)
    (folder / ".chunk-000002.npz.99999.tmp").write_bytes(b"half")  # a write cut short
    calls, progress = _counter()
    second = run_sweep(matrices, spec, out_dir=tmp_path, progress=progress)
    assert second.computed == 2 and second.resumed == first.chunks - 2
    assert len(calls) == 3 and calls[0][0] == first.chunks - 2 and not list(folder.glob(".*tmp"))
    for k, v in first.arrays().items():
        assert np.array_equal(v, second.arrays()[k]), k

    calls, progress = _counter()
    third = run_sweep(matrices, spec, out_dir=tmp_path, progress=progress)
    assert third.computed == 0 and calls == [(first.chunks, first.chunks, "chunks")]


def test_a_rerun_with_other_arguments_is_refused(matrices, tmp_path):
    spec = SweepSpec(grid=parse_grid("alpha=0.9,beta=4", "beta"), steps=60, chunk=4, engine="numpy")
    run_sweep(matrices, spec, out_dir=tmp_path)
    with pytest.raises(InputError) as err:
        run_sweep(matrices, SweepSpec(grid=spec.grid, steps=61, chunk=4, engine="numpy"), out_dir=tmp_path)
    msg = str(err.value)
    assert "different sweep" in msg and "steps: 60 there, 61 now" in msg and "\n" not in msg
    other = matrices.copy()
    other[3] = other[3].T
    with pytest.raises(InputError, match="sha256"):
        run_sweep(other, spec, out_dir=tmp_path)
    with pytest.raises(InputError, match="outside the sweep"):
        run_sweep(matrices, SweepSpec(grid=spec.grid, steps=60, record=((99, 0),)))


# ----------------------------------------------------------------------------- the finite-sample estimator


def _population_case(seed=0, B=40, K=4):
    rng = np.random.default_rng(seed)
    return _random_P(rng, B, K), rng.dirichlet(np.full(K, 2.0), B)


def _identity_error(P, mu, loss, solver=empirical_optimum):
    x_pop, ok_pop = solve_batch(P, mu, loss, tol=1e-13)
    x, ok = solver(expected_counts(P, mu, 100), loss, tol=1e-13)
    assert ok_pop.all() and ok.all()
    return float(np.abs(x - x_pop).max())


@pytest.mark.parametrize("loss", ["ipo", "dpo", "exp", "slic"])
def test_expected_counts_give_the_population_optimum(loss):
    P, mu = _population_case()
    assert _identity_error(P, mu, loss) < 1e-10
    x, _ = empirical_optimum(expected_counts(P, mu, 100), loss, tol=1e-13)
    if loss != "slic":
        assert np.abs(empirical_stationarity(expected_counts(P, mu, 100), x, loss)).max() < 1e-9


@pytest.mark.parametrize("loss, scale", [("ipo", 3.0), ("dpo", 0.7)])
def test_expected_counts_reproduce_one_make_step(loss, scale):
    P, mu = _population_case(1, B=10)
    alpha, lam = 0.6, 1.0
    logpi = np.log(mu)  # lam = 1: mu = pi
    step = make_step(P, loss, alpha, lam, scale=scale, B=10)
    want = step(logpi)
    x, _ = empirical_optimum(expected_counts(P, mu, 50), loss, tol=1e-13)
    inv_b = scale / 2 if loss == "ipo" else 1 / scale  # b = 2 / beta (IPO), b = beta_dpo (DPO)
    z = alpha * logpi + (1 - alpha) * np.log(0.25) + x * inv_b
    got = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    assert np.abs(got - want).max() < 1e-10


def test_planted_unsymmetrised_comparisons_are_caught(monkeypatch):
    P, mu = _population_case(2)
    assert _identity_error(P, mu, "ipo") < 1e-10
    monkeypatch.setattr(finite, "pair_comparisons", lambda N: N)  # forgets N^T: W_kj = wins of k only
    assert _identity_error(P, mu, "ipo") > 1e-3


def test_planted_win_rates_in_place_of_counts_are_caught():
    P, mu = _population_case(3)

    def win_rates(N, loss, tol):  # P-hat_kj = N_kj / W_kj, every pair weighted alike: drops how often mu samples it
        return empirical_optimum(N / np.maximum(finite.pair_comparisons(N), 1e-300), loss, tol=tol)

    assert _identity_error(P, mu, "dpo", win_rates) > 1e-3


def test_sampled_counts_have_the_expected_means_and_labels_transposed_are_caught():
    rng = np.random.default_rng(4)
    P = _random_P(rng, 6, 4, spread=2.0)
    mu = rng.dirichlet(np.full(4, 3.0), 6)
    n, reps = 400, 60
    words = rng.bit_generator.random_raw((reps, 6, n))
    mean = np.mean([draw_counts(P, mu, w, engine="numpy") for w in words], axis=0)
    want = expected_counts(P, mu, n)
    sd = np.sqrt(want / reps) + 1e-9
    assert np.abs((mean - want) / sd).max() < 5.0
    wrong = np.mean([draw_counts(np.swapaxes(P, 1, 2), mu, w, engine="numpy") for w in words], axis=0)
    assert np.abs((wrong - want) / sd).max() > 10.0


def test_sampler_engines_agree_count_for_count():
    pytest.importorskip("numba", reason="numba is an optional extra (fast)")
    rng = np.random.default_rng(5)
    for K in (2, 3, 4, 6):
        P = _random_P(rng, 30, K, spread=3.0)
        P[0, 0, 1], P[0, 1, 0] = 1.0, 0.0
        mu = rng.dirichlet(np.full(K, 0.3), 30)
        mu[1] = np.eye(K)[0] * (1 - 1e-13) + 1e-13 / K
        words = rng.bit_generator.random_raw((30, 50))
        a = draw_counts(P, mu, words, engine="numpy")
        b = draw_counts(P, mu, words, engine="numba")
        assert np.array_equal(a, b) and a.sum(axis=(1, 2)).max() <= 50


# ----------------------------------------------------------------------------- averaging hides oscillation


def test_realisations_oscillate_while_their_average_looks_damped():
    P = cyclic_float(0.4)[None]
    starts = np.log(np.array([[0.34, 0.33, 0.33]]))
    run = run_finite(P, [[0.9, 8.0, 1.0]], starts, FiniteSample(pairs=64, realisations=8), steps=900, burn_in=300,
                     seed=0, record=[(0, 0)], engine="numpy")
    each = run.cycle_strength[0, 0]
    assert run.oscillating[0, 0].all() and each.min() > 0.1  # every realisation keeps cycling
    avg = run.averaged_cycle_strength[0, 0]
    assert avg < 0.3 * each.mean()  # random phases: the averaged path looks far more stable
    # the streamed metric is the metric of the recorded averaged path, and each path's
    path = run.averaged_path(0, 0)
    assert avg == pytest.approx(float(cycle_strength(path, burn_in=300)), rel=1e-9)
    assert each[3] == pytest.approx(float(cycle_strength(run.paths[(0, 0)][3], burn_in=300)), rel=1e-9)
    # control: realisations in phase (identical paths) average to the same cycle strength
    same = np.repeat(run.paths[(0, 0)][:1], 8, axis=0).mean(axis=0)
    assert float(cycle_strength(same, burn_in=300)) == pytest.approx(each[0], rel=1e-12)


# ----------------------------------------------------------------------------- prior 0: unsampled responses, no optimum


def test_unsampled_hold_and_tie():
    N = np.array([[[0, 3, 0], [1, 0, 0], [0, 0, 0]]], dtype=float)  # response 2 in no pair
    prev = np.array([[0.0, 1.0, 5.0]])
    xh, ok = empirical_optimum(N, "ipo", unsampled="hold", x_prev=prev)
    xt, _ = empirical_optimum(N, "ipo", unsampled="tie", x_prev=prev)
    assert ok.all()
    assert xh[0, 0] - xh[0, 1] == pytest.approx(xt[0, 0] - xt[0, 1])  # the sampled pair's answer is the same
    assert xh[0, 2] - (xh[0, 0] + xh[0, 1]) / 2 == pytest.approx(5.0 - 0.5)  # held: relative to the sampled ones' mean
    assert xt[0, 2] == pytest.approx((xt[0, 0] + xt[0, 1]) / 2)  # tied with the rest
    # two components {0, 1} and {2, 3}: hold keeps each component's previous mean
    N2 = np.zeros((1, 4, 4))
    N2[0, 0, 1], N2[0, 1, 0], N2[0, 2, 3], N2[0, 3, 2] = 2, 1, 1, 1
    x2, _ = empirical_optimum(N2, "dpo", unsampled="hold", x_prev=np.array([[1.0, 1.0, -1.0, -1.0]]))
    assert (x2[0, 0] + x2[0, 1]) / 2 - (x2[0, 2] + x2[0, 3]) / 2 == pytest.approx(2.0)
    assert x2[0, 0] - x2[0, 1] == pytest.approx(np.log(2.0))


def test_no_optimum_for_the_logistic_is_named_and_the_prior_fixes_it():
    N = np.array([[[0, 3, 1], [0, 0, 2], [1, 0, 0]]], dtype=float)  # 0 beat 1, 1 beat 2, 2 beat 0: a cycle of wins
    x, ok = empirical_optimum(N, "dpo")
    assert ok.all()
    N = np.array([[[0, 3, 1], [0, 0, 2], [0, 0, 0]]], dtype=float)  # 0 beat everyone, 1 beat 2
    with pytest.raises(NumericalFailure) as err:
        empirical_optimum(N, "dpo")
    assert isinstance(err.value, NoEmpiricalOptimum) and "[0]" in str(err.value) and "prior > 0" in str(err.value)
    x, ok = empirical_optimum(N, "dpo", prior=1.0)
    assert ok.all() and np.isfinite(x).all() and x[0, 0] > x[0, 1] > x[0, 2]
    x, ok = empirical_optimum(N, "ipo")  # IPO always has its optimum
    assert ok.all() and np.isfinite(x).all()


def test_finite_sample_dpo_sweep_runs_and_names_a_failure():
    P = np.stack([_cyclic4(0.3), random_sst_float(np.random.default_rng(1), 4)])
    spec = SweepSpec(loss="dpo", grid=parse_grid("alpha=0.8,beta_dpo=0.5", "beta_dpo"), steps=40, engine="numpy",
                     finite=FiniteSample(pairs=12, realisations=2))
    res = run_sweep(P, spec)
    assert res.finite.cycle_strength.shape == (2, 1, 2) and np.isfinite(res.finite.cycle_strength).all()
    strict = SweepSpec(loss="dpo", grid=spec.grid, steps=40, engine="numpy", finite=FiniteSample(pairs=3, realisations=2, prior=0))
    with pytest.raises(NumericalFailure, match=r"round \d+, matrix \d, setting 0, realisation \d.*prior > 0"):
        run_sweep(P, strict)


def test_the_modules_import_no_sympy_at_module_level():
    import ast
    import pathlib

    root = pathlib.Path(finite.__file__).parent
    for name in ("sweep.py", "finite.py", "cluster.py"):
        tree = ast.parse((root / name).read_text())
        top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        mods = [a.name for n in top if isinstance(n, ast.Import) for a in n.names]
        mods += [n.module for n in top if isinstance(n, ast.ImportFrom) and n.module]
        assert not [m for m in mods if m.split(".")[0] in ("sympy", "theory", "mpmath", "distributed", "dask", "numba")], (name, mods)
