"""The certified checkers of DYN-1, DYN-2, DYN-4, DYN-6 and DPO-4: evidence ``certified instances``, verified at
the quick budget, refuted by their planted controls and by the mutations of the constants they use, cheap, and
``inconclusive`` (with the install hint) without python-flint — never a pass."""

import sys
import time

import pytest

from verify.certified import INSTALL_HINT, available
from verify.engine.registry import EVIDENCE, REGISTRY, TOLERANCE_KINDS, CheckContext
from verify.engine.runner import load_builtin_claims

load_builtin_claims()

CERTIFIED = ["DYN-1", "DYN-2", "DYN-4", "DYN-6", "DPO-4"]

needs_flint = pytest.mark.skipif(not available(), reason="python-flint (the certified extra) is not installed")


def _ctx(claim):
    return CheckContext(budget="quick", seed=0, claim_id=claim.id, hypotheses=dict(claim.hypotheses))


def _certified_controls(claim):
    """The planted controls and constant mutations that run the certified checker."""
    fn = claim.checker("certified").fn
    planted = [c for c in claim.controls if "certified" in c.name]
    mutated = [c for c in claim.mutation_controls() if c.name.endswith("[certified]")]
    return fn, planted, mutated


def test_the_evidence_kind_sits_between_proof_and_exact_instances():
    assert EVIDENCE.index("proof") + 1 == EVIDENCE.index("certified instances") == EVIDENCE.index("exact instances") - 1
    assert "enclosure" in TOLERANCE_KINDS
    for cid in CERTIFIED:
        ch = REGISTRY.get(cid).checker("certified")
        assert ch.kind == "certified" and ch.evidence == "certified instances" and not ch.proves and ch.covers


@needs_flint
@pytest.mark.parametrize("cid", CERTIFIED)
def test_certified_checker_verifies_and_its_controls_refute(cid):
    claim = REGISTRY.get(cid)
    fn, planted, mutated = _certified_controls(claim)
    ctx = _ctx(claim)
    t = time.perf_counter()
    o = fn(ctx)
    secs = time.perf_counter() - t
    assert o.verdict == "verified", o.summary
    assert o.tolerance == 0 and o.tolerance_kind == "enclosure" and isinstance(o.dps, int) and o.dps >= 30 and o.n_instances >= 2
    assert o.details["enclosures"] and o.max_error is not None and o.max_error < 1e-20
    assert secs < 2.0, f"{cid}: the certified checker took {secs:.2f} s at the quick budget"
    assert planted, f"{cid}: no planted control for the certified checker"
    assert mutated, f"{cid}: no constant of the claim mutates the certified checker"
    for c in planted + mutated:
        out = c.fn(ctx)
        assert c.caught(out), (c.name, c.expect, out.verdict, out.summary)
        if out.verdict == "refuted":
            inst = out.counterexample.instance
            assert isinstance(inst, dict) and all(not isinstance(v, float) for v in inst.values()), inst  # exact, replayable


def test_a_certified_verdict_is_instance_level_never_proved():
    """Certified instances never make a claim 'proved': a certified checker that says 'proved' is an error."""
    from verify.engine.registry import Checker, Claim, Scope, proved
    from verify.engine.runner import run_checker

    ch = Checker("certified", "certified", lambda ctx: proved("too strong"), covers="two instances")
    claim = Claim(id="DEMO-C", statement="s", tag="derived", checkers=[ch], scope=Scope("two instances"))
    assert run_checker(claim, ch).verdict == "error"


@pytest.mark.parametrize("cid", CERTIFIED)
def test_without_flint_the_certified_checkers_are_inconclusive(cid, monkeypatch):
    monkeypatch.setitem(sys.modules, "flint", None)
    claim = REGISTRY.get(cid)
    fn, planted, mutated = _certified_controls(claim)
    ctx = _ctx(claim)
    for f in [fn] + [c.fn for c in planted + mutated[:1]]:
        o = f(ctx)
        assert o.verdict == "inconclusive" and INSTALL_HINT in o.summary and o.details["hint"] == INSTALL_HINT


@needs_flint
def test_the_report_row_shows_the_enclosures():
    from verify.engine.registry import CheckResult, ClaimResult
    from verify.publish.report import evidence_rows

    claim = REGISTRY.get("DPO-4")
    ch = claim.checker("certified")
    out = ch.fn(_ctx(claim))
    res = ClaimResult("DPO-4", claim.tag, claim.statement, [CheckResult(ch.name, ch.kind, out, 0.1, ch.evidence, ch.covers)],
                      0.1, "quick", 0, scope=claim.scope)
    row = evidence_rows(res)[0]
    assert row["evidence"] == "certified instances" and row["tolerance"] == "0 (enclosure)"
    assert "Enclosures: K = 3" in row["summary"] and "certified rho^2 in [" in row["summary"] and "(and 1 more)" in row["summary"]
    d = res.to_dict()["checks"][0]
    assert d["evidence"] == "certified instances" and d["details"]["certificates"][0]["box"]
