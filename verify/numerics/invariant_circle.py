r"""Dynamic evidence for the Neimark–Sacker bifurcation of the 3-cycle MRS map: the invariant circle.

Independent of how the first Lyapunov coefficient ``d`` was obtained, the float64 dynamics
(:func:`verify.numerics.batch.make_step`, the project's batched step) must show what the normal form
``w -> e^{i theta}(1 + mu) w + c1 w |w|^2`` predicts (shared conventions; ``w = <p, l>`` in the
log-ratio chart ``l_i = log(pi_i/pi_2)``, ``p`` the left eigenvector normalised by ``<q, q> = 1``,
``<p, q> = 1``, so a start ``l = 2 Re(w q)`` has ``<p, l> = w``).

**Past the threshold** the gain is raised: ``b = b_c/(1 + eps)``, ``eps > 0``, and ``mu = r - 1``
is read from the eigenvalue of the project's Jacobian at that parameter (``step.jacobian``, turned
into the chart). *Supercritical* prediction (``d < 0``): an attracting invariant circle with
``|w|^2 = -mu/d (1 + O(mu))``. The orbit starts on the predicted circle (``|w|^2 = mu/|d_pred|``,
phase from the seed), settles for ``ceil(SETTLE/mu_min)`` steps (the radial deviation contracts
like ``(1 - 2 mu)^t``: ``e^{-2 SETTLE}`` after that) and ``mean |w|^2`` is taken over the next
``max(2000, ceil(AVERAGE/mu_min))`` steps (the oscillating corrections of ``<p, l>`` average out).
The ratio ``mean |w|^2 / (-mu/d_pred)`` is fitted as ``ratio0 + k mu`` over the distances and the
intercept must satisfy ``|ratio0 - 1| <= TOL_RATIO``. A planted ``d_pred`` off by the factor ``f`` gives
``ratio0 = f`` (0.75, 1.25, 2 are 5 to 20 tolerances away). *Subcritical* prediction (``d > 0``): before
the threshold (``eps < 0``) an unstable circle ``|w|^2 = -mu/d`` separates the starts that converge to
``l = 0`` from those that leave; starts on a geometric grid of radii around the predicted one
(two rounds, the second inside the bracket of the first) locate the crossover ``s_c``; ``s_c/(-mu/d_pred)``
is extrapolated in the same way. Past the threshold a small start must leave (no small circle).

**Rotation number**: the mean increment of ``arg w`` over ``2 pi`` — on the circle over the averaging
window (supercritical), from small starts before the threshold (subcritical: the linear rotation);
fitted as ``rho0 + k mu``; ``|rho0 - theta_pred/(2 pi)| <= TOL_ROTATION theta_pred/(2 pi)``
(``theta_pred`` defaults to ``arccos(alpha)``, the threshold's angle).

**Before the threshold** (supercritical): from a start of size ``|mu/d_pred|`` at ``eps = -distances[0]``
the orbit converges to ``l = 0`` (``|w|^2`` below ``10^-6`` of the start after ``10/|mu|`` steps); its decay
rate per step, ``exp(mean log|w_{t+1}/w_t|)`` while ``10^-7 <= |w|^2/|w_0|^2 <= 10^-2`` (the linear
regime, far above float64 rounding), is compared with the modulus ``r`` of the eigenvalue
(``|log rate - log r| <= TOL_DECAY |log r|``).

>>> ev = circle_evidence("ipo", "1/2", "1/4", 1, d_pred=-0.09375)
>>> ev.passed, round(ev.ratio0, 2), round(ev.rotation0 * 6, 3)       # theta = pi/3
(True, 1.0, 1.0)
>>> circle_evidence("ipo", "1/2", "1/4", 1, d_pred=-0.09375 * 5 / 4, before=False).passed
False
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import lru_cache
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from verify.exact.families import cyclic_float
from verify.exact.objects import InputError, NumericalFailure, positive
from verify.numerics.basis import helmert_basis
from verify.numerics.batch import make_step
from verify.numerics.normal_form import read_point, threshold_b
from verify.numerics.optimum import as_loss

__all__ = [
    "TOL_RATIO",
    "TOL_ROTATION",
    "TOL_DECAY",
    "SETTLE",
    "AVERAGE",
    "DEFAULT_DISTANCES",
    "DECIDE",
    "ROUNDS",
    "RADII",
    "PHASES",
    "CircleRow",
    "BeforeRow",
    "CircleEvidence",
    "chart_eigen",
    "circle_run",
    "circle_evidence",
]

#: ``|ratio0 - 1|`` allowed for the extrapolated radius ratio (a planted factor 3/4, 5/4, 2 is 5-20 times this).
TOL_RATIO = 0.05
#: relative tolerance of the extrapolated rotation number against ``theta_pred/(2 pi)``.
TOL_ROTATION = 0.01
#: relative tolerance of the decay rate's log against ``log r`` before the threshold.
TOL_DECAY = 0.05
#: settling time in units of ``1/mu``: the radial deviation is ``e^{-2 SETTLE}`` of the start's after it.
SETTLE = 5.0
#: averaging window in units of ``1/mu`` (at least 2000 steps).
AVERAGE = 2.0
#: the subcritical search: decision time in units of ``1/|mu|``, rounds of the radius bracket, radii per round,
#: start phases averaged (the crossover depends on the phase at order ``|w|``; the mean over equally spaced phases does not).
DECIDE = 8.0
ROUNDS = 2
RADII = 9
PHASES = 4
#: default distances ``eps`` (``b = b_c/(1 + eps)``); ``mu ~ (1 - alpha^2) eps``.
DEFAULT_DISTANCES = (0.005, 0.01, 0.02)

# the chart l = D logpi
_D = np.array([[1.0, 0.0, -1.0], [0.0, 1.0, -1.0]])


@dataclass(frozen=True)
class CircleRow:
    """One distance: ``mu``, the measured and predicted ``|w|^2`` (mean on the circle, or the unstable
    circle's crossover for a subcritical prediction), their ratio, the measured and predicted rotation number."""

    eps: float
    mu: float
    theta: float
    measured: float
    predicted: float
    ratio: float
    rotation: float
    rotation_pred: float
    steps: int

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class BeforeRow:
    """A run before (``mu < 0``) or, for a subcritical prediction, past the threshold: the start's and the
    final ``|w|^2``, whether the orbit converged to ``l = 0`` or left (``|w|^2 > 9 |mu/d_pred|``), the measured
    decay rate per step and the modulus ``r`` (the rate is ``nan`` when the orbit did not converge)."""

    eps: float
    mu: float
    kind: str
    start_abs2: float
    final_abs2: float
    converged: bool
    left: bool
    rate: float
    r: float
    ok: bool

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class CircleEvidence:
    """The invariant-circle evidence at one threshold point (:func:`circle_evidence`)."""

    loss: str
    alpha: Fraction
    a: Fraction
    lam: Fraction
    b_c: float
    d_pred: float
    theta_pred: float
    kind: str
    rows: list
    before: list
    ratio0: float
    ratio_slope: float
    rotation0: float
    rotation_slope: float
    radius_ok: bool
    rotation_ok: bool
    before_ok: bool
    tol_ratio: float = TOL_RATIO
    tol_rotation: float = TOL_ROTATION
    tol_decay: float = TOL_DECAY
    seconds: float = 0.0
    notes: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.radius_ok and self.rotation_ok and self.before_ok)

    @property
    def verdict(self) -> str:
        """``consistent`` or ``refuted``, with what failed."""
        if self.passed:
            return "consistent"
        bad = [n for n, ok in (("radius", self.radius_ok), ("rotation", self.rotation_ok), ("before the threshold", self.before_ok)) if not ok]
        return "refuted (" + ", ".join(bad) + ")"

    def to_json(self) -> dict:
        return {
            "loss": self.loss, "alpha": str(self.alpha), "a": str(self.a), "lam": str(self.lam), "b_c": self.b_c,
            "d_pred": self.d_pred, "theta_pred": self.theta_pred, "kind": self.kind,
            "rows": [r.to_json() for r in self.rows], "before": [r.to_json() for r in self.before],
            "ratio0": self.ratio0, "ratio_slope": self.ratio_slope, "rotation0": self.rotation0,
            "rotation_slope": self.rotation_slope, "radius_ok": self.radius_ok, "rotation_ok": self.rotation_ok,
            "before_ok": self.before_ok, "tol_ratio": self.tol_ratio, "tol_rotation": self.tol_rotation,
            "tol_decay": self.tol_decay, "verdict": self.verdict, "seconds": self.seconds, "notes": list(self.notes),
        }


# ----------------------------------------------------------------------------- the map and its eigen-data


@lru_cache(maxsize=32)
def _scale_fn(lo):
    """The loss's scale parameter as a float function of ``b`` (the exact inverse of ``b_of``, lambdified once)."""
    import sympy

    bsym = sympy.Symbol("b", positive=True)
    return sympy.lambdify(bsym, lo.scale_of_b(bsym), "math")


def _scale_of_b(lo, bs: Sequence[float]) -> np.ndarray:
    fn = _scale_fn(lo)
    return np.array([float(fn(float(b))) for b in bs])


def _stepper(lo, alpha: float, a: float, lam: float, bs: Sequence[float]):
    scales = _scale_of_b(lo, bs)
    return make_step(cyclic_float(a), lo, alpha, lam, scale=scales, B=len(scales))


def chart_eigen(J: np.ndarray) -> dict:
    """The chart Jacobian ``A = T J T^{-1}`` (``T = D H``: Helmert coordinates of centred logits -> log ratios)
    of a Helmert-basis Jacobian ``J`` (``step.jacobian``) and its eigen-data: ``eigenvalue`` (``Im > 0``),
    ``r``, ``theta``, ``q`` (``<q, q> = 1``), ``p`` (``<p, q> = 1``).

    >>> ed = chart_eigen(np.array([[0.5, -0.8], [0.8, 0.5]]))
    >>> round(ed["r"], 12), round(float(abs(np.vdot(ed["p"], ed["q"]) - 1)), 12), round(float(np.vdot(ed["q"], ed["q"]).real), 12)
    (0.943398113206, 0.0, 1.0)
    """
    T = _D @ helmert_basis(3)
    A = T @ J @ np.linalg.inv(T)
    ev, V = np.linalg.eig(A)
    k = int(np.argmax(ev.imag))
    lam = ev[k]
    if not lam.imag > 0:
        raise NumericalFailure(f"the Jacobian at the uniform point has real eigenvalues {ev.tolist()}: no Neimark–Sacker pair")
    q = V[:, k] / np.sqrt(np.vdot(V[:, k], V[:, k]).real)
    evt, W = np.linalg.eig(A.T)
    j = int(np.argmin(np.abs(evt - np.conj(lam))))
    p = W[:, j]
    p = p / np.conj(np.vdot(p, q))
    return {"A": A, "eigenvalue": complex(lam), "r": float(abs(lam)), "theta": float(np.angle(lam)), "q": q, "p": p}


def _logpi(l: np.ndarray) -> np.ndarray:
    z = np.concatenate([l, np.zeros((l.shape[0], 1))], axis=1)
    m = z.max(axis=1, keepdims=True)
    return z - (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))


def _simulate(step, p: np.ndarray, l0: np.ndarray, steps: int, *, keep_l: bool = False, lower: Any = None, upper: Any = None) -> dict:
    """Iterate ``step`` (B rows) from chart points ``l0``; ``w_t = <p_row, l_t>`` for every ``t``.

    A row whose ``|w|^2`` falls below ``lower`` or exceeds ``upper`` (per-row arrays) is *decided*: it is
    frozen there (its later ``w`` repeat the last value, so an orbit that leaves is never followed far
    out), and the run stops early when every row is decided. A row whose inner solve fails is frozen too
    (``failed``).
    """
    lp = _logpi(l0)
    B = l0.shape[0]
    W = np.empty((steps + 1, B), dtype=complex)
    Ls = np.empty((steps + 1, B, 2)) if keep_l else None
    failed = np.zeros(B, dtype=bool)
    below = np.zeros(B, dtype=bool)
    above = np.zeros(B, dtype=bool)
    pc = np.conj(p)
    T = steps
    for t in range(steps + 1):
        l = lp[:, :2] - lp[:, 2:3]
        W[t] = np.einsum("bi,bi->b", pc, l)
        if keep_l:
            Ls[t] = l
        a2 = np.abs(W[t]) ** 2
        if lower is not None:
            below |= a2 < lower
        if upper is not None:
            above |= a2 > upper
        frozen = failed | below | above
        if t == steps or ((lower is not None or upper is not None) and frozen.all()):
            T = t
            break
        new, ok = step.try_step(lp)
        ok = ok & np.isfinite(new).all(axis=1)
        failed |= ~ok & ~frozen
        move = ok & ~frozen
        lp = np.where(move[:, None], new, lp)
    return {"w": W[: T + 1], "l": None if Ls is None else Ls[: T + 1], "failed": failed, "below": below, "above": above, "steps": T}


def _eigen_at(lo, alpha: float, a: float, lam: float, bs: Sequence[float]):
    step = _stepper(lo, alpha, a, lam, bs)
    J = step.jacobian(np.log(np.full((len(bs), 3), 1.0 / 3)))
    eds = [chart_eigen(J[i]) for i in range(len(bs))]
    return step, eds


def circle_run(loss: Any, alpha: Any, a: Any, lam: Any, b: Any, *, steps: int, start: Any = None, seed: int = 0,
               stop_above: float | None = None) -> dict:
    """One float64 orbit of the 3-cycle MRS map at multiplier ``b``, in the log-ratio chart.

    Parameters
    ----------
    loss : a smooth loss (name, expression or PairLoss; its scale is set from ``b``)
    alpha, a, lam : as in :func:`verify.numerics.normal_form.lyapunov_numeric`
    b : the multiplier (a float or an exact number)
    steps : iterations
    start : a complex ``w`` (the chart point ``2 Re(w q)``), a chart point ``(l_0, l_1)``, or ``None``
        (``|w| = 10^-2`` with a phase drawn from ``seed``)
    seed : the seed of the start's phase
    stop_above : stop when ``|w|^2`` exceeds it (an orbit that leaves is not followed far out, where each
        step of a Newton loss gets expensive); the arrays then end there

    Returns
    -------
    dict with ``l`` (``(steps + 1, 2)``), ``w`` (``(steps + 1,)`` complex, ``<p, l_t>``), ``steps`` (run), ``eigenvalue``,
    ``r``, ``mu = r - 1``, ``theta``, ``q``, ``p`` (the chart eigen-data at this ``b``), ``failed`` (the inner
    solve failed at some step; the orbit is then frozen there), ``seconds``.

    >>> out = circle_run("ipo", "1/2", "1/4", 1, 0.33, steps=200, start=0.05)
    >>> out["l"].shape, round(out["mu"], 6), bool(abs(out["w"][0] - 0.05) < 1e-12)
    ((201, 2), 0.007585, True)
    """
    t0 = time.perf_counter()
    lo = as_loss(loss)
    al, av, la = read_point(alpha, a, lam)
    bf = float(positive(b, "b"))
    if int(steps) < 1:
        raise InputError(f"steps = {steps}, expected an integer >= 1")
    step, (ed,) = _eigen_at(lo, float(al), float(av), float(la), [bf])
    if start is None:
        phase = np.random.default_rng(seed).uniform(0, 2 * np.pi)
        start = 1e-2 * np.exp(1j * phase)
    if np.iscomplexobj(start) or np.isscalar(start):
        l0 = 2 * np.real(complex(start) * ed["q"])
    else:
        l0 = np.asarray(start, dtype=float)
        if l0.shape != (2,):
            raise InputError(f"start has shape {l0.shape}, expected a complex w or a chart point (l_0, l_1)")
    upper = None if stop_above is None else np.array([float(stop_above)])
    sim = _simulate(step, ed["p"][None, :], l0[None, :], int(steps), keep_l=True, upper=upper)
    return {
        "l": sim["l"][:, 0, :], "w": sim["w"][:, 0], "eigenvalue": ed["eigenvalue"], "r": ed["r"], "mu": ed["r"] - 1,
        "theta": ed["theta"], "q": ed["q"], "p": ed["p"], "failed": bool(sim["failed"][0]), "b": bf, "steps": sim["steps"],
        "seconds": time.perf_counter() - t0,
    }


# ----------------------------------------------------------------------------- evidence


def _fit(mus: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """Least-squares ``y = y0 + k mu`` (one point: ``y0 = y``)."""
    if len(mus) == 1:
        return float(ys[0]), 0.0
    k, y0 = np.polyfit(np.asarray(mus), np.asarray(ys), 1)
    return float(y0), float(k)


def _rotation(w: np.ndarray, frm: int) -> np.ndarray:
    inc = np.angle(w[frm + 1:] / w[frm:-1])
    return inc.mean(axis=0) / (2 * np.pi)


def _super_rows(lo, al, av, la, b_c, eps, d_pred, rho_pred, seed, steps):
    bs = [b_c / (1 + e) for e in eps]
    step, eds = _eigen_at(lo, al, av, la, bs)
    mus = np.array([ed["r"] - 1 for ed in eds])
    if not (mus > 0).all():
        raise NumericalFailure(f"past the threshold the modulus should exceed 1; got mu = {mus.tolist()} (is b_c the threshold?)")
    if steps is None:
        settle = int(math.ceil(SETTLE / mus.min()))
        avg = max(2000, int(math.ceil(AVERAGE / mus.min())))
    else:
        settle = steps // 2
        avg = steps - settle
    phases = np.random.default_rng(seed).uniform(0, 2 * np.pi, len(bs))
    w0 = np.sqrt(mus / abs(d_pred)) * np.exp(1j * phases)
    l0 = np.array([2 * np.real(w0[i] * eds[i]["q"]) for i in range(len(bs))])
    p = np.array([ed["p"] for ed in eds])
    # an orbit that leaves (|w|^2 > 25 mu/|d_pred|: no circle of the predicted size) is frozen there, not followed far out
    sim = _simulate(step, p, l0, settle + avg, upper=25 * mus / abs(d_pred))
    w = sim["w"]
    if sim["steps"] < settle + avg:  # every row left
        w = np.concatenate([w, np.repeat(w[-1:], settle + avg - sim["steps"], axis=0)])
    measured = (np.abs(w[settle:]) ** 2).mean(axis=0)
    rot = np.where(sim["above"], np.nan, _rotation(w, settle))  # no rotation number for an orbit that left
    rows = []
    for i, e in enumerate(eps):
        pred = -mus[i] / d_pred
        rows.append(CircleRow(float(e), float(mus[i]), eds[i]["theta"], float(measured[i]), float(pred), float(measured[i] / pred),
                              float(rot[i]), rho_pred, settle + avg))
    return rows, sim["failed"], sim["above"]


def _sub_rows(lo, al, av, la, b_c, eps, d_pred, rho_pred, seed, rounds=ROUNDS, n=RADII, m=PHASES):
    """Subcritical prediction: before the threshold, the crossover ``|w|^2`` between converging and leaving starts,
    bracketed on a geometric grid of radii (``rounds`` rounds of ``n``), averaged over ``m`` phases."""
    nb = len(eps)
    bs = [b_c / (1 - e) for e in eps]
    _, eds = _eigen_at(lo, al, av, la, bs)
    mus = np.array([ed["r"] - 1 for ed in eds])
    if not (mus < 0).all():
        raise NumericalFailure(f"before the threshold the modulus should be below 1; got mu = {mus.tolist()}")
    preds = -mus / d_pred
    steps = int(math.ceil(DECIDE / abs(mus).min()))
    phase0 = np.random.default_rng(seed).uniform(0, 2 * np.pi)
    phases = phase0 + 2 * np.pi * np.arange(m) / m
    lo_f, hi_f = np.full((nb, m), 0.25), np.full((nb, m), 4.0)
    found = np.ones((nb, m), dtype=bool)
    total = 0
    for _ in range(rounds):
        facs = np.exp(np.linspace(np.log(lo_f), np.log(hi_f), n, axis=-1))  # (nb, m, n)
        ib = np.repeat(np.arange(nb), m * n)
        ip = np.tile(np.repeat(np.arange(m), n), nb)
        s0 = preds[ib] * facs.ravel()
        step = _stepper(lo, al, av, la, [bs[i] for i in ib])
        w0 = np.sqrt(s0) * np.exp(1j * phases[ip])
        l0 = np.array([2 * np.real(w0[k] * eds[ib[k]]["q"]) for k in range(len(ib))])
        p = np.array([eds[i]["p"] for i in ib])
        sim = _simulate(step, p, l0, steps, lower=1e-2 * s0, upper=9 * preds[ib])
        total += sim["steps"]
        conv = sim["below"].reshape(nb, m, n)
        left = (sim["above"] | sim["failed"]).reshape(nb, m, n)
        for i in range(nb):
            for j in range(m):
                c, g = conv[i, j], left[i, j]
                k = int(np.argmax(g))
                # monotone: the smallest starts converge, the largest leave, one crossover
                if not (g.any() and k > 0 and c[:k].all() and g[k:].all()):
                    found[i, j] = False
                    continue
                lo_f[i, j], hi_f[i, j] = facs[i, j, k - 1], facs[i, j, k]
    # the rotation from small starts, one per distance: the linear regime, arg(lambda)/(2 pi) + O(|w|^2)
    step = _stepper(lo, al, av, la, bs)
    s0 = 1e-3 * preds
    l0 = np.array([2 * np.real(math.sqrt(s0[i]) * np.exp(1j * phase0) * eds[i]["q"]) for i in range(nb)])
    sim = _simulate(step, np.array([ed["p"] for ed in eds]), l0, int(math.ceil(2.0 / abs(mus).min())))
    rot = _rotation(sim["w"], 0)
    rows = []
    for i, e in enumerate(eps):
        ok = found[i].all()
        meas = float(preds[i] * np.mean(np.sqrt(lo_f[i] * hi_f[i]))) if ok else float("nan")
        rows.append(CircleRow(-float(e), float(mus[i]), eds[i]["theta"], meas, float(preds[i]),
                              meas / float(preds[i]) if ok else float("nan"), float(rot[i]), rho_pred, total))
    return rows


def _before_super(lo, al, av, la, b_c, eps, d_pred):
    b = b_c / (1 - eps)
    step, (ed,) = _eigen_at(lo, al, av, la, [b])
    mu = ed["r"] - 1
    steps = int(math.ceil(10.0 / abs(mu)))
    s0 = abs(mu / d_pred)
    l0 = 2 * np.real(math.sqrt(s0) * ed["q"])
    sim = _simulate(step, ed["p"][None, :], l0[None, :], steps)
    s = np.abs(sim["w"][:, 0]) ** 2
    conv = bool(s[-1] < 1e-6 * s0)
    # the linear regime, well above float64 rounding (|w| >~ 1e-16): 1e-7 s0 <= |w|^2 <= 1e-2 s0
    win = np.flatnonzero((s <= 1e-2 * s0) & (s >= 1e-7 * s0))
    if conv and win.size > 10:
        rate = float(np.exp(np.mean(np.log(s[win[1:]] / s[win[:-1]])) / 2))
    else:
        rate = float("nan")
    ok = conv and math.isfinite(rate) and abs(math.log(rate) - math.log(ed["r"])) <= TOL_DECAY * abs(math.log(ed["r"]))
    return BeforeRow(-float(eps), float(mu), "small start", float(s0), float(s[-1]), conv, False, rate, ed["r"], bool(ok))


def _after_sub(lo, al, av, la, b_c, eps, d_pred):
    b = b_c / (1 + eps)
    step, (ed,) = _eigen_at(lo, al, av, la, [b])
    mu = ed["r"] - 1
    scale = abs(mu / d_pred)
    steps = int(math.ceil(12.0 / abs(mu)))
    s0 = 1e-2 * scale
    l0 = 2 * np.real(math.sqrt(s0) * ed["q"])
    sim = _simulate(step, ed["p"][None, :], l0[None, :], steps, upper=np.array([9 * scale]))
    s = np.abs(sim["w"][:, 0]) ** 2
    left = bool(sim["above"][0])
    return BeforeRow(float(eps), float(mu), "small start past the threshold", float(s0), float(s[-1]), bool(s[-1] < 1e-2 * s0), left,
                     float("nan"), ed["r"], left)


def circle_evidence(
    loss: Any,
    alpha: Any,
    a: Any,
    lam: Any,
    *,
    distances: Sequence[float] = DEFAULT_DISTANCES,
    d_pred: float,
    theta_pred: float | None = None,
    steps: int | None = None,
    seed: int = 0,
    before: bool = True,
) -> CircleEvidence:
    """Simulate the 3-cycle MRS map near the threshold point and compare with a predicted ``d`` (and ``theta``).

    Parameters
    ----------
    loss, alpha, a, lam : the threshold point (``b_c`` from :func:`verify.numerics.normal_form.threshold_b`)
    distances : the ``eps > 0`` of ``b = b_c/(1 + eps)`` (past the threshold; before it ``b_c/(1 - eps)``)
    d_pred : the predicted first Lyapunov coefficient (its sign selects the supercritical or the
        subcritical test; module docstring)
    theta_pred : the predicted angle (default ``arccos(alpha)``)
    steps : the supercritical run's length (half settling, half averaging); default
        ``ceil(SETTLE/mu_min) + max(2000, ceil(AVERAGE/mu_min))`` (module docstring)
    seed : the seed of the start phases
    before : also run the checks on the other side of the threshold

    Returns
    -------
    CircleEvidence: the per-distance rows, the extrapolated ``ratio0`` and ``rotation0`` with their
    slopes in ``mu``, the runs before the threshold, and ``passed`` / ``verdict``.
    """
    t0 = time.perf_counter()
    lo = as_loss(loss)
    al, av, la = read_point(alpha, a, lam)
    d_pred = float(d_pred)
    if not math.isfinite(d_pred) or d_pred == 0:
        raise InputError(f"d_pred = {d_pred}, expected a finite nonzero number")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 20):
        raise InputError(f"steps = {steps!r}, expected an integer >= 20 (or None: chosen from mu)")
    eps = [float(e) for e in distances]
    if not eps or any(not (0 < e < 1) for e in eps):
        raise InputError(f"distances = {list(distances)}, expected numbers in (0, 1)")
    theta_pred = math.acos(float(al)) if theta_pred is None else float(theta_pred)
    rho_pred = theta_pred / (2 * math.pi)
    b_c = float(threshold_b(lo, al, av, la))
    A, Av, L = float(al), float(av), float(la)
    notes = []
    before_rows: list = []
    if d_pred < 0:
        kind = "supercritical"
        rows, failed, left = _super_rows(lo, A, Av, L, b_c, eps, d_pred, rho_pred, seed, steps)
        if failed.any():
            notes.append(f"the inner solve failed at distances {[eps[i] for i in np.flatnonzero(failed)]}")
        if left.any():
            notes.append(f"the orbit left the neighbourhood (|w|^2 > 25 mu/|d_pred|) at distances {[eps[i] for i in np.flatnonzero(left)]}")
        if before:
            before_rows.append(_before_super(lo, A, Av, L, b_c, eps[0], d_pred))
    else:
        kind = "subcritical"
        rows = _sub_rows(lo, A, Av, L, b_c, eps, d_pred, rho_pred, seed)
        if before:
            before_rows.append(_after_sub(lo, A, Av, L, b_c, eps[0], d_pred))
    mus = [r.mu for r in rows]
    ratios = [r.ratio for r in rows]
    finite = all(math.isfinite(x) for x in ratios)
    ratio0, kr = _fit(mus, ratios) if finite else (float("nan"), float("nan"))
    rots = [r.rotation for r in rows]
    rot0, krot = _fit(mus, rots) if all(math.isfinite(x) for x in rots) else (float("nan"), float("nan"))
    radius_ok = bool(finite and abs(ratio0 - 1) <= TOL_RATIO)
    rotation_ok = bool(abs(rot0 - rho_pred) <= TOL_ROTATION * rho_pred)
    before_ok = all(r.ok for r in before_rows)
    if not finite:
        notes.append("no crossover between converging and leaving starts was found for some distance")
    return CircleEvidence(lo.name, al, av, la, b_c, d_pred, theta_pred, kind, rows, before_rows, ratio0, kr, rot0, krot,
                          radius_ok, rotation_ok, before_ok, seconds=time.perf_counter() - t0, notes=notes)
