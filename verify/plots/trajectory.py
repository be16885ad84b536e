"""The figure of one MRS run: a phase portrait in the simplex, a window of the policy, the whole run.

Three panels, readable at thousands of steps whatever the period:

(a) **phase portrait** in the simplex, every state a dot coloured by the iteration ``t``. For
    ``K = 3`` the ternary view of ``pi``; for ``K > 3`` the ternary view of
    ``(pi_a, pi_b, everything else)`` with ``a, b`` the two responses of largest mean probability
    over the second half of the run. When the whole run stays within a few hundredths of one
    point, the panel zooms in on it: ``pi_0 - pi*_0`` against ``pi_1 - pi*_1`` (``pi*`` the fixed
    point, or the final state), with the scale in the axis labels.
(b) **a window of the policy coordinates**: the last five periods of an oscillating run, or the
    iterations until a converging run settles (at most seven coordinates, the largest).
(c) **the whole run**: with a fixed point, the distance ``max_k |pi_t,k - pi*_k|`` on a log axis
    (exponential approach, or escape from an unstable fixed point onto the oscillation); without
    one, the entropy in nats (its sliding-window range when the run oscillates).

Start and end carry distinct markers (a filled circle; a larger open square, so the start stays
visible under it), the fixed point a cross; one legend below the panels, off the data.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from verify.plots.style import PALETTE, figure_style, new_figure, parameter_text, require_matplotlib, tint

__all__ = ["HEIGHT", "trajectory_figure", "simulate_figure", "portrait_coordinates", "window_range", "ternary_xy", "draw_simplex"]

#: Figure height in inches (the width is :data:`verify.plots.style.WIDTH`).
HEIGHT = 4.4
#: Below this spread (in probability) the portrait zooms in on the run.
ZOOM_BELOW = 0.06
#: A distance to the fixed point below this is rounding (float64).
SETTLED = 1e-14
#: At most this many policy coordinates are drawn in panel (b).
MAX_LINES = 7
_SQ3 = math.sqrt(3.0) / 2


def portrait_coordinates(pi: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """The three coordinates of the ternary view and their labels.

    ``K = 3``: ``pi`` itself; ``K > 3``: ``(pi_a, pi_b, 1 - pi_a - pi_b)`` (the rest summed) with ``a, b`` the two largest
    mean coordinates over the second half of the run; ``K = 2``: ``(pi_0, pi_1, 0)``.

    >>> q, names = portrait_coordinates(np.array([[0.1, 0.2, 0.3, 0.4]] * 4))
    >>> q[0].round(2).tolist(), names
    ([0.4, 0.3, 0.3], ['$\\\\pi_{3}$', '$\\\\pi_{2}$', '$\\\\pi_{0} + \\\\pi_{1}$'])
    """
    pi = np.asarray(pi, float)
    K = pi.shape[1]
    if K == 3:
        return pi, [f"$\\pi_{{{k}}}$" for k in range(3)]
    if K == 2:
        return np.column_stack([pi, np.zeros(len(pi))]), ["$\\pi_{0}$", "$\\pi_{1}$", ""]
    mean = pi[len(pi) // 2 :].mean(axis=0)
    a, b = (int(i) for i in np.argsort(-mean, kind="stable")[:2])
    q = np.column_stack([pi[:, a], pi[:, b], np.clip(1.0 - pi[:, a] - pi[:, b], 0.0, 1.0)])
    rest = [k for k in range(K) if k not in (a, b)]
    other = "$" + " + ".join(f"\\pi_{{{k}}}" for k in rest) + "$" if K == 4 else f"the other {K - 2}"
    return q, [f"$\\pi_{{{a}}}$", f"$\\pi_{{{b}}}$", other]


def window_range(pi: np.ndarray, period: float | None, periods: int = 5, settle: float = 1e-3) -> tuple[int, int, str]:
    """``(start, stop, description)`` of the states shown in panel (b).

    With a period: the last ``periods`` periods (at least 40 states). Without: from 0 until the
    run settles, i.e. until every later state is within ``settle`` times its largest excursion of the
    final state (30% more, at least 30 states).

    >>> window_range(np.ones((3001, 3)) / 3, 11.8)
    (2942, 3001, 'last 5 periods')
    """
    n = len(pi)
    if period is not None and np.isfinite(period) and period > 0:
        w = min(n, max(40, int(math.ceil(periods * period))))
        return n - w, n, f"last {periods} periods"
    dev = np.abs(pi - pi[-1]).max(axis=1)
    big = dev.max()
    if big == 0:
        return 0, min(n, 30), f"first {min(n, 30)} iterations"
    far = np.nonzero(dev > settle * big)[0]
    t_s = int(far[-1]) + 1 if far.size else 0
    stop = min(n, max(30, int(math.ceil(1.3 * t_s))))
    return 0, stop, f"first {stop - 1} iterations"


def _nice_upper(v: float) -> float:
    """The smallest of 0.05, 0.1, 0.2, ..., 1 at or above ``v`` (probability axes start at 0)."""
    for c in (0.05, 0.1, 0.2, 0.25, 0.4, 0.5, 0.6, 0.8, 1.0):
        if v <= c:
            return c
    return 1.0


def ternary_xy(q: np.ndarray) -> np.ndarray:
    """The plane coordinates of points ``q`` (``(n, 3)``, rows on the simplex) in the ternary view: corner 0 at
    ``(0, 0)``, corner 1 at ``(1, 0)``, corner 2 at ``(1/2, sqrt(3)/2)``.

    >>> ternary_xy(np.array([[1.0, 0, 0], [1 / 3, 1 / 3, 1 / 3]])).round(4).tolist()
    [[0.0, 0.0], [0.5, 0.2887]]
    """
    q = np.asarray(q, float)
    return np.column_stack([q[:, 1] + q[:, 2] / 2, _SQ3 * q[:, 2]])


def draw_simplex(ax, names: list[str], *, grid: tuple = (0.2, 0.4, 0.6, 0.8)) -> None:
    """Draw the ternary simplex on ``ax``: its outline, the lines ``q_k = v`` for ``v`` in ``grid`` (light), the
    corner labels ``names`` (an empty name is not drawn); equal aspect, no axes frame."""
    colour = tint(PALETTE["black"], 0.85)
    for v in grid:
        for k in range(3):  # the line q_k = v
            ends = []
            for j in range(3):
                if j != k:
                    e = np.zeros(3)
                    e[k], e[j] = v, 1 - v
                    ends.append(e)
            xy = ternary_xy(np.array(ends))
            ax.plot(xy[:, 0], xy[:, 1], color=colour, lw=0.5, zorder=0)
    corners = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, _SQ3]])
    ax.plot(*np.vstack([corners, corners[:1]]).T, color=PALETTE["black"], lw=0.8, zorder=1)
    offsets = [(-6, -6, "right", "top"), (6, -6, "left", "top"), (0, 6, "center", "bottom")]
    for (x, y), name, (dx, dy, ha, va) in zip(corners, names, offsets):
        if name:
            ax.annotate(name, (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va)
    ax.set_xlim(-0.08, 1.08)
    ax.set_ylim(-0.1, _SQ3 + 0.1)
    ax.set_aspect("equal")
    ax.axis("off")


def _scale_of(extent: float) -> int:
    """The power of ten that brings ``extent`` to between 1 and 10 (0 for extents above 0.1)."""
    if extent <= 0 or extent >= 0.1:
        return 0
    return int(math.floor(math.log10(extent)))


def trajectory_figure(
    traj_log: np.ndarray,
    *,
    title: str,
    loss: Any,
    params: dict,
    fixed_point: Any = None,
    status: str = "",
    period: float | None = None,
):
    """The figure of one run of the MRS map; returns a :class:`matplotlib.figure.Figure` and writes nothing.

    Parameters
    ----------
    traj_log : ``(T + 1, K)`` log-probabilities, ``traj_log[0]`` the start
    title : the first line of the title (e.g. ``"MRS, DPO (logistic): P_cyc(0.4)"``)
    loss : the :class:`theory.losses.PairLoss` of the run (its scale's name labels the parameters)
    params : ``{"alpha": ..., loss.scale_name: ..., "lambda": ...}`` (see :func:`verify.plots.style.parameter_text`)
    fixed_point : ``(K,)`` the fixed point ``pi*`` (drawn, and panel (c) is the distance to it), or None
    status : ``"oscillating"``, ``"converged"``, ... (shown in the title)
    period : the period of an oscillating run in iterations (panel (b) shows the last periods), or None
    """
    require_matplotlib()
    lp = np.asarray(traj_log, float)
    if lp.ndim != 2 or lp.shape[0] < 2 or lp.shape[1] < 2:
        raise ValueError(f"traj_log has shape {lp.shape}, expected (T + 1, K) with T >= 1, K >= 2")
    pi = np.exp(lp)
    n, K = pi.shape
    fp = None if fixed_point is None else np.asarray(fixed_point, float).reshape(K)
    oscillating = period is not None and np.isfinite(period) and period > 0
    # what panel (c) shows, and until when anything moves (a converged run stops at rounding level)
    lead = int(np.argmax(pi[-1]))
    if fp is not None:
        series = np.abs(pi - fp).max(axis=1)
        what_c, kind = "distance to the fixed point $\\pi^*$", "distance"
    elif not oscillating and pi[-1, lead] > 0.99:
        # concentrating on one response: its log-odds over the runner-up keeps growing (log space, no underflow)
        series = lp[:, lead] - np.delete(lp, lead, axis=1).max(axis=1)
        what_c, kind = f"log-odds of response {lead}\nover the next most likely one", "log-odds"
    else:
        from verify.numerics.metrics import entropy_from_log

        series = entropy_from_log(lp, axis=1)
        what_c, kind = "entropy", "entropy"
    x_hi, settled_at = n - 1, None
    if fp is not None and not oscillating:
        moving = np.nonzero(series > SETTLED)[0]
        settled_at = int(moving[-1]) + 1 if moving.size else 0
        x_hi = min(n - 1, max(30, int(math.ceil(1.5 * settled_at))))
        if x_hi == n - 1:
            settled_at = None
    with figure_style():
        fig = new_figure(HEIGHT)
        gs = fig.add_gridspec(2, 2, width_ratios=[1.0, 1.15])
        ax_p = fig.add_subplot(gs[:, 0])
        ax_w = fig.add_subplot(gs[0, 1])
        ax_r = fig.add_subplot(gs[1, 1])
        marks = _portrait(fig, ax_p, pi, fp, oscillating, x_hi)
        lo, hi, handles = _window(ax_w, pi, fp, period if oscillating else None)
        span = _whole_run(ax_r, series, kind, what_c, period if oscillating else None, x_hi, settled_at, (lo, hi - 1), lead)
        if span is not None:
            marks.append(span)
        entries = marks + handles
        fig.legend(handles=entries, loc="outside lower center", ncol=len(entries) if len(entries) <= 10 else math.ceil(len(entries) / 2),
                   handlelength=1.5, columnspacing=1.0, handletextpad=0.5)
        st = status.split(" (")[0] if status else ""
        if oscillating:
            st = f"{st or 'oscillating'}, period ≈ {period:.3g}"
        fig.suptitle(f"{title}\n{parameter_text(loss, params)}" + (f" — {st}" if st else ""))
    return fig


_START = dict(marker="o", ms=6, color=PALETTE["vermillion"], mec="white", mew=0.6, ls="none", zorder=5)
_END = dict(marker="s", ms=10, mfc="none", mec=PALETTE["black"], mew=1.4, ls="none", zorder=6)
_FIXED = dict(marker="+", ms=13, color=PALETTE["purple"], mew=1.4, ls="none", zorder=4)
_LINES = tuple(PALETTE[c] for c in ("blue", "vermillion", "green", "orange", "purple", "sky", "black"))


def _portrait(fig, ax, pi: np.ndarray, fp, oscillating: bool, t_max: int) -> list:
    """Panel (a); returns the legend handles of its markers."""
    from matplotlib.lines import Line2D

    n = len(pi)
    q, names = portrait_coordinates(pi)
    qfp = None if fp is None else portrait_coordinates(np.vstack([pi, fp]))[0][-1]
    ref = qfp if qfp is not None else q[-1]
    spread = float(np.abs(q - ref).max())
    if spread >= ZOOM_BELOW:
        draw_simplex(ax, names)
        xy = ternary_xy(q)
        fxy = None if qfp is None else ternary_xy(qfp[None, :])[0]
        ax.set_title("(a) trajectory in the simplex")
    else:
        e = _scale_of(spread)
        xy = (q[:, :2] - ref[:2]) * 10.0 ** (-e)
        fxy = None if qfp is None else np.zeros(2)
        unit = f" ($\\times 10^{{{e}}}$)" if e else ""
        star = "\\pi^*" if qfp is not None else "\\pi^{(T)}"
        for k, set_label in ((0, ax.set_xlabel), (1, ax.set_ylabel)):
            nm = names[k].strip("$")
            set_label(f"${nm} - {star}_{{{nm.split('_', 1)[1].strip('{}')}}}$" + unit)
        ax.set_aspect("equal", adjustable="datalim")
        ax.axhline(0, color=tint(PALETTE["black"], 0.8), lw=0.5, zorder=0)
        ax.axvline(0, color=tint(PALETTE["black"], 0.8), lw=0.5, zorder=0)
        ax.set_title("(a) trajectory near " + ("the fixed point" if qfp is not None else "the final state"))
    if not oscillating:
        ax.plot(xy[: t_max + 1, 0], xy[: t_max + 1, 1], color=tint(PALETTE["black"], 0.6), lw=0.5, zorder=2)
    size = 2.0 if t_max > 300 else 9.0
    sc = ax.scatter(xy[:, 0], xy[:, 1], c=np.arange(n), s=size, cmap="cividis", vmin=0, vmax=t_max, lw=0, zorder=3, rasterized=True)
    if fxy is not None:
        ax.plot(*fxy, **_FIXED)
    ax.plot(*xy[0], **_START)
    ax.plot(*xy[-1], **_END)
    cb = fig.colorbar(sc, ax=ax, location="bottom", shrink=0.75, aspect=30, pad=0.02, extend="max" if t_max < n - 1 else "neither")
    cb.set_label("iteration t")
    marks = [Line2D([], [], **_START, label="start"), Line2D([], [], **_END, label="end")]
    if fxy is not None:
        marks.append(Line2D([], [], **_FIXED, label="fixed point $\\pi^*$"))
    return marks


def _window(ax, pi: np.ndarray, fp, period) -> tuple[int, int, list]:
    """Panel (b): the policy coordinates over a window (deviations from ``pi*`` when they move by less than ZOOM_BELOW)."""
    n, K = pi.shape
    t = np.arange(n)
    lo, hi, what = window_range(pi, period)
    shown = sorted(int(k) for k in np.argsort(-pi[-1], kind="stable")[: min(K, MAX_LINES)])
    base = fp if fp is not None else pi[-1]
    dev = float(np.abs(pi[lo:hi, shown] - base[shown]).max())
    deviations = dev < ZOOM_BELOW
    if deviations:
        e = _scale_of(dev)
        yw = (pi[lo:hi] - base) * 10.0 ** (-e)
        star = "\\pi^*_k" if fp is not None else "\\pi_k^{(T)}"
        ax.set_ylabel(f"$\\pi_{{t,k}} - {star}$" + (f" ($\\times 10^{{{e}}}$)" if e else ""))
        ax.axhline(0, color=tint(PALETTE["black"], 0.7), lw=0.5, zorder=0)
    else:
        yw = pi[lo:hi]
        ax.set_ylim(0, _nice_upper(1.05 * float(pi[lo:hi, shown].max())))
        ax.set_ylabel("probability")
    handles = []
    for i, k in enumerate(shown):
        (h,) = ax.plot(t[lo:hi], yw[:, k], color=_LINES[i], lw=1.0, marker="o", ms=2.2, label=f"$\\pi_{{{k}}}$")
        handles.append(h)
    ax.set_xlim(lo, hi - 1)
    ax.set_xlabel("iteration t")
    more = f", {len(shown)} largest of {K}" if len(shown) < K else ""
    minus = (" minus $\\pi^*$" if fp is not None else " minus the final policy") if deviations else ""
    ax.set_title(f"(b) policy{minus}, {what}{more}")
    return lo, hi, handles


def _whole_run(ax, series: np.ndarray, kind: str, what: str, period, x_hi: int, settled_at, window: tuple[int, int], lead: int):
    """Panel (c); returns the legend handle of the shaded window of (b), or None when it is not shaded."""
    from matplotlib.lines import Line2D

    n = len(series)
    t = np.arange(n)
    distance = kind == "distance"
    if distance:
        ax.set_yscale("log")
        ax.set_ylabel("$\\max_k\\,|\\pi_{t,k} - \\pi^*_k|$")
    elif kind == "log-odds":
        ax.set_ylabel("log-odds (nats)")
    else:
        ax.set_ylabel("entropy (nats)")
    block = max(2, int(round(period))) if period is not None else 0
    if block and n >= 20 * block:
        # one band per period: the range of the series over each block of `block` iterations
        nb = n // block
        chunks = series[: nb * block].reshape(nb, block)
        tc = t[: nb * block].reshape(nb, block).mean(axis=1)
        lo_c, hi_c = chunks.min(axis=1), chunks.max(axis=1)
        if distance:
            lo_c = np.where(lo_c > 0, lo_c, np.nan)
        ax.fill_between(tc, lo_c, hi_c, color=tint(PALETTE["blue"], 0.6), lw=0)
        ax.plot(tc, hi_c, color=PALETTE["blue"], lw=0.8)
        ax.plot(tc, lo_c, color=PALETTE["blue"], lw=0.8)
        ax.set_title(f"(c) whole run: {what},\nrange over each {block} iterations")
    else:
        y = np.where(series > 0, series, np.nan) if distance else series
        ax.plot(t[: x_hi + 1], y[: x_hi + 1], color=PALETTE["blue"], lw=0.9)
        if settled_at is not None:
            ax.set_title(f"(c) {what}:\nbelow $10^{{{int(round(math.log10(SETTLED)))}}}$ from t = {settled_at} to {n - 1}")
        else:
            ax.set_title(f"(c) whole run: {what}")
    if kind == "entropy":
        ax.set_ylim(bottom=0)
    ax.set_xlim(0, x_hi)
    ax.set_xlabel("iteration t")
    lo, hi = window
    if hi - lo >= 0.8 * x_hi:
        return None
    colour = tint(PALETTE["sky"], 0.75)
    ax.axvspan(lo, hi, color=colour, lw=0, zorder=0)
    return Line2D([], [], color=colour, lw=6, label="window of (b)")


def simulate_figure(P: Any, loss: Any, alpha: float, scale: Any, lam: float, steps: int = 3000, seed: int = 0):
    """Run the MRS map of ``loss`` from the near-uniform start of ``prefdyn simulate`` and draw it.

    The run, its fixed point and its status are those of ``prefdyn simulate`` with the same
    matrix, loss, parameters, steps and seed (:func:`verify.numerics.simulate.simulate` and
    :func:`verify.numerics.phase.run_summary`); returns the :func:`trajectory_figure`.

    Parameters
    ----------
    P : ``(K, K)`` preference matrix (numbers, or a :class:`verify.exact.objects.PreferenceMatrix`)
    loss : a :class:`theory.losses.PairLoss`, a built-in name or an expression in ``x``
    alpha, lam : in ``[0, 1]``
    scale : the loss's scale parameter (IPO's ``beta``, DPO's ``beta_dpo``, ...)
    """
    from verify.numerics.losses import loss as make_loss
    from verify.numerics.phase import run_summary
    from verify.numerics.simulate import simulate

    require_matplotlib()
    L = make_loss(loss, scale=scale)
    Pf = np.asarray(P.to_numpy() if hasattr(P, "to_numpy") else P, float)
    res = simulate(Pf, float(alpha), float(L.scale), float(lam), steps, loss=L, seed=seed, burn_in=steps // 2, record=True)
    s = run_summary(Pf, L, float(alpha), float(lam), res)
    K = Pf.shape[0]
    return trajectory_figure(
        res.trajectory[:, 0, :],
        title=f"MRS, {L.title or L.name}: K = {K}",
        loss=L,
        params={"alpha": float(alpha), L.scale_name: float(L.scale), "lambda": float(lam)},
        fixed_point=None if s["fixed_point"] is None else s["fixed_point"]["pi"],
        status=s["status"],
        period=s["period"] if s["oscillating"] else None,
    )
