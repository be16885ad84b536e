"""DYN-5: the phase diagram of MRS-IPO over ``(alpha, beta * lambda)`` for a given ``P``.

Each grid point ``(alpha, beta lambda)`` (with ``lambda`` fixed, ``beta = (beta lambda) / lambda``)
is classified by float64 computations, all batched over the grid:

1. **fixed points** — damped Newton on the centered-logit map from ``n_fp_starts`` starts per
   point (uniform + seeded random logits); roots agreeing to ``1e-6`` are merged;
2. **linear stability** — spectral radius ``rho`` of the centered-logit Jacobian at each root;
3. **dynamics** — ``n_starts`` trajectories (near-uniform and random starts) of ``steps`` steps,
   with the streaming metrics of :mod:`verify.numerics.metrics`.

Regions (integer codes): ``0 stable`` — one fixed point, ``rho < 1``, every trajectory converges;
``1 cycle`` — one fixed point, ``rho > 1``, trajectories oscillate persistently (an attracting
invariant set that is not a point); ``2 several`` — more than one fixed point; ``3 bistable`` —
a stable fixed point (``rho < 0.99``) and a persistent oscillation from some start; ``4 undecided`` —
anything else (e.g. convergence slower than ``steps``, or ``0.99 <= rho < 1`` with an oscillation
that has not decayed within the detection window). The ``alpha = 1`` column is degenerate: the map
``log pi' = log pi + beta P mu - c`` has an interior fixed point only if ``S mu = 0`` is solvable
(otherwise trajectories concentrate or cycle toward the boundary), and the identity map at
``beta lambda = 0`` fixes every point (shown as ``several``).

>>> d = phase_diagram(cyclic_matrix(0.4), alphas=[0.2, 0.9], bls=[1.0, 8.0], steps=400)
>>> d.regions.tolist()
[[0, 1], [0, 1]]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from verify.numerics.simulate import cyclic_matrix, make_ipo_batch_step, near_uniform_starts, normalise_log, run_batch

__all__ = [
    "REGIONS",
    "PhaseDiagram",
    "phase_diagram",
    "batch_fixed_points",
    "dyn1_curve",
    "balanced_curve",
    "q_one_curve",
    "skew_norm",
    "plot_phase",
    "cyclic_matrix",
]

REGIONS = ("stable", "cycle", "several", "bistable", "undecided")


def skew_norm(P: np.ndarray) -> float:
    """``||P - (1/2) 11^T||_2``."""
    return float(np.linalg.norm(np.asarray(P, float) - 0.5, 2))


def dyn1_curve(alphas: np.ndarray, a: float) -> np.ndarray:
    """DYN-1: ``beta lambda = sqrt(3 (1 - alpha^2)) / a`` (the 3-cycle threshold)."""
    al = np.asarray(alphas, float)
    return np.sqrt(3.0 * np.clip(1 - al**2, 0, None)) / a


def balanced_curve(alphas: np.ndarray, P: np.ndarray) -> np.ndarray:
    """DYN-6: ``beta lambda = K sqrt(1 - alpha^2) / ||S||_2`` for balanced ``P``."""
    P = np.asarray(P, float)
    return P.shape[0] * np.sqrt(np.clip(1 - np.asarray(alphas, float) ** 2, 0, None)) / skew_norm(P)


def q_one_curve(alphas: np.ndarray, P: np.ndarray) -> np.ndarray:
    """DYN-2: ``q = 1`` i.e. ``beta lambda = 2 (1 - alpha) / ||S||_2``."""
    return 2 * (1 - np.asarray(alphas, float)) / skew_norm(P)


def _helmert(K: int) -> np.ndarray:
    H = np.zeros((K, K - 1))
    for c in range(1, K):
        n = np.sqrt(c * (c + 1))
        H[:c, c - 1] = 1 / n
        H[c, c - 1] = -c / n
    return H


def batch_fixed_points(P: np.ndarray, alpha: np.ndarray, beta: np.ndarray, lam: np.ndarray, pi_ref=None, pi0=None, x0: np.ndarray | None = None, iters: int = 100, tol: float = 1e-11, max_logit: float = np.inf):
    """Batched damped Newton for fixed points in centered logits (float64).

    ``P`` is ``(K, K)`` or ``(N, K, K)``; parameters ``(N,)``; ``x0`` ``(N, K)`` centered logits.
    Returns ``(pi (N, K), converged (N,), rho (N,), x (N, K))`` with ``rho`` the spectral radius of
    the centered-logit Jacobian at the root and ``x`` the root in centered logits (finite even when
    entries of ``pi`` underflow in float64). Roots with a centered logit above ``max_logit`` in absolute
    value are not counted as converged (Newton running off to the boundary).
    """
    al, be, la = (np.asarray(v, float) for v in (alpha, beta, lam))
    N = al.shape[0]
    P = np.asarray(P, float)
    K = P.shape[-1]
    Pb = np.broadcast_to(P, (N, K, K))
    H = _helmert(K)
    ref = np.full(K, 1 / K) if pi_ref is None else np.asarray(pi_ref, float)
    p0 = np.full(K, 1 / K) if pi0 is None else np.asarray(pi0, float)
    lref = np.broadcast_to(np.log(ref), (N, K))
    c0 = (1 - al)[:, None] * lref + (be * (1 - la))[:, None] * np.einsum("nij,j->ni", Pb, p0) if p0.ndim == 1 else (1 - al)[:, None] * lref + (be * (1 - la))[:, None] * np.einsum("nij,nj->ni", Pb, p0)
    x = np.zeros((N, K)) if x0 is None else np.asarray(x0, float).copy()
    y = x @ H

    def resid(y):
        x = y @ H.T
        lp = normalise_log(x)
        pi = np.exp(lp)
        z = al[:, None] * lp + c0 + (be * la)[:, None] * np.einsum("nij,nj->ni", Pb, pi)
        return z @ H - y, pi

    def jac(pi):
        M = np.einsum("ni,ij->nij", pi, np.eye(K)) - pi[:, :, None] * pi[:, None, :]
        A = al[:, None, None] * np.eye(K) + (be * la)[:, None, None] * (Pb @ M)
        return H.T @ A @ H

    R, pi = resid(y)
    nr = np.linalg.norm(R, axis=1)
    for _ in range(iters):
        active = nr > tol
        if not active.any():
            break
        J = jac(pi) - np.eye(K - 1)
        J = np.where(np.isfinite(J), J, 0.0)
        try:
            step = np.linalg.solve(J, -R[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:  # one singular matrix fails the whole stack: use the pseudo-inverse
            step = (np.linalg.pinv(J) @ -R[:, :, None])[:, :, 0]
        step = np.where(np.isfinite(step), step, 0.0)
        t = np.ones(N)
        for _ in range(30):
            yn = y + t[:, None] * step
            Rn, pin = resid(yn)
            nn = np.linalg.norm(Rn, axis=1)
            ok = (nn < nr) | ~active
            if ok.all():
                break
            t = np.where(ok, t, t / 2)
        upd = active & (nn < nr)
        y = np.where(upd[:, None], yn, y)
        R = np.where(upd[:, None], Rn, R)
        pi = np.where(upd[:, None], pin, pi)
        nr = np.where(upd, nn, nr)
        if not (upd | ~active).any():
            break
    conv = (nr <= 1e-9) & np.isfinite(y).all(axis=1) & (np.abs(y @ H.T).max(axis=1) < max_logit)
    Jf = jac(pi)
    good = np.isfinite(Jf).all(axis=(1, 2))
    rho = np.full(N, np.nan)
    if good.any():
        rho[good] = np.abs(np.linalg.eigvals(Jf[good])).max(axis=1)
    return pi, conv & good, rho, y @ H.T


@dataclass
class PhaseDiagram:
    """Grid, region codes ``(n_alpha, n_bl)`` and per-point evidence."""

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

    def counts(self) -> dict[str, int]:
        return {name: int((self.regions == k).sum()) for k, name in enumerate(REGIONS)}


def phase_diagram(
    P: Any,
    alphas: Sequence[float],
    bls: Sequence[float],
    *,
    lam: float = 1.0,
    pi_ref=None,
    pi0=None,
    steps: int = 1500,
    n_starts: int = 3,
    n_fp_starts: int = 3,
    seed: int = 0,
    progress: Callable[[int, int, str], None] | None = None,
) -> PhaseDiagram:
    """Classify every grid point ``(alpha, beta lambda)`` into the regions of :data:`REGIONS`."""
    P = np.asarray(P, float)
    K = P.shape[0]
    A = np.asarray(alphas, float)
    L = np.asarray(bls, float)
    if lam <= 0:
        raise ValueError(f"lam = {lam}, expected > 0 (the diagram's axis is beta*lambda)")
    ga, gb = np.meshgrid(A, L, indexing="ij")
    al = ga.ravel()
    bl = np.maximum(gb.ravel(), 1e-12)
    G = al.size
    rng = np.random.default_rng(seed)
    # fixed points from several starts
    S = n_fp_starts
    x0 = np.concatenate([np.zeros((G, K))] + [rng.normal(0, 2.0, (G, K)) for _ in range(S - 1)])
    x0 -= x0.mean(axis=1, keepdims=True)
    rep = lambda v: np.tile(v, S)  # noqa: E731
    pis, conv, rhos, _ = batch_fixed_points(P, rep(al), rep(bl / lam), rep(np.full(G, lam)), pi_ref, pi0, x0=x0, max_logit=600.0)
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
    step = make_ipo_batch_step(P, np.tile(al, n), np.tile(bl / lam, n), lam, pi_ref, pi0, B=G * n)
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
    shape = (A.size, L.size)
    return PhaseDiagram(
        A,
        L,
        lam,
        regions.reshape(shape),
        rho.reshape(shape),
        nfp.reshape(shape),
        osc.mean(axis=0).reshape(shape),
        cs.reshape(shape),
        P,
        {"steps": steps, "n_starts": n_starts, "n_fp_starts": n_fp_starts, "seed": seed},
    )


def plot_phase(
    diagram: PhaseDiagram,
    path: str,
    *,
    extra_curves: Sequence[tuple[str, Sequence[float], Sequence[float]]] = (),
    title: str | None = None,
) -> str:
    """Write the diagram as a PNG with the DYN-1/DYN-6 curve (balanced ``P``) and the ``q = 1`` curve.

    ``extra_curves = [(label, alphas, values), ...]`` are drawn on the same
    ``(alpha, beta lambda)`` axes (e.g. an MRS-DPO threshold). Needs matplotlib
    (``pip install 'prefdyn[plot]'``); raises ``ImportError`` with that hint otherwise.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.colors import ListedColormap
    except ImportError as e:  # pragma: no cover - exercised via monkeypatch in tests
        raise ImportError("plotting needs matplotlib: pip install 'prefdyn[plot]'") from e
    d = diagram
    colors = ["#cfe8cf", "#f4b6b6", "#b6c8f4", "#f4e3a1", "#dddddd"]
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    da = (d.alphas[1] - d.alphas[0]) / 2 if d.alphas.size > 1 else 0.05
    db = (d.bls[1] - d.bls[0]) / 2 if d.bls.size > 1 else 0.05
    ax.imshow(
        d.regions.T,
        origin="lower",
        aspect="auto",
        cmap=ListedColormap(colors),
        vmin=-0.5,
        vmax=4.5,
        extent=(d.alphas[0] - da, d.alphas[-1] + da, d.bls[0] - db, d.bls[-1] + db),
        interpolation="nearest",
    )
    fine = np.linspace(max(d.alphas[0], 0), min(d.alphas[-1], 1), 400)
    S = d.P - 0.5
    if np.allclose(S.sum(axis=1), 0, atol=1e-12):
        lbl = "DYN-1 threshold" if d.P.shape[0] == 3 else "DYN-6 threshold"
        ax.plot(fine, balanced_curve(fine, d.P), "k-", lw=2, label=lbl)
    else:
        ax.contour(d.alphas, d.bls, d.rho.T, levels=[1.0], colors="k", linewidths=2)
        ax.plot([], [], "k-", lw=2, label="rho = 1 (numeric)")
    ax.plot(fine, q_one_curve(fine, d.P), "k--", lw=1.5, label="q = 1 (DYN-2)")
    for label, xs, ys in extra_curves:
        ax.plot(np.asarray(xs, float), np.asarray(ys, float), lw=1.5, label=label)
    ax.set_ylim(d.bls[0] - db, d.bls[-1] + db)
    ax.set_xlim(d.alphas[0] - da, d.alphas[-1] + da)
    from matplotlib.patches import Patch

    handles, _ = ax.get_legend_handles_labels()
    handles += [Patch(color=colors[k], label=REGIONS[k]) for k in range(5) if (d.regions == k).any()]
    ax.legend(handles=handles, loc="upper right", fontsize=8)
    ax.set_xlabel("alpha")
    ax.set_ylabel("beta * lambda")
    ax.set_title(title or f"MRS-IPO phase diagram (K = {d.P.shape[0]}, lambda = {d.lam:g})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
