"""Every loss, through every command: one test per command, run over the whole loss registry.

Like pref_voting's test of every registered voting method, the parameter list is the
registry itself (``theory.losses.BUILTIN``) plus one user expression, so a loss added to
the registry is tested here without writing a test.
"""

import json

import pytest
import sympy

from theory.losses import BUILTIN
from verify.cli import main

#: A smooth, strictly convex user loss (f'(0) = -1, f''(0) = 3/2, gain 4/3) that is none of the built-ins.
USER = "exp(-x) + x**2/4"
LOSSES = list(BUILTIN) + [USER]
P3 = [["1/2", "7/10", "2/5"], ["3/10", "1/2", "3/5"], ["3/5", "2/5", "1/2"]]


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _loss(spec):
    from verify import loss

    return loss(spec)


@pytest.fixture()
def matrix(tmp_path):
    f = tmp_path / "P.json"
    f.write_text(json.dumps(P3))
    return f


@pytest.mark.parametrize("spec", LOSSES)
def test_optimum_for_every_loss(spec, matrix, capsys):
    L = _loss(spec)
    code, out, err = _run(capsys, "optimum", "--loss", spec, "--matrix", matrix, "--mu", "1/2,1/4,1/4", "--dps", "20", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["loss"] == L.name and d["instance"]["scale_name"] == L.scale_name
    if d["unique"]:
        assert d["agrees_to_dps"] and len(d["pi"]) == 3
        assert abs(sum(float(p) for p in d["pi"]) - 1) < 1e-12
    else:
        # a set-valued optimum is reported as a set, with the reason, never picked
        assert L.gain is None, f"{spec}: a smooth strictly convex loss should have a unique optimum"
        assert "set" in d["statement"] or "not unique" in d["statement"]


@pytest.mark.parametrize("spec", LOSSES)
def test_simulate_for_every_loss_names_its_scale(spec, capsys):
    L = _loss(spec)
    code, out, err = _run(capsys, "simulate", "--loss", spec, "--cyclic", "0.3", "--steps", "200", "--no-plot", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["loss"] == L.name and d["scale_name"] == L.scale_name
    assert L.scale_name in d and d[L.scale_name] > 0
    assert L.scale_name in d["title"] and len(d["final_pi"]) == 3
    if L.scale_name != "beta":
        assert "beta" not in d  # titles and JSON name the loss's own scale, not IPO's


@pytest.mark.parametrize("spec", LOSSES)
def test_threshold_for_every_loss(spec, capsys):
    """The command's value is the LOSS-3 formula b* = c_f lam ||S|| / (K sqrt(1 - alpha^2)) in the loss's own scale."""
    L = _loss(spec)
    code, out, err = _run(capsys, "threshold", "--loss", spec, "--cyclic", "0.3", "--alpha", "1/2", "--lam", "1", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["scale_name"] == L.scale_name
    if L.gain is None:
        assert d["applicable"] is False and d["critical_scale"] is None
        assert "not applicable" in d["reason"]
        return
    a, alpha = sympy.Rational(3, 10), sympy.Rational(1, 2)
    b_star = L.gain * sympy.sqrt(3) * a / (3 * sympy.sqrt(1 - alpha**2))
    expected = L.scale_of_b(b_star)
    assert sympy.simplify(sympy.sympify(str(d["critical_scale_exact"])) - expected) == 0
    assert d["critical_scale"] == pytest.approx(float(expected), rel=1e-15)
    assert d["formula"].startswith(f"{L.scale_name}* = ")


@pytest.mark.parametrize("spec", LOSSES)
def test_system_round_trips(spec):
    from verify import System, loss

    L = loss(spec, scale="7/10")
    assert L.scale == sympy.Rational(7, 10)
    s = System(P3, spec, alpha="1/2", lam=1, scale="7/10")
    assert s.loss == L and s.loss.scale == L.scale
    t = System(P3, s.loss, alpha="1/2", lam=1)
    assert t.loss == s.loss and t.loss.scale == sympy.Rational(7, 10)
