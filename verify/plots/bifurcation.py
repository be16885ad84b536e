r"""The figure of ``prefdyn bifurcation``: the threshold curve coloured by type, the type map, a simulated orbit.

Panels, left to right:

(a) **phase diagram** in ``(alpha, scale)``: the exact threshold curve of the uniform point
    (:class:`verify.commands.bifurcation.Bifurcation`), each stretch coloured by the type of the nearest
    computed point (supercritical blue, subcritical vermillion, degenerate grey), the computed points marked,
    the stable and the unstable (oscillating) side shaded and labelled, the simulated point starred.
(b) **type map** (the 3-cycle with the exact closed form, only when the sign of ``d`` changes over
    ``a in (0, 1/2]``, ``lam in (0, 1]``): the sign of ``d`` at the panel's ``alpha``, the curve ``d = 0``,
    the given ``(a, lam)`` marked. Otherwise the title says why there is no map (IPO: the type is the same
    everywhere).
(c) **an orbit just past the threshold** (:func:`orbit_past_threshold`) in the simplex (ternary view;
    ``K > 3``: ``(pi_a, pi_b, the rest)``): supercritical, the orbit settles on the invariant circle and the
    predicted circle ``l = 2 Re(w q)``, ``|w|^2 = -mu/d``, is drawn over it; subcritical, an orbit that leaves.

matplotlib is imported inside the functions (the ``plot`` extra); :func:`orbit_past_threshold` needs only numpy.
"""

from __future__ import annotations

import math
import os
from fractions import Fraction
from typing import Any

import numpy as np

from verify.plots.style import PALETTE, figure_style, math_name, matrix_mathtext, new_figure, require_matplotlib, tint

__all__ = ["HEIGHT", "TYPE_COLOURS", "TARGET_RADIUS", "MU_FLOOR", "orbit_past_threshold", "bifurcation_figure"]

#: Figure height in inches (the width is :data:`verify.plots.style.WIDTH`).
HEIGHT = 3.5
#: Colour of each type.
TYPE_COLOURS = {
    "supercritical": PALETTE["blue"],
    "subcritical": PALETTE["vermillion"],
    "degenerate": tint(PALETTE["black"], 0.45),
}
#: The predicted radius ``|w|`` of the circle the orbit is run at (chooses the distance past the threshold).
TARGET_RADIUS = 0.2
#: The smallest ``mu`` of a supercritical run (a small ``|d|`` then gives a larger circle, not a longer run).
MU_FLOOR = 0.002


def _type_key(kind: str) -> str:
    return kind if kind in ("supercritical", "subcritical") else "degenerate"


def _pick(bf) -> Any:
    """The decided point nearest ``alpha = 1/2`` (None when no point is decided)."""
    dec = [p for p in bf.points if p.kind in ("supercritical", "subcritical")]
    if not dec:
        return None
    return min(dec, key=lambda p: (abs(p.alpha - Fraction(1, 2)), p.alpha))


def _chart_eigen(step, K: int) -> tuple[complex, np.ndarray, np.ndarray]:
    """The critical eigenvalue (largest imaginary part) of the float Jacobian at the uniform point in the log-ratio
    chart, with ``q`` (``<q, q> = 1``) and ``p`` (``A^T p = conj(lambda) p``, ``<p, q> = 1``)."""
    from verify.numerics.basis import helmert_basis

    J = step.jacobian(np.full((1, K), -math.log(K)))[0]
    T = np.hstack([np.eye(K - 1), -np.ones((K - 1, 1))]) @ helmert_basis(K)
    A = T @ J @ np.linalg.inv(T)
    ev, V = np.linalg.eig(A)
    k = int(np.argmax(ev.imag))
    q = V[:, k] / np.sqrt(np.vdot(V[:, k], V[:, k]).real)
    evt, W = np.linalg.eig(A.T)
    j = int(np.argmin(np.abs(evt - np.conj(ev[k]))))
    p = W[:, j] / np.conj(np.vdot(W[:, j], q))
    return complex(ev[k]), q, p


def orbit_past_threshold(bf, *, seed: int = 0, radius: float = TARGET_RADIUS, alpha: Any = None) -> dict | None:
    """Simulate the MRS map (float64, :func:`verify.numerics.batch.make_step`) just past the threshold at one point.

    The point is the decided one nearest ``alpha = 1/2`` (or ``alpha``, one of ``bf``'s points), with its ``d``.
    The distance is chosen so that the predicted circle has ``|w| = radius`` (supercritical;
    ``mu = max(radius^2 |d|, MU_FLOOR)``) or so that ``mu = max(radius^2 d, 0.01)`` (subcritical): ``b = b_c/(1 + eps)`` with
    ``(1 + eps)^2 = ((1 + mu)^2 - alpha^2)/(1 - alpha^2)`` (LOSS-3: the modulus is
    ``sqrt(alpha^2 + (1 - alpha^2)(1 + eps)^2)``). At that ``b`` the eigenvalue ``lambda``, ``q`` and ``p`` are
    those of the float Jacobian at the uniform point in the log-ratio chart (``mu = |lambda| - 1``). The orbit
    starts at ``|w| = radius/5`` (phase from ``seed``; ``l = 2 Re(w q)``, ``w = <p, l>``).

    Supercritical: ``ceil(ln 25/(2 mu) + 5/mu)`` steps to settle, then ``max(500, ceil(2/mu))`` steps over which
    ``mean |w|^2`` is compared with ``-mu/d`` (``ratio``, ``1 + O(|w|^2)``: the quintic terms of the normal form). Subcritical: until ``|w|^2`` exceeds
    ``max(1, 25 mu/d)`` (``left``), at most ``ceil(6/mu) + 500`` steps.

    Returns a dict: ``alpha`` (str), ``eps``, ``mu``, ``b``, ``scale``, ``scale_name``, ``d``, ``kind``, ``steps``,
    ``pi`` (``(T+1, K)``), ``circle`` (``(200, K)`` policies on the predicted circle, or None), ``measured``,
    ``predicted``, ``ratio``, ``left``, ``failed``, ``seed``, ``text`` (one line); None when no point is decided.
    """
    import sympy

    from verify.numerics.batch import make_step

    if alpha is None:
        pt = _pick(bf)
    else:
        al = Fraction(alpha)
        pt = next((p for p in bf.points if p.alpha == al and p.kind in ("supercritical", "subcritical")), None)
    if pt is None:
        return None
    al = pt.alpha
    a_f = float(al)
    d = float(pt.d_float)
    sub = d > 0
    mu_t = max(radius**2 * d, 0.01) if sub else max(radius**2 * abs(d), MU_FLOOR)
    grow = math.sqrt(((1 + mu_t) ** 2 - a_f**2) / (1 - a_f**2))
    eps = Fraction(grow - 1).limit_denominator(10**9)
    b = sympy.radsimp(pt.b_c / (1 + sympy.Rational(eps.numerator, eps.denominator)))
    scale = float(bf.loss.scale_of_b(b))
    K = bf.K
    Pf = np.array([[float(x) for x in row] for row in bf.P.entries])
    step = make_step(Pf, bf.loss, a_f, float(bf.lam), scale=scale)
    lam_c, q, p = _chart_eigen(step, K)
    mu = abs(lam_c) - 1
    phase = np.random.default_rng(seed).uniform(0, 2 * np.pi)
    w0 = radius / 5 * np.exp(1j * phase)
    l0 = 2 * np.real(w0 * q)
    z = np.concatenate([l0, [0.0]])
    lp = (z - (z.max() + np.log(np.exp(z - z.max()).sum())))[None, :]
    if sub:
        steps = int(math.ceil(6 / mu)) + 500
        stop = max(1.0, 25 * mu / d)
    else:
        settle = int(math.ceil(math.log(25) / (2 * mu) + 5 / mu))
        avg = max(500, int(math.ceil(2 / mu)))
        steps = settle + avg
        stop = math.inf
    traj = np.empty((steps + 1, K))
    traj[0] = lp[0]
    pc = np.conj(p)
    failed = False
    n = steps
    for t in range(steps):
        new, ok = step.try_step(lp)
        if not (bool(ok[0]) and np.isfinite(new).all()):
            failed, n = True, t
            break
        lp = new
        traj[t + 1] = lp[0]
        l = lp[0, : K - 1] - lp[0, K - 1]
        if abs(pc @ l) ** 2 > stop:
            n = t + 1
            break
    traj = traj[: n + 1]
    L = traj[:, : K - 1] - traj[:, K - 1 :]
    w2 = np.abs(L @ pc) ** 2
    predicted = -mu / d
    circle = None
    if sub:
        measured = float(w2.max())
        ratio = None
        left = bool(measured > stop)
        text = (f"alpha = {al}, b = b_c/(1 + eps), eps = {float(eps):.4g} (mu = {mu:.3g}), subcritical: from |w|^2 = {abs(w0) ** 2:.3g} "
                + (f"the orbit leaves: |w|^2 = {measured:.3g} > max(1, 25 mu/d) after {n} steps" if left
                   else f"the orbit did not leave in {n} steps (max |w|^2 = {measured:.3g})"))
    else:
        measured = float(w2[-avg:].mean()) if len(w2) > avg else float("nan")
        ratio = measured / predicted
        left = bool(w2.max() > 25 * predicted)
        ang = np.linspace(0, 2 * np.pi, 200)
        Lc = 2 * np.real(np.sqrt(predicted) * np.exp(1j * ang)[:, None] * q[None, :])
        zc = np.concatenate([Lc, np.zeros((len(ang), 1))], axis=1)
        zc = zc - zc.max(axis=1, keepdims=True)
        circle = np.exp(zc) / np.exp(zc).sum(axis=1, keepdims=True)
        text = (f"alpha = {al}, b = b_c/(1 + eps), eps = {float(eps):.4g} (mu = {mu:.3g}), supercritical: settled mean |w|^2 = "
                f"{measured:.4g} over the last {avg} of {n} steps, predicted -mu/d = {predicted:.4g} (ratio {ratio:.3f}, 1 + O(|w|^2))")
    if failed:
        text += "; the inner solve failed, the orbit stops there"
    return {
        "alpha": str(al), "eps": float(eps), "mu": mu, "b": float(b), "scale": scale, "scale_name": bf.scale_name, "d": d,
        "kind": pt.kind, "steps": n, "pi": np.exp(traj), "circle": circle, "measured": measured,
        "predicted": predicted, "ratio": ratio, "left": left, "failed": failed, "seed": seed, "text": text,
    }


# ----------------------------------------------------------------------------- panels


def _phase_panel(ax, bf, orbit) -> list:
    from matplotlib.lines import Line2D

    pts = sorted(bf.points, key=lambda p: p.alpha)
    alphas = np.linspace(0.0, 0.995, 400)
    fn = bf.curve_function()
    ys = np.array([fn(x) for x in alphas])
    ymax = 1.45 * max([p.scale_float for p in pts] + [float(v) for v in ys[alphas <= 0.9]])
    ys_c = np.minimum(ys, 10 * ymax)
    above_colour, below_colour = tint(PALETTE["vermillion"], 0.82), tint(PALETTE["green"], 0.8)
    if bf.side == "below":
        above_colour, below_colour = below_colour, above_colour
    ax.fill_between(alphas, ys_c, 10 * ymax, color=above_colour, lw=0, zorder=0)
    ax.fill_between(alphas, 0, ys_c, color=below_colour, lw=0, zorder=0)
    # each stretch of the curve in the colour of the nearest computed point
    pa = np.array([float(p.alpha) for p in pts])
    near = np.abs(alphas[:, None] - pa[None, :]).argmin(axis=1)
    for i in range(len(alphas) - 1):
        c = TYPE_COLOURS[_type_key(pts[near[i]].kind)]
        ax.plot(alphas[i : i + 2], ys_c[i : i + 2], color=c, lw=2.2, solid_capstyle="butt", zorder=2)
    handles = []
    seen = set()
    for p in pts:
        key = _type_key(p.kind)
        mk = {"supercritical": "o", "subcritical": "s", "degenerate": "X"}[key]
        ax.plot(float(p.alpha), p.scale_float, marker=mk, ms=5, color=TYPE_COLOURS[key], mec="white", mew=0.6, zorder=3, ls="none")
        if key not in seen:
            seen.add(key)
            word = {"supercritical": "supercritical (d < 0)", "subcritical": "subcritical (d > 0)", "degenerate": "degenerate"}[key]
            handles.append(Line2D([], [], color=TYPE_COLOURS[key], marker=mk, lw=2.2, ms=5, mec="white", label=word))
    if orbit is not None:
        ax.plot(float(Fraction(orbit["alpha"])), orbit["scale"], marker="*", ms=11, color=PALETTE["orange"], mec="black", mew=0.5,
                zorder=4, ls="none")
        handles.append(Line2D([], [], marker="*", ms=9, color=PALETTE["orange"], mec="black", mew=0.5, ls="none", label="orbit of (c)"))
    up, down = ("unstable:\noscillation", "stable:\nuniform point") if bf.side == "above" else ("stable:\nuniform point", "unstable:\noscillation")
    ax.text(0.04, 0.96, up, transform=ax.transAxes, ha="left", va="top", fontsize=7.5)
    ax.text(0.96, 0.04, down, transform=ax.transAxes, ha="right", va="bottom", fontsize=7.5)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, ymax)
    ax.set_xlabel(math_name("alpha"))
    ax.set_ylabel(math_name(bf.scale_name))
    ax.set_title("(a) threshold curve by type")
    return handles


def _type_map_data(bf):
    """``(A, LAM, D, note)``: ``d`` on a grid of ``(a, lam)`` at the panel's ``alpha``, or ``(None, ..., note)``."""
    import sympy

    nf = bf.closed_form
    if bf.cycle is None:
        return None, None, None, "no type map: it is drawn for the 3-cycle family $P_{\\mathrm{cyc}}(a)$"
    if nf is None:
        return None, None, None, "no type map: it needs the exact closed form (theory.oscillation)"
    al_s, a_s, lam_s = nf.params
    if not ({a_s, lam_s} & nf.d.free_symbols):
        word = bf.points[0].kind if bf.points else ""
        tex = bf.closed_form_text.replace("alpha**2", "\\alpha^2").replace("*", " ")
        return None, None, None, (f"$d = {tex}$ depends on $\\alpha$ only: "
                                  f"the type ({word}) is the same for every $a$ and $\\lambda$")
    pt = _pick(bf) or bf.points[len(bf.points) // 2]
    fn = sympy.lambdify((a_s, lam_s), nf.d.subs(al_s, sympy.Rational(pt.alpha.numerator, pt.alpha.denominator)), "numpy")
    a = np.linspace(0.005, 0.5, 120)
    lam = np.linspace(0.005, 1.0, 120)
    A, LAM = np.meshgrid(a, lam)
    D = np.broadcast_to(np.asarray(fn(A, LAM), float), A.shape)
    if not ((D > 0).any() and (D < 0).any()):
        word = "supercritical" if (D <= 0).all() else "subcritical"
        return None, None, None, f"$d$ depends on $a$ and $\\lambda$ but the type is {word} on all of $(0, 1/2] \\times (0, 1]$"
    free_alpha = sympy.simplify(nf.d / (1 - al_s**2)).has(al_s)
    note = f"at $\\alpha$ = {pt.alpha}" + ("" if free_alpha else ", the same for every $\\alpha$")
    return A, LAM, D, note


def _type_panel(ax, bf, data) -> None:
    from matplotlib.colors import ListedColormap

    A, LAM, D, note = data
    cmap = ListedColormap([tint(TYPE_COLOURS["supercritical"], 0.55), tint(TYPE_COLOURS["subcritical"], 0.5)])
    ax.pcolormesh(A, LAM, (D > 0).astype(float), cmap=cmap, vmin=0, vmax=1, shading="auto", rasterized=True)
    ax.contour(A, LAM, D, levels=[0.0], colors=[PALETTE["black"]], linewidths=1.0)
    a, _ = bf.cycle
    ax.plot(float(a), float(bf.lam), marker="*", ms=11, color=PALETTE["orange"], mec="black", mew=0.5, ls="none", zorder=4, clip_on=False)
    for word, mask, spot in (("supercritical", D < 0, (0.2, 0.15)), ("subcritical", D > 0, (0.3, 0.8))):
        share = float(mask.mean())
        cx, cy = float(A[mask].mean()), float(LAM[mask].mean())
        if share > 0.2:
            ax.text(cx, cy, word, fontsize=7.5, ha="center", va="center")
        else:  # a small region: the word outside it, an arrow into it
            ax.annotate(word, (cx, cy), xytext=spot, textcoords="data", fontsize=7.5, ha="center", va="center",
                        arrowprops=dict(arrowstyle="->", lw=0.7, color=PALETTE["black"]))
    ax.set_xlim(0, 0.5)
    ax.set_ylim(0, 1)
    ax.set_xlabel("cycle strength $a$")
    ax.set_ylabel(math_name("lambda"))
    ax.set_title("(b) type over $(a, \\lambda)$,\n" + note, fontsize=8)


def _projection(pi: np.ndarray, K: int, idx: tuple | None = None):
    if K == 3:
        return pi, (0, 1, 2), [f"$\\pi_{{{k}}}$" for k in range(3)]
    if idx is None:
        mean = pi[len(pi) // 2 :].mean(axis=0)
        a, b = (int(i) for i in np.argsort(-mean, kind="stable")[:2])
    else:
        a, b = idx
    q = np.column_stack([pi[:, a], pi[:, b], np.clip(1.0 - pi[:, a] - pi[:, b], 0.0, 1.0)])
    rest = [k for k in range(K) if k not in (a, b)]
    other = "$" + " + ".join(f"\\pi_{{{k}}}" for k in rest) + "$" if K <= 5 else f"the other {K - 2}"
    return q, (a, b), [f"$\\pi_{{{a}}}$", f"$\\pi_{{{b}}}$", other]


def _orbit_panel(fig, ax, bf, orbit) -> list:
    from matplotlib.lines import Line2D

    from verify.plots.trajectory import draw_simplex, ternary_xy

    K = bf.K
    q, idx, names = _projection(orbit["pi"], K)
    xy = ternary_xy(q)
    n = len(xy)
    uni = ternary_xy(_projection(np.full((1, K), 1.0 / K), K, idx)[0])[0]
    sub = orbit["circle"] is None
    if sub:
        draw_simplex(ax, names)
    else:
        draw_simplex(ax, names, grid=tuple(np.round(np.arange(0.05, 1.0, 0.05), 2)))
    sc = ax.scatter(xy[:, 0], xy[:, 1], c=np.arange(n), s=2.0, cmap="cividis", lw=0, zorder=3, rasterized=True)
    ax.plot(*uni, marker="+", ms=10, color=PALETTE["purple"], mew=1.3, ls="none", zorder=5)
    ax.plot(*xy[0], marker="o", ms=5, color=PALETTE["vermillion"], mec="white", mew=0.6, ls="none", zorder=6)
    handles = [Line2D([], [], marker="+", ms=8, color=PALETTE["purple"], mew=1.3, ls="none", label="uniform point"),
               Line2D([], [], marker="o", ms=5, color=PALETTE["vermillion"], mec="white", ls="none", label="start")]
    if not sub:
        cxy = ternary_xy(_projection(orbit["circle"], K, idx)[0])
        ax.plot(np.append(cxy[:, 0], cxy[0, 0]), np.append(cxy[:, 1], cxy[0, 1]), color=PALETTE["vermillion"], lw=1.1, ls="--", zorder=4)
        handles.append(Line2D([], [], color=PALETTE["vermillion"], lw=1.1, ls="--", label="predicted circle $|w|^2 = -\\mu/d$"))
        pts = np.vstack([xy, cxy])
        cx, cy = uni
        half = 1.35 * max(np.abs(pts[:, 0] - cx).max(), np.abs(pts[:, 1] - cy).max())
        ax.set_xlim(cx - half, cx + half)
        ax.set_ylim(cy - half, cy + half)
        title = "(c) orbit settles on the circle"
    else:
        title = "(c) subcritical: the orbit leaves"
    if K > 3:
        title += f"\nternary view of ({', '.join(names)})"
    ax.set_title(title + f"\n{'' if sub else 'zoom, '}$\\alpha$ = {orbit['alpha']}, {math_name(orbit['scale_name'])} = {orbit['scale']:.4g}",
                 fontsize=8, pad=14)
    cb = fig.colorbar(sc, ax=ax, location="bottom", shrink=0.7, aspect=22, pad=0.02)
    cb.set_label("iteration t")
    return handles


def bifurcation_figure(bf, orbit: dict | None = None):
    """The figure of one :class:`verify.commands.bifurcation.Bifurcation` (and the orbit of
    :func:`orbit_past_threshold`); returns a :class:`matplotlib.figure.Figure`, writes nothing."""
    require_matplotlib()
    tm = _type_map_data(bf)
    has_map = tm[0] is not None
    with figure_style():
        fig = new_figure(HEIGHT + (0.3 if orbit is not None else 0))
        ncols = 1 + int(has_map) + int(orbit is not None)
        gs = fig.add_gridspec(1, ncols, width_ratios=[1.25] + [1.0] * (ncols - 1))
        ax_a = fig.add_subplot(gs[0, 0])
        handles = _phase_panel(ax_a, bf, orbit)
        col = 1
        if has_map:
            from matplotlib.lines import Line2D

            _type_panel(fig.add_subplot(gs[0, col]), bf, tm)
            handles.append(Line2D([], [], color=PALETTE["black"], lw=1.0, label="$d = 0$ in (b)"))
            col += 1
        if orbit is not None:
            handles += _orbit_panel(fig, fig.add_subplot(gs[0, col]), bf, orbit)
        fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 4), handlelength=1.6, columnspacing=1.0)
        label = matrix_mathtext(bf.label)
        if label.startswith("P from "):
            label = "P from " + os.path.basename(label[len("P from "):])
        src = "exact closed form" if bf.method == "exact closed form" else f"numeric, {bf.dps} digits"
        lines = [f"Neimark–Sacker bifurcation of the MRS map at the uniform point, {bf.loss.title or bf.loss.name}",
                 f"{label} (K = {bf.K}), $\\lambda$ = {bf.lam}; $d$: {src}"]
        if not has_map:
            lines.append(tm[3])
        fig.suptitle("\n".join(lines))
    return fig
