"""prefdyn simulate / phase: summaries, pictures, --json, bad input, missing optional parts."""

import json
import sys

import pytest

from verify.cli import main


def _run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_simulate_cyclic_oscillates(tmp_path, capsys):
    png = tmp_path / "osc.png"
    code, out, _ = _run(capsys, ["simulate", "--cyclic", "0.4", "--alpha", "0.9", "--beta", "8", "--lam", "1", "--out", str(png), "--json"])
    d = json.loads(out)
    assert code == 0 and d["oscillating"] and not d["converged"]
    assert d["cycle_strength"] > 0.01 and 2 < d["period"] < 100
    assert d["fixed_point"]["stability"] == "unstable"
    assert png.stat().st_size > 10_000


def test_simulate_cyclic_converges(tmp_path, capsys):
    png = tmp_path / "conv.png"
    code, out, _ = _run(capsys, ["simulate", "--cyclic", "0.4", "--alpha", "0.2", "--beta", "1", "--lam", "1", "--out", str(png)])
    assert code == 0 and "converged at step" in out and "(stable)" in out
    assert png.exists()


def test_simulate_any_K_from_file(tmp_path, capsys):
    f = tmp_path / "P.json"
    f.write_text(json.dumps({"P": [["1/2", "0.7", "0.8", "0.9"], ["0.3", "1/2", "0.6", "0.7"], ["0.2", "0.4", "1/2", "0.6"], ["0.1", "0.3", "0.4", "1/2"]]}))
    code, out, _ = _run(capsys, ["simulate", "--matrix", str(f), "--alpha", "1", "--beta", "5", "--steps", "500", "--no-plot", "--json"])
    d = json.loads(out)
    assert code == 0 and d["final_pi"][0] > 0.999 and d["png"] is None


def test_simulate_random_sst_is_seeded(capsys):
    a = _run(capsys, ["simulate", "--random-sst", "4", "--seed", "3", "--steps", "50", "--no-plot", "--json"])[1]
    b = _run(capsys, ["simulate", "--random-sst", "4", "--seed", "3", "--steps", "50", "--no-plot", "--json"])[1]
    assert json.loads(a)["final_pi"] == json.loads(b)["final_pi"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["simulate", "--cyclic", "0.7"], "--cyclic A = 0.7, expected 0 < A <= 1/2"),
        (["simulate", "--cyclic", "0.4", "--alpha", "2"], "alpha = 2 is outside [0, 1]"),
        (["simulate", "--cyclic", "0.4", "--beta", "-1"], "beta = -1, expected > 0"),
        (["simulate", "--cyclic", "0.4", "--pi-ref", "0.5,0.5"], "pi_ref has 2 entries, expected K = 3"),
        (["simulate", "--cyclic", "0.4", "--steps", "0"], "--steps = 0"),
        (["simulate"], "give the matrix"),
        (["simulate", "--matrix", "/nonexistent.json"], "does not exist"),
        (["phase", "--cyclic", "0.4", "--alpha-points", "1"], "--alpha-points = 1"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, message, capsys):
    code, _, err = _run(capsys, argv + (["--no-plot"] if argv[0] == "simulate" else []))
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1


def test_simulate_method_dpo_is_loss_dpo(monkeypatch, capsys):
    """--method dpo (kept for old scripts) is --loss dpo: the step is the generic one, built for DPO at beta_dpo."""
    import sympy

    import verify.numerics.batch as batch

    seen = {}
    make_step = batch.make_step

    def spy(P, loss, *args, **kwargs):
        seen["loss"], seen["scale"] = loss.name, loss.scale
        return make_step(P, loss, *args, **kwargs)

    monkeypatch.setattr(batch, "make_step", spy)
    code, out, _ = _run(capsys, ["simulate", "--cyclic", "0.4", "--method", "dpo", "--beta-dpo", "0.5", "--no-plot", "--json", "--steps", "100"])
    d = json.loads(out)
    assert code == 0 and seen == {"loss": "dpo", "scale": sympy.Rational(1, 2)}
    assert d["method"] == "dpo" and d["loss"] == "dpo" and d["beta_dpo"] == 0.5 and "beta" not in d


def test_without_matplotlib(monkeypatch, tmp_path, capsys):
    """Without the plot extra: --out is refused with the install hint (exit 2, no file); without --out nothing changes."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, ["simulate", "--cyclic", "0.4", "--steps", "50", "--out", str(tmp_path / "x.png")])
    assert code == 2 and "pip install 'prefdyn[plot]'" in err and len(err.strip().splitlines()) == 1 and out == ""
    code, _, err = _run(capsys, ["phase", "--cyclic", "0.4", "--out", str(tmp_path / "p.png")])
    assert code == 2 and "pip install 'prefdyn[plot]'" in err
    code, out, _ = _run(capsys, ["phase", "--cyclic", "0.4", "--alpha-points", "3", "--bl-points", "3", "--steps", "50", "--quiet"])
    assert code == 0 and "stable" in out
    assert list(tmp_path.iterdir()) == []


def test_phase_writes_png_and_json(tmp_path, capsys):
    png = tmp_path / "phase.png"
    code, out, _ = _run(capsys, ["phase", "--cyclic", "0.4", "--alpha-points", "6", "--bl-points", "6", "--steps", "300", "--out", str(png), "--json", "--quiet"])
    d = json.loads(out)
    assert code == 0 and png.stat().st_size > 5_000
    assert d["counts"]["stable"] > 0 and d["counts"]["cycle"] > 0


def test_phase_figure_extra_curves(tmp_path):
    import numpy as np

    from verify.numerics.phase import cyclic_matrix, phase_diagram
    from verify.plots import phase_figure, save

    d = phase_diagram(cyclic_matrix(0.3), np.linspace(0, 1, 4), np.linspace(0, 6, 4), steps=200)
    fig = phase_figure(d, extra_curves=[("DPO threshold", [0, 0.5, 1], [5, 4, 0])])
    assert "DPO threshold" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    out = save(fig, tmp_path / "x.png")
    assert (tmp_path / "x.png").stat().st_size > 5_000 and out.endswith("x.png")


def test_phase_any_smooth_loss_on_the_ipo_equivalent_axis(tmp_path, capsys):
    png = tmp_path / "phase-dpo.png"
    code, out, _ = _run(capsys, ["phase", "--loss", "dpo", "--cyclic", "0.4", "--alpha-points", "4", "--bl-points", "4", "--steps", "200",
                                 "--out", str(png), "--json", "--quiet"])
    d = json.loads(out)
    assert code == 0 and png.stat().st_size > 5_000
    assert d["loss"] == "dpo" and "lambda/beta_dpo" in d["axis"] and d["extra_curves"] == []
    assert d["counts"]["stable"] > 0 and d["counts"]["cycle"] > 0
