"""Every prefdyn figure, in one style (:mod:`verify.plots.style`); matplotlib is the optional ``plot`` extra.

Each figure function returns a :class:`matplotlib.figure.Figure` and writes nothing; :func:`save`
writes one to a file whose extension names the format. Nothing here imports matplotlib until a
figure is drawn, so ``import verify.plots`` works without it.

* :func:`trajectory_figure` — one run of the MRS map (phase portrait, window, whole run);
  :func:`simulate_figure` runs the simulation of ``prefdyn simulate`` and draws it;
* :func:`phase_figure` — the DYN-5 phase diagram with its thresholds;
* :func:`threshold_comparison_figure` — the DYN-1 and DPO-4 thresholds of ``P_cyc(a)``.
"""

from __future__ import annotations

from verify.plots.phase import phase_figure, threshold_comparison_figure
from verify.plots.style import PALETTE, PLOT_HINT, check_out_option, check_picture_path, figure_style, require_matplotlib, save
from verify.plots.trajectory import simulate_figure, trajectory_figure

__all__ = [
    "PALETTE",
    "PLOT_HINT",
    "figure_style",
    "require_matplotlib",
    "check_picture_path",
    "check_out_option",
    "save",
    "trajectory_figure",
    "simulate_figure",
    "phase_figure",
    "threshold_comparison_figure",
]
