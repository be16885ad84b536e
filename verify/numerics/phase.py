"""DYN-5: the phase diagram of the MRS map over ``(alpha, beta * lambda)`` (or ``(alpha, scale)``), any smooth loss.

Each grid point is classified by float64 computations, all batched over the grid and all on the
one batched MRS step :func:`verify.numerics.batch.make_step`:

1. **fixed points** — damped Newton on the map of centred logits (in the Helmert basis of
   :mod:`verify.numerics.basis`) from ``n_fp_starts`` starts per point (uniform + seeded random
   logits); roots agreeing to ``1e-6`` are merged;
2. **linear stability** — spectral radius ``rho`` of the centred-logit Jacobian at each root
   (``step.jacobian``: closed form for a quadratic loss, the implicit-function sensitivity of the
   solved optimum otherwise);
3. **dynamics** — ``n_starts`` trajectories (near-uniform and random starts) of ``steps`` steps,
   with the streaming metrics of :mod:`verify.numerics.metrics`.

The vertical axis is either ``bls`` — the loss's *IPO-equivalent* ``beta * lambda``, i.e.
``c_f lambda / b`` with the gain ``c_f = -2 f'(0)/f''(0)`` (for IPO exactly ``beta * lambda``; on
this axis the balanced threshold of LOSS-3 is one curve for every smooth loss) — or ``scales``,
the loss's own scale parameter at the given ``lambda``.

Regions (integer codes): ``0 stable`` — one fixed point, ``rho < 1``, every trajectory converges;
``1 cycle`` — one fixed point, ``rho > 1``, trajectories oscillate persistently (an attracting
invariant set that is not a point); ``2 several`` — more than one fixed point; ``3 bistable`` —
a stable fixed point (``rho < 0.99``) and a persistent oscillation from some start; ``4 undecided`` —
anything else (e.g. convergence slower than ``steps``, ``0.99 <= rho < 1`` with an oscillation
that has not decayed within the detection window, or an inner solve that failed). The ``alpha = 1``
column is degenerate: the map ``log pi' = log pi + x*(mu)/b - c`` has an interior fixed point only
if ``x*(mu)`` is constant for some ``mu`` (for IPO: ``S mu = 0`` solvable), and the identity map at
``beta lambda = 0`` fixes every point (shown as ``several``).

Thresholds (LOSS-3; DYN-1, DYN-6, DPO-4, DPO-6 are instances): for balanced ``P`` with
``pi_0 = pi_ref`` uniform, the uniform point is unstable iff ``b < b* = c_f lam ||S||_2 / (K sqrt(1 - alpha^2))``;
:func:`threshold_curve` gives the critical value of the loss's scale.

>>> d = phase_diagram(cyclic_matrix(0.4), alphas=[0.2, 0.9], bls=[1.0, 8.0], steps=400)
>>> d.regions.tolist()
[[0, 1], [0, 1]]
>>> d = phase_diagram(cyclic_matrix(0.4), alphas=[0.2, 0.9], bls=[1.0, 8.0], steps=400, loss="dpo")
>>> d.regions.tolist(), d.axis_label
([[0, 1], [0, 1]], '4 * lambda/beta_dpo (IPO-equivalent beta * lambda)')
>>> [round(float(v), 6) for v in threshold_curve("dpo", 0.25 * 3 ** 0.5, 3, [0.0, 0.6], lam=1)]   # DPO-4: critical beta_dpo
[0.57735, 0.721688]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Sequence

import mpmath
import numpy as np
import sympy

from theory.losses import BUILTIN, PairLoss
from verify.exact.objects import InputError
from verify.numerics.basis import helmert_basis
from verify.numerics.batch import as_loss, make_step, method_for
from verify.numerics.bridge import mp_matrix, mpf
from verify.numerics.simulate import cycle_matrix, cyclic_matrix, near_uniform_starts, normalise_log, run_batch

__all__ = [
    "REGIONS",
    "PhaseDiagram",
    "phase_diagram",
    "batch_fixed_points",
    "threshold_curve",
    "threshold_side",
    "balanced_modulus",
    "dyn1_curve",
    "balanced_curve",
    "q_one_curve",
    "skew_norm",
    "spectral_radius_skew",
    "dpo_balanced_modulus",
    "ipo_balanced_modulus",
    "DPO_CURVE_QUANTITIES",
    "dpo_cycle_threshold_curve",
    "dpo_phase_extra_curve",
    "fixed_point_summary",
    "run_status",
    "run_summary",
    "cyclic_matrix",
    "cycle_matrix",
]

REGIONS = ("stable", "cycle", "several", "bistable", "undecided")


def skew_norm(P: np.ndarray) -> float:
    """``||P - (1/2) 11^T||_2``."""
    return float(np.linalg.norm(np.asarray(P, float) - 0.5, 2))


def spectral_radius_skew(S: Any) -> mpmath.mpf:
    """``rho(S) = ||S||_2`` for a real skew matrix, as ``sqrt(lambda_max(S^T S))`` (current precision)."""
    M = mp_matrix(S) if not isinstance(S, mpmath.matrix) else S
    ev = mpmath.eigsy(M.T * M, eigvals_only=True)
    return mpmath.sqrt(max(max(ev), mpmath.mpf(0)))


# ----------------------------------------------------------------------------- thresholds (LOSS-3)


def _gain(loss: PairLoss) -> float:
    if loss.gain is None:
        raise InputError(f"no threshold for the {loss.title or loss.name} loss at the uniform point: {loss.not_smooth_at_0}")
    return float(loss.gain)


_B = sympy.Symbol("b", positive=True)
_S = sympy.Symbol("s", positive=True)


@lru_cache(maxsize=64)
def _scale_of_b(loss: PairLoss) -> Callable:
    return sympy.lambdify(_B, loss.scale_of_b(_B), "numpy")


@lru_cache(maxsize=64)
def _b_of_mp(loss: PairLoss) -> Callable:
    return sympy.lambdify(_S, loss.b_of(_S), "mpmath")


def threshold_side(loss: Any) -> str:
    """Where the uniform point is unstable relative to :func:`threshold_curve`: ``"above"`` or ``"below"``.

    Unstable iff ``b < b*``; ``"above"`` when ``b`` decreases as the scale grows (IPO: ``b = 2/beta``),
    ``"below"`` when it increases (DPO: ``b = beta_dpo``).

    >>> threshold_side("ipo"), threshold_side("dpo")
    ('above', 'below')
    """
    f = _b_of_mp(as_loss(loss))
    return "above" if f(mpmath.mpf(2)) < f(mpmath.mpf(1)) else "below"


def threshold_curve(loss: Any, rho: float, K: int, alphas: Sequence[float], lam: float = 1.0) -> np.ndarray:
    """The critical value of the loss's scale at the uniform point of a balanced ``P`` (LOSS-3), per alpha.

    ``b* = c_f lam rho / (K sqrt(1 - alpha^2))`` with the gain ``c_f = loss.gain`` and ``rho = ||S||_2``;
    the uniform point (``pi_0 = pi_ref`` uniform) is unstable iff ``b < b*``, i.e. for the scale on the
    side :func:`threshold_side` of the returned value (``b*`` is ``inf`` at ``alpha = 1``).
    ``b*`` is converted to the scale by ``loss.scale_of_b``, evaluated in float64.

    Parameters
    ----------
    loss : PairLoss, built-in name or expression; needs ``f''(0) > 0`` (else :class:`InputError`
        with the reason: the hinge has no threshold at the uniform point)
    rho : ``||S||_2`` (``sqrt(3) a`` for ``P_cyc(a)``)
    K : number of responses
    alphas : alphas in [0, 1]
    lam : lambda in [0, 1]

    >>> threshold_curve("ipo", 3 ** 0.5 * 0.25, 3, [0.0, 1.0]).round(6).tolist()   # DYN-1: critical beta
    [6.928203, 0.0]
    """
    L = as_loss(loss)
    gain = _gain(L)
    al = np.asarray(alphas, dtype=float)
    if np.any(~((al >= 0) & (al <= 1))):
        raise InputError("alphas must lie in [0, 1]")
    if not 0 <= float(lam) <= 1:
        raise InputError(f"lam = {lam}, expected 0 <= lam <= 1")
    if not (float(rho) >= 0 and int(K) >= 2):
        raise InputError(f"rho = {rho}, K = {K}: expected rho >= 0 and K >= 2")
    with np.errstate(divide="ignore", invalid="ignore"):
        root = np.sqrt(1.0 - al**2)
        b_star = np.where(root > 0, gain * float(lam) * float(rho) / (int(K) * np.where(root > 0, root, 1.0)), np.inf)
        return np.asarray(_scale_of_b(L)(b_star), dtype=float) * np.ones_like(al)


def balanced_modulus(loss: Any, rho: Any, K: int, alpha: Any, scale: Any, lam: Any) -> mpmath.mpf:
    """``alpha^2 + (c_f lam rho / (b K))^2`` at the current precision (squared spectral radius; unstable iff > 1).

    >>> with mpmath.workdps(20):
    ...     print(balanced_modulus("dpo", mpmath.sqrt(3) / 4, 3, "1/2", 1, 1))    # DPO-4: 1/4 + 16 a^2/3 at a = 1/4
    0.58333333333333333333
    """
    L = as_loss(loss)
    if L.gain is None:
        _gain(L)
    b = _b_of_mp(L)(mpf(scale))
    return mpf(alpha) ** 2 + (mpf(L.gain) * mpf(lam) * mpf(rho) / (b * K)) ** 2


def dpo_balanced_modulus(rho: Any, K: int, alpha: Any, beta_dpo: Any, lam: Any) -> mpmath.mpf:
    """DPO-6: ``alpha^2 + (4 lam rho / (beta_dpo K))^2`` (:func:`balanced_modulus` of the logistic loss)."""
    return balanced_modulus(BUILTIN["dpo"], rho, K, alpha, beta_dpo, lam)


def ipo_balanced_modulus(rho: Any, K: int, alpha: Any, beta: Any, lam: Any) -> mpmath.mpf:
    """DYN-6: ``alpha^2 + (beta lam rho / K)^2`` (:func:`balanced_modulus` of the squared loss)."""
    return balanced_modulus(BUILTIN["ipo"], rho, K, alpha, beta, lam)


def dyn1_curve(alphas: np.ndarray, a: float) -> np.ndarray:
    """DYN-1: ``beta lambda = sqrt(3 (1 - alpha^2)) / a`` (the 3-cycle threshold; the IPO :func:`threshold_curve` at ``lam = 1``)."""
    al = np.clip(np.asarray(alphas, float), 0.0, 1.0)
    return threshold_curve(BUILTIN["ipo"], np.sqrt(3.0) * a, 3, al, 1.0)


def balanced_curve(alphas: np.ndarray, P: np.ndarray) -> np.ndarray:
    """DYN-6 and LOSS-3 on the IPO-equivalent axis: ``beta lambda = K sqrt(1 - alpha^2) / ||S||_2`` for balanced ``P``."""
    P = np.asarray(P, float)
    al = np.clip(np.asarray(alphas, float), 0.0, 1.0)
    return threshold_curve(BUILTIN["ipo"], skew_norm(P), P.shape[0], al, 1.0)


def q_one_curve(alphas: np.ndarray, P: np.ndarray) -> np.ndarray:
    """DYN-2: ``q = 1`` i.e. ``beta lambda = 2 (1 - alpha) / ||S||_2``."""
    return 2 * (1 - np.asarray(alphas, float)) / skew_norm(P)


#: What :func:`dpo_cycle_threshold_curve` can return.
DPO_CURVE_QUANTITIES = ("lam_over_beta_dpo", "ipo_equivalent", "beta_dpo")


def dpo_cycle_threshold_curve(a: float, alphas: Sequence[float], lam: float = 1.0, quantity: str = "lam_over_beta_dpo") -> np.ndarray:
    """The DPO-4 threshold curve for ``P_cyc(a)`` (``pi_0 = pi_ref`` uniform), from :func:`threshold_curve`.

    ``quantity``: ``"lam_over_beta_dpo"`` (default) the critical ``lambda / beta_dpo`` =
    ``sqrt(3 (1 - alpha^2)) / (4 a)``, unstable above (on the ``beta*lambda`` axis: the IPO curve
    divided by 4); ``"ipo_equivalent"`` the critical ``4 lambda / beta_dpo`` (the IPO curve);
    ``"beta_dpo"`` the critical ``beta_dpo`` at ``lam``, ``4 a lam / sqrt(3 (1 - alpha^2))``, unstable
    *below* (``inf`` at ``alpha = 1``).

    >>> [round(float(v), 6) for v in dpo_cycle_threshold_curve(0.25, [0.0, 0.6, 1.0])]
    [1.732051, 1.385641, 0.0]
    """
    if quantity not in DPO_CURVE_QUANTITIES:
        raise InputError(f"quantity = {quantity!r}, expected one of {DPO_CURVE_QUANTITIES}")
    a = float(a)
    if not 0 < a <= 0.5:
        raise InputError(f"a = {a}, expected 0 < a <= 1/2")
    al = np.asarray(alphas, dtype=float)
    if quantity == "beta_dpo":
        return threshold_curve(BUILTIN["dpo"], np.sqrt(3.0) * a, 3, al, lam)
    with np.errstate(divide="ignore"):
        lob = 1.0 / threshold_curve(BUILTIN["dpo"], np.sqrt(3.0) * a, 3, al, 1.0)  # critical lambda / beta_dpo
    return lob if quantity == "lam_over_beta_dpo" else 4.0 * lob


_CURVE_LABELS = {
    "lam_over_beta_dpo": "MRS-DPO threshold: critical lambda/beta_dpo (DPO-4)",
    "ipo_equivalent": "MRS-DPO threshold: critical 4 lambda/beta_dpo (DPO-4)",
    "beta_dpo": "MRS-DPO threshold: critical beta_dpo at lambda = {lam:g} (DPO-4)",
}


def dpo_phase_extra_curve(a: float, alphas: Sequence[float], lam: float = 1.0, quantity: str = "lam_over_beta_dpo") -> tuple[str, np.ndarray, np.ndarray]:
    """``(label, alphas, values)`` for the ``extra_curves`` argument of :func:`verify.plots.phase_figure`.

    >>> label, al, v = dpo_phase_extra_curve(0.25, [0.0, 1.0])
    >>> label, [round(float(x), 4) for x in v]
    ('MRS-DPO threshold: critical lambda/beta_dpo (DPO-4)', [1.7321, 0.0])
    """
    al = np.asarray(alphas, dtype=float)
    values = dpo_cycle_threshold_curve(a, al, lam=lam, quantity=quantity)
    return _CURVE_LABELS[quantity].format(lam=float(lam)), al, values


# ----------------------------------------------------------------------------- fixed points


def batch_fixed_points(
    P: np.ndarray,
    alpha: np.ndarray,
    beta: np.ndarray,
    lam: np.ndarray,
    pi_ref=None,
    pi0=None,
    x0: np.ndarray | None = None,
    iters: int = 100,
    tol: float = 1e-11,
    max_logit: float = np.inf,
    *,
    loss: Any = "ipo",
):
    """Batched damped Newton for fixed points of the MRS map in centred logits (float64), any smooth loss.

    ``P`` is ``(K, K)`` or ``(N, K, K)``; ``alpha, lam`` and ``beta`` (the loss's scale parameter:
    IPO's ``beta``, DPO's ``beta_dpo``, ...) are ``(N,)``; ``x0`` ``(N, K)`` centred logits.
    The residual is ``H^T F(x) - y`` with ``F`` the one batched step
    (:func:`verify.numerics.batch.make_step`) and ``H`` the Helmert basis; its Jacobian is
    ``step.jacobian - I``. Returns ``(pi (N, K), converged (N,), rho (N,), x (N, K))`` with ``rho`` the
    spectral radius of the centred-logit Jacobian at the root and ``x`` the root in centred logits
    (finite even when entries of ``pi`` underflow in float64). Roots with a centred logit above
    ``max_logit`` in absolute value are not counted as converged (Newton running off to the
    boundary); rows whose inner solve fails are not converged.
    """
    al = np.asarray(alpha, float)
    N = al.shape[0]
    P = np.asarray(P, float)
    K = P.shape[-1]
    step = make_step(P, loss, al, np.asarray(lam, float), pi_ref, pi0, scale=np.asarray(beta, float), B=N)
    H = helmert_basis(K)
    eye = np.eye(K - 1)
    x = np.zeros((N, K)) if x0 is None else np.asarray(x0, float).copy()
    y = x @ H

    def resid(y):
        lp = normalise_log(y @ H.T)
        out, ok = step.try_step(lp)
        R = np.asarray(out) @ H - y
        R[~ok] = np.inf
        return R, lp

    R, lp = resid(y)
    nr = np.linalg.norm(R, axis=1)
    for _ in range(iters):
        active = ~(nr <= tol)
        if not active.any():
            break
        J = step.jacobian(lp) - eye
        J = np.where(np.isfinite(J), J, 0.0)
        Rf = np.where(np.isfinite(R), R, 0.0)
        try:
            dy = np.linalg.solve(J, -Rf[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:  # one singular matrix fails the whole stack: use the pseudo-inverse
            dy = (np.linalg.pinv(J) @ -Rf[:, :, None])[:, :, 0]
        dy = np.where(np.isfinite(dy), dy, 0.0)
        t = np.ones(N)
        for _ in range(30):
            yn = y + t[:, None] * dy
            Rn, lpn = resid(yn)
            nn = np.linalg.norm(Rn, axis=1)
            ok = (nn < nr) | ~active
            if ok.all():
                break
            t = np.where(ok, t, t / 2)
        upd = active & (nn < nr)
        y = np.where(upd[:, None], yn, y)
        R = np.where(upd[:, None], Rn, R)
        lp = np.where(upd[:, None], lpn, lp)
        nr = np.where(upd, nn, nr)
        if not (upd | ~active).any():
            break
    pi = np.exp(lp)
    conv = (nr <= 1e-9) & np.isfinite(y).all(axis=1) & (np.abs(y @ H.T).max(axis=1) < max_logit)
    Jf = step.jacobian(lp)
    good = np.isfinite(Jf).all(axis=(1, 2))
    rho = np.full(N, np.nan)
    if good.any():
        rho[good] = np.abs(np.linalg.eigvals(Jf[good])).max(axis=1)
    return pi, conv & good, rho, y @ H.T


@dataclass
class PhaseDiagram:
    """Grid, region codes ``(n_alpha, n_values)`` and per-point evidence.

    ``bls`` holds the vertical-axis values as given: the IPO-equivalent ``beta * lambda``
    (``axis = "bl"``) or the loss's scale (``axis = "scale"``); ``scales`` the loss's scale per row.
    """

    alphas: np.ndarray
    bls: np.ndarray
    lam: float
    regions: np.ndarray
    rho: np.ndarray
    n_fixed_points: np.ndarray
    oscillating_fraction: np.ndarray
    cycle_strength: np.ndarray
    P: np.ndarray
    info: dict = field(default_factory=dict)
    loss: PairLoss = field(default_factory=lambda: BUILTIN["ipo"])
    axis: str = "bl"
    axis_label: str = "beta * lambda"
    scales: np.ndarray | None = None

    def counts(self) -> dict[str, int]:
        return {name: int((self.regions == k).sum()) for k, name in enumerate(REGIONS)}


_T = sympy.Symbol("t", positive=True)
_L = sympy.Symbol("l", positive=True)


@lru_cache(maxsize=64)
def _scale_of_bl(loss: PairLoss) -> Callable:
    """The scale whose ``c_f lam / b`` equals ``t`` (the IPO-equivalent ``beta * lambda``), as a numpy function of ``(t, lam)``."""
    return sympy.lambdify((_T, _L), sympy.simplify(loss.scale_of_b(loss.gain * _L / _T)), "numpy")


def _axis_label(loss: PairLoss, axis: str) -> str:
    """``beta * lambda`` for IPO; ``4 * lambda/beta_dpo (IPO-equivalent beta * lambda)`` for DPO; the scale name on a scale axis."""
    if axis == "scale":
        return loss.scale_name
    expr = sympy.simplify(loss.gain * sympy.Symbol("lambda", positive=True) / loss.b_of(sympy.Symbol(loss.scale_name, positive=True)))
    label = sympy.sstr(expr).replace("*", " * ")
    return label if label == "beta * lambda" else f"{label} (IPO-equivalent beta * lambda)"


def phase_diagram(
    P: Any,
    alphas: Sequence[float],
    bls: Sequence[float] | None = None,
    *,
    scales: Sequence[float] | None = None,
    lam: float = 1.0,
    loss: Any = "ipo",
    pi_ref=None,
    pi0=None,
    steps: int = 1500,
    n_starts: int = 3,
    n_fp_starts: int = 3,
    seed: int = 0,
    progress: Callable[[int, int, str], None] | None = None,
) -> PhaseDiagram:
    """Classify every grid point into the regions of :data:`REGIONS`, for any smooth loss.

    Parameters
    ----------
    P : ``(K, K)`` preference matrix (float)
    alphas : the horizontal axis
    bls : the vertical axis as the IPO-equivalent ``beta * lambda`` = ``c_f lam / b`` (IPO: ``beta lam``;
        DPO: ``4 lam / beta_dpo``); or
    scales : the vertical axis as the loss's scale parameter (exactly one of ``bls``, ``scales``)
    lam : lambda > 0, fixed over the grid
    loss : PairLoss, built-in name or expression (default IPO); not a piecewise-linear loss (its
        optimum is a set and the map has no Jacobian)
    pi_ref, pi0, steps, n_starts, n_fp_starts, seed, progress : see the module docstring
    """
    L = as_loss(loss)
    if method_for(L) == "enumerate":
        raise InputError(f"the phase diagram needs a loss with f'' > 0 near its optimum; the {L.title or L.name} loss is piecewise "
                         "linear (its optimum is a set): simulate it instead")
    P = np.asarray(P, float)
    K = P.shape[0]
    A = np.asarray(alphas, float)
    if lam <= 0:
        raise ValueError(f"lam = {lam}, expected > 0 (the diagram's axis is beta*lambda)")
    if (bls is None) == (scales is None):
        raise InputError("give exactly one of bls (IPO-equivalent beta*lambda) and scales (the loss's scale)")
    axis = "bl" if scales is None else "scale"
    Lv = np.asarray(bls if scales is None else scales, float)
    ga, gv = np.meshgrid(A, Lv, indexing="ij")
    al = ga.ravel()
    if axis == "bl":
        if L.gain is None:
            raise InputError(f"no IPO-equivalent axis for the {L.title or L.name} loss ({L.not_smooth_at_0}): use scales=")
        sc = np.asarray(_scale_of_bl(L)(np.maximum(gv.ravel(), 1e-12), float(lam)), float) * np.ones_like(al)
    else:
        sc = gv.ravel()
    G = al.size
    rng = np.random.default_rng(seed)
    # fixed points from several starts
    S = n_fp_starts
    x0 = np.concatenate([np.zeros((G, K))] + [rng.normal(0, 2.0, (G, K)) for _ in range(S - 1)])
    x0 -= x0.mean(axis=1, keepdims=True)
    rep = lambda v: np.tile(v, S)  # noqa: E731
    pis, conv, rhos, _ = batch_fixed_points(P, rep(al), rep(sc), rep(np.full(G, lam)), pi_ref, pi0, x0=x0, max_logit=600.0, loss=L)
    pis = pis.reshape(S, G, K)
    conv = conv.reshape(S, G)
    rhos = rhos.reshape(S, G)
    nfp = np.zeros(G, dtype=int)
    rho = np.full(G, np.nan)
    for g in range(G):
        roots: list[np.ndarray] = []
        rr: list[float] = []
        for s in range(S):
            if conv[s, g] and not any(np.abs(pis[s, g] - r).max() < 1e-6 for r in roots):
                roots.append(pis[s, g])
                rr.append(rhos[s, g])
        nfp[g] = len(roots)
        rho[g] = rr[0] if rr else np.nan
    # dynamics
    n = n_starts
    starts = [near_uniform_starts(G, K, rng, 1e-3)] + [normalise_log(rng.normal(0, 1.5, (G, K))) for _ in range(n - 1)]
    lp0 = np.concatenate(starts)
    step = make_step(P, L, np.tile(al, n), lam, pi_ref, pi0, scale=np.tile(sc, n), B=G * n)
    failed = np.zeros(G * n, dtype=bool)
    if step.method != "closed":
        inner = step

        def step(lp):  # a failed inner solve marks its row undecided and freezes it, instead of stopping the grid
            out, ok = inner.try_step(lp)
            bad = ~ok | ~np.isfinite(out).all(axis=1)
            failed[bad] = True
            return np.where(bad[:, None], lp, out)

    res = run_batch(step, lp0, steps, burn_in=steps // 2, progress=progress, tol=1e-9)
    osc = res.metrics["oscillating"].reshape(n, G)
    cvg = res.metrics["converged"].reshape(n, G)
    cs = res.metrics["cycle_strength"].reshape(n, G).max(axis=0)
    regions = np.full(G, 4)
    one = nfp == 1
    regions[one & (rho < 1) & cvg.all(axis=0)] = 0
    regions[one & (rho > 1) & osc.all(axis=0)] = 1
    regions[nfp > 1] = 2
    slow = (rho >= 0.99) & (rho < 1) & osc.any(axis=0)
    regions[slow] = 4  # a decay slower than the detection window: not called either way
    regions[(nfp >= 1) & (rho < 0.99) & osc.any(axis=0)] = 3
    regions[failed.reshape(n, G).any(axis=0)] = 4
    shape = (A.size, Lv.size)
    return PhaseDiagram(
        A,
        Lv,
        lam,
        regions.reshape(shape),
        rho.reshape(shape),
        nfp.reshape(shape),
        osc.mean(axis=0).reshape(shape),
        cs.reshape(shape),
        P,
        {"steps": steps, "n_starts": n_starts, "n_fp_starts": n_fp_starts, "seed": seed, "inner_failures": int(failed.sum())},
        L,
        axis,
        _axis_label(L, axis),
        sc.reshape(shape),
    )


# ----------------------------------------------------------------------------- one run, summarised


def fixed_point_summary(P: np.ndarray, loss: Any, alpha: float, lam: float, pi_ref=None, pi0=None) -> dict | None:
    """The fixed point reached from the uniform point by damped Newton, and its spectral radius (float64), or None.

    ``loss`` carries the scale (a name stands for the loss at its default scale: IPO's ``beta = 1``).

    Returns ``{"pi": [...], "spectral_radius": rho, "stability": "stable" | "unstable" | "neutral"}``;
    None when Newton does not converge, and for a piecewise-linear loss (the hinge: its optimum is
    a set and the map has no Jacobian).

    >>> fixed_point_summary(cyclic_matrix(0.4), "ipo", 0.2, 1.0)["stability"]
    'stable'
    """
    L = as_loss(loss)
    if method_for(L) == "enumerate":
        return None
    pi, conv, rho, _ = batch_fixed_points(np.asarray(P, float), np.array([float(alpha)]), np.array([float(L.scale)]),
                                          np.array([float(lam)]), pi_ref, pi0, iters=200, loss=L)
    if not conv[0]:
        return None
    r = float(rho[0])
    return {"pi": pi[0].tolist(), "spectral_radius": r, "stability": "stable" if r < 1 else ("unstable" if r > 1 else "neutral")}


def run_status(metrics: dict, pi_final: np.ndarray) -> str:
    """``oscillating``, ``converged``, ``concentrating on response k (...)`` or ``not converged``, from a run's metrics.

    ``metrics`` holds the scalar metrics of one run (:mod:`verify.numerics.metrics`: ``oscillating``,
    ``converged``); ``pi_final`` its final policy.
    """
    pi_final = np.asarray(pi_final, float)
    if metrics["oscillating"]:
        return "oscillating"
    if metrics["converged"]:
        return "converged"
    if pi_final.max() > 1 - 1e-9:
        return f"concentrating on response {int(np.argmax(pi_final))} (log-probabilities still moving)"
    return "not converged"


def run_summary(P: np.ndarray, loss: Any, alpha: float, lam: float, result: Any, pi_ref=None, pi0=None, row: int = 0) -> dict:
    """What ``prefdyn simulate`` reports of one run: status, period, fixed point (see :func:`fixed_point_summary`).

    ``loss`` carries the run's scale (a name stands for the loss at its default scale);
    ``result`` is the :class:`verify.numerics.simulate.BatchResult` of the run (row ``row``).

    >>> from verify.numerics.losses import loss
    >>> from verify.numerics.simulate import simulate
    >>> res = simulate(cyclic_matrix(0.4), 0.9, 8, 1, steps=600)
    >>> s = run_summary(cyclic_matrix(0.4), loss("ipo", scale=8), 0.9, 1, res)
    >>> s["status"], 10 < s["period"] < 14, s["fixed_point"]["stability"]
    ('oscillating', True, 'unstable')
    """
    m = {k: v[row] for k, v in result.metrics.items()}
    pi_T = np.exp(result.logpi[row])
    L = as_loss(loss)
    fp = fixed_point_summary(P, L, alpha, lam, pi_ref, pi0)
    if fp is not None:
        note = None
    elif method_for(L) == "enumerate":
        note = "not computed: the optimum of a piecewise-linear loss is a set, the map has no Jacobian"
    else:
        note = "not found: damped Newton from the uniform point did not converge"
    return {
        "status": run_status(m, pi_T),
        "converged": bool(m["converged"]),
        "converged_at": int(m["converged_at"]),
        "oscillating": bool(m["oscillating"]),
        "period": None if np.isnan(m["period"]) else float(m["period"]),
        "metrics": m,
        "final_pi": pi_T,
        "fixed_point": fp,
        "fixed_point_note": note,
    }
