"""Figures of the MRS phase diagram (DYN-5) and of the DYN-1 / DPO-4 thresholds.

:func:`phase_figure` draws a :class:`verify.numerics.phase.PhaseDiagram`: the regions as light
tints of the palette, the balanced threshold (DYN-1, DYN-6, LOSS-3) or the numeric ``rho = 1``
contour, the ``q = 1`` curve of DYN-2 for IPO, and any further curves; the legend sits to the
right of the axes. :func:`threshold_comparison_figure` draws the MRS-IPO threshold of
``P_cyc(a)`` (DYN-1) beside the MRS-DPO one (DPO-4). Both return a Figure and write nothing.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import sympy

from theory.notation import LATEX_NAMES
from verify.plots.style import PALETTE, figure_style, math_name, new_figure, require_matplotlib, tint

__all__ = ["REGION_COLOURS", "PHASE_HEIGHT", "THRESHOLD_HEIGHT", "phase_figure", "threshold_comparison_figure", "axis_label"]

#: Region code -> fill colour (light tints of the Okabe–Ito palette), in the order of ``verify.numerics.phase.REGIONS``.
REGION_COLOURS: tuple[str, ...] = (
    tint(PALETTE["green"], 0.6),
    tint(PALETTE["vermillion"], 0.55),
    tint(PALETTE["sky"], 0.45),
    tint(PALETTE["yellow"], 0.35),
    tint(PALETTE["black"], 0.82),
)

#: Figure heights in inches (the width is :data:`verify.plots.style.WIDTH`).
PHASE_HEIGHT = 3.9
THRESHOLD_HEIGHT = 3.6

#: Line styles of the further curves, in turn.
_EXTRA = ((PALETTE["blue"], "-."), (PALETTE["purple"], ":"), (PALETTE["orange"], "--"), (PALETTE["sky"], "-"))


def axis_label(loss: Any, axis: str = "bl") -> str:
    """The mathtext label of the diagram's vertical axis.

    ``"bl"``: the loss's IPO-equivalent ``beta lambda = c_f lambda / b``; ``"scale"``: its scale.

    >>> from theory.losses import BUILTIN
    >>> axis_label(BUILTIN["ipo"]), axis_label(BUILTIN["dpo"])
    ('$\\\\beta\\\\lambda$', '$4\\\\lambda/\\\\beta_{\\\\mathrm{DPO}}$ (IPO-equivalent $\\\\beta\\\\lambda$)')
    """
    if axis == "scale":
        return math_name(loss.scale_name)
    lam = sympy.Symbol("lambda", positive=True)
    s = sympy.Symbol(loss.scale_name, positive=True)
    expr = sympy.simplify(loss.gain * lam / loss.b_of(s))
    names = {lam: LATEX_NAMES["lambda"], s: math_name(loss.scale_name).strip("$")}
    if expr == sympy.Symbol("beta", positive=True) * lam:
        return "$\\beta\\lambda$"
    num, den = sympy.fraction(expr)
    tex = lambda e: sympy.latex(e, symbol_names=names, mul_symbol=None).replace(" ", "")  # noqa: E731
    body = tex(num) if den == 1 else f"{tex(num)}/{tex(den)}"
    return f"${body}$ (IPO-equivalent $\\beta\\lambda$)"


def _side(loss: Any) -> str:
    from verify.numerics.phase import threshold_side

    return threshold_side(loss)


def phase_figure(diagram: Any, *, title: str | None = None, extra_curves: Sequence[tuple[str, Sequence[float], Sequence[float]]] = ()):
    """The phase diagram as a Figure (nothing written): regions, thresholds, ``extra_curves``.

    Parameters
    ----------
    diagram : :class:`verify.numerics.phase.PhaseDiagram`
    title : the title (mathtext allowed); default names the loss, ``K`` and ``lambda``
    extra_curves : ``[(label, alphas, values), ...]`` drawn on the same axes (e.g. an MRS-DPO threshold,
        :func:`verify.numerics.phase.dpo_phase_extra_curve`)
    """
    require_matplotlib()
    from matplotlib.colors import ListedColormap
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from verify.numerics.phase import REGIONS, balanced_curve, q_one_curve, skew_norm, threshold_curve

    d = diagram
    K = d.P.shape[0]
    is_ipo = d.loss.name == "ipo"
    with figure_style():
        fig = new_figure(PHASE_HEIGHT)
        ax = fig.add_subplot()
        da = (d.alphas[1] - d.alphas[0]) / 2 if d.alphas.size > 1 else 0.05
        db = (d.bls[1] - d.bls[0]) / 2 if d.bls.size > 1 else 0.05
        ax.imshow(d.regions.T, origin="lower", aspect="auto", cmap=ListedColormap(list(REGION_COLOURS)), vmin=-0.5, vmax=4.5,
                  extent=(d.alphas[0] - da, d.alphas[-1] + da, d.bls[0] - db, d.bls[-1] + db), interpolation="nearest")
        fine = np.linspace(max(d.alphas[0], 0.0), min(d.alphas[-1], 1.0), 400)
        lines = []
        if np.allclose((d.P - 0.5).sum(axis=1), 0, atol=1e-12) and d.loss.gain is not None:
            claim = ("DYN-1" if K == 3 else "DYN-6") if is_ipo else "LOSS-3"
            y = balanced_curve(fine, d.P) if d.axis == "bl" else threshold_curve(d.loss, skew_norm(d.P), K, fine, d.lam)
            lines += ax.plot(fine, y, color=PALETTE["black"], lw=1.8, label=f"threshold of the uniform point ({claim}):\nunstable " + ("above" if d.axis == "bl" or _side(d.loss) == "above" else "below"))
        else:
            ax.contour(d.alphas, d.bls, d.rho.T, levels=[1.0], colors=PALETTE["black"], linewidths=1.8)
            lines.append(Line2D([], [], color=PALETTE["black"], lw=1.8, label="$\\rho = 1$ (numeric)"))
        if is_ipo and d.axis == "bl":
            lines += ax.plot(fine, q_one_curve(fine, d.P), color=PALETTE["black"], ls="--", lw=1.2, label="$q = 1$ (DYN-2)")
        for i, (label, xs, ys) in enumerate(extra_curves):
            c, ls = _EXTRA[i % len(_EXTRA)]
            lines += ax.plot(np.asarray(xs, float), np.asarray(ys, float), color=c, ls=ls, lw=1.6, label=label)
        ax.set_xlim(d.alphas[0] - da, d.alphas[-1] + da)
        ax.set_ylim(d.bls[0] - db, d.bls[-1] + db)
        ax.set_xlabel("$\\alpha$ (reference mixing)")
        ax.set_ylabel(axis_label(d.loss, d.axis))
        patches = [Patch(facecolor=REGION_COLOURS[k], edgecolor=tint(PALETTE["black"], 0.5), lw=0.5, label=REGIONS[k])
                   for k in range(len(REGIONS)) if (d.regions == k).any()]
        ax.legend(handles=lines + patches, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
        name = "MRS-IPO" if is_ipo else f"MRS, {d.loss.title or d.loss.name}"
        fig.suptitle(title or f"{name} phase diagram ($K$ = {K}, $\\lambda$ = {d.lam:g})")
    return fig


def threshold_comparison_figure(a: float, n: int = 201):
    """The DYN-1 (MRS-IPO) and DPO-4 (MRS-DPO) thresholds of ``P_cyc(a)`` on one ``alpha`` axis (nothing written).

    IPO: critical ``beta lambda = sqrt(3 (1 - alpha^2)) / a``; DPO: critical
    ``lambda / beta_DPO = sqrt(3 (1 - alpha^2)) / (4 a)``, the IPO curve divided by the gain 4. The
    uniform point is unstable above each curve. The first two lines of the axes are the IPO and
    the DPO curve.
    """
    require_matplotlib()
    from verify.numerics.phase import dpo_cycle_threshold_curve

    al = np.linspace(0.0, 1.0, int(n))
    ipo = dpo_cycle_threshold_curve(a, al, quantity="ipo_equivalent")  # = the DYN-1 curve
    dpo = dpo_cycle_threshold_curve(a, al, quantity="lam_over_beta_dpo")
    top = 1.08 * float(ipo[0])
    with figure_style():
        fig = new_figure(THRESHOLD_HEIGHT)
        ax = fig.add_subplot()
        ax.plot(al, ipo, color=PALETTE["blue"], lw=1.8,
                label="MRS-IPO (DYN-1): critical $\\beta\\lambda = \\sqrt{3(1-\\alpha^2)}\\,/\\,a$")
        ax.plot(al, dpo, color=PALETTE["vermillion"], lw=1.8, ls="--",
                label="MRS-DPO (DPO-4): critical $\\lambda/\\beta_{\\mathrm{DPO}} = \\sqrt{3(1-\\alpha^2)}\\,/\\,(4a)$")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, top)
        ax.set_xlabel("$\\alpha$ (reference mixing)")
        ax.set_ylabel("critical value")
        ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.2), ncol=1, borderaxespad=0.0)
        fig.suptitle(f"Uniform point of $P_{{\\mathrm{{cyc}}}}(a)$, $a$ = {a:g}: unstable above each curve")
    return fig
