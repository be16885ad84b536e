"""verify.numerics.kernels.run_grid: every engine against the reference (make_step + run_batch)."""

import numpy as np
import pytest

from verify.exact.families import random_sst_float
from verify.exact.objects import InputError
from verify.numerics.kernels import GridResult, run_grid

FIELDS = ("cycle_strength", "final_entropy", "amplitude", "final_logpi")


def _cyclic4(a=0.4):
    P = np.full((4, 4), 0.5)
    for i, j in ((0, 1), (1, 2), (2, 0), (0, 3), (1, 3), (2, 3)):  # a 3-cycle above a loser
        P[i, j], P[j, i] = 0.5 + a, 0.5 - a
    return P


def _grid(N=6, K=4, seed=0):
    rng = np.random.default_rng(seed)
    P = random_sst_float(rng, K, N)
    P[0] = _cyclic4()
    return P, rng.normal(0.0, 1e-3, (N, K))


SETTINGS = (np.array([0.9, 0.5, 0.95]), np.array([4.0, 2.0, 12.0]), np.array([1.0, 0.7, 1.0]))


def _agree(a: GridResult, b: GridResult, rtol: float) -> None:
    for f in FIELDS:
        np.testing.assert_allclose(getattr(a, f), getattr(b, f), rtol=rtol, atol=rtol, err_msg=f)
    assert (a.converged == b.converged).all() and (a.oscillating == b.oscillating).all()


def test_numpy_ipo_is_the_reference():
    P, st = _grid()
    ref = run_grid(P, *SETTINGS, st, steps=300, burn_in=50, window=64, engine="reference", record=[(0, 0), (2, 1)])
    got = run_grid(P, *SETTINGS, st, steps=300, burn_in=50, window=64, engine="numpy", record=[(0, 0), (2, 1)], block=5)
    _agree(ref, got, 1e-12)
    assert ref.oscillating[0, 0] and ref.converged[1:, 1].all()  # the grid has both kinds
    np.testing.assert_allclose(ref.trajectories, got.trajectories, rtol=0, atol=1e-12)


def test_bad_input_is_one_line():
    P, st = _grid()
    with pytest.raises(InputError, match=r"alpha\[1\] = 1.5 is outside \[0, 1\]"):
        run_grid(P, [0.5, 1.5], [1.0, 1.0], [1.0, 1.0], st, steps=10)
    with pytest.raises(InputError, match="starts has shape"):
        run_grid(P, [0.5], [1.0], [1.0], st[:3], steps=10)
    with pytest.raises(InputError, match="P must be"):
        run_grid(P[0], [0.5], [1.0], [1.0], st, steps=10)
