"""verify.numerics.kernels.run_grid: every engine against the reference (make_step + run_batch per setting).

The grid mixes a 3-cycle above a loser (oscillates for large alpha and scale) with SST matrices
(converge), so the metrics and both classifications are exercised. Planted wrong variants (a gain off by
a factor, the burn-in or the count of states off by one) must fail the same agreement check.
"""

import dataclasses

import numpy as np
import pytest

import verify.numerics.kernels as kernels
from verify.exact.families import random_sst_float
from verify.exact.objects import InputError, NumericalFailure
from verify.numerics.kernels import GridResult, run_grid

FLOATS = ("cycle_strength", "final_entropy", "amplitude", "final_logpi")
USER_LOSS = "log(1+exp(-x)) + x**2/10"


def _cyclic4(a=0.4):
    P = np.full((4, 4), 0.5)
    for i, j in ((0, 1), (1, 2), (2, 0), (0, 3), (1, 3), (2, 3)):  # a 3-cycle above a loser
        P[i, j], P[j, i] = 0.5 + a, 0.5 - a
    return P


def _grid(N=6, K=4, seed=0):
    rng = np.random.default_rng(seed)
    P = random_sst_float(rng, K, N)
    P[0, :4, :4] = _cyclic4()  # responses 4.. (K > 4) lose to 0..3
    return P, rng.normal(0.0, 1e-3, (N, K))


#: settings (alpha, scale, lam): an oscillating one, a converging one with lam < 1, a slow one
SETTINGS = (np.array([0.9, 0.5, 0.95]), np.array([4.0, 2.0, 12.0]), np.array([1.0, 0.7, 1.0]))
DPO_SETTINGS = (np.array([0.9, 0.5, 0.95]), np.array([1.0, 0.5, 3.0]), np.array([1.0, 0.7, 1.0]))
RUN = dict(steps=240, burn_in=40, window=64)
RECORD = [(0, 0), (2, 1), (5, 2)]


def agree(a: GridResult, b: GridResult, tol: float) -> bool:
    """The agreement check: every float metric within ``tol`` (absolute, and relative for large values), the classifications equal."""
    for f in FLOATS + (("trajectories",) if a.trajectories is not None else ()):
        x, y = getattr(a, f), getattr(b, f)
        if x.shape != y.shape or not np.all(np.abs(x - y) <= tol * np.maximum(1.0, np.abs(x))):
            return False
    # last_delta is rounding noise for a converged row: compare it where it is not
    big = a.last_delta > 1e-8
    if not np.allclose(a.last_delta[big], b.last_delta[big], rtol=1e-6, atol=0):
        return False
    return bool((a.converged == b.converged).all() and (a.oscillating == b.oscillating).all())


@pytest.fixture(scope="module")
def ipo_ref():
    P, st = _grid()
    return P, st, run_grid(P, *SETTINGS, st, **RUN, engine="reference", record=RECORD)


@pytest.fixture(scope="module")
def dpo_ref():
    P, st = _grid()
    return P, st, run_grid(P, *DPO_SETTINGS, st, loss="dpo", **RUN, engine="reference", record=RECORD)


def test_the_grid_has_both_behaviours(ipo_ref, dpo_ref):
    for _, _, ref in (ipo_ref, dpo_ref):
        assert ref.oscillating[0, 0] and not ref.converged[0, 0]
        assert ref.converged[1:, 1].all() and not ref.oscillating[1:, 1].any()
        assert ref.cycle_strength[0, 0] > 1e-4 > ref.cycle_strength[1:, 1].max()
    assert ipo_ref[2].cycle_strength.shape == (6, 3) and ipo_ref[2].final_logpi.shape == (6, 3, 4)
    assert ipo_ref[2].trajectories.shape == (3, RUN["steps"] + 1, 4) and ipo_ref[2].engine == "reference"


def test_numpy_ipo_is_the_reference_bit_for_bit(ipo_ref):
    P, st, ref = ipo_ref
    got = run_grid(P, *SETTINGS, st, **RUN, engine="numpy", record=RECORD, block=5)
    for f in FLOATS + ("last_delta", "trajectories"):
        np.testing.assert_array_equal(getattr(ref, f), getattr(got, f), err_msg=f)
    assert agree(ref, got, 0.0)


def test_numpy_dpo_is_the_reference_bit_for_bit(dpo_ref):
    P, st, ref = dpo_ref  # the same inner solve (solve_batch, warm-started), a block of rows from several settings
    got = run_grid(P[:3], *DPO_SETTINGS, st[:3], loss="dpo", **RUN, engine="numpy", record=RECORD[:2], block=4)
    for f in FLOATS + ("last_delta",):
        np.testing.assert_array_equal(getattr(ref, f)[:3], getattr(got, f), err_msg=f)
    np.testing.assert_array_equal(ref.trajectories[:2], got.trajectories)


def test_record_is_the_trajectory_of_the_pair(ipo_ref):
    P, st, ref = ipo_ref
    for j, (i, s) in enumerate(RECORD):
        tr = ref.trajectories[j]
        np.testing.assert_allclose(np.exp(tr).sum(axis=1), 1.0, rtol=1e-13)
        np.testing.assert_array_equal(tr[-1], ref.final_logpi[i, s])
        assert np.abs(tr[0] - (st[i] - np.log(np.exp(st[i]).sum()))).max() < 1e-15


def test_numba_ipo_agrees_and_rows_are_independent(ipo_ref):
    pytest.importorskip("numba")
    P, st, ref = ipo_ref
    got = run_grid(P, *SETTINGS, st, **RUN, engine="numba", record=RECORD)
    assert got.engine == "numba" and agree(ref, got, 1e-12)
    # another block size and a subset of the matrices and settings: the same numbers, bit for bit
    sub = run_grid(P[2:5], SETTINGS[0][1:], SETTINGS[1][1:], SETTINGS[2][1:], st[2:5], **RUN, engine="numba", block=2)
    for f in FLOATS + ("last_delta",):
        np.testing.assert_array_equal(getattr(sub, f), getattr(got, f)[2:5, 1:], err_msg=f)


def test_numba_ipo_at_larger_K_agrees_with_numpy():
    pytest.importorskip("numba")  # K > 16: the compiled kernel sums P pi by columns, numpy by matmul
    P, st = _grid(N=3, K=20, seed=2)
    kw = dict(steps=60, burn_in=10, window=16)
    a = run_grid(P, [0.9, 0.3], [30.0, 2.0], [1.0, 0.5], st, engine="numpy", **kw)
    b = run_grid(P, [0.9, 0.3], [30.0, 2.0], [1.0, 0.5], st, engine="numba", **kw)
    assert a.final_logpi.shape == (3, 2, 20) and not a.converged[:, 0].all() and agree(a, b, 1e-12)


def test_numba_dpo_agrees_with_the_reference(dpo_ref):
    pytest.importorskip("numba")
    P, st, ref = dpo_ref
    got = run_grid(P, *DPO_SETTINGS, st, loss="dpo", **RUN, engine="numba", record=RECORD)
    assert got.method == "newton" and agree(ref, got, 1e-10)
    sub = run_grid(P[3:], DPO_SETTINGS[0][:2], DPO_SETTINGS[1][:2], DPO_SETTINGS[2][:2], st[3:], loss="dpo", **RUN, engine="numba")
    for f in FLOATS + ("last_delta",):
        np.testing.assert_array_equal(getattr(sub, f), getattr(got, f)[3:, :2], err_msg=f)


def test_numba_user_loss_agrees_with_the_reference():
    pytest.importorskip("numba")
    P, st = _grid(N=3, seed=1)
    kw = dict(loss=USER_LOSS, steps=150, burn_in=20, window=32, record=[(0, 0)])
    ref = run_grid(P, [0.9, 0.4], [1.0, 1.0], [1.0, 0.5], st, engine="reference", **kw)
    got = run_grid(P, [0.9, 0.4], [1.0, 1.0], [1.0, 0.5], st, engine="numba", **kw)
    assert ref.oscillating[0, 0] and ref.converged[:, 1].all() and agree(ref, got, 1e-10)


def test_planted_wrong_kernels_are_caught(ipo_ref, monkeypatch):
    P, st, ref = ipo_ref
    engine = "numba" if kernels.numba_available() else "numpy"
    assert not agree(ref, run_grid(P, *SETTINGS, st, **dict(RUN, burn_in=RUN["burn_in"] + 1), engine=engine, record=RECORD), 1e-12)
    finish = kernels._finish  # the count of the cycle-strength states off by one
    monkeypatch.setattr(kernels, "_finish", lambda s1, s2, n, *rest: finish(s1, s2, n + 1, *rest))
    assert not agree(ref, run_grid(P, *SETTINGS, st, **RUN, engine=engine, record=RECORD), 1e-12)
    monkeypatch.setattr(kernels, "_finish", finish)
    assert agree(ref, run_grid(P, *SETTINGS, st, **RUN, engine=engine, record=RECORD), 1e-12)  # the control
    plan = kernels._plan("ipo")
    monkeypatch.setattr(kernels, "_plan", lambda loss: dataclasses.replace(plan, gain=plan.gain * (1 + 1e-9)))
    assert not agree(ref, run_grid(P, *SETTINGS, st, **RUN, engine=engine, record=RECORD), 1e-12)


def test_a_failed_inner_solve_names_the_row():
    P, st = _grid(N=3)
    P[:2] = 0.5  # solved by the first guess (no Newton step)
    P[2] = random_sst_float(np.random.default_rng(5), 4) ** 0.2  # far from 1/2: one Newton step is not enough
    P[2] = np.triu(P[2], 1) + np.tril(1 - P[2].T, -1) + 0.5 * np.eye(4)
    for engine in ("numpy", "numba") if kernels.numba_available() else ("numpy",):
        with pytest.raises(NumericalFailure, match=r"matrix 2, setting 0.*max_iter"):
            run_grid(P, [0.5], [1.0], [1.0], st, loss="dpo", steps=3, max_iter=1, engine=engine)


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(alpha=[0.5, 1.5]), r"alpha\[1\] = 1.5 is outside \[0, 1\]"),
        (dict(lam=[-0.1]), r"lam\[0\] = -0.1 is outside \[0, 1\]"),
        (dict(scale=[0.0]), r"beta\[0\] = 0 expected a finite number > 0"),
        (dict(alpha=[0.5, 0.5], scale=[1.0, 1.0, 1.0]), "alpha has 2 values, expected 3 .one per setting."),
        (dict(starts=np.zeros((5, 4))), r"starts has shape \(5, 4\), expected \(6, 4\)"),
        (dict(P=np.full((6, 4, 3), 0.5)), "P must be"),
        (dict(P=np.full((6, 4, 4), 0.7)), r"P\[0\]: P\[0,0\] = 0.7, P\[0,0\] = 0.7; expected entries in \[0, 1\]"),
        (dict(steps=10, burn_in=10), "burn_in = 10, expected 0 <= burn_in < steps = 10"),
        (dict(engine="gpu"), "engine = 'gpu', expected one of"),
        (dict(record=[(6, 0)]), r"record entry \(6, 0\) is outside the grid of 6 matrices x 1 settings"),
        (dict(pi_ref=[0.5, 0.5, 0.5, 0.5]), "pi_ref.* sums to 2"),
        (dict(loss="not a loss ((("), "does not parse as an expression in x"),
    ],
)
def test_bad_input_is_one_line(change, message):
    P, st = _grid()
    args = dict(P=P, alpha=[0.5], scale=[1.0], lam=[1.0], starts=st, steps=10)
    args.update(change)
    with pytest.raises(InputError, match=message) as exc:
        run_grid(**args)
    assert "\n" not in str(exc.value)


def test_ipo_by_name_is_the_symbolic_ipo_number_for_number():
    """The numeric IPO plan (no sympy at run time) has the method, gain and 1/b the symbolic loss gives."""
    import dataclasses

    from theory.losses import BUILTIN
    from verify.numerics import kernels

    fast, slow = kernels._plan("ipo"), kernels._plan_cached(BUILTIN["ipo"])
    scales = np.array([0.125, 1.0, 8.0, 1e4 / 3])

    def same(a, b):
        return a.method == b.method and a.gain == b.gain and np.array_equal(a.inv_b(scales), b.inv_b(scales))

    assert fast is not slow and same(fast, slow)
    assert kernels.loss_info("ipo") == kernels.loss_info(BUILTIN["ipo"])
    assert not same(dataclasses.replace(fast, gain=1.0), slow)  # a planted gain is seen
    assert not same(dataclasses.replace(fast, inv_b=lambda v: np.asarray(v, float) / 2.0 + 1e-16 * np.asarray(v, float)), slow)
    # and the runs agree bit for bit with the reference engine, which builds the symbolic loss
    P = np.stack([np.array([[0.5, 0.8, 0.3], [0.2, 0.5, 0.7], [0.7, 0.3, 0.5]])] * 2)
    st = np.log(np.array([[0.3, 0.3, 0.4], [0.2, 0.5, 0.3]]))
    a = kernels.run_grid(P, [0.9], [8.0], [1.0], st, steps=50, engine="numpy")
    b = kernels.run_grid(P, [0.9], [8.0], [1.0], st, steps=50, engine="reference")
    assert np.array_equal(a.final_logpi, b.final_logpi)
