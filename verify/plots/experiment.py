"""Figures of an experiment over many matrices (``prefdyn experiment``): grid heatmaps, example runs, finite samples.

* :func:`grid_heatmap_figure` — one metric (mean cycle strength, mean final entropy) over a grid of
  two parameters, one panel per matrix class, each with its colour bar;
* :func:`example_trajectories_figure` — the policy coordinates against the iteration for a few
  example matrices (a cyclic and an SST one): the whole run, and a window of its last periods;
* :func:`finite_sample_figure` — the finite-sample variant: a few realisations of one policy
  coordinate against the population path and the average over realisations, and each
  realisation's cycle strength beside that of the average (the average's phases cancel, so it
  looks stable although every realisation oscillates).

:func:`heatmap_axes` chooses the two axes of a grid of settings ``(alpha, scale, lambda)``. Every
function returns a :class:`matplotlib.figure.Figure` and writes nothing; the style is that of
:mod:`verify.plots.style`.

>>> import numpy as np
>>> s = np.array([[a, b, 1.0] for a in (0.1, 0.5, 0.9) for b in (1.0, 4.0)])
>>> ax = heatmap_axes(s)
>>> ax.x_name, ax.x.tolist(), ax.y_name, ax.y.tolist(), ax.index.shape
('alpha', [0.1, 0.5, 0.9], 'scale*lambda', [1.0, 4.0], (2, 3))
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from verify.plots.style import PALETTE, figure_style, math_name, new_figure, require_matplotlib, tint

__all__ = [
    "HEATMAP_HEIGHT",
    "EXAMPLES_HEIGHT",
    "FINITE_HEIGHT",
    "CLASS_TITLES",
    "heatmap_height",
    "HeatmapAxes",
    "heatmap_axes",
    "axis_mathtext",
    "grid_heatmap_figure",
    "example_trajectories_figure",
    "finite_sample_figure",
]

#: Figure heights in inches (the width is :data:`verify.plots.style.WIDTH`); a heatmap figure of
#: three or four classes has two rows of panels (:func:`heatmap_height`).
HEATMAP_HEIGHT = 3.2
EXAMPLES_HEIGHT = 4.6
FINITE_HEIGHT = 3.4

#: How a matrix class is named in a panel title.
CLASS_TITLES: dict[str, str] = {
    "cyclic": "cyclic",
    "sst": "SST",
    "transitive": "transitive, not SST",
    "other": "other",
}

_LINES = tuple(PALETTE[c] for c in ("blue", "vermillion", "green", "orange", "purple", "sky", "black"))
_AXES = ("alpha", "scale", "lambda")


@dataclass(frozen=True)
class HeatmapAxes:
    """The two axes of a heatmap of a grid of settings and where each setting sits.

    ``index[j, i]`` is the setting drawn at ``(x[i], y[j])`` (``-1``: none); ``fixed`` names the
    axes held at one value (``{"lambda": 1.0}``), and ``left_out`` how many settings the heatmap
    does not show (a third varying axis is shown at its first value).
    """

    x_name: str
    x: np.ndarray
    y_name: str
    y: np.ndarray
    index: np.ndarray
    fixed: dict = field(default_factory=dict)
    left_out: int = 0


def _distinct(v: np.ndarray) -> np.ndarray:
    return np.unique(np.round(v, 12))


def _place(xv: np.ndarray, yv: np.ndarray, rows: np.ndarray) -> np.ndarray | None:
    """``index[j, i]`` for the settings ``rows`` at ``(xv, yv)``; None when two settings share a cell."""
    xs, ys = _distinct(xv[rows]), _distinct(yv[rows])
    index = np.full((len(ys), len(xs)), -1, dtype=int)
    for r in rows:
        i = int(np.searchsorted(xs, round(float(xv[r]), 12)))
        j = int(np.searchsorted(ys, round(float(yv[r]), 12)))
        if index[j, i] >= 0:
            return None
        index[j, i] = r
    return index


def heatmap_axes(settings: Any) -> HeatmapAxes:
    """The axes of the heatmaps of a grid of settings ``(S, 3)`` = ``(alpha, scale, lambda)``.

    ``alpha`` across and the loss's ``scale * lambda`` up when every setting has its own cell there
    (the paper's ``alpha`` × ``beta lambda``); otherwise the two axes that vary (``alpha``, ``scale``,
    ``lambda``, in that order), the third at its first value (the settings at its other values are
    counted in ``left_out``).

    >>> s = np.array([[0.5, b, l] for b in (1.0, 2.0) for l in (0.5, 1.0)])
    >>> a = heatmap_axes(s)
    >>> a.x_name, a.y_name, a.fixed
    ('scale', 'lambda', {'alpha': 0.5})
    """
    s = np.asarray(settings, float).reshape(-1, 3)
    cols = {"alpha": s[:, 0], "scale": s[:, 1], "lambda": s[:, 2]}
    every = np.arange(len(s))
    bl = s[:, 1] * s[:, 2]
    index = _place(s[:, 0], bl, every)
    if index is not None:
        fixed = {n: float(cols[n][0]) for n in ("scale", "lambda") if len(_distinct(cols[n])) == 1}
        return HeatmapAxes("alpha", _distinct(s[:, 0]), "scale*lambda", _distinct(bl), index, fixed)
    varying = [n for n in _AXES if len(_distinct(cols[n])) > 1]
    xn, yn = varying[0], varying[1]
    rest = [n for n in _AXES if n not in (xn, yn)]
    keep = np.ones(len(s), bool)
    fixed = {}
    for n in rest:
        first = cols[n][0]
        keep &= np.isclose(cols[n], first, rtol=0, atol=1e-12)
        fixed[n] = float(first)
    rows = every[keep]
    index = _place(cols[xn], cols[yn], rows)
    assert index is not None  # the settings are a cartesian grid, distinct in (xn, yn) at fixed rest
    return HeatmapAxes(xn, _distinct(cols[xn][rows]), yn, _distinct(cols[yn][rows]), index, fixed, int(len(s) - keep.sum()))


def axis_mathtext(name: str, scale_name: str = "beta") -> str:
    """The mathtext label of a heatmap axis (``"scale*lambda"`` -> ``$\\beta\\lambda$`` for IPO).

    >>> axis_mathtext("scale*lambda", "beta_dpo"), axis_mathtext("alpha")
    ('$\\\\beta_{\\\\mathrm{DPO}}\\\\lambda$', '$\\\\alpha$')
    """
    if name == "scale*lambda":
        return "$" + math_name(scale_name).strip("$") + "\\lambda$"
    if name == "scale":
        return math_name(scale_name)
    return math_name(name)


def heatmap_height(panels: int) -> float:
    """The height of :func:`grid_heatmap_figure` with ``panels`` classes: one row of up to two panels, else two rows.

    >>> heatmap_height(2), heatmap_height(4)
    (3.2, 6.0)
    """
    return HEATMAP_HEIGHT if panels <= 2 else 6.0


def _edges(c: np.ndarray) -> np.ndarray:
    """Cell edges around the centres ``c`` (midpoints; a single centre gets a unit-width cell)."""
    c = np.asarray(c, float)
    if c.size == 1:
        w = 0.5 * abs(c[0]) if c[0] != 0 else 0.5
        return np.array([c[0] - w, c[0] + w])
    mid = (c[1:] + c[:-1]) / 2
    return np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])


def grid_heatmap_figure(
    values: dict[str, np.ndarray],
    axes: HeatmapAxes,
    *,
    metric: str,
    title: str,
    scale_name: str = "beta",
    vmin: float | None = None,
    vmax: float | None = None,
    counts: dict[str, int] | None = None,
    zero_below: float | None = None,
):
    """One metric over the grid, one panel per class; returns a Figure and writes nothing.

    Parameters
    ----------
    values : class -> ``(S,)`` the metric per setting (e.g. the mean cycle strength over the class's matrices)
    axes : :func:`heatmap_axes` of the settings
    metric : the colour bar's label (e.g. ``"mean cycle strength"``)
    title : the figure's title
    scale_name : the loss's scale (labels the axis ``scale*lambda`` or ``scale``)
    vmin, vmax : the colour range of every panel (default: each panel its own range)
    counts : class -> number of matrices (shown in the panel titles)
    zero_below : values below this are rounding (a cycle strength of 1e-33 is a converged run): a panel whose
        values are all below it is drawn on the colour range of the other panels and says so in its title
    """
    require_matplotlib()
    names = list(values)
    if not names:
        raise ValueError("no class to draw")
    n = len(names)
    xe, ye = _edges(axes.x), _edges(axes.y)
    grids = {name: np.where(axes.index >= 0, np.asarray(values[name], float)[np.maximum(axes.index, 0)], np.nan) for name in names}
    flat = {name: bool(zero_below is not None and np.nanmax(np.abs(g), initial=0.0) < zero_below) for name, g in grids.items()}
    shared_hi = max([float(np.nanmax(g)) for name, g in grids.items() if not flat[name] and np.isfinite(g).any()], default=1.0)
    from matplotlib.ticker import FuncFormatter

    rows, cols = (1, n) if n <= 2 else (2, 2)
    with figure_style():
        fig = new_figure(heatmap_height(n))
        for p, name in enumerate(names):
            ax = fig.add_subplot(rows, cols, p + 1)
            grid = grids[name]
            finite = grid[np.isfinite(grid)]
            lo = vmin if vmin is not None else (float(finite.min()) if finite.size else 0.0)
            hi = vmax if vmax is not None else (float(finite.max()) if finite.size else 1.0)
            if flat[name]:
                grid = np.where(np.isfinite(grid), 0.0, np.nan)
                lo, hi = (vmin if vmin is not None else 0.0), (vmax if vmax is not None else shared_hi)
            if not hi > lo:
                hi = lo + (abs(lo) * 1e-3 if lo else 1e-12)
            mesh = ax.pcolormesh(xe, ye, np.ma.masked_invalid(grid), cmap="cividis", vmin=lo, vmax=hi, shading="flat")
            cb = fig.colorbar(mesh, ax=ax, location="bottom", shrink=0.9, aspect=25, pad=0.02,
                              format=FuncFormatter(lambda v, _pos: f"{v:.3g}"))  # no offset text beside the bar
            cb.set_label(metric)
            ax.set_xlabel(axis_mathtext(axes.x_name, scale_name))
            if p % cols == 0:
                ax.set_ylabel(axis_mathtext(axes.y_name, scale_name))
            sub = f" ({counts[name]:,} matrices)" if counts and name in counts else ""
            zero = f"\nall below {zero_below:.0e}: 0 up to rounding" if flat[name] else ""
            ax.set_title(f"({chr(97 + p)}) {CLASS_TITLES.get(name, name)}{sub}{zero}")
            if len(axes.x) <= 12:
                ax.set_xticks(axes.x, [f"{t:g}" for t in axes.x], rotation=90 if len(axes.x) > 6 else 0)
            if len(axes.y) <= 12:
                ax.set_yticks(axes.y, [f"{t:g}" for t in axes.y])
        held = ", ".join(f"{axis_mathtext(k, scale_name)} = {v:g}" for k, v in axes.fixed.items() if k not in (axes.x_name, axes.y_name))
        more = f"; {axes.left_out} further settings not shown" if axes.left_out else ""
        fig.suptitle(title + (f"\n{held}{more}" if held or more else ""))
    return fig


def _status(pi: np.ndarray) -> tuple[str, float | None]:
    """``("oscillating, period ≈ p", p)`` or ``("converged", None)`` of a recorded run (metrics of verify.numerics)."""
    from verify.numerics.metrics import oscillation

    o = oscillation(pi)
    if o["oscillating"]:
        return f"oscillating, period ≈ {o['period']:.3g}", o["period"]
    return ("converged" if o["converged"] else "not settled"), None


def _windows(pi: np.ndarray, period: float | None) -> tuple[tuple[int, int, str], tuple[int, int, str]]:
    """The two windows of an example run: its start (until it settles, at least 60 iterations) and its end."""
    from verify.plots.trajectory import window_range

    n = len(pi)
    if period is not None:
        stop = min(n, max(60, int(math.ceil(8 * period))))
        return (0, stop, f"first {stop - 1} iterations"), window_range(pi, period)
    lo, hi, _ = window_range(pi, None)
    stop = min(n, max(60, hi))
    end = min(n, 60)
    return (0, stop, f"first {stop - 1} iterations"), (n - end, n, f"last {end} iterations")


def example_trajectories_figure(examples: Sequence[tuple[str, np.ndarray]], *, title: str, params_text: str = ""):
    """The policy coordinates against the iteration for a few example runs; returns a Figure.

    One row per example: (left) the start of the run, until it settles or over its first eight
    periods; (right) its end, the last five periods of an oscillation
    (:func:`verify.plots.trajectory.window_range`) or the last iterations of a run that settled.
    The row's title says whether the run oscillates (with its period) or converged
    (:func:`verify.numerics.metrics.oscillation`).

    Parameters
    ----------
    examples : ``[(label, traj_log), ...]``, ``traj_log`` the ``(T + 1, K)`` log-policies of a run
        (``traj_log[0]`` the start); the label names the matrix (``"cyclic matrix, prompt 12"``)
    title : the figure's title; ``params_text`` a second line (e.g. :func:`verify.plots.style.parameter_text`)
    """
    require_matplotlib()
    if not examples:
        raise ValueError("no example to draw")
    rows = len(examples)
    with figure_style():
        fig = new_figure(EXAMPLES_HEIGHT if rows == 2 else max(EXAMPLES_HEIGHT / 2 * rows, 2.6) + 0.4)
        gs = fig.add_gridspec(rows, 2)
        handles = []
        for r, (label, lp) in enumerate(examples):
            pi = np.exp(np.asarray(lp, float))
            n, K = pi.shape
            t = np.arange(n)
            status, period = _status(pi)
            first = None
            for c, (lo, hi, what) in enumerate(_windows(pi, period)):
                ax = fig.add_subplot(gs[r, c], sharey=first)
                first = first or ax
                for k in range(K):
                    (h,) = ax.plot(t[lo:hi], pi[lo:hi, k], color=_LINES[k % len(_LINES)], lw=1.0, marker="o", ms=1.6,
                                   label=f"$\\pi_{{{k}}}$")
                    if r == 0 and c == 0:
                        handles.append(h)
                ax.set_xlim(lo, hi - 1)
                if c == 0:
                    ax.set_ylabel("probability")
                    ax.set_title(f"({chr(97 + 2 * r)}) {label}: {what}", loc="left")
                else:
                    ax.set_title(f"({chr(98 + 2 * r)}) {status}: {what}", loc="left")
                if r == rows - 1:
                    ax.set_xlabel("iteration t")
        fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 8))
        fig.suptitle(title + (f"\n{params_text}" if params_text else ""))
    return fig


def finite_sample_figure(
    population: np.ndarray,
    realisations: np.ndarray,
    *,
    title: str,
    params_text: str = "",
    coordinate: int | None = None,
    burn_in: int = 0,
    shown: int = 4,
):
    """Finite-sample paths against the population path and the realisation average; returns a Figure.

    (a) one policy coordinate over the last part of the run: ``shown`` realisations (thin), the
    population path (black) and the mean over all realisations (dashed); (b) the cycle strength
    (:func:`verify.numerics.metrics.cycle_strength` after ``burn_in``) of each realisation, of the
    population path and of the realisation average, on a log axis: averaging paths whose phases
    differ hides the oscillation each of them has.

    Parameters
    ----------
    population : ``(T + 1, K)`` policies ``pi_t`` of the population run (``P mu_t`` exactly)
    realisations : ``(R, T + 1, K)`` policies of the finite-sample runs of the same matrix, setting and start
    coordinate : the coordinate drawn in (a) (default: the one that varies most in the realisations)
    """
    require_matplotlib()
    from verify.numerics.metrics import cycle_strength, oscillation

    pop = np.asarray(population, float)
    real = np.asarray(realisations, float)
    if real.ndim != 3 or real.shape[1:] != pop.shape:
        raise ValueError(f"realisations have shape {real.shape}, expected (R, {pop.shape[0]}, {pop.shape[1]})")
    R, n, K = real.shape
    avg = real.mean(axis=0)
    k = int(np.argmax(real[:, burn_in:, :].var(axis=1).mean(axis=0))) if coordinate is None else int(coordinate)
    o = oscillation(pop)
    span = int(math.ceil(8 * o["period"])) if o["oscillating"] else 120
    lo = max(burn_in, n - max(40, min(span, n // 4)))
    t = np.arange(n)
    cs_real = cycle_strength(np.moveaxis(real, 0, 1), burn_in=burn_in)
    cs_pop = float(cycle_strength(pop, burn_in=burn_in))
    cs_avg = float(cycle_strength(avg, burn_in=burn_in))
    with figure_style():
        fig = new_figure(FINITE_HEIGHT)
        gs = fig.add_gridspec(1, 2, width_ratios=[1.7, 1.0])
        ax = fig.add_subplot(gs[0, 0])
        colours = (PALETTE["sky"], PALETTE["green"], PALETTE["orange"], PALETTE["purple"], PALETTE["yellow"])
        lines = []
        for r in range(min(shown, R)):
            (h,) = ax.plot(t[lo:], real[r, lo:, k], color=colours[r % len(colours)], lw=0.8,
                           label="finite-sample realisations" if r == 0 else None)
            if r == 0:
                lines.append(h)
        lines += ax.plot(t[lo:], pop[lo:, k], color=PALETTE["black"], lw=1.4, label="population path ($P\\mu_t$)")
        lines += ax.plot(t[lo:], avg[lo:, k], color=PALETTE["blue"], lw=1.8, ls="--", label=f"mean of {R} realisations")
        ax.set_xlim(lo, n - 1)
        ax.set_xlabel("iteration t")
        ax.set_ylabel(f"$\\pi_{{t,{k}}}$")
        ax.set_title(f"(a) coordinate {k}, last {n - lo} iterations")
        axc = fig.add_subplot(gs[0, 1])
        floor = 1e-30
        jitter = np.linspace(-0.15, 0.15, R) if R > 1 else np.zeros(1)
        axc.scatter(0 + jitter, np.maximum(cs_real, floor), s=10, color=tint(PALETTE["sky"], 0.1), lw=0, zorder=3)
        axc.scatter([1], [max(cs_pop, floor)], s=40, marker="s", color=PALETTE["black"], zorder=3)
        axc.scatter([2], [max(cs_avg, floor)], s=40, marker="D", color=PALETTE["blue"], zorder=3)
        axc.set_yscale("log")
        axc.set_xticks([0, 1, 2], ["each\nrealisation", "population", "mean of\nrealisations"])
        axc.set_xlim(-0.6, 2.6)
        axc.set_ylabel("cycle strength")
        axc.set_title("(b) cycle strength")
        axc.grid(axis="y", color=tint(PALETTE["black"], 0.88), lw=0.5)
        fig.legend(handles=lines, loc="outside lower center", ncol=3)
        fig.suptitle(title + (f"\n{params_text}" if params_text else ""))
    return fig
