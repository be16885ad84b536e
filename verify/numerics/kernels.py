r"""Grid runs of the MRS dynamics: many matrices x many settings, 3,000 steps, metrics on, fast.

:func:`run_grid` iterates the MRS step of any loss of the family (the step of
:func:`verify.numerics.batch.make_step`) for every matrix ``P[i]`` and every setting
``s = (alpha[s], scale[s], lam[s])``, from the start ``starts[i]`` (the same for every setting of a
matrix), and returns the metrics of :mod:`verify.numerics.metrics` per (matrix, setting) as a
:class:`GridResult`: cycle strength, final entropy, amplitude, last move, converged, oscillating,
the final log-policy, and the trajectories asked for. It never stores a trajectory it was not asked
for and works through the ``N * S`` trajectories (row ``r = i S + s``) in blocks of rows, so memory
and the cost per trajectory do not grow with the number of settings.

Engines (``engine=``):

* ``"reference"`` — :func:`verify.numerics.batch.make_step` + :func:`verify.numerics.simulate.run_batch`,
  one setting at a time (the definition the others are tested against);
* ``"numpy"`` — the same arithmetic on K-major buffers, blocked over rows, metrics accumulated in
  place: a quadratic ``f`` (IPO) takes the closed form ``log pi' = alpha log pi + (1-alpha) log pi_ref
  + (c_f / b) P mu`` (normalised), in ``make_step``'s order of operations; any other loss the inner
  solve of :func:`verify.numerics.batch.solve_batch` (Newton warm-started from the previous step's
  optimum; the exact enumeration for a piecewise-linear ``f``). It equals the reference bit for bit;
* ``"numba"`` — compiled, fused loops with the metrics accumulated in the same loop. The closed form
  runs blocks of 64 rows (K <= 16; one row at a time beyond) in the numpy engine's order of
  operations (with the same ``exp``: bit for bit the numpy engine where numpy's ``exp`` is the C
  library's, and to rounding elsewhere). A smooth ``f`` runs a Newton solve on the ``K - 1`` free
  coordinates per row and step, warm-started from the previous step's optimum, to the criterion of
  :func:`verify.numerics.batch.solve_batch` (``|G_k| <= tol (1 + T_k)`` for every ``k``); ``f'`` and
  ``f''`` come from :func:`verify.numerics.bridge.loss_functions` compiled into C callbacks (the
  logistic is computed in the kernel from one ``exp`` per pair). numba is optional
  (``pip install "prefdyn[fast]"``) and imported only when this engine runs; the kernels are compiled
  once and kept in numba's on-disk cache (the first run after an install or an edit compiles them:
  tens of seconds);
* ``"auto"`` — ``"numba"`` when numba is importable and the loss is quadratic or smooth, else ``"numpy"``.

Both compiled kernels skip the rows whose state a step left unchanged bit for bit (a fixed point of
the deterministic map: every later step would give the same bits); their metric updates still run,
so the numbers are those of the full computation. Converging rows reach such a point after a few
hundred steps, oscillating ones never.

The metrics have exactly the definitions of :class:`verify.numerics.metrics.StreamingMetrics`
(cycle strength from sums shifted by the first state after the burn-in; amplitude over the last
``window`` states in two halves; converged when the last step moved every log-probability by at
most ``tol``; oscillating when not converged, the second half's amplitude exceeds ``amp_tol`` and
has not fallen below half the first half's).

Rows are independent: a row's numbers do not depend on which other rows share the call (for the
same engine, bit for bit), so a sweep may cut the grid into chunks anywhere.

>>> import numpy as np
>>> P = np.array([[[0.5, 0.9, 0.1], [0.1, 0.5, 0.9], [0.9, 0.1, 0.5]]])
>>> res = run_grid(P, alpha=[0.9, 0.2], scale=[8.0, 1.0], lam=[1.0, 1.0], starts=np.log([[0.3, 0.3, 0.4]]),
...                steps=600, engine="numpy")
>>> res.oscillating.tolist(), res.converged.tolist()
([[True, False]], [[False, True]])
>>> res.cycle_strength.shape, res.final_logpi.shape
((1, 2), (1, 2, 3))
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import numpy as np

from verify.exact.objects import InputError, NumericalFailure
from verify.numerics.metrics import entropy_from_log
from verify.numerics.validate import check_matrix_stack

__all__ = ["ENGINES", "GridResult", "LossInfo", "run_grid", "numba_available", "engine_for", "loss_info"]

#: The values of ``run_grid(engine=...)``.
ENGINES = ("auto", "numpy", "numba", "reference")


@dataclass
class GridResult:
    """Per (matrix, setting) results of :func:`run_grid` (arrays ``(N, S)`` unless stated).

    Attributes
    ----------
    cycle_strength : mean over ``k`` of the population variance of ``pi_t[k]``, ``t = burn_in+1..steps``
    final_entropy : Shannon entropy (nats) of ``pi_steps``
    amplitude : max over ``k`` of the range of ``pi_t[k]`` over the second half of the last ``window`` states
    last_delta : ``max_k |log pi_T[k] - log pi_{T-1}[k]|``
    converged : ``last_delta <= tol``
    oscillating : not converged, amplitude ``> amp_tol`` and at least half the first half's
    final_logpi : ``(N, S, K)`` the final normalised log-policies
    engine : the engine that ran (``"numba"``, ``"numpy"`` or ``"reference"``)
    trajectories : ``(len(record), steps + 1, K)`` log-policies of the recorded pairs, or None
    record : the recorded ``(matrix, setting)`` pairs, in the order of ``trajectories``
    method : how the inner optimum was found (``"closed"``, ``"newton"``, ``"enumerate"``)
    """

    cycle_strength: np.ndarray
    final_entropy: np.ndarray
    amplitude: np.ndarray
    last_delta: np.ndarray
    converged: np.ndarray
    oscillating: np.ndarray
    final_logpi: np.ndarray
    engine: str
    trajectories: np.ndarray | None = None
    record: tuple = ()
    method: str = ""


# ----------------------------------------------------------------------------- the loss as numbers


@dataclass(frozen=True)
class _Plan:
    loss: Any  # the PairLoss
    method: str  # closed / newton / enumerate
    gain: float | None  # c_f for a quadratic f
    inv_b: Callable[[np.ndarray], np.ndarray]  # 1/b as a function of the scale (numpy)
    label: str


@lru_cache(maxsize=32)
def _plan_cached(lossobj: Any) -> _Plan:
    from verify.numerics.batch import loss_numbers

    nums = loss_numbers(lossobj)

    def inv_b(v: np.ndarray) -> np.ndarray:
        return np.asarray(nums.inv_b(np.asarray(v, dtype=float)), dtype=float) * np.ones_like(v, dtype=float)

    return _Plan(lossobj, nums.method, nums.gain, inv_b, nums.label)


@dataclass(frozen=True)
class LossInfo:
    """What a sweep needs to know of a loss without its symbolic object: name, scale name, title."""

    name: str
    scale_name: str
    title: str


#: IPO by its name, as numbers (no sympy at run time): ``f = (1 - x)^2``, ``b = 2 / beta``, so the
#: gain is ``c_f = -2 f'(0) / f''(0) = 2`` and ``1/b = beta/2`` -- the values :func:`_plan_cached` derives
#: from :data:`theory.losses.BUILTIN` (a test compares the two, number for number).
_IPO_INFO = LossInfo("ipo", "beta", "IPO (squared)")
_IPO_PLAN = _Plan(_IPO_INFO, "closed", 2.0, lambda v: np.asarray(v, dtype=float) / 2.0 * np.ones_like(v, dtype=float), "IPO (squared)")


def _plan(loss: Any) -> _Plan:
    if loss is _IPO_INFO or (isinstance(loss, str) and loss.strip().lower() == "ipo"):
        return _IPO_PLAN
    from verify.numerics.batch import as_loss

    return _plan_cached(as_loss(loss))


def loss_info(loss: Any) -> LossInfo:
    """Name, scale name and title of ``loss`` (a built-in name, an expression or a PairLoss).

    IPO by its name needs no symbolic work (numeric commands start without sympy):

    >>> loss_info("ipo")
    LossInfo(name='ipo', scale_name='beta', title='IPO (squared)')
    >>> loss_info("dpo").scale_name
    'beta_dpo'
    """
    lo = _plan(loss).loss
    return lo if isinstance(lo, LossInfo) else LossInfo(lo.name, lo.scale_name, lo.title or lo.name)


def _symbolic(lossobj: Any) -> Any:
    """The PairLoss behind a plan's loss (IPO's numbers stand in for it until the reference path needs it)."""
    if isinstance(lossobj, LossInfo):
        from verify.numerics.batch import as_loss

        return as_loss(lossobj.name)
    return lossobj


@lru_cache(maxsize=1)
def numba_available() -> bool:
    """Whether numba can be imported (the compiled engine is optional)."""
    try:
        importlib.import_module("numba")
    except Exception:  # pragma: no cover - depends on the environment
        return False
    return True


def engine_for(loss: Any, engine: str = "auto") -> str:
    """The engine :func:`run_grid` uses for ``loss`` (``"auto"`` resolved; a bad choice is an InputError).

    >>> engine_for("ipo", "numpy"), engine_for("slic")
    ('numpy', 'numpy')
    """
    if engine not in ENGINES:
        raise InputError(f"engine = {engine!r}, expected one of {', '.join(ENGINES)}")
    method = _plan(loss).method
    if engine == "auto":
        return "numba" if method in ("closed", "newton") and numba_available() else "numpy"
    if engine == "numba":
        if method == "enumerate":
            raise InputError("engine 'numba' needs a quadratic or smooth loss; a piecewise-linear f runs on engine 'numpy'")
        if not numba_available():
            raise InputError('engine \'numba\' needs numba: pip install "prefdyn[fast]" (or use engine "numpy")')
    return engine


# ----------------------------------------------------------------------------- validation


def _normalise(lp: np.ndarray) -> np.ndarray:
    m = lp.max(axis=-1, keepdims=True)
    return lp - (m + np.log(np.exp(lp - m).sum(axis=-1, keepdims=True)))


def _check_P(P: Any) -> np.ndarray:
    try:
        arr = np.asarray(P, dtype=float)
    except (TypeError, ValueError):
        raise InputError("P must be a numeric (N, K, K) array") from None
    return np.ascontiguousarray(check_matrix_stack(arr))


def _settings(alpha: Any, scale: Any, lam: Any, scale_name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    arrs = []
    for name, v in (("alpha", alpha), (scale_name, scale), ("lam", lam)):
        try:
            a = np.atleast_1d(np.asarray(v, dtype=float))
        except (TypeError, ValueError):
            raise InputError(f"{name} must be numbers, got {v!r}") from None
        if a.ndim != 1 or a.size == 0:
            raise InputError(f"{name} has shape {np.shape(v)}, expected (S,)")
        arrs.append(a)
    S = max(a.size for a in arrs)
    out = []
    for (name, _), a in zip((("alpha", 0), (scale_name, 0), ("lam", 0)), arrs):
        if a.size not in (1, S):
            raise InputError(f"{name} has {a.size} values, expected {S} (one per setting) like the others")
        a = np.array(np.broadcast_to(a, (S,)), dtype=float)
        if name == scale_name:
            bad = ~((a > 0) & np.isfinite(a))
            rule = "expected a finite number > 0"
        else:
            bad = ~((a >= 0) & (a <= 1))
            rule = "is outside [0, 1]"
        if bad.any():
            i = int(np.argmax(bad))
            raise InputError(f"{name}[{i}] = {a[i]:.12g} {rule}")
        out.append(a)
    return out[0], out[1], out[2]


def _policy(v: Any, N: int, K: int, name: str) -> np.ndarray:
    """``(N, K)`` interior points of the simplex (default uniform)."""
    if v is None:
        return np.full((N, K), 1.0 / K)
    try:
        arr = np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a numeric (K,) or (N, K) array") from None
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != K or arr.shape[0] not in (1, N):
        raise InputError(f"{name} has shape {np.shape(v)}, expected ({K},) or ({N}, {K})")
    if not (np.all(arr > 0) and np.all(np.isfinite(arr))):
        b = int(np.argmax(~((arr > 0) & np.isfinite(arr)).all(axis=1)))
        raise InputError(f"{name}[{b}] must have K = {K} positive entries (an interior point of the simplex)")
    if np.any(np.abs(arr.sum(axis=1) - 1) > 1e-9):
        b = int(np.argmax(np.abs(arr.sum(axis=1) - 1)))
        raise InputError(f"{name}[{b}] sums to {arr[b].sum():.12g}, expected 1")
    return np.array(np.broadcast_to(arr, (N, K)), dtype=float)


def _starts(v: Any, N: int, K: int) -> np.ndarray:
    try:
        arr = np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        raise InputError("starts must be a numeric (N, K) array of log-policies") from None
    if arr.shape != (N, K):
        raise InputError(f"starts has shape {arr.shape}, expected ({N}, {K}) (one log-policy per matrix)")
    if not np.all(np.isfinite(arr)):
        b = int(np.argmax(~np.isfinite(arr).all(axis=1)))
        raise InputError(f"starts[{b}] has non-finite entries (use log-probabilities of an interior policy)")
    return np.array(arr, dtype=float)  # normalised by each engine as run_batch does it (the same arithmetic)


def _record(record: Any, N: int, S: int) -> tuple:
    if record is None:
        return ()
    out = []
    for item in record:
        try:
            i, s = (int(v) for v in item)
        except (TypeError, ValueError):
            raise InputError(f"record entries must be (matrix, setting) pairs, got {item!r}") from None
        if not (0 <= i < N and 0 <= s < S):
            raise InputError(f"record entry ({i}, {s}) is outside the grid of {N} matrices x {S} settings")
        out.append((i, s))
    return tuple(out)


def _int(v: Any, name: str, low: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
        raise InputError(f"{name} = {v!r}, expected an integer >= {low}")
    return int(v)


# ----------------------------------------------------------------------------- the run


def run_grid(
    P: Any,
    alpha: Any,
    scale: Any,
    lam: Any,
    starts: Any,
    *,
    loss: Any = "ipo",
    steps: int = 3000,
    burn_in: int = 0,
    pi_ref: Any = None,
    pi0: Any = None,
    tol: float = 1e-10,
    window: int = 512,
    amp_tol: float = 1e-6,
    engine: str = "auto",
    record: Any = None,
    inner_tol: float = 1e-11,
    max_iter: int = 60,
    block: int | None = None,
) -> GridResult:
    """Run the MRS dynamics of ``loss`` for every matrix and setting; metrics per (matrix, setting).

    Parameters
    ----------
    P : ``(N, K, K)`` preference matrices (entries in [0, 1], ``P[i,j] + P[j,i] = 1``)
    alpha, scale, lam : ``(S,)`` arrays (or scalars): setting ``s`` is ``(alpha[s], scale[s], lam[s])``;
        ``scale`` is the loss's own scale parameter (IPO ``beta``, DPO ``beta_dpo``)
    starts : ``(N, K)`` log-policies (normalised here), the same start for every setting of a matrix
    loss : a built-in name, an expression in ``x``, or a :class:`theory.losses.PairLoss`
    steps, burn_in : iterations, and the states ``t <= burn_in`` left out of the cycle strength
    pi_ref, pi0 : ``(K,)`` or ``(N, K)`` interior policies (default uniform)
    tol, window, amp_tol : the metric options of :class:`verify.numerics.metrics.StreamingMetrics`
    engine : ``"auto"``, ``"numpy"``, ``"numba"`` or ``"reference"`` (see the module docstring)
    record : ``(matrix, setting)`` pairs whose log-policy trajectories are returned
    inner_tol, max_iter : the inner Newton solve's tolerance and iteration limit (a smooth, non-quadratic loss)
    block : rows per block (default: chosen from ``K``); does not change any number

    Raises
    ------
    InputError
        Bad shapes, a parameter out of range, an unknown engine or loss.
    NumericalFailure
        The inner solve did not converge for some (matrix, setting); the message names it.
    """
    plan = _plan(loss)
    Parr = _check_P(P)
    N, K = Parr.shape[0], Parr.shape[1]
    al, sc, la = _settings(alpha, scale, lam, plan.loss.scale_name)
    S = al.size
    lp0 = _starts(starts, N, K)
    ref = _policy(pi_ref, N, K, "pi_ref")
    p0 = _policy(pi0, N, K, "pi0")
    steps = _int(steps, "steps", 1)
    burn_in = _int(burn_in, "burn_in", 0)
    if burn_in >= steps:
        raise InputError(f"burn_in = {burn_in}, expected 0 <= burn_in < steps = {steps}")
    window = _int(window, "window", 1)
    max_iter = _int(max_iter, "max_iter", 1)
    for name, v in (("tol", tol), ("amp_tol", amp_tol), ("inner_tol", inner_tol)):
        if not (isinstance(v, (int, float, np.floating)) and math.isfinite(v) and v > 0):
            raise InputError(f"{name} = {v!r}, expected a finite number > 0")
    if block is not None:
        block = _int(block, "block", 1)
    rec = _record(record, N, S)
    eng = engine_for(plan.loss, engine)
    if plan.method != "closed":
        # the loss-specific checks of the one step (a set of responses escaping to infinity, K for the enumeration)
        from verify.numerics.batch import make_step

        make_step(Parr, plan.loss, 0.5, 1.0, B=N)
    opts = dict(steps=steps, burn_in=burn_in, tol=float(tol), window=window, amp_tol=float(amp_tol),
                inner_tol=float(inner_tol), max_iter=max_iter)
    if eng == "reference":
        return _run_reference(plan, Parr, al, sc, la, lp0, ref, p0, rec, **opts)
    lp0 = np.ascontiguousarray(_normalise(lp0))
    if eng == "numba":
        return _run_numba(plan, Parr, al, sc, la, lp0, ref, p0, rec, block=block, **opts)
    return _run_numpy(plan, Parr, al, sc, la, lp0, ref, p0, rec, block=block, **opts)


def _empty(N: int, S: int, K: int) -> dict[str, np.ndarray]:
    return {
        "cycle_strength": np.empty((N, S)),
        "final_entropy": np.empty((N, S)),
        "amplitude": np.empty((N, S)),
        "last_delta": np.empty((N, S)),
        "converged": np.empty((N, S), dtype=bool),
        "oscillating": np.empty((N, S), dtype=bool),
        "final_logpi": np.empty((N, S, K)),
    }


def _run_reference(plan, P, al, sc, la, lp0, ref, p0, rec, *, steps, burn_in, tol, window, amp_tol, inner_tol, max_iter):
    from verify.numerics.batch import BatchSolveError, make_step
    from verify.numerics.simulate import run_batch

    N, K = lp0.shape
    S = al.size
    out = _empty(N, S, K)
    traj = np.empty((len(rec), steps + 1, K)) if rec else None
    metric = dict(burn_in=burn_in, tol=tol, window=window, amp_tol=amp_tol)
    for s in range(S):
        def step_for(rows):
            return make_step(P[rows], _symbolic(plan.loss), al[s], la[s], ref[rows], p0[rows], scale=sc[s], B=len(rows), tol=inner_tol,
                             max_iter=max_iter)

        rows = np.arange(N)
        try:
            res = run_batch(step_for(rows), lp0, steps, **metric)
            mine = [j for j, (i, ss) in enumerate(rec) if ss == s]
            if mine:
                sub = np.array([rec[j][0] for j in mine])
                rres = run_batch(step_for(sub), lp0[sub], steps, record=True, **metric)
                for n, j in enumerate(mine):
                    traj[j] = rres.trajectory[:, n, :]
        except BatchSolveError as exc:
            raise NumericalFailure(f"setting {s} (alpha = {al[s]:g}, {plan.loss.scale_name} = {sc[s]:g}, lam = {la[s]:g}): {exc}") from None
        m = res.metrics
        out["cycle_strength"][:, s] = m["cycle_strength"]
        out["final_entropy"][:, s] = m["entropy"]
        out["amplitude"][:, s] = m["amplitude"]
        out["last_delta"][:, s] = m["final_delta"]
        out["converged"][:, s] = m["converged"]
        out["oscillating"][:, s] = m["oscillating"]
        out["final_logpi"][:, s, :] = res.logpi
    return GridResult(**out, engine="reference", trajectories=traj, record=rec, method=plan.method)


# ----------------------------------------------------------------------------- numpy engine


class _BlockMetrics:
    """The metrics of :class:`verify.numerics.metrics.StreamingMetrics` on a K-major block, in place."""

    def __init__(self, K: int, b: int, steps: int, burn_in: int, window: int):
        self.steps, self.burn_in = steps, burn_in
        W = max(1, min(window, steps))
        self.t_win = steps - W + 1
        self.h = W // 2
        self.s1 = np.zeros((K, b))
        self.s2 = np.zeros((K, b))
        self.shift = np.empty((K, b))
        self.tmp = np.empty((K, b))
        self.mx = np.empty((2, K, b))
        self.mn = np.empty((2, K, b))
        self.n = 0

    def update(self, t: int, pi: np.ndarray) -> None:
        if t > self.burn_in:
            tmp = self.tmp
            if t == self.burn_in + 1:
                self.shift[...] = pi
            np.subtract(pi, self.shift, out=tmp)
            self.s1 += tmp
            np.multiply(tmp, tmp, out=tmp)
            self.s2 += tmp
            self.n += 1
        if t >= self.t_win:
            i = t - self.t_win
            half = 0 if i < self.h else 1
            if i == 0 or i == self.h:
                self.mx[half] = pi
                self.mn[half] = pi
            else:
                np.maximum(self.mx[half], pi, out=self.mx[half])
                np.minimum(self.mn[half], pi, out=self.mn[half])

    def result(self, lp_old: np.ndarray, lp: np.ndarray, tol: float, amp_tol: float) -> dict[str, np.ndarray]:
        return _finish(self.s1, self.s2, self.n, self.mx[0], self.mn[0], self.mx[1], self.mn[1], self.h, lp_old, lp, tol, amp_tol)


def _finish(s1, s2, n, mx0, mn0, mx1, mn1, h, old, lp, tol, amp_tol):
    """The metrics of :meth:`verify.numerics.metrics.StreamingMetrics.result` from K-major sums and states."""
    n = max(n, 1)
    m1 = s1 / n
    var = np.maximum(s2 / n - m1 * m1, 0.0)
    cs = var.mean(axis=0)
    delta = np.maximum.reduce(np.abs(lp - old), axis=0)
    conv = delta <= tol
    amp1 = (mx0 - mn0).max(axis=0) if h > 0 else np.zeros(lp.shape[1])
    amp2 = (mx1 - mn1).max(axis=0)
    osc = (~conv) & (amp2 > amp_tol) & (amp2 >= 0.5 * amp1)
    return {"cycle_strength": cs, "final_entropy": entropy_from_log(lp, axis=0), "amplitude": amp2, "last_delta": delta,
            "converged": conv, "oscillating": osc}


def _default_block(K: int, method: str) -> int:
    if method == "closed":
        return int(max(16, min(2048, 2 ** 17 // (K * K))))
    return int(max(16, min(1024, 2 ** 16 // (K * K))))


def _run_numpy(plan, P, al, sc, la, lp0, ref, p0, rec, *, steps, burn_in, tol, window, amp_tol, inner_tol, max_iter, block):
    N, K = lp0.shape
    S = al.size
    R = N * S
    b = block or _default_block(K, plan.method)
    out = _empty(N, S, K)
    flat = {k: v.reshape((R,) + v.shape[2:]) for k, v in out.items()}
    traj = np.empty((len(rec), steps + 1, K)) if rec else None
    rec_rows = {i * S + s: j for j, (i, s) in enumerate(rec)}
    inv_b = plan.inv_b(sc)
    for r0 in range(0, R, b):
        rows = np.arange(r0, min(R, r0 + b))
        mi, si = rows // S, rows % S
        wanted = [(n, rec_rows[r]) for n, r in enumerate(rows) if r in rec_rows]
        args = (P[mi], al[si], la[si], inv_b[si], np.log(ref[mi]), p0[mi], lp0[mi])
        if plan.method == "closed":
            res, lp_block = _numpy_closed_block(plan, *args, steps=steps, burn_in=burn_in, window=window, tol=tol, amp_tol=amp_tol,
                                                traj=traj, wanted=wanted)
        else:
            res, lp_block = _numpy_solve_block(plan, *args, steps=steps, burn_in=burn_in, window=window, tol=tol, amp_tol=amp_tol,
                                               traj=traj, wanted=wanted, inner_tol=inner_tol, max_iter=max_iter, names=(mi, si))
        for k, v in res.items():
            flat[k][rows] = v
        flat["final_logpi"][rows] = lp_block.T
    return GridResult(**out, engine="numpy", trajectories=traj, record=rec, method=plan.method)


def _numpy_closed_block(plan, Pb, al, la, inv_b, logref, p0, lp0, *, steps, burn_in, window, tol, amp_tol, traj, wanted):
    """The quadratic-loss step on a K-major block, in the operation order of ``make_step``'s closed form.

    ``z = (P pi) (coef la) + ((1-al) log ref + coef (1-la) P p0) + al lp``, then normalised
    (``coef = c_f / b``), so this engine and the reference agree to the last bit.
    """
    b, K = lp0.shape
    coef = plan.gain * inv_b  # c_f / b
    PK = np.ascontiguousarray(Pb.transpose(1, 2, 0))  # (K, K, b)
    Pp0 = np.einsum("ijb,jb->ib", PK, np.ascontiguousarray(p0.T))
    base = np.ascontiguousarray((1 - al) * logref.T + coef * (1 - la) * Pp0)  # (K, b)
    gain = coef * la
    alr = np.ascontiguousarray(al)
    lp = np.ascontiguousarray(lp0.T)
    old = np.empty_like(lp)
    z = np.empty_like(lp)
    pi = np.exp(lp)
    mx = np.empty(b)
    s = np.empty(b)
    met = _BlockMetrics(K, b, steps, burn_in, window)
    small = K <= 8
    PJ = np.ascontiguousarray(PK.transpose(1, 0, 2))  # PJ[j] = P[:, j] as (K, b): z = sum_j PJ[j] pi[j], in order j = 0, 1, ...
    tmp = np.empty_like(lp)
    for n, j in wanted:
        traj[j, 0] = lp[:, n]
    for t in range(1, steps + 1):
        if small:
            np.multiply(PJ[0], pi[0], out=z)
            for j in range(1, K):
                np.multiply(PJ[j], pi[j], out=tmp)
                z += tmp
        else:
            z[...] = np.matmul(Pb, pi.T[:, :, None])[:, :, 0].T
        z *= gain
        z += base
        np.multiply(alr, lp, out=old)  # old is free here: it is rewritten below
        z += old
        np.maximum.reduce(z, axis=0, out=mx)
        z -= mx
        np.exp(z, out=pi)
        np.add.reduce(pi, axis=0, out=s)
        np.log(s, out=mx)
        z -= mx
        pi /= s
        old, lp, z = lp, z, old  # rotate the buffers: old = previous state, lp = new state
        met.update(t, pi)
        for n, j in wanted:
            traj[j, t] = lp[:, n]
    return met.result(old, lp, tol, amp_tol), lp


def _numpy_solve_block(plan, Pb, al, la, inv_b, logref, p0, lp0, *, steps, burn_in, window, tol, amp_tol, traj, wanted,
                       inner_tol, max_iter, names):
    """Any other loss: ``x* = argmin`` by :func:`verify.numerics.batch.solve_batch`, warm-started like ``make_step``."""
    from verify.numerics.batch import solve_batch

    b, K = lp0.shape
    lp = np.ascontiguousarray(lp0.T)
    x_prev = None
    met = _BlockMetrics(K, b, steps, burn_in, window)
    laC, alC, ibC = la[:, None], al[:, None], inv_b[:, None]
    base = (1 - alC) * logref
    for n, j in wanted:
        traj[j, 0] = lp[:, n]
    old = lp
    for t in range(1, steps + 1):
        lpr = lp.T
        mu = laC * np.exp(lpr) + (1 - laC) * p0
        x, ok = solve_batch(Pb, mu, plan.loss, x_prev, tol=inner_tol, max_iter=max_iter)
        if not ok.all():
            bad = int(np.flatnonzero(~ok)[0])
            mi, si = names
            raise NumericalFailure(
                f"inner solve for the {plan.label} loss did not converge (|G_k| > {inner_tol:g} (1 + T_k)) at step {t} for matrix "
                f"{int(mi[bad])}, setting {int(si[bad])} ({int((~ok).sum())} rows in its block failed); try a larger max_iter"
            )
        x_prev = x
        z = alC * lpr + base + x * ibC
        zm = z.max(axis=1, keepdims=True)
        new = z - (zm + np.log(np.exp(z - zm).sum(axis=1, keepdims=True)))
        old, lp = lp, np.ascontiguousarray(new.T)
        met.update(t, np.exp(lp))
        for n, j in wanted:
            traj[j, t] = lp[:, n]
    return met.result(old, lp, tol, amp_tol), lp


# ----------------------------------------------------------------------------- numba engine
#
# The ``_nb_*`` functions below are plain Python (numba is optional); :func:`_compiled` turns each into
# its compiled version (``numba.njit(cache=True)``) and binds it under the same module name, helpers
# first, so the kernels that call them by name get the compiled helpers. Nothing here runs as Python
# in practice: the loops are written for the compiler (small K-major work arrays, no allocation in
# the loops, the rows of a block in the innermost loop so that everything but ``exp`` vectorises).


def _nb_closed(P, S, al, la, coef, logref, p0, lp0, steps, burn_in, t_win, h, blk, r0, rec_idx, traj,
               s1o, s2o, mx0o, mn0o, mx1o, mn1o, old_o, final):
    """The quadratic-loss MRS step for rows ``r = i S + s``, blocks of ``blk`` rows, metrics accumulated in the loop.

    The operation order is that of the numpy engine (and of ``make_step``'s closed form):
    ``z = (P pi) (coef la) + ((1-al) log ref + coef (1-la) P p0) + al lp``, ``z -= max``,
    ``pi = exp(z) / sum``, ``lp = z - log(sum)``. A row whose state ``(lp, pi)`` a step leaves
    unchanged, bit for bit, is a fixed point of the map: its later steps are not recomputed (their
    metric updates are). Rows ``r0 .. r0 + len(final) - 1``; writes their metric sums and last two states.
    """
    R = final.shape[0]
    K = P.shape[1]
    PB = np.empty((K, K, blk)) if K <= 16 else np.empty((0, 0, 0))
    PT = np.empty((blk, K, K)) if K > 16 else np.empty((0, 0, 0))
    base = np.empty((K, blk))
    W = np.empty((12, K, blk))
    lp, old, z, pi, e, shift, s1, s2, mx0, mn0, mx1, mn1 = (W[0], W[1], W[2], W[3], W[4], W[5], W[6], W[7], W[8], W[9], W[10],
                                                           W[11])
    gain = np.empty(blk)
    alb = np.empty(blk)
    m = np.empty(blk)
    ssum = np.empty(blk)
    act = np.empty(blk, dtype=np.int64)
    for b0 in range(0, R, blk):
        nb = min(blk, R - b0)
        for n in range(nb):
            r = b0 + n
            i = (r0 + r) // S
            s = r0 + r - i * S
            c = coef[s]
            gain[n] = c * la[s]
            alb[n] = al[s]
            cp = c * (1.0 - la[s])
            for a in range(K):
                acc = 0.0
                for j in range(K):
                    if K <= 16:
                        PB[a, j, n] = P[i, a, j]
                    else:
                        PT[n, j, a] = P[i, a, j]
                    acc += P[i, a, j] * p0[i, j]
                base[a, n] = (1.0 - al[s]) * logref[i, a] + cp * acc
                lp[a, n] = lp0[i, a]
                old[a, n] = lp0[i, a]
                pi[a, n] = math.exp(lp0[i, a])
                s1[a, n] = 0.0
                s2[a, n] = 0.0
            act[n] = n
            if rec_idx[r] >= 0:
                for a in range(K):
                    traj[rec_idx[r], 0, a] = lp[a, n]
        nact = nb
        for t in range(1, steps + 1):
            # the step, for the rows not at a fixed point
            if K <= 16:  # dot products, rows innermost
                for a in range(K):
                    for q in range(nact):
                        n = act[q]
                        acc = PB[a, 0, n] * pi[0, n]
                        for j in range(1, K):
                            acc += PB[a, j, n] * pi[j, n]
                        z[a, n] = acc * gain[n] + base[a, n] + alb[n] * lp[a, n]
            else:  # the same sums as column updates (no chain of dependent additions; PT[n, j, a] = P[a, j])
                for q in range(nact):
                    n = act[q]
                    p0n = pi[0, n]
                    for a in range(K):
                        z[a, n] = PT[n, 0, a] * p0n
                    for j in range(1, K):
                        pj = pi[j, n]
                        for a in range(K):
                            z[a, n] += PT[n, j, a] * pj
                    for a in range(K):
                        z[a, n] = z[a, n] * gain[n] + base[a, n] + alb[n] * lp[a, n]
            for q in range(nact):
                n = act[q]
                mq = z[0, n]
                for a in range(1, K):
                    if z[a, n] > mq:
                        mq = z[a, n]
                m[n] = mq
            for a in range(K):
                for q in range(nact):
                    n = act[q]
                    za = z[a, n] - m[n]
                    z[a, n] = za
                    e[a, n] = 1.0 if za == 0.0 else math.exp(za)  # exp(0) = 1 exactly: the largest logit costs nothing
            for q in range(nact):
                n = act[q]
                sq = e[0, n]
                for a in range(1, K):
                    sq += e[a, n]
                ssum[n] = sq
                m[n] = math.log(sq)
            keep = 0
            for q in range(nact):
                n = act[q]
                same = True
                for a in range(K):
                    za = z[a, n] - m[n]
                    ea = e[a, n] / ssum[n]
                    if za != lp[a, n] or ea != pi[a, n]:
                        same = False
                    old[a, n] = lp[a, n]
                    lp[a, n] = za
                    pi[a, n] = ea
                if not same:
                    act[keep] = n
                    keep += 1
                else:  # a fixed point: later steps leave it unchanged
                    for a in range(K):
                        old[a, n] = lp[a, n]
            nact = keep
            # metrics (StreamingMetrics.update), every row
            if t > burn_in:
                if t == burn_in + 1:
                    for a in range(K):
                        for n in range(nb):
                            shift[a, n] = pi[a, n]
                for a in range(K):
                    for n in range(nb):
                        d = pi[a, n] - shift[a, n]
                        s1[a, n] += d
                        s2[a, n] += d * d
            if t >= t_win:
                iw = t - t_win
                mx, mn = (mx0, mn0) if iw < h else (mx1, mn1)
                if iw == 0 or iw == h:
                    for a in range(K):
                        for n in range(nb):
                            mx[a, n] = pi[a, n]
                            mn[a, n] = pi[a, n]
                else:
                    for a in range(K):
                        for n in range(nb):
                            mx[a, n] = max(mx[a, n], pi[a, n])
                            mn[a, n] = min(mn[a, n], pi[a, n])
            for n in range(nb):
                ri = rec_idx[b0 + n]
                if ri >= 0:
                    for a in range(K):
                        traj[ri, t, a] = lp[a, n]
        for n in range(nb):
            r = b0 + n
            for a in range(K):
                s1o[r, a] = s1[a, n]
                s2o[r, a] = s2[a, n]
                mx0o[r, a] = mx0[a, n]
                mn0o[r, a] = mn0[a, n]
                mx1o[r, a] = mx1[a, n]
                mn1o[r, a] = mn1[a, n]
                old_o[r, a] = old[a, n]
                final[r, a] = lp[a, n]
    return 0


def _nb_pair_logistic(d):
    """``(f'(d), f'(-d), f''(d), f''(-d))`` of the logistic ``f(x) = log(1 + e^{-x})``, from one ``exp(-|d|)``."""
    e = math.exp(-abs(d))
    r = 1.0 / (1.0 + e)
    if d >= 0.0:
        sp = r  # expit(d)
        sm = e * r  # expit(-d)
    else:
        sp = e * r
        sm = r
    c = sm * sp
    return -sm, -sp, c, c


def _nb_terms(kind, pair, out, Pr, mu, x, G, T, F1, F2):
    """``G``, ``T`` (as in :func:`verify.numerics.batch.solve_batch`) at ``x``; ``F1 = f'(x_k - x_j)``, ``F2 = f''``.

    ``kind`` 0: the logistic (one ``exp`` per pair); 1: ``pair(d, out)`` writes ``f'(d), f'(-d), f''(d), f''(-d)``
    into ``out`` (a compiled C callback). Returns ``(max_k |G_k| / (1 + T_k), G . G)``; ``inf`` when a value is not finite.
    """
    K = x.shape[0]
    if kind == 0:
        a0, c0 = -0.5, 0.25
    else:
        pair(0.0, out.ctypes)
        a0, c0 = out[0], out[2]
    for k in range(K):
        F1[k, k] = a0
        F2[k, k] = c0
        for j in range(k + 1, K):
            d = x[k] - x[j]
            if kind == 0:
                a, b, c, e = _nb_pair_logistic(d)
            else:
                pair(d, out.ctypes)
                a, b, c, e = out[0], out[1], out[2], out[3]
            F1[k, j] = a
            F1[j, k] = b
            F2[k, j] = c
            F2[j, k] = e
    res = 0.0
    phi = 0.0
    for k in range(K):
        g = 0.0
        tt = 0.0
        for j in range(K):
            a = Pr[k, j] * F1[k, j]
            c = (1.0 - Pr[k, j]) * F1[j, k]
            g += (a - c) * mu[j]
            tt += (abs(a) + abs(c)) * mu[j]
        G[k] = g
        T[k] = tt
        q = abs(g) / (1.0 + tt)
        if not (q <= res):
            res = q if q == q else np.inf
        phi += g * g
    if not (phi < np.inf):
        res = np.inf
    return res, phi


def _nb_solve_pinned(A, rhs, p, dx, M, v):
    """``A dx = rhs`` with ``dx_p = 0`` and the equation of ``p`` left out (Gaussian elimination, partial pivoting)."""
    K = rhs.shape[0]
    n = K - 1
    for a in range(n):
        ka = a if a < p else a + 1
        v[a] = rhs[ka]
        for b in range(n):
            kb = b if b < p else b + 1
            M[a, b] = A[ka, kb]
    for c in range(n):
        piv = c
        big = abs(M[c, c])
        for a in range(c + 1, n):
            if abs(M[a, c]) > big:
                big = abs(M[a, c])
                piv = a
        if piv != c:
            for b in range(n):
                M[c, b], M[piv, b] = M[piv, b], M[c, b]
            v[c], v[piv] = v[piv], v[c]
        d = M[c, c]
        for a in range(c + 1, n):
            f = M[a, c] / d
            if f != 0.0:
                for b in range(c + 1, n):
                    M[a, b] -= f * M[c, b]
                v[a] -= f * v[c]
    for c in range(n - 1, -1, -1):
        acc = v[c]
        for b in range(c + 1, n):
            acc -= M[c, b] * v[b]
        v[c] = acc / M[c, c]
    for a in range(n):
        dx[a if a < p else a + 1] = v[a]
    dx[p] = 0.0


def _nb_newton(kind, pair, out, Pr, mu, x, warm, has_gain, gain, tol, max_iter, max_step,
               G, T, F1, F2, xc, dx, Gc, Tc, A, M, v, G2, T2, F1b, F2b):
    """Newton on ``G(x; mu) = 0`` (``K - 1`` free coordinates), the algorithm of ``solve_batch``.

    ``x`` holds the warm start (the previous step's centred optimum) when ``warm``; on return it holds
    the centred solution. If the warm start's residual already meets ``tol`` it is the answer; else
    Newton starts from it, or, when its residual exceeds ``1e-3`` (a far start), from the better of it
    and the linearisation ``x = c_f P mu`` (``solve_batch`` always compares the two; from either start
    the final Newton step leaves an error far below ``tol``, so the optima agree to rounding).
    A warm start that fails is retried from the linearisation. Returns ``(ok, iterations)``.
    """
    K = x.shape[0]
    p = np.argmax(mu)
    total = 0
    for attempt in range(2):
        use_warm = warm and attempt == 0
        res = np.inf
        phi = 0.0
        if use_warm:
            x0p = x[p]
            for k in range(K):
                xk = x[k]
                x[k] = (xk if xk == xk and abs(xk) < np.inf else 0.0) - x0p
            res, phi = _nb_terms(kind, pair, out, Pr, mu, x, G, T, F1, F2)
        if not (res <= 1e-3):
            # the linearisation at 0 (exact for a quadratic f), or 0
            for k in range(K):
                acc = 0.0
                if has_gain:
                    for j in range(K):
                        acc += Pr[k, j] * mu[j]
                xc[k] = gain * acc
            c0 = xc[p]
            for k in range(K):
                xc[k] -= c0
            rc, phc = _nb_terms(kind, pair, out, Pr, mu, xc, G2, T2, F1b, F2b)
            if not (use_warm and res < rc):
                res, phi = rc, phc
                for k in range(K):
                    x[k] = xc[k]
                    G[k] = G2[k]
                    T[k] = T2[k]
                    for j in range(K):
                        F1[k, j] = F1b[k, j]
                        F2[k, j] = F2b[k, j]
        it = 0
        while not (res <= tol) and res < np.inf and it < max_iter:
            it += 1
            # A_km = -mu_m g'(x_k - x_m; P_km), rows summing to 0
            for k in range(K):
                diag = 0.0
                for m in range(K):
                    if m != k:
                        a = -(Pr[k, m] * F2[k, m] + (1.0 - Pr[k, m]) * F2[m, k]) * mu[m]
                        A[k, m] = a
                        diag -= a
                A[k, k] = diag
                Gc[k] = -G[k]
            _nb_solve_pinned(A, Gc, p, dx, M, v)
            big = 0.0
            for k in range(K):
                if not (abs(dx[k]) < np.inf):
                    dx[k] = 0.0
                big = max(big, abs(dx[k]))
            if big > max_step:
                sc = max_step / big
                for k in range(K):
                    dx[k] *= sc
            t = 1.0
            accepted = False
            for ls in range(41):
                if ls > 0:
                    t *= 0.5
                for k in range(K):
                    xc[k] = x[k] + t * dx[k] if ls > 0 else x[k] + dx[k]
                rc, phc = _nb_terms(kind, pair, out, Pr, mu, xc, Gc, Tc, F1b, F2b)
                if phc <= (1.0 - 1e-4 * t) * phi:
                    accepted = True
                    break
            if not accepted:
                break  # stalled
            res, phi = rc, phc
            for k in range(K):
                x[k] = xc[k]
                G[k] = Gc[k]
                T[k] = Tc[k]
                for j in range(K):
                    F1[k, j] = F1b[k, j]
                    F2[k, j] = F2b[k, j]
        total += it
        if res <= tol:
            mean = 0.0
            for k in range(K):
                mean += x[k]
            mean /= K
            for k in range(K):
                x[k] -= mean
            return True, total
        if not use_warm:
            return False, total
    return False, total


def _nb_smooth(kind, pair, P, S, al, la, inv_b, logref, p0, lp0, steps, burn_in, t_win, h, has_gain, gain, tol, max_iter,
               r0, rec_idx, traj, s1o, s2o, mx0o, mn0o, mx1o, mn1o, old_o, final, fail, iters):
    """The MRS step of a smooth loss (Newton per row and step, warm-started), metrics accumulated in the loop.

    One row at a time (the state, the optimum and the metric sums stay in a few small arrays).
    A row whose state is a bit-for-bit fixed point of the step (the state and the optimum unchanged
    by a step) stays there: its later steps are not recomputed, their metric updates still are.
    Rows ``r0 .. r0 + len(final) - 1``. Returns -1, or the first failing row (``r0`` not added; ``fail[0]`` its step).
    """
    R = final.shape[0]
    K = P.shape[1]
    V = np.empty((8, K))
    G, T, xc, dx, Gc, Tc, G2, T2 = V[0], V[1], V[2], V[3], V[4], V[5], V[6], V[7]
    Q = np.empty((5, K, K))
    F1, F2, A, F1b, F2b = Q[0], Q[1], Q[2], Q[3], Q[4]
    M = np.empty((K - 1, K - 1))
    v = np.empty(K - 1)
    out = np.empty(4)
    Pr = np.empty((K, K))
    mu = np.empty(K)
    x = np.empty(K)
    xprev = np.empty(K)
    lp = np.empty(K)
    old = np.empty(K)
    z = np.empty(K)
    e = np.empty(K)
    pi = np.empty(K)
    shift = np.empty(K)
    s1 = np.empty(K)
    s2 = np.empty(K)
    mx0 = np.empty(K)
    mn0 = np.empty(K)
    mx1 = np.empty(K)
    mn1 = np.empty(K)
    for r in range(R):
        i = (r0 + r) // S
        s = r0 + r - i * S
        a_ = al[s]
        l_ = la[s]
        ib = inv_b[s]
        for k in range(K):
            for j in range(K):
                Pr[k, j] = P[i, k, j]
            lp[k] = lp0[i, k]
            pi[k] = math.exp(lp0[i, k])
            s1[k] = 0.0
            s2[k] = 0.0
            x[k] = 0.0
        ri = rec_idx[r]
        if ri >= 0:
            for k in range(K):
                traj[ri, 0, k] = lp[k]
        frozen = False
        for t in range(1, steps + 1):
            if not frozen:
                for k in range(K):
                    mu[k] = l_ * pi[k] + (1.0 - l_) * p0[i, k]
                    xprev[k] = x[k]
                ok, it = _nb_newton(kind, pair, out, Pr, mu, x, t > 1, has_gain, gain, tol, max_iter, 8.0,
                                    G, T, F1, F2, xc, dx, Gc, Tc, A, M, v, G2, T2, F1b, F2b)
                iters[r] += it
                if not ok:
                    fail[0] = t
                    return r
                zm = -np.inf
                for k in range(K):
                    z[k] = a_ * lp[k] + (1.0 - a_) * logref[i, k] + x[k] * ib
                    zm = max(zm, z[k])
                ssum = 0.0
                for k in range(K):
                    d = z[k] - zm
                    e[k] = 1.0 if d == 0.0 else math.exp(d)
                    ssum += e[k]
                lse = zm + math.log(ssum)
                same = t > 1
                for k in range(K):
                    old[k] = lp[k]
                    lp[k] = z[k] - lse
                    pk = e[k] / ssum
                    if lp[k] != old[k] or x[k] != xprev[k] or pk != pi[k]:
                        same = False
                    pi[k] = pk
                frozen = same
            else:
                for k in range(K):
                    old[k] = lp[k]
            if t > burn_in:
                if t == burn_in + 1:
                    for k in range(K):
                        shift[k] = pi[k]
                for k in range(K):
                    d = pi[k] - shift[k]
                    s1[k] += d
                    s2[k] += d * d
            if t >= t_win:
                iw = t - t_win
                if iw == 0 or iw == h:
                    if iw < h:
                        for k in range(K):
                            mx0[k] = pi[k]
                            mn0[k] = pi[k]
                    else:
                        for k in range(K):
                            mx1[k] = pi[k]
                            mn1[k] = pi[k]
                elif iw < h:
                    for k in range(K):
                        mx0[k] = max(mx0[k], pi[k])
                        mn0[k] = min(mn0[k], pi[k])
                else:
                    for k in range(K):
                        mx1[k] = max(mx1[k], pi[k])
                        mn1[k] = min(mn1[k], pi[k])
            if ri >= 0:
                for k in range(K):
                    traj[ri, t, k] = lp[k]
        for k in range(K):
            s1o[r, k] = s1[k]
            s2o[r, k] = s2[k]
            mx0o[r, k] = mx0[k]
            mn0o[r, k] = mn0[k]
            mx1o[r, k] = mx1[k]
            mn1o[r, k] = mn1[k]
            old_o[r, k] = old[k]
            final[r, k] = lp[k]
    return -1


#: The functions :func:`_compiled` compiles, callees first.
_NB_FUNCTIONS = ("_nb_pair_logistic", "_nb_terms", "_nb_solve_pinned", "_nb_newton", "_nb_smooth", "_nb_closed")


@lru_cache(maxsize=1)
def _compiled() -> Any:
    """Compile the ``_nb_*`` functions (once per process; numba's on-disk cache spares the recompilation)."""
    import numba

    g = globals()
    for name in _NB_FUNCTIONS:
        g[name] = numba.njit(cache=True, fastmath=False, nogil=True)(g[name])
    return numba


#: The signature of a loss's compiled pair callback ``pair(d, out)``: ``out[:4] = f'(d), f'(-d), f''(d), f''(-d)``
#: (a first-class function: the smooth kernel is compiled once for every loss).
_PAIR_SIG = "void(float64, CPointer(float64))"


def _nb_no_pair(d, out):
    pass


@lru_cache(maxsize=16)
def _loss_functions(lossobj: Any) -> tuple:
    """``(kind, pair)`` for the smooth kernel: kind 0 is the logistic (computed in the kernel, one ``exp`` per pair);
    kind 1 compiles ``f'`` and ``f''`` of the bridge (stable forms) into one C callback for ``d`` and ``-d``
    (the compiler shares their common subexpressions: one ``exp`` per pair for a logistic part)."""
    import sympy

    from verify.numerics.bridge import expit, loss_functions

    numba = _compiled()
    fn = loss_functions(lossobj)
    fp, fpp = fn.exprs["fp"], fn.exprs["fpp"]
    xs = sorted(fp.free_symbols | fpp.free_symbols, key=str)
    if len(xs) > 1:
        raise InputError(f"the {lossobj.name} loss's f' has symbols other than x: {xs}")
    x = xs[0] if xs else sympy.Symbol("x", real=True)
    if fp == -expit(-x) and sympy.expand(fpp - expit(x) * expit(-x)) == 0:
        return 0, numba.cfunc(_PAIR_SIG, cache=True)(_nb_no_pair)
    space = {"expit": numba.njit(_nb_expit), "softplus": numba.njit(_nb_softplus)}
    fp_c = numba.njit(sympy.lambdify(x, fp, modules=[space, "math"]))
    fpp_c = numba.njit(sympy.lambdify(x, fpp, modules=[space, "math"]))
    carray = numba.carray

    def pair(d, ptr):
        out = carray(ptr, 4)
        out[0] = fp_c(d)
        out[1] = fp_c(-d)
        out[2] = fpp_c(d)
        out[3] = fpp_c(-d)

    return 1, numba.cfunc(_PAIR_SIG)(pair)


def _nb_expit(u):
    e = math.exp(-abs(u))
    return 1.0 / (1.0 + e) if u >= 0 else e / (1.0 + e)


def _nb_softplus(u):
    return u + math.log1p(math.exp(-u)) if u > 0 else math.log1p(math.exp(u))


def _run_numba(plan, P, al, sc, la, lp0, ref, p0, rec, *, steps, burn_in, tol, window, amp_tol, inner_tol, max_iter, block):
    _compiled()
    N, K = lp0.shape
    S = al.size
    R = N * S
    W = max(1, min(window, steps))
    t_win, h = steps - W + 1, W // 2
    inv_b = plan.inv_b(sc)
    logref = np.log(ref)
    rec_idx = np.full(R, -1, dtype=np.int64)
    for j, (i, s) in enumerate(rec):
        rec_idx[i * S + s] = j
    traj = np.empty((max(len(rec), 1), steps + 1, K))
    out = _empty(N, S, K)
    flat = {k: v.reshape((R,) + v.shape[2:]) for k, v in out.items()}
    chunk = max(64, 2 ** 20 // K)  # rows per call: eight (chunk, K) buffers of 64 MiB at most
    if plan.method == "closed":
        coef = plan.gain * inv_b
        blk = block or (64 if K <= 16 else 1)
    else:
        kind, pair = _loss_functions(plan.loss)
        fail = np.zeros(1, dtype=np.int64)
        iters = np.zeros(min(chunk, R), dtype=np.int64)
        has_gain, gain = plan.gain is not None, float(plan.gain or 0.0)
    bufs = [np.empty((min(chunk, R), K)) for _ in range(8)]
    for r0 in range(0, R, chunk):
        n = min(chunk, R - r0)
        b = [x[:n] for x in bufs]
        if plan.method == "closed":
            _nb_closed(P, S, al, la, coef, logref, p0, lp0, steps, burn_in, t_win, h, blk, r0, rec_idx[r0 : r0 + n], traj, *b)
        else:
            bad = _nb_smooth(kind, pair, P, S, al, la, inv_b, logref, p0, lp0, steps, burn_in, t_win, h, has_gain, gain, inner_tol,
                             max_iter, r0, rec_idx[r0 : r0 + n], traj, *b, fail, iters[:n])
            if bad >= 0:
                row = r0 + int(bad)
                raise NumericalFailure(
                    f"inner solve for the {plan.label} loss did not converge (|G_k| > {inner_tol:g} (1 + T_k)) at step {int(fail[0])} "
                    f"for matrix {row // S}, setting {row % S}; try a larger max_iter"
                    + ("" if kind == 0 else ", or engine 'numpy' (it recomputes a non-finite f' in mpmath)")
                )
        s1, s2, mx0, mn0, mx1, mn1, old, final = (np.ascontiguousarray(x.T) for x in b)
        res = _finish(s1, s2, steps - burn_in, mx0, mn0, mx1, mn1, h, old, final, tol, amp_tol)
        for k, v in res.items():
            flat[k][r0 : r0 + n] = v
        flat["final_logpi"][r0 : r0 + n] = b[7]
    return GridResult(**out, engine="numba", trajectories=traj if rec else None, record=rec, method=plan.method)
