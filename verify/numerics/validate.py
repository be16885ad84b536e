"""Validation of float inputs shared by the batched step and the kernels (numpy only: cheap to import).

>>> check_matrix_stack(np.array([[[0.5, 0.9], [0.2, 0.5]]]))
Traceback (most recent call last):
...
verify.exact.objects.InputError: P[0]: P[0,1] = 0.9, P[1,0] = 0.2; expected entries in [0, 1] with P[i,j] + P[j,i] = 1
"""

from __future__ import annotations

import numpy as np

from verify.exact.objects import InputError

__all__ = ["check_matrix_stack"]


def check_matrix_stack(arr: np.ndarray, expected: str = "(N, K, K) with N >= 1 and K >= 2") -> np.ndarray:
    """A float ``(N, K, K)`` stack of preference matrices, validated (one line naming the bad entry), clipped to [0, 1].

    ``expected`` is the shape the caller accepts, for the message on a wrong shape.
    """
    if arr.ndim != 3 or arr.shape[1] != arr.shape[2] or arr.shape[1] < 2 or arr.shape[0] < 1:
        raise InputError(f"P must be {expected}, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        b = int(np.argmax(~np.isfinite(arr).all(axis=(1, 2))))
        raise InputError(f"P[{b}] has non-finite entries")
    bad = (arr < -1e-9) | (arr > 1 + 1e-9) | (np.abs(arr + np.swapaxes(arr, 1, 2) - 1) > 1e-9)
    if bad.any():
        b, i, j = (int(v) for v in np.argwhere(bad)[0])
        raise InputError(
            f"P[{b}]: P[{i},{j}] = {arr[b, i, j]:.12g}, P[{j},{i}] = {arr[b, j, i]:.12g}; expected entries in [0, 1] with P[i,j] + P[j,i] = 1"
        )
    return np.clip(arr, 0.0, 1.0)
