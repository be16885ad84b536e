"""The figures: each command writes one only with --out, a real picture of the expected size, in one style.

Every test runs in an empty working directory (``tmp_path``), so a file written where it was not
asked for is caught: the directory must hold exactly the files the test asked for.
"""

from __future__ import annotations

import builtins
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")
from PIL import Image  # noqa: E402  (matplotlib depends on pillow)

from verify.cli import main  # noqa: E402
from verify.plots import style  # noqa: E402
from verify.plots.phase import PHASE_HEIGHT, THRESHOLD_HEIGHT  # noqa: E402
from verify.plots.trajectory import HEIGHT  # noqa: E402


def _pixels(height: float) -> tuple[int, int]:
    return round(style.WIDTH * style.DPI), round(height * style.DPI)


def _assert_picture(path, height: float) -> None:
    """A valid PNG of the expected size that is not blank: real variance, many colours, not mostly one colour."""
    with Image.open(path) as im:
        assert im.format == "PNG"
        assert im.size == _pixels(height)
        rgb = np.asarray(im.convert("RGB")).astype(np.int32)
    assert rgb.std() > 20
    colours, counts = np.unique((rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2], return_counts=True)
    assert len(colours) > 50
    assert counts.max() / counts.sum() < 0.97  # more than a few marks on a blank page


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def _files(d) -> list[str]:
    return sorted(p.name for p in d.iterdir())


@pytest.fixture
def empty_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def saved(monkeypatch):
    """The figures passed to verify.plots.save, in order."""
    import verify.plots

    figs = []
    original = verify.plots.save

    def spy(fig, path):
        figs.append(fig)
        return original(fig, path)

    monkeypatch.setattr(verify.plots, "save", spy)
    return figs


SIMULATE = {
    "oscillating": ["--cyclic", "0.4", "--alpha", "0.9", "--beta", "8", "--lam", "1", "--steps", "600"],
    "converging": ["--cyclic", "0.4", "--alpha", "0.2", "--beta", "1", "--lam", "1", "--steps", "200"],
    "K4": ["--random-sst", "4", "--steps", "200"],
    "dpo": ["--loss", "dpo", "--cyclic", "0.4", "--alpha", "0.9", "--beta-dpo", "0.5", "--steps", "80"],
}


def test_no_file_without_out(empty_cwd, capsys):
    """simulate, phase and dpo-phase write nothing unless --out is given; simulate's old --no-plot turns --out off."""
    assert main(["simulate", *SIMULATE["converging"], "--quiet"]) == 0
    assert main(["simulate", *SIMULATE["converging"], "--quiet", "--no-plot"]) == 0
    assert main(["simulate", *SIMULATE["converging"], "--quiet", "--no-plot", "--out", "run.png"]) == 0
    assert main(["phase", "--cyclic", "0.4", "--alpha-points", "3", "--bl-points", "3", "--steps", "50", "--quiet"]) == 0
    assert main(["dpo-phase", "--cyclic", "0.4"]) == 0
    out = capsys.readouterr().out
    assert "picture" not in out and "DPO-4" in out
    assert _files(empty_cwd) == []


@pytest.mark.parametrize("case", list(SIMULATE))
def test_simulate_figure(case, empty_cwd, saved, capsys):
    assert main(["simulate", *SIMULATE[case], "--quiet", "--out", "run.png"]) == 0
    assert _files(empty_cwd) == ["run.png"] and "run.png" in capsys.readouterr().out
    _assert_picture(empty_cwd / "run.png", HEIGHT)
    fig = saved[-1]
    title = fig._suptitle.get_text()
    if case == "dpo":
        assert "$\\beta_{\\mathrm{DPO}}$ = 0.5" in title and "$\\beta$ =" not in title
    else:
        assert "$\\beta$ = " in title and "DPO" not in title
    assert ("oscillating, period" in title) == (case in ("oscillating", "dpo"))
    assert "$\\alpha$ = " in title and "$\\lambda$ = 1" in title
    portrait, window, run = fig.axes[:3]
    for ax in (window, run):  # no offset or multiplier text above an axis
        assert not ax.xaxis.get_offset_text().get_text() and not ax.yaxis.get_offset_text().get_text()
    assert run.get_yscale() == "log" and "fixed point" in run.get_title()  # every case here has a fixed point
    if case == "oscillating":  # (b) shows the last periods, not 600 steps of solid colour
        lo, hi = window.get_xlim()
        assert 40 <= hi - lo <= 100 and hi == 600
    if case == "converging":  # converged at step ~13: (c) ends soon after; the portrait zooms in, its scale in the label
        assert run.get_xlim()[1] < 100
        assert "near the fixed point" in portrait.get_title() and "10^{-4}" in portrait.get_xlabel()


def test_simulate_out_format_and_bad_paths(empty_cwd, capsys):
    assert main(["simulate", *SIMULATE["converging"], "--out", "run.svg", "--quiet"]) == 0
    assert b"<svg" in (empty_cwd / "run.svg").read_bytes()[:1000]
    capsys.readouterr()
    assert main(["simulate", *SIMULATE["converging"], "--out", "run.txt"]) == 2
    assert "is not a picture format" in capsys.readouterr().err
    assert main(["simulate", *SIMULATE["converging"], "--out", "missing/run.png"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert _files(empty_cwd) == ["run.svg"]


@pytest.mark.parametrize("loss", ["ipo", "dpo"])
def test_phase_figure(loss, empty_cwd, saved, capsys):
    argv = ["phase", "--loss", loss, "--cyclic", "0.4", "--alpha-points", "5", "--bl-points", "5", "--steps", "150", "--quiet"]
    assert main(argv + ["--out", "phase.png"]) == 0 and _files(empty_cwd) == ["phase.png"]
    _assert_picture(empty_cwd / "phase.png", PHASE_HEIGHT)
    ax = saved[-1].axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "stable" in labels and "cycle" in labels
    if loss == "dpo":
        assert "\\beta_{\\mathrm{DPO}}" in ax.get_ylabel() and "IPO-equivalent" in ax.get_ylabel()
    else:
        assert ax.get_ylabel() == "$\\beta\\lambda$" and any("MRS-DPO" in t for t in labels)


def test_dpo_phase_figure(empty_cwd, capsys):
    assert main(["dpo-phase", "--cyclic", "0.4", "--out", "thresholds.png"]) == 0
    assert _files(empty_cwd) == ["thresholds.png"]
    _assert_picture(empty_cwd / "thresholds.png", THRESHOLD_HEIGHT)


def test_figure_functions_return_a_figure_and_write_nothing(empty_cwd):
    from matplotlib.figure import Figure

    from verify.numerics.phase import cyclic_matrix, phase_diagram
    from verify.plots import phase_figure, save, simulate_figure, threshold_comparison_figure, trajectory_figure
    from verify.numerics.losses import loss

    figs = [
        simulate_figure(cyclic_matrix(0.4), "dpo", 0.9, "1/2", 1.0, steps=60),
        trajectory_figure(np.log(np.full((5, 3), 1 / 3)), title="constant", loss=loss("ipo", scale=2), params={"alpha": 0.5, "lambda": 1}),
        phase_figure(phase_diagram(cyclic_matrix(0.4), [0.2, 0.9], [1.0, 8.0], steps=100), title="t"),
        threshold_comparison_figure(0.25, n=21),
    ]
    assert all(isinstance(f, Figure) for f in figs) and _files(empty_cwd) == []
    assert "$\\beta_{\\mathrm{DPO}}$ = 0.5" in figs[0]._suptitle.get_text()
    assert "$\\beta$ = 2" in figs[1]._suptitle.get_text()  # the scale from the loss when params omit it
    assert save(figs[3], "t.png") == "t.png" and _files(empty_cwd) == ["t.png"]
    assert (empty_cwd / "t.png").stat().st_mode & 0o777 == 0o666 & ~_umask()  # the mode of any new file, not private


def test_style_palette_and_names():
    assert len(set(style.PALETTE.values())) == 8 and style.CYCLE[0] == style.PALETTE["blue"]
    assert style.math_name("beta_dpo") == "$\\beta_{\\mathrm{DPO}}$" and style.math_name("beta") == "$\\beta$"
    from theory.losses import BUILTIN

    slic = style.parameter_text(BUILTIN["slic"].with_scale(2), {"alpha": 0.5, "lambda": 1})
    assert "\\beta_{\\mathrm{SLiC}}$ = 2" in slic and "$b$ = 2" in slic
    assert "$b$" not in style.parameter_text(BUILTIN["ipo"], {"alpha": 0.5})


def test_save_leaves_no_half_written_file(empty_cwd):
    """A failing draw leaves neither the target nor a temporary file behind."""
    from matplotlib.figure import Figure

    fig = Figure()
    fig.add_subplot().set_title("$\\undefinedmacro$")  # fails when drawn
    with pytest.raises(ValueError):
        style.save(fig, "bad.png")
    assert _files(empty_cwd) == []


def _hide_matplotlib(monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)


def test_without_matplotlib(monkeypatch, empty_cwd, capsys):
    _hide_matplotlib(monkeypatch)
    assert main(["simulate", *SIMULATE["converging"], "--out", "x.png"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.strip().splitlines() == [err.strip()] and style.PLOT_HINT in err and "--out x.png" in err
    assert main(["dpo-phase", "--cyclic", "0.4", "--out", "x.png"]) == 2 and style.PLOT_HINT in capsys.readouterr().err
    assert _files(empty_cwd) == []
    assert main(["simulate", *SIMULATE["converging"]]) == 0 and "converged" in capsys.readouterr().out
    assert main(["dpo-phase", "--cyclic", "0.4"]) == 0
    with pytest.raises(ImportError, match="prefdyn\\[plot\\]"):
        from verify.plots import threshold_comparison_figure

        threshold_comparison_figure(0.25)
    assert _files(empty_cwd) == []
