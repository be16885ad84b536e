"""Metrics on trajectories of policy dynamics: streaming (batched) and on recorded trajectories.

Definitions (every choice is an explicit option, docs/claims.md §5):

* **cycle strength** — the time-averaged variance of the policy coordinates: for each
  coordinate ``k`` the population variance (``ddof = 0``) of ``pi_t[k]`` over the states
  ``t = burn_in + 1, ..., T`` (the states after each step, the first ``burn_in`` discarded),
  then averaged over ``k`` (``reduce="mean"``, default) or summed (``reduce="sum"``).
* **final entropy** — Shannon entropy (nats) of ``pi_T``, computed from log-probabilities
  as ``-sum exp(l) l`` (no ``0 * log 0`` NaN).
* **convergence** — ``delta_t = max_k |log pi_t[k] - log pi_{t-1}[k]|``; a trajectory has
  *converged* when ``delta_T <= tol``; ``converged_at`` is the first state ``t`` from which every
  later step moves by at most ``tol`` (the last step whose move exceeded ``tol``; ``0`` if none
  did; ``-1`` if not converged).
* **oscillation** — over the last ``window`` states: ``amplitude`` = max over ``k`` of
  ``max_t pi_t[k] - min_t pi_t[k]`` in the *second* half of the window; the trajectory
  *oscillates* when it has not converged, the amplitude exceeds ``amp_tol`` and the amplitude
  did not decay by more than half from the first half of the window to the second
  (persistence). ``period`` is estimated from the dominant FFT frequency of the projection
  ``g_t = <pi_t, w>`` (``w`` a fixed centered vector) over the window, refined by parabolic
  interpolation (``nan`` when not oscillating).

>>> import numpy as np
>>> t = np.arange(400)
>>> round(period_estimate(np.cos(2 * np.pi * t / 7.3)), 2)
7.3
>>> entropy_from_log(np.log(np.array([[0.5, 0.5]])))
array([0.69314718])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "entropy_from_log",
    "cycle_strength",
    "convergence_time",
    "period_estimate",
    "oscillation",
    "projection_vector",
    "StreamingMetrics",
    "trajectory_metrics",
]


def entropy_from_log(logpi: np.ndarray, axis: int = -1) -> np.ndarray:
    """Shannon entropy (nats) from normalised log-probabilities (``-inf`` entries count 0)."""
    lp = np.asarray(logpi, dtype=float)
    p = np.exp(lp)
    with np.errstate(invalid="ignore"):
        terms = np.where(p > 0, p * lp, 0.0)
    return -terms.sum(axis=axis) + 0.0  # + 0.0 turns -0.0 into 0.0


def cycle_strength(traj: np.ndarray, burn_in: int = 0, reduce: str = "mean") -> np.ndarray:
    """Time-averaged variance of policy coordinates of a recorded trajectory ``(T+1, B, K)`` or ``(T+1, K)``.

    Uses the states ``t = burn_in + 1 .. T`` (``traj[0]`` is the start).
    """
    x = np.asarray(traj, dtype=float)[burn_in + 1 :]
    if x.shape[0] == 0:
        raise ValueError(f"burn_in = {burn_in} leaves no states (trajectory has {traj.shape[0] - 1} steps)")
    v = x.var(axis=0)
    if reduce == "mean":
        return v.mean(axis=-1)
    if reduce == "sum":
        return v.sum(axis=-1)
    raise ValueError(f"reduce = {reduce!r}, expected 'mean' or 'sum'")


def convergence_time(log_traj: np.ndarray, tol: float = 1e-10) -> np.ndarray:
    """First state ``t`` from which every step moves log-probabilities by at most ``tol`` (``-1``: not converged)."""
    lt = np.asarray(log_traj, dtype=float)
    d = np.abs(np.diff(lt, axis=0)).max(axis=-1)  # (T, ...)
    T = d.shape[0]
    above = d > tol
    last = np.where(above.any(axis=0), T - 1 - np.argmax(above[::-1], axis=0), -1)
    conv = ~above[-1]
    return np.where(conv, last + 1, -1)


def period_estimate(series: np.ndarray) -> float:
    """Dominant period of a 1-d series (FFT peak with parabolic interpolation); ``nan`` if flat."""
    g = np.asarray(series, dtype=float)
    g = g - g.mean()
    n = g.size
    if n < 4 or not np.any(np.abs(g) > 0):
        return float("nan")
    spec = np.abs(np.fft.rfft(g * np.hanning(n))) ** 2
    spec[0] = 0.0
    k = int(np.argmax(spec))
    if k == 0:
        return float("nan")
    shift = 0.0
    if 0 < k < spec.size - 1:
        a, b, c = np.log(spec[k - 1] + 1e-300), np.log(spec[k] + 1e-300), np.log(spec[k + 1] + 1e-300)
        den = a - 2 * b + c
        if den != 0:
            shift = 0.5 * (a - c) / den
    return float(n / (k + shift))


def oscillation(traj: np.ndarray, window: int = 512, amp_tol: float = 1e-6, tol: float = 1e-10, w: np.ndarray | None = None) -> dict:
    """Oscillation detection on a recorded trajectory ``(T+1, K)`` (see the module docstring)."""
    x = np.asarray(traj, dtype=float)
    W = min(window, x.shape[0] - 1)
    tail = x[-W:]
    h = W // 2
    amp1 = (tail[:h].max(0) - tail[:h].min(0)).max() if h > 0 else 0.0
    amp2 = (tail[h:].max(0) - tail[h:].min(0)).max()
    lt = np.log(np.maximum(x[-2:], 1e-320))
    converged = bool(np.abs(lt[1] - lt[0]).max() <= tol)
    osc = (not converged) and amp2 > amp_tol and amp2 >= 0.5 * amp1
    wv = projection_vector(x.shape[-1]) if w is None else w
    per = period_estimate(tail @ wv) if osc else float("nan")
    return {"oscillating": bool(osc), "amplitude": float(amp2), "period": per, "converged": converged}


def projection_vector(K: int) -> np.ndarray:
    """A fixed centered unit vector with distinct entries (the observable for period estimates)."""
    v = np.cos(2.0 * np.pi * (np.arange(K) + 0.37) / K) + 0.1 * np.arange(K) / K
    v = v - v.mean()
    return v / np.linalg.norm(v)


@dataclass
class StreamingMetrics:
    """Metrics accumulated step by step on a batch, without storing the trajectory.

    Arrays are in *K-major* layout ``(K, B)`` (contiguous rows per response).
    Call :meth:`update` after every step ``t = 1..steps`` with the new log-policy and
    policy, then :meth:`result`.
    """

    B: int
    K: int
    steps: int
    burn_in: int = 0
    tol: float = 1e-10
    window: int = 512
    amp_tol: float = 1e-6
    reduce: str = "mean"

    def __post_init__(self) -> None:
        if self.burn_in < 0 or self.burn_in >= self.steps:
            raise ValueError(f"burn_in = {self.burn_in}, expected 0 <= burn_in < steps = {self.steps}")
        self.W = max(1, min(self.window, self.steps))
        self.t_win = self.steps - self.W + 1  # first step recorded in the window
        self.h = self.W // 2
        self.n = 0
        self.shift = None
        self.s1 = np.zeros((self.K, self.B))
        self.s2 = np.zeros((self.K, self.B))
        self.last_above = np.zeros(self.B, dtype=np.int64)
        self.last_delta = np.full(self.B, np.inf)
        self.w = projection_vector(self.K)
        self.g = np.empty((self.W, self.B))
        self.mx = [None, None]
        self.mn = [None, None]
        self.tmp = np.empty((self.K, self.B))

    def update(self, t: int, lp_old: np.ndarray, lp_new: np.ndarray, pi_new: np.ndarray) -> None:
        """Fold in step ``t`` (``lp_*``, ``pi_new`` of shape ``(K, B)``)."""
        tmp = self.tmp
        np.subtract(lp_new, lp_old, out=tmp)
        np.abs(tmp, out=tmp)
        d = np.maximum.reduce(tmp, axis=0)
        self.last_delta = d
        above = d > self.tol
        if above.any():
            self.last_above[above] = t
        if t > self.burn_in:
            if self.shift is None:
                self.shift = pi_new.copy()
            np.subtract(pi_new, self.shift, out=tmp)
            self.s1 += tmp
            np.multiply(tmp, tmp, out=tmp)
            self.s2 += tmp
            self.n += 1
        if t >= self.t_win:
            i = t - self.t_win
            self.g[i] = self.w @ pi_new
            half = 0 if i < self.h else 1
            if self.mx[half] is None:
                self.mx[half] = pi_new.copy()
                self.mn[half] = pi_new.copy()
            else:
                np.maximum(self.mx[half], pi_new, out=self.mx[half])
                np.minimum(self.mn[half], pi_new, out=self.mn[half])

    def result(self, lp_final: np.ndarray) -> dict[str, np.ndarray]:
        """The metrics as arrays of length ``B``."""
        n = max(self.n, 1)
        m1 = self.s1 / n
        var = np.maximum(self.s2 / n - m1 * m1, 0.0)
        cs = var.mean(axis=0) if self.reduce == "mean" else var.sum(axis=0)
        converged = self.last_delta <= self.tol
        conv_at = np.where(converged, self.last_above, -1)
        amp1 = (self.mx[0] - self.mn[0]).max(axis=0) if self.mx[0] is not None else np.zeros(self.B)
        amp2 = (self.mx[1] - self.mn[1]).max(axis=0) if self.mx[1] is not None else np.zeros(self.B)
        osc = (~converged) & (amp2 > self.amp_tol) & (amp2 >= 0.5 * amp1)
        period = np.full(self.B, np.nan)
        idx = np.nonzero(osc)[0]
        if idx.size:
            g = self.g[:, idx]
            g = g - g.mean(axis=0)
            spec = np.abs(np.fft.rfft(g * np.hanning(self.W)[:, None], axis=0)) ** 2
            spec[0] = 0.0
            k = np.argmax(spec, axis=0)
            cols = np.arange(idx.size)
            km = np.clip(k, 1, spec.shape[0] - 2)
            a_ = np.log(spec[km - 1, cols] + 1e-300)
            b_ = np.log(spec[km, cols] + 1e-300)
            c_ = np.log(spec[km + 1, cols] + 1e-300)
            den = a_ - 2 * b_ + c_
            with np.errstate(divide="ignore", invalid="ignore"):
                shift = np.where((den != 0) & (k == km), 0.5 * (a_ - c_) / den, 0.0)
                period[idx] = np.where(k > 0, self.W / (k + shift), np.nan)
        return {
            "cycle_strength": cs,
            "entropy": entropy_from_log(lp_final, axis=0),
            "converged": converged,
            "converged_at": conv_at,
            "final_delta": self.last_delta,
            "oscillating": osc,
            "amplitude": amp2,
            "period": period,
        }


def trajectory_metrics(log_traj: np.ndarray, burn_in: int = 0, tol: float = 1e-10, window: int = 512, amp_tol: float = 1e-6) -> dict:
    """All metrics of one recorded log-trajectory ``(T+1, K)`` (reference implementation)."""
    lt = np.asarray(log_traj, dtype=float)
    x = np.exp(lt)
    osc = oscillation(x, window=window, amp_tol=amp_tol, tol=tol)
    return {
        "cycle_strength": float(cycle_strength(x, burn_in)),
        "entropy": float(entropy_from_log(lt[-1])),
        "converged": osc["converged"],
        "converged_at": int(convergence_time(lt, tol)),
        "oscillating": osc["oscillating"],
        "amplitude": osc["amplitude"],
        "period": osc["period"],
    }
