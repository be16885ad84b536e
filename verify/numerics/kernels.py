r"""Grid runs of the MRS dynamics: many matrices x many settings, 3,000 steps, metrics on, fast.

:func:`run_grid` iterates the MRS step of any loss of the family (the step of
:func:`verify.numerics.batch.make_step`) for every matrix ``P[i]`` and every setting
``s = (alpha[s], scale[s], lam[s])``, from the start ``starts[i]`` (the same for every setting of a
matrix), and returns the metrics of :mod:`verify.numerics.metrics` per (matrix, setting) as a
:class:`GridResult`: cycle strength, final entropy, amplitude, last move, converged, oscillating,
the final log-policy, and the recorded trajectories asked for. It never stores a trajectory it
was not asked for, and works through the ``N * S`` trajectories in blocks of rows, so memory and the
cost per trajectory do not grow with the number of settings.

Engines (``engine=``):

* ``"reference"`` — :func:`verify.numerics.batch.make_step` + :func:`verify.numerics.simulate.run_batch`,
  one setting at a time (the definition the others are tested against);
* ``"numpy"`` — the same step on K-major buffers, blocked over rows, metrics accumulated in
  place. A quadratic ``f`` (IPO) takes the closed form ``log pi' = alpha log pi + (1-alpha) log pi_ref
  + (c_f / b) P mu`` (normalised); any other loss the inner solve of
  :func:`verify.numerics.batch.solve_batch` (Newton, warm-started from the previous step's optimum;
  exact enumeration for a piecewise-linear ``f``);
* ``"numba"`` — a compiled, fused loop per row (state and metrics in registers): the closed form
  for a quadratic ``f``; for a smooth ``f`` a Newton solve on the ``K - 1`` free coordinates per step,
  warm-started from the previous step's ``x``, with the convergence criterion of
  :func:`verify.numerics.batch.solve_batch` (``|G_k| <= tol (1 + T_k)`` for every ``k``). numba is
  optional and imported only when this engine is used;
* ``"auto"`` — ``"numba"`` when numba is importable and the loss is quadratic or smooth, else ``"numpy"``.

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

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import numpy as np

from verify.exact.objects import InputError, NumericalFailure
from verify.numerics.metrics import entropy_from_log

__all__ = ["ENGINES", "GridResult", "run_grid", "numba_available", "engine_for"]

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
    import sympy  # symbolic work: only here

    from verify.numerics.batch import method_for

    method = method_for(lossobj)
    s = sympy.Symbol("s", positive=True)
    inv_b_fn = sympy.lambdify(s, sympy.simplify(1 / lossobj.b_of(s)), "numpy")

    def inv_b(v: np.ndarray) -> np.ndarray:
        return np.asarray(inv_b_fn(np.asarray(v, dtype=float)), dtype=float) * np.ones_like(v, dtype=float)

    gain = None if lossobj.gain is None else float(lossobj.gain)
    return _Plan(lossobj, method, gain, inv_b, lossobj.title or lossobj.name)


def _plan(loss: Any) -> _Plan:
    from verify.numerics.batch import as_loss

    return _plan_cached(as_loss(loss))


@lru_cache(maxsize=1)
def numba_available() -> bool:
    """Whether numba can be imported (the compiled engine is optional)."""
    try:
        import numba  # noqa: F401
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
        return "numpy"
    if engine == "numba":
        raise InputError("engine 'numba' is not available yet; use engine 'numpy'")
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
    if arr.ndim != 3 or arr.shape[1] != arr.shape[2] or arr.shape[1] < 2 or arr.shape[0] < 1:
        raise InputError(f"P must be (N, K, K) with N >= 1 and K >= 2, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        b = int(np.argmax(~np.isfinite(arr).all(axis=(1, 2))))
        raise InputError(f"P[{b}] has non-finite entries")
    bad = (arr < -1e-9) | (arr > 1 + 1e-9) | (np.abs(arr + np.swapaxes(arr, 1, 2) - 1) > 1e-9)
    if bad.any():
        b, i, j = (int(v) for v in np.argwhere(bad)[0])
        raise InputError(
            f"P[{b}]: P[{i},{j}] = {arr[b, i, j]:.12g}, P[{j},{i}] = {arr[b, j, i]:.12g}; expected entries in [0, 1] with P[i,j] + P[j,i] = 1"
        )
    return np.ascontiguousarray(np.clip(arr, 0.0, 1.0))


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
        a = np.ascontiguousarray(np.broadcast_to(a, (S,)))
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
    return np.ascontiguousarray(np.broadcast_to(arr, (N, K)))


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
    return np.ascontiguousarray(_normalise(arr))


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
            return make_step(P[rows], plan.loss, al[s], la[s], ref[rows], p0[rows], scale=sc[s], B=len(rows), tol=inner_tol,
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
        n = max(self.n, 1)
        m1 = self.s1 / n
        var = np.maximum(self.s2 / n - m1 * m1, 0.0)
        cs = var.mean(axis=0)
        delta = np.maximum.reduce(np.abs(lp - lp_old), axis=0)
        conv = delta <= tol
        amp1 = (self.mx[0] - self.mn[0]).max(axis=0) if self.h > 0 else np.zeros(lp.shape[1])
        amp2 = (self.mx[1] - self.mn[1]).max(axis=0)
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
    tmp = np.empty(b)
    mx = np.empty(b)
    s = np.empty(b)
    met = _BlockMetrics(K, b, steps, burn_in, window)
    small = K <= 8
    for n, j in wanted:
        traj[j, 0] = lp[:, n]
    for t in range(1, steps + 1):
        if small:
            for i in range(K):
                zi = z[i]
                np.multiply(PK[i, 0], pi[0], out=zi)
                for j in range(1, K):
                    np.multiply(PK[i, j], pi[j], out=tmp)
                    zi += tmp
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
