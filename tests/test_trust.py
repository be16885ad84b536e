"""Verdicts that do not say more than their evidence: replays, executed hypotheses,
controls that gate the exit code, and the versioned JSON."""

import contextlib
import json
import pathlib
import subprocess
import sys
import textwrap

import pytest

from verify.cli import main
from verify.engine.registry import REGISTRY, SCHEMA_VERSION
from verify.engine.runner import check, load_module, run_controls

ROOT = pathlib.Path(__file__).resolve().parents[1]

MODULE = textwrap.dedent(
    '''
    from hypothesis import strategies as st
    from verify import claim

    @claim("T-square-grows", statement="x*x > x for every integer x > 1",
           given=st.integers(-50, 50), hypotheses={"above_one": lambda x: x > 1})
    def square_grows(x):
        return x * x > x

    @claim("T-false-bound", statement="(false) every integer pair has x + y < 60",
           given=st.tuples(st.integers(0, 100), st.integers(0, 100)))
    def bounded(t):
        return t[0] + t[1] < 60

    @claim("T-idle-hypothesis", statement="x*x >= 0, with a hypothesis it does not need",
           given=st.integers(-9, 9), hypotheses={"positive": lambda x: x > 0})
    def squares(x):
        return x * x >= 0
    '''
)


@pytest.fixture()
def module(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(MODULE)
    yield path
    for cid in ("T-square-grows", "T-false-bound", "T-idle-hypothesis"):
        REGISTRY.remove(cid)


def _cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_counterexample_replays_alone_in_a_fresh_process(module):
    """Checked after other claims in one process, the refuted claim reports the run seed and a
    command; that command, run alone in a new process, gives the same counterexample."""
    load_module(module)
    res = check(["IPO-2", "T-square-grows", "T-false-bound"], seed=5)
    bad = res[-1]
    assert bad.verdict == "refuted"
    ce = bad.counterexamples[0]
    assert ce.seed == 5
    assert ce.replay == f"prefdyn check --claim T-false-bound --seed 5 --module {module}"
    assert sum(ce.instance) >= 60
    argv = ce.replay.split()[1:] + ["--json", "--quiet"]
    proc = subprocess.run([sys.executable, "-m", "verify.cli", *argv], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    again = doc["results"][0]["checks"][0]["counterexample"]
    assert again["instance"] == list(ce.instance)
    assert again["seed"] == 5 and again["replay"] == ce.replay


def test_hypotheses_are_executed_and_a_dropped_one_is_refuted(module):
    load_module(module)
    (r,) = check(["T-square-grows"])
    assert r.verdict == "verified"
    assert r.checks[0].outcome.details["hypotheses"] == ["above_one"]
    (ctl,) = run_controls(REGISTRY.get("T-square-grows"))
    assert ctl.checker == "control:drop-above_one"
    assert ctl.verdict == "refuted" and ctl.caught
    assert ctl.outcome.counterexample.instance in (0, 1)


def test_controls_gate_the_exit_code(module, capsys):
    code, out, err = _cli(capsys, "check", "--module", module, "--claim", "T-square-grows", "--controls", "--quiet")
    assert code == 0 and "caught" in out
    # a hypothesis that is not needed: dropping it refutes nothing, so the control is NOT CAUGHT
    code, out, err = _cli(capsys, "check", "--module", module, "--claim", "T-idle-hypothesis", "--controls", "--quiet")
    assert code == 1
    assert "NOT CAUGHT" in out
    assert "control T-idle-hypothesis/drop-positive was not caught" in err


def test_every_verified_verdict_states_precision_and_tolerance(module):
    load_module(module)
    (r,) = check(["T-square-grows"])
    o = r.checks[0].outcome
    assert o.dps == 15 and o.tolerance == 0 and o.tolerance_kind == "predicate"
    assert r.scope.text == "the instances drawn by its strategy"
    assert "search" in r.coverage


def test_json_is_versioned_and_numbers_stay_numbers(capsys):
    code, out, err = _cli(capsys, "check", "--claim", "IPO-1", "--json", "--quiet")
    doc = json.loads(out)
    assert doc["schema_version"] == SCHEMA_VERSION
    assert {"prefdyn_version", "command", "budget", "seed", "results"} <= set(doc)
    (r,) = doc["results"]
    assert {"id", "scope", "verdict", "coverage", "checks"} <= set(r)
    numeric = [c for c in r["checks"] if c["kind"] == "numeric"]
    assert numeric
    for c in numeric:
        assert isinstance(c["tolerance"], float) and isinstance(c["max_error"], float)
        assert c["tolerance_kind"] in ("relative", "absolute", "relative-or-absolute")
        assert isinstance(c["dps"], int)


def test_schema_document_names_every_field():
    """docs/json-schema.md documents each key that the JSON carries."""
    from verify.engine.registry import CheckResult, ClaimResult, Outcome, Scope

    text = (ROOT / "docs" / "json-schema.md").read_text()
    assert f"schema_version: \"{SCHEMA_VERSION}\"" in text or f'"schema_version": "{SCHEMA_VERSION}"' in text
    claim_keys = ClaimResult("X", "user", "s", [], 0.0, "quick", 0, scope=Scope("t")).to_dict().keys()
    check_keys = CheckResult("c", "numeric", Outcome("verified", "s"), 0.0).to_dict().keys()
    for k in [*claim_keys, *check_keys, "counterexample", "replay", "controls", "expect", "caught"]:
        assert f"`{k}`" in text, f"docs/json-schema.md does not document `{k}`"



def _draws(guard=True, load=None):
    """300 integers drawn by a seeded property search (after importing ``load``, a fresh local module of constants)."""
    import importlib.util

    from hypothesis import strategies as st

    import verify.engine.property as prop
    from verify.engine.registry import CheckContext

    if load is not None:
        load.write_text("CONSTANTS = [" + ", ".join(str(104729 + 7919 * k) for k in range(60)) + "]\n")
        spec = importlib.util.spec_from_file_location(load.stem, load)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[load.stem] = mod
        spec.loader.exec_module(mod)
    seen = []
    guard_before = prop.code_constants_left_out
    if not guard:
        prop.code_constants_left_out = contextlib.nullcontext
    try:
        ctx = CheckContext(claim_id="T-draws", budget="quick", seed=0)
        prop.property_check(lambda x: seen.append(x) or True, st.integers(0, 10**6), ctx, max_examples=300)
    finally:
        prop.code_constants_left_out = guard_before
        if load is not None:
            del sys.modules[load.stem]
    return seen


def test_a_search_draws_the_same_instances_whatever_modules_are_loaded(tmp_path):
    """The seed alone fixes the draws: a module imported in between (its literals) changes nothing."""
    first = _draws()
    assert _draws(load=tmp_path / "prefdyn_draws_a.py") == first and len(first) == 300


def test_without_the_guard_the_constants_of_loaded_modules_leak_into_the_draws():
    """The control: hypothesis's pool of constants from the loaded local modules does change the draws."""
    assert _draws(guard=False) != _draws(guard=True)
